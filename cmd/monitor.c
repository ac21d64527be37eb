// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* cgguard monitor [--cgroup PATH] [--verdict drop|audit|all] [--json]
 *                 [--count N] [--duration SEC] */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <json-c/json.h>
#include "cgguard.h"
#include "../cgroup/cgroup.h"
#include "../daemon/daemon.h"
#include "../events/events.h"

struct mon {
	struct cg_evfilter f;
	struct cg_evdec *dec;
	unsigned long long left;	/* events still to print; 0: no limit */
	int limited;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int print_event(void *ctx, const void *e, size_t len)
{
	struct mon *m = ctx;
	struct cg_evinfo i;
	struct json j;

	if (!cg_evfilter_match(&m->f, e, len) ||
	    cg_evdec_decode(m->dec, e, len, &i))
		return 0;
	if (json_output) {
		jw_init(&j, stdout);
		cg_evinfo_json(&j, &i);	/* ends the line */
	} else {
		cg_evinfo_text(stdout, &i);
		putchar('\n');
	}
	fflush(stdout);
	if (m->limited && !--m->left)
		return 1;	/* stops the poll */
	return 0;
}

static void usage(void)
{
	printf("Usage: %s monitor [--cgroup PATH] [--verdict drop|audit|all] "
	       "[--count N]\n          [--duration SEC] [--socket PATH] "
	       "[--json]\n\n"
	       "Streams an event for every denial, audit-mode would-be denial "
	       "and LSM kill,\nas it happens: time, cgroup, policy, layer, "
	       "direction, verdict, the rule that\ndecided (file:line), "
	       "protocol, addresses and ports, pid and command.\n"
	       "--cgroup keeps events of that cgroup (guarded, or the socket's "
	       "own); --verdict\ndrop keeps drops and kills, audit the audit-"
	       "mode ones (default all).\nEvents are rate-limited per cgroup "
	       "in the kernel (policy `events:`); counters\nin `cgguard stats` "
	       "are the truth (events.suppressed, events.lost).\n"
	       "--json prints one object per line.  --count N stops after N "
	       "events,\n--duration SEC after SEC seconds.\n"
	       "Needs no daemon: it reads the pinned ring buffer (one reader "
	       "at a time).  With\nthe daemon running it reads through the "
	       "daemon's control socket (--socket,\ndefault %s), so any "
	       "number of monitors can watch at once.\n", prog_name,
	       CGD_SOCKET);
}

static int parse_verdict(const char *s, unsigned *v)
{
	if (!strcmp(s, "drop"))
		*v = CG_EVSEL_DROP;
	else if (!strcmp(s, "audit"))
		*v = CG_EVSEL_AUDIT;
	else if (!strcmp(s, "all"))
		*v = CG_EVSEL_DROP | CG_EVSEL_AUDIT;
	else
		return -EINVAL;
	return 0;
}

static int parse_num(const char *s, unsigned long long max,
		     unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || *end || !*s || *s == '-' || !*out || *out > max ?
	       -EINVAL : 0;
}

static struct timespec t0;

static int expired(double duration)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return duration > 0 && now.tv_sec - t0.tv_sec +
	       (now.tv_nsec - t0.tv_nsec) / 1e9 >= duration;
}

/* ---- through the daemon's control socket ---------------------------------- */

/* Connected socket of a running daemon, or -1 (none: read directly). */
static int daemon_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static const char req[] = "{\"cmd\":\"monitor\"}\n";
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) != sizeof(req) - 1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One line from the daemon: the greeting, an event, or a drop count. */
static int daemon_line(struct mon *m, const char *line)
{
	json_object *o = json_tokener_parse(line), *v;
	unsigned char ev[256];
	size_t len;
	int ret = 0;

	if (!o)
		return 0;
	if (json_object_object_get_ex(o, "event", &v) &&
	    !cg_ev_unhex(json_object_get_string(v), ev, sizeof(ev), &len))
		ret = print_event(m, ev, len);
	else if (json_object_object_get_ex(o, "dropped", &v))
		fprintf(stderr, "%s: monitor: %lld events missed (this monitor "
			"fell behind the daemon)\n", prog_name,
			(long long)json_object_get_int64(v));
	else if (json_object_object_get_ex(o, "error", &v)) {
		fprintf(stderr, "%s: monitor: daemon: %s\n", prog_name,
			json_object_get_string(v));
		ret = -EPROTO;
	}
	json_object_put(o);
	return ret;
}

