#!/bin/bash
# cgguard daemon: rule-bound attach of new cgroups, hot policy reload under
# continuous traffic, rejection of a bad policy, kill -9 with enforcement
# continuing, restart adopting the pinned state without re-attaching,
# metrics equal to `stats --json` (and valid for promtool), the control
# socket's permissions, and GC of a removed cgroup.
. "$(dirname "$0")/../lib.sh"
need_root
command -v jq >/dev/null || skip "needs jq"
command -v curl >/dev/null || skip "needs curl"
command -v setpriv >/dev/null || skip "needs setpriv (util-linux)"
"$CGG" ctl --help >/dev/null 2>&1 || { fail "cgguard has no ctl command"; finish; }

T=$(mktemp -d)
DPID=""
SOCK=$T/run/cgguard.sock
POL=$T/pol/it-daemon.yaml
A=10.210.0.2 B=10.210.0.3 C=169.254.169.254	# C: denied by every version
stop_daemon() { [ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; DPID=""; }
trap 'stop_daemon; cleanup_all; [ -n "${KEEP_LOG:-}" ] && cp "$T/daemon.log" "$KEEP_LOG"; rm -rf "$T"' EXIT
cleanup_all
setup_netns || { fail "netns setup"; finish; }
mkdir -p "$T/pol"

now_ms() { date +%s%3N; }
# Waits for the traffic jobs, not for the daemon (also a job of this shell).
waitjobs() { local p; for p in $(jobs -p); do [ "$p" = "$DPID" ] || wait "$p"; done; }
# wait_until MS CMD...: polls CMD every 10 ms for at most MS milliseconds
wait_until() {
	local end=$(( $(now_ms) + $1 )); shift
	until "$@"; do [ "$(now_ms)" -ge $end ] && return 1; sleep 0.01; done
}
ctl() { "$CGG" ctl --socket "$SOCK" "$@"; }
# log_ms TEXT: epoch ms of the daemon's last log line containing TEXT
log_ms() { local l; l=$(grep -F "$1" "$T/daemon.log" | tail -1); [ -n "$l" ] && date -d "${l%% *}" +%s%3N; }
pol_field() { ctl status --json | jq -r ".policies[] | select(.name == \"it-daemon\") | .$1"; }

# policy_v DENIED_HOST: allow everything but DENIED_HOST and C
policy_v() {
	cat <<P
policy: it-daemon
egress:
  default: allow
  rules:
    - { action: deny, to: $1/32 }
    - { action: deny, to: $C/32 }
P
}
# Atomic replace, as editors and config management do.
put_policy() { policy_v "$1" > "$T/pol/.new" && mv "$T/pol/.new" "$POL"; }

start_daemon() {
	"$CGG" daemon --config "$T/config.yaml" --policy-dir "$T/pol" \
		--socket "$SOCK" --metrics 127.0.0.1:0 >> "$T/daemon.log" 2>&1 &
	DPID=$!
	wait_until 5000 ctl status >/dev/null 2>&1 || fail "daemon did not come up"
	PORT=$(ctl status --json | jq -r '.metrics' | sed 's/.*://')
}

enforced() {
	"$CGG" list --json | jq -e --arg p "$1" 'any(.[]; .cgroup == $p and
		.layers.packet.enforced and .layers.sendmsg.enforced)' >/dev/null
}

# send_check TAG PORT WANT_A WANT_B: 200 datagrams to A and to B, counts
send_check() {
	serve udp-recv $A "$2" 600 "$T/a$1"
	serve udp-recv $B "$2" 600 "$T/b$1"
	client "$CG" udp-send $A "$2" 200 64 >/dev/null
	client "$CG" udp-send $B "$2" 200 64 >/dev/null
	waitjobs
	expect_eq "$1: datagrams to A received" "$(kv received "$(cat "$T/a$1")")" "$3"
	expect_eq "$1: datagrams to B received" "$(kv received "$(cat "$T/b$1")")" "$4"
}

# ---- start: policy dir, config, and a cgroup created afterwards ---------
put_policy $B
cat > "$T/config.yaml" <<P
rules:
  - { match: "${CGREL#/}/*", policy: it-daemon, fail: closed }
P
start_daemon
[ -n "$PORT" ] && [ "$PORT" != off ] || fail "metrics port unknown"
expect_eq "socket mode" "$(stat -c %a "$SOCK")" 600
expect_eq "socket directory mode" "$(stat -c %a "$T/run")" 700

t0=$(now_ms)
CG=$(make_cg web)
wait_until 5000 enforced "$CGREL/web" || fail "new cgroup not enforced within 5 s"
# The daemon's log time, not our polling (`list` walks every guarded cgroup).
echo "measured: mkdir-to-enforced $(( $(log_ms "guarded $CGREL/web with") - t0 )) ms" \
	"(attach: $(grep -o "guarded $CGREL/web with policy 'it-daemon' (new) in [0-9.]* ms" \
	"$T/daemon.log" | grep -o '[0-9.]* ms'))"
CGID=$(stat -c %i "$CG")
send_check before 5001 200 0

