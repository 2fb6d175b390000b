// SPDX-License-Identifier: GPL-2.0
/*
 * MBX_IOC_SEND_BATCH / MBX_IOC_RECV_BATCH (see batch_test.c): rejected
 * batches (an error on the first entry is the call's error, on a later
 * one it ends the batch with the entries before it done and the rest
 * untouched), and zero-copy entries, which work both ways and leave the
 * pool free.  Then hostile mixes: thousands of batches, sends and receives
 * in one thread against a model of the queue (faulting entries, entries
 * that do not fit, refused ones), and in several threads (put-backs racing
 * a receiver, small buffers waiting beside batches, a rendezvous port),
 * where every message must arrive exactly once before end of stream.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "batch/batch.h"

/* ---- a batch argument that cannot be written back -------------------- */

/* A struct mbx_batch on a page made read-only once it is filled. */
static struct mbx_batch *ro_batch(void *msgs, uint32_t count, uint32_t flags)
{
	struct mbx_batch *b = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (b == MAP_FAILED)
		return NULL;
	b->msgs = (uintptr_t)msgs;
	b->count = count;
	b->flags = flags;
	if (mprotect(b, 4096, PROT_READ)) {
		munmap(b, 4096);
		return NULL;
	}
	return b;
}

/*
 * The messages that went are reported by the return value even when done
 * cannot be written back, as sendmmsg() reports them: once, the call
 * failed with EFAULT, and a caller that tried again sent them twice, or
 * had received messages it was told it had not.
 */
TEST(read_only_argument_still_reports_what_went)
{
	struct mbx_send s[4];
	struct mbx_recv r[4];
	struct mbx_batch *b;
	unsigned int i;
	int fd = t_anon(8, MSG_MAX);

	ASSERT_LE(0, fd);
	send_entries(s, 4, 0);
	b = ro_batch(s, 4, MBX_NONBLOCK);
	ASSERT_NE(NULL, b);
	EXPECT_EQ(4, t_ioctl(fd, MBX_IOC_SEND_BATCH, b));
	munmap(b, 4096);
	EXPECT_EQ(4, SENT(fd));

	recv_entries(r, 4);
	b = ro_batch(r, 4, MBX_NONBLOCK);
	ASSERT_NE(NULL, b);
	EXPECT_EQ(4, t_ioctl(fd, MBX_IOC_RECV_BATCH, b));
	munmap(b, 4096);
	for (i = 0; i < 4; i++)
		EXPECT_TRUE(is_msg(&r[i], rbuf[i], i, 0)) TH_LOG("message %u", i);

	/* Nothing went: the write-back's EFAULT is the answer. */
	recv_entries(r, 4);
	b = ro_batch(r, 4, MBX_NONBLOCK);
	ASSERT_NE(NULL, b);
	EXPECT_EQ(-EFAULT, t_ioctl(fd, MBX_IOC_RECV_BATCH, b));
	munmap(b, 4096);
	close(fd);
}

/* ---- rejected batches ------------------------------------------------- */

TEST(count_0_or_above_1024_is_einval)
{
	static struct mbx_send s[MBX_BATCH_MAX + 1];
	static struct mbx_recv r[MBX_BATCH_MAX + 1];
	int fd = t_anon(8, MSG_MAX);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, SEND_BATCH(fd, s, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, SEND_BATCH(fd, s, MBX_BATCH_MAX + 1, 0, NULL));
	EXPECT_EQ(-EINVAL, SEND_BATCH(fd, s, 0xffffffffU, 0, NULL));
	EXPECT_EQ(-EINVAL, RECV_BATCH(fd, r, 0, MBX_NONBLOCK, NULL));
	EXPECT_EQ(-EINVAL, RECV_BATCH(fd, r, MBX_BATCH_MAX + 1, MBX_NONBLOCK,
				      NULL));
	EXPECT_EQ(0, SENT(fd));
	close(fd);
}

TEST(bad_batch_flags_or_reserved_is_einval)
{
	static const uint32_t bad[] = {
		MBX_SEND_BUF, MBX_RECV_INPLACE, MBX_SEND, MBX_RECV,
		MBX_CLOEXEC, 0x100, 0x80000000U, MBX_ABSTIME,
	};
	struct mbx_send s[2];
	struct mbx_batch b;
	unsigned int i;
	int fd = t_anon(8, MSG_MAX);

	ASSERT_LE(0, fd);
	send_entries(s, 2, 0);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(-EINVAL, SEND_BATCH(fd, s, 2, bad[i], NULL))
			TH_LOG("0x%x", bad[i]);
		EXPECT_EQ(-EINVAL, RECV_BATCH(fd, s, 2, bad[i], NULL))
			TH_LOG("0x%x", bad[i]);
	}
	/* timeout_ns without MBX_TIMEOUT */
	EXPECT_EQ(-EINVAL, batch(fd, MBX_IOC_SEND_BATCH, s, 2, 0, 1000, NULL));
	memset(&b, 0, sizeof(b));
	b.msgs = (uintptr_t)s;
	b.count = 2;
	b.reserved = 1;
	EXPECT_EQ(-EINVAL, t_ioctl(fd, MBX_IOC_SEND_BATCH, &b));
	EXPECT_EQ(-EINVAL, t_ioctl(fd, MBX_IOC_RECV_BATCH, &b));
	EXPECT_EQ(0, SENT(fd));
	close(fd);
}

TEST(bad_batch_pointer_is_efault)
{
	int fd = t_anon(8, MSG_MAX);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EFAULT, t_ioctl(fd, MBX_IOC_SEND_BATCH, t_bad_ptr()));
	EXPECT_EQ(-EFAULT, t_ioctl(fd, MBX_IOC_RECV_BATCH, NULL));
	close(fd);
}

