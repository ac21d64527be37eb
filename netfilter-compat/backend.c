// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The nft backend's operations: attach (or swap), detach, read back, gc.
 *
 * Every change is one transaction built from what the kernel has now (the
 * view), never from what cgguard believes it has: a swap adds the new
 * generation's chains and sets, replaces the dispatch rules in place
 * (`replace rule ... handle`) and deletes every older object of the
 * cgroup, all in one batch, so there is no moment without a policy and a
 * refused batch changes nothing.  Everything that is not cgguard's (other
 * tables, foreign chains or rules inside table inet cgguard) is left as
 * it is; the table itself goes only when nothing else is in it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "nft.h"
#include "nftstate.h"
#include "../cgroup/cgroup.h"
#include "../policy/compile.h"
#include "../bpf/loader.h"
#include "../lib/err.h"

static int is_dir_chain(const char *rest)
{
	return (rest[0] == 'o' || rest[0] == 'i') && !rest[1];
}

/* Is rule handle @h of base chain @dir a dispatch rule of @cgid? */
static int disp_of(const struct nft_view *v, uint64_t cgid, int dir,
		   uint64_t h)
{
	size_t i;

	for (i = 0; i < v->ndisp; i++)
		if (v->disp[i].dir == dir && v->disp[i].handle == h)
			return !cgid ? nft_obj_ours(v->disp[i].target) :
			       !!nft_obj_gen(v->disp[i].target, cgid, NULL);
	return 0;
}

/*
 * Deletes @cgid's dispatch rules (except @skip[dir], being replaced) and
 * its objects of every generation but @keep: direction chains first (they
 * reference the maps), then maps (they reference class chains), then the
 * class chains.  Chains are flushed first: the kernel deletes only empty
 * chains.  Returns the number of deletions.
 */
static int emit_removal(FILE *o, const struct nft_view *v, uint64_t cgid,
			unsigned keep, const uint64_t *skip)
{
	const char *rest;
	size_t i;
	int pass, n = 0;

	for (i = 0; i < v->ndisp; i++) {
		const struct nft_kdisp *d = &v->disp[i];

		if (!nft_obj_gen(d->target, cgid, NULL) ||
		    (skip && skip[d->dir] == d->handle))
			continue;
		fprintf(o, "delete rule inet %s %s handle %" PRIu64 "\n",
			CG_NFT_TABLE, cg_nft_hooks[d->dir], d->handle);
		n++;
	}
	for (pass = 0; pass < 3; pass++) {
		for (i = 0; i < v->nobj; i++) {
			const struct nft_kobj *k = &v->obj[i];
			unsigned g = nft_obj_gen(k->name, cgid, &rest);
			int chain = k->kind == NFT_K_CHAIN;

			if (!g || g == keep)
				continue;
			if ((pass == 0 && (!chain || !is_dir_chain(rest))) ||
			    (pass == 1 && chain) ||
			    (pass == 2 && (!chain || is_dir_chain(rest))))
				continue;
			if (chain)
				fprintf(o, "flush chain inet %s %s\ndelete chain "
					"inet %s %s\n", CG_NFT_TABLE, k->name,
					CG_NFT_TABLE, k->name);
			else
				fprintf(o, "delete %s inet %s %s\n",
					k->kind == NFT_K_MAP ? "map" : "set",
					CG_NFT_TABLE, k->name);
			n++;
		}
	}
	return n;
}

/* After @cgid's part is gone: base chains without other rules go, and
 * the table goes if nothing else (another cgroup's or anyone's) is in it. */
