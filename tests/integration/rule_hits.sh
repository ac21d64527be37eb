#!/bin/bash
# Per-cgroup rule hits stay exact when more rules fire than the hooks'
# per-CPU hit caches hold (CG_HOT_RULES = 8 entries, direct-mapped): 20
# allow rules, each hit a different number of times, interleaved so that
# entries are displaced into the hash again and again.  Every allowed
# datagram counts twice (the sendmsg hook and its packet), so rule i must
# show exactly 2 x 3 x i hits in the cgroup, and the same per policy.
# A second cgroup on the same policy sends to one rule only: its hits are
# its own, and cgroup a's stay as they were.
. "$(dirname "$0")/../lib.sh"
need_root
begin_netns_test

N=20
{
	echo "policy: it-rule-hits"
	echo "egress:"
	echo "  default: deny"
	echo "  rules:"
	for i in $(seq $N); do
		echo "    - { action: allow, to: 10.210.0.3/32, proto: udp, ports: [$((9000 + i))] }"
	done
	echo "ingress:"
	echo "  default: allow"
} > "$T/p.yaml"
CG=$(make_cg a)
CGB=$(make_cg b)
"$CGG" attach --cgroup "$CG" --policy "$T/p.yaml" || fail "attach a"

# Three rounds over the 20 rules; rule i gets i datagrams a round.
sent=0
for r in 1 2 3; do
	for i in $(seq $N); do
		out=$(client "$CG" udp-send 10.210.0.3 $((9000 + i)) $i)
		sent=$((sent + $(kv sent "$out")))
	done
done
expect_eq "datagrams sent (none refused)" "$sent" $((3 * N * (N + 1) / 2))

"$CGG" attach --cgroup "$CGB" --policy "$T/p.yaml" || fail "attach b"
client "$CGB" udp-send 10.210.0.3 9007 11 > /dev/null

# counter of rule i (1-based) is i + 1: 0 and 1 are the two defaults
rules_of() { "$CGG" stats --json --cgroup "$1" --rules | jq -c '[.[0].rules[] | select(.counter >= 2 and .counter <= '$((N + 1))') | .hits]'; }
want_a=$(for i in $(seq $N); do echo $((6 * i)); done | jq -sc .)
expect_eq "cgroup a: rule i hit 6i times, all 20 rules" "$(rules_of "$CG")" "$want_a"
want_b=$(for i in $(seq $N); do [ $i = 7 ] && echo 22 || echo 0; done | jq -sc .)
expect_eq "cgroup b: rule 7 hit 22 times, no other" "$(rules_of "$CGB")" "$want_b"
want_p=$(for i in $(seq $N); do [ $i = 7 ] && echo $((6 * i + 22)) || echo $((6 * i)); done | jq -sc .)
expect_eq "policy: the sum of both cgroups" \
	"$("$CGG" stats --json --cgroup "$CG" | jq -c '[.[0].rule_hits[] | select(.counter >= 2 and .counter <= '$((N + 1))') | .packets]')" "$want_p"

# A swap forgets the old policy's hits in this cgroup, cache included.
sed -i 's/^policy: .*/policy: it-rule-hits-2/' "$T/p.yaml"
"$CGG" attach --cgroup "$CG" --policy "$T/p.yaml" || fail "swap a"
client "$CG" udp-send 10.210.0.3 9003 4 > /dev/null
want_s=$(for i in $(seq $N); do [ $i = 3 ] && echo 8 || echo 0; done | jq -sc .)
expect_eq "after a swap: only the new hits" "$(rules_of "$CG")" "$want_s"
finish
