// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The pin tree, opened and checked on fds.  See pindir.h for why. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <dirent.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <linux/bpf.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include "loader.h"
#include "pindir.h"
#include "../lib/err.h"

#ifndef BPF_F_PATH_FD
#define BPF_F_PATH_FD	(1U << 14)	/* Linux 6.5 */
#endif

const char *const cg_pin_dir_names[CG_PIN_NDIRS] = {
	[CG_PIN_PROG] = "prog", [CG_PIN_MAP] = "map", [CG_PIN_LINK] = "link",
};

/* ---- pins through directory fds ----------------------------------------- */

/* The BPF_OBJ_PIN/GET attributes with the 6.5 path_fd (headers may be older). */
struct obj_attr {
	__u64 pathname;
	__u32 bpf_fd;
	__u32 file_flags;
	__s32 path_fd;
};

/* The kernel refused BPF_F_PATH_FD once: < 6.5.  (-DCG_PIN_NO_PATH_FD
 * builds the fallback alone, to test it on a newer kernel.) */
#ifdef CG_PIN_NO_PATH_FD
static int no_path_fd = 1;
#else
static int no_path_fd;
#endif

static int obj_at(int cmd, int dirfd, const char *name, int fd)
{
	struct obj_attr a = { .pathname = (uintptr_t)name, .bpf_fd = fd,
		.file_flags = BPF_F_PATH_FD, .path_fd = dirfd };
	char p[64 + NAME_MAX];
	int r;

	if (strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;	/* one component of the checked directory */
	if (!no_path_fd) {
		r = syscall(__NR_bpf, cmd, &a, sizeof(a));
		if (r >= 0 || errno != EINVAL)
			return r < 0 ? -errno : r;
		no_path_fd = 1;
	}
	/* Older kernels: the magic link of the checked fd is the directory
	 * we checked, whatever its name points to now. */
	snprintf(p, sizeof(p), "/proc/self/fd/%d/%s", dirfd, name);
	r = cmd == BPF_OBJ_PIN ? bpf_obj_pin(fd, p) : bpf_obj_get(p);
	return r < 0 ? -errno : r;
}

int cg_pin_at(int dirfd, const char *name, int fd)
{
	int r = obj_at(BPF_OBJ_PIN, dirfd, name, fd);

	return r < 0 ? r : 0;
}

int cg_pin_get_at(int dirfd, const char *name)
{
	return obj_at(BPF_OBJ_GET, dirfd, name, 0);
}

int cg_pin_exists_at(int dirfd, const char *name)
{
	struct stat st;

	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) ? -errno : 0;
}

/* ---- checked directories -------------------------------------------------- */

/* NULL if @st is a directory only root can have written to, else why not. */
static const char *dir_problem(const struct stat *st)
{
	if (S_ISLNK(st->st_mode))
		return "a symlink";
	if (!S_ISDIR(st->st_mode))
		return "not a directory";
	if (st->st_uid != 0)
		return "not owned by root";
	if (st->st_mode & 077)
		return "has group or other permission bits";
	return NULL;
}

static void note(struct cg_pindirs *pd, const char *fmt, ...)
{
	size_t n = strlen(pd->notice);
	va_list ap;

	if (n + 2 >= sizeof(pd->notice))
		return;
	if (n)
		pd->notice[n++] = '\n';
	va_start(ap, fmt);
	vsnprintf(pd->notice + n, sizeof(pd->notice) - n, fmt, ap);
	va_end(ap);
}

/* Renames an untrusted entry out of the tree, next to CG_PIN_ROOT. */
static int move_aside(struct cg_pindirs *pd, int parent, const char *name,
		      const char *shown, const char *why, const struct stat *st,
		      int recreate)
{
	char aside[96];

	snprintf(aside, sizeof(aside), "cgguard-untrusted-%s-%ld-%d",
		 parent == pd->bpffs ? "root" : name, (long)time(NULL),
		 (int)getpid());
	if (renameat2(parent, name, pd->bpffs, aside, RENAME_NOREPLACE))
		return cg_seterr(-errno, "%s is %s (uid %u, mode %04o) and "
				 "moving it aside failed: %m; remove it",
				 shown, why, st->st_uid, st->st_mode & 07777);
	note(pd, "UNTRUSTED pin directory %s was %s (uid %u, mode %04o): "
	     "moved aside to " CG_BPFFS "/%s%s", shown, why,
	     st->st_uid, st->st_mode & 07777, aside, recreate ? " and "
	     "re-created; cgroups guarded through it must be attached again" :
	     "");
	return 0;
}

