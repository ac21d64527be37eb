#!/bin/bash
# Real UDP and TCP traffic from a guarded cgroup inside a client namespace to
# a server namespace: what arrives, what the sender sees, and the exact
# counters `cgguard stats --json` reports.
. "$(dirname "$0")/../lib.sh"
need_root
trap cleanup_all EXIT
cleanup_all
setup_netns || { fail "netns setup"; finish; }
T=$(mktemp -d); trap 'cleanup_all; rm -rf "$T"' EXIT

cat > "$T/p.yaml" <<'P'
policy: it-traffic
egress:
  default: allow
  rules:
    - { action: deny, to: 10.210.0.3/32 }
    - { action: deny, to: "fd10:210::3/128" }
    - { action: deny, to: 10.210.0.0/24, proto: udp, ports: [6000] }
    - { action: deny, to: 169.254.169.254 }
P
CG=$(make_cg traffic)
"$CGG" attach --cgroup "$CG" --policy "$T/p.yaml" || fail "attach"

# --- UDP, exact counts -------------------------------------------------------
serve udp-recv 10.210.0.2 5000 1500 "$T/a"
serve udp-recv 10.210.0.3 5000 1500 "$T/b"
serve udp-recv 10.210.0.2 6000 1500 "$T/c"
serve udp-recv fd10:210::2 5000 1500 "$T/d"
serve udp-recv fd10:210::3 5000 1500 "$T/e"
serve udp-recv 169.254.169.254 80 1500 "$T/m"
r1=$(client "$CG" udp-send 10.210.0.2 5000 50)
r2=$(client "$CG" udp-send 10.210.0.3 5000 20)
r3=$(client "$CG" udp-send 10.210.0.2 6000 30)
r4=$(client "$CG" udp-send fd10:210::2 5000 10)
r5=$(client "$CG" udp-send fd10:210::3 5000 10)
r6=$(client "$CG" udp-send 169.254.169.254 80 5)
wait
expect_eq "allowed v4 datagrams received" "$(kv received "$(cat "$T/a")")" 50
expect_eq "denied v4 host datagrams received" "$(kv received "$(cat "$T/b")")" 0
expect_eq "denied udp port datagrams received" "$(kv received "$(cat "$T/c")")" 0
expect_eq "allowed v6 datagrams received" "$(kv received "$(cat "$T/d")")" 10
expect_eq "denied v6 datagrams received" "$(kv received "$(cat "$T/e")")" 0
expect_eq "metadata datagrams received" "$(kv received "$(cat "$T/m")")" 0
expect_eq "sender sees EPERM on denied host" "$(kv errno "$r2")" EPERM
expect_eq "sender sees every denied send fail" "$(kv failed "$r3")" 30
expect_eq "allowed sends all succeed" "$(kv sent "$r1")/$(kv sent "$r4")" 50/10
expect_eq "egress pass packets" "$(stat_get "$CG" egress pass packets)" 60
# Denied sendto()s stop at the socket layer: EPERM, and no packet exists.
expect_eq "sendmsg denials (socket layer)" "$(stat_get "$CG" operations sendmsg denied)" 65
expect_eq "sendmsg allowed (socket layer)" "$(stat_get "$CG" operations sendmsg allowed)" 60
expect_eq "egress drop packets (none reached the packet layer)" "$(stat_get "$CG" egress drop packets)" 0
# 50 v4 + 10 v6 datagrams of 64 B payload: 50*(20+8+64) + 10*(40+8+64)
expect_eq "egress pass bytes" "$(stat_get "$CG" egress pass bytes)" $((50*92 + 10*112))
expect_eq "ingress packets (none expected)" "$(stat_get "$CG" ingress pass packets)" 0
hits=$("$CGG" stats --json --cgroup "$CG" | jq -r '[.[0].rule_hits[] | select(.rule|test("10.210.0.3/32"))][0].packets')
expect_eq "per-rule hits of 'deny to 10.210.0.3/32'" "$hits" 20

# --- TCP ---------------------------------------------------------------------
serve tcp-recv 10.210.0.2 7000 1500 "$T/t1"
serve tcp-recv 10.210.0.3 7000 1500 "$T/t2"
t1=$(client "$CG" tcp-send 10.210.0.2 7000 1000000 3000)
t2=$(client "$CG" tcp-send 10.210.0.3 7000 1000 1000)
wait
expect_eq "allowed TCP flow result" "$(kv result "$t1")" ok
expect_eq "allowed TCP bytes received" "$(kv bytes "$(cat "$T/t1")")" 1000000
expect_eq "denied TCP connect result" "$(kv result "$t2")" connect_failed
expect_eq "denied TCP connect errno (socket layer)" "$(kv errno "$t2")" EPERM
expect_eq "denied TCP connections accepted" "$(kv connections "$(cat "$T/t2")")" 0
in=$(stat_get "$CG" ingress pass packets)
[ "$in" -gt 0 ] && pass "TCP replies counted on ingress ($in)" || fail "no ingress packets counted for TCP"

# --- a socket connected before attach: only the packet layer can stop it ----
CG2B=$(make_cg traffic-pre)
serve udp-recv 10.210.0.3 5001 1500 "$T/pre"
rm -f "$T/go"
client "$CG2B" udp-wait 10.210.0.3 5001 17 "$T/go" > "$T/prec" &
for _ in $(seq 100); do grep -q connected "$T/prec" && break; sleep 0.02; done
"$CGG" attach --cgroup "$CG2B" --policy "$T/p.yaml" || fail "attach pre"
touch "$T/go"
wait
expect_eq "pre-attach socket: datagrams received" "$(kv received "$(cat "$T/pre")")" 0
expect_eq "pre-attach socket: packet-layer drops" "$(stat_get "$CG2B" egress drop packets)" 17
expect_eq "pre-attach socket: no sendmsg verdict (connected)" "$(stat_get "$CG2B" operations sendmsg denied)" 0

# --- requested vs enforced, and detach ---------------------------------------
expect_eq "list says enforced" "$("$CGG" list --json | jq -r --arg p "${CG#$CG2}" '.[] | select(.cgroup==$p) | .layers.packet.egress.enforced')" true
ids=$(bpftool cgroup show "$CG" | grep -c cg_egress)
expect_eq "kernel lists our egress program on the cgroup" "$ids" 1
"$CGG" detach --cgroup "$CG" || fail "detach"
expect_eq "programs left after detach" "$(bpftool cgroup show "$CG" | grep -c cg_)" 0
serve udp-recv 10.210.0.3 5000 800 "$T/b2"
client "$CG" udp-send 10.210.0.3 5000 7 >/dev/null
wait
expect_eq "after detach, traffic to the denied host flows" "$(kv received "$(cat "$T/b2")")" 7
finish
