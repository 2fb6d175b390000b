// SPDX-License-Identifier: GPL-2.0
/*
 * mailbox: batches of sends or receives in one system call
 * (MBX_IOC_SEND_BATCH, MBX_IOC_RECV_BATCH).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>
#include <linux/uaccess.h>

#include "mbx.h"

/*
 * Batches go MBX_BATCH_CHUNK entries at a time: the entries are copied in
 * at once, checked and (send) their messages made before port->lock is
 * taken, and the port is locked once for all of them.  A send chunk makes
 * messages for at most MBX_BATCH_BYTES of payload (and at least one), and
 * a chunk that may wait makes only as many as the queue has room for.
 */
#define MBX_BATCH_CHUNK		32
#define MBX_BATCH_BYTES		(256 * 1024)

/*
 * The kernel's copy of a chunk of entries comes from a cache of its own
 * with a constructor (mbx_noinit_ctor()), so that init_on_alloc does not
 * clear 2.5 KiB per call: that was 8% of a receiver's time in a 64 B
 * batch stream.  Only entries copied in are ever read.
 */
#define MBX_BATCH_ENTS	(MBX_BATCH_CHUNK * \
			 max(sizeof(struct mbx_send), sizeof(struct mbx_recv)))

static struct kmem_cache *mbx_batch_cachep;

/**
 * mbx_batch_cache_init() - create the cache of batch chunks
 *
 * Context: module init.
 * Return: 0 or -ENOMEM.
 */
int mbx_batch_cache_init(void)
{
	mbx_batch_cachep = kmem_cache_create_usercopy("mbx_batch",
						      MBX_BATCH_ENTS, 0, 0, 0,
						      MBX_BATCH_ENTS,
						      mbx_noinit_ctor);
	return mbx_batch_cachep ? 0 : -ENOMEM;
}

/**
 * mbx_batch_cache_exit() - destroy the cache of batch chunks
 *
 * Context: module exit, no batch running.
 */
void mbx_batch_cache_exit(void)
{
	kmem_cache_destroy(mbx_batch_cachep);
}

/* A send entry's own flags may only say MBX_SEND_BUF. */
static int mbx_check_batch_send(struct file *file, const struct mbx_send *args)
{
	if (args->flags & ~MBX_SEND_BUF || args->timeout_ns)
		return -EINVAL;
	return mbx_check_send(file, args, MBX_SEND_SIZE_VER0);
}

/* A receive entry's own flags may only say MBX_RECV_INPLACE. */
static int mbx_check_batch_recv(struct file *file, const struct mbx_recv *args)
{
	if (args->flags & ~MBX_RECV_INPLACE || args->timeout_ns)
		return -EINVAL;
	return mbx_check_recv(file, args, MBX_RECV_SIZE_VER0);
}

/* The user's entry @i of @usize bytes. */
static struct mbx_recv __user *mbx_batch_uent(void __user *uents, size_t usize,
					      u32 i)
{
	return uents + i * usize;
}

/*
 * How many of @n messages a blocking send chunk makes: as many as the
 * queue has room for now, at least one.  Only that first one may wait,
 * so a chunk that finds the queue filled meanwhile holds what it made
 * (at most MBX_BATCH_BYTES) until it can go.
 */
static u32 mbx_batch_room(struct mbx_port *port, u32 n)
{
	u32 queued = READ_ONCE(port->queued);
	u32 room = port->capacity > queued ? port->capacity - queued : 0;

	return clamp(room, 1U, n);
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
		n = mbx_batch_room(port, n);
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
 * The same on a topic, one message at a time (topic_recv.c): the @valid
 * checked entries, as mbx_batch_recv_chunk() would.
 */
static int mbx_batch_recv_topic(struct file *file, struct mbx_recv *ents,
				void __user *uents, size_t usize, u32 valid,
				bool nonblock, ktime_t *deadline, u32 *done)
{
	u32 i;
	int ret = 0;

	for (i = 0; i < valid; i++) {
		ret = mbx_topic_recv(file, &ents[i],
				     mbx_batch_uent(uents, usize, i), nonblock,
				     deadline);
		if (ret)
			break;
		nonblock = true;
		deadline = NULL;
	}
	*done = i;
	return ret;
}

/*
 * Receive into the @n entries at @ents, the kernel's copy of @uents (whose
 * entries are @usize bytes each), as mbx_batch_send_chunk() sends.
 */
static int mbx_batch_recv_chunk(struct file *file, struct mbx_recv *ents,
				void __user *uents, size_t usize, u32 n,
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
	if (port->topic)
		return mbx_batch_recv_topic(file, ents, uents, usize, valid,
					    nonblock, deadline, done) ?: ret;

	if (valid && !nonblock)
		mbx_recv_spin(port, deadline, READ_ONCE(mbx_recv_spin_ns));
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
		int err = mbx_recv_deliver(file, &ents[i],
					   mbx_batch_uent(uents, usize, i),
					   msgs[i], &ids);

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
	} else if (ret == -EMSGSIZE &&
		   put_user(len, &mbx_batch_uent(uents, usize, taken)->len)) {
		ret = -EFAULT;
	}
	return ret;
}

