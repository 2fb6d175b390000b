// SPDX-License-Identifier: GPL-2.0
/*
 * Zero copy in one call a side (docs/SEMANTICS.md, "Zero copy in one
 * call"): MBX_SEND_NEXT sends a region and allocates the sender's next one,
 * MBX_RECV_RELEASE releases the previous region and receives; both through
 * MBX_IOC_SEND/MBX_IOC_RECV, MBX_IOC_CALL and libmailbox.  Every misuse
 * leaves the queue and the pool as they were; a signal, a timeout or a
 * shutdown between the two halves leaves the first half done.  Also: the
 * first versions of the grown structs (send, receive, call, batch) keep
 * working as they did.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "mbx_helpers.h"

#define POOL_SZ		(16 * 1024)
#define CAP		8
#define MSG		256

/* The first versions of the ioctls whose structs grew. */
#define SEND_V0		_IOC(_IOC_WRITE, MBX_IOC_MAGIC, 0x10, MBX_SEND_SIZE_VER0)
#define RECV_V0		_IOC(_IOC_READ | _IOC_WRITE, MBX_IOC_MAGIC, 0x11, \
			     MBX_RECV_SIZE_VER0)
#define CALL_V0		_IOC(_IOC_READ | _IOC_WRITE, MBX_IOC_MAGIC, 0x16, \
			     MBX_CALL_SIZE_VER0)
#define SEND_BATCH_V0	_IOC(_IOC_READ | _IOC_WRITE, MBX_IOC_MAGIC, 0x17, \
			     MBX_BATCH_SIZE_VER0)
#define RECV_BATCH_V0	_IOC(_IOC_READ | _IOC_WRITE, MBX_IOC_MAGIC, 0x18, \
			     MBX_BATCH_SIZE_VER0)

FIXTURE(bn) {
	int fd;
	uint8_t *map;
};

FIXTURE_SETUP(bn)
{
	self->fd = t_pool_port(CAP, MSG, POOL_SZ, NULL, 0600, 0);
	ASSERT_LE(0, self->fd);
	self->map = mmap(NULL, POOL_SZ, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->map);
}

FIXTURE_TEARDOWN(bn)
{
	munmap(self->map, POOL_SZ);
	close(self->fd);
}

static long long pool_free(int fd)
{
	struct mbx_port_info info;

	return t_info(fd, &info) ? -1 : (long long)info.pool_free;
}

static long long queued(int fd)
{
	return T_INFO(fd, queued);
}

/*
 * MBX_IOC_SEND of the region (@off, @len) with @flags | MBX_SEND_BUF (the
 * caller says MBX_SEND_NEXT, to be able to leave it out).
 */
static long send_next(int fd, uint64_t off, uint64_t len, uint32_t flags,
		      uint64_t next_len, uint64_t timeout_ns, uint64_t *next)
{
	struct mbx_send s = {
		.offset = off, .len = len, .flags = MBX_SEND_BUF | flags,
		.next_len = next_len, .timeout_ns = timeout_ns,
		.next_offset = 0x5a5a5a5a,
	};
	long ret = t_ioctl(fd, MBX_IOC_SEND, &s);

	if (next)
		*next = s.next_offset;
	return ret;
}

/* MBX_IOC_RECV in place with MBX_RECV_RELEASE of (@rel, @rel_len). */
static long recv_release(int fd, uint64_t rel, uint64_t rel_len,
			 uint32_t flags, struct mbx_recv *r)
{
	memset(r, 0, sizeof(*r));
	r->flags = MBX_RECV_INPLACE | MBX_RECV_RELEASE | flags;
	r->release_offset = rel;
	r->release_len = rel_len;
	return t_ioctl(fd, MBX_IOC_RECV, r);
}

