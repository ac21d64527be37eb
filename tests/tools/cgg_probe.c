// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Probe tool for the differential tests of the BPF and nft backends
 * (tests/integration/nft_diff.sh).  Many destination/protocol/port cells
 * are tried at once with non-blocking sockets, so one invocation judges a
 * whole policy in one timeout.
 *
 *   gen SEED KIND           print a random policy (KIND: egress, ingress,
 *                           both: which directions get random rules; the
 *                           other direction allows everything)
 *   serve ADDR...           TCP and UDP echo on every ADDR x test port
 *   egress TIMEOUT_MS BASE SRC4 SRC6
 *                           one cell per server address x {tcp,udp} x
 *                           test port, from SRC4/SRC6 ports BASE, BASE+1...
 *   ingress TIMEOUT_MS BASE DST4 DST6
 *                           one cell per server address (as source) x
 *                           {tcp,udp} x test port, to DST4/DST6
 *
 * A cell is 1 when the echo of its request came back, else 0; egress and
 * ingress print "cells=0110..." in a fixed order.  TCP sockets end with
 * RST (SO_LINGER 0): no TIME_WAIT, so a later run may reuse the port.  Addresses are the
 * test's own namespaces' (see nft_diff.sh), never anything routed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "sockaddr.h"

/* The server namespace's addresses (destinations of egress cells and
 * sources of ingress cells) and the ports every server listens on. */
static const char *const srv[] = {
	"10.210.0.2", "10.210.0.3", "10.210.0.200", "10.210.7.9",
	"10.210.128.1", "10.210.200.77",
	"fd10:210::2", "fd10:210::3", "fd10:210::1:2", "fd10:210::ff:ff00:1",
	"fd10:210::8000:0:0:1",
};
#define NSRV (sizeof(srv) / sizeof(srv[0]))
static const int ports[] = { 5001, 5002, 6001, 7001 };
#define NPORTS (sizeof(ports) / sizeof(ports[0]))
#define MAXFD 4096

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- gen --------------------------------------------------------------- */

static unsigned long long rng;

static unsigned rnd(unsigned n)
{
	rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)((rng >> 33) % n);
}

static void masked(const char *a, int plen, char *out, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	unsigned char *b;
	int fam = tool_sockaddr(a, 0, &ss, &sl), i, bytes;

	b = fam == AF_INET ? (void *)&((struct sockaddr_in *)&ss)->sin_addr :
			     (void *)&((struct sockaddr_in6 *)&ss)->sin6_addr;
	bytes = fam == AF_INET ? 4 : 16;
	for (i = 0; i < bytes; i++) {
		int keep = plen - 8 * i;

		if (keep <= 0)
			b[i] = 0;
		else if (keep < 8)
			b[i] &= 0xff00 >> keep;
	}
	inet_ntop(fam, b, out, len);
}

static void gen_ports(void)
{
	int n = 1 + rnd(3), i;

	printf(", ports: [");
	for (i = 0; i < n; i++) {
		int p = ports[rnd(NPORTS)];

		if (rnd(3) == 0)	/* a range around a test port */
			printf("%s\"%d-%d\"", i ? ", " : "", p - (int)rnd(3),
			       p + (int)rnd(1500));
		else
			printf("%s%d", i ? ", " : "", p);
	}
	printf("]");
}

static void gen_rule(int ingress)
{
	static const int p4[] = { 0, 8, 16, 16, 20, 24, 24, 25, 28, 30, 31,
				  32, 32, 32 };
	static const int p6[] = { 0, 16, 32, 48, 64, 64, 96, 112, 120, 126,
				  127, 128, 128, 128 };
	static const char *const protos[] = { "any", "any", "any", "tcp",
					      "tcp", "udp", "udp", "icmp" };
	const char *a = srv[rnd(NSRV)], *proto = protos[rnd(8)];
	int v6 = strchr(a, ':') != NULL;
	int plen = v6 ? p6[rnd(14)] : p4[rnd(14)];
	char net[64];

	masked(a, plen, net, sizeof(net));
	printf("    - { action: %s, %s: \"%s/%d\", proto: %s",
	       rnd(2) ? "allow" : "deny", ingress ? "from" : "to", net, plen,
	       proto);
	if ((!strcmp(proto, "tcp") || !strcmp(proto, "udp")) && rnd(5) < 3)
		gen_ports();
	printf(" }\n");
}

