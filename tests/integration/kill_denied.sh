#!/bin/bash
# attach --kill-denied: a swap under traffic over IPv4 and IPv6.  Streams
# the new policy denies (outbound TCP v4/v6, connected UDP, an inbound TCP
# connection accepted by a listener in the cgroup) fail with an error
# within 1 s of the attach; streams it still allows, and a bystander
# outside the cgroup, keep transferring; the number reported destroyed is
# the number of sockets ss sees vanish.  Audit mode destroys nothing; bad
# input changes nothing.
. "$(dirname "$0")/../lib.sh"
need_root
begin_netns_test
command -v nsenter >/dev/null || skip "nsenter (util-linux) missing"

cat > "$T/old.yaml" <<'P'
policy: it-kd-old
egress: { default: allow }
ingress: { default: allow }
P
# Denies host .3 / ::3 outbound, and tcp/7100 from .3 inbound.
NEW='
egress:
  default: allow
  rules:
    - { action: deny, to: 10.210.0.3/32 }
    - { action: deny, to: "fd10:210::3/128" }
ingress:
  default: allow
  rules:
    - { action: deny, from: 10.210.0.3/32, proto: tcp, ports: [7100] }'
printf 'policy: it-kd-new\nmode: enforce%s\n' "$NEW" > "$T/new.yaml"
printf 'policy: it-kd-audit\nmode: audit%s\n' "$NEW" > "$T/audit.yaml"
CG=$(make_cg kd)
OTHER=$(make_cg other)
"$CGG" attach --cgroup "$CG" --policy "$T/old.yaml" || fail "attach old"

DUR=5000
ip netns exec $NS_S "$STREAM" sink :: 7001 tcp > "$T/sink" & SINK=$!
ip netns exec $NS_S "$STREAM" sink 0.0.0.0 7003 udp > "$T/usink" & USINK=$!
in_ns_cg "$CG" $NS_C "$STREAM" sink 0.0.0.0 7100 tcp > "$T/lsink" & LSINK=$!
wait_ready "$T/sink"; wait_ready "$T/usink"; wait_ready "$T/lsink"
in_ns_cg "$CG" $NS_C "$STREAM" send 10.210.0.3 7001 tcp $DUR > "$T/d4" &
in_ns_cg "$CG" $NS_C "$STREAM" send fd10:210::3 7001 tcp $DUR > "$T/d6" &
in_ns_cg "$CG" $NS_C "$STREAM" send 10.210.0.3 7003 udp $DUR > "$T/du" &
in_ns_cg "$CG" $NS_C "$STREAM" send 10.210.0.2 7001 tcp $DUR > "$T/k4" &
in_ns_cg "$CG" $NS_C "$STREAM" send fd10:210::2 7001 tcp $DUR > "$T/k6" &
in_ns_cg "$OTHER" $NS_C "$STREAM" send 10.210.0.3 7001 tcp $DUR > "$T/by" &
ip netns exec $NS_S "$STREAM" send 10.210.0.1 7100 tcp $DUR 10.210.0.3 > "$T/in3" &
ip netns exec $NS_S "$STREAM" send 10.210.0.1 7100 tcp $DUR 10.210.0.2 > "$T/in2" &
sleep 0.8

ss_cg() { # inodes of the cgroup's sockets in the client namespace
	nsenter --net=/var/run/netns/$NS_C ss -tuaneH cgroup "${CG#$CG2}" |
		grep -o 'ino:[0-9]*' | cut -d: -f2 | sort -n
}
before=$(ss_cg)
expect_eq "sockets of the cgroup before (5 streams, listener, 2 accepted)" "$(wc -l <<<"$before")" 8

# Audit mode: counts, destroys nothing.
"$CGG" attach --json --kill-denied --cgroup "$CG" --policy "$T/audit.yaml" > "$T/ja" || fail "audit attach"
expect_eq "audit: destroyed" "$(jq .kill_denied.destroyed "$T/ja")" 0
expect_eq "audit: connections judged" "$(jq .kill_denied.connections "$T/ja")" 7
sleep 0.1
expect_eq "audit: sockets left" "$(ss_cg | tr '\n' ' ')" "$(tr '\n' ' ' <<<"$before")"

