// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* `cgguard explain`: see explain.h. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include "explain.h"
#include "events.h"

/* The LPM key the kernel builds for @t (verdict.bpf.h set_v4/set_v6). */
static void tuple_key(const struct cg_tuple *t, uint32_t slot,
		      struct cg_lpm_key *k)
{
	memset(k, 0, sizeof(*k));
	k->slot = slot;
	k->dir = t->dir;
	k->family = t->family == AF_INET ? CG_FAM_V4 : CG_FAM_V6;
	k->prefixlen = CG_LPM_HDR_BITS + (t->family == AF_INET ? 32 : 128);
	memcpy(k->addr, t->addr, t->family == AF_INET ? 4 : 16);
}

/* Rules say "icmp" for ICMP and ICMPv6; the kernel maps 58 to 1. */
static uint8_t judged_proto(uint8_t p)
{
	return p == CG_P_ICMPV6 ? CG_P_ICMP : p;
}

/* The kernel's judge(): first matching range, else the entry's own. */
static void judge(const struct cg_lpm_val *val, const struct cg_tuple *t,
		  struct cg_table_verdict *v)
{
	uint8_t proto = judged_proto(t->proto);
	int i;

	v->found = 1;
	v->action = val->action;
	v->rule = val->rule;
	v->flags = val->flags;
	for (i = 0; i < val->nranges && i < CG_MAX_RANGES; i++) {
		const struct cg_range *r = &val->r[i];

		if (r->proto == proto && t->port >= r->lo && t->port <= r->hi) {
			v->action = r->action;
			v->rule = r->rule;
			return;
		}
	}
}

static int prefix_match(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, full))
		return 0;
	return !rest || !((a[full] ^ b[full]) & (0xff00 >> rest));
}

void cg_table_decide(const struct cg_compiled *c, const struct cg_tuple *t,
		     struct cg_table_verdict *v)
{
	const struct cg_entry *best = NULL;
	struct cg_lpm_key k;
	size_t i;

	tuple_key(t, 0, &k);
	memset(v, 0, sizeof(*v));
	for (i = 0; i < c->n; i++) {
		const struct cg_lpm_key *e = &c->e[i].key;

		if (e->dir != k.dir || e->family != k.family ||
		    (best && e->prefixlen <= best->key.prefixlen) ||
		    !prefix_match(e->addr, k.addr,
				  e->prefixlen - CG_LPM_HDR_BITS))
			continue;
		best = &c->e[i];
	}
	if (best)
		judge(&best->val, t, v);
	else
		v->action = CG_ACT_DENY_V;	/* the kernel's miss: deny */
}

int cg_table_decide_map(int lpm_fd, uint32_t slot, const struct cg_tuple *t,
			struct cg_table_verdict *v)
{
	struct cg_lpm_val val;
	struct cg_lpm_key k;

	tuple_key(t, slot, &k);
	memset(v, 0, sizeof(*v));
	if (bpf_map_lookup_elem(lpm_fd, &k, &val)) {
		if (errno != ENOENT)
			return -errno;
		v->action = CG_ACT_DENY_V;
		return 0;
	}
	judge(&val, t, v);
	return 0;
}

/* ---- the reason, from the rules ------------------------------------------ */

static int rule_matches(const struct cg_rule *r, const struct cg_tuple *t)
{
	uint32_t i;

	if (r->family != t->family ||
	    !prefix_match(r->addr, t->addr, r->prefixlen))
		return 0;
	if (r->proto != CG_PROTO_ANY && r->proto != judged_proto(t->proto))
		return 0;
	if (!r->nports)
		return 1;
	for (i = 0; i < r->nports; i++)
		if (t->port >= r->ports[i].lo && t->port <= r->ports[i].hi)
			return 1;
	return 0;
}

struct scan {
	int best;		/* longest matching prefix, -1: none */
	size_t nbest, ndeny, nallow;	/* rules at that prefix */
	size_t nmatch;		/* all matching rules */
	int shorter;		/* longest prefix below best, -1: none */
};

static void scan_rules(const struct cg_direction *d, const struct cg_tuple *t,
		       struct scan *s)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	s->best = s->shorter = -1;
	for (i = 0; i < d->nrules; i++) {
		const struct cg_rule *r = &d->rules[i];

		if (!rule_matches(r, t))
			continue;
		s->nmatch++;
		if (r->prefixlen > s->best) {
			s->shorter = s->best;
			s->best = r->prefixlen;
			s->nbest = s->ndeny = s->nallow = 0;
		} else if (r->prefixlen < s->best) {
			if (r->prefixlen > s->shorter)
				s->shorter = r->prefixlen;
			continue;
		}
		s->nbest++;
		if (r->action == CG_ACT_DENY)
			s->ndeny++;
		else
			s->nallow++;
	}
}

