// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Transparent huge pages for large malloc blocks (see bigalloc.h).  glibc serves such blocks
 * from their own anonymous mappings (or from the heap); advising the 2 MiB-aligned range
 * inside the block only changes how its pages are backed, so malloc and free are unaffected.
 * A block at a 4 KiB offset loses at most the partial huge pages at its two ends.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <sys/mman.h>

#include "bigalloc.h"

#define HUGE_SZ		((uintptr_t)2 << 20)
#define ADVISE_MIN	((size_t)4 << 20)

void cg_thp_advise(void *p, size_t size)
{
	uintptr_t start = ((uintptr_t)p + HUGE_SZ - 1) & ~(HUGE_SZ - 1);
	uintptr_t end = ((uintptr_t)p + size) & ~(HUGE_SZ - 1);

	if (!p || size < ADVISE_MIN || end <= start)
		return;
	/* Only a hint: failure (THP compiled out, say) leaves normal pages. */
	madvise((void *)start, end - start, MADV_HUGEPAGE);
}