/* Allocate a region of @len, fill it with @seed's pattern: its offset. */
static uint64_t fill_region(struct __test_metadata *_metadata, int fd,
			    uint8_t *map, uint64_t len, uint32_t seed)
{
	uint64_t off = ~0ULL;

	EXPECT_EQ(0, t_buf_alloc(fd, len, 0, 0, &off));
	if (off < POOL_SZ)
		t_fill(map + off, len, seed);
	return off;
}

TEST_F(bn, send_next_sends_and_hands_back_a_fresh_region)
{
	uint64_t a, b, got;
	unsigned int prio;

	a = fill_region(_metadata, self->fd, self->map, 100, 1);
	ASSERT_EQ(0, send_next(self->fd, a, 100, MBX_SEND_NEXT, 300, 0, &b));
	ASSERT_NE(MBX_OFFSET_NONE, b);
	EXPECT_NE(a, b);
	EXPECT_EQ(1, queued(self->fd));
	EXPECT_EQ(POOL_SZ - 128 - 320, pool_free(self->fd));

	/* The message is the region a, intact; b is ours to fill and send. */
	ASSERT_EQ(100, mbx_recv_inplace(self->fd, &got, &prio));
	EXPECT_EQ(a, got);
	EXPECT_TRUE(t_check(self->map + got, 100, 1));
	t_fill(self->map + b, 300, 2);
	ASSERT_EQ(0, mbx_buf_send(self->fd, b, 300, 0));
	EXPECT_EQ(0, mbx_buf_release(self->fd, a, 100));
	ASSERT_EQ(300, mbx_recv_inplace(self->fd, &got, NULL));
	EXPECT_EQ(b, got);
	EXPECT_TRUE(t_check(self->map + got, 300, 2));
	EXPECT_EQ(0, mbx_buf_release(self->fd, b, 300));
	EXPECT_EQ(POOL_SZ, pool_free(self->fd));
}

TEST_F(bn, send_next_with_pool_full_and_nonblock_sends_and_gives_none)
{
	uint64_t a, next = 0;

	a = fill_region(_metadata, self->fd, self->map, POOL_SZ, 3);
	EXPECT_EQ(0, send_next(self->fd, a, POOL_SZ,
			       MBX_SEND_NEXT | MBX_NONBLOCK, 64, 0, &next));
	EXPECT_EQ(MBX_OFFSET_NONE, next);
	EXPECT_EQ(1, queued(self->fd));
	EXPECT_EQ(0, pool_free(self->fd));
}

TEST_F(bn, send_next_times_out_on_a_full_pool_and_gives_none)
{
	uint64_t a, next = 0, t0;

	a = fill_region(_metadata, self->fd, self->map, POOL_SZ, 3);
	t0 = t_now_ns();
	EXPECT_EQ(0, send_next(self->fd, a, POOL_SZ,
			       MBX_SEND_NEXT | MBX_TIMEOUT, 64,
			       50 * 1000000ULL, &next));
	EXPECT_LE(50 * 1000000ULL, t_now_ns() - t0);
	EXPECT_EQ(MBX_OFFSET_NONE, next);
	EXPECT_EQ(1, queued(self->fd));
}

TEST_F(bn, send_next_waits_for_space_once_sent)
{
	uint64_t a, next = MBX_OFFSET_NONE;
	pid_t me = getpid(), pid;

	a = fill_region(_metadata, self->fd, self->map, POOL_SZ, 4);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		static char buf[POOL_SZ];

		/*
		 * The parent sent, then sleeps for space: a plain receive
		 * copies the message out and frees its region.
		 */
		if (t_wait_sleeping(me) || T_INFO(self->fd, queued) != 1)
			_exit(T_BAD_SETUP);
		if (mbx_recv(self->fd, buf, sizeof(buf), NULL) != POOL_SZ ||
		    !t_check(buf, POOL_SZ, 4))
			_exit(T_BAD_DATA);
		_exit(0);
	}
	EXPECT_EQ(0, send_next(self->fd, a, POOL_SZ, MBX_SEND_NEXT, 64, 0,
			       &next));
	EXPECT_EQ(0, t_reap(pid));
	EXPECT_EQ(0, next);
	EXPECT_EQ(POOL_SZ - 64, pool_free(self->fd));
}

