# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
# Shared by the in-situ benchmarks (established.sh, newconn.sh): the
# cgroup2 mount, a veth pair between two namespaces of the benchmark's
# own, a policy of deny rules that the traffic never matches, medians.
# Sourced.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CGGUARD=$ROOT/cgguard
BENCH=$ROOT/.output/bench/bench_prog

# cg2_mount: where cgroup2 is mounted (from mountinfo, never assumed).
cg2_mount() {
	awk '{ for (i = 7; i <= NF; i++) if ($i == "-") {
		if ($(i + 1) == "cgroup2") { print $5; exit } break } }' \
		/proc/self/mountinfo
}

# bench_prereq TITLE: root, the built binaries and a cgroup2 mount (CG2),
# or "== TITLE: skipped: why ==" and exit 0.
bench_prereq() {
	local why=
	if [ "$(id -u)" != 0 ]; then
		why="needs root"
	elif [ ! -x "$CGGUARD" ] || [ ! -x "$BENCH" ]; then
		why="run 'make bench' first"
	else
		CG2=$(cg2_mount)
		[ -n "$CG2" ] || why="no cgroup2 mount"
	fi
	[ -z "$why" ] && return 0
	echo "== $1: skipped: $why =="
	exit 0
}

# veth_pair NS_A NS_B IF_A IF_B N: namespaces NS_A (10.N.0.1, fd20:N::1)
# and NS_B (10.N.0.2, fd20:N::2), joined by veth, neighbours resolved.
veth_pair() {
	local a=$1 b=$2 ia=$3 ib=$4 n=$5
	ip netns add $a && ip netns add $b || return 1
	ip link add $ia netns $a type veth peer name $ib netns $b || return 1
	ip -n $a link set lo up; ip -n $b link set lo up
	ip -n $a addr add 10.$n.0.1/24 dev $ia
	ip -n $a addr add fd20:$n::1/64 dev $ia nodad
	ip -n $b addr add 10.$n.0.2/24 dev $ib
	ip -n $b addr add fd20:$n::2/64 dev $ib nodad
	ip -n $a link set $ia up; ip -n $b link set $ib up
	ip netns exec $a ping -c1 -W1 10.$n.0.2 >/dev/null 2>&1
	ip netns exec $a ping -6 -c1 -W1 fd20:$n::2 >/dev/null 2>&1
	return 0
}

# bench_cleanup CGPREFIX NS_A NS_B [TMP]: detaches and removes every
# cgroup CGPREFIX* (an earlier, crashed run's too), deletes the two
# namespaces and TMP.  Needs CGGUARD.
bench_cleanup() {
	local d
	for d in "$1"*; do
		[ -d "$d" ] || continue
		"$CGGUARD" detach --cgroup "$d" >/dev/null 2>&1
		rmdir "$d" 2>/dev/null
	done
	ip netns del $2 2>/dev/null
	ip netns del $3 2>/dev/null
	[ -n "${4:-}" ] && rm -rf "$4"
	return 0
}

# deny_policy NAME FAM N V4_FIRST V6_PREFIX: N deny rules on /32s from
# V4_FIRST.0.0.0 up (or /128s under V6_PREFIX), default allow both ways.
deny_policy() {
	awk -v name=$1 -v fam=$2 -v n=$3 -v v4=$4 -v v6=$5 'BEGIN {
		print "policy: " name
		print "egress:\n  default: allow\n  rules:"
		for (i = 0; i < n; i++)
			if (fam == 4)
				printf "    - { action: deny, to: %d.%d.%d.%d/32 }\n",
					10, v4 + int(i / 65536), int(i / 256) % 256, i % 256
			else
				printf "    - { action: deny, to: \"%s:%x:%x/128\" }\n",
					v6, int(i / 65536), i % 65536
		print "ingress:\n  default: allow"
	}'
}

median() { sort -n | awk '{ a[NR] = $1 } END { print NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
