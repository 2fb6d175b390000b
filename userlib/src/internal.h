/* SPDX-License-Identifier: LGPL-2.1 OR MIT */
/*
 * libmailbox internals shared by the source files: nothing here is part of
 * the API.  Internal names start with "__mbx_" so that neither the version
 * script nor a static link can mistake them for public mbx_* functions.
 */
#ifndef LIBMAILBOX_INTERNAL_H
#define LIBMAILBOX_INTERNAL_H

#include <errno.h>
#include <sys/ioctl.h>

#include "mailbox.h"

#define __mbx_hidden __attribute__((visibility("hidden")))

/*
 * ioctl() that returns its non-negative result or -errno, with errno read
 * immediately after the failing call.
 */
static inline int __mbx_ioctl(int fd, unsigned long cmd, void *arg)
{
	int ret = ioctl(fd, cmd, arg);

	return ret < 0 ? -errno : ret;
}

/*
 * Resolve a control fd argument: MBX_DEV_AUTO opens /dev/mailbox for the
 * duration of one call.  Returns the fd to use or -errno.
 */
int __mbx_dev_get(int dev) __mbx_hidden;

/* Undo __mbx_dev_get(): closes @fd if it was opened for @dev == MBX_DEV_AUTO. */
void __mbx_dev_put(int dev, int fd) __mbx_hidden;

#endif /* LIBMAILBOX_INTERNAL_H */
