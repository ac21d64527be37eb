// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Reconcile: make the pinned state say what the rules say, touching only
 * what differs.
 *
 * For a cgroup matched by a rule:
 *  - not guarded                      -> attach the rule's policy;
 *  - guarded by the rule's policy     -> adopt it; re-attach (an atomic
 *    swap) only if the compiled hash or the fail mode differ, or if the
 *    kernel does not really have every program attached;
 *  - guarded by another policy        -> the daemon swaps it only if it
 *    set that policy itself (the rule changed); a policy set by `cgguard
 *    attach` or the OCI hook (annotation) is more specific and stays.
 * Guarded cgroups no rule matches are re-verified too: recorded but not
 * enforced means a link was removed behind cgguard's back, and the same
 * policy version is put back from its source.
 *
 * Removed cgroups are garbage-collected (cg_guard_gc).  Every step opens
 * the pinned state, works, and closes it: the flock must not outlive one
 * operation or the CLI and the OCI hook would wait on the daemon.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "daemon.h"
#include "../bpf/sockets.h"
#include "../cgroup/cgroup.h"
#include "../lib/err.h"
#include "../lib/usdt.h"
#include "../netfilter-compat/nft.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static struct cgd_track *track_get(struct cgd *d, uint64_t cgid,
				   const char *path)
{
	struct cgd_track *t;
	size_t i;

	for (i = 0; i < d->ntrk; i++)
		if (d->trk[i].cgid == cgid)
			return &d->trk[i];
	t = realloc(d->trk, (d->ntrk + 1) * sizeof(*t));
	if (!t)
		return NULL;
	d->trk = t;
	t = &t[d->ntrk++];
	memset(t, 0, sizeof(*t));
	t->cgid = cgid;
	snprintf(t->path, sizeof(t->path), "%s", path);
	return t;
}

static void track_drop(struct cgd *d, uint64_t cgid)
{
	size_t i;

	for (i = 0; i < d->ntrk; i++)
		if (d->trk[i].cgid == cgid) {
			d->trk[i] = d->trk[--d->ntrk];
			return;
		}
}

size_t cgd_bound_count(const struct cgd *d)
{
	size_t i, n = 0;

	for (i = 0; i < d->ntrk; i++)
		n += !!d->trk[i].owned[0];
	return n;
}

