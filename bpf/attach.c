// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Links, bindings, attach/detach/swap, status and counters.
 *
 * Every hook of cg_hooks[] that this kernel loaded gets one bpf_link per
 * guarded cgroup, pinned as link/<cgid>-<hook>.  The binding (which slot
 * the cgroup enforces) lives in the cgroup storage of each attachment, so
 * a swap is one atomic value update per attach type.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "loader_int.h"
#include "probe.h"
#include "../cgroup/cgroup.h"
#include "../lib/err.h"
#include "../lib/usdt.h"

/* Name of the link pin in link/. */
static void link_pin(char *buf, size_t len, __u64 cgid, int hook)
{
	snprintf(buf, len, "%llu-%s", (unsigned long long)cgid,
		 cg_hooks[hook].name);
}

/* 1 if our link for (cgid, hook) is pinned and still on the cgroup. */
static int link_alive(struct cg_guard *g, __u64 cgid, int hook)
{
	struct bpf_link_info li = {};
	__u32 len = sizeof(li);
	char p[64];
	int fd, ok;

	link_pin(p, sizeof(p), cgid, hook);
	fd = cg_pin_get_at(pindir(g, CG_PIN_LINK), p);
	if (fd < 0)
		return 0;
	ok = !bpf_obj_get_info_by_fd(fd, &li, &len) &&
	     li.type == BPF_LINK_TYPE_CGROUP && li.cgroup.cgroup_id == cgid;
	close(fd);
	return ok;
}

static int ensure_link(struct cg_guard *g, int cgfd, __u64 cgid, int hook,
		       int *created)
{
	char p[64], what[96];
	int fd, err;

	*created = 0;
	if (link_alive(g, cgid, hook))
		return 0;
	link_pin(p, sizeof(p), cgid, hook);
	/* a dead link from a removed cgroup of the same id */
	unlinkat(pindir(g, CG_PIN_LINK), p, 0);
	fd = bpf_link_create(g->prog_fd[hook], cgfd,
			     cg_hooks[hook].attach_type, NULL);
	snprintf(what, sizeof(what), "attaching the %s program",
		 cg_hooks[hook].name);
	if (fd < 0)
		return bpf_err(-errno, what);
	err = cg_pin_at(pindir(g, CG_PIN_LINK), p, fd);
	if (err) {
		bpf_link_detach(fd);
		close(fd);
		return bpf_err(err, "pinning the cgroup link");
	}
	close(fd);
	*created = 1;
	return 0;
}

static void drop_link(struct cg_guard *g, __u64 cgid, int hook)
{
	char p[64];
	int fd;

	link_pin(p, sizeof(p), cgid, hook);
	fd = cg_pin_get_at(pindir(g, CG_PIN_LINK), p);
	if (fd >= 0) {
		/* Detach now, even if another process still holds the fd. */
		bpf_link_detach(fd);
		close(fd);
	}
	unlinkat(pindir(g, CG_PIN_LINK), p, 0);
}

void storage_key(__u64 cgid, int hook, struct bpf_cgroup_storage_key *k)
{
	memset(k, 0, sizeof(*k));
	k->cgroup_inode_id = cgid;
	k->attach_type = cg_hooks[hook].attach_type;
}

/*
 * Increments one of cg_info's counters, which never take the value 0:
 * last_gen (0 means "empty" in a socket's cache) or, with @epoch, epoch
 * (0 means "no copy" to the programs).  Writers hold the pin root's
 * exclusive lock.
 */
static int bump_info(struct cg_guard *g, int epoch, __u64 *val)
{
	struct cg_info info;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(g->map_fd[CG_MAP_INFO], &zero, &info))
		return bpf_err(-errno, "reading cg_info");
	if (epoch) {
		if (!++info.epoch)
			info.epoch = 1;
		*val = info.epoch;
	} else {
		if (!++info.last_gen)
			info.last_gen = 1;
		*val = info.last_gen;
	}
	if (bpf_map_update_elem(g->map_fd[CG_MAP_INFO], &zero, &info, BPF_ANY))
		return bpf_err(-errno, "writing cg_info");
	return 0;
}

/*
 * A binding generation no attachment has had: sockets tag their cached
 * verdicts with it, so a new one makes every connection of the cgroup be
 * judged again, and a verdict cached under another attachment (a nested
 * guarded cgroup, or this cgroup before a detach) can never be mistaken
 * for this one's.
 */
