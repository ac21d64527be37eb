// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit test of the nft backend's compiler (netfilter-compat/script.c):
 * random policies are turned into nft scripts, a small interpreter runs
 * the scripts' maps and chains on random packets, and every verdict is
 * compared with a brute-force evaluation of the policy's semantics (most
 * specific matching rule wins, ties deny, else the default).  The kernel
 * tests (integration/nft.sh, nft_diff.sh) check that nft really does what
 * the script says; this one checks the script on far more packets.
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
#include <cmocka.h>
#include "policy.h"
#include "../netfilter-compat/nft.h"

typedef unsigned __int128 u128;

/* ---- interpreter of the script subset script.c writes -------------------- */

struct irule { int proto; int nport; uint32_t lo[64], hi[64]; int drop; };
struct ichain { char name[96]; int n; struct irule r[32]; };
struct ielem { u128 lo, hi; char to[96]; };
struct imap { char name[96]; int n, cap; struct ielem *e; };
struct script {
	struct ichain *c; int nc;
	struct imap m[8]; int nm;
	char dflt[2][2][96];	/* [dir][v6] class chain of the /0 entry */
};

static u128 parse_addr(const char *s, int *v6)
{
	uint8_t b[16];
	u128 a = 0;
	int i, n;

	*v6 = strchr(s, ':') != NULL;
	assert_int_equal(inet_pton(*v6 ? AF_INET6 : AF_INET, s, b), 1);
	n = *v6 ? 16 : 4;
	for (i = 0; i < n; i++)
		a = (a << 8) | b[i];
	return a;
}

static void parse_ports(const char *p, struct irule *r)
{
	while (*p && *p != '}') {
		char *end;
		unsigned long lo = strtoul(p, &end, 10), hi = lo;

		if (*end == '-')
			hi = strtoul(end + 1, &end, 10);
		r->lo[r->nport] = lo;
		r->hi[r->nport++] = hi;
		p = end + strspn(end, ", ");
	}
}

static void parse_rule(const char *l, struct ichain *c)
{
	struct irule *r = &c->r[c->n++];
	const char *p;

	memset(r, 0, sizeof(*r));
	r->drop = strstr(l, "counter drop") != NULL;
	if (strstr(l, "{ icmp, ipv6-icmp }"))
		r->proto = 1;
	else if ((p = strstr(l, "meta l4proto tcp th dport { ")))
		r->proto = 6, parse_ports(p + 28, r);
	else if ((p = strstr(l, "meta l4proto udp th dport { ")))
		r->proto = 17, parse_ports(p + 28, r);
}

static void parse_script(char *buf, struct script *s)
{
	char *l, *save = NULL, name[96];
	struct ichain *cur = NULL;
	struct imap *map = NULL;
	int dir = 0;

	memset(s, 0, sizeof(*s));
	s->c = calloc(4096, sizeof(*s->c));
	for (l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char lo[64], hi[64], *dash;
		int v6;

		if (sscanf(l, "\tchain %95s {", name) == 1) {
			size_t n = strlen(name);

			cur = NULL;
			if (name[n - 1] == 'o' || name[n - 1] == 'i') {
				dir = name[n - 1] == 'i';	/* direction chain */
				continue;
			}
			cur = &s->c[s->nc++];
			snprintf(cur->name, sizeof(cur->name), "%s", name);
		} else if (sscanf(l, "\tmap %95s {", name) == 1) {
			map = &s->m[s->nm++];
			snprintf(map->name, sizeof(map->name), "%s", name);
		} else if (map && sscanf(l, " %63s : goto %95s", lo, name) == 2) {
			if (map->n == map->cap) {
				map->cap = map->cap ? 2 * map->cap : 64;
				map->e = realloc(map->e, map->cap * sizeof(*map->e));
			}
			lo[strcspn(lo, ",")] = '\0';
			name[strcspn(name, ",")] = '\0';
			dash = strchr(lo, '-');
			snprintf(hi, sizeof(hi), "%s", dash ? dash + 1 : lo);
			if (dash)
				*dash = '\0';
			map->e[map->n].lo = parse_addr(lo, &v6);
			map->e[map->n].hi = parse_addr(hi, &v6);
			snprintf(map->e[map->n++].to, 96, "%s", name);
		} else if (strstr(l, "\t}") == l) {
			map = NULL;
		} else if (sscanf(l, "\t\tmeta nfproto ipv%d goto %95s", &v6, name) == 2) {
			snprintf(s->dflt[dir][v6 == 6], 96, "%s", name);
		} else if (cur && strstr(l, "counter ")) {
			parse_rule(l, cur);
		}
	}
}

