// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Connection tool for cgguard's connection-semantics tests: request/reply
 * exchanges, inbound connects, unsolicited datagrams, and streams that
 * report when their last byte moved.  Like cgg_traffic, every mode prints
 * one key=value line of what really happened (servers print "ready" first).
 * Times are CLOCK_MONOTONIC milliseconds (`now` prints the clock), one
 * clock for every process and network namespace on the host.  Servers
 * stop after IDLE_MS of silence; with CGG_CONN_FIRST_MS set they wait that
 * long for their first client instead (a test that starts many clients
 * one after the other on a busy machine).
 *
 *   echo-tcp ADDR PORT IDLE_MS      accept; echo each request; count
 *   echo-udp ADDR PORT IDLE_MS      unconnected: echo each datagram to its
 *                                   sender with sendto(); count
 *   rr-tcp ADDR PORT N TIMEOUT_MS   N connections, one request/reply each
 *   rr-udp-conn ADDR PORT N TIMEOUT_MS  connected UDP: N request/replies
 *   rr-udp ADDR PORT N TIMEOUT_MS   unconnected UDP (sendto/recvfrom, DNS
 *                                   style): N request/replies
 *   connects ADDR PORT N WAIT_MS    N non-blocking connects at once; count
 *                                   those established within WAIT_MS
 *   udp-from ADDR PORT N SRCPORT    N datagrams sent from source port SRCPORT
 *   push-tcp ADDR PORT IDLE_MS      accept one connection and write to it
 *                                   every ms until it breaks or IDLE_MS pass
 *   stream-send ADDR PORT MS        connect, write 1 KiB every ms for MS
 *   stream-recv ADDR PORT IDLE_MS   accept one connection (or, with ADDR
 *                                   prefixed "@", connect to it) and read
 *                                   until IDLE_MS of silence: bytes, and
 *                                   the time the last byte arrived
 *   now                             print the clock
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "sockaddr.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

#define sock tool_socket

static int server(const char *a, int port, int type)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = sock(a, port, type, &ss, &len);

	if (bind(fd, (void *)&ss, len) || (type == SOCK_STREAM &&
					   listen(fd, 128))) {
		printf("result=bind_failed errno=%s\n", strerrorname_np(errno));
		exit(1);
	}
	printf("ready\n");
	fflush(stdout);
	return fd;
}

static int readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) > 0;
}

static int first_wait(int idle)
{
	const char *e = getenv("CGG_CONN_FIRST_MS");

	return e ? atoi(e) : idle;
}

/* A server's wait: for the first client, then the idle time. */
static int next_wait(long *seen, int idle)
{
	return (*seen)++ ? idle : first_wait(idle);
}

static int echo_tcp(const char *a, int port, int idle)
{
	int fd = server(a, port, SOCK_STREAM);
	long conns = 0, replies = 0, seen = 0;
	char buf[512];

	while (readable(fd, next_wait(&seen, idle))) {
		int c = accept(fd, NULL, NULL);
		ssize_t r;

		if (c < 0)
			continue;
		conns++;
		while (readable(c, idle) && (r = read(c, buf, sizeof(buf))) > 0)
			replies += write(c, buf, r) == r;
		close(c);
	}
	printf("connections=%ld replies=%ld\n", conns, replies);
	return 0;
}

static int echo_udp(const char *a, int port, int idle)
{
	int fd = server(a, port, SOCK_DGRAM);
	struct sockaddr_storage from;
	long n = 0, replies = 0, seen = 0;
	char buf[512];

	while (readable(fd, next_wait(&seen, idle))) {
		socklen_t fl = sizeof(from);
		ssize_t r = recvfrom(fd, buf, sizeof(buf), 0, (void *)&from, &fl);

		if (r < 0)
			continue;
		n++;
		replies += sendto(fd, buf, r, 0, (void *)&from, fl) == r;
	}
	printf("requests=%ld replies=%ld\n", n, replies);
	return 0;
}

