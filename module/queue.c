// SPDX-License-Identifier: GPL-2.0
/*
 * mailbox: a port, its message queue and its file.
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
 * Payloads are copied from user memory before the lock is taken and to user
 * memory after it is dropped; a receive whose copy faults puts the message
 * back at the head of its priority.
 *
 * LOCKING: port->lock (spinlock) protects the queue, both waiter lists, the
 * file counts, the shutdown and linked flags and the counters.  It is
 * always dropped with mbx_port_unlock() (or in __mbx_wait()), which wakes
 * the first task the section completed and the pollers once the lock is
 * free, as ipc/mqueue.c does with a wake_q: a task woken while the lock is
 * held would at once spin on it.  Further tasks completed in the same
 * section are woken at once.
 * mbx_ports_lock (mutex) protects the list of every port, for debugfs.
 * Order: mbx_names_lock (names.c), then mbx_ports_lock, then port->lock,
 * then the pool's xarray lock (pool.c).  port->poll_wq.lock is taken
 * alone, after port->lock is dropped.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/atomic.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/hrtimer.h>
#include <linux/mm.h>
#include <linux/pid.h>
#include <linux/poll.h>
#include <linux/sched/clock.h>
#include <linux/sched/signal.h>
#include <linux/sched/stat.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "mbx.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

static atomic64_t mbx_port_ids = ATOMIC64_INIT(0);

/* Bytes of a name escaped (as \ooo) where a name is printed. */
#define MBX_NAME_ESCAPE	" \t\n\\"

/* Protects mbx_ports and every port's all_node; see LOCKING above. */
static DEFINE_MUTEX(mbx_ports_lock);
static LIST_HEAD(mbx_ports);

static struct mbx_msg *mbx_msg_alloc(size_t len)
{
	struct mbx_msg *msg;

	msg = kvmalloc(struct_size(msg, data, len),
		       GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!msg)
		return NULL;
	msg->len = len;
	msg->region = NULL;
	msg->pid = get_pid(task_tgid(current));
	msg->uid = current_euid();
	return msg;
}

static void mbx_msg_free(struct mbx_msg *msg)
{
	put_pid(msg->pid);
	kvfree(msg);
}

/* Port lifetime */

/**
 * mbx_port_alloc() - make a port from checked creation arguments
 * @args: flags, mode and name already validated by the caller
 *
 * Applies the module limits and charges the creator.
 *
 * Context: process context, may sleep.
 * Return: the port with one reference, or ERR_PTR(-EINVAL, -EOPNOTSUPP,
 * -EMFILE, -EDQUOT or -ENOMEM).
 */
struct mbx_port *mbx_port_alloc(const struct mbx_port_create *args)
{
	u32 limit = min(READ_ONCE(mbx_max_msg_size), MBX_MSG_SIZE_CEILING);
	u64 pool_limit = min_t(u64, READ_ONCE(mbx_max_pool_size),
			       MBX_POOL_SIZE_CEILING);
	u32 max_msg_size = args->max_msg_size;
	struct mbx_port *port;
	int prio, ret;

	if (!max_msg_size)
		max_msg_size = min(READ_ONCE(mbx_default_msg_size), limit);
	/* pool_size is bounded before it is rounded, so it cannot wrap. */
	if (max_msg_size > limit ||
	    args->capacity > READ_ONCE(mbx_max_capacity) ||
	    args->pool_size > pool_limit ||
	    PAGE_ALIGN(args->pool_size) > pool_limit)
		return ERR_PTR(-EINVAL);
	port = kzalloc(sizeof(*port), GFP_KERNEL_ACCOUNT);
	if (!port)
		return ERR_PTR(-ENOMEM);

	port->capacity = args->capacity;
	port->max_msg_size = max_msg_size;
	port->pool_size = PAGE_ALIGN(args->pool_size);
	port->mode = args->mode;
	port->uid = current_fsuid();
	port->gid = current_fsgid();
	strscpy(port->name, args->name, sizeof(port->name));

	/* A full queue of largest messages; a rendezvous port holds one. */
	port->charge = (u64)max(port->capacity, 1U) *
		       (max_msg_size + MBX_MSG_CHARGE) + port->pool_size;
	ret = mbx_user_charge(port->uid, port->charge, &port->user);
	if (ret)
		goto err_port;

	if (port->pool_size) {
		port->pool = mbx_pool_create(port->pool_size);
		if (IS_ERR(port->pool)) {
			ret = PTR_ERR(port->pool);
			goto err_charge;
		}
	}

	kref_init(&port->ref);
	port->id = atomic64_inc_return(&mbx_port_ids);
	spin_lock_init(&port->lock);
	for (prio = 0; prio < MBX_NR_PRIO; prio++)
		INIT_LIST_HEAD(&port->queue[prio]);
	INIT_LIST_HEAD(&port->send_waiters);
	INIT_LIST_HEAD(&port->recv_waiters);
	init_waitqueue_head(&port->poll_wq);

	mutex_lock(&mbx_ports_lock);
	list_add_tail(&port->all_node, &mbx_ports);
	mutex_unlock(&mbx_ports_lock);
	return port;

err_charge:
	mbx_user_uncharge(port->user, port->charge);
err_port:
	kfree(port);
	return ERR_PTR(ret);
}

