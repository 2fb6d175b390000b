#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the test VM (busybox ash; built into the initramfs by
# scripts/vm-run.sh, which also writes /etc/mbx.conf and /etc/mbx-cmd).
#
# Mounts the usual filesystems, loads the module, runs /etc/mbx-cmd,
# optionally checks for leaks with kmemleak, prints the command's exit
# status behind a per-run marker and reboots, which ends QEMU.
# No `set -e` here: PID 1 must reach the reboot whatever happens.
set -u

PATH=/opt/mailbox/bin:/bin:/sbin:/usr/bin:/usr/sbin
export PATH HOME=/root TERM=dumb
# shellcheck source=/dev/null
. /etc/mbx.conf

say() { echo "$MBX_MARK $*"; }

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm /dev/mqueue /tmp /run
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t mqueue mqueue /dev/mqueue 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
hostname mbx-vm
ip link set lo up 2>/dev/null

# Kernel warnings (level 4) and worse go to the console as they happen, so
# they land in the log next to the test that caused them.
echo 5 >/proc/sys/kernel/printk

kmemleak=/sys/kernel/debug/kmemleak
if [ "$MBX_KMEMLEAK" = 1 ]; then
	if [ -w "$kmemleak" ]; then
		# Forget whatever the boot itself left behind.  kmemleak ignores
		# objects younger than 5 s, so wait until boot ones are older.
		while [ "$(cut -d. -f1 /proc/uptime)" -lt 7 ]; do sleep 1; done
		echo scan >"$kmemleak"
		echo clear >"$kmemleak"
	else
		say "kmemleak requested but $kmemleak is missing"
		MBX_KMEMLEAK=missing
	fi
fi

if [ -n "$MBX_MODULE" ]; then
	insmod "$MBX_MODULE" || say "insmod $MBX_MODULE failed"
fi

say "ncpus=$(nproc) kernel=$(uname -r)"
cd /tmp || cd /
sh /etc/mbx-cmd </dev/null
rc=$?
cd /

# The module must unload cleanly at the end (a leaked reference would make
# this fail); with kmemleak, unloading also exposes objects that only the
# module's own data still pointed to.
if [ -n "$MBX_MODULE" ] && grep -q "^$MBX_MODULE_NAME " /proc/modules; then
	rmmod "$MBX_MODULE_NAME" || say "FAILURE: rmmod $MBX_MODULE_NAME failed at the end"
fi

if [ "$MBX_KMEMLEAK" = 1 ]; then
	say "kmemleak scan"
	echo scan >"$kmemleak"
	sleep 5
	echo scan >"$kmemleak"
	cat "$kmemleak"
	say "kmemleak scan done"
elif [ "$MBX_KMEMLEAK" = missing ]; then
	rc=1
fi

# Warnings and worse printed before the log level was raised (during boot)
# never reached the console: replay them from the ring buffer for the host.
say "dmesg (warnings and worse) begin"
dmesg -r | grep '^<[0-4]>'
say "dmesg end"

say "exit=$rc"
sync
reboot -f
# reboot -f should not return; make sure PID 1 never exits cleanly.
sleep 5
echo b >/proc/sysrq-trigger
