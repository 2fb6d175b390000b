// SPDX-License-Identifier: GPL-2.0
/*
 * The zero-copy buffer pool (docs/SEMANTICS.md, "Zero copy"): mmap rules,
 * fork and the lifetime of a mapping, allocation, in-place send and
 * receive, release.  Every misuse path and ownership when an fd is closed
 * or its process killed are in pool_misuse_test.c; shutdown, exhaustion,
 * 1 MiB transfers between processes and the order of copy and pool
 * messages in one queue in pool_limits_test.c; the random misuse fuzz is
 * pool_fuzz_test.c.  Their helpers and fixture are in pool/pool.h.
 *
 * Regions are held by open file descriptions, not processes: a child that
 * inherited a port fd through fork shares its regions with the parent.  The
 * tests that need a holder of their own open the (named) port again.
 */
#define _GNU_SOURCE
#include "pool/pool.h"

/* ---- mmap rules -------------------------------------------------------- */

/*
 * The fd's MAP_SHARED mapping of the whole pool at offset 0 is the memory
 * the kernel sends from: a second mapping sees the same bytes, and a plain
 * receive copies out exactly what was written through the first.
 */
TEST_F(pool, mmap_whole_pool_shared_at_offset_0_is_the_pool)
{
	struct mbx_recv r;
	uint8_t *second, buf[2000];
	uint64_t off;
	int err;

	second = pool_mmap(self->fd, POOL_SZ, PROT_READ, MAP_SHARED, 0, &err);
	ASSERT_EQ(0, err);
	ASSERT_EQ(0, t_buf_alloc(self->fd, sizeof(buf), 0, 0, &off));
	pat_fill(self->base + off, sizeof(buf), 1);
	ASSERT_TRUE(pat_check(second + off, sizeof(buf), 1));
	ASSERT_EQ(0, t_send_buf(self->fd, off, sizeof(buf), 0, 0));
	ASSERT_EQ(0, t_recv_nb(self->fd, buf, sizeof(buf), 0, &r));
	ASSERT_EQ(sizeof(buf), r.len);
	ASSERT_TRUE(pat_check(buf, sizeof(buf), 1));
	munmap(second, POOL_SZ);
}

TEST_F(pool, mmap_private_is_einval)
{
	int err;

	ASSERT_EQ(NULL, pool_mmap(self->fd, POOL_SZ, PROT_READ, MAP_PRIVATE,
				  0, &err));
	ASSERT_EQ(-EINVAL, err);
	ASSERT_EQ(NULL, pool_mmap(self->fd, POOL_SZ, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE, 0, &err));
	ASSERT_EQ(-EINVAL, err);
}

TEST_F(pool, mmap_nonzero_offset_is_einval)
{
	int err;

	ASSERT_EQ(NULL, pool_mmap(self->fd, POOL_SZ - 4096, PROT_READ,
				  MAP_SHARED, 4096, &err));
	ASSERT_EQ(-EINVAL, err);
	ASSERT_EQ(NULL, pool_mmap(self->fd, POOL_SZ, PROT_READ, MAP_SHARED,
				  4096, &err));
	ASSERT_EQ(-EINVAL, err);
	ASSERT_EQ(NULL, pool_mmap(self->fd, 4096, PROT_READ, MAP_SHARED,
				  POOL_SZ, &err));
	ASSERT_EQ(-EINVAL, err);
}

TEST_F(pool, mmap_length_other_than_pool_is_einval)
{
	size_t lens[] = { 4096, POOL_SZ - 4096, POOL_SZ + 4096, 2 * POOL_SZ };
	unsigned int i;
	int err;

	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		ASSERT_EQ(NULL, pool_mmap(self->fd, lens[i], PROT_READ,
					  MAP_SHARED, 0, &err))
			TH_LOG("length %zu", lens[i]);
		ASSERT_EQ(-EINVAL, err) TH_LOG("length %zu", lens[i]);
	}
}

TEST(port_without_pool_mmap_and_buffer_calls_are_enodev)
{
	struct mbx_port_info info;
	struct mbx_send s;
	size_t size;
	void *base;
	int fd, err;

	fd = t_pool_port(4, 0, 0, NULL, 0600, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_info(fd, &info));
	ASSERT_EQ(0, info.pool_size);
	ASSERT_EQ(0, info.pool_free);

	ASSERT_EQ(NULL, pool_mmap(fd, 4096, PROT_READ, MAP_SHARED, 0, &err));
	ASSERT_EQ(-ENODEV, err);
	ASSERT_EQ(-ENODEV, mbx_pool_map(fd, &base, &size));
	ASSERT_EQ(-ENODEV, t_buf_alloc(fd, 64, 0, 0, NULL));
	ASSERT_EQ(-ENODEV, t_buf_release(fd, 0, 64));
	ASSERT_EQ(-ENODEV, t_send_buf(fd, 0, 64, 0, 0));
	memset(&s, 0, sizeof(s));
	s.flags = MBX_SEND_BUF;		/* blocking, zero length */
	ASSERT_EQ(-ENODEV, t_ioctl(fd, MBX_IOC_SEND, &s));
	ASSERT_EQ(0, T_INFO(fd, queued));
	close(fd);
}

