// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The /metrics HTTP responder.
 *
 * Why not libmicrohttpd: any local user can connect to the metrics port.
 * With MHD_OPTION_CONNECTION_LIMIT reached, libmicrohttpd stops accepting
 * until a connection ends (16 idle connections blocked every scrape, and
 * the listen queue then held ~290 connections for 24-45 s); raising the
 * limit only moves the number, and its per-IP limit cannot tell two local
 * users apart (both are 127.0.0.1).  What must hold is that a scrape is
 * answered whatever other connections are open, so this responder never
 * stops accepting: at CGD_HTTP_MAX_CONN open connections the oldest is
 * closed to make room.  A scraper sends its request at once and is answered
 * in the same loop turn; an idle or slow connection can only wait to be
 * evicted or to reach its deadline.  Memory and fds are bounded by
 * CGD_HTTP_MAX_CONN, and the protocol needed (one GET, one response,
 * Connection: close) is small enough to audit.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include "http.h"

#define TAG_LISTEN	UINT64_MAX

struct hconn {
	int fd;
	uint64_t seq;		/* accept order (epoll tag): oldest goes first */
	uint64_t deadline;	/* CLOCK_MONOTONIC ms */
	int closing;		/* answered: draining until the peer closes */
	size_t in;
	char *out;
	size_t outlen, outoff;
	char req[CGD_HTTP_REQ_MAX];
};

struct cgd_http {
	int lfd, epfd, port;
	uint64_t seq;
	cgd_http_fn fn;
	void *ctx;
	struct hconn *c[CGD_HTTP_MAX_CONN];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static void drop(struct cgd_http *h, int i)
{
	close(h->c[i]->fd);	/* also leaves the epoll set */
	free(h->c[i]->out);
	free(h->c[i]);
	h->c[i] = NULL;
}

/* A free slot; when all are taken, the oldest connection makes room. */
static int slot_for(struct cgd_http *h)
{
	int i, old = 0;

	for (i = 0; i < CGD_HTTP_MAX_CONN; i++) {
		if (!h->c[i])
			return i;
		if (h->c[i]->seq < h->c[old]->seq)
			old = i;
	}
	drop(h, old);
	return old;
}

static void accept_all(struct cgd_http *h)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct hconn *c;
	int n, fd, i;

	/* Bounded per turn; the listen fd stays readable (level-triggered). */
	for (n = 0; n < 4 * CGD_HTTP_MAX_CONN; n++) {
		fd = accept4(h->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		i = slot_for(h);
		c = malloc(sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		memset(c, 0, offsetof(struct hconn, req));
		c->fd = fd;
		c->seq = ++h->seq;
		c->deadline = now_ms() + CGD_HTTP_DEADLINE_MS;
		ev.data.u64 = c->seq;
		h->c[i] = c;
		if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, fd, &ev))
			drop(h, i);
	}
}

static const char *reason(int code)
{
	switch (code) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 431: return "Request Header Fields Too Large";
	default: return "Internal Server Error";
	}
}

/* Queues the whole response (headers, then the body unless HEAD). */
static void respond(struct hconn *c, struct cgd_http_resp *r, int head)
{
	char hdr[256];
	int n = snprintf(hdr, sizeof(hdr), "HTTP/1.1 %d %s\r\nContent-Type: %s"
			 "\r\nContent-Length: %zu\r\n%sConnection: close\r\n\r\n",
			 r->code, reason(r->code), r->type, r->len,
			 r->code == 405 ? "Allow: GET, HEAD\r\n" : "");
	size_t blen = head ? 0 : r->len;

	c->out = malloc(n + blen);
	if (c->out) {
		memcpy(c->out, hdr, n);
		if (blen)
			memcpy(c->out + n, r->body, blen);
		c->outlen = n + blen;
	}
	free(r->body);
}

static void plain(struct cgd_http_resp *r, int code, const char *text)
{
	r->code = code;
	r->type = "text/plain";
	r->body = strdup(text);
	r->len = r->body ? strlen(text) : 0;
}

/* A complete request head is in c->req: answer it. */
static void answer(struct cgd_http *h, struct hconn *c)
{
	struct cgd_http_resp r = { 0 };
	char *sp1 = strchr(c->req, ' '), *sp2, *q;
	int head = 0;

	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (!sp1 || !sp2 || strncmp(sp2 + 1, "HTTP/1.", 7)) {
		plain(&r, 400, "bad request\n");
	} else {
		*sp1 = *sp2 = 0;
		if ((q = strchr(sp1 + 1, '?')))
			*q = 0;	/* no parameters are used */
		head = !strcmp(c->req, "HEAD");
		if (strcmp(c->req, "GET") && !head)
			plain(&r, 405, "only GET\n");
		else if (strcmp(sp1 + 1, "/metrics"))
			plain(&r, 404, "not found: metrics are at /metrics\n");
		else if (h->fn(h->ctx, sp1 + 1, &r))
			plain(&r, 500, "rendering failed\n");
	}
	respond(c, &r, head);
}

