// SPDX-License-Identifier: GPL-2.0
/*
 * Topics with a pool: a region sent once is delivered in place to every
 * subscriber at the same offset and goes back to the pool only after the
 * last one released it, unsubscribed, closed or died; regions held by
 * others cannot be sent or released.  Also: a receive whose copy faults
 * leaves the backlog as it was; MBX_RECV_RELEASE gives back the
 * subscriber's own hold only; and subscribing and unsubscribing race
 * with publishers without losing, duplicating or leaking anything.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "mbx_helpers.h"

#define POOL	(64 * 1024)

/* A topic of @cap messages with a pool. */
static int pool_topic(uint32_t cap)
{
	return t_pool_port(cap, 256, POOL, NULL, 0600, MBX_PORT_TOPIC);
}

static int sub(int fd)
{
	return mbx_port_dup(fd, MBX_RECV | MBX_NONBLOCK);
}

/* Allocate a region of @len bytes, fill it with @seed's pattern, send it. */
static long send_region(int fd, void *base, size_t len, uint32_t seed,
			uint64_t *off)
{
	long ret = mbx_buf_alloc(fd, len, off);

	if (ret)
		return ret;
	t_fill(mbx_buf_ptr(base, *off), len, seed);
	return mbx_buf_send(fd, *off, len, 0);
}

static long long pool_free(int fd)
{
	struct mbx_port_info info;
	int ret = t_info(fd, &info);

	return ret ? ret : (long long)info.pool_free;
}

TEST(region_fans_out_in_place_and_returns_after_the_last_release)
{
	enum { SUBS = 3 };
	int fd = pool_topic(4), s[SUBS], i;
	uint64_t off, got;
	size_t size;
	void *base;
	ssize_t n;

	ASSERT_LE(0, fd);
	for (i = 0; i < SUBS; i++) {
		s[i] = sub(fd);
		ASSERT_LE(0, s[i]);
	}
	ASSERT_EQ(0, mbx_pool_map(fd, &base, &size));
	ASSERT_EQ(POOL, pool_free(fd));
	ASSERT_EQ(0, send_region(fd, base, 1000, 7, &off));
	EXPECT_EQ(1, T_INFO(fd, queued));
	for (i = 0; i < SUBS; i++) {
		n = mbx_recv_inplace(s[i], &got, NULL);
		ASSERT_EQ(1000, n);
		EXPECT_EQ(off, got);
		EXPECT_TRUE(t_check(mbx_buf_ptr(base, got), 1000, 7));
	}
	EXPECT_EQ(0, T_INFO(fd, queued));
	for (i = 0; i < SUBS; i++) {
		EXPECT_GT(POOL, pool_free(fd));
		/* Held by the subscribers, not by the publisher any more. */
		EXPECT_EQ(-EPERM, mbx_buf_release(fd, off, 1000));
		EXPECT_EQ(-EINVAL, mbx_buf_release(s[i], off, 999));
		EXPECT_EQ(0, mbx_buf_release(s[i], off, 1000));
		EXPECT_NE(0, mbx_buf_release(s[i], off, 1000));
	}
	EXPECT_EQ(POOL, pool_free(fd));
	mbx_pool_unmap(base, size);
	for (i = 0; i < SUBS; i++)
		close(s[i]);
	close(fd);
}

TEST(copy_receives_of_a_region_free_it_after_the_last)
{
	int fd = pool_topic(4), a, b;
	char buf[512];
	uint64_t off;
	size_t size;
	void *base;

	ASSERT_LE(0, fd);
	a = sub(fd);
	b = sub(fd);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, mbx_pool_map(fd, &base, &size));
	ASSERT_EQ(0, send_region(fd, base, 300, 3, &off));
	EXPECT_EQ(300, mbx_recv(a, buf, sizeof(buf), NULL));
	EXPECT_TRUE(t_check(buf, 300, 3));
	EXPECT_GT(POOL, pool_free(fd));
	EXPECT_EQ(300, mbx_recv(b, buf, sizeof(buf), NULL));
	EXPECT_TRUE(t_check(buf, 300, 3));
	EXPECT_EQ(POOL, pool_free(fd));
	mbx_pool_unmap(base, size);
	close(a);
	close(b);
	close(fd);
}

