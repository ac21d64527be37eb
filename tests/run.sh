#!/bin/bash
# Runs cgguard's test tiers and prints one closing line:
#   "N passed, N failed, N skipped"
# Usage: tests/run.sh [unit|fuzz|bpf|integration ...]   (default: all tiers)
# A test exits 0 (pass), 77 (skip: its feature is truly missing here) or
# anything else (fail).  Under CI=true a skip counts as a failure.
set -u
cd "$(dirname "$0")/.."
O=.output/tests
tiers=${*:-unit fuzz bpf integration e2e vm}

# Tiers other than unit touch shared host state (cgroups, bpffs pins, network
# namespaces, nft tables, containers): two runs at once (two checkouts, two
# developers) would see each other's state.  Serialise them on one lock.
# (unit and fuzz touch nothing shared.)
shared=$(printf '%s\n' $tiers | grep -vx 'unit\|fuzz')
if [ "${CGGUARD_SYSTEST_LOCKED:-}" != 1 ] && [ -n "$shared" ]; then
	exec 9>/run/lock/cgguard-systest.lock
	flock 9; export CGGUARD_SYSTEST_LOCKED=1
fi
passed=0 failed=0 skipped=0 failed_names=""

run_one() { # run_one NAME CMD...
	local name=$1 rc start=$SECONDS; shift
	echo "=== $name"
	"$@"; rc=$?
	if [ $rc = 0 ]; then
		passed=$((passed + 1)); echo "--- PASS $name ($((SECONDS - start))s)"
	elif [ $rc = 77 ] && [ "${CI:-}" != true ]; then
		skipped=$((skipped + 1)); echo "--- SKIP $name"
	else
		[ $rc = 77 ] && echo "skip is a failure under CI=true"
		failed=$((failed + 1)); failed_names="$failed_names $name"
		echo "--- FAIL $name (exit $rc)"
	fi
}

for tier in $tiers; do
	case $tier in
	unit)
		run_one unit/policy $O/test_policy
		run_one unit/yamlfast $O/test_yamlfast
		run_one unit/compile $O/test_compile
		run_one unit/sandbox $O/test_sandbox
		run_one unit/nft $O/test_nft
		run_one unit/classic $O/test_classic
		run_one unit/layering tests/unit/layering.sh ;;
	fuzz)	# each libFuzzer harness for FUZZ_SECONDS (60) on the committed corpus
		for n in policy config ctl oci; do
			run_one "fuzz/$n" tests/fuzz/run.sh "${FUZZ_SECONDS:-60}" $n
		done ;;
	bpf)
		run_one bpf/verdict $O/test_verdict
		run_one bpf/explain $O/test_explain
		run_one bpf/sockfilter $O/test_sockfilter ;;
	integration)
		for t in tests/integration/*.sh; do
			run_one "integration/$(basename "$t" .sh)" "$t"
		done ;;
	e2e)
		for t in tests/e2e/*.sh; do
			case $(basename "$t") in lib.sh|mkimage.sh) continue ;; esac
			[ -e "$t" ] && run_one "e2e/$(basename "$t" .sh)" "$t"
		done ;;
	vm)
		[ -x tests/vm/run.sh ] && run_one vm/all tests/vm/run.sh ;;
	*) echo "unknown tier $tier"; exit 2 ;;
	esac
done
[ -n "$failed_names" ] && echo "failed:$failed_names"
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed = 0 ]
