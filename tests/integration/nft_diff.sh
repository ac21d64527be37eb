#!/bin/bash
# Differential test of the two backends: random policies (NFT_DIFF_N, 200 by
# default), each enforced at once by the BPF backend on one cgroup and by
# the nft backend on another, both in the same client namespace, on real
# traffic.  Every destination x protocol x port cell (egress: a request to
# a server and its echo; ingress: a connection or datagram from a server
# address to a listener in the cgroup, and its echo) must get the same
# verdict from both, over IPv4 and IPv6; the nft script of every policy
# must pass `nft -c`; a policy one backend refuses the other must refuse.
#
# Cells where both backends agree by design only: if the BPF backend here
# judges every packet alone (replies as new traffic: before connection-
# aware verdicts), policies alternate between random egress rules with
# ingress allowing all (egress cells compared) and the reverse (ingress
# cells compared); once replies of allowed connections pass in the BPF
# backend too (probed at the start), both directions are random and every
# cell is compared.  NFT_DIFF_SEED reproduces a run.
. "$(dirname "$0")/../lib.sh"
need_root
for t in nft jq unshare nsenter; do command -v $t >/dev/null || skip "needs $t"; done
PROBE=$TOP/.output/cgg_probe
[ -x "$PROBE" ] || { fail "$PROBE missing (make test-build)"; finish; }
N=${NFT_DIFF_N:-200}
SEED=${NFT_DIFF_SEED:-$(( $(date +%s) % 100000 * 1000 ))}
TIMEOUT=${NFT_DIFF_TIMEOUT_MS:-300}
T=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; cleanup_all; rm -rf "$T"' EXIT
cleanup_all

# ---- topology: client namespace with two guarded cgroups, server namespace
C4=(10.210.0.11 10.210.0.12) C6=(fd10:210::11 fd10:210::12)	# BPF, nft
SRV4="10.210.0.2 10.210.0.3 10.210.0.200 10.210.7.9 10.210.128.1 10.210.200.77"
SRV6="fd10:210::2 fd10:210::3 fd10:210::1:2 fd10:210::ff:ff00:1 fd10:210::8000:0:0:1"
ip netns add $NS_C && ip netns add $NS_S || { fail "netns"; finish; }
ip link add c$ID netns $NS_C type veth peer name s$ID netns $NS_S
for n in $NS_C $NS_S; do ip -n $n link set lo up; done
for a in 10.210.0.1 "${C4[@]}"; do ip -n $NS_C addr add $a/16 dev c$ID; done
for a in fd10:210::1 "${C6[@]}"; do ip -n $NS_C addr add $a/64 dev c$ID nodad; done
for a in $SRV4; do ip -n $NS_S addr add $a/16 dev s$ID; done
for a in $SRV6; do ip -n $NS_S addr add $a/64 dev s$ID nodad; done
ip -n $NS_C link set c$ID up; ip -n $NS_S link set s$ID up
for a in $SRV4 $SRV6; do ip netns exec $NS_C ping -c1 -W1 "$a" >/dev/null 2>&1 & done; wait
CB=$(make_cg bpf) CN=$(make_cg nft)
started() { for _ in $(seq 100); do grep -q ready "$1" 2>/dev/null && return 0; sleep 0.02; done; fail "$1: no server"; finish; }
ip netns exec $NS_S "$PROBE" serve $SRV4 $SRV6 > "$T/srv" & started "$T/srv"
in_cg "$CB" ip netns exec $NS_C "$PROBE" serve ${C4[0]} ${C6[0]} > "$T/lb" & started "$T/lb"
in_cg "$CN" ip netns exec $NS_C "$PROBE" serve ${C4[1]} ${C6[1]} > "$T/ln" & started "$T/ln"

# Source ports: one region per probe kind (egress BPF/nft, ingress
# BPF/nft), 88 ports a policy, so a port comes back only after 90
# policies (retries: 30), when the UDP conntrack entries of its earlier
# flows (30 s) have expired; TCP cells end with RST (no TIME_WAIT).
probe_all() { # probe_all POLICY_NO TIMEOUT_MS RETRY -> $T/{eb,en,ib,in}
	local r=20000 w=8000 m=90 b
	[ "$3" = 1 ] && r=52000 w=3000 m=30
	b=$((r + ($1 % m) * 88))
	# nsenter, not `ip netns exec` (which remounts /sys): cheaper per call
	local pids=()
	in_cg "$CB" nsenter --net=/run/netns/$NS_C "$PROBE" egress $2 $b ${C4[0]} ${C6[0]} > "$T/eb" & pids+=($!)
	in_cg "$CN" nsenter --net=/run/netns/$NS_C "$PROBE" egress $2 $((b + w)) ${C4[1]} ${C6[1]} > "$T/en" & pids+=($!)
	nsenter --net=/run/netns/$NS_S "$PROBE" ingress $2 $((b + 2 * w)) ${C4[0]} ${C6[0]} > "$T/ib" & pids+=($!)
	nsenter --net=/run/netns/$NS_S "$PROBE" ingress $2 $((b + 3 * w)) ${C4[1]} ${C6[1]} > "$T/in" & pids+=($!)
	# Exactly these four: `jobs -p | tail -4` could name a server (a probe
	# already reaped) and wait forever.
	wait "${pids[@]}"
}
cells() { sed -n 's/^cells=//p' "$T/$1"; }
attach_both() { # attach_both POLICY_FILE -> "rc_bpf rc_nft" (both at once)
	local b n p
	"$CGG" attach --backend nft --netns $NS_C --cgroup "$CN" --policy "$1" \
		> /dev/null 2> "$T/en.err" & p=$!
	"$CGG" attach --cgroup "$CB" --policy "$1" > /dev/null 2> "$T/eb.err"; b=$?
	wait $p; n=$?
	echo "$b $n"
}

