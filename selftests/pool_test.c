// SPDX-License-Identifier: GPL-2.0
/*
 * The zero-copy buffer pool (docs/SEMANTICS.md, "Zero copy"): mmap rules,
 * fork, allocation, in-place send and receive, release, every misuse path,
 * ownership when an fd is closed or its process is killed, shutdown, pool
 * exhaustion, 1 MiB transfers between processes, and the order of copy and
 * pool messages in one queue.  The random misuse fuzz is pool_fuzz_test.c.
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
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "mbx_helpers.h"

#define POOL_SZ		(64 * 1024)	/* the fixture's pool */
#define POOL_CAP	8		/* the fixture's queue capacity */
#define POOL_MSG	4096		/* the fixture's max_msg_size */
#define MIB		(1024 * 1024)
#define ALIGN64(x)	(((x) + 63) & ~(uint64_t)63)

/* ---- payload patterns: 64-bit words, fast enough under emulation ------- */

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static void pat_fill(void *p, size_t len, uint64_t seed)
{
	uint8_t *b = p;
	uint64_t w;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		w = mix64(seed << 32 ^ i);
		memcpy(b + i, &w, 8);
	}
	if (i < len) {
		w = mix64(seed << 32 ^ i);
		memcpy(b + i, &w, len - i);
	}
}

/* 1 if @p holds the pattern of @seed. */
static int pat_check(const void *p, size_t len, uint64_t seed)
{
	const uint8_t *b = p;
	uint64_t w;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		w = mix64(seed << 32 ^ i);
		if (memcmp(b + i, &w, 8))
			return 0;
	}
	if (i < len) {
		w = mix64(seed << 32 ^ i);
		if (memcmp(b + i, &w, len - i))
			return 0;
	}
	return 1;
}

/* ---- raw calls, each returning 0 / a result or -errno ------------------ */

static int port_open(const char *name, uint32_t flags)
{
	return mbx_port_open(MBX_DEV_AUTO, name, flags);
}

/* mmap of the pool: the address, or NULL with -errno in *@err. */
static void *pool_mmap(int fd, size_t len, int prot, int flags, off_t off,
		       int *err)
{
	void *p = mmap(NULL, len, prot, flags, fd, off);

	*err = p == MAP_FAILED ? -errno : 0;
	return p == MAP_FAILED ? NULL : p;
}

/* Non-blocking MBX_SEND_BUF send of (@off, @len). */
static long send_buf(int fd, uint64_t off, uint64_t len, uint32_t prio,
		     uint64_t tag)
{
	struct mbx_send s;

	memset(&s, 0, sizeof(s));
	s.offset = off;
	s.len = len;
	s.prio = prio;
	s.tag = tag;
	s.flags = MBX_SEND_BUF | MBX_NONBLOCK;
	return t_ioctl(fd, MBX_IOC_SEND, &s);
}

/* Non-blocking copy-mode send. */
static long send_copy(int fd, const void *buf, uint64_t len, uint32_t prio,
		      uint64_t tag)
{
	struct mbx_send s;

	memset(&s, 0, sizeof(s));
	s.buf = (uintptr_t)buf;
	s.len = len;
	s.prio = prio;
	s.tag = tag;
	s.flags = MBX_NONBLOCK;
	return t_ioctl(fd, MBX_IOC_SEND, &s);
}

/* Non-blocking receive (@flags added); the kernel's answer is left in @r. */
static long recv_nb(int fd, void *buf, uint64_t len, uint32_t flags,
		    struct mbx_recv *r)
{
	memset(r, 0, sizeof(*r));
	r->buf = (uintptr_t)buf;
	r->len = len;
	r->flags = flags | MBX_NONBLOCK;
	return t_ioctl(fd, MBX_IOC_RECV, r);
}

static long recv_inplace(int fd, struct mbx_recv *r)
{
	return recv_nb(fd, NULL, 0, MBX_RECV_INPLACE, r);
}

struct snap {
	long long pool_free;
	long long queued;
};

static struct snap snap(int fd)
{
	struct mbx_port_info info;
	struct snap s = { -1, -1 };

	if (!t_info(fd, &info)) {
		s.pool_free = (long long)info.pool_free;
		s.queued = info.queued;
	}
	return s;
}

static long long pool_free(int fd)
{
	return snap(fd).pool_free;
}

/* The bad call before it changed nothing that PORT_INFO shows. */
#define ASSERT_UNCHANGED(fd, before) do {				\
	struct snap __was = (before), __now = snap(fd);			\
	ASSERT_EQ(__was.pool_free, __now.pool_free);			\
	ASSERT_EQ(__was.queued, __now.queued);				\
} while (0)

/* ---- the fixture: a named port with a 64 KiB pool, mapped read-write --- */

