// SPDX-License-Identifier: GPL-2.0
/*
 * mailbox: the uapi of a topic file's subscription: MBX_IOC_SUBSCRIBE and
 * MBX_IOC_UNSUBSCRIBE, and what poll, MBX_IOC_PORT_INFO, fdinfo and debugfs
 * report of it.  The backlog itself is topic.c's.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/seq_file.h>

#include "mbx.h"
#include "topic.h"

/* The checks shared by MBX_IOC_SUBSCRIBE and MBX_IOC_UNSUBSCRIBE. */
static struct mbx_sub *mbx_topic_file_sub(struct file *file)
{
	if (!mbx_file_port(file)->topic)
		return ERR_PTR(-EINVAL);
	if (!(mbx_file_access(file) & MBX_RECV))
		return ERR_PTR(-EBADF);
	return ((struct mbx_file *)file->private_data)->sub;
}

/**
 * mbx_ioctl_subscribe() - MBX_IOC_SUBSCRIBE: subscribe, or change the
 * policy and limits of a subscription
 * @file: a topic file that may receive
 * @cmd:  the ioctl, of any size of struct mbx_subscribe
 * @uarg: the user's struct mbx_subscribe
 *
 * Context: process context.
 * Return: 0, -EINVAL (not a topic, bad flags, policy or limits), -EBADF
 * (the file may not receive), -EFAULT.
 */
long mbx_ioctl_subscribe(struct file *file, unsigned int cmd,
			 struct mbx_subscribe __user *uarg)
{
	struct mbx_port *port = mbx_file_port(file);
	u64 room = mbx_topic_max_bytes(port);
	struct mbx_subscribe args;
	struct mbx_sub *sub;
	int ret;

	ret = mbx_copy_arg(&args, sizeof(args), sizeof(args), cmd, uarg);
	if (ret)
		return ret;
	sub = mbx_topic_file_sub(file);
	if (IS_ERR(sub))
		return PTR_ERR(sub);
	if (args.flags || args.reserved || args.policy > MBX_SUB_DROP_OLDEST ||
	    args.max_msgs > port->capacity || args.max_bytes > room)
		return -EINVAL;

	spin_lock(&port->lock);
	sub->policy = args.policy;
	sub->max_msgs = args.max_msgs ?: port->capacity;
	sub->max_bytes = args.max_bytes ?:
			 mbx_topic_default_bytes(port, args.policy);
	sub->full = false;
	if (!sub->active)
		__mbx_sub_start(port, sub);
	else if (sub->policy == MBX_SUB_DROP_OLDEST)
		/* Down to the new limits, but not past one: it fits alone. */
		while (sub->depth > 1 && (sub->depth > sub->max_msgs ||
					  sub->bytes > sub->max_bytes))
			__mbx_sub_drop(port, sub);
	__mbx_topic_room(port);
	mbx_port_unlock(port);
	return 0;
}

/**
 * mbx_ioctl_unsubscribe() - MBX_IOC_UNSUBSCRIBE: stop delivery, free the
 * backlog and the regions held in place
 * @file: a topic file that may receive
 *
 * Succeeds on a file that is not subscribed.
 *
 * Context: process context, may sleep (behind a receive of the same
 * subscription in flight).
 * Return: 0, -EINVAL (not a topic), -EBADF (the file may not receive),
 * -ERESTARTSYS.
 */
long mbx_ioctl_unsubscribe(struct file *file)
{
	struct mbx_port *port = mbx_file_port(file);
	struct mbx_sub *sub = mbx_topic_file_sub(file);

	if (IS_ERR(sub))
		return PTR_ERR(sub);
	/*
	 * After a receive of this subscription in flight (it holds sub->lock
	 * from its look at the message to its commit), so that a region it
	 * takes in place is among those given back here.
	 */
	if (mutex_lock_interruptible(&sub->lock))
		return -ERESTARTSYS;
	spin_lock(&port->lock);
	if (sub->active)
		__mbx_sub_stop(port, sub);
	mbx_port_unlock(port);
	mutex_unlock(&sub->lock);
	return 0;
}

