// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * In-place upgrade: the programs this binary carries replace the pinned
 * ones on every guarded cgroup with no window.  The new programs reuse the
 * pinned maps (same ABI: same layouts), so policies, bindings and counters
 * carry over; each cgroup link is switched with BPF_LINK_UPDATE, which
 * swaps the program atomically.  The global LSM flavour (tracing links
 * cannot be updated) is attached anew before the old link goes.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "loader_int.h"
#include "guard.skel.h"
#include "lsm.skel.h"
#include "../lib/err.h"

struct fresh {
	struct guard_bpf *guard;
	struct lsm_bpf *lsm;
	int prog_fd[CG_HOOK_MAX];
};

/* Makes every map of @obj the pinned one of the same name. */
static int reuse_maps(struct cg_guard *g, struct bpf_object *obj)
{
	struct bpf_map *m;
	int i, err;

	bpf_object__for_each_map(m, obj) {
		if (bpf_map__is_internal(m))
			continue;
		for (i = 0; i < CG_MAP_MAX; i++)
			if (!strcmp(cg_map_names[i], bpf_map__name(m)))
				break;
		if (i == CG_MAP_MAX)
			return cg_seterr(-EPROTO, "map %s is not pinned",
					 bpf_map__name(m));
		err = bpf_map__reuse_fd(m, g->map_fd[i]);
		if (err)
			return err;
	}
	return 0;
}

static void fill_fds(struct fresh *f, struct bpf_object *obj, int lsm)
{
	char name[64];
	int h;

	for (h = 0; h < CG_HOOK_MAX; h++) {
		struct bpf_program *p;

		if (cg_hooks[h].lsm != lsm)
			continue;
		snprintf(name, sizeof(name), "cg_%s", cg_hooks[h].name);
		p = bpf_object__find_program_by_name(obj, name);
		f->prog_fd[h] = p && bpf_program__autoload(p) ?
				bpf_program__fd(p) : -1;
	}
}

/* Loads this binary's programs onto the pinned maps, the same LSM
 * flavour as the pinned one (or none). */
static int load_new(struct cg_guard *g, struct fresh *f)
{
	int global = g->prog_fd[CG_HOOK_GLSM_CREATE] >= 0;
	int any_lsm = global || g->prog_fd[CG_HOOK_LSM_CREATE] >= 0;
	int err, h;

	f->guard = guard_bpf__open();
	if (!f->guard)
		return -errno;
	err = reuse_maps(g, f->guard->obj);
	if (!err)
		err = guard_bpf__load(f->guard);
	if (err)
		return bpf_err(err, "loading the new programs");
	fill_fds(f, f->guard->obj, 0);
	if (!any_lsm)
		return 0;
	f->lsm = lsm_bpf__open();
	if (!f->lsm)
		return -errno;
	for (h = 0; h < CG_HOOK_MAX; h++) {
		struct bpf_program *p;
		char name[64];

		if (!cg_hooks[h].lsm)
			continue;
		snprintf(name, sizeof(name), "cg_%s", cg_hooks[h].name);
		p = bpf_object__find_program_by_name(f->lsm->obj, name);
		if (p)
			bpf_program__set_autoload(p, cg_hooks[h].global == global);
	}
	err = reuse_maps(g, f->lsm->obj);
	if (!err)
		err = lsm_bpf__load(f->lsm);
	if (err)
		return bpf_err(err, "loading the new LSM programs");
	fill_fds(f, f->lsm->obj, 1);
	return 0;
}

/* "<cgid>-<hook>" -> hook index, or -1 (global-* and strangers). */
static int hook_of(const char *pin)
{
	const char *dash = strchr(pin, '-');
	int h;

	if (!dash || !strncmp(pin, "global-", 7))
		return -1;
	for (h = 0; h < CG_HOOK_MAX; h++)
		if (!strcmp(dash + 1, cg_hooks[h].name))
			return h;
	return -1;
}