/*
 * MBX_RECV_RELEASE on a subscription: the region given back is this
 * subscriber's hold only; one it does not hold fails the call, which then
 * takes nothing; a release stands when the receive finds nothing.
 */
TEST(receive_in_place_releases_the_subscribers_last_region)
{
	int fd = pool_topic(4), a, b;
	uint64_t r1, r2, got;
	size_t size;
	void *base;

	ASSERT_LE(0, fd);
	a = sub(fd);
	b = sub(fd);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, mbx_pool_map(fd, &base, &size));
	ASSERT_EQ(0, send_region(fd, base, 200, 1, &r1));
	ASSERT_EQ(0, send_region(fd, base, 300, 2, &r2));

	ASSERT_EQ(200, mbx_recv_inplace(a, &got, NULL));
	EXPECT_EQ(r1, got);
	ASSERT_EQ(300, mbx_recv_inplace_release(a, r1, 200, &got, NULL));
	EXPECT_EQ(r2, got);
	EXPECT_TRUE(t_check(mbx_buf_ptr(base, r2), 300, 2));
	/* b still has r1 in its backlog: a's release did not free it. */
	ASSERT_EQ(200, mbx_recv_inplace(b, &got, NULL));
	EXPECT_EQ(r1, got);
	EXPECT_TRUE(t_check(mbx_buf_ptr(base, r1), 200, 1));

	/* b does not hold r2 (a does): refused, and r2 stays in b's backlog. */
	EXPECT_EQ(-EPERM, mbx_recv_inplace_release(b, r2, 300, &got, NULL));
	EXPECT_EQ(-EINVAL, mbx_recv_inplace_release(b, r1, 199, &got, NULL));
	ASSERT_EQ(300, mbx_recv_inplace_release(b, r1, 200, &got, NULL));
	EXPECT_EQ(r2, got);
	/* r1 is free now: nobody holds it. */
	EXPECT_NE(0, mbx_buf_release(a, r1, 200));
	EXPECT_NE(0, mbx_buf_release(b, r1, 200));

	/* Nothing left for a: the release stands all the same. */
	EXPECT_EQ(-EAGAIN, mbx_recv_inplace_release(a, r2, 300, &got, NULL));
	EXPECT_NE(0, mbx_buf_release(a, r2, 300));
	EXPECT_GT(POOL, pool_free(fd));
	EXPECT_EQ(0, mbx_buf_release(b, r2, 300));
	EXPECT_EQ(POOL, pool_free(fd));
	mbx_pool_unmap(base, size);
	close(a);
	close(b);
	close(fd);
}

/*
 * MBX_RECV_RELEASE of a region the subscriber allocated itself (its fd
 * may send too), not one it received: given back to the pool, and the
 * receive goes on; a failed receive after it leaves it given back.
 */
TEST(receive_release_gives_back_a_region_the_subscriber_allocated)
{
	int fd = pool_topic(4), a;
	uint64_t mine, r1, got;
	size_t size;
	void *base;

	ASSERT_LE(0, fd);
	a = mbx_port_dup(fd, MBX_RECV | MBX_SEND | MBX_NONBLOCK);
	ASSERT_LE(0, a);
	ASSERT_EQ(0, mbx_pool_map(fd, &base, &size));
	ASSERT_EQ(0, mbx_buf_alloc(a, 100, &mine));
	ASSERT_EQ(0, send_region(fd, base, 200, 1, &r1));
	EXPECT_EQ(-EINVAL, mbx_recv_inplace_release(a, mine, 99, &got, NULL));
	ASSERT_EQ(200, mbx_recv_inplace_release(a, mine, 100, &got, NULL));
	EXPECT_EQ(r1, got);
	EXPECT_NE(0, mbx_buf_release(a, mine, 100));
	ASSERT_EQ(0, mbx_buf_alloc(a, 100, &mine));
	EXPECT_EQ(-EAGAIN, mbx_recv_inplace_release(a, mine, 100, &got, NULL));
	EXPECT_NE(0, mbx_buf_release(a, mine, 100));
	EXPECT_EQ(0, mbx_buf_release(a, r1, 200));
	EXPECT_EQ(POOL, pool_free(fd));
	mbx_pool_unmap(base, size);
	close(a);
	close(fd);
}

