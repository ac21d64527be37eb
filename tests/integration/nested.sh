#!/bin/bash
# A guarded cgroup covers processes in its (unguarded) child cgroups, the
# counters land on the guarded ancestor, and a child attaching its own
# allow-all program cannot open what the guard denies.  Detach removes only
# cgguard's links: a foreign program on the same cgroup stays attached.
. "$(dirname "$0")/../lib.sh"
need_root
FOREIGN=$TOP/.output/tests/foreign.bpf.o
PIN=/sys/fs/bpf/cgg-$ID-foreign
PINC=/sys/fs/bpf/cgg-$ID-foreign/foreign_connect_all
T=$(mktemp -d)
cleanup() { cleanup_all; rm -rf "$T" "$PIN"; }
trap cleanup EXIT
cleanup_all; rm -rf "$PIN"
setup_netns || { fail "netns setup"; finish; }

cat > "$T/p.yaml" <<'P'
policy: it-nested
egress:
  rules:
    - { action: deny, to: 10.210.0.3/32 }
P
PARENT=$(make_cg nested)
CHILD=$(make_cg nested/child/grandchild)
"$CGG" attach --cgroup "$PARENT" --policy "$T/p.yaml" || fail "attach parent"

serve udp-recv 10.210.0.2 5000 1000 "$T/a"
serve udp-recv 10.210.0.3 5000 1000 "$T/b"
client "$CHILD" udp-send 10.210.0.2 5000 12 >/dev/null
client "$CHILD" udp-send 10.210.0.3 5000 8 >/dev/null
wait
expect_eq "grandchild: allowed datagrams received" "$(kv received "$(cat "$T/a")")" 12
expect_eq "grandchild: denied datagrams received" "$(kv received "$(cat "$T/b")")" 0
expect_eq "counted on the guarded ancestor: pass" "$(stat_get "$PARENT" egress pass packets)" 12
expect_eq "counted on the guarded ancestor: denied" "$(stat_get "$PARENT" operations sendmsg denied)" 8

# A child cgroup attaches an allow-all program of its own (multi mode).
bpftool prog loadall "$FOREIGN" "$PIN" || fail "load foreign programs"
PINE=$PIN/foreign_allow_all
bpftool cgroup attach "$CHILD" egress pinned "$PINE" multi || fail "attach foreign egress to child"
bpftool cgroup attach "$CHILD" connect4 pinned "$PINC" multi || fail "attach foreign connect4 to child"
serve udp-recv 10.210.0.3 5000 1000 "$T/c"
serve tcp-recv 10.210.0.3 7000 1000 "$T/tc"
client "$CHILD" udp-send 10.210.0.3 5000 9 >/dev/null
tc=$(client "$CHILD" tcp-send 10.210.0.3 7000 100 1000)
wait
expect_eq "child's allow-all does not open the denied host (udp)" "$(kv received "$(cat "$T/c")")" 0
expect_eq "child's allow-all connect4 does not open it (tcp errno)" "$(kv errno "$tc")" EPERM
expect_eq "child's allow-all: no connection arrived" "$(kv connections "$(cat "$T/tc")")" 0
bpftool cgroup detach "$CHILD" connect4 pinned "$PINC"

# Foreign program on the guarded cgroup itself survives our detach.
bpftool cgroup attach "$PARENT" egress pinned "$PINE" multi || fail "attach foreign to parent"
"$CGG" detach --cgroup "$PARENT" || fail "detach"
expect_eq "foreign program still on the parent" "$(bpftool cgroup show "$PARENT" | grep -c foreign_allow)" 1
expect_eq "cgguard programs left on the parent" "$(bpftool cgroup show "$PARENT" | grep -c 'cg_egress\|cg_ingress')" 0
expect_eq "foreign program still on the child" "$(bpftool cgroup show "$CHILD" | grep -c foreign_allow)" 1
expect_eq "link pins left" "$(ls /sys/fs/bpf/cgguard/link | grep -c "^$(stat -c %i "$PARENT")-")" 0
bpftool cgroup detach "$PARENT" egress pinned "$PINE"
bpftool cgroup detach "$CHILD" egress pinned "$PINE"
finish
