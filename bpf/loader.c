// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Loader: pins, slots, links.  See loader.h for the model.
 *
 * Pin layout under CG_PIN_ROOT:
 *   prog/egress, prog/ingress     the two shared cgroup_skb programs
 *   map/<name>                    every map, counters included
 *   link/<cgid>-egress|-ingress   one bpf_link per guarded cgroup/direction
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <linux/magic.h>
#include <linux/membarrier.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "loader.h"
#include "guard.skel.h"
#include "../cgroup/cgroup.h"
#include "../lib/err.h"

static const char *const map_names[CG_MAP_MAX] = {
	[CG_MAP_LPM] = "cg_lpm",
	[CG_MAP_BINDING] = "cg_binding",
	[CG_MAP_COUNTERS] = "cg_counters",
	[CG_MAP_RULE_HITS] = "cg_rule_hits",
	[CG_MAP_SLOTS] = "cg_slots",
	[CG_MAP_CGROUPS] = "cg_cgroups",
	[CG_MAP_INFO] = "cg_info",
};

static const char *const dir_names[2] = { "egress", "ingress" };
static const enum bpf_attach_type attach_types[2] = {
	BPF_CGROUP_INET_EGRESS, BPF_CGROUP_INET_INGRESS,
};

static int bpf_err(int err, const char *what)
{
	if (err == -EPERM || err == -EACCES)
		return cg_seterr(err, "%s: permission denied: cgguard %s",
				 what, cg_eperm_hint());
	return cg_seterr(err, "%s: %s", what, strerror(-err));
}

static int ensure_bpffs(unsigned flags)
{
	struct statfs sfs;

	if (!statfs(CG_BPFFS, &sfs) && sfs.f_type == BPF_FS_MAGIC)
		return 0;
	if (!(flags & CG_OPEN_CREATE))
		return cg_seterr(-ENOENT, "bpffs is not mounted at " CG_BPFFS
				 ", so nothing is pinned (mount -t bpf bpf "
				 CG_BPFFS ")");
	if (mount("bpf", CG_BPFFS, "bpf", 0, "mode=0700"))
		return cg_seterr(-errno, "bpffs is not mounted at " CG_BPFFS
				 " and mounting it failed: %m (needs "
				 "CAP_SYS_ADMIN; or run: mount -t bpf bpf "
				 CG_BPFFS ")");
	return 0;
}

static void pin_path(char *buf, size_t len, const char *kind,
		     const char *name)
{
	snprintf(buf, len, "%s/%s/%s", CG_PIN_ROOT, kind, name);
}

static int mkdirs(void)
{
	static const char *const d[] = { CG_PIN_ROOT, CG_PIN_ROOT "/prog",
		CG_PIN_ROOT "/map", CG_PIN_ROOT "/link" };
	size_t i;

	for (i = 0; i < sizeof(d) / sizeof(d[0]); i++)
		if (mkdir(d[i], 0700) && errno != EEXIST)
			return cg_seterr(-errno, "cannot create %s: %m", d[i]);
	return 0;
}

/* Removes map pins left by a load that crashed before pinning programs. */
static void remove_stale_maps(void)
{
	char p[256];
	int i;

	for (i = 0; i < CG_MAP_MAX; i++) {
		pin_path(p, sizeof(p), "map", map_names[i]);
		unlink(p);
	}
}

static int load_fresh(void)
{
	struct guard_bpf *skel;
	struct bpf_map *m;
	struct cg_info info = { .abi = CG_ABI_VERSION };
	char p[256];
	__u32 zero = 0;
	int err;

	remove_stale_maps();
	skel = guard_bpf__open_and_load();
	if (!skel)
		return bpf_err(-errno, "loading the packet-layer programs");
	bpf_object__for_each_map(m, skel->obj) {
		pin_path(p, sizeof(p), "map", bpf_map__name(m));
		err = bpf_map__pin(m, p);
		if (err)
			goto fail;
	}
	err = bpf_map_update_elem(bpf_map__fd(skel->maps.cg_info), &zero,
				  &info, BPF_ANY);
	if (!err)
		err = cg_slot_write_unbound(bpf_map__fd(skel->maps.cg_lpm));
	if (err)
		goto fail;
	/* Programs last: their pins mark the state complete. */
	pin_path(p, sizeof(p), "prog", "ingress");
	err = bpf_program__pin(skel->progs.cg_ingress, p);
	if (err)
		goto fail;
	pin_path(p, sizeof(p), "prog", "egress");
	err = bpf_program__pin(skel->progs.cg_egress, p);
	if (err) {
		pin_path(p, sizeof(p), "prog", "ingress");
		unlink(p);
		goto fail;
	}
	guard_bpf__destroy(skel);
	return 0;
fail:
	remove_stale_maps();
	guard_bpf__destroy(skel);
	return bpf_err(err, "pinning programs and maps under " CG_PIN_ROOT);
}

