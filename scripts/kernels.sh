#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Fetch the kernels CI tests beyond Debian 12's own, without touching the
# machine's apt setup: a private apt configuration under build/apt/ whose
# sources are derived from the machine's (the URI that serves `bookworm`
# main, with the suites bookworm-backports and trixie-backports), then
# `apt-get download` and `dpkg -x` into build/kernels/ (nothing installed).
#
#   6.12  Debian's 6.12 LTS from bookworm-backports, the newest point release
#         the mirror has: linux-image-*-amd64-unsigned, linux-headers-*-amd64,
#         linux-headers-*-common and linux-kbuild-*, unpacked into
#         build/kernels/6.12/root; then
#           build/kernels/6.12/headers  -> the unpacked linux-headers-*-amd64
#           build/kernels/6.12/vmlinuz  -> the unpacked /boot/vmlinuz-*
#           build/kernels/6.12/release  the kernel release (uname -r)
#   7.3   linux-source-7.3 from trixie-backports (architecture-independent):
#           build/kernels/7.3/linux-source-7.3.tar.xz
#           build/kernels/7.3/version   the package version
#
# Idempotent: a kernel whose .debs and unpacked tree are present is left
# alone without any network access; the package lists are refreshed only
# when something has to be fetched and they are older than a day.
#
# Usage: scripts/kernels.sh [6.12|7.3|all]...   (default: all)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
apt_dir=$build/apt
kdir=$build/kernels
debs=$apt_dir/debs

say() { echo "kernels: $*" >&2; }
die() { echo "kernels: ERROR: $*" >&2; exit 1; }

# --- the private apt configuration ------------------------------------------
apt_opts=(
	-o "Dir::Etc::sourcelist=/dev/null"
	-o "Dir::Etc::sourceparts=$apt_dir/sources.list.d"
	-o "Dir::State::Lists=$apt_dir/lists"
	-o "Dir::Cache=$apt_dir/cache"
	-o "Dir::Cache::archives=$apt_dir/cache/archives"
	-o "APT::Sandbox::User=root"
)

# The URI that serves Debian's `bookworm` suite with its main component,
# from the one-line (*.list) and deb822 (*.sources) sources of the machine.
bookworm_uri() {
	local f
	{
		for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
			[ -r "$f" ] || continue
			# deb [options] URI SUITE COMPONENT...
			sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" |
				awk '$1 == "deb" && $3 == "bookworm" {
					for (i = 4; i <= NF; i++) if ($i == "main") { print $2; next } }'
		done
		for f in /etc/apt/sources.list.d/*.sources; do
			[ -r "$f" ] || continue
			# Stanzas separated by blank lines; fields may be continued.
			sed -e '/^[[:space:]]*#/d' -e 's/#.*//' "$f" | awk '
				function done_stanza(   i, n, u, s, c, okt, oks, okc) {
					okt = (" " types " ") ~ / deb /
					oks = (" " suites " ") ~ / bookworm /
					okc = (" " comps " ") ~ / main /
					if (okt && oks && okc && tolower(enabled) != "no") {
						n = split(uris, u, " ")
						for (i = 1; i <= n; i++) print u[i]
					}
					types = suites = comps = uris = enabled = ""
				}
				/^[ \t]*$/ { done_stanza(); next }
				/^[A-Za-z-]+:/ {
					key = tolower(substr($0, 1, index($0, ":") - 1))
					val = substr($0, index($0, ":") + 1)
				}
				/^[ \t]/ { val = $0 }
				{
					if (key == "types") types = types " " val
					else if (key == "uris") uris = uris " " val
					else if (key == "suites") suites = suites " " val
					else if (key == "components") comps = comps " " val
					else if (key == "enabled") { enabled = val; gsub(/[ \t]/, "", enabled) }
				}
				END { done_stanza() }'
		done
	} | head -n 1
}

