// SPDX-License-Identifier: GPL-2.0
/*
 * mailbox: a pool's address space, its mappings and the protection of its
 * sealed pages.
 *
 * Every mapping of a pool (each mmap() of it) is made through a file of its
 * own, on an inode of its own from a small pseudo filesystem of the module
 * (as DRM's drm_fs_inode_new() does): struct mbx_seal_map.  Every VMA of
 * that mapping, in the process that made it and in its forked children,
 * is in that inode's i_mmap, and unmap_mapping_range() on it reaches them
 * all, and no other mapping's.
 *
 * Mappings are write-notify: their PTEs start read-only (also those made
 * at mmap time) and the first write to each page goes through
 * mbx_seal_page_mkwrite(), which refuses a sealed page with SIGSEGV (and
 * a GUP write, process_vm_writev() or /proc/PID/mem, with EFAULT).
 *
 * That is also the only way a page gets a writable PTE, or a reference
 * that may write to it (a GUP write faults through it too), so the mkwrite
 * marks the page written, in the pool and in the mapping.  Sealing marks
 * the pages sealed, then deals with the written ones only: waits for a
 * mkwrite that looked before the mark (page lock), zaps their PTEs in the
 * mappings that wrote them (one TLB flush per such mapping; mappings that
 * only read keep their read-only PTEs and take no refault and no
 * flush), and checks that nothing references them beyond their mappings
 * (a pin, or a GUP reference held across a copy, would let a write land
 * after the seal: it waits a little for those, and else fails).  A page
 * not written since it was last sealed has no writable PTE and no such
 * reference, and costs the seal nothing.
 *
 * LOCKING: the sealed bits are changed by the pool (pool.c) under
 * port->lock; the written bits (pool and mapping) are set by mkwrite and
 * cleared by sealing, both under the page lock.  The fault path sets one
 * then reads the other, and sealing does the reverse, each with a full
 * barrier between (see mbx_seal_written()).  seal->maps_lock (a mutex)
 * guards the list of mappings that can write (one that cannot, of an fd
 * that may not send, is on none), and is held by a seal while it zaps them
 * and while it clears their marks (not while it waits for references);
 * taken under mmap_lock (mmap), never the other way round.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/delay.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/pagemap.h>
#include <linux/pseudo_fs.h>
#include <linux/slab.h>

#include "mbx.h"

#define MBX_SEAL_MAGIC		0x6d627870	/* "mbxp" */
/* Scans for references beyond the mappings before sealing gives up. */
#define MBX_SEAL_SCANS		5

/**
 * struct mbx_seal - the address space of one pool
 * @pages:     the pool's pages (owned by pool.c)
 * @nr_pages:  how many
 * @sealed:    bit n: page n belongs to a sealed region
 * @written:   bit n: page n may have been made writable since it was last
 *             sealed, through any mapping
 * @maps:      its mappings (struct mbx_seal_map)
 * @maps_lock: see LOCKING above
 */
struct mbx_seal {
	struct page **pages;
	unsigned long nr_pages;
	unsigned long *sealed;
	unsigned long *written;
	struct list_head maps;
	struct mutex maps_lock;		/* see LOCKING above */
};

/**
 * struct mbx_seal_map - one mapping of a pool: the file behind it
 * @seal:     the pool's address space
 * @inode:    the file's inode, whose i_mmap holds the mapping's VMAs
 * @node:     in seal->maps, if @writable
 * @writable: the mapping may become writable; one that cannot is of no
 *            concern to a seal
 * @written:  if @writable, bit n: page n may have been made writable
 *            through this mapping since it was last sealed
 */
struct mbx_seal_map {
	struct mbx_seal *seal;
	struct inode *inode;
	struct list_head node;
	bool writable;
	unsigned long written[];
};

static struct vfsmount *mbx_seal_mnt;

static int mbx_seal_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, MBX_SEAL_MAGIC) ? 0 : -ENOMEM;
}

/* No owner: the mount lives from module init to exit and pins nothing. */
static struct file_system_type mbx_seal_fs_type = {
	.name		= "mailbox-pool",
	.init_fs_context = mbx_seal_init_fs_context,
	.kill_sb	= kill_anon_super,
};

/**
 * mbx_seal_init() - mount the pseudo filesystem of pool inodes
 *
 * Context: module init.
 * Return: 0 or -errno.
 */
int mbx_seal_init(void)
{
	mbx_seal_mnt = kern_mount(&mbx_seal_fs_type);
	return PTR_ERR_OR_ZERO(mbx_seal_mnt);
}

/**
 * mbx_seal_exit() - unmount it
 *
 * Context: module exit, every pool gone.
 */
void mbx_seal_exit(void)
{
	kern_unmount(mbx_seal_mnt);
}

