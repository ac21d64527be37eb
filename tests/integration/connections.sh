#!/bin/bash
# Connections, not packets (issue 7): a connection is judged once, in the
# direction it was opened, and every packet of an allowed connection
# passes both ways.  Real traffic between the client namespace (the
# guarded cgroup) and the server namespace, IPv4 and IPv6:
#  - egress allow + ingress deny: outgoing TCP, connected UDP and
#    unconnected (DNS-style) UDP request/replies all complete; inbound TCP
#    connects and unsolicited datagrams from port 53 are dropped and
#    counted as ingress drops;
#  - the reverse (ingress only tcp/8080, egress default deny): a server in
#    the cgroup answers, its own connects fail with EPERM; an unconnected
#    UDP server answers the peers that asked;
#  - audit mode counts those drops and drops nothing.
. "$(dirname "$0")/../lib.sh"
need_root
command -v jq >/dev/null || skip "needs jq"
CONN=${CONN:-$TOP/.output/cgg_conn}
T=$(mktemp -d)
trap 'cleanup_all; rm -rf "$T"' EXIT
cleanup_all
setup_netns || { fail "netns setup"; finish; }

# bg FILE CMD...: CMD in the background, output to FILE; wait for "ready"
bg() {
	local out=$1; shift
	"$@" > "$out" &
	for _ in $(seq 150); do grep -q ready "$out" 2>/dev/null && return 0; sleep 0.02; done
	fail "server did not start: $*"
}
srv() { ip netns exec $NS_S "$CONN" "$@"; }		# server namespace
inside() { local cg=$1; shift; in_cg "$cg" ip netns exec $NS_C "$CONN" "$@"; }
ctr() { stat_get "$1" "$2" "$3" packets; }		# ctr CG DIR RESULT

cat > "$T/out.yaml" <<'P'
policy: it-conn-out
egress: { default: allow }
ingress: { default: deny }
P
cat > "$T/in.yaml" <<'P'
policy: it-conn-in
egress: { default: deny }
ingress:
  default: deny
  rules:
    - { action: allow, from: 0.0.0.0/0, proto: tcp, ports: [8080] }
    - { action: allow, from: "::/0", proto: tcp, ports: [8080] }
    - { action: allow, from: 10.210.0.0/24, proto: udp, ports: [5353] }
    - { action: allow, from: "fd10:210::/64", proto: udp, ports: [5353] }
P
sed 's/^policy: it-conn-out/policy: it-conn-audit\nmode: audit/' "$T/out.yaml" > "$T/audit.yaml"

# --- egress allow, ingress deny ---------------------------------------------
CG=$(make_cg out)
"$CGG" attach --cgroup "$CG" --policy "$T/out.yaml" || fail "attach out"
for fam in 4 6; do
	if [ $fam = 4 ]; then S=10.210.0.2; C=10.210.0.1; else S=fd10:210::2; C=fd10:210::1; fi
	bg "$T/et$fam" srv echo-tcp $S 7100 800
	bg "$T/eu$fam" srv echo-udp $S 7200 800
	r=$(inside "$CG" rr-tcp $S 7100 10 1000)
	expect_eq "v$fam: 10 outgoing TCP connects with request/reply" "$(kv ok "$r")" 10
	r=$(inside "$CG" rr-udp-conn $S 7200 10 1000)
	expect_eq "v$fam: 10 request/replies on a connected UDP socket" "$(kv ok "$r")" 10
	r=$(inside "$CG" rr-udp $S 7200 10 1000)
	expect_eq "v$fam: 10 DNS-style request/replies, unconnected UDP" "$(kv ok "$r")" 10
	wait

	# Inbound: a listener and a bound UDP socket inside the cgroup.
	d0=$(ctr "$CG" ingress drop)
	bg "$T/l$fam" inside "$CG" echo-tcp $C 7300 1200
	r=$(srv connects $C 7300 20 800)
	expect_eq "v$fam: inbound TCP connects established" "$(kv established "$r")" 0
	wait
	expect_eq "v$fam: listener accepted" "$(kv connections "$(cat "$T/l$fam")")" 0
	d1=$(ctr "$CG" ingress drop)
	# 20 SYNs, and at most one retransmission each on a slow machine
	if [ $((d1 - d0)) -ge 20 ] && [ $((d1 - d0)) -le 40 ]; then
		pass "v$fam: inbound SYNs counted as ingress drops ($((d1 - d0)))"
	else
		fail "v$fam: ingress drops for 20 inbound connects: $((d1 - d0))"
	fi
	bg "$T/u$fam" in_cg "$CG" ip netns exec $NS_C "$TRAFFIC" udp-recv $C 7400 600
	r=$(srv udp-from $C 7400 20 53)
	expect_eq "v$fam: unsolicited datagrams sent from port 53" "$(kv sent "$r")" 20
	wait
	expect_eq "v$fam: unsolicited datagrams delivered" "$(kv received "$(cat "$T/u$fam")")" 0
	expect_eq "v$fam: ... counted as ingress drops" $(($(ctr "$CG" ingress drop) - d1)) 20
