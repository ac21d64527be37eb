#!/bin/sh
# `cgguard upgrade` with the LSM layer: lsm_cgroup links are switched with
# BPF_LINK_UPDATE like the others (CGGUARD_LSM_MODE unset), and the global
# flavour (CGGUARD_LSM_MODE=global, second part) is re-attached before the
# old link goes.  "Another build" is simulated by clearing the build hash
# the pinned state records (cg_info.build, bytes 24-31), as on the host.
. /cases/lib.sh
command -v bpftool >/dev/null || skip "no bpftool in the initramfs"

INFO=/sys/fs/bpf/cgguard/map/cg_info
clear_build() { # -j gives the raw bytes as "value":["0x03",...]
	v=$(bpftool -j map lookup pinned "$INFO" key 0 0 0 0 |
	    sed 's/.*"value":\[\([^]]*\)\].*/\1/' | tr ',"' '  ' |
	    awk '{for (i = 1; i <= NF; i++) printf "%s ", (i > 24 && i <= 32) ? 0 : $i}')
	bpftool map update pinned "$INFO" key 0 0 0 0 value $v
}
sock() { in_cg "$1" "$TRAFFIC" sock "$2" "$3" 0; }
write_policy "$T/p.yaml" <<'P'
policy: vm-upgrade
sockets:
  families: { deny: [packet] }
P

run_part() { # run_part NAME CGROUP EXPECTED_LINKS
	"$CGG" attach --cgroup "$2" --policy "$T/p.yaml" || fail "$1: attach"
	expect_eq "$1: packet socket before" "$(sock "$2" packet raw)" "result=socket_failed errno=EPERM"
	clear_build || fail "$1: clearing the build hash"
	out=$("$CGG" upgrade) || fail "$1: upgrade: $out"
	expect_eq "$1: upgrade" "$out" "switched $3 cgroup links to this build's programs"
	expect_eq "$1: packet socket after" "$(sock "$2" packet raw)" "result=socket_failed errno=EPERM"
	"$CGG" stats --json --cgroup "$2" > "$T/s.json"
	expect_eq "$1: lsm denials counted across the upgrade" "$(jget '.[0].operations.lsm.denied' < "$T/s.json")" 2
	expect_eq "$1: second upgrade" "$("$CGG" upgrade)" "the pinned programs are this build's: nothing to do"
	"$CGG" detach --cgroup "$2" || fail "$1: detach"
}

A=$(make_cg up-a) || { fail "mkdir"; finish; }
run_part lsm_cgroup "$A" 13	# 9 cgroup hooks + 4 lsm_cgroup hooks
# A fresh state in the global flavour: nothing guarded, so reset the pins.
rm -rf /sys/fs/bpf/cgguard
export CGGUARD_LSM_MODE=global
B=$(make_cg up-b) || { fail "mkdir"; finish; }
run_part global "$B" 9		# global LSM links are not per cgroup
[ -e /sys/fs/bpf/cgguard/link/global-glsm_create ] && pass "global LSM link re-pinned" ||
	fail "global LSM link missing after upgrade"
finish
