#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#
# New-connection cost in the real datapath (part 5 of `make bench`; see
# bench/README.md).  Where established.sh prices a packet of a known
# connection, this prices connections that come and go: a client in the
# guarded cgroup opens TCP connections one after another (connect, 1 byte
# each way, close with a reset) for SECS seconds, under BPF run-time
# statistics (kernel.bpf_stats_enabled, only while it runs).
#
#   cgg-bench-na  10.204.0.1/24 fd20:204::1/64  client, cgroup <cgroup2>/cgg-bench-n-PID
#   cgg-bench-nb  10.204.0.2/24 fd20:204::2/64  server (bench_prog rr-server)
#
# A connection is judged at connect() (cg_connect4/6), whose verdict is
# cached with the socket, so its first packet, the SYN, is already a
# known connection's.  Printed per policy size: connect() program ns per
# call, egress program ns per packet and over an empty cgroup_skb program
# on the same packets, egress packets per connection, and all cgguard
# programs' time per connection.  Nothing is asserted.
#
# Environment: ROUNDS (3), SECS (1), SIZES ("1000 100000"), FAMS ("4 6").
set -u
ROUNDS=${ROUNDS:-3}
SECS=${SECS:-1}
SIZES=${SIZES:-1000 100000}
FAMS=${FAMS:-4 6}
. "$(dirname "$0")/lib.sh"
NS_A=cgg-bench-na
NS_B=cgg-bench-nb
PORT=5502
bench_prereq "5. new connections"
CG=$CG2/cgg-bench-n-$$
TMP=
SRV=

cleanup() {
	[ -n "$SRV" ] && kill $SRV 2>/dev/null && wait $SRV 2>/dev/null
	bench_cleanup "$CG2/cgg-bench-n-" $NS_A $NS_B "$TMP"
}
cleanup
trap cleanup EXIT
trap 'exit 130' INT TERM
TMP=$(mktemp -d /tmp/cgg-bench-n.XXXXXX)

veth_pair $NS_A $NS_B na nb 204 || { echo "cannot create namespaces" >&2; exit 1; }
mkdir "$CG" || exit 1
# one server for both families (bound to ::, v4-mapped)
ip netns exec $NS_B "$BENCH" rr-server :: $PORT > "$TMP/srv" 2>&1 &
SRV=$!
for _ in $(seq 50); do grep -q ready "$TMP/srv" 2>/dev/null && break; sleep 0.05; done

# policy FAM N: N deny rules the traffic never matches, default allow.
policy() { deny_policy cggbench-n$1-$2 $1 $2 205 fd31: > "$TMP/p$1-$2.yaml"; }

# run FAM: prints "connect_ns egress_ns noop_ns egress_runs conns ingress_ns ingress_runs"
run() {
	local dst=10.204.0.2 cp=connect4 out
	[ $1 = 6 ] && dst=fd20:204::2 cp=connect6
	out=$(sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' sh "$CG" \
		"$BENCH" insitu --noop "$CG" ip netns exec $NS_A \
		"$BENCH" conn-client $dst $PORT $SECS)
	awk -v cp="$cp" '
	function f(k,   i) { for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) return substr($i, length(k) + 2); return 0 }
	/prog=egress / { e = f("ns_per_run"); er = f("runs") }
	/prog=ingress / { g = f("ns_per_run"); gr = f("runs") }
	/prog=noop / { z = f("ns_per_run") }
	$0 ~ "prog=" cp " " { c = f("ns_per_run") }
	/conns=/ { n = f("conns") }
	END { print c, e, z, er, n, g, gr }' <<<"$out"
}


echo "== 5. new connections: TCP connect, 1 byte each way, reset; cgguard programs' cost =="
echo "one connection after another for ${SECS}s; BPF run-time stats; $ROUNDS rounds, medians"
echo "empty: a cgroup_skb egress program 'r0 = 1' attached to the same cgroup (same packets)"
printf "%-6s %8s %11s %11s %11s %10s %11s %10s\n" family rules "connect ns" "egress ns" \
	"over empty" "pkts/conn" "ns/conn" "conns/s"
for fam in $FAMS; do
	for n in $SIZES; do
		policy $fam $n
		"$CGGUARD" attach --cgroup "$CG" --policy "$TMP/p$fam-$n.yaml" >/dev/null ||
			{ echo "attach failed" >&2; continue; }
		: > "$TMP/r"
		for ((r = 0; r < ROUNDS; r++)); do run $fam >> "$TMP/r"; done
		c=$(awk '{print $1}' "$TMP/r" | median)
		e=$(awk '{print $2}' "$TMP/r" | median)
		d=$(awk '{print $2 - $3}' "$TMP/r" | median)
		k=$(awk '$5 > 0 {print $4 / $5}' "$TMP/r" | median)
		# all programs: connect once, egress and ingress per packet
		t=$(awk '$5 > 0 {print $1 + ($2 * $4 + $6 * $7) / $5}' "$TMP/r" | median)
		p=$(awk '{print $5 / '"$SECS"'}' "$TMP/r" | median)
		printf "IPv%-3s %8s %11.1f %11.1f %11.1f %10.1f %11.1f %10.0f\n" $fam $n \
			"$c" "$e" "$d" "$k" "$t" "$p"
		echo "  per round (connect/egress/empty ns): $(awk '{ printf "%s/%s/%s  ", $1, $2, $3 }' "$TMP/r")"
		"$CGGUARD" detach --cgroup "$CG" >/dev/null
	done
done
echo "ns/conn: connect() program once + egress and ingress programs on every packet"
