// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* cgguard monitor [--cgroup PATH] [--verdict drop|audit|all] [--json]
 *                 [--count N] [--duration SEC] */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cgguard.h"
#include "../cgroup/cgroup.h"
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
		cg_evinfo_json(&j, &i);
	} else {
		cg_evinfo_text(stdout, &i);
	}
	putchar('\n');
	fflush(stdout);
	if (m->limited && !--m->left)
		return 1;	/* stops the poll */
	return 0;
}

static void usage(void)
{
	printf("Usage: %s monitor [--cgroup PATH] [--verdict drop|audit|all] "
	       "[--count N]\n          [--duration SEC] [--json]\n\n"
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
	       "events,\n--duration SEC after SEC seconds.\n", prog_name);
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

static int run(struct mon *m, double duration)
{
	struct cg_evreader *r = NULL;
	struct cg_guard *g;
	struct timespec t0, now;
	int err;

	if (open_guard(&g, CG_OPEN_RDONLY))
		return 1;
	err = cg_evdec_new(g, &m->dec);
	if (!err)
		err = cg_evreader_open(g, print_event, m, &r);
	if (err) {
		report(err, "monitor");
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!stop) {
		err = cg_evreader_poll(r, 100);
		if (err == -EINTR || (m->limited && !m->left))
			break;
		if (err < 0) {
			report(err, "reading events");
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (duration > 0 && now.tv_sec - t0.tv_sec +
		    (now.tv_nsec - t0.tv_nsec) / 1e9 >= duration)
			break;
	}
	err = err < 0 && err != -EINTR ? err : 0;
out:
	cg_evreader_close(r);
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
		COMMON_LONGOPTS, { 0 } };
	struct mon m = { .f.verdicts = CG_EVSEL_DROP | CG_EVSEL_AUDIT };
	unsigned long long secs = 0;
	struct sigaction sa = { .sa_handler = on_signal };
	struct cg_cgroup cg;
	int opt, err;

	while ((opt = getopt_long(argc, argv, "c:v:n:d:jh", opts, NULL)) != -1) {
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
	return run(&m, (double)secs);
}