/**
 * mbx_seal_create() - give a pool its address space
 * @pages:    the pool's pages, which outlive the result
 * @nr_pages: how many
 *
 * Context: process context, may sleep.
 * Return: the address space, or ERR_PTR(-ENOMEM).
 */
struct mbx_seal *mbx_seal_create(struct page **pages, unsigned long nr_pages)
{
	struct mbx_seal *seal;

	seal = kzalloc(sizeof(*seal), GFP_KERNEL_ACCOUNT);
	if (!seal)
		return ERR_PTR(-ENOMEM);
	seal->pages = pages;
	seal->nr_pages = nr_pages;
	INIT_LIST_HEAD(&seal->maps);
	mutex_init(&seal->maps_lock);
	seal->sealed = bitmap_zalloc(nr_pages, GFP_KERNEL_ACCOUNT);
	seal->written = bitmap_zalloc(nr_pages, GFP_KERNEL_ACCOUNT);
	if (!seal->sealed || !seal->written) {
		bitmap_free(seal->written);
		bitmap_free(seal->sealed);
		kfree(seal);
		return ERR_PTR(-ENOMEM);
	}
	return seal;
}

/**
 * mbx_seal_destroy() - free a pool's address space
 * @seal: it; no mapping of it is left
 *
 * Context: process context, may sleep.
 */
void mbx_seal_destroy(struct mbx_seal *seal)
{
	WARN_ON_ONCE(!list_empty(&seal->maps));
	bitmap_free(seal->written);
	bitmap_free(seal->sealed);
	kfree(seal);
}

/**
 * mbx_seal_file() - make the file behind a new mapping of the pool
 * @seal: the pool's address space
 * @fops: the file's operations; their owner is referenced by the file;
 *        their ->release must call mbx_seal_file_release()
 * @priv: its private_data
 * @writable: false for a mapping that can never become writable
 *            (mbx_vma_protect()), which no seal then needs to look at:
 *            it is on no list and has no record of pages written
 *
 * Context: process context, may sleep.
 * Return: the file, on an inode of its own, or an ERR_PTR().
 */
struct file *mbx_seal_file(struct mbx_seal *seal,
			   const struct file_operations *fops, void *priv,
			   bool writable)
{
	size_t longs = writable ? BITS_TO_LONGS(seal->nr_pages) : 0;
	struct mbx_seal_map *map;
	struct inode *inode;
	struct file *file;

	map = kvzalloc(struct_size(map, written, longs), GFP_KERNEL_ACCOUNT);
	if (!map)
		return ERR_PTR(-ENOMEM);
	map->writable = writable;
	inode = alloc_anon_inode(mbx_seal_mnt->mnt_sb);
	if (IS_ERR(inode)) {
		kvfree(map);
		return ERR_CAST(inode);
	}
	map->seal = seal;
	map->inode = inode;
	inode->i_private = map;
	/* __fput() puts the owner, which alloc_file_pseudo() does not get. */
	__module_get(fops->owner);
	file = alloc_file_pseudo(inode, mbx_seal_mnt, "[mailbox-pool]",
				 O_RDWR, fops);
	if (IS_ERR(file)) {
		module_put(fops->owner);
		iput(inode);
		kvfree(map);
		return file;
	}
	file->private_data = priv;
	if (writable) {
		mutex_lock(&seal->maps_lock);
		list_add(&map->node, &seal->maps);
		mutex_unlock(&seal->maps_lock);
	}
	return file;
}

/**
 * mbx_seal_file_release() - forget a mapping's file, being released
 * @file: a file mbx_seal_file() made; no VMA uses it any more
 *
 * Context: process context, may sleep.
 */
void mbx_seal_file_release(struct file *file)
{
	struct mbx_seal_map *map = file_inode(file)->i_private;

	if (map->writable) {
		mutex_lock(&map->seal->maps_lock);
		list_del(&map->node);
		mutex_unlock(&map->seal->maps_lock);
	}
	file_inode(file)->i_private = NULL;
	kvfree(map);
}

/**
 * __mbx_seal_mark() - mark pages sealed, or not
 * @seal:  the pool's address space
 * @first: the first page
 * @n:     how many
 * @on:    sealed or not
 *
 * Marking is not sealing: mbx_seal_pages() does that.
 *
 * Context: port->lock held.
 */
void __mbx_seal_mark(struct mbx_seal *seal, unsigned long first,
		     unsigned long n, bool on)
{
	/* Writers are serialized by port->lock; readers test single bits. */
	if (on)
		bitmap_set(seal->sealed, first, n);
	else
		bitmap_clear(seal->sealed, first, n);
}

/* Whether a written page in [@first, @end) is referenced beyond its mappings. */
static bool mbx_seal_referenced(struct mbx_seal *seal, unsigned long first,
				unsigned long end)
{
	unsigned long i = first;

	for_each_set_bit_from(i, seal->written, end)
		if (mbx_page_pinned(seal->pages[i]))
			return true;
	return false;
}

