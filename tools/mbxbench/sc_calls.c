// SPDX-License-Identifier: GPL-2.0
/*
 * mbxbench: the calls scenario: per-call operations in one process.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"

/* Per-call costs: one process, nothing ever waits or wakes anyone. */

static int pc_syscall(struct setup_ctx *x)
{
	syscall(SYS_getppid);
	return 0;
}

/* Room for a batch of small messages, or for one big one. */
static int pc_buf_prep(struct setup_ctx *x)
{
	x->buf = alloc_buf(x->size * (x->size <= 64 * KiB ? BATCH : 1));
	return 0;
}

static int pc_eventfd_prep(struct setup_ctx *x)
{
	x->fd = eventfd(0, EFD_CLOEXEC);
	return x->fd < 0 ? -errno : 0;
}

static int pc_eventfd(struct setup_ctx *x)
{
	uint64_t v = 1;

	if (write(x->fd, &v, sizeof(v)) != sizeof(v) ||
	    read(x->fd, &v, sizeof(v)) != sizeof(v))
		return -errno;
	return 0;
}

static int pc_pipe_prep(struct setup_ctx *x)
{
	int p[2];

	pc_buf_prep(x);
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	x->fd = p[0];
	x->fd2 = p[1];
	if (x->size > 64 * KiB && fcntl(p[1], F_SETPIPE_SZ, (int)x->size) < 0)
		return -errno;
	return 0;
}

static int pc_pipe(struct setup_ctx *x)
{
	if (write(x->fd2, x->buf, x->size) != (ssize_t)x->size ||
	    read(x->fd, x->buf, x->size) != (ssize_t)x->size)
		return -errno;
	return 0;
}

static int pc_mq_prep(struct setup_ctx *x)
{
	struct mq_attr attr = { .mq_maxmsg = 1, .mq_msgsize = x->size };
	char name[64];

	pc_buf_prep(x);
	snprintf(name, sizeof(name), "/mbxbench.calls.%d", getpid());
	x->fd = mq_open(name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600, &attr);
	if (x->fd < 0)
		return -errno;
	mq_unlink(name);
	return 0;
}

static int pc_mq(struct setup_ctx *x)
{
	if (mq_send(x->fd, x->buf, x->size, 0) ||
	    mq_receive(x->fd, x->buf, x->size, NULL) != (ssize_t)x->size)
		return -errno;
	return 0;
}

static int pc_port_prep(struct setup_ctx *x)
{
	struct mbx_port_create attr = {
		.flags = MBX_CLOEXEC,
		.capacity = BATCH,
		.max_msg_size = x->size,
		.pool_size = align_up(2 * x->size, 64 * KiB),
	};
	unsigned int i;
	void *base;
	size_t len;
	int ret;

	pc_buf_prep(x);
	x->fd = mbx_port_create(mbx_dev, &attr);
	if (x->fd < 0)
		return x->fd;
	ret = mbx_pool_map(x->fd, &base, &len);
	if (ret < 0)
		return ret;
	x->smsg = calloc(BATCH, sizeof(*x->smsg));
	x->rmsg = calloc(BATCH, sizeof(*x->rmsg));
	if (!x->smsg || !x->rmsg)
		return -ENOMEM;
	for (i = 0; i < BATCH; i++) {
		x->smsg[i].buf = (uintptr_t)(x->buf + i * x->size);
		x->smsg[i].len = x->size;
	}
	return 0;
}

static int pc_mbx_copy(struct setup_ctx *x)
{
	int ret = mbx_send(x->fd, x->buf, x->size, 0);

	return ret < 0 ? ret : mbx_recv(x->fd, x->buf, x->size, NULL) < 0 ? -EIO : 0;
}

static int pc_mbx_rw(struct setup_ctx *x)
{
	if (write(x->fd, x->buf, x->size) != (ssize_t)x->size ||
	    read(x->fd, x->buf, x->size) != (ssize_t)x->size)
		return -errno;
	return 0;
}

static int pc_mbx_call(struct setup_ctx *x)
{
	ssize_t n = mbx_call(x->fd, x->buf, x->size, -1, x->buf, x->size, NULL);

	return n < 0 ? n : 0;
}

static int pc_mbx_alloc(struct setup_ctx *x)
{
	uint64_t off;
	int ret = mbx_buf_alloc(x->fd, x->size, &off);

	return ret < 0 ? ret : mbx_buf_release(x->fd, off, x->size);
}

/* One zero-copy cycle; @sealed: a page region, sent sealed. */
static int mbx_zc_cycle(struct setup_ctx *x, bool sealed)
{
	uint64_t off;
	ssize_t n;
	int ret;

	ret = sealed ? mbx_buf_alloc_pages(x->fd, x->size, &off) :
		       mbx_buf_alloc(x->fd, x->size, &off);
	if (!ret)
		ret = sealed ? mbx_buf_send_sealed(x->fd, off, x->size, 0) :
			       mbx_buf_send(x->fd, off, x->size, 0);
	if (ret < 0)
		return ret;
	n = mbx_recv_inplace(x->fd, &off, NULL);
	if (n < 0)
		return n;
	return mbx_buf_release(x->fd, off, n);
}

