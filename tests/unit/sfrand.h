/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Random ingress policies and packets, for the tests that check a socket
 * filter (classic: tests/unit/test_classic.c; eBPF:
 * tests/bpf/test_sockfilter.c) against the packet layer's lookup.  The
 * includer defines struct pkt { uint16_t eth; uint8_t net[64]; size_t
 * len; } and includes policy/lookup.h and cmocka.
 */
#ifndef CGGUARD_TEST_SFRAND_H
#define CGGUARD_TEST_SFRAND_H

static uint64_t rng = 88172645463325252ull;
static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng % n;
}

static const char *const v4[] = { "0.0.0.0/0", "10.0.0.0/8", "10.1.0.0/16",
	"10.1.2.0/24", "10.1.2.3/32", "192.168.0.0/16", "10.1.2.128/25" };
static const char *const v6[] = { "::/0", "fd00::/8", "fd00:1::/32",
	"fd00:1::5/128", "fd00:1:0:0:8000::/65" };
static const char *const protos[] = { "any", "tcp", "udp", "icmp" };
static const char *const ports[] = { "22", "80", "443", "\"1000-2000\"", "53" };

static struct cg_policy *random_policy(char *yaml, size_t len)
{
	struct cg_policy *p = NULL;
	char err[CG_ERR_MAX];
	int n = 1 + rnd(10), i, o;
	const char *proto;

	o = snprintf(yaml, len, "policy: r\ningress:\n  default: %s\n  rules:\n",
		     rnd(2) ? "deny" : "allow");
	for (i = 0; i < n; i++) {
		proto = protos[rnd(4)];
		o += snprintf(yaml + o, len - o, "    - { action: %s, from: \"%s\", "
			      "proto: %s", rnd(2) ? "deny" : "allow",
			      rnd(3) ? v4[rnd(7)] : v6[rnd(5)], proto);
		if (proto[0] == 't' || proto[0] == 'u')
			o += snprintf(yaml + o, len - o, "%s", rnd(2) ?
				      "" : rnd(2) ? ", ports: [80, 443]" :
				      ", ports: [22, \"1000-2000\"]");
		o += snprintf(yaml + o, len - o, " }\n");
	}
	(void)ports;
	if (cg_policy_parse_buf("random", yaml, strlen(yaml), &p, err, sizeof(err)))
		fail_msg("%s\n%s", err, yaml);
	return p;
}

/* Addresses near every rule boundary. */
static const char *const src4[] = { "10.1.2.3", "10.1.2.4", "10.1.2.200",
	"10.1.3.1", "10.2.0.1", "11.0.0.1", "192.168.5.5", "1.2.3.4" };
static const char *const src6[] = { "fd00:1::5", "fd00:1::6", "fd00:2::1",
	"fe80::1", "fd00:1:0:0:8000::1", "2001:db8::1" };

/* One random packet and the query the oracle gets for it. */
static void random_packet(struct pkt *p, struct cg_query *q, int walk_ext)
{
	static const uint8_t l4[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, 47 };
	static const uint16_t dports[] = { 22, 80, 443, 999, 1000, 1500, 2000,
		2001, 53 };
	uint8_t proto = l4[rnd(4)], *ports;
	uint16_t dport = dports[rnd(9)];
	int kind = rnd(4), frag = !rnd(8), ext = kind >= 2 && !rnd(8);

	memset(p, 0, sizeof(*p));
	memset(q, 0, sizeof(*q));
	q->dir = CG_DIR_INGRESS;
	if (kind < 2) {			/* IPv4 */
		p->eth = 0x0800;
		p->net[0] = 0x45;
		p->net[9] = proto;
		if (frag)
			p->net[7] = 8;	/* offset 64: not the first fragment */
		inet_pton(AF_INET, src4[rnd(8)], p->net + 12);
		q->family = AF_INET;
		memcpy(q->addr, p->net + 12, 4);
		ports = p->net + 20;
		p->len = 24;
	} else {			/* IPv6, kind 3: a mapped IPv4 source */
		p->eth = 0x86dd;
		p->net[0] = 0x60;
		if (proto == IPPROTO_ICMP)
			proto = IPPROTO_ICMPV6;
		p->net[6] = ext ? 0 : proto;	/* 0: hop-by-hop first */
		if (ext)
			p->net[40] = proto;	/* its next header */
		if (kind == 3) {
			p->net[18] = p->net[19] = 0xff;
			inet_pton(AF_INET, src4[rnd(8)], p->net + 20);
			q->family = AF_INET;
			memcpy(q->addr, p->net + 20, 4);
		} else {
			inet_pton(AF_INET6, src6[rnd(6)], p->net + 8);
			q->family = AF_INET6;
			memcpy(q->addr, p->net + 8, 16);
		}
		ports = p->net + 40 + (ext ? 8 : 0);
		p->len = 44 + (ext ? 8 : 0);
		frag = 0;
	}
	ports[2] = dport >> 8;
	ports[3] = dport & 0xff;
	/* ICMPv6 is "icmp" to the rules, also from a mapped source (as the
	 * packet layer judges it: protocol first, then the address unmapped) */
	q->proto = proto == IPPROTO_ICMPV6 ? IPPROTO_ICMP : proto;
	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP)
		q->port = frag ? 0 : dport;
	q->unparsed = frag;
	if (ext && !walk_ext) {	/* classic: extension headers are unparsed */
		q->unparsed = 1;
		q->proto = 0;
		q->port = 0;
	}
}

#endif
