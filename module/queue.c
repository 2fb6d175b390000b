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

#include "mbx.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

static void __mbx_queue_add(struct mbx_port *port, struct mbx_msg *msg,
			    bool head)
{
	lockdep_assert_held(&port->lock);
	if (head)
		list_add(&msg->node, &port->queue[msg->prio]);
	else
		list_add_tail(&msg->node, &port->queue[msg->prio]);
	port->queue_map |= BIT(msg->prio);
	port->queued++;
}

static void __mbx_queue_del(struct mbx_port *port, struct mbx_msg *msg)
{
	lockdep_assert_held(&port->lock);
	list_del(&msg->node);
	if (list_empty(&port->queue[msg->prio]))
		port->queue_map &= ~BIT(msg->prio);
	port->queued--;
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
 * Hand @msg to the longest-waiting receiver that has room for it.  Receivers
 * whose buffer is too small are told the size they need, as if they had
 * found the message queued.
 */
static bool __mbx_handoff(struct mbx_port *port, struct mbx_msg *msg)
{
	struct mbx_waiter *w, *tmp;

	lockdep_assert_held(&port->lock);
	list_for_each_entry_safe(w, tmp, &port->recv_waiters, node) {
		if (!mbx_fits(msg, w->buf_len, w->inplace)) {
			w->buf_len = msg->len;
			__mbx_complete(port, w, -EMSGSIZE);
			continue;
		}
		w->msg = msg;
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
	if (port->queue_map) {
		msg = list_first_entry(&port->queue[__fls(port->queue_map)],
				       struct mbx_msg, node);
	} else if (!list_empty(&port->send_waiters)) {
		sender = list_first_entry(&port->send_waiters,
					  struct mbx_waiter, node);
		msg = sender->msg;
	} else {
		return NULL;
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
			__mbx_queue_add(port, sender->msg, false);
			__mbx_count_send(port, sender->msg);
			__mbx_complete(port, sender, 0);
		}
	}
	__mbx_count_recv(port, msg);

	if (port->queued < port->capacity)
		__mbx_poll_wake(port, EPOLLOUT | EPOLLWRNORM);
	return msg;
}

/**
 * __mbx_port_hangup() - finish the calls that can no longer succeed
 * @port: a port whose fd counts or linked flag just changed
 *
 * Blocked receivers of a port that nobody can send to any more see end of
 * stream; blocked senders of a port that nobody can receive from get EPIPE.
 *
 * Context: port->lock held.
 */
void __mbx_port_hangup(struct mbx_port *port)
{
	__poll_t events = 0;

	lockdep_assert_held(&port->lock);
	if (__mbx_no_senders(port)) {
		__mbx_complete_all(port, &port->recv_waiters, -EPIPE);
		events |= EPOLLHUP;
	}
	if (__mbx_no_receivers(port)) {
		__mbx_complete_all(port, &port->send_waiters, -EPIPE);
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
	struct mbx_waiter w;

	lockdep_assert_held(&port->lock);
	if (port->shutdown || __mbx_no_receivers(port))
		return -EPIPE;

	if (__mbx_handoff(port, msg)) {
		__mbx_count_send(port, msg);
		__mbx_count_recv(port, msg);
		return 0;
	}
	if (port->queued < port->capacity) {
		__mbx_queue_add(port, msg, false);
		__mbx_count_send(port, msg);
		__mbx_poll_wake(port, EPOLLIN | EPOLLRDNORM);
		return 0;
	}

	if (nonblock)
		return -EAGAIN;
	if (mbx_expired(deadline))
		return -ETIMEDOUT;

	w.task = current;
	w.msg = msg;
	w.state = MBX_WAITING;
	__mbx_add_sender(port, &w);
	port->stats.send_waits++;
	if (!port->capacity)
		__mbx_poll_wake(port, EPOLLIN | EPOLLRDNORM);
	return __mbx_wait(port, &w, MBX_WAIT_SEND, deadline);
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

	if (port->shutdown || __mbx_no_senders(port))
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
	u32 i = 0;

	lockdep_assert_held(&port->lock);
	while (i < n && __mbx_handoff(port, msgs[i]))
		i++;
	if (i == n)
		return;
	while (n-- > i) {
		port->stats.received--;
		port->stats.bytes_received -= msgs[n]->len;
		__mbx_queue_add(port, msgs[n], true);
	}
	__mbx_poll_wake(port, EPOLLIN | EPOLLRDNORM);
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
