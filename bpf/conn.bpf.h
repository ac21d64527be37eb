/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Connection verdicts kept with the socket (map cg_sk), and the recent
 * peers of unconnected UDP sockets (map cg_sk_peers); the layouts and the
 * semantics are in cgguard_abi.h.  Included by guard.bpf.c after
 * verdict.bpf.h.
 *
 * Values are read and written without a lock: a socket's packets may run
 * on two CPUs at once (egress and ingress).  Writers clear gen first and
 * set it last, so a reader matching the generation sees a whole verdict.
 */
#ifndef CGGUARD_CONN_BPF_H
#define CGGUARD_CONN_BPF_H

#define SOCK_STREAM		1
#define SOCK_DGRAM		2
#define SK_ESTABLISHED		1	/* also a connected UDP socket */
#define SK_LISTEN		10
#define PEER_TTL_NS		((__u64)CG_SK_PEER_TTL_S * 1000000000ULL)


/* How the packets of a socket are judged. */
enum sk_kind {
	SKK_PACKET,	/* no connection (raw, ICMP, ...): every packet alone */
	SKK_CONN,	/* TCP or connected UDP: one verdict per connection */
	SKK_LISTEN,	/* TCP listener: inbound connections being opened */
	SKK_PEERS,	/* unconnected UDP: verdicts per recent peer */
};

/* 1 for the sockets whose packets form one connection: TCP stream and
 * UDP datagram sockets (raw sockets may carry these protocol numbers). */
static __always_inline int conn_type(__u32 protocol, __u32 type)
{
	return (protocol == CG_P_TCP && type == SOCK_STREAM) ||
	       (protocol == CG_P_UDP && type == SOCK_DGRAM);
}

static __always_inline int sk_kind(const struct bpf_sock *sk)
{
	if (!conn_type(sk->protocol, sk->type))
		return SKK_PACKET;
	if (sk->protocol == CG_P_TCP)
		return sk->state == SK_LISTEN ? SKK_LISTEN : SKK_CONN;
	return sk->state == SK_ESTABLISHED ? SKK_CONN : SKK_PEERS;
}

/* 1 if a socket in @state is still in the connection v[] was cached for:
 * the same test as sk_kind() == SKK_CONN, from the protocol recorded with
 * the verdict (sk_store) and the state, which a sock_common shows. */
static __always_inline int sk_conn_live(const struct cg_sk *st, __u32 state)
{
	if (st->proto == CG_P_TCP)
		return state != SK_LISTEN;
	return st->proto == CG_P_UDP && state == SK_ESTABLISHED;
}

/* Drops the socket's connection verdicts (it no longer has one). */
static __always_inline void sk_forget(struct cg_sk *st)
{
	if (st->v[0].gen)
		st->v[0].gen = 0;
	if (st->v[1].gen)
		st->v[1].gen = 0;
}

/* The verdict cached for this attachment's generation, or NULL.  gen 0
 * (an attachment not bound yet) never matches: nothing is cached for it. */
static __always_inline struct cg_sk_verdict *sk_verdict(struct cg_sk *st,
							__u32 gen)
{
	if (!gen)
		return NULL;
	if (st->v[0].gen == gen)
		return &st->v[0];
	if (st->v[1].gen == gen)
		return &st->v[1];
	return NULL;
}

static __always_inline __u8 sk_flags(const struct verdict *vd, int rdir)
{
	return (vd->flags & CG_F_AUDIT ? CG_SKF_AUDIT : 0) |
	       (rdir == CG_DIR_INGRESS_V ? CG_SKF_INGRESS : 0);
}

/*
 * Caches @vd for generation @gen: its own entry, else an empty one, else
 * the one with the older generation (generations only grow, so that is
 * the likelier stale one; a third nested guarded cgroup just re-judges).
 */
static __always_inline void sk_store(struct cg_sk *st, __u32 proto, __u32 gen,
				     __u32 slot, const struct verdict *vd,
				     int rdir)
{
	struct cg_sk_verdict *v = &st->v[0];

	if (!gen)
		return;
	st->proto = proto;
	if (st->v[0].gen != gen && (st->v[1].gen == gen || (st->v[0].gen &&
	    (!st->v[1].gen || st->v[1].gen < st->v[0].gen))))
		v = &st->v[1];
	v->gen = 0;
	cg_barrier();
	v->slot = slot;
	v->rule = vd->rule;
	v->action = vd->action;
	v->flags = sk_flags(vd, rdir);
	cg_barrier();
	v->gen = gen;
}