static void gen_dir(const char *name, int random)
{
	int n = random ? (int)rnd(9) : 0, i;

	printf("%s:\n  default: %s\n", name,
	       random && rnd(2) ? "deny" : "allow");
	if (!n)
		return;
	printf("  rules:\n");
	for (i = 0; i < n; i++)
		gen_rule(!strcmp(name, "ingress"));
}

static int gen(unsigned long long seed, const char *kind)
{
	int eg = strcmp(kind, "ingress") != 0, in = strcmp(kind, "egress") != 0;

	rng = seed * 2654435761ULL + 1;
	printf("policy: diff-%llu\nmode: enforce\n", seed);
	gen_dir("egress", eg);
	gen_dir("ingress", in);
	return 0;
}

/* ---- serve --------------------------------------------------------------- */

static int listen_on(const char *a, int port, int type)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fam = tool_sockaddr(a, port, &ss, &sl), one = 1, fd;

	if (fam < 0)
		return -1;
	fd = socket(fam, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (void *)&ss, sl) ||
	    (type == SOCK_STREAM && listen(fd, 512))) {
		fprintf(stderr, "bind %s:%d: %m\n", a, port);
		exit(1);
	}
	return fd;
}

static int serve(int n, char **addrs)
{
	static char is_listener[MAXFD];
	struct epoll_event ev, evs[64];
	char buf[2048];
	int ep = epoll_create1(EPOLL_CLOEXEC), i, k, fd, type;

	for (i = 0; i < n; i++)
		for (k = 0; k < (int)NPORTS; k++)
			for (type = 1; type <= 2; type++) {
				fd = listen_on(addrs[i], ports[k], type);
				if (fd < 0 || fd >= MAXFD)
					return 1;
				is_listener[fd] = type == SOCK_STREAM ? 1 : 2;
				ev = (struct epoll_event){ EPOLLIN, { .fd = fd } };
				epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
			}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		int m = epoll_wait(ep, evs, 64, -1);

		for (i = 0; i < m; i++) {
			struct sockaddr_storage peer;
			socklen_t pl = sizeof(peer);
			ssize_t r;

			fd = evs[i].data.fd;
			if (is_listener[fd] == 1) {
				int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK |
						SOCK_CLOEXEC);

				if (c < 0 || c >= MAXFD) {
					if (c >= 0)
						close(c);
					continue;
				}
				ev = (struct epoll_event){ EPOLLIN, { .fd = c } };
				epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
			} else if (is_listener[fd] == 2) {
				r = recvfrom(fd, buf, sizeof(buf), 0,
					     (void *)&peer, &pl);
				if (r > 0)
					sendto(fd, buf, r, 0, (void *)&peer, pl);
			} else {
				r = read(fd, buf, sizeof(buf));
				if (r > 0)
					(void)!write(fd, buf, r);
				else if (r == 0 || errno != EAGAIN)
					close(fd);
			}
		}
	}
}

/* ---- probes -------------------------------------------------------------- */

struct cell {
	int fd, tcp, state;	/* 0 connecting, 1 sent, 2 done */
	char ok;
};

