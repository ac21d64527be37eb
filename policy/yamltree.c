// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * YAML tree for the policy parser: libyaml's event stream is turned into a compact tree in
 * which every node keeps its start mark, so each error can point at the line:col of the
 * offending key or value.  The schema walk over it lives in parse.c.
 *
 * Why not libyaml's document API (yaml_parser_load)?  It spends several microseconds per node
 * (a malloc'd tag string for every node, 96-byte nodes in a doubling array, a stack per
 * collection), which made a 100,000-rule policy take most of a second.  Our tree costs 24
 * bytes per node in a few flat arrays, and the whole parse is several times faster.
 *
 * Anchors and aliases are refused: a policy should read literally, and aliases would let a
 * few kilobytes expand into millions of rules (alias amplification), so the memory we use
 * stays proportional to the size of the file.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "policy.h"
#include "yamltree.h"

struct open_coll {
	uint32_t node;
	size_t base;		/* its first child in tree.pend */
};

/* The tree while it is being built. */
struct tree {
	struct ynode *nodes;
	uint32_t *kids;		/* finished collections' children, contiguous per collection */
	char *text;		/* scalar values, each NUL-terminated */
	uint32_t *pend;		/* children of collections still open */
	struct open_coll *open;	/* stack of collections still open */
	size_t nnodes, cnodes, nkids, ckids, ntext, ctext, npend, cpend, nopen, copen;
	unsigned ndocs;
	bool have_root;
	uint32_t root;
};

struct pctx {
	const char *src;
	struct tree *t;
	char *err;
	size_t errlen;
};

int ytree_verr_at(char *err, size_t errlen, const char *src, size_t line, size_t col,
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
perr_at(struct pctx *c, size_t line, size_t col, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = ytree_verr_at(c->err, c->errlen, c->src, line, col, fmt, ap);
	va_end(ap);
	return rc;
}

/* ---- building the tree from events ---- */

/* Room for `need` elements; doubling keeps appends amortised O(1). */
static void *grow(void *arr, size_t *cap, size_t need, size_t size)
{
	size_t ncap = *cap ? *cap : 256;

	if (need <= *cap)
		return arr;
	while (ncap < need)
		ncap *= 2;
	if (ncap > SIZE_MAX / size)
		return NULL;
	arr = realloc(arr, ncap * size);
	if (arr)
		*cap = ncap;
	return arr;
}

/* 0, or -ENOMEM with `arr` left as it was. */
#define GROW(arr, n, cap, more) ({						\
	void *p_ = (n) + (more) <= (cap) ? (arr) :				\
		grow((arr), &(cap), (n) + (more), sizeof(*(arr)));		\
	if (p_)									\
		(arr) = p_;							\
	p_ || !((n) + (more)) ? 0 : -ENOMEM; })

static int add_text(struct tree *t, const void *s, size_t len, size_t *off)
{
	if (GROW(t->text, t->ntext, t->ctext, len + 1))
		return -ENOMEM;
	memcpy(t->text + t->ntext, s, len);
	t->text[t->ntext + len] = '\0';
	*off = t->ntext;
	t->ntext += len + 1;
	return 0;
}

static int add_node(struct tree *t, int type, const yaml_event_t *ev, uint32_t *idx)
{
	struct ynode *n;

	if (GROW(t->nodes, t->nnodes, t->cnodes, 1))
		return -ENOMEM;
	n = &t->nodes[t->nnodes];
	memset(n, 0, sizeof(*n));
	n->type = (uint8_t)type;
	n->line = (uint32_t)ev->start_mark.line;
	n->col = (uint32_t)ev->start_mark.column;
	*idx = (uint32_t)t->nnodes++;
	return 0;
}

/* A finished node becomes the root or the next child of the innermost open collection. */
static int attach(struct tree *t, uint32_t idx)
{
	if (!t->nopen) {
		t->root = idx;
		t->have_root = true;
		return 0;
	}
	if (GROW(t->pend, t->npend, t->cpend, 1))
		return -ENOMEM;
	t->pend[t->npend++] = idx;
	return 0;
}

/* Anchors and aliases are refused; see the top of the file. */
static int no_anchor(struct pctx *c, const yaml_event_t *ev, const yaml_char_t *anchor)
{
	if (!anchor && ev->type != YAML_ALIAS_EVENT)
		return 0;
	return perr_at(c, ev->start_mark.line, ev->start_mark.column,
		       "YAML anchors and aliases are not supported in policies");
}

static int on_scalar(struct pctx *c, const yaml_event_t *ev)
{
	struct tree *t = c->t;
	uint32_t idx;
	size_t off;
	int rc;

	rc = no_anchor(c, ev, ev->data.scalar.anchor);
	if (!rc)
		rc = add_node(t, YNODE_SCALAR, ev, &idx);
	if (!rc)
		rc = add_text(t, ev->data.scalar.value, ev->data.scalar.length, &off);
	if (rc)
		return rc;
	t->nodes[idx].u.off = off;
	t->nodes[idx].len = (uint32_t)ev->data.scalar.length;
	t->nodes[idx].plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	return attach(t, idx);
}

