#!/bin/bash
# Socket layer on the host kernel: denied connect/sendto/sendmsg/sendmmsg
# (IPv4, IPv6, IPv4-mapped) fail at once with EPERM and nothing reaches the
# server; TCP Fast Open does not get through; bind to a denied port fails;
# raw inet sockets are refused; a policy needing the LSM layer (which this
# kernel refuses) is refused fail-closed and reported degraded fail-open.
. "$(dirname "$0")/../lib.sh"
need_root
T=$(mktemp -d)
trap 'cleanup_all; rm -rf "$T"' EXIT
cleanup_all
setup_netns || { fail "netns setup"; finish; }
ip netns exec $NS_C sysctl -qw net.ipv4.tcp_fastopen=3
ip netns exec $NS_S sysctl -qw net.ipv4.tcp_fastopen=3

cat > "$T/p.yaml" <<'P'
policy: it-sockets
egress:
  default: allow
  rules:
    - { action: deny, to: 10.210.0.3/32 }
    - { action: deny, to: "fd10:210::3/128" }
sockets:
  raw: deny
  bind: { default: allow, deny: ["1-1023"] }
P
CG=$(make_cg sockets)
"$CGG" attach --cgroup "$CG" --policy "$T/p.yaml" || fail "attach"

serve udp-recv 10.210.0.3 5000 1500 "$T/u4"
serve udp-recv fd10:210::3 5000 1500 "$T/u6"
serve tcp-recv 10.210.0.3 7000 1500 "$T/t4"
serve tcp-recv fd10:210::3 7000 1500 "$T/t6"
for a in 10.210.0.3 fd10:210::3 ::ffff:10.210.0.3; do
	r=$(client "$CG" tcp-send $a 7000 100 1000)
	expect_eq "connect() to $a: errno" "$(kv errno "$r")" EPERM
	ms=$(kv ms "$r")
	# EPERM from the hook, not a SYN timeout: well under the 1 s timeout.
	awk "BEGIN{exit !($ms < 50)}" && pass "connect() to $a failed in $ms ms" ||
		fail "connect() to $a took $ms ms"
	expect_eq "sendto() to $a" "$(kv errno "$(client "$CG" udp-send $a 5000 3)")" EPERM
	expect_eq "sendmsg() to $a" "$(kv errno "$(client "$CG" udp-sendmsg $a 5000 3)")" EPERM
	expect_eq "sendmmsg() to $a: sent" "$(kv sent "$(client "$CG" udp-sendmmsg $a 5000 4)")" 0
	expect_eq "connected UDP to $a" "$(kv result "$(client "$CG" udp-connected $a 5000 2)")" connect_failed
	r=$(client "$CG" tcp-fastopen $a 7000 1000)
	expect_eq "TCP Fast Open to $a" "$(kv result "$r")" sendto_failed
done
# A denied connect() leaves a connected UDP socket with its allowed peer
# (and its cached verdict): both rounds of datagrams arrive.
serve udp-recv 10.210.0.2 5001 1500 "$T/ok4"
r=$(client "$CG" udp-reconnect 10.210.0.2 5001 5 10.210.0.3)
expect_eq "UDP re-connect() to a denied peer" "$(kv reconnect_errno "$r")" EPERM
expect_eq "UDP sends to the allowed peer, before and after" "$(kv sent "$r")" 10
wait
expect_eq "UDP datagrams that reached 10.210.0.2 (the allowed peer)" "$(kv received "$(cat "$T/ok4")")" 10
expect_eq "UDP datagrams that reached 10.210.0.3" "$(kv received "$(cat "$T/u4")")" 0
expect_eq "UDP datagrams that reached fd10:210::3" "$(kv received "$(cat "$T/u6")")" 0
expect_eq "TCP connections that reached 10.210.0.3" "$(kv connections "$(cat "$T/t4")")" 0
expect_eq "TCP connections that reached fd10:210::3" "$(kv connections "$(cat "$T/t6")")" 0
# 3 addresses x (1 connect + 1 UDP connect + 1 TFO) = 9 connect verdicts,
# and the UDP re-connect above
expect_eq "connect layer denials" "$(stat_get "$CG" operations connect denied)" 10
# 3 addresses x (3 sendto + 3 sendmsg + 1 sendmmsg stopping at the first)
expect_eq "sendmsg layer denials" "$(stat_get "$CG" operations sendmsg denied)" 21
expect_eq "packet layer drops (nothing got that far)" "$(stat_get "$CG" egress drop packets)" 0

# Allowed traffic is untouched by the socket layer.
serve tcp-recv 10.210.0.2 7000 1000 "$T/ok"
expect_eq "connect() to an allowed host" "$(kv result "$(client "$CG" tcp-send 10.210.0.2 7000 5000 1000)")" ok
wait
expect_eq "allowed bytes received" "$(kv bytes "$(cat "$T/ok")")" 5000

# bind() and socket().
expect_eq "bind to denied port 80" "$(kv errno "$(client "$CG" bind 10.210.0.1 80 tcp)")" EPERM
expect_eq "bind to denied port 53/udp (v6)" "$(kv errno "$(client "$CG" bind fd10:210::1 53 udp)")" EPERM
expect_eq "bind to allowed port 8080" "$(kv result "$(client "$CG" bind 10.210.0.1 8080 tcp)")" ok
expect_eq "bind to port 0 (ephemeral)" "$(kv result "$(client "$CG" bind 10.210.0.1 0 udp)")" ok
expect_eq "raw inet socket" "$(kv errno "$(client "$CG" sock inet raw 1)")" EPERM
expect_eq "raw inet6 socket" "$(kv errno "$(client "$CG" sock inet6 raw 58)")" EPERM
expect_eq "ordinary UDP socket" "$(kv result "$(client "$CG" sock inet dgram 0)")" ok
expect_eq "bind layer denials" "$(stat_get "$CG" operations bind denied)" 2
expect_eq "create layer denials" "$(stat_get "$CG" operations create denied)" 2
expect_eq "outside the guarded cgroup, raw sockets work" "$(kv result "$(ip netns exec $NS_C "$TRAFFIC" sock inet raw 1)")" ok

# A policy denying the packet family needs BPF LSM, which this kernel refuses.
printf 'policy: it-fam\nsockets:\n  families: { deny: [packet] }\n' > "$T/fam.yaml"
CGF=$(make_cg families)
"$CGG" attach --cgroup "$CGF" --policy "$T/fam.yaml" 2> "$T/err"
expect_eq "families without LSM, fail closed: refused" "$?" 1
grep -q "needs the BPF LSM layer" "$T/err" && pass "refusal names the LSM layer" || fail "refusal: $(cat "$T/err")"
expect_eq "nothing attached after the refusal" "$(bpftool cgroup show "$CGF" | grep -c cg_)" 0
"$CGG" attach --fail open --cgroup "$CGF" --policy "$T/fam.yaml" 2> "$T/err" || fail "fail-open attach"
grep -q "WITHOUT its LSM part" "$T/err" && pass "fail open warns" || fail "no warning: $(cat "$T/err")"
L=$("$CGG" list --json | jq -c --arg c "$CGREL/families" '.[] | select(.cgroup==$c)')
expect_eq "fail open: list says degraded" "$(jq -r .degraded <<<"$L")" true
expect_eq "fail open: lsm layer requested" "$(jq -r .layers.lsm.requested <<<"$L")" true
expect_eq "fail open: lsm layer not enforced" "$(jq -r .layers.lsm.enforced <<<"$L")" false
expect_eq "fail open: packet socket still opens (honestly unenforced)" "$(kv result "$(client "$CGF" sock packet raw 0)")" ok
finish
