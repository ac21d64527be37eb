// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * cgguard daemon: binds cgroups to policies by path rules, reloads policy
 * files as they change, garbage-collects removed cgroups, and serves a
 * control socket and Prometheus metrics.  It always runs in the foreground
 * (systemd or the container runtime supervises it) and logs to stderr.
 *
 * It is not needed for enforcement: killing it (even with -9) leaves every
 * pinned program, link and counter in place.  The machinery is in daemon/.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "cgguard.h"
#include "../daemon/daemon.h"
#include "../lib/args.h"

static void usage(void)
{
	printf("Usage: %s daemon [--config FILE] [--policy-dir DIR] "
	       "[--socket PATH]\n"
	       "                      [--metrics ADDR:PORT|off] [--log-level "
	       "LEVEL] [--foreground] [--check]\n\n"
	       "Watches the policy directory (default %s) and the cgroup2\n"
	       "tree, and guards every cgroup that a rule of the config file\n"
	       "(default %s) matches.  A changed policy file is\n"
	       "re-applied to the cgroups bound to it with no unguarded window;\n"
	       "a bad one is rejected whole and the old version stays.\n\n"
	       "  --socket PATH     control socket (default %s), mode 0600\n"
	       "  --metrics A:P     Prometheus /metrics (default %s); port 0\n"
	       "                    picks a free one (see `cgguard ctl status`)\n"
	       "  --log-level L     error, warning, info (default) or debug\n"
	       "  --foreground      accepted for compatibility: always so\n"
	       "  --check           validate config and policies, then exit\n\n"
	       "Signals: SIGHUP reloads everything; SIGTERM stops the daemon,\n"
	       "not the enforcement.  See docs/daemon.md.\n", prog_name,
	       CG_POLICY_DIR, CGD_CONFIG, CGD_SOCKET, CGD_METRICS);
}

static int set_opt(struct cgd *d, int opt, const char *arg)
{
	char *dst = NULL;
	const char *why = NULL;
	size_t len = 0;
	unsigned bit = 0;

	switch (opt) {
	case 'c': dst = d->config_path; len = sizeof(d->config_path); break;
	case 'p': dst = d->policy_dir; len = sizeof(d->policy_dir);
		  bit = CGD_SET_POLICY_DIR; break;
	case 's': dst = d->socket_path; len = sizeof(d->socket_path);
		  bit = CGD_SET_SOCKET; break;
	case 'm': dst = d->metrics_addr; len = sizeof(d->metrics_addr);
		  bit = CGD_SET_METRICS; break;
	case 'l':
		cgd_log_level = cgd_log_level_parse(arg);
		if (cgd_log_level < 0) {
			fprintf(stderr, "%s daemon: --log-level: error, "
				"warning, info or debug\n", prog_name);
			return -EINVAL;
		}
		d->cli_set |= CGD_SET_LOG_LEVEL;
		return 0;
	}
	if ((opt == 'p' || opt == 's') && cg_arg_abspath(arg, &why))
		return arg_error("daemon", opt == 'p' ? "--policy-dir" : "--socket", arg, why);
	if (opt == 'm' && cgd_metrics_addr_check(arg, &why))
		return arg_error("daemon", "--metrics", arg, why);
	if (strlen(arg) >= len || !*arg)
		return arg_error("daemon", "an option", arg, "too long or empty");
	strcpy(dst, arg);
	d->cli_set |= bit;
	return 0;
}

static int policy_dir_ok(struct cgd *d)
{
	char err[CG_ERR_MAX];

	if (!cgd_policy_dir_check(d->policy_dir, err, sizeof(err)))
		return 0;
	fprintf(stderr, "%s daemon: %s\n", prog_name, err);
	return -1;
}

/* --check: what the daemon would load, without touching the kernel. */
static int check_only(struct cgd *d)
{
	size_t i;
	int changed = 0, bad = 0;

	cgd_policies_scan(&d->pol, &d->npol, d->policy_dir, 1, &changed);
	for (i = 0; i < d->npol; i++)
		bad |= d->pol[i].state == CGD_P_ERROR;
	for (i = 0; i < d->cfg.nrules; i++) {
		const struct cgd_rule *r = &d->cfg.rules[i];

		if (cgd_policy_get(&d->pol, &d->npol, r->policy))
			continue;
		fprintf(stderr, "%s:%d: rule '%s' names policy '%s', which is "
			"neither built in nor loaded from %s\n", d->config_path,
			r->line, r->match, r->policy, d->policy_dir);
		bad = 1;
	}
	printf("%s: %zu rule(s), %zu polic%s: %s\n", d->config_path,
	       d->cfg.nrules, d->npol, d->npol == 1 ? "y" : "ies",
	       bad ? "ERRORS" : "ok");
	return bad;
}

int do_daemon(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "policy-dir", required_argument, NULL, 'p' },
		{ "socket", required_argument, NULL, 's' },
		{ "metrics", required_argument, NULL, 'm' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "check", no_argument, NULL, 'k' },
		COMMON_LONGOPTS, { 0 } };
	static struct cgd d;	/* large; lives as long as the daemon */
	int opt, check = 0, err;

	cgd_init(&d);
	cgd_log_init();
	while ((opt = getopt_long(argc, argv, "c:p:s:m:l:fkjh", opts, NULL)) != -1) {
		switch (opt) {
		case 'f': case 'j': break;
		case 'k': check = 1; break;
		case 'h': usage(); return 0;
		case '?': usage(); return 2;
		default:
			if (set_opt(&d, opt, optarg))
				return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "%s daemon: unexpected argument '%s'\n",
			prog_name, argv[optind]);
		return 2;
	}
	/* A bad config at start is fatal: the operator sees it at once, and
	 * what is pinned keeps enforcing meanwhile. */
	if (cgd_load_config(&d, 1) || policy_dir_ok(&d)) {
		cgd_teardown(&d);
		return 1;
	}
	if (check) {
		err = check_only(&d);
		cgd_teardown(&d);
		return err;
	}
	if (require_caps("daemon"))
		return 1;
	cg_clearerr();
	err = cgd_setup(&d);
	if (err) {
		cgd_log(CGD_ERR, "cannot start: %s", *cg_lasterr() ?
			cg_lasterr() : strerror(-err));
	} else {
		err = cgd_run(&d);
	}
	cgd_teardown(&d);
	return err ? 1 : 0;
}
