// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Cost of events (run by bench/events.sh).
 *
 *   bench_events [--repeat N] [--runs N]
 *       cg_egress under BPF_PROG_TEST_RUN on a 64-byte-payload UDP packet
 *       with a 10-rule policy in slot 0: an allowed packet, and a denied
 *       one with events off, with the bucket empty (suppressed) and with
 *       an event emitted into the ring buffer (drained between batches so
 *       none is lost).  Median ns per run, and each over the empty
 *       program.  Numbers are printed, never asserted.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include "guard.skel.h"
#include "bench_noop.h"
#include "loader.h"
#include "../policy/policy.h"
#include "../policy/compile.h"

#define RUNS_MAX	15
#define BATCH		10000	/* < ring buffer capacity (~40k events) */

static struct guard_bpf *skel;
static int evcfg_fd, evstate_fd;
static long drained;

static const char policy[] =
	"policy: bench-events\n"
	"egress:\n"
	"  rules:\n"
	"    - { action: deny, to: 10.99.0.1/32 }\n"
	"    - { action: deny, to: 10.99.0.2/32 }\n"
	"    - { action: deny, to: 10.99.0.3/32, proto: udp, ports: [53] }\n"
	"    - { action: deny, to: 10.99.0.4/32 }\n"
	"    - { action: deny, to: 10.99.0.5/32 }\n"
	"    - { action: deny, to: 10.99.1.0/24 }\n"
	"    - { action: deny, to: 10.99.2.0/24 }\n"
	"    - { action: deny, to: 10.99.3.0/24 }\n"
	"    - { action: allow, to: 10.99.3.7/32 }\n"
	"    - { action: deny, to: 10.98.0.0/16 }\n";

/* Ethernet + IPv4 + UDP + 64 bytes to @dst. */
static size_t make_pkt(const char *dst, unsigned char *d)
{
	unsigned char *ip = d + 14, *udp = ip + 20;

	memset(d, 0, 14 + 20 + 8 + 64);
	d[0] = d[6] = 2;
	d[12] = 0x08;
	ip[0] = 0x45;
	ip[3] = 20 + 8 + 64;
	ip[8] = 64;
	ip[9] = IPPROTO_UDP;
	inet_pton(AF_INET, "10.201.0.1", ip + 12);
	inet_pton(AF_INET, dst, ip + 16);
	udp[0] = 40000 >> 8, udp[1] = 40000 & 0xff;
	udp[2] = 5201 >> 8, udp[3] = 5201 & 0xff;
	udp[5] = 8 + 64;
	return 14 + 20 + 8 + 64;
}

static int on_event(void *ctx, void *data, size_t len)
{
	(void)ctx, (void)data, (void)len;
	drained++;
	return 0;
}

static double run(int fd, const unsigned char *pk, size_t len, int repeat,
		  unsigned *ret)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pk, .data_size_in = len,
		    .repeat = repeat);

	if (bpf_prog_test_run_opts(fd, &o))
		return -1;
	*ret = o.retval;
	return o.duration;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median ns/run over @runs; repeats split in batches, the ring buffer
 * drained after each (so emitted events never hit a full buffer). */
static double median(int fd, const unsigned char *pk, size_t len, int repeat,
		     int runs, struct ring_buffer *rb, unsigned *ret)
{
	double t[RUNS_MAX], sum;
	int i, done, n;

	for (i = 0; i < runs; i++) {
		for (sum = 0, done = 0; done < repeat; done += n) {
			n = repeat - done < BATCH ? repeat - done : BATCH;
			sum += run(fd, pk, len, n, ret) * n;
			if (rb)
				ring_buffer__consume(rb);
		}
		t[i] = sum / repeat;
	}
	qsort(t, runs, sizeof(t[0]), cmp);
	return t[runs / 2];
}

static int set_events(__u32 rate, __u32 burst, __u32 flags)
{
	struct cg_evcfg c = { .rate = rate, .burst = burst, .flags = flags };
	__u32 slot = 0;
	__u64 cgid = 0;

	bpf_map_delete_elem(evstate_fd, &cgid);	/* a fresh, full bucket */
	return bpf_map_update_elem(evcfg_fd, &slot, &c, BPF_ANY);
}

