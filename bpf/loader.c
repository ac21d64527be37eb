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
#include <dirent.h>
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
#include "lsm.skel.h"
#include "probe.h"
#include "loader_int.h"
#include "../cgroup/cgroup.h"
#include "../lib/bigalloc.h"
#include "../lib/err.h"

const struct cg_hook_desc cg_hooks[CG_HOOK_MAX] = {
	[CG_HOOK_EGRESS]      = { "egress", BPF_CGROUP_INET_EGRESS, CG_LAYER_PACKET, 0 },
	[CG_HOOK_INGRESS]     = { "ingress", BPF_CGROUP_INET_INGRESS, CG_LAYER_PACKET, 0 },
	[CG_HOOK_CONNECT4]    = { "connect4", BPF_CGROUP_INET4_CONNECT, CG_LAYER_CONNECT, 0 },
	[CG_HOOK_CONNECT6]    = { "connect6", BPF_CGROUP_INET6_CONNECT, CG_LAYER_CONNECT, 0 },
	[CG_HOOK_SENDMSG4]    = { "sendmsg4", BPF_CGROUP_UDP4_SENDMSG, CG_LAYER_SENDMSG, 0 },
	[CG_HOOK_SENDMSG6]    = { "sendmsg6", BPF_CGROUP_UDP6_SENDMSG, CG_LAYER_SENDMSG, 0 },
	[CG_HOOK_BIND4]       = { "bind4", BPF_CGROUP_INET4_BIND, CG_LAYER_BIND, 0 },
	[CG_HOOK_BIND6]       = { "bind6", BPF_CGROUP_INET6_BIND, CG_LAYER_BIND, 0 },
	[CG_HOOK_CREATE]      = { "sock_create", BPF_CGROUP_INET_SOCK_CREATE, CG_LAYER_CREATE, 0 },
	[CG_HOOK_LSM_CREATE]  = { "lsm_create", BPF_LSM_CGROUP, CG_LAYER_LSM_CGROUP, 1 },
	[CG_HOOK_LSM_CONNECT] = { "lsm_connect", BPF_LSM_CGROUP, CG_LAYER_LSM_CGROUP, 1 },
	[CG_HOOK_LSM_SENDMSG] = { "lsm_sendmsg", BPF_LSM_CGROUP, CG_LAYER_LSM_CGROUP, 1 },
	[CG_HOOK_LSM_BIND]    = { "lsm_bind", BPF_LSM_CGROUP, CG_LAYER_LSM_CGROUP, 1 },
	[CG_HOOK_GLSM_CREATE] = { "glsm_create", BPF_LSM_MAC, CG_LAYER_LSM, 1, 1 },
	[CG_HOOK_GLSM_CONNECT] = { "glsm_connect", BPF_LSM_MAC, CG_LAYER_LSM, 1, 1 },
	[CG_HOOK_GLSM_SENDMSG] = { "glsm_sendmsg", BPF_LSM_MAC, CG_LAYER_LSM, 1, 1 },
	[CG_HOOK_GLSM_BIND]   = { "glsm_bind", BPF_LSM_MAC, CG_LAYER_LSM, 1, 1 },
};

const char *const cg_map_names[CG_MAP_MAX] = {
	[CG_MAP_LPM] = "cg_lpm",
	[CG_MAP_BINDING] = "cg_binding",
	[CG_MAP_COUNTERS] = "cg_counters",
	[CG_MAP_RULE_HITS] = "cg_rule_hits",
	[CG_MAP_SLOTS] = "cg_slots",
	[CG_MAP_CGROUPS] = "cg_cgroups",
	[CG_MAP_INFO] = "cg_info",
	[CG_MAP_SOCKCFG] = "cg_sockcfg",
	[CG_MAP_LSM_COUNTS] = "cg_lsm_counts",
	[CG_MAP_PORTS] = "cg_ports",
	[CG_MAP_SK] = "cg_sk",	/* read by `cgguard sockets` via sock_diag */
	[CG_MAP_SK_PEERS] = "cg_sk_peers",	/* so is this */
	[CG_MAP_EVENTS] = "cg_events",
	[CG_MAP_EVCFG] = "cg_evcfg",
	[CG_MAP_EVSTATE] = "cg_evstate",
	[CG_MAP_CGRULE_HITS] = "cg_cgrule_hits",
};

