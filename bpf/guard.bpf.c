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
 *
 * Connections, not packets (README "Semantics"): a connection is judged
 * once, by the rules of the direction it was opened in, and the verdict is
 * kept with its socket (cg_sk) under the attachment's binding generation.
 * A packet of a known connection then costs one socket-storage lookup and
 * the counters, both ways; a swap changes the generation, so every
 * connection is judged again on its next packet.
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
#include "conn.bpf.h"

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

/* Reads the ports of a TCP/UDP header at @off: the peer's and ours. */
static __always_inline int load_ports(struct __sk_buff *skb, __u32 off,
				      int dir, struct pkt *p)
{
	__be16 ports[2];	/* source, destination */

	if (p->proto != CG_P_TCP && p->proto != CG_P_UDP)
		return 0;
	if (read_pkt(skb, off, ports, sizeof(ports)))
		return -1;
	if (dir == CG_DIR_EGRESS_V) {
		p->peer_port = bpf_ntohs(ports[1]);
		p->local_port = bpf_ntohs(ports[0]);
	} else {
		p->peer_port = bpf_ntohs(ports[0]);
		p->local_port = bpf_ntohs(ports[1]);
	}
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
	if (load_ports(skb, ip.ihl * 4, dir, p))
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
	if (load_ports(skb, off, dir, p))
		return 0;
	p->parsed = 1;
	return 0;
}

/* Counts a packet of direction @dir under @action and says what to do
 * with it. */
static __always_inline int account(struct __sk_buff *skb, int dir,
				   struct cg_hook_counters *hc, __u8 action,
				   int audit, __u16 rule, int unparsed)
{
	__u32 slot = hc->bound.slot;
	__u32 segs = skb->gso_segs ? skb->gso_segs : 1;
	int res = result_of(action, audit);

	count_in(&hc->c, res, segs, skb->len, unparsed);
	count_rule(hc, slot, rule, segs);
	if (res != CG_RES_PASS)
		cg_ev_skb(skb, dir, slot, rule, res);
	return res == CG_RES_DROP ? CG_SKB_DROP : CG_SKB_PASS;
}

/*
 * Fills @p from the IP header; 0 if not IP (not ours to judge).  A global
 * function: the verifier checks it once on its own, instead of once per
 * path through the socket logic around it (which exceeds its budget).
 */
__noinline int parse(struct __sk_buff *skb, int dir, struct pkt *p)
{
	if (!skb || !p)
		return 0;
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		if (parse_v4(skb, dir, p)) {
			p->key.family = CG_FAM_V4;
			p->key.prefixlen = CG_LPM_HDR_BITS; /* family /0 entry */
		}
		return 1;
	}
	if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		if (parse_v6(skb, dir, p)) {
			p->key.family = CG_FAM_V6;
			p->key.prefixlen = CG_LPM_HDR_BITS;
		}
		return 1;
	}
	return 0;
}

/* 1 if a TCP listener owns the local port of @sk: then @sk, a socket
 * cgguard never saw opened (it predates the attach), was accepted. */
static __always_inline int has_listener(struct __sk_buff *skb,
					struct bpf_sock *sk)
{
	struct bpf_sock_tuple t = {};
	struct bpf_sock *l;
	int found;

	/* sport 0 matches no established socket, so only a listener can */
	if (sk->family == AF_INET) {
		t.ipv4.saddr = sk->dst_ip4;
		t.ipv4.daddr = sk->src_ip4;
		t.ipv4.dport = bpf_htons(sk->src_port);
		l = bpf_sk_lookup_tcp(skb, &t, sizeof(t.ipv4),
				      BPF_F_CURRENT_NETNS, 0);
	} else {
		t.ipv6.saddr[0] = sk->dst_ip6[0];
		t.ipv6.saddr[1] = sk->dst_ip6[1];
		t.ipv6.saddr[2] = sk->dst_ip6[2];
		t.ipv6.saddr[3] = sk->dst_ip6[3];
		t.ipv6.daddr[0] = sk->src_ip6[0];
		t.ipv6.daddr[1] = sk->src_ip6[1];
		t.ipv6.daddr[2] = sk->src_ip6[2];
		t.ipv6.daddr[3] = sk->src_ip6[3];
		t.ipv6.dport = bpf_htons(sk->src_port);
		l = bpf_sk_lookup_tcp(skb, &t, sizeof(t.ipv6),
				      BPF_F_CURRENT_NETNS, 0);
	}
	if (!l)
		return 0;
	found = l->state == SK_LISTEN;
	bpf_sk_release(l);
	return found;
}

