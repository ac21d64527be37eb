/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Kernel constants that older userspace headers lack (the values are
 * kernel ABI and never change): one copy for bpf/probe.c, cmd/ and
 * libcgguard.  Include after <linux/capability.h> and <sys/socket.h>.
 */
#ifndef CGGUARD_COMPAT_H
#define CGGUARD_COMPAT_H

#ifndef CAP_PERFMON
#define CAP_PERFMON	38
#endif
#ifndef CAP_BPF
#define CAP_BPF		39
#endif
#ifndef SO_ATTACH_BPF
#define SO_ATTACH_BPF	50
#endif
#ifndef SO_LOCK_FILTER
#define SO_LOCK_FILTER	44
#endif

#endif
