// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Policy parser: YAML (and therefore JSON) text -> struct cg_policy.
 *
 * One pass over libyaml's events (lib/yamlread.c), driven by the schema: each function below
 * reads exactly the nodes its part of the format allows, checks them as they arrive, and
 * points every error at the line:col of the offending key or value.  No tree is built, so a
 * 100,000-rule policy costs what libyaml costs to scan it, and the reader refuses excessive
 * nesting, anchors, aliases, tags and NUL bytes on the event that carries them.
 *
 * Scalars are matched on their text whatever their YAML style: `443` and "443" are the same
 * port.  YAML 1.1 booleans get no special meaning, so a plain `action: yes` is simply an
 * invalid action.
 *
 * File reading (cg_policy_parse_file) lives in builtin.c with the other loaders; names and
 * formats shared with them in names.c.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "policy.h"
#include "../bpf/cgguard_abi.h"
#include "../lib/bigalloc.h"
#include "../lib/yamlread.h"

#define CG_RULES_MAX	1000000u	/* per direction */
#define CG_PORTS_MAX	64u		/* ranges per rule, and per bind list */
#define SHOW_MAX	48		/* how much of a bad value we echo back */

struct pctx {
	struct yr *r;
};

/* Error at a node's start mark, or at a saved mark. */
#define perr(c, n, ...) yr_err((c)->r, (n), __VA_ARGS__)

static int __attribute__((format(printf, 4, 5)))
perr_at(struct pctx *c, size_t line, size_t col, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = yr_verr_at(c->r->err, c->r->errlen, c->r->src, line, col, fmt, ap);
	va_end(ap);
	return rc;
}

#define show(n, t) yr_show((n), (t), SHOW_MAX)
#define kind(n) yr_kind(n)

#define join yr_join
#define keyset yr_keyset
#define seen yr_seen
#define next_pair(c, ks, sn, idx, v) yr_next_pair((c)->r, (ks), (sn), (idx), (v))

static int need_type(struct pctx *c, const struct yr_node *n, int type, const char *what)
{
	if (n->type == type)
		return 0;
	return perr(c, n, "%s must be %s, not %s", what,
		    type == YR_MAP ? "a mapping" : "a sequence", kind(n));
}

/* Exact, lowercase enum words; *idx is the position in `names`. */
static int parse_enum(struct pctx *c, const struct yr_node *n, const char *key,
		      const char *const *names, int *idx)
{
	char t[SHOW_MAX], list[64];
	int i;

	if (n->type != YR_SCALAR)
		return perr(c, n, "'%s' must be a string, not %s", key, kind(n));
	for (i = 0; names[i]; i++) {
		if (yr_is(n, names[i])) {
			*idx = i;
			return 0;
		}
	}
	join(names, list, sizeof(list));
	return perr(c, n, "invalid %s '%s'; expected one of %s", key, show(n, t), list);
}

static const char *const action_names[] = { "allow", "deny", NULL };
static const char *const mode_names[] = { "enforce", "audit", NULL };
static const char *const viol_names[] = { "block", "kill", NULL };
static const char *const proto_names[] = { "any", "icmp", "tcp", "udp", NULL };
static const uint8_t proto_vals[] = { CG_PROTO_ANY, CG_PROTO_ICMP, CG_PROTO_TCP, CG_PROTO_UDP };

static int parse_u8_enum(struct pctx *c, const struct yr_node *n, const char *key,
			 const char *const *names, uint8_t *out)
{
	int idx, rc;

	rc = parse_enum(c, n, key, names, &idx);
	if (!rc)
		*out = (uint8_t)idx;
	return rc;
}

/*
 * Decimal only, no sign, no leading zeros: YAML 1.1 reads 0443 as octal, so we refuse rather
 * than guess which the author meant.  Saturates above 65535 so the caller can say "out of
 * range" rather than "not a number".
 */
static int port_num(const char *s, size_t len, unsigned *v)
{
	unsigned x = 0;
	size_t i;

	if (!len || (s[0] == '0' && len > 1))
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (x <= 65535)
			x = x * 10 + (unsigned)(s[i] - '0');
	}
	*v = x;
	return 0;
}

