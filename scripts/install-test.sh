#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make install-test`: `make install` into a temporary DESTDIR works, and
# what it installs is enough to build and run a program.
#
#  1. make install DESTDIR=$tmp PREFIX=/usr/local; every file is where it
#     belongs (module under /lib/modules/KVER/extra and in modules.dep,
#     udev rule, libmailbox.a, libmailbox.so.VERSION with its soname
#     symlinks, both headers, libmailbox.pc, mbxctl, every man page; and
#     libmailbox-mq: its archive, library, header and pkg-config file).
#  2. libmailbox.so: soname libmailbox.so.1; it exports exactly the
#     functions <mailbox.h> declares, each as NAME@@LIBMAILBOX_1.0.
#  3. examples/producer_consumer.c builds with nothing but
#     `pkg-config --cflags --libs libmailbox` (PKG_CONFIG_LIBDIR and
#     PKG_CONFIG_SYSROOT_DIR point into DESTDIR), linked dynamically and
#     statically; the headers come from DESTDIR; the dynamic program needs
#     libmailbox.so.1 and binds its mbx_* symbols at version LIBMAILBOX_1.0;
#     on the host it loads and resolves every symbol.
#  4. In the VM, from the installed files only: modprobe finds the module
#     through the staged modules.dep, both programs run (the dynamic one on
#     the installed libmailbox.so.1), the installed mbxctl passes a message.
#  5. make uninstall DESTDIR=$tmp leaves no installed file behind.
#
# Each numbered step is made of checks; the last line is
# "install-test: N passed, N failed".  The DESTDIR is removed when every
# check passed and kept for inspection otherwise.
#
# Environment (set by the Makefile): MOD_KVER (the module's kernel release),
# VERSION (the library's), VMLINUZ and KVER (the VM kernel and its release;
# step 4 is skipped without them, or when KVER is not MOD_KVER), MAKE.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/install-test
kver=${MOD_KVER:?MOD_KVER not set (run through make install-test)}
version=${VERSION:-1.0}
vmlinuz=${VMLINUZ:-}
make=${MAKE:-make}
prefix=/usr/local

rm -rf "$out"
mkdir -p "$out"
dest=$(mktemp -d "$out/destdir.XXXXXX")
work=$out/work
mkdir -p "$work"
lib=$dest$prefix/lib

pass=0 fail=0
ok() { pass=$((pass + 1)); echo "install-test: ok    $*"; }
bad() { fail=$((fail + 1)); echo "install-test: FAIL  $*"; }
# check DESCRIPTION COMMAND...: one check, passing when COMMAND succeeds.
check() {
	local what=$1
	shift
	if "$@" >>"$out/checks.log" 2>&1; then ok "$what"; else bad "$what"; fi
}

# --- 1. install ------------------------------------------------------------------
echo "install-test: make install DESTDIR=$dest PREFIX=$prefix"
if ! "$make" --no-print-directory -C "$top" install DESTDIR="$dest" PREFIX="$prefix" \
	>"$out/install.log" 2>&1; then
	cat "$out/install.log"
	bad "make install"
	echo "install-test: $pass passed, $fail failed"
	exit 1
fi
ok "make install"

for f in "lib/modules/$kver/extra/mailbox.ko" lib/udev/rules.d/60-mailbox.rules \
	 "${prefix#/}/bin/mbxctl" "${prefix#/}/lib/libmailbox.a" \
	 "${prefix#/}/lib/libmailbox.so.$version" "${prefix#/}/include/mailbox.h" \
	 "${prefix#/}/include/linux/mailbox.h" "${prefix#/}/lib/pkgconfig/libmailbox.pc" \
	 "${prefix#/}/share/man/man1/mbxctl.1" "${prefix#/}/share/man/man7/mailbox.7" \
	 "${prefix#/}/lib/libmailbox-mq.a" "${prefix#/}/lib/libmailbox-mq.so.$version" \
	 "${prefix#/}/include/mailbox/mqueue.h" "${prefix#/}/lib/pkgconfig/libmailbox-mq.pc" \
	 "${prefix#/}/share/man/man3/libmailbox-mq.3"; do
	check "installed /$f" test -f "$dest/$f"
done
check "libmailbox.so.1 -> libmailbox.so.$version" \
	test "$(readlink "$lib/libmailbox.so.1")" = "libmailbox.so.$version"
