// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* cgguard sockets --cgroup PATH [--json] */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <string.h>
#include "cgguard.h"
#include "../bpf/sockets.h"

static void usage(void)
{
	printf("Usage: %s sockets --cgroup PATH [--json]\n\n"
	       "The live TCP and UDP sockets (IPv4 and IPv6) of a guarded cgroup\n"
	       "and every cgroup below it, as `ss -a --cgroup` lists them, in\n"
	       "every network namespace their processes use.  Each connection\n"
	       "shows the verdict the packet layer cached with its socket, the\n"
	       "rule that decided it and the policy generation it was taken\n"
	       "under: 'not yet judged' until its first packet after attach,\n"
	       "'stale' when the policy was swapped since (it is judged again\n"
	       "on its next packet).  Listeners and unconnected UDP sockets are\n"
	       "not connections: their datagrams are judged one peer at a time.\n"
	       "PATH may also be a cgroup below a guarded one.\n", prog_name);
}

struct sockets_ctx {
	struct json *j;
	const struct cg_sockscope *sc;
	struct cg_policy *p;	/* for rule texts; NULL if gone */
	unsigned n;
};

static const char *kind_str(enum cg_sock_kind k)
{
	static const char *const s[] = {
		[CG_SK_CONNECTED] = "connected", [CG_SK_ACCEPTED] = "accepted",
		[CG_SK_LISTENER] = "listener",
		[CG_SK_UNCONNECTED] = "unconnected",
	};
	return s[k];
}

/* "allow", "deny", "stale (allow, gen 3)", "not yet judged", "-",
 * "unknown". */
static void verdict_str(const struct cg_sockinfo *si, char *buf, size_t len)
{
	if (si->stg_unknown && si->kind != CG_SK_UNCONNECTED)
		snprintf(buf, len, "unknown");
	else if (!si->judged)
		snprintf(buf, len, "%s", si->kind == CG_SK_LISTENER ||
			 si->kind == CG_SK_UNCONNECTED ? "-" : "not yet judged");
	else if (si->stale)
		snprintf(buf, len, "stale (%s, gen %u)",
			 cg_sock_action_str(si->action), si->gen);
	else
		snprintf(buf, len, "%s%s", cg_sock_action_str(si->action),
			 si->audit && si->action == CG_ACT_DENY_V ?
			 " (audit)" : "");
}

static void sock_json(struct sockets_ctx *c, const struct cg_sockinfo *si,
		      const char *rule)
{
	const struct cg_sock *sk = &si->sk;
	struct json *j = c->j;
	char a[80];

	jw_obj_start(j);
	jw_kstr(j, "netid", cg_sock_proto_str(sk));
	jw_kstr(j, "family", sk->family == AF_INET ? "ipv4" : "ipv6");
	jw_kstr(j, "state", cg_sock_state_str(sk));
	jw_kstr(j, "kind", kind_str(si->kind));
	jw_ku64(j, "recv_q", sk->rqueue);
	jw_ku64(j, "send_q", sk->wqueue);
	cg_sock_addr_str(sk, 0, a, sizeof(a));
	jw_kstr(j, "local", a);
	cg_sock_addr_str(sk, 1, a, sizeof(a));
	jw_kstr(j, "peer", a);
	jw_ku64(j, "inode", sk->inode);
	jw_ku64(j, "cookie", sk->cookie);
	jw_ku64(j, "uid", sk->uid);
	jw_ku64(j, "cgroup_id", sk->cgid);
	jw_ku64(j, "netns", sk->netns);
	if (si->kind == CG_SK_UNCONNECTED)
		jw_ku64(j, "peers", si->peers);
	jw_kbool(j, "judged", si->judged);
	jw_kbool(j, "stale", si->stale);
	verdict_str(si, a, sizeof(a));
	jw_kstr(j, "verdict", si->judged ? cg_sock_action_str(si->action) : a);
	if (si->judged) {
		jw_kstr(j, "direction", si->dir == CG_DIR_INGRESS_V ?
			"ingress" : "egress");
		jw_ku64(j, "generation", si->gen);
		jw_kbool(j, "audit", si->audit);
		jw_ku64(j, "rule_counter", si->rule);
		jw_kstr(j, "rule", rule);
	}
	jw_obj_end(j);
}

static void print_sock(struct sockets_ctx *c, const struct cg_sockinfo *si)
{
	const struct cg_sock *sk = &si->sk;
	char l[64], r[64], v[48], rule[256] = "";

	c->n++;
	if (si->judged)
		format_rule_counter(c->p, si->rule, rule, sizeof(rule));
	if (c->j) {
		sock_json(c, si, rule);
		return;
	}
	cg_sock_addr_str(sk, 0, l, sizeof(l));
	cg_sock_addr_str(sk, 1, r, sizeof(r));
	verdict_str(si, v, sizeof(v));
	printf("%-5s %-10s %6u %6u %-30s %-30s %-9s %-20s", cg_sock_proto_str(sk),
	       cg_sock_state_str(sk), sk->rqueue, sk->wqueue, l, r,
	       kind_str(si->kind), v);
	if (si->judged)
		printf(" gen %u  #%u %s", si->gen, si->rule, rule);
	printf("\n");
}

