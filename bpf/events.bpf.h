/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Kernel side of events and per-cgroup rule hits.  Included by guard.bpf.c
 * and lsm.bpf.c after maps.bpf.h (the LSM object reuses these maps' pinned
 * fds by name, like every other map).
 *
 * Events are emitted only on deny, audit and kill paths: every call site
 * is guarded by `res != CG_RES_PASS`, so an allowed packet or operation
 * does no event work at all.  An event site takes one token from the
 * guarded cgroup's bucket (cg_evstate, under its spin lock), reserves ring
 * buffer space and fills it in place; what the bucket refuses counts as
 * suppressed, what the ring buffer refuses as lost.
 */
#ifndef CGGUARD_EVENTS_BPF_H
#define CGGUARD_EVENTS_BPF_H

#define CG_NSEC			1000000000ULL
#define CG_EV_REFILL_MAX	(10 * CG_NSEC)	/* bounds tokens*rate math */
#define CG_EV_ETH_P_IP		0x0800
#define CG_EV_ETH_P_IPV6	0x86DD
#define CG_EV_AF_INET		2
#define CG_EV_AF_INET6		10

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, CG_EV_RING_BYTES);
} cg_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CG_MAX_SLOTS);
	__type(key, __u32);
	__type(value, struct cg_evcfg);
} cg_evcfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CG_EVSTATE_MAX_ENTRIES);
	__type(key, __u64);
	__type(value, struct cg_evstate);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} cg_evstate SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, CG_CGRULE_MAX_ENTRIES);
	__type(key, struct cg_cgrule_key);
	__type(value, __u64);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} cg_cgrule_hits SEC(".maps");

/* The attachment's own cgroup and binding generation (cgroup programs). */
static __always_inline struct cg_binding *ev_binding(void)
{
	return bpf_get_local_storage(&cg_binding, 0);
}

/* ---- per-cgroup rule hits ------------------------------------------------ */

/* Counts @n hits of @rule of @slot for guarded cgroup @cgid.  A full map
 * (CG_CGRULE_MAX_ENTRIES, a million live counters: only rules displaced
 * from a hook's cache take one) drops the hit. */
static __always_inline void count_rule_cg(__u64 cgid, __u32 slot, __u16 rule,
					  __u32 n)
{
	struct cg_cgrule_key k = { .cgid = cgid, .slot = slot, .rule = rule };
	__u64 *v = bpf_map_lookup_elem(&cg_cgrule_hits, &k), init = n;

	if (v) {
		*v += n;
		return;
	}
	/* First hit: insert (other CPUs' values start at zero); a
	 * concurrent first insert makes ours fail, then add to theirs. */
	if (!bpf_map_update_elem(&cg_cgrule_hits, &k, &init, BPF_NOEXIST))
		return;
	v = bpf_map_lookup_elem(&cg_cgrule_hits, &k);
	if (v)
		*v += n;
}

/* Hits counted per slot (cg_rule_hits): a per-CPU array, looked up inline. */
static __always_inline void count_rule_policy(__u32 slot, __u16 rule, __u32 n)
{
	__u32 idx;
	__u64 *hits;

	if (rule >= CG_RULES_PER_SLOT || slot >= CG_MAX_SLOTS)
		return;
	idx = slot * CG_RULES_PER_SLOT + rule;
	hits = bpf_map_lookup_elem(&cg_rule_hits, &idx);
	if (hits)
		*hits += n;
}

/* Hits of guarded cgroup @cgid (LSM programs: no cgroup storage).  The
 * policy's own hits are the sum over the cgroups it guards (readers). */
static __always_inline void count_rule_in(__u64 cgid, __u32 slot, __u16 rule,
					  __u32 n)
{
	if (rule >= CG_RULES_PER_SLOT || slot >= CG_MAX_SLOTS)
		return;
	count_rule_cg(cgid, slot, rule, n);
}

