#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the debug kernel the selftests run on under `make check-debug`:
# Debian's linux-source-6.1, `make tinyconfig` plus scripts/debug.config.
#
# Output: build/linux-debug/arch/x86/boot/bzImage, and the tree itself is
# ready for out-of-tree modules (make -C build/linux-debug M=...).
# The build is cached: it is redone only when the fragment or this script
# change (their hash is kept in build/linux-debug/.mbx-stamp).
#
# Usage: scripts/build-debug-kernel.sh [BUILD_DIR]   (default: ./build)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=$(mkdir -p "${1:-$top/build}" && cd "${1:-$top/build}" && pwd)
tree=$build/linux-debug
frag=$top/scripts/debug.config
tarball=/usr/src/linux-source-6.1.tar.xz
log=$build/debug-kernel.log
jobs=$(( $(nproc) + 1 ))

# One builder at a time (a background build and `make check-debug` may race).
exec 9>"$build/.debug-kernel.lock"
flock 9

key=$(cat "$frag" "$0" | sha256sum | cut -d' ' -f1)
if [ -f "$tree/.mbx-stamp" ] && [ "$(cat "$tree/.mbx-stamp")" = "$key" ] &&
   [ -f "$tree/arch/x86/boot/bzImage" ]; then
	exit 0
fi

[ -f "$tarball" ] || { echo "debug-kernel: $tarball missing (run scripts/deps.sh)" >&2; exit 1; }

# Extract once; a half-extracted tree (no marker) is thrown away.
if [ ! -f "$tree/.mbx-extracted" ]; then
	echo "debug-kernel: extracting $tarball" >&2
	rm -rf "$tree" "$build/linux-source-6.1"
	tar -C "$build" -xJf "$tarball"
	mv "$build/linux-source-6.1" "$tree"
	touch "$tree/.mbx-extracted"
fi
rm -f "$tree/.mbx-stamp"

echo "debug-kernel: configuring (tinyconfig + scripts/debug.config)" >&2
{
	make -C "$tree" -s tinyconfig
	"$tree/scripts/kconfig/merge_config.sh" -m -O "$tree" "$tree/.config" "$frag"
	make -C "$tree" -s olddefconfig
} >"$log" 2>&1

# Every option of the fragment must have survived olddefconfig as written;
# a dropped dependency would otherwise silently give a weaker kernel.
missing=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*)
		grep -qxF -- "$line" "$tree/.config" || {
			echo "debug-kernel: wanted '$line', got '$(grep -E "^(# )?${line%%=*}[= ]" "$tree/.config" || echo unset)'" >&2
			missing=1
		} ;;
	"# CONFIG_"*" is not set")
		opt=${line#\# }; opt=${opt%% *}
		! grep -q "^$opt=" "$tree/.config" || {
			echo "debug-kernel: wanted '$line', got '$(grep "^$opt=" "$tree/.config")'" >&2
			missing=1
		} ;;
	esac
done <"$frag"
[ "$missing" -eq 0 ] || { echo "debug-kernel: configuration check FAILED" >&2; exit 1; }

echo "debug-kernel: building bzImage and modules with -j$jobs (about 5-10 min, log: $log)" >&2
start=$SECONDS
if ! make -C "$tree" -j"$jobs" bzImage modules modules_prepare >>"$log" 2>&1; then
	tail -n 40 "$log" >&2
	echo "debug-kernel: build FAILED (full log: $log)" >&2
	exit 1
fi
echo "$key" >"$tree/.mbx-stamp"
echo "debug-kernel: done in $(( SECONDS - start )) s: $tree/arch/x86/boot/bzImage" >&2