static int via_daemon(struct mon *m, int fd, double duration)
{
	char buf[8192], *nl;
	size_t have = 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;
	int r = 0;

	while (!stop && !r && !expired(duration)) {
		if (poll(&p, 1, 100) <= 0)
			continue;
		n = recv(fd, buf + have, sizeof(buf) - 1 - have, 0);
		if (n <= 0) {
			fprintf(stderr, "%s: monitor: the daemon closed the "
				"connection\n", prog_name);
			return -ECONNRESET;
		}
		have += n;
		buf[have] = 0;
		while (!r && (nl = strchr(buf, '\n'))) {
			*nl = 0;
			r = daemon_line(m, buf);
			have -= nl + 1 - buf;
			memmove(buf, nl + 1, have + 1);
		}
		if (have == sizeof(buf) - 1)
			have = 0;	/* no line is this long: resync */
	}
	return r < 0 ? r : 0;
}

/* ---- directly from the ring buffer ---------------------------------------- */

static int direct(struct mon *m, struct cg_guard *g, double duration)
{
	struct cg_evreader *r = NULL;
	int err;

	cg_clearerr();
	err = cg_evreader_open(g->map_fd[CG_MAP_EVENTS], print_event, m, &r);
	if (err)
		return report(err, "monitor"), err;
	while (!stop && !expired(duration)) {
		err = cg_evreader_poll(r, 100);
		if (err == -EINTR || (m->limited && !m->left))
			break;
		if (err < 0) {
			report(err, "reading events");
			break;
		}
	}
	cg_evreader_close(r);
	return err < 0 && err != -EINTR ? err : 0;
}

static int run(struct mon *m, const char *sock, double duration)
{
	struct cg_guard *g;
	int err, fd;

	if (open_guard(&g, CG_OPEN_RDONLY))
		return 1;
	cg_guard_unlock(g);	/* a monitor must not hold off attaches */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	err = cg_evdec_new(g, &m->dec);
	fd = err ? -1 : daemon_connect(sock);
	if (!err && fd >= 0) {
		err = via_daemon(m, fd, duration);
		close(fd);
	} else if (!err) {
		err = direct(m, g, duration);
	}
	cg_evdec_free(m->dec);
	cg_guard_close(g);
	return err ? 1 : 0;
}

int do_monitor(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cgroup", required_argument, NULL, 'c' },
		{ "verdict", required_argument, NULL, 'v' },
		{ "count", required_argument, NULL, 'n' },
		{ "duration", required_argument, NULL, 'd' },
		{ "socket", required_argument, NULL, 's' },
		COMMON_LONGOPTS, { 0 } };
	struct mon m = { .f.verdicts = CG_EVSEL_DROP | CG_EVSEL_AUDIT };
	unsigned long long secs = 0;
	const char *sock = CGD_SOCKET;
	struct sigaction sa = { .sa_handler = on_signal };
	struct cg_cgroup cg;
	int opt, err;

	while ((opt = getopt_long(argc, argv, "c:v:n:d:s:jh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			cg_clearerr();
			err = cg_cgroup_resolve(optarg, &cg);
			if (err)
				return report(err, "monitor");
			m.f.cgid = cg.id;
			break;
		case 'v':
			if (parse_verdict(optarg, &m.f.verdicts)) {
				fprintf(stderr, "%s: monitor: --verdict must be "
					"drop, audit or all, not '%s'\n",
					prog_name, optarg);
				return 2;
			}
			break;
		case 'n':
			if (parse_num(optarg, 1ULL << 40, &m.left)) {
				fprintf(stderr, "%s: monitor: --count must be a "
					"positive number, not '%s'\n",
					prog_name, optarg);
				return 2;
			}
			m.limited = 1;
			break;
		case 'd':
			if (parse_num(optarg, 86400 * 366, &secs)) {
				fprintf(stderr, "%s: monitor: --duration must be "
					"1..31622400 seconds, not '%s'\n",
					prog_name, optarg);
				return 2;
			}
			break;
		case 's': sock = optarg; break;
		case 'j': json_output = 1; break;
		case 'h': usage(); return 0;
		default: return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "%s: monitor: unexpected argument '%s'\n",
			prog_name, argv[optind]);
		return 2;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	return run(&m, sock, (double)secs);
}
