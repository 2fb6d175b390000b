// SPDX-License-Identifier: GPL-2.0
/*
 * mailbox: the zero-copy buffer pool of a port.
 *
 * The pool is pool_size bytes of zeroed pages charged to the creator's
 * memory cgroup, mapped once into the kernel (vmap) for copy-out and into
 * any number of processes through mmap of a port fd.  Regions of it are
 * handed out first fit, 64-byte aligned, from the free extents kept in an
 * rbtree by offset and augmented with the largest extent of each subtree,
 * as mm/vmalloc.c keeps free address space: allocating and freeing cost
 * O(log extents) whatever the region's size.  (lib/genalloc.c, tried
 * first, sets and clears one bitmap bit per 64 bytes: 16384 atomic bit
 * operations for a 1 MiB region, which made zero-copy cost grow with size;
 * see docs/BENCHMARKS.md.)
 *
 * Nothing in the pool is trusted: every region's bookkeeping is a struct
 * mbx_region in the port's xarray, indexed by offset.  A region has exactly
 * one holder at a time: the file that allocated it, then (holder NULL) the
 * message that carries it, then the file that received it in place.  Only
 * the holder may send or release it; closing a file frees what it holds.
 *
 * LOCKING: the free extents, holder changes and freeing of regions are
 * under port->lock, which also orders the pool's waiter list.  The
 * xarray's own lock nests inside port->lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/rbtree_augmented.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/xarray.h>

#include "mbx.h"
#include "trace.h"

#define MBX_POOL_ORDER	6	/* 64-byte granules and alignment */

/**
 * struct mbx_region - one allocated region, or one free extent, of a pool
 * @offset:   from the start of the pool
 * @size:     bytes reserved, a multiple of 64
 * @len:      bytes allocated, or sent by the last send
 * @prev_len: @len before the send in flight, to undo a failed one
 * @holder:   the file holding it, or NULL while a message carries it
 * @rb:       free extent: in the pool's free tree, by offset
 * @max_size: free extent: largest @size in its subtree
 *
 * A freed region becomes a free extent, or merges into one, so giving a
 * region back never needs memory.
 */
struct mbx_region {
	u64 offset;
	u64 size;
	u64 len;
	u64 prev_len;
	struct file *holder;
	struct rb_node rb;
	u64 max_size;
};

/**
 * struct mbx_pool - the pool of a port
 * @pages:    nr_pages pages, mapped to user space by the fault handler
 * @nr_pages: pool size in pages
 * @vaddr:    kernel mapping of @pages
 * @free:     free extents, by offset; adjacent ones are always merged
 * @avail:    bytes in @free
 * @regions:  allocated struct mbx_region by offset >> MBX_POOL_ORDER
 * @waiters:  allocations waiting for space
 *
 * Everything but @pages, @nr_pages and @vaddr is under port->lock.
 */
struct mbx_pool {
	struct page **pages;
	unsigned long nr_pages;
	void *vaddr;
	struct rb_root free;
	u64 avail;
	struct xarray regions;
	struct list_head waiters;
};

static u64 mbx_extent_size(struct mbx_region *e)
{
	return e->size;
}

RB_DECLARE_CALLBACKS_MAX(static, mbx_extent_cb, struct mbx_region, rb, u64,
			 max_size, mbx_extent_size);

static struct mbx_region *mbx_extent(struct rb_node *node)
{
	return node ? rb_entry(node, struct mbx_region, rb) : NULL;
}

