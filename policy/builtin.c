// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Built-in policies, loading policies from files and by name, and the
 * small name/format helpers the parser and the CLI share.
 *
 * Built-ins are kept as YAML text and go through the same parser as user
 * files, so there is exactly one code path that turns text into a policy
 * and the built-ins double as examples of the format.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Kernel ABI numbers, for libcs whose headers predate them. */
#ifndef AF_XDP
#define AF_XDP 44
#endif
#ifndef AF_MCTP
#define AF_MCTP 45
#endif

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

/* Canonical (first-listed) name per family; every value is < 64 so it fits
 * the deny_families bitmap (checked by the unit tests). */
static const struct {
	const char *name;
	int af;
} families[] = {
	{ "unix", AF_UNIX },		{ "inet", AF_INET },
	{ "ax25", AF_AX25 },		{ "ipx", AF_IPX },
	{ "appletalk", AF_APPLETALK },	{ "x25", AF_X25 },
	{ "inet6", AF_INET6 },		{ "key", AF_KEY },
	{ "netlink", AF_NETLINK },	{ "packet", AF_PACKET },
	{ "rds", AF_RDS },		{ "llc", AF_LLC },
	{ "ib", AF_IB },		{ "mpls", AF_MPLS },
	{ "can", AF_CAN },		{ "tipc", AF_TIPC },
	{ "bluetooth", AF_BLUETOOTH },	{ "isdn", AF_ISDN },
	{ "phonet", AF_PHONET },	{ "ieee802154", AF_IEEE802154 },
	{ "caif", AF_CAIF },		{ "alg", AF_ALG },
	{ "nfc", AF_NFC },		{ "vsock", AF_VSOCK },
	{ "kcm", AF_KCM },		{ "qipcrtr", AF_QIPCRTR },
	{ "smc", AF_SMC },		{ "xdp", AF_XDP },
	{ "mctp", AF_MCTP },
};

int cg_family_from_name(const char *name)
{
	size_t i;

	if (!name)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(families); i++)
		if (strcmp(name, families[i].name) == 0)
			return families[i].af;
	return -EINVAL;
}

const char *cg_family_name(int af)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(families); i++)
		if (families[i].af == af)
			return families[i].name;
	return NULL;
}

const char *cg_action_str(int action)
{
	switch (action) {
	case CG_ACT_ALLOW:
		return "allow";
	case CG_ACT_DENY:
		return "deny";
	default:
		return "?";
	}
}

const char *cg_proto_str(int proto)
{
	switch (proto) {
	case CG_PROTO_ANY:
		return "any";
	case CG_PROTO_ICMP:
		return "icmp";
	case CG_PROTO_TCP:
		return "tcp";
	case CG_PROTO_UDP:
		return "udp";
	default:
		return "?";
	}
}

/* snprintf at *off; keeps going (and stays NUL-terminated) once full so
 * the caller checks for truncation once at the end. */
static int __attribute__((format(printf, 4, 5)))
append(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off >= len)
		return -ENOSPC;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	*off += (size_t)n;
	return *off >= len ? -ENOSPC : 0;
}

/* "allow from 10.0.0.0/8 proto tcp ports 443,8000-8100".
 * Returns 0, or -ENOSPC with a truncated (still terminated) line. */
int cg_rule_format(const struct cg_rule *r, int dir, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	size_t off = 0;
	uint32_t i;
	int rc;

	if (!r || !buf || !len)
		return -EINVAL;
	buf[0] = '\0';
	if (!inet_ntop(r->family, r->addr, a, sizeof(a)))
		return -EINVAL;
	rc = append(buf, len, &off, "%s %s %s/%u proto %s",
		    cg_action_str(r->action),
		    dir == CG_DIR_INGRESS ? "from" : "to", a, r->prefixlen,
		    cg_proto_str(r->proto));
	for (i = 0; !rc && i < r->nports; i++) {
		rc = append(buf, len, &off, "%s%u", i ? "," : " ports ",
			    r->ports[i].lo);
		if (!rc && r->ports[i].hi != r->ports[i].lo)
			rc = append(buf, len, &off, "-%u", r->ports[i].hi);
	}
	return rc;
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

	buf = malloc(cap);
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

int cg_policy_parse_fd(int fd, const char *path, struct cg_policy **out, char *err,
		       size_t errlen)
{
	char *buf = NULL;
	struct stat st;
	size_t len = 0;
	int rc;

	rc = fstat(fd, &st) < 0 ? -errno : 0;
	if (rc)
		cg_policy_errf(err, errlen, rc, "%s: %s", path, strerror(-rc));
	else
		rc = check_file(path, &st, err, errlen);
	if (!rc) {
		rc = read_all(fd, (size_t)st.st_size, &buf, &len);
		if (rc)
			cg_policy_errf(err, errlen, rc, "%s: %s", path, rc == -EAGAIN ?
			     "file changed while being read" : strerror(-rc));
	}
	if (rc)
		return rc;
	rc = cg_policy_parse_buf(path, buf, len, out, err, errlen);
	free(buf);
	return rc;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool looks_like_path(const char *s)
{
	return strchr(s, '/') || ends_with(s, ".yaml") ||
	       ends_with(s, ".yml") || ends_with(s, ".json");
}

/*
 * A NAME becomes CG_POLICY_DIR/NAME.yaml, so only boring characters, and
 * no leading '.' so nothing hidden or dot-dot-like is ever looked up.
 */
static bool lookup_name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n >= CG_POLICY_NAME_MAX || s[0] == '.')
		return false;
	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' ||
		      ch == '-'))
			return false;
	}
	return true;
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

bool cg_policy_lookup_name_ok(const char *name)
{
	return lookup_name_ok(name);
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
	for (i = 0; cg_builtin_names[i]; i++)
		if (append(builtins, sizeof(builtins), &off, "%s%s",
			   i ? ", " : "", cg_builtin_names[i]))
			break;
	return cg_policy_errf(err, errlen, -ENOENT,
		    "unknown policy '%s': not a built-in (%s) and no %s",
		    name, builtins, path);
}

int cg_policy_load(const char *arg, struct cg_policy **out, char *err,
		   size_t errlen)
{
	char src[CG_POLICY_NAME_MAX + 16], t[CG_POLICY_NAME_MAX + 4];
	const char *text;

	if (!arg || !*arg || !out)
		return cg_policy_errf(err, errlen, -EINVAL, "no policy given");
	if (looks_like_path(arg))
		return cg_policy_parse_file(arg, out, err, errlen);
	text = cg_builtin_policy(arg);
	if (text) {
		snprintf(src, sizeof(src), "builtin:%s", arg);
		return cg_policy_parse_buf(src, text, strlen(text), out, err,
					   errlen);
	}
	if (!lookup_name_ok(arg))
		return cg_policy_errf(err, errlen, -EINVAL,
			    "invalid policy name '%s': use 1-%d of A-Z a-z 0-9 _ . - (no leading '.'), or give a path",
			    shown(arg, t, sizeof(t)), CG_POLICY_NAME_MAX - 1);
	return load_by_name(arg, out, err, errlen);
}
