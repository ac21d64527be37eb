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
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include "compile.h"
#include "../lib/bigalloc.h"

#define PROTO_OTHER	255	/* any protocol no rule names explicitly */
#define MAX_DEPTH	130	/* /0../128 chain plus slack */

struct node {
	const uint8_t *addr;
	uint8_t plen;
	size_t first, count;	/* slice of the sorted rule index array */
};

struct decision {
	uint8_t action;
	uint16_t rule;
};

struct seg {
	uint32_t lo, hi;
	uint8_t proto;
	struct decision d;
};

struct ctx {
	const struct cg_policy *p;
	const struct cg_rule *rules;	/* rules of this direction */
	int dir, family;
	const struct cg_rule *cand[4096];
	size_t ncand;
	struct decision dflt;
	char *err;
	size_t errlen;
};

static const struct cg_rule *g_sort_rules;	/* qsort has no context arg */

static int cmp_rule_idx(const void *a, const void *b)
{
	const struct cg_rule *x = &g_sort_rules[*(const size_t *)a];
	const struct cg_rule *y = &g_sort_rules[*(const size_t *)b];
	int c = memcmp(x->addr, y->addr, 16);

	if (c)
		return c;
	if (x->prefixlen != y->prefixlen)
		return (int)x->prefixlen - (int)y->prefixlen;
	/* deny first, so on a tie the first match is the deny */
	return (int)y->action - (int)x->action;
}

static int contains(const uint8_t *a, int alen, const uint8_t *b, int blen)
{
	int full = alen / 8, rem = alen % 8;

	if (alen > blen || memcmp(a, b, full))
		return 0;
	return !rem || !((a[full] ^ b[full]) & (0xff00 >> rem));
}

static int port_match(const struct cg_rule *r, uint32_t port)
{
	uint32_t i;

	if (!r->nports)
		return 1;
	for (i = 0; i < r->nports; i++)
		if (port >= r->ports[i].lo && port <= r->ports[i].hi)
			return 1;
	return 0;
}

/* The first candidate matching (proto, port) decides; else the default. */
static struct decision decide(const struct ctx *c, uint8_t proto,
			      uint32_t port)
{
	size_t i;

	for (i = 0; i < c->ncand; i++) {
		const struct cg_rule *r = c->cand[i];

		if (r->proto != CG_PROTO_ANY && r->proto != proto)
			continue;
		if (!port_match(r, port))
			continue;
		return (struct decision){ r->action,
			cg_rule_counter(c->p, c->dir, r - c->rules) };
	}
	return c->dflt;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int same(struct decision a, struct decision b, int by_action)
{
	return a.action == b.action && (by_action || a.rule == b.rule);
}

/* Appends segments of @proto whose decision differs from @fb. */
static int port_segments(const struct ctx *c, uint8_t proto,
			 struct decision fb, int by_action, struct seg *out,
			 size_t *n, size_t max)
{
	size_t nb = 0, cap = 2, i, j, k;
	uint32_t *b;
	int err = 0;

	for (i = 0; i < c->ncand; i++)
		if (c->cand[i]->proto == proto)
			cap += 2 * c->cand[i]->nports;
	b = malloc(cap * sizeof(*b));
	if (!b)
		return -ENOMEM;
	b[nb++] = 0;
	for (i = 0; i < c->ncand; i++) {
		const struct cg_rule *r = c->cand[i];

		for (j = 0; r->proto == proto && j < r->nports; j++) {
			b[nb++] = r->ports[j].lo;
			b[nb++] = r->ports[j].hi + 1u;
		}
	}
	b[nb++] = 65536;
	qsort(b, nb, sizeof(b[0]), cmp_u32);
	for (i = 0; i + 1 < nb && !err; i = k) {
		struct decision d;

		if (b[i] == b[i + 1]) {
			k = i + 1;
			continue;
		}
		/* segment [b[i], b[k]-1]: extend while the decision holds */
		d = decide(c, proto, b[i]);
		for (k = i + 1; k + 1 < nb &&
		     same(decide(c, proto, b[k]), d, by_action); k++)
			;
		if (same(d, fb, by_action))
			continue;
		if (*n >= max)
			err = -E2BIG;
		else
			out[(*n)++] = (struct seg){ b[i], b[k] - 1, proto, d };
	}
	free(b);
	return err;
}

static int fold(const struct ctx *c, struct cg_lpm_val *v, int by_action)
{
	struct seg segs[CG_MAX_RANGES];
	struct decision fb = decide(c, PROTO_OTHER, 0);
	struct decision icmp = decide(c, CG_PROTO_ICMP, 0);
	size_t n = 0, i;
	int err;

	if (!same(icmp, fb, by_action))
		segs[n++] = (struct seg){ 0, 65535, CG_P_ICMP, icmp };
	err = port_segments(c, CG_PROTO_TCP, fb, by_action, segs, &n,
			    CG_MAX_RANGES);
	if (!err)
		err = port_segments(c, CG_PROTO_UDP, fb, by_action, segs, &n,
				    CG_MAX_RANGES);
	if (err)
		return err;
	v->action = fb.action;
	v->rule = fb.rule;
	v->nranges = n;
	for (i = 0; i < n; i++)
		v->r[i] = (struct cg_range){ segs[i].lo, segs[i].hi,
			segs[i].proto, segs[i].d.action, segs[i].d.rule };
	return 0;
}

static int emit(struct ctx *c, const struct node *nd, struct cg_compiled *out)
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
	err = fold(c, &e->val, 0);
	if (err == -E2BIG)	/* keep verdicts, lose per-rule attribution */
		err = fold(c, &e->val, 1);
	if (err == -E2BIG) {
		inet_ntop(c->family, nd->addr, a, sizeof(a));
		snprintf(c->err, c->errlen, "%s: %s/%u (%s): more than %d "
			 "port ranges with distinct verdicts after folding in "
			 "the enclosing prefixes' rules", c->p->source, a,
			 nd->plen, c->dir ? "ingress" : "egress",
			 CG_MAX_RANGES);
		return -EINVAL;
	}
	out->n++;
	return err;
}

