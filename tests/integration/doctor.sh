#!/bin/bash
# cgguard doctor: real layer probes, host facts and BPF sysctls; the exit
# status follows the layers the policies need; EPERM is explained; the
# probes leave no cgroup and no program behind.
#
# On the project's build hosts the kernel refuses BPF LSM programs with
# EPERM (docs/design: "BPF LSM and fentry programs fail to load with
# EPERM"); a host where BPF LSM works sets CGG_EXPECT_LSM=1.
. "$(dirname "$0")/../lib.sh"
need_root
command -v jq >/dev/null || skip "needs jq"
command -v bpftool >/dev/null || skip "needs bpftool"
T=$(mktemp -d)
trap 'cg_cleanup; rm -rf "$T"; rmdir "$CG2/cgguard-probe-$DEAD" 2>/dev/null' EXIT
EXPECT_LSM=${CGG_EXPECT_LSM:-0}
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)

nprogs() { bpftool prog show 2>/dev/null | grep -c '^[0-9]*:'; }
probe_cgroups() { find "$CG2" -maxdepth 1 -name 'cgguard-probe-*' | wc -l; }

# A scratch cgroup left by a probe that died (dead pid, older than a
# minute) is removed by the next probe.
DEAD=32767
while kill -0 "$DEAD" 2>/dev/null; do DEAD=$((DEAD - 1)); done
mkdir -p "$CG2/cgguard-probe-$DEAD" && touch -d '-5 min' "$CG2/cgguard-probe-$DEAD"

progs_before=$(nprogs)

# ---- JSON report as root --------------------------------------------------
"$CGG" doctor --json > "$T/doc.json"; rc=$?
jq -e . "$T/doc.json" >/dev/null || fail "doctor --json is not valid JSON"
expect_eq "doctor exit status (nothing in use needs a missing layer)" "$rc" 0
j() { jq -r "$1" "$T/doc.json"; }

for l in packet connect sendmsg bind create sockfilter; do
	expect_eq "layers.$l.available" "$(j ".layers.$l.available")" true
	expect_eq "layers.$l.errno" "$(j ".layers.$l.errno")" null
done
if [ "$EXPECT_LSM" = 1 ]; then
	expect_eq "layers.lsm_cgroup.available" "$(j .layers.lsm_cgroup.available)" true
else
	for l in lsm_cgroup lsm; do
		expect_eq "layers.$l.available" "$(j ".layers.$l.available")" false
		expect_eq "layers.$l.errno" "$(j ".layers.$l.errno")" EPERM
		expect_eq "layers.$l.step" "$(j ".layers.$l.step")" load
		# Root holds every capability: the detail must not blame them.
		j ".layers.$l.detail" | grep -q 'although CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN are held' &&
			pass "$l: detail says the kernel refused it despite the capabilities" ||
			fail "$l: detail '$(j ".layers.$l.detail")'"
	done
fi
expect_eq "layers.sockfilter.classic_bpf" "$(j .layers.sockfilter.classic_bpf)" true

