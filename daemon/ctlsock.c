// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Control socket: a path socket (never abstract: abstract sockets have no
 * permissions), created under umask 0177 so it is mode 0600 from the first
 * instant, in a directory that only its owner may write.  Each peer's
 * credentials are checked with SO_PEERCRED as well: only root and the
 * socket's owner are served, so a socket made reachable by a careless
 * chmod still refuses other users.
 *
 * Protocol: one JSON object per line in, one JSON value per line out.
 *   {"cmd":"status"}  daemon, config, policies (with their last load
 *                     result), bound cgroups, last reconcile
 *   {"cmd":"reload"}  config + every policy file + a full reconcile
 *   {"cmd":"list"}    guarded cgroups, like `cgguard list --json`
 * A malformed request gets {"error":"..."} and changes nothing.  Clients
 * are non-blocking and bounded in number and line length, so a stalled or
 * hostile client cannot stall the daemon.  Requests of one client are
 * answered one at a time, the next only once the previous answer has been
 * sent, so a client that writes requests and never reads holds at most one
 * answer in memory (and then no longer is read from).  `reload` requests
 * are coalesced: all those waiting share one reload, run at most every
 * CGD_RELOAD_MIN_MS, so a flood costs one reload per interval.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <json-c/json.h>
#include "daemon.h"
#include "../lib/err.h"
#include "../lib/json.h"

/* ---- socket setup ------------------------------------------------------- */

/* The socket's directory, created with @mode if missing: it must be ours
 * (or root's) and writable by no one else, or the socket could be swapped. */
static int check_dir(const char *path, mode_t mode, struct stat *st)
{
	char buf[PATH_MAX], *dir;

	snprintf(buf, sizeof(buf), "%s", path);
	dir = dirname(buf);
	if (mkdir(dir, mode) && errno != EEXIST)
		return cg_seterr(-errno, "cannot create %s: %m", dir);
	if (lstat(dir, st))
		return cg_seterr(-errno, "%s: %m", dir);
	if (!S_ISDIR(st->st_mode) || (st->st_uid && st->st_uid != geteuid()) ||
	    (st->st_mode & 022))
		return cg_seterr(-EPERM, "refusing socket directory %s: it must "
				 "be a directory owned by root or uid %u and "
				 "writable only by its owner", dir, geteuid());
	return 0;
}

/* A socket file left by a killed daemon is removed; a live one is not. */
static int clear_stale(const char *path, const struct sockaddr_un *sa, int type)
{
	struct stat st;
	int fd, live;

	if (lstat(path, &st))
		return errno == ENOENT ? 0 : cg_seterr(-errno, "%s: %m", path);
	if (!S_ISSOCK(st.st_mode))
		return cg_seterr(-EEXIST, "%s exists and is not a socket", path);
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	live = !connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (live)
		return cg_seterr(-EADDRINUSE, "another cgguard daemon is "
				 "listening on %s", path);
	return unlink(path) ? cg_seterr(-errno, "removing stale %s: %m", path) : 0;
}

int cgd_sock_bind(const char *what, const char *path, int type,
		  mode_t dir_mode, struct stat *dir_st)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old;
	int fd, err;

	if (strlen(path) >= sizeof(sa.sun_path) || path[0] != '/')
		return cg_seterr(-EINVAL, "socket path must be absolute and "
				 "shorter than %zu bytes", sizeof(sa.sun_path));
	strcpy(sa.sun_path, path);
	err = check_dir(path, dir_mode, dir_st);
	if (!err)
		err = clear_stale(path, &sa, type);
	if (err)
		return err;
	fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	old = umask(0177);	/* 0600 at creation: no window to connect */
	err = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	umask(old);
	if (err) {
		close(fd);
		return cg_seterr(err, "%s %s: %s", what, path, strerror(-err));
	}
	return fd;
}

int cgd_ctl_open(struct cgd *d)
{
	struct stat st;
	int fd, i;

	for (i = 0; i < CGD_MAX_CLIENTS; i++)
		d->cl[i].fd = -1;
	fd = cgd_sock_bind("control socket", d->socket_path, SOCK_STREAM, 0700,
			   &st);
	if (fd < 0)
		return fd;
	if (listen(fd, 16)) {
		int err = -errno;

		close(fd);
		return cg_seterr(err, "control socket %s: %s", d->socket_path,
				 strerror(-err));
	}
	d->ctl_fd = fd;
	return cgd_epoll_add(d, fd, EPOLLIN, CGD_EV_CTL);
}

