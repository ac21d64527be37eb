// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests of the sandbox plan (sandbox/plan.c): how a policy maps onto
 * Landlock's per-port TCP allow-lists and the seccomp filter, and what the
 * plan admits it cannot enforce.  No kernel needed.
 *
 * The randomized test checks the one property the sandbox's honesty rests
 * on: a port the plan calls allowed (or denied) for every address is
 * allowed (denied) for every address the oracle tries; it may call a port
 * mixed when it is not, never the other way round.  CG_TEST_SEED replays.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <cmocka.h>

#include "policy.h"
#include "../sandbox/sandbox.h"

static struct cg_policy *parse(const char *yaml)
{
	struct cg_policy *p = NULL;
	char err[CG_ERR_MAX] = "";
	int rc = cg_policy_parse_buf("test.yaml", yaml, strlen(yaml), &p, err,
				     sizeof(err));

	if (rc)
		fail_msg("parse: %s", err);
	return p;
}

static struct sb_plan *plan_of(const char *yaml, unsigned flags)
{
	struct sb_plan *pl = calloc(1, sizeof(*pl));
	struct cg_policy *p = parse(yaml);

	assert_non_null(pl);
	assert_int_equal(sb_plan_build(p, flags, pl), 0);
	cg_policy_free(p);
	return pl;
}

static int has_item(const struct sb_plan *pl, enum sb_status st,
		    const char *needle)
{
	size_t i;

	for (i = 0; i < pl->nitems; i++)
		if (pl->items[i].status == st && strstr(pl->items[i].what, needle))
			return 1;
	return 0;
}

static void test_baseline(void **state)
{
	struct cg_policy *p = NULL;
	struct sb_plan *pl = calloc(1, sizeof(*pl));
	char err[CG_ERR_MAX];

	(void)state;
	assert_int_equal(cg_policy_load("baseline", &p, err, sizeof(err)), 0);
	assert_int_equal(sb_plan_build(p, 0, pl), 0);
	/* Only addresses are denied: every port is mixed, so Landlock is
	 * not used for connect, and the plan says so. */
	assert_int_equal(pl->ll_connect, 0);
	assert_int_equal(pl->n_mixed, SB_PORTS);
	assert_true(has_item(pl, SB_LOOSER, "ports 0-65535"));
	assert_true(has_item(pl, SB_NOT_ENFORCED, "169.254.169.254/32"));
	assert_int_equal(pl->sc_raw, 1);
	assert_int_equal(pl->sc_families, 1ULL << AF_PACKET);
	assert_int_equal(pl->ll_bind, 0);
	cg_policy_free(p);
	free(pl);
}

static void test_ports_everywhere(void **state)
{
	struct sb_plan *pl = plan_of(
		"policy: t\negress:\n  default: deny\n  rules:\n"
		"    - { action: allow, to: 0.0.0.0/0, proto: tcp, ports: [443, \"8000-8002\"] }\n"
		"    - { action: allow, to: \"::/0\", proto: tcp, ports: [443, \"8000-8002\"] }\n", 0);
	char buf[64];

	(void)state;
	assert_int_equal(pl->ll_connect, 1);
	assert_int_equal(pl->sc_fastopen, 1);
	assert_int_equal(pl->n_mixed, 0);
	assert_int_equal(pl->n_connect_ok, 4);
	sb_ports_format(pl->connect_ok, buf, sizeof(buf));
	assert_string_equal(buf, "443, 8000-8002");
	assert_true(has_item(pl, SB_ENFORCED, "allowed to ports 443, 8000-8002 only"));
	/* default deny also covers udp: not Landlock's */
	assert_true(has_item(pl, SB_NOT_ENFORCED, "udp"));
	free(pl);
}

