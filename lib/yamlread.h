/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * A strict, streaming YAML reader on libyaml's event API, shared by the policy parser and the
 * daemon config: the caller walks the document node by node, driven by its schema, and no
 * tree is built.  Each node keeps its start mark, so every error reads "SRC:LINE:COL: why".
 *
 * Refused as they are read (before they cost anything): nesting deeper than YR_DEPTH_MAX
 * (libyaml's scanner is quadratic in depth), anchors and aliases (expansion bombs), tags
 * (`!evil`: no node may claim a type), NUL bytes inside strings, and a second document.
 *
 * Errors: all functions return 0 or a negative errno; -EINVAL comes with the message in the
 * caller's err buffer.  A YAML-level error (syntax, depth, anchors, tags, NUL, documents)
 * outranks a schema error: yr_done() reads the rest of the input after a schema error and
 * reports the YAML-level one if there is any, since it usually explains the other.
 */
#ifndef CGGUARD_YAMLREAD_H
#define CGGUARD_YAMLREAD_H

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <yaml.h>

#define YR_DEPTH_MAX	64	/* nested sequences and mappings, as in lib/jsonparse.c */

enum yr_type {
	YR_NONE = 0,	/* the stream holds no document node at all */
	YR_SCALAR,
	YR_SEQ,		/* start of a sequence: its items follow, then YR_END */
	YR_MAP,		/* start of a mapping: key, value, ..., then YR_END */
	YR_END,		/* end of the innermost open sequence or mapping */
};

struct yr_node {
	int type;		/* enum yr_type */
	int plain;		/* scalar written without quotes */
	size_t line, col;	/* 0-based start mark */
	const char *s;		/* scalar text, NUL-terminated and NUL-free; valid until the
				 * next yr_next() */
	size_t len;
};

#define YF_BAIL		(-EXDEV)	/* the fast path met what it does not read */

/* The fast path's state (lib/yamlfast.c). */
struct yr_fast {
	const char *buf;
	size_t len, pos, line, lstart;
	int nst, root_done;
	struct {
		unsigned char kind, state;
		int indent;
	} st[16];
	char sbuf[256];		/* the current scalar, NUL-terminated */
};

int yf_next(struct yr_fast *f, struct yr_node *n);

struct yr {
	int fast;		/* yr_init_fast: reading with yf_next() */
	struct yr_fast f;
	yaml_parser_t p;
	yaml_event_t ev;
	int have_ev, docs, ended, yaml_err;
	unsigned depth;
	const char *src, *buf;
	size_t len;
	char *err;
	size_t errlen;
};

/* Starts reading buf[0..len); @src names the input in messages.  yr_free() in every case. */
int yr_init(struct yr *r, const char *src, const char *buf, size_t len, char *err,
	    size_t errlen);
void yr_free(struct yr *r);
/*
 * The same, reading with the fast path (lib/yamlfast.c) instead of libyaml: the same nodes,
 * but only for the plain subset of YAML it knows.  Anything else, valid or not, fails with
 * YF_BAIL: start again with yr_init().  Its errors are not libyaml's, so a caller that got
 * any error must start again with yr_init() for the message to give.
 */
int yr_init_fast(struct yr *r, const char *src, const char *buf, size_t len, char *err,
		 size_t errlen);
/* The next node: the root first, then each node in document order. */
int yr_next(struct yr *r, struct yr_node *n);
/*
 * Ends the walk with the caller's result @rc: on success, checks that nothing but the end of
 * the stream follows the root; after a schema error (-EINVAL), reads on to report a YAML-level
 * error instead if the input has one.  Returns the final result.
 */
int yr_done(struct yr *r, int rc);

#define YR_KEYS_MAX	12	/* most keys one mapping may be allowed */

/*
 * The keys one mapping may hold.  `where` completes "unknown key 'x' ...".  `misplaced` is a
 * key that is valid elsewhere (`from` in an egress rule), for which `hint` says more than
 * just "unknown".
 */
struct yr_keyset {
	const char *where;
	const char *const *names;	/* NULL-terminated, at most YR_KEYS_MAX */
	const char *misplaced;
	const char *hint;
};

/* Keys met so far in one mapping, with where each was (0-based marks). */
struct yr_seen {
	int have[YR_KEYS_MAX];
	size_t line[YR_KEYS_MAX], col[YR_KEYS_MAX];
};

/*
 * Inside an open mapping: the next key, checked against @ks (unknown, duplicate and non-scalar
 * keys are errors), and the value node after it.  *idx is the key's position in ks->names, or
 * -1 when the mapping ends.  A collection value's contents are the caller's to read.
 */
int yr_next_pair(struct yr *r, const struct yr_keyset *ks, struct yr_seen *seen, int *idx,
		 struct yr_node *v);
/* "a, b, c" into buf. */
void yr_join(const char *const *names, char *buf, size_t size);

/* "SRC:LINE:COL: message" at a 0-based mark, into err; returns -EINVAL. */
int yr_verr_at(char *err, size_t errlen, const char *src, size_t line, size_t col,
	       const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));
int yr_err(struct yr *r, const struct yr_node *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Bounded, control-character-free copy of a node for messages ("{...}" for a mapping). */
const char *yr_show(const struct yr_node *n, char *buf, size_t size);
/* "a mapping", "a sequence", "a scalar" or "an empty value". */
const char *yr_kind(const struct yr_node *n);
/* A plain empty scalar, `~` or `null`. */
int yr_is_null(const struct yr_node *n);
/* The scalar's text equals @s exactly. */
int yr_is(const struct yr_node *n, const char *s);

#endif
