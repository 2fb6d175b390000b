// SPDX-License-Identifier: GPL-2.0
/*
 * mailbox: the zero-copy buffer pool of a port.
 *
 * The pool is pool_size bytes of zeroed pages charged to the creator's
 * memory cgroup, mapped once into the kernel (vmap) for copy-out and into
 * any number of processes through mmap of a port fd.  lib/genalloc.c hands
 * out regions of it, 64-byte aligned.
 *
 * Nothing in the pool is trusted: every region's bookkeeping is a struct
 * mbx_region in the port's xarray, indexed by offset.  A region has exactly
 * one holder at a time: the file that allocated it, then (holder NULL) the
 * message that carries it, then the file that received it in place.  Only
 * the holder may send or release it; closing a file frees what it holds.
 *
 * LOCKING: holder changes and freeing of regions happen under port->lock,
 * which also orders the pool's waiter list.  The xarray's own lock nests
 * inside port->lock; genalloc is lock-free.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/genalloc.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/xarray.h>

#include "mbx.h"
#include "trace.h"

#define MBX_POOL_ORDER	6	/* 64-byte granules and alignment */

/**
 * struct mbx_region - one allocation in a pool
 * @offset:   from the start of the pool
 * @size:     bytes reserved, a multiple of 64
 * @len:      bytes allocated, or sent by the last send
 * @prev_len: @len before the send in flight, to undo a failed one
 * @holder:   the file holding it, or NULL while a message carries it
 */
struct mbx_region {
	u64 offset;
	u64 size;
	u64 len;
	u64 prev_len;
	struct file *holder;
};

/**
 * struct mbx_pool - the pool of a port
 * @pages:    nr_pages pages, mapped to user space by the fault handler
 * @nr_pages: pool size in pages
 * @vaddr:    kernel mapping of @pages
 * @gen:      the allocator, over [@vaddr, @vaddr + size)
 * @regions:  struct mbx_region by offset >> MBX_POOL_ORDER
 * @waiters:  allocations waiting for space, under port->lock
 */
struct mbx_pool {
	struct page **pages;
	unsigned long nr_pages;
	void *vaddr;
	struct gen_pool *gen;
	struct xarray regions;
	struct list_head waiters;
};

static void mbx_pool_free_pages(struct mbx_pool *pool)
{
	unsigned long i;

	for (i = 0; i < pool->nr_pages && pool->pages[i]; i++)
		__free_page(pool->pages[i]);
	kvfree(pool->pages);
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
	struct mbx_pool *pool;
	int ret = -ENOMEM;
	unsigned long i;

	pool = kzalloc(sizeof(*pool), GFP_KERNEL_ACCOUNT);
	if (!pool)
		return ERR_PTR(-ENOMEM);
	pool->nr_pages = size >> PAGE_SHIFT;
	xa_init(&pool->regions);
	INIT_LIST_HEAD(&pool->waiters);

	pool->pages = kvcalloc(pool->nr_pages, sizeof(*pool->pages),
			       GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!pool->pages)
		goto err_pool;
	for (i = 0; i < pool->nr_pages; i++) {
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			goto err_pages;
		}
		pool->pages[i] = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO |
					    __GFP_NOWARN);
		if (!pool->pages[i])
			goto err_pages;
		cond_resched();
	}

	pool->vaddr = vmap(pool->pages, pool->nr_pages, VM_MAP, PAGE_KERNEL);
	if (!pool->vaddr)
		goto err_pages;

	pool->gen = gen_pool_create(MBX_POOL_ORDER, NUMA_NO_NODE);
	if (!pool->gen)
		goto err_vmap;
	if (gen_pool_add(pool->gen, (unsigned long)pool->vaddr, size,
			 NUMA_NO_NODE))
		goto err_gen;
	return pool;

err_gen:
	gen_pool_destroy(pool->gen);
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
	gen_pool_free(pool->gen, (unsigned long)pool->vaddr + r->offset,
		      r->size);
	kfree(r);
}

/**
 * mbx_pool_destroy() - free a pool and every region left in it
 * @pool: the pool; nobody can reach it any more
 *
 * Context: process context, may sleep.
 */
void mbx_pool_destroy(struct mbx_pool *pool)
{
	struct mbx_region *r;
	unsigned long idx;

	xa_for_each(&pool->regions, idx, r)
		__mbx_region_free(pool, r);
	xa_destroy(&pool->regions);
	gen_pool_destroy(pool->gen);
	vunmap(pool->vaddr);
	mbx_pool_free_pages(pool);
	kfree(pool);
}

