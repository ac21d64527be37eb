/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * `cgguard explain`: which rule decides a connection and why.  The verdict
 * and the deciding rule come from the compiled table the kernel uses (the
 * pinned LPM map for a guarded cgroup, the same compiler's output for a
 * policy file); the reason (longest prefix, a tie going to deny, the
 * default) is read off the policy's rules.
 */
#ifndef CGGUARD_EXPLAIN_H
#define CGGUARD_EXPLAIN_H

#include <stdint.h>
#include "../policy/compile.h"

/* What is judged: a connection opened in direction @dir to (egress) or
 * from (ingress) @addr; @port is the destination port (0 if none). */
struct cg_tuple {
	int dir;		/* CG_DIR_EGRESS / CG_DIR_INGRESS */
	int family;		/* AF_INET / AF_INET6 (mapped: AF_INET) */
	uint8_t addr[16];
	uint8_t proto;		/* CG_P_TCP, CG_P_UDP, CG_P_ICMP(V6) */
	uint16_t port;
};

/* The table's decision, exactly as the kernel's judge() makes it. */
struct cg_table_verdict {
	uint8_t action;		/* CG_ACT_*_V */
	uint8_t flags;		/* CG_F_* of the entry */
	uint16_t rule;		/* counter index */
	int found;		/* 0: no entry (the kernel denies) */
};

/* Decides @t over compiled entries @c (longest prefix, then ranges). */
void cg_table_decide(const struct cg_compiled *c, const struct cg_tuple *t,
		     struct cg_table_verdict *v);
/* Decides @t with the pinned LPM map @lpm_fd, slot @slot (the kernel's
 * own table); 0 or -errno. */
int cg_table_decide_map(int lpm_fd, uint32_t slot, const struct cg_tuple *t,
			struct cg_table_verdict *v);

struct cg_explanation {
	struct cg_table_verdict v;
	int audit;		/* mode audit: a deny is reported, not enforced */
	char rule_text[384];
	char reason[512];
};

/* Fills @e from verdict @v for tuple @t of policy @p. */
void cg_explain(const struct cg_policy *p, const struct cg_tuple *t,
		const struct cg_table_verdict *v, struct cg_explanation *e);

/* Parses "tcp|udp|icmp" "ADDR" ["PORT"] into @t (dir set by the caller);
 * writes a message into @err on bad input. */
int cg_tuple_parse(const char *proto, const char *addr, const char *port,
		   struct cg_tuple *t, char *err, size_t errlen);

#endif
