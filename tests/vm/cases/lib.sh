# Helpers for the VM cases (busybox sh; sourced, never run as a case: /init
# runs only /cases/[0-9]*.sh).  The VM is ours alone: no NIC, loopback only,
# cgroup2 at /sys/fs/cgroup, bpffs at /sys/fs/bpf, no jq and no bash.
# Each case exits 0 (pass), 77 (skip, say why on a line starting "SKIP") or
# anything else (fail); /init resets processes, pins and cgroups between
# cases, so a case only cleans up what it needs gone mid-case.
CGG=/bin/cgguard
TRAFFIC=/bin/cgg_traffic
# Discovered like the host side does, although /init mounts it right here.
CG2=$(awk '$0 ~ / - cgroup2 / {print $5; exit}' /proc/self/mountinfo)
FAILS=0
T=$PWD	# /init gives every case a fresh, empty working directory

fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
pass() { echo "ok: $*"; }
skip() { echo "SKIP: $*"; exit 77; }
expect_eq() { # expect_eq WHAT GOT WANT
	if [ "$2" = "$3" ]; then pass "$1 = $3"; else fail "$1: got '$2', want '$3'"; fi
}
finish() { [ "$FAILS" = 0 ] && { echo "PASS"; exit 0; }; echo "$FAILS failure(s)"; exit 1; }

# kv KEY LINE: value of KEY=... in a cgg_traffic result line
kv() { echo "$2" | sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p"; }

# make_cg NAME: creates $CG2/NAME (NAME may be nested: a/b) and prints it
make_cg() { mkdir -p "$CG2/$1" && echo "$CG2/$1"; }

# in_cg CGROUP CMD...: runs CMD inside CGROUP.  A fresh sh writes its own
# pid ($$ is that shell's) into cgroup.procs, then execs CMD, so CMD and
# everything it creates (sockets included) belong to CGROUP from the start.
in_cg() {
	_cg=$1; shift
	sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$_cg" "$@"
}

# serve MODE ADDR PORT IDLE_MS OUTFILE: a cgg_traffic server in the root
# cgroup, in the background; returns once it is listening.
serve() {
	"$TRAFFIC" "$1" "$2" "$3" "$4" > "$5" &
	_i=0
	while [ $_i -lt 200 ]; do
		grep -q ready "$5" 2>/dev/null && return 0
		sleep 0.05; _i=$((_i + 1))
	done
	fail "server $1 $2 $3 did not start: $(cat "$5")"
}

# wait_line FILE TEXT: waits (up to 10 s) until FILE contains TEXT
wait_line() {
	_i=0
	while [ $_i -lt 200 ]; do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.05; _i=$((_i + 1))
	done
	fail "no '$2' in $1: $(cat "$1" 2>/dev/null)"
	return 1
}

# jget PATH: the scalar at PATH in the JSON on stdin, strings unquoted
# ("true", "42", "enforce"); nothing if PATH is absent.  PATH is jq-like:
# .layers.lsm_cgroup.available, .[0].egress.pass.packets.  A small
# tokenizer, not a grep, so key order and whitespace do not matter.
jget() {
	awk -v want="$1" '
	function here(   k, p) {
		p = ""
		for (k = 1; k <= d; k++)
			p = p (t[k] == "o" ? "." key[k] : "[" idx[k] "]")
		return p
	}
	function value(v) { if (here() == want) { print v; found = 1; exit } }
	BEGIN { RS = "\001"; sub(/^\.\[/, "[", want) }
	{
		s = $0; n = length(s); i = 1; d = 0
		while (i <= n) {
			c = substr(s, i, 1)
			if (c == "{") { d++; t[d] = "o"; isk[d] = 1; i++ }
			else if (c == "[") { d++; t[d] = "a"; idx[d] = 0; i++ }
			else if (c == "}" || c == "]") { d--; i++ }
			else if (c == ",") { if (t[d] == "o") isk[d] = 1; else idx[d]++; i++ }
			else if (c == "\"") {
				v = ""; i++
				while (i <= n && (c = substr(s, i, 1)) != "\"") {
					if (c == "\\") { i++; c = substr(s, i, 1) }
					v = v c; i++
				}
				i++
				if (t[d] == "o" && isk[d]) { key[d] = v; isk[d] = 0 }
				else value(v)
			}
			else if (c ~ /[-0-9a-z]/) {
				v = ""
				while (i <= n && (c = substr(s, i, 1)) ~ /[-+.0-9a-zA-Z]/) { v = v c; i++ }
				value(v)
			}
			else i++	# blanks and ":"
		}
	}'
}

# stat_get CGROUP DIR RESULT FIELD: one counter from `cgguard stats --json`
stat_get() { "$CGG" stats --json --cgroup "$1" | jget ".[0].$2.$3.$4"; }

# write_policy FILE <<EOF ... EOF (just cat, named for readability)
write_policy() { cat > "$1"; }