# ---- hot reload under continuous traffic ---------------------------------
serve udp-recv $C 5002 5000 "$T/c-reload"
serve udp-recv $A 5003 3000 "$T/a-reload"
serve udp-recv $B 5003 3000 "$T/b-reload"
client "$CG" udp-send $C 5002 4000 64 500 > "$T/sc-reload" &
client "$CG" udp-send $A 5003 4000 64 500 > "$T/sa-reload" &
client "$CG" udp-send $B 5003 4000 64 500 > "$T/sb-reload" &
sleep 0.5
t0=$(now_ms)
put_policy $A
wait_until 5000 test "$(pol_field loads_ok)" = 2 || fail "reload not seen"
echo "measured: file-rename-to-reattached $(( $(log_ms "(policy changed) in") - t0 )) ms" \
	"(daemon: $(grep -o "guarded $CGREL/web with policy 'it-daemon' (policy changed) in [0-9.]* ms" \
	"$T/daemon.log" | tail -1 | grep -o '[0-9.]* ms') to swap)"
waitjobs
ra=$(kv received "$(cat "$T/a-reload")") rb=$(kv received "$(cat "$T/b-reload")")
expect_eq "during reload: datagrams to C (denied by both) received" \
	"$(kv received "$(cat "$T/c-reload")")" 0
[ "$ra" -gt 0 ] && [ "$ra" -lt 4000 ] && pass "A: allowed, then denied mid-stream ($ra of 4000)" ||
	fail "A during reload: received $ra of 4000 (want some, not all)"
[ "$rb" -gt 0 ] && [ "$rb" -lt 4000 ] && pass "B: denied, then allowed mid-stream ($rb of 4000)" ||
	fail "B during reload: received $rb of 4000 (want some, not all)"
send_check after 5004 0 200

# ---- a bad policy file is rejected whole; the old version holds ---------
sed 's|to: 10.210.0.2/32|to: 10.210.0.300/32|' "$POL" > "$POL.tmp" && cat "$POL.tmp" > "$POL"
rm -f "$POL.tmp"
wait_until 5000 test "$(pol_field loads_error)" = 1 || fail "bad file not seen"
err=$(pol_field error)
case $err in
*it-daemon.yaml:5:27:*) pass "ctl status shows the error with line:col: $err" ;;
*) fail "ctl status error: '$err' (want it-daemon.yaml:5:27:)" ;;
esac
expect_eq "policy still loaded" "$(pol_field loaded)" true
ctl status | grep -q "it-daemon.yaml:5:27" && pass "ctl status (text) shows it" ||
	fail "ctl status text lacks the error"
ctl reload >/dev/null 2>&1 && fail "ctl reload succeeded with a bad file" ||
	pass "ctl reload reports the bad file (exit != 0)"
send_check bad 5005 0 200
# The bad file was loaded twice: on its write and by `ctl reload`.
expect_eq "metric of rejected loads = ctl status" "$(curl -sf "127.0.0.1:$PORT/metrics" |
	sed -n 's/^cgguard_policy_reload_total{policy="it-daemon",result="error"} //p')" \
	"$(pol_field loads_error)"
# Malformed requests change nothing.
expect_eq "malformed request" "$(ctl --raw '{"cmd":' | jq -r 'has("error")')" true
expect_eq "unknown command" "$(ctl --raw '{"cmd":"detach"}' | jq -r .error)" \
	"unknown cmd 'detach' (status, reload, list, monitor)"
# Same content as the pinned version again: loaded, nothing re-attached.
gen() { bpftool map dump pinned /sys/fs/bpf/cgguard/map/cg_binding -j |
	jq -c --argjson id "$CGID" '[.[].formatted | select(.key.cgroup_inode_id == $id)] | sort_by(.key.attach_type)'; }
gen0=$(gen)
put_policy $A
wait_until 5000 test "$(pol_field result)" = ok || fail "good file not reloaded"
sleep 0.2
expect_eq "identical policy rewritten: bindings untouched" "$(gen)" "$gen0"

# ---- kill -9 during traffic to denied hosts; restart adopts -------------
links() { for f in /sys/fs/bpf/cgguard/link/$CGID-*; do
	echo "$(basename "$f") $(stat -c %i "$f") $(bpftool link show pinned "$f" -j | jq .id)"; done | tr '\n' ';'; }
