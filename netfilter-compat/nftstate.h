/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Internal to netfilter-compat/: records and the kernel's view (state.c). */
#ifndef CGGUARD_NFTSTATE_H
#define CGGUARD_NFTSTATE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/file.h>

enum { NFT_K_CHAIN, NFT_K_SET, NFT_K_MAP, NFT_K_OTHER };

/* Base chain of a direction: "output" (egress), "input" (ingress). */
extern const char *const cg_nft_hooks[2];

struct nft_kobj {
	char name[128];
	int kind;		/* NFT_K_* */
};

struct nft_krule {
	char chain[128];
	char comment[128];
	uint64_t handle, pkts, bytes;
};

/* A `socket cgroupv2` rule of a base chain, from nft's text output. */
struct nft_kdisp {
	int dir;		/* chain output (egress) or input (ingress) */
	int level;
	char cg[PATH_MAX];	/* path below the cgroup2 root, or an id */
	char target[128];	/* jump target */
	uint64_t handle;
};

/* table inet cgguard of one network namespace, as the kernel has it. */
struct nft_view {
	int table;
	struct nft_kobj *obj;
	struct nft_krule *rules;
	struct nft_kdisp *disp;
	size_t nobj, nrules, ndisp, capobj, caprules, capdisp;
};

int nft_view_read(int nsfd, struct nft_view *v);
void nft_view_free(struct nft_view *v);
/* Generation of an object of cgroup @cgid ("cg<ID>g<GEN>..."), else 0;
 * *rest points after GEN. */
unsigned nft_obj_gen(const char *name, uint64_t cgid, const char **rest);
/* 1 if @name is a cgroup object cgguard names ("cg<digits>g<digits>"). */
int nft_obj_ours(const char *name);

/* Creates/checks CG_NFT_STATE_DIR; returns an fd holding its lock. */
int cg_nft_state_dir(int create);
int cg_nft_lock(void);
/* Opens a record's netns, checking it is still the same one (-ENOENT). */
int cg_nft_netns_reopen(const struct cg_nft_rec *r);

#endif
