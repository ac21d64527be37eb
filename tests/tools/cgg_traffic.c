// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Traffic tool for cgguard's integration tests, benchmarks and demo.
 * Every mode prints one line of key=value results so shell tests can
 * assert exact numbers (what really arrived), not what cgguard printed.
 *
 *   udp-recv ADDR PORT IDLE_MS      count datagrams until IDLE_MS of silence
 *   udp-send ADDR PORT N [SIZE] [GAP_US]
 *                                   send N datagrams; report ok/errors
 *   udp-seq  ADDR PORT N GAP_US     send N numbered datagrams (for swaps)
 *   udp-seqrecv ADDR PORT IDLE_MS   print how many numbered datagrams came
 *   tcp-recv ADDR PORT IDLE_MS      accept, count connections and bytes
 *   tcp-send ADDR PORT BYTES TIMEOUT_MS
 *                                   connect+send; report result and errno
 *   udp-sendmsg ADDR PORT N         N datagrams with sendmsg()
 *   udp-sendmmsg ADDR PORT N        N datagrams in one sendmmsg() call
 *   udp-connected ADDR PORT N       connect() then send() N datagrams
 *   udp-wait ADDR PORT N FILE       connect now, send N once FILE exists
 *   udp-reconnect ADDR PORT N ADDR2 connect(), send N, connect() to ADDR2
 *                                   (same port), then send N more
 *   tcp-fastopen ADDR PORT TIMEOUT_MS  sendto(MSG_FASTOPEN) 100 bytes
 *   bind ADDR PORT tcp|udp          bind() a socket; report result
 *   sock FAMILY TYPE PROTO          socket(); FAMILY inet|inet6|packet|unix,
 *                                   TYPE raw|dgram|stream; report result
 *
 * ADDR may be IPv4 or IPv6 (IPv4-mapped allowed).  The tool never picks
 * addresses itself: tests give it loopback or their own namespaces' ones.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "sockaddr.h"
#include <sys/uio.h>
#include <linux/if_packet.h>

#define sock_for tool_socket

static int bound(const char *a, int port, int type)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = sock_for(a, port, type, &ss, &len);

	if (bind(fd, (void *)&ss, len)) {
		perror("bind");
		exit(1);
	}
	return fd;
}

static int wait_readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) > 0;
}

static int udp_recv(const char *a, int port, int idle, int seq)
{
	int fd = bound(a, port, SOCK_DGRAM);
	unsigned long n = 0, bytes = 0, maxseq = 0;
	char buf[65536];

	printf("ready\n");
	fflush(stdout);
	while (wait_readable(fd, idle)) {
		ssize_t r = recv(fd, buf, sizeof(buf), 0);

		if (r < 0)
			continue;
		n++;
		bytes += r;
		if (seq && r >= 8) {
			unsigned long s;

			memcpy(&s, buf, sizeof(s));
			maxseq = s > maxseq ? s : maxseq;
		}
	}
	if (seq)
		printf("received=%lu bytes=%lu maxseq=%lu\n", n, bytes, maxseq);
	else
		printf("received=%lu bytes=%lu\n", n, bytes);
	return 0;
}

static int udp_send(const char *a, int port, long n, int size, int gap_us,
		    int seq)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = sock_for(a, port, SOCK_DGRAM, &ss, &len);
	char buf[65536] = { 0 };
	long ok = 0, fail = 0, i;
	int last = 0;

	if (size < 8)
		size = 8;
	for (i = 0; i < n; i++) {
		unsigned long s = i + 1;

		memcpy(buf, &s, sizeof(s));
		if (sendto(fd, buf, size, 0, (void *)&ss, len) == size) {
			ok++;
		} else {
			fail++;
			last = errno;
		}
		if (gap_us)
			usleep(gap_us);
	}
	printf("sent=%ld failed=%ld errno=%s\n", ok, fail,
	       last ? strerrorname_np(last) : "0");
	(void)seq;
	return 0;
}

