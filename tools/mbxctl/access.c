// SPDX-License-Identifier: GPL-2.0
/*
 * mbxctl: whether the caller may open a port by name, for sending or
 * receiving, as the kernel decides it (mbx_name_may_open()): the owner's,
 * else the group's, else the others' r or w bit, or CAP_IPC_OWNER.
 *
 * MBX_IOC_PORT_LIST zeroes the counters (and pool_free) of a port the
 * caller may not open and marks it no other way: ls asks here to tell a
 * hidden port from an idle one.  The file-system uid is taken to be the
 * effective uid, as it is unless a program called setfsuid(2).
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mbxctl.h"

#define CAP_IPC_OWNER_BIT	15

/* Whether CAP_IPC_OWNER is in the effective set (/proc/self/status). */
static bool cap_ipc_owner(void)
{
	static int known = -1;
	unsigned long long eff;
	char line[256];
	FILE *f;

	if (known >= 0)
		return known;
	known = 0;
	f = fopen("/proc/self/status", "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1) {
			known = !!(eff & (1ULL << CAP_IPC_OWNER_BIT));
			break;
		}
	fclose(f);
	return known;
}

/* Whether @gid is the caller's effective or a supplementary group. */
static bool in_group(uint32_t gid)
{
	gid_t groups[256];
	int i, n;

	if (getegid() == (gid_t)gid)
		return true;
	n = getgroups(ARRAY_SIZE(groups), groups);
	for (i = 0; i < n; i++)
		if (groups[i] == (gid_t)gid)
			return true;
	return false;
}

bool may_open(uint32_t uid, uint32_t gid, uint32_t mode)
{
	if (geteuid() == (uid_t)uid)
		mode >>= 6;
	else if (in_group(gid))
		mode >>= 3;
	return (mode & 06) || cap_ipc_owner();
}
