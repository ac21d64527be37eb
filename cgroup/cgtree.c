// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * A cgroup tree for a socket scan: the ids of the cgroup and every cgroup
 * below it (a policy covers its descendants), and the network namespaces
 * their processes are in.
 *
 * The tree is walked through directory fds (openat, O_NOFOLLOW): a cgroup
 * renamed or replaced during the walk is seen as it is, never followed
 * through a symlink.  A pid can exit and be reused between reading
 * cgroup.procs and opening its namespace; that only adds a namespace to
 * scan, and the kernel-side cgroup filter keeps other cgroups' sockets out.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include "cgtree.h"
#include "sockdiag.h"
#include "../lib/err.h"

static int add_id(struct cg_tree *t, uint64_t id)
{
	if (t->nids == CG_SCAN_MAX_CGROUPS)
		return cg_seterr(-E2BIG, "more than %d cgroups below the one "
				 "given", CG_SCAN_MAX_CGROUPS);
	t->ids[t->nids++] = id;
	return 0;
}

static int fd_cgroup_id(int dirfd, uint64_t *id)
{
	struct { struct file_handle fh; uint64_t id; } h = {
		.fh.handle_bytes = sizeof(uint64_t) };
	struct stat st;
	int mnt_id;

	if (!name_to_handle_at(dirfd, "", &h.fh, &mnt_id, AT_EMPTY_PATH) &&
	    h.fh.handle_bytes == sizeof(uint64_t)) {
		memcpy(id, h.fh.f_handle, sizeof(*id));
		return 0;
	}
	if (fstat(dirfd, &st))
		return -errno;
	*id = st.st_ino;
	return 0;
}

static int ns_known(const struct cg_tree *t, uint64_t ino)
{
	size_t i;

	for (i = 0; i < t->nns; i++)
		if (t->nsino[i] == ino)
			return 1;
	return 0;
}

/* Adds the network namespace at @path ("/proc/PID/ns/net") if new. */
static int add_netns(struct cg_tree *t, const char *path)
{
	unsigned long long ino;
	char link[64];
	struct stat st;
	ssize_t n;
	int fd;

	/* readlink is cheap: open only namespaces not seen yet. */
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return 0;	/* exited meanwhile */
	link[n] = 0;
	if (sscanf(link, "net:[%llu]", &ino) == 1 && ns_known(t, ino))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) || ns_known(t, st.st_ino)) {
		close(fd);
		return 0;
	}
	if (t->nns == CG_SCAN_MAX_NETNS) {
		close(fd);
		return cg_seterr(-E2BIG, "the cgroup's processes are in more "
				 "than %d network namespaces", CG_SCAN_MAX_NETNS);
	}
	t->nsfd[t->nns] = fd;
	t->nsino[t->nns++] = st.st_ino;
	return 0;
}

static int scan_procs(struct cg_tree *t, int dirfd)
{
	char path[64];
	unsigned long pid;
	FILE *f;
	int fd, err = 0;

	fd = openat(dirfd, "cgroup.procs", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;	/* removed meanwhile */
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	while (!err && fscanf(f, "%lu", &pid) == 1) {
		if (++t->npids > CG_SCAN_MAX_PIDS) {
			err = cg_seterr(-E2BIG, "more than %u processes in the "
					"cgroup tree", CG_SCAN_MAX_PIDS);
			break;
		}
		snprintf(path, sizeof(path), "/proc/%lu/ns/net", pid);
		err = add_netns(t, path);
	}
	fclose(f);
	return err;
}

static int walk(struct cg_tree *t, int dirfd, int depth)
{
	struct dirent *de;
	uint64_t id = 0;
	DIR *d;
	int fd, err;

	if (depth > CG_SCAN_MAX_DEPTH)
		return cg_seterr(-ELOOP, "cgroup tree deeper than %d levels",
				 CG_SCAN_MAX_DEPTH);
	err = fd_cgroup_id(dirfd, &id);
	if (!err)
		err = add_id(t, id);
	if (!err)
		err = scan_procs(t, dirfd);
	if (err)
		return err;
	fd = dup(dirfd);
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	while (!err && (de = readdir(d))) {
		int sub;

		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") ||
		    !strcmp(de->d_name, ".."))
			continue;
		sub = openat(dirfd, de->d_name,
			     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0)
			continue;	/* removed meanwhile */
		err = walk(t, sub, depth + 1);
		close(sub);
	}
	closedir(d);
	return err;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int cg_tree_scan(const char *abs, struct cg_tree *t)
{
	struct statfs sfs;
	int fd, err;

	memset(t, 0, sizeof(*t));
	t->nsfd = calloc(CG_SCAN_MAX_NETNS, sizeof(*t->nsfd));
	t->nsino = calloc(CG_SCAN_MAX_NETNS, sizeof(*t->nsino));
	t->ids = calloc(CG_SCAN_MAX_CGROUPS, sizeof(*t->ids));
	if (!t->nsfd || !t->nsino || !t->ids) {
		cg_tree_free(t);
		return -ENOMEM;
	}
	fd = open(abs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		cg_tree_free(t);
		return cg_seterr(-errno, "cgroup %s: %m", abs);
	}
	if (fstatfs(fd, &sfs) || sfs.f_type != CGROUP2_SUPER_MAGIC) {
		close(fd);
		cg_tree_free(t);
		return cg_seterr(-EMEDIUMTYPE, "%s is not a cgroup v2 directory",
				 abs);
	}
	/* The caller's own namespace first: sockets whose processes left
	 * for another namespace are usually still in this one. */
	err = add_netns(t, "/proc/thread-self/ns/net");
	if (!err)
		err = walk(t, fd, 0);
	close(fd);
	if (err) {
		cg_tree_free(t);
		return err;
	}
	qsort(t->ids, t->nids, sizeof(*t->ids), cmp_u64);
	return 0;
}

int cg_tree_has(const struct cg_tree *t, uint64_t id)
{
	return bsearch(&id, t->ids, t->nids, sizeof(id), cmp_u64) != NULL;
}

void cg_tree_free(struct cg_tree *t)
{
	size_t i;

	for (i = 0; t->nsfd && i < t->nns; i++)
		close(t->nsfd[i]);
	free(t->nsfd);
	free(t->nsino);
	free(t->ids);
	memset(t, 0, sizeof(*t));
}
