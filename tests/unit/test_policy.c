// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests for the policy parser (policy/parse.c) and loaders/helpers (policy/builtin.c).
 *
 * Build:
 *   gcc -std=gnu11 -Wall -Wextra -O2 -g -Ipolicy policy/parse.c policy/builtin.c \
 *       tests/unit/test_policy.c -lyaml -lcmocka -o /tmp/test_policy
 *
 * Most cases are table-driven: each malformed input must fail with -EINVAL and an error that
 * starts with the exact "policy.yaml:LINE:COL:" and contains a key phrase, so both the
 * position and the wording users see are pinned down.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif
/* The timing check only means something in a plain optimised build. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define INSTRUMENTED 1
#else
#define INSTRUMENTED RUNNING_ON_VALGRIND
#endif

#include "policy.h"
#include "compile.h"

#define SRC "policy.yaml"

struct bad {
	const char *name;
	const char *yaml;
	const char *where;	/* exact prefix of the error */
	const char *phrase;	/* must appear in the error */
};

/* Rule-line templates with known columns: in R_TO the address starts at column 27, in
 * R_PORTS the ports value starts at column 56 (so the first list item is at 57). */
#define HDR "policy: t\negress:\n  rules:\n"
#define IHDR "policy: t\ningress:\n  rules:\n"
#define R_TO(x) HDR "    - { action: deny, to: " x " }\n"
#define R_PORTS(x) HDR "    - { action: allow, to: 1.2.3.4, proto: tcp, ports: " x " }\n"
#define AT(l, c) SRC ":" #l ":" #c ": "
#define P8 "1, 1, 1, 1, 1, 1, 1, 1, "
/* 65 nested flow sequences; the 65th '[' is at column 9 + 64. */
#define DEEP8 "[[[[[[[["
#define DEEP65 DEEP8 DEEP8 DEEP8 DEEP8 DEEP8 DEEP8 DEEP8 DEEP8 "[" 
#define NAME64 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const struct bad bad_cases[] = {
	/* addresses */
	{ "cidr_garbage", R_TO("garbage"), AT(4, 27), "invalid address 'garbage' in 'to'" },
	{ "cidr_octet_300", R_TO("300.1.1.1"), AT(4, 27), "invalid address '300.1.1.1'" },
	{ "cidr_three_octets", R_TO("1.2.3/24"), AT(4, 27), "invalid address '1.2.3/24'" },
	{ "cidr_prefix_junk", R_TO("10.0.0.0/8x"), AT(4, 27), "invalid prefix length" },
	{ "cidr_addr_junk", R_TO("10.0.0.0x/8"), AT(4, 27), "invalid address" },
	{ "cidr_host_bits_v4", R_TO("10.0.0.1/8"), AT(4, 27),
	  "host bits set in 10.0.0.1/8; did you mean 10.0.0.0/8?" },
	{ "cidr_host_bits_v6", R_TO("\"fd00::1/8\""), AT(4, 27),
	  "host bits set in fd00::1/8; did you mean fd00::/8?" },
	{ "cidr_v4_33", R_TO("10.0.0.0/33"), AT(4, 27), "prefix /33 is too long for IPv4" },
	{ "cidr_v6_129", R_TO("\"::/129\""), AT(4, 27), "prefix /129 is too long for IPv6" },
	{ "cidr_negative_prefix", R_TO("10.0.0.0/-1"), AT(4, 27), "invalid prefix length" },
	{ "cidr_empty_prefix", R_TO("10.0.0.0/"), AT(4, 27), "invalid prefix length" },
	{ "cidr_space_prefix", R_TO("\"10.0.0.0/ 8\""), AT(4, 27), "invalid prefix length" },
	{ "cidr_plus_prefix", R_TO("10.0.0.0/+8"), AT(4, 27), "invalid prefix length" },
	{ "cidr_zero_padded_prefix", R_TO("10.0.0.0/08"), AT(4, 27), "invalid prefix length" },
	{ "cidr_zero_padded_octet", R_TO("010.0.0.0/8"), AT(4, 27), "invalid address" },
	{ "cidr_double_slash", R_TO("1.2.3.4/32/1"), AT(4, 27), "invalid prefix length" },
	{ "cidr_zone_id", R_TO("\"fe80::1%eth0\""), AT(4, 27), "invalid address" },
	{ "cidr_embedded_nul", R_TO("\"1.2.3.4\\0x\""), AT(4, 27), "a NUL byte (\\0) inside a string" },
	{ "cidr_empty", R_TO("\"\""), AT(4, 27), "invalid address ''" },
	{ "cidr_sequence", R_TO("[1.2.3.4]"), AT(4, 27), "'to' must be an address" },
	{ "cidr_mapped_short", R_TO("\"::ffff:0:0/95\""), AT(4, 27),
	  "IPv4-mapped prefix shorter than /96" },
	{ "cidr_mapped_host_bits", R_TO("\"::ffff:10.0.0.1/104\""), AT(4, 27),
	  "did you mean ::ffff:10.0.0.0/104?" },
	/* ports and protocols */
	{ "port_zero", R_PORTS("[0]"), AT(4, 57), "port '0' out of range" },
	{ "port_65536", R_PORTS("[65536]"), AT(4, 57), "port '65536' out of range" },
	{ "port_huge", R_PORTS("[99999999999999999999]"), AT(4, 57), "out of range" },
	{ "port_range_hi_65536", R_PORTS("[\"1-65536\"]"), AT(4, 57), "out of range" },
	{ "port_reversed", R_PORTS("[443, \"200-100\"]"), AT(4, 62),
	  "reversed port range '200-100'; did you mean \"100-200\"?" },
	{ "port_not_numeric", R_PORTS("[http]"), AT(4, 57), "invalid port 'http'" },
	{ "port_negative", R_PORTS("[\"-5\"]"), AT(4, 57), "invalid port '-5'" },
	{ "port_octal_looking", R_PORTS("[0443]"), AT(4, 57), "invalid port '0443'" },
	{ "port_open_range", R_PORTS("[\"80-\"]"), AT(4, 57), "invalid port '80-'" },
	{ "port_spaced_range", R_PORTS("[\"80 - 90\"]"), AT(4, 57), "invalid port" },
	{ "port_sequence_item", R_PORTS("[[80]]"), AT(4, 57), "a port must be a number" },
	{ "ports_empty", R_PORTS("[]"), AT(4, 56), "'ports' is empty" },
	{ "ports_mapping", R_PORTS("{ a: 1 }"), AT(4, 56), "'ports' must be a list of ports" },
	{ "ports_too_many", R_PORTS("[" P8 P8 P8 P8 P8 P8 P8 P8 "2]"), AT(4, 249),
	  "too many entries in 'ports' (limit 64)" },
	{ "ports_proto_any", HDR "    - { action: allow, to: 1.2.3.4, ports: [80] }\n", AT(4, 37),
	  "ports need proto tcp or udp (proto is any)" },
	{ "ports_proto_icmp",
	  HDR "    - { action: allow, to: 1.2.3.4, proto: icmp, ports: [80] }\n", AT(4, 50),
	  "ports need proto tcp or udp (proto is icmp)" },
	{ "proto_unknown", HDR "    - { action: allow, to: 1.2.3.4, proto: sctp }\n", AT(4, 44),
	  "invalid proto 'sctp'; expected one of any, icmp, tcp, udp" },
	{ "proto_uppercase", HDR "    - { action: allow, to: 1.2.3.4, proto: TCP }\n", AT(4, 44),
	  "invalid proto 'TCP'" },
	/* unknown and duplicate keys */
	{ "unknown_top_key", "policy: t\nfoo: 1\n", AT(2, 1),
	  "unknown key 'foo' at top level; expected one of policy, mode, on_violation" },
	{ "unknown_direction_key", "policy: t\negress:\n  defaults: deny\n", AT(3, 3),
	  "unknown key 'defaults' in 'egress'; expected one of default, rules" },
	{ "unknown_rule_key", HDR "    - { action: deny, to: 1.2.3.4, port: 80 }\n", AT(4, 36),
	  "unknown key 'port' in egress rule; expected one of action, to, proto, ports" },
	{ "unknown_sockets_key", "policy: t\nsockets:\n  rawx: deny\n", AT(3, 3),
	  "unknown key 'rawx' in 'sockets'; expected one of raw, families, bind" },
	{ "unknown_bind_key", "policy: t\nsockets:\n  bind: { default: deny, allowed: [80] }\n",
	  AT(3, 26), "unknown key 'allowed' in 'bind'" },
	{ "unknown_families_key", "policy: t\nsockets:\n  families: { allow: [unix] }\n",
	  AT(3, 15), "unknown key 'allow' in 'families'" },
	{ "duplicate_top_key", "policy: t\nmode: audit\nmode: enforce\n", AT(3, 1),
	  "duplicate key 'mode' at top level (first at 2:1)" },
	{ "duplicate_policy_key", "policy: a\npolicy: b\n", AT(2, 1), "duplicate key 'policy'" },
	{ "duplicate_rule_key", HDR "    - { action: deny, to: 1.2.3.4, action: allow }\n",
	  AT(4, 36), "duplicate key 'action' in egress rule" },
	{ "complex_key", "policy: t\n? [a]\n: b\n", AT(2, 3),
	  "keys at top level must be plain strings" },
	/* wrong node types */
	{ "rules_mapping", "policy: t\negress:\n  rules: { a: 1 }\n", AT(3, 10),
	  "'rules' must be a sequence, not a mapping" },
	{ "action_sequence", HDR "    - { action: [deny], to: 1.2.3.4 }\n", AT(4, 17),
	  "'action' must be a string, not a sequence" },
	{ "top_sequence", "- a\n- b\n", AT(1, 1), "must be a mapping" },
	{ "top_scalar", "hello\n", AT(1, 1), "must be a mapping starting with 'policy: NAME'" },
	{ "egress_scalar", "policy: t\negress: yes\n", AT(2, 9),
	  "'egress' must be a mapping, not a scalar" },
	{ "egress_null", "policy: t\negress:\ningress: {}\n", AT(2, 8),
	  "'egress' must be a mapping, not an empty value" },
	{ "rule_scalar", HDR "    - deny\n", AT(4, 7), "each egress rule must be a mapping" },
	{ "sockets_sequence", "policy: t\nsockets: []\n", AT(2, 10),
	  "'sockets' must be a mapping, not a sequence" },
	/* empty input and YAML-level problems */
	{ "empty_file", "", AT(1, 1), "empty policy" },
	{ "whitespace_only", "   \n\n     \n", AT(1, 1), "empty policy" },
	{ "comment_only", "# nothing here\n   # still nothing\n", AT(1, 1), "empty policy" },
	{ "null_document", "~\n", AT(1, 1), "empty policy" },
	{ "bare_doc_marker", "---\n", AT(2, 1), "empty policy" },
	{ "multiple_documents", "policy: a\n---\npolicy: b\n", AT(2, 1),
	  "multiple YAML documents" },
	{ "trailing_doc_marker", "policy: a\n---\n", AT(2, 1), "multiple YAML documents" },
	{ "yaml_unclosed_flow", "policy: t\negress: [\n", AT(3, 1),
	  "YAML syntax error: did not find expected node content" },
	{ "yaml_bad_indent", "policy: t\n  mode: audit\n", AT(2, 7),
	  "YAML syntax error: mapping values are not allowed in this context" },
	{ "yaml_tab_indent", "policy: t\negress:\n\trules: []\n", AT(3, 1),
	  "found character that cannot start any token" },
	{ "yaml_tab_indent_says_tab", "policy: t\negress:\n\trules: []\n", AT(3, 1),
	  "; a tab character: YAML indents with spaces only" },
	{ "yaml_tab_after_spaces", "policy: t\negress:\n  \trules: []\n", AT(3, 3), "a tab" },
	{ "yaml_tag_scalar", "policy: !evil t\n", AT(1, 9),
	  "YAML tags are not supported ('!evil')" },
	{ "yaml_tag_core", "policy: t\nmode: !!str audit\n", AT(2, 7),
	  "YAML tags are not supported ('tag:yaml.org,2002:str')" },
	{ "yaml_tag_mapping", "policy: t\negress: !x { default: deny }\n", AT(2, 9),
	  "YAML tags are not supported" },
	{ "yaml_tag_after_schema_error", "policy: t\nmode: bogus\negress: !x {}\n", AT(3, 9),
	  "YAML tags are not supported" },
	{ "yaml_deep_flow", "policy: t\negress: " DEEP65 "\n", AT(2, 72),
	  "nested deeper than 64 levels" },
	{ "yaml_schema_then_syntax", "policy: t\nmode: bogus\negress: [\n", AT(4, 1),
	  "YAML syntax error" },
	{ "yaml_bad_utf8", "policy: t\nmode: \xff\n", AT(2, 7), "invalid leading UTF-8 octet" },
	{ "yaml_unclosed_quote", "policy: \"abc\n", AT(2, 1),
	  "YAML syntax error: found unexpected end of stream" },
	{ "yaml_anchor", "policy: &a t\n", AT(1, 9),
	  "YAML anchors and aliases are not supported" },
	{ "yaml_alias", "policy: t\nmode: *a\n", AT(2, 7),
	  "YAML anchors and aliases are not supported" },
	{ "yaml_anchored_rule", HDR "    - &r { action: deny, to: 1.2.3.4 }\n    - *r\n", AT(4, 7),
	  "YAML anchors and aliases are not supported" },
	{ "json_unknown_key", "{\"policy\": \"x\", \"egres\": {}}", AT(1, 17),
	  "unknown key 'egres' at top level" },
	/* enum values */
	{ "mode_capitalised", "policy: t\nmode: Enforce\n", AT(2, 7),
	  "invalid mode 'Enforce'; expected one of enforce, audit" },
	{ "violation_bad", "policy: t\non_violation: drop\n", AT(2, 15),
	  "invalid on_violation 'drop'; expected one of block, kill" },
	{ "default_bad", "policy: t\negress:\n  default: reject\n", AT(3, 12),
	  "invalid default 'reject'; expected one of allow, deny" },
	{ "action_plain_true", HDR "    - { action: true, to: 1.2.3.4 }\n", AT(4, 17),
	  "invalid action 'true'" },
	{ "action_plain_yes", IHDR "    - { action: yes, from: 1.2.3.4 }\n", AT(4, 17),
	  "invalid action 'yes'" },
	/* required keys and direction-specific keys */
	{ "action_missing", HDR "    - { to: 1.2.3.4 }\n", AT(4, 7), "egress rule has no 'action'" },
	{ "to_missing", HDR "    - { action: deny }\n", AT(4, 7),
	  "egress rule has no 'to' address" },
	{ "from_missing", IHDR "    - { action: deny }\n", AT(4, 7),
	  "ingress rule has no 'from' address" },
	{ "from_in_egress", HDR "    - { action: deny, from: 1.2.3.4 }\n", AT(4, 23),
	  "egress rules use 'to', not 'from'" },
	{ "to_in_ingress", IHDR "    - { action: deny, to: 1.2.3.4 }\n", AT(4, 23),
	  "ingress rules use 'from', not 'to'" },
	{ "block_rule_host_bits", HDR "    - action: deny\n      to: 10.0.0.1/8\n", AT(5, 11),
	  "host bits set" },
	{ "block_rule_later_error",
	  HDR "    - action: deny\n      to: 10.0.0.0/8\n    - action: allow\n      to: 1.1.1.1\n"
	      "      proto: udp\n      ports: [53, 0]\n", AT(9, 19), "port '0' out of range" },
	/* sockets */
	{ "family_unknown", "policy: t\nsockets:\n  families: { deny: [packet, bogus] }\n",
	  AT(3, 30), "unknown address family 'bogus'; known: unix, inet" },
	{ "family_uppercase", "policy: t\nsockets:\n  families: { deny: [PACKET] }\n", AT(3, 22),
	  "unknown address family 'PACKET'" },
	{ "families_scalar", "policy: t\nsockets:\n  families: { deny: packet }\n", AT(3, 21),
	  "'families.deny' must be a sequence, not a scalar" },
	{ "raw_bad", "policy: t\nsockets:\n  raw: maybe\n", AT(3, 8), "invalid raw 'maybe'" },
	{ "bind_port_zero", "policy: t\nsockets:\n  bind: { deny: [0] }\n", AT(3, 18),
	  "port '0' out of range" },
	{ "bind_empty", "policy: t\nsockets:\n  bind: { allow: [] }\n", AT(3, 18),
	  "'bind.allow' is empty" },
	{ "bind_default_bad", "policy: t\nsockets:\n  bind: { default: open }\n", AT(3, 20),
	  "invalid bind default 'open'" },
	/* policy name */
	{ "policy_missing", "mode: audit\n", AT(1, 1), "missing required key 'policy'" },
	{ "name_slash", "policy: we/b\n", AT(1, 9), "invalid policy name 'we/b': use only A-Z" },
	{ "name_space", "policy: \"a b\"\n", AT(1, 9), "invalid policy name 'a b'" },
	{ "name_dot", "policy: .\n", AT(1, 9), "invalid policy name '.': it starts with '.'" },
	{ "name_dotdot", "policy: ..\n", AT(1, 9), "invalid policy name '..': it starts with '.'" },
	{ "name_nul", "policy: \"a\\0b\"\n", AT(1, 9), "a NUL byte (\\0) inside a string" },
	{ "nul_in_key", "policy: t\n\"mo\\x00de\": audit\n", AT(2, 1), "a NUL byte (\\0) inside a string" },
	{ "nul_in_enum", "policy: t\nmode: \"audit\\u0000\"\n", AT(2, 7), "a NUL byte (\\0) inside a string" },
	{ "name_too_long", "policy: " NAME64 "\n", AT(1, 9), "longer than 63 characters" },
	{ "name_empty", "policy: ''\n", AT(1, 9), "invalid policy name '': it is empty" },
	{ "name_mapping", "policy: { a: 1 }\n", AT(1, 9), "'policy' must be a name" },
};