static int run_chain(const struct script *s, const char *name, int proto,
		     int port)
{
	int i, k, j;

	for (i = 0; i < s->nc; i++) {
		const struct ichain *c = &s->c[i];

		if (strcmp(c->name, name))
			continue;
		for (k = 0; k < c->n; k++) {
			const struct irule *r = &c->r[k];
			int hit = !r->proto;

			if (r->proto == 1)
				hit = proto == 1;
			else if (r->proto)
				for (j = 0; j < r->nport && !hit; j++)
					hit = proto == r->proto &&
					      port >= (int)r->lo[j] &&
					      port <= (int)r->hi[j];
			if (hit)
				return r->drop;
		}
		fail_msg("chain %s ends without a verdict", name);
	}
	fail_msg("no chain %s", name);
	return -1;
}

/* 1: drop. */
static int run_script(const struct script *s, int dir, int v6, u128 a,
		      int proto, int port)
{
	char want[8];
	int i, k;

	snprintf(want, sizeof(want), "%c%c", dir ? 'i' : 'o', v6 ? '6' : '4');
	for (i = 0; i < s->nm; i++) {
		size_t n = strlen(s->m[i].name);

		if (strcmp(s->m[i].name + n - 2, want))
			continue;
		for (k = 0; k < s->m[i].n; k++)
			if (a >= s->m[i].e[k].lo && a <= s->m[i].e[k].hi)
				return run_chain(s, s->m[i].e[k].to, proto, port);
	}
	return run_chain(s, s->dflt[dir][v6], proto, port);
}

/* ---- the semantics, by brute force --------------------------------------- */

static int contains(const struct cg_rule *r, u128 a, int v6)
{
	int bits = v6 ? 128 : 32, i;
	u128 net = 0;

	for (i = 0; i < bits / 8; i++)
		net = (net << 8) | r->addr[i];
	if (!r->prefixlen)
		return 1;
	return ((net ^ a) >> (bits - r->prefixlen)) == 0;
}

static int brute(const struct cg_policy *p, int dir, int v6, u128 a,
		 int proto, int port)
{
	const struct cg_direction *d = &p->dir[dir];
	int best = -1, act = d->default_action;
	size_t i;
	uint32_t k;

	for (i = 0; i < d->nrules; i++) {
		const struct cg_rule *r = &d->rules[i];
		int pm = !r->nports;

		if (r->family != (v6 ? AF_INET6 : AF_INET) || !contains(r, a, v6))
			continue;
		if (r->proto != CG_PROTO_ANY && r->proto != proto)
			continue;
		for (k = 0; k < r->nports && !pm; k++)
			pm = port >= r->ports[k].lo && port <= r->ports[k].hi;
		if (!pm)
			continue;
		if (r->prefixlen > best) {
			best = r->prefixlen;
			act = r->action;
		} else if (r->prefixlen == best && r->action == CG_ACT_DENY) {
			act = CG_ACT_DENY;
		}
	}
	return act == CG_ACT_DENY;
}

/* ---- random policies and packets ------------------------------------------- */

static uint64_t rng = 88172645463325252ULL;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

/* Addresses near a few bases, so prefixes nest and overlap. */
static u128 rand_addr(int v6)
{
	static const u128 base4[] = { 0x0ad20000, 0x0ad2ff00, 0xa9fea9fe, 0 };
	u128 b = v6 ? ((u128)0xfd100210ULL << 96) : base4[rnd(4)];

	if (v6 && rnd(4) == 0)
		b |= (u128)rnd(65536) << 64;
	return b + rnd(rnd(2) ? 16 : 65536);
}

static void print_addr(char *buf, size_t len, u128 a, int v6)
{
	uint8_t b[16];
	int i, n = v6 ? 16 : 4;

	for (i = n - 1; i >= 0; i--, a >>= 8)
		b[i] = (uint8_t)a;
	inet_ntop(v6 ? AF_INET6 : AF_INET, b, buf, len);
}

