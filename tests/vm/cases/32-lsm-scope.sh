#!/bin/sh
# BPF LSM layer, per-cgroup scoping: lsm_cgroup programs share their maps
# across every guarded cgroup, so each cgroup must get its own policy's
# verdict, and a guarded child cannot loosen what its guarded parent denies
# (every attached program must allow).
. /cases/lib.sh

A=$(make_cg scope-a) && B=$(make_cg scope-b) && AC=$(make_cg scope-a/inner) ||
	{ fail "mkdir cgroups"; finish; }
write_policy "$T/pa.yaml" <<'P'
policy: vm-scope-a
sockets:
  families: { deny: [packet] }
P
write_policy "$T/pb.yaml" <<'P'
policy: vm-scope-b
egress:
  default: allow
  rules:
    - { action: deny, to: 127.0.0.3/32 }
P
write_policy "$T/pall.yaml" <<'P'
policy: vm-scope-all
egress:
  default: allow
sockets:
  raw: allow
  families: { deny: [] }
P
"$CGG" attach --cgroup "$A" --policy "$T/pa.yaml" || fail "attach A"
"$CGG" attach --cgroup "$B" --policy "$T/pb.yaml" || fail "attach B"

sock() { in_cg "$1" "$TRAFFIC" sock "$2" "$3" 0; }
expect_eq "A (denies packet): socket(AF_PACKET)" "$(sock "$A" packet raw)" "result=socket_failed errno=EPERM"
expect_eq "B (denies 127.0.0.3 only): socket(AF_PACKET)" "$(sock "$B" packet raw)" "result=ok"

# Connected UDP: connect() is where the socket layers judge the address.
serve udp-recv 127.0.0.3 5000 3000 "$T/r"
ra=$(in_cg "$A" "$TRAFFIC" udp-connected 127.0.0.3 5000 4)
rb=$(in_cg "$B" "$TRAFFIC" udp-connected 127.0.0.3 5000 4)
wait
echo "A: $ra"; echo "B: $rb"
expect_eq "A may send to 127.0.0.3" "$(kv sent "$ra")" 4
expect_eq "B may not connect to 127.0.0.3" "$(echo "$rb" | grep -o 'errno=[A-Z]*')" errno=EPERM
expect_eq "datagrams received at 127.0.0.3 (A's only)" "$(kv received "$(cat "$T/r")")" 4

# A guarded child of A with an allow-everything policy.
"$CGG" attach --cgroup "$AC" --policy "$T/pall.yaml" || fail "attach A/inner"
expect_eq "A/inner (allows all, under A): socket(AF_PACKET)" "$(sock "$AC" packet raw)" "result=socket_failed errno=EPERM"
expect_eq "A itself still: socket(AF_PACKET)" "$(sock "$A" packet raw)" "result=socket_failed errno=EPERM"

# Detaching A leaves B's and A/inner's guards as they were.
"$CGG" detach --cgroup "$A" || fail "detach A"
expect_eq "A after detach: socket(AF_PACKET)" "$(sock "$A" packet raw)" "result=ok"
expect_eq "A/inner after A's detach: socket(AF_PACKET)" "$(sock "$AC" packet raw)" "result=ok"
rb2=$(in_cg "$B" "$TRAFFIC" udp-connected 127.0.0.3 5000 1)
expect_eq "B after A's detach: still may not connect to 127.0.0.3" "$(echo "$rb2" | grep -o 'errno=[A-Z]*')" errno=EPERM
finish
