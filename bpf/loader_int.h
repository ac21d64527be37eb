/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Internal to the loader (loader.c, attach.c). */
#ifndef CGGUARD_LOADER_INT_H
#define CGGUARD_LOADER_INT_H

#include <stddef.h>
#include "loader.h"

int bpf_err(int err, const char *what);
/* Full path of a pin, for messages only: pins are used through the
 * checked directory fds in g->pins (pindir.h). */
void pin_path(char *buf, size_t len, const char *kind, const char *name);
/* Pin name (in link/) of the single link of a global (lsm) hook. */
void global_link_name(char *buf, size_t len, int hook);
/* The checked directory fd of prog/, map/ or link/. */
static inline int pindir(const struct cg_guard *g, enum cg_pin_dir d)
{
	return g->pins.dir[d];
}
/* Writes the compiled policy and socket config into a free slot. */
int claim_slot(struct cg_guard *g, __u32 slot, const struct cg_compiled *c,
	       const struct cg_sockcfg *sc, const struct cg_policy *p);
extern const char *const cg_map_names[CG_MAP_MAX];
/* Hash of the BPF objects built into this binary (cg_info.build). */
__u64 objects_build(void);

/* Key of cgroup @cgid's storage for @hook (cg_binding, cg_counters). */
void storage_key(__u64 cgid, int hook, struct bpf_cgroup_storage_key *k);

/* Adjusts a slot's count of bound cgroups. */
void slot_ref(struct cg_guard *g, __u32 slot, int delta);
int find_slot(struct cg_guard *g, const struct cg_compiled *c,
	      const struct cg_policy *p, __u32 *slot, int *fresh);

#endif
