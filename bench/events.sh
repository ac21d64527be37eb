#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#
# Event costs (bench/README.md, "Events"):
#  1. program cost of a denied packet with events off / suppressed /
#     emitted, against an allowed packet and the empty program
#     (.output/bench/bench_events, BPF_PROG_TEST_RUN);
#  2. the event rate `cgguard monitor` sustains: a process in a guarded
#     cgroup makes denied sendto() calls as fast as it can (EPERM at the
#     syscall: nothing is sent), the policy's bucket is 1,000,000/s, and a
#     monitor (--json to a file, then text to /dev/null) reads for SECS
#     seconds.  Printed: denials/s, events the monitor printed per second,
#     and what the ring buffer lost because the monitor fell behind.
# Run under tests/locked.sh (cgroups, pins).  Numbers are reported, never
# asserted.  Environment: SECS (5), REPEAT (200000), RUNS (5).
set -u
cd "$(dirname "$0")/.." || exit 1
CGG=$PWD/cgguard
TRAFFIC=$PWD/.output/cgg_traffic
SECS=${SECS:-5}
CG2=$(awk '$0 ~ / - cgroup2 / {print $5; exit}' /proc/self/mountinfo)
CG=$CG2/cgguard-bench-events
T=$(mktemp -d)
cleanup() {
	"$CGG" detach --cgroup "$CG" >/dev/null 2>&1
	[ -d "$CG" ] && { echo 1 > "$CG/cgroup.kill"; sleep 0.2; rmdir "$CG"; }
	rm -rf "$T"
}
trap cleanup EXIT

.output/bench/bench_events --repeat "${REPEAT:-200000}" --runs "${RUNS:-5}" || exit 1
echo

cat > "$T/p.yaml" <<'P'
policy: bench-events-rate
events: { rate: 1000000, burst: 1000000 }
egress:
  rules:
    - { action: deny, to: 127.0.0.2/32, proto: udp }
P
mkdir -p "$CG"
"$CGG" attach --cgroup "$CG" --policy "$T/p.yaml" >/dev/null || exit 1
stat_ev() { "$CGG" stats --json --cgroup "$CG" | jq -r ".[0].events.$1"; }
denied() { "$CGG" stats --json --cgroup "$CG" | jq -r '.[0].operations.sendmsg.denied'; }

# measure NAME MONITOR-ARGS...: SECS seconds of denials while a monitor reads
measure() {
	local name=$1 d0 e0 l0 s0 d1 e1 l1 s1 n; shift
	d0=$(denied) e0=$(stat_ev emitted) l0=$(stat_ev lost) s0=$(stat_ev suppressed)
	"$CGG" monitor --cgroup "$CG" --duration "$SECS" "$@" > "$T/out" &
	local mon=$!
	sleep 0.3
	( echo $BASHPID > "$CG/cgroup.procs"
	  exec timeout "$SECS" "$TRAFFIC" udp-send 127.0.0.2 9 2000000000 64 0 ) >/dev/null
	wait $mon
	d1=$(denied) e1=$(stat_ev emitted) l1=$(stat_ev lost) s1=$(stat_ev suppressed)
	n=$(wc -l < "$T/out")
	printf "  %-28s denials %8d/s  emitted %8d/s  printed %8d/s  lost %8d  suppressed %d\n" \
		"$name" $(( (d1 - d0) / SECS )) $(( (e1 - e0) / SECS )) \
		$(( n / SECS )) $(( l1 - l0 )) $(( s1 - s0 ))
}
echo "monitor sustained rate, $SECS s each, sender saturating one core (2 cores):"
measure "monitor --json > file" --json
measure "monitor (text) > file"
