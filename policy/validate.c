// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * What `cgguard attach` refuses about a policy, before it touches the kernel: one definition,
 * used by attach (bpf/attach.c), `cgguard policy check`, the daemon and the OCI hook alike, so
 * a policy that checks fine is one that applies.
 *
 *  - anything the compiler refuses (too many port ranges on one prefix, ...);
 *  - more lookup entries than the kernel's tables hold: the LPM map (CG_LPM_MAX_ENTRIES, of
 *    which slot 0's deny-all entries are reserved) and the port tables;
 *  - more bind ranges than the socket layer's table (cg_sockcfg_compile);
 *  - a policy that needs the BPF LSM layer where the kernel has none, unless fail-open.
 *
 * The tables are shared by every policy loaded, so an attach can still find them full of
 * other policies; that depends on the host's state, not on the policy, and attach says so.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "compile.h"

/* slot 0's entries: deny-all for both directions and families */
#define LPM_RESERVED	4u

static int limits(const struct cg_policy *p, const struct cg_compiled *c, char *err,
		  size_t errlen)
{
	if (c->n > CG_LPM_MAX_ENTRIES - LPM_RESERVED)
		return cg_policy_errf(err, errlen, -EINVAL,
			"%s: compiles to %zu lookup entries; the kernel's table holds %u for all "
			"policies together (merge adjacent prefixes, or split the policy)",
			p->source, c->n, CG_LPM_MAX_ENTRIES - LPM_RESERVED);
	if (c->nport_keys > CG_PORT_MAX_ENTRIES)
		return cg_policy_errf(err, errlen, -EINVAL,
			"%s: its port ranges compile to %zu port-table entries; the kernel's "
			"table holds %u", p->source, c->nport_keys, CG_PORT_MAX_ENTRIES);
	if (c->ntables >= (1u << CG_TABLE_SLOT_SHIFT))
		return cg_policy_errf(err, errlen, -EINVAL, "%s: more than %u port tables",
				      p->source, (1u << CG_TABLE_SLOT_SHIFT) - 1);
	return 0;
}

int cg_policy_prepare(const struct cg_policy *p, struct cg_compiled *c,
		      struct cg_sockcfg *sc, char *err, size_t errlen)
{
	int rc = cg_policy_compile_all(p, c, sc, err, errlen);

	if (rc)
		return rc;
	rc = limits(p, c, err, errlen);
	if (rc)
		cg_compiled_free(c);
	return rc;
}

int cg_policy_layers_check(const struct cg_policy *p, int have_lsm, int fail_open,
			   int *degraded, char *err, size_t errlen)
{
	unsigned wants = cg_policy_wants(p);

	*degraded = 0;
	/* unknown (an unprivileged `policy check`): nothing to refuse on */
	if (!(wants & CG_WANT_LSM) || have_lsm)
		return 0;
	if ((wants & CG_NEED_LSM) && !fail_open)
		return cg_policy_errf(err, errlen, -EOPNOTSUPP,
			"policy '%s' needs the BPF LSM layer (sockets.families beyond inet/inet6, "
			"or on_violation: kill), which this kernel refused (`cgguard doctor` says "
			"why); refusing: fail mode closed (use fail open to apply the rest)",
			p->name);
	*degraded = 1;
	return 0;
}