/*
 * An fd opened for receive only: PROT_WRITE is refused, a read-only mapping
 * sees the pool, and mprotect cannot make it writable.
 */
TEST_F(pool, receive_only_fd_maps_read_only_and_mprotect_write_is_eacces)
{
	uint8_t *ro, *lib;
	size_t size;
	int r, err;

	r = port_open(self->name, MBX_RECV);
	ASSERT_LE(0, r);
	ASSERT_EQ(NULL, pool_mmap(r, POOL_SZ, PROT_READ | PROT_WRITE,
				  MAP_SHARED, 0, &err));
	ASSERT_EQ(-EACCES, err);
	ASSERT_EQ(NULL, pool_mmap(r, POOL_SZ, PROT_WRITE, MAP_SHARED, 0,
				  &err));
	ASSERT_EQ(-EACCES, err);

	ro = pool_mmap(r, POOL_SZ, PROT_READ, MAP_SHARED, 0, &err);
	ASSERT_EQ(0, err);
	pat_fill(self->base + 4096, 4096, 2);
	ASSERT_TRUE(pat_check(ro + 4096, 4096, 2));
	ASSERT_EQ(-1, mprotect(ro, POOL_SZ, PROT_READ | PROT_WRITE));
	ASSERT_EQ(EACCES, errno);
	ASSERT_EQ(-1, mprotect(ro, 4096, PROT_WRITE));
	ASSERT_EQ(EACCES, errno);

	/* libmailbox maps a receive-only fd read-only, just as well */
	ASSERT_EQ(0, mbx_pool_map(r, (void **)&lib, &size));
	ASSERT_EQ(POOL_SZ, size);
	ASSERT_TRUE(pat_check(lib + 4096, 4096, 2));
	ASSERT_EQ(-1, mprotect(lib, POOL_SZ, PROT_READ | PROT_WRITE));
	ASSERT_EQ(EACCES, errno);
	close(r);
}

/* A write through a receive-only mapping faults: SIGSEGV, pool unchanged. */
TEST_F(pool, receive_only_mapping_write_faults_with_sigsegv)
{
	uint8_t *ro;
	pid_t pid;
	int r, err;

	r = port_open(self->name, MBX_RECV);
	ASSERT_LE(0, r);
	ro = pool_mmap(r, POOL_SZ, PROT_READ, MAP_SHARED, 0, &err);
	ASSERT_EQ(0, err);
	self->base[100] = 0x5a;
	ASSERT_EQ(0x5a, ro[100]);

	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		signal(SIGSEGV, SIG_DFL);
		__atomic_store_n(&ro[100], 0xa5, __ATOMIC_SEQ_CST);
		_exit(T_BAD_SUCCESS);
	}
	ASSERT_EQ(128 + SIGSEGV, t_reap(pid));
	ASSERT_EQ(0x5a, self->base[100]);
	ASSERT_EQ(0x5a, ro[100]);
}

/*
 * A receive-only end made with MBX_IOC_PORT_DUP (also of an anonymous
 * port) is a receive-only fd like any other: read-only mapping, no
 * allocation; and it is a holder of its own, freed when it is closed.
 */
TEST(receive_only_port_dup_maps_read_only_and_holds_its_own_regions)
{
	struct mbx_recv rv;
	uint8_t *ro;
	uint64_t off;
	int fd, r, err;

	fd = t_pool_port(4, 0, POOL_SZ, NULL, 0600, 0);
	ASSERT_LE(0, fd);
	r = mbx_port_dup(fd, MBX_RECV);
	ASSERT_LE(0, r);
	ASSERT_EQ(NULL, pool_mmap(r, POOL_SZ, PROT_READ | PROT_WRITE,
				  MAP_SHARED, 0, &err));
	ASSERT_EQ(-EACCES, err);
	ro = pool_mmap(r, POOL_SZ, PROT_READ, MAP_SHARED, 0, &err);
	ASSERT_EQ(0, err);
	ASSERT_EQ(-1, mprotect(ro, POOL_SZ, PROT_READ | PROT_WRITE));
	ASSERT_EQ(EACCES, errno);
	ASSERT_EQ(-EBADF, t_buf_alloc(r, 64, MBX_NONBLOCK, 0, NULL));
	munmap(ro, POOL_SZ);

	ASSERT_EQ(0, t_buf_alloc(fd, 100, 0, 0, &off));
	ASSERT_EQ(0, t_send_buf(fd, off, 100, 0, 0));
	ASSERT_EQ(0, recv_inplace(r, &rv));
	ASSERT_EQ(-EPERM, t_buf_release(fd, off, 100));
	close(r);
	ASSERT_EQ(POOL_SZ, pool_free(fd));
	close(fd);
}

