// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The daemon's life: setup, the epoll loop, reloads, teardown.
 *
 * Work is queued by the event handlers (new cgroups, "something was
 * removed", "rescan everything") and done once per loop iteration, so a
 * burst of inotify events costs one pass over the pinned state.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include "daemon.h"
#include "../cgroup/cgroup.h"
#include "../lib/err.h"

#define POL_MASK (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | \
		  IN_CREATE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

int cgd_epoll_add(struct cgd *d, int fd, uint32_t events, uint64_t tag)
{
	struct epoll_event ev = { .events = events, .data.u64 = tag };

	return epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

void cgd_init(struct cgd *d)
{
	int i;

	memset(d, 0, sizeof(*d));
	for (i = 0; i < CGD_MAX_CLIENTS; i++)
		d->cl[i].fd = -1;
	d->pol_ifd = d->pol_wd = d->cg_ifd = -1;
	d->epfd = d->sig_fd = d->timer_fd = d->ctl_fd = d->ev_fd = -1;
	snprintf(d->config_path, sizeof(d->config_path), "%s", CGD_CONFIG);
	snprintf(d->policy_dir, sizeof(d->policy_dir), "%s", CG_POLICY_DIR);
	snprintf(d->socket_path, sizeof(d->socket_path), "%s", CGD_SOCKET);
	snprintf(d->metrics_addr, sizeof(d->metrics_addr), "%s", CGD_METRICS);
	d->interval_s = CGD_INTERVAL_S;
	d->started = time(NULL);
	clock_gettime(CLOCK_MONOTONIC, &d->started_mono);
}

/* Takes a scalar from the config unless the command line gave it. */
static void take(struct cgd *d, const struct cgd_config *c, unsigned bit,
		 char *dst, const char *src, size_t len, int first)
{
	if (!(c->set & bit) || (d->cli_set & bit))
		return;
	if (!first && strcmp(dst, src)) {
		cgd_log(CGD_WARN, "config: a changed %s takes effect when the "
			"daemon restarts", bit == CGD_SET_POLICY_DIR ?
			"policy_dir" : bit == CGD_SET_SOCKET ? "socket" :
			"metrics address");
		return;
	}
	snprintf(dst, len, "%s", src);
}

static void arm_timer(struct cgd *d)
{
	struct itimerspec its = { { d->interval_s, 0 }, { d->interval_s, 0 } };

	if (d->timer_fd >= 0)
		timerfd_settime(d->timer_fd, 0, &its, NULL);
}

static void apply_config(struct cgd *d, struct cgd_config *nc, int first)
{
	take(d, nc, CGD_SET_POLICY_DIR, d->policy_dir, nc->policy_dir,
	     sizeof(d->policy_dir), first);
	take(d, nc, CGD_SET_SOCKET, d->socket_path, nc->socket,
	     sizeof(d->socket_path), first);
	take(d, nc, CGD_SET_METRICS, d->metrics_addr, nc->metrics,
	     sizeof(d->metrics_addr), first);
	if ((nc->set & CGD_SET_LOG_LEVEL) && !(d->cli_set & CGD_SET_LOG_LEVEL))
		cgd_log_level = nc->log_level;
	if ((nc->set & CGD_SET_INTERVAL) && !(d->cli_set & CGD_SET_INTERVAL) &&
	    nc->interval_s != d->interval_s) {
		d->interval_s = nc->interval_s;
		arm_timer(d);
	}
	cgd_config_free(&d->cfg);
	d->cfg = *nc;
	memset(nc, 0, sizeof(*nc));
}

int cgd_load_config(struct cgd *d, int first)
{
	struct cgd_config nc;
	char err[CG_ERR_MAX];
	int missing, ret;

	ret = cgd_config_load(d->config_path, &nc, &missing, err, sizeof(err));
	if (ret) {
		d->config_reloads_err++;
		snprintf(d->cfg_err, sizeof(d->cfg_err), "%s", err);
		cgd_log(CGD_ERR, "config rejected%s: %s", first ? "" :
			", keeping the previous rules", err);
		return ret;
	}
	d->config_reloads_ok++;
	d->cfg_err[0] = 0;
	d->cfg_missing = missing;
	memset(&d->cfg_st, 0, sizeof(d->cfg_st));
	stat(d->config_path, &d->cfg_st);
	apply_config(d, &nc, first);
	if (missing)
		cgd_log(CGD_INFO, "config %s does not exist: no rules",
			d->config_path);
	else
		cgd_log(CGD_INFO, "config %s: %zu rule(s)", d->config_path,
			d->cfg.nrules);
	return 0;
}

/* ---- policy directory --------------------------------------------------- */

static void watch_policy_dir(struct cgd *d)
{
	if (d->pol_ifd < 0) {
		d->pol_ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (d->pol_ifd < 0 ||
		    cgd_epoll_add(d, d->pol_ifd, EPOLLIN, CGD_EV_POLDIR)) {
			cgd_log(CGD_ERR, "inotify for policies: %m");
			return;
		}
	}
	d->pol_wd = inotify_add_watch(d->pol_ifd, d->policy_dir, POL_MASK);
	/* Warn once, not on every retry; say when it works again. */
	if (d->pol_wd < 0 && !d->pol_warned++)
		cgd_log(CGD_WARN, "cannot watch policy directory %s: %m (retried "
			"every %d s)", d->policy_dir, d->interval_s);
	else if (d->pol_wd >= 0 && d->pol_warned)
		cgd_log(CGD_INFO, "watching policy directory %s", d->policy_dir);
	if (d->pol_wd >= 0)
		d->pol_warned = 0;
}

static void policy_event(struct cgd *d, const struct inotify_event *ev,
			 int *changed)
{
	char path[PATH_MAX];
	struct stat st;

	if (ev->mask & IN_Q_OVERFLOW) {
		cgd_policies_scan(&d->pol, &d->npol, d->policy_dir, 0, changed);
		return;
	}
	if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
		if (ev->wd == d->pol_wd && (ev->mask & IN_IGNORED))
			d->pol_wd = -1;
		cgd_policies_scan(&d->pol, &d->npol, d->policy_dir, 0, changed);
		return;
	}
	if (!ev->len)
		return;
	/* A created regular file is loaded on its IN_CLOSE_WRITE, not empty;
	 * a symlink (or k8s ..data) has no write to wait for. */
	if ((ev->mask & IN_CREATE) && strncmp(ev->name, "..", 2) &&
	    (snprintf(path, sizeof(path), "%s/%s", d->policy_dir, ev->name) >=
	     (int)sizeof(path) || lstat(path, &st) || !S_ISLNK(st.st_mode)))
		return;
	cgd_policy_event(&d->pol, &d->npol, d->policy_dir, ev->name, changed);
}

static void policy_events(struct cgd *d)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	int changed = 0;
	ssize_t n;
	char *p;

	while ((n = read(d->pol_ifd, buf, sizeof(buf))) > 0)
		for (p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			policy_event(d, ev, &changed);
		}
	if (changed)
		d->need_full = 1;	/* re-attaches what changed, only that */
}

