// SPDX-License-Identifier: GPL-2.0
/*
 * mbxbench: mailbox transports: copy, zero copy, request/reply and batches.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

/* --- mailbox --------------------------------------------------------------- */

static int mbx_open_port(struct chan *c, uint32_t max_msg, uint64_t pool)
{
	struct mbx_port_create attr = {
		.flags = MBX_CLOEXEC | (c->nonblock ? MBX_NONBLOCK : 0),
		.capacity = c->depth,
		.max_msg_size = max_msg,
		.pool_size = pool,
	};
	int fd;

	fd = mbx_port_create(mbx_dev, &attr);
	if (fd < 0)
		return fd;
	c->fd[RX] = fd;
	c->fd[TX] = fd;
	return 0;
}

static int mbx_copy_open(struct chan *c)
{
	return mbx_open_port(c, c->size ? c->size : 8, 0);
}

static int mbx_copy_tx(struct chan *c, uint64_t seq)
{
	int ret;

	if (c->e2e)
		fill(c->buf, c->size, seq);
	ret = mbx_send(c->fd[TX], c->buf, c->size, 0);
	return ret < 0 ? ret : 1;
}

static int mbx_copy_rx(struct chan *c, uint64_t seq)
{
	ssize_t n = mbx_recv(c->fd[RX], c->buf, c->buf_len, NULL);

	if (n < 0)
		return n;
	if (c->e2e && check(c->buf, c->size, seq))
		return -EBADMSG;
	return 1;
}

/*
 * Zero copy: the pool holds depth messages, plus the region a receiver
 * holds and the one a sender has ready; copy-mode messages are tiny.
 */
static int mbx_zc_open(struct chan *c)
{
	size_t pool = (c->depth + 2) *
		      align_up(c->size ? c->size : 8, SLOT_ALIGN);

	return mbx_open_port(c, 64, align_up(pool, 4096));
}

static void mbx_close(struct chan *c)
{
	close(c->fd[RX]);
}

static int mbx_zc_attach(struct chan *c, int side)
{
	void *base;
	int ret;

	ret = mbx_pool_map(c->fd[side], &base, &c->pool_len);
	if (ret < 0)
		child_fail(ret, "mbx_pool_map");
	c->pool = base;
	/* Pre-fault the pool in this process. */
	if (side == TX)
		memset(c->pool, 0, c->pool_len);
	else
		check(c->pool, c->pool_len & ~7UL, 0);
	c->pending = MBX_NO_OFFSET;
	c->held = MBX_NO_OFFSET;
	return 0;
}

static int mbx_zc4_tx(struct chan *c, uint64_t seq)
{
	uint64_t off = c->pending;
	int ret;

	if (off == MBX_NO_OFFSET) {
		ret = mbx_buf_alloc(c->fd[TX], c->size, &off);
		if (ret < 0)
			return ret;
		if (c->e2e)
			fill(mbx_buf_ptr(c->pool, off), c->size, seq);
	}
	ret = mbx_buf_send(c->fd[TX], off, c->size, 0);
	c->pending = ret == -EAGAIN ? off : MBX_NO_OFFSET;
	if (ret < 0 && ret != -EAGAIN)
		mbx_buf_release(c->fd[TX], off, c->size);
	return ret < 0 ? ret : 1;
}

static int mbx_zc4_rx(struct chan *c, uint64_t seq)
{
	uint64_t off;
	ssize_t n;
	int ret;

	n = mbx_recv_inplace(c->fd[RX], &off, NULL);
	if (n < 0)
		return n;
	if (off == MBX_NO_OFFSET)
		return -EPROTO;
	if (c->e2e && check(mbx_buf_ptr(c->pool, off), n, seq))
		return -EBADMSG;
	ret = mbx_buf_release(c->fd[RX], off, n);
	return ret < 0 ? ret : 1;
}

/*
 * Zero copy in one call a side: the sender sends its region and gets the
 * next one back (MBX_SEND_NEXT); the receiver releases the region it holds
 * and takes the next message in place (MBX_RECV_RELEASE).
 */
static int mbx_zc_tx(struct chan *c, uint64_t seq)
{
	uint64_t off = c->pending, next;
	int ret;

	if (off == MBX_NO_OFFSET) {
		ret = mbx_buf_alloc(c->fd[TX], c->size, &off);
		if (ret < 0)
			return ret;
	}
	if (c->e2e)
		fill(mbx_buf_ptr(c->pool, off), c->size, seq);
	ret = mbx_buf_send_next(c->fd[TX], off, c->size, 0, c->size, &next);
	if (ret < 0) {
		c->pending = off;
		return ret;
	}
	c->pending = next;
	return 1;
}