static void test_one_family_is_mixed(void **state)
{
	/* IPv6 falls to the default (deny): 443 depends on the address. */
	struct sb_plan *pl = plan_of(
		"policy: t\negress:\n  default: deny\n  rules:\n"
		"    - { action: allow, to: 0.0.0.0/0, proto: tcp, ports: [443] }\n", 0);

	(void)state;
	assert_int_equal(pl->n_mixed, 1);
	assert_true(sb_port_ok(pl->connect_ok, 443));
	assert_int_equal(pl->n_connect_ok, 1);
	assert_true(has_item(pl, SB_LOOSER, "ports 443"));
	free(pl);
	pl = plan_of("policy: t\negress:\n  default: deny\n  rules:\n"
		     "    - { action: allow, to: 0.0.0.0/0, proto: tcp, ports: [443] }\n",
		     SB_DENY_MIXED);
	assert_false(sb_port_ok(pl->connect_ok, 443));
	assert_int_equal(pl->n_connect_ok, 0);
	assert_true(has_item(pl, SB_TIGHTER, "ports 443"));
	free(pl);
}

static void test_tie_and_proto(void **state)
{
	/* At /0 deny wins a tie; udp rules never touch tcp ports. */
	struct sb_plan *pl = plan_of(
		"policy: t\negress:\n  default: allow\n  rules:\n"
		"    - { action: allow, to: 0.0.0.0/0, proto: tcp, ports: [80] }\n"
		"    - { action: deny, to: 0.0.0.0/0, proto: tcp, ports: [80] }\n"
		"    - { action: deny, to: \"::/0\" }\n"
		"    - { action: deny, to: 0.0.0.0/0, proto: udp, ports: [53] }\n", 0);

	(void)state;
	/* v4: port 80 denied, others default allow; v6: all denied. */
	assert_int_equal(pl->ll_connect, 1);
	assert_false(sb_port_ok(pl->connect_ok, 80));
	assert_true(sb_port_ok(pl->connect_ok, 53));	/* mixed, allowed */
	assert_int_equal(pl->n_mixed, SB_PORTS - 1);
	free(pl);
}

static void test_bind_and_audit(void **state)
{
	struct sb_plan *pl = plan_of(
		"policy: t\nsockets:\n  bind: { default: allow, deny: [\"1-1023\"], allow: [80, 2000] }\n", 0);

	(void)state;
	assert_int_equal(pl->ll_bind, 1);
	assert_true(sb_port_ok(pl->bind_ok, 0));	/* ephemeral */
	assert_false(sb_port_ok(pl->bind_ok, 80));	/* deny wins */
	assert_false(sb_port_ok(pl->bind_ok, 1023));
	assert_true(sb_port_ok(pl->bind_ok, 1024));
	assert_true(sb_port_ok(pl->bind_ok, 2000));
	assert_int_equal(pl->n_bind_ok, SB_PORTS - 1023);
	assert_int_equal(pl->ll_connect, 0);
	free(pl);
	pl = plan_of("policy: t\nmode: audit\negress: { default: deny }\n"
		     "sockets: { raw: deny }\n", 0);
	assert_int_equal(pl->audit, 1);
	assert_int_equal(pl->ll_connect + pl->ll_bind + pl->sc_raw, 0);
	assert_true(has_item(pl, SB_NOT_ENFORCED, "audit"));
	free(pl);
}

static void test_fit_without_landlock(void **state)
{
	struct sb_plan *pl = plan_of(
		"policy: t\negress:\n  default: deny\n"
		"sockets: { raw: deny }\n", 0);
	struct sb_kernel k = { .landlock_abi = 3, .seccomp = 1 };
	size_t i;

	(void)state;
	sb_plan_fit(pl, &k);
	assert_int_equal(pl->ll_connect, 0);
	assert_int_equal(pl->sc_fastopen, 0);
	assert_int_equal(pl->sc_raw, 1);
	for (i = 0; i < pl->nitems; i++)
		if (!strcmp(pl->items[i].by, "landlock"))
			assert_int_equal(pl->items[i].status, SB_NOT_ENFORCED);
	assert_true(has_item(pl, SB_NOT_ENFORCED, "Landlock ABI is 3"));
	assert_false(has_item(pl, SB_ENFORCED, "fast open"));
	free(pl);
}

/* ---- randomized soundness ------------------------------------------------ */

