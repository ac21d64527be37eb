/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The nft backend in the CLI (cmd/nft.c); the subcommands dispatch here. */
#ifndef CGGUARD_NFTCMD_H
#define CGGUARD_NFTCMD_H

#include "../lib/json.h"

struct cg_nft_status;

/* attach --backend nft: exit status (0, 1). */
int nft_attach_cmd(const char *cgpath, const char *pol, const char *netns,
		   unsigned flags);
/* detach: 0 done, 1 failed (reported), -ENOENT not nft-guarded. */
int nft_detach_cmd(const char *cgpath);
/* list: appends every nft-guarded cgroup (j NULL: text). */
int nft_list_all(struct json *j);
int nft_list_one(const struct cg_nft_status *st, void *ctx);
/* stats: all, or the one at @cgpath; sets *found if it showed any. */
int nft_stats(struct json *j, const char *cgpath, int *found);
/* gc: nft-guarded cgroups that are gone or were recreated. */
int nft_gc(struct json *j);

#endif