static int mbx_zc_rx(struct chan *c, uint64_t seq)
{
	uint64_t off;
	ssize_t n;

	if (c->held == MBX_NO_OFFSET)
		n = mbx_recv_inplace(c->fd[RX], &off, NULL);
	else
		n = mbx_recv_inplace_release(c->fd[RX], c->held, c->held_len,
					     &off, NULL);
	/* The release stands whatever the receive did. */
	c->held = MBX_NO_OFFSET;
	if (n < 0)
		return n;
	if (off == MBX_NO_OFFSET)
		return -EPROTO;
	if (c->e2e && check(mbx_buf_ptr(c->pool, off), n, seq))
		return -EBADMSG;
	c->held = off;
	c->held_len = n;
	return 1;
}

/*
 * Sealed zero copy: as mbx_zc_tx(), but the regions are whole pages
 * (MBX_BUF_PAGES; the next one after a sealed send is too) and each is
 * sent sealed.  The pool holds depth page-rounded slots plus two.
 */
static int mbx_zcs_open(struct chan *c)
{
	size_t pool = (c->depth + 2) * align_up(c->size ? c->size : 8, 4096);

	return mbx_open_port(c, 64, pool);
}

static int mbx_zcs_tx(struct chan *c, uint64_t seq)
{
	struct mbx_send args = {
		.len = c->size, .next_len = c->size,
		.flags = MBX_SEND_BUF | MBX_SEND_NEXT | MBX_SEND_SEALED,
	};
	int ret;

	if (c->pending == MBX_NO_OFFSET) {
		ret = mbx_buf_alloc_pages(c->fd[TX], c->size, &c->pending);
		if (ret < 0)
			return ret;
	}
	/* A failed sealed send leaves the region sealed: it is filled already. */
	if (c->e2e && !c->pending_sealed)
		fill(mbx_buf_ptr(c->pool, c->pending), c->size, seq);
	args.offset = c->pending;
	ret = mbx_send_ex(c->fd[TX], &args);
	c->pending_sealed = ret < 0;
	if (ret < 0)
		return ret;
	c->pending = args.next_offset;
	return 1;
}

/* write() and read() on the port fd, one message each. */
static int mbx_rw_tx(struct chan *c, uint64_t seq)
{
	ssize_t n;

	if (c->e2e)
		fill(c->buf, c->size, seq);
	n = write(c->fd[TX], c->buf, c->size);
	if (n < 0)
		return -errno;
	return n == (ssize_t)c->size ? 1 : -EPROTO;
}

static int mbx_rw_rx(struct chan *c, uint64_t seq)
{
	ssize_t n = read(c->fd[RX], c->buf, c->buf_len);

	if (n < 0)
		return -errno;
	if (!n)
		return -EPIPE;
	if (c->e2e && check(c->buf, c->size, seq))
		return -EBADMSG;
	return 1;
}

/* Request/reply: the client calls, the server replies and waits in one go. */
static int mbx_call_rtt(struct chan *req, struct chan *rep, uint64_t seq)
{
	ssize_t n;

	n = mbx_call(req->fd[TX], req->buf, req->size, rep->fd[RX], rep->buf,
		     rep->buf_len, NULL);
	return n < 0 ? n : 1;
}

static int mbx_call_serve(struct chan *req, struct chan *rep)
{
	ssize_t n;

	n = mbx_recv(req->fd[RX], req->buf, req->buf_len, NULL);
	while (n >= 0)
		n = mbx_reply_recv(rep->fd[TX], rep->buf, rep->size,
				   req->fd[RX], req->buf, req->buf_len, NULL);
	return n;
}

/*
 * Zero-copy request/reply, one mbx_call a side: send the region it has
 * ready and get the next (MBX_SEND_NEXT), release the message it holds and
 * wait for the other side's in place (MBX_RECV_RELEASE).
 */
static int mbx_zc_call(struct chan *out, struct chan *in)
{
	struct mbx_call args = {
		.send = { .len = out->size, .next_len = out->size,
			  .flags = MBX_SEND_BUF | MBX_SEND_NEXT },
		.recv = { .flags = MBX_RECV_INPLACE },
		.recv_fd = in->fd[RX],
	};
	int ret;

	if (out->pending == MBX_NO_OFFSET) {
		ret = mbx_buf_alloc(out->fd[TX], out->size, &out->pending);
		if (ret < 0)
			return ret;
	}
	args.send.offset = out->pending;
	if (in->held != MBX_NO_OFFSET) {
		args.recv.flags |= MBX_RECV_RELEASE;
		args.recv.release_offset = in->held;
		args.recv.release_len = in->held_len;
	}
	ret = mbx_call_ex(out->fd[TX], &args);
	if (args.done & MBX_CALL_SENT)
		out->pending = args.send.next_offset;
	in->held = MBX_NO_OFFSET;
	if (ret < 0)
		return ret;
	if (!(args.recv.msg_flags & MBX_MSG_BUF))
		return -EPROTO;
	in->held = args.recv.offset;
	in->held_len = args.recv.len;
	return 0;
}

