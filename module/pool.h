/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mailbox: a pool's regions and free extents, shared by pool.c (the pool:
 * its pages, regions, holders and waiters) and extent.c (its free space).
 * Locking: see pool.c.
 */
#ifndef MBX_POOL_H
#define MBX_POOL_H

#include <linux/list.h>
#include <linux/rbtree.h>
#include <linux/types.h>

#include "mbx.h"

#define MBX_POOL_ORDER	6	/* 64-byte granules and alignment */

/**
 * struct mbx_extent_max - what the largest free extents of a subtree hold
 * @size: the largest extent's size
 * @room: the most bytes an extent has from its first page boundary on
 */
struct mbx_extent_max {
	u64 size;
	u64 room;
};

/**
 * struct mbx_region - one allocated region, or one free extent, of a pool
 * @offset:   from the start of the pool
 * @size:     bytes reserved, a multiple of 64
 * @rb:       in the pool's tree of allocated regions or of free extents,
 *            by offset
 * @len:      bytes allocated, or sent by the last send
 * @prev_len: @len before the send in flight, to undo a failed one
 * @holder:   the file holding it, or NULL while a message carries it
 * @held:     in its holder's list of regions (struct mbx_file), while held
 * @shares:   topic: the message carrying it and the subscriptions holding
 *            it in place (__mbx_region_share()); 0 otherwise
 * @sealed:   its pages are sealed, until it is freed
 * @max:      free extent: the largest of its subtree (extent.c)
 *
 * A freed region becomes a free extent, or merges into one, so giving a
 * region back never needs memory.  A free extent's @max takes the place of
 * @len and @prev_len; @holder, @shares and @sealed are left NULL, 0 and
 * false by the region that was freed, and set again by mbx_pool_alloc().
 */
struct mbx_region {
	u64 offset;
	u64 size;
	struct rb_node rb;
	union {
		struct {
			u64 len;
			u64 prev_len;
		};
		struct mbx_extent_max max;
	};
	struct file *holder;
	struct list_head held;
	u32 shares;
	bool sealed;
};

/**
 * struct mbx_pool - the pool of a port
 * @pages:    nr_pages pages, mapped to user space by the fault handler
 * @nr_pages: pool size in pages
 * @vaddr:    kernel mapping of @pages
 * @seal:     the address space every mapping of @pages goes through
 * @free:     free extents, by offset; adjacent ones are always merged
 * @avail:    bytes in @free
 * @used:     allocated regions, by offset
 * @waiters:  allocations waiting for space
 *
 * Everything but @pages, @nr_pages, @vaddr and @seal is under port->lock.
 */
struct mbx_pool {
	struct page **pages;
	unsigned long nr_pages;
	void *vaddr;
	struct mbx_seal *seal;
	struct rb_root free;
	u64 avail;
	struct rb_root used;
	struct list_head waiters;
};

static inline struct mbx_region *mbx_rb_region(struct rb_node *node)
{
	return node ? rb_entry(node, struct mbx_region, rb) : NULL;
}

/* extent.c */
struct mbx_region *mbx_extent_alloc(struct mbx_pool *pool, u64 size,
				    bool pages, struct mbx_region **spares);
void mbx_extent_put(struct mbx_pool *pool, struct mbx_region *r);

#endif /* MBX_POOL_H */
