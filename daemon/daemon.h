/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * cgguard daemon internals.  The daemon is one thread around one epoll
 * loop: inotify on the policy directory and on the cgroup2 tree, a signalfd,
 * a reconcile timer, the control socket and the metrics HTTP server (its
 * own bounded responder, daemon/http.c).  One thread means no locks: every
 * handler sees a consistent struct cgd.
 *
 * The daemon holds nothing the kernel needs.  Programs, links and counters
 * are pinned; the daemon opens the pinned state (cg_guard_open) for one
 * operation at a time and closes it again, so the CLI and the OCI hook
 * never wait on a daemon that is idle, stalled or killed.
 *
 * Functions return 0 or -errno unless they say otherwise.
 */
#ifndef CGGUARD_DAEMON_H
#define CGGUARD_DAEMON_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stddef.h>
#include <time.h>
#include <sys/stat.h>
#include "../bpf/loader.h"
#include "../policy/policy.h"
#include "unpriv.h"

#define CGD_CONFIG		"/etc/cgguard/config.yaml"
#define CGD_SOCKET		"/run/cgguard/cgguard.sock"
#define CGD_METRICS		"127.0.0.1:9967"
#define CGD_INTERVAL_S		10
#define CGD_FAILOPEN_FILE	"/run/cgguard/failopen.count"
#define CGD_CONFIG_MAX		(1u << 20)
#define CGD_MAX_CLIENTS		16
#define CGD_LINE_MAX		4096	/* one control request */
/* `reload` requests arriving closer together than this are answered by one
 * shared reload (a flood costs one reload per interval, not one each). */
#define CGD_RELOAD_MIN_MS	500
#define CGD_NOTE_MAX		256

/* ---- logging (log.c) ---------------------------------------------------- */

enum { CGD_ERR = 3, CGD_WARN = 4, CGD_INFO = 6, CGD_DEBUG = 7 };
extern int cgd_log_level;
void cgd_log_init(void);
void cgd_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int cgd_log_level_parse(const char *s);

/* ---- config (config.c) -------------------------------------------------- */

struct cgd_rule {
	char match[CG_PATH_MAX];	/* glob, relative, no leading '/' */
	char policy[CG_POLICY_NAME_MAX];
	unsigned flags;			/* CG_ATTACH_FAIL_OPEN */
	int ncomp;			/* path components of match */
	int line;
};

/* Scalars the config file may set; the command line overrides them. */
#define CGD_SET_POLICY_DIR	(1u << 0)
#define CGD_SET_SOCKET		(1u << 1)
#define CGD_SET_METRICS		(1u << 2)
#define CGD_SET_INTERVAL	(1u << 3)
#define CGD_SET_LOG_LEVEL	(1u << 4)
#define CGD_SET_USOCKET		(1u << 5)	/* unprivileged_socket */
#define CGD_SET_UGROUP		(1u << 6)	/* unprivileged_group */
#define CGD_SET_UNPRIV		(1u << 7)	/* unprivileged */
#define CGD_SET_KILL_DENIED	(1u << 8)	/* kill_denied */

struct cgd_config {
	struct cgd_rule *rules;
	size_t nrules;
	char policy_dir[PATH_MAX];
	char socket[PATH_MAX];
	char metrics[128];
	int interval_s;
	int log_level;
	int kill_denied;		/* attach --kill-denied on every swap */
	unsigned set;			/* CGD_SET_* given in the file */
	struct cgd_unpriv_cfg up;	/* unprivileged callers (unpriv.h) */
};

/* Missing file: empty config, *missing = 1.  Errors: "file:line:col: ...". */
int cgd_config_load(const char *path, struct cgd_config *c, int *missing,
		    char *err, size_t errlen);
/* The same from memory; @src names it in messages. */
int cgd_config_parse(const char *src, const char *buf, size_t len, struct cgd_config *c,
		     char *err, size_t errlen);
void cgd_config_free(struct cgd_config *c);
/* A policy directory that exists must be a directory: 0 or -errno with a message. */
int cgd_policy_dir_check(const char *dir, char *err, size_t errlen);
/* "off" or ADDR:PORT / [ADDR6]:PORT: 0, or -EINVAL with *why. */
int cgd_metrics_addr_check(const char *s, const char **why);
/* First rule whose glob matches @rel (relative, no leading '/'), or NULL. */
const struct cgd_rule *cgd_rule_match(const struct cgd_config *c,
				      const char *rel);
/* 1 if a cgroup below @rel (depth @k components) could match some rule. */
int cgd_rules_below(const struct cgd_config *c, const char *rel);

/* ---- policies (policies.c) ---------------------------------------------- */

enum cgd_pstate { CGD_P_OK, CGD_P_ERROR, CGD_P_REMOVED };

