#!/bin/bash
# Rootless podman guarded by delegated attach: a test user (uid 64999, with
# subuids) owns a delegated cgroup, asks the daemon to guard it with its
# own policy (`cgguard ctl attach`, no privilege), and runs a rootless
# container from there.  Inside the container (its own network namespace,
# loopback only) a connect to the denied port fails with EPERM, an allowed
# one reaches the kernel (ECONNREFUSED), and of 20 datagrams to a denied
# port 0 arrive, of 20 to an allowed one 20.
. "$(dirname "$0")/lib.sh"
need_root
need_tools podman setpriv jq
command -v newuidmap >/dev/null && command -v slirp4netns >/dev/null ||
	skip "rootless podman needs newuidmap and slirp4netns (packages uidmap, slirp4netns: tests/deps.sh)"
CG2=$(awk '$0 ~ / - cgroup2 / {print $5; exit}' /proc/self/mountinfo)
CGREL=/cgguard-it/rootls
U=$CG2$CGREL/user
RUSER=cgg-it-rootless RUID=64999
RHOME=/var/lib/cgguard-it-rootless
RT=/tmp/cgg-it-rootless-run
T=$(mktemp -d); chmod 755 "$T"
USOCK=$T/run/user.sock
DPID=""

pod() { # pod ARGS...: rootless podman as the test user, from its cgroup
	( echo $BASHPID > "$U/pod/cgroup.procs" && cd "$RHOME" &&
	  exec setpriv --reuid $RUID --regid "$(id -g $RUSER)" --init-groups \
		env HOME="$RHOME" XDG_RUNTIME_DIR="$RT" USER=$RUSER PATH=/usr/bin:/bin \
		podman --runtime runc --cgroup-manager=cgroupfs --events-backend=file "$@" )
}
cleanup() {
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null
	[ -d "$U/pod" ] && pod rm -af >/dev/null 2>&1
	# rootless podman keeps a "pause" process per user: ours goes too
	[ -f "$RT/libpod/tmp/pause.pid" ] && kill "$(cat "$RT/libpod/tmp/pause.pid")" 2>/dev/null
	for d in $(find "$CG2$CGREL" -depth -type d 2>/dev/null); do
		"$CGG" detach --cgroup "$d" >/dev/null 2>&1
		echo 1 > "$d/cgroup.kill" 2>/dev/null; rmdir "$d" 2>/dev/null
	done
}
# The test user and everything it owns go too (a crashed run's as well).
drop_user() {
	pkill -9 -u $RUID 2>/dev/null; sleep 0.1
	id $RUSER >/dev/null 2>&1 && userdel -r -f $RUSER >/dev/null 2>&1
	sed -i "/^$RUSER:/d" /etc/subuid /etc/subgid
	rm -rf "$RT" "$RHOME"
}
trap 'cleanup; drop_user; rm -rf "$T"' EXIT
cleanup
drop_user

# The test user: subordinate ids for rootless podman, an image of our own.
useradd -m -d "$RHOME" -s /bin/sh -u $RUID $RUSER 2>/dev/null ||
	{ fail "useradd"; finish; }
echo "$RUSER:400000:65536" >> /etc/subuid
echo "$RUSER:400000:65536" >> /etc/subgid
mkdir -p "$RT"; chown $RUSER "$RT"; chmod 700 "$RT"

mkdir -p "$U"
chown $RUID "$U" "$U/cgroup.procs" "$U/cgroup.subtree_control" "$U/cgroup.threads"
setpriv --reuid $RUID --regid "$(id -g $RUSER)" --init-groups mkdir "$U/pod" ||
	{ fail "the user cannot make a cgroup in its subtree"; finish; }
"$TOP/tests/e2e/mkimage.sh" --rootfs-only >/dev/null || { fail "rootfs"; finish; }
tar -C "$ROOTFS" --exclude=./.stamp -c . > "$T/rootfs.tar"; chmod 644 "$T/rootfs.tar"
pod import -q --change 'ENV PATH=/bin' "$T/rootfs.tar" localhost/cgg-rootless:latest >/dev/null 2>"$T/err" ||
	{ fail "rootless podman import: $(cat "$T/err")"; finish; }

mkdir -p "$T/pol"
cat > "$T/pol/rl.yaml" <<'P'
policy: it-rootless
egress:
  rules:
    - { action: deny, to: 127.0.0.0/8, proto: tcp, ports: [7150] }
    - { action: deny, to: 127.0.0.0/8, proto: udp, ports: [5000] }
P
cat > "$T/config.yaml" <<C
unprivileged_socket: $USOCK
unprivileged:
  - user: $RUSER
    policies: [it-rootless]
    subtree: ${CGREL#/}/user
C
"$CGG" daemon --config "$T/config.yaml" --policy-dir "$T/pol" --socket "$T/run/root.sock" \
	--metrics off > "$T/daemon.log" 2>&1 &
DPID=$!
for _ in $(seq 200); do [ -S "$USOCK" ] && break; sleep 0.02; done

out=$(setpriv --reuid $RUID --regid "$(id -g $RUSER)" --init-groups \
	"$CGG" ctl --socket "$USOCK" attach --cgroup "$CGREL/user/pod" --policy it-rootless 2>&1)
[ $? = 0 ] && pass "the user guarded its own cgroup: $out" || { fail "ctl attach: $out"; finish; }

# One container: where it runs, then the traffic, all inside its netns.
out=$(pod run --rm --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
	localhost/cgg-rootless:latest sh -c '
	grep "^0::" /proc/self/cgroup
	cgg_traffic tcp-send 127.0.0.1 7150 10 500
	cgg_traffic tcp-send 127.0.0.1 8080 10 500
	cgg_traffic udp-recv 127.0.0.1 5000 400 > /tmp/a & cgg_traffic udp-recv 127.0.0.1 5001 400 > /tmp/b &
	sleep 0.2
	cgg_traffic udp-send 127.0.0.1 5000 20; cgg_traffic udp-send 127.0.0.1 5001 20
	wait; cat /tmp/a /tmp/b | grep received' 2>"$T/err")
[ -n "$out" ] || { fail "rootless podman run: $(cat "$T/err")"; finish; }
echo "$out"
grep -q "^0::$CGREL/user/pod" <<<"$out" && pass "the container runs in the user's guarded cgroup" ||
	fail "container cgroup: $(head -1 <<<"$out")"
expect_eq "container: connect to denied 7150" "$(kv errno "$(grep -m1 result <<<"$out")")" EPERM
expect_eq "container: connect to allowed 8080 reaches the kernel" \
	"$(kv errno "$(grep result <<<"$out" | sed -n 2p)")" ECONNREFUSED
expect_eq "container: datagrams to denied port 5000 that arrived" \
	"$(kv received "$(grep received <<<"$out" | sed -n 1p)")" 0
expect_eq "container: datagrams to allowed port 5001 that arrived" \
	"$(kv received "$(grep received <<<"$out" | sed -n 2p)")" 20
finish