static int load_policy(void)
{
	struct cg_policy *p = NULL;
	struct cg_compiled c;
	char err[CG_ERR_MAX];
	int rc;

	rc = cg_policy_parse_buf("bench", policy, strlen(policy), &p, err,
				 sizeof(err));
	if (!rc)
		rc = cg_policy_compile(p, &c, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "bench_events: %s\n", err);
		return rc;
	}
	rc = cg_slot_write(bpf_map__fd(skel->maps.cg_lpm),
			   bpf_map__fd(skel->maps.cg_ports), 0, &c);
	cg_compiled_free(&c);
	cg_policy_free(p);
	return rc;
}

int main(int argc, char **argv)
{
	int repeat = 200000, runs = 5, i, fd, noop;
	unsigned char allow[128], deny[128];
	size_t la, ld;
	struct ring_buffer *rb;
	struct cg_evstate st = {};
	unsigned r1, r2, r3, r4, r5;
	double t_noop, t_allow, t_off, t_sup, t_emit;
	__u64 cgid = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
			repeat = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			runs = atoi(argv[++i]);
	}
	if (repeat < 1 || runs < 1 || runs > RUNS_MAX)
		return fprintf(stderr, "bench_events: bad --repeat/--runs\n"), 2;
	skel = guard_bpf__open_and_load();
	if (!skel || load_policy())
		return fprintf(stderr, "bench_events: cannot load: %s\n",
			       strerror(errno)), 1;
	bench_set_epoch(bpf_map__fd(skel->maps.cg_info));
	evcfg_fd = bpf_map__fd(skel->maps.cg_evcfg);
	evstate_fd = bpf_map__fd(skel->maps.cg_evstate);
	rb = ring_buffer__new(bpf_map__fd(skel->maps.cg_events), on_event,
			      NULL, NULL);
	noop = bench_load_noop();
	fd = bpf_program__fd(skel->progs.cg_egress);
	la = make_pkt("10.99.3.7", allow);
	ld = make_pkt("10.99.3.8", deny);
	if (!rb || noop < 0)
		return fprintf(stderr, "bench_events: setup failed\n"), 1;

	t_noop = median(noop, allow, la, repeat, runs, NULL, &r1);
	set_events(CG_EVENTS_RATE_DEFAULT, CG_EVENTS_BURST_DEFAULT, 0);
	t_allow = median(fd, allow, la, repeat, runs, NULL, &r2);
	set_events(0, 0, CG_EVF_OFF);
	t_off = median(fd, deny, ld, repeat, runs, NULL, &r3);
	set_events(1, 1, 0);		/* one token, then empty */
	t_sup = median(fd, deny, ld, repeat, runs, NULL, &r4);
	set_events(1000000, 1000000, 0);
	drained = 0;
	t_emit = median(fd, deny, ld, repeat, runs, rb, &r5);
	bpf_map_lookup_elem(evstate_fd, &cgid, &st);
	printf("program cost, BPF_PROG_TEST_RUN, 10-rule policy, median of %d "
	       "runs of %d\n", runs, repeat);
	printf("  %-36s %7.1f ns\n", "empty program", t_noop);
	printf("  %-36s %7.1f ns  (+%.1f over empty)  verdict %s\n",
	       "allowed packet", t_allow, t_allow - t_noop, r2 ? "pass" : "drop");
	printf("  %-36s %7.1f ns  (+%.1f)  verdict %s\n",
	       "denied, events: off", t_off, t_off - t_noop, r3 ? "pass" : "drop");
	printf("  %-36s %7.1f ns  (+%.1f)\n", "denied, event suppressed (bucket "
	       "empty)", t_sup, t_sup - t_noop);
	printf("  %-36s %7.1f ns  (+%.1f)  emitted %llu lost %llu drained %ld\n",
	       "denied, event emitted", t_emit, t_emit - t_noop,
	       (unsigned long long)st.emitted, (unsigned long long)st.lost,
	       drained);
	printf("  event cost over a denied packet with events off: %.1f ns "
	       "(emitted), %.1f ns (suppressed)\n", t_emit - t_off,
	       t_sup - t_off);
	(void)r1, (void)r4, (void)r5;
	ring_buffer__free(rb);
	guard_bpf__destroy(skel);
	return 0;
}
