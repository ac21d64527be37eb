#!/bin/bash
# `cgguard sockets`: a guarded cgroup tree's sockets, in every network
# namespace its processes use, are exactly the ones `ss` shows for those
# cgroups (compared by inode), with their kind and cached verdict; a
# bystander's sockets are not listed; bad input gets a precise error.
. "$(dirname "$0")/../lib.sh"
need_root
begin_netns_test
command -v nsenter >/dev/null || skip "nsenter (util-linux) missing"

cat > "$T/allow.yaml" <<'P'
policy: it-sd-allow
egress: { default: allow }
ingress: { default: allow }
P
CG=$(make_cg top)
SUB=$(make_cg top/sub)
OTHER=$(make_cg other)
"$CGG" attach --cgroup "$CG" --policy "$T/allow.yaml" || fail "attach"


ip netns exec $NS_S "$STREAM" sink 0.0.0.0 7001 tcp > "$T/s4" & wait_ready "$T/s4"
ip netns exec $NS_S "$STREAM" sink :: 7002 tcp > "$T/s6" & wait_ready "$T/s6"
ip netns exec $NS_S "$STREAM" sink 10.210.0.2 7003 udp > "$T/su" & wait_ready "$T/su"
# The guarded tree: streams (v4, v6, connected UDP) in the top cgroup, a
# listener and an unconnected UDP socket in the child, and a sink in the
# *server* namespace, so the tree spans two namespaces.
in_ns_cg "$CG" $NS_C "$STREAM" send 10.210.0.2 7001 tcp 8000 > "$T/c4" &
in_ns_cg "$CG" $NS_C "$STREAM" send fd10:210::2 7002 tcp 8000 > "$T/c6" &
in_ns_cg "$CG" $NS_C "$STREAM" send 10.210.0.2 7003 udp 8000 > "$T/cu" &
in_ns_cg "$SUB" $NS_C "$STREAM" sink 0.0.0.0 7100 tcp > "$T/l" & wait_ready "$T/l"
in_ns_cg "$SUB" $NS_C "$STREAM" sink :: 5353 udp > "$T/lu" & wait_ready "$T/lu"
in_ns_cg "$SUB" $NS_S "$STREAM" sink 10.210.0.2 7200 tcp > "$T/ls" & wait_ready "$T/ls"
# Into the child's listener from outside: an accepted socket in the tree.
ip netns exec $NS_S "$STREAM" send 10.210.0.1 7100 tcp 8000 > "$T/in" &
# Datagrams from two peers to the unconnected UDP socket: it remembers
# both (cg_sk_peers), the second peer's two datagrams as one.
ip netns exec $NS_S "$TRAFFIC" udp-send 10.210.0.1 5353 1 >/dev/null
ip netns exec $NS_S "$TRAFFIC" udp-send fd10:210::1 5353 2 >/dev/null
# A bystander in another cgroup, same namespace: never listed.
in_ns_cg "$OTHER" $NS_C "$STREAM" send 10.210.0.2 7001 tcp 8000 > "$T/by" &
sleep 0.5