static void client_close(struct cgd *d, int i)
{
	struct cgd_client *c = &d->cl[i];

	if (c->fd >= 0)
		close(c->fd);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

void cgd_ctl_close(struct cgd *d)
{
	struct stat st;
	int i;

	for (i = 0; i < CGD_MAX_CLIENTS; i++)
		if (d->cl[i].fd >= 0)
			client_close(d, i);
	if (d->ctl_fd < 0)
		return;
	close(d->ctl_fd);
	d->ctl_fd = -1;
	if (!lstat(d->socket_path, &st) && S_ISSOCK(st.st_mode))
		unlink(d->socket_path);
}

/* ---- responses ---------------------------------------------------------- */

static const char *pstate(const struct cgd_policy *p)
{
	return p->state == CGD_P_OK ? "ok" : p->state == CGD_P_ERROR ?
	       "error" : "removed";
}

static void write_policies(struct json *j, const struct cgd *d)
{
	char hash[24];
	size_t i;

	jw_key(j, "policies");
	jw_arr_start(j);
	for (i = 0; i < d->npol; i++) {
		const struct cgd_policy *p = &d->pol[i];

		jw_obj_start(j);
		jw_kstr(j, "name", p->name);
		jw_kstr(j, "file", p->file);
		jw_kbool(j, "builtin", p->builtin);
		jw_kbool(j, "loaded", !!p->p);
		jw_kstr(j, "result", pstate(p));
		if (p->state == CGD_P_ERROR)
			jw_kstr(j, "error", p->err);
		snprintf(hash, sizeof(hash), "%016llx", (unsigned long long)p->hash);
		if (p->p)
			jw_kstr(j, "hash", hash);
		jw_ku64(j, "last_load", p->last_load);
		jw_ku64(j, "loads_ok", p->n_ok);
		jw_ku64(j, "loads_error", p->n_err);
		jw_obj_end(j);
	}
	jw_arr_end(j);
}

static void write_config(struct json *j, const struct cgd *d)
{
	jw_key(j, "config");
	jw_obj_start(j);
	jw_kstr(j, "file", d->config_path);
	jw_kbool(j, "present", !d->cfg_missing);
	jw_ku64(j, "rules", d->cfg.nrules);
	jw_kstr(j, "result", d->cfg_err[0] ? "error" : "ok");
	if (d->cfg_err[0])
		jw_kstr(j, "error", d->cfg_err);
	jw_obj_end(j);
}

static void write_reconcile(struct json *j, const struct cgd_reconcile_stats *r)
{
	jw_key(j, "last_reconcile");
	jw_obj_start(j);
	jw_ku64(j, "time", r->when);
	jw_kstr(j, "why", r->why);
	jw_ku64(j, "duration_us", (uint64_t)(r->ms * 1000));
	jw_kstr(j, "result", r->err ? strerror(-r->err) : "ok");
	jw_ku64(j, "attached", r->attached);
	jw_ku64(j, "adopted", r->adopted);
	jw_ku64(j, "reattached", r->reenforced);
	jw_ku64(j, "removed", r->removed);
	jw_ku64(j, "left_to_others", r->skipped);
	jw_ku64(j, "failed", r->failed);
	jw_obj_end(j);
}

static void write_status(struct json *j, struct cgd *d)
{
	struct timespec now;
	char addr[160];
	size_t i;

	clock_gettime(CLOCK_MONOTONIC, &now);
	jw_obj_start(j);
	jw_ku64(j, "pid", getpid());
	jw_ku64(j, "started", d->started);
	jw_ku64(j, "uptime_s", now.tv_sec - d->started_mono.tv_sec);
	write_config(j, d);
	jw_kstr(j, "policy_dir", d->policy_dir);
	write_policies(j, d);
	jw_ku64(j, "cgroups_bound", cgd_bound_count(d));
	jw_key(j, "bound");
	jw_arr_start(j);
	for (i = 0; i < d->ntrk; i++) {
		if (!d->trk[i].owned[0])
			continue;
		jw_obj_start(j);
		jw_kstr(j, "cgroup", d->trk[i].path);
		jw_ku64(j, "id", d->trk[i].cgid);
		jw_kstr(j, "policy", d->trk[i].owned);
		jw_obj_end(j);
	}
	jw_arr_end(j);
	write_reconcile(j, &d->last);
	jw_ku64(j, "attaches", d->attaches);
	jw_ku64(j, "attach_failures", d->attach_failures);
	if (d->http)
		snprintf(addr, sizeof(addr), "%.*s:%d", (int)(strrchr(
			 d->metrics_addr, ':') - d->metrics_addr),
			 d->metrics_addr, d->metrics_port);
	jw_kstr(j, "metrics", d->http ? addr : "off");
	jw_kstr(j, "socket", d->socket_path);
	cgd_usock_status(j, d);
	jw_obj_end(j);
}

/* The result of the reload just run (cgd_ctl_pending). */
static void write_reload(struct json *j, struct cgd *d)
{
	size_t i;
	int ok;

	ok = !d->cfg_err[0];
	for (i = 0; i < d->npol; i++)
		ok &= d->pol[i].state != CGD_P_ERROR;
	jw_obj_start(j);
	jw_kbool(j, "ok", ok);
	write_config(j, d);
	write_policies(j, d);
	write_reconcile(j, &d->last);
	jw_obj_end(j);
}

struct list_ctx {
	struct json *j;
	struct cgd *d;
};

static int list_one(const struct cg_status *st, void *arg)
{
	struct list_ctx *lc = arg;
	struct json *j = lc->j;
	const char *owned = NULL;
	size_t i;
	int l, e;

	for (i = 0; i < lc->d->ntrk; i++)
		if (lc->d->trk[i].cgid == st->cgid && lc->d->trk[i].owned[0])
			owned = lc->d->trk[i].owned;
	jw_obj_start(j);
	jw_kstr(j, "cgroup", st->meta.path);
	jw_ku64(j, "id", st->cgid);
	jw_kstr(j, "policy", st->slot.name);
	jw_kstr(j, "source", st->slot.source);
	jw_kstr(j, "mode", st->slot.mode ? "audit" : "enforce");
	jw_kbool(j, "cgroup_exists", st->cgroup_exists);
	jw_kstr(j, "fail", st->meta.flags & CG_CGF_FAIL_OPEN ? "open" : "closed");
	jw_kbool(j, "degraded", !!(st->meta.flags & CG_CGF_DEGRADED));
	jw_kbool(j, "daemon_bound", !!owned);
	jw_key(j, "layers");
	jw_obj_start(j);
	for (l = 0; l < CGD_NLAYERS; l++) {
		e = cgd_layer_enforced(st, l);
		jw_key(j, cgd_layers[l].name);
		jw_obj_start(j);
		jw_kbool(j, "available", e >= 0);
		jw_kbool(j, "enforced", e > 0);
		jw_obj_end(j);
	}
	jw_obj_end(j);
	jw_obj_end(j);
	return 0;
}

static void write_list(struct json *j, struct cgd *d)
{
	struct list_ctx lc = { j, d };
	struct cg_guard *g;
	int err;

	cg_clearerr();
	err = cg_guard_open(&g, CG_OPEN_RDONLY);
	if (err && err != -ENOENT) {
		jw_obj_start(j);
		jw_kstr(j, "error", *cg_lasterr() ? cg_lasterr() : strerror(-err));
		jw_obj_end(j);
		return;
	}
	jw_arr_start(j);
	if (!err) {
		cg_guard_foreach(g, list_one, &lc);
		cg_guard_close(g);
	}
	jw_arr_end(j);
}

static void write_error(struct json *j, const char *msg)
{
	jw_obj_start(j);
	jw_kstr(j, "error", msg);
	jw_obj_end(j);
}

/* Parses one request line strictly (RFC 8259, one object, only "cmd"). */
const char *cgd_ctl_parse_request(const char *line, size_t len, char *err,
				 size_t errlen)
{
	static const char *const cmds[] = { "status", "reload", "list",
					    "monitor" };
	struct json_tokener *tok = json_tokener_new();
	json_object *o = NULL, *cmd = NULL;
	const char *ret = NULL, *s;
	size_t i;

	if (!tok) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, line, len);
	if (!o || json_tokener_get_parse_end(tok) != len)
		snprintf(err, errlen, "malformed JSON request (%s): send "
			 "{\"cmd\":\"status|reload|list|monitor\"}",
			 o ? "trailing data" : json_tokener_error_desc(
			 json_tokener_get_error(tok)));
	else if (!json_object_is_type(o, json_type_object) ||
		 json_object_object_length(o) != 1 ||
		 !json_object_object_get_ex(o, "cmd", &cmd) ||
		 !json_object_is_type(cmd, json_type_string))
		snprintf(err, errlen, "a request is {\"cmd\":NAME} and nothing "
			 "else");
	else {
		s = json_object_get_string(cmd);
		for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]) && !ret; i++)
			if (!strcmp(s, cmds[i]))
				ret = cmds[i];
		if (!ret)
			snprintf(err, errlen, "unknown cmd '%.64s' (status, "
				 "reload, list, monitor)", s);
	}
	json_object_put(o);
	json_tokener_free(tok);
	return ret;
}

