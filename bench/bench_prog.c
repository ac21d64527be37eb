// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * cgguard micro-benchmarks (run by `make bench` through bench/run.sh).
 *
 *   bench_prog [prog] [--repeat N] [--runs N]
 *       Program cost: loads the guard skeleton, writes generated policies
 *       (10 / 1,000 / 100,000 deny /32 or /128 rules, default allow) into
 *       slot 0 and times cg_egress with BPF_PROG_TEST_RUN on a 64-byte-
 *       payload UDP packet, against a trivial cgroup_skb program that
 *       returns 1.  Also times parse, compile and slot write.
 *   bench_prog rr-server ADDR PORT
 *   bench_prog rr-client ADDR PORT SECONDS
 *       TCP request/response (1 byte each way, TCP_NODELAY) for the veth
 *       benchmark: the client prints transactions/s and latency.
 *   bench_prog insitu [--noop CGROUP] CMD [ARGS...]
 *       Runs CMD with BPF run-time statistics enabled (BPF_ENABLE_STATS,
 *       reverted when we exit) and prints how often the pinned cgguard
 *       programs ran meanwhile and their average ns per run: the cost in
 *       the real datapath, as a cross-check of the test-run numbers.
 *       --noop also attaches an empty cgroup_skb egress program (r0 = 1)
 *       to CGROUP for the run, so the same packets run both and the
 *       difference is what cgguard adds over an empty program.
 *   bench_prog udp-sink ADDR PORT IDLE_MS
 *   bench_prog udp-flood ADDR PORT SECONDS SIZE
 *       64-byte UDP packet rate: the flood sends with sendmmsg for SECONDS,
 *       the sink counts what arrived and over how long.
 *
 * Numbers are printed, never asserted: this is a measurement tool.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include "guard.skel.h"
#include "bench_noop.h"
#include "../tests/tools/sockaddr.h"
#include "loader.h"
#include "../policy/policy.h"
#include "../policy/compile.h"

#define PAYLOAD		64
#define MAX_RUNS	15

static int prog_info(int fd, struct bpf_prog_info *pi, char tag[17]);

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* ---- address generation --------------------------------------------- */

/* murmur3 finaliser: a bijection on 32 bits, so distinct inputs give
 * distinct, well-scattered addresses. */
