// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* cgguard doctor: placeholder until the probe lands. */
#include "cgguard.h"

int do_doctor(int argc, char **argv)
{
	fprintf(stderr, "%s: doctor: not built yet\n", prog_name);
	return 1;
}