/* Send a region of @len bytes, filled, waiting neither for space nor room. */
static long send_region_nowait(int fd, void *base, size_t len, uint32_t seed)
{
	struct mbx_send s = { .len = len,
			      .flags = MBX_SEND_BUF | MBX_NONBLOCK };
	uint64_t off;
	long ret = t_buf_alloc(fd, len, MBX_NONBLOCK, 0, &off);

	if (ret)
		return ret;
	t_fill(mbx_buf_ptr(base, off), len, seed);
	s.offset = off;
	ret = t_ioctl(fd, MBX_IOC_SEND, &s);
	if (ret)
		mbx_buf_release(fd, off, len);
	return ret;
}

/*
 * A backlog's default byte limit covers the pool: regions larger than
 * max_msg_size queue up to the backlog's message limit, as on an ordinary
 * port, rather than one at a time.  A byte limit set by the subscriber
 * counts regions too, and may be at most capacity x max_msg_size plus the
 * pool's size.
 */
TEST(backlog_default_limits_hold_regions_up_to_the_capacity)
{
	enum { CAP = 4, LEN = 4096 };
	int fd = pool_topic(CAP), a, i;
	struct mbx_recv r;
	uint64_t got = 0;
	size_t size;
	void *base;

	ASSERT_LE(0, fd);
	a = sub(fd);
	ASSERT_LE(0, a);
	ASSERT_EQ(0, mbx_pool_map(fd, &base, &size));
	for (i = 0; i < CAP; i++)
		ASSERT_EQ(0, send_region_nowait(fd, base, LEN, i));
	EXPECT_EQ(-EAGAIN, send_region_nowait(fd, base, LEN, CAP));
	EXPECT_EQ(CAP, T_INFO(a, sub_depth));
	EXPECT_EQ(CAP * LEN, T_INFO64(a, sub_bytes));
	for (i = 0; i < CAP; i++) {
		memset(&r, 0, sizeof(r));
		r.flags = MBX_RECV_INPLACE;
		if (i) {
			r.flags |= MBX_RECV_RELEASE;
			r.release_offset = got;
			r.release_len = LEN;
		}
		ASSERT_EQ(0, t_ioctl(a, MBX_IOC_RECV, &r));
		ASSERT_EQ(LEN, r.len);
		got = r.offset;
		EXPECT_TRUE(t_check(mbx_buf_ptr(base, got), LEN, i));
	}
	EXPECT_EQ(0, mbx_buf_release(a, got, LEN));
	EXPECT_EQ(POOL, pool_free(fd));

	/* An explicit limit of two regions' bytes. */
	ASSERT_EQ(-EINVAL, mbx_subscribe(a, MBX_SUB_BLOCK, 0,
					 CAP * 256 + POOL + 1));
	ASSERT_EQ(0, mbx_subscribe(a, MBX_SUB_BLOCK, 0, CAP * 256 + POOL));
	ASSERT_EQ(0, mbx_subscribe(a, MBX_SUB_BLOCK, 0, 2 * LEN));
	EXPECT_EQ(0, send_region_nowait(fd, base, LEN, 1));
	EXPECT_EQ(0, send_region_nowait(fd, base, LEN, 2));
	EXPECT_EQ(-EAGAIN, send_region_nowait(fd, base, LEN, 3));
	EXPECT_EQ(2, T_INFO(a, sub_depth));
	close(a);
	EXPECT_EQ(POOL, pool_free(fd));
	mbx_pool_unmap(base, size);
	close(fd);
}

/*
 * A drop-oldest backlog's default byte limit leaves the pool out: a
 * subscriber that stopped reading keeps one large region, not the whole
 * pool, and its publisher, which never waits for it, always finds space.
 */
