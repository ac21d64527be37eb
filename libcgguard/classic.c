// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The opt-in path without a daemon: a policy's ingress rules compiled to
 * classic BPF (SO_ATTACH_FILTER), from the same compiled entries as the
 * packet layer and the daemon's socket filters.  The compiler has already
 * folded every rule into per-prefix entries ("most specific rule wins"),
 * so testing the entries longest prefix first and taking the first that
 * contains the source address is the LPM lookup; each entry's port ranges
 * are then tried in order, as judge() does.
 *
 * Classic BPF cannot walk IPv6 extension headers: such packets are judged
 * as unparsed (dropped when the default is deny, else by address with
 * protocol and port 0).  It has no counters, and no audit mode.
 *
 * Scratch memory: M[0] protocol (ICMPv6 as ICMP), M[1] local port,
 * M[2] IPv4 source, M[3] 1 if the L4 header was parsed, M[4..7] IPv6
 * source.  Loads at SKF_NET_OFF + n read the network header whatever
 * skb->data is (the transport header on TCP and UDP sockets).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "cgguard.h"
#include "internal.h"
#include "../policy/compile.h"

#define KEEP	0xffffffffu
#define DROP	0u
#define NET(off) ((uint32_t)(SKF_NET_OFF + (off)))
enum { M_PROTO, M_PORT, M_SRC4, M_PARSED, M_SRC6 };

struct cb {
	struct sock_filter *f;
	size_t n, cap;
	struct { size_t at; int label; } *fix;
	size_t nfix;
	size_t label[8];
	int err;
};

enum { L_V4, L_V6, L_ADDR4, L_UNP6, L_ADDR6, L_E4, L_E6, L_MAX };

static void op(struct cb *b, uint16_t code, uint8_t jt, uint8_t jf, uint32_t k)
{
	struct sock_filter *t;

	if (b->err)
		return;
	if (b->n == b->cap) {
		t = realloc(b->f, (b->cap = b->cap ? 2 * b->cap : 256) * sizeof(*t));
		if (!t) {
			b->err = -ENOMEM;
			return;
		}
		b->f = t;
	}
	b->f[b->n++] = (struct sock_filter){ code, jt, jf, k };
}

#define LD(k)		op(b, BPF_LD | BPF_W | BPF_ABS, 0, 0, k)
#define LDH(k)		op(b, BPF_LD | BPF_H | BPF_ABS, 0, 0, k)
#define LDB(k)		op(b, BPF_LD | BPF_B | BPF_ABS, 0, 0, k)
#define LDM(m)		op(b, BPF_LD | BPF_MEM, 0, 0, m)
#define LDI(k)		op(b, BPF_LD | BPF_IMM, 0, 0, k)
#define ST(m)		op(b, BPF_ST, 0, 0, m)
#define JEQ(k, t, f)	op(b, BPF_JMP | BPF_JEQ | BPF_K, t, f, k)
#define RET(k)		op(b, BPF_RET | BPF_K, 0, 0, k)

/* An unconditional jump to a label further down (32-bit offset). */
static void jump(struct cb *b, int label)
{
	void *t = realloc(b->fix, (b->nfix + 1) * sizeof(*b->fix));

	if (!t) {
		b->err = -ENOMEM;
		return;
	}
	b->fix = t;
	b->fix[b->nfix].at = b->n;
	b->fix[b->nfix++].label = label;
	op(b, BPF_JMP | BPF_JA, 0, 0, 0);
}

/* Continue only if A == k, else jump to the next entry (*next). */
static void need_eq(struct cb *b, uint32_t k, size_t *next, size_t *nnext)
{
	JEQ(k, 1, 0);
	next[(*nnext)++] = b->n;
	op(b, BPF_JMP | BPF_JA, 0, 0, 0);
}

static void dispatch(struct cb *b)
{
	int m;

	/* The kernel's checker (check_load_and_stores) carries what was
	 * stored across a RET into the code after it, so a cell read after
	 * one family's block must be stored on every path: zero them all. */
	LDI(0);
	for (m = M_PROTO; m < M_SRC6 + 4; m++)
		ST(m);
	LDH(SKF_AD_OFF + SKF_AD_PROTOCOL);	/* skb->protocol, host order */
	JEQ(0x0800, 0, 1);
	jump(b, L_V4);
	JEQ(0x86dd, 0, 1);
	jump(b, L_V6);
	RET(KEEP);				/* not IP: not ours to judge */
}

