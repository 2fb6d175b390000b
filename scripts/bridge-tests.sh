#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Host side of `make check-bridge` and `make soak-bridge`: real nats-server
# processes on 127.0.0.1 and, per case, two QEMU VMs (each a machine with
# the module loaded and an mbx-bridge running) that reach NATS through
# QEMU user networking forwarded to the host's loopback, and nothing else.
# Each case is bounded in messages and seconds; the in-VM scripts print
# "BRIDGE-CHECK NAME ok|FAIL" lines, counted here; an expected check that
# never printed (VM died, timed out) fails, and so does a VM that vm-run.sh
# reports timed out (124) or with a kernel splat or a module that failed
# to load or unload (125), as one more check "CASE/vm-NAME".  build/bridge/totals gets
# "PASSED FAILED SKIPPED" and build/bridge/report.txt a line per check.
# Up to JOBS cases run at once, each with its own NATS servers on its own
# loopback ports and its own directory build/bridge/CASE.
#
# Usage: scripts/bridge-tests.sh [-n MESSAGES] [-t VM_TIMEOUT] [-j JOBS] [CASE...]
#   cases: js-faults fanout outage core-faults flow rpc core-ledger big
#          journal restream name pull seen config (the default) and js-ledger
#          (soak-bridge)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
out=$build/bridge
msgs=10000 vm_timeout=300 jobs=2
while getopts "n:t:j:" opt; do
	case "$opt" in
	n) msgs=$OPTARG ;;
	t) vm_timeout=$OPTARG ;;
	j) jobs=$OPTARG ;;
	*) sed -n '/^# Usage/,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
