// SPDX-License-Identifier: GPL-2.0
/*
 * mailbox: the zero-copy buffer pool of a port.
 *
 * The pool is pool_size bytes of zeroed pages charged to the creator's
 * memory cgroup, mapped once into the kernel (vmap) for copy-out and into
 * any number of processes through mmap of a port fd.  Regions of it are
 * handed out from its free extents (extent.c).
 *
 * Nothing in the pool is trusted: every region's bookkeeping is a struct
 * mbx_region in the pool's tree of allocated regions, by offset, linked
 * and unlinked without allocating.  (An xarray by offset, used first,
 * allocated and freed radix-tree nodes for each region far into a large
 * pool: zero copy cost more at large sizes.)  A free extent is the same
 * struct in the other tree.  A region has exactly one holder at a time:
 * the file that allocated it, then (holder NULL) the message that carries
 * it, then the file that received it in place.  Only the holder may send
 * or release it; closing a file frees what it holds, found on the file's
 * own list (struct mbx_file), not in the tree.  A topic's message
 * instead shares its region with every subscription that takes it in
 * place (@shares, __mbx_region_share()), holder NULL throughout.
 *
 * A region sent with MBX_SEND_SEALED is sealed from that send until it is
 * freed: its pages are read-only in every mapping (seal.c).  Only a region
 * that starts on a page and covers whole pages can be sealed, so that no
 * other region shares its pages; MBX_BUF_PAGES allocates such regions.
 *
 * LOCKING: both trees, holder and share changes and freeing of regions are
 * under port->lock, which also orders the pool's waiter list.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "mbx.h"
#include "pool.h"
#include "trace.h"

/* Put allocated region @r in @pool's tree of them. */
static void mbx_region_link(struct mbx_pool *pool, struct mbx_region *r)
{
	struct rb_node **link = &pool->used.rb_node, *parent = NULL;

	while (*link) {
		parent = *link;
		link = r->offset < mbx_rb_region(parent)->offset ?
		       &parent->rb_left : &parent->rb_right;
	}
	rb_link_node(&r->rb, parent, link);
	rb_insert_color(&r->rb, &pool->used);
}

/* The allocated region of @pool that starts at @offset, or NULL. */
static struct mbx_region *mbx_region_lookup(struct mbx_pool *pool,
					    u64 offset)
{
	struct rb_node *node = pool->used.rb_node;
	struct mbx_region *r;

	while (node) {
		r = mbx_rb_region(node);
		if (offset == r->offset)
			return r;
		node = offset < r->offset ? node->rb_left : node->rb_right;
	}
	return NULL;
}

