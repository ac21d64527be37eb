// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Policy -> nft script.  Input is the BPF backend's compiled table
 * (cg_policy_compile): one entry per distinct prefix of a direction and
 * family, whose value already folds in every enclosing prefix's rules.
 * The longest matching entry decides, which an nft interval map cannot
 * express directly (its intervals may not overlap), so the entries are
 * flattened: the address space is cut into disjoint intervals, each owned
 * by its longest enclosing prefix.  Entries with equal decisions share one
 * chain (a "class"); the map sends each interval to its class with `goto`,
 * and addresses owned by the /0 entry fall through the map to its class.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include "nft.h"
#include "nftstate.h"
#include "../cgroup/cgroup.h"
#include "../policy/compile.h"
#include "../lib/err.h"

typedef unsigned __int128 u128;

const char *const cg_nft_hooks[CG_DIR_MAX] = { "output", "input" };
#define hook_of cg_nft_hooks
static const char dir_tag[CG_DIR_MAX] = { 'o', 'i' };
static const char *const sel_of[CG_DIR_MAX] = { "daddr", "saddr" };

/* A decision as the class chains see it: the entry's fallback and its
 * port ranges (inline, or from the compiled port table), without flags. */
struct cls {
	uint16_t rule;
	uint8_t action;
	uint32_t n;
	struct cg_range *r;
};

struct classes {
	struct cls *c;
	size_t n;
	uint32_t *slot;		/* open addressing: class index + 1 */
	size_t cap;		/* power of two */
	int by_action;
	struct cg_range *tmp;	/* the entry being classified */
	size_t tmpcap;
	size_t *tstart;		/* first segment of each port table */
};

struct ival {
	u128 lo, hi;
	uint32_t cls;
};

/* Ranges of @v into cs->tmp; returns how many, or -ENOMEM. */
static long ranges_of(const struct cg_compiled *c, struct classes *cs,
		      const struct cg_lpm_val *v)
{
	size_t n = 0, i, first = 0, last = 0;

	if (v->nranges == CG_RANGES_IN_TABLE && v->table < c->ntables) {
		first = cs->tstart[v->table];
		last = cs->tstart[v->table + 1];
	}
	n = v->nranges == CG_RANGES_IN_TABLE ? last - first : v->nranges;
	if (n > cs->tmpcap) {
		struct cg_range *t = realloc(cs->tmp, n * sizeof(*t));

		if (!t)
			return -ENOMEM;
		cs->tmp = t;
		cs->tmpcap = n;
	}
	for (i = 0; i < n; i++) {
		if (v->nranges != CG_RANGES_IN_TABLE) {
			cs->tmp[i] = v->r[i];
		} else {
			const struct cg_port_seg *g = &c->seg[first + i];

			cs->tmp[i] = (struct cg_range){ g->lo, g->hi, g->proto,
							g->action, g->rule };
		}
		if (cs->by_action)
			cs->tmp[i].rule = 0;
	}
	return (long)n;
}

static uint64_t cls_hash(const struct cls *k)
{
	uint64_t h = cg_hash_mix(0xcbf29ce484222325ULL, &k->rule,
				 sizeof(k->rule));

	h = cg_hash_mix(h, &k->action, 1);
	return cg_hash_mix(h, k->r, k->n * sizeof(*k->r));
}

static int cls_eq(const struct cls *a, const struct cls *b)
{
	return a->rule == b->rule && a->action == b->action && a->n == b->n &&
	       !memcmp(a->r, b->r, a->n * sizeof(*a->r));
}

static int class_of(const struct cg_compiled *c, struct classes *cs,
		    const struct cg_lpm_val *v, uint32_t *out)
{
	long n = ranges_of(c, cs, v);
	struct cls k;
	size_t h;

	if (n < 0)
		return (int)n;
	k = (struct cls){ cs->by_action ? 0 : v->rule, v->action, n, cs->tmp };
	h = cls_hash(&k) & (cs->cap - 1);
	for (;; h = (h + 1) & (cs->cap - 1)) {
		uint32_t s = cs->slot[h];

		if (!s)
			break;
		if (cls_eq(&cs->c[s - 1], &k)) {
			*out = s - 1;
			return 0;
		}
	}
	if (!cs->by_action && cs->n >= CG_NFT_MAX_CLASSES)
		return -E2BIG;
	k.r = malloc((n ? n : 1) * sizeof(*k.r));
	if (!k.r)
		return -ENOMEM;
	memcpy(k.r, cs->tmp, n * sizeof(*k.r));
	cs->c[cs->n] = k;
	cs->slot[h] = ++cs->n;
	*out = cs->n - 1;
	return 0;
}