check "libmailbox.so -> libmailbox.so.1" test "$(readlink "$lib/libmailbox.so")" = libmailbox.so.1
check "libmailbox-mq.so.1 -> libmailbox-mq.so.$version" \
	test "$(readlink "$lib/libmailbox-mq.so.1")" = "libmailbox-mq.so.$version"
check "libmailbox-mq.so -> libmailbox-mq.so.1" \
	test "$(readlink "$lib/libmailbox-mq.so")" = libmailbox-mq.so.1
n_man3=$(find "$top/docs/man3" -name '*.3' | wc -l)
check "all $n_man3 man3 pages (aliases included)" \
	test "$(find "$dest$prefix/share/man/man3" -name '*.3' | wc -l)" -eq "$n_man3"
check "mbxctl is executable" test -x "$dest$prefix/bin/mbxctl"
check "modules.dep lists extra/mailbox.ko" \
	grep -q '^extra/mailbox.ko:' "$dest/lib/modules/$kver/modules.dep"
check "udev rule sets MODE for /dev/mailbox" \
	grep -q '^KERNEL=="mailbox", SUBSYSTEM=="misc", .*MODE="0[0-7]*"' \
	"$dest/lib/udev/rules.d/60-mailbox.rules"

# --- 2. soname and symbol versions -------------------------------------------------
check "SONAME libmailbox.so.1" \
	grep -q 'Library soname: \[libmailbox.so.1\]' <(readelf -d "$lib/libmailbox.so.$version")

# Functions <mailbox.h> declares (not the static inline ones; void and
# const void * ones too) against what
# the library exports.
grep -oE '^(const )?(int|ssize_t|void|void \*) *mbx_[a-z_0-9]+\(' "$top/userlib/include/mailbox.h" |
	sed -E 's/^.* *(mbx_[a-z_0-9]+)\($/\1/' | sort -u >"$work/declared"
sed -n '/^[^ \t#/]/,$p' "$top/userlib/include/mailbox.h" |
	grep -oE '^static inline [a-z_ *]*(mbx_[a-z_0-9]+)\(' |
	sed -E 's/.*(mbx_[a-z_0-9]+)\($/\1/' >"$work/inline"
nm -D --defined-only "$lib/libmailbox.so.$version" >"$work/exported"
awk '$2 == "T" || $2 == "W" || $2 == "D" || $2 == "B" || $2 == "R" { print $3 }' "$work/exported" \
	>"$work/exported.names"
check "every exported symbol is mbx_* at LIBMAILBOX_1.0 to 1.4" \
	test -z "$(grep -vE '^mbx_[a-z_0-9]*@@LIBMAILBOX_1\.[01234]$|^mbx_[a-z_0-9]*@LIBMAILBOX_1\.0$' "$work/exported.names")"
# The calls whose structs grew keep their 1.0 forms beside the 1.1 ones.
compat="mbx_call_ex mbx_recv_batch mbx_recv_ex mbx_send_batch mbx_send_ex"
check "the grown calls at LIBMAILBOX_1.1, their 1.0 forms kept" \
	diff -u <(for f in $compat; do echo "$f@@LIBMAILBOX_1.1"; echo "$f@LIBMAILBOX_1.0"; done | sort) \
		<(grep -E "^($(echo $compat | tr ' ' '|'))@" "$work/exported.names" | sort)
sed 's/@.*//' "$work/exported.names" | sort -u >"$work/exported.plain"
check "exports = functions declared in <mailbox.h> ($(wc -l <"$work/declared"))" \
	diff -u "$work/declared" "$work/exported.plain"
# mbx_notify() is 1.4's; the 1.0 wildcard exported it there for a while.
check "mbx_notify at LIBMAILBOX_1.4, its 1.0 name kept" \
	diff -u <(printf 'mbx_notify@@LIBMAILBOX_1.4\nmbx_notify@LIBMAILBOX_1.0\n' | sort) \
		<(grep -E '^mbx_notify@' "$work/exported.names" | sort)
topics="mbx_subscribe mbx_topic_recv mbx_unsubscribe"
check "the topic calls at LIBMAILBOX_1.2" \
	diff -u <(for f in $topics; do echo "$f@@LIBMAILBOX_1.2"; done) \
		<(grep -E "^($(echo $topics | tr ' ' '|'))@" "$work/exported.names" | sort)
check "no internal __mbx_* symbol exported" \
	test -z "$(grep '__mbx_' "$work/exported")"

