// SPDX-License-Identifier: GPL-2.0
/*
 * The zero-copy buffer pool at its limits (docs/SEMANTICS.md, "Zero
 * copy"): shutdown and the destruction of a port with regions
 * outstanding, a pool exhausted (blocking, non-blocking and timed
 * allocations), 1 MiB messages between processes, and copy and pool
 * messages in one queue (FIFO within a priority, priorities across both).
 * pool_test.c has the normal use.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/syscall.h>

#include "pool/pool.h"

/* ---- shutdown and port destruction ------------------------------------- */

TEST_F(pool, shutdown_wakes_blocked_alloc_with_epipe)
{
	uint64_t whole, off;
	pid_t pid;

	ASSERT_EQ(0, t_buf_alloc(self->fd, POOL_SZ, 0, 0, &whole));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(t_code(t_buf_alloc(self->fd, 64, 0, 0, NULL)));
	ASSERT_EQ(0, t_wait_sleeping(pid));
	ASSERT_TRUE(t_stays_blocked(pid));
	ASSERT_EQ(0, t_ioctl(self->fd, MBX_IOC_SHUTDOWN, NULL));
	ASSERT_EQ(EPIPE, t_reap(pid));

	/* no allocation after shutdown, even with room; release still works */
	ASSERT_EQ(0, t_buf_release(self->fd, whole, POOL_SZ));
	ASSERT_EQ(POOL_SZ, pool_free(self->fd));
	ASSERT_EQ(-EPIPE, t_buf_alloc(self->fd, 64, 0, 0, &off));
	ASSERT_EQ(-EPIPE, t_buf_alloc(self->fd, 64, MBX_NONBLOCK, 0, &off));
	ASSERT_EQ(POOL_SZ, pool_free(self->fd));
}

TEST_F(pool, after_shutdown_pool_send_is_epipe_and_queued_ones_drain)
{
	struct mbx_recv rv;
	uint64_t q, h;
	struct snap s;

	ASSERT_EQ(0, t_buf_alloc(self->fd, 1000, 0, 0, &q));
	ASSERT_EQ(0, t_buf_alloc(self->fd, 1000, 0, 0, &h));
	pat_fill(self->base + q, 1000, 17);
	ASSERT_EQ(0, t_send_buf(self->fd, q, 1000, 0, 1));
	ASSERT_EQ(0, t_ioctl(self->fd, MBX_IOC_SHUTDOWN, NULL));
	s = snap(self->fd);
	ASSERT_EQ(-EPIPE, t_send_buf(self->fd, h, 1000, 0, 2));
	ASSERT_UNCHANGED(self->fd, s);
	ASSERT_EQ(0, t_buf_release(self->fd, h, 1000));
	ASSERT_EQ(0, recv_inplace(self->fd, &rv));
	ASSERT_EQ(q, rv.offset);
	ASSERT_TRUE(pat_check(self->base + q, 1000, 17));
	ASSERT_EQ(0, t_buf_release(self->fd, q, 1000));
	ASSERT_EQ(POOL_SZ, pool_free(self->fd));
}

/* An allocation in a thread (of @len bytes with @flags, or 64 bytes). */
struct alloc_call {
	int fd;
	pid_t tid;
	long ret;
	uint64_t len;
	uint32_t flags;
};

