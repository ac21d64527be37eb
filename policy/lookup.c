// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * User-space twin of the packet layer's decision (bpf/verdict.bpf.h): the
 * same steps over the same compiled table, so what `explain` and
 * `--kill-denied` say is what the kernel does.  See lookup.h.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include "lookup.h"

static const uint8_t v4mapped[12] = { [10] = 0xff, [11] = 0xff };

/* Orders entries as the compiler emits them: dir, family, addr, plen. */
static int key_cmp(const struct cg_lpm_key *k, int dir, int fam,
		   const uint8_t *addr, unsigned plen)
{
	int c;

	if (k->dir != dir)
		return k->dir < dir ? -1 : 1;
	if (k->family != fam)
		return k->family < fam ? -1 : 1;
	c = memcmp(k->addr, addr, 16);
	if (c)
		return c;
	if (k->prefixlen != plen + CG_LPM_HDR_BITS)
		return k->prefixlen < plen + CG_LPM_HDR_BITS ? -1 : 1;
	return 0;
}

static const struct cg_entry *find_exact(const struct cg_compiled *c, int dir,
					 int fam, const uint8_t *addr,
					 unsigned plen)
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = key_cmp(&c->e[mid].key, dir, fam, addr, plen);

		if (!r)
			return &c->e[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void mask_to(uint8_t *out, const uint8_t *addr, unsigned plen)
{
	unsigned full = plen / 8, rem = plen % 8;

	memset(out, 0, 16);
	memcpy(out, addr, full);
	if (rem)
		out[full] = addr[full] & (uint8_t)(0xff00 >> rem);
}

/* What the LPM trie returns: the longest entry containing @addr. */
static const struct cg_entry *lpm(const struct cg_compiled *c, int dir,
				  int fam, const uint8_t *addr)
{
	unsigned plen = fam == CG_FAM_V4 ? 32 : 128;
	uint8_t m[16];

	for (;; plen--) {
		const struct cg_entry *e;

		mask_to(m, addr, plen);
		e = find_exact(c, dir, fam, m, plen);
		if (e || !plen)
			return e;
	}
}

/* The port table's segment holding (proto, port), if any. */
static const struct cg_port_seg *find_seg(const struct cg_compiled *c,
					  uint32_t table, uint8_t proto,
					  uint16_t port)
{
	size_t lo = 0, hi = c->nseg;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct cg_port_seg *s = &c->seg[mid];

		if (s->table == table && s->proto == proto &&
		    port >= s->lo && port <= s->hi)
			return s;
		if (s->table < table || (s->table == table &&
		    (s->proto < proto || (s->proto == proto && s->hi < port))))
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The entry's ranges, as judge() in verdict.bpf.h scans them. */
static void judge(const struct cg_compiled *c, const struct cg_lpm_val *val,
		  uint8_t proto, uint16_t port, struct cg_verdict *v)
{
	const struct cg_port_seg *s;
	int i;

	v->action = val->action;
	v->counter = val->rule;
	if (val->nranges == CG_RANGES_IN_TABLE) {
		s = find_seg(c, val->table, proto, port);
		if (s) {
			v->action = s->action;
			v->counter = s->rule;
		}
		return;
	}
	for (i = 0; i < val->nranges && i < CG_MAX_RANGES; i++) {
		const struct cg_range *r = &val->r[i];

		if (r->proto == proto && port >= r->lo && port <= r->hi) {
			v->action = r->action;
			v->counter = r->rule;
			return;
		}
	}
}

static int prefix_has(const uint8_t *net, int plen, const uint8_t *addr)
{
	int full = plen / 8, rem = plen % 8;

	if (memcmp(net, addr, full))
		return 0;
	return !rem || !((net[full] ^ addr[full]) & (0xff00 >> rem));
}

static int rule_matches(const struct cg_rule *r, int fam, const uint8_t *addr,
			uint8_t proto, uint16_t port)
{
	uint32_t i;

	if (r->family != (fam == CG_FAM_V4 ? AF_INET : AF_INET6) ||
	    !prefix_has(r->addr, r->prefixlen, addr))
		return 0;
	if (r->proto != CG_PROTO_ANY && r->proto != proto)
		return 0;
	for (i = 0; i < r->nports; i++)
		if (port >= r->ports[i].lo && port <= r->ports[i].hi)
			return 1;
	return !r->nports;
}

/* Names the rule (unless the counter did) and the reason from the
 * policy: the first matching rule of the longest matching prefix with the
 * decided action; a tie when one of that prefix with the other action
 * matched as well. */
static void explain(const struct cg_policy *p, int dir, int fam,
		    const uint8_t *addr, uint8_t proto, uint16_t port,
		    struct cg_verdict *v)
{
	const struct cg_direction *d = &p->dir[dir];
	int best = -1, other = 0;
	size_t i;

	for (i = 0; i < d->nrules; i++)
		if (rule_matches(&d->rules[i], fam, addr, proto, port) &&
		    d->rules[i].prefixlen > best)
			best = d->rules[i].prefixlen;
	for (i = 0; best >= 0 && i < d->nrules; i++) {
		const struct cg_rule *r = &d->rules[i];

		if (r->prefixlen != best ||
		    !rule_matches(r, fam, addr, proto, port))
			continue;
		if (r->action != v->action)
			other = 1;
		else if (v->rule < 0)
			v->rule = (long)i;
	}
	if (v->rule >= 0 && other)
		v->reason = CG_WHY_TIE_DENY;
}

int cg_lookup(const struct cg_compiled *c, const struct cg_policy *p,
	      const struct cg_query *q, struct cg_verdict *v)
{
	uint8_t addr[16] = { 0 };
	uint8_t proto = q->proto;
	uint16_t port = q->port;
	size_t idx;
	int fam, dir;

	memset(v, 0, sizeof(*v));
	v->rule = -1;
	if (q->dir != CG_DIR_EGRESS && q->dir != CG_DIR_INGRESS)
		return -EINVAL;
	if (q->family == AF_INET) {
		fam = CG_FAM_V4;
		memcpy(addr, q->addr, 4);
	} else if (q->family == AF_INET6) {
		fam = CG_FAM_V6;
		memcpy(addr, q->addr, 16);
		if (proto == CG_P_ICMPV6)
			proto = CG_P_ICMP;	/* rules say icmp for both */
		if (!memcmp(addr, v4mapped, 12)) {	/* judged as IPv4 */
			fam = CG_FAM_V4;
			memmove(addr, addr + 12, 4);
			memset(addr + 4, 0, 12);
		}
	} else {
		return -EINVAL;
	}
	/* The kernel reads a port only from TCP and UDP headers. */
	if ((proto != CG_P_TCP && proto != CG_P_UDP) || q->unparsed)
		port = 0;
	v->entry = lpm(c, q->dir, fam, addr);
	if (!v->entry) {	/* the kernel fails closed on a miss */
		v->action = CG_ACT_DENY;
		v->counter = CG_RULE_UNPARSED;
		v->reason = CG_WHY_UNPARSED;
		return -ENOENT;
	}
	v->audit = !!(v->entry->val.flags & CG_F_AUDIT);
	if (q->unparsed && (v->entry->val.flags & CG_F_DEFAULT_DENY)) {
		v->action = CG_ACT_DENY;
		v->counter = CG_RULE_UNPARSED;
		v->reason = CG_WHY_UNPARSED;
		return 0;
	}
	judge(c, &v->entry->val, proto, port, v);
	if (v->counter == CG_RULE_DEFAULT_EGRESS ||
	    v->counter == CG_RULE_DEFAULT_INGRESS) {
		v->reason = CG_WHY_DEFAULT;
		return 0;
	}
	v->reason = CG_WHY_PREFIX;
	if (!p)
		return 0;
	/* The counter names the rule the kernel charges, unless it is the
	 * shared overflow counter: then the first equal rule is named. */
	if (cg_counter_rule(p, v->counter, &dir, &idx) == 0 && dir == q->dir)
		v->rule = (long)idx;
	explain(p, q->dir, fam, addr, proto, port, v);
	return 0;
}

const char *cg_reason_str(enum cg_reason r)
{
	switch (r) {
	case CG_WHY_PREFIX:	return "longest matching prefix";
	case CG_WHY_TIE_DENY:	return "equal prefixes disagree: deny wins";
	case CG_WHY_DEFAULT:	return "no rule matches: direction default";
	case CG_WHY_UNPARSED:	return "no L4 header and the default is deny";
	}
	return "?";
}
