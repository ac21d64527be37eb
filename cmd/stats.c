// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* cgguard stats [--cgroup PATH] [--sockfilter] */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "cgguard.h"
#include "../cgroup/cgroup.h"
#include "../events/events.h"
#include "nftcmd.h"

struct stats_ctx {
	struct json *j;
	struct cg_guard *g;
	__u64 only;	/* 0: all */
	int found;
	int rules;	/* --rules: this cgroup's rule hits only */
	int unused;	/* --unused: only the rules that never fired */
	/* each policy's hits, summed over its cgroups once per run */
	__u64 *slot_hits[CG_MAX_SLOTS];
};

static const __u64 *policy_hits(struct stats_ctx *c, __u32 slot)
{
	static const __u64 none[CG_RULES_PER_SLOT];

	if (slot >= CG_MAX_SLOTS)
		return none;
	if (!c->slot_hits[slot]) {
		__u64 *h = calloc(CG_RULES_PER_SLOT, sizeof(*h));

		if (!h || cg_guard_rule_hits(c->g, slot, h)) {
			free(h);
			return none;	/* numbers unknown: shown as none */
		}
		c->slot_hits[slot] = h;
	}
	return c->slot_hits[slot];
}

static void print_events(struct json *j, struct cg_guard *g, __u64 cgid)
{
	struct cg_evcounts n;

	cg_guard_evcounts(g, cgid, &n);
	if (!j) {
		printf("  events   emitted %llu  suppressed %llu  lost %llu\n",
		       (unsigned long long)n.emitted,
		       (unsigned long long)n.suppressed,
		       (unsigned long long)n.lost);
		return;
	}
	jw_key(j, "events");
	jw_obj_start(j);
	jw_ku64(j, "emitted", n.emitted);
	jw_ku64(j, "suppressed", n.suppressed);
	jw_ku64(j, "lost", n.lost);
	jw_obj_end(j);
}

/* --rules: every rule counter of the cgroup's policy with its hits in
 * this cgroup; --unused keeps those that never fired. */
static int print_cg_rules(struct stats_ctx *c, const struct cg_status *st)
{
	__u64 *hits = calloc(CG_RULES_PER_SLOT, sizeof(*hits));
	struct cg_policy *p = NULL;
	char txt[384];
	__u32 nctr = 0, i;

	if (!hits)
		return -ENOMEM;
	if (load_slot_policy(st->slot.source, &p))
		p = NULL;	/* file gone: counter numbers only */
	cg_guard_cgrule_hits(c->g, st->cgid, st->meta.slot, hits, &nctr);
	if (c->j) {
		jw_key(c->j, "rules");
		jw_arr_start(c->j);
	} else {
		printf("  rule hits in this cgroup%s:\n",
		       c->unused ? " (rules that never fired)" : "");
	}
	for (i = 0; i < nctr; i++) {
		if (c->unused && hits[i])
			continue;
		cg_rule_counter_text(p, i, txt, sizeof(txt));
		if (!c->j) {
			printf("    %8llu  %s%s\n", (unsigned long long)hits[i],
			       txt, hits[i] ? "" : "   [never fired]");
			continue;
		}
		jw_obj_start(c->j);
		jw_ku64(c->j, "counter", i);
		jw_kstr(c->j, "rule", txt);
		jw_ku64(c->j, "hits", hits[i]);
		jw_kbool(c->j, "unused", !hits[i]);
		jw_obj_end(c->j);
	}
	if (c->j)
		jw_arr_end(c->j);
	cg_policy_free(p);
	free(hits);
	return 0;
}

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
		jw_kstr(c->j, "backend", "bpf");
		jw_kstr(c->j, "policy", st->slot.name);
		jw_kstr(c->j, "mode", st->slot.mode ? "audit" : "enforce");
		if (c->rules) {
			print_cg_rules(c, st);
		} else {
			print_counters(c->j, c->g, st->cgid);
			print_events(c->j, c->g, st->cgid);
			print_rule_hits(c->j, policy_hits(c, st->meta.slot),
					st->slot.source);
		}
		jw_obj_end(c->j);
	} else {
		printf("%s  policy %s (%s)\n", st->meta.path, st->slot.name,
		       st->slot.mode ? "audit" : "enforce");
		if (c->rules)
			return print_cg_rules(c, st);
		print_counters(NULL, c->g, st->cgid);
		print_events(NULL, c->g, st->cgid);
		print_rule_hits(NULL, policy_hits(c, st->meta.slot),
				st->slot.source);
	}
	return 0;
}

int do_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cgroup", required_argument, NULL, 'c' },
		{ "rules", no_argument, NULL, 'r' },
		{ "unused", no_argument, NULL, 'u' },
		{ "sockfilter", no_argument, NULL, 's' },
		COMMON_LONGOPTS, { 0 } };
	struct stats_ctx c = {};
	const char *cgpath = NULL;
	struct cg_cgroup cg;
	struct json j;
	char bmsg[512];
	int opt, err, berr, sf = 0;

	while ((opt = getopt_long(argc, argv, "c:rusjh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': cgpath = optarg; break;
		case 'r': c.rules = 1; break;
		case 'u': c.unused = 1; break;
		case 's': sf = 1; break;
		case 'j': json_output = 1; break;
		case 'h':
			printf("Usage: %s stats [--cgroup PATH [--rules "
			       "[--unused]]] [--json]\n"
			       "       %s stats --sockfilter [--json]\n\n"
			       "Packets and bytes passed, dropped and audited "
			       "per guarded cgroup and direction\n(GSO segments "
			       "counted as packets), events emitted, suppressed "
			       "by the rate\nlimit and lost, and per-rule hits "
			       "of each policy.\n--rules lists every rule of "
			       "the cgroup's policy with its hits in that\n"
			       "cgroup; --unused only the rules that never "
			       "fired there.  Text output ends with\nthe "
			       "counters of the socket filters the daemon handed "
			       "out, per uid and\npolicy; --sockfilter shows "
			       "only those.\n", prog_name, prog_name);
			return 0;
		default: return 2;
		}
	}
	if (no_more_args("stats", argc, argv))
		return 2;
	if ((c.rules || c.unused) && !cgpath) {
		fprintf(stderr, "%s: stats: --rules and --unused need --cgroup "
			"PATH\n", prog_name);
		return 2;
	}
	c.rules |= c.unused;
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
	cg_clearerr();
	berr = cg_guard_open(&c.g, CG_OPEN_RDONLY);
	snprintf(bmsg, sizeof(bmsg), "%s", cg_lasterr());
	if (berr)	/* the nft-backed ones are still shown */
		c.g = NULL;
	if (json_output) {
		jw_init(&j, stdout);
		c.j = &j;
		jw_arr_start(&j);
	}
	err = c.g ? cg_guard_foreach(c.g, stats_one, &c) : 0;
	err |= nft_stats(c.j, cgpath, &c.found);
	/* Nothing pinned is an error unless nft-backed cgroups were shown. */
	if (berr && (berr != -ENOENT || !c.found))
		err = report(cg_seterr(berr, "%s", bmsg), "opening pinned state");
	if (json_output)
		jw_arr_end(&j);
	if (c.g)
		cg_guard_close(c.g);
	for (size_t s = 0; s < CG_MAX_SLOTS; s++)
		free(c.slot_hits[s]);
	if (!err && !json_output && !c.only)
		print_sockfilter_stats(NULL, 1);
	if (!err && c.only && !c.found) {
		fprintf(stderr, "%s: stats: cgroup %s is not guarded\n",
			prog_name, cgpath);
		return 1;
	}
	return err ? 1 : 0;
}