/* Queues the answer to one request (a reload waits for the shared one). */
static void answer(struct cgd *d, struct cgd_client *c, const char *line,
		   size_t len, int reloaded)
{
	char err[256], *buf = NULL, *t;
	size_t blen = 0;
	const char *cmd = reloaded ? "reload" :
			  cgd_ctl_parse_request(line, len, err, sizeof(err));
	FILE *f;
	struct json j;

	if (cmd && !strcmp(cmd, "reload") && !reloaded) {
		c->want_reload = 1;
		return;
	}
	f = open_memstream(&buf, &blen);
	if (!f)
		return;
	jw_init(&j, f);
	if (!cmd)
		write_error(&j, err);
	else if (!strcmp(cmd, "status"))
		write_status(&j, d);
	else if (!strcmp(cmd, "reload"))
		write_reload(&j, d);
	else if (!strcmp(cmd, "monitor"))
		cgd_events_subscribe(d, c, f);
	else
		write_list(&j, d);
	if (cmd)
		cgd_log(CGD_DEBUG, "control socket: %s", cmd);
	fclose(f);
	t = realloc(c->out, c->outlen + blen);
	if (t) {
		memcpy(t + c->outlen, buf, blen);
		c->out = t;
		c->outlen += blen;
	}
	free(buf);
}

