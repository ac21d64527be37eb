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

#define CG_ABI_VERSION		8

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

/*
 * Port/protocol ranges kept inline in an LPM entry.  An entry needing more
 * ranges keeps them all in the port table cg_ports instead (nranges ==
 * CG_RANGES_IN_TABLE): one more LPM lookup, whatever the number of ports.
 */
#define CG_MAX_RANGES		12
#define CG_RANGES_IN_TABLE	0xff

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
	__u8 nranges;		/* or CG_RANGES_IN_TABLE */
	__u8 pad[3];
	__u32 table;		/* CG_RANGES_IN_TABLE: cg_port_key.table */
	struct cg_range r[CG_MAX_RANGES];
};

/*
 * Port tables (LPM trie cg_ports): key {table, proto, port} with the port
 * big-endian, so a port range splits into at most 2*16 prefixes and a
 * lookup costs the same for 13 ports or 60,000.  table = slot <<
 * CG_TABLE_SLOT_SHIFT | index of the table within the compiled policy.
 * A miss means no range of that entry holds the port: the entry's own
 * (action, rule) decides, exactly as after an inline scan.
 */
#define CG_PORT_HDR_BITS	40	/* table (32) + proto (8) */
#define CG_TABLE_SLOT_SHIFT	20
#define CG_PORT_MAX_ENTRIES	(1u << 20)
struct cg_port_key {
	__u32 prefixlen;	/* CG_PORT_HDR_BITS + port prefix length */
	__u32 table;
	__u8 proto;
	__u8 port[2];		/* network byte order */
	__u8 pad;
};

struct cg_port_val {
	__u16 rule;
	__u8 action;
	__u8 pad;
};

/*
 * Shared cgroup storage, one per (attached cgroup, attach type).  gen is
 * unique per bind (cg_info.last_gen + 1, never 0), the same for every hook
 * of one cgroup bound together: it names "this policy on this attachment",
 * which is what a socket's cached verdict is tagged with.
 */
struct cg_binding {
	__u32 slot;		/* 0 until user space binds the cgroup */
	__u32 gen;		/* changes on every bind or policy swap */
	__u64 cgid;		/* the attached cgroup (events, rule hits) */
};

/*
 * Per-socket verdict cache: BPF_MAP_TYPE_SK_STORAGE "cg_sk", pinned at
 * map/cg_sk, created with BPF_F_CLONE (an accepted socket starts with a
 * copy of its listener's value, so it knows it was opened inbound).
 * sock_diag returns it with INET_DIAG_REQ_SK_BPF_STORAGES.
 *
 * A connection (TCP, connected UDP) is judged once, in the direction it
 * was opened; v[] holds that verdict per guarded attachment the socket
 * passes (nested guarded cgroups: one each), tagged with the binding
 * generation.  A packet whose attachment's gen is not in v[] (socket
 * older than the attach, or policy swapped since) is judged again.
 *
 * Unconnected UDP remembers peers in a map of its own, "cg_sk_peers"
 * (struct cg_sk_peers, pinned at map/cg_sk_peers, no clone): a datagram
 * from a peer this socket exchanged an allowed datagram with in the last
 * CG_SK_PEER_TTL_S seconds is part of that exchange (a reply, or the
 * answer to one).  Kept apart so that a TCP connection's storage is 32
 * bytes, not 350: the kernel allocates it at every connect() and accept.
 */
#define CG_SK_VERDICTS		2
#define CG_SK_PEERS		8
#define CG_SK_PEER_TTL_S	30

/* cg_sk.role: how the socket's connections are opened. */
#define CG_SKR_UNKNOWN		0	/* no connect() seen: opened before attach */
#define CG_SKR_OUTBOUND		1	/* connect()/sendmsg() judged by egress rules */
#define CG_SKR_LISTENER		2	/* a TCP listener (children inherit this) */
#define CG_SKR_INBOUND		3	/* accepted: judged by ingress rules */

/* cg_sk_verdict.flags, cg_sk_peer.flags */
#define CG_SKF_AUDIT		(1u << 0)	/* policy in audit mode: deny counted as audit, passed */
#define CG_SKF_INGRESS		(1u << 1)	/* judged by the ingress rules (opened inbound) */

struct cg_sk_verdict {
	__u32 gen;		/* cg_binding.gen that judged; 0: empty */
	__u16 slot;		/* policy slot that judged */
	__u16 rule;		/* counter index of the deciding rule (CG_RULE_*) */
	__u8 action;		/* CG_ACT_*_V */
	__u8 flags;		/* CG_SKF_* */
	__u8 pad[2];
};