/*
 * "Every port fd can mmap" the pool, and a sender writes its payload there:
 * an fd opened with MBX_SEND only maps it read-write and sends from it.
 */
TEST_F(pool, send_only_fd_maps_pool_read_write)
{
	uint8_t buf[1000];
	struct mbx_recv r;
	uint8_t *w;
	uint64_t off;
	int s, err;

	s = port_open(self->name, MBX_SEND);
	ASSERT_LE(0, s);
	w = pool_mmap(s, POOL_SZ, PROT_READ | PROT_WRITE, MAP_SHARED, 0, &err);
	ASSERT_EQ(0, err) TH_LOG("mmap of a send-only fd: %s", strerror(-err));
	ASSERT_EQ(0, t_buf_alloc(s, sizeof(buf), 0, 0, &off));
	pat_fill(w + off, sizeof(buf), 3);
	ASSERT_EQ(0, t_send_buf(s, off, sizeof(buf), 0, 0));
	ASSERT_EQ(0, t_recv_nb(self->fd, buf, sizeof(buf), 0, &r));
	ASSERT_TRUE(pat_check(buf, sizeof(buf), 3));
	close(s);
}

/* A new pool is all zeroes, even where a freed pool's pages were dirty. */
TEST(pool_starts_zeroed)
{
	uint64_t *p;
	size_t i, j;
	int fd, err;

	for (j = 0; j < 2; j++) {
		fd = t_pool_port(1, 0, MIB, NULL, 0600, 0);
		ASSERT_LE(0, fd);
		ASSERT_EQ(MIB, pool_free(fd));
		p = pool_mmap(fd, MIB, PROT_READ | PROT_WRITE, MAP_SHARED, 0,
			      &err);
		ASSERT_EQ(0, err);
		for (i = 0; i < MIB / 8; i++)
			ASSERT_EQ(0, p[i]) TH_LOG("pool %zu word %zu", j, i);
		/* dirty it for the next pool to reuse the pages */
		memset(p, 0xa5, MIB);
		munmap(p, MIB);
		close(fd);
	}
}

TEST(pool_size_rounded_up_to_whole_pages)
{
	uint64_t sizes[] = { 1, 4095, 4096, 4097, 65535, 65536 };
	uint64_t want, off;
	unsigned int i;
	long page = sysconf(_SC_PAGESIZE);
	struct mbx_port_info info;
	void *p;
	int fd, err;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		want = (sizes[i] + page - 1) / page * page;
		fd = t_pool_port(1, 0, sizes[i], NULL, 0600, 0);
		ASSERT_LE(0, fd) TH_LOG("pool_size %llu", (unsigned long long)sizes[i]);
		ASSERT_EQ(0, t_info(fd, &info));
		ASSERT_EQ(want, info.pool_size)
			TH_LOG("pool_size %llu", (unsigned long long)sizes[i]);
		ASSERT_EQ(want, info.pool_free);
		p = pool_mmap(fd, want, PROT_READ | PROT_WRITE, MAP_SHARED, 0,
			      &err);
		ASSERT_EQ(0, err);
		/* the whole rounded pool is usable */
		ASSERT_EQ(0, t_buf_alloc(fd, want, MBX_NONBLOCK, 0, &off));
		ASSERT_EQ(0, off);
		ASSERT_EQ(0, t_buf_release(fd, off, want));
		munmap(p, want);
		close(fd);
	}
}

FIXTURE(maxpool) {
	unsigned long long saved;
	int restore;
};

FIXTURE_SETUP(maxpool)
{
	ASSERT_EQ(0, t_param_get("max_pool_size", &self->saved));
	self->restore = 0;
}

FIXTURE_TEARDOWN(maxpool)
{
	if (self->restore)
		t_param_set("max_pool_size", self->saved);
}