static void test_bad(void **state)
{
	const struct bad *b = *state;
	struct cg_policy *p = NULL;
	char err[CG_ERR_MAX] = "";
	int rc;

	rc = cg_policy_parse_buf(SRC, b->yaml, strlen(b->yaml), &p, err, sizeof(err));
	if (rc != -EINVAL || p)
		fail_msg("%s: rc=%d (want -EINVAL), policy=%p, err='%s'", b->name, rc, (void *)p,
			 err);
	if (strncmp(err, b->where, strlen(b->where)) || !strstr(err, b->phrase))
		fail_msg("%s: want '%s...%s', got '%s'", b->name, b->where, b->phrase, err);
}

static struct cg_policy *parse_ok(const char *src, const char *yaml)
{
	struct cg_policy *p = NULL;
	char err[CG_ERR_MAX] = "";
	int rc;

	rc = cg_policy_parse_buf(src, yaml, strlen(yaml), &p, err, sizeof(err));
	if (rc)
		fail_msg("unexpected failure %d: %s", rc, err);
	assert_non_null(p);
	assert_string_equal(err, "");
	return p;
}

static void assert_rule(const struct cg_rule *r, int action, const char *addr, int plen,
			int proto, uint32_t nports)
{
	char want[16] = { 0 };
	int fam = strchr(addr, ':') ? AF_INET6 : AF_INET;

	assert_int_equal(inet_pton(fam, addr, want), 1);
	assert_int_equal(r->action, action);
	assert_int_equal(r->family, fam);
	assert_int_equal(r->prefixlen, plen);
	assert_int_equal(r->proto, proto);
	assert_memory_equal(r->addr, want, 16);
	assert_int_equal(r->nports, nports);
}

