#!/bin/bash
# Builds the e2e container rootfs (.output/e2e/rootfs: static busybox with
# its applet links plus a static cgg_traffic) and imports it into podman as
# localhost/cgguard-e2e:latest.  No registry is needed.  Idempotent and fast
# when nothing changed: the image carries a label with the rootfs' hash.
#   tests/e2e/mkimage.sh [--rootfs-only]
. "$(dirname "$0")/lib.sh"
need_root
need_tools busybox gcc

build_traffic() {
	local src=$TOP/tests/tools/cgg_traffic.c
	mkdir -p "$E2E_OUT"
	[ -x "$TRAFFIC" ] && [ "$TRAFFIC" -nt "$src" ] && return 0
	# The rootfs has no libc: link statically.
	gcc -static -O2 -Wall "$src" -o "$TRAFFIC.tmp" && mv "$TRAFFIC.tmp" "$TRAFFIC"
}

build_rootfs() {
	local stamp want a
	want=$(cat /bin/busybox "$TRAFFIC" | sha256sum | cut -c1-16)
	stamp=$(cat "$ROOTFS/.stamp" 2>/dev/null)
	[ "$stamp" = "$want" ] && { echo "$want"; return 0; }
	rm -rf "$ROOTFS.tmp"
	mkdir -p "$ROOTFS.tmp"/{bin,dev,proc,sys,tmp,etc,mark,root}
	cp /bin/busybox "$ROOTFS.tmp/bin/busybox"
	cp "$TRAFFIC" "$ROOTFS.tmp/bin/cgg_traffic"
	for a in $(/bin/busybox --list); do
		[ "$a" = busybox ] || ln -s busybox "$ROOTFS.tmp/bin/$a"
	done
	echo "root:x:0:0:root:/root:/bin/sh" > "$ROOTFS.tmp/etc/passwd"
	echo "root:x:0:" > "$ROOTFS.tmp/etc/group"
	chmod 1777 "$ROOTFS.tmp/tmp"
	echo "$want" > "$ROOTFS.tmp/.stamp"
	rm -rf "$ROOTFS" && mv "$ROOTFS.tmp" "$ROOTFS" || return 1
	echo "$want"
}

build_traffic || { echo "cannot build static cgg_traffic" >&2; exit 1; }
hash=$(build_rootfs) || { echo "cannot build the rootfs" >&2; exit 1; }
[ "${1:-}" = --rootfs-only ] && exit 0

need_tools podman
have=$("${PODMAN_BASE[@]}" image inspect --format '{{index .Labels "io.cgguard.e2e"}}' "$IMAGE" 2>/dev/null)
if [ "$have" = "$hash" ]; then
	echo "$IMAGE is up to date ($hash)"
	exit 0
fi
tar -C "$ROOTFS" --exclude=./.stamp -c . |
	"${PODMAN_BASE[@]}" import -q --change "LABEL io.cgguard.e2e=$hash" \
		--change 'CMD ["/bin/sh"]' --change 'ENV PATH=/bin' - "$IMAGE" >/dev/null ||
	{ echo "podman import failed" >&2; exit 1; }
echo "imported $IMAGE ($hash)"
