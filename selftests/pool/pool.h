/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The pool tests' helpers (pool_test.c, pool_misuse_test.c,
 * pool_limits_test.c): payload patterns, the raw calls, each returning a
 * result or -errno, a PORT_INFO snapshot that a bad call must leave
 * unchanged, and the fixture: a named port with a 64 KiB pool, mapped
 * read-write.
 */
#ifndef _POOL_H
#define _POOL_H

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

static inline uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static inline void pat_fill(void *p, size_t len, uint64_t seed)
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
static inline int pat_check(const void *p, size_t len, uint64_t seed)
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

static inline int port_open(const char *name, uint32_t flags)
{
	return mbx_port_open(MBX_DEV_AUTO, name, flags);
}

/* mmap of the pool: the address, or NULL with -errno in *@err. */
static inline void *pool_mmap(int fd, size_t len, int prot, int flags, off_t off,
			      int *err)
{
	void *p = mmap(NULL, len, prot, flags, fd, off);

	*err = p == MAP_FAILED ? -errno : 0;
	return p == MAP_FAILED ? NULL : p;
}

static inline long recv_inplace(int fd, struct mbx_recv *r)
{
	return t_recv_nb(fd, NULL, 0, MBX_RECV_INPLACE, r);
}

struct snap {
	long long pool_free;
	long long queued;
};

static inline struct snap snap(int fd)
{
	struct mbx_port_info info;
	struct snap s = { -1, -1 };

	if (!t_info(fd, &info)) {
		s.pool_free = (long long)info.pool_free;
		s.queued = info.queued;
	}
	return s;
}

static inline long long pool_free(int fd)
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

#endif /* _POOL_H */
