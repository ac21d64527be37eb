// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Built-in policies, and loading policies from files and by name (on top of parse.c).
 *
 * Built-ins are kept as YAML text and go through the same parser as user
 * files, so there is exactly one code path that turns text into a policy
 * and the built-ins double as examples of the format.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy.h"
#include "../lib/bigalloc.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Deny the cloud metadata endpoints (EC2/GCP/Azure IPv4, EC2 IPv6): the
 * classic SSRF-to-credentials path.  Raw and packet sockets are refused
 * because they let a process forge traffic past the per-address rules.
 */
static const char baseline_yaml[] =
	"policy: baseline\n"
	"mode: enforce\n"
	"egress:\n"
	"  default: allow\n"
	"  rules:\n"
	"    - { action: deny, to: 169.254.169.254/32 }\n"
	"    - { action: deny, to: \"fd00:ec2::254/128\" }\n"
	"ingress:\n"
	"  default: allow\n"
	"sockets:\n"
	"  raw: deny\n"
	"  # Only BPF LSM sees AF_PACKET: where the kernel lacks it, baseline\n"
	"  # still applies (and says so) rather than refusing every container.\n"
	"  families: { deny: [packet], if_unavailable: warn }\n";

const char *const cg_builtin_names[] = { "baseline", NULL };
static const char *const builtin_text[] = { baseline_yaml };

_Static_assert(ARRAY_SIZE(builtin_text) + 1 == ARRAY_SIZE(cg_builtin_names),
	       "every built-in name needs its text");

const char *cg_builtin_policy(const char *name)
{
	size_t i;

	if (!name)
		return NULL;
	for (i = 0; i < ARRAY_SIZE(builtin_text); i++)
		if (strcmp(name, cg_builtin_names[i]) == 0)
			return builtin_text[i];
	return NULL;
}

/*
 * Read a whole regular file of known size.  We ask for one byte more than fstat promised so
 * a file that grows under us is noticed instead of being silently truncated.
 */
static int read_all(int fd, size_t size, char **out, size_t *outlen)
{
	size_t len = 0, cap = size + 1;
	char *buf;
	ssize_t n;

	buf = cg_big_alloc(cap);
	if (!buf)
		return -ENOMEM;
	while (len < cap) {
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			n = -errno;
			free(buf);
			return (int)n;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > size) {
		free(buf);
		return -EAGAIN;
	}
	*out = buf;
	*outlen = len;
	return 0;
}

static int check_file(const char *path, const struct stat *st, char *err, size_t errlen)
{
	if (S_ISDIR(st->st_mode))
		return cg_policy_errf(err, errlen, -EINVAL, "%s: is a directory, not a policy file", path);
	if (!S_ISREG(st->st_mode))
		return cg_policy_errf(err, errlen, -EINVAL, "%s: not a regular file", path);
	if ((uintmax_t)st->st_size > CG_POLICY_FILE_MAX)
		return cg_policy_errf(err, errlen, -EINVAL,
			    "%s: file is %jd bytes; policy files are limited to %u MiB", path,
			    (intmax_t)st->st_size, CG_POLICY_FILE_MAX >> 20);
	return 0;
}

int cg_policy_parse_fd(int fd, const char *source, struct cg_policy **out,
		       char *err, size_t errlen)
{
	char *buf = NULL;
	struct stat st;
	size_t len = 0;
	int rc;

	rc = fstat(fd, &st) < 0 ? -errno : 0;
	if (rc)
		cg_policy_errf(err, errlen, rc, "%s: %s", source, strerror(-rc));
	else
		rc = check_file(source, &st, err, errlen);
	if (!rc) {
		/* From the start, whatever the fd's offset (a passed fd). */
		rc = lseek(fd, 0, SEEK_SET) < 0 ? -errno : 0;
		if (!rc)
			rc = read_all(fd, (size_t)st.st_size, &buf, &len);
		if (rc)
			cg_policy_errf(err, errlen, rc, "%s: %s", source, rc == -EAGAIN ?
			     "file changed while being read" : strerror(-rc));
	}
	if (rc)
		return rc;
	rc = cg_policy_parse_buf(source, buf, len, out, err, errlen);
	free(buf);
	return rc;
}

int cg_policy_parse_file(const char *path, struct cg_policy **out, char *err, size_t errlen)
{
	int fd, rc;

	if (!path || !out)
		return cg_policy_errf(err, errlen, -EINVAL, "no policy file given");
	/* O_NONBLOCK: opening a FIFO would otherwise hang waiting for a writer before fstat
	 * could tell us to refuse it.  It has no effect on regular files. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		rc = -errno;
		return cg_policy_errf(err, errlen, rc, "%s: %s", path, strerror(-rc));
	}
	rc = cg_policy_parse_fd(fd, path, out, err, errlen);
	close(fd);
	return rc;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

bool cg_policy_is_path(const char *s)
{
	return strchr(s, '/') || ends_with(s, ".yaml") ||
	       ends_with(s, ".yml") || ends_with(s, ".json");
}

/* Bounded, control-character-free copy of user input for messages. */
static const char *shown(const char *s, char *buf, size_t size)
{
	size_t i;

	for (i = 0; s[i] && i + 4 < size; i++)
		buf[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	if (s[i])
		memcpy(buf + i, "...", 3), i += 3;
	buf[i] = '\0';
	return buf;
}

static int load_by_name(const char *name, struct cg_policy **out, char *err,
			size_t errlen)
{
	char path[sizeof(CG_POLICY_DIR) + CG_POLICY_NAME_MAX + 8];
	char builtins[128] = "";
	size_t i, off = 0;
	int rc;

	snprintf(path, sizeof(path), "%s/%s.yaml", CG_POLICY_DIR, name);
	rc = cg_policy_parse_file(path, out, err, errlen);
	if (rc != -ENOENT)
		return rc;
	for (i = 0; cg_builtin_names[i] && off < sizeof(builtins); i++)
		off += (size_t)snprintf(builtins + off, sizeof(builtins) - off, "%s%s",
					i ? ", " : "", cg_builtin_names[i]);
	return cg_policy_errf(err, errlen, -ENOENT,
		    "unknown policy '%s': not a built-in (%s) and no %s",
		    name, builtins, path);
}

int cg_policy_load(const char *arg, struct cg_policy **out, char *err,
		   size_t errlen)
{
	char src[CG_POLICY_NAME_MAX + 16], t[CG_POLICY_NAME_MAX + 4];
	const char *text, *why;

	if (!arg || !*arg || !out)
		return cg_policy_errf(err, errlen, -EINVAL, "no policy given");
	if (cg_policy_is_path(arg))
		return cg_policy_parse_file(arg, out, err, errlen);
	text = cg_builtin_policy(arg);
	if (text) {
		snprintf(src, sizeof(src), "builtin:%s", arg);
		return cg_policy_parse_buf(src, text, strlen(text), out, err,
					   errlen);
	}
	why = cg_policy_name_problem(arg);
	if (why)
		return cg_policy_errf(err, errlen, -EINVAL,
			    "invalid policy name '%s': %s (or give a path to a file)",
			    shown(arg, t, sizeof(t)), why);
	return load_by_name(arg, out, err, errlen);
}
