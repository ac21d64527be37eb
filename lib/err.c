// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <stdarg.h>
#include <stdio.h>
#include "err.h"

static __thread char errbuf[1024];

int cg_seterr(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
	return err;
}

const char *cg_lasterr(void)
{
	return errbuf;
}

void cg_clearerr(void)
{
	errbuf[0] = '\0';
}

const char *cg_eperm_hint(void)
{
	return "needs CAP_BPF and CAP_NET_ADMIN (or CAP_SYS_ADMIN) in the "
	       "initial user namespace; run as root";
}