int cgd_reload(struct cgd *d, const char *why, int force)
{
	int changed = 0;

	cgd_log(CGD_INFO, "reloading (%s)", why);
	if (!cgd_load_config(d, 0))
		cgd_cgw_reset(d);	/* the rules may watch other places */
	if (d->pol_wd < 0)
		watch_policy_dir(d);
	cgd_policies_scan(&d->pol, &d->npol, d->policy_dir, force, &changed);
	cgd_sf_refresh(d);	/* handed-out socket filters follow too */
	return cgd_reconcile_full(d, why);
}

/* ---- loop --------------------------------------------------------------- */

static int config_changed(struct cgd *d)
{
	struct stat st = {};

	stat(d->config_path, &st);
	return st.st_ino != d->cfg_st.st_ino || st.st_dev != d->cfg_st.st_dev ||
	       st.st_size != d->cfg_st.st_size ||
	       st.st_mtim.tv_sec != d->cfg_st.st_mtim.tv_sec ||
	       st.st_mtim.tv_nsec != d->cfg_st.st_mtim.tv_nsec;
}

static void on_timer(struct cgd *d)
{
	uint64_t ticks;
	int changed = 0;

	if (read(d->timer_fd, &ticks, sizeof(ticks)) < 0)
		return;
	cgd_events_refresh(d);
	cgd_usock_reap(d);
	/* Picks up a ConfigMap update (a symlink swap) without inotify. */
	if (config_changed(d)) {
		cgd_reload(d, "config file changed", 0);
		return;
	}
	if (d->pol_wd < 0) {
		watch_policy_dir(d);
		cgd_policies_scan(&d->pol, &d->npol, d->policy_dir, 0, &changed);
	}
	cgd_reconcile_full(d, "periodic");
}

static void on_signal(struct cgd *d)
{
	struct signalfd_siginfo si;

	while (read(d->sig_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			cgd_reload(d, "SIGHUP", 1);
			continue;
		}
		cgd_log(CGD_INFO, "%s: stopping; enforcement continues (the "
			"pinned programs need no daemon)", strsignal(si.ssi_signo));
		d->stop = 1;
	}
}

