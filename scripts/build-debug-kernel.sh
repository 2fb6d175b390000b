#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the debug kernel the selftests run on under `make check-debug`:
# Linux 7.3 (Debian's linux-source-7.3 from trixie-backports, fetched by
# scripts/kernels.sh into build/kernels/7.3), `make tinyconfig` plus
# scripts/debug.config.
#
# Output: build/linux-debug/arch/x86/boot/bzImage, and the tree itself is
# ready for out-of-tree modules (make -C build/linux-debug M=...).
# The build is cached: it is redone only when the fragment, this script or
# the source tarball change (their hash is kept in
# build/linux-debug/.mbx-stamp; the tarball's name, size and time in
# build/linux-debug/.mbx-extracted).
#
# Usage: scripts/build-debug-kernel.sh [BUILD_DIR]   (default: ./build)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=$(mkdir -p "${1:-$top/build}" && cd "${1:-$top/build}" && pwd)
tree=$build/linux-debug
frag=$top/scripts/debug.config
srcname=linux-source-7.3
tarball=$build/kernels/7.3/$srcname.tar.xz
log=$build/debug-kernel.log
jobs=$(( $(nproc) + 1 ))

# One builder at a time (a background build and `make check-debug` may race).
exec 9>"$build/.debug-kernel.lock"
flock 9

# The source tarball (fetched once, then left alone without network).
BUILD=$build "$top/scripts/kernels.sh" 7.3
[ -f "$tarball" ] || { echo "debug-kernel: $tarball missing (scripts/kernels.sh 7.3)" >&2; exit 1; }
src_id=$(stat -c '%n %s %Y' "$tarball")

key=$( { cat "$frag" "$0"; echo "$src_id"; } | sha256sum | cut -d' ' -f1)
if [ -f "$tree/.mbx-stamp" ] && [ "$(cat "$tree/.mbx-stamp")" = "$key" ] &&
   [ -f "$tree/arch/x86/boot/bzImage" ]; then
	exit 0
fi

# Extract once per tarball; a half-extracted tree, or one of another
# tarball (the marker names it), is thrown away.
if [ ! -f "$tree/.mbx-extracted" ] || [ "$(cat "$tree/.mbx-extracted")" != "$src_id" ]; then
	echo "debug-kernel: extracting $tarball" >&2
	rm -rf "$tree" "${build:?}/$srcname"
	tar -C "$build" -xJf "$tarball"
	mv "$build/$srcname" "$tree"
	echo "$src_id" >"$tree/.mbx-extracted"
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
