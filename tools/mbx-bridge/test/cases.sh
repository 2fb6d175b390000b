#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The cases of scripts/bridge-tests.sh (sourced by it): each writes the
# in-VM scripts of VM a (sender, exporting bridge) and VM b (importing
# bridge, checker), starts NATS, boots the VMs and counts the checks.
# shellcheck disable=SC2016,SC2154

# script CASE NAME BODY: an in-VM script, the library sourced first.
script() {
	mkdir -p "$out/$1"
	printf '. /opt/mailbox/scripts/bridge-lib.sh\nN=%s\n%s\nfinish\n' "$msgs" "$3" >"$out/$1/$2.sh"
}

# The ledger check on VM b: strict unless $2 is -L (core: losses allowed).
LEDGER_B='out=$(mbx-ledger check DST $N 64 4 -i 60 '"${2:-}"'); rc=$?; echo "$out"
check ledger "$out" [ $rc = 0 ]'

# Wait (at most 120 s) for VM a to start sending; then run the fault.
after_sending() { # CASE
	local _
	for _ in $(seq 1 600); do
		grep -q '^PHASE sending' "$out/$1/a.log" 2>/dev/null && return 0
		sleep 0.2
	done
	return 1
}

case_core-ledger() {
	local c=core-ledger
	conf a $c core "export SRC ledger.core"
	conf b $c core "import ledger.core DST"
	script $c a 'mbx-ledger create SRC 1024 65536
bridge_start
check barrier "b subscribed" mbx-bridge await -c $CONF -- ctl.core 120
echo PHASE sending
check send "$N messages" mbx-ledger send SRC $N 64 4
check drained "exporter took all" export_drained SRC 60
sleep 2
check export-counts "received $(stat received) sent $(stat sent)" [ "$(stat received)" = $N ] && [ "$(stat sent)" = $N ]
bridge_kill TERM'
	script $c b 'mbx-ledger create DST 1024 65536
bridge_start
mbx-bridge signal -c $CONF -- ctl.core 120
out=$(mbx-ledger check DST $N 64 4 -i 30 -L); rc=$?; echo "$out"
check ledger "$out" [ $rc = 0 ]
lost=$(echo "$out" | sed -n "s/.* lost \([0-9]*\) .*/\1/p")
check loss-counted "ledger lost ${lost:-?}, bridge counted $(stat lost)" [ "${lost:-1}" = 0 -o "$(stat lost)" -gt 0 ]
bridge_kill TERM'
	nats_start 1 0
	nats_ready 0
	vm a $c
	vm b $c
	vm_wait
	collect $c barrier send drained export-counts ledger loss-counted
}

case_js-ledger() {
	local c=js-ledger
	conf a $c jetstream "export SRC ledger.js"
	conf b $c jetstream "import ledger.js DST exclusive"
	script $c a 'mbx-ledger create SRC 1024 65536
bridge_start
echo PHASE sending
check send "$N messages" mbx-ledger send SRC $N 64 4
check drained "all acked by JetStream" export_drained SRC 120
check export-counts "received $(stat received) acked $(stat acked)" [ "$(stat received)" = $N ] && [ "$(stat acked)" = $N ]
bridge_kill TERM'
	script $c b 'mbx-ledger create DST 1024 65536
bridge_start
'"$LEDGER_B"'
check import-counts "sent $(stat sent) acked $(stat acked)" [ "$(stat sent)" = $N ]
bridge_kill TERM'
	nats_start 1 0
	nats_ready 0
	vm a $c
	vm b $c
	vm_wait
	collect $c send drained export-counts ledger import-counts
}

case_js-faults() {
	local c=js-faults
	conf a $c jetstream "export SRC ledger.faults"
	conf b $c jetstream "import ledger.faults DST exclusive"
	script $c a 'mbx-ledger create SRC 1024 65536
bridge_start
echo PHASE sending
mbx-ledger send SRC $N 64 4 & sender=$!
sleep 3; bridge_kill KILL; echo "killed the exporting bridge"; bridge_start
sleep 4; bridge_kill KILL; echo "killed the exporting bridge"; bridge_start
check send "$N messages" wait $sender
check drained "all acked after 2 SIGKILLs" export_drained SRC 180
bridge_kill TERM'
	script $c b 'mbx-ledger create DST 1024 65536
bridge_start
sleep 4; bridge_kill KILL; echo "killed the importing bridge"; bridge_start
sleep 5; bridge_kill KILL; echo "killed the importing bridge"; bridge_start
'"$LEDGER_B"'
check redeliveries-dropped "deduplicated $(stat deduplicated) redelivered $(stat redelivered)" true
bridge_kill TERM'
	nats_start 1 1
	nats_start 2 1
	nats_start 3 1
	nats_ready 1
	sleep 2
	vm a $c
	vm b $c
	if after_sending $c; then
		sleep 5
		echo "bridge-tests: SIGKILL NATS node 1" >&2
		nats_stop 1 KILL
		sleep 5
		nats_start 1 1
		echo "bridge-tests: NATS node 1 restarted" >&2
	fi
	vm_wait
	collect $c send drained ledger redeliveries-dropped
}

