// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Policy compiler.
 *
 * Semantics (design.md): among the rules that match address, protocol and
 * port, the longest prefix decides; on a tie deny wins; no match means the
 * direction's default.
 *
 * For every distinct prefix P of a direction and family we emit one LPM
 * entry.  An address whose longest matching entry is P is matched by
 * exactly the rules of P and of P's ancestors (the prefixes containing an
 * address form a chain), so the entry folds those rules, most specific
 * first, into one decision per protocol and port segment.  A /0 entry is
 * always present, so every lookup hits.
 *
 * Cost: nodes are visited in address order with a stack of the enclosing
 * prefixes' folded decisions; a node lays only its own rules over its
 * parent's fold (sort + union-find painting), so the whole compile is
 * O(rules log rules + output), however many ports share a prefix.
 * Entries with more than CG_MAX_RANGES ranges get a port table (an LPM
 * trie keyed by port prefixes), so a packet's cost stays flat too.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include "compile.h"
#include "../lib/bigalloc.h"

#define MAX_DEPTH	130	/* /0../128 chain plus the defaults */
#define NONE		SIZE_MAX
#define PREFETCH	8	/* nodes ahead */

struct node {
	const uint8_t *addr;
	uint8_t plen;
	size_t first, count;	/* slice of the sorted key array */
};

/* A rule's sort key, compact so the sort and the walk stay in cache. */
struct skey {
	uint8_t addr[16];
	uint8_t plen;
	uint32_t idx;		/* into the direction's rules */
};

struct decision {
	uint8_t action;
	uint16_t rule;
};

/* A port segment [lo, hi] of one protocol with its decision. */
struct pseg {
	uint32_t lo, hi;
	struct decision d;
};

/* Segments covering 0..65535 completely, sorted, coalesced. */
struct plist {
	struct pseg *s;
	size_t n;
	int owned;		/* else borrowed from an enclosing prefix */
};

/*
 * Everything an address whose longest matching prefix is this node gets:
 * one decision for protocols no rule names, one for ICMP, and a complete
 * segment list for TCP and for UDP.  A node's fold is its own rules laid
 * over its parent's fold, so each prefix costs its own rules plus what it
 * emits, never its ancestors' rules again.
 */
struct fold {
	struct decision other, icmp;
	struct plist pl[2];	/* [0] TCP, [1] UDP */
	struct pseg whole[2];	/* pl[k] when one decision covers all ports */
};

static const uint8_t fold_proto[2] = { CG_P_TCP, CG_P_UDP };

struct ctx {
	const struct cg_policy *p;
	const struct cg_rule *rules;	/* rules of this direction */
	int dir, family;
	struct decision dflt;
	struct fold stack[MAX_DEPTH + 1];	/* [0]: the defaults */
	struct pseg dflt_seg[2];
	/* scratch, reused from node to node */
	const struct cg_rule **own;
	uint32_t *pos;
	size_t *paint, *next;
	size_t cap_pos;
	char *err;
	size_t errlen;
};

/*
 * Sorts by (address, prefix length, file order): an LSD radix sort, a
 * stable byte pass from the least significant byte up, starting from file
 * order.  A pass whose byte is the same in every key is skipped, so IPv4
 * (12 zero bytes) or one prefix length costs nothing.  Linear, and no
 * comparison callback per pair as with qsort.
 */
