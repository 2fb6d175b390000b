// SPDX-License-Identifier: GPL-2.0
/*
 * mbxbench: the floor of one-to-many delivery: a shared-memory ring read
 * in place by every subscriber, with one eventfd per subscriber.
 *
 * The publisher waits until the slowest subscriber has left a slot free,
 * takes the next slot and posts one eventfd per subscriber; a
 * subscriber takes every credit of its eventfd at once, advances its own
 * tail per message and posts the publisher's SPACE eventfd only when the
 * publisher said it waits (a Dekker handshake on sequentially consistent
 * atomics: either the publisher sees the new tail or the subscriber sees
 * it waiting).  The payload stays in place, untouched: what is left is
 * the notification, as efd-shm-0copy is for one reader.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"

/* A counter on a cache line of its own (the mapping is page aligned). */
struct fan_line {
	atomic_ullong v;
	char pad[SLOT_ALIGN - sizeof(atomic_ullong)];
};

struct fan_hdr {
	struct fan_line pub_waits, tail[MAX_SUBS];
};

#define FAN_HDR	align_up(sizeof(struct fan_hdr), 4096)

static struct fan_hdr *fan_hdr(struct chan *c)
{
	return (struct fan_hdr *)c->shm;
}

static void fan_close(struct chan *c)
{
	unsigned int i;

	for (i = 0; i < c->subs; i++)
		if (c->sub_fd[i] >= 0)
			close(c->sub_fd[i]);
	if (c->efd[1] >= 0)
		close(c->efd[1]);
	munmap(c->shm, c->shm_len);
}

static int fan_open(struct chan *c)
{
	unsigned int i;

	c->slot = align_up(c->size ? c->size : 8, SLOT_ALIGN);
	c->shm_len = FAN_HDR + c->depth * c->slot;
	c->shm = mmap(NULL, c->shm_len, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (c->shm == MAP_FAILED)
		return -errno;
	for (i = 0; i < c->subs; i++)
		c->sub_fd[i] = -1;
	c->efd[1] = eventfd(0, EFD_CLOEXEC);	/* SPACE */
	for (i = 0; c->efd[1] >= 0 && i < c->subs; i++) {
		c->sub_fd[i] = eventfd(0, EFD_CLOEXEC);	/* DATA of each */
		if (c->sub_fd[i] < 0)
			break;
	}
	if (c->efd[1] < 0 || i < c->subs) {
		int err = -errno;

		fan_close(c);
		return err;
	}
	c->fd[RX] = -1;
	c->fd[TX] = c->efd[1];
	return 0;
}

static int fan_attach(struct chan *c, int side)
{
	/* Pre-fault the slots in this process. */
	if (side == TX)
		memset(c->shm + FAN_HDR, 0, c->shm_len - FAN_HDR);
	else
		check(c->shm + FAN_HDR, c->shm_len - FAN_HDR, 0);
	c->avail = 0;
	c->head = 0;
	return 0;
}

static uint64_t fan_min_tail(struct chan *c)
{
	struct fan_hdr *h = fan_hdr(c);
	uint64_t min = UINT64_MAX, t;
	unsigned int i;

	for (i = 0; i < c->subs; i++) {
		t = atomic_load(&h->tail[i].v);
		if (t < min)
			min = t;
	}
	return min;
}

static int fan_tx(struct chan *c, uint64_t seq)
{
	struct fan_hdr *h = fan_hdr(c);
	uint64_t one = 1, v;
	unsigned int i;

	while (c->head - fan_min_tail(c) >= c->depth) {
		atomic_store(&h->pub_waits.v, 1);
		if (c->head - fan_min_tail(c) < c->depth)
			break;
		if (read(c->efd[1], &v, sizeof(v)) < 0 && errno != EINTR)
			return -errno;
	}
	atomic_store(&h->pub_waits.v, 0);
	if (c->e2e)
		fill(c->shm + FAN_HDR + (c->head % c->depth) * c->slot,
		     c->size, seq);
	c->head++;
	for (i = 0; i < c->subs; i++)
		while (write(c->sub_fd[i], &one, sizeof(one)) < 0)
			if (errno != EINTR)
				return -errno;
	return 1;
}

static int fan_rx(struct chan *c, uint64_t seq)
{
	struct fan_hdr *h = fan_hdr(c);
	uint64_t one = 1, v;

	if (!c->avail) {
		while (read(c->sub_fd[c->sub], &v, sizeof(v)) < 0)
			if (errno != EINTR)
				return -errno;
		c->avail = v;
	}
	if (c->e2e && check(c->shm + FAN_HDR + (c->head % c->depth) * c->slot,
			    c->size, seq))
		return -EBADMSG;
	c->avail--;
	atomic_store(&h->tail[c->sub].v, ++c->head);
	if (atomic_load(&h->pub_waits.v))
		while (write(c->efd[1], &one, sizeof(one)) < 0)
			if (errno != EINTR)
				return -errno;
	return 1;
}

const struct transport tr_efd_shm_fanout = {
	.name = "efd-shm-fanout",
	.what = "shared-memory ring read in place by every subscriber, an eventfd each (floor)",
	.scens = SC_PUBS,
	.shared = true,
	.open = fan_open,
	.close = fan_close,
	.attach = fan_attach,
	.tx = fan_tx,
	.rx = fan_rx,
};
