#!/bin/bash
# deploy/bpftrace/ scripts, each run for real against an event this test
# causes: attach latency and OCI hook runs (USDT), policy swaps, detach and
# gc (USDT), the TCP lifecycle of a guarded cgroup's connection
# (sock:inet_sock_set_state) and EPERM seen by a denied process (syscall
# tracepoints).  Also: `bpftrace -l` lists cgguard's USDT probes.
. "$(dirname "$0")/../lib.sh"
need_root
command -v bpftrace >/dev/null || skip "bpftrace is not installed (tests/deps.sh)"
BT=$TOP/deploy/bpftrace
T=$(mktemp -d)
PIDS=""
stop_bt() { local p; for p in $PIDS; do kill -INT "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done; PIDS=""; }
trap 'stop_bt; cleanup_all; rm -rf "$T"' EXIT
cleanup_all
# Tracepoints need tracefs; mount it where the kernel expects it.
[ -d /sys/kernel/tracing/events ] ||
	mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null ||
	skip "tracefs is not available"
setup_netns || { fail "netns setup"; finish; }

# 1. The probes are in the binary.
probes=$(bpftrace -l "usdt:$CGG:*" 2>/dev/null | sed 's/.*://' | sort | tr '\n' ' ')
expect_eq "USDT probes listed" "$probes" \
	"attach_done attach_start detach gc oci_hook_done oci_hook_start policy_reload policy_swap reconcile "

cat > "$T/p1.yaml" <<'P'
policy: it-bt-one
egress:
  rules:
    - { action: deny, to: 10.210.0.3/32 }
P
cat > "$T/p2.yaml" <<'P'
policy: it-bt-two
egress:
  rules:
    - { action: deny, to: 10.210.0.3/32, proto: tcp }
P
CG=$(make_cg bt)
CGID=$(stat -c %i "$CG")
# bpftrace start-up (BTF parsing) takes seconds: all four run at once.
start_bt() { # start_bt NAME ARGS...
	local n=$1; shift
	bpftrace "$@" > "$T/$n.out" 2> "$T/$n.err" &
	PIDS="$PIDS $!"
}
start_bt lat "$BT/attach_latency.bt" "$CGG"
start_bt pol "$BT/policy_changes.bt" "$CGG"
start_bt conn "$BT/conn_lifecycle.bt" "$CGID"
start_bt eperm "$BT/eperm.bt" "$CGID"
for n in lat pol conn eperm; do
	for _ in $(seq 300); do grep -q '^Attaching' "$T/$n.out" && break; sleep 0.1; done
	grep -q '^Attaching' "$T/$n.out" || fail "bpftrace $n did not start: $(cat "$T/$n.err")"
done
sleep 1	# attaching the probes follows the "Attaching" line

"$CGG" attach --cgroup "$CG" --policy "$T/p1.yaml" || fail "attach p1"
"$CGG" attach --cgroup "$CG" --policy "$T/p2.yaml" || fail "attach p2 (swap)"
# An OCI hook run for a container that did not opt in.
mkdir -p "$T/bundle"
echo '{"ociVersion":"1.0.2","annotations":{}}' > "$T/bundle/config.json"
echo "{\"ociVersion\":\"1.0.2\",\"id\":\"bt-ctr-1\",\"status\":\"creating\",\"pid\":$$,\"bundle\":\"$T/bundle\"}" |
	"$CGG" oci-hook >/dev/null || fail "oci-hook run"
serve tcp-recv 10.210.0.2 7100 500 "$T/srv"
client "$CG" tcp-send 10.210.0.2 7100 1000 2000 > "$T/ok"
client "$CG" tcp-send 10.210.0.3 7100 1000 2000 > "$T/denied"
wait_srv() { for _ in $(seq 50); do grep -q connections "$T/srv" && return; sleep 0.1; done; }
wait_srv
"$CGG" detach --cgroup "$CG" || fail "detach"
sleep 1
stop_bt

expect_eq "allowed connection" "$(kv result "$(cat "$T/ok")")" ok
expect_eq "denied connection" "$(kv errno "$(cat "$T/denied")")" EPERM
REL=${CG#$CG2}
grep -Eq "^attach $CG policy=it-bt-one rc=0 us=[0-9]+$" "$T/lat.out" &&
	pass "attach_latency: attach line" || fail "attach_latency: no attach line: $(cat "$T/lat.out")"
grep -q "@attach_us:" "$T/lat.out" && pass "attach_latency: histogram" ||
	fail "attach_latency: no histogram"
grep -Eq "^oci-hook container=bt-ctr-1 stage=createRuntime action=none rc=0 us=[0-9]+$" "$T/lat.out" &&
	pass "attach_latency: OCI hook line" || fail "attach_latency: no hook line"
grep -Eq "^swap cgroup=$REL id=$CGID slot [0-9]+ -> [0-9]+ policy=it-bt-two$" "$T/pol.out" &&
	pass "policy_changes: swap line" || fail "policy_changes: no swap line: $(cat "$T/pol.out")"
grep -q "^detach cgroup=$REL id=$CGID$" "$T/pol.out" &&
	pass "policy_changes: detach line" || fail "policy_changes: no detach line"
grep -Eq "cgroup=$CGID 10\.210\.0\.1:[0-9]+ -> 10\.210\.0\.2:7100 SYN_SENT -> ESTABLISHED$" "$T/conn.out" &&
	pass "conn_lifecycle: established" || fail "conn_lifecycle: no transition: $(cat "$T/conn.out")"
grep -q "10.210.0.3" "$T/conn.out" && fail "conn_lifecycle: a denied connect has no TCP states" ||
	pass "conn_lifecycle: nothing for the denied connect"
grep -Eq "EPERM tracepoint:syscalls:sys_exit_connect pid=[0-9]+ comm=cgg_traffic cgroup=$CGID$" "$T/eperm.out" &&
	pass "eperm: denied connect" || fail "eperm: no line: $(cat "$T/eperm.out")"
finish