static void write_some(struct cgd_http *h, int i)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = h->c[i]->seq };
	struct hconn *c = h->c[i];
	ssize_t n;

	while (c->outoff < c->outlen) {
		n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
			 MSG_NOSIGNAL);
		if (n < 0 && errno == EAGAIN) {
			ev.events = EPOLLOUT;
			epoll_ctl(h->epfd, EPOLL_CTL_MOD, c->fd, &ev);
			return;
		}
		if (n <= 0) {
			drop(h, i);
			return;
		}
		c->outoff += n;
	}
	/* All sent: half-close and wait for the peer's close, so unread
	 * request bytes cannot turn our close into a reset that loses the
	 * response. */
	shutdown(c->fd, SHUT_WR);
	c->closing = 1;
	epoll_ctl(h->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void on_event(struct cgd_http *h, int i)
{
	struct hconn *c = h->c[i];
	char sink[512];
	ssize_t n;

	if (c->out && !c->closing) {
		write_some(h, i);
		return;
	}
	if (c->closing) {
		while ((n = read(c->fd, sink, sizeof(sink))) > 0)
			;
		if (n == 0 || errno != EAGAIN)
			drop(h, i);
		return;
	}
	n = read(c->fd, c->req + c->in, sizeof(c->req) - 1 - c->in);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		drop(h, i);
		return;
	}
	c->in += n;
	c->req[c->in] = 0;
	if (strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n")) {
		answer(h, c);
	} else if (c->in == sizeof(c->req) - 1) {
		struct cgd_http_resp r = { 0 };

		plain(&r, 431, "request head too large\n");
		respond(c, &r, 0);
	} else {
		return;
	}
	if (!c->out) {
		drop(h, i);
		return;
	}
	write_some(h, i);
}

void cgd_http_run(struct cgd_http *h)
{
	struct epoll_event ev[CGD_HTTP_MAX_CONN];
	uint64_t now;
	int n, k, i;

	if (!h)
		return;
	n = epoll_wait(h->epfd, ev, CGD_HTTP_MAX_CONN, 0);
	for (k = 0; k < n; k++) {
		if (ev[k].data.u64 == TAG_LISTEN) {
			accept_all(h);
			continue;
		}
		/* By accept number: an event of a connection evicted in
		 * this turn finds nothing. */
		for (i = 0; i < CGD_HTTP_MAX_CONN; i++)
			if (h->c[i] && h->c[i]->seq == ev[k].data.u64)
				break;
		if (i < CGD_HTTP_MAX_CONN)
			on_event(h, i);
	}
	now = now_ms();
	for (i = 0; i < CGD_HTTP_MAX_CONN; i++)
		if (h->c[i] && h->c[i]->deadline <= now)
			drop(h, i);
}

int cgd_http_timeout_ms(const struct cgd_http *h)
{
	uint64_t now = now_ms(), min = UINT64_MAX;
	int i;

	for (i = 0; h && i < CGD_HTTP_MAX_CONN; i++)
		if (h->c[i] && h->c[i]->deadline < min)
			min = h->c[i]->deadline;
	if (min == UINT64_MAX)
		return -1;
	return min <= now ? 0 : (int)(min - now);
}

int cgd_http_start(struct cgd_http **out, const struct sockaddr *sa,
		   socklen_t salen, cgd_http_fn fn, void *ctx)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TAG_LISTEN };
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct cgd_http *h = calloc(1, sizeof(*h));
	int one = 1, err = 0;

	if (!h)
		return -ENOMEM;
	h->fn = fn;
	h->ctx = ctx;
	h->epfd = epoll_create1(EPOLL_CLOEXEC);
	h->lfd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
			SOCK_CLOEXEC, 0);
	if (h->epfd < 0 || h->lfd < 0 ||
	    setsockopt(h->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(h->lfd, sa, salen) || listen(h->lfd, 256) ||
	    getsockname(h->lfd, (struct sockaddr *)&ss, &len) ||
	    epoll_ctl(h->epfd, EPOLL_CTL_ADD, h->lfd, &ev))
		err = -errno;
	if (err) {
		cgd_http_stop(h);
		return err;
	}
	h->port = ntohs(ss.ss_family == AF_INET6 ?
			((struct sockaddr_in6 *)&ss)->sin6_port :
			((struct sockaddr_in *)&ss)->sin_port);
	*out = h;
	return 0;
}

void cgd_http_stop(struct cgd_http *h)
{
	int i;

	if (!h)
		return;
	for (i = 0; i < CGD_HTTP_MAX_CONN; i++)
		if (h->c[i])
			drop(h, i);
	if (h->lfd >= 0)
		close(h->lfd);
	if (h->epfd >= 0)
		close(h->epfd);
	free(h);
}

int cgd_http_fd(const struct cgd_http *h)
{
	return h ? h->epfd : -1;
}

int cgd_http_port(const struct cgd_http *h)
{
	return h ? h->port : 0;
}
