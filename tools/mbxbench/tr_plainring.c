// SPDX-License-Identifier: GPL-2.0
/*
 * mbxbench: plain-ring, the floor of the ring transports: a hand-written
 * single-producer single-consumer ring of variable-length records in a
 * memfd mapped by both processes, what a careful user writes instead of a
 * mailbox ring port (and what it gives up: permissions, clean-up, poll,
 * end of stream).
 *
 * Layout: a page of positions, each on a cache line of its own, then the
 * record area (a power of two) mapped twice in a row, so that a record
 * that wraps is still contiguous (as the BPF ring buffer does).  A record
 * is an 8-byte length, then the payload rounded up to 8 bytes.  Positions
 * are byte counts that only grow.  The producer writes a record, then
 * publishes its position with a release store; the consumer reads that
 * position with an acquire load, reads the record and publishes its own
 * position the same way to free the space.  Each side keeps its last view
 * of the other's position and reads the shared one only when that view
 * runs out (AF_XDP's cached producer and consumer).
 *
 * Waiting: spin up to RING_SPIN_NS reading the other side's
 * position, then set a need-wakeup flag, look again and sleep in
 * FUTEX_WAIT on the low 32 bits of that position.  The other side, after
 * publishing, makes a FUTEX_WAKE only if it finds the flag set (and takes
 * it back to 0): no system call while the peer is awake.  Flag store then
 * position load on one side, position store then flag load on the other,
 * each pair split by a sequentially consistent fence: either the sleeper
 * sees the new position or the waker sees the flag, and FUTEX_WAIT
 * compares the word before it sleeps.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"

/* A word on a cache line of its own. */
struct pr_line {
	atomic_ullong v;
	char pad[SLOT_ALIGN - sizeof(atomic_ullong)];
};

/* The positions page; who writes each line. */
struct pr_hdr {
	struct pr_line prod;		/* producer: its position */
	struct pr_line cons;		/* consumer: its position */
	struct pr_line cons_waits;	/* consumer: asleep on prod (waker: 0) */
	struct pr_line prod_waits;	/* producer: asleep on cons (waker: 0) */
};

#define PR_HDR		4096UL
#define PR_REC_HDR	8UL

static struct pr_hdr *pr_hdr(const struct chan *c)
{
	return (struct pr_hdr *)c->shm;
}

static char *pr_rec(const struct chan *c, uint64_t pos)
{
	return c->shm + PR_HDR + (pos & (c->ring_size - 1));
}

static uint64_t pr_rec_len(uint64_t len)
{
	return PR_REC_HDR + align_up(len, 8);
}

/* The futex word of a position: its low 32 bits (the second half on big-endian). */
static uint32_t *pr_futex(atomic_ullong *pos)
{
	return (uint32_t *)pos + (htole32(1) != 1);
}

/*
 * Wait until the other side's position, @peer, reaches @target: spin, then
 * sleep with @flag set.  Return: the position seen.
 */
static uint64_t pr_wait(atomic_ullong *peer, atomic_ullong *flag,
			uint64_t target)
{
	uint64_t pos, end = now_ns() + RING_SPIN_NS;
	unsigned int i;

	for (i = 1;; i++) {
		pos = atomic_load_explicit(peer, memory_order_acquire);
		if (pos >= target)
			return pos;
		if (!(i % 64) && now_ns() >= end)
			break;
		cpu_relax();
	}
	for (;;) {
		atomic_store_explicit(flag, 1, memory_order_relaxed);
		atomic_thread_fence(memory_order_seq_cst);
		pos = atomic_load_explicit(peer, memory_order_acquire);
		if (pos >= target) {
			atomic_store_explicit(flag, 0, memory_order_relaxed);
			return pos;
		}
		/* EAGAIN (moved already), EINTR, a wake-up: look again. */
		syscall(SYS_futex, pr_futex(peer), FUTEX_WAIT, (uint32_t)pos,
			NULL, NULL, 0);
	}
}