TEST_F(maxpool, pool_size_above_max_pool_size_is_einval)
{
	int fd;

	ASSERT_EQ(-EINVAL, t_pool_port(1, 0, self->saved + 1, NULL, 0600, 0));
	ASSERT_EQ(-EINVAL, t_pool_port(1, 0, self->saved + 4096, NULL, 0600, 0));
	ASSERT_EQ(-EINVAL, t_pool_port(1, 0, UINT64_MAX, NULL, 0600, 0));

	/* the limit itself is allowed, one byte more is not */
	self->restore = 1;
	ASSERT_EQ(0, t_param_set("max_pool_size", 128 * 1024));
	fd = t_pool_port(1, 0, 128 * 1024, NULL, 0600, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(128 * 1024, pool_free(fd));
	close(fd);
	ASSERT_EQ(-EINVAL, t_pool_port(1, 0, 128 * 1024 + 1, NULL, 0600, 0));
	ASSERT_EQ(-EINVAL, t_pool_port(1, 0, 256 * 1024, NULL, 0600, 0));

	/* the size after rounding to pages counts */
	ASSERT_EQ(0, t_param_set("max_pool_size", 128 * 1024 + 100));
	ASSERT_EQ(-EINVAL, t_pool_port(1, 0, 128 * 1024 + 1, NULL, 0600, 0));
	fd = t_pool_port(1, 0, 128 * 1024, NULL, 0600, 0);
	ASSERT_LE(0, fd);
	close(fd);
}

/* ---- fork and the lifetime of a mapping -------------------------------- */

/*
 * What fork does: the child inherits the MAP_SHARED mapping, i.e. the same
 * pages.  The child sees what the parent wrote before and after the fork,
 * and the parent sees what the child writes.
 */
TEST_F(pool, forked_child_shares_the_mapping_both_ways)
{
	uint8_t *flag = self->base + POOL_SZ - 1;
	pid_t pid;

	pat_fill(self->base, 4096, 4);		/* before the fork */
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint64_t end = t_now_ns() + T_WAIT_MS * 1000000ULL;

		if (!pat_check(self->base, 4096, 4))
			_exit(T_BAD_DATA);
		pat_fill(self->base + 4096, 4096, 5);
		__atomic_store_n(flag, 1, __ATOMIC_RELEASE);
		/* wait for the parent's write after the fork */
		while (__atomic_load_n(flag, __ATOMIC_ACQUIRE) != 2 &&
		       t_now_ns() < end)
			usleep(1000);
		if (__atomic_load_n(flag, __ATOMIC_ACQUIRE) != 2 ||
		    !pat_check(self->base + 8192, 4096, 6))
			_exit(T_BAD_DATA);
		_exit(0);
	}
	while (__atomic_load_n(flag, __ATOMIC_ACQUIRE) != 1 && t_alive(pid))
		usleep(1000);
	ASSERT_EQ(1, __atomic_load_n(flag, __ATOMIC_ACQUIRE));
	ASSERT_TRUE(pat_check(self->base + 4096, 4096, 5));
	pat_fill(self->base + 8192, 4096, 6);	/* after the fork */
	__atomic_store_n(flag, 2, __ATOMIC_RELEASE);
	ASSERT_EQ(0, t_reap(pid));
}

/*
 * The mapping keeps the port alive after its last fd is closed: pages
 * never touched before the close still fault in, and hold what is written.
 */
TEST(mapping_keeps_port_alive_after_last_fd_closed)
{
	uint8_t *p;
	int fd, err;

	fd = t_pool_port(1, 0, 256 * 1024, NULL, 0600, 0);
	ASSERT_LE(0, fd);
	p = pool_mmap(fd, 256 * 1024, PROT_READ | PROT_WRITE, MAP_SHARED, 0,
		      &err);
	ASSERT_EQ(0, err);
	close(fd);
	pat_fill(p, 256 * 1024, 7);
	ASSERT_TRUE(pat_check(p, 256 * 1024, 7));
	munmap(p, 256 * 1024);
}

/*
 * Regions are held by open file descriptions, and a mapping holds its
 * description like any mmap of a file: closing the fd while its mapping
 * lives keeps its regions (and its place among the senders); munmap then
 * frees them.
 */
TEST_F(pool, closing_fd_frees_its_regions_while_pool_stays_mapped)
{
	uint64_t a, b;
	uint8_t *p;
	int fd2, err;

	fd2 = port_open(self->name, MBX_SEND | MBX_RECV);
	ASSERT_LE(0, fd2);
	p = pool_mmap(fd2, POOL_SZ, PROT_READ | PROT_WRITE, MAP_SHARED, 0,
		      &err);
	ASSERT_EQ(0, err);
	ASSERT_EQ(0, t_buf_alloc(fd2, 1000, 0, 0, &a));
	ASSERT_EQ(0, t_buf_alloc(fd2, 5000, 0, 0, &b));
	p[a] = 1;
	ASSERT_EQ(2, T_INFO(self->fd, senders));
	ASSERT_GE(POOL_SZ - 6000, pool_free(self->fd));
	close(fd2);
	/* the regions and the sender went with the fd, not with the mapping */
	ASSERT_EQ(POOL_SZ, pool_free(self->fd));
	ASSERT_EQ(1, T_INFO(self->fd, senders));
	/* the mapping still shows the same pages */
	p[b] = 7;
	ASSERT_EQ(1, p[a]);
	ASSERT_EQ(0, munmap(p, POOL_SZ));
	ASSERT_EQ(POOL_SZ, pool_free(self->fd));
}

