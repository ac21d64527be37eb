#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#
# cgguard veth benchmark (part 2 of `make bench`; run by bench/run.sh).
#
# Two network namespaces joined by a veth pair, both created here and
# removed on exit:
#   cgg-bench-a  10.201.0.1/24  client, inside cgroup  <cgroup2>/cgg-bench-PID
#   cgg-bench-b  10.201.0.2/24  servers
# Traffic only ever goes to 10.201.0.2 inside those namespaces.
#
# The same policy -- 1,000 /32 deny CIDRs in 10.202.0.0/16, none matching
# the traffic, default allow -- is measured three ways, interleaved (each
# metric once per configuration per round) so drift hits all alike:
#   none      no filter
#   cgguard   ./cgguard attach --cgroup <client cgroup> (detached after)
#   nftables  table inet cggbench in cgg-bench-a: output hook,
#             set of 1,000 ipv4_addr, `ip daddr @deny drop` (deleted after)
#   nft-ct    the same, stateful as cgguard is (replies of allowed
#             connections pass): `ct state established,related accept`
#             first, so conntrack runs on every packet
#
# Metrics per run: TCP throughput (iperf3 -t $TCP_SECS), 64-byte UDP
# packets/s (bench_prog udp-flood/udp-sink: sendmmsg sender, recvmmsg sink),
# TCP request/response (bench_prog rr-client/rr-server: 1 byte each way).
# Medians over the rounds are printed with ratios; nothing is asserted.
#
# Environment: ROUNDS (5), TCP_SECS (5), UDP_SECS (3), RR_SECS (2),
# METRICS ("tcp udp rr": any subset), NICE (-10: niceness of the traffic
# processes, so a busy host disturbs them less).
set -u

ROUNDS=${ROUNDS:-5}
TCP_SECS=${TCP_SECS:-5}
UDP_SECS=${UDP_SECS:-3}
RR_SECS=${RR_SECS:-2}
METRICS=${METRICS:-tcp udp rr}
NDENY=1000
NICE=${NICE:--10}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CGGUARD=$ROOT/cgguard
BENCH=$ROOT/.output/bench/bench_prog

NS_A=cgg-bench-a
NS_B=cgg-bench-b
VETH_A=cgg-bench-va
VETH_B=cgg-bench-vb
ADDR_A=10.201.0.1
ADDR_B=10.201.0.2
P_TCP=5201
P_RR=5301
P_UDP=5401

skip() {
	echo "== 2. veth benchmark: skipped: $* =="
	exit 0
}

[ "$(id -u)" = 0 ] || skip "needs root"
for t in ip iperf3 nft jq; do
	command -v $t >/dev/null || skip "$t is not installed"
done
for m in $METRICS; do
	case $m in tcp|udp|rr) ;; *) echo "veth.sh: METRICS: unknown '$m'" >&2; exit 2 ;; esac
done
[ -x "$CGGUARD" ] && [ -x "$BENCH" ] || skip "run 'make bench' (cgguard and bench_prog are missing)"

# The cgroup2 mount from mountinfo: fstype is the field after " - ".
CG2=$(awk '{ for (i = 7; i <= NF; i++) if ($i == "-") {
		if ($(i + 1) == "cgroup2") { print $5; exit } break } }' \
	/proc/self/mountinfo)
[ -n "$CG2" ] || skip "no cgroup2 mount in /proc/self/mountinfo"
CG=$CG2/cgg-bench-$$

TMP=$(mktemp -d /tmp/cgg-bench.XXXXXX)
PIDS=()
SINK=

# Client-side commands run inside the benchmark cgroup and netns A, pinned
# to the first CPU; servers run in netns B on the last CPU (if there are
# two), so every configuration gets the same placement.
CPUS=$(nproc)
CPU_C=0
CPU_S=$((CPUS > 1 ? CPUS - 1 : 0))
PIN_C=(nice -n $NICE) PIN_S=(nice -n $NICE)
if command -v taskset >/dev/null; then
	PIN_C+=(taskset -c $CPU_C)
	PIN_S+=(taskset -c $CPU_S)
fi
CLIENT=(sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' sh "$CG"
	"${PIN_C[@]}" ip netns exec $NS_A)
