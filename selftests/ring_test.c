// SPDX-License-Identifier: GPL-2.0
/*
 * Ring ports (docs/SEMANTICS.md, "Rings"): creation and its checks, the
 * layout MBX_IOC_RING_INFO reports, roles, records in FIFO order through
 * the zero-copy and the copying calls and their batches, wrap-around,
 * EMSGSIZE, timeouts, non-blocking fds, signals, poll and epoll, shutdown,
 * a side gone and a new one, fork, what the copy calls do on a ring port,
 * the old struct size, fdinfo, accounting, an idle ring's CPU time, and
 * wake-up races between two vCPUs with and without spinning.
 */
#define _GNU_SOURCE
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

static int ring_port(size_t size)
{
	int fd = mbx_ring_port_create(MBX_DEV_AUTO, NULL, size, 0600, 0);

	return fd < 0 ? -errno : fd;
}

static int ring_info(int fd, struct mbx_ring_info *ri)
{
	memset(ri, 0, sizeof(*ri));
	return (int)t_ioctl(fd, MBX_IOC_RING_INFO, ri);
}

static int attach(int fd, unsigned int role, struct mbx_ring **r)
{
	return mbx_ring_attach(fd, role, r) ? -errno : 0;
}

static long ring_send(struct mbx_ring *r, const void *buf, size_t len,
		      uint64_t t)
{
	return mbx_ring_send(r, buf, len, t) ? -errno : 0;
}

static long ring_recv(struct mbx_ring *r, void *buf, size_t len, uint64_t t)
{
	ssize_t n = mbx_ring_recv(r, buf, len, t);

	return n < 0 ? -errno : n;
}

static void sig_nop(int sig)
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

TEST(feature_bit)
{
	struct mbx_version v;

	ASSERT_EQ(0, mbx_version(MBX_DEV_AUTO, &v));
	EXPECT_TRUE(v.features & MBX_FEAT_RING);
}

TEST(create_checks)
{
	struct mbx_port_create c;
	int fd;

	EXPECT_EQ(-EINVAL, ring_port(0));
	EXPECT_EQ(-EINVAL, ring_port(PG / 2));
	EXPECT_EQ(-EINVAL, ring_port(3 * PG));
	EXPECT_EQ(-EINVAL, ring_port(1ULL << 40));
	fd = ring_port(PG);
	EXPECT_LE(0, fd);
	close(fd);

	memset(&c, 0, sizeof(c));
	c.flags = MBX_PORT_RING;
	c.ring_size = RSZ;
	fd = mbx_port_create(MBX_DEV_AUTO, &c);
	EXPECT_LE(0, fd);
	close(fd);
	/* A ring is nothing else: no queue, no pool, no topic, no mq. */
	c.capacity = 4;
	EXPECT_EQ(-EINVAL, mbx_port_create(MBX_DEV_AUTO, &c));
	c.capacity = 0;
	c.max_msg_size = 64;
	EXPECT_EQ(-EINVAL, mbx_port_create(MBX_DEV_AUTO, &c));
	c.max_msg_size = 0;
	c.pool_size = PG;
	EXPECT_EQ(-EINVAL, mbx_port_create(MBX_DEV_AUTO, &c));
	c.pool_size = 0;
	c.flags = MBX_PORT_RING | MBX_PORT_MQ;
	EXPECT_EQ(-EINVAL, mbx_port_create(MBX_DEV_AUTO, &c));
	c.flags = MBX_PORT_RING | MBX_PORT_TOPIC;
	EXPECT_EQ(-EINVAL, mbx_port_create(MBX_DEV_AUTO, &c));
	/* ring_size without the flag */
	c.flags = 0;
	c.capacity = 4;
	EXPECT_EQ(-EINVAL, mbx_port_create(MBX_DEV_AUTO, &c));
	/* The library refuses flags it does not know. */
	EXPECT_EQ(-1, mbx_ring_port_create(MBX_DEV_AUTO, NULL, RSZ, 0600,
					   MBX_PORT_MQ));
	EXPECT_EQ(EINVAL, errno);
}

/* A program built before rings passes the 88-byte struct: still taken. */
TEST(old_create_struct_size)
{
	char big[sizeof(struct mbx_port_create) + 8];
	struct mbx_port_create c;
	int dev, fd;

	dev = t_dev();
	ASSERT_LE(0, dev);
	memset(&c, 0, sizeof(c));
	c.capacity = 4;
	c.max_msg_size = 64;
	fd = ioctl(dev, _IOC(_IOC_WRITE, MBX_IOC_MAGIC, 0x01,
			     MBX_PORT_CREATE_SIZE_VER0), &c);
	EXPECT_LE(0, fd);
	EXPECT_EQ(0, mbx_send(fd, "x", 1, 0));
	close(fd);
	/* ... but it cannot ask for a ring: its ring_size is zero. */
	c.capacity = 0;
	c.max_msg_size = 0;
	c.flags = MBX_PORT_RING;
	EXPECT_EQ(-EINVAL, t_ioctl(dev, _IOC(_IOC_WRITE, MBX_IOC_MAGIC, 0x01,
					     MBX_PORT_CREATE_SIZE_VER0), &c));
	/* A larger struct must be zero past what the module knows. */
	memset(big, 0, sizeof(big));
	memcpy(big, &c, sizeof(c));
	((struct mbx_port_create *)big)->ring_size = RSZ;
	fd = ioctl(dev, _IOC(_IOC_WRITE, MBX_IOC_MAGIC, 0x01, sizeof(big)),
		   big);
	EXPECT_LE(0, fd);
	close(fd);
	big[sizeof(c)] = 1;
	EXPECT_EQ(-EINVAL, t_ioctl(dev, _IOC(_IOC_WRITE, MBX_IOC_MAGIC, 0x01,
					     sizeof(big)), big));
	close(dev);
}

