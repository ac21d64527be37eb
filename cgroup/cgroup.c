// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include "cgroup.h"
#include "../lib/err.h"

int cg_cgroup2_mount(char *buf, size_t len)
{
	static char cached[PATH_MAX];
	char line[4096], mnt[PATH_MAX], fstype[64];
	FILE *f;

	if (cached[0])
		goto out;
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return cg_seterr(-errno, "cannot read /proc/self/mountinfo: %m");
	while (fgets(line, sizeof(line), f)) {
		/* "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE ..." */
		char *dash = strstr(line, " - ");

		if (!dash || sscanf(dash + 3, "%63s", fstype) != 1 ||
		    strcmp(fstype, "cgroup2"))
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1) {
			snprintf(cached, sizeof(cached), "%s", mnt);
			break;
		}
	}
	fclose(f);
	if (!cached[0])
		return cg_seterr(-ENOENT, "no cgroup v2 hierarchy is mounted "
				 "(mount -t cgroup2 none /sys/fs/cgroup)");
out:
	if (snprintf(buf, len, "%s", cached) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

int cg_cgroup2_hybrid(void)
{
	char mnt[PATH_MAX];
	struct statfs sfs;

	if (cg_cgroup2_mount(mnt, sizeof(mnt)))
		return 0;
	/* Hybrid: /sys/fs/cgroup is a tmpfs holding v1 hierarchies. */
	return strcmp(mnt, "/sys/fs/cgroup") != 0 &&
	       !statfs("/sys/fs/cgroup", &sfs) && sfs.f_type == TMPFS_MAGIC;
}

/* The cgroup id is the kernfs node id, which the file handle carries. */
static int id_at(int dirfd, const char *name, int flags, uint64_t *id)
{
	struct { struct file_handle fh; uint64_t id; } h = {
		.fh.handle_bytes = sizeof(uint64_t) };
	struct stat st;
	int mnt_id;

	if (!name_to_handle_at(dirfd, name, &h.fh, &mnt_id, flags) &&
	    h.fh.handle_bytes == sizeof(uint64_t)) {
		memcpy(id, h.fh.f_handle, sizeof(*id));
		return 0;
	}
	if (fstatat(dirfd, name, &st, flags & AT_EMPTY_PATH))
		return -errno;
	*id = st.st_ino;
	return 0;
}

int cg_cgroup_id(const char *abs, uint64_t *id)
{
	return id_at(AT_FDCWD, abs, 0, id);
}

int cg_cgroup_id_fd(int fd, uint64_t *id)
{
	return id_at(fd, "", AT_EMPTY_PATH, id);
}

int cg_cgroup_abs(const char *rel, char *buf, size_t len)
{
	char mnt[PATH_MAX];
	int err = cg_cgroup2_mount(mnt, sizeof(mnt));

	if (err)
		return err;
	while (*rel == '/')
		rel++;
	if (snprintf(buf, len, "%s%s%s", mnt, *rel ? "/" : "", rel) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

static int mount_id(int fd, uint64_t *id)
{
	struct statx stx;

	if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx))
		return -errno;
	*id = (stx.stx_mask & STATX_MNT_ID) ? stx.stx_mnt_id : 0;
	return 0;
}

/* The directory at @fd must be cgroup v2 and on the mount @mnt_id. */
static int check_cgroup2_fd(int fd, uint64_t mnt_id, const char *mnt,
			    const char *orig)
{
	struct statfs sfs;
	uint64_t id;

	if (fstatfs(fd, &sfs))
		return cg_seterr(-errno, "cgroup %s: %m", orig);
	if (sfs.f_type != CGROUP2_SUPER_MAGIC)
		return cg_seterr(-EMEDIUMTYPE, "%s is not a cgroup v2 directory"
				 " (cgguard needs cgroup v2; see `grep cgroup2 "
				 "/proc/self/mountinfo`)", orig);
	if (!mount_id(fd, &id) && id != mnt_id)
		return cg_seterr(-EXDEV, "cgroup %s is on another mount than "
				 "the cgroup2 hierarchy at %s: give the path "
				 "under %s", orig, mnt, mnt);
	return 0;
}

/*
 * Walks @rel below the mount one component at a time, never following a
 * symlink or "..": what is opened is what the caller named, below @mnt.
 */
static int walk(int mfd, const char *rel, const char *orig, struct cg_cgroup *out)
{
	char buf[PATH_MAX], *save = NULL, *c;
	size_t off = 0;
	int fd = dup(mfd), next;

	if (fd < 0)
		return -errno;
	if (snprintf(buf, sizeof(buf), "%s", rel) >= (int)sizeof(buf)) {
		close(fd);
		return cg_seterr(-ENAMETOOLONG, "cgroup path is too long");
	}
	out->rel[0] = 0;
	for (c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (!strcmp(c, "."))
			continue;
		if (!strcmp(c, "..")) {
			close(fd);
			return cg_seterr(-EINVAL, "cgroup %s: \"..\" is not "
					 "allowed in a cgroup path", orig);
		}
		next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			      O_CLOEXEC);
		close(fd);
		if (next < 0)
			return cg_seterr(errno == ELOOP ? -ENOTDIR : -errno,
					 "cgroup %s: %s", orig, errno == ELOOP ?
					 "a symlink, not a directory" :
					 errno == ENOTDIR ? "not a directory" :
					 strerror(errno));
		fd = next;
		off += snprintf(out->rel + off, sizeof(out->rel) - off, "/%s", c);
		if (off >= sizeof(out->rel)) {
			close(fd);
			return cg_seterr(-ENAMETOOLONG, "cgroup path is too long");
		}
	}
	if (!out->rel[0])
		snprintf(out->rel, sizeof(out->rel), "/");
	return fd;
}

