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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include "daemon.h"
#include "../lib/args.h"
#include "../lib/yamlread.h"

static const char *kind_name(int group)
{
	return group ? "group" : "user";
}

static int scalar(struct yr *y, const struct yr_node *n, const char *key)
{
	if (n->type != YR_SCALAR || !n->len)
		return yr_err(y, n, "unprivileged: %s: expected a non-empty value, "
			      "not %s", key, yr_kind(n));
	return 0;
}

/* A uid or gid: decimal, 0..4294967294 ((uid_t)-1 means "none"). */
static int parse_id(struct yr *y, const struct yr_node *n, const char *key,
		    uint32_t *out)
{
	unsigned long v;

	if (scalar(y, n, key))
		return -EINVAL;
	if (cg_arg_ulong(n->s, 0, 4294967294ul, &v, NULL))
		return yr_err(y, n, "unprivileged: %s: a number from 0 to "
			      "4294967294", key);
	*out = v;
	return 0;
}

/* user: NAME / group: NAME, resolved now (NSS): an unknown name is an
 * error rather than an entry that silently matches nobody. */
static int parse_name(struct yr *y, const struct yr_node *n, int group,
		      struct cg_unpriv_entry *e)
{
	char buf[16384];
	struct passwd pw, *pwr = NULL;
	struct group gr, *grr = NULL;

	if (scalar(y, n, kind_name(group)))
		return -EINVAL;
	if (n->len >= sizeof(e->name))
		return yr_err(y, n, "unprivileged: %s: name too long",
			      kind_name(group));
	if (group)
		getgrnam_r(n->s, &gr, buf, sizeof(buf), &grr);
	else
		getpwnam_r(n->s, &pw, buf, sizeof(buf), &pwr);
	if (group ? !grr : !pwr)
		return yr_err(y, n, "unprivileged: no such %s '%s'",
			      kind_name(group), n->s);
	e->id = group ? grr->gr_gid : pwr->pw_uid;
	snprintf(e->name, sizeof(e->name), "%s", n->s);
	return 0;
}

static int parse_policies(struct yr *y, const struct yr_node *n,
			  struct cg_unpriv_entry *e)
{
	struct yr_node it;
	const char *why;
	int err;

	if (n->type != YR_SEQ)
		return yr_err(y, n, "unprivileged: policies: expected a list of "
			      "policy names, not %s", yr_kind(n));
	while (!(err = yr_next(y, &it)) && it.type != YR_END) {
		if (scalar(y, &it, "policies"))
			return -EINVAL;
		why = cg_policy_name_problem(it.s);
		if (why)
			return yr_err(y, &it, "unprivileged: policies: '%.64s' is "
				      "not a policy name: %s", it.s, why);
		if (e->npolicies == CGD_UP_MAX_POLICIES)
			return yr_err(y, &it, "unprivileged: policies: more "
				      "than %d", CGD_UP_MAX_POLICIES);
		snprintf(e->policies[e->npolicies++], CG_POLICY_NAME_MAX, "%s",
			 it.s);
	}
	return err;
}

/* subtree: relative to the cgroup2 mount; '/' at either end is dropped;
 * empty, "." and ".." components are refused, and so is the root. */
static int parse_subtree(struct yr *y, const struct yr_node *n,
			 struct cg_unpriv_entry *e)
{
	const char *s = n->s, *c;
	size_t len;

	if (scalar(y, n, "subtree"))
		return -EINVAL;
	while (*s == '/')
		s++;
	len = strlen(s);
	while (len && s[len - 1] == '/')
		len--;
	if (!len)
		return yr_err(y, n, "unprivileged: subtree: the cgroup2 root "
			      "cannot be delegated (name a directory below it)");
	if (len >= sizeof(e->subtree))
		return yr_err(y, n, "unprivileged: subtree: longer than %zu "
			      "bytes", sizeof(e->subtree) - 1);
	memcpy(e->subtree, s, len);
	e->subtree[len] = 0;
	for (c = e->subtree; c; c = strchr(c, '/') ? strchr(c, '/') + 1 : NULL) {
		size_t cl = strcspn(c, "/");

		if (!cl || (cl == 1 && c[0] == '.') ||
		    (cl == 2 && !strncmp(c, "..", 2)))
			return yr_err(y, n, "unprivileged: subtree: '%s' has an "
				      "empty, '.' or '..' component", e->subtree);
	}
	return 0;
}

