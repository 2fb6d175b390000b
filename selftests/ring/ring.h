/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ring tests' common part (ring_test.c, ring_wait_test.c): a ring
 * port of a given size, its layout, attaching a role with libmailbox, the
 * copying calls with a timeout, and the fixture: a ring port with a
 * producer and a consumer attached.
 */
#ifndef _RING_TEST_H
#define _RING_TEST_H

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "mbx_helpers.h"

#define PG		4096UL
#define RSZ		(4 * PG)
#define MS		1000000ULL
#define REC(len)	(8 + (((len) + 7) & ~7UL))

static inline int ring_port(size_t size)
{
	int fd = mbx_ring_port_create(MBX_DEV_AUTO, NULL, size, 0600, 0);

	return fd < 0 ? -errno : fd;
}

static inline int ring_info(int fd, struct mbx_ring_info *ri)
{
	memset(ri, 0, sizeof(*ri));
	return (int)t_ioctl(fd, MBX_IOC_RING_INFO, ri);
}

static inline int attach(int fd, unsigned int role, struct mbx_ring **r)
{
	return mbx_ring_attach(fd, role, r) ? -errno : 0;
}

static inline long ring_send(struct mbx_ring *r, const void *buf, size_t len,
			     uint64_t t)
{
	return mbx_ring_send(r, buf, len, t) ? -errno : 0;
}

static inline long ring_recv(struct mbx_ring *r, void *buf, size_t len, uint64_t t)
{
	ssize_t n = mbx_ring_recv(r, buf, len, t);

	return n < 0 ? -errno : n;
}

static inline void sig_nop(int sig)
{
}

FIXTURE(ring) {
	int fd;
	struct mbx_ring *prod;
	struct mbx_ring *cons;
};

FIXTURE_SETUP(ring)
{
	self->fd = ring_port(RSZ);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, attach(self->fd, MBX_RING_PRODUCER, &self->prod));
	ASSERT_EQ(0, attach(self->fd, MBX_RING_CONSUMER, &self->cons));
}

FIXTURE_TEARDOWN(ring)
{
	mbx_ring_detach(self->prod);
	mbx_ring_detach(self->cons);
	close(self->fd);
}

#endif /* _RING_TEST_H */
