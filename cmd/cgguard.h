/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Shared by the subcommands in cmd/: one do_<cmd>() per file. */
#ifndef CGGUARD_CMD_H
#define CGGUARD_CMD_H

#include <stdio.h>
#include <sys/types.h>
#include "../lib/json.h"
#include "../lib/err.h"
#include "../bpf/loader.h"

#define CG_VERSION "0.1.0"

extern int json_output;		/* --json given anywhere */
extern const char *prog_name;

int do_attach(int argc, char **argv);
int do_detach(int argc, char **argv);
int do_list(int argc, char **argv);
int do_stats(int argc, char **argv);
int do_run(int argc, char **argv);
int do_sandbox(int argc, char **argv);
int do_policy(int argc, char **argv);
int do_doctor(int argc, char **argv);
int do_gc(int argc, char **argv);
int do_upgrade(int argc, char **argv);
int do_daemon(int argc, char **argv);
int do_ctl(int argc, char **argv);
int do_oci_hook(int argc, char **argv);
int do_sockets(int argc, char **argv);
int do_monitor(int argc, char **argv);
int do_explain(int argc, char **argv);
int do_export(int argc, char **argv);

/* Prints "cgguard: CONTEXT: DETAIL" (detail from cg_lasterr or errno). */
int report(int err, const char *context);
/* Fails with a message naming the missing capabilities. */
int require_caps(const char *what);
/* The same, silently: 0 or -EPERM. */
int require_caps_quiet(void);
/* Parses --fail open|closed into CG_ATTACH_* flags. */
int parse_fail_mode(const char *s, unsigned *flags);
/*
 * Usage errors (the caller exits 2): "cgguard CMD: OPT 'ARG': WHY" on stderr, returns
 * -EINVAL.  arg_ulong() parses a strict decimal (lib/args.c) into [min, max];
 * no_more_args() refuses anything left after the options.
 */
int arg_error(const char *cmd, const char *opt, const char *arg, const char *why);
int arg_ulong(const char *cmd, const char *opt, const char *arg, unsigned long min,
	      unsigned long max, unsigned long *out);
int no_more_args(const char *cmd, int argc, char **argv);
/*
 * The whole getopt loop of a subcommand whose options are --json and
 * --help (json_only_opts) or those and a required --cgroup PATH
 * (cgroup_only_opts; a bad option prints the usage too), with nothing
 * after them.  0: go on; -ECANCELED: the usage was printed for --help
 * (exit 0); -EINVAL: a usage error, said on stderr (exit 2).
 */
int json_only_opts(const char *cmd, int argc, char **argv, void (*usage)(void));
int cgroup_only_opts(const char *cmd, int argc, char **argv,
		     void (*usage)(void), const char **cgpath);
/* Opens the pinned state, printing a precise error on failure. */
int open_guard(struct cg_guard **g, unsigned flags);
/* Prints what opening the pin tree had to repair (moved aside...). */
void warn_pin_repairs(const struct cg_guard *g);
/* Loads a policy by name or path, printing its error on failure. */
int load_policy(const char *name, struct cg_policy **p);
/* Prints the counters of one cgroup (text or JSON). */
void print_counters(struct json *j, struct cg_guard *g, __u64 cgid);
/* "pass", "drop", "audit": the JSON names of the CG_RES_* results. */
extern const char *const res_names[];
/* "KEY": {"packets": PKTS, "bytes": BYTES} */
void counts_json(struct json *j, const char *key, uint64_t pkts,
		 uint64_t bytes);
/* One counter set ("  DIR pass N pkts ..." or "DIR": {pass: ...}). */
void counters_text(const char *dir, const struct cg_counters *c);
void counters_json(struct json *j, const char *dir,
		   const struct cg_counters *c);
/* Socket-filter counters per (uid, policy) (sfstats.c); 0 if none. */
int print_sockfilter_stats(struct json *j, int quiet_if_none);
/* doctor's unprivileged-workloads section (doctor_unpriv.c). */
void doctor_unpriv(struct json *j);
/* Prints the per-rule hits of a slot. */
void print_rule_hits(struct json *j, const __u64 *hits, const char *source);
/* One row of those: counter @ctr of policy @p (NULL: numbers only) was
 * hit @pkts times. */
void print_rule_hit(struct json *j, const struct cg_policy *p, unsigned ctr,
		    uint64_t pkts);
/* Loads the policy a slot records (cg_slot_meta.source), quietly. */
int load_slot_policy(const char *source, struct cg_policy **p);
/* Text of per-rule counter @ctr of policy @p (NULL: the number only). */
void format_rule_counter(const struct cg_policy *p, uint16_t ctr, char *buf,
			 size_t len);
struct cg_kill_result;
/* attach --kill-denied (cmd/sockets.c): destroys the sockets of the tree
 * at @cgpath that @p denies; prints the count (text) or an error. */
int kill_denied(struct cg_guard *g, const char *cgpath,
		const struct cg_policy *p, struct cg_kill_result *kr);
/* The "kill_denied" member of attach --json. */
void print_kill_result(struct json *j, const struct cg_kill_result *kr);
/* Waits for a command run on the user's behalf, passing SIGINT and SIGTERM
 * on to it; returns its exit status (128 + signal if killed). */
int wait_forwarding(pid_t pid);
/* Handles --help/-h and --json in a subcommand's getopt loop. */
#define COMMON_LONGOPTS { "json", no_argument, NULL, 'j' }, \
			{ "help", no_argument, NULL, 'h' }
#endif
