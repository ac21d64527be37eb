// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * `cgguard explain` against the kernel: random policies are compiled and
 * written into the LPM map of the real cgroup_skb programs, random tuples
 * are built into packets and run through BPF_PROG_TEST_RUN, and the
 * kernel's verdict and deciding rule counter must equal what explain's
 * decision (events/explain.c over policy/lookup.c) says for the same
 * tuple.  The
 * reason explain gives is checked against a brute-force reading of the
 * policy (longest prefix; a tie goes to deny; else the default).
 *
 * Slot 0 holds the policy under test (see tests/bpf/test_verdict.c: test
 * runs get fresh cgroup storage, which reads slot 0).
 * Exit: 0 pass, 1 fail, 77 skip (no BPF_PROG_TEST_RUN for us; fails under
 * CI=true).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "guard.skel.h"
#include "loader.h"
#include "../../events/explain.h"

#define ETH_HLEN	14
#define NPOLICIES	200
#define NTUPLES		60

static struct guard_bpf *skel;
static int lpm_fd, ports_fd, hits_fd, ncpus, failures;
static unsigned seed = 12345;

static unsigned rnd(unsigned n)
{
	seed = seed * 1103515245u + 12345u;
	return (seed >> 8) % n;
}

/* ---- random policies over a small address space (so rules collide) ---- */

static const char *const protos[] = { "any", "tcp", "udp", "icmp" };

static void rand_v4(char *buf, size_t len, int plen)
{
	unsigned a = (10u << 24) | (rnd(4) << 16) | (rnd(4) << 8) | rnd(8);

	a &= plen ? ~0u << (32 - plen) : 0;
	snprintf(buf, len, "%u.%u.%u.%u/%d", a >> 24, (a >> 16) & 255,
		 (a >> 8) & 255, a & 255, plen);
}

static void rand_v6(char *buf, size_t len, int plen)
{
	unsigned x = rnd(4), y = rnd(8);

	/* prefixes of fd00:x::y within fd00::/16 */
	if (plen <= 16)
		snprintf(buf, len, "\"fd00::/%d\"", plen);
	else if (plen <= 32)
		snprintf(buf, len, "\"fd00:%x::/%d\"", x, plen);
	else
		snprintf(buf, len, "\"fd00:%x::%x/%d\"", x, plen == 128 ? y : 0,
			 plen);
}

static void rand_rule(FILE *f, int dir)
{
	static const int p4[] = { 0, 8, 16, 24, 32 }, p6[] = { 16, 32, 128 };
	const char *proto = protos[rnd(4)];
	char addr[64];

	if (rnd(4))
		rand_v4(addr, sizeof(addr), p4[rnd(5)]);
	else
		rand_v6(addr, sizeof(addr), p6[rnd(3)]);
	fprintf(f, "    - { action: %s, %s: %s, proto: %s", rnd(2) ? "deny" :
		"allow", dir ? "from" : "to", addr, proto);
	if ((!strcmp(proto, "tcp") || !strcmp(proto, "udp")) && rnd(2)) {
		unsigned lo = 20 + rnd(10);

		fprintf(f, ", ports: [%u, \"%u-%u\"]", lo, lo + 5, lo + 5 +
			rnd(10));
	}
	fprintf(f, " }\n");
}

static char *rand_policy(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int d, i, n;

	fprintf(f, "policy: rnd\n");
	for (d = 0; d < 2; d++) {
		fprintf(f, "%s:\n  default: %s\n", d ? "ingress" : "egress",
			rnd(2) ? "deny" : "allow");
		n = rnd(9);
		if (n)
			fprintf(f, "  rules:\n");
		for (i = 0; i < n; i++)
			rand_rule(f, d);
	}
	fclose(f);
	return buf;
}

