#!/bin/bash
# `cgguard run`: CMD runs guarded in a transient cgroup, its exit status is
# passed on, the counters it prints match what arrived, and the cgroup and
# its pins are gone afterwards.  Audit mode: denied traffic passes and is
# counted as audit.
. "$(dirname "$0")/../lib.sh"
need_root
T=$(mktemp -d)
trap 'cleanup_all; rm -rf "$T"' EXIT
cleanup_all
setup_netns || { fail "netns setup"; finish; }
links_before=$(ls /sys/fs/bpf/cgguard/link 2>/dev/null | wc -l)

cat > "$T/enf.yaml" <<'P'
policy: it-run
egress:
  rules: [ { action: deny, to: 10.210.0.3/32 } ]
P
sed 's/policy: it-run/policy: it-audit\nmode: audit/' "$T/enf.yaml" > "$T/audit.yaml"

serve udp-recv 10.210.0.3 5000 1000 "$T/b"
"$CGG" run --json --policy "$T/enf.yaml" --cgroup-name it-run -- \
	ip netns exec $NS_C "$TRAFFIC" udp-send 10.210.0.3 5000 11 > "$T/run.json"
wait
expect_eq "run: denied datagrams received" "$(kv received "$(cat "$T/b")")" 0
expect_eq "run: denial counter printed at exit" "$(grep '^{' "$T/run.json" | jq .operations.sendmsg.denied)" 11
expect_eq "run: exit status passed on" "$("$CGG" run --policy baseline -- sh -c 'exit 7' >/dev/null; echo $?)" 7
expect_eq "run: missing command exit status" "$("$CGG" run --policy baseline -- /nonexistent/cmd >/dev/null 2>&1; echo $?)" 127
[ -d "$CG2/cgguard/it-run" ] && fail "run: transient cgroup left behind" || pass "run: transient cgroup removed"
expect_eq "run: link pins left" "$(ls /sys/fs/bpf/cgguard/link | wc -l)" "$links_before"

CG=$(make_cg audit)
"$CGG" attach --cgroup "$CG" --policy "$T/audit.yaml" || fail "attach audit"
serve udp-recv 10.210.0.3 5000 1000 "$T/c"
client "$CG" udp-send 10.210.0.3 5000 13 >/dev/null
client "$CG" udp-send 10.210.0.2 5000 4 >/dev/null
wait
expect_eq "audit: would-be-denied datagrams arrive" "$(kv received "$(cat "$T/c")")" 13
expect_eq "audit: counted as audit" "$(stat_get "$CG" egress audit packets)" 13
expect_eq "audit: not counted as drop" "$(stat_get "$CG" egress drop packets)" 0
expect_eq "audit: socket layer counts audit too" "$(stat_get "$CG" operations sendmsg audit)" 13
expect_eq "audit: allowed counted as pass" "$(stat_get "$CG" egress pass packets)" 4
expect_eq "audit: list shows mode" "$("$CGG" list --json | jq -r --arg c "$CGREL/audit" '.[] | select(.cgroup==$c) | .mode')" audit
finish
