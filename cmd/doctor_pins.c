// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * cgguard doctor: ownership and modes of the pin tree.  A directory under
 * CG_PIN_ROOT that another user owns or can write to lets that user
 * unlink link pins, which detaches the guard (bpf/pindir.h).
 */
#include <stdio.h>
#include <string.h>
#include "cgguard.h"
#include "doctor.h"

struct walk {
	struct json *j;		/* NULL: text */
	int n, bad;
};

static void one(const struct cg_pinent *e, void *ctx)
{
	struct walk *w = ctx;
	const char *type = !e->exists ? "missing" : e->is_link ? "symlink" :
			   e->is_dir ? "directory" : "other";

	w->n++;
	w->bad += e->exists && e->problem;
	if (!w->j) {
		if (!e->exists)
			printf("  %-4s  %-33s not created yet (attach creates "
			       "it: root, 0700)\n", "OK", e->path);
		else
			printf("  %-4s  %-33s %s uid %u gid %u mode %04o%s%s\n",
			       e->problem ? "FAIL" : "OK", e->path, type,
			       (unsigned)e->uid, (unsigned)e->gid, e->mode,
			       e->problem ? ": " : "",
			       e->problem ? e->problem : "");
		return;
	}
	jw_obj_start(w->j);
	jw_kstr(w->j, "path", e->path);
	jw_kstr(w->j, "type", type);
	if (e->exists) {
		char mode[8];

		snprintf(mode, sizeof(mode), "%04o", e->mode);
		jw_ku64(w->j, "uid", e->uid);
		jw_ku64(w->j, "gid", e->gid);
		jw_kstr(w->j, "mode", mode);
	}
	jw_kbool(w->j, "ok", !e->exists || !e->problem);
	jw_key(w->j, "problem");
	if (e->exists && e->problem)
		jw_str(w->j, e->problem);
	else
		jw_null(w->j);
	jw_obj_end(w->j);
}

int doctor_pins(struct json *j)
{
	struct walk w = { j, 0, 0 };
	int err;

	if (!j)
		printf("pin tree\n");
	else
		jw_arr_start(j);
	err = cg_pintree_inspect(one, &w);
	if (j)
		jw_arr_end(j);
	else if (err)
		printf("  %-4s  %-33s %s\n", "WARN", CG_PIN_ROOT,
		       "bpffs is not mounted: nothing is pinned");
	else if (w.bad)
		printf("  %-4s  %-33s %s\n", "FAIL", "pin tree", "another user "
		       "can remove pins (detaching the guard): `cgguard "
		       "attach` moves these aside and re-creates them");
	return w.bad;
}

static void count_bad(const struct cg_pinent *e, void *ctx)
{
	*(int *)ctx += e->exists && e->problem;
}

int doctor_pins_bad(void)
{
	int bad = 0;

	cg_pintree_inspect(count_bad, &bad);
	return bad;
}
