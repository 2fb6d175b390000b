#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make harness-check`: the host side of the VM tests, on crafted consoles,
# without a VM.  A fake qemu-system-x86_64 prints a console log (the run's
# marker put in from the initramfs); scripts/vm-run.sh must give the status
# expected (0, or 125 for each kind of kernel report) and
# scripts/selftests.sh the per-binary counts expected (crashes, timeouts,
# results missing or repeated, no TAP output, kernel lines cut in).
#
# Usage: scripts/harness-check.sh
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/harness-check.XXXXXX")
trap 'rm -rf "$work"' EXIT
bad=0

# A tree with the scripts, fake kernel and modules, and empty test binaries.
mkdir -p "$work/bin" "$work/t/selftests" "$work/t/build/selftests"
cp -r "$top/scripts" "$work/t/"
touch "$work/k" "$work/m.ko" "$work/s.ko"
cat >"$work/bin/qemu-system-x86_64" <<'QEMU'
#!/bin/bash
while [ $# -gt 0 ]; do [ "$1" != -initrd ] || initrd=$2; shift; done
mark=$(cpio -i --quiet --to-stdout etc/mbx.conf <"$initrd" | sed -n 's/^MBX_MARK=//p')
cmd=$(cpio -i --quiet --to-stdout etc/mbx-cmd <"$initrd")
f=$FAKE_LOG
case $cmd in *oops=1*) f=$FAKE_DIR/oops.log ;; *mbx_splat*) f=$FAKE_DIR/warn.log ;; esac
sed "s/@MARK@/$mark/g; s/\$/\r/" "$f"
QEMU
chmod 755 "$work/bin/qemu-system-x86_64"
printf '@MARK@ ncpus=2 kernel=x\n%s\n@MARK@ exit=0\n' \
	'[    1.0] WARNING: CPU: 0 PID: 1 at mbx_splat.c:10' >"$work/warn.log"
printf '@MARK@ ncpus=2 kernel=x\n%s\n%s\n@MARK@ exit=0\n' \
	'[    1.0] kernel BUG at mbx_splat.c:42!' \
	'[    1.0] invalid opcode: 0000 [#1] PREEMPT SMP NOPTI' >"$work/oops.log"
export PATH="$work/bin:$PATH" FAKE_DIR=$work BUILD=$work/t/build

# A console: the marker line, stdin, the dmesg replay, the result.
console() { # FILE <LINES
	{ echo "@MARK@ ncpus=2 kernel=x"; cat
	  printf '@MARK@ dmesg (warnings and worse) begin\n@MARK@ dmesg end\n@MARK@ exit=0\n'; } >"$1"
}

# vm-run.sh's status for a passing test followed by LINE.
console "$work/ok.log" <<'LOG'
MBX-TEST-BEGIN a_test
1..1
ok 1 x
MBX-TEST-END a_test rc=0 secs=1
LOG
vm_status() { # LINE
	{ sed '$d' "$work/ok.log"; printf '%s\n@MARK@ exit=0\n' "$1"; } >"$work/one.log"
	FAKE_LOG=$work/one.log "$work/t/scripts/vm-run.sh" -q -k "$work/k" \
		-m "$work/m.ko" -t 30 -l "$work/one.out" -- true 2>/dev/null && return 0
	return $?
}
expect_status() { # STATUS LINE
	local st=0
	vm_status "$2" || st=$?
	if [ "$st" = "$1" ]; then
		echo "harness-check: ok   vm-run $st: $2"
	else
		echo "harness-check: FAIL vm-run gave $st, not $1: $2"
		bad=1
	fi
}
expect_status 0 '[   10.1] mailbox: loaded'
expect_status 0 '[   10.1] ------------[ cut here ]------------'
for l in 'WARNING: CPU: 0 PID: 1 at module/port.c:1 mbx_x+0x1/0x2' \
	 'kernel BUG at module/port.c:123!' \
	 'invalid opcode: 0000 [#1] PREEMPT SMP NOPTI' \
	 'divide error: 0000 [#1] PREEMPT SMP NOPTI' \
	 'Oops: general protection fault, probably for non-canonical address' \
	 'general protection fault, probably for non-canonical address 0xdead: 0000 [#1]' \
	 'BUG: kernel NULL pointer dereference, address: 0000000000000008' \
	 'BUG: KASAN: slab-use-after-free in mbx_recv+0x1/0x2' \
	 'BUG kmalloc-64 (Tainted: G           O      ): Poison overwritten' \
	 'BUG mbx_msg (Not tainted): Redzone overwritten' \
	 'UBSAN: array-index-out-of-bounds in module/port.c:10:5' \
	 'WARNING: possible circular locking dependency detected' \
	 'kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)' \
	 'unreferenced object 0xffff888003a1b2c0 (size 64):' \
	 'INFO: task foo:12 blocked for more than 60 seconds.' \
	 'rcu: INFO: rcu_preempt self-detected stall on CPU' \
	 'watchdog: BUG: soft lockup - CPU#0 stuck for 26s! [x:1]' \
	 'watchdog: Watchdog detected hard LOCKUP on cpu 1' \
	 '---[ end trace 0000000000000000 ]---' \
	 'Kernel panic - not syncing: Fatal exception' \
	 'ok 1 x[   10.1] BUG: scheduling while atomic: x/1/0x00000002'; do
	expect_status 125 "[   10.1] $l"