case_backpressure() {
	local c=backpressure
	conf a $c jetstream "export SRC ledger.bp"
	conf b $c jetstream "import ledger.bp DST exclusive"
	script $c a 'mbx-ledger create SRC 1024 65536
bridge_start
echo PHASE sending
check send "2000 messages" mbx-ledger send SRC 2000 64 4
check drained "all acked" export_drained SRC 120
bridge_kill TERM'
	script $c b 'mbx-ledger create DST 16 65536
bridge_start
sleep 20
q=$(mbxctl stat DST | sed -n "s/^ *queued[: ]*\([0-9]*\).*/\1/p")
check port-full "queued $q of 16, sent $(stat sent)" [ "$q" = 16 ] && [ "$(stat sent)" = 16 ]
check no-drops "dead-lettered $(stat dead-lettered)" [ "$(stat dead-lettered)" = 0 ]
N=2000
'"$LEDGER_B"'
bridge_kill TERM'
	nats_start 1 0
	nats_ready 0
	vm a $c
	vm b $c
	vm_wait
	collect $c send drained port-full no-drops ledger
}

case_dead-letter() {
	local c=dead-letter
	conf a $c jetstream "export SRC ledger.dl"
	conf b $c jetstream "import ledger.dl DST exclusive"
	script $c a 'mbx-ledger create SRC 1024 131072
bridge_start
check barrier "b started" mbx-bridge await -c $CONF -- ctl.dl 120
check send "3 oversized, 100 good" sh -c "mbx-ledger send SRC 3 100000 1 1 && mbx-ledger send SRC 100 64 4 101"
check drained "all acked" export_drained SRC 60
bridge_kill TERM'
	script $c b 'mbx-ledger create DST 1024 65536
bridge_start
mbx-bridge signal -c $CONF -- ctl.dl 120
mbx-bridge pub -c $CONF -- ledger.dl bad-prio Mbx-Prio=99
mbx-bridge pub -c $CONF -- ledger.dl bad-tag Mbx-Tag=x1
out=$(mbx-ledger check DST 100 64 4 101 -i 30); rc=$?; echo "$out"
check ledger "$out" [ $rc = 0 ]
check dead-lettered "dead-lettered $(stat dead-lettered) (want 5)" [ "$(stat dead-lettered)" = 5 ]
check still-running "bridge alive" kill -0 "$(cat /run/bridge.pid)"
bridge_kill TERM'
	nats_start 1 0
	nats_ready 0
	vm a $c
	vm b $c
	vm_wait
	collect $c barrier send drained ledger dead-lettered still-running
}

case_unreachable() {
	local c=unreachable
	conf a $c core "export SRC x.y"
	script $c a 'mbx-ledger create SRC 16 64
err=$(mbx-bridge -c $CONF --server nats://10.0.2.100:4999 --connect-wait 3 2>&1); rc=$?
echo "$err" | tail -n 2
check no-server "exit $rc" [ $rc = 1 ] && echo "$err" | grep -q "cannot connect to NATS"
err=$(mbx-bridge -c $CONF --mode bogus 2>&1); rc=$?
check bad-config "exit $rc: $err" [ $rc = 1 ] && echo "$err" | grep -q "mode is core or jetstream"
err=$(mbx-bridge -c $CONF --export NOPORT x.z 2>&1); rc=$?
check no-port "exit $rc: $err" [ $rc = 1 ] && echo "$err" | grep -q "cannot open port"'
	printf 'server nats://10.0.2.100:4999\nmode core\nstate-dir /run/bridge\nexport SRC x.y\n' >"$out/$c/a.conf"
	vm a $c
	vm_wait
	collect $c no-server bad-config no-port
}

case_outage() {
	local c=outage
	conf a $c jetstream "export SRC ledger.out"
	conf b $c jetstream "import ledger.out DST exclusive"
	script $c a 'mbx-ledger create SRC 1024 65536
bridge_start
echo PHASE sending
check send "$N messages" mbx-ledger send SRC $N 64 4
check drained "all acked after the outage" export_drained SRC 180
check reconnected "reconnects $(mbx-bridge stats -d $STATE | sed -n "1s/.*reconnects \([0-9]*\).*/\1/p")" true
bridge_kill TERM'
	script $c b 'mbx-ledger create DST 1024 65536
bridge_start
'"$LEDGER_B"'
bridge_kill TERM'
	nats_start 1 0
	nats_ready 0
	vm a $c
	vm b $c
	if after_sending $c; then
		sleep 3
		echo "bridge-tests: NATS down for 6 s" >&2
		nats_stop 1 TERM
		sleep 6
		nats_start 1 0
	fi
	vm_wait
	collect $c send drained reconnected ledger
}
