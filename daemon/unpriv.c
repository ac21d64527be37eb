// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The `unprivileged:` section of the daemon config: who may ask the
 * daemon for what over the unprivileged socket (usock.c).  See unpriv.h
 * for the format.  Everything is checked at load: a name that does not
 * resolve, a key that is unknown or given twice, an entry naming two
 * principals, a bad policy name or subtree path is an error with its
 * file:line:col, and the whole config is refused (the old one stays).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <yaml.h>
#include "daemon.h"

struct upp {
	yaml_document_t *doc;
	const char *file;
	char *err;
	size_t errlen;
};

static int up_err(struct upp *p, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int up_err(struct upp *p, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[CG_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "%s:%zu:%zu: unprivileged: %s", p->file,
		 n ? n->start_mark.line + 1 : 1,
		 n ? n->start_mark.column + 1 : 1, msg);
	return -EINVAL;
}

static const char *up_scalar(struct upp *p, const yaml_node_t *n,
			     const char *key)
{
	if (n->type != YAML_SCALAR_NODE || !n->data.scalar.length) {
		up_err(p, n, "%s: expected a non-empty value", key);
		return NULL;
	}
	return (const char *)n->data.scalar.value;
}

static int name_ok(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("._-", *s)))
			return 0;
	return 1;
}

/* A uid or gid: decimal, 0..4294967294 ((uid_t)-1 means "none"). */
static int parse_id(struct upp *p, const yaml_node_t *n, const char *key,
		    uint32_t *out)
{
	const char *s = up_scalar(p, n, key);
	unsigned long long v;
	char *end;

	if (!s)
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || *s < '0' || *s > '9' || v >= 0xffffffffull)
		return up_err(p, n, "%s: a number from 0 to 4294967294, not "
			      "'%.64s'", key, s);
	*out = v;
	return 0;
}

/* user: NAME / group: NAME, resolved now (NSS): an unknown name is an
 * error rather than an entry that silently matches nobody. */
static int parse_name(struct upp *p, const yaml_node_t *n, int group,
		      struct cg_unpriv_entry *e)
{
	const char *s = up_scalar(p, n, group ? "group" : "user");
	char buf[16384];
	struct passwd pw, *pwr = NULL;
	struct group gr, *grr = NULL;

	if (!s)
		return -EINVAL;
	if (strlen(s) >= sizeof(e->name))
		return up_err(p, n, "%s: name too long", group ? "group" : "user");
	if (group)
		getgrnam_r(s, &gr, buf, sizeof(buf), &grr);
	else
		getpwnam_r(s, &pw, buf, sizeof(buf), &pwr);
	if (group ? !grr : !pwr)
		return up_err(p, n, "no such %s '%s'", group ? "group" : "user",
			      s);
	e->id = group ? grr->gr_gid : pwr->pw_uid;
	snprintf(e->name, sizeof(e->name), "%s", s);
	return 0;
}

static int parse_policies(struct upp *p, yaml_node_t *n,
			  struct cg_unpriv_entry *e)
{
	yaml_node_item_t *it;

	if (n->type != YAML_SEQUENCE_NODE)
		return up_err(p, n, "policies: expected a list of policy names");
	for (it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++) {
		yaml_node_t *v = yaml_document_get_node(p->doc, *it);
		const char *s = up_scalar(p, v, "policies");

		if (!s)
			return -EINVAL;
		if (strlen(s) >= CG_POLICY_NAME_MAX || !name_ok(s))
			return up_err(p, v, "policies: '%.64s' is not a policy "
				      "name", s);
		if (e->npolicies == CGD_UP_MAX_POLICIES)
			return up_err(p, v, "policies: more than %d",
				      CGD_UP_MAX_POLICIES);
		strcpy(e->policies[e->npolicies++], s);
	}
	return 0;
}

