// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Packet layer: cgroup_skb ingress/egress.  One program per direction,
 * loaded once and attached (through a bpf_link) to every guarded cgroup.
 *
 * Which policy applies is found through the cgroup storage of the
 * attachment itself (bpf_get_local_storage): the kernel hands the program
 * the storage of the cgroup it is attached to, not of the socket's cgroup,
 * so processes in nested child cgroups get their guarded ancestor's policy
 * with a single lookup and no ancestor walk.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "cgguard_abi.h"

#define ETH_P_IP	0x0800
#define ETH_P_IPV6	0x86DD

#define IP_MF		0x2000
#define IP_OFFMASK	0x1fff

#define NEXTHDR_HOP	0
#define NEXTHDR_ROUTING	43
#define NEXTHDR_FRAGMENT 44
#define NEXTHDR_AUTH	51
#define NEXTHDR_DEST	60
#define NEXTHDR_NONE	59
#define IPV6_MAX_EXTHDRS 8

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, CG_LPM_MAX_ENTRIES);
	__type(key, struct cg_lpm_key);
	__type(value, struct cg_lpm_val);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} cg_lpm SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_STORAGE);
	__type(key, struct bpf_cgroup_storage_key);
	__type(value, struct cg_binding);
} cg_binding SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE);
	__type(key, struct bpf_cgroup_storage_key);
	__type(value, struct cg_counters);
} cg_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CG_MAX_SLOTS * CG_RULES_PER_SLOT);
	__type(key, __u32);
	__type(value, __u64);
} cg_rule_hits SEC(".maps");

/* Metadata for user space only; declared here so one object owns them all. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CG_MAX_SLOTS);
	__type(key, __u32);
	__type(value, struct cg_slot_meta);
} cg_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct cg_cgroup_meta);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} cg_cgroups SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cg_info);
} cg_info SEC(".maps");

/* What the parser extracted from one packet. */
struct pkt {
	struct cg_lpm_key key;	/* peer address: daddr egress, saddr ingress */
	__u8 proto;
	__u8 parsed;		/* 0: L4 unknown (fragment, truncated, ...) */
	__u16 port;		/* destination port, host order; 0 if none */
};

/* Reads the destination port of a TCP/UDP header at @off. */
static __always_inline int load_dport(struct __sk_buff *skb, __u32 off,
				      struct pkt *p)
{
	__be16 ports[2];

	if (p->proto != CG_P_TCP && p->proto != CG_P_UDP)
		return 0;
	if (bpf_skb_load_bytes(skb, off, ports, sizeof(ports)))
		return -1;
	p->port = bpf_ntohs(ports[1]);
	return 0;
}

static __always_inline int parse_v4(struct __sk_buff *skb, int dir,
				    struct pkt *p)
{
	struct iphdr ip;
	__u16 frag;

	if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)) || ip.ihl < 5)
		return -1;
	p->key.family = CG_FAM_V4;
	p->key.prefixlen = CG_LPM_HDR_BITS + 32;
	__builtin_memcpy(p->key.addr, dir == CG_DIR_EGRESS_V ? &ip.daddr :
			 &ip.saddr, 4);
	p->proto = ip.protocol;
	frag = bpf_ntohs(ip.frag_off);
	if (frag & IP_OFFMASK)
		return 0;	/* non-first fragment: no L4 header */
	if (load_dport(skb, ip.ihl * 4, p))
		return 0;
	p->parsed = 1;
	return 0;
}

/* IPv4-mapped IPv6 (::ffff:a.b.c.d) is judged as IPv4. */
static __always_inline void unmap_v4(struct pkt *p)
{
	__u32 *w = (__u32 *)p->key.addr;

	if (w[0] || w[1] || w[2] != bpf_htonl(0xffff))
		return;
	w[0] = w[3];
	w[1] = w[2] = w[3] = 0;
	p->key.family = CG_FAM_V4;
	p->key.prefixlen = CG_LPM_HDR_BITS + 32;
}

static __always_inline int is_exthdr(__u8 nh)
{
	return nh == NEXTHDR_HOP || nh == NEXTHDR_ROUTING ||
	       nh == NEXTHDR_FRAGMENT || nh == NEXTHDR_AUTH ||
	       nh == NEXTHDR_DEST;
}

/* Rules say "icmp" for both ICMP and ICMPv6. */
static __always_inline __u8 v6_proto(__u8 nh)
{
	return nh == CG_P_ICMPV6 ? CG_P_ICMP : nh;
}

static __always_inline int parse_v6(struct __sk_buff *skb, int dir,
				    struct pkt *p)
{
	struct ipv6hdr ip6;
	struct { __u8 nexthdr, len; __be16 frag; } ext;
	__u32 off = sizeof(ip6);
	__u8 nh;
	int i;

