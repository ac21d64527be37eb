/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * `cgguard explain`: which rule decides a connection and why.  The verdict
 * and the deciding rule come from policy/lookup.c, the packet layer's
 * decision over the compiled table (for a guarded cgroup, the policy's
 * compiled hash must equal the one the kernel's slot records, so it is the
 * same table); this file turns it into the rule's text (file:line) and a
 * reason that says which other rules lost and why.
 */
#ifndef CGGUARD_EXPLAIN_H
#define CGGUARD_EXPLAIN_H

#include <stddef.h>
#include "../policy/lookup.h"

struct cg_explanation {
	struct cg_verdict v;
	char rule_text[640];
	char reason[512];
};

/* Decides @q over @c (compiled from @p) and explains it. */
int cg_explain(const struct cg_compiled *c, const struct cg_policy *p,
	       const struct cg_query *q, struct cg_explanation *e);

/* Parses "tcp|udp|icmp" "ADDR" ["PORT"] into @q (dir set by the caller);
 * writes a message into @err on bad input. */
int cg_query_parse(const char *proto, const char *addr, const char *port,
		   struct cg_query *q, char *err, size_t errlen);

#endif
