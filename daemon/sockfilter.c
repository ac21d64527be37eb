// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The "filter" request of the unprivileged socket: a caller whose
 * unprivileged: entry lists a policy gets a socket-filter program for it,
 * by fd.  One program per (uid, policy) is loaded and kept (its counters
 * are that pair's); every request gets a dup of it.  Only the program fd
 * ever leaves the daemon: its maps stay reachable only with
 * CAP_SYS_ADMIN (BPF_MAP_GET_FD_BY_ID), which the caller lacks.
 *
 * A policy reload rewrites the filter table of every policy that has one
 * (cgd_sf_refresh), and programs already attached follow at once; a
 * removed policy file leaves its last version in force, as for cgroups.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "daemon.h"
#include "../bpf/sockfilter.h"
#include "../lib/err.h"

#define SF_CACHE_MAX	1024

struct sf_prog {
	uid_t uid;
	__u32 id;
	int fd;
};

struct cgd_sf {
	struct cg_sf maps;
	struct sf_prog *progs;
	size_t n;
};

static int sf_state(struct cgd *d, struct cgd_sf **out)
{
	struct cgd_sf *s = d->sf;
	int err;

	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return -ENOMEM;
		cg_clearerr();
		err = cg_sf_open(&s->maps, 1);
		if (err) {
			free(s);
			return err;
		}
		if (s->maps.notice[0])	/* repaired: say so loudly */
			cgd_log(CGD_ERR, "%s", s->maps.notice);
		d->sf = s;
	}
	*out = s;
	return 0;
}

void cgd_sf_close(struct cgd *d)
{
	struct cgd_sf *s = d->sf;
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++)
		close(s->progs[i].fd);
	free(s->progs);
	cg_sf_close(&s->maps);
	free(s);
	d->sf = NULL;
}

/* The cached program of (uid, id), loading it the first time. */
static int sf_prog(struct cgd_sf *s, uid_t uid, __u32 id, const char *name)
{
	struct sf_prog *t;
	size_t i;
	int fd;

	for (i = 0; i < s->n; i++)
		if (s->progs[i].uid == uid && s->progs[i].id == id)
			return s->progs[i].fd;
	fd = cg_sf_prog_load(&s->maps, id, uid, name);
	if (fd < 0 || s->n == SF_CACHE_MAX)
		return fd;	/* (a full cache: loaded per request) */
	t = realloc(s->progs, (s->n + 1) * sizeof(*t));
	if (!t) {
		close(fd);
		return -ENOMEM;
	}
	s->progs = t;
	s->progs[s->n++] = (struct sf_prog){ uid, id, fd };
	return fd;
}

static int cached(const struct cgd_sf *s, int fd)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->progs[i].fd == fd)
			return 1;
	return 0;
}

static __u32 prog_id(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

int cgd_sf_handle(struct cgd *d, const struct cgd_caller *who,
		  json_object *req, struct json *out, int *fd_out, char *err,
		  size_t errlen)
{
	const struct cgd_policy *pol;
	const char *name;
	struct cgd_sf *s = NULL;
	char hash[24];
	__u32 id;
	int fd, ret;

	name = cgd_ureq_str(req, "policy", CG_SF_NAME_MAX - 1, err, errlen);
	if (!name)
		return -EINVAL;
	if (!cgd_unpriv_allows_policy(who->entry, name)) {
		snprintf(err, errlen, "policy '%s' is not in the policies: of "
			 "your unprivileged: entry (config line %d)", name,
			 who->entry->line);
		cgd_log(CGD_WARN, "unprivileged socket: uid %u pid %d asked for "
			"policy %s, not in its entry", who->uid, who->pid, name);
		return -EACCES;
	}
	pol = cgd_policy_get(&d->pol, &d->npol, name);
	if (!pol || !pol->p) {
		snprintf(err, errlen, "no policy named '%s' is loaded", name);
		return -ENOENT;
	}
	ret = sf_state(d, &s);
	if (!ret)
		ret = cg_sf_policy(&s->maps, pol->p, &id);
	fd = ret ? ret : sf_prog(s, who->uid, id, name);
	if (fd < 0) {
		snprintf(err, errlen, "%s", *cg_lasterr() ? cg_lasterr() :
			 strerror(-fd));
		cgd_log(CGD_ERR, "unprivileged socket: filter %s for uid %u: %s",
			name, who->uid, err);
		return fd;
	}
	*fd_out = cached(s, fd) ? fcntl(fd, F_DUPFD_CLOEXEC, 3) : fd;
	if (*fd_out < 0)
		return -errno;
	snprintf(hash, sizeof(hash), "%016llx", (unsigned long long)pol->hash);
	jw_kstr(out, "policy", name);
	jw_kstr(out, "mode", pol->p->mode ? "audit" : "enforce");
	jw_kstr(out, "hash", hash);
	jw_ku64(out, "prog_id", prog_id(fd));
	cgd_log(CGD_INFO, "unprivileged socket: socket filter %s (prog id %u) "
		"to uid %u pid %d", name, prog_id(fd), who->uid, who->pid);
	return 0;
}

void cgd_sf_refresh(struct cgd *d)
{
	const struct cgd_policy *pol;
	struct cg_slot_meta m;
	__u32 id, got;
	int err;

	if (!d->sf)
		return;
	for (id = 1; id <= CG_SF_MAX_POLICIES; id++) {
		if (cg_sf_meta(&d->sf->maps, id, &m) || !m.in_use)
			continue;
		m.name[sizeof(m.name) - 1] = 0;
		pol = cgd_policy_get(&d->pol, &d->npol, m.name);
		if (!pol || !pol->p)
			continue;	/* removed: the last version stays */
		cg_clearerr();
		err = cg_sf_policy(&d->sf->maps, pol->p, &got);
		if (err)
			cgd_log(CGD_ERR, "socket filter %s: update failed: %s",
				m.name, *cg_lasterr() ? cg_lasterr() :
				strerror(-err));
	}
}
