// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Socket-filter counters for `cgguard stats`: one set per (uid, policy),
 * read from the daemon's pinned maps (no daemon needed), summed over
 * CPUs.  Ingress only: a socket filter sees what its socket receives.
 */
#include <errno.h>
#include <pwd.h>
#include <string.h>
#include "cgguard.h"
#include "../bpf/sockfilter.h"

static void user_name(__u32 uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);

	snprintf(buf, len, "%s", pw ? pw->pw_name : "");
}

static int one(const struct cg_sf_key *k, const struct cg_counters *c,
	       void *ctx)
{
	struct json *j = ctx;
	char policy[CG_SF_NAME_MAX + 1], user[64];

	memcpy(policy, k->policy, CG_SF_NAME_MAX);
	policy[CG_SF_NAME_MAX] = 0;
	user_name(k->uid, user, sizeof(user));
	if (!j) {
		printf("uid %u%s%s%s  policy %s\n", k->uid, *user ? " (" : "",
		       user, *user ? ")" : "", policy);
		counters_text("ingress", c);
		return 0;
	}
	jw_obj_start(j);
	jw_ku64(j, "uid", k->uid);
	jw_kstr(j, "user", user);
	jw_kstr(j, "policy", policy);
	counters_json(j, "ingress", c);
	jw_obj_end(j);
	return 0;
}

int print_sockfilter_stats(struct json *j, int quiet_if_none)
{
	struct cg_sf sf;
	int err;

	cg_clearerr();
	err = cg_sf_open(&sf, 0);
	if (err == -ENOENT && quiet_if_none)
		return 0;
	if (err == -ENOENT) {	/* no filter ever handed out: nothing */
		if (j) {
			jw_arr_start(j);
			jw_arr_end(j);
		}
		return 0;
	}
	if (err)
		return report(err, "socket-filter counters");
	if (j)
		jw_arr_start(j);
	else
		printf("socket filters (per uid and policy, from the daemon)\n");
	err = cg_sf_counters(&sf, one, j);
	if (j)
		jw_arr_end(j);
	cg_sf_close(&sf);
	return err ? report(err, "socket-filter counters") : 0;
}