#define PD_CREATE	1	/* mkdir what is missing */
#define PD_REPAIR	2	/* move aside what is untrusted */

/*
 * Opens @name below @parent as a trusted directory: an fd, or -errno.
 * Another local user may race us (create, swap, symlink), so everything
 * is decided on what openat(O_NOFOLLOW) gave us, and repairs are retried
 * a few times before giving up.
 */
static int open_checked(struct cg_pindirs *pd, int parent, const char *name,
			const char *shown, int how)
{
	int create = how & PD_CREATE;
	const char *why;
	struct stat st;
	int fd, tries, err;

	for (tries = 0; tries < 4; tries++) {
		if (create && mkdirat(parent, name, 0700) && errno != EEXIST)
			return cg_seterr(-errno, "cannot create %s: %m", shown);
		fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			    O_CLOEXEC);
		if (fd < 0 && errno == ENOENT && !create)
			return -ENOENT;
		if (fd < 0 && errno != ELOOP && errno != ENOTDIR)
			return cg_seterr(-errno, "cannot open %s: %m", shown);
		if (fd >= 0 ? fstat(fd, &st) :
		    fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW)) {
			err = cg_seterr(-errno, "cannot stat %s: %m", shown);
			if (fd >= 0)
				close(fd);
			return err;
		}
		why = dir_problem(&st);
		if (!why)
			return fd;
		if (fd >= 0 && (how & PD_REPAIR) && st.st_uid == 0 && !(st.st_mode & 022) &&
		    !fchmod(fd, 0700)) {
			/* root's own, only readable by others: nobody else
			 * can have written into it, so tightening is enough. */
			note(pd, "pin directory %s had mode %04o: now 0700",
			     shown, st.st_mode & 07777);
			return fd;
		}
		if (fd >= 0)
			close(fd);
		if (!(how & PD_REPAIR))
			return cg_seterr(-EUCLEAN, "refusing to trust %s: it is "
				"%s (uid %u, mode %04o); pins there could be "
				"replaced or removed by another user. `cgguard "
				"attach` moves it aside and re-creates it; or "
				"remove it", shown, why, st.st_uid,
				st.st_mode & 07777);
		err = move_aside(pd, parent, name, shown, why, &st, create);
		if (err)
			return err;
	}
	return cg_seterr(-EAGAIN, "%s keeps being replaced by someone else; "
			 "refusing to use it", shown);
}

/* Opens an absolute path of root-owned system directories, no symlinks. */
static int open_nofollow(const char *path)
{
	char buf[256], *save = NULL, *c;
	int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC), next;

	snprintf(buf, sizeof(buf), "%s", path);
	for (c = strtok_r(buf, "/", &save); c && fd >= 0;
	     c = strtok_r(NULL, "/", &save)) {
		next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			      O_CLOEXEC);
		close(fd);
		fd = next;
	}
	return fd < 0 ? -errno : fd;
}

static int open_bpffs(void)
{
	struct statfs sfs;
	int fd = open_nofollow(CG_BPFFS);

	if (fd < 0)
		return cg_seterr(fd, "cannot open " CG_BPFFS ": %s",
				 strerror(-fd));
	if (fstatfs(fd, &sfs) || sfs.f_type != BPF_FS_MAGIC) {
		close(fd);
		return cg_seterr(-ENOENT, CG_BPFFS " is not a bpffs "
				 "(mount -t bpf bpf " CG_BPFFS ")");
	}
	return fd;
}

/* Every other directory inside the root gets the same scrutiny. */
static int check_others(struct cg_pindirs *pd, int create)
{
	char shown[300];
	struct dirent *e;
	DIR *d;
	int fd, i, ours, err = 0;

	fd = dup(pd->root);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return cg_seterr(-errno, "cannot read " CG_PIN_ROOT ": %m");
	}
	rewinddir(d);
	while (!err && (e = readdir(d))) {
		if (e->d_type != DT_DIR && e->d_type != DT_LNK)
			continue;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		for (i = 0, ours = 0; i < CG_PIN_NDIRS; i++)
			ours |= !strcmp(e->d_name, cg_pin_dir_names[i]);
		if (ours)
			continue;
		snprintf(shown, sizeof(shown), CG_PIN_ROOT "/%s", e->d_name);
		/* Not ours to create: only checked, or moved aside. */
		fd = open_checked(pd, pd->root, e->d_name, shown,
				  create ? PD_REPAIR : 0);
		if (fd >= 0)
			close(fd);
		else if (fd != -ENOENT)
			err = fd;
	}
	closedir(d);
	return err;
}

