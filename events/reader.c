// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Ring buffer reader: one direct consumer per host, under a lock file. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
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

int cg_evreader_open(int map_fd, cg_ev_cb cb, void *ctx,
		     struct cg_evreader **out)
{
	struct cg_evreader *r = calloc(1, sizeof(*r));
	struct stat st;
	int err;

	if (!r)
		return -ENOMEM;
	r->cb = cb;
	r->ctx = ctx;
	r->lock_fd = open(CG_EV_READER_LOCK, O_RDWR | O_CREAT | O_CLOEXEC |
			  O_NOFOLLOW, 0600);
	if (r->lock_fd < 0) {
		err = cg_seterr(-errno, "cannot open %s: %m%s", CG_EV_READER_LOCK,
				errno == ELOOP ? " (a symbolic link: refused)" : "");
		goto fail;
	}
	/* Someone else's file could be held locked to starve monitors. */
	if (fstat(r->lock_fd, &st) || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid()) {
		err = cg_seterr(-EPERM, "%s is not a regular file owned by uid "
				"%u: refusing it", CG_EV_READER_LOCK, geteuid());
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
	r->rb = ring_buffer__new(map_fd, on_sample, r, NULL);
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

int cg_ev_hex(const void *e, size_t len, char *buf, size_t buflen)
{
	static const char hx[] = "0123456789abcdef";
	const unsigned char *b = e;
	size_t i;

	if (2 * len + 1 > buflen)
		return -ENOSPC;
	for (i = 0; i < len; i++) {
		buf[2 * i] = hx[b[i] >> 4];
		buf[2 * i + 1] = hx[b[i] & 15];
	}
	buf[2 * len] = 0;
	return 0;
}

static int nibble(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ?
	       c - 'a' + 10 : -1;
}

int cg_ev_unhex(const char *hex, void *e, size_t max, size_t *len)
{
	unsigned char *b = e;
	size_t n = strlen(hex), i;

	if (n % 2 || n / 2 > max)
		return -EBADMSG;
	for (i = 0; i < n / 2; i++) {
		int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EBADMSG;
		b[i] = hi << 4 | lo;
	}
	*len = n / 2;
	return 0;
}
