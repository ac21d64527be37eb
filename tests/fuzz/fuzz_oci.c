// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * libFuzzer harness: what the OCI hook reads from a container runtime.  The input is tried
 * as the state JSON on stdin (parse_state: id, status, bundle, pid, annotations) and as the
 * bundle's config.json (annotations and linux.cgroupsPath -> a cgroup path, every form).
 * The hook's own parsing functions are used as they are: this file includes oci_hook.c
 * rather than making its statics public.
 */
#define do_oci_hook fuzz_unused_do_oci_hook
#include "../../cmd/oci_hook.c"
#undef do_oci_hook

int json_output;
const char *prog_name = "cgguard";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char e[ERRLEN], cg[PATH_MAX];
	struct hook h;

	memset(&h, 0, sizeof(h));
	parse_state(&h, (const char *)data, size);
	jv_free(&h.state);

	memset(&h, 0, sizeof(h));
	if (!json_parse("config.json", (const char *)data, size, &h.config, e, sizeof(e))) {
		h.have_config = 1;
		if (!read_annotations(&h, &h.config, "config.json"))
			config_cgroup(&h, cg, sizeof(cg));
	}
	jv_free(&h.config);
	return 0;
}
