// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The CLI side of the nft backend (netfilter-compat/): what attach,
 * detach, list, stats and gc do for nft-guarded cgroups, and
 * `cgguard export nft`.  The other subcommands only dispatch here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include "cgguard.h"
#include "nftcmd.h"
#include "../cgroup/cgroup.h"
#include "../netfilter-compat/nft.h"

/* What this backend cannot do, said wherever it lists a cgroup. */
#define NOT_NFT "not by the nft backend"
static const struct { const char *name, *why; } nft_gaps[] = {
	{ "connect", NOT_NFT ": a denied connect's packets are dropped, "
		     "connect() times out instead of failing with EPERM" },
	{ "sendmsg", NOT_NFT ": no socket-layer check; a datagram dropped "
		     "in the output hook still fails with EPERM" },
	{ "bind",    NOT_NFT ": no bind policy" },
	{ "create",  NOT_NFT ": no raw-socket policy" },
	{ "lsm",     NOT_NFT ": no socket-family policy or kill" },
};
#define NGAPS (sizeof(nft_gaps) / sizeof(nft_gaps[0]))

static int gap_requested(const struct cg_nft_rec *r, size_t i)
{
	if (!strcmp(nft_gaps[i].name, "lsm"))
		return !!(r->wants & CG_WANT_LSM);
	if (!strcmp(nft_gaps[i].name, "bind") ||
	    !strcmp(nft_gaps[i].name, "create"))
		return !!(r->wants & CG_WANT_SOCKETS);
	return 1;	/* the BPF backend would answer EPERM */
}

/* nftables needs CAP_NET_ADMIN; entering the cgroup's network namespace
 * (setns) and the private cgroup2 mount of the read-back CAP_SYS_ADMIN. */
static int nft_caps(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = {};
	int net, sys;

	if (syscall(SYS_capget, &h, d))
		return 0;	/* cannot tell: let the kernel decide */
	net = !!(d[0].effective & (1u << CAP_NET_ADMIN));
	sys = !!(d[0].effective & (1u << CAP_SYS_ADMIN));
	if (net && sys)
		return 0;
	fprintf(stderr, "%s: attach --backend nft needs %s%s%s (run as root)\n",
		prog_name, net ? "" : "CAP_NET_ADMIN", !net && !sys ? " and " : "",
		sys ? "" : "CAP_SYS_ADMIN (to enter the network namespace)");
	return -EPERM;
}

int nft_attach_cmd(const char *cgpath, const char *pol, const char *netns,
		   unsigned flags)
{
	struct cg_policy *p = NULL;
	int err, degraded = 0;

	if (load_policy(pol, &p))
		return 1;
	if (nft_caps()) {
		cg_policy_free(p);
		return 1;
	}
	cg_clearerr();
	err = cg_nft_attach(cgpath, netns, p, flags, &degraded);
	if (err) {
		report(err, "attach --backend nft");
		goto out;
	}
	if (degraded)
		fprintf(stderr, "%s: warning: policy '%s' applied WITHOUT its "
			"sockets:/kill part: the nft backend enforces packet "
			"rules only\n", prog_name, p->name);
	if (json_output)
		err = cg_nft_status_of(cgpath, nft_list_one, NULL) ? -EIO : 0;
out:
	cg_policy_free(p);
	return err ? 1 : 0;
}

int nft_detach_cmd(const char *cgpath)
{
	struct cg_guard *g;
	int err;

	cg_clearerr();
	err = cg_nft_detach(cgpath, 0);
	if (err == -ENOENT)
		return -ENOENT;		/* not nft-guarded: the BPF backend's */
	if (err)
		return report(err, "detach (nft backend)");
	/* Guarded by both backends: the BPF part goes too. */
	if (!cg_guard_open(&g, 0)) {
		cg_guard_detach(g, cgpath, 0);
		cg_guard_close(g);
	}
	cg_clearerr();
	return 0;
}

static void list_text(const struct cg_nft_status *st)
{
	const struct cg_nft_rec *r = &st->rec;
	size_t i;

	printf("%-32s %-12s %-8s backend:nft(netns %s) packet:", r->path,
	       r->policy, r->mode ? "audit" : "enforce", r->netns);
	if (st->why)
		printf("NOT-ENFORCED(%s)", st->why);
	else
		printf("on");
	for (i = 0; i < NGAPS; i++)
		if (gap_requested(r, i))
			printf(" %s:NOT-ENFORCED(%s)", nft_gaps[i].name,
			       NOT_NFT);
	if (r->flags & CG_CGF_DEGRADED)
		printf(" DEGRADED(applied without its sockets: part)");
	printf("\n");
}