done
# Replies were let in as part of their connections, and counted as passes.
p=$(ctr "$CG" ingress pass)
if [ "$p" -ge 120 ]; then pass "replies counted as ingress passes ($p)"; else fail "ingress passes: $p"; fi
hits=$("$CGG" stats --json --cgroup "$CG" | jq -r '[.[0].rule_hits[] | select(.rule|test("default"))] | map(.packets) | add')
[ "${hits:-0}" -gt 0 ] && pass "per-rule hits on the defaults ($hits)" || fail "no default rule hits: $hits"

# --- the reverse: ingress tcp/8080 only, egress default deny ----------------
CG2=$(make_cg in)
"$CGG" attach --cgroup "$CG2" --policy "$T/in.yaml" || fail "attach in"
for fam in 4 6; do
	if [ $fam = 4 ]; then S=10.210.0.2; C=10.210.0.1; else S=fd10:210::2; C=fd10:210::1; fi
	bg "$T/s$fam" inside "$CG2" echo-tcp $C 8080 800
	r=$(srv rr-tcp $C 8080 20 1000)
	expect_eq "v$fam: server in the cgroup answers inbound connections" "$(kv ok "$r")" 20
	bg "$T/x$fam" srv echo-tcp $S 7100 600
	r=$(inside "$CG2" rr-tcp $S 7100 1 1000)
	expect_eq "v$fam: its own outgoing connect" "$(kv errno "$r")" EPERM
	bg "$T/d$fam" inside "$CG2" echo-udp $C 5353 800
	r=$(srv rr-udp $C 5353 10 1000)
	expect_eq "v$fam: unconnected UDP server answers its askers" "$(kv ok "$r")" 10
	wait
	expect_eq "v$fam: connections accepted" "$(kv connections "$(cat "$T/s$fam")")" 20
	expect_eq "v$fam: denied connect never reached the server" \
		"$(kv connections "$(cat "$T/x$fam")")" 0
done
expect_eq "connect denials (socket layer)" "$(stat_get "$CG2" operations connect denied)" 2

# --- audit: the same drops counted, nothing dropped -------------------------
CG3=$(make_cg audit)
"$CGG" attach --cgroup "$CG3" --policy "$T/audit.yaml" || fail "attach audit"
bg "$T/au" in_cg "$CG3" ip netns exec $NS_C "$TRAFFIC" udp-recv 10.210.0.1 7500 600
srv udp-from 10.210.0.1 7500 20 53 >/dev/null
wait
expect_eq "audit: unsolicited datagrams delivered" "$(kv received "$(cat "$T/au")")" 20
expect_eq "audit: counted as would-be drops" "$(ctr "$CG3" ingress audit)" 20
expect_eq "audit: nothing dropped" "$(ctr "$CG3" ingress drop)" 0
finish
