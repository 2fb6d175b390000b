// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * libmailbox: topics (ports created with MBX_PORT_TOPIC): subscribing,
 * unsubscribing, and a receive that says how many messages were dropped.
 */
#include "internal.h"

int mbx_subscribe(int port, unsigned int policy, uint32_t max_msgs,
		  uint64_t max_bytes)
{
	struct mbx_subscribe arg = {
		.policy = policy,
		.max_msgs = max_msgs,
		.max_bytes = max_bytes,
	};
	int ret = __mbx_ioctl(port, MBX_IOC_SUBSCRIBE, &arg);

	return ret < 0 ? ret : 0;
}

int mbx_unsubscribe(int port)
{
	int ret = __mbx_ioctl(port, MBX_IOC_UNSUBSCRIBE, NULL);

	return ret < 0 ? ret : 0;
}

ssize_t mbx_topic_recv(int port, void *buf, size_t len, unsigned int *prio,
		       uint32_t *dropped)
{
	struct mbx_recv arg = {
		.buf = (uintptr_t)buf,
		.len = len,
	};
	ssize_t ret;

	ret = mbx_recv_ex(port, &arg);
	if (ret >= 0 && prio)
		*prio = arg.prio;
	if (ret >= 0 && dropped)
		*dropped = arg.dropped;
	return ret;
}
