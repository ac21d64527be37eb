// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * cgguard oci-hook: the OCI runtime hook (createRuntime/prestart attach,
 * poststop detach).  The runtime writes the container state JSON to stdin:
 *
 *   {"ociVersion":"1.0.2","id":"ID","status":"creating","pid":123,
 *    "bundle":"/path/to/bundle","annotations":{...}}
 *
 * Attach stages read the bundle's config.json for the annotations
 * io.cgguard.policy (no annotation: nothing to do) and io.cgguard.fail
 * (open|closed, default closed) and for linux.cgroupsPath, verify that the
 * container's init process really is in that cgroup, and guard it.  A
 * failure aborts the container start (exit 1, one line on stderr) unless
 * the container asked to fail open: then the failure is counted in
 * CG_HOOK_FAILOPEN and the hook exits 0.
 *
 * Hardening (the hook runs as root, fed by the runtime, for containers
 * whose owners may be hostile):
 *  - the environment is cleared first and never read; nothing is exec'd;
 *  - no path inside the container rootfs is opened: config.json is opened
 *    with O_NOFOLLOW relative to the bundle, the cgroup comes from the
 *    config and /proc/PID/cgroup;
 *  - a policy is a built-in, a NAME, or a file below the policy
 *    directories the operator gave (--policy-dir, default
 *    CG_POLICY_DIR), opened component-wise without following symlinks and
 *    checked on the fd (policy/beneath.c): nothing else is ever read;
 *  - inputs are size-bounded and parsed by a strict JSON parser (RFC 8259;
 *    duplicate keys that the hook reads are refused);
 *  - the hook gives up on its own deadline (--timeout-ms, default 2000)
 *    with the container's fail mode, e.g. if the pinned state's lock is
 *    held by a stalled process.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include "cgguard.h"
#include "../cgroup/cgroup.h"
#include "../lib/jsonparse.h"
#include "../lib/usdt.h"

#define CG_HOOK_RUNDIR		"/run/cgguard"
#define CG_HOOK_STATEDIR	CG_HOOK_RUNDIR "/containers"
#define CG_HOOK_FAILOPEN	CG_HOOK_RUNDIR "/failopen.count"
#define CG_HOOK_STATE_MAX	(1u << 20)	/* state JSON on stdin */
#define CG_HOOK_CONFIG_MAX	(16u << 20)	/* bundle config.json */
#define CG_HOOK_TIMEOUT_MS	2000
#define ANN_POLICY		"io.cgguard.policy"
#define ANN_FAIL		"io.cgguard.fail"
#define ERRLEN			1024
#define POLICY_DIRS_MAX		8

/* ---- hook context ------------------------------------------------------- */

enum stage { ST_NONE, ST_ATTACH, ST_DETACH };

struct hook {
	const char *stage_name;
	enum stage stage;
	struct jv state, config;
	int have_config;
	const char *id, *status, *bundle;
	long pid;
	const char *policy;	/* annotation values (config wins) */
	const char *fail;
	char policy_src[32], fail_src[32];
	char err[ERRLEN];
	/* results */
	struct cg_cgroup cg;
	int cgfd;		/* h->cg, open: attached through this */
	const char *action;
	int degraded;
};

/* Deadline state, read by the SIGALRM handler. */
static volatile sig_atomic_t hook_fail_open;
static volatile sig_atomic_t hook_bumping;
static volatile sig_atomic_t hook_id_ready;
static char hook_id_buf[256];
static long hook_timeout_ms = CG_HOOK_TIMEOUT_MS;
/* Where policy files may come from (--policy-dir; the operator's choice). */
static const char *policy_dirs[POLICY_DIRS_MAX] = { CG_POLICY_DIR };
static int npolicy_dirs;

static void wr(const char *s)
{
	ssize_t r = write(STDERR_FILENO, s, strlen(s));

	(void)r;
}

static void fmt_ulong(char *buf, size_t len, unsigned long v)
{
	char t[24];
	size_t n = 0, i;

	do {
		t[n++] = '0' + v % 10;
		v /= 10;
	} while (v && n < sizeof(t));
	for (i = 0; i < n && i + 1 < len; i++)
		buf[i] = t[n - 1 - i];
	buf[i] = 0;
}

/*
 * Adds one to CG_HOOK_FAILOPEN under flock.  Only async-signal-safe calls,
 * so the deadline handler can use it too (then without blocking).
 */
