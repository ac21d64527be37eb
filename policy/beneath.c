// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Policies named by an untrusted party (cg_policy_load_beneath, policy.h).
 *
 * The OCI hook runs as root for whoever may create containers.  A path
 * compared as text is no boundary ("BUNDLE/./rootfs/x.yaml" and
 * "//BUNDLE/rootfs/x.yaml" pass a prefix check; a symlink leads anywhere),
 * and an error message can quote what it read.  So only files below the
 * operator's policy directories are opened, one component at a time with
 * O_NOFOLLOW, each checked on its fd, and the file is read through the fd
 * that was checked.  Messages name the path, never the content of a file
 * that was refused.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "policy.h"

#define DEPTH_MAX	16	/* directories below a policy directory */

/* NULL if only root can have written @st, else what is wrong. */
static const char *untrusted(const struct stat *st)
{
	if (st->st_uid != 0)
		return "not owned by root";
	if (st->st_mode & 022)
		return "writable by group or others";
	return NULL;
}

static int open_dir(const char *dir, char *err, size_t errlen)
{
	const char *why;
	struct stat st;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return cg_policy_errf(err, errlen, -errno, "policy directory %s: %s",
				      dir, strerror(errno));
	why = fstat(fd, &st) ? strerror(errno) : untrusted(&st);
	if (why) {
		close(fd);
		return cg_policy_errf(err, errlen, -EACCES, "policy directory %s is %s: "
				      "refusing to read policies from it", dir, why);
	}
	return fd;
}

/* Checks the final fd: a regular file only root can have written. */
static int check_file(int fd, const char *shown, char *err, size_t errlen)
{
	const char *why;
	struct stat st;

	if (fstat(fd, &st))
		return cg_policy_errf(err, errlen, -errno, "%s: %s", shown, strerror(errno));
	why = !S_ISREG(st.st_mode) ? "not a regular file" : untrusted(&st);
	if (!why && (uintmax_t)st.st_size > CG_POLICY_FILE_MAX)
		why = "larger than the policy file limit";
	if (why)
		return cg_policy_errf(err, errlen, -EACCES, "policy file %s is %s (refused)",
				      shown, why);
	return 0;
}

/* Opens @rel below the directory fd @dfd (consumed): an fd or -errno. */
static int walk(int dfd, const char *rel, const char *shown, char *err, size_t errlen)
{
	char buf[PATH_MAX], *c, *next, *save = NULL;
	const char *why;
	struct stat st;
	int fd, depth = 0, last;

	if (snprintf(buf, sizeof(buf), "%s", rel) >= (int)sizeof(buf)) {
		close(dfd);
		return cg_policy_errf(err, errlen, -ENAMETOOLONG, "%s: path too long", shown);
	}
	for (c = strtok_r(buf, "/", &save); c; c = next) {
		next = strtok_r(NULL, "/", &save);
		last = !next;
		if (!strcmp(c, ".") || !strcmp(c, "..") || ++depth > DEPTH_MAX) {
			close(dfd);
			return cg_policy_errf(err, errlen, -EINVAL, "policy file %s: \".\", "
					      "\"..\" and deep paths are refused", shown);
		}
		/* O_NONBLOCK: a FIFO must not hang us before fstat refuses it. */
		fd = openat(dfd, c, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
			    (last ? O_NONBLOCK : O_DIRECTORY));
		if (fd < 0) {
			int e = errno;

			/* O_DIRECTORY|O_NOFOLLOW says ENOTDIR for a symlink */
			if (e == ELOOP || (e == ENOTDIR && !fstatat(dfd, c, &st,
			    AT_SYMLINK_NOFOLLOW) && S_ISLNK(st.st_mode)))
				e = ELOOP;
			close(dfd);
			if (e == ELOOP)
				return cg_policy_errf(err, errlen, -ELOOP, "policy file "
						      "%s: a symbolic link on the way "
						      "(refused)", shown);
			return cg_policy_errf(err, errlen, -e, "policy file %s: %s",
					      shown, strerror(e));
		}
		close(dfd);
		if (last)
			return fd;
		why = fstat(fd, &st) ? strerror(errno) : untrusted(&st);
		if (why) {
			close(fd);
			return cg_policy_errf(err, errlen, -EACCES, "policy file %s: a "
					      "directory on the way is %s (refused)", shown, why);
		}
		dfd = fd;
	}
	close(dfd);
	return cg_policy_errf(err, errlen, -EINVAL, "policy file %s: names a directory", shown);
}

