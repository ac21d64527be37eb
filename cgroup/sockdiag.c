// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * sock_diag through libnl-3: dump a cgroup tree's TCP/UDP sockets with a
 * BPF socket-storage map's value, and destroy sockets (SOCK_DESTROY).
 *
 * libnl-3 core (nl_sock, nl_msg, attribute helpers, multipart receive)
 * does the netlink work.  libnl-idiag-3 is not used: it builds neither
 * bytecode filters nor INET_DIAG_REQ_SK_BPF_STORAGES requests, parses
 * neither INET_DIAG_CGROUP_ID nor the storage reply, and has no
 * SOCK_DESTROY, so the request structs (linux/inet_diag.h) are filled here.
 *
 * Why sock_diag rather than a BPF socket iterator (iter/tcp, iter/udp)
 * with the bpf_sock_destroy() kfunc: both would work on the 6.18 test
 * hosts (an iter/tcp program loads and runs there), but the iterator
 * needs 6.5+ for the kfunc and a tracing program type, which hardened
 * hosts restrict (fentry, the same program type, is refused with EPERM
 * here), plus one more BPF object to load, pin and keep ABI-compatible;
 * SOCK_DESTROY (4.5+), socket storage in sock_diag (5.2+) and the cgroup
 * bytecode filter (5.9+) are plain netlink; and sock_diag is what `ss`
 * reads, so `cgguard sockets` and `ss --cgroup` agree by construction.
 * An iterator, like a netlink socket, sees the network namespace it was
 * created in, so neither saves the namespace walk.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/sock_diag.h>
#include <linux/inet_diag.h>
#include <netinet/tcp.h>
#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/attr.h>
#include "sockdiag.h"
#include "cgtree.h"
#include "../lib/err.h"

/* The kernel-side filter: one CGROUP_COND + JMP pair (16 bytes) per id;
 * the bytecode attribute and its u16 jump offsets end at 64 KiB.  Larger
 * trees are filtered here only, by the id each socket reports. */
#define BC_MAX_IDS	2048

#ifndef TCP_NEW_SYN_RECV
#define TCP_NEW_SYN_RECV 12
#endif

struct cg_sockscan {
	struct cg_tree tree;
	struct nl_sock **nl;	/* one per namespace, opened on first use */
	void *bc;		/* bytecode, NULL when the tree is too big */
	size_t bclen;
};

size_t cg_sockscan_ncgroups(const struct cg_sockscan *s)
{
	return s->tree.nids;
}

size_t cg_sockscan_nnetns(const struct cg_sockscan *s)
{
	return s->tree.nns;
}

/*
 * "Socket cgroup is any of ids[]": per id, CGROUP_COND (match: fall into
 * the JMP; no match: skip it) then JMP to the end (accept).  The last
 * COND jumps past the end on a miss (reject).  Every jump target lies on
 * the chain of 'yes' offsets, as the kernel's bytecode audit requires.
 */
static int build_bytecode(struct cg_sockscan *s)
{
	struct cond { struct inet_diag_bc_op op; uint64_t id; }
		__attribute__((packed));
	size_t n = s->tree.nids, i, blk = sizeof(struct cond) + 4;
	char *bc;

	if (n > BC_MAX_IDS)
		return 0;
	s->bclen = n * blk;
	bc = s->bc = calloc(1, s->bclen);
	if (!bc)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		struct cond *c = (void *)(bc + i * blk);
		struct inet_diag_bc_op *j = (void *)(c + 1);
		size_t left = s->bclen - i * blk;	/* from this COND on */

		c->op.code = INET_DIAG_BC_CGROUP_COND;
		c->op.yes = sizeof(*c);
		c->op.no = i + 1 < n ? blk : left + 4;
		c->id = s->tree.ids[i];
		j->code = INET_DIAG_BC_JMP;
		j->yes = 4;
		j->no = left - sizeof(*c);
	}
	return 0;
}

int cg_sockscan_open(const char *abs, struct cg_sockscan **out)
{
	struct cg_sockscan *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return -ENOMEM;
	err = cg_tree_scan(abs, &s->tree);
	if (err) {
		free(s);
		return err;
	}
	s->nl = calloc(s->tree.nns, sizeof(*s->nl));
	err = s->nl ? build_bytecode(s) : -ENOMEM;
	if (err) {
		cg_sockscan_close(s);
		return err;
	}
	*out = s;
	return 0;
}

void cg_sockscan_close(struct cg_sockscan *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; s->nl && i < s->tree.nns; i++)
		if (s->nl[i])
			nl_socket_free(s->nl[i]);
	free(s->nl);
	free(s->bc);
	cg_tree_free(&s->tree);
	free(s);
}