/* Which rules judge a connection: the direction it was opened in. */
static __always_inline int conn_dir(struct __sk_buff *skb, struct bpf_sock *sk,
				    struct cg_sk *st)
{
	int role;

	if (sk->protocol == CG_P_UDP)	/* connected by connect(): outbound */
		return CG_DIR_EGRESS_V;
	role = st ? st->role : CG_SKR_UNKNOWN;
	if (role == CG_SKR_UNKNOWN)
		role = has_listener(skb, sk) ? CG_SKR_INBOUND : CG_SKR_OUTBOUND;
	else if (role == CG_SKR_LISTENER)	/* copied from its listener */
		role = CG_SKR_INBOUND;
	if (st)
		st->role = role;
	return role == CG_SKR_INBOUND ? CG_DIR_INGRESS_V : CG_DIR_EGRESS_V;
}

/*
 * A packet without a cached verdict: the first of a connection after the
 * attach or a swap, a listener's, an unconnected UDP socket's, or one
 * without a socket.  Judged by the rules of the direction the connection
 * was opened in, and the verdict cached where there is a connection.
 */
static __always_inline int judge_skb(struct __sk_buff *skb,
				     struct bpf_sock *sk, int dir,
				     struct cg_hook_counters *hc, struct cg_sk *st)
{
	__u32 slot = hc->bound.slot, gen = hc->bound.gen;
	int kind = sk ? sk_kind(sk) : SKK_PACKET, rdir = dir;
	struct cg_sk_peers *ps = NULL;
	struct cg_sk_peer *e;
	struct verdict vd;
	struct pkt p = {};
	__u64 now = 0;

	if (!parse(skb, dir, &p))
		return CG_SKB_PASS;	/* not IP: not ours to judge */
	/* @st: what cached() found already (a listener's storage), else
	 * created here for the kinds that keep a connection verdict;
	 * unconnected UDP keeps its peers in cg_sk_peers instead. */
	if (kind != SKK_CONN && kind != SKK_LISTEN)
		st = NULL;
	else if (!st)
		st = bpf_sk_storage_get(&cg_sk, sk, 0,
					BPF_SK_STORAGE_GET_F_CREATE);
	if (kind == SKK_LISTEN) {
		/* SYN in, SYN-ACK out (request socks show as their
		 * listener), handshake ACK in: an inbound connection. */
		rdir = CG_DIR_INGRESS_V;
		if (st && st->role != CG_SKR_LISTENER)
			st->role = CG_SKR_LISTENER;	/* children copy it */
		/* A listener has no connection verdict of its own; one left
		 * from an earlier connect() must not be cloned into the
		 * connections it accepts. */
		if (st)
			sk_forget(st);
	} else if (kind == SKK_CONN) {
		rdir = conn_dir(skb, sk, st);
	} else if (kind == SKK_PEERS && p.parsed) {
		now = bpf_ktime_get_coarse_ns();
		e = peer_recent(sk, &p, gen, now, &ps);
		if (e)	/* a datagram of a recent exchange */
			return account(skb, dir, hc, e->action,
				       e->flags & CG_SKF_AUDIT, e->rule, 0);
	}
	p.port = rdir == CG_DIR_EGRESS_V ? p.peer_port : p.local_port;
	decide(slot, rdir, &p, &vd);
	/* A verdict from a partial header is not the connection's. */
	if (st && p.parsed && kind == SKK_CONN)
		sk_store(st, sk->protocol, gen, slot, &vd, rdir);
	else if (kind == SKK_PEERS && p.parsed &&
		 result_of(vd.action, vd.flags & CG_F_AUDIT) != CG_RES_DROP)
		peer_remember(ps, sk, &p, gen, slot, &vd, rdir, now);
	return account(skb, dir, hc, vd.action, vd.flags & CG_F_AUDIT,
		       vd.rule, !p.parsed);
}

/*
 * A packet of a known connection: one socket-storage lookup, straight on
 * the skb's socket (the kernel runs cgroup_skb programs on full sockets
 * only, and sk storage takes a sock_common, so no bpf_sk_fullsock).
 * Returns the cached verdict for this binding, or NULL to judge afresh:
 * no storage, no verdict of this generation (a pre-attach socket, a swap
 * since), or a socket that left the connection its verdict is for (a UDP
 * socket disconnected with AF_UNSPEC, a TCP socket turned listener).
 */
static __always_inline const struct cg_sk_verdict *
cached(struct __sk_buff *skb, __u32 gen, struct cg_sk **stp)
{
	struct bpf_sock *sk = skb->sk;
	struct cg_sk_verdict *v;
	struct cg_sk *st;

	if (!sk)
		return NULL;
	*stp = st = bpf_sk_storage_get(&cg_sk, sk, 0, 0);
	if (!st)
		return NULL;
	v = sk_verdict(st, gen);
	if (!v || !sk_conn_live(st, sk->state))
		return NULL;
	return v;
}

