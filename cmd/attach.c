// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* cgguard attach --cgroup PATH --policy NAME|FILE */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cgguard.h"
#include "../cgroup/cgroup.h"
#include "../bpf/sockets.h"
#include "nftcmd.h"

static void usage(void)
{
	printf("Usage: %s attach --cgroup PATH --policy NAME|FILE "
	       "[--fail closed|open] [--kill-denied] [--backend bpf|nft [--netns NAME|PATH]] "
	       "[--json]\n\n"
	       "Guards a cgroup v2 directory (and every cgroup below it) with a\n"
	       "policy.  If the cgroup is already guarded, the policy is swapped\n"
	       "in place with no unguarded window.  PATH is absolute or relative\n"
	       "to the cgroup2 mount.  NAME is a built-in (baseline) or\n"
	       "%s/NAME.yaml.\n\n"
	       "--fail closed (default): refuse a policy that needs a layer\n"
	       "this kernel lacks (BPF LSM for sockets.families or kill).\n"
	       "--fail open: apply what can be enforced, warn, and count it.\n"
	       "--kill-denied: then destroy every socket of the cgroup tree\n"
	       "whose connection the policy denies (SOCK_DESTROY: the\n"
	       "application gets ECONNABORTED instead of hanging) and say how\n"
	       "many; audit mode destroys nothing.\n"
	       "--backend nft: enforce the packet rules with nftables instead\n"
	       "(table inet cgguard in the network namespace --netns, default\n"
	       "this process's); it has no socket layers, so a policy with a\n"
	       "sockets: section needs --fail open.\n",
	       prog_name, CG_POLICY_DIR);
}

int do_attach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cgroup", required_argument, NULL, 'c' },
		{ "policy", required_argument, NULL, 'p' },
		{ "fail", required_argument, NULL, 'f' },
		{ "kill-denied", no_argument, NULL, 'k' },
		{ "backend", required_argument, NULL, 'b' },
		{ "netns", required_argument, NULL, 'n' },
		COMMON_LONGOPTS, { 0 } };
	struct cg_kill_result kr;
	const char *cgpath = NULL, *pol = NULL, *backend = "bpf", *netns = NULL;
	struct cg_policy *p = NULL;
	struct cg_status st;
	struct cg_cgroup_meta m;
	struct cg_guard *g;
	struct cg_cgroup cg;
	struct json j;
	unsigned flags = 0;
	int opt, err, degraded = 0, cgfd, kill = 0;

	while ((opt = getopt_long(argc, argv, "c:p:f:b:n:kjh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': cgpath = optarg; break;
		case 'b': backend = optarg; break;
		case 'n': netns = optarg; break;
		case 'p': pol = optarg; break;
		case 'f':
			if (parse_fail_mode(optarg, &flags))
				return 2;
			break;
		case 'k': kill = 1; break;
		case 'j': json_output = 1; break;
		case 'h': usage(); return 0;
		default: usage(); return 2;
		}
	}
	if (!cgpath || !pol || optind != argc) {
		fprintf(stderr, "%s attach: --cgroup and --policy are required "
			"(and nothing else)\n", prog_name);
		return 2;
	}
	if (strcmp(backend, "bpf") && strcmp(backend, "nft")) {
		fprintf(stderr, "%s attach: --backend must be bpf or nft, not "
			"'%s'\n", prog_name, backend);
		return 2;
	}
	if (!strcmp(backend, "nft"))
		return nft_attach_cmd(cgpath, pol, netns, flags);
	if (netns) {
		fprintf(stderr, "%s attach: --netns is for --backend nft\n",
			prog_name);
		return 2;
	}
	/* Validate everything before touching the kernel: opening the
	 * guard may load and pin the programs. */
	cg_clearerr();
	cgfd = cg_cgroup_open(cgpath, &cg);
	if (cgfd < 0 || cg_cgroup_check_rel(&cg)) {
		report(cgfd < 0 ? cgfd : -ENAMETOOLONG, "attach");
		if (cgfd >= 0)
			close(cgfd);
		return 1;
	}
	if (load_policy(pol, &p) || require_caps("attach") ||
	    open_guard(&g, CG_OPEN_CREATE)) {
		cg_policy_free(p);
		close(cgfd);
		return 1;
	}
	cg_clearerr();
	err = cg_guard_attach_fd(g, &cg, cgfd, p, flags, &degraded);
	close(cgfd);
	if (err) {
		report(err, "attach");
		goto out;
	}
	if (degraded)
		fprintf(stderr, "%s: warning: policy '%s' applied WITHOUT its "
			"LSM part (sockets.families / kill): the BPF LSM layer "
			"is unavailable on this kernel (see cgguard doctor)\n",
			prog_name, p->name);
	if (kill)
		err = kill_denied(g, cg.abs, p, &kr);
	if (json_output) {
		jw_init(&j, stdout);
		jw_obj_start(&j);
		if (!cg_guard_status(g, cg.id, &st)) {
			m = st.meta;
			jw_kstr(&j, "cgroup", m.path);
			jw_ku64(&j, "id", cg.id);
			jw_kstr(&j, "policy", st.slot.name);
			jw_kbool(&j, "enforced", st.enforced[0] && st.enforced[1]);
			jw_kbool(&j, "degraded", degraded);
		}
		if (kill)
			print_kill_result(&j, &kr);
		jw_obj_end(&j);
	}
out:
	cg_policy_free(p);
	cg_guard_close(g);
	return err ? 1 : 0;
}
