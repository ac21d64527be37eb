// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * libcgguard: asks the daemon for a socket filter and locks it on a
 * socket (cgguard.h).  The protocol is the daemon's unprivileged socket
 * (docs/daemon.md): SOCK_SEQPACKET, one JSON request, one JSON reply with
 * the program fd attached (SCM_RIGHTS).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include "cgguard.h"
#include "internal.h"
#include "../lib/unixconn.h"
#include "../lib/compat.h"

#define REPLY_MAX	65536
#define TIMEOUT_S	5	/* a stalled daemon never hangs the caller */

static __thread char last_msg[512];
static __thread int last_err;

int cgg_fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_msg, sizeof(last_msg), fmt, ap);
	va_end(ap);
	last_err = err;
	return err;
}

const char *cgguard_strerror(int err)
{
	static __thread char buf[128];

	if (err && err == last_err && last_msg[0])
		return last_msg;
	switch (-err) {
	case 0: return "success";
	case ENOENT: case ECONNREFUSED:
		return "the cgguard daemon is not running or has no "
		       "unprivileged socket (" CGGUARD_SOCKET_DEFAULT
		       ", or $" CGGUARD_SOCKET_ENV ")";
	case EACCES:
		return "the cgguard daemon refused: this user or this policy "
		       "is not in its unprivileged: config";
	case EPERM:
		return "not permitted: the socket's filter is locked, or "
		       "this needs CAP_NET_ADMIN";
	}
	snprintf(buf, sizeof(buf), "%s", strerror(err < 0 ? -err : err));
	return buf;
}

static const char *socket_path(void)
{
	const char *p = secure_getenv(CGGUARD_SOCKET_ENV);

	return p && *p ? p : CGGUARD_SOCKET_DEFAULT;
}

static int connect_daemon(void)
{
	const char *path = socket_path(), *step;
	int fd = cg_unix_connect(path, SOCK_SEQPACKET, TIMEOUT_S, &step);

	if (fd >= 0)
		return fd;
	if (!strcmp(step, "path"))
		return cgg_fail(fd, "socket path %s is too long", path);
	if (!strcmp(step, "socket"))
		return cgg_fail(fd, "socket: %s", strerror(-fd));
	return cgg_fail(fd, "cannot reach the cgguard daemon at %s: %s%s",
			path, strerror(-fd), fd == -ENOENT ||
			fd == -ECONNREFUSED ? " (is it running, with "
			"unprivileged_socket on?)" : "");
}

/* The daemon's verdict in a reply: 0, or -errno with its message. */
static int reply_status(const char *r)
{
	const char *e = strstr(r, "\"error\":\"");
	const char *n = strstr(r, "\"errno\":");
	int err = n ? -atoi(n + 8) : -EPROTO;
	size_t len;

	if (!strncmp(r, "{\"ok\":true", 10))
		return 0;
	if (err >= 0)
		err = -EPROTO;
	if (!e)
		return cgg_fail(err, "the cgguard daemon refused: %s",
				strerror(-err));
	e += 9;
	for (len = 0; e[len] && !(e[len] == '"' && e[len - 1] != '\\'); len++)
		;
	return cgg_fail(err, "the cgguard daemon refused: %.*s", (int)len, e);
}

int cgguard_request(const char *req, char *reply, unsigned long len, int *fd)
{
	char ctl[CMSG_SPACE(4 * sizeof(int))], *buf = malloc(REPLY_MAX + 1);
	struct iovec iov = { buf, REPLY_MAX };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	int s, got = -1, err;
	ssize_t n;

	if (fd)
		*fd = -1;
	if (!buf)
		return cgg_fail(-ENOMEM, "out of memory");
	s = connect_daemon();
	if (s < 0) {
		free(buf);
		return s;
	}
	if (send(s, req, strlen(req), MSG_NOSIGNAL) < 0)
		err = cgg_fail(-errno, "sending to the cgguard daemon: %s",
			       strerror(errno));
	else if ((n = recvmsg(s, &mh, MSG_CMSG_CLOEXEC)) <= 0)
		err = cgg_fail(n ? -errno : -ECONNRESET, "no reply from the "
			       "cgguard daemon: %s", n ? strerror(errno) :
			       "connection closed");
	else {
		buf[n] = 0;
		got = cg_take_fd(&mh, NULL);
		err = reply_status(buf);
		if (reply && len)
			snprintf(reply, len, "%s", buf);
	}
	close(s);
	free(buf);
	if (got >= 0 && fd && !err)
		*fd = got;
	else if (got >= 0)
		close(got);
	return err;
}

/* Policy names as the daemon accepts them; keeps the request well-formed. */
static int name_ok(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
		      (s[n] >= '0' && s[n] <= '9') || strchr("._-", s[n])))
			return 0;
	return n && n < 64;
}

int cgguard_filter_fd(const char *policy)
{
	char req[128];
	int fd, err;

	if (!policy || !name_ok(policy))
		return cgg_fail(-EINVAL, "'%s' is not a policy name",
				policy ? policy : "(null)");
	snprintf(req, sizeof(req), "{\"cmd\":\"filter\",\"policy\":\"%s\"}",
		 policy);
	err = cgguard_request(req, NULL, 0, &fd);
	if (err)
		return err;
	if (fd < 0)
		return cgg_fail(-EPROTO, "the cgguard daemon sent no program");
	return fd;
}

/* SO_LOCK_FILTER after a successful attach: the filter stays for the
 * socket's lifetime. */
int cgg_lock(int sockfd)
{
	int one = 1;

	if (setsockopt(sockfd, SOL_SOCKET, SO_LOCK_FILTER, &one, sizeof(one)))
		return cgg_fail(-errno, "SO_LOCK_FILTER: %s", strerror(errno));
	return 0;
}

static int attach_bpf(int sockfd, const char *policy)
{
	int prog = cgguard_filter_fd(policy), err = 0;

	if (prog < 0)
		return prog;
	if (setsockopt(sockfd, SOL_SOCKET, SO_ATTACH_BPF, &prog, sizeof(prog)))
		err = cgg_fail(-errno, "SO_ATTACH_BPF: %s%s", strerror(errno),
			       errno == EPERM ? " (the socket's filter is "
			       "locked already)" : errno == ENOTSOCK ?
			       " (not a socket)" : "");
	close(prog);
	return err ? err : cgg_lock(sockfd);
}

int cgguard_sock_filter_flags(int sockfd, const char *policy, unsigned flags)
{
	int err;

	if (!policy)
		return cgg_fail(-EINVAL, "no policy given");
	if (flags & ~(CGGUARD_CLASSIC | CGGUARD_CLASSIC_FALLBACK))
		return cgg_fail(-EINVAL, "unknown flags 0x%x", flags);
	if (flags & CGGUARD_CLASSIC)
		return cgg_classic_attach(sockfd, policy);
	err = attach_bpf(sockfd, policy);
	if ((flags & CGGUARD_CLASSIC_FALLBACK) &&
	    (err == -ENOENT || err == -ECONNREFUSED))
		return cgg_classic_attach(sockfd, policy);
	return err;
}

int cgguard_sock_filter(int sockfd, const char *policy)
{
	return cgguard_sock_filter_flags(sockfd, policy, CGGUARD_DAEMON);
}
