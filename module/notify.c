// SPDX-License-Identifier: GPL-2.0
/*
 * mailbox: notification of a MBX_PORT_MQ port (MBX_IOC_NOTIFY), as
 * mq_notify(3) defines it for POSIX message queues.
 *
 * A port holds at most one registration, made by one process.  It fires
 * once, from the send that queues a message on an empty port while no
 * receiver waits (queue.c, __mbx_send()), and is then gone.  It is also
 * gone when its process closes an fd of the port (the file's flush, as
 * mqueue_flush_file() does), when it unregisters, and when the port's
 * last fd is closed.  Firing queues a signal to the registering process,
 * adds 1 to an eventfd (libmailbox-mq runs SIGEV_THREAD functions from a
 * thread that waits on it), or does nothing (SIGEV_NONE).
 *
 * LOCKING: port->notify is protected by port->lock.  A registration fires
 * and is freed under it: sending a signal takes the target's siglock, an
 * eventfd its wait queue's lock, and freeing takes no lock that could
 * wait for port->lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cred.h>
#include <linux/eventfd.h>
#include <linux/pid.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/user_namespace.h>

#include "mbx.h"

/**
 * struct mbx_notify_reg - a port's notification registration
 * @owner:   the registering thread group, referenced
 * @thread:  the registering thread, referenced
 * @exec_id: the registering task's self_exec_id: a process that has
 *           since run exec() is another program, and gets no signal
 * @user_ns: its user namespace, referenced, for the sender's si_uid
 * @efd:     MBX_NOTIFY_EVENTFD: the eventfd, referenced
 * @value:   MBX_NOTIFY_SIGNAL: si_value
 * @type:    MBX_NOTIFY_*
 * @signo:   MBX_NOTIFY_SIGNAL: the signal
 */
struct mbx_notify_reg {
	struct pid *owner;
	struct pid *thread;
	u64 exec_id;
	struct user_namespace *user_ns;
	struct eventfd_ctx *efd;
	u64 value;
	u32 type;
	int signo;
};

static void mbx_notify_free(struct mbx_notify_reg *reg)
{
	if (reg->efd)
		eventfd_ctx_put(reg->efd);
	put_user_ns(reg->user_ns);
	put_pid(reg->thread);
	put_pid(reg->owner);
	kfree(reg);
}

/*
 * The thread of @leader's group to signal: one that does not block the
 * signal, as the kernel picks for a process-directed signal.  Else one
 * that can still take it with sigwaitinfo() or a signalfd: the main
 * thread, then the registering thread, then any; never an exiting one (a
 * main thread that has called pthread_exit() stays as a zombie, and a
 * signal aimed at it alone is never delivered).  The leader when no
 * thread is left.
 */
static struct task_struct *mbx_notify_thread(struct task_struct *leader,
					     struct mbx_notify_reg *reg)
{
	struct task_struct *t, *live = NULL;

	for_each_thread(leader, t) {
		if (t->flags & PF_EXITING)
			continue;
		if (!sigismember(&t->blocked, reg->signo))
			return t;
		live = live ?: t;
	}
	if (!(leader->flags & PF_EXITING))
		return leader;
	t = pid_task(reg->thread, PIDTYPE_PID);
	if (t && !(t->flags & PF_EXITING) && same_thread_group(t, leader))
		return t;
	return live ?: leader;
}

static void mbx_notify_signal(struct mbx_notify_reg *reg,
			      const struct mbx_msg *msg)
{
	struct task_struct *leader;
	struct kernel_siginfo info;

	if (!reg->signo)	/* allowed, as kill(pid, 0) is: nothing sent */
		return;
	clear_siginfo(&info);
	info.si_signo = reg->signo;
	info.si_code = SI_MESGQ;
	info.si_value.sival_ptr = u64_to_user_ptr(reg->value);

	rcu_read_lock();
	/*
	 * The sender's ids as the registered process sees them: the
	 * message's, which a receive whose copy failed may be putting back.
	 */
	info.si_pid = pid_nr_ns(msg->pid, ns_of_pid(reg->owner));
	info.si_uid = from_kuid_munged(reg->user_ns, msg->uid);
	leader = pid_task(reg->owner, PIDTYPE_TGID);
	/* As ipc/mqueue.c: never into a program that did not ask for it. */
	if (leader && READ_ONCE(leader->self_exec_id) == reg->exec_id)
		send_sig_info(reg->signo, &info,
			      mbx_notify_thread(leader, reg));
	rcu_read_unlock();
}