static void emit_cleanup(FILE *o, const struct nft_view *v, uint64_t cgid)
{
	int keep_chain[CG_DIR_MAX] = { 0, 0 }, keep_table = 0, dir;
	size_t i;

	for (i = 0; i < v->nobj; i++) {
		const char *n = v->obj[i].name;

		if (v->obj[i].kind == NFT_K_CHAIN &&
		    (!strcmp(n, cg_nft_hooks[0]) || !strcmp(n, cg_nft_hooks[1])))
			continue;
		if (!nft_obj_gen(n, cgid, NULL))
			keep_table = 1;		/* another cgroup's, or foreign */
	}
	for (i = 0; i < v->nrules; i++)
		for (dir = 0; dir < CG_DIR_MAX; dir++)
			if (!strcmp(v->rules[i].chain, cg_nft_hooks[dir]) &&
			    !disp_of(v, cgid, dir, v->rules[i].handle))
				keep_chain[dir] = 1;
	if (!keep_table && !keep_chain[0] && !keep_chain[1]) {
		fprintf(o, "delete table inet %s\n", CG_NFT_TABLE);
		return;
	}
	for (dir = 0; dir < CG_DIR_MAX; dir++) {
		int exists = 0;

		for (i = 0; i < v->nobj; i++)
			exists |= v->obj[i].kind == NFT_K_CHAIN &&
				  !strcmp(v->obj[i].name, cg_nft_hooks[dir]);
		if (exists && !keep_chain[dir] && keep_table)
			fprintf(o, "delete chain inet %s %s\n", CG_NFT_TABLE,
				cg_nft_hooks[dir]);
	}
}

static int run_script(int nsfd, char *buf, size_t len)
{
	int err = cg_nft_apply(nsfd, buf, len, 0);

	free(buf);
	return err;
}

static int attach_locked(const struct cg_nft_target *t, const char *netns,
			 const struct cg_policy *p, unsigned flags)
{
	struct cg_nft_rec r, old;
	struct nft_view v;
	uint64_t handle[CG_DIR_MAX] = { 0, 0 };
	char *buf = NULL;
	size_t len = 0, i;
	int nsfd = -1, had_old, err;
	unsigned g;
	FILE *o;

	memset(&r, 0, sizeof(r));
	err = cg_nft_netns_open(netns, &r, &nsfd);
	if (err)
		return err;
	had_old = !cg_nft_rec_load(t->cgid, &old);
	if (had_old && (old.ns_ino != r.ns_ino || old.ns_dev != r.ns_dev)) {
		close(nsfd);
		return cg_seterr(-EBUSY, "cgroup %s is guarded by the nft "
				 "backend in network namespace %s: detach it "
				 "first", t->rel, old.netns);
	}
	err = nft_view_read(nsfd, &v);
	if (err)
		goto out_ns;
	r.gen = had_old ? old.gen : 0;
	for (i = 0; i < v.nobj; i++)
		if ((g = nft_obj_gen(v.obj[i].name, t->cgid, NULL)) > r.gen)
			r.gen = g;
	r.gen++;
	for (i = 0; i < v.ndisp; i++)
		if (nft_obj_gen(v.disp[i].target, t->cgid, NULL) &&
		    !handle[v.disp[i].dir])
			handle[v.disp[i].dir] = v.disp[i].handle;
	o = open_memstream(&buf, &len);
	if (!o) {
		err = -ENOMEM;
		goto out_view;
	}
	err = cg_nft_script(o, p, t, r.gen, handle);
	if (!err)
		emit_removal(o, &v, t->cgid, r.gen, handle);
	fclose(o);
	if (err) {
		free(buf);
		goto out_view;
	}
	r.cgid = t->cgid;
	r.level = t->level;
	r.flags = flags;
	r.mode = p->mode;
	r.wants = cg_policy_wants(p);
	r.attached_ns = had_old ? old.attached_ns :
			(uint64_t)time(NULL) * 1000000000ull;
	snprintf(r.path, sizeof(r.path), "%s", t->rel);
	snprintf(r.policy, sizeof(r.policy), "%s", p->name);
	snprintf(r.source, sizeof(r.source), "%s", p->source);
	/* Record first: a crash between the two leaves a record whose
	 * generation the kernel lacks, which the read-back reports. */
	err = cg_nft_rec_save(&r);
	if (!err)
		err = run_script(nsfd, buf, len);
	else
		free(buf);
	if (err && had_old)
		cg_nft_rec_save(&old);
	else if (err)
		cg_nft_rec_remove(t->cgid);
out_view:
	nft_view_free(&v);
out_ns:
	close(nsfd);
	return err;
}

