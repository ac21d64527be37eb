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
#include "verdict.bpf.h"

#define SIGKILL 9

/* Counts, carries out on_violation: kill, and returns the LSM verdict. */
static __always_inline int lsm_verdict(__u8 action, int audit, __u8 sflags)
{
	int res = result_of(action, audit);

	count_storage(res, 1, 0, 0);
	if (res != CG_RES_DROP)
		return CG_SOCK_ALLOW;
	if (sflags & CG_SF_KILL)
		bpf_send_signal(SIGKILL);
	return CG_SOCK_DENY;
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
static __always_inline int lsm_addr(struct socket *sock, struct sockaddr *sa)
{
	__u32 slot = bound_slot();
	const struct cg_sockcfg *c = sockcfg(slot);
	struct pkt p = { .parsed = 1 };
	struct verdict vd;
	__u16 proto;

	if (!sa || read_sockaddr(sa, &p))
		return CG_SOCK_ALLOW;	/* not inet: families are judged at create */
	proto = BPF_CORE_READ(sock, sk, sk_protocol);
	p.proto = proto == CG_P_ICMPV6 ? CG_P_ICMP : proto;
	decide(slot, CG_DIR_EGRESS_V, &p, &vd);
	count_rule(slot, vd.rule, 1);
	return lsm_verdict(vd.action, vd.flags & CG_F_AUDIT, c ? c->flags : 0);
}

SEC("lsm_cgroup/socket_create")
int BPF_PROG(cg_lsm_create, int family, int type, int protocol, int kern)
{
	const struct cg_sockcfg *c;

	if (kern)
		return CG_SOCK_ALLOW;	/* kernel-internal sockets */
	c = sockcfg(bound_slot());
	if (!c)
		return CG_SOCK_ALLOW;
	return lsm_verdict(judge_create(c, family, type),
			   c->flags & CG_SF_AUDIT, c->flags);
}

SEC("lsm_cgroup/socket_connect")
int BPF_PROG(cg_lsm_connect, struct socket *sock, struct sockaddr *address,
	     int addrlen)
{
	return lsm_addr(sock, address);
}

SEC("lsm_cgroup/socket_sendmsg")
int BPF_PROG(cg_lsm_sendmsg, struct socket *sock, struct msghdr *msg, int size)
{
	/* Connected sends carry no address; connect() was judged already. */
	return lsm_addr(sock, BPF_CORE_READ(msg, msg_name));
}

SEC("lsm_cgroup/socket_bind")
int BPF_PROG(cg_lsm_bind, struct socket *sock, struct sockaddr *address,
	     int addrlen)
{
	const struct cg_sockcfg *c = sockcfg(bound_slot());
	struct pkt p = {};

	if (!c || read_sockaddr(address, &p))
		return CG_SOCK_ALLOW;
	return lsm_verdict(judge_bind(c, p.port), c->flags & CG_SF_AUDIT,
			   c->flags);
}