# libmailbox-mq: the POSIX functions at glibc's versions (default
# GLIBC_2.34, compatibility GLIBC_2.3.4 and GLIBC_2.7), the extras at
# LIBMAILBOX_MQ_1.0, nothing else.
check "SONAME libmailbox-mq.so.1" \
	grep -q 'Library soname: \[libmailbox-mq.so.1\]' <(readelf -d "$lib/libmailbox-mq.so.$version")
nm -D --defined-only "$lib/libmailbox-mq.so.$version" |
	awk '$2 == "T" || $2 == "W" || $2 == "D" || $2 == "B" { print $3 }' | sort >"$work/mq.exported"
mq_fns="mq_close mq_getattr mq_notify mq_open mq_receive mq_send mq_setattr mq_timedreceive mq_timedsend mq_unlink"
{
	for f in $mq_fns __mq_open_2; do echo "$f@@GLIBC_2.34"; done
	for f in $mq_fns; do echo "$f@GLIBC_2.3.4"; done
	echo "__mq_open_2@GLIBC_2.7"
	echo "mbx_mq_port_name@@LIBMAILBOX_MQ_1.0"
	echo "mbx_mq_receive_cred@@LIBMAILBOX_MQ_1.0"
} | sort >"$work/mq.expected"
check "libmailbox-mq exports mq_* at glibc's versions and mbx_mq_*" \
	diff -u "$work/mq.expected" "$work/mq.exported"

# --- 3. build against the installed files with pkg-config only -----------------------
pc() {
	env -u PKG_CONFIG_PATH PKG_CONFIG_LIBDIR="$lib/pkgconfig" \
		PKG_CONFIG_SYSROOT_DIR="$dest" pkg-config "$@"
}
check "pkg-config --modversion libmailbox = $version" test "$(pc --modversion libmailbox)" = "$version"
# read drops pkg-config's trailing blank.
read -r cflags < <(pc --cflags libmailbox)
read -r libs < <(pc --libs libmailbox)
read -r slibs < <(pc --static --libs libmailbox)
echo "install-test: pkg-config --cflags: $cflags; --libs: $libs"
check "cflags point into DESTDIR" test "$cflags" = "-I$dest$prefix/include"
check "libs point into DESTDIR" test "$libs" = "-L$lib -lmailbox"

# The example, alone in a directory: nothing of the tree is in reach.
cp "$top/examples/producer_consumer.c" "$work/"
cd "$work" || exit 1
headers_from_dest() {
	local deps
	# shellcheck disable=SC2086 # pkg-config output is a list of words
	deps=$(cc -M $cflags producer_consumer.c) &&
		grep -q "$dest$prefix/include/mailbox.h" <<<"$deps" &&
		grep -q "$dest$prefix/include/linux/mailbox.h" <<<"$deps" &&
		! grep -qE "$top/(uapi|userlib)/" <<<"$deps"
}
check "headers come from DESTDIR" headers_from_dest
# shellcheck disable=SC2086
check "cc producer_consumer.c \$(pkg-config --cflags --libs libmailbox)" \
	cc -Wall -Wextra -Werror -o pc_dynamic producer_consumer.c $cflags $libs
# shellcheck disable=SC2086
check "cc -static producer_consumer.c \$(pkg-config --static --cflags --libs libmailbox)" \
	cc -Wall -Wextra -Werror -static -o pc_static producer_consumer.c $cflags $slibs

if [ -x pc_dynamic ]; then
	readelf -d pc_dynamic >"$work/pc_dynamic.dyn"
	check "pc_dynamic NEEDED libmailbox.so.1" grep -q 'NEEDED.*\[libmailbox.so.1\]' "$work/pc_dynamic.dyn"
	check "pc_dynamic binds mbx_port_pair@LIBMAILBOX_1.0" \
		grep -qE ' U mbx_port_pair@LIBMAILBOX_1\.0$' <(nm -D pc_dynamic)
	check "pc_dynamic needs version LIBMAILBOX_1.0 of libmailbox.so.1" \
		bash -c 'readelf -V pc_dynamic | grep -A3 "File: libmailbox.so.1" | grep -q "Name: LIBMAILBOX_1.0"'
	check "ldd finds libmailbox.so.1 in DESTDIR" \
		grep -q "libmailbox.so.1 => $lib/libmailbox.so.1 " \
		<(LD_LIBRARY_PATH=$lib ldd pc_dynamic)
	# Every symbol bound at start-up: a missing symbol or version would
	# fail here whether or not /dev/mailbox exists on this host.
	run=$(LD_BIND_NOW=1 LD_LIBRARY_PATH=$lib ./pc_dynamic 2>&1)
	rc=$?
	echo "install-test: pc_dynamic on the host: status $rc: $run"
	if [ $rc -eq 0 ] || { [ ! -e /dev/mailbox ] && [ $rc -eq 1 ] &&
	   [ "$run" = "mbx_port_pair: No such file or directory" ]; }; then
		ok "pc_dynamic loads and resolves on the host"
	else
		bad "pc_dynamic loads and resolves on the host"
	fi
