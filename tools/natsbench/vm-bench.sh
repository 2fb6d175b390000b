#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Inside the VM of `make bench-bridge` (busybox ash): a nats-server on the
# VM's own loopback, then for each mode (core, JetStream) and size (64 B,
# 64 KiB), side by side: raw libnats publisher and subscriber, and the
# same traffic through ports and two bridges (one exporting, one
# importing) on the same server.  Throughput unpaced, latency paced at
# $RATE/s (64 B) or $RATE64K/s (64 KiB: slower than either path's
# throughput, so that it measures latency, not queueing).  One "BENCH MODE
# SIZE PATH KIND natsbench-line" line each.
export LD_LIBRARY_PATH=/opt/mailbox/lib
ip link set lo up
N64=${N64:-20000} N64K=${N64K:-1000} LATN=${LATN:-300} RATE=${RATE:-100}
RATE64K=${RATE64K:-20} LATN64K=${LATN64K:-100}
mkdir -p /tmp/js
nats-server -a 127.0.0.1 -p 4222 -js -sd /tmp/js >/tmp/nats.log 2>&1 &
i=0
while ! grep -q 'Server is ready' /tmp/nats.log && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done

bridges_up() { # MODE TAG
	for side in x i; do
		{
			echo "server nats://127.0.0.1:4222"
			echo "mode $1"
			echo "name b$side$2"
			echo "state-dir /tmp/st-$side$2"
			if [ $side = x ]; then echo "export S bench.$2"; else echo "import bench.$2 D exclusive"; fi
		} >/tmp/b$side.conf
		mbx-bridge -c /tmp/b$side.conf >>/tmp/b$side.log 2>&1 &
		echo $! >/tmp/b$side.pid
	done
	i=0
	while [ "$(grep -c 'running (' /tmp/bx.log /tmp/bi.log | grep -c ':[1-9]')" != 2 ] &&
	      [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	sleep 1
}

bridges_down() {
	for side in x i; do
		kill "$(cat /tmp/b$side.pid)"
		wait "$(cat /tmp/b$side.pid)" 2>/dev/null
		: >/tmp/b$side.log
	done
}

run() { # MODE SIZE PATH KIND ARGS...
	line=$(mbx-natsbench "$@" 2>&1 | tail -n 1)
	echo "BENCH $MODE $SIZE $PATHK $KIND $line"
}

for MODE in core js; do
	bmode=$MODE
	[ $MODE = js ] && bmode=jetstream
	for SIZE in 64 65536; do
		n=$N64 rate=$RATE latn=$LATN
		[ $SIZE = 64 ] || n=$N64K rate=$RATE64K latn=$LATN64K
		mbx-ledger create S 1024 65536 && mbx-ledger create D 1024 65536
		bridges_up $bmode "$MODE$SIZE"
		for _ in 1 2; do
			PATHK=raw KIND=tput run raw $MODE $SIZE $n
			PATHK=bridge KIND=tput run port S D $SIZE $n
			PATHK=rawh KIND=tput run raw $MODE $SIZE $n -H
			PATHK=rawm KIND=tput run raw $MODE $SIZE $n -M
			PATHK=raw KIND=lat run raw $MODE $SIZE $latn -r $rate
			PATHK=bridge KIND=lat run port S D $SIZE $latn -r $rate
		done
		bridges_down
		mbxctl unlink S >/dev/null 2>&1
		mbxctl unlink D >/dev/null 2>&1
	done
done
echo "--- bridge logs"
tail -n 5 /tmp/bx.log /tmp/bi.log
