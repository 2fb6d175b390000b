// SPDX-License-Identifier: GPL-2.0
/*
 * mailbox: the ioctls of a port file: argument copy-in, checks, dispatch.
 *
 * Request/reply (MBX_IOC_CALL) lives in call.c and batches in batch.c; the
 * rest is here.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/uaccess.h>

#include "mbx.h"

static long mbx_ioctl_send(struct file *file, unsigned int cmd,
			   void __user *uarg)
{
	ktime_t deadline, *dl;
	struct mbx_send args;
	bool nonblock;
	int ret;

	ret = mbx_copy_arg(&args, sizeof(args), MBX_SEND_SIZE_VER0, cmd, uarg);
	if (ret)
		return ret;
	ret = mbx_check_send(file, &args, _IOC_SIZE(cmd));
	if (ret)
		return ret;
	ret = mbx_deadline(args.flags, args.timeout_ns, &deadline, &dl);
	if (ret)
		return ret;
	nonblock = mbx_nonblock(file, args.flags);
	ret = mbx_send_args(file, &args, nonblock, dl);
	/*
	 * A sealed send that failed has sealed its region all the same (it
	 * stays so until freed).  An untimed one is restarted by its wait's
	 * -ERESTARTSYS, which finds the region sealed already; a timed one
	 * fails with -EINTR, as docs/SEMANTICS.md says.
	 */
	if (ret)
		return args.flags & MBX_SEND_SEALED ? ret :
		       mbx_restart_abstime(ret, args.flags);
	if (args.flags & MBX_SEND_NEXT)
		ret = mbx_send_next(file, &args, uarg, nonblock, dl);
	return ret;
}

static long mbx_ioctl_recv(struct file *file, unsigned int cmd,
			   void __user *uarg)
{
	ktime_t deadline, *dl;
	struct mbx_recv args;
	int ret;

	ret = mbx_copy_arg(&args, sizeof(args), MBX_RECV_SIZE_VER0, cmd, uarg);
	if (ret)
		return ret;
	ret = mbx_check_recv(file, &args, _IOC_SIZE(cmd));
	if (ret)
		return ret;
	ret = mbx_deadline(args.flags, args.timeout_ns, &deadline, &dl);
	if (ret)
		return ret;
	ret = mbx_recv_args(file, &args, uarg, mbx_nonblock(file, args.flags),
			    dl, READ_ONCE(mbx_recv_spin_ns));
	/* A receive that released a region has done something already. */
	return args.flags & MBX_RECV_RELEASE ? ret :
	       mbx_restart_abstime(ret, args.flags);
}

/* A new fd to the port with at most the access of @file. */
static long mbx_ioctl_dup(struct file *file, struct mbx_port_dup __user *uarg)
{
	struct mbx_port *port = mbx_file_port(file);
	struct mbx_port_dup args;
	u32 access;
	int ret;

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	access = mbx_open_access(args.flags, args.reserved);
	if (!access)
		return -EINVAL;
	if (access & ~mbx_file_access(file))
		return -EACCES;

	kref_get(&port->ref);
	ret = mbx_port_install(port, access, args.flags, MBX_ORIGIN_FILE, true);
	if (ret < 0)
		mbx_port_put(port);
	return ret;
}

static long mbx_ioctl_info(struct file *file, unsigned int cmd,
			   void __user *uarg)
{
	size_t usize = _IOC_SIZE(cmd);
	struct mbx_port_info info;

	if (usize < sizeof(info))
		return -EINVAL;

	mbx_port_info(mbx_file_port(file), &info);
	info.access = mbx_file_access(file);
	if (mbx_file_port(file)->topic)
		mbx_topic_info(file, &info);
	if (copy_to_user(uarg, &info, sizeof(info)) ||
	    clear_user(uarg + sizeof(info), usize - sizeof(info)))
		return -EFAULT;
	return 0;
}

