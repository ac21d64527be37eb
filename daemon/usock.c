// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The unprivileged control socket (unpriv.h has the protocol).
 *
 * SOCK_SEQPACKET keeps one request per message and lets a reply carry an
 * fd (SCM_RIGHTS) without any framing of our own.  Everything is
 * non-blocking: a request is read, judged and answered in one go; a
 * client whose receive buffer is full (it does not read its replies) is
 * dropped rather than buffered for.  The number of clients is bounded,
 * per uid too, and idle ones are reaped, so no local user can crowd out
 * the others or stall the daemon.
 *
 * The peer's credentials are read from the kernel (SO_PEERCRED, and
 * SO_PEERGROUPS for supplementary groups: both are the connect()-time
 * credentials, which the peer cannot change afterwards) and matched
 * against the current config on every request.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include "daemon.h"
#include "../lib/unixconn.h"
#include "../lib/err.h"

struct cgd_uclient {
	int fd;				/* -1: free */
	uid_t uid;
	time_t last;			/* CLOCK_MONOTONIC of the last request */
};

struct cgd_usock {
	int fd;
	char path[PATH_MAX];
	struct cgd_uclient cl[CGD_UP_MAX_CLIENTS];
	uint64_t requests, refused, malformed;
};

static const char *const sf_keys[] = { "policy", NULL };
static const char *const no_keys[] = { NULL };
static const char *const attach_keys[] = { "cgroup", "policy", "policy_fd",
					   "fail", NULL };
static const char *const detach_keys[] = { "cgroup", NULL };

static int do_hello(struct cgd *d, const struct cgd_caller *who,
		    json_object *req, struct json *out, int *fd_out,
		    char *err, size_t errlen);

/* The requests of the unprivileged socket.  Part 2 adds attach/detach. */
const struct cgd_ucmd cgd_ucmds[] = {
	{ "hello",  do_hello,      no_keys },	/* what may this caller do */
	{ "filter", cgd_sf_handle, sf_keys },	/* a socket filter by fd */
	{ "attach", cgd_deleg_attach, attach_keys },	/* delegate.c */
	{ "detach", cgd_deleg_detach, detach_keys },
	{ NULL, NULL, NULL },
};

static time_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* ---- setup -------------------------------------------------------------- */

/*
 * The socket's directory must be root's (or ours) and writable by nobody
 * else (cgd_sock_bind checks); unprivileged callers need to traverse it,
 * so o+x (or g+x for the configured group) is added when missing.
 * Listing is never granted.
 */
static int grant_search(const char *path, const struct stat *st, gid_t gid,
		    int have_group)
{
	char buf[PATH_MAX], *dir;
	mode_t want = have_group ? 0010 : 0001;

	snprintf(buf, sizeof(buf), "%s", path);
	dir = dirname(buf);
	if (have_group && !(st->st_mode & 0001) && st->st_gid != gid)
		want = 0001;	/* the group cannot search a dir it isn't on */
	if ((st->st_mode & want) != want && chmod(dir, (st->st_mode | want) & 07777))
		return cg_seterr(-errno, "chmod %s: %m", dir);
	return 0;
}

static int bind_socket(struct cgd_usock *us, const struct cgd_unpriv_cfg *c)
{
	struct stat st;
	int fd, err;

	fd = cgd_sock_bind("unprivileged socket", us->path, SOCK_SEQPACKET,
			   0711, &st);
	if (fd < 0)
		return fd;
	err = grant_search(us->path, &st, c->gid, !!c->group[0]);
	if (err) {
		close(fd);
		unlink(us->path);
		return err;
	}
	/* Only its owner can replace the socket file: the directory is ours
	 * and not writable by others, so path-based chown/chmod are safe. */
	if (c->group[0] && chown(us->path, -1, c->gid))
		err = -errno;
	if (!err && chmod(us->path, c->group[0] ? 0660 : 0666))
		err = -errno;
	if (!err && listen(fd, 16))
		err = -errno;
	if (err) {
		close(fd);
		unlink(us->path);
		return cg_seterr(err, "unprivileged socket %s: %s", us->path,
				 strerror(-err));
	}
	return fd;
}

