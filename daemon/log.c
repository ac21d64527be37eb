// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Daemon logging: one line per message on stderr.  Under systemd (stderr
 * is the journal stream named by $JOURNAL_STREAM) each line starts with
 * the kernel-style "<N>" priority prefix, so journald records the level
 * itself; on a terminal or a pipe the line carries a timestamp and the
 * level as a word instead.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/stat.h>
#include "daemon.h"

int cgd_log_level = CGD_INFO;
static int journal;

void cgd_log_init(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	journal = js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 &&
		  !fstat(2, &st) && st.st_dev == dev && st.st_ino == ino;
	setvbuf(stderr, NULL, _IOLBF, 0);
}

static const char *level_word(int level)
{
	switch (level) {
	case CGD_ERR: return "error";
	case CGD_WARN: return "warning";
	case CGD_INFO: return "info";
	default: return "debug";
	}
}

int cgd_log_level_parse(const char *s)
{
	static const int lv[] = { CGD_ERR, CGD_WARN, CGD_INFO, CGD_DEBUG };
	size_t i;

	if (!strcasecmp(s, "warn"))
		return CGD_WARN;
	for (i = 0; i < sizeof(lv) / sizeof(lv[0]); i++)
		if (!strcasecmp(s, level_word(lv[i])))
			return lv[i];
	return -1;
}

void cgd_log(int level, const char *fmt, ...)
{
	char msg[2048], ts[32];
	struct timespec now;
	struct tm tm;
	va_list ap;

	if (level > cgd_log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (journal) {
		fprintf(stderr, "<%d>%s\n", level, msg);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	localtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ld cgguard[daemon] %s: %s\n", ts,
		now.tv_nsec / 1000000, level_word(level), msg);
}
