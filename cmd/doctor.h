/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* cgguard doctor, split by topic. */
#ifndef CGGUARD_DOCTOR_H
#define CGGUARD_DOCTOR_H

#include "../lib/json.h"

/* Reports the pin tree as text (@j NULL) or as a JSON array; returns the
 * number of untrusted directories. */
int doctor_pins(struct json *j);
/* The number of untrusted directories in the pin tree. */
int doctor_pins_bad(void);

#endif
