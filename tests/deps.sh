#!/bin/sh
# Installs what cgguard's build, tests and benchmarks need on Debian 12.
# Idempotent; skips apt when everything is already there.
set -e
PKGS="build-essential clang llvm pkg-config libbpf-dev bpftool libelf-dev
zlib1g-dev libyaml-dev libcmocka-dev libjson-c-dev prometheus libnl-3-dev libnl-route-3-dev
libcgroup-dev iproute2 iputils-ping nftables jq iperf3 hyperfine
valgrind procps util-linux kmod podman runc busybox-static curl
qemu-system-x86 linux-image-amd64 cpio
libnftables-dev systemtap-sdt-dev bpftrace libseccomp-dev libnl-genl-3-dev acl
libclang-rt-14-dev
uidmap slirp4netns"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "deps: installing$missing"
	# INITRD=No: linux-image-amd64 is only booted by the VM tier's qemu with
	# its own initramfs; building the host's would take minutes for nothing.
	export DEBIAN_FRONTEND=noninteractive INITRD=No
	apt-get -o DPkg::Lock::Timeout=600 update -qq
	# shellcheck disable=SC2086
	apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing
	# prometheus is here only for promtool; do not leave a server running
	# that this script started (an existing one is left alone).
	case " $missing " in *" prometheus "*)
		systemctl disable --now prometheus >/dev/null 2>&1 || true ;;
	esac
fi
# bpffs: cgguard mounts it itself when attaching, but tests read pins early.
if ! mountpoint -q /sys/fs/bpf 2>/dev/null; then
	mount -t bpf bpf /sys/fs/bpf || echo "deps: cannot mount bpffs at /sys/fs/bpf" >&2
fi
