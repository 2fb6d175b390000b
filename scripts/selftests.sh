#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Host side of `make check` / `make check-debug`: boots one VM that runs
# every selftest binary (scripts/vm-tests.sh), counts the TAP results of
# each, proves the splat detector with a module that WARNs, and ends with
# one line "N passed, N failed[, N skipped]".
#
# Counting rules, per binary:
#   "ok N ..." passes, "ok N ... # SKIP ..." is skipped, "not ok N ..." fails;
#   tests announced by the plan ("1..N") but never reported (crash, timeout)
#   fail; a number reported twice counts once, and the binary fails; a
#   non-zero exit status that no "not ok" line explains is one more
#   failure; a binary without TAP output (every selftest prints its plan
#   first) fails whatever its exit status; a test that did not build, or
#   never ran, is one failure.  A kernel splat or a VM timeout is one more
#   failure.
# The detector proofs count as one test each: "splat detector" (a WARN must
# fail the run), "oops detector" (a BUG() in a kernel thread must) and,
# with -K, "leak detector" (a kmemleak report must).
#
# Usage: scripts/selftests.sh -n NAME -k KERNEL -m MODULE -s SPLAT_KO
#                             [-K] [-t VM_TIMEOUT] [-T TEST_TIMEOUT] [-a ARGS]
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
name='' kernel='' module='' splat='' kmemleak=() vm_timeout=1500 test_timeout=300 append=''
while getopts "n:k:m:s:Kt:T:a:" opt; do
	case "$opt" in
	n) name=$OPTARG ;;
	k) kernel=$OPTARG ;;
	m) module=$OPTARG ;;
	s) splat=$OPTARG ;;
	K) kmemleak=(-K) ;;
	t) vm_timeout=$OPTARG ;;
	T) test_timeout=$OPTARG ;;
	a) append=$OPTARG ;;
	*) sed -n '/^# Usage/,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
	esac
done
if [ -z "$name" ] || [ -z "$kernel" ] || [ -z "$module" ] || [ -z "$splat" ]; then
	echo "selftests: -n, -k, -m and -s are required" >&2
	exit 2
fi

out=$build/$name
mkdir -p "$out"
log=$out/console.log
report=$out/report.txt
: >"$report"
pass=0 fail=0 skip=0

# One line per binary (or check) in the report, added to the totals.
record() { # LABEL PASS FAIL SKIP NOTE
	printf '%-28s %3d passed, %d failed, %d skipped%s\n' \
		"$1" "$2" "$3" "$4" "${5:+  ($5)}" >>"$report"
	pass=$((pass + $2)) fail=$((fail + $3)) skip=$((skip + $4))
}