static void on_usr1(int sig)
{
	(void)sig;
}

TEST_F(bn, send_next_interrupted_while_allocating_sends_and_gives_none)
{
	uint64_t a, next = 0;
	pid_t me = getpid(), pid;

	ASSERT_EQ(0, t_handle(SIGUSR1, on_usr1, SA_RESTART));
	a = fill_region(_metadata, self->fd, self->map, POOL_SZ, 5);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (t_wait_sleeping(me))
			_exit(T_BAD_SETUP);
		kill(me, SIGUSR1);
		_exit(0);
	}
	/* Restarting would send twice: the send stands, no region. */
	EXPECT_EQ(0, send_next(self->fd, a, POOL_SZ, MBX_SEND_NEXT, 64, 0,
			       &next));
	EXPECT_EQ(0, t_reap(pid));
	EXPECT_EQ(MBX_OFFSET_NONE, next);
	EXPECT_EQ(1, queued(self->fd));
}

TEST_F(bn, send_next_misuse_fails_einval_and_changes_nothing)
{
	struct mbx_send s;
	uint64_t a, next;
	long long before;
	char v0[MBX_SEND_SIZE_VER0];

	a = fill_region(_metadata, self->fd, self->map, 64, 6);
	before = pool_free(self->fd);
	/* next_len 0, or past the pool */
	EXPECT_EQ(-EINVAL, send_next(self->fd, a, 64, MBX_SEND_NEXT, 0, 0,
				     &next));
	EXPECT_EQ(-EINVAL, send_next(self->fd, a, 64, MBX_SEND_NEXT,
				     POOL_SZ + 1, 0, &next));
	/* next_len without MBX_SEND_NEXT */
	EXPECT_EQ(-EINVAL, send_next(self->fd, a, 64, 0, 64, 0, &next));
	/* MBX_SEND_NEXT on a copy-mode send */
	memset(&s, 0, sizeof(s));
	s.buf = (uintptr_t)"x";
	s.len = 1;
	s.flags = MBX_SEND_NEXT;
	s.next_len = 64;
	EXPECT_EQ(-EINVAL, t_ioctl(self->fd, MBX_IOC_SEND, &s));
	/* A VER0 struct has nowhere to put next_offset. */
	memset(&s, 0, sizeof(s));
	s.offset = a;
	s.len = 64;
	s.flags = MBX_SEND_BUF | MBX_SEND_NEXT;
	memcpy(v0, &s, sizeof(v0));
	EXPECT_EQ(-EINVAL, t_ioctl(self->fd, SEND_V0, v0));

	EXPECT_EQ(0, queued(self->fd));
	EXPECT_EQ(before, pool_free(self->fd));
	/* a is still ours. */
	EXPECT_EQ(0, mbx_buf_release(self->fd, a, 64));
}

TEST(send_next_without_pool_fails_enodev)
{
	struct mbx_send s = {
		.flags = MBX_SEND_BUF | MBX_SEND_NEXT, .len = 1, .next_len = 64,
	};
	int fd = t_anon(4, 64);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-ENODEV, t_ioctl(fd, MBX_IOC_SEND, &s));
	EXPECT_EQ(0, T_INFO(fd, queued));
	close(fd);
}

