// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The daemon's policy table: every .yaml, .yml and .json file of the
 * policy directory, plus the built-ins that rules name.  Each entry keeps its
 * last good version: a file that fails to parse or compile is rejected
 * whole, its file:line:col error is kept for `ctl status`, and the cgroups
 * bound to the policy keep enforcing the previous version.
 *
 * Names are unique: a second file defining a name that is already loaded
 * is rejected, and so is a file reusing a built-in name, because the CLI
 * and the OCI hook resolve built-in names first and must mean the same
 * policy as the daemon.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "daemon.h"
#include "../policy/compile.h"
#include "../lib/usdt.h"

int cgd_policy_file_name(const char *name)
{
	static const char *const ext[] = { ".yaml", ".yml", ".json" };
	size_t n = strlen(name), i;

	if (name[0] == '.')	/* editor temp files, k8s ..data links */
		return 0;
	for (i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		size_t e = strlen(ext[i]);

		if (n > e && !strcmp(name + n - e, ext[i]))
			return 1;
	}
	return 0;
}

static void file_stem(const char *path, char *out, size_t len)
{
	const char *b = strrchr(path, '/');

	snprintf(out, len, "%s", b ? b + 1 : path);
	if (strrchr(out, '.'))
		*strrchr(out, '.') = 0;
}

static ssize_t find_file(struct cgd_policy *v, size_t n, const char *path)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(v[i].file, path))
			return i;
	return -1;
}

static ssize_t add_entry(struct cgd_policy **v, size_t *n, const char *path)
{
	struct cgd_policy *t = realloc(*v, (*n + 1) * sizeof(**v));

	if (!t)
		return -ENOMEM;
	*v = t;
	memset(&t[*n], 0, sizeof(t[*n]));
	snprintf(t[*n].file, sizeof(t[*n].file), "%s", path);
	file_stem(path, t[*n].name, sizeof(t[*n].name));
	t[*n].state = CGD_P_REMOVED;	/* until its first load */
	return (*n)++;
}

/* The hash cg_guard_attach() records in the policy slot: equal hash and
 * name mean the pinned version is this one, so no re-attach. */
static int policy_hash(const struct cg_policy *p, uint64_t *hash, char *err,
		       size_t errlen)
{
	return cg_policy_hash(p, hash, err, errlen);
}

/* Why @p may not be loaded from entry @self, or 0. */
static int name_taken(struct cgd_policy *v, size_t n, size_t self,
		      const struct cg_policy *p, char *err, size_t errlen)
{
	size_t i;

	if (cg_builtin_policy(p->name)) {
		snprintf(err, errlen, "%.*s: policy name '%s' is a built-in "
			 "policy; pick another name", 300, v[self].file, p->name);
		return -EEXIST;
	}
	for (i = 0; i < n; i++) {
		if (i == self || !v[i].p || v[i].builtin ||
		    v[i].state == CGD_P_REMOVED || strcmp(v[i].name, p->name))
			continue;
		snprintf(err, errlen, "%.*s: policy '%s' is already defined "
			 "by %.*s", 200, v[self].file, p->name, 200, v[i].file);
		return -EEXIST;
	}
	return 0;
}

static void load_failed(struct cgd_policy *e, const char *err)
{
	e->state = CGD_P_ERROR;
	e->n_err++;
	snprintf(e->err, sizeof(e->err), "%s", err);
	cgd_log(CGD_ERR, "policy file rejected, %s: %s", e->p ?
		"keeping the previous version" : "nothing loaded from it", err);
}

/* Parses and compiles entry @i; on success it becomes the loaded version. */
static void load_one(struct cgd_policy **v, size_t *n, size_t i,
		     int *changed)
{
	struct cgd_policy *e = &(*v)[i];
	struct cg_policy *p = NULL;
	char err[CG_ERR_MAX];
	uint64_t hash = 0;
	int fresh;

	e->last_load = time(NULL);
	stat(e->file, &e->st);
	if (cg_policy_parse_file(e->file, &p, err, sizeof(err)) ||
	    policy_hash(p, &hash, err, sizeof(err)) ||
	    name_taken(*v, *n, i, p, err, sizeof(err))) {
		cg_policy_free(p);
		load_failed(e, err);
		CG_USDT(policy_reload, e->file, "", -EINVAL, err);
		return;
	}
	fresh = !e->p || e->hash != hash || strcmp(e->name, p->name) ||
		e->state == CGD_P_REMOVED;
	cgd_log(CGD_INFO, "policy '%s' %s from %s (hash %016llx)", p->name,
		!e->p ? "loaded" : fresh ? "reloaded" : "unchanged", e->file,
		(unsigned long long)hash);
	cg_policy_free(e->p);
	e->p = p;
	e->hash = hash;
	snprintf(e->name, sizeof(e->name), "%s", p->name);
	e->state = CGD_P_OK;
	e->err[0] = 0;
	e->n_ok++;
	*changed |= fresh;
	CG_USDT(policy_reload, e->file, e->name, 0, fresh ? "changed" :
		"unchanged");
}