/* Clear bits of @bits in [@first, @end), each under its page's lock. */
static void mbx_seal_clear_bits(struct mbx_seal *seal, unsigned long *bits,
				unsigned long first, unsigned long end)
{
	unsigned long i = first;

	for_each_set_bit_from(i, bits, end) {
		lock_page(seal->pages[i]);
		clear_bit(i, bits);
		unlock_page(seal->pages[i]);
	}
}

/*
 * Forget that the pages in [@first, @end) were written, now that they are
 * sealed: in the mappings that wrote them, then in the pool.  Under the
 * page lock: a mkwrite that marked a page and has yet to look at the
 * sealed mark holds it, and must find the page sealed (it is until this
 * seal's send is done with), not unmarked and then unsealed.  Atomic:
 * mkwrite marks other pages of the same words.
 */
static void mbx_seal_clear_written(struct mbx_seal *seal, unsigned long first,
				   unsigned long end)
{
	struct mbx_seal_map *map;

	mutex_lock(&seal->maps_lock);
	list_for_each_entry(map, &seal->maps, node)
		mbx_seal_clear_bits(seal, map->written, first, end);
	mutex_unlock(&seal->maps_lock);
	mbx_seal_clear_bits(seal, seal->written, first, end);
}

/* Zap [@first, @end) in every mapping that wrote a page of it. */
static void mbx_seal_zap(struct mbx_seal *seal, unsigned long first,
			 unsigned long end)
{
	struct mbx_seal_map *map;

	mutex_lock(&seal->maps_lock);
	list_for_each_entry(map, &seal->maps, node)
		if (find_next_bit(map->written, end, first) < end)
			unmap_mapping_range(map->inode->i_mapping,
					    (loff_t)first << PAGE_SHIFT,
					    (loff_t)(end - first) << PAGE_SHIFT,
					    0);
	mutex_unlock(&seal->maps_lock);
}

/**
 * mbx_seal_written() - whether marked pages need mbx_seal_pages()
 * @seal:  the pool's address space
 * @first: the first page, already marked (__mbx_seal_mark())
 * @n:     how many
 *
 * Context: any.
 * Return: true if any of them was written since it was last sealed.
 */
bool mbx_seal_written(struct mbx_seal *seal, unsigned long first,
		      unsigned long n)
{
	/*
	 * The sealed marks, this barrier, then the written bits here; the
	 * written bit, a barrier, then the sealed mark in
	 * mbx_seal_page_mkwrite(): a mkwrite that marked a page after this
	 * looked sees it sealed.
	 */
	smp_mb();
	return find_next_bit(seal->written, first + n, first) < first + n;
}

/**
 * mbx_seal_pages() - make marked pages read-only in every mapping
 * @seal:  the pool's address space
 * @first: the first page, already marked (__mbx_seal_mark())
 * @n:     how many
 *
 * Only the pages written since they were last sealed need anything, and
 * only in the mappings that wrote them.  A mkwrite that looked before the
 * mark holds the page lock until its PTE is writable: a written page found
 * locked is waited for, and the zap then removes that PTE.  Refaults are
 * read-only, so after this no write reaches the pages through a mapping.
 * A written page still referenced beyond its mappings may be written
 * without one (a pin for DMA, a /proc/PID/mem copy under way, a fault in
 * progress): wait a little for such references to go, then give up, the
 * pages still marked written for the next try.  Sealed, they are marked
 * unwritten (mbx_seal_clear_written()).
 *
 * Context: process context, may sleep.
 * Return: 0, or -EBUSY.
 */
int mbx_seal_pages(struct mbx_seal *seal, unsigned long first,
		   unsigned long n)
{
	unsigned long end = first + n, lo, hi, i;
	int scan;

	smp_mb();	/* as in mbx_seal_written() */
	lo = find_next_bit(seal->written, end, first);
	if (lo >= end)
		return 0;
	hi = lo;
	i = lo;
	for_each_set_bit_from(i, seal->written, end) {
		/* The mkwrite marked it with the page locked. */
		smp_rmb();
		if (PageLocked(seal->pages[i])) {
			lock_page(seal->pages[i]);
			unlock_page(seal->pages[i]);
		}
		hi = i;
	}
	/* Their mkwrites marked the mappings before they unlocked. */
	smp_rmb();

	mbx_seal_zap(seal, lo, hi + 1);
	for (scan = 0; scan < MBX_SEAL_SCANS; scan++) {
		if (!mbx_seal_referenced(seal, lo, hi + 1)) {
			mbx_seal_clear_written(seal, lo, hi + 1);
			return 0;
		}
		/* A fault or a zap elsewhere holds one for a moment. */
		msleep(1 << scan);
	}
	return -EBUSY;
}