else
	bad "pc_dynamic checks (not built)"
fi
if [ -x pc_static ]; then
	check "pc_static has no dynamic section" \
		grep -q 'no dynamic section' <(readelf -d pc_static 2>&1)
	check "pc_static holds mbx_port_pair" grep -qE ' T mbx_port_pair$' <(nm pc_static)
else
	bad "pc_static checks (not built)"
fi

# A plain POSIX program: linked with libmailbox-mq (dynamic and static,
# through pkg-config), and built against glibc alone to be preloaded.  It
# says whether its queue is a mailbox port.
cat >"$work/mq_prog.c" <<'PROG'
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/mailbox.h>

int main(void)
{
	struct mq_attr attr = { .mq_maxmsg = 4, .mq_msgsize = 64 };
	struct mbx_port_info info;
	unsigned int prio, sum = 0, i;
	char buf[64];
	mqd_t q;

	mq_unlink("/install-test");
	q = mq_open("/install-test", O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
	if (q == (mqd_t)-1) {
		perror("mq_open");
		return 1;
	}
	for (i = 0; i < 3; i++)
		if (mq_send(q, "m", 1, i * 16000)) {
			perror("mq_send");
			return 1;
		}
	for (i = 0; i < 3; i++) {
		if (mq_receive(q, buf, sizeof(buf), &prio) != 1) {
			perror("mq_receive");
			return 1;
		}
		sum = sum * 10 + prio / 16000;
	}
	printf("mq_prog: priorities %03u, %s\n", sum,
	       ioctl(q, MBX_IOC_PORT_INFO, &info) ? "kernel mq" : "mailbox port");
	mq_close(q);
	return mq_unlink("/install-test") ? 1 : 0;
}
PROG
read -r mq_cflags < <(pc --cflags libmailbox-mq)
read -r mq_libs < <(pc --libs libmailbox-mq)
read -r mq_slibs < <(pc --static --libs libmailbox-mq)
check "pkg-config --libs libmailbox-mq" test "$mq_libs" = "-L$lib -lmailbox-mq"
# libmailbox-mq.so.1 needs libmailbox.so.1, which the linker looks for in
# the system's directories, not in DESTDIR: -rpath-link points it there.
# shellcheck disable=SC2086
check "cc mq_prog.c \$(pkg-config --cflags --libs libmailbox-mq)" \
	cc -Wall -Werror -o "$work/mq_dynamic" "$work/mq_prog.c" $mq_cflags $mq_libs \
	-Wl,-rpath-link,"$lib"
# shellcheck disable=SC2086
check "cc -static mq_prog.c \$(pkg-config --static --cflags --libs libmailbox-mq)" \
	cc -Wall -Werror -static -o "$work/mq_static" "$work/mq_prog.c" $mq_cflags $mq_slibs
check "cc mq_prog.c -lrt (for LD_PRELOAD)" \
	cc -Wall -Werror -o "$work/mq_glibc" "$work/mq_prog.c" -I"$dest$prefix/include" -lrt
check "mq_dynamic takes mq_open@GLIBC_2.34 from libmailbox-mq.so.1" \
	bash -c "readelf -V '$work/mq_dynamic' | grep -A3 'File: libmailbox-mq.so.1' | grep -q 'Name: GLIBC_2.34'"

# --- 4. in the VM, from the installed files -----------------------------------------
# The VM boots VMLINUZ, the image of release KVER.
vm_kver=${KVER:-}
if [ -z "$vmlinuz" ] || [ ! -r "$vmlinuz" ] || [ -z "$vm_kver" ]; then
	echo "install-test: no VM kernel (VMLINUZ=$vmlinuz): VM step skipped"
elif [ "$vm_kver" != "$kver" ]; then
	echo "install-test: VM kernel $vm_kver is not $kver: VM step skipped"
elif [ ! -x pc_dynamic ] || [ ! -x pc_static ]; then
	bad "VM run (programs not built)"
else
	files=()
	for f in "$dest/lib/modules/$kver"/modules.* "$dest/lib/modules/$kver/extra/mailbox.ko"; do
		files+=(-f "$f:${f#"$dest"}")
	done
	files+=(-f "$dest$prefix/bin/mbxctl:$prefix/bin/mbxctl"
		-f "$lib/libmailbox.so.$version:$prefix/lib/libmailbox.so.1"
		-f "$work/pc_dynamic:/opt/install-test/pc_dynamic"
		-f "$work/pc_static:/opt/install-test/pc_static"
		-f "$lib/libmailbox-mq.so.$version:$prefix/lib/libmailbox-mq.so.1"
		-f "$work/mq_dynamic:/opt/install-test/mq_dynamic"
		-f "$work/mq_static:/opt/install-test/mq_static"
		-f "$work/mq_glibc:/opt/install-test/mq_glibc")
	# The C library and the dynamic loader, at the paths ldd names.
	while read -r path; do
		files+=(-f "$path:$path")
	done < <(ldd pc_dynamic | sed -n 's/^[^/]*\(\/[^ ]*\) (0x.*$/\1/p' | grep -v libmailbox)
	cat >"$work/vm.sh" <<VM
set -e
modprobe mailbox
ls -l /dev/mailbox
/opt/install-test/pc_static
LD_LIBRARY_PATH=$prefix/lib /opt/install-test/pc_dynamic
/opt/install-test/mq_static
LD_LIBRARY_PATH=$prefix/lib /opt/install-test/mq_dynamic
LD_PRELOAD=$prefix/lib/libmailbox-mq.so.1 LD_LIBRARY_PATH=$prefix/lib /opt/install-test/mq_glibc
$prefix/bin/mbxctl create install-test -c 4
echo "through the installed mbxctl" | $prefix/bin/mbxctl send install-test
$prefix/bin/mbxctl recv install-test
$prefix/bin/mbxctl unlink install-test
rmmod mailbox
echo "install-test: VM done"
VM
	files+=(-f "$work/vm.sh:/opt/install-test/vm.sh")
	"$top/scripts/vm-run.sh" -q -M -k "$vmlinuz" -t 300 -l "$out/vm.log" "${files[@]}" -- \
		sh /opt/install-test/vm.sh
	rc=$?
	log=$(tr -d '\r' <"$out/vm.log")
	sed -n '/MBX-VM-[0-9a-f]* ncpus=/,/MBX-VM-[0-9a-f]* dmesg/p' <<<"$log" |
		sed '1d;$d;s/^/install-test: vm| /'
	check "VM: the whole run (status $rc)" test "$rc" -eq 0
	check "VM: modprobe made /dev/mailbox" grep -q '^crw.* /dev/mailbox$' <<<"$log"
	check "VM: pc_static and pc_dynamic received every message" \
		test "$(grep -c '^consumer: 10000 messages, sum 50005000 (expected 50005000), then -EPIPE' <<<"$log")" -eq 2
	check "VM: mq_static, mq_dynamic and preloaded mq_glibc used mailbox ports" \
		test "$(grep -c '^mq_prog: priorities 210, mailbox port$' <<<"$log")" -eq 3
	check "VM: installed mbxctl passed a message" \
		grep -q '^through the installed mbxctl$' <<<"$log"
fi
cd "$top" || exit 1

# --- 5. uninstall ---------------------------------------------------------------------
if "$make" --no-print-directory -C "$top" uninstall DESTDIR="$dest" PREFIX="$prefix" \
	>"$out/uninstall.log" 2>&1; then
	ok "make uninstall"
else
	cat "$out/uninstall.log"
	bad "make uninstall"
fi
# Only the module index of the staged tree (depmod's) may stay.
left=$(cd "$dest" && find . \( -type f -o -type l \) -not -path "./lib/modules/$kver/modules.*")
check "uninstall left no installed file${left:+ (left: ${left//$'\n'/ })}" test -z "$left"
check "modules.dep no longer lists mailbox.ko" \
	bash -c "! grep -q mailbox.ko '$dest/lib/modules/$kver/modules.dep'"

echo "install-test: $pass passed, $fail failed"
if [ "$fail" -eq 0 ]; then
	rm -rf "$dest"
else
	echo "install-test: DESTDIR kept in $dest, check output in $out/checks.log"
fi
[ "$fail" -eq 0 ]
