#!/bin/bash
# podman (runtime runc, cgroupfs) with deploy/hooks.d/cgguard.json rewritten
# to this checkout's ./cgguard: a container annotated io.cgguard.policy is
# guarded from its first instruction (traffic, counters, `cgguard list`),
# `podman rm -f` leaves no pins, an unannotated container gets no links, and
# a container whose policy cannot be applied does not start unless
# io.cgguard.fail=open.
. "$(dirname "$0")/lib.sh"
need_root
need_build
need_tools podman
"$TOP/tests/e2e/mkimage.sh" >/dev/null || { fail "building $IMAGE"; finish; }
T=$(mktemp -d /tmp/cgg-e2e-podman.XXXXXX)
trap 'cleanup_all; rm -rf "$T"' EXIT
cleanup_all
setup_netns || { fail "netns setup"; finish; }
P=$T/policy.yaml
write_policy "$P"
mkdir -p "$T/hooks"
jq --arg cgg "$CGG" --arg pd "$T" '.hook.path = $cgg | .hook.args += ["--policy-dir", $pd]' \
	"$TOP/deploy/hooks.d/cgguard.json" \
	> "$T/hooks/cgguard.json" || { fail "deploy/hooks.d/cgguard.json"; finish; }
PODMAN=("${PODMAN_BASE[@]}" --hooks-dir "$T/hooks")

# prun NAME [PODMAN RUN ARGS...] -- CMD: with its own /mark bind mount
prun() {
	local name=$1; shift
	mkdir -p "$T/$name"
	"${PODMAN[@]}" run --name "$name" "${PODMAN_RUN_OPTS[@]}" \
		--network ns:/var/run/netns/cgg-e2e-c -v "$T/$name:/mark" "$@"
}
ppid_of() { "${PODMAN[@]}" inspect --format '{{.State.Pid}}' "$1" 2>/dev/null; }

# --- a guarded and an unguarded container, running ---------------------------
prun cgg-e2e-g1 -d --annotation io.cgguard.policy="$P" "$IMAGE" \
	sh -c "$(traffic_cmd 5000 40 25)" >/dev/null 2>"$T/g1.err" ||
	fail "podman run cgg-e2e-g1: $(cat "$T/g1.err")"
prun cgg-e2e-u1 -d "$IMAGE" sh -c "$(traffic_cmd 5001 20 10)" >/dev/null 2>"$T/u1.err" ||
	fail "podman run cgg-e2e-u1: $(cat "$T/u1.err")"
declare -A CG ID
for c in g1 u1; do
	CG[$c]=$(pid_cgroup "$(ppid_of cgg-e2e-$c)")
	ID[$c]=$(cgroup_id "${CG[$c]}")
done
[ -n "${CG[g1]}" ] && [ -n "${ID[g1]}" ] || fail "cannot find g1's cgroup"
e=$(listed "${CG[g1]}")
expect_eq "g1: listed with the annotated policy" "$(jq -r .policy <<<"$e")" e2e
expect_eq "g1: packet layer enforced" "$(jq -r .layers.packet.enforced <<<"$e")" true
expect_eq "g1: 2+ links pinned" "$([ "$(links_for "${ID[g1]}")" -ge 2 ] && echo yes)" yes
g1id=$("${PODMAN[@]}" inspect --format '{{.Id}}' cgg-e2e-g1)
expect_eq "g1: hook record (by container id)" \
	"$(sed -n 's/^cgroup=//p' "/run/cgguard/containers/$g1id" 2>/dev/null)" "${CG[g1]}"
expect_eq "unannotated u1: not listed" "$(listed "${CG[u1]}")" ""
expect_eq "unannotated u1: no links" "$(links_for "${ID[u1]}")" 0

serve 10.211.0.2 5000 1500 "$T/g1.a"
serve 10.211.0.3 5000 1500 "$T/g1.b"
serve 10.211.0.2 5001 1500 "$T/u1.a"
serve 10.211.0.3 5001 1500 "$T/u1.b"
touch "$T/cgg-e2e-g1/go" "$T/cgg-e2e-u1/go"
for c in g1 u1; do wait_file "$T/cgg-e2e-$c/done" || fail "$c did not finish sending"; done
wait
expect_eq "g1: allowed datagrams received" "$(kv received "$(cat "$T/g1.a")")" 40
expect_eq "g1: denied datagrams received" "$(kv received "$(cat "$T/g1.b")")" 0
expect_eq "g1: denied sends fail" "$(kv failed "$(cat "$T/cgg-e2e-g1/denied")")" 25
expect_eq "u1 (unguarded): allowed datagrams received" "$(kv received "$(cat "$T/u1.a")")" 20
expect_eq "u1 (unguarded): 'denied' datagrams received" "$(kv received "$(cat "$T/u1.b")")" 10
expect_eq "g1: egress pass packets" "$(stat_get "${CG[g1]}" egress pass packets)" 40
expect_eq "g1: denied (packet drops + denied sends)" "$(denied_count "${CG[g1]}")" 25

# --- podman rm -f runs poststop: no pins remain -------------------------------
"${PODMAN[@]}" rm -f -t 0 cgg-e2e-g1 cgg-e2e-u1 >/dev/null 2>&1 || fail "podman rm -f"
expect_eq "g1: no links after rm -f" "$(links_for "${ID[g1]}")" 0
expect_eq "g1: not listed after rm -f" "$(listed "${CG[g1]}")" ""
expect_eq "g1: hook record removed" "$(ls "/run/cgguard/containers/$g1id" 2>/dev/null)" ""

# --- policy cannot be applied: no start unless io.cgguard.fail=open ----------
prun cgg-e2e-c1 --annotation io.cgguard.policy=no-such-policy-e2e "$IMAGE" \
	touch /mark/ran >/dev/null 2>"$T/c1.err"; rc=$?
expect_eq "c1 (unknown policy): podman run fails" "$([ $rc != 0 ] && echo failed)" failed
expect_eq "c1: container process never ran" "$(ls "$T/cgg-e2e-c1/ran" 2>/dev/null)" ""
grep -q "policy no-such-policy-e2e" "$T/c1.err" && pass "c1: podman shows the hook's reason" ||
	fail "c1: reason missing: $(cat "$T/c1.err")"
printf 'policy: [broken\n' > "$T/bad.yaml"
prun cgg-e2e-c2 --annotation io.cgguard.policy="$T/bad.yaml" "$IMAGE" \
	touch /mark/ran >/dev/null 2>"$T/c2.err"; rc=$?
expect_eq "c2 (invalid policy file): podman run fails" "$([ $rc != 0 ] && echo failed)" failed
expect_eq "c2: container process never ran" "$(ls "$T/cgg-e2e-c2/ran" 2>/dev/null)" ""

before=$(failopen_count)
prun cgg-e2e-o1 --annotation io.cgguard.policy=no-such-policy-e2e \
	--annotation io.cgguard.fail=open "$IMAGE" \
	sh -c 'cat /proc/self/cgroup > /mark/ran' >/dev/null 2>"$T/o1.err" ||
	fail "o1: podman run with io.cgguard.fail=open failed: $(cat "$T/o1.err")"
expect_eq "o1 (fail open): container ran" "$(grep -c '^0::/libpod' "$T/cgg-e2e-o1/ran" 2>/dev/null)" 1
expect_eq "o1: fail-open counter incremented" "$(failopen_count)" $((before + 1))
finish