static const char full_yaml[] =
	"policy: web                 # a comment\n"
	"mode: enforce\n"
	"on_violation: block\n"
	"egress:\n"
	"  default: deny\n"
	"  rules:\n"
	"    - { action: allow, to: 10.0.0.0/8, proto: tcp, ports: [443, \"8000-8100\"] }\n"
	"    - { action: allow, to: \"fd00::/8\" }\n"
	"    - { action: deny,  to: 169.254.169.254/32 }\n"
	"ingress:\n"
	"  default: allow\n"
	"  rules:\n"
	"    - { action: deny, from: 0.0.0.0/0, proto: tcp, ports: [22] }\n"
	"sockets:\n"
	"  raw: deny\n"
	"  families: { deny: [packet] }\n"
	"  bind: { default: allow, deny: [\"1-1023\"] }\n";

static const char full_json[] =
	"{\n"
	"  \"policy\": \"web\", \"mode\": \"enforce\", \"on_violation\": \"block\",\n"
	"  \"egress\": { \"default\": \"deny\", \"rules\": [\n"
	"    { \"action\": \"allow\", \"to\": \"10.0.0.0/8\", \"proto\": \"tcp\",\n"
	"      \"ports\": [443, \"8000-8100\"] },\n"
	"    { \"action\": \"allow\", \"to\": \"fd00::/8\" },\n"
	"    { \"action\": \"deny\", \"to\": \"169.254.169.254/32\" } ] },\n"
	"  \"ingress\": { \"default\": \"allow\", \"rules\": [\n"
	"    { \"action\": \"deny\", \"from\": \"0.0.0.0/0\", \"proto\": \"tcp\", \"ports\": [22] } ] },\n"
	"  \"sockets\": { \"raw\": \"deny\", \"families\": { \"deny\": [\"packet\"] },\n"
	"               \"bind\": { \"default\": \"allow\", \"deny\": [\"1-1023\"] } }\n"
	"}\n";

