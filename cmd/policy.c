// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* cgguard policy check FILE: validate and print the compiled table. */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "cgguard.h"
#include "../policy/compile.h"
#include "../bpf/probe.h"

static const char *proto_name(int p)
{
	return p == CG_P_TCP ? "tcp" : p == CG_P_UDP ? "udp" :
	       p == CG_P_ICMP ? "icmp" : "?";
}

static void entry_prefix(const struct cg_entry *e, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	int af = e->key.family == CG_FAM_V4 ? AF_INET : AF_INET6;

	inet_ntop(af, e->key.addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, e->key.prefixlen - CG_LPM_HDR_BITS);
}

/* An entry's ranges: inline, or its port table's segments. */
static size_t entry_ranges(const struct cg_compiled *c, const struct cg_entry *e,
			   struct cg_range *out, size_t max)
{
	size_t n = 0, i, lo = 0, hi = c->nseg;

	if (e->val.nranges != CG_RANGES_IN_TABLE) {
		for (i = 0; i < e->val.nranges && i < max; i++)
			out[n++] = e->val.r[i];
		return n;
	}
	while (lo < hi) {	/* segments are sorted by table */
		size_t mid = lo + (hi - lo) / 2;

		if (c->seg[mid].table < e->val.table)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i < c->nseg && c->seg[i].table == e->val.table &&
	     n < max; i++)
		out[n++] = (struct cg_range){ c->seg[i].lo, c->seg[i].hi,
			c->seg[i].proto, c->seg[i].action, c->seg[i].rule };
	return n;
}

static void print_entry(struct json *j, const struct cg_compiled *c,
			const struct cg_entry *e, struct cg_range *r, size_t max)
{
	static const char *const dirs[2] = { "egress", "ingress" };
	size_t i, n = entry_ranges(c, e, r, max);
	char pfx[64];

	entry_prefix(e, pfx, sizeof(pfx));
	if (!j) {
		printf("  %-7s %-43s else %-5s (counter %u)", dirs[e->key.dir],
		       pfx, cg_action_str(e->val.action), e->val.rule);
		if (e->val.nranges == CG_RANGES_IN_TABLE)
			printf("; port table %u", e->val.table);
		for (i = 0; i < n; i++)
			printf("%s %s %u-%u %s (counter %u)", i ? "," : ";",
			       proto_name(r[i].proto), r[i].lo, r[i].hi,
			       cg_action_str(r[i].action), r[i].rule);
		printf("\n");
		return;
	}
	jw_obj_start(j);
	jw_kstr(j, "direction", dirs[e->key.dir]);
	jw_kstr(j, "prefix", pfx);
	jw_kstr(j, "action", cg_action_str(e->val.action));
	jw_ku64(j, "counter", e->val.rule);
	jw_key(j, "port_table");
	if (e->val.nranges == CG_RANGES_IN_TABLE)
		jw_u64(j, e->val.table);
	else
		jw_null(j);
	jw_key(j, "ranges");
	jw_arr_start(j);
	for (i = 0; i < n; i++) {
		jw_obj_start(j);
		jw_kstr(j, "proto", proto_name(r[i].proto));
		jw_ku64(j, "lo", r[i].lo);
		jw_ku64(j, "hi", r[i].hi);
		jw_kstr(j, "action", cg_action_str(r[i].action));
		jw_ku64(j, "counter", r[i].rule);
		jw_obj_end(j);
	}
	jw_arr_end(j);
	jw_obj_end(j);
}

/* BPF LSM here: 1, 0, or -1 when probing needs privileges we lack. */
static int lsm_here(void)
{
	if (require_caps_quiet())
		return -1;
	return cg_probe(CG_LAYER_LSM_CGROUP)->available || cg_probe(CG_LAYER_LSM)->available;
}

