// SPDX-License-Identifier: GPL-2.0
/*
 * mbxbench: transport over POSIX message queues.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <unistd.h>

#include "bench.h"

/* --- POSIX message queues ------------------------------------------------ */

static int mq_open_chan(struct chan *c)
{
	static unsigned int seq;
	struct mq_attr attr = {
		.mq_maxmsg = c->depth,
		.mq_msgsize = c->size ? c->size : 8,
	};
	char name[64];
	mqd_t q;

	snprintf(name, sizeof(name), "/mbxbench.%d.%u", getpid(), seq++);
	q = mq_open(name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC |
		    (c->nonblock ? O_NONBLOCK : 0), 0600, &attr);
	if (q < 0)
		return -errno;
	mq_unlink(name);
	c->fd[RX] = q;
	c->fd[TX] = q;
	return 0;
}

static int mq_tx(struct chan *c, uint64_t seq)
{
	if (c->e2e)
		fill(c->buf, c->size, seq);
	while (mq_send(c->fd[TX], c->buf, c->size, 0))
		if (errno != EINTR)
			return -errno;
	return 1;
}

static int mq_rx(struct chan *c, uint64_t seq)
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

const struct transport tr_posix_mq = {
	.name = "posix-mq",
	.what = "POSIX message queue, mq_send/mq_receive",
	.scens = SC_ALL | SC_PUBS,
	.open = mq_open_chan,
	.close = close_fds,
	.attach = attach_buf,
	.tx = mq_tx,
	.rx = mq_rx,
};