static int mbx_zc_call_rtt(struct chan *req, struct chan *rep, uint64_t seq)
{
	int ret = mbx_zc_call(req, rep);

	return ret < 0 ? ret : 1;
}

static int mbx_zc_call_serve(struct chan *req, struct chan *rep)
{
	uint64_t off;
	ssize_t n;
	int ret;

	n = mbx_recv_inplace(req->fd[RX], &off, NULL);
	if (n < 0)
		return n;
	req->held = off;
	req->held_len = n;
	for (;;) {
		ret = mbx_zc_call(rep, req);
		if (ret < 0)
			return ret;
	}
}

/* Batches: BATCH messages per call each way (fewer may arrive). */
static int mbx_batch_open(struct chan *c)
{
	if (c->depth < 2 * BATCH)
		c->depth = 2 * BATCH;
	return mbx_copy_open(c);
}

static int mbx_batch_attach(struct chan *c, int side)
{
	unsigned int i;

	c->buf_len = c->size;
	c->buf = alloc_buf(BATCH * c->size);
	c->smsg = calloc(BATCH, sizeof(*c->smsg));
	c->rmsg = calloc(BATCH, sizeof(*c->rmsg));
	if (!c->smsg || !c->rmsg)
		child_fail(-ENOMEM, "calloc");
	for (i = 0; i < BATCH; i++) {
		c->smsg[i].buf = (uintptr_t)(c->buf + i * c->size);
		c->smsg[i].len = c->size;
	}
	return 0;
}

static int mbx_batch_tx(struct chan *c, uint64_t seq)
{
	unsigned int i, done = 0;
	int n;

	if (c->e2e)
		for (i = 0; i < BATCH; i++)
			fill(c->buf + i * c->size, c->size, seq + i);
	while (done < BATCH) {
		n = mbx_send_batch(c->fd[TX], c->smsg + done, BATCH - done, 0);
		if (n < 0)
			return n;
		done += n;
	}
	return BATCH;
}

static int mbx_batch_rx(struct chan *c, uint64_t seq)
{
	int i, n;

	for (i = 0; i < BATCH; i++) {
		memset(&c->rmsg[i], 0, sizeof(c->rmsg[i]));
		c->rmsg[i].buf = (uintptr_t)(c->buf + i * c->size);
		c->rmsg[i].len = c->size;
	}
	n = mbx_recv_batch(c->fd[RX], c->rmsg, BATCH, 0);
	if (n < 0)
		return n;
	if (c->e2e)
		for (i = 0; i < n; i++)
			if (check(c->buf + i * c->size, c->size, seq + i))
				return -EBADMSG;
	return n;
}

/*
 * Topics: the publisher holds the creator's fd, which is not a subscriber;
 * each subscriber gets its own fd, dup'ed with receive access before the
 * fork, which subscribes it (block policy) before the first message.  The
 * pool holds depth messages, one region held by each subscriber and one a
 * publisher has ready.
 */
static int mbx_topic_open_pool(struct chan *c, uint32_t max_msg, uint64_t pool)
{
	struct mbx_port_create attr = {
		.flags = MBX_CLOEXEC | MBX_PORT_TOPIC,
		.capacity = c->depth,
		.max_msg_size = max_msg,
		.pool_size = pool,
	};
	unsigned int i;
	int fd;

	fd = mbx_port_create(mbx_dev, &attr);
	if (fd < 0)
		return fd;
	for (i = 0; i < c->subs; i++) {
		c->sub_fd[i] = mbx_port_dup(fd, MBX_RECV | MBX_CLOEXEC);
		if (c->sub_fd[i] < 0) {
			int err = c->sub_fd[i];

			while (i--)
				close(c->sub_fd[i]);
			close(fd);
			return err;
		}
	}
	c->fd[TX] = fd;
	c->fd[RX] = -1;
	return 0;
}

static int mbx_topic_open(struct chan *c)
{
	return mbx_topic_open_pool(c, c->size ? c->size : 8, 0);
}

static int mbx_topic_zc_open(struct chan *c)
{
	size_t pool = (c->depth + c->subs + 2) *
		      align_up(c->size ? c->size : 8, SLOT_ALIGN);

	return mbx_topic_open_pool(c, 64, align_up(pool, 4096));
}

static void mbx_topic_close(struct chan *c)
{
	unsigned int i;

	for (i = 0; i < c->subs; i++)
		close(c->sub_fd[i]);
	close(c->fd[TX]);
}