/* The free extent of @pool at the lowest offset with room for @size. */
static struct mbx_region *mbx_extent_first_fit(struct mbx_pool *pool,
					       u64 size)
{
	struct mbx_region *e = mbx_extent(pool->free.rb_node);
	struct mbx_region *left;

	if (!e || e->max_size < size)
		return NULL;
	/* The tree's invariant: some extent under @e has room. */
	for (;;) {
		left = mbx_extent(e->rb.rb_left);
		if (left && left->max_size >= size) {
			e = left;
			continue;
		}
		if (e->size >= size)
			return e;
		e = mbx_extent(e->rb.rb_right);
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

/* Give region @r back to the free extents, merging it with its neighbours. */
static void mbx_extent_put(struct mbx_pool *pool, struct mbx_region *r)
{
	struct rb_node **link = &pool->free.rb_node, *parent = NULL;
	struct mbx_region *prev, *next, *e;

	pool->avail += r->size;
	while (*link) {
		parent = *link;
		e = mbx_extent(parent);
		if (e->max_size < r->size)
			e->max_size = r->size;
		link = r->offset < e->offset ? &parent->rb_left :
					       &parent->rb_right;
	}
	r->max_size = r->size;
	rb_link_node(&r->rb, parent, link);
	rb_insert_augmented(&r->rb, &pool->free, &mbx_extent_cb);

	prev = mbx_extent(rb_prev(&r->rb));
	if (prev && prev->offset + prev->size == r->offset) {
		rb_erase_augmented(&r->rb, &pool->free, &mbx_extent_cb);
		prev->size += r->size;
		mbx_extent_cb_propagate(&prev->rb, NULL);
		kfree(r);
		r = prev;
	}
	next = mbx_extent(rb_next(&r->rb));
	if (next && r->offset + r->size == next->offset) {
		rb_erase_augmented(&next->rb, &pool->free, &mbx_extent_cb);
		r->size += next->size;
		mbx_extent_cb_propagate(&r->rb, NULL);
		kfree(next);
	}
}

static void mbx_pool_free_pages(struct mbx_pool *pool)
{
	unsigned long i;

	for (i = 0; i < pool->nr_pages && pool->pages[i]; i++)
		__free_page(pool->pages[i]);
	kvfree(pool->pages);
}

/*
 * Fill pool->pages with zeroed pages charged to the caller's memory cgroup.
 * One page at a time: pages allocated in larger chunks and freed one by one
 * pile up in the per-CPU page lists (tens of MiB on a test VM) before they
 * go back to the buddy allocator, which reads as memory that pools never
 * give back.
 */
static int mbx_pool_alloc_pages(struct mbx_pool *pool)
{
	unsigned long i;

	for (i = 0; i < pool->nr_pages; i++) {
		if (fatal_signal_pending(current))
			return -EINTR;
		pool->pages[i] = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO |
					    __GFP_NOWARN);
		if (!pool->pages[i])
			return -ENOMEM;
		cond_resched();
	}
	return 0;
}

/**
 * mbx_pool_create() - give a port a pool of @size bytes
 * @size: a multiple of PAGE_SIZE, not zero
 *
 * Context: process context, may sleep.
 * Return: the pool, or ERR_PTR(-ENOMEM, or -EINTR if the caller is killed
 * while a large pool is being allocated).
 */
struct mbx_pool *mbx_pool_create(u64 size)
{
	struct mbx_region *all;
	struct mbx_pool *pool;
	int ret = -ENOMEM;

	pool = kzalloc(sizeof(*pool), GFP_KERNEL_ACCOUNT);
	if (!pool)
		return ERR_PTR(-ENOMEM);
	pool->nr_pages = size >> PAGE_SHIFT;
	pool->free = RB_ROOT;
	xa_init(&pool->regions);
	INIT_LIST_HEAD(&pool->waiters);

	pool->pages = kvcalloc(pool->nr_pages, sizeof(*pool->pages),
			       GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!pool->pages)
		goto err_pool;
	ret = mbx_pool_alloc_pages(pool);
	if (ret)
		goto err_pages;
	ret = -ENOMEM;

	pool->vaddr = vmap(pool->pages, pool->nr_pages, VM_MAP, PAGE_KERNEL);
	if (!pool->vaddr)
		goto err_pages;

	all = kzalloc(sizeof(*all), GFP_KERNEL_ACCOUNT);
	if (!all)
		goto err_vmap;
	all->size = size;
	mbx_extent_put(pool, all);
	return pool;

err_vmap:
	vunmap(pool->vaddr);
err_pages:
	mbx_pool_free_pages(pool);
err_pool:
	kfree(pool);
	return ERR_PTR(ret);
}

static void __mbx_region_free(struct mbx_pool *pool, struct mbx_region *r)
{
	xa_erase(&pool->regions, r->offset >> MBX_POOL_ORDER);
	mbx_extent_put(pool, r);
}

/**
 * mbx_pool_destroy() - free a pool and every region left in it
 * @pool: the pool; nobody can reach it any more
 *
 * Context: process context, may sleep.
 */
void mbx_pool_destroy(struct mbx_pool *pool)
{
	struct mbx_region *r, *tmp;
	unsigned long idx;

	xa_for_each(&pool->regions, idx, r)
		kfree(r);
	xa_destroy(&pool->regions);
	rbtree_postorder_for_each_entry_safe(r, tmp, &pool->free, rb)
		kfree(r);
	vunmap(pool->vaddr);
	mbx_pool_free_pages(pool);
	kfree(pool);
}

/**
 * __mbx_pool_avail() - bytes of the pool held by nobody
 * @pool: the pool
 *
 * Context: port->lock held.
 * Return: free bytes.
 */
u64 __mbx_pool_avail(struct mbx_pool *pool)
{
	return pool->avail;
}

/**
 * mbx_region_data() - kernel address of a region's payload
 * @pool: the pool
 * @r:    a region of it
 *
 * Context: any.
 * Return: the address.
 */
void *mbx_region_data(struct mbx_pool *pool, struct mbx_region *r)
{
	return pool->vaddr + r->offset;
}

/*
 * The region at @offset that @file holds.  Anything else is refused:
 * -EINVAL for no region there, -EPERM for a region held by someone else.
 */
static struct mbx_region *__mbx_region_find(struct mbx_port *port,
					    struct file *file, u64 offset)
{
	struct mbx_region *r;

	lockdep_assert_held(&port->lock);
	if (offset & ((1U << MBX_POOL_ORDER) - 1) || offset >= port->pool_size)
		return ERR_PTR(-EINVAL);
	r = xa_load(&port->pool->regions, offset >> MBX_POOL_ORDER);
	if (!r)
		return ERR_PTR(-EINVAL);
	if (r->holder != file)
		return ERR_PTR(-EPERM);
	return r;
}

/**
 * __mbx_region_send() - hand a held region over to a message
 * @port:   the port, with a pool
 * @file:   the sender's file, which must hold the region
 * @offset: start of the region
 * @len:    payload bytes, at most the region's length
 *
 * Context: port->lock held.
 * Return: the region, now held by no file, or an ERR_PTR().
 */
struct mbx_region *__mbx_region_send(struct mbx_port *port, struct file *file,
				     u64 offset, u64 len)
{
	struct mbx_region *r = __mbx_region_find(port, file, offset);

	if (IS_ERR(r))
		return r;
	if (len > r->len)
		return ERR_PTR(-EINVAL);
	r->holder = NULL;
	r->prev_len = r->len;
	r->len = len;
	return r;
}

/**
 * __mbx_region_unsend() - undo __mbx_region_send() after a failed send
 * @r:    the region
 * @file: the sender, its holder again
 *
 * Context: port->lock held.
 */
void __mbx_region_unsend(struct mbx_region *r, struct file *file)
{
	r->holder = file;
	r->len = r->prev_len;
}

/**
 * __mbx_region_hold() - make @file the holder of a region
 * @r:    a region no file holds, just received in place
 * @file: the new holder
 *
 * Context: port->lock held.
 */
void __mbx_region_hold(struct mbx_region *r, struct file *file)
{
	r->holder = file;
}

/**
 * mbx_region_offset() - where a region starts in its pool
 * @r: the region
 *
 * Context: any.
 * Return: the offset.
 */
u64 mbx_region_offset(struct mbx_region *r)
{
	return r->offset;
}

/**
 * __mbx_region_put() - free a region and wake allocations waiting for space
 * @port: the port
 * @r:    a region of its pool
 *
 * Context: port->lock held.
 */
void __mbx_region_put(struct mbx_port *port, struct mbx_region *r)
{
	lockdep_assert_held(&port->lock);
	__mbx_region_free(port->pool, r);
	__mbx_complete_all(port, &port->pool->waiters, 0);
}

/**
 * __mbx_pool_release_file() - free every region a closing file holds
 * @port: the port, with a pool
 * @file: the file being released
 *
 * Context: port->lock held.
 */
void __mbx_pool_release_file(struct mbx_port *port, struct file *file)
{
	struct mbx_region *r;
	unsigned long idx;

	xa_for_each(&port->pool->regions, idx, r)
		if (r->holder == file)
			__mbx_region_put(port, r);
}

/**
 * __mbx_pool_shutdown() - fail every allocation waiting for space
 * @port: the port, with a pool
 *
 * Context: port->lock held.
 */
void __mbx_pool_shutdown(struct mbx_port *port)
{
	__mbx_complete_all(port, &port->pool->waiters, -EPIPE);
}

/*
 * Take @size bytes of free space for a new region, made of @spare if need
 * be, waiting for space as @nonblock and @deadline say.
 * Return: 0 with *@rp set, or -EPIPE, -EAGAIN, -ETIMEDOUT, -EINTR,
 * -ERESTARTSYS.
 */
static int __mbx_pool_reserve(struct mbx_port *port, u64 size, bool nonblock,
			      ktime_t *deadline, struct mbx_region *spare,
			      struct mbx_region **rp)
{
	struct mbx_pool *pool = port->pool;
	struct mbx_waiter w;
	struct mbx_region *e;
	int ret;

	lockdep_assert_held(&port->lock);
	for (;;) {
		if (port->shutdown)
			return -EPIPE;
		e = mbx_extent_first_fit(pool, size);
		if (e) {
			*rp = mbx_extent_take(pool, e, size, spare);
			return 0;
		}
		if (nonblock)
			return -EAGAIN;
		if (mbx_expired(deadline))
			return -ETIMEDOUT;

		w.task = current;
		w.state = MBX_WAITING;
		list_add_tail(&w.node, &pool->waiters);
		ret = __mbx_wait(port, &w, MBX_WAIT_ALLOC, deadline);
		if (ret)
			return ret;
	}
}

/**
 * mbx_pool_alloc() - allocate - allocate a region for @file, waiting for space
 * @port:     the port, with a pool
 * @file:     the future holder
 * @len:      1..pool size
 * @nonblock: fail with -EAGAIN rather than wait
 * @deadline: absolute CLOCK_MONOTONIC deadline, or NULL
 * @offset:   on success, the region's offset
 *
 * Context: process context, may sleep.
 * Return: 0, or -EINVAL, -EAGAIN, -ETIMEDOUT, -EINTR, -ERESTARTSYS,
 * -EPIPE after shutdown, -ENOMEM.
 */
int mbx_pool_alloc(struct mbx_port *port, struct file *file, u64 len,
		   bool nonblock, ktime_t *deadline, u64 *offset)
{
	struct mbx_pool *pool = port->pool;
	struct mbx_region *spare, *r = NULL;
	int ret;

	if (!len || len > port->pool_size)
		return -EINVAL;
	spare = kzalloc(sizeof(*spare), GFP_KERNEL_ACCOUNT);
	if (!spare)
		return -ENOMEM;

	spin_lock(&port->lock);
	ret = __mbx_pool_reserve(port, ALIGN(len, 1U << MBX_POOL_ORDER),
				 nonblock, deadline, spare, &r);
	mbx_port_unlock(port);
	if (r != spare)
		kfree(spare);
	if (ret)
		return ret;

	r->len = len;
	r->prev_len = 0;
	r->holder = file;
	/*
	 * A freed region leaves the xarray before it becomes free, so the
	 * slot is free; until it is filled, nobody can name the region.
	 */
	ret = xa_insert(&pool->regions, r->offset >> MBX_POOL_ORDER, r,
			GFP_KERNEL_ACCOUNT);
	if (ret) {
		spin_lock(&port->lock);
		mbx_extent_put(pool, r);
		__mbx_complete_all(port, &pool->waiters, 0);
		mbx_port_unlock(port);
		return ret;
	}
	*offset = r->offset;
	return 0;
}

/**
 * mbx_pool_release() - give back a region @file holds
 * @port:   the port, with a pool
 * @file:   the holder
 * @offset: start of the region
 * @len:    the length it was allocated, sent or received with
 *
 * Context: process context.
 * Return: 0, -EINVAL or -EPERM.
 */
int mbx_pool_release(struct mbx_port *port, struct file *file, u64 offset,
		     u64 len)
{
	struct mbx_region *r;
	int ret = 0;

	spin_lock(&port->lock);
	r = __mbx_region_find(port, file, offset);
	if (IS_ERR(r))
		ret = PTR_ERR(r);
	else if (len != r->len)
		ret = -EINVAL;
	else
		__mbx_region_put(port, r);
	mbx_port_unlock(port);
	return ret;
}

static vm_fault_t mbx_pool_fault(struct vm_fault *vmf)
{
	struct mbx_pool *pool = vmf->vma->vm_private_data;

	if (vmf->pgoff >= pool->nr_pages)
		return VM_FAULT_SIGBUS;
	vmf->page = pool->pages[vmf->pgoff];
	get_page(vmf->page);
	return 0;
}

static const struct vm_operations_struct mbx_pool_vm_ops = {
	.fault = mbx_pool_fault,
};

/* vm_insert_pages() of the whole pool, a batch of pages at a time. */
static int mbx_pool_insert_pages(struct mbx_pool *pool,
				 struct vm_area_struct *vma)
{
	unsigned long done = 0;

	while (done < pool->nr_pages) {
		unsigned long num = pool->nr_pages - done;
		int ret;

		ret = vm_insert_pages(vma, vma->vm_start + (done << PAGE_SHIFT),
				      pool->pages + done, &num);
		if (ret)
			return ret;
		/* num is what was left over; whatever went is done. */
		done = pool->nr_pages - num;
		cond_resched();
	}
	return 0;
}

/**
 * mbx_pool_mmap() - map a whole pool, shared, at offset 0
 * @pool:     the pool
 * @vma:      the new mapping
 * @writable: false for a file that may not send: the mapping can then
 *            never become writable
 *
 * The caller keeps @pool alive as long as @vma (see mbx_port_mmap()).
 *
 * Context: mmap_lock held for writing.
 * Return: 0, -EINVAL for a private or partial mapping, -EACCES for a
 * writable mapping that may not be.
 */
int mbx_pool_mmap(struct mbx_pool *pool, struct vm_area_struct *vma,
		  bool writable)
{
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (vma->vm_pgoff || vma_pages(vma) != pool->nr_pages)
		return -EINVAL;
	/*
	 * A receive-only file is opened read-only, so do_mmap() has already
	 * refused PROT_WRITE; make sure that mprotect() cannot add it either.
	 */
	if (!writable) {
		if (vma->vm_flags & VM_WRITE)
			return -EACCES;
		vm_flags_clear(vma, VM_MAYWRITE);
	}
	vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &mbx_pool_vm_ops;
	vma->vm_private_data = pool;
	/*
	 * Map every page now, in one go, rather than one fault per page
	 * later; the fault handler serves what is zapped afterwards
	 * (madvise(MADV_DONTNEED), a child's copy of the mapping).
	 */
	return mbx_pool_insert_pages(pool, vma);
}
