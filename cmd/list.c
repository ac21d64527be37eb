// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* cgguard list: every guarded cgroup, requested versus enforced. */
#include <errno.h>
#include <string.h>
#include "cgguard.h"

#include "../bpf/probe.h"
#include "nftcmd.h"

/* Layers as listed, with the hooks that make each one up. */
static const struct { const char *name; int hooks[8]; int n; } layers[] = {
	{ "packet",  { CG_HOOK_EGRESS, CG_HOOK_INGRESS }, 2 },
	{ "connect", { CG_HOOK_CONNECT4, CG_HOOK_CONNECT6 }, 2 },
	{ "sendmsg", { CG_HOOK_SENDMSG4, CG_HOOK_SENDMSG6 }, 2 },
	{ "bind",    { CG_HOOK_BIND4, CG_HOOK_BIND6 }, 2 },
	{ "create",  { CG_HOOK_CREATE }, 1 },
	{ "lsm",     { CG_HOOK_LSM_CREATE, CG_HOOK_LSM_CONNECT,
		       CG_HOOK_LSM_SENDMSG, CG_HOOK_LSM_BIND,
		       CG_HOOK_GLSM_CREATE, CG_HOOK_GLSM_CONNECT,
		       CG_HOOK_GLSM_SENDMSG, CG_HOOK_GLSM_BIND }, 8 },
};
#define NLAYERS (sizeof(layers) / sizeof(layers[0]))

/* Why a hook is not enforced, or NULL if it is (checked in the kernel). */
static const char *why_not(const struct cg_status *st, int h)
{
	if (!st->available[h])
		return "unavailable on this kernel";
	if (!st->cgroup_exists)
		return "cgroup removed";
	if (!st->enforced[h])
		return "program not attached";
	if (!st->linked[h])
		return "link not pinned";
	if (st->bound_slot[h] != st->meta.slot)
		return "bound to another policy";
	return NULL;
}

/* A layer is enforced when every hook this kernel loaded for it is (the
 * LSM layer loads one of its two flavours). */
static const char *layer_why(const struct cg_status *st, size_t l)
{
	const char *w = NULL;
	int i, any = 0;

	for (i = 0; i < layers[l].n && !w; i++) {
		if (!st->available[layers[l].hooks[i]])
			continue;
		any = 1;
		w = why_not(st, layers[l].hooks[i]);
	}
	return any ? w : "unavailable on this kernel";
}

/* Requested: the LSM layer only when the policy needs it; the rest always. */
static int layer_requested(const struct cg_status *st, size_t l)
{
	return strcmp(layers[l].name, "lsm") || (st->slot.wants & CG_WANT_LSM);
}

static void list_text(const struct cg_status *st)
{
	size_t l;

	printf("%-32s %-12s %-8s", st->meta.path, st->slot.name,
	       st->slot.mode ? "audit" : "enforce");
	for (l = 0; l < NLAYERS; l++) {
		const char *w = layer_why(st, l);

		if (!w)
			printf(" %s:on", layers[l].name);
		else if (layer_requested(st, l) || strcmp(w, "unavailable on this kernel"))
			printf(" %s:NOT-ENFORCED(%s)", layers[l].name, w);
		else
			printf(" %s:n/a", layers[l].name);
	}
	if (st->meta.flags & CG_CGF_DEGRADED)
		printf(" DEGRADED(applied without a wanted layer)");
	if (st->meta.flags & CG_CGF_DELEGATED)
		printf(" delegated");
	printf("\n");
}

static int list_one(const struct cg_status *st, void *ctx)
{
	struct json *j = ctx;
	const char *mode = st->slot.mode ? "audit" : "enforce";
	size_t l;

	if (!j) {
		list_text(st);
		return 0;
	}
	jw_obj_start(j);
	jw_kstr(j, "cgroup", st->meta.path);
	jw_ku64(j, "id", st->cgid);
	jw_kstr(j, "backend", "bpf");
	jw_kstr(j, "policy", st->slot.name);
	jw_kstr(j, "source", st->slot.source);
	jw_kstr(j, "mode", mode);
	jw_kbool(j, "cgroup_exists", st->cgroup_exists);
	jw_kstr(j, "fail", st->meta.flags & CG_CGF_FAIL_OPEN ? "open" : "closed");
	jw_kbool(j, "degraded", !!(st->meta.flags & CG_CGF_DEGRADED));
	jw_kbool(j, "delegated", !!(st->meta.flags & CG_CGF_DELEGATED));
	jw_key(j, "layers");
	jw_obj_start(j);
	for (l = 0; l < NLAYERS; l++) {
		const char *w = layer_why(st, l);
		int i;

		jw_key(j, layers[l].name);
		jw_obj_start(j);
		jw_kbool(j, "requested", layer_requested(st, l));
		jw_kbool(j, "enforced", !w);
		if (w)
			jw_kstr(j, "reason", w);
		for (i = 0; i < layers[l].n; i++) {
			int h = layers[l].hooks[i];

			if (!st->available[h] && layers[l].n > 4)
				continue;	/* the LSM flavour not in use */
			jw_key(j, cg_hooks[h].name);
			jw_obj_start(j);
			jw_kbool(j, "enforced", !why_not(st, h));
			jw_kbool(j, "program_attached", st->enforced[h]);
			jw_kbool(j, "link_pinned", st->linked[h]);
			jw_obj_end(j);
		}
		jw_obj_end(j);
	}
	jw_obj_end(j);
	jw_obj_end(j);
	return 0;
}

static void usage(void)
{
	printf("Usage: %s list [--json]\n\nEvery guarded cgroup "
	       "with its policy; 'enforced' is checked against "
	       "the programs the kernel has attached (or, for "
	       "the nft backend,\nthe rules nftables has "
	       "loaded).\n",
	       prog_name);
}

int do_list(int argc, char **argv)
{
	struct cg_guard *g = NULL;
	struct json j;
	int err;

	err = json_only_opts("list", argc, argv, usage);
	if (err)
		return err == -ECANCELED ? 0 : 2;
	cg_clearerr();
	err = cg_guard_open(&g, CG_OPEN_RDONLY);
	if (err && err != -ENOENT)	/* the nft-backed ones are still listed */
		report(err, "opening pinned state");
	if (err)
		g = NULL;
	if (g && g->stale)
		fprintf(stderr, "%s: note: the pinned programs are from another "
			"cgguard build; `cgguard upgrade` switches every guarded "
			"cgroup to this one's\n", prog_name);
	if (json_output) {
		jw_init(&j, stdout);
		jw_arr_start(&j);
	} else {
		printf("%-32s %-12s %-8s %s\n", "CGROUP", "POLICY", "MODE",
		       "LAYERS (checked against the kernel)");
	}
	err = g ? cg_guard_foreach(g, list_one, json_output ? &j : NULL) :
	      err != -ENOENT;
	err |= nft_list_all(json_output ? &j : NULL);
	if (json_output)
		jw_arr_end(&j);
	if (g)
		cg_guard_close(g);
	return err ? 1 : 0;
}