# Bad input: precise errors, exit codes, nothing destroyed or swapped.
bad() { "$CGG" attach "$@" > "$T/o" 2> "$T/e"; echo $?; }
expect_eq "--kill-denied=x: exit" "$(bad --cgroup "$CG" --policy "$T/new.yaml" --kill-denied=x)" 2
expect_eq "unknown cgroup: exit" "$(bad --kill-denied --cgroup /cgguard-it/nope --policy "$T/new.yaml")" 1
grep -q 'nope: No such file or directory' "$T/e" || fail "unknown cgroup message: $(cat "$T/e")"
printf 'policy: it-kd-bad\negress: { default: maybe }\n' > "$T/bad.yaml"
expect_eq "bad policy: exit" "$(bad --kill-denied --cgroup "$CG" --policy "$T/bad.yaml")" 1
grep -q 'bad.yaml:2:' "$T/e" || fail "bad policy message: $(cat "$T/e")"
expect_eq "after bad input: policy" "$("$CGG" list --json | jq -r ".[] | select(.cgroup == \"${CG#$CG2}\") | .policy")" it-kd-audit
expect_eq "after bad input: sockets" "$(ss_cg | tr '\n' ' ')" "$(tr '\n' ' ' <<<"$before")"

# The swap.
t0=$(date +%s%N)
"$CGG" attach --json --kill-denied --cgroup "$CG" --policy "$T/new.yaml" > "$T/j" || fail "attach --kill-denied: $(cat "$T/j")"
t1=$(date +%s%N)
sleep 0.3
after=$(ss_cg)
gone=$(comm -23 <(echo "$before") <(echo "$after") | wc -l)
expect_eq "reported destroyed" "$(jq .kill_denied.destroyed "$T/j")" 4
expect_eq "sockets ss saw vanish" "$gone" 4
expect_eq "sockets new in ss" "$(comm -13 <(echo "$before") <(echo "$after") | wc -l)" 0
expect_eq "denied / failed" "$(jq '[.kill_denied.denied, .kill_denied.failed] | join(",")' -r "$T/j")" 4,0
echo "attach --kill-denied took $(((t1 - t0) / 1000000)) ms"

# The applications' view.
err_after() { # err_after NAME LINE: the error came within 1 s of the attach
	local e t
	e=$(kv errno "$2"); t=$(kv t_ns "$2")
	if [ -z "$t" ]; then fail "$1: no error seen ($2)"; return; fi
	echo "$1: $e $(((t - t0) / 1000000)) ms after attach started, $(((t - t1) / 1000000)) ms after it returned"
	[ "$t" -ge "$t0" ] && [ $((t - t0)) -le 1000000000 ] && pass "$1 fails within 1 s" ||
		fail "$1: error at $t, attach at $t0..$t1"
	case "$e" in ECONNABORTED|$3) pass "$1 errno $e" ;; *) fail "$1 errno: got $e, want ECONNABORTED${3:+ or $3}" ;; esac
}
wait_ok() { for _ in $(seq 150); do grep -q "^result=" "$1" && return; sleep 0.05; done; }
for f in d4 d6 du; do wait_ok "$T/$f"; done
err_after "TCP to 10.210.0.3" "$(grep result= "$T/d4")"
err_after "TCP to fd10:210::3" "$(grep result= "$T/d6")"
# The packet layer refuses the next datagram (EPERM) as fast as the socket
# is destroyed: either error is the application's; ss shows the destroy.
err_after "connected UDP to 10.210.0.3" "$(grep result= "$T/du")" EPERM
err_after "accepted from 10.210.0.3 (receiver in the cgroup)" \
	"$(grep 'peer=10.210.0.3:' "$T/lsink")"

wait $(jobs -p | grep -v -e "^$SINK$" -e "^$USINK$" -e "^$LSINK$") 2>/dev/null
kill -TERM $SINK $LSINK $USINK; wait $SINK $LSINK $USINK 2>/dev/null
for f in k4 k6 by in2; do
	r=$(grep result= "$T/$f")
	expect_eq "$f untouched" "$(kv result "$r")" ok
	port=$(kv port "$r"); sent=$(kv sent "$r")
	# every byte arrived, and some were sent after the attach
	sink=$T/sink; [ $f = in2 ] && sink=$T/lsink
	expect_eq "$f bytes received" "$(grep -m1 ":$port " "$sink" | sed 's/.*bytes=\([0-9]*\).*/\1/')" "$sent"
	late=$(awk -v t="$t1" '/^progress/ { split($2, a, "="); if (a[2] > t) n++ } END { print n + 0 }' "$T/$f")
	[ "$late" -ge 10 ] && pass "$f kept transferring after the swap ($late progress reports)" ||
		fail "$f: $late progress reports after the swap"
done
finish
