// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Policy -> sandbox plan.  Landlock's network rules are an allow-list of
 * TCP ports for connect() and bind(), the same for every address; seccomp
 * can refuse socket() by family and type.  Everything else a policy says
 * (addresses, UDP, ICMP, ingress, counters) cannot be enforced by an
 * unprivileged process on itself, and the plan lists it as such.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "sandbox.h"

/* Counter index of a rule for the port sweep: family x action x (/0?). */
#define SWEEP_N		8
static int sweep_idx(const struct cg_rule *r)
{
	return (r->family == AF_INET6) * 4 + (r->action == CG_ACT_DENY) * 2 +
	       (r->prefixlen == 0);
}

static void bm_set(uint8_t *bm, unsigned port)
{
	bm[port >> 3] |= 1u << (port & 7);
}

/*
 * Values the verdict for one family takes over all addresses at one port,
 * from the counts of matching rules.  Conservative: a longer allow rule
 * that is wholly shadowed by longer deny rules still counts as visible, so
 * a port may be called mixed when it is not, never the other way round.
 */
static unsigned family_values(const int *c, int def)
{
	int a_nz = c[0], a_z = c[1], d_nz = c[2], d_z = c[3];
	unsigned v = 0;

	if (a_nz || (a_z && !d_z))	/* a /0 tie: deny wins */
		v |= 1u << CG_ACT_ALLOW;
	if (d_nz || d_z)
		v |= 1u << CG_ACT_DENY;
	if (!a_z && !d_z)		/* some address matches no rule */
		v |= 1u << def;
	return v;
}

/* The class of every TCP port for egress connect (class[] has SB_PORTS). */
static int classify_connect(const struct cg_policy *p, uint8_t *class)
{
	const struct cg_direction *d = &p->dir[CG_DIR_EGRESS];
	int (*diff)[SWEEP_N] = calloc(SB_PORTS + 1, sizeof(*diff));
	int cnt[SWEEP_N] = { 0 };
	size_t i;
	uint32_t k;
	unsigned port;

	if (!diff)
		return -ENOMEM;
	for (i = 0; i < d->nrules; i++) {
		const struct cg_rule *r = &d->rules[i];

		if (r->proto != CG_PROTO_TCP && r->proto != CG_PROTO_ANY)
			continue;
		if (!r->nports) {
			diff[0][sweep_idx(r)]++;
			diff[SB_PORTS][sweep_idx(r)]--;
		}
		for (k = 0; k < r->nports; k++) {
			diff[r->ports[k].lo][sweep_idx(r)]++;
			diff[r->ports[k].hi + 1][sweep_idx(r)]--;
		}
	}
	for (port = 0; port < SB_PORTS; port++) {
		unsigned v;

		for (k = 0; k < SWEEP_N; k++)
			cnt[k] += diff[port][k];
		v = family_values(cnt, d->default_action) |
		    family_values(cnt + 4, d->default_action);
		class[port] = v == (1u << CG_ACT_ALLOW) ? SB_PORT_ALLOW :
			      v == (1u << CG_ACT_DENY) ? SB_PORT_DENY :
			      SB_PORT_MIXED;
	}
	free(diff);
	return 0;
}