for s in kernel.unprivileged_bpf_disabled net.core.bpf_jit_enable \
	 net.core.bpf_jit_harden net.core.bpf_jit_kallsyms net.core.bpf_jit_limit; do
	expect_eq "sysctls.$s.value" "$(j ".sysctls[\"$s\"].value")" "$(sysctl -n "$s")"
	for k in meaning recommended ok; do
		[ "$(j ".sysctls[\"$s\"] | has(\"$k\")")" = true ] || fail "sysctls.$s lacks $k"
	done
done
ub=$(sysctl -n kernel.unprivileged_bpf_disabled)
expect_eq "unprivileged_bpf_disabled=$ub judged" "$(j '.sysctls["kernel.unprivileged_bpf_disabled"].ok')" \
	"$([ "$ub" = 1 ] || [ "$ub" = 2 ] && echo true || echo false)"
j '.sysctls["kernel.unprivileged_bpf_disabled"].meaning' | grep -q 'classic BPF' &&
	pass "unprivileged_bpf_disabled meaning mentions classic BPF" ||
	fail "unprivileged_bpf_disabled meaning: $(j '.sysctls["kernel.unprivileged_bpf_disabled"].meaning')"

expect_eq "cgroup.mount" "$(j .cgroup.mount)" "$CG2"
if [ "$CG2" = /sys/fs/cgroup ]; then want=unified; else want=hybrid; fi
expect_eq "cgroup.mode" "$(j .cgroup.mode)" "$want"
expect_eq "kernel" "$(j .kernel)" "$(uname -r)"
expect_eq "btf.available" "$(j .btf.available)" "$([ -e /sys/kernel/btf/vmlinux ] && echo true || echo false)"
expect_eq "bpffs.mounted" "$(j .bpffs.mounted)" "$(stat -f -c %T /sys/fs/bpf | grep -q bpf && echo true || echo false)"
for c in CAP_SYS_ADMIN CAP_NET_ADMIN CAP_BPF CAP_PERFMON; do
	expect_eq "capabilities.$c (root)" "$(j ".capabilities.$c")" true
done
# Active LSMs: from securityfs, or (not mounted) through a private mount.
if [ -r /sys/kernel/security/lsm ]; then want=$(cat /sys/kernel/security/lsm)
else want=$(unshare -m sh -c 'mount -t securityfs none /sys/kernel/security && cat /sys/kernel/security/lsm'); fi
expect_eq "lsm.active" "$(j '.lsm.active | join(",")')" "$want"
expect_eq "lsm.bpf" "$(j .lsm.bpf)" "$(echo "$want" | tr , '\n' | grep -qx bpf && echo true || echo false)"
expect_eq "lsm.securityfs_mounted" "$(j .lsm.securityfs_mounted)" \
	"$(grep -q ' /sys/kernel/security ' /proc/self/mounts && echo true || echo false)"
expect_eq "ok" "$(j .ok)" true

# ---- text report ----------------------------------------------------------
"$CGG" doctor > "$T/doc.txt"; rc=$?
expect_eq "text doctor exit status" "$rc" 0
bad=$(grep '^ ' "$T/doc.txt" | grep -vE '^  (OK  |WARN|FAIL)  ' | head -3)
[ -z "$bad" ] && pass "every text item has an OK/WARN/FAIL marker" || fail "unmarked lines: $bad"
for l in packet connect sendmsg bind create sockfilter; do
	grep -qE "^  OK    $l +available" "$T/doc.txt" || fail "text: $l not OK"
done
[ "$EXPECT_LSM" = 1 ] || grep -qE '^  (WARN|FAIL)  lsm_cgroup +EPERM' "$T/doc.txt" &&
	pass "text: lsm_cgroup EPERM" || fail "text: lsm_cgroup line: $(grep lsm_cgroup "$T/doc.txt")"
tail -1 "$T/doc.txt" | grep -q '^OK:' && pass "text: final OK line" || fail "text: last line '$(tail -1 "$T/doc.txt")'"

# ---- --policy: the exit status follows what the policies need ------------
cat > "$T/nosockets.yaml" <<'P'
policy: it-doctor-plain
egress:
  default: allow
  rules: [ { action: deny, to: 10.210.0.3/32 } ]
P
cat > "$T/families.yaml" <<'P'
policy: it-doctor-fam
sockets:
  families: { deny: [packet] }
P
cat > "$T/families-warn.yaml" <<'P'
policy: it-doctor-famwarn
sockets:
  families: { deny: [packet], if_unavailable: warn }
P
cat > "$T/kill.yaml" <<'P'
policy: it-doctor-kill
on_violation: kill
P
cat > "$T/rawbind.yaml" <<'P'
policy: it-doctor-rawbind
sockets:
  raw: deny
  bind: { default: allow, deny: ["1-1023"] }
P
# expect_doctor WHAT RC PATTERN ARGS...: exit status RC, stdout matches PATTERN
expect_doctor() {
	local what=$1 want=$2 pat=$3 rc; shift 3
	"$CGG" doctor "$@" > "$T/out" 2>&1; rc=$?
	if [ "$rc" != "$want" ]; then fail "$what: exit $rc, want $want"; return; fi
	if ! grep -qE -- "$pat" "$T/out"; then fail "$what: output lacks /$pat/"; return; fi
	pass "$what (exit $rc: $(grep -E -- "$pat" "$T/out" | head -1 | sed 's/^ *//'))"
}
expect_doctor "policy without sockets section" 0 "^OK:" --policy "$T/nosockets.yaml"
expect_doctor "raw+bind policy needs create and bind" 0 "OK +bind +policy it-doctor-rawbind: sockets.bind" --policy "$T/rawbind.yaml"
if [ "$EXPECT_LSM" = 1 ]; then
	expect_doctor "families policy with BPF LSM" 0 "^OK:" --policy "$T/families.yaml"
else
	expect_doctor "families deny packet needs BPF LSM" 1 \
		"FAIL +lsm_cgroup or lsm +policy it-doctor-fam: sockets.families denies packet.*NOT available \(lsm_cgroup: EPERM" \
		--policy "$T/families.yaml"
	expect_doctor "on_violation kill needs BPF LSM" 1 "FAIL +lsm_cgroup or lsm +policy it-doctor-kill: on_violation: kill" \
		--policy "$T/kill.yaml"
	expect_doctor "families with if_unavailable: warn is a warning" 0 \
		"WARN +lsm_cgroup or lsm +policy it-doctor-famwarn: sockets.families denies packet" \
		--policy "$T/families-warn.yaml"
	# baseline denies the packet family; whether that fails depends on
	# whether the built-in says if_unavailable: warn (it may do without).
	if grep -q 'deny: \[packet\], if_unavailable: warn' "$TOP/policy/builtin.c"; then
		expect_doctor "baseline (packet family best-effort)" 0 \
			"WARN +lsm_cgroup or lsm +policy baseline: sockets.families denies packet" --policy baseline
	else
		expect_doctor "baseline needs BPF LSM" 1 \
			"FAIL +lsm_cgroup or lsm +policy baseline: sockets.families denies packet" --policy baseline
	fi
	expect_doctor "any failing policy fails the lot" 1 "^FAIL:" \
		--policy "$T/nosockets.yaml" --policy "$T/families.yaml"
	"$CGG" doctor --json --policy "$T/families.yaml" > "$T/fam.json"
	expect_eq "JSON ok with families policy" "$(jq .ok "$T/fam.json")" false
	expect_eq "JSON failing requirement" \
		"$(jq -c '[.needed.requirements[] | select(.required and (.available|not)) | .layers]' "$T/fam.json")" \
		'[["lsm_cgroup","lsm"]]'
fi
expect_doctor "unknown policy" 1 "unknown policy" --policy it-doctor-nosuch
expect_doctor "stray argument" 2 "unexpected argument" extra
expect_doctor "--help" 0 "Usage: .* doctor" --help

# ---- guarded cgroups: what their policies need -------------------------
cg_cleanup
CG=$(make_cg doctor)
if "$CGG" attach --cgroup "$CG" --policy "$T/rawbind.yaml" > "$T/attach.out" 2>&1; then
	"$CGG" doctor --json > "$T/guarded.json"; rc=$?
	expect_eq "guarded sockets policy: exit status" "$rc" 0
	expect_eq "guarded: policy listed" "$(jq -r '.needed.policies | index("it-doctor-rawbind") != null' "$T/guarded.json")" true
	for l in connect sendmsg bind create; do
		expect_eq "guarded sockets policy: $l needed" "$(jq -r ".layers.$l.needed" "$T/guarded.json")" required
	done
	# raw/bind only: the slot metadata says no LSM is wanted.
	expect_eq "guarded raw/bind policy: lsm_cgroup needed" "$(jq -r .layers.lsm_cgroup.needed "$T/guarded.json")" no
	"$CGG" detach --cgroup "$CG" >/dev/null 2>&1
else
	fail "attach of a sockets policy: $(cat "$T/attach.out")"
fi
# A policy that may do without BPF LSM (if_unavailable: warn): wanted only.
if [ "$EXPECT_LSM" != 1 ]; then
	if "$CGG" attach --cgroup "$CG" --policy "$T/families-warn.yaml" > "$T/attach.out" 2>&1; then
		"$CGG" doctor --json > "$T/guarded.json"; rc=$?
		expect_eq "guarded best-effort families policy: exit status" "$rc" 0
		expect_eq "guarded best-effort families policy: lsm_cgroup needed" \
			"$(jq -r .layers.lsm_cgroup.needed "$T/guarded.json")" wanted
		"$CGG" detach --cgroup "$CG" >/dev/null 2>&1
	else
		fail "attach of a best-effort families policy: $(cat "$T/attach.out")"
	fi
fi
cg_cleanup

# ---- unprivileged user ----------------------------------------------------
"${NOBODY[@]}" "$CGG" doctor --json > "$T/nobody.json" 2> "$T/nobody.err"; rc=$?
jq -e . "$T/nobody.json" >/dev/null && pass "doctor runs as nobody (exit $rc)" || fail "nobody: no JSON ($(cat "$T/nobody.err"))"
expect_eq "nobody: exit status (packet layer missing)" "$rc" 1
n() { jq -r "$1" "$T/nobody.json"; }
for c in CAP_SYS_ADMIN CAP_NET_ADMIN CAP_BPF CAP_PERFMON; do
	expect_eq "nobody: capabilities.$c" "$(n ".capabilities.$c")" false
done
for l in packet connect sendmsg bind create lsm_cgroup lsm sockfilter; do
	expect_eq "nobody: layers.$l.errno" "$(n ".layers.$l.errno")" EPERM
	d=$(n ".layers.$l.detail")
	case "$d" in
	*CAP_BPF*"kernel.unprivileged_bpf_disabled=$ub"*) pass "nobody: $l detail names CAP_BPF and the sysctl" ;;
	*) fail "nobody: $l detail '$d'" ;;
	esac