client() { "${CLIENT[@]}" "$@"; }
# Starts a server in the background; its pid is $! (exec all the way down).
bg_server() {
	"${PIN_S[@]}" ip netns exec $NS_B "$@" &
}

cleanup_leftovers() {
	local d
	# An earlier run that crashed: its cgroups (detach first, so no pins
	# are left behind), its nft table, its namespaces (veth goes with them).
	for d in "$CG2"/cgg-bench-*; do
		[ -d "$d" ] || continue
		"$CGGUARD" detach --cgroup "$d" >/dev/null 2>&1
		rmdir "$d" 2>/dev/null
	done
	ip netns exec $NS_A nft delete table inet cggbench 2>/dev/null
	ip netns del $NS_A 2>/dev/null
	ip netns del $NS_B 2>/dev/null
	ip link del $VETH_A 2>/dev/null
	ip link del $VETH_B 2>/dev/null
}

cleanup() {
	local p
	trap - EXIT INT TERM
	for p in "${PIDS[@]}" $SINK; do
		kill "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}" $SINK; do
		wait "$p" 2>/dev/null
	done
	if [ -d "$CG" ]; then
		"$CGGUARD" detach --cgroup "$CG" >/dev/null 2>&1
		for ((p = 0; p < 20; p++)); do
			rmdir "$CG" 2>/dev/null && break
			sleep 0.1	# a client that was killed is still exiting
		done
	fi
	ip netns exec $NS_A nft delete table inet cggbench 2>/dev/null
	ip netns del $NS_A 2>/dev/null
	ip netns del $NS_B 2>/dev/null
	rm -rf "$TMP"
}

die() {
	echo "veth benchmark: $*" >&2
	exit 1
}

cleanup_leftovers
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- topology ----------------------------------------------------------
ip netns add $NS_A && ip netns add $NS_B || die "cannot create namespaces"
ip link add $VETH_A netns $NS_A type veth peer name $VETH_B netns $NS_B ||
	die "cannot create the veth pair"
ip -n $NS_A link set lo up
ip -n $NS_B link set lo up
ip -n $NS_A addr add $ADDR_A/24 dev $VETH_A
ip -n $NS_B addr add $ADDR_B/24 dev $VETH_B
ip -n $NS_A link set $VETH_A up
ip -n $NS_B link set $VETH_B up
mkdir "$CG" || die "cannot create cgroup $CG"

# ---- the policy, twice ---------------------------------------------------
DENY=()
for ((i = 0; i < NDENY; i++)); do
	DENY+=("10.202.$((i / 250)).$((i % 250 + 1))")
done
{
	echo "policy: cggbench"
	echo "mode: enforce"
	echo "egress:"
	echo "  default: allow"
	echo "  rules:"
	for a in "${DENY[@]}"; do
		echo "    - { action: deny, to: $a/32 }"
	done
	echo "ingress:"
	echo "  default: allow"
} > "$TMP/policy.yaml"
{
	echo "table inet cggbench {"
	echo "  set deny {"
	echo "    type ipv4_addr"
	printf "    elements = { %s }\n" "$(IFS=,; echo "${DENY[*]}")"
	echo "  }"
	echo "  chain out {"
	echo "    type filter hook output priority 0; policy accept;"
	echo "    ip daddr @deny drop"
	echo "  }"
	echo "}"
} > "$TMP/nft.conf"
sed 's/^    ip daddr @deny drop$/    ct state established,related accept\n    ip daddr @deny drop/' \
	"$TMP/nft.conf" > "$TMP/nft-ct.conf"
grep -q "ct state" "$TMP/nft-ct.conf" || die "nft-ct.conf"

# ---- servers ---------------------------------------------------------------
bg_server iperf3 -s -B $ADDR_B -p $P_TCP >"$TMP/iperf3-server.log" 2>&1
PIDS+=($!)
bg_server "$BENCH" rr-server $ADDR_B $P_RR >"$TMP/rr-server.log" 2>&1
PIDS+=($!)
for ((i = 0; i < 50; i++)); do
	grep -q ready "$TMP/rr-server.log" 2>/dev/null &&
		ip netns exec $NS_B ss -ltn | grep -q ":$P_TCP " && break
	sleep 0.1
