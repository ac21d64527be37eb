#!/bin/bash
# Time to apply a 100,000-CIDR policy: `cgguard attach` (read, parse,
# compile, write the LPM entries, attach) of a file of N /32 deny rules,
# measured with hyperfine.  Also `cgguard policy check` of the same file
# (parse + compile + validation, output to /dev/null).
#
# Runs in a private mount namespace on a fresh bpffs, so the host's pinned
# state (shared by everyone) is neither used nor filled with 100k-entry
# policy slots, and every run really writes its entries: each run attaches
# a policy with a new name (a cached slot with the same content would be
# reused without writing anything).  The programs are loaded once, by a
# warm-up attach of a one-rule policy, before timing starts.
#
# Usage (root): bench/apply.sh [N] [RUNS]   (defaults 100000, 8)
# Needs hyperfine.  Cleans up its cgroup and files.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
CGG=$TOP/cgguard
N=${1:-100000}
RUNS=${2:-8}
CG2=$(awk '$0 ~ / - cgroup2 / {print $5; exit}' /proc/self/mountinfo)

command -v hyperfine >/dev/null || { echo "bench/apply.sh: needs hyperfine" >&2; exit 77; }
# The LPM map holds 2^20 entries and detached slots stay cached: keep the
# number of distinct 100k policies written in one namespace below 10.
[ $(( (RUNS + 1) * N )) -lt 1000000 ] || { echo "bench/apply.sh: RUNS * N must stay below 1,000,000" >&2; exit 2; }

if [ "${CGG_APPLY_INNER:-}" != 1 ]; then
	exec unshare -m --propagation private env CGG_APPLY_INNER=1 "$0" "$@"
fi
mount -t bpf bpf /sys/fs/bpf || exit 1
CG=$CG2/cgguard-bench-apply
T=$(mktemp -d)
cleanup() {
	"$CGG" detach --cgroup "$CG" >/dev/null 2>&1
	rmdir "$CG" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
rmdir "$CG" 2>/dev/null
mkdir "$CG" || exit 1

# N distinct, scattered /32s: i * an odd constant mod 2^32 is a bijection
# (exact in awk's doubles while i < 2^21).
awk -v n="$N" 'BEGIN {
	print "policy: apply0\negress:\n  default: allow\n  rules:"
	for (i = 1; i <= n; i++) {
		a = (i * 2654435761) % 4294967296
		printf "    - { action: deny, to: %d.%d.%d.%d/32 }\n", int(a / 16777216) % 256, int(a / 65536) % 256, int(a / 256) % 256, a % 256
	}
}' > "$T/p.yaml"
printf 'policy: warm\negress:\n  rules: [ { action: deny, to: 192.0.2.1/32 } ]\n' > "$T/warm.yaml"
"$CGG" attach --cgroup "$CG" --policy "$T/warm.yaml" || exit 1
"$CGG" policy check "$T/p.yaml" | head -1
echo 0 > "$T/n"
# Each run: a new policy name (so a new slot is written), previous policy detached.
cat > "$T/prep.sh" <<EOF
#!/bin/sh
i=\$(( \$(cat $T/n) + 1 )); echo \$i > $T/n
sed -i "1s/.*/policy: apply\$i/" $T/p.yaml
"$CGG" detach --cgroup "$CG" >/dev/null 2>&1
exit 0
EOF
chmod +x "$T/prep.sh"
hyperfine -N --style basic --warmup 1 --runs "$RUNS" --prepare "$T/prep.sh" \
	--export-json "$T/attach.json" \
	"$CGG attach --cgroup $CG --policy $T/p.yaml"
hyperfine -N --style basic --warmup 1 --runs "$RUNS" \
	--output=null "$CGG policy check $T/p.yaml"
"$CGG" list | grep -F cgguard-bench-apply
