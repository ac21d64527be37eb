// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* cgguard ctl status|reload|list: talks to the daemon's control socket. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <json-c/json.h>
#include "../lib/unixconn.h"
#include "cgguard.h"
#include "../daemon/daemon.h"
#include "../lib/args.h"
#include "../lib/ctlclient.h"
#include "../sandbox/sandbox.h"

#define CTL_REPLY_MAX	(64u << 20)

static void usage(void)
{
	printf("Usage: %s ctl status|reload|list [--socket PATH] "
	       "[--timeout SEC] [--json]\n"
	       "       %s ctl --raw LINE [--socket PATH]\n"
	       "       %s ctl attach --cgroup PATH --policy NAME|FILE "
	       "[--fail closed|open] [--socket PATH]\n"
	       "       %s ctl detach --cgroup PATH [--socket PATH]\n\n"
	       "  status  daemon, config, policies with their last load result\n"
	       "          (a rejected file shows its file:line:col error),\n"
	       "          cgroups bound by rules, last reconcile\n"
	       "  reload  re-read the config and every policy file, reconcile\n"
	       "  list    guarded cgroups (like `cgguard list --json`)\n"
	       "  --raw   send LINE as the request, print the reply as is\n"
	       "          (for scripts and tests of the protocol)\n"
	       "  attach  (unprivileged callers) have the daemon guard a cgroup\n"
	       "          delegated to you, inside your subtree, with a policy your\n"
	       "          unprivileged: entry lists, or a policy FILE (files: true)\n"
	       "          that is passed to the daemon as an open fd\n"
	       "  detach  remove what such an attach put on your cgroup\n\n"
	       "The socket (default %s) serves root and its owner only;\n"
	       "attach and detach use the unprivileged socket ($CGGUARD_SOCKET,\n"
	       "default %s).  --socket takes an absolute path.\n",
	       prog_name, prog_name, prog_name, prog_name, CGD_SOCKET,
	       CGD_USOCKET);
}

static int ctl_connect(const char *path, int timeout_s)
{
	const char *step;
	int fd = cg_unix_connect(path, SOCK_STREAM, timeout_s, &step), e = -fd;

	if (fd >= 0)
		return fd;
	if (fd == -ENAMETOOLONG)
		fprintf(stderr, "%s ctl: socket path too long\n", prog_name);
	else if (!strcmp(step, "connect"))
		fprintf(stderr, "%s ctl: cannot connect to %s: %s%s\n",
			prog_name, path, strerror(e),
			e == ENOENT || e == ECONNREFUSED ? " (is the daemon "
			"running? see --socket)" : e == EACCES ? " (the "
			"socket serves root and its owner only)" : "");
	return fd;
}

/* Sends one request line and reads one line of reply (malloc'd). */
static int ctl_call(int fd, const char *req, char **reply)
{
	char *buf = NULL, *t;
	size_t len = 0, cap = 0;
	ssize_t n;

	int serr = 0;

	/* A refused peer gets its error and a closed socket: read it even
	 * if sending failed. */
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req) ||
	    send(fd, "\n", 1, MSG_NOSIGNAL) != 1)
		serr = -errno;
	for (;;) {
		if (len + 4096 > cap) {
			if (cap >= CTL_REPLY_MAX)
				break;
			t = realloc(buf, cap = cap ? 2 * cap : 65536);
			if (!t) {
				free(buf);
				return -ENOMEM;
			}
			buf = t;
		}
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
		if (memchr(buf + len - n, '\n', n))
			break;
	}
	if (!len) {
		free(buf);
		return serr ? serr : errno == EAGAIN ? -ETIMEDOUT : -ECONNRESET;
	}
	buf[len] = 0;
	*reply = buf;
	return 0;
}

static const char *jstr(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : "";
}

static int64_t jint(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v) : 0;
}

