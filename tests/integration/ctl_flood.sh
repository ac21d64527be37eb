#!/bin/bash
# Control socket bounds (issue 8, item 5): a client that writes requests
# and never reads its answers must not make the daemon buffer without
# bound (it stops being read; the daemon's memory stays flat), and a flood
# of `reload` requests is coalesced (every request answered, far fewer
# reloads run), while other clients keep being served.
. "$(dirname "$0")/../lib.sh"
need_root
command -v python3 >/dev/null || skip "needs python3"
command -v jq >/dev/null || skip "needs jq"
T=$(mktemp -d)
DPID=""
trap '[ -n "$DPID" ] && kill "$DPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT
mkdir -p "$T/pol" "$T/run"
echo "rules: []" > "$T/config.yaml"
SOCK=$T/run/ctl.sock
"$CGG" daemon --config "$T/config.yaml" --policy-dir "$T/pol" \
	--socket "$SOCK" --metrics off > "$T/daemon.log" 2>&1 &
DPID=$!
for _ in $(seq 250); do "$CGG" ctl --socket "$SOCK" status >/dev/null 2>&1 && break; sleep 0.02; done
"$CGG" ctl --socket "$SOCK" status >/dev/null || { fail "daemon did not come up: $(cat "$T/daemon.log")"; finish; }
rss() { awk '/^VmRSS/ {print $2}' "/proc/$DPID/status"; }

# ---- a client that never reads ------------------------------------------
cat > "$T/noread.py" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.setblocking(False)
req, sent, stalled = b'{"cmd":"status"}\n' * 256, 0, 0
end = time.time() + 3
while time.time() < end and stalled < 50:
    try:
        sent += s.send(req); stalled = 0
    except BlockingIOError:
        stalled += 1; time.sleep(0.01)
print("sent", sent, flush=True)
sys.stdin.read()            # hold the connection, never read
PY
rss0=$(rss)
mkfifo "$T/hold"
python3 "$T/noread.py" "$SOCK" < "$T/hold" > "$T/noread.out" 2>&1 &
np=$!
exec 7> "$T/hold"
for _ in $(seq 300); do grep -q '^sent' "$T/noread.out" && break; sleep 0.02; done
sleep 0.3
rss1=$(rss)
sent=$(sed -n 's/^sent //p' "$T/noread.out")
echo "  | the client wrote $sent bytes of requests; daemon RSS ${rss0} -> ${rss1} KiB"
[ -n "$sent" ] && [ "$sent" -lt 1048576 ] &&
	pass "the daemon stopped reading the client ($sent bytes taken before it blocked)" ||
	fail "the client could write $sent bytes: the daemon keeps reading and answering"
[ $((rss1 - rss0)) -lt 8192 ] && pass "daemon memory grew by $((rss1 - rss0)) KiB (< 8 MiB)" ||
	fail "daemon memory grew by $((rss1 - rss0)) KiB"
out=$(timeout 5 "$CGG" ctl --socket "$SOCK" status --json | jq -r .socket)
expect_eq "another client is served meanwhile" "$out" "$SOCK"
exec 7>&-
wait $np

# ---- a reload flood -----------------------------------------------------
cat > "$T/reload.py" <<'PY'
import socket, sys, json
n = int(sys.argv[2])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b'{"cmd":"reload"}\n' * n)      # all at once, pipelined
buf, ok = b"", 0
while buf.count(b"\n") < n:
    d = s.recv(65536)
    if not d:
        break
    buf += d
for line in buf.splitlines():
    ok += json.loads(line).get("ok") is True
print(ok)
PY
before=$(grep -c 'reloading (ctl reload)' "$T/daemon.log")
for k in $(seq 8); do python3 "$T/reload.py" "$SOCK" 4 > "$T/r$k" 2>&1 & done
t0=$(date +%s%N)
while [ "$(jobs -pr | grep -vc "^$DPID$")" -gt 0 ]; do
	"$CGG" ctl --socket "$SOCK" status >/dev/null 2>&1 || st_fail=1
	sleep 0.05
done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
answered=$(cat "$T"/r[1-8] | awk '{s += $1} END {print s}')
ran=$(( $(grep -c 'reloading (ctl reload)' "$T/daemon.log") - before ))
echo "  | 32 reload requests from 8 clients: $answered answered ok in $ms ms; $ran reloads ran"
expect_eq "every reload request answered ok" "$answered" 32
[ "$ran" -ge 1 ] && [ "$ran" -le 10 ] && pass "coalesced: $ran reloads for 32 requests" ||
	fail "$ran reloads ran for 32 requests"
expect_eq "status served during the flood" "${st_fail:-0}" 0
kill -0 "$DPID" && pass "daemon still running" || fail "daemon died"
finish