static void *alloc_64(void *arg)
{
	struct alloc_call *a = arg;

	__atomic_store_n(&a->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
	a->ret = t_buf_alloc(a->fd, 64, MBX_TIMEOUT, 5000000000ULL, NULL);
	return NULL;
}

static void *alloc_len(void *arg)
{
	struct alloc_call *a = arg;

	__atomic_store_n(&a->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
	a->ret = t_buf_alloc(a->fd, a->len, a->flags | MBX_TIMEOUT,
			     60000000000ULL, NULL);
	return NULL;
}

/*
 * A full pool whose messages nobody can ever receive (no name, no fd that
 * may receive) will not free space: an allocation waiting for it fails
 * with EPIPE, as a send does, and so does a new one.  (It waited for good,
 * or until its timeout.)
 */
TEST_F(pool, alloc_waiting_for_space_fails_epipe_once_nobody_may_receive)
{
	struct alloc_call a;
	uint64_t whole;
	pthread_t th;

	a.fd = mbx_port_dup(self->fd, MBX_SEND);
	ASSERT_LE(0, a.fd);
	ASSERT_EQ(0, t_buf_alloc(a.fd, POOL_SZ, 0, 0, &whole));
	ASSERT_EQ(0, t_send_buf(a.fd, whole, POOL_SZ, 0, 1));
	a.tid = 0;
	ASSERT_EQ(0, pthread_create(&th, NULL, alloc_64, &a));
	while (!__atomic_load_n(&a.tid, __ATOMIC_ACQUIRE))
		usleep(1000);
	ASSERT_EQ(0, t_wait_sleeping(a.tid));
	ASSERT_EQ(0, mbx_port_unlink(MBX_DEV_AUTO, self->name));
	close(self->fd);
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(-EPIPE, a.ret);
	EXPECT_EQ(-EPIPE, t_buf_alloc(a.fd, 64, MBX_TIMEOUT, 1000000, NULL));
	EXPECT_EQ(-EPIPE, t_send_copy(a.fd, "x", 1, 0, 2));
	close(a.fd);
}

static long long mem_free_kib(void)
{
	char line[128];
	long long v = -1;
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemFree: %lld kB", &v) == 1)
			break;
	fclose(f);
	return v;
}

/*
 * Make @n ports with a 1 MiB pool each, touch every page through a mapping,
 * leave regions allocated, queued and received in place, and destroy them.
 */
static void churn_pools(struct __test_metadata *_metadata, unsigned int n)
{
	struct mbx_recv rv;
	uint64_t a, b, c;
	unsigned int i;
	uint8_t *p;
	int fd, err;

	for (i = 0; i < n; i++) {
		fd = t_pool_port(4, 0, MIB, NULL, 0600, 0);
		ASSERT_LE(0, fd);
		p = pool_mmap(fd, MIB, PROT_READ | PROT_WRITE, MAP_SHARED, 0,
			      &err);
		ASSERT_EQ(0, err);
		memset(p, 1, MIB);
		ASSERT_EQ(0, t_buf_alloc(fd, 1000, 0, 0, &a));
		ASSERT_EQ(0, t_buf_alloc(fd, 2000, 0, 0, &b));
		ASSERT_EQ(0, t_buf_alloc(fd, 3000, 0, 0, &c));
		ASSERT_EQ(0, t_send_buf(fd, a, 1000, 0, 0));	/* queued */
		ASSERT_EQ(0, t_send_buf(fd, b, 2000, 0, 0));
		ASSERT_EQ(0, recv_inplace(fd, &rv));		/* held: a */
		munmap(p, MIB);
		close(fd);
	}
}

/*
 * A port destroyed with regions outstanding (allocated, queued, received
 * in place) frees its pool: 128 such 1 MiB pools, fully touched through
 * their mappings, leave free memory where it was.  A first round fills the
 * per-CPU page lists (pools free their pages one by one into them, up to
 * tens of MiB here), so that the second, measured round sees only what it
 * keeps.  (kmemleak checks the small allocations on the debug kernel.)
 */
TEST(port_destruction_with_outstanding_regions_frees_the_pool)
{
	long long before, after;

	churn_pools(_metadata, 128);
	before = mem_free_kib();
	ASSERT_LT(0, before);
	churn_pools(_metadata, 128);
	after = mem_free_kib();
	TH_LOG("MemFree before %lld kB, after %lld kB", before, after);
	ASSERT_GT(after, before - 32 * 1024);
}

/*
 * Closing a file frees the regions it holds, and only looks at those: a
 * file holding one region closes as fast beside another file's 100 000
 * regions as beside none.  (It used to walk every allocated region of the
 * pool under the port's lock: 100 000 regions made every close of any
 * file of the port hundreds of times slower, with preemption off.)  The
 * medians of 15 closes each, compared with room for noise; a walk of the
 * pool is a factor of hundreds.  The debug kernel, 50 times slower at
 * this, does it with 10 000 regions.
 */
#define MANY_REGIONS	100000
#define DEBUG_REGIONS	10000
#define MANY_POOL	(8 * MIB)	/* room for 131 072 64-byte regions */

#define TIMES		15	/* timings of which the median is taken */

/* Median time, ns, to close a file of the port @name that holds 1 region. */
static uint64_t close_ns(struct __test_metadata *_metadata, const char *name)
{
	uint64_t ns[TIMES], t0;
	int i, fd;

	for (i = 0; i < TIMES; i++) {
		fd = port_open(name, MBX_SEND | MBX_RECV);
		EXPECT_LE(0, fd);
		EXPECT_EQ(0, t_buf_alloc(fd, 64, 0, 0, NULL));
		t0 = t_now_ns();
		close(fd);
		t_sorted_add(ns, i, t_now_ns() - t0);
	}
	return ns[TIMES / 2];
}

FIXTURE(many) {};
FIXTURE_SETUP(many) {}
FIXTURE_TEARDOWN(many) {}

TEST_F_TIMEOUT(many, closing_a_file_walks_only_the_regions_it_holds, 180)
{
	int fd, other, i, n = t_kmemleak_kernel() ? DEBUG_REGIONS : MANY_REGIONS;
	struct alloc_call a = { .tid = 0 };
	uint64_t alone, beside, off, t0;
	char name[MBX_NAME_LEN];
	pthread_t th;

	t_name(name, "pool.close");
	fd = t_pool_port(POOL_CAP, POOL_MSG, MANY_POOL, name, 0600, 0);
	ASSERT_LE(0, fd);
	alone = close_ns(_metadata, name);
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, t_buf_alloc(fd, 64, 0, 0, &off)) TH_LOG("region %d", i);
	beside = close_ns(_metadata, name);
	TH_LOG("close of a file holding one region: %.1f us alone, %.1f us beside %d other regions",
	       alone / 1e3, beside / 1e3, n);
	EXPECT_GT(4 * alone + 200000, beside);
	/* Those closes freed their own regions, nobody else's. */
	EXPECT_EQ(MANY_POOL - (uint64_t)n * 64, pool_free(fd));

	/*
	 * The holder of them all closes, dropping the port's lock on the way,
	 * while another file waits for more room than is free: it gets it,
	 * and once everything is given back, every region is back.
	 */
	other = port_open(name, MBX_SEND);
	ASSERT_LE(0, other);
	a.fd = other;
	a.len = MANY_POOL - (uint64_t)n * 64 + 64 * 1024;
	a.flags = MBX_BUF_PAGES;
	ASSERT_EQ(0, pthread_create(&th, NULL, alloc_len, &a));
	while (!__atomic_load_n(&a.tid, __ATOMIC_ACQUIRE))
		usleep(1000);
	ASSERT_EQ(0, t_wait_sleeping(a.tid));
	t0 = t_now_ns();
	close(fd);
	TH_LOG("close of the file holding %d regions: %.1f ms", n,
	       (t_now_ns() - t0) / 1e6);
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(0, a.ret);
	close(other);
	fd = port_open(name, MBX_SEND);
	ASSERT_LE(0, fd);
	EXPECT_EQ(MANY_POOL, pool_free(fd));
	close(fd);
	t_unlink_all();
}

/* Median time, ns, of allocating (@flags) and releasing @len bytes. */
static uint64_t alloc_ns(struct __test_metadata *_metadata, int fd,
			 uint64_t len, uint32_t flags)
{
	uint64_t ns[TIMES], t0, off = 0;
	int i;

	for (i = 0; i < TIMES; i++) {
		t0 = t_now_ns();
		EXPECT_EQ(0, t_buf_alloc(fd, len, flags | MBX_NONBLOCK, 0, &off));
		EXPECT_EQ(0, t_buf_release(fd, off, len));
		t_sorted_add(ns, i, t_now_ns() - t0);
	}
	return ns[TIMES / 2];
}

/* Allocate @len bytes, which first fit must place at @off. */
#define ALLOC_AT(fd, len, off) do {					\
	uint64_t __off;							\
	ASSERT_EQ(0, t_buf_alloc(fd, len, 0, 0, &__off));		\
	ASSERT_EQ((uint64_t)(off), __off);				\
} while (0)