TEST(stalled_drop_oldest_subscriber_does_not_keep_the_pool)
{
	enum { CAP = 4, LEN = POOL / CAP, N = 3 * CAP };
	int fd = pool_topic(CAP), a, i;
	uint64_t got;
	size_t size;
	void *base;

	ASSERT_LE(0, fd);
	a = sub(fd);
	ASSERT_LE(0, a);
	ASSERT_EQ(0, mbx_subscribe(a, MBX_SUB_DROP_OLDEST, 0, 0));
	ASSERT_EQ(0, mbx_pool_map(fd, &base, &size));
	for (i = 0; i < N; i++)
		ASSERT_EQ(0, send_region_nowait(fd, base, LEN, i));
	EXPECT_EQ(1, T_INFO(a, sub_depth));
	EXPECT_EQ(N - 1, T_INFO64(a, sub_dropped));
	EXPECT_EQ(POOL - LEN, pool_free(fd));
	ASSERT_EQ(LEN, mbx_recv_inplace(a, &got, NULL));
	EXPECT_TRUE(t_check(mbx_buf_ptr(base, got), LEN, N - 1));
	close(a);
	EXPECT_EQ(POOL, pool_free(fd));
	mbx_pool_unmap(base, size);
	close(fd);
}

TEST(subscriber_cannot_send_a_region_it_holds)
{
	int fd = pool_topic(4), a;
	uint64_t off, got;
	size_t size;
	void *base;

	ASSERT_LE(0, fd);
	a = mbx_port_dup(fd, MBX_RECV | MBX_SEND | MBX_NONBLOCK);
	ASSERT_LE(0, a);
	ASSERT_EQ(0, mbx_pool_map(fd, &base, &size));
	ASSERT_EQ(0, send_region(fd, base, 64, 1, &off));
	ASSERT_EQ(64, mbx_recv_inplace(a, &got, NULL));
	EXPECT_EQ(-EPERM, mbx_buf_send(a, got, 64, 0));
	EXPECT_EQ(-EPERM, mbx_buf_send(fd, got, 64, 0));
	EXPECT_EQ(0, mbx_buf_release(a, got, 64));
	EXPECT_EQ(POOL, pool_free(fd));
	mbx_pool_unmap(base, size);
	close(a);
	close(fd);
}

TEST(unsubscribe_and_close_give_regions_back)
{
	int fd = pool_topic(4), a, b, c;
	uint64_t off, got;
	size_t size;
	void *base;

	ASSERT_LE(0, fd);
	a = sub(fd);
	b = sub(fd);
	c = sub(fd);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, mbx_pool_map(fd, &base, &size));
	ASSERT_EQ(0, send_region(fd, base, 100, 1, &off));
	ASSERT_EQ(0, send_region(fd, base, 100, 2, &off));
	ASSERT_EQ(100, mbx_recv_inplace(a, &got, NULL));
	ASSERT_EQ(100, mbx_recv_inplace(b, &got, NULL));
	EXPECT_EQ(2, T_INFO(fd, queued));
	/* a holds one in place and has one queued: both go. */
	EXPECT_EQ(0, mbx_unsubscribe(a));
	EXPECT_EQ(-EPERM, mbx_buf_release(a, got, 100));
	close(b);
	EXPECT_EQ(2, T_INFO(fd, queued));
	close(c);
	EXPECT_EQ(0, T_INFO(fd, queued));
	EXPECT_EQ(POOL, pool_free(fd));
	mbx_pool_unmap(base, size);
	close(a);
	close(fd);
}

/*
 * Objects in use in the slab cache @name (/proc/slabinfo), or -1.  The
 * cache is shrunk first: that empties its per-CPU slabs and KASAN's
 * quarantine (debug kernel), which keep freed objects counted in use.
 */
static long slab_in_use(const char *name)
{
	char line[512], n[64], path[128];
	long active = -1, v;
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "/sys/kernel/slab/%s/shrink", name);
	fd = open(path, O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "1", 1) != 1)
			perror(path);	/* then counted as it stands */
		close(fd);
	}
	f = fopen("/proc/slabinfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %ld", n, &v) == 2 && !strcmp(n, name))
			active = v;
	fclose(f);
	return active;
}