static int next_gen(struct cg_guard *g, __u32 *gen)
{
	__u64 v = 0;
	int err = bump_info(g, 0, &v);

	*gen = (__u32)v;
	return err;
}

/* Tells the cgroup programs that bindings changed (cg_info.epoch). */
static int bump_epoch(struct cg_guard *g)
{
	__u64 v;

	return bump_info(g, 1, &v);
}

static int bind_slot(struct cg_guard *g, __u64 cgid, int hook, __u32 slot,
		     __u32 gen)
{
	struct bpf_cgroup_storage_key k;
	struct cg_binding b = {};

	storage_key(cgid, hook, &k);
	if (bpf_map_lookup_elem(g->map_fd[CG_MAP_BINDING], &k, &b))
		return bpf_err(-errno, "reading the cgroup binding");
	b.slot = slot;
	b.gen = gen;
	b.cgid = cgid;
	/* Replaces the whole value at once: programs see old or new slot. */
	if (bpf_map_update_elem(g->map_fd[CG_MAP_BINDING], &k, &b, BPF_ANY))
		return bpf_err(-errno, "binding the cgroup to its policy");
	return 0;
}

static int read_binding(struct cg_guard *g, __u64 cgid, int hook, __u32 *slot)
{
	struct bpf_cgroup_storage_key k;
	struct cg_binding b;

	storage_key(cgid, hook, &k);
	if (bpf_map_lookup_elem(g->map_fd[CG_MAP_BINDING], &k, &b))
		return -errno;
	*slot = b.slot;
	return 0;
}

/* ---- attach / detach ---------------------------------------------------- */

/* Links every available hook, then binds them all to @slot. */
static int attach_links(struct cg_guard *g, const struct cg_cgroup *cg,
			int cgfd, __u32 slot)
{
	int created[CG_HOOK_MAX] = {}, h, err = 0;
	__u32 gen = 0;

	/* Global LSM hooks are attached once at load, not per cgroup; they
	 * find the cgroup's slot in cg_cgroups (written by record()). */
	for (h = 0; h < CG_HOOK_MAX && !err; h++)
		if (g->prog_fd[h] >= 0 && !cg_hooks[h].global)
			err = ensure_link(g, cgfd, cg->id, h, &created[h]);
	/* Bind only once every link exists: all layers switch together,
	 * under one new generation. */
	if (!err)
		err = next_gen(g, &gen);
	for (h = 0; h < CG_HOOK_MAX && !err; h++)
		if (g->prog_fd[h] >= 0 && !cg_hooks[h].global)
			err = bind_slot(g, cg->id, h, slot, gen);
	/* After the bindings, even a failed half: the programs then drop
	 * their per-CPU copies and read what is bound now. */
	if (gen) {
		int e2 = bump_epoch(g);

		err = err ? err : e2;
	}
	if (err)
		for (h = 0; h < CG_HOOK_MAX; h++)
			if (created[h])
				drop_link(g, cg->id, h);
	return err;
}

static void drop_links(struct cg_guard *g, __u64 cgid)
{
	int h;

	for (h = 0; h < CG_HOOK_MAX; h++)
		drop_link(g, cgid, h);
}

/* Refuses, or allows degraded, a policy needing layers we lack (policy/validate.c). */
static int check_layers(struct cg_guard *g, const struct cg_policy *p,
			unsigned flags, int *degraded)
{
	struct cg_info info = {};
	char perr[CG_ERR_MAX];
	__u32 zero = 0;
	int err = cg_policy_layers_check(p, cg_guard_has_lsm(g), flags & CG_ATTACH_FAIL_OPEN,
					 degraded, perr, sizeof(perr));

	if (err || *degraded)
		bpf_map_lookup_elem(g->map_fd[CG_MAP_INFO], &zero, &info);
	if (err)
		return cg_seterr(err, "%s; the kernel said: %s", perr,
				 info.lsm_err ? strerror(-info.lsm_err) : "not loaded");
	if (*degraded) {
		info.degraded++;
		bpf_map_update_elem(g->map_fd[CG_MAP_INFO], &zero, &info, BPF_ANY);
	}
	return 0;
}

/* What `policy check` runs too (policy/validate.c). */
static int compile_all(const struct cg_policy *p, struct cg_compiled *c,
		       struct cg_sockcfg *sc)
{
	char perr[CG_ERR_MAX];
	int err = cg_policy_prepare(p, c, sc, perr, sizeof(perr));

	if (err)
		return cg_seterr(err, "%s", err == -EINVAL ? perr :
				 "compiling policy: out of memory");
	return 0;
}

