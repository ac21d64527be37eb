#!/bin/bash
# Shared helpers for cgguard's shell test tiers.  Tests source this file.
# They create their own network namespaces (prefix cgg-it-), cgroups (below
# <cgroup2 mount>/cgguard-it) and clean both up on exit, including what an
# earlier crashed run left behind.  Traffic goes only to those namespaces.
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CGG=${CGG:-$TOP/cgguard}
TRAFFIC=${TRAFFIC:-$TOP/.output/cgg_traffic}
STREAM=${STREAM:-$TOP/.output/cgg_stream}
CG2=$(awk '$0 ~ / - cgroup2 / {print $5; exit}' /proc/self/mountinfo)
# Each test owns its namespaces (cgg-ID-c/-s) and cgroups (cgguard-it/ID),
# so tests (and concurrent runs of different tests) never clean up each
# other's state.  ID: the test's file name, cut to fit interface names.
ID=${CGG_TEST_ID:-$(basename "$0" .sh | tr -cd 'a-z0-9' | cut -c1-6)}
NS_C=cgg-$ID-c
NS_S=cgg-$ID-s
CGBASE=$CG2/cgguard-it/$ID
CGREL=${CGBASE#$CG2}
. "$TOP/tests/assert.sh"

ns_cleanup() {
	local n
	for n in $NS_C $NS_S; do
		[ -e "/var/run/netns/$n" ] || continue
		ip netns pids "$n" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$n" 2>/dev/null
	done
}

# Detach and remove every test cgroup (deepest first).
cg_cleanup() {
	local d
	[ -d "$CGBASE" ] || return 0
	for d in $(find "$CGBASE" -depth -type d 2>/dev/null); do
		"$CGG" detach --cgroup "$d" >/dev/null 2>&1
		[ -f "$d/cgroup.kill" ] && echo 1 > "$d/cgroup.kill" 2>/dev/null
		rmdir "$d" 2>/dev/null
	done
}

cleanup_all() { ns_cleanup; cg_cleanup; rmdir "$CG2/cgguard-it" 2>/dev/null; return 0; }

# make_cg NAME: creates $CGBASE/NAME and prints its path
make_cg() { mkdir -p "$CGBASE/$1" && echo "$CGBASE/$1"; }

# in_cg CGROUP CMD...: runs CMD inside the cgroup (a subshell joins it first)
in_cg() { local cg=$1; shift; ( echo $BASHPID > "$cg/cgroup.procs" && exec "$@" ); }

# Two namespaces joined by veth: $NS_C (client, 10.210.0.1, fd10:210::1)
# and $NS_S (server, 10.210.0.2/.3 and fd10:210::2/::3), plus
# 169.254.169.254 on the server so the metadata address is ours to test.
setup_netns() {
	ns_cleanup
	ip netns add $NS_C && ip netns add $NS_S || return 1
	ip link add c$ID netns $NS_C type veth peer name s$ID netns $NS_S || return 1
	ip -n $NS_C link set lo up; ip -n $NS_S link set lo up
	ip -n $NS_C addr add 10.210.0.1/24 dev c$ID
	ip -n $NS_C addr add 169.254.169.1/16 dev c$ID
	ip -n $NS_C addr add fd10:210::1/64 dev c$ID nodad
	ip -n $NS_S addr add 10.210.0.2/24 dev s$ID
	ip -n $NS_S addr add 10.210.0.3/24 dev s$ID
	ip -n $NS_S addr add 169.254.169.254/16 dev s$ID
	ip -n $NS_S addr add fd10:210::2/64 dev s$ID nodad
	ip -n $NS_S addr add fd10:210::3/64 dev s$ID nodad
	ip -n $NS_C link set c$ID up
	ip -n $NS_S link set s$ID up
	# Warm neighbour entries so no test packet waits on ARP/ND.
	ip netns exec $NS_C ping -c1 -W1 10.210.0.2 >/dev/null 2>&1 || true
	return 0
}

# serve MODE ADDR PORT IDLE_MS OUTFILE: starts a cgg_traffic server in the
# server namespace and waits until it is listening.
serve() {
	local out=$5
	ip netns exec $NS_S "$TRAFFIC" "$1" "$2" "$3" "$4" > "$out" &
	for _ in $(seq 100); do grep -q ready "$out" 2>/dev/null && return 0; sleep 0.02; done
	fail "server $1 $2 $3 did not start"
}

# client CGROUP ARGS...: cgg_traffic in the client namespace inside CGROUP
client() { local cg=$1; shift; in_cg "$cg" ip netns exec $NS_C "$TRAFFIC" "$@"; }

# stat_get CGROUP DIR RESULT FIELD: one counter from `cgguard stats --json`
stat_get() {
	"$CGG" stats --json --cgroup "$1" | jq -r ".[0].$2.$3.$4"
}

# begin_netns_test: temp dir $T; on exit, kill this test's jobs and remove
# its namespaces, cgroups and $T; fresh namespaces (fails if they cannot).
begin_netns_test() {
	T=$(mktemp -d)
	trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; cleanup_all; rm -rf "$T"' EXIT
	cleanup_all
	setup_netns || { fail "netns setup"; finish; }
}

# wait_ready FILE: waits until a server (cgg_stream, cgg_traffic) printed
# "ready" into FILE
wait_ready() {
	for _ in $(seq 100); do grep -q ready "$1" 2>/dev/null && return 0; sleep 0.02; done
	fail "$1 not ready"
}

# in_ns_cg CGROUP NS CMD...: CMD inside CGROUP, in network namespace NS
in_ns_cg() { local cg=$1 ns=$2; shift 2; in_cg "$cg" ip netns exec "$ns" "$@"; }