int cgd_usock_open(struct cgd *d)
{
	const struct cgd_unpriv_cfg *c = &d->cfg.up;
	struct cgd_usock *us;
	int i, fd;

	if (!strcmp(c->socket, "off"))
		return 0;
	us = calloc(1, sizeof(*us));
	if (!us)
		return -ENOMEM;
	for (i = 0; i < CGD_UP_MAX_CLIENTS; i++)
		us->cl[i].fd = -1;
	snprintf(us->path, sizeof(us->path), "%s",
		 c->socket[0] ? c->socket : CGD_USOCKET);
	fd = bind_socket(us, c);
	if (fd < 0) {
		free(us);
		return fd;
	}
	us->fd = fd;
	d->us = us;
	cgd_log(CGD_INFO, "unprivileged socket %s (mode %s), %zu entr%s in "
		"unprivileged:", us->path, c->group[0] ? "0660" : "0666",
		c->n, c->n == 1 ? "y" : "ies");
	return cgd_epoll_add(d, fd, EPOLLIN, CGD_EV_UCTL);
}

static void uclient_close(struct cgd_usock *us, int i)
{
	if (us->cl[i].fd >= 0)
		close(us->cl[i].fd);
	us->cl[i].fd = -1;
}

void cgd_usock_close(struct cgd *d)
{
	struct cgd_usock *us = d->us;
	struct stat st;
	int i;

	if (!us)
		return;
	for (i = 0; i < CGD_UP_MAX_CLIENTS; i++)
		uclient_close(us, i);
	close(us->fd);
	if (!lstat(us->path, &st) && S_ISSOCK(st.st_mode))
		unlink(us->path);
	free(us);
	d->us = NULL;
}

void cgd_usock_status(struct json *j, const struct cgd *d)
{
	const struct cgd_usock *us = d->us;

	jw_key(j, "unprivileged");
	jw_obj_start(j);
	jw_kstr(j, "socket", us ? us->path : "off");
	jw_ku64(j, "entries", d->cfg.up.n);
	jw_ku64(j, "requests", us ? us->requests : 0);
	jw_ku64(j, "refused", us ? us->refused : 0);
	jw_ku64(j, "malformed", us ? us->malformed : 0);
	jw_obj_end(j);
}

/* ---- clients ------------------------------------------------------------ */

/* The least recently active client (to make room), or -1. */
static int idlest(const struct cgd_usock *us)
{
	int i, best = -1;

	for (i = 0; i < CGD_UP_MAX_CLIENTS; i++)
		if (us->cl[i].fd >= 0 &&
		    (best < 0 || us->cl[i].last < us->cl[best].last))
			best = i;
	return best;
}

static void refuse_conn(int fd, const char *msg)
{
	send(fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

void cgd_usock_accept(struct cgd *d)
{
	struct cgd_usock *us = d->us;
	struct ucred uc;
	socklen_t len;
	int fd, i, n, slot;

	while (us && (fd = accept4(us->fd, NULL, NULL,
				   SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		len = sizeof(uc);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len)) {
			close(fd);
			continue;
		}
		for (i = 0, n = 0, slot = -1; i < CGD_UP_MAX_CLIENTS; i++) {
			if (us->cl[i].fd < 0 && slot < 0)
				slot = i;
			n += us->cl[i].fd >= 0 && us->cl[i].uid == uc.uid;
		}
		if (n >= CGD_UP_PER_UID) {
			refuse_conn(fd, "{\"ok\":false,\"errno\":11,\"error\":"
				    "\"too many connections from this uid\"}");
			continue;
		}
		if (slot < 0) {		/* full: the idlest client makes room */
			slot = idlest(us);
			epoll_ctl(d->epfd, EPOLL_CTL_DEL, us->cl[slot].fd, NULL);
			uclient_close(us, slot);
		}
		if (cgd_epoll_add(d, fd, EPOLLIN, CGD_EV_UCLIENT + slot)) {
			close(fd);
			continue;
		}
		us->cl[slot] = (struct cgd_uclient){ fd, uc.uid, mono_now() };
	}
}

void cgd_usock_reap(struct cgd *d)
{
	time_t now = mono_now();
	int i;

	for (i = 0; d->us && i < CGD_UP_MAX_CLIENTS; i++)
		if (d->us->cl[i].fd >= 0 &&
		    now - d->us->cl[i].last > CGD_UP_IDLE_S)
			uclient_close(d->us, i);
}

/* SO_PEERCRED and SO_PEERGROUPS, read again for every request. */
static int read_caller(int fd, struct cgd_caller *who)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);

	memset(who, 0, sizeof(*who));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len))
		return -errno;
	who->pid = uc.pid;
	who->uid = uc.uid;
	who->gid = uc.gid;
	len = sizeof(who->groups);
	/* ERANGE: more groups than we look at; the first ones still count
	 * (a match on fewer groups only ever refuses more). */
	if (!getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, who->groups, &len) ||
	    errno == ERANGE)
		who->ngroups = len / sizeof(gid_t) > CGD_UP_GROUPS_MAX ?
			       CGD_UP_GROUPS_MAX : len / sizeof(gid_t);
	return 0;
}

