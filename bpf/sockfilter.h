/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Unprivileged layer, kernel side: the socket-filter maps pinned under
 * CG_SF_PIN_DIR and the per-(uid, policy) programs the daemon hands out.
 * See sockfilter.bpf.c and cgguard_abi.h.  Functions return 0 or -errno
 * (detail in cg_lasterr()).
 */
#ifndef CGGUARD_SOCKFILTER_H
#define CGGUARD_SOCKFILTER_H

#include <linux/types.h>
#include "cgguard_abi.h"
#include "loader.h"

#define CG_SF_PIN_SUBDIR	"sockfilter"
#define CG_SF_PIN_DIR	CG_PIN_ROOT "/" CG_SF_PIN_SUBDIR

/* Repairs of the pin directory, for the caller to report (pindir.h). */
#define CG_SF_NOTICE_MAX	1024

enum { CG_SF_MAP_LPM, CG_SF_MAP_BIND, CG_SF_MAP_COUNTS, CG_SF_MAP_PORTS,
       CG_SF_MAP_META, CG_SF_MAP_MAX };

struct cg_sf {
	int fd[CG_SF_MAP_MAX];
	int ncpus;
	int dir;			/* CG_SF_PIN_DIR, checked (-1: none) */
	char notice[CG_SF_NOTICE_MAX];	/* repairs made, or "" */
};

/* @create: make and pin what is missing (the daemon); else open the pins
 * (-ENOENT when no filter was ever handed out).  CG_SF_ANON: fresh maps,
 * pinned nowhere (tests). */
#define CG_SF_ANON	2
int cg_sf_open(struct cg_sf *sf, int create);
void cg_sf_close(struct cg_sf *sf);

/*
 * Makes the filter table of @p current (compiled ingress rules written to
 * the idle slot of its policy id, then the binding flipped: no window)
 * and returns the policy id.  Unchanged policies cost one map read.
 * -ENOSPC once CG_SF_MAX_POLICIES names have ids.
 */
int cg_sf_policy(struct cg_sf *sf, const struct cg_policy *p, __u32 *id);
/* Meta of policy id @id (in_use, name, hash, mode). */
int cg_sf_meta(struct cg_sf *sf, __u32 id, struct cg_slot_meta *m);
/* Loads the filter program for (@uid, policy @id named @name); returns
 * its fd (the only thing ever handed out) or -errno. */
int cg_sf_prog_load(struct cg_sf *sf, __u32 id, __u32 uid, const char *name);

typedef int (*cg_sf_counter_cb)(const struct cg_sf_key *k,
				const struct cg_counters *c, void *ctx);
/* Calls @cb with the per-CPU sums of every (uid, policy), sorted. */
int cg_sf_counters(struct cg_sf *sf, cg_sf_counter_cb cb, void *ctx);

#endif
