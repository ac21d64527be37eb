/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Map definitions shared by every cgguard BPF object.  guard.bpf.c owns
 * them (its loader pins them); lsm.bpf.c declares the same maps and its
 * loader reuses the pinned fds, so all layers read one policy.
 */
#ifndef CGGUARD_MAPS_BPF_H
#define CGGUARD_MAPS_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, CG_LPM_MAX_ENTRIES);
	__type(key, struct cg_lpm_key);
	__type(value, struct cg_lpm_val);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} cg_lpm SEC(".maps");

/* Port tables of entries with more than CG_MAX_RANGES ranges. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, CG_PORT_MAX_ENTRIES);
	__type(key, struct cg_port_key);
	__type(value, struct cg_port_val);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} cg_ports SEC(".maps");

#include "skmaps.bpf.h"

/* Per (cgroup, attach type): which slot this attachment enforces. */
struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_STORAGE);
	__type(key, struct bpf_cgroup_storage_key);
	__type(value, struct cg_binding);
} cg_binding SEC(".maps");

/* Per (cgroup, attach type), per CPU: verdict counters of that hook and
 * its cache of per-cgroup rule hits. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE);
	__type(key, struct bpf_cgroup_storage_key);
	__type(value, struct cg_hook_counters);
} cg_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CG_MAX_SLOTS * CG_RULES_PER_SLOT);
	__type(key, __u32);
	__type(value, __u64);
} cg_rule_hits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CG_MAX_SLOTS);
	__type(key, __u32);
	__type(value, struct cg_sockcfg);
} cg_sockcfg SEC(".maps");

/* Metadata for user space (and the global LSM program's cgroup lookup). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CG_MAX_SLOTS);
	__type(key, __u32);
	__type(value, struct cg_slot_meta);
} cg_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct cg_cgroup_meta);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} cg_cgroups SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cg_info);
} cg_info SEC(".maps");

/* Counters of the global LSM programs, which have no cgroup storage:
 * keyed by the id of the guarded cgroup that decided. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct cg_counters);
} cg_lsm_counts SEC(".maps");

#endif