/*
 * The size of a batch's entries, a version of the kernel's @ksize-byte
 * struct whose first version is @size0 bytes: that of a VER0 batch (@bsize
 * bytes), else @entry_size (0 means @ksize).  Return: 0 if it is none.
 */
static size_t mbx_batch_entry_size(size_t bsize, u32 entry_size, size_t size0,
				   size_t ksize)
{
	if (bsize == MBX_BATCH_SIZE_VER0)
		return size0;
	if (!entry_size)
		return ksize;
	return entry_size == size0 || entry_size == ksize ? entry_size : 0;
}

/*
 * Copy in up to @n entries of @usize bytes to @ents, as entries of @ksize
 * bytes: a smaller first version is zero-extended in place, last entry
 * first.  Return: how many whole entries could be read.
 */
static u32 mbx_batch_copy_in(void *ents, const void __user *uents, u32 n,
			     size_t usize, size_t ksize)
{
	size_t left = copy_from_user(ents, uents, n * usize);
	u32 whole = (n * usize - left) / usize;
	u32 i;

	if (usize == ksize)
		return whole;
	for (i = whole; i-- > 0;) {
		memmove(ents + i * ksize, ents + i * usize, usize);
		memset(ents + i * ksize + usize, 0, ksize - usize);
	}
	return whole;
}

/**
 * mbx_ioctl_batch() - MBX_IOC_SEND_BATCH or MBX_IOC_RECV_BATCH
 * @file: the port file
 * @cmd:  the ioctl, of any size (MBX_BATCH_SIZE_VER*)
 * @uarg: the user's struct mbx_batch
 * @send: send, else receive
 *
 * The first message of a batch waits as the batch's flags say; the others
 * go only if they need not wait.
 *
 * Context: process context, may sleep.
 * Return: how many went through, or the first message's error.
 */
long mbx_ioctl_batch(struct file *file, unsigned int cmd,
		     struct mbx_batch __user *uarg, bool send)
{
	size_t ksize = send ? sizeof(struct mbx_send) : sizeof(struct mbx_recv);
	ktime_t deadline, *dl;
	struct mbx_batch args;
	void *ents = NULL;
	bool nonblock;
	size_t usize;
	u32 done = 0;
	int ret;

	ret = mbx_copy_arg(&args, sizeof(args), MBX_BATCH_SIZE_VER0, cmd, uarg);
	/* Refused for bytes past ours, it still says that nothing went. */
	if (ret == -EINVAL && _IOC_SIZE(cmd) >= MBX_BATCH_SIZE_VER0)
		goto out;
	if (ret)
		return ret;
	usize = mbx_batch_entry_size(_IOC_SIZE(cmd), args.entry_size,
				     send ? MBX_SEND_SIZE_VER0 :
					    MBX_RECV_SIZE_VER0, ksize);
	ret = -EINVAL;
	if (args.flags & ~MBX_WAIT_FLAGS || args.reserved || args.reserved2 ||
	    !usize || !args.count || args.count > MBX_BATCH_MAX)
		goto out;
	ret = mbx_deadline(args.flags, args.timeout_ns, &deadline, &dl);
	if (ret)
		goto out;
	nonblock = mbx_nonblock(file, args.flags);
	ret = -ENOMEM;
	ents = kmem_cache_alloc(mbx_batch_cachep, GFP_KERNEL_ACCOUNT);
	if (!ents)
		goto out;

	while (done < args.count) {
		void __user *uents = u64_to_user_ptr(args.msgs) + done * usize;
		u32 n = min_t(u32, args.count - done, MBX_BATCH_CHUNK);
		u32 whole = mbx_batch_copy_in(ents, uents, n, usize, ksize);
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
			     mbx_batch_recv_chunk(file, ents, uents, usize,
						  whole, nonblock, dl, &went);
		done += went;
		if (ret)
			break;
		nonblock = true;
		dl = NULL;
	}
out:
	if (ents)
		kmem_cache_free(mbx_batch_cachep, ents);
	/* What went is told by the return value even so, as sendmmsg(). */
	if (put_user(done, &uarg->done) && !done)
		return -EFAULT;
	return done ?: mbx_restart_abstime(ret, args.flags);
}
