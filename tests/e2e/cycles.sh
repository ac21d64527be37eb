#!/bin/bash
# 200 guarded container create/remove cycles with real runc and the OCI
# hook: the numbers of BPF programs, links and maps in the kernel and of
# pins and hook records on disk end where they started (no leak per
# container), and every cycle's container was really guarded.
. "$(dirname "$0")/lib.sh"
need_root
need_build
N=${CGG_CYCLES:-200}
T=$(mktemp -d /tmp/cgg-e2e-cyc.XXXXXX)
trap 'cleanup_all; rm -rf "$T"' EXIT
cleanup_all
P=$T/policy.yaml
write_policy "$P"
(cd "$T" && runc spec && mv config.json base.json) || { fail "runc spec"; finish; }
HOOKS=$(jq -c --arg cgg "$CGG" --arg pd "$T" \
	'with_entries(.value |= map(.path = $cgg | .args += ["--policy-dir", $pd]))' \
	"$TOP/deploy/runc-hooks.json") || { fail "deploy/runc-hooks.json"; finish; }
mkdir -p "$T/b"
jq --arg rootfs "$ROOTFS" --argjson hooks "$HOOKS" --arg p "$P" '
	.root = { path: $rootfs, readonly: true } |
	.process.terminal = false |
	.process.args = ["sleep", "5"] |
	.hooks = $hooks |
	.annotations = { "io.cgguard.policy": $p }' "$T/base.json" > "$T/b/config.json"

counts() {
	echo "progs=$(bpftool prog show 2>/dev/null | grep -c '^[0-9]*:')" \
	     "links=$(bpftool link show 2>/dev/null | grep -c '^[0-9]*:')" \
	     "maps=$(bpftool map show 2>/dev/null | grep -c '^[0-9]*:')" \
	     "pins=$(find /sys/fs/bpf/cgguard 2>/dev/null | wc -l)" \
	     "records=$(ls /run/cgguard/containers 2>/dev/null | wc -l)"
}
# cycle ID: create a guarded container, check its cgroup has cgguard's
# links while it runs (the hook ran at createRuntime), remove it (poststop
# detaches).  Returns 1 if a step failed, 2 if it was not guarded.
cycle() {
	local id=$1 cgid st=0
	runc run -d --bundle "$T/b" "$id" </dev/null >/dev/null 2>"$T/err" || return 1
	cgid=$(cgroup_id "/$id")
	[ -n "$cgid" ] && [ "$(links_for "$cgid")" -gt 0 ] || st=2
	runc kill "$id" KILL 2>/dev/null
	for _ in $(seq 100); do
		[ "$(runc state "$id" 2>/dev/null | jq -r .status)" = stopped ] && break
		sleep 0.01
	done
	runc delete -f "$id" >/dev/null 2>&1 || return 1
	return $st
}
# One warm-up cycle: the first attach on a fresh host loads and pins the
# programs, which is state that is meant to stay.
cycle cgg-e2e-cyc-warm || { fail "warm-up container: $(cat "$T/err")"; finish; }
before=$(counts)
guarded=0 failed=0
start=$(now_ms)
for i in $(seq "$N"); do
	cycle "cgg-e2e-cyc-$i"
	case $? in 0) guarded=$((guarded + 1)) ;; 1) failed=$((failed + 1)) ;; esac
done
echo "$N cycles in $(( $(now_ms) - start )) ms"
after=$(counts)
expect_eq "cycles that failed" "$failed" 0
expect_eq "containers guarded while they ran" "$guarded" "$N"
expect_eq "programs/links/maps/pins/records after $N cycles" "$after" "$before"
expect_eq "guarded cgroups left from the cycles" "$("$CGG" list --json | jq '[.[] | select(.cgroup|test("cgg-e2e-cyc"))] | length')" 0
finish