TEST(info_and_port_info)
{
	char big[sizeof(struct mbx_ring_info) + 16];
	struct mbx_port_info pi;
	struct mbx_ring_info ri;
	struct mbx_ring *p;
	int fd;

	fd = ring_port(RSZ);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ring_info(fd, &ri));
	EXPECT_EQ(0, ri.roles);
	EXPECT_EQ(RSZ, ri.ring_size);
	EXPECT_EQ(MBX_RING_OFF_PRODUCER, ri.producer_off);
	EXPECT_EQ(MBX_RING_OFF_CONSUMER, ri.consumer_off);
	EXPECT_EQ(MBX_RING_OFF_STATUS, ri.status_off);
	EXPECT_EQ(MBX_RING_OFF_DATA, ri.data_off);
	EXPECT_EQ(sysconf(_SC_PAGESIZE), ri.page_size);
	EXPECT_GE(ri.page_size, ri.producer_flags + 4);
	EXPECT_NE(ri.producer_pos, ri.producer_flags);
	EXPECT_EQ(0, ri.now_produced);
	EXPECT_EQ(0, ri.now_status);

	ASSERT_EQ(0, t_info(fd, &pi));
	EXPECT_TRUE(pi.state & MBX_STATE_RING);
	EXPECT_EQ(RSZ - 8, pi.max_msg_size);
	EXPECT_EQ(0, pi.capacity);

	ASSERT_EQ(0, attach(fd, MBX_RING_PRODUCER, &p));
	ASSERT_EQ(0, ring_info(fd, &ri));
	EXPECT_EQ(MBX_RING_ROLE_PRODUCER, ri.roles);
	EXPECT_EQ(MBX_RING_ST_PRODUCER, ri.now_status);
	ASSERT_EQ(0, ring_send(p, "abc", 3, 0));
	ASSERT_EQ(0, ring_info(fd, &ri));
	EXPECT_EQ(REC(3), ri.now_produced);

	/* Size-versioned: a larger struct (zero past ours) is taken. */
	memset(big, 0, sizeof(big));
	EXPECT_EQ(0, t_ioctl(fd, _IOC(_IOC_READ | _IOC_WRITE, MBX_IOC_MAGIC,
				      0x1D, sizeof(big)), big));
	EXPECT_EQ(RSZ, ((struct mbx_ring_info *)big)->ring_size);
	EXPECT_EQ(0, big[sizeof(ri) + 3]);
	big[sizeof(ri) + 3] = 1;
	EXPECT_EQ(-EINVAL, t_ioctl(fd, _IOC(_IOC_READ | _IOC_WRITE,
					    MBX_IOC_MAGIC, 0x1D, sizeof(big)),
				   big));
	EXPECT_EQ(-EINVAL, t_ioctl(fd, _IOC(_IOC_READ | _IOC_WRITE,
					    MBX_IOC_MAGIC, 0x1D, 16), big));
	memset(&ri, 0, sizeof(ri));
	ri.flags = 1;
	EXPECT_EQ(-EINVAL, t_ioctl(fd, MBX_IOC_RING_INFO, &ri));
	mbx_ring_detach(p);
	close(fd);
}

TEST(ring_ioctls_on_other_ports)
{
	struct mbx_ring_attach a = { .role = MBX_RING_ROLE_PRODUCER };
	struct mbx_ring_info ri;
	struct mbx_ring *r;
	int fd = t_anon(4, 64);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EOPNOTSUPP, ring_info(fd, &ri));
	EXPECT_EQ(-EOPNOTSUPP, t_ioctl(fd, MBX_IOC_RING_ATTACH, &a));
	EXPECT_EQ(-EOPNOTSUPP, attach(fd, MBX_RING_CONSUMER, &r));
	close(fd);
}

TEST(roles)
{
	struct mbx_ring_attach a = { 0 };
	struct mbx_ring *p, *c, *x;
	int fd, other, rd, wr;

	fd = ring_port(RSZ);
	ASSERT_LE(0, fd);
	other = mbx_port_dup(fd, MBX_SEND | MBX_RECV);
	rd = mbx_port_dup(fd, MBX_RECV);
	wr = mbx_port_dup(fd, MBX_SEND);
	ASSERT_LE(0, other);
	ASSERT_LE(0, rd);
	ASSERT_LE(0, wr);

	/* The role needs the access: send for the producer, receive for the consumer. */
	EXPECT_EQ(-EBADF, attach(rd, MBX_RING_PRODUCER, &x));
	EXPECT_EQ(-EBADF, attach(wr, MBX_RING_CONSUMER, &x));
	EXPECT_EQ(-EINVAL, attach(fd, 3, &x));
	a.role = MBX_RING_ROLE_PRODUCER;
	a.flags = 1;
	EXPECT_EQ(-EINVAL, t_ioctl(fd, MBX_IOC_RING_ATTACH, &a));
	a.flags = 0;
	a.role = 0;
	EXPECT_EQ(-EINVAL, t_ioctl(fd, MBX_IOC_RING_ATTACH, &a));

	ASSERT_EQ(0, attach(wr, MBX_RING_PRODUCER, &p));
	ASSERT_EQ(0, attach(rd, MBX_RING_CONSUMER, &c));
	/* One of each: another file is refused, the holder may ask again. */
	EXPECT_EQ(-EBUSY, attach(fd, MBX_RING_PRODUCER, &x));
	EXPECT_EQ(-EBUSY, attach(other, MBX_RING_CONSUMER, &x));
	ASSERT_EQ(0, attach(wr, MBX_RING_PRODUCER, &x));
	mbx_ring_detach(x);
	/* Detaching unmaps; the role stays with the open file. */
	mbx_ring_detach(p);
	EXPECT_EQ(-EBUSY, attach(fd, MBX_RING_PRODUCER, &x));
	/* Closing the file ends it: another may take it. */
	close(wr);
	ASSERT_EQ(0, attach(other, MBX_RING_PRODUCER, &p));
	/* A role's calls are refused in the other role. */
	EXPECT_EQ(NULL, mbx_ring_reserve(c, 8, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, mbx_ring_release(p));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, ring_send(p, "x", 1, 0));
	mbx_ring_detach(p);
	mbx_ring_detach(c);
	close(rd);
	close(other);
	close(fd);
}

