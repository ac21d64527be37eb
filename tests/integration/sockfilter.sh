#!/bin/bash
# Unprivileged layer: socket filters the daemon hands out, used through
# libcgguard by uid 65534 (nobody) with no privilege at all.
# - UDP: of 20 datagrams from an allowed source and 20 from a denied one,
#   exactly the 20 allowed arrive; the daemon's counters show 20 passed and
#   20 dropped for (65534, policy).
# - TCP listener: a connect from the denied source never yields an
#   accept(); the allowed one does.
# - The lock holds: SO_DETACH_BPF, a second SO_ATTACH_BPF and
#   SO_ATTACH_FILTER all fail with EPERM.
# - No map fd can be had from the program fd (BPF_MAP_GET_FD_BY_ID on the
#   ids bpftool reports for the program).
# - A caller not in the config gets EACCES and the daemon logs it; refused
#   and malformed requests change no pinned state.
# - The classic fallback (no daemon) filters the same 40 datagrams the same
#   way on UDP.
# Runs at whatever kernel.unprivileged_bpf_disabled is, and says which.
. "$(dirname "$0")/../lib.sh"
need_root
command -v setpriv >/dev/null || skip "needs setpriv (util-linux)"
command -v bpftool >/dev/null || skip "needs bpftool"
command -v jq >/dev/null || skip "needs jq"
SF=$TOP/.output/cgg_sfcheck
[ -x "$SF" ] || { fail "$SF not built (make test-build)"; finish; }

