/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * cgroup v2 discovery and path <-> id.  The cgroup2 mount is read from
 * /proc/self/mountinfo (hybrid hosts mount it at /sys/fs/cgroup/unified,
 * unified hosts at /sys/fs/cgroup); it is never hard-coded.
 */
#ifndef CGGUARD_CGROUP_H
#define CGGUARD_CGROUP_H

#include <stdint.h>
#include <limits.h>

struct cg_cgroup {
	char abs[PATH_MAX];	/* absolute path of the directory */
	char rel[PATH_MAX];	/* path below the cgroup2 mount, "/" for root */
	uint64_t id;		/* cgroup id (inode of the directory) */
};

/* Mount point of the first cgroup2 mount; -ENOENT if there is none. */
int cg_cgroup2_mount(char *buf, size_t len);
/* 1 if the cgroup2 mount is a hybrid layout (cgroup2 beside v1), else 0. */
int cg_cgroup2_hybrid(void);
/*
 * Resolves a user-given cgroup: an absolute path of a cgroup v2 directory,
 * or a path relative to the cgroup2 mount ("/a/b" as in /proc/PID/cgroup
 * also works).  Errors: -ENOENT, -ENOTDIR, -EMEDIUMTYPE (not cgroup v2).
 */
int cg_cgroup_resolve(const char *path, struct cg_cgroup *out);
/*
 * The same, keeping the directory open: returns its fd (O_DIRECTORY, the
 * caller closes it) or -errno.  The path is walked below the cgroup2
 * mount one component at a time without following symlinks or "..", the
 * fd is checked (cgroup2 magic, the same mount) and the id taken from it,
 * so what is attached through the fd is what was checked.  A path on
 * another cgroup2 mount or outside the hierarchy is -EXDEV.
 */
int cg_cgroup_open(const char *path, struct cg_cgroup *out);
/* cgroup id of a directory (name_to_handle_at, falls back to st_ino). */
int cg_cgroup_id(const char *abs, uint64_t *id);
int cg_cgroup_id_fd(int fd, uint64_t *id);
/* Creates REL below the mount (mode 0755); fills @out. */
int cg_cgroup_create(const char *rel, struct cg_cgroup *out);
/* Moves @pid (0: the caller) into the cgroup. */
int cg_cgroup_enter(const struct cg_cgroup *cg, int pid);
/* Removes an empty cgroup, waiting briefly for exiting tasks to leave. */
int cg_cgroup_remove(const struct cg_cgroup *cg);
/* Absolute path of the cgroup2 directory for @rel (no existence check). */
int cg_cgroup_abs(const char *rel, char *buf, size_t len);

#endif
