// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * libmailbox: creating, opening and removing ports; per-port controls.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/*
 * Copy @name into a fixed MBX_NAME_LEN field.  A name that does not fit
 * with its NUL (64 bytes or more) is refused here, before the kernel sees
 * a truncated one.  Everything else (empty names, '/') is the kernel's call.
 */
static int name_copy(char dst[MBX_NAME_LEN], const char *name)
{
	size_t n;

	if (!name)
		return -EINVAL;
	n = strnlen(name, MBX_NAME_LEN);
	if (n == MBX_NAME_LEN)
		return -ENAMETOOLONG;
	memcpy(dst, name, n + 1);
	return 0;
}

int mbx_port_create(int dev, const struct mbx_port_create *attr)
{
	int fd, ret;

	fd = __mbx_dev_get(dev);
	if (fd < 0)
		return fd;
	/* _IOW: the kernel only reads *attr, so no copy is needed. */
	ret = ioctl(fd, MBX_IOC_PORT_CREATE, attr);
	if (ret < 0)
		ret = -errno;
	__mbx_dev_put(dev, fd);
	return ret;
}

int mbx_port_open(int dev, const char *name, unsigned int flags)
{
	struct mbx_port_open arg = { .flags = flags };
	int fd, ret;

	ret = name_copy(arg.name, name);
	if (ret)
		return ret;
	fd = __mbx_dev_get(dev);
	if (fd < 0)
		return fd;
	ret = __mbx_ioctl(fd, MBX_IOC_PORT_OPEN, &arg);
	__mbx_dev_put(dev, fd);
	return ret;
}

int mbx_port_unlink(int dev, const char *name)
{
	struct mbx_port_unlink arg = { 0 };
	int fd, ret;

	ret = name_copy(arg.name, name);
	if (ret)
		return ret;
	fd = __mbx_dev_get(dev);
	if (fd < 0)
		return fd;
	ret = __mbx_ioctl(fd, MBX_IOC_PORT_UNLINK, &arg);
	__mbx_dev_put(dev, fd);
	return ret < 0 ? ret : 0;
}

int mbx_port_info(int port, struct mbx_port_info *info)
{
	int ret = __mbx_ioctl(port, MBX_IOC_PORT_INFO, info);

	return ret < 0 ? ret : 0;
}

int mbx_shutdown(int port)
{
	int ret = __mbx_ioctl(port, MBX_IOC_SHUTDOWN, NULL);

	return ret < 0 ? ret : 0;
}

int mbx_port_dup(int port, unsigned int flags)
{
	struct mbx_port_dup arg = { .flags = flags };

	return __mbx_ioctl(port, MBX_IOC_PORT_DUP, &arg);
}

int mbx_port_pair(int dev, const struct mbx_port_create *attr, int fds[2])
{
	unsigned int fdflags = attr->flags & (MBX_CLOEXEC | MBX_NONBLOCK);
	int port, rfd, sfd;

	if (attr->name[0])
		return -EINVAL;
	port = mbx_port_create(dev, attr);
	if (port < 0)
		return port;

	rfd = mbx_port_dup(port, MBX_RECV | fdflags);
	if (rfd < 0) {
		close(port);
		return rfd;
	}
	sfd = mbx_port_dup(port, MBX_SEND | fdflags);
	close(port);
	if (sfd < 0) {
		close(rfd);
		return sfd;
	}
	fds[0] = rfd;
	fds[1] = sfd;
	return 0;
}

int mbx_port_list(int dev, struct mbx_port_info **list)
{
	struct mbx_port_list arg = { 0 };
	struct mbx_port_info *ports = NULL, *bigger;
	int fd, ret;

	fd = __mbx_dev_get(dev);
	if (fd < 0)
		return fd;
	/* Ports may come and go between calls: grow until everything fits. */
	for (;;) {
		arg.ports = (uintptr_t)ports;
		ret = __mbx_ioctl(fd, MBX_IOC_PORT_LIST, &arg);
		if (ret < 0 || arg.count >= arg.total)
			break;
		arg.count = arg.total + 16;
		bigger = realloc(ports, arg.count * sizeof(*ports));
		if (!bigger) {
			ret = -ENOMEM;
			break;
		}
		ports = bigger;
	}
	__mbx_dev_put(dev, fd);
	if (ret < 0) {
		free(ports);
		return ret;
	}
	*list = ports;
	return (int)arg.count;
}
