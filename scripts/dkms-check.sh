#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make dkms-check`: the module builds under DKMS as a distribution would
# build it, for every kernel given.  Installs Debian's dkms if it is
# missing, stages the module's sources (dkms.conf, Kbuild, module/, uapi/;
# no build output) in /usr/src/mailbox-VERSION, runs `dkms add`, then for
# each KVER `dkms build -k KVER` (with `--kernelsourcedir DIR` when a DIR is
# given: kernels that are unpacked or built under build/, not installed)
# and checks the built mailbox.ko (present, for KVER, named mailbox).  One
# kernel outside the supported range (5.10, made up) must be refused by
# dkms.conf's BUILD_EXCLUSIVE_KERNEL rather than built.  Then everything is
# removed again with `dkms remove --all`.  Whatever a previous run left
# behind is removed first, so it can run any number of times.  Needs root.
#
# Usage: scripts/dkms-check.sh VERSION KVER[:KERNEL_SOURCE_DIR]...
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
usage="usage: dkms-check.sh VERSION KVER[:KERNEL_SOURCE_DIR]..."
version=${1:?$usage}
shift
[ $# -gt 0 ] || { echo "$usage" >&2; exit 2; }
pkg=mailbox
src=/usr/src/$pkg-$version

say() { echo "dkms-check: $*"; }
die() { echo "dkms-check: FAILED: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "needs root (dkms writes /usr/src and /var/lib/dkms)"

# dkms.conf and the Makefile must agree on the version.
conf_version=$(sed -n 's/^PACKAGE_VERSION="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$top/dkms.conf")
[ "$conf_version" = "$version" ] ||
	die "dkms.conf says PACKAGE_VERSION=$conf_version, the Makefile $version"
for k in "$@"; do
	kver=${k%%:*} dir=${k#*:}
	[ "$dir" != "$k" ] || dir=/lib/modules/$kver/build
	[ -f "$dir/Makefile" ] ||
		die "no headers for $kver ($dir); apt-get install linux-headers-$kver"
done

if [ "$(dpkg-query -W -f='${db:Status-Status}' dkms 2>/dev/null || true)" != installed ]; then
	say "installing dkms"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends dkms >/dev/null
fi
say "$(dkms --version)"

cleanup() {
	if dkms status -m "$pkg" -v "$version" 2>/dev/null | grep -q .; then
		dkms remove -m "$pkg" -v "$version" --all >/dev/null 2>&1 || true
	fi
	rm -rf "$src" "/var/lib/dkms/$pkg/$version"
	rmdir "/var/lib/dkms/$pkg" 2>/dev/null || true
}

# Leftovers of an earlier run (or an interrupted one).
cleanup
trap cleanup EXIT

mkdir -p "$src"
cp "$top/dkms.conf" "$src/"
(cd "$top" && find Kbuild module uapi \( -name '*.[ch]' -o -name Kbuild -o -name Makefile \) \
	-not -name '*.mod.c' -print0 | cpio -pdmu0 --quiet "$src")
say "staged $(cd "$src" && find . -type f | wc -l) files in $src"

dkms add -m "$pkg" -v "$version"

built=()
for k in "$@"; do
	kver=${k%%:*} dir=${k#*:}
	ksrc=()
	[ "$dir" = "$k" ] || ksrc=(--kernelsourcedir "$dir")
	say "building for $kver${ksrc[*]:+ (${ksrc[*]})}"
	dkms build -m "$pkg" -v "$version" -k "$kver" "${ksrc[@]+"${ksrc[@]}"}" ||
		{ cat "/var/lib/dkms/$pkg/$version/build/make.log" 2>/dev/null || true; die "dkms build for $kver"; }
	dkms status -m "$pkg" -v "$version" -k "$kver"

	ko=$(find "/var/lib/dkms/$pkg/$version/$kver" -name "$pkg.ko*" -print -quit 2>/dev/null || true)
	if [ -z "$ko" ] || [ ! -s "$ko" ]; then
		die "dkms build produced no $pkg.ko under /var/lib/dkms/$pkg/$version/$kver"
	fi
	vermagic=$(modinfo -F vermagic "$ko" | cut -d' ' -f1)
	[ "$vermagic" = "$kver" ] || die "$ko has vermagic $vermagic, not $kver"
	name=$(modinfo -F name "$ko")
	[ "$name" = "$pkg" ] || die "$ko is module '$name', not $pkg"
	say "built $ko ($(stat -c %s "$ko") bytes, vermagic $vermagic)"
	built+=("$kver")
done

# A kernel outside the supported range: DKMS must decline it by
# BUILD_EXCLUSIVE_KERNEL (and say so), not try the build.  The headers are
# those of the first kernel: the build must not even start.
first=$1 old_kver=5.10.0-99-amd64
old_dir=${first#*:}
[ "$old_dir" != "$first" ] || old_dir=/lib/modules/${first%%:*}/build
set +e
out=$(dkms build -m "$pkg" -v "$version" -k "$old_kver" --kernelsourcedir "$old_dir" 2>&1)
rc=$?
set -e
printf '%s\n' "$out" | sed 's/^/dkms-check:   /'
if [ "$rc" -eq 0 ] || ! printf '%s\n' "$out" | grep -q BUILD_EXCLUSIVE ||
   [ -n "$(find "/var/lib/dkms/$pkg/$version/$old_kver" -name "$pkg.ko*" 2>/dev/null)" ]; then
	die "dkms did not decline $old_kver through BUILD_EXCLUSIVE_KERNEL (status $rc)"
fi
say "ok: $old_kver (outside 6.1..7.3) declined by BUILD_EXCLUSIVE_KERNEL (status $rc)"

dkms remove -m "$pkg" -v "$version" --all
! dkms status -m "$pkg" -v "$version" | grep -q . || die "dkms remove left mailbox/$version registered"
say "ok: mailbox/$version added, built for ${built[*]} and removed"
