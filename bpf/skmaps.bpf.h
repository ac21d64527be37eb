/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The socket-storage maps (cgguard_abi.h, struct cg_sk and cg_sk_peers):
 * part of every object's maps (maps.bpf.h), and all that the socket
 * iterator (sockiter.bpf.c) declares.
 */
#ifndef CGGUARD_SKMAPS_BPF_H
#define CGGUARD_SKMAPS_BPF_H

/* Per socket: the verdict of its connection(s) (cgguard_abi.h, cg_sk). */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC | BPF_F_CLONE);
	__type(key, int);
	__type(value, struct cg_sk);
} cg_sk SEC(".maps");

/* Per unconnected UDP socket: its recent peers (cgguard_abi.h). */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct cg_sk_peers);
} cg_sk_peers SEC(".maps");

#endif
