// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Policy parser: YAML (and therefore JSON) text -> struct cg_policy.
 *
 * Two stages.  First libyaml's event stream is turned into a compact tree in which every node
 * keeps its start mark, so each error can point at the line:col of the offending key or value.
 * Then a walk driven by the schema fills struct cg_policy: it only descends into the nodes the
 * format allows, to a fixed depth, and size-checks every list before iterating it.
 *
 * Why not libyaml's document API (yaml_parser_load)?  It spends several microseconds per node
 * (a malloc'd tag string for every node, 96-byte nodes in a doubling array, a stack per
 * collection), which made a 100,000-rule policy take most of a second.  Our tree costs 24
 * bytes per node in a few flat arrays, and the whole parse is several times faster.
 *
 * Scalars are matched on their text whatever their YAML style: `443` and "443" are the same
 * port.  YAML 1.1 booleans get no special meaning, so a plain `action: yes` is simply an
 * invalid action.  Anchors and aliases are refused: a policy should read literally, and
 * aliases would let a few kilobytes expand into millions of rules (alias amplification), so
 * the memory we use stays proportional to the size of the file.
 *
 * File reading (cg_policy_parse_file) lives in builtin.c with the other loaders.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <yaml.h>

#include "policy.h"

#define CG_RULES_MAX	1000000u	/* per direction */
#define CG_PORTS_MAX	64u		/* ranges per rule, and per bind list */
#define KEYS_MAX	8		/* most keys any one mapping may have */
#define SHOW_MAX	48		/* how much of a bad value we echo back */

struct ynode {
	uint8_t type;		/* YAML_SCALAR_NODE, YAML_SEQUENCE_NODE or YAML_MAPPING_NODE */
	uint8_t plain;		/* scalar written without quotes */
	uint32_t line, col;	/* 0-based start mark */
	uint32_t len;		/* scalar bytes, or child slots (two per mapping pair) */
	union {
		size_t off;		/* while building: into tree.text or tree.kids */
		const char *s;		/* scalar text, NUL-terminated (may hold NULs) */
		const uint32_t *kids;	/* children; for a mapping key, value, key, ... */
	} u;
};

struct open_coll {
	uint32_t node;
	size_t base;		/* its first child in tree.pend */
};

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