int cg_nft_attach(const char *cgpath, const char *netns,
		  const struct cg_policy *p, unsigned flags, int *degraded)
{
	struct cg_nft_target t;
	unsigned f = 0;
	int lock, err;

	if (degraded)
		*degraded = 0;
	err = cg_nft_available();
	if (!err)
		err = cg_nft_target(cgpath, &t);
	if (err)
		return err;
	if (flags & CG_ATTACH_FAIL_OPEN)
		f |= CG_CGF_FAIL_OPEN;
	if (cg_policy_wants(p) & (CG_WANT_SOCKETS | CG_WANT_LSM)) {
		if (!(flags & CG_ATTACH_FAIL_OPEN))
			return cg_seterr(-EOPNOTSUPP, "policy %s has a "
				"sockets: section or on_violation: kill, which "
				"the nft backend cannot enforce (no EPERM at "
				"the syscall, no bind policy, no raw-socket or "
				"family control): use the BPF backend, or "
				"--fail open to apply only its packet rules",
				p->name);
		f |= CG_CGF_DEGRADED;
		if (degraded)
			*degraded = 1;
	}
	lock = cg_nft_lock();
	if (lock < 0)
		return lock;
	err = attach_locked(&t, netns, p, f);
	close(lock);
	return err;
}

/* The record of a cgroup given by path (which may be gone) or id. */
static int find_rec(const char *cgpath, uint64_t cgid, struct cg_nft_rec *r)
{
	char mnt[PATH_MAX], rel[PATH_MAX];
	struct cg_nft_rec *all;
	struct cg_cgroup cg;
	size_t n, i, l;
	int err;

	if (cgid)
		return cg_nft_rec_load(cgid, r);
	err = cg_cgroup_resolve(cgpath, &cg);
	if (!err)
		return cg_nft_rec_load(cg.id, r);
	cg_clearerr();
	/* Gone: the path as recorded (below the cgroup2 mount). */
	if (cg_cgroup2_mount(mnt, sizeof(mnt)))
		return -ENOENT;
	l = strlen(mnt);
	if (!strncmp(cgpath, mnt, l) && cgpath[l] == '/')
		cgpath += l;
	snprintf(rel, sizeof(rel), "%s%s", *cgpath == '/' ? "" : "/", cgpath);
	if (cg_nft_rec_all(&all, &n))
		return -ENOENT;
	for (i = 0, err = -ENOENT; i < n && err; i++) {
		if (!strcmp(all[i].path, rel)) {
			*r = all[i];
			err = 0;
		}
	}
	free(all);
	return err;
}

static int detach_locked(const struct cg_nft_rec *r)
{
	struct nft_view v;
	char *buf = NULL;
	size_t len = 0;
	int nsfd, err, n;
	FILE *o;

	nsfd = cg_nft_netns_reopen(r);
	if (nsfd < 0)	/* the namespace is gone, and its table with it */
		return cg_nft_rec_remove(r->cgid);
	err = nft_view_read(nsfd, &v);
	if (err)
		goto out;
	o = open_memstream(&buf, &len);
	if (!o) {
		err = -ENOMEM;
		nft_view_free(&v);
		goto out;
	}
	n = emit_removal(o, &v, r->cgid, 0, NULL);
	if (n)
		emit_cleanup(o, &v, r->cgid);
	fclose(o);
	err = n ? run_script(nsfd, buf, len) : (free(buf), 0);
	nft_view_free(&v);
	if (!err)
		err = cg_nft_rec_remove(r->cgid);
out:
	close(nsfd);
	return err;
}

int cg_nft_detach(const char *cgpath, uint64_t cgid)
{
	struct cg_nft_rec r;
	int lock, err;

	if (find_rec(cgpath, cgid, &r))
		return -ENOENT;
	err = cg_nft_available();
	if (err)
		return err;
	lock = cg_nft_lock();
	if (lock < 0)
		return lock;
	err = detach_locked(&r);
	close(lock);
	return err;
}

/* ---- read-back ------------------------------------------------------------ */

