/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * libcgguard: network policy for your own sockets, without privilege.
 *
 *     #include <cgguard.h>        // pkg-config --cflags --libs cgguard
 *
 *     int fd = socket(AF_INET, SOCK_DGRAM, 0);
 *     int err = cgguard_sock_filter(fd, "web");
 *     if (err)
 *             fprintf(stderr, "cgguard: %s\n", cgguard_strerror(err));
 *
 * cgguard_sock_filter() asks the cgguard daemon (its unprivileged socket,
 * $CGGUARD_SOCKET or CGGUARD_SOCKET_DEFAULT) for a socket filter that
 * judges what the socket receives by the policy's ingress rules (source
 * address, protocol, local port), attaches it (SO_ATTACH_BPF) and locks it
 * (SO_LOCK_FILTER): from then on nobody, the caller included, can remove
 * or replace it.  The daemon counts what each filter passes and drops
 * (`cgguard stats`).  The daemon's config decides which users may have
 * which policies.
 *
 * Without a daemon, CGGUARD_CLASSIC compiles the policy here into a
 * classic BPF filter (SO_ATTACH_FILTER, no privilege needed on UDP
 * sockets; recent kernels may require CAP_NET_ADMIN on TCP sockets:
 * cgguard_classic_tcp_probe() tells).  It has no counters, so it is
 * only used when asked for.
 *
 * Every function returns 0 (or an fd) on success and a negative errno on
 * failure; cgguard_strerror() explains it.  Thread-safe; never exits.
 */
#ifndef LIBCGGUARD_H
#define LIBCGGUARD_H

#ifdef __cplusplus
extern "C" {
#endif

#define CGGUARD_API __attribute__((visibility("default")))

#define CGGUARD_SOCKET_DEFAULT	"/run/cgguard/cgguard-user.sock"
#define CGGUARD_SOCKET_ENV	"CGGUARD_SOCKET"

/* Flags of cgguard_sock_filter_flags(). */
#define CGGUARD_DAEMON		0u	  /* ask the daemon (the default) */
#define CGGUARD_CLASSIC		(1u << 0) /* classic BPF compiled here only */
#define CGGUARD_CLASSIC_FALLBACK (1u << 1) /* classic BPF if no daemon
					    * answers (ENOENT, ECONNREFUSED) */

/* Attaches and locks the daemon's filter for @policy on @sockfd. */
CGGUARD_API int cgguard_sock_filter(int sockfd, const char *policy);

/*
 * Same with a choice of path.  With CGGUARD_CLASSIC, @policy is a
 * built-in name, a policy file path or NAME in /etc/cgguard/policies
 * (as for `cgguard attach --policy`), read with the caller's rights.
 */
CGGUARD_API int cgguard_sock_filter_flags(int sockfd, const char *policy,
					  unsigned flags);

/* The daemon's filter program for @policy, not attached: an fd to use
 * with SO_ATTACH_BPF, or -errno. */
CGGUARD_API int cgguard_filter_fd(const char *policy);

/* 0 if this process may attach classic filters to TCP sockets on this
 * kernel, else -errno (-EPERM: CAP_NET_ADMIN needed). */
CGGUARD_API int cgguard_classic_tcp_probe(void);

/*
 * One raw request to the daemon's unprivileged socket (docs/daemon.md):
 * @req is a JSON object; the reply (NUL-terminated, cut to @len) goes to
 * @reply; an fd that came with it to *@fd (else -1; @fd may be NULL,
 * then it is closed).  Returns 0 when the daemon answered "ok":true,
 * its -errno when it refused, or a transport -errno.
 */
CGGUARD_API int cgguard_request(const char *req, char *reply,
				unsigned long len, int *fd);

/* What went wrong: the detail of this thread's last failure when @err is
 * its error, else a description of @err.  Never NULL. */
CGGUARD_API const char *cgguard_strerror(int err);

#ifdef __cplusplus
}
#endif
#endif