int bpf_err(int err, const char *what)
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

void pin_path(char *buf, size_t len, const char *kind,
		     const char *name)
{
	snprintf(buf, len, "%s/%s/%s", CG_PIN_ROOT, kind, name);
}

/* Removes map pins left by a load that crashed before pinning programs. */
static void remove_stale_maps(struct cg_guard *g)
{
	int i;

	for (i = 0; i < CG_MAP_MAX; i++)
		unlinkat(pindir(g, CG_PIN_MAP), cg_map_names[i], 0);
}

/* Pins every loaded program of @obj that is one of our hooks. */
static int pin_progs(struct cg_guard *g, struct bpf_object *obj, int lsm)
{
	char name[64];
	struct bpf_program *prog;
	int h, err;

	for (h = 0; h < CG_HOOK_MAX; h++) {
		if (cg_hooks[h].lsm != lsm)
			continue;
		snprintf(name, sizeof(name), "cg_%s", cg_hooks[h].name);
		prog = bpf_object__find_program_by_name(obj, name);
		if (lsm && prog && !bpf_program__autoload(prog))
			continue;	/* the other LSM flavour */
		err = prog ? cg_pin_at(pindir(g, CG_PIN_PROG), cg_hooks[h].name,
				       bpf_program__fd(prog)) : -ENOENT;
		if (err)
			return err;
	}
	return 0;
}

static void unpin_progs(struct cg_guard *g)
{
	int h;

	for (h = 0; h < CG_HOOK_MAX; h++)
		unlinkat(pindir(g, CG_PIN_PROG), cg_hooks[h].name, 0);
}

void global_link_name(char *buf, size_t len, int hook)
{
	snprintf(buf, len, "global-%s", cg_hooks[hook].name);
}

/* The global flavour is attached here, once, and its links pinned. */
static int attach_global(struct cg_guard *g, struct bpf_object *obj)
{
	struct bpf_program *prog;
	struct bpf_link *l;
	char p[64], name[64];
	int h, err;

	for (h = 0; h < CG_HOOK_MAX; h++) {
		if (!cg_hooks[h].global)
			continue;
		snprintf(name, sizeof(name), "cg_%s", cg_hooks[h].name);
		prog = bpf_object__find_program_by_name(obj, name);
		l = prog ? bpf_program__attach_lsm(prog) : NULL;
		if (!l)
			return -errno ?: -ENOENT;
		global_link_name(p, sizeof(p), h);
		unlinkat(pindir(g, CG_PIN_LINK), p, 0);
		err = cg_pin_at(pindir(g, CG_PIN_LINK), p, bpf_link__fd(l));
		bpf_link__destroy(l);	/* the pin keeps it */
		if (err)
			return err;
	}
	return 0;
}

static void detach_global(struct cg_guard *g)
{
	char p[64];
	int h, fd;

	for (h = 0; h < CG_HOOK_MAX; h++) {
		if (!cg_hooks[h].global)
			continue;
		global_link_name(p, sizeof(p), h);
		fd = cg_pin_get_at(pindir(g, CG_PIN_LINK), p);
		if (fd >= 0) {
			bpf_link_detach(fd);
			close(fd);
		}
		unlinkat(pindir(g, CG_PIN_LINK), p, 0);
	}
}

/*
 * Which LSM flavour: per-cgroup lsm_cgroup where the kernel has it (6.0+),
 * else one global program per hook.  CGGUARD_LSM_MODE=cgroup|global forces
 * one (the VM tier tests both on one kernel).
 */
