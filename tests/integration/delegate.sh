#!/bin/bash
# Delegated attach through the daemon's unprivileged socket, as uid 65534
# with a cgroup subtree delegated to it by chown:
#  - its own cgroup gets its policy: EPERM on connect, 0 datagrams through;
#  - refused with a clear error, nothing changed (cgguard list and the
#    kernel's attached programs compared before/after): a cgroup outside
#    its subtree, one it does not own, a policy not in its list, the
#    operator's own guard on its subtree root, a file it passes as O_PATH;
#  - no loosening: the operator's parent policy denies 10.210.0.3, the
#    user's allows 10.0.0.0/8: still denied;
#  - cgguard sandbox with the delegating daemon: a denied address is
#    refused too (cgroup BPF), a denied port by Landlock; cleaned up after.
. "$(dirname "$0")/../lib.sh"
need_root
command -v setpriv >/dev/null || skip "needs setpriv (util-linux)"
PY=/usr/bin/python3
T=$(mktemp -d)
chmod 755 "$T"
DPID=""
USOCK=$T/run/user.sock
stop_daemon() { [ -n "$DPID" ] && kill "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; DPID=""; }
# The traffic servers, not the daemon (also a background job).
wait_servers() { local p; for p in $(jobs -p); do [ "$p" = "$DPID" ] || wait "$p"; done; }
trap 'stop_daemon; cleanup_all; rm -rf "$T"' EXIT
cleanup_all
setup_netns || { fail "netns setup"; finish; }

mkdir -p "$T/pol" "$T/home"
cat > "$T/pol/user.yaml" <<'P'
policy: it-dlg-user
egress:
  default: allow
  rules:
    - { action: allow, to: 10.0.0.0/8 }
    - { action: deny, to: 169.254.169.254/32 }
P
cat > "$T/pol/op.yaml" <<'P'
policy: it-dlg-op
egress:
  rules:
    - { action: deny, to: 10.210.0.3/32 }
P
cat > "$T/home/sbx.yaml" <<'P'
policy: it-dlg-sbx
egress:
  default: allow
  rules:
    - { action: deny, to: 10.210.0.2/32, proto: tcp, ports: [8080] }
    - { action: deny, to: 0.0.0.0/0, proto: tcp, ports: [7150] }
    - { action: deny, to: "::/0", proto: tcp, ports: [7150] }
P
echo 'policy: it-dlg-secret' > "$T/secret.yaml"; chmod 600 "$T/secret.yaml"
chown -R 65534:65534 "$T/home"; chmod 600 "$T/home/sbx.yaml"

# The delegated subtree: U (chowned to 65534, guarded by the operator),
# U/app and U/sb made by the user itself, U/rootowned made by root; and
# OUT, chowned to the user but outside its subtree.
U=$(make_cg user); OUT=$(make_cg outside); ROOTOWNED=$(make_cg user/rootowned)
chown 65534:65534 "$U" "$U/cgroup.procs" "$U/cgroup.subtree_control" "$U/cgroup.threads"
chown -R 65534:65534 "$OUT"
"$CGG" attach --cgroup "$U" --policy "$T/pol/op.yaml" >/dev/null || fail "operator attach"

cat > "$T/config.yaml" <<C
unprivileged_socket: $USOCK
unprivileged:
  - uid: 65534
    policies: [it-dlg-user]
    files: true
    subtree: ${CGREL#/}/user
  - uid: 65533
    policies: [it-dlg-user]
    subtree: ${CGREL#/}/user
C
"$CGG" daemon --config "$T/config.yaml" --policy-dir "$T/pol" --socket "$T/run/root.sock" \
	--metrics off > "$T/daemon.log" 2>&1 &
DPID=$!
for _ in $(seq 200); do [ -S "$USOCK" ] && break; sleep 0.02; done
[ -S "$USOCK" ] || { fail "daemon did not start: $(cat "$T/daemon.log")"; finish; }

as() { local u=$1; shift; setpriv --reuid "$u" --regid "$u" --clear-groups "$@"; }
ctl() { local u=$1; shift; as "$u" "$CGG" ctl --socket "$USOCK" "$@"; }
as 65534 mkdir "$U/app" "$U/sb" || fail "the user cannot make cgroups in its subtree"
APP=$U/app

# Everything cgguard and the kernel have for our cgroups, to show that a
# refusal changed nothing.
snapshot() {
	"$CGG" list --json | jq -c "[.[] | select(.cgroup | startswith(\"$CGREL\")) | {cgroup, policy, delegated}]"
	for d in "$U" "$APP" "$ROOTOWNED" "$OUT"; do bpftool cgroup show "$d" 2>/dev/null | wc -l; done
}
# refused WHAT WANT CTL-ARGS...: as 65534, exit 1 with WANT in the error, no change
refused() {
	local what=$1 want=$2 before out rc; shift 2
	before=$(snapshot)
	out=$(ctl 65534 "$@" 2>&1); rc=$?
	if [ $rc = 1 ] && grep -qF -- "$want" <<<"$out"; then pass "refused: $what"
	else fail "$what: want exit 1 and '$want', got $rc: $out"; fi
	[ "$(snapshot)" = "$before" ] && pass "nothing changed: $what" || fail "$what changed state"
}

refused "cgroup outside the subtree" "is outside your delegated subtree" \
	attach --cgroup "$OUT" --policy it-dlg-user
refused "cgroup it does not own" "is owned by uid 0, not by you (uid 65534)" \
	attach --cgroup "$ROOTOWNED" --policy it-dlg-user
refused "policy not in its list" "policy 'it-dlg-op' is not in your list" \
	attach --cgroup "$APP" --policy it-dlg-op
refused "replacing the operator's guard" "is guarded by the operator (policy it-dlg-op)" \
	attach --cgroup "$U" --policy it-dlg-user
refused "detaching the operator's guard" "is guarded by the operator" detach --cgroup "$U"
refused "'..' in the path" "'.' and '..' are not allowed" \
	attach --cgroup "$CGREL/user/app/../../outside" --policy it-dlg-user
mkdir "$U/u2" && chown 65533 "$U/u2"
out=$(ctl 65533 attach --cgroup "$U/u2" --policy "$T/pol/user.yaml" 2>&1)
grep -q "policy files are not allowed for you" <<<"$out" && pass "files: false refuses a file" ||
	fail "files: false: $out"
# A file the user cannot read: it cannot open it, and an O_PATH fd (which
# needs no read permission) is refused by the daemon.
out=$(ctl 65534 attach --cgroup "$APP" --policy "$T/secret.yaml" 2>&1)
grep -q "Permission denied" <<<"$out" && pass "unreadable file: refused by the kernel" || fail "unreadable: $out"
cat > "$T/opath.py" <<'P'
import os, socket, sys
fd = os.open(sys.argv[2], os.O_PATH)
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.connect(sys.argv[1])
s.sendmsg([('{"cmd":"attach","cgroup":"%s","policy_fd":true}' % sys.argv[3]).encode()],
	   [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fd.to_bytes(4, sys.byteorder))])
print(s.recv(65536).decode())
P
out=$(as 65534 $PY "$T/opath.py" "$USOCK" "$T/secret.yaml" "$CGREL/user/app")
grep -q '"errno":9,"error":"the policy fd must be open for reading' <<<"$out" &&
	pass "O_PATH fd of an unreadable file refused" || fail "O_PATH: $out"

# Its own cgroup: attached, marked delegated, enforced.
out=$(ctl 65534 attach --cgroup "$APP" --policy it-dlg-user 2>&1) || fail "attach own cgroup: $out"
expect_eq "list: policy and delegated flag" \
	"$("$CGG" list --json | jq -r ".[] | select(.cgroup == \"$CGREL/user/app\") | \"\(.policy) \(.delegated)\"")" \
	"it-dlg-user true"
grep -q "delegated attach: uid 65534 pid [0-9]*: /${CGREL#/}/user/app policy it-dlg-user" "$T/daemon.log" &&
	pass "attach logged" || fail "attach not logged"

serve udp-recv 169.254.169.254 5000 1500 "$T/u_meta"
serve udp-recv 10.210.0.2 5000 1500 "$T/u_ok"
serve udp-recv 10.210.0.3 5000 1500 "$T/u_op"
serve tcp-recv 169.254.169.254 7000 1500 "$T/t_meta"
serve tcp-recv 10.210.0.3 7000 1500 "$T/t_op"
user_client() { in_cg "$APP" ip netns exec $NS_C setpriv --reuid 65534 --regid 65534 --clear-groups "$TRAFFIC" "$@"; }
r=$(user_client tcp-send 169.254.169.254 7000 100 1000)
expect_eq "user's policy: connect to 169.254.169.254" "$(kv errno "$r")" EPERM
r=$(user_client udp-send 169.254.169.254 5000 20)
expect_eq "user's policy: sendto 169.254.169.254 sent" "$(kv sent "$r")" 0
# No loosening: the user's policy allows 10.0.0.0/8, the operator's denies 10.210.0.3.
r=$(user_client tcp-send 10.210.0.3 7000 100 1000)
expect_eq "operator's deny under the user's allow: connect 10.210.0.3" "$(kv errno "$r")" EPERM
user_client udp-send 10.210.0.3 5000 20 >/dev/null
user_client udp-send 10.210.0.2 5000 20 >/dev/null
wait_servers
expect_eq "datagrams that reached 169.254.169.254" "$(kv received "$(cat "$T/u_meta")")" 0
expect_eq "datagrams that reached 10.210.0.3 (operator's deny)" "$(kv received "$(cat "$T/u_op")")" 0
expect_eq "datagrams that reached 10.210.0.2 (allowed by both)" "$(kv received "$(cat "$T/u_ok")")" 20
expect_eq "tcp connections to 169.254.169.254" "$(kv connections "$(cat "$T/t_meta")")" 0
expect_eq "tcp connections to 10.210.0.3" "$(kv connections "$(cat "$T/t_op")")" 0

# Detach: the user's own guard goes, the operator's stays.
ctl 65534 detach --cgroup "$APP" >/dev/null || fail "detach own cgroup"
expect_eq "guarded after detach" \
	"$("$CGG" list --json | jq -c "[.[] | select(.cgroup | startswith(\"$CGREL\")) | .policy]")" '["it-dlg-op"]'

# cgguard sandbox with the delegating daemon, run from U/sb (the user's).
serve tcp-recv 10.210.0.2 8080 3000 "$T/s_addr"
serve tcp-recv 10.210.0.2 9090 3000 "$T/s_ok"
sbx() {
	# nsenter, not ip netns exec: that remounts /sys, and the cgroup2
	# mount with it, which the sandbox needs to make its cgroup.
	in_cg "$U/sb" nsenter --net=/var/run/netns/$NS_C setpriv --reuid 65534 --regid 65534 --clear-groups \
		"$CGG" --json sandbox --socket "$USOCK" --policy "$T/home/sbx.yaml" -- "$@"
}
r=$(sbx "$TRAFFIC" tcp-send 10.210.0.2 8080 10 1000 2>"$T/rep")
rep=$(head -1 "$T/rep")
expect_eq "sandbox: delegated cgroup active" "$(jq -r .delegated.active <<<"$rep")" true
[ "$(jq -r .delegated.active <<<"$rep")" = true ] || echo "sandbox said: $(cat "$T/rep")"
expect_eq "sandbox: denied address 10.210.0.2:8080 (cgroup BPF)" "$(kv errno "$r")" EPERM
expect_eq "sandbox report: port 8080 left to addresses" \
	"$(jq -r '.items[] | select(.what | startswith("tcp connect to ports 8080")) | .status' <<<"$rep")" looser
r=$(sbx "$TRAFFIC" tcp-send 10.210.0.2 7150 10 1000 2>/dev/null)
expect_eq "sandbox: denied port 7150 (Landlock)" "$(kv errno "$r")" EACCES
r=$(sbx "$TRAFFIC" tcp-send 10.210.0.2 9090 10 1000 2>/dev/null)
expect_eq "sandbox: allowed 10.210.0.2:9090" "$(kv result "$r")" ok
r=$(sbx "$TRAFFIC" tcp-send 10.210.0.3 9090 10 1000 2>/dev/null)
expect_eq "sandbox: the operator's deny holds inside the sandbox" "$(kv errno "$r")" EPERM
left=$(find "$U/sb" -mindepth 1 -type d | wc -l)
expect_eq "sandbox cgroups left behind" "$left" 0
expect_eq "guarded after the sandboxes" \
	"$("$CGG" list --json | jq -c "[.[] | select(.cgroup | startswith(\"$CGREL\")) | .policy]")" '["it-dlg-op"]'
wait_servers
stop_daemon
finish