static int on_start(struct pctx *c, const yaml_event_t *ev, int type, const yaml_char_t *anchor)
{
	struct tree *t = c->t;
	uint32_t idx;
	int rc;

	rc = no_anchor(c, ev, anchor);
	if (!rc)
		rc = add_node(t, type, ev, &idx);
	if (!rc)
		rc = GROW(t->open, t->nopen, t->copen, 1);
	if (rc)
		return rc;
	t->open[t->nopen].node = idx;
	t->open[t->nopen++].base = t->npend;
	return 0;
}

/* Move the finished collection's children from pend to their final, contiguous place. */
static int on_end(struct tree *t)
{
	struct open_coll o = t->open[--t->nopen];
	size_t base = o.base, cnt = t->npend - base;
	uint32_t idx = o.node;

	if (GROW(t->kids, t->nkids, t->ckids, cnt))
		return -ENOMEM;
	if (cnt)
		memcpy(t->kids + t->nkids, t->pend + base, cnt * sizeof(*t->kids));
	t->nodes[idx].u.off = t->nkids;
	t->nodes[idx].len = (uint32_t)cnt;
	t->nkids += cnt;
	t->npend = base;
	return attach(t, idx);
}

static int on_event(struct pctx *c, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		/* A second document is a mistake (usually a stray ---) that we must not
		 * silently ignore. */
		if (c->t->ndocs++)
			return perr_at(c, ev->start_mark.line, ev->start_mark.column,
				       "multiple YAML documents; a policy file holds exactly one");
		return 0;
	case YAML_SCALAR_EVENT:
		return on_scalar(c, ev);
	case YAML_ALIAS_EVENT:
		return no_anchor(c, ev, NULL);
	case YAML_SEQUENCE_START_EVENT:
		return on_start(c, ev, YNODE_SEQUENCE, ev->data.sequence_start.anchor);
	case YAML_MAPPING_START_EVENT:
		return on_start(c, ev, YNODE_MAPPING, ev->data.mapping_start.anchor);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return on_end(c->t);
	default:
		return 0;
	}
}

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

static int yaml_fail(struct pctx *c, const yaml_parser_t *y, const char *buf, size_t len)
{
	size_t line = y->problem_mark.line, col = y->problem_mark.column;

	if (y->error == YAML_MEMORY_ERROR)
		return cg_policy_errf(c->err, c->errlen, -ENOMEM, "%s: out of memory", c->src);
	if (y->error == YAML_READER_ERROR)
		offset_mark(buf, len, y->problem_offset, &line, &col);
	if (y->context)
		return perr_at(c, line, col, "YAML syntax error: %s (%s at %zu:%zu)",
			       y->problem ? y->problem : "?", y->context,
			       y->context_mark.line + 1, y->context_mark.column + 1);
	return perr_at(c, line, col, "YAML syntax error: %s",
		       y->problem ? y->problem : "unknown problem");
}

/* Offsets become pointers once the arrays have stopped moving. */
static void tree_fixup(struct tree *t)
{
	size_t i;

	for (i = 0; i < t->nnodes; i++) {
		struct ynode *n = &t->nodes[i];

		if (n->type == YNODE_SCALAR)
			n->u.s = t->text + n->u.off;
		else
			n->u.kids = t->kids + n->u.off;
	}
}

static int load_tree(struct pctx *c, const char *buf, size_t len)
{
	yaml_parser_t y;
	yaml_event_t ev;
	bool done = false;
	int rc = 0;

	/* Size the big arrays from the input up front, since growing a large array by realloc
	 * means copying it: typical policies have about one node per 7 bytes, and scalar text
	 * (plus a NUL each) is rarely longer than the input.  GROW still copes if a guess is
	 * short, and pages reserved but never touched cost nothing. */
	if (GROW(c->t->nodes, 0, c->t->cnodes, len / 6 + 1) ||
	    GROW(c->t->kids, 0, c->t->ckids, len / 6 + 1) ||
	    GROW(c->t->text, 0, c->t->ctext, len + len / 4 + 1) || !yaml_parser_initialize(&y))
		return cg_policy_errf(c->err, c->errlen, -ENOMEM, "%s: out of memory", c->src);
	yaml_parser_set_input_string(&y, (const unsigned char *)(buf ? buf : ""), len);
	while (!rc && !done) {
		if (!yaml_parser_parse(&y, &ev)) {
			rc = yaml_fail(c, &y, buf, len);
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		rc = on_event(c, &ev);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&y);
	if (!rc)
		tree_fixup(c->t);
	return rc;
}

int ytree_load(struct ytree *out, const char *src, const char *buf, size_t len,
	       char *err, size_t errlen)
{
	struct tree t = { 0 };
	struct pctx c = { src, &t, err, errlen };
	int rc;

	memset(out, 0, sizeof(*out));
	rc = load_tree(&c, buf, len);
	free(t.pend);
	free(t.open);
	if (rc) {
		free(t.nodes);
		free(t.kids);
		free(t.text);
		return rc;
	}
	out->nodes = t.nodes;
	out->kids = t.kids;
	out->text = t.text;
	out->root = t.have_root ? &t.nodes[t.root] : NULL;
	return 0;
}

void ytree_free(struct ytree *t)
{
	free(t->nodes);
	free(t->kids);
	free(t->text);
	memset(t, 0, sizeof(*t));
}
