#!/bin/bash
# Events through the daemon: it is the ring buffer's one reader and fans
# events out over its control socket, so several monitors see every event
# at once; a direct reader is refused meanwhile.  Prometheus: drops and
# audits by cgroup, layer and direction, events emitted/suppressed/lost,
# equal to the real denials; the series of a removed cgroup go away.
. "$(dirname "$0")/../lib.sh"
need_root
command -v jq >/dev/null || skip "needs jq"
command -v curl >/dev/null || skip "needs curl"
T=$(mktemp -d)
DPID="" M1="" M2=""
SOCK=$T/run/cgguard.sock
stop_all() { local p; for p in $M1 $M2 $DPID; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; }
trap 'stop_all; cleanup_all; rm -rf "$T"' EXIT
cleanup_all
setup_netns || { fail "netns setup"; finish; }
mkdir -p "$T/pol"
cat > "$T/p.yaml" <<'P'
policy: it-evd
events: { rate: 1000, burst: 1000 }
egress:
  rules:
    - { action: deny, to: 10.210.0.3/32, proto: tcp }
P
CG=$(make_cg evd)
REL=${CG#$CG2}
"$CGG" attach --cgroup "$CG" --policy "$T/p.yaml" || fail "attach"
echo "rules: []" > "$T/config.yaml"
"$CGG" daemon --config "$T/config.yaml" --policy-dir "$T/pol" --socket "$SOCK" \
	--metrics 127.0.0.1:0 > "$T/daemon.log" 2>&1 &
DPID=$!
for _ in $(seq 100); do "$CGG" ctl --socket "$SOCK" status >/dev/null 2>&1 && break; sleep 0.05; done
PORT=$("$CGG" ctl --socket "$SOCK" status --json | jq -r '.metrics' | sed 's/.*://')

# Two monitors at once, through the daemon.
"$CGG" monitor --socket "$SOCK" --json --cgroup "$CG" > "$T/m1" 2> "$T/m1.err" & M1=$!
"$CGG" monitor --socket "$SOCK" --json --verdict drop > "$T/m2" 2> "$T/m2.err" & M2=$!
sleep 0.5
# A direct reader while the daemon reads: refused, with the reason.
"$CGG" monitor --socket "$T/none.sock" --duration 1 > /dev/null 2> "$T/direct.err"
expect_eq "direct reader refused while the daemon reads" "$?" 1
grep -q "another process reads the event ring buffer" "$T/direct.err" &&
	pass "refusal names the reason" || fail "refusal: $(cat "$T/direct.err")"
for i in $(seq 10); do client "$CG" tcp-send 10.210.0.3 7000 10 1000; done > "$T/t"
sleep 0.5
kill -INT $M1 $M2; wait $M1 $M2; M1="" M2=""
expect_eq "connects denied" "$(grep -c 'errno=EPERM' "$T/t")" 10
expect_eq "monitor 1 events" "$(jq -c 'select(.layer=="connect" and .dst=="10.210.0.3" and .dport==7000 and .rule==2)' "$T/m1" | wc -l)" 10
expect_eq "monitor 1: nothing else" "$(wc -l < "$T/m1")" 10
expect_eq "monitor 2 events of this cgroup" "$(jq -c "select(.cgroup==\"$REL\" and .layer==\"connect\")" "$T/m2" | wc -l)" 10

# Prometheus.
curl -sf "127.0.0.1:$PORT/metrics" > "$T/metrics" || fail "scrape"
metric() { grep -F "$1{cgroup=\"$REL\"" "$T/metrics" | grep -F "$2" | awk '{print $2}'; }
expect_eq "denials_total connect/egress/drop" \
	"$(metric cgguard_denials_total 'layer="connect",direction="egress",verdict="drop"')" 10
expect_eq "denials_total packet/egress/drop" \
	"$(metric cgguard_denials_total 'layer="packet",direction="egress",verdict="drop"')" 0
expect_eq "events_total emitted" "$(metric cgguard_events_total 'outcome="emitted"')" 10
expect_eq "events_total suppressed" "$(metric cgguard_events_total 'outcome="suppressed"')" 0
expect_eq "events_total lost" "$(metric cgguard_events_total 'outcome="lost"')" 0
n=$(grep -c "^cgguard_[a-z_]*{cgroup=\"$REL\"" "$T/metrics")
[ "$n" -le 53 ] && pass "series of one cgroup: $n (bounded)" || fail "series of one cgroup: $n"
if command -v promtool >/dev/null; then
	promtool check metrics < "$T/metrics" > "$T/promtool" 2>&1 &&
		pass "promtool accepts the exposition" || fail "promtool: $(cat "$T/promtool")"
fi
# The cgroup goes away: so do its series.
rmdir "$CG" || fail "rmdir"
curl -sf "127.0.0.1:$PORT/metrics" > "$T/metrics2" || fail "scrape 2"
expect_eq "series of the removed cgroup" "$(grep -c "cgroup=\"$REL\"" "$T/metrics2")" 0
"$CGG" gc > /dev/null
finish
