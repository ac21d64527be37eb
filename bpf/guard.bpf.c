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

#include "maps.bpf.h"
#include "events.bpf.h"
#include "verdict.bpf.h"

#define MAX_DIRECT_OFF	512	/* bounds the verifier's view of offsets */

/*
 * Copies @len bytes at @off: straight from the linear packet data when
 * they are there (no helper call: ~5 ns a read), else through
 * bpf_skb_load_bytes (paged data, or cut short: then it fails).
 */
static __always_inline int read_pkt(struct __sk_buff *skb, __u32 off,
				    void *to, __u32 len)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;

	if (off <= MAX_DIRECT_OFF && data + off + len <= end) {
		__builtin_memcpy(to, data + off, len);
		return 0;
	}
	return bpf_skb_load_bytes(skb, off, to, len);
}

/* Reads the destination port of a TCP/UDP header at @off. */
static __always_inline int load_dport(struct __sk_buff *skb, __u32 off,
				      struct pkt *p)
{
	__be16 ports[2];

	if (p->proto != CG_P_TCP && p->proto != CG_P_UDP)
		return 0;
	if (read_pkt(skb, off, ports, sizeof(ports)))
		return -1;
	p->port = bpf_ntohs(ports[1]);
	return 0;
}

static __always_inline int parse_v4(struct __sk_buff *skb, int dir,
				    struct pkt *p)
{
	struct iphdr ip;
	__u16 frag;

	if (read_pkt(skb, 0, &ip, sizeof(ip)) || ip.ihl < 5)
		return -1;
	set_v4(p, dir == CG_DIR_EGRESS_V ? ip.daddr : ip.saddr);
	p->proto = ip.protocol;
	frag = bpf_ntohs(ip.frag_off);
	if (frag & IP_OFFMASK)
		return 0;	/* non-first fragment: no L4 header */
	if (load_dport(skb, ip.ihl * 4, p))
		return 0;
	p->parsed = 1;
	return 0;
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

