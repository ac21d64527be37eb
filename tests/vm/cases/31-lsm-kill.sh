#!/bin/sh
# BPF LSM layer, `on_violation: kill`: a process of the guarded cgroup that
# does what the policy denies is killed with SIGKILL (bpf_send_signal) at
# the syscall; allowed work and other cgroups are untouched.
. /cases/lib.sh

A=$(make_cg kill-a) && B=$(make_cg kill-b) || { fail "mkdir cgroups"; finish; }
write_policy "$T/p.yaml" <<'P'
policy: vm-kill
on_violation: kill
egress:
  default: allow
  rules:
    - { action: deny, to: 127.0.0.3/32 }
sockets:
  families: { deny: [packet] }
P
"$CGG" attach --cgroup "$A" --policy "$T/p.yaml" || fail "attach"

# run_rc CGROUP ARGS...: cgg_traffic's exit status (137 = SIGKILL) and output
run_rc() {
	_cg=$1; shift
	in_cg "$_cg" "$TRAFFIC" "$@" > "$T/out" 2>&1
	echo $?
}
expect_eq "guarded: socket(AF_PACKET) is killed (exit)" "$(run_rc "$A" sock packet raw 0)" 137
# The shell that waited may report "Killed"; cgg_traffic itself must not
# have got as far as printing its result line.
expect_eq "guarded: result lines printed before the kill" "$(grep -c result= "$T/out")" 0

serve udp-recv 127.0.0.2 5000 3000 "$T/a"
serve udp-recv 127.0.0.3 5000 3000 "$T/b"
expect_eq "guarded: allowed sends exit" "$(run_rc "$A" udp-send 127.0.0.2 5000 5)" 0
expect_eq "guarded: allowed sends result" "$(cat "$T/out")" "sent=5 failed=0 errno=0"
expect_eq "guarded: sendto(denied address) is killed (exit)" "$(run_rc "$A" udp-send 127.0.0.3 5000 5)" 137
wait
expect_eq "allowed datagrams received" "$(kv received "$(cat "$T/a")")" 5
expect_eq "denied datagrams received" "$(kv received "$(cat "$T/b")")" 0

expect_eq "unguarded sibling: socket(AF_PACKET) lives" "$(run_rc "$B" sock packet raw 0)" 0
expect_eq "root cgroup: socket(AF_PACKET) lives" "$(run_rc "$CG2" sock packet raw 0)" 0

"$CGG" detach --cgroup "$A" || fail "detach"
expect_eq "after detach: socket(AF_PACKET) lives" "$(run_rc "$A" sock packet raw 0)" 0
finish
