// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Helpers shared by the subcommands. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include "cgguard.h"
#include "../policy/compile.h"
#include "../lib/args.h"
#include "../lib/compat.h"

int report(int err, const char *context)
{
	const char *d = cg_lasterr();

	if (err == -EPERM && !*d)
		d = "permission denied: needs CAP_BPF and CAP_NET_ADMIN";
	fprintf(stderr, "%s: %s: %s\n", prog_name, context,
		*d ? d : strerror(-err));
	return 1;
}

static int have_cap(const struct __user_cap_data_struct *d, int cap)
{
	return !!(d[cap / 32].effective & (1u << (cap % 32)));
}

/* 0 if we hold CAP_BPF (or CAP_SYS_ADMIN) and CAP_NET_ADMIN, else -EPERM. */
static int caps(int *bpf, int *net)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = {};

	*bpf = *net = 1;
	if (syscall(SYS_capget, &h, d))
		return 0;	/* cannot tell: let the kernel decide */
	*bpf = have_cap(d, CAP_BPF) || have_cap(d, CAP_SYS_ADMIN);
	*net = have_cap(d, CAP_NET_ADMIN);
	return *bpf && *net ? 0 : -EPERM;
}

int require_caps_quiet(void)
{
	int bpf, net;

	return caps(&bpf, &net);
}

int require_caps(const char *what)
{
	int bpf, net;

	if (!caps(&bpf, &net))
		return 0;
	fprintf(stderr, "%s: %s needs %s%s%s (run as root)\n", prog_name,
		what, bpf ? "" : "CAP_BPF (or CAP_SYS_ADMIN)",
		!bpf && !net ? " and " : "", net ? "" : "CAP_NET_ADMIN");
	return -EPERM;
}

int parse_fail_mode(const char *s, unsigned *flags)
{
	if (!strcmp(s, "open")) {
		*flags |= CG_ATTACH_FAIL_OPEN;
		return 0;
	}
	if (!strcmp(s, "closed")) {
		*flags &= ~CG_ATTACH_FAIL_OPEN;
		return 0;
	}
	fprintf(stderr, "%s: --fail must be 'open' or 'closed', not '%s'\n",
		prog_name, s);
	return -EINVAL;
}

int arg_error(const char *cmd, const char *opt, const char *arg, const char *why)
{
	char t[80];
	size_t i;

	/* bounded, and no control characters from the command line in messages */
	for (i = 0; arg[i] && i + 4 < sizeof(t); i++)
		t[i] = (unsigned char)arg[i] < 0x20 || arg[i] == 0x7f ? '?' : arg[i];
	snprintf(t + i, sizeof(t) - i, "%s", arg[i] ? "..." : "");
	fprintf(stderr, "%s %s: %s '%s': %s\n", prog_name, cmd, opt, t, why);
	return -EINVAL;
}

int arg_ulong(const char *cmd, const char *opt, const char *arg, unsigned long min,
	      unsigned long max, unsigned long *out)
{
	char why[96];
	const char *w;

	if (!cg_arg_ulong(arg, min, max, out, &w))
		return 0;
	snprintf(why, sizeof(why), "%s; expected a whole number from %lu to %lu", w, min, max);
	return arg_error(cmd, opt, arg, why);
}

int no_more_args(const char *cmd, int argc, char **argv)
{
	if (optind >= argc)
		return 0;
	fprintf(stderr, "%s %s: unexpected argument '%s' (see %s %s --help)\n", prog_name,
		cmd, argv[optind], prog_name, cmd);
	return -EINVAL;
}