done

# selftests.sh's line per binary for each crafted frame.
console "$work/tests.log" <<'LOG'
MBX-TEST-BEGIN pass_test
1..2
ok 1 x.one
ok 2 x.two # SKIP not here
MBX-TEST-END pass_test rc=0 secs=1
MBX-TEST-BEGIN fail_test
1..2
ok 1 x.one
not ok 2 x.two
MBX-TEST-END fail_test rc=1 secs=1
MBX-TEST-BEGIN segv_mid_test
1..3
ok 1 x.one
MBX-TEST-END segv_mid_test rc=139 secs=1
MBX-TEST-BEGIN segv_end_test
1..1
ok 1 x.one
MBX-TEST-END segv_end_test rc=139 secs=1
MBX-TEST-BEGIN killed_test
1..2
ok 1 x.one
MBX-TEST-END killed_test rc=137 secs=300
MBX-TEST-BEGIN notap_test
MBX-TEST-END notap_test rc=0 secs=1
MBX-TEST-BEGIN notap4_test
MBX-TEST-END notap4_test rc=4 secs=1
MBX-TEST-BEGIN short_test
1..3
ok 1 x.one
MBX-TEST-END short_test rc=0 secs=1
MBX-TEST-BEGIN cut_test
1..2
ok 1 x.one
not [   12.345] mailbox: something
ok 2 x.two
MBX-TEST-END cut_test rc=1 secs=1
MBX-TEST-BEGIN twice_test
1..3
ok 1 x.one
ok 1 x.one
ok 2 x.two
MBX-TEST-END twice_test rc=0 secs=1
MBX-TEST-BEGIN noend_test
1..1
MBX-TEST-BEGIN last_test
1..2
ok 1 x.one
LOG
# NAME PASSED FAILED SKIPPED, sorted; "totals" from build/NAME/totals.
expected='cut_test 2 1 0
fail_test 1 1 0
killed_test 1 1 0
last_test 1 1 0
never_test 0 1 0
noend_test 0 1 0
notap4_test 0 1 0
notap_test 0 1 0
oops detector 1 0 0
pass_test 1 0 1
segv_end_test 1 1 0
segv_mid_test 1 2 0
short_test 1 2 0
splat detector 1 0 0
totals 13 15 1
twice_test 2 1 0
unbuilt_test 0 1 0'
for n in $(sed -n 's/^MBX-TEST-BEGIN //p' "$work/tests.log") never_test; do
	touch -d '1 hour ago' "$work/t/selftests/$n.c"
	printf '#!/bin/sh\n' >"$work/t/build/selftests/$n"
	chmod 755 "$work/t/build/selftests/$n"
done
touch "$work/t/selftests/unbuilt_test.c"
FAKE_LOG=$work/tests.log "$work/t/scripts/selftests.sh" -n x -k "$work/k" \
	-m "$work/m.ko" -s "$work/s.ko" -t 30 >"$work/out" 2>/dev/null || true
got=$(sed -n 's/  *\([0-9][0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped.*$/ \1 \2 \3/p' \
	"$work/t/build/x/report.txt"; echo "totals $(cat "$work/t/build/x/totals")")
got=$(LC_ALL=C sort <<<"$got")
if [ "$got" = "$expected" ]; then
	echo "harness-check: ok   selftests.sh counts"
else
	echo "harness-check: FAIL selftests.sh counts (expected, got):"
	diff <(echo "$expected") <(echo "$got") | sed 's/^/harness-check:   /'
	cat "$work/t/build/x/report.txt"
	bad=1
fi

# bridge-tests.sh: only "ok" passes, anything else in a verdict fails.
mkdir -p "$work/br/c1"
printf '%s\n' 'BRIDGE-CHECK send ok 10 sent' \
	'BRIDGE-CHECK ledger FA[   33.1] e1000: eth0 NIC Link is Up' \
	'BRIDGE-CHECK loss fail' >"$work/br/c1/a.log"
: >"$work/br/c1/report"
got=$(out=$work/br
      eval "$(sed -n '/^record()/,/^}/p; /^collect()/,/^}/p' "$top/scripts/bridge-tests.sh")"
      collect c1 send ledger loss gone
      echo "$(grep -c '^[^ ]* *ok ' "$out/c1/report") $(grep -c '^[^ ]* *FAIL ' "$out/c1/report")")
if [ "$got" = "1 3" ]; then
	echo "harness-check: ok   bridge-tests.sh verdicts"
else
	echo "harness-check: FAIL bridge-tests.sh verdicts: passed, failed $got, not 1 3"
	bad=1
fi

[ "$bad" -eq 0 ] && echo "harness-check: all passed"
exit "$bad"
