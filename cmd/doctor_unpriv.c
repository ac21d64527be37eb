// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * `cgguard doctor`, unprivileged section: what this host lets a process
 * without privilege use.  The two probes run in a child that has dropped
 * to uid/gid 65534 with no capabilities, because what root may do says
 * nothing about what such a process may:
 *   - may it attach a classic filter to a TCP socket (recent kernels may
 *     require CAP_NET_ADMIN there; UDP never does)?
 *   - does the daemon's unprivileged socket answer it?
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include "cgguard.h"
#include "../daemon/daemon.h"
#include "../libcgguard/cgguard.h"
#include "../sandbox/sandbox.h"

#define PROBE_UID	65534

struct unpriv {
	long long sysctl;		/* -1: unreadable */
	char socket[PATH_MAX];
	int probed;			/* the child ran */
	int tcp_err;			/* classic on TCP: 0 or -errno */
	int sock_err;			/* hello: 0, -EACCES (reachable,
					 * refused), or a transport -errno */
	char sock_msg[256];
};

static void socket_path(char *buf, size_t len)
{
	struct cgd_config c;
	char err[CG_ERR_MAX];
	int missing;

	if (getenv(CGGUARD_SOCKET_ENV) && *getenv(CGGUARD_SOCKET_ENV)) {
		snprintf(buf, len, "%s", getenv(CGGUARD_SOCKET_ENV));
		return;
	}
	snprintf(buf, len, "%s", CGD_USOCKET);
	if (!cgd_config_load(CGD_CONFIG, &c, &missing, err, sizeof(err))) {
		if (c.up.socket[0])
			snprintf(buf, len, "%s", c.up.socket);
		cgd_config_free(&c);
	}
}

/* In the child: drop to PROBE_UID, probe, write the results to @fd. */
static void child(int fd, const char *sock)
{
	int res[2];
	char msg[256] = "";

	if (setgroups(0, NULL) || setresgid(PROBE_UID, PROBE_UID, PROBE_UID) ||
	    setresuid(PROBE_UID, PROBE_UID, PROBE_UID))
		_exit(1);	/* never probe with privilege */
	setenv(CGGUARD_SOCKET_ENV, sock, 1);
	res[0] = cgguard_classic_tcp_probe();
	res[1] = cgguard_request("{\"cmd\":\"hello\"}", NULL, 0, NULL);
	snprintf(msg, sizeof(msg), "%s", cgguard_strerror(res[1]));
	if (write(fd, res, sizeof(res)) != sizeof(res) ||
	    write(fd, msg, sizeof(msg)) != sizeof(msg))
		_exit(1);
	_exit(0);
}

static void gather(struct unpriv *u)
{
	FILE *f = fopen("/proc/sys/kernel/unprivileged_bpf_disabled", "r");
	int p[2], st, res[2];
	pid_t pid;

	u->sysctl = -1;
	if (f) {
		if (fscanf(f, "%lld", &u->sysctl) != 1)
			u->sysctl = -1;
		fclose(f);
	}
	socket_path(u->socket, sizeof(u->socket));
	if (geteuid() || pipe(p))
		return;		/* only root can become uid 65534 */
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		child(p[1], u->socket);
	}
	close(p[1]);
	if (pid > 0 && read(p[0], res, sizeof(res)) == sizeof(res) &&
	    read(p[0], u->sock_msg, sizeof(u->sock_msg)) == sizeof(u->sock_msg)) {
		u->probed = 1;
		u->tcp_err = res[0];
		u->sock_err = res[1];
		u->sock_msg[sizeof(u->sock_msg) - 1] = 0;
	}
	close(p[0]);
	if (pid > 0)
		waitpid(pid, &st, 0);
}

static const char *sysctl_meaning(long long v)
{
	if (v == 0)
		return "unprivileged processes may load their own eBPF socket "
		       "filters; the daemon's add central policy and counters";
	if (v == 1 || v == 2)
		return "unprivileged processes cannot load any eBPF: the "
		       "filters the daemon hands out by fd (cgguard_sock_filter) "
		       "are the only eBPF they can have; classic BPF still works";
	return "unknown value";
}