/* Publish @val in @pos; wake the other side if it sleeps on it. */
static void pr_publish(atomic_ullong *pos, uint64_t val, atomic_ullong *flag)
{
	atomic_store_explicit(pos, val, memory_order_release);
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(flag, memory_order_relaxed) &&
	    atomic_exchange_explicit(flag, 0, memory_order_relaxed))
		syscall(SYS_futex, pr_futex(pos), FUTEX_WAKE, 1, NULL, NULL, 0);
}

/*
 * A memfd of the positions page and the record area; the record area is
 * mapped a second time right after the first.
 */
static int pr_open(struct chan *c)
{
	size_t size = ring_bytes(c);
	char *base = MAP_FAILED;
	int fd, err;

	fd = memfd_create("mbxbench-plain-ring", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, PR_HDR + size))
		goto fail;
	base = mmap(NULL, PR_HDR + 2 * size, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		goto fail;
	if (mmap(base, PR_HDR + size, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED ||
	    mmap(base + PR_HDR + size, size, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, fd, PR_HDR) == MAP_FAILED)
		goto fail;
	close(fd);
	c->shm = base;
	c->shm_len = PR_HDR + 2 * size;
	c->ring_size = size;
	c->fd[RX] = -1;
	c->fd[TX] = -1;
	return 0;
fail:
	err = -errno;
	if (base != MAP_FAILED)
		munmap(base, PR_HDR + 2 * size);
	close(fd);
	return err;
}

static void pr_close(struct chan *c)
{
	munmap(c->shm, c->shm_len);
}

static int pr_attach(struct chan *c, int side)
{
	attach_buf(c, side);
	/* Pre-fault the records in this process. */
	if (side == TX)
		memset(c->shm + PR_HDR, 0, c->ring_size);
	else
		check(c->shm + PR_HDR, c->ring_size, 0);
	c->head = 0;
	c->tail = 0;
	c->avail = 0;	/* the other side's position, as last seen */
	return 0;
}

static int pr_tx(struct chan *c, uint64_t seq)
{
	struct pr_hdr *h = pr_hdr(c);
	uint64_t need = pr_rec_len(c->size);
	char *rec;

	if (need > c->ring_size)
		return -EMSGSIZE;
	if (c->tail + need - c->avail > c->ring_size)
		c->avail = pr_wait(&h->cons.v, &h->prod_waits.v,
				   c->tail + need - c->ring_size);
	rec = pr_rec(c, c->tail);
	*(uint64_t *)rec = c->size;
	if (c->e2e)
		fill(c->buf, c->size, seq);
	memcpy(rec + PR_REC_HDR, c->buf, c->size);
	c->tail += need;
	pr_publish(&h->prod.v, c->tail, &h->cons_waits.v);
	return 1;
}

static int pr_rx(struct chan *c, uint64_t seq)
{
	struct pr_hdr *h = pr_hdr(c);
	uint64_t len;
	char *rec;

	if (c->avail == c->head)
		c->avail = pr_wait(&h->prod.v, &h->cons_waits.v, c->head + 1);
	rec = pr_rec(c, c->head);
	/* Read once; even a careful user's own peer gets its lengths checked. */
	len = __atomic_load_n((uint64_t *)rec, __ATOMIC_RELAXED);
	if (len > c->buf_len || pr_rec_len(len) > c->avail - c->head)
		return -EPROTO;
	memcpy(c->buf, rec + PR_REC_HDR, len);
	c->head += pr_rec_len(len);
	pr_publish(&h->cons.v, c->head, &h->prod_waits.v);
	if (c->e2e && check(c->buf, c->size, seq))
		return -EBADMSG;
	return 1;
}

const struct transport tr_plain_ring = {
	.name = "plain-ring",
	.what = "hand-written SPSC ring of records (memfd), spin then futex + need-wakeup (floor)",
	.scens = B(SC_RTT2) | B(SC_STREAM) | B(SC_E2E) | B(SC_RTT_SLEEP) |
		 B(SC_IDLE),
	.open = pr_open,
	.close = pr_close,
	.attach = pr_attach,
	.tx = pr_tx,
	.rx = pr_rx,
};
