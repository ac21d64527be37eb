#!/bin/bash
# cgguard sandbox as uid 65534, no daemon: Landlock denies TCP connect to a
# port the policy denies (EACCES) and lets an allowed port through; seccomp
# refuses raw and packet sockets even where a user namespace would grant
# them, and TCP Fast Open to a denied port; every line of the printed
# report is checked against what really happened (including the parts it
# says are NOT enforced: they must indeed pass).  Exit status is CMD's.
. "$(dirname "$0")/../lib.sh"
need_root
T=$(mktemp -d)
chmod 755 "$T"; mkdir -m 1777 "$T/w"
trap 'cleanup_all; rm -rf "$T"' EXIT
cleanup_all
setup_netns || { fail "netns setup"; finish; }
ip netns exec $NS_C sysctl -qw net.ipv4.tcp_fastopen=3
ip netns exec $NS_S sysctl -qw net.ipv4.tcp_fastopen=3

abi=$("$CGG" --json sandbox --delegate off -- true 2>&1 >/dev/null | jq -r .landlock_abi)
expect_eq "doctor's Landlock ABI matches the sandbox's" \
	"$("$CGG" doctor --json 2>/dev/null | jq -r .unprivileged.landlock_abi)" "$abi"
[ "${abi:-0}" -ge 4 ] || skip "Landlock network rules need ABI 4, this kernel has ${abi:-none}"
setpriv --reuid 65534 --regid 65534 --clear-groups unshare -rn true 2>/dev/null ||
	skip "unprivileged user namespaces are disabled (needed to show seccomp at work)"

cat > "$T/p.yaml" <<'P'
policy: it-sandbox
egress:
  default: allow
  rules:
    - { action: deny, to: 0.0.0.0/0, proto: tcp, ports: ["7100-7199"] }
    - { action: deny, to: "::/0", proto: tcp, ports: ["7100-7199"] }
    - { action: deny, to: 10.210.0.3/32 }
sockets:
  raw: deny
  families: { deny: [packet], if_unavailable: warn }
  bind: { default: allow, deny: ["7000-7009"] }
P
chmod 644 "$T/p.yaml"

# nobody USER-CMD...: as uid 65534 in the client namespace
nobody() { ip netns exec $NS_C setpriv --reuid 65534 --regid 65534 --clear-groups "$@"; }
sb() { nobody "$CGG" --json sandbox --delegate off --policy "$T/p.yaml" -- "$@"; }

serve tcp-recv 10.210.0.2 7150 3000 "$T/s_denied"
serve tcp-recv 10.210.0.2 8080 3000 "$T/s_ok"
serve tcp-recv 10.210.0.3 8080 3000 "$T/s_addr"

# Control: without the sandbox, all of this works for uid 65534.
r=$(nobody "$TRAFFIC" tcp-send 10.210.0.2 7150 10 1000)
expect_eq "control: connect to the denied port without sandbox" "$(kv result "$r")" ok
r=$(nobody unshare -rn "$TRAFFIC" sock inet raw 1)
expect_eq "control: raw socket in a user namespace without sandbox" "$(kv result "$r")" ok
r=$(nobody unshare -rn "$TRAFFIC" sock packet raw 0)
expect_eq "control: packet socket in a user namespace without sandbox" "$(kv result "$r")" ok

r=$(sb "$TRAFFIC" tcp-send 10.210.0.2 7150 10 1000 2>"$T/rep")
expect_eq "sandbox: connect to denied port 7150" "$(kv errno "$r")" EACCES
rep=$(head -1 "$T/rep")
item() { jq -r --arg w "$1" '.items[] | select(.what | startswith($w)) | .status + " " + .by' <<<"$rep"; }
expect_eq "report: tcp connect" "$(item 'tcp connect: allowed to ports 0-7099, 7200-65535 only')" "enforced landlock"
expect_eq "report: delegated cgroup" "$(jq -r .delegated.active <<<"$rep")" false

r=$(sb "$TRAFFIC" tcp-send 10.210.0.2 8080 10 1000 2>/dev/null)
expect_eq "sandbox: connect to allowed port 8080" "$(kv result "$r")" ok
r=$(sb "$TRAFFIC" tcp-send fd10:210::2 7150 10 300 2>/dev/null)
expect_eq "sandbox: connect to denied port 7150 over IPv6" "$(kv errno "$r")" EACCES
r=$(sb "$TRAFFIC" tcp-fastopen 10.210.0.2 7150 1000 2>/dev/null)
expect_eq "sandbox: TCP Fast Open to the denied port" "$(kv errno "$r")" EPERM
expect_eq "report: fast open" "$(item 'tcp fast open')" "enforced seccomp"

# The report says addresses are not enforced: the address rule must then
# really not hold (no claim beyond what the kernel does).
expect_eq "report: addresses" "$(item 'egress addresses')" "not_enforced "
r=$(sb "$TRAFFIC" tcp-send 10.210.0.3 8080 10 1000 2>/dev/null)
expect_eq "sandbox: denied address 10.210.0.3 passes, as reported" "$(kv result "$r")" ok

r=$(sb unshare -rn "$TRAFFIC" sock inet raw 1 2>/dev/null)
expect_eq "sandbox: raw socket in a user namespace" "$(kv errno "$r")" EPERM
expect_eq "report: raw" "$(item 'raw inet sockets')" "enforced seccomp"
r=$(sb unshare -rn "$TRAFFIC" sock packet raw 0 2>/dev/null)
expect_eq "sandbox: packet socket in a user namespace" "$(kv errno "$r")" EPERM
expect_eq "report: families" "$(item 'socket families packet')" "enforced seccomp"

r=$(sb "$TRAFFIC" bind 10.210.0.1 7005 tcp 2>/dev/null)
expect_eq "sandbox: tcp bind to denied 7005" "$(kv errno "$r")" EACCES
r=$(sb "$TRAFFIC" bind 10.210.0.1 7010 tcp 2>/dev/null)
expect_eq "sandbox: tcp bind to 7010" "$(kv result "$r")" ok
expect_eq "report: tcp bind" "$(item 'tcp bind: allowed to ports 0-6999, 7010-65535')" "enforced landlock"
r=$(sb "$TRAFFIC" bind 10.210.0.1 7005 udp 2>/dev/null)
expect_eq "sandbox: udp bind to 7005 passes, as reported" "$(kv result "$r")" ok
expect_eq "report: udp bind" "$(item 'udp bind')" "not_enforced "

# Exit status is CMD's; a missing CMD is 127; --require-full refuses.
sb sh -c 'exit 7' 2>/dev/null
expect_eq "exit status of CMD" $? 7
sb /nonexistent 2>/dev/null
expect_eq "exit status of a missing CMD" $? 127
nobody "$CGG" sandbox --delegate off --require-full --policy "$T/p.yaml" -- touch "$T/w/ran" 2>/dev/null
expect_eq "--require-full with unenforceable parts: status" $? 1
[ -e "$T/w/ran" ] && fail "--require-full ran CMD" || pass "--require-full did not run CMD"
nobody "$CGG" sandbox --delegate require --socket "$T/none.sock" -- true 2>/dev/null
expect_eq "--delegate require without a daemon: status" $? 1
wait
finish
