// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Socket-filter maps and programs (sockfilter.h).
 *
 * Pins under CG_SF_PIN_DIR: lpm (the compiled ingress entries, slots as in
 * cgguard_abi.h), bind (policy id -> current slot), counts (per uid and
 * policy) and meta (policy id -> name, hash; user space only).  They are
 * separate from the cgroup layer's maps: the cgroup layer's slots are
 * shared by guarded cgroups, and a program handed to a user must reference
 * nothing that could tell it about them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/membarrier.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "sockfilter.h"
#include "sockfilter.skel.h"
#include "../lib/err.h"
#include "pindir.h"

static const struct {
	const char *pin;
	const char *map;	/* name in sockfilter.bpf.c, NULL: not there */
	__u32 type, key, value;
} sf_maps[CG_SF_MAP_MAX] = {
	[CG_SF_MAP_LPM] = { "lpm", "cg_lpm", BPF_MAP_TYPE_LPM_TRIE,
		sizeof(struct cg_lpm_key), sizeof(struct cg_lpm_val) },
	[CG_SF_MAP_BIND] = { "bind", "cg_sf_bind", BPF_MAP_TYPE_ARRAY,
		sizeof(__u32), sizeof(struct cg_binding) },
	[CG_SF_MAP_COUNTS] = { "counts", "cg_sf_counts",
		BPF_MAP_TYPE_PERCPU_HASH, sizeof(struct cg_sf_key),
		sizeof(struct cg_counters) },
	/* port tables of entries with many port ranges (verdict.bpf.h) */
	[CG_SF_MAP_PORTS] = { "ports", "cg_ports", BPF_MAP_TYPE_LPM_TRIE,
		sizeof(struct cg_port_key), sizeof(struct cg_port_val) },
	[CG_SF_MAP_META] = { "meta", NULL, BPF_MAP_TYPE_ARRAY, sizeof(__u32),
		sizeof(struct cg_slot_meta) },
};

/*
 * Our pin directory is opened once, checked on the fd like the rest of
 * the tree (bpf/pindir.c: root's, no symlink, no group or other bits; a
 * pin planted by someone else would be used by the daemon), and every
 * pin is made, read and removed through that fd.
 */
static int open_dir(struct cg_sf *sf, int create)
{
	int fd = cg_pin_subdir_open(CG_SF_PIN_SUBDIR, create, sf->notice,
				    sizeof(sf->notice));

	if (fd < 0)
		return fd;
	sf->dir = fd;
	return 0;
}

/* The pin must be a map of the layout this binary uses. */
static int check_map(int fd, int i)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.type != sf_maps[i].type || info.key_size != sf_maps[i].key ||
	    info.value_size != sf_maps[i].value)
		return cg_seterr(-EPROTO, "%s/%s has another layout (another "
				 "cgguard version?): remove it", CG_SF_PIN_DIR,
				 sf_maps[i].pin);
	return 0;
}

/* Opens the skeleton with only the maps a filter uses, each pinned one
 * reused; the rest of maps.bpf.h's maps are never created. */
static struct sockfilter_bpf *skel_open(struct cg_sf *sf)
{
	struct sockfilter_bpf *skel = sockfilter_bpf__open();
	struct bpf_map *m;
	int i, err = 0;

	if (!skel)
		return NULL;
	bpf_object__for_each_map(m, skel->obj) {
		const char *name = bpf_map__name(m);

		if (strchr(name, '.'))
			continue;	/* .rodata */
		for (i = 0; i < CG_SF_MAP_MAX; i++)
			if (sf_maps[i].map && !strcmp(name, sf_maps[i].map))
				break;
		if (i == CG_SF_MAP_MAX)
			err = bpf_map__set_autocreate(m, false);
		else if (sf->fd[i] >= 0)
			err = bpf_map__reuse_fd(m, sf->fd[i]);
		if (err)
			break;
	}
	if (err) {
		sockfilter_bpf__destroy(skel);
		errno = -err;
		return NULL;
	}
	return skel;
}

/* First use: creates the maps that are not pinned yet and pins them
 * (@pin 0: creates them all, pinned nowhere). */
