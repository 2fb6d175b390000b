// SPDX-License-Identifier: GPL-2.0
/*
 * mailbox: the subscriptions of a topic (a port made with MBX_PORT_TOPIC).
 *
 * A topic keeps each message once, in the port's per-priority FIFO lists
 * (port->queue[], as an ordinary port does), and every subscription has a
 * cursor per priority: sub->next[p] is the oldest message of priority p it
 * has yet to receive, NULL if none.  A send appends the message and points
 * the cursors that were at the end at it; a receive takes the message at
 * the cursor of the best priority and moves that cursor on.  Nothing is
 * allocated per subscriber and message: a message counts the backlogs that
 * hold it (@qrefs) and the receives and in-place holders that use it
 * (@refs).  Cursors move forward only, so the messages no backlog holds
 * are at the head of each list; they leave it there, and are freed (their
 * pool region with them) once nobody uses them.  Their memory is freed
 * only after port->lock is dropped (port->dead, mbx_port_unlock()).
 *
 * A receive looks at the message under port->lock, takes a reference,
 * copies it out with the lock dropped, and only then moves the cursor on:
 * a failed copy leaves the backlog as it was.  sub->lock keeps the
 * receives of one subscription (threads sharing its fd) one at a time
 * through that sequence, and is never held while waiting for a message.
 *
 * LOCKING: sub->lock (mutex) serialises the receives of one subscription,
 * and an unsubscribe with them (subscribe.c), so that a region a receive
 * takes in place is among those the unsubscribe gives back.  port->lock
 * protects everything else here: the lists, each message's
 * counts, each subscription's cursors, counters, policy and holds, and
 * port->subs.  Order: sub->lock, then port->lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cred.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/poll.h>
#include <linux/slab.h>

#include "mbx.h"
#include "topic.h"
#include "trace.h"

/**
 * struct mbx_hold - a pool message a subscription received in place
 * @node: in sub->holds
 * @msg:  the message, one of its @refs
 */
struct mbx_hold {
	struct list_head node;
	struct mbx_msg *msg;
};

/* What a receive saw under port->lock, for its commit. */
struct mbx_peek {
	struct mbx_msg *msg;
	u32 gen;
	u32 lost;
	struct mbx_hold *spare;
};

/* Free @msg, and give its region back, once nobody uses it. */
static void __mbx_topic_kill(struct mbx_port *port, struct mbx_msg *msg)
{
	lockdep_assert_held(&port->lock);
	if (msg->region) {
		__mbx_region_put(port, msg->region);
		msg->region = NULL;
	}
	list_add(&msg->node, &port->dead);
}

/* Take the messages no backlog holds off the head of priority @p. */
static void __mbx_topic_prune(struct mbx_port *port, u32 p)
{
	struct list_head *list = &port->queue[p];
	struct mbx_msg *msg;

	lockdep_assert_held(&port->lock);
	while ((msg = list_first_entry_or_null(list, struct mbx_msg, node)) &&
	       !msg->qrefs) {
		list_del_init(&msg->node);
		port->queued--;
		if (!msg->refs)
			__mbx_topic_kill(port, msg);
	}
	if (list_empty(list))
		port->queue_map &= ~BIT(p);
}

/* Drop a reference taken by a receive or a hold. */
static void __mbx_topic_unref(struct mbx_port *port, struct mbx_msg *msg)
{
	lockdep_assert_held(&port->lock);
	if (!--msg->refs && !msg->qrefs && list_empty(&msg->node))
		__mbx_topic_kill(port, msg);
}

/* The message after @msg in its priority's list, or NULL. */
static struct mbx_msg *mbx_topic_after(struct mbx_port *port,
				       struct mbx_msg *msg)
{
	if (list_is_last(&msg->node, &port->queue[msg->prio]))
		return NULL;
	return list_next_entry(msg, node);
}

/* Move @sub past @msg, the message at its cursor of @msg's priority. */
static void __mbx_sub_pop(struct mbx_port *port, struct mbx_sub *sub,
			  struct mbx_msg *msg)
{
	u32 p = msg->prio;