cases=("$@")
# Longest first, so that the short ones fill in beside them.
# js-ledger is left out: fanout and outage are JetStream ledgers too.
[ ${#cases[@]} -gt 0 ] || cases=(js-faults fanout outage core-faults flow rpc core-ledger big journal restream name pull seen config)

rm -rf "$out"
mkdir -p "$out"
report=$out/report.txt
: >"$report"
kver=$(dpkg-query -W -f='${Depends}' linux-image-amd64 | sed -n 's/^linux-image-\([^ ,]*\).*/\1/p')
e1000=$(modinfo -k "$kver" -n e1000)
bridge=$build/tools/mbx-bridge
# Ports on the host loopback: a base per run, ten per case (set by
# run_case: three NATS nodes and their cluster ports).
run_base=$((20000 + ($$ % 400) * 100))
base=$run_base
nats_pids=()

record() { # NAME ok|FAIL DETAIL: into the case's own report
	printf '%-34s %-4s %s\n' "$1" "$2" "$3" >>"$out/${1%%/*}/report"
}

# --- NATS on the loopback -------------------------------------------------
nats_start() { # NODE CLUSTERED(0|1) [CONFIG_FILE]
	local n=$1 dir=$out/$case/nats$1 args=()
	mkdir -p "$dir"
	[ -z "${3:-}" ] || args=(-c "$3")
	if [ "$2" = 1 ]; then
		local routes=() i
		for i in 1 2 3; do
			[ "$i" = "$n" ] || routes+=("nats://127.0.0.1:$((base + 5 + i))")
		done
		args+=(-n "n$n" --cluster_name mbx -cluster "nats://127.0.0.1:$((base + 5 + n))"
		      -routes "$(IFS=,; echo "${routes[*]}")")
	fi
	nats-server -a 127.0.0.1 -p $((base + n)) -js -sd "$dir" --no_advertise \
		"${args[@]}" >>"$dir/log" 2>&1 &
	nats_pids[n]=$!
}

nats_stop() { # NODE [SIGNAL]
	local pid=${nats_pids[$1]:-}
	[ -n "$pid" ] || return 0
	kill "-${2:-TERM}" "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	nats_pids[$1]=
}

nats_all_stop() {
	local i
	for i in 1 2 3; do nats_stop "$i"; done
}
trap nats_all_stop EXIT

# Wait until node 1 answers (and, clustered, JetStream has a leader).
nats_ready() {
	local i
	for i in $(seq 1 100); do
		if (exec 3<>/dev/tcp/127.0.0.1/$((base + 1))) 2>/dev/null; then
			[ "$1" = 0 ] && return 0
			grep -q 'JetStream cluster new metadata leader' "$out/$case"/nats*/log 2>/dev/null && return 0
		fi
		sleep 0.2
	done
	return 1
}

# --- the VMs ------------------------------------------------------------------
files=()
vm_files() {
	local lib
	files=(-f "$e1000:/lib/modules/net/e1000.ko"
	       -f "$top/tools/mbx-bridge/test/vm-net.sh:/opt/mailbox/scripts/vm-net.sh"
	       -f "$top/tools/mbx-bridge/test/lib.sh:/opt/mailbox/scripts/bridge-lib.sh")
	for lib in $(ldd "$bridge" | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p'); do
		files+=(-f "$lib:/lib/x86_64-linux-gnu/$(basename "$lib")")
	done
	files+=(-f "/lib64/ld-linux-x86-64.so.2:/lib64/ld-linux-x86-64.so.2")
}

net_args() {
	local i fwd=""
	for i in 1 2 3; do
		# cmd: runs once per guest connection, so reconnects work
		# (the -tcp: form connects once, at QEMU's start).
		printf '#!/bin/sh\nexec socat - TCP:127.0.0.1:%s\n' $((base + i)) >"$out/$case/fwd$i.sh"
		chmod 755 "$out/$case/fwd$i.sh"
		fwd+=",guestfwd=tcp:10.0.2.10$((i - 1)):4222-cmd:$out/$case/fwd$i.sh"
	done
	echo "-netdev user,id=n0,restrict=on$fwd -device e1000,netdev=n0,romfile="
}

# vm NAME CASE: boot one VM of a case in the background.
vm_pids=() vm_names=()
vm() {
	local name=$1 c=$2 dir=$out/$2
	# no_timer_check: a starved TCG guest can fail the IO-APIC timer check.
	"$top/scripts/vm-run.sh" -q -S -a no_timer_check -t "$vm_timeout" -l "$dir/$name.log" -N "$(net_args)" \
		"${files[@]}" -f "$dir/$name.sh:/etc/case.sh" -f "$dir/$name.conf:/etc/bridge.conf" \
		-- "MBX_VM_NAME=$name sh /etc/case.sh" 2>"$dir/$name.err" &
	vm_pids+=($!)
	vm_names+=("$name")
}

vm_wait() {
	local i rc log
	for i in "${!vm_pids[@]}"; do
		rc=0
		wait "${vm_pids[i]}" || rc=$?
		log="$out/$case/${vm_names[i]}.log"
		case $rc in
		124) record "$case/vm-${vm_names[i]}" FAIL "VM timed out (see $log)" ;;
		125) record "$case/vm-${vm_names[i]}" FAIL "kernel splat, or the module failed to load or unload (see $log)" ;;
		esac
	done
	vm_pids=() vm_names=()
}

# Count the case's checks from the consoles; expected ones never printed fail.
collect() { # CASE EXPECTED_CHECK...
	local c=$1 line name verdict detail
	shift
	for name in "$@"; do
		line=$(cat "$out/$c"/*.log | tr -d '\r' | grep -m1 "^BRIDGE-CHECK $name " || true)
		if [ -z "$line" ]; then
			record "$c/$name" FAIL "never reported (see $out/$c/*.log)"
			continue
		fi
		read -r _ _ verdict detail <<<"$line"
		# Only "ok" and "FAIL" are counted below: anything else (a line
		# a kernel message cut into) would be neither.
		case $verdict in
		ok|FAIL) ;;
		*) detail="unreadable verdict: $verdict $detail" verdict=FAIL ;;
		esac
		record "$c/$name" "$verdict" "$detail"
	done
}

# conf NAME CASE MODE ROUTE...: a bridge config file for VM NAME.
conf() {
	local name=$1 c=$2 mode=$3 r
	shift 3
	mkdir -p "$out/$c"
	{
		echo "# $c, VM $name"
		echo "server nats://10.0.2.100:4222"
		[ "$c" != js-faults ] || printf 'server nats://10.0.2.101:4222\nserver nats://10.0.2.102:4222\nreplicas 3\n'
		echo "mode $mode"
		echo "name $name"
		echo "state-dir /run/bridge"
		echo "ack-wait 5"
		echo "connect-wait 30"
		for r in "$@"; do echo "$r"; done
	} >"$out/$c/$name.conf"
}

. "$top/tools/mbx-bridge/test/cases.sh"

# run_case INDEX CASE: one case, in a subshell of its own.
run_case() {
	local t0=$SECONDS
	case=$2
	base=$((run_base + $1 * 10))
	mkdir -p "$out/$case"
	: >"$out/$case/report"
	trap nats_all_stop EXIT
	echo "bridge-tests: case $case (NATS ports $((base + 1))-$((base + 8)))" >&2
	"case_$case"
	nats_all_stop
	echo "bridge-tests: case $case took $((SECONDS - t0)) s" >&2
}

vm_files
start=$SECONDS
running=0 i=0
for c in "${cases[@]}"; do
	if [ "$running" -ge "$jobs" ]; then
		wait -n || true
		running=$((running - 1))
	fi
	(run_case "$i" "$c") &
	running=$((running + 1)) i=$((i + 1))
done
wait || true

for c in "${cases[@]}"; do
	if [ -s "$out/$c/report" ]; then
		cat "$out/$c/report" >>"$report"
	else
		record "$c/run" FAIL "the case reported nothing"
		cat "$out/$c/report" >>"$report"
	fi
done
pass=$(grep -c '^[^ ]* *ok ' "$report" || true)
fail=$(grep -c '^[^ ]* *FAIL ' "$report" || true)
skip=0

echo
echo "=== bridge tests ($msgs ledger messages, $jobs cases at a time, $((SECONDS - start)) s) ==="
cat "$report"
echo "$pass $fail $skip" >"$out/totals"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