static uint32_t fmix32(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Rule @i's address: IPv4 anywhere in the 32-bit space; IPv6 in fd00::/16
 * with 64 random bits and a 32-bit bijection of i (so all distinct). */
static void gen_addr(int fam, uint32_t i, uint8_t a[16])
{
	memset(a, 0, 16);
	if (fam == AF_INET) {
		uint32_t v = htonl(fmix32(i + 0x5eed));

		memcpy(a, &v, 4);
	} else {
		uint64_t r = splitmix64(i);
		uint32_t v = htonl(fmix32(i + 0x5eed));

		a[0] = 0xfd;
		memcpy(a + 2, &r, 8);
		memcpy(a + 12, &v, 4);
	}
}

static int alen(int fam)
{
	return fam == AF_INET ? 4 : 16;
}

static int in_set(int fam, uint32_t n, const uint8_t a[16])
{
	uint8_t b[16];
	uint32_t i;

	for (i = 0; i < n; i++) {
		gen_addr(fam, i, b);
		if (!memcmp(a, b, alen(fam)))
			return 1;
	}
	return 0;
}

/* ---- policies ---------------------------------------------------------- */

static struct cg_policy *make_policy(int fam, uint32_t n)
{
	struct cg_policy *p = calloc(1, sizeof(*p));
	uint32_t i;

	if (!p)
		return NULL;
	snprintf(p->name, sizeof(p->name), "bench-%s-%u",
		 fam == AF_INET ? "v4" : "v6", n);
	snprintf(p->source, sizeof(p->source), "bench");
	p->sockets.raw = -1;
	p->dir[CG_DIR_EGRESS].default_action = CG_ACT_ALLOW;
	p->dir[CG_DIR_INGRESS].default_action = CG_ACT_ALLOW;
	p->dir[CG_DIR_EGRESS].rules = calloc(n, sizeof(struct cg_rule));
	if (!p->dir[CG_DIR_EGRESS].rules) {
		free(p);
		return NULL;
	}
	p->dir[CG_DIR_EGRESS].nrules = n;
	for (i = 0; i < n; i++) {
		struct cg_rule *r = &p->dir[CG_DIR_EGRESS].rules[i];

		r->action = CG_ACT_DENY;
		r->family = fam;
		r->prefixlen = fam == AF_INET ? 32 : 128;
		r->proto = CG_PROTO_ANY;
		gen_addr(fam, i, r->addr);
	}
	return p;
}

static void free_policy(struct cg_policy *p)
{
	if (p) {
		free(p->dir[CG_DIR_EGRESS].rules);
		free(p);
	}
}

/* The same policy as YAML text, to time the parser on it. */
static char *make_yaml(int fam, uint32_t n, size_t *len)
{
	size_t cap = 128 + (size_t)n * 96, off;
	char *buf = malloc(cap), a[INET6_ADDRSTRLEN];
	uint8_t addr[16];
	uint32_t i;

	if (!buf)
		return NULL;
	off = snprintf(buf, cap, "policy: bench\nmode: enforce\negress:\n"
		       "  default: allow\n  rules:\n");
	for (i = 0; i < n; i++) {
		gen_addr(fam, i, addr);
		inet_ntop(fam, addr, a, sizeof(a));
		off += snprintf(buf + off, cap - off,
				"    - { action: deny, to: \"%s/%d\" }\n", a,
				fam == AF_INET ? 32 : 128);
	}
	off += snprintf(buf + off, cap - off, "ingress:\n  default: allow\n");
	*len = off;
	return buf;
}

/* ---- packets and test runs ------------------------------------------ */

struct pktbuf {
	uint8_t d[14 + 40 + 8 + PAYLOAD];
	uint32_t len;
};

static uint16_t csum16(const void *p, size_t n)
{
	const uint16_t *w = p;
	uint32_t s = 0;

	for (; n > 1; n -= 2)
		s += *w++;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return ~s;
}

/* Ethernet + IP + UDP + 64 zero bytes, from 10.201.0.1 / fd00::1. */
static void make_pkt(int fam, const uint8_t dst[16], struct pktbuf *pk)
{
	uint8_t *d = pk->d;
	uint16_t udplen = 8 + PAYLOAD;
	uint8_t *udp;

	memset(pk, 0, sizeof(*pk));
	memcpy(d, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
	if (fam == AF_INET) {
		uint8_t *ip = d + 14;
		uint16_t tot = htons(20 + udplen), c;

		d[12] = 0x08, d[13] = 0x00;
		ip[0] = 0x45;
		memcpy(ip + 2, &tot, 2);
		ip[8] = 64;
		ip[9] = IPPROTO_UDP;
		memcpy(ip + 12, "\x0a\xc9\x00\x01", 4);
		memcpy(ip + 16, dst, 4);
		c = csum16(ip, 20);
		memcpy(ip + 10, &c, 2);
		udp = ip + 20;
		pk->len = 14 + 20 + udplen;
	} else {
		uint8_t *ip6 = d + 14;
		uint16_t pl = htons(udplen);

		d[12] = 0x86, d[13] = 0xdd;
		ip6[0] = 0x60;
		memcpy(ip6 + 4, &pl, 2);
		ip6[6] = IPPROTO_UDP;
		ip6[7] = 64;
		ip6[8] = 0xfd;
		ip6[23] = 1;
		memcpy(ip6 + 24, dst, 16);
		udp = ip6 + 40;
		pk->len = 14 + 40 + udplen;
	}
	udp[0] = 40000 >> 8, udp[1] = 40000 & 0xff;
	udp[2] = 5201 >> 8, udp[3] = 5201 & 0xff;
	udp[4] = udplen >> 8, udp[5] = udplen & 0xff;
}

/* Average ns per run of @repeat runs; -1 on error. */
static double test_run(int fd, const struct pktbuf *pk, int repeat,
		       unsigned *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pk->d,
		    .data_size_in = pk->len, .repeat = repeat);

	if (bpf_prog_test_run_opts(fd, &o)) {
		fprintf(stderr, "bench_prog: BPF_PROG_TEST_RUN: %s\n",
			strerror(errno));
		return -1;
	}
	*retval = o.retval;
	return o.duration;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median over @runs runs of @repeat. */
static double median_run(int fd, const struct pktbuf *pk, int repeat,
			 int runs, unsigned *retval)
{
	double t[MAX_RUNS];
	int i;

	for (i = 0; i < runs; i++) {
		t[i] = test_run(fd, pk, repeat, retval);
		if (t[i] < 0)
			return -1;
	}
	qsort(t, runs, sizeof(t[0]), cmp_double);
	return t[runs / 2];
}

static char fresh_tag[17] = "?";

struct result {
	uint32_t rules;
	int fam;
	double parse_ms, compile_ms, write_ms;
	size_t entries;
	double hit_ns, miss_ns;
	unsigned hit_ret, miss_ret;
	int parse_ok;
	__u32 xlated, jited;
};

static double target_for(uint32_t rules)
{
	return rules <= 10 ? 50 : rules <= 1000 ? 100 : 350;
}

/* Candidate /32s sampled to find the slowest (deepest) one in the trie. */
#define NCAND	16

static int bench_one(int fam, uint32_t n, int repeat, int runs,
		     struct result *res)
{
	char err[CG_ERR_MAX] = "";
	struct cg_policy *p = NULL, *pp = NULL;
	struct cg_compiled c = {};
	struct guard_bpf *skel;
	struct pktbuf pk;
	uint8_t hit[16], miss[16], a[16];
	double t0, worst = -1, t;
	unsigned ret;
	char *yaml;
	size_t ylen;
	int lpm, fd, i, rc = -1;

	memset(res, 0, sizeof(*res));
	res->rules = n;
	res->fam = fam;

	/* Parse time of the same policy written as YAML (information only:
	 * the benchmark builds the struct directly). */
	yaml = make_yaml(fam, n, &ylen);
	if (yaml) {
		t0 = now_ns();
		if (!cg_policy_parse_buf("bench.yaml", yaml, ylen, &pp, err,
					 sizeof(err))) {
			res->parse_ms = (now_ns() - t0) / 1e6;
			res->parse_ok = pp->dir[CG_DIR_EGRESS].nrules == n;
			cg_policy_free(pp);
		} else {
			fprintf(stderr, "bench_prog: parse: %s\n", err);
		}
		free(yaml);
	}

	p = make_policy(fam, n);
	if (!p)
		return -1;
	t0 = now_ns();
	if (cg_policy_compile(p, &c, err, sizeof(err))) {
		fprintf(stderr, "bench_prog: compile: %s\n", err);
		goto out;
	}
	res->compile_ms = (now_ns() - t0) / 1e6;
	res->entries = c.n;

	skel = guard_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "bench_prog: loading guard.bpf.o: %s\n",
			strerror(errno));
		goto out;
	}
	lpm = bpf_map__fd(skel->maps.cg_lpm);
	fd = bpf_program__fd(skel->progs.cg_egress);
	bench_set_epoch(bpf_map__fd(skel->maps.cg_info));
	{
		/* Events off: this part is the verdict's cost, comparable
		 * with builds that had no events; bench/events.sh prices
		 * an event. */
		struct cg_evcfg ev = { .flags = CG_EVF_OFF };
		__u32 zero = 0;

		bpf_map_update_elem(bpf_map__fd(skel->maps.cg_evcfg), &zero,
				    &ev, BPF_ANY);
	}
	{
		struct bpf_prog_info pi;

		prog_info(fd, &pi, fresh_tag);
		res->xlated = pi.xlated_prog_len;
		res->jited = pi.jited_prog_len;
	}
	/* Under BPF_PROG_TEST_RUN the cgroup storage is zeroed, so the
	 * program uses slot 0: put the policy there. */
	t0 = now_ns();
	if (cg_slot_write(lpm, bpf_map__fd(skel->maps.cg_ports), 0, &c)) {
		fprintf(stderr, "bench_prog: cg_slot_write: %s\n",
			strerror(errno));
		goto out_skel;
	}
	res->write_ms = (now_ns() - t0) / 1e6;

	/* Worst hit: the slowest of NCAND rule addresses spread over the
	 * set (trie depth varies per address). */
	for (i = 0; i < NCAND && (uint32_t)i < n; i++) {
		gen_addr(fam, (uint32_t)((uint64_t)n * i / NCAND + n / (2 * NCAND)),
			 a);
		make_pkt(fam, a, &pk);
		t = median_run(fd, &pk, repeat / 10 ? repeat / 10 : 1, 3, &ret);
		if (t < 0)
			goto out_skel;
		if (t > worst) {
			worst = t;
			memcpy(hit, a, 16);
		}
	}
	make_pkt(fam, hit, &pk);
	res->hit_ns = median_run(fd, &pk, repeat, runs, &res->hit_ret);

	/* Miss: the hit's nearest neighbour (last bit flipped), so the walk
	 * goes as deep as it can before falling back to /0. */
	memcpy(miss, hit, 16);
	for (i = 0; i < 8; i++) {
		miss[alen(fam) - 1] = hit[alen(fam) - 1] ^ (1u << i);
		if (!in_set(fam, n, miss))
			break;
	}
	make_pkt(fam, miss, &pk);
	res->miss_ns = median_run(fd, &pk, repeat, runs, &res->miss_ret);
	if (res->hit_ns >= 0 && res->miss_ns >= 0)
		rc = 0;
out_skel:
	guard_bpf__destroy(skel);
out:
	cg_compiled_free(&c);
	free_policy(p);
	return rc;
}

