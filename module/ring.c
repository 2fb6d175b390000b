// SPDX-License-Identifier: GPL-2.0
/*
 * mailbox: the ring of a ring port (MBX_PORT_RING).
 *
 * A ring is kernel memory that its producer and its consumer map and use
 * without system calls: a producer page (its position and flags), a
 * consumer page (the same for the consumer), a status page only the
 * kernel writes, and ring_size bytes of records, mapped twice back to back
 * so that a record that wraps is contiguous (as kernel/bpf/ringbuf.c
 * does).  The kernel sets the memory up (charged to the creator's memory
 * cgroup and per-user bytes), hands out the two roles, lets each role's
 * file map its own page writable and everything else read-only for good,
 * sleeps and wakes the sides, and keeps the status word (attached roles,
 * a side gone, shutdown).
 *
 * The mappings, their protections and their fault handlers are in
 * ring_map.c.
 *
 * Everything user space can write is hostile.  The kernel never follows
 * a position: it reads the positions with READ_ONCE() through its own
 * mapping of the pages and only compares them, to decide whether a
 * sleeper may sleep.  It never reads the records.
 *
 * Sleeping: a side that wants to sleep calls MBX_IOC_RING_ENTER with
 * MBX_RING_ENTER_WAIT; it is queued on the ring's wait queue, its
 * MBX_RING_NEED_WAKEUP is set (again), and only after a full barrier are
 * the positions checked: a peer that publishes and then reads the flag
 * (with a full barrier between) either is seen here or sees the flag and
 * wakes the queue (MBX_RING_ENTER_WAKE).  poll() sets the flag the same
 * way.
 *
 * LOCKING: the roles (ring->producer, ring->consumer) and the status word
 * change under port->lock; the ring's wait queue has its own lock, taken
 * after port->lock is dropped.  The hot paths (enter, poll) take no lock
 * of the port.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/hrtimer.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "mbx.h"
#include "ring.h"
#include "trace.h"

/* Where each word lives in its page (reported by MBX_IOC_RING_INFO). */
#define MBX_RING_POS_OFF	0	/* __u64 position */
#define MBX_RING_FLAGS_OFF	64	/* __u32 flags, a cache line further */
#define MBX_RING_STATUS_OFF	0	/* __u32 status */

#define MBX_RING_ROLES	(MBX_RING_ROLE_PRODUCER | MBX_RING_ROLE_CONSUMER)

/**
 * mbx_ring_size_ok() - whether a ring size may be created
 * @size: mbx_port_create.ring_size
 *
 * Context: any.
 * Return: true for a power of two from a page to the max_pool_size
 * module parameter (at most MBX_POOL_SIZE_CEILING).
 */
bool mbx_ring_size_ok(u64 size)
{
	u64 limit = min_t(u64, READ_ONCE(mbx_max_pool_size),
			  MBX_POOL_SIZE_CEILING);

	return size >= PAGE_SIZE && size <= limit && is_power_of_2(size);
}

/**
 * mbx_ring_charge() - the bytes a ring of @size is charged for
 * @size: a size mbx_ring_size_ok() took
 *
 * Context: any.
 * Return: the records and the three pages.
 */
u64 mbx_ring_charge(u64 size)
{
	return size + 3 * PAGE_SIZE;
}

static struct page *mbx_ring_page(void)
{
	return alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
}

static void mbx_ring_free_pages(struct mbx_ring *ring)
{
	unsigned long i;

	for (i = 0; i < ring->nr_pages && ring->pages[i]; i++)
		__free_page(ring->pages[i]);
	kvfree(ring->pages);
	if (ring->prod_page)
		__free_page(ring->prod_page);
	if (ring->cons_page)
		__free_page(ring->cons_page);
	if (ring->stat_page)
		__free_page(ring->stat_page);
}

/**
 * mbx_ring_create() - make a ring of @size bytes of records
 * @size: a size mbx_ring_size_ok() took
 *
 * Context: process context, may sleep.
 * Return: the ring, or ERR_PTR(-ENOMEM, or -EINTR if the caller is killed
 * while a large ring is being allocated).
 */
