// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Layer probing: what this kernel really lets cgguard load and attach.
 *
 * Every layer is probed by loading a two-instruction program ("r0 = allow;
 * exit") of the layer's program type with bpf_prog_load() and attaching it
 * the way cgguard would: cgroup hooks through a bpf_link on a scratch cgroup
 * "<cgroup2 mount>/cgguard-probe-<pid>" (created here, always removed),
 * socket filters with SO_ATTACH_BPF on a throwaway UDP socket.  Nothing is
 * pinned, so closing the descriptors frees everything.
 *
 * A failure records the step (setup, load, attach), the errno, a sentence
 * saying which capability or sysctl is missing when the errno is EPERM, and
 * for EINVAL at load the first meaningful line of the verifier log.
 * Library code: returns 0/-errno, never prints, never exits.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "probe.h"
#include "../cgroup/cgroup.h"
#include "../lib/err.h"
#include "../lib/compat.h"

#ifndef SECURITYFS_MAGIC
#define SECURITYFS_MAGIC 0x73636673
#endif

#define SECURITYFS	"/sys/kernel/security"
#define VMLINUX_BTF	"/sys/kernel/btf/vmlinux"
#define LSM_HOOK_FUNC	"bpf_lsm_socket_create"
/* Scratch cgroups of dead probes older than this are removed. */
#define STALE_SECS	60

enum kind { K_CGROUP, K_LSM_CGROUP, K_LSM, K_SOCKFILTER };

struct hook {
	enum bpf_prog_type type;
	enum bpf_attach_type attach;
	int ret;		/* "allow" for this program type */
	const char *sec;	/* libbpf section name, for messages */
	const char *prog;	/* program name (<= 15 chars) */
};

static const struct layer_def {
	const char *name;
	enum kind kind;
	int nhooks;
	struct hook h[2];
} layers[CG_LAYER_MAX] = {
	[CG_LAYER_PACKET] = { "packet", K_CGROUP, 2, {
		{ BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_EGRESS, 1,
		  "cgroup_skb/egress", "cgg_probe_egr" },
		{ BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_INGRESS, 1,
		  "cgroup_skb/ingress", "cgg_probe_ingr" } } },
	[CG_LAYER_CONNECT] = { "connect", K_CGROUP, 2, {
		{ BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_CONNECT, 1,
		  "cgroup/connect4", "cgg_probe_con4" },
		{ BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_CONNECT, 1,
		  "cgroup/connect6", "cgg_probe_con6" } } },
	[CG_LAYER_SENDMSG] = { "sendmsg", K_CGROUP, 2, {
		{ BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_UDP4_SENDMSG, 1,
		  "cgroup/sendmsg4", "cgg_probe_snd4" },
		{ BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_UDP6_SENDMSG, 1,
		  "cgroup/sendmsg6", "cgg_probe_snd6" } } },
	[CG_LAYER_BIND] = { "bind", K_CGROUP, 2, {
		{ BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_BIND, 1,
		  "cgroup/bind4", "cgg_probe_bnd4" },
		{ BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_BIND, 1,
		  "cgroup/bind6", "cgg_probe_bnd6" } } },
	[CG_LAYER_CREATE] = { "create", K_CGROUP, 1, {
		{ BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET_SOCK_CREATE, 1,
		  "cgroup/sock_create", "cgg_probe_crt" } } },
	/* lsm_cgroup: 1 allows, 0 denies with EPERM. */
	[CG_LAYER_LSM_CGROUP] = { "lsm_cgroup", K_LSM_CGROUP, 1, {
		{ BPF_PROG_TYPE_LSM, BPF_LSM_CGROUP, 1,
		  "lsm_cgroup/socket_create", "cgg_probe_lsmcg" } } },
	/* lsm: the return value is the hook's; 0 allows. */
	[CG_LAYER_LSM] = { "lsm", K_LSM, 1, {
		{ BPF_PROG_TYPE_LSM, BPF_LSM_MAC, 0,
		  "lsm/socket_create", "cgg_probe_lsm" } } },
	/* Socket filter: the number of bytes to keep; ~0 keeps all. */
	[CG_LAYER_SOCKFILTER] = { "sockfilter", K_SOCKFILTER, 1, {
		{ BPF_PROG_TYPE_SOCKET_FILTER, 0, -1,
		  "socket", "cgg_probe_sflt" } } },
};

const char *cg_layer_name(enum cg_layer layer)
{
	return (unsigned)layer < CG_LAYER_MAX ? layers[layer].name : "?";
}

/* ---- small helpers ------------------------------------------------------ */

/* Effective capability set of the caller; 0 on failure. */
static unsigned long long eff_caps(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d))
		return 0;
	return d[0].effective | (unsigned long long)d[1].effective << 32;
}