/* Calls @fn(@arg) inside namespace @idx of the scan (0: our own), and
 * comes back. */
static int in_netns(struct cg_sockscan *s, size_t idx, int (*fn)(void *arg),
		    void *arg)
{
	int err;

	if (idx && setns(s->tree.nsfd[idx], CLONE_NEWNET))
		return cg_seterr(-errno, "entering network namespace %llu: %m",
				 (unsigned long long)s->tree.nsino[idx]);
	err = fn(arg);
	if (idx && setns(s->tree.nsfd[0], CLONE_NEWNET))
		return cg_seterr(-errno, "returning to our network namespace: "
				 "%m");
	return err;
}

static int nl_connect_diag(void *nl)
{
	if (nl_connect(nl, NETLINK_SOCK_DIAG))
		return cg_seterr(-EPROTONOSUPPORT, "cannot open a sock_diag "
				 "netlink socket (CONFIG_INET_DIAG?)");
	return 0;
}

/* A netlink socket belongs to the namespace its creator was in: enter the
 * target namespace for the socket() call only.  Index 0 is our own. */
static int nl_for(struct cg_sockscan *s, int idx, struct nl_sock **out)
{
	struct nl_sock *nl;
	int err;

	if (s->nl[idx]) {
		*out = s->nl[idx];
		return 0;
	}
	nl = nl_socket_alloc();
	if (!nl)
		return -ENOMEM;
	err = in_netns(s, idx, nl_connect_diag, nl);
	if (err) {
		nl_socket_free(nl);
		return err;
	}
	nl_socket_enable_msg_peek(nl);	/* dump messages larger than a page */
	*out = s->nl[idx] = nl;
	return 0;
}

struct dump_ctx {
	struct cg_sockscan *s;
	int ns_idx;
	int proto;		/* of the dump under way */
	cg_sock_cb cb;
	void *ctx;
	int ret;		/* first non-zero return of cb */
	int nlerr;		/* -errno of an NLMSG_ERROR */
	const struct cg_stg_map *stg;	/* storage maps asked for */
	int nstg;
};

static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	(void)nla;
	*(int *)arg = e->error ? e->error : -EIO;
	return NL_STOP;
}

/* The values of the maps we asked for, from INET_DIAG_SK_BPF_STORAGES,
 * placed by map id in the order they were asked for. */
static void read_storage(const struct dump_ctx *d, struct nlattr *stgs,
			 struct cg_sock *sk)
{
	struct nlattr *one, *tb[SK_DIAG_BPF_STORAGE_MAX + 1];
	__u32 id;
	int rem, i;

	nla_for_each_nested(one, stgs, rem) {
		if (nla_type(one) != SK_DIAG_BPF_STORAGE ||
		    nla_parse_nested(tb, SK_DIAG_BPF_STORAGE_MAX, one, NULL) ||
		    !tb[SK_DIAG_BPF_STORAGE_MAP_VALUE] ||
		    !tb[SK_DIAG_BPF_STORAGE_MAP_ID])
			continue;
		id = nla_get_u32(tb[SK_DIAG_BPF_STORAGE_MAP_ID]);
		for (i = 0; i < d->nstg; i++) {
			if (d->stg[i].id != id)
				continue;
			sk->stg[i] = nla_data(tb[SK_DIAG_BPF_STORAGE_MAP_VALUE]);
			sk->stg_len[i] = nla_len(tb[SK_DIAG_BPF_STORAGE_MAP_VALUE]);
		}
	}
}

static void fill_sock(const struct inet_diag_msg *m, uint8_t proto,
		      struct cg_sock *sk)
{
	size_t alen = m->idiag_family == AF_INET ? 4 : 16;

	sk->family = m->idiag_family;
	sk->proto = proto;
	sk->state = m->idiag_state;
	sk->listening = proto == IPPROTO_TCP && m->idiag_state == TCP_LISTEN;
	memcpy(sk->src, m->id.idiag_src, alen);
	memcpy(sk->dst, m->id.idiag_dst, alen);
	sk->sport = ntohs(m->id.idiag_sport);
	sk->dport = ntohs(m->id.idiag_dport);
	sk->ifindex = m->id.idiag_if;
	sk->inode = m->idiag_inode;
	sk->uid = m->idiag_uid;
	sk->rqueue = m->idiag_rqueue;
	sk->wqueue = m->idiag_wqueue;
	sk->cookie = (uint64_t)m->id.idiag_cookie[1] << 32 |
		     m->id.idiag_cookie[0];
	sk->id = m->id;
}

