#!/bin/sh
# Events of the LSM layer: a kill (on_violation: kill) and an LSM denial
# each produce exactly one event naming layer lsm, the verdict, the pid and
# command; socket() events name the family asked for.  Both LSM flavours:
# lsm_cgroup (per cgroup) and the global programs.
. /cases/lib.sh

policy() { # policy NAME ON_VIOLATION
	write_policy "$T/$1.yaml" <<P
policy: $1
on_violation: $2
events: { rate: 1000, burst: 1000 }
egress:
  default: allow
  rules:
    - { action: deny, to: 127.0.0.3/32 }
sockets:
  families: { deny: [packet] }
P
}
# events FILE PATTERN: lines of FILE matching all of PATTERN's parts
count() { f=$1; shift; c=$(cat "$f"); for p in "$@"; do c=$(echo "$c" | grep -F -- "$p"); done
	[ -n "$c" ] && echo "$c" | wc -l || echo 0; }

run_flavour() { # run_flavour NAME
	A=$(make_cg "ev-$1") || { fail "mkdir"; return; }
	policy "vm-ev-$1" kill
	"$CGG" attach --cgroup "$A" --policy "$T/vm-ev-$1.yaml" || fail "$1: attach"
	"$CGG" monitor --json --cgroup "$A" > "$T/m-$1" 2> "$T/m-$1.err" &
	mon=$!
	sleep 0.5
	in_cg "$A" "$TRAFFIC" sock packet raw 0 > /dev/null 2>&1
	expect_eq "$1: killed at socket(AF_PACKET)" "$?" 137
	in_cg "$A" "$TRAFFIC" udp-send 127.0.0.3 5000 5 > /dev/null 2>&1
	expect_eq "$1: killed at sendto(denied)" "$?" 137
	sleep 0.5
	kill -INT $mon; wait $mon
	[ -s "$T/m-$1.err" ] && echo "monitor said: $(cat "$T/m-$1.err")"
	expect_eq "$1: events" "$(wc -l < "$T/m-$1")" 2
	expect_eq "$1: kill event for socket(AF_PACKET)" "$(count "$T/m-$1" '"layer":"lsm"' \
		'"verdict":"kill"' '"what":"socket family packet type raw"' '"comm":"cgg_traffic"')" 1
	expect_eq "$1: kill event for sendto 127.0.0.3" "$(count "$T/m-$1" '"layer":"lsm"' \
		'"verdict":"kill"' '"dst":"127.0.0.3"' '"dport":5000' '"rule":2')" 1
	"$CGG" detach --cgroup "$A" || fail "$1: detach"
}

run_flavour cgroup
# The global flavour needs the state loaded afresh.
rm -rf /sys/fs/bpf/cgguard
export CGGUARD_LSM_MODE=global
run_flavour global
finish
