#!/bin/sh
# The VM is what the other cases assume: the kernel run.sh meant to boot,
# cgroup2 / bpffs / securityfs where /init mounted them, BPF LSM active
# (the reason this tier exists), kernel BTF for CO-RE, loopback up.
. /cases/lib.sh

rel=$(uname -r)
if [ -n "${cgg_kver:-}" ]; then
	expect_eq "running kernel" "$rel" "$cgg_kver"
else
	case $rel in 6.1.*) pass "kernel $rel is 6.1" ;; *) fail "kernel $rel is not 6.1.x" ;; esac
fi
fstype() { awk -v m="$1" '{ for (i = 7; i <= NF; i++) if ($i == "-") break
	if ($5 == m) { print $(i + 1); exit } }' /proc/self/mountinfo; }
expect_eq "cgroup2 mount found in mountinfo" "$CG2" /sys/fs/cgroup
expect_eq "fs type at /sys/fs/cgroup" "$(fstype /sys/fs/cgroup)" cgroup2
expect_eq "fs type at /sys/fs/bpf" "$(fstype /sys/fs/bpf)" bpf
expect_eq "fs type at /sys/kernel/security" "$(fstype /sys/kernel/security)" securityfs
lsm=$(cat /sys/kernel/security/lsm 2>/dev/null)
echo "active LSMs: $lsm"
case ",$lsm," in *,bpf,*) pass "bpf is an active LSM" ;; *) fail "bpf not in '$lsm'" ;; esac
[ -r /sys/kernel/btf/vmlinux ] && pass "kernel BTF present" || fail "no /sys/kernel/btf/vmlinux"
ip -o link show lo | grep -q 'UP' && pass "lo is up" || fail "lo is down: $(ip -o link show lo)"
nproc=$(grep -c ^processor /proc/cpuinfo)
echo "cpus: $nproc, mem: $(awk '/MemTotal/ {print $2 " kB"}' /proc/meminfo)"
"$CGG" version || fail "cgguard does not run"
"$TRAFFIC" 2>/dev/null; [ $? = 2 ] && pass "cgg_traffic runs" || fail "cgg_traffic does not run"
finish