/**
 * __mbx_notify_fire() - fire and remove a port's registration
 * @port: a port whose empty queue just took a message, with port->notify
 * @msg:  the message, whose sender the signal names
 *
 * Context: port->lock held.
 */
void __mbx_notify_fire(struct mbx_port *port, const struct mbx_msg *msg)
{
	struct mbx_notify_reg *reg = port->notify;

	lockdep_assert_held(&port->lock);
	port->notify = NULL;
	if (reg->type == MBX_NOTIFY_SIGNAL)
		mbx_notify_signal(reg, msg);
	else if (reg->type == MBX_NOTIFY_EVENTFD)
		eventfd_signal(reg->efd);
	mbx_notify_free(reg);
}

/**
 * __mbx_notify_drop() - remove a port's registration without firing it
 * @port: the port, with port->notify
 *
 * Context: port->lock held.
 */
void __mbx_notify_drop(struct mbx_port *port)
{
	lockdep_assert_held(&port->lock);
	mbx_notify_free(port->notify);
	port->notify = NULL;
}

/**
 * mbx_notify_flush() - a process closes an fd of a MBX_PORT_MQ port
 * @port: the port
 *
 * Its registration, if it holds the port's, goes.
 *
 * Context: process context.
 */
void mbx_notify_flush(struct mbx_port *port)
{
	spin_lock(&port->lock);
	if (port->notify && port->notify->owner == task_tgid(current))
		__mbx_notify_drop(port);
	mbx_port_unlock(port);
}

/* Check a registration request; take its eventfd.  Return: 0 or -errno. */
static int mbx_notify_check(const struct mbx_notify *args,
			    struct eventfd_ctx **efd)
{
	*efd = NULL;
	if (args->reserved || args->flags & ~MBX_NOTIFY_REMOVE)
		return -EINVAL;
	if (args->flags & MBX_NOTIFY_REMOVE)
		return args->type || args->signo || args->fd || args->value ?
		       -EINVAL : 0;

	switch (args->type) {
	case MBX_NOTIFY_NONE:
		return args->signo || args->fd || args->value ? -EINVAL : 0;
	case MBX_NOTIFY_SIGNAL:
		return args->signo < 0 || !valid_signal(args->signo) ||
		       args->fd ? -EINVAL : 0;
	case MBX_NOTIFY_EVENTFD:
		if (args->signo || args->value)
			return -EINVAL;
		*efd = eventfd_ctx_fdget(args->fd);
		return PTR_ERR_OR_ZERO(*efd);
	}
	return -EINVAL;
}

/**
 * mbx_ioctl_notify() - MBX_IOC_NOTIFY: register or remove the caller's
 * notification
 * @file: a file of a MBX_PORT_MQ port (any access)
 * @cmd:  the ioctl number, whose size field versions the argument
 * @uarg: struct mbx_notify
 *
 * Context: process context, may sleep.
 * Return: 0; -EBUSY if another registration is held (by anyone);
 * -EINVAL for a port not made with MBX_PORT_MQ or a bad request; -EBADF
 * for a bad eventfd; -EFAULT, -ENOMEM.
 */
long mbx_ioctl_notify(struct file *file, unsigned int cmd,
		      struct mbx_notify __user *uarg)
{
	struct mbx_port *port = mbx_file_port(file);
	struct mbx_notify_reg *reg;
	struct eventfd_ctx *efd;
	struct mbx_notify args;
	int ret;

	ret = mbx_copy_arg(&args, sizeof(args), sizeof(args), cmd, uarg);
	if (ret)
		return ret;
	if (!port->mq)
		return -EINVAL;
	ret = mbx_notify_check(&args, &efd);
	if (ret)
		return ret;
	if (args.flags & MBX_NOTIFY_REMOVE) {
		mbx_notify_flush(port);
		return 0;
	}

	reg = kzalloc(sizeof(*reg), GFP_KERNEL_ACCOUNT);
	if (!reg) {
		if (efd)
			eventfd_ctx_put(efd);
		return -ENOMEM;
	}
	reg->owner = get_pid(task_tgid(current));
	reg->thread = get_pid(task_pid(current));
	reg->exec_id = READ_ONCE(current->self_exec_id);
	reg->user_ns = get_user_ns(current_user_ns());
	reg->efd = efd;
	reg->value = args.value;
	reg->type = args.type;
	reg->signo = args.signo;

	spin_lock(&port->lock);
	if (port->notify)
		ret = -EBUSY;
	else
		port->notify = reg;
	mbx_port_unlock(port);
	if (ret)
		mbx_notify_free(reg);
	return ret;
}