static void free_classes(struct classes *cs)
{
	size_t i;

	for (i = 0; i < cs->n; i++)
		free(cs->c[i].r);
	cs->n = 0;
}

/* Classes of one direction; entry i of @c gets class ec[i]. */
static int build_classes(const struct cg_compiled *c, int dir,
			 struct classes *cs, uint32_t *ec)
{
	size_t i;
	int err = 0;

	for (cs->by_action = 0; cs->by_action < 2; cs->by_action++) {
		free_classes(cs);
		memset(cs->slot, 0, cs->cap * sizeof(*cs->slot));
		for (i = 0, err = 0; i < c->n && !err; i++)
			if (c->e[i].key.dir == dir)
				err = class_of(c, cs, &c->e[i].val, &ec[i]);
		if (err != -E2BIG)
			return err;
	}
	return err;
}

static u128 addr_of(const struct cg_entry *e, int v6)
{
	u128 a = 0;
	int i;

	for (i = 0; i < (v6 ? 16 : 4); i++)
		a = (a << 8) | e->key.addr[i];
	return a;
}

static u128 last_of(u128 lo, int plen, int bits)
{
	if (plen >= bits)
		return lo;
	if (bits - plen >= 128)
		return ~(u128)0;
	return lo | ((((u128)1) << (bits - plen)) - 1);
}

struct flat {
	struct ival *v;
	size_t n;
	uint32_t dflt;		/* class of the /0 entry */
};

/* Appends [lo, hi] -> cls, merging with an adjacent equal interval. */
static void put(struct flat *f, u128 lo, u128 hi, uint32_t cls)
{
	struct ival *last = f->n ? &f->v[f->n - 1] : NULL;

	if (last && last->cls == cls && last->hi + 1 == lo) {
		last->hi = hi;
		return;
	}
	f->v[f->n++] = (struct ival){ lo, hi, cls };
}

/*
 * Sweep over the entries of one (dir, family), sorted by address and then
 * prefix length (the compiler's order, parents first): a stack holds the
 * prefixes enclosing the current address; what is between two starts
 * belongs to the top of the stack.
 */
static int flatten(const struct cg_compiled *c, int dir, int fam,
		   const uint32_t *ec, struct flat *f)
{
	int v6 = fam == CG_FAM_V6, bits = v6 ? 128 : 32, sp = 0;
	size_t stack[130], i, n = 0;
	u128 cur = 0, top_hi;
	int done = 0;

	for (i = 0; i < c->n; i++)
		n += c->e[i].key.dir == dir && c->e[i].key.family == fam;
	f->v = calloc(2 * n + 2, sizeof(*f->v));
	f->n = 0;
	if (!f->v)
		return -ENOMEM;
	for (i = 0; i < c->n; i++) {
		const struct cg_entry *e = &c->e[i];
		int plen = e->key.prefixlen - CG_LPM_HDR_BITS;
		u128 lo;

		if (e->key.dir != dir || e->key.family != fam)
			continue;
		lo = addr_of(e, v6);
		if (!sp) {		/* the /0 entry comes first */
			if (plen)
				return cg_seterr(-EINVAL, "compiled table has "
						 "no /0 entry");
			f->dflt = ec[i];
			stack[sp++] = i;
			continue;
		}
		for (;;) {
			const struct cg_entry *t = &c->e[stack[sp - 1]];

			top_hi = last_of(addr_of(t, v6),
					 t->key.prefixlen - CG_LPM_HDR_BITS, bits);
			if (top_hi >= lo)
				break;
			if (cur <= top_hi)
				put(f, cur, top_hi, ec[stack[sp - 1]]);
			cur = top_hi + 1;
			sp--;
		}
		if (cur < lo)
			put(f, cur, lo - 1, ec[stack[sp - 1]]);
		cur = lo;
		if (sp >= (int)(sizeof(stack) / sizeof(stack[0])))
			return -EINVAL;
		stack[sp++] = i;
	}
	while (sp && !done) {
		const struct cg_entry *t = &c->e[stack[--sp]];

		top_hi = last_of(addr_of(t, v6),
				 t->key.prefixlen - CG_LPM_HDR_BITS, bits);
		if (cur <= top_hi)
			put(f, cur, top_hi, ec[stack[sp]]);
		done = top_hi == last_of(0, 0, bits);
		cur = top_hi + 1;
	}
	return 0;
}