static void prelude_v4(struct cb *b)
{
	b->label[L_V4] = b->n;
	LDB(NET(9));
	ST(M_PROTO);
	LDI(0);
	ST(M_PORT);
	LDI(1);
	ST(M_PARSED);
	LDH(NET(6));
	op(b, BPF_JMP | BPF_JSET | BPF_K, 0, 3, 0x1fff);
	LDI(0);					/* non-first fragment */
	ST(M_PARSED);
	jump(b, L_ADDR4);
	LDM(M_PROTO);
	JEQ(IPPROTO_TCP, 1, 0);
	JEQ(IPPROTO_UDP, 0, 3);
	op(b, BPF_LDX | BPF_B | BPF_MSH, 0, 0, NET(0));	/* X = IHL * 4 */
	op(b, BPF_LD | BPF_H | BPF_IND, 0, 0, NET(2));	/* dest port */
	ST(M_PORT);
	b->label[L_ADDR4] = b->n;
	LD(NET(12));
	ST(M_SRC4);
	jump(b, L_E4);
}

static void prelude_v6(struct cb *b)
{
	static const uint8_t ext[] = { 0, 43, 44, 51, 60 };
	size_t i;

	b->label[L_V6] = b->n;
	LDI(0);
	ST(M_PORT);
	LDI(1);
	ST(M_PARSED);
	LDB(NET(6));
	for (i = 0; i < sizeof(ext); i++) {
		JEQ(ext[i], 0, 1);
		jump(b, L_UNP6);
	}
	JEQ(IPPROTO_ICMPV6, 0, 1);
	LDI(IPPROTO_ICMP);			/* rules say icmp for both */
	ST(M_PROTO);
	JEQ(IPPROTO_TCP, 1, 0);
	JEQ(IPPROTO_UDP, 0, 2);
	LDH(NET(40 + 2));
	ST(M_PORT);
	jump(b, L_ADDR6);
	b->label[L_UNP6] = b->n;		/* extension headers */
	LDI(0);
	ST(M_PARSED);
	ST(M_PROTO);
	b->label[L_ADDR6] = b->n;
	for (i = 0; i < 4; i++) {
		LD(NET(8 + 4 * i));
		ST(M_SRC6 + i);
	}
	/* ::ffff:a.b.c.d is judged as IPv4 */
	LDM(M_SRC6);
	JEQ(0, 0, 7);
	LDM(M_SRC6 + 1);
	JEQ(0, 0, 5);
	LDM(M_SRC6 + 2);
	JEQ(0xffff, 0, 3);
	LDM(M_SRC6 + 3);
	ST(M_SRC4);
	jump(b, L_E4);
	jump(b, L_E6);
}

static void range(struct cb *b, uint8_t proto, uint16_t lo, uint16_t hi,
		  uint8_t action)
{
	LDM(M_PROTO);
	JEQ(proto, 0, 4);
	LDM(M_PORT);
	op(b, BPF_JMP | BPF_JGE | BPF_K, 0, 2, lo);
	op(b, BPF_JMP | BPF_JGT | BPF_K, 1, 0, hi);
	RET(action == CG_ACT_ALLOW_V ? KEEP : DROP);
}

/* judge(): the entry's ranges (inline, or its port table: segments sorted
 * by table, none overlapping) in order, then its own action. */
static void body(struct cb *b, const struct cg_compiled *c,
		 const struct cg_lpm_val *v)
{
	size_t i, lo = 0, hi = c->nseg;

	if (v->flags & CG_F_DEFAULT_DENY) {	/* unparsed follow a deny */
		LDM(M_PARSED);
		JEQ(0, 0, 1);
		RET(DROP);
	}
	if (v->nranges == CG_RANGES_IN_TABLE) {
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (c->seg[mid].table < v->table)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (i = lo; i < c->nseg && c->seg[i].table == v->table &&
		     !b->err; i++)
			range(b, c->seg[i].proto, c->seg[i].lo, c->seg[i].hi,
			      c->seg[i].action);
	}
	for (i = 0; v->nranges != CG_RANGES_IN_TABLE && i < v->nranges &&
	     i < CG_MAX_RANGES; i++)
		range(b, v->r[i].proto, v->r[i].lo, v->r[i].hi, v->r[i].action);
	RET(v->action == CG_ACT_ALLOW_V ? KEEP : DROP);
}

static void entry(struct cb *b, const struct cg_compiled *c,
		  const struct cg_entry *e)
{
	int plen = e->key.prefixlen - CG_LPM_HDR_BITS, w, bits;
	size_t next[4], nnext = 0, i;
	uint32_t word, mask;

	if (e->val.nranges > CG_MAX_RANGES) {	/* CG_RANGES_IN_TABLE */
		b->err = -E2BIG;
		return;
	}
	for (w = 0; w < (e->key.family == CG_FAM_V4 ? 1 : 4); w++) {
		bits = plen - 32 * w;
		if (bits <= 0)
			break;
		mask = bits >= 32 ? 0xffffffffu : ~(0xffffffffu >> bits);
		memcpy(&word, e->key.addr + 4 * w, 4);
		LDM(e->key.family == CG_FAM_V4 ? M_SRC4 : M_SRC6 + w);
		if (mask != 0xffffffffu)
			op(b, BPF_ALU | BPF_AND | BPF_K, 0, 0, mask);
		need_eq(b, ntohl(word) & mask, next, &nnext);
	}
	body(b, c, &e->val);
	for (i = 0; i < nnext && !b->err; i++)
		b->f[next[i]].k = b->n - next[i] - 1;
}

