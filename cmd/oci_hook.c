// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* cgguard oci-hook: placeholder until the hook lands. */
#include "cgguard.h"

int do_oci_hook(int argc, char **argv)
{
	fprintf(stderr, "%s: oci-hook: not built yet\n", prog_name);
	return 1;
}