static const char *tcp_meaning(const struct unpriv *u)
{
	if (!u->probed)
		return "not probed (needs root to test as uid 65534)";
	if (!u->tcp_err)
		return "yes: classic filters attach to TCP sockets without "
		       "privilege";
	if (u->tcp_err == -EPERM)
		return "no: this kernel requires CAP_NET_ADMIN for classic "
		       "filters on TCP sockets (UDP works; use the daemon's "
		       "filters for TCP)";
	return strerror(-u->tcp_err);
}

static const char *sock_meaning(const struct unpriv *u, char *buf, size_t len)
{
	if (!u->probed)
		snprintf(buf, len, "not probed (needs root)");
	else if (!u->sock_err)
		snprintf(buf, len, "reachable; uid %d is in unprivileged:",
			 PROBE_UID);
	else if (u->sock_err == -EACCES)
		snprintf(buf, len, "reachable (uid %d is not in unprivileged:, "
			 "so it was refused, as it should be)", PROBE_UID);
	else
		snprintf(buf, len, "NOT reachable by uid %d: %s", PROBE_UID,
			 u->sock_msg);
	return buf;
}

static int sock_ok(const struct unpriv *u)
{
	return u->probed && (!u->sock_err || u->sock_err == -EACCES);
}

/* What `cgguard sandbox` can enforce here without privilege. */
static const char *sandbox_meaning(const struct sb_kernel *k, char *buf,
				   size_t len)
{
	if (k->landlock_abi >= SB_LL_NET_ABI)
		snprintf(buf, len, "Landlock ABI %d: TCP connect/bind port "
			 "rules; seccomp: %s", k->landlock_abi,
			 k->seccomp ? "yes" : "NO");
	else if (k->landlock_abi)
		snprintf(buf, len, "Landlock ABI %d: no network rules (need %d);"
			 " seccomp: %s", k->landlock_abi, SB_LL_NET_ABI,
			 k->seccomp ? "yes" : "NO");
	else
		snprintf(buf, len, "Landlock unavailable (%s); seccomp: %s",
			 strerror(-k->landlock_err), k->seccomp ? "yes" : "NO");
	return buf;
}

void doctor_unpriv(struct json *j)
{
	struct unpriv u = {};
	struct sb_kernel k;
	char buf[600], sb[200];

	gather(&u);
	sb_probe(&k);
	sandbox_meaning(&k, sb, sizeof(sb));
	if (!j) {
		printf("unprivileged workloads\n");
		printf("  %-4s  %-33s = %lld: %s\n", u.sysctl == 0 ? "WARN" : "OK",
		       "unprivileged_bpf_disabled", u.sysctl,
		       sysctl_meaning(u.sysctl));
		printf("  %-4s  %-33s %s\n", u.probed && !u.tcp_err ? "OK" : "WARN",
		       "classic filters on TCP", tcp_meaning(&u));
		printf("  %-4s  %-33s %s: %s\n", sock_ok(&u) ? "OK" : "WARN",
		       "unprivileged socket", u.socket,
		       sock_meaning(&u, buf, sizeof(buf)));
		printf("  %-4s  %-33s %s\n", k.landlock_abi >= SB_LL_NET_ABI &&
		       k.seccomp ? "OK" : "WARN", "cgguard sandbox", sb);
		return;
	}
	jw_key(j, "unprivileged");
	jw_obj_start(j);
	jw_key(j, "unprivileged_bpf_disabled");
	if (u.sysctl < 0)
		jw_null(j);
	else
		jw_u64(j, u.sysctl);
	jw_kstr(j, "meaning", sysctl_meaning(u.sysctl));
	jw_kbool(j, "probed_as_uid_65534", u.probed);
	jw_kbool(j, "classic_tcp", u.probed && !u.tcp_err);
	jw_kstr(j, "classic_tcp_detail", tcp_meaning(&u));
	jw_kstr(j, "socket", u.socket);
	jw_kbool(j, "socket_reachable", sock_ok(&u));
	jw_kstr(j, "socket_detail", sock_meaning(&u, buf, sizeof(buf)));
	jw_ku64(j, "landlock_abi", k.landlock_abi);
	jw_kbool(j, "seccomp", k.seccomp);
	jw_kstr(j, "sandbox_detail", sb);
	jw_obj_end(j);
}
