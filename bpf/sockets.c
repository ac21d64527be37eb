// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * A guarded cgroup's sockets with their cached verdicts, and
 * --kill-denied.  The sockets come from sock_diag (cgroup/sockdiag.c),
 * each with the value of cgguard's socket-storage map, which the packet
 * layer writes when it judges a connection; the policy generation in it
 * says whether the verdict is current.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "sockets.h"
#include "sockiter.h"
#include "loader_int.h"
#include "../cgroup/cgroup.h"
#include "../lib/err.h"
#include "../policy/lookup.h"

const char *cg_sock_action_str(int action)
{
	return action == CG_ACT_DENY_V ? "deny" : "allow";
}

/* The guarded cgroup enforcing on @cg: itself or its nearest guarded
 * ancestor (a policy covers every cgroup below it). */
static int find_guarded(struct cg_guard *g, const struct cg_cgroup *cg,
			struct cg_sockscope *sc)
{
	char rel[PATH_MAX], abs[PATH_MAX], *slash;
	uint64_t id = cg->id;

	snprintf(rel, sizeof(rel), "%s", cg->rel);
	for (;;) {
		if (!bpf_map_lookup_elem(g->map_fd[CG_MAP_CGROUPS], &id,
					 &sc->meta)) {
			sc->guarded_id = id;
			return 0;
		}
		slash = strrchr(rel, '/');
		if (!slash || !strcmp(rel, "/"))
			break;
		slash == rel ? (void)(rel[1] = 0) : (void)(*slash = 0);
		if (cg_cgroup_abs(rel, abs, sizeof(abs)) ||
		    cg_cgroup_id(abs, &id))
			break;
	}
	return cg_seterr(-ENOENT, "cgroup %s is not guarded by cgguard, nor "
			 "is any cgroup above it (see cgguard list)", cg->rel);
}

/* Current generation of the guarded cgroup's packet-layer binding. */
static __u32 current_gen(struct cg_guard *g, __u64 cgid)
{
	struct bpf_cgroup_storage_key k = {
		.cgroup_inode_id = cgid,
		.attach_type = cg_hooks[CG_HOOK_EGRESS].attach_type,
	};
	struct cg_binding b = {};

	bpf_map_lookup_elem(g->map_fd[CG_MAP_BINDING], &k, &b);
	return b.gen;
}

static int open_scope(struct cg_guard *g, const char *cgpath,
		      struct cg_sockscope *sc, struct cg_sockscan **scan)
{
	struct cg_cgroup cg;
	int err;

	memset(sc, 0, sizeof(*sc));
	err = cg_cgroup_resolve(cgpath, &cg);
	if (!err)
		err = find_guarded(g, &cg, sc);
	if (err)
		return err;
	sc->cgid = cg.id;
	bpf_map_lookup_elem(g->map_fd[CG_MAP_SLOTS], &sc->meta.slot, &sc->slot);
	sc->gen = current_gen(g, sc->guarded_id);
	err = cg_sockscan_open(cg.abs, scan);
	if (err)
		return err;
	sc->ncgroups = cg_sockscan_ncgroups(*scan);
	sc->nnetns = cg_sockscan_nnetns(*scan);
	return 0;
}

/* ---- collecting the sockets ------------------------------------------ */

struct sockvec {
	struct cg_sockinfo *v;
	size_t n, cap;
	__u32 gen;
	struct cg_udp_stg udp;	/* UDP sockets' storage, by cookie */
	int udp_err;		/* reading it failed: UDP verdicts unknown */
};

/* A UDP socket's storage comes from the iterator (sockiter.c): points
 * @sk's storage at the socket's record there. */
static void udp_storage(const struct sockvec *sv, struct cg_sock *sk)
{
	const struct cg_sk_rec *r;

	if (sk->proto != IPPROTO_UDP || sk->stg[0] || sk->stg[1])
		return;
	r = cg_udp_stg_find(&sv->udp, sk->cookie);
	if (r && (r->has & CG_SKR_HAS_SK)) {
		sk->stg[0] = &r->sk;
		sk->stg_len[0] = sizeof(r->sk);
	}
	if (r && (r->has & CG_SKR_HAS_PEERS)) {
		sk->stg[1] = &r->peers;
		sk->stg_len[1] = sizeof(r->peers);
	}
}

/*
 * The datapath's cached verdict (cg_sk, cgguard_abi.h): the entry of v[]
 * tagged with the guarded cgroup's current generation; else the newest
 * one, stale (generations only grow: cg_info.last_gen).  With nested
 * guarded cgroups a socket also holds the inner cgroup's verdict; that
 * one shows as "stale" too when scoped to the outer cgroup: it is not a
 * verdict of the outer cgroup's current policy.  Unconnected UDP keeps
 * per-peer verdicts in cg_sk_peers instead; they are counted only.
 */
static void decode_storage(const struct cg_sock *sk, __u32 gen,
			   struct cg_sockinfo *si)
{
	const struct cg_sk_verdict *v = NULL;
	/* copies: netlink data is 4-byte aligned */
	struct cg_sk_peers ps;
	struct cg_sk st;
	int i;

