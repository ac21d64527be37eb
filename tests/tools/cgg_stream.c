// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Long-lived streams for the --kill-denied tests: what an application
 * sees when its connection is destroyed or cut, with timestamps
 * (CLOCK_REALTIME ns) a test can compare with when `attach` ran.
 *
 *   sink ADDR PORT tcp|udp     accept/receive until SIGTERM; one line per
 *                              TCP connection when it ends:
 *                              "conn peer=A:P bytes=N result=eof|error
 *                               errno=E t_ns=T"; at SIGTERM one line per
 *                              open connection ("result=open") and
 *                              "total bytes=N"
 *   send ADDR PORT tcp|udp MS [SRC]
 *                              connect (from SRC if given) and send 1 KiB
 *                              a millisecond for MS ms; "progress t_ns=T
 *                              sent=N" every 50 ms; then "result=ok sent=N"
 *                              or, at the first failed send or recv,
 *                              "result=error errno=E t_ns=T sent=N",
 *                              and keeps the socket open until MS is up
 *                              (so a test can see whether it was
 *                              destroyed or merely failed); a send
 *                              blocked for 1 s fails with ETIMEDOUT
 *   idle ADDR PORT tcp|udp MS  connect, send 1 KiB, then hold the socket
 *                              idle for MS ms ("ready" once sent)
 *
 * Addresses are the tests' own namespaces' (IPv4 or IPv6).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include "sockaddr.h"

#define MAXC 64

static volatile sig_atomic_t stop;

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static int sock_at(const char *a, int port, int type,
		   struct sockaddr_storage *ss, socklen_t *len)
{
	int fam = tool_sockaddr(a, port, ss, len), fd, one = 1;

	if (fam < 0) {
		fprintf(stderr, "bad address %s\n", a);
		exit(2);
	}
	fd = socket(fam, type, 0);
	if (fd < 0) {
		perror("socket");
		exit(1);
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	return fd;
}

static void peer_str(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char ip[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (!getpeername(fd, (void *)&ss, &sl)) {
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *s = (void *)&ss;

			inet_ntop(AF_INET, &s->sin_addr, ip, sizeof(ip));
			port = ntohs(s->sin_port);
		} else {
			struct sockaddr_in6 *s = (void *)&ss;

			inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof(ip));
			port = ntohs(s->sin6_port);
		}
	}
	snprintf(buf, len, "%s:%d", ip, port);
}

struct conn {
	int fd;
	unsigned long long bytes;
	char peer[64];
};

static void conn_end(struct conn *c, int err)
{
	printf("conn peer=%s bytes=%llu result=%s errno=%s t_ns=%llu\n",
	       c->peer, c->bytes, err ? "error" : (stop ? "open" : "eof"),
	       err ? strerrorname_np(err) : "0", now_ns());
	fflush(stdout);
	close(c->fd);
	c->fd = -1;
}

static int sink(const char *a, int port, int tcp)
{
	struct sockaddr_storage ss;
	struct pollfd pf[MAXC + 1];
	struct conn c[MAXC];
	unsigned long long total = 0;
	static char buf[65536];
	socklen_t sl;
	int lfd, i, n;

	lfd = sock_at(a, port, tcp ? SOCK_STREAM : SOCK_DGRAM, &ss, &sl);
	if (bind(lfd, (void *)&ss, sl) || (tcp && listen(lfd, 16))) {
		perror("bind/listen");
		return 1;
	}
	for (i = 0; i < MAXC; i++)
		c[i].fd = -1;
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		pf[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		for (i = 0; i < MAXC; i++)
			pf[i + 1] = (struct pollfd){ .fd = c[i].fd,
						     .events = POLLIN };
		if (poll(pf, MAXC + 1, 100) <= 0)
			continue;
		if (pf[0].revents && !tcp) {
			n = recv(lfd, buf, sizeof(buf), 0);
			total += n > 0 ? n : 0;
		} else if (pf[0].revents) {
			for (i = 0; i < MAXC && c[i].fd >= 0; i++)
				;
			n = accept(lfd, NULL, NULL);
			if (n >= 0 && i < MAXC) {
				c[i].fd = n;
				c[i].bytes = 0;
				peer_str(n, c[i].peer, sizeof(c[i].peer));
			} else if (n >= 0) {
				close(n);
			}
		}
		for (i = 0; i < MAXC; i++) {
			if (c[i].fd < 0 || !pf[i + 1].revents)
				continue;
			n = recv(c[i].fd, buf, sizeof(buf), 0);
			if (n > 0) {
				c[i].bytes += n;
				total += n;
			} else {
				conn_end(&c[i], n < 0 ? errno : 0);
			}
		}
	}
	for (i = 0; i < MAXC; i++)
		if (c[i].fd >= 0)
			conn_end(&c[i], 0);
	printf("total bytes=%llu\n", total);
	return 0;
}

