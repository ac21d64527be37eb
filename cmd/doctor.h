/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* cgguard doctor, split by topic. */
#ifndef CGGUARD_DOCTOR_H
#define CGGUARD_DOCTOR_H

#include <stddef.h>
#include "../lib/json.h"

/* Reports the pin tree as text (@j NULL) or as a JSON array; returns the
 * number of untrusted directories. */
int doctor_pins(struct json *j);
/* The number of untrusted directories in the pin tree. */
int doctor_pins_bad(void);

/* The BPF sysctls doctor reports (doctor_sysctl.c). */
struct doctor_sysctl {
	const char *name;
	const char *path;
	const char *recommended;
	int (*ok)(long long v);
	const char *(*meaning)(long long v, char *buf, size_t len);
};
#define DOCTOR_NSYSCTL	5
extern const struct doctor_sysctl doctor_sysctls[DOCTOR_NSYSCTL];
/* Reads a numeric sysctl: 0 or -errno. */
int doctor_read_sysctl(const char *path, long long *v);

#endif