	si->role = CG_SKR_UNKNOWN;
	if (sk->stg[1] && sk->stg_len[1] == sizeof(ps)) {
		memcpy(&ps, sk->stg[1], sizeof(ps));
		for (i = 0; i < CG_SK_PEERS; i++)
			si->peers += ps.peer[i].family &&
				     ps.peer[i].gen == gen;
	}
	if (!sk->stg[0] || sk->stg_len[0] != sizeof(st))
		return;	/* never judged (or a layout we do not know) */
	memcpy(&st, sk->stg[0], sizeof(st));
	si->role = st.role;
	for (i = 0; i < CG_SK_VERDICTS; i++) {
		if (!st.v[i].gen)
			continue;
		if (st.v[i].gen == gen) {
			v = &st.v[i];
			break;
		}
		if (!v || st.v[i].gen > v->gen)
			v = &st.v[i];
	}
	if (!v)
		return;
	si->judged = 1;
	si->stale = v->gen != gen;
	si->gen = v->gen;
	si->action = v->action;
	si->rule = v->rule;
	si->audit = !!(v->flags & CG_SKF_AUDIT);
	si->dir = v->flags & CG_SKF_INGRESS ? CG_DIR_INGRESS_V :
					      CG_DIR_EGRESS_V;
}

static int collect(const struct cg_sock *sk, void *ctx)
{
	struct sockvec *sv = ctx;
	struct cg_sockinfo *si;

	if (sv->n == sv->cap) {
		size_t cap = sv->cap ? 2 * sv->cap : 64;
		void *t = realloc(sv->v, cap * sizeof(*sv->v));

		if (!t)
			return -ENOMEM;
		sv->v = t;
		sv->cap = cap;
	}
	si = &sv->v[sv->n++];
	memset(si, 0, sizeof(*si));
	si->sk = *sk;
	udp_storage(sv, &si->sk);
	decode_storage(&si->sk, sv->gen, si);
	si->stg_unknown = sk->proto == IPPROTO_UDP && sv->udp_err;
	/* points into a netlink buffer or sv->udp */
	memset(si->sk.stg, 0, sizeof(si->sk.stg));
	return 0;
}

static int is_zero(const uint8_t *a, int family)
{
	static const uint8_t zero[16];

	return !memcmp(a, zero, family == AF_INET ? 4 : 16);
}

/* 1 if a TCP listener of the scan (same namespace and family) owns the
 * local address and port of @sk. */
static int has_listener(const struct sockvec *sv, const struct cg_sock *sk)
{
	size_t i;

	for (i = 0; i < sv->n; i++) {
		const struct cg_sock *l = &sv->v[i].sk;

		if (l->listening && l->netns == sk->netns &&
		    l->family == sk->family && l->sport == sk->sport &&
		    (is_zero(l->src, l->family) ||
		     !memcmp(l->src, sk->src, sizeof(l->src))))
			return 1;
	}
	return 0;
}

/*
 * Which way a connection was opened, as the packet layer decides it
 * (guard.bpf.c, conn_dir()): connected UDP is outbound; TCP follows the
 * role in its storage (a listener's role, cloned into an accepted socket,
 * means inbound); a socket cgguard never saw opened (older than the
 * attach) is inbound when a listener owns its local port.  The kernel
 * asks every listener of the namespace; here only the tree's listeners
 * are known, which is where an accepted socket's listener is (accepted
 * sockets inherit the listener's cgroup).
 */
static void classify(struct sockvec *sv)
{
	size_t i;

	for (i = 0; i < sv->n; i++) {
		struct cg_sockinfo *si = &sv->v[i];
		const struct cg_sock *sk = &si->sk;

		if (sk->listening)
			si->kind = CG_SK_LISTENER;
		else if (sk->proto == IPPROTO_UDP)
			si->kind = is_zero(sk->dst, sk->family) && !sk->dport ?
				   CG_SK_UNCONNECTED : CG_SK_CONNECTED;
		else if (si->role == CG_SKR_INBOUND ||
			 si->role == CG_SKR_LISTENER)
			si->kind = CG_SK_ACCEPTED;
		else if (si->role == CG_SKR_OUTBOUND)
			si->kind = CG_SK_CONNECTED;
		else
			si->kind = has_listener(sv, sk) ? CG_SK_ACCEPTED :
				   CG_SK_CONNECTED;
	}
}

/* The socket-storage maps, in the order decode_storage() reads them:
 * connection verdicts, then unconnected UDP peers. */
static int stg_maps(struct cg_guard *g, struct cg_stg_map stg[2])
{
	static const int ids[2] = { CG_MAP_SK, CG_MAP_SK_PEERS };
	struct bpf_map_info mi;
	__u32 len;
	int i;

	for (i = 0; i < 2; i++) {
		memset(&mi, 0, sizeof(mi));
		len = sizeof(mi);
		stg[i].fd = g->map_fd[ids[i]];
		if (bpf_obj_get_info_by_fd(stg[i].fd, &mi, &len))
			return bpf_err(-errno, "reading the socket-storage "
				       "maps' ids");
		stg[i].id = mi.id;
	}
	return 0;
}

