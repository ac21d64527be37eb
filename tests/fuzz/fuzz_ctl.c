// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* libFuzzer harness: one control-socket request line -> cgd_ctl_parse_request(). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../../daemon/daemon.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	const char *cmd = cgd_ctl_parse_request((const char *)data, size, err, sizeof(err));

	/* exactly one of: a known command, or a message.  The list is the
	 * protocol's (docs/daemon.md, "Control socket"); a command the
	 * parser accepts that is not here is a failure until it is added. */
	if (cmd ? strcmp(cmd, "status") && strcmp(cmd, "reload") &&
		  strcmp(cmd, "list") && strcmp(cmd, "monitor") :
		  !err[0])
		abort();
	return 0;
}
