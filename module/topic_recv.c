// SPDX-License-Identifier: GPL-2.0
/*
 * mailbox: a subscription's receives from a topic.
 *
 * A receive waits for its backlog, looks at the message at its best cursor
 * under port->lock and takes a reference to it, copies it out (or holds
 * its region in place) with the lock dropped, and only then moves the
 * cursor on (its commit): a failed copy leaves the backlog as it was.  An
 * MBX_RECV_RELEASE gives back a region the subscription holds in the lock
 * hold that takes the next message.  The backlog, and the locking of all
 * of it, are topic.c's.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cred.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/slab.h>

#include "mbx.h"
#include "topic.h"
#include "trace.h"

/* What a receive saw under port->lock, for its commit. */
struct mbx_peek {
	struct mbx_msg *msg;
	u32 gen;
	u32 lost;
	struct mbx_hold *spare;
};

/* Wait until @sub's backlog is not empty. */
static int __mbx_sub_wait(struct mbx_port *port, struct mbx_sub *sub,
			  bool nonblock, ktime_t *deadline)
{
	struct mbx_waiter w;
	int ret;

	lockdep_assert_held(&port->lock);
	for (;;) {
		if (!sub->active)
			return -ENOTCONN;
		if (sub->depth)
			return 0;
		if (port->shutdown || __mbx_no_senders(port))
			return -EPIPE;
		if (nonblock)
			return -EAGAIN;
		if (mbx_expired(deadline))
			return -ETIMEDOUT;
		w.task = current;
		w.msg = NULL;
		w.sub = sub;
		w.state = MBX_WAITING;
		list_add_tail(&w.node, &port->recv_waiters);
		port->stats.recv_waits++;
		ret = __mbx_wait(port, &w, MBX_WAIT_RECV, deadline);
		if (ret && ret != -EPIPE && ret != -ENOTCONN)
			return ret;
	}
}

/*
 * Look at @sub's best message under port->lock: 1 with a reference to it
 * in @pk, 0 if the backlog is empty, or -ENOTCONN, -EMSGSIZE (the
 * size needed in *@len).
 */
static int __mbx_sub_peek(struct mbx_port *port, struct mbx_sub *sub,
			  size_t *len, bool inplace, struct mbx_peek *pk)
{
	struct mbx_msg *msg;

	lockdep_assert_held(&port->lock);
	if (!sub->active)
		return -ENOTCONN;
	if (!sub->map)
		return 0;
	msg = sub->next[__fls(sub->map)];
	if (msg->len > *len && !(inplace && msg->region)) {
		*len = msg->len;
		return -EMSGSIZE;
	}
	msg->refs++;
	pk->msg = msg;
	pk->gen = sub->gen;
	pk->lost = sub->lost;
	return 1;
}

/*
 * Take the hold of the region at @offset out of @sub's holds: the hold,
 * whose share of the region the caller then lets go; NULL if @sub holds
 * no region there; ERR_PTR(-EINVAL) if it holds one of another length.
 */
static struct mbx_hold *__mbx_sub_unhold(struct mbx_sub *sub, u64 offset,
					 u64 len)
{
	struct mbx_hold *hold;

	list_for_each_entry(hold, &sub->holds, node) {
		if (mbx_region_offset(hold->region) != offset)
			continue;
		if (mbx_region_len(hold->region) != len)
			return ERR_PTR(-EINVAL);
		list_del(&hold->node);
		return hold;
	}
	return NULL;
}

/*
 * A receive's MBX_RECV_RELEASE of @rel's region, in the hold of port->lock
 * that then looks at the next message: 1 if it was @sub's and is given
 * back (its struct mbx_hold kept in pk->spare, for the message taken in
 * place), 0 if @sub does not hold it, or -EINVAL.
 */
static int __mbx_sub_release(struct mbx_port *port, struct mbx_sub *sub,
			     const struct mbx_recv *rel, struct mbx_peek *pk)
{
	struct mbx_hold *hold;

	hold = __mbx_sub_unhold(sub, rel->release_offset, rel->release_len);
	if (IS_ERR_OR_NULL(hold))
		return PTR_ERR_OR_ZERO(hold);
	__mbx_region_unshare(port, hold->region);
	pk->spare = hold;
	return 1;
}

/*
 * Release @rel's region if it is not NULL, then wait for a message and
 * look at it, as __mbx_sub_peek(): 0 with sub->lock held and @pk filled,
 * or -errno, with the region released unless the release itself failed.
 * A region the subscription holds is released and a message already
 * there taken in one hold of port->lock; sub->lock is dropped to wait for
 * one.  A signal while waiting for sub->lock with the release pending
 * releases it apart (mbx_topic_buf_release()): -EINTR then says it was.
 */