static int lsm_mode_wanted(void)
{
	const char *m = getenv("CGGUARD_LSM_MODE");

	if (m && !strcmp(m, "global"))
		return CG_LSM_GLOBAL;
	if (m && !strcmp(m, "cgroup"))
		return CG_LSM_CGROUP;
	return cg_probe(CG_LAYER_LSM_CGROUP)->available ? CG_LSM_CGROUP :
							   CG_LSM_GLOBAL;
}

/*
 * The LSM object shares every map with the guard object.  It loads only
 * where the kernel allows BPF LSM; anything else leaves the LSM hooks
 * unpinned, which every later process reads as "layer unavailable".
 */
static int load_lsm(struct cg_guard *g, struct guard_bpf *gskel, __u32 *mode)
{
	struct lsm_bpf *skel = lsm_bpf__open();
	int want = lsm_mode_wanted(), err = skel ? 0 : -errno, h;
	struct bpf_program *prog;
	struct bpf_map *m;
	char name[64];

	*mode = CG_LSM_NONE;
	for (h = 0; skel && h < CG_HOOK_MAX; h++) {
		if (!cg_hooks[h].lsm)
			continue;
		snprintf(name, sizeof(name), "cg_%s", cg_hooks[h].name);
		prog = bpf_object__find_program_by_name(skel->obj, name);
		if (prog)
			bpf_program__set_autoload(prog, cg_hooks[h].global ==
						  (want == CG_LSM_GLOBAL));
	}
	if (skel) {
		bpf_object__for_each_map(m, skel->obj) {
			struct bpf_map *gm = bpf_object__find_map_by_name(
				gskel->obj, bpf_map__name(m));

			if (bpf_map__is_internal(m))
				continue;
			if (!gm || (err = bpf_map__reuse_fd(m, bpf_map__fd(gm))))
				break;
		}
	}
	if (!err)
		err = lsm_bpf__load(skel);
	if (!err && want == CG_LSM_GLOBAL)
		err = attach_global(g, skel->obj);
	if (!err)
		err = pin_progs(g, skel->obj, 1);
	if (err) {
		unpin_progs(g);	/* guard programs are not pinned yet */
		detach_global(g);
	} else {
		*mode = want;
	}
	lsm_bpf__destroy(skel);
	return err;
}

/* A word-at-a-time hash: every CLI call computes it (objects ~200 KB). */
static __u64 hash_words(__u64 h, const void *p, size_t n)
{
	const unsigned char *b = p;
	__u64 w;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&w, b + i, 8);
		h = (h ^ w) * 0x100000001b3ULL;
		h ^= h >> 29;
	}
	return cg_hash_mix(h, b + i, n - i);
}

/* Identifies the BPF objects built into this binary. */
__u64 objects_build(void)
{
	static __u64 cached;
	size_t n1, n2;
	const void *a, *b;

	if (!cached) {
		a = guard_bpf__elf_bytes(&n1);
		b = lsm_bpf__elf_bytes(&n2);
		cached = hash_words(hash_words(0xcbf29ce484222325ULL, a, n1),
				    b, n2);
	}
	return cached;
}

