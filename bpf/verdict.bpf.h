/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Verdict helpers shared by every layer: build an LPM key, judge it
 * against the compiled entry, count the result.  Included by guard.bpf.c
 * and lsm.bpf.c after maps.bpf.h.
 */
#ifndef CGGUARD_VERDICT_BPF_H
#define CGGUARD_VERDICT_BPF_H

#define AF_INET		2
#define AF_INET6	10
#define SOCK_RAW	3

#define cg_barrier()		asm volatile("" ::: "memory")

/* What one packet or socket operation is judged on. */
struct pkt {
	struct cg_lpm_key key;	/* peer address: daddr egress, saddr ingress */
	__u8 proto;
	__u8 parsed;		/* 0: L4 unknown (fragment, truncated, ...) */
	__u16 port;		/* the port the judging rules match, host order:
				 * the peer's for egress rules, the local one
				 * for ingress rules; 0 if none */
	__u16 peer_port;	/* host order; 0 if none */
	__u16 local_port;
};

struct verdict {
	__u8 action;
	__u8 flags;		/* CG_F_* of the entry */
	__u16 rule;
};

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

static __always_inline void set_v4(struct pkt *p, __u32 addr)
{
	p->key.family = CG_FAM_V4;
	p->key.prefixlen = CG_LPM_HDR_BITS + 32;
	__builtin_memcpy(p->key.addr, &addr, 4);
}

static __always_inline void set_v6(struct pkt *p, const void *addr)
{
	p->key.family = CG_FAM_V6;
	p->key.prefixlen = CG_LPM_HDR_BITS + 128;
	__builtin_memcpy(p->key.addr, addr, 16);
	unmap_v4(p);
}

/* An entry with many ranges: one lookup in its port table.  A miss means
 * no range holds the port, so the entry's fallback stands (the same as
 * an inline scan finding nothing): neither fail-open nor fail-closed. */
static __always_inline void judge_table(const struct cg_lpm_val *v,
					const struct pkt *p, struct verdict *vd)
{
	struct cg_port_key k = {
		.prefixlen = CG_PORT_HDR_BITS + 16,
		.table = v->table,
		.proto = p->proto,
		.port = { p->port >> 8, p->port & 0xff },
	};
	struct cg_port_val *pv = bpf_map_lookup_elem(&cg_ports, &k);

	if (pv) {
		vd->action = pv->action;
		vd->rule = pv->rule;
	}
}

/* First matching range decides, else the entry's fallback. */
static __always_inline void judge(const struct cg_lpm_val *v,
				  const struct pkt *p, struct verdict *vd)
{
	int i;

	vd->action = v->action;
	vd->rule = v->rule;
	vd->flags = v->flags;
	if (v->nranges == CG_RANGES_IN_TABLE) {
		judge_table(v, p, vd);
		return;
	}
	for (i = 0; i < CG_MAX_RANGES; i++) {
		const struct cg_range *r = &v->r[i];

		if (i >= v->nranges)
			break;
		if (r->proto == p->proto && p->port >= r->lo &&
		    p->port <= r->hi) {
			vd->action = r->action;
			vd->rule = r->rule;
			return;
		}
	}
}

/* Looks @p up in @slot/@dir; a miss is a deny (fail closed): every slot
 * has a /0 entry per family, so a miss means the slot is being torn down
 * or the state is corrupt. */
static __always_inline void decide(__u32 slot, int dir, struct pkt *p,
				   struct verdict *vd)
{
	struct cg_lpm_val *v;

	p->key.slot = slot < CG_MAX_SLOTS ? slot : CG_SLOT_UNBOUND;
	p->key.dir = dir;
	v = bpf_map_lookup_elem(&cg_lpm, &p->key);
	if (!v) {
		vd->action = CG_ACT_DENY_V;
		vd->rule = CG_RULE_UNPARSED;
		vd->flags = 0;
		return;
	}
	if (!p->parsed && (v->flags & CG_F_DEFAULT_DENY)) {
		/* design.md: unclassifiable packets follow a deny default. */
		vd->action = CG_ACT_DENY_V;
		vd->rule = CG_RULE_UNPARSED;
		vd->flags = v->flags;
		return;
	}
	judge(v, p, vd);
}