static int rule_matches(const struct cg_rule *r, int fam, const uint8_t *a,
			unsigned port)
{
	unsigned bits = r->prefixlen, i, k;

	if ((r->family == AF_INET6) != (fam == AF_INET6))
		return 0;
	if (r->proto != CG_PROTO_TCP && r->proto != CG_PROTO_ANY)
		return 0;
	for (i = 0; i < bits; i++)
		if (((a[i / 8] ^ r->addr[i / 8]) >> (7 - i % 8)) & 1)
			return 0;
	if (!r->nports)
		return 1;
	for (k = 0; k < r->nports; k++)
		if (port >= r->ports[k].lo && port <= r->ports[k].hi)
			return 1;
	return 0;
}

/* The documented semantics: longest prefix, deny on a tie, else default. */
static int oracle(const struct cg_policy *p, int fam, const uint8_t *a,
		  unsigned port)
{
	const struct cg_direction *d = &p->dir[CG_DIR_EGRESS];
	int best = -1, act = d->default_action;
	size_t i;

	for (i = 0; i < d->nrules; i++) {
		const struct cg_rule *r = &d->rules[i];

		if (!rule_matches(r, fam, a, port))
			continue;
		if ((int)r->prefixlen > best ||
		    ((int)r->prefixlen == best && r->action == CG_ACT_DENY)) {
			best = r->prefixlen;
			act = r->action;
		}
	}
	return act;
}

static void random_policy(char *buf, size_t len, unsigned seed)
{
	size_t off = 0;
	int i, n = 1 + rand_r(&seed) % 6;

	off += snprintf(buf + off, len - off, "policy: r\negress:\n  default: %s\n"
			"  rules:\n", rand_r(&seed) % 2 ? "allow" : "deny");
	for (i = 0; i < n; i++) {
		int v6 = rand_r(&seed) % 3 == 0, pl = rand_r(&seed) % 3 ? 8 : 0;
		unsigned lo = 1 + rand_r(&seed) % 20;

		off += snprintf(buf + off, len - off, "    - { action: %s, to: %s, "
				"proto: %s, ports: [\"%u-%u\"] }\n",
				rand_r(&seed) % 2 ? "allow" : "deny",
				v6 ? (pl ? "\"fd00::/8\"" : "\"::/0\"") :
				     (pl ? "10.0.0.0/8" : "0.0.0.0/0"),
				rand_r(&seed) % 2 ? "tcp" : "udp", lo,
				lo + rand_r(&seed) % 10);
	}
}

static void test_random_sound(void **state)
{
	static const char *const addrs[] = { "10.1.2.3", "192.0.2.1",
		"0.0.0.0", "fd00::1", "2001:db8::1", "::" };
	unsigned seed = getenv("CG_TEST_SEED") ? (unsigned)atoi(getenv("CG_TEST_SEED")) :
			(unsigned)time(NULL);
	char yaml[4096];
	int iter;

	(void)state;
	print_message("seed %u\n", seed);
	for (iter = 0; iter < 300; iter++) {
		struct cg_policy *p;
		struct sb_plan *pl = calloc(1, sizeof(*pl));
		unsigned port;
		size_t a;

		random_policy(yaml, sizeof(yaml), seed + iter);
		p = parse(yaml);
		assert_int_equal(sb_plan_build(p, SB_DENY_MIXED, pl), 0);
		for (port = 0; port <= 40; port++) {
			int seen[2] = { 0, 0 };
			uint8_t ab[16];

			for (a = 0; a < sizeof(addrs) / sizeof(addrs[0]); a++) {
				int fam = strchr(addrs[a], ':') ? AF_INET6 : AF_INET;

				inet_pton(fam, addrs[a], ab);
				seen[oracle(p, fam, ab, port)] = 1;
			}
			/* With --deny-mixed, what Landlock lets through is
			 * allowed to every address. */
			if ((!pl->ll_connect || sb_port_ok(pl->connect_ok, port)) &&
			    seen[CG_ACT_DENY])
				fail_msg("seed %u: port %u passes Landlock but "
					 "the policy denies it somewhere:\n%s",
					 seed + iter, port, yaml);
		}
		cg_policy_free(p);
		free(pl);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_baseline),
		cmocka_unit_test(test_ports_everywhere),
		cmocka_unit_test(test_one_family_is_mixed),
		cmocka_unit_test(test_tie_and_proto),
		cmocka_unit_test(test_bind_and_audit),
		cmocka_unit_test(test_fit_without_landlock),
		cmocka_unit_test(test_random_sound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
