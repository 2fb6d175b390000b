// SPDX-License-Identifier: GPL-2.0
/*
 * The zero-copy buffer pool's misuse paths (docs/SEMANTICS.md, "Zero
 * copy"), and who owns a region when an fd is closed or its process is
 * killed.  pool_test.c has the normal use.
 *
 * Every misuse test takes a snapshot of PORT_INFO (pool_free, queued)
 * before the bad call and checks that it did not change, then shows that
 * the region is still usable as before.
 *
 * Regions are held by open file descriptions, not processes: a child that
 * inherited a port fd through fork shares its regions with the parent.  The
 * tests that need a holder of their own open the (named) port again.
 */
#define _GNU_SOURCE
#include "pool/pool.h"

/* ---- misuse: rejected, and nothing changes ----------------------------- */

TEST_F(pool, send_or_release_of_region_held_by_another_fd_is_eperm)
{
	struct snap s;
	uint64_t off;
	int fd2;

	fd2 = port_open(self->name, MBX_SEND | MBX_RECV);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, t_buf_alloc(self->fd, 500, 0, 0, &off));
	s = snap(self->fd);
	ASSERT_EQ(-EPERM, t_send_buf(fd2, off, 500, 0, 0));
	ASSERT_UNCHANGED(self->fd, s);
	ASSERT_EQ(-EPERM, t_buf_release(fd2, off, 500));
	ASSERT_UNCHANGED(self->fd, s);
	/* still held by its allocator */
	ASSERT_EQ(0, t_send_buf(self->fd, off, 500, 0, 0));
	close(fd2);
}

TEST_F(pool, send_of_queued_region_is_eperm)
{
	struct mbx_recv rv;
	struct snap s;
	uint64_t off;
	int fd2;

	fd2 = port_open(self->name, MBX_SEND | MBX_RECV);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, t_buf_alloc(self->fd, 500, 0, 0, &off));
	ASSERT_EQ(0, t_send_buf(self->fd, off, 500, 0, 1));
	s = snap(self->fd);
	ASSERT_EQ(-EPERM, t_send_buf(self->fd, off, 500, 0, 2));
	ASSERT_UNCHANGED(self->fd, s);
	ASSERT_EQ(-EPERM, t_send_buf(fd2, off, 500, 0, 3));
	ASSERT_UNCHANGED(self->fd, s);
	/* queued once only */
	ASSERT_EQ(0, recv_inplace(self->fd, &rv));
	ASSERT_EQ(1, rv.tag);
	ASSERT_EQ(-EAGAIN, recv_inplace(self->fd, &rv));
	ASSERT_EQ(0, t_buf_release(self->fd, off, 500));
	close(fd2);
}

TEST_F(pool, release_of_queued_region_is_eperm)
{
	struct mbx_recv rv;
	struct snap s;
	uint64_t off;
	int fd2;

	fd2 = port_open(self->name, MBX_SEND | MBX_RECV);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, t_buf_alloc(self->fd, 700, 0, 0, &off));
	pat_fill(self->base + off, 700, 15);
	ASSERT_EQ(0, t_send_buf(self->fd, off, 700, 0, 1));
	s = snap(self->fd);
	ASSERT_EQ(-EPERM, t_buf_release(self->fd, off, 700));
	ASSERT_UNCHANGED(self->fd, s);
	ASSERT_EQ(-EPERM, t_buf_release(fd2, off, 700));
	ASSERT_UNCHANGED(self->fd, s);
	ASSERT_EQ(0, recv_inplace(fd2, &rv));
	ASSERT_EQ(off, rv.offset);
	ASSERT_TRUE(pat_check(self->base + off, 700, 15));
	ASSERT_EQ(0, t_buf_release(fd2, off, 700));
	ASSERT_EQ(POOL_SZ, pool_free(self->fd));
	close(fd2);
}

TEST_F(pool, release_twice_is_einval)
{
	struct snap s;
	uint64_t off;

	ASSERT_EQ(0, t_buf_alloc(self->fd, 300, 0, 0, &off));
	ASSERT_EQ(0, t_buf_release(self->fd, off, 300));
	s = snap(self->fd);
	ASSERT_EQ(POOL_SZ, s.pool_free);
	ASSERT_EQ(-EINVAL, t_buf_release(self->fd, off, 300));
	ASSERT_UNCHANGED(self->fd, s);
	/* and a send of the freed region */
	ASSERT_EQ(-EINVAL, t_send_buf(self->fd, off, 300, 0, 0));
	ASSERT_UNCHANGED(self->fd, s);
}