static int create_missing(struct cg_sf *sf, int pin)
{
	struct sockfilter_bpf *skel;
	int i, fd, err = 0;

	if (sf->fd[CG_SF_MAP_META] < 0) {
		fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "cg_sf_meta",
				    sizeof(__u32), sizeof(struct cg_slot_meta),
				    CG_SF_MAX_POLICIES + 1, NULL);
		if (fd < 0)
			return -errno;
		err = pin ? cg_pin_at(sf->dir, sf_maps[CG_SF_MAP_META].pin, fd) : 0;
		if (err) {
			close(fd);
			return err;
		}
		sf->fd[CG_SF_MAP_META] = fd;
	}
	if (sf->fd[CG_SF_MAP_LPM] >= 0 && sf->fd[CG_SF_MAP_BIND] >= 0 &&
	    sf->fd[CG_SF_MAP_COUNTS] >= 0 && sf->fd[CG_SF_MAP_PORTS] >= 0)
		return 0;
	skel = skel_open(sf);
	if (!skel || sockfilter_bpf__load(skel)) {
		err = -errno;
		sockfilter_bpf__destroy(skel);
		return err;
	}
	for (i = 0; !err && i < CG_SF_MAP_META; i++) {
		if (sf->fd[i] >= 0)
			continue;
		fd = bpf_map__fd(bpf_object__find_map_by_name(skel->obj,
							      sf_maps[i].map));
		err = pin ? cg_pin_at(sf->dir, sf_maps[i].pin, fd) : 0;
		if (!err)
			sf->fd[i] = dup(fd);
	}
	sockfilter_bpf__destroy(skel);
	return err;
}

/*
 * Pins of another layout (an upgrade changed cgguard_abi.h): the daemon
 * starts over with fresh maps.  Filters already handed out keep the old
 * maps (their programs hold them) and keep working; only their counters
 * leave `cgguard stats`.
 */
static void unpin_all(int dir)
{
	int i;

	for (i = 0; i < CG_SF_MAP_MAX; i++)
		unlinkat(dir, sf_maps[i].pin, 0);
}

static int open_pins(struct cg_sf *sf, int create);

int cg_sf_open(struct cg_sf *sf, int create)
{
	int err = open_pins(sf, create);

	if (err == -EPROTO && create && open_dir(sf, create) == 0) {
		unpin_all(sf->dir);
		close(sf->dir);
		sf->dir = -1;
		cg_clearerr();
		err = open_pins(sf, create);
	}
	return err;
}

static int open_pins(struct cg_sf *sf, int create)
{
	int i, err;

	for (i = 0; i < CG_SF_MAP_MAX; i++)
		sf->fd[i] = -1;
	sf->dir = -1;
	sf->notice[0] = 0;
	sf->ncpus = libbpf_num_possible_cpus();
	if (sf->ncpus <= 0)
		return sf->ncpus ? sf->ncpus : -EINVAL;
	if (create == CG_SF_ANON)
		return create_missing(sf, 0);
	err = open_dir(sf, create);
	for (i = 0; !err && i < CG_SF_MAP_MAX; i++) {
		sf->fd[i] = cg_pin_get_at(sf->dir, sf_maps[i].pin);
		if (sf->fd[i] < 0 && (sf->fd[i] != -ENOENT || !create))
			err = sf->fd[i];
		if (sf->fd[i] >= 0)
			err = check_map(sf->fd[i], i);
	}
	if (!err && create)
		err = create_missing(sf, 1);
	if (err) {
		cg_sf_close(sf);
		if (!*cg_lasterr())
			cg_seterr(err, "socket-filter maps in %s: %s",
				  CG_SF_PIN_DIR, strerror(-err));
	}
	return err;
}

void cg_sf_close(struct cg_sf *sf)
{
	int i;

	for (i = 0; i < CG_SF_MAP_MAX; i++) {
		if (sf->fd[i] >= 0)
			close(sf->fd[i]);
		sf->fd[i] = -1;
	}
	if (sf->dir >= 0)
		close(sf->dir);
	sf->dir = -1;
}

int cg_sf_meta(struct cg_sf *sf, __u32 id, struct cg_slot_meta *m)
{
	return bpf_map_lookup_elem(sf->fd[CG_SF_MAP_META], &id, m) ? -errno : 0;
}