TEST(bad_msgs_pointer_is_efault_with_done_0)
{
	uint32_t done;
	int fd = t_anon(8, MSG_MAX);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_str(fd, "q", 0));
	EXPECT_EQ(-EFAULT, SEND_BATCH(fd, t_bad_ptr(), 4, 0, &done));
	EXPECT_EQ(0, done);
	EXPECT_EQ(-EFAULT, RECV_BATCH(fd, t_bad_ptr(), 4, 0, &done));
	EXPECT_EQ(0, done);
	EXPECT_EQ(-EFAULT, SEND_BATCH(fd, NULL, 1, 0, &done));
	EXPECT_EQ(1, T_INFO(fd, queued));
	EXPECT_EQ(1, SENT(fd));
	close(fd);
}

/* Two pages, the second inaccessible: @n entries of @size fit before it. */
static void *entries_before_hole(size_t size, unsigned int n)
{
	char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || mprotect(p + 4096, 4096, PROT_NONE))
		return NULL;
	return p + 4096 - n * size;
}

TEST(msgs_running_into_a_bad_page_stop_the_batch_there)
{
	struct mbx_send *s = entries_before_hole(sizeof(*s), 2);
	struct mbx_recv *r = entries_before_hole(sizeof(*r), 2);
	uint32_t done;
	int fd = t_anon(8, MSG_MAX);

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, s);
	ASSERT_NE(NULL, r);
	send_entries(s, 2, 0);
	EXPECT_EQ(2, SEND_BATCH(fd, s, 4, 0, &done));
	EXPECT_EQ(2, done);
	EXPECT_EQ(2, T_INFO(fd, queued));

	ASSERT_EQ(0, send_one(fd, 2, 0));
	recv_entries(r, 2);
	EXPECT_EQ(2, RECV_BATCH(fd, r, 4, 0, &done));
	EXPECT_EQ(2, done);
	EXPECT_TRUE(is_msg(&r[0], rbuf[0], 0, 0));
	EXPECT_TRUE(is_msg(&r[1], rbuf[1], 1, 0));
	/* the third message was not taken */
	EXPECT_EQ(1, T_INFO(fd, queued));
	close(fd);
}

/* An entry whose payload cannot be copied out ends the batch, no results. */
TEST(recv_entry_whose_payload_faults_ends_the_batch_with_no_results)
{
	struct mbx_recv r[2];
	uint32_t done;
	int fd = t_anon(8, MSG_MAX);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, send_one(fd, 0, 0));
	ASSERT_EQ(0, send_one(fd, 1, 0));
	recv_entries(r, 2);
	r[1].buf = (uintptr_t)t_bad_ptr();
	r[1].uid = 77;
	EXPECT_EQ(1, RECV_BATCH(fd, r, 2, 0, &done));
	EXPECT_EQ(1, done);
	EXPECT_TRUE(is_msg(&r[0], rbuf[0], 0, 0));
	EXPECT_EQ(MSG_MAX, r[1].len);
	EXPECT_EQ(POISON, r[1].tag);
	EXPECT_EQ(77, r[1].uid);
	EXPECT_EQ(1, T_INFO(fd, queued));
	close(fd);
}

TEST(first_send_entry_with_bad_flags_or_timeout_is_einval)
{
	static const uint32_t bad[] = {
		MBX_NONBLOCK, MBX_TIMEOUT, MBX_ABSTIME, MBX_RECV_INPLACE,
		MBX_SEND, 0x100, 0x80000000U,
	};
	struct mbx_send m[4];
	uint32_t done;
	unsigned int i;
	int fd = t_anon(8, MSG_MAX);

	ASSERT_LE(0, fd);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		send_entries(m, 4, 0);
		m[0].flags = bad[i];
		EXPECT_EQ(-EINVAL, SEND_BATCH(fd, m, 4, 0, &done))
			TH_LOG("0x%x", bad[i]);
		EXPECT_EQ(0, done);
	}
	send_entries(m, 4, 0);
	m[0].timeout_ns = 1;
	EXPECT_EQ(-EINVAL, SEND_BATCH(fd, m, 4, 0, &done));
	send_entries(m, 4, 0);
	m[0].flags = MBX_TIMEOUT;
	m[0].timeout_ns = 1000;
	EXPECT_EQ(-EINVAL, SEND_BATCH(fd, m, 4, 0, &done));
	send_entries(m, 4, 0);
	m[0].prio = MBX_PRIO_MAX + 1;
	EXPECT_EQ(-EINVAL, SEND_BATCH(fd, m, 4, 0, &done));
	EXPECT_EQ(0, done);
	EXPECT_EQ(0, SENT(fd));
	EXPECT_EQ(0, T_INFO(fd, queued));
	close(fd);
}

TEST(later_send_entry_with_bad_flags_ends_the_batch_before_it)
{
	struct mbx_send m[8];
	struct mbx_recv r;
	char buf[MSG_MAX];
	uint32_t done;
	unsigned int i;
	int fd = t_anon(16, MSG_MAX);

	ASSERT_LE(0, fd);
	send_entries(m, 8, 0);
	m[3].flags = MBX_NONBLOCK;
	EXPECT_EQ(3, SEND_BATCH(fd, m, 8, 0, &done));
	EXPECT_EQ(3, done);
	EXPECT_EQ(3, T_INFO(fd, queued));

	send_entries(m, 8, 0);
	m[2].timeout_ns = 5;
	EXPECT_EQ(2, SEND_BATCH(fd, m, 8, 0, &done));
	EXPECT_EQ(2, done);

	send_entries(m, 8, 0);
	m[5].prio = 32;
	EXPECT_EQ(5, SEND_BATCH(fd, m, 8, 0, &done));
	EXPECT_EQ(5, done);
	EXPECT_EQ(10, T_INFO(fd, queued));
	EXPECT_EQ(10, SENT(fd));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, recv_one(fd, &r, buf, sizeof(buf)));
		EXPECT_TRUE(is_msg(&r, buf, i, 0));
	}
	close(fd);
}

