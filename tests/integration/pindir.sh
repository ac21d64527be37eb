#!/bin/bash
# The bpffs pin tree is root's alone (issue 8, item 1).  On a fresh bpffs in
# a private mount namespace (mode 1777, as systemd hosts mount it), an
# unprivileged user (uid/gid 65534) plants the pin root or one of link/,
# map/, prog/ before cgguard: owned by them, a symlink to their directory,
# or root's but group-writable for their group.  `attach` must refuse or
# repair, and afterwards that user can unlink, rename or remove nothing:
# the programs stay attached in the kernel.  Read-only commands refuse an
# untrusted tree, and doctor reports it.  Nothing here touches the host's
# /sys/fs/bpf: every scenario has its own bpffs.
. "$(dirname "$0")/../lib.sh"
need_root
command -v bpftool >/dev/null || skip "needs bpftool"
command -v jq >/dev/null || skip "needs jq"
command -v unshare >/dev/null || skip "needs unshare (util-linux)"
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
B=/sys/fs/bpf
R=$B/cgguard
# nattached CGROUP: programs the kernel runs on the cgroup itself
nattached() { local j; j=$(bpftool cgroup show "$1" -j 2>/dev/null); jq length <<<"${j:-[]}"; }

if [ "${1:-}" = --inner ]; then
	# ---- inside a private mount namespace with its own bpffs ----------
	scen=$2 what=$3 CG=$4
	mount -t bpf bpf $B || { echo "FAIL: cannot mount bpffs" >&2; exit 1; }
	chmod 1777 $B
	as() { "${NOBODY[@]}" "$@"; }
	# Below a root that others can enter (an admin's mkdir, umask 022).
	[ "$what" = root ] || mkdir -m 0755 $R
	case $scen in
	owned)	# the attacker creates the tree (root) or the one directory
		if [ "$what" = root ]; then
			as mkdir -m 0777 $R $R/link $R/map $R/prog
		else
			mkdir -m 0777 $R/$what && chown 65534:65534 $R/$what
		fi ;;
	symlink) # ... a symlink to a directory of theirs
		as mkdir -m 0777 $B/evil
		if [ "$what" = root ]; then
			as mkdir -m 0777 $B/evil/link $B/evil/map $B/evil/prog
			as ln -s $B/evil $R
		else
			ln -s $B/evil $R/$what
		fi ;;
	groupw)	# ... root's directory, writable by the attacker's group
		if [ "$what" = root ]; then
			mkdir -m 0770 $R && chgrp 65534 $R
			as mkdir -m 0777 $R/link	# which they fill in first
		else
			mkdir -m 0770 $R/$what && chgrp 65534 $R/$what
		fi ;;
	esac
	# The attacker waits inside the directory it planted (a cwd keeps
	# working after the parent is locked down) and, once cgguard has
	# attached, removes, renames or replaces whatever it can reach.
	tmp=$(mktemp -d); chmod 0755 "$tmp"; mkfifo -m 0666 "$tmp/go"
	touch "$tmp/go.ready"; chmod 0666 "$tmp/go.ready"
	target=$R; [ "$what" = root ] || target=$R/$what
	as sh -c 'cd "$1" || exit; echo ready > "$2.ready"; read x < "$2"
		find . -mindepth 1 -depth -exec rm -rf {} \; -o -exec mv {} {}x \;
		find "$3" -mindepth 1 -depth -exec rm -rf {} \; -o -exec mv {} {}x \;
		mv "$3/cgguard" "$3/moved"' sh "$target" "$tmp/go" $B 2>/dev/null &
	attacker=$!
	for _ in $(seq 250); do [ -s "$tmp/go.ready" ] && break; sleep 0.02; done
	"$CGG" attach --cgroup "$CG" --policy baseline 2> "$tmp/err"
	rc=$?
	grep -q 'UNTRUSTED pin directory' "$tmp/err" || echo "no-warning: $(cat "$tmp/err")"
	before=$(nattached "$CG")
	npins=$(find $R -xdev | wc -l)
	# (counted now: the attacker may remove what was moved aside, its own)
	aside=$(ls -d $B/cgguard-untrusted-* 2>/dev/null | wc -l)
	timeout 5 sh -c 'echo go > "$1"' sh "$tmp/go" || echo "attacker gone"
	wait $attacker
	rm -rf "$tmp"
	after=$(nattached "$CG")
	bad=$(find $R -xdev \( ! -uid 0 -o -perm /077 -o -type l \) \
	      -print 2>/dev/null | head -3 | tr "\n" ,)
	echo "rc=$rc before=$before after=$after pins=$npins/$(find $R -xdev | wc -l) aside=$aside bad=${bad:-none}"
	"$CGG" detach --cgroup "$CG" >/dev/null 2>&1
	exit 0
fi

T=$(mktemp -d)
trap 'cleanup_all; rm -rf "$T"' EXIT
cleanup_all
CG=$(make_cg pindir)