/* ---- allocate, send, receive, release ---------------------------------- */

TEST_F(pool, alloc_returns_64_byte_aligned_disjoint_regions)
{
	uint64_t lens[] = { 1, 63, 64, 65, 100, 127, 128, 1000, 4096, 4097 };
	uint64_t offs[ARRAY_SIZE(lens)], sum = 0;
	unsigned int i, j;

	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		ASSERT_EQ(0, t_buf_alloc(self->fd, lens[i], 0, 0, &offs[i]));
		ASSERT_EQ(0, offs[i] % 64)
			TH_LOG("len %llu offset %llu", (unsigned long long)lens[i],
			       (unsigned long long)offs[i]);
		ASSERT_LE(offs[i] + lens[i], POOL_SZ);
		for (j = 0; j < i; j++)
			ASSERT_TRUE(offs[i] + lens[i] <= offs[j] ||
				    offs[j] + lens[j] <= offs[i])
				TH_LOG("regions %u and %u overlap", i, j);
		sum += lens[i];
		ASSERT_GE(POOL_SZ - sum, pool_free(self->fd));
	}
	for (i = 0; i < ARRAY_SIZE(lens); i++)
		ASSERT_EQ(0, t_buf_release(self->fd, offs[i], lens[i]));
	ASSERT_EQ(POOL_SZ, pool_free(self->fd));
}

/*
 * Free space is handed out first fit, and freed neighbours merge: with
 * every other piece of a full pool freed, half the pool is free but no two
 * pieces' worth in one, and a one-piece allocation fills the lowest hole;
 * once the rest is freed (merging with the hole before, the one after, or
 * both), the whole pool is one region again.
 */
TEST_F(pool, freed_neighbours_merge_and_holes_fill_lowest_first)
{
	enum { N = 64, PIECE = POOL_SZ / N };
	uint64_t offs[N], off;
	unsigned int i;

	for (i = 0; i < N; i++)
		ASSERT_EQ(0, t_buf_alloc(self->fd, PIECE, 0, 0, &offs[i]));
	ASSERT_EQ(0, pool_free(self->fd));
	for (i = 1; i < N; i += 2)
		ASSERT_EQ(0, t_buf_release(self->fd, offs[i], PIECE));
	ASSERT_EQ(POOL_SZ / 2, pool_free(self->fd));
	ASSERT_EQ(-EAGAIN, t_buf_alloc(self->fd, PIECE + 1, MBX_NONBLOCK, 0, NULL));

	ASSERT_EQ(0, t_buf_alloc(self->fd, PIECE, MBX_NONBLOCK, 0, &off));
	ASSERT_EQ(offs[1], off);
	ASSERT_EQ(0, t_buf_release(self->fd, off, PIECE));

	/* Piece 2 merges both ways; piece 0 only forwards; the rest alike. */
	ASSERT_EQ(0, t_buf_release(self->fd, offs[2], PIECE));
	ASSERT_EQ(0, t_buf_alloc(self->fd, 3 * PIECE, MBX_NONBLOCK, 0, &off));
	ASSERT_EQ(offs[1], off);
	ASSERT_EQ(0, t_buf_release(self->fd, off, 3 * PIECE));
	ASSERT_EQ(0, t_buf_release(self->fd, offs[0], PIECE));
	for (i = N - 2; i > 2; i -= 2)
		ASSERT_EQ(0, t_buf_release(self->fd, offs[i], PIECE));
	ASSERT_EQ(POOL_SZ, pool_free(self->fd));

	ASSERT_EQ(0, t_buf_alloc(self->fd, POOL_SZ, MBX_NONBLOCK, 0, &off));
	ASSERT_EQ(0, off);
	ASSERT_EQ(0, t_buf_release(self->fd, off, POOL_SZ));
}

/*
 * A region freed in the middle of allocated ones is found again whatever
 * its size, and only a hole big enough is used: the smaller hole before it
 * is skipped, the space after the last region is used when no hole fits.
 */
