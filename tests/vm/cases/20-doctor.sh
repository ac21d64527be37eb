#!/bin/sh
# `cgguard doctor --json` inside the VM, where BPF LSM is active: the probe
# must really load and attach an lsm_cgroup program and say so.  (On the
# 6.18 build host the same probe fails with EPERM; this is where "available"
# gets tested as true.)
. /cases/lib.sh

"$CGG" doctor --json > "$T/d.json" 2> "$T/d.err"
rc=$?
echo "doctor exit $rc"; cat "$T/d.err"
grep -q "not built yet" "$T/d.json" "$T/d.err" && skip "cgguard doctor is not built yet"
cat "$T/d.json"
for l in packet connect sendmsg bind lsm_cgroup lsm; do
	echo "layer $l: available=$(jget ".layers.$l.available" < "$T/d.json")"
done
expect_eq "doctor's kernel" "$(jget .kernel < "$T/d.json")" "$(uname -r)"
expect_eq "layers.packet.available" "$(jget .layers.packet.available < "$T/d.json")" true
expect_eq "layers.lsm_cgroup.available" "$(jget .layers.lsm_cgroup.available < "$T/d.json")" true
expect_eq "lsm.bpf (bpf LSM active)" "$(jget .lsm.bpf < "$T/d.json")" true
finish
