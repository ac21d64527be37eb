#!/bin/bash
# The README's first command: cgguard's main job on the built-in baseline
# policy, on a real container.
#
# podman (runc, cgroupfs, an image imported from a busybox rootfs: no
# registry needed) starts a container annotated io.cgguard.policy=baseline;
# cgguard's OCI hook guards its cgroup before the container's first
# instruction.  The container lives in a network namespace of the demo's
# own, talking to a server namespace that owns both an ordinary service
# address and the cloud metadata address 169.254.169.254 (so nothing here
# can reach a real metadata service).  The servers report what really
# arrived; cgguard reports its counters.  A second act shows the packet
# layer: a socket opened before the guard is stopped packet by packet.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
CGG=$TOP/cgguard
T=$TOP/.output/cgg_traffic
CG2=$(awk '$0 ~ / - cgroup2 / {print $5; exit}' /proc/self/mountinfo)
CG=$CG2/cgguard-demo
PODMAN=(podman --runtime runc --cgroup-manager=cgroupfs --events-backend=file)
IMAGE=localhost/cgguard-e2e:latest
D=

cleanup() {
	"${PODMAN[@]}" rm -f -t 0 cgguard-demo >/dev/null 2>&1
	"$CGG" detach --cgroup "$CG" >/dev/null 2>&1
	rmdir "$CG" 2>/dev/null
	for n in cgg-demo-c cgg-demo-s; do
		ip netns pids $n 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del $n 2>/dev/null
	done
	[ -n "$D" ] && rm -rf "$D"
}
trap cleanup EXIT
cleanup
D=$(mktemp -d)
say() { printf '\n\033[1m# %s\033[0m\n' "$*"; }
results() {
	for a in 10.250.0.2 169.254.169.254; do
		echo "  $a: udp $(grep -v ready "$D/u-$a$1"); tcp $(grep -v ready "$D/t-$a$1")"
	done
}
servers() { # servers SUFFIX: UDP and TCP servers on both addresses
	for s in "10.250.0.2 8080" "169.254.169.254 80"; do
		ip netns exec cgg-demo-s "$T" udp-recv $s 2500 > "$D/u-${s% *}$1" &
		ip netns exec cgg-demo-s "$T" tcp-recv $s 2500 > "$D/t-${s% *}$1" &
	done
	sleep 0.3
}

say "building the container image (busybox rootfs + traffic tool, podman import)"
"$TOP/tests/e2e/mkimage.sh" >/dev/null || { echo "image build failed"; exit 1; }
say "two namespaces joined by veth: workload 10.250.0.1, server 10.250.0.2 + 169.254.169.254"
ip netns add cgg-demo-c && ip netns add cgg-demo-s
ip link add cgg-demo-c0 netns cgg-demo-c type veth peer name cgg-demo-s0 netns cgg-demo-s
ip -n cgg-demo-c addr add 10.250.0.1/24 dev cgg-demo-c0
ip -n cgg-demo-c addr add 169.254.0.1/16 dev cgg-demo-c0
ip -n cgg-demo-s addr add 10.250.0.2/24 dev cgg-demo-s0
ip -n cgg-demo-s addr add 169.254.169.254/16 dev cgg-demo-s0
for n in c s; do ip -n cgg-demo-$n link set lo up; ip -n cgg-demo-$n link set cgg-demo-${n}0 up; done

say "cgguard policy check baseline   (the built-in policy)"
"$CGG" policy check baseline

# ---- act 1: a podman container guarded by the OCI hook ----------------------
mkdir -p "$D/hooks"
jq --arg cgg "$CGG" '.hook.path = $cgg' "$TOP/deploy/hooks.d/cgguard.json" > "$D/hooks/cgguard.json"
servers ""
say "podman run --hooks-dir deploy/hooks.d --annotation io.cgguard.policy=baseline ..."
"${PODMAN[@]}" --hooks-dir "$D/hooks" run -d --name cgguard-demo \
	--ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --cap-add NET_RAW \
	--network ns:/var/run/netns/cgg-demo-c \
	--annotation io.cgguard.policy=baseline "$IMAGE" sh -c '
	for a in 10.250.0.2:8080 169.254.169.254:80; do
		echo "  udp to $a: $(cgg_traffic udp-send ${a%:*} ${a#*:} 100)"
		echo "  tcp to $a: $(cgg_traffic tcp-send ${a%:*} ${a#*:} 100000 1000)"
	done
	echo "  raw socket (CAP_NET_RAW granted): $(cgg_traffic sock inet raw 1)"
	sleep 30' >/dev/null || { echo "podman run failed"; exit 1; }
pid=$("${PODMAN[@]}" inspect --format '{{.State.Pid}}' cgguard-demo)
ccg=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
sleep 1.5
say "what the container saw"
"${PODMAN[@]}" logs cgguard-demo
wait_servers() { for j in $(jobs -p); do wait "$j" 2>/dev/null; done; }
wait_servers
say "what the server namespace really received"
results ""
say "cgguard list   (every layer checked against the kernel)"
"$CGG" list
say "cgguard stats --cgroup $ccg"
"$CGG" stats --cgroup "$ccg"
say "podman rm -f cgguard-demo   (poststop hook detaches; nothing left behind)"
"${PODMAN[@]}" rm -f -t 0 cgguard-demo >/dev/null
"$CGG" list

# ---- act 2: the packet layer, the backstop ----------------------------------
say "a process opens a UDP socket to 169.254.169.254:80 BEFORE its cgroup is guarded"
mkdir -p "$CG"
servers "-2"
( echo $BASHPID > "$CG/cgroup.procs"
  exec ip netns exec cgg-demo-c "$T" udp-wait 169.254.169.254 80 50 "$D/go" ) > "$D/early" &
for _ in $(seq 100); do grep -q connected "$D/early" && break; sleep 0.02; done
"$CGG" attach --cgroup "$CG" --policy baseline 2>/dev/null
say "cgguard attach --cgroup $CG --policy baseline; the early socket sends 50 datagrams"
touch "$D/go"
sleep 0.3
echo "  early socket: $(grep sent "$D/early")"
wait_servers
echo "  169.254.169.254 received: $(grep -v ready "$D/u-169.254.169.254-2")"
echo "  counters: $("$CGG" stats --json --cgroup "$CG" | jq -c '.[0].egress.drop')  (packet layer drops)"
"$CGG" detach --cgroup "$CG" && echo "  detached; namespaces and cgroups removed on exit"