TEST(later_send_entry_too_large_ends_the_batch_before_it)
{
	static char big[MSG_MAX + 1];
	struct mbx_send m[4];
	uint32_t done;
	int fd = t_anon(8, MSG_MAX);

	ASSERT_LE(0, fd);
	send_entries(m, 4, 0);
	m[1].buf = (uintptr_t)big;
	m[1].len = sizeof(big);
	EXPECT_EQ(1, SEND_BATCH(fd, m, 4, 0, &done));
	EXPECT_EQ(1, done);
	EXPECT_EQ(-EMSGSIZE, SEND_BATCH(fd, m + 1, 3, 0, &done));
	EXPECT_EQ(0, done);
	EXPECT_EQ(1, T_INFO(fd, queued));
	close(fd);
}

TEST(first_recv_entry_with_bad_flags_or_timeout_is_einval)
{
	static const uint32_t bad[] = {
		MBX_NONBLOCK, MBX_TIMEOUT, MBX_ABSTIME, MBX_SEND_BUF,
		MBX_RECV, 0x100, 0x80000000U,
	};
	struct mbx_recv m[4];
	uint32_t done;
	unsigned int i;
	int fd = t_anon(8, MSG_MAX);

	ASSERT_LE(0, fd);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, send_one(fd, i, 0));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		recv_entries(m, 4);
		m[0].flags = bad[i];
		EXPECT_EQ(-EINVAL, RECV_BATCH(fd, m, 4, 0, &done))
			TH_LOG("0x%x", bad[i]);
		EXPECT_EQ(0, done);
	}
	recv_entries(m, 4);
	m[0].timeout_ns = 1;
	EXPECT_EQ(-EINVAL, RECV_BATCH(fd, m, 4, 0, &done));
	recv_entries(m, 4);
	m[0].dropped = 1;
	EXPECT_EQ(-EINVAL, RECV_BATCH(fd, m, 4, 0, &done));
	EXPECT_EQ(0, done);
	EXPECT_EQ(4, T_INFO(fd, queued));
	EXPECT_EQ(0, RECEIVED(fd));
	close(fd);
}

TEST(later_recv_entry_with_bad_flags_ends_the_batch_before_it)
{
	struct mbx_recv m[8];
	uint32_t done;
	unsigned int i;
	int fd = t_anon(8, MSG_MAX);

	ASSERT_LE(0, fd);
	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, send_one(fd, i, 0));
	recv_entries(m, 8);
	m[2].flags = MBX_NONBLOCK;
	EXPECT_EQ(2, RECV_BATCH(fd, m, 8, 0, &done));
	EXPECT_EQ(2, done);
	EXPECT_TRUE(is_msg(&m[0], rbuf[0], 0, 0));
	EXPECT_TRUE(is_msg(&m[1], rbuf[1], 1, 0));
	EXPECT_EQ(POISON, m[2].tag);
	EXPECT_EQ(6, T_INFO(fd, queued));

	recv_entries(m, 8);
	m[1].timeout_ns = 7;
	EXPECT_EQ(1, RECV_BATCH(fd, m, 8, 0, &done));
	EXPECT_EQ(1, done);
	EXPECT_TRUE(is_msg(&m[0], rbuf[0], 2, 0));
	EXPECT_EQ(5, T_INFO(fd, queued));
	close(fd);
}

TEST(emsgsize_on_a_later_recv_entry_ends_the_batch_and_keeps_the_message)
{
	struct mbx_recv m[4], r;
	char buf[MSG_MAX];
	uint32_t done;
	int fd = t_anon(8, MSG_MAX);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, send_one(fd, 1, 0));	/* 29 bytes */
	ASSERT_EQ(0, send_one(fd, 2, 0));	/* 58 bytes */
	ASSERT_EQ(0, send_one(fd, 3, 0));	/* 87 bytes */
	recv_entries(m, 4);
	m[1].len = 40;
	EXPECT_EQ(1, RECV_BATCH(fd, m, 4, 0, &done));
	EXPECT_EQ(1, done);
	EXPECT_TRUE(is_msg(&m[0], rbuf[0], 1, 0));
	/* the entry that did not fit is told the size it needs */
	EXPECT_EQ(msg_len(2), m[1].len);
	EXPECT_EQ(POISON, m[1].tag);
	EXPECT_EQ(2, T_INFO(fd, queued));
	EXPECT_EQ(1, RECEIVED(fd));
	ASSERT_EQ(0, recv_one(fd, &r, buf, sizeof(buf)));
	EXPECT_TRUE(is_msg(&r, buf, 2, 0));
	ASSERT_EQ(0, recv_one(fd, &r, buf, sizeof(buf)));
	EXPECT_TRUE(is_msg(&r, buf, 3, 0));
	close(fd);
}

TEST(emsgsize_on_the_first_recv_entry_is_the_error_with_length)
{
	struct mbx_recv m[4];
	uint32_t done;
	int fd = t_anon(8, MSG_MAX);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, send_one(fd, 3, 0));	/* 87 bytes */
	recv_entries(m, 4);
	m[0].len = 10;
	EXPECT_EQ(-EMSGSIZE, RECV_BATCH(fd, m, 4, 0, &done));
	EXPECT_EQ(0, done);
	EXPECT_EQ(msg_len(3), m[0].len);
	EXPECT_EQ(1, T_INFO(fd, queued));
	close(fd);
}