TEST(enter_checks)
{
	struct mbx_ring_enter e = { 0 };
	struct mbx_ring *p;
	int fd;

	fd = ring_port(RSZ);
	ASSERT_LE(0, fd);
	e.flags = MBX_RING_ENTER_WAKE;
	e.role = MBX_RING_ROLE_PRODUCER;
	/* Not held by this file */
	EXPECT_EQ(-EPERM, t_ioctl(fd, MBX_IOC_RING_ENTER, &e));
	ASSERT_EQ(0, attach(fd, MBX_RING_PRODUCER, &p));
	EXPECT_EQ(0, t_ioctl(fd, MBX_IOC_RING_ENTER, &e));
	e.role = MBX_RING_ROLE_CONSUMER;
	EXPECT_EQ(-EPERM, t_ioctl(fd, MBX_IOC_RING_ENTER, &e));
	e.role = 3;
	EXPECT_EQ(-EINVAL, t_ioctl(fd, MBX_IOC_RING_ENTER, &e));
	e.role = MBX_RING_ROLE_PRODUCER;
	e.flags = 0;
	EXPECT_EQ(-EINVAL, t_ioctl(fd, MBX_IOC_RING_ENTER, &e));
	e.flags = 0x100 | MBX_RING_ENTER_WAKE;
	EXPECT_EQ(-EINVAL, t_ioctl(fd, MBX_IOC_RING_ENTER, &e));
	/* A wake carries no wait arguments. */
	e.flags = MBX_RING_ENTER_WAKE;
	e.pos = 8;
	EXPECT_EQ(-EINVAL, t_ioctl(fd, MBX_IOC_RING_ENTER, &e));
	e.pos = 0;
	/* More room than the ring has can never come. */
	e.flags = MBX_RING_ENTER_WAIT | MBX_NONBLOCK;
	e.want = RSZ + 8;
	EXPECT_EQ(-EINVAL, t_ioctl(fd, MBX_IOC_RING_ENTER, &e));
	e.want = RSZ;
	EXPECT_EQ(0, t_ioctl(fd, MBX_IOC_RING_ENTER, &e));
	/* The ring is full if pos is a ring ahead: non-blocking fails. */
	e.pos = RSZ;
	EXPECT_EQ(-EAGAIN, t_ioctl(fd, MBX_IOC_RING_ENTER, &e));
	e.flags = MBX_RING_ENTER_WAIT | MBX_TIMEOUT;
	e.timeout_ns = 20 * MS;
	EXPECT_EQ(-ETIMEDOUT, t_ioctl(fd, MBX_IOC_RING_ENTER, &e));
	e.flags = MBX_RING_ENTER_WAIT | MBX_ABSTIME;
	EXPECT_EQ(-EINVAL, t_ioctl(fd, MBX_IOC_RING_ENTER, &e));
	/* Smaller than the struct: refused. */
	EXPECT_EQ(-EINVAL, t_ioctl(fd, _IOC(_IOC_WRITE, MBX_IOC_MAGIC, 0x1F,
					    16), &e));
	mbx_ring_detach(p);
	close(fd);
}

TEST_F(ring, fifo_every_length_and_wrap)
{
	unsigned char buf[RSZ], out[RSZ];
	uint32_t i, n = 0;
	long got;

	/* Many times round the ring, every length from 0 up. */
	for (i = 0; i < 3000; i++) {
		size_t len = (i * 37) % 700;

		t_fill(buf, len, i);
		ASSERT_EQ(0, ring_send(self->prod, buf, len, 0));
		if (i % 3 == 2 || i == 2999) {
			for (; n <= i; n++) {
				size_t want = (n * 37) % 700;

				got = ring_recv(self->cons, out, sizeof(out), 0);
				ASSERT_EQ((long)want, got);
				ASSERT_TRUE(t_check(out, want, n));
			}
		}
	}
	EXPECT_EQ(NULL, mbx_ring_peek(self->cons, (size_t *)&got, 0));
	EXPECT_EQ(EAGAIN, errno);
}

