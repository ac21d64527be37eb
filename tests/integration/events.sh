#!/bin/bash
# Events, for real: denials in a guarded cgroup produce exactly one event
# each (layer, destination, port, rule file:line, pid/comm), the per-cgroup
# token bucket makes events + suppressed = denials exactly, audit mode and
# the socket layers (bind, create) and the packet layer emit too, and
# `stats --json` counts emitted/suppressed/lost per cgroup.
. "$(dirname "$0")/../lib.sh"
need_root
T=$(mktemp -d)
MON=""
trap '[ -n "$MON" ] && kill $MON 2>/dev/null; cleanup_all; rm -rf "$T"' EXIT
cleanup_all
setup_netns || { fail "netns setup"; finish; }

cat > "$T/p.yaml" <<'P'
policy: it-events
events: { rate: 1000, burst: 1000 }
egress:
  rules:
    - { action: deny, to: 10.210.0.3/32, proto: udp, ports: [5300] }
    - { action: deny, to: 10.210.0.3/32, proto: tcp }
ingress:
  rules:
    - { action: deny, from: 10.210.0.2/32, proto: udp, ports: [6000] }
sockets:
  raw: deny
  bind: { deny: ["80"] }
P
CG=$(make_cg ev)
CGID=$(stat -c %i "$CG")
"$CGG" attach --cgroup "$CG" --policy "$T/p.yaml" || fail "attach"

# monitor_start FILE ARGS...: a monitor of this cgroup in the background;
# it first drains what earlier tests left in the ring buffer.
monitor_start() {
	local out=$1; shift
	"$CGG" monitor --json --cgroup "$CG" "$@" > "$out" 2> "$out.err" &
	MON=$!
	sleep 0.5
}
monitor_stop() { sleep 0.3; kill -INT $MON; wait $MON; MON=""; }

# ---- 30 denied sendto + 10 denied connects: exactly 40 events ----------
monitor_start "$T/m1"
client "$CG" udp-send 10.210.0.3 5300 30 > "$T/u"
for i in $(seq 10); do client "$CG" tcp-send 10.210.0.3 7000 10 1000; done > "$T/t"
monitor_stop
expect_eq "sendto calls denied" "$(kv failed "$(cat "$T/u")")" 30
expect_eq "connects denied" "$(grep -c 'errno=EPERM' "$T/t")" 10
expect_eq "events" "$(wc -l < "$T/m1")" 40
sel() { jq -c "select($1)" "$T/m1" | wc -l; }
expect_eq "sendmsg events to 10.210.0.3:5300, rule line 5" \
	"$(sel '.layer=="sendmsg" and .direction=="egress" and .verdict=="drop" and .proto=="udp" and .dst=="10.210.0.3" and .dport==5300 and .rule==2 and (.rule_text|endswith("p.yaml:5)")) and .comm=="cgg_traffic" and .pid>0 and .cgroup_id=='"$CGID"' and .policy=="it-events"')" 30
expect_eq "connect events to 10.210.0.3:7000, rule line 6" \
	"$(sel '.layer=="connect" and .verdict=="drop" and .proto=="tcp" and .dst=="10.210.0.3" and .dport==7000 and .rule==3 and (.rule_text|endswith("p.yaml:6)")) and .comm=="cgg_traffic"')" 10
expect_eq "every event has a time and a socket cookie" \
	"$(sel '(.time|test("^20[0-9-]+T[0-9:.]+Z$")) and .socket_cookie>0')" 40
expect_eq "stats events.emitted" "$("$CGG" stats --json --cgroup "$CG" | jq '.[0].events.emitted')" 40
expect_eq "stats events.suppressed" "$("$CGG" stats --json --cgroup "$CG" | jq '.[0].events.suppressed')" 0

# ---- rule hits per cgroup ----------------------------------------------
# A second cgroup on the same policy (same slot): its own hits.
CGB=$(make_cg ev-b)
"$CGG" attach --cgroup "$CGB" --policy "$T/p.yaml" || fail "attach b"
client "$CGB" udp-send 10.210.0.3 5300 5 > /dev/null
hits() { "$CGG" stats --json --cgroup "$1" --rules | jq -c "[.[0].rules[] | select(.counter == $2) | .hits][0]"; }
expect_eq "rule 2 hits in cgroup a" "$(hits "$CG" 2)" 30
expect_eq "rule 3 hits in cgroup a" "$(hits "$CG" 3)" 10
expect_eq "rule 2 hits in cgroup b" "$(hits "$CGB" 2)" 5
expect_eq "rule 2 hits of the policy (both cgroups)" \
	"$("$CGG" stats --json --cgroup "$CG" | jq '[.[0].rule_hits[] | select(.counter == 2) | .packets][0]')" 35
expect_eq "unused rules in cgroup a (defaults, ingress rule)" \
	"$("$CGG" stats --json --cgroup "$CG" --unused | jq -c '[.[0].rules[].counter]')" "[0,1,4]"