int nft_list_one(const struct cg_nft_status *st, void *ctx)
{
	const struct cg_nft_rec *r = &st->rec;
	struct json jl, *j = ctx;
	size_t i;

	if (!json_output) {
		list_text(st);
		return 0;
	}
	if (!j) {		/* attach --json: one object */
		jw_init(&jl, stdout);
		j = &jl;
	}
	jw_obj_start(j);
	jw_kstr(j, "cgroup", r->path);
	jw_ku64(j, "id", r->cgid);
	jw_kstr(j, "backend", "nft");
	jw_kstr(j, "netns", r->netns);
	jw_kstr(j, "policy", r->policy);
	jw_kstr(j, "source", r->source);
	jw_kstr(j, "mode", r->mode ? "audit" : "enforce");
	jw_kbool(j, "cgroup_exists", st->cgroup_exists);
	jw_kstr(j, "fail", r->flags & CG_CGF_FAIL_OPEN ? "open" : "closed");
	jw_kbool(j, "degraded", !!(r->flags & CG_CGF_DEGRADED));
	jw_ku64(j, "generation", st->kgen);
	jw_kbool(j, "enforced", !st->why);
	jw_key(j, "layers");
	jw_obj_start(j);
	jw_key(j, "packet");
	jw_obj_start(j);
	jw_kbool(j, "requested", 1);
	jw_kbool(j, "enforced", !st->why);
	if (st->why)
		jw_kstr(j, "reason", st->why);
	jw_kbool(j, "egress_hooked", st->hooked[CG_DIR_EGRESS]);
	jw_kbool(j, "ingress_hooked", st->hooked[CG_DIR_INGRESS]);
	jw_obj_end(j);
	for (i = 0; i < NGAPS; i++) {
		jw_key(j, nft_gaps[i].name);
		jw_obj_start(j);
		jw_kbool(j, "requested", gap_requested(r, i));
		jw_kbool(j, "enforced", 0);
		jw_kstr(j, "reason", nft_gaps[i].why);
		jw_obj_end(j);
	}
	jw_obj_end(j);
	jw_obj_end(j);
	return 0;
}

int nft_list_all(struct json *j)
{
	int err;

	cg_clearerr();
	err = cg_nft_foreach(nft_list_one, j);
	return err ? report(err, "list (nft backend)") : 0;
}

/* ---- stats ------------------------------------------------------------- */

static void ctr_out(struct json *j, const char *dir,
		    const struct cg_nft_dir_ctr *c)
{
	int i;

	if (!j) {
		printf("  %-8s pass %" PRIu64 " pkts %" PRIu64 " B  drop %"
		       PRIu64 " pkts %" PRIu64 " B  audit %" PRIu64 " pkts %"
		       PRIu64 " B  (established %" PRIu64 " pkts)\n", dir,
		       c->pkts[0], c->bytes[0], c->pkts[1], c->bytes[1],
		       c->pkts[2], c->bytes[2], c->est_pkts);
		return;
	}
	jw_key(j, dir);
	jw_obj_start(j);
	for (i = 0; i < CG_NR_RES; i++)
		counts_json(j, res_names[i], c->pkts[i], c->bytes[i]);
	counts_json(j, "established", c->est_pkts, c->est_bytes);
	jw_obj_end(j);
}

static void hits_out(struct json *j, const struct cg_nft_status *st)
{
	struct cg_policy *p = NULL;
	unsigned i;

	if (load_slot_policy(st->rec.source, &p))
		p = NULL;	/* file gone or changed: numbers only */
	if (j) {
		jw_kbool(j, "rule_hits_folded", st->folded);
		jw_key(j, "rule_hits");
		jw_arr_start(j);
	} else {
		printf("  rule hits, packets of new connections%s:\n",
		       st->folded ? " (attribution folded: policy has more "
		       "distinct decisions than the nft backend keeps apart)"
		       : "");
	}
	for (i = 0; i < CG_RULES_PER_SLOT && st->hits; i++) {
		if (st->hits[i])
			print_rule_hit(j, p, i, st->hits[i]);
	}
	if (j)
		jw_arr_end(j);
	cg_policy_free(p);
}

struct stats_ctx {
	struct json *j;
	int *found;
};

