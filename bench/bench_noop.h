/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The empty program every benchmark compares against (bench_prog, bench_events). */
#ifndef CGGUARD_BENCH_NOOP_H
#define CGGUARD_BENCH_NOOP_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include "cgguard_abi.h"

/*
 * Makes a private skeleton's programs keep their per-CPU copy of the
 * binding across test runs, as attached programs do between policy
 * changes (cg_info.epoch != 0; cgguard_abi.h, struct cg_bound).  Without
 * it every BPF_PROG_TEST_RUN would re-read the binding.
 */
static inline int bench_set_epoch(int info_fd)
{
	struct cg_info info = { .abi = CG_ABI_VERSION, .epoch = 1 };
	__u32 zero = 0;

	return bpf_map_update_elem(info_fd, &zero, &info, BPF_ANY);
}

/* A cgroup_skb egress program that returns 1: r0 = 1; exit.  -errno on failure. */
static inline int bench_load_noop(void)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0,
		  .imm = 1 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o,
		    .expected_attach_type = BPF_CGROUP_INET_EGRESS);
	int fd = bpf_prog_load(BPF_PROG_TYPE_CGROUP_SKB, "cgg_bench_noop",
			       "GPL", insns, 2, &o);

	if (fd < 0)
		fprintf(stderr, "loading the empty program: %s\n",
			strerror(errno));
	return fd;
}

#endif