# What ss sees for the two cgroups, in each namespace (nsenter keeps our
# mounts, so ss finds the cgroup2 mount).
ss_inodes() {
	local ns
	for ns in $NS_C $NS_S; do
		nsenter --net=/var/run/netns/$ns ss -tuaneH \
			"( cgroup ${CG#$CG2} or cgroup ${SUB#$CG2} )"
	done | grep -o 'ino:[0-9]*' | cut -d: -f2 | sort -n | tr '\n' ' '
}
want=$(ss_inodes)
"$CGG" sockets --cgroup "$CG" --json > "$T/j" || fail "sockets --json"
got=$(jq -r '.sockets[].inode' "$T/j" | sort -n | tr '\n' ' ')
want2=$(ss_inodes)
[ "$want" = "$want2" ] || fail "sockets changed during the check: '$want' vs '$want2'"
expect_eq "sockets listed = ss --cgroup (inodes)" "$got" "$want"
expect_eq "sockets listed" "$(jq '.sockets | length' "$T/j")" 7
expect_eq "network namespaces scanned (ours + 2)" "$(jq .netns "$T/j")" 3
expect_eq "cgroups covered" "$(jq .cgroups "$T/j")" 2
expect_eq "policy" "$(jq -r .policy "$T/j")" it-sd-allow
by=$(nsenter --net=/var/run/netns/$NS_C ss -tanH cgroup "${OTHER#$CG2}" | wc -l)
expect_eq "bystander sockets ss sees" "$by" 1
kinds() { jq -r "[.sockets[] | select($1) | .kind] | sort | join(\",\")" "$T/j"; }
expect_eq "v4 stream kind" "$(kinds '.peer == "10.210.0.2:7001"')" connected
expect_eq "v6 stream kind" "$(kinds '.peer == "[fd10:210::2]:7002"')" connected
expect_eq "connected UDP kind" "$(kinds '.netid == "udp" and .peer == "10.210.0.2:7003"')" connected
expect_eq "unconnected UDP kind" "$(kinds '.local == "*:5353"')" unconnected
# UDP storage comes through the socket iterator (sock_diag has TCP's only)
expect_eq "connected UDP: verdict cached at connect()" \
	"$(jq -r '[.sockets[] | select(.netid == "udp" and .peer == "10.210.0.2:7003") | .verdict][0]' "$T/j")" allow
expect_eq "v4 stream: verdict" \
	"$(jq -r '[.sockets[] | select(.peer == "10.210.0.2:7001") | .verdict][0]' "$T/j")" allow
expect_eq "unconnected UDP: peers remembered" \
	"$(jq '[.sockets[] | select(.local == "*:5353") | .peers][0]' "$T/j")" 2
expect_eq "listeners" "$(kinds '.state == "LISTEN"')" listener,listener
expect_eq "accepted from outside" "$(kinds '.local == "10.210.0.1:7100" and .state == "ESTAB"')" accepted
ns_of() { jq -r ".sockets[] | select(.local == \"$1\") | .netns" "$T/j"; }
[ -n "$(ns_of 10.210.0.2:7200)" ] && [ "$(ns_of 10.210.0.2:7200)" != "$(ns_of 10.210.0.1:7100 | head -1)" ] &&
	pass "listener in the server namespace found there" || fail "server-namespace listener"
# The child alone: only its own sockets.
"$CGG" sockets --cgroup "$SUB" --json > "$T/js" || fail "sockets on the child"
expect_eq "child: sockets" "$(jq '.sockets | length' "$T/js")" 4
expect_eq "child: enforced by the guarded parent" "$(jq -r .guarded_cgroup "$T/js")" "${CG#$CG2}"
"$CGG" sockets --cgroup "$CG" > "$T/txt" || fail "sockets (text)"
grep -q '^7 sockets; cgroup' "$T/txt" || fail "text summary: $(tail -1 "$T/txt")"

# Bad input: precise errors, exit codes, nothing printed on stdout.
err() { "$CGG" sockets "$@" > "$T/o" 2> "$T/e"; echo $?; }
expect_eq "unknown cgroup: exit" "$(err --cgroup /cgguard-it/nonexistent)" 1
grep -q 'cgroup /cgguard-it/nonexistent: No such file or directory' "$T/e" || fail "unknown cgroup message: $(cat "$T/e")"
expect_eq "not guarded: exit" "$(err --cgroup "$OTHER")" 1
grep -q 'is not guarded by cgguard' "$T/e" || fail "not-guarded message: $(cat "$T/e")"
expect_eq "no --cgroup: exit" "$(err)" 2
expect_eq "bad flag: exit" "$(err --cgroup "$CG" --bogus)" 2
expect_eq "extra argument: exit" "$(err --cgroup "$CG" extra)" 2
expect_eq "stdout on errors" "$(wc -c < "$T/o")" 0
expect_eq "not a cgroup v2 dir: exit" "$(err --cgroup /proc)" 1
grep -q 'not a cgroup v2 directory' "$T/e" || fail "non-cgroup message: $(cat "$T/e")"
finish
