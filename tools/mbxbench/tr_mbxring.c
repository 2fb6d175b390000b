// SPDX-License-Identifier: GPL-2.0
/*
 * mbxbench: mailbox ring ports (libmailbox's mbx_ring_*): copying
 * send/recv, zero copy with reserve/commit and peek/release, and batches.
 *
 * The parent creates an anonymous ring port and dups it into a send-only
 * fd (the producer attaches to it) and a receive-only fd (the consumer);
 * the processes attach after the fork.  Each side spins for libmailbox's
 * default before it sleeps (plain-ring spins as long: RING_SPIN_NS).  The
 * ring holds the channel's depth of messages (ring_bytes(), the same size
 * as plain-ring's).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

static int mr_open(struct chan *c)
{
	int fd, err;

	c->ring_size = ring_bytes(c);
	fd = mbx_ring_port_create(mbx_dev, NULL, c->ring_size, 0600,
				  MBX_CLOEXEC);
	if (fd < 0)
		return -errno;
	c->fd[TX] = mbx_port_dup(fd, MBX_SEND | MBX_CLOEXEC);
	c->fd[RX] = mbx_port_dup(fd, MBX_RECV | MBX_CLOEXEC);
	err = c->fd[TX] < 0 ? c->fd[TX] : c->fd[RX];
	close(fd);
	if (err < 0) {
		if (c->fd[TX] >= 0)
			close(c->fd[TX]);
		if (c->fd[RX] >= 0)
			close(c->fd[RX]);
		return err;
	}
	return 0;
}

static int mr_batch_open(struct chan *c)
{
	if (c->depth < 2 * BATCH)
		c->depth = 2 * BATCH;
	return mr_open(c);
}

static void mr_close(struct chan *c)
{
	close(c->fd[TX]);
	close(c->fd[RX]);
}

/* This process's side of the ring: producer (TX) or consumer (RX). */
static void mr_attach_ring(struct chan *c, int side)
{
	unsigned int role = side == TX ? MBX_RING_PRODUCER : MBX_RING_CONSUMER;

	if (mbx_ring_attach(c->fd[side], role, &c->ring) < 0)
		child_fail(-errno, "mbx_ring_attach");
}

static int mr_attach(struct chan *c, int side)
{
	mr_attach_ring(c, side);
	return attach_buf(c, side);
}

static int mr_zc_attach(struct chan *c, int side)
{
	mr_attach_ring(c, side);
	return 0;
}

static int mr_batch_attach(struct chan *c, int side)
{
	unsigned int i;

	mr_attach_ring(c, side);
	c->buf_len = c->size;
	c->buf = alloc_buf(BATCH * c->size);
	c->iov = calloc(BATCH, sizeof(*c->iov));
	if (!c->iov)
		child_fail(-ENOMEM, "calloc");
	for (i = 0; i < BATCH; i++)
		c->iov[i].iov_base = c->buf + i * c->size;
	return 0;
}

static int mr_tx(struct chan *c, uint64_t seq)
{
	if (c->e2e)
		fill(c->buf, c->size, seq);
	if (mbx_ring_send(c->ring, c->buf, c->size, MBX_RING_FOREVER) < 0)
		return -errno;
	return 1;
}

static int mr_rx(struct chan *c, uint64_t seq)
{
	ssize_t n = mbx_ring_recv(c->ring, c->buf, c->buf_len,
				  MBX_RING_FOREVER);

	if (n < 0)
		return -errno;
	if (c->e2e && (n != (ssize_t)c->size || check(c->buf, c->size, seq)))
		return -EBADMSG;
	return 1;
}

/* Zero copy: the payload is written and read in the ring itself. */
static int mr_zc_tx(struct chan *c, uint64_t seq)
{
	void *p = mbx_ring_reserve(c->ring, c->size, MBX_RING_FOREVER);

	if (!p)
		return -errno;
	if (c->e2e)
		fill(p, c->size, seq);
	if (mbx_ring_commit(c->ring) < 0)
		return -errno;
	return 1;
}

static int mr_zc_rx(struct chan *c, uint64_t seq)
{
	const void *p;
	size_t len;

	p = mbx_ring_peek(c->ring, &len, MBX_RING_FOREVER);
	if (!p)
		return -errno;
	if (len != c->size)
		return -EPROTO;
	if (c->e2e && check(p, len, seq))
		return -EBADMSG;
	if (mbx_ring_release(c->ring) < 0)
		return -errno;
	return 1;
}

/* Batches: BATCH records a call each way (fewer may arrive). */
static int mr_batch_tx(struct chan *c, uint64_t seq)
{
	unsigned int i, done = 0;
	int n;

	for (i = 0; i < BATCH; i++) {
		c->iov[i].iov_len = c->size;
		if (c->e2e)
			fill(c->iov[i].iov_base, c->size, seq + i);
	}
	while (done < BATCH) {
		n = mbx_ring_send_batch(c->ring, c->iov + done, BATCH - done,
					MBX_RING_FOREVER);
		if (n < 0)
			return -errno;
		done += n;
	}
	return BATCH;
}

static int mr_batch_rx(struct chan *c, uint64_t seq)
{
	int i, n;

	for (i = 0; i < BATCH; i++)
		c->iov[i].iov_len = c->size;
	n = mbx_ring_recv_batch(c->ring, c->iov, BATCH, MBX_RING_FOREVER);
	if (n < 0)
		return -errno;
	for (i = 0; c->e2e && i < n; i++)
		if (c->iov[i].iov_len != c->size ||
		    check(c->iov[i].iov_base, c->size, seq + i))
			return -EBADMSG;
	return n;
}

const struct transport tr_mbx_ring = {
	.name = "mbx-ring",
	.what = "mailbox ring port, mbx_ring_send/mbx_ring_recv (copy in and out)",
	.scens = B(SC_RTT2) | B(SC_STREAM) | B(SC_E2E) | B(SC_RTT_SLEEP) |
		 B(SC_IDLE),
	.open = mr_open,
	.close = mr_close,
	.attach = mr_attach,
	.tx = mr_tx,
	.rx = mr_rx,
};

const struct transport tr_mbx_ring_0copy = {
	.name = "mbx-ring-0copy",
	.what = "mailbox ring port, zero copy: reserve/commit, peek/release in place",
	.scens = B(SC_RTT2) | B(SC_STREAM) | B(SC_E2E),
	.open = mr_open,
	.close = mr_close,
	.attach = mr_zc_attach,
	.tx = mr_zc_tx,
	.rx = mr_zc_rx,
};

const struct transport tr_mbx_ring_batch32 = {
	.name = "mbx-ring-batch32",
	.what = "mailbox ring port, mbx_ring_send_batch/recv_batch of 32",
	.scens = B(SC_STREAM) | B(SC_E2E),
	.max_size = 64 * KiB,
	.open = mr_batch_open,
	.close = mr_close,
	.attach = mr_batch_attach,
	.tx = mr_batch_tx,
	.rx = mr_batch_rx,
};
