#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# check-man.sh: lint the manual pages in docs/ (mailbox.7, man1/*.1,
# man3/*.3 and man8/*.8).
#
# Every page must be silent under both
#   groff -ww -man -z        (all groff warnings)
#   mandoc -T lint -W warning
# Any output from either, or a failing exit status, fails the check.
#
# Alias pages that only hold ".so man3/NAME.3" are checked by groff (which
# follows the .so and complains if the target is missing) and by mandoc at
# level "error": mandoc always warns ".so is fragile" about them, which is
# the point of such a page, so that one warning is not treated as a failure.
# Their targets are linted in full as pages of their own.
#
# Run from anywhere; exits 0 if every page is clean, 1 otherwise.
set -eu

cd "$(dirname "$0")"

for tool in groff mandoc; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "check-man: $tool not found (apt-get install $tool)" >&2
		exit 2
	fi
done

status=0
checked=0

# Run "$@" on page $1's behalf; fail the page on output or exit status.
lint() {
	page=$1
	shift
	if ! out=$("$@" 2>&1) || [ -n "$out" ]; then
		printf '%s: %s\n' "$page" "$*" >&2
		[ -z "$out" ] || printf '%s\n' "$out" >&2
		status=1
	fi
}

for page in *.7 man1/*.1 man3/*.3 man8/*.8; do
	[ -e "$page" ] || continue
	checked=$((checked + 1))
	# An alias page: nothing but comments and one .so request.
	if [ "$(grep -cv '^\.\\"' "$page")" -eq 1 ] &&
	   grep -q '^\.so man3/[A-Za-z0-9_]*\.3$' "$page"; then
		target=$(sed -n 's/^\.so //p' "$page")
		if [ ! -f "$target" ]; then
			echo "$page: .so target $target does not exist" >&2
			status=1
			continue
		fi
		lint "$page" groff -ww -man -z "$page"
		lint "$page" mandoc -T lint -W error "$page"
		continue
	fi
	lint "$page" groff -ww -man -z "$page"
	lint "$page" mandoc -T lint -W warning "$page"
done

if [ "$checked" -eq 0 ]; then
	echo "check-man: no pages found" >&2
	exit 1
fi
[ "$status" -eq 0 ] && echo "check-man: $checked pages clean"
exit "$status"
