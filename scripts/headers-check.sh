#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make headers-check`: each public header compiles on its own, in C and in
# C++, without a single diagnostic.
#
#   <linux/mailbox.h>  (uapi/)            alone
#   <mailbox.h>        (userlib/include/) alone; it includes the first
#
# Each is compiled as C (gcc -std=c99, -std=c11) and as C++ (g++ -std=c++11,
# -std=c++17) with -Wall -Wextra -Werror -pedantic and a few more warnings;
# the test file uses every structure and ioctl number, so that _IOC_SIZE
# checks and struct layouts are evaluated too.  The C++ builds of
# <mailbox.h> are linked against build/libmailbox.a to prove its functions
# have C linkage.  Any output from the compiler fails the check.
#
# Usage: scripts/headers-check.sh OUTDIR
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/build/headers-check}
cc=${CC:-cc}
cxx=${CXX:-g++}
lib=$top/build/libmailbox.a
mkdir -p "$out"

warn=(-Wall -Wextra -Werror -pedantic -Wundef -Wcast-align -Wpointer-arith
      -Wwrite-strings -Wredundant-decls -Wmissing-declarations)
# Not -Wshadow in C++: there, mbx_send() "hides the constructor" of struct
# mbx_send, as stat() does for struct stat; C has no such rule.
cwarn=(-Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wold-style-definition
       -Wdeclaration-after-statement)
cxxwarn=(-Wnon-virtual-dtor -Wzero-as-null-pointer-constant)

# The uses: every structure (sizes and a member each) and every ioctl number.
cat >"$out/uses.h" <<'USES'
static const unsigned long mbx_check_ioctls[] = {
	MBX_IOC_VERSION, MBX_IOC_PORT_CREATE, MBX_IOC_PORT_OPEN,
	MBX_IOC_PORT_UNLINK, MBX_IOC_PORT_LIST, MBX_IOC_SEND, MBX_IOC_RECV,
	MBX_IOC_PORT_INFO, MBX_IOC_SHUTDOWN, MBX_IOC_BUF_ALLOC,
	MBX_IOC_BUF_RELEASE, MBX_IOC_CALL, MBX_IOC_SEND_BATCH,
	MBX_IOC_RECV_BATCH, MBX_IOC_PORT_DUP,
};
static const unsigned long mbx_check_sizes[] = {
	sizeof(struct mbx_version), sizeof(struct mbx_port_create),
	sizeof(struct mbx_port_open), sizeof(struct mbx_port_unlink),
	sizeof(struct mbx_port_dup), sizeof(struct mbx_send),
	sizeof(struct mbx_recv), sizeof(struct mbx_port_info),
	sizeof(struct mbx_port_list), sizeof(struct mbx_buf),
	sizeof(struct mbx_call), sizeof(struct mbx_batch),
};

static unsigned long mbx_check_sum(void)
{
	unsigned long sum = MBX_API_VERSION + MBX_NAME_LEN + MBX_PRIO_MAX +
			    MBX_BATCH_MAX + MBX_STATE_NAMED + MBX_CALL_SENT +
			    MBX_MSG_BUF + MBX_SEND + MBX_RECV + MBX_FEAT_LIST;
	unsigned int i;

	for (i = 0; i < sizeof(mbx_check_ioctls) / sizeof(mbx_check_ioctls[0]); i++)
		sum += mbx_check_ioctls[i];
	for (i = 0; i < sizeof(mbx_check_sizes) / sizeof(mbx_check_sizes[0]); i++)
		sum += mbx_check_sizes[i];
	return sum + sizeof(MBX_DEVICE_PATH);
}
USES

cat >"$out/uapi.c" <<'SRC'
#include <linux/mailbox.h>
#include "uses.h"

int main(void)
{
	struct mbx_port_info info;

	info.capacity = 1;
	return mbx_check_sum() == 0 ? (int)info.capacity : 0;
}
SRC

cat >"$out/lib.c" <<'SRC'
#include <mailbox.h>
#include "uses.h"

int main(void)
{
	char base[8];
	int (*fn)(int, struct mbx_port_info **) = mbx_port_list;

	(void)fn;
	return mbx_check_sum() == 0 ? (int)(mbx_buf_ptr(base, 1) == base) : 0;
}
SRC

cat >"$out/lib_link.c" <<'SRC'
#include <mailbox.h>
#include "uses.h"

int main(void)
{
	struct mbx_version v;
	struct mbx_port_info *list;
	int n;

	if (mbx_check_sum() == 0)
		return 1;
	if (mbx_version(MBX_DEV_AUTO, &v) < 0)
		return 0;
	n = mbx_port_list(MBX_DEV_AUTO, &list);
	return n < 0;
}
SRC

pass=0 fail=0
# One compilation: HEADER LANG STD SRC [LINK...]
check() {
	local what=$1 lang=$2 std=$3 src=$4 obj log
	shift 4
	local cmd
	obj=$out/$(basename "$src" .c).$std
	log=$obj.log
	if [ "$lang" = c ]; then
		cmd=("$cc" -x c "-std=$std" "${warn[@]}" "${cwarn[@]}")
	else
		cmd=("$cxx" -x c++ "-std=$std" "${warn[@]}" "${cxxwarn[@]}")
	fi
	cmd+=(-O2 -I"$top/uapi" -I"$top/userlib/include" -I"$out" "$src")
	if [ $# -gt 0 ]; then
		cmd+=(-x none "$@" -o "$obj")
	else
		cmd+=(-c -o "$obj.o")
	fi
	if "${cmd[@]}" >"$log" 2>&1 && [ ! -s "$log" ]; then
		pass=$((pass + 1))
		printf 'headers-check: ok    %-20s %-3s %s\n' "$what" "$lang" "$std"
	else
		fail=$((fail + 1))
		printf 'headers-check: FAIL  %-20s %-3s %s\n' "$what" "$lang" "$std"
		printf '  %s\n' "${cmd[*]}"
		sed 's/^/  | /' "$log"
	fi
}

for std in c99 c11; do
	check "<linux/mailbox.h>" c "$std" "$out/uapi.c"
	check "<mailbox.h>" c "$std" "$out/lib.c"
done
for std in c++11 c++17; do
	check "<linux/mailbox.h>" c++ "$std" "$out/uapi.c"
	check "<mailbox.h>" c++ "$std" "$out/lib.c"
	if [ -r "$lib" ]; then
		check "<mailbox.h> linked" c++ "$std" "$out/lib_link.c" "$lib"
	else
		fail=$((fail + 1))
		echo "headers-check: FAIL  $lib missing (make lib)"
	fi
done

echo "headers-check: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