static int cmp_sock(const void *a, const void *b)
{
	const struct cg_sock *x = &((const struct cg_sockinfo *)a)->sk;
	const struct cg_sock *y = &((const struct cg_sockinfo *)b)->sk;

	if (x->netns != y->netns)
		return x->netns < y->netns ? -1 : 1;
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	if (x->sport != y->sport)
		return x->sport < y->sport ? -1 : 1;
	return x->dport < y->dport ? -1 : x->dport > y->dport;
}

static int scan_all(struct cg_guard *g, const char *cgpath,
		    struct cg_sockscope *sc, struct cg_sockscan **scan,
		    struct sockvec *sv)
{
	struct cg_stg_map stg[2];
	int err;

	memset(sv, 0, sizeof(*sv));
	err = open_scope(g, cgpath, sc, scan);
	if (err)
		return err;
	sv->gen = sc->gen;
	/* Not fatal: TCP verdicts still come through sock_diag. */
	sv->udp_err = cg_udp_stg_read(g, *scan, &sv->udp);
	if (sv->udp_err)
		snprintf(sc->udp_err, sizeof(sc->udp_err), "%s",
			 cg_lasterr());
	err = stg_maps(g, stg);
	if (!err)
		err = cg_sockscan_dump(*scan, stg, 2, collect, sv);
	cg_udp_stg_free(&sv->udp);
	if (err) {
		free(sv->v);
		cg_sockscan_close(*scan);
		*scan = NULL;
		return err;
	}
	classify(sv);
	qsort(sv->v, sv->n, sizeof(*sv->v), cmp_sock);
	return 0;
}

int cg_guard_sockets(struct cg_guard *g, const char *cgpath,
		     struct cg_sockscope *scope, struct cg_sockinfo **v,
		     size_t *n)
{
	struct cg_sockscan *scan = NULL;
	struct sockvec sv;
	int err;

	err = scan_all(g, cgpath, scope, &scan, &sv);
	if (err)
		return err;
	cg_sockscan_close(scan);
	*v = sv.v;
	*n = sv.n;
	return 0;
}

/* ---- --kill-denied ----------------------------------------------------- */

/* The new policy's verdict on @si's connection; 1 if it denies it. */
static int denied_by(const struct cg_compiled *c, const struct cg_policy *p,
		     const struct cg_sockinfo *si)
{
	const struct cg_sock *sk = &si->sk;
	struct cg_query q = {
		.dir = si->kind == CG_SK_ACCEPTED ? CG_DIR_INGRESS :
						    CG_DIR_EGRESS,
		.family = sk->family,
		.proto = sk->proto,
		/* the peer's port for egress, the local one for ingress */
		.port = si->kind == CG_SK_ACCEPTED ? sk->sport : sk->dport,
	};
	struct cg_verdict v;

	memcpy(q.addr, sk->dst, sizeof(q.addr));	/* the peer */
	if (cg_lookup(c, p, &q, &v))
		return 0;	/* no entry: cannot happen for a compiled
				 * policy; never kill on a doubt */
	return v.action == CG_ACT_DENY && !v.audit;
}

static void kill_one(struct cg_sockscan *scan, const struct cg_sockinfo *si,
		    struct cg_kill_result *res, int *first_err)
{
	int err = cg_sockscan_destroy(scan, &si->sk);

	if (!err)
		res->destroyed++;
	else if (err == -ENOENT)
		res->gone++;
	else {
		res->failed++;
		if (!*first_err)
			*first_err = err;
	}
}

int cg_guard_kill_denied(struct cg_guard *g, const char *cgpath,
			 const struct cg_policy *p, struct cg_kill_result *res)
{
	struct cg_sockscan *scan = NULL;
	struct cg_sockscope sc;
	struct cg_compiled c;
	struct sockvec sv;
	char perr[CG_ERR_MAX];
	int err, first_err = 0;
	size_t i;

	memset(res, 0, sizeof(*res));
	err = cg_policy_compile(p, &c, perr, sizeof(perr));
	if (err)
		return cg_seterr(err, "%s", err == -EINVAL ? perr :
				 "compiling policy: out of memory");
	err = scan_all(g, cgpath, &sc, &scan, &sv);
	if (err) {
		cg_compiled_free(&c);
		return err;
	}
	res->scanned = sv.n;
	for (i = 0; i < sv.n; i++) {
		const struct cg_sockinfo *si = &sv.v[i];

		if (si->kind != CG_SK_CONNECTED && si->kind != CG_SK_ACCEPTED)
			continue;	/* no connection to judge */
		res->judged++;
		if (!denied_by(&c, p, si))
			continue;
		res->denied++;
		kill_one(scan, si, res, &first_err);
	}
	free(sv.v);
	cg_sockscan_close(scan);
	cg_compiled_free(&c);
	return first_err;
}