static void unload(struct cgd_policy *e, int *changed)
{
	if (e->state == CGD_P_REMOVED)
		return;
	cgd_log(CGD_WARN, "policy file %s is gone: policy '%s' unloaded; "
		"cgroups guarded by it keep enforcing their last version",
		e->file, e->name);
	cg_policy_free(e->p);
	e->p = NULL;
	e->state = CGD_P_REMOVED;
	e->err[0] = 0;
	*changed = 1;
}

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static int scan_filter(const struct dirent *de)
{
	return cgd_policy_file_name(de->d_name);
}

/* Loads one directory entry if it is new, changed or forced. */
static int scan_entry(struct cgd_policy **v, size_t *n, const char *path,
		      int force, int *changed)
{
	struct stat st;
	ssize_t i;

	if (stat(path, &st) || !S_ISREG(st.st_mode))
		return 0;	/* not a file (yet): ignored */
	i = find_file(*v, *n, path);
	if (i < 0 && (i = add_entry(v, n, path)) < 0)
		return i;
	(*v)[i].seen = 1;
	/* Rejected files are retried: the name they clashed on may be free. */
	if (force || (*v)[i].state != CGD_P_OK || !same_file(&st, &(*v)[i].st))
		load_one(v, n, i, changed);
	return 0;
}

int cgd_policies_scan(struct cgd_policy **v, size_t *n, const char *dir,
		      int force, int *changed)
{
	struct dirent **names = NULL;
	char path[PATH_MAX];
	int cnt, i, err = 0;
	size_t k;

	for (k = 0; k < *n; k++)
		(*v)[k].seen = (*v)[k].builtin;
	cnt = scandir(dir, &names, scan_filter, alphasort);
	if (cnt < 0) {
		err = -errno;	/* ENOENT: the watch already warned */
		cgd_log(err == -ENOENT ? CGD_DEBUG : CGD_WARN,
			"policy directory %s: %s", dir, strerror(-err));
		cnt = 0;
	}
	for (i = 0; i < cnt; i++) {
		if (!err && snprintf(path, sizeof(path), "%s/%s", dir,
				     names[i]->d_name) < (int)sizeof(path))
			err = scan_entry(v, n, path, force, changed);
		free(names[i]);
	}
	free(names);
	for (k = 0; k < *n; k++)
		if (!(*v)[k].seen)
			unload(&(*v)[k], changed);
	return err;
}

int cgd_policy_event(struct cgd_policy **v, size_t *n, const char *dir,
		     const char *name, int *changed)
{
	char path[PATH_MAX];
	struct stat st;
	ssize_t i;

	/* Kubernetes swaps a ConfigMap volume with a rename of "..data":
	 * the visible names stay, their targets change. */
	if (!strncmp(name, "..", 2))
		return cgd_policies_scan(v, n, dir, 0, changed);
	if (!cgd_policy_file_name(name) ||
	    snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return 0;
	if (!stat(path, &st))
		return scan_entry(v, n, path, 1, changed);
	i = find_file(*v, *n, path);
	if (i >= 0)
		unload(&(*v)[i], changed);
	return 0;
}

const struct cgd_policy *cgd_policy_get(struct cgd_policy **v, size_t *n,
					const char *name)
{
	char err[CG_ERR_MAX], src[CG_POLICY_NAME_MAX + 16];
	const char *text = cg_builtin_policy(name);
	struct cgd_policy *e;
	size_t i;
	ssize_t k;

	for (i = 0; i < *n; i++)
		if ((*v)[i].p && (*v)[i].builtin == !!text &&
		    !strcmp((*v)[i].name, name))
			return &(*v)[i];
	if (!text)
		return NULL;
	snprintf(src, sizeof(src), "builtin:%s", name);
	k = add_entry(v, n, src);
	if (k < 0)
		return NULL;
	e = &(*v)[k];
	e->builtin = 1;
	e->last_load = time(NULL);
	if (cg_policy_parse_buf(src, text, strlen(text), &e->p, err,
				sizeof(err)) ||
	    policy_hash(e->p, &e->hash, err, sizeof(err))) {
		load_failed(e, err);	/* a bug in the binary, not the user's */
		cg_policy_free(e->p);
		e->p = NULL;
		return NULL;
	}
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->state = CGD_P_OK;
	e->n_ok++;
	return e;
}

void cgd_policies_free(struct cgd_policy *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		cg_policy_free(v[i].p);
	free(v);
}