struct mbx_ring *mbx_ring_create(u64 size)
{
	struct mbx_ring *ring;
	unsigned long i;
	int ret = -ENOMEM;

	ring = kzalloc(sizeof(*ring), GFP_KERNEL_ACCOUNT);
	if (!ring)
		return ERR_PTR(-ENOMEM);
	ring->size = size;
	ring->nr_pages = size >> PAGE_SHIFT;
	init_waitqueue_head(&ring->wq);

	ring->pages = kvcalloc(2 * ring->nr_pages, sizeof(*ring->pages),
			       GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!ring->pages)
		goto err_ring;
	for (i = 0; i < ring->nr_pages; i++) {
		ring->pages[i] = mbx_ring_page();
		if (!ring->pages[i])
			goto err_pages;
		ring->pages[ring->nr_pages + i] = ring->pages[i];
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			goto err_pages;
		}
		cond_resched();
	}
	ring->prod_page = mbx_ring_page();
	ring->cons_page = mbx_ring_page();
	ring->stat_page = mbx_ring_page();
	if (!ring->prod_page || !ring->cons_page || !ring->stat_page)
		goto err_pages;

	/* GFP_KERNEL pages are never highmem: page_address() is theirs. */
	ring->prod_pos = page_address(ring->prod_page) + MBX_RING_POS_OFF;
	ring->prod_flags = page_address(ring->prod_page) + MBX_RING_FLAGS_OFF;
	ring->cons_pos = page_address(ring->cons_page) + MBX_RING_POS_OFF;
	ring->cons_flags = page_address(ring->cons_page) + MBX_RING_FLAGS_OFF;
	ring->status = page_address(ring->stat_page) + MBX_RING_STATUS_OFF;
	return ring;

err_pages:
	mbx_ring_free_pages(ring);
err_ring:
	kfree(ring);
	return ERR_PTR(ret);
}

/**
 * mbx_ring_destroy() - free a ring
 * @ring: it; no mapping of it is left (each holds a port file)
 *
 * Context: process context.
 */
void mbx_ring_destroy(struct mbx_ring *ring)
{
	mbx_ring_free_pages(ring);
	kfree(ring);
}

/* Change the status word: only under port->lock, seen by lockless readers. */
static void __mbx_ring_status(struct mbx_port *port, u32 set, u32 clear)
{
	struct mbx_ring *ring = port->ring;

	lockdep_assert_held(&port->lock);
	/* Release: what a side published before it went is seen first. */
	smp_store_release(ring->status, (*ring->status & ~clear) | set);
}

/* Wake every side sleeping in the ring, and the pollers. */
static void mbx_ring_wake_all(struct mbx_port *port, __poll_t events)
{
	if (wq_has_sleeper(&port->ring->wq))
		wake_up_all(&port->ring->wq);
	if (wq_has_sleeper(&port->poll_wq))
		wake_up_interruptible_poll(&port->poll_wq, events);
}

/**
 * __mbx_ring_hangup() - mark a side gone once no fd may take its role
 * @port: a ring port whose file counts or name just changed
 *
 * Context: port->lock held; the caller calls mbx_ring_hangup_wake()
 * after dropping it.
 */
void __mbx_ring_hangup(struct mbx_port *port)
{
	struct mbx_ring *ring = port->ring;
	u32 set = 0;

	if (!ring->producer && __mbx_no_senders(port))
		set |= MBX_RING_ST_PRODUCER_GONE;
	if (!ring->consumer && __mbx_no_receivers(port))
		set |= MBX_RING_ST_CONSUMER_GONE;
	if (set & ~*ring->status)
		__mbx_ring_status(port, set, 0);
}

/**
 * __mbx_ring_release_file() - a file of a ring port is released
 * @port: the port
 * @file: the file: the roles it holds end, and the other side sees it
 *
 * Context: port->lock held; the caller calls mbx_ring_hangup_wake()
 * after dropping it.
 */
