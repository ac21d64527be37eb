/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Strict checks for values typed by people: command-line options and the scalars of the
 * daemon config.  One definition of "a number", "an address", "a cgroup name", so every
 * command refuses the same inputs with the same words.  Each returns 0 or -EINVAL, and on
 * -EINVAL sets *why to a short static phrase ("not a number", ...) for the caller's message.
 */
#ifndef CGGUARD_ARGS_H
#define CGGUARD_ARGS_H

#include <sys/socket.h>

/* Decimal digits only (no sign, space, or 0x), no overflow, within [min, max]. */
int cg_arg_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out,
		 const char **why);
/* "ADDR:PORT" or "[ADDR6]:PORT" with numeric addresses, port 0-65535 (0: any free one). */
int cg_arg_hostport(const char *s, struct sockaddr_storage *ss, int *v6, const char **why);
/* An absolute path (starts with '/') that does not climb with a ".." component. */
int cg_arg_abspath(const char *s, const char **why);
/* One path component for a new directory: not empty, ".", "..", no '/', printable, < 256. */
int cg_arg_dirname(const char *s, const char **why);

#endif