TEST_F(ring, largest_record_and_emsgsize)
{
	static unsigned char buf[RSZ], out[RSZ];
	size_t len;
	const void *p;

	EXPECT_EQ(NULL, mbx_ring_reserve(self->prod, RSZ - 7, 0));
	EXPECT_EQ(EMSGSIZE, errno);
	t_fill(buf, RSZ - 8, 7);
	/* Put the ring's positions mid-way, so the largest one wraps. */
	ASSERT_EQ(0, ring_send(self->prod, buf, 100, 0));
	ASSERT_EQ(100, ring_recv(self->cons, out, sizeof(out), 0));
	ASSERT_EQ(0, ring_send(self->prod, buf, RSZ - 8, 0));
	/* Full: nothing else fits, not even an empty record. */
	EXPECT_EQ(-EAGAIN, ring_send(self->prod, buf, 0, 0));
	/* Too small a buffer: EMSGSIZE, and the record stays. */
	EXPECT_EQ(-EMSGSIZE, ring_recv(self->cons, out, 100, 0));
	p = mbx_ring_peek(self->cons, &len, 0);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(RSZ - 8, len);
	EXPECT_TRUE(t_check(p, len, 7));
	EXPECT_EQ(0, mbx_ring_release(self->cons));
	EXPECT_EQ(0, ring_send(self->prod, buf, RSZ - 8, 0));
}

TEST_F(ring, zero_copy_reserve_commit_peek_release)
{
	const void *q[4];
	size_t len[4];
	void *p[3];
	int i;

	for (i = 0; i < 3; i++) {
		p[i] = mbx_ring_reserve(self->prod, 10 + i, 0);
		ASSERT_NE(NULL, p[i]);
		t_fill(p[i], 10 + i, 40 + i);
	}
	/* Nothing is visible before the commit. */
	EXPECT_EQ(NULL, mbx_ring_peek(self->cons, &len[0], 0));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, mbx_ring_commit(self->prod));
	EXPECT_EQ(0, mbx_ring_commit(self->prod));
	for (i = 0; i < 3; i++) {
		q[i] = mbx_ring_peek(self->cons, &len[i], 0);
		ASSERT_NE(NULL, q[i]);
		EXPECT_EQ(10 + i, len[i]);
		EXPECT_TRUE(t_check(q[i], len[i], 40 + i));
	}
	EXPECT_EQ(NULL, mbx_ring_peek(self->cons, &len[3], 0));
	/* Not released yet: the producer cannot reuse the space. */
	p[0] = mbx_ring_reserve(self->prod, RSZ - 8 - REC(10), 0);
	EXPECT_EQ(NULL, p[0]);
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, mbx_ring_release(self->cons));
	p[0] = mbx_ring_reserve(self->prod, RSZ - 8, 0);
	EXPECT_NE(NULL, p[0]);
}

/*
 * Room that only the producer's own commit could make never comes: a
 * reserve that would wait for it fails at once with EDEADLK, even with no
 * timeout, and waits as usual once the records are committed.
 */
TEST_F(ring, reserve_behind_own_uncommitted_records_is_edeadlk)
{
	const void *q;
	size_t len;

	ASSERT_NE(NULL, mbx_ring_reserve(self->prod, RSZ / 2, 0));
	EXPECT_EQ(NULL, mbx_ring_reserve(self->prod, RSZ / 2, MBX_RING_FOREVER));
	EXPECT_EQ(EDEADLK, errno);
	EXPECT_EQ(NULL, mbx_ring_peek(self->cons, &len, 0));
	EXPECT_EQ(0, mbx_ring_commit(self->prod));
	/* Committed, the room can come from the consumer: no EDEADLK. */
	EXPECT_EQ(NULL, mbx_ring_reserve(self->prod, RSZ / 2, 0));
	EXPECT_EQ(EAGAIN, errno);
	q = mbx_ring_peek(self->cons, &len, 0);
	ASSERT_NE(NULL, q);
	EXPECT_EQ(RSZ / 2, len);
	EXPECT_EQ(0, mbx_ring_release(self->cons));
	EXPECT_NE(NULL, mbx_ring_reserve(self->prod, RSZ / 2, 0));
}

TEST_F(ring, batches)
{
	static char big[RSZ];
	char bufs[8][32], out[8][32];
	struct iovec iov[8], rio[8];
	int i;

	for (i = 0; i < 8; i++) {
		memset(bufs[i], 'a' + i, sizeof(bufs[i]));
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = 1 + i;
		rio[i].iov_base = out[i];
		rio[i].iov_len = sizeof(out[i]);
	}
	EXPECT_EQ(8, mbx_ring_send_batch(self->prod, iov, 8, 0));
	rio[5].iov_len = 2;		/* too small for record 5 (6 bytes) */
	EXPECT_EQ(5, mbx_ring_recv_batch(self->cons, rio, 8, 0));
	for (i = 0; i < 5; i++) {
		EXPECT_EQ(1 + i, rio[i].iov_len);
		EXPECT_EQ('a' + i, out[i][0]);
	}
	rio[0].iov_len = 2;
	EXPECT_EQ(-1, mbx_ring_recv_batch(self->cons, rio, 1, 0));
	EXPECT_EQ(EMSGSIZE, errno);
	for (i = 0; i < 8; i++)
		rio[i].iov_len = sizeof(out[i]);
	EXPECT_EQ(3, mbx_ring_recv_batch(self->cons, rio, 8, 0));
	EXPECT_EQ(6, rio[0].iov_len);
	EXPECT_EQ('f', out[0][0]);
	EXPECT_EQ(-1, mbx_ring_recv_batch(self->cons, rio, 8, 0));
	EXPECT_EQ(EAGAIN, errno);
	/* A batch that does not fit sends what fits. */
	for (i = 0; i < 8; i++) {
		iov[i].iov_base = big;
		iov[i].iov_len = RSZ / 4 - 8;
	}
	EXPECT_EQ(4, mbx_ring_send_batch(self->prod, iov, 8, 0));
	EXPECT_EQ(-1, mbx_ring_send_batch(self->prod, iov, 8, 0));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-1, mbx_ring_send_batch(self->prod, iov, 0, 0));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(ring, timeouts)
{
	char buf[RSZ];
	uint64_t t0;
	size_t len;

	t0 = t_now_ns();
	EXPECT_EQ(NULL, mbx_ring_peek(self->cons, &len, 50 * MS));
	EXPECT_EQ(ETIMEDOUT, errno);
	EXPECT_LE(50 * MS, t_now_ns() - t0);
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(0, ring_send(self->prod, buf, RSZ - 8, 0));
	t0 = t_now_ns();
	EXPECT_EQ(-ETIMEDOUT, ring_send(self->prod, buf, 1, 50 * MS));
	EXPECT_LE(50 * MS, t_now_ns() - t0);
	/* No spin either: a long spin still ends at the deadline. */
	ASSERT_EQ(0, mbx_ring_set_spin(self->cons, 5 * MS));
	t0 = t_now_ns();
	EXPECT_EQ(RSZ - 8, ring_recv(self->cons, buf, sizeof(buf), 10 * MS));
	EXPECT_EQ(-ETIMEDOUT, ring_recv(self->cons, buf, sizeof(buf), 2 * MS));
	EXPECT_EQ(-1, mbx_ring_set_spin(self->cons, 20000 * MS));
	EXPECT_EQ(EINVAL, errno);
}