static long mbx_ioctl_buf_alloc(struct file *file, struct mbx_buf __user *uarg)
{
	struct mbx_port *port = mbx_file_port(file);
	ktime_t deadline, *dl;
	struct mbx_buf args;
	int ret;

	if (!(mbx_file_access(file) & MBX_SEND))
		return -EBADF;
	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	if (args.flags & ~(MBX_WAIT_FLAGS | MBX_BUF_PAGES) || args.reserved)
		return -EINVAL;
	ret = mbx_deadline(args.flags, args.timeout_ns, &deadline, &dl);
	if (ret)
		return ret;
	if (!port->pool)
		return -ENODEV;

	ret = mbx_pool_alloc(port, file, args.len, args.flags & MBX_BUF_PAGES,
			     mbx_nonblock(file, args.flags), dl, &args.offset);
	if (ret)
		return mbx_restart_abstime(ret, args.flags);
	if (put_user(args.offset, &uarg->offset)) {
		mbx_pool_release(port, file, args.offset, args.len);
		return -EFAULT;
	}
	return 0;
}

static long mbx_ioctl_buf_release(struct file *file,
				  struct mbx_buf __user *uarg)
{
	struct mbx_port *port = mbx_file_port(file);
	struct mbx_buf args;

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	if (args.flags || args.timeout_ns || args.reserved)
		return -EINVAL;
	if (!port->pool)
		return -ENODEV;
	if (port->topic)
		return mbx_topic_buf_release(file, args.offset, args.len);
	return mbx_pool_release(port, file, args.offset, args.len);
}

/**
 * mbx_port_ioctl() - the unlocked_ioctl of a port file
 * @file: the port file
 * @cmd:  the ioctl
 * @arg:  its argument, a user pointer
 *
 * Context: process context.
 * Return: as each ioctl says (mailbox(7)); -ENOTTY for an unknown one.
 */
long mbx_port_ioctl(struct file *file, unsigned int cmd,
		    unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (MBX_IOC_NOSIZE(cmd)) {
	case MBX_IOC_NOSIZE(MBX_IOC_SEND):
		return mbx_ioctl_send(file, cmd, uarg);
	case MBX_IOC_NOSIZE(MBX_IOC_RECV):
		return mbx_ioctl_recv(file, cmd, uarg);
	case MBX_IOC_NOSIZE(MBX_IOC_PORT_INFO):
		return mbx_ioctl_info(file, cmd, uarg);
	case MBX_IOC_NOSIZE(MBX_IOC_CALL):
		return mbx_ioctl_call(file, cmd, uarg);
	case MBX_IOC_NOSIZE(MBX_IOC_SEND_BATCH):
		return mbx_ioctl_batch(file, cmd, uarg, true);
	case MBX_IOC_NOSIZE(MBX_IOC_RECV_BATCH):
		return mbx_ioctl_batch(file, cmd, uarg, false);
	case MBX_IOC_NOSIZE(MBX_IOC_NOTIFY):
		return mbx_ioctl_notify(file, cmd, uarg);
	case MBX_IOC_NOSIZE(MBX_IOC_SUBSCRIBE):
		return mbx_ioctl_subscribe(file, cmd, uarg);
	case MBX_IOC_NOSIZE(MBX_IOC_RING_INFO):
	case MBX_IOC_NOSIZE(MBX_IOC_RING_ENTER):
		return mbx_ring_ioctl(file, cmd, uarg);
	}

	switch (cmd) {
	case MBX_IOC_SHUTDOWN:
		mbx_port_shutdown(mbx_file_port(file));
		return 0;
	case MBX_IOC_BUF_ALLOC:
		return mbx_ioctl_buf_alloc(file, uarg);
	case MBX_IOC_BUF_RELEASE:
		return mbx_ioctl_buf_release(file, uarg);
	case MBX_IOC_PORT_DUP:
		return mbx_ioctl_dup(file, uarg);
	case MBX_IOC_UNSUBSCRIBE:
		return mbx_ioctl_unsubscribe(file);
	case MBX_IOC_RING_ATTACH:
		return mbx_ring_ioctl(file, cmd, uarg);
	}
	return -ENOTTY;
}
