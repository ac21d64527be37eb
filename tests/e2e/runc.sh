#!/bin/bash
# Plain `runc run` with the hooks of deploy/runc-hooks.json pointing at this
# checkout's ./cgguard: guarded containers' traffic and counters, untouched
# unannotated containers, no pins left after `runc delete`, fail-closed and
# fail-open starts, a hostile hook environment, and the hook's own deadline.
# Also drives the hook directly (crafted state JSON) for the cgroupsPath
# forms and refusals that runc cannot easily produce.
. "$(dirname "$0")/lib.sh"
need_root
need_build
T=$(mktemp -d /tmp/cgg-e2e-runc.XXXXXX)
trap 'cleanup_all; rm -rf "$T"' EXIT
cleanup_all
setup_netns || { fail "netns setup"; finish; }
P=$T/policy.yaml
write_policy "$P"
printf 'policy: [broken\n' > "$T/bad.yaml"
(cd "$T" && runc spec && mv config.json base.json) || { fail "runc spec"; finish; }
HOOKS=$(jq -c --arg cgg "$CGG" --arg pd "$T" \
	'with_entries(.value |= map(.path = $cgg | .args += ["--policy-dir", $pd]))' \
	"$TOP/deploy/runc-hooks.json") || { fail "deploy/runc-hooks.json"; finish; }
HOSTILE='["LD_PRELOAD=/nonexistent/evil.so","PATH=/nonexistent"]'

# bundle ID CMD ANNOTATIONS_JSON [HOOK_ENV_JSON]: $T/ID with its own /mark
bundle() {
	local b=$T/$1
	mkdir -p "$b/mark"
	jq --arg rootfs "$ROOTFS" --arg cmd "$2" --arg mark "$b/mark" \
	   --argjson ann "$3" --argjson hooks "$HOOKS" --argjson env "${4:-null}" '
		.root = { path: $rootfs, readonly: true } |
		.process.terminal = false |
		.process.args = ["sh", "-c", $cmd] |
		.process.env = ["PATH=/bin"] |
		.mounts += [{ destination: "/mark", type: "bind", source: $mark,
			      options: ["rbind", "rw"] }] |
		.linux.namespaces |= map(if .type == "network" then
			{ type: "network", path: "/var/run/netns/cgg-e2e-c" } else . end) |
		.hooks = $hooks |
		(if $env != null then .hooks |= with_entries(.value |= map(.env = $env))
		 else . end) |
		.annotations = $ann' "$T/base.json" > "$b/config.json"
}
# start ID: `runc run -d` (stdio to files; the container waits for /mark/go)
start() { runc run -d --bundle "$T/$1" "$1" </dev/null >"$T/$1.out" 2>"$T/$1.err"; }
cpid() { runc state "$1" 2>/dev/null | jq -r .pid; }

# --- guarded containers (one with a hostile hook env) and an unguarded one --
ANN=$(jq -cn --arg p "$P" '{"io.cgguard.policy": $p}')
bundle cgg-e2e-g1 "$(traffic_cmd 5000 40 25)" "$ANN"
bundle cgg-e2e-g2 "$(traffic_cmd 5001 30 15)" "$ANN" "$HOSTILE"
bundle cgg-e2e-u1 "$(traffic_cmd 5002 20 10)" '{"other":"x"}'
for c in g1 g2 u1; do
	start cgg-e2e-$c || fail "runc run -d cgg-e2e-$c: $(cat "$T/cgg-e2e-$c.err")"
done
declare -A CG ID
for c in g1 g2 u1; do
	CG[$c]=$(pid_cgroup "$(cpid cgg-e2e-$c)")
	ID[$c]=$(cgroup_id "${CG[$c]}")
done
expect_eq "runc put g1 in its default cgroup" "${CG[g1]}" /cgg-e2e-g1
for c in g1 g2; do
	e=$(listed "${CG[$c]}")
	expect_eq "$c: listed with the annotated policy" "$(jq -r .policy <<<"$e")" e2e
	expect_eq "$c: packet layer enforced" "$(jq -r .layers.packet.enforced <<<"$e")" true
	expect_eq "$c: fail mode recorded" "$(jq -r .fail <<<"$e")" closed
	expect_eq "$c: 2+ links pinned" "$([ "$(links_for "${ID[$c]}")" -ge 2 ] && echo yes)" yes
	expect_eq "$c: hook record" "$(sed -n 's/^cgroup=//p' /run/cgguard/containers/cgg-e2e-$c)" "${CG[$c]}"
done
expect_eq "g2's hook ran with the hostile env from config.json" \
	"$(jq -c '.hooks.createRuntime[0].env' "$T/cgg-e2e-g2/config.json")" "$HOSTILE"
