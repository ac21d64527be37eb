#!/bin/bash
# Assertions shared by the shell test tiers (tests/lib.sh, tests/e2e/lib.sh).
# A test counts failures and ends with `finish`; a skip exits 77, or fails
# under CI=true, where a tier that can run here must run.
FAILS=0

fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
pass() { echo "ok: $*"; }
skip() { # skip REASON
	echo "SKIP: $*" >&2
	[ "${CI:-}" = true ] && { echo "FAIL: skipped under CI=true" >&2; exit 1; }
	exit 77
}
expect_eq() { # expect_eq WHAT GOT WANT
	if [ "$2" = "$3" ]; then pass "$1 = $3"; else fail "$1: got '$2', want '$3'"; fi
}
need_root() { [ "$(id -u)" = 0 ] || skip "needs root (namespaces, cgroups, BPF, containers)"; }
finish() { [ "$FAILS" = 0 ] && { echo "PASS"; exit 0; }; echo "$FAILS failure(s)"; exit 1; }
# kv KEY LINE: value of KEY=... in a cgg_traffic result line
kv() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }
