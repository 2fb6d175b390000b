// SPDX-License-Identifier: GPL-2.0
/*
 * mailbox: the message queue of a port.
 *
 * A port is a priority queue of messages bounded by its capacity, plus two
 * lists of blocked callers.  A sender that finds a receiver waiting hands the
 * message straight to it; a receiver that frees a slot moves the best waiting
 * sender's message into the queue and completes that send.  One message thus
 * wakes exactly one waiter, and a woken caller never has to retry.  On a
 * rendezvous port (capacity 0) the waiting senders are the queue.
 *
 * Invariants, under port->lock: a receiver waits only while nothing can be
 * received (queue empty, no sender waiting), and a sender waits only while
 * its message can go nowhere (queue full, no receiver waiting).
 *
 * Everything here runs under port->lock (see port.c) and never touches user
 * memory: msg.c copies payloads in before the lock is taken and out after it
 * is dropped.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/sched/signal.h>
#include <linux/sched/stat.h>
#include <linux/slab.h>

#include "mbx.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

/*
 * A MBX_PORT_MQ port takes priorities 0..MBX_MQ_PRIO_MAX, too many for the
 * bitmap of lists of an ordinary port.  As in ipc/mqueue.c, its messages
 * are on per-priority lists kept in an rbtree, highest priority leftmost
 * (so the best message is found in O(1)), and a priority's list exists only
 * while it holds messages.  Emptied lists are kept on port->prio_spare for
 * reuse rather than freed, so that a steady stream allocates nothing.
 *
 * A list is made under port->lock (GFP_ATOMIC).  Only a new message may
 * fail for want of one (-ENOMEM, nothing sent).  A message that must go
 * back into the queue cannot fail: a sender about to wait reserves a list
 * for its message on port->prio_spare first (port->prio_reserved counts
 * the waiting senders, and spares are trimmed to one more than that), and
 * a message put back after its copy to user memory faulted finds the list
 * its receive emptied among the spares, unless a new message took it
 * meanwhile; should that and GFP_ATOMIC both fail, it goes to the head of
 * the best list there is, out of priority order but not lost.  There is
 * always one: a port starts with a spare (mbx_queue_init()), the last one
 * is kept whenever the tree empties, so an empty tree always has a spare.
 */
struct mbx_prio_list {
	struct rb_node node;		/* in port->prio_tree */
	struct list_head msgs;		/* FIFO; or in port->prio_spare */
	u32 prio;
};

static struct mbx_prio_list *__mbx_prio_spare(struct mbx_port *port)
{
	struct mbx_prio_list *pl;

	lockdep_assert_held(&port->lock);
	pl = list_first_entry_or_null(&port->prio_spare, struct mbx_prio_list,
				      msgs);
	if (pl) {
		list_del(&pl->msgs);
		port->nr_spare--;
		return pl;
	}
	return kmalloc(sizeof(*pl), GFP_ATOMIC | __GFP_ACCOUNT | __GFP_NOWARN);
}

/* Keep @pl for reuse, or free it if enough are kept. */
static void __mbx_prio_keep(struct mbx_port *port, struct mbx_prio_list *pl)
{
	lockdep_assert_held(&port->lock);
	if (port->nr_spare > port->prio_reserved) {
		kfree(pl);
		return;
	}
	list_add(&pl->msgs, &port->prio_spare);
	port->nr_spare++;
}

/* The list of priority @prio, made if need be; NULL if that failed. */
static struct list_head *__mbx_prio_list(struct mbx_port *port, u32 prio)
{
	struct rb_node **p = &port->prio_tree.rb_root.rb_node, *parent = NULL;
	struct mbx_prio_list *pl;
	bool leftmost = true;

	lockdep_assert_held(&port->lock);
	while (*p) {
		parent = *p;
		pl = rb_entry(parent, struct mbx_prio_list, node);
		if (prio == pl->prio)
			return &pl->msgs;
		if (prio > pl->prio) {
			p = &parent->rb_left;
		} else {
			p = &parent->rb_right;
			leftmost = false;
		}
	}
	pl = __mbx_prio_spare(port);
	if (!pl)
		return NULL;
	pl->prio = prio;
	INIT_LIST_HEAD(&pl->msgs);
	rb_link_node(&pl->node, parent, p);
	rb_insert_color_cached(&pl->node, &port->prio_tree, leftmost);
	return &pl->msgs;
}

