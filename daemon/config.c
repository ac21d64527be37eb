// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Daemon config file (YAML, libyaml's document API):
 *
 *   policy_dir: /etc/cgguard/policies      # optional scalars; the command
 *   socket: /run/cgguard/cgguard.sock      # line overrides each of them
 *   metrics: 127.0.0.1:9967                # or "off"
 *   reconcile_interval: 10                 # seconds
 *   log_level: info                        # error|warning|info|debug
 *   kill_denied: false                     # destroy denied sockets on a swap
 *   rules:
 *     - { match: "machine.slice/libpod-*.scope", policy: web, fail: closed }
 *
 * A rule's glob is matched with fnmatch(FNM_PATHNAME) against the cgroup
 * path relative to the cgroup2 mount, so '*' never crosses a '/'.  The
 * first matching rule wins.  Anything unknown is an error with its
 * file:line:col, and a bad file is refused whole.
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
#include <yaml.h>
#include "daemon.h"

struct cfgp {
	yaml_document_t *doc;
	const char *file;
	char *err;
	size_t errlen;
};

static int cfg_err(struct cfgp *p, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[CG_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "%s:%zu:%zu: %s", p->file,
		 n ? n->start_mark.line + 1 : 1,
		 n ? n->start_mark.column + 1 : 1, msg);
	return -EINVAL;
}

static const char *scalar(struct cfgp *p, const yaml_node_t *n,
			  const char *key)
{
	if (n->type != YAML_SCALAR_NODE || !n->data.scalar.length) {
		cfg_err(p, n, "%s: expected a non-empty string", key);
		return NULL;
	}
	return (const char *)n->data.scalar.value;
}

static int set_str(struct cfgp *p, const yaml_node_t *n, const char *key,
		   char *dst, size_t len)
{
	const char *s = scalar(p, n, key);

	if (!s)
		return -EINVAL;
	if (strlen(s) >= len)
		return cfg_err(p, n, "%s: longer than %zu bytes", key, len - 1);
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

/* "machine.slice/x-*.scope": strips '/' at both ends, refuses "." and
 * ".." components and empty ones, counts components. */
static int normalize_glob(struct cfgp *p, const yaml_node_t *n,
			  struct cgd_rule *r)
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
		return cfg_err(p, n, "match: the cgroup2 root itself cannot "
			       "be matched (give a path below it)");
	r->ncomp = 0;
	for (c = r->match; c; c = strchr(c, '/') ? strchr(c, '/') + 1 : NULL) {
		size_t cl = strcspn(c, "/");

		if (!cl || (cl == 1 && c[0] == '.') ||
		    (cl == 2 && !strncmp(c, "..", 2)))
			return cfg_err(p, n, "match: '%s' has an empty, '.' or "
				       "'..' component", r->match);
		r->ncomp++;
	}
	return 0;
}

static int policy_name_ok(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("._-", *s)))
			return 0;
	return 1;
}

static int parse_rule(struct cfgp *p, yaml_node_t *n, struct cgd_rule *r)
{
	yaml_node_pair_t *pr;
	int have_match = 0, have_pol = 0, err = 0;

	if (n->type != YAML_MAPPING_NODE)
		return cfg_err(p, n, "rules: each rule is a mapping "
			       "{ match: GLOB, policy: NAME, fail: open|closed }");
	memset(r, 0, sizeof(*r));
	r->line = n->start_mark.line + 1;
	for (pr = n->data.mapping.pairs.start;
	     !err && pr < n->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(p->doc, pr->value);
		const char *key = scalar(p, k, "rule key");

		if (!key)
			return -EINVAL;
		if (!strcmp(key, "match")) {
			err = have_match++ ? cfg_err(p, k, "duplicate key match") :
			      set_str(p, v, key, r->match, sizeof(r->match));
			if (!err)
				err = normalize_glob(p, v, r);
		} else if (!strcmp(key, "policy")) {
			err = have_pol++ ? cfg_err(p, k, "duplicate key policy") :
			      set_str(p, v, key, r->policy, sizeof(r->policy));
			if (!err && !policy_name_ok(r->policy))
				err = cfg_err(p, v, "policy: '%s' is not a "
					      "policy name", r->policy);
		} else if (!strcmp(key, "fail")) {
			const char *f = scalar(p, v, key);

			if (!f)
				return -EINVAL;
			if (!strcmp(f, "open"))
				r->flags |= CG_ATTACH_FAIL_OPEN;
			else if (strcmp(f, "closed"))
				err = cfg_err(p, v, "fail: must be open or "
					      "closed, not '%s'", f);
		} else {
			err = cfg_err(p, k, "unknown rule key '%s' (match, "
				      "policy, fail)", key);
		}
	}
	if (!err && (!have_match || !have_pol))
		err = cfg_err(p, n, "a rule needs both match: and policy:");
	return err;
}

static int parse_rules(struct cfgp *p, yaml_node_t *n, struct cgd_config *c)
{
	yaml_node_item_t *it;
	size_t cnt;
	int err;

	if (n->type != YAML_SEQUENCE_NODE)
		return cfg_err(p, n, "rules: expected a list of rules");
	cnt = n->data.sequence.items.top - n->data.sequence.items.start;
	c->rules = calloc(cnt ? cnt : 1, sizeof(*c->rules));
	if (!c->rules)
		return -ENOMEM;
	for (it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++) {
		err = parse_rule(p, yaml_document_get_node(p->doc, *it),
				 &c->rules[c->nrules]);
		if (err)
			return err;
		c->nrules++;
	}
	return 0;
}

