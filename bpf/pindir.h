/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The pin tree under CG_PIN_ROOT, opened so that nobody but root can have
 * put anything in it.
 *
 * /sys/fs/bpf is world-writable (1777) on systemd hosts: any local user
 * can create /sys/fs/bpf/cgguard, or link/, map/, prog/ before cgguard
 * does, and later unlink the link pins (which detaches the guard).  So
 * every directory is opened component by component with O_NOFOLLOW,
 * checked on the fd (a real directory, owned by root, no group or other
 * permission bits), and every pin is made and read through those fds
 * (BPF_OBJ_PIN/GET with BPF_F_PATH_FD on 6.5+, else /proc/self/fd/N/NAME
 * of the checked fd).  A directory that fails the check is refused by
 * readers and moved aside and re-created by writers, which say so.
 */
#ifndef CGGUARD_PINDIR_H
#define CGGUARD_PINDIR_H

#include <sys/types.h>

enum cg_pin_dir { CG_PIN_PROG, CG_PIN_MAP, CG_PIN_LINK, CG_PIN_NDIRS };
extern const char *const cg_pin_dir_names[CG_PIN_NDIRS];

#define CG_PIN_NOTICE_MAX	1024

struct cg_pindirs {
	int bpffs;			/* CG_BPFFS */
	int root;			/* CG_PIN_ROOT */
	int dir[CG_PIN_NDIRS];
	char notice[CG_PIN_NOTICE_MAX];	/* repairs made: the caller reports them */
};

/*
 * Opens the tree.  @create: create what is missing and move aside (then
 * re-create) what is untrusted, noting it in pd->notice.  Without it an
 * untrusted directory is -EUCLEAN and a missing one -ENOENT.
 */
int cg_pindirs_open(struct cg_pindirs *pd, int create);
void cg_pindirs_close(struct cg_pindirs *pd);

/*
 * Opens CG_PIN_ROOT/@name, a directory of the tree that is not one of
 * prog/, map/, link/ (the socket filters' maps), with the same checks:
 * an fd, or -errno.  @create: create it (and the root) if missing, and
 * move aside and re-create what is untrusted, noting it in @notice.
 */
int cg_pin_subdir_open(const char *name, int create, char *notice,
		       size_t len);

/* Pins object @fd as @name in the checked directory @dirfd. */
int cg_pin_at(int dirfd, const char *name, int fd);
/* Opens the pinned object @name of @dirfd: an fd, or -errno. */
int cg_pin_get_at(int dirfd, const char *name);
/* 0 if @name exists in @dirfd (not followed), else -errno. */
int cg_pin_exists_at(int dirfd, const char *name);

/* One directory of the tree, as `doctor` reports it. */
struct cg_pinent {
	char path[256];
	int exists;
	int is_dir, is_link;
	uid_t uid;
	gid_t gid;
	unsigned mode;		/* permission bits */
	const char *problem;	/* NULL: trusted */
};
typedef void (*cg_pinent_cb)(const struct cg_pinent *e, void *ctx);
/* Reports CG_PIN_ROOT and every directory (or symlink) inside it. */
int cg_pintree_inspect(cg_pinent_cb cb, void *ctx);

#endif
