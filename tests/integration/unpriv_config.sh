#!/bin/bash
# The daemon's unprivileged: config section and its socket: every key
# validated with file:line:col (a bad file changes nothing), the socket's
# modes, who is served (uid, user, gid, supplementary groups), EACCES and a
# log line for a caller not in the config, malformed requests refused.
. "$(dirname "$0")/../lib.sh"
need_root
command -v setpriv >/dev/null || skip "needs setpriv (util-linux)"
PY=/usr/bin/python3
[ -x $PY ] || skip "needs /usr/bin/python3 (the protocol client of this test)"

T=$(mktemp -d)
chmod 755 "$T"
DPID=""
USOCK=$T/run/user.sock
stop_daemon() { [ -n "$DPID" ] && kill "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; DPID=""; }
trap 'stop_daemon; rm -rf "$T"' EXIT
mkdir -p "$T/pol"
printf 'policy: it-upc\ningress: { default: deny }\n' > "$T/pol/p.yaml"

# check_bad NAME YAML WANT: --check refuses the config with WANT in the error
check_bad() {
	printf '%s\n' "$2" > "$T/bad.yaml"
	local out; out=$("$CGG" daemon --check --config "$T/bad.yaml" --policy-dir "$T/pol" 2>&1)
	if [ $? != 0 ] && grep -qF -- "$3" <<<"$out"; then pass "refused: $1"
	else fail "$1: want an error with '$3', got: $out"; fi
}
check_bad "two principals" 'unprivileged:
  - { uid: 1, gid: 2, policies: [] }' "bad.yaml:2:20: unprivileged: an entry names exactly one of"
check_bad "no principal" 'unprivileged:
  - { policies: [a] }' "bad.yaml:2:5: unprivileged: an entry needs one of uid:"
check_bad "no policies" 'unprivileged:
  - { uid: 7 }' "an entry needs policies:"
check_bad "unknown user" 'unprivileged:
  - { user: no-such-user-xyz, policies: [a] }' "no such user 'no-such-user-xyz'"
check_bad "unknown group" 'unprivileged:
  - { group: no-such-group-xyz, policies: [a] }' "no such group"
check_bad "bad uid" 'unprivileged:
  - { uid: -1, policies: [a] }' "uid: a number from 0 to 4294967294"
check_bad "bad policy name" 'unprivileged:
  - { uid: 5, policies: ["a/b"] }' "'a/b' is not a policy name"
check_bad "bad files" 'unprivileged:
  - { uid: 5, policies: [], files: yes }' "files: true or false"
check_bad "subtree .." 'unprivileged:
  - { uid: 5, policies: [], subtree: a/../b }' "subtree: 'a/../b' has an empty"
check_bad "subtree root" 'unprivileged:
  - { uid: 5, policies: [], subtree: / }' "the cgroup2 root cannot be delegated"
check_bad "unknown key" 'unprivileged:
  - { uid: 5, policies: [], foo: 1 }' "unknown key 'foo'"
check_bad "duplicate key" 'unprivileged:
  - { uid: 5, policies: [], policies: [] }' "duplicate key 'policies'"
check_bad "not a list" 'unprivileged: { uid: 5 }' "expected a list of entries"
check_bad "relative socket" 'unprivileged_socket: run/x.sock' "an absolute path"

groupdel cgg-it-upc 2>/dev/null; groupadd -g 4242 cgg-it-upc 2>/dev/null || groupadd cgg-it-upc
GID=$(getent group cgg-it-upc | cut -d: -f3)
cat > "$T/config.yaml" <<C
unprivileged_socket: $USOCK
unprivileged:
  - user: nobody
    policies: [it-upc]
  - group: cgg-it-upc
    policies: []
    files: true
    subtree: /cgguard-it/upc/
C
"$CGG" daemon --check --config "$T/config.yaml" --policy-dir "$T/pol" >/dev/null || fail "good config refused"
"$CGG" daemon --config "$T/config.yaml" --policy-dir "$T/pol" --socket "$T/run/root.sock" \
	--metrics off > "$T/daemon.log" 2>&1 &
DPID=$!
for _ in $(seq 200); do [ -S "$USOCK" ] && break; sleep 0.02; done
expect_eq "user socket mode" "$(stat -c %a "$USOCK")" 666
expect_eq "root socket mode" "$(stat -c %a "$T/run/root.sock")" 600
expect_eq "socket dir mode (searchable, not listable)" "$(stat -c %a "$T/run")" 701

cat > "$T/c.py" <<'P'
import socket, sys, array
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.send(sys.argv[2].encode())
msg, anc, _, _ = s.recvmsg(65536, socket.CMSG_SPACE(4))
print(msg.decode().strip(), "fds=%d" % sum(len(d) // 4 for l, t, d in anc if t == socket.SCM_RIGHTS))
P
# req AS_UID AS_GID GROUPS JSON
req() {
	local g=--clear-groups; [ -n "$3" ] && g="--groups=$3"
	setpriv --reuid "$1" --regid "$2" $g $PY "$T/c.py" "$USOCK" "$4"
}

out=$(req 65534 65534 "" '{"cmd":"hello"}')
grep -q '"ok":true,"uid":65534,.*"policies":\["it-upc"\],"files":false,"subtree":""' <<<"$out" \
	&& pass "nobody (user: entry) served" || fail "hello as nobody: $out"
out=$(req 1000 1000 "$GID" '{"cmd":"hello"}')
grep -q '"ok":true,"uid":1000,.*"files":true,"subtree":"cgguard-it/upc"' <<<"$out" \
	&& pass "supplementary group entry matched" || fail "hello as uid 1000 +group: $out"
out=$(req 1000 1000 "" '{"cmd":"hello"}')
grep -q '"ok":false,"errno":13' <<<"$out" && pass "uid 1000 without the group: EACCES" || fail "got $out"
grep -q "refused pid [0-9]* uid 1000 gid 1000: not in unprivileged:" "$T/daemon.log" \
	&& pass "refusal logged" || fail "refusal not logged"
out=$(req 0 0 "" '{"cmd":"hello"}')
grep -q '"errno":13' <<<"$out" && pass "root (not in the config) refused too" || fail "root: $out"

# Malformed requests: each refused with EINVAL, nothing handed out.
for r in '{"cmd":"hello"' '{"cmd":"nope"}' '{"cmd":"filter"}' '{"cmd":"filter","policy":"it-upc","x":1}' \
	 '[1]' '{"cmd":"filter","policy":""}' '{"cmd":"filter","policy":7}'; do
	out=$(req 65534 65534 "" "$r")
	grep -q '"ok":false,"errno":22.*fds=0' <<<"$out" && pass "malformed $r" || fail "malformed $r: $out"
done
out=$(req 65534 65534 "" "{\"cmd\":\"hello\",\"pad\":\"$(head -c 5000 /dev/zero | tr '\0' a)\"}")
grep -q '"errno":7' <<<"$out" && pass "oversized request refused" || fail "oversized: $out"
out=$(req 65534 65534 "" '{"cmd":"filter","policy":"baseline"}')
grep -q '"errno":13.*not in the policies' <<<"$out" && pass "policy outside the entry: EACCES" || fail "got $out"
groupdel cgg-it-upc 2>/dev/null
finish