void __mbx_ring_release_file(struct mbx_port *port, struct file *file)
{
	struct mbx_ring *ring = port->ring;

	lockdep_assert_held(&port->lock);
	if (ring->producer == file || ring->consumer == file)
		WRITE_ONCE(ring->ends, ring->ends + 1);
	if (ring->producer == file) {
		WRITE_ONCE(ring->producer, NULL);
		__mbx_ring_status(port, MBX_RING_ST_PRODUCER_GONE,
				  MBX_RING_ST_PRODUCER);
	}
	if (ring->consumer == file) {
		WRITE_ONCE(ring->consumer, NULL);
		__mbx_ring_status(port, MBX_RING_ST_CONSUMER_GONE,
				  MBX_RING_ST_CONSUMER);
	}
	__mbx_ring_hangup(port);
}

/**
 * mbx_ring_hangup_wake() - wake the sides after a status change
 * @port: a ring port
 *
 * Context: process context, port->lock not held.
 */
void mbx_ring_hangup_wake(struct mbx_port *port)
{
	trace_mbx_ring_wake(port->id, 0);
	mbx_ring_wake_all(port, EPOLLHUP | EPOLLIN | EPOLLOUT);
}

/**
 * __mbx_ring_shutdown() - MBX_IOC_SHUTDOWN on a ring port
 * @port: the port
 *
 * The producer's next reserve fails with EPIPE; the consumer reads what
 * was published and then sees end of stream.
 *
 * Context: port->lock held; the caller calls mbx_ring_hangup_wake()
 * after dropping it.
 */
void __mbx_ring_shutdown(struct mbx_port *port)
{
	__mbx_ring_status(port, MBX_RING_ST_SHUTDOWN, 0);
}

static long mbx_ring_attach(struct file *file, struct mbx_ring_attach __user *uarg)
{
	struct mbx_port *port = mbx_file_port(file);
	struct mbx_ring *ring = port->ring;
	struct mbx_ring_attach args;
	struct file **slot;
	u32 need, st, ends;
	int ret = 0;

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	if (args.flags)
		return -EINVAL;
	switch (args.role) {
	case MBX_RING_ROLE_PRODUCER:
		slot = &ring->producer;
		need = MBX_SEND;
		st = MBX_RING_ST_PRODUCER;
		break;
	case MBX_RING_ROLE_CONSUMER:
		slot = &ring->consumer;
		need = MBX_RECV;
		st = MBX_RING_ST_CONSUMER;
		break;
	default:
		return -EINVAL;
	}
	if (!(mbx_file_access(file) & need))
		return -EBADF;
again:
	ends = READ_ONCE(ring->ends);
	if (READ_ONCE(*slot) != file && READ_ONCE(ring->held) & args.role) {
		ret = mbx_ring_unpinned(ring, args.role);
		if (ret)
			return ret;
	}

	spin_lock(&port->lock);
	if (*slot && *slot != file) {
		ret = -EBUSY;
	} else if (!*slot && ring->ends != ends) {
		/* A holder came and went while the pages were looked at. */
		mbx_port_unlock(port);
		goto again;
	} else if (!*slot) {
		WRITE_ONCE(*slot, file);
		WRITE_ONCE(ring->held, ring->held | args.role);
		__mbx_ring_status(port, st, st == MBX_RING_ST_PRODUCER ?
				  MBX_RING_ST_PRODUCER_GONE :
				  MBX_RING_ST_CONSUMER_GONE);
	}
	mbx_port_unlock(port);
	if (!ret)
		mbx_ring_wake_all(port, EPOLLIN | EPOLLOUT);
	return ret;
}