static int failopen_bump(int nonblock)
{
	char buf[32];
	unsigned long v = 0;
	ssize_t n, i;
	int fd, err = 0;

	mkdir(CG_HOOK_RUNDIR, 0755);
	fd = open(CG_HOOK_FAILOPEN, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
		  0644);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | (nonblock ? LOCK_NB : 0))) {
		err = -errno;
		goto out;
	}
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	for (i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; i++)
		v = v * 10 + (buf[i] - '0');
	fmt_ulong(buf, sizeof(buf) - 1, v + 1);
	n = strlen(buf);
	buf[n++] = '\n';
	if (pwrite(fd, buf, n, 0) != n || ftruncate(fd, n))
		err = -errno;
out:
	close(fd);
	return err;
}

static void on_deadline(int sig)
{
	char ms[24];

	(void)sig;
	fmt_ulong(ms, sizeof(ms), hook_timeout_ms);
	wr("cgguard: oci-hook: ");
	if (hook_id_ready) {
		wr("container ");
		wr(hook_id_buf);
		wr(": ");
	}
	wr("gave up after the ");
	wr(ms);
	wr(" ms deadline (stalled input or pinned-state lock)");
	if (hook_fail_open) {
		if (!hook_bumping)
			failopen_bump(1);
		wr("; io.cgguard.fail=open: container starts UNGUARDED\n");
		_exit(0);
	}
	wr("; failing closed\n");
	_exit(1);
}

static int arm_deadline(long ms)
{
	struct sigaction sa = { .sa_handler = on_deadline };
	struct itimerval it = {
		.it_value = { ms / 1000, (ms % 1000) * 1000 } };

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL) || setitimer(ITIMER_REAL, &it, NULL))
		return -errno;
	return 0;
}

static int herr(struct hook *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int herr(struct hook *h, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(h->err, sizeof(h->err), fmt, ap);
	va_end(ap);
	return -1;
}

/* Reads all of @fd, refusing more than @max bytes. */
static int read_all(int fd, size_t max, char **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1), *t;
	ssize_t r;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (n == cap) {
			if (cap > max) {
				free(buf);
				return -EFBIG;
			}
			cap *= 2;
			t = realloc(buf, cap + 1);
			if (!t) {
				free(buf);
				return -ENOMEM;
			}
			buf = t;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			r = -errno;
			free(buf);
			return r;
		}
		if (!r)
			break;
		n += r;
	}
	if (n > max) {
		free(buf);
		return -EFBIG;
	}
	buf[n] = 0;
	*out = buf;
	*len = n;
	return 0;
}

/* runc's rule for container ids: [A-Za-z0-9_+.-]+, not "." or "..". */
static int valid_id(const char *id)
{
	const char *c;

	if (!*id || strlen(id) > 200 || !strcmp(id, ".") || !strcmp(id, ".."))
		return 0;
	for (c = id; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || strchr("_+.-", *c)))
			return 0;
	return 1;
}

static int get_str(struct hook *h, const struct jv *o, const char *where,
		   const char *key, int required, const char **out)
{
	const struct jv *v;
	int r = jget(o, key, &v);

	*out = NULL;
	if (r == -EINVAL)
		return herr(h, "%s: key \"%s\" appears more than once", where,
			    key);
	if (r == -ENOENT || (v->t == J_NULL && !required)) {
		if (required)
			return herr(h, "%s: \"%s\" is missing", where, key);
		return 0;
	}
	if (v->t != J_STR)
		return herr(h, "%s:%d:%d: \"%s\" must be a string, not %s",
			    where, v->line, v->col, key, jtype_name(v->t));
	*out = v->s;
	return 0;
}

/* Annotations of interest from @o's "annotations" (absent is fine). */
static int read_annotations(struct hook *h, const struct jv *o,
			    const char *where)
{
	const struct jv *a;
	const char *pol, *fail;
	int r = jget(o, "annotations", &a);

	if (r == -EINVAL)
		return herr(h, "%s: \"annotations\" appears more than once",
			    where);
	if (r || a->t == J_NULL)
		return 0;
	if (a->t != J_OBJ)
		return herr(h, "%s:%d:%d: \"annotations\" must be an object, "
			    "not %s", where, a->line, a->col, jtype_name(a->t));
	if (get_str(h, a, where, ANN_POLICY, 0, &pol) ||
	    get_str(h, a, where, ANN_FAIL, 0, &fail))
		return -1;
	/* Called for the state first, then config.json: config wins. */
	if (pol) {
		h->policy = pol;
		snprintf(h->policy_src, sizeof(h->policy_src), "%s", where);
	}
	if (fail) {
		h->fail = fail;
		snprintf(h->fail_src, sizeof(h->fail_src), "%s", where);
	}
	return 0;
}

