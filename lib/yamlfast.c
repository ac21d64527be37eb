// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The YAML reader's fast path (see yamlread.h, yr_init_fast): a scanner for the plain,
 * line-oriented subset of YAML that large generated policies are written in, producing
 * exactly the nodes (types, text, style, line:col) that libyaml's events give.  libyaml
 * costs ~0.8 us a node (a malloc'd token and event each); 100,000 rules are 600,000 nodes.
 *
 * The subset, and nothing else:
 *   - printable ASCII, spaces and newlines only (no tab, CR, control or non-ASCII byte,
 *     anywhere, comments included); whole-line comments, and " #" comments after a value;
 *   - block mappings whose keys are plain words followed by ':', at one indentation each,
 *     the root one at column 0; a value is a scalar or a flow collection on the key's line,
 *     or a block mapping or block sequence indented below it;
 *   - block sequences, indented below their key or at its column (PyYAML's style), whose
 *     entries are "- " and a scalar or a flow collection on the same line, or "- key: ..."
 *     starting a block mapping whose keys line up with that first one;
 *   - flow collections closed on the line they open on, without empty entries;
 *   - scalars: plain ones made of [A-Za-z0-9_./] and '-' or '+' after the first byte, and
 *     single- or double-quoted ones without escapes or the quote itself.
 * Anything else (including whatever is invalid YAML) makes yf_next() return YF_BAIL, and
 * the caller starts again on libyaml, which then gives every error its usual words.
 */
#include <errno.h>
#include <string.h>

#include "yamlread.h"

/* K_ISEQ: an indentless block sequence ("key:" then "- x" at the key's column) */
enum { K_BMAP = 1, K_BSEQ, K_ISEQ, K_FMAP, K_FSEQ };
/* states: a block mapping's value is pending (after "key:"); a flow collection expects
 * its first entry, a value (mapping) or the next separator */
enum { S_IDLE, S_VALUE, S_FIRST, S_FVALUE, S_NEXT };

#define B(f) ((const unsigned char *)(f)->buf)

static int plain_first(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '/';
}

static int plain_more(unsigned char c)
{
	return plain_first(c) || c == '-' || c == '+';
}

static void mark(struct yr_fast *f, struct yr_node *n, int type, size_t pos)
{
	memset(n, 0, sizeof(*n));
	n->type = type;
	n->line = f->line;
	n->col = pos - f->lstart;
}

/* Where libyaml puts the end of the stream: at the start of a line, the next one if the
 * input does not end with a newline. */
static void eof_mark(struct yr_fast *f, struct yr_node *n, int type)
{
	mark(f, n, type, f->pos);
	if (n->col) {
		n->line++;
		n->col = 0;
	}
}

/* Skips spaces; returns the byte there (0 at the end of the input). */
static int skip_sp(struct yr_fast *f)
{
	while (f->pos < f->len && B(f)[f->pos] == ' ')
		f->pos++;
	return f->pos < f->len ? B(f)[f->pos] : 0;
}

/* To the end of a comment's line: printable ASCII only, as everywhere (libyaml would
 * refuse control bytes and invalid UTF-8 in a comment too). */
static int comment(struct yr_fast *f, size_t *p)
{
	for (; *p < f->len && B(f)[*p] != '\n'; ++*p)
		if (B(f)[*p] < 0x20 || B(f)[*p] > 0x7e)
			return YF_BAIL;
	return 0;
}

/* The rest of the line: nothing, or a comment after a space; then to the next line. */
static int end_line(struct yr_fast *f)
{
	size_t start = f->pos;
	int c = skip_sp(f);

	if (c == '#' && f->pos > start) {
		if (comment(f, &f->pos))
			return YF_BAIL;
		c = f->pos < f->len ? '\n' : 0;
	}
	if (c != '\n' && c != 0)
		return YF_BAIL;
	if (c == '\n') {
		f->pos++;
		f->line++;
		f->lstart = f->pos;
	}
	return 0;
}

/*
 * From a line start, past blank and comment lines, to the first byte of the next content
 * line; *ind is its indentation, -1 at the end of the input.
 */
static int next_content(struct yr_fast *f, int *ind)
{
	for (;;) {
		size_t p = f->pos;

		if (p >= f->len) {
			*ind = -1;
			return 0;
		}
		while (p < f->len && B(f)[p] == ' ')
			p++;
		if (p < f->len && B(f)[p] != '\n' && B(f)[p] != '#') {
			f->pos = p;
			*ind = (int)(p - f->lstart);
			return 0;
		}
		if (comment(f, &p))
			return YF_BAIL;
		f->pos = p;
		if (p < f->len) {
			f->pos++;
			f->line++;
			f->lstart = f->pos;
		}
	}
}

/* A scalar at pos: plain, or quoted without escapes.  *is_key: a plain one followed
 * directly by ':' (a key), whose ':' is skipped. */
static int scalar(struct yr_fast *f, struct yr_node *n, int *is_key)
{
	size_t s = f->pos, e;
	unsigned char q = B(f)[s];

	mark(f, n, YR_SCALAR, s);
	*is_key = 0;
	if (q == '"' || q == '\'') {
		for (e = s + 1; e < f->len && B(f)[e] != q; e++)
			if (B(f)[e] == '\\' || B(f)[e] < 0x20 || B(f)[e] > 0x7e)
				return YF_BAIL;
		if (e >= f->len)
			return YF_BAIL;
		s++;
		f->pos = e + 1;
	} else {
		if (!plain_first(q))
			return YF_BAIL;
		for (e = s + 1; e < f->len && plain_more(B(f)[e]); e++)
			;
		n->plain = 1;
		f->pos = e;
		if (e < f->len && B(f)[e] == ':') {
			*is_key = 1;
			f->pos++;
		}
	}
	if (e - s >= sizeof(f->sbuf))
		return YF_BAIL;
	memcpy(f->sbuf, B(f) + s, e - s);
	f->sbuf[e - s] = '\0';
	n->s = f->sbuf;
	n->len = e - s;
	return 0;
}

static int push(struct yr_fast *f, int kind, int state, int indent)
{
	if (f->nst == (int)(sizeof(f->st) / sizeof(f->st[0])))
		return YF_BAIL;
	f->st[f->nst].kind = (unsigned char)kind;
	f->st[f->nst].state = (unsigned char)state;
	f->st[f->nst].indent = indent;
	f->nst++;
	return 0;
}

/* A value at pos, on the line of its key or "- ": a scalar or a flow collection. */
static int value(struct yr_fast *f, struct yr_node *n)
{
	int c = B(f)[f->pos], key, rc;

	if (c == '{' || c == '[') {
		mark(f, n, c == '{' ? YR_MAP : YR_SEQ, f->pos);
		f->pos++;
		return push(f, c == '{' ? K_FMAP : K_FSEQ, S_FIRST, 0);
	}
	rc = scalar(f, n, &key);
	if (rc || key)
		return YF_BAIL;
	/* in a flow collection, the caller checks what follows */
	return f->nst && f->st[f->nst - 1].kind >= K_FMAP ? 0 : end_line(f);
}

/* Pops a flow collection; back in block context, the line must end there. */
static int flow_end(struct yr_fast *f, struct yr_node *n)
{
	mark(f, n, YR_END, f->pos);
	f->pos++;
	f->nst--;
	if (f->st[f->nst - 1].kind >= K_FMAP) {
		f->st[f->nst - 1].state = S_NEXT;
		return 0;
	}
	return end_line(f);
}

static int flow_next(struct yr_fast *f, struct yr_node *n)
{
	int top = f->nst - 1, kind = f->st[top].kind, st = f->st[top].state, c, key, rc;
	char close = kind == K_FMAP ? '}' : ']';

	c = skip_sp(f);
	if (st == S_NEXT) {
		if (c == close)
			return flow_end(f, n);
		if (c != ',')
			return YF_BAIL;
		f->pos++;
		c = skip_sp(f);
		if (c == close)	/* a trailing comma */
			return YF_BAIL;
	} else if (st == S_FIRST && c == close) {
		return flow_end(f, n);
	}
	if (!c || c == '\n' || c == ',')
		return YF_BAIL;
	if (kind == K_FSEQ || st == S_FVALUE) {
		f->st[top].state = S_NEXT;
		if (value(f, n))
			return YF_BAIL;
		/* a nested collection's S_NEXT comes when it ends */
		return n->type == YR_SCALAR &&
		       (f->pos >= f->len || !memchr(",]} ", B(f)[f->pos], 4)) ? YF_BAIL : 0;
	}
	rc = scalar(f, n, &key);	/* a key: plain, then ": " */
	if (rc || !key || f->pos >= f->len || B(f)[f->pos] != ' ')
		return YF_BAIL;
	f->st[top].state = S_FVALUE;
	return 0;
}

/* "- " at pos */
static int is_entry(const struct yr_fast *f)
{
	return B(f)[f->pos] == '-' && f->pos + 1 < f->len && B(f)[f->pos + 1] == ' ';
}

/* A plain key at pos: its ':' is followed by a space or the end of the line. */
static int is_key_at(const struct yr_fast *f)
{
	size_t e = f->pos;

	if (!plain_first(B(f)[e]))
		return 0;
	while (e < f->len && plain_more(B(f)[e]))
		e++;
	return e + 1 < f->len && B(f)[e] == ':' && (B(f)[e + 1] == ' ' || B(f)[e + 1] == '\n');
}

/* A sequence entry: "- " and a value, or the first key of a block mapping ("- key: v",
 * the mapping's keys at that key's column). */
static int entry(struct yr_fast *f, struct yr_node *n)
{
	if (!is_entry(f))
		return YF_BAIL;
	f->pos++;
	if (skip_sp(f) == '\n' || f->pos >= f->len)
		return YF_BAIL;
	if (!is_key_at(f))
		return value(f, n);
	mark(f, n, YR_MAP, f->pos);
	return push(f, K_BMAP, S_IDLE, (int)(f->pos - f->lstart));
}

/* A content line at the indentation of the open block collection on top. */
static int block_line(struct yr_fast *f, struct yr_node *n)
{
	int top = f->nst - 1, key;

	if (f->st[top].kind == K_BSEQ || f->st[top].kind == K_ISEQ)
		return entry(f, n);
	if (scalar(f, n, &key) || !n->plain || !key)
		return YF_BAIL;
	f->st[top].state = S_VALUE;
	return 0;
}

/* After "key:": a value on this line, or a block collection on the next ones. */
static int block_value(struct yr_fast *f, struct yr_node *n)
{
	int top = f->nst - 1, c, ind, kind;

	f->st[top].state = S_IDLE;
	c = skip_sp(f);
	if (c && c != '\n' && c != '#')
		return B(f)[f->pos - 1] == ' ' ? value(f, n) : YF_BAIL;
	if (end_line(f) || next_content(f, &ind))
		return YF_BAIL;
	if (ind == f->st[top].indent && is_entry(f))
		kind = K_ISEQ;
	else if (ind <= f->st[top].indent)
		return YF_BAIL;	/* an empty value */
	else
		kind = B(f)[f->pos] == '-' ? K_BSEQ : K_BMAP;
	mark(f, n, kind == K_BMAP ? YR_MAP : YR_SEQ, f->pos);
	return push(f, kind, S_IDLE, ind);
}

int yf_next(struct yr_fast *f, struct yr_node *n)
{
	int ind, top;

	if (f->nst && f->st[f->nst - 1].kind >= K_FMAP)
		return flow_next(f, n);
	if (f->nst && f->st[f->nst - 1].state == S_VALUE)
		return block_value(f, n);
	if (next_content(f, &ind))
		return YF_BAIL;
	if (!f->nst) {
		if (f->root_done) {
			if (ind >= 0)
				return YF_BAIL;
			eof_mark(f, n, YR_NONE);
			return 0;
		}
		if (ind != 0)
			return YF_BAIL;	/* an empty document, or not a mapping at column 0 */
		f->root_done = 1;
		mark(f, n, YR_MAP, f->pos);
		return push(f, K_BMAP, S_IDLE, 0);
	}
	top = f->nst - 1;
	/* dedent (or the end), or a key after an indentless sequence: close one block */
	if (ind < f->st[top].indent ||
	    (f->st[top].kind == K_ISEQ && ind == f->st[top].indent && !is_entry(f))) {
		/* libyaml closes what is deeper than the last line's end first, there */
		if (ind < 0 && f->st[top].indent <= (int)(f->pos - f->lstart))
			eof_mark(f, n, YR_END);
		else
			mark(f, n, YR_END, f->pos);
		f->nst--;
		/* the dedent must land on an open block's indentation */
		if (ind >= 0 && f->nst && ind > f->st[f->nst - 1].indent)
			return YF_BAIL;
		return 0;
	}
	if (ind > f->st[top].indent)
		return YF_BAIL;
	return block_line(f, n);
}