TEST_F(bn, recv_release_releases_then_receives_in_place)
{
	struct mbx_recv r;
	uint64_t a, b, got;

	a = fill_region(_metadata, self->fd, self->map, 200, 7);
	ASSERT_EQ(0, mbx_buf_send(self->fd, a, 200, 0));
	ASSERT_EQ(200, mbx_recv_inplace(self->fd, &got, NULL));
	ASSERT_EQ(a, got);
	b = fill_region(_metadata, self->fd, self->map, 500, 8);
	ASSERT_EQ(0, mbx_buf_send(self->fd, b, 500, 3));

	ASSERT_EQ(0, recv_release(self->fd, a, 200, 0, &r));
	EXPECT_EQ(500, r.len);
	EXPECT_EQ(b, r.offset);
	EXPECT_EQ(3, r.prio);
	EXPECT_EQ(MBX_MSG_BUF, r.msg_flags);
	EXPECT_TRUE(t_check(self->map + r.offset, 500, 8));
	/* a went back to the pool, b is held by us now. */
	EXPECT_EQ(POOL_SZ - 512, pool_free(self->fd));
	EXPECT_EQ(-EINVAL, mbx_buf_release(self->fd, a, 200));
	EXPECT_EQ(0, mbx_buf_release(self->fd, b, 500));
	EXPECT_EQ(POOL_SZ, pool_free(self->fd));
}

TEST_F(bn, recv_release_library_call_and_copy_receive)
{
	uint64_t a, b, got = 0;
	unsigned int prio = 9;
	struct mbx_recv r;
	char buf[MSG];

	a = fill_region(_metadata, self->fd, self->map, 64, 9);
	ASSERT_EQ(0, mbx_buf_send(self->fd, a, 64, 1));
	ASSERT_EQ(64, mbx_recv_inplace(self->fd, &got, NULL));
	b = fill_region(_metadata, self->fd, self->map, 64, 10);
	ASSERT_EQ(0, mbx_buf_send(self->fd, b, 64, 2));
	ASSERT_EQ(64, mbx_recv_inplace_release(self->fd, a, 64, &got, &prio));
	EXPECT_EQ(b, got);
	EXPECT_EQ(2, prio);

	/* A copy-mode receive may release too. */
	ASSERT_EQ(0, t_send_str(self->fd, "copy", 0));
	memset(&r, 0, sizeof(r));
	r.buf = (uintptr_t)buf;
	r.len = sizeof(buf);
	r.flags = MBX_RECV_RELEASE;
	r.release_offset = b;
	r.release_len = 64;
	ASSERT_EQ(0, t_ioctl(self->fd, MBX_IOC_RECV, &r));
	EXPECT_EQ(4, r.len);
	EXPECT_EQ(0, memcmp(buf, "copy", 4));
	EXPECT_EQ(POOL_SZ, pool_free(self->fd));
}

TEST_F(bn, recv_release_of_a_bad_region_fails_and_receives_nothing)
{
	struct mbx_recv r;
	uint64_t a, held;
	long long before;
	int other, fd2;

	held = fill_region(_metadata, self->fd, self->map, 64, 11);
	a = fill_region(_metadata, self->fd, self->map, 64, 12);
	ASSERT_EQ(0, mbx_buf_send(self->fd, a, 64, 0));
	before = pool_free(self->fd);

	/* never allocated, misaligned, past the pool, wrong length */
	EXPECT_EQ(-EINVAL, recv_release(self->fd, POOL_SZ - 64, 64, 0, &r));
	EXPECT_EQ(-EINVAL, recv_release(self->fd, held + 1, 64, 0, &r));
	EXPECT_EQ(-EINVAL, recv_release(self->fd, POOL_SZ, 64, 0, &r));
	EXPECT_EQ(-EINVAL, recv_release(self->fd, held, 63, 0, &r));
	/* still queued: held by the message, not by this fd */
	EXPECT_EQ(-EPERM, recv_release(self->fd, a, 64, 0, &r));

	/* held by another open file of the same port */
	fd2 = mbx_port_dup(self->fd, MBX_SEND | MBX_RECV);
	ASSERT_LE(0, fd2);
	EXPECT_EQ(-EPERM, recv_release(fd2, held, 64, 0, &r));

	/* a region of another port: this port has none there */
	other = t_pool_port(CAP, MSG, POOL_SZ, NULL, 0600, 0);
	ASSERT_LE(0, other);
	EXPECT_EQ(-EINVAL, recv_release(other, held, 64, 0, &r));

	EXPECT_EQ(1, queued(self->fd));
	EXPECT_EQ(before, pool_free(self->fd));
	EXPECT_EQ(0, mbx_buf_release(self->fd, held, 64));
	close(other);
	close(fd2);
}

