// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* cgguard upgrade: this build's programs on every guarded cgroup. */
#include <errno.h>
#include "cgguard.h"

static void usage(void)
{
	printf("Usage: %s upgrade [--json]\n\nLoads the BPF programs "
	       "this cgguard carries onto the pinned maps and\n"
	       "switches every guarded cgroup's links to them "
	       "atomically (BPF_LINK_UPDATE):\npolicies, bindings "
	       "and counters stay.  A no-op when they already "
	       "run.\n", prog_name);
}

int do_upgrade(int argc, char **argv)
{
	struct cg_guard *g;
	struct json j;
	int err, n = 0, stale;

	err = json_only_opts("upgrade", argc, argv, usage);
	if (err)
		return err == -ECANCELED ? 0 : 2;
	/* CREATE: with nothing guarded, opening already replaces them. */
	if (require_caps("upgrade") || open_guard(&g, CG_OPEN_CREATE))
		return 1;
	stale = g->stale;
	cg_clearerr();
	err = stale ? cg_guard_upgrade(g, &n) : 0;
	cg_guard_close(g);
	if (err)
		return report(err, "upgrade");
	if (json_output) {
		jw_init(&j, stdout);
		jw_obj_start(&j);
		jw_kbool(&j, "upgraded", stale);
		jw_ku64(&j, "links", n);
		jw_obj_end(&j);
	} else if (stale) {
		printf("switched %d cgroup links to this build's programs\n", n);
	} else {
		printf("the pinned programs are this build's: nothing to do\n");
	}
	return 0;
}