const struct transport tr_mbx_copy = {
	.name = "mbx-copy",
	.what = "mailbox copy mode, mbx_send/mbx_recv",
	.scens = SC_ALL,
	.open = mbx_copy_open,
	.close = mbx_close,
	.attach = attach_buf,
	.tx = mbx_copy_tx,
	.rx = mbx_copy_rx,
};

const struct transport tr_mbx_rw = {
	.name = "mbx-rw",
	.what = "mailbox copy mode, write/read on the port fd",
	.scens = SC_RTTS | B(SC_STREAM),
	.open = mbx_copy_open,
	.close = mbx_close,
	.attach = attach_buf,
	.tx = mbx_rw_tx,
	.rx = mbx_rw_rx,
};

const struct transport tr_mbx_0copy = {
	.name = "mbx-0copy",
	.what = "mailbox zero copy, one call a side: buf_send_next, recv_inplace_release",
	.scens = SC_ALL,
	.open = mbx_zc_open,
	.close = mbx_close,
	.attach = mbx_zc_attach,
	.tx = mbx_zc_tx,
	.rx = mbx_zc_rx,
};

const struct transport tr_mbx_0copy_sealed = {
	.name = "mbx-0copy-sealed",
	.what = "mailbox zero copy as mbx-0copy, page regions sent sealed (MBX_SEND_SEALED)",
	.scens = B(SC_RTT2) | B(SC_E2E),
	.open = mbx_zcs_open,
	.close = mbx_close,
	.attach = mbx_zc_attach,
	.tx = mbx_zcs_tx,
	.rx = mbx_zc_rx,
};

const struct transport tr_mbx_0copy4 = {
	.name = "mbx-0copy-4call",
	.what = "mailbox zero copy, four calls: buf_alloc, buf_send, recv_inplace, buf_release",
	.scens = B(SC_RTT2) | B(SC_STREAM),
	.open = mbx_zc_open,
	.close = mbx_close,
	.attach = mbx_zc_attach,
	.tx = mbx_zc4_tx,
	.rx = mbx_zc4_rx,
};

const struct transport tr_mbx_call = {
	.name = "mbx-call",
	.what = "mailbox request/reply: mbx_call / mbx_reply_recv, two ports",
	.scens = SC_RTTS,
	.open = mbx_copy_open,
	.close = mbx_close,
	.attach = attach_buf,
	.tx = mbx_copy_tx,
	.rx = mbx_copy_rx,
	.call = mbx_call_rtt,
	.serve = mbx_call_serve,
};

const struct transport tr_mbx_0copy_call = {
	.name = "mbx-0copy-call",
	.what = "mailbox zero copy, one mbx_call a side (send buf + next, release + recv in place)",
	.scens = SC_RTTS,
	.open = mbx_zc_open,
	.close = mbx_close,
	.attach = mbx_zc_attach,
	.tx = mbx_zc_tx,
	.rx = mbx_zc_rx,
	.call = mbx_zc_call_rtt,
	.serve = mbx_zc_call_serve,
};

const struct transport tr_mbx_batch32 = {
	.name = "mbx-batch32",
	.what = "mailbox copy mode, mbx_send_batch/mbx_recv_batch of 32",
	.scens = B(SC_STREAM) | B(SC_E2E) | B(SC_FANIN) | B(SC_FANMN),
	.max_size = 64 * KiB,
	.open = mbx_batch_open,
	.close = mbx_close,
	.attach = mbx_batch_attach,
	.tx = mbx_batch_tx,
	.rx = mbx_batch_rx,
};

const struct transport tr_mbx_topic = {
	.name = "mbx-topic",
	.what = "mailbox topic, copy mode: one mbx_send, every subscriber mbx_recv",
	.scens = SC_PUBS,
	.shared = true,
	.open = mbx_topic_open,
	.close = mbx_topic_close,
	.attach = attach_buf,
	.tx = mbx_copy_tx,
	.rx = mbx_copy_rx,
};

const struct transport tr_mbx_topic_rw = {
	.name = "mbx-topic-rw",
	.what = "mailbox topic, copy mode: one write(), every subscriber read()",
	.scens = SC_PUBS,
	.shared = true,
	.open = mbx_topic_open,
	.close = mbx_topic_close,
	.attach = attach_buf,
	.tx = mbx_rw_tx,
	.rx = mbx_rw_rx,
};

const struct transport tr_mbx_topic_0copy = {
	.name = "mbx-topic-0copy",
	.what = "mailbox topic, zero copy: one region read in place by every subscriber",
	.scens = SC_PUBS,
	.shared = true,
	.open = mbx_topic_zc_open,
	.close = mbx_topic_close,
	.attach = mbx_zc_attach,
	.tx = mbx_zc_tx,
	.rx = mbx_zc_rx,
};