	if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)))
		return -1;
	p->key.family = CG_FAM_V6;
	p->key.prefixlen = CG_LPM_HDR_BITS + 128;
	__builtin_memcpy(p->key.addr, dir == CG_DIR_EGRESS_V ? &ip6.daddr :
			 &ip6.saddr, 16);
	unmap_v4(p);
	nh = ip6.nexthdr;
	for (i = 0; i < IPV6_MAX_EXTHDRS; i++) {
		if (!is_exthdr(nh))
			break;
		if (bpf_skb_load_bytes(skb, off, &ext, sizeof(ext)))
			return 0;	/* truncated: unparsed */
		if (nh == NEXTHDR_FRAGMENT) {
			/* non-first fragment: no L4 header to read, but the
			 * protocol is known, as for IPv4 */
			if (bpf_ntohs(ext.frag) & 0xfff8) {
				p->proto = v6_proto(ext.nexthdr);
				return 0;
			}
			off += 8;
		} else if (nh == NEXTHDR_AUTH) {
			off += (ext.len + 2) * 4;
		} else {
			off += (ext.len + 1) * 8;
		}
		nh = ext.nexthdr;
	}
	/* Exactly IPV6_MAX_EXTHDRS is fine: only a further one is too many. */
	if (is_exthdr(nh))
		return 0;	/* too many extension headers: unparsed */
	p->proto = v6_proto(nh);
	if (load_dport(skb, off, p))
		return 0;
	p->parsed = 1;
	return 0;
}

/* First matching range decides, else the entry's fallback. */
static __always_inline void judge(const struct cg_lpm_val *v,
				  const struct pkt *p, __u8 *action, __u16 *rule)
{
	int i;

	*action = v->action;
	*rule = v->rule;
	for (i = 0; i < CG_MAX_RANGES; i++) {
		const struct cg_range *r = &v->r[i];

		if (i >= v->nranges)
			break;
		if (r->proto == p->proto && p->port >= r->lo &&
		    p->port <= r->hi) {
			*action = r->action;
			*rule = r->rule;
			return;
		}
	}
}

static __always_inline void count(struct __sk_buff *skb, __u32 slot,
				  int res, __u16 rule, int unparsed)
{
	struct cg_counters *c = bpf_get_local_storage(&cg_counters, 0);
	__u32 segs = skb->gso_segs ? skb->gso_segs : 1;
	__u32 idx;
	__u64 *hits;

	c->pkts[res] += segs;
	c->bytes[res] += skb->len;
	if (unparsed)
		c->unparsed += segs;
	if (rule >= CG_RULES_PER_SLOT)
		return;
	idx = slot * CG_RULES_PER_SLOT + rule;
	hits = bpf_map_lookup_elem(&cg_rule_hits, &idx);
	if (hits)
		*hits += segs;
}

static __always_inline int guard_skb(struct __sk_buff *skb, int dir)
{
	struct cg_binding *b = bpf_get_local_storage(&cg_binding, 0);
	struct pkt p = {};
	struct cg_lpm_val *v;
	__u8 action;
	__u16 rule;
	int res;

	/* Not IP (cannot happen on inet sockets today): not ours to judge. */
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		if (parse_v4(skb, dir, &p))
			p.key.prefixlen = CG_LPM_HDR_BITS; /* family /0 entry */
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		if (parse_v6(skb, dir, &p))
			p.key.prefixlen = CG_LPM_HDR_BITS;
	} else {
		return CG_SKB_PASS;
	}
	/* An unbound attachment (slot 0) gets the reserved deny-all slot. */
	p.key.slot = b->slot < CG_MAX_SLOTS ? b->slot : CG_SLOT_UNBOUND;
	p.key.dir = dir;
	if (!p.key.family)
		p.key.family = skb->protocol == bpf_htons(ETH_P_IP) ?
			       CG_FAM_V4 : CG_FAM_V6;

	v = bpf_map_lookup_elem(&cg_lpm, &p.key);
	if (!v) {
		/* Fail closed: every slot has a /0 entry per family, so a miss
		 * means the slot is being torn down or state is corrupt. */
		count(skb, p.key.slot, CG_RES_DROP, CG_RULE_UNPARSED, 0);
		return CG_SKB_DROP;
	}
	if (!p.parsed && (v->flags & CG_F_DEFAULT_DENY)) {
		/* design.md: unclassifiable packets follow a deny default. */
		action = CG_ACT_DENY_V;
		rule = CG_RULE_UNPARSED;
	} else {
		judge(v, &p, &action, &rule);
	}
	if (action == CG_ACT_ALLOW_V)
		res = CG_RES_PASS;
	else
		res = (v->flags & CG_F_AUDIT) ? CG_RES_AUDIT : CG_RES_DROP;
	count(skb, p.key.slot, res, rule, !p.parsed);
	return res == CG_RES_DROP ? CG_SKB_DROP : CG_SKB_PASS;
}

SEC("cgroup_skb/egress")
int cg_egress(struct __sk_buff *skb)
{
	return guard_skb(skb, CG_DIR_EGRESS_V);
}

SEC("cgroup_skb/ingress")
int cg_ingress(struct __sk_buff *skb)
{
	return guard_skb(skb, CG_DIR_INGRESS_V);
}