static int tcp_recv(const char *a, int port, int idle)
{
	int fd = bound(a, port, SOCK_STREAM);
	unsigned long conns = 0, bytes = 0;
	char buf[65536];

	listen(fd, 128);
	printf("ready\n");
	fflush(stdout);
	while (wait_readable(fd, idle)) {
		int c = accept(fd, NULL, NULL);
		ssize_t r;

		if (c < 0)
			continue;
		conns++;
		while (wait_readable(c, idle) && (r = read(c, buf, sizeof(buf))) > 0)
			bytes += r;
		close(c);
	}
	printf("connections=%lu bytes=%lu\n", conns, bytes);
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int tcp_send(const char *a, int port, long bytes, int timeout)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = sock_for(a, port, SOCK_STREAM, &ss, &len);
	struct timeval tv = { timeout / 1000, (timeout % 1000) * 1000 };
	char buf[65536] = { 0 };
	double t0 = now_ms();
	long sent = 0;

	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (void *)&ss, len)) {
		printf("result=connect_failed errno=%s ms=%.3f\n",
		       strerrorname_np(errno), now_ms() - t0);
		return 1;
	}
	while (sent < bytes) {
		ssize_t w = write(fd, buf, bytes - sent > (long)sizeof(buf) ?
				  (long)sizeof(buf) : bytes - sent);
		if (w <= 0) {
			printf("result=send_failed errno=%s sent=%ld\n",
			       strerrorname_np(errno), sent);
			return 1;
		}
		sent += w;
	}
	shutdown(fd, SHUT_WR);
	close(fd);
	printf("result=ok sent=%ld ms=%.3f\n", sent, now_ms() - t0);
	return 0;
}

static int result(int ok, const char *what)
{
	if (ok) {
		printf("result=ok\n");
		return 0;
	}
	printf("result=%s_failed errno=%s\n", what, strerrorname_np(errno));
	return 1;
}

static int udp_msgs(const char *a, int port, int n, int mode)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = sock_for(a, port, SOCK_DGRAM, &ss, &len), i, ok = 0, last = 0;
	char buf[64] = "cgguard";
	struct iovec iov = { buf, sizeof(buf) };
	struct mmsghdr mm[64];

	if (n > 64)
		n = 64;
	for (i = 0; i < n; i++)
		mm[i].msg_hdr = (struct msghdr){ .msg_name = &ss,
			.msg_namelen = len, .msg_iov = &iov, .msg_iovlen = 1 };
	if (mode == 2) {	/* connected */
		if (connect(fd, (void *)&ss, len))
			return result(0, "connect");
		for (i = 0; i < n; i++)
			send(fd, buf, sizeof(buf), 0) == sizeof(buf) ? ok++ : (last = errno);
	} else if (mode == 1) {
		ok = sendmmsg(fd, mm, n, 0);
		if (ok < 0) {
			last = errno;
			ok = 0;
		}
	} else {
		for (i = 0; i < n; i++)
			sendmsg(fd, &mm[i].msg_hdr, 0) == sizeof(buf) ? ok++ : (last = errno);
	}
	printf("sent=%d failed=%d errno=%s\n", ok, n - ok,
	       last ? strerrorname_np(last) : "0");
	return 0;
}

static int udp_wait(const char *a, int port, int n, const char *file)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = sock_for(a, port, SOCK_DGRAM, &ss, &len), i, ok = 0;

	if (connect(fd, (void *)&ss, len))
		return result(0, "connect");
	printf("connected\n");
	fflush(stdout);
	while (access(file, F_OK))
		usleep(10000);
	for (i = 0; i < n; i++)
		if (send(fd, "cgguard!", 8, 0) == 8)
			ok++;
	printf("sent=%d failed=%d\n", ok, n - ok);
	return 0;
}

/* A connected UDP socket whose second connect() may fail: it must stay
 * connected to its first peer, and its datagrams keep going there. */
