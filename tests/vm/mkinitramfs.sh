#!/bin/bash
# Assembles the VM tier's initramfs (cpio newc, gzip) from:
#   - a statically linked busybox and a symlink for each of its applets,
#   - BINDIR/cgguard and BINDIR/cgg_traffic (built by vm.mk); a dynamically
#     linked one comes with its ELF interpreter and every shared library
#     `ldd` lists, at the same paths (the VM has no other libc),
#   - tests/vm/init as /init and the cases as /cases/*.
# Usage: mkinitramfs.sh OUT.cpio.gz BINDIR [CASE.sh...]
#   With no CASE arguments every tests/vm/cases/[0-9]*.sh is shipped; given
#   some (e.g. from tests/vm/pending/), only those are.  cases/lib.sh, the
#   helpers every case sources, always goes in.
# Needs no root: ownership is forced to 0:0 by cpio, and /dev/console comes
# from the kernel's built-in initramfs (Debian kernels keep the default one).
set -eu -o pipefail
[ $# -ge 2 ] || { echo "usage: $0 OUT.cpio.gz BINDIR [CASE.sh...]" >&2; exit 2; }
out=$1 bindir=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)

bb=${BUSYBOX:-/bin/busybox}
[ -x "$bb" ] || { echo "mkinitramfs: no busybox at $bb (apt-get install busybox-static)" >&2; exit 1; }
# A dynamic busybox (Debian's "busybox" package) would die in the VM with
# "not found" for its interpreter; catch it here with a clear message.
if readelf -l "$bb" 2>/dev/null | grep -q 'Requesting program interpreter'; then
	echo "mkinitramfs: $bb is dynamically linked; install busybox-static" >&2
	exit 1
fi
for b in cgguard cgg_traffic; do
	[ -x "$bindir/$b" ] || { echo "mkinitramfs: missing $bindir/$b" >&2; exit 1; }
done

stage=$(mktemp -d "${TMPDIR:-/tmp}/cgg-vm-initramfs.XXXXXX")
trap 'rm -rf "$stage" "$out.tmp"' EXIT
S=$stage
mkdir -p "$S"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,root,etc,cases}
cp "$bb" "$S/bin/busybox"
# --list-full prints paths like "sbin/ip", "usr/bin/awk".
for applet in $("$bb" --list-full); do
	[ -e "$S/$applet" ] || ln -s /bin/busybox "$S/$applet"
done
# Stripped copies: the debug symbols stay in $bindir for gdb on the host,
# and a smaller archive unpacks faster under emulation.
for b in cgguard cgg_traffic; do
	strip -o "$S/bin/$b" "$bindir/$b" 2>/dev/null || cp "$bindir/$b" "$S/bin/$b"
	readelf -l "$bindir/$b" | grep -q 'program interpreter' || continue
	if ldd "$bindir/$b" | grep 'not found' >&2; then
		echo "mkinitramfs: $bindir/$b needs libraries this host lacks" >&2
		exit 1
	fi
	# "libx.so.1 => /lib/.../libx.so.1 (0x...)" and "/lib64/ld-linux... (0x...)";
	# the vdso has no path.  cp -L: Debian's .so names are symlinks.
	for lib in $(ldd "$bindir/$b" | awk '$2 == "=>" && $3 ~ /^\// {print $3}
					    $1 ~ /^\// {print $1}'); do
		[ -e "$S$lib" ] && continue
		mkdir -p "$S${lib%/*}"
		cp -L "$lib" "$S$lib"
	done
done
# bpftool (with its libraries) for the cases that inspect or poke pinned
# state directly, as the host tests do; optional.
if bt=$(command -v bpftool) && [ -x "$bt" ]; then
	cp "$bt" "$S/bin/bpftool"
	for lib in $(ldd "$bt" | awk '$2 == "=>" && $3 ~ /^\// {print $3}
				     $1 ~ /^\// {print $1}'); do
		[ -e "$S$lib" ] && continue
		mkdir -p "$S${lib%/*}"
		cp -L "$lib" "$S$lib"
	done
fi
install -m 0755 "$here/init" "$S/init"
install -m 0644 "$here/cases/lib.sh" "$S/cases/lib.sh"
if [ $# -eq 0 ]; then
	set -- "$here"/cases/[0-9]*.sh
fi
for c in "$@"; do
	[ -f "$c" ] || { echo "mkinitramfs: no case file $c" >&2; exit 1; }
	install -m 0755 "$c" "$S/cases/$(basename "$c")"
done
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$S/etc/passwd"
printf 'root:x:0:\n' > "$S/etc/group"

mkdir -p "$(dirname "$out")"
# Sorted, so `cpio -t` of two builds can be compared line by line.
(cd "$S" && find . -mindepth 1 | LC_ALL=C sort |
	cpio --quiet -o -H newc -R 0:0) | gzip -1 > "$out.tmp"
mv "$out.tmp" "$out"
