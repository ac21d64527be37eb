// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * cgguard doctor: what this host can enforce, and how hardened its BPF
 * settings are.  Every layer is really loaded and attached (bpf/probe.c);
 * the exit status says whether the layers the policies in use need are
 * available: the guarded cgroups' policies by default, or the ones named
 * with --policy.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sys/socket.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include "cgguard.h"
#include "doctor.h"
#include "../bpf/probe.h"
#include "../cgroup/cgroup.h"
#include "../lib/compat.h"

#define BIT(l)		(1u << (l))
#define LSM_ANY		(BIT(CG_LAYER_LSM_CGROUP) | BIT(CG_LAYER_LSM))
#define SOCKET_LAYERS	(BIT(CG_LAYER_CONNECT) | BIT(CG_LAYER_SENDMSG) | \
			 BIT(CG_LAYER_BIND) | BIT(CG_LAYER_CREATE))

/* ---- output helpers ----------------------------------------------------- */

static void line(const char *mark, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void line(const char *mark, const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("  %-4s  %-33s ", mark, name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static const char *errname(int err)
{
	const char *n = err ? strerrorname_np(err < 0 ? -err : err) : NULL;

	return n ? n : "E?";
}

/* ---- requirements ------------------------------------------------------- */

struct req {
	unsigned layers;	/* BIT(layer)s; any one of them satisfies */
	int required;		/* 0: a warning, never a failure */
	char why[256];
};

struct needs {
	struct req *r;
	size_t n, cap;
	const char *source;	/* "guarded cgroups" or "--policy" */
	char **names;		/* policy names considered */
	size_t nnames;
	char warn[300];		/* why the guarded state could not be read */
};

static int add_req(struct needs *nd, unsigned layers, int required,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int add_req(struct needs *nd, unsigned layers, int required,
		   const char *fmt, ...)
{
	va_list ap;

	if (nd->n == nd->cap) {
		size_t cap = nd->cap ? 2 * nd->cap : 16;
		struct req *t = realloc(nd->r, cap * sizeof(*t));

		if (!t)
			return -ENOMEM;
		nd->r = t;
		nd->cap = cap;
	}
	nd->r[nd->n].layers = layers;
	nd->r[nd->n].required = required;
	va_start(ap, fmt);
	vsnprintf(nd->r[nd->n].why, sizeof(nd->r[nd->n].why), fmt, ap);
	va_end(ap);
	nd->n++;
	return 0;
}

static int add_name(struct needs *nd, const char *name)
{
	size_t i;
	char **t;

	for (i = 0; i < nd->nnames; i++)
		if (!strcmp(nd->names[i], name))
			return 0;
	t = realloc(nd->names, (nd->nnames + 1) * sizeof(*t));
	if (!t)
		return -ENOMEM;
	nd->names = t;
	if (!(nd->names[nd->nnames] = strdup(name)))
		return -ENOMEM;
	nd->nnames++;
	return 0;
}

static void free_needs(struct needs *nd)
{
	size_t i;

	for (i = 0; i < nd->nnames; i++)
		free(nd->names[i]);
	free(nd->names);
	free(nd->r);
}

static int req_met(const struct req *q, const struct cg_probe_result *res)
{
	int l;

	for (l = 0; l < CG_LAYER_MAX; l++)
		if ((q->layers & BIT(l)) && res[l].available)
			return 1;
	return 0;
}

/* " (lsm_cgroup: EPERM at load, lsm: EPERM at load)" or "" if met */
static void unmet_str(const struct req *q, const struct cg_probe_result *res,
		      char *buf, size_t len)
{
	int l;

	buf[0] = '\0';
	if (req_met(q, res))
		return;
	for (l = 0; l < CG_LAYER_MAX; l++)
		if (q->layers & BIT(l))
			snprintf(buf + strlen(buf), len - strlen(buf),
				 "%s%s: %s%s%s", *buf ? ", " : " (",
				 cg_layer_name(l), errname(res[l].err),
				 res[l].step ? " at " : "",
				 res[l].step ? res[l].step : "");
	snprintf(buf + strlen(buf), len - strlen(buf), ")");
}

/* "lsm_cgroup or lsm" */
static void layers_str(unsigned layers, char *buf, size_t len)
{
	int l;

	buf[0] = '\0';
	for (l = 0; l < CG_LAYER_MAX; l++)
		if (layers & BIT(l))
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
				 *buf ? " or " : "", cg_layer_name(l));
}

/*
 * Guarded cgroups: which distinct policies (slots) ask for the socket
 * layers, want the LSM layer, or need it (CG_NEED_LSM on a cgroup not
 * attached fail-open).
 */
struct guarded {
	struct needs *nd;
	__u32 sock[CG_MAX_SLOTS], lsm_want[CG_MAX_SLOTS];
	__u32 lsm_need[CG_MAX_SLOTS];
	int nsock, nwant, nneed;
};

static void add_slot(__u32 *set, int *n, __u32 slot)
{
	int i;

	for (i = 0; i < *n; i++)
		if (set[i] == slot)
			return;
	if (*n < CG_MAX_SLOTS)
		set[(*n)++] = slot;
}

static int guarded_one(const struct cg_status *st, void *ctx)
{
	struct guarded *gd = ctx;
	unsigned w = st->slot.wants;

	add_name(gd->nd, st->slot.name);
	if (w & CG_WANT_SOCKETS)
		add_slot(gd->sock, &gd->nsock, st->meta.slot);
	if ((w & CG_NEED_LSM) && !(st->meta.flags & CG_CGF_FAIL_OPEN))
		add_slot(gd->lsm_need, &gd->nneed, st->meta.slot);
	else if (w & (CG_WANT_LSM | CG_NEED_LSM))
		add_slot(gd->lsm_want, &gd->nwant, st->meta.slot);
	return 0;
}

static const char *policies(int n)
{
	return n == 1 ? "policy" : "policies";
}

static void needs_guarded(struct needs *nd)
{
	struct guarded gd = { .nd = nd };
	struct cg_guard *g = NULL;
	int err, l;

	nd->source = "guarded cgroups";
	add_req(nd, BIT(CG_LAYER_PACKET), 1, "always: the packet layer "
		"enforces egress and ingress rules");
	cg_clearerr();
	err = cg_guard_open(&g, CG_OPEN_RDONLY);
	if (err == -ENOENT)
		return;		/* nothing guarded */
	if (err) {
		snprintf(nd->warn, sizeof(nd->warn), "cannot read the guarded "
			 "cgroups (%s): only the packet layer is checked",
			 *cg_lasterr() ? cg_lasterr() : strerror(-err));
		return;
	}
	err = cg_guard_foreach(g, guarded_one, &gd);
	cg_guard_close(g);
	if (err)
		snprintf(nd->warn, sizeof(nd->warn), "reading the guarded "
			 "cgroups failed part way (%s)", strerror(-err));
	for (l = 0; gd.nsock && l < CG_LAYER_MAX; l++)
		if (SOCKET_LAYERS & BIT(l))
			add_req(nd, BIT(l), 1, "%d guarded %s with a sockets "
				"section", gd.nsock, policies(gd.nsock));
	if (gd.nneed)
		add_req(nd, LSM_ANY, 1, "%d guarded %s deny non-inet families "
			"or kill, attached fail-closed", gd.nneed,
			policies(gd.nneed));
	if (gd.nwant)
		add_req(nd, LSM_ANY, 0, "wanted by %d guarded %s (families/"
			"kill need it; families.if_unavailable: warn or "
			"attached fail-open)", gd.nwant, policies(gd.nwant));
}

static void families_str(uint64_t bits, char *buf, size_t len)
{
	int af;

	buf[0] = '\0';
	for (af = 0; af < 64; af++) {
		const char *n;

		if (!(bits & (1ULL << af)))
			continue;
		n = cg_family_name(af);
		if (n)
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
				 *buf ? ", " : "", n);
		else
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%d",
				 *buf ? ", " : "", af);
	}
}

/* The same rules as `cgguard attach` (cg_policy_wants). */
static void needs_policy(struct needs *nd, const struct cg_policy *p)
{
	const uint64_t inet = (1ULL << AF_INET) | (1ULL << AF_INET6);
	const struct cg_sockets *s = &p->sockets;
	unsigned w = cg_policy_wants(p);
	char fam[200];

	add_name(nd, p->name);
	add_req(nd, BIT(CG_LAYER_PACKET), 1, "policy %s: egress and ingress "
		"rules (the packet layer is always needed)", p->name);
	if (s->present && s->raw == CG_ACT_DENY)
		add_req(nd, BIT(CG_LAYER_CREATE), 1, "policy %s: sockets.raw: "
			"deny", p->name);
	if (s->present && (s->deny_families & inet))
		add_req(nd, BIT(CG_LAYER_CREATE), 1, "policy %s: sockets."
			"families denies inet/inet6 sockets", p->name);
	if (s->present && (s->bind_default == CG_ACT_DENY || s->nbind_deny ||
			   s->nbind_allow))
		add_req(nd, BIT(CG_LAYER_BIND), 1, "policy %s: sockets.bind",
			p->name);
	if (!(w & (CG_WANT_LSM | CG_NEED_LSM)))
		return;
	families_str(s->deny_families & ~inet, fam, sizeof(fam));
	if (*fam)
		add_req(nd, LSM_ANY, !!(w & CG_NEED_LSM), "policy %s: sockets."
			"families denies %s (only a BPF LSM layer sees non-inet "
			"sockets)%s", p->name, fam,
			s->families_best_effort && p->on_violation != CG_VIOL_KILL
			? "; if_unavailable: warn" : "");
	if (p->on_violation == CG_VIOL_KILL)
		add_req(nd, LSM_ANY, 1, "policy %s: on_violation: kill (needs a "
			"BPF LSM layer for bpf_send_signal)", p->name);
}

/* How much a layer is needed: 2 required, 1 wanted, 0 not at all. */
static int layer_need(const struct needs *nd, int l)
{
	int need = 0;
	size_t i;

	for (i = 0; i < nd->n; i++)
		if (nd->r[i].layers & BIT(l))
			need = nd->r[i].required ? 2 :
			       (need > 1 ? need : 1);
	return need;
}

/* ---- host facts --------------------------------------------------------- */

struct caps {
	int known;
	int sys_admin, net_admin, bpf, perfmon;
};

static void read_caps(struct caps *c)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	unsigned long long e;

	memset(c, 0, sizeof(*c));
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d))
		return;
	e = d[0].effective | (unsigned long long)d[1].effective << 32;
	c->known = 1;
	c->sys_admin = !!(e & (1ULL << CAP_SYS_ADMIN));
	c->net_admin = !!(e & (1ULL << CAP_NET_ADMIN));
	c->bpf = !!(e & (1ULL << CAP_BPF));
	c->perfmon = !!(e & (1ULL << CAP_PERFMON));
}