/*
 * Cgroup programs: the per-cgroup hit goes to the hook's own cache in its
 * per-CPU cgroup storage (cgguard_abi.h, cg_hot_hit), the hash only when
 * the cache entry belongs to another rule of this binding.  Not atomic: a
 * softirq of the same hook on this CPU between the test and the add can
 * misplace one update, as with every per-CPU counter here.
 *
 * A policy's hits are not counted here: readers sum the hits of the
 * cgroups it guards (bpf/evmaps.c), which keeps a packet of a known
 * connection to one counter line (a per-policy per-CPU array cost ~8 ns a
 * packet, a third of the fast path).  An attachment not bound yet (gen 0:
 * no cache to speak of; also every BPF_PROG_TEST_RUN, whose storage dies
 * with the run) counts into its slot's array, cg_rule_hits, instead.
 */
static __always_inline void count_rule(struct cg_hook_counters *hc,
				       __u32 slot, __u16 rule, __u32 n)
{
	struct cg_hot_hit *h;
	__u32 gen = hc->bound.gen;

	if (rule >= CG_RULES_PER_SLOT || slot >= CG_MAX_SLOTS)
		return;
	if (!gen) {
		count_rule_policy(slot, rule, n);
		return;
	}
	h = &hc->hot[rule & (CG_HOT_RULES - 1)];
	if (h->gen == gen && h->rule == rule) {	/* gen implies the slot */
		h->hits += n;
		return;
	}
	if (h->gen == gen && h->hits)	/* displaced: keep its hits */
		count_rule_cg(hc->bound.cgid, h->slot, h->rule, h->hits);
	h->gen = gen;
	h->slot = slot;
	h->rule = rule;
	h->hits = n;
}

/* ---- token bucket ------------------------------------------------------- */

static __always_inline struct cg_evstate *ev_state(__u64 cgid,
						   const struct cg_evcfg *cfg,
						   __u64 now)
{
	struct cg_evstate *st = bpf_map_lookup_elem(&cg_evstate, &cgid);
	struct cg_evstate init = {};

	if (st)
		return st;
	init.tokens = (__u64)cfg->burst * CG_NSEC;
	init.last_ns = now;
	/* Fails only past CG_EVSTATE_MAX_ENTRIES guarded cgroups (as many
	 * as cg_cgroups holds) or when another CPU inserted first. */
	bpf_map_update_elem(&cg_evstate, &cgid, &init, BPF_NOEXIST);
	return bpf_map_lookup_elem(&cg_evstate, &cgid);
}

/* 1 if a token was taken; else counts the event as suppressed. */
static __always_inline int ev_take(struct cg_evstate *st,
				   const struct cg_evcfg *cfg, __u64 now)
{
	__u64 cap = (__u64)cfg->burst * CG_NSEC, el, t;
	int ok;

	bpf_spin_lock(&st->lock);
	/* Another CPU may have refilled with a later clock reading. */
	el = now > st->last_ns ? now - st->last_ns : 0;
	if (el > CG_EV_REFILL_MAX)
		el = CG_EV_REFILL_MAX;
	t = st->tokens + el * cfg->rate;
	if (t > cap)
		t = cap;
	if (now > st->last_ns)
		st->last_ns = now;
	ok = t >= CG_NSEC;
	if (ok)
		t -= CG_NSEC;
	else
		st->suppressed++;
	st->tokens = t;
	bpf_spin_unlock(&st->lock);
	return ok;
}

/*
 * Starts an event of guarded cgroup @cgid decided by @slot: NULL when the
 * policy has events off, the bucket is empty (suppressed) or the ring
 * buffer is full (lost).  Otherwise the caller fills and submits it.
 */