static int load_fresh(struct cg_guard *g)
{
	struct guard_bpf *skel;
	struct bpf_map *m;
	struct cg_info info = { .abi = CG_ABI_VERSION, .build = objects_build() };
	__u32 zero = 0;
	int err;

	remove_stale_maps(g);
	unpin_progs(g);
	detach_global(g);
	skel = guard_bpf__open_and_load();
	if (!skel)
		return bpf_err(-errno, "loading the packet and socket programs");
	bpf_object__for_each_map(m, skel->obj) {
		/* Internal maps (.rodata...) are not state, and bpffs
		 * refuses names with a dot anyway. */
		if (bpf_map__is_internal(m))
			continue;
		err = cg_pin_at(pindir(g, CG_PIN_MAP), bpf_map__name(m),
				bpf_map__fd(m));
		if (err)
			goto fail;
	}
	err = bpf_map_update_elem(bpf_map__fd(skel->maps.cg_info), &zero,
				  &info, BPF_ANY);
	if (!err)
		err = cg_slot_write_unbound(bpf_map__fd(skel->maps.cg_lpm));
	if (err)
		goto fail;
	info.lsm_err = load_lsm(g, skel, &info.lsm_mode);
	bpf_map_update_elem(bpf_map__fd(skel->maps.cg_info), &zero, &info,
			    BPF_ANY);
	/* Packet programs last: the egress pin marks the state complete. */
	err = pin_progs(g, skel->obj, 0);
	if (err) {
		unpin_progs(g);
		goto fail;
	}
	guard_bpf__destroy(skel);
	return 0;
fail:
	remove_stale_maps(g);
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

	for (i = 0; i < CG_HOOK_MAX; i++) {
		fd = cg_pin_get_at(pindir(g, CG_PIN_PROG), cg_hooks[i].name);
		if (fd < 0 && (cg_hooks[i].lsm || fd != -ENOENT))
			continue;	/* LSM refused by this kernel at load */
		if (fd < 0)
			return -ENOENT;
		g->prog_fd[i] = fd;
		memset(&pi, 0, sizeof(pi));
		len = sizeof(pi);
		if (bpf_obj_get_info_by_fd(fd, &pi, &len))
			return bpf_err(-errno, "reading program info");
		g->prog_id[i] = pi.id;
	}
	/* The ABI first: another ABI may pin another set of maps. */
	fd = cg_pin_get_at(pindir(g, CG_PIN_MAP), cg_map_names[CG_MAP_INFO]);
	memset(&info, 0, sizeof(info));
	if (fd >= 0 && bpf_map_lookup_elem(fd, &zero, &info))
		memset(&info, 0, sizeof(info));
	if (fd >= 0)
		close(fd);
	if (fd >= 0 && info.abi != CG_ABI_VERSION)
		return cg_seterr(-EPROTO, "pinned state under " CG_PIN_ROOT
				 " has ABI %u, this cgguard speaks %u: detach "
				 "everything with the old binary first",
				 info.abi, CG_ABI_VERSION);
	for (i = 0; i < CG_MAP_MAX; i++) {
		fd = cg_pin_get_at(pindir(g, CG_PIN_MAP), cg_map_names[i]);
		if (fd < 0) {
			pin_path(p, sizeof(p), "map", cg_map_names[i]);
			return cg_seterr(fd, "pinned map %s is missing (%s); "
					 "state under " CG_PIN_ROOT " is "
					 "damaged", p, strerror(-fd));
		}
		g->map_fd[i] = fd;
	}
	if (info.build != objects_build())
		g->stale = 1;	/* programs of another build: still our ABI */
	return 0;
}

/* 1 if no cgroup has a cgguard link pinned (global LSM links aside). */
static int no_cgroup_links(struct cg_guard *g)
{
	int fd = dup(pindir(g, CG_PIN_LINK));
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	int none = 1;

	if (!d && fd >= 0)
		close(fd);
	if (d)
		rewinddir(d);	/* the offset is shared with the dup'ed fd */
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.' && strncmp(e->d_name, "global-", 7))
			none = 0;
	if (d)
		closedir(d);
	return none;
}

static void close_fds(struct cg_guard *g)
{
	int i;

	for (i = 0; i < CG_HOOK_MAX; i++) {
		if (g->prog_fd[i] >= 0)
			close(g->prog_fd[i]);
		g->prog_fd[i] = -1;
	}
	for (i = 0; i < CG_MAP_MAX; i++) {
		if (g->map_fd[i] >= 0)
			close(g->map_fd[i]);
		g->map_fd[i] = -1;
	}
}

