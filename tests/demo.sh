#!/bin/bash
# The README's first command: cgguard's main job on the built-in baseline
# policy.  A workload in a guarded cgroup, inside a network namespace of its
# own, talks to a server namespace that owns both an ordinary service
# address and the cloud metadata address 169.254.169.254 (so nothing here
# can reach a real metadata service).  Baseline denies the metadata address
# and allows the rest; the servers report what really arrived, and cgguard
# reports its counters.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
CGG=$TOP/cgguard T=$TOP/.output/cgg_traffic
CG2=$(awk '$0 ~ / - cgroup2 / {print $5; exit}' /proc/self/mountinfo)
CG=$CG2/cgguard-demo

cleanup() {
	"$CGG" detach --cgroup "$CG" >/dev/null 2>&1
	rmdir "$CG" 2>/dev/null
	for n in cgg-demo-c cgg-demo-s; do
		ip netns pids $n 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del $n 2>/dev/null
	done
	[ -n "${D:-}" ] && rm -rf "$D"
}
trap cleanup EXIT
cleanup
D=$(mktemp -d)
say() { printf '\n\033[1m# %s\033[0m\n' "$*"; }

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
mkdir -p "$CG"
for s in "10.250.0.2 8080" "169.254.169.254 80"; do
	ip netns exec cgg-demo-s "$T" udp-recv $s 2500 > "$D/u-${s% *}" &
	ip netns exec cgg-demo-s "$T" tcp-recv $s 2500 > "$D/t-${s% *}" &
done
say "before the guard: a workload process connects a UDP socket to 169.254.169.254:80"
( echo $BASHPID > "$CG/cgroup.procs"
  exec ip netns exec cgg-demo-c "$T" udp-wait 169.254.169.254 80 50 "$D/go" ) > "$D/early" &
for _ in $(seq 100); do grep -q connected "$D/early" && break; sleep 0.02; done
say "cgguard attach --cgroup $CG --policy baseline"
"$CGG" attach --cgroup "$CG" --policy baseline || exit 1
"$CGG" list

say "the early socket now sends 50 datagrams: only the packet layer can stop them"
touch "$D/go"
sleep 0.3
echo "  early socket: $(grep sent "$D/early")"
say "workload (inside $CG): 100 UDP datagrams + one TCP upload to each server address"
( echo $BASHPID > "$CG/cgroup.procs"
  for a in 10.250.0.2:8080 169.254.169.254:80; do
	echo "  udp to $a: $(ip netns exec cgg-demo-c "$T" udp-send ${a%:*} ${a#*:} 100)"
	echo "  tcp to $a: $(ip netns exec cgg-demo-c "$T" tcp-send ${a%:*} ${a#*:} 100000 1000)"
  done )
wait
say "what the server namespace really received"
for a in 10.250.0.2 169.254.169.254; do
	echo "  $a: udp $(grep -v ready "$D/u-$a"); tcp $(grep -v ready "$D/t-$a")"
done
say "cgguard stats --cgroup $CG   (socket layer: EPERM at the syscall; packet layer: drops)"
"$CGG" stats --cgroup "$CG"
say "cgguard detach --cgroup $CG"
"$CGG" detach --cgroup "$CG" && echo "  detached; namespaces and cgroup removed on exit"
