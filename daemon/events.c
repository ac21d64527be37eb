// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Event fan-out: the daemon is the ring buffer's one reader (it holds
 * CG_EV_READER_LOCK) and relays every event, raw and hex-encoded, to each
 * control-socket client that asked {"cmd":"monitor"}:
 *	{"monitor":"ok"}			first line
 *	{"event":"<hex of struct cg_event>"}	one line per event
 *	{"dropped":N}				N events this client missed
 * Monitors decode and filter on their side, exactly as a direct reader.
 * A client that falls more than CGD_MON_BACKLOG bytes behind misses
 * events (counted, then reported to it) instead of growing the daemon.
 *
 * The pinned ring buffer is reopened when its pin changes (cgguard
 * upgrade or a fresh load of the state), checked on every timer tick and
 * after each reconcile.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <bpf/bpf.h>
#include "daemon.h"
#include "../events/events.h"
#include "../lib/err.h"

#define CGD_MON_BACKLOG	(1u << 20)
#define EV_PIN		CG_PIN_ROOT "/map/cg_events"

static int relay(void *ctx, const void *e, size_t len)
{
	struct cgd *d = ctx;
	char line[CG_EV_HEX_MAX + 32], hex[CG_EV_HEX_MAX];
	int i, n;

	if (cg_ev_hex(e, len, hex, sizeof(hex)))
		return 0;
	n = snprintf(line, sizeof(line), "{\"event\":\"%s\"}\n", hex);
	d->ev_read++;
	for (i = 0; i < CGD_MAX_CLIENTS; i++) {
		struct cgd_client *c = &d->cl[i];

		if (c->fd < 0 || !c->monitor || c->closing)
			continue;
		if (c->outlen - c->outoff > CGD_MON_BACKLOG) {
			c->mon_dropped++;
			continue;
		}
		if (c->mon_dropped) {
			char m[64];
			int k = snprintf(m, sizeof(m), "{\"dropped\":%llu}\n",
					 (unsigned long long)c->mon_dropped);

			c->mon_dropped = 0;
			cgd_ctl_send(d, i, m, k);
		}
		cgd_ctl_send(d, i, line, n);
	}
	return 0;
}

static __u32 pin_map_id(int *fd_out)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int fd = bpf_obj_get(EV_PIN);

	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		close(fd);
		return 0;
	}
	if (fd_out)
		*fd_out = fd;
	else
		close(fd);
	return info.id;
}

void cgd_events_close(struct cgd *d)
{
	cg_evreader_close(d->evr);
	d->evr = NULL;
	if (d->ev_fd >= 0)
		close(d->ev_fd);
	d->ev_fd = -1;
	d->ev_map_id = 0;
}

void cgd_events_refresh(struct cgd *d)
{
	__u32 id = pin_map_id(NULL);
	int fd = -1, err;

	if (id && id == d->ev_map_id)
		return;
	cgd_events_close(d);
	if (!id)
		return;		/* nothing pinned yet: the next tick looks */
	d->ev_map_id = pin_map_id(&fd);
	d->ev_fd = fd;
	cg_clearerr();
	err = d->ev_map_id ? cg_evreader_open(fd, relay, d, &d->evr) : -ENOENT;
	if (!err)
		err = cgd_epoll_add(d, cg_evreader_fd(d->evr), EPOLLIN,
				    CGD_EV_EVENTS);
	if (err) {
		cgd_log(CGD_WARN, "events: cannot read the ring buffer: %s; "
			"monitors get no events from the daemon", *cg_lasterr() ?
			cg_lasterr() : strerror(-err));
		cgd_events_close(d);
		d->ev_map_id = id;	/* do not retry every tick */
	}
}

void cgd_events_read(struct cgd *d)
{
	if (d->evr)
		cg_evreader_consume(d->evr);
}

/* {"cmd":"monitor"}: from now on the client gets every event. */
void cgd_events_subscribe(struct cgd *d, struct cgd_client *c, FILE *out)
{
	c->monitor = 1;
	fprintf(out, "{\"monitor\":\"%s\"}\n", d->evr ? "ok" :
		"no ring buffer (nothing pinned yet); events follow once "
		"something is guarded");
}
