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
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CGGUARD=$ROOT/cgguard
BENCH=$ROOT/.output/bench/bench_prog
NS_A=cgg-bench-na
NS_B=cgg-bench-nb
PORT=5502

skip() { echo "== 5. new connections: skipped: $* =="; exit 0; }
[ "$(id -u)" = 0 ] || skip "needs root"
[ -x "$CGGUARD" ] && [ -x "$BENCH" ] || skip "run 'make bench' first"
CG2=$(awk '{ for (i = 7; i <= NF; i++) if ($i == "-") {
		if ($(i + 1) == "cgroup2") { print $5; exit } break } }' \
	/proc/self/mountinfo)
[ -n "$CG2" ] || skip "no cgroup2 mount"
CG=$CG2/cgg-bench-n-$$
TMP=
SRV=

cleanup() {
	local d
	[ -n "$SRV" ] && kill $SRV 2>/dev/null && wait $SRV 2>/dev/null
	for d in "$CG2"/cgg-bench-n-*; do
		[ -d "$d" ] || continue
		"$CGGUARD" detach --cgroup "$d" >/dev/null 2>&1
		rmdir "$d" 2>/dev/null
	done
	ip netns del $NS_A 2>/dev/null
	ip netns del $NS_B 2>/dev/null
	[ -n "$TMP" ] && rm -rf "$TMP"
}
cleanup
trap cleanup EXIT
trap 'exit 130' INT TERM
TMP=$(mktemp -d /tmp/cgg-bench-n.XXXXXX)

ip netns add $NS_A && ip netns add $NS_B || { echo "cannot create namespaces" >&2; exit 1; }
ip link add na netns $NS_A type veth peer name nb netns $NS_B
ip -n $NS_A link set lo up; ip -n $NS_B link set lo up
ip -n $NS_A addr add 10.204.0.1/24 dev na
ip -n $NS_A addr add fd20:204::1/64 dev na nodad
ip -n $NS_B addr add 10.204.0.2/24 dev nb
ip -n $NS_B addr add fd20:204::2/64 dev nb nodad
ip -n $NS_A link set na up; ip -n $NS_B link set nb up
ip netns exec $NS_A ping -c1 -W1 10.204.0.2 >/dev/null 2>&1
ip netns exec $NS_A ping -6 -c1 -W1 fd20:204::2 >/dev/null 2>&1
mkdir "$CG" || exit 1
# one server for both families (bound to ::, v4-mapped)
ip netns exec $NS_B "$BENCH" rr-server :: $PORT > "$TMP/srv" 2>&1 &
SRV=$!
for _ in $(seq 50); do grep -q ready "$TMP/srv" 2>/dev/null && break; sleep 0.05; done

# policy FAM N: N deny rules the traffic never matches, default allow.
policy() {
	awk -v fam=$1 -v n=$2 'BEGIN {
		print "policy: cggbench-n" fam "-" n
		print "egress:\n  default: allow\n  rules:"
		for (i = 0; i < n; i++)
			if (fam == 4)
				printf "    - { action: deny, to: 10.%d.%d.%d/32 }\n",
					205 + int(i / 65536), int(i / 256) % 256, i % 256
			else
				printf "    - { action: deny, to: \"fd31::%x:%x/128\" }\n",
					int(i / 65536), i % 65536
		print "ingress:\n  default: allow"
	}' > "$TMP/p$1-$2.yaml"
}

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

median() { sort -n | awk '{ a[NR] = $1 } END { print NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

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