/*
 * A region held in place keeps no message: once every subscriber has
 * taken it, the message that carried it is freed, and the region alone
 * stays until the last holder lets go.  Holding them once kept a 320-byte
 * message each, outside the port's charge: five times the pool for
 * 64-byte regions.  Counted in the module's cache of small messages
 * (pool messages are among them).
 */
TEST(regions_held_in_place_keep_no_message)
{
	enum { N = 2048 };	/* 64-byte regions: 32 pages */
	int fd = t_pool_port(4, 256, N * 64, NULL, 0600, MBX_PORT_TOPIC), s;
	long before, after;
	uint64_t off, got;
	size_t size;
	void *base;
	int i;

	ASSERT_LE(0, fd);
	if (slab_in_use("mbx_msg") < 0)
		SKIP(return, "/proc/slabinfo cannot be read");
	/* Freed objects wait in KASAN's quarantine, unless shrunk. */
	if (t_kmemleak_kernel() &&
	    access("/sys/kernel/slab/mbx_msg/shrink", W_OK))
		SKIP(return, "KASAN's quarantine cannot be emptied here");
	s = sub(fd);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, mbx_pool_map(fd, &base, &size));
	before = slab_in_use("mbx_msg");
	for (i = 0; i < N; i++) {
		ASSERT_EQ(0, send_region(fd, base, 64, i, &off));
		ASSERT_EQ(64, mbx_recv_inplace(s, &got, NULL));
		ASSERT_EQ(off, got);
	}
	after = slab_in_use("mbx_msg");
	EXPECT_EQ(0, T_INFO(fd, queued));
	EXPECT_EQ(0, pool_free(fd));
	EXPECT_GT(N / 4, after - before)
		TH_LOG("%ld more messages in use for %d regions held", after - before, N);
	/* Each goes back to the pool with its last holder. */
	EXPECT_EQ(0, mbx_buf_release(s, off, 64));
	EXPECT_EQ(64, pool_free(fd));
	close(s);
	EXPECT_EQ(N * 64, pool_free(fd));
	mbx_pool_unmap(base, size);
	close(fd);
}

TEST(subscriber_that_dies_holding_a_region_gives_it_back)
{
	int fd = pool_topic(4), a, b;
	uint64_t off, got;
	size_t size;
	void *base;
	pid_t pid;

	ASSERT_LE(0, fd);
	a = sub(fd);
	b = sub(fd);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, mbx_pool_map(fd, &base, &size));
	ASSERT_EQ(0, send_region(fd, base, 200, 5, &off));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(b);
		if (mbx_recv_inplace(a, &got, NULL) != 200)
			_exit(T_BAD_DATA);
		pause();
		_exit(0);
	}
	close(a);	/* the child's copy of the fd is the only one */
	/* Once the child has it in place, and b too, only b releases. */
	ASSERT_EQ(0, t_wait_info(fd, offsetof(struct mbx_port_info, received),
				 1));
	ASSERT_EQ(200, mbx_recv_inplace(b, &got, NULL));
	EXPECT_EQ(off, got);
	EXPECT_EQ(0, T_INFO(fd, queued));
	EXPECT_EQ(0, mbx_buf_release(b, got, 200));
	EXPECT_GT(POOL, pool_free(fd));
	t_kill(pid);
	EXPECT_EQ(0, T_WAIT(fd, subscribers, 1));
	EXPECT_EQ(POOL, pool_free(fd));
	mbx_pool_unmap(base, size);
	close(b);
	close(fd);
}

TEST(receive_that_faults_leaves_the_backlog_as_it_was)
{
	struct mbx_recv r;
	int fd = pool_topic(4), a;
	uint32_t v = 5, got = 0;

	ASSERT_LE(0, fd);
	a = sub(fd);
	ASSERT_LE(0, a);
	ASSERT_EQ(0, mbx_send(fd, &v, sizeof(v), 0));
	memset(&r, 0, sizeof(r));
	r.buf = (uintptr_t)t_bad_ptr();
	r.len = sizeof(v);
	EXPECT_EQ(-EFAULT, t_ioctl(a, MBX_IOC_RECV, &r));
	EXPECT_EQ(-EFAULT, t_ioctl(a, MBX_IOC_RECV, t_bad_ptr()));
	EXPECT_EQ(1, T_INFO(a, sub_depth));
	EXPECT_EQ(4, mbx_recv(a, &got, sizeof(got), NULL));
	EXPECT_EQ(5, got);
	EXPECT_EQ(0, T_INFO(fd, queued));
	close(a);
	close(fd);
}