"$CGG" stats --cgroup "$CG" --unused | grep -q "deny from 10.210.0.2/32 proto udp ports 6000 (.*p.yaml:9)   \[never fired\]" &&
	pass "--unused text names the rule and its line" || fail "--unused text: $("$CGG" stats --cgroup "$CG" --unused)"
"$CGG" detach --cgroup "$CGB" >/dev/null

# ---- packet layer (ingress), bind and create ----------------------------
monitor_start "$T/m2"
client "$CG" udp-recv 10.210.0.1 6000 600 > "$T/r" &
R=$!
sleep 0.2
ip netns exec $NS_S "$TRAFFIC" udp-send 10.210.0.1 6000 5 > /dev/null
wait $R
client "$CG" bind 10.210.0.1 80 tcp > "$T/b"
client "$CG" sock inet raw 1 > "$T/s"
expect_eq "raw socket refused" "$(kv errno "$(cat "$T/s")")" EPERM
monitor_stop
expect_eq "datagrams received past the ingress rule" "$(kv received "$(cat "$T/r")")" 0
sel2() { jq -c "select($1)" "$T/m2" | wc -l; }
expect_eq "packet events: ingress from 10.210.0.2 to port 6000, rule 4" \
	"$(sel2 '.layer=="packet" and .direction=="ingress" and .src=="10.210.0.2" and .dst=="10.210.0.1" and .dport==6000 and .rule==4 and (.rule_text|endswith("p.yaml:9)"))')" 5
expect_eq "bind event (port 80)" "$(sel2 '.layer=="bind" and .sport==80 and .rule==null and .comm=="cgg_traffic"')" 1
expect_eq "create event (raw inet socket)" "$(sel2 '.layer=="create" and .what=="socket family inet type raw"')" 1
expect_eq "no other events" "$(wc -l < "$T/m2")" 7

# ---- rate limit: 100/s, burst 200; 5,000 denied sends in one second -----
sed -i 's/^events: .*/events: { rate: 100, burst: 200 }/; s/^policy: .*/policy: it-events-rate/' "$T/p.yaml"
"$CGG" detach --cgroup "$CG" >/dev/null
"$CGG" attach --cgroup "$CG" --policy "$T/p.yaml" || fail "attach rate policy"
monitor_start "$T/m3" --verdict drop
# Five bursts of 1,000 started at 0, 200, ..., 800 ms (usleep cannot pace
# single sends this finely here): one second in all.
S0=$(date +%s%N)
for i in 0 1 2 3 4; do
	wait_ns=$((S0 + i * 200000000 - $(date +%s%N)))
	[ $wait_ns -gt 0 ] && sleep "$(awk -v n=$wait_ns 'BEGIN { printf "%.3f", n / 1e9 }')"
	client "$CG" udp-send 10.210.0.3 5300 1000 64 0
done > "$T/u2"
echo "5000 sends took $(( ($(date +%s%N) - S0) / 1000000 )) ms"
monitor_stop
ev=$(wc -l < "$T/m3")
st=$("$CGG" stats --json --cgroup "$CG")
sup=$(jq '.[0].events.suppressed' <<<"$st")
expect_eq "denied sends" "$(sed -n 's/.*failed=\([0-9]*\).*/\1/p' "$T/u2" | awk '{s += $1} END {print s}')" 5000
expect_eq "events + suppressed" "$((ev + sup))" 5000
expect_eq "events = emitted" "$(jq '.[0].events.emitted' <<<"$st")" "$ev"
expect_eq "lost" "$(jq '.[0].events.lost' <<<"$st")" 0
echo "rate limit: $ev events, $sup suppressed of 5000 denials"
[ "$ev" -ge 200 ] && [ "$ev" -le 500 ] && pass "events within burst + rate x time ($ev)" ||
	fail "events $ev not within 200..500"

# ---- audit mode: events say audit; --verdict drop hides them ------------
sed -i 's/^policy: .*/policy: it-events-audit\nmode: audit/' "$T/p.yaml"
"$CGG" attach --cgroup "$CG" --policy "$T/p.yaml" || fail "attach audit policy"
sleep 1	# the token bucket refills (the cgroup keeps its bucket)
monitor_start "$T/m4" --verdict drop
client "$CG" udp-send 10.210.0.3 5300 3 > "$T/u3"
monitor_stop
monitor_start "$T/m5" --verdict audit
client "$CG" udp-send 10.210.0.3 5300 3 > /dev/null
monitor_stop
expect_eq "audited sends pass" "$(kv failed "$(cat "$T/u3")")" 0
expect_eq "--verdict drop: no audit events" "$(wc -l < "$T/m4")" 0
expect_eq "--verdict audit: audit events" \
	"$(jq -c 'select(.verdict=="audit" and .layer=="sendmsg" and .policy=="it-events-audit")' "$T/m5" | wc -l)" 3
finish