static int sort_keys(struct skey *k, size_t n)
{
	struct skey *tmp, *src = k, *dst;
	size_t cnt[256], pass, i, sum;
	int b;

	if (n < 2)
		return 0;
	tmp = cg_big_alloc(n * sizeof(*tmp));
	if (!tmp)
		return -ENOMEM;
	dst = tmp;
	for (pass = 0; pass < 17; pass++) {	/* plen, then addr[15] .. addr[0] */
		b = pass ? 16 - (int)pass : -1;
		memset(cnt, 0, sizeof(cnt));
		for (i = 0; i < n; i++)
			cnt[b < 0 ? src[i].plen : src[i].addr[b]]++;
		if (cnt[b < 0 ? src[0].plen : src[0].addr[b]] == n)
			continue;
		for (i = 0, sum = 0; i < 256; i++) {
			size_t c = cnt[i];

			cnt[i] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			dst[cnt[b < 0 ? src[i].plen : src[i].addr[b]]++] = src[i];
		dst = src;
		src = src == k ? tmp : k;
	}
	if (src != k)
		memcpy(k, src, n * sizeof(*k));
	free(tmp);
	return 0;
}

/* Priority among rules of one prefix: deny first (a tie goes to deny),
 * then file order. */
static int cmp_prio(const void *a, const void *b)
{
	const struct cg_rule *x = *(const struct cg_rule *const *)a;
	const struct cg_rule *y = *(const struct cg_rule *const *)b;

	if (x->action != y->action)
		return (int)y->action - (int)x->action;
	return x < y ? -1 : x > y;
}

static int contains(const uint8_t *a, int alen, const uint8_t *b, int blen)
{
	int full = alen / 8, rem = alen % 8;

	if (alen > blen || memcmp(a, b, full))
		return 0;
	return !rem || !((a[full] ^ b[full]) & (0xff00 >> rem));
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int same(struct decision a, struct decision b)
{
	return a.action == b.action && a.rule == b.rule;
}

static struct decision rule_decision(const struct ctx *c,
				     const struct cg_rule *r)
{
	return (struct decision){ r->action,
		cg_rule_counter(c->p, c->dir, r - c->rules) };
}

static void plist_free(struct plist *l)
{
	if (l->owned)
		free(l->s);
	*l = (struct plist){ 0 };
}

/* Appends [lo, hi] -> d, merging with the last segment when equal. */
static int plist_push(struct plist *l, size_t *cap, uint32_t lo, uint32_t hi,
		      struct decision d)
{
	struct pseg *last = l->n ? &l->s[l->n - 1] : NULL;

	if (last && same(last->d, d) && last->hi + 1 == lo) {
		last->hi = hi;
		return 0;
	}
	if (l->n == *cap) {
		struct pseg *t = realloc(l->s, (*cap = *cap ? *cap * 2 : 8) *
					 sizeof(*t));
		if (!t)
			return -ENOMEM;
		l->s = t;
	}
	l->s[l->n++] = (struct pseg){ lo, hi, d };
	return 0;
}

/* Copies the parent's decisions for [lo, hi]. */
static int push_parent(struct plist *out, size_t *cap, const struct plist *par,
		       uint32_t lo, uint32_t hi)
{
	size_t a = 0, b = par->n;
	int err = 0;

	while (a < b) {		/* first segment ending at or after lo */
		size_t m = a + (b - a) / 2;

		if (par->s[m].hi < lo)
			a = m + 1;
		else
			b = m;
	}
	for (; a < par->n && par->s[a].lo <= hi && !err; a++)
		err = plist_push(out, cap, par->s[a].lo > lo ? par->s[a].lo : lo,
				 par->s[a].hi < hi ? par->s[a].hi : hi,
				 par->s[a].d);
	return err;
}

/* Union-find "next unpainted elementary segment at or after i". */
static size_t next_free(size_t *next, size_t i)
{
	size_t r = i;

	while (next[r] != r)
		r = next[r];
	while (next[i] != r) {
		size_t t = next[i];

		next[i] = r;
		i = t;
	}
	return r;
}

static size_t pos_index(const uint32_t *pos, size_t n, uint32_t v)
{
	size_t a = 0, b = n;

	while (a < b) {
		size_t m = a + (b - a) / 2;

		if (pos[m] < v)
			a = m + 1;
		else
			b = m;
	}
	return a;
}

static int grow_scratch(struct ctx *c, size_t npos)
{
	void *a, *b, *d;

	if (npos <= c->cap_pos)
		return 0;
	a = realloc(c->pos, npos * sizeof(*c->pos));
	if (a)
		c->pos = a;
	b = realloc(c->paint, npos * sizeof(*c->paint));
	if (b)
		c->paint = b;
	d = realloc(c->next, npos * sizeof(*c->next));
	if (d)
		c->next = d;
	if (!a || !b || !d)
		return -ENOMEM;
	c->cap_pos = npos;
	return 0;
}

static int rule_has(const struct cg_rule *r, uint8_t proto)
{
	return r->proto == CG_PROTO_ANY || r->proto == proto;
}

/*
 * The node's segment list for @proto: its own rules (@own, in priority
 * order) painted over the elementary segments their ranges cut 0..65535
 * into, highest priority first, each elementary segment painted once;
 * what no own rule paints keeps the parent's decisions.
 * O(k log k + output) for k own ranges.
 */
static int overlay_ports(struct ctx *c, size_t nown, uint8_t proto,
			 const struct plist *par, struct plist *out,
			 struct pseg *whole)
{
	size_t npos = 0, i, j, cap = 0, e;
	int err = 0;

	*out = (struct plist){ 0 };
	for (i = 0; i < nown && !rule_has(c->own[i], proto); i++)
		;
	if (i < nown && !c->own[i]->nports) {
		/* The first rule for @proto has no ports, so it paints every
		 * port: one segment, kept in the fold (no allocation; the
		 * common case of address-only rules). */
		*whole = (struct pseg){ 0, 65535, rule_decision(c, c->own[i]) };
		*out = (struct plist){ whole, 1, 0 };
		return 0;
	}
	for (i = 0; i < nown; i++)
		if (rule_has(c->own[i], proto))
			npos += 2 * (c->own[i]->nports ? c->own[i]->nports : 1);
	if (!npos) {		/* nothing of ours: the parent's, shared */
		*out = *par;
		out->owned = 0;
		return 0;
	}
	if (grow_scratch(c, npos + 2))
		return -ENOMEM;
	npos = 0;
	c->pos[npos++] = 0;
	c->pos[npos++] = 65536;
	for (i = 0; i < nown; i++) {
		const struct cg_rule *r = c->own[i];

		if (!rule_has(r, proto))
			continue;
		if (!r->nports) {
			c->pos[npos++] = 0;
			c->pos[npos++] = 65536;
		}
		for (j = 0; j < r->nports; j++) {
			c->pos[npos++] = r->ports[j].lo;
			c->pos[npos++] = r->ports[j].hi + 1u;
		}
	}
	qsort(c->pos, npos, sizeof(*c->pos), cmp_u32);
	for (i = j = 0; i < npos; i++)	/* unique */
		if (!j || c->pos[j - 1] != c->pos[i])
			c->pos[j++] = c->pos[i];
	npos = j;	/* elementary segments: [pos[i], pos[i+1]) */
	for (i = 0; i < npos; i++) {
		c->paint[i] = NONE;
		c->next[i] = i;
	}
	for (i = 0; i < nown; i++) {
		const struct cg_rule *r = c->own[i];
		size_t nr = r->nports ? r->nports : 1;

		for (j = 0; rule_has(r, proto) && j < nr; j++) {
			uint32_t lo = r->nports ? r->ports[j].lo : 0;
			uint32_t hi = r->nports ? r->ports[j].hi + 1u : 65536;
			size_t end = pos_index(c->pos, npos, hi);

			for (e = next_free(c->next, pos_index(c->pos, npos, lo));
			     e < end; e = next_free(c->next, e)) {
				c->paint[e] = i;
				c->next[e] = e + 1;
			}
		}
	}
	out->owned = 1;
	for (i = 0; i + 1 < npos && !err; i++) {
		uint32_t lo = c->pos[i], hi = c->pos[i + 1] - 1;

		if (c->paint[i] != NONE)
			err = plist_push(out, &cap, lo, hi,
					 rule_decision(c, c->own[c->paint[i]]));
		else
			err = push_parent(out, &cap, par, lo, hi);
	}
	if (err)
		plist_free(out);
	return err;
}

/* The first own rule (priority order) matching @proto without ports. */
static struct decision overlay_simple(const struct ctx *c, size_t nown,
				      uint8_t proto, struct decision par)
{
	size_t i;

	for (i = 0; i < nown; i++)
		if (rule_has(c->own[i], proto) && !c->own[i]->nports)
			return rule_decision(c, c->own[i]);
	return par;
}

static int fold_node(struct ctx *c, const struct node *nd,
		     const struct skey *keys, const struct fold *par,
		     struct fold *f)
{
	size_t i;
	int k, err = 0;

	for (i = 0; i < nd->count; i++)
		c->own[i] = &c->rules[keys[nd->first + i].idx];
	if (nd->count > 1)
		qsort(c->own, nd->count, sizeof(*c->own), cmp_prio);
	/* "other" protocols are matched only by proto-any rules */
	f->other = overlay_simple(c, nd->count, 0xff, par->other);
	f->icmp = overlay_simple(c, nd->count, CG_PROTO_ICMP, par->icmp);
	for (k = 0; k < 2 && !err; k++)
		err = overlay_ports(c, nd->count, fold_proto[k], &par->pl[k],
				    &f->pl[k], &f->whole[k]);
	if (err)
		plist_free(&f->pl[0]);
	return err;
}

/* Number of prefixes a port range splits into (as cg_slot_write does). */
static size_t range_prefixes(uint32_t lo, uint32_t hi)
{
	size_t n = 0;

	while (lo <= hi) {
		uint32_t size = lo ? (lo & -lo) : 65536;

		while (lo + size - 1 > hi)
			size >>= 1;
		lo += size;
		n++;
	}
	return n;
}

static int push_seg(struct cg_compiled *out, size_t *cap, uint32_t table,
		    uint8_t proto, uint32_t lo, uint32_t hi, struct decision d)
{
	if (out->nseg == *cap) {
		struct cg_port_seg *t = realloc(out->seg, (*cap = *cap ?
			*cap * 2 : 64) * sizeof(*t));
		if (!t)
			return -ENOMEM;
		out->seg = t;
	}
	out->seg[out->nseg++] = (struct cg_port_seg){ table, lo, hi, proto,
		d.action, d.rule };
	out->nport_keys += range_prefixes(lo, hi);
	return 0;
}

/* The ranges differing from the fallback; inline if they fit, else a
 * port table of their own. */
static int emit_ranges(const struct fold *f,
		       struct cg_compiled *out, size_t *segcap,
		       struct cg_lpm_val *v)
{
	struct decision fb = f->other;
	size_t n = 0, i, k;
	int err = 0;

	if (!same(f->icmp, fb))
		n++;
	for (k = 0; k < 2; k++)
		for (i = 0; i < f->pl[k].n; i++)
			n += !same(f->pl[k].s[i].d, fb);
	v->action = fb.action;
	v->rule = fb.rule;
	if (n <= CG_MAX_RANGES) {
		if (!same(f->icmp, fb))
			v->r[v->nranges++] = (struct cg_range){ 0, 65535,
				CG_P_ICMP, f->icmp.action, f->icmp.rule };
		for (k = 0; k < 2; k++)
			for (i = 0; i < f->pl[k].n; i++) {
				const struct pseg *s = &f->pl[k].s[i];

				if (!same(s->d, fb))
					v->r[v->nranges++] = (struct cg_range){
						s->lo, s->hi, fold_proto[k],
						s->d.action, s->d.rule };
			}
		return 0;
	}
	if (out->ntables >= (1u << CG_TABLE_SLOT_SHIFT))
		return -E2BIG;
	v->nranges = CG_RANGES_IN_TABLE;
	v->table = out->ntables++;
	/* protocol order 1 < 6 < 17 keeps out->seg sorted */
	if (!same(f->icmp, fb))
		err = push_seg(out, segcap, v->table, CG_P_ICMP, 0, 65535,
			       f->icmp);
	for (k = 0; k < 2 && !err; k++)
		for (i = 0; i < f->pl[k].n && !err; i++)
			if (!same(f->pl[k].s[i].d, fb))
				err = push_seg(out, segcap, v->table,
					       fold_proto[k], f->pl[k].s[i].lo,
					       f->pl[k].s[i].hi, f->pl[k].s[i].d);
	if (!err && out->nport_keys > CG_PORT_MAX_ENTRIES)
		err = -E2BIG;
	return err;
}

static int emit(struct ctx *c, const struct node *nd, const struct fold *f,
		struct cg_compiled *out, size_t *segcap)
{
	struct cg_entry *e = &out->e[out->n];
	char a[INET6_ADDRSTRLEN];
	int err;

	memset(e, 0, sizeof(*e));
	e->key.prefixlen = CG_LPM_HDR_BITS + nd->plen;
	e->key.dir = c->dir;
	e->key.family = c->family == AF_INET ? CG_FAM_V4 : CG_FAM_V6;
	memcpy(e->key.addr, nd->addr, c->family == AF_INET ? 4 : 16);
	if (c->p->mode == CG_MODE_AUDIT)
		e->val.flags |= CG_F_AUDIT;
	if (c->dflt.action == CG_ACT_DENY)
		e->val.flags |= CG_F_DEFAULT_DENY;
	err = emit_ranges(f, out, segcap, &e->val);
	if (err == -E2BIG) {
		inet_ntop(c->family, nd->addr, a, sizeof(a));
		snprintf(c->err, c->errlen, "%s: %s/%u (%s): the port tables "
			 "need more than %u entries (port ranges of distinct "
			 "verdicts, after folding in the enclosing prefixes' "
			 "rules, split into prefixes)", c->p->source, a,
			 nd->plen, c->dir ? "ingress" : "egress",
			 CG_PORT_MAX_ENTRIES);
		return -EINVAL;
	}
	if (!err)
		out->n++;
	return err;
}

static void build_nodes(const struct skey *keys, size_t n, struct node *nodes,
			size_t *nn)
{
	static const uint8_t zero[16];
	size_t i;

	*nn = 0;
	/* The sort puts a /0 rule first if there is one; else add one. */
	if (!n || keys[0].plen != 0 || memcmp(keys[0].addr, zero, 16))
		nodes[(*nn)++] = (struct node){ zero, 0, 0, 0 };
	for (i = 0; i < n; i++) {
		const struct skey *k = &keys[i];
		struct node *last = *nn ? &nodes[*nn - 1] : NULL;

		if (last && last->plen == k->plen &&
		    !memcmp(last->addr, k->addr, 16)) {
			last->count++;
			continue;
		}
		nodes[(*nn)++] = (struct node){ k->addr, k->plen, i, 1 };
	}
}

static void pop_to(struct ctx *c, int *depth, int to)
{
	while (*depth > to) {
		plist_free(&c->stack[*depth].pl[0]);
		plist_free(&c->stack[*depth].pl[1]);
		(*depth)--;
	}
}

/* Level 0 of the stack: the direction's default for everything. */
static void default_fold(struct ctx *c)
{
	int k;

	c->stack[0].other = c->stack[0].icmp = c->dflt;
	for (k = 0; k < 2; k++) {
		c->dflt_seg[k] = (struct pseg){ 0, 65535, c->dflt };
		c->stack[0].pl[k] = (struct plist){ &c->dflt_seg[k], 1, 0 };
	}
}

static int compile_family(struct ctx *c, struct cg_compiled *out,
			  size_t *segcap)
{
	const struct cg_direction *d = &c->p->dir[c->dir];
	struct node *nodes = NULL, *chain[MAX_DEPTH + 1];
	struct skey *keys;
	size_t n = 0, nn, i;
	int depth = 0, err = -ENOMEM;

	keys = cg_big_alloc((d->nrules + 1) * sizeof(*keys));
	nodes = cg_big_alloc((d->nrules + 1) * sizeof(*nodes));
	c->own = cg_big_alloc((d->nrules + 1) * sizeof(*c->own));
	if (!keys || !nodes || !c->own)
		goto out;
	for (i = 0; i < d->nrules; i++) {
		const struct cg_rule *r = &d->rules[i];

		if (r->family != c->family)
			continue;
		memcpy(keys[n].addr, r->addr, 16);
		keys[n].plen = r->prefixlen;
		keys[n++].idx = (uint32_t)i;
	}
	if (sort_keys(keys, n))
		goto out;
	build_nodes(keys, n, nodes, &nn);
	default_fold(c);
	/* Nodes come in address order, each after the prefixes containing
	 * it: a stack of folds follows the chain of enclosing prefixes. */
	for (i = 0, err = 0; i < nn && !err; i++) {
		/* Rules are read in address order, not file order: a cache
		 * miss each, unless asked for a few nodes ahead. */
		if (i + PREFETCH < nn && nodes[i + PREFETCH].count)
			__builtin_prefetch(&d->rules[keys[nodes[i + PREFETCH].first].idx]);
		while (depth && !contains(chain[depth]->addr, chain[depth]->plen,
					  nodes[i].addr, nodes[i].plen))
			pop_to(c, &depth, depth - 1);
		chain[depth + 1] = &nodes[i];
		err = fold_node(c, &nodes[i], keys, &c->stack[depth],
				&c->stack[depth + 1]);
		if (err)
			break;
		depth++;
		err = emit(c, &nodes[i], &c->stack[depth], out, segcap);
	}
out:
	pop_to(c, &depth, 0);
	free(keys);
	free(nodes);
	free(c->own);
	c->own = NULL;
	return err;
}

#define FNV_PRIME	0x100000001b3ULL

/* FNV_PRIME^k mod 2^64 */
static uint64_t fnv_pow(size_t k)
{
	uint64_t r = 1, b = FNV_PRIME;

	for (; k; k >>= 1, b *= b)
		if (k & 1)
			r *= b;
	return r;
}

/*
 * FNV-1a, byte by byte.  A zero byte only multiplies by the prime, so a run
 * of k zero bytes is one multiplication by prime^k: the same value, and the
 * compiled entries (mostly unused range slots and IPv4's empty address
 * tail) hash several times faster.  Slot metadata records these values, so
 * they must not change.
 */
uint64_t cg_hash_mix(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t zeros = 0, i;
	uint64_t w;

	while (n >= 8) {
		memcpy(&w, b, 8);
		if (w) {
			if (zeros)
				h *= fnv_pow(zeros);
			zeros = 0;
			for (i = 0; i < 8; i++)
				h = (h ^ b[i]) * FNV_PRIME;
		} else {
			zeros += 8;
		}
		b += 8;
		n -= 8;
	}
	if (zeros)
		h *= fnv_pow(zeros);
	while (n--)
		h = (h ^ *b++) * FNV_PRIME;
	return h;
}

int cg_policy_compile(const struct cg_policy *p, struct cg_compiled *out,
		      char *err, size_t errlen)
{
	static const int fams[] = { AF_INET, AF_INET6 };
	struct ctx *c;
	size_t cap = 4, i, segcap = 0;
	int dir, f, ret = 0;

	memset(out, 0, sizeof(*out));
	for (dir = 0; dir < CG_DIR_MAX; dir++)
		cap += p->dir[dir].nrules;
	c = calloc(1, sizeof(*c));
	/* 100k rules: 13 MB; emit() clears each entry it fills */
	out->e = cg_big_alloc(cap * sizeof(*out->e));
	if (!c || !out->e) {
		free(c);
		cg_compiled_free(out);
		return -ENOMEM;
	}
	c->p = p;
	c->err = err;
	c->errlen = errlen;
	for (dir = 0; dir < CG_DIR_MAX && !ret; dir++) {
		c->dir = dir;
		c->rules = p->dir[dir].rules;
		c->dflt = (struct decision){ p->dir[dir].default_action,
			dir ? CG_RULE_DEFAULT_INGRESS : CG_RULE_DEFAULT_EGRESS };
		out->nrules[dir] = p->dir[dir].nrules;
		for (f = 0; f < 2 && !ret; f++) {
			c->family = fams[f];
			ret = compile_family(c, out, &segcap);
		}
	}
	free(c->pos);
	free(c->paint);
	free(c->next);
	free(c);
	if (ret) {
		cg_compiled_free(out);
		return ret;
	}
	out->mode = p->mode;
	out->hash = cg_hash_mix(0xcbf29ce484222325ULL, p->name, strlen(p->name));
	out->hash = cg_hash_mix(out->hash, &out->mode, 1);
	for (i = 0; i < out->n; i++)
		out->hash = cg_hash_mix(out->hash, &out->e[i], sizeof(out->e[i]));
	for (i = 0; i < out->nseg; i++)
		out->hash = cg_hash_mix(out->hash, &out->seg[i],
					sizeof(out->seg[i]));
	return 0;
}

void cg_compiled_free(struct cg_compiled *c)
{
	free(c->e);
	free(c->seg);
	c->e = NULL;
	c->seg = NULL;
	c->n = c->nseg = c->ntables = c->nport_keys = 0;
}

uint16_t cg_rule_counter(const struct cg_policy *p, int dir, size_t idx)
{
	size_t base = CG_RULE_FIRST + idx +
		      (dir == CG_DIR_INGRESS ? p->dir[CG_DIR_EGRESS].nrules : 0);

	return base < CG_RULE_OVERFLOW ? base : CG_RULE_OVERFLOW;
}

int cg_counter_rule(const struct cg_policy *p, uint16_t ctr, int *dir,
		    size_t *idx)
{
	size_t neg = p->dir[CG_DIR_EGRESS].nrules;
	size_t nin = p->dir[CG_DIR_INGRESS].nrules;

	if (ctr == CG_RULE_DEFAULT_EGRESS || ctr == CG_RULE_DEFAULT_INGRESS) {
		*dir = ctr == CG_RULE_DEFAULT_EGRESS ? CG_DIR_EGRESS :
						       CG_DIR_INGRESS;
		return 1;
	}
	if (ctr == CG_RULE_OVERFLOW)
		return 2;
	if (ctr < CG_RULE_FIRST || (size_t)(ctr - CG_RULE_FIRST) >= neg + nin)
		return -ENOENT;
	ctr -= CG_RULE_FIRST;
	*dir = ctr < neg ? CG_DIR_EGRESS : CG_DIR_INGRESS;
	*idx = ctr < neg ? ctr : ctr - neg;
	return 0;
}

static int add_bind(struct cg_sockcfg *c, const struct cg_port_range *r,
		    uint32_t n, uint8_t action)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		if (c->nbind >= CG_MAX_BIND_RANGES)
			return -E2BIG;
		c->bind[c->nbind++] = (struct cg_bind_range){ r[i].lo, r[i].hi,
			action, { 0 } };
	}
	return 0;
}