struct cgd_policy {
	char file[PATH_MAX];		/* path, or "builtin:NAME" */
	char name[CG_POLICY_NAME_MAX];	/* last good name, else file stem */
	struct cg_policy *p;		/* last good version, or NULL */
	uint64_t hash;			/* cg_policy_compile's hash of p */
	enum cgd_pstate state;		/* result of the last load */
	char err[CG_ERR_MAX];		/* last error, file:line:col: ... */
	time_t last_load;
	uint64_t n_ok, n_err;		/* loads per result, since start */
	struct stat st;			/* of the file at the last load */
	int builtin;
	int seen;			/* scratch for directory rescans */
};

/* (Re)loads the policy directory; unchanged files are skipped unless
 * @force.  *changed is set when a loaded policy changed. */
int cgd_policies_scan(struct cgd_policy **v, size_t *n, const char *dir,
		      int force, int *changed);
/* Handles one directory entry event (create/write/move/delete). */
int cgd_policy_event(struct cgd_policy **v, size_t *n, const char *dir,
		     const char *name, int *changed);
/* The loaded policy called @name (directory first, then built-in). */
const struct cgd_policy *cgd_policy_get(struct cgd_policy **v, size_t *n,
					const char *name);
void cgd_policies_free(struct cgd_policy *v, size_t n);
/* 1 if a directory entry name is a policy file (*.yaml/.yml/.json). */
int cgd_policy_file_name(const char *name);

/* ---- the daemon --------------------------------------------------------- */

/* A guarded cgroup the daemon knows about. */
struct cgd_track {
	uint64_t cgid;
	char path[CG_PATH_MAX];
	char owned[CG_POLICY_NAME_MAX];	/* policy the daemon set; "" if none */
	char note[CGD_NOTE_MAX];	/* last thing logged, to log changes */
	int seen;
};

struct cgd_watch {
	int wd;
	char *rel;			/* "" for the root */
};

struct cg_evreader;

struct cgd_client {
	int fd;				/* -1: free */
	char in[CGD_LINE_MAX];
	size_t inlen;
	char *out;
	size_t outlen, outoff;
	int closing;			/* close once out is flushed */
	int monitor;			/* streams events (events.c) */
	uint64_t mon_dropped;		/* events it missed, not yet told */
	int want_reload;		/* waiting for the next shared reload */
};

struct cgd_reconcile_stats {
	time_t when;
	double ms;
	int err;
	unsigned attached, adopted, reenforced, removed, skipped, failed;
	char why[32];
};

struct cgd {
	/* Options: command line over config file over defaults. */
	char config_path[PATH_MAX];
	struct cgd_config cfg;
	struct stat cfg_st;		/* to notice a changed config */
	int cfg_missing;
	char cfg_err[CG_ERR_MAX];	/* "" if the last load was good */
	unsigned cli_set;		/* CGD_SET_* given on the command line */
	char policy_dir[PATH_MAX];
	char socket_path[PATH_MAX];
	char metrics_addr[128];
	int interval_s;

	struct cgd_policy *pol;
	size_t npol;
	struct cgd_track *trk;
	size_t ntrk;

	char cg2[PATH_MAX];		/* cgroup2 mount */
	int pol_ifd, pol_wd;		/* policy directory watch */
	int pol_warned;
	int cg_ifd;			/* cgroup tree watch */
	struct cgd_watch *w;
	size_t nw;

	int epfd, sig_fd, timer_fd, ctl_fd;
	struct cg_evreader *evr;	/* event ring buffer reader */
	int ev_fd;
	uint32_t ev_map_id;
	uint64_t ev_read;		/* events relayed to monitors */
	struct cgd_usock *us;		/* unprivileged socket (unpriv.c) */
	struct cgd_sf *sf;		/* socket filters (sockfilter.c) */
	struct cgd_client cl[CGD_MAX_CLIENTS];
	struct timespec ctl_reload_at;	/* last reload run for ctl clients */
	struct cgd_http *http;		/* metrics responder (http.c) */
	int metrics_port;

	time_t started;
	struct timespec started_mono;
	uint64_t attach_failures;
	uint64_t attaches;
	uint64_t config_reloads_ok, config_reloads_err;
	struct cgd_reconcile_stats last;
	int stop;
	/* Work queued by event handlers, done once per loop iteration. */
	int need_full, need_gc;
	char **newcg;			/* cgroups that appeared */
	size_t nnewcg;
	char **delcg;			/* directories that went away */
	size_t ndelcg;
};

/* core.c: the daemon's life */
void cgd_init(struct cgd *d);
/* @first: a bad config is an error to the caller, not a kept old one. */
int cgd_load_config(struct cgd *d, int first);
int cgd_setup(struct cgd *d);
int cgd_run(struct cgd *d);
void cgd_teardown(struct cgd *d);