/* One entry of a port list: 443, "443" or "8000-8100". */
static int parse_port_item(struct pctx *c, const struct yr_node *n, struct cg_port_range *pr)
{
	const char *s = n->s, *dash;
	unsigned lo, hi;
	char t[SHOW_MAX];
	int rc;

	if (n->type != YR_SCALAR)
		return perr(c, n, "a port must be a number or a \"LO-HI\" range, not %s", kind(n));
	dash = memchr(s, '-', n->len);
	if (dash) {
		rc = port_num(s, (size_t)(dash - s), &lo);
		if (!rc)
			rc = port_num(dash + 1, n->len - (size_t)(dash - s) - 1, &hi);
	} else {
		rc = port_num(s, n->len, &lo);
		hi = lo;
	}
	if (rc)
		return perr(c, n, "invalid port '%s'; expected N or \"LO-HI\" with N in 1..65535",
			    show(n, t));
	if (lo < 1 || lo > 65535 || hi < 1 || hi > 65535)
		return perr(c, n, "port '%s' out of range; ports are 1..65535", show(n, t));
	if (lo > hi)
		return perr(c, n, "reversed port range '%s'; did you mean \"%u-%u\"?", show(n, t),
			    hi, lo);
	pr->lo = (uint16_t)lo;
	pr->hi = (uint16_t)hi;
	return 0;
}

/* Prefix length: 1-3 decimal digits, no sign, space or leading zero. */
static int parse_prefix(const char *s, size_t len, unsigned *v)
{
	unsigned x = 0;
	size_t i;

	if (len < 1 || len > 3 || (s[0] == '0' && len > 1))
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		x = x * 10 + (unsigned)(s[i] - '0');
	}
	*v = x;
	return 0;
}

/* Clear the bits past `plen`; returns true if any were set. */
static bool mask_host_bits(uint8_t *b, unsigned plen, unsigned nbytes)
{
	bool set = false;
	unsigned i;
	uint8_t m;

	for (i = 0; i < nbytes; i++) {
		if (plen >= 8 * (i + 1))
			continue;
		m = (uint8_t)(plen > 8 * i ? 0xff << (8 - (plen - 8 * i)) : 0);
		if (b[i] & ~m)
			set = true;
		b[i] &= m;
	}
	return set;
}

static bool is_v4mapped(const uint8_t *b)
{
	static const uint8_t pre[12] = { [10] = 0xff, [11] = 0xff };

	return memcmp(b, pre, sizeof(pre)) == 0;
}

/* Called with the network already masked, to suggest what was probably meant. */
static int host_bits_err(struct pctx *c, const struct yr_node *n, int fam, const uint8_t *b,
			 unsigned plen)
{
	char t[SHOW_MAX], a[INET6_ADDRSTRLEN];

	if (!inet_ntop(fam, b, a, sizeof(a)))
		a[0] = '\0';
	return perr(c, n, "host bits set in %s; did you mean %s/%u?", show(n, t), a, plen);
}

/* Split "addr/len" and run inet_pton on the address part. */
static int split_cidr(const struct yr_node *n, uint8_t *b, int *fam, const char **pfx,
		      size_t *pfxlen)
{
	const char *s = n->s, *slash = memchr(s, '/', n->len);
	size_t alen = slash ? (size_t)(slash - s) : n->len;
	char a[INET6_ADDRSTRLEN + 1];

	if (alen == 0 || alen >= sizeof(a))
		return -1;
	memcpy(a, s, alen);
	a[alen] = '\0';
	*fam = memchr(a, ':', alen) ? AF_INET6 : AF_INET;
	*pfx = slash ? slash + 1 : NULL;
	*pfxlen = slash ? n->len - alen - 1 : 0;
	return inet_pton(*fam, a, b) == 1 ? 0 : -1;
}

/*
 * "a.b.c.d/N", "v6/N" or a bare address (a host route).  inet_pton is the arbiter of address
 * syntax: glibc's is strict (no octal, no short forms, no zone ids), which is what a
 * security policy wants.
 */
