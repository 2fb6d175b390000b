// SPDX-License-Identifier: GPL-2.0
/*
 * mailbox: the free space of a pool.
 *
 * Regions are handed out first fit, 64-byte aligned, from the free extents
 * kept in an rbtree by offset and augmented with the largest extent of each
 * subtree, as mm/vmalloc.c keeps free address space: allocating and
 * freeing cost O(log extents) whatever the region's size.  (lib/genalloc.c,
 * tried first, sets and clears one bitmap bit per 64 bytes: 16384 atomic
 * bit operations for a 1 MiB region, which made zero-copy cost grow with
 * size; see docs/BENCHMARKS.md.)  Each subtree also knows the most room
 * any of its extents has from a page boundary, so that a region of whole
 * pages is found first fit in O(log extents) too, however the pool is cut
 * up.  A free extent is a struct mbx_region (pool.h); adjacent ones are
 * always merged.
 *
 * LOCKING: the free tree and pool->avail are under port->lock (pool.c).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/rbtree_augmented.h>
#include <linux/slab.h>

#include "pool.h"

/* Bytes of free extent @e from its first page boundary on, if any. */
static u64 mbx_extent_page_room(struct mbx_region *e)
{
	u64 start = ALIGN(e->offset, PAGE_SIZE), end = e->offset + e->size;

	return start < end ? end - start : 0;
}

/* Set @e->max from @e and its children; true if it was so already. */
static bool mbx_extent_compute_max(struct mbx_region *e, bool exit)
{
	struct mbx_extent_max max = { e->size, mbx_extent_page_room(e) };
	struct mbx_region *child;

	child = mbx_rb_region(e->rb.rb_left);
	if (child) {
		max.size = max(max.size, child->max.size);
		max.room = max(max.room, child->max.room);
	}
	child = mbx_rb_region(e->rb.rb_right);
	if (child) {
		max.size = max(max.size, child->max.size);
		max.room = max(max.room, child->max.room);
	}
	if (exit && e->max.size == max.size && e->max.room == max.room)
		return true;
	e->max = max;
	return false;
}

RB_DECLARE_CALLBACKS(static, mbx_extent_cb, struct mbx_region, rb, max,
		     mbx_extent_compute_max);

/* The room @e has (@pages: from a page boundary). */
static u64 mbx_extent_room(struct mbx_region *e, bool pages)
{
	return pages ? mbx_extent_page_room(e) : e->size;
}

/* The most room an extent of @e's subtree has (@pages: as above). */
static u64 mbx_extent_max_room(struct mbx_region *e, bool pages)
{
	return pages ? e->max.room : e->max.size;
}

/*
 * The free extent of @pool at the lowest offset with room for @size bytes
 * (@pages: from a page boundary).
 */
static struct mbx_region *mbx_extent_first_fit(struct mbx_pool *pool,
					       u64 size, bool pages)
{
	struct mbx_region *e = mbx_rb_region(pool->free.rb_node);
	struct mbx_region *left;

	if (!e || mbx_extent_max_room(e, pages) < size)
		return NULL;
	/* The tree's invariant: some extent under @e has room. */
	for (;;) {
		left = mbx_rb_region(e->rb.rb_left);
		if (left && mbx_extent_max_room(left, pages) >= size) {
			e = left;
			continue;
		}
		if (mbx_extent_room(e, pages) >= size)
			return e;
		e = mbx_rb_region(e->rb.rb_right);
	}
}

/*
 * Take @size bytes from the start of free extent @e.  Return the region
 * reserved: @e itself if it fits exactly, else @spare, which the caller
 * allocated beforehand.
 */
static struct mbx_region *mbx_extent_take(struct mbx_pool *pool,
					  struct mbx_region *e, u64 size,
					  struct mbx_region *spare)
{
	pool->avail -= size;
	if (e->size == size) {
		rb_erase_augmented(&e->rb, &pool->free, &mbx_extent_cb);
		return e;
	}
	/* Still between its neighbours: the tree's order holds. */
	spare->offset = e->offset;
	spare->size = size;
	e->offset += size;
	e->size -= size;
	mbx_extent_cb_propagate(&e->rb, NULL);
	return spare;
}

