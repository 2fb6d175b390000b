#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the test VM (busybox ash): every selftest binary in
# /opt/mailbox/selftests in turn, each under its own timeout, output to the
# console.  Each run is framed by MBX-TEST-BEGIN/END lines that the host
# (scripts/selftests.sh) uses to attribute TAP lines and exit statuses.
# A test that unloaded the module gets it reloaded before the next one.
#
# Usage: vm-tests.sh [TIMEOUT_SECONDS [TEST_NAME...]]
# No `set -e`: one failing test must not stop the others.
set -u

dir=/opt/mailbox/selftests
module=/lib/modules/mailbox.ko
timeout_s=${1:-300}
[ $# -gt 0 ] && shift
tests="$*"
[ -n "$tests" ] || tests=$(cd "$dir" && ls)

for name in $tests; do
	echo "MBX-TEST-BEGIN $name"
	start=$(cut -d' ' -f1 /proc/uptime)
	# SIGKILL: a hung test must not be able to ignore its timeout.
	(cd /tmp && exec timeout -s KILL "$timeout_s" "$dir/$name" </dev/null)
	rc=$?
	# How long it took, for whoever trims the suite's time.
	secs=$(awk -v s="$start" '{ printf "%.1f", $1 - s }' /proc/uptime)
	echo "MBX-TEST-END $name rc=$rc secs=$secs"
	if [ -r "$module" ] && ! grep -q '^mailbox ' /proc/modules; then
		echo "# vm-tests: $name left the module unloaded, reloading it"
		insmod "$module" || echo "# vm-tests: reloading the module FAILED"
	fi
done
exit 0
