#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#
# cgguard's two backends side by side (part 4 of `make bench`): the same
# policy -- N /32 deny CIDRs (10.202.0.0/14, odd addresses, so no two are
# adjacent and nft keeps N map elements; none matches the traffic),
# default allow -- enforced by the BPF backend (`cgguard attach`)
# and by the nft backend (`cgguard attach --backend nft`), against no
# filter, on the client cgroup of two namespaces joined by veth:
#   cgg-bkb-a  10.199.0.1/24  client, inside cgroup <cgroup2>/cgg-bkb-PID
#   cgg-bkb-b  10.199.0.2/24  servers
# Traffic only goes to 10.199.0.2 inside those namespaces.
#
# Per size (SIZES, default "1000 100000"):
#   apply   wall time of `cgguard attach` (a fresh attach, process start
#           included), APPLY_RUNS times each, median
#   udp     64-byte UDP packets/s (bench_prog udp-flood -> udp-sink),
#           every packet filtered (a sink never replies: for nftables each
#           packet is ct state new and goes through the map)
#   rr      TCP request/response, 1 byte each way (established path)
# Configurations are interleaved per round (order rotated); medians.
# Environment: ROUNDS (3), UDP_SECS (2), RR_SECS (2), APPLY_RUNS (3),
# SIZES, NICE (-10).  Numbers are reported, never asserted.
set -u
ROUNDS=${ROUNDS:-3}
UDP_SECS=${UDP_SECS:-2}
RR_SECS=${RR_SECS:-2}
APPLY_RUNS=${APPLY_RUNS:-3}
SIZES=${SIZES:-1000 100000}
NICE=${NICE:--10}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CGGUARD=$ROOT/cgguard
BENCH=$ROOT/.output/bench/bench_prog
NS_A=cgg-bkb-a NS_B=cgg-bkb-b
ADDR_B=10.199.0.2 P_RR=5302 P_UDP=5402

skip() { echo "== 4. backends: skipped: $* =="; exit 0; }
[ "$(id -u)" = 0 ] || skip "needs root"
for t in ip nft; do command -v $t >/dev/null || skip "$t is not installed"; done
[ -x "$CGGUARD" ] && [ -x "$BENCH" ] || skip "run 'make bench'"
CG2=$(awk '{ for (i = 7; i <= NF; i++) if ($i == "-") {
	if ($(i + 1) == "cgroup2") { print $5; exit } break } }' /proc/self/mountinfo)
[ -n "$CG2" ] || skip "no cgroup2 mount"
CG=$CG2/cgg-bkb-$$
TMP=$(mktemp -d /tmp/cgg-bkb.XXXXXX)
PIDS=()

PIN_C=(nice -n $NICE) PIN_S=(nice -n $NICE)
if command -v taskset >/dev/null && [ "$(nproc)" -gt 1 ]; then
	PIN_C+=(taskset -c 0); PIN_S+=(taskset -c $(($(nproc) - 1)))
fi
CLIENT=(sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' sh "$CG"
	"${PIN_C[@]}" ip netns exec $NS_A)

detach_all() { "$CGGUARD" detach --cgroup "$CG" >/dev/null 2>&1; "$CGGUARD" detach --cgroup "$CG" >/dev/null 2>&1; }
cleanup() {
	trap - EXIT INT TERM
	kill "${PIDS[@]}" 2>/dev/null; wait 2>/dev/null
	if [ -d "$CG" ]; then detach_all; rmdir "$CG" 2>/dev/null; fi
	for d in "$CG2"/cgg-bkb-*; do [ -d "$d" ] && { "$CGGUARD" detach --cgroup "$d" >/dev/null 2>&1; rmdir "$d" 2>/dev/null; }; done
	ip netns del $NS_A 2>/dev/null; ip netns del $NS_B 2>/dev/null
	rm -rf "$TMP"
}
die() { echo "backends benchmark: $*" >&2; exit 1; }
cleanup_leftovers() { local d; for d in "$CG2"/cgg-bkb-*; do [ -d "$d" ] && { "$CGGUARD" detach --cgroup "$d" >/dev/null 2>&1; rmdir "$d"; }; done; ip netns del $NS_A 2>/dev/null; ip netns del $NS_B 2>/dev/null; }
cleanup_leftovers
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add $NS_A && ip netns add $NS_B || die "namespaces"
ip link add cgg-bkb-va netns $NS_A type veth peer name cgg-bkb-vb netns $NS_B || die "veth"
ip -n $NS_A link set lo up; ip -n $NS_B link set lo up
ip -n $NS_A addr add 10.199.0.1/24 dev cgg-bkb-va
ip -n $NS_B addr add $ADDR_B/24 dev cgg-bkb-vb
ip -n $NS_A link set cgg-bkb-va up; ip -n $NS_B link set cgg-bkb-vb up
mkdir "$CG" || die "cgroup $CG"
"${PIN_S[@]}" ip netns exec $NS_B "$BENCH" rr-server $ADDR_B $P_RR > "$TMP/rr.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do grep -q ready "$TMP/rr.log" && break; sleep 0.1; done

