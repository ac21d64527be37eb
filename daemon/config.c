// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Daemon config file (YAML, read as a stream by lib/yamlread.c: nesting,
 * anchors, tags and NUL bytes are refused there):
 *
 *   policy_dir: /etc/cgguard/policies      # optional scalars; the command
 *   socket: /run/cgguard/cgguard.sock      # line overrides each of them
 *   metrics: 127.0.0.1:9967                # or "off"
 *   reconcile_interval: 10                 # seconds
 *   log_level: info                        # error|warning|info|debug
 *   kill_denied: false                     # destroy denied sockets on a swap
 *   rules:
 *     - { match: "machine.slice/libpod-*.scope", policy: web, fail: closed }
 *   unprivileged: [...]                    # unpriv.c parses this section
 *
 * A rule's glob is matched with fnmatch(FNM_PATHNAME) against the cgroup
 * path relative to the cgroup2 mount, so '*' never crosses a '/'.  The
 * first matching rule wins.  Anything unknown is an error with its
 * file:line:col, and a bad file is refused whole.  Paths must be absolute
 * and the metrics address numeric (lib/args.c, as on the command line).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "daemon.h"
#include "../lib/args.h"
#include "../lib/yamlread.h"

/* Bounds: the file is read whole (CGD_CONFIG_MAX) and rules are kept in an array. */
#define CGD_RULES_MAX	10000

int cgd_metrics_addr_check(const char *s, const char **why)
{
	struct sockaddr_storage ss;
	int v6;

	return strcmp(s, "off") ? cg_arg_hostport(s, &ss, &v6, why) : 0;
}

int cgd_policy_dir_check(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	/* Missing is fine: the daemon watches for it to appear. */
	if (stat(dir, &st))
		return errno == ENOENT ? 0 : -(snprintf(err, errlen, "policy directory %s: %s",
							dir, strerror(errno)), errno);
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "policy directory %s is not a directory", dir);
		return -ENOTDIR;
	}
	return 0;
}

static int str_val(struct yr *r, const struct yr_node *n, const char *key, char *dst,
		   size_t len)
{
	if (n->type != YR_SCALAR || !n->len)
		return yr_err(r, n, "%s: expected a non-empty string, not %s", key, yr_kind(n));
	if (n->len >= len)
		return yr_err(r, n, "%s: longer than %zu bytes", key, len - 1);
	memcpy(dst, n->s, n->len + 1);
	return 0;
}

static int path_val(struct yr *r, const struct yr_node *n, const char *key, char *dst,
		    size_t len)
{
	const char *why;
	int err = str_val(r, n, key, dst, len);

	if (!err && cg_arg_abspath(dst, &why))
		return yr_err(r, n, "%s: '%s': %s", key, dst, why);
	return err;
}

/* "machine.slice/x-*.scope": strips '/' at both ends, refuses "." and
 * ".." components and empty ones, counts components. */
static int normalize_glob(struct yr *y, const struct yr_node *n, struct cgd_rule *r)
{
	char *s = r->match, *c;
	size_t len;

	while (*s == '/')
		s++;
	memmove(r->match, s, strlen(s) + 1);
	len = strlen(r->match);
	while (len && r->match[len - 1] == '/')
		r->match[--len] = 0;
	if (!len)
		return yr_err(y, n, "match: the cgroup2 root itself cannot "
			      "be matched (give a path below it)");
	r->ncomp = 0;
	for (c = r->match; c; c = strchr(c, '/') ? strchr(c, '/') + 1 : NULL) {
		size_t cl = strcspn(c, "/");

		if (!cl || (cl == 1 && c[0] == '.') ||
		    (cl == 2 && !strncmp(c, "..", 2)))
			return yr_err(y, n, "match: '%s' has an empty, '.' or "
				      "'..' component", r->match);
		r->ncomp++;
	}
	return 0;
}

enum { RK_MATCH, RK_POLICY, RK_FAIL };
static const char *const rule_keys[] = { "match", "policy", "fail", NULL };
static const struct yr_keyset rule_ks = { "in a rule", rule_keys, NULL, NULL };

static int rule_value(struct yr *y, int idx, const struct yr_node *v, struct cgd_rule *r)
{
	const char *why;
	int err;

	switch (idx) {
	case RK_MATCH:
		err = str_val(y, v, "match", r->match, sizeof(r->match));
		return err ? err : normalize_glob(y, v, r);
	case RK_POLICY:
		err = str_val(y, v, "policy", r->policy, sizeof(r->policy));
		why = err ? NULL : cg_policy_name_problem(r->policy);
		return why ? yr_err(y, v, "policy: '%s' is not a policy name: %s", r->policy,
				    why) : err;
	default:
		if (yr_is(v, "open"))
			r->flags |= CG_ATTACH_FAIL_OPEN;
		else if (!yr_is(v, "closed"))
			return yr_err(y, v, "fail: must be open or closed");
		return 0;
	}
}