static int record(struct cg_guard *g, const struct cg_cgroup *cg,
		  const struct cg_cgroup_meta *old, int had_old, __u32 slot,
		  unsigned flags, int degraded)
{
	struct cg_cgroup_meta cm = had_old ? *old : (struct cg_cgroup_meta){};
	struct timespec ts;

	cm.slot = slot;
	cm.flags = (flags & CG_ATTACH_FAIL_OPEN ? CG_CGF_FAIL_OPEN : 0) |
		   (flags & CG_ATTACH_DELEGATED ? CG_CGF_DELEGATED : 0) |
		   (degraded ? CG_CGF_DEGRADED : 0);
	if (!had_old) {
		clock_gettime(CLOCK_REALTIME, &ts);
		cm.attached_ns = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	}
	memcpy(cm.path, cg->rel, strlen(cg->rel) + 1);
	if (bpf_map_update_elem(g->map_fd[CG_MAP_CGROUPS], &cg->id, &cm,
				BPF_ANY))
		return bpf_err(-errno, "recording the guarded cgroup");
	return 0;
}

int cg_cgroup_check_rel(const struct cg_cgroup *cg)
{
	if (strlen(cg->rel) >= sizeof(((struct cg_cgroup_meta *)0)->path))
		return cg_seterr(-ENAMETOOLONG, "cgroup path %s is longer than "
				 "%zu bytes", cg->rel,
				 sizeof(((struct cg_cgroup_meta *)0)->path) - 1);
	return 0;
}

static int attach_cg(struct cg_guard *g, const struct cg_cgroup *cgp,
		     int cgfd, const struct cg_policy *p, unsigned flags,
		     int *degraded)
{
	const struct cg_cgroup cg = *cgp;
	struct cg_cgroup_meta old = {};
	struct cg_compiled c;
	struct cg_sockcfg sc;
	__u32 slot = 0;
	int err, fresh = 0, had_old, deg = 0;

	err = cg_cgroup_check_rel(&cg);
	if (err)
		return err;
	err = check_layers(g, p, flags, &deg);
	if (!err)
		err = compile_all(p, &c, &sc);
	if (err)
		return err;
	had_old = !bpf_map_lookup_elem(g->map_fd[CG_MAP_CGROUPS], &cg.id, &old);
	err = find_slot(g, &c, p, &slot, &fresh);
	if (!err && fresh)
		err = claim_slot(g, slot, &c, &sc, p);
	cg_compiled_free(&c);
	if (err)
		return err;
	err = attach_links(g, &cg, cgfd, slot);
	if (!err) {
		err = record(g, &cg, &old, had_old, slot, flags, deg);
		if (err && had_old)	/* roll back to exactly what was there */
			attach_links(g, &cg, cgfd, old.slot);
		else if (err)
			drop_links(g, cg.id);
	}
	if (err)
		return err;	/* a fresh slot stays cached, unbound */
	if (!had_old || old.slot != slot) {
		slot_ref(g, slot, 1);
		if (had_old)
			slot_ref(g, old.slot, -1);
	}
	if (had_old && old.slot != slot)
		cg_cgrule_forget(g, cg.id, old.slot);
	if (had_old && old.slot != slot)
		CG_USDT(policy_swap, cg.rel, cg.id, old.slot, slot, p->name);
	if (degraded)
		*degraded = deg;
	return 0;
}

/* attach_start/attach_done probes around every attach (CLI, hook, daemon). */
int cg_guard_attach_fd(struct cg_guard *g, const struct cg_cgroup *cg,
		       int cgfd, const struct cg_policy *p, unsigned flags,
		       int *degraded)
{
	uint64_t t0 = cg_usdt_now();
	int err;

	CG_USDT(attach_start, cg->abs, p->name);
	err = attach_cg(g, cg, cgfd, p, flags, degraded);
	CG_USDT(attach_done, cg->abs, p->name, err, cg_usdt_now() - t0);
	return err;
}

int cg_guard_attach(struct cg_guard *g, const char *cgpath,
		    const struct cg_policy *p, unsigned flags, int *degraded)
{
	struct cg_cgroup cg;
	int fd = cg_cgroup_open(cgpath, &cg), err;

	if (fd < 0) {	/* not resolved: the probes see the path as given */
		CG_USDT(attach_start, cgpath, p->name);
		CG_USDT(attach_done, cgpath, p->name, fd, (uint64_t)0);
		return fd;
	}
	err = cg_guard_attach_fd(g, &cg, fd, p, flags, degraded);
	close(fd);
	return err;
}