TEST_F(pool, allocation_skips_holes_too_small)
{
	uint64_t a, b, c, d, e, off;

	ASSERT_EQ(0, t_buf_alloc(self->fd, 1024, 0, 0, &a));
	ASSERT_EQ(0, t_buf_alloc(self->fd, 64, 0, 0, &b));
	ASSERT_EQ(0, t_buf_alloc(self->fd, 8192, 0, 0, &c));
	ASSERT_EQ(0, t_buf_alloc(self->fd, 64, 0, 0, &d));
	ASSERT_EQ(0, t_buf_release(self->fd, a, 1024));
	ASSERT_EQ(0, t_buf_release(self->fd, c, 8192));

	ASSERT_EQ(0, t_buf_alloc(self->fd, 4096, MBX_NONBLOCK, 0, &off));
	ASSERT_EQ(c, off);
	ASSERT_EQ(0, t_buf_alloc(self->fd, 16384, MBX_NONBLOCK, 0, &e));
	ASSERT_LE(d + 64, e);
	ASSERT_EQ(0, t_buf_alloc(self->fd, 1000, MBX_NONBLOCK, 0, &a));
	ASSERT_EQ(0, a);

	ASSERT_EQ(0, t_buf_release(self->fd, a, 1000));
	ASSERT_EQ(0, t_buf_release(self->fd, b, 64));
	ASSERT_EQ(0, t_buf_release(self->fd, off, 4096));
	ASSERT_EQ(0, t_buf_release(self->fd, d, 64));
	ASSERT_EQ(0, t_buf_release(self->fd, e, 16384));
	ASSERT_EQ(POOL_SZ, pool_free(self->fd));
}

/*
 * MBX_SEND_BUF queues (offset, len); a receive-only fd takes it in place:
 * same offset and length, MBX_MSG_BUF, tag, priority and pid, the payload
 * visible through its read-only mapping; it then holds the region (the
 * sender may not release it) and releases it.
 */
TEST_F(pool, send_buf_then_recv_inplace_gives_same_region_then_release)
{
	struct mbx_recv rv;
	uint8_t *ro;
	uint64_t off;
	size_t size;
	int r;

	r = port_open(self->name, MBX_RECV);
	ASSERT_LE(0, r);
	ASSERT_EQ(0, mbx_pool_map(r, (void **)&ro, &size));
	ASSERT_EQ(0, t_buf_alloc(self->fd, 3000, 0, 0, &off));
	pat_fill(self->base + off, 3000, 8);

	ASSERT_EQ(0, t_send_buf(self->fd, off, 3000, 7, 0x1234));
	ASSERT_EQ(1, T_INFO(self->fd, queued));
	ASSERT_GE(POOL_SZ - 3000, pool_free(self->fd));

	ASSERT_EQ(0, recv_inplace(r, &rv));
	ASSERT_EQ(off, rv.offset);
	ASSERT_EQ(3000, rv.len);
	ASSERT_EQ(MBX_MSG_BUF, rv.msg_flags);
	ASSERT_EQ(0x1234, rv.tag);
	ASSERT_EQ(7, rv.prio);
	ASSERT_EQ(getpid(), rv.pid);
	ASSERT_TRUE(pat_check(ro + off, 3000, 8));
	ASSERT_EQ(0, T_INFO(self->fd, queued));
	ASSERT_GE(POOL_SZ - 3000, pool_free(self->fd));

	ASSERT_EQ(-EPERM, t_buf_release(self->fd, off, 3000));
	ASSERT_EQ(0, t_buf_release(r, off, 3000));
	ASSERT_EQ(POOL_SZ, pool_free(self->fd));
	close(r);
}

/* The same round trip through libmailbox's zero-copy calls. */
TEST_F(pool, libmailbox_zero_copy_round_trip)
{
	uint64_t off, got;
	unsigned int prio;
	uint8_t *base;
	size_t size;
	ssize_t n;

	ASSERT_EQ(0, mbx_pool_map(self->fd, (void **)&base, &size));
	ASSERT_EQ(POOL_SZ, size);
	ASSERT_EQ(0, mbx_buf_alloc(self->fd, 5000, &off));
	pat_fill(mbx_buf_ptr(base, off), 5000, 9);
	ASSERT_EQ(0, mbx_buf_send(self->fd, off, 5000, 3));
	n = mbx_recv_inplace(self->fd, &got, &prio);
	ASSERT_EQ(5000, n);
	ASSERT_EQ(off, got);
	ASSERT_EQ(3, prio);
	ASSERT_TRUE(pat_check(mbx_buf_ptr(self->base, got), 5000, 9));
	ASSERT_EQ(0, mbx_buf_release(self->fd, got, 5000));
	ASSERT_EQ(POOL_SZ, pool_free(self->fd));

	/* an empty copy-mode message: no offset */
	ASSERT_EQ(0, mbx_send(self->fd, "", 0, 0));
	ASSERT_EQ(0, mbx_recv_inplace(self->fd, &got, NULL));
	ASSERT_EQ(MBX_NO_OFFSET, got);
	ASSERT_EQ(0, mbx_pool_unmap(base, size));
}