static int parse_rule(struct yr *y, const struct yr_node *n, struct cgd_rule *r)
{
	struct yr_seen seen = { 0 };
	struct yr_node v;
	int idx, err;

	if (n->type != YR_MAP)
		return yr_err(y, n, "rules: each rule is a mapping "
			      "{ match: GLOB, policy: NAME, fail: open|closed }");
	memset(r, 0, sizeof(*r));
	r->line = n->line + 1;
	while (!(err = yr_next_pair(y, &rule_ks, &seen, &idx, &v)) && idx >= 0) {
		err = rule_value(y, idx, &v, r);
		if (err)
			return err;
	}
	if (!err && (!seen.have[RK_MATCH] || !seen.have[RK_POLICY]))
		err = yr_err(y, n, "a rule needs both match: and policy:");
	return err;
}

static int parse_rules(struct yr *y, const struct yr_node *n, struct cgd_config *c)
{
	struct yr_node it;
	size_t cap = 0;
	void *t;
	int err;

	if (n->type != YR_SEQ)
		return yr_err(y, n, "rules: expected a list of rules, not %s", yr_kind(n));
	while (!(err = yr_next(y, &it)) && it.type != YR_END) {
		if (c->nrules == CGD_RULES_MAX)
			return yr_err(y, &it, "rules: more than %d", CGD_RULES_MAX);
		if (c->nrules == cap) {
			cap = cap ? 2 * cap : 16;
			t = realloc(c->rules, cap * sizeof(*c->rules));
			if (!t)
				return -ENOMEM;
			c->rules = t;
		}
		err = parse_rule(y, &it, &c->rules[c->nrules]);
		if (err)
			return err;
		c->nrules++;
	}
	return err;
}

static int parse_interval(struct yr *y, const struct yr_node *n, int *out)
{
	char buf[16];
	unsigned long v;

	/* "10" or "10s" */
	if (n->type != YR_SCALAR || n->len < 1 || n->len >= sizeof(buf))
		goto bad;
	memcpy(buf, n->s, n->len + 1);
	if (buf[n->len - 1] == 's')
		buf[n->len - 1] = '\0';
	if (!cg_arg_ulong(buf, 1, 3600, &v, NULL)) {
		*out = (int)v;
		return 0;
	}
bad:
	return yr_err(y, n, "reconcile_interval: seconds from 1 to 3600");
}

enum { K_POLICY_DIR, K_SOCKET, K_METRICS, K_INTERVAL, K_LOG_LEVEL, K_RULES, K_UNPRIV,
       K_USOCKET, K_UGROUP, K_KILL };
static const char *const top_keys[] = { "policy_dir", "socket", "metrics",
	"reconcile_interval", "log_level", "rules", "unprivileged", "unprivileged_socket",
	"unprivileged_group", "kill_denied", NULL };
static const struct yr_keyset top_ks = { "at top level", top_keys, NULL, NULL };
static const unsigned top_bits[] = { CGD_SET_POLICY_DIR, CGD_SET_SOCKET, CGD_SET_METRICS,
	CGD_SET_INTERVAL, CGD_SET_LOG_LEVEL, 0, CGD_SET_UNPRIV, CGD_SET_USOCKET,
	CGD_SET_UGROUP, CGD_SET_KILL_DENIED };

static int parse_value(struct yr *y, int idx, const struct yr_node *v, struct cgd_config *c)
{
	const char *why;
	int err;

	c->set |= top_bits[idx];
	switch (idx) {
	case K_POLICY_DIR:
		return path_val(y, v, "policy_dir", c->policy_dir, sizeof(c->policy_dir));
	case K_SOCKET:
		return path_val(y, v, "socket", c->socket, sizeof(c->socket));
	case K_METRICS:
		err = str_val(y, v, "metrics", c->metrics, sizeof(c->metrics));
		if (!err && cgd_metrics_addr_check(c->metrics, &why))
			return yr_err(y, v, "metrics: '%s': %s", c->metrics, why);
		return err;
	case K_INTERVAL:
		return parse_interval(y, v, &c->interval_s);
	case K_LOG_LEVEL:
		c->log_level = v->type == YR_SCALAR ? cgd_log_level_parse(v->s) : -1;
		return c->log_level < 0 ? yr_err(y, v, "log_level: error, warning, info or "
						  "debug") : 0;
	case K_UNPRIV:		/* unpriv.h: who may ask for what */
		return cgd_unpriv_parse(y, v, &c->up);
	case K_USOCKET:
		return cgd_unpriv_parse_socket(y, v, &c->up);
	case K_UGROUP:
		return cgd_unpriv_parse_group(y, v, &c->up);
	case K_KILL:		/* attach --kill-denied on every swap */
		if (v->type == YR_SCALAR &&
		    (!strcmp(v->s, "true") || !strcmp(v->s, "false"))) {
			c->kill_denied = v->s[0] == 't';
			return 0;
		}
		return yr_err(y, v, "kill_denied: true or false");
	default:
		return parse_rules(y, v, c);
	}
}

