// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* cgguard gc: forget guarded cgroups that no longer exist. */
#include <errno.h>
#include "cgguard.h"
#include "nftcmd.h"

static int gc_one(const struct cg_status *st, void *ctx)
{
	struct json *j = ctx;

	if (j)
		jw_str(j, st->meta.path);
	else
		printf("removed %s (policy %s): cgroup is gone\n",
		       st->meta.path, st->slot.name);
	return 0;
}

static void usage(void)
{
	printf("Usage: %s gc [--json]\n\nRemoves the links, pins "
	       "and records of guarded cgroups whose directory\n"
	       "is gone (a container whose poststop hook never "
	       "ran).  The daemon does this by itself.\n"
	       "nft-guarded cgroups: rules of a removed cgroup "
	       "are deleted; a cgroup\nrecreated under the same "
	       "path gets its recorded policy again.\n",
	       prog_name);
}

int do_gc(int argc, char **argv)
{
	struct cg_guard *g;
	struct json j;
	int err;

	err = json_only_opts("gc", argc, argv, usage);
	if (err)
		return err == -ECANCELED ? 0 : 2;
	if (require_caps("gc"))
		return 1;
	err = cg_guard_open(&g, 0);
	if (err && err != -ENOENT)	/* nft records are still collected */
		report(err, "opening pinned state");
	if (json_output) {
		jw_init(&j, stdout);
		jw_arr_start(&j);
	}
	if (!err) {
		err = cg_guard_gc(g, gc_one, json_output ? &j : NULL);
		cg_guard_close(g);
	}
	else
		err = err != -ENOENT;
	err = err < 0 ? report(err, "gc") : err;
	err |= nft_gc(json_output ? &j : NULL);
	if (json_output)
		jw_arr_end(&j);
	return err;
}
