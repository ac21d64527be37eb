#!/bin/bash
# cgroup path resolution (issue 8, item 4): a cgroup is opened once below
# the primary cgroup2 mount (no symlinks, no ".."), checked on the fd and
# attached through it.  A path on a second cgroup2 mount or outside the
# hierarchy is refused with a precise error, and a refused cgroup leaves
# nothing behind: no pins, no programs (the cgroup is resolved before
# anything is loaded).  Runs in a private mount namespace with its own
# bpffs and a second cgroup2 mount, so the host's pins are never touched.
. "$(dirname "$0")/../lib.sh"
need_root
command -v bpftool >/dev/null || skip "needs bpftool"
command -v jq >/dev/null || skip "needs jq"
command -v unshare >/dev/null || skip "needs unshare (util-linux)"
T=$(mktemp -d)
trap 'cleanup_all; rm -rf "$T"' EXIT
cleanup_all
CG=$(make_cg c1)
nattached() { local j; j=$(bpftool cgroup show "$1" -j 2>/dev/null); jq length <<<"${j:-[]}"; }

out=$(unshare -m --propagation private bash -s "$CGG" "$CG2" "$CGREL" "$T" 2>&1 <<'EOF'
CGG=$1 CG2=$2 CGREL=$3 T=$4
mount -t bpf bpf /sys/fs/bpf || exit 1
mkdir "$T/second" && mount -t cgroup2 none "$T/second" || { echo "no-second-mount"; exit 0; }
ln -s "$CG2$CGREL/c1" "$T/link"
# refused PATH: exit status, first line of stderr, what was left behind
refused() {
	"$CGG" attach --cgroup "$1" --policy baseline >/dev/null 2>"$T/err"
	local rc=$? j
	j=$(bpftool cgroup show "$CG2$CGREL/c1" -j 2>/dev/null)
	echo "case $2: rc=$rc pins=$(find /sys/fs/bpf/cgguard 2>/dev/null | wc -l) attached=$(jq length <<<"${j:-[]}") err=$(head -1 "$T/err")"
}
refused "$T/second$CGREL/c1" second-mount
refused "$T/second" second-root
refused "$T/link" symlink
refused "$CG2$CGREL/../$(basename "$CGREL")/c1" dotdot
refused "$CG2$CGREL/nonexistent" missing
refused "$T" tmpdir
refused "$CG2$CGREL/c1/cgroup.procs" file
# Accepted spellings, all recorded as the same path and id.
for p in "$CG2$CGREL/c1" "${CGREL#/}/c1" "$CGREL/c1" "$CG2/$CGREL/./c1/"; do
	"$CGG" attach --json --cgroup "$p" --policy baseline 2>/dev/null | jq -c '[.cgroup, .id]'
done
"$CGG" detach --cgroup "$CG2$CGREL/c1"
umount "$T/second"
EOF
)
echo "$out" | sed 's/^/  | /'
grep -q no-second-mount <<<"$out" && skip "cannot mount a second cgroup2 hierarchy here"
check() { # check CASE ERR-REGEX
	local l e=""
	l=$(grep "^case $1:" <<<"$out")
	[[ "$l" =~ rc=1\ pins=0\ attached=0\ err=(.*)$ ]] && e=${BASH_REMATCH[1]}
	if [ -n "$e" ] && [[ "$e" =~ $2 ]]; then
		pass "$1: refused, no pins, no programs ($e)"
	else
		fail "$1: want rc=1 pins=0 attached=0 and /$2/: $l"
	fi
}
check second-mount "cgroup $T/second$CGREL/c1 is outside the cgroup2 hierarchy at $CG2 \(a second cgroup2 mount\?\)"
check second-root "cgroup $T/second is outside the cgroup2 hierarchy at $CG2"
check symlink "cgroup $T/link is outside the cgroup2 hierarchy at $CG2"
check dotdot '".." is not allowed in a cgroup path'
check missing "cgroup $CG2$CGREL/nonexistent: No such file or directory"
check tmpdir "$T is not a cgroup v2 directory"
check file "cgroup .*/cgroup.procs: not a directory"
id=$(stat -c %i "$CG")
expect_eq "the four spellings of one cgroup, recorded" "$(grep '^\["' <<<"$out" | sort -u)" "[\"$CGREL/c1\",$id]"
expect_eq "records" "$(grep -c '^\["' <<<"$out")" 4
expect_eq "programs on the cgroup once its namespace is gone" "$(nattached "$CG")" 0
finish