/*
 * A page region where the only free page is past tens of thousands of
 * holes is found without looking at each hole: it costs about what a
 * 64-byte region does there.  The first half of the pool has a 64-byte
 * hole every 128 bytes; the second half a page-sized hole 64 bytes past
 * every other page boundary, which has room for a page but not from a
 * page boundary.  (The search for room from a page boundary used to try
 * every free extent in turn when no extent had room for the worst head:
 * a sender that cuts up its pool so made every page allocation of the
 * port walk them all, with the port's lock held.)
 */
TEST_F_TIMEOUT(many, page_region_past_many_holes_is_found_at_once, 180)
{
	uint64_t pool = t_kmemleak_kernel() ? MIB : MANY_POOL;
	uint64_t i, half = pool / 2, off, small, page;
	char name[MBX_NAME_LEN];
	int fd;

	t_name(name, "pool.holes");
	fd = t_pool_port(POOL_CAP, POOL_MSG, pool, name, 0600, 0);
	ASSERT_LE(0, fd);
	/* First fit: in order, the whole pool but its last page. */
	for (i = 0; i < half; i += 64)
		ALLOC_AT(fd, 64, i);
	for (i = half; i < pool - 8192; i += 8192) {
		ALLOC_AT(fd, 64, i);
		ALLOC_AT(fd, 4096, i + 64);
		ALLOC_AT(fd, 4032, i + 4160);
	}
	ALLOC_AT(fd, 4096, pool - 8192);
	for (i = 0; i < half; i += 128)
		ASSERT_EQ(0, t_buf_release(fd, i, 64));
	for (i = half; i < pool - 8192; i += 8192)
		ASSERT_EQ(0, t_buf_release(fd, i + 64, 4096));
	small = alloc_ns(_metadata, fd, 64, 0);
	page = alloc_ns(_metadata, fd, 4096, MBX_BUF_PAGES);
	ASSERT_EQ(0, t_buf_alloc(fd, 4096, MBX_BUF_PAGES, 0, &off));
	EXPECT_EQ(pool - 4096, off);
	TH_LOG("allocate and release beside %llu holes: 64 bytes %.1f us, a page %.1f us",
	       (unsigned long long)(half / 128 + (half - 8192) / 8192),
	       small / 1e3, page / 1e3);
	EXPECT_GT(4 * small + 200000, page);
	close(fd);
	t_unlink_all();
}