static int open_pins(struct cg_guard *g)
{
	struct bpf_prog_info pi;
	struct cg_info info;
	__u32 len, zero = 0;
	char p[256];
	int i, fd;

	for (i = 0; i < 2; i++) {
		pin_path(p, sizeof(p), "prog", dir_names[i]);
		fd = bpf_obj_get(p);
		if (fd < 0)
			return -errno;
		g->prog_fd[i] = fd;
		memset(&pi, 0, sizeof(pi));
		len = sizeof(pi);
		if (bpf_obj_get_info_by_fd(fd, &pi, &len))
			return bpf_err(-errno, "reading program info");
		g->prog_id[i] = pi.id;
	}
	for (i = 0; i < CG_MAP_MAX; i++) {
		pin_path(p, sizeof(p), "map", map_names[i]);
		fd = bpf_obj_get(p);
		if (fd < 0)
			return cg_seterr(-errno, "pinned map %s is missing "
					 "(%m); state under " CG_PIN_ROOT
					 " is damaged", p);
		g->map_fd[i] = fd;
	}
	if (bpf_map_lookup_elem(g->map_fd[CG_MAP_INFO], &zero, &info) ||
	    info.abi != CG_ABI_VERSION)
		return cg_seterr(-EPROTO, "pinned state under " CG_PIN_ROOT
				 " has ABI %u, this cgguard speaks %u: detach "
				 "everything with the old binary first",
				 info.abi, CG_ABI_VERSION);
	return 0;
}