TEST(nonblocking_fd)
{
	struct mbx_ring *c;
	size_t len;
	int fd;

	fd = mbx_ring_port_create(MBX_DEV_AUTO, NULL, RSZ, 0600, MBX_NONBLOCK);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, attach(fd, MBX_RING_CONSUMER, &c));
	/* A blocking call on a non-blocking fd spins, then EAGAIN. */
	EXPECT_EQ(NULL, mbx_ring_peek(c, &len, MBX_RING_FOREVER));
	EXPECT_EQ(EAGAIN, errno);
	mbx_ring_detach(c);
	close(fd);
}

/* A child that sends @n records of @len bytes, one every @gap_ms. */
static pid_t sender(int fd, int n, size_t len, unsigned int gap_ms)
{
	struct mbx_ring *p;
	char buf[256];
	pid_t pid;
	int i;

	pid = t_fork();
	if (pid)
		return pid;
	if (attach(fd, MBX_RING_PRODUCER, &p))
		_exit(T_BAD_SETUP);
	for (i = 0; i < n; i++) {
		if (gap_ms)
			t_sleep_ms(gap_ms);
		t_fill(buf, len, i);
		if (ring_send(p, buf, len, 10000 * MS))
			_exit(errno);
	}
	_exit(0);
}

TEST_F(ring, blocked_consumer_is_woken)
{
	char buf[256];
	pid_t pid;
	int i;

	mbx_ring_detach(self->prod);
	self->prod = NULL;
	/* The fixture's file holds the producer role: a child inherits it. */
	pid = sender(self->fd, 20, 100, 20);
	ASSERT_LT(0, pid);
	for (i = 0; i < 20; i++) {
		ASSERT_EQ(100, ring_recv(self->cons, buf, sizeof(buf),
					 MBX_RING_FOREVER));
		ASSERT_TRUE(t_check(buf, 100, i));
	}
	EXPECT_EQ(0, t_reap(pid));
}

TEST_F(ring, blocked_producer_is_woken)
{
	static char buf[RSZ];
	pid_t pid;
	int i;

	ASSERT_EQ(0, ring_send(self->prod, buf, RSZ - 8, 0));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(ring_send(self->prod, buf, 100, 10000 * MS) ? errno : 0);
	ASSERT_EQ(1, t_stays_blocked(pid));
	EXPECT_EQ(RSZ - 8, ring_recv(self->cons, buf, sizeof(buf), 0));
	EXPECT_EQ(0, t_reap(pid));
	EXPECT_EQ(100, ring_recv(self->cons, buf, sizeof(buf), 10000 * MS));
	for (i = 0; i < 3; i++)
		EXPECT_EQ(-EAGAIN, ring_recv(self->cons, buf, sizeof(buf), 0));
}

static void *raise_later(void *arg)
{
	t_sleep_ms(100);
	pthread_kill(*(pthread_t *)arg, SIGUSR1);
	return NULL;
}

TEST_F(ring, signal_interrupts_waits)
{
	struct sigaction sa = { .sa_handler = sig_nop };
	pthread_t self_th = pthread_self(), th;
	size_t len;

	/* No SA_RESTART: both the untimed and the timed wait end in EINTR. */
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	ASSERT_EQ(0, pthread_create(&th, NULL, raise_later, &self_th));
	EXPECT_EQ(NULL, mbx_ring_peek(self->cons, &len, MBX_RING_FOREVER));
	EXPECT_EQ(EINTR, errno);
	pthread_join(th, NULL);
	ASSERT_EQ(0, pthread_create(&th, NULL, raise_later, &self_th));
	EXPECT_EQ(NULL, mbx_ring_peek(self->cons, &len, 5000 * MS));
	EXPECT_EQ(EINTR, errno);
	pthread_join(th, NULL);
	/* Nothing was lost or taken. */
	EXPECT_EQ(0, ring_send(self->prod, "z", 1, 0));
	EXPECT_NE(NULL, mbx_ring_peek(self->cons, &len, 0));
	signal(SIGUSR1, SIG_DFL);
}