/*
 * Offsets that do not start a live region: inside one, unaligned, at or
 * past the end of the pool, in free space.
 */
TEST_F(pool, offset_not_a_live_region_start_is_einval)
{
	uint64_t off, bad[9];
	unsigned int i;
	struct snap s;

	ASSERT_EQ(0, t_buf_alloc(self->fd, 512, 0, 0, &off));
	bad[0] = off + 64;
	bad[1] = off + 1;
	bad[2] = off + 63;
	bad[3] = POOL_SZ;
	bad[4] = POOL_SZ + 64;
	bad[5] = UINT64_MAX & ~63ULL;
	bad[6] = UINT64_MAX;
	bad[7] = off >= POOL_SZ / 2 ? 0 : POOL_SZ / 2;	/* free space */
	bad[8] = 1ULL << 63;
	s = snap(self->fd);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		ASSERT_EQ(-EINVAL, t_send_buf(self->fd, bad[i], 1, 0, 0))
			TH_LOG("send at offset %#llx", (unsigned long long)bad[i]);
		ASSERT_UNCHANGED(self->fd, s);
		ASSERT_EQ(-EINVAL, t_buf_release(self->fd, bad[i], 512))
			TH_LOG("release at %#llx", (unsigned long long)bad[i]);
		ASSERT_UNCHANGED(self->fd, s);
	}
	ASSERT_EQ(0, t_send_buf(self->fd, off, 512, 0, 0));
}

/*
 * The region was allocated with 100 bytes: a send of more is refused, even
 * within the 64-byte rounding of the reservation.
 */
TEST_F(pool, send_len_longer_than_allocation_is_einval)
{
	struct snap s;
	uint64_t off;

	ASSERT_EQ(0, t_buf_alloc(self->fd, 100, 0, 0, &off));
	s = snap(self->fd);
	ASSERT_EQ(-EINVAL, t_send_buf(self->fd, off, 101, 0, 0));
	ASSERT_UNCHANGED(self->fd, s);
	ASSERT_EQ(-EINVAL, t_send_buf(self->fd, off, 128, 0, 0));
	ASSERT_UNCHANGED(self->fd, s);
	ASSERT_EQ(0, t_buf_release(self->fd, off, 100));
}

TEST_F(pool, send_len_past_reserved_region_is_einval)
{
	uint64_t lens[] = { 129, 4096, POOL_SZ, POOL_SZ + 1 };
	unsigned int i;
	struct snap s;
	uint64_t off;

	ASSERT_EQ(0, t_buf_alloc(self->fd, 100, 0, 0, &off));
	s = snap(self->fd);
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		ASSERT_EQ(-EINVAL, t_send_buf(self->fd, off, lens[i], 0, 0))
			TH_LOG("len %llu", (unsigned long long)lens[i]);
		ASSERT_UNCHANGED(self->fd, s);
	}
	ASSERT_EQ(0, t_send_buf(self->fd, off, 100, 0, 0));
}

/* offset + len wraps past 2^64 to a small number. */
TEST_F(pool, offset_plus_len_overflowing_u64_is_einval)
{
	uint64_t first, off, len, lens[4];
	unsigned int i;
	struct snap s;

	/* two regions, so that one of them has a non-zero offset */
	ASSERT_EQ(0, t_buf_alloc(self->fd, 64, 0, 0, &first));
	ASSERT_EQ(0, t_buf_alloc(self->fd, 100, 0, 0, &off));
	len = 100;
	if (!off) {
		off = first;
		len = 64;
	}
	ASSERT_NE(0, off);
	lens[0] = UINT64_MAX - off + 1;		/* off + len == 0 */
	lens[1] = UINT64_MAX - off + 2;		/* == 1 */
	lens[2] = UINT64_MAX;
	lens[3] = UINT64_MAX - off;		/* == UINT64_MAX */
	s = snap(self->fd);
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		ASSERT_EQ(-EINVAL, t_send_buf(self->fd, off, lens[i], 0, 0))
			TH_LOG("len %#llx", (unsigned long long)lens[i]);
		ASSERT_UNCHANGED(self->fd, s);
		ASSERT_EQ(-EINVAL, t_buf_release(self->fd, off, lens[i]))
			TH_LOG("len %#llx", (unsigned long long)lens[i]);
		ASSERT_UNCHANGED(self->fd, s);
	}
	ASSERT_EQ(0, t_buf_release(self->fd, off, len));
}

