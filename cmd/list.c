// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* cgguard list: every guarded cgroup, requested versus enforced. */
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include "cgguard.h"

/* Why a direction is not enforced, or NULL if it is. */
static const char *why_not(const struct cg_status *st, int dir)
{
	if (!st->cgroup_exists)
		return "cgroup removed";
	if (!st->enforced[dir])
		return "program not attached";
	if (!st->linked[dir])
		return "link not pinned";
	if (st->bound_slot[dir] != st->meta.slot)
		return "bound to another policy";
	return NULL;
}

static int list_one(const struct cg_status *st, void *ctx)
{
	struct json *j = ctx;
	static const char *const dirs[2] = { "egress", "ingress" };
	const char *mode = st->slot.mode ? "audit" : "enforce";
	int dir;

	if (!j) {
		const char *e = why_not(st, 0), *i = why_not(st, 1);

		printf("%-40s %-12s %-8s packet:%s", st->meta.path,
		       st->slot.name, mode, !e && !i ? "enforced" : "NOT ENFORCED");
		if (e || i)
			printf(" (%s)", e ? e : i);
		if (st->slot.wants & CG_WANT_SOCKETS)
			printf(" sockets:requested,not-enforced(no socket layer)");
		printf("\n");
		return 0;
	}
	jw_obj_start(j);
	jw_kstr(j, "cgroup", st->meta.path);
	jw_ku64(j, "id", st->cgid);
	jw_kstr(j, "policy", st->slot.name);
	jw_kstr(j, "source", st->slot.source);
	jw_kstr(j, "mode", mode);
	jw_kbool(j, "cgroup_exists", st->cgroup_exists);
	jw_key(j, "layers");
	jw_obj_start(j);
	jw_key(j, "packet");
	jw_obj_start(j);
	jw_kbool(j, "requested", 1);
	for (dir = 0; dir < 2; dir++) {
		const char *w = why_not(st, dir);

		jw_key(j, dirs[dir]);
		jw_obj_start(j);
		jw_kbool(j, "enforced", !w);
		jw_kbool(j, "program_attached", st->enforced[dir]);
		jw_kbool(j, "link_pinned", st->linked[dir]);
		if (w)
			jw_kstr(j, "reason", w);
		jw_obj_end(j);
	}
	jw_obj_end(j);
	jw_key(j, "sockets");
	jw_obj_start(j);
	jw_kbool(j, "requested", !!(st->slot.wants & CG_WANT_SOCKETS));
	jw_kbool(j, "enforced", 0);
	jw_kstr(j, "reason", "socket layer not available in this build");
	jw_obj_end(j);
	jw_obj_end(j);
	jw_obj_end(j);
	return 0;
}

int do_list(int argc, char **argv)
{
	static const struct option opts[] = { COMMON_LONGOPTS, { 0 } };
	struct cg_guard *g = NULL;
	struct json j;
	int opt, err;

	while ((opt = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (opt) {
		case 'j': json_output = 1; break;
		case 'h':
			printf("Usage: %s list [--json]\n\nEvery guarded cgroup "
			       "with its policy; 'enforced' is checked against "
			       "the programs the kernel has attached.\n",
			       prog_name);
			return 0;
		default: return 2;
		}
	}
	cg_clearerr();
	err = cg_guard_open(&g, CG_OPEN_RDONLY);
	if (err == -ENOENT) {	/* nothing pinned: an empty list */
		if (json_output)
			printf("[]\n");
		return 0;
	}
	if (err)
		return report(err, "opening pinned state");
	if (json_output) {
		jw_init(&j, stdout);
		jw_arr_start(&j);
	} else {
		printf("%-40s %-12s %-8s %s\n", "CGROUP", "POLICY", "MODE",
		       "LAYERS");
	}
	err = cg_guard_foreach(g, list_one, json_output ? &j : NULL);
	if (json_output)
		jw_arr_end(&j);
	cg_guard_close(g);
	return err ? 1 : 0;
}
