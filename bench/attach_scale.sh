#!/bin/bash
# Attach time per cgroup with 1,000 guarded cgroups present: creates N
# cgroups (default 1000) below <cgroup2>/cgguard-bench-scale, attaches the
# same policy to each (timing every `cgguard attach`), then reports the
# p50/p99 of the last 100 attaches (999 other cgroups guarded), the time of
# one policy swap on a cgroup and of a detach, and the kernel memory the
# guard's maps use (bpftool memlock).  Cleans up.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
CGG=$TOP/cgguard
N=${1:-1000}
CG2=$(awk '$0 ~ / - cgroup2 / {print $5; exit}' /proc/self/mountinfo)
BASE=$CG2/cgguard-bench-scale
T=$(mktemp -d)
cleanup() {
	for d in "$BASE"/c*; do
		[ -d "$d" ] || continue
		"$CGG" detach --cgroup "$d" >/dev/null 2>&1
		rmdir "$d"
	done
	rmdir "$BASE" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
cleanup; T=$(mktemp -d)
cat > "$T/p.yaml" <<'P'
policy: bench-scale
egress:
  default: allow
  rules: [ { action: deny, to: 169.254.169.254/32 } ]
P
sed 's/169.254.169.254/192.0.2.1/' "$T/p.yaml" > "$T/p2.yaml"
mkdir -p "$BASE"
mem() { bpftool map show 2>/dev/null | awk '/name cg_/ {on=1} on && /memlock/ {for (i=1;i<=NF;i++) if ($i=="memlock") {s+=$(i+1)}; on=0} END {print s+0}'; }
m0=$(mem)
for i in $(seq "$N"); do
	mkdir "$BASE/c$i"
	t0=$(date +%s%N)
	"$CGG" attach --cgroup "$BASE/c$i" --policy "$T/p.yaml" || { echo "attach $i failed"; exit 1; }
	echo $(( ($(date +%s%N) - t0) / 1000 )) >> "$T/attach.us"
done
m1=$(mem)
t0=$(date +%s%N); "$CGG" attach --cgroup "$BASE/c1" --policy "$T/p2.yaml"; swap=$(( ($(date +%s%N) - t0) / 1000 ))
for i in $(seq 100); do
	t0=$(date +%s%N); "$CGG" version >/dev/null
	echo $(( ($(date +%s%N) - t0) / 1000 )) >> "$T/noop.us"
done
pct() { tail -n 100 "$1" | sort -n | awk -v p="$2" '{a[NR]=$1} END {i=int(NR*p/100); if (i<1) i=1; printf "%.2f", a[i]/1000}'; }
printf 'attach with %d guarded cgroups present (last 100 attaches), ms: p50 %s  p99 %s\n' \
	$((N - 1)) "$(pct "$T/attach.us" 50)" "$(pct "$T/attach.us" 99)"
printf '  (`cgguard version`, measured the same way, p50 %s ms: process start and exit)\n' "$(pct "$T/noop.us" 50)"
printf 'policy swap on one of %d guarded cgroups: %.2f ms (CLI process included)\n' "$N" "$(echo "$swap/1000" | bc -l)"
printf 'kernel memory of the maps (memlock): %d KiB before, %d KiB with %d cgroups: %.1f KiB per cgroup\n' \
	$((m0 / 1024)) $((m1 / 1024)) "$N" "$(echo "($m1 - $m0) / 1024 / $N" | bc -l)"
