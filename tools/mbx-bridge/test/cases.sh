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
check export-counts "received $(stat received) sent $(stat sent)" [ "$(stat received)" = $N -a "$(stat sent)" = $N ]
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
check export-counts "received $(stat received) acked $(stat acked)" [ "$(stat received)" = $N -a "$(stat acked)" = $N ]
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

# A message NATS cannot carry (a server with max_payload 16 KiB, a port
# that takes 64 KiB) is set aside in the state directory, with a notice to
# the dead-letter subject, and the messages after it flow: it once stopped
# its route for good, its publish retried forever.  On the importing side,
# a message its port (8 KiB) refuses whose dead letter (the payload and
# four headers) is over max_payload is set aside too: it was once acked
# and lost, its dead letter refused.
case_big() {
	local c=big
	conf a $c jetstream "export SRC big.js" "aside-max 1"
	conf b $c jetstream "import big.js DST exclusive" "import big.small DST3 exclusive"
	script $c a 'mbx-ledger create SRC 64 65536
bridge_start
check warned "$(grep -c "larger ones go to" /tmp/bridge.log) warning at start" grep -q "larger ones go to .*/aside" /tmp/bridge.log
check barrier "b subscribed" mbx-bridge await -c $CONF -- ctl.big 120
mbxctl send SRC one
head -c 20000 /dev/zero | tr "\\0" x | mbxctl send SRC
mbxctl send SRC two
check drained "all taken and acknowledged or set aside" export_drained SRC 60
f=$(ls $STATE/aside 2>/dev/null | head -n 1)
n=$(cat "$STATE/aside/$f" 2>/dev/null | wc -c)
check set-aside "file ${f:-none} of $n bytes, dead-lettered $(stat dead-lettered)" [ -n "$f" -a "$n" = 20000 -a "$(stat dead-lettered)" = 1 ]
# aside-max 1: 52 such messages fill it, the route then waits, in order.
for i in $(seq 1 60); do head -c 20000 /dev/zero | tr "\\0" y | mbxctl send SRC; done
mbxctl send SRC three
sleep 5
n=$(ls $STATE/aside | wc -l) b=$(cat $STATE/aside/* | wc -c)
check capped "$n files of $b bytes set aside, aside-max 1 MiB" [ "$n" -lt 61 -a "$b" -le 1048576 ]
check capped-logged "$(grep -c "holds its aside-max" /tmp/bridge.log) log lines" grep -q "holds its aside-max" /tmp/bridge.log
rm -f $STATE/aside/*
check resumed "the rest set aside once room was made" export_drained SRC 60
mbx-bridge signal -c $CONF -- ctl.big-sent 30
bridge_kill TERM'
	script $c b 'mbx-ledger create DST 64 65536
mbx-ledger create DST3 64 8192
bridge_start
mbx-bridge signal -c $CONF -- ctl.big 120
mbx-bridge await -c $CONF -- ctl.big-sent 150
m1=$(mbxctl recv DST -t 30000); m2=$(mbxctl recv DST -t 30000); m3=$(mbxctl recv DST -t 30000)
mbxctl recv DST -t 2000 >/dev/null; rc=$?
check flowed "received \"$m1\", \"$m2\", \"$m3\", then exit $rc (nothing more)" [ "$m1" = one -a "$m2" = two -a "$m3" = three -a $rc = 4 ]
mbx-bridge pub -c $CONF -- big.small "$(head -c 16300 /dev/zero | tr "\\0" z)" "Mbx-Meta=1 0 0 1 0 1 h h.0.1"
mbx-bridge pub -c $CONF -- big.small after "Mbx-Meta=1 0 0 1 0 2 h h.0.2"
m=$(mbxctl recv DST3 -t 30000)
f=$(ls $STATE/aside 2>/dev/null | grep "^import-big_small\." | head -n 1)
n=$(cat "$STATE/aside/$f" 2>/dev/null | wc -c)
check import-aside "received \"$m\"; file ${f:-none} of $n bytes, dead-lettered $(stat dead-lettered 2)" [ "$m" = after -a -n "$f" -a "$n" = 16300 -a "$(stat dead-lettered 2)" = 1 ]
check import-aside-logged "$(grep -c "dead letter to mbx.dead failed" /tmp/bridge.log) failed dead letter logged" grep -q "dead letter to mbx.dead failed: Maximum Payload" /tmp/bridge.log
bridge_kill TERM'
	printf 'max_payload: 16384\n' >"$out/$c/nats.conf"
	nats_start 1 0 "$out/$c/nats.conf"
	nats_ready 0
	vm a $c
	vm b $c
	vm_wait
	collect $c warned barrier drained set-aside capped capped-logged resumed flowed import-aside import-aside-logged
}

# A journal slot that says it holds more than a slot can (a damaged state
# directory) is dropped on recovery with a log line, and the route goes
# on: the length was once trusted, and the bridge read past the slot.
# A journal left by another version of the bridge keeps the route from
# starting: it was once made anew, and what it held lost.
case_journal() {
	local c=journal
	conf a $c jetstream "export SRC journal.js" "inflight 4"
	script $c a 'mbx-ledger create SRC 16 1024
bridge_start
mbxctl send SRC one
check drained-1 "the first message acknowledged" export_drained SRC 60
bridge_kill TERM
J=$STATE/export-SRC.journal
put() { printf "$2" | dd of=$J bs=1 seek=$1 conv=notrunc 2>/dev/null; }
# Slot 0 (at 4096): seq 1000, state FULL; its struct mbx_recv (after the
# four slots, at 4160): len 1 MiB, for slots of 1024 bytes.
put 4096 "\350\003\000\000\000\000\000\000"
put 4104 "\002\000\000\000"
put 4168 "\000\000\020\000\000\000\000\000"
bridge_start
mbxctl send SRC two
check drained-2 "a message after the damaged slot acknowledged" export_drained SRC 60
check corrupt-logged "$(grep -c "corrupt, dropped" /tmp/bridge.log) log lines, lost $(stat lost)" sh -c "grep -q \"journal slot 0 says 1048576 bytes in 1024: corrupt\" /tmp/bridge.log && [ \"$(stat lost)\" = 1 ]"
check alive "bridge running" kill -0 "$(cat /run/bridge.pid)"
err=$(timeout 30 mbx-bridge -c $CONF 2>&1); rc=$?
check one-per-state-dir "a second bridge: exit $rc: $err" sh -c "[ $rc = 1 ] && echo \"$err\" | grep -q \"in use by another mbx-bridge\""
bridge_kill TERM
# Slot 1 holding "abc" (seq 1005) not acknowledged, then another inflight:
# refused, not made anew; with the old inflight it is published.
put 4112 "\355\003\000\000\000\000\000\000"
put 4120 "\002\000\000\000"
put 4248 "\003\000\000\000\000\000\000\000"
put 4292 "\000\000\000\000"
put 5504 "abc"
sed "s/^inflight 4$/inflight 8/" $CONF >/tmp/other.conf
err=$(timeout 30 mbx-bridge -c /tmp/other.conf 2>&1); rc=$?
check geometry-kept "exit $rc: $(echo "$err" | grep -o "holds [0-9]* unacknowledged messages.*")" sh -c "[ $rc = 1 ] && echo \"$err\" | grep -q \"holds 1 unacknowledged messages\""
bridge_start
export_drained SRC 60
check republished "$(grep -c "republished 1 messages" /tmp/bridge.log) log lines" grep -q "republished 1 messages left unacknowledged" /tmp/bridge.log
bridge_kill TERM
# A receive cut short by a kill: the next two sequences armed, not filled,
# next_seq past them.  They were never used: the next message takes the
# first (core-mode importers once counted them lost).
le64() { v=$1 e=""; for _ in 1 2 3 4 5 6 7 8; do e="$e\\$(printf %03o $((v & 255)))"; v=$((v >> 8)); done; printf "$e"; }
ns=$(od -An -tu8 -j16 -N8 $J | tr -d " ")
for q in $ns $((ns + 1)); do
	i=$((q % 4))
	le64 $q | dd of=$J bs=1 seek=$((4096 + 16 * i)) conv=notrunc 2>/dev/null
	put $((4104 + 16 * i)) "\001\000\000\000"
	put $((4160 + 80 * i + 52)) "\377\377\377\377"
done
le64 $((ns + 2)) | dd of=$J bs=1 seek=16 conv=notrunc 2>/dev/null
bridge_start
mbxctl send SRC three
export_drained SRC 60
bridge_kill TERM
n2=$(od -An -tu8 -j16 -N8 $J | tr -d " ")
check unused-seqs "next_seq $ns, armed to $((ns + 2)), after one message $n2" [ "$n2" = $((ns + 1)) ]
# A journal of another version of the bridge (another magic) is not made
# anew, which would lose what it holds: the route refuses to start.
cp $J /tmp/journal.keep
put 0 "mbxxpjn0"
err=$(timeout 30 mbx-bridge -c $CONF 2>&1); rc=$?
check foreign-journal "exit $rc: $(echo "$err" | grep -o "is the journal of another version of mbx-bridge")" sh -c "[ $rc = 1 ] && echo \"$err\" | grep -q \"is the journal of another version of mbx-bridge\""
cp /tmp/journal.keep $J'
	nats_start 1 0
	nats_ready 0
	vm a $c
	vm_wait
	collect $c drained-1 drained-2 corrupt-logged alive one-per-state-dir geometry-kept republished unused-seqs foreign-journal
}

case_js-faults() {
	local c=js-faults
	conf a $c jetstream "export SRC ledger.faults"
	conf b $c jetstream "import ledger.faults DST exclusive"
	script $c a 'mbx-ledger create SRC 1024 65536
bridge_start
echo PHASE sending
mbx-ledger send SRC $N 64 4 -r $((N / 15)) & sender=$!
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

# Flow control and refusals, one VM pair: a full destination port stops
# the pulling (route 1); oversized and malformed messages (old one-field
# headers and the Mbx-Meta header: a priority out of range, an unknown
# version, a field missing) go to the dead letter while the good ones are
# delivered (route 2).
case_flow() {
	local c=flow
	conf a $c jetstream "export SRC ledger.bp" "export SRC2 ledger.dl"
	conf b $c jetstream "import ledger.bp DST exclusive" "import ledger.dl DST2 exclusive"
	script $c a 'mbx-ledger create SRC 1024 65536
mbx-ledger create SRC2 1024 131072
bridge_start
check barrier "b started" mbx-bridge await -c $CONF -- ctl.flow 120
echo PHASE sending
check send "2000 messages; 3 oversized, 100 good" sh -c "mbx-ledger send SRC 2000 64 4 && mbx-ledger send SRC2 3 100000 1 1 && mbx-ledger send SRC2 100 64 4 101"
both_drained() { export_drained SRC 120 1 && export_drained SRC2 60 2; }
check drained "all acked" both_drained
bridge_kill TERM'
	script $c b 'mbx-ledger create DST 16 65536
mbx-ledger create DST2 1024 65536
bridge_start
mbx-bridge signal -c $CONF -- ctl.flow 120
mbx-bridge pub -c $CONF -- ledger.dl bad-prio Mbx-Prio=99
mbx-bridge pub -c $CONF -- ledger.dl bad-tag Mbx-Tag=x1
mbx-bridge pub -c $CONF -- ledger.dl bad-meta-prio "Mbx-Meta=1 99 0 1 0 1 h h.0.1"
mbx-bridge pub -c $CONF -- ledger.dl bad-meta-version "Mbx-Meta=2 0 0 1 0 1 h h.0.1"
mbx-bridge pub -c $CONF -- ledger.dl bad-meta-short "Mbx-Meta=1 0 0 1 0 1 h"
out=$(mbx-ledger check DST2 100 64 4 101 -i 30); rc=$?; echo "$out"
check dl-ledger "$out" [ $rc = 0 ]
check dead-lettered "dead-lettered $(stat dead-lettered 2) (want 8)" [ "$(stat dead-lettered 2)" = 8 ]
# A message stored twice under one id (an exporter republishing past the
# duplicate window of the stream): sent once, in a later pull or the same.
mbx-bridge pub -c $CONF -- ledger.dl copy1 "Mbx-Meta=1 0 0 1 0 7 h x.0.1"
c1=$(mbxctl recv DST2 -t 30000)
mbx-bridge pub -c $CONF -- ledger.dl copy1 "Mbx-Meta=1 0 0 1 0 7 h x.0.1"
mbx-bridge pub -c $CONF -- ledger.dl copy2 "Mbx-Meta=1 0 0 1 0 8 h x.0.1"
mbx-bridge pub -c $CONF -- ledger.dl copy2 "Mbx-Meta=1 0 0 1 0 8 h x.0.1"
mbx-bridge pub -c $CONF -- ledger.dl end "Mbx-Meta=1 0 0 1 0 9 h x.0.1"
c2=$(mbxctl recv DST2 -t 30000); c3=$(mbxctl recv DST2 -t 30000)
mbxctl recv DST2 -t 2000 >/dev/null; rc=$?
check republished "received \"$c1\", \"$c2\", \"$c3\", then exit $rc; deduplicated $(stat deduplicated 2)" [ "$c1" = copy1 -a "$c2" = copy2 -a "$c3" = end -a $rc = 4 -a "$(stat deduplicated 2)" -ge 2 ]
check still-running "bridge alive" kill -0 "$(cat /run/bridge.pid)"
sleep 8
q=$(mbxctl stat DST | sed -n "s/^ *queued[: ]*\([0-9]*\).*/\1/p")
check port-full "queued $q of 16, sent $(stat sent 1)" [ "$q" = 16 -a "$(stat sent 1)" = 16 ]
check no-drops "dead-lettered $(stat dead-lettered 1)" [ "$(stat dead-lettered 1)" = 0 ]
N=2000
'"$LEDGER_B"'
bridge_kill TERM'
	nats_start 1 0
	nats_ready 0
	vm a $c
	vm b $c
	vm_wait
	collect $c barrier send drained dl-ledger dead-lettered republished still-running port-full no-drops ledger
}

# Clear errors at start, no NATS needed (run first in rpc's VM a).
UNREACHABLE='printf "server nats://10.0.2.100:4999\nmode core\nstate-dir /run/bridge-u\nexport CALLQ x.y\n" >/tmp/u.conf
err=$(mbx-bridge -c /tmp/u.conf --connect-wait 3 2>&1); rc=$?
echo "$err" | tail -n 2
check no-server-at-start "exit $rc" sh -c "[ $rc = 1 ] && echo \"$err\" | grep -q \"cannot connect to NATS\""
err=$(mbx-bridge -c /tmp/u.conf --mode bogus 2>&1); rc=$?
check bad-config "exit $rc: $err" sh -c "[ $rc = 1 ] && echo \"$err\" | grep -q \"mode is core or jetstream\""
err=$(mbx-bridge -c /tmp/u.conf --export NOPORT x.z 2>&1); rc=$?
check no-port "exit $rc: $err" sh -c "[ $rc = 1 ] && echo \"$err\" | grep -q \"cannot open port\""'

# JetStream, the only server stopped for 6 s while the sender is paced over
# about 10 s, so that the outage always comes mid-run (unpaced, a quiet host
# had taken all 3 000 before it, and mid-run failed).
case_outage() {
	local c=outage
	conf a $c jetstream "export SRC ledger.out"
	conf b $c jetstream "import ledger.out DST exclusive"
	script $c a 'mbx-ledger create SRC 1024 65536
bridge_start
echo PHASE sending
check send "$N messages in about 10 s" mbx-ledger send SRC $N 64 4 -r $((N / 10))
check drained "all acked after the outage" export_drained SRC 180
taken=$(sed -n "s/.*publishing paused: .*; \([0-9]*\) messages taken so far.*/\1/p" /tmp/bridge.log | head -n 1)
check mid-run "paused after ${taken:-?} of $N messages taken, $(grep -c "publishing resumed" /tmp/bridge.log) resumes" [ "${taken:-$N}" -lt $N ] && grep -q "publishing resumed" /tmp/bridge.log
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
		sleep 1
		echo "bridge-tests: NATS down for 6 s" >&2
		nats_stop 1 TERM
		sleep 6
		nats_start 1 0
	fi
	vm_wait
	collect $c send drained mid-run reconnected ledger
}

# Core mode under faults: the only NATS server SIGKILLed for 4 s, the
# exporting and the importing bridge SIGKILLed and restarted once each, all
# mid-run: every loss the ledger sees must be counted by the importer.
case_core-faults() {
	local c=core-faults
	conf a $c core "export SRC ledger.cout"
	conf b $c core "import ledger.cout DST"
	script $c a 'mbx-ledger create SRC 1024 65536
bridge_start
check barrier "b subscribed" mbx-bridge await -c $CONF -- ctl.cout 120
echo PHASE sending
mbx-ledger send SRC $N 64 4 -r $((N / 10)) & sender=$!
sleep 7; bridge_kill KILL; echo "killed the exporting bridge"; bridge_start
check send "$N messages in about 10 s" wait $sender
check drained "exporter took all" export_drained SRC 120
sleep 2
check export-counts "received $(stat received) sent $(stat sent) lost $(stat lost)" [ "$(stat received)" = $N ]
bridge_kill TERM'
	script $c b 'mbx-ledger create DST 1024 65536
bridge_start
mbx-bridge signal -c $CONF -- ctl.cout 120
(sleep 9; bridge_kill KILL; echo "killed the importing bridge"; bridge_start) &
out=$(mbx-ledger check DST $N 64 4 -i 30 -L); rc=$?; echo "$out"
wait
check ledger "$out" [ $rc = 0 ]
lost=$(echo "$out" | sed -n "s/.* lost \([0-9]*\) .*/\1/p")
check loss-counted "ledger lost ${lost:-?}, bridge counted $(stat lost), reconnects $(mbx-bridge stats -d $STATE | sed -n "1s/.*reconnects \([0-9]*\).*/\1/p")" [ "${lost:-x}" = "$(stat lost)" ]
check loss-logged "$(grep -c "lost (core mode)" /tmp/bridge.log) log lines for the gaps" sh -c "[ \"${lost:-0}\" = 0 ] || grep -q \"lost (core mode)\" /tmp/bridge.log"
bridge_kill TERM'
	nats_start 1 0
	nats_ready 0
	vm a $c
	vm b $c
	if after_sending $c; then
		sleep 2
		echo "bridge-tests: NATS down for 4 s (core mode)" >&2
		nats_stop 1 KILL
		sleep 4
		nats_start 1 0
	fi
	vm_wait
	collect $c barrier send drained export-counts ledger loss-counted loss-logged
}

case_rpc() {
	local c=rpc
	conf a $c core "call CALLQ rpc.svc CALLR" "call CALLN rpc.none CALLNR" "call-timeout 3000"
	conf b $c core "serve SVC rpc.svc SVCR" "call-timeout 3000"
	script $c a 'for p in CALLQ CALLR CALLN CALLNR; do mbx-ledger create $p 64 4096; done
'"$UNREACHABLE"'
bridge_start
check barrier "b serving" mbx-bridge await -c $CONF -- ctl.rpc 120
out=$(mbx-ledger call CALLQ CALLR 200 5000); rc=$?
check calls "$out" [ $rc = 0 ]
t0=$(date +%s)
out=$(mbx-ledger call CALLQ CALLR 1 4000 5000)
check timeout "$out (server answers after 5 s, call-timeout 3 s)" sh -c "echo \"$out\" | grep -q \"ok 0 bad 0 timeouts 1\""
out=$(mbx-ledger call CALLQ CALLR 50 5000); rc=$?
check after-timeout "$out (the late reply answered nothing)" [ $rc = 0 ]
out=$(mbx-ledger call CALLN CALLNR 1 2000)
check no-server "$out" sh -c "echo \"$out\" | grep -q \"timeouts 1\""
check timeouts-counted "call routes: timeouts $(stat timeouts 1) and $(stat timeouts 2), sent $(stat sent 1)" [ "$(stat timeouts 1)" = 1 -a "$(stat timeouts 2)" = 1 -a "$(stat sent 1)" = 250 ]
check timeout-logged "$(grep -c "no reply within" /tmp/bridge.log) log lines" grep -q "no server answers the subject" /tmp/bridge.log
# A request asking for its reply on a system subject: b dead-letters it.
mbx-bridge pub -c $CONF -- -r "\$JS.API.STREAM.DELETE.X" rpc.svc forged
mbx-bridge signal -c $CONF -- ctl.rpc-done 30
# One more call while b has no server and its reply port is flooded.
mbx-bridge await -c $CONF -- ctl.flood 120
out=$(mbx-ledger call CALLQ CALLR 1 4000)
mbx-bridge signal -c $CONF -- ctl.flood-done 30
bridge_kill TERM'
	script $c b 'mbx-ledger create SVC 64 4096
mbx-ledger create SVCR 64 4096
mbx-ledger serve SVC SVCR -i 200 & server=$!
bridge_start
mbx-bridge signal -c $CONF -- ctl.rpc 120
mbx-bridge await -c $CONF -- ctl.rpc-done 200
check served "sent $(stat sent) timeouts $(stat timeouts) late replies dropped $(stat deduplicated) dead-lettered (the \$ reply) $(stat dead-lettered)" [ "$(stat sent)" = 250 -a "$(stat timeouts)" = 1 -a "$(stat deduplicated)" = 1 -a "$(stat dead-lettered)" = 1 ]
# A local user floods the reply port with replies of other tags while a
# request waits: the route gives up within call-timeout all the same (it
# once took them for as long as they came, logging each).
kill $server; wait $server	# its ports open would keep the module from unloading
mbx-ledger send SVCR 100000000 16 1 >/dev/null 2>&1 & flood=$!
mbx-bridge signal -c $CONF -- ctl.flood 60
mbx-bridge await -c $CONF -- ctl.flood-done 60
i=0
while [ "$(stat timeouts)" != 2 ] && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
n=$(stat timeouts) l=$(grep -c "dropped a late reply" /tmp/bridge.log)
kill $flood; wait $flood
check flood-bounded "timeouts $n (want 2), $l late-reply log lines, $(stat deduplicated) dropped" [ "$n" = 2 -a "$l" -le 3 ]
bridge_kill TERM'
	nats_start 1 0
	nats_ready 0
	vm a $c
	vm b $c
	vm_wait
	collect $c no-server-at-start bad-config no-port barrier calls timeout after-timeout no-server \
		timeouts-counted timeout-logged served flood-bounded
}

case_fanout() {
	local c=fanout v
	conf a $c jetstream "export SRC ledger.fan"
	script $c a 'mbx-ledger create SRC 1024 65536
bridge_start
check barrier "b and c subscribed" sh -c "mbx-bridge await -c $CONF -- ctl.fan.b 120 && mbx-bridge await -c $CONF -- ctl.fan.c 120"
echo PHASE sending
check send "$N messages" mbx-ledger send SRC $N 64 4
check drained "all acked" export_drained SRC 120
bridge_kill TERM'
	for v in b c; do
		conf $v $c jetstream "import ledger.fan DST fanout"
		script $c $v 'mbx-ledger create DST 1024 65536
bridge_start
mbx-bridge signal -c $CONF -- ctl.fan.'$v' 120
'"$LEDGER_B"'
bridge_kill TERM'
		sed -i "s/^check ledger /check ledger-$v /" "$out/$c/$v.sh"
	done
	nats_start 1 0
	nats_ready 0
	vm a $c
	vm b $c
	vm c $c
	vm_wait
	collect $c barrier send drained ledger-b ledger-c
}

# A stream deleted and made again numbers its messages from 1 again: an
# importer whose state file kept the old stream's sequences took the new
# messages for ones it had sent, and never delivered them.  One VM; the
# stream is deleted while the bridge is stopped, and made again by it;
# then deleted while it runs (its pulls failed for good: it now
# subscribes again, making the stream anew).  Then a state file left by
# another version of the bridge: once made anew, losing the record of
# what was sent, it now keeps the route from starting.
case_restream() {
	local c=restream
	conf b $c jetstream "import restream.s DST exclusive"
	script $c b 'mbxctl create DST -c 64 >/dev/null
bridge_start
for i in 1 2 3 4 5; do mbx-bridge pub -c $CONF -- restream.s old$i; done
n=$(queued DST 5 30)
check old "$n of 5 messages" [ "$n" = 5 ]
bridge_kill TERM
mbx-bridge pub -c $CONF -- -r ctl.deleted "\$JS.API.STREAM.DELETE.MBX_restream_s" ""
sleep 2		# nats-server 2.9 removes the old files meanwhile
bridge_start
for i in 1 2 3; do mbx-bridge pub -c $CONF -- restream.s new$i; done
n=$(queued DST 8 30)
check new "$n of 8 messages (3 of the new stream)" [ "$n" = 8 ]
check logged "$(grep -c "made anew" /tmp/bridge.log) notices" grep -q "made anew" /tmp/bridge.log
mbx-bridge pub -c $CONF -- -r ctl.deleted "\$JS.API.STREAM.DELETE.MBX_restream_s" ""
i=0
while [ "$(grep -c "made anew" /tmp/bridge.log)" -lt 2 ] && [ $i -lt 300 ]; do sleep 0.2; i=$((i + 1)); done
for i in 1 2 3; do mbx-bridge pub -c $CONF -- restream.s run$i; done
n=$(queued DST 11 30)
check while-running "$n of 11 messages (3 after a deletion while running)" [ "$n" = 11 ]
bridge_kill TERM
# A state file of another version of the bridge is not made anew (what it
# knows of the messages sent would go): the route refuses to start.
S=$(ls $STATE/import-*.state)
cp $S /tmp/state.keep
printf "mbximpj3" >$S
err=$(timeout 30 mbx-bridge -c $CONF 2>&1); rc=$?
check foreign-state "exit $rc: $(echo "$err" | grep -o "is the state of another version of mbx-bridge")" sh -c "[ $rc = 1 ] && echo \"$err\" | grep -q \"is the state of another version of mbx-bridge\""
cp /tmp/state.keep $S
bridge_start
mbx-bridge pub -c $CONF -- restream.s back
n=$(queued DST 12 30)
check state-kept "$n of 12 messages" [ "$n" = 12 ]
bridge_kill TERM'
	nats_start 1 0
	nats_ready 0
	vm b $c
	vm_wait
	collect $c old new logged while-running foreign-state state-kept
}

# Durable consumers and message ids are named after the bridge: a second
# bridge of the same name (another state directory) once ran and shared
# the first one's consumers.  It now refuses to start (status 3); started
# while NATS is down, whichever of the two gets back first, it stops
# within 10 s of running beside the first (status 3), the first running
# on; once the first is stopped, it starts.
case_name() {
	local c=name _
	conf b $c jetstream "import name.s DST"
	script $c b 'mbxctl create DST -c 64 >/dev/null
bridge_start
out=$(timeout 15 mbx-bridge -c $CONF --state-dir /run/bridge2 2>&1); rc=$?
check refused "exit $rc: $(echo "$out" | grep -m1 another)" sh -c "[ $rc = 3 ] && echo \"\$0\" | grep -q \"another mbx-bridge named .b. is running\"" "$out"
echo PHASE outage
i=0
while ! grep -q "state: disconnected" /tmp/bridge.log && [ $i -lt 150 ]; do sleep 0.2; i=$((i + 1)); done
mbx-bridge -c $CONF --state-dir /run/bridge2 >/tmp/second.log 2>&1 &
p2=$!
i=0
while kill -0 $p2 2>/dev/null && [ $i -lt 300 ]; do sleep 0.2; i=$((i + 1)); done
kill -TERM $p2 2>/dev/null
wait $p2; rc2=$?
check outage "second bridge exit $rc2: $(grep -m1 another /tmp/second.log)" [ $rc2 = 3 ]
check first-runs "first bridge alive" kill -0 $(cat /run/bridge.pid)
bridge_kill TERM
mbx-bridge -c $CONF --state-dir /run/bridge2 >/tmp/third.log 2>&1 &
i=0
while ! grep -q "running (" /tmp/third.log && [ $i -lt 150 ]; do sleep 0.2; i=$((i + 1)); done
check free-again "$(grep -c "running (" /tmp/third.log) routes running" grep -q "running (" /tmp/third.log
kill -TERM $! 2>/dev/null; wait $! 2>/dev/null'
	nats_start 1 0
	nats_ready 0
	vm b $c
	for _ in $(seq 1 600); do
		grep -q '^PHASE outage' "$out/$c/b.log" 2>/dev/null && break
		sleep 0.2
	done
	echo "bridge-tests: NATS down for 4 s" >&2
	nats_stop 1 TERM
	sleep 4
	nats_start 1 0
	vm_wait
	collect $c refused outage first-runs free-again
}

# The importer's JetStream pull (pull.c) on the host, no VM: 50 000
# messages pulled in batches of 1-64 with 1-3 ms waits, the traffic under
# which libnats 3.4.1's natsSubscription_Fetch() overran its batch array
# (tools/mbx-bridge/test/pull_test.c).  glibc checks the heap eagerly.
case_pull() {
	local c=pull line verdict
	nats_start 1 0
	nats_ready 0
	line=$(MALLOC_CHECK_=3 MALLOC_PERTURB_=165 timeout 150 \
		"$build/tools/mbx-bridge-pull-test" "nats://127.0.0.1:$((base + 1))" 50000 120 2>&1 |
		tail -n 1) || true
	case "$line" in
	"PULL-TEST ok "*) verdict=ok ;;
	*) verdict=FAIL ;;
	esac
	record "$c/no-overrun" "$verdict" "${line:-no output}"
}

