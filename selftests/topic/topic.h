/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The copy-mode topic tests' helpers (topic_test.c, topic_limits_test.c):
 * a topic, a subscriber, sending and receiving a u32, subscribing with a
 * policy and limits.  Each call returns a result or -errno.
 */
#ifndef _TOPIC_H
#define _TOPIC_H

#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kselftest_harness.h"
#include "mbx_helpers.h"

/* An anonymous topic of @cap messages of up to 64 bytes; its fd publishes. */
static inline int topic(uint32_t cap)
{
	return t_port(cap, 64, 0600, NULL, MBX_PORT_TOPIC);
}

/* A new subscriber of @fd's topic: a receive-only dup, non-blocking. */
static inline int sub(int fd)
{
	return mbx_port_dup(fd, MBX_RECV | MBX_NONBLOCK);
}

/* Send a u32 sequence number @v at @prio with tag @tag. */
static inline long send_u32(int fd, uint32_t v, uint32_t prio,
			    uint64_t tag, uint32_t flags)
{
	struct mbx_send s = { .buf = (uintptr_t)&v, .len = sizeof(v),
			      .prio = prio, .tag = tag, .flags = flags };

	return t_ioctl(fd, MBX_IOC_SEND, &s);
}

/* Receive a u32; the kernel's answer is left in @r.  The value or -errno. */
static inline long long recv_u32(int fd, uint32_t flags, struct mbx_recv *r)
{
	uint32_t v = 0;
	long ret;

	memset(r, 0, sizeof(*r));
	r->buf = (uintptr_t)&v;
	r->len = sizeof(v);
	r->flags = flags;
	ret = t_ioctl(fd, MBX_IOC_RECV, r);
	return ret < 0 ? ret : (long long)v;
}

static inline long subscribe(int fd, uint32_t policy, uint32_t max_msgs,
			     uint64_t max_bytes)
{
	struct mbx_subscribe s = { .policy = policy, .max_msgs = max_msgs,
				   .max_bytes = max_bytes };

	return t_ioctl(fd, MBX_IOC_SUBSCRIBE, &s);
}

#endif /* _TOPIC_H */