/*
 * A page region goes to the free extent at the lowest offset with room
 * for it from a page boundary, whatever extents before it have room for
 * its size only: pages 1 and 3 have page-sized holes 64 bytes in, pages 5
 * and 7 are free, and so are 3 pages from 64 bytes into page 9, with room
 * for 2 pages from page 10.
 */
TEST(page_regions_go_to_the_lowest_extent_with_room_from_a_page)
{
	const uint64_t pg = 4096, holes[][2] = {
		{ pg + 64, pg }, { 3 * pg + 64, pg }, { 5 * pg, pg },
		{ 7 * pg, pg }, { 9 * pg + 64, 3 * pg },
	};
	char name[MBX_NAME_LEN];
	uint64_t i, j, off;
	int fd;

	t_name(name, "pool.place");
	fd = t_pool_port(POOL_CAP, POOL_MSG, POOL_SZ, name, 0600, 0);
	ASSERT_LE(0, fd);
	for (i = 0; i < POOL_SZ; i += 64)
		ALLOC_AT(fd, 64, i);
	for (i = 0; i < ARRAY_SIZE(holes); i++)
		for (j = 0; j < holes[i][1]; j += 64)
			ASSERT_EQ(0, t_buf_release(fd, holes[i][0] + j, 64));
	ASSERT_EQ(0, t_buf_alloc(fd, 2 * pg, MBX_BUF_PAGES, 0, &off));
	EXPECT_EQ(10 * pg, off);
	ASSERT_EQ(0, t_buf_alloc(fd, pg, MBX_BUF_PAGES, 0, &off));
	EXPECT_EQ(5 * pg, off);
	ASSERT_EQ(0, t_buf_alloc(fd, pg, MBX_BUF_PAGES, 0, &off));
	EXPECT_EQ(7 * pg, off);
	EXPECT_EQ(-EAGAIN, t_buf_alloc(fd, pg, MBX_BUF_PAGES | MBX_NONBLOCK,
				       0, &off));
	/* What is left still serves regions of any size, first fit. */
	ASSERT_EQ(0, t_buf_alloc(fd, pg, 0, 0, &off));
	EXPECT_EQ(pg + 64, off);
	close(fd);
	t_unlink_all();
}