static __always_inline struct cg_event *ev_begin(__u64 cgid, __u32 slot,
						 int verdict)
{
	const struct cg_evcfg *cfg;
	struct cg_evstate *st;
	struct cg_event *e;
	__u32 s = slot;
	__u64 now;

	cfg = bpf_map_lookup_elem(&cg_evcfg, &s);
	if (!cfg || (cfg->flags & CG_EVF_OFF))
		return NULL;	/* events: off costs one array lookup */
	now = bpf_ktime_get_ns();
	st = ev_state(cgid, cfg, now);
	if (!st || !ev_take(st, cfg, now))
		return NULL;
	e = bpf_ringbuf_reserve(&cg_events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&st->lost, 1);
		return NULL;
	}
	__sync_fetch_and_add(&st->emitted, 1);
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = now;
	e->cgid = cgid;
	e->slot = slot;
	e->verdict = verdict;
	return e;
}

/* pid and comm of the current task: layers running in process context. */
static __always_inline void ev_task(struct cg_event *e)
{
	e->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->sk_cgid = bpf_get_current_cgroup_id();
}

/* ---- call sites: one per layer ------------------------------------------ */

/* Addresses and ports from the IP header (no extension-header walk:
 * ports stay 0 behind IPv6 extension headers). */
static __always_inline void ev_skb_addrs(struct __sk_buff *skb,
					 struct cg_event *e)
{
	struct iphdr ip;
	struct ipv6hdr ip6;
	__u16 ports[2];
	__u32 l4 = 0;

	if (skb->protocol == bpf_htons(CG_EV_ETH_P_IP)) {
		if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)))
			return;
		e->family = CG_FAM_V4;
		e->proto = ip.protocol;
		__builtin_memcpy(e->saddr, &ip.saddr, 4);
		__builtin_memcpy(e->daddr, &ip.daddr, 4);
		if (!(bpf_ntohs(ip.frag_off) & 0x1fff))
			l4 = ip.ihl * 4;
	} else if (skb->protocol == bpf_htons(CG_EV_ETH_P_IPV6)) {
		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)))
			return;
		e->family = CG_FAM_V6;
		e->proto = ip6.nexthdr;
		__builtin_memcpy(e->saddr, &ip6.saddr, 16);
		__builtin_memcpy(e->daddr, &ip6.daddr, 16);
		l4 = sizeof(ip6);
	}
	if (!l4 || (e->proto != CG_P_TCP && e->proto != CG_P_UDP) ||
	    bpf_skb_load_bytes(skb, l4, ports, sizeof(ports)))
		return;
	e->sport = bpf_ntohs(ports[0]);
	e->dport = bpf_ntohs(ports[1]);
}

/* Packet layer (cgroup_skb): a dropped or audited packet. */
static __always_inline void cg_ev_skb(struct __sk_buff *skb, int dir,
				      __u32 slot, __u16 rule, int res)
{
	struct cg_binding *b = ev_binding();
	struct cg_event *e = ev_begin(b->cgid, slot, res);

	if (!e)
		return;
	e->gen = b->gen;
	e->layer = CG_EVL_PACKET;
	e->dir = dir;
	e->rule = rule;
	e->sk_cgid = bpf_skb_cgroup_id(skb);
	e->cookie = bpf_get_socket_cookie(skb);
	ev_skb_addrs(skb, e);
	bpf_ringbuf_submit(e, 0);
}

/* Local address of a sock_addr context's socket (0 until bound). */
static __always_inline void ev_sk_src(struct bpf_sock_addr *ctx,
				      struct cg_event *e)
{
	struct bpf_sock *sk = ctx->sk;

	if (!sk)
		return;
	e->sport = sk->src_port;
	if (ctx->family == CG_EV_AF_INET) {
		__u32 a = sk->src_ip4;

		__builtin_memcpy(e->saddr, &a, 4);
	} else if (e->family == CG_FAM_V6) {
		__u32 a[4] = { sk->src_ip6[0], sk->src_ip6[1], sk->src_ip6[2],
			       sk->src_ip6[3] };

		__builtin_memcpy(e->saddr, a, 16);
	}
}

/* connect()/sendmsg() (@layer CG_EVL_CONNECT or CG_EVL_SENDMSG): @key is
 * the judged destination (IPv4-mapped already unmapped). */