/* One request and its reply on @fd (connected): 0, or an errno. */
static int exchange(int fd, long i, int timeout)
{
	char req[32], rep[32];
	int n = snprintf(req, sizeof(req), "req %ld", i);

	if (send(fd, req, n, 0) != n)
		return errno;
	if (!readable(fd, timeout))
		return ETIMEDOUT;
	if (recv(fd, rep, sizeof(rep), 0) != n || memcmp(req, rep, n))
		return errno ? errno : EPROTO;
	return 0;
}

static void report(long ok, long n, int last)
{
	printf("ok=%ld failed=%ld errno=%s\n", ok, n - ok,
	       last ? strerrorname_np(last) : "0");
}

static int rr(const char *a, int port, long n, int timeout, int type,
	      int connect_each)
{
	struct sockaddr_storage ss;
	socklen_t len;
	long ok = 0, i;
	int last = 0, fd = -1, err;

	for (i = 0; i < n; i++) {
		if (fd < 0) {
			fd = sock(a, port, type, &ss, &len);
			if (connect(fd, (void *)&ss, len)) {
				last = errno;
				close(fd);
				fd = -1;
				continue;
			}
		}
		err = exchange(fd, i, timeout);
		ok += !err;
		last = err ? err : last;
		if (connect_each) {
			close(fd);
			fd = -1;
		}
	}
	report(ok, n, last);
	return 0;
}

/* DNS style: one unconnected socket, sendto() and recvfrom(). */
static int rr_udp(const char *a, int port, long n, int timeout)
{
	struct sockaddr_storage ss, from;
	socklen_t len, fl;
	int fd = sock(a, port, SOCK_DGRAM, &ss, &len), last = 0, k;
	char req[32], rep[32];
	long ok = 0, i;

	for (i = 0; i < n; i++) {
		k = snprintf(req, sizeof(req), "query %ld", i);
		if (sendto(fd, req, k, 0, (void *)&ss, len) != k) {
			last = errno;
			continue;
		}
		if (!readable(fd, timeout)) {
			last = ETIMEDOUT;
			continue;
		}
		fl = sizeof(from);
		if (recvfrom(fd, rep, sizeof(rep), 0, (void *)&from, &fl) == k &&
		    !memcmp(req, rep, k))
			ok++;
	}
	report(ok, n, last);
	return 0;
}

static int connects(const char *a, int port, int n, int wait)
{
	struct sockaddr_storage ss;
	struct pollfd p[256];
	socklen_t len;
	int i, ok = 0, left;
	double end = now_ms() + wait;

	n = n > 256 ? 256 : n;
	for (i = 0; i < n; i++) {
		p[i].fd = sock(a, port, SOCK_STREAM, &ss, &len);
		p[i].events = POLLOUT;
		fcntl(p[i].fd, F_SETFL, O_NONBLOCK);
		connect(p[i].fd, (void *)&ss, len);
	}
	for (left = n; left && now_ms() < end;) {
		if (poll(p, n, (int)(end - now_ms()) + 1) <= 0)
			break;
		for (i = 0; i < n; i++) {
			int e = 0;
			socklen_t el = sizeof(e);

			if (p[i].fd < 0 || !p[i].revents)
				continue;
			getsockopt(p[i].fd, SOL_SOCKET, SO_ERROR, &e, &el);
			ok += !e;
			p[i].fd = -p[i].fd - 1;	/* done: poll skips it */
			left--;
		}
	}
	printf("established=%d failed=%d\n", ok, n - ok);
	return 0;
}

static int udp_from(const char *a, int port, int n, int sport)
{
	struct sockaddr_storage ss, src;
	socklen_t len, sl = 0;
	int fd = sock(a, port, SOCK_DGRAM, &ss, &len), i, ok = 0;

	tool_sockaddr(ss.ss_family == AF_INET ? "0.0.0.0" : "::", sport, &src,
		      &sl);
	if (bind(fd, (void *)&src, sl)) {
		printf("result=bind_failed errno=%s\n", strerrorname_np(errno));
		return 1;
	}
	for (i = 0; i < n; i++)
		ok += sendto(fd, "unsolicited", 11, 0, (void *)&ss, len) == 11;
	printf("sent=%d\n", ok);
	return 0;
}

