// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Reads the socket storage of UDP sockets for `cgguard sockets`
 * (bpf/sockets.c): sock_diag returns it for TCP only.  An iter/udp
 * program, run by reading its iterator fd in each network namespace of
 * the scan: one struct cg_sk_rec per UDP socket that has cgguard
 * storage.  Its maps are the pinned ones (the loader reuses their fds).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "cgguard_abi.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#include "skmaps.bpf.h"

SEC("iter/udp")
int cg_udp_storage(struct bpf_iter__udp *ctx)
{
	struct udp_sock *udp = ctx->udp_sk;
	struct cg_sk_peers *ps;
	struct cg_sk_rec r = {};
	struct cg_sk *st;
	struct sock *sk;

	if (!udp)
		return 0;	/* the end of the iteration */
	sk = (struct sock *)udp;
	st = bpf_sk_storage_get(&cg_sk, sk, 0, 0);
	ps = bpf_sk_storage_get(&cg_sk_peers, sk, 0, 0);
	/* (tested one by one: the verifier refuses or-ing two pointers) */
	if (st) {
		r.has |= CG_SKR_HAS_SK;
		__builtin_memcpy(&r.sk, st, sizeof(r.sk));
	}
	if (ps) {
		r.has |= CG_SKR_HAS_PEERS;
		__builtin_memcpy(&r.peers, ps, sizeof(r.peers));
	}
	if (!r.has)
		return 0;	/* never judged: nothing to say */
	r.cookie = bpf_get_socket_cookie(sk);
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}
