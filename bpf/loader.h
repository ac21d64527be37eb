/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Loader: owns the pinned programs, maps and links under CG_PIN_ROOT.
 *
 * The programs are loaded once (first attach) and pinned; every later
 * cgguard process opens the pins.  Nothing here needs a daemon: the pins
 * are the state.  All functions return 0 or -errno, with detail in
 * cg_lasterr().
 */
#ifndef CGGUARD_LOADER_H
#define CGGUARD_LOADER_H

#include <stdint.h>
#include <linux/types.h>
#include "cgguard_abi.h"
#include "pindir.h"
#include "../policy/policy.h"
#include "../policy/compile.h"

#define CG_BPFFS	"/sys/fs/bpf"
#define CG_PIN_ROOT	CG_BPFFS "/cgguard"

/* Every program cgguard attaches to a cgroup.  The first two equal
 * enum cg_dir, so a direction indexes the packet hooks directly. */
enum cg_hook {
	CG_HOOK_EGRESS,
	CG_HOOK_INGRESS,
	CG_HOOK_CONNECT4,
	CG_HOOK_CONNECT6,
	CG_HOOK_SENDMSG4,
	CG_HOOK_SENDMSG6,
	CG_HOOK_BIND4,
	CG_HOOK_BIND6,
	CG_HOOK_CREATE,
	CG_HOOK_LSM_CREATE,
	CG_HOOK_LSM_CONNECT,
	CG_HOOK_LSM_SENDMSG,
	CG_HOOK_LSM_BIND,
	CG_HOOK_GLSM_CREATE,	/* global lsm flavour: one link, all cgroups */
	CG_HOOK_GLSM_CONNECT,
	CG_HOOK_GLSM_SENDMSG,
	CG_HOOK_GLSM_BIND,
	CG_HOOK_MAX,
};

struct cg_hook_desc {
	const char *name;	/* pin and program name (program: "cg_" NAME) */
	int attach_type;	/* enum bpf_attach_type */
	int layer;		/* enum cg_layer (probe.h) */
	int lsm;		/* lives in the LSM object */
	int global;		/* attached once (lsm), not per cgroup */
};
extern const struct cg_hook_desc cg_hooks[CG_HOOK_MAX];

enum cg_map_id {
	CG_MAP_LPM,
	CG_MAP_BINDING,
	CG_MAP_COUNTERS,
	CG_MAP_RULE_HITS,
	CG_MAP_SLOTS,
	CG_MAP_CGROUPS,
	CG_MAP_INFO,
	CG_MAP_SOCKCFG,
	CG_MAP_LSM_COUNTS,
	CG_MAP_PORTS,
	CG_MAP_SK,
	CG_MAP_EVENTS,		/* events.bpf.h: ring buffer */
	CG_MAP_EVCFG,		/* per-slot event rate */
	CG_MAP_EVSTATE,		/* per-cgroup token bucket and event counts */
	CG_MAP_CGRULE_HITS,	/* per-cgroup rule hits */
	CG_MAP_SK_PEERS,	/* unconnected UDP sockets' recent peers */
	CG_MAP_MAX,
};

struct cg_guard {
	int lock_fd;			/* pins.root, flock()ed */
	struct cg_pindirs pins;		/* the checked pin tree */
	int prog_fd[CG_HOOK_MAX];	/* -1: layer unavailable here */
	__u32 prog_id[CG_HOOK_MAX];
	int map_fd[CG_MAP_MAX];
	int ncpus;
	int stale;		/* pinned programs are from another build */
};

/* Open flags. */
#define CG_OPEN_CREATE	(1u << 0)	/* load and pin if nothing is pinned */
#define CG_OPEN_RDONLY	(1u << 1)	/* shared lock; no changes */

int cg_guard_open(struct cg_guard **out, unsigned flags);
void cg_guard_close(struct cg_guard *g);
/* Drops the pin-root lock but keeps the fds: for long-running readers
 * (monitor), which must not hold off attaches. */
void cg_guard_unlock(struct cg_guard *g);

/* Attach flags. */
#define CG_ATTACH_FAIL_OPEN	(1u << 0)	/* apply without missing layers */
#define CG_ATTACH_DELEGATED	(1u << 1)	/* for an unprivileged caller:
						 * recorded as CG_CGF_DELEGATED */

/*
 * Attaches (or swaps) @p on the cgroup at @cgpath.  A policy that needs a
 * layer this kernel lacks (families, kill: LSM) is refused with -EOPNOTSUPP
 * unless CG_ATTACH_FAIL_OPEN, which applies the rest, marks the cgroup
 * degraded and counts it (cg_info.degraded).  *degraded (may be NULL) is
 * set when that happened.
 */