/*
 * Take @size bytes (whole pages) from the first page boundary of free
 * extent @e, which has room for them.  The head before the boundary stays
 * in @e; the tail after the region, if any, becomes a free extent made of
 * spares[1].  Return the region reserved (@e or spares[0]); the spares
 * used are set to NULL.
 */
static struct mbx_region *mbx_extent_take_pages(struct mbx_pool *pool,
						struct mbx_region *e, u64 size,
						struct mbx_region **spares)
{
	u64 head = ALIGN(e->offset, PAGE_SIZE) - e->offset;
	struct mbx_region *r, *tail = spares[1];

	if (!head) {
		r = mbx_extent_take(pool, e, size, spares[0]);
		if (r == spares[0])
			spares[0] = NULL;
		return r;
	}
	r = spares[0];
	spares[0] = NULL;
	r->offset = e->offset + head;
	r->size = size;
	tail->offset = r->offset + size;
	tail->size = e->size - head - size;
	e->size = head;
	mbx_extent_cb_propagate(&e->rb, NULL);
	pool->avail -= size + tail->size;
	if (tail->size) {
		/* Neither neighbour is adjacent: it stays a node of its own. */
		mbx_extent_put(pool, tail);
		spares[1] = NULL;
	}
	return r;
}

/**
 * mbx_extent_put() - give a region back to the free extents
 * @pool: the pool
 * @r:    a region in neither of its trees, or a new extent
 *
 * @r is merged with its neighbours (and then freed) if they are adjacent.
 *
 * Context: port->lock held, or a pool nobody else can reach.
 */
void mbx_extent_put(struct mbx_pool *pool, struct mbx_region *r)
{
	struct rb_node **link = &pool->free.rb_node, *parent = NULL;
	struct mbx_region *prev, *next, *e;

	pool->avail += r->size;
	r->max.size = r->size;
	r->max.room = mbx_extent_page_room(r);
	/* On the way down, as rb_insert_augmented() wants. */
	while (*link) {
		parent = *link;
		e = mbx_rb_region(parent);
		e->max.size = max(e->max.size, r->max.size);
		e->max.room = max(e->max.room, r->max.room);
		link = r->offset < e->offset ? &parent->rb_left :
					       &parent->rb_right;
	}
	rb_link_node(&r->rb, parent, link);
	rb_insert_augmented(&r->rb, &pool->free, &mbx_extent_cb);

	prev = mbx_rb_region(rb_prev(&r->rb));
	if (prev && prev->offset + prev->size == r->offset) {
		rb_erase_augmented(&r->rb, &pool->free, &mbx_extent_cb);
		prev->size += r->size;
		mbx_extent_cb_propagate(&prev->rb, NULL);
		kfree(r);
		r = prev;
	}
	next = mbx_rb_region(rb_next(&r->rb));
	if (next && r->offset + r->size == next->offset) {
		rb_erase_augmented(&next->rb, &pool->free, &mbx_extent_cb);
		r->size += next->size;
		mbx_extent_cb_propagate(&r->rb, NULL);
		kfree(next);
	}
}

/**
 * mbx_extent_alloc() - take free space for a new region
 * @pool:   the pool
 * @size:   bytes, a multiple of 64 (of PAGE_SIZE with @pages)
 * @pages:  whole pages from a page boundary, so that it can be sealed
 * @spares: two structs the caller allocated (the second only for @pages),
 *          for the region and a split extent's tail; those used are set
 *          to NULL
 *
 * Context: port->lock held.
 * Return: the region, in neither tree, or NULL if no extent has room.
 */
struct mbx_region *mbx_extent_alloc(struct mbx_pool *pool, u64 size,
				    bool pages, struct mbx_region **spares)
{
	struct mbx_region *e, *r;

	e = mbx_extent_first_fit(pool, size, pages);
	if (!e)
		return NULL;
	if (pages)
		return mbx_extent_take_pages(pool, e, size, spares);
	r = mbx_extent_take(pool, e, size, spares[0]);
	if (r == spares[0])
		spares[0] = NULL;
	return r;
}