/**
 * mbx_pool_avail() - bytes of the pool held by nobody
 * @pool: the pool
 *
 * Context: any.
 * Return: free bytes.
 */
u64 mbx_pool_avail(struct mbx_pool *pool)
{
	return gen_pool_avail(pool->gen);
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

/**
 * mbx_pool_alloc() - allocate a region for @file, waiting for space
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
	u64 size = ALIGN(len, 1U << MBX_POOL_ORDER);
	struct mbx_region *r;
	unsigned long addr;
	int ret;

	if (!len || len > port->pool_size)
		return -EINVAL;
	r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	if (!r)
		return -ENOMEM;

	spin_lock(&port->lock);
	for (;;) {
		struct mbx_waiter w;

		ret = -EPIPE;
		if (port->shutdown)
			break;
		addr = gen_pool_alloc(pool->gen, size);
		ret = 0;
		if (addr)
			break;
		ret = -EAGAIN;
		if (nonblock)
			break;
		ret = -ETIMEDOUT;
		if (mbx_expired(deadline))
			break;

		w.task = current;
		w.state = MBX_WAITING;
		list_add_tail(&w.node, &pool->waiters);
		ret = __mbx_wait(port, &w, MBX_WAIT_ALLOC, deadline);
		if (ret)
			break;
	}
	spin_unlock(&port->lock);
	if (ret)
		goto err;

	r->offset = addr - (unsigned long)pool->vaddr;
	r->size = size;
	r->len = len;
	r->holder = file;
	/* A freed region left the xarray before genalloc, so the slot is free. */
	ret = xa_insert(&pool->regions, r->offset >> MBX_POOL_ORDER, r,
			GFP_KERNEL_ACCOUNT);
	if (ret) {
		gen_pool_free(pool->gen, addr, size);
		goto err;
	}
	*offset = r->offset;
	return 0;
err:
	kfree(r);
	return ret;
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
	spin_unlock(&port->lock);
	return ret;
}

static vm_fault_t mbx_pool_fault(struct vm_fault *vmf)
{
	struct mbx_port *port = vmf->vma->vm_file->private_data;
	struct mbx_pool *pool = port->pool;

	if (vmf->pgoff >= pool->nr_pages)
		return VM_FAULT_SIGBUS;
	vmf->page = pool->pages[vmf->pgoff];
	get_page(vmf->page);
	return 0;
}

static const struct vm_operations_struct mbx_pool_vm_ops = {
	.fault = mbx_pool_fault,
};

static int mbx_pool_file_release(struct inode *inode, struct file *file)
{
	mbx_port_put(file->private_data);
	return 0;
}

/* The file behind a pool mapping: it holds the port, nothing else. */
static const struct file_operations mbx_pool_fops = {
	.owner		= THIS_MODULE,
	.release	= mbx_pool_file_release,
};

/**
 * mbx_pool_mmap() - map a port's whole pool, shared, at offset 0
 * @file: a port file
 * @vma:  the new mapping
 *
 * A file that may not send gets a mapping that can never become writable.
 * A forked child shares the mapping, like any MAP_SHARED mapping.
 *
 * The mapping refers to a pool file of its own, which holds the port, and
 * not to the port file: regions belong to port files, and closing the last
 * fd of one must free what it holds and end its part in end of stream even
 * while the pool stays mapped.
 *
 * Context: mmap_lock held for writing.
 * Return: 0, -ENODEV without a pool, -EINVAL for a private or partial
 * mapping, -EACCES for a writable mapping of a receive-only file, -ENOMEM.
 */
int mbx_pool_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct mbx_port *port = mbx_file_port(file);
	struct file *pool_file;

	if (!port->pool)
		return -ENODEV;
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (vma->vm_pgoff || vma_pages(vma) != port->pool->nr_pages)
		return -EINVAL;
	/*
	 * A receive-only file is opened read-only, so do_mmap() has already
	 * refused PROT_WRITE; make sure that mprotect() cannot add it either.
	 */
	if (!(mbx_file_access(file) & MBX_SEND)) {
		if (vma->vm_flags & VM_WRITE)
			return -EACCES;
		vma->vm_flags &= ~VM_MAYWRITE;
	}
	kref_get(&port->ref);
	pool_file = anon_inode_getfile("[mailbox-pool]", &mbx_pool_fops, port,
				       O_RDWR);
	if (IS_ERR(pool_file)) {
		mbx_port_put(port);
		return PTR_ERR(pool_file);
	}
	vma_set_file(vma, pool_file);
	fput(pool_file);

	vma->vm_flags |= VM_DONTEXPAND | VM_DONTDUMP;
	vma->vm_ops = &mbx_pool_vm_ops;
	return 0;
}