/* ---- races ------------------------------------------------------------ */

struct race {
	int fd;		/* publisher */
	int steady;	/* a subscriber that reads everything */
	int churn;	/* a subscriber that comes and goes */
	uint32_t n;
	int result;
};

static void *publisher(void *arg)
{
	struct race *rc = arg;
	uint32_t i;

	for (i = 0; i < rc->n; i++)
		if (mbx_send(rc->fd, &i, sizeof(i), i % 3)) {
			rc->result = -1;
			break;
		}
	return NULL;
}

static void *churner(void *arg)
{
	struct race *rc = arg;
	uint32_t v, k;

	for (k = 0; k < rc->n / 4; k++) {
		if (mbx_unsubscribe(rc->churn) ||
		    mbx_subscribe(rc->churn, k % 2 ? MBX_SUB_DROP_OLDEST :
			MBX_SUB_BLOCK, 0, 0)) {
			rc->result = -2;
			break;
		}
		while (mbx_recv_nonblock(rc->churn, &v, sizeof(v), NULL) == 4)
			;
	}
	mbx_unsubscribe(rc->churn);
	return NULL;
}

TEST(subscribe_and_unsubscribe_race_with_sends)
{
	struct race rc = { .n = 4000 };
	uint32_t next[3] = { 0, 1, 2 }, seen = 0, v;
	pthread_t pub, ch;
	unsigned int prio;
	ssize_t n;

	rc.fd = pool_topic(8);
	ASSERT_LE(0, rc.fd);
	rc.steady = mbx_port_dup(rc.fd, MBX_RECV);
	rc.churn = sub(rc.fd);
	ASSERT_LE(0, rc.steady);
	ASSERT_LE(0, rc.churn);
	ASSERT_EQ(0, pthread_create(&pub, NULL, publisher, &rc));
	ASSERT_EQ(0, pthread_create(&ch, NULL, churner, &rc));
	/* Per priority the steady subscriber sees 0..n-1 in order. */
	while (seen < rc.n) {
		n = mbx_recv_timed(rc.steady, &v, sizeof(v), &prio,
				   T_WAIT_MS * 1000000ULL);
		ASSERT_EQ(4, n);
		ASSERT_EQ(v % 3, prio);
		ASSERT_EQ(next[prio], v);
		next[prio] = v + 3;
		seen++;
	}
	pthread_join(pub, NULL);
	pthread_join(ch, NULL);
	EXPECT_EQ(0, rc.result);
	EXPECT_EQ(0, T_INFO(rc.fd, queued));
	EXPECT_EQ(1, T_INFO(rc.fd, subscribers));
	EXPECT_EQ(POOL, pool_free(rc.fd));
	close(rc.churn);
	close(rc.steady);
	close(rc.fd);
}

TEST(subscriber_processes_killed_mid_stream_leave_nothing_behind)
{
	enum { KIDS = 3, N = 600 };
	int fd = pool_topic(4), s[KIDS], i;
	uint64_t off;
	pid_t pid[KIDS];
	size_t size;
	void *base;
	uint32_t k;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, mbx_pool_map(fd, &base, &size));
	for (i = 0; i < KIDS; i++) {
		s[i] = mbx_port_dup(fd, MBX_RECV);
		ASSERT_LE(0, s[i]);
		pid[i] = t_fork();
		ASSERT_LE(0, pid[i]);
		if (pid[i] == 0) {
			uint64_t got;

			/* Hold every other region in place, never release. */
			for (;;)
				if (mbx_recv_inplace(s[i], &got, NULL) < 0)
					_exit(0);
		}
		close(s[i]);
	}
	for (k = 0; k < N; k++) {
		if (k == N / 3)
			t_kill(pid[0]);
		if (k == N / 2)
			t_kill(pid[1]);
		if (k == 2 * N / 3)
			t_kill(pid[2]);
		ASSERT_EQ(0, send_region(fd, base, 64, k, &off));
	}
	ASSERT_EQ(0, T_WAIT(fd, subscribers, 0));
	EXPECT_EQ(0, T_INFO(fd, queued));
	EXPECT_EQ(POOL, pool_free(fd));
	mbx_pool_unmap(base, size);
	close(fd);
}