static int stats_one(const struct cg_nft_status *st, void *arg)
{
	struct stats_ctx *c = arg;
	struct json *j = c->j;
	const struct cg_nft_rec *r = &st->rec;

	*c->found = 1;
	if (j) {
		jw_obj_start(j);
		jw_kstr(j, "cgroup", r->path);
		jw_ku64(j, "id", r->cgid);
		jw_kstr(j, "backend", "nft");
		jw_kstr(j, "policy", r->policy);
		jw_kstr(j, "mode", r->mode ? "audit" : "enforce");
		jw_kbool(j, "enforced", !st->why);
	} else {
		printf("%s  policy %s (%s)  backend nft, netns %s%s%s\n",
		       r->path, r->policy, r->mode ? "audit" : "enforce",
		       r->netns, st->why ? ": NOT ENFORCED: " : "",
		       st->why ? st->why : "");
	}
	ctr_out(j, "egress", &st->ctr[CG_DIR_EGRESS]);
	ctr_out(j, "ingress", &st->ctr[CG_DIR_INGRESS]);
	hits_out(j, st);
	if (j)
		jw_obj_end(j);
	return 0;
}

int nft_stats(struct json *j, const char *cgpath, int *found)
{
	struct stats_ctx c = { j, found };
	int err;

	cg_clearerr();
	if (cgpath) {
		err = cg_nft_status_of(cgpath, stats_one, &c);
		if (err == -ENOENT)
			return 0;
	} else {
		err = cg_nft_foreach(stats_one, &c);
	}
	return err ? report(err, "stats (nft backend)") : 0;
}

/* ---- gc ------------------------------------------------------------------ */

static int gc_one(const struct cg_nft_rec *r, int updated, void *ctx)
{
	struct json *j = ctx;

	if (j)
		jw_str(j, r->path);
	else if (updated)
		printf("updated %s (policy %s, nft backend): cgroup was "
		       "recreated; rules now match its new id\n", r->path,
		       r->policy);
	else
		printf("removed %s (policy %s, nft backend): cgroup is gone\n",
		       r->path, r->policy);
	return 0;
}

int nft_gc(struct json *j)
{
	int err;

	cg_clearerr();
	err = cg_nft_gc(gc_one, j);
	return err ? report(err, "gc (nft backend)") : 0;
}

/* ---- export ---------------------------------------------------------------- */

static void export_usage(void)
{
	printf("Usage: %s export nft --cgroup PATH --policy NAME|FILE [--json]\n"
	       "\nPrints the nftables script that `attach --backend nft` would "
	       "load\n(generation 1, nothing applied): table inet %s, its "
	       "base chains,\nthe cgroup's chains and interval maps, and the "
	       "dispatch rules.\n`nft -c -f FILE` checks it; `nft -f FILE` "
	       "loads it.\n", prog_name, CG_NFT_TABLE);
}

int do_export(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cgroup", required_argument, NULL, 'c' },
		{ "policy", required_argument, NULL, 'p' },
		COMMON_LONGOPTS, { 0 } };
	const char *cgpath = NULL, *pol = NULL;
	struct cg_nft_target t;
	struct cg_policy *p = NULL;
	char *buf = NULL;
	size_t len = 0;
	struct json j;
	int opt, err;
	FILE *o;

	while ((opt = getopt_long(argc, argv, "c:p:jh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': cgpath = optarg; break;
		case 'p': pol = optarg; break;
		case 'j': json_output = 1; break;
		case 'h': export_usage(); return 0;
		default: export_usage(); return 2;
		}
	}
	if (optind != argc - 1 || strcmp(argv[optind], "nft") || !cgpath ||
	    !pol) {
		fprintf(stderr, "%s export: usage: export nft --cgroup PATH "
			"--policy P\n", prog_name);
		return 2;
	}
	if (load_policy(pol, &p))
		return 1;
	cg_clearerr();
	err = cg_nft_target(cgpath, &t);
	o = err ? NULL : open_memstream(&buf, &len);
	if (!err && !o)
		err = -ENOMEM;
	if (!err) {
		err = cg_nft_script(o, p, &t, 1, NULL);
		fclose(o);
	}
	if (err) {
		report(err, "export");
	} else if (json_output) {
		jw_init(&j, stdout);
		jw_obj_start(&j);
		jw_kstr(&j, "cgroup", t.rel);
		jw_ku64(&j, "id", t.cgid);
		jw_ku64(&j, "level", t.level);
		jw_kstr(&j, "policy", p->name);
		jw_kstr(&j, "script", buf);
		jw_obj_end(&j);
	} else {
		fwrite(buf, 1, len, stdout);
	}
	free(buf);
	cg_policy_free(p);
	return err ? 1 : 0;
}