TEST_F(bn, recv_release_misuse_fails_einval)
{
	struct mbx_recv r;
	char v0[MBX_RECV_SIZE_VER0];
	uint64_t held;

	held = fill_region(_metadata, self->fd, self->map, 64, 13);
	ASSERT_EQ(0, t_send_str(self->fd, "m", 0));
	/* release fields without the flag */
	memset(&r, 0, sizeof(r));
	r.flags = MBX_RECV_INPLACE;
	r.release_len = 64;
	EXPECT_EQ(-EINVAL, t_ioctl(self->fd, MBX_IOC_RECV, &r));
	/* a VER0 struct cannot name the region */
	memset(&r, 0, sizeof(r));
	r.flags = MBX_RECV_INPLACE | MBX_RECV_RELEASE;
	memcpy(v0, &r, sizeof(v0));
	EXPECT_EQ(-EINVAL, t_ioctl(self->fd, RECV_V0, v0));
	EXPECT_EQ(1, queued(self->fd));
	EXPECT_EQ(0, mbx_buf_release(self->fd, held, 64));
}

TEST_F(bn, recv_release_interrupted_is_eintr_and_the_release_stands)
{
	uint64_t a, got;
	pid_t me = getpid(), pid;
	struct mbx_recv r;

	ASSERT_EQ(0, t_handle(SIGUSR1, on_usr1, SA_RESTART));
	a = fill_region(_metadata, self->fd, self->map, 64, 14);
	ASSERT_EQ(0, mbx_buf_send(self->fd, a, 64, 0));
	ASSERT_EQ(64, mbx_recv_inplace(self->fd, &got, NULL));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (t_wait_sleeping(me))
			_exit(T_BAD_SETUP);
		kill(me, SIGUSR1);
		_exit(0);
	}
	/* SA_RESTART, yet a restart would release a second time. */
	EXPECT_EQ(-EINTR, recv_release(self->fd, a, 64, 0, &r));
	EXPECT_EQ(0, t_reap(pid));
	EXPECT_EQ(POOL_SZ, pool_free(self->fd));
}

TEST_F(bn, recv_release_on_shutdown_is_epipe_and_the_release_stands)
{
	uint64_t a, got;
	struct mbx_recv r;
	pid_t me = getpid(), pid;

	a = fill_region(_metadata, self->fd, self->map, 64, 15);
	ASSERT_EQ(0, mbx_buf_send(self->fd, a, 64, 0));
	ASSERT_EQ(64, mbx_recv_inplace(self->fd, &got, NULL));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (t_wait_sleeping(me))
			_exit(T_BAD_SETUP);
		_exit(mbx_shutdown(self->fd) ? T_BAD_SETUP : 0);
	}
	EXPECT_EQ(-EPIPE, recv_release(self->fd, a, 64, 0, &r));
	EXPECT_EQ(0, t_reap(pid));
	EXPECT_EQ(POOL_SZ, pool_free(self->fd));
}