static int parse_state(struct hook *h, const char *buf, size_t len)
{
	const struct jv *pid;
	char e[ERRLEN];
	int r;

	if (json_parse("state (stdin)", buf, len, &h->state, e, sizeof(e)))
		return herr(h, "malformed container state: %s", e);
	if (get_str(h, &h->state, "state", "id", 1, &h->id) ||
	    get_str(h, &h->state, "state", "status", 0, &h->status) ||
	    get_str(h, &h->state, "state", "bundle", 0, &h->bundle))
		return -1;
	if (!valid_id(h->id)) {
		const char *bad = h->id;

		h->id = NULL;
		return herr(h, "state: container id \"%.64s\" is not a valid "
			    "OCI container id", bad);
	}
	snprintf(hook_id_buf, sizeof(hook_id_buf), "%s", h->id);
	hook_id_ready = 1;
	r = jget(&h->state, "pid", &pid);
	if (r == -EINVAL)
		return herr(h, "state: \"pid\" appears more than once");
	if (!r && pid->t != J_NULL) {
		char *end;

		errno = 0;
		h->pid = pid->t == J_NUM ? strtol(pid->s, &end, 10) : -1;
		if (pid->t != J_NUM || errno || *end || h->pid < 0 ||
		    h->pid > INT_MAX)
			return herr(h, "state: \"pid\" must be a process id");
	}
	return read_annotations(h, &h->state, "state");
}