static const char *verdict(unsigned r)
{
	return r == CG_SKB_DROP ? "drop" : r == CG_SKB_PASS ? "pass" : "?";
}

static void cpu_model(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];

	snprintf(buf, len, "unknown CPU");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && c) {
			c += 2;
			c[strcspn(c, "\n")] = 0;
			snprintf(buf, len, "%s", c);
			break;
		}
	}
	fclose(f);
}

static int do_prog(int argc, char **argv)
{
	static const uint32_t sizes[] = { 10, 1000, 100000 };
	static const int fams[] = { AF_INET, AF_INET6 };
	struct result res[6];
	int repeat = 1000000, runs = 5, i, f, s, nres = 0, noop;
	double noop_ns[2];
	unsigned ret;
	char cpu[128];
	struct utsname u;
	struct pktbuf pk;
	uint8_t a[16];

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
			repeat = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			runs = atoi(argv[++i]);
	}
	if (repeat < 1)
		repeat = 1;
	if (runs < 1 || runs > MAX_RUNS)
		runs = 5;
	libbpf_set_print(NULL);

	noop = bench_load_noop();
	if (noop < 0)
		return 1;
	for (f = 0; f < 2; f++) {
		gen_addr(fams[f], 0, a);
		make_pkt(fams[f], a, &pk);
		noop_ns[f] = median_run(noop, &pk, repeat, runs, &ret);
		if (noop_ns[f] < 0)
			return 1;
	}
	close(noop);

	for (s = 0; s < 3; s++) {
		for (f = 0; f < 2; f++) {
			fprintf(stderr, "  ... %u %s rules\n", sizes[s],
				fams[f] == AF_INET ? "ipv4" : "ipv6");
			if (bench_one(fams[f], sizes[s], repeat, runs,
				      &res[nres]))
				return 1;
			nres++;
		}
	}

	uname(&u);
	cpu_model(cpu, sizeof(cpu));
	printf("== 1. Program cost: BPF_PROG_TEST_RUN of cg_egress ==\n");
	printf("kernel %s, %s, %ld CPUs\n", u.release, cpu,
	       sysconf(_SC_NPROCESSORS_ONLN));
	printf("packet: Ethernet + IP + UDP + %d-byte payload; repeat=%d, "
	       "median of %d runs\n", PAYLOAD, repeat, runs);
	printf("policy: N deny rules on distinct /32 (/128) + default allow, "
	       "written into slot 0; events: off (bench/events.sh)\n");
	printf("cg_egress from .output/guard.bpf.o: tag %s, %u B xlated, "
	       "%u B jited\n", fresh_tag, res[0].xlated, res[0].jited);
	printf("noop cgroup_skb (r0 = 1): ipv4 %.1f ns/pkt, ipv6 %.1f ns/pkt\n\n",
	       noop_ns[0], noop_ns[1]);
	printf("%8s  %-6s  %-12s  %-7s  %8s  %9s  %6s  %s\n", "rules", "family",
	       "case", "verdict", "ns/pkt", "over-noop", "target",
	       "within (ns/pkt, over-noop)");
	for (i = 0; i < nres; i++) {
		const struct result *r = &res[i];
		double nn = noop_ns[r->fam == AF_INET ? 0 : 1];
		double tg = target_for(r->rules);
		int c;

		for (c = 0; c < 2; c++) {
			double ns = c ? r->miss_ns : r->hit_ns;
			unsigned rv = c ? r->miss_ret : r->hit_ret;
			unsigned want = c ? CG_SKB_PASS : CG_SKB_DROP;

			printf("%8u  %-6s  %-12s  %-7s  %8.1f  %9.1f  %6.0f  "
			       "%s / %s%s\n",
			       r->rules, r->fam == AF_INET ? "ipv4" : "ipv6",
			       c ? "miss -> /0" : "hit (worst)", verdict(rv),
			       ns, ns - nn, tg, ns <= tg ? "yes" : "no",
			       ns - nn <= tg ? "yes" : "no",
			       rv == want ? "" : "  (WRONG VERDICT)");
		}
	}
	printf("\nhit (worst): slowest of %d sampled rule addresses; miss: its "
	       "nearest non-rule neighbour\n", NCAND);
	printf("\n-- compile + apply (user space) --\n");
	printf("%8s  %-6s  %10s  %10s  %8s  %13s  %s\n", "rules", "family",
	       "parse ms", "compile ms", "entries", "slot-write ms",
	       "compile+write ms");
	for (i = 0; i < nres; i++) {
		const struct result *r = &res[i];
		char pm[32];

		if (r->parse_ok)
			snprintf(pm, sizeof(pm), "%.1f", r->parse_ms);
		else
			snprintf(pm, sizeof(pm), "n/a");
		printf("%8u  %-6s  %10s  %10.1f  %8zu  %13.1f  %.1f\n", r->rules,
		       r->fam == AF_INET ? "ipv4" : "ipv6", pm, r->compile_ms,
		       r->entries, r->write_ms, r->compile_ms + r->write_ms);
	}
	printf("parse = cg_policy_parse_buf of the same rules as YAML "
	       "(not part of compile+write)\n");
	return 0;
}

