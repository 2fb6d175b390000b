// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * libmailbox: the control device /dev/mailbox.
 */
#include <fcntl.h>
#include <unistd.h>

#include "internal.h"

int mbx_dev_open(void)
{
	int fd = open(MBX_DEVICE_PATH, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int __mbx_dev_get(int dev)
{
	return dev == MBX_DEV_AUTO ? mbx_dev_open() : dev;
}

void __mbx_dev_put(int dev, int fd)
{
	/* The result is already taken: close()'s errno does not matter. */
	if (dev == MBX_DEV_AUTO)
		close(fd);
}

int mbx_version(int dev, struct mbx_version *v)
{
	int fd, ret;

	fd = __mbx_dev_get(dev);
	if (fd < 0)
		return fd;
	ret = __mbx_ioctl(fd, MBX_IOC_VERSION, v);
	__mbx_dev_put(dev, fd);
	return ret < 0 ? ret : 0;
}