/* Everything attach checks before it touches the kernel (policy/validate.c). */
static int check(const char *file, unsigned flags)
{
	int degraded = 0, lsm = 1;
	struct cg_policy *p;
	struct cg_compiled c;
	struct cg_sockcfg sc;
	char err[CG_ERR_MAX];
	struct cg_range *r;
	struct json j;
	size_t i, max;

	if (load_policy(file, &p))
		return 1;
	if (cg_policy_wants(p) & CG_WANT_LSM)
		lsm = lsm_here();
	if (cg_policy_prepare(p, &c, &sc, err, sizeof(err)) ||
	    cg_policy_layers_check(p, lsm, flags & CG_ATTACH_FAIL_OPEN, &degraded, err,
				   sizeof(err))) {
		fprintf(stderr, "%s: %s\n", prog_name, err);
		cg_compiled_free(&c);
		cg_policy_free(p);
		return 1;
	}
	max = c.nseg > CG_MAX_RANGES ? c.nseg : CG_MAX_RANGES;
	r = malloc(max * sizeof(*r));
	if (!r) {
		fprintf(stderr, "%s: out of memory\n", prog_name);
		cg_compiled_free(&c);
		cg_policy_free(p);
		return 1;
	}
	if (lsm < 0)
		fprintf(stderr, "%s: note: policy '%s' needs the BPF LSM layer; whether this "
			"kernel has it takes CAP_BPF to find out (`cgguard doctor`)\n",
			prog_name, p->name);
	if (degraded)
		fprintf(stderr, "%s: warning: policy '%s' would apply here WITHOUT its LSM "
			"part (sockets.families / kill): BPF LSM is unavailable\n", prog_name,
			p->name);
	if (json_output) {
		jw_init(&j, stdout);
		jw_obj_start(&j);
		jw_kstr(&j, "policy", p->name);
		jw_kstr(&j, "mode", p->mode ? "audit" : "enforce");
		jw_ku64(&j, "egress_rules", p->dir[0].nrules);
		jw_ku64(&j, "ingress_rules", p->dir[1].nrules);
		jw_kbool(&j, "degraded", degraded);
		jw_key(&j, "entries");
		jw_arr_start(&j);
	} else {
		printf("policy %s: valid; mode %s; %zu egress and %zu ingress "
		       "rules -> %zu lookup entries, %zu port tables (%zu "
		       "entries)\n", p->name, p->mode ? "audit" : "enforce",
		       p->dir[0].nrules, p->dir[1].nrules, c.n, c.ntables,
		       c.nport_keys);
	}
	for (i = 0; i < c.n; i++)
		print_entry(json_output ? &j : NULL, &c, &c.e[i], r, max);
	if (json_output) {
		jw_arr_end(&j);
		jw_obj_end(&j);
	}
	free(r);
	cg_compiled_free(&c);
	cg_policy_free(p);
	return 0;
}

static void usage(void)
{
	printf("Usage: %s policy check FILE|NAME [--fail closed|open] [--json]\n\n"
	       "Validates a policy exactly as `attach` would before touching the\n"
	       "kernel (errors as file:line:col; the kernel tables' limits; the\n"
	       "layers it needs, with --fail as for attach) and prints the\n"
	       "compiled lookup table: one entry per prefix, with the rules of\n"
	       "enclosing prefixes already folded in.\n", prog_name);
}

int do_policy(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "fail", required_argument, NULL, 'f' },
		COMMON_LONGOPTS, { 0 } };
	unsigned flags = 0;
	int opt;

	/* Options anywhere: `policy --json check F` and `policy check F --json`. */
	while ((opt = getopt_long(argc, argv, "f:jh", opts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			if (parse_fail_mode(optarg, &flags))
				return 2;
			break;
		case 'j': json_output = 1; break;
		case 'h': usage(); return 0;
		default: usage(); return 2;
		}
	}
	if (optind >= argc || strcmp(argv[optind], "check")) {
		fprintf(stderr, "%s policy: unknown subcommand '%s'; the one there is: check\n",
			prog_name, optind < argc ? argv[optind] : "");
		return 2;
	}
	if (optind + 2 != argc) {
		fprintf(stderr, "%s policy check: exactly one FILE or NAME\n", prog_name);
		return 2;
	}
	return check(argv[optind + 1], flags);
}
