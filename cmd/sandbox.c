// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * cgguard sandbox [--policy NAME|FILE] -- CMD [ARGS]: runs CMD with no
 * privilege, restricted by what the kernel lets a process enforce on
 * itself (Landlock TCP port rules, a seccomp filter), plus a delegated
 * cgroup carrying the whole policy when a daemon delegates to this user.
 * The logic is in sandbox/; this file parses, prints and runs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cgguard.h"
#include "../sandbox/sandbox.h"
#include "../lib/ctlclient.h"

static void usage(void)
{
	printf("Usage: %s sandbox [--policy NAME|FILE] [--delegate auto|require|off]\n"
	       "         [--cgroup DIR] [--socket PATH] [--deny-mixed] [--require-full]\n"
	       "         [--json] -- CMD [ARGS]\n\n"
	       "Runs CMD without privilege, restricted by the policy (default\n"
	       "baseline) as far as this kernel lets a process restrict itself:\n"
	       "  Landlock (ABI 4+): TCP connect and bind, by port only\n"
	       "  seccomp: raw and denied-family sockets, TCP Fast Open, io_uring\n"
	       "  delegated cgroup: the whole policy, when the daemon at --socket\n"
	       "    (default $CGGUARD_SOCKET or %s) delegates to this user; the\n"
	       "    cgroup is made below DIR (default: this process's cgroup)\n"
	       "Before CMD runs, the list of what is and is not enforced goes to\n"
	       "stderr (--json: one JSON object there).  Exits with CMD's status.\n\n"
	       "--deny-mixed    ports the policy allows only to some addresses\n"
	       "                are denied by Landlock (default: allowed)\n"
	       "--require-full  do not run CMD unless all of the policy is enforced\n"
	       "--delegate      auto (default): use a delegating daemon if there is\n"
	       "                one; require: fail without it; off: never ask\n",
	       prog_name, CGD_USOCKET);
}

struct sb_opts {
	const char *policy, *sock, *parent, *delegate;
	unsigned flags;
	int require_full;
};

static int parse_opts(int argc, char **argv, struct sb_opts *o)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "socket", required_argument, NULL, 's' },
		{ "cgroup", required_argument, NULL, 'c' },
		{ "delegate", required_argument, NULL, 'D' },
		{ "deny-mixed", no_argument, NULL, 'm' },
		{ "require-full", no_argument, NULL, 'r' },
		COMMON_LONGOPTS, { 0 } };
	int opt;

	*o = (struct sb_opts){ "baseline", CGD_USOCKET, NULL, "auto", 0, 0 };
	/* The same variable libcgguard reads. */
	if (secure_getenv("CGGUARD_SOCKET") && *secure_getenv("CGGUARD_SOCKET"))
		o->sock = secure_getenv("CGGUARD_SOCKET");
	while ((opt = getopt_long(argc, argv, "+p:s:c:D:mrjh", opts, NULL)) != -1) {
		switch (opt) {
		case 'p': o->policy = optarg; break;
		case 's': o->sock = optarg; break;
		case 'c': o->parent = optarg; break;
		case 'D': o->delegate = optarg; break;
		case 'm': o->flags |= SB_DENY_MIXED; break;
		case 'r': o->require_full = 1; break;
		case 'j': json_output = 1; break;
		case 'h': usage(); return 0;
		default: usage(); return 2;
		}
	}
	if (strcmp(o->delegate, "auto") && strcmp(o->delegate, "require") &&
	    strcmp(o->delegate, "off")) {
		fprintf(stderr, "%s sandbox: --delegate must be auto, require or "
			"off, not '%s'\n", prog_name, o->delegate);
		return 2;
	}
	if (optind >= argc) {
		fprintf(stderr, "%s sandbox: a command is required (after --)\n",
			prog_name);
		return 2;
	}
	return -1;
}

static void print_report(const struct sb_plan *pl, const struct sb_kernel *k,
			 const struct sb_deleg *d)
{
	struct json j;
	size_t i;

	if (json_output) {
		jw_init(&j, stderr);
		jw_obj_start(&j);
		jw_kstr(&j, "policy", pl->policy);
		jw_ku64(&j, "landlock_abi", k->landlock_abi);
		jw_kbool(&j, "seccomp", k->seccomp);
		jw_key(&j, "delegated");
		jw_obj_start(&j);
		jw_kbool(&j, "active", d->active);
		jw_kstr(&j, d->active ? "cgroup" : "why", d->active ? d->cg.rel :
			d->why);
		if (d->active)
			jw_kbool(&j, "degraded", d->degraded);
		jw_obj_end(&j);
		jw_key(&j, "items");
		jw_arr_start(&j);
		for (i = 0; i < pl->nitems; i++) {
			jw_obj_start(&j);
			jw_kstr(&j, "status", sb_status_str(pl->items[i].status));
			jw_kstr(&j, "by", pl->items[i].by);
			jw_kstr(&j, "what", pl->items[i].what);
			jw_obj_end(&j);
		}
		jw_arr_end(&j);
		jw_obj_end(&j);
		fputc('\n', stderr);
		return;
	}
	fprintf(stderr, "%s sandbox: policy %s; Landlock ABI %d, seccomp %s\n",
		prog_name, pl->policy, k->landlock_abi, k->seccomp ? "yes" : "no");
	for (i = 0; i < pl->nitems; i++)
		fprintf(stderr, "  %-12s %-8s %s\n",
			pl->items[i].status == SB_NOT_ENFORCED ? "NOT enforced" :
			sb_status_str(pl->items[i].status),
			*pl->items[i].by ? pl->items[i].by : "-",
			pl->items[i].what);
	if (d->active)
		fprintf(stderr, "  delegated cgroup %s: the whole policy (addresses,"
			" udp, ingress, counters) is enforced there by cgroup "
			"BPF%s\n", d->cg.rel, d->degraded ? ", except its LSM "
			"part (no BPF LSM on this kernel)" : "");
	else
		fprintf(stderr, "  no delegated cgroup: %s\n", d->why);
}