static void mbx_port_free(struct kref *ref)
{
	struct mbx_port *port = container_of(ref, struct mbx_port, ref);
	struct mbx_msg *msg, *tmp;
	int prio;

	mutex_lock(&mbx_ports_lock);
	list_del(&port->all_node);
	mutex_unlock(&mbx_ports_lock);

	/* Pool regions of queued messages go with the pool. */
	if (port->queued)
		trace_mbx_drop(port->id, port->queued, port->stats.bytes_sent -
			       port->stats.bytes_received);
	for (prio = 0; prio < MBX_NR_PRIO; prio++)
		list_for_each_entry_safe(msg, tmp, &port->queue[prio], node)
			mbx_msg_free(msg);
	if (port->pool)
		mbx_pool_destroy(port->pool);
	mbx_user_uncharge(port->user, port->charge);
	kfree(port);
}

/**
 * mbx_port_put() - drop a reference to a port
 * @port: the port
 *
 * Context: process context, may sleep (the last put frees the queue).
 */
void mbx_port_put(struct mbx_port *port)
{
	kref_put(&port->ref, mbx_port_free);
}

/* Queue and waiters; every helper below needs port->lock */

/* Wake pollers for @events once port->lock is dropped. */
static void __mbx_poll_wake(struct mbx_port *port, __poll_t events)
{
	lockdep_assert_held(&port->lock);
	port->poll_events |= events;
}

/*
 * Take the wake-ups decided under port->lock; mbx_wake() delivers them
 * once it is dropped.
 */
static struct task_struct *__mbx_take_wakes(struct mbx_port *port,
					    __poll_t *events)
{
	struct task_struct *task = port->wake;

	lockdep_assert_held(&port->lock);
	*events = port->poll_events;
	port->wake = NULL;
	port->poll_events = 0;
	return task;
}

/* Deliver what __mbx_take_wakes() took; the caller puts @task afterwards. */
static void mbx_wake(struct mbx_port *port, struct task_struct *task,
		     __poll_t events)
{
	if (task)
		wake_up_process(task);
	/* A sync wake-up, as pipe_write() gives its readers. */
	if (events && wq_has_sleeper(&port->poll_wq))
		wake_up_interruptible_sync_poll(&port->poll_wq, events);
}

/**
 * mbx_port_unlock() - drop port->lock, then wake whom the section completed
 * @port: the port, locked
 *
 * Context: port->lock held; dropped on return.
 */
void mbx_port_unlock(struct mbx_port *port)
	__releases(&port->lock)
{
	struct task_struct *task;
	__poll_t events;

	task = __mbx_take_wakes(port, &events);
	spin_unlock(&port->lock);
	mbx_wake(port, task, events);
	if (task)
		put_task_struct(task);
}

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

/*
 * Finish @w's call with @result and wake it: once port->lock is dropped,
 * or now if another wake-up is already waiting for that (the tracepoint
 * fires here, when the decision is made).  The reference keeps the task
 * for the late wake-up even if a signal or a timeout wakes it first and
 * its call returns; a spurious wake-up is harmless.
 */
static void __mbx_complete(struct mbx_port *port, struct mbx_waiter *w,
			   int result)
{
	lockdep_assert_held(&port->lock);
	list_del(&w->node);
	w->state = result;
	trace_mbx_wake(port->id, task_pid_nr(w->task), result);
	if (port->wake) {
		wake_up_process(w->task);
		return;
	}
	get_task_struct(w->task);
	port->wake = w->task;
}

/**
 * __mbx_complete_all() - finish every call on @list with @result
 * @port:   the port
 * @list:   one of its waiter lists
 * @result: 0 or -errno
 *
 * Context: port->lock held.
 */
