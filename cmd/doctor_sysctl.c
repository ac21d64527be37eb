// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* cgguard doctor: the BPF sysctls it reports, what each value means and
 * which are recommended. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "doctor.h"

static int ok_unpriv(long long v) { return v == 1 || v == 2; }
static int ok_jit(long long v) { return v == 1; }
static int ok_harden(long long v) { return v == 1 || v == 2; }
static int ok_kallsyms(long long v) { return v == 0; }
static int ok_limit(long long v) { return v > 0; }

static const char *m_unpriv(long long v, char *b, size_t n)
{
	const char *tail = "; classic BPF (SO_ATTACH_FILTER) still works, "
		"and so do eBPF filters a privileged cgguard hands out by fd";

	if (v == 0)
		snprintf(b, n, "unprivileged users may load eBPF socket filters"
			 " (more kernel attack surface)");
	else if (v == 1)
		snprintf(b, n, "unprivileged eBPF disabled until reboot (cannot "
			 "be set back to 0)%s", tail);
	else if (v == 2)
		snprintf(b, n, "unprivileged eBPF disabled (an admin may set it "
			 "back to 0)%s", tail);
	else
		snprintf(b, n, "unknown value");
	return b;
}

static const char *m_jit(long long v, char *b, size_t n)
{
	if (v == 0)
		snprintf(b, n, "JIT off: programs run in the interpreter (slow;"
			 " kernels with CONFIG_BPF_JIT_ALWAYS_ON refuse this)");
	else if (v == 1)
		snprintf(b, n, "JIT on (needed for cgguard's speed targets)");
	else if (v == 2)
		snprintf(b, n, "JIT on with debug dumps to the kernel log "
			 "(debugging only: leaks JIT images)");
	else
		snprintf(b, n, "unknown value");
	return b;
}

static const char *m_harden(long long v, char *b, size_t n)
{
	if (v == 0)
		snprintf(b, n, "no JIT constant blinding");
	else if (v == 1)
		snprintf(b, n, "constant blinding for unprivileged programs "
			 "only");
	else if (v == 2)
		snprintf(b, n, "constant blinding for all programs (hardened; "
			 "costs some speed)");
	else
		snprintf(b, n, "unknown value");
	return b;
}

static const char *m_kallsyms(long long v, char *b, size_t n)
{
	if (v == 0)
		snprintf(b, n, "JIT images are not listed in /proc/kallsyms");
	else if (v == 1)
		snprintf(b, n, "JIT images listed in /proc/kallsyms for root "
			 "(helps perf/bpftool; exposes kernel addresses; off "
			 "while bpf_jit_harden > 0)");
	else
		snprintf(b, n, "unknown value");
	return b;
}

static const char *m_limit(long long v, char *b, size_t n)
{
	snprintf(b, n, "%lld MiB of JIT memory; caps what unprivileged "
		 "programs may use (privileged ones may exceed it)", v >> 20);
	return b;
}

const struct doctor_sysctl doctor_sysctls[DOCTOR_NSYSCTL] = {
	{ "kernel.unprivileged_bpf_disabled",
	  "/proc/sys/kernel/unprivileged_bpf_disabled",
	  "2 (or 1: disabled until reboot)", ok_unpriv, m_unpriv },
	{ "net.core.bpf_jit_enable", "/proc/sys/net/core/bpf_jit_enable",
	  "1 (2 is for debugging)", ok_jit, m_jit },
	{ "net.core.bpf_jit_harden", "/proc/sys/net/core/bpf_jit_harden",
	  "2 (blind constants of all programs; or 1: unprivileged only)",
	  ok_harden, m_harden },
	{ "net.core.bpf_jit_kallsyms", "/proc/sys/net/core/bpf_jit_kallsyms",
	  "0 if kernel symbols must not be exposed (1 helps perf/bpftool)",
	  ok_kallsyms, m_kallsyms },
	{ "net.core.bpf_jit_limit", "/proc/sys/net/core/bpf_jit_limit",
	  "the kernel default (any non-zero cap)", ok_limit,
	  m_limit },
};

int doctor_read_sysctl(const char *path, long long *v)
{
	char buf[64];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n > 0 ? n : 0] = '\0';
	*v = strtoll(buf, NULL, 10);
	return n > 0 ? 0 : -EIO;
}
