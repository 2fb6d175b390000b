// SPDX-License-Identifier: GPL-2.0
/*
 * mailbox: request/reply in one system call (MBX_IOC_CALL).
 *
 * A call sends on one port file and receives on another (or the same), both
 * checked before anything is sent, and spins for the reply for up to
 * call_spin_ns before it sleeps (mbx_recv_spin()).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>

#include "mbx.h"

/* Where the results of a call go in the user's struct, whatever its layout. */
struct mbx_call_user {
	struct mbx_send __user *send;
	struct mbx_recv __user *recv;
	u32 __user *done;
	size_t send_size;
	size_t recv_size;
};

/* MBX_CALL_SIZE_VER0: the VER0 send and recv, then the same tail. */
struct mbx_call_v0 {
	u8 send[MBX_SEND_SIZE_VER0];
	u8 recv[MBX_RECV_SIZE_VER0];
	s32 recv_fd;
	u32 flags;
	u32 done;
	u32 reserved;
};

/* Copy in a struct mbx_call of either size; the VER0 one is zero-extended. */
static int mbx_call_copy_in(struct mbx_call *args, unsigned int cmd,
			    void __user *uarg, struct mbx_call_user *u)
{
	struct mbx_call __user *ucall = uarg;
	struct mbx_call_v0 __user *uv0 = uarg;
	struct mbx_call_v0 v0;

	if (_IOC_SIZE(cmd) == sizeof(*args)) {
		*u = (struct mbx_call_user){ &ucall->send, &ucall->recv,
			&ucall->done, MBX_SEND_SIZE_VER1, MBX_RECV_SIZE_VER1 };
		return copy_from_user(args, uarg, sizeof(*args)) ? -EFAULT : 0;
	}
	BUILD_BUG_ON(sizeof(v0) != MBX_CALL_SIZE_VER0);
	if (_IOC_SIZE(cmd) != sizeof(v0))
		return -ENOTTY;
	if (copy_from_user(&v0, uarg, sizeof(v0)))
		return -EFAULT;
	memset(args, 0, sizeof(*args));
	memcpy(&args->send, v0.send, sizeof(v0.send));
	memcpy(&args->recv, v0.recv, sizeof(v0.recv));
	args->recv_fd = v0.recv_fd;
	args->flags = v0.flags;
	args->reserved = v0.reserved;
	*u = (struct mbx_call_user){ (void __user *)uv0->send,
		(void __user *)uv0->recv, &uv0->done,
		MBX_SEND_SIZE_VER0, MBX_RECV_SIZE_VER0 };
	return 0;
}

/* The file a call receives on: @file itself, or the port file @fd. */
static int mbx_call_rfile(struct file *file, int fd, struct fd *f,
			  struct file **rfile)
{
	*rfile = file;
	if (fd == -1)
		return 0;
	*f = fdget(fd);
	if (!fd_file(*f))
		return -EBADF;
	*rfile = fd_file(*f);
	return mbx_is_port_file(*rfile) ? 0 : -EINVAL;
}

/**
 * mbx_ioctl_call() - MBX_IOC_CALL: send on @file, then receive on
 * args.recv_fd (or @file)
 * @file: the sending port file
 * @cmd:  MBX_IOC_CALL, of either size (MBX_CALL_SIZE_VER*)
 * @uarg: the user's struct mbx_call
 *
 * Both halves are checked before anything is sent, so a call fails
 * half-way only when the receive itself fails; uarg->done tells the caller.
 *
 * Context: process context, may sleep.
 * Return: 0 or -errno; never -ERESTARTSYS once the request is sent.
 */
long mbx_ioctl_call(struct file *file, unsigned int cmd, void __user *uarg)
{
	ktime_t send_deadline, recv_deadline, *send_dl, *recv_dl;
	struct mbx_call_user u;
	struct mbx_call args;
	struct file *rfile = file;
	struct fd f = {};
	bool nonblock;
	u32 done = 0;
	int ret;

	ret = mbx_call_copy_in(&args, cmd, uarg, &u);
	if (ret)
		return ret;
	ret = args.flags || args.reserved ? -EINVAL :
	      mbx_call_rfile(file, args.recv_fd, &f, &rfile);
	if (!ret)
		ret = mbx_check_send(file, &args.send, u.send_size);
	if (!ret)
		ret = mbx_check_recv(rfile, &args.recv, u.recv_size);
	if (!ret)
		ret = mbx_deadline(args.send.flags, args.send.timeout_ns,
				   &send_deadline, &send_dl);
	if (!ret)
		ret = mbx_deadline(args.recv.flags, args.recv.timeout_ns,
				   &recv_deadline, &recv_dl);
	if (ret)
		goto out;
	/* An argument that cannot tell what happened: nothing happens. */
	if (put_user(0, u.done)) {
		ret = -EFAULT;
		goto out;
	}

	nonblock = mbx_nonblock(file, args.send.flags);
	ret = mbx_send_args(file, &args.send, nonblock, send_dl);
	if (ret)
		goto out;
	done = MBX_CALL_SENT;
	if (args.send.flags & MBX_SEND_NEXT) {
		ret = mbx_send_next(file, &args.send, u.send, nonblock,
				    send_dl);
		if (ret)
			goto out;
	}

	/* A relative receive timeout runs from here, not from the call. */
	if (recv_dl && !(args.recv.flags & MBX_ABSTIME))
		mbx_deadline(args.recv.flags, args.recv.timeout_ns,
			     &recv_deadline, &recv_dl);
	nonblock = mbx_nonblock(rfile, args.recv.flags);
	ret = mbx_recv_args(rfile, &args.recv, u.recv, nonblock, recv_dl,
			    READ_ONCE(mbx_call_spin_ns));
	if (!ret)
		done |= MBX_CALL_RECEIVED;
	/* Restarting the call would send the request a second time. */
	if (ret == -ERESTARTSYS)
		ret = -EINTR;
out:
	fdput(f);
	if (put_user(done, u.done) && !ret)
		ret = -EFAULT;
	return ret;
}