/* The list of the best priority queued, or NULL. */
static struct list_head *__mbx_prio_best(struct mbx_port *port)
{
	struct rb_node *node = rb_first_cached(&port->prio_tree);

	return node ? &rb_entry(node, struct mbx_prio_list, node)->msgs : NULL;
}

static struct mbx_msg *__mbx_prio_first(struct mbx_port *port)
{
	struct list_head *list = __mbx_prio_best(port);

	return list ? list_first_entry(list, struct mbx_msg, node) : NULL;
}

/*
 * Queue @msg on a MBX_PORT_MQ port.  Return: 0, or -ENOMEM (only if
 * @must is false: a message that must go in goes in).
 */
static int __mbx_prio_add(struct mbx_port *port, struct mbx_msg *msg,
			  bool head, bool must)
{
	struct list_head *list = __mbx_prio_list(port, msg->prio);

	if (!list) {
		if (!must)
			return -ENOMEM;
		/* See above: the tree is not empty, or a spare was left. */
		list = __mbx_prio_best(port);
		head = true;
	}
	if (head)
		list_add(&msg->node, list);
	else
		list_add_tail(&msg->node, list);
	return 0;
}

static void __mbx_prio_del(struct mbx_port *port, struct mbx_msg *msg)
{
	struct mbx_prio_list *pl;

	/* The last message of its list: both neighbours are the list head. */
	if (msg->node.next != msg->node.prev) {
		list_del(&msg->node);
		return;
	}
	pl = container_of(msg->node.next, struct mbx_prio_list, msgs);
	list_del(&msg->node);
	rb_erase_cached(&pl->node, &port->prio_tree);
	__mbx_prio_keep(port, pl);
}

/* Before a sender of a MBX_PORT_MQ port waits: see above. */
static int __mbx_prio_reserve(struct mbx_port *port)
{
	struct mbx_prio_list *pl;

	lockdep_assert_held(&port->lock);
	pl = kmalloc(sizeof(*pl), GFP_ATOMIC | __GFP_ACCOUNT | __GFP_NOWARN);
	if (!pl)
		return -ENOMEM;
	port->prio_reserved++;
	list_add(&pl->msgs, &port->prio_spare);
	port->nr_spare++;
	return 0;
}

static void __mbx_prio_unreserve(struct mbx_port *port)
{
	struct mbx_prio_list *pl;

	lockdep_assert_held(&port->lock);
	port->prio_reserved--;
	while (port->nr_spare > port->prio_reserved + 1) {
		pl = list_first_entry(&port->prio_spare, struct mbx_prio_list,
				      msgs);
		list_del(&pl->msgs);
		port->nr_spare--;
		kfree(pl);
	}
}

/**
 * mbx_queue_init() - make a new port's empty queue
 * @port: the port, with @mq set
 *
 * A MBX_PORT_MQ port starts with one spare list, so that its tree is never
 * empty with no spare (see above): a message handed straight to a waiting
 * receiver never had a list, and if the copy out faults it must go back.
 *
 * Context: process context, may sleep.
 * Return: 0 or -ENOMEM.
 */
int mbx_queue_init(struct mbx_port *port)
{
	struct mbx_prio_list *pl;
	int prio;

	if (port->mq) {
		port->prio_tree = RB_ROOT_CACHED;
		INIT_LIST_HEAD(&port->prio_spare);
		pl = kmalloc(sizeof(*pl), GFP_KERNEL_ACCOUNT);
		if (!pl)
			return -ENOMEM;
		list_add(&pl->msgs, &port->prio_spare);
		port->nr_spare = 1;
		return 0;
	}
	for (prio = 0; prio < MBX_NR_PRIO; prio++)
		INIT_LIST_HEAD(&port->queue[prio]);
	return 0;
}

/**
 * mbx_queue_charge() - what a port's queue keeps besides its messages
 * @port: the port, with @mq and @capacity set
 *
 * A MBX_PORT_MQ port's queued messages may each have a priority, and so a
 * list, of their own, up to MBX_MQ_PRIO_MAX + 1 of them, and it keeps one
 * spare list (ipc/mqueue.c charges RLIMIT_MSGQUEUE the same way, a tree
 * node for each of min(mq_maxmsg, MQ_PRIO_MAX) messages).  Lists reserved
 * by waiting senders are not counted, as the messages they hold are not,
 * nor those of messages a receive put back past the capacity when its
 * copy out faulted (up to a batch's), as those messages are not.
 * An ordinary port's lists are in the port itself.
 *
 * Context: any.
 * Return: bytes.
 */