static void check_full(const struct cg_policy *p)
{
	const struct cg_direction *e = &p->dir[CG_DIR_EGRESS], *in = &p->dir[CG_DIR_INGRESS];
	const struct cg_sockets *s = &p->sockets;

	assert_string_equal(p->name, "web");
	assert_int_equal(p->mode, CG_MODE_ENFORCE);
	assert_int_equal(p->on_violation, CG_VIOL_BLOCK);
	assert_int_equal(e->default_action, CG_ACT_DENY);
	assert_int_equal(e->nrules, 3);
	assert_rule(&e->rules[0], CG_ACT_ALLOW, "10.0.0.0", 8, CG_PROTO_TCP, 2);
	assert_int_equal(e->rules[0].ports[0].lo, 443);
	assert_int_equal(e->rules[0].ports[0].hi, 443);
	assert_int_equal(e->rules[0].ports[1].lo, 8000);
	assert_int_equal(e->rules[0].ports[1].hi, 8100);
	assert_rule(&e->rules[1], CG_ACT_ALLOW, "fd00::", 8, CG_PROTO_ANY, 0);
	assert_null(e->rules[1].ports);
	assert_rule(&e->rules[2], CG_ACT_DENY, "169.254.169.254", 32, CG_PROTO_ANY, 0);
	assert_int_equal(in->default_action, CG_ACT_ALLOW);
	assert_int_equal(in->nrules, 1);
	assert_rule(&in->rules[0], CG_ACT_DENY, "0.0.0.0", 0, CG_PROTO_TCP, 1);
	assert_int_equal(in->rules[0].ports[0].lo, 22);
	assert_int_equal(in->rules[0].ports[0].hi, 22);
	assert_int_equal(s->present, 1);
	assert_int_equal(s->raw, CG_ACT_DENY);
	assert_true(s->deny_families == UINT64_C(1) << AF_PACKET);
	assert_int_equal(s->bind_default, CG_ACT_ALLOW);
	assert_int_equal(s->nbind_allow, 0);
	assert_null(s->bind_allow);
	assert_int_equal(s->nbind_deny, 1);
	assert_int_equal(s->bind_deny[0].lo, 1);
	assert_int_equal(s->bind_deny[0].hi, 1023);
}

static void test_full_example(void **state)
{
	struct cg_policy *p = parse_ok(SRC, full_yaml);

	(void)state;
	check_full(p);
	assert_string_equal(p->source, SRC);
	/* Flow mappings start at their '{'. */
	assert_int_equal(p->dir[CG_DIR_EGRESS].rules[0].line, 7);
	assert_int_equal(p->dir[CG_DIR_EGRESS].rules[0].col, 7);
	assert_int_equal(p->dir[CG_DIR_EGRESS].rules[2].line, 9);
	assert_int_equal(p->dir[CG_DIR_INGRESS].rules[0].line, 13);
	cg_policy_free(p);
}

static void test_json_equivalent(void **state)
{
	struct cg_policy *p = parse_ok("policy.json", full_json);

	(void)state;
	check_full(p);
	assert_string_equal(p->source, "policy.json");
	assert_int_equal(p->dir[CG_DIR_EGRESS].rules[0].line, 4);
	assert_int_equal(p->dir[CG_DIR_EGRESS].rules[0].col, 5);
	cg_policy_free(p);
}

