#!/bin/bash
# VM tier: boots Debian's packaged 6.1 kernel under qemu (pure emulation, no
# KVM) with an initramfs of busybox, cgguard (with its shared libraries),
# a static cgg_traffic and tests/vm/cases, and runs the cases there.  The build host's kernel refuses
# BPF LSM (EPERM); the VM's has it active, and it is a second kernel for the
# packet and socket layers.
#
# Usage: tests/vm/run.sh [CASE.sh...]
#   no arguments: every tests/vm/cases/[0-9]*.sh
#   with files:   only those (e.g. tests/vm/pending/30-lsm-families.sh)
# Environment:
#   CGG_VM_KERNEL=/boot/vmlinuz-...  kernel to boot (default: newest 6.1.*)
#   CGG_VM_TIMEOUT=300               whole-VM limit in seconds
#   CGG_VM_CASE_TIMEOUT=120          per-case limit inside the VM
#   CI=true                          a skip (here or of a case) is a failure
# Exit: 0 pass, 1 fail, 77 skip (qemu cannot run here; says why).
# Outputs stay in .output/vm/: console.log (the whole serial console),
# initramfs.cpio.gz, build.log, qemu.stderr, the binaries.
set -eu -o pipefail
# Case files named on the command line are relative to the caller's cwd.
cases=()
for a in "$@"; do
	case ${a##*/} in
	[0-9]*.sh) ;;
	*) echo "vm: case files are named NN-name.sh (/init runs only those): $a" >&2; exit 2 ;;
	esac
	[ -f "$a" ] || { echo "vm: no such case file: $a" >&2; exit 2; }
	cases+=("$(realpath "$a")")
done
cd "$(dirname "$0")/../.."
OUT=.output/vm
LOG=$OUT/console.log
VM_TIMEOUT=${CGG_VM_TIMEOUT:-300}
CASE_TIMEOUT=${CGG_VM_CASE_TIMEOUT:-120}
T0=$SECONDS

say() { echo "vm: $*"; }
skip() {
	say "SKIP: $*" >&2
	if [ "${CI:-}" = true ]; then say "FAIL: skipped under CI=true" >&2; exit 1; fi
	exit 77
}
die() { say "FAIL: $*" >&2; exit 1; }