u64 mbx_queue_charge(const struct mbx_port *port)
{
	u32 lists;

	if (!port->mq)
		return 0;
	lists = min_t(u32, max(port->capacity, 1U), MBX_MQ_PRIO_MAX + 1) + 1;
	return (u64)lists * kmalloc_size_roundup(sizeof(struct mbx_prio_list));
}

/**
 * mbx_queue_purge() - empty the queue of a port nobody uses
 * @port: the port, being freed
 * @msgs: where its queued messages go, for the caller to free
 *
 * Context: process context.
 */
void mbx_queue_purge(struct mbx_port *port, struct list_head *msgs)
{
	struct mbx_prio_list *pl, *ptmp;
	struct rb_node *node;
	int prio;

	if (!port->mq) {
		for (prio = 0; prio < MBX_NR_PRIO; prio++)
			list_splice_tail_init(&port->queue[prio], msgs);
		return;
	}
	while ((node = rb_first_cached(&port->prio_tree))) {
		pl = rb_entry(node, struct mbx_prio_list, node);
		list_splice_tail_init(&pl->msgs, msgs);
		rb_erase_cached(node, &port->prio_tree);
		kfree(pl);
	}
	list_for_each_entry_safe(pl, ptmp, &port->prio_spare, msgs)
		kfree(pl);
}

static int __mbx_queue_add(struct mbx_port *port, struct mbx_msg *msg,
			   bool head, bool must)
{
	lockdep_assert_held(&port->lock);
	if (unlikely(port->mq)) {
		if (__mbx_prio_add(port, msg, head, must))
			return -ENOMEM;
	} else {
		if (head)
			list_add(&msg->node, &port->queue[msg->prio]);
		else
			list_add_tail(&msg->node, &port->queue[msg->prio]);
		port->queue_map |= BIT(msg->prio);
	}
	port->queued++;
	return 0;
}

static void __mbx_queue_del(struct mbx_port *port, struct mbx_msg *msg)
{
	lockdep_assert_held(&port->lock);
	if (unlikely(port->mq)) {
		__mbx_prio_del(port, msg);
	} else {
		list_del(&msg->node);
		if (list_empty(&port->queue[msg->prio]))
			port->queue_map &= ~BIT(msg->prio);
	}
	port->queued--;
}

/* The best queued message, or NULL. */
static struct mbx_msg *__mbx_queue_first(struct mbx_port *port)
{
	if (unlikely(port->mq))
		return __mbx_prio_first(port);
	if (!port->queue_map)
		return NULL;
	return list_first_entry(&port->queue[__fls(port->queue_map)],
				struct mbx_msg, node);
}

static void __mbx_count_send(struct mbx_port *port, struct mbx_msg *msg)
{
	trace_mbx_send(port->id, msg->len, msg->prio, msg->region);
	port->stats.sent++;
	port->stats.bytes_sent += msg->len;
}

static void __mbx_count_recv(struct mbx_port *port, struct mbx_msg *msg)
{
	trace_mbx_recv(port->id, msg->len, msg->prio, msg->region);
	port->stats.received++;
	port->stats.bytes_received += msg->len;
}

/* A pool message taken in place needs no room in the receiver's buffer. */
static bool mbx_fits(struct mbx_msg *msg, size_t len, bool inplace)
{
	return msg->len <= len || (inplace && msg->region);
}

/*
 * Tell the waiting receivers ahead of @stop (NULL: all of them), whose
 * buffers are too small for @msg, the size they need, as if they had found
 * it queued.  Only once @msg goes somewhere they could have found it: to a
 * receiver behind them, into the queue, or to wait among the senders.
 */
static void __mbx_tell_too_small(struct mbx_port *port, struct mbx_msg *msg,
				 struct mbx_waiter *stop)
{
	struct mbx_waiter *w, *tmp;

	list_for_each_entry_safe(w, tmp, &port->recv_waiters, node) {
		if (w == stop)
			break;
		w->buf_len = msg->len;
		__mbx_complete(port, w, -EMSGSIZE);
	}
}

/* Hand @msg to the longest-waiting receiver that has room for it. */
static bool __mbx_handoff(struct mbx_port *port, struct mbx_msg *msg)
{
	struct mbx_waiter *w;

	lockdep_assert_held(&port->lock);
	list_for_each_entry(w, &port->recv_waiters, node) {
		if (!mbx_fits(msg, w->buf_len, w->inplace))
			continue;
		__mbx_tell_too_small(port, msg, w);
		w->msg = msg;
		atomic_inc(&port->inflight);
		__mbx_complete(port, w, 0);
		return true;
	}
	return false;
}