# The importer's record of the stream sequences it sent (seen.c) on the
# host, no NATS: lost pulls, lost acks, queue-group gaps closed by the ack
# floor, the window (tools/mbx-bridge/test/seen_test.c); of the message
# ids (ids_test.c); and what core mode counts lost around a forged
# sequence (gaps_test.c).
case_seen() {
	local c=seen line verdict
	line=$(timeout 60 "$build/tools/mbx-bridge-seen-test" 2>&1 | tail -n 1) || true
	case "$line" in
	"SEEN-TEST ok "*) verdict=ok ;;
	*) verdict=FAIL ;;
	esac
	record "$c/redeliveries" "$verdict" "${line:-no output}"
	line=$(timeout 60 "$build/tools/mbx-bridge-ids-test" 2>&1 | tail -n 1) || true
	case "$line" in
	"IDS-TEST ok "*) verdict=ok ;;
	*) verdict=FAIL ;;
	esac
	record "$c/republished" "$verdict" "${line:-no output}"
	line=$(timeout 60 "$build/tools/mbx-bridge-gaps-test" 2>&1 | tail -n 1) || true
	case "$line" in
	"GAPS-TEST ok "*) verdict=ok ;;
	*) verdict=FAIL ;;
	esac
	record "$c/forged-seq" "$verdict" "${line:-no output}"
}