/* A send may carry fewer bytes than allocated; release then takes that. */
TEST_F(pool, send_shorter_than_allocated_release_takes_sent_len)
{
	struct mbx_recv rv;
	uint64_t off;

	ASSERT_EQ(0, t_buf_alloc(self->fd, 1000, 0, 0, &off));
	ASSERT_EQ(0, t_send_buf(self->fd, off, 100, 0, 0));
	ASSERT_EQ(0, recv_inplace(self->fd, &rv));
	ASSERT_EQ(off, rv.offset);
	ASSERT_EQ(100, rv.len);
	ASSERT_EQ(-EINVAL, t_buf_release(self->fd, off, 1000));
	ASSERT_EQ(0, t_buf_release(self->fd, off, 100));
	ASSERT_EQ(POOL_SZ, pool_free(self->fd));
}

TEST_F(pool, zero_length_pool_message_round_trip)
{
	struct mbx_recv rv;
	uint64_t off;

	ASSERT_EQ(0, t_buf_alloc(self->fd, 64, 0, 0, &off));
	ASSERT_EQ(0, t_send_buf(self->fd, off, 0, 0, 5));
	ASSERT_EQ(0, recv_inplace(self->fd, &rv));
	ASSERT_EQ(MBX_MSG_BUF, rv.msg_flags);
	ASSERT_EQ(off, rv.offset);
	ASSERT_EQ(0, rv.len);
	ASSERT_EQ(5, rv.tag);
	ASSERT_EQ(0, t_buf_release(self->fd, off, 0));
	ASSERT_EQ(POOL_SZ, pool_free(self->fd));
}

/* A plain MBX_IOC_RECV copies a pool message out and frees its region. */
TEST_F(pool, plain_recv_copies_pool_message_out_and_frees_region)
{
	uint8_t buf[4096];
	struct mbx_recv rv;
	uint64_t off;

	ASSERT_EQ(0, t_buf_alloc(self->fd, 2000, 0, 0, &off));
	pat_fill(self->base + off, 2000, 10);
	ASSERT_EQ(0, t_send_buf(self->fd, off, 2000, 2, 77));
	ASSERT_EQ(0, t_recv_nb(self->fd, buf, sizeof(buf), 0, &rv));
	ASSERT_EQ(2000, rv.len);
	ASSERT_EQ(0, rv.msg_flags);
	ASSERT_EQ(77, rv.tag);
	ASSERT_EQ(2, rv.prio);
	ASSERT_TRUE(pat_check(buf, 2000, 10));
	ASSERT_EQ(POOL_SZ, pool_free(self->fd));
	ASSERT_EQ(0, T_INFO(self->fd, queued));
	ASSERT_EQ(-EINVAL, t_buf_release(self->fd, off, 2000));
}

TEST_F(pool, read_copies_pool_message_out_and_frees_region)
{
	uint8_t buf[4096];
	uint64_t off;

	ASSERT_EQ(0, t_buf_alloc(self->fd, 3000, 0, 0, &off));
	pat_fill(self->base + off, 3000, 11);
	ASSERT_EQ(0, t_send_buf(self->fd, off, 3000, 0, 0));
	ASSERT_EQ(3000, read(self->fd, buf, sizeof(buf)));
	ASSERT_TRUE(pat_check(buf, 3000, 11));
	ASSERT_EQ(POOL_SZ, pool_free(self->fd));
	ASSERT_EQ(0, T_INFO(self->fd, queued));
}

/* Too small a buffer for a plain receive: EMSGSIZE, the message stays. */
TEST_F(pool, plain_recv_too_small_is_emsgsize_and_keeps_pool_message)
{
	struct mbx_recv rv;
	uint8_t buf[100];
	struct snap s;
	uint64_t off;

	ASSERT_EQ(0, t_buf_alloc(self->fd, 2000, 0, 0, &off));
	pat_fill(self->base + off, 2000, 12);
	ASSERT_EQ(0, t_send_buf(self->fd, off, 2000, 0, 0));
	s = snap(self->fd);

	ASSERT_EQ(-EMSGSIZE, t_recv_nb(self->fd, buf, sizeof(buf), 0, &rv));
	ASSERT_EQ(2000, rv.len);
	ASSERT_UNCHANGED(self->fd, s);
	ASSERT_EQ(-1, read(self->fd, buf, sizeof(buf)));
	ASSERT_EQ(EMSGSIZE, errno);
	ASSERT_UNCHANGED(self->fd, s);

	ASSERT_EQ(0, recv_inplace(self->fd, &rv));
	ASSERT_EQ(off, rv.offset);
	ASSERT_TRUE(pat_check(self->base + off, 2000, 12));
	ASSERT_EQ(0, t_buf_release(self->fd, off, 2000));
	ASSERT_EQ(POOL_SZ, pool_free(self->fd));
}

