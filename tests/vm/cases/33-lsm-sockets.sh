#!/bin/sh
# LSM layer for connect/bind/sendmsg on 6.1, and the socket-layer checks of
# the host tier (tests/integration/sockets.sh) on this second kernel.  The
# LSM hooks run before the protocol code (and so before the cgroup socket
# hooks): a denied connect() or bind() is counted by the lsm layer, and
# the connect/bind layers never see it.
. /cases/lib.sh

G=$(make_cg lsm-sock) || { fail "mkdir cgroup"; finish; }
write_policy "$T/p.yaml" <<'P'
policy: vm-lsm-sock
egress:
  default: allow
  rules:
    - { action: deny, to: 127.0.0.3/32 }
    - { action: deny, to: "::ffff:127.0.0.4/128" }
sockets:
  raw: deny
  bind: { default: allow, deny: ["1-1023"] }
P
"$CGG" attach --cgroup "$G" --policy "$T/p.yaml" || fail "attach"
st() { "$CGG" stats --json --cgroup "$G" | jget ".[0].operations.$1.$2"; }

serve udp-recv 127.0.0.3 5000 1500 "$T/u"
serve tcp-recv 127.0.0.3 7000 1500 "$T/t"
serve udp-recv 127.0.0.4 5000 1500 "$T/u4"
r=$(in_cg "$G" "$TRAFFIC" tcp-send 127.0.0.3 7000 100 1000)
expect_eq "connect() to a denied address" "$(kv errno "$r")" EPERM
expect_eq "lsm layer counted the connect" "$(st lsm denied)" 1
expect_eq "connect layer never saw it" "$(st connect denied)" 0
expect_eq "sendto() to a denied address" "$(kv errno "$(in_cg "$G" "$TRAFFIC" udp-send 127.0.0.3 5000 3)")" EPERM
expect_eq "sendmmsg() to a denied address: sent" "$(kv sent "$(in_cg "$G" "$TRAFFIC" udp-sendmmsg 127.0.0.3 5000 4)")" 0
expect_eq "IPv4-mapped destination (v6 socket)" "$(kv errno "$(in_cg "$G" "$TRAFFIC" udp-send ::ffff:127.0.0.4 5000 2)")" EPERM
r=$(in_cg "$G" "$TRAFFIC" tcp-fastopen 127.0.0.3 7000 1000)
expect_eq "TCP Fast Open to a denied address" "$(kv result "$r")" sendto_failed
expect_eq "bind() to denied port 80" "$(kv errno "$(in_cg "$G" "$TRAFFIC" bind 127.0.0.1 80 tcp)")" EPERM
expect_eq "bind layer never saw it (LSM first)" "$(st bind denied)" 0
expect_eq "bind() to port 8080" "$(kv result "$(in_cg "$G" "$TRAFFIC" bind 127.0.0.1 8080 tcp)")" ok
expect_eq "raw inet socket" "$(kv errno "$(in_cg "$G" "$TRAFFIC" sock inet raw 1)")" EPERM
wait
expect_eq "UDP datagrams that reached 127.0.0.3" "$(kv received "$(cat "$T/u")")" 0
expect_eq "TCP connections that reached 127.0.0.3" "$(kv connections "$(cat "$T/t")")" 0
expect_eq "datagrams that reached 127.0.0.4" "$(kv received "$(cat "$T/u4")")" 0
# connect + 3 sendto + 1 sendmmsg + 1 mapped sendto (first of 2 fails... each
# datagram is its own sendto: 2) + TFO + bind 80 + raw socket
expect_eq "lsm layer denials in all" "$(st lsm denied)" 10
finish
