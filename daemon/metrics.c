// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Prometheus metrics (text exposition format 0.0.4) over HTTP, bound to
 * 127.0.0.1:9967 by default: counters of the
 * packet path are per container, and a network guard should not publish
 * them beyond the host unless the operator asks.
 *
 * HTTP is served by a small bounded responder (http.c, which says why it
 * is not libmicrohttpd) whose epoll fd sits in the daemon's loop, so
 * rendering happens on the daemon's one thread and sees a consistent
 * state.  Every scrape reads the pinned counters (shared
 * lock, released before the response is sent): the numbers are the
 * kernel's, exactly what `cgguard stats --json` prints.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <bpf/bpf.h>
#include "daemon.h"
#include "http.h"
#include "../lib/args.h"
#include "../lib/err.h"

const struct cgd_layer cgd_layers[CGD_NLAYERS] = {
	{ "packet",  { CG_HOOK_EGRESS, CG_HOOK_INGRESS }, 2, 0 },
	{ "connect", { CG_HOOK_CONNECT4, CG_HOOK_CONNECT6 }, 2, 1 },
	{ "sendmsg", { CG_HOOK_SENDMSG4, CG_HOOK_SENDMSG6 }, 2, 1 },
	{ "bind",    { CG_HOOK_BIND4, CG_HOOK_BIND6 }, 2, 1 },
	{ "create",  { CG_HOOK_CREATE }, 1, 1 },
	/* The four LSM hooks share one counter storage (BPF_LSM_CGROUP). */
	{ "lsm",     { CG_HOOK_LSM_CREATE, CG_HOOK_LSM_CONNECT,
		       CG_HOOK_LSM_SENDMSG, CG_HOOK_LSM_BIND }, 4, 1 },
};

int cgd_layer_enforced(const struct cg_status *st, int l)
{
	const struct cgd_layer *ly = &cgd_layers[l];
	int i, any = 0;

	for (i = 0; i < ly->n; i++) {
		int h = ly->hooks[i];

		if (!st->available[h])
			continue;
		any = 1;
		if (!st->cgroup_exists || !st->enforced[h] || !st->linked[h] ||
		    st->bound_slot[h] != st->meta.slot)
			return 0;
	}
	return any ? 1 : -1;
}

