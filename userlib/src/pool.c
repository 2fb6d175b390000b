// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * libmailbox: the zero-copy pool of a port.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

int mbx_pool_map(int port, void **base, size_t *size)
{
	struct mbx_port_info info;
	int prot = PROT_READ;
	void *p;
	int ret;

	ret = mbx_port_info(port, &info);
	if (ret < 0)
		return ret;
	if (!info.pool_size)
		return -ENODEV;
	/* A receive-only fd may only map the pool read-only. */
	if (info.access & MBX_SEND)
		prot |= PROT_WRITE;

	p = mmap(NULL, info.pool_size, prot, MAP_SHARED, port, 0);
	if (p == MAP_FAILED)
		return -errno;
	*base = p;
	*size = info.pool_size;
	return 0;
}

int mbx_pool_unmap(void *base, size_t size)
{
	return munmap(base, size) < 0 ? -errno : 0;
}

int mbx_buf_alloc_ex(int port, struct mbx_buf *args)
{
	return __mbx_ioctl(port, MBX_IOC_BUF_ALLOC, args);
}

int mbx_buf_alloc(int port, size_t len, uint64_t *offset)
{
	struct mbx_buf args = { .len = len };
	int ret;

	ret = mbx_buf_alloc_ex(port, &args);
	if (ret < 0)
		return ret;
	*offset = args.offset;
	return 0;
}

int mbx_buf_alloc_pages(int port, size_t len, uint64_t *offset)
{
	struct mbx_buf args = { .len = len, .flags = MBX_BUF_PAGES };
	int ret;

	ret = mbx_buf_alloc_ex(port, &args);
	if (ret < 0)
		return ret;
	*offset = args.offset;
	return 0;
}

int mbx_buf_send_sealed(int port, uint64_t offset, size_t len,
			unsigned int prio)
{
	struct mbx_send args = {
		.offset = offset,
		.len = len,
		.prio = prio,
		.flags = MBX_SEND_BUF | MBX_SEND_SEALED,
	};

	return __mbx_ioctl(port, MBX_IOC_SEND, &args);
}

int mbx_buf_send(int port, uint64_t offset, size_t len, unsigned int prio)
{
	struct mbx_send args = {
		.offset = offset,
		.len = len,
		.prio = prio,
		.flags = MBX_SEND_BUF,
	};

	return __mbx_ioctl(port, MBX_IOC_SEND, &args);
}

int mbx_buf_send_next(int port, uint64_t offset, size_t len,
		      unsigned int prio, size_t next_len, uint64_t *next_offset)
{
	struct mbx_send args = {
		.offset = offset,
		.len = len,
		.prio = prio,
		.flags = MBX_SEND_BUF | MBX_SEND_NEXT,
		.next_len = next_len,
	};
	int ret;

	ret = __mbx_ioctl(port, MBX_IOC_SEND, &args);
	if (ret < 0)
		return ret;
	*next_offset = args.next_offset;
	return 0;
}

static ssize_t recv_inplace(int port, struct mbx_recv *args, uint64_t *offset,
			    unsigned int *prio)
{
	int ret;

	ret = __mbx_ioctl(port, MBX_IOC_RECV, args);
	if (ret < 0)
		return ret;
	/* Only an empty copy-mode message fits a zero-length buffer. */
	*offset = args->msg_flags & MBX_MSG_BUF ? args->offset : MBX_NO_OFFSET;
	if (prio)
		*prio = args->prio;
	return (ssize_t)args->len;
}

ssize_t mbx_recv_inplace_release(int port, uint64_t release_offset,
				 size_t release_len, uint64_t *offset,
				 unsigned int *prio)
{
	struct mbx_recv args = {
		.flags = MBX_RECV_INPLACE | MBX_RECV_RELEASE,
		.release_offset = release_offset,
		.release_len = release_len,
	};

	return recv_inplace(port, &args, offset, prio);
}

ssize_t mbx_recv_inplace(int port, uint64_t *offset, unsigned int *prio)
{
	struct mbx_recv args = { .flags = MBX_RECV_INPLACE };

	return recv_inplace(port, &args, offset, prio);
}

int mbx_buf_release(int port, uint64_t offset, size_t len)
{
	struct mbx_buf args = { .offset = offset, .len = len };

	return __mbx_ioctl(port, MBX_IOC_BUF_RELEASE, &args);
}