/**
 * mbx_seal_writable() - whether a range of pages may be made writable
 * @seal:  the pool's address space
 * @first: the first page
 * @n:     how many
 *
 * Context: any; the answer may be stale at once, the fault path enforces.
 * Return: false if any of them is sealed.
 */
bool mbx_seal_writable(struct mbx_seal *seal, unsigned long first,
		       unsigned long n)
{
	return find_next_bit(seal->sealed, first + n, first) >= first + n;
}

static vm_fault_t mbx_seal_fault(struct vm_fault *vmf)
{
	struct mbx_seal_map *map = vmf->vma->vm_private_data;
	struct mbx_seal *seal = map->seal;

	if (vmf->pgoff >= seal->nr_pages)
		return VM_FAULT_SIGBUS;
	vmf->page = seal->pages[vmf->pgoff];
	get_page(vmf->page);
	return 0;
}

/*
 * The first write to a page of a mapping.  Pool pages have no ->mapping,
 * so the page is returned locked (VM_FAULT_LOCKED), as fb_deferred_io
 * does: do_page_mkwrite() would otherwise take it for a truncated page
 * and retry forever.  The lock is held until the PTE is writable.  The
 * page is marked written first, refused or not: the next seal looks at it.
 */
static vm_fault_t mbx_seal_page_mkwrite(struct vm_fault *vmf)
{
	struct mbx_seal_map *map = vmf->vma->vm_private_data;
	struct mbx_seal *seal = map->seal;
	struct page *page = vmf->page;

	if (vmf->pgoff >= seal->nr_pages || seal->pages[vmf->pgoff] != page)
		return VM_FAULT_SIGBUS;
	if (WARN_ON_ONCE(!map->writable))
		return VM_FAULT_SIGSEGV;
	lock_page(page);
	smp_mb__before_atomic();	/* the lock, then the marks */
	set_bit(vmf->pgoff, map->written);
	set_bit(vmf->pgoff, seal->written);
	smp_mb__after_atomic();		/* pairs with mbx_seal_pages() */
	if (test_bit(vmf->pgoff, seal->sealed)) {
		unlock_page(page);
		return VM_FAULT_SIGSEGV;
	}
	return VM_FAULT_LOCKED;
}

/* mprotect() may not add write access over a sealed page. */
static int mbx_seal_mprotect(struct vm_area_struct *vma, unsigned long start,
			     unsigned long end, unsigned long newflags)
{
	struct mbx_seal_map *map = vma->vm_private_data;
	struct mbx_seal *seal = map->seal;
	unsigned long first = vma->vm_pgoff +
			      ((start - vma->vm_start) >> PAGE_SHIFT);

	if (!(newflags & VM_WRITE))
		return 0;
	return mbx_seal_writable(seal, first, (end - start) >> PAGE_SHIFT) ?
	       0 : -EACCES;
}

static const struct vm_operations_struct mbx_seal_vm_ops = {
	.fault		= mbx_seal_fault,
	.page_mkwrite	= mbx_seal_page_mkwrite,
	.mprotect	= mbx_seal_mprotect,
};

/* vm_insert_pages() of the whole pool, a batch of pages at a time. */
static int mbx_seal_insert_pages(struct mbx_seal *seal,
				 struct vm_area_struct *vma)
{
	unsigned long done = 0;

	while (done < seal->nr_pages) {
		unsigned long num = seal->nr_pages - done;
		int ret;

		ret = vm_insert_pages(vma, vma->vm_start + (done << PAGE_SHIFT),
				      seal->pages + done, &num);
		if (ret)
			return ret;
		/* num is what was left over; whatever went is done. */
		done = seal->nr_pages - num;
		cond_resched();
	}
	return 0;
}

/**
 * mbx_seal_mmap() - set up a new mapping of the whole pool
 * @seal: the pool's address space
 * @vma:  the mapping, shared, of the whole pool, checked by the caller
 * @file: the file behind it, from mbx_seal_file(), which the caller sets
 *        as the VMA's file on success
 *
 * Every page is mapped now, read-only: vm_page_prot is still the writable
 * one while ->mmap runs (vma_set_page_prot() comes after), and the VMA is
 * not yet in @file's inode's i_mmap, where a seal could find it.  The
 * first write to each page goes through mbx_seal_page_mkwrite().
 *
 * Context: mmap_lock held for writing.
 * Return: 0 or -errno.
 */
int mbx_seal_mmap(struct mbx_seal *seal, struct vm_area_struct *vma,
		  struct file *file)
{
	vma->vm_ops = &mbx_seal_vm_ops;
	vma->vm_private_data = file_inode(file)->i_private;
	/* What vma_set_page_prot() makes of a write-notify mapping. */
	vma->vm_page_prot = vm_get_page_prot(vma->vm_flags & ~VM_SHARED);
	return mbx_seal_insert_pages(seal, vma);
}
