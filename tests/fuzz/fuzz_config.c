// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * libFuzzer harness: daemon config text -> cgd_config_parse(), then the rules' globs
 * matched against a few cgroup paths, as the daemon does for every cgroup it sees.
 */
#include <stdint.h>
#include <stdlib.h>
#include "../../daemon/daemon.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const paths[] = { "machine.slice/libpod-abc.scope",
		"system.slice", "a/b/c/d/e/f", "" };
	struct cgd_config c;
	char err[CG_ERR_MAX];
	size_t i;

	if (cgd_config_parse("fuzz.yaml", (const char *)data, size, &c, err, sizeof(err)))
		return 0;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		cgd_rule_match(&c, paths[i]);
		cgd_rules_below(&c, paths[i]);
	}
	cgd_config_free(&c);
	return 0;
}
