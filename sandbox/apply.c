// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Applies a sandbox plan to the calling process with no privilege:
 * PR_SET_NO_NEW_PRIVS, a Landlock ruleset that handles only network
 * rights (ABI 4+), and a seccomp filter (libseccomp).  Both are inherited
 * by every descendant and cannot be lifted, not even by a process that
 * later becomes root in a user namespace.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <linux/landlock.h>
#include <seccomp.h>
#include "sandbox.h"
#include "../lib/err.h"

#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#endif
#define SB_LANDLOCK_RULE_NET_PORT 2	/* enum landlock_rule_type, ABI 4 */
#ifndef MSG_FASTOPEN
#define MSG_FASTOPEN 0x20000000
#endif

/* uapi struct landlock_ruleset_attr up to ABI 4 (handled_access_net). */
struct sb_ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
};

/* uapi struct landlock_net_port_attr (ABI 4). */
struct sb_ll_net_port_attr {
	uint64_t allowed_access;
	uint64_t port;
};

void sb_probe(struct sb_kernel *k)
{
	long v;

	memset(k, 0, sizeof(*k));
	v = syscall(SYS_landlock_create_ruleset, NULL, 0,
		    LANDLOCK_CREATE_RULESET_VERSION);
	if (v > 0)
		k->landlock_abi = (int)v;
	else
		k->landlock_err = -errno;	/* ENOSYS: not built,
						 * EOPNOTSUPP: not in lsm= */
	/* -1/EINVAL: the kernel has no seccomp filter support. */
	k->seccomp = prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0;
}

static int sc_needed(const struct sb_plan *pl)
{
	return pl->sc_raw || pl->sc_families || pl->sc_fastopen;
}

static void no_landlock(struct sb_plan *pl, const struct sb_kernel *k)
{
	char why[96];
	size_t i, o;

	if (k->landlock_abi)
		snprintf(why, sizeof(why), " [NOT enforced: this kernel's "
			 "Landlock ABI is %d, network rules need %d]",
			 k->landlock_abi, SB_LL_NET_ABI);
	else
		snprintf(why, sizeof(why), " [NOT enforced: Landlock is "
			 "unavailable here: %s]", strerror(-k->landlock_err));
	pl->ll_connect = pl->ll_bind = 0;
	pl->sc_fastopen = 0;	/* only there to back Landlock up */
	for (i = o = 0; i < pl->nitems; i++) {
		struct sb_item *it = &pl->items[i];

		if (it->kind == SB_K_FASTOPEN)
			continue;
		if (!strcmp(it->by, "landlock")) {
			it->status = SB_NOT_ENFORCED;
			strncat(it->what, why, sizeof(it->what) -
				strlen(it->what) - 1);
		}
		pl->items[o++] = *it;
	}
	pl->nitems = o;
}

void sb_plan_fit(struct sb_plan *pl, const struct sb_kernel *k)
{
	size_t i;

	if ((pl->ll_connect || pl->ll_bind) && k->landlock_abi < SB_LL_NET_ABI)
		no_landlock(pl, k);
	if (!sc_needed(pl))
		return;
	if (!k->seccomp) {
		pl->sc_raw = pl->sc_fastopen = 0;
		pl->sc_families = 0;
		for (i = 0; i < pl->nitems; i++)
			if (!strcmp(pl->items[i].by, "seccomp")) {
				pl->items[i].status = SB_NOT_ENFORCED;
				strncat(pl->items[i].what, " [NOT enforced: no "
					"seccomp filters on this kernel]",
					sizeof(pl->items[i].what) -
					strlen(pl->items[i].what) - 1);
			}
		return;
	}
	if (pl->nitems < SB_ITEMS_MAX) {
		struct sb_item *it = &pl->items[pl->nitems++];

		memset(it, 0, sizeof(*it));
		it->status = SB_ENFORCED;
		snprintf(it->by, sizeof(it->by), "seccomp");
		snprintf(it->what, sizeof(it->what), "io_uring_setup refused "
			 "with ENOSYS: io_uring creates sockets and sends past "
			 "seccomp; 32-bit syscalls refused with ENOSYS likewise");
	}
}