/**
 * mbx_topic_poll() - the poll events of a topic file
 * @file: the file
 *
 * EPOLLIN when its own backlog is not empty; EPOLLOUT when no block-policy
 * backlog is full.
 *
 * Context: process context.
 * Return: the events.
 */
__poll_t mbx_topic_poll(struct file *file)
{
	struct mbx_port *port = mbx_file_port(file);
	struct mbx_sub *sub = ((struct mbx_file *)file->private_data)->sub;
	u32 access = mbx_file_access(file);
	__poll_t mask = 0;
	u32 depth;

	spin_lock(&port->lock);
	depth = sub && sub->active ? sub->depth : 0;
	if (depth)
		mask |= EPOLLIN | EPOLLRDNORM;
	if (access & MBX_SEND && !port->shutdown) {
		if (!__mbx_topic_blocked(port, 0))
			mask |= EPOLLOUT | EPOLLWRNORM;
		if (__mbx_no_receivers(port))
			mask |= EPOLLERR;
	}
	if (port->shutdown || (__mbx_no_senders(port) && !depth))
		mask |= EPOLLHUP;
	mbx_port_unlock(port);
	return mask;
}

static u32 mbx_sub_state(const struct mbx_sub *sub)
{
	if (!sub || !sub->active)
		return 0;
	return MBX_SUB_ACTIVE |
	       (sub->policy == MBX_SUB_DROP_OLDEST ? MBX_SUB_DROPPING : 0);
}

/**
 * mbx_topic_info() - fill the calling file's subscription fields of
 * MBX_IOC_PORT_INFO
 * @file: a topic file
 * @info: filled by mbx_port_info() already
 *
 * Context: process context.
 */
void mbx_topic_info(struct file *file, struct mbx_port_info *info)
{
	struct mbx_port *port = mbx_file_port(file);
	struct mbx_sub *sub = ((struct mbx_file *)file->private_data)->sub;

	if (!sub)
		return;
	spin_lock(&port->lock);
	info->sub_state = mbx_sub_state(sub);
	if (sub->active) {
		info->sub_depth = sub->depth;
		info->sub_max_msgs = sub->max_msgs;
		info->sub_bytes = sub->bytes;
		info->sub_dropped = sub->dropped;
	}
	mbx_port_unlock(port);
}

/**
 * mbx_topic_show_fdinfo() - the topic lines of a port file's fdinfo
 * @m:    the seq_file
 * @file: a topic file
 *
 * Context: process context.
 */
void mbx_topic_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct mbx_port_info info = {};

	spin_lock(&mbx_file_port(file)->lock);
	info.subscribers = mbx_file_port(file)->nr_subs;
	mbx_port_unlock(mbx_file_port(file));
	mbx_topic_info(file, &info);
	seq_printf(m, "mbx-subscribers:\t%u\n", info.subscribers);
	seq_printf(m, "mbx-sub:\t%s\n",
		   !(info.sub_state & MBX_SUB_ACTIVE) ? "none" :
		   info.sub_state & MBX_SUB_DROPPING ? "drop-oldest" : "block");
	seq_printf(m, "mbx-sub-depth:\t%u\n", info.sub_depth);
	seq_printf(m, "mbx-sub-bytes:\t%llu\n", info.sub_bytes);
	seq_printf(m, "mbx-sub-dropped:\t%llu\n", info.sub_dropped);
}

/**
 * __mbx_topic_show_subs() - one debugfs line per subscription of a topic
 * @m:    the seq_file
 * @port: the topic
 *
 * Context: port->lock held.
 */
void __mbx_topic_show_subs(struct seq_file *m, struct mbx_port *port)
{
	struct mbx_sub *sub;

	lockdep_assert_held(&port->lock);
	list_for_each_entry(sub, &port->subs, node)
		seq_printf(m, "  sub %s depth %u bytes %llu max_msgs %u max_bytes %llu dropped %llu\n",
			   sub->policy == MBX_SUB_DROP_OLDEST ? "drop-oldest" :
								"block",
			   sub->depth, sub->bytes, sub->max_msgs,
			   sub->max_bytes, sub->dropped);
}
