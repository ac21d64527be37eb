/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Large arrays (a policy file's text, its rules, its compiled entries) on transparent huge
 * pages.  On the small VMs cgguard runs on, a 4 KiB page fault costs 15-30 us, and applying
 * a 100,000-rule policy touches ~25 MB: 6,000 faults, more time than parsing and compiling
 * it.  With huge pages that is a few dozen faults.
 */
#ifndef CGGUARD_BIGALLOC_H
#define CGGUARD_BIGALLOC_H

#include <stddef.h>

/*
 * Call on a malloc'd block of @size bytes before writing to it (again after a realloc that
 * grew it): the 2 MiB-aligned part of it is advised MADV_HUGEPAGE.  The block stays an
 * ordinary malloc block (free() it as usual).  Blocks under 4 MiB are left alone; where THP
 * is off this is a no-op.
 */
void cg_thp_advise(void *p, size_t size);

#endif