static char *rand_policy(int nrules)
{
	static const char *const protos[] = { "any", "tcp", "udp", "icmp" };
	char *buf = NULL, a[64];
	size_t len = 0;
	FILE *o = open_memstream(&buf, &len);
	int dir, i, v6, plen, bits, k;
	u128 x;

	fprintf(o, "policy: unit\n");
	for (dir = 0; dir < 2; dir++) {
		fprintf(o, "%s:\n  default: %s\n  rules:\n",
			dir ? "ingress" : "egress", rnd(2) ? "allow" : "deny");
		for (i = 0; i < nrules; i++) {
			const char *pr = protos[rnd(4)];

			v6 = rnd(3) == 0;
			bits = v6 ? 128 : 32;
			plen = rnd(5) == 0 ? 0 : bits - (int)rnd(v6 ? 24 : 20);
			x = rand_addr(v6);
			if (plen < bits)
				x = plen ? x >> (bits - plen) << (bits - plen) : 0;
			print_addr(a, sizeof(a), x, v6);
			fprintf(o, "    - { action: %s, %s: \"%s/%d\", proto: %s",
				rnd(2) ? "allow" : "deny", dir ? "from" : "to",
				a, plen, pr);
			if ((!strcmp(pr, "tcp") || !strcmp(pr, "udp")) && rnd(2)) {
				k = 1000 + (int)rnd(20);
				fprintf(o, ", ports: [%d, \"%d-%d\"]", k, k + 5,
					k + 5 + (int)rnd(30));
			}
			fprintf(o, " }\n");
		}
	}
	fclose(o);
	return buf;
}

/* Often an edge of one of the policy's prefixes: first, last, or just
 * outside; else a random address near the bases. */
static u128 pick_addr(const struct cg_policy *p, int dir, int v6)
{
	const struct cg_direction *d = &p->dir[dir];
	const struct cg_rule *r;
	int bits = v6 ? 128 : 32, i;
	u128 net = 0, last;

	if (!d->nrules || rnd(3) == 0)
		return rand_addr(v6);
	r = &d->rules[rnd(d->nrules)];
	if (r->family != (v6 ? AF_INET6 : AF_INET))
		return rand_addr(v6);
	for (i = 0; i < bits / 8; i++)
		net = (net << 8) | r->addr[i];
	last = r->prefixlen == 0 ? (v6 ? ~(u128)0 : 0xffffffff) :
	       net | (((u128)1 << (bits - r->prefixlen)) - 1);
	switch (rnd(4)) {
	case 0: return net;
	case 1: return last;
	case 2: return net ? net - 1 : net;
	default: return last == (v6 ? ~(u128)0 : 0xffffffff) ? last : last + 1;
	}
}

static void check_one(const char *yaml, int npkts)
{
	static const int protos[] = { 6, 17, 1, 47 };
	struct cg_nft_target t = { .cgid = 42, .level = 2, .rel = "/a/b",
				   .nftpath = "unified/a/b" };
	struct cg_policy *p = NULL;
	struct script s;
	char err[CG_ERR_MAX], *buf = NULL;
	size_t len = 0;
	int i, ret;
	FILE *o;

	ret = cg_policy_parse_buf("unit.yaml", yaml, strlen(yaml), &p, err,
				  sizeof(err));
	assert_int_equal(ret, 0);
	o = open_memstream(&buf, &len);
	ret = cg_nft_script(o, p, &t, 1, NULL);
	fclose(o);
	if (ret) {		/* more port ranges than the compiler keeps */
		free(buf);
		cg_policy_free(p);
		return;
	}
	parse_script(buf, &s);
	for (i = 0; i < npkts; i++) {
		int dir = rnd(2), v6 = rnd(3) == 0, proto = protos[rnd(4)];
		int port = proto == 6 || proto == 17 ? 995 + (int)rnd(70) : 0;
		u128 a = pick_addr(p, dir, v6);
		int want = brute(p, dir, v6, a, proto == 47 ? 255 : proto, port);
		int got = run_script(&s, dir, v6, a, proto, port);

		if (want != got) {
			char as[64];

			print_addr(as, sizeof(as), a, v6);
			fail_msg("%s\n%s: dir %d %s proto %d port %d: script %s, "
				 "policy %s", yaml, buf, dir, as, proto, port,
				 got ? "drops" : "passes", want ? "drops" : "passes");
		}
	}
	for (i = 0; i < s.nm; i++)
		free(s.m[i].e);
	free(s.c);
	free(buf);
	cg_policy_free(p);
}

static void test_random_policies(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 400; i++) {
		char *y = rand_policy(1 + rnd(12));

		check_one(y, 400);
		free(y);
	}
}

static void test_fixed(void **state)
{
	(void)state;
	check_one("policy: f\negress:\n  default: deny\n  rules:\n"
		  "    - { action: allow, to: 10.0.0.0/8 }\n"
		  "    - { action: deny, to: 10.210.0.0/16, proto: tcp, ports: [1000] }\n"
		  "    - { action: allow, to: 10.210.0.5/32, proto: tcp }\n"
		  "    - { action: deny, to: \"::/0\", proto: udp }\n"
		  "ingress:\n  default: allow\n", 20000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixed),
		cmocka_unit_test(test_random_policies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