/* Cgroup id a dispatch rule matches, from what nft printed. */
static uint64_t printed_id(const char *s)
{
	char mnt[PATH_MAX], p[2 * PATH_MAX];
	uint64_t id = 0;

	if (*s && strspn(s, "0123456789") == strlen(s))
		return strtoull(s, NULL, 10);	/* no such cgroup any more */
	if (!cg_cgroup2_mount(mnt, sizeof(mnt))) {
		snprintf(p, sizeof(p), "%s/%s", mnt, s);
		if (!access(p, F_OK) && !cg_cgroup_id(p, &id))
			return id;
	}
	snprintf(p, sizeof(p), "/sys/fs/cgroup/%s", s);
	if (cg_cgroup_id(p, &id))
		id = 0;
	cg_clearerr();
	return id;
}

static int has_chain(const struct nft_view *v, const char *name)
{
	size_t i;

	for (i = 0; i < v->nobj; i++)
		if (v->obj[i].kind == NFT_K_CHAIN && !strcmp(v->obj[i].name, name))
			return 1;
	return 0;
}

/* Class rules say "cgguard ACTION r=COUNTER" (no r= when attribution was
 * folded); the direction chain's first rule "cgguard established". */
static void count_rule(struct cg_nft_status *st, const struct nft_krule *k,
		       int dir)
{
	struct cg_nft_dir_ctr *c = &st->ctr[dir];
	unsigned r;
	char act[16];
	int res, n;

	if (!strcmp(k->comment, "cgguard established")) {
		c->est_pkts += k->pkts;
		c->est_bytes += k->bytes;
		c->pkts[CG_RES_PASS] += k->pkts;
		c->bytes[CG_RES_PASS] += k->bytes;
		return;
	}
	n = sscanf(k->comment, "cgguard %15s r=%u", act, &r);
	if (n < 1)
		return;
	res = !strcmp(act, "allow") ? CG_RES_PASS : !strcmp(act, "deny") ?
	      CG_RES_DROP : CG_RES_AUDIT;
	c->pkts[res] += k->pkts;
	c->bytes[res] += k->bytes;
	if (n == 1)
		st->folded = 1;
	else if (st->hits && r < CG_RULES_PER_SLOT)
		st->hits[r] += k->pkts;
}

static void fill_status(struct cg_nft_status *st, const struct nft_view *v)
{
	const struct cg_nft_rec *r = &st->rec;
	char want[CG_DIR_MAX][64];
	const char *rest;
	size_t i;
	int dir;
	unsigned g;

	for (i = 0; i < v->nobj; i++)
		if ((g = nft_obj_gen(v->obj[i].name, r->cgid, NULL)) > st->kgen)
			st->kgen = g;
	for (dir = 0; dir < CG_DIR_MAX; dir++)
		snprintf(want[dir], sizeof(want[dir]), "cg%" PRIu64 "g%u%c",
			 r->cgid, st->kgen, dir ? 'i' : 'o');
	for (i = 0; i < v->ndisp && st->kgen; i++) {
		const struct nft_kdisp *d = &v->disp[i];

		if (!strcmp(d->target, want[d->dir]) && d->level == r->level &&
		    printed_id(d->cg) == r->cgid && has_chain(v, d->target))
			st->hooked[d->dir] = 1;
	}
	for (i = 0; i < v->nrules; i++) {
		g = nft_obj_gen(v->rules[i].chain, r->cgid, &rest);
		if (g && g == st->kgen)
			count_rule(st, &v->rules[i], *rest == 'i');
	}
	if (!st->netns_ok)
		st->why = "network namespace gone";
	else if (!v->table)
		st->why = "table inet " CG_NFT_TABLE " missing";
	else if (!st->kgen)
		st->why = "chains missing";
	else if (!st->cgroup_exists)
		st->why = st->path_id ? "cgroup recreated under a new id "
			  "(cgguard gc re-applies)" : "cgroup removed";
	else if (!st->hooked[0] || !st->hooked[1])
		st->why = "dispatch rule missing or matching another cgroup";
}

struct view_cache {
	uint64_t dev, ino;
	int ok;
	struct nft_view v;
};

