// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * libcgguard's classic BPF compiler against the packet layer's decision
 * (policy/lookup.c, the oracle the BPF tier uses too): random policies,
 * random IPv4/IPv6/mapped packets, each program run in a small classic
 * BPF interpreter here and accepted by the kernel's classic checker
 * (SO_ATTACH_FILTER on a UDP socket, which needs no privilege).
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
#include <sys/socket.h>
#include <cmocka.h>
#include "../../libcgguard/internal.h"
#include "../../policy/lookup.h"

struct pkt {
	uint16_t eth;		/* skb->protocol, host order */
	uint8_t net[64];	/* network header onwards */
	size_t len;
};

/* The loads the compiler emits: network-relative, ancillary protocol. */
static int load(const struct pkt *p, uint32_t k, int size, uint32_t *v)
{
	int32_t off = (int32_t)k - SKF_NET_OFF;
	int i;

	if (k == (uint32_t)(SKF_AD_OFF + SKF_AD_PROTOCOL)) {
		*v = p->eth;
		return 0;
	}
	if ((int32_t)k >= 0 || off < 0 || (size_t)off + size > p->len)
		return -1;
	for (*v = 0, i = 0; i < size; i++)
		*v = *v << 8 | p->net[off + i];
	return 0;
}

static uint32_t run(const struct sock_fprog *prog, const struct pkt *p)
{
	uint32_t A = 0, X = 0, M[BPF_MEMWORDS] = { 0 }, v;
	size_t pc;

	for (pc = 0; pc < prog->len; pc++) {
		const struct sock_filter *f = &prog->filter[pc];
		int size = BPF_SIZE(f->code) == BPF_W ? 4 :
			   BPF_SIZE(f->code) == BPF_H ? 2 : 1;

		switch (f->code) {
		case BPF_LD | BPF_W | BPF_ABS: case BPF_LD | BPF_H | BPF_ABS:
		case BPF_LD | BPF_B | BPF_ABS:
			if (load(p, f->k, size, &A))
				return 0;	/* out of bounds: dropped */
			break;
		case BPF_LD | BPF_H | BPF_IND:
			if (load(p, X + f->k, 2, &A))
				return 0;
			break;
		case BPF_LDX | BPF_B | BPF_MSH:
			if (load(p, f->k, 1, &v))
				return 0;
			X = (v & 0xf) * 4;
			break;
		case BPF_LD | BPF_MEM: A = M[f->k]; break;
		case BPF_LD | BPF_IMM: A = f->k; break;
		case BPF_ST: M[f->k] = A; break;
		case BPF_ALU | BPF_AND | BPF_K: A &= f->k; break;
		case BPF_JMP | BPF_JA: pc += f->k; break;
		case BPF_JMP | BPF_JEQ | BPF_K: pc += A == f->k ? f->jt : f->jf; break;
		case BPF_JMP | BPF_JGE | BPF_K: pc += A >= f->k ? f->jt : f->jf; break;
		case BPF_JMP | BPF_JGT | BPF_K: pc += A > f->k ? f->jt : f->jf; break;
		case BPF_JMP | BPF_JSET | BPF_K: pc += A & f->k ? f->jt : f->jf; break;
		case BPF_RET | BPF_K: return f->k;
		default:
			fail_msg("instruction 0x%x not interpreted", f->code);
		}
	}
	fail_msg("fell off the end");
	return 0;
}

#include "sfrand.h"

static void test_random_against_lookup(void **state)
{
	char yaml[4096];
	int i, k, s = socket(AF_INET, SOCK_DGRAM, 0), checked = 0;

	(void)state;
	assert_true(s >= 0);
	for (i = 0; i < 400; i++) {
		struct cg_policy *p = random_policy(yaml, sizeof(yaml));
		struct cg_compiled c = {};
		struct sock_fprog prog;
		char err[CG_ERR_MAX];

		if (cg_policy_compile(p, &c, err, sizeof(err))) {
			cg_policy_free(p);	/* e.g. too many ranges */
			continue;
		}
		assert_int_equal(cgg_classic_compile_policy(p, &prog), 0);
		if (setsockopt(s, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog))) {
			for (k = 0; getenv("CGG_DUMP") && k < prog.len; k++)
				printf("%d %04x %u %u %u\n", k, prog.filter[k].code,
				       prog.filter[k].jt, prog.filter[k].jf,
				       prog.filter[k].k);
			fail_msg("kernel refused the program (%s):\n%s",
				 strerror(errno), yaml);
		}
		for (k = 0; k < 200; k++) {
			struct cg_verdict v;
			struct cg_query q;
			struct pkt pk;
			uint32_t got;

			random_packet(&pk, &q, 0);
			assert_int_equal(cg_lookup(&c, p, &q, &v), 0);
			got = run(&prog, &pk);
			if ((got != 0) != (v.action == CG_ACT_ALLOW))
				fail_msg("policy:\n%spacket eth %04x proto %u port %u "
					 "unparsed %u: classic %s, lookup %s", yaml,
					 pk.eth, q.proto, q.port, q.unparsed,
					 got ? "keep" : "drop", v.action ==
					 CG_ACT_ALLOW ? "allow" : "deny");
			checked++;
		}
		free(prog.filter);
		cg_compiled_free(&c);
		cg_policy_free(p);
	}
	close(s);
	assert_true(checked > 40000);
}

static void test_audit_refused(void **state)
{
	static const char y[] = "policy: a\nmode: audit\ningress: { default: deny }\n";
	struct cg_policy *p = NULL;
	struct sock_fprog prog;
	char err[CG_ERR_MAX];

	(void)state;
	assert_int_equal(cg_policy_parse_buf("a", y, sizeof(y) - 1, &p, err,
					     sizeof(err)), 0);
	assert_int_equal(cgg_classic_compile_policy(p, &prog), -EOPNOTSUPP);
	cg_policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_against_lookup),
		cmocka_unit_test(test_audit_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
