/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Minimal streaming JSON writer (after bpftool's json_writer). */
#ifndef CGGUARD_JSON_H
#define CGGUARD_JSON_H

#include <stdio.h>
#include <stdint.h>

struct json {
	FILE *f;
	int depth;
	int first[32];	/* no element written yet at this depth */
};

void jw_init(struct json *j, FILE *f);
void jw_obj_start(struct json *j);
void jw_obj_end(struct json *j);
void jw_arr_start(struct json *j);
void jw_arr_end(struct json *j);
void jw_key(struct json *j, const char *k);
void jw_str(struct json *j, const char *s);
void jw_u64(struct json *j, uint64_t v);
void jw_bool(struct json *j, int v);
void jw_null(struct json *j);
/* key + value shorthands */
void jw_kstr(struct json *j, const char *k, const char *s);
void jw_ku64(struct json *j, const char *k, uint64_t v);
void jw_kbool(struct json *j, const char *k, int v);

#endif
