#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Everything CI runs (`make ci`): dependencies, the full build, the
# selftests on every kernel (Debian 12's stock 6.1, Debian's 6.12 LTS from
# bookworm-backports, the 7.3 debug kernel, Debian 12's 6.1 PREEMPT_RT),
# each its own summary line, the NATS bridge suite (`make check-bridge`:
# pairs of stock-kernel VMs and nats-servers on the host's loopback, about
# 4 min), then the harness's own check, the man pages, the headers,
# `make install` and DKMS (one test each).  Each suite
# keeps going when another fails; the last line is the combined
# "N passed, N failed[, N skipped]", and the status is non-zero on any
# failure, splat or build error.
#
# On a fresh machine the debug kernel's build (about 10 minutes of both
# CPUs) starts at once in the background, as SCHED_IDLE: it takes only
# what the stock and 6.12 suites leave idle (about 40% of the CPUs, their
# VMs waiting on each other), so that `make check-debug` finds it done or
# nearly (scripts/build-debug-kernel.sh lets one builder at a time run,
# and a failed background build is simply redone there).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
make=${MAKE:-make}
start=$SECONDS

"$top/scripts/deps.sh"

# The kernels first (their apt lists are not to be shared by two fetches),
# then the debug kernel's build in the background.
"$top/scripts/kernels.sh" all ||
	echo "ci: fetching the kernels failed (the suites that need them will fail)"
mkdir -p "$top/build"
echo "ci: building the debug kernel in the background (build/debug-kernel-bg.out)"
chrt --idle 0 nice -n 19 "$top/scripts/build-debug-kernel.sh" "$top/build" \
	>"$top/build/debug-kernel-bg.out" 2>&1 &
bg_build=$!

pass=0 fail=0 skip=0 summary=()
# Run one `make` target whose suite leaves build/NAME/totals behind.
suite() { # TARGET NAME
	local t0=$SECONDS p f s
	rm -f "build/$2/totals"
	echo "=== ci: make $1 ==="
	"$make" --no-print-directory "$1" || true
	if [ -r "build/$2/totals" ]; then
		read -r p f s <"build/$2/totals"
	else
		p=0 f=1 s=0	# did not get as far as running the tests
		echo "ci: make $1 stopped before running the tests (see above)"
	fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	summary+=("$(printf 'ci: %-12s %d passed, %d failed, %d skipped (%ds)' \
		"$1" "$p" "$f" "$s" $((SECONDS - t0)))")
}

# Run one `make` target that is a single test: it passes when make does.
single() { # TARGET
	local t0=$SECONDS p=0 f=0
	echo "=== ci: make $1 ==="
	if "$make" --no-print-directory "$1"; then p=1; else f=1; fi
	pass=$((pass + p)) fail=$((fail + f))
	summary+=("$(printf 'ci: %-12s %d passed, %d failed, %d skipped (%ds)' \
		"$1" "$p" "$f" 0 $((SECONDS - t0)))")
}

# `make check` builds everything first (module, library, selftests,
# examples, tools); a build that stops it counts as one failure above.
suite check stock
suite check-6.12 6.12
suite check-debug debug
suite check-rt rt
# The bridge: every check of every case, a VM's splat or a case that never
# reported counted as a failure by scripts/bridge-tests.sh.
suite check-bridge bridge
# The harness itself (crafted consoles), man pages, headers, the install
# path and DKMS: one test each.
single harness-check
single man-check
single headers-check
single install-test
single dkms-check

# Long done (make check-debug waited for it); its status was judged there.
wait "$bg_build" || true

echo
printf '%s\n' "${summary[@]}"
echo "ci: total $((SECONDS - start)) s"
line="$pass passed, $fail failed"
[ "$skip" -eq 0 ] || line+=", $skip skipped"
echo "$line"
[ "$fail" -eq 0 ]
