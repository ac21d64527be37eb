// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Watching the cgroup2 tree for cgroups that rules match.
 *
 * inotify is not recursive, so every directory whose children a rule could
 * still match gets its own watch, and a new directory is watched and then
 * read (a child created between its mkdir and our watch is found by the
 * read).  Rules are globs with a fixed number of components, so only the
 * directories along them are watched: "machine.slice/libpod-*.scope"
 * watches the root and machine.slice, never the containers' own subtrees.
 * That keeps far below fs.inotify.max_user_watches on big hosts; events
 * lost anyway (queue overflow, watch limit) are caught by the periodic
 * full reconcile.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include "daemon.h"

#define CGW_MASK (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | \
		  IN_DELETE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW)

int cgd_queue_path(char ***v, size_t *n, const char *rel)
{
	char **t;
	size_t i;

	for (i = 0; i < *n; i++)
		if (!strcmp((*v)[i], rel))
			return 0;
	t = realloc(*v, (*n + 1) * sizeof(*t));
	if (!t)
		return -ENOMEM;
	*v = t;
	if (!(t[*n] = strdup(rel)))
		return -ENOMEM;
	(*n)++;
	return 0;
}

void cgd_clear_paths(char ***v, size_t *n)
{
	size_t i;

	for (i = 0; i < *n; i++)
		free((*v)[i]);
	free(*v);
	*v = NULL;
	*n = 0;
}

static struct cgd_watch *find_wd(struct cgd *d, int wd)
{
	size_t i;

	for (i = 0; i < d->nw; i++)
		if (d->w[i].wd == wd)
			return &d->w[i];
	return NULL;
}

static void forget_wd(struct cgd *d, int wd)
{
	struct cgd_watch *w = find_wd(d, wd);

	if (!w)
		return;
	free(w->rel);
	*w = d->w[--d->nw];
}

static int add_watch(struct cgd *d, const char *rel, const char *abs)
{
	static int warned;
	struct cgd_watch *w, *t;
	int wd = inotify_add_watch(d->cg_ifd, abs, CGW_MASK);

	if (wd < 0) {
		if (errno == ENOSPC && !warned++)
			cgd_log(CGD_WARN, "inotify watch limit reached at %s "
				"(fs.inotify.max_user_watches): new cgroups "
				"there are found by the periodic reconcile", abs);
		return errno == ENOENT || errno == ENOSPC ? 0 : -errno;
	}
	w = find_wd(d, wd);
	if (!w) {
		t = realloc(d->w, (d->nw + 1) * sizeof(*t));
		if (!t)
			return -ENOMEM;
		d->w = t;
		w = &t[d->nw++];
		w->wd = wd;
		w->rel = NULL;
	}
	if (!w->rel || strcmp(w->rel, rel)) {	/* new, or renamed */
		free(w->rel);
		w->rel = strdup(rel);
		if (!w->rel) {
			d->nw--;
			return -ENOMEM;
		}
	}
	return 0;
}

int cgd_cgw_scan(struct cgd *d, const char *rel)
{
	char abs[PATH_MAX], child[PATH_MAX];
	struct dirent *de;
	DIR *dir;
	int err = 0;

	if (*rel && cgd_rule_match(&d->cfg, rel))
		err = cgd_queue_path(&d->newcg, &d->nnewcg, rel);
	if (err || d->cg_ifd < 0 || !cgd_rules_below(&d->cfg, rel))
		return err;
	if (snprintf(abs, sizeof(abs), "%s/%s", d->cg2, rel) >= (int)sizeof(abs))
		return 0;
	err = add_watch(d, rel, abs);
	dir = err ? NULL : opendir(abs);
	if (!dir)
		return err;
	while (!err && (de = readdir(dir))) {
		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") ||
		    !strcmp(de->d_name, ".."))
			continue;
		if (snprintf(child, sizeof(child), "%s%s%s", rel, *rel ? "/" : "",
			     de->d_name) < (int)sizeof(child))
			err = cgd_cgw_scan(d, child);
	}
	closedir(dir);
	return err;
}

void cgd_cgw_close(struct cgd *d)
{
	size_t i;

	if (d->cg_ifd >= 0)
		close(d->cg_ifd);	/* drops it from the epoll set too */
	d->cg_ifd = -1;
	for (i = 0; i < d->nw; i++)
		free(d->w[i].rel);
	free(d->w);
	d->w = NULL;
	d->nw = 0;
}

/* New inotify instance for the current rules; the caller then runs a full
 * reconcile, whose scan adds the watches. */
int cgd_cgw_reset(struct cgd *d)
{
	cgd_cgw_close(d);
	if (!d->cfg.nrules)
		return 0;
	d->cg_ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (d->cg_ifd < 0)
		return -errno;
	return cgd_epoll_add(d, d->cg_ifd, EPOLLIN, CGD_EV_CGW);
}

static void on_event(struct cgd *d, const struct inotify_event *ev)
{
	struct cgd_watch *w;
	char child[PATH_MAX];

	if (ev->mask & IN_Q_OVERFLOW) {
		cgd_log(CGD_WARN, "cgroup watch: inotify queue overflowed; "
			"rescanning");
		d->need_full = 1;
		return;
	}
	/* A watched directory went away: its parent's watch reports it as a
	 * deleted child too, which is what queues the GC. */
	if (ev->mask & IN_IGNORED) {
		forget_wd(d, ev->wd);
		return;
	}
	w = find_wd(d, ev->wd);
	if (!w || !ev->len || !(ev->mask & IN_ISDIR))
		return;
	if (snprintf(child, sizeof(child), "%s%s%s", w->rel, *w->rel ? "/" : "",
		     ev->name) >= (int)sizeof(child))
		return;
	if ((ev->mask & (IN_DELETE | IN_MOVED_FROM)) &&
	    cgd_queue_path(&d->delcg, &d->ndelcg, child))
		d->need_gc = 1;
	if ((ev->mask & (IN_CREATE | IN_MOVED_TO)) && cgd_cgw_scan(d, child))
		d->need_full = 1;
}

int cgd_cgw_read(struct cgd *d)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t n;
	char *p;

	for (;;) {
		n = read(d->cg_ifd, buf, sizeof(buf));
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		for (p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			on_event(d, ev);
		}
	}
}
