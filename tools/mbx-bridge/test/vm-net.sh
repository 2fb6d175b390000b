#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside a bridge test VM (busybox ash), sourced by the test scripts:
# loads the e1000 NIC module that scripts/bridge-tests.sh put into the
# initramfs, gives eth0 QEMU user networking's usual 10.0.2.15/24, and
# points the dynamic loader at the shared libraries of mbx-bridge (libnats
# and its dependencies, copied from the host).  NATS is reached at
# 10.0.2.100:4222, which QEMU forwards to a nats-server on the host's
# loopback (guestfwd); there is no other route out.
for m in /lib/modules/net/*.ko; do
	[ -e "$m" ] && insmod "$m" 2>/dev/null
done
i=0
while ! ip link show eth0 >/dev/null 2>&1 && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2 2>/dev/null
export LD_LIBRARY_PATH=/opt/mailbox/lib
hostname "${MBX_VM_NAME:-mbx-vm}"