TEST(fault_on_a_later_recv_buffer_ends_the_batch_and_keeps_the_message)
{
	struct mbx_recv m[4], r;
	char buf[MSG_MAX];
	uint32_t done;
	int fd = t_anon(8, MSG_MAX);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, send_one(fd, 1, 0));
	ASSERT_EQ(0, send_one(fd, 2, 0));
	recv_entries(m, 4);
	m[1].buf = (uintptr_t)t_bad_ptr();
	EXPECT_EQ(1, RECV_BATCH(fd, m, 4, 0, &done));
	EXPECT_EQ(1, done);
	EXPECT_EQ(1, T_INFO(fd, queued));
	EXPECT_EQ(1, RECEIVED(fd));
	ASSERT_EQ(0, recv_one(fd, &r, buf, sizeof(buf)));
	EXPECT_TRUE(is_msg(&r, buf, 2, 0));
	close(fd);
}

/*
 * A receive batch takes its messages together; when a later entry's buffer
 * faults, every message from that entry on goes back to the head of the
 * queue, in order, before the messages of lower priority.
 */
TEST(fault_on_a_later_recv_buffer_puts_back_every_later_message_in_order)
{
	struct mbx_recv m[8], r;
	char buf[MSG_MAX];
	uint32_t done;
	unsigned int i;
	int fd = t_anon(8, MSG_MAX);

	ASSERT_LE(0, fd);
	for (i = 0; i < 6; i++)
		ASSERT_EQ(0, send_one(fd, i, 5));
	ASSERT_EQ(0, send_one(fd, 6, 1));
	recv_entries(m, 8);
	m[2].buf = (uintptr_t)t_bad_ptr();
	EXPECT_EQ(2, RECV_BATCH(fd, m, 8, 0, &done));
	EXPECT_EQ(2, done);
	EXPECT_TRUE(is_msg(&m[0], rbuf[0], 0, 5));
	EXPECT_TRUE(is_msg(&m[1], rbuf[1], 1, 5));
	EXPECT_EQ(5, T_INFO(fd, queued));
	EXPECT_EQ(2, RECEIVED(fd));
	for (i = 2; i < 6; i++) {
		ASSERT_EQ(0, recv_one(fd, &r, buf, sizeof(buf)));
		EXPECT_TRUE(is_msg(&r, buf, i, 5)) TH_LOG("message %u", i);
	}
	ASSERT_EQ(0, recv_one(fd, &r, buf, sizeof(buf)));
	EXPECT_TRUE(is_msg(&r, buf, 6, 1));
	close(fd);
}

TEST(send_batch_on_recv_only_fd_is_ebadf_and_recv_batch_on_send_only_fd_too)
{
	struct mbx_send s[2];
	struct mbx_recv r[2];
	int fd = t_anon(8, MSG_MAX);
	int so, ro;

	ASSERT_LE(0, fd);
	so = mbx_port_dup(fd, MBX_SEND);
	ro = mbx_port_dup(fd, MBX_RECV);
	ASSERT_LE(0, so);
	ASSERT_LE(0, ro);
	ASSERT_EQ(0, t_send_str(fd, "q", 0));
	send_entries(s, 2, 0);
	recv_entries(r, 2);
	EXPECT_EQ(-EBADF, SEND_BATCH(ro, s, 2, 0, NULL));
	EXPECT_EQ(-EBADF, RECV_BATCH(so, r, 2, 0, NULL));
	EXPECT_EQ(1, T_INFO(fd, queued));
	EXPECT_EQ(1, SENT(fd));
	close(so);
	close(ro);
	close(fd);
}

TEST(send_batch_after_shutdown_is_epipe_and_recv_batch_drains_then_epipe)
{
	struct mbx_send s[4];
	struct mbx_recv r[4];
	uint32_t done;
	int fd = t_anon(8, MSG_MAX);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, send_one(fd, 0, 0));
	ASSERT_EQ(0, send_one(fd, 1, 0));
	ASSERT_EQ(0, mbx_shutdown(fd));
	send_entries(s, 4, 0);
	EXPECT_EQ(-EPIPE, SEND_BATCH(fd, s, 4, 0, &done));
	EXPECT_EQ(0, done);
	recv_entries(r, 4);
	EXPECT_EQ(2, RECV_BATCH(fd, r, 4, 0, &done));
	EXPECT_EQ(2, done);
	EXPECT_EQ(-EPIPE, RECV_BATCH(fd, r, 4, 0, &done));
	EXPECT_EQ(0, done);
	close(fd);
}

/*
 * done is an output "also on failure": a batch refused outright went
 * through for no message, and must say 0.
 */
TEST(done_is_zero_after_a_refused_batch)
{
	struct mbx_send s[2];
	struct mbx_batch b;
	int fd = t_anon(8, MSG_MAX);

	ASSERT_LE(0, fd);
	send_entries(s, 2, 0);
	memset(&b, 0, sizeof(b));
	b.msgs = (uintptr_t)s;
	b.count = 0;
	b.done = 5;
	EXPECT_EQ(-EINVAL, t_ioctl(fd, MBX_IOC_SEND_BATCH, &b));
	EXPECT_EQ(0, b.done) TH_LOG("count 0");
	b.count = 2;
	b.flags = MBX_SEND_BUF;
	b.done = 5;
	EXPECT_EQ(-EINVAL, t_ioctl(fd, MBX_IOC_SEND_BATCH, &b));
	EXPECT_EQ(0, b.done) TH_LOG("bad batch flags");
	close(fd);
}

/* The same when a newer caller's struct has bytes this kernel does not know. */
TEST(done_is_zero_after_a_batch_refused_for_unknown_trailing_bytes)
{
	const unsigned long cmd = _IOC(_IOC_READ | _IOC_WRITE, MBX_IOC_MAGIC,
				       _IOC_NR(MBX_IOC_SEND_BATCH),
				       sizeof(struct mbx_batch) + 8);
	uint8_t arg[sizeof(struct mbx_batch) + 8];
	struct mbx_batch *b = (struct mbx_batch *)arg;
	struct mbx_send s[2];
	int fd = t_anon(8, MSG_MAX);

	ASSERT_LE(0, fd);
	send_entries(s, 2, 0);
	memset(arg, 0, sizeof(arg));
	b->msgs = (uintptr_t)s;
	b->count = 2;
	b->done = 5;
	arg[sizeof(struct mbx_batch) + 4] = 1;
	EXPECT_EQ(-EINVAL, t_ioctl(fd, cmd, arg));
	EXPECT_EQ(0, b->done);
	EXPECT_EQ(0, T_INFO(fd, queued));
	close(fd);
}