/* ---- an unsubscribe racing a receive in place ----------------------- */

struct in_flight {
	int fd;
	struct mbx_recv *r;
	long ret;
	int done;
};

static void *recv_in_place(void *arg)
{
	struct in_flight *f = arg;

	f->ret = t_ioctl(f->fd, MBX_IOC_RECV, f->r);
	__atomic_store_n(&f->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *unsubscribe(void *arg)
{
	struct in_flight *f = arg;

	f->ret = t_ioctl(f->fd, MBX_IOC_UNSUBSCRIBE, NULL);
	__atomic_store_n(&f->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Write-protect (@on) or release the page at @p through @uffd. */
static int uffd_wp(int uffd, void *p, int on)
{
	struct uffdio_writeprotect wp = {
		.range = { .start = (uintptr_t)p, .len = 4096 },
		.mode = on ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
	};

	return ioctl(uffd, UFFDIO_WRITEPROTECT, &wp);
}

/*
 * A receive in place on @fd held up between its look at the message and
 * its commit, with the subscription's lock held: its results go to a page
 * that userfaultfd write-protects.
 */
struct stalled {
	struct in_flight f;
	pthread_t t;
	int uffd;
	char *page;
	uint64_t offset;	/* what the receive returned, once ended */
};

/* Start @st's receive and wait until it is held up: 0, or -errno. */
static int stall_recv(struct stalled *st, int fd)
{
	struct uffdio_api api = { .api = UFFD_API,
				  .features = UFFD_FEATURE_PAGEFAULT_FLAG_WP };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_WP };
	struct pollfd pfd = { .events = POLLIN };
	struct uffd_msg msg;

	memset(st, 0, sizeof(*st));
	st->uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (st->uffd < 0 || ioctl(st->uffd, UFFDIO_API, &api))
		return -EOPNOTSUPP;
	st->page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (st->page == MAP_FAILED)
		return -ENOMEM;
	st->f.r = (struct mbx_recv *)st->page;
	st->f.r->flags = MBX_RECV_INPLACE;
	st->f.r->len = 4096;
	st->f.fd = fd;
	reg.range.start = (uintptr_t)st->page;
	reg.range.len = 4096;
	if (ioctl(st->uffd, UFFDIO_REGISTER, &reg) ||
	    uffd_wp(st->uffd, st->page, 1))
		return -errno;
	if (pthread_create(&st->t, NULL, recv_in_place, &st->f))
		return -EAGAIN;
	pfd.fd = st->uffd;
	if (poll(&pfd, 1, T_WAIT_MS) != 1 ||
	    read(st->uffd, &msg, sizeof(msg)) != sizeof(msg) ||
	    msg.event != UFFD_EVENT_PAGEFAULT)
		return -ETIMEDOUT;
	return 0;
}

/* Let @st's receive go on and end: its result (st->offset). */
static long stall_end(struct stalled *st)
{
	if (uffd_wp(st->uffd, st->page, 0) || pthread_join(st->t, NULL))
		return -errno;
	st->offset = st->f.r->offset;
	munmap(st->page, 4096);
	close(st->uffd);
	return st->f.ret;
}

/*
 * MBX_IOC_UNSUBSCRIBE while a receive in place is between its look at the
 * message and its commit: the receive ends first, then the unsubscribe
 * gives back every region the fd holds.  Once, the unsubscribe did not
 * wait, the receive then added its hold to the unsubscribed fd, and the
 * region stayed out of the pool until the fd was closed (found by a
 * review).
 */
TEST(unsubscribe_waits_for_a_receive_in_place_in_flight)
{
	int fd = pool_topic(4), s, ret;
	struct in_flight uf = { 0 };
	struct stalled st;
	pthread_t ut;
	uint64_t off;
	size_t size;
	void *base;

	ASSERT_LE(0, fd);
	s = sub(fd);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, mbx_pool_map(fd, &base, &size));
	ASSERT_EQ(0, send_region(fd, base, 1000, 3, &off));
	ret = stall_recv(&st, s);
	if (ret == -EOPNOTSUPP)
		SKIP(close(s); close(fd); return,
		     "no userfaultfd write-protect");
	ASSERT_EQ(0, ret);

	/* The unsubscribe must wait for it. */
	uf.fd = s;
	ASSERT_EQ(0, pthread_create(&ut, NULL, unsubscribe, &uf));
	t_sleep_ms(200);
	EXPECT_EQ(0, __atomic_load_n(&uf.done, __ATOMIC_ACQUIRE))
		TH_LOG("the unsubscribe did not wait for the receive in flight");
	EXPECT_EQ(0, __atomic_load_n(&st.f.done, __ATOMIC_ACQUIRE));

	EXPECT_EQ(0, stall_end(&st));
	ASSERT_EQ(0, pthread_join(ut, NULL));
	EXPECT_EQ(0, uf.ret);
	EXPECT_EQ(off, st.offset);
	/* Unsubscribed: nothing held, the region is back in the pool. */
	EXPECT_EQ(POOL, pool_free(fd));
	mbx_pool_unmap(base, size);
	close(s);
	close(fd);
}

static void on_usr1(int sig)
{
}

struct release_recv {
	int fd;
	uint64_t off;
	long ret;
	int done;
};

static void *release_and_recv(void *arg)
{
	struct release_recv *rr = arg;
	uint64_t got;

	rr->ret = mbx_recv_inplace_release(rr->fd, rr->off, 100, &got, NULL);
	__atomic_store_n(&rr->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * A receive with MBX_RECV_RELEASE that a signal interrupts while it waits
 * for another receive of its subscription (held up mid-way) returns EINTR
 * with its region released: the caller knows where the region stands.
 */
TEST(receive_release_interrupted_waiting_for_the_subscription_releases)
{
	struct sigaction sa = { .sa_handler = on_usr1 };	/* no SA_RESTART */
	int fd = pool_topic(4), s, ret;
	struct release_recv rr = { 0 };
	struct stalled st;
	uint64_t held, off;
	pthread_t t;
	size_t size;
	void *base;

	ASSERT_LE(0, fd);
	s = sub(fd);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	ASSERT_EQ(0, mbx_pool_map(fd, &base, &size));
	ASSERT_EQ(0, send_region(fd, base, 100, 1, &off));
	ASSERT_EQ(100, mbx_recv_inplace(s, &held, NULL));
	ASSERT_EQ(0, send_region(fd, base, 200, 2, &off));
	ret = stall_recv(&st, s);
	if (ret == -EOPNOTSUPP)
		SKIP(close(s); close(fd); return,
		     "no userfaultfd write-protect");
	ASSERT_EQ(0, ret);

	rr.fd = s;
	rr.off = held;
	ASSERT_EQ(0, pthread_create(&t, NULL, release_and_recv, &rr));
	t_sleep_ms(200);
	EXPECT_EQ(0, __atomic_load_n(&rr.done, __ATOMIC_ACQUIRE));
	ASSERT_EQ(0, pthread_kill(t, SIGUSR1));
	t_sleep_ms(200);
	EXPECT_EQ(1, __atomic_load_n(&rr.done, __ATOMIC_ACQUIRE))
		TH_LOG("the signal did not end the wait for the subscription");
	EXPECT_EQ(0, __atomic_load_n(&st.f.done, __ATOMIC_ACQUIRE));

	EXPECT_EQ(0, stall_end(&st));
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(-EINTR, rr.ret);
	/* Released: not the subscriber's any more. */
	EXPECT_NE(0, mbx_buf_release(s, held, 100));
	EXPECT_EQ(off, st.offset);
	EXPECT_EQ(0, mbx_buf_release(s, off, 200));
	EXPECT_EQ(POOL, pool_free(fd));
	mbx_pool_unmap(base, size);
	close(s);
	close(fd);
}

TEST_HARNESS_MAIN
