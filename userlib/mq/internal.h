/* SPDX-License-Identifier: LGPL-2.1 OR MIT */
/*
 * libmailbox-mq internals shared by its source files; nothing here is part
 * of the API.
 */
#ifndef LIBMAILBOX_MQ_INTERNAL_H
#define LIBMAILBOX_MQ_INTERNAL_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "mailbox/mqueue.h"

#define __mq_hidden __attribute__((visibility("hidden")))

/*
 * The shared library also answers binaries linked against the C library's
 * mq_* (GLIBC_2.34, and GLIBC_2.3.4 of librt before it): every function
 * is exported through an alias at both versions, the plain name staying
 * local: after each function, "__typeof__(fn) __mq_v_fn MQ_VERSIONS(fn,
 * old version);".  The static library has no versions.  (__attribute, not
 * __attribute__: the same to the compiler, and not taken by checkpatch
 * for a kernel attribute that has a macro.)
 */
#ifdef MBX_MQ_SHARED
#define MQ_VERSIONS(fn, ver)						\
	__attribute((copy(fn), alias(#fn), symver(#fn "@" ver),		\
		     symver(#fn "@@GLIBC_2.34")))
#else
#define MQ_VERSIONS(fn, ver)
#endif

/* Fail as a POSIX function does: errno = @err, return -1. */
static inline int __mq_fail(int err)
{
	errno = err;
	return -1;
}

/*
 * A libmailbox error (-errno) as the mq_* functions report it: an fd that
 * is not a port at all is a bad message queue descriptor.
 */
static inline int __mq_err(long ret)
{
	return __mq_fail(ret == -ENOTTY ? EBADF : (int)-ret);
}

/*
 * uaccess.c: copy @n bytes from the caller's @src, or to the caller's
 * @dst, as a system call would: 0, or -1 with errno EFAULT when the
 * caller's memory cannot be read or written.
 */
int __mq_copy_in(void *dst, const void *src, size_t n) __mq_hidden;
int __mq_copy_out(void *dst, const void *src, size_t n) __mq_hidden;

/*
 * uaccess.c: the caller's string @src into @dst of @size bytes, cut to
 * @size - 1 bytes and always terminated: 0, or -1 with errno EFAULT.
 */
int __mq_copy_name(char *dst, const char *src, size_t size) __mq_hidden;

/* notify.c: the SIGEV_THREAD registration of @fd, if any, is gone. */
void __mq_notify_forget(int fd) __mq_hidden;

#endif /* LIBMAILBOX_MQ_INTERNAL_H */
