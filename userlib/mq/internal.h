/* SPDX-License-Identifier: LGPL-2.1 OR MIT */
/*
 * libmailbox-mq internals shared by its source files; nothing here is part
 * of the API.
 */
#ifndef LIBMAILBOX_MQ_INTERNAL_H
#define LIBMAILBOX_MQ_INTERNAL_H

#include <errno.h>

#include "mailbox/mqueue.h"

#define __mq_hidden __attribute__((visibility("hidden")))

/*
 * The shared library also answers binaries linked against the C library's
 * mq_* (GLIBC_2.34, and GLIBC_2.3.4 of librt before it): every function
 * gets an alias at the old version as well.  The static library has no
 * versions.
 */
#ifdef MBX_MQ_SHARED
#define MQ_COMPAT(fn, ver)						\
	extern __typeof(fn) __compat_##fn				\
		__attribute__((copy(fn), alias(#fn)));			\
	__asm__(".symver __compat_" #fn ", " #fn "@" ver);		\
	__asm__(".symver " #fn ", " #fn "@@@GLIBC_2.34")
#else
#define MQ_COMPAT(fn, ver)	extern int __mq_no_compat_##fn
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

/* notify.c: the SIGEV_THREAD registration of @fd, if any, is gone. */
void __mq_notify_forget(int fd) __mq_hidden;

#endif /* LIBMAILBOX_MQ_INTERNAL_H */
