/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * A small bounded HTTP/1.x responder for /metrics (see http.c for why it
 * is not libmicrohttpd).  One request per connection, answered with
 * "Connection: close"; GET and HEAD only.
 */
#ifndef CGGUARD_DAEMON_HTTP_H
#define CGGUARD_DAEMON_HTTP_H

#include <stddef.h>
#include <sys/socket.h>

#define CGD_HTTP_MAX_CONN	64	/* open connections; the oldest goes */
#define CGD_HTTP_REQ_MAX	8192	/* request line and headers */
#define CGD_HTTP_DEADLINE_MS	5000	/* a whole exchange */

struct cgd_http_resp {
	int code;		/* 200, 404, 500 */
	const char *type;	/* Content-Type */
	char *body;		/* malloc'd; taken over */
	size_t len;
};
/* Fills @r for GET/HEAD @path; returns 0 or -errno (then a 500). */
typedef int (*cgd_http_fn)(void *ctx, const char *path,
			   struct cgd_http_resp *r);

struct cgd_http;
int cgd_http_start(struct cgd_http **out, const struct sockaddr *sa,
		   socklen_t salen, cgd_http_fn fn, void *ctx);
void cgd_http_stop(struct cgd_http *h);
/* An epoll fd: readable when cgd_http_run() has work. */
int cgd_http_fd(const struct cgd_http *h);
int cgd_http_port(const struct cgd_http *h);
void cgd_http_run(struct cgd_http *h);
/* Milliseconds until the next deadline, -1 if none. */
int cgd_http_timeout_ms(const struct cgd_http *h);

#endif
