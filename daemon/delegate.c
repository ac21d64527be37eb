// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Delegated attach: the "attach" and "detach" requests of the socket for
 * unprivileged callers (usock.c).  The daemon attaches a policy to a
 * cgroup on a caller's behalf only when
 *   - the caller's `unprivileged:` entry lists the policy (or, for a
 *     policy file, says `files: true`),
 *   - the cgroup lies inside the entry's `subtree`, and
 *   - the caller's uid owns the cgroup directory (it was delegated to it),
 *     checked on an fd opened once below the cgroup2 mount, with no
 *     symlinks, through which the programs are then attached.
 * cgroup BPF runs the programs of every ancestor too, and a packet or
 * socket operation passes only if all of them allow it: a delegated
 * policy can add restrictions, never lift the operator's.  What the
 * operator guarded itself (not marked delegated) cannot be swapped or
 * detached through here.
 *
 * A policy file is never opened by the daemon: the caller passes an open
 * fd (SCM_RIGHTS), so the daemon reads only what the caller could read.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include "daemon.h"
#include "../cgroup/cgroup.h"
#include "../lib/err.h"

/* Policy files from unprivileged callers: far below CG_POLICY_FILE_MAX,
 * so no caller can keep the (single-threaded) daemon parsing for long. */
#define CGD_DELEG_FILE_MAX	(1u << 20)
#ifndef FUSE_SUPER_MAGIC
#define FUSE_SUPER_MAGIC	0x65735546
#endif