expect_eq "unannotated u1: not listed" "$(listed "${CG[u1]}")" ""
expect_eq "unannotated u1: no links" "$(links_for "${ID[u1]}")" 0
expect_eq "unannotated u1: no hook record" "$(ls /run/cgguard/containers/cgg-e2e-u1 2>/dev/null)" ""

port=5000
for c in g1 g2 u1; do
	serve 10.211.0.2 $port 1500 "$T/$c.a"
	serve 10.211.0.3 $port 1500 "$T/$c.b"
	port=$((port + 1))
done
for c in g1 g2 u1; do touch "$T/cgg-e2e-$c/mark/go"; done
for c in g1 g2 u1; do wait_file "$T/cgg-e2e-$c/mark/done" || fail "$c did not finish sending"; done
wait
expect_eq "g1: allowed datagrams received" "$(kv received "$(cat "$T/g1.a")")" 40
expect_eq "g1: denied datagrams received" "$(kv received "$(cat "$T/g1.b")")" 0
expect_eq "g1: denied sends fail" "$(kv failed "$(cat "$T/cgg-e2e-g1/mark/denied")")" 25
expect_eq "g2 (hostile env): allowed datagrams received" "$(kv received "$(cat "$T/g2.a")")" 30
expect_eq "g2 (hostile env): denied datagrams received" "$(kv received "$(cat "$T/g2.b")")" 0
expect_eq "u1 (unguarded): allowed datagrams received" "$(kv received "$(cat "$T/u1.a")")" 20
expect_eq "u1 (unguarded): 'denied' datagrams received" "$(kv received "$(cat "$T/u1.b")")" 10
expect_eq "g1: egress pass packets" "$(stat_get "${CG[g1]}" egress pass packets)" 40
expect_eq "g1: denied (packet drops + denied sends)" "$(denied_count "${CG[g1]}")" 25
expect_eq "g2: egress pass packets" "$(stat_get "${CG[g2]}" egress pass packets)" 30
expect_eq "g2: denied (packet drops + denied sends)" "$(denied_count "${CG[g2]}")" 15

# --- runc delete runs poststop: nothing of the container remains ------------
for c in g1 g2 u1; do
	runc delete -f cgg-e2e-$c >/dev/null 2>&1 || fail "runc delete -f cgg-e2e-$c"
done
for c in g1 g2; do
	expect_eq "$c: no links after delete" "$(links_for "${ID[$c]}")" 0
	expect_eq "$c: not listed after delete" "$(listed "${CG[$c]}")" ""
	expect_eq "$c: hook record removed" "$(ls /run/cgguard/containers/cgg-e2e-$c 2>/dev/null)" ""
done

# --- fail closed: the container process never runs ---------------------------
# run_fg ID: foreground `runc run`; the container touches /mark/ran
run_fg() { runc run --bundle "$T/$1" "$1" </dev/null >"$T/$1.out" 2>"$T/$1.err"; }
declare -A why=([c1]="no-such-policy-e2e" [c2]="$T/bad.yaml" [c3]="$T/missing.yaml")
for c in c1 c2 c3; do
	bundle cgg-e2e-$c "touch /mark/ran" \
		"$(jq -cn --arg p "${why[$c]}" '{"io.cgguard.policy": $p}')"
done
# c4: a bad io.cgguard.fail value; c5: unknown policy under a hostile env
bundle cgg-e2e-c4 "touch /mark/ran" \
	"$(jq -cn --arg p "$P" '{"io.cgguard.policy": $p, "io.cgguard.fail": "sometimes"}')"
bundle cgg-e2e-c5 "touch /mark/ran" '{"io.cgguard.policy":"no-such-policy-e2e"}' "$HOSTILE"
for c in c1 c2 c3 c4 c5; do
	run_fg cgg-e2e-$c; rc=$?
	expect_eq "$c: runc run fails (fail closed)" "$([ $rc != 0 ] && echo failed)" failed
	expect_eq "$c: container process never ran" "$(ls "$T/cgg-e2e-$c/mark/ran" 2>/dev/null)" ""
	runc delete -f cgg-e2e-$c >/dev/null 2>&1
done
grep -q "cgguard: oci-hook: container cgg-e2e-c1: policy no-such-policy-e2e" "$T/cgg-e2e-c1.err" &&
	pass "c1: runc reports the hook's reason" ||
	fail "c1: reason missing from runc's error: $(cat "$T/cgg-e2e-c1.err")"
grep -q "bad.yaml:" "$T/cgg-e2e-c2.err" && pass "c2: policy error names the file" ||
	fail "c2: reason: $(cat "$T/cgg-e2e-c2.err")"
grep -q 'io.cgguard.fail=.*sometimes.*: must be open or closed' "$T/cgg-e2e-c4.err" &&
	pass "c4: bad fail mode named" || fail "c4: reason: $(cat "$T/cgg-e2e-c4.err")"