static int parse_doc(struct yr *y, struct cgd_config *c)
{
	struct yr_seen seen = { 0 };
	struct yr_node root, v;
	int idx, err;

	err = yr_next(y, &root);
	if (err || root.type == YR_NONE || yr_is_null(&root))
		return err;	/* empty file: no rules */
	if (root.type != YR_MAP)
		return yr_err(y, &root, "the config is a mapping (rules:, policy_dir:, ...), "
			      "not %s", yr_kind(&root));
	while (!(err = yr_next_pair(y, &top_ks, &seen, &idx, &v)) && idx >= 0) {
		err = parse_value(y, idx, &v, c);
		if (err)
			return err;
	}
	return err;
}

static int read_file(const char *path, char **buf, size_t *len, int *missing,
		     char *err, size_t errlen)
{
	struct stat st;
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

	*missing = 0;
	if (fd < 0) {
		*missing = errno == ENOENT;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > CGD_CONFIG_MAX) {
		snprintf(err, errlen, "%s: not a regular file of at most %u "
			 "bytes", path, CGD_CONFIG_MAX);
		close(fd);
		return -EINVAL;
	}
	*buf = malloc(st.st_size + 1);
	r = *buf ? read(fd, *buf, st.st_size) : -1;
	close(fd);
	if (r != st.st_size) {
		free(*buf);
		snprintf(err, errlen, "%s: short read", path);
		return -EIO;
	}
	*len = r;
	return 0;
}

int cgd_config_parse(const char *src, const char *buf, size_t len, struct cgd_config *c,
		     char *err, size_t errlen)
{
	struct yr y;
	int ret;

	memset(c, 0, sizeof(*c));
	ret = yr_init(&y, src, buf, len, err, errlen);
	if (!ret)
		ret = parse_doc(&y, c);
	ret = yr_done(&y, ret);
	yr_free(&y);
	if (ret == -ENOMEM)
		snprintf(err, errlen, "%s: out of memory", src);
	if (ret)
		cgd_config_free(c);
	return ret;
}

int cgd_config_load(const char *path, struct cgd_config *c, int *missing,
		    char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	int ret;

	memset(c, 0, sizeof(*c));
	ret = read_file(path, &buf, &len, missing, err, errlen);
	if (ret)
		return *missing ? 0 : ret;
	ret = cgd_config_parse(path, buf, len, c, err, errlen);
	free(buf);
	return ret;
}

void cgd_config_free(struct cgd_config *c)
{
	free(c->rules);
	c->rules = NULL;
	c->nrules = 0;
	cgd_unpriv_cfg_free(&c->up);
}

const struct cgd_rule *cgd_rule_match(const struct cgd_config *c,
				      const char *rel)
{
	size_t i;

	for (i = 0; i < c->nrules; i++)
		if (!fnmatch(c->rules[i].match, rel, FNM_PATHNAME))
			return &c->rules[i];
	return NULL;
}

/* Components 0..k-1 of @pat match those of @rel, one by one (equivalent to
 * FNM_PATHNAME on the prefix). */
static int prefix_match(const char *pat, const char *rel, int k)
{
	char pc[CG_PATH_MAX], rc[PATH_MAX];
	int i;

	for (i = 0; i < k; i++) {
		size_t pl = strcspn(pat, "/"), rl = strcspn(rel, "/");

		if (pl >= sizeof(pc) || rl >= sizeof(rc))
			return 0;
		memcpy(pc, pat, pl);
		pc[pl] = 0;
		memcpy(rc, rel, rl);
		rc[rl] = 0;
		if (fnmatch(pc, rc, 0))
			return 0;
		pat += pl + (pat[pl] == '/');
		rel += rl + (rel[rl] == '/');
	}
	return 1;
}

int cgd_rules_below(const struct cgd_config *c, const char *rel)
{
	int k = 0;
	size_t i;
	const char *s;

	if (*rel)
		for (k = 1, s = rel; (s = strchr(s, '/')); s++)
			k++;
	for (i = 0; i < c->nrules; i++)
		if (c->rules[i].ncomp > k &&
		    prefix_match(c->rules[i].match, rel, k))
			return 1;
	return 0;
}