TEST_F(ring, poll_and_epoll)
{
	struct pollfd pfd = { .fd = self->fd, .events = POLLIN | POLLOUT };
	struct epoll_event ev = { .events = EPOLLIN }, out;
	static char buf[RSZ];
	int ep, rd;
	pid_t pid;

	/* The fixture's file holds both roles: room, nothing to read. */
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLOUT, pfd.revents);
	ASSERT_EQ(0, ring_send(self->prod, buf, 10, 0));
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLIN | POLLOUT, pfd.revents);
	ASSERT_EQ(10, ring_recv(self->cons, buf, sizeof(buf), 0));
	ASSERT_EQ(0, ring_send(self->prod, buf, RSZ - 8, 0));
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLIN, pfd.revents);
	ASSERT_EQ(RSZ - 8, ring_recv(self->cons, buf, sizeof(buf), 0));

	/* A file without a role sees nothing but the end. */
	rd = mbx_port_dup(self->fd, MBX_RECV);
	ASSERT_LE(0, rd);
	pfd.fd = rd;
	EXPECT_EQ(0, poll(&pfd, 1, 0));

	/* epoll wakes when a child commits. */
	ep = epoll_create1(0);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->fd, &ev));
	EXPECT_EQ(0, epoll_wait(ep, &out, 1, 0));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		t_sleep_ms(100);
		_exit(ring_send(self->prod, "hi", 2, 0) ? errno : 0);
	}
	EXPECT_EQ(1, epoll_wait(ep, &out, 1, T_WAIT_MS));
	EXPECT_TRUE(out.events & EPOLLIN);
	EXPECT_EQ(0, t_reap(pid));
	EXPECT_EQ(2, ring_recv(self->cons, buf, sizeof(buf), 0));

	/* Shutdown: EPOLLHUP for everyone. */
	ASSERT_EQ(0, mbx_shutdown(self->fd));
	pfd.fd = rd;
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_TRUE(pfd.revents & POLLHUP);
	close(ep);
	close(rd);
}

TEST_F(ring, shutdown_ends_the_stream)
{
	struct mbx_ring *c;
	char buf[64];
	size_t len;
	pid_t pid;
	int fd;

	ASSERT_EQ(0, ring_send(self->prod, "one", 3, 0));
	ASSERT_EQ(0, ring_send(self->prod, "three", 5, 0));
	ASSERT_EQ(0, mbx_shutdown(self->fd));
	/* The producer is refused; the consumer drains, then end of stream. */
	EXPECT_EQ(-EPIPE, ring_send(self->prod, "four", 4, MBX_RING_FOREVER));
	EXPECT_EQ(3, ring_recv(self->cons, buf, sizeof(buf), 0));
	EXPECT_EQ(5, ring_recv(self->cons, buf, sizeof(buf), MBX_RING_FOREVER));
	EXPECT_EQ(-EPIPE, ring_recv(self->cons, buf, sizeof(buf), 0));
	EXPECT_EQ(-EPIPE, ring_recv(self->cons, buf, sizeof(buf),
				    MBX_RING_FOREVER));

	/* A consumer blocked on an empty ring is woken by the shutdown. */
	fd = ring_port(RSZ);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, attach(fd, MBX_RING_CONSUMER, &c));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(mbx_ring_peek(c, &len, MBX_RING_FOREVER) ? T_BAD_SUCCESS :
		      errno == EPIPE ? 0 : errno);
	ASSERT_EQ(1, t_stays_blocked(pid));
	ASSERT_EQ(0, mbx_shutdown(fd));
	EXPECT_EQ(0, t_reap(pid));
	mbx_ring_detach(c);
	close(fd);
}

TEST(peer_gone_and_a_new_one)
{
	struct mbx_ring *c, *p;
	struct mbx_ring_info ri;
	char buf[256];
	int fd, i, w;
	pid_t pid;

	fd = ring_port(RSZ);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, attach(fd, MBX_RING_CONSUMER, &c));
	/* Each producer has a file of its own, closed when it exits. */
	for (w = 0; w < 3; w++) {
		pid = t_fork();
		ASSERT_LE(0, pid);
		if (!pid) {
			int wr = mbx_port_dup(fd, MBX_SEND);

			close(fd);
			if (wr < 0 || attach(wr, MBX_RING_PRODUCER, &p))
				_exit(T_BAD_SETUP);
			for (i = 0; i < 5; i++) {
				t_fill(buf, 50, w * 10 + i);
				if (ring_send(p, buf, 50, 0))
					_exit(errno);
			}
			_exit(0);
		}
		EXPECT_EQ(0, t_reap(pid));
		/* Drained, then end of stream: the producer is gone. */
		for (i = 0; i < 5; i++) {
			ASSERT_EQ(50, ring_recv(c, buf, sizeof(buf), 0));
			EXPECT_TRUE(t_check(buf, 50, w * 10 + i));
		}
		EXPECT_EQ(-EPIPE, ring_recv(c, buf, sizeof(buf),
					    MBX_RING_FOREVER));
		ASSERT_EQ(0, ring_info(fd, &ri));
		EXPECT_EQ(MBX_RING_ST_CONSUMER | MBX_RING_ST_PRODUCER_GONE,
			  ri.now_status);
	}
	mbx_ring_detach(c);
	close(fd);

	/* The consumer gone: the producer gets EPIPE. */
	fd = ring_port(RSZ);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, attach(fd, MBX_RING_PRODUCER, &p));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int rd = mbx_port_dup(fd, MBX_RECV);

		close(fd);
		_exit(rd < 0 || mbx_ring_attach(rd, MBX_RING_CONSUMER, &c) ?
		      T_BAD_SETUP : 0);
	}
	EXPECT_EQ(0, t_reap(pid));
	EXPECT_EQ(-EPIPE, ring_send(p, "x", 1, MBX_RING_FOREVER));
	ASSERT_EQ(0, ring_info(fd, &ri));
	EXPECT_TRUE(ri.now_status & MBX_RING_ST_CONSUMER_GONE);
	mbx_ring_detach(p);
	close(fd);
}