/* Queue a waiting sender behind every message of its priority or higher. */
static void __mbx_add_sender(struct mbx_port *port, struct mbx_waiter *w)
{
	struct mbx_waiter *pos;

	lockdep_assert_held(&port->lock);
	list_for_each_entry_reverse(pos, &port->send_waiters, node)
		if (pos->msg->prio >= w->msg->prio)
			break;
	list_add(&w->node, &pos->node);
}

/*
 * Take the best message for a receiver with @len bytes of room: the head of
 * the queue, else (rendezvous) the best waiting sender's.  A slot freed in
 * the queue goes to the best waiting sender.
 *
 * Return: the message, NULL if there is none, or ERR_PTR(-EMSGSIZE) with
 * the size needed in @len.
 */
static struct mbx_msg *__mbx_take(struct mbx_port *port, size_t *len,
				  bool inplace)
{
	struct mbx_waiter *sender = NULL;
	struct mbx_msg *msg;

	lockdep_assert_held(&port->lock);
	msg = __mbx_queue_first(port);
	if (!msg) {
		if (list_empty(&port->send_waiters))
			return NULL;
		sender = list_first_entry(&port->send_waiters,
					  struct mbx_waiter, node);
		msg = sender->msg;
	}

	if (!mbx_fits(msg, *len, inplace)) {
		*len = msg->len;
		return ERR_PTR(-EMSGSIZE);
	}

	if (sender) {
		__mbx_count_send(port, msg);
		__mbx_complete(port, sender, 0);
	} else {
		__mbx_queue_del(port, msg);
		if (port->queued < port->capacity &&
		    !list_empty(&port->send_waiters)) {
			sender = list_first_entry(&port->send_waiters,
						  struct mbx_waiter, node);
			__mbx_queue_add(port, sender->msg, false, true);
			__mbx_count_send(port, sender->msg);
			__mbx_complete(port, sender, 0);
		}
	}
	__mbx_count_recv(port, msg);
	atomic_inc(&port->inflight);

	if (port->queued < port->capacity)
		__mbx_poll_wake(port, EPOLLOUT | EPOLLWRNORM);
	return msg;
}

/* Wait until a receiver takes @msg or moves it into the queue. */
static int __mbx_send_wait(struct mbx_port *port, struct mbx_msg *msg,
			   ktime_t *deadline)
{
	struct mbx_waiter w;

	w.task = current;
	w.msg = msg;
	w.state = MBX_WAITING;
	__mbx_add_sender(port, &w);
	/* It waits where receivers find it. */
	__mbx_tell_too_small(port, msg, NULL);
	port->stats.send_waits++;
	if (!port->capacity)
		__mbx_poll_wake(port, EPOLLIN | EPOLLRDNORM);
	return __mbx_wait(port, &w, MBX_WAIT_SEND, deadline);
}

/* The same on a MBX_PORT_MQ port, with a priority list reserved. */
static int __mbx_send_wait_mq(struct mbx_port *port, struct mbx_msg *msg,
			      ktime_t *deadline)
{
	int ret;

	ret = __mbx_prio_reserve(port);
	if (ret)
		return ret;
	ret = __mbx_send_wait(port, msg, deadline);
	__mbx_prio_unreserve(port);
	return ret;
}

/**
 * __mbx_eof() - whether a receive on an empty queue is at end of stream
 * @port: the port
 *
 * Shut down, or no sender left, and no message that a receive took can
 * come back: one whose copy out faults is put back (__mbx_putback()), and
 * a receiver told end of stream before would never see it.  When one is
 * still in flight, receivers wait, and the last mbx_recv_done() wakes
 * them.
 *
 * Context: port->lock held.
 */
bool __mbx_eof(struct mbx_port *port)
{
	lockdep_assert_held(&port->lock);
	if (!port->shutdown && !__mbx_no_senders(port))
		return false;
	WRITE_ONCE(port->eof_pending, true);
	/* Pairs with mbx_recv_done(): one of the two sees the other. */
	smp_mb();
	return !atomic_read(&port->inflight);
}

/**
 * mbx_recv_done() - a message that a receive took is delivered
 * @port: the port
 *
 * The last one of those in flight ends the stream for receivers that
 * __mbx_eof() kept waiting.
 *
 * Context: process context, port->lock not held.
 */