write_sources() {
	local uri keyring
	uri=$(bookworm_uri)
	[ -n "$uri" ] || die "no apt source of this machine serves Debian's 'bookworm' suite with 'main' (looked in /etc/apt/sources.list, /etc/apt/sources.list.d/*.list and *.sources)"
	keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	mkdir -p "$apt_dir/sources.list.d" "$apt_dir/lists/partial" \
		"$apt_dir/cache/archives/partial" "$debs"
	{
		echo "# Written by scripts/kernels.sh from this machine's apt sources."
		echo "Types: deb"
		echo "URIs: $uri"
		echo "Suites: bookworm-backports trixie-backports"
		echo "Components: main"
		echo "Architectures: amd64"
		[ ! -r "$keyring" ] || echo "Signed-By: $keyring"
	} >"$apt_dir/sources.list.d/kernels.sources.new"
	if ! cmp -s "$apt_dir/sources.list.d/kernels.sources.new" \
		"$apt_dir/sources.list.d/kernels.sources"; then
		mv "$apt_dir/sources.list.d/kernels.sources.new" \
			"$apt_dir/sources.list.d/kernels.sources"
		rm -f "$apt_dir/lists/.updated"
	else
		rm -f "$apt_dir/sources.list.d/kernels.sources.new"
	fi
}

# Refresh the private lists when they are missing or older than a day.
lists_ready=0
update_lists() {
	[ "$lists_ready" = 0 ] || return 0
	write_sources
	if [ -z "$(find "$apt_dir/lists/.updated" -mmin -1440 2>/dev/null)" ]; then
		say "apt-get update (private lists in $apt_dir)"
		apt-get "${apt_opts[@]}" -qq update >"$apt_dir/update.log" 2>&1 ||
			{ cat "$apt_dir/update.log" >&2; die "apt-get update of bookworm-backports and trixie-backports failed"; }
		grep -E '^(W|E):' "$apt_dir/update.log" >&2 || true
		touch "$apt_dir/lists/.updated"
	fi
	lists_ready=1
}

# The candidate version of PACKAGE in the private lists, or nothing.
candidate() {
	apt-cache "${apt_opts[@]}" policy "$1" 2>/dev/null |
		sed -n 's/^ *Candidate: *//p' | grep -v '^(none)$' || true
}

# Download PACKAGE (its candidate) into build/apt/debs; print the file.
download() { # PACKAGE
	local ver file
	ver=$(candidate "$1")
	[ -n "$ver" ] || die "package $1 is not available from bookworm-backports or trixie-backports (see $apt_dir/update.log)"
	file=$(ls "$debs/$1_${ver//:/%3a}_"*.deb 2>/dev/null | head -n 1 || true)
	if [ -z "$file" ]; then
		say "downloading $1 $ver"
		(cd "$debs" && apt-get "${apt_opts[@]}" -qq download "$1=$ver") >&2 ||
			die "apt-get download $1=$ver failed"
		file=$(ls "$debs/$1_${ver//:/%3a}_"*.deb 2>/dev/null | head -n 1 || true)
		[ -n "$file" ] || die "apt-get download $1=$ver left no .deb in $debs"
	fi
	echo "$file"
}

