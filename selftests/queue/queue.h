/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The queue tests' common part (queue_test.c, queue_wait_test.c): a child
 * that blocks in a receive or a send.
 */
#ifndef _QUEUE_H
#define _QUEUE_H

#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "kselftest_harness.h"
#include "mbx_helpers.h"

/* Child: blocking receive; exits with the first byte received, or errno. */
static inline pid_t fork_receiver(int fd)
{
	pid_t pid = t_fork();
	char buf[64];
	ssize_t n;

	if (pid == 0) {
		n = mbx_recv(fd, buf, sizeof(buf), NULL);
		if (n < 0)
			_exit(t_code(n));
		_exit(n > 0 ? (unsigned char)buf[0] : T_BAD_DATA);
	}
	return pid;
}

/* Child: blocking send of @s at @prio; exits 0 or errno. */
static inline pid_t fork_sender(int fd, const char *s, unsigned int prio)
{
	pid_t pid = t_fork();

	if (pid == 0)
		_exit(t_code(t_send_str(fd, s, prio)));
	return pid;
}

#endif /* _QUEUE_H */
