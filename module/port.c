// SPDX-License-Identifier: GPL-2.0
/*
 * mailbox: a port, its lifetime and its files.
 *
 * A port is made by mbx_port_alloc() with one reference, gets files (one
 * reference each) through mbx_port_install(), and a name (one reference)
 * through names.c.  Its files count senders and receivers for end of
 * stream; their operations (read, write, poll, mmap, release, fdinfo) are
 * here, their ioctls in ioctl.c.
 *
 * LOCKING: port->lock (spinlock) protects the queue, both waiter lists, the
 * file counts, the shutdown and linked flags and the counters.  It is
 * always dropped with mbx_port_unlock() (or in __mbx_wait()), which wakes
 * the first task the section completed and the pollers once the lock is
 * free (wait.c).
 * mbx_ports_lock (mutex) protects the list of every port, for debugfs.
 * Order: mbx_ports_lock, then port->lock.  mbx_names_lock (names.c),
 * port->poll_wq.lock and a ring's wait queue lock (ring.c) are taken
 * alone, the last two after port->lock is dropped.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/atomic.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "mbx.h"
#include "trace.h"

static atomic64_t mbx_port_ids = ATOMIC64_INIT(0);

/*
 * A name may hold any byte but '/': fdinfo and debugfs show every byte that
 * is not printable ASCII, and these that would split their lines, as \ooo.
 */
#define MBX_NAME_ESCAPE	" \t\n\\"

static void mbx_seq_name(struct seq_file *m, const char *name)
{
	seq_escape_str(m, name, ESCAPE_OCTAL | ESCAPE_NAP | ESCAPE_APPEND,
		       MBX_NAME_ESCAPE);
}

/* Protects mbx_ports and every port's all_node; see LOCKING above. */
static DEFINE_MUTEX(mbx_ports_lock);
static LIST_HEAD(mbx_ports);

/*
 * Check creation arguments against the module limits.
 * Return: 0 with *@max_msg_size set (the default for 0), or -EINVAL.
 */
static int mbx_port_limits(const struct mbx_port_create *args,
			   u32 *max_msg_size)
{
	u32 limit = min(READ_ONCE(mbx_max_msg_size), MBX_MSG_SIZE_CEILING);
	u64 pool_limit = min_t(u64, READ_ONCE(mbx_max_pool_size),
			       MBX_POOL_SIZE_CEILING);

	/* A ring's largest record: the ring less one header. */
	if (args->flags & MBX_PORT_RING) {
		*max_msg_size = min_t(u64, args->ring_size - MBX_RING_ALIGN,
				      U32_MAX);
		return 0;
	}
	*max_msg_size = args->max_msg_size ?:
			min(READ_ONCE(mbx_default_msg_size), limit);
	/* pool_size is bounded before it is rounded, so it cannot wrap. */
	if (*max_msg_size > limit ||
	    args->capacity > READ_ONCE(mbx_max_capacity) ||
	    args->pool_size > pool_limit ||
	    PAGE_ALIGN(args->pool_size) > pool_limit)
		return -EINVAL;
	return 0;
}

/* The new port's reference, id, locks, lists and queue, all empty. */
static void mbx_port_init(struct mbx_port *port)
{
	kref_init(&port->ref);
	port->id = atomic64_inc_return(&mbx_port_ids);
	spin_lock_init(&port->lock);
	spin_lock_init(&port->spares_lock);
	INIT_LIST_HEAD(&port->send_waiters);
	INIT_LIST_HEAD(&port->recv_waiters);
	INIT_LIST_HEAD(&port->subs);
	INIT_LIST_HEAD(&port->dead);
	init_waitqueue_head(&port->poll_wq);
}

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
	struct mbx_port *port;
	LIST_HEAD(none);
	u32 max_msg_size;
	int ret;

	ret = mbx_port_limits(args, &max_msg_size);
	if (ret)
		return ERR_PTR(ret);
	port = kzalloc(sizeof(*port), GFP_KERNEL_ACCOUNT);
	if (!port)
		return ERR_PTR(-ENOMEM);

	port->capacity = args->capacity;
	port->max_msg_size = max_msg_size;
	port->pool_size = PAGE_ALIGN(args->pool_size);
	port->mode = args->mode;
	port->mq = args->flags & MBX_PORT_MQ;
	port->topic = args->flags & MBX_PORT_TOPIC;
	port->max_prio = port->mq ? MBX_MQ_PRIO_MAX : MBX_PRIO_MAX;
	port->uid = current_fsuid();
	port->gid = current_fsgid();
	strscpy(port->name, args->name, sizeof(port->name));
	ret = mbx_queue_init(port);
	if (ret)
		goto err_port;

	/*
	 * A full queue of largest messages, as they are allocated (a
	 * rendezvous port holds one), and what keeps them in order.
	 */
	port->charge = (u64)max(port->capacity, 1U) *
		       mbx_msg_charge(max_msg_size) + port->pool_size +
		       mbx_queue_charge(port);
	if (args->flags & MBX_PORT_RING)
		port->charge = mbx_ring_charge(args->ring_size);
	ret = mbx_user_charge(port->uid, port->charge, port->users);
	if (ret)
		goto err_queue;

	if (port->pool_size) {
		port->pool = mbx_pool_create(port->pool_size);
		if (IS_ERR(port->pool)) {
			ret = PTR_ERR(port->pool);
			goto err_charge;
		}
	}
	if (args->flags & MBX_PORT_RING) {
		port->ring = mbx_ring_create(args->ring_size);
		if (IS_ERR(port->ring)) {
			ret = PTR_ERR(port->ring);
			goto err_charge;
		}
	}

	mbx_port_init(port);
	mutex_lock(&mbx_ports_lock);
	list_add_tail(&port->all_node, &mbx_ports);
	mutex_unlock(&mbx_ports_lock);
	return port;