/* Error without a position (problems with the input as a whole). */
int cg_policy_errf(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* "SOURCE:LINE:COL: message"; marks are 0-based, people count from 1. */
static int __attribute__((format(printf, 4, 5)))
perr_at(struct pctx *c, size_t line, size_t col, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!c->err || !c->errlen)
		return -EINVAL;
	n = snprintf(c->err, c->errlen, "%s:%zu:%zu: ", c->src, line + 1, col + 1);
	if (n >= 0 && (size_t)n < c->errlen) {
		va_start(ap, fmt);
		vsnprintf(c->err + n, c->errlen - n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Error at a node's start. */
#define perr(c, n, ...) perr_at((c), (n)->line, (n)->col, __VA_ARGS__)

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
		rc = add_node(t, YAML_SCALAR_NODE, ev, &idx);
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
		return on_start(c, ev, YAML_SEQUENCE_NODE, ev->data.sequence_start.anchor);
	case YAML_MAPPING_START_EVENT:
		return on_start(c, ev, YAML_MAPPING_NODE, ev->data.mapping_start.anchor);
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

		if (n->type == YAML_SCALAR_NODE)
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

static void tree_free(struct tree *t)
{
	free(t->nodes);
	free(t->kids);
	free(t->text);
	free(t->pend);
	free(t->open);
}

/* ---- walking the tree ---- */

static const struct ynode *node_at(struct pctx *c, uint32_t idx)
{
	return &c->t->nodes[idx];
}

/*
 * Copy a scalar for an error message: bounded, and with control bytes replaced so a hostile
 * file cannot put terminal escapes into logs.
 */
static const char *show(const struct ynode *n, char buf[SHOW_MAX])
{
	const unsigned char *s = (const unsigned char *)n->u.s;
	size_t i, cut = SHOW_MAX - 4;

	if (n->type != YAML_SCALAR_NODE)
		return n->type == YAML_MAPPING_NODE ? "{...}" : "[...]";
	if (n->len > cut) {
		while (cut > 0 && (s[cut] & 0xc0) == 0x80)	/* don't split UTF-8 */
			cut--;
	} else {
		cut = n->len;
	}
	for (i = 0; i < cut; i++)
		buf[i] = (s[i] < 0x20 || s[i] == 0x7f) ? '?' : (char)s[i];
	if (cut < n->len)
		memcpy(buf + i, "...", 3), i += 3;
	buf[i] = '\0';
	return buf;
}

/* A node's kind, for "must be a X, not Y" messages. */
static const char *kind(const struct ynode *n)
{
	if (n->type == YAML_MAPPING_NODE)
		return "a mapping";
	if (n->type == YAML_SEQUENCE_NODE)
		return "a sequence";
	return n->len ? "a scalar" : "an empty value";
}

static bool sc_is(const struct ynode *n, const char *s)
{
	size_t len = strlen(s);

	return n->type == YAML_SCALAR_NODE && n->len == len && memcmp(n->u.s, s, len) == 0;
}

static void join(const char *const *names, char *buf, size_t size)
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

/*
 * The keys one mapping may hold.  `where` completes "unknown key 'x' ...".  `misplaced` is a
 * key that is valid elsewhere (`from` in an egress rule), for which `hint` says more than
 * just "unknown".
 */
struct keyset {
	const char *where;
	const char *const *names;	/* NULL-terminated, fewer than KEYS_MAX */
	const char *misplaced;
	const char *hint;
};

static int unknown_key(struct pctx *c, const struct keyset *ks, const struct ynode *k)
{
	char t[SHOW_MAX], list[128];

	if (ks->misplaced && sc_is(k, ks->misplaced))
		return perr(c, k, "%s", ks->hint);
	join(ks->names, list, sizeof(list));
	return perr(c, k, "unknown key '%s' %s; expected one of %s", show(k, t), ks->where, list);
}

typedef const struct ynode *fields_t[KEYS_MAX];

/*
 * Check every key of mapping `map` against `ks` and file the key and value nodes under the
 * key's index.  Duplicates are caught by the slot already being filled, so this stays linear
 * however the mapping is written.
 */
static int collect(struct pctx *c, const struct ynode *map, const struct keyset *ks,
		   fields_t key, fields_t val)
{
	const struct ynode *k;
	char t[SHOW_MAX];
	uint32_t p;
	int i;

	for (p = 0; p < map->len; p += 2) {
		k = node_at(c, map->u.kids[p]);
		if (k->type != YAML_SCALAR_NODE)
			return perr(c, k, "keys %s must be plain strings", ks->where);
		for (i = 0; ks->names[i] && !sc_is(k, ks->names[i]); i++)
			;
		if (!ks->names[i])
			return unknown_key(c, ks, k);
		if (key[i])
			return perr(c, k, "duplicate key '%s' %s (first at %u:%u)", show(k, t),
				    ks->where, key[i]->line + 1, key[i]->col + 1);
		key[i] = k;
		val[i] = node_at(c, map->u.kids[p + 1]);
	}
	return 0;
}

static int need_type(struct pctx *c, const struct ynode *n, int type, const char *what)
{
	if (n->type == type)
		return 0;
	return perr(c, n, "%s must be %s, not %s", what,
		    type == YAML_MAPPING_NODE ? "a mapping" : "a sequence", kind(n));
}

/* need_type() and collect() in one step, for sections that are mappings. */
static int need_map(struct pctx *c, const struct ynode *n, const char *what,
		    const struct keyset *ks, fields_t key, fields_t val)
{
	int rc = need_type(c, n, YAML_MAPPING_NODE, what);

	return rc ? rc : collect(c, n, ks, key, val);
}

/* Exact, lowercase enum words; *idx is the position in `names`. */
static int parse_enum(struct pctx *c, const struct ynode *n, const char *key,
		      const char *const *names, int *idx)
{
	char t[SHOW_MAX], list[64];
	int i;

	if (n->type != YAML_SCALAR_NODE)
		return perr(c, n, "'%s' must be a string, not %s", key, kind(n));
	for (i = 0; names[i]; i++) {
		if (sc_is(n, names[i])) {
			*idx = i;
			return 0;
		}
	}
	join(names, list, sizeof(list));
	return perr(c, n, "invalid %s '%s'; expected one of %s", key, show(n, t), list);
}

static const char *const action_names[] = { "allow", "deny", NULL };
static const char *const mode_names[] = { "enforce", "audit", NULL };
static const char *const viol_names[] = { "block", "kill", NULL };
static const char *const proto_names[] = { "any", "icmp", "tcp", "udp", NULL };
static const uint8_t proto_vals[] = { CG_PROTO_ANY, CG_PROTO_ICMP, CG_PROTO_TCP, CG_PROTO_UDP };

static int parse_u8_enum(struct pctx *c, const struct ynode *n, const char *key,
			 const char *const *names, uint8_t *out)
{
	int idx, rc;

	rc = parse_enum(c, n, key, names, &idx);
	if (!rc)
		*out = (uint8_t)idx;
	return rc;
}

/*
 * Decimal only, no sign, no leading zeros: YAML 1.1 reads 0443 as octal, so we refuse rather
 * than guess which the author meant.  Saturates above 65535 so the caller can say "out of
 * range" rather than "not a number".
 */
static int port_num(const char *s, size_t len, unsigned *v)
{
	unsigned x = 0;
	size_t i;

	if (!len || (s[0] == '0' && len > 1))
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (x <= 65535)
			x = x * 10 + (unsigned)(s[i] - '0');
	}
	*v = x;
	return 0;
}

/* One entry of a port list: 443, "443" or "8000-8100". */
static int parse_port_item(struct pctx *c, const struct ynode *n, struct cg_port_range *pr)
{
	const char *s = n->u.s, *dash;
	unsigned lo, hi;
	char t[SHOW_MAX];
	int rc;

	if (n->type != YAML_SCALAR_NODE)
		return perr(c, n, "a port must be a number or a \"LO-HI\" range, not %s", kind(n));
	dash = memchr(s, '-', n->len);
	if (dash) {
		rc = port_num(s, (size_t)(dash - s), &lo);
		if (!rc)
			rc = port_num(dash + 1, n->len - (size_t)(dash - s) - 1, &hi);
	} else {
		rc = port_num(s, n->len, &lo);
		hi = lo;
	}
	if (rc)
		return perr(c, n, "invalid port '%s'; expected N or \"LO-HI\" with N in 1..65535",
			    show(n, t));
	if (lo < 1 || lo > 65535 || hi < 1 || hi > 65535)
		return perr(c, n, "port '%s' out of range; ports are 1..65535", show(n, t));
	if (lo > hi)
		return perr(c, n, "reversed port range '%s'; did you mean \"%u-%u\"?", show(n, t),
			    hi, lo);
	pr->lo = (uint16_t)lo;
	pr->hi = (uint16_t)hi;
	return 0;
}

/*
 * A port list.  A lone scalar (`ports: 443` or `ports: "80-90"`) is taken as a one-entry
 * list: it is unambiguous and a natural way to write one port.  An empty list is refused
 * because "no ports" would silently mean "any port".
 */
static int parse_ports(struct pctx *c, const struct ynode *n, const char *key,
		       struct cg_port_range **out, uint32_t *nout)
{
	bool seq = n->type == YAML_SEQUENCE_NODE;
	struct cg_port_range *r;
	size_t cnt, i;
	int rc;

	if (n->type == YAML_MAPPING_NODE)
		return perr(c, n, "'%s' must be a list of ports, not a mapping", key);
	cnt = seq ? n->len : (n->len ? 1 : 0);
	if (!cnt)
		return perr(c, n, "'%s' is empty; omit it to mean any port", key);
	if (cnt > CG_PORTS_MAX)
		return perr(c, node_at(c, n->u.kids[CG_PORTS_MAX]),
			    "too many entries in '%s' (limit %u); use ranges", key, CG_PORTS_MAX);
	r = calloc(cnt, sizeof(*r));
	if (!r)
		return -ENOMEM;
	for (i = 0; i < cnt; i++) {
		rc = parse_port_item(c, seq ? node_at(c, n->u.kids[i]) : n, &r[i]);
		if (rc) {
			free(r);
			return rc;
		}
	}
	*out = r;
	*nout = (uint32_t)cnt;
	return 0;
}

/* Prefix length: 1-3 decimal digits, no sign, space or leading zero. */
static int parse_prefix(const char *s, size_t len, unsigned *v)
{
	unsigned x = 0;
	size_t i;

	if (len < 1 || len > 3 || (s[0] == '0' && len > 1))
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		x = x * 10 + (unsigned)(s[i] - '0');
	}
	*v = x;
	return 0;
}

/* Clear the bits past `plen`; returns true if any were set. */
static bool mask_host_bits(uint8_t *b, unsigned plen, unsigned nbytes)
{
	bool set = false;
	unsigned i;
	uint8_t m;

	for (i = 0; i < nbytes; i++) {
		if (plen >= 8 * (i + 1))
			continue;
		m = (uint8_t)(plen > 8 * i ? 0xff << (8 - (plen - 8 * i)) : 0);
		if (b[i] & ~m)
			set = true;
		b[i] &= m;
	}
	return set;
}

static bool is_v4mapped(const uint8_t *b)
{
	static const uint8_t pre[12] = { [10] = 0xff, [11] = 0xff };

	return memcmp(b, pre, sizeof(pre)) == 0;
}

/* Called with the network already masked, to suggest what was probably meant. */
static int host_bits_err(struct pctx *c, const struct ynode *n, int fam, const uint8_t *b,
			 unsigned plen)
{
	char t[SHOW_MAX], a[INET6_ADDRSTRLEN];

	if (!inet_ntop(fam, b, a, sizeof(a)))
		a[0] = '\0';
	return perr(c, n, "host bits set in %s; did you mean %s/%u?", show(n, t), a, plen);
}

/* Split "addr/len" and run inet_pton on the address part. */
static int split_cidr(const struct ynode *n, uint8_t *b, int *fam, const char **pfx,
		      size_t *pfxlen)
{
	const char *s = n->u.s, *slash = memchr(s, '/', n->len);
	size_t alen = slash ? (size_t)(slash - s) : n->len;
	char a[INET6_ADDRSTRLEN + 1];

	if (alen == 0 || alen >= sizeof(a) || memchr(s, '\0', alen))
		return -1;
	memcpy(a, s, alen);
	a[alen] = '\0';
	*fam = memchr(a, ':', alen) ? AF_INET6 : AF_INET;
	*pfx = slash ? slash + 1 : NULL;
	*pfxlen = slash ? n->len - alen - 1 : 0;
	return inet_pton(*fam, a, b) == 1 ? 0 : -1;
}

/*
 * "a.b.c.d/N", "v6/N" or a bare address (a host route).  inet_pton is the arbiter of address
 * syntax: glibc's is strict (no octal, no short forms, no zone ids), which is what a
 * security policy wants.
 */
static int parse_cidr(struct pctx *c, const struct ynode *n, const char *key, struct cg_rule *r)
{
	uint8_t b[16] = { 0 };
	unsigned plen, max;
	char t[SHOW_MAX];
	const char *pfx;
	size_t pfxlen;
	int fam;

	if (n->type != YAML_SCALAR_NODE)
		return perr(c, n, "'%s' must be an address like 10.0.0.0/8, not %s", key, kind(n));
	if (split_cidr(n, b, &fam, &pfx, &pfxlen))
		return perr(c, n,
			    "invalid address '%s' in '%s'; expected IPv4 or IPv6, optionally /prefix",
			    show(n, t), key);
	max = fam == AF_INET ? 32 : 128;
	plen = max;
	if (pfx && parse_prefix(pfx, pfxlen, &plen))
		return perr(c, n, "invalid prefix length in '%s'; expected /0 to /%u", show(n, t),
			    max);
	if (plen > max)
		return perr(c, n, "prefix /%u is too long for %s in '%s' (max /%u)", plen,
			    fam == AF_INET ? "IPv4" : "IPv6", show(n, t), max);
	/* Before the host-bit check: ffff sits in the host part of such a prefix, and "host
	 * bits set" would hide the real mistake. */
	if (fam == AF_INET6 && is_v4mapped(b) && plen < 96)
		return perr(c, n, "IPv4-mapped prefix shorter than /96 in '%s'", show(n, t));
	if (mask_host_bits(b, plen, max / 8))
		return host_bits_err(c, n, fam, b, plen);
	if (fam == AF_INET6 && is_v4mapped(b)) {
		/* The kernel shows IPv4 peers of dual-stack sockets as mapped addresses; one
		 * AF_INET rule then covers both. */
		fam = AF_INET;
		memmove(b, b + 12, 4);
		memset(b + 4, 0, 12);
		plen -= 96;
	}
	r->family = (uint8_t)fam;
	r->prefixlen = (uint8_t)plen;
	memcpy(r->addr, b, sizeof(r->addr));
	return 0;
}

enum { RK_ACTION, RK_ADDR, RK_PROTO, RK_PORTS };
static const char *const egress_rule_keys[] = { "action", "to", "proto", "ports", NULL };
static const char *const ingress_rule_keys[] = { "action", "from", "proto", "ports", NULL };
static const struct keyset rule_ks[CG_DIR_MAX] = {
	[CG_DIR_EGRESS] = { "in egress rule", egress_rule_keys, "from",
			    "egress rules use 'to', not 'from'" },
	[CG_DIR_INGRESS] = { "in ingress rule", ingress_rule_keys, "to",
			     "ingress rules use 'from', not 'to'" },
};

static int parse_rule_ports(struct pctx *c, const struct ynode *k, const struct ynode *v,
			    struct cg_rule *r)
{
	if (r->proto != CG_PROTO_TCP && r->proto != CG_PROTO_UDP)
		return perr(c, k, "ports need proto tcp or udp (proto is %s)",
			    cg_proto_str(r->proto));
	return parse_ports(c, v, "ports", &r->ports, &r->nports);
}

static int parse_rule(struct pctx *c, const struct ynode *n, int dir, struct cg_rule *r)
{
	const char *what = dir == CG_DIR_EGRESS ? "egress rule" : "ingress rule";
	const char *addr = rule_ks[dir].names[RK_ADDR];
	fields_t key = { 0 }, val = { 0 };
	int rc, idx;

	if (n->type != YAML_MAPPING_NODE)
		return perr(c, n,
			    "each %s must be a mapping like { action: deny, %s: 10.0.0.0/8 }, not %s",
			    what, addr, kind(n));
	rc = collect(c, n, &rule_ks[dir], key, val);
	if (rc)
		return rc;
	r->line = (int)n->line + 1;
	r->col = (int)n->col + 1;
	if (!val[RK_ACTION])
		return perr(c, n, "%s has no 'action' (allow or deny)", what);
	rc = parse_u8_enum(c, val[RK_ACTION], "action", action_names, &r->action);
	if (rc)
		return rc;
	if (!val[RK_ADDR])
		return perr(c, n, "%s has no '%s' address", what, addr);
	rc = parse_cidr(c, val[RK_ADDR], addr, r);
	if (rc)
		return rc;
	r->proto = CG_PROTO_ANY;
	if (val[RK_PROTO]) {
		rc = parse_enum(c, val[RK_PROTO], "proto", proto_names, &idx);
		if (rc)
			return rc;
		r->proto = proto_vals[idx];
	}
	return val[RK_PORTS] ? parse_rule_ports(c, key[RK_PORTS], val[RK_PORTS], r) : 0;
}

static int parse_rules(struct pctx *c, const struct ynode *n, int dir, struct cg_direction *d)
{
	size_t cnt, i;
	int rc;

	rc = need_type(c, n, YAML_SEQUENCE_NODE, "'rules'");
	if (rc)
		return rc;
	cnt = n->len;
	if (cnt > CG_RULES_MAX)
		return perr(c, node_at(c, n->u.kids[CG_RULES_MAX]), "too many %s rules (limit %u)",
			    dir == CG_DIR_EGRESS ? "egress" : "ingress", CG_RULES_MAX);
	if (!cnt)
		return 0;
	/* The count is known up front, so one exact allocation rather than growing; zeroed so
	 * cg_policy_free() is safe if we stop part way. */
	d->rules = calloc(cnt, sizeof(*d->rules));
	if (!d->rules)
		return -ENOMEM;
	d->nrules = cnt;
	for (i = 0; i < cnt; i++) {
		rc = parse_rule(c, node_at(c, n->u.kids[i]), dir, &d->rules[i]);
		if (rc)
			return rc;
	}
	return 0;
}

static const char *const dir_keys[] = { "default", "rules", NULL };
static const struct keyset dir_ks[CG_DIR_MAX] = {
	[CG_DIR_EGRESS] = { "in 'egress'", dir_keys, NULL, NULL },
	[CG_DIR_INGRESS] = { "in 'ingress'", dir_keys, NULL, NULL },
};

static int parse_direction(struct pctx *c, const struct ynode *n, int dir,
			   struct cg_direction *d)
{
	fields_t key = { 0 }, val = { 0 };
	int rc;

	rc = need_map(c, n, dir == CG_DIR_EGRESS ? "'egress'" : "'ingress'", &dir_ks[dir], key,
		      val);
	if (!rc && val[0])
		rc = parse_u8_enum(c, val[0], "default", action_names, &d->default_action);
	if (!rc && val[1])
		rc = parse_rules(c, val[1], dir, d);
	return rc;
}

static int family_err(struct pctx *c, const struct ynode *n)
{
	char t[SHOW_MAX], list[320];
	const char *names[65];
	int af, k = 0;

	for (af = 0; af < 64; af++)
		if (cg_family_name(af))
			names[k++] = cg_family_name(af);
	names[k] = NULL;
	join(names, list, sizeof(list));
	return perr(c, n, "unknown address family '%s'; known: %s", show(n, t), list);
}

/* families.if_unavailable: what to do where no layer can enforce it. */
static const char *const unavail_names[] = { "refuse", "warn", NULL };

static int parse_families(struct pctx *c, const struct ynode *n, uint64_t *mask,
			  uint8_t *best_effort)
{
	static const char *const keys[] = { "deny", "if_unavailable", NULL };
	static const struct keyset ks = { "in 'families'", keys, NULL, NULL };
	fields_t key = { 0 }, val = { 0 };
	const struct ynode *it;
	uint32_t i;
	int rc, af;

	rc = need_map(c, n, "'families'", &ks, key, val);
	if (!rc && val[1])
		rc = parse_u8_enum(c, val[1], "families.if_unavailable",
				   unavail_names, best_effort);
	if (rc || !val[0])
		return rc;
	rc = need_type(c, val[0], YAML_SEQUENCE_NODE, "'families.deny'");
	if (rc)
		return rc;
	for (i = 0; i < val[0]->len; i++) {
		it = node_at(c, val[0]->u.kids[i]);
		if (it->type != YAML_SCALAR_NODE)
			return perr(c, it, "address families are names like packet, not %s",
				    kind(it));
		/* A NUL inside the scalar would make a prefix of it match a name. */
		af = memchr(it->u.s, '\0', it->len) ? -1 : cg_family_from_name(it->u.s);
		if (af < 0 || af >= 64)
			return family_err(c, it);
		*mask |= UINT64_C(1) << af;
	}
	return 0;
}

static int parse_bind(struct pctx *c, const struct ynode *n, struct cg_sockets *s)
{
	static const char *const keys[] = { "default", "allow", "deny", NULL };
	static const struct keyset ks = { "in 'bind'", keys, NULL, NULL };
	fields_t key = { 0 }, val = { 0 };
	int rc;

	rc = need_map(c, n, "'bind'", &ks, key, val);
	if (!rc && val[0])
		rc = parse_u8_enum(c, val[0], "bind default", action_names, &s->bind_default);
	if (!rc && val[1])
		rc = parse_ports(c, val[1], "bind.allow", &s->bind_allow, &s->nbind_allow);
	if (!rc && val[2])
		rc = parse_ports(c, val[2], "bind.deny", &s->bind_deny, &s->nbind_deny);
	return rc;
}

static int parse_sockets(struct pctx *c, const struct ynode *n, struct cg_sockets *s)
{
	static const char *const keys[] = { "raw", "families", "bind", NULL };
	static const struct keyset ks = { "in 'sockets'", keys, NULL, NULL };
	fields_t key = { 0 }, val = { 0 };
	uint8_t raw;
	int rc;

	rc = need_map(c, n, "'sockets'", &ks, key, val);
	if (rc)
		return rc;
	s->present = 1;
	if (val[0]) {
		rc = parse_u8_enum(c, val[0], "raw", action_names, &raw);
		if (rc)
			return rc;
		s->raw = (int8_t)raw;
	}
	if (val[1]) {
		rc = parse_families(c, val[1], &s->deny_families,
				    &s->families_best_effort);
		if (rc)
			return rc;
	}
	return val[2] ? parse_bind(c, val[2], s) : 0;
}

/* The name ends up in paths, map names and logs: keep it boring. */
static int parse_name(struct pctx *c, const struct ynode *n, char *out)
{
	char t[SHOW_MAX];
	uint32_t i;

	if (n->type != YAML_SCALAR_NODE)
		return perr(c, n, "'policy' must be a name, not %s", kind(n));
	if (!n->len)
		return perr(c, n, "policy name is empty");
	if (n->len >= CG_POLICY_NAME_MAX)
		return perr(c, n, "policy name is %u characters; the limit is %d", n->len,
			    CG_POLICY_NAME_MAX - 1);
	for (i = 0; i < n->len; i++)
		if (!n->u.s[i] ||
		    !strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-",
			    n->u.s[i]))
			return perr(c, n,
				    "invalid character in policy name '%s'; use A-Z a-z 0-9 _ . -",
				    show(n, t));
	memcpy(out, n->u.s, n->len);
	out[n->len] = '\0';
	return 0;
}

