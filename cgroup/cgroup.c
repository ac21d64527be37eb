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

int cg_cgroup_id(const char *abs, uint64_t *id)
{
	struct { struct file_handle fh; uint64_t id; } h = {
		.fh.handle_bytes = sizeof(uint64_t) };
	struct stat st;
	int mnt_id;

	if (!name_to_handle_at(AT_FDCWD, abs, &h.fh, &mnt_id, 0) &&
	    h.fh.handle_bytes == sizeof(uint64_t)) {
		memcpy(id, h.fh.f_handle, sizeof(*id));
		return 0;
	}
	if (stat(abs, &st))
		return -errno;
	*id = st.st_ino;
	return 0;
}

static int check_cgroup2_dir(const char *abs, const char *orig)
{
	struct statfs sfs;
	struct stat st;

	if (stat(abs, &st))
		return cg_seterr(-errno, "cgroup %s: %m", orig);
	if (!S_ISDIR(st.st_mode))
		return cg_seterr(-ENOTDIR, "cgroup %s: not a directory", orig);
	if (statfs(abs, &sfs))
		return cg_seterr(-errno, "cgroup %s: %m", orig);
	if (sfs.f_type != CGROUP2_SUPER_MAGIC)
		return cg_seterr(-EMEDIUMTYPE, "%s is not a cgroup v2 directory"
				 " (cgguard needs cgroup v2; see `grep cgroup2 "
				 "/proc/self/mountinfo`)", orig);
	return 0;
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

/* Splits @abs into the part below the mount; "/" for the root. */
static void set_rel(struct cg_cgroup *out, const char *mnt)
{
	const char *r = out->abs + strlen(mnt);

	snprintf(out->rel, sizeof(out->rel), "%s", *r ? r : "/");
}

int cg_cgroup_resolve(const char *path, struct cg_cgroup *out)
{
	char mnt[PATH_MAX], tmp[PATH_MAX];
	size_t n;
	int err;

	if (!path || !*path)
		return cg_seterr(-EINVAL, "empty cgroup path");
	err = cg_cgroup2_mount(mnt, sizeof(mnt));
	if (err)
		return err;
	n = strlen(mnt);
	if (path[0] == '/' && !strncmp(path, mnt, n) &&
	    (path[n] == '/' || !path[n])) {
		snprintf(tmp, sizeof(tmp), "%s", path);
	} else if (path[0] == '/' && !access(path, F_OK) &&
		   strncmp(path, "/sys/fs/cgroup", 14)) {
		snprintf(tmp, sizeof(tmp), "%s", path);
	} else if (path[0] == '/' && !strncmp(path, "/sys/fs/cgroup", 14)) {
		/* A v1 or non-existent path under /sys/fs/cgroup: say so. */
		snprintf(tmp, sizeof(tmp), "%s", path);
	} else {
		err = cg_cgroup_abs(path, tmp, sizeof(tmp));
		if (err)
			return err;
	}
	if (!realpath(tmp, out->abs))
		return cg_seterr(-errno, "cgroup %s: %m", path);
	err = check_cgroup2_dir(out->abs, path);
	if (err)
		return err;
	set_rel(out, mnt);
	return cg_cgroup_id(out->abs, &out->id);
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
