// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * libmailbox-mq: reading and writing the structures the caller points to
 * as a system call does, so that a bad pointer is EFAULT, as it is for the
 * C library's mq_* on Linux, and not a fault in the library.
 *
 * The kernel copies with process_vm_readv() and process_vm_writev() on
 * the calling process itself (always allowed: no ptrace check applies to
 * one's own process).  Only the slow paths use them: mq_open(),
 * mq_unlink(), mq_getattr(), mq_setattr(), mq_notify() and the deadline
 * of the timed calls; mq_send() and mq_receive() without a deadline do
 * not.  Where they are refused (ENOSYS, or EPERM from a seccomp filter)
 * the library copies directly, as it did before.
 */
#define _GNU_SOURCE		/* process_vm_readv() */
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "internal.h"

/*
 * Copy @n bytes from @src to @dst, either of them the caller's; @out says
 * that @dst is.  0, -EFAULT, or 1 when the kernel would not copy.
 */
static int vm_copy(void *dst, const void *src, size_t n, int out)
{
	struct iovec mine = { out ? (void *)src : dst, n };
	struct iovec theirs = { out ? dst : (void *)src, n };
	int saved = errno;
	ssize_t ret;

	if (out)
		ret = process_vm_writev(getpid(), &mine, 1, &theirs, 1, 0);
	else
		ret = process_vm_readv(getpid(), &mine, 1, &theirs, 1, 0);
	if (ret == (ssize_t)n) {
		errno = saved;
		return 0;
	}
	/* A short copy stopped at a page it could not reach. */
	if (ret >= 0 || errno == EFAULT)
		return -EFAULT;
	errno = saved;
	return 1;
}

int __mq_copy_in(void *dst, const void *src, size_t n)
{
	int ret = vm_copy(dst, src, n, 0);

	if (ret == -EFAULT)
		return __mq_fail(EFAULT);
	if (ret)
		memcpy(dst, src, n);
	return 0;
}

int __mq_copy_out(void *dst, const void *src, size_t n)
{
	int ret = vm_copy(dst, src, n, 1);

	if (ret == -EFAULT)
		return __mq_fail(EFAULT);
	if (ret)
		memcpy(dst, src, n);
	return 0;
}

int __mq_copy_name(char *dst, const char *src, size_t size)
{
	size_t done = 0, chunk;
	long page = sysconf(_SC_PAGESIZE);
	int ret;

	if (page <= 0)
		page = 4096;
	/* Page by page, so that a short name at the end of one reads. */
	while (done < size - 1) {
		chunk = page - ((uintptr_t)(src + done) & (page - 1));
		if (chunk > size - 1 - done)
			chunk = size - 1 - done;
		ret = vm_copy(dst + done, src + done, chunk, 0);
		if (ret == -EFAULT)
			return __mq_fail(EFAULT);
		if (ret) {
			strncpy(dst, src, size - 1);
			break;
		}
		if (memchr(dst + done, '\0', chunk))
			break;
		done += chunk;
	}
	dst[size - 1] = '\0';
	return 0;
}
