/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The packet layer's decision, in user space: what guard.bpf.c decides for
 * a (direction, family, address, protocol, port) over a compiled policy,
 * step for step (longest-prefix entry, inline ranges or port table, else
 * the entry's fallback; unparsed packets under a deny default).  Used by
 * `cgguard explain`, `attach --kill-denied` (which sockets the new policy
 * denies), the unit tests and the BPF verdict tier as their oracle.
 *
 * API (stable):
 *   struct cg_query q = { .dir = CG_DIR_EGRESS, .family = AF_INET6,
 *                         .proto = IPPROTO_TCP, .port = 443 };
 *   memcpy(q.addr, &in6, 16);            // IPv4-mapped is judged as IPv4
 *   struct cg_verdict v;
 *   cg_lookup(&compiled, policy_or_NULL, &q, &v);
 *   v.action (CG_ACT_ALLOW/DENY), v.counter (per-rule counter index, as
 *   `stats` shows it), v.reason, v.rule (index in policy->dir[dir].rules,
 *   -1 for a default/unparsed or when no policy was given).
 *
 * The compiled table decides action and counter; the policy (optional)
 * only refines the reason (tie -> deny) and names the rule, also past the
 * per-rule counters (CG_RULE_OVERFLOW).  No allocation, no kernel access:
 * O(129 * log n) per query.
 */
#ifndef CGGUARD_LOOKUP_H
#define CGGUARD_LOOKUP_H

#include <stdint.h>
#include "compile.h"

/* A connection or packet as the kernel side sees it. */
struct cg_query {
	int dir;		/* CG_DIR_EGRESS: rules' "to"; CG_DIR_INGRESS: "from" */
	int family;		/* AF_INET or AF_INET6 */
	uint8_t addr[16];	/* the peer, network order; IPv4 in addr[0..3] */
	uint8_t proto;		/* IP protocol number (58, ICMPv6, counts as icmp) */
	uint16_t port;		/* host order: the peer's port for egress, the
				 * local port for ingress; 0 without one */
	uint8_t unparsed;	/* L4 header unknown (fragment, odd headers) */
};

enum cg_reason {
	CG_WHY_PREFIX,		/* the longest matching prefix's rule */
	CG_WHY_TIE_DENY,	/* rules of equal prefix disagreed: deny wins */
	CG_WHY_DEFAULT,		/* no rule matched: the direction's default */
	CG_WHY_UNPARSED,	/* no L4 header and the default is deny */
};

struct cg_verdict {
	uint8_t action;		/* CG_ACT_ALLOW / CG_ACT_DENY, before audit */
	uint8_t audit;		/* mode audit: a deny is counted, not dropped */
	uint16_t counter;	/* counter index charged (CG_RULE_*) */
	enum cg_reason reason;
	long rule;		/* rule index in its direction, or -1 */
	const struct cg_entry *entry;	/* the LPM entry that matched */
};

/* 0, or -EINVAL for a bad query, -ENOENT if the table has no entry for
 * it (never for a compiled policy: every (dir, family) has a /0). */
int cg_lookup(const struct cg_compiled *c, const struct cg_policy *p,
	      const struct cg_query *q, struct cg_verdict *v);

const char *cg_reason_str(enum cg_reason r);

#endif
