#!/bin/bash
# CLI edges, table-driven: each row is an exact exit status, a fragment the
# error (or output) must contain, and a command; every row also checks that
# nothing changed: no pin, link, program or map, no cgroup (run's parent
# <cgroup2>/cgguard included), no guarded-cgroup record.  Covers the whole
# class issue 8 names: extra arguments, --json everywhere, names "." and "..",
# numeric options, daemon --check values, and input errors with file:line:col
# (tabs, tags, NUL bytes, nesting), and `policy check` refusing exactly what
# `attach` refuses.
. "$(dirname "$0")/../lib.sh"
need_root
T=$(mktemp -d)
trap 'cleanup_all; rm -rf "$T"' EXIT
cleanup_all
CG=$(make_cg cli)

snapshot() {
	local ids
	ids=$(find "$CGBASE" -type d -printf '%i|' 2>/dev/null)
	(ls /sys/fs/bpf/cgguard /sys/fs/bpf/cgguard/prog /sys/fs/bpf/cgguard/map 2>/dev/null
	 ls /sys/fs/bpf/cgguard/link 2>/dev/null | grep -E "^(${ids%|})-"
	 find "$CGBASE" "$CG2/cgguard" -type d 2>/dev/null | sort
	 bpftool cgroup tree "$CGBASE" 2>/dev/null
	 "$CGG" list --json 2>/dev/null | jq -c --arg p "$CGREL" '[.[] | select(.cgroup|startswith($p))]') | md5sum
}

# row EXIT FRAGMENT CMD...: CMD exits EXIT, its stderr+stdout contain FRAGMENT
# (fixed string), and the state is as before.
row() {
	local want=$1 frag=$2 before after rc; shift 2
	before=$(snapshot)
	"$@" > "$T/out" 2>&1; rc=$?
	after=$(snapshot)
	local what="$(printf '%q ' "${@:2}" | cut -c1-70)"
	if [ "$rc" != "$want" ]; then fail "$what: exit $rc, want $want ($(head -c 200 "$T/out"))"; return; fi
	if ! grep -qF -- "$frag" "$T/out"; then fail "$what: output lacks '$frag': $(head -c 300 "$T/out")"; return; fi
	[ "$before" = "$after" ] || { fail "$what: state changed"; return; }
	pass "$what -> $want"
}

# Something guarded first, so "unchanged" means something.
printf 'policy: it-cli\negress:\n  rules: [ { action: deny, to: 10.210.0.3/32 } ]\n' > "$T/good.yaml"
"$CGG" attach --cgroup "$CG" --policy "$T/good.yaml" || fail "attach good policy"
"$CGG" policy check "$T/good.yaml" --json > "$T/j" 2>&1 && jq -e '.policy == "it-cli" and (.entries|length) > 0' "$T/j" >/dev/null &&
	pass "policy check FILE --json gives JSON" || fail "policy check FILE --json: $(head -c 200 "$T/j")"
"$CGG" version --json | jq -e '.version and .abi' >/dev/null && pass "version --json gives JSON" ||
	fail "version --json: $("$CGG" version --json)"

# inputs
printf 'policy: t\negress:\n\trules: []\n' > "$T/tab.yaml"
printf 'policy: !evil t\n' > "$T/tag.yaml"
printf 'policy: t\nmode: "audit\\0x"\n' > "$T/nul.yaml"
{ printf 'policy: t\negress: '; head -c 100000 /dev/zero | tr '\0' '['; echo; } > "$T/deep.yaml"
printf 'policy: t\nsockets:\n  bind: { deny: [1,2,3,4,5,6,7,8,9], allow: [11,12,13,14,15,16,17,18] }\n' > "$T/bind.yaml"
printf 'policy: t\nsockets:\n  families: { deny: [packet] }\n' > "$T/lsm.yaml"
printf 'metrics: "localhost:80"\n' > "$T/cfg-metrics.yaml"
printf 'socket: run/x.sock\n' > "$T/cfg-socket.yaml"
printf 'rules:\n  - { match: "a/*", policy: ".." }\n' > "$T/cfg-dotdot.yaml"
printf 'log_level: !!str info\n' > "$T/cfg-tag.yaml"
printf 'policy_dir: "/etc\\0/x"\n' > "$T/cfg-nul.yaml"
{ printf 'rules: '; head -c 100000 /dev/zero | tr '\0' '['; echo; } > "$T/cfg-deep.yaml"
: > "$T/empty.yaml"