static int on_sock(struct nl_msg *msg, void *arg)
{
	struct dump_ctx *d = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct nlattr *tb[INET_DIAG_MAX + 1];
	struct inet_diag_msg *m;
	struct cg_sock sk = {};

	if (d->ret || h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    nlmsg_datalen(h) < (int)sizeof(*m))
		return NL_OK;	/* after a stop, drain the dump */
	m = nlmsg_data(h);
	if (nlmsg_parse(h, sizeof(*m), tb, INET_DIAG_MAX, NULL))
		return NL_OK;
	/* Full sockets only carry a cgroup id; the filter needs one. */
	if (!tb[INET_DIAG_CGROUP_ID] ||
	    !cg_tree_has(&d->s->tree, nla_get_u64(tb[INET_DIAG_CGROUP_ID])))
		return NL_OK;
	fill_sock(m, d->proto, &sk);
	sk.cgid = nla_get_u64(tb[INET_DIAG_CGROUP_ID]);
	sk.netns = d->s->tree.nsino[d->ns_idx];
	sk.ns_idx = d->ns_idx;
	if (tb[INET_DIAG_SK_BPF_STORAGES])
		read_storage(d, tb[INET_DIAG_SK_BPF_STORAGES], &sk);
	d->ret = d->cb(&sk, d->ctx);
	return NL_OK;
}

static struct nl_msg *dump_request(struct cg_sockscan *s, int family,
				   int proto, const struct cg_stg_map *stg,
				   int nstg)
{
	struct inet_diag_req_v2 req = {
		.sdiag_family = family,
		.sdiag_protocol = proto,
		/* Every state with a full socket (those carry a cgroup). */
		.idiag_states = proto == IPPROTO_TCP ?
			~(1u << TCP_TIME_WAIT | 1u << TCP_SYN_RECV |
			  1u << TCP_NEW_SYN_RECV) : ~0u,
	};
	struct nl_msg *msg = nlmsg_alloc_size(s->bclen + 4096);
	struct nlattr *nest;
	int i;

	if (!msg)
		return NULL;
	if (!nlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, SOCK_DIAG_BY_FAMILY, 0,
		       NLM_F_REQUEST | NLM_F_DUMP) ||
	    nlmsg_append(msg, &req, sizeof(req), NLMSG_ALIGNTO) ||
	    (s->bc && nla_put(msg, INET_DIAG_REQ_BYTECODE, s->bclen, s->bc)))
		goto fail;
	if (nstg > 0) {
		nest = nla_nest_start(msg, INET_DIAG_REQ_SK_BPF_STORAGES);
		if (!nest)
			goto fail;
		for (i = 0; i < nstg; i++)
			if (nla_put_u32(msg, SK_DIAG_BPF_STORAGE_REQ_MAP_FD,
					stg[i].fd))
				goto fail;
		nla_nest_end(msg, nest);
	}
	return msg;
fail:
	nlmsg_free(msg);
	return NULL;
}

static int dump_one(struct dump_ctx *d, int family, int proto)
{
	struct nl_sock *nl;
	struct nl_msg *msg;
	int err;

	err = nl_for(d->s, d->ns_idx, &nl);
	if (err)
		return err;
	msg = dump_request(d->s, family, proto, d->stg, d->nstg);
	if (!msg)
		return -ENOMEM;
	d->proto = proto;
	nl_socket_modify_cb(nl, NL_CB_VALID, NL_CB_CUSTOM, on_sock, d);
	nl_socket_modify_err_cb(nl, NL_CB_CUSTOM, on_error, &d->nlerr);
	d->nlerr = 0;
	err = nl_send_auto(nl, msg);
	nlmsg_free(msg);
	if (err < 0)
		return cg_seterr(-EIO, "sock_diag request: %s", nl_geterror(err));
	err = nl_recvmsgs_default(nl);
	if (d->nlerr == -EPERM)
		return cg_seterr(-EPERM, "sock_diag refused the socket-storage "
				 "request: reading BPF socket storage needs "
				 "CAP_BPF or CAP_SYS_ADMIN");
	if (d->nlerr)
		return cg_seterr(d->nlerr, "sock_diag dump (%s %s): %s",
				 family == AF_INET ? "IPv4" : "IPv6",
				 proto == IPPROTO_TCP ? "TCP" : "UDP",
				 strerror(-d->nlerr));
	if (err < 0)
		return cg_seterr(-EIO, "sock_diag dump: %s", nl_geterror(err));
	return 0;
}

int cg_sockscan_each_netns(struct cg_sockscan *s, int (*fn)(void *arg),
			   void *arg)
{
	size_t i;
	int err = 0;

	for (i = 0; i < s->tree.nns && !err; i++)
		err = in_netns(s, i, fn, arg);
	return err;
}

