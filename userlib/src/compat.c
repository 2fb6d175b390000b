// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * libmailbox: the LIBMAILBOX_1.0 forms of the calls whose structs grew.
 *
 * struct mbx_send and struct mbx_recv gained fields at their end in 1.1
 * (MBX_SEND_NEXT, MBX_RECV_RELEASE), and with them struct mbx_call and the
 * stride of batch entries.  A program built against 1.0 still passes the
 * 1.0 sizes: these versions hand them to the kernel as such (it accepts
 * every version), so such a program keeps working, unchanged, with this
 * library.  New programs link to the default (1.1) versions.
 *
 * mbx_notify() came after 1.0 (it is 1.4's), but the map's 1.0 wildcard
 * exported it there for a while: programs linked then keep that name.
 */
#include "internal.h"

#define V10(name) __attribute__((symver(#name "@LIBMAILBOX_1.0")))

/* The ioctl numbers of the first versions, sizes and all. */
#define MBX_IOC_SEND_V0	_IOC(_IOC_WRITE, MBX_IOC_MAGIC, 0x10, MBX_SEND_SIZE_VER0)
#define MBX_IOC_RECV_V0	_IOC(_IOC_READ | _IOC_WRITE, MBX_IOC_MAGIC, 0x11, \
			     MBX_RECV_SIZE_VER0)
#define MBX_IOC_CALL_V0	_IOC(_IOC_READ | _IOC_WRITE, MBX_IOC_MAGIC, 0x16, \
			     MBX_CALL_SIZE_VER0)
#define MBX_IOC_SEND_BATCH_V0 _IOC(_IOC_READ | _IOC_WRITE, MBX_IOC_MAGIC, \
				   0x17, MBX_BATCH_SIZE_VER0)
#define MBX_IOC_RECV_BATCH_V0 _IOC(_IOC_READ | _IOC_WRITE, MBX_IOC_MAGIC, \
				   0x18, MBX_BATCH_SIZE_VER0)

/*
 * Defined with default visibility (a versioned symbol needs it) but not
 * declared in any header: only their versioned names are exported.
 */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"

V10(mbx_send_ex) int __mbx_send_ex_v10(int port, void *args)
{
	int ret = __mbx_ioctl(port, MBX_IOC_SEND_V0, args);

	return ret < 0 ? ret : 0;
}

V10(mbx_recv_ex) ssize_t __mbx_recv_ex_v10(int port, void *args)
{
	int ret = __mbx_ioctl(port, MBX_IOC_RECV_V0, args);

	return ret < 0 ? ret : (ssize_t)((struct mbx_recv *)args)->len;
}

V10(mbx_call_ex) int __mbx_call_ex_v10(int port, void *args)
{
	return __mbx_ioctl(port, MBX_IOC_CALL_V0, args);
}

static int batch_v10(int port, unsigned long cmd, void *msgs,
		     unsigned int count, unsigned int flags)
{
	/* A VER0 batch: the VER0 fields, entries of the VER0 sizes. */
	struct mbx_batch args = {
		.msgs = (uintptr_t)msgs,
		.count = count,
		.flags = flags,
	};

	return __mbx_ioctl(port, cmd, &args);
}

V10(mbx_send_batch) int __mbx_send_batch_v10(int port, void *msgs,
					     unsigned int count,
					     unsigned int flags)
{
	return batch_v10(port, MBX_IOC_SEND_BATCH_V0, msgs, count, flags);
}

V10(mbx_recv_batch) int __mbx_recv_batch_v10(int port, void *msgs,
					     unsigned int count,
					     unsigned int flags)
{
	return batch_v10(port, MBX_IOC_RECV_BATCH_V0, msgs, count, flags);
}

V10(mbx_notify) int __mbx_notify_v10(int port, const struct mbx_notify *args)
{
	return mbx_notify(port, args);
}
