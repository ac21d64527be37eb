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
	char detail[320];	/* which step failed and why, for humans */
	/* Extensions (doctor): */
	const char *step;	/* "setup", "load" or "attach"; NULL if fine */
	char verifier[128];	/* first meaningful verifier-log line, or "" */
	int classic_bpf;	/* SOCKFILTER only: 1 if classic BPF
				 * (SO_ATTACH_FILTER) works, 0 if not */
};

/* Probes every layer; results[] is indexed by enum cg_layer. Returns 0. */
int cg_probe_layers(struct cg_probe_result results[CG_LAYER_MAX]);
/* Probes one layer (cached after the first call in this process). */
const struct cg_probe_result *cg_probe(enum cg_layer layer);
const char *cg_layer_name(enum cg_layer layer);

/*
 * Active security modules, for explaining BPF LSM results.  Reads
 * /sys/kernel/security; when securityfs is not mounted there and the caller
 * holds CAP_SYS_ADMIN, a child process mounts it in a private mount
 * namespace to read it (nothing changes for the rest of the host).
 * Cached per process.
 */
struct cg_security {
	int securityfs_mounted;	/* at /sys/kernel/security */
	int private_mount;	/* lsm/lockdown read through a private mount */
	int err;		/* 0, or -errno when the LSM list is unknown */
	int bpf_lsm;		/* 1: "bpf" is active, 0: not, -1: unknown */
	char lsm[256];		/* comma-separated list, "" if unknown */
	char lockdown[32];	/* "none", "integrity", ... or "" */
};
const struct cg_security *cg_security_info(void);

#endif
