// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * libFuzzer harness: policy text -> parse -> cg_policy_prepare() (compile, LPM entries and
 * socket config, the kernel tables' limits) and the layer check -> what the CLI prints of
 * each rule.  Everything `cgguard attach` and `policy check` do before touching the kernel.
 *
 * Also differential: wherever the YAML reader's fast path (lib/yamlfast.c) reads an input to
 * its end, libyaml must give exactly the same nodes (type, text, style, line:col), or the
 * harness aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../../policy/compile.h"
#include "../../lib/yamlread.h"

struct fnode {
	int type, plain;
	size_t line, col, len;
	char *s;
};

static void same_as_libyaml(const char *buf, size_t size)
{
	char err[256], err2[256];
	struct fnode *v = NULL;
	struct yr_node n;
	size_t k = 0, i;
	struct yr r;
	int done = 0;

	yr_init_fast(&r, "f", buf, size, err, sizeof(err));
	while (!yr_next(&r, &n)) {
		v = realloc(v, (k + 1) * sizeof(*v));
		v[k] = (struct fnode){ n.type, n.plain, n.line, n.col, n.len, NULL };
		if (n.type == YR_SCALAR) {
			if (n.s[n.len] || memchr(n.s, 0, n.len))
				abort();
			v[k].s = malloc(n.len + 1);
			memcpy(v[k].s, n.s, n.len + 1);
		}
		if (v[k++].type == YR_NONE) {
			done = 1;
			break;
		}
	}
	yr_free(&r);
	if (done) {
		yr_init(&r, "f", buf, size, err2, sizeof(err2));
		for (i = 0; i < k; i++) {
			if (yr_next(&r, &n) || n.type != v[i].type || n.plain != v[i].plain ||
			    n.line != v[i].line || n.col != v[i].col ||
			    (n.type == YR_SCALAR &&
			     (n.len != v[i].len || memcmp(n.s, v[i].s, n.len))))
				abort();
		}
		yr_free(&r);
	}
	for (i = 0; i < k; i++)
		free(v[i].s);
	free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cg_policy *p = NULL;
	struct cg_compiled c;
	struct cg_sockcfg sc;
	char err[CG_ERR_MAX], line[256];
	size_t i;
	int d;

	same_as_libyaml((const char *)data, size);
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