enum { EK_UID, EK_GID, EK_USER, EK_GROUP, EK_POLICIES, EK_FILES, EK_SUBTREE };
static const char *const entry_keys[] = { "uid", "gid", "user", "group",
	"policies", "files", "subtree", NULL };
static const struct yr_keyset entry_ks = { "in an unprivileged: entry",
	entry_keys, NULL, NULL };

static int entry_value(struct yr *y, int idx, const struct yr_node *v,
		       struct cg_unpriv_entry *e, const struct yr_seen *seen)
{
	int i, n = 0;

	for (i = EK_UID; i <= EK_GROUP; i++)
		n += seen->have[i];
	if (idx <= EK_GROUP && n > 1)
		return yr_err(y, v, "unprivileged: an entry names exactly one "
			      "of uid:, gid:, user:, group:");
	switch (idx) {
	case EK_UID: case EK_GID:
		e->kind = idx == EK_GID ? CGD_UP_GID : CGD_UP_UID;
		return parse_id(y, v, entry_keys[idx], &e->id);
	case EK_USER: case EK_GROUP:
		e->kind = idx == EK_GROUP ? CGD_UP_GID : CGD_UP_UID;
		return parse_name(y, v, idx == EK_GROUP, e);
	case EK_POLICIES:
		return parse_policies(y, v, e);
	case EK_FILES:
		if (yr_is(v, "true") || yr_is(v, "false")) {
			e->files = yr_is(v, "true");
			return 0;
		}
		return yr_err(y, v, "unprivileged: files: true or false");
	}
	return parse_subtree(y, v, e);
}

static int parse_entry(struct yr *y, const struct yr_node *n,
		       struct cg_unpriv_entry *e)
{
	struct yr_seen seen = { 0 };
	struct yr_node v;
	int idx, err;

	if (n->type != YR_MAP)
		return yr_err(y, n, "unprivileged: each entry is a mapping "
			      "{ uid: N, policies: [NAME, ...] }, not %s",
			      yr_kind(n));
	memset(e, 0, sizeof(*e));
	e->line = n->line + 1;
	while (!(err = yr_next_pair(y, &entry_ks, &seen, &idx, &v)) && idx >= 0) {
		err = entry_value(y, idx, &v, e, &seen);
		if (err)
			return err;
	}
	if (!err && !(seen.have[EK_UID] || seen.have[EK_GID] ||
		      seen.have[EK_USER] || seen.have[EK_GROUP]))
		err = yr_err(y, n, "unprivileged: an entry needs one of uid:, "
			     "gid:, user:, group:");
	if (!err && !seen.have[EK_POLICIES])
		err = yr_err(y, n, "unprivileged: an entry needs policies: (a "
			     "list, may be empty)");
	return err;
}

int cgd_unpriv_parse(struct yr *y, const struct yr_node *v,
		     struct cgd_unpriv_cfg *out)
{
	struct yr_node it;
	size_t cap = 0;
	void *t;
	int err;

	if (v->type != YR_SEQ)
		return yr_err(y, v, "unprivileged: expected a list of entries, "
			      "not %s", yr_kind(v));
	while (!(err = yr_next(y, &it)) && it.type != YR_END) {
		if (out->n == CGD_UP_MAX_ENTRIES)
			return yr_err(y, &it, "unprivileged: more than %d "
				      "entries", CGD_UP_MAX_ENTRIES);
		if (out->n == cap) {
			cap = cap ? 2 * cap : 8;
			t = realloc(out->e, cap * sizeof(*out->e));
			if (!t)
				return -ENOMEM;
			out->e = t;
		}
		err = parse_entry(y, &it, &out->e[out->n]);
		if (err)
			return err;
		out->n++;
	}
	return err;
}

int cgd_unpriv_parse_socket(struct yr *y, const struct yr_node *v,
			    struct cgd_unpriv_cfg *out)
{
	const char *why;

	if (scalar(y, v, "unprivileged_socket"))
		return -EINVAL;
	if (strcmp(v->s, "off") && (cg_arg_abspath(v->s, &why) ||
	    v->len >= sizeof(((struct sockaddr_un *)0)->sun_path)))
		return yr_err(y, v, "unprivileged_socket: an absolute path "
			      "shorter than 108 bytes, or off");
	snprintf(out->socket, sizeof(out->socket), "%s", v->s);
	return 0;
}

int cgd_unpriv_parse_group(struct yr *y, const struct yr_node *v,
			   struct cgd_unpriv_cfg *out)
{
	struct cg_unpriv_entry e = {};
	int ret = parse_name(y, v, 1, &e);

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
