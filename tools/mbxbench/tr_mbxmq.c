// SPDX-License-Identifier: GPL-2.0
/*
 * mbxbench: transport over libmailbox-mq, the POSIX mq_* functions on
 * mailbox ports.
 *
 * The same calls as posix-mq (tr_mq.c), made on the library rather than on
 * the kernel's message queues.  One binary cannot hold both under the same
 * names, so the Makefile compiles this file and the library's sources with
 * every mq_* name renamed (BENCH_MQ_RENAME): the code that runs is the
 * library's, unchanged.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <unistd.h>

#include "bench.h"

static int mbxmq_open_chan(struct chan *c)
{
	static unsigned int seq;
	struct mq_attr attr = {
		.mq_maxmsg = c->depth,
		.mq_msgsize = c->size ? c->size : 8,
	};
	char name[64];
	mqd_t q;

	snprintf(name, sizeof(name), "/mbxbench-mq.%d.%u", getpid(), seq++);
	q = mq_open(name, O_CREAT | O_EXCL | O_RDWR |
		    (c->nonblock ? O_NONBLOCK : 0), 0600, &attr);
	if (q < 0)
		return -errno;
	mq_unlink(name);
	c->fd[RX] = q;
	c->fd[TX] = q;
	return 0;
}

static int mbxmq_tx(struct chan *c, uint64_t seq)
{
	if (c->e2e)
		fill(c->buf, c->size, seq);
	while (mq_send(c->fd[TX], c->buf, c->size, 0))
		if (errno != EINTR)
			return -errno;
	return 1;
}

static int mbxmq_rx(struct chan *c, uint64_t seq)
{
	ssize_t n;

	do
		n = mq_receive(c->fd[RX], c->buf, c->buf_len, NULL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (c->e2e && check(c->buf, c->size, seq))
		return -EBADMSG;
	return 1;
}

static void mbxmq_close(struct chan *c)
{
	mq_close(c->fd[RX]);
}

const struct transport tr_mbx_mq = {
	.name = "mbx-mq",
	.what = "libmailbox-mq: mq_send/mq_receive on a mailbox port",
	.scens = SC_ALL,
	.max_size = 1 * MiB,
	.open = mbxmq_open_chan,
	.close = mbxmq_close,
	.attach = attach_buf,
	.tx = mbxmq_tx,
	.rx = mbxmq_rx,
};