/* ---- client I/O --------------------------------------------------------- */

/* Nothing queued, nothing waited for: the next request may be answered. */
static int idle(const struct cgd_client *c)
{
	return !c->outlen && !c->want_reload;
}

/* Answers buffered requests while idle: one answer in memory at most. */
static void serve_lines(struct cgd *d, struct cgd_client *c)
{
	static const char big[] = "{\"error\":\"request line too long\"}\n";
	char *nl;
	size_t len;

	while (idle(c) && c->inlen) {
		nl = memchr(c->in, '\n', c->inlen);
		if (!nl && c->closing) {	/* a last line without '\n' */
			answer(d, c, c->in, c->inlen, 0);
			c->inlen = 0;
			break;
		}
		if (!nl && c->inlen == sizeof(c->in)) {
			c->out = strdup(big);
			c->outlen = c->out ? strlen(big) : 0;
			c->inlen = 0;
			c->closing = 1;
			break;
		}
		if (!nl)
			break;
		len = nl - c->in;
		answer(d, c, c->in, len, 0);
		memmove(c->in, nl + 1, c->inlen - len - 1);
		c->inlen -= len + 1;
	}
}

static void flush_out(struct cgd *d, int i)
{
	struct cgd_client *c = &d->cl[i];
	struct epoll_event ev = { .data.u64 = CGD_EV_CLIENT + i };
	ssize_t n;

	serve_lines(d, c);
	while (c->outlen) {
		n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) {
			client_close(d, i);
			return;
		}
		c->outoff += n;
		if (c->outoff == c->outlen) {
			free(c->out);
			c->out = NULL;
			c->outlen = c->outoff = 0;
			serve_lines(d, c);
		}
	}
	if (c->closing && idle(c) && !c->inlen) {
		client_close(d, i);
		return;
	}
	/* Read more only when idle: a client that does not read what it
	 * asked for stops being read, and its own writes block. */
	ev.events = (c->outlen ? EPOLLOUT : 0) |
		    (idle(c) && !c->closing ? EPOLLIN : 0);
	epoll_ctl(d->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void read_in(struct cgd *d, int i)
{
	struct cgd_client *c = &d->cl[i];
	ssize_t n;

	if (c->inlen == sizeof(c->in))
		return;
	n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen,
		 MSG_DONTWAIT);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0)
		c->closing = 1;	/* answer what came, then close */
	else
		c->inlen += n;
}