enum { TK_POLICY, TK_MODE, TK_VIOL, TK_EGRESS, TK_INGRESS, TK_SOCKETS };
static const char *const top_keys[] = {
	"policy", "mode", "on_violation", "egress", "ingress", "sockets", NULL,
};
static const struct keyset top_ks = { "at top level", top_keys, NULL, NULL };

static bool is_null(const struct ynode *n)
{
	return n->type == YAML_SCALAR_NODE && n->plain &&
	       (n->len == 0 || sc_is(n, "~") || sc_is(n, "null"));
}

static int parse_root(struct pctx *c, const struct ynode *root, struct cg_policy *p)
{
	fields_t key = { 0 }, val = { 0 };
	int rc;

	if (is_null(root))
		return perr(c, root, "empty policy");
	if (root->type != YAML_MAPPING_NODE)
		return perr(c, root, "a policy must be a mapping starting with 'policy: NAME', not %s",
			    kind(root));
	rc = collect(c, root, &top_ks, key, val);
	if (rc)
		return rc;
	if (!val[TK_POLICY])
		return perr(c, root, "missing required key 'policy' (the policy name)");
	rc = parse_name(c, val[TK_POLICY], p->name);
	if (!rc && val[TK_MODE])
		rc = parse_u8_enum(c, val[TK_MODE], "mode", mode_names, &p->mode);
	if (!rc && val[TK_VIOL])
		rc = parse_u8_enum(c, val[TK_VIOL], "on_violation", viol_names, &p->on_violation);
	if (!rc && val[TK_EGRESS])
		rc = parse_direction(c, val[TK_EGRESS], CG_DIR_EGRESS, &p->dir[CG_DIR_EGRESS]);
	if (!rc && val[TK_INGRESS])
		rc = parse_direction(c, val[TK_INGRESS], CG_DIR_INGRESS, &p->dir[CG_DIR_INGRESS]);
	if (!rc && val[TK_SOCKETS])
		rc = parse_sockets(c, val[TK_SOCKETS], &p->sockets);
	return rc;
}

