#!/bin/bash
# Bad input and missing privileges: precise one-line errors, non-zero exit,
# and nothing changed in the kernel or under the pins.
. "$(dirname "$0")/../lib.sh"
need_root
T=$(mktemp -d)
trap 'cleanup_all; rm -rf "$T"' EXIT
cleanup_all
CG=$(make_cg errors)

# What this test could change: programs and maps, its own cgroups' links,
# attachments and records (other tests or a daemon may run alongside).
snapshot() {
	local ids
	ids=$(find "$CGBASE" -type d -printf '%i|' 2>/dev/null)
	(ls /sys/fs/bpf/cgguard/prog /sys/fs/bpf/cgguard/map 2>/dev/null
	 ls /sys/fs/bpf/cgguard/link 2>/dev/null | grep -E "^(${ids%|})-"
	 bpftool cgroup tree "$CGBASE" 2>/dev/null
	 "$CGG" list --json 2>/dev/null | jq -c --arg p "$CGREL" '[.[] | select(.cgroup|startswith($p))]') | md5sum
}
# expect_err WHAT PATTERN CMD...: CMD fails, stderr matches PATTERN, state unchanged
expect_err() {
	local what=$1 pat=$2; shift 2
	local before after rc
	before=$(snapshot)
	"$@" > "$T/out" 2> "$T/err"; rc=$?
	after=$(snapshot)
	if [ $rc = 0 ]; then fail "$what: exit 0"; return; fi
	if ! grep -qE -- "$pat" "$T/err"; then fail "$what: stderr '$(cat "$T/err")' lacks /$pat/"; return; fi
	[ "$before" = "$after" ] || { fail "$what: state changed"; return; }
	pass "$what (exit $rc: $(head -1 "$T/err"))"
}

# Something guarded first, so "unchanged" means something.
cat > "$T/good.yaml" <<'P'
policy: it-errors
egress:
  rules: [ { action: deny, to: 10.210.0.3/32 } ]
P
"$CGG" attach --cgroup "$CG" --policy "$T/good.yaml" || fail "attach good policy"

printf 'policy: bad\negress:\n  rules:\n    - { action: deny, to: 10.0.0.1/8 }\n' > "$T/bad.yaml"
printf 'policy: bad2\nmode: enforce\nmode: audit\n' > "$T/dup.yaml"
expect_err "host bits in a CIDR" "bad.yaml:4:[0-9]+: .*host bits" "$CGG" attach --cgroup "$CG" --policy "$T/bad.yaml"
expect_err "duplicate key" "dup.yaml:3:1: .*duplicate" "$CGG" attach --cgroup "$CG" --policy "$T/dup.yaml"
expect_err "policy check of a bad file" "bad.yaml:4:" "$CGG" policy check "$T/bad.yaml"
expect_err "unknown policy name" "unknown policy 'nosuch'" "$CGG" attach --cgroup "$CG" --policy nosuch
expect_err "missing policy file" "No such file" "$CGG" attach --cgroup "$CG" --policy "$T/none.yaml"
expect_err "not a cgroup (/tmp)" "not a cgroup v2 directory" "$CGG" attach --cgroup "$T" --policy baseline
V1=$(awk '$0 ~ / - cgroup / {print $5; exit}' /proc/self/mountinfo)
if [ -n "$V1" ]; then
	expect_err "a cgroup v1 directory" "not a cgroup v2 directory" "$CGG" attach --cgroup "$V1" --policy baseline
fi
expect_err "missing cgroup" "No such file or directory" "$CGG" attach --cgroup "$CGBASE/nonexistent" --policy baseline
expect_err "cgroup is a file" "not a (cgroup v2 )?directory" "$CGG" attach --cgroup "$CG/cgroup.procs" --policy baseline
expect_err "missing --policy" "required" "$CGG" attach --cgroup "$CG"
expect_err "unknown option" "unrecognized option|unknown option" "$CGG" attach --cgroup "$CG" --policy baseline --frobnicate
expect_err "unknown command" "unknown command" "$CGG" frobnicate
expect_err "detach of an unguarded cgroup" "not guarded" "$CGG" detach --cgroup "$CGBASE"
expect_err "stats of an unguarded cgroup" "not guarded" "$CGG" stats --cgroup "$CGBASE"
expect_err "non-root user" "CAP_BPF.*CAP_NET_ADMIN" setpriv --reuid=65534 --regid=65534 --clear-groups "$CGG" attach --cgroup "$CG" --policy baseline
expect_err "root without CAP_NET_ADMIN" "needs CAP_NET_ADMIN" setpriv --bounding-set=-net_admin --inh-caps=-net_admin "$CGG" attach --cgroup "$CG" --policy baseline
expect_err "no bpffs mounted" "bpffs is not mounted" unshare -m sh -c "umount /sys/fs/bpf && exec '$CGG' stats"
expect_err "no cgroup v2 mounted" "no cgroup v2 hierarchy is mounted" unshare -m sh -c "umount '$CG2' && exec '$CGG' attach --cgroup foo --policy baseline"

# The old policy still holds after every refused change.
expect_eq "policy after refused changes" "$("$CGG" list --json | jq -r --arg c "$CGREL/errors" '.[] | select(.cgroup==$c) | .policy')" it-errors
finish