TEST(end_of_stream_when_no_sender_is_left)
{
	struct mbx_ring *c;
	char buf[8];
	int fd, rd;
	pid_t pid;

	fd = ring_port(RSZ);
	ASSERT_LE(0, fd);
	rd = mbx_port_dup(fd, MBX_RECV);
	ASSERT_LE(0, rd);
	ASSERT_EQ(0, attach(rd, MBX_RING_CONSUMER, &c));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(fd);
		_exit(ring_recv(c, buf, sizeof(buf), MBX_RING_FOREVER) == -EPIPE ?
		      0 : T_BAD_DATA);
	}
	ASSERT_EQ(1, t_stays_blocked(pid));
	/* No producer ever attached, and now nobody can. */
	close(fd);
	EXPECT_EQ(0, t_reap(pid));
	mbx_ring_detach(c);
	close(rd);
}

TEST(fork_shares_the_role)
{
	struct mbx_ring *p, *c;
	char buf[64];
	int fd, i;
	pid_t pid;

	fd = ring_port(RSZ);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, attach(fd, MBX_RING_CONSUMER, &c));
	ASSERT_EQ(0, attach(fd, MBX_RING_PRODUCER, &p));
	ASSERT_EQ(0, ring_send(p, "parent", 6, 0));
	/* The child's copy of the producer goes on where the parent was. */
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		for (i = 0; i < 3; i++)
			if (ring_send(p, "child", 5, 0))
				_exit(errno);
		_exit(0);
	}
	EXPECT_EQ(0, t_reap(pid));
	EXPECT_EQ(6, ring_recv(c, buf, sizeof(buf), 0));
	for (i = 0; i < 3; i++)
		EXPECT_EQ(5, ring_recv(c, buf, sizeof(buf), 0));
	mbx_ring_detach(p);
	/* A new attach in the parent picks up the shared position. */
	ASSERT_EQ(0, attach(fd, MBX_RING_PRODUCER, &p));
	EXPECT_EQ(0, ring_send(p, "again", 5, 0));
	EXPECT_EQ(5, ring_recv(c, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "again", 5));
	mbx_ring_detach(p);
	mbx_ring_detach(c);
	close(fd);
}

TEST_F(ring, copy_calls_are_refused)
{
	struct mbx_send s = { .buf = (uintptr_t)"x", .len = 1 };
	char buf[64];
	struct mbx_recv r = { .buf = (uintptr_t)buf, .len = sizeof(buf),
			      .flags = MBX_NONBLOCK };
	uint64_t off;

	EXPECT_EQ(-1, write(self->fd, "x", 1));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(-1, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(-EOPNOTSUPP, t_ioctl(self->fd, MBX_IOC_SEND, &s));
	EXPECT_EQ(-EOPNOTSUPP, t_ioctl(self->fd, MBX_IOC_RECV, &r));
	EXPECT_EQ(-EOPNOTSUPP, mbx_send_batch(self->fd, &s, 1, 0));
	r.flags = 0;
	EXPECT_EQ(-EOPNOTSUPP, mbx_recv_batch(self->fd, &r, 1, MBX_NONBLOCK));
	EXPECT_EQ(-EOPNOTSUPP, mbx_call(self->fd, "x", 1, -1, buf,
					sizeof(buf), NULL));
	EXPECT_EQ(-ENODEV, mbx_buf_alloc(self->fd, 64, &off));
	/* The ring still works. */
	EXPECT_EQ(0, ring_send(self->prod, "ok", 2, 0));
	EXPECT_EQ(2, ring_recv(self->cons, buf, sizeof(buf), 0));
}

TEST_F(ring, fdinfo_shows_the_ring)
{
	char v[64];

	ASSERT_EQ(0, ring_send(self->prod, "abcd", 4, 0));
	ASSERT_EQ(0, t_fdinfo(self->fd, "mbx-ring-size", v, sizeof(v)));
	EXPECT_EQ(RSZ, strtoull(v, NULL, 0));
	ASSERT_EQ(0, t_fdinfo(self->fd, "mbx-ring-role", v, sizeof(v)));
	EXPECT_STREQ("producer,consumer", v);
	ASSERT_EQ(0, t_fdinfo(self->fd, "mbx-ring-produced", v, sizeof(v)));
	EXPECT_EQ(REC(4), strtoull(v, NULL, 0));
	ASSERT_EQ(0, t_fdinfo(self->fd, "mbx-ring-consumed", v, sizeof(v)));
	EXPECT_EQ(0, strtoull(v, NULL, 0));
	ASSERT_EQ(0, t_fdinfo(self->fd, "mbx-ring-status", v, sizeof(v)));
	EXPECT_EQ(MBX_RING_ST_PRODUCER | MBX_RING_ST_CONSUMER,
		  strtoull(v, NULL, 0));
	ASSERT_EQ(0, t_fdinfo(self->fd, "mbx-ring-consumer-flags", v,
			      sizeof(v)));
}

/* The per-user byte limit covers the ring. */
TEST(accounting)
{
	char old[32];
	int fd, pfd;
	ssize_t n;

	if (getuid())
		SKIP(return, "needs root for the module parameter");
	pfd = open(T_PARAM_DIR "max_bytes_per_user", O_RDWR);
	ASSERT_LE(0, pfd);
	n = read(pfd, old, sizeof(old) - 1);
	ASSERT_LT(0, n);
	old[n] = '\0';
	ASSERT_LT(0, pwrite(pfd, "200000", 6, 0));
	EXPECT_EQ(-EDQUOT, ring_port(256 * 1024));
	fd = ring_port(64 * 1024);
	EXPECT_LE(0, fd);
	EXPECT_EQ(-EDQUOT, ring_port(128 * 1024));
	close(fd);
	fd = ring_port(128 * 1024);
	EXPECT_LE(0, fd);
	close(fd);
	ASSERT_LT(0, pwrite(pfd, old, strlen(old), 0));
	close(pfd);
}

/* A consumer asleep on an idle ring for a second burns (almost) no CPU. */
TEST(idle_ring_burns_no_cpu)
{
	struct mbx_ring *c;
	struct rusage ru;
	uint64_t cpu_us;
	int fd, st;
	pid_t pid;

	fd = ring_port(RSZ);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, attach(fd, MBX_RING_CONSUMER, &c));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		size_t len;

		_exit(mbx_ring_peek(c, &len, 1000 * MS) ? T_BAD_SUCCESS :
		      errno == ETIMEDOUT ? 0 : errno);
	}
	ASSERT_EQ(pid, wait4(pid, &st, 0, &ru));
	EXPECT_EQ(0, WEXITSTATUS(st));
	cpu_us = ru.ru_utime.tv_sec * 1000000ULL + ru.ru_utime.tv_usec +
		 ru.ru_stime.tv_sec * 1000000ULL + ru.ru_stime.tv_usec;
	TH_LOG("idle consumer, 1 s: %llu us of CPU", (unsigned long long)cpu_us);
	/* The spin is 50 us; allow for a slow emulated start-up. */
	EXPECT_GT(100000, cpu_us);
	mbx_ring_detach(c);
	close(fd);
}