TEST_F(pool, release_with_wrong_len_is_einval)
{
	uint64_t lens[] = { 0, 99, 101, 128, 4096, UINT64_MAX };
	unsigned int i;
	struct snap s;
	uint64_t off;

	ASSERT_EQ(0, t_buf_alloc(self->fd, 100, 0, 0, &off));
	s = snap(self->fd);
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		ASSERT_EQ(-EINVAL, t_buf_release(self->fd, off, lens[i]))
			TH_LOG("len %llu", (unsigned long long)lens[i]);
		ASSERT_UNCHANGED(self->fd, s);
	}
	ASSERT_EQ(0, t_buf_release(self->fd, off, 100));
	ASSERT_EQ(POOL_SZ, pool_free(self->fd));
}

TEST_F(pool, send_buf_with_nonzero_buf_is_einval)
{
	struct mbx_send sd;
	struct snap s;
	uint64_t off;
	char c = 0;

	ASSERT_EQ(0, t_buf_alloc(self->fd, 100, 0, 0, &off));
	s = snap(self->fd);
	memset(&sd, 0, sizeof(sd));
	sd.buf = (uintptr_t)&c;
	sd.offset = off;
	sd.len = 100;
	sd.flags = MBX_SEND_BUF | MBX_NONBLOCK;
	ASSERT_EQ(-EINVAL, t_ioctl(self->fd, MBX_IOC_SEND, &sd));
	ASSERT_UNCHANGED(self->fd, s);
	ASSERT_EQ(0, t_buf_release(self->fd, off, 100));
}

TEST_F(pool, alloc_len_zero_or_above_pool_size_is_einval)
{
	uint64_t lens[] = { 0, POOL_SZ + 1, POOL_SZ + 4096, 1ULL << 63,
			    UINT64_MAX };
	unsigned int i;
	struct snap s;
	uint64_t off;

	s = snap(self->fd);
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		ASSERT_EQ(-EINVAL, t_buf_alloc(self->fd, lens[i], MBX_NONBLOCK, 0, NULL))
			TH_LOG("len %llu", (unsigned long long)lens[i]);
		ASSERT_UNCHANGED(self->fd, s);
	}
	/* the whole pool is one valid allocation */
	ASSERT_EQ(0, t_buf_alloc(self->fd, POOL_SZ, MBX_NONBLOCK, 0, &off));
	ASSERT_EQ(0, pool_free(self->fd));
	ASSERT_EQ(0, t_buf_release(self->fd, off, POOL_SZ));
}

TEST_F(pool, alloc_and_send_buf_on_receive_only_fd_are_ebadf)
{
	struct snap s;
	uint64_t off;
	int r;

	r = port_open(self->name, MBX_RECV);
	ASSERT_LE(0, r);
	ASSERT_EQ(0, t_buf_alloc(self->fd, 100, 0, 0, &off));
	s = snap(self->fd);
	ASSERT_EQ(-EBADF, t_buf_alloc(r, 100, MBX_NONBLOCK, 0, NULL));
	ASSERT_UNCHANGED(self->fd, s);
	ASSERT_EQ(-EBADF, t_send_buf(r, off, 100, 0, 0));
	ASSERT_UNCHANGED(self->fd, s);
	ASSERT_EQ(0, t_buf_release(self->fd, off, 100));
	close(r);
}