static void test_defaults(void **state)
{
	struct cg_policy *p = parse_ok("builtin:x", "policy: minimal\n");

	(void)state;
	assert_string_equal(p->name, "minimal");
	assert_string_equal(p->source, "builtin:x");
	assert_int_equal(p->mode, CG_MODE_ENFORCE);
	assert_int_equal(p->on_violation, CG_VIOL_BLOCK);
	for (int d = 0; d < CG_DIR_MAX; d++) {
		assert_int_equal(p->dir[d].default_action, CG_ACT_ALLOW);
		assert_int_equal(p->dir[d].nrules, 0);
		assert_null(p->dir[d].rules);
	}
	assert_int_equal(p->sockets.present, 0);
	assert_int_equal(p->sockets.raw, -1);
	assert_true(p->sockets.deny_families == 0);
	cg_policy_free(p);

	p = parse_ok(SRC, "policy: a\nmode: audit\non_violation: kill\negress: { rules: [] }\n"
			  "sockets: {}\n");
	assert_int_equal(p->mode, CG_MODE_AUDIT);
	assert_int_equal(p->on_violation, CG_VIOL_KILL);
	assert_int_equal(p->dir[CG_DIR_EGRESS].nrules, 0);
	assert_int_equal(p->sockets.present, 1);
	assert_int_equal(p->sockets.raw, -1);
	cg_policy_free(p);
}

static void test_addresses(void **state)
{
	struct cg_policy *p = parse_ok(SRC, HDR
		"    - { action: deny, to: \"::ffff:10.0.0.0/104\" }\n"
		"    - { action: deny, to: \"::ffff:1.2.3.4\" }\n"
		"    - { action: deny, to: \"::ffff:0:0/96\" }\n"
		"    - { action: deny, to: 1.2.3.4 }\n"
		"    - { action: deny, to: \"2001:db8::1\" }\n"
		"    - { action: deny, to: 0.0.0.0/0 }\n"
		"    - { action: deny, to: \"::/0\" }\n"
		"    - { action: deny, to: \"::/64\" }\n"
		"    - { action: deny, to: 192.168.1.128/25 }\n");
	const struct cg_rule *r = p->dir[CG_DIR_EGRESS].rules;

	(void)state;
	assert_int_equal(p->dir[CG_DIR_EGRESS].nrules, 9);
	assert_rule(&r[0], CG_ACT_DENY, "10.0.0.0", 8, CG_PROTO_ANY, 0);
	assert_rule(&r[1], CG_ACT_DENY, "1.2.3.4", 32, CG_PROTO_ANY, 0);
	assert_rule(&r[2], CG_ACT_DENY, "0.0.0.0", 0, CG_PROTO_ANY, 0);
	assert_rule(&r[3], CG_ACT_DENY, "1.2.3.4", 32, CG_PROTO_ANY, 0);
	assert_rule(&r[4], CG_ACT_DENY, "2001:db8::1", 128, CG_PROTO_ANY, 0);
	assert_rule(&r[5], CG_ACT_DENY, "0.0.0.0", 0, CG_PROTO_ANY, 0);
	assert_rule(&r[6], CG_ACT_DENY, "::", 0, CG_PROTO_ANY, 0);
	assert_rule(&r[7], CG_ACT_DENY, "::", 64, CG_PROTO_ANY, 0);
	assert_rule(&r[8], CG_ACT_DENY, "192.168.1.128", 25, CG_PROTO_ANY, 0);
	cg_policy_free(p);
}

static void test_ports_forms(void **state)
{
	struct cg_policy *p = parse_ok(SRC, HDR
		"    - { action: allow, to: 1.2.3.4, proto: tcp, ports: 443 }\n"
		"    - { action: allow, to: 1.2.3.4, proto: udp, ports: \"1-65535\" }\n"
		"    - { action: allow, to: 1.2.3.4, proto: tcp, ports: [\"80\", 81, 82-90] }\n");
	const struct cg_rule *r = p->dir[CG_DIR_EGRESS].rules;

	(void)state;
	assert_int_equal(r[0].nports, 1);
	assert_int_equal(r[0].ports[0].lo, 443);
	assert_int_equal(r[0].ports[0].hi, 443);
	assert_int_equal(r[1].proto, CG_PROTO_UDP);
	assert_int_equal(r[1].ports[0].lo, 1);
	assert_int_equal(r[1].ports[0].hi, 65535);
	assert_int_equal(r[2].nports, 3);
	assert_int_equal(r[2].ports[0].lo, 80);
	assert_int_equal(r[2].ports[1].lo, 81);
	assert_int_equal(r[2].ports[2].lo, 82);
	assert_int_equal(r[2].ports[2].hi, 90);
	cg_policy_free(p);
}

static void test_sockets_section(void **state)
{
	struct cg_policy *p = parse_ok(SRC,
		"policy: s\nsockets:\n  raw: allow\n"
		"  families: { deny: [unix, netlink, vsock, xdp] }\n"
		"  bind: { default: deny, allow: [8080, \"9000-9100\"], deny: 22 }\n");
	const struct cg_sockets *s = &p->sockets;

	(void)state;
	assert_int_equal(s->present, 1);
	assert_int_equal(s->raw, CG_ACT_ALLOW);
	assert_true(s->deny_families == ((UINT64_C(1) << AF_UNIX) | (UINT64_C(1) << AF_NETLINK) |
					 (UINT64_C(1) << AF_VSOCK) | (UINT64_C(1) << 44)));
	assert_int_equal(s->bind_default, CG_ACT_DENY);
	assert_int_equal(s->nbind_allow, 2);
	assert_int_equal(s->bind_allow[1].lo, 9000);
	assert_int_equal(s->bind_allow[1].hi, 9100);
	assert_int_equal(s->nbind_deny, 1);
	assert_int_equal(s->bind_deny[0].lo, 22);
	cg_policy_free(p);
}

