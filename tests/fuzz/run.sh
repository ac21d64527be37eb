#!/bin/bash
# Runs the libFuzzer harnesses on the committed corpora: tests/fuzz/run.sh SECONDS [NAME...]
# (names: policy config ctl oci; default all).  Each harness runs SECONDS seconds with
# -timeout=1 (an input slower than 1 s is a failure) and leak detection on; inputs it finds
# go to a scratch directory, never into the repository.  Fails on any crash, leak, timeout
# or sanitizer report, leaving the reproducer in the printed directory.  Prints libFuzzer's
# final "cov: ft:" line and the number of executions per harness.
set -u
cd "$(dirname "$0")/../.."
SECS=${1:-60}; shift
names=${*:-policy config ctl oci}
out=$(mktemp -d /tmp/cgguard-fuzz.XXXXXX)
rc=0
for n in $names; do
	bin=.output/fuzz/fuzz_$n
	[ -x "$bin" ] || { echo "fuzz: $bin is not built (make fuzz-build)"; exit 1; }
	mkdir -p "$out/$n/new"
	# -max_len: room for the deep-nesting and large-list seeds; -rss_limit_mb: bounded memory.
	"$bin" -max_total_time="$SECS" -timeout=1 -rss_limit_mb=2048 -max_len=262144 \
		-print_final_stats=1 -artifact_prefix="$out/$n/" \
		"$out/$n/new" "tests/fuzz/corpus/$n" > "$out/$n/log" 2>&1
	r=$?
	done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$out/$n/log" | tail -1)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$n/log")
	echo "fuzz_$n: exit $r, ${execs:-?} executions in ${SECS}s; ${done_line:-no final stats}"
	if [ $r != 0 ]; then
		rc=1
		grep -E 'ERROR|SUMMARY|Test unit written|timeout' "$out/$n/log" | head -5
		echo "fuzz_$n: log and reproducer in $out/$n"
	fi
done
[ $rc = 0 ] && rm -rf "$out"
exit $rc