/* Logs a per-cgroup condition once, not on every periodic reconcile. */
static void note(struct cgd_track *t, int level, const char *fmt, ...)
{
	char msg[CGD_NOTE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (t && !strcmp(t->note, msg))
		return;
	if (t)
		snprintf(t->note, sizeof(t->note), "%s", msg);
	cgd_log(level, "%s", msg);
}

/* Why the kernel does not enforce what is recorded, or NULL. */
static const char *not_enforced(const struct cg_status *st, char *buf,
				size_t len)
{
	int h;

	for (h = 0; h < CG_HOOK_MAX; h++) {
		const char *w = NULL;

		if (!st->available[h])
			continue;
		if (!st->enforced[h])
			w = "program not attached";
		else if (!st->linked[h])
			w = "link not pinned";
		else if (st->bound_slot[h] != st->meta.slot)
			w = "bound to another policy slot";
		if (w) {
			snprintf(buf, len, "%s: %s", cg_hooks[h].name, w);
			return buf;
		}
	}
	return NULL;
}

/* config kill_denied: what attach --kill-denied does, after each attach. */
static void kill_denied(struct cg_guard *g, const char *abs, const char *rel,
			const struct cg_policy *p)
{
	struct cg_kill_result kr;
	int err;

	cg_clearerr();
	err = cg_guard_kill_denied(g, abs, p, &kr);
	if (err)
		cgd_log(CGD_ERR, "kill_denied on %s: destroyed %u of %u denied "
			"sockets: %s", rel, kr.destroyed, kr.denied,
			*cg_lasterr() ? cg_lasterr() : strerror(-err));
	else if (kr.denied)
		cgd_log(CGD_INFO, "kill_denied on %s: destroyed %u socket(s) "
			"policy '%s' denies (%u connections judged, %u closed "
			"meanwhile)", rel, kr.destroyed, p->name, kr.judged,
			kr.gone);
}

static int do_attach(struct cgd *d, struct cg_guard *g, const char *abs,
		     const char *rel, const struct cg_policy *p,
		     unsigned flags, struct cgd_track *t, const char *why)
{
	double t0 = now_ms(), ms;
	int err, deg = 0;

	cg_clearerr();
	err = cg_guard_attach(g, abs, p, flags, &deg);
	ms = now_ms() - t0;
	if (err) {
		d->attach_failures++;
		d->last.failed++;
		note(t, CGD_ERR, "cannot guard %s with policy '%s' (%s): %s",
		     rel, p->name, why, *cg_lasterr() ? cg_lasterr() :
		     strerror(-err));
		return err;
	}
	d->attaches++;
	if (t)
		t->note[0] = 0;
	cgd_log(deg ? CGD_WARN : CGD_INFO, "guarded %s with policy '%s' "
		"(%s) in %.2f ms%s", rel, p->name, why, ms, deg ?
		"; DEGRADED: applied without its LSM part (fail: open)" : "");
	if (d->cfg.kill_denied)
		kill_denied(g, abs, rel, p);
	return 0;
}

static int fail_differs(const struct cg_status *st, unsigned flags)
{
	return !(st->meta.flags & CG_CGF_FAIL_OPEN) !=
	       !(flags & CG_ATTACH_FAIL_OPEN);
}

/* What to do with a matched cgroup already guarded: NULL = leave it. */
static const char *decide(struct cgd_track *t, const struct cg_status *st,
			  const struct cgd_policy *dp, unsigned flags,
			  char *buf, size_t len)
{
	const char *why;

	if (strcmp(st->slot.name, dp->name)) {
		if (strcmp(t->owned, st->slot.name))
			return NULL;
		snprintf(buf, len, "rule now selects '%s' instead of '%s'",
			 dp->name, st->slot.name);
		return buf;
	}
	if (st->slot.hash != dp->hash)
		return "policy changed";
	if (fail_differs(st, flags))
		return "fail mode changed";
	why = not_enforced(st, buf, len);
	if (why) {
		cgd_log(CGD_WARN, "%s is recorded as guarded but not enforced "
			"(%s): re-attaching", st->meta.path, why);
		return "recorded but not enforced";
	}
	return "";
}

/* Marks a cgroup the daemon set (or adopted) for its rule's policy. */
static void own(struct cgd *d, struct cgd_track *t, const char *name,
		int log)
{
	if (log && strcmp(t->owned, name))
		cgd_log(CGD_INFO, "adopted %s: policy '%s' already enforced",
			t->path, name);
	snprintf(t->owned, sizeof(t->owned), "%s", name);
	d->last.adopted++;
}

/* Makes one cgroup (relative path, no leading '/') what its rule says. */
static int ensure(struct cgd *d, struct cg_guard *g, const char *rel)
{
	const struct cgd_rule *r = cgd_rule_match(&d->cfg, rel);
	const struct cgd_policy *dp;
	struct cg_cgroup cg;
	struct cg_status st;
	struct cgd_track *t;
	char buf[CGD_NOTE_MAX];
	const char *why = "new";
	int err, guarded;

	if (!r || cg_cgroup_resolve(rel, &cg))
		return 0;	/* no rule, or already gone */
	t = track_get(d, cg.id, cg.rel);
	if (!t)
		return -ENOMEM;
	t->seen = 1;
	guarded = !cg_guard_status(g, cg.id, &st);
	dp = cgd_policy_get(&d->pol, &d->npol, r->policy);
	if (!dp && guarded && !strcmp(st.slot.name, r->policy)) {
		own(d, t, r->policy, 0);	/* file gone: keep its last version */
		return 0;
	}
	if (!dp) {
		d->attach_failures++;
		d->last.failed++;
		note(t, CGD_ERR, "cannot guard %s: rule at line %d names "
		     "policy '%s', which is not loaded", cg.rel, r->line,
		     r->policy);
		return -ENOENT;
	}
	if (guarded) {
		why = decide(t, &st, dp, r->flags, buf, sizeof(buf));
		if (!why) {
			d->last.skipped++;
			note(t, CGD_INFO, "%s matches rule at line %d (policy "
			     "'%s') but is guarded by policy '%s' set outside "
			     "the daemon: leaving it", cg.rel, r->line,
			     dp->name, st.slot.name);
			return 0;
		}
		if (!*why) {
			own(d, t, dp->name, 1);
			return 0;
		}
	}
	err = do_attach(d, g, cg.abs, cg.rel, dp->p, r->flags, t, why);
	if (!err) {
		snprintf(t->owned, sizeof(t->owned), "%s", dp->name);
		if (!strcmp(why, "new"))
			d->last.attached++;
		else
			d->last.reenforced++;
	}
	return err;
}

static int open_state(struct cg_guard **g, int create)
{
	int err;

	cg_clearerr();
	err = cg_guard_open(g, create ? CG_OPEN_CREATE : 0);
	if (err && err != -ENOENT)
		cgd_log(CGD_ERR, "opening pinned state: %s", *cg_lasterr() ?
			cg_lasterr() : strerror(-err));
	if (!err && (*g)->pins.notice[0])	/* repaired: say so loudly */
		cgd_log(CGD_ERR, "%s", (*g)->pins.notice);
	return err;
}

static int gc_cb(const struct cg_status *st, void *ctx)
{
	struct cgd *d = ctx;

	cgd_log(CGD_INFO, "cgroup %s (policy '%s') is gone: released its "
		"links and pins", st->meta.path, st->slot.name);
	track_drop(d, st->cgid);
	d->last.removed++;
	return 0;
}

/* nft-backed cgroups (netfilter-compat/): a removed cgroup's rules go, a
 * cgroup recreated under its path gets the recorded policy again. */
static int nft_gc_cb(const struct cg_nft_rec *r, int updated, void *ctx)
{
	struct cgd *d = ctx;

	cgd_log(CGD_INFO, "cgroup %s (policy '%s', nft backend) %s", r->path,
		r->policy, updated ? "was recreated: its rules now match the "
		"new cgroup id" : "is gone: removed its nft rules");
	if (updated)
		d->last.reenforced++;
	else
		d->last.removed++;
	return 0;
}

static void nft_gc(struct cgd *d)
{
	cg_clearerr();
	if (cg_nft_gc(nft_gc_cb, d))
		cgd_log(CGD_WARN, "nft backend gc: %s", cg_lasterr());
}

/* A guarded cgroup no rule matches: put back a vanished attachment. */
static void restore(struct cgd *d, struct cg_guard *g,
		    const struct cg_status *st, const char *why)
{
	const char *src = st->slot.source;
	struct cg_policy *p = NULL;
	char err[CG_ERR_MAX], abs[PATH_MAX];
	unsigned flags = st->meta.flags & CG_CGF_FAIL_OPEN ?
			 CG_ATTACH_FAIL_OPEN : 0;
	struct cgd_track *t = track_get(d, st->cgid, st->meta.path);

	cgd_log(CGD_WARN, "%s is recorded as guarded but not enforced (%s)",
		st->meta.path, why);
	if (!strncmp(src, "builtin:", 8))
		src += 8;
	if (cg_policy_load(src, &p, err, sizeof(err)) ||
	    strcmp(p->name, st->slot.name)) {
		note(t, CGD_ERR, "cannot re-attach %s: policy source %s: %s",
		     st->meta.path, st->slot.source, p ? "now defines another "
		     "policy" : err);
		d->attach_failures++;
		d->last.failed++;
	} else if (!cg_cgroup_abs(st->meta.path, abs, sizeof(abs)) &&
		   !do_attach(d, g, abs, st->meta.path, p, flags, t,
			      "restoring recorded policy")) {
		d->last.reenforced++;
	}
	cg_policy_free(p);
}

struct verify_ctx {
	struct cgd *d;
	struct cg_guard *g;
};

static int verify_one(const struct cg_status *st, void *arg)
{
	struct verify_ctx *v = arg;
	struct cgd_track *t;
	char buf[128];
	const char *why;

	/* GC in the same pass (what cg_guard_gc does, without a second walk
	 * over every guarded cgroup's status). */
	if (!st->cgroup_exists) {
		if (!cg_guard_detach(v->g, NULL, st->cgid))
			gc_cb(st, v->d);
		return 0;
	}
	t = track_get(v->d, st->cgid, st->meta.path);
	if (t)
		t->seen = 1;
	/* What the daemon owns was checked by ensure(). */
	if (t && t->owned[0])
		return 0;
	why = not_enforced(st, buf, sizeof(buf));
	if (why)
		restore(v->d, v->g, st, why);
	return 0;
}

static void drop_unseen(struct cgd *d)
{
	size_t i = 0;

	while (i < d->ntrk) {
		if (d->trk[i].seen)
			i++;
		else
			d->trk[i] = d->trk[--d->ntrk];
	}
}

static void ensure_queued(struct cgd *d, struct cg_guard *g)
{
	size_t i;

	for (i = 0; i < d->nnewcg; i++)
		ensure(d, g, d->newcg[i]);
	cgd_clear_queue(d);
}

int cgd_reconcile_full(struct cgd *d, const char *why)
{
	struct verify_ctx v = { .d = d };
	double t0 = now_ms();
	size_t i;
	int err;

	memset(&d->last, 0, sizeof(d->last));
	snprintf(d->last.why, sizeof(d->last.why), "%s", why);
	d->need_full = d->need_gc = 0;
	cgd_clear_queue(d);
	err = cgd_cgw_scan(d, "");
	if (!err)
		err = open_state(&v.g, d->nnewcg > 0);
	if (!err) {
		for (i = 0; i < d->ntrk; i++)
			d->trk[i].seen = 0;
		ensure_queued(d, v.g);	/* first: it is what someone waits for */
		err = cg_guard_foreach(v.g, verify_one, &v);
		if (!err)
			drop_unseen(d);
		cg_guard_close(v.g);
	} else if (err == -ENOENT) {
		err = 0;	/* nothing pinned and nothing to guard */
		d->ntrk = 0;
	}
	nft_gc(d);
	cgd_clear_queue(d);
	d->last.when = time(NULL);
	d->last.ms = now_ms() - t0;
	d->last.err = err;
	CG_USDT(reconcile, why, d->last.attached, d->last.removed,
		d->last.failed, (uint64_t)(d->last.ms * 1e6), err);
	/* Quiet when a periodic pass found everything as it should be. */
	cgd_log(strcmp(why, "periodic") || d->last.attached ||
		d->last.reenforced || d->last.removed || d->last.failed ?
		CGD_INFO : CGD_DEBUG, "reconcile (%s): %u "
		"attached, %u adopted, %u re-attached, %u removed, %u left to "
		"others, %u failed in %.1f ms", why, d->last.attached,
		d->last.adopted, d->last.reenforced, d->last.removed,
		d->last.skipped, d->last.failed, d->last.ms);
	return err;
}

/* Event-driven work is not part of the last full reconcile's numbers. */
int cgd_reconcile_queued(struct cgd *d)
{
	struct cgd_reconcile_stats keep = d->last;
	struct cg_guard *g;
	int err;

	if (!d->nnewcg)
		return 0;
	err = open_state(&g, 1);
	if (err) {
		d->attach_failures += d->nnewcg;
		cgd_clear_queue(d);
		return err;
	}
	ensure_queued(d, g);
	cg_guard_close(g);
	d->last = keep;
	return 0;
}

int cgd_gc_queued(struct cgd *d)
{
	struct cgd_reconcile_stats keep = d->last;
	struct cg_guard *g = NULL;
	struct cg_status st;
	uint64_t cgid;
	size_t i, k;
	int err = 0;

	for (i = 0; i < d->ndelcg && !err; i++) {
		for (k = 0; k < d->ntrk; k++)	/* track paths start with '/' */
			if (!strcmp(d->trk[k].path + 1, d->delcg[i]))
				break;
		if (k == d->ntrk)
			continue;	/* nothing the daemon knows as guarded */
		cgid = d->trk[k].cgid;
		if (!g && (err = open_state(&g, 0)))
			break;
		if (!cg_guard_status(g, cgid, &st) && !st.cgroup_exists &&
		    !cg_guard_detach(g, NULL, cgid))
			gc_cb(&st, d);
	}
	if (g)
		cg_guard_close(g);
	cgd_clear_paths(&d->delcg, &d->ndelcg);
	d->last = keep;
	return err == -ENOENT ? 0 : err;
}

int cgd_gc(struct cgd *d)
{
	struct cg_guard *g;
	int err;
	struct cgd_reconcile_stats keep = d->last;

	d->need_gc = 0;
	nft_gc(d);
	err = open_state(&g, 0);
	if (err)
		return err == -ENOENT ? 0 : err;
	err = cg_guard_gc(g, gc_cb, d);
	cg_guard_close(g);
	d->last = keep;
	return err;
}
