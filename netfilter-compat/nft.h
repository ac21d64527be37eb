/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * netfilter-compat: the nftables backend.  The same parsed and compiled
 * policy (policy/compile.h: most specific prefix wins, ties deny, else the
 * default) becomes chains of one table, `inet cgguard`, in the network
 * namespace where the cgroup's sockets live:
 *
 *   base chains `output` / `input` (filter hooks, priority filter):
 *       socket cgroupv2 level L "PATH" counter jump cg<ID>g<G>o|i
 *   cg<ID>g<G>o / ...i          one per guarded cgroup and direction:
 *       ct state established,related counter return      (replies pass)
 *       meta nfproto ipv4 ip daddr vmap @cg<ID>g<G>o4   (interval map)
 *       meta nfproto ipv4 goto <the /0 entry's class>
 *       ...the same for ipv6
 *   cg<ID>g<G>o_k<N>            one per distinct decision ("class"):
 *       meta l4proto tcp th dport { 80, 443 } counter return comment "..."
 *       counter drop comment "..."
 *
 * Allow is `return`, so nested guarded cgroups are all consulted (every
 * guard must allow, as with the BPF backend); deny is `drop`.
 * nft resolves the cgroup path to its id when the rules are loaded: the
 * kernel matches by id, so a cgroup recreated under the same name is not
 * matched; `gc` and the daemon re-apply or remove such rules.
 *
 * Every change is one libnftables transaction (all or nothing).  State:
 * the kernel's ruleset, plus one record per guarded cgroup under
 * CG_NFT_STATE_DIR naming its network namespace and policy source.
 * Functions return 0 or -errno with detail in cg_lasterr().
 */
#ifndef CGGUARD_NFT_H
#define CGGUARD_NFT_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include "../policy/policy.h"
#include "../bpf/cgguard_abi.h"

#define CG_NFT_TABLE		"cgguard"
#define CG_NFT_STATE_DIR	"/run/cgguard/nft"
/* More distinct decisions than this: classes by action only (verdicts
 * kept, per-rule attribution folded), as the BPF compiler does. */
#define CG_NFT_MAX_CLASSES	1024

/* A guarded cgroup as nft addresses it. */
struct cg_nft_target {
	uint64_t cgid;
	int level;		/* depth below the cgroup2 root (root: 0) */
	char rel[CG_PATH_MAX];	/* below the cgroup2 mount, "/a/b" */
	char nftpath[PATH_MAX];	/* what nft resolves, below /sys/fs/cgroup */
};

int cg_nft_target(const char *cgpath, struct cg_nft_target *t);

/*
 * Writes the nft script that guards @t with @p as generation @gen: the
 * table, base chains, the cgroup's sets and chains, and its dispatch rules
 * (`add rule`, or `replace rule ... handle H` when @handle[dir] != 0).
 */
int cg_nft_script(FILE *out, const struct cg_policy *p,
		  const struct cg_nft_target *t, unsigned gen,
		  const uint64_t handle[CG_DIR_MAX]);

/* Pieces of the script, for state.c's transactions: the table and base
 * chains (idempotent `add`s), and one dispatch rule. */
void cg_nft_header(FILE *out);
void cg_nft_dispatch(FILE *out, const struct cg_nft_target *t, unsigned gen,
		     int dir, uint64_t handle);

/* Runs @script in the network namespace @nsfd as one transaction
 * (@check: nft -c, nothing is committed). */
int cg_nft_apply(int nsfd, const char *script, size_t len, int check);
/* 0 if libnftables can be loaded here, else -ENOSYS with detail. */
int cg_nft_available(void);

/* Per-record state kept beside the kernel's ruleset. */
struct cg_nft_rec {
	uint64_t cgid;
	int level;
	unsigned gen;
	unsigned flags;			/* CG_CGF_* */
	uint8_t mode, wants;
	uint64_t attached_ns;
	uint64_t ns_dev, ns_ino;	/* identity of the netns */
	char path[CG_PATH_MAX];		/* below the cgroup2 mount */
	char policy[CG_POLICY_NAME_MAX];
	char source[CG_PATH_MAX];
	char netns[PATH_MAX];		/* persistent path of the netns */
};

struct cg_nft_dir_ctr {
	uint64_t pkts[CG_NR_RES], bytes[CG_NR_RES];
	uint64_t est_pkts, est_bytes;	/* of established connections */
};

/* What the kernel has for one record (read back, not what was asked). */
struct cg_nft_status {
	struct cg_nft_rec rec;
	int cgroup_exists;	/* rec.path exists and has id rec.cgid */
	uint64_t path_id;	/* id now at rec.path (0: gone) */
	int netns_ok;		/* the recorded netns still exists */
	int hooked[CG_DIR_MAX];	/* dispatch rule: right id, level, chain */
	unsigned kgen;		/* generation found in the kernel */
	const char *why;	/* why not enforced, NULL if enforced */
	struct cg_nft_dir_ctr ctr[CG_DIR_MAX];
	uint64_t *hits;		/* [CG_RULES_PER_SLOT] packets per rule */
	int folded;		/* classes by action: hits are per class */
};

typedef int (*cg_nft_cb)(const struct cg_nft_status *st, void *ctx);

/* Opens a network namespace: NULL (this process's), a name under
 * /var/run/netns, or a path.  Fills @rec's netns fields. */
int cg_nft_netns_open(const char *spec, struct cg_nft_rec *rec, int *fd);

int cg_nft_attach(const char *cgpath, const char *netns,
		  const struct cg_policy *p, unsigned flags, int *degraded);
/* -ENOENT if the cgroup (path or id) is not nft-guarded. */
int cg_nft_detach(const char *cgpath, uint64_t cgid);
/* Every record, read back from the kernel, sorted by path. */
int cg_nft_foreach(cg_nft_cb cb, void *ctx);
/* Status of the cgroup at @cgpath; -ENOENT if not nft-guarded. */
int cg_nft_status_of(const char *cgpath, cg_nft_cb cb, void *ctx);
/*
 * Cgroups that are gone lose their rules; a cgroup recreated under the
 * same path (new id) gets the recorded policy again.  @cb sees each with
 * @updated set when it was re-applied.
 */
typedef int (*cg_nft_gc_cb)(const struct cg_nft_rec *rec, int updated,
			    void *ctx);
int cg_nft_gc(cg_nft_gc_cb cb, void *ctx);

/* Record store (state.c). */
int cg_nft_rec_load(uint64_t cgid, struct cg_nft_rec *rec);
int cg_nft_rec_save(const struct cg_nft_rec *rec);
int cg_nft_rec_remove(uint64_t cgid);
int cg_nft_rec_all(struct cg_nft_rec **out, size_t *n);

#endif
