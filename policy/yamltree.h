/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * YAML text -> a compact tree of nodes that keep their start marks, so the policy parser can
 * point each error at the line:col of the offending key or value.  Internal to policy/.
 */
#ifndef CGGUARD_YAMLTREE_H
#define CGGUARD_YAMLTREE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

enum ynode_type {
	YNODE_SCALAR = 1,
	YNODE_SEQUENCE,
	YNODE_MAPPING,
};

struct ynode {
	uint8_t type;		/* enum ynode_type */
	uint8_t plain;		/* scalar written without quotes */
	uint32_t line, col;	/* 0-based start mark */
	uint32_t len;		/* scalar bytes, or child slots (two per mapping pair) */
	union {
		size_t off;		/* while building: into the text or kids array */
		const char *s;		/* scalar text, NUL-terminated (may hold NULs) */
		const uint32_t *kids;	/* children (ytree_node() indices); for a mapping
					 * key, value, key, ... */
	} u;
};

struct ytree {
	struct ynode *nodes;
	uint32_t *kids;		/* every collection's children, contiguous per collection */
	char *text;		/* scalar values, each NUL-terminated */
	const struct ynode *root;	/* NULL if the stream holds no node at all */
};

/*
 * Parse `len` bytes of `buf` (one YAML document at most; anchors and aliases refused) into
 * `t`.  On failure returns -EINVAL with "SRC:LINE:COL: message" in err (or -ENOMEM), and
 * leaves `t` empty.  `t` must be released with ytree_free() either way.
 */
int ytree_load(struct ytree *t, const char *src, const char *buf, size_t len,
	       char *err, size_t errlen);
void ytree_free(struct ytree *t);

static inline const struct ynode *ytree_node(const struct ytree *t, uint32_t idx)
{
	return &t->nodes[idx];
}

/*
 * "SRC:LINE:COL: message" into err/errlen, from a 0-based mark (people count from 1).
 * Returns -EINVAL.
 */
int ytree_verr_at(char *err, size_t errlen, const char *src, size_t line, size_t col,
		  const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));

#endif
