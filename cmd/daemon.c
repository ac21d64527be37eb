// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* cgguard daemon: placeholder until the daemon lands. */
#include "cgguard.h"

int do_daemon(int argc, char **argv)
{
	fprintf(stderr, "%s: daemon: not built yet\n", prog_name);
	return 1;
}
