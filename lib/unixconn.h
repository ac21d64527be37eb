/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Client end of a unix path socket, shared by lib/ctlclient.c (the CLI's
 * client of the daemon's unprivileged socket) and libcgguard (the public
 * library's).  Records no error detail: each caller has its own error
 * state and words its own message from *step.
 */
#ifndef CGGUARD_UNIXCONN_H
#define CGGUARD_UNIXCONN_H

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

#endif
