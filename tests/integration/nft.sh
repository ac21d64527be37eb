#!/bin/bash
# The nft backend (netfilter-compat/) on real traffic between namespaces:
# what arrives, exact counters read back from the kernel, replies of
# allowed connections under ingress deny, what it refuses to claim, swaps,
# kill -9 of the CLI and the daemon, a cgroup recreated under its name
# (gc and the daemon), and detach removing exactly cgguard's part.
. "$(dirname "$0")/../lib.sh"
need_root
for t in nft jq; do command -v $t >/dev/null || skip "needs $t"; done
"$CGG" export --help >/dev/null 2>&1 || { fail "cgguard has no export command"; finish; }

T=$(mktemp -d)
DPID=""
stop_daemon() { [ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; DPID=""; }
trap 'stop_daemon; cleanup_all; rm -rf "$T"' EXIT
cleanup_all
setup_netns || { fail "netns setup"; finish; }
nftc() { ip netns exec $NS_C nft "$@"; }
lst() { "$CGG" list --json | jq -c --arg c "$1" '.[] | select(.cgroup == $c and .backend == "nft")'; }
udp_count() { # udp_count CG ADDR PORT N: datagrams that arrived
	serve udp-recv "$2" "$3" 600 "$T/u"
	client "$1" udp-send "$2" "$3" "$4" > "$T/us"
	wait
	kv received "$(cat "$T/u")"
}

cat > "$T/p.yaml" <<'P'
policy: it-nft
egress:
  default: allow
  rules:
    - { action: deny, to: 10.210.0.3/32 }
    - { action: deny, to: "fd10:210::3/128" }
    - { action: deny, to: 10.210.0.0/24, proto: udp, ports: [6000] }
ingress:
  default: deny
  rules:
    - { action: allow, from: 10.210.0.0/24, proto: tcp, ports: [8080] }
P
CG=$(make_cg nft)
REL=${CG#$CG2}
"$CGG" attach --backend nft --cgroup "$CG" --policy "$T/p.yaml" --netns $NS_C ||
	fail "attach --backend nft"
ID=$(lst "$REL" | jq -r .id)
expect_eq "list: nft-backed cgroup enforced" "$(lst "$REL" | jq -c '[.layers.packet.enforced, .generation]')" "[true,1]"
expect_eq "list: connect EPERM not claimed" "$(lst "$REL" | jq -r .layers.connect.enforced)" false
"$CGG" list | grep -F "$REL" | grep -q 'backend:nft.*connect:NOT-ENFORCED' &&
	pass "list text names the backend and what it does not enforce" || fail "list text"
expect_eq "kernel: dispatch rules for the cgroup" "$(nftc list table inet cgguard | grep -c "socket cgroupv2 level 3 .*jump cg${ID}g1")" 2

# ---- traffic and exact counters ------------------------------------------
expect_eq "allowed v4 datagrams arrive" "$(udp_count "$CG" 10.210.0.2 5000 50)" 50
expect_eq "denied host: none arrive" "$(udp_count "$CG" 10.210.0.3 5000 20)" 0
expect_eq "a datagram nft drops in output fails with EPERM" "$(kv failed "$(cat "$T/us")")/$(kv errno "$(cat "$T/us")")" 20/EPERM
expect_eq "denied udp port: none arrive" "$(udp_count "$CG" 10.210.0.2 6000 30)" 0
expect_eq "allowed v6 datagrams arrive" "$(udp_count "$CG" fd10:210::2 5000 10)" 10
expect_eq "denied v6 host: none arrive" "$(udp_count "$CG" fd10:210::3 5000 10)" 0
S=$("$CGG" stats --json --cgroup "$CG")
expect_eq "stats: backend" "$(jq -r '.[0].backend' <<<"$S")" nft
expect_eq "egress drop packets (kernel counters)" "$(jq '.[0].egress.drop.packets' <<<"$S")" 60
expect_eq "egress pass packets" "$(jq '.[0].egress.pass.packets' <<<"$S")" 60
expect_eq "egress pass bytes" "$(jq '.[0].egress.pass.bytes' <<<"$S")" $((50*92 + 10*112))
expect_eq "hits of 'deny to 10.210.0.3/32'" "$(jq '[.[0].rule_hits[] | select(.rule|test("10.210.0.3/32"))][0].packets' <<<"$S")" 20

# ---- connections: replies pass under ingress default deny ------------------
serve tcp-recv 10.210.0.2 7000 1500 "$T/t1"
serve tcp-recv 10.210.0.3 7000 1500 "$T/t2"
t1=$(client "$CG" tcp-send 10.210.0.2 7000 200000 3000)
t2=$(client "$CG" tcp-send 10.210.0.3 7000 100 600)
wait
expect_eq "outgoing TCP under ingress deny" "$(kv result "$t1")/$(kv bytes "$(cat "$T/t1")")" ok/200000
expect_eq "denied TCP: no connection" "$(kv connections "$(cat "$T/t2")")" 0
[ "$(kv result "$t2")" != ok ] && pass "denied TCP connect fails ($(kv result "$t2"))" || fail "denied TCP connected"
est=$("$CGG" stats --json --cgroup "$CG" | jq '.[0].ingress.established.packets')
[ "$est" -gt 0 ] && pass "replies counted as established ($est)" || fail "no established replies counted"
in_cg "$CG" ip netns exec $NS_C "$TRAFFIC" tcp-recv 10.210.0.1 8080 1500 > "$T/l1" &
in_cg "$CG" ip netns exec $NS_C "$TRAFFIC" tcp-recv 10.210.0.1 9090 1500 > "$T/l2" &
sleep 0.2
i1=$(ip netns exec $NS_S "$TRAFFIC" tcp-send 10.210.0.1 8080 100 2000)
i2=$(ip netns exec $NS_S "$TRAFFIC" tcp-send 10.210.0.1 9090 100 600)
wait
expect_eq "ingress allowed: tcp/8080 accepted" "$(kv connections "$(cat "$T/l1")")" 1
expect_eq "ingress denied: tcp/9090 not accepted" "$(kv connections "$(cat "$T/l2")")" 0
drops=$("$CGG" stats --json --cgroup "$CG" | jq '.[0].ingress.drop.packets')
[ "$drops" -ge 1 ] && pass "ingress drops counted ($drops)" || fail "ingress drops: $drops"

# ---- refused, fail open, swap ----------------------------------------------
before=$(nftc list ruleset)
bad() { # bad WHAT PATTERN CMD...: fails with a message matching PATTERN
	local out; out=$("${@:3}" 2>&1) && { fail "$1: succeeded"; return; }
	grep -Eq "$2" <<<"$out" && pass "$1: $out" || fail "$1: '$out'"
}
bad "non-root" "needs CAP_NET_ADMIN and CAP_SYS_ADMIN" setpriv --reuid=65534 --regid=65534 \
	--clear-groups "$CGG" attach --backend nft --cgroup "$CG" --policy baseline --netns $NS_C
bad "unknown netns" "network namespace /var/run/netns/cgg-none: No such file" \
	"$CGG" attach --backend nft --cgroup "$CG" --policy "$T/p.yaml" --netns cgg-none
bad "not a netns" "is not a network namespace" \
	"$CGG" attach --backend nft --cgroup "$CG" --policy "$T/p.yaml" --netns /etc/hostname
bad "other netns while guarded" "detach it first" \
	"$CGG" attach --backend nft --cgroup "$CG" --policy "$T/p.yaml" --netns $NS_S
bad "unknown backend" "must be bpf or nft" "$CGG" attach --backend ebpf --cgroup "$CG" --policy "$T/p.yaml"
out=$("$CGG" attach --backend nft --cgroup "$CG" --policy baseline --netns $NS_C 2>&1) &&
	fail "a policy with sockets: attached with --backend nft" ||
	pass "sockets: policy refused: $out"
expect_eq "refusal changed nothing" "$(nftc list ruleset)" "$before"
"$CGG" attach --backend nft --cgroup "$CG" --policy baseline --netns $NS_C --fail open 2>/dev/null ||
	fail "--fail open"
expect_eq "fail open: degraded, bind not claimed" "$(lst "$REL" | jq -c '[.degraded, .layers.bind.requested, .layers.bind.enforced, .generation]')" "[true,true,false,2]"
"$CGG" attach --backend nft --cgroup "$CG" --policy "$T/p.yaml" --netns $NS_C || fail "swap back"
expect_eq "after two swaps: only generation 3 left" "$(nftc list table inet cgguard | grep -o "cg${ID}g[0-9]*" | sort -u | tr '\n' ' ')" "cg${ID}g3 "

# ---- kill -9: of a CLI in the middle of a swap, of the daemon ------------------
{ echo "policy: it-nft"; echo "egress:"; echo "  rules:"
  for i in $(seq 0 19999); do echo "    - { action: deny, to: 10.$((100 + i / 65536)).$((i / 256 % 256)).$((i % 256))/32 }"; done
  echo "    - { action: deny, to: 10.210.0.3/32 }"; } > "$T/big.yaml"
"$CGG" attach --backend nft --cgroup "$CG" --policy "$T/big.yaml" --netns $NS_C &
apid=$!; sleep 0.$((RANDOM % 4 + 1)); kill -9 $apid 2>/dev/null; wait $apid 2>/dev/null
sleep 2	# the libnftables child finishes or not, but wholly
gens=$(nftc list table inet cgguard | grep -o "cg${ID}g[0-9]*[oi] " | sort -u | wc -l)
expect_eq "after kill -9 of attach: one generation, both directions" "$gens" 2
expect_eq "still enforcing after kill -9 of attach" "$(udp_count "$CG" 10.210.0.3 5000 5)" 0
echo "rules: []" > "$T/config.yaml"
mkdir -p "$T/pol"
"$CGG" daemon --config "$T/config.yaml" --policy-dir "$T/pol" --socket "$T/d.sock" \
	--metrics off >> "$T/daemon.log" 2>&1 &
DPID=$!
sleep 1
stop_daemon
expect_eq "after kill -9 of the daemon: denied host still dropped" "$(udp_count "$CG" 10.210.0.3 5000 5)" 0
expect_eq "after kill -9 of the daemon: still listed enforced" "$(lst "$REL" | jq -r .enforced)" true

# ---- a cgroup recreated under the same name ------------------------------------
rmdir "$CG" && mkdir "$CG" || fail "recreate cgroup"
expect_eq "recreated: not enforced, said why" "$(lst "$REL" | jq -r .layers.packet.reason)" \
	"cgroup recreated under a new id (cgguard gc re-applies)"
expect_eq "recreated: the old rules do not match it" "$(udp_count "$CG" 10.210.0.3 5000 5)" 5
"$CGG" gc | grep -q "updated $REL" && pass "gc re-applied the policy" || fail "gc did not update"
expect_eq "after gc: enforced on the new id" "$(lst "$REL" | jq -c '[.enforced, .id != '"$ID"']')" "[true,true]"
expect_eq "after gc: denied host dropped again" "$(udp_count "$CG" 10.210.0.3 5000 5)" 0
rmdir "$CG"
"$CGG" daemon --config "$T/config.yaml" --policy-dir "$T/pol" --socket "$T/d.sock" \
	--metrics off >> "$T/daemon.log" 2>&1 &
DPID=$!
for _ in $(seq 50); do [ -z "$(lst "$REL")" ] && break; sleep 0.1; done
stop_daemon
expect_eq "daemon reconcile removed the gone cgroup" "$(lst "$REL")" ""
expect_eq "its table is gone too" "$(nftc list tables | grep -c cgguard)" 0

# ---- nested: every guarded ancestor's chain must allow -----------------------
P=$(make_cg nftp)
mkdir "$P/kid"
printf 'policy: it-kid\negress:\n  rules:\n    - { action: deny, to: 10.210.0.2/32 }\n' > "$T/kid.yaml"
"$CGG" attach --backend nft --netns $NS_C --cgroup "$P" --policy "$T/p.yaml" || fail "attach parent"
"$CGG" attach --backend nft --netns $NS_C --cgroup "$P/kid" --policy "$T/kid.yaml" || fail "attach child"
expect_eq "nested: child denies .2" "$(udp_count "$P/kid" 10.210.0.2 5000 5)" 0
expect_eq "nested: parent's deny of .3 holds in the child" "$(udp_count "$P/kid" 10.210.0.3 5000 5)" 0
expect_eq "nested: the parent itself reaches .2" "$(udp_count "$P" 10.210.0.2 5000 5)" 5
"$CGG" detach --cgroup "$P/kid" && "$CGG" detach --cgroup "$P" || fail "detach nested"
rmdir "$P/kid"

# ---- detach removes exactly cgguard's part ---------------------------------------
nftc -f - <<'N'
table inet fgn {
	set s { type ipv4_addr; elements = { 192.0.2.1 } }
	chain c { type filter hook output priority 10; policy accept; ip daddr @s drop; }
}
N
S0=$(nftc list ruleset)
A=$(make_cg nfta) B=$(make_cg nftb)
"$CGG" attach --backend nft --cgroup "$A" --policy "$T/p.yaml" --netns $NS_C || fail "attach A"
"$CGG" attach --backend nft --cgroup "$B" --policy "$T/p.yaml" --netns $NS_C || fail "attach B"
"$CGG" detach --cgroup "$A" || fail "detach A"
expect_eq "B enforced after A detached" "$(lst "${B#$CG2}" | jq -r .enforced)" true
"$CGG" detach --cgroup "$B" || fail "detach B"
expect_eq "ruleset after detach == before attach (foreign table kept)" "$(nftc list ruleset)" "$S0"
"$CGG" attach --backend nft --cgroup "$A" --policy "$T/p.yaml" --netns $NS_C || fail "attach A again"
nftc add chain inet cgguard mine
nftc add rule inet cgguard mine ip daddr 192.0.2.7 drop
nftc add rule inet cgguard output meta mark 0x1234 accept
"$CGG" detach --cgroup "$A" || fail "detach A with foreign chain present"
left=$(nftc list table inet cgguard)
grep -q 'cg[0-9]*g[0-9]' <<<"$left" && fail "cgguard chains left: $left" || pass "no cgguard chain left"
grep -q 'chain mine' <<<"$left" && grep -q 'meta mark 0x00001234 accept' <<<"$left" &&
	pass "foreign chain and rule inside table inet cgguard kept" || fail "foreign part removed: $left"
expect_eq "foreign table untouched" "$(nftc list table inet fgn)" "$S0"
finish
