/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * User-space side of events: reading the ring buffer (reader.c), turning
 * a raw struct cg_event into names and text (decode.c), and naming the
 * rule that decided (rule text with file:line, from the policy source the
 * slot records).  Used by `cgguard monitor` and the daemon's fan-out.
 * Functions return 0 or -errno.
 */
#ifndef CGGUARD_EVENTS_H
#define CGGUARD_EVENTS_H

#include <stdint.h>
#include <netinet/in.h>
#include "../bpf/loader.h"
#include "../lib/json.h"

/* ---- decoding ------------------------------------------------------------ */

struct cg_evinfo {
	uint64_t time_ns;		/* CLOCK_REALTIME */
	uint64_t cgid, sk_cgid, cookie;
	char cgroup[CG_PATH_MAX];	/* relative to the cgroup2 mount */
	char policy[64];
	uint32_t gen;
	const char *layer, *direction, *verdict, *proto;
	int rule;			/* counter index, -1: not a rule */
	char rule_text[640];		/* "deny to 1.2.3.0/24 proto tcp (f.yaml:7)" */
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	uint16_t sport, dport;
	uint32_t pid;
	char comm[17];
	char what[48];			/* create/LSM socket(): "family packet type raw" */
};

/* Caches what decoding looks up (cgroup paths, slot policies). */
struct cg_evdec;
int cg_evdec_new(struct cg_guard *g, struct cg_evdec **out);
void cg_evdec_free(struct cg_evdec *d);
/* Fills @out from @e (@len bytes from the ring buffer). */
int cg_evdec_decode(struct cg_evdec *d, const void *e, size_t len,
		    struct cg_evinfo *out);

/* One JSON object (no newline) or one readable line (no newline). */
void cg_evinfo_json(struct json *j, const struct cg_evinfo *i);
void cg_evinfo_text(FILE *f, const struct cg_evinfo *i);

/* Text of rule counter @ctr of policy @p ("egress default deny", ...),
 * with " (source:line)" for rules.  Shared with stats and explain. */
void cg_rule_counter_text(const struct cg_policy *p, unsigned ctr,
			  char *buf, size_t len);

/* Event bytes as lowercase hex and back (the daemon relays raw events to
 * monitors, which decode them like a direct reader). */
#define CG_EV_HEX_MAX	(2 * 256 + 1)
int cg_ev_hex(const void *e, size_t len, char *buf, size_t buflen);
int cg_ev_unhex(const char *hex, void *e, size_t max, size_t *len);

/* ---- filtering ----------------------------------------------------------- */

#define CG_EVSEL_DROP	(1u << 0)	/* drops and kills */
#define CG_EVSEL_AUDIT	(1u << 1)
struct cg_evfilter {
	uint64_t cgid;		/* 0: any; else guarded or socket cgroup */
	unsigned verdicts;	/* CG_EVSEL_* */
};
int cg_evfilter_match(const struct cg_evfilter *f, const void *e, size_t len);

/* ---- reading ------------------------------------------------------------- */

/* Called for every event read; a non-zero return stops cg_evreader_poll. */
typedef int (*cg_ev_cb)(void *ctx, const void *e, size_t len);

struct cg_evreader;
/*
 * Opens the pinned ring buffer for reading.  The ring buffer has one
 * consumer position, so there is one direct reader per host: the first
 * takes CG_EV_READER_LOCK; another gets -EBUSY (with the daemon running,
 * monitors read through its control socket instead).
 */
#define CG_EV_READER_LOCK	"/run/cgguard-events.lock"
int cg_evreader_open(int map_fd, cg_ev_cb cb, void *ctx,
		     struct cg_evreader **out);
/* Reads what is there, waiting up to @timeout_ms; returns the number of
 * events handled or -errno (-EINTR on a signal). */
int cg_evreader_poll(struct cg_evreader *r, int timeout_ms);
/* An fd that becomes readable when events arrive (for epoll loops). */
int cg_evreader_fd(const struct cg_evreader *r);
/* Handles whatever is available without waiting. */
int cg_evreader_consume(struct cg_evreader *r);
void cg_evreader_close(struct cg_evreader *r);

#endif
