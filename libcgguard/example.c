// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * cgguard-example: a UDP service that restricts its own socket with
 * libcgguard, as any user the daemon's config allows.
 *
 *     cgguard-example [--classic] POLICY PORT [COUNT]
 *
 * Binds PORT (any address), puts POLICY's ingress rules on the socket
 * (the daemon's filter, or with --classic a classic BPF filter compiled
 * here without a daemon), then prints the source of each datagram that
 * gets through, until COUNT (default 10) arrived.
 *
 *     cc example.c $(pkg-config --cflags --libs cgguard)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cgguard.h>

int main(int argc, char **argv)
{
	unsigned flags = CGGUARD_DAEMON;
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6 }, from;
	char buf[2048], addr[INET6_ADDRSTRLEN];
	socklen_t len;
	int fd, err, i, count;

	if (argc > 1 && !strcmp(argv[1], "--classic")) {
		flags = CGGUARD_CLASSIC;
		argv++, argc--;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: %s [--classic] POLICY PORT [COUNT]\n",
			argv[0]);
		return 2;
	}
	count = argc > 3 ? atoi(argv[3]) : 10;
	sa.sin6_port = htons(atoi(argv[2]));
	fd = socket(AF_INET6, SOCK_DGRAM, 0);	/* IPv4 arrives mapped */
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("socket/bind");
		return 1;
	}
	/* Before the first datagram can arrive would be better still: a
	 * filter judges what is queued after it is attached. */
	err = cgguard_sock_filter_flags(fd, argv[1], flags);
	if (err) {
		fprintf(stderr, "cgguard: %s\n", cgguard_strerror(err));
		return 1;
	}
	printf("policy %s locked on UDP port %s; waiting for %d datagrams\n",
	       argv[1], argv[2], count);
	fflush(stdout);
	for (i = 0; i < count; i++) {
		len = sizeof(from);
		if (recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from,
			     &len) < 0) {
			perror("recvfrom");
			return 1;
		}
		inet_ntop(AF_INET6, &from.sin6_addr, addr, sizeof(addr));
		printf("from %s port %u\n", addr, ntohs(from.sin6_port));
	}
	close(fd);
	return 0;
}