static void rand_tuple(struct cg_query *t)
{
	static const uint8_t pr[] = { CG_P_TCP, CG_P_UDP, CG_P_ICMP };

	memset(t, 0, sizeof(*t));
	t->dir = rnd(2);
	t->proto = pr[rnd(3)];
	if (rnd(4)) {
		unsigned a = htonl((10u << 24) | (rnd(4) << 16) | (rnd(4) << 8) |
				   rnd(8));

		t->family = AF_INET;
		memcpy(t->addr, &a, 4);
	} else {
		t->family = AF_INET6;
		t->addr[0] = 0xfd;
		t->addr[3] = rnd(4);
		t->addr[15] = rnd(8);
		if (t->proto == CG_P_ICMP)
			t->proto = CG_P_ICMPV6;
	}
	if (t->proto == CG_P_TCP || t->proto == CG_P_UDP)
		t->port = 18 + rnd(30);
}

/* ---- packets ----------------------------------------------------------- */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/* The tuple's packet: the peer address is the destination on egress and
 * the source on ingress; the port is the destination port. */
static size_t build(const struct cg_query *t, uint8_t *b)
{
	static const uint8_t local4[4] = { 100, 64, 0, 2 };
	static const uint8_t local6[16] = { 0xfd, 0x99, [15] = 2 };
	int v4 = t->family == AF_INET, ip = v4 ? 20 : 40;
	size_t l4 = t->proto == CG_P_TCP ? 20 : 8;
	uint8_t *h = b + ETH_HLEN, *l = h + ip;
	const uint8_t *local = v4 ? local4 : local6;
	int alen = v4 ? 4 : 16, so = v4 ? 12 : 8;

	memset(b, 0, ETH_HLEN + ip + l4);
	b[0] = b[6] = 2;
	put16(b + 12, v4 ? 0x0800 : 0x86dd);
	if (v4) {
		h[0] = 0x45;
		h[8] = 64;
		h[9] = t->proto;
		put16(h + 2, ip + l4);
	} else {
		h[0] = 0x60;
		h[6] = t->proto;
		h[7] = 64;
		put16(h + 4, l4);
	}
	memcpy(h + so, t->dir == CG_DIR_EGRESS ? local : t->addr, alen);
	memcpy(h + so + alen, t->dir == CG_DIR_EGRESS ? t->addr : local, alen);
	if (t->proto == CG_P_TCP || t->proto == CG_P_UDP) {
		put16(l, 40000);
		put16(l + 2, t->port);
	}
	if (t->proto == CG_P_TCP)
		l[12] = 5 << 4;
	else if (t->proto == CG_P_UDP)
		put16(l + 4, l4);
	else
		l[0] = t->proto == CG_P_ICMP ? 8 : 128;
	return ETH_HLEN + ip + l4;
}

/* ---- kernel ------------------------------------------------------------ */

static uint64_t hits_of(uint32_t rule)
{
	uint64_t v[256] = {}, sum = 0;
	int c;

	if (rule >= CG_RULES_PER_SLOT ||
	    bpf_map_lookup_elem(hits_fd, &rule, v))
		return 0;
	for (c = 0; c < ncpus && c < 256; c++)
		sum += v[c];
	return sum;
}

/* Runs the tuple; returns the verdict and which counter moved. */
static int kernel(const struct cg_query *t, uint32_t *retval, int *ctr,
		  size_t nctr)
{
	struct bpf_program *prog = t->dir == CG_DIR_EGRESS ?
		skel->progs.cg_egress : skel->progs.cg_ingress;
	uint64_t before[CG_RULES_PER_SLOT];
	uint8_t buf[128];
	size_t len = build(t, buf), i;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = buf, .data_size_in = len,
		    .repeat = 1);

	for (i = 0; i < nctr; i++)
		before[i] = hits_of(i);
	if (bpf_prog_test_run_opts(bpf_program__fd(prog), &o))
		return -errno;
	*retval = o.retval;
	*ctr = -1;
	for (i = 0; i < nctr; i++)
		if (hits_of(i) != before[i])
			*ctr = i;
	return 0;
}

/* ---- brute force of the reason ------------------------------------------ */