/* The policy id of @name, else a free one (*fresh); -ENOSPC if none. */
static int find_id(struct cg_sf *sf, const char *name, __u32 *id,
		   struct cg_slot_meta *m, int *fresh)
{
	struct cg_slot_meta t;
	__u32 i, free_id = 0;

	for (i = 1; i <= CG_SF_MAX_POLICIES; i++) {
		if (cg_sf_meta(sf, i, &t))
			return -errno;
		if (t.in_use && !strncmp(t.name, name, sizeof(t.name))) {
			*id = i;
			*m = t;
			*fresh = 0;
			return 0;
		}
		if (!t.in_use && !free_id)
			free_id = i;
	}
	if (!free_id)
		return cg_seterr(-ENOSPC, "%d policies are in use as socket "
				 "filters already (the limit)",
				 CG_SF_MAX_POLICIES);
	*id = free_id;
	memset(m, 0, sizeof(*m));
	*fresh = 1;
	return 0;
}

/* The ingress entries of a compiled policy (all a filter looks up). */
static int ingress_only(const struct cg_compiled *c, struct cg_compiled *out)
{
	size_t i;

	*out = *c;
	out->n = 0;
	out->e = malloc((c->n ? c->n : 1) * sizeof(*out->e));
	if (!out->e)
		return -ENOMEM;
	for (i = 0; i < c->n; i++) {
		if (c->e[i].key.dir != CG_DIR_INGRESS_V)
			continue;
		/* Port tables live in the cgroup layer's cg_ports, which a
		 * filter must not reach: refuse rather than judge wrongly. */
		if (c->e[i].val.nranges > CG_MAX_RANGES) {
			free(out->e);
			out->e = NULL;
			return cg_seterr(-E2BIG, "a source prefix with more than "
					 "%d port ranges: too many for a socket "
					 "filter", CG_MAX_RANGES);
		}
		out->e[out->n++] = c->e[i];
	}
	return 0;
}

static int write_table(struct cg_sf *sf, __u32 id, const struct cg_compiled *c)
{
	struct cg_binding b = {};
	__u32 old, slot;
	int err;

	if (bpf_map_lookup_elem(sf->fd[CG_SF_MAP_BIND], &id, &b))
		return -errno;
	old = b.slot;
	slot = old == 2 * id ? 2 * id + 1 : 2 * id;
	cg_slot_clear(sf->fd[CG_SF_MAP_LPM], sf->fd[CG_SF_MAP_PORTS], slot);
	err = cg_slot_write(sf->fd[CG_SF_MAP_LPM], sf->fd[CG_SF_MAP_PORTS],
			    slot, c);
	if (err)
		return err;
	b.slot = slot;
	b.gen++;
	if (bpf_map_update_elem(sf->fd[CG_SF_MAP_BIND], &id, &b, BPF_ANY)) {
		err = -errno;
		cg_slot_clear(sf->fd[CG_SF_MAP_LPM], sf->fd[CG_SF_MAP_PORTS],
			      slot);
		return err;
	}
	/* A packet that read the old binding may still be using the old
	 * slot: programs run under RCU, and MEMBARRIER_CMD_GLOBAL waits for
	 * a grace period.  Then the old entries can go. */
	if (old == 2 * id || old == 2 * id + 1) {
		syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0);
		cg_slot_clear(sf->fd[CG_SF_MAP_LPM], sf->fd[CG_SF_MAP_PORTS],
			      old);
	}
	return 0;
}

int cg_sf_policy(struct cg_sf *sf, const struct cg_policy *p, __u32 *id)
{
	struct cg_compiled all = {}, in = {};
	struct cg_slot_meta m;
	char err[CG_ERR_MAX];
	int ret, fresh = 0;

	ret = cg_policy_compile(p, &all, err, sizeof(err));
	if (ret)
		return cg_seterr(ret, "%s", err);
	ret = find_id(sf, p->name, id, &m, &fresh);
	if (!ret && !fresh && m.hash == all.hash)
		goto out;	/* current already */
	ret = ret ? ret : ingress_only(&all, &in);
	if (!ret)
		ret = write_table(sf, *id, &in);
	if (!ret) {
		m.in_use = 1;
		m.nentries = in.n;
		m.hash = all.hash;
		m.mode = p->mode;
		snprintf(m.name, sizeof(m.name), "%s", p->name);
		snprintf(m.source, sizeof(m.source), "%s", p->source);
		if (bpf_map_update_elem(sf->fd[CG_SF_MAP_META], id, &m, BPF_ANY))
			ret = -errno;
	}
out:
	free(in.e);
	cg_compiled_free(&all);
	return ret;
}