static struct sb_item *add_item(struct sb_plan *pl, enum sb_status st,
				const char *by, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static struct sb_item *add_item(struct sb_plan *pl, enum sb_status st,
				const char *by, const char *fmt, ...)
{
	struct sb_item *it;
	va_list ap;

	if (pl->nitems >= SB_ITEMS_MAX)
		return NULL;
	it = &pl->items[pl->nitems++];
	it->status = st;
	it->kind = SB_K_OTHER;
	snprintf(it->by, sizeof(it->by), "%s", by);
	va_start(ap, fmt);
	vsnprintf(it->what, sizeof(it->what), fmt, ap);
	va_end(ap);
	return it;
}

void sb_ports_format(const uint8_t *bm, char *buf, size_t len)
{
	size_t off = 0;
	unsigned p = 0, lo;
	int n;

	buf[0] = 0;
	while (p < SB_PORTS) {
		if (!sb_port_ok(bm, p)) {
			p++;
			continue;
		}
		for (lo = p; p < SB_PORTS && sb_port_ok(bm, p); p++)
			;
		n = lo == p - 1 ? snprintf(buf + off, len - off, "%s%u",
					   off ? ", " : "", lo) :
			snprintf(buf + off, len - off, "%s%u-%u",
				 off ? ", " : "", lo, p - 1);
		if (n < 0 || (size_t)n >= len - off) {
			if (len > 4)
				strcpy(buf + len - 4, "...");
			return;
		}
		off += n;
	}
	if (!off)
		snprintf(buf, len, "none");
}

static void plan_connect(unsigned flags, struct sb_plan *pl,
			 const uint8_t *class)
{
	uint8_t mixed[SB_PORTS / 8] = { 0 };
	char ports[160], mports[120];
	unsigned port, n_deny = 0;
	struct sb_item *it;

	for (port = 0; port < SB_PORTS; port++) {
		if (class[port] == SB_PORT_DENY)
			n_deny++;
		if (class[port] == SB_PORT_MIXED) {
			pl->n_mixed++;
			bm_set(mixed, port);
		}
		if (class[port] == SB_PORT_ALLOW ||
		    (class[port] == SB_PORT_MIXED && !(flags & SB_DENY_MIXED))) {
			bm_set(pl->connect_ok, port);
			pl->n_connect_ok++;
		}
	}
	if (!n_deny && !pl->n_mixed) {
		add_item(pl, SB_ENFORCED, "", "tcp connect: every port is "
			 "allowed to every address: nothing to restrict");
	} else if (n_deny || (flags & SB_DENY_MIXED)) {
		pl->ll_connect = 1;
		/* TCP Fast Open connects inside sendmsg(), where Landlock does
		 * not look: seccomp refuses MSG_FASTOPEN instead. */
		pl->sc_fastopen = 1;
		sb_ports_format(pl->connect_ok, ports, sizeof(ports));
		add_item(pl, SB_ENFORCED, "landlock", "tcp connect: allowed "
			 "to ports %s only; any other port fails with EACCES",
			 ports);
		it = add_item(pl, SB_ENFORCED, "seccomp", "tcp fast open "
			      "(MSG_FASTOPEN sends) refused with EPERM: Landlock "
			      "does not check it");
		if (it)
			it->kind = SB_K_FASTOPEN;
	}
	if (!pl->n_mixed)
		return;
	sb_ports_format(mixed, mports, sizeof(mports));
	if (flags & SB_DENY_MIXED)
		add_item(pl, SB_TIGHTER, "landlock", "tcp connect to ports %s: "
			 "the policy decides by address; Landlock has no "
			 "addresses, so they are denied to every address "
			 "(--deny-mixed)", mports);
	else
		add_item(pl, SB_LOOSER, pl->ll_connect ? "landlock" : "",
			 "tcp connect to ports %s: "
			 "the policy decides by address; Landlock has no "
			 "addresses, so they are allowed to every address",
			 mports);
}

/* Egress parts Landlock cannot see: addresses, UDP, ICMP. */
static void plan_egress_rest(const struct cg_policy *p, struct sb_plan *pl)
{
	const struct cg_direction *d = &p->dir[CG_DIR_EGRESS];
	size_t i, naddr = 0, first = 0, nother = 0;
	char rule[128] = "";

	for (i = 0; i < d->nrules; i++) {
		if (d->rules[i].prefixlen && !naddr++)
			first = i;
		if (d->rules[i].proto != CG_PROTO_TCP &&
		    d->rules[i].action == CG_ACT_DENY)
			nother++;
	}
	if (naddr) {
		cg_rule_format(&d->rules[first], CG_DIR_EGRESS, rule, sizeof(rule));
		add_item(pl, SB_NOT_ENFORCED, "", "egress addresses: %zu rule(s) "
			 "name addresses (first: %s): Landlock has no "
			 "addresses", naddr, rule);
	}
	if (d->default_action == CG_ACT_DENY || nother)
		add_item(pl, SB_NOT_ENFORCED, "", "egress udp/icmp/other "
			 "(default %s, %zu deny rule(s) not limited to tcp): "
			 "Landlock restricts tcp only",
			 cg_action_str(d->default_action), nother);
}

static void plan_ingress(const struct cg_policy *p, struct sb_plan *pl)
{
	const struct cg_direction *d = &p->dir[CG_DIR_INGRESS];

	if (d->nrules || d->default_action == CG_ACT_DENY)
		add_item(pl, SB_NOT_ENFORCED, "", "ingress (%zu rule(s), default "
			 "%s): Landlock cannot judge incoming connections or "
			 "packets", d->nrules, cg_action_str(d->default_action));
}

static int in_ranges(const struct cg_port_range *r, uint32_t n, unsigned port)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (port >= r[i].lo && port <= r[i].hi)
			return 1;
	return 0;
}

