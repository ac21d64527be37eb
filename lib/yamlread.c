// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Streaming YAML reader over libyaml's event API (see yamlread.h).
 *
 * Why events and no tree?  The policy parser used to build a tree first; for a 100,000-rule
 * policy that meant ~800k nodes in 20-30 MB of arrays that were written once and read once,
 * and on a small VM the page faults alone cost more than the parsing.  Walking the events
 * directly costs what libyaml costs and nothing more, and every check (depth, anchors, tags,
 * NUL) happens on the event that breaks it, so a hostile input is refused at the first byte
 * that makes it hostile.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "yamlread.h"

int yr_verr_at(char *err, size_t errlen, const char *src, size_t line, size_t col,
	       const char *fmt, va_list ap)
{
	int n;

	if (!err || !errlen)
		return -EINVAL;
	n = snprintf(err, errlen, "%s:%zu:%zu: ", src, line + 1, col + 1);
	if (n >= 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - n, fmt, ap);
	return -EINVAL;
}

static int __attribute__((format(printf, 4, 5)))
err_at(struct yr *r, size_t line, size_t col, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = yr_verr_at(r->err, r->errlen, r->src, line, col, fmt, ap);
	va_end(ap);
	return rc;
}

int yr_err(struct yr *r, const struct yr_node *n, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = yr_verr_at(r->err, r->errlen, r->src, n->line, n->col, fmt, ap);
	va_end(ap);
	return rc;
}

const char *yr_show(const struct yr_node *n, char *buf, size_t size)
{
	const unsigned char *s = (const unsigned char *)n->s;
	size_t i, cut = size - 4;

	if (n->type != YR_SCALAR)
		return n->type == YR_MAP ? "{...}" : "[...]";
	if (n->len > cut) {
		while (cut > 0 && (s[cut] & 0xc0) == 0x80)	/* don't split UTF-8 */
			cut--;
	} else {
		cut = n->len;
	}
	/* Control bytes become '?': a hostile file must not put escapes into logs. */
	for (i = 0; i < cut; i++)
		buf[i] = (s[i] < 0x20 || s[i] == 0x7f) ? '?' : (char)s[i];
	if (cut < n->len)
		memcpy(buf + i, "...", 3), i += 3;
	buf[i] = '\0';
	return buf;
}

const char *yr_kind(const struct yr_node *n)
{
	if (n->type == YR_MAP)
		return "a mapping";
	if (n->type == YR_SEQ)
		return "a sequence";
	return n->len ? "a scalar" : "an empty value";
}

int yr_is(const struct yr_node *n, const char *s)
{
	size_t len = strlen(s);

	return n->type == YR_SCALAR && n->len == len && memcmp(n->s, s, len) == 0;
}

int yr_is_null(const struct yr_node *n)
{
	return n->type == YR_SCALAR && n->plain &&
	       (n->len == 0 || yr_is(n, "~") || yr_is(n, "null"));
}

/* ---- mappings against a set of keys ---- */

