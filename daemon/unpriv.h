/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The daemon's unprivileged side: the `unprivileged:` config section (who
 * may ask for what) and the second control socket those callers use.
 *
 *   unprivileged_socket: /run/cgguard/cgguard-user.sock   # or "off"
 *   unprivileged_group: cgguard      # socket 0660 root:cgguard (else 0666)
 *   unprivileged:
 *     - uid: 1000            # exactly one of uid:, gid:, user:, group:
 *       policies: [web]      # policies it may use as socket filters
 *       files: false         # part 2: may name policy files (default false)
 *       subtree: user.slice/user-1000.slice   # part 2: delegated cgroups
 *
 * The first entry that matches the caller (its uid, or its primary or a
 * supplementary gid) decides; a caller no entry matches is refused with
 * EACCES on every request and the refusal is logged.
 *
 * Wire protocol (docs/daemon.md): SOCK_SEQPACKET, one JSON object per
 * message in (at most CGD_UP_REQ_MAX bytes), one JSON object per message
 * out, {"ok":true,...} or {"ok":false,"errno":N,"error":"..."}, with at
 * most one fd attached (SCM_RIGHTS) when the reply says "fd":true.
 * Credentials (SO_PEERCRED, SO_PEERGROUPS) are matched against the current
 * config on every request, so a reload that removes a user takes effect
 * for connections already open.
 */
#ifndef CGGUARD_UNPRIV_H
#define CGGUARD_UNPRIV_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>
#include <json-c/json.h>
#include "../bpf/cgguard_abi.h"
#include "../lib/ctlclient.h"	/* CGD_USOCKET, the default path */
#include "../lib/json.h"
#include "../policy/policy.h"

#define CGD_UP_MAX_ENTRIES	1024
#define CGD_UP_MAX_POLICIES	64	/* per entry */
#define CGD_UP_MAX_CLIENTS	32
#define CGD_UP_PER_UID		4	/* connections one uid may hold */
#define CGD_UP_REQ_MAX		4096	/* one request message */
#define CGD_UP_GROUPS_MAX	256	/* supplementary groups looked at */
#define CGD_UP_IDLE_S		30	/* an idle client is closed after this */

enum cgd_up_kind { CGD_UP_UID, CGD_UP_GID };

struct cg_unpriv_entry {
	int kind;			/* CGD_UP_UID or CGD_UP_GID */
	uint32_t id;			/* uid or gid (user:/group: resolved) */
	char name[64];			/* user:/group: as written, else "" */
	size_t npolicies;
	char policies[CGD_UP_MAX_POLICIES][CG_POLICY_NAME_MAX];
	int files;			/* part 2: may name policy files */
	char subtree[CG_PATH_MAX];	/* part 2: relative, no leading '/';
					 * "" when not given */
	int line;			/* in the config file */
};

/* Config keys of this file's section (in struct cgd_config). */
struct cgd_unpriv_cfg {
	struct cg_unpriv_entry *e;
	size_t n;
	char socket[PATH_MAX];		/* "" = default, "off" = none */
	char group[64];			/* "" = world (0666) */
	gid_t gid;			/* of group, when given */
};

/* Who is asking: SO_PEERCRED and SO_PEERGROUPS of the connection. */
struct cgd_caller {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	int ngroups;
	gid_t groups[CGD_UP_GROUPS_MAX];
	const struct cg_unpriv_entry *entry;	/* never NULL in a handler */
	int in_fd;		/* the fd that came with the request (SCM_RIGHTS),
				 * or -1; the dispatcher closes it */
};

struct cgd_config;
struct cgd;

/*
 * First entry matching @uid or @gid (primary), then (when @c has them)
 * the caller's supplementary groups; NULL if none.
 */
const struct cg_unpriv_entry *cg_unpriv_match(const struct cgd_config *c,
					      uid_t uid, gid_t gid);
const struct cg_unpriv_entry *cgd_unpriv_match_caller(
	const struct cgd_config *c, const struct cgd_caller *who);
/* 1 if @e lists policy @name. */
int cgd_unpriv_allows_policy(const struct cg_unpriv_entry *e,
			     const char *name);

/* Parsing, called by config.c for the keys of this section (@v: the
 * key's value node; a collection's contents are read from @y).  Errors
 * are "file:line:col: what is wrong" (yr_err). */
struct yr;
struct yr_node;
int cgd_unpriv_parse(struct yr *y, const struct yr_node *v,
		     struct cgd_unpriv_cfg *out);
int cgd_unpriv_parse_socket(struct yr *y, const struct yr_node *v,
			    struct cgd_unpriv_cfg *out);
int cgd_unpriv_parse_group(struct yr *y, const struct yr_node *v,
			   struct cgd_unpriv_cfg *out);
void cgd_unpriv_cfg_free(struct cgd_unpriv_cfg *c);

/*
 * A request handler.  @req is the parsed request object (its "cmd" is
 * the handler's name).  On success it writes its reply keys into @out
 * (an open JSON object that already has "ok":true) and returns 0; it may
 * set *fd_out to one fd to pass with SCM_RIGHTS (the dispatcher closes
 * it after sending).  On failure it returns -errno and may put a precise
 * message in @err; it must not have written to @out (the dispatcher
 * discards it anyway) and must have changed nothing.
 */
typedef int (*cgd_uhandler)(struct cgd *d, const struct cgd_caller *who,
			    json_object *req, struct json *out, int *fd_out,
			    char *err, size_t errlen);

struct cgd_ucmd {
	const char *name;
	cgd_uhandler fn;
	/* Keys a request may carry besides "cmd" (NULL-terminated); any
	 * other key makes the request malformed before @fn runs. */
	const char *const *keys;
};
/* The dispatch table (unpriv.c): part 2 adds attach/detach here. */
extern const struct cgd_ucmd cgd_ucmds[];

/* The socket (unpriv.c).  Tags: CGD_EV_UCTL, CGD_EV_UCLIENT + index. */
int cgd_usock_open(struct cgd *d);
void cgd_usock_close(struct cgd *d);
void cgd_usock_accept(struct cgd *d);
void cgd_usock_event(struct cgd *d, int idx, uint32_t events);
/* Closes clients idle for CGD_UP_IDLE_S (called from the timer). */
void cgd_usock_reap(struct cgd *d);
/* Status for `ctl status`: path ("off" when closed) and counters. */
void cgd_usock_status(struct json *j, const struct cgd *d);

/* Request helpers for handlers. */
/* String member @key of @req, or NULL (with @err set) if absent, not a
 * string, empty, or longer than @max bytes. */
const char *cgd_ureq_str(json_object *req, const char *key, size_t max,
			 char *err, size_t errlen);

/* Socket filters (sockfilter.c): the "filter" handler and upkeep. */
int cgd_sf_handle(struct cgd *d, const struct cgd_caller *who,
		  json_object *req, struct json *out, int *fd_out, char *err,
		  size_t errlen);
/* Delegated attach (delegate.c): "attach" and "detach". */
int cgd_deleg_attach(struct cgd *d, const struct cgd_caller *who,
		     json_object *req, struct json *out, int *fd_out,
		     char *err, size_t errlen);
int cgd_deleg_detach(struct cgd *d, const struct cgd_caller *who,
		     json_object *req, struct json *out, int *fd_out,
		     char *err, size_t errlen);
/* Rewrites the filter tables of policies whose compiled hash changed
 * (after a reload); programs already handed out follow at once. */
void cgd_sf_refresh(struct cgd *d);
void cgd_sf_close(struct cgd *d);

#endif