static double now(void)
{
	struct timespec ts;

	/* CPU time, so a busy build machine does not fail the test. */
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_large_policy(void **state)
{
	const unsigned n = 100000;
	size_t cap = (size_t)n * 96 + 64, off;
	struct cg_policy *p = NULL;
	char err[CG_ERR_MAX];
	char *buf = malloc(cap);
	double t0, dt;
	int rc;

	(void)state;
	assert_non_null(buf);
	off = (size_t)snprintf(buf, cap, "policy: big\negress:\n  default: deny\n  rules:\n");
	for (unsigned i = 0; i < n; i++) {
		if (i % 4 == 3)
			off += (size_t)snprintf(buf + off, cap - off,
						"    - { action: deny, to: \"fd00::%x:%x/128\" }\n",
						i >> 16, i & 0xffff);
		else
			off += (size_t)snprintf(buf + off, cap - off,
						"    - { action: allow, to: 10.%u.%u.%u/32, proto: tcp, ports: [443, \"8000-8100\"] }\n",
						(i >> 16) & 255, (i >> 8) & 255, i & 255);
		assert_true(off < cap);
	}
	t0 = now();
	rc = cg_policy_parse_buf(SRC, buf, off, &p, err, sizeof(err));
	dt = now() - t0;
	free(buf);
	if (rc)
		fail_msg("large policy: %s", err);
	assert_int_equal(p->dir[CG_DIR_EGRESS].nrules, n);
	assert_rule(&p->dir[CG_DIR_EGRESS].rules[n - 1], CG_ACT_DENY, "fd00::1:869f", 128,
		    CG_PROTO_ANY, 0);
	assert_rule(&p->dir[CG_DIR_EGRESS].rules[n - 2], CG_ACT_ALLOW, "10.1.134.158", 32,
		    CG_PROTO_TCP, 2);
	assert_int_equal(p->dir[CG_DIR_EGRESS].rules[n - 1].line, (int)n + 4);
	cg_policy_free(p);
	print_message("parsed %u rules in %.3f s of CPU\n", n, dt);
	if (!INSTRUMENTED && dt >= 1.0)
		fail_msg("100000 rules took %.3f s; want well under 1 s", dt);
}

/*
 * Nesting is refused at level 65, before libyaml's scanner (quadratic in depth) gets far:
 * 100,000 nested brackets used to take 20 s to reject.  Both flow and block nesting, each
 * with the exact position of the 65th level.
 */
static void test_deep_nesting(void **state)
{
	const size_t n = 100000;
	struct cg_policy *p = NULL;
	char err[CG_ERR_MAX] = "", want[64];
	char *buf = malloc(2 * n + 64), *q;
	int rc, i;

	(void)state;
	assert_non_null(buf);
	q = buf + sprintf(buf, "policy: t\negress: ");
	memset(q, '[', n);
	memset(q + n, ']', n);
	q[2 * n] = '\0';
	rc = cg_policy_parse_buf(SRC, buf, strlen(buf), &p, err, sizeof(err));
	assert_int_equal(rc, -EINVAL);
	assert_null(p);
	/* the root mapping is level 1, so the 64th '[' (column 9 + 63) is level 65 */
	if (strncmp(err, AT(2, 72), strlen(AT(2, 72))) || !strstr(err, "nested deeper than 64"))
		fail_msg("flow: got '%s'", err);
	/* block mappings: "k:" indented one more space per line; level d starts at d:d */
	for (q = buf, i = 0; i < 80; i++)
		q += sprintf(q, "%*sk%d:\n", i, "", i);
	rc = cg_policy_parse_buf(SRC, buf, strlen(buf), &p, err, sizeof(err));
	assert_int_equal(rc, -EINVAL);
	snprintf(want, sizeof(want), "%s:65:65: nested deeper than 64 levels", SRC);
	if (strncmp(err, want, strlen(want)))
		fail_msg("block: got '%s', want '%s'", err, want);
	free(buf);
}

/* 1,000,001 rules: the limit is checked as the rules come, at the first one too many. */
static void test_too_many_rules(void **state)
{
	static const char head[] = "policy: t\negress:\n  rules: [", item[] = "{action: deny, to: '::'},";
	const size_t n = 1000001, w = sizeof(item) - 1, len = sizeof(head) - 1 + n * w + 3;
	struct cg_policy *p = NULL;
	char err[CG_ERR_MAX] = "";
	char *buf = malloc(len + 1), *q;
	int rc;

	(void)state;
	assert_non_null(buf);
	q = buf + sprintf(buf, "%s", head);
	for (size_t i = 0; i < n; i++, q += w)
		memcpy(q, item, w);
	memcpy(q, "]\n", 3);
	rc = cg_policy_parse_buf(SRC, buf, strlen(buf), &p, err, sizeof(err));
	free(buf);
	assert_int_equal(rc, -EINVAL);
	assert_null(p);
	/* Item 1,000,000 (0-based) starts at column 11 + 25 * 1000000. */
	if (strncmp(err, AT(3, 25000011), strlen(AT(3, 25000011))) ||
	    !strstr(err, "too many egress rules (limit 1000000)"))
		fail_msg("got '%s'", err);
}

/*
 * cg_policy_prepare() (policy/validate.c) is what attach and `policy check` both run: a
 * policy compiling to more LPM entries than the kernel map holds is refused by it, before
 * anything is written.  1,048,573 distinct /32s: one more than fits beside slot 0.
 */
static void test_prepare_limits(void **state)
{
	const size_t n = CG_LPM_MAX_ENTRIES - 4 - 4 + 1;	/* +4: a /0 per direction and family */
	struct cg_policy *p = calloc(1, sizeof(*p));
	struct cg_compiled c;
	struct cg_sockcfg sc;
	char err[CG_ERR_MAX] = "";
	struct cg_rule *r;
	size_t i;
	int rc, degraded;

	(void)state;
	assert_non_null(p);
	snprintf(p->name, sizeof(p->name), "big");
	snprintf(p->source, sizeof(p->source), "big.yaml");
	p->sockets.raw = -1;
	r = p->dir[CG_DIR_EGRESS].rules = calloc(n, sizeof(*r));
	assert_non_null(r);
	p->dir[CG_DIR_EGRESS].nrules = n;
	for (i = 0; i < n; i++) {
		uint32_t a = htonl((uint32_t)(0x0a000000u + i));

		r[i].action = CG_ACT_DENY;
		r[i].family = AF_INET;
		r[i].prefixlen = 32;
		memcpy(r[i].addr, &a, 4);
	}
	rc = cg_policy_prepare(p, &c, &sc, err, sizeof(err));
	if (rc != -EINVAL || !strstr(err, "big.yaml: compiles to 1048573 lookup entries; the "
				     "kernel's table holds 1048572"))
		fail_msg("rc %d, err '%s'", rc, err);
	p->dir[CG_DIR_EGRESS].nrules = n - 1;	/* exactly full */
	rc = cg_policy_prepare(p, &c, &sc, err, sizeof(err));
	assert_int_equal(rc, 0);
	assert_int_equal(c.n, CG_LPM_MAX_ENTRIES - 4);
	cg_compiled_free(&c);
	p->dir[CG_DIR_EGRESS].nrules = n;
	cg_policy_free(p);

	/* the LSM layer: refused (fail closed), degraded (fail open), or unknown (accepted) */
	p = parse_ok(SRC, "policy: l\nsockets:\n  families: { deny: [packet] }\n");
	assert_int_equal(cg_policy_layers_check(p, 0, 0, &degraded, err, sizeof(err)),
			 -EOPNOTSUPP);
	assert_non_null(strstr(err, "policy 'l' needs the BPF LSM layer"));
	assert_int_equal(cg_policy_layers_check(p, 0, 1, &degraded, err, sizeof(err)), 0);
	assert_int_equal(degraded, 1);
	assert_int_equal(cg_policy_layers_check(p, 1, 0, &degraded, err, sizeof(err)), 0);
	assert_int_equal(degraded, 0);
	assert_int_equal(cg_policy_layers_check(p, -1, 0, &degraded, err, sizeof(err)), 0);
	cg_policy_free(p);
}

static void test_builtin_baseline(void **state)
{
	const char *text = cg_builtin_policy("baseline");
	struct cg_policy *p;
	const struct cg_rule *r;

	(void)state;
	assert_string_equal(cg_builtin_names[0], "baseline");
	assert_null(cg_builtin_names[1]);
	assert_non_null(text);
	assert_null(cg_builtin_policy("nope"));
	assert_null(cg_builtin_policy(NULL));
	p = parse_ok("builtin:baseline", text);
	r = p->dir[CG_DIR_EGRESS].rules;
	assert_string_equal(p->name, "baseline");
	assert_int_equal(p->mode, CG_MODE_ENFORCE);
	assert_int_equal(p->dir[CG_DIR_EGRESS].default_action, CG_ACT_ALLOW);
	assert_int_equal(p->dir[CG_DIR_EGRESS].nrules, 2);
	assert_rule(&r[0], CG_ACT_DENY, "169.254.169.254", 32, CG_PROTO_ANY, 0);
	assert_rule(&r[1], CG_ACT_DENY, "fd00:ec2::254", 128, CG_PROTO_ANY, 0);
	assert_int_equal(p->dir[CG_DIR_INGRESS].default_action, CG_ACT_ALLOW);
	assert_int_equal(p->dir[CG_DIR_INGRESS].nrules, 0);
	assert_int_equal(p->sockets.present, 1);
	assert_int_equal(p->sockets.raw, CG_ACT_DENY);
	assert_true(p->sockets.deny_families == UINT64_C(1) << AF_PACKET);
	cg_policy_free(p);
}

static void test_load_builtin(void **state)
{
	struct cg_policy *p = NULL;
	char err[CG_ERR_MAX];

	(void)state;
	assert_int_equal(cg_policy_load("baseline", &p, err, sizeof(err)), 0);
	assert_string_equal(p->name, "baseline");
	assert_string_equal(p->source, "builtin:baseline");
	cg_policy_free(p);
}

/* Write `text` to a fresh temporary file named *.yaml; returns its path (static buffer). */
static const char *write_tmp(const char *text)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/cgguard-test-XXXXXX.yaml");
	fd = mkstemps(path, 5);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_load_file(void **state)
{
	const char *path = write_tmp(full_yaml);
	struct cg_policy *p = NULL;
	char err[CG_ERR_MAX];

	(void)state;
	assert_int_equal(cg_policy_load(path, &p, err, sizeof(err)), 0);
	check_full(p);
	assert_string_equal(p->source, path);
	cg_policy_free(p);
	p = NULL;
	assert_int_equal(cg_policy_parse_file(path, &p, err, sizeof(err)), 0);
	cg_policy_free(p);
	unlink(path);

	/* Errors from a file name the file. */
	path = write_tmp(R_TO("10.0.0.1/8"));
	p = NULL;
	assert_int_equal(cg_policy_load(path, &p, err, sizeof(err)), -EINVAL);
	assert_null(p);
	assert_true(strncmp(err, path, strlen(path)) == 0);
	assert_non_null(strstr(err + strlen(path), ":4:27: host bits set"));
	unlink(path);
}

static void test_load_unknown_and_bad_names(void **state)
{
	static const char *const bad_names[] = { "..", ".hidden", "a b", "a\\b", "x\ny",
						 NAME64 };
	struct cg_policy *p = NULL;
	char err[CG_ERR_MAX];
	int rc;

	(void)state;
	rc = cg_policy_load("no-such-policy-xyz", &p, err, sizeof(err));
	assert_int_equal(rc, -ENOENT);
	assert_null(p);
	assert_string_equal(err, "unknown policy 'no-such-policy-xyz': not a built-in (baseline) "
				 "and no " CG_POLICY_DIR "/no-such-policy-xyz.yaml");
	/* Contains '/', so it is taken as a path, never joined to CG_POLICY_DIR. */
	rc = cg_policy_load("../etc/passwd", &p, err, sizeof(err));
	assert_true(rc < 0);
	assert_null(p);
	assert_null(strstr(err, CG_POLICY_DIR));
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		rc = cg_policy_load(bad_names[i], &p, err, sizeof(err));
		assert_int_equal(rc, -EINVAL);
		assert_null(p);
		assert_non_null(strstr(err, "invalid policy name"));
		assert_null(strchr(err, '\n'));
	}
	assert_int_equal(cg_policy_load("", &p, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "no policy given");
	assert_int_equal(cg_policy_load(NULL, &p, err, sizeof(err)), -EINVAL);
	assert_null(p);
}

static void test_parse_file_refusals(void **state)
{
	char dir[] = "/tmp/cgguard-test-XXXXXX", path[64];
	struct cg_policy *p = NULL;
	char err[CG_ERR_MAX];
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(cg_policy_parse_file(dir, &p, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "is a directory"));

	/* Sparse, so it costs no disk: only the size matters. */
	snprintf(path, sizeof(path), "%s/huge.yaml", dir);
	fd = open(path, O_CREAT | O_WRONLY | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)CG_POLICY_FILE_MAX + 1), 0);
	close(fd);
	assert_int_equal(cg_policy_parse_file(path, &p, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "policy files are limited to 64 MiB"));
	assert_true(strncmp(err, path, strlen(path)) == 0);
	unlink(path);

	/* A FIFO must be refused, not block waiting for a writer. */
	snprintf(path, sizeof(path), "%s/fifo.yaml", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(cg_policy_parse_file(path, &p, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
	unlink(path);

	snprintf(path, sizeof(path), "%s/missing.yaml", dir);
	assert_int_equal(cg_policy_parse_file(path, &p, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "No such file"));
	assert_null(p);
	rmdir(dir);
}

static void test_buffer_edges(void **state)
{
	struct cg_policy *keep = (struct cg_policy *)&keep, *p;
	char small[24];
	int rc;

	(void)state;
	/* Only `len` bytes count; the text need not be NUL-terminated. */
	rc = cg_policy_parse_buf(SRC, "policy: abcdef", 11, &p, NULL, 0);
	assert_int_equal(rc, 0);
	assert_string_equal(p->name, "abc");
	cg_policy_free(p);
	/* On error *out is left alone, and a NULL or tiny error buffer is fine. */
	rc = cg_policy_parse_buf(SRC, "policy: t\nfoo: 1\n", 17, &keep, NULL, 0);
	assert_int_equal(rc, -EINVAL);
	assert_ptr_equal(keep, (struct cg_policy *)&keep);
	rc = cg_policy_parse_buf(SRC, "policy: t\nfoo: 1\n", 17, &keep, small, sizeof(small));
	assert_int_equal(rc, -EINVAL);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_ptr_equal(keep, (struct cg_policy *)&keep);
	rc = cg_policy_parse_buf(SRC, NULL, 0, &p, small, sizeof(small));
	assert_int_equal(rc, -EINVAL);
	cg_policy_free(NULL);
}

/* Fails after earlier rules allocated port arrays: valgrind shows nothing leaks. */
static void test_late_error_frees(void **state)
{
	static const char yaml[] = HDR
		"    - { action: allow, to: 1.2.3.4, proto: tcp, ports: [1, 2, 3] }\n"
		"    - { action: allow, to: 1.2.3.5, proto: tcp, ports: [4, 5] }\n"
		"ingress:\n  rules:\n    - { action: allow, from: 1.2.3.4, proto: tcp, ports: [1] }\n"
		"sockets:\n  bind: { allow: [1, 2], deny: [3, 0] }\n";
	struct cg_policy *p = NULL;
	char err[CG_ERR_MAX];

	(void)state;
	assert_int_equal(cg_policy_parse_buf(SRC, yaml, strlen(yaml), &p, err, sizeof(err)),
			 -EINVAL);
	assert_null(p);
	assert_non_null(strstr(err, AT(10, 36) "port '0' out of range"));
}

static void test_rule_format(void **state)
{
	struct cg_policy *p = parse_ok(SRC, full_yaml);
	const struct cg_rule *e = p->dir[CG_DIR_EGRESS].rules;
	char buf[128], tiny[12];

	(void)state;
	assert_int_equal(cg_rule_format(&e[0], CG_DIR_EGRESS, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "allow to 10.0.0.0/8 proto tcp ports 443,8000-8100");
	assert_int_equal(cg_rule_format(&e[1], CG_DIR_EGRESS, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "allow to fd00::/8 proto any");
	assert_int_equal(cg_rule_format(&e[2], CG_DIR_EGRESS, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "deny to 169.254.169.254/32 proto any");
	assert_int_equal(cg_rule_format(&p->dir[CG_DIR_INGRESS].rules[0], CG_DIR_INGRESS, buf,
					sizeof(buf)), 0);
	assert_string_equal(buf, "deny from 0.0.0.0/0 proto tcp ports 22");
	assert_int_equal(cg_rule_format(&e[0], CG_DIR_EGRESS, tiny, sizeof(tiny)), -ENOSPC);
	assert_string_equal(tiny, "allow to 10");
	assert_int_equal(cg_rule_format(NULL, CG_DIR_EGRESS, buf, sizeof(buf)), -EINVAL);
	cg_policy_free(p);
}

static void test_names_and_strings(void **state)
{
	(void)state;
	assert_string_equal(cg_action_str(CG_ACT_ALLOW), "allow");
	assert_string_equal(cg_action_str(CG_ACT_DENY), "deny");
	assert_string_equal(cg_action_str(7), "?");
	assert_string_equal(cg_proto_str(0), "any");
	assert_string_equal(cg_proto_str(CG_PROTO_ICMP), "icmp");
	assert_string_equal(cg_proto_str(CG_PROTO_TCP), "tcp");
	assert_string_equal(cg_proto_str(CG_PROTO_UDP), "udp");
	assert_string_equal(cg_proto_str(99), "?");
	assert_int_equal(cg_family_from_name("packet"), AF_PACKET);
	assert_int_equal(cg_family_from_name("unix"), AF_UNIX);
	assert_int_equal(cg_family_from_name("inet6"), AF_INET6);
	assert_int_equal(cg_family_from_name("netlink"), AF_NETLINK);
	assert_int_equal(cg_family_from_name("vsock"), AF_VSOCK);
	assert_int_equal(cg_family_from_name("alg"), AF_ALG);
	assert_true(cg_family_from_name("bogus") < 0);
	assert_true(cg_family_from_name(NULL) < 0);
	assert_string_equal(cg_family_name(AF_PACKET), "packet");
	assert_null(cg_family_name(63));
	/* Every known family fits the 64-bit deny bitmap and round-trips. */
	for (int af = 0; af < 256; af++) {
		const char *n = cg_family_name(af);

		if (!n)
			continue;
		assert_true(af < 64);
		assert_int_equal(cg_family_from_name(n), af);
	}
}

int main(void)
{
	const size_t nbad = sizeof(bad_cases) / sizeof(bad_cases[0]);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_example),
		cmocka_unit_test(test_json_equivalent),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_ports_forms),
		cmocka_unit_test(test_sockets_section),
		cmocka_unit_test(test_large_policy),
		cmocka_unit_test(test_too_many_rules),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_prepare_limits),
		cmocka_unit_test(test_builtin_baseline),
		cmocka_unit_test(test_load_builtin),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_load_unknown_and_bad_names),
		cmocka_unit_test(test_parse_file_refusals),
		cmocka_unit_test(test_buffer_edges),
		cmocka_unit_test(test_late_error_frees),
		cmocka_unit_test(test_rule_format),
		cmocka_unit_test(test_names_and_strings),
	};
	struct CMUnitTest *bad = calloc(nbad, sizeof(*bad));
	int failed;

	if (!bad)
		return 1;
	/* One named test per table row, so a failure names the case. */
	for (size_t i = 0; i < nbad; i++) {
		bad[i].name = bad_cases[i].name;
		bad[i].test_func = test_bad;
		bad[i].initial_state = (void *)&bad_cases[i];
	}
	failed = _cmocka_run_group_tests("policy_malformed", bad, nbad, NULL, NULL);
	failed += cmocka_run_group_tests_name("policy", tests, NULL, NULL);
	free(bad);
	return failed ? 1 : 0;
}