/* MBX_RECV_INPLACE on a copy-mode message receives it as usual. */
TEST_F(pool, inplace_recv_of_copy_message_copies_it)
{
	struct mbx_recv rv;
	char buf[200];

	ASSERT_EQ(0, t_send_copy(self->fd, "hello", 5, 0, 1));
	ASSERT_EQ(0, t_recv_nb(self->fd, buf, sizeof(buf), MBX_RECV_INPLACE,
			       &rv));
	ASSERT_EQ(5, rv.len);
	ASSERT_EQ(0, rv.msg_flags);
	ASSERT_EQ(0, memcmp(buf, "hello", 5));

	memset(buf, 'x', sizeof(buf));
	ASSERT_EQ(0, t_send_copy(self->fd, buf, 100, 0, 2));
	ASSERT_EQ(-EMSGSIZE, t_recv_nb(self->fd, buf, 10, MBX_RECV_INPLACE,
				       &rv));
	ASSERT_EQ(100, rv.len);
	ASSERT_EQ(1, T_INFO(self->fd, queued));
	ASSERT_EQ(POOL_SZ, pool_free(self->fd));
}

/*
 * Holder chain: allocating fd -> queued -> fd that took it in place, which
 * may send it on, up to the length it received; the first fd has no say
 * any more.
 */
TEST_F(pool, inplace_receiver_may_forward_the_region)
{
	struct mbx_recv rv;
	struct snap s;
	uint64_t off;
	int fd2;

	fd2 = port_open(self->name, MBX_SEND | MBX_RECV);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, t_buf_alloc(self->fd, 1000, 0, 0, &off));
	pat_fill(self->base + off, 1000, 13);
	ASSERT_EQ(0, t_send_buf(self->fd, off, 600, 0, 1));
	ASSERT_EQ(0, recv_inplace(fd2, &rv));
	ASSERT_EQ(off, rv.offset);
	ASSERT_EQ(600, rv.len);

	ASSERT_EQ(-EPERM, t_send_buf(self->fd, off, 600, 0, 2));
	ASSERT_EQ(-EPERM, t_buf_release(self->fd, off, 600));
	s = snap(self->fd);
	/* at most the length received, though 1000 were allocated */
	ASSERT_EQ(-EINVAL, t_send_buf(fd2, off, 601, 0, 3));
	ASSERT_UNCHANGED(self->fd, s);
	ASSERT_EQ(0, t_send_buf(fd2, off, 500, 0, 3));
	ASSERT_EQ(0, recv_inplace(self->fd, &rv));
	ASSERT_EQ(off, rv.offset);
	ASSERT_EQ(500, rv.len);
	ASSERT_EQ(3, rv.tag);
	ASSERT_TRUE(pat_check(self->base + off, 500, 13));
	ASSERT_EQ(-EPERM, t_buf_release(fd2, off, 500));
	ASSERT_EQ(0, t_buf_release(self->fd, off, 500));
	ASSERT_EQ(POOL_SZ, pool_free(self->fd));
	close(fd2);
}

/* A receiver blocked in an in-place receive is handed the region. */
TEST_F(pool, blocked_inplace_receiver_is_handed_the_region)
{
	uint64_t off;
	pid_t pid;

	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct mbx_recv rv;
		uint8_t *ro;
		size_t size;
		int r = port_open(self->name, MBX_RECV);

		if (r < 0 || mbx_pool_map(r, (void **)&ro, &size))
			_exit(T_BAD_SETUP);
		memset(&rv, 0, sizeof(rv));
		rv.flags = MBX_RECV_INPLACE | MBX_TIMEOUT;
		rv.timeout_ns = T_WAIT_MS * 1000000ULL;
		if (t_ioctl(r, MBX_IOC_RECV, &rv))
			_exit(t_code(-errno));
		if (rv.msg_flags != MBX_MSG_BUF || rv.len != 1500 ||
		    !pat_check(ro + rv.offset, 1500, 14))
			_exit(T_BAD_DATA);
		_exit(t_code(t_buf_release(r, rv.offset, rv.len)));
	}
	ASSERT_EQ(0, T_WAIT(self->fd, recv_waiting, 1));
	ASSERT_EQ(0, t_buf_alloc(self->fd, 1500, 0, 0, &off));
	pat_fill(self->base + off, 1500, 14);
	ASSERT_EQ(0, t_send_buf(self->fd, off, 1500, 0, 0));
	ASSERT_EQ(0, t_reap(pid));
	ASSERT_EQ(POOL_SZ, pool_free(self->fd));
	ASSERT_EQ(0, T_INFO(self->fd, queued));
}

TEST_HARNESS_MAIN