static int hexrun(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* One path component: "<64 hex>" or "<runtime>-<64 hex>.scope". */
static int component_id(const char *c, size_t n, char *buf)
{
	static const char *const pfx[] = { "libpod-", "crio-", "docker-",
					   "cri-containerd-" };
	size_t i, pl;

	if (n == 64 && hexrun(c, 64)) {
		memcpy(buf, c, 64);
		buf[64] = 0;
		return 1;
	}
	for (i = 0; i < sizeof(pfx) / sizeof(pfx[0]); i++) {
		pl = strlen(pfx[i]);
		if (n == pl + 64 + 6 && !strncmp(c, pfx[i], pl) &&
		    !strncmp(c + pl + 64, ".scope", 6) && hexrun(c + pl, 64)) {
			memcpy(buf, c + pl, 64);
			buf[64] = 0;
			return 1;
		}
	}
	return 0;
}

void cgd_container_id(const char *path, char *buf, size_t len)
{
	char id[65];
	const char *c = path;

	buf[0] = 0;
	/* The deepest component wins: a pod's scope may nest containers. */
	while (*c) {
		size_t n = strcspn(c, "/");

		if (n && component_id(c, n, id) && len > 64)
			memcpy(buf, id, 65);
		c += n + (c[n] == '/');
	}
}

/* ---- rendering ---------------------------------------------------------- */

static const char *const res_name[CG_NR_RES] = { "pass", "drop", "audit" };
static const char *const dir_name[2] = { "egress", "ingress" };
#define NOPS 5	/* cgd_layers[1..5]: the socket-operation layers */

struct mrow {
	struct cg_status st;
	char cid[65];
	struct cg_counters c[2];
	__u64 ops[NOPS][CG_NR_RES];
	int has_ops[NOPS];
	struct cg_evcounts ev;
};

struct gather {
	struct cg_guard *g;
	struct mrow *rows;
	size_t n;
	__u64 degraded;
};

static void op_counts(struct cg_guard *g, struct mrow *r)
{
	struct cg_counters c;
	int l, i, k;

	for (l = 0; l < NOPS; l++) {
		const struct cgd_layer *ly = &cgd_layers[l + 1];
		/* LSM: one storage for the four hooks, read it once. */
		int n = strcmp(ly->name, "lsm") ? ly->n : 1;

		for (i = 0; i < n; i++) {
			if (g->prog_fd[ly->hooks[i]] < 0)
				continue;
			r->has_ops[l] = 1;
			if (cg_guard_counters(g, r->st.cgid, ly->hooks[i], &c))
				continue;
			for (k = 0; k < CG_NR_RES; k++)
				r->ops[l][k] += c.pkts[k];
		}
	}
}

static int gather_one(const struct cg_status *st, void *arg)
{
	struct gather *ga = arg;
	struct mrow *r, *t;
	int dir;

	/* A removed cgroup waits for GC; a new one may reuse its path. */
	if (!st->cgroup_exists)
		return 0;
	t = realloc(ga->rows, (ga->n + 1) * sizeof(*t));
	if (!t)
		return -ENOMEM;
	ga->rows = t;
	r = &t[ga->n++];
	memset(r, 0, sizeof(*r));
	r->st = *st;
	cgd_container_id(st->meta.path, r->cid, sizeof(r->cid));
	for (dir = 0; dir < 2; dir++)
		if (cg_guard_counters(ga->g, st->cgid, dir, &r->c[dir]))
			memset(&r->c[dir], 0, sizeof(r->c[dir]));
	op_counts(ga->g, r);
	cg_guard_evcounts(ga->g, st->cgid, &r->ev);
	return 0;
}

static int gather(struct gather *ga)
{
	struct cg_info info = {};
	__u32 zero = 0;
	int err;

	cg_clearerr();
	err = cg_guard_open(&ga->g, CG_OPEN_RDONLY);
	if (err)
		return err == -ENOENT ? 0 : err;
	err = cg_guard_foreach(ga->g, gather_one, ga);
	if (!bpf_map_lookup_elem(ga->g->map_fd[CG_MAP_INFO], &zero, &info))
		ga->degraded = info.degraded;
	cg_guard_close(ga->g);
	return err;
}

static void esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void family(FILE *f, const char *name, const char *type,
		   const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{cgroup="..",container_id="..",policy=".." */
static void cg_labels(FILE *f, const char *name, const struct mrow *r,
		      int with_cid)
{
	fprintf(f, "%s{cgroup=\"", name);
	esc(f, r->st.meta.path);
	if (with_cid)
		fprintf(f, "\",container_id=\"%s", r->cid);
	fputs("\",policy=\"", f);
	esc(f, r->st.slot.name);
	fputc('"', f);
}

static void packet_families(FILE *f, const struct gather *ga)
{
	static const char *const fam[2] = { "cgguard_packets_total",
					    "cgguard_bytes_total" };
	size_t i;
	int m, dir, k;

	for (m = 0; m < 2; m++) {
		family(f, fam[m], "counter", m ? "Bytes of the cgroup's "
		       "packets by direction and verdict (packet layer)." :
		       "Packets of the cgroup by direction and verdict "
		       "(packet layer, GSO segments counted).");
		for (i = 0; i < ga->n; i++)
			for (dir = 0; dir < 2; dir++)
				for (k = 0; k < CG_NR_RES; k++) {
					const struct mrow *r = &ga->rows[i];

					cg_labels(f, fam[m], r, 1);
					fprintf(f, ",direction=\"%s\",result="
						"\"%s\"} %llu\n", dir_name[dir],
						res_name[k], (unsigned long long)
						(m ? r->c[dir].bytes[k] :
						 r->c[dir].pkts[k]));
				}
	}
	family(f, "cgguard_unparsed_packets_total", "counter", "Packets the "
	       "parser could not classify (they follow a deny default).");
	for (i = 0; i < ga->n; i++)
		for (dir = 0; dir < 2; dir++) {
			cg_labels(f, "cgguard_unparsed_packets_total",
				  &ga->rows[i], 1);
			fprintf(f, ",direction=\"%s\"} %llu\n", dir_name[dir],
				(unsigned long long)ga->rows[i].c[dir].unparsed);
		}
}

/*
 * Drops and audits by cgroup, layer and direction in one family, and the
 * events behind them.  Per guarded cgroup that exists: 4 packet series
 * (2 directions x drop/audit), 2 per socket layer this kernel has (connect,
 * sendmsg, bind, create, lsm: at most 10) and 3 event series: at most 17.
 */
static void denial_families(FILE *f, const struct gather *ga)
{
	static const char *const ev_name[3] = { "emitted", "suppressed",
						"lost" };
	size_t i;
	int l, k, dir;

	family(f, "cgguard_denials_total", "counter", "Drops and audit-mode "
	       "would-be drops by cgroup, layer and direction (packets for "
	       "the packet layer, calls for the socket and LSM layers).");
	for (i = 0; i < ga->n; i++) {
		const struct mrow *r = &ga->rows[i];

		for (dir = 0; dir < 2; dir++)
			for (k = CG_RES_DROP; k <= CG_RES_AUDIT; k++) {
				cg_labels(f, "cgguard_denials_total", r, 1);
				fprintf(f, ",layer=\"packet\",direction=\"%s\","
					"verdict=\"%s\"} %llu\n", dir_name[dir],
					res_name[k], (unsigned long long)
					r->c[dir].pkts[k]);
			}
		for (l = 0; l < NOPS; l++)
			for (k = CG_RES_DROP; r->has_ops[l] && k <= CG_RES_AUDIT;
			     k++) {
				cg_labels(f, "cgguard_denials_total", r, 1);
				fprintf(f, ",layer=\"%s\",direction=\"%s\","
					"verdict=\"%s\"} %llu\n",
					cgd_layers[l + 1].name,
					strcmp(cgd_layers[l + 1].name, "bind") ?
					"egress" : "ingress", res_name[k],
					(unsigned long long)r->ops[l][k]);
			}
	}
	family(f, "cgguard_events_total", "counter", "Denial events by outcome: "
	       "emitted to the ring buffer, suppressed by the cgroup's rate "
	       "limit, lost to a full ring buffer (emitted + suppressed + lost "
	       "= denials seen by an event site).");
	for (i = 0; i < ga->n; i++) {
		const struct cg_evcounts *e = &ga->rows[i].ev;
		const __u64 v[3] = { e->emitted, e->suppressed, e->lost };

		for (k = 0; k < 3; k++) {
			cg_labels(f, "cgguard_events_total", &ga->rows[i], 1);
			fprintf(f, ",outcome=\"%s\"} %llu\n", ev_name[k],
				(unsigned long long)v[k]);
		}
	}
}

static void layer_families(FILE *f, const struct gather *ga)
{
	size_t i;
	int l, k, e;

	family(f, "cgguard_operations_total", "counter", "Socket operations "
	       "checked by the socket and LSM layers, by verdict.");
	for (i = 0; i < ga->n; i++)
		for (l = 0; l < NOPS; l++)
			for (k = 0; ga->rows[i].has_ops[l] && k < CG_NR_RES; k++) {
				cg_labels(f, "cgguard_operations_total",
					  &ga->rows[i], 1);
				fprintf(f, ",layer=\"%s\",result=\"%s\"} %llu\n",
					cgd_layers[l + 1].name, res_name[k],
					(unsigned long long)ga->rows[i].ops[l][k]);
			}
	family(f, "cgguard_cgroup_enforced", "gauge", "1 if the kernel has "
	       "the layer's programs attached to the cgroup and bound to its "
	       "policy (layers this kernel cannot load are not listed).");
	for (i = 0; i < ga->n; i++)
		for (l = 0; l < CGD_NLAYERS; l++) {
			e = cgd_layer_enforced(&ga->rows[i].st, l);
			if (e < 0)
				continue;
			cg_labels(f, "cgguard_cgroup_enforced", &ga->rows[i], 0);
			fprintf(f, ",layer=\"%s\"} %d\n", cgd_layers[l].name, e);
		}
	family(f, "cgguard_cgroup_degraded", "gauge", "1 if the cgroup's "
	       "policy was applied without a layer it wants (fail: open).");
	for (i = 0; i < ga->n; i++) {
		cg_labels(f, "cgguard_cgroup_degraded", &ga->rows[i], 0);
		fprintf(f, "} %d\n", !!(ga->rows[i].st.meta.flags &
					CG_CGF_DEGRADED));
	}
}

/* Over the entries named like entry @i (two files may claim one name; one
 * is rejected): 0 sums good loads, 1 failed loads, 2 says if one is loaded. */
static uint64_t by_name(const struct cgd *d, size_t i, int what)
{
	uint64_t n = 0;
	size_t j;

	for (j = i; j < d->npol; j++) {
		const struct cgd_policy *e = &d->pol[j];

		if (strcmp(e->name, d->pol[i].name))
			continue;
		n += what == 0 ? e->n_ok : what == 1 ? e->n_err : 0;
		if (what == 2 && e->p)
			n = 1;
	}
	return n;
}

static int first_of_name(const struct cgd *d, size_t i)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (!strcmp(d->pol[j].name, d->pol[i].name))
			return 0;
	return 1;
}

static void policy_families(FILE *f, const struct cgd *d)
{
	size_t i;
	int r;

	family(f, "cgguard_policy_reload_total", "counter", "Policy loads "
	       "(start, file change, reload) by result; a rejected file "
	       "leaves the previous version in force.");
	for (i = 0; i < d->npol; i++)
		for (r = 0; r < 2 && first_of_name(d, i); r++) {
			fputs("cgguard_policy_reload_total{policy=\"", f);
			esc(f, d->pol[i].name);
			fprintf(f, "\",result=\"%s\"} %llu\n", r ? "error" : "ok",
				(unsigned long long)by_name(d, i, r));
		}
	family(f, "cgguard_policy_loaded", "gauge", "1 if a good version of "
	       "the policy is loaded.");
	for (i = 0; i < d->npol; i++) {
		if (!first_of_name(d, i))
			continue;
		fputs("cgguard_policy_loaded{policy=\"", f);
		esc(f, d->pol[i].name);
		fprintf(f, "\"} %llu\n", (unsigned long long)by_name(d, i, 2));
	}
}

static unsigned long long failopen_count(void)
{
	char buf[32] = "";
	unsigned long long v = 0;
	int fd = open(CGD_FAILOPEN_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return 0;
	if (read(fd, buf, sizeof(buf) - 1) > 0)
		v = strtoull(buf, NULL, 10);
	close(fd);
	return v;
}

static void scalar(FILE *f, const char *name, const char *type,
		   const char *help, double v)
{
	family(f, name, type, help);
	fprintf(f, "%s %.17g\n", name, v);
}

static void daemon_families(FILE *f, const struct cgd *d,
			    const struct gather *ga, int scrape_err)
{
	scalar(f, "cgguard_attach_failures_total", "counter", "Attaches the "
	       "daemon tried and could not do.", d->attach_failures);
	scalar(f, "cgguard_degraded_attaches_total", "counter", "Attaches "
	       "applied without a wanted layer (pinned, host-wide).",
	       ga->degraded);
	scalar(f, "cgguard_failopen_total", "counter", "Containers the OCI "
	       "hook let start unguarded (io.cgguard.fail=open).",
	       failopen_count());
	scalar(f, "cgguard_guarded_cgroups", "gauge", "Guarded cgroups that "
	       "exist.", ga->n);
	scalar(f, "cgguard_daemon_bound_cgroups", "gauge", "Cgroups guarded "
	       "by a daemon rule.", cgd_bound_count(d));
	scalar(f, "cgguard_daemon_start_time_seconds", "gauge", "When the "
	       "daemon started (Unix time).", d->started);
	scalar(f, "cgguard_last_reconcile_timestamp_seconds", "gauge",
	       "When the last full reconcile ended (Unix time).", d->last.when);
	scalar(f, "cgguard_last_reconcile_duration_seconds", "gauge", "How "
	       "long the last full reconcile took.", d->last.ms / 1e3);
	scalar(f, "cgguard_pinned_state_read_errors", "gauge", "1 if this "
	       "scrape could not read the pinned state.", scrape_err != 0);
}

int cgd_metrics_render(struct cgd *d, char **buf, size_t *len)
{
	struct gather ga = {};
	FILE *f = open_memstream(buf, len);
	int err;

	if (!f)
		return -errno;
	err = gather(&ga);
	if (err)
		cgd_log(CGD_WARN, "metrics: reading pinned state: %s",
			*cg_lasterr() ? cg_lasterr() : strerror(-err));
	packet_families(f, &ga);
	layer_families(f, &ga);
	denial_families(f, &ga);
	policy_families(f, d);
	daemon_families(f, d, &ga, err);
	free(ga.rows);
	return fclose(f) ? -errno : 0;
}

/* ---- HTTP --------------------------------------------------------------- */

static int handle(void *ctx, const char *path, struct cgd_http_resp *r)
{
	(void)path;	/* the responder serves /metrics only */
	r->code = 200;
	r->type = "text/plain; version=0.0.4; charset=utf-8";
	return cgd_metrics_render(ctx, &r->body, &r->len);
}

/* "127.0.0.1:9967", "[::1]:9967" (lib/args.c: the config and --check use it too). */
static int parse_addr(const char *s, struct sockaddr_storage *ss, int *v6)
{
	return cg_arg_hostport(s, ss, v6, NULL);
}

int cgd_metrics_start(struct cgd *d)
{
	struct sockaddr_storage ss;
	struct cgd_http *h;
	int v6, err;

	if (!strcmp(d->metrics_addr, "off"))
		return 0;
	err = parse_addr(d->metrics_addr, &ss, &v6);
	if (err)
		return cg_seterr(err, "--metrics: '%s' is not ADDR:PORT, "
				 "[ADDR6]:PORT or off", d->metrics_addr);
	err = cgd_http_start(&h, (struct sockaddr *)&ss, v6 ?
			     sizeof(struct sockaddr_in6) :
			     sizeof(struct sockaddr_in), handle, d);
	if (err)
		return cg_seterr(err, "cannot serve metrics on %s: %s",
				 d->metrics_addr, strerror(-err));
	d->http = h;
	d->metrics_port = cgd_http_port(h);
	return cgd_epoll_add(d, cgd_metrics_fd(d), EPOLLIN, CGD_EV_MHD);
}

void cgd_metrics_stop(struct cgd *d)
{
	cgd_http_stop(d->http);
	d->http = NULL;
}

int cgd_metrics_fd(struct cgd *d)
{
	return cgd_http_fd(d->http);
}

void cgd_metrics_run(struct cgd *d)
{
	cgd_http_run(d->http);
}

int cgd_metrics_timeout_ms(struct cgd *d)
{
	return cgd_http_timeout_ms(d->http);
}
