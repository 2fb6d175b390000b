/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The queue tests' common part (queue_test.c, queue_wait_test.c): the raw
 * send and receive calls, and a child that blocks in a receive or a send.
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

/* MBX_IOC_RECV into @buf; the kernel's answer is left in @r. */
static inline long recv_raw(int fd, void *buf, uint64_t len, uint32_t flags,
			    struct mbx_recv *r)
{
	memset(r, 0, sizeof(*r));
	r->buf = (uintptr_t)buf;
	r->len = len;
	r->flags = flags;
	return t_ioctl(fd, MBX_IOC_RECV, r);
}

static inline long send_raw(int fd, const void *buf, uint64_t len, uint32_t prio,
			    uint64_t tag, uint32_t flags)
{
	struct mbx_send s;

	memset(&s, 0, sizeof(s));
	s.buf = (uintptr_t)buf;
	s.len = len;
	s.prio = prio;
	s.tag = tag;
	s.flags = flags;
	return t_ioctl(fd, MBX_IOC_SEND, &s);
}

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