int cg_sockcfg_compile(const struct cg_policy *p, struct cg_sockcfg *c,
		       char *err, size_t errlen)
{
	const struct cg_sockets *s = &p->sockets;

	memset(c, 0, sizeof(*c));
	c->raw_action = s->raw == CG_ACT_DENY ? CG_ACT_DENY_V : CG_ACT_ALLOW_V;
	c->bind_default = s->bind_default;
	c->deny_families = s->deny_families;
	if (p->mode == CG_MODE_AUDIT)
		c->flags |= CG_SF_AUDIT;
	if (p->on_violation == CG_VIOL_KILL)
		c->flags |= CG_SF_KILL;
	if (s->deny_families)
		c->flags |= CG_SF_FAMILIES;
	/* Deny ranges first: first match wins, so on overlap deny wins. */
	if (add_bind(c, s->bind_deny, s->nbind_deny, CG_ACT_DENY_V) ||
	    add_bind(c, s->bind_allow, s->nbind_allow, CG_ACT_ALLOW_V)) {
		snprintf(err, errlen, "%s: sockets.bind: more than %d port "
			 "ranges in allow and deny together", p->source,
			 CG_MAX_BIND_RANGES);
		return -EINVAL;
	}
	return 0;
}

unsigned cg_policy_wants(const struct cg_policy *p)
{
	unsigned w = 0;

	if (p->sockets.present)
		w |= CG_WANT_SOCKETS;
	/* Only the LSM layer sees non-inet families and can kill. */
	if ((p->sockets.deny_families & ~((1ULL << AF_INET) |
					  (1ULL << AF_INET6))) ||
	    p->on_violation == CG_VIOL_KILL)
		w |= CG_WANT_LSM;
	/* ...and unless the policy says it may do without, it needs it. */
	if ((w & CG_WANT_LSM) && (p->on_violation == CG_VIOL_KILL ||
				  !p->sockets.families_best_effort))
		w |= CG_NEED_LSM;
	return w;
}

int cg_policy_compile_all(const struct cg_policy *p, struct cg_compiled *c,
			  struct cg_sockcfg *sc, char *err, size_t errlen)
{
	int ret = cg_policy_compile(p, c, err, errlen);

	if (ret)
		return ret;
	ret = cg_sockcfg_compile(p, sc, err, errlen);
	if (ret) {
		cg_compiled_free(c);
		return ret;
	}
	/* Slots are shared by hash: the socket config is part of it. */
	c->hash = cg_hash_mix(c->hash, sc, sizeof(*sc));
	c->hash = cg_hash_mix(c->hash, &p->events, sizeof(p->events));
	return 0;
}

int cg_policy_hash(const struct cg_policy *p, uint64_t *hash, char *err,
		   size_t errlen)
{
	struct cg_compiled c;
	struct cg_sockcfg sc;
	int ret = cg_policy_compile_all(p, &c, &sc, err, errlen);

	if (!ret)
		*hash = c.hash;
	cg_compiled_free(&c);
	return ret;
}
