/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The one ABI shared by the BPF programs and user space: map keys and
 * values, verdict constants and limits.  Included by *.bpf.c (with
 * vmlinux.h types) and by user space (with linux/types.h).  Changing any
 * layout here means bumping CG_ABI_VERSION: pinned state from another ABI is
 * refused, never misread.
 */
#ifndef CGGUARD_ABI_H
#define CGGUARD_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define CG_ABI_VERSION		4

/* cgroup_skb return values. */
#define CG_SKB_DROP		0
#define CG_SKB_PASS		1

/* cgroup sock/sock_addr and lsm_cgroup return values. */
#define CG_SOCK_DENY		0	/* the syscall fails with EPERM */
#define CG_SOCK_ALLOW		1

/* Rule actions as stored in compiled entries (same as enum cg_action). */
#define CG_ACT_ALLOW_V		0
#define CG_ACT_DENY_V		1

/* Directions (same as enum cg_dir). */
#define CG_DIR_EGRESS_V		0
#define CG_DIR_INGRESS_V	1

/* Address families inside LPM keys. */
#define CG_FAM_V4		4
#define CG_FAM_V6		6

/*
 * Policy slots.  A compiled policy lives in one slot; every cgroup bound to
 * it points at the slot.  Slot 0 is reserved: it is what an attachment
 * whose binding has not been written yet uses, and cgguard keeps it
 * deny-all (fail-closed) so the first microseconds after attach cannot leak.
 */
#define CG_MAX_SLOTS		64
#define CG_SLOT_UNBOUND		0

/*
 * Per-rule hit counters: CG_RULES_PER_SLOT per slot.  Index 0/1 count the
 * egress/ingress default, rules are numbered from 2 in file order (egress
 * first), and rules past the last index share CG_RULE_OVERFLOW.
 */
#define CG_RULES_PER_SLOT	1024
#define CG_RULE_DEFAULT_EGRESS	0
#define CG_RULE_DEFAULT_INGRESS	1
#define CG_RULE_FIRST		2
#define CG_RULE_OVERFLOW	(CG_RULES_PER_SLOT - 1)
/* Not a rule: unparseable packet dropped because the default is deny. */
#define CG_RULE_UNPARSED	0xffff

#define CG_LPM_MAX_ENTRIES	(1u << 20)

/* Port/protocol ranges per LPM entry (the compiler refuses more). */
#define CG_MAX_RANGES		12

/* Protocol values in ranges: IP protocol numbers; ICMP means 1 or 58. */
#define CG_P_ICMP		1
#define CG_P_TCP		6
#define CG_P_UDP		17
#define CG_P_ICMPV6		58

/* LPM key: {slot, dir, family} is a 32-bit header in front of the address,
 * so prefixlen = 32 + address prefix length. */
#define CG_LPM_HDR_BITS		32
struct cg_lpm_key {
	__u32 prefixlen;
	__u16 slot;
	__u8 dir;
	__u8 family;
	__u8 addr[16];
};

/* A port (and protocol) range with its own decision.  First match wins:
 * the compiler emits ranges already ordered and non-overlapping. */
struct cg_range {
	__u16 lo;
	__u16 hi;
	__u8 proto;
	__u8 action;
	__u16 rule;
};

#define CG_F_AUDIT		(1u << 0)	/* policy mode audit */
#define CG_F_DEFAULT_DENY	(1u << 1)	/* direction default is deny */

/*
 * Decision for every address whose longest matching prefix is this entry:
 * ranges[] first, else (action, rule).  The compiler has already folded in
 * the rules of every shorter prefix containing this one.
 */
struct cg_lpm_val {
	__u16 rule;
	__u8 action;
	__u8 flags;
	__u8 nranges;
	__u8 pad[3];
	struct cg_range r[CG_MAX_RANGES];
};

/* Shared cgroup storage, one per (attached cgroup, attach type). */
struct cg_binding {
	__u32 slot;		/* 0 until user space binds the cgroup */
	__u32 gen;		/* bumped on every policy swap */
	__u64 cgid;		/* the attached cgroup (events, rule hits) */
};

/* sock_create / bind / LSM verdicts, per slot (array map cg_sockcfg). */
#define CG_MAX_BIND_RANGES	16
#define CG_SF_AUDIT		(1u << 0)	/* policy mode audit */
#define CG_SF_KILL		(1u << 1)	/* on_violation: kill (LSM) */
#define CG_SF_FAMILIES		(1u << 2)	/* deny_families enforced */

struct cg_bind_range {
	__u16 lo;
	__u16 hi;
	__u8 action;
	__u8 pad[3];
};

struct cg_sockcfg {
	__u8 raw_action;	/* SOCK_RAW on inet/inet6 */
	__u8 bind_default;
	__u8 flags;		/* CG_SF_* */
	__u8 nbind;
	__u32 pad;
	__u64 deny_families;	/* bit N: AF N denied (LSM layer) */
	struct cg_bind_range bind[CG_MAX_BIND_RANGES];
};

/* Results counted per cgroup and direction. */
#define CG_RES_PASS		0
#define CG_RES_DROP		1
#define CG_RES_AUDIT		2	/* would have been dropped; passed */
#define CG_NR_RES		3

/* Per-CPU cgroup storage, one per (attached cgroup, direction). */
struct cg_counters {
	__u64 pkts[CG_NR_RES];
	__u64 bytes[CG_NR_RES];
	__u64 unparsed;		/* packets the parser could not classify */
};

/* Metadata kept in pinned maps so the CLI needs no daemon. */
#define CG_PATH_MAX		256
/* Policy parts that need a layer other than the packet layer. */
#define CG_WANT_SOCKETS		(1u << 0)	/* has a sockets: section */
#define CG_WANT_LSM		(1u << 1)	/* families or kill: LSM only */
#define CG_NEED_LSM		(1u << 2)	/* ...and may not do without */

struct cg_slot_meta {
	__u32 in_use;
	__u32 nentries;
	__u64 hash;		/* of the compiled policy, for sharing slots */
	__u8 mode;
	__u8 wants;		/* CG_WANT_*: parts needing other layers */
	__u8 pad[2];
	__u32 refs;		/* guarded cgroups bound to it (a hint: eviction
				 * rescans the cgroups for the truth) */
	char name[64];
	char source[CG_PATH_MAX];
};

/* cg_cgroup_meta.flags */
#define CG_CGF_FAIL_OPEN	(1u << 0)	/* apply what can be applied */
#define CG_CGF_DEGRADED		(1u << 1)	/* a wanted layer is missing */

struct cg_cgroup_meta {
	__u32 slot;
	__u32 flags;		/* CG_CGF_* */
	__u64 attached_ns;	/* CLOCK_REALTIME of first attach */
	char path[CG_PATH_MAX];	/* relative to the cgroup2 mount */
};

/* cg_info.lsm_mode */
#define CG_LSM_NONE		0
#define CG_LSM_CGROUP		1	/* lsm_cgroup programs, per cgroup */
#define CG_LSM_GLOBAL		2	/* one global lsm program per hook */

struct cg_info {
	__u32 abi;
	__s32 lsm_err;		/* -errno of the LSM object's load, or 0 */
	__u32 lsm_mode;		/* CG_LSM_* */
	__u32 pad2;
	__u64 degraded;		/* attaches applied without a wanted layer */
	__u64 build;		/* hash of the BPF objects that were loaded */
};

#include "events_abi.h"

#endif