links0=$(links) gen0=$(gen)
cgshow() { bpftool cgroup show "$CG" | tr -s ' \n' ' '; }
cgshow0=$(cgshow)
serve udp-recv $C 5006 4000 "$T/c-kill"
serve udp-recv $A 5006 4000 "$T/a-kill"
client "$CG" udp-send $C 5006 3000 64 500 > "$T/sc-kill" &
client "$CG" udp-send $A 5006 3000 64 500 > "$T/sa-kill" &
sleep 0.3
kill -9 $DPID; wait $DPID 2>/dev/null; DPID=""
LATE=$(make_cg late)	# appears while the daemon is down
sleep 1
start_daemon
waitjobs
expect_eq "daemon killed: datagrams to C received" "$(kv received "$(cat "$T/c-kill")")" 0
expect_eq "daemon killed: datagrams to A received" "$(kv received "$(cat "$T/a-kill")")" 0
expect_eq "restart: link pins (name inode id) unchanged" "$(links)" "$links0"
expect_eq "restart: bindings (slot, gen) unchanged" "$(gen)" "$gen0"
expect_eq "restart: bpftool cgroup show unchanged" "$(cgshow)" "$cgshow0"
expect_eq "restart: reconcile re-attached" "$(ctl status --json | jq .last_reconcile.reattached)" 0
grep -q "adopted $CGREL/web: policy 'it-daemon' already enforced" "$T/daemon.log" &&
	pass "restart adopted the pinned cgroup" || fail "no adoption logged"
wait_until 3000 enforced "$CGREL/late" && pass "cgroup made while down is guarded" ||
	fail "cgroup created while the daemon was down is not guarded"

# ---- metrics: exact values, valid exposition ------------------------------
curl -sf "127.0.0.1:$PORT/metrics" > "$T/metrics" || fail "GET /metrics"
# metric NAME LABELS...: the value of the one series with these labels
metric() {
	local name=$1 l; shift
	grep -F "$name{cgroup=\"$CGREL/web\"" "$T/metrics" > "$T/m.sel"
	for l in "$@"; do grep -F "$l" "$T/m.sel" > "$T/m.sel2"; mv "$T/m.sel2" "$T/m.sel"; done
	[ "$(wc -l < "$T/m.sel")" = 1 ] && awk '{print $NF}' "$T/m.sel"
}
for d in egress ingress; do
	for r in pass drop; do
		expect_eq "metric packets $d $r = stats" \
			"$(metric cgguard_packets_total "direction=\"$d\"" "result=\"$r\"")" \
			"$(stat_get "$CG" $d $r packets)"
		expect_eq "metric bytes $d $r = stats" \
			"$(metric cgguard_bytes_total "direction=\"$d\"" "result=\"$r\"")" \
			"$(stat_get "$CG" $d $r bytes)"
	done
done
expect_eq "metric sendmsg drops = stats" \
	"$(metric cgguard_operations_total 'layer="sendmsg"' 'result="drop"')" \
	"$(stat_get "$CG" operations sendmsg denied)"
expect_eq "metric enforced packet layer" "$(metric cgguard_cgroup_enforced 'layer="packet"')" 1
grep -q '^cgguard_policy_reload_total{policy="it-daemon",result="ok"} 1$' "$T/metrics" &&
	pass "restarted daemon counts its own loads" || fail "cgguard_policy_reload_total ok != 1"
grep -q '^cgguard_policy_loaded{policy="it-daemon"} 1$' "$T/metrics" &&
	pass "policy loaded gauge" || fail "cgguard_policy_loaded != 1"
if command -v promtool >/dev/null; then
	promtool check metrics < "$T/metrics" && pass "promtool check metrics" ||
		fail "promtool check metrics"
elif [ "${CI:-}" = true ]; then
	fail "promtool missing under CI=true (apt-get install prometheus)"
else
	echo "SKIP: promtool not installed (apt-get install prometheus)"
fi

# ---- control socket: other users are refused ----------------------------
asuser() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
asuser "$CGG" ctl --socket "$SOCK" status >/dev/null 2>&1 &&
	fail "uid 65534 was served" || pass "uid 65534 cannot use the 0600 socket"
# Even if someone opens the permissions, SO_PEERCRED still refuses.
chmod 0755 "$T" "$T/run"; chmod 0666 "$SOCK"
out=$(asuser "$CGG" ctl --socket "$SOCK" status 2>&1)
chmod 0700 "$T" "$T/run"; chmod 0600 "$SOCK"
case $out in
*"permission denied: uid 65534"*) pass "SO_PEERCRED refuses uid 65534" ;;
*) fail "uid 65534 with an open socket: '$out'" ;;
esac

# ---- removal: the daemon garbage-collects the pins ----------------------
t0=$(now_ms)
rmdir "$CG" "$LATE" || fail "rmdir test cgroups"
gone() { ! ls /sys/fs/bpf/cgguard/link/$CGID-* >/dev/null 2>&1 &&
	! "$CGG" list --json | jq -e --arg p "$CGREL/web" 'any(.[]; .cgroup == $p)' >/dev/null; }
wait_until 5000 gone && echo "measured: rmdir-to-GC $(( $(log_ms "$CGREL/web (policy 'it-daemon') is gone") - t0 )) ms" ||
	fail "pins of the removed cgroup not collected within 5 s"

# ---- SIGTERM: clean stop, socket removed, enforcement state untouched ----
kill -TERM $DPID; wait $DPID; rc=$?; DPID=""
expect_eq "SIGTERM exit code" $rc 0
[ -e "$SOCK" ] && fail "socket left behind" || pass "socket removed on stop"
grep -E "error|warning" "$T/daemon.log" | grep -v "rejected\|10.210.0.300" | head -5
finish