done
client "$BENCH" rr-client $ADDR_B $P_RR 0.2 | grep -q result=ok ||
	die "no connectivity over the veth"

# ---- configurations ------------------------------------------------------
enable() {
	: > "$TMP/pending"
	case $1 in
	none) ;;
	cgguard)
		"$CGGUARD" attach --cgroup "$CG" --policy "$TMP/policy.yaml" \
			>/dev/null || die "cgguard attach failed"
		[ -n "${PINNED_TAG:-}" ] || PINNED_TAG=$("$BENCH" insitu true |
			sed -n 's/^insitu: prog=egress .*tag=\([0-9a-f]*\).*/\1/p')
		[ -n "${CGG_LIST:-}" ] || CGG_LIST=$("$CGGUARD" list 2>&1 |
			awk -v p="${CG#$CG2}" 'NR == 1 || $1 == p') ;;
	nftables|nft-ct)
		ip netns exec $NS_A nft -f "$TMP/${1/nftables/nft}.conf" ||
			die "nft -f failed" ;;
	esac
}

# Returns non-zero if the run just made must be discarded.
disable() {
	case $1 in
	none) ;;
	cgguard)
		# Proof the program was on the path: egress passes counted.
		# cgguard's pinned state is shared with every other cgguard
		# user on the host; if one of them reset it during the run,
		# the cgroup is no longer guarded and the run does not count.
		if ! "$CGGUARD" --json stats --cgroup "$CG" >"$TMP/stats.json" 2>&1; then
			echo "veth benchmark: cgguard no longer guards the client" \
			     "cgroup after the run ($(head -c 200 "$TMP/stats.json"));" \
			     "run discarded" >&2
			"$CGGUARD" detach --cgroup "$CG" >/dev/null 2>&1
			DISCARDED=$((DISCARDED + 1))
			return 1
		fi
		CGG_PASSED=$(jq '[.. | objects | select(has("egress")) |
			.egress.pass.packets] | add // 0' "$TMP/stats.json" \
			2>/dev/null)
		"$CGGUARD" detach --cgroup "$CG" >/dev/null ||
			die "cgguard detach failed" ;;
	nftables|nft-ct)
		ip netns exec $NS_A nft delete table inet cggbench ||
			die "nft delete table failed" ;;
	esac
}

# Appends "config metric value" lines to $TMP/results.
# Results of a run are pending until disable() says the run was valid.
record() { echo "$1 $2 $3" >> "$TMP/pending"; }
commit() { cat "$TMP/pending" >> "$TMP/results"; : > "$TMP/pending"; }
DISCARDED=0

# TCP throughput (first second omitted: slow start).
measure_tcp() {
	local out v

	out=$(client iperf3 -c $ADDR_B -p $P_TCP -t $TCP_SECS -O 1 -J 2>/dev/null)
	v=$(jq -r '.end.sum_received.bits_per_second // empty' <<<"$out" 2>/dev/null)
	[ -n "$v" ] && record $1 tcp_gbps "$(awk -v b="$v" 'BEGIN { printf "%.3f", b / 1e9 }')"
}

# 64-byte UDP: a fresh sink per run (it exits after 500 ms of silence).
# Records under $1; the rest (if any) wraps the sender: "$@" CLIENT...
measure_udp() {
	local cfg=$1 out v i

	shift
	bg_server "$BENCH" udp-sink $ADDR_B $P_UDP 500 >"$TMP/sink.log" 2>&1
	SINK=$!
	for ((i = 0; i < 50; i++)); do
		grep -q ready "$TMP/sink.log" 2>/dev/null && break
		sleep 0.1
	done
	out=$("$@" "${CLIENT[@]}" "$BENCH" udp-flood $ADDR_B $P_UDP $UDP_SECS 64)
	wait $SINK
	SINK=
	UDP_OUT=$out
	v=$(sed -n 's/.*pps=\([0-9]*\).*/\1/p' <<<"$out")
	[ -n "$v" ] && record $cfg udp_tx_pps "$v"
	v=$(sed -n 's/.*pps=\([0-9]*\).*/\1/p' "$TMP/sink.log")
	[ -n "$v" ] && record $cfg udp_rx_pps "$v"
}