static long mbx_ring_info(struct file *file, unsigned int cmd,
			  void __user *uarg)
{
	struct mbx_ring *ring = mbx_file_port(file)->ring;
	struct mbx_ring_info info;
	int ret;

	ret = mbx_copy_arg(&info, sizeof(info), sizeof(info), cmd, uarg);
	if (ret)
		return ret;
	if (info.flags)
		return -EINVAL;
	memset(&info, 0, sizeof(info));
	info.roles = mbx_ring_roles(ring, file);
	info.ring_size = ring->size;
	info.producer_off = MBX_RING_OFF_PRODUCER;
	info.consumer_off = MBX_RING_OFF_CONSUMER;
	info.status_off = MBX_RING_OFF_STATUS;
	info.data_off = MBX_RING_OFF_DATA;
	info.page_size = PAGE_SIZE;
	info.producer_pos = MBX_RING_POS_OFF;
	info.producer_flags = MBX_RING_FLAGS_OFF;
	info.consumer_pos = MBX_RING_POS_OFF;
	info.consumer_flags = MBX_RING_FLAGS_OFF;
	info.status = MBX_RING_STATUS_OFF;
	info.now_produced = READ_ONCE(*ring->prod_pos);
	info.now_consumed = READ_ONCE(*ring->cons_pos);
	info.now_pflags = READ_ONCE(*ring->prod_flags);
	info.now_cflags = READ_ONCE(*ring->cons_flags);
	info.now_status = READ_ONCE(*ring->status);
	if (copy_to_user(uarg, &info, sizeof(info)) ||
	    clear_user(uarg + sizeof(info), _IOC_SIZE(cmd) - sizeof(info)))
		return -EFAULT;
	return 0;
}

/* Ask the other side to wake @role when it moves: its flag, then a barrier. */
static void mbx_ring_want_wakeup(struct mbx_ring *ring, u32 role, u32 bits)
{
	u32 *flags = role == MBX_RING_ROLE_PRODUCER ? ring->prod_flags :
						      ring->cons_flags;

	/* The page is also the user's: an atomic OR keeps its other bits. */
	atomic_or(bits, (atomic_t *)flags);
	/* Flag, then look: pairs with the peer's publish, barrier, flag read. */
	smp_mb__after_atomic();
}

/*
 * Whether a side waiting at @pos for @want bytes may go on: 1, 0, or
 * -EPIPE.  Positions are only compared; impossible ones end the wait
 * (1), and the library then finds them impossible (EPROTO).
 */
static int mbx_ring_ready(struct mbx_ring *ring, u32 role, u64 pos, u64 want)
{
	u64 peer, used;
	u32 st;

	if (role == MBX_RING_ROLE_CONSUMER) {
		if (READ_ONCE(*ring->prod_pos) != pos)
			return 1;
		/* Pairs with __mbx_ring_status(): the gone side's last records. */
		st = smp_load_acquire(ring->status);
		if (!(st & (MBX_RING_ST_SHUTDOWN | MBX_RING_ST_PRODUCER_GONE)))
			return 0;
		/* What the producer published before it went comes first. */
		return READ_ONCE(*ring->prod_pos) != pos ? 1 : -EPIPE;
	}
	st = READ_ONCE(*ring->status);
	if (st & (MBX_RING_ST_SHUTDOWN | MBX_RING_ST_CONSUMER_GONE))
		return -EPIPE;
	peer = READ_ONCE(*ring->cons_pos);
	used = pos - peer;
	return used > ring->size || ring->size - used >= want;
}

static int mbx_ring_sleep(struct mbx_port *port, u32 role, u64 pos, u64 want,
			  bool nonblock, ktime_t *deadline)
{
	struct mbx_ring *ring = port->ring;
	DEFINE_WAIT(wait);
	int ret;

	for (;;) {
		prepare_to_wait(&ring->wq, &wait, TASK_INTERRUPTIBLE);
		mbx_ring_want_wakeup(ring, role, MBX_RING_NEED_WAKEUP);
		ret = mbx_ring_ready(ring, role, pos, want);
		if (ret)
			break;
		if (nonblock) {
			ret = -EAGAIN;
			break;
		}
		if (signal_pending(current)) {
			/* A timed call cannot restart with the same timeout. */
			ret = deadline ? -EINTR : -ERESTARTSYS;
			break;
		}
		if (mbx_expired(deadline)) {
			trace_mbx_timeout(port->id, role == MBX_RING_ROLE_PRODUCER ?
					  MBX_WAIT_SEND : MBX_WAIT_RECV);
			ret = -ETIMEDOUT;
			break;
		}
		trace_mbx_ring_sleep(port->id, role);
		mbx_schedule_until(deadline);
	}
	finish_wait(&ring->wq, &wait);
	return ret < 0 ? ret : 0;
}

