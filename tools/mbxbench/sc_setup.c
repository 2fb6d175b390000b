// SPDX-License-Identifier: GPL-2.0
/*
 * mbxbench: the setup scenario: create-and-destroy operations, and the process
 * that runs setup and per-call operations.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

/* ------------------------------------------------------------------------
 * Setup costs: one process repeats one create-and-destroy operation.
 */

static int su_pipe(struct setup_ctx *x)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	close(p[0]);
	close(p[1]);
	return 0;
}

static int su_socketpair(int type)
{
	int sv[2];

	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv))
		return -errno;
	close(sv[0]);
	close(sv[1]);
	return 0;
}

static int su_stream(struct setup_ctx *x)
{
	return su_socketpair(SOCK_STREAM);
}

static int su_seqpacket(struct setup_ctx *x)
{
	return su_socketpair(SOCK_SEQPACKET);
}

static int su_mq(struct setup_ctx *x)
{
	struct mq_attr attr = { .mq_maxmsg = 10, .mq_msgsize = 8192 };
	char name[64];
	mqd_t q;

	snprintf(name, sizeof(name), "/mbxbench.setup.%d", getpid());
	q = mq_open(name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600, &attr);
	if (q < 0)
		return -errno;
	mq_unlink(name);
	close(q);
	return 0;
}

static int su_eventfd(struct setup_ctx *x)
{
	int fd = eventfd(0, EFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static int su_port(struct setup_ctx *x)
{
	struct mbx_port_create attr = {
		.flags = MBX_CLOEXEC,
		.capacity = 64,
		.max_msg_size = 8192,
		.pool_size = x->size,
	};
	int fd = mbx_port_create(mbx_dev, &attr);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

static int su_memfd(struct setup_ctx *x)
{
	int fd = memfd_create("mbxbench", MFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, x->size)) {
		close(fd);
		return -errno;
	}
	x->fd = fd;
	return 0;
}

static int su_pool_prep(struct setup_ctx *x)
{
	struct mbx_port_create attr = {
		.flags = MBX_CLOEXEC,
		.capacity = 64,
		.max_msg_size = 8192,
		.pool_size = x->size,
	};

	x->fd = mbx_port_create(mbx_dev, &attr);
	return x->fd < 0 ? x->fd : 0;
}

/* Read every page; the sum goes to a global so that the reads stay. */
static unsigned long touch_sink;

static void touch(const char *p, size_t len)
{
	unsigned long sum = 0;
	size_t i;

	for (i = 0; i < len; i += 4096)
		sum += p[i];
	touch_sink += sum;
}

static int su_map(struct setup_ctx *x, bool pool, bool do_touch)
{
	size_t len = x->size;
	void *p;
	int ret;

	if (pool) {
		ret = mbx_pool_map(x->fd, &p, &len);
		if (ret < 0)
			return ret;
	} else {
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, x->fd, 0);
		if (p == MAP_FAILED)
			return -errno;
	}
	if (do_touch)
		touch(p, len);
	munmap(p, len);
	return 0;
}

static int su_pool_map(struct setup_ctx *x)
{
	return su_map(x, true, false);
}

static int su_pool_map_touch(struct setup_ctx *x)
{
	return su_map(x, true, true);
}

static int su_shm_map(struct setup_ctx *x)
{
	return su_map(x, false, false);
}

static int su_shm_map_touch(struct setup_ctx *x)
{
	return su_map(x, false, true);
}

/* Write one byte in every page, as a producer filling buffers would. */
static void touch_write(char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i += 4096)
		p[i] = 1;
}

/* A pool from nothing to written: create, map, write every page, undo. */
static int su_pool_full(struct setup_ctx *x)
{
	size_t len;
	void *p;
	int ret;

	ret = su_pool_prep(x);
	if (ret)
		return ret;
	ret = mbx_pool_map(x->fd, &p, &len);
	if (!ret) {
		touch_write(p, len);
		munmap(p, len);
	}
	close(x->fd);
	return ret < 0 ? ret : 0;
}

/* The same with shared memory: memfd_create, ftruncate, mmap, write. */
static int su_shm_full(struct setup_ctx *x)
{
	void *p;
	int ret;

	ret = su_memfd(x);
	if (ret)
		return ret;
	p = mmap(NULL, x->size, PROT_READ | PROT_WRITE, MAP_SHARED, x->fd, 0);
	ret = p == MAP_FAILED ? -errno : 0;
	if (!ret) {
		touch_write(p, x->size);
		munmap(p, x->size);
	}
	close(x->fd);
	return ret;
}

static int su_shm_create(struct setup_ctx *x)
{
	int ret = su_memfd(x);

	if (ret)
		return ret;
	ret = su_map(x, false, false);
	close(x->fd);
	return ret;
}

void setup_proc(const struct setup_op *op, size_t size)
{
	struct setup_ctx x = { .size = size, .fd = -1, .fd2 = -1 };
	uint64_t t0, t1;
	struct rec r;
	int ret;

	if (op->prep) {
		ret = op->prep(&x);
		if (ret)
			child_fail(ret, "%s: prepare", op->name);
	}
	rec_init(&r, 0);
	for (;;) {
		t0 = now_ns();
		ret = op->run(&x);
		t1 = now_ns();
		if (ret)
			child_fail(ret, "%s", op->name);
		if (rec_add(&r, t1 - t0, op->per ? op->per : 1, t1))
			break;
	}
}

/* The operations of the setup scenario; a NULL name ends them. */
const struct setup_op setup_ops[] = {
	{ "pipe", "pipe2 + 2 close", false, NULL, su_pipe, 1, 0 },
	{ "unix-stream", "socketpair + 2 close", false, NULL, su_stream, 1, 0 },
	{ "unix-seqpacket", "socketpair + 2 close", false, NULL,
	  su_seqpacket, 1, 0 },
	{ "posix-mq", "mq_open(O_CREAT) + mq_unlink + close", false,
	  NULL, su_mq, 1, 0 },
	{ "eventfd", "eventfd + close", false, NULL, su_eventfd, 1, 0 },
	{ "mbx-port", "port create + close, no pool", false, NULL,
	  su_port, 1, 0 },
	{ "mbx-port+pool", "port create with a pool + close", true,
	  NULL, su_port, 1, 0 },
	{ "shm-create", "memfd_create + ftruncate + mmap + munmap + close",
	  true, NULL, su_shm_create, 1, 0 },
	{ "mbx-pool-map", "mbx_pool_map + munmap", true, su_pool_prep,
	  su_pool_map, 1, 0 },
	{ "shm-map", "mmap + munmap of a memfd", true, su_memfd,
	  su_shm_map, 1, 0 },
	{ "mbx-pool-map+touch", "mbx_pool_map + read every page + munmap",
	  true, su_pool_prep, su_pool_map_touch, 1, 0 },
	{ "shm-map+touch", "mmap + read every page + munmap of a memfd",
	  true, su_memfd, su_shm_map_touch, 1, 0 },
	{ "mbx-pool-full", "port create with a pool + map + write every page + munmap + close",
	  true, NULL, su_pool_full, 1, 0 },
	{ "shm-full", "memfd_create + ftruncate + mmap + write every page + munmap + close",
	  true, NULL, su_shm_full, 1, 0 },
	{ NULL }
};
