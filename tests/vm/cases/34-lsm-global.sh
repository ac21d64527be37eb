#!/bin/sh
# The global LSM flavour (one `lsm` program per hook, for kernels with BPF
# LSM but without lsm_cgroup): forced with CGGUARD_LSM_MODE=global on this
# 6.1 kernel, which has both.  The program finds the deepest guarded
# ancestor of the current task in cg_cgroups; unguarded cgroups are
# untouched and counters land on the guarded cgroup.
. /cases/lib.sh
export CGGUARD_LSM_MODE=global

A=$(make_cg glob-a) && C=$(make_cg glob-a/child) && B=$(make_cg glob-b) ||
	{ fail "mkdir cgroups"; finish; }
write_policy "$T/p.yaml" <<'P'
policy: vm-glob
egress:
  default: allow
  rules: [ { action: deny, to: 127.0.0.3/32 } ]
sockets:
  families: { deny: [packet] }
P
"$CGG" attach --cgroup "$A" --policy "$T/p.yaml" || fail "attach"
[ -e /sys/fs/bpf/cgguard/link/global-glsm_create ] && pass "global LSM link pinned" ||
	fail "no global LSM link: $(ls /sys/fs/bpf/cgguard/link /sys/fs/bpf/cgguard/prog)"
sock() { in_cg "$1" "$TRAFFIC" sock "$2" "$3" 0; }
expect_eq "guarded: socket(AF_PACKET)" "$(sock "$A" packet raw)" "result=socket_failed errno=EPERM"
expect_eq "guarded child: socket(AF_PACKET)" "$(sock "$C" packet raw)" "result=socket_failed errno=EPERM"
expect_eq "unguarded sibling: socket(AF_PACKET)" "$(sock "$B" packet raw)" "result=ok"
r=$(in_cg "$C" "$TRAFFIC" tcp-send 127.0.0.3 7000 10 1000)
expect_eq "guarded child: connect() to a denied address" "$(kv errno "$r")" EPERM
"$CGG" stats --json --cgroup "$A" > "$T/s.json"
expect_eq "lsm denials counted on the guarded cgroup" "$(jget '.[0].operations.lsm.denied' < "$T/s.json")" 3
"$CGG" list --json > "$T/l.json"
expect_eq "list: lsm layer enforced" "$(jget '.[0].layers.lsm.enforced' < "$T/l.json")" true
"$CGG" detach --cgroup "$A" || fail "detach"
expect_eq "after detach: socket(AF_PACKET)" "$(sock "$A" packet raw)" "result=ok"
finish
