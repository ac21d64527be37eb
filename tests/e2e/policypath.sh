#!/bin/bash
# OCI hook policy paths (issue 8, item 2): the annotation may name a
# built-in, a NAME (NAME.yaml in a policy directory) or a file below a
# policy directory the operator gave with --policy-dir.  Anything else is
# refused before it is opened: files inside the container's rootfs by any
# spelling (BUNDLE/./rootfs/x.yaml, //BUNDLE/rootfs/x.yaml), symlinks out
# of the policy directory, /etc/shadow, "..", files others can write.  The
# check is on the effect: strace shows the hook never opened the file, no
# error message quotes its content, and nothing was attached.  The hook is
# fed the state JSON directly, as runc does.
. "$(dirname "$0")/lib.sh"
need_root
[ -x "$CGG" ] || make -C "$TOP" cgguard >/dev/null || { fail "make cgguard"; finish; }
command -v jq >/dev/null || skip "needs jq"
command -v strace >/dev/null || need_tools strace
T=$(mktemp -d /tmp/cgg-e2e-ppath.XXXXXX)
trap 'kill $pid 2>/dev/null; cleanup_all; rm -rf "$T"' EXIT
cleanup_all

POL=$T/policies			# the operator's policy directory
B=$T/bundle			# a container bundle; rootfs is the container's
mkdir -p "$POL/sub" "$B/rootfs/etc"
write_policy "$POL/good.yaml"
write_policy "$POL/sub/nested.yaml"
# What the container controls: a valid policy (so a hook that read it
# would attach) carrying a marker that must never appear in a message.
printf 'policy: evil\nSECRET-MARKER-7f3a: [\n' > "$B/rootfs/x.yaml"
printf 'policy: evil\negress: {default: allow}\n# SECRET-MARKER-7f3a\n' > "$B/rootfs/ok.yaml"
ln -s /etc/shadow "$POL/shadow.yaml"
ln -s "$B/rootfs/ok.yaml" "$POL/inroot.yaml"
ln -s "$B/rootfs" "$POL/rootlink"
write_policy "$POL/gw.yaml"; chmod 0664 "$POL/gw.yaml"; chgrp 65534 "$POL/gw.yaml"
write_policy "$POL/theirs.yaml"; chown 65534 "$POL/theirs.yaml"
mkfifo "$POL/fifo.yaml"
SHADOW=$(head -c 24 /etc/shadow)
# (A build without --policy-dir is driven without it, so the test shows
# what that build does with the same annotations.)
PD=(--policy-dir "$POL")
"$CGG" oci-hook --help | grep -q -- --policy-dir || PD=()

# A live process in a cgroup of our own, as runc leaves it at createRuntime.
CGR=/cgg-e2e-ppath
mkdir -p "$CG2$CGR"
(echo $BASHPID > "$CG2$CGR/cgroup.procs" && exec sleep 120 >/dev/null 2>&1) &
pid=$!
for _ in $(seq 50); do [ "$(pid_cgroup $pid)" = $CGR ] && break; sleep 0.02; done

# run_hook POLICY: the hook at createRuntime with POLICY as the annotation,
# under strace; prints "rc" and leaves stderr in $T/err, opens in $T/trace
run_hook() {
	jq -cn --arg p "$1" --arg r "$B/rootfs" --arg cg "$CGR" \
		'{ociVersion:"1.0.2", root:{path:$r}, linux:{cgroupsPath:$cg},
		  annotations:{"io.cgguard.policy":$p}}' > "$B/config.json"
	jq -cn --arg b "$B" --argjson pid "$pid" \
		'{ociVersion:"1.0.2", id:"cgg-e2e-ppath", status:"creating", bundle:$b, pid:$pid}' |
		strace -f -qq -e trace=open,openat,openat2 -o "$T/trace" \
		"$CGG" oci-hook "${PD[@]}" > /dev/null 2> "$T/err"
	echo $?
}
# refused WHAT POLICY MESSAGE-REGEX FILE-THAT-MUST-NOT-BE-OPENED
refused() {
	local rc opened
	rc=$(run_hook "$2")
	opened=$(grep -F "\"$4\"" "$T/trace" | grep -v ENOENT | head -1)
	if [ "$rc" != 1 ]; then fail "$1: exit $rc, want 1 ($(cat "$T/err"))"
	elif ! grep -qE -- "$3" "$T/err"; then fail "$1: message '$(cat "$T/err")' lacks /$3/"
	elif grep -q "SECRET-MARKER\|$SHADOW" "$T/err"; then fail "$1: the message quotes a file: $(cat "$T/err")"
	elif [ -n "$4" ] && [ -n "$opened" ]; then fail "$1: the hook opened $4: $opened"
	elif [ -n "$(listed $CGR)" ]; then fail "$1: the cgroup got guarded"
	else pass "$1: refused, never opened ($(sed 's/^cgguard: oci-hook: //' "$T/err" | head -1))"; fi
}
refused "BUNDLE/./rootfs" "$B/./rootfs/x.yaml" "is not below the policy directories" "$B/./rootfs/x.yaml"
refused "//BUNDLE/rootfs" "/$B/rootfs/x.yaml" "is not below the policy directories" "/$B/rootfs/x.yaml"
refused "BUNDLE/rootfs" "$B/rootfs/ok.yaml" "is not below the policy directories" "$B/rootfs/ok.yaml"
refused "/etc/shadow" /etc/shadow "is not below the policy directories" /etc/shadow
refused "dot-dot out of the policy directory" "$POL/../bundle/rootfs/ok.yaml" '"\.\." and deep paths are refused' "$B/rootfs/ok.yaml"
refused "a \".\" component" "$POL/./good.yaml" '"\.", "\.\." and deep paths are refused' ""
refused "symlink to /etc/shadow" "$POL/shadow.yaml" "symbolic link on the way" /etc/shadow
refused "symlink into the rootfs" "$POL/inroot.yaml" "symbolic link on the way" "$B/rootfs/ok.yaml"
refused "symlinked directory into the rootfs" "$POL/rootlink/ok.yaml" "symbolic link on the way" "$B/rootfs/ok.yaml"
refused "name of a symlink" shadow "symbolic link on the way" /etc/shadow
refused "group-writable file" "$POL/gw.yaml" "is writable by group or others \(refused\)" ""
refused "file of another user" "$POL/theirs.yaml" "is not owned by root \(refused\)" ""
refused "a FIFO" "$POL/fifo.yaml" "is not a regular file \(refused\)" ""
refused "relative path" "policies/good.yaml" "is not below the policy directories" ""
chmod 0775 "$POL/sub"; chgrp 65534 "$POL/sub"
refused "group-writable directory on the way" "$POL/sub/nested.yaml" "directory on the way is writable by group or others" ""
chmod 0755 "$POL/sub"; chgrp 0 "$POL/sub"

# Accepted: a file below the directory, a nested one, a name, a built-in.
for p in "$POL/good.yaml" "$POL//sub/nested.yaml" good baseline; do
	rc=$(run_hook "$p")
	want=e2e; [ "$p" = baseline ] && want=baseline
	if [ "$rc" = 0 ] && [ "$(listed $CGR | jq -r .policy)" = $want ]; then
		pass "accepted: $p"
	else
		fail "accepted: $p: rc=$rc $(cat "$T/err")"
	fi
	"$CGG" detach --cgroup $CGR >/dev/null 2>&1
done
kill $pid; wait $pid 2>/dev/null
rmdir "$CG2$CGR"
finish