# --- fail open: it runs, unguarded, and the failure is counted ---------------
before=$(failopen_count)
bundle cgg-e2e-o1 "cat /proc/self/cgroup > /mark/ran" \
	'{"io.cgguard.policy":"no-such-policy-e2e","io.cgguard.fail":"open"}'
run_fg cgg-e2e-o1 || fail "o1: runc run with io.cgguard.fail=open failed: $(cat "$T/cgg-e2e-o1.err")"
expect_eq "o1: container ran" "$(sed -n 's/^0:://p' "$T/cgg-e2e-o1/mark/ran" 2>/dev/null)" /cgg-e2e-o1
expect_eq "o1: fail-open counter incremented" "$(failopen_count)" $((before + 1))
expect_eq "o1: not guarded" "$(listed /cgg-e2e-o1)" ""
runc delete -f cgg-e2e-o1 >/dev/null 2>&1

# --- the hook driven directly ----------------------------------------------------
# A live process in a cgroup of our own, and a bundle with a config.json.
# mkproc REL: creates the cgroup, starts `sleep` in it, prints the pid
mkproc() {
	mkdir -p "$CG2/${1#/}" || return 1
	(echo $BASHPID > "$CG2/${1#/}/cgroup.procs" && exec sleep 60 >/dev/null 2>&1) &
	for _ in $(seq 50); do [ "$(pid_cgroup $!)" = "$1" ] && break; sleep 0.02; done
	echo $!
}
# dbundle NAME CONFIG_JSON: a bundle dir holding just config.json
dbundle() { mkdir -p "$T/d-$1" && printf '%s' "$2" > "$T/d-$1/config.json"; }
# state ID STATUS PID NAME [ANN_JSON]
state() {
	local ann=${5:-'{}'}
	jq -cn --arg id "$1" --arg st "$2" --argjson pid "$3" --arg b "$T/d-$4" \
		--argjson ann "$ann" \
		'{ociVersion:"1.0.2", id:$id, status:$st, bundle:$b, annotations:$ann}
		 + (if $pid > 0 then {pid:$pid} else {} end)'
}
hook() { "$CGG" oci-hook --policy-dir "$T" "$@"; }

pid=$(mkproc /cgg-e2e-d1)
dbundle d1 "$(jq -cn --arg p "$P" '{ociVersion:"1.0.2", linux:{cgroupsPath:"/cgg-e2e-d1"},
	annotations:{"io.cgguard.policy":$p}}')"
# Identical outcome with a clean and a hostile environment.
out1=$(state cgg-e2e-d1 creating "$pid" d1 | env -i "$CGG" oci-hook --policy-dir "$T" --json 2>/dev/null); rc1=$?
out2=$(state cgg-e2e-d1 creating "$pid" d1 |
	env -i LD_PRELOAD=/nonexistent/evil.so PATH=/nonexistent HOME=/nonexistent \
	"$CGG" oci-hook --policy-dir "$T" --json 2>/dev/null); rc2=$?
expect_eq "direct: attach exit status" "$rc1" 0
expect_eq "direct: hostile env, same status and output" "$rc2:$out2" "$rc1:$out1"
expect_eq "direct: action" "$(jq -r .action <<<"$out1")" attached
expect_eq "direct: listed" "$(listed /cgg-e2e-d1 | jq -r .policy)" e2e
out=$(state cgg-e2e-d1 stopped 0 d1 | hook --json); rc=$?
expect_eq "direct: poststop detaches" "$rc:$(jq -r .action <<<"$out")" 0:detached
expect_eq "direct: no links after poststop" "$(links_for "$(cgroup_id /cgg-e2e-d1)")" 0
out=$(state cgg-e2e-d1 stopped 0 d1 | hook --json); rc=$?
expect_eq "direct: second poststop is a no-op" "$rc:$(jq -r .action <<<"$out")" 0:none

# systemd cgroupsPath: slice:prefix:name -> nested slices + prefix-name.scope
sd=/cgge2e.slice/cgge2e-a.slice/cgge2e-x1.scope
spid=$(mkproc $sd)
dbundle sd "$(jq -cn --arg p "$P" '{ociVersion:"1.0.2", linux:{cgroupsPath:"cgge2e-a.slice:cgge2e:x1"},
	annotations:{"io.cgguard.policy":$p}}')"
out=$(state cgg-e2e-sd creating "$spid" sd | hook --json 2>&1); rc=$?
expect_eq "direct: systemd form attaches" "$rc:$(jq -r .cgroup <<<"$out" 2>/dev/null)" "0:$sd"
expect_eq "direct: systemd cgroup listed" "$(listed $sd | jq -r .policy)" e2e
state cgg-e2e-sd stopped 0 sd | hook >/dev/null 2>&1
expect_eq "direct: systemd cgroup detached" "$(listed $sd)" ""

