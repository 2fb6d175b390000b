// SPDX-License-Identifier: GPL-2.0
/*
 * mailbox: the mappings of a ring (ring.c): which file maps which part,
 * writable or read-only for good, the fault handler, and the references
 * the pages of a role must be free of before the role changes hands.
 *
 * The producer's file maps the producer page and the record area
 * writable, the consumer's file the consumer page; every other mapping is
 * read-only with VM_MAYWRITE cleared.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/mm.h>

#include "mbx.h"
#include "ring.h"

/* A role taken over waits 1 + 2 + ... + 32 ms for a former holder's pins. */
#define MBX_RING_PIN_SLEEPS	6

static bool mbx_ring_role_pinned(struct mbx_ring *ring, u32 role)
{
	unsigned long i;

	if (role == MBX_RING_ROLE_CONSUMER)
		return mbx_page_pinned(ring->cons_page);
	if (mbx_page_pinned(ring->prod_page))
		return true;
	for (i = 0; i < ring->nr_pages; i++)
		if (mbx_page_pinned(ring->pages[i]))
			return true;
	return false;
}

/*
 * A role taken over: the former holder's writable mappings are gone (each
 * held its file, whose release ended the role), but a reference it took
 * through one (an io_uring fixed buffer, an O_DIRECT read in flight)
 * could still let it write.  Wait a little for such references to go (a
 * fault elsewhere holds one for a moment), then give up.
 */
int mbx_ring_unpinned(struct mbx_ring *ring, u32 role)
{
	int sleep;

	for (sleep = 0; mbx_ring_role_pinned(ring, role); sleep++) {
		if (sleep == MBX_RING_PIN_SLEEPS)
			return -EBUSY;
		if (msleep_interruptible(1 << sleep))
			return -EINTR;
	}
	return 0;
}

static vm_fault_t mbx_ring_fault(struct vm_fault *vmf)
{
	struct mbx_ring *ring = vmf->vma->vm_private_data;
	u64 off = (u64)vmf->pgoff << PAGE_SHIFT;
	struct page *page;

	if (off == MBX_RING_OFF_PRODUCER)
		page = ring->prod_page;
	else if (off == MBX_RING_OFF_CONSUMER)
		page = ring->cons_page;
	else if (off == MBX_RING_OFF_STATUS)
		page = ring->stat_page;
	else if (off >= MBX_RING_OFF_DATA &&
		 off - MBX_RING_OFF_DATA < 2 * ring->size)
		page = ring->pages[(off - MBX_RING_OFF_DATA) >> PAGE_SHIFT];
	else
		return VM_FAULT_SIGBUS;
	get_page(page);
	vmf->page = page;
	return 0;
}

static const struct vm_operations_struct mbx_ring_vm_ops = {
	.fault	= mbx_ring_fault,
};

/**
 * mbx_ring_mmap() - map one part of a ring
 * @file: a file of a ring port
 * @vma:  the new mapping: shared, one whole part at its offset
 *
 * The producer's file may map the producer page and the records
 * writable, the consumer's file the consumer page; every other mapping is
 * read-only and can never become writable (VM_MAYWRITE cleared, so
 * neither mprotect() nor a forced write through /proc/PID/mem or
 * process_vm_writev() gets in).  The mapping keeps @file, and so its
 * role, alive.
 *
 * Context: mmap_lock held for writing.
 * Return: 0; -EINVAL for a private, partial or unknown mapping; -EACCES
 * for a writable mapping that may not be; -EPERM for an executable one.
 */
int mbx_ring_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct mbx_ring *ring = mbx_file_port(file)->ring;
	u64 off = (u64)vma->vm_pgoff << PAGE_SHIFT;
	u32 roles = mbx_ring_roles(ring, file);
	unsigned long num, nr = 1;
	struct page **pages;
	bool writable;
	int ret;

	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	switch (off) {
	case MBX_RING_OFF_PRODUCER:
		pages = &ring->prod_page;
		writable = roles & MBX_RING_ROLE_PRODUCER;
		break;
	case MBX_RING_OFF_CONSUMER:
		pages = &ring->cons_page;
		writable = roles & MBX_RING_ROLE_CONSUMER;
		break;
	case MBX_RING_OFF_STATUS:
		pages = &ring->stat_page;
		writable = false;
		break;
	case MBX_RING_OFF_DATA:
		pages = ring->pages;
		nr = 2 * ring->nr_pages;
		writable = roles & MBX_RING_ROLE_PRODUCER;
		break;
	default:
		return -EINVAL;
	}
	if (vma_pages(vma) != nr)
		return -EINVAL;
	ret = mbx_vma_protect(vma, writable);
	if (ret)
		return ret;
	vma->vm_ops = &mbx_ring_vm_ops;
	vma->vm_private_data = ring;

	/* Every page now; the fault handler serves what is zapped later. */
	while (nr) {
		num = nr;
		ret = vm_insert_pages(vma, vma->vm_end - (nr << PAGE_SHIFT),
				      pages + (vma_pages(vma) - nr), &num);
		if (ret)
			return ret;
		nr = num;
		cond_resched();
	}
	return 0;
}
