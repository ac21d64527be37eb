// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The unprivileged side of the socket-filter tests: run as the test user,
 * it uses libcgguard like any program would and reports what really
 * happened as key=value lines.
 *
 *   recv udp|tcp daemon|classic POLICY PORT IDLE_MS
 *        bind 0.0.0.0:PORT, put POLICY's filter on the socket (tcp: the
 *        listener), print "ready", count datagrams (or accepted
 *        connections) per source until IDLE_MS of silence; then try to
 *        remove or replace the filter (SO_DETACH_BPF, SO_ATTACH_BPF with a
 *        fresh program, SO_ATTACH_FILTER) and print each errno
 *   progid POLICY          ask the daemon; print its prog_id and whether
 *                          bpf_obj_get_info_by_fd works on the fd
 *   maps POLICY ID...      with the program fd in hand, try
 *                          BPF_MAP_GET_FD_BY_ID on each map id (and on the
 *                          ids the prog info reports, if it reports any)
 *   tcp-probe              may classic filters go on TCP sockets here?
 *   raw JSON               send one request as is; print errno and reply
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/filter.h>
#include <bpf/bpf.h>
#include <cgguard.h>

#define MAX_SRC 16

static const char *ename(int e)
{
	static char buf[16];

	switch (e) {
	case 0: return "0";
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case EINVAL: return "EINVAL";
	case ENOENT: return "ENOENT";
	case EBADF: return "EBADF";
	}
	snprintf(buf, sizeof(buf), "%d", e);
	return buf;
}

struct srcs {
	char addr[MAX_SRC][INET_ADDRSTRLEN];
	int n[MAX_SRC], count, total;
};

static void note(struct srcs *s, const struct sockaddr_in *from)
{
	char a[INET_ADDRSTRLEN];
	int i;

	inet_ntop(AF_INET, &from->sin_addr, a, sizeof(a));
	s->total++;
	for (i = 0; i < s->count; i++)
		if (!strcmp(s->addr[i], a))
			break;
	if (i == s->count && s->count < MAX_SRC)
		strcpy(s->addr[s->count++], a);
	if (i < MAX_SRC)
		s->n[i]++;
}

static void serve(int fd, int tcp, int idle_ms, struct srcs *s)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct sockaddr_in from;
	socklen_t len;
	char buf[2048];
	int c;

	while (poll(&p, 1, idle_ms) > 0) {
		len = sizeof(from);
		if (tcp) {
			c = accept(fd, (struct sockaddr *)&from, &len);
			if (c < 0)
				continue;
			close(c);
		} else if (recvfrom(fd, buf, sizeof(buf), 0,
				    (struct sockaddr *)&from, &len) < 0) {
			continue;
		}
		note(s, &from);
	}
}

/* The lock holds: nothing may remove or replace the filter. */
static void try_unlock(int fd, const char *policy)
{
	struct sock_filter keep = { BPF_RET | BPF_K, 0, 0, 0xffffffff };
	struct sock_fprog prog = { 1, &keep };
	int dummy = 0, pfd, e1, e2, e3;

	e1 = setsockopt(fd, SOL_SOCKET, SO_DETACH_BPF, &dummy, sizeof(dummy)) ?
	     errno : 0;
	pfd = cgguard_filter_fd(policy);
	e2 = pfd < 0 ? -1 : setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, &pfd,
				       sizeof(pfd)) ? errno : 0;
	if (pfd >= 0)
		close(pfd);
	e3 = setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) ?
	     errno : 0;
	printf("detach=%s attach_bpf=%s attach_filter=%s\n", ename(e1),
	       e2 < 0 ? "no-daemon" : ename(e2), ename(e3));
}

static int do_recv(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int tcp, classic, fd, err, one = 1, i;
	struct srcs s = {};

	if (argc != 6)
		return 2;
	tcp = !strcmp(argv[1], "tcp");
	classic = !strcmp(argv[2], "classic");
	sa.sin_port = htons(atoi(argv[4]));
	fd = socket(AF_INET, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		printf("result=bind_failed errno=%s\n", ename(errno));
		return 1;
	}
	/* The filter goes on before listen(): no connection can be queued
	 * unjudged. */
	err = cgguard_sock_filter_flags(fd, argv[3], classic ? CGGUARD_CLASSIC :
					CGGUARD_DAEMON);
	if (err) {
		printf("result=filter_failed errno=%s msg=\"%s\"\n",
		       ename(-err), cgguard_strerror(err));
		return 1;
	}
	if (tcp && listen(fd, 64)) {
		printf("result=listen_failed errno=%s\n", ename(errno));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	serve(fd, tcp, atoi(argv[5]), &s);
	printf("result=ok %s=%d\n", tcp ? "accepted" : "received", s.total);
	for (i = 0; i < s.count; i++)
		printf("src=%s n=%d\n", s.addr[i], s.n[i]);
	try_unlock(fd, argv[3]);
	close(fd);
	return 0;
}

static int prog_fd(const char *policy, unsigned *id)
{
	char req[128], reply[1024], *p;
	int fd, err;

	snprintf(req, sizeof(req), "{\"cmd\":\"filter\",\"policy\":\"%s\"}",
		 policy);
	err = cgguard_request(req, reply, sizeof(reply), &fd);
	if (err) {
		printf("result=request_failed errno=%s msg=\"%s\"\n",
		       ename(-err), cgguard_strerror(err));
		return -1;
	}
	p = strstr(reply, "\"prog_id\":");
	*id = p ? strtoul(p + 10, NULL, 10) : 0;
	return fd;
}

static int do_progid(int argc, char **argv)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	unsigned id;
	int fd, e;

	if (argc != 2 || (fd = prog_fd(argv[1], &id)) < 0)
		return 1;
	e = bpf_obj_get_info_by_fd(fd, &info, &len) ? errno : 0;
	printf("prog_id=%u info=%s nr_map_ids=%u\n", id, ename(e),
	       e ? 0 : info.nr_map_ids);
	return 0;
}

static void try_map(unsigned id, int *got, int *tried)
{
	int m = bpf_map_get_fd_by_id(id);

	printf("map %u: %s\n", id, m >= 0 ? "GOT-FD" : ename(errno));
	*got += m >= 0;
	(*tried)++;
	if (m >= 0)
		close(m);
}

static int do_maps(int argc, char **argv)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), ids[16];
	int fd, i, got = 0, tried = 0;
	unsigned id;

	if (argc < 2 || (fd = prog_fd(argv[1], &id)) < 0)
		return 1;
	info.nr_map_ids = 16;
	info.map_ids = (__u64)(unsigned long)ids;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		for (i = 0; i < (int)info.nr_map_ids && i < 16; i++)
			try_map(ids[i], &got, &tried);
	for (i = 2; i < argc; i++)
		try_map(strtoul(argv[i], NULL, 10), &got, &tried);
	printf("maps_tried=%d maps_got=%d\n", tried, got);
	return 0;
}

int main(int argc, char **argv)
{
	int e;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && !strcmp(argv[1], "recv"))
		return do_recv(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "progid"))
		return do_progid(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "maps"))
		return do_maps(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "tcp-probe")) {
		e = cgguard_classic_tcp_probe();
		printf("classic_tcp=%s\n", ename(-e));
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "raw")) {
		char reply[4096] = "";
		int fd;

		e = cgguard_request(argv[2], reply, sizeof(reply), &fd);
		printf("errno=%s fd=%d reply=%s", ename(-e), fd >= 0, reply);
		return 0;
	}
	fprintf(stderr, "usage: see the comment at the top of %s\n", __FILE__);
	return 2;
}
