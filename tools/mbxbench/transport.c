// SPDX-License-Identifier: GPL-2.0
/*
 * mbxbench: the transport table, and what the transports share.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"

/* Private, pre-faulted memory (mlockall(MCL_FUTURE) also locks it). */
char *alloc_buf(size_t len)
{
	char *p;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (p == MAP_FAILED)
		child_fail(-errno, "mmap %zu bytes", len);
	memset(p, 0x5a, len);
	return p;
}

/* Bytes a channel must buffer: depth messages. */
size_t chan_bytes(const struct chan *c)
{
	return c->depth * c->size;
}

size_t roundup_pow2(size_t x)
{
	size_t p = 1;

	while (p < x)
		p <<= 1;
	return p;
}

int attach_buf(struct chan *c, int side)
{
	c->buf_len = c->size ? c->size : 8;
	c->buf = alloc_buf(c->buf_len);
	return 0;
}

static void close_fds(struct chan *c)
{
	close(c->fd[RX]);
	if (c->fd[TX] != c->fd[RX])
		close(c->fd[TX]);
}

/* --- the transport table -------------------------------------------------- */

const struct transport transports[NR_TRANSPORTS] = {
	[T_PIPE] = {
		"pipe", "pipe(2), read/write; buffer sized to what is in flight",
		SC_ALL, 0, pipe_open, close_fds, attach_buf, fd_tx, fd_rx,
	},
	[T_STREAM] = {
		"unix-stream", "AF_UNIX SOCK_STREAM socketpair, read/write",
		SC_RTTS | B(SC_EPOLL) | B(SC_STREAM) | B(SC_E2E), 0,
		stream_open, close_fds, attach_buf, fd_tx, fd_rx,
	},
	[T_SEQPACKET] = {
		"unix-seqpacket", "AF_UNIX SOCK_SEQPACKET socketpair, read/write",
		SC_RTTS | B(SC_EPOLL) | B(SC_STREAM) | B(SC_E2E), 0,
		seqpacket_open, close_fds, attach_buf, fd_tx, fd_rx,
	},
	[T_MQ] = {
		"posix-mq", "POSIX message queue, mq_send/mq_receive",
		SC_ALL, 0, mq_open_chan, close_fds, attach_buf, mq_tx, mq_rx,
	},
	[T_EFD2] = {
		"efd-shm-2copy", "shared-memory ring + eventfd, copy in and out",
		SC_RTTS | B(SC_EPOLL) | B(SC_STREAM) | B(SC_E2E), 0,
		ring_open, ring_close, ring_attach, ring_tx, ring_rx,
	},
	[T_EFD0] = {
		"efd-shm-0copy", "shared-memory ring + eventfd, payload in place (floor)",
		SC_RTTS | B(SC_EPOLL) | B(SC_STREAM) | B(SC_E2E), 0,
		ring_open, ring_close, ring_attach, ring_tx, ring_rx,
	},
	[T_FUTEX2] = {
		"futex-shm-2copy", "shared-memory ring + futex semaphores, copy in and out",
		SC_RTTS | B(SC_STREAM) | B(SC_E2E), 0,
		ring_open, ring_close, ring_attach, ring_tx, ring_rx,
	},
	[T_MBX_COPY] = {
		"mbx-copy", "mailbox copy mode, mbx_send/mbx_recv",
		SC_ALL, 0, mbx_copy_open, mbx_close, attach_buf,
		mbx_copy_tx, mbx_copy_rx,
	},
	[T_MBX_ZC] = {
		"mbx-0copy", "mailbox zero copy: buf_alloc, buf_send, recv_inplace, buf_release",
		SC_ALL, 0, mbx_zc_open, mbx_close, mbx_zc_attach,
		mbx_zc_tx, mbx_zc_rx,
	},
	[T_MBX_CALL] = {
		"mbx-call", "mailbox request/reply: mbx_call / mbx_reply_recv, two ports",
		SC_RTTS, 0, mbx_copy_open, mbx_close, attach_buf,
		mbx_copy_tx, mbx_copy_rx, mbx_call_rtt, mbx_call_serve,
	},
	[T_MBX_ZC_CALL] = {
		"mbx-0copy-call",
		"mailbox zero copy in mbx_call (send buf, recv in place) + buf_alloc, buf_release",
		SC_RTTS, 0, mbx_zc_open, mbx_close, mbx_zc_attach,
		mbx_zc_tx, mbx_zc_rx, mbx_zc_call_rtt, mbx_zc_call_serve,
	},
	[T_MBX_BATCH] = {
		"mbx-batch32", "mailbox copy mode, mbx_send_batch/mbx_recv_batch of 32",
		B(SC_STREAM) | B(SC_E2E) | B(SC_FANIN) | B(SC_FANMN), 64 * KiB,
		mbx_batch_open, mbx_close, mbx_batch_attach,
		mbx_batch_tx, mbx_batch_rx,
	},
};
