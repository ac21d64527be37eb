#!/bin/bash
# Two guarded cgroups, one inside the other, each with its own policy: a
# packet passes only if both allow (no loosening), and what both allow
# passes: datagrams on unconnected and connected UDP and a TCP stream,
# although the two attachments share each socket's cached verdict.
. "$(dirname "$0")/../lib.sh"
need_root
T=$(mktemp -d)
trap 'cleanup_all; rm -rf "$T"' EXIT
cleanup_all
setup_netns || { fail "netns setup"; finish; }
cat > "$T/op.yaml" <<'P'
policy: it-ng-op
egress:
  rules:
    - { action: deny, to: 10.210.0.3/32 }
P
cat > "$T/user.yaml" <<'P'
policy: it-ng-user
egress:
  default: allow
  rules:
    - { action: allow, to: 10.0.0.0/8 }
    - { action: deny, to: 169.254.169.254/32 }
P
PARENT=$(make_cg ng)
CHILD=$(make_cg ng/app)
"$CGG" attach --cgroup "$PARENT" --policy "$T/op.yaml" >/dev/null || fail "attach parent"
"$CGG" attach --cgroup "$CHILD" --policy "$T/user.yaml" >/dev/null || fail "attach child"
serve udp-recv 10.210.0.2 5000 1500 "$T/ok"
serve udp-recv 10.210.0.3 5000 1500 "$T/op"
serve tcp-recv 10.210.0.2 7000 1500 "$T/tok"
client "$CHILD" udp-send 10.210.0.3 5000 20 >/dev/null
client "$CHILD" udp-send 10.210.0.2 5000 20 >/dev/null
t=$(client "$CHILD" tcp-send 10.210.0.2 7000 100 1000)
wait
expect_eq "both allow: datagrams received" "$(kv received "$(cat "$T/ok")")" 20
expect_eq "parent denies: datagrams received" "$(kv received "$(cat "$T/op")")" 0
expect_eq "both allow: tcp result" "$(kv result "$t")" ok
expect_eq "both allow: tcp bytes" "$(kv bytes "$(cat "$T/tok")")" 100
finish