static const struct {
	const char *name;
	size_t off;
	const char *purpose;
} cap_list[] = {
	{ "CAP_SYS_ADMIN", offsetof(struct caps, sys_admin),
	  "stands in for CAP_BPF, CAP_PERFMON (and CAP_NET_ADMIN on recent kernels); mounts bpffs/securityfs" },
	{ "CAP_NET_ADMIN", offsetof(struct caps, net_admin),
	  "load and attach cgroup network hooks" },
	{ "CAP_BPF", offsetof(struct caps, bpf),
	  "load BPF programs and create maps" },
	{ "CAP_PERFMON", offsetof(struct caps, perfmon),
	  "load BPF LSM programs" },
};

static int cap_get(const struct caps *c, size_t off)
{
	return *(const int *)((const char *)c + off);
}

struct host {
	struct utsname uts;
	char cg2[PATH_MAX];
	int cg2_err;
	int hybrid;
	int bpffs;
	int btf;
	struct caps caps;
	const struct cg_security *sec;
	struct cg_probe_result res[CG_LAYER_MAX];
	long long sval[DOCTOR_NSYSCTL];
	int serr[DOCTOR_NSYSCTL];
};

static void gather(struct host *h)
{
	struct statfs sfs;
	size_t i;

	uname(&h->uts);
	cg_clearerr();
	h->cg2_err = cg_cgroup2_mount(h->cg2, sizeof(h->cg2));
	h->hybrid = !h->cg2_err && cg_cgroup2_hybrid();
	h->bpffs = !statfs(CG_BPFFS, &sfs) && sfs.f_type == BPF_FS_MAGIC;
	h->btf = !access("/sys/kernel/btf/vmlinux", R_OK);
	read_caps(&h->caps);
	h->sec = cg_security_info();
	cg_probe_layers(h->res);
	for (i = 0; i < DOCTOR_NSYSCTL; i++)
		h->serr[i] = doctor_read_sysctl(doctor_sysctls[i].path, &h->sval[i]);
}

