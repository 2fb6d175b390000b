// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * libmailbox: notification registration on a MBX_PORT_MQ port.
 */
#include "internal.h"

int mbx_notify(int port, const struct mbx_notify *args)
{
	int ret = __mbx_ioctl(port, MBX_IOC_NOTIFY, (void *)args);

	return ret < 0 ? ret : 0;
}