static unsigned long long end_ns;

static int fail_at(int err, unsigned long long sent)
{
	unsigned long long t = now_ns();
	struct timespec ts;

	printf("result=error errno=%s t_ns=%llu sent=%llu\n",
	       strerrorname_np(err), t, sent);
	fflush(stdout);
	if (end_ns > t) {
		ts.tv_sec = (end_ns - t) / 1000000000ULL;
		ts.tv_nsec = (end_ns - t) % 1000000000ULL;
		nanosleep(&ts, NULL);
	}
	return 1;
}

static int local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getsockname(fd, (void *)&ss, &sl))
		return 0;
	return ntohs(ss.ss_family == AF_INET ?
		     ((struct sockaddr_in *)&ss)->sin_port :
		     ((struct sockaddr_in6 *)&ss)->sin6_port);
}

static int sender(const char *a, int port, int tcp, int ms, const char *src)
{
	struct sockaddr_storage ss, sb;
	unsigned long long sent = 0, next = 0, t;
	struct timespec gap = { 0, 1000000 };
	static char buf[1024];
	socklen_t sl, bl;
	int fd, n;

	end_ns = now_ns() + ms * 1000000ULL;
	fd = sock_at(a, port, tcp ? SOCK_STREAM : SOCK_DGRAM, &ss, &sl);
	if (src && (tool_sockaddr(src, 0, &sb, &bl) < 0 ||
		    bind(fd, (void *)&sb, bl)))
		return fail_at(errno, 0);
	if (connect(fd, (void *)&ss, sl))
		return fail_at(errno, 0);
	/* A peer that vanished behind a policy must not block us forever. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &(struct timeval){ 1, 0 },
		   sizeof(struct timeval));
	printf("local port=%d\n", local_port(fd));
	while ((t = now_ns()) < end_ns) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };

		/* A destroyed socket reports its error to recv too. */
		if (poll(&pf, 1, 0) > 0) {
			n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (n < 0 && errno != EAGAIN)
				return fail_at(errno, sent);
			if (n == 0 && tcp)
				return fail_at(EPIPE, sent);
		}
		n = send(fd, buf, sizeof(buf), MSG_NOSIGNAL);
		if (n < 0)
			return fail_at(errno == EAGAIN ? ETIMEDOUT : errno, sent);
		sent += n;
		if (t >= next) {
			printf("progress t_ns=%llu sent=%llu\n", t, sent);
			fflush(stdout);
			next = t + 50000000ULL;
		}
		nanosleep(&gap, NULL);
	}
	printf("result=ok sent=%llu port=%d\n", sent, local_port(fd));
	return 0;
}

static int idle(const char *a, int port, int tcp, int ms)
{
	struct sockaddr_storage ss;
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	static char buf[1024];
	socklen_t sl;
	int fd;

	fd = sock_at(a, port, tcp ? SOCK_STREAM : SOCK_DGRAM, &ss, &sl);
	if (connect(fd, (void *)&ss, sl) ||
	    send(fd, buf, sizeof(buf), MSG_NOSIGNAL) < 0)
		return fail_at(errno, 0);
	printf("ready port=%d\n", local_port(fd));
	fflush(stdout);
	nanosleep(&ts, NULL);
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 5 && !strcmp(argv[1], "sink"))
		return sink(argv[2], atoi(argv[3]), !strcmp(argv[4], "tcp"));
	if ((argc == 6 || argc == 7) && !strcmp(argv[1], "send"))
		return sender(argv[2], atoi(argv[3]), !strcmp(argv[4], "tcp"),
			      atoi(argv[5]), argc == 7 ? argv[6] : NULL);
	if (argc == 6 && !strcmp(argv[1], "idle"))
		return idle(argv[2], atoi(argv[3]), !strcmp(argv[4], "tcp"),
			    atoi(argv[5]));
	fprintf(stderr, "usage: cgg_stream sink ADDR PORT tcp|udp | "
		"send ADDR PORT tcp|udp MS [SRC] | idle ADDR PORT tcp|udp MS\n");
	return 2;
}
