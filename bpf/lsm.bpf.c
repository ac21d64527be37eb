// SPDX-License-Identifier: GPL-2.0
/*
 * LSM layer: BPF LSM programs attached per cgroup (lsm_cgroup, 6.0+).
 * They see what the cgroup socket hooks cannot: every address family at
 * socket(), and connect/bind/sendmsg before any protocol code runs.  They
 * share every map with guard.bpf.c (the loader reuses the pinned fds), so
 * the same compiled policy decides.  Only loaded where the kernel allows
 * BPF LSM (probe); the host kernel here refuses with EPERM.
 *
 * lsm_cgroup programs return 1 to allow and 0 to deny (-EPERM).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "cgguard_abi.h"

/* LSM programs must be GPL. */
char LICENSE[] SEC("license") = "GPL";

#include "maps.bpf.h"
#include "events.bpf.h"
#include "verdict.bpf.h"

#define SIGKILL 9
#define EPERM 1
#define MAX_CGROUP_DEPTH 32

/*
 * Two flavours of the same programs:
 *  - lsm_cgroup (6.0+): attached per guarded cgroup; the policy comes from
 *    the attachment's cgroup storage; return 1 allow / 0 deny.
 *  - lsm (global, any kernel with BPF LSM): attached once; the policy is
 *    the deepest guarded ancestor's, found by walking the current task's
 *    cgroup ancestors in cg_cgroups; return 0 allow / -EPERM deny.
 * GLOBAL is a compile-time constant in each program, so the other
 * flavour's helpers (cgroup storage) are compiled out.
 */
struct who {
	__u32 slot;
	__u64 cgid;	/* global flavour: the guarded cgroup that decides */
};

/* Global flavour: 0 if no ancestor of the current task is guarded. */
static __always_inline int find_guarded(struct who *w)
{
	struct cg_cgroup_meta *m;
	int i, found = 0;

	for (i = 0; i < MAX_CGROUP_DEPTH; i++) {
		__u64 id = bpf_get_current_ancestor_cgroup_id(i);

		if (!id)
			break;
		m = bpf_map_lookup_elem(&cg_cgroups, &id);
		if (m) {	/* deeper ones overwrite: the nearest decides */
			w->slot = m->slot < CG_MAX_SLOTS ? m->slot : 0;
			w->cgid = id;
			found = 1;
		}
	}
	return found;
}

static __always_inline int who_am_i(struct who *w, int global)
{
	if (!global) {
		w->slot = bound_slot();
		w->cgid = ev_binding()->cgid;
		return 1;
	}
	return find_guarded(w);
}

static __always_inline void count_global(__u64 cgid, int res)
{
	struct cg_counters *c = bpf_map_lookup_elem(&cg_lsm_counts, &cgid);
	struct cg_counters zero = {};

	if (!c) {
		bpf_map_update_elem(&cg_lsm_counts, &cgid, &zero, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&cg_lsm_counts, &cgid);
	}
	if (c)
		c->pkts[res] += 1;
}

static __always_inline int allow_ret(int global)
{
	return global ? 0 : CG_SOCK_ALLOW;
}

/* What an LSM event says beyond the verdict. */
struct lsm_ev {
	__u16 rule;
	__u16 port;
	const struct cg_lpm_key *key;	/* judged address, or NULL */
	int family, sotype;		/* socket(): what was asked for */
};

/* Counts, carries out on_violation: kill, and returns the LSM verdict. */
static __always_inline int lsm_verdict(const struct who *w, int global,
				       __u8 action, int audit, __u8 sflags,
				       const struct lsm_ev *ev)
{
	int res = result_of(action, audit);
	int kill = res == CG_RES_DROP && (sflags & CG_SF_KILL);

	if (global)
		count_global(w->cgid, res);
	else
		count_storage(res, 1, 0, 0);
	if (res != CG_RES_PASS)
		cg_ev_lsm(global, w->cgid, w->slot, ev->rule,
			  kill ? CG_EVV_KILL : res, ev->key, ev->port,
			  ev->family, ev->sotype);
	if (res != CG_RES_DROP)
		return allow_ret(global);
	if (kill)
		bpf_send_signal(SIGKILL);
	return global ? -EPERM : CG_SOCK_DENY;
}

static __always_inline const struct cg_sockcfg *sockcfg(__u32 slot)
{
	/* Array lookup of a slot < CG_MAX_SLOTS cannot miss; if it did,
	 * callers allow (fail open): the packet layer stays the backstop. */
	return bpf_map_lookup_elem(&cg_sockcfg, &slot);
}

