#!/bin/bash
# Layering (README.md, Layout): each room includes only rooms below it.
# Reads every #include "..." of the C sources and fails naming each one
# that reaches a room the including room may not use.
cd "$(dirname "$0")/../.." || exit 1
declare -A may=(
	[lib]=""
	[cgroup]="lib"
	[policy]="lib bpf/cgguard_abi.h"
	[bpf]="lib policy cgroup"
	[events]="lib policy cgroup bpf"
	[netfilter-compat]="lib policy cgroup bpf"
	[sandbox]="lib policy cgroup"
	[libcgguard]="lib policy"
	[daemon]="lib policy cgroup bpf events netfilter-compat"
	[cmd]="lib policy cgroup bpf events netfilter-compat sandbox libcgguard daemon"
)
bad=0 n=0
for room in "${!may[@]}"; do
	for f in "$room"/*.[ch]; do
		[ -e "$f" ] || continue
		case $f in *.bpf.c|*.bpf.h) continue ;; esac	# kernel side
		while IFS= read -r inc; do
			n=$((n + 1))
			case $inc in
			../*) target=${inc#../} ;;
			*) continue ;;	# same room, or generated (.output)
			esac
			ok=0
			for m in ${may[$room]}; do
				case $target in "$m"|"$m"/*) ok=1 ;; esac
			done
			[ $ok = 1 ] && continue
			echo "FAIL: $f includes \"$inc\": $room/ may use only: ${may[$room]:-nothing}"
			bad=$((bad + 1))
		done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
	done
done
# A room this table does not know (a new folder) must be added to it.
for d in */; do
	d=${d%/}
	case $d in tests|bench|deploy|docs|.output) continue ;; esac
	ls "$d"/*.[ch] >/dev/null 2>&1 || continue
	[ -n "${may[$d]+x}" ] || { echo "FAIL: room $d/ is not in tests/unit/layering.sh"; bad=$((bad + 1)); }
done
[ $n -gt 100 ] || { echo "FAIL: only $n includes read"; exit 1; }
[ $bad = 0 ] && echo "layering: $n includes, none upward"
exit $((bad > 0))