static int mbx_sub_take(struct file *file, const struct mbx_recv *rel,
			size_t *len, bool inplace, bool nonblock,
			ktime_t *deadline, struct mbx_peek *pk)
{
	struct mbx_port *port = mbx_file_port(file);
	struct mbx_sub *sub = ((struct mbx_file *)file->private_data)->sub;
	int ret;

	for (;;) {
		if (mutex_lock_interruptible(&sub->lock)) {
			if (!rel)
				return deadline ? -EINTR : -ERESTARTSYS;
			ret = mbx_topic_buf_release(file, rel->release_offset,
						    rel->release_len);
			return ret ?: -EINTR;
		}
		spin_lock(&port->lock);
		ret = rel ? __mbx_sub_release(port, sub, rel, pk) : 1;
		if (ret > 0)
			ret = __mbx_sub_peek(port, sub, len, inplace, pk);
		mbx_port_unlock(port);
		if (ret > 0)
			return 0;
		mutex_unlock(&sub->lock);
		if (ret)
			return ret;
		if (rel && !pk->spare) {
			/* A region this file allocated, not one it received. */
			ret = mbx_pool_release(port, file, rel->release_offset,
					       rel->release_len);
			if (ret)
				return ret;
			rel = NULL;
			continue;
		}
		rel = NULL;
		spin_lock(&port->lock);
		ret = __mbx_sub_wait(port, sub, nonblock, deadline);
		mbx_port_unlock(port);
		if (ret)
			return ret;
	}
}

/*
 * End a receive of pk->msg: if it was delivered (@ok), move @sub past it
 * and, with @hold, keep it held in place.  A message dropped from the
 * backlog while it was being copied out counts as received, not lost.
 */
static void __mbx_sub_commit(struct mbx_port *port, struct mbx_sub *sub,
			     struct mbx_peek *pk, bool ok,
			     struct mbx_hold *hold)
{
	struct mbx_msg *msg = pk->msg;

	lockdep_assert_held(&port->lock);
	if (!ok) {
		__mbx_topic_unref(port, msg);
		return;
	}
	if (sub->active && sub->gen == pk->gen) {
		if (sub->next[msg->prio] == msg) {
			__mbx_sub_pop(port, sub, msg);
			/* Only a full backlog keeps senders and pollers out. */
			if (sub->full && mbx_sub_slack(sub)) {
				sub->full = false;
				__mbx_topic_room(port);
			}
		} else {
			/* Not counted once the count saturated. */
			if (sub->lost != U32_MAX)
				sub->lost--;
			sub->dropped--;
		}
		sub->lost -= min(sub->lost, pk->lost);
	}
	trace_mbx_recv(port->id, msg->len, msg->prio, msg->region);
	port->stats.received++;
	port->stats.bytes_received += msg->len;
	if (hold) {
		hold->region = msg->region;
		__mbx_region_share(hold->region);
		list_add(&hold->node, &sub->holds);
	}
	__mbx_topic_unref(port, msg);
}

/* Fill in what a receive tells of pk->msg besides its length. */
static void mbx_topic_results(struct mbx_recv *args, struct mbx_peek *pk,
			      bool inplace)
{
	struct mbx_msg *msg = pk->msg;

	args->offset = inplace ? mbx_region_offset(msg->region) : 0;
	args->msg_flags = (inplace ? MBX_MSG_BUF : 0) |
			  (pk->lost ? MBX_MSG_DROPPED : 0);
	if (msg->region && mbx_region_sealed(msg->region))
		args->msg_flags |= MBX_MSG_SEALED;
	args->dropped = pk->lost;
	args->tag = msg->tag;
	args->prio = msg->prio;
	args->pid = pid_vnr(msg->pid);
	args->uid = from_kuid_munged(current_user_ns(), msg->uid);
}

/*
 * Write a peeked message's payload, then its results (not for read(),
 * @uargs NULL: its length is all it returns), out to the caller.
 */
static int mbx_topic_deliver(struct mbx_port *port, struct mbx_recv *args,
			     struct mbx_recv __user *uargs,
			     struct mbx_peek *pk, bool inplace)
{
	struct mbx_msg *msg = pk->msg;
	const void *data;

	args->len = msg->len;
	if (!inplace) {
		data = msg->region ?
		       mbx_region_data(port->pool, msg->region) :
		       mbx_msg_payload(msg);
		if (copy_to_user(u64_to_user_ptr(args->buf), data, msg->len))
			return -EFAULT;
	}
	if (uargs) {
		mbx_topic_results(args, pk, inplace);
		if (mbx_put_recv(uargs, args))
			return -EFAULT;
	}
	return 0;
}

