// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Names and formats shared by the policy parser, the loaders and the CLI: address families,
 * actions, protocols, a rule as one line of text, and the error formatter.  The bottom of
 * policy/: it uses nothing else in it (parse.c builds on it, builtin.c on both).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "policy.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Kernel ABI numbers, for libcs whose headers predate them. */
#ifndef AF_XDP
#define AF_XDP 44
#endif
#ifndef AF_MCTP
#define AF_MCTP 45
#endif

/* Error without a position (problems with the input as a whole). */
int cg_policy_errf(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

const char *cg_policy_name_problem(const char *s)
{
	size_t i, n = s ? strlen(s) : 0;

	if (!n)
		return "it is empty";
	if (n >= CG_POLICY_NAME_MAX)
		return "longer than 63 characters";
	/* Names become file names (DIR/NAME.yaml): nothing hidden, no "." or "..". */
	if (s[0] == '.')
		return "it starts with '.'";
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return "use only A-Z a-z 0-9 _ . -";
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