static int build(struct pctx *c, struct cg_policy **out)
{
	struct cg_policy *p;
	int rc;

	if (!c->t->have_root)
		return perr_at(c, 0, 0, "empty policy");
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->sockets.raw = -1;
	memcpy(p->source, c->src, strnlen(c->src, sizeof(p->source) - 1));
	rc = parse_root(c, node_at(c, c->t->root), p);
	if (rc) {
		cg_policy_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

int cg_policy_parse_buf(const char *source, const char *buf, size_t len,
			struct cg_policy **out, char *err, size_t errlen)
{
	struct tree t = { 0 };
	struct pctx c = { source ? source : "<policy>", &t, err, errlen };
	struct cg_policy *p = NULL;
	int rc;

	if (!out || (!buf && len))
		return cg_policy_errf(err, errlen, -EINVAL, "%s: no policy text", c.src);
	if (len > CG_POLICY_FILE_MAX)
		return cg_policy_errf(err, errlen, -EINVAL, "%s: policy is %zu bytes; the limit is %u MiB",
			    c.src, len, CG_POLICY_FILE_MAX >> 20);
	rc = load_tree(&c, buf, len);
	if (!rc)
		rc = build(&c, &p);
	tree_free(&t);
	if (rc)
		return rc;
	if (err && errlen)
		err[0] = '\0';
	*out = p;
	return 0;
}

void cg_policy_free(struct cg_policy *p)
{
	size_t i;
	int d;

	if (!p)
		return;
	for (d = 0; d < CG_DIR_MAX; d++) {
		for (i = 0; i < p->dir[d].nrules; i++)
			free(p->dir[d].rules[i].ports);
		free(p->dir[d].rules);
	}
	free(p->sockets.bind_allow);
	free(p->sockets.bind_deny);
	free(p);
}
