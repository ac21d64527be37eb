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
	       "--policy the compiler's output.\n", prog_name);
}

/* The policy a guarded cgroup enforces and its slot. */
static int cgroup_policy(struct cg_guard *g, const char *path,
			 struct cg_policy **p, __u32 *slot, int *stale)
{
	struct cg_cgroup_meta cm;
	struct cg_slot_meta sm;
	struct cg_cgroup cg;
	char e[CG_ERR_MAX];
	uint64_t hash = 0;
	int err;

	cg_clearerr();
	err = cg_cgroup_resolve(path, &cg);
	if (err)
		return report(err, "explain"), err;
	if (bpf_map_lookup_elem(g->map_fd[CG_MAP_CGROUPS], &cg.id, &cm) ||
	    bpf_map_lookup_elem(g->map_fd[CG_MAP_SLOTS], &cm.slot, &sm)) {
		fprintf(stderr, "%s: explain: cgroup %s is not guarded\n",
			prog_name, path);
		return -ENOENT;
	}
	*slot = cm.slot;
	if (cg_policy_load(!strncmp(sm.source, "builtin:", 8) ? sm.source + 8 :
			   sm.source, p, e, sizeof(e))) {
		fprintf(stderr, "%s: explain: the source of policy '%s' (%s) "
			"cannot be read, so its rules cannot be named: %s\n",
			prog_name, sm.name, sm.source, e);
		return -ENOENT;
	}
	*stale = cg_policy_hash(*p, &hash, e, sizeof(e)) || hash != sm.hash;
	return 0;
}

static void print(const struct cg_policy *p, const struct cg_tuple *t,
		  const struct cg_explanation *x, int stale)
{
	const char *verdict = x->v.action == CG_ACT_ALLOW_V ? "allow" : "deny";
	struct json j;

	if (!json_output) {
		printf("verdict: %s%s\nrule:    %s\nreason:  %s\n", verdict,
		       x->audit && x->v.action != CG_ACT_ALLOW_V ?
		       " (mode audit: counted and reported, not enforced)" : "",
		       x->rule_text, x->reason);
		if (stale)
			printf("note:    %s changed since it was attached; "
			       "rule text is from the file now\n", p->source);
		return;
	}
	jw_init(&j, stdout);
	jw_obj_start(&j);
	jw_kstr(&j, "verdict", verdict);
	jw_key(&j, "rule");
	if (x->v.rule < CG_RULES_PER_SLOT)
		jw_u64(&j, x->v.rule);
	else
		jw_null(&j);
	jw_kstr(&j, "rule_text", x->rule_text);
	jw_kstr(&j, "reason", x->reason);
	jw_kstr(&j, "policy", p->name);
	jw_kstr(&j, "mode", x->audit ? "audit" : "enforce");
	jw_kstr(&j, "direction", t->dir == CG_DIR_INGRESS ? "ingress" : "egress");
	jw_kbool(&j, "source_changed", stale);
	jw_obj_end(&j);
}

static int explain(const char *policy, const char *cgpath, struct cg_tuple *t)
{
	struct cg_table_verdict v;
	struct cg_explanation x;
	struct cg_policy *p = NULL;
	struct cg_guard *g = NULL;
	struct cg_compiled c;
	char e[CG_ERR_MAX];
	__u32 slot = 0;
	int err, stale = 0;

	if (policy) {
		if (load_policy(policy, &p))
			return 1;
		err = cg_policy_compile(p, &c, e, sizeof(e));
		if (err) {
			fprintf(stderr, "%s: explain: %s\n", prog_name, e);
			goto out;
		}
		cg_table_decide(&c, t, &v);
		cg_compiled_free(&c);
	} else {
		err = open_guard(&g, CG_OPEN_RDONLY);
		if (!err)
			err = cgroup_policy(g, cgpath, &p, &slot, &stale);
		if (!err)
			err = cg_table_decide_map(g->map_fd[CG_MAP_LPM], slot,
						  t, &v);
		if (err)
			goto out;
	}
	cg_explain(p, t, &v, &x);
	print(p, t, &x, stale);
out:
	cg_policy_free(p);
	cg_guard_close(g);
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
	struct cg_tuple t = { .dir = CG_DIR_EGRESS };
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
	if (cg_tuple_parse(argv[optind], argv[optind + 1],
			   n == 3 ? argv[optind + 2] : NULL, &t, err,
			   sizeof(err))) {
		fprintf(stderr, "%s: explain: %s\n", prog_name, err);
		return 2;
	}
	return explain(policy, cgpath, &t);
}
