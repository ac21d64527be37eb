// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Client of the daemon's unprivileged socket: see ctlclient.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include "ctlclient.h"
#include "unixconn.h"
#include "err.h"

int cg_ureq_connect(const char *path, int timeout_s)
{
	const char *step;
	int fd = cg_unix_connect(path, SOCK_SEQPACKET, timeout_s, &step);
	int e = -fd;

	if (fd >= 0)
		return fd;
	if (!strcmp(step, "path"))
		return cg_seterr(fd, "socket path too long: %s", path);
	if (!strcmp(step, "socket"))
		return cg_seterr(fd, "socket: %s", strerror(e));
	return cg_seterr(fd, "cannot connect to %s: %s%s", path, strerror(e),
			 e == ENOENT || e == ECONNREFUSED ? " (is the daemon "
			 "running with an unprivileged socket? see --socket)" :
			 e == EACCES ? " (the socket's group or mode does not "
			 "let this user in)" : "");
}

int cg_ureq_call(int fd, const char *req, int passfd, char **reply)
{
	char *buf;
	ssize_t n;
	int err = cg_send_fd(fd, req, strlen(req), passfd, MSG_NOSIGNAL);

	if (err)
		return cg_seterr(err, "sending to the daemon: %s", strerror(-err));
	buf = malloc(CG_UREPLY_MAX + 1);
	if (!buf)
		return -ENOMEM;
	do
		n = recv(fd, buf, CG_UREPLY_MAX, MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n <= 0 || n > CG_UREPLY_MAX) {
		int e = n < 0 ? errno : n ? EMSGSIZE : ECONNRESET;

		free(buf);
		return cg_seterr(-(e == EAGAIN ? ETIMEDOUT : e), "no reply "
				 "from the daemon: %s", strerror(e == EAGAIN ?
				 ETIMEDOUT : e));
	}
	buf[n] = 0;
	*reply = buf;
	return 0;
}