void __mbx_complete_all(struct mbx_port *port, struct list_head *list,
			int result)
{
	struct mbx_waiter *w, *tmp;

	list_for_each_entry_safe(w, tmp, list, node)
		__mbx_complete(port, w, result);
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

/* Nothing can ever be sent again to a port no one can open by name. */
static bool __mbx_no_senders(struct mbx_port *port)
{
	return !port->linked && !port->senders;
}

static bool __mbx_no_receivers(struct mbx_port *port)
{
	return !port->linked && !port->receivers;
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
 * __mbx_wait() - sleep until a peer completes @w
 * @port:     the port; @w is on one of its waiter lists
 * @w:        the caller's waiter
 * @what:     MBX_WAIT_SEND, MBX_WAIT_RECV or MBX_WAIT_ALLOC, for tracing
 * @deadline: absolute CLOCK_MONOTONIC deadline, or NULL
 *
 * Context: port->lock held; dropped while sleeping, held again on return,
 * with @w off any list.
 * Return: the result a peer gave @w, or -ETIMEDOUT, -EINTR for a timed
 * call interrupted by a signal, -ERESTARTSYS for an untimed one.
 */
int __mbx_wait(struct mbx_port *port, struct mbx_waiter *w, int what,
	       ktime_t *deadline)
	__must_hold(&port->lock)
{
	int ret;

	lockdep_assert_held(&port->lock);
	trace_mbx_wait(port->id, what);
	for (;;) {
		struct task_struct *task;
		__poll_t events;

		task = __mbx_take_wakes(port, &events);
		set_current_state(TASK_INTERRUPTIBLE);
		spin_unlock(&port->lock);
		mbx_wake(port, task, events);
		if (deadline)
			schedule_hrtimeout_range_clock(deadline,
						       current->timer_slack_ns,
						       HRTIMER_MODE_ABS,
						       CLOCK_MONOTONIC);
		else
			schedule();
		/* Not before: the last put may not run in a sleeping state. */
		if (task)
			put_task_struct(task);
		spin_lock(&port->lock);

		if (w->state != MBX_WAITING)
			return w->state;
		if (signal_pending(current)) {
			/* A timed call cannot restart with the same timeout. */
			ret = deadline ? -EINTR : -ERESTARTSYS;
			break;
		}
		if (deadline && ktime_compare(ktime_get(), *deadline) >= 0) {
			trace_mbx_timeout(port->id, what);
			ret = -ETIMEDOUT;
			break;
		}
	}
	list_del(&w->node);
	return ret;
}

/**
 * mbx_expired() - whether a deadline has passed
 * @deadline: absolute CLOCK_MONOTONIC deadline, or NULL for none
 *
 * Context: any.
 * Return: true if @deadline is set and not in the future.
 */
bool mbx_expired(const ktime_t *deadline)
{
	return deadline && ktime_compare(ktime_get(), *deadline) >= 0;
}

/*
 * Send @msg.  On success the port owns it; on failure the caller still does
 * and the queue is as it was.
 */
static int __mbx_send(struct mbx_port *port, struct mbx_msg *msg,
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

/*
 * Receive a message for a buffer of *@len bytes (any size will do for a
 * pool message taken @inplace).  On success the caller owns the message and
 * must free it or put it back; its region, if any, is held by nobody until
 * the caller says who.  On -EMSGSIZE *@len is the size needed.
 *
 * Context: port->lock held; dropped while waiting, held again on return.
 */
static int __mbx_recv_msg(struct mbx_port *port, size_t *len, bool inplace,
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

static int mbx_recv_msg(struct mbx_port *port, size_t *len, bool inplace,
			bool nonblock, ktime_t *deadline,
			struct mbx_msg **msgp)
{
	int ret;

	spin_lock(&port->lock);
	ret = __mbx_recv_msg(port, len, inplace, nonblock, deadline, msgp);
	mbx_port_unlock(port);
	return ret;
}

/*
 * Undo receives whose copy to user memory failed: @n messages, in the order
 * they were received.  The first go to receivers that started waiting
 * meanwhile, the others back to the head of the queue, in order.
 */
static void __mbx_putback(struct mbx_port *port, struct mbx_msg **msgs, u32 n)
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

static void mbx_putback(struct mbx_port *port, struct mbx_msg *msg)
{
	spin_lock(&port->lock);
	__mbx_putback(port, &msg, 1);
	mbx_port_unlock(port);
}

/*
 * The message for the send @args describe, made before the port is locked:
 * the payload copied in (copy mode), or an empty message to carry a region.
 * Return: 0 with *@msgp set, or -EMSGSIZE, -ENODEV, -ENOMEM, -EFAULT.
 */
static int mbx_send_prepare(struct mbx_port *port,
			    const struct mbx_send *args, struct mbx_msg **msgp)
{
	struct mbx_msg *msg;

	if (args->flags & MBX_SEND_BUF) {
		if (!port->pool)
			return -ENODEV;
		msg = mbx_msg_alloc(0);
		if (!msg)
			return -ENOMEM;
	} else {
		if (args->len > port->max_msg_size)
			return -EMSGSIZE;
		msg = mbx_msg_alloc(args->len);
		if (!msg)
			return -ENOMEM;
		if (copy_from_user(msg->data, u64_to_user_ptr(args->buf),
				   args->len)) {
			mbx_msg_free(msg);
			return -EFAULT;
		}
	}
	msg->prio = args->prio;
	msg->tag = args->tag;
	*msgp = msg;
	return 0;
}

/*
 * Send a prepared message, carrying the pool region @args name if they say
 * MBX_SEND_BUF.  On success the port owns @msg; on failure the caller still
 * does, and @file holds the region again.
 */
static int __mbx_send_prepared(struct mbx_port *port, struct file *file,
			       const struct mbx_send *args, struct mbx_msg *msg,
			       bool nonblock, ktime_t *deadline)
{
	struct mbx_region *r;
	int ret;

	if (!(args->flags & MBX_SEND_BUF))
		return __mbx_send(port, msg, nonblock, deadline);

	r = __mbx_region_send(port, file, args->offset, args->len);
	if (IS_ERR(r))
		return PTR_ERR(r);
	msg->region = r;
	msg->len = args->len;
	ret = __mbx_send(port, msg, nonblock, deadline);
	if (ret)
		__mbx_region_unsend(r, file);
	return ret;
}

/* Send as checked @args say. */
static int mbx_send_args(struct file *file, const struct mbx_send *args,
			 bool nonblock, ktime_t *deadline)
{
	struct mbx_port *port = mbx_file_port(file);
	struct mbx_msg *msg;
	int ret;

	ret = mbx_send_prepare(port, args, &msg);
	if (ret)
		return ret;
	spin_lock(&port->lock);
	ret = __mbx_send_prepared(port, file, args, msg, nonblock, deadline);
	mbx_port_unlock(port);
	if (ret)
		mbx_msg_free(msg);
	return ret;
}

/*
 * Copy a received message out to @buf and free it; a pool message's region
 * is freed with it.  On -EFAULT the caller still owns the message.
 */
static int mbx_copy_out(struct mbx_port *port, struct mbx_msg *msg,
			void __user *buf)
{
	const void *data = msg->region ?
			   mbx_region_data(port->pool, msg->region) : msg->data;

	if (copy_to_user(buf, data, msg->len))
		return -EFAULT;
	if (msg->region) {
		spin_lock(&port->lock);
		__mbx_region_put(port, msg->region);
		mbx_port_unlock(port);
	}
	mbx_msg_free(msg);
	return 0;
}

/* File operations */

static ssize_t mbx_port_read(struct file *file, char __user *buf, size_t len,
			     loff_t *ppos)
{
	struct mbx_port *port = mbx_file_port(file);
	struct mbx_msg *msg;
	int ret;

	if (!(mbx_file_access(file) & MBX_RECV))
		return -EBADF;

	ret = mbx_recv_msg(port, &len, false, file->f_flags & O_NONBLOCK, NULL,
			   &msg);
	if (ret)
		return ret == -EPIPE ? 0 : ret;

	len = msg->len;
	ret = mbx_copy_out(port, msg, buf);
	if (ret) {
		mbx_putback(port, msg);
		return ret;
	}
	return len;
}

static ssize_t mbx_port_write(struct file *file, const char __user *buf,
			      size_t len, loff_t *ppos)
{
	struct mbx_send args = { .buf = (uintptr_t)buf, .len = len };
	int ret;

	if (!(mbx_file_access(file) & MBX_SEND))
		return -EBADF;
	ret = mbx_send_args(file, &args, file->f_flags & O_NONBLOCK, NULL);
	return ret ?: len;
}

/*
 * Turn MBX_TIMEOUT / MBX_ABSTIME into an absolute CLOCK_MONOTONIC deadline.
 * Return: 0 with *@deadlinep set (NULL for no timeout), or -EINVAL.
 */
static int mbx_deadline(u32 flags, u64 timeout_ns, ktime_t *deadline,
			ktime_t **deadlinep)
{
	ktime_t t = ns_to_ktime(min_t(u64, timeout_ns, KTIME_MAX));

	*deadlinep = NULL;
	if (!(flags & MBX_TIMEOUT))
		return (flags & MBX_ABSTIME) || timeout_ns ? -EINVAL : 0;

	*deadline = flags & MBX_ABSTIME ? t : ktime_add_safe(ktime_get(), t);
	*deadlinep = deadline;
	return 0;
}

#define MBX_SEND_FLAGS	(MBX_NONBLOCK | MBX_TIMEOUT | MBX_ABSTIME | MBX_SEND_BUF)
#define MBX_RECV_FLAGS	(MBX_NONBLOCK | MBX_TIMEOUT | MBX_ABSTIME | \
			 MBX_RECV_INPLACE)
#define MBX_WAIT_FLAGS	(MBX_NONBLOCK | MBX_TIMEOUT | MBX_ABSTIME)

static const struct file_operations mbx_port_fops;

static bool mbx_nonblock(struct file *file, u32 flags)
{
	return flags & MBX_NONBLOCK || file->f_flags & O_NONBLOCK;
}

static int mbx_check_send(struct file *file, const struct mbx_send *args)
{
	if (!(mbx_file_access(file) & MBX_SEND))
		return -EBADF;
	if (args->flags & ~MBX_SEND_FLAGS || args->prio > MBX_PRIO_MAX)
		return -EINVAL;
	if (args->flags & MBX_SEND_BUF ? args->buf : args->offset)
		return -EINVAL;
	return 0;
}

static int mbx_check_recv(struct file *file, const struct mbx_recv *args)
{
	if (!(mbx_file_access(file) & MBX_RECV))
		return -EBADF;
	/* Output fields are ignored, so one struct can serve a loop. */
	if (args->flags & ~MBX_RECV_FLAGS || args->reserved)
		return -EINVAL;
	return 0;
}

/*
 * A sender's pid and uid as the receiver sees them, kept across the
 * messages of a receive batch, which mostly come from one sender.  Only
 * messages held at the same time may share one: their struct pid pointers
 * are then equal only for the same pid.
 */
struct mbx_sender_ids {
	struct pid *pid;	/* NULL: nothing kept yet */
	kuid_t kuid;
	pid_t nr;
	uid_t uid;
};

static void mbx_sender_ids(struct mbx_sender_ids *ids, struct mbx_msg *msg)
{
	if (ids->pid == msg->pid && uid_eq(ids->kuid, msg->uid))
		return;
	ids->pid = msg->pid;
	ids->kuid = msg->uid;
	ids->nr = pid_vnr(msg->pid);
	ids->uid = from_kuid_munged(current_user_ns(), msg->uid);
}

/*
 * Give the caller a received message as checked @args ask, and write the
 * results back to @uargs, the user's copy of @args: in place (@file then
 * holds its region), or copied out to args->buf (the message is freed).
 * On -EFAULT the caller still owns the message and must put it back.
 */
static int mbx_recv_deliver(struct file *file, struct mbx_recv *args,
			    struct mbx_recv __user *uargs, struct mbx_msg *msg,
			    struct mbx_sender_ids *ids)
{
	struct mbx_port *port = mbx_file_port(file);
	bool inplace = msg->region && args->flags & MBX_RECV_INPLACE;

	mbx_sender_ids(ids, msg);
	args->len = msg->len;
	args->offset = inplace ? mbx_region_offset(msg->region) : 0;
	args->msg_flags = inplace ? MBX_MSG_BUF : 0;
	args->tag = msg->tag;
	args->prio = msg->prio;
	args->pid = ids->nr;
	args->uid = ids->uid;

	/* Tell the caller what it got before the message is gone. */
	if (copy_to_user(uargs, args, sizeof(*args)))
		return -EFAULT;
	if (!inplace)
		return mbx_copy_out(port, msg, u64_to_user_ptr(args->buf));
	/*
	 * Only now may this file release the region: had it held it before
	 * the copy above, another thread could have released a region that a
	 * failed copy then puts back.
	 */
	spin_lock(&port->lock);
	__mbx_region_hold(msg->region, file);
	mbx_port_unlock(port);
	mbx_msg_free(msg);
	return 0;
}

/*
 * Receive as checked @args say, and write the results back to @uargs, the
 * user's copy of @args.  On -EMSGSIZE, uargs->len is the size needed.
 */
static int mbx_recv_args(struct file *file, struct mbx_recv *args,
			 struct mbx_recv __user *uargs, bool nonblock,
			 ktime_t *deadline)
{
	struct mbx_port *port = mbx_file_port(file);
	struct mbx_sender_ids ids = {};
	struct mbx_msg *msg;
	size_t len;
	int ret;

	len = args->len;
	ret = mbx_recv_msg(port, &len, args->flags & MBX_RECV_INPLACE,
			   nonblock, deadline, &msg);
	if (ret == -EMSGSIZE && put_user(len, &uargs->len))
		return -EFAULT;
	if (ret)
		return ret;
	ret = mbx_recv_deliver(file, args, uargs, msg, &ids);
	if (ret)
		mbx_putback(port, msg);
	return ret;
}

static long mbx_ioctl_send(struct file *file, unsigned int cmd,
			   void __user *uarg)
{
	ktime_t deadline, *dl;
	struct mbx_send args;
	int ret;

	ret = mbx_copy_arg(&args, sizeof(args), cmd, uarg);
	if (ret)
		return ret;
	ret = mbx_check_send(file, &args);
	if (ret)
		return ret;
	ret = mbx_deadline(args.flags, args.timeout_ns, &deadline, &dl);
	if (ret)
		return ret;
	return mbx_send_args(file, &args, mbx_nonblock(file, args.flags), dl);
}

static long mbx_ioctl_recv(struct file *file, unsigned int cmd,
			   void __user *uarg)
{
	ktime_t deadline, *dl;
	struct mbx_recv args;
	int ret;

	ret = mbx_copy_arg(&args, sizeof(args), cmd, uarg);
	if (ret)
		return ret;
	ret = mbx_check_recv(file, &args);
	if (ret)
		return ret;
	ret = mbx_deadline(args.flags, args.timeout_ns, &deadline, &dl);
	if (ret)
		return ret;
	return mbx_recv_args(file, &args, uarg, mbx_nonblock(file, args.flags),
			     dl);
}

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

/*
 * Send on @file, then receive on args.recv_fd.  Both halves are checked
 * before anything is sent, so a call fails half-way only when the receive
 * itself fails; @done tells the caller.
 */
static long mbx_ioctl_call(struct file *file, struct mbx_call __user *uarg)
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
		if (rfile->f_op != &mbx_port_fops)
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

/*
 * Batches go MBX_BATCH_CHUNK entries at a time: the entries are copied in
 * at once, checked and (send) their messages made before port->lock is
 * taken, and the port is locked once for all of them.  A send chunk makes
 * messages for at most MBX_BATCH_BYTES of payload (and at least one), and
 * an entry that may wait goes alone, so a blocked batch holds one message.
 */
#define MBX_BATCH_CHUNK		32
#define MBX_BATCH_BYTES		(256 * 1024)

/* A send entry's own flags may only say MBX_SEND_BUF. */
static int mbx_check_batch_send(struct file *file, const struct mbx_send *args)
{
	if (args->flags & ~MBX_SEND_BUF || args->timeout_ns)
		return -EINVAL;
	return mbx_check_send(file, args);
}

/* A receive entry's own flags may only say MBX_RECV_INPLACE. */
static int mbx_check_batch_recv(struct file *file, const struct mbx_recv *args)
{
	if (args->flags & ~MBX_RECV_INPLACE || args->timeout_ns)
		return -EINVAL;
	return mbx_check_recv(file, args);
}

/*
 * Send entries from the @n at @ents.  The first waits as @nonblock and
 * @deadline say, the others go only if they need not wait.  *@done is how
 * many went; the return value is the error that stopped the chunk, or 0
 * (also when it stopped early to keep to MBX_BATCH_BYTES).
 */
static int mbx_batch_send_chunk(struct file *file, const struct mbx_send *ents,
				u32 n, bool nonblock, ktime_t *deadline,
				u32 *done)
{
	struct mbx_port *port = mbx_file_port(file);
	struct mbx_msg *msgs[MBX_BATCH_CHUNK];
	size_t bytes = 0;
	u32 i, ready;
	int ret = 0;

	if (!nonblock)
		n = 1;
	for (ready = 0; ready < n && bytes < MBX_BATCH_BYTES; ready++) {
		ret = mbx_check_batch_send(file, &ents[ready]);
		if (!ret)
			ret = mbx_send_prepare(port, &ents[ready], &msgs[ready]);
		if (ret)
			break;
		if (!(ents[ready].flags & MBX_SEND_BUF))
			bytes += ents[ready].len;
	}

	spin_lock(&port->lock);
	for (i = 0; i < ready; i++) {
		int err = __mbx_send_prepared(port, file, &ents[i], msgs[i],
					      nonblock, deadline);

		if (err) {
			ret = err;
			break;
		}
		nonblock = true;
		deadline = NULL;
	}
	mbx_port_unlock(port);

	*done = i;
	for (; i < ready; i++)
		mbx_msg_free(msgs[i]);
	return ret;
}

/*
 * Receive into the @n entries at @ents, the kernel's copy of @uents, as
 * mbx_batch_send_chunk() sends.
 */
static int mbx_batch_recv_chunk(struct file *file, struct mbx_recv *ents,
				struct mbx_recv __user *uents, u32 n,
				bool nonblock, ktime_t *deadline, u32 *done)
{
	struct mbx_port *port = mbx_file_port(file);
	struct mbx_msg *msgs[MBX_BATCH_CHUNK];
	struct mbx_sender_ids ids = {};
	u32 i, valid, taken;
	size_t len = 0;
	int ret = 0;

	for (valid = 0; valid < n; valid++) {
		ret = mbx_check_batch_recv(file, &ents[valid]);
		if (ret)
			break;
	}

	spin_lock(&port->lock);
	for (taken = 0; taken < valid; taken++) {
		int err;

		len = ents[taken].len;
		err = __mbx_recv_msg(port, &len,
				     ents[taken].flags & MBX_RECV_INPLACE,
				     nonblock, deadline, &msgs[taken]);
		if (err) {
			ret = err;
			break;
		}
		nonblock = true;
		deadline = NULL;
	}
	mbx_port_unlock(port);

	for (i = 0; i < taken; i++) {
		int err = mbx_recv_deliver(file, &ents[i], &uents[i], msgs[i],
					   &ids);

		if (err) {
			ret = err;
			break;
		}
	}
	*done = i;
	if (i < taken) {
		/*
		 * Taking them may have moved blocked senders' messages into
		 * the queue; with these back it can hold up to a chunk more
		 * than its capacity until they are received, no more memory
		 * than those senders held.
		 */
		spin_lock(&port->lock);
		__mbx_putback(port, msgs + i, taken - i);
		mbx_port_unlock(port);
	} else if (ret == -EMSGSIZE && put_user(len, &uents[taken].len)) {
		ret = -EFAULT;
	}
	return ret;
}

/*
 * The first message of a batch waits as the batch's flags say; the others
 * go only if they need not wait.  Return: how many went through, or the
 * first message's error.
 */
static long mbx_ioctl_batch(struct file *file, struct mbx_batch __user *uarg,
			    bool send)
{
	size_t size = send ? sizeof(struct mbx_send) : sizeof(struct mbx_recv);
	ktime_t deadline, *dl;
	struct mbx_batch args;
	void *ents = NULL;
	bool nonblock;
	u32 done = 0;
	int ret;

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	ret = -EINVAL;
	if (args.flags & ~MBX_WAIT_FLAGS || args.reserved ||
	    !args.count || args.count > MBX_BATCH_MAX)
		goto out;
	ret = mbx_deadline(args.flags, args.timeout_ns, &deadline, &dl);
	if (ret)
		goto out;
	nonblock = mbx_nonblock(file, args.flags);
	ret = -ENOMEM;
	ents = kmalloc_array(min_t(u32, args.count, MBX_BATCH_CHUNK), size,
			     GFP_KERNEL);
	if (!ents)
		goto out;

	while (done < args.count) {
		void __user *uents = u64_to_user_ptr(args.msgs) + done * size;
		u32 n = min_t(u32, args.count - done, MBX_BATCH_CHUNK);
		size_t left = copy_from_user(ents, uents, n * size);
		u32 whole = (n * size - left) / size;
		u32 went = 0;

		/*
		 * Entries before a fault go; the next round starts after the
		 * last that went, so an entry that cannot be read ends it.
		 */
		ret = -EFAULT;
		if (!whole)
			break;
		ret = send ? mbx_batch_send_chunk(file, ents, whole, nonblock,
						  dl, &went) :
			     mbx_batch_recv_chunk(file, ents, uents, whole,
						  nonblock, dl, &went);
		done += went;
		if (ret)
			break;
		nonblock = true;
		dl = NULL;
	}
out:
	kfree(ents);
	if (put_user(done, &uarg->done))
		return -EFAULT;
	return done ?: ret;
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
	ret = mbx_port_install(port, access, args.flags, false);
	if (ret < 0)
		mbx_port_put(port);
	return ret;
}

static u32 mbx_list_count(struct list_head *head)
{
	struct list_head *pos;
	u32 n = 0;

	list_for_each(pos, head)
		n++;
	return n;
}

/**
 * mbx_port_info() - describe a port as MBX_IOC_PORT_INFO does
 * @port: the port
 * @info: filled whole; its access field is left zero
 *
 * Context: may take port->lock.
 */
void mbx_port_info(struct mbx_port *port, struct mbx_port_info *info)
{
	memset(info, 0, sizeof(*info));
	info->id = port->id;
	info->capacity = port->capacity;
	info->max_msg_size = port->max_msg_size;
	info->pool_size = port->pool_size;
	info->mode = port->mode;
	info->uid = from_kuid_munged(current_user_ns(), port->uid);
	info->gid = from_kgid_munged(current_user_ns(), port->gid);
	strscpy(info->name, port->name, sizeof(info->name));

	spin_lock(&port->lock);
	info->state = (port->linked ? MBX_STATE_NAMED : 0) |
		      (port->shutdown ? MBX_STATE_SHUTDOWN : 0);
	info->queued = port->queued;
	info->pool_free = port->pool ? __mbx_pool_avail(port->pool) : 0;
	info->senders = port->senders;
	info->receivers = port->receivers;
	info->send_waiting = mbx_list_count(&port->send_waiters);
	info->recv_waiting = mbx_list_count(&port->recv_waiters);
	info->sent = port->stats.sent;
	info->received = port->stats.received;
	info->bytes_sent = port->stats.bytes_sent;
	info->bytes_received = port->stats.bytes_received;
	info->send_waits = port->stats.send_waits;
	info->recv_waits = port->stats.recv_waits;
	mbx_port_unlock(port);
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
	if (copy_to_user(uarg, &info, sizeof(info)) ||
	    clear_user(uarg + sizeof(info), usize - sizeof(info)))
		return -EFAULT;
	return 0;
}

static long mbx_ioctl_shutdown(struct mbx_port *port)
{
	spin_lock(&port->lock);
	if (!port->shutdown) {
		port->shutdown = true;
		/* Receivers wait only on an empty queue: this is their end. */
		__mbx_complete_all(port, &port->recv_waiters, -EPIPE);
		__mbx_complete_all(port, &port->send_waiters, -EPIPE);
		if (port->pool)
			__mbx_pool_shutdown(port);
		__mbx_poll_wake(port, EPOLLHUP);
	}
	mbx_port_unlock(port);
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
	if (args.flags & ~MBX_WAIT_FLAGS || args.reserved)
		return -EINVAL;
	ret = mbx_deadline(args.flags, args.timeout_ns, &deadline, &dl);
	if (ret)
		return ret;
	if (!port->pool)
		return -ENODEV;

	ret = mbx_pool_alloc(port, file, args.len,
			     mbx_nonblock(file, args.flags), dl, &args.offset);
	if (ret)
		return ret;
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
	return mbx_pool_release(port, file, args.offset, args.len);
}

static long mbx_port_ioctl(struct file *file, unsigned int cmd,
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
	}

	switch (cmd) {
	case MBX_IOC_SHUTDOWN:
		return mbx_ioctl_shutdown(mbx_file_port(file));
	case MBX_IOC_BUF_ALLOC:
		return mbx_ioctl_buf_alloc(file, uarg);
	case MBX_IOC_BUF_RELEASE:
		return mbx_ioctl_buf_release(file, uarg);
	case MBX_IOC_PORT_DUP:
		return mbx_ioctl_dup(file, uarg);
	case MBX_IOC_CALL:
		return mbx_ioctl_call(file, uarg);
	case MBX_IOC_SEND_BATCH:
		return mbx_ioctl_batch(file, uarg, true);
	case MBX_IOC_RECV_BATCH:
		return mbx_ioctl_batch(file, uarg, false);
	}
	return -ENOTTY;
}

static __poll_t mbx_port_poll(struct file *file, poll_table *wait)
{
	struct mbx_port *port = mbx_file_port(file);
	u32 access = mbx_file_access(file);
	__poll_t mask = 0;

	poll_wait(file, &port->poll_wq, wait);

	spin_lock(&port->lock);
	if (access & MBX_RECV &&
	    (port->queued || !list_empty(&port->send_waiters)))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (access & MBX_SEND && !port->shutdown) {
		if (port->queued < port->capacity ||
		    !list_empty(&port->recv_waiters))
			mask |= EPOLLOUT | EPOLLWRNORM;
		if (__mbx_no_receivers(port))
			mask |= EPOLLERR;
	}
	if (port->shutdown || (__mbx_no_senders(port) && !port->queued))
		mask |= EPOLLHUP;
	mbx_port_unlock(port);

	return mask;
}

static int mbx_port_release(struct inode *inode, struct file *file)
{
	struct mbx_file *mf = file->private_data;
	struct mbx_port *port = mf->port;

	spin_lock(&port->lock);
	if (mf->access & MBX_SEND)
		port->senders--;
	if (mf->access & MBX_RECV)
		port->receivers--;
	if (port->pool)
		__mbx_pool_release_file(port, file);
	__mbx_port_hangup(port);
	mbx_port_unlock(port);

	mbx_port_put(port);
	kfree(mf);
	return 0;
}

static void mbx_port_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct mbx_port *port = mbx_file_port(file);
	u32 access = mbx_file_access(file);
	bool shutdown;
	u32 queued;

	spin_lock(&port->lock);
	queued = port->queued;
	shutdown = port->shutdown;
	mbx_port_unlock(port);

	seq_printf(m, "mbx-id:\t%llu\n", port->id);
	/* Names may hold any byte but '/': escape what would end a line. */
	seq_puts(m, "mbx-name:\t");
	seq_escape(m, port->name, MBX_NAME_ESCAPE);
	seq_putc(m, '\n');
	seq_printf(m, "mbx-access:\t%s%s\n", access & MBX_SEND ? "send" : "",
		   access == (MBX_SEND | MBX_RECV) ? ",recv" :
		   access == MBX_RECV ? "recv" : "");
	seq_printf(m, "mbx-capacity:\t%u\n", port->capacity);
	seq_printf(m, "mbx-queued:\t%u\n", queued);
	seq_printf(m, "mbx-max-msg-size:\t%u\n", port->max_msg_size);
	seq_printf(m, "mbx-shutdown:\t%d\n", shutdown);
}

static const struct file_operations mbx_port_fops = {
	.owner		= THIS_MODULE,
	.read		= mbx_port_read,
	.write		= mbx_port_write,
	.poll		= mbx_port_poll,
	.mmap		= mbx_pool_mmap,
	.unlocked_ioctl	= mbx_port_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.release	= mbx_port_release,
	.show_fdinfo	= mbx_port_show_fdinfo,
};

/**
 * mbx_port_file() - open a file on a port
 * @port:   the port; on success the file takes over the caller's reference
 * @access: MBX_SEND and/or MBX_RECV
 * @flags:  MBX_NONBLOCK is honoured
 *
 * Context: process context, may sleep.
 * Return: the file, or an ERR_PTR() with the reference still the caller's.
 */
struct file *mbx_port_file(struct mbx_port *port, u32 access, u32 flags)
{
	/* See struct mbx_file for why senders are read-write. */
	int oflags = access & MBX_SEND ? O_RDWR : O_RDONLY;
	struct mbx_file *mf;
	struct file *file;

	if (flags & MBX_NONBLOCK)
		oflags |= O_NONBLOCK;
	mf = kmalloc(sizeof(*mf), GFP_KERNEL_ACCOUNT);
	if (!mf)
		return ERR_PTR(-ENOMEM);
	mf->port = port;
	mf->access = access;

	file = anon_inode_getfile("[mailbox]", &mbx_port_fops, mf, oflags);
	if (IS_ERR(file)) {
		kfree(mf);
		return file;
	}

	spin_lock(&port->lock);
	if (access & MBX_SEND)
		port->senders++;
	if (access & MBX_RECV)
		port->receivers++;
	mbx_port_unlock(port);
	return file;
}

/**
 * mbx_port_install() - give a port a new file and fd
 * @port:   the port; on success the file holds the caller's reference
 * @access: MBX_SEND and/or MBX_RECV
 * @flags:  MBX_CLOEXEC, MBX_NONBLOCK
 * @link:   also link the port's name (a new named port)
 *
 * Context: process context, may sleep.
 * Return: the fd, or -errno with the reference still the caller's.
 */
int mbx_port_install(struct mbx_port *port, u32 access, u32 flags, bool link)
{
	struct file *file;
	int fd, ret;

	fd = get_unused_fd_flags(flags & MBX_CLOEXEC ? O_CLOEXEC : 0);
	if (fd < 0)
		return fd;

	file = mbx_port_file(port, access, flags);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto err_fd;
	}
	if (link) {
		ret = mbx_name_link(port);
		if (ret)
			goto err_file;
	}
	fd_install(fd, file);
	return fd;

err_file:
	/* The file's release drops the reference: take one for our caller. */
	kref_get(&port->ref);
	fput(file);
err_fd:
	put_unused_fd(fd);
	return ret;
}

