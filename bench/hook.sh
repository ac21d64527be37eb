#!/bin/bash
# Container start time with and without cgguard's OCI hook, real runc.
# N starts each (default 100), alternating, of a busybox container running
# `true`; prints p50/p99 per mode and the added time.  The hook config is
# deploy/runc-hooks.json pointed at this checkout's binary.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/tests/e2e/lib.sh"
N=${1:-100}
need_root
need_build
T=$(mktemp -d /tmp/cgg-e2e-bench.XXXXXX)
trap 'runc_cleanup; rm -rf "$T"' EXIT
cat > "$T/p.yaml" <<'P'
policy: bench-hook
egress:
  rules: [ { action: deny, to: 169.254.169.254/32 } ]
P
(cd "$T" && runc spec && mv config.json base.json)
HOOKS=$(jq -c --arg cgg "$TOP/cgguard" --arg pd "$T" \
	'with_entries(.value |= map(.path = $cgg | .args += ["--policy-dir", $pd]))' "$TOP/deploy/runc-hooks.json")
# The same two hook stages running /bin/true: what runc charges for any
# hook at all (fork/exec from Go, state JSON, waiting), not cgguard's work.
NOOP=$(jq -c 'with_entries(.value |= map(.path = "/bin/true" | .args = ["true"]))' "$TOP/deploy/runc-hooks.json")
for m in plain noop hook; do
	mkdir -p "$T/$m"
	jq --arg rootfs "$ROOTFS" --argjson hooks "$HOOKS" --arg p "$T/p.yaml" --arg m "$m" '
		.root = { path: $rootfs, readonly: true } | .process.terminal = false |
		.process.args = ["true"] |
		(if $m == "hook" then .hooks = $hooks |
		 .annotations = { "io.cgguard.policy": $p } else . end) |
		(if $m == "noop" then .hooks = $noop else . end)' --argjson noop "$NOOP" \
		"$T/base.json" > "$T/$m/config.json"
done
# A long-lived guarded cgroup keeps the policy's slot warm, as on a host
# running other containers with the same policy.
CGW=$CG2/cgg-e2e-bench-warm
mkdir -p "$CGW" && "$TOP/cgguard" attach --cgroup "$CGW" --policy "$T/p.yaml"
for i in $(seq "$N"); do
	for m in plain noop hook; do
		t0=$(date +%s%N)
		runc run --bundle "$T/$m" "cgg-e2e-b$m$i" </dev/null >/dev/null 2>&1
		echo $(( ($(date +%s%N) - t0) / 1000 )) >> "$T/$m.us"
	done
done
"$TOP/cgguard" detach --cgroup "$CGW"; rmdir "$CGW"
pct() { sort -n "$1" | awk -v p="$2" '{a[NR]=$1} END {i=int(NR*p/100); if (i<1) i=1; printf "%.1f", a[i]/1000}'; }
p50p=$(pct "$T/plain.us" 50) p99p=$(pct "$T/plain.us" 99)
p50n=$(pct "$T/noop.us" 50) p99n=$(pct "$T/noop.us" 99)
p50h=$(pct "$T/hook.us" 50) p99h=$(pct "$T/hook.us" 99)
printf 'runc start+stop of `true`, %d runs each, alternating (ms)\n' "$N"
printf '  %-22s p50 %7s  p99 %7s\n' "no hook" "$p50p" "$p99p" \
	"/bin/true as both hooks" "$p50n" "$p99n" "cgguard oci-hook" "$p50h" "$p99h"
awk -v a="$p50h" -v b="$p50p" -v n="$p50n" 'BEGIN{
	printf "  added by cgguard (createRuntime + poststop) at p50: %.1f ms over no hook, %.1f ms over a no-op hook\n", a-b, a-n}'