static int parse_cidr(struct pctx *c, const struct yr_node *n, const char *key, struct cg_rule *r)
{
	uint8_t b[16] = { 0 };
	unsigned plen, max;
	char t[SHOW_MAX];
	const char *pfx;
	size_t pfxlen;
	int fam;

	if (n->type != YR_SCALAR)
		return perr(c, n, "'%s' must be an address like 10.0.0.0/8, not %s", key, kind(n));
	if (split_cidr(n, b, &fam, &pfx, &pfxlen))
		return perr(c, n,
			    "invalid address '%s' in '%s'; expected IPv4 or IPv6, optionally /prefix",
			    show(n, t), key);
	max = fam == AF_INET ? 32 : 128;
	plen = max;
	if (pfx && parse_prefix(pfx, pfxlen, &plen))
		return perr(c, n, "invalid prefix length in '%s'; expected /0 to /%u", show(n, t),
			    max);
	if (plen > max)
		return perr(c, n, "prefix /%u is too long for %s in '%s' (max /%u)", plen,
			    fam == AF_INET ? "IPv4" : "IPv6", show(n, t), max);
	/* Before the host-bit check: ffff sits in the host part of such a prefix, and "host
	 * bits set" would hide the real mistake. */
	if (fam == AF_INET6 && is_v4mapped(b) && plen < 96)
		return perr(c, n, "IPv4-mapped prefix shorter than /96 in '%s'", show(n, t));
	if (mask_host_bits(b, plen, max / 8))
		return host_bits_err(c, n, fam, b, plen);
	if (fam == AF_INET6 && is_v4mapped(b)) {
		/* The kernel shows IPv4 peers of dual-stack sockets as mapped addresses; one
		 * AF_INET rule then covers both. */
		fam = AF_INET;
		memmove(b, b + 12, 4);
		memset(b + 4, 0, 12);
		plen -= 96;
	}
	r->family = (uint8_t)fam;
	r->prefixlen = (uint8_t)plen;
	memcpy(r->addr, b, sizeof(r->addr));
	return 0;
}

/*
 * A port list.  A lone scalar (`ports: 443` or `ports: "80-90"`) is taken as a one-entry
 * list: it is unambiguous and a natural way to write one port.  An empty list is refused
 * because "no ports" would silently mean "any port".
 */
static int parse_ports(struct pctx *c, const struct yr_node *n, const char *key,
		       struct cg_port_range **out, uint32_t *nout)
{
	struct cg_port_range r[CG_PORTS_MAX];
	struct yr_node it;
	size_t cnt = 0;
	int rc;

	if (n->type == YR_MAP)
		return perr(c, n, "'%s' must be a list of ports, not a mapping", key);
	if (n->type == YR_SCALAR) {
		if (!n->len)
			return perr(c, n, "'%s' is empty; omit it to mean any port", key);
		rc = parse_port_item(c, n, &r[cnt++]);
		if (rc)
			return rc;
	}
	while (n->type == YR_SEQ) {
		rc = yr_next(c->r, &it);
		if (rc)
			return rc;
		if (it.type == YR_END)
			break;
		if (cnt == CG_PORTS_MAX)
			return perr(c, &it, "too many entries in '%s' (limit %u); use ranges", key,
				    CG_PORTS_MAX);
		rc = parse_port_item(c, &it, &r[cnt++]);
		if (rc)
			return rc;
	}
	if (!cnt)
		return perr(c, n, "'%s' is empty; omit it to mean any port", key);
	*out = malloc(cnt * sizeof(**out));
	if (!*out)
		return -ENOMEM;
	memcpy(*out, r, cnt * sizeof(**out));
	*nout = (uint32_t)cnt;
	return 0;
}

enum { RK_ACTION, RK_ADDR, RK_PROTO, RK_PORTS };
static const char *const egress_rule_keys[] = { "action", "to", "proto", "ports", NULL };
static const char *const ingress_rule_keys[] = { "action", "from", "proto", "ports", NULL };
static const struct keyset rule_ks[CG_DIR_MAX] = {
	[CG_DIR_EGRESS] = { "in egress rule", egress_rule_keys, "from",
			    "egress rules use 'to', not 'from'" },
	[CG_DIR_INGRESS] = { "in ingress rule", ingress_rule_keys, "to",
			     "ingress rules use 'from', not 'to'" },
};