/* ---- text output -------------------------------------------------------- */

static void print_text(const struct host *h, const struct needs *nd, int ok)
{
	char buf[600], ls[64];
	size_t i;
	int l;

	printf("host\n");
	line("OK", "kernel", "%s %s", h->uts.release, h->uts.machine);
	if (h->cg2_err)
		line("FAIL", "cgroup v2", "not mounted (mount -t cgroup2 none "
		     "/sys/fs/cgroup)");
	else
		line("OK", "cgroup v2", "%s (%s)", h->cg2, h->hybrid ?
		     "hybrid: cgroup v1 controllers at /sys/fs/cgroup" :
		     "unified");
	if (h->bpffs)
		line("OK", "bpffs", "mounted at " CG_BPFFS);
	else
		line("WARN", "bpffs", "not mounted at " CG_BPFFS " (cgguard "
		     "attach mounts it; or: mount -t bpf bpf " CG_BPFFS ")");
	if (h->btf)
		line("OK", "BTF", "/sys/kernel/btf/vmlinux present");
	else
		line("WARN", "BTF", "/sys/kernel/btf/vmlinux missing (the LSM "
		     "layers need CONFIG_DEBUG_INFO_BTF)");
	for (i = 0; i < sizeof(cap_list) / sizeof(cap_list[0]); i++) {
		if (!h->caps.known)
			line("WARN", cap_list[i].name, "unknown (capget "
			     "failed)");
		else if (cap_get(&h->caps, cap_list[i].off))
			line("OK", cap_list[i].name, "effective");
		else
			line("WARN", cap_list[i].name, "missing (%s)",
			     cap_list[i].purpose);
	}
	if (h->sec->securityfs_mounted)
		line("OK", "securityfs", "mounted at /sys/kernel/security");
	else
		line("WARN", "securityfs", "not mounted at /sys/kernel/security"
		     " (mount -t securityfs securityfs /sys/kernel/security)");
	if (h->sec->err)
		line("WARN", "LSMs", "unknown: %s", h->sec->securityfs_mounted ?
		     strerror(-h->sec->err) : "securityfs is not mounted and "
		     "reading it privately needs CAP_SYS_ADMIN");
	else
		line("OK", "LSMs", "%s%s", h->sec->lsm, h->sec->private_mount ?
		     " (read through a private securityfs mount)" : "");
	if (h->sec->bpf_lsm == 1)
		line("OK", "bpf LSM", "\"bpf\" is an active LSM");
	else if (h->sec->bpf_lsm == 0)
		line("WARN", "bpf LSM", "\"bpf\" is not an active LSM: the LSM "
		     "layers need lsm=...,bpf on the kernel command line");
	else
		line("WARN", "bpf LSM", "unknown");
	if (h->sec->lockdown[0])
		line("OK", "lockdown", "%s", h->sec->lockdown);

	doctor_pins(NULL);

	printf("layers\n");
	for (l = 0; l < CG_LAYER_MAX; l++) {
		const struct cg_probe_result *r = &h->res[l];
		int need = layer_need(nd, l);
		const char *tag = need == 2 ? "required" : need ? "wanted" :
				  "not needed";

		if (r->available)
			line("OK", cg_layer_name(l), "available [%s]", tag);
		else
			line(need == 2 ? "FAIL" : "WARN", cg_layer_name(l),
			     "%s [%s]: %s", errname(r->err), tag, r->detail);
	}

	printf("sysctls\n");
	for (i = 0; i < DOCTOR_NSYSCTL; i++) {
		const struct doctor_sysctl *s = &doctor_sysctls[i];

		if (h->serr[i]) {
			line("WARN", s->name, "unreadable: %s%s",
			     strerror(-h->serr[i]), h->serr[i] == -EACCES ?
			     " (root only)" : "");
			continue;
		}
		s->meaning(h->sval[i], buf, sizeof(buf));
		line(s->ok(h->sval[i]) ? "OK" : "WARN", s->name,
		     "= %lld: %s; recommended %s", h->sval[i], buf,
		     s->recommended);
	}

	doctor_unpriv(NULL);	/* doctor_unpriv.c */
	printf("needs (from %s", nd->source);
	if (nd->nnames) {
		printf(": ");
		for (i = 0; i < nd->nnames; i++)
			printf("%s%s", i ? ", " : "", nd->names[i]);
	}
	printf(")\n");
	if (nd->warn[0])
		line("WARN", "guarded cgroups", "%s", nd->warn);
	for (i = 0; i < nd->n; i++) {
		const struct req *q = &nd->r[i];
		int met = req_met(q, h->res);

		layers_str(q->layers, ls, sizeof(ls));
		unmet_str(q, h->res, buf, sizeof(buf));
		line(met ? "OK" : q->required ? "FAIL" : "WARN", ls,
		     "%s: %s%s%s", q->why, met ? "available" : "NOT available",
		     buf, met || q->required ? "" :
		     " (a warning, not a failure)");
	}
	printf("%s\n", ok ? "OK: every layer the policies in use need is "
	       "available" : "FAIL: a layer the policies in use need is not "
	       "available (see FAIL above)");
}