static void stream_result(const char *what, long bytes, double last, int err)
{
	printf("result=%s bytes=%ld last_ms=%.1f errno=%s\n", what, bytes, last,
	       err ? strerrorname_np(err) : "0");
}

/* Writes 1 KiB every ms for @ms (or until a write fails). */
static int write_loop(int fd, double ms)
{
	char buf[1024] = { 0 };
	double end = now_ms() + ms, last = 0;
	long bytes = 0;
	int err = 0;

	fcntl(fd, F_SETFL, O_NONBLOCK);
	while (now_ms() < end) {
		ssize_t w = write(fd, buf, sizeof(buf));

		if (w > 0) {
			bytes += w;
			last = now_ms();
		} else if (errno != EAGAIN) {
			err = errno;
			break;
		}
		usleep(1000);
	}
	stream_result(err ? "error" : "ok", bytes, last, err);
	return 0;
}

static int stream_send(const char *a, int port, int ms)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = sock(a, port, SOCK_STREAM, &ss, &len);

	if (connect(fd, (void *)&ss, len)) {
		stream_result("connect_failed", 0, 0, errno);
		return 1;
	}
	printf("connected\n");
	fflush(stdout);
	return write_loop(fd, ms);
}

static int push_tcp(const char *a, int port, int idle)
{
	int fd = server(a, port, SOCK_STREAM), c;

	if (!readable(fd, first_wait(idle)) ||
	    (c = accept(fd, NULL, NULL)) < 0) {
		stream_result("no_connection", 0, 0, 0);
		return 1;
	}
	return write_loop(c, idle);
}

static int stream_recv(const char *a, int port, int idle)
{
	struct sockaddr_storage ss;
	socklen_t len;
	double last = 0;
	long bytes = 0;
	char buf[65536];
	ssize_t r;
	int fd, c;

	if (a[0] == '@') {
		c = sock(a + 1, port, SOCK_STREAM, &ss, &len);
		if (connect(c, (void *)&ss, len)) {
			stream_result("connect_failed", 0, 0, errno);
			return 1;
		}
		printf("connected\n");
		fflush(stdout);
	} else {
		fd = server(a, port, SOCK_STREAM);
		if (!readable(fd, first_wait(idle)) ||
	    (c = accept(fd, NULL, NULL)) < 0) {
			stream_result("no_connection", 0, 0, 0);
			return 1;
		}
	}
	while (readable(c, idle) && (r = read(c, buf, sizeof(buf))) > 0) {
		bytes += r;
		last = now_ms();
	}
	stream_result("done", bytes, last, 0);
	return 0;
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "", *a = argc > 2 ? argv[2] : "";
	int port = argc > 3 ? atoi(argv[3]) : 0;
	long x = argc > 4 ? atol(argv[4]) : 0;
	int y = argc > 5 ? atoi(argv[5]) : 0;

	if (!strcmp(m, "now")) {
		printf("%.1f\n", now_ms());
		return 0;
	}
	if (argc < 5) {
		fprintf(stderr, "usage: see the comment at the top of %s\n",
			__FILE__);
		return 2;
	}
	if (!strcmp(m, "echo-tcp"))
		return echo_tcp(a, port, x);
	if (!strcmp(m, "echo-udp"))
		return echo_udp(a, port, x);
	if (!strcmp(m, "push-tcp"))
		return push_tcp(a, port, x);
	if (!strcmp(m, "stream-send"))
		return stream_send(a, port, x);
	if (!strcmp(m, "stream-recv"))
		return stream_recv(a, port, x);
	if (argc < 6)
		return 2;
	if (!strcmp(m, "rr-tcp"))
		return rr(a, port, x, y, SOCK_STREAM, 1);
	if (!strcmp(m, "rr-udp-conn"))
		return rr(a, port, x, y, SOCK_DGRAM, 0);
	if (!strcmp(m, "rr-udp"))
		return rr_udp(a, port, x, y);
	if (!strcmp(m, "connects"))
		return connects(a, port, x, y);
	if (!strcmp(m, "udp-from"))
		return udp_from(a, port, x, y);
	fprintf(stderr, "unknown mode %s\n", m);
	return 2;
}
