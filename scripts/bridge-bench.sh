#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Host side of `make bench-bridge`: boots one VM (QEMU TCG, the module
# loaded) holding a nats-server on the VM's loopback, mbx-bridge and
# mbx-natsbench, runs tools/natsbench/vm-bench.sh there (raw libnats vs the
# bridge path, core and JetStream, 64 B and 64 KiB, two rounds each,
# interleaved; also raw with the eight headers bridges carried before, -H,
# and with the one Mbx-Meta header they carry now, -M, to show what each
# costs), and computes from the best round of each cell:
#   throughput ratio = bridge msgs/s / raw msgs/s      goal >= 0.90
#   latency ratio    = bridge p50 / raw p50 (paced)    goal <= 1.15
# and JetStream's cost against core for the bridge.  Writes
# build/bench/bridge.txt (the table) and build/bench/bridge-ratios.csv.
#
# Usage: scripts/bridge-bench.sh [-t VM_TIMEOUT]
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
out=$build/bench
vm_timeout=900
while getopts "t:" opt; do
	case "$opt" in
	t) vm_timeout=$OPTARG ;;
	*) sed -n '/^# Usage/,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
	esac
done
mkdir -p "$out"
log=$out/bridge-console.log
bridge=$build/tools/mbx-bridge
files=(-f "$top/tools/natsbench/vm-bench.sh:/etc/bench.sh"
       -f "$(readlink -f "$(command -v nats-server)"):/bin/nats-server")
for lib in $(ldd "$bridge" "$build/tools/mbx-natsbench" | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p' | sort -u); do
	files+=(-f "$lib:/lib/x86_64-linux-gnu/$(basename "$lib")")
done
files+=(-f "/lib64/ld-linux-x86-64.so.2:/lib64/ld-linux-x86-64.so.2")

load0=$(cut -d' ' -f1-3 /proc/loadavg)
t0=$SECONDS
"$top/scripts/vm-run.sh" -q -S -t "$vm_timeout" -l "$log" -a "idle=poll clocksource=tsc tsc=reliable" \
	"${files[@]}" -- "sh /etc/bench.sh" || true
load1=$(cut -d' ' -f1-3 /proc/loadavg)

# BENCH MODE SIZE PATH KIND natsbench ... msgs_per_s X p50_us Y p99_us Z
tr -d '\r' <"$log" | grep -a '^BENCH ' >"$out/bridge-raw.txt" || true
awk -v csv="$out/bridge-ratios.csv" -v load0="$load0" -v load1="$load1" -v secs=$((SECONDS - t0)) '
function best(key, v, hi) {
	if (!(key in B) || (hi && v > B[key]) || (!hi && v < B[key])) B[key] = v
}
{
	for (i = 6; i < NF; i++) { if ($i == "msgs_per_s") t = $(i + 1); if ($i == "p50_us") l = $(i + 1); if ($i == "received") n = $(i + 1) }
	k = $2 " " $3 " " $4
	if ($5 == "tput") best(k " tput", t, 1); else best(k " lat", l, 0)
	cells[$2 " " $3] = 1
}
END {
	print "mode,size,raw_msgs_per_s,bridge_msgs_per_s,tput_ratio,tput_goal,tput_met,raw_p50_us,bridge_p50_us,p50_ratio,p50_goal,p50_met,raw_headers_msgs_per_s,raw_meta_msgs_per_s" >csv
	printf "bridge vs raw libnats, same nats-server, in one QEMU TCG VM (best of 2 rounds)\n"
	printf "host load average %s at start, %s at the end; %d s\n\n", load0, load1, secs
	printf "%-5s %6s %10s %10s %6s %6s %10s %10s %6s %6s %10s %10s\n", "mode", "size", "raw msg/s", "brg msg/s", "ratio", "goal", "raw p50us", "brg p50us", "ratio", "goal", "raw+8hdr/s", "raw+meta/s"
	n = split("core 64,core 65536,js 64,js 65536", order, ",")
	for (j = 1; j <= n; j++) {
		c = order[j]
		if (!(c in cells)) continue
		rh = B[c " rawh tput"]; rm = B[c " rawm tput"]; rt = B[c " raw tput"]; bt = B[c " bridge tput"]; rl = B[c " raw lat"]; bl = B[c " bridge lat"]
		tr = rt > 0 ? bt / rt : 0; lr = rl > 0 ? bl / rl : 0
		tm = tr >= 0.90 ? "met" : "missed"; lm = (lr > 0 && lr <= 1.15) ? "met" : "missed"
		split(c, p, " ")
		printf "%-5s %6s %10.0f %10.0f %6.2f %6s %10.0f %10.0f %6.2f %6s %10.0f %10.0f\n", p[1], p[2], rt, bt, tr, tm, rl, bl, lr, lm, rh, rm
		printf "%s,%s,%.0f,%.0f,%.3f,0.90,%s,%.0f,%.0f,%.3f,1.15,%s,%.0f,%.0f\n", p[1], p[2], rt, bt, tr, tm, rl, bl, lr, lm, rh, rm >>csv
		BT[c] = bt; BL[c] = bl
	}
	printf "\nJetStream against core, bridge path:\n"
	for (s = 64; s <= 65536; s *= 1024)
		if (("core " s) in BT && ("js " s) in BT && BT["core " s] > 0)
			printf "  %5d B: msgs/s x%.2f, p50 x%.2f\n", s, BT["js " s] / BT["core " s], (BL["core " s] > 0 ? BL["js " s] / BL["core " s] : 0)
}' "$out/bridge-raw.txt" | tee "$out/bridge.txt"
echo "bench-bridge: $out/bridge.txt, bridge-ratios.csv, bridge-console.log"
[ -s "$out/bridge-raw.txt" ]