static long mbx_ring_enter(struct file *file, unsigned int cmd,
			   void __user *uarg)
{
	struct mbx_port *port = mbx_file_port(file);
	struct mbx_ring *ring = port->ring;
	struct mbx_ring_enter args;
	ktime_t deadline, *dl;
	int ret;

	ret = mbx_copy_arg(&args, sizeof(args), sizeof(args), cmd, uarg);
	if (ret)
		return ret;
	if (args.flags & ~(MBX_RING_ENTER_WAKE | MBX_RING_ENTER_WAIT |
			   MBX_WAIT_FLAGS) ||
	    !(args.flags & (MBX_RING_ENTER_WAKE | MBX_RING_ENTER_WAIT)) ||
	    (args.role != MBX_RING_ROLE_PRODUCER &&
	     args.role != MBX_RING_ROLE_CONSUMER))
		return -EINVAL;
	if (!(args.flags & MBX_RING_ENTER_WAIT) &&
	    (args.pos || args.want || args.timeout_ns ||
	     args.flags & MBX_WAIT_FLAGS))
		return -EINVAL;
	if (args.want > ring->size ||
	    (args.role == MBX_RING_ROLE_CONSUMER && args.want))
		return -EINVAL;
	if (!(mbx_ring_roles(ring, file) & args.role))
		return -EPERM;
	ret = mbx_deadline(args.flags, args.timeout_ns, &deadline, &dl);
	if (ret)
		return ret;

	if (args.flags & MBX_RING_ENTER_WAKE) {
		trace_mbx_ring_wake(port->id, args.role);
		mbx_ring_wake_all(port, args.role == MBX_RING_ROLE_PRODUCER ?
				  EPOLLIN | EPOLLRDNORM :
				  EPOLLOUT | EPOLLWRNORM);
	}
	if (!(args.flags & MBX_RING_ENTER_WAIT))
		return 0;
	return mbx_ring_sleep(port, args.role, args.pos, args.want,
			      mbx_nonblock(file, args.flags), dl);
}

/**
 * mbx_ring_ioctl() - the MBX_IOC_RING_* ioctls
 * @file: a port file
 * @cmd:  MBX_IOC_RING_INFO, MBX_IOC_RING_ATTACH or MBX_IOC_RING_ENTER
 *        (any size for the size-versioned ones)
 * @uarg: the argument
 *
 * Context: process context.
 * Return: 0 or -errno; -EOPNOTSUPP on a port without a ring.
 */
long mbx_ring_ioctl(struct file *file, unsigned int cmd, void __user *uarg)
{
	if (!mbx_file_port(file)->ring)
		return -EOPNOTSUPP;
	switch (MBX_IOC_NOSIZE(cmd)) {
	case MBX_IOC_NOSIZE(MBX_IOC_RING_INFO):
		return mbx_ring_info(file, cmd, uarg);
	case MBX_IOC_NOSIZE(MBX_IOC_RING_ENTER):
		return mbx_ring_enter(file, cmd, uarg);
	}
	if (cmd == MBX_IOC_RING_ATTACH)
		return mbx_ring_attach(file, uarg);
	return -ENOTTY;
}

/**
 * mbx_ring_poll() - poll() of a ring port file
 * @file: the file
 *
 * A role's file asks the other side for a wake-up (its flag), and marks
 * its side MBX_RING_POLLED so that the library keeps asking after each
 * EAGAIN (an edge-triggered epoll does not call this again), then
 * reports: the consumer EPOLLIN while records are published and not
 * released, the producer EPOLLOUT while there is room; EPOLLHUP when the
 * other side is gone or the port shut down.  A file with no role sees
 * only EPOLLHUP after shutdown.
 *
 * Context: process context; the caller did poll_wait() on port->poll_wq.
 * Return: the events.
 */
