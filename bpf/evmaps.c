// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * User-space side of the maps in events.bpf.h: per-slot event settings,
 * per-cgroup event counters and rule hits, and their cleanup.  Cleanup is
 * by known keys (the slot's rule counters), never by walking the maps, so
 * a detach costs at most CG_RULES_PER_SLOT + 2 deletes whatever the number
 * of guarded cgroups.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "loader_int.h"

/* Rule counters a policy uses: both defaults and one per rule (the ones
 * past the last index share CG_RULE_OVERFLOW). */
static __u32 policy_nctr(const struct cg_policy *p)
{
	size_t n = CG_RULE_FIRST + p->dir[0].nrules + p->dir[1].nrules;

	return n > CG_RULES_PER_SLOT ? CG_RULES_PER_SLOT : (__u32)n;
}

int cg_evcfg_write(struct cg_guard *g, __u32 slot, const struct cg_policy *p)
{
	struct cg_evcfg c = { .rate = p->events.rate, .burst = p->events.burst,
		.flags = p->events.off ? CG_EVF_OFF : 0, .nctr = policy_nctr(p) };

	if (bpf_map_update_elem(g->map_fd[CG_MAP_EVCFG], &slot, &c, BPF_ANY))
		return bpf_err(-errno, "writing the policy's event settings");
	return 0;
}

static __u32 slot_nctr(struct cg_guard *g, __u32 slot)
{
	struct cg_evcfg c = {};

	if (slot >= CG_MAX_SLOTS ||
	    bpf_map_lookup_elem(g->map_fd[CG_MAP_EVCFG], &slot, &c))
		return 0;
	return c.nctr > CG_RULES_PER_SLOT ? CG_RULES_PER_SLOT : c.nctr;
}

void cg_cgrule_forget(struct cg_guard *g, __u64 cgid, __u32 slot)
{
	struct cg_cgrule_key k = { .cgid = cgid, .slot = slot };
	__u32 n = slot_nctr(g, slot), i;

	for (i = 0; i < n; i++) {
		k.rule = i;
		bpf_map_delete_elem(g->map_fd[CG_MAP_CGRULE_HITS], &k);
	}
	k.rule = CG_RULE_OVERFLOW;
	bpf_map_delete_elem(g->map_fd[CG_MAP_CGRULE_HITS], &k);
	k.rule = CG_RULE_UNPARSED;
	bpf_map_delete_elem(g->map_fd[CG_MAP_CGRULE_HITS], &k);
}

void cg_events_forget(struct cg_guard *g, __u64 cgid, __u32 slot)
{
	bpf_map_delete_elem(g->map_fd[CG_MAP_EVSTATE], &cgid);
	cg_cgrule_forget(g, cgid, slot);
}

int cg_guard_evcounts(struct cg_guard *g, __u64 cgid, struct cg_evcounts *out)
{
	struct cg_evstate st;

	memset(out, 0, sizeof(*out));
	if (bpf_map_lookup_elem(g->map_fd[CG_MAP_EVSTATE], &cgid, &st))
		return errno == ENOENT ? 0 : -errno;
	out->emitted = st.emitted;
	out->suppressed = st.suppressed;
	out->lost = st.lost;
	return 0;
}

static __u64 sum_cpus(struct cg_guard *g, const struct cg_cgrule_key *k,
		      __u64 *pc)
{
	__u64 sum = 0;
	int cpu;

	if (bpf_map_lookup_elem(g->map_fd[CG_MAP_CGRULE_HITS], k, pc))
		return 0;
	for (cpu = 0; cpu < g->ncpus; cpu++)
		sum += pc[cpu];
	return sum;
}

/* The cgroup hooks that count per-cgroup rule hits in their storage. */
static const int hot_hooks[] = { CG_HOOK_EGRESS, CG_HOOK_INGRESS,
	CG_HOOK_CONNECT4, CG_HOOK_CONNECT6, CG_HOOK_SENDMSG4, CG_HOOK_SENDMSG6 };

/* Adds the live entries of @hook's per-CPU hit caches (cg_hot_hit): those
 * of the generation the hook is bound under now, for @slot. */
static void add_hot(struct cg_guard *g, __u64 cgid, int hook, __u32 slot,
		    __u64 *hits, void *pc, size_t stride)
{
	struct bpf_cgroup_storage_key k;
	struct cg_binding b;
	int cpu, i;

	if (g->prog_fd[hook] < 0)
		return;
	storage_key(cgid, hook, &k);
	if (bpf_map_lookup_elem(g->map_fd[CG_MAP_BINDING], &k, &b) ||
	    !b.gen || b.slot != slot ||
	    bpf_map_lookup_elem(g->map_fd[CG_MAP_COUNTERS], &k, pc))
		return;	/* not attached, or bound elsewhere: nothing live */
	for (cpu = 0; cpu < g->ncpus; cpu++) {
		const struct cg_hook_counters *hc =
			(const void *)((const char *)pc + cpu * stride);

		for (i = 0; i < CG_HOT_RULES; i++) {
			const struct cg_hot_hit *h = &hc->hot[i];

			if (h->gen == b.gen && h->slot == slot &&
			    h->rule < CG_RULES_PER_SLOT)
				hits[h->rule] += h->hits;
		}
	}
}

int cg_guard_cgrule_hits(struct cg_guard *g, __u64 cgid, __u32 slot,
			 __u64 *hits, __u32 *nctr)
{
	struct cg_cgrule_key k = { .cgid = cgid, .slot = slot };
	size_t stride = (sizeof(struct cg_hook_counters) + 7) & ~7UL;
	__u64 *pc = calloc(g->ncpus, stride > sizeof(__u64) ? stride :
			   sizeof(__u64));
	__u32 i;

	if (!pc)
		return -ENOMEM;
	memset(hits, 0, CG_RULES_PER_SLOT * sizeof(*hits));
	*nctr = slot_nctr(g, slot);
	for (i = 0; i < *nctr; i++) {
		k.rule = i;
		hits[i] = sum_cpus(g, &k, pc);
	}
	k.rule = CG_RULE_OVERFLOW;
	hits[CG_RULE_OVERFLOW] = sum_cpus(g, &k, pc);
	for (i = 0; i < sizeof(hot_hooks) / sizeof(hot_hooks[0]); i++)
		add_hot(g, cgid, hot_hooks[i], slot, hits, pc, stride);
	free(pc);
	return 0;
}

/* Hits counted per slot: those of attachments not bound yet (gen 0). */
static int slot_hits(struct cg_guard *g, __u32 slot, __u64 *hits)
{
	__u64 *pc = calloc(g->ncpus, sizeof(__u64));
	__u32 i, idx;
	int cpu;

	if (!pc)
		return -ENOMEM;
	for (i = 0; i < CG_RULES_PER_SLOT; i++) {
		hits[i] = 0;
		idx = slot * CG_RULES_PER_SLOT + i;
		if (bpf_map_lookup_elem(g->map_fd[CG_MAP_RULE_HITS], &idx, pc))
			continue;
		for (cpu = 0; cpu < g->ncpus; cpu++)
			hits[i] += pc[cpu];
	}
	free(pc);
	return 0;
}

/*
 * A policy's hits: the sum of the hits of the cgroups it guards now (the
 * programs count per cgroup only: events.bpf.h, count_rule), plus those
 * counted per slot.  A cgroup detached or swapped to another policy takes
 * its hits with it, as it takes its packet counters.
 */
int cg_guard_rule_hits(struct cg_guard *g, __u32 slot, __u64 *hits)
{
	__u64 *one = calloc(CG_RULES_PER_SLOT, sizeof(*one)), id, *prev = NULL;
	struct cg_cgroup_meta m;
	__u32 i, nctr;
	int err;

	if (!one)
		return -ENOMEM;
	err = slot_hits(g, slot, hits);
	while (!err && !bpf_map_get_next_key(g->map_fd[CG_MAP_CGROUPS], prev,
					     &id)) {
		prev = &id;
		if (bpf_map_lookup_elem(g->map_fd[CG_MAP_CGROUPS], &id, &m) ||
		    m.slot != slot)
			continue;
		err = cg_guard_cgrule_hits(g, id, slot, one, &nctr);
		for (i = 0; !err && i < CG_RULES_PER_SLOT; i++)
			hits[i] += one[i];
	}
	free(one);
	return err;
}