/* Where an absolute @path that is not below the mount points to. */
static int outside_mount(const char *path, const char *mnt)
{
	struct statfs sfs;

	if (statfs(path, &sfs))
		return cg_seterr(-errno, "cgroup %s: %m", path);
	if (sfs.f_type != CGROUP2_SUPER_MAGIC)
		return cg_seterr(-EMEDIUMTYPE, "%s is not a cgroup v2 directory"
				 " (cgguard needs cgroup v2; see `grep cgroup2 "
				 "/proc/self/mountinfo`)", path);
	return cg_seterr(-EXDEV, "cgroup %s is outside the cgroup2 hierarchy "
			 "at %s (a second cgroup2 mount?): give the path "
			 "under %s", path, mnt, mnt);
}

int cg_cgroup_open(const char *path, struct cg_cgroup *out)
{
	char mnt[PATH_MAX];
	const char *rel;
	uint64_t mnt_id = 0;
	size_t n;
	int mfd, fd, err;

	if (!path || !*path)
		return cg_seterr(-EINVAL, "empty cgroup path");
	err = cg_cgroup2_mount(mnt, sizeof(mnt));
	if (err)
		return err;
	n = strlen(mnt);
	if (!strncmp(path, mnt, n) && (path[n] == '/' || !path[n]))
		rel = path + n;
	else if (path[0] == '/' && strcmp(path, "/") &&
		 (!access(path, F_OK) || !strncmp(path, "/sys/fs/cgroup/", 15)))
		return outside_mount(path, mnt);	/* a real path elsewhere */
	else
		rel = path;	/* "a/b", or "/a/b" as in /proc/PID/cgroup */
	mfd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mfd < 0)
		return cg_seterr(-errno, "cannot open the cgroup2 mount %s: %m",
				 mnt);
	mount_id(mfd, &mnt_id);
	fd = walk(mfd, rel, path, out);
	close(mfd);
	if (fd < 0)
		return fd;
	err = check_cgroup2_fd(fd, mnt_id, mnt, path);
	if (!err)
		err = cg_cgroup_id_fd(fd, &out->id);
	if (!err && snprintf(out->abs, sizeof(out->abs), "%s%s", mnt,
			     strcmp(out->rel, "/") ? out->rel : "") >=
		    (int)sizeof(out->abs))
		err = cg_seterr(-ENAMETOOLONG, "cgroup path is too long");
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

int cg_cgroup_resolve(const char *path, struct cg_cgroup *out)
{
	int fd = cg_cgroup_open(path, out);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

int cg_cgroup_create(const char *rel, struct cg_cgroup *out)
{
	char abs[PATH_MAX];
	int err = cg_cgroup_abs(rel, abs, sizeof(abs));

	if (err)
		return err;
	if (mkdir(abs, 0755) && errno != EEXIST)
		return cg_seterr(-errno, "cannot create cgroup %s: %m", abs);
	return cg_cgroup_resolve(abs, out);
}

int cg_cgroup_enter(const struct cg_cgroup *cg, int pid)
{
	char p[PATH_MAX + 16], buf[32];
	int fd, n, err = 0;

	snprintf(p, sizeof(p), "%s/cgroup.procs", cg->abs);
	fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return cg_seterr(-errno, "cannot open %s: %m", p);
	n = snprintf(buf, sizeof(buf), "%d", pid);
	if (write(fd, buf, n) != n)
		err = cg_seterr(-errno, "cannot move %d into %s: %m", pid, cg->abs);
	close(fd);
	return err;
}

int cg_cgroup_remove(const struct cg_cgroup *cg)
{
	struct timespec ts = { 0, 2 * 1000 * 1000 };
	int i;

	/* A just-reaped task can keep the cgroup busy for a moment. */
	for (i = 0; i < 500; i++) {
		if (!rmdir(cg->abs) || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			break;
		nanosleep(&ts, NULL);
	}
	return cg_seterr(-errno, "cannot remove cgroup %s: %m", cg->abs);
}