/* Finds a guarded cgroup by its recorded path (for removed cgroups). */
static int find_by_path(struct cg_guard *g, const char *path, __u64 *cgid)
{
	struct cg_cgroup_meta cm;
	char mnt[PATH_MAX];
	const char *rel = path;
	__u64 k, *prev = NULL;

	if (!cg_cgroup2_mount(mnt, sizeof(mnt)) &&
	    !strncmp(path, mnt, strlen(mnt)))
		rel = path + strlen(mnt);
	while (!bpf_map_get_next_key(g->map_fd[CG_MAP_CGROUPS], prev, &k)) {
		if (!bpf_map_lookup_elem(g->map_fd[CG_MAP_CGROUPS], &k, &cm) &&
		    (!strcmp(cm.path, rel) ||
		     (rel[0] != '/' && !strcmp(cm.path + 1, rel)))) {
			*cgid = k;
			return 0;
		}
		prev = &k;
	}
	return -ENOENT;
}

int cg_guard_detach(struct cg_guard *g, const char *cgpath, __u64 cgid)
{
	struct cg_cgroup_meta cm;
	struct cg_cgroup cg;
	int had_meta, h, linked = 0;
	char p[64];

	if (cgpath) {
		if (cg_cgroup_resolve(cgpath, &cg) == 0)
			cgid = cg.id;
		else if (find_by_path(g, cgpath, &cgid))
			return cg_seterr(-ENOENT, "%s", cg_lasterr());
	}
	had_meta = !bpf_map_lookup_elem(g->map_fd[CG_MAP_CGROUPS], &cgid, &cm);
	for (h = 0; h < CG_HOOK_MAX; h++) {
		link_pin(p, sizeof(p), cgid, h);
		linked |= !cg_pin_exists_at(pindir(g, CG_PIN_LINK), p);
	}
	if (!had_meta && !linked)
		return cg_seterr(-ENOENT, "cgroup %s is not guarded by cgguard",
				 cgpath ? cgpath : "(id)");
	drop_links(g, cgid);
	if (had_meta) {	/* its slot stays cached until evicted */
		bpf_map_delete_elem(g->map_fd[CG_MAP_CGROUPS], &cgid);
		slot_ref(g, cm.slot, -1);
	}
	bpf_map_delete_elem(g->map_fd[CG_MAP_LSM_COUNTS], &cgid);
	cg_events_forget(g, cgid, had_meta ? cm.slot : CG_SLOT_UNBOUND);
	CG_USDT(detach, had_meta ? cm.path : "", cgid);
	return 0;
}

/* ---- status and counters ------------------------------------------------- */

/* A global hook enforces for every guarded cgroup while its link is up. */
static int global_alive(struct cg_guard *g, int hook)
{
	struct bpf_link_info li = {};
	__u32 len = sizeof(li);
	char p[64];
	int fd, ok;

	global_link_name(p, sizeof(p), hook);
	fd = cg_pin_get_at(pindir(g, CG_PIN_LINK), p);
	if (fd < 0)
		return 0;
	ok = !bpf_obj_get_info_by_fd(fd, &li, &len) &&
	     li.type == BPF_LINK_TYPE_TRACING;
	close(fd);
	return ok;
}

static int prog_on_cgroup(int cgfd, int hook, __u32 prog_id)
{
	__u32 ids[64], cnt = 64, flags = 0, i;
	int found = 0;

	if (!bpf_prog_query(cgfd, cg_hooks[hook].attach_type, 0, &flags, ids,
			    &cnt))
		for (i = 0; i < cnt; i++)
			found |= ids[i] == prog_id;
	return found;
}

