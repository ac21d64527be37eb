/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * cgguard policy model: what a policy file says, after parsing and before
 * compilation.  The parser (parse.c) fills it from YAML/JSON, the compiler
 * (compile.c) turns it into the lookup entries the BPF programs use.
 *
 * All functions return 0 or a negative errno; on a policy error they return
 * -EINVAL and write "file:line:col: what is wrong" into the caller's buffer.
 */
#ifndef CGGUARD_POLICY_H
#define CGGUARD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CG_POLICY_NAME_MAX	64
#define CG_ERR_MAX		512
/* Largest policy file we accept; bigger files are refused, not truncated. */
#define CG_POLICY_FILE_MAX	(64u << 20)
/* Directory searched for `--policy NAME` when NAME is not built in. */
#define CG_POLICY_DIR		"/etc/cgguard/policies"

enum cg_action {
	CG_ACT_ALLOW = 0,
	CG_ACT_DENY = 1,
};

enum cg_mode {
	CG_MODE_ENFORCE = 0,
	CG_MODE_AUDIT = 1,
};

enum cg_violation {
	CG_VIOL_BLOCK = 0,	/* return EPERM / drop (default) */
	CG_VIOL_KILL = 1,	/* LSM layer: SIGKILL the offender */
};

/* Rule protocols; values are the IP protocol numbers where one exists.
 * CG_PROTO_ICMP means ICMP for IPv4 rules and ICMPv6 for IPv6 rules. */
enum cg_proto {
	CG_PROTO_ANY = 0,
	CG_PROTO_ICMP = 1,
	CG_PROTO_TCP = 6,
	CG_PROTO_UDP = 17,
};

enum cg_dir {
	CG_DIR_EGRESS = 0,
	CG_DIR_INGRESS = 1,
	CG_DIR_MAX = 2,
};

struct cg_port_range {
	uint16_t lo;	/* inclusive, 1..65535 */
	uint16_t hi;	/* inclusive, lo <= hi */
};

struct cg_rule {
	uint8_t action;		/* enum cg_action */
	uint8_t family;		/* AF_INET or AF_INET6 (IPv4-mapped is AF_INET) */
	uint8_t prefixlen;	/* 0..32 or 0..128; host bits are zero */
	uint8_t proto;		/* enum cg_proto */
	uint8_t addr[16];	/* network byte order; IPv4 in addr[0..3] */
	uint32_t nports;	/* 0: any port */
	struct cg_port_range *ports;
	int line, col;		/* where the rule starts in the source */
};

struct cg_direction {
	uint8_t default_action;	/* enum cg_action; allow when omitted */
	size_t nrules;
	struct cg_rule *rules;
};

/* `sockets:` section.  Enforced by the socket and LSM layers. */
struct cg_sockets {
	int8_t raw;			/* -1 unset, else enum cg_action */
	uint64_t deny_families;		/* bit N set: AF N denied */
	/* families.if_unavailable: warn (1) applies the policy without the
	 * family denial where no layer can enforce it; refuse (0) does not. */
	uint8_t families_best_effort;
	uint8_t bind_default;		/* enum cg_action */
	uint32_t nbind_allow, nbind_deny;
	struct cg_port_range *bind_allow;
	struct cg_port_range *bind_deny;
	int present;			/* the file had a sockets: section */
};

#define CG_EVENTS_RATE_DEFAULT	100
#define CG_EVENTS_BURST_DEFAULT	200
/* `events:` section: the per-cgroup token bucket of denial events. */
struct cg_events_cfg {
	uint32_t rate;			/* events per second (default 100) */
	uint32_t burst;			/* bucket size (default 200) */
	uint32_t off;			/* events: off */
};

struct cg_policy {
	char name[CG_POLICY_NAME_MAX];
	char source[256];		/* file name or "builtin:NAME" */
	uint8_t mode;			/* enum cg_mode */
	uint8_t on_violation;		/* enum cg_violation */
	struct cg_direction dir[CG_DIR_MAX];
	struct cg_sockets sockets;
	struct cg_events_cfg events;
};

/* Parse a policy from memory; `source` names it in error messages. */
int cg_policy_parse_buf(const char *source, const char *buf, size_t len,
			struct cg_policy **out, char *err, size_t errlen);
/* Parse a policy file (size-checked, must be a regular file). */
int cg_policy_parse_file(const char *path, struct cg_policy **out,
			 char *err, size_t errlen);
/* Parse a policy from an open file (a regular file, size-checked, read
 * from offset 0 through @fd only); `source` names it in errors. */
int cg_policy_parse_fd(int fd, const char *source, struct cg_policy **out,
		       char *err, size_t errlen);
/* 1 if cg_policy_load() takes @arg for a file path rather than a name. */
bool cg_policy_is_path(const char *arg);
/*
 * Loads a policy named by someone the caller does not trust (the OCI hook:
 * an annotation of a container): a built-in, a NAME found as NAME.yaml in
 * one of @dirs, or an absolute path below one of @dirs.  Nothing else is
 * opened.  Every component below the directory is opened with O_NOFOLLOW
 * ("." and ".." are refused), and the fd is checked: a directory or file
 * owned by root and not writable by group or others, a regular file of at
 * most CG_POLICY_FILE_MAX bytes, read through that same fd.
 */
int cg_policy_load_beneath(const char *arg, const char *const *dirs,
			   int ndirs, struct cg_policy **out, char *err,
			   size_t errlen);
/*
 * Resolve what a user typed after --policy: an existing file path (anything
 * containing '/' or ending in .yaml/.yml/.json), a built-in name, or
 * CG_POLICY_DIR/NAME.yaml, in that order.
 */
int cg_policy_load(const char *name_or_path, struct cg_policy **out,
		   char *err, size_t errlen);
void cg_policy_free(struct cg_policy *p);

/* Built-in policies compiled into the binary. NULL-terminated list. */
extern const char *const cg_builtin_names[];
/* YAML text of a built-in, or NULL. */
const char *cg_builtin_policy(const char *name);

/* Family names accepted in sockets.families ("packet" -> AF_PACKET). */
int cg_family_from_name(const char *name);
const char *cg_family_name(int af);

/*
 * Why @s is not a valid policy name (1-63 of A-Z a-z 0-9 _ . -, not starting with '.',
 * so never "." or ".."), or NULL if it is one.  For files, the CLI and the daemon alike.
 */
const char *cg_policy_name_problem(const char *s);

/* Writes a message (printf-style) to err/errlen and returns @rc; for
 * errors without a source position.  Shared by names.c's users in policy/. */
int cg_policy_errf(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Helpers shared with the CLI for printing. */
const char *cg_action_str(int action);
const char *cg_proto_str(int proto);
int cg_rule_format(const struct cg_rule *r, int dir, char *buf, size_t len);

#endif
