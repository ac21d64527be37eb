/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Large arrays (a policy file's text, its rules, the compiler's scratch and its entries) on
 * transparent huge pages.  On the small VMs cgguard runs on, a 4 KiB page fault costs
 * 15-35 us (touching 16 MB: ~120 ms here, against ~2-5 ms on huge pages), and applying a
 * 100,000-rule policy touches ~40 MB: more time than parsing and compiling it.
 */
#ifndef CGGUARD_BIGALLOC_H
#define CGGUARD_BIGALLOC_H

#include <stddef.h>

/*
 * malloc(@size), except that a large block is 2 MiB-aligned, a whole number of 2 MiB, and
 * advised MADV_HUGEPAGE, so every page of it is a huge page (where THP is off: ordinary
 * pages).  Either way an ordinary malloc block: free() it as usual.  Not zeroed.
 */
void *cg_big_alloc(size_t size);

/*
 * realloc() for blocks from cg_big_alloc (or malloc) holding @used bytes: a large result is
 * a new cg_big_alloc block (glibc would mremap() it and lose the alignment).  On failure
 * the old block is left as it was and NULL returned.
 */
void *cg_big_realloc(void *p, size_t used, size_t size);

#endif