A=(attach --cgroup "$CG" --policy)
# exit  fragment                                   command
row 2 "unexpected argument 'foo'"                 "$CGG" list foo
row 2 "unexpected argument 'now'"                 "$CGG" gc now
row 2 "unexpected argument 'x'"                   "$CGG" stats x
row 2 "unexpected argument 'y'"                   "$CGG" upgrade y
row 2 "unexpected argument 'extra'"               "$CGG" version extra
row 2 "unexpected argument 'list'"                "$CGG" help list
row 2 "unexpected argument"                       "$CGG" doctor now
row 2 "unexpected argument"                       "$CGG" daemon --check now
row 2 "exactly one FILE or NAME"                  "$CGG" policy check "$T/good.yaml" extra
row 2 "unknown subcommand 'lint'"                 "$CGG" policy lint "$T/good.yaml"
row 2 "required (and nothing else)"               "$CGG" "${A[@]}" "$T/good.yaml" extra
row 2 "required"                                  "$CGG" detach --cgroup "$CG" extra
row 2 "Usage"                                     "$CGG" ctl status extra
row 1 "invalid policy name '.'"                   "$CGG" policy check .
row 1 "invalid policy name '..'"                  "$CGG" policy check ..
row 1 "invalid policy name '..'"                  "$CGG" "${A[@]}" ..
row 1 "invalid policy name '.hidden'"             "$CGG" "${A[@]}" .hidden
row 1 "No such file"                              "$CGG" "${A[@]}" nosuchdir/x
row 2 "--cgroup-name '.': '.' and '..' are not names"  "$CGG" run --policy baseline --cgroup-name . -- true
row 2 "--cgroup-name '..': '.' and '..' are not names" "$CGG" run --policy baseline --cgroup-name .. -- true
row 2 "--cgroup-name 'a/b': one name, without '/'"     "$CGG" run --policy baseline --cgroup-name a/b -- true
row 2 "--cgroup-name '': empty"                   "$CGG" run --policy baseline --cgroup-name "" -- true
row 2 "--timeout 'abc': not a whole number"       "$CGG" ctl --timeout abc status
row 2 "--timeout '-5': not a whole number"        "$CGG" ctl --timeout -5 status
row 2 "--timeout '0': out of range"               "$CGG" ctl --timeout 0 status
row 2 "--timeout '99999999999999999999': out of range" "$CGG" ctl --timeout 99999999999999999999 status
row 2 "--timeout ' 5': not a whole number"        "$CGG" ctl --timeout " 5" status
row 2 "ctl: --socket 'run/x.sock': not an absolute path" "$CGG" ctl --socket run/x.sock status
row 2 "ctl: --socket 'x.sock': not an absolute path" "$CGG" ctl --socket x.sock detach --cgroup "$CG"
row 2 "ctl: --socket '': empty"                    "$CGG" ctl --socket "" status
row 2 "--timeout-ms 'abc': not a whole number"   "$CGG" oci-hook --timeout-ms abc
row 2 "--timeout-ms '+5': not a whole number"    "$CGG" oci-hook --timeout-ms +5
row 2 "--timeout-ms '600001': out of range"      "$CGG" oci-hook --timeout-ms 600001
row 2 "--fail must be 'open' or 'closed'"         "$CGG" policy check "$T/good.yaml" --fail maybe
row 2 "--fail must be 'open' or 'closed'"         "$CGG" "${A[@]}" "$T/good.yaml" --fail maybe
row 2 "--log-level: error, warning, info or debug" "$CGG" daemon --check --config "$T/empty.yaml" --log-level loud
row 2 "unexpected argument 'now'"                 "$CGG" oci-hook now
row 1 "invalid policy name '..'"                  "$CGG" doctor --policy ..
row 2 "--metrics 'bogus': expected ADDR:PORT"     "$CGG" daemon --check --config "$T/empty.yaml" --metrics bogus
row 2 "--metrics '127.0.0.1:65536': the port must be a number" "$CGG" daemon --check --config "$T/empty.yaml" --metrics 127.0.0.1:65536
row 2 "--metrics 'localhost:80': not a numeric IPv4" "$CGG" daemon --check --config "$T/empty.yaml" --metrics localhost:80
row 2 "--socket 'x.sock': not an absolute path"   "$CGG" daemon --check --config "$T/empty.yaml" --socket x.sock
row 2 "--policy-dir 'pol': not an absolute path"  "$CGG" daemon --check --config "$T/empty.yaml" --policy-dir pol
row 1 "policy directory $T/good.yaml is not a directory" "$CGG" daemon --check --config "$T/empty.yaml" --policy-dir "$T/good.yaml"
row 1 "cfg-metrics.yaml:1:10: metrics: 'localhost:80': not a numeric IPv4" "$CGG" daemon --check --config "$T/cfg-metrics.yaml"
row 1 "cfg-socket.yaml:1:9: socket: 'run/x.sock': not an absolute path" "$CGG" daemon --check --config "$T/cfg-socket.yaml"
row 1 "cfg-dotdot.yaml:2:29: policy: '..' is not a policy name" "$CGG" daemon --check --config "$T/cfg-dotdot.yaml"
row 1 "cfg-tag.yaml:1:12: YAML tags are not supported" "$CGG" daemon --check --config "$T/cfg-tag.yaml"
row 1 "cfg-nul.yaml:1:13: a NUL byte"             "$CGG" daemon --check --config "$T/cfg-nul.yaml"
row 1 "cfg-deep.yaml:1:71: nested deeper than 64 levels" "$CGG" daemon --check --config "$T/cfg-deep.yaml"
row 1 "tab.yaml:3:1: YAML syntax error"           "$CGG" "${A[@]}" "$T/tab.yaml"
row 1 "a tab character: YAML indents with spaces only" "$CGG" policy check "$T/tab.yaml"
row 1 "tag.yaml:1:9: YAML tags are not supported ('!evil')" "$CGG" "${A[@]}" "$T/tag.yaml"
row 1 "nul.yaml:2:7: a NUL byte (\\0) inside a string" "$CGG" "${A[@]}" "$T/nul.yaml"
row 1 "deep.yaml:2:72: nested deeper than 64 levels" "$CGG" "${A[@]}" "$T/deep.yaml"
# policy check refuses exactly what attach refuses, with the same words
row 1 "bind.yaml:3:9: 'bind' has 17 port ranges"  "$CGG" policy check "$T/bind.yaml"
row 1 "bind.yaml:3:9: 'bind' has 17 port ranges"  "$CGG" "${A[@]}" "$T/bind.yaml"
# A policy needing BPF LSM: refused by both where the kernel has none (fail closed),
# accepted by both where it has it.
if "$CGG" "${A[@]}" "$T/lsm.yaml" > "$T/a.out" 2>&1; then
	"$CGG" policy check "$T/lsm.yaml" > /dev/null 2>&1 && pass "BPF LSM here: attach and policy check both accept" ||
		fail "attach accepted lsm.yaml but policy check refused it"
	"$CGG" "${A[@]}" "$T/good.yaml" || fail "re-attach good policy"
else
	grep -qF "needs the BPF LSM layer" "$T/a.out" && pass "attach refuses the LSM policy: no BPF LSM here" ||
		fail "attach of lsm.yaml: $(cat "$T/a.out")"
	row 1 "needs the BPF LSM layer"               "$CGG" policy check "$T/lsm.yaml"
	row 0 "policy t: valid"                       "$CGG" policy check "$T/lsm.yaml" --fail open
fi
finish