void yr_join(const char *const *names, char *buf, size_t size)
{
	size_t off = 0;
	int i, n;

	buf[0] = '\0';
	for (i = 0; names[i] && off < size; i++) {
		n = snprintf(buf + off, size - off, "%s%s", i ? ", " : "", names[i]);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

static int unknown_key(struct yr *r, const struct yr_keyset *ks, const struct yr_node *k)
{
	char t[48], list[160];

	if (ks->misplaced && yr_is(k, ks->misplaced))
		return yr_err(r, k, "%s", ks->hint);
	yr_join(ks->names, list, sizeof(list));
	return yr_err(r, k, "unknown key '%s' %s; expected one of %s", yr_show(k, t, sizeof(t)),
		      ks->where, list);
}

/* Duplicates are caught by the slot already being taken, so this stays linear however the
 * mapping is written. */
static int next_key(struct yr *r, const struct yr_keyset *ks, struct yr_seen *seen, int *idx)
{
	struct yr_node k;
	char t[48];
	int rc, i;

	rc = yr_next(r, &k);
	if (rc)
		return rc;
	*idx = -1;
	if (k.type == YR_END)
		return 0;
	if (k.type != YR_SCALAR)
		return yr_err(r, &k, "keys %s must be plain strings", ks->where);
	for (i = 0; ks->names[i] && !yr_is(&k, ks->names[i]); i++)
		;
	if (!ks->names[i])
		return unknown_key(r, ks, &k);
	if (seen->have[i])
		return yr_err(r, &k, "duplicate key '%s' %s (first at %zu:%zu)",
			      yr_show(&k, t, sizeof(t)), ks->where, seen->line[i] + 1,
			      seen->col[i] + 1);
	seen->have[i] = 1;
	seen->line[i] = k.line;
	seen->col[i] = k.col;
	*idx = i;
	return 0;
}

int yr_next_pair(struct yr *r, const struct yr_keyset *ks, struct yr_seen *seen, int *idx,
		 struct yr_node *v)
{
	int rc = next_key(r, ks, seen, idx);

	return rc || *idx < 0 ? rc : yr_next(r, v);
}

/* ---- libyaml errors ---- */

/* Reader (encoding) errors carry a byte offset, not a mark. */
static void offset_mark(const char *buf, size_t len, size_t off, size_t *line, size_t *col)
{
	size_t i;

	*line = *col = 0;
	for (i = 0; i < off && i < len; i++) {
		if (buf[i] == '\n') {
			++*line;
			*col = 0;
		} else {
			++*col;
		}
	}
}

/*
 * libyaml reports a tab in indentation as "found character that cannot start any token",
 * which never says what the character is.  True if the mark is a tab, or a tab comes before
 * it in the line's leading whitespace.
 */
static int tab_near(const char *buf, size_t len, size_t line, size_t col)
{
	size_t i = 0, l = 0, c;
	int lead = 1;

	while (l < line && i < len)
		if (buf[i++] == '\n')
			l++;
	for (c = 0; i < len && buf[i] != '\n' && c <= col; i++, c++) {
		if (buf[i] == '\t' && (lead || c == col))
			return 1;
		if (buf[i] != ' ' && buf[i] != '\t')
			lead = 0;
	}
	return 0;
}

static int yaml_fail(struct yr *r)
{
	const yaml_parser_t *y = &r->p;
	size_t line = y->problem_mark.line, col = y->problem_mark.column;
	const char *tab;

	r->yaml_err = 1;
	if (y->error == YAML_MEMORY_ERROR) {
		snprintf(r->err, r->errlen, "%s: out of memory", r->src);
		return -ENOMEM;
	}
	if (y->error == YAML_READER_ERROR)
		offset_mark(r->buf, r->len, y->problem_offset, &line, &col);
	tab = y->error != YAML_READER_ERROR && tab_near(r->buf, r->len, line, col) &&
	      !strstr(y->problem ? y->problem : "", "tab") ?
		"; a tab character: YAML indents with spaces only" : "";
	if (y->context)
		return err_at(r, line, col, "YAML syntax error: %s (%s at %zu:%zu)%s",
			      y->problem ? y->problem : "?", y->context,
			      y->context_mark.line + 1, y->context_mark.column + 1, tab);
	return err_at(r, line, col, "YAML syntax error: %s%s",
		      y->problem ? y->problem : "unknown problem", tab);
}

/* ---- events -> nodes ---- */

/* A YAML-level refusal: outranks schema errors (see yr_done). */
static int __attribute__((format(printf, 3, 4)))
refuse(struct yr *r, const yaml_mark_t *m, const char *fmt, ...)
{
	va_list ap;

	r->yaml_err = 1;
	va_start(ap, fmt);
	yr_verr_at(r->err, r->errlen, r->src, m->line, m->column, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Anchors and tags on a node, and nesting depth at a collection's start. */
static int check_props(struct yr *r, const yaml_char_t *anchor, const yaml_char_t *tag,
		       int opens)
{
	const yaml_mark_t *m = &r->ev.start_mark;
	char t[40];

	if (anchor)
		return refuse(r, m, "YAML anchors and aliases are not supported");
	if (tag) {
		struct yr_node n = { .type = YR_SCALAR, .s = (const char *)tag,
				     .len = strlen((const char *)tag) };

		return refuse(r, m, "YAML tags are not supported ('%s'): write the value plainly",
			      yr_show(&n, t, sizeof(t)));
	}
	if (opens && ++r->depth > YR_DEPTH_MAX)
		return refuse(r, m, "nested deeper than %d levels", YR_DEPTH_MAX);
	return 0;
}

static void set_node(struct yr *r, struct yr_node *n, int type)
{
	memset(n, 0, sizeof(*n));
	n->type = type;
	n->line = r->ev.start_mark.line;
	n->col = r->ev.start_mark.column;
}

static int on_scalar(struct yr *r, struct yr_node *n)
{
	const yaml_event_t *ev = &r->ev;
	int rc = check_props(r, ev->data.scalar.anchor, ev->data.scalar.tag, 0);

	if (rc)
		return rc;
	/* Only escapes ("\0", "\x00", "\u0000") can put a NUL in a scalar; C strings would
	 * silently end there, so one is never taken for the text before it. */
	if (memchr(ev->data.scalar.value, '\0', ev->data.scalar.length))
		return refuse(r, &ev->start_mark, "a NUL byte (\\0) inside a string");
	set_node(r, n, YR_SCALAR);
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	n->s = (const char *)ev->data.scalar.value;
	n->len = ev->data.scalar.length;
	return 0;
}

int yr_next(struct yr *r, struct yr_node *n)
{
	const yaml_event_t *ev = &r->ev;
	int rc;

	if (r->fast) {
		rc = yf_next(&r->f, n);
		r->ended = !rc && n->type == YR_NONE;
		return rc;
	}
	for (;;) {
		if (r->have_ev)
			yaml_event_delete(&r->ev);
		r->have_ev = 0;
		if (r->ended) {
			set_node(r, n, YR_NONE);
			return 0;
		}
		if (!yaml_parser_parse(&r->p, &r->ev))
			return yaml_fail(r);
		r->have_ev = 1;
		switch (ev->type) {
		case YAML_DOCUMENT_START_EVENT:
			/* A second document is a mistake (usually a stray ---) that must not be
			 * silently ignored. */
			if (r->docs++)
				return refuse(r, &ev->start_mark,
					      "multiple YAML documents; the file must hold exactly one");
			continue;
		case YAML_STREAM_END_EVENT:
			r->ended = 1;
			set_node(r, n, YR_NONE);
			return 0;
		case YAML_ALIAS_EVENT:
			return refuse(r, &ev->start_mark, "YAML anchors and aliases are not supported");
		case YAML_SCALAR_EVENT:
			return on_scalar(r, n);
		case YAML_SEQUENCE_START_EVENT:
			rc = check_props(r, ev->data.sequence_start.anchor,
					 ev->data.sequence_start.tag, 1);
			set_node(r, n, YR_SEQ);
			return rc;
		case YAML_MAPPING_START_EVENT:
			rc = check_props(r, ev->data.mapping_start.anchor,
					 ev->data.mapping_start.tag, 1);
			set_node(r, n, YR_MAP);
			return rc;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			r->depth--;
			set_node(r, n, YR_END);
			return 0;
		default:	/* stream start, document end, no event */
			continue;
		}
	}
}

int yr_done(struct yr *r, int rc)
{
	char *err = r->err, tmp[1024];
	size_t errlen = r->errlen;
	struct yr_node n;
	int rc2 = 0;

	if (r->yaml_err || (rc && rc != -EINVAL))
		return rc;
	if (rc) {
		/* After a schema error, read on for a YAML-level one, keeping the first message
		 * unless one turns up. */
		r->err = tmp;
		r->errlen = sizeof(tmp);
		while (!r->ended && !(rc2 = yr_next(r, &n)))
			;
		r->err = err;
		r->errlen = errlen;
		if (!r->yaml_err)
			return rc;
		snprintf(err, errlen, "%s", tmp);
		return rc2;
	}
	while (!rc2 && !r->ended) {
		rc2 = yr_next(r, &n);
		if (!rc2 && n.type != YR_NONE)	/* the walk stopped before its root ended */
			rc2 = yr_err(r, &n, "unexpected content after the document");
	}
	return rc2;
}

int yr_init(struct yr *r, const char *src, const char *buf, size_t len, char *err,
	    size_t errlen)
{
	memset(r, 0, sizeof(*r));
	r->src = src;
	r->buf = buf ? buf : "";
	r->len = buf ? len : 0;
	r->err = err;
	r->errlen = errlen;
	if (!yaml_parser_initialize(&r->p)) {
		snprintf(err, errlen, "%s: out of memory", src);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&r->p, (const unsigned char *)r->buf, r->len);
	return 0;
}

int yr_init_fast(struct yr *r, const char *src, const char *buf, size_t len, char *err,
		 size_t errlen)
{
	int rc = yr_init(r, src, buf, len, err, errlen);

	r->fast = 1;
	r->f.buf = r->buf;
	r->f.len = r->len;
	return rc;
}

void yr_free(struct yr *r)
{
	if (r->have_ev)
		yaml_event_delete(&r->ev);
	yaml_parser_delete(&r->p);
	memset(r, 0, sizeof(*r));
}