int json_only_opts(const char *cmd, int argc, char **argv, void (*usage)(void))
{
	static const struct option opts[] = { COMMON_LONGOPTS, { 0 } };
	int opt;

	while ((opt = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (opt) {
		case 'j': json_output = 1; break;
		case 'h': usage(); return -ECANCELED;
		default: return -EINVAL;	/* getopt said what */
		}
	}
	return no_more_args(cmd, argc, argv);
}

int cgroup_only_opts(const char *cmd, int argc, char **argv,
		     void (*usage)(void), const char **cgpath)
{
	static const struct option opts[] = {
		{ "cgroup", required_argument, NULL, 'c' },
		COMMON_LONGOPTS, { 0 } };
	int opt;

	*cgpath = NULL;
	while ((opt = getopt_long(argc, argv, "c:jh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': *cgpath = optarg; break;
		case 'j': json_output = 1; break;
		case 'h': usage(); return -ECANCELED;
		default: usage(); return -EINVAL;
		}
	}
	if (!*cgpath || optind != argc) {
		fprintf(stderr, "%s %s: --cgroup PATH is required (and nothing "
			"else)\n", prog_name, cmd);
		return -EINVAL;
	}
	return 0;
}

int open_guard(struct cg_guard **g, unsigned flags)
{
	int err;

	cg_clearerr();
	err = cg_guard_open(g, flags);
	if (err)
		report(err, "opening pinned state");
	else
		warn_pin_repairs(*g);
	return err;
}

void warn_pin_repairs(const struct cg_guard *g)
{
	const char *s = g->pins.notice, *e;

	for (; *s; s = *e ? e + 1 : e) {
		e = strchrnul(s, '\n');
		fprintf(stderr, "%s: WARNING: %.*s\n", prog_name, (int)(e - s),
			s);
	}
}

int load_policy(const char *name, struct cg_policy **p)
{
	char err[CG_ERR_MAX];
	int ret = cg_policy_load(name, p, err, sizeof(err));

	if (ret)
		fprintf(stderr, "%s: %s\n", prog_name, err);
	return ret;
}

void counters_text(const char *dir, const struct cg_counters *c)
{
	printf("  %-8s pass %llu pkts %llu B  drop %llu pkts %llu B  "
	       "audit %llu pkts %llu B  unparsed %llu\n", dir,
	       (unsigned long long)c->pkts[CG_RES_PASS],
	       (unsigned long long)c->bytes[CG_RES_PASS],
	       (unsigned long long)c->pkts[CG_RES_DROP],
	       (unsigned long long)c->bytes[CG_RES_DROP],
	       (unsigned long long)c->pkts[CG_RES_AUDIT],
	       (unsigned long long)c->bytes[CG_RES_AUDIT],
	       (unsigned long long)c->unparsed);
}

const char *const res_names[CG_NR_RES] = { "pass", "drop", "audit" };

void counts_json(struct json *j, const char *key, uint64_t pkts,
		 uint64_t bytes)
{
	jw_key(j, key);
	jw_obj_start(j);
	jw_ku64(j, "packets", pkts);
	jw_ku64(j, "bytes", bytes);
	jw_obj_end(j);
}

void counters_json(struct json *j, const char *dir,
		   const struct cg_counters *c)
{
	int i;

	jw_key(j, dir);
	jw_obj_start(j);
	for (i = 0; i < CG_NR_RES; i++)
		counts_json(j, res_names[i], c->pkts[i], c->bytes[i]);
	jw_ku64(j, "unparsed", c->unparsed);
	jw_obj_end(j);
}

/* Socket-layer operations: one counter set per layer, summed over hooks.
 * The four LSM hooks share one storage (attach type BPF_LSM_CGROUP). */
static const struct { const char *name; int hooks[2]; } op_layers[] = {
	{ "connect", { CG_HOOK_CONNECT4, CG_HOOK_CONNECT6 } },
	{ "sendmsg", { CG_HOOK_SENDMSG4, CG_HOOK_SENDMSG6 } },
	{ "bind",    { CG_HOOK_BIND4, CG_HOOK_BIND6 } },
	{ "create",  { CG_HOOK_CREATE, -1 } },
	{ "lsm",     { CG_HOOK_LSM_CREATE, CG_HOOK_GLSM_CREATE } },
};

static void op_counts(struct cg_guard *g, __u64 cgid, int l, __u64 out[3])
{
	struct cg_counters c;
	int i, r;

	out[0] = out[1] = out[2] = 0;
	for (i = 0; i < 2; i++) {
		int h = op_layers[l].hooks[i];

		if (h < 0 || g->prog_fd[h] < 0 || cg_guard_counters(g, cgid, h, &c))
			continue;
		for (r = 0; r < CG_NR_RES; r++)
			out[r] += c.pkts[r];
	}
}

static void print_ops(struct json *j, struct cg_guard *g, __u64 cgid)
{
	size_t l;
	__u64 n[3];

	if (j) {
		jw_key(j, "operations");
		jw_obj_start(j);
	}
	for (l = 0; l < sizeof(op_layers) / sizeof(op_layers[0]); l++) {
		int h = op_layers[l].hooks[0], h2 = op_layers[l].hooks[1];

		if (g->prog_fd[h] < 0 && (h2 < 0 || g->prog_fd[h2] < 0)) {
			if (!j)
				printf("  %-8s (layer unavailable on this kernel)\n",
				       op_layers[l].name);
			continue;
		}
		op_counts(g, cgid, l, n);
		if (!j) {
			printf("  %-8s allowed %llu  denied %llu  audit %llu\n",
			       op_layers[l].name, (unsigned long long)n[0],
			       (unsigned long long)n[1], (unsigned long long)n[2]);
			continue;
		}
		jw_key(j, op_layers[l].name);
		jw_obj_start(j);
		jw_ku64(j, "allowed", n[CG_RES_PASS]);
		jw_ku64(j, "denied", n[CG_RES_DROP]);
		jw_ku64(j, "audit", n[CG_RES_AUDIT]);
		jw_obj_end(j);
	}
	if (j)
		jw_obj_end(j);
}

void print_counters(struct json *j, struct cg_guard *g, __u64 cgid)
{
	static const char *const dirs[2] = { "egress", "ingress" };
	struct cg_counters c;
	int dir;

	for (dir = 0; dir < 2; dir++) {
		if (cg_guard_counters(g, cgid, dir, &c))
			memset(&c, 0, sizeof(c));	/* not attached: zero */
		if (j)
			counters_json(j, dirs[dir], &c);
		else
			counters_text(dirs[dir], &c);
	}
	print_ops(j, g, cgid);
}

int load_slot_policy(const char *source, struct cg_policy **p)
{
	char e[CG_ERR_MAX];

	if (!strncmp(source, "builtin:", 8))
		source += 8;
	return cg_policy_load(source, p, e, sizeof(e));
}

/* Text of counter @ctr, from the policy if it can still be loaded. */
void format_rule_counter(const struct cg_policy *p, uint16_t ctr, char *buf,
			 size_t len)
{
	size_t idx = 0;
	int dir = 0, r;

	if (ctr == CG_RULE_UNPARSED) {
		snprintf(buf, len, "unparsed packet, default deny");
		return;
	}
	r = p ? cg_counter_rule(p, ctr, &dir, &idx) : -ENOENT;
	if (r == 0)
		cg_rule_format(&p->dir[dir].rules[idx], dir, buf, len);
	else if (r == 1)
		snprintf(buf, len, "%s default %s", dir ? "ingress" : "egress",
			 cg_action_str(p->dir[dir].default_action));
	else if (r == 2)
		snprintf(buf, len, "rules past #%d (shared counter)",
			 CG_RULE_OVERFLOW - CG_RULE_FIRST);
	else
		snprintf(buf, len, "counter %u", ctr);
}

void print_rule_hit(struct json *j, const struct cg_policy *p, unsigned ctr,
		    uint64_t pkts)
{
	char txt[256];

	format_rule_counter(p, ctr, txt, sizeof(txt));
	if (j) {
		jw_obj_start(j);
		jw_ku64(j, "counter", ctr);
		jw_kstr(j, "rule", txt);
		jw_ku64(j, "packets", pkts);
		jw_obj_end(j);
	} else {
		printf("    %8" PRIu64 "  %s\n", pkts, txt);
	}
}

/* @hits: CG_RULES_PER_SLOT counters of a policy (cg_guard_rule_hits). */
void print_rule_hits(struct json *j, const __u64 *hits, const char *source)
{
	struct cg_policy *p = NULL;
	unsigned i;

	if (load_slot_policy(source, &p))
		p = NULL;	/* file gone or changed: numbers only */
	if (j) {
		jw_key(j, "rule_hits");
		jw_arr_start(j);
	} else {
		printf("  rule hits, packets and socket operations (summed over every "
		       "cgroup on this policy now):\n");
	}
	for (i = 0; i < CG_RULES_PER_SLOT; i++) {
		int dflt = i == CG_RULE_DEFAULT_EGRESS ||
			   i == CG_RULE_DEFAULT_INGRESS;

		if (hits[i] || (dflt && p))
			print_rule_hit(j, p, i, hits[i]);
	}
	if (j)
		jw_arr_end(j);
	cg_policy_free(p);
}

static volatile pid_t fwd_pid;

static void fwd(int sig)
{
	if (fwd_pid > 0)
		kill(fwd_pid, sig);
}

int wait_forwarding(pid_t pid)
{
	int status = 0;

	fwd_pid = pid;
	signal(SIGINT, fwd);
	signal(SIGTERM, fwd);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	fwd_pid = 0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