static void status_text(json_object *o)
{
	json_object *cfg = NULL, *pols = NULL, *bound = NULL, *rec = NULL;
	size_t i;

	json_object_object_get_ex(o, "config", &cfg);
	json_object_object_get_ex(o, "policies", &pols);
	json_object_object_get_ex(o, "bound", &bound);
	json_object_object_get_ex(o, "last_reconcile", &rec);
	printf("daemon pid %lld, up %lld s, metrics %s, socket %s\n",
	       (long long)jint(o, "pid"), (long long)jint(o, "uptime_s"),
	       jstr(o, "metrics"), jstr(o, "socket"));
	printf("config %s: %lld rule(s), %s%s%s\n", jstr(cfg, "file"),
	       (long long)jint(cfg, "rules"), jstr(cfg, "result"),
	       *jstr(cfg, "error") ? ": " : "", jstr(cfg, "error"));
	printf("policies (%s):\n", jstr(o, "policy_dir"));
	for (i = 0; pols && i < json_object_array_length(pols); i++) {
		json_object *p = json_object_array_get_idx(pols, i);

		printf("  %-16s %-7s %s  (loads: %lld ok, %lld error)\n",
		       jstr(p, "name"), jstr(p, "result"), jstr(p, "file"),
		       (long long)jint(p, "loads_ok"),
		       (long long)jint(p, "loads_error"));
		if (*jstr(p, "error"))
			printf("      %s\n", jstr(p, "error"));
	}
	printf("cgroups bound by rules: %lld\n", (long long)jint(o, "cgroups_bound"));
	for (i = 0; bound && i < json_object_array_length(bound); i++) {
		json_object *b = json_object_array_get_idx(bound, i);

		printf("  %-48s %s\n", jstr(b, "cgroup"), jstr(b, "policy"));
	}
	printf("last reconcile (%s): %s, %lld us; %lld attached, %lld adopted, "
	       "%lld re-attached, %lld removed, %lld failed\n", jstr(rec, "why"),
	       jstr(rec, "result"), (long long)jint(rec, "duration_us"),
	       (long long)jint(rec, "attached"), (long long)jint(rec, "adopted"),
	       (long long)jint(rec, "reattached"), (long long)jint(rec, "removed"),
	       (long long)jint(rec, "failed"));
	printf("attach failures since start: %lld\n",
	       (long long)jint(o, "attach_failures"));
}