/**
 * mbx_topic_recv() - receive the next message of a topic file's backlog
 * @file:     a topic file that may receive
 * @args:     the checked request, filled with the results
 * @uargs:    the user's copy of @args, where they are written back; NULL
 *            for read()
 * @nonblock: fail with -EAGAIN rather than wait
 * @deadline: absolute CLOCK_MONOTONIC deadline, or NULL
 *
 * In place (MBX_RECV_INPLACE, a pool message) the file then holds the
 * message's region with every other subscriber that took it so.  A
 * failed copy leaves the backlog as it was.  With MBX_RECV_RELEASE the
 * region @args names is released first (if that fails, nothing else
 * happens; once released it stays so): one this subscription received in
 * place in the same hold of port->lock that takes the next message.
 *
 * Context: process context, may sleep.
 * Return: 0, or -ENOTCONN (not subscribed), -EMSGSIZE (args->len, and
 * uargs->len, say the size needed), -EPIPE, -EAGAIN, -ETIMEDOUT, -EINTR,
 * -ERESTARTSYS, -EFAULT, -ENOMEM; a failed release's -EINVAL or -EPERM.
 */
int mbx_topic_recv(struct file *file, struct mbx_recv *args,
		   struct mbx_recv __user *uargs, bool nonblock,
		   ktime_t *deadline)
{
	struct mbx_port *port = mbx_file_port(file);
	struct mbx_sub *sub = ((struct mbx_file *)file->private_data)->sub;
	bool inplace = args->flags & MBX_RECV_INPLACE && port->pool;
	const struct mbx_recv *rel = args->flags & MBX_RECV_RELEASE ? args :
				     NULL;
	struct mbx_peek pk = {};
	struct mbx_hold *hold;
	size_t len = args->len;
	int ret;

	ret = mbx_sub_take(file, rel, &len, inplace, nonblock, deadline, &pk);
	hold = pk.spare;
	if (ret) {
		kfree(hold);
		if (ret == -EMSGSIZE) {
			args->len = len;
			if (uargs && put_user(len, &uargs->len))
				return -EFAULT;
		}
		return ret;
	}
	inplace = inplace && pk.msg->region;
	if (inplace && !hold)
		hold = kmalloc(sizeof(*hold), GFP_KERNEL_ACCOUNT);
	ret = inplace && !hold ? -ENOMEM :
	      mbx_topic_deliver(port, args, uargs, &pk, inplace);
	spin_lock(&port->lock);
	__mbx_sub_commit(port, sub, &pk, !ret, ret ? NULL : inplace ? hold :
			 NULL);
	mbx_port_unlock(port);
	mutex_unlock(&sub->lock);
	if (ret || !inplace)
		kfree(hold);
	return ret;
}

/**
 * mbx_topic_read() - read() on a topic file: receive one message
 * @file: a topic file that may receive
 * @buf:  the user's buffer
 * @len:  its size
 *
 * Context: process context, may sleep.
 * Return: the message's length, 0 at end of stream, or -errno.
 */
ssize_t mbx_topic_read(struct file *file, char __user *buf, size_t len)
{
	struct mbx_recv args = { .buf = (uintptr_t)buf, .len = len };
	int ret;

	ret = mbx_topic_recv(file, &args, NULL, file->f_flags & O_NONBLOCK,
			     NULL);
	if (ret)
		return ret == -EPIPE ? 0 : ret;
	return args.len;
}

/**
 * mbx_topic_buf_release() - MBX_IOC_BUF_RELEASE on a topic file
 * @file:   the file
 * @offset: a region it received in place, or one it allocated
 * @len:    its length
 *
 * The region goes back to the pool once every subscriber that took it in
 * place has released it (or unsubscribed, or closed).
 *
 * Context: process context.
 * Return: 0, -EINVAL or -EPERM.
 */
int mbx_topic_buf_release(struct file *file, u64 offset, u64 len)
{
	struct mbx_port *port = mbx_file_port(file);
	struct mbx_sub *sub = ((struct mbx_file *)file->private_data)->sub;
	struct mbx_hold *hold;

	if (!sub)
		return mbx_pool_release(port, file, offset, len);
	spin_lock(&port->lock);
	hold = __mbx_sub_unhold(sub, offset, len);
	if (!IS_ERR_OR_NULL(hold))
		__mbx_region_unshare(port, hold->region);
	mbx_port_unlock(port);
	if (!hold)
		return mbx_pool_release(port, file, offset, len);
	if (IS_ERR(hold))
		return PTR_ERR(hold);
	kfree(hold);
	return 0;
}
