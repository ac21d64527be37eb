#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#
# `make bench`: prints cgguard's benchmark tables (see bench/README.md).
#   1. program cost under BPF_PROG_TEST_RUN  (.output/bench/bench_prog)
#   2. veth between two namespaces: none vs cgguard vs nftables (veth.sh)
#   3. established connections: cg_egress vs an empty program in the real
#      datapath, 1k and 100k rules, IPv4 and IPv6 (established.sh)
#   4. the BPF and the nft backend side by side, 1k and 100k CIDRs:
#      packets/s, TCP_RR, apply time (backends.sh)
#   5. new connections: connect() and per-packet program cost of TCP
#      connections that come and go, in the real datapath (newconn.sh)
# Builds nothing: `make bench` has built ./cgguard and bench_prog.
# Numbers are reported, never asserted.
#
# Environment: REPEAT (1000000) and RUNS (5) for part 1; ROUNDS, TCP_SECS,
# UDP_SECS, RR_SECS for part 2 (see veth.sh); SIZES, APPLY_RUNS for part 4
# (see backends.sh); PART=1 to 5 runs one.
set -u
cd "$(dirname "$0")/.." || exit 1

BENCH=.output/bench/bench_prog
PART=${PART:-all}
rc=0

if [ "$(id -u)" != 0 ]; then
	echo "bench: needs root (BPF_PROG_TEST_RUN, namespaces, cgroups)" >&2
	exit 1
fi
if [ ! -x "$BENCH" ] || [ ! -x ./cgguard ]; then
	echo "bench: $BENCH or ./cgguard missing: run 'make bench'" >&2
	exit 1
fi

start=$(date +%s)
if [ "$PART" = all ] || [ "$PART" = 1 ]; then
	"$BENCH" prog --repeat "${REPEAT:-1000000}" --runs "${RUNS:-5}" || rc=1
	echo
fi
if [ "$PART" = all ] || [ "$PART" = 2 ]; then
	./bench/veth.sh || rc=1
	echo
fi
if [ "$PART" = all ] || [ "$PART" = 3 ]; then
	./bench/established.sh || rc=1
	echo
fi
if [ "$PART" = all ] || [ "$PART" = 4 ]; then
	./bench/backends.sh || rc=1
	echo
fi
if [ "$PART" = all ] || [ "$PART" = 5 ]; then
	./bench/newconn.sh || rc=1
	echo
fi
echo "bench: done in $(( $(date +%s) - start )) s"
exit $rc