void mbx_recv_done(struct mbx_port *port)
{
	if (!atomic_dec_and_test(&port->inflight) ||
	    !READ_ONCE(port->eof_pending))
		return;
	spin_lock(&port->lock);
	if (__mbx_eof(port)) {
		__mbx_complete_all(port, &port->recv_waiters, -EPIPE);
		__mbx_poll_wake(port, EPOLLHUP);
	}
	mbx_port_unlock(port);
}

/**
 * __mbx_port_hangup() - finish the calls that can no longer succeed
 * @port: a port whose fd counts or linked flag just changed
 *
 * Blocked receivers of a port that nobody can send to any more see end of
 * stream; blocked senders of a port that nobody can receive from get EPIPE,
 * and so do allocations waiting for the pool space its queued messages
 * hold.
 *
 * Context: port->lock held.
 */
void __mbx_port_hangup(struct mbx_port *port)
{
	__poll_t events = 0;

	lockdep_assert_held(&port->lock);
	if (__mbx_no_senders(port) && __mbx_eof(port)) {
		__mbx_complete_all(port, &port->recv_waiters, -EPIPE);
		events |= EPOLLHUP;
	}
	if (__mbx_no_receivers(port)) {
		__mbx_complete_all(port, &port->send_waiters, -EPIPE);
		if (port->pool)
			__mbx_pool_hangup(port);
		events |= EPOLLERR;
	}
	if (events)
		__mbx_poll_wake(port, events);
}

/**
 * __mbx_send() - send a message: hand it to a waiting receiver, queue it,
 * or wait for room
 * @port:     the port
 * @msg:      the message, made by mbx_send_prepare()
 * @nonblock: fail with -EAGAIN rather than wait
 * @deadline: absolute CLOCK_MONOTONIC deadline, or NULL
 *
 * Context: port->lock held; dropped while waiting, held again on return.
 * Return: 0, the port then owns @msg; or -EPIPE, -EAGAIN, -ETIMEDOUT,
 * -EINTR, -ERESTARTSYS, the caller then still owns it and the queue is as
 * it was.
 */
int __mbx_send(struct mbx_port *port, struct mbx_msg *msg,
	       bool nonblock, ktime_t *deadline)
{
	lockdep_assert_held(&port->lock);
	if (port->shutdown || __mbx_no_receivers(port))
		return -EPIPE;

	if (__mbx_handoff(port, msg)) {
		__mbx_count_send(port, msg);
		__mbx_count_recv(port, msg);
		return 0;
	}
	if (port->queued < port->capacity) {
		if (__mbx_queue_add(port, msg, false, false))
			return -ENOMEM;
		__mbx_tell_too_small(port, msg, NULL);
		__mbx_count_send(port, msg);
		__mbx_poll_wake(port, EPOLLIN | EPOLLRDNORM);
		if (unlikely(port->notify) && port->queued == 1)
			__mbx_notify_fire(port, msg);
		return 0;
	}

	if (nonblock)
		return -EAGAIN;
	if (mbx_expired(deadline))
		return -ETIMEDOUT;
	if (unlikely(port->mq))
		return __mbx_send_wait_mq(port, msg, deadline);
	return __mbx_send_wait(port, msg, deadline);
}

/**
 * __mbx_recv_msg() - take the best message, waiting for one
 * @port:     the port
 * @len:      room in the receiver's buffer (any size will do for a pool
 *            message taken @inplace); on -EMSGSIZE, the size needed
 * @inplace:  the receiver takes pool messages in place
 * @nonblock: fail with -EAGAIN rather than wait
 * @deadline: absolute CLOCK_MONOTONIC deadline, or NULL
 * @msgp:     on success, the message
 *
 * On success the caller owns the message and must free it or put it back;
 * its region, if any, is held by nobody until the caller says who.
 *
 * Context: port->lock held; dropped while waiting, held again on return.
 * Return: 0, -EMSGSIZE, -EPIPE at end of stream or after shutdown,
 * -EAGAIN, -ETIMEDOUT, -EINTR or -ERESTARTSYS.
 */
int __mbx_recv_msg(struct mbx_port *port, size_t *len, bool inplace,
		   bool nonblock, ktime_t *deadline,
		   struct mbx_msg **msgp)
{
	struct mbx_waiter w;
	struct mbx_msg *msg;
	int ret;