static int read_config(struct hook *h)
{
	char e[ERRLEN], *buf = NULL;
	struct stat st;
	size_t len;
	int dfd, fd, r;

	if (!h->bundle || h->bundle[0] != '/')
		return herr(h, "state: \"bundle\" must be an absolute path");
	dfd = open(h->bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return herr(h, "bundle %s: %s", h->bundle, strerror(errno));
	/* O_NONBLOCK: a FIFO planted as config.json must not stall us. */
	fd = openat(dfd, "config.json",
		    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	close(dfd);
	if (fd < 0)
		return herr(h, "%s/config.json: %s", h->bundle,
			    errno == ELOOP ? "is a symbolic link (refused)" :
			    strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return herr(h, "%s/config.json: not a regular file",
			    h->bundle);
	}
	if ((size_t)st.st_size > CG_HOOK_CONFIG_MAX) {
		close(fd);
		return herr(h, "%s/config.json: larger than %u MiB (refused)",
			    h->bundle, CG_HOOK_CONFIG_MAX >> 20);
	}
	r = read_all(fd, CG_HOOK_CONFIG_MAX, &buf, &len);
	close(fd);
	if (r)
		return herr(h, "%s/config.json: %s", h->bundle, strerror(-r));
	r = json_parse("config.json", buf, len, &h->config, e, sizeof(e));
	free(buf);
	if (r)
		return herr(h, "malformed %s/%s", h->bundle, e);
	h->have_config = 1;
	return read_annotations(h, &h->config, "config.json");
}

/* ---- cgroup resolution -------------------------------------------------- */

/* The "0::" line of /proc/PID/cgroup (PID 0: self), relative to the mount. */
static int proc_cgroup(struct hook *h, long pid, char *out, size_t len)
{
	char p[64], *buf = NULL, *line, *nl;
	size_t n;
	int fd, r;

	if (pid)
		snprintf(p, sizeof(p), "/proc/%ld/cgroup", pid);
	else
		snprintf(p, sizeof(p), "/proc/self/cgroup");
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return herr(h, "%s: %s%s", p, strerror(errno),
			    errno == ENOENT ? " (the container's process is "
			    "gone)" : "");
	r = read_all(fd, 1 << 16, &buf, &n);
	close(fd);
	if (r)
		return herr(h, "%s: %s", p, strerror(-r));
	for (line = buf; line && *line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		if (!strncmp(line, "0::", 3)) {
			snprintf(out, len, "%s", line + 3);
			free(buf);
			if (!out[0] || strstr(out, " (deleted)"))
				return herr(h, "%s: no live cgroup v2 path", p);
			return 0;
		}
	}
	free(buf);
	return herr(h, "%s has no cgroup v2 (\"0::\") line: is cgroup2 "
		    "mounted?", p);
}

/* Expands a systemd slice: "a-b.slice" -> "/a.slice/a-b.slice". */
static int expand_slice(struct hook *h, const char *slice, char *out,
			size_t len)
{
	size_t n = strlen(slice), i, o = 0;
	char base[256];

	if (!strcmp(slice, "-.slice")) {
		out[0] = 0;
		return 0;
	}
	if (n <= 6 || n - 6 >= sizeof(base) ||
	    strcmp(slice + n - 6, ".slice") || strchr(slice, '/'))
		return herr(h, "cgroupsPath: invalid systemd slice \"%s\"",
			    slice);
	memcpy(base, slice, n - 6);
	base[n - 6] = 0;
	if (base[0] == '-' || base[n - 7] == '-' || strstr(base, "--"))
		return herr(h, "cgroupsPath: invalid systemd slice \"%s\"",
			    slice);
	out[0] = 0;
	for (i = 0; i <= n - 6; i++) {
		if (base[i] != '-' && base[i])
			continue;
		/* prefix base[0..i) is the next slice level */
		if (o + i + 8 >= len)
			return herr(h, "cgroupsPath: slice too long");
		o += snprintf(out + o, len - o, "/%.*s.slice", (int)i, base);
	}
	return 0;
}

/*
 * linux.cgroupsPath -> path below the cgroup2 mount.  Forms:
 *   /abs/path            relative to the cgroup2 mount (cgroupfs)
 *   slice:prefix:name    systemd: <slice path>/<prefix>-<name>.scope
 *   rel/path             relative to the runtime's own cgroup (runc)
 * Empty @out: no cgroupsPath (use the process's cgroup).
 */
static int config_cgroup(struct hook *h, char *out, size_t len)
{
	const struct jv *linux_;
	const char *cp = NULL;
	int r;

	out[0] = 0;
	if (!h->have_config)
		return 0;
	r = jget(&h->config, "linux", &linux_);
	if (r == -EINVAL)
		return herr(h, "config.json: \"linux\" appears more than once");
	if (r || linux_->t == J_NULL)
		return 0;
	if (linux_->t != J_OBJ)
		return herr(h, "config.json: \"linux\" must be an object");
	if (get_str(h, linux_, "config.json linux", "cgroupsPath", 0, &cp))
		return -1;
	if (!cp || !*cp)
		return 0;
	if (strstr(cp, "/../") || !strncmp(cp, "../", 3) ||
	    !strcmp(cp, "..") || (strlen(cp) >= 3 &&
				  !strcmp(cp + strlen(cp) - 3, "/..")))
		return herr(h, "cgroupsPath \"%s\" contains \"..\" (refused)",
			    cp);
	if (cp[0] != '/' && strchr(cp, ':')) {
		char slice[256], prefix[256], name[256], sp[PATH_MAX];
		const char *c1 = strchr(cp, ':'), *c2 = strchr(c1 + 1, ':');
		size_t ln;

		if (!c2 || strchr(c2 + 1, ':') || strchr(cp, '/') ||
		    (size_t)(c1 - cp) >= sizeof(slice) ||
		    (size_t)(c2 - c1 - 1) >= sizeof(prefix) ||
		    strlen(c2 + 1) >= sizeof(name) || !c2[1])
			return herr(h, "cgroupsPath \"%s\": systemd form must "
				    "be slice:prefix:name", cp);
		snprintf(slice, sizeof(slice), "%.*s", (int)(c1 - cp), cp);
		snprintf(prefix, sizeof(prefix), "%.*s", (int)(c2 - c1 - 1),
			 c1 + 1);
		snprintf(name, sizeof(name), "%s", c2 + 1);
		if (expand_slice(h, slice[0] ? slice : "system.slice", sp,
				 sizeof(sp)))
			return -1;
		ln = strlen(name);
		if (ln > 6 && !strcmp(name + ln - 6, ".slice"))
			r = snprintf(out, len, "%s/%s", sp, name);
		else if (prefix[0])
			r = snprintf(out, len, "%s/%s-%s.scope", sp, prefix,
				     name);
		else
			r = snprintf(out, len, "%s/%s.scope", sp, name);
		return r >= (int)len ? herr(h, "cgroupsPath too long") : 0;
	}
	if (cp[0] == '/') {
		r = snprintf(out, len, "%s", cp);
	} else {
		char own[PATH_MAX];

		if (proc_cgroup(h, 0, own, sizeof(own)))
			return -1;
		r = snprintf(out, len, "%s%s%s", own,
			     strcmp(own, "/") ? "/" : "", cp);
	}
	return r >= (int)len ? herr(h, "cgroupsPath too long") : 0;
}

static int is_below(const char *rel, const char *parent)
{
	size_t n = strlen(parent);

	if (!strcmp(parent, "/"))
		return strcmp(rel, "/") != 0;
	return !strncmp(rel, parent, n) && rel[n] == '/';
}

/* Resolves a path relative to the cgroup2 mount (never a host path). */
static int resolve_rel(struct hook *h, const char *rel, struct cg_cgroup *cg,
		       const char *what, int *fd)
{
	char abs[PATH_MAX];
	int r;

	cg_clearerr();
	r = cg_cgroup_abs(rel, abs, sizeof(abs));
	if (!r)
		r = cg_cgroup_open(abs, cg);
	if (r < 0)
		return herr(h, "%s %s: %s", what, rel, *cg_lasterr() ?
			    cg_lasterr() : strerror(-r));
	if (fd)
		*fd = r;
	else
		close(r);
	return 0;
}

static int resolve_cgroup(struct hook *h)
{
	char want[PATH_MAX], pidcg[PATH_MAX], own[PATH_MAX];
	struct cg_cgroup pcg;

	if (config_cgroup(h, want, sizeof(want)))
		return -1;
	if (!want[0] && !h->pid)
		return herr(h, "no linux.cgroupsPath in config.json and no "
			    "pid in the state: cannot tell the container's "
			    "cgroup");
	if (h->pid && proc_cgroup(h, h->pid, pidcg, sizeof(pidcg)))
		return -1;
	if (h->cgfd >= 0)
		close(h->cgfd);
	h->cgfd = -1;
	if (resolve_rel(h, want[0] ? want : pidcg, &h->cg, "container cgroup",
			&h->cgfd))
		return -1;
	if (h->pid) {
		if (resolve_rel(h, pidcg, &pcg, "cgroup of the container's pid",
				NULL))
			return -1;
		/* The init process may sit in a child of the container's
		 * cgroup (programs on a cgroup cover its descendants). */
		if (pcg.id != h->cg.id && !is_below(pcg.rel, h->cg.rel))
			return herr(h, "cgroup mismatch: config.json says %s "
				    "but pid %ld is in %s", h->cg.rel, h->pid,
				    pcg.rel);
	}
	if (!strcmp(h->cg.rel, "/"))
		return herr(h, "the container is in the root cgroup: refusing "
			    "to guard the whole host");
	/* Guarding the runtime's own cgroup would guard the host's tools. */
	if (!proc_cgroup(h, 0, own, sizeof(own)) &&
	    (!strcmp(own, h->cg.rel) || is_below(own, h->cg.rel)))
		return herr(h, "container cgroup %s contains the runtime's own "
			    "cgroup %s: refusing", h->cg.rel, own);
	h->err[0] = 0;
	return 0;
}

/* ---- per-container records ---------------------------------------------- */

static int record_write(struct hook *h)
{
	char p[PATH_MAX], tmp[PATH_MAX], buf[PATH_MAX + 256];
	int fd, n, ok;

	if ((mkdir(CG_HOOK_RUNDIR, 0755) && errno != EEXIST) ||
	    (mkdir(CG_HOOK_STATEDIR, 0700) && errno != EEXIST))
		return -errno;
	snprintf(p, sizeof(p), "%s/%s", CG_HOOK_STATEDIR, h->id);
	snprintf(tmp, sizeof(tmp), "%s/.%s.%d", CG_HOOK_STATEDIR, h->id,
		 (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "cgroup_id=%llu\ncgroup=%s\npolicy=%s\n",
		     (unsigned long long)h->cg.id, h->cg.rel, h->policy);
	ok = n < (int)sizeof(buf) && write(fd, buf, n) == n && !fsync(fd);
	close(fd);
	if (!ok || rename(tmp, p)) {
		int e = errno ? errno : EIO;

		unlink(tmp);
		return -e;
	}
	return 0;
}

/* Reads /run/cgguard/containers/ID: 0, -ENOENT, or another -errno. */
static int record_read(struct hook *h, __u64 *cgid, char *path, size_t len)
{
	char p[PATH_MAX], *buf = NULL, *line, *nl, *end;
	struct stat st;
	size_t n;
	int fd, r, have_id = 0;

	snprintf(p, sizeof(p), "%s/%s", CG_HOOK_STATEDIR, h->id);
	fd = open(p, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	r = read_all(fd, 8192, &buf, &n);
	close(fd);
	if (r)
		return r;
	path[0] = 0;
	for (line = buf; line && *line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		if (!strncmp(line, "cgroup_id=", 10)) {
			errno = 0;
			*cgid = strtoull(line + 10, &end, 10);
			have_id = !errno && !*end && *cgid;
		} else if (!strncmp(line, "cgroup=", 7)) {
			snprintf(path, len, "%s", line + 7);
		}
	}
	free(buf);
	return have_id ? 0 : -EINVAL;
}

static void record_remove(struct hook *h)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", CG_HOOK_STATEDIR, h->id);
	unlink(p);
}

/* ---- stages ------------------------------------------------------------- */

static int stage_attach(struct hook *h)
{
	struct cg_policy *p = NULL;
	struct cg_guard *g = NULL;
	char e[CG_ERR_MAX];
	int r, degraded = 0;

	if (cg_policy_load_beneath(h->policy, policy_dirs, npolicy_dirs ?
				   npolicy_dirs : 1, &p, e, sizeof(e)))
		return herr(h, "policy %s: %s", h->policy, e);
	if (resolve_cgroup(h)) {
		cg_policy_free(p);
		return -1;
	}
	if (require_caps("oci-hook")) {
		cg_policy_free(p);
		return herr(h, "missing capabilities (see above)");
	}
	cg_clearerr();
	r = cg_guard_open(&g, CG_OPEN_CREATE);
	if (!r)
		warn_pin_repairs(g);
	if (!r)
		r = cg_guard_attach_fd(g, &h->cg, h->cgfd, p, hook_fail_open ?
				       CG_ATTACH_FAIL_OPEN : 0, &degraded);
	if (r) {
		herr(h, "attaching policy %s to %s: %s", p->name, h->cg.rel,
		     *cg_lasterr() ? cg_lasterr() : strerror(-r));
		cg_guard_close(g);
		cg_policy_free(p);
		return -1;
	}
	if (degraded)
		/* Counted by the loader (cg_info.degraded), like attach. */
		fprintf(stderr, "%s: oci-hook: container %s: warning: policy "
			"'%s' applied WITHOUT its LSM part: the BPF LSM layer "
			"is unavailable on this kernel (see cgguard doctor)\n",
			prog_name, h->id, p->name);
	h->degraded = degraded;
	cg_guard_close(g);
	cg_policy_free(p);
	r = record_write(h);
	if (r)
		/* Enforcing; only poststop's shortcut is lost (it falls back
		 * to config.json, and the daemon collects removed cgroups). */
		fprintf(stderr, "%s: oci-hook: container %s: warning: cannot "
			"record %s/%s: %s\n", prog_name, h->id,
			CG_HOOK_STATEDIR, h->id, strerror(-r));
	h->action = "attached";
	return 0;
}

static int stage_detach(struct hook *h)
{
	struct cg_guard *g = NULL;
	struct cg_status st;
	char path[PATH_MAX], want[PATH_MAX];
	__u64 cgid = 0;
	int r, rec;

	h->action = "none";
	rec = record_read(h, &cgid, path, sizeof(path));
	if (rec && rec != -ENOENT)
		fprintf(stderr, "%s: oci-hook: container %s: ignoring damaged "
			"record %s/%s\n", prog_name, h->id, CG_HOOK_STATEDIR,
			h->id);
	if (rec) {
		/* No record: only containers that asked to be guarded. */
		if (!h->policy)
			return 0;
		if (config_cgroup(h, want, sizeof(want)))
			return -1;
		if (!want[0])
			return 0;	/* nothing to go by */
	}
	cg_clearerr();
	r = cg_guard_open(&g, 0);
	if (r == -ENOENT) {	/* nothing pinned: nothing to detach */
		if (!rec)
			record_remove(h);
		return 0;
	}
	if (r)
		return herr(h, "opening pinned state: %s", *cg_lasterr() ?
			    cg_lasterr() : strerror(-r));
	if (!rec) {
		/* Only if the id still names the cgroup we recorded. */
		if (!cg_guard_status(g, cgid, &st) &&
		    strcmp(st.meta.path, path)) {
			fprintf(stderr, "%s: oci-hook: container %s: cgroup "
				"id %llu is now %s, not %s; not detaching\n",
				prog_name, h->id, (unsigned long long)cgid,
				st.meta.path, path);
			r = -ENOENT;
		} else {
			r = cg_guard_detach(g, NULL, cgid);
		}
		snprintf(h->cg.rel, sizeof(h->cg.rel), "%s", path);
		h->cg.id = cgid;
	} else {
		r = cg_guard_detach(g, want, 0);
		snprintf(h->cg.rel, sizeof(h->cg.rel), "%s", want);
	}
	cg_guard_close(g);
	if (r && r != -ENOENT)
		return herr(h, "detaching %s: %s", h->cg.rel, *cg_lasterr() ?
			    cg_lasterr() : strerror(-r));
	if (!rec)
		record_remove(h);
	h->action = r ? "none" : "detached";
	return 0;
}

static void usage(void)
{
	printf("Usage: %s oci-hook [--stage createRuntime|prestart|poststop] "
	       "[--timeout-ms N] [--policy-dir DIR]... [--json]\n\n"
	       "OCI runtime hook: reads the container state JSON on stdin.\n"
	       "At createRuntime/prestart (state status \"creating\" or "
	       "\"created\") it guards the\ncontainer's cgroup with the "
	       "policy named by the annotation " ANN_POLICY "\n(no "
	       "annotation: nothing to do).  At poststop (status \"stopped\")"
	       " it detaches.\n"
	       "A failure aborts the container start unless "
	       ANN_FAIL "=open; then it is\ncounted in " CG_HOOK_FAILOPEN
	       " and the hook exits 0.\nThe hook gives up after --timeout-ms"
	       " (default %d) with the same fail mode.\n"
	       "The annotation names a built-in policy, NAME (NAME.yaml in a "
	       "policy directory)\nor a file below a policy directory: "
	       "--policy-dir (repeatable, up to %d;\ndefault " CG_POLICY_DIR
	       ").  Files are opened without following symlinks and must\n"
	       "be root's and not writable by group or others; nothing else "
	       "is read.\n"
	       "Its environment is ignored.  See deploy/README.md.\n",
	       prog_name, CG_HOOK_TIMEOUT_MS, POLICY_DIRS_MAX);
}

static uint64_t hook_t0;

/* The oci_hook_done probe: action "failed-open" or "error" on failures. */
static void usdt_done(struct hook *h, const char *action, int rc)
{
	CG_USDT(oci_hook_done, h->id ? h->id : "", h->stage_name ?
		h->stage_name : "", action, rc, cg_usdt_now() - hook_t0);
}

static void print_result(struct hook *h, int failed_open)
{
	struct json j;

	usdt_done(h, failed_open ? "failed-open" : h->action, 0);
	if (!json_output)
		return;
	jw_init(&j, stdout);
	jw_obj_start(&j);
	jw_kstr(&j, "container", h->id ? h->id : "");
	jw_kstr(&j, "stage", h->stage_name ? h->stage_name : "");
	jw_kstr(&j, "action", failed_open ? "failed-open" : h->action);
	if (h->policy)
		jw_kstr(&j, "policy", h->policy);
	if (h->cg.rel[0]) {
		jw_kstr(&j, "cgroup", h->cg.rel);
		jw_ku64(&j, "id", h->cg.id);
	}
	if (h->degraded)
		jw_kbool(&j, "degraded", 1);
	if (failed_open)
		jw_kstr(&j, "error", h->err);
	jw_obj_end(&j);
	fflush(stdout);
}

int do_oci_hook(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "stage", required_argument, NULL, 's' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "policy-dir", required_argument, NULL, 'd' },
		COMMON_LONGOPTS, { 0 } };
	static struct hook hk;
	struct hook *h = &hk;
	const char *stage_opt = NULL;
	char *buf = NULL, *end;
	size_t len;
	int opt, r, fail_open = 0;

	hook_t0 = cg_usdt_now();
	/* Nothing below reads the environment; make sure of it. */
	clearenv();
	umask(022);
	h->action = "none";
	h->cgfd = -1;
	while ((opt = getopt_long(argc, argv, "s:t:d:jh", opts, NULL)) != -1) {
		switch (opt) {
		case 's': stage_opt = optarg; break;
		case 'd':
			if (optarg[0] != '/' || npolicy_dirs == POLICY_DIRS_MAX) {
				fprintf(stderr, "%s: oci-hook: --policy-dir needs "
					"an absolute path (at most %d of them)\n",
					prog_name, POLICY_DIRS_MAX);
				return 2;
			}
			policy_dirs[npolicy_dirs++] = optarg;
			break;
		case 't':
			errno = 0;
			hook_timeout_ms = strtol(optarg, &end, 10);
			if (errno || *end || hook_timeout_ms < 1 ||
			    hook_timeout_ms > 600000) {
				fprintf(stderr, "%s: oci-hook: --timeout-ms "
					"must be 1..600000\n", prog_name);
				return 2;
			}
			break;
		case 'j': json_output = 1; break;
		case 'h': usage(); return 0;
		default: usage(); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "%s: oci-hook: unexpected argument '%s'\n",
			prog_name, argv[optind]);
		return 2;
	}
	if (stage_opt) {
		if (!strcmp(stage_opt, "createRuntime") ||
		    !strcmp(stage_opt, "prestart"))
			h->stage = ST_ATTACH;
		else if (!strcmp(stage_opt, "poststop"))
			h->stage = ST_DETACH;
		else {
			fprintf(stderr, "%s: oci-hook: --stage must be "
				"createRuntime, prestart or poststop\n",
				prog_name);
			return 2;
		}
		h->stage_name = stage_opt;
	}
	/* Until the container says otherwise, a stall fails closed. */
	if (arm_deadline(hook_timeout_ms)) {
		fprintf(stderr, "%s: oci-hook: cannot arm the deadline: %m\n",
			prog_name);
		return 1;
	}
	r = read_all(STDIN_FILENO, CG_HOOK_STATE_MAX, &buf, &len);
	if (r) {
		herr(h, "reading the state from stdin: %s", r == -EFBIG ?
		     "larger than 1 MiB (refused)" : strerror(-r));
		goto fail;
	}
	r = parse_state(h, buf, len);
	free(buf);
	if (r)
		goto fail;
	if (!h->stage) {
		const char *s = h->status ? h->status : "";

		if (!strcmp(s, "creating") || !strcmp(s, "created")) {
			h->stage = ST_ATTACH;
			h->stage_name = "createRuntime";
		} else if (!strcmp(s, "stopped")) {
			h->stage = ST_DETACH;
			h->stage_name = "poststop";
		} else {
			herr(h, "state status \"%s\" is not one this hook "
			     "handles (creating, created, stopped); use it at "
			     "createRuntime/prestart and poststop", s);
			goto fail;
		}
	}
	CG_USDT(oci_hook_start, h->id ? h->id : "", h->stage_name);
	/* config.json is needed to attach; at poststop it may be gone. */
	if (h->stage == ST_ATTACH || h->bundle) {
		r = read_config(h);
		if (r && h->stage == ST_ATTACH)
			goto fail;
		if (r)	/* poststop: the record is enough */
			h->err[0] = 0;
	}
	if (h->fail && strcmp(h->fail, "open") && strcmp(h->fail, "closed")) {
		herr(h, "%s " ANN_FAIL "=\"%s\": must be open or closed",
		     h->fail_src, h->fail);
		goto fail;
	}
	/* Fail open only concerns starting a container: a failed poststop
	 * leaves pins behind (reported, the runtime logs it), no container. */
	fail_open = h->stage == ST_ATTACH && h->fail && !strcmp(h->fail, "open");
	hook_fail_open = fail_open;
	if (h->stage == ST_ATTACH) {
		if (!h->policy) {
			print_result(h, 0);
			return 0;	/* not ours */
		}
		if (!*h->policy) {
			herr(h, "%s " ANN_POLICY " is empty", h->policy_src);
			goto fail;
		}
		r = stage_attach(h);
	} else {
		r = stage_detach(h);
	}
	if (r)
		goto fail;
	print_result(h, 0);
	return 0;
fail:
	if (fail_open) {
		hook_bumping = 1;
		r = failopen_bump(0);
		fprintf(stderr, "%s: oci-hook: container %s: %s; "
			ANN_FAIL "=open: container starts UNGUARDED%s%s%s\n",
			prog_name, h->id ? h->id : "?", h->err,
			r ? " (cannot count it in " CG_HOOK_FAILOPEN ": " : "",
			r ? strerror(-r) : "", r ? ")" : "");
		print_result(h, 1);
		return 0;
	}
	usdt_done(h, "error", 1);
	fprintf(stderr, "%s: oci-hook: %s%s%s%s\n", prog_name,
		h->id ? "container " : "", h->id ? h->id : "",
		h->id ? ": " : "", h->err);
	return 1;
}