# --- which tests exist, which built --------------------------------------
runnable=()
for src in "$top"/selftests/*_test.c; do
	[ -e "$src" ] || continue
	t=$(basename "$src" .c)
	bin=$build/selftests/$t
	if [ -x "$bin" ] && [ "$bin" -nt "$src" ]; then
		runnable+=("$t")
	else
		record "$t" 0 1 0 "did not build"
	fi
done

# --- the selftest VM -----------------------------------------------------
echo "selftests[$name]: ${#runnable[@]} binaries on $kernel" >&2
set +e
"$top/scripts/vm-run.sh" -k "$kernel" -m "$module" -t "$vm_timeout" \
	-a "$append" -l "$log" "${kmemleak[@]+"${kmemleak[@]}"}" -- \
	"/opt/mailbox/scripts/vm-tests.sh $test_timeout ${runnable[*]}" \
	2>"$out/vm-run.err"
vm_status=$?
cat "$out/vm-run.err" >&2
set -e

# Per binary: "name pass fail skip note", from the frames vm-tests.sh printed.
tr -d '\r' <"$log" | awk '
	function flush(note) {
		if (cur == "") return
		seen[cur] = 1
		counted = p + f + s
		if (plan > counted) { f += plan - counted; note = note " " plan - counted " unreported" }
		if (dup) { note = note " " dup " reported twice"; if (f == 0) f = 1 }
		if (counted == 0 && plan <= 0) {
			f = 1
			note = note " no TAP output"
		} else if (rc != "0" && rc != "4" && f == 0) {
			f = 1
		}
		if (rc != "0") note = note " exit " rc
		if (rc == "137") note = note " (killed: timeout?)"
		printf "%s %d %d %d %s\n", cur, p, f, s, note
		cur = ""
	}
	/^MBX-TEST-BEGIN / {
		flush(" no end marker"); cur = $2; p = f = s = dup = 0; plan = -1; rc = "none"
		split("", got); next
	}
	/^MBX-TEST-END /   { if ($2 == cur) { rc = substr($3, 4); flush("") } next }
	cur == "" { next }
	/^1\.\.[0-9]+/     { plan = substr($1, 4) + 0; next }
	# A number seen before (output repeated, a child escaped into the
	# harness) must not stand in for one never reported.
	/^(not )?ok [0-9]/ { n = ($1 == "not" ? $3 : $2) + 0; if (n in got) { dup++; next } got[n] = 1 }
	/^not ok [0-9]/    { f++; next }
	/^ok [0-9]/        { if ($0 ~ /# [Ss][Kk][Ii][Pp]/) s++; else p++; next }
	END { flush(" VM ended during the test") }
' >"$out/results.txt"

for t in "${runnable[@]+"${runnable[@]}"}"; do
	if line=$(grep -m1 "^$t " "$out/results.txt"); then
		read -r _ p f s note <<<"$line"
		record "$t" "$p" "$f" "$s" "${note# }"
	else
		record "$t" 0 1 0 "never ran"
	fi
done

# The VM must have run with both vCPUs (a kernel config slip shows here).
ncpus=$(tr -d '\r' <"$log" | sed -n 's/^.*MBX-VM-[0-9a-f]* ncpus=\([0-9]*\).*$/\1/p' | head -n 1)
[ "${ncpus:-0}" -ge 2 ] || record "vm cpus" 0 1 0 "the VM saw ${ncpus:-no} CPUs, expected 2"

case $vm_status in
0) ;;
124) record "vm" 0 1 0 "VM timed out or died, see $log" ;;
125) during=$(sed -n 's/^vm-run: the first report came //p' "$out/vm-run.err" 2>/dev/null)
     record "kernel log" 0 1 0 "splat, leak or module load/unload failure${during:+ $during}, see $log" ;;
*) record "vm" 0 1 0 "runner exited $vm_status" ;;
esac

# --- prove the splat detector ----------------------------------------------
# A module that WARNs on load must make vm-run.sh fail with status 125.
set +e
"$top/scripts/vm-run.sh" -q -M -k "$kernel" -t 300 -l "$out/splat.log" \
	-f "$splat:/lib/modules/mbx_splat.ko" -- insmod /lib/modules/mbx_splat.ko \
	2>"$out/splat.err"
splat_status=$?
set -e
if [ "$splat_status" = 125 ] && grep -q 'WARNING:' "$out/splat.log"; then
	record "splat detector" 1 0 0
else
	record "splat detector" 0 1 0 "a WARN_ON did not fail the run (status $splat_status), see $out/splat.log"
fi

# A BUG() in a kernel thread (insmod itself succeeds) must fail the run:
# on 6.1 its report says neither "BUG:" nor "Oops".
set +e
"$top/scripts/vm-run.sh" -q -M -k "$kernel" -t 300 -l "$out/oops.log" \
	-f "$splat:/lib/modules/mbx_splat.ko" -- \
	"insmod /lib/modules/mbx_splat.ko warn=0 oops=1 && sleep 1" 2>"$out/oops.err"
oops_status=$?
set -e
if [ "$oops_status" = 125 ] && grep -q 'kernel BUG at' "$out/oops.log" &&
   ! grep -q 'WARNING:' "$out/oops.log"; then
	record "oops detector" 1 0 0
else
	record "oops detector" 0 1 0 "a BUG() did not fail the run (status $oops_status), see $out/oops.log"
fi

# With kmemleak, a module that leaks (and does not WARN) must fail the run
# through the leak scan alone.
if [ ${#kmemleak[@]} -gt 0 ]; then
	set +e
	"$top/scripts/vm-run.sh" -q -M -K -k "$kernel" -t 300 -l "$out/leak.log" \
		-f "$splat:/lib/modules/mbx_splat.ko" -- \
		insmod /lib/modules/mbx_splat.ko warn=0 leak=1 2>"$out/leak.err"
	leak_status=$?
	set -e
	if [ "$leak_status" = 125 ] && grep -q 'unreferenced object' "$out/leak.log" &&
	   ! grep -q 'WARNING:' "$out/leak.log"; then
		record "leak detector" 1 0 0
	else
		record "leak detector" 0 1 0 "a leak did not fail the run (status $leak_status), see $out/leak.log"
	fi
fi

# --- totals ------------------------------------------------------------------
echo
echo "=== selftests on $name kernel ($(basename "$kernel")) ==="
cat "$report"
echo "$pass $fail $skip" >"$out/totals"
line="$pass passed, $fail failed"
[ "$skip" -eq 0 ] || line+=", $skip skipped"
echo "$line"
[ "$fail" -eq 0 ]