static __always_inline int peer_is(const struct cg_sk_peer *e,
				   const struct pkt *p, __u32 gen)
{
	const __u64 *a = (const __u64 *)e->addr;
	const __u64 *b = (const __u64 *)p->key.addr;

	return e->gen == gen && e->family == p->key.family &&
	       e->port == p->peer_port && a[0] == b[0] && a[1] == b[1];
}

/* Index of a live entry for @p's peer under @gen, or -1. */
static __always_inline int peer_find(struct cg_sk_peers *st, const struct pkt *p,
				     __u32 gen, __u64 now)
{
	int i;

	if (!gen)
		return -1;
	for (i = 0; i < CG_SK_PEERS; i++)
		if (peer_is(&st->peer[i], p, gen) &&
		    now - st->peer[i].seen_ns <= PEER_TTL_NS)
			return i;
	return -1;
}

/* Where a new peer goes: its old entry, a free or expired one, else
 * round robin (the oldest peers are forgotten first, roughly). */
static __always_inline int peer_place(struct cg_sk_peers *st,
				      const struct pkt *p,
				      __u32 gen, __u64 now)
{
	int i, free_i = -1;

	for (i = 0; i < CG_SK_PEERS; i++) {
		const struct cg_sk_peer *e = &st->peer[i];

		if (peer_is(e, p, gen))
			return i;
		if (free_i < 0 && (!e->family ||
				   now - e->seen_ns > PEER_TTL_NS))
			free_i = i;
	}
	if (free_i >= 0)
		return free_i;
	i = st->next & (CG_SK_PEERS - 1);
	st->next = i + 1;
	return i;
}

/* Remembers an exchange with @p's peer that was let through. */
static __always_inline void peer_add(struct cg_sk_peers *st,
				     const struct pkt *p,
				     __u32 gen, __u32 slot,
				     const struct verdict *vd, int rdir,
				     __u64 now)
{
	struct cg_sk_peer *e;
	int i;

	if (!gen)
		return;
	i = peer_place(st, p, gen, now);
	e = &st->peer[i & (CG_SK_PEERS - 1)];
	e->gen = 0;
	cg_barrier();
	__builtin_memcpy(e->addr, p->key.addr, 16);
	e->port = p->peer_port;
	e->family = p->key.family;
	e->flags = sk_flags(vd, rdir);
	e->slot = slot;
	e->rule = vd->rule;
	e->action = vd->action;
	e->seen_ns = now;
	cg_barrier();
	e->gen = gen;
}

/* The live entry for @p's peer in the peers of @sk (also returned in
 * *@psp, NULL if it has none), its last-seen time renewed; or NULL. */
static __always_inline struct cg_sk_peer *
peer_recent(void *sk, const struct pkt *p, __u32 gen, __u64 now,
	    struct cg_sk_peers **psp)
{
	struct cg_sk_peers *ps = bpf_sk_storage_get(&cg_sk_peers, sk, 0, 0);
	struct cg_sk_peer *e;
	int i;

	*psp = ps;
	if (!ps)
		return NULL;
	i = peer_find(ps, p, gen, now);
	if (i < 0)
		return NULL;
	e = &ps->peer[i & (CG_SK_PEERS - 1)];
	e->seen_ns = now;
	return e;
}

/* peer_add() into the socket's peers, @ps if it has some already, else
 * created now: only sockets that exchange something get any. */
static __always_inline void peer_remember(struct cg_sk_peers *ps, void *sk,
					  const struct pkt *p, __u32 gen,
					  __u32 slot, const struct verdict *vd,
					  int rdir, __u64 now)
{
	if (!ps)
		ps = bpf_sk_storage_get(&cg_sk_peers, sk, 0,
					BPF_SK_STORAGE_GET_F_CREATE);
	if (ps)
		peer_add(ps, p, gen, slot, vd, rdir, now);
}

#endif
