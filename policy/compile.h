/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Policy compiler: turns rules into LPM entries whose values already hold
 * the final decision ("most specific rule wins"), so the packet path does a
 * single LPM lookup and a short scan of port ranges.
 */
#ifndef CGGUARD_COMPILE_H
#define CGGUARD_COMPILE_H

#include <linux/types.h>
#include "policy.h"
#include "../bpf/cgguard_abi.h"

struct cg_entry {
	struct cg_lpm_key key;	/* key.slot is filled in when written */
	struct cg_lpm_val val;
};

/*
 * One range of a port table.  An entry with more ranges than fit inline
 * (val.nranges == CG_RANGES_IN_TABLE) names its table in val.table (the
 * index here; the writer adds the slot).  Segments are sorted by (table,
 * proto, lo) and do not overlap; a port in no segment takes the entry's
 * own (action, rule).
 */
struct cg_port_seg {
	uint32_t table;
	uint16_t lo, hi;
	uint8_t proto;		/* CG_P_TCP, CG_P_UDP, CG_P_ICMP */
	uint8_t action;
	uint16_t rule;
};

struct cg_compiled {
	size_t n;
	struct cg_entry *e;	/* sorted by (dir, family, addr, prefixlen) */
	size_t nseg;
	struct cg_port_seg *seg;
	size_t ntables;
	size_t nport_keys;	/* cg_ports entries the segments split into */
	uint64_t hash;		/* identifies equal compiled policies */
	uint32_t nrules[CG_DIR_MAX];
	uint8_t mode;
};

int cg_policy_compile(const struct cg_policy *p, struct cg_compiled *out,
		      char *err, size_t errlen);
void cg_compiled_free(struct cg_compiled *c);
/* FNV-1a step: folds @n bytes into hash @h. */
uint64_t cg_hash_mix(uint64_t h, const void *p, size_t n);

/* sockets: section -> the per-slot config of the socket and LSM layers. */
int cg_sockcfg_compile(const struct cg_policy *p, struct cg_sockcfg *c,
		       char *err, size_t errlen);
/*
 * Everything an attach writes: the LPM entries and the socket config, with
 * c->hash covering both (the hash cg_slot_meta records, which decides slot
 * sharing and lets the daemon see "policy unchanged").
 */
int cg_policy_compile_all(const struct cg_policy *p, struct cg_compiled *c,
			  struct cg_sockcfg *sc, char *err, size_t errlen);
/* The hash cg_policy_compile_all() gives, alone. */
int cg_policy_hash(const struct cg_policy *p, uint64_t *hash, char *err,
		   size_t errlen);

/*
 * validate.c: everything attach refuses about a policy itself, shared with `policy check`.
 * cg_policy_prepare() is cg_policy_compile_all() plus the kernel tables' limits;
 * cg_policy_layers_check() refuses a policy needing BPF LSM where @have_lsm is 0 unless
 * @fail_open, which sets *degraded instead (-1: unknown, nothing refused).  -EINVAL / -EOPNOTSUPP with the
 * reason in err.
 */
int cg_policy_prepare(const struct cg_policy *p, struct cg_compiled *c,
		      struct cg_sockcfg *sc, char *err, size_t errlen);
int cg_policy_layers_check(const struct cg_policy *p, int have_lsm, int fail_open,
			   int *degraded, char *err, size_t errlen);

/* CG_WANT_* bits: which layers beyond the packet layer @p needs. */
unsigned cg_policy_wants(const struct cg_policy *p);

/* Counter index (within a slot) of rule @idx of direction @dir. */
uint16_t cg_rule_counter(const struct cg_policy *p, int dir, size_t idx);
/* Inverse: which rule a counter index counts. Returns 0 and fills dir/idx,
 * 1 for a default, 2 for the overflow bucket, -ENOENT if unused. */
int cg_counter_rule(const struct cg_policy *p, uint16_t ctr, int *dir,
		    size_t *idx);

#endif