static int has_cap(int cap)
{
	return !!(eff_caps() & (1ULL << cap));
}

/* Integer value of a sysctl file, or -1. */
static long read_sysctl(const char *path)
{
	char buf[64];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

static void appendf(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void appendf(char *buf, size_t len, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	if (n >= len - 1)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
}

/* ---- security modules --------------------------------------------------- */

static void chomp(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
}

static int read_small(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	buf[0] = '\0';
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	chomp(buf);
	return 0;
}

/* "none [integrity] confidentiality" -> "integrity" */
static void lockdown_mode(char *s, size_t len)
{
	char *a = strchr(s, '['), *b = a ? strchr(a, ']') : NULL;

	if (a && b) {
		memmove(s, a + 1, b - a - 1);
		s[b - a - 1] = '\0';
	} else {
		snprintf(s, len, "%s", "");
	}
}

/*
 * Reads lsm and lockdown through a securityfs mounted in a private mount
 * namespace of a child process: the host's mounts are not touched.
 */
static int read_private_securityfs(struct cg_security *s)
{
	char buf[sizeof(s->lsm) + sizeof(s->lockdown) + 8];
	int p[2], status, err = 0;
	ssize_t n, got = 0;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(p[0]);
		close(p[1]);
		return err;
	}
	if (pid == 0) {
		char lsm[sizeof(s->lsm)], ld[sizeof(s->lockdown) + 64];
		int len;

		close(p[0]);
		if (unshare(CLONE_NEWNS) ||
		    mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount("securityfs", SECURITYFS, "securityfs",
			  MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
			_exit(errno & 0xff);
		if (read_small(SECURITYFS "/lsm", lsm, sizeof(lsm)))
			_exit(ENOENT);
		if (read_small(SECURITYFS "/lockdown", ld, sizeof(ld)))
			ld[0] = '\0';
		len = snprintf(buf, sizeof(buf), "%s\n%.31s\n", lsm, ld);
		if (write(p[1], buf, len) != len)
			_exit(EIO);
		_exit(0);
	}
	close(p[1]);
	while ((n = read(p[0], buf + got, sizeof(buf) - 1 - got)) > 0)
		got += n;
	close(p[0]);
	buf[got] = '\0';
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	if (!WIFEXITED(status))
		return -EIO;
	if (WEXITSTATUS(status))
		return -WEXITSTATUS(status);
	{
		char *nl = strchr(buf, '\n');

		if (!nl)
			return -EIO;
		*nl = '\0';
		snprintf(s->lsm, sizeof(s->lsm), "%.255s", buf);
		snprintf(s->lockdown, sizeof(s->lockdown), "%s", nl + 1);
		chomp(s->lockdown);
	}
	return 0;
}

static int in_list(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p = list;

	while ((p = strstr(p, word))) {
		if ((p == list || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return 1;
		p += n;
	}
	return 0;
}

const struct cg_security *cg_security_info(void)
{
	static struct cg_security s;
	static int done;
	struct statfs sfs;
	int err;

	if (done)
		return &s;
	done = 1;
	s.bpf_lsm = -1;
	s.securityfs_mounted = !statfs(SECURITYFS, &sfs) &&
			       sfs.f_type == SECURITYFS_MAGIC;
	if (s.securityfs_mounted) {
		err = read_small(SECURITYFS "/lsm", s.lsm, sizeof(s.lsm));
		if (!read_small(SECURITYFS "/lockdown", s.lockdown,
				sizeof(s.lockdown)))
			lockdown_mode(s.lockdown, sizeof(s.lockdown));
	} else if (has_cap(CAP_SYS_ADMIN)) {
		err = read_private_securityfs(&s);
		if (!err) {
			s.private_mount = 1;
			lockdown_mode(s.lockdown, sizeof(s.lockdown));
		}
	} else {
		err = -ENOENT;
	}
	s.err = err;
	if (!err)
		s.bpf_lsm = in_list(s.lsm, "bpf");
	else
		s.lsm[0] = '\0';
	return &s;
}

/* ---- scratch cgroup ----------------------------------------------------- */

struct scratch {
	struct cg_cgroup cg;
	int fd;
	int err;	/* 0, or why there is no scratch cgroup */
	int made;	/* creation attempted */
	char why[200];
};

/* Removes scratch cgroups of probes that died before cleaning up. */
static void remove_stale(void)
{
	char mnt[PATH_MAX], p[PATH_MAX + 300];
	struct dirent *de;
	struct stat st;
	DIR *d;

	if (cg_cgroup2_mount(mnt, sizeof(mnt)) || !(d = opendir(mnt)))
		return;
	while ((de = readdir(d))) {
		char *end;
		long pid;

		if (strncmp(de->d_name, "cgguard-probe-", 14))
			continue;
		pid = strtol(de->d_name + 14, &end, 10);
		if (*end || pid <= 0 || pid == getpid())
			continue;
		if (!kill(pid, 0) || errno != ESRCH)
			continue;	/* its probe may still be running */
		snprintf(p, sizeof(p), "%s/%s", mnt, de->d_name);
		if (!stat(p, &st) && time(NULL) - st.st_mtime > STALE_SECS)
			rmdir(p);
	}
	closedir(d);
}

static int scratch_get(struct scratch *s)
{
	char rel[64];

	if (s->made)
		return s->err;
	s->made = 1;
	s->fd = -1;
	remove_stale();
	snprintf(rel, sizeof(rel), "cgguard-probe-%d", (int)getpid());
	cg_clearerr();
	s->err = cg_cgroup_create(rel, &s->cg);
	if (s->err) {
		snprintf(s->why, sizeof(s->why), "%s", *cg_lasterr() ?
			 cg_lasterr() : strerror(-s->err));
		if (s->err == -EACCES || s->err == -EPERM)
			appendf(s->why, sizeof(s->why), " (needs write access "
				"to the cgroup2 root: run as root)");
		s->cg.abs[0] = '\0';
		return s->err;
	}
	s->fd = open(s->cg.abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->fd < 0) {
		s->err = -errno;
		snprintf(s->why, sizeof(s->why), "cannot open %.120s: %s",
			 s->cg.abs, strerror(errno));
	}
	return s->err;
}

static void scratch_put(struct scratch *s)
{
	if (!s->made)
		return;
	if (s->fd >= 0)
		close(s->fd);
	if (s->cg.abs[0])
		cg_cgroup_remove(&s->cg);	/* links are closed: empty */
	memset(s, 0, sizeof(*s));
}

/* ---- failures ----------------------------------------------------------- */

static void fail(struct cg_probe_result *r, const char *step, int err,
		 const struct hook *h, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void fail(struct cg_probe_result *r, const char *step, int err,
		 const struct hook *h, const char *fmt, ...)
{
	va_list ap;

	r->available = 0;
	r->err = err;
	r->step = step;
	snprintf(r->detail, sizeof(r->detail), "%s %s: %s", step, h->sec,
		 strerror(-err));
	if (fmt && *fmt) {
		appendf(r->detail, sizeof(r->detail), ": ");
		va_start(ap, fmt);
		vsnprintf(r->detail + strlen(r->detail),
			  sizeof(r->detail) - strlen(r->detail), fmt, ap);
		va_end(ap);
	}
}

/* Comma-separated names of missing capabilities from @need. */
static void missing_caps(char *buf, size_t len, int bpf, int net, int perf)
{
	unsigned long long c = eff_caps();
	int sys = !!(c & (1ULL << CAP_SYS_ADMIN));

	buf[0] = '\0';
	/* CAP_SYS_ADMIN stands in for CAP_BPF and CAP_PERFMON. */
	if (bpf && !sys && !(c & (1ULL << CAP_BPF)))
		appendf(buf, len, "%sCAP_BPF", *buf ? ", " : "");
	if (perf && !sys && !(c & (1ULL << CAP_PERFMON)))
		appendf(buf, len, "%sCAP_PERFMON", *buf ? ", " : "");
	if (net && !(c & (1ULL << CAP_NET_ADMIN)))
		appendf(buf, len, "%sCAP_NET_ADMIN", *buf ? ", " : "");
}

/* Explains an EPERM: which capability or sysctl is missing. */
static void explain_eperm(char *buf, size_t len, enum kind k, const char *step,
			  int classic)
{
	long unpriv = read_sysctl("/proc/sys/kernel/unprivileged_bpf_disabled");
	const struct cg_security *sec;
	char miss[64];

	buf[0] = '\0';
	if (!strcmp(step, "attach")) {
		if (k == K_SOCKFILTER) {
			snprintf(buf, len, "the kernel refused SO_ATTACH_BPF");
			return;
		}
		missing_caps(miss, sizeof(miss), 0, k != K_LSM,
			     k == K_LSM || k == K_LSM_CGROUP);
		if (*miss)
			snprintf(buf, len, "attaching needs %s (missing here)",
				 miss);
		else
			snprintf(buf, len, "attach refused although the "
				 "capabilities are held (a security module "
				 "or seccomp policy?)");
		return;
	}
	switch (k) {
	case K_CGROUP:
		missing_caps(miss, sizeof(miss), 1, 1, 0);
		if (*miss) {
			snprintf(buf, len, "needs CAP_BPF (and CAP_NET_ADMIN "
				 "for cgroup hooks); kernel.unprivileged_bpf_"
				 "disabled=%ld; missing here: %s", unpriv, miss);
			return;
		}
		break;
	case K_LSM:
	case K_LSM_CGROUP:
		missing_caps(miss, sizeof(miss), 1, 0, 1);
		if (*miss) {
			snprintf(buf, len, "needs CAP_BPF (and CAP_PERFMON for "
				 "LSM programs); kernel.unprivileged_bpf_"
				 "disabled=%ld; missing here: %s", unpriv, miss);
			return;
		}
		sec = cg_security_info();
		snprintf(buf, len, "the kernel refuses BPF LSM programs "
			 "although CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN are "
			 "held");
		if (sec->bpf_lsm == 0)
			appendf(buf, len, "; \"bpf\" is not an active LSM (%s):"
				" boot with lsm=...,bpf", sec->lsm);
		else if (sec->bpf_lsm == 1)
			appendf(buf, len, "; \"bpf\" is an active LSM (%s)",
				sec->lsm);
		else
			appendf(buf, len, "; active LSMs unknown (securityfs "
				"not mounted)");
		if (sec->lockdown[0] && strcmp(sec->lockdown, "none"))
			appendf(buf, len, ", lockdown=%s", sec->lockdown);
		return;
	case K_SOCKFILTER:
		missing_caps(miss, sizeof(miss), 1, 0, 0);
		if (*miss && unpriv != 0) {
			snprintf(buf, len, "needs CAP_BPF: kernel.unprivileged_"
				 "bpf_disabled=%ld forbids unprivileged eBPF; "
				 "classic BPF (SO_ATTACH_FILTER) %s", unpriv,
				 classic ? "still works" : "failed too");
			return;
		}
		break;
	}
	snprintf(buf, len, "refused although the needed capabilities are "
		 "held (kernel.unprivileged_bpf_disabled=%ld; a security "
		 "module or seccomp policy?)", unpriv);
}

/* First line of a verifier log that is not instruction trace. */
static void verifier_line(const char *log, char *out, size_t len)
{
	static const char *const skip[] = { "func#", "processed ",
		"verification time", "stack depth", "from ", "; ", "last_idx",
		"regs=", "parent ", "Validating", "mark_precise", NULL };
	const char *p = log, *last = NULL;
	size_t lastn = 0;

	out[0] = '\0';
	while (*p) {
		const char *e = strchrnul(p, '\n');
		size_t n = e - p;
		int i, trace = 0;

		if (n) {
			const char *q = p;

			while (q < e && *q >= '0' && *q <= '9')
				q++;
			trace = q > p && q < e && *q == ':';
			for (i = 0; !trace && skip[i]; i++)
				trace = !strncmp(p, skip[i], strlen(skip[i]));
			if (!trace) {
				snprintf(out, len, "%.*s", (int)n, p);
				return;
			}
			last = p;
			lastn = n;
		}
		p = *e ? e + 1 : e;
	}
	if (last)
		snprintf(out, len, "%.*s", (int)lastn, last);
}

/* ---- probes ------------------------------------------------------------- */

static int load(const struct hook *h, __u32 btf_id, char *vline, size_t vlen)
{
	struct bpf_insn insns[2];
	char *log;
	int fd, err;
	LIBBPF_OPTS(bpf_prog_load_opts, o,
		.expected_attach_type = h->attach,
		.attach_btf_id = btf_id,
	);

	memset(insns, 0, sizeof(insns));
	insns[0].code = BPF_ALU64 | BPF_MOV | BPF_K;	/* r0 = ret */
	insns[0].dst_reg = BPF_REG_0;
	insns[0].imm = h->ret;
	insns[1].code = BPF_JMP | BPF_EXIT;		/* exit */
	/* LSM programs must be GPL-compatible; this license is. */
	fd = bpf_prog_load(h->type, h->prog, "Dual BSD/GPL", insns, 2, &o);
	if (fd >= 0)
		return fd;
	err = -errno;
	if (err != -EINVAL)
		return err;
	/* Load again with the verifier log on to say why. */
	log = calloc(1, 64 * 1024);
	if (!log)
		return err;
	o.log_level = 1;
	o.log_buf = log;
	o.log_size = 64 * 1024;
	fd = bpf_prog_load(h->type, h->prog, "Dual BSD/GPL", insns, 2, &o);
	if (fd >= 0) {		/* flaky?  Take the program. */
		free(log);
		return fd;
	}
	verifier_line(log, vline, vlen);
	free(log);
	return err;
}

/* Kernel BTF id of the LSM hook the LSM probes attach to. */
static int lsm_btf_id(__u32 *id, char *why, size_t len)
{
	struct btf *btf;
	int ret;

	if (access(VMLINUX_BTF, R_OK)) {
		ret = -errno;
		snprintf(why, len, "no kernel BTF at " VMLINUX_BTF
			 " (BPF LSM needs CONFIG_DEBUG_INFO_BTF)");
		return ret;
	}
	btf = btf__load_vmlinux_btf();
	if (!btf) {
		ret = -errno;
		snprintf(why, len, "cannot parse kernel BTF: %s",
			 strerror(-ret));
		return ret;
	}
	ret = btf__find_by_name_kind(btf, LSM_HOOK_FUNC, BTF_KIND_FUNC);
	btf__free(btf);
	if (ret < 0) {
		snprintf(why, len, LSM_HOOK_FUNC " is not in the kernel BTF "
			 "(kernel built without CONFIG_BPF_LSM)");
		return -ENOENT;
	}
	*id = ret;
	return 0;
}

/* Classic BPF "accept all" on a UDP socket: 1 if the kernel takes it. */
static int classic_works(void)
{
	struct sock_filter insn = { BPF_RET | BPF_K, 0, 0, 0xffffffff };
	struct sock_fprog prog = { 1, &insn };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ok;

	if (s < 0)
		return 0;
	ok = !setsockopt(s, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog));
	close(s);
	return ok;
}

static void probe_hook(const struct layer_def *L, const struct hook *h,
		       struct scratch *sc, struct cg_probe_result *r)
{
	char why[200] = "";
	__u32 btf_id = 0;
	int fd, lfd, err, s;

	if (L->kind == K_LSM || L->kind == K_LSM_CGROUP) {
		err = lsm_btf_id(&btf_id, why, sizeof(why));
		if (err) {
			fail(r, "setup", err, h, "%s", why);
			return;
		}
	}
	fd = load(h, btf_id, r->verifier, sizeof(r->verifier));
	if (fd < 0) {
		if (fd == -EPERM)
			explain_eperm(why, sizeof(why), L->kind, "load",
				      r->classic_bpf);
		else if (fd == -EINVAL && L->kind == K_LSM_CGROUP)
			snprintf(why, sizeof(why), "lsm_cgroup needs Linux "
				 "6.0+");
		if (r->verifier[0])
			appendf(why, sizeof(why), "%sverifier: %s",
				*why ? "; " : "", r->verifier);
		fail(r, "load", fd, h, "%s", why);
		return;
	}
	switch (L->kind) {
	case K_CGROUP:
	case K_LSM_CGROUP:
		if (scratch_get(sc)) {
			fail(r, "setup", sc->err, h, "scratch cgroup: %s",
			     sc->why);
			break;
		}
		lfd = bpf_link_create(fd, sc->fd, h->attach, NULL);
		if (lfd < 0) {
			err = -errno;
			if (err == -EPERM)
				explain_eperm(why, sizeof(why), L->kind,
					      "attach", 0);
			fail(r, "attach", err, h, "%s", why);
			break;
		}
		close(lfd);	/* not pinned: this detaches it */
		break;
	case K_LSM:
		/*
		 * A global allow-all LSM program (it returns 0 for every
		 * socket_create) attached for the few microseconds until the
		 * link is closed below: harmless to everything on the host.
		 */
		lfd = bpf_link_create(fd, 0, BPF_LSM_MAC, NULL);
		if (lfd < 0 && (errno == EINVAL || errno == EOPNOTSUPP))
			lfd = bpf_raw_tracepoint_open(NULL, fd);
		if (lfd < 0) {
			err = -errno;
			if (err == -EPERM)
				explain_eperm(why, sizeof(why), L->kind,
					      "attach", 0);
			fail(r, "attach", err, h, "%s", why);
			break;
		}
		close(lfd);
		break;
	case K_SOCKFILTER:
		s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (s < 0) {
			fail(r, "setup", -errno, h, "cannot create a UDP "
			     "socket");
			break;
		}
		if (setsockopt(s, SOL_SOCKET, SO_ATTACH_BPF, &fd, sizeof(fd))) {
			err = -errno;
			if (err == -EPERM)
				explain_eperm(why, sizeof(why), L->kind,
					      "attach", 0);
			fail(r, "attach", err, h, "%s", why);
		} else {
			int one = 1;

			/* cgguard hands these out locked; probe that too. */
			if (setsockopt(s, SOL_SOCKET, SO_LOCK_FILTER, &one,
				       sizeof(one)))
				fail(r, "attach", -errno, h, "SO_LOCK_FILTER");
		}
		close(s);
		break;
	}
	close(fd);
}

static void probe_layer(enum cg_layer layer, struct scratch *sc,
			struct cg_probe_result *r)
{
	const struct layer_def *L = &layers[layer];
	int i;

	memset(r, 0, sizeof(*r));
	r->available = 1;
	if (L->kind == K_SOCKFILTER)
		r->classic_bpf = classic_works();
	for (i = 0; i < L->nhooks && r->available; i++)
		probe_hook(L, &L->h[i], sc, r);
	if (r->available)
		snprintf(r->detail, sizeof(r->detail), "loaded and attached "
			 "(%s%s%s)", L->h[0].sec, L->nhooks > 1 ? ", " : "",
			 L->nhooks > 1 ? L->h[1].sec : "");
}

static struct cg_probe_result cache[CG_LAYER_MAX];
static int cached[CG_LAYER_MAX];

int cg_probe_layers(struct cg_probe_result r[CG_LAYER_MAX])
{
	struct scratch sc;
	int i;

	memset(&sc, 0, sizeof(sc));
	for (i = 0; i < CG_LAYER_MAX; i++) {
		if (!cached[i]) {
			probe_layer(i, &sc, &cache[i]);
			cached[i] = 1;
		}
	}
	scratch_put(&sc);
	memcpy(r, cache, sizeof(cache));
	return 0;
}

const struct cg_probe_result *cg_probe(enum cg_layer layer)
{
	static struct cg_probe_result bad = { .err = -EINVAL,
		.detail = "no such layer" };
	struct scratch sc;

	if ((unsigned)layer >= CG_LAYER_MAX)
		return &bad;
	if (!cached[layer]) {
		memset(&sc, 0, sizeof(sc));
		probe_layer(layer, &sc, &cache[layer]);
		scratch_put(&sc);
		cached[layer] = 1;
	}
	return &cache[layer];
}
