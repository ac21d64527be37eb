// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* `cgguard explain`: see explain.h. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "explain.h"
#include "events.h"

/* Rules say "icmp" for ICMP and ICMPv6. */
static uint8_t judged_proto(uint8_t p)
{
	return p == CG_P_ICMPV6 ? CG_P_ICMP : p;
}

static int prefix_match(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, full))
		return 0;
	return !rest || !((a[full] ^ b[full]) & (0xff00 >> rest));
}

/* ---- the reason, from the rules ------------------------------------------ */

static int rule_matches(const struct cg_rule *r, const struct cg_query *t)
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

static void scan_rules(const struct cg_direction *d, const struct cg_query *t,
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

static void reason_text(const struct cg_policy *p, const struct cg_query *t,
			const struct cg_verdict *v, char *buf, size_t len)
{
	const char *dn = t->dir == CG_DIR_INGRESS ? "ingress" : "egress";
	struct scan s;

	scan_rules(&p->dir[t->dir], t, &s);
	switch (v->reason) {
	case CG_WHY_DEFAULT:
		snprintf(buf, len, "no %s rule matches this address, protocol "
			 "and port: the %s default (%s) decides", dn, dn,
			 cg_action_str(p->dir[t->dir].default_action));
		return;
	case CG_WHY_UNPARSED:
		snprintf(buf, len, "no L4 header and the %s default is deny", dn);
		return;
	case CG_WHY_TIE_DENY:
		snprintf(buf, len, "tie: %zu allow and %zu deny rule%s match "
			 "with the longest prefix /%d; deny wins a tie",
			 s.nallow, s.ndeny, s.ndeny == 1 ? "" : "s", s.best);
		return;
	case CG_WHY_PREFIX:
		break;
	}
	if (s.shorter >= 0)
		snprintf(buf, len, "longest prefix: the /%d rule is more specific "
			 "than the other %zu matching rule%s (/%d and shorter)",
			 s.best, s.nmatch - s.nbest,
			 s.nmatch - s.nbest == 1 ? "" : "s", s.shorter);
	else
		snprintf(buf, len, "longest prefix: the only matching %s rule "
			 "(/%d)", dn, s.best);
}

int cg_explain(const struct cg_compiled *c, const struct cg_policy *p,
	       const struct cg_query *q, struct cg_explanation *e)
{
	const struct cg_rule *r;
	char t[256];
	int err;

	memset(e, 0, sizeof(*e));
	err = cg_lookup(c, p, q, &e->v);
	if (err)
		return err;
	if (e->v.rule >= 0) {	/* named even past the per-rule counters */
		r = &p->dir[q->dir].rules[e->v.rule];
		cg_rule_format(r, q->dir, t, sizeof(t));
		snprintf(e->rule_text, sizeof(e->rule_text), "%s (%s:%d)", t,
			 p->source, r->line);
	} else {
		cg_rule_counter_text(p, e->v.counter, e->rule_text,
				     sizeof(e->rule_text));
	}
	reason_text(p, q, &e->v, e->reason, sizeof(e->reason));
	return 0;
}

/* ---- input -------------------------------------------------------------- */

int cg_query_parse(const char *proto, const char *addr, const char *port,
		   struct cg_query *t, char *err, size_t errlen)
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
	t->unparsed = 0;
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