/* 1 if something of the policy is neither enforced by the sandbox nor by
 * a delegated cgroup. */
static int incomplete(const struct sb_plan *pl, const struct sb_deleg *d)
{
	size_t i;

	if (d->active && !d->degraded)
		return 0;
	for (i = 0; i < pl->nitems; i++)
		if (pl->items[i].status == SB_LOOSER ||
		    pl->items[i].status == SB_NOT_ENFORCED)
			return 1;
	return 0;
}

/* Restricts this process and becomes CMD; returns only on failure. */
static int become(const struct sb_plan *pl, const struct sb_kernel *k,
		  const struct sb_deleg *d, char **argv)
{
	cg_clearerr();
	/* 126, as for a CMD that cannot run: CMD never runs with less than
	 * the report claimed. */
	if (d->active && cg_cgroup_enter(&d->cg, 0)) {
		report(-EIO, "sandbox");
		return 126;
	}
	if (sb_apply(pl, k)) {
		report(-EIO, "sandbox: applying the restrictions");
		return 126;
	}
	execvp(argv[0], argv);
	fprintf(stderr, "%s sandbox: cannot execute %s: %s\n", prog_name,
		argv[0], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}

static int run_delegated(const struct sb_plan *pl, const struct sb_kernel *k,
			 struct sb_deleg *d, char **argv)
{
	pid_t child_pid;
	int status = 0;

	child_pid = fork();
	if (child_pid == 0) {
		_exit(become(pl, k, d, argv));
	}
	if (child_pid < 0)
		report(-errno, "sandbox: fork");
	else
		status = wait_forwarding(child_pid);
	cg_clearerr();
	if (sb_deleg_teardown(d))
		fprintf(stderr, "%s sandbox: cleaning up %s: %s\n", prog_name,
			d->cg.rel, cg_lasterr());
	return child_pid < 0 ? 1 : status;
}

/* The policy and, for a file, an fd to pass to the daemon (-1 for names):
 * parsed from that same fd, so both see one version of the file. */
static int load(const char *arg, struct cg_policy **p, int *pfd)
{
	char err[CG_ERR_MAX];
	int rc;

	*pfd = -1;
	if (!cg_policy_is_path(arg))
		return load_policy(arg, p);
	*pfd = open(arg, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (*pfd < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog_name, arg, strerror(errno));
		return -errno;
	}
	rc = cg_policy_parse_fd(*pfd, arg, p, err, sizeof(err));
	if (rc)
		fprintf(stderr, "%s: %s\n", prog_name, err);
	return rc;
}

int do_sandbox(int argc, char **argv)
{
	struct sb_opts o;
	struct cg_policy *p = NULL;
	struct sb_plan *pl = calloc(1, sizeof(*pl));
	struct sb_kernel k;
	struct sb_deleg d = { 0 };
	int rc = parse_opts(argc, argv, &o), pfd = -1;

	if (rc >= 0 || !pl || load(o.policy, &p, &pfd))
		goto out;
	rc = 1;
	if (sb_plan_build(p, o.flags, pl)) {
		fprintf(stderr, "%s sandbox: out of memory\n", prog_name);
		goto out;
	}
	sb_probe(&k);
	sb_plan_fit(pl, &k);
	if (strcmp(o.delegate, "off"))
		sb_deleg_setup(&d, o.sock, o.parent, o.policy, pfd);
	else
		snprintf(d.why, sizeof(d.why), "--delegate off");
	print_report(pl, &k, &d);
	if (!d.active && !strcmp(o.delegate, "require")) {
		fprintf(stderr, "%s sandbox: --delegate require: no delegated "
			"cgroup: %s\n", prog_name, d.why);
		goto out;
	}
	if (o.require_full && incomplete(pl, &d)) {
		fprintf(stderr, "%s sandbox: --require-full: parts of policy %s "
			"would not be enforced (see above); not running %s\n",
			prog_name, p->name, argv[optind]);
		sb_deleg_teardown(&d);
		goto out;
	}
	if (pfd >= 0)
		close(pfd);
	pfd = -1;
	fflush(stderr);
	rc = d.active ? run_delegated(pl, &k, &d, argv + optind) :
			become(pl, &k, &d, argv + optind);
out:
	if (pfd >= 0)
		close(pfd);
	cg_policy_free(p);
	free(pl);
	return rc < 0 ? 1 : rc;
}