int cg_guard_open(struct cg_guard **out, unsigned flags)
{
	struct cg_guard *g = calloc(1, sizeof(*g));
	int err, i;

	if (!g)
		return -ENOMEM;
	g->lock_fd = -1;
	for (i = 0; i < 2; i++)
		g->prog_fd[i] = -1;
	for (i = 0; i < CG_MAP_MAX; i++)
		g->map_fd[i] = -1;
	g->ncpus = libbpf_num_possible_cpus();
	err = ensure_bpffs(flags);
	if (!err && (flags & CG_OPEN_CREATE))
		err = mkdirs();
	if (err)
		goto fail;
	g->lock_fd = open(CG_PIN_ROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (g->lock_fd < 0) {
		err = cg_seterr(errno == ENOENT ? -ENOENT : -errno,
				errno == ENOENT ? "nothing is guarded: no "
				"pinned state under " CG_PIN_ROOT :
				"cannot open " CG_PIN_ROOT ": %m");
		goto fail;
	}
	/* One writer at a time; readers share. */
	if (flock(g->lock_fd, (flags & CG_OPEN_RDONLY) ? LOCK_SH : LOCK_EX)) {
		err = cg_seterr(-errno, "cannot lock " CG_PIN_ROOT ": %m");
		goto fail;
	}
	err = open_pins(g);
	if (err == -ENOENT && (flags & CG_OPEN_CREATE)) {
		err = load_fresh();
		if (!err)
			err = open_pins(g);
	} else if (err == -ENOENT) {
		err = cg_seterr(-ENOENT, "nothing is guarded: no programs "
				"pinned under " CG_PIN_ROOT);
	}
	if (err)
		goto fail;
	*out = g;
	return 0;
fail:
	cg_guard_close(g);
	return err;
}

void cg_guard_close(struct cg_guard *g)
{
	int i;

	if (!g)
		return;
	for (i = 0; i < 2; i++)
		if (g->prog_fd[i] >= 0)
			close(g->prog_fd[i]);
	for (i = 0; i < CG_MAP_MAX; i++)
		if (g->map_fd[i] >= 0)
			close(g->map_fd[i]);
	if (g->lock_fd >= 0)
		close(g->lock_fd);
	free(g);
}

/* ---- slots -------------------------------------------------------------- */

int cg_slot_clear(int lpm_fd, __u16 slot)
{
	struct cg_lpm_key k, next, *keys = NULL;
	size_t n = 0, cap = 0, i;
	void *prev = NULL;
	int err = 0;

	while (!bpf_map_get_next_key(lpm_fd, prev, &next)) {
		if (next.slot == slot) {
			if (n == cap) {
				void *t = realloc(keys, (cap = cap ? 2 * cap : 64) *
						  sizeof(*keys));
				if (!t) {
					free(keys);
					return -ENOMEM;
				}
				keys = t;
			}
			keys[n++] = next;
		}
		k = next;
		prev = &k;
	}
	for (i = 0; i < n; i++)
		if (bpf_map_delete_elem(lpm_fd, &keys[i]) && errno != ENOENT)
			err = -errno;
	free(keys);
	return err;
}

int cg_slot_write(int lpm_fd, __u16 slot, const struct cg_compiled *c)
{
	size_t i;
	int err;

	for (i = 0; i < c->n; i++) {
		struct cg_lpm_key k = c->e[i].key;

		k.slot = slot;
		if (bpf_map_update_elem(lpm_fd, &k, &c->e[i].val, BPF_ANY)) {
			err = -errno;
			cg_slot_clear(lpm_fd, slot);	/* never half-apply */
			return bpf_err(err, "writing policy entries");
		}
	}
	return 0;
}

int cg_slot_write_unbound(int lpm_fd)
{
	struct cg_lpm_val v = { .action = CG_ACT_DENY_V,
		.rule = CG_RULE_UNPARSED, .flags = CG_F_DEFAULT_DENY };
	static const __u8 fams[] = { CG_FAM_V4, CG_FAM_V6 };
	int dir, f;

	for (dir = 0; dir < 2; dir++) {
		for (f = 0; f < 2; f++) {
			struct cg_lpm_key k = { .prefixlen = CG_LPM_HDR_BITS,
				.slot = CG_SLOT_UNBOUND, .dir = dir,
				.family = fams[f] };

			if (bpf_map_update_elem(lpm_fd, &k, &v, BPF_ANY))
				return -errno;
		}
	}
	return 0;
}

static int find_slot(struct cg_guard *g, const struct cg_compiled *c,
		     const struct cg_policy *p, __u32 *slot, int *fresh)
{
	struct cg_slot_meta m;
	__u32 i, free_slot = 0;

	for (i = 1; i < CG_MAX_SLOTS; i++) {
		if (bpf_map_lookup_elem(g->map_fd[CG_MAP_SLOTS], &i, &m))
			return -errno;
		if (m.in_use && m.hash == c->hash && !strcmp(m.name, p->name)) {
			*slot = i;
			*fresh = 0;
			return 0;
		}
		if (!m.in_use && !free_slot)
			free_slot = i;
	}
	if (!free_slot)
		return cg_seterr(-ENOSPC, "all %d policy slots are in use: "
				 "detach cgroups using other policies first",
				 CG_MAX_SLOTS - 1);
	*slot = free_slot;
	*fresh = 1;
	return 0;
}

static int zero_rule_hits(struct cg_guard *g, __u32 slot)
{
	size_t sz = (size_t)g->ncpus * sizeof(__u64);
	__u64 *zero = calloc(1, sz);
	__u32 i, idx;

	if (!zero)
		return -ENOMEM;
	for (i = 0; i < CG_RULES_PER_SLOT; i++) {
		idx = slot * CG_RULES_PER_SLOT + i;
		bpf_map_update_elem(g->map_fd[CG_MAP_RULE_HITS], &idx, zero,
				    BPF_ANY);
	}
	free(zero);
	return 0;
}

static int claim_slot(struct cg_guard *g, __u32 slot,
		      const struct cg_compiled *c, const struct cg_policy *p)
{
	struct cg_slot_meta m = { .in_use = 1, .nentries = c->n,
		.hash = c->hash, .mode = p->mode,
		.wants = p->sockets.present ? CG_WANT_SOCKETS : 0 };
	int err;

	snprintf(m.name, sizeof(m.name), "%s", p->name);
	snprintf(m.source, sizeof(m.source), "%s", p->source);
	zero_rule_hits(g, slot);
	err = cg_slot_write(g->map_fd[CG_MAP_LPM], slot, c);
	if (err)
		return err;
	if (bpf_map_update_elem(g->map_fd[CG_MAP_SLOTS], &slot, &m, BPF_ANY)) {
		err = -errno;
		cg_slot_clear(g->map_fd[CG_MAP_LPM], slot);
		return bpf_err(err, "writing slot metadata");
	}
	return 0;
}

/* Releases @slot if no guarded cgroup refers to it any more. */
static void gc_slot(struct cg_guard *g, __u32 slot)
{
	struct cg_slot_meta m = {};
	struct cg_cgroup_meta cm;
	__u64 k, *prev = NULL;

	if (slot == CG_SLOT_UNBOUND)
		return;
	while (!bpf_map_get_next_key(g->map_fd[CG_MAP_CGROUPS], prev, &k)) {
		if (!bpf_map_lookup_elem(g->map_fd[CG_MAP_CGROUPS], &k, &cm) &&
		    cm.slot == slot)
			return;
		prev = &k;
	}
	/*
	 * A packet that read the old binding may still be inside the program.
	 * Programs run under RCU, and MEMBARRIER_CMD_GLOBAL waits for an RCU
	 * grace period, so after it no program can see this slot.
	 */
	syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0);
	cg_slot_clear(g->map_fd[CG_MAP_LPM], slot);
	bpf_map_update_elem(g->map_fd[CG_MAP_SLOTS], &slot, &m, BPF_ANY);
}