TEST_F(bn, recv_release_timeout_and_nonblock_keep_the_release)
{
	uint64_t a, b, got;
	struct mbx_recv r;

	a = fill_region(_metadata, self->fd, self->map, 64, 16);
	b = fill_region(_metadata, self->fd, self->map, 64, 17);
	ASSERT_EQ(0, mbx_buf_send(self->fd, a, 64, 0));
	ASSERT_EQ(0, mbx_buf_send(self->fd, b, 64, 0));
	ASSERT_EQ(64, mbx_recv_inplace(self->fd, &got, NULL));
	ASSERT_EQ(64, mbx_recv_inplace(self->fd, &got, NULL));
	EXPECT_EQ(-EAGAIN, recv_release(self->fd, a, 64, MBX_NONBLOCK, &r));
	memset(&r, 0, sizeof(r));
	r.flags = MBX_RECV_INPLACE | MBX_RECV_RELEASE | MBX_TIMEOUT;
	r.timeout_ns = 20 * 1000000ULL;
	r.release_offset = b;
	r.release_len = 64;
	EXPECT_EQ(-ETIMEDOUT, t_ioctl(self->fd, MBX_IOC_RECV, &r));
	EXPECT_EQ(POOL_SZ, pool_free(self->fd));
}

/* One zero-copy round trip per call: send + next, release + receive. */
TEST_F(bn, call_sends_next_and_releases_in_one_call)
{
	struct mbx_call c;
	uint64_t cur, prev = MBX_OFFSET_NONE;
	int i;

	cur = fill_region(_metadata, self->fd, self->map, 128, 100);
	for (i = 0; i < 20; i++) {
		memset(&c, 0, sizeof(c));
		c.send.offset = cur;
		c.send.len = 128;
		c.send.flags = MBX_SEND_BUF | MBX_SEND_NEXT;
		c.send.next_len = 128;
		c.recv.flags = MBX_RECV_INPLACE;
		if (prev != MBX_OFFSET_NONE) {
			c.recv.flags |= MBX_RECV_RELEASE;
			c.recv.release_offset = prev;
			c.recv.release_len = 128;
		}
		c.recv_fd = -1;
		ASSERT_EQ(0, mbx_call_ex(self->fd, &c)) TH_LOG("round %d", i);
		EXPECT_EQ(MBX_CALL_SENT | MBX_CALL_RECEIVED, c.done);
		EXPECT_EQ(cur, c.recv.offset);
		EXPECT_TRUE(t_check(self->map + cur, 128, 100 + i));
		ASSERT_NE(MBX_OFFSET_NONE, c.send.next_offset);
		prev = cur;
		cur = c.send.next_offset;
		t_fill(self->map + cur, 128, 101 + i);
	}
	EXPECT_EQ(POOL_SZ - 256, pool_free(self->fd));
	EXPECT_EQ(0, mbx_buf_release(self->fd, prev, 128));
	EXPECT_EQ(0, mbx_buf_release(self->fd, cur, 128));
	EXPECT_EQ(POOL_SZ, pool_free(self->fd));
}

/*
 * A call whose next_offset cannot be written back fails with EFAULT, but
 * its message went: done says MBX_CALL_SENT and the region it could not
 * tell about is released.
 */
TEST_F(bn, call_with_next_offset_unwritable_says_sent)
{
	long pg = sysconf(_SC_PAGESIZE);
	struct mbx_call c, *uc;
	long long before;
	uint8_t *two;
	uint64_t a;

	two = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, two);
	a = fill_region(_metadata, self->fd, self->map, 64, 20);
	before = pool_free(self->fd);
	/* The send half ends the first page, which becomes read-only. */
	uc = (void *)(two + pg - sizeof(c.send));
	memset(&c, 0, sizeof(c));
	c.send.offset = a;
	c.send.len = 64;
	c.send.flags = MBX_SEND_BUF | MBX_SEND_NEXT | MBX_NONBLOCK;
	c.send.next_len = 64;
	c.recv.flags = MBX_NONBLOCK | MBX_RECV_INPLACE;
	c.recv_fd = -1;
	memcpy(uc, &c, sizeof(c));
	ASSERT_EQ(0, mprotect(two, pg, PROT_READ));
	EXPECT_EQ(-EFAULT, t_ioctl(self->fd, MBX_IOC_CALL, uc));
	EXPECT_EQ(MBX_CALL_SENT, uc->done);
	EXPECT_EQ(1, queued(self->fd));
	/* The message holds a; no next region is left held. */
	EXPECT_EQ(before, pool_free(self->fd));
	munmap(two, 2 * pg);
}