static void header(struct sockets_ctx *c)
{
	const struct cg_sockscope *sc = c->sc;

	if (c->j) {
		jw_obj_start(c->j);
		jw_ku64(c->j, "id", sc->cgid);
		jw_kstr(c->j, "guarded_cgroup", sc->meta.path);
		jw_ku64(c->j, "guarded_id", sc->guarded_id);
		jw_kstr(c->j, "policy", sc->slot.name);
		jw_kstr(c->j, "mode", sc->slot.mode ? "audit" : "enforce");
		jw_ku64(c->j, "generation", sc->gen);
		jw_ku64(c->j, "cgroups", sc->ncgroups);
		jw_ku64(c->j, "netns", sc->nnetns);
		jw_key(c->j, "sockets");
		jw_arr_start(c->j);
		return;
	}
	printf("%-5s %-10s %6s %6s %-30s %-30s %-9s %s\n", "Netid", "State",
	       "Recv-Q", "Send-Q", "Local Address:Port", "Peer Address:Port",
	       "Kind", "Verdict");
}

static int list_sockets(struct cg_guard *g, const char *cgpath)
{
	struct cg_sockscope sc;
	struct sockets_ctx c = { .sc = &sc };
	struct cg_sockinfo *v;
	struct json j;
	size_t n, i;
	int err;

	cg_clearerr();
	err = cg_guard_sockets(g, cgpath, &sc, &v, &n);
	if (err)
		return report(err, "sockets");
	if (json_output) {
		jw_init(&j, stdout);
		c.j = &j;
	}
	if (load_slot_policy(sc.slot.source, &c.p))
		c.p = NULL;	/* file gone or changed: rule numbers only */
	if (sc.udp_err[0])
		fprintf(stderr, "%s: sockets: UDP verdicts unknown: %s\n",
			prog_name, sc.udp_err);
	header(&c);
	for (i = 0; i < n; i++)
		print_sock(&c, &v[i]);
	if (c.j) {
		jw_arr_end(c.j);
		jw_obj_end(c.j);
		printf("\n");
	} else {
		printf("%u sockets; cgroup %s guarded by %s: policy %s (%s), "
		       "generation %u; %zu cgroups, %zu network namespaces\n",
		       c.n, cgpath, sc.meta.path, sc.slot.name,
		       sc.slot.mode ? "audit" : "enforce", sc.gen, sc.ncgroups,
		       sc.nnetns);
	}
	cg_policy_free(c.p);
	free(v);
	return 0;
}

int kill_denied(struct cg_guard *g, const char *cgpath,
		const struct cg_policy *p, struct cg_kill_result *kr)
{
	int err;

	cg_clearerr();
	err = cg_guard_kill_denied(g, cgpath, p, kr);
	if (err) {
		fprintf(stderr, "%s: attach: policy '%s' is applied, but "
			"--kill-denied failed after destroying %u of %u denied "
			"sockets: %s\n", prog_name, p->name, kr->destroyed,
			kr->denied, *cg_lasterr() ? cg_lasterr() :
			strerror(-err));
		return err;
	}
	if (!json_output)
		printf("%s: killed %u socket%s the policy denies (%u "
		       "connections judged of %u sockets; %u closed "
		       "meanwhile)%s\n", prog_name, kr->destroyed,
		       kr->destroyed == 1 ? "" : "s", kr->judged, kr->scanned,
		       kr->gone, p->mode == CG_MODE_AUDIT ?
		       "; audit mode destroys nothing" : "");
	return 0;
}

void print_kill_result(struct json *j, const struct cg_kill_result *kr)
{
	jw_key(j, "kill_denied");
	jw_obj_start(j);
	jw_ku64(j, "sockets", kr->scanned);
	jw_ku64(j, "connections", kr->judged);
	jw_ku64(j, "denied", kr->denied);
	jw_ku64(j, "destroyed", kr->destroyed);
	jw_ku64(j, "closed_meanwhile", kr->gone);
	jw_ku64(j, "failed", kr->failed);
	jw_obj_end(j);
}

int do_sockets(int argc, char **argv)
{
	const char *cgpath;
	struct cg_guard *g;
	int err;

	err = cgroup_only_opts("sockets", argc, argv, usage, &cgpath);
	if (err)
		return err == -ECANCELED ? 0 : 2;
	if (require_caps("sockets") || open_guard(&g, CG_OPEN_RDONLY))
		return 1;
	err = list_sockets(g, cgpath);
	cg_guard_close(g);
	return err ? 1 : 0;
}
