// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The sandbox's delegated cgroup: when a daemon delegates to this user, the
 * sandbox creates a child cgroup of its own (below its current cgroup, or
 * below --cgroup DIR), asks the daemon over the unprivileged socket to
 * attach the whole policy there (addresses, UDP, ingress, counters), and
 * puts CMD inside it.  The daemon checks that the user owns the cgroup and
 * that the policy is one it may use; cgroup BPF makes every ancestor's
 * programs run as well, so this can only add restrictions.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <json-c/json.h>
#include "sandbox.h"
#include "../lib/ctlclient.h"
#include "../lib/err.h"

/* The caller's cgroup v2 path ("0::/a/b" in /proc/self/cgroup). */
static int own_cgroup(char *buf, size_t len)
{
	char line[PATH_MAX + 8];
	FILE *f = fopen("/proc/self/cgroup", "re");
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (err && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = 0;
		err = snprintf(buf, len, "%s", line + 3) >= (int)len ?
		      -ENAMETOOLONG : 0;
	}
	fclose(f);
	return err;
}

/* Sends one request; 0 with *reply (a JSON object whose "ok" is true),
 * else -errno with the daemon's message in cg_lasterr(). */
static int call(const char *sock, json_object *req, int passfd,
		json_object **reply)
{
	char *txt = NULL;
	json_object *o, *v;
	int fd, err;

	fd = cg_ureq_connect(sock, 10);
	if (fd < 0)
		return fd;
	err = cg_ureq_call(fd, json_object_to_json_string_ext(req,
			   JSON_C_TO_STRING_PLAIN), passfd, &txt);
	close(fd);
	if (err)
		return err;
	o = json_tokener_parse(txt);
	free(txt);
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return cg_seterr(-EPROTO, "the daemon's reply is not a JSON "
				 "object");
	}
	if (json_object_object_get_ex(o, "ok", &v) && json_object_get_boolean(v)) {
		*reply = o;
		return 0;
	}
	err = json_object_object_get_ex(o, "errno", &v) ?
	      -json_object_get_int(v) : -EPROTO;
	if (err >= 0)
		err = -EPROTO;
	cg_seterr(err, "%s", json_object_object_get_ex(o, "error", &v) ?
		  json_object_get_string(v) : "refused");
	json_object_put(o);
	return err;
}

int sb_ureq_attach(const char *sock, const char *cgroup, const char *policy,
		   int pfd, int fail_open, int *degraded)
{
	json_object *req = json_object_new_object(), *rep = NULL, *v;
	int err;

	json_object_object_add(req, "cmd", json_object_new_string("attach"));
	json_object_object_add(req, "cgroup", json_object_new_string(cgroup));
	if (pfd >= 0)
		json_object_object_add(req, "policy_fd", json_object_new_boolean(1));
	else
		json_object_object_add(req, "policy", json_object_new_string(policy));
	if (fail_open)
		json_object_object_add(req, "fail", json_object_new_string("open"));
	err = call(sock, req, pfd, &rep);
	json_object_put(req);
	if (!err && degraded)
		*degraded = json_object_object_get_ex(rep, "degraded", &v) &&
			    json_object_get_boolean(v);
	json_object_put(rep);
	return err;
}

int sb_ureq_detach(const char *sock, const char *cgroup)
{
	json_object *req = json_object_new_object(), *rep = NULL;
	int err;

	json_object_object_add(req, "cmd", json_object_new_string("detach"));
	json_object_object_add(req, "cgroup", json_object_new_string(cgroup));
	err = call(sock, req, -1, &rep);
	json_object_put(req);
	json_object_put(rep);
	return err;
}

/* Makes PARENT/cgguard-sandbox-PID; the user owns it, so the daemon will
 * accept it (when PARENT lies in the user's delegated subtree). */
static int make_cgroup(struct sb_deleg *d, const char *parent)
{
	char own[PATH_MAX], rel[PATH_MAX];
	struct cg_cgroup pc;
	int err;

	if (!parent) {
		err = own_cgroup(own, sizeof(own));
		if (err)
			return cg_seterr(err, "cannot find this process's "
					 "cgroup v2 in /proc/self/cgroup");
		parent = own;
	} else {
		err = cg_cgroup_resolve(parent, &pc);	/* --cgroup DIR */
		if (err)
			return err;
		parent = pc.rel;
	}
	if (snprintf(rel, sizeof(rel), "%s/cgguard-sandbox-%d", parent,
		     (int)getpid()) >= (int)sizeof(rel))
		return cg_seterr(-ENAMETOOLONG, "cgroup path too long");
	err = cg_cgroup_abs(rel, d->cg.abs, sizeof(d->cg.abs));
	if (err)
		return err;
	if (mkdir(d->cg.abs, 0755))
		return cg_seterr(-errno, "cannot create cgroup %s: %m%s",
				 d->cg.abs, errno == EACCES ? " (run inside "
				 "a cgroup delegated to you, or name one with "
				 "--cgroup)" : "");
	err = cg_cgroup_resolve(d->cg.abs, &d->cg);
	if (err)
		rmdir(d->cg.abs);
	return err;
}

void sb_deleg_setup(struct sb_deleg *d, const char *sock, const char *parent,
		    const char *policy, int pfd)
{
	int fd, err;

	memset(d, 0, sizeof(*d));
	snprintf(d->socket, sizeof(d->socket), "%s", sock);
	cg_clearerr();
	/* Cheap check first: no daemon means no cgroup to create. */
	fd = cg_ureq_connect(sock, 10);
	if (fd < 0) {
		snprintf(d->why, sizeof(d->why), "%s", cg_lasterr());
		return;
	}
	close(fd);
	err = make_cgroup(d, parent);
	if (err) {
		snprintf(d->why, sizeof(d->why), "%s", cg_lasterr());
		return;
	}
	/* fail open: the LSM part (families) is seccomp's job here. */
	err = sb_ureq_attach(sock, d->cg.rel, policy, pfd, 1, &d->degraded);
	if (err) {
		snprintf(d->why, sizeof(d->why), "the daemon refused: %s",
			 cg_lasterr());
		rmdir(d->cg.abs);
		return;
	}
	d->active = 1;
}

int sb_deleg_teardown(struct sb_deleg *d)
{
	char p[PATH_MAX + 16];
	int fd, err, rm;

	if (!d->active)
		return 0;
	/* Leftover daemonized processes would keep the cgroup busy. */
	snprintf(p, sizeof(p), "%s/cgroup.kill", d->cg.abs);
	fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "1", 1) < 0) { /* best effort */ }
		close(fd);
	}
	err = sb_ureq_detach(d->socket, d->cg.rel);
	/* Removed either way: the daemon forgets removed cgroups itself. */
	rm = cg_cgroup_remove(&d->cg);
	if (rm && !err)
		err = rm;
	d->active = 0;
	return err;
}
