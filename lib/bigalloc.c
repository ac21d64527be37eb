// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Huge-page-backed large blocks (see bigalloc.h).  glibc serves a large aligned_alloc from
 * its own anonymous mapping and free() unmaps it, so the blocks stay ordinary malloc blocks.
 * Advising only the aligned interior of a plain malloc block (what this did first) left the
 * partial 2 MiB at each end on 4 KiB pages: a third of a 4.5 MB policy text.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bigalloc.h"

#define HUGE_SZ		((size_t)2 << 20)
#define BIG_MIN		((size_t)256 << 10)	/* below this, 4 KiB pages cost little */

void *cg_big_alloc(size_t size)
{
	size_t len;
	void *p;

	if (size < BIG_MIN)
		return malloc(size ? size : 1);
	if (size > SIZE_MAX - HUGE_SZ)
		return NULL;
	len = (size + HUGE_SZ - 1) & ~(HUGE_SZ - 1);
	p = aligned_alloc(HUGE_SZ, len);
	/* Only a hint: failure (THP compiled out, say) leaves normal pages. */
	if (p)
		madvise(p, len, MADV_HUGEPAGE);
	return p;
}

void *cg_big_realloc(void *p, size_t used, size_t size)
{
	void *q;

	if (size < BIG_MIN)
		return realloc(p, size ? size : 1);
	q = cg_big_alloc(size);
	if (!q)
		return NULL;
	if (p)
		memcpy(q, p, used < size ? used : size);
	free(p);
	return q;
}
