// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The daemon's socket filter (sockfilter.bpf.c) under BPF_PROG_TEST_RUN,
 * against the packet layer's lookup (policy/lookup.c): random policies
 * and IPv4/IPv6/mapped packets with fragments and extension headers.  One
 * program is loaded and every policy is swapped in under it (the daemon's
 * reload path), so this also checks that a handed-out filter follows a
 * policy change.  Its (uid, policy) counters must add up exactly.
 * Maps are fresh and pinned nowhere (CG_SF_ANON).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>
#include <bpf/bpf.h>
#include "sockfilter.h"
#include "../policy/lookup.h"

struct pkt {
	uint16_t eth;
	uint8_t net[64];
	size_t len;
};

#include "../unit/sfrand.h"

static int run(int fd, const struct pkt *p, uint32_t *ret)
{
	uint8_t frame[14 + sizeof(p->net)] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame,
		    .data_size_in = 14 + p->len, .repeat = 1);

	frame[12] = p->eth >> 8;	/* eth_type_trans() reads it */
	frame[13] = p->eth & 0xff;
	memcpy(frame + 14, p->net, p->len);
	if (bpf_prog_test_run_opts(fd, &o))
		return -errno;
	*ret = o.retval;
	return 0;
}

struct sums {
	uint64_t pass, drop;
};

static int sum_cb(const struct cg_sf_key *k, const struct cg_counters *c,
		  void *ctx)
{
	struct sums *s = ctx;

	if (k->uid == 4242 && !strcmp(k->policy, "r")) {
		s->pass = c->pkts[CG_RES_PASS];
		s->drop = c->pkts[CG_RES_DROP];
	}
	return 0;
}

static void test_random_against_lookup(void **state)
{
	struct sums want = { 0 }, got = { 0 };
	char yaml[4096];
	struct cg_sf sf;
	int i, k, fd = -1, err;
	__u32 id, id0 = 0;

	(void)state;
	err = cg_sf_open(&sf, CG_SF_ANON);
	if (err == -EPERM)
		skip();		/* not root: the tier needs CAP_BPF */
	assert_int_equal(err, 0);
	for (i = 0; i < 150; i++) {
		struct cg_policy *p = random_policy(yaml, sizeof(yaml));
		struct cg_compiled c = {};
		char e[CG_ERR_MAX];

		if (cg_policy_compile(p, &c, e, sizeof(e))) {
			cg_policy_free(p);
			continue;
		}
		assert_int_equal(cg_sf_policy(&sf, p, &id), 0);
		if (fd < 0) {	/* one program for every version */
			fd = cg_sf_prog_load(&sf, id, 4242, "r");
			assert_true(fd >= 0);
			id0 = id;
		}
		assert_int_equal(id, id0);
		for (k = 0; k < 100; k++) {
			struct cg_verdict v;
			struct cg_query q;
			struct pkt pk;
			uint32_t ret;

			random_packet(&pk, &q, 1);
			assert_int_equal(cg_lookup(&c, p, &q, &v), 0);
			assert_int_equal(run(fd, &pk, &ret), 0);
			if ((ret != 0) != (v.action == CG_ACT_ALLOW))
				fail_msg("policy:\n%spacket eth %04x proto %u port %u "
					 "unparsed %u: filter %s, lookup %s", yaml,
					 pk.eth, q.proto, q.port, q.unparsed,
					 ret ? "keep" : "drop", v.action ==
					 CG_ACT_ALLOW ? "allow" : "deny");
			if (v.action == CG_ACT_ALLOW)
				want.pass++;
			else
				want.drop++;
		}
		cg_compiled_free(&c);
		cg_policy_free(p);
	}
	assert_int_equal(cg_sf_counters(&sf, sum_cb, &got), 0);
	assert_int_equal(got.pass, want.pass);
	assert_int_equal(got.drop, want.drop);
	close(fd);
	cg_sf_close(&sf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_against_lookup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