	lockdep_assert_held(&port->lock);
	sub->next[p] = mbx_topic_after(port, msg);
	if (!sub->next[p])
		sub->map &= ~BIT(p);
	sub->depth--;
	sub->bytes -= msg->len;
	msg->qrefs--;
	__mbx_topic_prune(port, p);
}

/* Whether @sub's backlog has room for a message of @len bytes. */
static bool mbx_sub_room(const struct mbx_sub *sub, size_t len)
{
	return !sub->depth ||
	       (sub->depth < sub->max_msgs && sub->bytes + len <= sub->max_bytes);
}

/*
 * Whether a full backlog has drained enough to take senders again: by a
 * sixteenth of its limits (at least one message), as a full pipe takes its
 * writer again once its reader has emptied a whole page.  Senders then
 * wake once per such batch, not once per message received.
 */
static bool mbx_sub_slack(const struct mbx_sub *sub)
{
	u32 msgs = max(sub->max_msgs / 16, 1U);

	return !sub->depth ||
	       (sub->depth + msgs <= sub->max_msgs &&
		sub->bytes + sub->max_bytes / 16 <= sub->max_bytes);
}

/*
 * Drop the least valuable message of @sub's backlog, which is not empty:
 * the oldest of its lowest priority (with one priority, the oldest).
 */
void __mbx_sub_drop(struct mbx_port *port, struct mbx_sub *sub)
{
	struct mbx_msg *oldest = sub->next[__ffs(sub->map)];

	trace_mbx_drop(port->id, 1, oldest->len);
	if (sub->lost < U32_MAX)
		sub->lost++;
	sub->dropped++;
	__mbx_sub_pop(port, sub, oldest);
}

/* Wake the publishers and pollers: a backlog may have room now. */
void __mbx_topic_room(struct mbx_port *port)
{
	__mbx_complete_all(port, &port->send_waiters, 0);
	__mbx_poll_wake(port, EPOLLOUT | EPOLLWRNORM);
}

/*
 * The message a topic that keeps @capacity messages gives up first: the
 * oldest of the lowest priority it keeps.  Every backlog that holds it has
 * it at its cursor, and it is the least valuable message of each.
 */
static struct mbx_msg *__mbx_topic_victim(struct mbx_port *port)
{
	return list_first_entry(&port->queue[__ffs(port->queue_map)],
				struct mbx_msg, node);
}

/*
 * Whether a message of @len bytes must wait for a block-policy backlog.
 * A backlog found without room stays full (@full) until it has slack.
 *
 * Each backlog is bounded, but backlogs at different priorities can keep
 * different messages, so the topic is bounded too: it keeps at most
 * capacity messages (what its charge covers).  When it keeps that many,
 * a block-policy backlog that holds the victim is full as well.
 */
bool __mbx_topic_blocked(struct mbx_port *port, size_t len)
{
	struct mbx_msg *victim = NULL;
	struct mbx_sub *sub;

	if (port->queued && port->queued >= port->capacity)
		victim = __mbx_topic_victim(port);
	list_for_each_entry(sub, &port->subs, node) {
		if (sub->policy != MBX_SUB_BLOCK)
			continue;
		if (sub->full || !mbx_sub_room(sub, len) ||
		    (victim && sub->next[victim->prio] == victim)) {
			sub->full = true;
			return true;
		}
	}
	return false;
}

/*
 * Make room for one more message: in each drop-oldest backlog that is
 * full, and in the topic, whose victim only drop-oldest backlogs hold
 * (__mbx_topic_blocked() said so).
 */
static void __mbx_topic_make_room(struct mbx_port *port, size_t len)
{
	struct mbx_msg *victim;
	struct mbx_sub *sub;
	u32 p;

	list_for_each_entry(sub, &port->subs, node)
		while (!mbx_sub_room(sub, len))
			__mbx_sub_drop(port, sub);

	while (port->queued && port->queued >= port->capacity) {
		victim = __mbx_topic_victim(port);
		p = victim->prio;
		/* Its last holder's drop frees it: then no cursor is there. */
		list_for_each_entry(sub, &port->subs, node)
			if (sub->next[p] == victim)
				__mbx_sub_drop(port, sub);
	}
}