TEST_F(pool, unknown_flags_and_reserved_fields_are_einval)
{
	uint32_t alloc_bad[] = { 1U << 0, 1U << 2, 1U << 3, MBX_SEND_BUF,
				 MBX_RECV_INPLACE, 1U << 8, 1U << 31 };
	uint32_t rel_bad[] = { MBX_NONBLOCK, MBX_TIMEOUT, 1U << 8, 1U << 31 };
	struct mbx_send sd;
	struct mbx_recv rv;
	struct mbx_buf b;
	unsigned int i;
	struct snap s;
	uint64_t off;

	ASSERT_EQ(0, t_buf_alloc(self->fd, 100, 0, 0, &off));
	ASSERT_EQ(0, t_send_copy(self->fd, "x", 1, 0, 0));
	s = snap(self->fd);

	for (i = 0; i < ARRAY_SIZE(alloc_bad); i++) {
		memset(&b, 0, sizeof(b));
		b.len = 64;
		b.flags = alloc_bad[i] | MBX_NONBLOCK;
		ASSERT_EQ(-EINVAL, t_ioctl(self->fd, MBX_IOC_BUF_ALLOC, &b))
			TH_LOG("alloc flags %#x", b.flags);
		ASSERT_UNCHANGED(self->fd, s);
	}
	memset(&b, 0, sizeof(b));
	b.len = 64;
	b.flags = MBX_NONBLOCK;
	b.reserved = 1;
	ASSERT_EQ(-EINVAL, t_ioctl(self->fd, MBX_IOC_BUF_ALLOC, &b));
	ASSERT_UNCHANGED(self->fd, s);

	for (i = 0; i < ARRAY_SIZE(rel_bad); i++) {
		memset(&b, 0, sizeof(b));
		b.offset = off;
		b.len = 100;
		b.flags = rel_bad[i];
		ASSERT_EQ(-EINVAL, t_ioctl(self->fd, MBX_IOC_BUF_RELEASE, &b))
			TH_LOG("release flags %#x", b.flags);
		ASSERT_UNCHANGED(self->fd, s);
	}
	memset(&b, 0, sizeof(b));
	b.offset = off;
	b.len = 100;
	b.reserved = 1;
	ASSERT_EQ(-EINVAL, t_ioctl(self->fd, MBX_IOC_BUF_RELEASE, &b));
	ASSERT_UNCHANGED(self->fd, s);

	/* MBX_RECV_INPLACE is no send flag, MBX_SEND_BUF no receive flag */
	memset(&sd, 0, sizeof(sd));
	sd.offset = off;
	sd.len = 100;
	sd.flags = MBX_SEND_BUF | MBX_RECV_INPLACE | MBX_NONBLOCK;
	ASSERT_EQ(-EINVAL, t_ioctl(self->fd, MBX_IOC_SEND, &sd));
	ASSERT_UNCHANGED(self->fd, s);
	sd.flags = MBX_SEND_BUF | MBX_NONBLOCK | (1U << 31);
	ASSERT_EQ(-EINVAL, t_ioctl(self->fd, MBX_IOC_SEND, &sd));
	ASSERT_UNCHANGED(self->fd, s);
	ASSERT_EQ(-EINVAL, t_recv_nb(self->fd, NULL, 0,
				     MBX_RECV_INPLACE | MBX_SEND_BUF, &rv));
	ASSERT_UNCHANGED(self->fd, s);
	memset(&rv, 0, sizeof(rv));
	rv.flags = MBX_RECV_INPLACE | MBX_NONBLOCK;
	rv.dropped = 1;
	ASSERT_EQ(-EINVAL, t_ioctl(self->fd, MBX_IOC_RECV, &rv));
	ASSERT_UNCHANGED(self->fd, s);

	/* the region is still held as allocated */
	ASSERT_EQ(0, t_buf_release(self->fd, off, 100));
}

/*
 * A send that fails (full queue) changes nothing: the fd still holds the
 * region exactly as allocated, whatever length the failed send named.
 */
TEST_F(pool, failed_send_leaves_region_held_as_allocated)
{
	unsigned int i;
	struct snap s;
	uint64_t off;

	for (i = 0; i < POOL_CAP; i++)
		ASSERT_EQ(0, t_send_copy(self->fd, "f", 1, 0, i));
	ASSERT_EQ(0, t_buf_alloc(self->fd, 1000, 0, 0, &off));
	s = snap(self->fd);
	ASSERT_EQ(-EAGAIN, t_send_buf(self->fd, off, 500, 0, 0));
	ASSERT_UNCHANGED(self->fd, s);
	ASSERT_EQ(0, t_buf_release(self->fd, off, 1000))
		TH_LOG("the failed 500-byte send changed the region's length");
	ASSERT_EQ(POOL_SZ, pool_free(self->fd));
}

