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
 * hold it (@qrefs) and the receives that use it (@refs).  Cursors move
 * forward only, so the messages no backlog holds are at the head of each
 * list; they leave it there, and are freed once nobody uses them.  Their
 * memory is freed only after port->lock is dropped (port->dead,
 * mbx_port_unlock()).  A message's pool region is shared with every
 * subscription that takes it in place (a struct mbx_hold each), and goes
 * back to the pool once the message and the last of those let go of it
 * (__mbx_region_share()): a region held in place keeps no message.
 *
 * A receive (topic_recv.c) moves a cursor on only once the message is
 * delivered: a failed copy leaves the backlog as it was.  sub->lock keeps
 * the receives of one subscription (threads sharing its fd) one at a time,
 * and is never held while waiting for a message.
 *
 * LOCKING: sub->lock (mutex) serialises the receives of one subscription,
 * and an unsubscribe with them (subscribe.c), so that a region a receive
 * takes in place is among those the unsubscribe gives back.  port->lock
 * protects everything else here: the lists, each message's
 * counts, each subscription's cursors, counters, policy and holds, and
 * port->subs.  Order: sub->lock, then port->lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/slab.h>

#include "mbx.h"
#include "topic.h"
#include "trace.h"

/*
 * Free @msg once nobody uses it, and give its region back unless a
 * subscription still holds it in place.
 */
static void __mbx_topic_kill(struct mbx_port *port, struct mbx_msg *msg)
{
	lockdep_assert_held(&port->lock);
	if (msg->region) {
		__mbx_region_unshare(port, msg->region);
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

/* Drop a reference taken by a receive. */
void __mbx_topic_unref(struct mbx_port *port, struct mbx_msg *msg)
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
void __mbx_sub_pop(struct mbx_port *port, struct mbx_sub *sub,
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
bool mbx_sub_slack(const struct mbx_sub *sub)
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
	if (msg->region)
		__mbx_region_share(msg->region);
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

/* Give back every region @sub holds in place. */
static void __mbx_sub_drop_holds(struct mbx_port *port, struct mbx_sub *sub)
{
	struct mbx_hold *hold, *tmp;

	list_for_each_entry_safe(hold, tmp, &sub->holds, node) {
		list_del(&hold->node);
		__mbx_region_unshare(port, hold->region);
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
