/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The live TCP and UDP sockets (IPv4 and IPv6) of a cgroup tree, through
 * sock_diag netlink (libnl-3): dump them, read a BPF socket-storage map's
 * value of each (INET_DIAG_REQ_SK_BPF_STORAGES), destroy chosen ones
 * (SOCK_DESTROY).
 *
 * sock_diag sees one network namespace per netlink socket, and a cgroup's
 * processes may live in several (containers), so a scan opens one netlink
 * socket in every network namespace a process of the tree is in, plus the
 * caller's own.  The kernel filters by cgroup id (INET_DIAG_BC_CGROUP_COND
 * bytecode); the id each socket reports (INET_DIAG_CGROUP_ID) is checked
 * again here.  Why sock_diag and not a BPF socket iterator with
 * bpf_sock_destroy(): see sockdiag.c.
 *
 * Functions return 0 or -errno, with detail in cg_lasterr().
 */
#ifndef CGGUARD_SOCKDIAG_H
#define CGGUARD_SOCKDIAG_H

#include <stddef.h>
#include <stdint.h>
#include <linux/inet_diag.h>

/* Bounds: a scan refuses trees or namespace sets larger than these. */
#define CG_SCAN_MAX_CGROUPS	4096
#define CG_SCAN_MAX_DEPTH	64
#define CG_SCAN_MAX_NETNS	1024
#define CG_SCAN_MAX_PIDS	(1u << 20)

#define CG_SOCK_STG_MAX	2

struct cg_sock {
	uint8_t family;		/* AF_INET or AF_INET6 */
	uint8_t proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	uint8_t state;		/* TCP_* (UDP: ESTABLISHED = connected, CLOSE) */
	uint8_t listening;	/* TCP_LISTEN */
	uint8_t src[16];	/* network order; IPv4 in the first 4 bytes */
	uint8_t dst[16];
	uint16_t sport;		/* host order */
	uint16_t dport;
	uint32_t ifindex;
	uint32_t inode;
	uint32_t uid;
	uint32_t rqueue, wqueue;
	uint64_t cookie;
	uint64_t cgid;		/* the socket's cgroup */
	uint64_t netns;		/* inode of its network namespace */
	int ns_idx;		/* which namespace of the scan (for destroy) */
	/* the value of each storage map asked for, NULL if none */
	const void *stg[CG_SOCK_STG_MAX];
	uint32_t stg_len[CG_SOCK_STG_MAX];
	struct inet_diag_sockid id;	/* as dumped: what SOCK_DESTROY needs */
};

struct cg_sockscan;

/*
 * Prepares a scan of the cgroup directory @abs and every cgroup below it:
 * their ids and the network namespaces of their processes.
 */
int cg_sockscan_open(const char *abs, struct cg_sockscan **out);
void cg_sockscan_close(struct cg_sockscan *s);
/* Number of cgroups and of network namespaces the scan covers. */
size_t cg_sockscan_ncgroups(const struct cg_sockscan *s);
size_t cg_sockscan_nnetns(const struct cg_sockscan *s);

/* A BPF_MAP_TYPE_SK_STORAGE map whose values a dump asks for. */
struct cg_stg_map {
	int fd;
	uint32_t id;	/* as sock_diag names it in the reply */
};

typedef int (*cg_sock_cb)(const struct cg_sock *sk, void *ctx);
/*
 * Calls @cb for every TCP and UDP socket of the tree (TCP in every state
 * with a full socket, as `ss -a --cgroup` lists them), with the value of
 * each of the @nstg (at most CG_SOCK_STG_MAX) storage maps in sk->stg[],
 * in the order given.  A non-zero return of @cb stops the scan and is
 * returned.
 */
int cg_sockscan_dump(struct cg_sockscan *s, const struct cg_stg_map *stg,
		     int nstg, cg_sock_cb cb, void *ctx);
/* Calls @fn inside each network namespace of the scan in turn (ours
 * first); the first non-zero return stops and is returned. */
int cg_sockscan_each_netns(struct cg_sockscan *s, int (*fn)(void *arg),
			   void *arg);
/* Destroys one socket seen by cg_sockscan_dump() (SOCK_DESTROY): its
 * owner gets ECONNABORTED.  -ENOENT if it is already gone. */
int cg_sockscan_destroy(struct cg_sockscan *s, const struct cg_sock *sk);

/* Formats "addr:port" ([v6]:port; "*" for the unspecified address). */
void cg_sock_addr_str(const struct cg_sock *sk, int peer, char *buf,
		      size_t len);
/* "tcp"/"udp" and the TCP state name as ss prints them ("ESTAB"...). */
const char *cg_sock_proto_str(const struct cg_sock *sk);
const char *cg_sock_state_str(const struct cg_sock *sk);

#endif