	if (read_pkt(skb, 0, &ip6, sizeof(ip6)))
		return -1;
	set_v6(p, dir == CG_DIR_EGRESS_V ? (void *)&ip6.daddr :
	       (void *)&ip6.saddr);
	nh = ip6.nexthdr;
	for (i = 0; i < IPV6_MAX_EXTHDRS; i++) {
		if (!is_exthdr(nh))
			break;
		if (read_pkt(skb, off, &ext, sizeof(ext)))
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

static __always_inline int guard_skb(struct __sk_buff *skb, int dir)
{
	__u32 slot = bound_slot();
	__u32 segs = skb->gso_segs ? skb->gso_segs : 1;
	struct verdict vd;
	struct pkt p = {};
	int res;

	/* Not IP (cannot happen on inet sockets today): not ours to judge. */
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		if (parse_v4(skb, dir, &p)) {
			p.key.family = CG_FAM_V4;
			p.key.prefixlen = CG_LPM_HDR_BITS; /* family /0 entry */
		}
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		if (parse_v6(skb, dir, &p)) {
			p.key.family = CG_FAM_V6;
			p.key.prefixlen = CG_LPM_HDR_BITS;
		}
	} else {
		return CG_SKB_PASS;
	}
	decide(slot, dir, &p, &vd);
	res = result_of(vd.action, vd.flags & CG_F_AUDIT);
	count_storage(res, segs, skb->len, !p.parsed);
	count_rule(slot, vd.rule, segs);
	if (res != CG_RES_PASS)
		cg_ev_skb(skb, dir, slot, vd.rule, res);
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

/* ---- socket layer ------------------------------------------------------ */

/* connect()/sendmsg(): judged by the egress rules, EPERM at the syscall. */
static __always_inline int guard_addr(struct bpf_sock_addr *ctx, int v6,
				      int layer)
{
	__u32 slot = bound_slot();
	struct verdict vd;
	struct pkt p = { .parsed = 1 };
	__u32 ip6[4];
	int res;

	if (v6) {
		ip6[0] = ctx->user_ip6[0];
		ip6[1] = ctx->user_ip6[1];
		ip6[2] = ctx->user_ip6[2];
		ip6[3] = ctx->user_ip6[3];
		set_v6(&p, ip6);
	} else {
		set_v4(&p, ctx->user_ip4);
	}
	p.proto = ctx->protocol == CG_P_ICMPV6 ? CG_P_ICMP : ctx->protocol;
	p.port = bpf_ntohs((__u16)ctx->user_port);
	decide(slot, CG_DIR_EGRESS_V, &p, &vd);
	res = result_of(vd.action, vd.flags & CG_F_AUDIT);
	count_storage(res, 1, 0, 0);
	count_rule(slot, vd.rule, 1);
	if (res != CG_RES_PASS)
		cg_ev_addr(ctx, layer, slot, &p.key, p.port, vd.rule, res);
	return res == CG_RES_DROP ? CG_SOCK_DENY : CG_SOCK_ALLOW;
}

SEC("cgroup/connect4")
int cg_connect4(struct bpf_sock_addr *ctx)
{
	return guard_addr(ctx, 0, CG_EVL_CONNECT);
}

SEC("cgroup/connect6")
int cg_connect6(struct bpf_sock_addr *ctx)
{
	return guard_addr(ctx, 1, CG_EVL_CONNECT);
}

SEC("cgroup/sendmsg4")
int cg_sendmsg4(struct bpf_sock_addr *ctx)
{
	return guard_addr(ctx, 0, CG_EVL_SENDMSG);
}

SEC("cgroup/sendmsg6")
int cg_sendmsg6(struct bpf_sock_addr *ctx)
{
	return guard_addr(ctx, 1, CG_EVL_SENDMSG);
}

/* Slot 0 and a missing entry both read as all-zero: allow.  That is
 * fail-open for bind/create only; connect and packets stay fail-closed. */
static __always_inline const struct cg_sockcfg *sockcfg(__u32 slot)
{
	return bpf_map_lookup_elem(&cg_sockcfg, &slot);
}

static __always_inline int sock_verdict(__u8 action, const struct cg_sockcfg *c)
{
	int res = result_of(action, c->flags & CG_SF_AUDIT);

	count_storage(res, 1, 0, 0);
	return res == CG_RES_DROP ? CG_SOCK_DENY : CG_SOCK_ALLOW;
}

static __always_inline int guard_bind(struct bpf_sock_addr *ctx, int v6)
{
	__u32 slot = bound_slot();
	const struct cg_sockcfg *c = sockcfg(slot);
	__u8 act;

	if (!c)
		return CG_SOCK_ALLOW;
	act = judge_bind(c, bpf_ntohs((__u16)ctx->user_port));
	if (act != CG_ACT_ALLOW_V)
		cg_ev_bind(ctx, v6, slot, result_of(act, c->flags & CG_SF_AUDIT));
	return sock_verdict(act, c);
}

SEC("cgroup/bind4")
int cg_bind4(struct bpf_sock_addr *ctx)
{
	return guard_bind(ctx, 0);
}

SEC("cgroup/bind6")
int cg_bind6(struct bpf_sock_addr *ctx)
{
	return guard_bind(ctx, 1);
}

SEC("cgroup/sock_create")
int cg_sock_create(struct bpf_sock *sk)
{
	__u32 slot = bound_slot();
	const struct cg_sockcfg *c = sockcfg(slot);
	__u8 act;

	if (!c)
		return CG_SOCK_ALLOW;
	act = judge_create(c, sk->family, sk->type);
	if (act != CG_ACT_ALLOW_V)
		cg_ev_create(sk, slot, result_of(act, c->flags & CG_SF_AUDIT));
	return sock_verdict(act, c);
}
