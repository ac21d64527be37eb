// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * libFuzzer harness: policy text -> parse -> cg_policy_prepare() (compile, LPM entries and
 * socket config, the kernel tables' limits) and the layer check -> what the CLI prints of
 * each rule.  Everything `cgguard attach` and `policy check` do before touching the kernel.
 */
#include <stdint.h>
#include <stdlib.h>
#include "../../policy/compile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cg_policy *p = NULL;
	struct cg_compiled c;
	struct cg_sockcfg sc;
	char err[CG_ERR_MAX], line[256];
	size_t i;
	int d;

	if (cg_policy_parse_buf("fuzz.yaml", (const char *)data, size, &p, err, sizeof(err)))
		return 0;
	for (d = 0; d < CG_DIR_MAX; d++)
		for (i = 0; i < p->dir[d].nrules; i++)
			cg_rule_format(&p->dir[d].rules[i], d, line, sizeof(line));
	cg_policy_layers_check(p, 0, 0, &d, err, sizeof(err));
	if (!cg_policy_prepare(p, &c, &sc, err, sizeof(err)))
		cg_compiled_free(&c);
	cg_policy_free(p);
	return 0;
}
