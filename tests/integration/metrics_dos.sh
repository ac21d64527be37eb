#!/bin/bash
# The metrics endpoint under connection floods (issue 8, item 3): another
# local user (uid 65534) holds 300 idle, then 300 slow (half a request)
# connections to the daemon's metrics port; a scrape must still be
# answered, and again at once after they close.  The 1 s curl deadline is
# a correctness bound (a blocked endpoint never answers), not a benchmark.
. "$(dirname "$0")/../lib.sh"
need_root
command -v curl >/dev/null || skip "needs curl"
# The system python: another user must be able to run it (not a pyenv shim).
PY=/usr/bin/python3
[ -x $PY ] || skip "needs /usr/bin/python3"
command -v setpriv >/dev/null || skip "needs setpriv (util-linux)"
T=$(mktemp -d)
chmod 0755 "$T"
DPID=""
trap '[ -n "$DPID" ] && kill "$DPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT
mkdir -p "$T/pol"
echo "rules: []" > "$T/config.yaml"
"$CGG" daemon --config "$T/config.yaml" --policy-dir "$T/pol" \
	--socket "$T/ctl.sock" --metrics 127.0.0.1:0 > "$T/daemon.log" 2>&1 &
DPID=$!
for _ in $(seq 250); do "$CGG" ctl --socket "$T/ctl.sock" status >/dev/null 2>&1 && break; sleep 0.02; done
PORT=$("$CGG" ctl --socket "$T/ctl.sock" status --json | jq -r .metrics | sed 's/.*://')
[ -n "$PORT" ] || { fail "daemon did not come up: $(cat "$T/daemon.log")"; finish; }

cat > "$T/hold.py" <<'PY'
import socket, sys
n, port, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
held = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    if mode == "slow":
        s.send(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")  # never finished
    held.append(s)
print("open", len(held), flush=True)
sys.stdin.read()        # hold them until our stdin closes
PY
# scrape WHAT: GET /metrics within 1 s, with the daemon's counters in it
scrape() {
	local t0 rc
	t0=$(date +%s%N)
	curl -sf -m 1 -o "$T/m" "http://127.0.0.1:$PORT/metrics"; rc=$?
	if [ $rc = 0 ] && grep -q '^cgguard_pinned_state_read_errors ' "$T/m"; then
		pass "$1: answered in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
	else
		fail "$1: curl exit $rc ($(head -c 200 "$T/m" 2>/dev/null))"
	fi
}
scrape "scrape before"
for mode in idle slow; do
	mkfifo "$T/in-$mode"
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		$PY "$T/hold.py" 300 "$PORT" $mode < "$T/in-$mode" > "$T/out-$mode" 2>&1 &
	hold=$!
	exec 7> "$T/in-$mode"
	for _ in $(seq 500); do grep -q '^open 300' "$T/out-$mode" && break; sleep 0.02; done
	expect_eq "uid 65534 holds 300 $mode connections" "$(cat "$T/out-$mode")" "open 300"
	scrape "scrape with 300 $mode connections of another user open"
	scrape "second scrape with them open"
	exec 7>&-
	wait $hold
	scrape "scrape at once after they closed"
done
# The same for a flood bigger than the connection table, in one process.
mkfifo "$T/in-big"
setpriv --reuid=65534 --regid=65534 --clear-groups \
	$PY "$T/hold.py" 900 "$PORT" idle < "$T/in-big" > "$T/out-big" 2>&1 &
hold=$!
exec 7> "$T/in-big"
for _ in $(seq 500); do grep -q '^open' "$T/out-big" && break; sleep 0.02; done
expect_eq "uid 65534 opened 900 connections" "$(cat "$T/out-big")" "open 900"
scrape "scrape with 900 connections of another user open"
exec 7>&-
wait $hold
kill -0 "$DPID" 2>/dev/null && pass "daemon still running" || fail "daemon died: $(tail -3 "$T/daemon.log")"
# Bad requests get precise answers, not hangs.
expect_eq "404 for another path" "$(curl -s -m 1 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/")" 404
expect_eq "405 for POST" "$(curl -s -m 1 -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$PORT/metrics")" 405
expect_eq "HEAD has no body" "$(curl -s -m 1 -I "http://127.0.0.1:$PORT/metrics" | tr -d '\r' | grep -c '^Content-Length: [1-9]')" 1
finish