static int parse_bool(struct upp *p, const yaml_node_t *n, const char *key,
		      int *out)
{
	const char *s = up_scalar(p, n, key);

	if (!s)
		return -EINVAL;
	if (!strcmp(s, "true"))
		*out = 1;
	else if (!strcmp(s, "false"))
		*out = 0;
	else
		return up_err(p, n, "%s: true or false, not '%.64s'", key, s);
	return 0;
}

/* subtree: relative to the cgroup2 mount; '/' at either end is dropped;
 * empty, "." and ".." components are refused, and so is the root. */
static int parse_subtree(struct upp *p, const yaml_node_t *n,
			 struct cg_unpriv_entry *e)
{
	const char *s = up_scalar(p, n, "subtree"), *c;
	size_t len;

	if (!s)
		return -EINVAL;
	while (*s == '/')
		s++;
	len = strlen(s);
	while (len && s[len - 1] == '/')
		len--;
	if (!len)
		return up_err(p, n, "subtree: the cgroup2 root cannot be "
			      "delegated (name a directory below it)");
	if (len >= sizeof(e->subtree))
		return up_err(p, n, "subtree: longer than %zu bytes",
			      sizeof(e->subtree) - 1);
	memcpy(e->subtree, s, len);
	e->subtree[len] = 0;
	for (c = e->subtree; c; c = strchr(c, '/') ? strchr(c, '/') + 1 : NULL) {
		size_t cl = strcspn(c, "/");

		if (!cl || (cl == 1 && c[0] == '.') ||
		    (cl == 2 && !strncmp(c, "..", 2)))
			return up_err(p, n, "subtree: '%s' has an empty, '.' or "
				      "'..' component", e->subtree);
	}
	return 0;
}

static int parse_entry_key(struct upp *p, const char *key, yaml_node_t *k,
			   yaml_node_t *v, struct cg_unpriv_entry *e,
			   unsigned *seen)
{
	static const char *const keys[] = { "uid", "gid", "user", "group",
		"policies", "files", "subtree" };
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(key, keys[i]))
			break;
	if (i == sizeof(keys) / sizeof(keys[0]))
		return up_err(p, k, "unknown key '%.64s' (uid, gid, user, "
			      "group, policies, files, subtree)", key);
	if (*seen & (1u << i))
		return up_err(p, k, "duplicate key %s", key);
	*seen |= 1u << i;
	if (i < 4 && (*seen & 0xf) != (1u << i))
		return up_err(p, k, "an entry names exactly one of uid:, gid:, "
			      "user:, group:");
	switch (i) {
	case 0: case 1:
		e->kind = i ? CGD_UP_GID : CGD_UP_UID;
		return parse_id(p, v, key, &e->id);
	case 2: case 3:
		e->kind = i == 3 ? CGD_UP_GID : CGD_UP_UID;
		return parse_name(p, v, i == 3, e);
	case 4:
		return parse_policies(p, v, e);
	case 5:
		return parse_bool(p, v, key, &e->files);
	}
	return parse_subtree(p, v, e);
}

static int parse_entry(struct upp *p, yaml_node_t *n,
		       struct cg_unpriv_entry *e)
{
	yaml_node_pair_t *pr;
	unsigned seen = 0;
	int err = 0;

	if (n->type != YAML_MAPPING_NODE)
		return up_err(p, n, "each entry is a mapping { uid: N, "
			      "policies: [NAME, ...] }");
	memset(e, 0, sizeof(*e));
	e->line = n->start_mark.line + 1;
	for (pr = n->data.mapping.pairs.start;
	     !err && pr < n->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(p->doc, pr->value);
		const char *key = up_scalar(p, k, "key");

		err = key ? parse_entry_key(p, key, k, v, e, &seen) : -EINVAL;
	}
	if (!err && !(seen & 0xf))
		err = up_err(p, n, "an entry needs one of uid:, gid:, user:, "
			     "group:");
	if (!err && !(seen & (1u << 4)))
		err = up_err(p, n, "an entry needs policies: (a list, may be "
			     "empty)");
	return err;
}

