#!/bin/bash
# `cgguard upgrade`: pinned programs of another build are replaced on a
# guarded cgroup without detaching it: the kernel shows new program ids on
# the same links, the policy keeps holding, and the counters carry over.
# "Another build" is simulated by clearing the build hash the pinned state
# records (cg_info.build), which is all the loader compares.
. "$(dirname "$0")/../lib.sh"
need_root
T=$(mktemp -d)
trap 'cleanup_all; rm -rf "$T"' EXIT
cleanup_all
setup_netns || { fail "netns setup"; finish; }
printf 'policy: it-upgrade\negress:\n  rules: [ { action: deny, to: 10.210.0.3/32 } ]\n' > "$T/p.yaml"
CG=$(make_cg up)
"$CGG" attach --cgroup "$CG" --policy "$T/p.yaml" || fail "attach"
CGID=$(stat -c %i "$CG")

serve udp-recv 10.210.0.2 5000 800 "$T/a"
client "$CG" udp-send 10.210.0.2 5000 10 >/dev/null
wait
expect_eq "before: egress pass" "$(stat_get "$CG" egress pass packets)" 10
progs() { bpftool cgroup show "$CG" -j | jq -r '[.[].id] | sort | join(",")'; }
links() { bpftool link show -j | jq -r --argjson c "$CGID" '[.[] | select(.cgroup_id == $c) | .id] | sort | join(",")'; }
p0=$(progs) l0=$(links)

# Pretend the pinned programs came from another build (cg_info.build:
# bytes 24-31; the epoch after it is kept).
INFO=/sys/fs/bpf/cgguard/map/cg_info
val=$(bpftool map lookup pinned "$INFO" key 0 0 0 0 -j | jq -r '.value | .[0:24] + ["0","0","0","0","0","0","0","0"] + .[32:] | join(" ")')
bpftool map update pinned "$INFO" key 0 0 0 0 value $val || fail "clearing the build hash"
"$CGG" list 2>&1 >/dev/null | grep -q "another cgguard build" && pass "list notes programs of another build" ||
	fail "list did not note the stale programs"
out=$("$CGG" upgrade) || fail "upgrade: $out"
echo "  $out"
n=$(sed -n 's/switched \([0-9]*\) .*/\1/p' <<<"$out")
[ "${n:-0}" -ge 9 ] && pass "upgrade switched $n links" || fail "upgrade switched '${n}' links"
p1=$(progs) l1=$(links)
expect_eq "same links on the cgroup" "$l1" "$l0"
[ "$p1" != "$p0" ] && [ -n "$p1" ] && pass "new program ids on the cgroup ($p0 -> $p1)" ||
	fail "program ids unchanged: $p1"
expect_eq "programs attached after the upgrade" "$(bpftool cgroup show "$CG" -j | jq length)" "$(tr ',' '\n' <<<"$p0" | wc -l)"
expect_eq "counters carried over" "$(stat_get "$CG" egress pass packets)" 10
serve udp-recv 10.210.0.2 5000 800 "$T/a2"
serve udp-recv 10.210.0.3 5000 800 "$T/b2"
client "$CG" udp-send 10.210.0.2 5000 7 >/dev/null
expect_eq "denied host still denied" "$(kv errno "$(client "$CG" udp-send 10.210.0.3 5000 5)")" EPERM
wait
expect_eq "allowed datagrams after the upgrade" "$(kv received "$(cat "$T/a2")")" 7
expect_eq "denied datagrams after the upgrade" "$(kv received "$(cat "$T/b2")")" 0
expect_eq "counting goes on" "$(stat_get "$CG" egress pass packets)" 17
expect_eq "list: enforced by the new programs" "$("$CGG" list --json | jq -r --arg c "$CGREL/up" '.[] | select(.cgroup==$c) | .layers.packet.enforced')" true
expect_eq "second upgrade is a no-op" "$("$CGG" upgrade)" "the pinned programs are this build's: nothing to do"
finish