static void print_addr(FILE *o, u128 a, int v6)
{
	char buf[INET6_ADDRSTRLEN];
	uint8_t b[16];
	int i, n = v6 ? 16 : 4;

	for (i = n - 1; i >= 0; i--, a >>= 8)
		b[i] = (uint8_t)a;
	inet_ntop(v6 ? AF_INET6 : AF_INET, b, buf, sizeof(buf));
	fputs(buf, o);
}

/* Chain names: cg<ID>g<GEN><o|i>[_k<N>]; sets: ...<o|i><4|6>. */
static void name(FILE *o, const struct cg_nft_target *t, unsigned gen,
		 int dir)
{
	fprintf(o, "cg%llug%u%c", (unsigned long long)t->cgid, gen,
		dir_tag[dir]);
}

static void emit_map(FILE *o, const struct cg_nft_target *t, unsigned gen,
		     int dir, int v6, const struct flat *f)
{
	size_t i, k = 0;

	fputs("\tmap ", o);
	name(o, t, gen, dir);
	fprintf(o, "%c {\n\t\ttype %s : verdict\n\t\tflags interval\n"
		"\t\telements = {", v6 ? '6' : '4',
		v6 ? "ipv6_addr" : "ipv4_addr");
	for (i = 0; i < f->n; i++) {
		const struct ival *v = &f->v[i];

		if (v->cls == f->dflt)
			continue;
		fputs(k++ ? ",\n\t\t\t" : "\n\t\t\t", o);
		print_addr(o, v->lo, v6);
		if (v->hi != v->lo) {
			fputc('-', o);
			print_addr(o, v->hi, v6);
		}
		fputs(" : goto ", o);
		name(o, t, gen, dir);
		fprintf(o, "_k%u", v->cls);
	}
	fputs("\n\t\t}\n\t}\n", o);
}

static int map_needed(const struct flat *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (f->v[i].cls != f->dflt)
			return 1;
	return 0;
}

static const char *verdict(int action, int audit, const char **what)
{
	if (action == CG_ACT_ALLOW_V) {
		*what = "allow";
		return "return";
	}
	*what = audit ? "audit" : "deny";
	return audit ? "return" : "drop";
}

/* Comment of a class rule: what state.c counts it as, and (unless
 * attribution was folded) the rule counter it stands for. */
static void tag(FILE *o, const char *what, uint16_t rule, int folded)
{
	if (folded)
		fprintf(o, " comment \"cgguard %s\"\n", what);
	else
		fprintf(o, " comment \"cgguard %s r=%u\"\n", what, rule);
}

/* One class chain: ranges with the same protocol, verdict and rule share
 * one rule with an anonymous port set; then the fallback. */
static int emit_class(FILE *o, const struct cg_nft_target *t, unsigned gen,
		      int dir, uint32_t idx, const struct cls *k, int audit,
		      int folded)
{
	const char *what, *v;
	char *done = calloc(k->n + 1, 1);
	uint32_t i, j;

	if (!done)
		return -ENOMEM;
	fputs("\tchain ", o);
	name(o, t, gen, dir);
	fprintf(o, "_k%u {\n", idx);
	for (i = 0; i < k->n; i++) {
		const struct cg_range *r = &k->r[i];
		int n = 0;

		if (done[i])
			continue;
		v = verdict(r->action, audit, &what);
		if (r->proto == CG_P_ICMP) {
			fputs("\t\tmeta l4proto { icmp, ipv6-icmp }", o);
			done[i] = 1;
		} else {
			fprintf(o, "\t\tmeta l4proto %s th dport { ",
				r->proto == CG_P_TCP ? "tcp" : "udp");
			for (j = i; j < k->n; j++) {
				const struct cg_range *q = &k->r[j];

				if (done[j] || q->proto != r->proto ||
				    q->action != r->action || q->rule != r->rule)
					continue;
				done[j] = 1;
				fprintf(o, n++ ? ", %u" : "%u", q->lo);
				if (q->hi != q->lo)
					fprintf(o, "-%u", q->hi);
			}
			fputs(" }", o);
		}
		fprintf(o, " counter %s", v);
		tag(o, what, r->rule, folded);
	}
	v = verdict(k->action, audit, &what);
	fprintf(o, "\t\tcounter %s", v);
	tag(o, what, k->rule, folded);
	fputs("\t}\n", o);
	free(done);
	return 0;
}