int cg_guard_attach(struct cg_guard *g, const char *cgpath,
		    const struct cg_policy *p, unsigned flags, int *degraded);
struct cg_cgroup;
/* The same for a cgroup opened by cg_cgroup_open(): attaches through
 * @cgfd, so the directory checked is the one guarded. */
int cg_guard_attach_fd(struct cg_guard *g, const struct cg_cgroup *cg,
		       int cgfd, const struct cg_policy *p, unsigned flags,
		       int *degraded);
/* -ENAMETOOLONG if the cgroup's path does not fit the pinned record. */
int cg_cgroup_check_rel(const struct cg_cgroup *cg);
/* 1 if the LSM layer's programs are loaded (the kernel allowed them). */
int cg_guard_has_lsm(const struct cg_guard *g);
/* Detaches cgguard's own links from a cgroup given by path or id. */
int cg_guard_detach(struct cg_guard *g, const char *cgpath, __u64 cgid);

struct cg_status {
	__u64 cgid;
	struct cg_cgroup_meta meta;
	struct cg_slot_meta slot;
	int cgroup_exists;
	int available[CG_HOOK_MAX];	/* program loaded on this kernel */
	int linked[CG_HOOK_MAX];	/* our link is pinned */
	int enforced[CG_HOOK_MAX];	/* the kernel lists our program */
	__u32 bound_slot[CG_HOOK_MAX];	/* slot in the attachment's storage */
};

typedef int (*cg_status_cb)(const struct cg_status *st, void *ctx);
/* Calls @cb for every guarded cgroup (sorted by path). */
int cg_guard_foreach(struct cg_guard *g, cg_status_cb cb, void *ctx);
int cg_guard_status(struct cg_guard *g, __u64 cgid, struct cg_status *st);

/*
 * Replaces the pinned programs with this binary's on every guarded cgroup
 * (BPF_LINK_UPDATE: no window), keeping maps, policies and counters.
 * *updated: cgroup links switched.  Close and reopen @g afterwards.
 */
int cg_guard_upgrade(struct cg_guard *g, int *updated);

/* Detaches every guarded cgroup whose directory is gone (poststop hooks
 * are unreliable), calling @removed (may be NULL) for each. */
int cg_guard_gc(struct cg_guard *g, cg_status_cb removed, void *ctx);

/* Sums the per-CPU counters of a cgroup's attachment of @hook. */
int cg_guard_counters(struct cg_guard *g, __u64 cgid, int hook,
		      struct cg_counters *out);
/* Sums per-rule hits of a slot: hits[CG_RULES_PER_SLOT]. */
int cg_guard_rule_hits(struct cg_guard *g, __u32 slot, __u64 *hits);

/* ---- events and per-cgroup rule hits (evmaps.c) ------------------------- */

/* Writes the events: settings of @p into @slot (claim_slot). */
int cg_evcfg_write(struct cg_guard *g, __u32 slot, const struct cg_policy *p);
/* Drops the per-cgroup rule hits of @cgid under @slot (swap, detach). */
void cg_cgrule_forget(struct cg_guard *g, __u64 cgid, __u32 slot);
/* Drops everything events keep for @cgid (detach). */
void cg_events_forget(struct cg_guard *g, __u64 cgid, __u32 slot);

struct cg_evcounts {
	__u64 emitted, suppressed, lost;
};
/* Event counters of a guarded cgroup (zero if it never had a denial). */
int cg_guard_evcounts(struct cg_guard *g, __u64 cgid, struct cg_evcounts *out);
/* Rule hits of @cgid under @slot: hits[CG_RULES_PER_SLOT]; *nctr gets the
 * number of counters the slot's policy uses. */
int cg_guard_cgrule_hits(struct cg_guard *g, __u64 cgid, __u32 slot,
			 __u64 *hits, __u32 *nctr);

/* Writes a compiled policy into @slot of the LPM map and its port tables
 * into the cg_ports map (used by tests too); all or nothing. */
int cg_slot_write(int lpm_fd, int ports_fd, __u16 slot,
		  const struct cg_compiled *c);
/* Deletes every entry and port table of @slot. */
int cg_slot_clear(int lpm_fd, int ports_fd, __u16 slot);
/* Writes the reserved deny-all entries of slot 0. */
int cg_slot_write_unbound(int lpm_fd);

#endif