static int udp_reconnect(const char *a, int port, int n, const char *a2)
{
	struct sockaddr_storage ss, ss2;
	socklen_t len, len2;
	int fd = sock_for(a, port, SOCK_DGRAM, &ss, &len), i, ok = 0, re;

	if (tool_sockaddr(a2, port, &ss2, &len2) < 0)
		return result(0, "address");
	if (connect(fd, (void *)&ss, len))
		return result(0, "connect");
	for (i = 0; i < n; i++)
		ok += send(fd, "cgguard!", 8, 0) == 8;
	re = connect(fd, (void *)&ss2, len2) ? errno : 0;
	for (i = 0; i < n; i++)
		ok += send(fd, "cgguard!", 8, 0) == 8;
	printf("sent=%d failed=%d reconnect_errno=%s\n", ok, 2 * n - ok,
	       re ? strerrorname_np(re) : "0");
	return 0;
}

static int tcp_fastopen(const char *a, int port, int timeout)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = sock_for(a, port, SOCK_STREAM, &ss, &len);
	struct timeval tv = { timeout / 1000, (timeout % 1000) * 1000 };
	char buf[100] = { 0 };
	double t0 = now_ms();

	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (sendto(fd, buf, sizeof(buf), MSG_FASTOPEN, (void *)&ss, len) < 0) {
		printf("result=sendto_failed errno=%s ms=%.3f\n",
		       strerrorname_np(errno), now_ms() - t0);
		return 1;
	}
	printf("result=ok ms=%.3f\n", now_ms() - t0);
	return 0;
}

static int do_bind(const char *a, int port, const char *proto)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = sock_for(a, port, strcmp(proto, "tcp") ? SOCK_DGRAM :
			  SOCK_STREAM, &ss, &len);

	return result(!bind(fd, (void *)&ss, len), "bind");
}

static int do_sock(const char *fam, const char *type, int proto)
{
	int f = !strcmp(fam, "inet") ? AF_INET : !strcmp(fam, "inet6") ?
		AF_INET6 : !strcmp(fam, "packet") ? AF_PACKET : AF_UNIX;
	int t = !strcmp(type, "raw") ? SOCK_RAW : !strcmp(type, "dgram") ?
		SOCK_DGRAM : SOCK_STREAM;

	return result(socket(f, t, proto) >= 0, "socket");
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: see the comment at the top of %s\n",
			__FILE__);
		return 2;
	}
	const char *m = argv[1], *a = argv[2];
	int port = atoi(argv[3]);

	if (!strcmp(m, "udp-recv"))
		return udp_recv(a, port, atoi(argv[4]), 0);
	if (!strcmp(m, "udp-seqrecv"))
		return udp_recv(a, port, atoi(argv[4]), 1);
	if (!strcmp(m, "udp-send"))
		return udp_send(a, port, atol(argv[4]),
				argc > 5 ? atoi(argv[5]) : 64,
				argc > 6 ? atoi(argv[6]) : 0, 0);
	if (!strcmp(m, "udp-seq"))
		return udp_send(a, port, atol(argv[4]), 64,
				argc > 5 ? atoi(argv[5]) : 0, 1);
	if (!strcmp(m, "tcp-recv"))
		return tcp_recv(a, port, atoi(argv[4]));
	if (!strcmp(m, "sock"))
		return do_sock(a, argv[3], atoi(argv[4]));
	if (!strcmp(m, "udp-sendmsg"))
		return udp_msgs(a, port, atoi(argv[4]), 0);
	if (!strcmp(m, "udp-sendmmsg"))
		return udp_msgs(a, port, atoi(argv[4]), 1);
	if (!strcmp(m, "udp-connected"))
		return udp_msgs(a, port, atoi(argv[4]), 2);
	if (!strcmp(m, "udp-wait") && argc > 5)
		return udp_wait(a, port, atoi(argv[4]), argv[5]);
	if (!strcmp(m, "udp-reconnect") && argc > 5)
		return udp_reconnect(a, port, atoi(argv[4]), argv[5]);
	if (!strcmp(m, "tcp-fastopen"))
		return tcp_fastopen(a, port, atoi(argv[4]));
	if (!strcmp(m, "bind"))
		return do_bind(a, port, argv[4]);
	if (!strcmp(m, "tcp-send") && argc > 5)
		return tcp_send(a, port, atol(argv[4]), atoi(argv[5]));
	fprintf(stderr, "unknown mode %s\n", m);
	return 2;
}
