/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mailbox: the kernel versions it builds for, and the shims between them.
 *
 * The module's files are written against the newest kernel API; this
 * header, included first by mbx.h, gives the older kernels what they lack,
 * as WireGuard's compat layer did.  Each shim is keyed on the helper's
 * absence where that can be seen, else on the version that added it.
 *
 * Supported: Linux 6.1 to 7.3, the range CI tests (README, "Supported
 * kernels").  Outside it the build stops here with a clear error rather
 * than giving a module that loads and misbehaves; MBX_UNTESTED_KERNEL=1 on
 * the make command line lets a newer kernel through, at the builder's risk.
 */
#ifndef _MBX_COMPAT_H
#define _MBX_COMPAT_H

#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/ipc_namespace.h>
#include <linux/mm.h>
#include <linux/version.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 1, 0)
#error "mailbox needs Linux 6.1 or later (supported: 6.1 to 7.3)"
#endif
#if LINUX_VERSION_CODE >= KERNEL_VERSION(7, 4, 0) && !defined(MBX_UNTESTED_KERNEL)
#error "mailbox is tested on Linux 6.1 to 7.3; build with MBX_UNTESTED_KERNEL=1 to try a newer one"
#endif

/* Kernels after 6.12 (7.3 here) read a namespace's count with ns_ref_read(). */
static inline unsigned int mbx_ipc_ns_refs(struct ipc_namespace *ipc)
{
#ifdef ns_ref_read
	return ns_ref_read(ipc);
#else
	return refcount_read(&ipc->ns.count);
#endif
}

/* 6.12 made struct fd opaque: its file is fd_file(f). */
#ifndef fd_file
#define fd_file(f)	((f).file)
#endif

/* 6.3 made vma->vm_flags read-only outside these helpers. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
static inline void vm_flags_set(struct vm_area_struct *vma, vm_flags_t flags)
{
	vma->vm_flags |= flags;
}

static inline void vm_flags_clear(struct vm_area_struct *vma,
				  vm_flags_t flags)
{
	vma->vm_flags &= ~flags;
}
#endif

/* 6.8 dropped eventfd_signal()'s count: it always adds 1. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 8, 0)
#define eventfd_signal(ctx)	eventfd_signal(ctx, 1)
#endif

/*
 * A page's mappings.  6.1's folio_mapcount() is out of line and not
 * exported, its page_mapcount() is inline; 6.12 and 7.3 have an inline
 * folio_mapcount() (7.3 no page_mapcount()).
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 12, 0)
#define mbx_page_mapcount(page)	page_mapcount(page)
#else
#define mbx_page_mapcount(page)	folio_mapcount(page_folio(page))
#endif

#endif /* _MBX_COMPAT_H */
