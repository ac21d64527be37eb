/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Client side of the daemon's socket for unprivileged callers
 * (SOCK_SEQPACKET: one JSON object per message each way, see
 * docs/daemon.md), used by `cgguard ctl attach|detach` and `cgguard
 * sandbox`.  Returns 0 or -errno with detail in cg_lasterr().
 */
#ifndef CGGUARD_CTLCLIENT_H
#define CGGUARD_CTLCLIENT_H

#include <stddef.h>

/* The daemon's default (daemon/unpriv.h takes it from here; libcgguard's
 * public cgguard.h has its own copy, CGGUARD_SOCKET_DEFAULT). */
#define CGD_USOCKET	"/run/cgguard/cgguard-user.sock"
#define CG_UREPLY_MAX	(64u << 10)

/* Connects with send/receive timeouts; returns the fd. */
int cg_ureq_connect(const char *path, int timeout_s);
/* Sends @req with @passfd (-1: none) attached by SCM_RIGHTS and reads
 * one reply message into a malloc'd, NUL-terminated *reply. */
int cg_ureq_call(int fd, const char *req, int passfd, char **reply);

#endif
