/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The sockets of a guarded cgroup tree with the verdict the datapath
 * cached for each (socket-local storage), and --kill-denied: destroy the
 * sockets whose connection a policy denies.  Built on cgroup/sockdiag.h.
 * Functions return 0 or -errno, with detail in cg_lasterr().
 */
#ifndef CGGUARD_SOCKETS_H
#define CGGUARD_SOCKETS_H

#include "loader.h"
#include "../cgroup/sockdiag.h"

/* What a socket's connection is, for judging it (datapath semantics). */
enum cg_sock_kind {
	CG_SK_CONNECTED,	/* opened by the cgroup: egress rules, peer */
	CG_SK_ACCEPTED,		/* accepted from a listener: ingress rules */
	CG_SK_LISTENER,		/* no connection: never judged or killed */
	CG_SK_UNCONNECTED,	/* UDP without a peer: judged per datagram */
};

struct cg_sockinfo {
	struct cg_sock sk;	/* sk.stg is not valid here */
	enum cg_sock_kind kind;
	int judged;		/* the datapath cached a verdict */
	int stale;		/* ...from an older policy generation */
	__u32 gen;		/* its generation */
	int action;		/* CG_ACT_ALLOW_V / CG_ACT_DENY_V */
	int dir;		/* CG_DIR_*_V the verdict was taken in */
	__u16 rule;		/* counter index of the deciding rule */
	int audit;		/* policy in audit mode: a deny passes */
	int role;		/* CG_SKR_* from the storage */
	unsigned peers;		/* unconnected UDP: peers of a current exchange */
	int stg_unknown;	/* its storage could not be read (UDP: the
				 * iterator failed, cg_sockscope.udp_err) */
};

/* The guarded cgroup a scan covers and what it enforces. */
struct cg_sockscope {
	struct cg_cgroup_meta meta;	/* of the guarded cgroup (or ancestor) */
	struct cg_slot_meta slot;
	__u64 cgid;			/* the cgroup asked for */
	__u64 guarded_id;		/* the guarded cgroup enforcing on it */
	__u32 gen;			/* current policy generation */
	size_t ncgroups, nnetns;
	char udp_err[256];		/* why UDP verdicts are unknown, or "" */
};

/*
 * The sockets of the cgroup @cgpath and every cgroup below it, with their
 * cached verdicts, sorted (namespace, protocol, family, ports); *v is
 * malloc()ed.  The cgroup must be guarded, or lie below a guarded one
 * (-ENOENT with a message otherwise).
 */
int cg_guard_sockets(struct cg_guard *g, const char *cgpath,
		     struct cg_sockscope *scope, struct cg_sockinfo **v,
		     size_t *n);

struct cg_kill_result {
	unsigned scanned;	/* sockets of the tree */
	unsigned judged;	/* connections the policy was asked about */
	unsigned denied;	/* ...that it denies */
	unsigned destroyed;	/* SOCK_DESTROY succeeded */
	unsigned gone;		/* closed before we got to them */
	unsigned failed;	/* SOCK_DESTROY failed (first error returned) */
};

/*
 * Destroys every connected or accepted socket of the tree at @cgpath
 * whose connection @p denies, judged as the datapath judges it (its
 * opening direction; IPv4-mapped peers as IPv4).  A policy in audit mode
 * destroys nothing.  Call it after the policy is attached: connections
 * opened meanwhile were judged by the new policy at connect().
 */
int cg_guard_kill_denied(struct cg_guard *g, const char *cgpath,
			 const struct cg_policy *p, struct cg_kill_result *res);

/* "allow" or "deny". */
const char *cg_sock_action_str(int action);

#endif
