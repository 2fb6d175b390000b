// SPDX-License-Identifier: GPL-2.0
/*
 * mailbox: request/reply in one system call (MBX_IOC_CALL).
 *
 * A call sends on one port file and receives on another (or the same), both
 * checked before anything is sent, and spins briefly for the reply before
 * it sleeps.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/sched/clock.h>
#include <linux/sched/signal.h>
#include <linux/sched/stat.h>

#include "mbx.h"

/*
 * Before a call's receive half blocks, spin while its reply can be expected
 * at once: the peer runs on another CPU and replies within microseconds,
 * and sleeping would cost a wake-up and two context switches more than the
 * wait itself.  The spin is a lockless hint; the receive that follows
 * decides.  It ends as soon as something can be received, the port shuts
 * down or reaches end of stream, another task wants this CPU, a signal is
 * pending, after call_spin_ns, or at the deadline.
 */
static void mbx_call_spin(struct mbx_port *port, const ktime_t *deadline)
{
	u64 spin = READ_ONCE(mbx_call_spin_ns);
	u64 end;

	if (!spin)
		return;
	end = local_clock() + spin;
	if (deadline)
		end = min_t(u64, end, local_clock() +
			    max_t(s64, ktime_sub(*deadline, ktime_get()), 0));
	while (!READ_ONCE(port->queued) && list_empty(&port->send_waiters) &&
	       !READ_ONCE(port->shutdown) &&
	       (READ_ONCE(port->linked) || READ_ONCE(port->senders)) &&
	       !need_resched() &&
	       single_task_running() && !signal_pending(current) &&
	       local_clock() < end)
		cpu_relax();
}

/**
 * mbx_ioctl_call() - MBX_IOC_CALL: send on @file, then receive on
 * args.recv_fd (or @file)
 * @file: the sending port file
 * @uarg: the user's struct mbx_call
 *
 * Both halves are checked before anything is sent, so a call fails
 * half-way only when the receive itself fails; uarg->done tells the caller.
 *
 * Context: process context, may sleep.
 * Return: 0 or -errno; never -ERESTARTSYS once the request is sent.
 */
long mbx_ioctl_call(struct file *file, struct mbx_call __user *uarg)
{
	ktime_t send_deadline, recv_deadline, *send_dl, *recv_dl;
	struct file *rfile = file;
	struct mbx_call args;
	struct fd f = {};
	bool nonblock;
	u32 done = 0;
	int ret;

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	ret = -EINVAL;
	if (args.flags || args.reserved)
		goto out;
	if (args.recv_fd != -1) {
		f = fdget(args.recv_fd);
		ret = -EBADF;
		if (!fd_file(f))
			goto out;
		rfile = fd_file(f);
		ret = -EINVAL;
		if (!mbx_is_port_file(rfile))
			goto out;
	}

	ret = mbx_check_send(file, &args.send);
	if (!ret)
		ret = mbx_check_recv(rfile, &args.recv);
	if (!ret)
		ret = mbx_deadline(args.send.flags, args.send.timeout_ns,
				   &send_deadline, &send_dl);
	if (!ret)
		ret = mbx_deadline(args.recv.flags, args.recv.timeout_ns,
				   &recv_deadline, &recv_dl);
	if (ret)
		goto out;

	ret = mbx_send_args(file, &args.send,
			    mbx_nonblock(file, args.send.flags), send_dl);
	if (ret)
		goto out;
	done = MBX_CALL_SENT;

	nonblock = mbx_nonblock(rfile, args.recv.flags);
	if (!nonblock)
		mbx_call_spin(mbx_file_port(rfile), recv_dl);
	ret = mbx_recv_args(rfile, &args.recv, &uarg->recv, nonblock, recv_dl);
	if (!ret)
		done |= MBX_CALL_RECEIVED;
	/* Restarting the call would send the request a second time. */
	if (ret == -ERESTARTSYS)
		ret = -EINTR;
out:
	fdput(f);
	if (put_user(done, &uarg->done) && !ret)
		ret = -EFAULT;
	return ret;
}