const char *cgd_ureq_str(json_object *req, const char *key, size_t max,
			 char *err, size_t errlen)
{
	json_object *v;
	const char *s;

	if (!json_object_object_get_ex(req, key, &v) ||
	    !json_object_is_type(v, json_type_string)) {
		snprintf(err, errlen, "request needs \"%s\": a string", key);
		return NULL;
	}
	s = json_object_get_string(v);
	if (!*s || strlen(s) > max || memchr(s, 0, json_object_get_string_len(v))) {
		snprintf(err, errlen, "\"%s\": empty, too long (max %zu) or "
			 "with a NUL byte", key, max);
		return NULL;
	}
	return s;
}

/* Strict JSON, one object, a known "cmd", no keys the command does not
 * take.  Returns the command or NULL with @err set. */
static const struct cgd_ucmd *parse_req(const char *buf, size_t len,
					json_object **out, char *err,
					size_t errlen)
{
	struct json_tokener *tok = json_tokener_new();
	const struct cgd_ucmd *c = NULL;
	json_object *o, *cmd;
	const char *const *k;
	size_t nk = 1;

	if (!tok)
		return snprintf(err, errlen, "out of memory"), NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, buf, len);
	if (!o || json_tokener_get_parse_end(tok) != len)
		snprintf(err, errlen, "malformed JSON request (%s)", o ?
			 "trailing data" : json_tokener_get_error(tok) ==
			 json_tokener_continue ? "incomplete" :
			 json_tokener_error_desc(json_tokener_get_error(tok)));
	else if (!json_object_is_type(o, json_type_object) ||
		 !json_object_object_get_ex(o, "cmd", &cmd) ||
		 !json_object_is_type(cmd, json_type_string))
		snprintf(err, errlen, "a request is {\"cmd\":NAME, ...}");
	else {
		for (c = cgd_ucmds; c->name; c++)
			if (!strcmp(c->name, json_object_get_string(cmd)))
				break;
		if (!c->name) {
			snprintf(err, errlen, "unknown cmd '%.64s' (hello, "
				 "filter)", json_object_get_string(cmd));
			c = NULL;
		}
	}
	for (k = c ? c->keys : NULL; k && *k; k++)
		nk += json_object_object_get_ex(o, *k, NULL);
	if (c && (size_t)json_object_object_length(o) != nk) {
		snprintf(err, errlen, "request %s: unknown key (it takes cmd%s%s)",
			 c->name, c->keys[0] ? ", " : "",
			 c->keys[0] ? c->keys[0] : "");
		c = NULL;
	}
	json_tokener_free(tok);
	if (!c)
		json_object_put(o);
	else
		*out = o;
	return c;
}

static int do_hello(struct cgd *d, const struct cgd_caller *who,
		    json_object *req, struct json *out, int *fd_out,
		    char *err, size_t errlen)
{
	const struct cg_unpriv_entry *e = who->entry;
	size_t i;

	(void)d; (void)req; (void)fd_out; (void)err; (void)errlen;
	jw_ku64(out, "uid", who->uid);
	jw_ku64(out, "gid", who->gid);
	jw_ku64(out, "entry_line", e->line);
	jw_key(out, "policies");
	jw_arr_start(out);
	for (i = 0; i < e->npolicies; i++)
		jw_str(out, e->policies[i]);
	jw_arr_end(out);
	jw_kbool(out, "files", e->files);
	jw_kstr(out, "subtree", e->subtree);
	return 0;
}

/* ---- one request -------------------------------------------------------- */

static int send_reply(int fd, const char *buf, size_t len, int pass_fd)
{
	return cg_send_fd(fd, buf, len, pass_fd, MSG_NOSIGNAL | MSG_DONTWAIT) ?
	       -EIO : 0;
}

