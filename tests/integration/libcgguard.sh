#!/bin/bash
# libcgguard as a user gets it: `make install` puts cgguard.h, the static
# and shared library and cgguard.pc in place; the example program compiles
# against the installed files through pkg-config (shared and static), and
# the shared build, run as uid 65534 with its daemon filter, receives the
# allowed datagrams only.
. "$(dirname "$0")/../lib.sh"
need_root
command -v pkg-config >/dev/null || skip "needs pkg-config"
command -v setpriv >/dev/null || skip "needs setpriv (util-linux)"

T=$(mktemp -d)
chmod 755 "$T"
DPID=""
stop_daemon() { [ -n "$DPID" ] && kill "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; DPID=""; }
trap 'stop_daemon; cleanup_all; rm -rf "$T"' EXIT
cleanup_all

D=$T/dest
make -s -C "$TOP" install DESTDIR="$D" PREFIX=/usr/local >"$T/install.log" 2>&1 \
	|| { fail "make install: $(tail -5 "$T/install.log")"; finish; }
for f in include/cgguard.h lib/libcgguard.a lib/libcgguard.so lib/libcgguard.so.0 \
	 lib/pkgconfig/cgguard.pc; do
	[ -e "$D/usr/local/$f" ] && pass "installed $f" || fail "missing $f"
done
PC="env PKG_CONFIG_PATH=$D/usr/local/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$D pkg-config"
flags=$($PC --cflags --libs cgguard) || fail "pkg-config cgguard"
cc -O2 -Wall -Werror "$TOP/libcgguard/example.c" $flags -o "$T/example" \
	&& pass "example builds against the installed shared library" || fail "shared build"
cc -O2 -Wall -Werror "$TOP/libcgguard/example.c" $($PC --cflags cgguard) \
	"$D/usr/local/lib/libcgguard.a" $($PC --static --libs-only-l cgguard | sed 's/-lcgguard//') \
	-o "$T/example-static" && pass "example builds statically (Requires.private)" || fail "static build"
exported=$(nm -D --defined-only "$D/usr/local/lib/libcgguard.so" | awk '$2 == "T" {print $3}' | sort | tr '\n' ' ')
expect_eq "exported symbols" "$exported" \
	"cgguard_classic_tcp_probe cgguard_filter_fd cgguard_request cgguard_sock_filter cgguard_sock_filter_flags cgguard_strerror "

setup_netns || { fail "netns setup"; finish; }
mkdir -p "$T/pol"
printf 'policy: it-example\ningress:\n  default: deny\n  rules:\n    - { action: allow, from: 10.210.0.1/32, proto: udp, ports: [5353] }\n' \
	> "$T/pol/e.yaml"
printf 'unprivileged_socket: %s\nunprivileged:\n  - uid: 65534\n    policies: [it-example]\n' \
	"$T/run/user.sock" > "$T/config.yaml"
"$CGG" daemon --config "$T/config.yaml" --policy-dir "$T/pol" --socket "$T/run/root.sock" \
	--metrics off > "$T/daemon.log" 2>&1 &
DPID=$!
for _ in $(seq 250); do [ -S "$T/run/user.sock" ] && break; sleep 0.02; done

ip netns exec $NS_S env CGGUARD_SOCKET="$T/run/user.sock" LD_LIBRARY_PATH="$D/usr/local/lib" \
	setpriv --reuid 65534 --regid 65534 --clear-groups "$T/example" it-example 5353 3 > "$T/ex.out" 2>&1 &
EX=$!
for _ in $(seq 250); do grep -q "waiting\|cgguard:" "$T/ex.out" && break; sleep 0.02; done
ip netns exec $NS_C "$TRAFFIC" udp-send 169.254.169.254 5353 20 >/dev/null	# denied source
ip netns exec $NS_C "$TRAFFIC" udp-send 10.210.0.2 5353 3 >/dev/null		# allowed
for _ in $(seq 250); do kill -0 $EX 2>/dev/null || break; sleep 0.02; done
kill $EX 2>/dev/null
cat "$T/ex.out"
expect_eq "datagrams the example printed" "$(grep -c '^from ' "$T/ex.out")" 3
expect_eq "from the denied source" "$(grep -c '169.254.169.1' "$T/ex.out")" 0
"$CGG" stats --sockfilter | grep -A1 "policy it-example"
finish
