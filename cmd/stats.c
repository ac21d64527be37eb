// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* cgguard stats [--cgroup PATH] [--sockfilter] */
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include "cgguard.h"
#include "../cgroup/cgroup.h"

struct stats_ctx {
	struct json *j;
	struct cg_guard *g;
	__u64 only;	/* 0: all */
	int found;
};

static int stats_one(const struct cg_status *st, void *arg)
{
	struct stats_ctx *c = arg;

	if (c->only && st->cgid != c->only)
		return 0;
	c->found = 1;
	if (c->j) {
		jw_obj_start(c->j);
		jw_kstr(c->j, "cgroup", st->meta.path);
		jw_ku64(c->j, "id", st->cgid);
		jw_kstr(c->j, "policy", st->slot.name);
		jw_kstr(c->j, "mode", st->slot.mode ? "audit" : "enforce");
		print_counters(c->j, c->g, st->cgid);
		print_rule_hits(c->j, c->g, st->meta.slot, st->slot.source);
		jw_obj_end(c->j);
	} else {
		printf("%s  policy %s (%s)\n", st->meta.path, st->slot.name,
		       st->slot.mode ? "audit" : "enforce");
		print_counters(NULL, c->g, st->cgid);
		print_rule_hits(NULL, c->g, st->meta.slot, st->slot.source);
	}
	return 0;
}

int do_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cgroup", required_argument, NULL, 'c' },
		{ "sockfilter", no_argument, NULL, 's' },
		COMMON_LONGOPTS, { 0 } };
	struct stats_ctx c = {};
	const char *cgpath = NULL;
	struct cg_cgroup cg;
	struct json j;
	int opt, err, sf = 0;

	while ((opt = getopt_long(argc, argv, "c:sjh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': cgpath = optarg; break;
		case 's': sf = 1; break;
		case 'j': json_output = 1; break;
		case 'h':
			printf("Usage: %s stats [--cgroup PATH] [--json]\n"
			       "       %s stats --sockfilter [--json]\n\n"
			       "Packets and bytes passed, dropped and audited "
			       "per guarded cgroup and direction\n(GSO segments "
			       "counted as packets), and per-rule hits.  Text "
			       "output ends with the\ncounters of the socket "
			       "filters the daemon handed out, per uid and\n"
			       "policy; --sockfilter shows only those.\n",
			       prog_name, prog_name);
			return 0;
		default: return 2;
		}
	}
	if (sf) {
		if (json_output)
			jw_init(&j, stdout);
		return print_sockfilter_stats(json_output ? &j : NULL, 0) ? 1 : 0;
	}
	if (cgpath) {
		cg_clearerr();
		err = cg_cgroup_resolve(cgpath, &cg);
		if (err)
			return report(err, "stats");
		c.only = cg.id;
	}
	if (open_guard(&c.g, CG_OPEN_RDONLY))
		return 1;
	if (json_output) {
		jw_init(&j, stdout);
		c.j = &j;
		jw_arr_start(&j);
	}
	err = cg_guard_foreach(c.g, stats_one, &c);
	if (json_output)
		jw_arr_end(&j);
	cg_guard_close(c.g);
	if (!err && !json_output && !c.only)
		print_sockfilter_stats(NULL, 1);
	if (!err && c.only && !c.found) {
		fprintf(stderr, "%s: stats: cgroup %s is not guarded\n",
			prog_name, cgpath);
		return 1;
	}
	return err ? 1 : 0;
}