void cgd_ctl_send(struct cgd *d, int i, const char *buf, size_t len)
{
	struct cgd_client *c = &d->cl[i];
	char *t = realloc(c->out, c->outlen + len);

	if (!t)
		return;
	memcpy(t + c->outlen, buf, len);
	c->out = t;
	c->outlen += len;
	flush_out(d, i);
}

void cgd_ctl_event(struct cgd *d, int i, uint32_t events)
{
	if (i < 0 || i >= CGD_MAX_CLIENTS || d->cl[i].fd < 0)
		return;
	if (events & EPOLLIN)
		read_in(d, i);
	if ((events & (EPOLLERR | EPOLLHUP)) && !(events & EPOLLIN)) {
		/* Gone for good: nobody to answer (and a level-triggered
		 * hang-up would wake the loop until the shared reload). */
		if (d->cl[i].want_reload) {
			client_close(d, i);
			return;
		}
		d->cl[i].closing = 1;
	}
	flush_out(d, i);
}

static long ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t->tv_sec) * 1000L +
	       (now.tv_nsec - t->tv_nsec) / 1000000L;
}

int cgd_ctl_timeout_ms(const struct cgd *d)
{
	long left;
	int i;

	for (i = 0; i < CGD_MAX_CLIENTS; i++)
		if (d->cl[i].fd >= 0 && d->cl[i].want_reload)
			break;
	if (i == CGD_MAX_CLIENTS)
		return -1;
	left = CGD_RELOAD_MIN_MS - ms_since(&d->ctl_reload_at);
	return left < 0 ? 0 : (int)left;
}

void cgd_ctl_pending(struct cgd *d)
{
	int i;

	if (cgd_ctl_timeout_ms(d) != 0)
		return;		/* nobody waiting, or not due yet */
	cgd_reload(d, "ctl reload", 1);
	clock_gettime(CLOCK_MONOTONIC, &d->ctl_reload_at);
	for (i = 0; i < CGD_MAX_CLIENTS; i++) {
		if (d->cl[i].fd < 0 || !d->cl[i].want_reload)
			continue;
		d->cl[i].want_reload = 0;
		answer(d, &d->cl[i], NULL, 0, 1);
		flush_out(d, i);
	}
}

static int peer_allowed(struct cgd *d, int fd, struct ucred *uc)
{
	socklen_t len = sizeof(*uc);
	struct stat st;
	uid_t owner = geteuid();

	if (!stat(d->socket_path, &st))
		owner = st.st_uid;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, uc, &len))
		return 0;
	return uc->uid == 0 || uc->uid == owner;
}

void cgd_ctl_accept(struct cgd *d)
{
	static const char busy[] = "{\"error\":\"too many control clients\"}\n";
	char msg[160];
	struct ucred uc = {};
	int fd, i;

	while ((fd = accept4(d->ctl_fd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		if (!peer_allowed(d, fd, &uc)) {
			cgd_log(CGD_WARN, "control socket: refused pid %d uid "
				"%u (only root or the socket owner)", uc.pid,
				uc.uid);
			snprintf(msg, sizeof(msg), "{\"error\":\"permission "
				 "denied: uid %u is not root or the socket "
				 "owner\"}\n", uc.uid);
			send(fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT);
			close(fd);
			continue;
		}
		for (i = 0; i < CGD_MAX_CLIENTS && d->cl[i].fd >= 0; i++)
			;
		if (i == CGD_MAX_CLIENTS ||
		    cgd_epoll_add(d, fd, EPOLLIN, CGD_EV_CLIENT + i)) {
			send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			close(fd);
			continue;
		}
		memset(&d->cl[i], 0, sizeof(d->cl[i]));
		d->cl[i].fd = fd;
	}
}