/* A timed-out send on a rendezvous port hands the region back. */
TEST(rendezvous_timed_out_pool_send_keeps_region)
{
	struct mbx_send sd;
	uint64_t off;
	int fd;

	fd = t_pool_port(0, 0, POOL_SZ, NULL, 0600, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_buf_alloc(fd, 100, 0, 0, &off));
	memset(&sd, 0, sizeof(sd));
	sd.offset = off;
	sd.len = 100;
	sd.flags = MBX_SEND_BUF | MBX_TIMEOUT;
	sd.timeout_ns = 50 * 1000000ULL;
	ASSERT_EQ(-ETIMEDOUT, t_ioctl(fd, MBX_IOC_SEND, &sd));
	ASSERT_EQ(0, T_INFO(fd, send_waiting));
	ASSERT_EQ(0, t_buf_release(fd, off, 100));
	ASSERT_EQ(POOL_SZ, pool_free(fd));
	close(fd);
}

/* A read-only page: readable argument, unwritable result. */
static void *ro_page(const void *content, size_t len)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memcpy(p, content, len);
	if (mprotect(p, 4096, PROT_READ))
		return NULL;
	return p;
}

/* An allocation whose offset cannot be written back holds nothing. */
TEST_F(pool, alloc_with_unwritable_argument_is_efault_and_holds_nothing)
{
	struct mbx_buf b, *rb;

	memset(&b, 0, sizeof(b));
	b.len = 1000;
	b.flags = MBX_NONBLOCK;
	rb = ro_page(&b, sizeof(b));
	ASSERT_NE(NULL, rb);
	ASSERT_EQ(-EFAULT, t_ioctl(self->fd, MBX_IOC_BUF_ALLOC, rb));
	ASSERT_EQ(POOL_SZ, pool_free(self->fd));
	/* and the whole pool is still there to allocate */
	ASSERT_EQ(0, t_buf_alloc(self->fd, POOL_SZ, MBX_NONBLOCK, 0, NULL));
}

/* An in-place receive that cannot write its answer takes nothing. */
TEST_F(pool, inplace_recv_with_unwritable_argument_is_efault_and_keeps_message)
{
	struct mbx_recv rv, *rrv;
	struct snap s;
	uint64_t off;

	ASSERT_EQ(0, t_buf_alloc(self->fd, 1000, 0, 0, &off));
	pat_fill(self->base + off, 1000, 19);
	ASSERT_EQ(0, t_send_buf(self->fd, off, 1000, 0, 5));
	s = snap(self->fd);
	memset(&rv, 0, sizeof(rv));
	rv.flags = MBX_RECV_INPLACE | MBX_NONBLOCK;
	rrv = ro_page(&rv, sizeof(rv));
	ASSERT_NE(NULL, rrv);
	ASSERT_EQ(-EFAULT, t_ioctl(self->fd, MBX_IOC_RECV, rrv));
	ASSERT_UNCHANGED(self->fd, s);
	/* still queued, not held: nobody may release it */
	ASSERT_EQ(-EPERM, t_buf_release(self->fd, off, 1000));
	ASSERT_EQ(0, recv_inplace(self->fd, &rv));
	ASSERT_EQ(5, rv.tag);
	ASSERT_EQ(off, rv.offset);
	ASSERT_TRUE(pat_check(self->base + off, 1000, 19));
	ASSERT_EQ(0, t_buf_release(self->fd, off, 1000));
}

/*
 * A plain receive of a pool message into memory it cannot write (a bad
 * pointer, or the pool's own read-only mapping) fails with EFAULT and puts
 * the message back: nothing is freed or lost.
 */