/* CG_RES_* for an action under a mode. */
static __always_inline int result_of(__u8 action, int audit)
{
	if (action == CG_ACT_ALLOW_V)
		return CG_RES_PASS;
	return audit ? CG_RES_AUDIT : CG_RES_DROP;
}

/* count_rule(): events.bpf.h (per policy and per cgroup). */

/* The running attachment's per-CPU counters (never NULL: the kernel
 * allocates cgroup storage with the attachment). */
static __always_inline struct cg_hook_counters *hook_counters(void)
{
	return bpf_get_local_storage(&cg_counters, 0);
}

static __always_inline void count_in(struct cg_counters *c, int res, __u32 n,
				     __u32 bytes, int unparsed)
{
	c->pkts[res] += n;
	c->bytes[res] += bytes;
	if (unparsed)
		c->unparsed += n;
}

/* Counts into the per-CPU storage of the running attachment. */
static __always_inline void count_storage(int res, __u32 n, __u32 bytes,
					  int unparsed)
{
	count_in(&hook_counters()->c, res, n, bytes, unparsed);
}

/* The running attachment's binding; *slot is its slot, bounded. */
static __always_inline const struct cg_binding *binding(__u32 *slot)
{
	const struct cg_binding *b = bpf_get_local_storage(&cg_binding, 0);

	/* An unbound attachment (slot 0) gets the reserved deny-all slot. */
	*slot = b->slot < CG_MAX_SLOTS ? b->slot : CG_SLOT_UNBOUND;
	return b;
}

/*
 * The running attachment's counters, with this CPU's copy of its binding
 * brought up to date (cgguard_abi.h, struct cg_bound): one cgroup-storage
 * lookup and an inlined array read while no binding changed anywhere.
 * A missing cg_info (it cannot miss: an array) reads as epoch 0, which
 * never matches, so the binding is read every time (fail-safe, slower).
 */
static __always_inline struct cg_hook_counters *hook_bound(void)
{
	struct cg_hook_counters *hc = hook_counters();
	const struct cg_binding *b;
	struct cg_info *info;
	__u32 zero = 0, slot;
	__u64 epoch;

	info = bpf_map_lookup_elem(&cg_info, &zero);
	epoch = info ? info->epoch : 0;
	if (epoch && hc->bound.epoch == epoch)
		return hc;
	/* Epoch first, then the binding (one CPU, loads stay in order);
	 * invalidate while copying, for a program that interrupts us. */
	cg_barrier();
	hc->bound.epoch = 0;
	b = binding(&slot);
	hc->bound.slot = slot;
	hc->bound.gen = b->gen;
	hc->bound.cgid = b->cgid;
	cg_barrier();
	hc->bound.epoch = epoch;
	return hc;
}

static __always_inline __u32 bound_slot(void)
{
	__u32 slot;

	binding(&slot);
	return slot;
}

/* bind(): port 0 asks the kernel for an ephemeral port and always passes. */
static __always_inline __u8 judge_bind(const struct cg_sockcfg *c, __u16 port)
{
	int i;

	if (!port)
		return CG_ACT_ALLOW_V;
	for (i = 0; i < CG_MAX_BIND_RANGES; i++) {
		if (i >= c->nbind)
			break;
		if (port >= c->bind[i].lo && port <= c->bind[i].hi)
			return c->bind[i].action;
	}
	return c->bind_default;
}

/* socket(): raw inet sockets and denied families. */
static __always_inline __u8 judge_create(const struct cg_sockcfg *c,
					 int family, int type)
{
	if (family < 64 && (c->deny_families & (1ULL << family)))
		return CG_ACT_DENY_V;
	if (type == SOCK_RAW && (family == AF_INET || family == AF_INET6))
		return c->raw_action;
	return CG_ACT_ALLOW_V;
}

#endif