/* ---- program identity and in-situ statistics ------------------------ */

static int prog_info(int fd, struct bpf_prog_info *pi, char tag[17])
{
	__u32 len = sizeof(*pi);
	int i;

	memset(pi, 0, sizeof(*pi));
	if (bpf_obj_get_info_by_fd(fd, pi, &len))
		return -errno;
	for (i = 0; i < 8; i++)
		sprintf(tag + 2 * i, "%02x", pi->tag[i]);
	return 0;
}

/* An empty egress program on @cgpath, through a link that goes away
 * with this process; its prog fd in *prog. */
static int attach_noop(const char *cgpath, int *prog)
{
	int cg = open(cgpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC), link;

	*prog = cg >= 0 ? bench_load_noop() : -1;
	if (cg < 0 || *prog < 0) {
		fprintf(stderr, "bench_prog: --noop %s: %s\n", cgpath,
			strerror(errno));
		return -1;
	}
	link = bpf_link_create(*prog, cg, BPF_CGROUP_INET_EGRESS, NULL);
	if (link < 0)
		fprintf(stderr, "bench_prog: attaching the noop program: %s\n",
			strerror(errno));
	close(cg);
	return link;
}

static int do_insitu(int argc, char **argv)
{
	/* the empty program last: attach_noop() fills fd[NPROG - 1] */
	enum { NPROG = 5 };
	static const char *const names[NPROG] = { "egress", "ingress",
		"connect4", "connect6", "noop" };
	struct bpf_prog_info a[NPROG], b[NPROG];
	char tag[17], path[256];
	int fd[NPROG] = { -1, -1, -1, -1, -1 }, sfd, i, st, link = -1;
	pid_t pid;

	if (argc > 2 && !strcmp(argv[0], "--noop")) {
		link = attach_noop(argv[1], &fd[NPROG - 1]);
		if (link < 0)
			return 1;
		argc -= 2;
		argv += 2;
	}
	if (argc < 1)
		return 2;
	for (i = 0; i < NPROG - 1; i++) {
		snprintf(path, sizeof(path), CG_PIN_ROOT "/prog/%s", names[i]);
		fd[i] = bpf_obj_get(path);
		if (fd[i] < 0) {
			fprintf(stderr, "bench_prog: %s: %s\n", path,
				strerror(errno));
			return 1;
		}
	}
	sfd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (sfd < 0) {
		fprintf(stderr, "bench_prog: BPF_ENABLE_STATS: %s\n",
			strerror(errno));
		return 1;
	}
	for (i = 0; i < NPROG; i++)
		if (fd[i] >= 0)
			prog_info(fd[i], &a[i], tag);
	pid = fork();
	if (pid == 0) {
		close(sfd);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return 1;
	for (i = 0; i < NPROG; i++) {
		__u64 n, t;

		if (fd[i] < 0)
			continue;
		prog_info(fd[i], &b[i], tag);
		n = b[i].run_cnt - a[i].run_cnt;
		t = b[i].run_time_ns - a[i].run_time_ns;
		printf("insitu: prog=%s id=%u tag=%s runs=%llu ns_per_run=%.1f\n",
		       names[i], b[i].id, tag, (unsigned long long)n,
		       n ? (double)t / n : 0.0);
		close(fd[i]);
	}
	if (link >= 0)
		close(link);
	close(sfd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

/* ---- veth helpers: TCP request/response and UDP flood ----------------- */

static int sock_addr(const char *a, int port, struct sockaddr_storage *ss,
		     socklen_t *len)
{
	int fam = tool_sockaddr(a, port, ss, len);

	if (fam < 0) {
		fprintf(stderr, "bench_prog: bad address %s\n", a);
		exit(2);
	}
	return fam;
}

static int bound_sock(const char *a, int port, int type)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fam = sock_addr(a, port, &ss, &len), one = 1;
	int fd = socket(fam, type, 0);

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
				 sizeof(one)) ||
	    bind(fd, (void *)&ss, len)) {
		perror("bench_prog: socket/bind");
		exit(1);
	}
	return fd;
}

