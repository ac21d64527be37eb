#!/bin/bash
# Established connections and policy changes (issue 7), IPv4 and IPv6:
#  - swap under traffic: a TCP stream whose peer the new policy denies
#    moves no data, either way, later than 100 ms after `attach` returns;
#    a stream the new policy still allows loses nothing;
#  - pre-attach sockets: connections opened before the first attach are
#    judged on their next packet: a denied peer gets nothing through, an
#    allowed one keeps going, and an accepted connection of a listener
#    that predates the attach is judged by the ingress rules.
. "$(dirname "$0")/../lib.sh"
need_root
CONN=${CONN:-$TOP/.output/cgg_conn}
# Servers wait for their first client this long: the clients start one by
# one after all of them, which takes seconds on a busy machine.
export CGG_CONN_FIRST_MS=15000
T=$(mktemp -d)
trap 'cleanup_all; rm -rf "$T"' EXIT
cleanup_all
setup_netns || { fail "netns setup"; finish; }

bg() {	# bg FILE CMD...: in the background; wait for "ready"/"connected"
	local out=$1; shift
	"$@" > "$out" &
	for _ in $(seq 250); do grep -qE "ready|connected" "$out" 2>/dev/null && return 0; sleep 0.02; done
	fail "did not start: $*"
	"$CGG" stats --cgroup "$CG" >&2; ip -n $NS_C -6 neigh >&2; ip netns exec $NS_C ss -tnpi >&2
}
srv() { ip netns exec $NS_S "$CONN" "$@"; }
inside() { local cg=$1; shift; in_cg "$cg" ip netns exec $NS_C "$CONN" "$@"; }
now() { "$CONN" now; }
# late WHAT FILE T: the stream in FILE moved its last byte within 100 ms of T
late() {
	local last; last=$(kv last_ms "$(tail -1 "$2")")
	if awk -v l="$last" -v t="$3" 'BEGIN { exit !(l <= t + 100) }'; then
		pass "$1: last byte $(awk -v l="$last" -v t="$3" 'BEGIN { printf "%.1f", l - t }') ms after attach returned"
	else
		fail "$1: data moved $(awk -v l="$last" -v t="$3" 'BEGIN { printf "%.1f", l - t }') ms after attach returned (limit 100)"
	fi
}
# whole WHAT SENDER RECEIVER: every byte written arrived, and after T too
whole() {
	local s r; s=$(kv bytes "$(tail -1 "$2")"); r=$(kv bytes "$(tail -1 "$3")")
	[ -n "$s" ] && [ "$s" -gt 0 ] && [ "$s" = "$r" ] && pass "$1: $r bytes, none lost" ||
		fail "$1: sent $s, received $r"
	awk -v l="$(kv last_ms "$(tail -1 "$3")")" -v t="$4" 'BEGIN { exit !(l > t + 300) }' &&
		pass "$1: still flowing after the change" || fail "$1: stopped at the change"
}

cat > "$T/both.yaml" <<'P'
policy: it-cswap-both
egress: { default: allow }
ingress:
  default: deny
  rules:
    - { action: allow, from: 10.210.0.0/24, proto: tcp, ports: [9000] }
    - { action: allow, from: "fd10:210::/64", proto: tcp, ports: [9000] }
P
cat > "$T/cut.yaml" <<'P'
policy: it-cswap-cut
egress:
  default: allow
  rules:
    - { action: deny, to: 10.210.0.3/32 }
    - { action: deny, to: "fd10:210::3/128" }
ingress:
  default: deny
  rules:
    - { action: allow, from: 10.210.0.0/24, proto: tcp, ports: [9000] }
    - { action: allow, from: "fd10:210::/64", proto: tcp, ports: [9000] }
P

# run_case NAME CG: streams out to .2 and .3, and in from .3 (pushed by
# the server to a client socket in the cgroup) and from .2 (to a listener
# in the cgroup, port 9000); then applies cut.yaml and checks them.
run_case() {
	local name=$1 cg=$2 fam A B C t
	for fam in 4 6; do
		if [ $fam = 4 ]; then A=10.210.0.2; B=10.210.0.3; C=10.210.0.1
		else A=fd10:210::2; B=fd10:210::3; C=fd10:210::1; fi
		bg "$T/ra$fam" srv stream-recv $A 8100 700
		bg "$T/rb$fam" srv stream-recv $B 8100 700
		bg "$T/pb$fam" srv push-tcp $B 8200 6000
		bg "$T/sa$fam" inside "$cg" stream-send $A 8100 6000
		bg "$T/sb$fam" inside "$cg" stream-send $B 8100 6000
		bg "$T/cb$fam" inside "$cg" stream-recv @$B 8200 700
		bg "$T/la$fam" inside "$cg" stream-recv $C 9000 700
		bg "$T/ia$fam" ip netns exec $NS_S "$CONN" stream-send $C 9000 6000
	done
	sleep 0.4
	"$CGG" attach --cgroup "$cg" --policy "$T/cut.yaml" || fail "$name: attach"
	t=$(now)
	wait
	for fam in 4 6; do
		late "$name v$fam: denied peer, outgoing stream" "$T/rb$fam" "$t"
		late "$name v$fam: denied peer, incoming stream" "$T/cb$fam" "$t"
		whole "$name v$fam: allowed outgoing stream" "$T/sa$fam" "$T/ra$fam" "$t"
		whole "$name v$fam: allowed inbound connection" "$T/ia$fam" "$T/la$fam" "$t"
	done
}

# Swap under traffic: both.yaml allows everything used here.
CG=$(make_cg swap)
"$CGG" attach --cgroup "$CG" --policy "$T/both.yaml" || fail "attach both"
run_case swap "$CG"

# Pre-attach: the same sockets, opened while the cgroup was not guarded.
CG2=$(make_cg pre)
run_case pre-attach "$CG2"
finish