/* ---- links and bindings -------------------------------------------------- */

static void link_pin(char *buf, size_t len, __u64 cgid, int dir)
{
	char name[64];

	snprintf(name, sizeof(name), "%llu-%s", (unsigned long long)cgid,
		 dir_names[dir]);
	pin_path(buf, len, "link", name);
}

/* Returns 1 if our link for (cgid, dir) is pinned and still on the cgroup. */
static int link_alive(__u64 cgid, int dir)
{
	struct bpf_link_info li = {};
	__u32 len = sizeof(li);
	char p[256];
	int fd, ok;

	link_pin(p, sizeof(p), cgid, dir);
	fd = bpf_obj_get(p);
	if (fd < 0)
		return 0;
	ok = !bpf_obj_get_info_by_fd(fd, &li, &len) &&
	     li.type == BPF_LINK_TYPE_CGROUP && li.cgroup.cgroup_id == cgid;
	close(fd);
	return ok;
}

static int ensure_link(struct cg_guard *g, int cgfd, __u64 cgid, int dir,
		       int *created)
{
	char p[256];
	int fd, err;

	*created = 0;
	if (link_alive(cgid, dir))
		return 0;
	link_pin(p, sizeof(p), cgid, dir);
	unlink(p);	/* a dead link from a removed cgroup of the same id */
	fd = bpf_link_create(g->prog_fd[dir], cgfd, attach_types[dir], NULL);
	if (fd < 0)
		return bpf_err(-errno, "attaching the packet-layer program");
	err = bpf_obj_pin(fd, p) ? -errno : 0;
	if (err) {
		bpf_link_detach(fd);
		close(fd);
		return bpf_err(err, "pinning the cgroup link");
	}
	close(fd);
	*created = 1;
	return 0;
}

static void drop_link(__u64 cgid, int dir)
{
	char p[256];
	int fd;

	link_pin(p, sizeof(p), cgid, dir);
	fd = bpf_obj_get(p);
	if (fd >= 0) {
		/* Detach now, even if another process still holds the fd. */
		bpf_link_detach(fd);
		close(fd);
	}
	unlink(p);
}