static int start_cell(struct cell *c, const char *src, const char *dst,
		      int dport, int sport, int tcp, int connected)
{
	struct sockaddr_storage s, d;
	socklen_t sl = 0, dl = 0;
	int fam = tool_sockaddr(dst, dport, &d, &dl), one = 1;
	struct linger lg = { 1, 0 };

	c->ok = '0';
	c->tcp = tcp;
	c->fd = socket(fam, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK |
		       SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	setsockopt(c->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (tcp)
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	if (tool_sockaddr(src ? src : (fam == AF_INET ? "0.0.0.0" : "::"),
			  sport, &s, &sl) != fam ||
	    bind(c->fd, (void *)&s, sl)) {
		fprintf(stderr, "bind %s port %d: %m\n", src ? src : "any",
			sport);
		return -1;
	}
	c->state = 2;	/* denied at once (EPERM) unless we get further */
	if (tcp || connected) {
		if (connect(c->fd, (void *)&d, dl) && errno != EINPROGRESS)
			return 0;
		c->state = tcp ? 0 : 1;
		if (!tcp && send(c->fd, "p", 1, 0) != 1)
			c->state = 2;
		return 0;
	}
	if (sendto(c->fd, "p", 1, 0, (void *)&d, dl) == 1)
		c->state = 1;
	return 0;
}

/* Drives every cell until all are done or the timeout passes. */
static void run_cells(struct cell *c, int n, int timeout)
{
	struct pollfd *p = calloc(n, sizeof(*p));
	double end = now_ms() + timeout;
	char b[16];
	int i, left;

	for (;;) {
		for (i = left = 0; i < n; i++) {
			p[i].fd = c[i].state == 2 ? -1 : c[i].fd;
			p[i].events = c[i].state == 0 ? POLLOUT : POLLIN;
			p[i].revents = 0;
			left += c[i].state != 2;
		}
		if (!left || now_ms() >= end)
			break;
		if (poll(p, n, (int)(end - now_ms()) + 1) <= 0)
			continue;
		for (i = 0; i < n; i++) {
			int e = 0;
			socklen_t el = sizeof(e);

			if (!p[i].revents)
				continue;
			if (c[i].state == 0) {
				getsockopt(c[i].fd, SOL_SOCKET, SO_ERROR, &e, &el);
				c[i].state = e || send(c[i].fd, "p", 1, 0) != 1
					     ? 2 : 1;
			} else if (recv(c[i].fd, b, sizeof(b), 0) > 0) {
				c[i].ok = '1';
				c[i].state = 2;
			} else if (errno != EAGAIN) {
				c[i].state = 2;
			}
		}
	}
	free(p);
}

/* Egress: @a4/@a6 are the sources; ingress: the destinations. */
static int probe(int ingress, int timeout, int base, const char *a4,
		 const char *a6)
{
	int n = NSRV * 2 * NPORTS, i = 0, s, t, k;
	struct cell *c = calloc(n, sizeof(*c));
	char *out = calloc(n + 1, 1);

	for (s = 0; s < (int)NSRV; s++)
		for (t = 0; t < 2; t++)
			for (k = 0; k < (int)NPORTS; k++, i++) {
				const char *dst = srv[s], *src = srv[s];
				const char *mine = strchr(srv[s], ':') ? a6 : a4;

				if (ingress)
					dst = mine;
				else
					src = mine;
				/* UDP: connected and unconnected alternate */
				if (start_cell(&c[i], src, dst, ports[k],
					       base + i, t == 0, i % 2))
					return 1;
			}
	run_cells(c, n, timeout);
	for (i = 0; i < n; i++) {
		out[i] = c[i].ok;
		close(c[i].fd);
	}
	printf("cells=%s\n", out);
	return 0;
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";

	if (!strcmp(m, "gen") && argc == 4)
		return gen(strtoull(argv[2], NULL, 10), argv[3]);
	if (!strcmp(m, "serve") && argc >= 3)
		return serve(argc - 2, argv + 2);
	if (!strcmp(m, "egress") && argc == 6)
		return probe(0, atoi(argv[2]), atoi(argv[3]), argv[4], argv[5]);
	if (!strcmp(m, "ingress") && argc == 6)
		return probe(1, atoi(argv[2]), atoi(argv[3]), argv[4], argv[5]);
	fprintf(stderr, "usage: %s gen SEED KIND | serve ADDR... | egress "
		"TIMEOUT_MS BASE SRC4 SRC6 | ingress TIMEOUT_MS BASE DST4 DST6\n", argv[0]);
	return 2;
}
