// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* A "foreign" program for tests: something other than cgguard attached to
 * the same cgroups.  It allows everything. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("cgroup_skb/egress")
int foreign_allow_all(struct __sk_buff *skb)
{
	return 1;
}

char LICENSE[] SEC("license") = "GPL";

SEC("cgroup/connect4")
int foreign_connect_all(struct bpf_sock_addr *ctx)
{
	return 1;
}