/* sockets.bind maps exactly onto Landlock's BIND_TCP, for TCP. */
static void plan_bind(const struct cg_sockets *s, struct sb_plan *pl)
{
	char ports[160];
	unsigned port;

	if (s->bind_default != CG_ACT_DENY && !s->nbind_deny)
		return;
	pl->ll_bind = 1;
	/* Port 0 asks for an ephemeral port: always allowed, as in cgguard. */
	bm_set(pl->bind_ok, 0);
	pl->n_bind_ok = 1;
	for (port = 1; port < SB_PORTS; port++) {
		int ok = in_ranges(s->bind_deny, s->nbind_deny, port) ? 0 :
			 in_ranges(s->bind_allow, s->nbind_allow, port) ? 1 :
			 s->bind_default == CG_ACT_ALLOW;

		if (ok) {
			bm_set(pl->bind_ok, port);
			pl->n_bind_ok++;
		}
	}
	sb_ports_format(pl->bind_ok, ports, sizeof(ports));
	add_item(pl, SB_ENFORCED, "landlock", "tcp bind: allowed to ports %s "
		 "only (0: ephemeral); any other port fails with EACCES", ports);
	add_item(pl, SB_NOT_ENFORCED, "", "udp bind restrictions: Landlock "
		 "restricts tcp only");
}

static void plan_sockets(const struct cg_policy *p, struct sb_plan *pl)
{
	const struct cg_sockets *s = &p->sockets;
	char fams[200] = "";
	size_t off = 0;
	int af;

	if (s->raw == CG_ACT_DENY) {
		pl->sc_raw = 1;
		add_item(pl, SB_ENFORCED, "seccomp", "raw inet sockets "
			 "(SOCK_RAW on inet/inet6): socket() fails with EPERM");
	}
	pl->sc_families = s->deny_families;
	for (af = 0; af < 64; af++) {
		const char *n = cg_family_name(af);

		if (!(s->deny_families & (1ULL << af)) || off >= sizeof(fams))
			continue;
		off += snprintf(fams + off, sizeof(fams) - off, "%s%s",
				off ? ", " : "", n ? n : "?");
	}
	if (off)
		add_item(pl, SB_ENFORCED, "seccomp", "socket families %s: "
			 "socket() and socketpair() fail with EPERM", fams);
	plan_bind(s, pl);
}

int sb_plan_build(const struct cg_policy *p, unsigned flags,
		  struct sb_plan *pl)
{
	uint8_t *class;
	int err;

	memset(pl, 0, sizeof(*pl));
	snprintf(pl->policy, sizeof(pl->policy), "%s", p->name);
	if (p->mode == CG_MODE_AUDIT) {
		/* Audit lets everything pass and counts: a sandbox that
		 * cannot count has nothing to do. */
		pl->audit = 1;
		add_item(pl, SB_NOT_ENFORCED, "", "mode audit: the policy only "
			 "counts would-be denials; the sandbox restricts nothing "
			 "(counting needs a delegated cgroup)");
		return 0;
	}
	class = malloc(SB_PORTS);
	if (!class)
		return -ENOMEM;
	err = classify_connect(p, class);
	if (!err)
		plan_connect(flags, pl, class);
	free(class);
	if (err)
		return err;
	plan_egress_rest(p, pl);
	plan_ingress(p, pl);
	plan_sockets(p, pl);
	if (p->on_violation == CG_VIOL_KILL)
		add_item(pl, SB_NOT_ENFORCED, "", "on_violation: kill: the "
			 "sandbox refuses the operation, it kills nothing");
	add_item(pl, SB_NOT_ENFORCED, "", "counters and events: none "
		 "(only a delegated cgroup counts)");
	return 0;
}

const char *sb_status_str(enum sb_status s)
{
	switch (s) {
	case SB_ENFORCED:	return "enforced";
	case SB_TIGHTER:	return "tighter";
	case SB_LOOSER:		return "looser";
	default:		return "not_enforced";
	}
}