static int rr_server(const char *a, int port)
{
	int fd = bound_sock(a, port, SOCK_STREAM), one = 1;
	char b[1];

	if (listen(fd, 16)) {
		perror("bench_prog: listen");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		int c = accept(fd, NULL, NULL);

		if (c < 0)
			continue;
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		while (read(c, b, 1) == 1 && write(c, b, 1) == 1)
			;
		close(c);
	}
}

static int rr_client(const char *a, int port, double secs)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fam = sock_addr(a, port, &ss, &len), one = 1;
	int fd = socket(fam, SOCK_STREAM, 0);
	size_t n = 0, cap = 1 << 20;
	double *lat = malloc(cap * sizeof(*lat)), t0, t1, t, end, sum = 0;
	char b[1] = { 'x' };

	if (fd < 0 || !lat || connect(fd, (void *)&ss, len)) {
		printf("result=connect_failed errno=%s\n", strerrorname_np(errno));
		return 1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	t0 = now_ns();
	end = t0 + secs * 1e9;
	for (t = t0; t < end; ) {
		if (write(fd, b, 1) != 1 || read(fd, b, 1) != 1) {
			printf("result=io_failed errno=%s\n", strerrorname_np(errno));
			return 1;
		}
		t1 = now_ns();
		if (n == cap) {
			double *nl = realloc(lat, (cap *= 2) * sizeof(*lat));

			if (!nl)
				return 1;
			lat = nl;
		}
		lat[n++] = t1 - t;
		sum += t1 - t;
		t = t1;
	}
	close(fd);
	qsort(lat, n, sizeof(*lat), cmp_double);
	printf("result=ok trans=%zu trans_per_sec=%.0f mean_us=%.2f "
	       "p50_us=%.2f p99_us=%.2f\n", n, n / ((t - t0) / 1e9),
	       sum / n / 1e3, lat[n / 2] / 1e3, lat[(size_t)(n * 0.99)] / 1e3);
	free(lat);
	return 0;
}

