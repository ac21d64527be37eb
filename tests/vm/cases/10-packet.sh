#!/bin/sh
# The packet layer (cgroup_skb egress/ingress) on this second kernel: real
# UDP over loopback from a guarded cgroup, exact numbers of what arrived,
# what the sender saw and what `cgguard stats --json` counted; then detach.
# Also a socket connected BEFORE attach: only the packet layer sees it
# (connect4/sendmsg4 hooks never run for it), so it must still be stopped.
. /cases/lib.sh

CG=$(make_cg vmt) || { fail "mkdir cgroup"; finish; }
write_policy "$T/p.yaml" <<'P'
policy: vm-packet
egress:
  default: allow
  rules:
    - { action: deny, to: 127.0.0.3/32 }
P

# Pre-existing socket: connected to the denied address while unguarded,
# sends only once "go" exists (after attach).
in_cg "$CG" "$TRAFFIC" udp-wait 127.0.0.3 5001 10 "$T/go" > "$T/w" &
wait_line "$T/w" connected

"$CGG" attach --cgroup "$CG" --policy "$T/p.yaml" || fail "attach"

# Idle 4 s: emulation is slow and a denied server must outlive the sends.
serve udp-recv 127.0.0.2 5000 4000 "$T/a"
serve udp-recv 127.0.0.3 5000 4000 "$T/b"
serve udp-recv 127.0.0.3 5001 4000 "$T/c"
r1=$(in_cg "$CG" "$TRAFFIC" udp-send 127.0.0.2 5000 50)
r2=$(in_cg "$CG" "$TRAFFIC" udp-send 127.0.0.3 5000 20)
touch "$T/go"
wait
echo "sender .2: $r1"; echo "sender .3: $r2"; echo "pre-attach socket: $(tr '\n' ' ' < "$T/w")"
expect_eq "allowed datagrams received" "$(kv received "$(cat "$T/a")")" 50
expect_eq "denied datagrams received" "$(kv received "$(cat "$T/b")")" 0
expect_eq "pre-attach socket's datagrams received" "$(kv received "$(cat "$T/c")")" 0
expect_eq "allowed sends succeed" "$(kv sent "$r1")/$(kv failed "$r1")" 50/0
expect_eq "denied sends fail" "$(kv sent "$r2")/$(kv failed "$r2")" 0/20
expect_eq "denied sender sees" "$(kv errno "$r2")" EPERM
expect_eq "pre-attach socket's sends fail" "$(kv failed "$(grep sent= "$T/w")")" 10

"$CGG" stats --json --cgroup "$CG" > "$T/stats.json" || fail "stats"
echo "stats: $(cat "$T/stats.json")"
st() { jget ".[0].$1" < "$T/stats.json"; }
expect_eq "egress pass packets" "$(st egress.pass.packets)" 50
# 50 datagrams, 64 B payload each: 50 * (20 IP + 8 UDP + 64)
expect_eq "egress pass bytes" "$(st egress.pass.bytes)" $((50 * 92))
# Where the 20 fresh denied sends are stopped depends on which layers this
# kernel has: BPF LSM (socket_sendmsg) or cgroup/sendmsg4 at the syscall,
# else the packet layer.  Each denial is counted exactly once, by the layer
# that stopped it, so the packet layer's drops plus every socket-level
# "denied" is 30.  The 10 from the pre-attach connected socket pass no
# address to any sendmsg hook: only the packet layer can drop them.
ops=$(grep -o '"denied":[0-9]*' "$T/stats.json" | sed 's/.*://' |
	awk '{ s += $1 } END { print s + 0 }')
drop=$(st egress.drop.packets)
drop=${drop:-0}
echo "denied at the socket layers: $ops, dropped by the packet layer: $drop"
expect_eq "every denied datagram counted once (packet drops + socket denials)" \
	$((drop + ops)) 30
[ "$drop" -ge 10 ] && pass "packet layer dropped the pre-attach socket's 10" ||
	fail "packet layer dropped $drop, fewer than the pre-attach socket's 10"
# Each dropped packet is a 64 B datagram (92 B) or, from udp-wait, 8 B (36 B).
expect_eq "egress drop bytes" "$(st egress.drop.bytes)" $((10 * 36 + (drop - 10) * 92))
# Loopback delivers to the servers' sockets, which live in the root cgroup.
expect_eq "ingress pass packets" "$(st ingress.pass.packets)" 0
hits=$(grep -o '"rule":"[^"]*127\.0\.0\.3/32[^"]*","packets":[0-9]*' "$T/stats.json" |
	sed 's/.*"packets"://')
expect_eq "hits of 'deny to 127.0.0.3/32'" "$hits" 30

"$CGG" detach --cgroup "$CG" || fail "detach"
serve udp-recv 127.0.0.3 5002 3000 "$T/d"
r3=$(in_cg "$CG" "$TRAFFIC" udp-send 127.0.0.3 5002 7)
wait
expect_eq "after detach, datagrams to .3 received" "$(kv received "$(cat "$T/d")")" 7
expect_eq "after detach, sends succeed" "$(kv sent "$r3")" 7
finish