/* ---- JSON output -------------------------------------------------------- */

static void jw_kerr(struct json *j, const char *k, int err)
{
	if (err)
		jw_kstr(j, k, errname(err));
	else {
		jw_key(j, k);
		jw_null(j);
	}
}

static void print_json(const struct host *h, const struct needs *nd, int ok)
{
	char buf[600];
	struct json j;
	const char *p, *e;
	size_t i;
	int l;

	jw_init(&j, stdout);
	jw_obj_start(&j);
	jw_kstr(&j, "kernel", h->uts.release);

	jw_key(&j, "cgroup");
	jw_obj_start(&j);
	if (h->cg2_err) {
		jw_key(&j, "mount");
		jw_null(&j);
		jw_key(&j, "mode");
		jw_null(&j);
	} else {
		jw_kstr(&j, "mount", h->cg2);
		jw_kstr(&j, "mode", h->hybrid ? "hybrid" : "unified");
	}
	jw_obj_end(&j);

	jw_key(&j, "bpffs");
	jw_obj_start(&j);
	jw_kstr(&j, "path", CG_BPFFS);
	jw_kbool(&j, "mounted", h->bpffs);
	jw_obj_end(&j);

	jw_key(&j, "pin_tree");
	doctor_pins(&j);

	jw_key(&j, "btf");
	jw_obj_start(&j);
	jw_kstr(&j, "path", "/sys/kernel/btf/vmlinux");
	jw_kbool(&j, "available", h->btf);
	jw_obj_end(&j);

	jw_key(&j, "capabilities");
	jw_obj_start(&j);
	for (i = 0; i < sizeof(cap_list) / sizeof(cap_list[0]); i++) {
		jw_key(&j, cap_list[i].name);
		if (h->caps.known)
			jw_bool(&j, cap_get(&h->caps, cap_list[i].off));
		else
			jw_null(&j);
	}
	jw_obj_end(&j);

	jw_key(&j, "lsm");
	jw_obj_start(&j);
	jw_kbool(&j, "securityfs_mounted", h->sec->securityfs_mounted);
	jw_key(&j, "active");
	if (h->sec->err) {
		jw_null(&j);
	} else {
		jw_arr_start(&j);
		for (p = h->sec->lsm; *p; p = *e ? e + 1 : e) {
			e = strchrnul(p, ',');
			snprintf(buf, sizeof(buf), "%.*s", (int)(e - p), p);
			jw_str(&j, buf);
		}
		jw_arr_end(&j);
	}
	jw_key(&j, "source");
	if (h->sec->err)
		jw_null(&j);
	else
		jw_str(&j, h->sec->private_mount ? "private securityfs mount" :
		       "/sys/kernel/security/lsm");
	jw_key(&j, "bpf");
	if (h->sec->bpf_lsm < 0)
		jw_null(&j);
	else
		jw_bool(&j, h->sec->bpf_lsm);
	jw_key(&j, "lockdown");
	if (h->sec->lockdown[0])
		jw_str(&j, h->sec->lockdown);
	else
		jw_null(&j);
	if (h->sec->err)
		jw_kstr(&j, "error", h->sec->securityfs_mounted ?
			strerror(-h->sec->err) : "securityfs is not mounted "
			"and reading it privately needs CAP_SYS_ADMIN");
	jw_obj_end(&j);

	jw_key(&j, "layers");
	jw_obj_start(&j);
	for (l = 0; l < CG_LAYER_MAX; l++) {
		const struct cg_probe_result *r = &h->res[l];
		int need = layer_need(nd, l);

		jw_key(&j, cg_layer_name(l));
		jw_obj_start(&j);
		jw_kbool(&j, "available", r->available);
		jw_kerr(&j, "errno", r->available ? 0 : r->err);
		jw_kstr(&j, "detail", r->detail);
		jw_key(&j, "step");
		if (r->step)
			jw_str(&j, r->step);
		else
			jw_null(&j);
		if (r->verifier[0])
			jw_kstr(&j, "verifier", r->verifier);
		if (l == CG_LAYER_SOCKFILTER)
			jw_kbool(&j, "classic_bpf", r->classic_bpf);
		jw_kstr(&j, "needed", need == 2 ? "required" : need ?
			"wanted" : "no");
		jw_obj_end(&j);
	}
	jw_obj_end(&j);

	jw_key(&j, "sysctls");
	jw_obj_start(&j);
	for (i = 0; i < DOCTOR_NSYSCTL; i++) {
		const struct doctor_sysctl *s = &doctor_sysctls[i];

		jw_key(&j, s->name);
		jw_obj_start(&j);
		if (h->serr[i]) {
			jw_key(&j, "value");
			jw_null(&j);
			snprintf(buf, sizeof(buf), "unreadable: %s",
				 strerror(-h->serr[i]));
			jw_kstr(&j, "meaning", buf);
			jw_kstr(&j, "recommended", s->recommended);
			jw_key(&j, "ok");
			jw_null(&j);
		} else {
			jw_ku64(&j, "value", (uint64_t)h->sval[i]);
			jw_kstr(&j, "meaning", s->meaning(h->sval[i], buf,
							  sizeof(buf)));
			jw_kstr(&j, "recommended", s->recommended);
			jw_kbool(&j, "ok", s->ok(h->sval[i]));
		}
		jw_obj_end(&j);
	}
	jw_obj_end(&j);

	doctor_unpriv(&j);
	jw_key(&j, "needed");
	jw_obj_start(&j);
	jw_kstr(&j, "source", nd->source);
	jw_key(&j, "policies");
	jw_arr_start(&j);
	for (i = 0; i < nd->nnames; i++)
		jw_str(&j, nd->names[i]);
	jw_arr_end(&j);
	if (nd->warn[0])
		jw_kstr(&j, "warning", nd->warn);
	jw_key(&j, "requirements");
	jw_arr_start(&j);
	for (i = 0; i < nd->n; i++) {
		const struct req *q = &nd->r[i];

		jw_obj_start(&j);
		jw_key(&j, "layers");
		jw_arr_start(&j);
		for (l = 0; l < CG_LAYER_MAX; l++)
			if (q->layers & BIT(l))
				jw_str(&j, cg_layer_name(l));
		jw_arr_end(&j);
		jw_kbool(&j, "required", q->required);
		jw_kbool(&j, "available", req_met(q, h->res));
		jw_kstr(&j, "why", q->why);
		jw_obj_end(&j);
	}
	jw_arr_end(&j);
	jw_obj_end(&j);

	jw_kbool(&j, "ok", ok);
	jw_obj_end(&j);
	printf("\n");
}

