#!/bin/bash
# Daemon config kill_denied: true.  A hot reload of a policy file that now
# denies a peer destroys the cgroup's streams to that peer (the application
# sees ECONNABORTED) and leaves the others alone; the log's count equals
# the sockets ss sees vanish.  A config with a bad kill_denied value is
# refused with its file:line:col.
. "$(dirname "$0")/../lib.sh"
need_root
command -v jq >/dev/null || skip "needs jq"
command -v nsenter >/dev/null || skip "nsenter (util-linux) missing"
T=$(mktemp -d)
DPID=""
SOCK=$T/run/cgguard.sock
trap '[ -n "$DPID" ] && kill -9 $DPID; kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; cleanup_all; rm -rf "$T"' EXIT
cleanup_all
setup_netns || { fail "netns setup"; finish; }
mkdir -p "$T/pol"

put_policy() { # put_policy DENIED_HOST...
	{ printf 'policy: it-kr\negress:\n  default: allow\n  rules:\n'
	  for h in "$@"; do printf '    - { action: deny, to: %s }\n' "$h"; done
	  if [ $# = 0 ]; then printf '    - { action: deny, to: 192.0.2.1/32 }\n'; fi
	} > "$T/pol/.new" && mv "$T/pol/.new" "$T/pol/it-kr.yaml"
}
put_policy
CG=$(make_cg kr)
printf 'kill_denied: true\nrules:\n  - { match: "%s", policy: it-kr }\n' "${CG#$CG2/}" > "$T/config.yaml"
printf 'kill_denied: yes\n' > "$T/bad.yaml"
"$CGG" daemon --check --config "$T/bad.yaml" --policy-dir "$T/pol" > "$T/o" 2>&1
expect_eq "bad kill_denied: exit" "$?" 1
grep -q 'bad.yaml:1:[0-9]*: kill_denied: true or false' "$T/o" || fail "bad kill_denied message: $(cat "$T/o")"

"$CGG" daemon --config "$T/config.yaml" --policy-dir "$T/pol" --socket "$SOCK" \
	--metrics off >> "$T/log" 2>&1 & DPID=$!
for _ in $(seq 250); do "$CGG" list --json 2>/dev/null | jq -e 'any(.[]; .policy == "it-kr")' >/dev/null && break; sleep 0.02; done
expect_eq "guarded by the daemon" "$("$CGG" list --json | jq -r '.[] | select(.policy == "it-kr") | .cgroup')" "${CG#$CG2}"

ip netns exec $NS_S "$STREAM" sink :: 7001 tcp > "$T/sink" & SINK=$!
wait_ready "$T/sink"
in_cg "$CG" ip netns exec $NS_C "$STREAM" send 10.210.0.3 7001 tcp 6000 > "$T/d4" &
in_cg "$CG" ip netns exec $NS_C "$STREAM" send fd10:210::3 7001 tcp 6000 > "$T/d6" &
in_cg "$CG" ip netns exec $NS_C "$STREAM" send 10.210.0.2 7001 tcp 6000 > "$T/k4" & K4=$!
sleep 0.5
ss_cg() { nsenter --net=/var/run/netns/$NS_C ss -taneH cgroup "${CG#$CG2}" | grep -o 'ino:[0-9]*' | sort; }
before=$(ss_cg)
expect_eq "streams before the reload" "$(wc -l <<<"$before")" 3

t0=$(date +%s%N)
put_policy 10.210.0.3/32 fd10:210::3/128
end=$((t0 + 3000000000))
until grep -q 'kill_denied on' "$T/log" || [ "$(date +%s%N)" -gt $end ]; do sleep 0.01; done
sleep 0.2
after=$(ss_cg)
line=$(grep 'kill_denied on' "$T/log" | tail -1)
echo "$line"
expect_eq "daemon log: destroyed" "$(sed -n 's/.*destroyed \([0-9]*\) socket.*/\1/p' <<<"$line")" 2
expect_eq "sockets ss saw vanish" "$(comm -23 <(echo "$before") <(echo "$after") | wc -l)" 2
for f in d4 d6; do
	for _ in $(seq 100); do grep -q '^result=' "$T/$f" && break; sleep 0.02; done
	r=$(grep '^result=' "$T/$f")
	expect_eq "$f errno" "$(kv errno "$r")" ECONNABORTED
	t=$(kv t_ns "$r")
	[ -n "$t" ] && echo "$f: error $(((t - t0) / 1000000)) ms after the policy file was replaced"
done
wait $K4
expect_eq "allowed stream untouched" "$(kv result "$(grep '^result=' "$T/k4")")" ok
[ "$FAILS" = 0 ] || { echo "--- daemon log"; cat "$T/log"; }
finish