/* ---- pool exhaustion --------------------------------------------------- */

/*
 * The child shares the parent's fd (fork), so the region it gets is held
 * by that open file, and the parent may release it.
 */
static pid_t fork_blocking_alloc(int fd, uint64_t len, uint64_t *shared_off,
				 int close_fd)
{
	pid_t pid = t_fork();
	uint64_t off;
	long ret;

	if (pid == 0) {
		if (close_fd >= 0)	/* a copy would keep its file open */
			close(close_fd);
		ret = t_buf_alloc(fd, len, 0, 0, &off);
		if (ret)
			_exit(t_code(ret));
		*shared_off = off;
		_exit(0);
	}
	return pid;
}

TEST_F(pool, blocking_alloc_waits_for_release_then_gets_the_space)
{
	uint64_t whole, *off = t_shared(sizeof(*off));
	pid_t pid;

	ASSERT_NE(NULL, off);
	ASSERT_EQ(0, t_buf_alloc(self->fd, POOL_SZ, 0, 0, &whole));
	ASSERT_EQ(0, pool_free(self->fd));
	pid = fork_blocking_alloc(self->fd, 4096, off, -1);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, t_wait_sleeping(pid));
	ASSERT_TRUE(t_stays_blocked(pid));
	ASSERT_EQ(0, t_buf_release(self->fd, whole, POOL_SZ));
	ASSERT_EQ(0, t_reap(pid));
	ASSERT_EQ(POOL_SZ - 4096, pool_free(self->fd));
	ASSERT_EQ(0, t_buf_release(self->fd, *off, 4096));
	ASSERT_EQ(POOL_SZ, pool_free(self->fd));
}

TEST_F(pool, blocking_alloc_wakes_when_plain_recv_frees_a_region)
{
	uint64_t whole, *off = t_shared(sizeof(*off));
	uint8_t *buf = malloc(POOL_SZ);
	struct mbx_recv rv;
	pid_t pid;

	ASSERT_NE(NULL, off);
	ASSERT_NE(NULL, buf);
	/* a pool message larger than max_msg_size: the pool is the limit */
	ASSERT_EQ(0, t_buf_alloc(self->fd, POOL_SZ, 0, 0, &whole));
	pat_fill(self->base, POOL_SZ, 18);
	ASSERT_EQ(0, t_send_buf(self->fd, whole, POOL_SZ, 0, 0));
	pid = fork_blocking_alloc(self->fd, 64, off, -1);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, t_wait_sleeping(pid));
	ASSERT_TRUE(t_stays_blocked(pid));
	ASSERT_EQ(0, t_recv_nb(self->fd, buf, POOL_SZ, 0, &rv));
	ASSERT_TRUE(pat_check(buf, POOL_SZ, 18));
	ASSERT_EQ(0, t_reap(pid));
	ASSERT_EQ(0, t_buf_release(self->fd, *off, 64));
	ASSERT_EQ(POOL_SZ, pool_free(self->fd));
}