/* ---- zero copy -------------------------------------------------------- */

#define POOL_SIZE	(64 * 1024)

static int pool_port(void)
{
	struct mbx_port_create c;

	memset(&c, 0, sizeof(c));
	c.capacity = 16;
	c.max_msg_size = MSG_MAX;
	c.mode = 0600;
	c.pool_size = POOL_SIZE;
	return mbx_port_create(MBX_DEV_AUTO, &c);
}

static size_t pool_len(unsigned int i)
{
	return 100 + i * 1500;
}

TEST(pool_batch_sends_regions_and_receives_them_in_place)
{
	struct mbx_port_info in;
	struct mbx_send s[8];
	struct mbx_recv r[8];
	uint64_t off[8];
	uint32_t done;
	unsigned int i;
	size_t size;
	void *base;
	int fd = pool_port();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, mbx_pool_map(fd, &base, &size));
	memset(s, 0, sizeof(s));
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, mbx_buf_alloc(fd, pool_len(i), &off[i]));
		t_fill(mbx_buf_ptr(base, off[i]), pool_len(i), 50 + i);
		s[i].flags = MBX_SEND_BUF;
		s[i].offset = off[i];
		s[i].len = pool_len(i);
		s[i].tag = i;
		s[i].prio = 1;
	}
	EXPECT_EQ(8, SEND_BATCH(fd, s, 8, 0, &done));
	EXPECT_EQ(8, done);
	ASSERT_EQ(0, t_info(fd, &in));
	EXPECT_EQ(8, in.queued);
	EXPECT_GT(in.pool_size, in.pool_free);

	memset(r, 0, sizeof(r));
	for (i = 0; i < 8; i++)
		r[i].flags = MBX_RECV_INPLACE;
	EXPECT_EQ(8, RECV_BATCH(fd, r, 8, 0, &done));
	EXPECT_EQ(8, done);
	for (i = 0; i < 8; i++) {
		EXPECT_EQ(MBX_MSG_BUF, r[i].msg_flags);
		EXPECT_EQ(off[i], r[i].offset);
		EXPECT_EQ(pool_len(i), r[i].len);
		EXPECT_EQ(i, r[i].tag);
		EXPECT_EQ(1, r[i].prio);
		EXPECT_TRUE(t_check(mbx_buf_ptr(base, r[i].offset), r[i].len,
				    50 + i)) TH_LOG("entry %u", i);
		EXPECT_EQ(0, mbx_buf_release(fd, r[i].offset, r[i].len));
	}
	ASSERT_EQ(0, t_info(fd, &in));
	EXPECT_EQ(POOL_SIZE, in.pool_size);
	EXPECT_EQ(in.pool_size, in.pool_free);
	EXPECT_EQ(0, in.queued);
	mbx_pool_unmap(base, size);
	close(fd);
}

TEST(pool_batch_mixed_with_copy_messages_and_copied_out_receives)
{
	struct mbx_port_info in;
	struct mbx_send s[4];
	struct mbx_recv r[4];
	char buf[4][MSG_MAX];
	uint64_t off[2];
	unsigned int i;
	size_t size;
	void *base;
	int fd = pool_port();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, mbx_pool_map(fd, &base, &size));
	memset(s, 0, sizeof(s));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, mbx_buf_alloc(fd, 64, &off[i]));
		t_fill(mbx_buf_ptr(base, off[i]), 64, 70 + i);
		s[2 * i].flags = MBX_SEND_BUF;
		s[2 * i].offset = off[i];
		s[2 * i].len = 64;
		t_fill(payload[i], 32, 80 + i);
		s[2 * i + 1].buf = (uintptr_t)payload[i];
		s[2 * i + 1].len = 32;
	}
	EXPECT_EQ(4, SEND_BATCH(fd, s, 4, 0, NULL));

	/* in place entries get copy messages copied; plain ones copy pool ones */
	memset(r, 0, sizeof(r));
	for (i = 0; i < 4; i++) {
		r[i].buf = (uintptr_t)buf[i];
		r[i].len = MSG_MAX;
		r[i].flags = i < 2 ? MBX_RECV_INPLACE : 0;
	}
	EXPECT_EQ(4, RECV_BATCH(fd, r, 4, 0, NULL));
	EXPECT_EQ(MBX_MSG_BUF, r[0].msg_flags);
	EXPECT_TRUE(t_check(mbx_buf_ptr(base, r[0].offset), 64, 70));
	EXPECT_EQ(0, r[1].msg_flags);
	EXPECT_EQ(32, r[1].len);
	EXPECT_TRUE(t_check(buf[1], 32, 80));
	EXPECT_EQ(0, r[2].msg_flags);
	EXPECT_EQ(64, r[2].len);
	EXPECT_TRUE(t_check(buf[2], 64, 71));
	EXPECT_EQ(0, r[3].msg_flags);
	EXPECT_TRUE(t_check(buf[3], 32, 81));
	EXPECT_EQ(0, mbx_buf_release(fd, r[0].offset, r[0].len));
	ASSERT_EQ(0, t_info(fd, &in));
	EXPECT_EQ(in.pool_size, in.pool_free);
	mbx_pool_unmap(base, size);
	close(fd);
}

