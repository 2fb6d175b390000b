/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mailbox: a ring port's ring, shared by ring.c (the ring: its pages, the
 * roles, sleeping and waking, poll, status) and ring_map.c (its mappings).
 * Locking: see ring.c.
 */
#ifndef MBX_RING_H
#define MBX_RING_H

#include <linux/fs.h>
#include <linux/types.h>
#include <linux/wait.h>

#include "mbx.h"

/**
 * struct mbx_ring - the ring of a port
 * @size:       bytes of records, a power of two, at least a page
 * @nr_pages:   @size in pages
 * @pages:      2 * @nr_pages: the record pages, then the same again
 * @prod_page:  producer page
 * @cons_page:  consumer page
 * @stat_page:  status page
 * @prod_pos:   in @prod_page (kernel address), and so on
 * @prod_flags: producer flags
 * @cons_pos:   consumer position
 * @cons_flags: consumer flags
 * @status:     the status word, written under port->lock
 * @producer:   the producer's file, or NULL; under port->lock
 * @consumer:   the consumer's file, or NULL; under port->lock
 * @held:       the roles ever held (MBX_RING_ROLE_*); under port->lock
 * @ends:       how many times a role ended; under port->lock
 * @wq:         sides sleeping in MBX_IOC_RING_ENTER
 */
struct mbx_ring {
	u64 size;
	unsigned long nr_pages;
	struct page **pages;
	struct page *prod_page;
	struct page *cons_page;
	struct page *stat_page;
	u64 *prod_pos;
	u32 *prod_flags;
	u64 *cons_pos;
	u32 *cons_flags;
	u32 *status;
	struct file *producer;
	struct file *consumer;
	u32 held;
	u32 ends;
	wait_queue_head_t wq;
};

/* The roles @file holds.  Racy without port->lock, which is fine for a peek. */
static inline u32 mbx_ring_roles(struct mbx_ring *ring, struct file *file)
{
	return (READ_ONCE(ring->producer) == file ?
		MBX_RING_ROLE_PRODUCER : 0) |
	       (READ_ONCE(ring->consumer) == file ?
		MBX_RING_ROLE_CONSUMER : 0);
}

/* ring_map.c */
int mbx_ring_unpinned(struct mbx_ring *ring, u32 role);

#endif /* MBX_RING_H */