static int errf(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int errf(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

/*
 * @in (absolute below the mount, or relative to it) -> "a/b/c" in @rel.
 * Purely lexical: "." and ".." components are refused, not resolved.
 */
static int norm_path(const struct cgd *d, const char *in, char *rel,
		     size_t len, char *err, size_t errlen)
{
	size_t n = strlen(d->cg2), o = 0;
	const char *s = in, *e;

	if (!strncmp(in, d->cg2, n) && (in[n] == '/' || !in[n]))
		s = in + n;
	for (; *s; s = e) {
		while (*s == '/')
			s++;
		if (!*s)
			break;
		e = s + strcspn(s, "/");
		if ((e - s == 1 && s[0] == '.') ||
		    (e - s == 2 && s[0] == '.' && s[1] == '.'))
			return errf(err, errlen, -EINVAL, "cgroup %s: '.' and "
				    "'..' are not allowed", in);
		if (o + (e - s) + 2 > len)
			return errf(err, errlen, -ENAMETOOLONG, "cgroup path "
				    "too long");
		if (o)
			rel[o++] = '/';
		memcpy(rel + o, s, e - s);
		o += e - s;
	}
	rel[o] = 0;
	return 0;
}

static int in_subtree(const char *rel, const char *sub)
{
	size_t n = strlen(sub);

	while (n && sub[n - 1] == '/')
		n--;
	return !strncmp(rel, sub, n) && (rel[n] == '/' || !rel[n]);
}

/*
 * Opens the caller's cgroup once (cg_cgroup_open: walked below the mount
 * without symlinks or "..", checked to be cgroup2, id from the fd) and
 * checks on that fd that the caller owns it.  Returns the fd.
 */
static int open_owned(const struct cgd_caller *who, const char *rel,
		      struct cg_cgroup *cg, char *err, size_t errlen)
{
	struct stat st;
	int fd, rc = 0;

	cg_clearerr();
	fd = cg_cgroup_open(rel, cg);
	if (fd < 0)
		return errf(err, errlen, fd, "cgroup /%s: %s", rel,
			    *cg_lasterr() ? cg_lasterr() : strerror(-fd));
	if (fstat(fd, &st))
		rc = errf(err, errlen, -errno, "cgroup /%s: %s", rel,
			  strerror(errno));
	else if (st.st_uid != who->uid)
		rc = errf(err, errlen, -EPERM, "cgroup /%s is owned by uid %u, "
			  "not by you (uid %u): only a cgroup delegated to you "
			  "(chown) can be guarded on your behalf", rel,
			  (unsigned)st.st_uid, (unsigned)who->uid);
	if (rc) {
		close(fd);
		return rc;
	}
	return fd;
}

/* Everything both requests check: entry has a subtree, path inside it,
 * directory owned by the caller.  Returns the cgroup's fd (@cg filled),
 * @rel is the path for messages. */
static int check_target(struct cgd *d, const struct cgd_caller *who,
			json_object *req, char *rel, struct cg_cgroup *cg,
			char *err, size_t errlen)
{
	const struct cg_unpriv_entry *e = who->entry;
	const char *path = cgd_ureq_str(req, "cgroup", CG_PATH_MAX - 1, err,
					errlen);
	int rc;

	if (!path)
		return -EINVAL;
	if (!e->subtree[0])
		return errf(err, errlen, -EACCES, "your unprivileged: entry "
			    "(%s line %d) has no subtree: the daemon attaches "
			    "nothing on your behalf", d->config_path, e->line);
	rc = norm_path(d, path, rel, CG_PATH_MAX, err, errlen);
	if (rc)
		return rc;
	if (!in_subtree(rel, e->subtree))
		return errf(err, errlen, -EACCES, "cgroup /%s is outside your "
			    "delegated subtree /%s (%s line %d)", rel,
			    e->subtree, d->config_path, e->line);
	return open_owned(who, rel, cg, err, errlen);
}

/* What the operator guarded (not marked delegated) is not ours to touch. */
static int check_not_operators(struct cg_guard *g, uint64_t id,
			       const char *rel, int *guarded, char *err,
			       size_t errlen)
{
	struct cg_status st;

	*guarded = !cg_guard_status(g, id, &st);
	if (*guarded && !(st.meta.flags & CG_CGF_DELEGATED))
		return errf(err, errlen, -EPERM, "cgroup /%s is guarded by the "
			    "operator (policy %s): a delegated caller cannot "
			    "replace or detach that (guard a child cgroup "
			    "instead: both policies apply)", rel, st.slot.name);
	return 0;
}

/* The policy file passed as an fd: checked and read through that fd. */
static int policy_from_fd(const struct cgd_caller *who, struct cg_policy **p,
			  char *err, size_t errlen)
{
	char src[96], perr[CG_ERR_MAX];
	struct statfs sfs;
	struct stat st;
	int fl, rc;

	if (who->in_fd < 0)
		return errf(err, errlen, -EBADF, "\"policy_fd\": true but no "
			    "fd came with the request (SCM_RIGHTS)");
	fl = fcntl(who->in_fd, F_GETFL);
	if (fl < 0 || (fl & O_PATH) || (fl & O_ACCMODE) == O_WRONLY)
		return errf(err, errlen, -EBADF, "the policy fd must be open "
			    "for reading (not O_PATH, not write-only)");
	if (fstat(who->in_fd, &st) || fstatfs(who->in_fd, &sfs))
		return errf(err, errlen, -errno, "policy fd: %s", strerror(errno));
	/* A FUSE file could stall the daemon's one thread in read(). */
	if (sfs.f_type == FUSE_SUPER_MAGIC)
		return errf(err, errlen, -EINVAL, "policy files on FUSE file "
			    "systems are refused");
	if (S_ISREG(st.st_mode) && st.st_size > CGD_DELEG_FILE_MAX)
		return errf(err, errlen, -EFBIG, "policy file is %lld bytes; "
			    "files from unprivileged callers are limited to "
			    "%u KiB", (long long)st.st_size,
			    CGD_DELEG_FILE_MAX >> 10);
	snprintf(src, sizeof(src), "uid-%u-file", (unsigned)who->uid);
	rc = cg_policy_parse_fd(who->in_fd, src, p, perr, sizeof(perr));
	if (rc)
		return errf(err, errlen, rc, "%s", perr);
	return 0;
}

/* The policy a request names, allowed for this caller.  *owned: free it. */
static int pick_policy(struct cgd *d, const struct cgd_caller *who,
		       json_object *req, const struct cg_policy **p,
		       struct cg_policy **owned, char *err, size_t errlen)
{
	const struct cg_unpriv_entry *e = who->entry;
	const struct cgd_policy *lp;
	json_object *v;
	const char *name;
	int rc, has_fd = json_object_object_get_ex(req, "policy_fd", &v) &&
			 json_object_get_boolean(v);

	*owned = NULL;
	if (has_fd && json_object_object_get_ex(req, "policy", &v))
		return errf(err, errlen, -EINVAL, "give \"policy\" or "
			    "\"policy_fd\", not both");
	if (has_fd) {
		if (!e->files)
			return errf(err, errlen, -EACCES, "policy files are not "
				    "allowed for you (files: true in your "
				    "unprivileged: entry, %s line %d)",
				    d->config_path, e->line);
		rc = policy_from_fd(who, owned, err, errlen);
		*p = *owned;
		return rc;
	}
	name = cgd_ureq_str(req, "policy", CG_POLICY_NAME_MAX - 1, err, errlen);
	if (!name)
		return -EINVAL;
	if (!cgd_unpriv_allows_policy(e, name))
		return errf(err, errlen, -EACCES, "policy '%s' is not in your "
			    "list (policies: of your unprivileged: entry, %s "
			    "line %d)", name, d->config_path, e->line);
	lp = cgd_policy_get(&d->pol, &d->npol, name);
	if (!lp || !lp->p)
		return errf(err, errlen, -ENOENT, "policy '%s' is not loaded "
			    "in the daemon", name);
	*p = lp->p;
	return 0;
}

static int fail_flag(json_object *req, unsigned *flags, char *err,
		     size_t errlen)
{
	json_object *v;
	const char *s;

	if (!json_object_object_get_ex(req, "fail", &v))
		return 0;
	s = json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : "";
	if (!strcmp(s, "open"))
		*flags |= CG_ATTACH_FAIL_OPEN;
	else if (strcmp(s, "closed"))
		return errf(err, errlen, -EINVAL, "\"fail\": open or closed");
	return 0;
}

int cgd_deleg_attach(struct cgd *d, const struct cgd_caller *who,
		     json_object *req, struct json *out, int *fd_out,
		     char *err, size_t errlen)
{
	char rel[CG_PATH_MAX];
	const struct cg_policy *p = NULL;
	struct cg_policy *owned = NULL;
	struct cg_guard *g = NULL;
	struct cg_cgroup cg;
	unsigned flags = CG_ATTACH_DELEGATED;
	int rc, cgfd, guarded, degraded = 0;

	(void)fd_out;
	rc = cgfd = check_target(d, who, req, rel, &cg, err, errlen);
	if (cgfd >= 0)
		rc = fail_flag(req, &flags, err, errlen);
	if (!rc)
		rc = pick_policy(d, who, req, &p, &owned, err, errlen);
	if (rc)
		goto out;
	cg_clearerr();
	rc = cg_guard_open(&g, CG_OPEN_CREATE);
	if (!rc)
		rc = check_not_operators(g, cg.id, rel, &guarded, err, errlen);
	if (rc)
		goto out;
	/* Through the fd that was checked: what is guarded is what the
	 * caller owns. */
	rc = cg_guard_attach_fd(g, &cg, cgfd, p, flags, &degraded);
	if (rc) {
		errf(err, errlen, rc, "attach /%s: %s", rel, *cg_lasterr() ?
		     cg_lasterr() : strerror(-rc));
		goto out;
	}
	cgd_log(CGD_INFO, "delegated attach: uid %u pid %d: /%s policy %s%s%s",
		(unsigned)who->uid, (int)who->pid, rel, p->name,
		guarded ? " (swap)" : "", degraded ? " (degraded)" : "");
	jw_kstr(out, "cgroup", cg.rel);
	jw_ku64(out, "id", cg.id);
	jw_kstr(out, "policy", p->name);
	jw_kbool(out, "degraded", degraded);
out:
	if (rc && *err)
		cgd_log(CGD_WARN, "delegated attach refused: uid %u pid %d: %s",
			(unsigned)who->uid, (int)who->pid, err);
	if (cgfd >= 0)
		close(cgfd);
	cg_guard_close(g);
	cg_policy_free(owned);
	return rc;
}

int cgd_deleg_detach(struct cgd *d, const struct cgd_caller *who,
		     json_object *req, struct json *out, int *fd_out,
		     char *err, size_t errlen)
{
	char rel[CG_PATH_MAX];
	struct cg_guard *g = NULL;
	struct cg_cgroup cg;
	int rc, cgfd, guarded;

	(void)fd_out;
	rc = cgfd = check_target(d, who, req, rel, &cg, err, errlen);
	if (cgfd >= 0)
		rc = cg_guard_open(&g, CG_OPEN_CREATE);
	if (!rc)
		rc = check_not_operators(g, cg.id, rel, &guarded, err, errlen);
	if (!rc && !guarded)
		rc = errf(err, errlen, -ENOENT, "cgroup /%s is not guarded", rel);
	if (!rc) {
		rc = cg_guard_detach(g, NULL, cg.id);
		if (rc)
			errf(err, errlen, rc, "detach /%s: %s", rel, cg_lasterr());
	}
	if (!rc) {
		cgd_log(CGD_INFO, "delegated detach: uid %u pid %d: /%s",
			(unsigned)who->uid, (int)who->pid, rel);
		jw_kstr(out, "cgroup", cg.rel);
	} else if (*err) {
		cgd_log(CGD_WARN, "delegated detach refused: uid %u pid %d: %s",
			(unsigned)who->uid, (int)who->pid, err);
	}
	if (cgfd >= 0)
		close(cgfd);
	cg_guard_close(g);
	return rc;
}