int cg_sockscan_dump(struct cg_sockscan *s, const struct cg_stg_map *stg,
		     int nstg, cg_sock_cb cb, void *ctx)
{
	static const int fams[] = { AF_INET, AF_INET6 };
	static const int protos[] = { IPPROTO_TCP, IPPROTO_UDP };
	struct dump_ctx d = { .s = s, .cb = cb, .ctx = ctx, .stg = stg,
			      .nstg = nstg < 0 ? 0 : nstg > CG_SOCK_STG_MAX ?
				      CG_SOCK_STG_MAX : nstg };
	size_t n;
	int f, p, err = 0;

	for (n = 0; n < s->tree.nns && !err && !d.ret; n++) {
		d.ns_idx = n;
		for (p = 0; p < 2 && !err && !d.ret; p++)
			for (f = 0; f < 2 && !err && !d.ret; f++)
				err = dump_one(&d, fams[f], protos[p]);
	}
	return err ? err : d.ret;
}

int cg_sockscan_destroy(struct cg_sockscan *s, const struct cg_sock *sk)
{
	struct inet_diag_req_v2 req = {
		.sdiag_family = sk->family,
		.sdiag_protocol = sk->proto,
		.idiag_states = ~0u,
		.id = sk->id,	/* 4-tuple, interface and cookie: this socket */
	};
	struct nl_sock *nl;
	struct nl_msg *msg;
	int nlerr = 0, err;

	err = nl_for(s, sk->ns_idx, &nl);
	if (err)
		return err;
	msg = nlmsg_alloc_simple(SOCK_DESTROY, NLM_F_REQUEST | NLM_F_ACK);
	if (!msg)
		return -ENOMEM;
	if (nlmsg_append(msg, &req, sizeof(req), NLMSG_ALIGNTO)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nl_socket_modify_err_cb(nl, NL_CB_CUSTOM, on_error, &nlerr);
	err = nl_send_auto(nl, msg);
	nlmsg_free(msg);
	if (err >= 0)
		err = nl_wait_for_ack(nl);
	if (nlerr == -EOPNOTSUPP)
		return cg_seterr(nlerr, "SOCK_DESTROY is not supported by this "
				 "kernel (needs CONFIG_INET_DIAG_DESTROY=y)");
	if (nlerr == -ENOENT || nlerr == -ESTALE)
		return -ENOENT;	/* closed meanwhile (or its id reused) */
	if (nlerr)
		return cg_seterr(nlerr, "SOCK_DESTROY: %s%s", strerror(-nlerr),
				 nlerr == -EPERM ? " (needs CAP_NET_ADMIN in "
				 "the socket's network namespace)" : "");
	return err < 0 ? cg_seterr(-EIO, "SOCK_DESTROY: %s", nl_geterror(err))
		       : 0;
}

void cg_sock_addr_str(const struct cg_sock *sk, int peer, char *buf,
		      size_t len)
{
	static const uint8_t zero[16];
	const uint8_t *a = peer ? sk->dst : sk->src;
	unsigned port = peer ? sk->dport : sk->sport;
	char ip[INET6_ADDRSTRLEN];

	if (!memcmp(a, zero, sk->family == AF_INET ? 4 : 16)) {
		if (port)
			snprintf(buf, len, "*:%u", port);
		else
			snprintf(buf, len, "*:*");
		return;
	}
	inet_ntop(sk->family, a, ip, sizeof(ip));
	if (sk->family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", ip, port);
	else
		snprintf(buf, len, "%s:%u", ip, port);
}

const char *cg_sock_proto_str(const struct cg_sock *sk)
{
	return sk->proto == IPPROTO_TCP ? "tcp" : "udp";
}

const char *cg_sock_state_str(const struct cg_sock *sk)
{
	static const char *const names[] = {
		[TCP_ESTABLISHED] = "ESTAB", [TCP_SYN_SENT] = "SYN-SENT",
		[TCP_SYN_RECV] = "SYN-RECV", [TCP_FIN_WAIT1] = "FIN-WAIT-1",
		[TCP_FIN_WAIT2] = "FIN-WAIT-2", [TCP_TIME_WAIT] = "TIME-WAIT",
		[TCP_CLOSE] = "UNCONN", [TCP_CLOSE_WAIT] = "CLOSE-WAIT",
		[TCP_LAST_ACK] = "LAST-ACK", [TCP_LISTEN] = "LISTEN",
		[TCP_CLOSING] = "CLOSING",
	};

	if (sk->state < sizeof(names) / sizeof(names[0]) && names[sk->state])
		return names[sk->state];
	return "UNKNOWN";
}