int cg_guard_open(struct cg_guard **out, unsigned flags)
{
	struct cg_guard *g = calloc(1, sizeof(*g));
	int err, i;

	if (!g)
		return -ENOMEM;
	g->lock_fd = g->pins.bpffs = g->pins.root = -1;
	for (i = 0; i < CG_PIN_NDIRS; i++)
		g->pins.dir[i] = -1;
	for (i = 0; i < CG_HOOK_MAX; i++)
		g->prog_fd[i] = -1;
	for (i = 0; i < CG_MAP_MAX; i++)
		g->map_fd[i] = -1;
	g->ncpus = libbpf_num_possible_cpus();
	err = ensure_bpffs(flags);
	if (!err) {
		/* Checked on fds; -EUCLEAN: untrusted (refused, read-only). */
		err = cg_pindirs_open(&g->pins, !!(flags & CG_OPEN_CREATE));
		if (err == -ENOENT && !(flags & CG_OPEN_CREATE))
			err = cg_seterr(-ENOENT, "nothing is guarded: no "
					"pinned state under " CG_PIN_ROOT);
	}
	if (err)
		goto fail;
	g->lock_fd = g->pins.root;
	/* One writer at a time; readers share. */
	if (flock(g->lock_fd, (flags & CG_OPEN_RDONLY) ? LOCK_SH : LOCK_EX)) {
		err = cg_seterr(-errno, "cannot lock " CG_PIN_ROOT ": %m");
		goto fail;
	}
	err = open_pins(g);
	if ((err == -EPROTO || (!err && g->stale)) &&
	    (flags & CG_OPEN_CREATE) && no_cgroup_links(g)) {
		/* State of another ABI or build guarding nothing: replace it,
		 * so what runs is what this binary carries. */
		close_fds(g);
		err = -ENOENT;
	}
	if (err == -ENOENT && (flags & CG_OPEN_CREATE)) {
		err = load_fresh(g);
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

void cg_guard_unlock(struct cg_guard *g)
{
	if (g->lock_fd >= 0)
		flock(g->lock_fd, LOCK_UN);
}

void cg_guard_close(struct cg_guard *g)
{
	if (!g)
		return;
	close_fds(g);
	cg_pindirs_close(&g->pins);	/* lock_fd is pins.root */
	free(g);
}

/* ---- slots -------------------------------------------------------------- */

/* Collects the keys of @fd that belong to @slot, then deletes them. */
static int clear_keys(int fd, size_t ksz, int (*mine)(const void *k, __u16 slot),
		      __u16 slot)
{
	char k[64], next[64];
	char *keys = NULL;
	size_t n = 0, cap = 0, i;
	void *prev = NULL;
	int err = 0;

	while (!bpf_map_get_next_key(fd, prev, next)) {
		if (mine(next, slot)) {
			if (n == cap) {
				void *t = realloc(keys, (cap = cap ? 2 * cap : 64) *
						  ksz);
				if (!t) {
					free(keys);
					return -ENOMEM;
				}
				keys = t;
			}
			memcpy(keys + n++ * ksz, next, ksz);
		}
		memcpy(k, next, ksz);
		prev = k;
	}
	for (i = 0; i < n; i++)
		if (bpf_map_delete_elem(fd, keys + i * ksz) && errno != ENOENT)
			err = -errno;
	free(keys);
	return err;
}

static int lpm_mine(const void *k, __u16 slot)
{
	return ((const struct cg_lpm_key *)k)->slot == slot;
}

static int port_mine(const void *k, __u16 slot)
{
	return ((const struct cg_port_key *)k)->table >> CG_TABLE_SLOT_SHIFT ==
	       slot;
}

int cg_slot_clear(int lpm_fd, int ports_fd, __u16 slot)
{
	/* Entries first: nothing may point at a port table that is gone. */
	int err = clear_keys(lpm_fd, sizeof(struct cg_lpm_key), lpm_mine, slot);
	int err2 = ports_fd >= 0 ? clear_keys(ports_fd,
		sizeof(struct cg_port_key), port_mine, slot) : 0;

	return err ? err : err2;
}

#define SLOT_BATCH	4096

/* Writes @n keys/values: BPF_MAP_UPDATE_BATCH, 4096 a call (100k entries
 * in ~25 syscalls), one by one where the kernel has no batch updates for
 * the map type. */
static int update_batched(int fd, const void *keys, const void *vals,
			  size_t n, size_t ksz, size_t vsz)
{
	const char *k = keys, *v = vals;
	size_t i = 0;
	int batch = 1;

	while (batch && i < n) {
		__u32 cnt = n - i < SLOT_BATCH ? n - i : SLOT_BATCH, want = cnt;

		if (!bpf_map_update_batch(fd, k + i * ksz, v + i * vsz, &cnt,
					  NULL)) {
			i += want;
			continue;
		}
		/* 524: ENOTSUPP, kernel-internal */
		if ((errno == EINVAL || errno == ENOTSUP || errno == 524) && !cnt)
			batch = 0;
		else
			return -errno;
	}
	for (; i < n; i++)
		if (bpf_map_update_elem(fd, k + i * ksz, v + i * vsz, BPF_ANY))
			return -errno;
	return 0;
}

/* A segment's prefixes of the 16-bit port space. */
static size_t seg_keys(const struct cg_port_seg *s, __u32 table,
		       struct cg_port_key *k, struct cg_port_val *v)
{
	__u32 lo = s->lo, hi = s->hi;
	size_t n = 0;

	while (lo <= hi) {
		__u32 size = lo ? (lo & -lo) : 65536, bits = 16;

		while (lo + size - 1 > hi)
			size >>= 1;
		while ((1u << (16 - bits)) < size)
			bits--;
		k[n] = (struct cg_port_key){ .prefixlen = CG_PORT_HDR_BITS + bits,
			.table = table, .proto = s->proto,
			.port = { lo >> 8, lo & 0xff } };
		v[n++] = (struct cg_port_val){ .rule = s->rule,
			.action = s->action };
		lo += size;
	}
	return n;
}

static int write_ports(int ports_fd, __u16 slot, const struct cg_compiled *c)
{
	size_t cap = c->nport_keys + 32, i, n = 0;
	struct cg_port_key *k = malloc(cap * sizeof(*k));
	struct cg_port_val *v = malloc(cap * sizeof(*v));
	int err = k && v ? 0 : -ENOMEM;

	/* nport_keys counts what the segments split into; the +32 slack
	 * keeps a wrong count from writing past the arrays. */
	for (i = 0; !err && i < c->nseg; i++) {
		if (n + 32 > cap) {
			err = -EINVAL;
			break;
		}
		n += seg_keys(&c->seg[i], (__u32)slot << CG_TABLE_SLOT_SHIFT |
			      c->seg[i].table, k + n, v + n);
	}
	if (!err)
		err = update_batched(ports_fd, k, v, n, sizeof(*k), sizeof(*v));
	free(k);
	free(v);
	return err;
}

/* One batch at a time through the same two small arrays: copying all 100k
 * entries at once touched 13 MB of fresh pages, and page faults cost more
 * than the copy on small VMs. */
static int write_entries(int lpm_fd, __u16 slot, const struct cg_compiled *c)
{
	size_t cap = c->n < SLOT_BATCH ? c->n + 1 : SLOT_BATCH, i, j, n;
	struct cg_lpm_key *keys = malloc(cap * sizeof(*keys));
	struct cg_lpm_val *vals = cg_big_alloc(cap * sizeof(*vals));	/* 442 KB */
	int err = keys && vals ? 0 : -ENOMEM;

	for (i = 0; !err && i < c->n; i += n) {
		n = c->n - i < cap ? c->n - i : cap;
		for (j = 0; j < n; j++) {
			keys[j] = c->e[i + j].key;
			keys[j].slot = slot;
			vals[j] = c->e[i + j].val;
			if (vals[j].nranges == CG_RANGES_IN_TABLE)
				vals[j].table |= (__u32)slot << CG_TABLE_SLOT_SHIFT;
		}
		err = update_batched(lpm_fd, keys, vals, n, sizeof(*keys),
				     sizeof(*vals));
	}
	free(keys);
	free(vals);
	return err;
}

int cg_slot_write(int lpm_fd, int ports_fd, __u16 slot,
		  const struct cg_compiled *c)
{
	int err = 0;

	/* Port tables before the entries that point at them. */
	if (c->nseg)
		err = ports_fd >= 0 ? write_ports(ports_fd, slot, c) : -EINVAL;
	if (!err)
		err = write_entries(lpm_fd, slot, c);
	if (err) {
		cg_slot_clear(lpm_fd, ports_fd, slot);	/* never half-apply */
		return bpf_err(err, "writing policy entries");
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

/* Marks in @used[] the slots some guarded cgroup is bound to. */
static void used_slots(struct cg_guard *g, char used[CG_MAX_SLOTS])
{
	struct cg_cgroup_meta cm;
	__u64 k, *prev = NULL;

	memset(used, 0, CG_MAX_SLOTS);
	while (!bpf_map_get_next_key(g->map_fd[CG_MAP_CGROUPS], prev, &k)) {
		if (!bpf_map_lookup_elem(g->map_fd[CG_MAP_CGROUPS], &k, &cm) &&
		    cm.slot < CG_MAX_SLOTS)
			used[cm.slot] = 1;
		prev = &k;
	}
}

/* Empties a slot nobody is bound to any more. */
static void evict_slot(struct cg_guard *g, __u32 slot)
{
	struct cg_slot_meta m = {};
	struct cg_sockcfg sc = {};

	/*
	 * A packet that read the old binding just before a swap may still be
	 * inside a program using this slot.  Programs run under RCU, and
	 * MEMBARRIER_CMD_GLOBAL waits for an RCU grace period, so after it no
	 * program can see this slot.  (Only eviction pays for this.)
	 */
	syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0);
	cg_slot_clear(g->map_fd[CG_MAP_LPM], g->map_fd[CG_MAP_PORTS], slot);
	bpf_map_update_elem(g->map_fd[CG_MAP_SLOTS], &slot, &m, BPF_ANY);
	bpf_map_update_elem(g->map_fd[CG_MAP_SOCKCFG], &slot, &sc, BPF_ANY);
}

static int zero_rule_hits(struct cg_guard *g, __u32 slot);

/*
 * A cached slot taken up again: per-rule hits count from the first cgroup
 * bound to it, so an idle slot starts from zero; the source named is the
 * latest one (same content, but the old file may be gone).
 */
static int reuse_slot(struct cg_guard *g, __u32 slot, struct cg_slot_meta *m,
		      const struct cg_policy *p)
{
	if (!m->refs)
		zero_rule_hits(g, slot);
	if (!strcmp(m->source, p->source))
		return 0;
	snprintf(m->source, sizeof(m->source), "%s", p->source);
	if (bpf_map_update_elem(g->map_fd[CG_MAP_SLOTS], &slot, m, BPF_ANY))
		return bpf_err(-errno, "writing slot metadata");
	return 0;
}

void slot_ref(struct cg_guard *g, __u32 slot, int delta)
{
	struct cg_slot_meta m;

	if (slot == CG_SLOT_UNBOUND ||
	    bpf_map_lookup_elem(g->map_fd[CG_MAP_SLOTS], &slot, &m) ||
	    !m.in_use)
		return;
	m.refs = delta < 0 && !m.refs ? 0 : m.refs + delta;
	bpf_map_update_elem(g->map_fd[CG_MAP_SLOTS], &slot, &m, BPF_ANY);
}

/*
 * Slots are kept after their last cgroup goes (a cache: container churn
 * with the same policy then costs no map writes) and evicted only when a
 * new policy needs room.
 */
int find_slot(struct cg_guard *g, const struct cg_compiled *c,
	      const struct cg_policy *p, __u32 *slot, int *fresh)
{
	struct cg_slot_meta m;
	char used[CG_MAX_SLOTS];
	__u32 i, free_slot = 0, idle = 0;

	for (i = 1; i < CG_MAX_SLOTS; i++) {
		if (bpf_map_lookup_elem(g->map_fd[CG_MAP_SLOTS], &i, &m))
			return -errno;
		if (m.in_use && m.hash == c->hash && !strcmp(m.name, p->name)) {
			*slot = i;
			*fresh = 0;
			return reuse_slot(g, i, &m, p);
		}
		if (!m.in_use && !free_slot)
			free_slot = i;
	}
	/* Only a full table pays for scanning every guarded cgroup. */
	if (!free_slot) {
		used_slots(g, used);
		for (i = 1; i < CG_MAX_SLOTS && !idle; i++)
			if (!used[i])
				idle = i;
		if (idle) {
			evict_slot(g, idle);
			free_slot = idle;
		}
	}
	if (!free_slot)
		return cg_seterr(-ENOSPC, "all %d policy slots are in use by "
				 "guarded cgroups: detach cgroups using other "
				 "policies first", CG_MAX_SLOTS - 1);
	*slot = free_slot;
	*fresh = 1;
	return 0;
}

/* A new policy in a slot starts its per-rule counters at zero. */
static int zero_rule_hits(struct cg_guard *g, __u32 slot)
{
	__u32 n = CG_RULES_PER_SLOT, i, *keys;
	__u64 *zero;
	int err = 0;

	keys = calloc(n, sizeof(*keys));
	zero = calloc((size_t)n * g->ncpus, sizeof(*zero));
	if (!keys || !zero) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		keys[i] = slot * CG_RULES_PER_SLOT + i;
	/* One syscall instead of 1024. */
	if (bpf_map_update_batch(g->map_fd[CG_MAP_RULE_HITS], keys, zero, &n,
				 NULL))
		err = -errno;
out:
	free(keys);
	free(zero);
	return err;
}

int claim_slot(struct cg_guard *g, __u32 slot, const struct cg_compiled *c,
	       const struct cg_sockcfg *sc, const struct cg_policy *p)
{
	struct cg_slot_meta m = { .in_use = 1, .nentries = c->n,
		.hash = c->hash, .mode = p->mode,
		.wants = cg_policy_wants(p) };
	int err;

	snprintf(m.name, sizeof(m.name), "%s", p->name);
	snprintf(m.source, sizeof(m.source), "%s", p->source);
	zero_rule_hits(g, slot);
	err = cg_slot_write(g->map_fd[CG_MAP_LPM], g->map_fd[CG_MAP_PORTS],
			    slot, c);
	if (err)
		return err;
	if (bpf_map_update_elem(g->map_fd[CG_MAP_SOCKCFG], &slot, sc, BPF_ANY)) {
		err = -errno;
		cg_slot_clear(g->map_fd[CG_MAP_LPM], g->map_fd[CG_MAP_PORTS],
			      slot);
		return bpf_err(err, "writing socket-layer config");
	}
	err = cg_evcfg_write(g, slot, p);
	if (err) {
		cg_slot_clear(g->map_fd[CG_MAP_LPM], g->map_fd[CG_MAP_PORTS],
			      slot);
		return err;
	}
	if (bpf_map_update_elem(g->map_fd[CG_MAP_SLOTS], &slot, &m, BPF_ANY)) {
		err = -errno;
		cg_slot_clear(g->map_fd[CG_MAP_LPM], g->map_fd[CG_MAP_PORTS],
			      slot);
		return bpf_err(err, "writing slot metadata");
	}
	return 0;
}

int cg_guard_has_lsm(const struct cg_guard *g)
{
	return g->prog_fd[CG_HOOK_LSM_CREATE] >= 0 ||
	       g->prog_fd[CG_HOOK_GLSM_CREATE] >= 0;
}