# Refusals, each failing closed with a precise reason.
# refuse WHAT PATTERN STATE: the hook must exit 1 and print PATTERN
refuse() {
	local out rc
	out=$(printf '%s' "$3" | hook 2>&1 >/dev/null); rc=$?
	if [ $rc = 1 ] && grep -q -- "$2" <<<"$out"; then pass "refused: $1"
	else fail "refused: $1: rc=$rc: $out"; fi
}
refuse "pid not in cgroupsPath" "cgroup mismatch: config.json says /cgg-e2e-d1 but pid $spid is in $sd" \
	"$(state cgg-e2e-d1 creating "$spid" d1)"
ln -s "$T/d-d1/config.json" "$T/link.json"; mkdir -p "$T/d-ln"; ln -s "$T/link.json" "$T/d-ln/config.json"
refuse "symlinked config.json" "config.json: is a symbolic link (refused)" "$(state cgg-e2e-ln creating "$pid" ln)"
dbundle rt "$(jq -cn '{ociVersion:"1.0.2", linux:{cgroupsPath:"/"}, annotations:{"io.cgguard.policy":"baseline"}}')"
refuse "root cgroup" "refusing to guard the whole host" "$(state cgg-e2e-rt creating 1 rt)"
dbundle rf "$(jq -cn --arg r "$ROOTFS" '{ociVersion:"1.0.2", root:{path:$r}, linux:{cgroupsPath:"/cgg-e2e-d1"},
	annotations:{"io.cgguard.policy":($r + "/etc/p.yaml")}}')"
refuse "policy inside the rootfs" "is not below the policy directories" "$(state cgg-e2e-rf creating "$pid" rf)"
dbundle bad '{"ociVersion":"1.0.2", "annotations": {"io.cgguard.policy": "baseline",}}'
refuse "malformed config.json" "config.json:1:72: trailing ','" "$(state cgg-e2e-bad creating "$pid" bad)"
refuse "malformed state" "state (stdin):1:7: expected ':' after key" '{"id" 1}'
refuse "duplicate annotation" 'key "io.cgguard.policy" appears more than once' \
	'{"id":"cgg-e2e-dup","status":"creating","annotations":{"io.cgguard.policy":"a","io.cgguard.policy":"b"}}'
refuse "invalid container id" "not a valid OCI container id" '{"id":"../../etc","status":"creating"}'
dbundle none '{"ociVersion":"1.0.2"}'
out=$(state cgg-e2e-none creating "$pid" none | hook --json 2>&1); rc=$?
expect_eq "direct: no annotation, nothing done" "$rc:$(jq -r .action <<<"$out")" 0:none

# --- deadlines ---------------------------------------------------------------
t0=$(now_ms)
out=$(hook --timeout-ms 300 < <(exec sleep 10) 2>&1); rc=$?
dt=$(($(now_ms) - t0))
kill $! 2>/dev/null
expect_eq "stalled stdin: fails closed" "$rc" 1
expect_eq "stalled stdin: gives up within 1 s" "$([ $dt -lt 1000 ] && echo yes || echo "no (${dt} ms)")" yes
grep -q "gave up after the 300 ms deadline" <<<"$out" && pass "stalled stdin: says why" ||
	fail "stalled stdin message: $out"
# A stalled cgguard process holding the pinned state's lock.
flock /sys/fs/bpf/cgguard sleep 2 & lockpid=$!
sleep 0.2
dbundle dlo "$(jq -cn --arg p "$P" '{ociVersion:"1.0.2", linux:{cgroupsPath:"/cgg-e2e-d1"},
	annotations:{"io.cgguard.policy":$p, "io.cgguard.fail":"open"}}')"
t0=$(now_ms)
state cgg-e2e-d1 creating "$pid" d1 | hook --timeout-ms 400 >/dev/null 2>"$T/dl.err"; rc=$?
dt=$(($(now_ms) - t0))
expect_eq "locked state, fail closed: exit 1 within 1 s" "$rc:$([ $dt -lt 1000 ] && echo fast)" 1:fast
before=$(failopen_count)
state cgg-e2e-d1 creating "$pid" dlo | hook --timeout-ms 400 >/dev/null 2>"$T/dlo.err"; rc=$?
expect_eq "locked state, fail open: exit 0" "$rc" 0
expect_eq "locked state, fail open: counted" "$(failopen_count)" $((before + 1))
grep -q "UNGUARDED" "$T/dlo.err" && pass "fail-open deadline warns" || fail "fail-open deadline: $(cat "$T/dlo.err")"
wait $lockpid
expect_eq "nothing attached while the lock was held" "$(listed /cgg-e2e-d1)" ""
kill "$pid" "$spid" 2>/dev/null
finish
