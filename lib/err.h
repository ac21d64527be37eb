/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Error detail for library code.  Functions return 0 or -errno; when they
 * have something more precise to say than strerror(), they record it here
 * and the CLI prints it.  Library code never prints or exits.
 */
#ifndef CGGUARD_ERR_H
#define CGGUARD_ERR_H

#include <stddef.h>

/* Records a message (printf-style) and returns @err (a negative errno). */
int cg_seterr(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The last recorded message, or "" if none. */
const char *cg_lasterr(void);
void cg_clearerr(void);
/* Explains an EPERM from bpf(): which capability or sysctl is missing. */
const char *cg_eperm_hint(void);

#endif