/* Candidate list for a chain of nodes: deepest first, deny first. */
static int set_cand(struct ctx *c, struct node **chain, int depth,
		    const size_t *idx)
{
	int d;
	size_t i;

	c->ncand = 0;
	for (d = depth - 1; d >= 0; d--) {
		for (i = 0; i < chain[d]->count; i++) {
			if (c->ncand == sizeof(c->cand) / sizeof(c->cand[0])) {
				snprintf(c->err, c->errlen, "%s: more than %zu "
					 "rules cover one prefix",
					 c->p->source, c->ncand);
				return -EINVAL;
			}
			c->cand[c->ncand++] = &c->rules[idx[chain[d]->first + i]];
		}
	}
	return 0;
}

static int build_nodes(const struct cg_rule *rules, const size_t *idx,
		       size_t n, struct node *nodes, size_t *nn)
{
	static const uint8_t zero[16];
	size_t i;

	*nn = 0;
	/* The sort puts a /0 rule first if there is one; else add one. */
	if (!n || rules[idx[0]].prefixlen != 0 ||
	    memcmp(rules[idx[0]].addr, zero, 16))
		nodes[(*nn)++] = (struct node){ zero, 0, 0, 0 };
	for (i = 0; i < n; i++) {
		const struct cg_rule *r = &rules[idx[i]];
		struct node *last = *nn ? &nodes[*nn - 1] : NULL;

		if (last && last->plen == r->prefixlen &&
		    !memcmp(last->addr, r->addr, 16)) {
			last->count++;
			continue;
		}
		nodes[(*nn)++] = (struct node){ r->addr, r->prefixlen, i, 1 };
	}
	return 0;
}

static int compile_family(struct ctx *c, struct cg_compiled *out)
{
	const struct cg_direction *d = &c->p->dir[c->dir];
	struct node **chain = NULL, *nodes = NULL;
	size_t *idx, n = 0, nn, i;
	int depth = 0, err = -ENOMEM;

	idx = malloc((d->nrules + 1) * sizeof(*idx));
	nodes = malloc((d->nrules + 1) * sizeof(*nodes));
	chain = malloc(MAX_DEPTH * sizeof(*chain));
	if (!idx || !nodes || !chain)
		goto out;
	for (i = 0; i < d->nrules; i++)
		if (d->rules[i].family == c->family)
			idx[n++] = i;
	g_sort_rules = d->rules;
	qsort(idx, n, sizeof(*idx), cmp_rule_idx);
	build_nodes(d->rules, idx, n, nodes, &nn);
	for (i = 0; i < nn; i++) {
		while (depth && !contains(chain[depth - 1]->addr,
					  chain[depth - 1]->plen,
					  nodes[i].addr, nodes[i].plen))
			depth--;
		chain[depth++] = &nodes[i];
		err = set_cand(c, chain, depth, idx);
		if (!err)
			err = emit(c, &nodes[i], out);
		if (err)
			goto out;
	}
	err = 0;
out:
	free(idx);
	free(nodes);
	free(chain);
	return err;
}

uint64_t cg_hash_mix(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--)
		h = (h ^ *b++) * 0x100000001b3ULL;
	return h;
}

int cg_policy_compile(const struct cg_policy *p, struct cg_compiled *out,
		      char *err, size_t errlen)
{
	static const int fams[] = { AF_INET, AF_INET6 };
	struct ctx *c;
	size_t cap = 4, i;
	int dir, f, ret = 0;

	memset(out, 0, sizeof(*out));
	for (dir = 0; dir < CG_DIR_MAX; dir++)
		cap += p->dir[dir].nrules;
	c = calloc(1, sizeof(*c));
	out->e = calloc(cap, sizeof(*out->e));
	cg_thp_advise(out->e, cap * sizeof(*out->e));	/* 100k rules: 13 MB */
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
			ret = compile_family(c, out);
		}
	}
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