TEST_F(pool, blocking_alloc_wakes_when_the_holder_closes)
{
	uint64_t whole, *off = t_shared(sizeof(*off));
	pid_t pid;
	int fd2;

	ASSERT_NE(NULL, off);
	fd2 = port_open(self->name, MBX_SEND);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, t_buf_alloc(fd2, POOL_SZ, 0, 0, &whole));
	pid = fork_blocking_alloc(self->fd, 64, off, fd2);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, t_wait_sleeping(pid));
	ASSERT_TRUE(t_stays_blocked(pid));
	close(fd2);
	ASSERT_EQ(0, t_reap(pid));
	ASSERT_EQ(0, t_buf_release(self->fd, *off, 64));
	ASSERT_EQ(POOL_SZ, pool_free(self->fd));
}

TEST_F(pool, nonblocking_alloc_on_full_pool_is_eagain)
{
	struct snap s;
	uint64_t whole;
	int nb, fd2;

	ASSERT_EQ(0, t_buf_alloc(self->fd, POOL_SZ - 64, 0, 0, &whole));
	s = snap(self->fd);
	ASSERT_EQ(-EAGAIN, t_buf_alloc(self->fd, 128, MBX_NONBLOCK, 0, NULL));
	ASSERT_UNCHANGED(self->fd, s);
	/* non-blocking wins over a timeout */
	ASSERT_EQ(-EAGAIN, t_buf_alloc(self->fd, 128, MBX_NONBLOCK | MBX_TIMEOUT,
				       1000000000ULL, NULL));
	ASSERT_UNCHANGED(self->fd, s);

	/* O_NONBLOCK on the fd, from MBX_NONBLOCK at open or from fcntl */
	nb = port_open(self->name, MBX_SEND | MBX_NONBLOCK);
	ASSERT_LE(0, nb);
	ASSERT_EQ(-EAGAIN, t_buf_alloc(nb, 128, 0, 0, NULL));
	ASSERT_UNCHANGED(self->fd, s);
	fd2 = port_open(self->name, MBX_SEND);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, fcntl(fd2, F_SETFL, O_NONBLOCK));
	ASSERT_EQ(-EAGAIN, t_buf_alloc(fd2, 128, 0, 0, NULL));
	ASSERT_UNCHANGED(self->fd, s);

	/* what does fit still does */
	ASSERT_EQ(0, t_buf_alloc(nb, 64, 0, 0, NULL));
	ASSERT_EQ(0, pool_free(self->fd));
	close(nb);
	close(fd2);
}

TEST_F(pool, timed_alloc_on_full_pool_times_out_not_early)
{
	uint64_t whole, t0, el, deadline;
	struct snap s;

	ASSERT_EQ(0, t_buf_alloc(self->fd, POOL_SZ, 0, 0, &whole));
	s = snap(self->fd);

	t0 = t_now_ns();
	ASSERT_EQ(-ETIMEDOUT, t_buf_alloc(self->fd, 64, MBX_TIMEOUT,
					  200 * 1000000ULL, NULL));
	el = t_now_ns() - t0;
	ASSERT_LE(200 * 1000000ULL, el);
	ASSERT_GT(T_WAIT_MS * 1000000ULL, el);
	ASSERT_UNCHANGED(self->fd, s);

	deadline = t_now_ns() + 150 * 1000000ULL;
	ASSERT_EQ(-ETIMEDOUT, t_buf_alloc(self->fd, 64, MBX_TIMEOUT | MBX_ABSTIME,
					  deadline, NULL));
	ASSERT_LE(deadline, t_now_ns());
	ASSERT_UNCHANGED(self->fd, s);

	/* a zero or past timeout fails at once */
	t0 = t_now_ns();
	ASSERT_EQ(-ETIMEDOUT, t_buf_alloc(self->fd, 64, MBX_TIMEOUT, 0, NULL));
	ASSERT_EQ(-ETIMEDOUT, t_buf_alloc(self->fd, 64, MBX_TIMEOUT | MBX_ABSTIME,
					  1, NULL));
	ASSERT_GT(1000 * 1000000ULL, t_now_ns() - t0);
	ASSERT_UNCHANGED(self->fd, s);

	ASSERT_EQ(0, t_buf_release(self->fd, whole, POOL_SZ));
}