	lockdep_assert_held(&port->lock);
	msg = __mbx_take(port, len, inplace);
	if (msg) {
		ret = PTR_ERR_OR_ZERO(msg);
		goto out;
	}

	if (__mbx_eof(port))
		return -EPIPE;
	if (nonblock)
		return -EAGAIN;
	if (mbx_expired(deadline))
		return -ETIMEDOUT;

	w.task = current;
	w.msg = NULL;
	w.buf_len = *len;
	w.inplace = inplace;
	w.state = MBX_WAITING;
	list_add_tail(&w.node, &port->recv_waiters);
	port->stats.recv_waits++;
	if (!port->capacity)
		__mbx_poll_wake(port, EPOLLOUT | EPOLLWRNORM);
	ret = __mbx_wait(port, &w, MBX_WAIT_RECV, deadline);
	msg = w.msg;
	if (ret == -EMSGSIZE)
		*len = w.buf_len;
out:
	if (!ret)
		*msgp = msg;
	return ret;
}

/**
 * mbx_recv_msg() - __mbx_recv_msg() with port->lock taken and dropped
 * @port:     the port
 * @len:      as for __mbx_recv_msg()
 * @inplace:  as for __mbx_recv_msg()
 * @nonblock: as for __mbx_recv_msg()
 * @deadline: as for __mbx_recv_msg()
 * @msgp:     as for __mbx_recv_msg()
 *
 * Context: process context, may sleep.
 * Return: as __mbx_recv_msg().
 */
int mbx_recv_msg(struct mbx_port *port, size_t *len, bool inplace,
		 bool nonblock, ktime_t *deadline,
		 struct mbx_msg **msgp)
{
	int ret;

	spin_lock(&port->lock);
	ret = __mbx_recv_msg(port, len, inplace, nonblock, deadline, msgp);
	mbx_port_unlock(port);
	return ret;
}

/**
 * __mbx_putback() - undo receives whose copy to user memory failed
 * @port: the port
 * @msgs: the messages, in the order they were received
 * @n:    how many
 *
 * The first go to receivers that started waiting meanwhile, the others back
 * to the head of the queue, in order.
 *
 * Context: port->lock held.
 */
void __mbx_putback(struct mbx_port *port, struct mbx_msg **msgs, u32 n)
{
	u32 i = 0, back;

	lockdep_assert_held(&port->lock);
	atomic_sub(n, &port->inflight);
	while (i < n && __mbx_handoff(port, msgs[i]))
		i++;
	if (i == n)
		return;
	back = n - i;
	while (n-- > i) {
		port->stats.received--;
		port->stats.bytes_received -= msgs[n]->len;
		__mbx_queue_add(port, msgs[n], true, true);
	}
	__mbx_tell_too_small(port, msgs[i], NULL);
	__mbx_poll_wake(port, EPOLLIN | EPOLLRDNORM);
	/* Back in a queue that was empty, with no receiver waiting. */
	if (unlikely(port->notify) && port->queued == back)
		__mbx_notify_fire(port, msgs[i]);
}

/**
 * mbx_putback() - __mbx_putback() of one message, with port->lock taken
 * @port: the port
 * @msg:  the message
 *
 * Context: process context.
 */
void mbx_putback(struct mbx_port *port, struct mbx_msg *msg)
{
	spin_lock(&port->lock);
	__mbx_putback(port, &msg, 1);
	mbx_port_unlock(port);
}

/**
 * mbx_recv_spin() - before a blocking receive sleeps, spin while a message
 * can be expected at once
 * @port:     the port
 * @deadline: absolute CLOCK_MONOTONIC deadline, or NULL
 * @spin_ns:  at most this long (recv_spin_ns, or call_spin_ns for a call)
 *
 * When the peer runs on another CPU and sends within microseconds, sleeping
 * would cost a wake-up and two context switches more than the wait itself,
 * as networking's busy polling and KVM's halt polling know.  The spin is a
 * lockless hint; the receive that follows decides.  It ends as soon as
 * something can be received, the port shuts down or reaches end of stream,
 * another task wants this CPU (so a CPU shared with the peer never spins),
 * a signal is pending, after @spin_ns, or at the deadline.
 *
 * Context: process context, port->lock not held.
 */
void mbx_recv_spin(struct mbx_port *port, const ktime_t *deadline,
		   u64 spin_ns)
{
	u64 end;

	if (!spin_ns || READ_ONCE(port->queued))
		return;
	end = local_clock() + spin_ns;
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
