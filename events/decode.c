// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Decoding events: cgroup paths from cg_cgroups, policy names and rule
 * text from the slot the event names.  The policy of a slot is loaded
 * once from the source the slot records and cached until the slot's hash
 * changes (a new policy took the slot).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include "events.h"
#include "../policy/compile.h"

struct slot_cache {
	int valid;
	__u64 hash;
	char name[64];
	struct cg_policy *p;	/* NULL if its source cannot be loaded */
};

struct cg_evdec {
	struct cg_guard *g;
	__s64 mono_to_real;	/* CLOCK_REALTIME - CLOCK_MONOTONIC */
	struct slot_cache slot[CG_MAX_SLOTS];
};

static __s64 ts_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (__s64)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int cg_evdec_new(struct cg_guard *g, struct cg_evdec **out)
{
	struct cg_evdec *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->g = g;
	d->mono_to_real = ts_ns(CLOCK_REALTIME) - ts_ns(CLOCK_MONOTONIC);
	*out = d;
	return 0;
}

void cg_evdec_free(struct cg_evdec *d)
{
	int i;

	if (!d)
		return;
	for (i = 0; i < CG_MAX_SLOTS; i++)
		cg_policy_free(d->slot[i].p);
	free(d);
}

/* The slot's policy, reloaded when the slot's content changed. */
static struct slot_cache *slot_get(struct cg_evdec *d, __u32 slot)
{
	struct slot_cache *c = &d->slot[slot % CG_MAX_SLOTS];
	struct cg_slot_meta m = {};
	char e[CG_ERR_MAX];
	const char *src;

	if (bpf_map_lookup_elem(d->g->map_fd[CG_MAP_SLOTS], &slot, &m))
		return c;
	if (c->valid && c->hash == m.hash && !strcmp(c->name, m.name))
		return c;
	cg_policy_free(c->p);
	c->p = NULL;
	c->valid = 1;
	c->hash = m.hash;
	snprintf(c->name, sizeof(c->name), "%s", m.name);
	src = !strncmp(m.source, "builtin:", 8) ? m.source + 8 : m.source;
	if (m.in_use && cg_policy_load(src, &c->p, e, sizeof(e)))
		c->p = NULL;	/* file gone: rule numbers only */
	return c;
}

void cg_rule_counter_text(const struct cg_policy *p, unsigned ctr, char *buf,
			  size_t len)
{
	const struct cg_rule *r;
	char t[256];
	size_t idx = 0;
	int dir = 0, k;

	if (ctr == CG_RULE_UNPARSED) {
		snprintf(buf, len, "unparsed packet, default deny");
		return;
	}
	if (ctr == CG_RULE_NONE) {
		snprintf(buf, len, "sockets: section");
		return;
	}
	k = p ? cg_counter_rule(p, ctr, &dir, &idx) : -ENOENT;
	if (k == 0) {
		r = &p->dir[dir].rules[idx];
		cg_rule_format(r, dir, t, sizeof(t));
		snprintf(buf, len, "%s (%s:%d)", t, p->source, r->line);
	} else if (k == 1) {
		snprintf(buf, len, "%s default %s", dir ? "ingress" : "egress",
			 cg_action_str(p->dir[dir].default_action));
	} else if (k == 2) {
		snprintf(buf, len, "rules past #%d (shared counter)",
			 CG_RULE_OVERFLOW - CG_RULE_FIRST);
	} else {
		snprintf(buf, len, "counter %u", ctr);
	}
}

static const char *const layer_names[CG_EVL_MAX] = {
	"packet", "connect", "sendmsg", "bind", "create", "lsm",
};

static const char *verdict_name(int v)
{
	return v == CG_EVV_AUDIT ? "audit" : v == CG_EVV_KILL ? "kill" : "drop";
}

static const char *proto_name(int p)
{
	switch (p) {
	case CG_P_TCP: return "tcp";
	case CG_P_UDP: return "udp";
	case CG_P_ICMP: return "icmp";
	case CG_P_ICMPV6: return "icmpv6";
	case 0: return "any";
	default: return "other";
	}
}

static void addr_str(int fam, const __u8 *a, char *buf, size_t len)
{
	if (fam == CG_FAM_V4 || fam == CG_FAM_V6)
		inet_ntop(fam == CG_FAM_V4 ? AF_INET : AF_INET6, a, buf, len);
	else
		buf[0] = 0;
}

/* socket() events carry the family and type asked for, not addresses. */
static void socket_what(const struct cg_event *e, struct cg_evinfo *o)
{
	static const char *const types[] = { [1] = "stream", [2] = "dgram",
		[3] = "raw", [5] = "seqpacket" };
	const char *fam = cg_family_name(e->family);
	unsigned t = e->sotype & 0xf;

	snprintf(o->what, sizeof(o->what), "socket family %s type %s",
		 fam ? fam : "?", t < 6 && types[t] ? types[t] : "other");
}

