// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * cgguard run --policy P -- CMD [ARGS]: CMD runs in a new transient cgroup
 * that is guarded before CMD's first instruction; its counters are printed
 * when it exits and the cgroup is removed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cgguard.h"
#include "../cgroup/cgroup.h"
#include "../lib/args.h"

static void usage(void)
{
	printf("Usage: %s run --policy NAME|FILE [--cgroup-name NAME] "
	       "[--fail closed|open] [--json]"
	       " -- CMD [ARGS]\n\n"
	       "Runs CMD in a new cgroup cgguard/NAME (default run-PID) below\n"
	       "the cgroup2 mount, guarded by the policy, prints its counters\n"
	       "when it exits (to stderr, or JSON on stdout with --json), and\n"
	       "removes the cgroup.  Exits with CMD's status.\n", prog_name);
}

static pid_t spawn(const struct cg_cgroup *cg, char **argv)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	/* Child: enter the guarded cgroup, then become CMD. */
	if (cg_cgroup_enter(cg, 0)) {
		fprintf(stderr, "%s: run: %s\n", prog_name, cg_lasterr());
		_exit(126);
	}
	execvp(argv[0], argv);
	fprintf(stderr, "%s: run: cannot execute %s: %s\n", prog_name,
		argv[0], strerror(errno));
	_exit(127);
}

static void kill_rest(const struct cg_cgroup *cg)
{
	char p[PATH_MAX + 16];
	int fd;

	/* Daemonized leftovers would keep the cgroup busy (cgroup.kill: 5.14+). */
	snprintf(p, sizeof(p), "%s/cgroup.kill", cg->abs);
	fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "1", 1) < 0) { /* best effort */ }
		close(fd);
	}
}

static void report_counters(struct cg_guard *g, const struct cg_cgroup *cg,
			    const char *policy, int status)
{
	struct json j;

	if (json_output) {
		jw_init(&j, stdout);
		jw_obj_start(&j);
		jw_kstr(&j, "cgroup", cg->rel);
		jw_ku64(&j, "id", cg->id);
		jw_kstr(&j, "policy", policy);
		jw_ku64(&j, "exit_status", status);
		print_counters(&j, g, cg->id);
		jw_obj_end(&j);
		return;
	}
	fflush(stdout);
	printf("cgguard: %s (policy %s) exited with %d; counters:\n",
		cg->rel, policy, status);
	/* print_counters writes to stdout; keep the report in order. */
	fflush(stderr);
	print_counters(NULL, g, cg->id);
	fflush(stdout);
}

int do_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "cgroup-name", required_argument, NULL, 'n' },
		{ "fail", required_argument, NULL, 'f' },
		COMMON_LONGOPTS, { 0 } };
	const char *pol = NULL, *name = NULL, *why;
	struct cg_policy *p = NULL;
	struct cg_guard *g = NULL;
	struct cg_cgroup cg;
	char rel[256];
	unsigned flags = 0;
	pid_t child_pid;
	int opt, err, status = 0, ret = 1;

	while ((opt = getopt_long(argc, argv, "+p:n:f:jh", opts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			if (parse_fail_mode(optarg, &flags))
				return 2;
			break;
		case 'p': pol = optarg; break;
		case 'n': name = optarg; break;
		case 'j': json_output = 1; break;
		case 'h': usage(); return 0;
		default: usage(); return 2;
		}
	}
	if (!pol || optind >= argc) {
		fprintf(stderr, "%s run: --policy and a command are required\n",
			prog_name);
		return 2;
	}
	/* One new directory below cgguard/: never ".", ".." (the shared parent) or a path. */
	if (name && cg_arg_dirname(name, &why)) {
		arg_error("run", "--cgroup-name", name, why);
		return 2;
	}
	if (load_policy(pol, &p))
		return 1;
	if (require_caps("run") || open_guard(&g, CG_OPEN_CREATE))
		goto out;
	cg_clearerr();
	if (name)
		snprintf(rel, sizeof(rel), "cgguard/%s", name);
	else
		snprintf(rel, sizeof(rel), "cgguard/run-%d", (int)getpid());
	err = cg_cgroup_create("cgguard", &cg);
	if (!err)
		err = cg_cgroup_create(rel, &cg);
	if (err) {
		report(err, "run");
		goto out;
	}
	err = cg_guard_attach(g, cg.abs, p, flags, NULL);
	if (err) {
		report(err, "run: attach");
		cg_cgroup_remove(&cg);
		goto out;
	}
	/* Do not hold the state lock while CMD runs: others may attach. */
	cg_guard_close(g);
	g = NULL;
	child_pid = spawn(&cg, argv + optind);
	if (child_pid < 0)
		report(-errno, "run: fork");
	else
		status = wait_forwarding(child_pid);
	kill_rest(&cg);
	if (open_guard(&g, CG_OPEN_CREATE)) {
		cg_cgroup_remove(&cg);
		goto out;
	}
	report_counters(g, &cg, p->name, status);
	cg_guard_detach(g, NULL, cg.id);
	cg_cgroup_remove(&cg);
	ret = child_pid < 0 ? 1 : status;
out:
	cg_guard_close(g);
	cg_policy_free(p);
	return ret;
}
