/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Internal to netfilter-compat/: running libnftables (run.c). */
#ifndef CGGUARD_NFTRUN_H
#define CGGUARD_NFTRUN_H

enum {
	NFT_RUN_APPLY,	/* run a script as one transaction */
	NFT_RUN_CHECK,	/* the same, dry run (nft -c) */
	NFT_RUN_LIST,	/* read table inet cgguard back (see run.c) */
};
/* Separates the JSON and the text part of a NFT_RUN_LIST result. */
#define NFT_RUN_SEP	"\x1e"

/*
 * Runs libnftables in a child inside the netns @nsfd (-1: this one).
 * *out and *err (malloc'd) get its output and error text.  Returns 0,
 * -ENOENT (LIST: no table), -EINVAL (nft refused), or another -errno.
 */
int cg_nft_run(int nsfd, int mode, const char *buf, char **out, char **err);

#endif