static int storage_key(__u64 cgid, int dir, struct bpf_cgroup_storage_key *k)
{
	memset(k, 0, sizeof(*k));
	k->cgroup_inode_id = cgid;
	k->attach_type = attach_types[dir];
	return 0;
}

static int bind_slot(struct cg_guard *g, __u64 cgid, int dir, __u32 slot)
{
	struct bpf_cgroup_storage_key k;
	struct cg_binding b = {};

	storage_key(cgid, dir, &k);
	if (bpf_map_lookup_elem(g->map_fd[CG_MAP_BINDING], &k, &b))
		return bpf_err(-errno, "reading the cgroup binding");
	b.slot = slot;
	b.gen++;
	/* Replaces the whole value at once: packets see old or new slot. */
	if (bpf_map_update_elem(g->map_fd[CG_MAP_BINDING], &k, &b, BPF_ANY))
		return bpf_err(-errno, "binding the cgroup to its policy");
	return 0;
}

static int read_binding(struct cg_guard *g, __u64 cgid, int dir, __u32 *slot)
{
	struct bpf_cgroup_storage_key k;
	struct cg_binding b;

	storage_key(cgid, dir, &k);
	if (bpf_map_lookup_elem(g->map_fd[CG_MAP_BINDING], &k, &b))
		return -errno;
	*slot = b.slot;
	return 0;
}

/* ---- attach / detach ---------------------------------------------------- */

static int attach_links(struct cg_guard *g, const struct cg_cgroup *cg,
			__u32 slot)
{
	int created[2] = {}, cgfd, dir, err = 0;

	cgfd = open(cg->abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgfd < 0)
		return cg_seterr(-errno, "cannot open cgroup %s: %m", cg->abs);
	for (dir = 0; dir < 2 && !err; dir++)
		err = ensure_link(g, cgfd, cg->id, dir, &created[dir]);
	/* Bind both directions only once both links exist. */
	for (dir = 0; dir < 2 && !err; dir++)
		err = bind_slot(g, cg->id, dir, slot);
	if (err) {
		for (dir = 0; dir < 2; dir++)
			if (created[dir])
				drop_link(cg->id, dir);
	}
	close(cgfd);
	return err;
}

int cg_guard_attach(struct cg_guard *g, const char *cgpath,
		    const struct cg_policy *p)
{
	struct cg_cgroup_meta old = {}, cm = {};
	struct cg_compiled c;
	struct cg_cgroup cg;
	char perr[CG_ERR_MAX];
	struct timespec ts;
	__u32 slot = 0;
	int err, fresh = 0, had_old;

	err = cg_cgroup_resolve(cgpath, &cg);
	if (err)
		return err;
	if (strlen(cg.rel) >= sizeof(cm.path))
		return cg_seterr(-ENAMETOOLONG, "cgroup path %s is longer than "
				 "%zu bytes", cg.rel, sizeof(cm.path) - 1);
	err = cg_policy_compile(p, &c, perr, sizeof(perr));
	if (err)
		return cg_seterr(err, "%s", err == -EINVAL ? perr :
				 "compiling policy: out of memory");
	had_old = !bpf_map_lookup_elem(g->map_fd[CG_MAP_CGROUPS], &cg.id, &old);
	err = find_slot(g, &c, p, &slot, &fresh);
	if (!err && fresh)
		err = claim_slot(g, slot, &c, p);
	cg_compiled_free(&c);
	if (err)
		return err;
	err = attach_links(g, &cg, slot);
	if (err)
		goto undo_slot;
	cm = old;
	cm.slot = slot;
	if (!had_old) {
		clock_gettime(CLOCK_REALTIME, &ts);
		cm.attached_ns = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	}
	memcpy(cm.path, cg.rel, strlen(cg.rel) + 1);
	if (bpf_map_update_elem(g->map_fd[CG_MAP_CGROUPS], &cg.id, &cm,
				BPF_ANY)) {
		err = bpf_err(-errno, "recording the guarded cgroup");
		/* Roll back to exactly what was there before. */
		if (had_old) {
			attach_links(g, &cg, old.slot);
		} else {
			drop_link(cg.id, CG_DIR_EGRESS);
			drop_link(cg.id, CG_DIR_INGRESS);
		}
		goto undo_slot;
	}
	if (had_old && old.slot != slot)
		gc_slot(g, old.slot);
	return 0;
undo_slot:
	if (fresh)
		gc_slot(g, slot);
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
	int had_meta, dir, linked = 0;

	if (cgpath) {
		if (cg_cgroup_resolve(cgpath, &cg) == 0)
			cgid = cg.id;
		else if (find_by_path(g, cgpath, &cgid))
			return cg_seterr(-ENOENT, "%s", cg_lasterr());
	}
	had_meta = !bpf_map_lookup_elem(g->map_fd[CG_MAP_CGROUPS], &cgid, &cm);
	for (dir = 0; dir < 2; dir++) {
		char p[256];

		link_pin(p, sizeof(p), cgid, dir);
		if (!access(p, F_OK))
			linked = 1;
		drop_link(cgid, dir);
	}
	if (!had_meta && !linked)
		return cg_seterr(-ENOENT, "cgroup %s is not guarded by cgguard",
				 cgpath ? cgpath : "(id)");
	if (had_meta) {
		bpf_map_delete_elem(g->map_fd[CG_MAP_CGROUPS], &cgid);
		gc_slot(g, cm.slot);
	}
	return 0;
}