# Routes that would share their files in the state directory are refused
# at start (host, no VM, no NATS): two imports whose subjects are one token,
# two exports of one port.  Once they shared one state file and durable.
case_config() {
	local c=config conf=$out/config/dup.conf err rc verdict routes
	for routes in 'import a.b P1\nimport a_b P2' 'export P x.a\nexport P x.b'; do
		printf "server nats://127.0.0.1:1\nmode jetstream\nstate-dir %s\n$routes\n" \
			"$out/config/state" >"$conf"
		err=$("$build/tools/mbx-bridge" -c "$conf" 2>&1) && rc=0 || rc=$?
		verdict=FAIL
		[ "$rc" = 1 ] && echo "$err" | grep -q "would share their state" && verdict=ok
		record "$c/${routes%% *}-collide" "$verdict" "exit $rc: $(echo "$err" | tail -n 1)"
	done
	# A comment longer than 1 KiB before them: once read as two lines,
	# the second an unknown directive.  A line of nine words is refused.
	{ printf '# %02000d\n' 0; printf "server nats://127.0.0.1:1\nmode jetstream\nstate-dir %s\nexport P x.a\nexport P x.b\n" "$out/config/state"; } >"$conf"
	err=$("$build/tools/mbx-bridge" -c "$conf" 2>&1) && rc=0 || rc=$?
	verdict=FAIL
	[ "$rc" = 1 ] && echo "$err" | grep -q "would share their state" && verdict=ok
	record "$c/long-comment" "$verdict" "exit $rc: $(echo "$err" | tail -n 1)"
	printf 'server nats://127.0.0.1:1\nexport P x.a 3 4 5 6 7 8 9\n' >"$conf"
	err=$("$build/tools/mbx-bridge" -c "$conf" 2>&1) && rc=0 || rc=$?
	verdict=FAIL
	[ "$rc" = 1 ] && echo "$err" | grep -q ":2: more than 8 words" && verdict=ok
	record "$c/nine-words" "$verdict" "exit $rc: $(echo "$err" | tail -n 1)"
	# The name makes file names: no '/'.
	printf 'server nats://127.0.0.1:1\nname a/b\nexport P x.a\n' >"$conf"
	err=$("$build/tools/mbx-bridge" -c "$conf" 2>&1) && rc=0 || rc=$?
	verdict=FAIL
	[ "$rc" = 1 ] && echo "$err" | grep -q "may hold only letters" && verdict=ok
	record "$c/name-with-slash" "$verdict" "exit $rc: $(echo "$err" | tail -n 1)"
}