TEST_F(pool, plain_recv_of_pool_message_to_bad_buffer_is_efault_and_keeps_it)
{
	struct mbx_recv rv;
	uint8_t *ro;
	struct snap s;
	uint64_t off;
	size_t size;
	int r;

	r = port_open(self->name, MBX_RECV);
	ASSERT_LE(0, r);
	ASSERT_EQ(0, mbx_pool_map(r, (void **)&ro, &size));
	ASSERT_EQ(0, t_buf_alloc(self->fd, 2000, 0, 0, &off));
	pat_fill(self->base + off, 2000, 20);
	ASSERT_EQ(0, t_send_buf(self->fd, off, 2000, 0, 6));
	s = snap(self->fd);
	ASSERT_EQ(-EFAULT, t_recv_nb(r, t_bad_ptr(), 4096, 0, &rv));
	ASSERT_UNCHANGED(self->fd, s);
	ASSERT_EQ(-EFAULT, t_recv_nb(r, ro + POOL_SZ - 4096, 4096, 0, &rv));
	ASSERT_UNCHANGED(self->fd, s);
	ASSERT_EQ(-1, read(r, ro, 4096));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_UNCHANGED(self->fd, s);
	ASSERT_EQ(0, recv_inplace(r, &rv));
	ASSERT_EQ(6, rv.tag);
	ASSERT_EQ(off, rv.offset);
	ASSERT_TRUE(pat_check(ro + off, 2000, 20));
	ASSERT_EQ(0, t_buf_release(r, off, 2000));
	ASSERT_EQ(POOL_SZ, pool_free(self->fd));
	close(r);
}

/*
 * Signals, as for sends: a timed allocation fails with EINTR; an untimed
 * one with an SA_RESTART handler is restarted and still gets its space.
 */
TEST_F(pool, blocked_alloc_and_signals_eintr_or_restart)
{
	uint64_t whole, *off = t_shared(sizeof(*off));
	struct snap s;
	pid_t pid;

	ASSERT_NE(NULL, off);
	ASSERT_EQ(0, t_buf_alloc(self->fd, POOL_SZ, 0, 0, &whole));
	s = snap(self->fd);

	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (t_handle(SIGUSR1, NULL, SA_RESTART))
			_exit(T_BAD_SETUP);
		_exit(t_code(t_buf_alloc(self->fd, 64, MBX_TIMEOUT,
					 T_WAIT_MS * 1000000ULL, NULL)));
	}
	ASSERT_EQ(0, t_wait_sleeping(pid));
	kill(pid, SIGUSR1);
	ASSERT_EQ(EINTR, t_reap(pid));
	ASSERT_UNCHANGED(self->fd, s);

	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		long ret;

		if (t_handle(SIGUSR1, NULL, SA_RESTART))
			_exit(T_BAD_SETUP);
		ret = t_buf_alloc(self->fd, 64, 0, 0, off);
		_exit(t_code(ret));
	}
	ASSERT_EQ(0, t_wait_sleeping(pid));
	kill(pid, SIGUSR1);
	ASSERT_TRUE(t_stays_blocked(pid));
	ASSERT_UNCHANGED(self->fd, s);
	ASSERT_EQ(0, t_buf_release(self->fd, whole, POOL_SZ));
	ASSERT_EQ(0, t_reap(pid));
	ASSERT_EQ(0, t_buf_release(self->fd, *off, 64));
	ASSERT_EQ(POOL_SZ, pool_free(self->fd));
}

/*
 * An allocation with an absolute deadline restarts under SA_RESTART as an
 * untimed one does (the deadline holds), and still gets its space.
 */
TEST_F(pool, blocked_abstime_alloc_restarts_with_sa_restart)
{
	uint64_t whole, *off = t_shared(sizeof(*off));
	struct snap s;
	pid_t pid;

	ASSERT_NE(NULL, off);
	ASSERT_EQ(0, t_buf_alloc(self->fd, POOL_SZ, 0, 0, &whole));
	s = snap(self->fd);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (t_handle(SIGUSR1, NULL, SA_RESTART))
			_exit(T_BAD_SETUP);
		_exit(t_code(t_buf_alloc(self->fd, 64, MBX_TIMEOUT | MBX_ABSTIME,
					 t_now_ns() + 20000 * 1000000ULL,
					 off)));
	}
	ASSERT_EQ(0, t_wait_sleeping(pid));
	kill(pid, SIGUSR1);
	ASSERT_TRUE(t_stays_blocked(pid));
	ASSERT_UNCHANGED(self->fd, s);
	ASSERT_EQ(0, t_buf_release(self->fd, whole, POOL_SZ));
	ASSERT_EQ(0, t_reap(pid));
	ASSERT_EQ(0, t_buf_release(self->fd, *off, 64));
	ASSERT_EQ(POOL_SZ, pool_free(self->fd));
}

