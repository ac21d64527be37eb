// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Running libnftables in a guarded cgroup's network namespace.
 *
 * libnftables is dlopen()ed, not linked: cgguard runs as an OCI hook on
 * every container start and stays as cheap to start as before (the BPF
 * backend needs none of libnftables' dependencies), and a host without it
 * gets a precise error from the nft backend only.
 *
 * Each call forks a child that enters the namespace, so the caller (the
 * daemon too) never changes namespaces.  For reading back, the child also
 * mounts cgroup2 at /sys/fs/cgroup in a private mount namespace: nft
 * prints a rule's cgroup id as a path by searching /sys/fs/cgroup, and on
 * hybrid hosts that tree also holds v1 hierarchies whose inode numbers can
 * collide with cgroup ids.  Results come back through memfds.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <nftables/libnftables.h>
#include "nft.h"
#include "nftrun.h"
#include "../lib/err.h"

#define OUT_MAX		(256u << 20)	/* a read-back larger is refused */

static struct {
	void *h;
	struct nft_ctx *(*ctx_new)(uint32_t);
	void (*ctx_free)(struct nft_ctx *);
	int (*buffer_output)(struct nft_ctx *);
	int (*buffer_error)(struct nft_ctx *);
	const char *(*get_output)(struct nft_ctx *);
	const char *(*get_error)(struct nft_ctx *);
	int (*run)(struct nft_ctx *, const char *);
	void (*set_flags)(struct nft_ctx *, unsigned int);
	void (*set_dry_run)(struct nft_ctx *, bool);
} lib;

int cg_nft_available(void)
{
	static const char *const so[] = { "libnftables.so.1", "libnftables.so" };
	size_t i;

	if (lib.h)
		return 0;
	for (i = 0; i < sizeof(so) / sizeof(so[0]) && !lib.h; i++)
		lib.h = dlopen(so[i], RTLD_NOW | RTLD_LOCAL);
	if (!lib.h)
		return cg_seterr(-ENOSYS, "the nft backend needs libnftables "
				 "(Debian: apt-get install libnftables1): %s",
				 dlerror());
#define SYM(f, s) (*(void **)&lib.f = dlsym(lib.h, s))
	if (!SYM(ctx_new, "nft_ctx_new") || !SYM(ctx_free, "nft_ctx_free") ||
	    !SYM(buffer_output, "nft_ctx_buffer_output") ||
	    !SYM(buffer_error, "nft_ctx_buffer_error") ||
	    !SYM(get_output, "nft_ctx_get_output_buffer") ||
	    !SYM(get_error, "nft_ctx_get_error_buffer") ||
	    !SYM(run, "nft_run_cmd_from_buffer") ||
	    !SYM(set_flags, "nft_ctx_output_set_flags") ||
	    !SYM(set_dry_run, "nft_ctx_set_dry_run")) {
#undef SYM
		dlclose(lib.h);
		lib.h = NULL;
		return cg_seterr(-ENOSYS, "libnftables lacks a needed symbol");
	}
	return 0;
}

static void put_all(int fd, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	ssize_t w;

	while (n && (w = write(fd, s, n)) > 0) {
		s += w;
		n -= w;
	}
}

/* Runs one command buffer; output (if any) and errors go to the memfds. */
static int run1(struct nft_ctx *ctx, unsigned flags, const char *cmd,
		int outfd, int errfd)
{
	int rc;

	lib.set_flags(ctx, flags);
	rc = lib.run(ctx, cmd);
	put_all(outfd, lib.get_output(ctx));
	put_all(errfd, lib.get_error(ctx));
	return rc;
}

/* Private mount namespace with cgroup2 on /sys/fs/cgroup (best effort:
 * without it, paths are printed as nft finds them on the host). */
static void private_cgroup2(void)
{
	if (unshare(CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return;
	mount("cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV |
	      MS_NOEXEC, NULL);
}

static int child(int nsfd, int mode, const char *buf, int outfd, int errfd)
{
	struct nft_ctx *ctx;
	int rc = 0;

	if (nsfd >= 0 && setns(nsfd, CLONE_NEWNET)) {
		dprintf(errfd, "cannot enter the network namespace: %m");
		return 1;
	}
	if (mode == NFT_RUN_LIST)
		private_cgroup2();
	ctx = lib.ctx_new(NFT_CTX_DEFAULT);
	if (!ctx)
		return 1;
	lib.buffer_output(ctx);
	lib.buffer_error(ctx);
	if (mode == NFT_RUN_LIST) {
		/* JSON (without set elements) for chains, rules, counters;
		 * text for the dispatch rules: 1.0.6's JSON drops the
		 * `level` of socket cgroupv2, which must be checked too. */
		rc = run1(ctx, NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_TERSE |
			  NFT_CTX_OUTPUT_HANDLE, "list table inet " CG_NFT_TABLE,
			  outfd, errfd);
		if (rc)
			rc = 2;		/* no table (or no permission) */
		put_all(outfd, "\n" NFT_RUN_SEP "\n");
		if (!rc)
			run1(ctx, NFT_CTX_OUTPUT_HANDLE, "list chain inet "
			     CG_NFT_TABLE " output", outfd, errfd);
		if (!rc)
			run1(ctx, NFT_CTX_OUTPUT_HANDLE, "list chain inet "
			     CG_NFT_TABLE " input", outfd, errfd);
	} else {
		lib.set_dry_run(ctx, mode == NFT_RUN_CHECK);
		rc = run1(ctx, 0, buf, outfd, errfd) ? 1 : 0;
	}
	lib.ctx_free(ctx);
	return rc;
}

static char *slurp(int fd, size_t *len)
{
	off_t n = lseek(fd, 0, SEEK_END);
	char *b;

	if (n < 0 || (size_t)n > OUT_MAX)
		return NULL;
	b = malloc(n + 1);
	if (!b)
		return NULL;
	if (pread(fd, b, n, 0) != n) {
		free(b);
		return NULL;
	}
	b[n] = '\0';
	if (len)
		*len = n;
	return b;
}

int cg_nft_run(int nsfd, int mode, const char *buf, char **out, char **err)
{
	int outfd = -1, errfd = -1, status = 0, ret;
	pid_t pid;

	*out = *err = NULL;
	ret = cg_nft_available();
	if (ret)
		return ret;
	outfd = memfd_create("cgguard-nft-out", MFD_CLOEXEC);
	errfd = memfd_create("cgguard-nft-err", MFD_CLOEXEC);
	if (outfd < 0 || errfd < 0) {
		ret = cg_seterr(-errno, "memfd_create: %m");
		goto out;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		ret = cg_seterr(-errno, "fork: %m");
		goto out;
	}
	if (!pid)
		_exit(child(nsfd, mode, buf, outfd, errfd));
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	*out = slurp(outfd, NULL);
	*err = slurp(errfd, NULL);
	if (!*out || !*err)
		ret = cg_seterr(-ENOMEM, "cannot read libnftables' output");
	else if (!WIFEXITED(status))
		ret = cg_seterr(-EIO, "libnftables died (signal %d)",
				WTERMSIG(status));
	else if (WEXITSTATUS(status) == 2)
		ret = -ENOENT;
	else if (WEXITSTATUS(status))
		ret = -EINVAL;
	else
		ret = 0;
out:
	if (outfd >= 0)
		close(outfd);
	if (errfd >= 0)
		close(errfd);
	return ret;
}

/* nft's error text, cut to its first lines (a 100k-line script would
 * otherwise come back whole). */
static void short_err(const char *e, char *buf, size_t len)
{
	size_t n = 0;
	int lines = 0;

	while (e[n] && n + 1 < len && lines < 6)
		lines += e[n++] == '\n';
	snprintf(buf, len, "%.*s", (int)n, e);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
}

int cg_nft_apply(int nsfd, const char *script, size_t len, int check)
{
	char *out = NULL, *err = NULL, msg[700];
	int ret;

	(void)len;
	ret = cg_nft_run(nsfd, check ? NFT_RUN_CHECK : NFT_RUN_APPLY, script,
			 &out, &err);
	if ((ret == -EINVAL || ret == -ENOENT) && err &&
	    strstr(err, "Operation not permitted")) {
		ret = cg_seterr(-EPERM, "nftables: permission denied: needs "
				"CAP_NET_ADMIN in the cgroup's network "
				"namespace");
	} else if (ret == -EINVAL || ret == -ENOENT) {
		short_err(err ? err : "", msg, sizeof(msg));
		ret = cg_seterr(-EINVAL, "nftables refused the transaction "
				"(nothing was changed): %s", msg);
	}
	free(out);
	free(err);
	return ret;
}