/* Reads an inet sockaddr into @p; returns 0, or -1 for other families. */
static __always_inline int read_sockaddr(struct sockaddr *sa, struct pkt *p)
{
	struct sockaddr_in6 s6;
	struct sockaddr_in s4;
	__u16 fam = BPF_CORE_READ(sa, sa_family);

	if (fam == AF_INET) {
		if (bpf_probe_read_kernel(&s4, sizeof(s4), sa))
			return -1;
		set_v4(p, s4.sin_addr.s_addr);
		p->port = bpf_ntohs(s4.sin_port);
		return 0;
	}
	if (fam == AF_INET6) {
		if (bpf_probe_read_kernel(&s6, sizeof(s6), sa))
			return -1;
		set_v6(p, &s6.sin6_addr);
		p->port = bpf_ntohs(s6.sin6_port);
		return 0;
	}
	return -1;
}

/* connect() and sendmsg() to an address: judged by the egress rules. */
static __always_inline int lsm_addr(struct socket *sock, struct sockaddr *sa,
				    int global)
{
	struct pkt p = { .parsed = 1 };
	const struct cg_sockcfg *c;
	struct lsm_ev ev = {};
	struct verdict vd;
	struct who w = {};
	__u16 proto;

	if (!who_am_i(&w, global) || !sa || read_sockaddr(sa, &p))
		return allow_ret(global); /* not inet: judged at create */
	c = sockcfg(w.slot);
	proto = BPF_CORE_READ(sock, sk, sk_protocol);
	p.proto = proto == CG_P_ICMPV6 ? CG_P_ICMP : proto;
	decide(w.slot, CG_DIR_EGRESS_V, &p, &vd);
	count_rule_in(w.cgid, w.slot, vd.rule, 1);
	ev.rule = vd.rule;
	ev.key = &p.key;
	ev.port = p.port;
	return lsm_verdict(&w, global, vd.action, vd.flags & CG_F_AUDIT,
			   c ? c->flags : 0, &ev);
}

static __always_inline int lsm_create(int family, int type, int kern,
				      int global)
{
	struct lsm_ev ev = { .rule = CG_RULE_NONE, .family = family,
			     .sotype = type };
	const struct cg_sockcfg *c;
	struct who w = {};

	if (kern || !who_am_i(&w, global))
		return allow_ret(global);	/* kernel-internal sockets */
	c = sockcfg(w.slot);
	if (!c)
		return allow_ret(global);
	return lsm_verdict(&w, global, judge_create(c, family, type),
			   c->flags & CG_SF_AUDIT, c->flags, &ev);
}

static __always_inline int lsm_bind(struct sockaddr *address, int global)
{
	struct lsm_ev ev = {};
	const struct cg_sockcfg *c;
	struct pkt p = {};
	struct who w = {};

	if (!who_am_i(&w, global) || read_sockaddr(address, &p))
		return allow_ret(global);
	c = sockcfg(w.slot);
	if (!c)
		return allow_ret(global);
	ev.rule = CG_RULE_NONE;
	ev.key = &p.key;
	ev.port = p.port;
	return lsm_verdict(&w, global, judge_bind(c, p.port),
			   c->flags & CG_SF_AUDIT, c->flags, &ev);
}

/* ---- per-cgroup flavour (lsm_cgroup) ------------------------------------ */

SEC("lsm_cgroup/socket_create")
int BPF_PROG(cg_lsm_create, int family, int type, int protocol, int kern)
{
	return lsm_create(family, type, kern, 0);
}

SEC("lsm_cgroup/socket_connect")
int BPF_PROG(cg_lsm_connect, struct socket *sock, struct sockaddr *address,
	     int addrlen)
{
	return lsm_addr(sock, address, 0);
}

SEC("lsm_cgroup/socket_sendmsg")
int BPF_PROG(cg_lsm_sendmsg, struct socket *sock, struct msghdr *msg, int size)
{
	/* Connected sends carry no address; connect() was judged already. */
	return lsm_addr(sock, BPF_CORE_READ(msg, msg_name), 0);
}

SEC("lsm_cgroup/socket_bind")
int BPF_PROG(cg_lsm_bind, struct socket *sock, struct sockaddr *address,
	     int addrlen)
{
	return lsm_bind(address, 0);
}

/* ---- global flavour (lsm) ------------------------------------------------ */

/* A global LSM program is chained after earlier verdicts: pass on a denial
 * already made (ret != 0) instead of overriding it. */
SEC("lsm/socket_create")
int BPF_PROG(cg_glsm_create, int family, int type, int protocol, int kern,
	     int ret)
{
	return ret ? ret : lsm_create(family, type, kern, 1);
}

SEC("lsm/socket_connect")
int BPF_PROG(cg_glsm_connect, struct socket *sock, struct sockaddr *address,
	     int addrlen, int ret)
{
	return ret ? ret : lsm_addr(sock, address, 1);
}

SEC("lsm/socket_sendmsg")
int BPF_PROG(cg_glsm_sendmsg, struct socket *sock, struct msghdr *msg,
	     int size, int ret)
{
	return ret ? ret : lsm_addr(sock, BPF_CORE_READ(msg, msg_name), 1);
}

SEC("lsm/socket_bind")
int BPF_PROG(cg_glsm_bind, struct socket *sock, struct sockaddr *address,
	     int addrlen, int ret)
{
	return ret ? ret : lsm_bind(address, 1);
}