# --- Debian's 6.12 LTS from bookworm-backports --------------------------------
fetch_612() {
	local d=$kdir/6.12 rel abi pkgs p f hdr common files
	# Present and complete: nothing to do, no network.
	if [ -f "$d/.mbx-unpacked" ] && [ -e "$d/headers/Makefile" ] && [ -e "$d/vmlinuz" ]; then
		rel=$(cat "$d/release")
		for f in $(cat "$d/.mbx-unpacked"); do
			[ -f "$f" ] || { rel=; break; }
		done
		[ -z "$rel" ] || return 0
	fi
	update_lists
	# The newest 6.12 ABI (e.g. 6.12.95+deb12) with an unsigned image.
	rel=$(apt-cache "${apt_opts[@]}" pkgnames linux-image-6.12. 2>/dev/null |
		sed -n 's/^linux-image-\(6\.12\.[0-9][0-9]*+deb12\)-amd64-unsigned$/\1/p' |
		sort -V | tail -n 1)
	[ -n "$rel" ] || die "no package linux-image-6.12.*+deb12-amd64-unsigned in bookworm-backports"
	abi=$rel
	rel=$abi-amd64
	pkgs=("linux-image-$rel-unsigned" "linux-headers-$rel" "linux-headers-$abi-common"
	      "linux-kbuild-$abi")
	files=()
	for p in "${pkgs[@]}"; do
		files+=("$(download "$p")")
	done
	say "unpacking Linux $rel into $d"
	rm -rf "$d"
	mkdir -p "$d/root"
	for f in "${files[@]}"; do
		dpkg -x "$f" "$d/root"
	done
	hdr=$d/root/usr/src/linux-headers-$rel
	common=$d/root/usr/src/linux-headers-$abi-common
	[ -f "$hdr/Makefile" ] || die "linux-headers-$rel has no usr/src/linux-headers-$rel/Makefile"
	[ -d "$common" ] || die "linux-headers-$abi-common has no usr/src/linux-headers-$abi-common"
	# The headers' Makefile includes the -common tree by absolute path, and
	# /lib/modules/REL/build is an absolute link: point both inside.
	sed -i "s|/usr/src/linux-headers-$abi-common|$common|g" "$hdr/Makefile"
	grep -q "$common" "$hdr/Makefile" ||
		die "linux-headers-$rel: its Makefile does not include the -common tree as expected"
	# Any other absolute link into /usr (scripts, tools) is made relative.
	find "$d/root" -type l -lname '/usr/*' -print0 | while IFS= read -r -d '' f; do
		ln -sfn "$(realpath -m --relative-to="$(dirname "$f")" "$d/root$(readlink "$f")")" "$f"
	done
	[ -d "$d/root/lib/modules/$rel" ] && ln -sfn "../../../usr/src/linux-headers-$rel" \
		"$d/root/lib/modules/$rel/build"
	[ -f "$d/root/boot/vmlinuz-$rel" ] || die "linux-image-$rel-unsigned has no boot/vmlinuz-$rel"
	ln -sfn "root/usr/src/linux-headers-$rel" "$d/headers"
	ln -sfn "root/boot/vmlinuz-$rel" "$d/vmlinuz"
	echo "$rel" >"$d/release"
	printf '%s\n' "${files[@]}" >"$d/.mbx-unpacked"
	say "Linux $rel: headers $d/headers, kernel $d/vmlinuz"
}

# --- linux-source-7.3 from trixie-backports -----------------------------------
fetch_73() {
	local d=$kdir/7.3 f
	if [ -f "$d/.mbx-unpacked" ] && [ -f "$d/linux-source-7.3.tar.xz" ] &&
	   [ -f "$(cat "$d/.mbx-unpacked")" ]; then
		return 0
	fi
	update_lists
	f=$(download linux-source-7.3)
	say "unpacking $(basename "$f") into $d"
	rm -rf "$d"
	mkdir -p "$d/root"
	dpkg -x "$f" "$d/root"
	[ -f "$d/root/usr/src/linux-source-7.3.tar.xz" ] ||
		die "linux-source-7.3 has no usr/src/linux-source-7.3.tar.xz"
	mv "$d/root/usr/src/linux-source-7.3.tar.xz" "$d/"
	rm -rf "$d/root"
	dpkg-deb -f "$f" Version >"$d/version"
	echo "$f" >"$d/.mbx-unpacked"
	say "linux-source-7.3 $(cat "$d/version"): $d/linux-source-7.3.tar.xz"
}

# One fetcher at a time (parallel make targets may both want a kernel).
mkdir -p "$apt_dir"
exec 9>"$apt_dir/.lock"
flock 9

[ $# -gt 0 ] || set -- all
for k in "$@"; do
	case $k in
	6.12) fetch_612 ;;
	7.3) fetch_73 ;;
	all) fetch_612; fetch_73 ;;
	*) die "unknown kernel '$k' (6.12, 7.3 or all)" ;;
	esac
done
