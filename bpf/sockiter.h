/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * UDP sockets' cgguard storage, read through a BPF socket iterator
 * (sockiter.c): sock_diag returns BPF socket storage for TCP only.
 * Functions return 0 or -errno, with detail in cg_lasterr().
 */
#ifndef CGGUARD_SOCKITER_H
#define CGGUARD_SOCKITER_H

#include "loader.h"
#include "cgguard_abi.h"
#include "../cgroup/sockdiag.h"

struct cg_udp_stg {
	struct cg_sk_rec *v;	/* sorted by cookie */
	size_t n;
};

/* Reads the storage of every UDP socket that has some, in every network
 * namespace of @scan. */
int cg_udp_stg_read(struct cg_guard *g, struct cg_sockscan *scan,
		    struct cg_udp_stg *u);
/* The record of the socket with @cookie, or NULL. */
const struct cg_sk_rec *cg_udp_stg_find(const struct cg_udp_stg *u,
					__u64 cookie);
void cg_udp_stg_free(struct cg_udp_stg *u);

#endif
