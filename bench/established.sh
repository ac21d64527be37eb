#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#
# Established-connection cost in the real datapath (part 3 of `make bench`;
# see bench/README.md).  What one packet of a known connection costs
# cgguard's egress program, over an empty cgroup_skb program that runs on
# the same packets, from BPF run-time statistics (kernel.bpf_stats_enabled
# through BPF_ENABLE_STATS, only while a measurement runs).
#
#   cgg-bench-ea  10.203.0.1/24 fd20:203::1/64  client, cgroup <cgroup2>/cgg-bench-e-PID
#   cgg-bench-eb  10.203.0.2/24 fd20:203::2/64  UDP sink
#
# For each family (4, 6) and policy size (1,000 and 100,000 deny /32 or
# /128 rules that the traffic never matches, default allow): attach, then
# `bench_prog insitu --noop CGROUP` around a 64-byte UDP flood on one
# connected socket; ROUNDS rounds, medians.  Nothing is asserted.
#
# Environment: ROUNDS (3), SECS (2), SIZES ("1000 100000"), FAMS ("4 6").
set -u
ROUNDS=${ROUNDS:-3}
SECS=${SECS:-2}
SIZES=${SIZES:-1000 100000}
FAMS=${FAMS:-4 6}
. "$(dirname "$0")/lib.sh"
NS_A=cgg-bench-ea
NS_B=cgg-bench-eb
PORT=5501
bench_prereq "3. established connections"
CG=$CG2/cgg-bench-e-$$
TMP=

cleanup() {
	bench_cleanup "$CG2/cgg-bench-e-" $NS_A $NS_B "$TMP"
}
cleanup
trap cleanup EXIT
trap 'exit 130' INT TERM
TMP=$(mktemp -d /tmp/cgg-bench-e.XXXXXX)

veth_pair $NS_A $NS_B ea eb 203 || { echo "cannot create namespaces" >&2; exit 1; }
mkdir "$CG" || exit 1

# policy FAM N: N deny rules the traffic never matches, default allow.
policy() { deny_policy cggbench-e$1-$2 $1 $2 204 fd30: > "$TMP/p$1-$2.yaml"; }

run() {	# run FAM: one flood under stats; prints "egress_ns noop_ns pps"
	local dst=10.203.0.2 out
	[ $1 = 6 ] && dst=fd20:203::2
	ip netns exec $NS_B "$BENCH" udp-sink $dst $PORT 400 > "$TMP/sink" 2>&1 &
	for _ in $(seq 50); do grep -q ready "$TMP/sink" 2>/dev/null && break; sleep 0.05; done
	out=$(sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' sh "$CG" \
		"$BENCH" insitu --noop "$CG" ip netns exec $NS_A \
		"$BENCH" udp-flood $dst $PORT $SECS 64)
	wait
	awk '/prog=egress/ { sub(".*ns_per_run=", ""); e = $0 }
	     /prog=noop/ { sub(".*ns_per_run=", ""); n = $0 }
	     /pps=/ { sub(".*pps=", ""); p = $0 }
	     END { print e, n, p }' <<<"$out"
}


echo "== 3. established connections: egress program cost per packet in the datapath =="
echo "64-byte UDP on one connected socket for ${SECS}s; BPF run-time stats; $ROUNDS rounds, medians"
echo "empty: a cgroup_skb egress program 'r0 = 1' attached to the same cgroup (same packets)"
printf "%-6s %8s %12s %12s %12s %12s\n" family rules "cg_egress ns" "empty ns" "over empty" "pkt/s"
for fam in $FAMS; do
	for n in $SIZES; do
		policy $fam $n
		"$CGGUARD" attach --cgroup "$CG" --policy "$TMP/p$fam-$n.yaml" >/dev/null ||
			{ echo "attach failed" >&2; continue; }
		: > "$TMP/r"
		for ((r = 0; r < ROUNDS; r++)); do run $fam >> "$TMP/r"; done
		e=$(awk '{print $1}' "$TMP/r" | median)
		z=$(awk '{print $2}' "$TMP/r" | median)
		d=$(awk '{print $1 - $2}' "$TMP/r" | median)
		p=$(awk '{print $3}' "$TMP/r" | median)
		printf "IPv%-3s %8s %12.1f %12.1f %12.1f %12.0f\n" $fam $n "$e" "$z" "$d" "$p"
		echo "  per round (cg_egress/empty ns): $(awk '{ printf "%s/%s  ", $1, $2 }' "$TMP/r")"
		"$CGGUARD" detach --cgroup "$CG" >/dev/null
	done
done