int cg_evdec_decode(struct cg_evdec *d, const void *raw, size_t len,
		    struct cg_evinfo *o)
{
	const struct cg_event *e = raw;
	struct cg_cgroup_meta cm;
	struct slot_cache *sc;

	if (len < sizeof(*e))
		return -EBADMSG;	/* from another ABI: never misread */
	memset(o, 0, sizeof(*o));
	o->time_ns = e->ts_ns + d->mono_to_real;
	o->cgid = e->cgid;
	o->sk_cgid = e->sk_cgid;
	o->cookie = e->cookie;
	if (!bpf_map_lookup_elem(d->g->map_fd[CG_MAP_CGROUPS], &e->cgid, &cm))
		snprintf(o->cgroup, sizeof(o->cgroup), "%s", cm.path);
	sc = slot_get(d, e->slot);
	snprintf(o->policy, sizeof(o->policy), "%s", sc->name);
	o->gen = e->gen;
	o->layer = e->layer < CG_EVL_MAX ? layer_names[e->layer] : "?";
	o->direction = e->dir == CG_DIR_INGRESS_V ? "ingress" : "egress";
	o->verdict = verdict_name(e->verdict);
	o->proto = proto_name(e->proto);
	o->rule = e->rule < CG_RULES_PER_SLOT ? e->rule : -1;
	cg_rule_counter_text(sc->p, e->rule, o->rule_text, sizeof(o->rule_text));
	if (e->layer == CG_EVL_CREATE ||
	    (e->layer == CG_EVL_LSM && e->family != CG_FAM_V4 &&
	     e->family != CG_FAM_V6)) {
		socket_what(e, o);
	} else {
		addr_str(e->family, e->saddr, o->src, sizeof(o->src));
		addr_str(e->family, e->daddr, o->dst, sizeof(o->dst));
	}
	o->sport = e->sport;
	o->dport = e->dport;
	o->pid = e->pid;
	memcpy(o->comm, e->comm, sizeof(e->comm));
	return 0;
}

static void time_str(uint64_t ns, char *buf, size_t len)
{
	time_t s = ns / 1000000000ULL;
	struct tm tm;
	char t[32];

	gmtime_r(&s, &tm);
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%06uZ", t, (unsigned)(ns % 1000000000ULL / 1000));
}

void cg_evinfo_json(struct json *j, const struct cg_evinfo *i)
{
	char t[48];

	time_str(i->time_ns, t, sizeof(t));
	jw_obj_start(j);
	jw_kstr(j, "time", t);
	jw_kstr(j, "cgroup", i->cgroup);
	jw_ku64(j, "cgroup_id", i->cgid);
	jw_kstr(j, "policy", i->policy);
	jw_ku64(j, "generation", i->gen);
	jw_kstr(j, "layer", i->layer);
	jw_kstr(j, "direction", i->direction);
	jw_kstr(j, "verdict", i->verdict);
	jw_key(j, "rule");
	if (i->rule >= 0)
		jw_u64(j, i->rule);
	else
		jw_null(j);
	jw_kstr(j, "rule_text", i->rule_text);
	jw_kstr(j, "proto", i->proto);
	jw_kstr(j, "src", i->src);
	jw_ku64(j, "sport", i->sport);
	jw_kstr(j, "dst", i->dst);
	jw_ku64(j, "dport", i->dport);
	jw_ku64(j, "pid", i->pid);
	jw_kstr(j, "comm", i->comm);
	jw_ku64(j, "socket_cookie", i->cookie);
	jw_ku64(j, "socket_cgroup_id", i->sk_cgid);
	if (i->what[0])
		jw_kstr(j, "what", i->what);
	jw_obj_end(j);
}

void cg_evinfo_text(FILE *f, const struct cg_evinfo *i)
{
	char t[48];

	time_str(i->time_ns, t, sizeof(t));
	fprintf(f, "%s %s %s %s %s", t + 11, i->verdict, i->layer,
		i->direction, i->cgroup[0] ? i->cgroup : "?");
	if (i->what[0])
		fprintf(f, " %s", i->what);
	else
		fprintf(f, " %s %s:%u -> %s:%u", i->proto, i->src, i->sport,
			i->dst, i->dport);
	if (i->pid)
		fprintf(f, " pid %u (%s)", i->pid, i->comm);
	fprintf(f, " policy %s: %s", i->policy, i->rule_text);
}

int cg_evfilter_match(const struct cg_evfilter *f, const void *raw, size_t len)
{
	const struct cg_event *e = raw;
	unsigned sel;

	if (len < sizeof(*e))
		return 0;
	if (f->cgid && e->cgid != f->cgid && e->sk_cgid != f->cgid)
		return 0;
	sel = e->verdict == CG_EVV_AUDIT ? CG_EVSEL_AUDIT : CG_EVSEL_DROP;
	return !!(f->verdicts & sel);
}