static void emit_dir_chain(FILE *o, const struct cg_nft_target *t,
			   unsigned gen, int dir, const struct flat f[2])
{
	static const char *const fam[2] = { "ipv4", "ipv6" };
	static const char *const l3[2] = { "ip", "ip6" };
	int v6;

	fputs("\tchain ", o);
	name(o, t, gen, dir);
	fputs(" {\n\t\tct state established,related counter return "
	      "comment \"cgguard established\"\n", o);
	for (v6 = 0; v6 < 2; v6++) {
		if (map_needed(&f[v6])) {
			fprintf(o, "\t\tmeta nfproto %s %s %s vmap @", fam[v6],
				l3[v6], sel_of[dir]);
			name(o, t, gen, dir);
			fprintf(o, "%c\n", v6 ? '6' : '4');
		}
		fprintf(o, "\t\tmeta nfproto %s goto ", fam[v6]);
		name(o, t, gen, dir);
		fprintf(o, "_k%u\n", f[v6].dflt);
	}
	fputs("\t}\n", o);
}

void cg_nft_dispatch(FILE *o, const struct cg_nft_target *t, unsigned gen,
		     int dir, uint64_t handle)
{
	if (handle)
		fprintf(o, "replace rule inet %s %s handle %llu ", CG_NFT_TABLE,
			hook_of[dir], (unsigned long long)handle);
	else
		fprintf(o, "add rule inet %s %s ", CG_NFT_TABLE, hook_of[dir]);
	fprintf(o, "socket cgroupv2 level %d \"%s\" counter jump ", t->level,
		t->nftpath);
	name(o, t, gen, dir);
	fprintf(o, " comment \"cgguard:%llu:%u\"\n",
		(unsigned long long)t->cgid, gen);
}

void cg_nft_header(FILE *o)
{
	int dir;

	fprintf(o, "add table inet %s { comment \"managed by cgguard: "
		"cgguard detach removes its chains\"; }\n", CG_NFT_TABLE);
	for (dir = 0; dir < CG_DIR_MAX; dir++)
		fprintf(o, "add chain inet %s %s { type filter hook %s "
			"priority filter; policy accept; }\n", CG_NFT_TABLE,
			hook_of[dir], hook_of[dir]);
}

static int emit_dir(FILE *o, const struct cg_compiled *c,
		    const struct cg_nft_target *t, unsigned gen, int dir,
		    struct classes *cs, uint32_t *ec)
{
	struct flat f[2] = { { 0 }, { 0 } };
	size_t i;
	int err, v6;

	err = build_classes(c, dir, cs, ec);
	for (v6 = 0; v6 < 2 && !err; v6++)
		err = flatten(c, dir, v6 ? CG_FAM_V6 : CG_FAM_V4, ec, &f[v6]);
	if (err)
		goto out;
	fprintf(o, "# %s: %zu decision classes", dir ? "ingress" : "egress",
		cs->n);
	if (cs->by_action)
		fprintf(o, " (by action: more than %d distinct rule "
			"attributions)", CG_NFT_MAX_CLASSES);
	fputc('\n', o);
	fprintf(o, "table inet %s {\n", CG_NFT_TABLE);
	for (i = 0; i < cs->n && !err; i++)
		err = emit_class(o, t, gen, dir, i, &cs->c[i],
				 c->mode == CG_MODE_AUDIT, cs->by_action);
	for (v6 = 0; v6 < 2; v6++)
		if (map_needed(&f[v6]))
			emit_map(o, t, gen, dir, v6, &f[v6]);
	emit_dir_chain(o, t, gen, dir, f);
	fputs("}\n", o);
out:
	free(f[0].v);
	free(f[1].v);
	return err;
}

/* tstart[t]..tstart[t+1]: the segments of port table t (sorted by table). */
static void table_index(const struct cg_compiled *c, size_t *tstart)
{
	size_t i, t = 0;

	for (i = 0; i < c->nseg; i++)
		while (t <= c->seg[i].table && t <= c->ntables)
			tstart[t++] = i;
	while (t <= c->ntables)
		tstart[t++] = c->nseg;
}