TEST_F(bn, library_send_next_gives_the_next_region)
{
	uint64_t a, next = 0, got;

	a = fill_region(_metadata, self->fd, self->map, 64, 18);
	ASSERT_EQ(0, mbx_buf_send_next(self->fd, a, 64, 4, 1024, &next));
	ASSERT_NE(MBX_NO_OFFSET, next);
	ASSERT_EQ(64, mbx_recv_inplace(self->fd, &got, NULL));
	EXPECT_EQ(a, got);
	EXPECT_EQ(POOL_SZ - 64 - 1024, pool_free(self->fd));
}

/* ---- the first versions of the grown structs keep working ------------- */

TEST_F(bn, ver0_send_and_recv_structs_still_work)
{
	unsigned char v0s[MBX_SEND_SIZE_VER0], v0r[MBX_RECV_SIZE_VER0 + 16];
	struct mbx_send s = { .buf = (uintptr_t)"abc", .len = 3, .prio = 5,
			      .tag = 77 };
	struct mbx_recv r;
	char buf[16];

	memcpy(v0s, &s, sizeof(v0s));
	ASSERT_EQ(0, t_ioctl(self->fd, SEND_V0, v0s));
	memset(&r, 0, sizeof(r));
	r.buf = (uintptr_t)buf;
	r.len = sizeof(buf);
	memset(v0r, 0xa5, sizeof(v0r));
	memcpy(v0r, &r, MBX_RECV_SIZE_VER0);
	ASSERT_EQ(0, t_ioctl(self->fd, RECV_V0, v0r));
	memcpy(&r, v0r, MBX_RECV_SIZE_VER0);
	EXPECT_EQ(3, r.len);
	EXPECT_EQ(5, r.prio);
	EXPECT_EQ(77, r.tag);
	EXPECT_EQ(0, memcmp(buf, "abc", 3));
	/* Nothing written past the VER0 struct. */
	EXPECT_EQ(0xa5, v0r[MBX_RECV_SIZE_VER0]);
	EXPECT_EQ(0xa5, v0r[sizeof(v0r) - 1]);
}

TEST_F(bn, ver0_call_layout_still_works)
{
	unsigned char v0[MBX_CALL_SIZE_VER0 + 8];
	struct mbx_send s = { .buf = (uintptr_t)"ping", .len = 4 };
	struct mbx_recv r;
	char buf[16];
	uint32_t done;
	int32_t fd = -1;

	memset(&r, 0, sizeof(r));
	r.buf = (uintptr_t)buf;
	r.len = sizeof(buf);
	memset(v0, 0, sizeof(v0));
	memcpy(v0, &s, MBX_SEND_SIZE_VER0);
	memcpy(v0 + 48, &r, MBX_RECV_SIZE_VER0);
	memcpy(v0 + 112, &fd, 4);
	v0[MBX_CALL_SIZE_VER0] = 0xa5;
	ASSERT_EQ(0, t_ioctl(self->fd, CALL_V0, v0));
	memcpy(&done, v0 + 120, 4);
	EXPECT_EQ(MBX_CALL_SENT | MBX_CALL_RECEIVED, done);
	memcpy(&r, v0 + 48, MBX_RECV_SIZE_VER0);
	EXPECT_EQ(4, r.len);
	EXPECT_EQ(0, memcmp(buf, "ping", 4));
	EXPECT_EQ(0xa5, v0[MBX_CALL_SIZE_VER0]);
	/* The VER0 layout has no room for the new flags. */
	s.buf = 0;
	s.flags = MBX_SEND_BUF | MBX_SEND_NEXT;
	memcpy(v0, &s, MBX_SEND_SIZE_VER0);
	EXPECT_EQ(-EINVAL, t_ioctl(self->fd, CALL_V0, v0));
	EXPECT_EQ(0, queued(self->fd));
}