static int update_links(struct cg_guard *g, struct fresh *f, int *updated)
{
	int err = 0, fd = dup(pindir(g, CG_PIN_LINK)), h;
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (!d) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		return err;
	}
	rewinddir(d);	/* the offset is shared with the dup'ed fd */
	while (!err && (e = readdir(d))) {
		h = hook_of(e->d_name);
		if (h < 0 || f->prog_fd[h] < 0)
			continue;
		fd = cg_pin_get_at(pindir(g, CG_PIN_LINK), e->d_name);
		if (fd < 0)
			continue;
		/* Atomic: the cgroup runs the old or the new program. */
		if (bpf_link_update(fd, f->prog_fd[h], NULL))
			err = bpf_err(-errno, "switching a cgroup link");
		else
			(*updated)++;
		close(fd);
	}
	closedir(d);
	return err;
}

/* Global LSM hooks: new link first, then the old one goes. */
static int swap_global(struct cg_guard *g, struct fresh *f)
{
	int ldir = pindir(g, CG_PIN_LINK);
	struct bpf_program *prog;
	struct bpf_link *l;
	char p[64], tmp[80], name[64];
	int h, fd, err;

	for (h = 0; h < CG_HOOK_MAX; h++) {
		if (!cg_hooks[h].global || f->prog_fd[h] < 0)
			continue;
		snprintf(name, sizeof(name), "cg_%s", cg_hooks[h].name);
		prog = bpf_object__find_program_by_name(f->lsm->obj, name);
		l = prog ? bpf_program__attach_lsm(prog) : NULL;
		if (!l)
			return bpf_err(-errno ?: -ENOENT, "attaching new LSM program");
		global_link_name(p, sizeof(p), h);
		snprintf(tmp, sizeof(tmp), "%snew", p);
		unlinkat(ldir, tmp, 0);
		err = cg_pin_at(ldir, tmp, bpf_link__fd(l));
		bpf_link__destroy(l);
		if (err)
			return bpf_err(err, "pinning the new LSM link");
		fd = cg_pin_get_at(ldir, p);
		if (renameat(ldir, tmp, ldir, p))
			return cg_seterr(-errno, "replacing " CG_PIN_ROOT
					 "/link/%s: %m", p);
		if (fd >= 0) {
			bpf_link_detach(fd);
			close(fd);
		}
	}
	return 0;
}

static int repin(struct cg_guard *g, struct fresh *f)
{
	int h, err;

	for (h = 0; h < CG_HOOK_MAX; h++) {
		if (f->prog_fd[h] < 0)
			continue;
		unlinkat(pindir(g, CG_PIN_PROG), cg_hooks[h].name, 0);
		err = cg_pin_at(pindir(g, CG_PIN_PROG), cg_hooks[h].name,
				f->prog_fd[h]);
		if (err)
			return cg_seterr(err, "pinning " CG_PIN_ROOT "/prog/%s:"
					 " %s", cg_hooks[h].name, strerror(-err));
	}
	return 0;
}

int cg_guard_upgrade(struct cg_guard *g, int *updated)
{
	struct fresh f = {};
	struct cg_info info = {};
	__u32 zero = 0;
	int err, h;

	*updated = 0;
	for (h = 0; h < CG_HOOK_MAX; h++)
		f.prog_fd[h] = -1;	/* a hook this kernel never loaded */
	err = load_new(g, &f);
	if (!err)
		err = update_links(g, &f, updated);
	if (!err && f.lsm)
		err = swap_global(g, &f);
	if (!err)
		err = repin(g, &f);
	if (!err && !bpf_map_lookup_elem(g->map_fd[CG_MAP_INFO], &zero, &info)) {
		info.build = objects_build();
		bpf_map_update_elem(g->map_fd[CG_MAP_INFO], &zero, &info, BPF_ANY);
		g->stale = 0;
	}
	lsm_bpf__destroy(f.lsm);
	guard_bpf__destroy(f.guard);
	return err;
}
