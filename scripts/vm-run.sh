#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Run one shell command inside a throw-away QEMU VM and return its status.
#
# The initramfs holds busybox, the module at /lib/modules/mailbox.ko, the
# project's VM payload (build/examples and build/tools in /opt/mailbox/bin,
# build/selftests in /opt/mailbox/selftests, the in-VM scripts in
# /opt/mailbox/scripts, the shared libraries in /opt/mailbox/lib plus the
# host's loader and libraries that dynamic binaries need) and any extra -f
# files.  /init (scripts/vm-init.sh)
# loads the module, runs the command, and reboots.  The serial console is
# streamed to stdout and saved to the log.
#
# Exit status: the command's, unless
#   124  the VM timed out or died before reporting a result
#   125  the kernel log shows a splat (BUG, WARNING, KASAN, lockdep, leak...)
#        or the module failed to load or to unload at the end
#
# Usage: scripts/vm-run.sh [options] [--] COMMAND...
#   -k FILE       kernel image (default: Debian's stock vmlinuz, see below)
#   -m FILE       module to load at boot (default: module/mailbox.ko)
#   -M            do not load any module
#   -f SRC:DEST   add a file to the initramfs (repeatable)
#   -a ARGS       extra kernel command line (e.g. "idle=poll")
#   -t SECONDS    kill QEMU after this long (default: $VM_TIMEOUT or 600)
#   -l FILE       console log (default: build/vm/console.log)
#   -K            kmemleak scan after the command; any leak fails the run
#   -q            do not stream the console to stdout (log only)
#   -v            stream the whole console, boot messages included
#   -N ARGS       QEMU network arguments instead of "-nic none" (split on
#                 spaces; e.g. a user-mode netdev with a guestfwd)
#   -S            leave the selftests out of the initramfs (a smaller one
#                 boots faster under TCG: the bridge tests and benchmark)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}

kernel='' module=$top/module/mailbox.ko append='' log='' kmemleak=0 quiet=0 verbose=0
selftests=1
net='-nic none'
timeout_s=${VM_TIMEOUT:-600}
extra=()
while getopts "k:m:Mf:a:t:l:KqvN:S" opt; do
	case "$opt" in
	k) kernel=$OPTARG ;;
	m) module=$OPTARG ;;
	M) module= ;;
	f) extra+=("$OPTARG") ;;
	a) append=$OPTARG ;;
	t) timeout_s=$OPTARG ;;
	l) log=$OPTARG ;;
	K) kmemleak=1 ;;
	q) quiet=1 ;;
	v) verbose=1 ;;
	N) net=$OPTARG ;;
	S) selftests=0 ;;
	*) sed -n '/^# Usage/,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || { echo "vm-run: no command given" >&2; exit 2; }
cmd="$*"

# Default kernel: the one Debian's linux-image-amd64 depends on.
if [ -z "$kernel" ]; then
	kver=$(dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null |
	       sed -n 's/^linux-image-\([^ ,]*\).*/\1/p')
	kernel=/boot/vmlinuz-$kver
fi
[ -r "$kernel" ] || { echo "vm-run: kernel $kernel not readable" >&2; exit 2; }
[ -z "$module" ] || [ -r "$module" ] ||
	{ echo "vm-run: module $module missing (run make)" >&2; exit 2; }
