// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* cgguard detach --cgroup PATH */
#include <errno.h>
#include "cgguard.h"
#include "nftcmd.h"

static void usage(void)
{
	printf("Usage: %s detach --cgroup PATH\n\n"
	       "Removes cgguard's own links and pins from a cgroup.  Programs\n"
	       "attached by anything else stay.  PATH may name a cgroup that\n"
	       "was already removed (its pins are cleaned up).  For a cgroup\n"
	       "guarded by the nft backend, removes its chains, sets and\n"
	       "dispatch rules from table inet cgguard (and the table when\n"
	       "nothing else is in it).\n", prog_name);
}

int do_detach(int argc, char **argv)
{
	const char *cgpath;
	struct cg_guard *g;
	int err;

	err = cgroup_only_opts("detach", argc, argv, usage, &cgpath);
	if (err)
		return err == -ECANCELED ? 0 : 2;
	err = nft_detach_cmd(cgpath);
	if (err != -ENOENT)
		return err;
	if (require_caps("detach") || open_guard(&g, 0))
		return 1;
	cg_clearerr();
	err = cg_guard_detach(g, cgpath, 0);
	if (err)
		report(err, "detach");
	cg_guard_close(g);
	return err ? 1 : 0;
}