/* A timed alloc gets space that a child releases before the deadline. */
TEST_F(pool, timed_alloc_succeeds_when_space_is_released_in_time)
{
	uint64_t whole, off, t0;
	pid_t pid;

	ASSERT_EQ(0, t_buf_alloc(self->fd, POOL_SZ, 0, 0, &whole));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		t_sleep_ms(200);
		_exit(t_code(t_buf_release(self->fd, whole, POOL_SZ)));
	}
	t0 = t_now_ns();
	ASSERT_EQ(0, t_buf_alloc(self->fd, 64, MBX_TIMEOUT, T_WAIT_MS * 1000000ULL,
				 &off));
	ASSERT_LE(150 * 1000000ULL, t_now_ns() - t0);
	ASSERT_EQ(0, t_reap(pid));
	ASSERT_EQ(0, t_buf_release(self->fd, off, 64));
	ASSERT_EQ(POOL_SZ, pool_free(self->fd));
}

/* ---- 1 MiB transfers between processes --------------------------------- */

#define XFER_FRAMES	64

/*
 * A producer process with its own fd allocates (blocking), fills and sends
 * 64 frames of 1 MiB through a 4 MiB pool; the consumer takes each in place
 * through a receive-only fd, checks the pattern and releases it.  The
 * frames exceed max_msg_size (8192): the pool is the limit.
 */
TEST(one_mib_messages_across_processes_keep_their_checksums)
{
	char name[MBX_NAME_LEN];
	struct mbx_recv rv;
	unsigned int i;
	uint8_t *ro;
	size_t size;
	pid_t pid;
	int fd, r;

	t_name(name, "xfer");
	fd = t_pool_port(8, 0, 4 * MIB, name, 0600, 0);
	ASSERT_LE(0, fd);
	r = port_open(name, MBX_RECV);
	ASSERT_LE(0, r);
	ASSERT_EQ(0, mbx_pool_map(r, (void **)&ro, &size));

	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct mbx_send sd;
		uint8_t *w;
		uint64_t off;
		int c = port_open(name, MBX_SEND | MBX_RECV);

		if (c < 0 || mbx_pool_map(c, (void **)&w, &size))
			_exit(T_BAD_SETUP);
		for (i = 0; i < XFER_FRAMES; i++) {
			long ret = mbx_buf_alloc(c, MIB, &off);

			if (ret)
				_exit(t_code(ret));
			pat_fill(w + off, MIB, 1000 + i);
			memset(&sd, 0, sizeof(sd));
			sd.offset = off;
			sd.len = MIB;
			sd.tag = i;
			sd.flags = MBX_SEND_BUF;
			ret = mbx_send_ex(c, &sd);
			if (ret)
				_exit(t_code(ret));
		}
		_exit(0);
	}
	for (i = 0; i < XFER_FRAMES; i++) {
		memset(&rv, 0, sizeof(rv));
		rv.flags = MBX_RECV_INPLACE | MBX_TIMEOUT;
		rv.timeout_ns = T_WAIT_MS * 1000000ULL;
		ASSERT_EQ(0, t_ioctl(r, MBX_IOC_RECV, &rv)) TH_LOG("frame %u", i);
		ASSERT_EQ(MBX_MSG_BUF, rv.msg_flags);
		ASSERT_EQ(i, rv.tag);
		ASSERT_EQ(MIB, rv.len);
		ASSERT_TRUE(pat_check(ro + rv.offset, MIB, 1000 + i))
			TH_LOG("frame %u at offset %llu", i,
			       (unsigned long long)rv.offset);
		ASSERT_EQ(0, t_buf_release(r, rv.offset, MIB));
	}
	ASSERT_EQ(0, t_reap(pid));
	ASSERT_EQ(4 * MIB, pool_free(fd));
	ASSERT_EQ(0, T_INFO(fd, queued));
	ASSERT_EQ(XFER_FRAMES, T_INFO(fd, received));
	t_unlink_all();
}

