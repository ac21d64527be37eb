#!/bin/bash
# Runs CMD holding the system-test lock that tests/run.sh takes for every
# tier but unit: anything that touches cgroups, bpffs pins, network
# namespaces, nft tables, containers or the VM goes through it, so that two
# checkouts on one host never test at once.  Usage: tests/locked.sh CMD...
exec 9>/run/lock/cgguard-systest.lock
flock 9
export CGGUARD_SYSTEST_LOCKED=1
exec "$@"