TEST(later_pool_entry_not_held_ends_the_send_batch_and_keeps_the_region)
{
	struct mbx_port_info in;
	struct mbx_recv r;
	char buf[MSG_MAX];
	struct mbx_send s[3];
	uint64_t off;
	uint32_t done;
	int fd = pool_port();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, mbx_buf_alloc(fd, 128, &off));
	memset(s, 0, sizeof(s));
	s[0].flags = MBX_SEND_BUF;
	s[0].offset = off;
	s[0].len = 128;
	/* the same region again: now queued, no longer held */
	s[1] = s[0];
	s[2] = s[0];
	EXPECT_EQ(1, SEND_BATCH(fd, s, 3, 0, &done));
	EXPECT_EQ(1, done);
	EXPECT_EQ(1, T_INFO(fd, queued));
	/* an offset that is not a region: EINVAL as first entry */
	s[0].offset = off + 64;
	EXPECT_EQ(-EINVAL, SEND_BATCH(fd, s, 1, 0, &done));
	EXPECT_EQ(0, done);
	/* the queued one still carries its region; a copy-out frees it */
	ASSERT_EQ(0, recv_one(fd, &r, buf, sizeof(buf)));
	EXPECT_EQ(128, r.len);
	ASSERT_EQ(0, t_info(fd, &in));
	EXPECT_EQ(in.pool_size, in.pool_free);
	close(fd);
}

TEST(pool_entry_on_port_without_pool_is_enodev)
{
	struct mbx_send s[1];
	uint32_t done;
	int fd = t_anon(8, MSG_MAX);

	ASSERT_LE(0, fd);
	memset(s, 0, sizeof(s));
	s[0].flags = MBX_SEND_BUF;
	s[0].len = 64;
	EXPECT_EQ(-ENODEV, SEND_BATCH(fd, s, 1, 0, &done));
	EXPECT_EQ(0, done);
	close(fd);
}

/* ---- put-backs racing a receiver and the end of the stream ------------ */

#define RACE_MSGS	4000

struct race {
	int rfd;
	unsigned char seen[RACE_MSGS];
	int bad;
};

/* A plain receiver beside the batches: until end of stream. */
static void *race_reader(void *arg)
{
	struct race *rc = arg;
	uint32_t seq;
	ssize_t n;

	for (;;) {
		n = mbx_recv(rc->rfd, &seq, sizeof(seq), NULL);
		if (n == -EPIPE)
			return NULL;
		if (n != sizeof(seq) || seq >= RACE_MSGS) {
			rc->bad = 1;
			return NULL;
		}
		__atomic_add_fetch(&rc->seen[seq], 1, __ATOMIC_RELAXED);
	}
}

/*
 * Receive batches with an entry whose buffer faults, at random, put back
 * what they took while a plain receiver takes messages, blocked senders'
 * messages move into the queue and the last sender goes: every message
 * arrives exactly once, and end of stream comes only after the last one.
 */
TEST(put_backs_racing_a_receiver_and_end_of_stream_lose_nothing)
{
	struct mbx_port_create attr = { .capacity = 4, .max_msg_size = 64 };
	static struct race rc;
	uint32_t bufs[16], done;
	unsigned int seed = 1, i, bad, dup = 0, lost = 0;
	struct mbx_recv m[16];
	void *badp = t_bad_ptr();
	int fds[2];
	pthread_t t;
	pid_t pid;
	long ret;

	ASSERT_EQ(0, mbx_port_pair(MBX_DEV_AUTO, &attr, fds));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct mbx_send s[40];
		uint32_t seq[40], next = 0, n, k;

		close(fds[0]);
		while (next < RACE_MSGS) {
			n = rand_r(&seed) % 40 + 1;
			if (n > RACE_MSGS - next)
				n = RACE_MSGS - next;
			memset(s, 0, sizeof(s));
			for (k = 0; k < n; k++) {
				seq[k] = next + k;
				s[k].buf = (uintptr_t)&seq[k];
				s[k].len = sizeof(seq[k]);
				s[k].prio = rand_r(&seed) % 4;
			}
			ret = batch(fds[1], MBX_IOC_SEND_BATCH, s, n, 0, 0,
				    NULL);
			if (ret <= 0)
				_exit(t_code(ret));
			next += ret;
		}
		_exit(0);
	}
	close(fds[1]);
	memset(&rc, 0, sizeof(rc));
	rc.rfd = fds[0];
	ASSERT_EQ(0, pthread_create(&t, NULL, race_reader, &rc));
	for (;;) {
		memset(m, 0, sizeof(m));
		for (i = 0; i < 16; i++) {
			m[i].buf = (uintptr_t)&bufs[i];
			m[i].len = sizeof(bufs[i]);
		}
		bad = rand_r(&seed) % 24;
		if (bad < 16)
			m[bad].buf = (uintptr_t)badp;
		ret = batch(fds[0], MBX_IOC_RECV_BATCH, m, 16, 0, 0, &done);
		if (ret == -EPIPE)
			break;
		if (ret == -EFAULT && bad == 0)
			continue;
		ASSERT_LT(0, ret) TH_LOG("batch: %ld", ret);
		ASSERT_EQ(ret, done);
		if (bad < 16)
			ASSERT_GE(bad, ret);
		for (i = 0; i < ret; i++) {
			ASSERT_EQ(sizeof(bufs[i]), m[i].len);
			ASSERT_GT(RACE_MSGS, bufs[i]);
			__atomic_add_fetch(&rc.seen[bufs[i]], 1,
					   __ATOMIC_RELAXED);
		}
	}
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(0, rc.bad);
	EXPECT_EQ(0, t_reap(pid));
	for (i = 0; i < RACE_MSGS; i++) {
		dup += rc.seen[i] > 1;
		lost += !rc.seen[i];
	}
	EXPECT_EQ(0, dup);
	EXPECT_EQ(0, lost);
	close(fds[0]);
}

/* ---- batches against a model of the queue ----------------------------- */

#define MODEL_CAP	6
#define MODEL_OPS	4000

struct model_msg {
	uint32_t prio, len, tag;
};

struct model {
	struct model_msg q[MODEL_CAP + 8];
	unsigned int n;
};