static int by_prefix_desc(const void *a, const void *b)
{
	const struct cg_entry *x = a, *y = b;

	return (int)y->key.prefixlen - (int)x->key.prefixlen;
}

static int emit(struct cb *b, struct cg_compiled *c)
{
	static const int fam[2] = { CG_FAM_V4, CG_FAM_V6 };
	size_t i;
	int f;

	qsort(c->e, c->n, sizeof(*c->e), by_prefix_desc);
	dispatch(b);
	prelude_v4(b);
	prelude_v6(b);
	for (f = 0; f < 2; f++) {
		b->label[f ? L_E6 : L_E4] = b->n;
		for (i = 0; i < c->n; i++)
			if (c->e[i].key.dir == CG_DIR_INGRESS_V &&
			    c->e[i].key.family == fam[f])
				entry(b, c, &c->e[i]);
		RET(DROP);	/* unreachable: every family has a /0 entry */
	}
	for (i = 0; i < b->nfix && !b->err; i++)
		b->f[b->fix[i].at].k = b->label[b->fix[i].label] -
				       b->fix[i].at - 1;
	return b->err;
}

int cgg_classic_compile_policy(const struct cg_policy *p,
			       struct sock_fprog *prog)
{
	struct cg_compiled c = {};
	struct cb b = {};
	char err[CG_ERR_MAX];
	int ret;

	if (p->mode == CG_MODE_AUDIT)
		return cgg_fail(-EOPNOTSUPP, "policy %s is in audit mode, which "
				"needs counters: classic filters have none (use "
				"the daemon)", p->name);
	ret = cg_policy_compile(p, &c, err, sizeof(err));
	if (ret)
		return cgg_fail(ret, "%s", err);
	ret = emit(&b, &c);
	cg_compiled_free(&c);
	free(b.fix);
	if (ret == -E2BIG)
		ret = cgg_fail(ret, "policy %s has a source prefix with more "
			       "than %d port ranges: too many for a classic "
			       "filter (use the daemon's)", p->name,
			       CG_MAX_RANGES);
	if (!ret && b.n > BPF_MAXINSNS)
		ret = cgg_fail(-E2BIG, "policy %s needs %zu classic BPF "
			       "instructions, more than the kernel's %d (use the "
			       "daemon's filters)", p->name, b.n, BPF_MAXINSNS);
	if (ret) {
		free(b.f);
		return ret;
	}
	prog->len = b.n;
	prog->filter = b.f;
	return 0;
}

int cgg_classic_compile(const char *policy, struct sock_fprog *prog)
{
	struct cg_policy *p = NULL;
	char err[CG_ERR_MAX];
	int ret;

	ret = cg_policy_load(policy, &p, err, sizeof(err));
	if (ret)
		return cgg_fail(ret, "%s", err);
	ret = cgg_classic_compile_policy(p, prog);
	cg_policy_free(p);
	return ret;
}

static int sock_is_tcp(int fd)
{
	int proto = 0;
	socklen_t len = sizeof(proto);

	return !getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) &&
	       proto == IPPROTO_TCP;
}

int cgg_classic_attach(int sockfd, const char *policy)
{
	struct sock_fprog prog;
	int err = cgg_classic_compile(policy, &prog);

	if (err)
		return err;
	if (setsockopt(sockfd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)))
		err = cgg_fail(-errno, "SO_ATTACH_FILTER: %s%s", strerror(errno),
			       errno != EPERM ? "" : sock_is_tcp(sockfd) ?
			       " (this kernel requires CAP_NET_ADMIN for "
			       "classic filters on TCP sockets, or the filter "
			       "is locked)" : " (the socket's filter is locked "
			       "already)");
	free(prog.filter);
	return err ? err : cgg_lock(sockfd);
}

int cgguard_classic_tcp_probe(void)
{
	struct sock_filter keep = { BPF_RET | BPF_K, 0, 0, KEEP };
	struct sock_fprog prog = { 1, &keep };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return cgg_fail(-errno, "socket: %s", strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)))
		err = cgg_fail(-errno, "classic filter on a TCP socket: %s%s",
			       strerror(errno), errno == EPERM ? " (this "
			       "kernel requires CAP_NET_ADMIN)" : "");
	close(fd);
	return err;
}