/* The (uid, policy) counter exists before any packet can be judged. */
static int make_counter(struct cg_sf *sf, __u32 uid, const char *name)
{
	struct cg_sf_key k = { .uid = uid };
	struct cg_counters *zero = calloc(sf->ncpus, sizeof(*zero));
	int err = 0;

	if (!zero)
		return -ENOMEM;
	strncpy(k.policy, name, sizeof(k.policy) - 1);
	if (bpf_map_update_elem(sf->fd[CG_SF_MAP_COUNTS], &k, zero,
				BPF_NOEXIST) && errno != EEXIST)
		err = cg_seterr(-errno, "socket-filter counter for uid %u: %m "
				"(at most %d (uid, policy) pairs)", uid,
				CG_SF_MAX_COUNTERS);
	free(zero);
	return err;
}

int cg_sf_prog_load(struct cg_sf *sf, __u32 id, __u32 uid, const char *name)
{
	struct sockfilter_bpf *skel;
	int fd, err;

	if (!id || id > CG_SF_MAX_POLICIES || strlen(name) >= CG_SF_NAME_MAX)
		return -EINVAL;
	err = make_counter(sf, uid, name);
	if (err)
		return err;
	skel = skel_open(sf);
	if (!skel)
		return -errno;
	skel->rodata->sf_uid = uid;
	skel->rodata->sf_policy = id;
	memcpy((char *)skel->rodata->sf_name, name, strlen(name));
	if (sockfilter_bpf__load(skel)) {
		err = -errno;
		sockfilter_bpf__destroy(skel);
		return cg_seterr(err, "loading the socket filter: %s",
				 strerror(-err));
	}
	fd = fcntl(bpf_program__fd(skel->progs.cg_sockfilter), F_DUPFD_CLOEXEC, 3);
	err = fd < 0 ? -errno : 0;
	sockfilter_bpf__destroy(skel);
	return err ? err : fd;
}

static int key_cmp(const void *a, const void *b)
{
	const struct cg_sf_key *x = a, *y = b;

	if (x->uid != y->uid)
		return x->uid < y->uid ? -1 : 1;
	return strncmp(x->policy, y->policy, sizeof(x->policy));
}

static void sum_cpus(const struct cg_counters *v, int n, struct cg_counters *s)
{
	int c, r;

	memset(s, 0, sizeof(*s));
	for (c = 0; c < n; c++) {
		for (r = 0; r < CG_NR_RES; r++) {
			s->pkts[r] += v[c].pkts[r];
			s->bytes[r] += v[c].bytes[r];
		}
		s->unparsed += v[c].unparsed;
	}
}

int cg_sf_counters(struct cg_sf *sf, cg_sf_counter_cb cb, void *ctx)
{
	struct cg_sf_key *keys = calloc(CG_SF_MAX_COUNTERS, sizeof(*keys)), k;
	struct cg_counters *v = calloc(sf->ncpus, sizeof(*v)), sum;
	int fd = sf->fd[CG_SF_MAP_COUNTS], err = 0;
	size_t n = 0, i;
	void *prev = NULL;

	if (!keys || !v) {
		err = -ENOMEM;
		goto out;
	}
	while (n < CG_SF_MAX_COUNTERS && !bpf_map_get_next_key(fd, prev, &k)) {
		keys[n++] = k;
		prev = &keys[n - 1];
	}
	qsort(keys, n, sizeof(*keys), key_cmp);
	for (i = 0; !err && i < n; i++) {
		if (bpf_map_lookup_elem(fd, &keys[i], v))
			continue;	/* removed meanwhile */
		sum_cpus(v, sf->ncpus, &sum);
		err = cb(&keys[i], &sum, ctx);
	}
out:
	free(keys);
	free(v);
	return err;
}