echo "kernel.unprivileged_bpf_disabled=$(sysctl -n kernel.unprivileged_bpf_disabled)"
T=$(mktemp -d)
chmod 755 "$T"
DPID=""
USOCK=$T/run/user.sock
PIN=/sys/fs/bpf/cgguard/sockfilter
stop_daemon() { [ -n "$DPID" ] && kill "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; DPID=""; }
trap 'stop_daemon; cleanup_all; rm -rf "$T"' EXIT
cleanup_all
setup_netns || { fail "netns setup"; finish; }

# Allowed: 10.210.0.1 (the client's main address), any protocol and port.
# Denied: 169.254.169.1 (the client's second address), except on a port
# the test never uses (so the local port is judged, not only the source).
mkdir -p "$T/pol"
cat > "$T/pol/sf.yaml" <<'P'
policy: it-sockfilter
ingress:
  default: deny
  rules:
    - { action: allow, from: 10.210.0.1/32 }
    - { action: allow, from: 169.254.0.0/16, proto: udp, ports: [9] }
P
chmod 644 "$T/pol/sf.yaml"
cat > "$T/config.yaml" <<C
unprivileged_socket: $USOCK
unprivileged:
  - uid: 65534
    policies: [it-sockfilter]
C
"$CGG" daemon --config "$T/config.yaml" --policy-dir "$T/pol" --socket "$T/run/root.sock" \
	--metrics off > "$T/daemon.log" 2>&1 &
DPID=$!
for _ in $(seq 250); do [ -S "$USOCK" ] && break; sleep 0.02; done
[ -S "$USOCK" ] || { fail "daemon did not come up: $(cat "$T/daemon.log")"; finish; }
export CGGUARD_SOCKET=$USOCK

as_user() { setpriv --reuid "$1" --regid "$1" --clear-groups --inh-caps=-all "${@:2}"; }
srv() { ip netns exec $NS_S setpriv --reuid 65534 --regid 65534 --clear-groups --inh-caps=-all "$SF" "$@"; }
cli() { ip netns exec $NS_C "$TRAFFIC" "$@"; }
# start_srv OUT ARGS...: the user's server in the server namespace
start_srv() {
	local out=$1; shift
	srv "$@" > "$out" 2>&1 &
	SRV=$!
	for _ in $(seq 250); do grep -q "ready\|result=" "$out" 2>/dev/null && break; sleep 0.02; done
	grep -q ready "$out" || fail "server $*: $(cat "$out")"
}
# counter FIELD: ingress FIELD (e.g. pass.packets) of (65534, it-sockfilter)
counter() {
	"$CGG" --json stats --sockfilter | jq -r \
		".[] | select(.uid == 65534 and .policy == \"it-sockfilter\") | .ingress.$1 // 0"
}
send_both() { # send_both PORT: 20 from the allowed source, 20 from the denied
	cli udp-send 10.210.0.2 "$1" 20 >/dev/null
	cli udp-send 169.254.169.254 "$1" 20 >/dev/null
}

# ---- UDP, daemon filter -------------------------------------------------
start_srv "$T/udp" recv udp daemon it-sockfilter 7001 600
p0=$(counter pass.packets); d0=$(counter drop.packets)
send_both 7001
wait $SRV
cat "$T/udp"
expect_eq "UDP datagrams received" "$(sed -n 's/^result=ok received=//p' "$T/udp")" 20
expect_eq "from the allowed source" "$(sed -n 's/^src=10.210.0.1 n=//p' "$T/udp")" 20
expect_eq "from the denied source" "$(grep -c '^src=169.254.169.1 ' "$T/udp")" 0
expect_eq "lock: detach, re-attach (bpf, classic)" "$(grep '^detach=' "$T/udp")" \
	"detach=EPERM attach_bpf=EPERM attach_filter=EPERM"
expect_eq "counter: passed" "$(( $(counter pass.packets) - ${p0:-0} ))" 20
expect_eq "counter: dropped" "$(( $(counter drop.packets) - ${d0:-0} ))" 20

# ---- TCP listener, daemon filter ---------------------------------------
start_srv "$T/tcp" recv tcp daemon it-sockfilter 7002 2500
d0=$(counter drop.packets)
denied=$(cli tcp-send 169.254.169.254 7002 1000 1500)
allowed=$(cli tcp-send 10.210.0.2 7002 1000 1500)
wait $SRV
cat "$T/tcp"
expect_eq "TCP connect from the denied source" "$(kv result "$denied")" connect_failed
expect_eq "TCP connect from the allowed source" "$(kv result "$allowed")" ok
expect_eq "connections accepted" "$(sed -n 's/^result=ok accepted=//p' "$T/tcp")" 1
expect_eq "accepted from the denied source" "$(grep -c '^src=169.254.169.1 ' "$T/tcp")" 0
d1=$(counter drop.packets)
[ "$((d1 - d0))" -ge 1 ] && pass "denied SYNs counted as drops ($((d1 - d0)))" \
	|| fail "no drops counted for the denied SYNs"
expect_eq "TCP lock" "$(grep '^detach=' "$T/tcp")" "detach=EPERM attach_bpf=EPERM attach_filter=EPERM"

# ---- no map from the program fd ----------------------------------------
out=$(as_user 65534 "$SF" progid it-sockfilter)
echo "$out"
id=$(kv prog_id "$out")
ids=$(bpftool prog show id "$id" -j | jq -r '.map_ids[]' | tr '\n' ' ')
[ "$(wc -w <<<"$ids")" -ge 3 ] && pass "program $id uses maps $ids" || fail "map ids of $id: '$ids'"
bpftool prog show id "$id" -j | jq -e '.type == "socket_filter"' >/dev/null \
	&& pass "handed out: a socket_filter program" || fail "program $id is not a socket filter"
out=$(as_user 65534 "$SF" maps it-sockfilter $ids)
echo "$out"
expect_eq "map fds obtained as uid 65534" "$(kv maps_got "$out")" 0
[ "$(grep -c ': EPERM$' <<<"$out")" -ge "$(wc -w <<<"$ids")" ] \
	&& pass "every BPF_MAP_GET_FD_BY_ID: EPERM" || fail "not all EPERM"

# ---- refusals change nothing -------------------------------------------
state() { for m in meta bind counts; do bpftool map dump pinned $PIN/$m; done | md5sum; }
before=$(state)
out=$(ip netns exec $NS_S setpriv --reuid 1000 --regid 1000 --clear-groups "$SF" recv udp daemon it-sockfilter 7003 100)
grep -q "result=filter_failed errno=EACCES" <<<"$out" && pass "uid 1000 (not in the config): EACCES" \
	|| fail "uid 1000: $out"
grep -q "refused pid [0-9]* uid 1000 gid 1000" "$T/daemon.log" && pass "refusal logged" || fail "not logged"
for r in '{"cmd":"filter","policy":"baseline"}' '{"cmd":"filter","policy":"it-sockfilter","uid":0}' \
	 '{"cmd":"filter","policy":"no-such"}' '{"cmd":"filter"' '{"cmd":"filter","policy":["it-sockfilter"]}'; do
	out=$(as_user 65534 "$SF" raw "$r")
	case $out in errno=EACCES\ fd=0*|errno=EINVAL\ fd=0*|errno=ENOENT\ fd=0*) pass "refused: $r" ;;
		*) fail "$r: $out" ;; esac
done
expect_eq "pinned filter state after refused requests" "$(state)" "$before"

# ---- classic fallback: same 40 datagrams, no daemon --------------------
stop_daemon
out=$(as_user 65534 "$SF" tcp-probe)
echo "classic filters on TCP sockets as uid 65534: $(kv classic_tcp "$out")"
start_srv "$T/classic" recv udp classic "$T/pol/sf.yaml" 7004 600
send_both 7004
wait $SRV
cat "$T/classic"
expect_eq "classic: datagrams received" "$(sed -n 's/^result=ok received=//p' "$T/classic")" 20
expect_eq "classic: from the allowed source" "$(sed -n 's/^src=10.210.0.1 n=//p' "$T/classic")" 20
expect_eq "classic: lock" "$(grep '^detach=' "$T/classic")" \
	"detach=EPERM attach_bpf=no-daemon attach_filter=EPERM"
finish