qpid="" aptlog=""
cleanup() {
	# Only what we started: the timeout(1) wrapping qemu (it passes the
	# signal on to qemu).  mkinitramfs.sh removes its own staging dir.
	[ -z "$aptlog" ] || rm -f "$aptlog"
	if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then
		kill "$qpid" 2>/dev/null || true
		wait "$qpid" 2>/dev/null || true
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 1. what the tier needs, installed if missing ----------------------------
static_lib() { # static_lib libfoo.a: true if the compiler finds it
	local p
	p=$(${CC:-gcc} -print-file-name="$1" 2>/dev/null) || return 1
	[ "$p" != "$1" ] && [ -f "$p" ]
}
static_busybox() {
	[ -x /bin/busybox ] &&
		! readelf -l /bin/busybox 2>/dev/null | grep -q 'program interpreter'
}
newest_61() { ls /boot/vmlinuz-6.1.* 2>/dev/null | sort -V | tail -n 1; }

missing=""
command -v qemu-system-x86_64 >/dev/null || missing="$missing qemu-system-x86"
[ -n "${CGG_VM_KERNEL:-}" ] || [ -n "$(newest_61)" ] || missing="$missing linux-image-amd64"
static_busybox || missing="$missing busybox-static"
command -v cpio >/dev/null || missing="$missing cpio"
# cgg_traffic is linked -static (libc.a); cgguard goes in dynamically with
# its libraries (see vm.mk for why it is not static).
static_lib libc.a || missing="$missing libc6-dev"
if [ -n "$missing" ]; then
	[ "$(id -u)" = 0 ] || skip "missing$missing and not root to install them"
	say "installing$missing"
	# INITRD=No: the kernel is only booted by qemu with our own initramfs,
	# so skip update-initramfs for it (minutes on a 2-core host).  The lock
	# timeout waits for another apt (a parallel deps.sh) instead of failing.
	export DEBIAN_FRONTEND=noninteractive INITRD=No
	apt_opts=(-y -qq --no-install-recommends -o DPkg::Lock::Timeout=600)
	aptlog=$(mktemp "${TMPDIR:-/tmp}/cgg-vm-apt.XXXXXX")
	# shellcheck disable=SC2086
	if ! { apt-get -o DPkg::Lock::Timeout=600 update -qq &&
	       apt-get install "${apt_opts[@]}" $missing; } > "$aptlog" 2>&1; then
		tail -n 20 "$aptlog" >&2
		skip "could not install$missing (see apt output above)"
	fi
fi

KERNEL=${CGG_VM_KERNEL:-$(newest_61)}
[ -n "$KERNEL" ] && [ -f "$KERNEL" ] || skip "no /boot/vmlinuz-6.1.* (apt-get install linux-image-amd64)"
[ -r "$KERNEL" ] || skip "$KERNEL is not readable (Debian installs it 0600: run as root)"
KREL=${KERNEL##*/vmlinuz-}

# --- 2. binaries (vm.mk) and the initramfs -------------------------------------
mkdir -p "$OUT"
if ! make -f Makefile -j"$(nproc)" "$OUT/cgguard" "$OUT/cgg_traffic" > "$OUT/build.log" 2>&1; then
	tail -n 40 "$OUT/build.log" >&2
	die "building the VM binaries failed (full log: $OUT/build.log)"
fi
if [ ${#cases[@]} = 0 ]; then
	cases=(tests/vm/cases/[0-9]*.sh)
fi
ncases=${#cases[@]}
tests/vm/mkinitramfs.sh "$OUT/initramfs.cpio.gz" "$OUT" "${cases[@]}" ||
	die "building the initramfs failed"
T_BUILD=$((SECONDS - T0))

# --- 3. boot -------------------------------------------------------------------
# -nic none: the VM has no network card at all; every test packet stays on
# its loopback.  stdin from /dev/null so qemu never grabs a terminal.
# cgg_* parameters reach /init as environment variables.
say "booting $KERNEL ($ncases cases, limit ${VM_TIMEOUT}s)"
T1=$SECONDS
set +e
timeout -k 10 "$VM_TIMEOUT" qemu-system-x86_64 \
	-m 1024 -smp 2 -nographic -no-reboot -nic none \
	-kernel "$KERNEL" -initrd "$OUT/initramfs.cpio.gz" \
	-append "console=ttyS0 quiet panic=-1 lsm=lockdown,capability,landlock,bpf cgg_case_timeout=$CASE_TIMEOUT cgg_kver=$KREL" \
	</dev/null >"$LOG" 2>"$OUT/qemu.stderr" &
qpid=$!
wait "$qpid"
qrc=$?
qpid=""
set -e
T_VM=$((SECONDS - T1))
# The serial console ends lines with \r\n, and SeaBIOS leaves terminal
# escapes (reset, clear screen) in front of the first line /init prints.
sed -i 's/\r$//; s/\x1bc//g; s/\x1b\[[0-9;?]*[A-Za-z]//g' "$LOG"

# --- 4. verdict ----------------------------------------------------------------
if ! grep -q 'VMINIT up' "$LOG"; then
	# qemu never got as far as our /init.  If qemu itself complained and
	# exited (not our timeout), it cannot run here; otherwise the kernel or
	# initramfs is broken, which is a failure.
	if [ "$qrc" != 0 ] && [ "$qrc" != 124 ] && [ "$qrc" != 137 ] && [ -s "$OUT/qemu.stderr" ]; then
		cat "$OUT/qemu.stderr" >&2
		skip "qemu-system-x86_64 could not run (exit $qrc)"
	fi
fi
boot=$(sed -n 's/.*VMINIT up \([0-9.]*\).*/\1/p' "$LOG" | head -n 1)

# Case lines, with the output of every case that did not pass.
{ grep '^VMCASE ' "$LOG" || true; } | while read -r _ name res rest; do
	echo "vm/$name $res $rest"
	if [ "$res" != PASS ]; then
		awk -v n="$name" '$0 == "VMSTART " n {on = 1; next}
			on && /^VMCASE / {exit} on {print "    " $0}' "$LOG"
	fi
done

result=$(grep '^VMRESULT ' "$LOG" | tail -n 1 || true)
say "kernel $KREL, /init reached after ${boot:-?}s of guest time; build ${T_BUILD}s, VM ${T_VM}s (qemu exit $qrc), total $((SECONDS - T0))s"
if [[ ! $result =~ ^VMRESULT\ ([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped$ ]]; then
	echo "--- last 40 lines of $LOG:"
	tail -n 40 "$LOG"
	[ -s "$OUT/qemu.stderr" ] && { echo "--- qemu stderr:"; cat "$OUT/qemu.stderr"; }
	[ "$qrc" = 124 ] && die "qemu timed out after ${VM_TIMEOUT}s (CGG_VM_TIMEOUT)"
	die "no VMRESULT line in the console log (kernel panic or init died?)"
fi
p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]} s=${BASH_REMATCH[3]}
seen=$(grep -c '^VMCASE ' "$LOG" || true)
echo "${result#VMRESULT }"
[ "$seen" = "$ncases" ] && [ $((p + f + s)) = "$ncases" ] ||
	die "shipped $ncases cases, the VM reported $seen ($p+$f+$s)"
[ "$f" = 0 ] || die "$f case(s) failed (console: $LOG)"
[ "$p" -gt 0 ] || die "no case passed"
if [ "$s" != 0 ] && [ "${CI:-}" = true ]; then
	die "$s case(s) skipped, a failure under CI=true"
fi
exit 0