static int rule_value(struct pctx *c, int idx, const struct yr_node *v, int dir,
		      struct cg_rule *r)
{
	int rc, i;

	switch (idx) {
	case RK_ACTION:
		return parse_u8_enum(c, v, "action", action_names, &r->action);
	case RK_ADDR:
		return parse_cidr(c, v, rule_ks[dir].names[RK_ADDR], r);
	case RK_PROTO:
		rc = parse_enum(c, v, "proto", proto_names, &i);
		if (!rc)
			r->proto = proto_vals[i];
		return rc;
	default:
		return parse_ports(c, v, "ports", &r->ports, &r->nports);
	}
}

/* One rule; what depends on other keys (ports need tcp or udp) is checked at its end. */
static int parse_rule(struct pctx *c, const struct yr_node *n, int dir, struct cg_rule *r)
{
	const char *what = dir == CG_DIR_EGRESS ? "egress rule" : "ingress rule";
	const char *addr = rule_ks[dir].names[RK_ADDR];
	struct seen seen = { 0 };
	struct yr_node v;
	int rc, idx;

	if (n->type != YR_MAP)
		return perr(c, n,
			    "each %s must be a mapping like { action: deny, %s: 10.0.0.0/8 }, not %s",
			    what, addr, kind(n));
	r->line = (int)n->line + 1;
	r->col = (int)n->col + 1;
	r->proto = CG_PROTO_ANY;
	while (!(rc = next_pair(c, &rule_ks[dir], &seen, &idx, &v)) && idx >= 0) {
		rc = rule_value(c, idx, &v, dir, r);
		if (rc)
			return rc;
	}
	if (rc)
		return rc;
	if (!seen.have[RK_ACTION])
		return perr(c, n, "%s has no 'action' (allow or deny)", what);
	if (!seen.have[RK_ADDR])
		return perr(c, n, "%s has no '%s' address", what, addr);
	if (r->nports && r->proto != CG_PROTO_TCP && r->proto != CG_PROTO_UDP)
		return perr_at(c, seen.line[RK_PORTS], seen.col[RK_PORTS],
			       "ports need proto tcp or udp (proto is %s)", cg_proto_str(r->proto));
	return 0;
}

/* Room for one more rule; doubling keeps it amortised O(1).  Huge pages: a 100k-rule array
 * is 4 MB. */