done
n .layers.packet.detail | grep -q 'CAP_NET_ADMIN for cgroup hooks' &&
	pass "nobody: packet detail names CAP_NET_ADMIN" || fail "nobody: packet detail $(n .layers.packet.detail)"
n .layers.sockfilter.detail | grep -q 'classic BPF (SO_ATTACH_FILTER) still works' &&
	pass "nobody: sockfilter detail: classic BPF still works" || fail "nobody: sockfilter detail $(n .layers.sockfilter.detail)"
expect_eq "nobody: readable sysctl" "$(n '.sysctls["kernel.unprivileged_bpf_disabled"].value')" "$ub"
"${NOBODY[@]}" "$CGG" doctor > "$T/nobody.txt" 2>&1
grep -qE '^  WARN  CAP_BPF +missing' "$T/nobody.txt" && pass "nobody text: CAP_BPF missing" || fail "nobody text: no CAP_BPF line"
grep -qE '^  FAIL  packet +EPERM.*needs CAP_BPF' "$T/nobody.txt" && pass "nobody text: packet FAIL names CAP_BPF" ||
	fail "nobody text: $(grep packet "$T/nobody.txt" | head -1)"

# ---- nothing left behind --------------------------------------------------
expect_eq "stale scratch cgroup of a dead probe removed" "$([ -d "$CG2/cgguard-probe-$DEAD" ] && echo left || echo gone)" gone
expect_eq "cgguard-probe-* cgroups left" "$(probe_cgroups)" 0
for _ in $(seq 40); do [ "$(nprogs)" = "$progs_before" ] && break; sleep 0.05; done
expect_eq "bpftool prog show count after doctor" "$(nprogs)" "$progs_before"
expect_eq "probe programs left" "$(bpftool prog show | grep -c 'name cgg_probe')" 0
finish