static void reason_text(const struct cg_policy *p, const struct cg_tuple *t,
			const struct cg_table_verdict *v, char *buf,
			size_t len)
{
	const char *dn = t->dir == CG_DIR_INGRESS ? "ingress" : "egress";
	struct scan s;

	if (!v->found) {
		snprintf(buf, len, "no table entry (slot being torn down): "
			 "denied, fail closed");
		return;
	}
	if (v->rule == CG_RULE_DEFAULT_EGRESS ||
	    v->rule == CG_RULE_DEFAULT_INGRESS) {
		snprintf(buf, len, "no %s rule matches this address, protocol "
			 "and port: the %s default (%s) decides", dn, dn,
			 cg_action_str(p->dir[t->dir].default_action));
		return;
	}
	scan_rules(&p->dir[t->dir], t, &s);
	if (s.best < 0) {
		snprintf(buf, len, "decided by table counter %u", v->rule);
		return;
	}
	if (s.ndeny && s.nallow)
		snprintf(buf, len, "tie: %zu allow and %zu deny rules match with "
			 "the longest prefix /%d; deny wins a tie", s.nallow,
			 s.ndeny, s.best);
	else if (s.shorter >= 0)
		snprintf(buf, len, "longest prefix: the /%d rule is more specific "
			 "than the other %zu matching rule%s (/%d and shorter)",
			 s.best, s.nmatch - s.nbest,
			 s.nmatch - s.nbest == 1 ? "" : "s", s.shorter);
	else
		snprintf(buf, len, "longest prefix: the only matching %s rule "
			 "(/%d)", dn, s.best);
}

void cg_explain(const struct cg_policy *p, const struct cg_tuple *t,
		const struct cg_table_verdict *v, struct cg_explanation *e)
{
	memset(e, 0, sizeof(*e));
	e->v = *v;
	e->audit = p->mode == CG_MODE_AUDIT;
	cg_rule_counter_text(p, v->rule, e->rule_text, sizeof(e->rule_text));
	reason_text(p, t, v, e->reason, sizeof(e->reason));
}

/* ---- input -------------------------------------------------------------- */

int cg_tuple_parse(const char *proto, const char *addr, const char *port,
		   struct cg_tuple *t, char *err, size_t errlen)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	unsigned long v = 0;
	char *end;

	if (!strcmp(proto, "tcp"))
		t->proto = CG_P_TCP;
	else if (!strcmp(proto, "udp"))
		t->proto = CG_P_UDP;
	else if (!strcmp(proto, "icmp"))
		t->proto = CG_P_ICMP;
	else
		return snprintf(err, errlen, "protocol must be tcp, udp or "
				"icmp, not '%s'", proto), -EINVAL;
	memset(t->addr, 0, sizeof(t->addr));
	if (inet_pton(AF_INET, addr, t->addr) == 1) {
		t->family = AF_INET;
	} else if (inet_pton(AF_INET6, addr, t->addr) == 1) {
		t->family = AF_INET6;
		if (!memcmp(t->addr, mapped, 12)) {	/* judged as IPv4 */
			memmove(t->addr, t->addr + 12, 4);
			memset(t->addr + 4, 0, 12);
			t->family = AF_INET;
		}
	} else {
		return snprintf(err, errlen, "'%s' is not an IPv4 or IPv6 "
				"address", addr), -EINVAL;
	}
	if (t->proto == CG_P_ICMP && t->family == AF_INET6)
		t->proto = CG_P_ICMPV6;
	if (port) {
		errno = 0;
		v = strtoul(port, &end, 10);
		if (errno || *end || !*port || *port == '-' || v > 65535 ||
		    (v && t->proto != CG_P_TCP && t->proto != CG_P_UDP))
			return snprintf(err, errlen, "port must be 0..65535 "
					"(tcp and udp only), not '%s'", port),
			       -EINVAL;
	} else if (t->proto == CG_P_TCP || t->proto == CG_P_UDP) {
		return snprintf(err, errlen, "%s needs a PORT", proto), -EINVAL;
	}
	t->port = (uint16_t)v;
	return 0;
}
