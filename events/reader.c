// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Ring buffer reader: one direct consumer per host, under a lock file. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/file.h>
#include <bpf/libbpf.h>
#include "events.h"
#include "../lib/err.h"

struct cg_evreader {
	struct ring_buffer *rb;
	int lock_fd;
	cg_ev_cb cb;
	void *ctx;
};

static int on_sample(void *ctx, void *data, size_t len)
{
	struct cg_evreader *r = ctx;

	return r->cb(r->ctx, data, len);
}

int cg_evreader_open(struct cg_guard *g, cg_ev_cb cb, void *ctx,
		     struct cg_evreader **out)
{
	struct cg_evreader *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return -ENOMEM;
	r->cb = cb;
	r->ctx = ctx;
	r->lock_fd = open(CG_EV_READER_LOCK, O_RDWR | O_CREAT | O_CLOEXEC |
			  O_NOFOLLOW, 0600);
	if (r->lock_fd < 0) {
		err = cg_seterr(-errno, "cannot open %s: %m",
				CG_EV_READER_LOCK);
		goto fail;
	}
	if (flock(r->lock_fd, LOCK_EX | LOCK_NB)) {
		err = cg_seterr(errno == EWOULDBLOCK ? -EBUSY : -errno,
				"another process reads the event ring buffer "
				"(%s is locked): run the daemon, whose control "
				"socket serves any number of monitors",
				CG_EV_READER_LOCK);
		goto fail;
	}
	r->rb = ring_buffer__new(g->map_fd[CG_MAP_EVENTS], on_sample, r, NULL);
	if (!r->rb) {
		err = cg_seterr(-errno, "cannot map the event ring buffer: %m");
		goto fail;
	}
	*out = r;
	return 0;
fail:
	cg_evreader_close(r);
	return err;
}

int cg_evreader_poll(struct cg_evreader *r, int timeout_ms)
{
	return ring_buffer__poll(r->rb, timeout_ms);
}

int cg_evreader_fd(const struct cg_evreader *r)
{
	return ring_buffer__epoll_fd(r->rb);
}

int cg_evreader_consume(struct cg_evreader *r)
{
	return ring_buffer__consume(r->rb);
}

void cg_evreader_close(struct cg_evreader *r)
{
	if (!r)
		return;
	ring_buffer__free(r->rb);
	if (r->lock_fd >= 0)
		close(r->lock_fd);
	free(r);
}