/**
 * mbx_ports_show() - the debugfs view: one line per live port
 * @m: the seq_file
 *
 * Context: process context, may sleep.
 */
void mbx_ports_show(struct seq_file *m)
{
	struct mbx_port_info info;
	struct mbx_port *port;

	seq_puts(m, "id name uid gid mode capacity max_msg_size queued senders receivers send_waiting recv_waiting sent received bytes_sent bytes_received send_waits recv_waits pool_size pool_free state\n");
	mutex_lock(&mbx_ports_lock);
	list_for_each_entry(port, &mbx_ports, all_node) {
		mbx_port_info(port, &info);
		seq_printf(m, "%llu ", info.id);
		if (info.name[0])
			seq_escape(m, info.name, MBX_NAME_ESCAPE);
		else
			seq_putc(m, '-');
		seq_printf(m, " %u %u %04o %u %u %u %u %u %u %u %llu %llu %llu %llu %llu %llu %llu %llu %s%s\n",
			   info.uid, info.gid, info.mode, info.capacity,
			   info.max_msg_size, info.queued, info.senders,
			   info.receivers, info.send_waiting,
			   info.recv_waiting, info.sent, info.received,
			   info.bytes_sent, info.bytes_received,
			   info.send_waits, info.recv_waits, info.pool_size,
			   info.pool_free,
			   info.state & MBX_STATE_NAMED ? "named" : "anon",
			   info.state & MBX_STATE_SHUTDOWN ? ",shutdown" : "");
	}
	mutex_unlock(&mbx_ports_lock);
}
