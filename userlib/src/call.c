// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * libmailbox: request/reply in one call, and batches.
 */
#include <stdint.h>

#include "internal.h"

int mbx_call_ex(int port, struct mbx_call *args)
{
	return __mbx_ioctl(port, MBX_IOC_CALL, args);
}

static ssize_t __mbx_sendrecv(int send_port, const void *out, size_t out_len,
			      int recv_port, void *in, size_t in_len,
			      unsigned int *done)
{
	struct mbx_call args = {
		.send = { .buf = (uintptr_t)out, .len = out_len },
		.recv = { .buf = (uintptr_t)in, .len = in_len },
		.recv_fd = recv_port,
	};
	int ret;

	ret = mbx_call_ex(send_port, &args);
	if (done)
		*done = args.done;
	return ret < 0 ? ret : (ssize_t)args.recv.len;
}

ssize_t mbx_call(int port, const void *req, size_t req_len, int reply_port,
		 void *reply, size_t reply_len, unsigned int *done)
{
	return __mbx_sendrecv(port, req, req_len, reply_port, reply, reply_len,
			      done);
}

ssize_t mbx_reply_recv(int reply_port, const void *reply, size_t reply_len,
		       int request_port, void *req, size_t req_len,
		       unsigned int *done)
{
	return __mbx_sendrecv(reply_port, reply, reply_len, request_port, req,
			      req_len, done);
}

int mbx_send_batch(int port, struct mbx_send *msgs, unsigned int count,
		   unsigned int flags)
{
	struct mbx_batch args = {
		.msgs = (uintptr_t)msgs,
		.count = count,
		.flags = flags,
	};

	return __mbx_ioctl(port, MBX_IOC_SEND_BATCH, &args);
}

int mbx_recv_batch(int port, struct mbx_recv *msgs, unsigned int count,
		   unsigned int flags)
{
	struct mbx_batch args = {
		.msgs = (uintptr_t)msgs,
		.count = count,
		.flags = flags,
	};

	return __mbx_ioctl(port, MBX_IOC_RECV_BATCH, &args);
}
