// SPDX-License-Identifier: GPL-2.0
/*
 * mbxbench: transports over shared-memory rings, with eventfd or futex
 * notification.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"

/* --- shared-memory rings with eventfd or futex notification --------------
 *
 * A ring of depth slots in a shared mapping.  The producer takes a SPACE
 * credit, writes a slot and posts DATA; the consumer takes a DATA credit,
 * reads the slot and posts SPACE.  On a round trip (acked) the reply says
 * the slot is free again, so only DATA is posted.  The eventfd flavour
 * posts by write() and waits by read() (which takes every pending credit at
 * once); the futex flavour is a counting semaphore that only makes a system
 * call to sleep or to wake a sleeper.  "2copy" copies the payload in and
 * out of the ring; "0copy" leaves it in place (filled and checked there
 * end to end): the notification floor.
 */

enum { DATA, SPACE };

struct fsem {
	atomic_uint val;
	atomic_uint waiters;
	char pad[56];
};

struct ring_hdr {
	struct fsem sem[2];
};

#define RING_HDR	4096

static void fsem_post(struct fsem *s)
{
	atomic_fetch_add(&s->val, 1);
	if (atomic_load(&s->waiters))
		syscall(SYS_futex, &s->val, FUTEX_WAKE, 1, NULL, NULL, 0);
}

static void fsem_wait(struct fsem *s)
{
	uint32_t v;

	for (;;) {
		v = atomic_load(&s->val);
		while (v)
			if (atomic_compare_exchange_weak(&s->val, &v, v - 1))
				return;
		atomic_fetch_add(&s->waiters, 1);
		syscall(SYS_futex, &s->val, FUTEX_WAIT, 0, NULL, NULL, 0);
		atomic_fetch_sub(&s->waiters, 1);
	}
}

static bool ring_futex(const struct chan *c)
{
	return c->t == &tr_futex_shm_2copy;
}

static bool ring_zerocopy(const struct chan *c)
{
	return c->t == &tr_efd_shm_0copy;
}

static int ring_open(struct chan *c)
{
	struct ring_hdr *h;
	int i;

	c->slot = align_up(c->size ? c->size : 8, SLOT_ALIGN);
	c->shm_len = RING_HDR + c->depth * c->slot;
	c->shm = mmap(NULL, c->shm_len, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (c->shm == MAP_FAILED)
		return -errno;
	h = (struct ring_hdr *)c->shm;
	atomic_store(&h->sem[SPACE].val, c->depth);
	c->efd[DATA] = -1;
	c->efd[SPACE] = -1;
	c->fd[RX] = -1;
	c->fd[TX] = -1;
	if (ring_futex(c))
		return 0;
	for (i = 0; i < 2; i++) {
		c->efd[i] = eventfd(0, EFD_CLOEXEC |
				    (c->nonblock ? EFD_NONBLOCK : 0));
		if (c->efd[i] < 0) {
			int err = -errno;

			if (i)
				close(c->efd[0]);
			munmap(c->shm, c->shm_len);
			return err;
		}
	}
	c->fd[RX] = c->efd[DATA];	/* what an epoll loop waits on */
	c->fd[TX] = c->efd[SPACE];
	return 0;
}

static void ring_close(struct chan *c)
{
	if (c->efd[DATA] >= 0) {
		close(c->efd[DATA]);
		close(c->efd[SPACE]);
	}
	munmap(c->shm, c->shm_len);
}

static int ring_attach(struct chan *c, int side)
{
	if (!ring_zerocopy(c))
		attach_buf(c, side);
	/* Pre-fault the slots in this process. */
	if (side == TX)
		memset(c->shm + RING_HDR, 0, c->shm_len - RING_HDR);
	else
		check(c->shm + RING_HDR, c->shm_len - RING_HDR, 0);
	c->credits = ring_futex(c) ? 0 : c->depth;
	c->avail = 0;
	c->head = 0;
	c->tail = 0;
	return 0;
}

/* Take one credit of @which (DATA for the consumer, SPACE for the producer). */
static int ring_wait(struct chan *c, int which)
{
	uint64_t *credits = which == DATA ? &c->avail : &c->credits;
	uint64_t v;

	if (*credits) {
		(*credits)--;
		return 0;
	}
	if (ring_futex(c)) {
		fsem_wait(&((struct ring_hdr *)c->shm)->sem[which]);
		return 0;
	}
	while (read(c->efd[which], &v, sizeof(v)) < 0)
		if (errno != EINTR)
			return -errno;
	*credits = v - 1;
	return 0;
}

static int ring_post(struct chan *c, int which)
{
	uint64_t one = 1;

	if (ring_futex(c)) {
		fsem_post(&((struct ring_hdr *)c->shm)->sem[which]);
		return 0;
	}
	while (write(c->efd[which], &one, sizeof(one)) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

static char *ring_slot(struct chan *c, uint64_t i)
{
	return c->shm + RING_HDR + (i % c->depth) * c->slot;
}

static int ring_tx(struct chan *c, uint64_t seq)
{
	char *slot;
	int err;

	if (!c->acked) {
		err = ring_wait(c, SPACE);
		if (err)
			return err;
	}
	slot = ring_slot(c, c->tail++);
	if (ring_zerocopy(c)) {
		if (c->e2e)
			fill(slot, c->size, seq);
	} else {
		if (c->e2e)
			fill(c->buf, c->size, seq);
		memcpy(slot, c->buf, c->size);
	}
	err = ring_post(c, DATA);
	return err ? err : 1;
}

static int ring_rx(struct chan *c, uint64_t seq)
{
	char *slot;
	int err;

	err = ring_wait(c, DATA);
	if (err)
		return err;
	slot = ring_slot(c, c->head++);
	if (!ring_zerocopy(c)) {
		memcpy(c->buf, slot, c->size);
		slot = c->buf;
	}
	if (c->e2e && check(slot, c->size, seq))
		return -EBADMSG;
	if (!c->acked) {
		err = ring_post(c, SPACE);
		if (err)
			return err;
	}
	return 1;
}

const struct transport tr_efd_shm_2copy = {
	.name = "efd-shm-2copy",
	.what = "shared-memory ring + eventfd, copy in and out",
	.scens = SC_RTTS | B(SC_EPOLL) | B(SC_STREAM) | B(SC_E2E),
	.open = ring_open,
	.close = ring_close,
	.attach = ring_attach,
	.tx = ring_tx,
	.rx = ring_rx,
};

const struct transport tr_efd_shm_0copy = {
	.name = "efd-shm-0copy",
	.what = "shared-memory ring + eventfd, payload in place (floor)",
	.scens = SC_RTTS | B(SC_EPOLL) | B(SC_STREAM) | B(SC_E2E) |
		 B(SC_RTT_SLEEP),
	.open = ring_open,
	.close = ring_close,
	.attach = ring_attach,
	.tx = ring_tx,
	.rx = ring_rx,
};

const struct transport tr_futex_shm_2copy = {
	.name = "futex-shm-2copy",
	.what = "shared-memory ring + futex semaphores, copy in and out",
	.scens = SC_RTTS | B(SC_STREAM) | B(SC_E2E),
	.open = ring_open,
	.close = ring_close,
	.attach = ring_attach,
	.tx = ring_tx,
	.rx = ring_rx,
};
