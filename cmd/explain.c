// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* cgguard explain (--policy NAME|FILE | --cgroup PATH) [--ingress]
 *                 PROTO ADDR [PORT] [--json] */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "cgguard.h"
#include "../cgroup/cgroup.h"
#include "../events/explain.h"
#include "../events/events.h"

static void usage(void)
{
	printf("Usage: %s explain (--policy NAME|FILE | --cgroup PATH) "
	       "[--ingress]\n          PROTO ADDR [PORT] [--json]\n\n"
	       "Says whether a connection to ADDR (from ADDR with --ingress) "
	       "is allowed or\ndenied, which rule decides and why: the "
	       "longest prefix, a tie going to deny,\nor the direction's "
	       "default.  PROTO is tcp, udp or icmp; PORT (tcp, udp) is\n"
	       "the destination port (the local port for --ingress).  The "
	       "verdict comes from\nthe compiled table the kernel uses: for "
	       "--cgroup the pinned table of that\ncgroup's policy, for "
	       "--policy the compiler's output.\nConnections, not packets: "
	       "this is the verdict of a connection opened that\nway; "
	       "every packet of it, replies included, shares it.\n",
	       prog_name);
}

/*
 * The policy a guarded cgroup enforces, from the source its slot records;
 * refused if that no longer compiles to the table the kernel has (equal
 * hash), since then it would explain something else.
 */
static int cgroup_policy(const char *path, struct cg_policy **p)
{
	struct cg_cgroup_meta cm;
	struct cg_slot_meta sm;
	struct cg_guard *g;
	struct cg_cgroup cg;
	char e[CG_ERR_MAX];
	uint64_t hash = 0;
	int err;

	cg_clearerr();
	err = cg_cgroup_resolve(path, &cg);
	if (err)
		return report(err, "explain"), err;
	err = open_guard(&g, CG_OPEN_RDONLY);
	if (err)
		return err;
	err = bpf_map_lookup_elem(g->map_fd[CG_MAP_CGROUPS], &cg.id, &cm) ||
	      bpf_map_lookup_elem(g->map_fd[CG_MAP_SLOTS], &cm.slot, &sm) ?
	      -ENOENT : 0;
	cg_guard_close(g);
	if (err) {
		fprintf(stderr, "%s: explain: cgroup %s is not guarded\n",
			prog_name, path);
		return err;
	}
	if (cg_policy_load(!strncmp(sm.source, "builtin:", 8) ? sm.source + 8 :
			   sm.source, p, e, sizeof(e))) {
		fprintf(stderr, "%s: explain: the source of policy '%s' (%s) "
			"cannot be read: %s\n", prog_name, sm.name, sm.source, e);
		return -ENOENT;
	}
	if (cg_policy_hash(*p, &hash, e, sizeof(e)) || hash != sm.hash) {
		fprintf(stderr, "%s: explain: %s changed since it was attached "
			"to %s, so it no longer matches the kernel's table: "
			"attach it again, or explain --policy %s for the file's "
			"version\n", prog_name, sm.source, path, sm.source);
		cg_policy_free(*p);
		*p = NULL;
		return -ESTALE;
	}
	return 0;
}

static void print(const struct cg_policy *p, const struct cg_query *q,
		  const struct cg_explanation *x)
{
	int deny = x->v.action != CG_ACT_ALLOW;
	struct json j;

	if (!json_output) {
		printf("verdict: %s%s\nrule:    %s\nreason:  %s\n",
		       deny ? "deny" : "allow", deny && x->v.audit ?
		       " (mode audit: counted and reported, not enforced)" : "",
		       x->rule_text, x->reason);
		return;
	}
	jw_init(&j, stdout);
	jw_obj_start(&j);
	jw_kstr(&j, "verdict", deny ? "deny" : "allow");
	jw_key(&j, "rule");
	if (x->v.counter < CG_RULES_PER_SLOT)
		jw_u64(&j, x->v.counter);
	else
		jw_null(&j);
	jw_kstr(&j, "rule_text", x->rule_text);
	jw_kstr(&j, "reason", x->reason);
	jw_kstr(&j, "policy", p->name);
	jw_kstr(&j, "mode", x->v.audit ? "audit" : "enforce");
	jw_kstr(&j, "direction", q->dir == CG_DIR_INGRESS ? "ingress" : "egress");
	jw_obj_end(&j);
}

static int explain(const char *policy, const char *cgpath,
		   const struct cg_query *q)
{
	struct cg_explanation x;
	struct cg_policy *p = NULL;
	struct cg_compiled c;
	char e[CG_ERR_MAX];
	int err;

	err = policy ? load_policy(policy, &p) : cgroup_policy(cgpath, &p);
	if (err)
		return 1;
	err = cg_policy_compile(p, &c, e, sizeof(e));
	if (err) {
		fprintf(stderr, "%s: explain: %s\n", prog_name, e);
		goto out;
	}
	err = cg_explain(&c, p, q, &x);
	cg_compiled_free(&c);
	if (err)
		report(err, "explain");
	else
		print(p, q, &x);
out:
	cg_policy_free(p);
	return err ? 1 : 0;
}

int do_explain(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "cgroup", required_argument, NULL, 'c' },
		{ "ingress", no_argument, NULL, 'i' },
		{ "egress", no_argument, NULL, 'e' },
		COMMON_LONGOPTS, { 0 } };
	const char *policy = NULL, *cgpath = NULL;
	struct cg_query t = { .dir = CG_DIR_EGRESS };
	char err[256];
	int opt, n;

	while ((opt = getopt_long(argc, argv, "p:c:iejh", opts, NULL)) != -1) {
		switch (opt) {
		case 'p': policy = optarg; break;
		case 'c': cgpath = optarg; break;
		case 'i': t.dir = CG_DIR_INGRESS; break;
		case 'e': t.dir = CG_DIR_EGRESS; break;
		case 'j': json_output = 1; break;
		case 'h': usage(); return 0;
		default: return 2;
		}
	}
	n = argc - optind;
	if (!policy == !cgpath || n < 2 || n > 3) {
		fprintf(stderr, "%s: explain: %s (see --help)\n", prog_name,
			!policy == !cgpath ? "give exactly one of --policy and "
			"--cgroup" : "expected PROTO ADDR [PORT]");
		return 2;
	}
	if (cg_query_parse(argv[optind], argv[optind + 1],
			   n == 3 ? argv[optind + 2] : NULL, &t, err,
			   sizeof(err))) {
		fprintf(stderr, "%s: explain: %s\n", prog_name, err);
		return 2;
	}
	return explain(policy, cgpath, &t);
}
