// SPDX-License-Identifier: GPL-2.0
/*
 * Ring ports (docs/SEMANTICS.md, "Rings"): creation and its checks, the
 * layout MBX_IOC_RING_INFO reports, roles, records in FIFO order through
 * the zero-copy and the copying calls and their batches, wrap-around,
 * EMSGSIZE, timeouts, and the old struct size.
 *
 * ring_wait_test.c has the rest: non-blocking fds, wake-ups, signals,
 * poll and epoll, shutdown, a side gone and a new one, fork, what the copy
 * calls do on a ring port, fdinfo, accounting, an idle ring's CPU time,
 * and wake-up races between two vCPUs with and without spinning.  Their
 * common part is ring/ring.h.
 */
#define _GNU_SOURCE
#include "ring/ring.h"

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

TEST_HARNESS_MAIN
