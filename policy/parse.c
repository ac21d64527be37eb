// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Policy parser: YAML (and therefore JSON) text -> struct cg_policy.
 *
 * Two stages.  First yamltree.c turns libyaml's event stream into a compact tree in which every
 * node keeps its start mark, so each error can point at the line:col of the offending key or
 * value (anchors and aliases are refused there).  Then a walk driven by the schema, here, fills
 * struct cg_policy: it only descends into the nodes the format allows, to a fixed depth, and
 * size-checks every list before iterating it.
 *
 * Scalars are matched on their text whatever their YAML style: `443` and "443" are the same
 * port.  YAML 1.1 booleans get no special meaning, so a plain `action: yes` is simply an
 * invalid action.
 *
 * File reading (cg_policy_parse_file) lives in builtin.c with the other loaders.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "policy.h"
#include "yamltree.h"

#define CG_RULES_MAX	1000000u	/* per direction */
#define CG_PORTS_MAX	64u		/* ranges per rule, and per bind list */
#define KEYS_MAX	8		/* most keys any one mapping may have */
#define SHOW_MAX	48		/* how much of a bad value we echo back */

struct pctx {
	const char *src;
	const struct ytree *t;
	char *err;
	size_t errlen;
};

/* Error without a position (problems with the input as a whole). */
int cg_policy_errf(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* "SOURCE:LINE:COL: message"; marks are 0-based, people count from 1. */
static int __attribute__((format(printf, 4, 5)))
perr_at(struct pctx *c, size_t line, size_t col, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = ytree_verr_at(c->err, c->errlen, c->src, line, col, fmt, ap);
	va_end(ap);
	return rc;
}

/* Error at a node's start. */
#define perr(c, n, ...) perr_at((c), (n)->line, (n)->col, __VA_ARGS__)

/* ---- walking the tree ---- */

static const struct ynode *node_at(struct pctx *c, uint32_t idx)
{
	return ytree_node(c->t, idx);
}

/*
 * Copy a scalar for an error message: bounded, and with control bytes replaced so a hostile
 * file cannot put terminal escapes into logs.
 */
static const char *show(const struct ynode *n, char buf[SHOW_MAX])
{
	const unsigned char *s = (const unsigned char *)n->u.s;
	size_t i, cut = SHOW_MAX - 4;

	if (n->type != YNODE_SCALAR)
		return n->type == YNODE_MAPPING ? "{...}" : "[...]";
	if (n->len > cut) {
		while (cut > 0 && (s[cut] & 0xc0) == 0x80)	/* don't split UTF-8 */
			cut--;
	} else {
		cut = n->len;
	}
	for (i = 0; i < cut; i++)
		buf[i] = (s[i] < 0x20 || s[i] == 0x7f) ? '?' : (char)s[i];
	if (cut < n->len)
		memcpy(buf + i, "...", 3), i += 3;
	buf[i] = '\0';
	return buf;
}

/* A node's kind, for "must be a X, not Y" messages. */
static const char *kind(const struct ynode *n)
{
	if (n->type == YNODE_MAPPING)
		return "a mapping";
	if (n->type == YNODE_SEQUENCE)
		return "a sequence";
	return n->len ? "a scalar" : "an empty value";
}

static bool sc_is(const struct ynode *n, const char *s)
{
	size_t len = strlen(s);

	return n->type == YNODE_SCALAR && n->len == len && memcmp(n->u.s, s, len) == 0;
}

static void join(const char *const *names, char *buf, size_t size)
{
	size_t off = 0;
	int i, n;

	buf[0] = '\0';
	for (i = 0; names[i] && off < size; i++) {
		n = snprintf(buf + off, size - off, "%s%s", i ? ", " : "", names[i]);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

/*
 * The keys one mapping may hold.  `where` completes "unknown key 'x' ...".  `misplaced` is a
 * key that is valid elsewhere (`from` in an egress rule), for which `hint` says more than
 * just "unknown".
 */
struct keyset {
	const char *where;
	const char *const *names;	/* NULL-terminated, fewer than KEYS_MAX */
	const char *misplaced;
	const char *hint;
};

static int unknown_key(struct pctx *c, const struct keyset *ks, const struct ynode *k)
{
	char t[SHOW_MAX], list[128];

	if (ks->misplaced && sc_is(k, ks->misplaced))
		return perr(c, k, "%s", ks->hint);
	join(ks->names, list, sizeof(list));
	return perr(c, k, "unknown key '%s' %s; expected one of %s", show(k, t), ks->where, list);
}

typedef const struct ynode *fields_t[KEYS_MAX];

/*
 * Check every key of mapping `map` against `ks` and file the key and value nodes under the
 * key's index.  Duplicates are caught by the slot already being filled, so this stays linear
 * however the mapping is written.
 */
static int collect(struct pctx *c, const struct ynode *map, const struct keyset *ks,
		   fields_t key, fields_t val)
{
	const struct ynode *k;
	char t[SHOW_MAX];
	uint32_t p;
	int i;

	for (p = 0; p < map->len; p += 2) {
		k = node_at(c, map->u.kids[p]);
		if (k->type != YNODE_SCALAR)
			return perr(c, k, "keys %s must be plain strings", ks->where);
		for (i = 0; ks->names[i] && !sc_is(k, ks->names[i]); i++)
			;
		if (!ks->names[i])
			return unknown_key(c, ks, k);
		if (key[i])
			return perr(c, k, "duplicate key '%s' %s (first at %u:%u)", show(k, t),
				    ks->where, key[i]->line + 1, key[i]->col + 1);
		key[i] = k;
		val[i] = node_at(c, map->u.kids[p + 1]);
	}
	return 0;
}

static int need_type(struct pctx *c, const struct ynode *n, int type, const char *what)
{
	if (n->type == type)
		return 0;
	return perr(c, n, "%s must be %s, not %s", what,
		    type == YNODE_MAPPING ? "a mapping" : "a sequence", kind(n));
}

/* need_type() and collect() in one step, for sections that are mappings. */
static int need_map(struct pctx *c, const struct ynode *n, const char *what,
		    const struct keyset *ks, fields_t key, fields_t val)
{
	int rc = need_type(c, n, YNODE_MAPPING, what);

	return rc ? rc : collect(c, n, ks, key, val);
}

/* Exact, lowercase enum words; *idx is the position in `names`. */
static int parse_enum(struct pctx *c, const struct ynode *n, const char *key,
		      const char *const *names, int *idx)
{
	char t[SHOW_MAX], list[64];
	int i;

	if (n->type != YNODE_SCALAR)
		return perr(c, n, "'%s' must be a string, not %s", key, kind(n));
	for (i = 0; names[i]; i++) {
		if (sc_is(n, names[i])) {
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

static int parse_u8_enum(struct pctx *c, const struct ynode *n, const char *key,
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
static int parse_port_item(struct pctx *c, const struct ynode *n, struct cg_port_range *pr)
{
	const char *s = n->u.s, *dash;
	unsigned lo, hi;
	char t[SHOW_MAX];
	int rc;

	if (n->type != YNODE_SCALAR)
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

/*
 * A port list.  A lone scalar (`ports: 443` or `ports: "80-90"`) is taken as a one-entry
 * list: it is unambiguous and a natural way to write one port.  An empty list is refused
 * because "no ports" would silently mean "any port".
 */
static int parse_ports(struct pctx *c, const struct ynode *n, const char *key,
		       struct cg_port_range **out, uint32_t *nout)
{
	bool seq = n->type == YNODE_SEQUENCE;
	struct cg_port_range *r;
	size_t cnt, i;
	int rc;

	if (n->type == YNODE_MAPPING)
		return perr(c, n, "'%s' must be a list of ports, not a mapping", key);
	cnt = seq ? n->len : (n->len ? 1 : 0);
	if (!cnt)
		return perr(c, n, "'%s' is empty; omit it to mean any port", key);
	if (cnt > CG_PORTS_MAX)
		return perr(c, node_at(c, n->u.kids[CG_PORTS_MAX]),
			    "too many entries in '%s' (limit %u); use ranges", key, CG_PORTS_MAX);
	r = calloc(cnt, sizeof(*r));
	if (!r)
		return -ENOMEM;
	for (i = 0; i < cnt; i++) {
		rc = parse_port_item(c, seq ? node_at(c, n->u.kids[i]) : n, &r[i]);
		if (rc) {
			free(r);
			return rc;
		}
	}
	*out = r;
	*nout = (uint32_t)cnt;
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
static int host_bits_err(struct pctx *c, const struct ynode *n, int fam, const uint8_t *b,
			 unsigned plen)
{
	char t[SHOW_MAX], a[INET6_ADDRSTRLEN];

	if (!inet_ntop(fam, b, a, sizeof(a)))
		a[0] = '\0';
	return perr(c, n, "host bits set in %s; did you mean %s/%u?", show(n, t), a, plen);
}

/* Split "addr/len" and run inet_pton on the address part. */
static int split_cidr(const struct ynode *n, uint8_t *b, int *fam, const char **pfx,
		      size_t *pfxlen)
{
	const char *s = n->u.s, *slash = memchr(s, '/', n->len);
	size_t alen = slash ? (size_t)(slash - s) : n->len;
	char a[INET6_ADDRSTRLEN + 1];

	if (alen == 0 || alen >= sizeof(a) || memchr(s, '\0', alen))
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
static int parse_cidr(struct pctx *c, const struct ynode *n, const char *key, struct cg_rule *r)
{
	uint8_t b[16] = { 0 };
	unsigned plen, max;
	char t[SHOW_MAX];
	const char *pfx;
	size_t pfxlen;
	int fam;

	if (n->type != YNODE_SCALAR)
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

enum { RK_ACTION, RK_ADDR, RK_PROTO, RK_PORTS };
static const char *const egress_rule_keys[] = { "action", "to", "proto", "ports", NULL };
static const char *const ingress_rule_keys[] = { "action", "from", "proto", "ports", NULL };
static const struct keyset rule_ks[CG_DIR_MAX] = {
	[CG_DIR_EGRESS] = { "in egress rule", egress_rule_keys, "from",
			    "egress rules use 'to', not 'from'" },
	[CG_DIR_INGRESS] = { "in ingress rule", ingress_rule_keys, "to",
			     "ingress rules use 'from', not 'to'" },
};

static int parse_rule_ports(struct pctx *c, const struct ynode *k, const struct ynode *v,
			    struct cg_rule *r)
{
	if (r->proto != CG_PROTO_TCP && r->proto != CG_PROTO_UDP)
		return perr(c, k, "ports need proto tcp or udp (proto is %s)",
			    cg_proto_str(r->proto));
	return parse_ports(c, v, "ports", &r->ports, &r->nports);
}

static int parse_rule(struct pctx *c, const struct ynode *n, int dir, struct cg_rule *r)
{
	const char *what = dir == CG_DIR_EGRESS ? "egress rule" : "ingress rule";
	const char *addr = rule_ks[dir].names[RK_ADDR];
	fields_t key = { 0 }, val = { 0 };
	int rc, idx;

	if (n->type != YNODE_MAPPING)
		return perr(c, n,
			    "each %s must be a mapping like { action: deny, %s: 10.0.0.0/8 }, not %s",
			    what, addr, kind(n));
	rc = collect(c, n, &rule_ks[dir], key, val);
	if (rc)
		return rc;
	r->line = (int)n->line + 1;
	r->col = (int)n->col + 1;
	if (!val[RK_ACTION])
		return perr(c, n, "%s has no 'action' (allow or deny)", what);
	rc = parse_u8_enum(c, val[RK_ACTION], "action", action_names, &r->action);
	if (rc)
		return rc;
	if (!val[RK_ADDR])
		return perr(c, n, "%s has no '%s' address", what, addr);
	rc = parse_cidr(c, val[RK_ADDR], addr, r);
	if (rc)
		return rc;
	r->proto = CG_PROTO_ANY;
	if (val[RK_PROTO]) {
		rc = parse_enum(c, val[RK_PROTO], "proto", proto_names, &idx);
		if (rc)
			return rc;
		r->proto = proto_vals[idx];
	}
	return val[RK_PORTS] ? parse_rule_ports(c, key[RK_PORTS], val[RK_PORTS], r) : 0;
}

static int parse_rules(struct pctx *c, const struct ynode *n, int dir, struct cg_direction *d)
{
	size_t cnt, i;
	int rc;

	rc = need_type(c, n, YNODE_SEQUENCE, "'rules'");
	if (rc)
		return rc;
	cnt = n->len;
	if (cnt > CG_RULES_MAX)
		return perr(c, node_at(c, n->u.kids[CG_RULES_MAX]), "too many %s rules (limit %u)",
			    dir == CG_DIR_EGRESS ? "egress" : "ingress", CG_RULES_MAX);
	if (!cnt)
		return 0;
	/* The count is known up front, so one exact allocation rather than growing; zeroed so
	 * cg_policy_free() is safe if we stop part way. */
	d->rules = calloc(cnt, sizeof(*d->rules));
	if (!d->rules)
		return -ENOMEM;
	d->nrules = cnt;
	for (i = 0; i < cnt; i++) {
		rc = parse_rule(c, node_at(c, n->u.kids[i]), dir, &d->rules[i]);
		if (rc)
			return rc;
	}
	return 0;
}

static const char *const dir_keys[] = { "default", "rules", NULL };
static const struct keyset dir_ks[CG_DIR_MAX] = {
	[CG_DIR_EGRESS] = { "in 'egress'", dir_keys, NULL, NULL },
	[CG_DIR_INGRESS] = { "in 'ingress'", dir_keys, NULL, NULL },
};

static int parse_direction(struct pctx *c, const struct ynode *n, int dir,
			   struct cg_direction *d)
{
	fields_t key = { 0 }, val = { 0 };
	int rc;

	rc = need_map(c, n, dir == CG_DIR_EGRESS ? "'egress'" : "'ingress'", &dir_ks[dir], key,
		      val);
	if (!rc && val[0])
		rc = parse_u8_enum(c, val[0], "default", action_names, &d->default_action);
	if (!rc && val[1])
		rc = parse_rules(c, val[1], dir, d);
	return rc;
}

static int family_err(struct pctx *c, const struct ynode *n)
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

/* families.if_unavailable: what to do where no layer can enforce it. */
static const char *const unavail_names[] = { "refuse", "warn", NULL };

static int parse_families(struct pctx *c, const struct ynode *n, uint64_t *mask,
			  uint8_t *best_effort)
{
	static const char *const keys[] = { "deny", "if_unavailable", NULL };
	static const struct keyset ks = { "in 'families'", keys, NULL, NULL };
	fields_t key = { 0 }, val = { 0 };
	const struct ynode *it;
	uint32_t i;
	int rc, af;

	rc = need_map(c, n, "'families'", &ks, key, val);
	if (!rc && val[1])
		rc = parse_u8_enum(c, val[1], "families.if_unavailable",
				   unavail_names, best_effort);
	if (rc || !val[0])
		return rc;
	rc = need_type(c, val[0], YNODE_SEQUENCE, "'families.deny'");
	if (rc)
		return rc;
	for (i = 0; i < val[0]->len; i++) {
		it = node_at(c, val[0]->u.kids[i]);
		if (it->type != YNODE_SCALAR)
			return perr(c, it, "address families are names like packet, not %s",
				    kind(it));
		/* A NUL inside the scalar would make a prefix of it match a name. */
		af = memchr(it->u.s, '\0', it->len) ? -1 : cg_family_from_name(it->u.s);
		if (af < 0 || af >= 64)
			return family_err(c, it);
		*mask |= UINT64_C(1) << af;
	}
	return 0;
}

static int parse_bind(struct pctx *c, const struct ynode *n, struct cg_sockets *s)
{
	static const char *const keys[] = { "default", "allow", "deny", NULL };
	static const struct keyset ks = { "in 'bind'", keys, NULL, NULL };
	fields_t key = { 0 }, val = { 0 };
	int rc;

	rc = need_map(c, n, "'bind'", &ks, key, val);
	if (!rc && val[0])
		rc = parse_u8_enum(c, val[0], "bind default", action_names, &s->bind_default);
	if (!rc && val[1])
		rc = parse_ports(c, val[1], "bind.allow", &s->bind_allow, &s->nbind_allow);
	if (!rc && val[2])
		rc = parse_ports(c, val[2], "bind.deny", &s->bind_deny, &s->nbind_deny);
	return rc;
}

static int parse_sockets(struct pctx *c, const struct ynode *n, struct cg_sockets *s)
{
	static const char *const keys[] = { "raw", "families", "bind", NULL };
	static const struct keyset ks = { "in 'sockets'", keys, NULL, NULL };
	fields_t key = { 0 }, val = { 0 };
	uint8_t raw;
	int rc;

	rc = need_map(c, n, "'sockets'", &ks, key, val);
	if (rc)
		return rc;
	s->present = 1;
	if (val[0]) {
		rc = parse_u8_enum(c, val[0], "raw", action_names, &raw);
		if (rc)
			return rc;
		s->raw = (int8_t)raw;
	}
	if (val[1]) {
		rc = parse_families(c, val[1], &s->deny_families,
				    &s->families_best_effort);
		if (rc)
			return rc;
	}
	return val[2] ? parse_bind(c, val[2], s) : 0;
}

/* A decimal count 1..CG_EV_LIMIT (events.rate, events.burst). */
#define CG_EV_LIMIT	1000000
static int parse_ev_count(struct pctx *c, const struct ynode *n, const char *key,
			  uint32_t *out)
{
	char t[SHOW_MAX];
	uint64_t v = 0;
	uint32_t i;

	if (n->type != YNODE_SCALAR || !n->len || n->len > 7 || n->u.s[0] == '0')
		goto bad;
	for (i = 0; i < n->len; i++) {
		if (n->u.s[i] < '0' || n->u.s[i] > '9')
			goto bad;
		v = v * 10 + (n->u.s[i] - '0');
	}
	if (v <= CG_EV_LIMIT) {
		*out = (uint32_t)v;
		return 0;
	}
bad:
	return perr(c, n, "events.%s must be a whole number from 1 to %d, not '%s'", key,
		    CG_EV_LIMIT, n->type == YNODE_SCALAR ? show(n, t) : kind(n));
}

/* events: off | { rate: N, burst: N } */
static int parse_events(struct pctx *c, const struct ynode *n, struct cg_events_cfg *e)
{
	static const char *const keys[] = { "rate", "burst", NULL };
	static const struct keyset ks = { "in 'events'", keys, NULL, NULL };
	fields_t key = { 0 }, val = { 0 };
	int rc;

	if (n->type == YNODE_SCALAR && sc_is(n, "off")) {
		e->off = 1;
		return 0;
	}
	if (n->type != YNODE_MAPPING)
		return perr(c, n, "'events' must be 'off' or a mapping { rate: N, burst: N }");
	rc = collect(c, n, &ks, key, val);
	if (!rc && val[0])
		rc = parse_ev_count(c, val[0], "rate", &e->rate);
	if (!rc && val[1])
		rc = parse_ev_count(c, val[1], "burst", &e->burst);
	return rc;
}

/* The name ends up in paths, map names and logs: keep it boring. */
static int parse_name(struct pctx *c, const struct ynode *n, char *out)
{
	char t[SHOW_MAX];
	uint32_t i;

	if (n->type != YNODE_SCALAR)
		return perr(c, n, "'policy' must be a name, not %s", kind(n));
	if (!n->len)
		return perr(c, n, "policy name is empty");
	if (n->len >= CG_POLICY_NAME_MAX)
		return perr(c, n, "policy name is %u characters; the limit is %d", n->len,
			    CG_POLICY_NAME_MAX - 1);
	for (i = 0; i < n->len; i++)
		if (!n->u.s[i] ||
		    !strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-",
			    n->u.s[i]))
			return perr(c, n,
				    "invalid character in policy name '%s'; use A-Z a-z 0-9 _ . -",
				    show(n, t));
	memcpy(out, n->u.s, n->len);
	out[n->len] = '\0';
	return 0;
}

enum { TK_POLICY, TK_MODE, TK_VIOL, TK_EGRESS, TK_INGRESS, TK_SOCKETS, TK_EVENTS };
static const char *const top_keys[] = {
	"policy", "mode", "on_violation", "egress", "ingress", "sockets", "events", NULL,
};
static const struct keyset top_ks = { "at top level", top_keys, NULL, NULL };

static bool is_null(const struct ynode *n)
{
	return n->type == YNODE_SCALAR && n->plain &&
	       (n->len == 0 || sc_is(n, "~") || sc_is(n, "null"));
}

static int parse_root(struct pctx *c, const struct ynode *root, struct cg_policy *p)
{
	fields_t key = { 0 }, val = { 0 };
	int rc;

	if (is_null(root))
		return perr(c, root, "empty policy");
	if (root->type != YNODE_MAPPING)
		return perr(c, root, "a policy must be a mapping starting with 'policy: NAME', not %s",
			    kind(root));
	rc = collect(c, root, &top_ks, key, val);
	if (rc)
		return rc;
	if (!val[TK_POLICY])
		return perr(c, root, "missing required key 'policy' (the policy name)");
	rc = parse_name(c, val[TK_POLICY], p->name);
	if (!rc && val[TK_MODE])
		rc = parse_u8_enum(c, val[TK_MODE], "mode", mode_names, &p->mode);
	if (!rc && val[TK_VIOL])
		rc = parse_u8_enum(c, val[TK_VIOL], "on_violation", viol_names, &p->on_violation);
	if (!rc && val[TK_EGRESS])
		rc = parse_direction(c, val[TK_EGRESS], CG_DIR_EGRESS, &p->dir[CG_DIR_EGRESS]);
	if (!rc && val[TK_INGRESS])
		rc = parse_direction(c, val[TK_INGRESS], CG_DIR_INGRESS, &p->dir[CG_DIR_INGRESS]);
	if (!rc && val[TK_SOCKETS])
		rc = parse_sockets(c, val[TK_SOCKETS], &p->sockets);
	if (!rc && val[TK_EVENTS])
		rc = parse_events(c, val[TK_EVENTS], &p->events);
	return rc;
}

static int build(struct pctx *c, struct cg_policy **out)
{
	struct cg_policy *p;
	int rc;

	if (!c->t->root)
		return perr_at(c, 0, 0, "empty policy");
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->sockets.raw = -1;
	p->events.rate = CG_EVENTS_RATE_DEFAULT;
	p->events.burst = CG_EVENTS_BURST_DEFAULT;
	memcpy(p->source, c->src, strnlen(c->src, sizeof(p->source) - 1));
	rc = parse_root(c, c->t->root, p);
	if (rc) {
		cg_policy_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

int cg_policy_parse_buf(const char *source, const char *buf, size_t len,
			struct cg_policy **out, char *err, size_t errlen)
{
	struct ytree t = { 0 };
	struct pctx c = { source ? source : "<policy>", &t, err, errlen };
	struct cg_policy *p = NULL;
	int rc;

	if (!out || (!buf && len))
		return cg_policy_errf(err, errlen, -EINVAL, "%s: no policy text", c.src);
	if (len > CG_POLICY_FILE_MAX)
		return cg_policy_errf(err, errlen, -EINVAL, "%s: policy is %zu bytes; the limit is %u MiB",
			    c.src, len, CG_POLICY_FILE_MAX >> 20);
	rc = ytree_load(&t, c.src, buf, len, err, errlen);
	if (!rc)
		rc = build(&c, &p);
	ytree_free(&t);
	if (rc)
		return rc;
	if (err && errlen)
		err[0] = '\0';
	*out = p;
	return 0;
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