/*
 * No pool mapping is executable, on any kernel: PROT_EXEC is refused
 * (EPERM, as on a noexec mount) and mprotect() cannot add it (EACCES),
 * on a receive-only fd as on a sender's, so what a sender wrote can never
 * be run in a receiver.
 */
TEST_F(pool, pool_mapping_is_never_executable)
{
	int r, fds[2] = { self->fd, -1 }, i, err;
	uint8_t *m;

	r = port_open(self->name, MBX_RECV);
	ASSERT_LE(0, r);
	fds[1] = r;
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(NULL, pool_mmap(fds[i], POOL_SZ, PROT_READ | PROT_EXEC,
					  MAP_SHARED, 0, &err));
		EXPECT_EQ(-EPERM, err);
		m = pool_mmap(fds[i], POOL_SZ, PROT_READ, MAP_SHARED, 0, &err);
		ASSERT_EQ(0, err);
		EXPECT_EQ(-1, mprotect(m, 4096, PROT_READ | PROT_EXEC));
		EXPECT_EQ(EACCES, errno);
		munmap(m, POOL_SZ);
	}
	/* The fixture's own read-write mapping cannot get it either. */
	EXPECT_EQ(-1, mprotect(self->base, 4096, PROT_READ | PROT_WRITE |
			       PROT_EXEC));
	EXPECT_EQ(EACCES, errno);
	close(r);
}

/* ---- ownership when an fd is closed or its process killed -------------- */

TEST_F(pool, closing_fd_frees_regions_it_allocated)
{
	uint64_t off;
	int fd2;

	fd2 = port_open(self->name, MBX_SEND);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, t_buf_alloc(fd2, 1000, 0, 0, &off));
	ASSERT_EQ(0, t_buf_alloc(fd2, 5000, 0, 0, &off));
	ASSERT_EQ(0, t_buf_alloc(fd2, 64, 0, 0, &off));
	ASSERT_GE(POOL_SZ - 6064, pool_free(self->fd));
	close(fd2);
	ASSERT_EQ(POOL_SZ, pool_free(self->fd));
	ASSERT_EQ(0, T_INFO(self->fd, queued));
}

TEST_F(pool, closing_fd_frees_regions_it_received_in_place)
{
	uint64_t a, b, kept;
	struct mbx_recv rv;
	int r;

	r = port_open(self->name, MBX_RECV);
	ASSERT_LE(0, r);
	ASSERT_EQ(0, t_buf_alloc(self->fd, 1000, 0, 0, &a));
	ASSERT_EQ(0, t_buf_alloc(self->fd, 2000, 0, 0, &b));
	ASSERT_EQ(0, t_buf_alloc(self->fd, 3000, 0, 0, &kept));
	ASSERT_EQ(0, t_send_buf(self->fd, a, 1000, 0, 0));
	ASSERT_EQ(0, t_send_buf(self->fd, b, 2000, 0, 0));
	ASSERT_EQ(0, recv_inplace(r, &rv));
	ASSERT_EQ(0, recv_inplace(r, &rv));
	close(r);
	/* only the region the creator still holds is in use */
	ASSERT_GE(POOL_SZ - 3000, pool_free(self->fd));
	ASSERT_LE(POOL_SZ - 3072, pool_free(self->fd));
	ASSERT_EQ(0, t_buf_release(self->fd, kept, 3000));
	ASSERT_EQ(POOL_SZ, pool_free(self->fd));
}

