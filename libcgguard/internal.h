/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* libcgguard internals (not installed). */
#ifndef LIBCGGUARD_INTERNAL_H
#define LIBCGGUARD_INTERNAL_H

#include <stddef.h>
#include <linux/filter.h>

/* Records this thread's error detail (printf-style) and returns @err. */
int cgg_fail(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Compiles @policy's ingress rules to classic BPF: *prog is malloc'd. */
int cgg_classic_compile(const char *policy, struct sock_fprog *prog);
struct cg_policy;
int cgg_classic_compile_policy(const struct cg_policy *p,
			       struct sock_fprog *prog);
/* SO_LOCK_FILTER on a socket with a filter attached. */
int cgg_lock(int sockfd);
/* Compiles, attaches (SO_ATTACH_FILTER) and locks. */
int cgg_classic_attach(int sockfd, const char *policy);

#endif
