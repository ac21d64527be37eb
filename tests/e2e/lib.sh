#!/bin/bash
# Helpers for cgguard's e2e tier (real runc and podman containers guarded by
# the OCI hook).  Tests source this file; run directly it does nothing.
#
# Everything a test creates carries the prefix cgg-e2e-: network namespaces
# cgg-e2e-c (client, 10.211.0.1) and cgg-e2e-s (server, 10.211.0.2/.3),
# container names/ids, their cgroups (runc's default /<id>) and hook records
# /run/cgguard/containers/<id>.  cleanup_all removes all of it, including
# what a crashed earlier run left behind.  Traffic goes only to cgg-e2e-s.
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CGG=${CGG:-$TOP/cgguard}
E2E_OUT=$TOP/.output/e2e
ROOTFS=$E2E_OUT/rootfs
TRAFFIC=$E2E_OUT/cgg_traffic		# static: runs in the busybox rootfs too
IMAGE=localhost/cgguard-e2e:latest
CG2=$(awk '$0 ~ / - cgroup2 / {print $5; exit}' /proc/self/mountinfo)
. "$TOP/tests/assert.sh"
PODMAN_BASE=(podman --runtime runc --cgroup-manager=cgroupfs --events-backend=file)
PODMAN_RUN_OPTS=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# need_tools TOOL...: installs the Debian packages providing them if missing.
need_tools() {
	local t pkgs=()
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 && continue
		case $t in
		busybox) [ -x /bin/busybox ] || pkgs+=(busybox-static) ;;
		*) pkgs+=("$t") ;;
		esac
	done
	[ ${#pkgs[@]} = 0 ] && return 0
	echo "installing ${pkgs[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y "${pkgs[@]}" >/dev/null 2>&1 ||
		{ apt-get update >/dev/null 2>&1 && apt-get install -y "${pkgs[@]}" >/dev/null 2>&1; } ||
		skip "cannot install ${pkgs[*]}"
	for t in "$@"; do
		[ "$t" = busybox ] && t=/bin/busybox
		command -v "$t" >/dev/null 2>&1 || skip "$t is still missing after apt-get install"
	done
}

# need_build: the cgguard binary (built when missing) and the e2e rootfs.
need_build() {
	[ -x "$CGG" ] || make -C "$TOP" cgguard >/dev/null || { fail "make cgguard"; finish; }
	need_tools runc busybox jq
	"$TOP/tests/e2e/mkimage.sh" --rootfs-only >/dev/null || { fail "building the e2e rootfs"; finish; }
}

# ---- cleanup ----------------------------------------------------------------

ns_cleanup() {
	local n
	for n in $(ip netns list 2>/dev/null | awk '{print $1}' | grep '^cgg-e2e-'); do
		ip netns pids "$n" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$n" 2>/dev/null
	done
}

# Detach and remove a cgroup (relative to the cgroup2 mount) if it is ours.
cg_drop() {
	local d=$CG2/${1#/}
	"$CGG" detach --cgroup "$1" >/dev/null 2>&1
	if [ -d "$d" ]; then
		[ -f "$d/cgroup.kill" ] && echo 1 > "$d/cgroup.kill" 2>/dev/null
		find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	fi
}

runc_cleanup() {
	local id
	command -v runc >/dev/null || return 0
	for id in $(runc list -q 2>/dev/null | grep '^cgg-e2e-'); do
		runc delete -f "$id" >/dev/null 2>&1
	done
}

podman_cleanup() {
	local c id
	command -v podman >/dev/null || return 0
	for c in $("${PODMAN_BASE[@]}" ps -a --format '{{.Names}}' 2>/dev/null | grep '^cgg-e2e-'); do
		id=$("${PODMAN_BASE[@]}" inspect --format '{{.Id}}' "$c" 2>/dev/null)
		"${PODMAN_BASE[@]}" rm -f -t 0 "$c" >/dev/null 2>&1
		# poststop ran (or not, if the hook was never configured for it)
		[ -n "$id" ] && { cg_drop "/libpod_parent/libpod-$id"; rm -f "/run/cgguard/containers/$id"; }
	done
}

# Guarded cgroups whose path has a cgg-e2e- component (runc: /cgg-e2e-ID;
# the direct hook tests: /cgg-e2e-*.slice/...; podman's are found by id).
pins_cleanup() {
	local p
	for p in $("$CGG" list --json 2>/dev/null | jq -r '.[].cgroup' 2>/dev/null | grep '/cgg-e2e-\|/cgge2e'); do
		cg_drop "$p"
	done
	for p in "$CG2"/cgg-e2e-* "$CG2"/cgge2e*; do
		[ -d "$p" ] && cg_drop "${p#$CG2}"
	done
	rm -f /run/cgguard/containers/cgg-e2e-* /run/cgguard/containers/.cgg-e2e-*
	# scratch dirs of crashed runs (not of a run still going on)
	find /tmp -maxdepth 1 -name 'cgg-e2e-*' -mmin +30 -exec rm -rf {} + 2>/dev/null
}

cleanup_all() { runc_cleanup; podman_cleanup; pins_cleanup; ns_cleanup; }

# ---- network ------------------------------------------------------------------

# cgg-e2e-c (10.211.0.1) <-veth-> cgg-e2e-s (10.211.0.2 and 10.211.0.3)
setup_netns() {
	ns_cleanup
	ip netns add cgg-e2e-c && ip netns add cgg-e2e-s || return 1
	ip link add cgg-e2e-c0 netns cgg-e2e-c type veth peer name cgg-e2e-s0 netns cgg-e2e-s || return 1
	ip -n cgg-e2e-c link set lo up; ip -n cgg-e2e-s link set lo up
	ip -n cgg-e2e-c addr add 10.211.0.1/24 dev cgg-e2e-c0
	ip -n cgg-e2e-s addr add 10.211.0.2/24 dev cgg-e2e-s0
	ip -n cgg-e2e-s addr add 10.211.0.3/24 dev cgg-e2e-s0
	ip -n cgg-e2e-c link set cgg-e2e-c0 up
	ip -n cgg-e2e-s link set cgg-e2e-s0 up
	# Warm neighbour entries (from the test's own cgroup, not a container's).
	ip netns exec cgg-e2e-c ping -c1 -W1 10.211.0.2 >/dev/null 2>&1
	ip netns exec cgg-e2e-c ping -c1 -W1 10.211.0.3 >/dev/null 2>&1
	return 0
}

# serve ADDR PORT IDLE_MS OUTFILE: UDP counter in cgg-e2e-s, waits for ready.
serve() {
	ip netns exec cgg-e2e-s "$TRAFFIC" udp-recv "$1" "$2" "$3" > "$4" &
	for _ in $(seq 200); do grep -q ready "$4" 2>/dev/null && return 0; sleep 0.02; done
	fail "server $1:$2 did not start"
}

# wait_file FILE [TENTHS]: waits (default 10 s) for FILE to exist.
wait_file() {
	local i
	for ((i = 0; i < ${2:-100}; i++)); do [ -e "$1" ] && return 0; sleep 0.1; done
	return 1
}

# The command a traffic container runs: wait for /mark/go, send N allowed
# datagrams to 10.211.0.2:PORT and N2 denied ones to 10.211.0.3:PORT,
# record the results under /mark, then sleep so the cgroup stays alive.
traffic_cmd() { # traffic_cmd PORT N N2
	echo "while [ ! -e /mark/go ]; do sleep 0.05; done;" \
	     "cgg_traffic udp-send 10.211.0.2 $1 $2 > /mark/allowed;" \
	     "cgg_traffic udp-send 10.211.0.3 $1 $3 > /mark/denied;" \
	     "touch /mark/done; sleep 60"
}

# ---- cgroups and pins ---------------------------------------------------------

# pid_cgroup PID: the cgroup v2 path of PID (relative to the mount)
pid_cgroup() { sed -n 's/^0:://p' "/proc/$1/cgroup" 2>/dev/null; }
# cgroup_id REL: cgroup id (inode) of a cgroup directory
cgroup_id() { stat -c %i "$CG2/${1#/}" 2>/dev/null; }
# links_for CGID: number of pinned cgguard links of a cgroup id
links_for() { ls /sys/fs/bpf/cgguard/link 2>/dev/null | grep -c "^$1-"; }
# listed CGROUP: the `cgguard list --json` entry of a cgroup path (or nothing)
listed() { "$CGG" list --json 2>/dev/null | jq -c --arg c "$1" '.[] | select(.cgroup == $c)'; }
# stat_get CGROUP DIR RESULT FIELD: one counter from `cgguard stats --json`
stat_get() { "$CGG" stats --json --cgroup "$1" | jq -r ".[0].$2.$3.$4"; }
# denied_count CGROUP: egress packet drops plus sends denied at the socket
# layer (whichever layer decided, each denied datagram counts once)
denied_count() {
	"$CGG" stats --json --cgroup "$1" |
		jq -r '.[0] | (.egress.drop.packets // 0) + (.operations.sendmsg.denied // 0)'
}
# failopen_count: the hook's fail-open counter (0 when never written)
failopen_count() { cat /run/cgguard/failopen.count 2>/dev/null || echo 0; }

# Policy used by every e2e test: allow 10.211.0.2, deny 10.211.0.3.
write_policy() { # write_policy FILE
	cat > "$1" <<'P'
policy: e2e
egress:
  default: allow
  rules:
    - { action: deny, to: 10.211.0.3/32 }
P
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	echo "tests/e2e/lib.sh: helper library for tests/e2e/*.sh; nothing to run"
	exit 0
fi