static __always_inline void cg_ev_addr(struct bpf_sock_addr *ctx, int layer,
				       __u32 slot, const struct cg_lpm_key *key,
				       __u16 port, __u16 rule, int res)
{
	struct cg_binding *b = ev_binding();
	struct cg_event *e = ev_begin(b->cgid, slot, res);

	if (!e)
		return;
	e->gen = b->gen;
	e->layer = layer;
	e->dir = CG_DIR_EGRESS_V;
	e->rule = rule;
	e->proto = ctx->protocol;
	e->family = key->family;
	__builtin_memcpy(e->daddr, key->addr, 16);
	e->dport = port;
	e->cookie = bpf_get_socket_cookie(ctx);
	ev_sk_src(ctx, e);
	ev_task(e);
	bpf_ringbuf_submit(e, 0);
}

/* bind(): the address and port asked for are the event's source. */
static __always_inline void cg_ev_bind(struct bpf_sock_addr *ctx, int v6,
				       __u32 slot, int res)
{
	struct cg_binding *b = ev_binding();
	struct cg_event *e = ev_begin(b->cgid, slot, res);

	if (!e)
		return;
	e->gen = b->gen;
	e->layer = CG_EVL_BIND;
	e->dir = CG_DIR_INGRESS_V;
	e->rule = CG_RULE_NONE;
	e->proto = ctx->protocol;
	e->sport = bpf_ntohs((__u16)ctx->user_port);
	/* bind4 programs may not read user_ip6 and bind6 not user_ip4. */
	if (!v6) {
		__u32 a = ctx->user_ip4;

		e->family = CG_FAM_V4;
		__builtin_memcpy(e->saddr, &a, 4);
	} else {
		__u32 a[4] = { ctx->user_ip6[0], ctx->user_ip6[1],
			       ctx->user_ip6[2], ctx->user_ip6[3] };

		e->family = CG_FAM_V6;
		__builtin_memcpy(e->saddr, a, 16);
	}
	e->cookie = bpf_get_socket_cookie(ctx);
	ev_task(e);
	bpf_ringbuf_submit(e, 0);
}

/* socket(): family (AF_*), type and protocol of the refused socket. */
static __always_inline void cg_ev_create(struct bpf_sock *sk, __u32 slot,
					 int res)
{
	struct cg_binding *b = ev_binding();
	struct cg_event *e = ev_begin(b->cgid, slot, res);

	if (!e)
		return;
	e->gen = b->gen;
	e->layer = CG_EVL_CREATE;
	e->dir = CG_DIR_EGRESS_V;
	e->rule = CG_RULE_NONE;
	e->family = sk->family;
	e->sotype = sk->type;
	e->proto = sk->protocol;
	e->cookie = bpf_get_socket_cookie(sk);
	ev_task(e);
	bpf_ringbuf_submit(e, 0);
}

/*
 * LSM layer: a denial, audit or kill.  The global flavour passes the
 * guarded cgroup it found (@global, @cgid); lsm_cgroup programs read their
 * binding.  @family/@sotype for socket(), else the judged address.
 */
static __always_inline void cg_ev_lsm(int global, __u64 cgid, __u32 slot,
				      __u16 rule, int verdict,
				      const struct cg_lpm_key *key, __u16 port,
				      int family, int sotype)
{
	struct cg_binding *b = global ? NULL : ev_binding();
	struct cg_event *e = ev_begin(global ? cgid : b->cgid, slot, verdict);

	if (!e)
		return;
	e->gen = global ? 0 : b->gen;
	e->layer = CG_EVL_LSM;
	e->dir = CG_DIR_EGRESS_V;
	e->rule = rule;
	if (key) {
		e->family = key->family;
		__builtin_memcpy(e->daddr, key->addr, 16);
		e->dport = port;
	} else {
		e->family = family;
		e->sotype = sotype;
	}
	ev_task(e);
	bpf_ringbuf_submit(e, 0);
}

#endif
