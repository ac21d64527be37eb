/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * cgguard's own USDT probes (provider "cgguard"), documented with their
 * arguments in docs/usdt.md.  A probe is a nop in the instruction stream
 * plus an ELF note: free when nobody traces it, listed by
 * `bpftrace -l 'usdt:/path/to/cgguard:*'`.
 */
#ifndef CGGUARD_USDT_H
#define CGGUARD_USDT_H

#include <stdint.h>
#include <time.h>
#define SDT_USE_VARIADIC 1
#include <sys/sdt.h>

#define CG_USDT(name, ...)	STAP_PROBEV(cgguard, name, ##__VA_ARGS__)

/* CLOCK_MONOTONIC in ns: probe durations. */
static inline uint64_t cg_usdt_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

#endif