static __always_inline int guard_skb(struct __sk_buff *skb, int dir)
{
	struct cg_hook_counters *hc = hook_bound();
	const struct cg_sk_verdict *v;
	struct cg_sk *st = NULL;
	struct bpf_sock *sk;

	v = cached(skb, hc->bound.gen, &st);
	if (v)	/* a known connection's packet, either way */
		return account(skb, dir, hc, v->action,
			       v->flags & CG_SKF_AUDIT, v->rule, 0);
	sk = skb->sk;
	if (sk)
		sk = bpf_sk_fullsock(sk);
	return judge_skb(skb, sk, dir, hc, st);
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

/* connect()/sendmsg(): judged by the egress rules, EPERM at the syscall.
 * connect() opens an outbound connection: its verdict is cached for the
 * packet layer.  An unconnected send to a peer of a recent exchange (a
 * reply to a datagram that came in) passes as part of that exchange;
 * a new peer is judged and, let through, remembered. */
static __always_inline int guard_addr(struct bpf_sock_addr *ctx, int v6,
				      int is_connect)
{
	struct cg_hook_counters *hc = hook_bound();
	struct cg_sk_peers *ps = NULL;
	struct cg_sk *st = NULL;
	struct cg_sk_peer *e;
	struct verdict vd;
	struct pkt p = { .parsed = 1 };
	__u32 slot, gen, ip6[4];
	__u64 now = 0;
	int res, conn;

	slot = hc->bound.slot;
	gen = hc->bound.gen;
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
	p.port = p.peer_port = bpf_ntohs((__u16)ctx->user_port);
	/* connect() of a TCP/UDP socket opens a connection: its verdict is
	 * cached (cg_sk); anything else is an exchange with a peer. */
	conn = is_connect && conn_type(ctx->protocol, ctx->type);
	if (ctx->sk && gen && !is_connect) {
		now = bpf_ktime_get_coarse_ns();
		e = peer_recent(ctx->sk, &p, gen, now, &ps);
		if (e) {
			vd.action = e->action;
			vd.rule = e->rule;
			vd.flags = e->flags & CG_SKF_AUDIT ? CG_F_AUDIT : 0;
			goto count;
		}
	}
	decide(slot, CG_DIR_EGRESS_V, &p, &vd);
	/* Storage only for what passes: a denied connect() or send fails
	 * with EPERM and leaves the socket as it was (a UDP socket stays
	 * connected to its earlier, allowed peer), so there is nothing to
	 * remember, and nothing to allocate. */
	if (!ctx->sk || !gen ||
	    result_of(vd.action, vd.flags & CG_F_AUDIT) == CG_RES_DROP)
		goto count;
	if (conn) {
		st = bpf_sk_storage_get(&cg_sk, ctx->sk, 0,
					BPF_SK_STORAGE_GET_F_CREATE);
		if (st) {
			st->role = CG_SKR_OUTBOUND;
			sk_store(st, ctx->protocol, gen, slot, &vd,
				 CG_DIR_EGRESS_V);
		}
	} else {
		if (!now)
			now = bpf_ktime_get_coarse_ns();
		peer_remember(ps, ctx->sk, &p, gen, slot, &vd,
			      CG_DIR_EGRESS_V, now);
	}
count:
	res = result_of(vd.action, vd.flags & CG_F_AUDIT);
	count_in(&hc->c, res, 1, 0, 0);
	count_rule(hc, slot, vd.rule, 1);
	if (res != CG_RES_PASS)
		cg_ev_addr(ctx, is_connect ? CG_EVL_CONNECT : CG_EVL_SENDMSG,
			   slot, &p.key, p.port, vd.rule, res);
	return res == CG_RES_DROP ? CG_SOCK_DENY : CG_SOCK_ALLOW;
}

SEC("cgroup/connect4")
int cg_connect4(struct bpf_sock_addr *ctx)
{
	return guard_addr(ctx, 0, 1);
}

SEC("cgroup/connect6")
int cg_connect6(struct bpf_sock_addr *ctx)
{
	return guard_addr(ctx, 1, 1);
}

SEC("cgroup/sendmsg4")
int cg_sendmsg4(struct bpf_sock_addr *ctx)
{
	return guard_addr(ctx, 0, 0);
}

SEC("cgroup/sendmsg6")
int cg_sendmsg6(struct bpf_sock_addr *ctx)
{
	return guard_addr(ctx, 1, 0);
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
