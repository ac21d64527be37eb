// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * cgguard: container-aware network guard.  Command dispatch in the style
 * of bpftool/iproute2: a cmds[] table, one do_<cmd>() per subcommand.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "cgguard.h"

int json_output;
static int debug;

/* libbpf's own messages (verifier logs...) only with --debug or
 * CGGUARD_DEBUG=1: cgguard reports failures in its own words. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (!debug || (level == LIBBPF_DEBUG && debug < 2))
		return 0;
	return vfprintf(stderr, fmt, ap);
}
const char *prog_name = "cgguard";

static int do_help(int argc, char **argv);

static void version_usage(void)
{
	printf("Usage: %s version [--json]\n", prog_name);
}

static int do_version(int argc, char **argv)
{
	struct json j;
	int err;

	err = argv ? json_only_opts("version", argc, argv, version_usage) : 0;
	if (err)
		return err == -ECANCELED ? 0 : 2;
	if (json_output) {
		jw_init(&j, stdout);
		jw_obj_start(&j);
		jw_kstr(&j, "version", CG_VERSION);
		jw_ku64(&j, "abi", CG_ABI_VERSION);
		jw_obj_end(&j);
	} else {
		printf("cgguard %s (pinned-state ABI %d)\n", CG_VERSION,
		       CG_ABI_VERSION);
	}
	return 0;
}

static const struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} cmds[] = {
	{ "attach",  do_attach,  "attach a policy to a cgroup (or swap it)" },
	{ "detach",  do_detach,  "remove cgguard's links from a cgroup" },
	{ "list",    do_list,    "guarded cgroups: requested vs enforced" },
	{ "stats",   do_stats,   "per-cgroup and per-rule counters" },
	{ "sockets", do_sockets, "a guarded cgroup's sockets and their verdicts" },
	{ "monitor", do_monitor, "stream an event for every denial" },
	{ "explain", do_explain, "which rule decides a connection, and why" },
	{ "run",     do_run,     "run a command in a new guarded cgroup" },
	{ "sandbox", do_sandbox, "run a command restricted without privilege" },
	{ "policy",  do_policy,  "policy tools: check FILE" },
	{ "export",  do_export,  "print the nftables script of a policy (export nft)" },
	{ "gc",      do_gc,      "forget guarded cgroups that were removed" },
	{ "upgrade", do_upgrade, "run this build's programs on every guarded cgroup" },
	{ "doctor",  do_doctor,  "what this host can enforce; BPF hardening" },
	{ "daemon",  do_daemon,  "watch policies and cgroups; metrics" },
	{ "ctl",     do_ctl,     "talk to the daemon: status, reload, list" },
	{ "oci-hook", do_oci_hook, "OCI runtime hook (createRuntime/poststop)" },
	{ "version", do_version, "print the version" },
	{ "help",    do_help,    "this text" },
	{ NULL, NULL, NULL },
};

static int do_help(int argc, char **argv)
{
	const struct cmd *c;

	if (argc > 1) {
		fprintf(stderr, "%s help: unexpected argument '%s' (try %s %s --help)\n",
			prog_name, argv[1], prog_name, argv[1]);
		return 2;
	}
	printf("Usage: %s [--json] [--debug] COMMAND [ARGS]\n\n"
	       "Attach per-cgroup network policy with eBPF and read its "
	       "counters.\nState is pinned under %s; no daemon is needed.\n\n"
	       "Commands:\n", prog_name, CG_PIN_ROOT);
	for (c = cmds; c->name; c++)
		printf("  %-9s %s\n", c->name, c->help);
	printf("\n'%s COMMAND --help' describes a command; man cgguard(8).\n",
	       prog_name);
	return 0;
}

int main(int argc, char **argv)
{
	const struct cmd *c;
	int i;

	if (getenv("CGGUARD_DEBUG"))
		debug = atoi(getenv("CGGUARD_DEBUG"));
	libbpf_set_print(libbpf_print);
	/* Global options before the command. */
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j"))
			json_output = 1;
		else if (!strcmp(argv[i], "--debug") || !strcmp(argv[i], "-d"))
			debug++;
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return do_help(0, NULL);
		else if (!strcmp(argv[i], "--version") || !strcmp(argv[i], "-V"))
			return do_version(0, NULL);
		else {
			fprintf(stderr, "%s: unknown option '%s' (see --help)\n",
				prog_name, argv[i]);
			return 2;
		}
	}
	if (i == argc) {
		do_help(0, NULL);
		return 2;
	}
	for (c = cmds; c->name; c++)
		if (!strcmp(c->name, argv[i]))
			return c->fn(argc - i, argv + i);
	fprintf(stderr, "%s: unknown command '%s' (see --help)\n", prog_name,
		argv[i]);
	return 2;
}