TEST_F(pool, closing_sender_fd_keeps_its_queued_messages)
{
	struct mbx_recv rv;
	uint64_t off;
	int s;

	s = port_open(self->name, MBX_SEND);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, t_buf_alloc(s, 2500, 0, 0, &off));
	pat_fill(self->base + off, 2500, 16);
	ASSERT_EQ(0, t_send_buf(s, off, 2500, 0, 9));
	close(s);
	ASSERT_EQ(1, T_INFO(self->fd, queued));
	ASSERT_EQ(0, recv_inplace(self->fd, &rv));
	ASSERT_EQ(off, rv.offset);
	ASSERT_EQ(9, rv.tag);
	ASSERT_TRUE(pat_check(self->base + off, 2500, 16));
	ASSERT_EQ(0, t_buf_release(self->fd, off, 2500));
	ASSERT_EQ(POOL_SZ, pool_free(self->fd));
}

/*
 * kill -9 of a process whose own fd holds an allocated region and one it
 * received in place: both are freed; the message it sent stays queued,
 * intact and receivable; then the pool is entirely free.
 */
TEST_F(pool, sigkill_of_holder_frees_its_regions_and_keeps_queued_message)
{
	uint64_t p_off, offs[3];
	struct mbx_recv rv;
	struct pollfd pfd;
	int pipefd[2];
	pid_t pid;

	/* the message the child will take in place */
	ASSERT_EQ(0, t_buf_alloc(self->fd, 3000, 0, 0, &p_off));
	pat_fill(self->base + p_off, 3000, 33);
	ASSERT_EQ(0, t_send_buf(self->fd, p_off, 3000, 0, 33));
	ASSERT_EQ(0, pipe(pipefd));

	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint64_t held, sent;
		struct mbx_recv crv;
		uint8_t *cb;
		size_t sz;
		int c = port_open(self->name, MBX_SEND | MBX_RECV);

		if (c < 0 || mbx_pool_map(c, (void **)&cb, &sz))
			_exit(T_BAD_SETUP);
		if (t_buf_alloc(c, 1000, 0, 0, &held) ||
		    t_buf_alloc(c, 2000, 0, 0, &sent))
			_exit(T_BAD_SETUP);
		pat_fill(cb + held, 1000, 21);
		pat_fill(cb + sent, 2000, 22);
		if (t_send_buf(c, sent, 2000, 0, 22))
			_exit(T_BAD_SETUP);
		if (recv_inplace(c, &crv) || crv.tag != 33 ||
		    !pat_check(cb + crv.offset, 3000, 33))
			_exit(T_BAD_DATA);
		offs[0] = held;
		offs[1] = sent;
		offs[2] = crv.offset;
		if (write(pipefd[1], offs, sizeof(offs)) != sizeof(offs))
			_exit(T_BAD_SETUP);
		for (;;)
			pause();
	}
	close(pipefd[1]);
	pfd.fd = pipefd[0];
	pfd.events = POLLIN;
	ASSERT_EQ(1, poll(&pfd, 1, T_WAIT_MS));
	ASSERT_EQ(sizeof(offs), read(pipefd[0], offs, sizeof(offs)));
	ASSERT_EQ(p_off, offs[2]);
	ASSERT_GE(POOL_SZ - 6000, pool_free(self->fd));
	ASSERT_EQ(1, T_INFO(self->fd, queued));

	kill(pid, SIGKILL);
	ASSERT_EQ(128 + SIGKILL, t_reap(pid));

	/* only the queued 2000-byte message still uses the pool */
	ASSERT_EQ(1, T_INFO(self->fd, queued));
	ASSERT_GE(POOL_SZ - 2000, pool_free(self->fd));
	ASSERT_LE(POOL_SZ - 2048, pool_free(self->fd));
	ASSERT_EQ(-EINVAL, t_buf_release(self->fd, offs[0], 1000));
	ASSERT_EQ(-EINVAL, t_buf_release(self->fd, offs[2], 3000));

	ASSERT_EQ(0, recv_inplace(self->fd, &rv));
	ASSERT_EQ(offs[1], rv.offset);
	ASSERT_EQ(2000, rv.len);
	ASSERT_EQ(22, rv.tag);
	ASSERT_TRUE(pat_check(self->base + rv.offset, 2000, 22));
	ASSERT_EQ(0, t_buf_release(self->fd, rv.offset, 2000));
	ASSERT_EQ(POOL_SZ, pool_free(self->fd));
	ASSERT_EQ(0, T_INFO(self->fd, queued));
}

TEST_HARNESS_MAIN