static int load_at(const char *dir, const char *rel, const char *shown,
		   struct cg_policy **out, char *err, size_t errlen)
{
	int fd = open_dir(dir, err, errlen), rc;

	if (fd < 0)
		return fd;
	fd = walk(fd, rel, shown, err, errlen);
	if (fd < 0)
		return fd;
	rc = check_file(fd, shown, err, errlen);
	if (!rc)
		rc = cg_policy_parse_fd(fd, shown, out, err, errlen);
	close(fd);
	return rc;
}

static int is_name(const char *s)
{
	size_t n = strlen(s);

	return !strchr(s, '/') && !(n >= 5 && !strcmp(s + n - 5, ".yaml")) &&
	       !(n >= 4 && !strcmp(s + n - 4, ".yml")) &&
	       !(n >= 5 && !strcmp(s + n - 5, ".json"));
}

/* The directory @path lies below (textually, then walked), or -1. */
static int dir_of(const char *path, const char *const *dirs, int ndirs, size_t *skip)
{
	size_t n;
	int i;

	for (i = 0; i < ndirs; i++) {
		n = strlen(dirs[i]);
		while (n > 1 && dirs[i][n - 1] == '/')
			n--;
		if (dirs[i][0] == '/' && !strncmp(path, dirs[i], n) && path[n] == '/') {
			*skip = n + 1;
			return i;
		}
	}
	return -1;
}

static void list_dirs(const char *const *dirs, int ndirs, char *buf, size_t len)
{
	size_t off = 0;
	int i;

	buf[0] = 0;
	for (i = 0; i < ndirs && off < len; i++)
		off += snprintf(buf + off, len - off, "%s%s", i ? ", " : "", dirs[i]);
}

int cg_policy_load_beneath(const char *arg, const char *const *dirs, int ndirs,
			   struct cg_policy **out, char *err, size_t errlen)
{
	char file[CG_POLICY_NAME_MAX + 8], shown[PATH_MAX + 80], all[512];
	const char *why;
	size_t skip;
	int i, rc;

	if (!arg || !*arg)
		return cg_policy_errf(err, errlen, -EINVAL, "no policy given");
	list_dirs(dirs, ndirs, all, sizeof(all));
	if (cg_builtin_policy(arg))
		return cg_policy_load(arg, out, err, errlen);
	if (is_name(arg)) {
		why = cg_policy_name_problem(arg);
		if (why)
			return cg_policy_errf(err, errlen, -EINVAL, "invalid policy name: %s",
					      why);
		snprintf(file, sizeof(file), "%s.yaml", arg);
		for (i = 0; i < ndirs; i++) {
			snprintf(shown, sizeof(shown), "%s/%s", dirs[i], file);
			rc = load_at(dirs[i], file, shown, out, err, errlen);
			if (rc != -ENOENT)
				return rc;
		}
		return cg_policy_errf(err, errlen, -ENOENT, "unknown policy '%s': not a "
				      "built-in and no %s in %s", arg, file, all);
	}
	i = dir_of(arg, dirs, ndirs, &skip);
	if (i < 0)
		return cg_policy_errf(err, errlen, -EACCES, "policy file %s is not below the "
				      "policy directories (%s): refused", arg, all);
	return load_at(dirs[i], arg + skip, arg, out, err, errlen);
}
