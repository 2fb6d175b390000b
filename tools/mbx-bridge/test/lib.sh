#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Sourced by the in-VM scripts of the bridge tests (busybox ash): network
# set-up, starting and killing the bridge, reading its counters, and
# "BRIDGE-CHECK NAME ok|FAIL DETAIL" lines that scripts/bridge-tests.sh
# counts.
. /opt/mailbox/scripts/vm-net.sh
STATE=/run/bridge
CONF=/etc/bridge.conf
mkdir -p $STATE

check() { # NAME DETAIL COMMAND...
	n=$1 d=$2
	shift 2
	if "$@"; then echo "BRIDGE-CHECK $n ok $d"; else echo "BRIDGE-CHECK $n FAIL $d"; fi
}

# Wait (at most 30 s) for a route running: in the lines this start logs.
bridge_start() {
	l0=$(cat /tmp/bridge.log 2>/dev/null | wc -l)
	mbx-bridge -c $CONF >>/tmp/bridge.log 2>&1 &
	echo $! >/run/bridge.pid
	i=0
	while ! tail -n +$((l0 + 1)) /tmp/bridge.log | grep -q 'running (' && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

# Also when the bridge is not this shell's child (restarted in a subshell),
# which wait cannot reap: poll until it is gone or a zombie (at most 30 s),
# so that nothing holds a port when the VM unloads the module.
bridge_kill() { # SIGNAL
	pid=$(cat /run/bridge.pid)
	kill "-$1" "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	i=0
	while [ -d "/proc/$pid" ] && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null &&
	      [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

# stat KEY [ROUTE_LINE_NUMBER]: one counter of `mbx-bridge stats`.
stat() {
	mbx-bridge stats -d $STATE | sed -n "$((${2:-1} + 1))s/.* $1 \([0-9]*\).*/\1/p"
}

# Wait until the exporter (route ROUTE, default 1) has nothing taken and
# unacknowledged and PORT is empty, at most SECS seconds.
export_drained() { # PORT SECS [ROUTE]
	i=0
	while [ $i -lt $(($2 * 5)) ]; do
		q=$(mbxctl stat "$1" 2>/dev/null | sed -n 's/^ *queued[: ]*\([0-9]*\).*/\1/p')
		[ "${q:-1}" = 0 ] && [ "$(stat pending "${3:-1}")" = 0 ] && return 0
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}

# Wait (at most SECS seconds) until PORT holds N messages; print how many.
queued() { # PORT N SECS
	i=0
	while :; do
		q=$(mbxctl stat "$1" 2>/dev/null | sed -n 's/^ *queued[: ]*\([0-9]*\).*/\1/p')
		{ [ "${q:-0}" -ge "$2" ] || [ $i -ge $(($3 * 5)) ]; } && break
		sleep 0.2
		i=$((i + 1))
	done
	echo "${q:-0}"
}

finish() {
	echo "--- mbx-bridge stats on $(hostname)"
	mbx-bridge stats -d $STATE
	echo "--- last lines of the bridge log on $(hostname)"
	tail -n 25 /tmp/bridge.log
}