/* Prints the reply; 0 if it reports success. */
static int show(const char *cmd, const char *reply)
{
	json_object *o = json_tokener_parse(reply), *v;
	int bad;

	if (!o) {
		fprintf(stderr, "%s ctl: the daemon sent no JSON: %.200s\n",
			prog_name, reply);
		return 1;
	}
	bad = json_object_is_type(o, json_type_object) &&
	      (json_object_object_get_ex(o, "error", &v) ||
	       (json_object_object_get_ex(o, "ok", &v) &&
		!json_object_get_boolean(v)));
	if (json_output)
		fputs(reply, stdout);
	else if (json_object_object_get_ex(o, "error", &v))
		fprintf(stderr, "%s ctl: %s\n", prog_name, json_object_get_string(v));
	else if (!strcmp(cmd, "status"))
		status_text(o);
	else
		printf("%s\n", json_object_to_json_string_ext(o,
		       JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return bad;
}

/* ctl attach|detach: the unprivileged socket, policy files as an fd. */
static int ctl_deleg(const char *cmd, const char *sock, const char *cgroup,
		     const char *pol, int fail_open)
{
	struct cg_policy *p = NULL;
	char perr[CG_ERR_MAX];
	int pfd = -1, err, degraded = 0;

	if (!cgroup || (!strcmp(cmd, "attach") != (pol != NULL))) {
		fprintf(stderr, "%s ctl %s: %s\n", prog_name, cmd,
			strcmp(cmd, "attach") ? "--cgroup is required (and "
			"takes no --policy)" : "--cgroup and --policy are "
			"required");
		return 2;
	}
	cg_clearerr();
	if (!strcmp(cmd, "detach")) {
		err = sb_ureq_detach(sock, cgroup);
		goto out;
	}
	if (cg_policy_is_path(pol)) {
		/* Opened with this user's permissions; the daemon reads the
		 * file only through this fd.  Checked here first, for an
		 * error that names the file. */
		pfd = open(pol, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (pfd < 0) {
			fprintf(stderr, "%s ctl: %s: %s\n", prog_name, pol,
				strerror(errno));
			return 1;
		}
		if (cg_policy_parse_fd(pfd, pol, &p, perr, sizeof(perr))) {
			fprintf(stderr, "%s ctl: %s\n", prog_name, perr);
			close(pfd);
			return 1;
		}
		cg_policy_free(p);
	}
	err = sb_ureq_attach(sock, cgroup, pol, pfd, fail_open, &degraded);
	if (pfd >= 0)
		close(pfd);
out:
	if (err) {
		fprintf(stderr, "%s ctl %s: %s\n", prog_name, cmd, cg_lasterr());
		return 1;
	}
	if (json_output) {
		struct json j;

		jw_init(&j, stdout);
		jw_obj_start(&j);
		jw_kbool(&j, "ok", 1);
		jw_kstr(&j, "cgroup", cgroup);
		jw_kbool(&j, "degraded", degraded);
		jw_obj_end(&j);
		putchar('\n');
	} else if (!strcmp(cmd, "attach"))
		printf("%s: guarded by the daemon on your behalf%s\n", cgroup,
		       degraded ? " (without its LSM part: no BPF LSM here)" : "");
	else
		printf("%s: detached\n", cgroup);
	return 0;
}

int do_ctl(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "raw", required_argument, NULL, 'r' },
		{ "cgroup", required_argument, NULL, 'c' },
		{ "policy", required_argument, NULL, 'p' },
		{ "fail", required_argument, NULL, 'f' },
		COMMON_LONGOPTS, { 0 } };
	const char *sock = NULL, *cmd = NULL, *raw = NULL;
	const char *cgroup = NULL, *pol = NULL;
	unsigned fail = 0;
	char *reply = NULL, req[64];
	const char *why;
	int opt, fd, err, timeout = 30;
	unsigned long secs;

	while ((opt = getopt_long(argc, argv, "s:t:r:c:p:f:jh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': cgroup = optarg; break;
		case 'p': pol = optarg; break;
		case 'f':
			if (parse_fail_mode(optarg, &fail))
				return 2;
			break;
		case 's':
			/* As daemon --socket: a relative path would name a
			 * different socket in every working directory. */
			if (cg_arg_abspath(optarg, &why)) {
				arg_error("ctl", "--socket", optarg, why);
				return 2;
			}
			sock = optarg;
			break;
		case 't':
			if (arg_ulong("ctl", "--timeout", optarg, 1, 3600, &secs))
				return 2;
			timeout = (int)secs;
			break;
		case 'r': raw = optarg; break;
		case 'j': json_output = 1; break;
		case 'h': usage(); return 0;
		default: usage(); return 2;
		}
	}
	if (!raw && optind + 1 == argc && (!strcmp(argv[optind], "attach") ||
					   !strcmp(argv[optind], "detach")))
		return ctl_deleg(argv[optind], sock ? sock :
				 secure_getenv("CGGUARD_SOCKET") &&
				 *secure_getenv("CGGUARD_SOCKET") ?
				 secure_getenv("CGGUARD_SOCKET") : CGD_USOCKET,
				 cgroup, pol, !!(fail & CG_ATTACH_FAIL_OPEN));
	if (cgroup || pol || fail) {
		usage();
		return 2;
	}
	if (!sock)
		sock = CGD_SOCKET;
	if (!raw && (optind + 1 != argc || (strcmp(argv[optind], "status") &&
	    strcmp(argv[optind], "reload") && strcmp(argv[optind], "list")))) {
		usage();
		return 2;
	}
	if (raw && (optind != argc || strchr(raw, '\n'))) {
		usage();
		return 2;
	}
	if (!raw) {
		cmd = argv[optind];
		snprintf(req, sizeof(req), "{\"cmd\":\"%s\"}", cmd);
	}
	fd = ctl_connect(sock, timeout);
	if (fd < 0)
		return 1;
	err = ctl_call(fd, raw ? raw : req, &reply);
	close(fd);
	if (err) {
		fprintf(stderr, "%s ctl: no reply from the daemon: %s\n",
			prog_name, strerror(-err));
		return 1;
	}
	if (raw) {
		fputs(reply, stdout);
		err = !!strstr(reply, "\"error\"");
	} else {
		err = show(cmd, reply);
	}
	free(reply);
	return err;
}