policy() { # policy N FILE
	awk -v n=$1 'BEGIN { print "policy: bench-backends"; print "egress:";
		print "  default: allow"; print "  rules:";
		for (i = 0; i < n; i++)
			printf "    - { action: deny, to: 10.%d.%d.%d/32 }\n",
				202 + int(i / 32512), int(i / 127) % 256,
				2 * (i % 127) + 1 }' > "$2"
}
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
enable() { # enable CFG POLICY
	case $1 in
	none) ;;
	bpf) "$CGGUARD" attach --cgroup "$CG" --policy "$2" >/dev/null || die "attach" ;;
	nft) "$CGGUARD" attach --backend nft --netns $NS_A --cgroup "$CG" \
		--policy "$2" >/dev/null || die "attach --backend nft" ;;
	esac
}
record() { echo "$1 $2 $3" >> "$TMP/results"; }
measure_udp() { # measure_udp CFG SIZE
	local v
	"${PIN_S[@]}" ip netns exec $NS_B "$BENCH" udp-sink $ADDR_B $P_UDP 500 > "$TMP/sink" 2>&1 &
	local sink=$!
	for _ in $(seq 50); do grep -q ready "$TMP/sink" && break; sleep 0.05; done
	v=$("${CLIENT[@]}" "$BENCH" udp-flood $ADDR_B $P_UDP $UDP_SECS 64 | sed -n 's/.*pps=\([0-9]*\).*/\1/p')
	wait $sink
	[ -n "$v" ] && record "$1" "udp_pps_$2" "$v"
	v=$(sed -n 's/.*pps=\([0-9]*\).*/\1/p' "$TMP/sink")
	[ -n "$v" ] && record "$1" "udp_rx_pps_$2" "$v"
}
measure_rr() {
	local v
	v=$("${CLIENT[@]}" "$BENCH" rr-client $ADDR_B $P_RR $RR_SECS | sed -n 's/.* trans_per_sec=\([0-9.]*\).*/\1/p')
	[ -n "$v" ] && record "$1" "rr_tps_$2" "$v"
}

: > "$TMP/results"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
for n in $SIZES; do
	policy $n "$TMP/p$n.yaml"
	# Apply time: fresh attaches (detached in between), process included.
	for ((r = 0; r < APPLY_RUNS; r++)); do
		for cfg in bpf nft; do
			t0=$(date +%s%N); enable $cfg "$TMP/p$n.yaml"; record $cfg apply_ms_$n $(ms $t0)
			[ $cfg = nft ] && record nft rules_$n "$(ip netns exec $NS_A nft -t list table inet cgguard | grep -c 'vmap')"
			detach_all
		done
	done
	echo "  ... $n CIDRs: apply done" >&2
	for ((r = 1; r <= ROUNDS; r++)); do
		cfgs=(none bpf nft)
		for ((k = 0; k < 3; k++)); do
			cfg=${cfgs[$(((r + k) % 3))]}
			enable $cfg "$TMP/p$n.yaml"
			measure_udp $cfg $n
			measure_rr $cfg $n
			if [ $cfg = nft ]; then
				# proof the rules were on the path: the dispatch counter
				record nft seen_$n "$(ip netns exec $NS_A nft list chain inet cgguard output | sed -n 's/.*counter packets \([0-9]*\).*/\1/p' | head -1)"
			fi
			detach_all
		done
		echo "  ... $n CIDRs: round $r/$ROUNDS" >&2
	done
done

echo "== 4. backends side by side: BPF vs nft, same policy =="
echo "policy: N /32 deny CIDRs (none match the traffic), default allow; client cgroup in $NS_A"
echo "UDP: 64-byte payload, one sendmmsg sender, ${UDP_SECS}s; RR: 1 byte each way, ${RR_SECS}s"
echo "apply: wall time of one 'cgguard attach' process (fresh), median of $APPLY_RUNS"
echo "$ROUNDS rounds, configurations rotated; load before/after: $LOAD0 / $(cut -d' ' -f1-3 /proc/loadavg)"
awk -v sizes="$SIZES" '
function median(c, m,    n, i, j, t, a) {
	n = cnt[c, m]; if (!n) return ""
	for (i = 1; i <= n; i++) a[i] = val[c, m, i]
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function r(x, y) { return (x == "" || y == "" || y == 0) ? "n/a" : sprintf("%.3f", x / y) }
function f(x, g) { return x == "" ? "-" : sprintf(g, x) }
{ cnt[$1, $2]++; val[$1, $2, cnt[$1, $2]] = $3 }
END {
	ns = split(sizes, S, " ")
	printf "%-26s %10s %10s %10s  %8s %8s %8s\n", "metric (median)", "none", "bpf", "nft", "bpf/none", "nft/none", "bpf/nft"
	for (k = 1; k <= ns; k++) {
		n = S[k]
		split("udp_pps udp_rx_pps rr_tps", M, " ")
		split("UDP 64B sent pkt/s|UDP 64B received pkt/s|TCP RR trans/s", L, "|")
		for (q = 1; q <= 3; q++) {
			m = M[q] "_" n; a = median("none", m); b = median("bpf", m); c = median("nft", m)
			printf "%-26s %10s %10s %10s  %8s %8s %8s\n", L[q] " " n, f(a, "%.0f"), f(b, "%.0f"), f(c, "%.0f"), r(b, a), r(c, a), r(b, c)
		}
		printf "%-26s %10s %10s %10s  %8s %8s %8s\n", "apply ms " n, "", f(median("bpf", "apply_ms_" n), "%.0f"), f(median("nft", "apply_ms_" n), "%.0f"), "", "", r(median("bpf", "apply_ms_" n), median("nft", "apply_ms_" n))
		printf "  (nft dispatch counter after a run: %s packets; apply runs: bpf %s, nft %s ms)\n", f(median("nft", "seen_" n), "%d"), list("bpf", "apply_ms_" n), list("nft", "apply_ms_" n)
	}
}
function list(c, m,    i, s) { s = ""; for (i = 1; i <= cnt[c, m]; i++) s = s (i > 1 ? "/" : "") val[c, m, i]; return s }
' "$TMP/results"