# ---- does the BPF backend pass replies of allowed connections here? --------
printf 'policy: diff-probe\negress: { default: allow }\ningress: { default: deny }\n' > "$T/p.yaml"
[ "$(attach_both "$T/p.yaml")" = "0 0" ] || { fail "probe policy attach: $(cat "$T"/e?.err)"; finish; }
probe_all 0 1000 1
ALL1=$(printf '1%.0s' $(seq 88))
expect_eq "nft: every reply of an allowed connection passes under ingress deny" "$(cells en)" "$ALL1"
if [ "$(cells eb)" = "$ALL1" ]; then
	MODE=full; echo "BPF backend is connection-aware: every cell compared"
else
	MODE=split; echo "NOTE: the BPF backend judges replies as new inbound packets here;" \
		"comparing only cells both backends agree on by design (split mode)"
fi

# ---- the random policies ---------------------------------------------------------
desc() { # desc CELL_INDEX: what the cell was
	local s=$(( $1 / 8 )) p=$(( $1 % 8 )) a
	a=$(echo $SRV4 $SRV6 | cut -d' ' -f$((s + 1)))
	echo "$a $([ $p -lt 4 ] && echo tcp || echo udp) $(echo 5001 5002 6001 7001 | cut -d' ' -f$((p % 4 + 1)))"
}
compare() { # compare KIND A B -> mismatching cell indices
	local i
	for ((i = 0; i < ${#2}; i++)); do [ "${2:i:1}" = "${3:i:1}" ] || echo -n "$i "; done
}
mism=0 rejected=0 checked=0 v4=0 v6=0 retried=0 start=$SECONDS
for ((i = 1; i <= N; i++)); do
	seed=$((SEED + i))
	if [ $MODE = full ]; then kind=both; elif ((i % 2)); then kind=egress; else kind=ingress; fi
	"$PROBE" gen $seed $kind > "$T/p.yaml"
	# nft -c (in an empty namespace of its own) runs beside the probes.
	ckpid=
	if "$CGG" export nft --cgroup "$CN" --policy "$T/p.yaml" > "$T/p.nft" 2>/dev/null; then
		unshare -n nft -c -f "$T/p.nft" 2> "$T/c.err" & ckpid=$!
	fi
	rc=$(attach_both "$T/p.yaml")
	if [ "$rc" != "0 0" ]; then
		if [ "${rc% *}" != 0 ] && [ "${rc#* }" != 0 ]; then rejected=$((rejected + 1)); continue; fi
		fail "seed $seed: only one backend accepted the policy (bpf/nft exit $rc):" \
			"$(cat "$T/eb.err" "$T/en.err")"
		mism=$((mism + 1)); continue
	fi
	for try in 1 2; do
		if [ $try = 1 ]; then probe_all $i $TIMEOUT 0; else probe_all $i 2000 1; fi
		bad=""
		[ $kind != ingress ] && bad+=$(compare e "$(cells eb)" "$(cells en)")
		[ $kind != egress ] && bad+=$(compare i "$(cells ib)" "$(cells in)" | sed 's/\([0-9]*\)/i\1/g')
		[ -z "$bad" ] && break
		[ $try = 1 ] && retried=$((retried + 1))	# slow host? once more, 2 s
	done
	if [ -n "$ckpid" ]; then
		wait $ckpid && checked=$((checked + 1)) ||
			fail "seed $seed: nft -c refuses the exported script: $(head -3 "$T/c.err")"
	fi
	n=$(( ( $([ $kind != ingress ] && echo 1 || echo 0) + $([ $kind != egress ] && echo 1 || echo 0) ) ))
	v4=$((v4 + n * 48)) v6=$((v6 + n * 40))
	if [ -n "$bad" ]; then
		mism=$((mism + $(wc -w <<<"$bad")))
		echo "MISMATCH seed $seed ($kind): cells $bad"
		for c in $bad; do
			case $c in i*) echo "  ingress from $(desc ${c#i}): bpf=$(cells ib | cut -c$((${c#i} + 1))) nft=$(cells in | cut -c$((${c#i} + 1)))" ;;
			*) echo "  egress to $(desc $c): bpf=$(cells eb | cut -c$((c + 1))) nft=$(cells en | cut -c$((c + 1)))" ;; esac
		done
		sed 's/^/  | /' "$T/p.yaml"
	fi
done
echo "nft_diff: $N policies ($MODE mode, seeds $((SEED + 1))..$((SEED + N))), $rejected refused by both," \
	"$((v4 + v6)) cells compared (IPv4 $v4, IPv6 $v6), $mism mismatches," \
	"$retried policies re-probed with a 2 s timeout, $checked scripts passed nft -c, $((SECONDS - start)) s"
expect_eq "mismatching cells" $mism 0
[ $((v4 > 0 && v6 > 0)) = 1 ] && pass "IPv4 and IPv6 cells compared" || fail "no cells compared"
expect_eq "exported scripts checked by nft -c" $checked $((N - rejected))
finish