struct cg_sk_peer {
	__u8 addr[16];		/* peer; IPv4 (and IPv4-mapped) in addr[0..3] */
	__u16 port;		/* peer port, host order */
	__u8 family;		/* CG_FAM_V4 / CG_FAM_V6; 0: empty */
	__u8 flags;		/* CG_SKF_* */
	__u32 gen;
	__u16 slot;
	__u16 rule;
	__u8 action;
	__u8 pad[7];
	__u64 seen_ns;		/* bpf_ktime_get_coarse_ns() of the last
				 * allowed datagram either way */
};

struct cg_sk {
	/* what a packet of a known connection reads, in one cache line */
	__u8 role;		/* CG_SKR_* */
	__u8 proto;		/* of the socket v[] is for: TCP or UDP */
	__u8 pad[6];
	struct cg_sk_verdict v[CG_SK_VERDICTS];
};

struct cg_sk_peers {
	__u8 next;		/* peer[] slot replaced next when full */
	__u8 pad[7];
	struct cg_sk_peer peer[CG_SK_PEERS];
};

/*
 * One record of the UDP socket iterator (sockiter.bpf.c): sock_diag
 * returns BPF socket storage for TCP sockets only (inet_sk_diag_fill
 * stops early for sockets without an inet_connection_sock), so `cgguard
 * sockets` reads UDP sockets' storage through an iter/udp program.
 */
#define CG_SKR_HAS_SK		(1u << 0)	/* @sk is valid */
#define CG_SKR_HAS_PEERS	(1u << 1)	/* @peers is valid */

struct cg_sk_rec {
	__u64 cookie;		/* the socket's, as sock_diag reports it */
	__u32 has;		/* CG_SKR_HAS_* */
	__u32 pad;
	struct cg_sk sk;
	struct cg_sk_peers peers;
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

/*
 * Per-cgroup rule hits of a cgroup hook, cached in its per-CPU cgroup
 * storage so that a packet of a known connection counts its rule without
 * a hash lookup.  Direct-mapped by rule (rule % CG_HOT_RULES); an entry
 * of the running binding displaced by another rule is added to the hash
 * cg_cgrule_hits first.  An entry of another generation belongs to a
 * policy swapped out (whose hits are forgotten): it is overwritten, and
 * readers ignore it.  Per-cgroup hits = hash + the live entries here.
 */
#define CG_HOT_RULES		8
struct cg_hot_hit {
	__u32 gen;		/* cg_binding.gen counted under; 0: empty */
	__u16 slot;
	__u16 rule;		/* counter index (CG_RULE_*) */
	__u64 hits;
};

/*
 * This CPU's copy of the hook's cg_binding, taken by the program itself
 * and trusted while cg_info.epoch still equals @epoch: a packet of a known
 * connection then needs no second cgroup-storage lookup.  User space bumps
 * the epoch after writing bindings, and the program reads the epoch before
 * the binding, so a copy is never newer-looking than what it holds.
 */
struct cg_bound {
	__u64 epoch;		/* cg_info.epoch when copied; 0: none */
	__u64 cgid;
	__u32 slot;		/* bounded: < CG_MAX_SLOTS */
	__u32 gen;
};

/* Value of the per-CPU cgroup storage cg_counters (user space reads c). */
struct cg_hook_counters {
	struct cg_counters c;
	struct cg_bound bound;
	struct cg_hot_hit hot[CG_HOT_RULES];
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
#define CG_CGF_DELEGATED	(1u << 2)	/* attached for an unprivileged
						 * caller through the daemon */

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
	__u32 last_gen;		/* last binding generation handed out */
	__u64 degraded;		/* attaches applied without a wanted layer */
	__u64 build;		/* hash of the BPF objects that were loaded */
	__u64 epoch;		/* bumped after every binding write: the
				 * cgroup hooks then re-read their binding
				 * (cg_hook_counters.bound) */
};

/*
 * Unprivileged layer: socket filters (sockfilter.bpf.c) that the daemon
 * loads per (uid, policy) and hands out by fd.  They use maps of their own,
 * pinned under CG_PIN_ROOT/sockfilter: an LPM trie laid out like cg_lpm,
 * where policy id N (1..CG_SF_MAX_POLICIES) owns slots 2N and 2N+1 and a
 * change writes the idle one, then flips cg_sf_bind[N] (a struct
 * cg_binding); counters per (uid, policy) in a per-CPU hash of struct
 * cg_counters.
 */
#define CG_SF_MAX_POLICIES	31
#define CG_SF_MAX_COUNTERS	4096
#define CG_SF_NAME_MAX		64

struct cg_sf_key {
	__u32 uid;
	char policy[CG_SF_NAME_MAX];
};

#include "events_abi.h"

#endif
