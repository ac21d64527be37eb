// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The storage of UDP sockets, which sock_diag does not return: read with
 * the iter/udp program of sockiter.bpf.c in each network namespace of a
 * scan (an iterator walks the namespace it was created in), kept sorted
 * by socket cookie for bpf/sockets.c to match with the sock_diag dump.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "sockiter.h"
#include "loader_int.h"
#include "sockiter.skel.h"
#include "../lib/err.h"

/* Bounds what one namespace's records may take (16 MB). */
#define MAX_RECS	((16u << 20) / sizeof(struct cg_sk_rec))

struct iter_ctx {
	struct bpf_link *link;
	struct cg_udp_stg *u;
};

static int read_one_netns(void *arg)
{
	struct iter_ctx *c = arg;
	struct cg_udp_stg *u = c->u;
	int fd = bpf_iter_create(bpf_link__fd(c->link)), err = 0;
	size_t rs = sizeof(*u->v), have = u->n * rs, cap = u->n;
	ssize_t r;

	if (fd < 0)
		return bpf_err(-errno, "creating the UDP socket iterator");
	for (;;) {
		if (have + rs > cap * rs) {
			void *t;

			if (cap >= MAX_RECS) {
				err = cg_seterr(-E2BIG, "more than %zu UDP "
						"sockets with cgguard storage",
						(size_t)MAX_RECS);
				break;
			}
			cap = cap ? 2 * cap : 64;
			t = realloc(u->v, cap * rs);
			if (!t) {
				err = -ENOMEM;
				break;
			}
			u->v = t;
		}
		r = read(fd, (char *)u->v + have, cap * rs - have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = cg_seterr(-errno, "reading the UDP socket "
					"iterator: %m");
			break;
		}
		if (r == 0)
			break;
		have += (size_t)r;
	}
	close(fd);
	if (!err && have % rs)
		err = cg_seterr(-EPROTO, "the UDP socket iterator returned "
				"a partial record");
	u->n = have / rs;
	return err;
}

static int cmp_rec(const void *a, const void *b)
{
	__u64 x = ((const struct cg_sk_rec *)a)->cookie;
	__u64 y = ((const struct cg_sk_rec *)b)->cookie;

	return x < y ? -1 : x > y;
}

int cg_udp_stg_read(struct cg_guard *g, struct cg_sockscan *scan,
		    struct cg_udp_stg *u)
{
	struct sockiter_bpf *skel = sockiter_bpf__open();
	struct iter_ctx c = { .u = u };
	int err;

	memset(u, 0, sizeof(*u));
	if (!skel)
		return bpf_err(-errno, "opening the UDP socket iterator");
	err = bpf_map__reuse_fd(skel->maps.cg_sk, g->map_fd[CG_MAP_SK]);
	if (!err)
		err = bpf_map__reuse_fd(skel->maps.cg_sk_peers,
					g->map_fd[CG_MAP_SK_PEERS]);
	if (!err)
		err = sockiter_bpf__load(skel);
	if (err) {
		err = bpf_err(err, "loading the UDP socket iterator "
			      "(iter/udp)");
		goto out;
	}
	c.link = bpf_program__attach_iter(skel->progs.cg_udp_storage, NULL);
	if (!c.link) {
		err = bpf_err(-errno, "attaching the UDP socket iterator");
		goto out;
	}
	err = cg_sockscan_each_netns(scan, read_one_netns, &c);
	bpf_link__destroy(c.link);
	if (!err)
		qsort(u->v, u->n, sizeof(*u->v), cmp_rec);
out:
	sockiter_bpf__destroy(skel);
	if (err)
		cg_udp_stg_free(u);
	return err;
}

const struct cg_sk_rec *cg_udp_stg_find(const struct cg_udp_stg *u,
					__u64 cookie)
{
	struct cg_sk_rec key = { .cookie = cookie };

	if (!u->n)
		return NULL;
	return bsearch(&key, u->v, u->n, sizeof(*u->v), cmp_rec);
}

void cg_udp_stg_free(struct cg_udp_stg *u)
{
	free(u->v);
	memset(u, 0, sizeof(*u));
}