/* cgwatch.c: inotify on the parts of the cgroup2 tree the rules can reach */
int cgd_cgw_reset(struct cgd *d);
void cgd_cgw_close(struct cgd *d);
/* Watches and walks @rel (relative to the mount, "" = root), queueing
 * every matching cgroup below it in d->newcg. */
int cgd_cgw_scan(struct cgd *d, const char *rel);
int cgd_cgw_read(struct cgd *d);
int cgd_queue_path(char ***v, size_t *n, const char *rel);
void cgd_clear_paths(char ***v, size_t *n);
#define cgd_clear_queue(d) cgd_clear_paths(&(d)->newcg, &(d)->nnewcg)

/* reconcile.c */
int cgd_reconcile_full(struct cgd *d, const char *why);
int cgd_reconcile_queued(struct cgd *d);
int cgd_gc(struct cgd *d);
/* Releases the pins of the removed directories in d->delcg that the
 * daemon knows as guarded (cheaper than cg_guard_gc's walk of all). */
int cgd_gc_queued(struct cgd *d);
size_t cgd_bound_count(const struct cgd *d);

/* control socket (ctlsock.c) */
/*
 * A new non-blocking @type socket bound at @path (absolute, fits in
 * sun_path), mode 0600 from the first instant, in a directory created with
 * @dir_mode if missing and owned by root or us and writable by no one else
 * (*dir_st gets its stat).  A socket file left by a killed daemon is
 * replaced, a live one is not (-EADDRINUSE).  Returns the fd or -errno;
 * a failed bind() says "@what @path: why".  Shared by ctlsock.c and usock.c.
 */
int cgd_sock_bind(const char *what, const char *path, int type,
		  mode_t dir_mode, struct stat *dir_st);
/* One request line -> "status", "reload" or "list"; NULL with the reason in err.  Pure (the
 * fuzz harness calls it). */
const char *cgd_ctl_parse_request(const char *line, size_t len, char *err, size_t errlen);
int cgd_ctl_open(struct cgd *d);
void cgd_ctl_close(struct cgd *d);
void cgd_ctl_accept(struct cgd *d);
void cgd_ctl_event(struct cgd *d, int idx, uint32_t events);
/* Queues @len bytes to client @idx (events.c). */
void cgd_ctl_send(struct cgd *d, int idx, const char *buf, size_t len);
/* Runs the shared reload that waiting clients asked for, when due. */
void cgd_ctl_pending(struct cgd *d);
/* Milliseconds until that reload is due, -1 if none is waiting. */
int cgd_ctl_timeout_ms(const struct cgd *d);
/* Whole reload: config, policies, reconcile.  Used by SIGHUP and ctl. */
int cgd_reload(struct cgd *d, const char *why, int force);

/* event fan-out to monitors (events.c) */
void cgd_events_refresh(struct cgd *d);
void cgd_events_read(struct cgd *d);
void cgd_events_close(struct cgd *d);
void cgd_events_subscribe(struct cgd *d, struct cgd_client *c, FILE *out);

/* metrics (metrics.c) */
int cgd_metrics_start(struct cgd *d);
void cgd_metrics_stop(struct cgd *d);
int cgd_metrics_fd(struct cgd *d);
void cgd_metrics_run(struct cgd *d);
int cgd_metrics_timeout_ms(struct cgd *d);
/* Renders the exposition text (format 0.0.4) into a malloc'd buffer. */
int cgd_metrics_render(struct cgd *d, char **buf, size_t *len);
/* Enforcement layers as `cgguard list` shows them. */
struct cgd_layer {
	const char *name;
	int hooks[4];
	int n;
	int op;				/* counts socket operations */
};
#define CGD_NLAYERS 6
extern const struct cgd_layer cgd_layers[CGD_NLAYERS];
/* 1 if every loaded hook of layer @l is really enforced, 0 if not, -1 if
 * this kernel has none of its programs. */
int cgd_layer_enforced(const struct cg_status *st, int l);
/* 64-hex container id found in a cgroup path, or "" (buf >= 65 bytes). */
void cgd_container_id(const char *path, char *buf, size_t len);

struct cgd_http;

/* epoll tags (data.u64) */
enum { CGD_EV_SIG = 1, CGD_EV_TIMER, CGD_EV_POLDIR, CGD_EV_CGW, CGD_EV_CTL,
       CGD_EV_MHD, CGD_EV_EVENTS, CGD_EV_CLIENT /* + index */ };
/* The unprivileged socket's tags, above any CGD_EV_CLIENT + index. */
#define CGD_EV_UCTL	0x10000
#define CGD_EV_UCLIENT	0x10001		/* + index */
int cgd_epoll_add(struct cgd *d, int fd, uint32_t events, uint64_t tag);

#endif