# TCP request/response, 1 byte each way.
measure_rr() {
	local out v k

	out=$(client "$BENCH" rr-client $ADDR_B $P_RR $RR_SECS)
	for k in trans_per_sec:rr_tps mean_us:rr_mean_us p99_us:rr_p99_us; do
		v=$(sed -n "s/.* ${k%%:*}=\([0-9.]*\).*/\1/p" <<<"$out")
		[ -n "$v" ] && record $1 ${k#*:} "$v"
	done
}

measure() {
	local m

	for m in $METRICS; do
		measure_$m $1
	done
}

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

# Warm-up (not recorded): the first run after setup is always slow.
echo "  ... warm-up" >&2
saved="$TCP_SECS $UDP_SECS $RR_SECS"
TCP_SECS=2 UDP_SECS=1 RR_SECS=1
measure warmup
read -r TCP_SECS UDP_SECS RR_SECS <<<"$saved"

# Configurations are interleaved as finely as possible: every metric runs
# once per configuration per round (attach/detach take ~20 ms), and each
# round starts one configuration later, so none of them always runs first.
CONFIGS=(none cgguard nftables nft-ct)
NCONF=${#CONFIGS[@]}
: > "$TMP/results"
for ((r = 1; r <= ROUNDS; r++)); do
	echo "  ... round $r/$ROUNDS" >&2
	for m in $METRICS; do
		for ((k = 0; k < NCONF; k++)); do
			cfg=${CONFIGS[$(((r - 1 + k) % NCONF))]}
			enable $cfg
			measure_$m $cfg
			disable $cfg || continue
			[ $cfg = cgguard ] && record cgguard passed "${CGG_PASSED:-0}"
			commit
		done
	done
done

# In-situ cross-check (not in the ratios): cgguard's own run time in the
# real datapath during one more UDP run, from BPF run-time statistics
# (enabled only while bench_prog insitu runs; they add a clock read or two
# to every BPF program run meanwhile, so this run is kept out of the table).
INSITU=
if [[ " $METRICS " = *" udp "* ]]; then
	echo "  ... in-situ: cgguard with BPF run-time statistics" >&2
	enable cgguard
	measure_udp insitu "$BENCH" insitu
	disable cgguard && commit || UDP_OUT=
	INSITU=$(sed -n 's/^insitu: prog=egress .*tag=\([0-9a-f]*\) runs=\([0-9]*\) ns_per_run=\([0-9.]*\).*/tag \1: \3 ns per run over \2 runs/p' <<<"$UDP_OUT")
fi

# ---- report ----------------------------------------------------------------
echo "== 2. veth between network namespaces =="
echo "policy: $NDENY /32 deny CIDRs (10.202.0.0/16, none match), default allow"
echo "client: netns $NS_A in cgroup ${CG#$CG2}, CPU $CPU_C; servers: netns $NS_B, CPU $CPU_S"
echo "cgguard: attached to the client cgroup, all its layers (cg_egress pinned tag ${PINNED_TAG:-?}):"
[ -n "${CGG_LIST:-}" ] && sed 's/^/  | /' <<<"$CGG_LIST"
echo "nftables: table inet cggbench, output hook in $NS_A, ipv4_addr set + 'ip daddr @deny drop'"
echo "nft-ct: the same with 'ct state established,related accept' first (stateful, as cgguard)"
echo "TCP: iperf3 -t $TCP_SECS -O 1 (GSO: ~64 KB per skb, so one filter run per ~45 segments)"
echo "UDP: 64-byte payload, one sendmmsg sender for ${UDP_SECS}s, every packet filtered"
echo "RR: 1 byte each way over one TCP_NODELAY connection for ${RR_SECS}s"
echo "$ROUNDS rounds; in each, every metric runs once per configuration (order rotated); medians"
echo "load average before/after: $LOAD0 / $(cut -d' ' -f1-3 /proc/loadavg)"
echo
awk -v rounds=$ROUNDS '
function median(cfg, m,    n, i, j, t, a) {
	n = cnt[cfg, m]
	if (!n) return ""
	for (i = 1; i <= n; i++) a[i] = val[cfg, m, i]
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
		if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function ratio(x, y) { return (x == "" || y == "" || y == 0) ? "n/a" : sprintf("%.3f", x / y) }
function fmt(x, f) { return x == "" ? "-" : sprintf(f, x) }
{ cnt[$1, $2]++; val[$1, $2, cnt[$1, $2]] = $3 }
END {
	nm = split("tcp_gbps udp_tx_pps udp_rx_pps rr_tps rr_mean_us rr_p99_us", ms, " ")
	name["tcp_gbps"] = "TCP throughput Gbit/s"
	name["udp_tx_pps"] = "UDP 64B sent pkt/s"
	name["udp_rx_pps"] = "UDP 64B received pkt/s"
	name["rr_tps"] = "TCP RR trans/s"
	name["rr_mean_us"] = "TCP RR mean latency us"
	name["rr_p99_us"] = "TCP RR p99 latency us"
	form["tcp_gbps"] = "%.2f"; form["rr_mean_us"] = "%.1f"; form["rr_p99_us"] = "%.1f"
	form["udp_tx_pps"] = "%.0f"; form["udp_rx_pps"] = "%.0f"; form["rr_tps"] = "%.0f"
	printf "%-24s %10s %10s %10s %10s  %12s %9s %11s %10s\n", "metric (median)", "none",
		"cgguard", "nftables", "nft-ct", "cgguard/none", "nft/none", "cgguard/nft", "cgg/nft-ct"
	for (k = 1; k <= nm; k++) {
		m = ms[k]
		if (!cnt["none", m] && !cnt["cgguard", m] && !cnt["nftables", m])
			continue
		a = median("none", m); b = median("cgguard", m); c = median("nftables", m)
		d = median("nft-ct", m)
		printf "%-24s %10s %10s %10s %10s  %12s %9s %11s %10s\n", name[m],
			fmt(a, form[m]), fmt(b, form[m]), fmt(c, form[m]), fmt(d, form[m]),
			ratio(b, a), ratio(c, a), ratio(b, c), ratio(b, d)
	}
	# What any filter could reach against nftables: one that costs
	# nothing runs at "none", so none/nftables bounds cgguard/nft.
	a = median("none", "udp_tx_pps"); c = median("nftables", "udp_tx_pps")
	if (a != "" && c != "")
		printf "\nceiling: no filter at all sends %s of the nftables UDP 64B pkt/s (%s of nft-ct): no filter can beat nftables by more\n", ratio(a, c), ratio(a, median("nft-ct", "udp_tx_pps"))
	printf "\nper round, none / cgguard / nftables / nft-ct:\n"
	for (k = 1; k <= nm; k++) {
		m = ms[k]; line = ""
		if (!cnt["none", m] && !cnt["cgguard", m] && !cnt["nftables", m])
			continue
		for (r = 1; r <= rounds; r++)
			line = line sprintf("  %s/%s/%s/%s", fmt(val["none", m, r], form[m]),
				fmt(val["cgguard", m, r], form[m]),
				fmt(val["nftables", m, r], form[m]),
				fmt(val["nft-ct", m, r], form[m]))
		printf "%-24s%s\n", name[m], line
	}
	# The cgroup keeps its counters across detach/attach: take the last.
	p = 0
	for (r = 1; r <= cnt["cgguard", "passed"]; r++)
		if (val["cgguard", "passed", r] > p) p = val["cgguard", "passed", r]
	printf "\ncgguard egress packets passed in the client cgroup (its own counters): %d\n", p
	if (cnt["insitu", "udp_tx_pps"])
		printf "in-situ UDP run with BPF stats on: %.0f pkt/s sent\n", val["insitu", "udp_tx_pps", 1]
}' "$TMP/results"
[ -n "$INSITU" ] && echo "in-situ cg_egress cost in the datapath (BPF stats): $INSITU"
[ "$DISCARDED" -gt 0 ] && echo "discarded: $DISCARDED cgguard run(s): another cgguard user reset the shared pinned state meanwhile"
echo "ratios: for throughput and trans/s, < 1 means slower than the reference;"
echo "for latency, > 1 means slower"