static int parse_interval(struct cfgp *p, yaml_node_t *n, int *out)
{
	const char *s = scalar(p, n, "reconcile_interval");
	char *end;
	long v;

	if (!s)
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (!strcmp(end, "s"))
		end++;
	if (errno || *end || v < 1 || v > 3600)
		return cfg_err(p, n, "reconcile_interval: seconds from 1 to "
			       "3600, not '%s'", s);
	*out = v;
	return 0;
}

static int parse_bool(struct cfgp *p, yaml_node_t *n, const char *key,
		      int *out)
{
	const char *s = scalar(p, n, key);

	if (!s)
		return -EINVAL;
	if (!strcmp(s, "true") || !strcmp(s, "false")) {
		*out = s[0] == 't';
		return 0;
	}
	return cfg_err(p, n, "%s: true or false, not '%s'", key, s);
}

static int parse_key(struct cfgp *p, yaml_node_t *k, yaml_node_t *v,
		     struct cgd_config *c)
{
	static const struct { const char *key; unsigned bit; } keys[] = {
		{ "policy_dir", CGD_SET_POLICY_DIR }, { "socket", CGD_SET_SOCKET },
		{ "metrics", CGD_SET_METRICS },
		{ "reconcile_interval", CGD_SET_INTERVAL },
		{ "log_level", CGD_SET_LOG_LEVEL },
		{ "kill_denied", CGD_SET_KILL_DENIED }, { "rules", 1u << 31 } };
	const char *key = scalar(p, k, "key");
	size_t i;

	if (!key)
		return -EINVAL;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(key, keys[i].key))
			break;
	if (i == sizeof(keys) / sizeof(keys[0]))
		return cfg_err(p, k, "unknown key '%s' (rules, policy_dir, "
			       "socket, metrics, reconcile_interval, "
			       "log_level, kill_denied)", key);
	if (c->set & keys[i].bit)
		return cfg_err(p, k, "duplicate key %s", key);
	c->set |= keys[i].bit;
	switch (keys[i].bit) {
	case CGD_SET_POLICY_DIR:
		return set_str(p, v, key, c->policy_dir, sizeof(c->policy_dir));
	case CGD_SET_SOCKET:
		return set_str(p, v, key, c->socket, sizeof(c->socket));
	case CGD_SET_METRICS:
		return set_str(p, v, key, c->metrics, sizeof(c->metrics));
	case CGD_SET_INTERVAL:
		return parse_interval(p, v, &c->interval_s);
	case CGD_SET_LOG_LEVEL:
		if (!scalar(p, v, key))
			return -EINVAL;
		c->log_level = cgd_log_level_parse((char *)v->data.scalar.value);
		return c->log_level < 0 ? cfg_err(p, v, "log_level: error, "
			"warning, info or debug") : 0;
	case CGD_SET_KILL_DENIED:
		return parse_bool(p, v, key, &c->kill_denied);
	}
	return parse_rules(p, v, c);
}

static int parse_doc(struct cfgp *p, struct cgd_config *c)
{
	yaml_node_t *root = yaml_document_get_root_node(p->doc);
	yaml_node_pair_t *pr;
	int err = 0;

	if (!root)
		return 0;	/* empty file: no rules */
	if (root->type != YAML_MAPPING_NODE)
		return cfg_err(p, root, "the config is a mapping (rules:, "
			       "policy_dir:, ...)");
	for (pr = root->data.mapping.pairs.start;
	     !err && pr < root->data.mapping.pairs.top; pr++)
		err = parse_key(p, yaml_document_get_node(p->doc, pr->key),
				yaml_document_get_node(p->doc, pr->value), c);
	c->set &= ~(1u << 31);
	return err;
}

static int read_file(const char *path, char **buf, size_t *len, int *missing,
		     char *err, size_t errlen)
{
	struct stat st;
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

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

int cgd_config_load(const char *path, struct cgd_config *c, int *missing,
		    char *err, size_t errlen)
{
	struct cfgp p = { .file = path, .err = err, .errlen = errlen };
	yaml_parser_t parser;
	yaml_document_t doc;
	char *buf = NULL;
	size_t len = 0;
	int ret;

	memset(c, 0, sizeof(*c));
	ret = read_file(path, &buf, &len, missing, err, errlen);
	if (ret)
		return *missing ? 0 : ret;
	if (!yaml_parser_initialize(&parser)) {
		free(buf);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errlen, "%s:%zu:%zu: %s", path,
			 parser.problem_mark.line + 1,
			 parser.problem_mark.column + 1,
			 parser.problem ? parser.problem : "bad YAML");
		ret = -EINVAL;
	} else {
		p.doc = &doc;
		ret = parse_doc(&p, c);
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	free(buf);
	if (ret)
		cgd_config_free(c);
	return ret;
}

void cgd_config_free(struct cgd_config *c)
{
	free(c->rules);
	c->rules = NULL;
	c->nrules = 0;
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