/* Insert as a send does: behind every message of its priority or higher. */
static void model_add(struct model *m, struct model_msg msg)
{
	unsigned int i = m->n;

	while (i > 0 && m->q[i - 1].prio < msg.prio) {
		m->q[i] = m->q[i - 1];
		i--;
	}
	m->q[i] = msg;
	m->n++;
}

static void model_pop(struct model *m)
{
	memmove(m->q, m->q + 1, --m->n * sizeof(m->q[0]));
}

static uint32_t model_prio(unsigned int *seed, int mq)
{
	static const uint32_t mq_prios[] = { 0, 1, 7, 31, 1000, 32767 };

	return mq ? mq_prios[rand_r(seed) % 6] : rand_r(seed) % 4 * 9;
}

/*
 * One thread, nothing waits: every send, receive and batch, with entries
 * that do not fit (EMSGSIZE), are refused or fault, gives exactly what a
 * model of the priority queue says, put-backs included.
 */
static void model_run(struct __test_metadata *_metadata, int mq,
		      unsigned int seed)
{
	static char data[8][64], bufs[8][64];
	uint32_t cap = rand_r(&seed) % MODEL_CAP + 1, tag = 0, done;
	void *bad = t_bad_ptr();
	struct mbx_send s[8];
	struct mbx_recv r[8];
	struct model m = { .n = 0 };
	uint64_t lens[8];
	unsigned int op, i, k, cnt, stop;
	long ret, want;
	int fd;

	fd = t_port(cap, 64, 0600, NULL, mq ? MBX_PORT_MQ : 0);
	ASSERT_LE(0, fd);
	for (op = 0; op < MODEL_OPS; op++) {
		cnt = rand_r(&seed) % 8 + 1;
		k = rand_r(&seed) % 12;		/* the odd entry, if < cnt */
		if (rand_r(&seed) % 2) {
			struct model_msg mm[8];

			memset(s, 0, sizeof(s));
			for (i = 0; i < cnt; i++) {
				mm[i].prio = model_prio(&seed, mq);
				mm[i].len = rand_r(&seed) % 65;
				mm[i].tag = ++tag;
				t_fill(data[i], mm[i].len, mm[i].tag);
				s[i].buf = (uintptr_t)data[i];
				s[i].len = mm[i].len;
				s[i].tag = mm[i].tag;
				s[i].prio = mm[i].prio;
			}
			if (k < cnt)
				s[k].flags = MBX_TIMEOUT;	/* refused */
			want = 0;
			for (i = 0; i < cnt && i != k && m.n < cap; i++, want++)
				model_add(&m, mm[i]);
			if (!want)
				want = k == 0 ? -EINVAL : -EAGAIN;
			/* a batch that need not wait may block */
			ret = batch(fd, MBX_IOC_SEND_BATCH, s, cnt,
				    want > 0 && rand_r(&seed) % 2 ? 0 :
				    MBX_NONBLOCK, 0, &done);
			ASSERT_EQ(want, ret) TH_LOG("op %u send %u", op, cnt);
			continue;
		}
		memset(r, 0, sizeof(r));
		for (i = 0; i < cnt; i++) {
			r[i].buf = (uintptr_t)bufs[i];
			r[i].len = rand_r(&seed) % 8 ? 64 : rand_r(&seed) % 65;
		}
		if (k < cnt)
			r[k].buf = (uintptr_t)bad;
		for (i = 0; i < cnt; i++)
			lens[i] = r[i].len;
		/* taken: up to the first that is missing or does not fit */
		for (i = 0; i < cnt && i < m.n && m.q[i].len <= r[i].len; i++)
			;
		want = i;
		/* one that does not fit is told the size it needs */
		stop = i < cnt && i < m.n ? i : 8;
		/* a fault puts back its message and those after it */
		if (k < want && m.q[k].len) {
			want = k;
			stop = 8;
		}
		ret = batch(fd, MBX_IOC_RECV_BATCH, r, cnt,
			    m.n && rand_r(&seed) % 2 ? 0 : MBX_NONBLOCK, 0,
			    &done);
		if (!want) {
			if (!m.n)
				want = -EAGAIN;
			else if (m.q[0].len > lens[0])
				want = -EMSGSIZE;
			else
				want = -EFAULT;
			ASSERT_EQ(want, ret) TH_LOG("op %u recv %u k %u", op, cnt,
						    k);
			/* the size needed, when it did not fit */
			ASSERT_TRUE(want != -EMSGSIZE || m.q[0].len == r[0].len);
			continue;
		}
		ASSERT_EQ(want, ret) TH_LOG("op %u recv %u k %u", op, cnt, k);
		ASSERT_TRUE(stop == 8 || m.q[stop].len == r[stop].len)
			TH_LOG("op %u", op);
		for (i = 0; i < want; i++) {
			ASSERT_EQ(m.q[0].len, r[i].len) TH_LOG("op %u", op);
			ASSERT_EQ(m.q[0].tag, r[i].tag) TH_LOG("op %u", op);
			ASSERT_EQ(m.q[0].prio, r[i].prio) TH_LOG("op %u", op);
			ASSERT_TRUE(t_check(bufs[i], r[i].len, r[i].tag));
			model_pop(&m);
		}
		ASSERT_EQ(m.n, T_INFO(fd, queued)) TH_LOG("op %u", op);
	}
	ASSERT_EQ(m.n, T_INFO(fd, queued));
	close(fd);
}

/*
 * Six seeds of 4 000 operations, with faulting copies: over half a minute
 * under KASAN (debug kernel), past the harness's default timeout; the
 * debug kernel runs the first three seeds, the others all six.
 */
FIXTURE(model) {};
FIXTURE_SETUP(model) {}
FIXTURE_TEARDOWN(model) {}