void cg_pindirs_close(struct cg_pindirs *pd)
{
	int i;

	if (pd->bpffs >= 0)
		close(pd->bpffs);
	if (pd->root >= 0)
		close(pd->root);
	for (i = 0; i < CG_PIN_NDIRS; i++)
		if (pd->dir[i] >= 0)
			close(pd->dir[i]);
	pd->bpffs = pd->root = -1;
	for (i = 0; i < CG_PIN_NDIRS; i++)
		pd->dir[i] = -1;
}

int cg_pindirs_open(struct cg_pindirs *pd, int create)
{
	int how = create ? PD_CREATE | PD_REPAIR : 0, i, err;
	char shown[64];

	memset(pd, 0, sizeof(*pd));
	pd->bpffs = pd->root = -1;
	for (i = 0; i < CG_PIN_NDIRS; i++)
		pd->dir[i] = -1;
	err = pd->bpffs = open_bpffs();
	if (err >= 0)
		err = pd->root = open_checked(pd, pd->bpffs, "cgguard",
					      CG_PIN_ROOT, how);
	for (i = 0; err >= 0 && i < CG_PIN_NDIRS; i++) {
		snprintf(shown, sizeof(shown), CG_PIN_ROOT "/%s",
			 cg_pin_dir_names[i]);
		err = pd->dir[i] = open_checked(pd, pd->root,
						cg_pin_dir_names[i], shown,
						how);
	}
	if (err >= 0)
		err = check_others(pd, create);
	if (err < 0) {
		cg_pindirs_close(pd);
		return err;
	}
	return 0;
}

int cg_pin_subdir_open(const char *name, int create, char *notice,
		       size_t len)
{
	int how = create ? PD_CREATE | PD_REPAIR : 0, fd;
	struct cg_pindirs pd;
	char shown[300];

	memset(&pd, 0, sizeof(pd));
	pd.root = -1;
	for (fd = 0; fd < CG_PIN_NDIRS; fd++)
		pd.dir[fd] = -1;
	fd = pd.bpffs = open_bpffs();
	if (fd >= 0)
		fd = pd.root = open_checked(&pd, pd.bpffs, "cgguard",
					    CG_PIN_ROOT, how);
	if (fd >= 0) {
		snprintf(shown, sizeof(shown), CG_PIN_ROOT "/%s", name);
		fd = open_checked(&pd, pd.root, name, shown, how);
	}
	if (notice && len)
		snprintf(notice, len, "%s", pd.notice);
	cg_pindirs_close(&pd);
	return fd;
}

/* ---- report -------------------------------------------------------------- */

static void inspect_one(int parent, const char *name, const char *path,
			cg_pinent_cb cb, void *ctx)
{
	struct cg_pinent e = {};
	struct stat st;

	snprintf(e.path, sizeof(e.path), "%s", path);
	if (!fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW)) {
		e.exists = 1;
		e.is_dir = S_ISDIR(st.st_mode);
		e.is_link = S_ISLNK(st.st_mode);
		e.uid = st.st_uid;
		e.gid = st.st_gid;
		e.mode = st.st_mode & 07777;
		e.problem = dir_problem(&st);
	}
	cb(&e, ctx);
}

int cg_pintree_inspect(cg_pinent_cb cb, void *ctx)
{
	char path[300];
	struct dirent *e;
	DIR *d;
	int bpffs = open_bpffs(), root;

	if (bpffs < 0)
		return bpffs;
	inspect_one(bpffs, "cgguard", CG_PIN_ROOT, cb, ctx);
	root = openat(bpffs, "cgguard", O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		      O_CLOEXEC);
	close(bpffs);
	d = root >= 0 ? fdopendir(root) : NULL;
	if (!d) {
		if (root >= 0)
			close(root);
		return 0;
	}
	while ((e = readdir(d))) {
		if ((e->d_type != DT_DIR && e->d_type != DT_LNK) ||
		    !strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), CG_PIN_ROOT "/%s", e->d_name);
		inspect_one(dirfd(d), e->d_name, path, cb, ctx);
	}
	closedir(d);
	return 0;
}