int cg_guard_status(struct cg_guard *g, __u64 cgid, struct cg_status *st)
{
	char abs[PATH_MAX];
	uint64_t id;
	int h, cgfd = -1;

	memset(st, 0, sizeof(*st));
	st->cgid = cgid;
	if (bpf_map_lookup_elem(g->map_fd[CG_MAP_CGROUPS], &cgid, &st->meta))
		return -ENOENT;
	bpf_map_lookup_elem(g->map_fd[CG_MAP_SLOTS], &st->meta.slot, &st->slot);
	if (cg_cgroup_abs(st->meta.path, abs, sizeof(abs)) == 0 &&
	    cg_cgroup_id(abs, &id) == 0 && id == cgid) {
		st->cgroup_exists = 1;
		cgfd = open(abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	for (h = 0; h < CG_HOOK_MAX; h++) {
		st->available[h] = g->prog_fd[h] >= 0;
		if (!st->available[h])
			continue;
		if (cg_hooks[h].global) {
			st->linked[h] = st->enforced[h] = global_alive(g, h);
			st->bound_slot[h] = st->meta.slot; /* read from meta */
			continue;
		}
		st->linked[h] = link_alive(g, cgid, h);
		st->enforced[h] = cgfd >= 0 &&
				  prog_on_cgroup(cgfd, h, g->prog_id[h]);
		if (st->enforced[h])
			read_binding(g, cgid, h, &st->bound_slot[h]);
	}
	if (cgfd >= 0)
		close(cgfd);
	return 0;
}

static int cmp_status(const void *a, const void *b)
{
	return strcmp(((const struct cg_status *)a)->meta.path,
		      ((const struct cg_status *)b)->meta.path);
}

int cg_guard_foreach(struct cg_guard *g, cg_status_cb cb, void *ctx)
{
	struct cg_status *all = NULL;
	size_t n = 0, cap = 0, i;
	__u64 k, *prev = NULL;
	int err = 0;

	while (!bpf_map_get_next_key(g->map_fd[CG_MAP_CGROUPS], prev, &k)) {
		if (n == cap) {
			void *t = realloc(all, (cap = cap ? cap * 2 : 16) *
					  sizeof(*all));
			if (!t) {
				free(all);
				return -ENOMEM;
			}
			all = t;
		}
		if (!cg_guard_status(g, k, &all[n]))
			n++;
		prev = &k;
	}
	if (n)
		qsort(all, n, sizeof(*all), cmp_status);
	for (i = 0; i < n && !err; i++)
		err = cb(&all[i], ctx);
	free(all);
	return err;
}

int cg_guard_counters(struct cg_guard *g, __u64 cgid, int hook,
		      struct cg_counters *out)
{
	struct bpf_cgroup_storage_key k;
	/* The cgroup storage holds cg_hook_counters, which starts with the
	 * cg_counters read here; the LSM hash holds a bare cg_counters. */
	size_t stride = ((cg_hooks[hook].global ? sizeof(struct cg_counters) :
			  sizeof(struct cg_hook_counters)) + 7) & ~7UL;
	void *pc;
	int cpu, i, err = 0;

	memset(out, 0, sizeof(*out));
	pc = calloc(g->ncpus, stride);
	if (!pc)
		return -ENOMEM;
	storage_key(cgid, hook, &k);
	if (cg_hooks[hook].global) {	/* no cgroup storage: a hash by id */
		if (bpf_map_lookup_elem(g->map_fd[CG_MAP_LSM_COUNTS], &cgid, pc))
			goto out;	/* nothing counted yet */
	} else if (bpf_map_lookup_elem(g->map_fd[CG_MAP_COUNTERS], &k, pc)) {
		err = -errno;
		goto out;
	}
	for (cpu = 0; cpu < g->ncpus; cpu++) {
		const struct cg_counters *c = (void *)((char *)pc + cpu * stride);

		for (i = 0; i < CG_NR_RES; i++) {
			out->pkts[i] += c->pkts[i];
			out->bytes[i] += c->bytes[i];
		}
		out->unparsed += c->unparsed;
	}
out:
	free(pc);
	return err;
}

/* ---- garbage collection ------------------------------------------------- */

int cg_guard_gc(struct cg_guard *g, cg_status_cb removed, void *ctx)
{
	struct cg_status st;
	__u64 *ids = NULL, k, *prev = NULL;
	size_t n = 0, cap = 0, i, gone = 0;
	int err = 0;

	/* Collect first: detaching while iterating the hash skips keys. */
	while (!bpf_map_get_next_key(g->map_fd[CG_MAP_CGROUPS], prev, &k)) {
		if (n == cap) {
			void *t = realloc(ids, (cap = cap ? 2 * cap : 64) *
					  sizeof(*ids));
			if (!t) {
				free(ids);
				return -ENOMEM;
			}
			ids = t;
		}
		ids[n++] = k;
		prev = &k;
	}
	for (i = 0; i < n && !err; i++) {
		if (cg_guard_status(g, ids[i], &st) || st.cgroup_exists)
			continue;
		cg_guard_detach(g, NULL, ids[i]);
		gone++;
		if (removed)
			err = removed(&st, ctx);
	}
	CG_USDT(gc, n, gone);
	free(ids);
	return err;
}