/*
 * Ping-pong between two processes over two rings, each side sleeping
 * every time (spin 0) or spinning a random while: a lost wake-up would
 * leave a side asleep until its 10 s timeout.
 */
static void ping_pong(struct __test_metadata *_metadata, uint64_t spin,
		      int rounds)
{
	struct mbx_ring *p1, *c1, *p2, *c2;
	int a, b, i;
	uint32_t v;
	pid_t pid;

	a = ring_port(PG);
	b = ring_port(PG);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (attach(a, MBX_RING_CONSUMER, &c1) ||
		    attach(b, MBX_RING_PRODUCER, &p2))
			_exit(T_BAD_SETUP);
		mbx_ring_set_spin(c1, spin);
		mbx_ring_set_spin(p2, spin);
		for (i = 0; i < rounds; i++) {
			if (ring_recv(c1, &v, sizeof(v), 10000 * MS) != 4)
				_exit(errno ? errno : T_BAD_DATA);
			if (v != (uint32_t)i)
				_exit(T_BAD_DATA);
			v++;
			if (ring_send(p2, &v, 4, 10000 * MS))
				_exit(errno);
		}
		_exit(0);
	}
	ASSERT_EQ(0, attach(a, MBX_RING_PRODUCER, &p1));
	ASSERT_EQ(0, attach(b, MBX_RING_CONSUMER, &c2));
	mbx_ring_set_spin(p1, spin);
	mbx_ring_set_spin(c2, spin);
	for (i = 0; i < rounds; i++) {
		v = i;
		ASSERT_EQ(0, ring_send(p1, &v, 4, 10000 * MS));
		ASSERT_EQ(4, ring_recv(c2, &v, sizeof(v), 10000 * MS));
		ASSERT_EQ((uint32_t)i + 1, v);
	}
	EXPECT_EQ(0, t_reap(pid));
	mbx_ring_detach(p1);
	mbx_ring_detach(c2);
	close(a);
	close(b);
}

TEST(wakeup_race_ping_pong_sleeping)
{
	ping_pong(_metadata, 0, 3000);
}

TEST(wakeup_race_ping_pong_spinning)
{
	ping_pong(_metadata, 20000, 3000);
}

/* A stream through a one-page ring: both sides fill, drain and sleep. */
TEST(wakeup_race_stream)
{
	struct mbx_ring *p, *c;
	uint32_t buf[64];
	int fd, i, n = 10000;
	pid_t pid;
	long got;

	fd = ring_port(PG);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, attach(fd, MBX_RING_CONSUMER, &c));
	ASSERT_EQ(0, attach(fd, MBX_RING_PRODUCER, &p));
	mbx_ring_set_spin(p, 0);
	mbx_ring_set_spin(c, 0);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		for (i = 0; i < n; i++) {
			size_t len = 4 + (i % 16) * 4;

			buf[0] = i;
			if (ring_send(p, buf, len, 10000 * MS))
				_exit(errno);
		}
		_exit(0);
	}
	for (i = 0; i < n; i++) {
		got = ring_recv(c, buf, sizeof(buf), 10000 * MS);
		ASSERT_EQ(4 + (i % 16) * 4, got);
		ASSERT_EQ((uint32_t)i, buf[0]);
	}
	EXPECT_EQ(0, t_reap(pid));
	mbx_ring_detach(p);
	mbx_ring_detach(c);
	close(fd);
}

TEST_HARNESS_MAIN