/* Make @file (or NULL: a message carries it) the holder of @r. */
static void __mbx_region_set_holder(struct mbx_region *r, struct file *file)
{
	struct mbx_file *mf;

	if (r->holder)
		list_del(&r->held);
	r->holder = file;
	if (file) {
		mf = file->private_data;
		list_add_tail(&r->held, &mf->held);
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
	pool->used = RB_ROOT;
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

	pool->seal = mbx_seal_create(pool->pages, pool->nr_pages);
	if (IS_ERR(pool->seal)) {
		ret = PTR_ERR(pool->seal);
		goto err_vmap;
	}

	all = kzalloc(sizeof(*all), GFP_KERNEL_ACCOUNT);
	if (!all)
		goto err_seal;
	all->size = size;
	mbx_extent_put(pool, all);
	return pool;

err_seal:
	mbx_seal_destroy(pool->seal);
err_vmap:
	vunmap(pool->vaddr);
err_pages:
	mbx_pool_free_pages(pool);
err_pool:
	kfree(pool);
	return ERR_PTR(ret);
}

/* Mark a region's pages sealed, or not: the region covers whole pages. */
static void __mbx_region_mark(struct mbx_pool *pool, struct mbx_region *r,
			      bool on)
{
	r->sealed = on;
	__mbx_seal_mark(pool->seal, r->offset >> PAGE_SHIFT,
			r->size >> PAGE_SHIFT, on);
}

static void __mbx_region_free(struct mbx_pool *pool, struct mbx_region *r)
{
	__mbx_region_set_holder(r, NULL);
	rb_erase(&r->rb, &pool->used);
	/* Its pages become writable again through their next write fault. */
	if (r->sealed)
		__mbx_region_mark(pool, r, false);
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

	/* Every file was released, freeing what it held: messages' are left. */
	rbtree_postorder_for_each_entry_safe(r, tmp, &pool->used, rb) {
		WARN_ON_ONCE(r->holder);
		kfree(r);
	}
	rbtree_postorder_for_each_entry_safe(r, tmp, &pool->free, rb)
		kfree(r);
	mbx_seal_destroy(pool->seal);
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
	r = mbx_region_lookup(port->pool, offset);
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
	__mbx_region_set_holder(r, NULL);
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
	__mbx_region_set_holder(r, file);
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
	__mbx_region_set_holder(r, file);
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
 * mbx_region_len() - the length of a region, as its last send said
 * @r: the region
 *
 * Context: port->lock held, or the region held by the caller.
 * Return: bytes.
 */
u64 mbx_region_len(struct mbx_region *r)
{
	return r->len;
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
 * __mbx_region_share() - one more user of a region a topic shares
 * @r: a region a topic's message carries
 *
 * A topic's message shares its region with every subscription that takes
 * it in place, and the region outlives the message while one of them
 * holds it: the message itself need not be kept for that.  The region
 * goes back to the pool when the last of them lets go of it
 * (__mbx_region_unshare()).
 *
 * Context: port->lock held.
 */
void __mbx_region_share(struct mbx_region *r)
{
	r->shares++;
}

/**
 * __mbx_region_unshare() - a user of a shared region lets go of it
 * @port: the port
 * @r:    a region of its pool, shared (__mbx_region_share())
 *
 * Context: port->lock held.
 */
void __mbx_region_unshare(struct mbx_port *port, struct mbx_region *r)
{
	lockdep_assert_held(&port->lock);
	if (WARN_ON_ONCE(!r->shares))
		return;
	if (!--r->shares)
		__mbx_region_put(port, r);
}

/* Regions a closing file frees per hold of port->lock. */
#define MBX_RELEASE_BATCH	256

/**
 * __mbx_pool_release_file() - free every region a closing file holds
 * @port: the port, with a pool
 * @file: the file being released
 *
 * A file may hold a region per 64 bytes of the pool: the lock is dropped
 * every MBX_RELEASE_BATCH of them.  Nobody else can take or add to what
 * the file holds meanwhile: only the holder may, and it is being released.
 *
 * Context: process context, port->lock held; dropped and taken again.
 */
void __mbx_pool_release_file(struct mbx_port *port, struct file *file)
	__must_hold(&port->lock)
{
	struct mbx_file *mf = file->private_data;
	struct mbx_region *r;
	unsigned int n = 0;

	while (!list_empty(&mf->held)) {
		r = list_first_entry(&mf->held, struct mbx_region, held);
		__mbx_region_put(port, r);
		if (++n % MBX_RELEASE_BATCH)
			continue;
		mbx_port_unlock(port);
		cond_resched();
		spin_lock(&port->lock);
	}
}

/**
 * __mbx_pool_hangup() - fail every allocation waiting for space with
 * -EPIPE: the port is shut down, or nobody can receive what holds it
 * @port: the port, with a pool
 *
 * Context: port->lock held.
 */
void __mbx_pool_hangup(struct mbx_port *port)
{
	__mbx_complete_all(port, &port->pool->waiters, -EPIPE);
}

/*
 * Take @size bytes of free space for a new region (whole pages from a page
 * boundary if @pages), made of @spares if need be (those used are set to
 * NULL), waiting for space as @nonblock and @deadline say.
 * Return: 0 with *@rp set, or -EPIPE, -EAGAIN, -ETIMEDOUT, -EINTR,
 * -ERESTARTSYS.
 */
static int __mbx_pool_reserve(struct mbx_port *port, u64 size, bool pages,
			      bool nonblock, ktime_t *deadline,
			      struct mbx_region **spares,
			      struct mbx_region **rp)
{
	struct mbx_pool *pool = port->pool;
	struct mbx_waiter w;
	int ret;

	lockdep_assert_held(&port->lock);
	for (;;) {
		if (port->shutdown)
			return -EPIPE;
		*rp = mbx_extent_alloc(pool, size, pages, spares);
		if (*rp)
			return 0;
		/* What fills the pool will never be received: as a send. */
		if (__mbx_no_receivers(port))
			return -EPIPE;
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
 * mbx_pool_alloc() - allocate a region for @file, waiting for space
 * @port:     the port, with a pool
 * @file:     the future holder
 * @len:      1..pool size
 * @pages:    start on a page boundary and reserve whole pages
 *            (MBX_BUF_PAGES), so that the region can be sealed
 * @nonblock: fail with -EAGAIN rather than wait
 * @deadline: absolute CLOCK_MONOTONIC deadline, or NULL
 * @offset:   on success, the region's offset
 *
 * Context: process context, may sleep.
 * Return: 0, or -EINVAL, -EAGAIN, -ETIMEDOUT, -EINTR, -ERESTARTSYS,
 * -EPIPE after shutdown, -ENOMEM.
 */
int mbx_pool_alloc(struct mbx_port *port, struct file *file, u64 len,
		   bool pages, bool nonblock, ktime_t *deadline, u64 *offset)
{
	struct mbx_pool *pool = port->pool;
	struct mbx_region *spares[2] = {}, *r = NULL;
	int ret = -ENOMEM;

	if (!len || len > port->pool_size)
		return -EINVAL;
	spares[0] = kzalloc(sizeof(*spares[0]), GFP_KERNEL_ACCOUNT);
	if (!spares[0])
		goto out;
	/* A page region may leave a head and a tail of free space. */
	if (pages) {
		spares[1] = kzalloc(sizeof(*spares[1]), GFP_KERNEL_ACCOUNT);
		if (!spares[1])
			goto out;
	}

	spin_lock(&port->lock);
	ret = __mbx_pool_reserve(port, pages ? PAGE_ALIGN(len) :
				 ALIGN(len, 1U << MBX_POOL_ORDER), pages,
				 nonblock, deadline, spares, &r);
	if (!ret) {
		/* A free extent's @max was where @len and @prev_len are. */
		r->len = len;
		r->prev_len = 0;
		__mbx_region_set_holder(r, file);
		mbx_region_link(pool, r);
		*offset = r->offset;
	}
	mbx_port_unlock(port);
out:
	kfree(spares[0]);
	kfree(spares[1]);
	return ret;
}

/**
 * __mbx_pool_seal() - take a region @file holds for a sealed send, and seal it
 * @port:   the port, with a pool
 * @file:   the sender, which holds the region
 * @offset: start of the region
 * @len:    payload bytes, at most the region's length
 *
 * The region is taken as __mbx_region_send() takes it, so nobody can
 * release or send it while it is being sealed.  A region sealed already
 * (received in place and sent on) stays so.  If the send then fails the
 * sender holds the region again (__mbx_region_unsend()), still sealed.
 * Pages written since they were last sealed are sealed with the lock
 * dropped; a region with none is sealed in this one hold.
 *
 * Context: port->lock held; dropped while pages are sealed, held again on
 * return.
 * Return: the region, held by no file, to be sent; ERR_PTR(-EINVAL) for no
 * such region or one that does not start on a page and cover whole pages,
 * -EPERM for a region held by someone else, -EBUSY if a page is
 * referenced beyond its mappings (pinned).
 */
struct mbx_region *__mbx_pool_seal(struct mbx_port *port, struct file *file,
				   u64 offset, u64 len)
	__must_hold(&port->lock)
{
	struct mbx_pool *pool = port->pool;
	unsigned long first, n;
	struct mbx_region *r;
	int ret;

	lockdep_assert_held(&port->lock);
	r = __mbx_region_send(port, file, offset, len);
	if (IS_ERR(r))
		return r;
	if (!PAGE_ALIGNED(r->offset) || !PAGE_ALIGNED(r->size)) {
		__mbx_region_unsend(r, file);
		return ERR_PTR(-EINVAL);
	}
	if (r->sealed)
		return r;
	first = r->offset >> PAGE_SHIFT;
	n = r->size >> PAGE_SHIFT;
	__mbx_region_mark(pool, r, true);
	if (!mbx_seal_written(pool->seal, first, n))
		return r;

	mbx_port_unlock(port);
	ret = mbx_seal_pages(pool->seal, first, n);
	spin_lock(&port->lock);
	if (ret) {
		__mbx_region_mark(pool, r, false);
		__mbx_region_unsend(r, file);
		return ERR_PTR(ret);
	}
	return r;
}

/**
 * mbx_region_sealed() - whether a region is sealed
 * @r: a region held by the caller or carried by its message
 *
 * Context: any.
 * Return: true from its sealed send until it is freed.
 */
bool mbx_region_sealed(struct mbx_region *r)
{
	return r->sealed;
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

/**
 * mbx_pool_mmap_check() - whether a new mapping may map the pool
 * @pool:     the pool
 * @vma:      the new mapping
 * @writable: false for a file that may not send: the mapping can then
 *            never become writable
 *
 * Context: mmap_lock held for writing.
 * Return: 0, -EINVAL for a private or partial mapping, -EACCES for a
 * writable mapping that may not be, -EPERM for an executable one.
 */
int mbx_pool_mmap_check(struct mbx_pool *pool, struct vm_area_struct *vma,
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
	return mbx_vma_protect(vma, writable);
}

/**
 * mbx_pool_mmap() - map a whole pool, shared, at offset 0
 * @pool:     the pool
 * @vma:      the new mapping, checked (mbx_pool_mmap_check())
 * @map_file: the file behind it (mbx_pool_map_file()), which the caller
 *            sets as the VMA's file on success
 *
 * The caller keeps @pool alive as long as @vma (see mbx_port_mmap()).
 * Every page is mapped now, in one go, rather than one fault per page
 * later; the fault handler serves what is zapped afterwards
 * (madvise(MADV_DONTNEED), a seal).
 *
 * Context: mmap_lock held for writing.
 * Return: 0 or -errno.
 */
int mbx_pool_mmap(struct mbx_pool *pool, struct vm_area_struct *vma,
		  struct file *map_file)
{
	return mbx_seal_mmap(pool->seal, vma, map_file);
}

/**
 * mbx_pool_map_file() - make the file behind a new mapping of the pool
 * @pool: the pool
 * @fops: the file's operations; their ->release must call
 *        mbx_pool_map_file_release()
 * @priv: its private_data
 * @writable: as for mbx_pool_mmap_check()
 *
 * Context: process context, may sleep.
 * Return: the file, on an inode of its own (seal.c), or an ERR_PTR().
 */
struct file *mbx_pool_map_file(struct mbx_pool *pool,
			       const struct file_operations *fops, void *priv,
			       bool writable)
{
	return mbx_seal_file(pool->seal, fops, priv, writable);
}

/**
 * mbx_pool_map_file_release() - the file behind a mapping is released
 * @map_file: the file, from mbx_pool_map_file(); its pool still exists
 *
 * Context: process context, may sleep.
 */
void mbx_pool_map_file_release(struct file *map_file)
{
	mbx_seal_file_release(map_file);
}
