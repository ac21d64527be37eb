// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The YAML reader's fast path (lib/yamlfast.c) against libyaml: wherever it reads a document
 * to its end, the nodes (type, text, style, line:col) must be libyaml's; what it must read
 * (the forms big generated policies use) it reads; what lies outside its subset it leaves to
 * libyaml; and a policy parsed through it equals the same policy parsed through libyaml.
 * (tests/fuzz/fuzz_policy.c makes the same comparison on every fuzzed input.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define UNUSED(x) (void)(x)

#include "policy.h"
#include "../../lib/yamlread.h"

struct fnode {
	int type, plain;
	size_t line, col, len;
	char s[256];
};

/* 1: the fast path read @doc to its end with libyaml's nodes; 0: it bailed out. */
static int fast_reads(const char *doc)
{
	static struct fnode v[512];
	char err[256];
	struct yr_node n;
	struct yr r;
	size_t k = 0, i;
	int done = 0;

	assert_int_equal(yr_init_fast(&r, "t", doc, strlen(doc), err, sizeof(err)), 0);
	while (k < 512 && !yr_next(&r, &n)) {
		v[k] = (struct fnode){ n.type, n.plain, n.line, n.col, n.len, "" };
		if (n.type == YR_SCALAR) {
			assert_true(n.len < sizeof(v[k].s));
			memcpy(v[k].s, n.s, n.len + 1);
		}
		if (v[k++].type == YR_NONE) {
			done = 1;
			break;
		}
	}
	yr_free(&r);
	if (!done)
		return 0;
	assert_int_equal(yr_init(&r, "t", doc, strlen(doc), err, sizeof(err)), 0);
	for (i = 0; i < k; i++) {
		if (yr_next(&r, &n))
			fail_msg("libyaml refuses what the fast path read: %s\n%s", err, doc);
		if (n.type != v[i].type || n.plain != v[i].plain || n.line != v[i].line ||
		    n.col != v[i].col ||
		    (n.type == YR_SCALAR && (n.len != v[i].len || memcmp(n.s, v[i].s, n.len))))
			fail_msg("node %zu differs: libyaml %d %zu:%zu '%s', fast %d %zu:%zu '%s'\n%s",
				 i, n.type, n.line + 1, n.col + 1, n.type == YR_SCALAR ? n.s : "",
				 v[i].type, v[i].line + 1, v[i].col + 1, v[i].s, doc);
	}
	yr_free(&r);
	return 1;
}

static void test_reads_generated_forms(void **state)
{
	static const char *const docs[] = {
		"policy: p\negress:\n  default: allow\n  rules:\n"
		"    - { action: deny, to: 10.0.0.1/32 }\n    - { action: deny, to: 10.0.0.2/32 }\n",
		"# generated\npolicy: p   # name\nmode: audit\n\negress:\n  rules:\n"
		"  # none yet\n    - {action: allow, to: \"fd00::/8\", proto: tcp, ports: [443, \"8000-8100\"]}\n"
		"ingress:\n    default: deny\n    rules: []\nevents: { rate: 10, burst: 20 }\n",
		"policy: 'q'\nsockets:\n  raw: deny\n  families: { deny: [packet] }\n"
		"  bind: { default: allow, deny: [\"1-1023\"] }\n",
		/* no final newline; trailing spaces; a comment as the last line */
		"policy: p\negress:\n  rules:\n    - { action: deny, to: 1.2.3.4 }",
		"policy: p\negress:\n  rules:\n    - { action: deny, to: 1.2.3.4 }\n  ",
		"policy: p\negress:\n  rules:\n      - [ a, [ b, { c: d } ], {} ]\n    # end",
		"k: { a: { b: [ 1, 2 ] }, c: [] }\nl:\n - x\n - 'y'\n - \"z\"\n",
		/* PyYAML's default dump: indentless sequences of block mappings */
		"egress:\n  default: deny\n  rules:\n  - action: allow\n    ports:\n    - 443\n"
		"    - 8000-8100\n    proto: tcp\n    to: 10.0.0.0/8\n  - action: deny\n"
		"    to: 1.2.3.4/32\npolicy: gen\n",
		/* yaml.v3's: indented ones */
		"policy: gen\negress:\n    rules:\n        - action: deny\n          to: 1.2.3.4/32\n"
		"        -   action: deny\n            to: \"fd00::/8\"\nmode: audit",
	};
	size_t i;

	UNUSED(state);
	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
		if (!fast_reads(docs[i]))
			fail_msg("the fast path did not read:\n%s", docs[i]);
}

static void test_leaves_the_rest_to_libyaml(void **state)
{
	static const char *const docs[] = {
		"policy: p\negress:\n\trules: []\n",		/* tab */
		"policy: p\r\n",				/* CR */
		"policy: p # caf\xc3\xa9\n",			/* non-ASCII, even in a comment */
		"---\npolicy: p\n",				/* document marker */
		"policy: &a p\n", "policy: !t p\n", "policy: *a\n",
		"policy: \"a\\tb\"\n",				/* escape */
		"policy: p\negress: {\n  default: deny }\n",	/* multi-line flow */
		"policy: p\nrules:\n  -\n    action: deny\n",	/* an entry's value below it */
		"policy: p\nrules:\n  - a: b\n   c: d\n",	/* keys of an entry not aligned */
		"policy: p\nmode:\n",				/* empty value */
		"policy: my web\n",				/* spaces in a plain scalar */
		"policy: p\n  more\n",				/* a continuation line */
		"policy: p\nk: [a,]\n", "policy: p\nk: { a: }\n",	/* empty entries */
		"policy: fd00::1\n", "policy: p\nk: [ fd00::1 ]\n",	/* ':' in a plain scalar */
		" policy: p\n", "", "# only a comment\n",
		"policy: p\nk:\n    a: 1\n  b: 2\n",		/* dedent to no open level */
	};
	size_t i;

	UNUSED(state);
	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
		if (fast_reads(docs[i]))
			fail_msg("the fast path read what it must leave to libyaml:\n%s", docs[i]);
}

static void rules_equal(const struct cg_direction *a, const struct cg_direction *b)
{
	size_t i;

	assert_int_equal(a->nrules, b->nrules);
	assert_int_equal(a->default_action, b->default_action);
	for (i = 0; i < a->nrules; i++) {
		const struct cg_rule *x = &a->rules[i], *y = &b->rules[i];

		assert_int_equal(x->action, y->action);
		assert_int_equal(x->family, y->family);
		assert_int_equal(x->prefixlen, y->prefixlen);
		assert_int_equal(x->proto, y->proto);
		assert_memory_equal(x->addr, y->addr, sizeof(x->addr));
		assert_int_equal(x->nports, y->nports);
		if (x->nports)
			assert_memory_equal(x->ports, y->ports, x->nports * sizeof(*x->ports));
		assert_int_equal(x->line, y->line);
		assert_int_equal(x->col, y->col);
	}
}

/* The same text parsed twice: plainly (the fast path), and with a tab in a comment at its
 * end, which only libyaml reads. */
static void test_same_policy_either_way(void **state)
{
	char *doc = malloc(1 << 20), err[512];
	struct cg_policy *a, *b;
	size_t off = 0;
	int i, d;

	UNUSED(state);
	assert_non_null(doc);
	off += (size_t)sprintf(doc + off, "policy: same\nmode: audit\negress:\n  default: deny\n"
			       "  rules:\n");
	for (i = 0; i < 3000; i++)
		off += (size_t)sprintf(doc + off, "    - { action: %s, to: %d.%d.%d.0/24%s }\n",
				       i % 3 ? "deny" : "allow", 10 + i % 7, i / 256 % 256,
				       i % 256, i % 5 ? "" : ", proto: tcp, ports: [22, \"80-90\"]");
	off += (size_t)sprintf(doc + off, "ingress:\n  rules:\n    - { action: deny, from: "
			       "\"2001:db8::/32\", proto: udp }\nsockets: { raw: deny }\n");
	assert_int_equal(cg_policy_parse_buf("s.yaml", doc, off, &a, err, sizeof(err)), 0);
	off += (size_t)sprintf(doc + off, "# tab\t\n");
	assert_int_equal(cg_policy_parse_buf("s.yaml", doc, off, &b, err, sizeof(err)), 0);
	assert_string_equal(a->name, b->name);
	assert_int_equal(a->mode, b->mode);
	assert_int_equal(a->sockets.raw, b->sockets.raw);
	for (d = 0; d < CG_DIR_MAX; d++)
		rules_equal(&a->dir[d], &b->dir[d]);
	cg_policy_free(a);
	cg_policy_free(b);
	free(doc);
}

/* An error found on the fast path is reported in libyaml's and the schema's words. */
static void test_errors_are_libyamls(void **state)
{
	static const char doc[] = "policy: p\negress:\n  rules:\n    - { action: deny, to: 1.2.3.4 }\n"
				  "    - { action: deny, to: 1.2.3.999 }\n";
	struct cg_policy *p = NULL;
	char err[512];

	UNUSED(state);
	assert_int_equal(cg_policy_parse_buf("e.yaml", doc, strlen(doc), &p, err, sizeof(err)),
			 -EINVAL);
	assert_null(p);
	assert_non_null(strstr(err, "e.yaml:5:27: invalid address '1.2.3.999'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_generated_forms),
		cmocka_unit_test(test_leaves_the_rest_to_libyaml),
		cmocka_unit_test(test_same_policy_either_way),
		cmocka_unit_test(test_errors_are_libyamls),
	};

	return cmocka_run_group_tests_name("yamlfast", tests, NULL, NULL);
}
