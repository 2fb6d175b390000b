#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install every Debian package the build, the VM runner and the checks need.
# Idempotent and quiet: when everything is present it only asks dpkg.
set -euo pipefail

pkgs=(
	build-essential bc bison flex libelf-dev libssl-dev dwarves perl
	python3 xz-utils gzip cpio kmod busybox-static
	qemu-system-x86
	linux-image-amd64 linux-headers-amd64 linux-source-6.1
	linux-image-rt-amd64 linux-headers-rt-amd64
	sparse shellcheck
	pkg-config mandoc groff-base
	nats-server libnats-dev socat
)

missing=()
for p in "${pkgs[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: need root to install packages" >&2
	exit 1
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
