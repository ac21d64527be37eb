/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Events ABI (part of cgguard_abi.h, which includes it: CG_ABI_VERSION
 * covers these layouts too).  One event per denial, audit-mode would-be
 * denial and LSM kill, through the ring buffer cg_events, rate-limited per
 * guarded cgroup by a token bucket in the kernel (cg_evstate), configured
 * per policy slot (cg_evcfg).  Counters are the truth; events are best
 * effort, and for every cgroup
 *	emitted + suppressed + lost = denials and audits seen by an event site
 */
#ifndef CGGUARD_EVENTS_ABI_H
#define CGGUARD_EVENTS_ABI_H

#ifndef __VMLINUX_H__
#include <linux/bpf.h>	/* struct bpf_spin_lock */
#endif

/* Layers, as in the issue and design.md. */
#define CG_EVL_PACKET		0
#define CG_EVL_CONNECT		1
#define CG_EVL_SENDMSG		2
#define CG_EVL_BIND		3
#define CG_EVL_CREATE		4
#define CG_EVL_LSM		5
#define CG_EVL_MAX		6

/* Event verdicts: the CG_RES_* values, plus kill (LSM on_violation). */
#define CG_EVV_DROP		1	/* = CG_RES_DROP */
#define CG_EVV_AUDIT		2	/* = CG_RES_AUDIT */
#define CG_EVV_KILL		3

#define CG_EV_RING_BYTES	(1u << 22)	/* 4 MiB: ~40k events */

struct cg_event {
	__u64 ts_ns;		/* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 cgid;		/* the guarded cgroup whose policy decided */
	__u64 sk_cgid;		/* the socket's (or task's) own cgroup */
	__u64 cookie;		/* socket cookie, 0 if none */
	__u32 pid;		/* tgid; 0 where the layer has no process
				 * context (the packet layer) */
	__u32 gen;		/* binding generation (bumped per swap) */
	__u16 rule;		/* counter index: CG_RULE_DEFAULT_*,
				 * CG_RULE_FIRST + n, CG_RULE_UNPARSED;
				 * CG_RULE_NONE for socket-config verdicts */
	__u8 layer;		/* CG_EVL_* */
	__u8 dir;		/* CG_DIR_*_V */
	__u8 verdict;		/* CG_EVV_* */
	__u8 proto;		/* IP protocol (ICMPv6 shown as ICMP) */
	__u8 family;		/* CG_FAM_V4/V6; AF_* for create/lsm create */
	__u8 slot;		/* policy slot */
	__u16 sport;		/* host order, 0 if unknown */
	__u16 dport;
	__u32 sotype;		/* socket type for create (SOCK_*), else 0 */
	__u8 saddr[16];		/* IPv4 in the first 4 bytes */
	__u8 daddr[16];
	char comm[16];
};

/* Not a rule: decided by the policy's sockets: section (bind, create). */
#define CG_RULE_NONE		0xfffe

#define CG_EVF_OFF		(1u << 0)	/* events: off */

/* Per policy slot (array cg_evcfg). */
struct cg_evcfg {
	__u32 rate;		/* events per second */
	__u32 burst;		/* bucket size */
	__u32 flags;		/* CG_EVF_* */
	__u32 nctr;		/* rule counters the policy uses (user space:
				 * which per-cgroup hit entries to clean) */
};

/* Per guarded cgroup (hash cg_evstate, keyed by cgroup id). */
struct cg_evstate {
	struct bpf_spin_lock lock;
	__u32 pad;
	__u64 tokens;		/* in 1e-9 tokens */
	__u64 last_ns;		/* last refill */
	__u64 emitted;
	__u64 suppressed;	/* bucket empty */
	__u64 lost;		/* ring buffer full */
};

/* Per (guarded cgroup, policy slot, rule counter), per CPU: rule hits
 * (hash cg_cgrule_hits).  The slot in the key keeps a swapped policy's
 * hits apart; user space removes a cgroup's entries on swap and detach. */
struct cg_cgrule_key {
	__u64 cgid;
	__u32 slot;
	__u32 rule;
};
#define CG_CGRULE_MAX_ENTRIES	(1u << 20)
#define CG_EVSTATE_MAX_ENTRIES	65536

#endif
