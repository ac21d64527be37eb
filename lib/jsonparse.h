/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Small strict JSON parser (RFC 8259) into a tree: errors are reported as
 * "SRC:LINE:COL: message", strings must be valid UTF-8 (RFC 3629) and are
 * decoded NUL-free, nesting is limited, a byte order mark is refused.
 * Duplicate keys are kept in the tree; jget() refuses the keys it is asked
 * for when they appear twice.
 */
#ifndef CGGUARD_JSONPARSE_H
#define CGGUARD_JSONPARSE_H

#include <stddef.h>

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jv {
	enum jtype t;
	int line, col;
	int b;			/* J_BOOL */
	char *s;		/* J_STR: decoded, NUL-free; J_NUM: raw text */
	size_t n;		/* J_ARR/J_OBJ: number of members */
	char **keys;		/* J_OBJ */
	struct jv *kids;	/* J_ARR/J_OBJ */
};

/*
 * Parses buf[0..len) as a whole document that must be a JSON object into
 * *out (free it with jv_free()).  @src names the input in messages.
 * Returns 0, or -EINVAL (also when out of memory) with "SRC:LINE:COL: why"
 * in err[errlen]; nothing is then left allocated in *out.
 */
int json_parse(const char *src, const char *buf, size_t len,
	       struct jv *out, char *err, size_t errlen);
/* Frees what json_parse() allocated in *v and zeroes it; v may be NULL. */
void jv_free(struct jv *v);
/*
 * Member @key of object @o: 0 found, -ENOENT absent, -EINVAL when the key
 * appears twice (parsers disagree on which one counts: refuse).
 */
int jget(const struct jv *o, const char *key, const struct jv **out);
/* "null", "boolean", "number", "string", "array" or "object". */
const char *jtype_name(enum jtype t);

#endif