/* ---- one queue for copy and pool messages ------------------------------ */

/* Send a 256-byte copy or pool message carrying @tag and its pattern. */
static long send_kind(int fd, uint8_t *base, uint64_t tag, uint32_t prio,
		      int pool)
{
	uint8_t buf[256];
	uint64_t off;
	long ret;

	if (!pool) {
		pat_fill(buf, sizeof(buf), tag);
		return t_send_copy(fd, buf, sizeof(buf), prio, tag);
	}
	ret = t_buf_alloc(fd, 256, MBX_NONBLOCK, 0, &off);
	if (ret)
		return ret;
	pat_fill(base + off, 256, tag);
	return t_send_buf(fd, off, 256, prio, tag);
}

/*
 * Receive one message, in place or not, and check it is @tag of the
 * expected kind with its payload; in-place regions are released.
 */
static int recv_check(int fd, uint8_t *base, uint64_t tag, int pool,
		      int inplace)
{
	uint8_t buf[256];
	struct mbx_recv rv;
	const uint8_t *data = buf;

	if (t_recv_nb(fd, buf, sizeof(buf), inplace ? MBX_RECV_INPLACE : 0, &rv))
		return -1;
	if (rv.tag != tag || rv.len != 256)
		return -2;
	if (rv.msg_flags != (pool && inplace ? MBX_MSG_BUF : 0))
		return -3;
	if (rv.msg_flags)
		data = base + rv.offset;
	if (!pat_check(data, 256, tag))
		return -4;
	if (rv.msg_flags && t_buf_release(fd, rv.offset, 256))
		return -5;
	return 0;
}

TEST_F(pool, copy_and_pool_messages_interleaved_keep_fifo_order)
{
	unsigned int i;

	for (i = 0; i < POOL_CAP; i++)
		ASSERT_EQ(0, send_kind(self->fd, self->base, i, 3, i & 1));
	for (i = 0; i < POOL_CAP; i++)
		ASSERT_EQ(0, recv_check(self->fd, self->base, i, i & 1,
					i < POOL_CAP / 2))
			TH_LOG("message %u", i);
	ASSERT_EQ(POOL_SZ, pool_free(self->fd));
	ASSERT_EQ(0, T_INFO(self->fd, queued));
}

TEST_F(pool, priorities_order_copy_and_pool_messages_alike)
{
	static const struct { uint32_t prio; int pool; } sent[POOL_CAP] = {
		{ 1, 1 }, { 5, 0 }, { 5, 1 }, { 1, 0 },
		{ 31, 1 }, { 0, 0 }, { 31, 0 }, { 0, 1 },
	};
	static const unsigned int order[POOL_CAP] = { 4, 6, 1, 2, 0, 3, 5, 7 };
	unsigned int i, t;

	for (i = 0; i < POOL_CAP; i++)
		ASSERT_EQ(0, send_kind(self->fd, self->base, i, sent[i].prio,
				       sent[i].pool));
	for (i = 0; i < POOL_CAP; i++) {
		t = order[i];
		ASSERT_EQ(0, recv_check(self->fd, self->base, t, sent[t].pool,
					i & 1))
			TH_LOG("position %u: expected tag %u", i, t);
	}
	ASSERT_EQ(POOL_SZ, pool_free(self->fd));
}

TEST_HARNESS_MAIN