/* Put @msg in every backlog; with none, it is dropped at once. */
static void __mbx_topic_publish(struct mbx_port *port, struct mbx_msg *msg)
{
	u32 p = msg->prio;
	struct mbx_sub *sub;

	__mbx_topic_make_room(port, msg->len);

	msg->qrefs = 0;
	msg->refs = 0;
	list_add_tail(&msg->node, &port->queue[p]);
	port->queue_map |= BIT(p);
	port->queued++;
	list_for_each_entry(sub, &port->subs, node) {
		if (!sub->next[p]) {
			sub->next[p] = msg;
			sub->map |= BIT(p);
		}
		sub->depth++;
		sub->bytes += msg->len;
		msg->qrefs++;
	}
	trace_mbx_send(port->id, msg->len, p, msg->region);
	port->stats.sent++;
	port->stats.bytes_sent += msg->len;
	__mbx_topic_prune(port, p);
	/* Receivers recheck: only those of one subscription compete. */
	__mbx_complete_all(port, &port->recv_waiters, 0);
	__mbx_poll_wake(port, EPOLLIN | EPOLLRDNORM);
}

/**
 * __mbx_topic_send() - publish a message to every subscriber of a topic
 * @port:     the topic
 * @msg:      the message, made by mbx_send_prepare()
 * @nonblock: fail with -EAGAIN rather than wait
 * @deadline: absolute CLOCK_MONOTONIC deadline, or NULL
 *
 * Waits while a block-policy backlog has no room; drop-oldest backlogs
 * lose their oldest messages instead.  With no subscriber the message is
 * dropped, and the send succeeds.
 *
 * Context: port->lock held; dropped while waiting, held again on return.
 * Return: 0, the port then owns @msg; or -EPIPE, -EAGAIN, -ETIMEDOUT,
 * -EINTR, -ERESTARTSYS, the caller then still owns it.
 */
int __mbx_topic_send(struct mbx_port *port, struct mbx_msg *msg,
		     bool nonblock, ktime_t *deadline)
{
	struct mbx_waiter w;
	int ret;

	lockdep_assert_held(&port->lock);
	for (;;) {
		if (port->shutdown || __mbx_no_receivers(port))
			return -EPIPE;
		if (!__mbx_topic_blocked(port, msg->len))
			break;
		if (nonblock)
			return -EAGAIN;
		if (mbx_expired(deadline))
			return -ETIMEDOUT;
		w.task = current;
		w.msg = msg;
		w.sub = NULL;
		w.state = MBX_WAITING;
		list_add_tail(&w.node, &port->send_waiters);
		port->stats.send_waits++;
		ret = __mbx_wait(port, &w, MBX_WAIT_SEND, deadline);
		if (ret && ret != -EPIPE)
			return ret;
	}
	__mbx_topic_publish(port, msg);
	return 0;
}

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
 * whose message the caller then lets go; NULL if @sub holds no region
 * there; ERR_PTR(-EINVAL) if it holds one of another length.
 */
static struct mbx_hold *__mbx_sub_unhold(struct mbx_sub *sub, u64 offset,
					 u64 len)
{
	struct mbx_hold *hold;

	list_for_each_entry(hold, &sub->holds, node) {
		if (mbx_region_offset(hold->msg->region) != offset)
			continue;
		if (hold->msg->len != len)
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
	__mbx_topic_unref(port, hold->msg);
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
		hold->msg = msg;
		list_add(&hold->node, &sub->holds);
	} else {
		__mbx_topic_unref(port, msg);
	}
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
		__mbx_topic_unref(port, hold->msg);
	mbx_port_unlock(port);
	if (!hold)
		return mbx_pool_release(port, file, offset, len);
	if (IS_ERR(hold))
		return PTR_ERR(hold);
	kfree(hold);
	return 0;
}

/* Give back every region @sub holds in place. */
static void __mbx_sub_drop_holds(struct mbx_port *port, struct mbx_sub *sub)
{
	struct mbx_hold *hold, *tmp;

	list_for_each_entry_safe(hold, tmp, &sub->holds, node) {
		list_del(&hold->node);
		__mbx_topic_unref(port, hold->msg);
		kfree(hold);
	}
}