for scen in owned symlink groupw; do
	for what in root link map prog; do
		out=$(unshare -m --propagation private "$0" --inner $scen $what "$CG" 2>&1)
		res=$(grep '^rc=' <<<"$out")
		name="$scen $what"
		[ -n "$res" ] || { fail "$name: $out"; continue; }
		grep -q '^no-warning' <<<"$out" && fail "$name: attach did not say what it repaired: $out"
		grep -q '^attacker gone' <<<"$out" && fail "$name: the attacker never got to try"
		rc=$(kv rc "$res"); before=$(kv before "$res"); after=$(kv after "$res")
		pins=$(kv pins "$res"); bad=$(kv bad "$res"); aside=$(kv aside "$res")
		if [ "$rc" != 0 ]; then
			# Refusing is allowed too, but then nothing may be attached.
			expect_eq "$name: refused, nothing attached" "$before" 0
			continue
		fi
		[ "$before" -ge 9 ] && pass "$name: attach repaired the tree ($before programs attached)" ||
			fail "$name: attach exit 0 but $before programs attached"
		expect_eq "$name: programs still attached after the attack" "$after" "$before"
		expect_eq "$name: pins left after the attack (before/after)" "${pins%/*}" "${pins#*/}"
		expect_eq "$name: untrusted directories in the tree" "$bad" none
		expect_eq "$name: the untrusted directory was moved aside" "$aside" 1
	done
done
expect_eq "cgroup left with no program after the namespaces are gone" \
	"$(nattached "$CG")" 0

# ---- readers refuse, doctor reports ---------------------------------------
out=$(unshare -m --propagation private bash -c '
	mount -t bpf bpf '$B' && chmod 1777 '$B' || exit 1
	"$0" attach --cgroup "$1" --policy baseline >/dev/null 2>&1 || echo attach-failed
	"$0" doctor --json | jq -c ".pin_tree"
	chown 65534 '$R'/link
	"$0" list >/dev/null 2>/tmp/cgg-pd-err.$$; echo "list=$? $(cat /tmp/cgg-pd-err.$$)"
	"$0" stats --json >/dev/null 2>/tmp/cgg-pd-err.$$; echo "stats=$? $(cat /tmp/cgg-pd-err.$$)"
	"$0" doctor --json > /tmp/cgg-pd-doc.$$; echo "doctor=$?"
	jq -c ".pin_tree[] | select(.path == \"'$R'/link\")" /tmp/cgg-pd-doc.$$
	"$0" doctor | grep "'$R'/link "
	rm -f /tmp/cgg-pd-err.$$ /tmp/cgg-pd-doc.$$
	chown 0 '$R'/link; "$0" detach --cgroup "$1" >/dev/null' "$CGG" "$CG" 2>&1)
echo "$out" | sed 's/^/  | /'
grep -q attach-failed <<<"$out" && fail "attach on a fresh bpffs failed"
good=$(sed -n 1p <<<"$out")
expect_eq "doctor --json pin_tree on a fresh tree" "$(jq -c '[.[] | [.path,.uid,.mode,.ok]]' <<<"$good")" \
	'[["/sys/fs/bpf/cgguard",0,"0700",true],["/sys/fs/bpf/cgguard/link",0,"0700",true],["/sys/fs/bpf/cgguard/map",0,"0700",true],["/sys/fs/bpf/cgguard/prog",0,"0700",true]]'
for c in list stats; do
	l=$(grep "^$c=" <<<"$out")
	[[ "$l" =~ ^$c=1\ .*refusing\ to\ trust\ $R/link:\ it\ is\ not\ owned\ by\ root\ \(uid\ 65534 ]] &&
		pass "$c refuses a link/ owned by uid 65534" || fail "$c: '$l'"
done
expect_eq "doctor exit status with an untrusted pin tree" "$(grep -o '^doctor=[0-9]*' <<<"$out")" doctor=1
expect_eq "doctor --json reports link/" "$(grep '^{"path":"'$R'/link"' <<<"$out")" \
	'{"path":"/sys/fs/bpf/cgguard/link","type":"directory","uid":65534,"gid":0,"mode":"0700","ok":false,"problem":"not owned by root"}'
grep -q "FAIL  $R/link  .*directory uid 65534 gid 0 mode 0700: not owned by root" <<<"$out" &&
	pass "doctor text names the owner" || fail "doctor text lacks the link/ line"

# ---- the socket filters' directory gets the same checks -------------------
# (opened once below the checked root, pins read through that fd)
for how in owned symlink groupw; do
	out=$(unshare -m --propagation private bash -c '
		mount -t bpf bpf '$B' && chmod 1777 '$B' || exit 1
		mkdir -m 0700 '$R'
		case $1 in
		owned)	mkdir -m 0777 '$R'/sockfilter && chown 65534 '$R'/sockfilter ;;
		symlink) mkdir -m 0777 '$B'/evil && chown 65534 '$B'/evil &&
			ln -s '$B'/evil '$R'/sockfilter ;;
		groupw)	mkdir -m 0770 '$R'/sockfilter && chgrp 65534 '$R'/sockfilter ;;
		esac
		"$0" stats --sockfilter --json; echo "rc=$?"' "$CGG" $how 2>&1)
	[[ "$out" == *"refusing to trust $R/sockfilter"*"rc=1"* ]] &&
		pass "stats --sockfilter refuses a sockfilter/ that is $how" ||
		fail "stats --sockfilter, sockfilter/ $how: $out"
done
finish
