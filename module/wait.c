// SPDX-License-Identifier: GPL-2.0
/*
 * mailbox: the waiters of a port, and how they are woken.
 *
 * A caller that must block puts a struct mbx_waiter on its stack on one of
 * the port's waiter lists (the queue's senders or receivers, the pool's
 * allocations) and sleeps in __mbx_wait() until a peer completes it with a
 * result, a deadline passes or a signal comes.  A peer completes a waiter
 * under port->lock; the first task a section completes is woken, with the
 * pollers, only once mbx_port_unlock() has dropped the lock, as ipc/mqueue.c
 * does with a wake_q: a task woken while the lock is held would at once
 * spin on it.  Further tasks completed in the same section are woken at
 * once.  Messages a section put on port->dead (topic.c) are freed then
 * too: a large one's memory may not be freed under a spinlock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hrtimer.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>

#include "mbx.h"
#include "trace.h"

/**
 * __mbx_poll_wake() - wake pollers for @events once port->lock is dropped
 * @port:   the port
 * @events: EPOLL* bits
 *
 * Context: port->lock held.
 */
void __mbx_poll_wake(struct mbx_port *port, __poll_t events)
{
	lockdep_assert_held(&port->lock);
	port->poll_events |= events;
}

/*
 * Take the wake-ups decided under port->lock, and the messages to free;
 * mbx_wake() and mbx_free_dead() deal with them once it is dropped.
 */
static struct task_struct *__mbx_take_wakes(struct mbx_port *port,
					    __poll_t *events,
					    struct list_head *dead)
{
	struct task_struct *task = port->wake;

	lockdep_assert_held(&port->lock);
	*events = port->poll_events;
	port->wake = NULL;
	port->poll_events = 0;
	if (unlikely(!list_empty(&port->dead)))
		list_splice_init(&port->dead, dead);
	return task;
}

static void mbx_free_dead(struct list_head *dead)
{
	struct mbx_msg *msg, *tmp;

	list_for_each_entry_safe(msg, tmp, dead, node)
		mbx_msg_free(msg);
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
	LIST_HEAD(dead);

	task = __mbx_take_wakes(port, &events, &dead);
	spin_unlock(&port->lock);
	mbx_wake(port, task, events);
	if (task)
		put_task_struct(task);
	if (unlikely(!list_empty(&dead)))
		mbx_free_dead(&dead);
}

/**
 * __mbx_complete() - finish @w's call with @result and wake it
 * @port:   the port
 * @w:      a waiter on one of its lists, taken off it
 * @result: 0 or -errno, what __mbx_wait() returns to @w's caller
 *
 * The task is woken once port->lock is dropped, or now if another wake-up
 * is already waiting for that (the tracepoint fires here, when the decision
 * is made).  The reference keeps the task for the late wake-up even if a
 * signal or a timeout wakes it first and its call returns; a spurious
 * wake-up is harmless.
 *
 * Context: port->lock held.
 */
void __mbx_complete(struct mbx_port *port, struct mbx_waiter *w,
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
		LIST_HEAD(dead);

		task = __mbx_take_wakes(port, &events, &dead);
		set_current_state(TASK_INTERRUPTIBLE);
		spin_unlock(&port->lock);
		mbx_wake(port, task, events);
		mbx_schedule_until(deadline);
		/* Not before: the last put may not run in a sleeping state. */
		if (task)
			put_task_struct(task);
		mbx_free_dead(&dead);
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
 * mbx_schedule_until() - sleep, in the state the caller set, until woken
 * or until a deadline
 * @deadline: absolute CLOCK_MONOTONIC deadline, or NULL for none
 *
 * Context: process context, in a sleeping task state.
 */
void mbx_schedule_until(ktime_t *deadline)
{
	if (deadline)
		schedule_hrtimeout_range_clock(deadline,
					       current->timer_slack_ns,
					       HRTIMER_MODE_ABS,
					       CLOCK_MONOTONIC);
	else
		schedule();
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