/* Unsubscribe: free the backlog and the holds, wake whom it concerns. */
void __mbx_sub_stop(struct mbx_port *port, struct mbx_sub *sub)
{
	struct mbx_waiter *w, *tmp;
	struct mbx_msg *msg;
	u32 p;

	lockdep_assert_held(&port->lock);
	for (p = 0; p < MBX_NR_PRIO; p++) {
		for (msg = sub->next[p]; msg; msg = mbx_topic_after(port, msg))
			msg->qrefs--;
		sub->next[p] = NULL;
		__mbx_topic_prune(port, p);
	}
	sub->map = 0;
	sub->depth = 0;
	sub->bytes = 0;
	sub->active = false;
	list_del(&sub->node);
	port->nr_subs--;
	__mbx_sub_drop_holds(port, sub);
	list_for_each_entry_safe(w, tmp, &port->recv_waiters, node)
		if (w->sub == sub)
			__mbx_complete(port, w, -ENOTCONN);
	__mbx_topic_room(port);
}

/**
 * mbx_topic_sub_alloc() - a new file's subscription, not yet active
 *
 * Context: process context, may sleep.
 * Return: the subscription, or NULL.
 */
struct mbx_sub *mbx_topic_sub_alloc(void)
{
	struct mbx_sub *sub = kzalloc(sizeof(*sub), GFP_KERNEL_ACCOUNT);

	if (!sub)
		return NULL;
	INIT_LIST_HEAD(&sub->holds);
	mutex_init(&sub->lock);
	sub->policy = MBX_SUB_BLOCK;
	return sub;
}

/* Subscribe with the policy and limits already in @sub. */
void __mbx_sub_start(struct mbx_port *port, struct mbx_sub *sub)
{
	lockdep_assert_held(&port->lock);
	sub->active = true;
	sub->full = false;
	sub->gen++;
	sub->lost = 0;
	sub->dropped = 0;
	list_add_tail(&sub->node, &port->subs);
	port->nr_subs++;
}

/**
 * mbx_topic_max_bytes() - the largest byte limit of a backlog
 * @port: the topic
 *
 * Room for capacity messages of max_msg_size, and for the whole pool: a
 * region counts its length, which max_msg_size does not bound.
 */
u64 mbx_topic_max_bytes(const struct mbx_port *port)
{
	return (u64)port->capacity * port->max_msg_size + port->pool_size;
}

/**
 * mbx_topic_default_bytes() - a backlog's byte limit when none is asked for
 * @port:   the topic
 * @policy: the subscription's policy
 *
 * A block-policy backlog may hold as many regions as messages, as a port's
 * queue does: the publisher waits for it anyway.  A drop-oldest one keeps
 * capacity messages of max_msg_size (one region at least, as it fits an
 * empty backlog): its publisher never waits for it, and could not publish
 * at all if a stalled subscriber kept the whole pool.
 */
u64 mbx_topic_default_bytes(const struct mbx_port *port, u32 policy)
{
	if (policy == MBX_SUB_DROP_OLDEST)
		return (u64)port->capacity * port->max_msg_size;
	return mbx_topic_max_bytes(port);
}

/**
 * __mbx_topic_sub_start() - subscribe a new file with the default policy
 * @port: the topic
 * @sub:  from mbx_topic_sub_alloc()
 *
 * Context: port->lock held.
 */
void __mbx_topic_sub_start(struct mbx_port *port, struct mbx_sub *sub)
{
	sub->policy = MBX_SUB_BLOCK;
	sub->max_msgs = port->capacity;
	sub->max_bytes = mbx_topic_default_bytes(port, MBX_SUB_BLOCK);
	__mbx_sub_start(port, sub);
}

/**
 * mbx_topic_sub_free() - a file's release: unsubscribe, free its holds
 * @port: the topic
 * @sub:  the file's subscription
 *
 * Context: process context.
 */
void mbx_topic_sub_free(struct mbx_port *port, struct mbx_sub *sub)
{
	spin_lock(&port->lock);
	if (sub->active)
		__mbx_sub_stop(port, sub);
	__mbx_sub_drop_holds(port, sub);
	mbx_port_unlock(port);
	mutex_destroy(&sub->lock);
	kfree(sub);
}