FIXTURE(pool) {
	char name[MBX_NAME_LEN];
	int fd;
	uint8_t *base;
	uint64_t size;
};

FIXTURE_SETUP(pool)
{
	int err;

	t_name(self->name, "pool");
	self->size = POOL_SZ;
	self->fd = t_pool_port(POOL_CAP, POOL_MSG, POOL_SZ, self->name, 0600, 0);
	ASSERT_LE(0, self->fd);
	self->base = pool_mmap(self->fd, POOL_SZ, PROT_READ | PROT_WRITE,
			       MAP_SHARED, 0, &err);
	ASSERT_EQ(0, err);
}

FIXTURE_TEARDOWN(pool)
{
	t_unlink_all();
}

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
	ASSERT_EQ(0, send_buf(self->fd, off, sizeof(buf), 0, 0));
	ASSERT_EQ(0, recv_nb(self->fd, buf, sizeof(buf), 0, &r));
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
	ASSERT_EQ(-ENODEV, send_buf(fd, 0, 64, 0, 0));
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
	ASSERT_EQ(0, send_buf(fd, off, 100, 0, 0));
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
	ASSERT_EQ(0, send_buf(s, off, sizeof(buf), 0, 0));
	ASSERT_EQ(0, recv_nb(self->fd, buf, sizeof(buf), 0, &r));
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

	ASSERT_EQ(0, send_buf(self->fd, off, 3000, 7, 0x1234));
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
	ASSERT_EQ(0, send_buf(self->fd, off, 100, 0, 0));
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
	ASSERT_EQ(0, send_buf(self->fd, off, 0, 0, 5));
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
	ASSERT_EQ(0, send_buf(self->fd, off, 2000, 2, 77));
	ASSERT_EQ(0, recv_nb(self->fd, buf, sizeof(buf), 0, &rv));
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
	ASSERT_EQ(0, send_buf(self->fd, off, 3000, 0, 0));
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
	ASSERT_EQ(0, send_buf(self->fd, off, 2000, 0, 0));
	s = snap(self->fd);

	ASSERT_EQ(-EMSGSIZE, recv_nb(self->fd, buf, sizeof(buf), 0, &rv));
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

	ASSERT_EQ(0, send_copy(self->fd, "hello", 5, 0, 1));
	ASSERT_EQ(0, recv_nb(self->fd, buf, sizeof(buf), MBX_RECV_INPLACE,
			     &rv));
	ASSERT_EQ(5, rv.len);
	ASSERT_EQ(0, rv.msg_flags);
	ASSERT_EQ(0, memcmp(buf, "hello", 5));

	memset(buf, 'x', sizeof(buf));
	ASSERT_EQ(0, send_copy(self->fd, buf, 100, 0, 2));
	ASSERT_EQ(-EMSGSIZE, recv_nb(self->fd, buf, 10, MBX_RECV_INPLACE,
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
	ASSERT_EQ(0, send_buf(self->fd, off, 600, 0, 1));
	ASSERT_EQ(0, recv_inplace(fd2, &rv));
	ASSERT_EQ(off, rv.offset);
	ASSERT_EQ(600, rv.len);

	ASSERT_EQ(-EPERM, send_buf(self->fd, off, 600, 0, 2));
	ASSERT_EQ(-EPERM, t_buf_release(self->fd, off, 600));
	s = snap(self->fd);
	/* at most the length received, though 1000 were allocated */
	ASSERT_EQ(-EINVAL, send_buf(fd2, off, 601, 0, 3));
	ASSERT_UNCHANGED(self->fd, s);
	ASSERT_EQ(0, send_buf(fd2, off, 500, 0, 3));
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
	ASSERT_EQ(0, send_buf(self->fd, off, 1500, 0, 0));
	ASSERT_EQ(0, t_reap(pid));
	ASSERT_EQ(POOL_SZ, pool_free(self->fd));
	ASSERT_EQ(0, T_INFO(self->fd, queued));
}

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
	ASSERT_EQ(-EPERM, send_buf(fd2, off, 500, 0, 0));
	ASSERT_UNCHANGED(self->fd, s);
	ASSERT_EQ(-EPERM, t_buf_release(fd2, off, 500));
	ASSERT_UNCHANGED(self->fd, s);
	/* still held by its allocator */
	ASSERT_EQ(0, send_buf(self->fd, off, 500, 0, 0));
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
	ASSERT_EQ(0, send_buf(self->fd, off, 500, 0, 1));
	s = snap(self->fd);
	ASSERT_EQ(-EPERM, send_buf(self->fd, off, 500, 0, 2));
	ASSERT_UNCHANGED(self->fd, s);
	ASSERT_EQ(-EPERM, send_buf(fd2, off, 500, 0, 3));
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
	ASSERT_EQ(0, send_buf(self->fd, off, 700, 0, 1));
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
	ASSERT_EQ(-EINVAL, send_buf(self->fd, off, 300, 0, 0));
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
		ASSERT_EQ(-EINVAL, send_buf(self->fd, bad[i], 1, 0, 0))
			TH_LOG("send at offset %#llx", (unsigned long long)bad[i]);
		ASSERT_UNCHANGED(self->fd, s);
		ASSERT_EQ(-EINVAL, t_buf_release(self->fd, bad[i], 512))
			TH_LOG("release at %#llx", (unsigned long long)bad[i]);
		ASSERT_UNCHANGED(self->fd, s);
	}
	ASSERT_EQ(0, send_buf(self->fd, off, 512, 0, 0));
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
	ASSERT_EQ(-EINVAL, send_buf(self->fd, off, 101, 0, 0));
	ASSERT_UNCHANGED(self->fd, s);
	ASSERT_EQ(-EINVAL, send_buf(self->fd, off, 128, 0, 0));
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
		ASSERT_EQ(-EINVAL, send_buf(self->fd, off, lens[i], 0, 0))
			TH_LOG("len %llu", (unsigned long long)lens[i]);
		ASSERT_UNCHANGED(self->fd, s);
	}
	ASSERT_EQ(0, send_buf(self->fd, off, 100, 0, 0));
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
		ASSERT_EQ(-EINVAL, send_buf(self->fd, off, lens[i], 0, 0))
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
	ASSERT_EQ(-EBADF, send_buf(r, off, 100, 0, 0));
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
	ASSERT_EQ(0, send_copy(self->fd, "x", 1, 0, 0));
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
	ASSERT_EQ(-EINVAL, recv_nb(self->fd, NULL, 0,
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
		ASSERT_EQ(0, send_copy(self->fd, "f", 1, 0, i));
	ASSERT_EQ(0, t_buf_alloc(self->fd, 1000, 0, 0, &off));
	s = snap(self->fd);
	ASSERT_EQ(-EAGAIN, send_buf(self->fd, off, 500, 0, 0));
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
	ASSERT_EQ(0, send_buf(self->fd, off, 1000, 0, 5));
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
	ASSERT_EQ(0, send_buf(self->fd, off, 2000, 0, 6));
	s = snap(self->fd);
	ASSERT_EQ(-EFAULT, recv_nb(r, t_bad_ptr(), 4096, 0, &rv));
	ASSERT_UNCHANGED(self->fd, s);
	ASSERT_EQ(-EFAULT, recv_nb(r, ro + POOL_SZ - 4096, 4096, 0, &rv));
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
	ASSERT_EQ(0, send_buf(self->fd, a, 1000, 0, 0));
	ASSERT_EQ(0, send_buf(self->fd, b, 2000, 0, 0));
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
	ASSERT_EQ(0, send_buf(s, off, 2500, 0, 9));
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
	ASSERT_EQ(0, send_buf(self->fd, p_off, 3000, 0, 33));
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
		if (send_buf(c, sent, 2000, 0, 22))
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
	ASSERT_EQ(0, send_buf(self->fd, q, 1000, 0, 1));
	ASSERT_EQ(0, t_ioctl(self->fd, MBX_IOC_SHUTDOWN, NULL));
	s = snap(self->fd);
	ASSERT_EQ(-EPIPE, send_buf(self->fd, h, 1000, 0, 2));
	ASSERT_UNCHANGED(self->fd, s);
	ASSERT_EQ(0, t_buf_release(self->fd, h, 1000));
	ASSERT_EQ(0, recv_inplace(self->fd, &rv));
	ASSERT_EQ(q, rv.offset);
	ASSERT_TRUE(pat_check(self->base + q, 1000, 17));
	ASSERT_EQ(0, t_buf_release(self->fd, q, 1000));
	ASSERT_EQ(POOL_SZ, pool_free(self->fd));
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
		ASSERT_EQ(0, send_buf(fd, a, 1000, 0, 0));	/* queued */
		ASSERT_EQ(0, send_buf(fd, b, 2000, 0, 0));
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
	ASSERT_EQ(0, send_buf(self->fd, whole, POOL_SZ, 0, 0));
	pid = fork_blocking_alloc(self->fd, 64, off, -1);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, t_wait_sleeping(pid));
	ASSERT_TRUE(t_stays_blocked(pid));
	ASSERT_EQ(0, recv_nb(self->fd, buf, POOL_SZ, 0, &rv));
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
		return send_copy(fd, buf, sizeof(buf), prio, tag);
	}
	ret = t_buf_alloc(fd, 256, MBX_NONBLOCK, 0, &off);
	if (ret)
		return ret;
	pat_fill(base + off, 256, tag);
	return send_buf(fd, off, 256, prio, tag);
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

	if (recv_nb(fd, buf, sizeof(buf), inplace ? MBX_RECV_INPLACE : 0, &rv))
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
