// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unprivileged layer: a BPF_PROG_TYPE_SOCKET_FILTER program judging what
 * a socket receives by the ingress rules of a policy (source address,
 * protocol, local port), with the packet layer's compiled entries and
 * verdict code (verdict.bpf.h).  The daemon loads one per (uid, policy),
 * with both baked into .rodata, and hands out only the program's fd; the
 * holder attaches it with SO_ATTACH_BPF and locks it with SO_LOCK_FILTER.
 *
 * What a socket filter sees: on TCP and UDP sockets the kernel has pulled
 * the IP header before it runs the filter, so skb->data is the transport
 * header, not the network header as in cgroup_skb.  Everything is read
 * relative to the network header (bpf_skb_load_bytes_relative with
 * BPF_HDR_START_NET), which is right whatever skb->data is.
 *
 * Return value: bytes of the packet to keep; 0 drops it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "cgguard_abi.h"

#define ETH_P_IP	0x0800
#define ETH_P_IPV6	0x86DD
#define IP_OFFMASK	0x1fff
#define SF_DROP		0
#define SF_KEEP		0xffffffff	/* all of it */
#define SF_MAX_EXTHDRS	8

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* maps.bpf.h's maps: only cg_lpm is used (the loader points it at the
 * socket-filter LPM and creates none of the others). */
#include "maps.bpf.h"
#include "verdict.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CG_SF_MAX_POLICIES + 1);
	__type(key, __u32);
	__type(value, struct cg_binding);
} cg_sf_bind SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, CG_SF_MAX_COUNTERS);
	__type(key, struct cg_sf_key);
	__type(value, struct cg_counters);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} cg_sf_counts SEC(".maps");

/* Set by the loader before load (read-only to the program). */
const volatile __u32 sf_uid;
const volatile __u32 sf_policy;		/* index into cg_sf_bind */
const volatile char sf_name[CG_SF_NAME_MAX];

static __always_inline int load_net(struct __sk_buff *skb, __u32 off,
				    void *to, __u32 len)
{
	return bpf_skb_load_bytes_relative(skb, off, to, len,
					   BPF_HDR_START_NET);
}

static __always_inline void load_port(struct __sk_buff *skb, __u32 off,
				      struct pkt *p)
{
	__be16 ports[2];

	if (p->proto != CG_P_TCP && p->proto != CG_P_UDP) {
		p->parsed = 1;	/* no ports: judged with port 0 */
		return;
	}
	if (load_net(skb, off, ports, sizeof(ports)))
		return;
	p->port = bpf_ntohs(ports[1]);	/* the local (destination) port */
	p->parsed = 1;
}

static __always_inline int parse_v4(struct __sk_buff *skb, struct pkt *p)
{
	struct iphdr ip;

	if (load_net(skb, 0, &ip, sizeof(ip)) || ip.ihl < 5)
		return -1;
	set_v4(p, ip.saddr);
	p->proto = ip.protocol;
	if (!(bpf_ntohs(ip.frag_off) & IP_OFFMASK))
		load_port(skb, ip.ihl * 4, p);
	return 0;
}

static __always_inline int is_exthdr(__u8 nh)
{
	return nh == 0 || nh == 43 || nh == 44 || nh == 51 || nh == 60;
}

static __always_inline int parse_v6(struct __sk_buff *skb, struct pkt *p)
{
	struct ipv6hdr ip6;
	struct { __u8 nexthdr, len; __be16 frag; } ext;
	__u32 off = sizeof(ip6);
	__u8 nh;
	int i;

	if (load_net(skb, 0, &ip6, sizeof(ip6)))
		return -1;
	set_v6(p, &ip6.saddr);
	nh = ip6.nexthdr;
	for (i = 0; i < SF_MAX_EXTHDRS && is_exthdr(nh); i++) {
		if (load_net(skb, off, &ext, sizeof(ext)))
			return 0;	/* truncated: unparsed */
		if (nh == 44 && (bpf_ntohs(ext.frag) & 0xfff8))
			return 0;	/* non-first fragment */
		off += nh == 44 ? 8 : nh == 51 ? (ext.len + 2) * 4 :
		       (ext.len + 1) * 8;
		nh = ext.nexthdr;
	}
	if (is_exthdr(nh))
		return 0;		/* too many extension headers */
	p->proto = nh == CG_P_ICMPV6 ? CG_P_ICMP : nh;
	load_port(skb, off, p);
	return 0;
}

static __always_inline void count(int res, __u32 segs, __u32 bytes,
				  int unparsed)
{
	struct cg_sf_key k = { .uid = sf_uid };
	struct cg_counters *c;
	int i;

	/* Volatile reads, one by one: a memcpy that casts the volatile away
	 * lets the compiler fold the (zero) initial value in. */
	for (i = 0; i < CG_SF_NAME_MAX; i++)
		k.policy[i] = sf_name[i];
	/* The daemon creates the entry before it hands the program out; a
	 * miss (someone deleted it) counts nowhere and changes no verdict. */
	c = bpf_map_lookup_elem(&cg_sf_counts, &k);
	if (!c)
		return;
	c->pkts[res] += segs;
	c->bytes[res] += bytes;
	if (unparsed)
		c->unparsed += segs;
}

SEC("socket")
int cg_sockfilter(struct __sk_buff *skb)
{
	__u32 id = sf_policy, segs = skb->gso_segs ? skb->gso_segs : 1;
	struct cg_binding *b = bpf_map_lookup_elem(&cg_sf_bind, &id);
	/* No binding: slot 0, which has no entries, so decide() denies
	 * (fail closed). */
	__u32 slot = b ? b->slot : CG_SLOT_UNBOUND;
	struct verdict vd;
	struct pkt p = {};
	int res;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		if (parse_v4(skb, &p)) {
			p.key.family = CG_FAM_V4;
			p.key.prefixlen = CG_LPM_HDR_BITS;
		}
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		if (parse_v6(skb, &p)) {
			p.key.family = CG_FAM_V6;
			p.key.prefixlen = CG_LPM_HDR_BITS;
		}
	} else {
		return SF_KEEP;	/* not IP: not ours to judge */
	}
	decide(slot, CG_DIR_INGRESS_V, &p, &vd);
	res = result_of(vd.action, vd.flags & CG_F_AUDIT);
	count(res, segs, skb->len, !p.parsed);
	return res == CG_RES_DROP ? SF_DROP : SF_KEEP;
}