static void dispatch(struct cgd *d, uint64_t tag, uint32_t events)
{
	switch (tag) {
	case CGD_EV_SIG: on_signal(d); break;
	case CGD_EV_TIMER: on_timer(d); break;
	case CGD_EV_POLDIR: policy_events(d); break;
	case CGD_EV_CGW:
		if (cgd_cgw_read(d))
			d->need_full = 1;
		break;
	case CGD_EV_CTL: cgd_ctl_accept(d); break;
	case CGD_EV_MHD: cgd_metrics_run(d); break;
	case CGD_EV_EVENTS: cgd_events_read(d); break;
	case CGD_EV_UCTL: cgd_usock_accept(d); break;
	default:
		if (tag >= CGD_EV_UCLIENT) {
			cgd_usock_event(d, (int)(tag - CGD_EV_UCLIENT), events);
			break;
		}
		cgd_ctl_event(d, (int)(tag - CGD_EV_CLIENT), events);
	}
}

static void do_pending(struct cgd *d)
{
	if (d->need_full) {
		cgd_sf_refresh(d);
		cgd_clear_paths(&d->delcg, &d->ndelcg);	/* covered */
		cgd_reconcile_full(d, "change");
		cgd_events_refresh(d);
		return;
	}
	if (d->need_gc)
		cgd_gc(d);
	if (d->ndelcg)
		cgd_gc_queued(d);
	if (d->nnewcg) {
		cgd_reconcile_queued(d);
		if (!d->ev_map_id)	/* the first attach pins the state */
			cgd_events_refresh(d);
	}
	cgd_ctl_pending(d);
}

/* The nearer of two epoll timeouts (-1: none). */
static int sooner(int a, int b)
{
	return a < 0 ? b : b < 0 ? a : a < b ? a : b;
}

int cgd_run(struct cgd *d)
{
	struct epoll_event ev[32];
	int n, i;

	while (!d->stop) {
		n = epoll_wait(d->epfd, ev, 32, sooner(cgd_metrics_timeout_ms(d),
							cgd_ctl_timeout_ms(d)));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		for (i = 0; i < n; i++)
			dispatch(d, ev[i].data.u64, ev[i].events);
		if (!n)
			cgd_metrics_run(d);	/* its connection timeouts */
		do_pending(d);
	}
	return 0;
}

/* ---- setup / teardown --------------------------------------------------- */

static int setup_signals(struct cgd *d)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -errno;
	d->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->sig_fd < 0)
		return -errno;
	return cgd_epoll_add(d, d->sig_fd, EPOLLIN, CGD_EV_SIG);
}

static int setup_timer(struct cgd *d)
{
	d->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (d->timer_fd < 0)
		return -errno;
	arm_timer(d);
	return cgd_epoll_add(d, d->timer_fd, EPOLLIN, CGD_EV_TIMER);
}

/* Config already loaded (cgd_load_config(d, 1)). */
int cgd_setup(struct cgd *d)
{
	char m[200] = "off";
	int changed = 0, err;

	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->epfd < 0)
		return cg_seterr(-errno, "epoll: %m");
	err = cg_cgroup2_mount(d->cg2, sizeof(d->cg2));
	if (!err)
		err = setup_signals(d);
	if (err)
		return err;
	watch_policy_dir(d);
	cgd_policies_scan(&d->pol, &d->npol, d->policy_dir, 1, &changed);
	err = cgd_ctl_open(d);
	if (!err)
		err = cgd_usock_open(d);
	if (!err)
		err = cgd_metrics_start(d);
	if (!err)
		err = cgd_cgw_reset(d);
	if (!err)
		err = setup_timer(d);
	if (err)
		return err;
	cgd_reconcile_full(d, "start");
	cgd_events_refresh(d);
	if (d->http)
		snprintf(m, sizeof(m), "http://%.*s:%d/metrics",
			 (int)(strrchr(d->metrics_addr, ':') - d->metrics_addr),
			 d->metrics_addr, d->metrics_port);
	cgd_log(CGD_INFO, "ready: pid %d, %zu rule(s), policies from %s, "
		"control socket %s, metrics %s, reconcile every %d s",
		getpid(), d->cfg.nrules, d->policy_dir, d->socket_path, m,
		d->interval_s);
	return 0;
}

void cgd_teardown(struct cgd *d)
{
	cgd_events_close(d);
	cgd_ctl_close(d);
	cgd_usock_close(d);
	cgd_sf_close(d);
	cgd_metrics_stop(d);
	cgd_cgw_close(d);
	cgd_clear_queue(d);
	cgd_clear_paths(&d->delcg, &d->ndelcg);
	if (d->pol_ifd >= 0)
		close(d->pol_ifd);
	if (d->sig_fd >= 0)
		close(d->sig_fd);
	if (d->timer_fd >= 0)
		close(d->timer_fd);
	if (d->epfd >= 0)
		close(d->epfd);
	cgd_policies_free(d->pol, d->npol);
	cgd_config_free(&d->cfg);
	free(d->trk);
	d->pol = NULL;
	d->trk = NULL;
}