static int pc_mbx_zc(struct setup_ctx *x)
{
	return mbx_zc_cycle(x, false);
}

/* The same with a page region sent sealed: what sealing adds. */
static int pc_mbx_zc_sealed(struct setup_ctx *x)
{
	return mbx_zc_cycle(x, true);
}

/* One batch of 32 each way; the table shows the cost per message. */
static int pc_mbx_batch(struct setup_ctx *x)
{
	unsigned int i;
	int n;

	n = mbx_send_batch(x->fd, x->smsg, BATCH, 0);
	if (n != BATCH)
		return n < 0 ? n : -EIO;
	for (i = 0; i < BATCH; i++) {
		memset(&x->rmsg[i], 0, sizeof(x->rmsg[i]));
		x->rmsg[i].buf = (uintptr_t)(x->buf + i * x->size);
		x->rmsg[i].len = x->size;
	}
	n = mbx_recv_batch(x->fd, x->rmsg, BATCH, 0);
	return n == BATCH ? 0 : n < 0 ? n : -EIO;
}

/*
 * A ring transport looped back in one process, its producer and its
 * consumer: two struct chan of one channel holding one message, so that
 * neither side ever waits.
 */
static int pc_ring_prep(struct setup_ctx *x, const struct transport *t)
{
	struct chan *c = calloc(2, sizeof(*c));
	int ret;

	if (!c)
		return -ENOMEM;
	c[TX].t = t;
	c[TX].size = x->size;
	c[TX].depth = 1;
	ret = t->open(&c[TX]);
	if (ret)
		return ret;
	c[RX] = c[TX];
	t->attach(&c[TX], TX);
	t->attach(&c[RX], RX);
	x->ch = c;
	return 0;
}

static int pc_plain_ring_prep(struct setup_ctx *x)
{
	return pc_ring_prep(x, &tr_plain_ring);
}

static int pc_mbx_ring_prep(struct setup_ctx *x)
{
	return pc_ring_prep(x, &tr_mbx_ring);
}

static int pc_mbx_ring_zc_prep(struct setup_ctx *x)
{
	return pc_ring_prep(x, &tr_mbx_ring_0copy);
}

static int pc_ring(struct setup_ctx *x)
{
	const struct transport *t = x->ch[TX].t;
	int ret = t->tx(&x->ch[TX], 0);

	if (ret >= 0)
		ret = t->rx(&x->ch[RX], 0);
	return ret < 0 ? ret : 0;
}

/* The operations of the calls scenario; a NULL name ends them. */
const struct setup_op call_ops[] = {
	{ "syscall", "getppid(), the system call floor", false, NULL,
	  pc_syscall, 1, 0 },
	{ "eventfd-w+r", "eventfd write + read", false,
	  pc_eventfd_prep, pc_eventfd, 1, 0 },
	{ "pipe-w+r", "pipe write + read", true, pc_pipe_prep, pc_pipe, 1, 0 },
	{ "mq-send+recv", "mq_send + mq_receive", true, pc_mq_prep,
	  pc_mq, 1, 0 },
	{ "mbx-send+recv", "mbx_send + mbx_recv (ioctls), one port",
	  true, pc_port_prep, pc_mbx_copy, 1, 0 },
	{ "mbx-write+read", "write + read on a port fd", true,
	  pc_port_prep, pc_mbx_rw, 1, 0 },
	{ "mbx-call-self", "mbx_call sending to and receiving from one port",
	  true, pc_port_prep, pc_mbx_call, 1, 0 },
	{ "mbx-alloc+release", "mbx_buf_alloc + mbx_buf_release", true,
	  pc_port_prep, pc_mbx_alloc, 1, 0 },
	{ "mbx-0copy-cycle", "buf_alloc + buf_send + recv_inplace + buf_release",
	  true, pc_port_prep, pc_mbx_zc, 1, 0 },
	{ "mbx-0copy-sealed", "the same, a page region sent sealed",
	  true, pc_port_prep, pc_mbx_zc_sealed, 1, 0 },
	{ "mbx-batch32", "send_batch + recv_batch of 32, per message",
	  true, pc_port_prep, pc_mbx_batch, BATCH, 64 * KiB },
	{ "plain-ring-s+r", "plain-ring send + receive, one process at both ends",
	  true, pc_plain_ring_prep, pc_ring, 1, 0 },
	{ "mbx-ring-s+r", "mbx_ring_send + mbx_ring_recv, one process at both ends",
	  true, pc_mbx_ring_prep, pc_ring, 1, 0 },
	{ "mbx-ring-0c-cycle", "mbx_ring_reserve + commit + peek + release",
	  true, pc_mbx_ring_zc_prep, pc_ring, 1, 0 },
	{ NULL }
};
