// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * libmailbox: sending and receiving messages (copy mode).
 *
 * Every form is MBX_IOC_SEND / MBX_IOC_RECV with a filled-in struct; the
 * short forms only differ in the flags they set.
 */
#include "internal.h"

static int send_flags(int port, const void *buf, size_t len, unsigned int prio,
		      unsigned int flags, uint64_t timeout_ns)
{
	struct mbx_send arg = {
		.buf = (uintptr_t)buf,
		.len = len,
		.timeout_ns = timeout_ns,
		.flags = flags,
		.prio = prio,
	};

	return mbx_send_ex(port, &arg);
}

int mbx_send(int port, const void *buf, size_t len, unsigned int prio)
{
	return send_flags(port, buf, len, prio, 0, 0);
}

int mbx_send_nonblock(int port, const void *buf, size_t len, unsigned int prio)
{
	return send_flags(port, buf, len, prio, MBX_NONBLOCK, 0);
}

int mbx_send_timed(int port, const void *buf, size_t len, unsigned int prio,
		   uint64_t timeout_ns)
{
	return send_flags(port, buf, len, prio, MBX_TIMEOUT, timeout_ns);
}

int mbx_send_ex(int port, struct mbx_send *args)
{
	int ret = __mbx_ioctl(port, MBX_IOC_SEND, args);

	return ret < 0 ? ret : 0;
}

static ssize_t recv_flags(int port, void *buf, size_t len, unsigned int *prio,
			  unsigned int flags, uint64_t timeout_ns)
{
	struct mbx_recv arg = {
		.buf = (uintptr_t)buf,
		.len = len,
		.timeout_ns = timeout_ns,
		.flags = flags,
	};
	ssize_t ret;

	ret = mbx_recv_ex(port, &arg);
	if (ret >= 0 && prio)
		*prio = arg.prio;
	return ret;
}

ssize_t mbx_recv(int port, void *buf, size_t len, unsigned int *prio)
{
	return recv_flags(port, buf, len, prio, 0, 0);
}

ssize_t mbx_recv_nonblock(int port, void *buf, size_t len, unsigned int *prio)
{
	return recv_flags(port, buf, len, prio, MBX_NONBLOCK, 0);
}

ssize_t mbx_recv_timed(int port, void *buf, size_t len, unsigned int *prio,
		       uint64_t timeout_ns)
{
	return recv_flags(port, buf, len, prio, MBX_TIMEOUT, timeout_ns);
}

ssize_t mbx_recv_ex(int port, struct mbx_recv *args)
{
	int ret = __mbx_ioctl(port, MBX_IOC_RECV, args);

	/* The kernel writes the message length back into args->len. */
	return ret < 0 ? ret : (ssize_t)args->len;
}