static const char *expected_reason(const struct cg_policy *p,
				   const struct cg_query *t)
{
	const struct cg_direction *d = &p->dir[t->dir];
	int best = -1, deny = 0, allow = 0;
	size_t i, k;

	for (i = 0; i < d->nrules; i++) {
		const struct cg_rule *r = &d->rules[i];
		uint8_t pr = t->proto == CG_P_ICMPV6 ? CG_P_ICMP : t->proto;
		unsigned bits = r->prefixlen, full = bits / 8, ok = 1;

		if (r->family != t->family || memcmp(r->addr, t->addr, full) ||
		    (bits % 8 && (r->addr[full] ^ t->addr[full]) &
		     (0xff00 >> (bits % 8))))
			continue;
		if (r->proto != CG_PROTO_ANY && r->proto != pr)
			continue;
		for (k = 0, ok = !r->nports; k < r->nports; k++)
			ok |= t->port >= r->ports[k].lo && t->port <= r->ports[k].hi;
		if (!ok)
			continue;
		if (r->prefixlen > best) {
			best = r->prefixlen;
			deny = allow = 0;
		}
		if (r->prefixlen == best)
			*(r->action == CG_ACT_DENY ? &deny : &allow) += 1;
	}
	if (best < 0)
		return "no ";		/* "no <dir> rule matches ..." */
	if (deny && allow)
		return "tie: ";
	return "longest prefix: ";
}

static void check_policy(int n)
{
	char *yaml = rand_policy(), err[CG_ERR_MAX];
	struct cg_policy *p = NULL;
	struct cg_compiled c;
	int i;

	if (cg_policy_parse_buf("rnd.yaml", yaml, strlen(yaml), &p, err,
				sizeof(err)) ||
	    cg_policy_compile(p, &c, err, sizeof(err))) {
		printf("FAIL: policy %d does not compile: %s\n%s", n, err, yaml);
		failures++;
		goto out;
	}
	cg_slot_clear(lpm_fd, ports_fd, 0);
	if (cg_slot_write(lpm_fd, ports_fd, 0, &c)) {
		printf("FAIL: writing policy %d\n", n);
		failures++;
		goto free_c;
	}
	for (i = 0; i < NTUPLES; i++) {
		struct cg_explanation x;
		struct cg_query t;
		uint32_t ret = 99;
		int ctr = -1, rc;
		const char *want;

		rand_tuple(&t);
		if (cg_explain(&c, p, &t, &x)) {
			printf("FAIL: explain refused a valid query\n");
			failures++;
			break;
		}
		rc = kernel(&t, &ret, &ctr, CG_RULE_FIRST +
			    p->dir[0].nrules + p->dir[1].nrules);
		want = expected_reason(p, &t);
		if (rc || ret != (x.v.action == CG_ACT_ALLOW ? CG_SKB_PASS :
				  CG_SKB_DROP) || ctr != x.v.counter ||
		    strncmp(x.reason, want, strlen(want))) {
			char a[64];

			inet_ntop(t.family, t.addr, a, sizeof(a));
			printf("FAIL: policy %d, %s proto %u %s port %u: kernel "
			       "rc %d verdict %u counter %d; explain %s counter "
			       "%u (%s); reason '%s' wanted '%s...'\n%s", n,
			       t.dir ? "ingress" : "egress", t.proto, a, t.port,
			       rc, ret, ctr, x.v.action ? "deny" : "allow",
			       x.v.counter,
			       x.rule_text, x.reason, want, yaml);
			failures++;
			break;
		}
	}
free_c:
	cg_compiled_free(&c);
out:
	cg_policy_free(p);
	free(yaml);
}

int main(void)
{
	const char *ci = getenv("CI");
	int i, total = 0;

	skel = guard_bpf__open_and_load();
	if (!skel) {
		printf("test_explain: SKIP: cannot load the programs: %s\n",
		       strerror(errno));
		return ci && !strcmp(ci, "true") ? 1 : 77;
	}
	lpm_fd = bpf_map__fd(skel->maps.cg_lpm);
	ports_fd = bpf_map__fd(skel->maps.cg_ports);
	hits_fd = bpf_map__fd(skel->maps.cg_rule_hits);
	ncpus = libbpf_num_possible_cpus();
	for (i = 0; i < NPOLICIES && failures < 5; i++, total++)
		check_policy(i);
	guard_bpf__destroy(skel);
	printf("test_explain: %d random policies x %d tuples: %s\n", total,
	       NTUPLES, failures ? "FAIL" : "kernel and explain agree");
	return failures ? 1 : 0;
}
