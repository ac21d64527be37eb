/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Unix-socket plumbing shared by the daemon's unprivileged socket
 * (daemon/usock.c) and its two clients, lib/ctlclient.c (the CLI's) and
 * libcgguard (the public library's).  Records no error detail: each
 * caller has its own error state and words its own messages.
 */
#ifndef CGGUARD_UNIXCONN_H
#define CGGUARD_UNIXCONN_H

#include <sys/types.h>

/*
 * Connects a @type socket (SOCK_SEQPACKET, SOCK_STREAM) to @path with send
 * and receive timeouts of @timeout_s seconds, so a stalled peer never hangs
 * the caller.  Returns the fd, or -errno with *step "path" (-ENAMETOOLONG:
 * @path does not fit in sun_path), "socket" or "connect".  cmd/ctl.c's
 * ctl_connect() (SOCK_STREAM, the root control socket) is a third copy
 * that could use it.
 */
int cg_unix_connect(const char *path, int type, int timeout_s,
		    const char **step);

/*
 * Sends the @len bytes at @buf on @sock in one sendmsg() with @flags,
 * carrying @pass_fd (SCM_RIGHTS) unless it is negative.  0, or -errno
 * (-EMSGSIZE if only part went).
 */
int cg_send_fd(int sock, const void *buf, size_t len, int pass_fd, int flags);

struct msghdr;
/*
 * The first fd of the SCM_RIGHTS messages of a received @mh, or -1; any
 * others are closed unread (and *extra, unless NULL, is set to 1).
 */
int cg_take_fd(struct msghdr *mh, int *extra);

#endif
