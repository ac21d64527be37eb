/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * cgguard sandbox: what an unprivileged process can enforce on itself.
 *
 *   plan.c   policy -> plan: which TCP ports Landlock allows for connect
 *            and bind, which socket() calls seccomp refuses, and a list of
 *            every part of the policy with how (or whether) it is enforced
 *   apply.c  probes the kernel (Landlock ABI, seccomp) and applies a plan
 *            to the calling process (no privilege needed)
 *
 * Landlock (ABI 4+) knows TCP ports only: for connect() and bind() it is an
 * allow-list of ports, the same for every address.  A policy whose verdict
 * for a port depends on the address cannot be expressed; the plan says so
 * instead of claiming it.  Functions return 0 or -errno; library code
 * never prints.
 */
#ifndef CGGUARD_SANDBOX_H
#define CGGUARD_SANDBOX_H

#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include "../policy/policy.h"
#include "../cgroup/cgroup.h"

#define SB_PORTS		65536
#define SB_ITEMS_MAX		32
#define SB_TEXT_MAX		320

/* Landlock network access rights (uapi, ABI 4); defined here because
 * older libc headers lack them. */
#define SB_LL_BIND_TCP		(1ULL << 0)
#define SB_LL_CONNECT_TCP	(1ULL << 1)
#define SB_LL_NET_ABI		4

/* Per-port class of the egress TCP verdict over all addresses. */
enum sb_port_class {
	SB_PORT_ALLOW = 0,	/* allowed to every address */
	SB_PORT_DENY = 1,	/* denied to every address */
	SB_PORT_MIXED = 2,	/* depends on the address */
};

/* How one part of a policy is enforced by the sandbox itself. */
enum sb_status {
	SB_ENFORCED,		/* exactly as the policy says */
	SB_TIGHTER,		/* enforced, but denies more than the policy */
	SB_LOOSER,		/* enforced only in part: some of it passes */
	SB_NOT_ENFORCED,	/* not enforced by Landlock or seccomp */
};

/* Items the kernel fit may rewrite. */
enum sb_kind { SB_K_OTHER, SB_K_FASTOPEN };

struct sb_item {
	enum sb_status status;
	enum sb_kind kind;
	char by[24];		/* "landlock", "seccomp", "" */
	char what[SB_TEXT_MAX];
};

/* Plan flags. */
#define SB_DENY_MIXED		(1u << 0)	/* mixed ports: deny, not allow */

struct sb_plan {
	char policy[CG_POLICY_NAME_MAX];
	int audit;			/* mode: audit: nothing is restricted */
	/* Landlock: ports allowed when the access right is handled. */
	int ll_connect, ll_bind;	/* handle CONNECT_TCP / BIND_TCP */
	uint8_t connect_ok[SB_PORTS / 8];
	uint8_t bind_ok[SB_PORTS / 8];
	unsigned n_connect_ok, n_bind_ok;	/* ports allowed */
	unsigned n_mixed;		/* ports whose verdict needs addresses */
	/* seccomp */
	int sc_raw;			/* refuse SOCK_RAW on inet/inet6 */
	uint64_t sc_families;		/* refuse socket(AF) for these */
	int sc_fastopen;		/* refuse MSG_FASTOPEN sends (Landlock
					 * does not see TCP Fast Open) */
	size_t nitems;
	struct sb_item items[SB_ITEMS_MAX];
};

/* Builds the plan of @p.  @flags: SB_*.  *plan is large: heap it. */
int sb_plan_build(const struct cg_policy *p, unsigned flags,
		  struct sb_plan *plan);

static inline int sb_port_ok(const uint8_t *bm, unsigned port)
{
	return bm[port >> 3] & (1u << (port & 7));
}

/* Formats the ports set in @bm ("443, 8000-8100") into @buf; "none" if
 * empty.  Truncates with "..." after @buf fills. */
void sb_ports_format(const uint8_t *bm, char *buf, size_t len);

/* ---- apply.c ------------------------------------------------------------ */

struct sb_kernel {
	int landlock_abi;	/* 0 if Landlock is unavailable */
	int landlock_err;	/* -errno of the probe when abi is 0 */
	int seccomp;		/* 1 if seccomp filters can be installed */
};

void sb_probe(struct sb_kernel *k);
/*
 * Turns the items of @plan into what this kernel really does: with no
 * Landlock (or ABI < 4) every Landlock item becomes not enforced, same for
 * seccomp.  Call before printing and before sb_apply().
 */
void sb_plan_fit(struct sb_plan *plan, const struct sb_kernel *k);
/*
 * Restricts the calling process: no_new_privs, then the Landlock ruleset,
 * then the seccomp filter, as fitted to @k.  All or nothing from the
 * caller's view: on error the caller must not run the workload.
 */
int sb_apply(const struct sb_plan *plan, const struct sb_kernel *k);

const char *sb_status_str(enum sb_status s);

/* ---- delegate.c: the delegated cgroup ----------------------------------- */

struct sb_deleg {
	int active;		/* the daemon attached the policy to cg */
	int degraded;		/* ...without its LSM part */
	struct cg_cgroup cg;
	char socket[PATH_MAX];
	char why[CG_ERR_MAX];	/* why there is none */
};

/*
 * Creates PARENT/cgguard-sandbox-PID (PARENT: the caller's own cgroup when
 * NULL) and has the daemon at @sock attach @policy (a name) or the policy
 * file open at @pfd (>= 0: passed by SCM_RIGHTS, so the daemon reads only
 * what the caller could).  Never fails: d->active says whether it worked,
 * d->why why not (and nothing is left behind).
 */
void sb_deleg_setup(struct sb_deleg *d, const char *sock, const char *parent,
		    const char *policy, int pfd);
/* Kills what is left in the cgroup, asks the daemon to detach, removes it. */
int sb_deleg_teardown(struct sb_deleg *d);
/* The two requests, also used by `cgguard ctl attach|detach`. */
int sb_ureq_attach(const char *sock, const char *cgroup, const char *policy,
		   int pfd, int fail_open, int *degraded);
int sb_ureq_detach(const char *sock, const char *cgroup);

#endif
