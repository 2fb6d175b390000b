// SPDX-License-Identifier: GPL-2.0
/*
 * mbxbench: the environment of a run: limits, sysctls, module parameters.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "bench.h"

static char saved_msg_size[32], saved_bytes_per_user[32];

void prepare_env(void)
{
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	struct stat st;

	/* POSIX mq: the mqueue fs, 4 MiB messages, deep queues, no rlimit. */
	if (stat("/dev/mqueue", &st))
		mkdir("/dev/mqueue", 0755);
	if (mount("mqueue", "/dev/mqueue", "mqueue", 0, NULL) && errno != EBUSY)
		fprintf(stderr, "mbxbench: mount mqueue: %s\n", strerror(errno));
	if (write_file("/proc/sys/fs/mqueue/msgsize_max", "%lu", 4 * MiB) ||
	    write_file("/proc/sys/fs/mqueue/msg_max", "%d", 1024))
		fprintf(stderr, "mbxbench: cannot raise the mqueue limits\n");
	if (setrlimit(RLIMIT_MSGQUEUE, &unlimited))
		perror("mbxbench: setrlimit(RLIMIT_MSGQUEUE)");

	/* Mailbox: copy-mode messages up to 4 MiB, generous accounting. */
	read_file(MBX_PARAM("max_msg_size"), saved_msg_size, sizeof(saved_msg_size));
	read_file(MBX_PARAM("max_bytes_per_user"), saved_bytes_per_user,
		  sizeof(saved_bytes_per_user));
	if (strtoul(saved_msg_size, NULL, 0) < 4 * MiB &&
	    write_file(MBX_PARAM("max_msg_size"), "%lu", 4 * MiB))
		fprintf(stderr, "mbxbench: cannot raise max_msg_size\n");
	if (strtoul(saved_bytes_per_user, NULL, 0) < 4096 * MiB &&
	    write_file(MBX_PARAM("max_bytes_per_user"), "%lu", 4096 * MiB))
		fprintf(stderr, "mbxbench: cannot raise max_bytes_per_user\n");
}

void restore_env(void)
{
	if (saved_msg_size[0])
		write_file(MBX_PARAM("max_msg_size"), "%s", saved_msg_size);
	if (saved_bytes_per_user[0])
		write_file(MBX_PARAM("max_bytes_per_user"), "%s",
			   saved_bytes_per_user);
}