int cg_nft_script(FILE *o, const struct cg_policy *p,
		  const struct cg_nft_target *t, unsigned gen,
		  const uint64_t handle[CG_DIR_MAX])
{
	struct classes cs = { 0 };
	struct cg_compiled c;
	char e[CG_ERR_MAX];
	uint32_t *ec = NULL;
	int err, dir;

	err = cg_policy_compile(p, &c, e, sizeof(e));
	if (err)
		return cg_seterr(err, "%s", e);
	for (cs.cap = 64; cs.cap < 2 * c.n + 2; cs.cap *= 2)
		;
	cs.c = calloc(c.n + 1, sizeof(*cs.c));
	cs.slot = calloc(cs.cap, sizeof(*cs.slot));
	cs.tstart = calloc(c.ntables + 2, sizeof(*cs.tstart));
	ec = calloc(c.n + 1, sizeof(*ec));
	err = !cs.c || !cs.slot || !cs.tstart || !ec ? -ENOMEM : 0;
	if (!err)
		table_index(&c, cs.tstart);
	if (!err) {
		fprintf(o, "# cgguard: policy %s (%s) on cgroup %s (id %llu, "
			"level %d), generation %u\n", p->name, p->source, t->rel,
			(unsigned long long)t->cgid, t->level, gen);
		if (cg_policy_wants(p) & (CG_WANT_SOCKETS | CG_WANT_LSM))
			fprintf(o, "# NOT in this script: the policy's sockets: "
				"section / on_violation: kill (no nftables "
				"equivalent; the BPF backend enforces them)\n");
		cg_nft_header(o);
	}
	for (dir = 0; dir < CG_DIR_MAX && !err; dir++)
		err = emit_dir(o, &c, t, gen, dir, &cs, ec);
	for (dir = 0; dir < CG_DIR_MAX && !err; dir++)
		cg_nft_dispatch(o, t, gen, dir, handle ? handle[dir] : 0);
	free_classes(&cs);
	free(cs.c);
	free(cs.slot);
	free(cs.tstart);
	free(cs.tmp);
	free(ec);
	cg_compiled_free(&c);
	return err;
}

/* Characters nft takes inside a quoted string without surprises. */
static int safe_path(const char *s)
{
	for (; *s; s++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789._-@:+=,~/", *s))
			return 0;
	return 1;
}

int cg_nft_target(const char *cgpath, struct cg_nft_target *t)
{
	static const char sys[] = "/sys/fs/cgroup/";
	struct cg_cgroup cg;
	const char *s;
	int err;

	memset(t, 0, sizeof(*t));
	err = cg_cgroup_resolve(cgpath, &cg);
	if (err)
		return err;
	if (!safe_path(cg.abs))
		return cg_seterr(-EINVAL, "cgroup %s: the nft backend takes "
				 "paths of [A-Za-z0-9._-@:+=,~/] only", cg.abs);
	if (strlen(cg.rel) >= sizeof(t->rel))
		return cg_seterr(-ENAMETOOLONG, "cgroup path %s is too long",
				 cg.rel);
	memcpy(t->rel, cg.rel, strlen(cg.rel) + 1);
	t->cgid = cg.id;
	for (s = cg.rel; *s; s++)	/* "/a/b" is level 2, "/" level 0 */
		t->level += *s == '/' && s[1] && s[1] != '/';
	/* nft looks the path up below /sys/fs/cgroup and keeps its inode,
	 * which is the cgroup id; on hybrid hosts cgroup2 sits below it. */
	if (!strncmp(cg.abs, sys, sizeof(sys) - 1))
		s = cg.abs + sizeof(sys) - 1;
	else if (!strcmp(cg.abs, "/sys/fs/cgroup"))
		s = ".";
	else
		s = NULL;	/* elsewhere: climb out of /sys/fs/cgroup */
	if ((size_t)snprintf(t->nftpath, sizeof(t->nftpath), "%s%s",
			     s ? "" : "../../..", s ? s : cg.abs) >=
	    sizeof(t->nftpath))
		return cg_seterr(-ENAMETOOLONG, "cgroup path %s is too long",
				 cg.abs);
	return 0;
}
