#!/bin/sh
# BPF LSM layer, address families: `sockets: { families: { deny: [packet] } }`
# makes socket(AF_PACKET, ...) fail with EPERM for every process of the
# guarded cgroup and of the cgroups below it, and for nobody else.  The
# cgroup socket hooks never see AF_PACKET; only lsm_cgroup/socket_create can.
. /cases/lib.sh

A=$(make_cg fam-a) && B=$(make_cg fam-b) && C=$(make_cg fam-a/child) ||
	{ fail "mkdir cgroups"; finish; }
write_policy "$T/p.yaml" <<'P'
policy: vm-families
sockets:
  families: { deny: [packet] }
P
# Default --fail closed: attach must succeed (BPF LSM is here) and must not
# fall back to a policy without its LSM part.
"$CGG" attach --cgroup "$A" --policy "$T/p.yaml" 2> "$T/attach.err" || fail "attach: $(cat "$T/attach.err")"
cat "$T/attach.err"
grep -q WITHOUT "$T/attach.err" && fail "attach applied the policy without its LSM part"

sock() { in_cg "$1" "$TRAFFIC" sock "$2" "$3" 0; }
expect_eq "guarded: socket(AF_PACKET, SOCK_RAW)" "$(sock "$A" packet raw)" "result=socket_failed errno=EPERM"
expect_eq "guarded: socket(AF_PACKET, SOCK_DGRAM)" "$(sock "$A" packet dgram)" "result=socket_failed errno=EPERM"
expect_eq "guarded child cgroup: socket(AF_PACKET, SOCK_RAW)" "$(sock "$C" packet raw)" "result=socket_failed errno=EPERM"
expect_eq "guarded: socket(AF_INET, SOCK_DGRAM) still fine" "$(sock "$A" inet dgram)" "result=ok"
expect_eq "guarded: socket(AF_UNIX, SOCK_STREAM) still fine" "$(sock "$A" unix stream)" "result=ok"
expect_eq "unguarded sibling: socket(AF_PACKET, SOCK_RAW)" "$(sock "$B" packet raw)" "result=ok"
expect_eq "root cgroup: socket(AF_PACKET, SOCK_RAW)" "$("$TRAFFIC" sock packet raw 0)" "result=ok"

"$CGG" stats --json --cgroup "$A" > "$T/stats.json" || fail "stats"
echo "stats: $(cat "$T/stats.json")"
# Counted on the guarded ancestor, the child's denial included.
expect_eq "LSM denials counted" "$(jget '.[0].operations.lsm.denied' < "$T/stats.json")" 3

"$CGG" detach --cgroup "$A" || fail "detach"
expect_eq "after detach: socket(AF_PACKET, SOCK_RAW)" "$(sock "$A" packet raw)" "result=ok"
finish