err_charge:
	mbx_user_uncharge(port->users, port->charge);
err_queue:
	mbx_queue_purge(port, &none);
err_port:
	kfree(port);
	return ERR_PTR(ret);
}

static void mbx_port_free(struct kref *ref)
{
	struct mbx_port *port = container_of(ref, struct mbx_port, ref);
	struct mbx_msg *msg, *tmp;
	LIST_HEAD(msgs);

	mutex_lock(&mbx_ports_lock);
	list_del(&port->all_node);
	mutex_unlock(&mbx_ports_lock);

	/* Pool regions of queued messages go with the pool. */
	if (port->queued)
		trace_mbx_drop(port->id, port->queued, port->stats.bytes_sent -
			       port->stats.bytes_received);
	mbx_queue_purge(port, &msgs);
	list_for_each_entry_safe(msg, tmp, &msgs, node)
		mbx_msg_free(msg);
	mbx_msg_spares_free(port);
	if (port->pool)
		mbx_pool_destroy(port->pool);
	if (port->ring)
		mbx_ring_destroy(port->ring);
	mbx_user_uncharge(port->users, port->charge);
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

/**
 * mbx_port_unname() - tell a port that its name is gone
 * @port: the port, with the reference its name held (mbx_name_unlink(),
 *        mbx_name_pop()), which this drops
 *
 * A port nobody can open by name any more reaches end of stream once its
 * last sender closes, or at once if it has none.
 *
 * Context: process context, may sleep.
 */
void mbx_port_unname(struct mbx_port *port)
{
	spin_lock(&port->lock);
	port->linked = false;
	__mbx_port_hangup(port);
	if (port->ring)
		__mbx_ring_hangup(port);
	mbx_port_unlock(port);
	if (port->ring)
		mbx_ring_hangup_wake(port);
	mbx_port_put(port);
}

/**
 * mbx_port_shutdown() - MBX_IOC_SHUTDOWN: wake every waiter; later sends
 * fail with EPIPE, receivers drain the queue and then see end of stream
 * @port: the port
 *
 * Context: process context.
 */
void mbx_port_shutdown(struct mbx_port *port)
{
	spin_lock(&port->lock);
	if (!port->shutdown) {
		port->shutdown = true;
		/*
		 * Receivers wait only on an empty queue: this is their end,
		 * unless a message taken may come back (__mbx_eof()).
		 */
		if (__mbx_eof(port))
			__mbx_complete_all(port, &port->recv_waiters, -EPIPE);
		__mbx_complete_all(port, &port->send_waiters, -EPIPE);
		if (port->pool)
			__mbx_pool_hangup(port);
		if (port->ring)
			__mbx_ring_shutdown(port);
		__mbx_poll_wake(port, EPOLLHUP);
	}
	mbx_port_unlock(port);
	if (port->ring)
		mbx_ring_hangup_wake(port);
}

static ssize_t mbx_port_read(struct file *file, char __user *buf, size_t len,
			     loff_t *ppos)
{
	struct mbx_port *port = mbx_file_port(file);
	struct mbx_msg *msg;
	int ret;

	if (!(mbx_file_access(file) & MBX_RECV))
		return -EBADF;
	/* A ring is read through its mapping (ring.c), not by copy. */
	if (port->ring)
		return -EOPNOTSUPP;
	if (port->topic)
		return mbx_topic_read(file, buf, len);

	if (!(file->f_flags & O_NONBLOCK))
		mbx_recv_spin(port, NULL, READ_ONCE(mbx_recv_spin_ns));
	ret = mbx_recv_msg(port, &len, false, file->f_flags & O_NONBLOCK, NULL,
			   &msg);
	/*
	 * End of stream reads as 0, as on a pipe; but an mq port has none,
	 * and there 0 is an empty message: after a shutdown, EPIPE.
	 */
	if (ret)
		return ret == -EPIPE && !port->mq ? 0 : ret;

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
	if (mbx_file_port(file)->ring)
		return -EOPNOTSUPP;
	ret = mbx_send_args(file, &args, file->f_flags & O_NONBLOCK, NULL);
	return ret ?: len;
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
		      (port->shutdown ? MBX_STATE_SHUTDOWN : 0) |
		      (port->mq ? MBX_STATE_MQ : 0) |
		      (port->topic ? MBX_STATE_TOPIC : 0) |
		      (port->ring ? MBX_STATE_RING : 0);
	info->subscribers = port->nr_subs;
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

/**
 * mbx_port_info_hide() - keep what a port is, not what it carries
 * @info: as mbx_port_info() filled it
 *
 * For a MBX_IOC_PORT_LIST caller who may not open the port: its id, name,
 * owner, mode, sizes and state stay, with MBX_STATE_HIDDEN; its counters
 * (how many messages, how long, when) are zero, as a POSIX queue's QSIZE
 * needs read permission.
 */
void mbx_port_info_hide(struct mbx_port_info *info)
{
	struct mbx_port_info keep = {
		.id = info->id,
		.capacity = info->capacity,
		.max_msg_size = info->max_msg_size,
		.pool_size = info->pool_size,
		.mode = info->mode,
		.uid = info->uid,
		.gid = info->gid,
		.state = info->state | MBX_STATE_HIDDEN,
	};

	memcpy(keep.name, info->name, sizeof(keep.name));
	*info = keep;
}

static __poll_t mbx_port_poll(struct file *file, poll_table *wait)
{
	struct mbx_port *port = mbx_file_port(file);
	u32 access = mbx_file_access(file);
	__poll_t mask = 0;

	poll_wait(file, &port->poll_wq, wait);
	if (port->topic)
		return mbx_topic_poll(file);
	if (port->ring)
		return mbx_ring_poll(file);

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
	/*
	 * Shutdown, or end of stream; with the queue empty, not while a
	 * receive has a message in flight that may come back (__mbx_eof()).
	 */
	if ((port->shutdown && port->queued) ||
	    ((port->shutdown || __mbx_no_senders(port)) && !port->queued &&
	     !atomic_read(&port->inflight)))
		mask |= EPOLLHUP;
	mbx_port_unlock(port);

	return mask;
}

static int mbx_port_release(struct inode *inode, struct file *file)
{
	struct mbx_file *mf = file->private_data;
	struct mbx_port *port = mf->port;

	if (mf->sub)
		mbx_topic_sub_free(port, mf->sub);
	spin_lock(&port->lock);
	/*
	 * The lock is dropped now and then if the file holds many regions;
	 * it still counts meanwhile, so that a wait let run then finds the
	 * port as it was, not half closed.
	 */
	if (port->pool)
		__mbx_pool_release_file(port, file);
	if (mf->access & MBX_SEND)
		port->senders--;
	if (mf->access & MBX_RECV)
		port->receivers--;
	/* Nobody is left to be notified of anything. */
	if (unlikely(port->notify) && !port->senders && !port->receivers)
		__mbx_notify_drop(port);
	__mbx_port_hangup(port);
	if (port->ring)
		__mbx_ring_release_file(port, file);
	mbx_port_unlock(port);
	if (port->ring)
		mbx_ring_hangup_wake(port);

	mbx_port_put(port);
	kfree(mf);
	return 0;
}

/* Like mqueue_flush_file(): a process closing an fd gives up its notification. */
static int mbx_port_flush(struct file *file, fl_owner_t id)
{
	struct mbx_port *port = mbx_file_port(file);

	if (port->mq)
		mbx_notify_flush(port);
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
	seq_puts(m, "mbx-name:\t");
	mbx_seq_name(m, port->name);
	seq_putc(m, '\n');
	seq_printf(m, "mbx-access:\t%s%s\n", access & MBX_SEND ? "send" : "",
		   access == (MBX_SEND | MBX_RECV) ? ",recv" :
		   access == MBX_RECV ? "recv" : "");
	seq_printf(m, "mbx-capacity:\t%u\n", port->capacity);
	seq_printf(m, "mbx-queued:\t%u\n", queued);
	seq_printf(m, "mbx-max-msg-size:\t%u\n", port->max_msg_size);
	seq_printf(m, "mbx-shutdown:\t%d\n", shutdown);
	if (port->topic)
		mbx_topic_show_fdinfo(m, file);
	if (port->ring)
		mbx_ring_show_fdinfo(m, file);
}

static int mbx_map_file_release(struct inode *inode, struct file *file)
{
	mbx_pool_map_file_release(file);
	mbx_port_put(file->private_data);
	return 0;
}

/* The file behind a pool mapping: it holds the port, nothing else. */
static const struct file_operations mbx_map_fops = {
	.owner		= THIS_MODULE,
	.release	= mbx_map_file_release,
};

/*
 * Map the port's whole pool, shared, at offset 0 (mbx_pool_mmap()).  A
 * forked child shares the mapping, like any MAP_SHARED mapping.
 *
 * The mapping refers to a file of its own, which holds the port, and not
 * to the port file: regions belong to port files, and closing the last fd
 * of one must free what it holds and end its part in end of stream even
 * while the pool stays mapped.  That file is on an inode of its own, so
 * that sealing can reach the mappings that wrote to a page and leave the
 * others be (seal.c).
 */
static int mbx_port_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct mbx_port *port = mbx_file_port(file);
	struct file *map_file;
	bool writable;
	int ret;

	/* A ring's mappings keep the port file, and with it its role. */
	if (port->ring)
		return mbx_ring_mmap(file, vma);
	if (!port->pool)
		return -ENODEV;
	writable = mbx_file_access(file) & MBX_SEND;
	ret = mbx_pool_mmap_check(port->pool, vma, writable);
	if (ret)
		return ret;
	kref_get(&port->ref);
	map_file = mbx_pool_map_file(port->pool, &mbx_map_fops, port,
				     writable);
	if (IS_ERR(map_file)) {
		mbx_port_put(port);
		return PTR_ERR(map_file);
	}
	ret = mbx_pool_mmap(port->pool, vma, map_file);
	if (!ret)
		vma_set_file(vma, map_file);
	/* On failure its release puts the port. */
	fput(map_file);
	return ret;
}

static const struct file_operations mbx_port_fops = {
	.owner		= THIS_MODULE,
	.read		= mbx_port_read,
	.write		= mbx_port_write,
	.poll		= mbx_port_poll,
	.mmap		= mbx_port_mmap,
	.unlocked_ioctl	= mbx_port_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.flush		= mbx_port_flush,
	.release	= mbx_port_release,
	.show_fdinfo	= mbx_port_show_fdinfo,
};

/**
 * mbx_is_port_file() - whether @file is a port file
 * @file: any file
 *
 * Context: any.
 * Return: true for a file made by mbx_port_file().
 */
bool mbx_is_port_file(const struct file *file)
{
	return file->f_op == &mbx_port_fops;
}

/*
 * Count a new file among the port's senders and receivers.  One opened by
 * name (@by_name) whose name an unlink has removed since the lookup is
 * not counted: the unlink may already have told receivers end of stream,
 * or senders that nobody can receive, so the open loses to it.
 */
static bool mbx_port_count_file(struct mbx_port *port, struct mbx_file *mf,
				bool by_name, bool subscribe)
{
	spin_lock(&port->lock);
	if (by_name && !port->linked) {
		mbx_port_unlock(port);
		return false;
	}
	if (mf->sub && subscribe)
		__mbx_topic_sub_start(port, mf->sub);
	if (mf->access & MBX_SEND)
		port->senders++;
	if (mf->access & MBX_RECV)
		port->receivers++;
	mbx_port_unlock(port);
	return true;
}

/**
 * mbx_port_file() - open a file on a port
 * @port:   the port; on success the file takes over the caller's reference
 * @access: MBX_SEND and/or MBX_RECV
 * @flags:  MBX_NONBLOCK is honoured
 * @by_name: the port was looked up by name: fail if it is unlinked now
 * @subscribe: on a topic, with MBX_RECV: subscribe the file at once
 *
 * Context: process context, may sleep.
 * Return: the file, or an ERR_PTR() (-ENOMEM, -ENOENT) with the reference
 * still the caller's.
 */
static struct file *mbx_port_file(struct mbx_port *port, u32 access,
				  u32 flags, bool by_name, bool subscribe)
{
	/*
	 * See struct mbx_file for why senders are read-write.  Every file of
	 * a ring port is: its consumer writes the consumer page, and
	 * mbx_ring_mmap() decides what each file may map writable.
	 */
	int oflags = access & MBX_SEND || port->ring ? O_RDWR : O_RDONLY;
	struct mbx_file *mf;
	struct file *file;

	if (flags & MBX_NONBLOCK)
		oflags |= O_NONBLOCK;
	mf = kmalloc(sizeof(*mf), GFP_KERNEL_ACCOUNT);
	if (!mf)
		return ERR_PTR(-ENOMEM);
	mf->port = port;
	mf->access = access;
	mf->sub = NULL;
	INIT_LIST_HEAD(&mf->held);
	if (port->topic && access & MBX_RECV) {
		mf->sub = mbx_topic_sub_alloc();
		if (!mf->sub) {
			kfree(mf);
			return ERR_PTR(-ENOMEM);
		}
	}

	file = anon_inode_getfile("[mailbox]", &mbx_port_fops, mf, oflags);
	if (IS_ERR(file)) {
		kfree(mf->sub);
		kfree(mf);
		return file;
	}

	if (!mbx_port_count_file(port, mf, by_name, subscribe)) {
		/* Its release must neither uncount it nor drop our reference. */
		mf->access = 0;
		kref_get(&port->ref);
		fput(file);
		return ERR_PTR(-ENOENT);
	}
	return file;
}

static void mbx_port_set_linked(struct mbx_port *port, bool linked)
{
	spin_lock(&port->lock);
	port->linked = linked;
	mbx_port_unlock(port);
}

/**
 * mbx_port_install() - give a port a new file and fd
 * @port:   the port; on success the file holds the caller's reference
 * @access: MBX_SEND and/or MBX_RECV
 * @flags:  MBX_CLOEXEC, MBX_NONBLOCK
 * @origin: how the caller came by @port: MBX_ORIGIN_NEW_NAME also links
 *          its name; MBX_ORIGIN_NAME fails with -ENOENT once it is unlinked
 * @subscribe: on a topic, with MBX_RECV: subscribe the new file at once
 *
 * Context: process context, may sleep.
 * Return: the fd, or -errno with the reference still the caller's.
 */
int mbx_port_install(struct mbx_port *port, u32 access, u32 flags,
		     enum mbx_origin origin, bool subscribe)
{
	struct file *file;
	int fd, ret;

	fd = get_unused_fd_flags(flags & MBX_CLOEXEC ? O_CLOEXEC : 0);
	if (fd < 0)
		return fd;

	file = mbx_port_file(port, access, flags, origin == MBX_ORIGIN_NAME,
			     subscribe);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto err_fd;
	}
	if (origin == MBX_ORIGIN_NEW_NAME) {
		/*
		 * Marked before the name is published: an unlink may come the
		 * moment it is, and must find the mark to clear.
		 */
		mbx_port_set_linked(port, true);
		ret = mbx_name_link(port);
		if (ret) {
			mbx_port_set_linked(port, false);
			goto err_file;
		}
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

	seq_puts(m, "id name uid gid mode capacity max_msg_size queued senders receivers send_waiting recv_waiting sent received bytes_sent bytes_received send_waits recv_waits pool_size pool_free state subscribers\n");
	mutex_lock(&mbx_ports_lock);
	list_for_each_entry(port, &mbx_ports, all_node) {
		mbx_port_info(port, &info);
		seq_printf(m, "%llu ", info.id);
		if (info.name[0])
			mbx_seq_name(m, info.name);
		else
			seq_putc(m, '-');
		seq_printf(m, " %u %u %04o %u %u %u %u %u %u %u %llu %llu %llu %llu %llu %llu %llu %llu %s%s%s %u\n",
			   info.uid, info.gid, info.mode, info.capacity,
			   info.max_msg_size, info.queued, info.senders,
			   info.receivers, info.send_waiting,
			   info.recv_waiting, info.sent, info.received,
			   info.bytes_sent, info.bytes_received,
			   info.send_waits, info.recv_waits, info.pool_size,
			   info.pool_free,
			   info.state & MBX_STATE_NAMED ? "named" : "anon",
			   info.state & MBX_STATE_SHUTDOWN ? ",shutdown" : "",
			   info.state & MBX_STATE_TOPIC ? ",topic" :
			   info.state & MBX_STATE_RING ? ",ring" : "",
			   info.subscribers);
		if (port->ring)
			mbx_ring_show(m, port);
		if (port->topic) {
			spin_lock(&port->lock);
			__mbx_topic_show_subs(m, port);
			mbx_port_unlock(port);
		}
	}
	mutex_unlock(&mbx_ports_lock);
}
