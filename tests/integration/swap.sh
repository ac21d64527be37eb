#!/bin/bash
# Policy swap under continuous traffic: 30 swaps between two policies that
# both deny host B (by different rules) and both allow host A.  Not one
# packet to B may arrive, not one packet to A may be lost, and a TCP flow
# running across all swaps must complete.
. "$(dirname "$0")/../lib.sh"
need_root
T=$(mktemp -d)
trap 'cleanup_all; rm -rf "$T"' EXIT
cleanup_all
setup_netns || { fail "netns setup"; finish; }

cat > "$T/p1.yaml" <<'P'
policy: it-swap-one
egress:
  default: allow
  rules:
    - { action: deny, to: 10.210.0.3/32 }
P
cat > "$T/p2.yaml" <<'P'
policy: it-swap-two
egress:
  default: deny
  rules:
    - { action: allow, to: 10.210.0.0/24 }
    - { action: allow, to: "fd10:210::/64" }
    - { action: deny, to: 10.210.0.3/32, proto: udp }
    - { action: deny, to: 10.210.0.3/32, proto: tcp }
P
CG=$(make_cg swap)
"$CGG" attach --cgroup "$CG" --policy "$T/p1.yaml" || fail "attach"
N=6000
serve udp-recv 10.210.0.2 5000 2000 "$T/a"
serve udp-recv 10.210.0.3 5000 2000 "$T/b"
serve tcp-recv 10.210.0.2 7000 2000 "$T/t"
client "$CG" udp-send 10.210.0.2 5000 $N 64 300 > "$T/ca" &
client "$CG" udp-send 10.210.0.3 5000 $N 64 300 > "$T/cb" &
client "$CG" tcp-send 10.210.0.2 7000 2000000000 10000 > "$T/ct" &
swaps=0
for i in $(seq 15); do
	sleep 0.05
	"$CGG" attach --cgroup "$CG" --policy "$T/p2.yaml" && swaps=$((swaps + 1))
	sleep 0.05
	"$CGG" attach --cgroup "$CG" --policy "$T/p1.yaml" && swaps=$((swaps + 1))
done
wait
expect_eq "swaps done" "$swaps" 30
expect_eq "allowed datagrams sent" "$(kv sent "$(cat "$T/ca")")" $N
expect_eq "allowed datagrams received (none lost)" "$(kv received "$(cat "$T/a")")" $N
expect_eq "denied datagrams received" "$(kv received "$(cat "$T/b")")" 0
expect_eq "TCP flow across swaps" "$(kv result "$(cat "$T/ct")")" ok
expect_eq "TCP bytes received" "$(kv bytes "$(cat "$T/t")")" 2000000000
expect_eq "denial counter = denied datagrams" "$(stat_get "$CG" operations sendmsg denied)" $N
expect_eq "slots in use after swaps (one policy)" \
	"$("$CGG" list --json | jq '[.[].policy] | unique | length')" 1
finish