__poll_t mbx_ring_poll(struct file *file)
{
	struct mbx_ring *ring = mbx_file_port(file)->ring;
	u32 wake = MBX_RING_NEED_WAKEUP | MBX_RING_POLLED;
	u32 roles = mbx_ring_roles(ring, file);
	__poll_t mask = 0;
	u64 prod, cons;
	u32 st;

	if (roles & MBX_RING_ROLE_CONSUMER)
		mbx_ring_want_wakeup(ring, MBX_RING_ROLE_CONSUMER, wake);
	if (roles & MBX_RING_ROLE_PRODUCER)
		mbx_ring_want_wakeup(ring, MBX_RING_ROLE_PRODUCER, wake);
	/*
	 * Without a role, no flag's barrier: queued by poll_wait(), then
	 * look, against the status change's barrier and wq_has_sleeper().
	 */
	if (!roles)
		smp_mb();	/* pairs with __mbx_ring_status()'s */
	/* Pairs with __mbx_ring_status(), as in mbx_ring_ready(). */
	st = smp_load_acquire(ring->status);
	prod = READ_ONCE(*ring->prod_pos);
	cons = READ_ONCE(*ring->cons_pos);

	if (st & MBX_RING_ST_SHUTDOWN)
		mask |= EPOLLHUP;
	if (roles & MBX_RING_ROLE_CONSUMER) {
		if (prod != cons)
			mask |= EPOLLIN | EPOLLRDNORM;
		if (st & MBX_RING_ST_PRODUCER_GONE)
			mask |= EPOLLHUP;
	}
	if (roles & MBX_RING_ROLE_PRODUCER) {
		if (st & MBX_RING_ST_CONSUMER_GONE)
			mask |= EPOLLHUP | EPOLLERR;
		else if (!(st & MBX_RING_ST_SHUTDOWN) &&
			 prod - cons < ring->size)
			mask |= EPOLLOUT | EPOLLWRNORM;
	}
	return mask;
}

/**
 * mbx_ring_show_fdinfo() - the ring lines of a port file's fdinfo
 * @m:    the seq_file
 * @file: a file of a ring port
 *
 * Context: process context.
 */
void mbx_ring_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct mbx_ring *ring = mbx_file_port(file)->ring;
	u32 roles = mbx_ring_roles(ring, file);

	seq_printf(m, "mbx-ring-size:\t%llu\n", ring->size);
	seq_printf(m, "mbx-ring-role:\t%s%s%s\n",
		   roles & MBX_RING_ROLE_PRODUCER ? "producer" : "",
		   roles == MBX_RING_ROLES ? "," : "",
		   roles & MBX_RING_ROLE_CONSUMER ? "consumer" :
		   roles ? "" : "none");
	seq_printf(m, "mbx-ring-produced:\t%llu\n", READ_ONCE(*ring->prod_pos));
	seq_printf(m, "mbx-ring-consumed:\t%llu\n", READ_ONCE(*ring->cons_pos));
	seq_printf(m, "mbx-ring-producer-flags:\t%#x\n",
		   READ_ONCE(*ring->prod_flags));
	seq_printf(m, "mbx-ring-consumer-flags:\t%#x\n",
		   READ_ONCE(*ring->cons_flags));
	seq_printf(m, "mbx-ring-status:\t%#x\n", READ_ONCE(*ring->status));
}

/**
 * mbx_ring_show() - the ring line of a port in debugfs
 * @m:    the seq_file
 * @port: a ring port
 *
 * Context: process context.
 */
void mbx_ring_show(struct seq_file *m, struct mbx_port *port)
{
	struct mbx_ring *ring = port->ring;

	seq_printf(m, "  ring size=%llu produced=%llu consumed=%llu pflags=%#x cflags=%#x status=%#x\n",
		   ring->size, READ_ONCE(*ring->prod_pos),
		   READ_ONCE(*ring->cons_pos), READ_ONCE(*ring->prod_flags),
		   READ_ONCE(*ring->cons_flags), READ_ONCE(*ring->status));
}
