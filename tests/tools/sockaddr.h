/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* "ADDR" + port -> sockaddr, shared by the traffic tool and the benchmark. */
#ifndef CGGUARD_TOOLS_SOCKADDR_H
#define CGGUARD_TOOLS_SOCKADDR_H

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Returns AF_INET or AF_INET6 and fills @ss/@len, or -1 for a bad ADDR. */
static inline int tool_sockaddr(const char *a, int port,
				struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *s4 = (void *)ss;
	struct sockaddr_in6 *s6 = (void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, a, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*len = sizeof(*s4);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, a, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*len = sizeof(*s6);
		return AF_INET6;
	}
	return -1;
}

/* For the test tools: a socket for ADDR's family with SO_REUSEADDR and
 * @ss/@len filled for ADDR:port.  A bad ADDR exits 2; a failing socket()
 * prints "result=socket_error errno=E" and exits 1. */
static inline int tool_socket(const char *a, int port, int type,
			      struct sockaddr_storage *ss, socklen_t *len)
{
	int fam = tool_sockaddr(a, port, ss, len), fd, one = 1;

	if (fam < 0) {
		fprintf(stderr, "bad address %s\n", a);
		exit(2);
	}
	fd = socket(fam, type, 0);
	if (fd < 0) {
		printf("result=socket_error errno=%s\n", strerrorname_np(errno));
		exit(1);
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	return fd;
}

#endif