/* ---- command ------------------------------------------------------------ */

static void usage(void)
{
	printf("Usage: %s doctor [--json] [--policy NAME|FILE]...\n\n"
	       "Probes every enforcement layer by really loading (and "
	       "attaching) a tiny\nprogram, and reports the host facts and "
	       "BPF sysctls that decide what\ncgguard can enforce.\n\n"
	       "  --policy NAME|FILE  check the layers these policies need "
	       "(repeatable);\n                      default: the policies of "
	       "the guarded cgroups\n  --json              one JSON object\n\n"
	       "Exit status: 0 when every layer the policies need is "
	       "available and the pin\ntree under " CG_PIN_ROOT " is "
	       "root's alone, 1 when not, 2 on bad usage.\n", prog_name);
}

int do_doctor(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' },
		COMMON_LONGOPTS, { 0 } };
	struct needs nd;
	struct host *h;
	const char **pol;
	int opt, npol = 0, ok = 1, i, ret = 0;
	size_t k;

	pol = calloc(argc + 1, sizeof(*pol));
	if (!pol)
		return report(-ENOMEM, "doctor");
	while ((opt = getopt_long(argc, argv, "p:jh", opts, NULL)) != -1) {
		switch (opt) {
		case 'p': pol[npol++] = optarg; break;
		case 'j': json_output = 1; break;
		case 'h': usage(); free(pol); return 0;
		default: free(pol); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: doctor: unexpected argument '%s' (see "
			"--help)\n", prog_name, argv[optind]);
		free(pol);
		return 2;
	}
	memset(&nd, 0, sizeof(nd));
	if (npol) {
		nd.source = "--policy";
		for (i = 0; i < npol; i++) {
			struct cg_policy *p = NULL;

			if (load_policy(pol[i], &p)) {
				free(pol);
				free_needs(&nd);
				return 1;
			}
			needs_policy(&nd, p);
			cg_policy_free(p);
		}
	} else {
		needs_guarded(&nd);
	}
	free(pol);

	h = calloc(1, sizeof(*h));
	if (!h) {
		free_needs(&nd);
		return report(-ENOMEM, "doctor");
	}
	gather(h);
	for (k = 0; k < nd.n; k++)
		if (nd.r[k].required && !req_met(&nd.r[k], h->res))
			ok = 0;
	if (json_output)
		print_json(h, &nd, ok);
	else
		print_text(h, &nd, ok);
	/* A pin tree another user can write to is a way around the guard. */
	ret = ok && !doctor_pins_bad() ? 0 : 1;
	free(h);
	free_needs(&nd);
	return ret;
}