int cgd_unpriv_parse(yaml_document_t *doc, yaml_node_t *n, const char *file,
		     struct cgd_unpriv_cfg *out, char *err, size_t errlen)
{
	struct upp p = { doc, file, err, errlen };
	yaml_node_item_t *it;
	size_t cnt;
	int ret;

	if (n->type != YAML_SEQUENCE_NODE)
		return up_err(&p, n, "expected a list of entries");
	cnt = n->data.sequence.items.top - n->data.sequence.items.start;
	if (cnt > CGD_UP_MAX_ENTRIES)
		return up_err(&p, n, "more than %d entries", CGD_UP_MAX_ENTRIES);
	out->e = calloc(cnt ? cnt : 1, sizeof(*out->e));
	if (!out->e)
		return -ENOMEM;
	for (it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++) {
		ret = parse_entry(&p, yaml_document_get_node(doc, *it),
				  &out->e[out->n]);
		if (ret)
			return ret;
		out->n++;
	}
	return 0;
}

int cgd_unpriv_parse_socket(yaml_node_t *n, const char *file,
			    struct cgd_unpriv_cfg *out, char *err,
			    size_t errlen)
{
	struct upp p = { NULL, file, err, errlen };
	const char *s = up_scalar(&p, n, "unprivileged_socket");

	if (!s)
		return -EINVAL;
	if (strcmp(s, "off") && (s[0] != '/' ||
	    strlen(s) >= sizeof(((struct sockaddr_un *)0)->sun_path)))
		return up_err(&p, n, "unprivileged_socket: an absolute path "
			      "shorter than 108 bytes, or off");
	snprintf(out->socket, sizeof(out->socket), "%s", s);
	return 0;
}

int cgd_unpriv_parse_group(yaml_node_t *n, const char *file,
			   struct cgd_unpriv_cfg *out, char *err,
			   size_t errlen)
{
	struct upp p = { NULL, file, err, errlen };
	struct cg_unpriv_entry e = {};
	int ret = parse_name(&p, n, 1, &e);

	if (ret)
		return ret;
	snprintf(out->group, sizeof(out->group), "%s", e.name);
	out->gid = e.id;
	return 0;
}

void cgd_unpriv_cfg_free(struct cgd_unpriv_cfg *c)
{
	free(c->e);
	c->e = NULL;
	c->n = 0;
}

/* ---- matching ----------------------------------------------------------- */

static int entry_matches(const struct cg_unpriv_entry *e, uid_t uid,
			 gid_t gid, const gid_t *groups, int ngroups)
{
	int i;

	if (e->kind == CGD_UP_UID)
		return e->id == uid;
	if (e->id == gid)
		return 1;
	for (i = 0; i < ngroups; i++)
		if (groups[i] == e->id)
			return 1;
	return 0;
}

const struct cg_unpriv_entry *cg_unpriv_match(const struct cgd_config *c,
					      uid_t uid, gid_t gid)
{
	size_t i;

	for (i = 0; i < c->up.n; i++)
		if (entry_matches(&c->up.e[i], uid, gid, NULL, 0))
			return &c->up.e[i];
	return NULL;
}

const struct cg_unpriv_entry *cgd_unpriv_match_caller(
	const struct cgd_config *c, const struct cgd_caller *who)
{
	size_t i;

	for (i = 0; i < c->up.n; i++)
		if (entry_matches(&c->up.e[i], who->uid, who->gid, who->groups,
				  who->ngroups))
			return &c->up.e[i];
	return NULL;
}

int cgd_unpriv_allows_policy(const struct cg_unpriv_entry *e,
			     const char *name)
{
	size_t i;

	for (i = 0; i < e->npolicies; i++)
		if (!strcmp(e->policies[i], name))
			return 1;
	return 0;
}