/* ---- status and counters ------------------------------------------------- */

static int prog_on_cgroup(const char *abs, int dir, __u32 prog_id)
{
	__u32 ids[64], cnt = 64, flags = 0, i;
	int fd, found = 0;

	fd = open(abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (!bpf_prog_query(fd, attach_types[dir], 0, &flags, ids, &cnt))
		for (i = 0; i < cnt; i++)
			found |= ids[i] == prog_id;
	close(fd);
	return found;
}

int cg_guard_status(struct cg_guard *g, __u64 cgid, struct cg_status *st)
{
	char abs[PATH_MAX];
	uint64_t id;
	int dir;

	memset(st, 0, sizeof(*st));
	st->cgid = cgid;
	if (bpf_map_lookup_elem(g->map_fd[CG_MAP_CGROUPS], &cgid, &st->meta))
		return -ENOENT;
	bpf_map_lookup_elem(g->map_fd[CG_MAP_SLOTS], &st->meta.slot, &st->slot);
	if (cg_cgroup_abs(st->meta.path, abs, sizeof(abs)) == 0 &&
	    cg_cgroup_id(abs, &id) == 0 && id == cgid)
		st->cgroup_exists = 1;
	for (dir = 0; dir < 2; dir++) {
		st->linked[dir] = link_alive(cgid, dir);
		st->enforced[dir] = st->cgroup_exists &&
				    prog_on_cgroup(abs, dir, g->prog_id[dir]);
		if (st->enforced[dir])
			read_binding(g, cgid, dir, &st->bound_slot[dir]);
	}
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

int cg_guard_counters(struct cg_guard *g, __u64 cgid, int dir,
		      struct cg_counters *out)
{
	struct bpf_cgroup_storage_key k;
	size_t stride = (sizeof(struct cg_counters) + 7) & ~7UL;
	struct cg_counters *pc;
	int cpu, i, err = 0;

	memset(out, 0, sizeof(*out));
	pc = calloc(g->ncpus, stride);
	if (!pc)
		return -ENOMEM;
	storage_key(cgid, dir, &k);
	if (bpf_map_lookup_elem(g->map_fd[CG_MAP_COUNTERS], &k, pc)) {
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

int cg_guard_rule_hits(struct cg_guard *g, __u32 slot, __u64 *hits)
{
	__u64 *pc = calloc(g->ncpus, sizeof(__u64));
	__u32 i, idx;
	int cpu;

	if (!pc)
		return -ENOMEM;
	for (i = 0; i < CG_RULES_PER_SLOT; i++) {
		hits[i] = 0;
		idx = slot * CG_RULES_PER_SLOT + i;
		if (bpf_map_lookup_elem(g->map_fd[CG_MAP_RULE_HITS], &idx, pc))
			continue;
		for (cpu = 0; cpu < g->ncpus; cpu++)
			hits[i] += pc[cpu];
	}
	free(pc);
	return 0;
}