# The initramfs is assembled elsewhere: make every host path absolute.
kernel=$(realpath "$kernel")
[ -z "$module" ] || module=$(realpath "$module")
for i in "${!extra[@]}"; do
	src=${extra[$i]%%:*}
	[ -r "$src" ] || { echo "vm-run: -f $src: not readable" >&2; exit 2; }
	extra[i]=$(realpath "$src"):${extra[$i]#*:}
done

log=${log:-$build/vm/console.log}
mkdir -p "$(dirname "$log")" "$build/vm"
log=$(cd "$(dirname "$log")" && pwd)/$(basename "$log")

# --- the initramfs -----------------------------------------------------
stage=$(mktemp -d "$build/vm/root.XXXXXX")
trap 'rm -rf "$stage"' EXIT
chmod 755 "$stage"
cd "$stage"
mkdir -p bin sbin usr/bin usr/sbin etc proc sys dev tmp root run lib/modules \
	 opt/mailbox/bin opt/mailbox/selftests opt/mailbox/scripts
# busybox and its applet links: made once per busybox binary (a few
# hundred ln calls, seconds on a loaded host) and copied in one go.
applets=$build/vm/applets-$(stat -c %Y-%s /bin/busybox)
if [ ! -d "$applets" ]; then
	tmp=$(mktemp -d "$build/vm/applets.XXXXXX")
	chmod 755 "$tmp"
	mkdir -p "$tmp/bin" "$tmp/sbin" "$tmp/usr/bin" "$tmp/usr/sbin"
	cp /bin/busybox "$tmp/bin/busybox"
	(cd "$tmp" && for applet in $(bin/busybox --list-full); do
		[ -e "$applet" ] || ln -s /bin/busybox "$applet"
	done)
	mv -T "$tmp" "$applets" 2>/dev/null || rm -rf "$tmp"
fi
cp -a "$applets/." .
# cp -a gives the root the cached folder's mode: every user must enter it.
chmod 755 .
# The kernel opens /dev/console before /init runs (devtmpfs comes later).
mknod -m 600 dev/console c 5 1 2>/dev/null || true
cp "$top/scripts/vm-init.sh" init
chmod 755 init

cat >etc/passwd <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
mbxuser:x:1000:1000:mailbox test user:/tmp:/bin/sh
mbxother:x:1001:1001:mailbox second test user:/tmp:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat >etc/group <<'GROUP'
root:x:0:
mbxuser:x:1000:
mbxother:x:1001:
nogroup:x:65534:
GROUP
echo "mbx-vm" >etc/hostname

# Project payload: whatever has been built.  Binaries are static.
copy_dir() { # SRC_DIR DEST_DIR
	local f
	[ -d "$1" ] || return 0
	for f in "$1"/*; do
		[ -f "$f" ] && [ -x "$f" ] && cp "$f" "$2/"
	done
	return 0
}
copy_dir "$build/examples" opt/mailbox/bin
copy_dir "$build/tools" opt/mailbox/bin
[ "$selftests" = 0 ] || copy_dir "$build/selftests" opt/mailbox/selftests
# The shared libraries, for the dynamically linked tests (LD_PRELOAD of
# libmailbox-mq): ours in /opt/mailbox/lib, and the loader and C library
# where ldd finds them on the host.
mkdir -p opt/mailbox/lib
for f in "$build"/libmailbox*.so.1; do
	[ ! -f "$f" ] || cp "$f" opt/mailbox/lib/
done
for f in opt/mailbox/selftests/* opt/mailbox/bin/* opt/mailbox/lib/*; do
	[ -f "$f" ] || continue
	libs=$(ldd "$f" 2>/dev/null | grep -o '/[^ ]*' || true)
	for lib in $libs; do
		[ -e ".$lib" ] || { mkdir -p ".$(dirname "$lib")" && cp -L "$lib" ".$lib"; }
	done
done
# glibc loads libgcc_s when it unwinds a cancelled thread (ldd cannot see it).
# awk reads to the end: an early exit could kill ldconfig with SIGPIPE,
# which pipefail would make this script's status.
gcc_s=$(ldconfig -p 2>/dev/null |
	awk '/libgcc_s\.so\.1 .*x86-64/ && !f { print $NF; f = 1 }')
if [ -n "$gcc_s" ] && [ ! -e ".$gcc_s" ]; then
	mkdir -p ".$(dirname "$gcc_s")" && cp -L "$gcc_s" ".$gcc_s"
fi
cp "$top/scripts/vm-tests.sh" opt/mailbox/scripts/
[ ! -f "$top/examples/demo.sh" ] || cp "$top/examples/demo.sh" opt/mailbox/scripts/
chmod 755 opt/mailbox/scripts/*

modname=
if [ -n "$module" ]; then
	cp "$module" lib/modules/mailbox.ko
	modname=$(basename "$module" .ko)
	modname=${modname//-/_}
fi
for spec in "${extra[@]+"${extra[@]}"}"; do
	src=${spec%%:*} dest=${spec#*:}
	[ "$src" != "$spec" ] || { echo "vm-run: -f wants SRC:DEST, got $spec" >&2; exit 2; }
	mkdir -p "./$(dirname "$dest")"
	cp "$src" "./$dest"
done

# A marker nobody prints by accident: the run's result line carries it.
mark="MBX-VM-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
cat >etc/mbx.conf <<CONF
MBX_MARK=$mark
MBX_MODULE=${module:+/lib/modules/mailbox.ko}
MBX_MODULE_NAME=$modname
MBX_KMEMLEAK=$kmemleak
CONF
printf '%s\n' "$cmd" >etc/mbx-cmd

initrd=$build/vm/initrd.$$.cpio
find . -print0 | LC_ALL=C sort -z | cpio -o -0 -H newc --quiet -R 0:0 >"$initrd"
cd "$top"
rm -rf "$stage"
trap 'rm -f "$initrd"' EXIT

# --- boot ---------------------------------------------------------------
read -ra netargs <<<"$net"
qemu=(qemu-system-x86_64 -accel tcg -cpu max -m 1024 -smp 2
      -nographic -monitor none -no-reboot "${netargs[@]}"
      -kernel "$kernel" -initrd "$initrd"
      -append "console=ttyS0 quiet panic=-1 reboot=t $append")
start=$SECONDS
set +e
if [ "$quiet" = 1 ]; then
	timeout -k 5 "$timeout_s" "${qemu[@]}" </dev/null >"$log" 2>&1
	qrc=$?
else
	# Stream from /init's first line on, without the dmesg replay at the
	# end (the log keeps everything; -v streams everything).
	timeout -k 5 "$timeout_s" "${qemu[@]}" </dev/null 2>&1 | tee "$log" |
		awk -v mark="$mark" -v all="$verbose" '
			{ sub(/\r$/, ""); gsub(/\033(\[[0-9;?]*[A-Za-z]|c)/, "") }
			all { print; fflush(); next }
			index($0, mark " ncpus=") { on = 1 }
			index($0, mark " dmesg (") { on = 0 }
			on { print; fflush() }
			index($0, mark " dmesg end") { on = 1 }'
	qrc=${PIPESTATUS[0]}
fi
set -e
elapsed=$(( SECONDS - start ))

# --- verdict -------------------------------------------------------------
clean=$(tr -d '\r' <"$log")
status=0
result=$(printf '%s\n' "$clean" | sed -n "s/^.*$mark exit=\([0-9]*\).*$/\1/p" | tail -n 1)

# Kernel reports that fail the run wherever they appear in the console.
splat_re='BUG:|WARNING:|Oops|KASAN:|UBSAN:|general protection fault|Kernel panic'
# Oopses that say neither "BUG:" nor "Oops" on 6.1 ("kernel BUG at f.c:1!",
# "invalid opcode: 0000 [#1] ...", "divide error: 0000 [#1] ..."), the end
# marker of every WARN and oops, SLUB's own reports ("BUG kmalloc-64
# (Not tainted): Poison overwritten") and the hard-lockup watchdog.
# Bracket expressions, no backslashes: awk -v below would eat them.
splat_re+='|kernel BUG at|: [0-9a-f][0-9a-f][0-9a-f][0-9a-f] [[]#[0-9]+[]]|---[[] end trace'
splat_re+='|BUG [^ ]+ [(](Not tainted|Tainted: )|hard LOCKUP'
splat_re+='|possible circular locking|inconsistent lock state|possible recursive locking'
splat_re+='|INFO: |blocked for more than|hung_task|unreferenced object'
# kmemleak failures that blind it count; "Cannot allocate a scan area"
# (it then scans the whole object) is what fault injection provokes.
splat_re+='|kmemleak: .*(suspected memory leak|disabled|Cannot allocate a kmemleak_object)'
splat_re+="|$mark (FAILURE|insmod .* failed|kmemleak requested)"
splats=$(printf '%s\n' "$clean" | grep -E -- "$splat_re" || true)

if [ -n "$splats" ]; then
	echo "vm-run: kernel splat or module failure in $log:" >&2
	# No reader here stops early: the writer would die of SIGPIPE, and
	# pipefail would make that this script's status (141, not 125).
	printf '%s\n' "$splats" | sed -n '1,20s/^/vm-run:   /p' >&2
	# Name the selftest that was running (scripts/vm-tests.sh frames).
	during=$(printf '%s\n' "$clean" | awk -v re="$splat_re" '
		/^MBX-TEST-BEGIN / { t = $2 } /^MBX-TEST-END / { t = "" }
		$0 ~ re && !f { print (t == "" ? "outside any selftest" : "during " t); f = 1 }')
	echo "vm-run: the first report came ${during:-outside any selftest}" >&2
	status=125
elif [ -z "$result" ]; then
	if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
		echo "vm-run: TIMEOUT after ${timeout_s}s, VM killed (log: $log)" >&2
	else
		echo "vm-run: VM ended (qemu status $qrc) without a result (log: $log)" >&2
	fi
	status=124
else
	status=$result
fi
echo "vm-run: command exited ${result:-?}, run status $status, ${elapsed}s (log: $log)" >&2
exit "$status"
