// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Strict parsing of values people type (see args.h). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <netinet/in.h>

#include "args.h"

static int bad(const char **why, const char *what)
{
	if (why)
		*why = what;
	return -EINVAL;
}

int cg_arg_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out,
		 const char **why)
{
	unsigned long v = 0;
	const char *c;

	if (!s || !*s)
		return bad(why, "empty, not a number");
	for (c = s; *c; c++) {
		if (*c < '0' || *c > '9')
			return bad(why, "not a whole number (digits only)");
		if (v > (ULONG_MAX - (unsigned long)(*c - '0')) / 10)
			return bad(why, "out of range");
		v = v * 10 + (unsigned long)(*c - '0');
	}
	if (v < min || v > max)
		return bad(why, "out of range");
	*out = v;
	return 0;
}

int cg_arg_hostport(const char *s, struct sockaddr_storage *ss, int *v6, const char **why)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	const char *colon = s ? strrchr(s, ':') : NULL;
	char host[INET6_ADDRSTRLEN + 2];
	unsigned long port;
	size_t hl;

	if (!colon || colon == s)
		return bad(why, "expected ADDR:PORT or [ADDR6]:PORT");
	if (cg_arg_ulong(colon + 1, 0, 65535, &port, NULL))
		return bad(why, "the port must be a number from 0 to 65535");
	hl = (size_t)(colon - s);
	if (hl >= sizeof(host))
		return bad(why, "the address is too long");
	memcpy(host, s, hl);
	host[hl] = '\0';
	memset(ss, 0, sizeof(*ss));
	*v6 = host[0] == '[';
	if (*v6) {
		if (hl < 3 || host[hl - 1] != ']')
			return bad(why, "an IPv6 address goes in brackets: [ADDR6]:PORT");
		host[hl - 1] = '\0';
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((unsigned short)port);
		if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1)
			return bad(why, "not a numeric IPv6 address");
		return 0;
	}
	a4->sin_family = AF_INET;
	a4->sin_port = htons((unsigned short)port);
	if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
		return bad(why, "not a numeric IPv4 address (IPv6 goes in brackets)");
	return 0;
}

int cg_arg_abspath(const char *s, const char **why)
{
	size_t n = s ? strlen(s) : 0;

	if (!n)
		return bad(why, "empty");
	if (s[0] != '/')
		return bad(why, "not an absolute path");
	if (n >= PATH_MAX)
		return bad(why, "longer than PATH_MAX");
	if (strstr(s, "/../") || (n >= 3 && !strcmp(s + n - 3, "/..")))
		return bad(why, "contains a '..' component");
	return 0;
}

int cg_arg_dirname(const char *s, const char **why)
{
	const unsigned char *c;

	if (!s || !*s)
		return bad(why, "empty");
	if (!strcmp(s, ".") || !strcmp(s, ".."))
		return bad(why, "'.' and '..' are not names");
	if (strlen(s) > 255)
		return bad(why, "longer than 255 bytes");
	for (c = (const unsigned char *)s; *c; c++) {
		if (*c == '/')
			return bad(why, "one name, without '/'");
		if (*c < 0x20 || *c == 0x7f)
			return bad(why, "contains a control character");
	}
	return 0;
}