static struct nft_view *cached_view(struct view_cache **c, size_t *n,
				    const struct cg_nft_rec *r, int *ok)
{
	struct view_cache *t;
	size_t i;
	int fd;

	for (i = 0; i < *n; i++)
		if ((*c)[i].dev == r->ns_dev && (*c)[i].ino == r->ns_ino)
			goto found;
	t = realloc(*c, (*n + 1) * sizeof(**c));
	if (!t)
		return NULL;
	*c = t;
	i = (*n)++;
	memset(&t[i], 0, sizeof(t[i]));
	t[i].dev = r->ns_dev;
	t[i].ino = r->ns_ino;
	fd = cg_nft_netns_reopen(r);
	t[i].ok = fd >= 0 && !nft_view_read(fd, &t[i].v);
	if (fd >= 0)
		close(fd);
found:
	*ok = (*c)[i].ok;
	return &(*c)[i].v;
}

static int status_each(struct cg_nft_rec *recs, size_t n, uint64_t only,
		       cg_nft_cb cb, void *ctx)
{
	static const struct nft_view empty;
	struct view_cache *cache = NULL;
	struct cg_nft_status st;
	struct cg_cgroup cg;
	size_t ncache = 0, i;
	int err = 0, ok = 0;

	for (i = 0; i < n && !err; i++) {
		const struct nft_view *v;

		if (only && recs[i].cgid != only)
			continue;
		memset(&st, 0, sizeof(st));
		st.rec = recs[i];
		st.hits = calloc(CG_RULES_PER_SLOT, sizeof(*st.hits));
		if (!cg_cgroup_resolve(recs[i].path, &cg))
			st.path_id = cg.id;
		cg_clearerr();
		st.cgroup_exists = st.path_id == recs[i].cgid;
		v = cached_view(&cache, &ncache, &recs[i], &ok);
		st.netns_ok = ok;
		fill_status(&st, ok && v ? v : &empty);
		err = cb(&st, ctx);
		free(st.hits);
	}
	for (i = 0; i < ncache; i++)
		nft_view_free(&cache[i].v);
	free(cache);
	return err;
}

int cg_nft_foreach(cg_nft_cb cb, void *ctx)
{
	struct cg_nft_rec *recs;
	size_t n;
	int err = cg_nft_rec_all(&recs, &n);

	if (!err && n && !(err = cg_nft_available()))
		err = status_each(recs, n, 0, cb, ctx);
	free(recs);
	return err;
}

int cg_nft_status_of(const char *cgpath, cg_nft_cb cb, void *ctx)
{
	struct cg_nft_rec r;
	int err;

	if (find_rec(cgpath, 0, &r))
		return -ENOENT;
	err = cg_nft_available();
	return err ? err : status_each(&r, 1, r.cgid, cb, ctx);
}

/* ---- gc ------------------------------------------------------------------ */

/* A cgroup recreated under its recorded path gets the recorded policy. */
static int reapply(const struct cg_nft_rec *r)
{
	struct cg_nft_target t;
	struct cg_policy *p = NULL;
	const char *src = r->source;
	char e[CG_ERR_MAX];
	int err;

	if (!strncmp(src, "builtin:", 8))
		src += 8;
	err = cg_policy_load(src, &p, e, sizeof(e));
	if (err)
		return cg_seterr(err, "%s", e);
	err = cg_nft_target(r->path, &t);
	if (!err)
		err = attach_locked(&t, r->netns, p, r->flags);
	cg_policy_free(p);
	return err;
}

int cg_nft_gc(cg_nft_gc_cb cb, void *ctx)
{
	struct cg_nft_rec *recs;
	struct cg_cgroup cg;
	size_t n, i;
	int lock, err, first = 0, nsfd, upd;

	err = cg_nft_rec_all(&recs, &n);
	if (err || !n) {
		free(recs);
		return err;
	}
	lock = cg_nft_lock();
	if (lock < 0) {
		free(recs);
		return lock;
	}
	for (i = 0; i < n; i++) {
		const struct cg_nft_rec *r = &recs[i];

		nsfd = cg_nft_netns_reopen(r);
		if (nsfd >= 0)
			close(nsfd);
		err = cg_cgroup_resolve(r->path, &cg);
		cg_clearerr();
		if (nsfd >= 0 && !err && cg.id == r->cgid)
			continue;		/* alive */
		upd = nsfd >= 0 && !err && !reapply(r);
		err = detach_locked(r);
		if (!err && cb)
			err = cb(r, upd, ctx);
		if (err && !first)
			first = err;
	}
	close(lock);
	free(recs);
	return first;
}