static int grow_rules(struct cg_direction *d, size_t *cap)
{
	struct cg_rule *nr;
	size_t ncap;

	if (d->nrules < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	nr = cg_big_realloc(d->rules, d->nrules * sizeof(*nr), ncap * sizeof(*nr));
	if (!nr)
		return -ENOMEM;
	d->rules = nr;
	*cap = ncap;
	return 0;
}

static int parse_rules(struct pctx *c, const struct yr_node *n, int dir, struct cg_direction *d)
{
	struct yr_node it;
	size_t cap = 0;
	int rc;

	rc = need_type(c, n, YR_SEQ, "'rules'");
	while (!rc && !(rc = yr_next(c->r, &it)) && it.type != YR_END) {
		if (d->nrules == CG_RULES_MAX)
			return perr(c, &it, "too many %s rules (limit %u)",
				    dir == CG_DIR_EGRESS ? "egress" : "ingress", CG_RULES_MAX);
		rc = grow_rules(d, &cap);
		if (rc)
			return rc;
		/* Counted before it is filled, zeroed so cg_policy_free() is safe if we stop. */
		memset(&d->rules[d->nrules], 0, sizeof(d->rules[0]));
		rc = parse_rule(c, &it, dir, &d->rules[d->nrules++]);
	}
	return rc;
}

static const char *const dir_keys[] = { "default", "rules", NULL };
static const struct keyset dir_ks[CG_DIR_MAX] = {
	[CG_DIR_EGRESS] = { "in 'egress'", dir_keys, NULL, NULL },
	[CG_DIR_INGRESS] = { "in 'ingress'", dir_keys, NULL, NULL },
};

static int parse_direction(struct pctx *c, const struct yr_node *n, int dir,
			   struct cg_direction *d)
{
	struct seen seen = { 0 };
	struct yr_node v;
	int rc, idx;

	rc = need_type(c, n, YR_MAP, dir == CG_DIR_EGRESS ? "'egress'" : "'ingress'");
	while (!rc && !(rc = next_pair(c, &dir_ks[dir], &seen, &idx, &v)) && idx >= 0)
		rc = idx == 0 ? parse_u8_enum(c, &v, "default", action_names, &d->default_action) :
				parse_rules(c, &v, dir, d);
	return rc;
}

static int family_err(struct pctx *c, const struct yr_node *n)
{
	char t[SHOW_MAX], list[320];
	const char *names[65];
	int af, k = 0;

	for (af = 0; af < 64; af++)
		if (cg_family_name(af))
			names[k++] = cg_family_name(af);
	names[k] = NULL;
	join(names, list, sizeof(list));
	return perr(c, n, "unknown address family '%s'; known: %s", show(n, t), list);
}

static int parse_family_list(struct pctx *c, const struct yr_node *n, uint64_t *mask)
{
	struct yr_node it;
	int rc, af;

	rc = need_type(c, n, YR_SEQ, "'families.deny'");
	while (!rc && !(rc = yr_next(c->r, &it)) && it.type != YR_END) {
		if (it.type != YR_SCALAR)
			return perr(c, &it, "address families are names like packet, not %s",
				    kind(&it));
		af = cg_family_from_name(it.s);
		if (af < 0 || af >= 64)
			return family_err(c, &it);
		*mask |= UINT64_C(1) << af;
	}
	return rc;
}

/* families.if_unavailable: what to do where no layer can enforce it. */
static const char *const unavail_names[] = { "refuse", "warn", NULL };

static int parse_families(struct pctx *c, const struct yr_node *n, uint64_t *mask,
			  uint8_t *best_effort)
{
	static const char *const keys[] = { "deny", "if_unavailable", NULL };
	static const struct keyset ks = { "in 'families'", keys, NULL, NULL };
	struct seen seen = { 0 };
	struct yr_node v;
	int rc, idx;

	rc = need_type(c, n, YR_MAP, "'families'");
	while (!rc && !(rc = next_pair(c, &ks, &seen, &idx, &v)) && idx >= 0)
		rc = idx == 0 ? parse_family_list(c, &v, mask) :
				parse_u8_enum(c, &v, "families.if_unavailable", unavail_names,
					      best_effort);
	return rc;
}

static int parse_bind(struct pctx *c, const struct yr_node *n, struct cg_sockets *s)
{
	static const char *const keys[] = { "default", "allow", "deny", NULL };
	static const struct keyset ks = { "in 'bind'", keys, NULL, NULL };
	struct seen seen = { 0 };
	struct yr_node v;
	int rc, idx;

	rc = need_type(c, n, YR_MAP, "'bind'");
	while (!rc && !(rc = next_pair(c, &ks, &seen, &idx, &v)) && idx >= 0) {
		if (idx == 0)
			rc = parse_u8_enum(c, &v, "bind default", action_names, &s->bind_default);
		else if (idx == 1)
			rc = parse_ports(c, &v, "bind.allow", &s->bind_allow, &s->nbind_allow);
		else
			rc = parse_ports(c, &v, "bind.deny", &s->bind_deny, &s->nbind_deny);
	}
	/* The socket layer's table is small and fixed (the compiler checks again). */
	if (!rc && s->nbind_allow + s->nbind_deny > CG_MAX_BIND_RANGES)
		return perr(c, n, "'bind' has %u port ranges in allow and deny together; the "
			    "kernel's table holds %d (use wider ranges)",
			    s->nbind_allow + s->nbind_deny, CG_MAX_BIND_RANGES);
	return rc;
}

static int parse_sockets(struct pctx *c, const struct yr_node *n, struct cg_sockets *s)
{
	static const char *const keys[] = { "raw", "families", "bind", NULL };
	static const struct keyset ks = { "in 'sockets'", keys, NULL, NULL };
	struct seen seen = { 0 };
	struct yr_node v;
	uint8_t raw;
	int rc, idx;

	rc = need_type(c, n, YR_MAP, "'sockets'");
	s->present = 1;
	while (!rc && !(rc = next_pair(c, &ks, &seen, &idx, &v)) && idx >= 0) {
		if (idx == 0) {
			rc = parse_u8_enum(c, &v, "raw", action_names, &raw);
			s->raw = rc ? s->raw : (int8_t)raw;
		} else if (idx == 1) {
			rc = parse_families(c, &v, &s->deny_families, &s->families_best_effort);
		} else {
			rc = parse_bind(c, &v, s);
		}
	}
	return rc;
}

/* A decimal count 1..CG_EV_LIMIT (events.rate, events.burst). */
#define CG_EV_LIMIT	1000000
static int parse_ev_count(struct pctx *c, const struct yr_node *n, const char *key,
			  uint32_t *out)
{
	char t[SHOW_MAX];
	uint64_t v = 0;
	size_t i;

	if (n->type != YR_SCALAR || !n->len || n->len > 7 || n->s[0] == '0')
		goto bad;
	for (i = 0; i < n->len; i++) {
		if (n->s[i] < '0' || n->s[i] > '9')
			goto bad;
		v = v * 10 + (uint64_t)(n->s[i] - '0');
	}
	if (v <= CG_EV_LIMIT) {
		*out = (uint32_t)v;
		return 0;
	}
bad:
	return perr(c, n, "events.%s must be a whole number from 1 to %d, not '%s'", key,
		    CG_EV_LIMIT, n->type == YR_SCALAR ? show(n, t) : kind(n));
}

/* events: off | { rate: N, burst: N } */
static int parse_events(struct pctx *c, const struct yr_node *n, struct cg_events_cfg *e)
{
	static const char *const keys[] = { "rate", "burst", NULL };
	static const struct keyset ks = { "in 'events'", keys, NULL, NULL };
	struct seen seen = { 0 };
	struct yr_node v;
	int rc = 0, idx;

	if (n->type == YR_SCALAR && n->len == 3 && !strcmp(n->s, "off")) {
		e->off = 1;
		return 0;
	}
	if (n->type != YR_MAP)
		return perr(c, n, "'events' must be 'off' or a mapping { rate: N, burst: N }");
	while (!rc && !(rc = next_pair(c, &ks, &seen, &idx, &v)) && idx >= 0)
		rc = parse_ev_count(c, &v, idx ? "burst" : "rate", idx ? &e->burst : &e->rate);
	return rc;
}

/* The name ends up in paths, map names and logs: keep it boring. */
static int parse_name(struct pctx *c, const struct yr_node *n, char *out)
{
	char t[SHOW_MAX];
	const char *why;

	if (n->type != YR_SCALAR)
		return perr(c, n, "'policy' must be a name, not %s", kind(n));
	why = cg_policy_name_problem(n->s);
	if (why)
		return perr(c, n, "invalid policy name '%s': %s", show(n, t), why);
	memcpy(out, n->s, n->len + 1);
	return 0;
}

enum { TK_POLICY, TK_MODE, TK_VIOL, TK_EGRESS, TK_INGRESS, TK_SOCKETS, TK_EVENTS };
static const char *const top_keys[] = {
	"policy", "mode", "on_violation", "egress", "ingress", "sockets", "events", NULL,
};
static const struct keyset top_ks = { "at top level", top_keys, NULL, NULL };

static int top_value(struct pctx *c, int idx, const struct yr_node *v, struct cg_policy *p)
{
	switch (idx) {
	case TK_POLICY:
		return parse_name(c, v, p->name);
	case TK_MODE:
		return parse_u8_enum(c, v, "mode", mode_names, &p->mode);
	case TK_VIOL:
		return parse_u8_enum(c, v, "on_violation", viol_names, &p->on_violation);
	case TK_EGRESS:
		return parse_direction(c, v, CG_DIR_EGRESS, &p->dir[CG_DIR_EGRESS]);
	case TK_INGRESS:
		return parse_direction(c, v, CG_DIR_INGRESS, &p->dir[CG_DIR_INGRESS]);
	case TK_EVENTS:
		return parse_events(c, v, &p->events);
	default:
		return parse_sockets(c, v, &p->sockets);
	}
}

static int parse_root(struct pctx *c, struct cg_policy *p)
{
	struct seen seen = { 0 };
	struct yr_node root, v;
	int rc, idx;

	rc = yr_next(c->r, &root);
	if (rc)
		return rc;
	if (root.type == YR_NONE)
		return perr_at(c, 0, 0, "empty policy");
	if (yr_is_null(&root))
		return perr(c, &root, "empty policy");
	if (root.type != YR_MAP)
		return perr(c, &root, "a policy must be a mapping starting with 'policy: NAME', not %s",
			    kind(&root));
	while (!(rc = next_pair(c, &top_ks, &seen, &idx, &v)) && idx >= 0) {
		rc = top_value(c, idx, &v, p);
		if (rc)
			return rc;
	}
	if (!rc && !seen.have[TK_POLICY])
		return perr(c, &root, "missing required key 'policy' (the policy name)");
	return rc;
}

/* One pass, with libyaml or with the fast path (lib/yamlfast.c). */
static int parse_with(const char *src, const char *buf, size_t len, int fast,
		      struct cg_policy **out, char *err, size_t errlen)
{
	struct cg_policy *p;
	struct yr r;
	struct pctx c = { &r };
	int rc;

	p = calloc(1, sizeof(*p));
	if (!p)
		return cg_policy_errf(err, errlen, -ENOMEM, "%s: out of memory", src);
	p->sockets.raw = -1;
	p->events.rate = CG_EVENTS_RATE_DEFAULT;
	p->events.burst = CG_EVENTS_BURST_DEFAULT;
	memcpy(p->source, src, strnlen(src, sizeof(p->source) - 1));
	rc = fast ? yr_init_fast(&r, src, buf, len, err, errlen) :
		    yr_init(&r, src, buf, len, err, errlen);
	if (!rc)
		rc = parse_root(&c, p);
	rc = yr_done(&r, rc);
	yr_free(&r);
	if (rc) {
		if (rc == -ENOMEM)
			cg_policy_errf(err, errlen, rc, "%s: out of memory", src);
		cg_policy_free(p);
		return rc;
	}
	if (err && errlen)
		err[0] = '\0';
	*out = p;
	return 0;
}

/*
 * The fast path reads the plain YAML that big generated policies are written in, several
 * times faster than libyaml, and gives the same nodes.  On anything else, and on any error
 * at all, the policy is read again with libyaml: what is refused, and the words, are
 * libyaml's and the schema's as ever.
 */
int cg_policy_parse_buf(const char *source, const char *buf, size_t len,
			struct cg_policy **out, char *err, size_t errlen)
{
	const char *src = source ? source : "<policy>";

	if (!out || (!buf && len))
		return cg_policy_errf(err, errlen, -EINVAL, "%s: no policy text", src);
	if (len > CG_POLICY_FILE_MAX)
		return cg_policy_errf(err, errlen, -EINVAL, "%s: policy is %zu bytes; the limit is %u MiB",
				      src, len, CG_POLICY_FILE_MAX >> 20);
	if (!parse_with(src, buf, len, 1, out, err, errlen))
		return 0;
	return parse_with(src, buf, len, 0, out, err, errlen);
}

void cg_policy_free(struct cg_policy *p)
{
	size_t i;
	int d;

	if (!p)
		return;
	for (d = 0; d < CG_DIR_MAX; d++) {
		for (i = 0; i < p->dir[d].nrules; i++)
			free(p->dir[d].rules[i].ports);
		free(p->dir[d].rules);
	}
	free(p->sockets.bind_allow);
	free(p->sockets.bind_deny);
	free(p);
}