/* New connections, one after another: connect, 1 byte each way, close
 * with a reset (SO_LINGER 0: no TIME_WAIT to run out of ports). */
static int conn_client(const char *a, int port, double secs)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct sockaddr_storage ss;
	socklen_t len;
	int fam = sock_addr(a, port, &ss, &len), fd;
	double t0 = now_ns(), end = t0 + secs * 1e9, t = t0;
	unsigned long n = 0;
	char b[1] = { 'x' };

	while (t < end) {
		fd = socket(fam, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, (void *)&ss, len) ||
		    write(fd, b, 1) != 1 || read(fd, b, 1) != 1) {
			printf("result=failed conns=%lu errno=%s\n", n,
			       strerrorname_np(errno));
			return 1;
		}
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(fd);
		n++;
		t = now_ns();
	}
	printf("result=ok conns=%lu conns_per_sec=%.0f\n", n,
	       n / ((t - t0) / 1e9));
	return 0;
}

#define BATCH	64

static int udp_sink(const char *a, int port, int idle_ms)
{
	int fd = bound_sock(a, port, SOCK_DGRAM), rcvbuf = 8 << 20;
	static char bufs[BATCH][2048];
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	unsigned long n = 0;
	double first = 0, last = 0;
	int i, r;

	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	for (i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){ bufs[i], sizeof(bufs[i]) };
		memset(&m[i], 0, sizeof(m[i]));
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	printf("ready\n");
	fflush(stdout);
	/* Wait (long) for the first packet, then until @idle_ms of silence. */
	if (poll(&pfd, 1, 30000) <= 0) {
		printf("received=0 pps=0\n");
		return 0;
	}
	first = now_ns();
	while (poll(&pfd, 1, idle_ms) > 0) {
		r = recvmmsg(fd, m, BATCH, MSG_DONTWAIT, NULL);
		if (r > 0) {
			n += r;
			last = now_ns();
		}
	}
	printf("received=%lu secs=%.3f pps=%.0f\n", n, (last - first) / 1e9,
	       last > first ? n / ((last - first) / 1e9) : 0);
	return 0;
}

