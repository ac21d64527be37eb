/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Layer probing: each enforcement layer is probed once by really loading a
 * minimal program of its type and, for cgroup hooks, attaching it (through
 * a bpf_link) to a scratch cgroup that is removed again.  What fails is
 * reported with its errno, never claimed.
 */
#ifndef CGGUARD_PROBE_H
#define CGGUARD_PROBE_H

enum cg_layer {
	CG_LAYER_PACKET,	/* cgroup_skb ingress/egress */
	CG_LAYER_CONNECT,	/* cgroup/connect4, connect6 */
	CG_LAYER_SENDMSG,	/* cgroup/sendmsg4, sendmsg6 */
	CG_LAYER_BIND,		/* cgroup/bind4, bind6 */
	CG_LAYER_CREATE,	/* cgroup/sock_create */
	CG_LAYER_LSM_CGROUP,	/* BPF LSM, per-cgroup (lsm_cgroup, 6.0+) */
	CG_LAYER_LSM,		/* BPF LSM, global program (lsm) */
	CG_LAYER_SOCKFILTER,	/* socket filter via SO_ATTACH_BPF */
	CG_LAYER_MAX,
};

struct cg_probe_result {
	int available;		/* 1: loaded (and attached) fine */
	int err;		/* negative errno of the failing step, or 0 */
	char detail[160];	/* which step failed and why, for humans */
};

/* Probes every layer; results[] is indexed by enum cg_layer. Returns 0. */
int cg_probe_layers(struct cg_probe_result results[CG_LAYER_MAX]);
/* Probes one layer (cached after the first call in this process). */
const struct cg_probe_result *cg_probe(enum cg_layer layer);
const char *cg_layer_name(enum cg_layer layer);

#endif