static void model_runs(struct __test_metadata *_metadata, int mq)
{
	unsigned int seed, seeds = t_kmemleak_kernel() ? 3 : 6;
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (seed = 1; seed <= seeds; seed++)
		model_run(_metadata, mq, seed);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	TH_LOG("%s queue: %u x %d operations in %ld ms", mq ? "mq" : "plain",
	       seeds, MODEL_OPS, (long)((t1.tv_sec - t0.tv_sec) * 1000 +
				    (t1.tv_nsec - t0.tv_nsec) / 1000000));
}

TEST_F_TIMEOUT(model, batches_agree_with_a_model_of_the_queue, 180)
{
	model_runs(_metadata, 0);
}

TEST_F_TIMEOUT(model, batches_agree_with_a_model_of_an_mq_queue, 180)
{
	model_runs(_metadata, 1);
}

/* ---- small buffers, waiting receivers and batches at once -------------- */

#define MIX_MSGS	6000
#define MIX_SENDERS	2

struct mix {
	int sfd, rfd;
	unsigned char seen[MIX_MSGS];
	int bad;
};

static struct mix mix;

/* Sender @arg: messages arg, arg + MIX_SENDERS, ... of 4..64 bytes. */
static void *mix_sender(void *arg)
{
	static __thread char data[40][64];
	unsigned int seed = (uintptr_t)arg + 7, next = (uintptr_t)arg, n, k;
	struct mbx_send s[40];
	long ret;

	while (next < MIX_MSGS) {
		n = rand_r(&seed) % 40 + 1;
		memset(s, 0, sizeof(s));
		for (k = 0; k < n && next + k * MIX_SENDERS < MIX_MSGS; k++) {
			uint32_t seq = next + k * MIX_SENDERS;

			memset(data[k], 0, 64);
			memcpy(data[k], &seq, sizeof(seq));
			s[k].buf = (uintptr_t)data[k];
			s[k].len = rand_r(&seed) % 61 + 4;
			s[k].prio = rand_r(&seed) % 3;
		}
		ret = batch(mix.sfd, MBX_IOC_SEND_BATCH, s, k, 0, 0, NULL);
		if (ret <= 0) {
			mix.bad = 1;
			return NULL;
		}
		next += ret * MIX_SENDERS;
	}
	return NULL;
}

static int mix_seen(const void *buf, uint64_t len)
{
	uint32_t seq;

	if (len < 4 || len > 64)
		return -1;
	memcpy(&seq, buf, sizeof(seq));
	if (seq >= MIX_MSGS)
		return -1;
	__atomic_add_fetch(&mix.seen[seq], 1, __ATOMIC_RELAXED);
	return 0;
}

/* A receiver with buffers that are often too small; batches if @arg. */
static void *mix_receiver(void *arg)
{
	static __thread char bufs[16][64];
	unsigned int seed = (uintptr_t)arg * 31 + 1, i, cnt;
	struct mbx_recv r[16];
	uint64_t need = 0;
	long ret;

	for (;;) {
		cnt = (uintptr_t)arg & 1 ? rand_r(&seed) % 16 + 1 : 1;
		memset(r, 0, sizeof(r));
		for (i = 0; i < cnt; i++) {
			r[i].buf = (uintptr_t)bufs[i];
			r[i].len = rand_r(&seed) % 2 ? 64 : rand_r(&seed) % 65;
		}
		if (need) {
			r[0].len = need;
			need = 0;
		}
		ret = cnt > 1 ? batch(mix.rfd, MBX_IOC_RECV_BATCH, r, cnt, 0,
				      0, NULL) :
				t_ioctl(mix.rfd, MBX_IOC_RECV, r);
		if (ret == -EPIPE)
			return NULL;
		if (ret == -EMSGSIZE) {
			need = r[0].len;
			continue;
		}
		if (cnt == 1 && ret == 0)
			ret = 1;
		if (ret <= 0) {
			mix.bad = 1;
			return NULL;
		}
		for (i = 0; i < ret; i++)
			if (mix_seen(bufs[i], r[i].len)) {
				mix.bad = 1;
				return NULL;
			}
	}
}

/*
 * Waiting receivers whose buffers are too small are told so as messages
 * go past them to others, into the queue or to wait with their senders;
 * batches wait for their first message among them: every message arrives
 * exactly once, nobody sleeps on a message left queued, and end of stream
 * comes last.
 */
static void mix_run(struct __test_metadata *_metadata, uint32_t capacity)
{
	struct mbx_port_create attr = { .capacity = capacity,
					.max_msg_size = 64 };
	pthread_t snd[MIX_SENDERS], rcv[4];
	unsigned int i, dup = 0, lost = 0;
	int fds[2];

	ASSERT_EQ(0, mbx_port_pair(MBX_DEV_AUTO, &attr, fds));
	memset(&mix, 0, sizeof(mix));
	mix.rfd = fds[0];
	mix.sfd = fds[1];
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, pthread_create(&rcv[i], NULL, mix_receiver,
					    (void *)(uintptr_t)i));
	for (i = 0; i < MIX_SENDERS; i++)
		ASSERT_EQ(0, pthread_create(&snd[i], NULL, mix_sender,
					    (void *)(uintptr_t)i));
	for (i = 0; i < MIX_SENDERS; i++)
		ASSERT_EQ(0, pthread_join(snd[i], NULL));
	close(fds[1]);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, pthread_join(rcv[i], NULL));
	EXPECT_EQ(0, mix.bad);
	for (i = 0; i < MIX_MSGS; i++) {
		dup += mix.seen[i] > 1;
		lost += !mix.seen[i];
	}
	EXPECT_EQ(0, dup);
	EXPECT_EQ(0, lost);
	close(fds[0]);
}

TEST(small_buffers_and_batches_waiting_together_lose_nothing)
{
	mix_run(_metadata, 2);
}

TEST(the_same_on_a_rendezvous_port)
{
	mix_run(_metadata, 0);
}

TEST_HARNESS_MAIN