TEST_F(bn, ver0_batch_takes_ver0_entries)
{
	unsigned char ents[3][MBX_SEND_SIZE_VER0];
	unsigned char rents[3][MBX_RECV_SIZE_VER0];
	struct mbx_batch b;
	struct mbx_send s;
	struct mbx_recv r;
	char bufs[3][8];
	int i;

	for (i = 0; i < 3; i++) {
		memset(&s, 0, sizeof(s));
		s.buf = (uintptr_t)"0123456" + i;
		s.len = 1;
		s.tag = 10 + i;
		memcpy(ents[i], &s, sizeof(ents[i]));
		memset(&r, 0, sizeof(r));
		r.buf = (uintptr_t)bufs[i];
		r.len = sizeof(bufs[i]);
		memcpy(rents[i], &r, sizeof(rents[i]));
	}
	memset(&b, 0, sizeof(b));
	b.msgs = (uintptr_t)ents;
	b.count = 3;
	ASSERT_EQ(3, t_ioctl(self->fd, SEND_BATCH_V0, &b));
	b.msgs = (uintptr_t)rents;
	ASSERT_EQ(3, t_ioctl(self->fd, RECV_BATCH_V0, &b));
	for (i = 0; i < 3; i++) {
		memcpy(&r, rents[i], sizeof(rents[i]));
		EXPECT_EQ(1, r.len);
		EXPECT_EQ(10 + i, r.tag);
		EXPECT_EQ('0' + i, bufs[i][0]);
	}
}

TEST_F(bn, batch_entry_size_says_the_entries_version)
{
	unsigned char ents[2][MBX_SEND_SIZE_VER0];
	struct mbx_send s[2];
	struct mbx_recv r[2];
	struct mbx_batch b;
	char bufs[2][8];
	int i;

	memset(s, 0, sizeof(s));
	memset(r, 0, sizeof(r));
	for (i = 0; i < 2; i++) {
		s[i].buf = (uintptr_t)"ab" + i;
		s[i].len = 1;
		memcpy(ents[i], &s[i], sizeof(ents[i]));
		r[i].buf = (uintptr_t)bufs[i];
		r[i].len = sizeof(bufs[i]);
	}
	memset(&b, 0, sizeof(b));
	b.count = 2;
	/* 0: the VER1 sizes; or a size named explicitly */
	b.msgs = (uintptr_t)s;
	ASSERT_EQ(2, t_ioctl(self->fd, MBX_IOC_SEND_BATCH, &b));
	b.entry_size = MBX_SEND_SIZE_VER0;
	b.msgs = (uintptr_t)ents;
	ASSERT_EQ(2, t_ioctl(self->fd, MBX_IOC_SEND_BATCH, &b));
	b.entry_size = sizeof(struct mbx_recv);
	b.msgs = (uintptr_t)r;
	ASSERT_EQ(2, t_ioctl(self->fd, MBX_IOC_RECV_BATCH, &b));
	EXPECT_EQ('a', bufs[0][0]);
	EXPECT_EQ('b', bufs[1][0]);

	/* Any other size, and the new reserved field, are refused. */
	b.entry_size = MBX_SEND_SIZE_VER0 + 8;
	b.msgs = (uintptr_t)s;
	b.count = 1;
	EXPECT_EQ(-EINVAL, t_ioctl(self->fd, MBX_IOC_SEND_BATCH, &b));
	b.entry_size = 0;
	b.reserved2 = 1;
	EXPECT_EQ(-EINVAL, t_ioctl(self->fd, MBX_IOC_SEND_BATCH, &b));
	EXPECT_EQ(2, queued(self->fd));
}

TEST(feature_bit_is_reported)
{
	struct mbx_version v;

	ASSERT_EQ(0, mbx_version(MBX_DEV_AUTO, &v));
	EXPECT_TRUE(v.features & MBX_FEAT_BUF_NEXT);
}

TEST_HARNESS_MAIN