static int udp_flood(const char *a, int port, double secs, int size)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fam = sock_addr(a, port, &ss, &len);
	int fd = socket(fam, SOCK_DGRAM, 0);
	static char buf[2048];
	struct mmsghdr m[BATCH];
	struct iovec iov;
	unsigned long sent = 0, fail = 0;
	double t0, end, t;
	int i, r;

	if (fd < 0 || connect(fd, (void *)&ss, len)) {
		printf("result=connect_failed errno=%s\n", strerrorname_np(errno));
		return 1;
	}
	if (size < 1 || size > (int)sizeof(buf))
		size = PAYLOAD;
	iov = (struct iovec){ buf, size };
	for (i = 0; i < BATCH; i++) {
		memset(&m[i], 0, sizeof(m[i]));
		m[i].msg_hdr.msg_iov = &iov;
		m[i].msg_hdr.msg_iovlen = 1;
	}
	t0 = now_ns();
	end = t0 + secs * 1e9;
	do {
		r = sendmmsg(fd, m, BATCH, 0);
		if (r > 0)
			sent += r;
		else
			fail++;
		t = now_ns();
	} while (t < end);
	printf("sent=%lu failed_calls=%lu secs=%.3f pps=%.0f\n", sent, fail,
	       (t - t0) / 1e9, sent / ((t - t0) / 1e9));
	return 0;
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "prog";

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2 || argv[1][0] == '-')
		return do_prog(argc - 1, argv + 1);
	if (!strcmp(m, "prog"))
		return do_prog(argc - 2, argv + 2);
	if (!strcmp(m, "rr-server") && argc == 4)
		return rr_server(argv[2], atoi(argv[3]));
	if (!strcmp(m, "rr-client") && argc == 5)
		return rr_client(argv[2], atoi(argv[3]), atof(argv[4]));
	if (!strcmp(m, "conn-client") && argc == 5)
		return conn_client(argv[2], atoi(argv[3]), atof(argv[4]));
	if (!strcmp(m, "insitu") && argc > 2)
		return do_insitu(argc - 2, argv + 2);
	if (!strcmp(m, "udp-sink") && argc == 5)
		return udp_sink(argv[2], atoi(argv[3]), atoi(argv[4]));
	if (!strcmp(m, "udp-flood") && argc == 6)
		return udp_flood(argv[2], atoi(argv[3]), atof(argv[4]),
				 atoi(argv[5]));
	fprintf(stderr, "usage: bench_prog [prog] [--repeat N] [--runs N]\n"
		"       bench_prog rr-server ADDR PORT\n"
		"       bench_prog rr-client ADDR PORT SECONDS\n"
		"       bench_prog conn-client ADDR PORT SECONDS\n"
		"       bench_prog insitu [--noop CGROUP] CMD [ARGS...]\n"
		"       bench_prog udp-sink ADDR PORT IDLE_MS\n"
		"       bench_prog udp-flood ADDR PORT SECONDS SIZE\n");
	return 2;
}