static void write_error(FILE *f, int err, const char *msg)
{
	struct json j;

	jw_init(&j, f);
	jw_obj_start(&j);
	jw_kbool(&j, "ok", 0);
	jw_ku64(&j, "errno", -err);
	jw_kstr(&j, "error", msg && *msg ? msg : strerror(-err));
	jw_obj_end(&j);
}

/*
 * Judges and runs one request; returns the reply in a malloc'd buffer
 * (*fd_out: an fd to pass, or -1).  *close_after: drop the client.
 */
static char *run_request(struct cgd *d, struct cgd_caller *who,
			 const char *buf, size_t len, int *fd_out,
			 size_t *rlen, int *close_after)
{
	const struct cgd_ucmd *c = NULL;
	json_object *req = NULL;
	char err[512] = "", *out = NULL;
	FILE *f = open_memstream(&out, rlen);
	struct json j;
	int ret = -EINVAL;

	if (!f)
		return NULL;
	who->entry = cgd_unpriv_match_caller(&d->cfg, who);
	if (!who->entry) {
		ret = -EACCES;
		*close_after = 1;
		d->us->refused++;
		snprintf(err, sizeof(err), "permission denied: uid %u (gid %u) "
			 "is not in the daemon's unprivileged: config",
			 who->uid, who->gid);
		cgd_log(CGD_WARN, "unprivileged socket: refused pid %d uid %u "
			"gid %u: not in unprivileged: of %s", who->pid,
			who->uid, who->gid, d->config_path);
	} else if (!(c = parse_req(buf, len, &req, err, sizeof(err)))) {
		d->us->malformed++;
		cgd_log(CGD_WARN, "unprivileged socket: uid %u pid %d: %s",
			who->uid, who->pid, err);
	} else {
		jw_init(&j, f);
		jw_obj_start(&j);
		jw_kbool(&j, "ok", 1);
		ret = c->fn(d, who, req, &j, fd_out, err, sizeof(err));
		if (!ret)
			jw_kbool(&j, "fd", *fd_out >= 0);
		jw_obj_end(&j);
		json_object_put(req);
	}
	fclose(f);
	if (ret) {	/* discard whatever a handler wrote */
		free(out);
		out = NULL;
		f = open_memstream(&out, rlen);
		if (!f)
			return NULL;
		write_error(f, ret, err);
		fclose(f);
	}
	return out;
}

static void handle_msg(struct cgd *d, int i)
{
	struct cgd_uclient *cl = &d->us->cl[i];
	char buf[CGD_UP_REQ_MAX], ctl[CMSG_SPACE(16 * sizeof(int))];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	struct cgd_caller who;
	int fd_out = -1, close_after = 0, toolong, in_fd;
	size_t rlen = 0;
	ssize_t n;
	char *reply;

	n = recvmsg(cl->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		uclient_close(d->us, i);
		return;
	}
	/* One fd at most (a policy file for "attach"): more make it too long. */
	in_fd = cg_take_fd(&mh, &toolong);
	cl->last = mono_now();
	d->us->requests++;
	toolong |= mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC);
	if (read_caller(cl->fd, &who)) {
		if (in_fd >= 0)
			close(in_fd);
		uclient_close(d->us, i);
		return;
	}
	who.in_fd = in_fd;
	if (toolong) {
		d->us->malformed++;
		reply = strdup("{\"ok\":false,\"errno\":7,\"error\":\"request "
			       "larger than 4096 bytes, or carrying more than "
			       "one fd\"}");
		rlen = reply ? strlen(reply) : 0;
	} else {
		reply = run_request(d, &who, buf, n, &fd_out, &rlen,
				    &close_after);
	}
	if (!reply || send_reply(cl->fd, reply, rlen, fd_out))
		close_after = 1;	/* not reading its replies: dropped */
	free(reply);
	if (fd_out >= 0)
		close(fd_out);
	if (in_fd >= 0)
		close(in_fd);
	if (close_after)
		uclient_close(d->us, i);
}

void cgd_usock_event(struct cgd *d, int i, uint32_t events)
{
	if (!d->us || i < 0 || i >= CGD_UP_MAX_CLIENTS || d->us->cl[i].fd < 0)
		return;
	if (events & EPOLLIN)
		handle_msg(d, i);
	else if (events & (EPOLLERR | EPOLLHUP))
		uclient_close(d->us, i);
}