static int apply_landlock(const struct sb_plan *pl)
{
	struct sb_ll_ruleset_attr ra = { 0 };
	struct sb_ll_net_port_attr pa;
	unsigned port;
	int fd, err = 0;

	if (pl->ll_connect)
		ra.handled_access_net |= SB_LL_CONNECT_TCP;
	if (pl->ll_bind)
		ra.handled_access_net |= SB_LL_BIND_TCP;
	fd = syscall(SYS_landlock_create_ruleset, &ra, sizeof(ra), 0);
	if (fd < 0)
		return cg_seterr(-errno, "landlock_create_ruleset: %m");
	/* One rule per allowed port: Landlock has no port ranges. */
	for (port = 0; port < SB_PORTS && !err; port++) {
		pa.allowed_access = 0;
		if (pl->ll_connect && sb_port_ok(pl->connect_ok, port))
			pa.allowed_access |= SB_LL_CONNECT_TCP;
		if (pl->ll_bind && sb_port_ok(pl->bind_ok, port))
			pa.allowed_access |= SB_LL_BIND_TCP;
		if (!pa.allowed_access)
			continue;
		pa.port = port;
		if (syscall(SYS_landlock_add_rule, fd, SB_LANDLOCK_RULE_NET_PORT,
			    &pa, 0))
			err = cg_seterr(-errno, "landlock_add_rule (port %u): "
					"%m", port);
	}
	if (!err && syscall(SYS_landlock_restrict_self, fd, 0))
		err = cg_seterr(-errno, "landlock_restrict_self: %m");
	close(fd);
	return err;
}

static int sc_add(scmp_filter_ctx c, int err, int sys, unsigned n,
		  struct scmp_arg_cmp a, struct scmp_arg_cmp b)
{
	int rc = n == 2 ? seccomp_rule_add(c, SCMP_ACT_ERRNO(err), sys, 2, a, b) :
		 n == 1 ? seccomp_rule_add(c, SCMP_ACT_ERRNO(err), sys, 1, a) :
		 seccomp_rule_add(c, SCMP_ACT_ERRNO(err), sys, 0);

	return rc ? cg_seterr(rc, "seccomp_rule_add: %s", strerror(-rc)) : 0;
}

static int sc_rules(scmp_filter_ctx c, const struct sb_plan *pl)
{
	static const int inet[] = { AF_INET, AF_INET6 };
	struct scmp_arg_cmp none = SCMP_A0(SCMP_CMP_EQ, 0);
	int af, err = 0;
	unsigned i;

	for (af = 0; af < 64 && !err; af++) {
		if (!(pl->sc_families & (1ULL << af)))
			continue;
		err = sc_add(c, EPERM, SCMP_SYS(socket), 1,
			     SCMP_A0(SCMP_CMP_EQ, af), none);
		if (!err)
			err = sc_add(c, EPERM, SCMP_SYS(socketpair), 1,
				     SCMP_A0(SCMP_CMP_EQ, af), none);
	}
	for (i = 0; i < 2 && pl->sc_raw && !err; i++)
		err = sc_add(c, EPERM, SCMP_SYS(socket), 2,
			     SCMP_A0(SCMP_CMP_EQ, inet[i]),
			     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_RAW));
	if (pl->sc_fastopen && !err)
		err = sc_add(c, EPERM, SCMP_SYS(sendto), 1, SCMP_A3(
			     SCMP_CMP_MASKED_EQ, MSG_FASTOPEN, MSG_FASTOPEN), none);
	if (pl->sc_fastopen && !err)
		err = sc_add(c, EPERM, SCMP_SYS(sendmsg), 1, SCMP_A2(
			     SCMP_CMP_MASKED_EQ, MSG_FASTOPEN, MSG_FASTOPEN), none);
	if (pl->sc_fastopen && !err)
		err = sc_add(c, EPERM, SCMP_SYS(sendmmsg), 1, SCMP_A3(
			     SCMP_CMP_MASKED_EQ, MSG_FASTOPEN, MSG_FASTOPEN), none);
	if (!err)
		err = sc_add(c, ENOSYS, SCMP_SYS(io_uring_setup), 0, none, none);
	return err;
}

static int apply_seccomp(const struct sb_plan *pl)
{
	scmp_filter_ctx c = seccomp_init(SCMP_ACT_ALLOW);
	int err;

	if (!c)
		return cg_seterr(-ENOMEM, "seccomp_init failed");
	/* Syscalls of another ABI (i386 int 0x80, x32) would not meet the
	 * rules: refuse them instead of killing the process. */
	err = seccomp_attr_set(c, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ERRNO(ENOSYS));
	if (err)
		err = cg_seterr(err, "seccomp_attr_set: %s", strerror(-err));
	if (!err)
		err = sc_rules(c, pl);
	if (!err) {
		err = seccomp_load(c);
		if (err)
			err = cg_seterr(err, "seccomp_load: %s", strerror(-err));
	}
	seccomp_release(c);
	return err;
}

int sb_apply(const struct sb_plan *pl, const struct sb_kernel *k)
{
	int err;

	/* Required for both without CAP_SYS_ADMIN; it also keeps CMD from
	 * gaining privilege through setuid binaries. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return cg_seterr(-errno, "PR_SET_NO_NEW_PRIVS: %m");
	if ((pl->ll_connect || pl->ll_bind) && k->landlock_abi >= SB_LL_NET_ABI) {
		err = apply_landlock(pl);
		if (err)
			return err;
	}
	if (sc_needed(pl) && k->seccomp)
		return apply_seccomp(pl);
	return 0;
}
