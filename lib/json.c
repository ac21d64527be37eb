// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <inttypes.h>
#include "json.h"

void jw_init(struct json *j, FILE *f)
{
	j->f = f;
	j->depth = 0;
	j->first[0] = 1;
}

/* Separator before a value; keys already wrote theirs. */
static void sep(struct json *j)
{
	if (j->depth > 0 && j->first[j->depth] == -1) {
		j->first[j->depth] = 0;	/* value after a key */
		return;
	}
	if (!j->first[j->depth])
		fputc(',', j->f);
	j->first[j->depth] = 0;
}

static void open_(struct json *j, char c)
{
	sep(j);
	fputc(c, j->f);
	if (j->depth < 31)
		j->depth++;
	j->first[j->depth] = 1;
}

static void close_(struct json *j, char c)
{
	fputc(c, j->f);
	if (j->depth > 0)
		j->depth--;
	if (j->depth == 0)
		fputc('\n', j->f);
}

void jw_obj_start(struct json *j) { open_(j, '{'); }
void jw_obj_end(struct json *j) { close_(j, '}'); }
void jw_arr_start(struct json *j) { open_(j, '['); }
void jw_arr_end(struct json *j) { close_(j, ']'); }

static void raw_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void jw_key(struct json *j, const char *k)
{
	sep(j);
	raw_str(j->f, k);
	fputc(':', j->f);
	j->first[j->depth] = -1;
}

void jw_str(struct json *j, const char *s) { sep(j); raw_str(j->f, s); }
void jw_u64(struct json *j, uint64_t v) { sep(j); fprintf(j->f, "%" PRIu64, v); }
void jw_bool(struct json *j, int v) { sep(j); fputs(v ? "true" : "false", j->f); }
void jw_null(struct json *j) { sep(j); fputs("null", j->f); }
void jw_kstr(struct json *j, const char *k, const char *s) { jw_key(j, k); jw_str(j, s); }
void jw_ku64(struct json *j, const char *k, uint64_t v) { jw_key(j, k); jw_u64(j, v); }
void jw_kbool(struct json *j, const char *k, int v) { jw_key(j, k); jw_bool(j, v); }
