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

/*
 * Bytes of records of a ring (plain-ring, mbx-ring): depth messages and
 * their headers, rounded up to a power of two, at least a page.
 */
size_t ring_bytes(const struct chan *c)
{
	size_t rec = align_up(c->size ? c->size : 8, 8) + RING_REC_OVERHEAD;

	return roundup_pow2(c->depth * rec > 4096 ? c->depth * rec : 4096);
}

int attach_buf(struct chan *c, int side)
{
	c->buf_len = c->size ? c->size : 8;
	c->buf = alloc_buf(c->buf_len);
	return 0;
}

void close_fds(struct chan *c)
{
	close(c->fd[RX]);
	if (c->fd[TX] != c->fd[RX])
		close(c->fd[TX]);
}

/*
 * Every transport, in the order of the legend and of the cells.  A new
 * transport: its struct transport in the file of its family, and a line here.
 */
const struct transport *const transports[] = {
	&tr_pipe,
	&tr_unix_stream,
	&tr_unix_seqpacket,
	&tr_posix_mq,
	&tr_mbx_mq,
	&tr_efd_shm_2copy,
	&tr_efd_shm_0copy,
	&tr_futex_shm_2copy,
	&tr_mbx_copy,
	&tr_mbx_rw,
	&tr_mbx_0copy,
	&tr_mbx_0copy_sealed,
	&tr_mbx_0copy4,
	&tr_mbx_call,
	&tr_mbx_0copy_call,
	&tr_mbx_batch32,
	&tr_mbx_topic,
	&tr_mbx_topic_rw,
	&tr_mbx_topic_0copy,
	&tr_efd_shm_fanout,
	&tr_plain_ring,
	&tr_mbx_ring,
	&tr_mbx_ring_0copy,
	&tr_mbx_ring_batch32,
};

const unsigned int nr_transports = ARRAY_SIZE(transports);
