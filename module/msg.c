// SPDX-License-Identifier: GPL-2.0
/*
 * mailbox: a message between user memory and a port's queue.
 *
 * The checks of a send or receive request (struct mbx_send, struct
 * mbx_recv), the message made for a send before the port is locked (the
 * payload copied in, or an empty message to carry a pool region), and the
 * message given back to a receiver after the lock is dropped (copied out, or
 * its region handed over in place).  A receive whose copy faults puts the
 * message back at the head of its priority.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cred.h>
#include <linux/pid.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/time_namespace.h>
#include <linux/uaccess.h>

#include "mbx.h"

/*
 * A message and its payload are one object.  Payloads up to MBX_MSG_SMALL
 * bytes (and pool messages) come from a cache of small messages, larger
 * ones from caches of payloads of 512 bytes to 2 KiB (as kmalloc's sizes:
 * no more slack than it had), of 4.5 KiB and of 10.5 KiB, all exempt
 * from init_on_alloc (below).  (From kmalloc, a 4 KiB payload cleared an
 * 8 KiB object on every send.)  The last two are sized to fill SLUB's
 * slabs of 32 KiB, seven and three objects a slab, each with the free
 * pointer that a cache with a constructor keeps past its objects: with
 * payloads of 4 and 8 KiB the same slabs held as many, and a port's
 * charge, one object a message, fell short of what its messages took
 * by an eighth and a third.  A larger payload, or one the caches cannot
 * give, is kvmalloc()ed on its own, its address kept where a small
 * payload would be (mbx_msg_payload()), behind a small message's header:
 * with the header in the same allocation, a 64 KiB payload took a power
 * of two of pages, 128 KiB.  All are charged to the sender's memory
 * cgroup.
 */
#define MBX_MSG_SMALL	256
#define MBX_MSG_EXT	U8_MAX	/* mbx_msg.cache: the payload is apart */

static const struct {
	const char *name;
	unsigned int len;
} mbx_msg_sizes[] = {
	{ "mbx_msg", MBX_MSG_SMALL },
	{ "mbx_msg_512", SZ_512 },
	{ "mbx_msg_1k", SZ_1K },
	{ "mbx_msg_2k", SZ_2K },
	{ "mbx_msg_4608", SZ_4K + SZ_512 },
	{ "mbx_msg_10752", SZ_8K + SZ_2K + SZ_512 },
};

static struct kmem_cache *mbx_msg_caches[ARRAY_SIZE(mbx_msg_sizes)];

/**
 * mbx_noinit_ctor() - the constructor of a cache whose objects are written
 * before they are read
 * @obj: the object
 *
 * A cache with a constructor is exempt from init_on_alloc (on by default in
 * distribution kernels), which would otherwise clear each object as it is
 * allocated: at 64 bytes that was a tenth of a sender's time.  Nothing is
 * lost by it for the messages: mbx_msg_alloc() and the send set every
 * header field, and only the first len bytes of @data, written by the send,
 * are ever read.  batch.c's chunks of entries are the same.
 */
void mbx_noinit_ctor(void *obj)
{
}

/**
 * mbx_msg_cache_exit() - destroy the caches of messages
 *
 * Context: module exit (or a failed init), every message freed.
 */
void mbx_msg_cache_exit(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(mbx_msg_caches); i++) {
		kmem_cache_destroy(mbx_msg_caches[i]);
		mbx_msg_caches[i] = NULL;
	}
}

/**
 * mbx_msg_cache_init() - create the caches of messages
 *
 * Context: module init.
 * Return: 0 or -ENOMEM.
 */
int mbx_msg_cache_init(void)
{
	unsigned int i, len;

	for (i = 0; i < ARRAY_SIZE(mbx_msg_caches); i++) {
		len = mbx_msg_sizes[i].len;
		/* Payloads go to and from user memory: say where they are. */
		mbx_msg_caches[i] =
			kmem_cache_create_usercopy(mbx_msg_sizes[i].name,
						   sizeof(struct mbx_msg) + len,
						   0, SLAB_ACCOUNT,
						   offsetof(struct mbx_msg, data),
						   len, mbx_noinit_ctor);
		if (!mbx_msg_caches[i]) {
			mbx_msg_cache_exit();
			return -ENOMEM;
		}
	}
	return 0;
}

/* The cache for a payload of @len bytes, or MBX_MSG_EXT. */
static u8 mbx_msg_cache(size_t len)
{
	u8 i;

	for (i = 0; i < ARRAY_SIZE(mbx_msg_sizes); i++)
		if (len <= mbx_msg_sizes[i].len)
			return i;
	return MBX_MSG_EXT;
}

/**
 * mbx_msg_payload() - where a copy-mode message's payload is
 * @msg: the message
 *
 * Context: any.
 */
char *mbx_msg_payload(struct mbx_msg *msg)
{
	char *ext;

	if (msg->cache != MBX_MSG_EXT)
		return msg->data;
	memcpy(&ext, msg->data, sizeof(ext));
	return ext;
}

/**
 * mbx_msg_charge() - the memory one message of a port may take
 * @max_len: the port's max_msg_size
 *
 * What mbx_msg_alloc() takes for a payload of @max_len bytes: the object
 * of its cache (a 64-byte header and 256, 512, 1024, 2048, 4608 or 10752
 * bytes of payload), or past the caches a small message's header and
 * what kvmalloc() may take for the payload, kmalloc()'s power of two of
 * pages (tried first) up to KMALLOC_MAX_SIZE and whole pages beyond.  A
 * shorter message, or a pool message (an empty one), takes no more.  The
 * charge of a port must cover this, not @max_len and a header: a 1-byte
 * message takes 320 bytes, an 8 KiB one 10816, a 64 KiB one 64 KiB and
 * 320 bytes.
 *
 * Context: any.
 * Return: bytes.
 */
u64 mbx_msg_charge(u32 max_len)
{
	u8 cache = mbx_msg_cache(max_len);
	u64 payload;

	if (cache != MBX_MSG_EXT)
		return kmem_cache_size(mbx_msg_caches[cache]);
	payload = max_len <= KMALLOC_MAX_SIZE ? PAGE_SIZE << get_order(max_len) :
						PAGE_ALIGN(max_len);
	return kmem_cache_size(mbx_msg_caches[0]) + payload;
}

/*
 * A port keeps up to MBX_SPARES small messages received in copy mode for
 * its next sends, and about no more than its capacity (one on a
 * rendezvous port; receivers finishing together may each add one), as a
 * pipe keeps a page for its next write.  In a stream the sender's CPU
 * would otherwise allocate every message from slabs that the receiver's
 * CPU keeps freeing, and both would touch the same struct pid's count for
 * each.  A spare keeps its sender's pid reference, so a stream from one
 * process takes none.  Spares are not in the port's worst-case charge
 * (port->charge); they stay charged to the memory cgroup that allocated
 * them, and go with the port.
 */
#define MBX_SPARES	64

static struct mbx_msg *mbx_msg_spare(struct mbx_port *port)
{
	struct pid *pid = task_tgid(current);
	struct llist_node *node;
	struct mbx_msg *msg;

	if (llist_empty(&port->spares))
		return NULL;
	/* Adds need no lock; takers do, or they could take one twice. */
	spin_lock(&port->spares_lock);
	node = llist_del_first(&port->spares);
	spin_unlock(&port->spares_lock);
	if (!node)
		return NULL;
	atomic_dec(&port->nr_spares);
	msg = llist_entry(node, struct mbx_msg, spare);
	if (msg->pid != pid) {
		put_pid(msg->pid);
		msg->pid = get_pid(pid);
	}
	return msg;
}

/* Keep @msg, copied out, for a later send, or free it. */
static void mbx_msg_recycle(struct mbx_port *port, struct mbx_msg *msg)
{
	u32 most = clamp_t(u32, port->capacity, 1, MBX_SPARES);

	if (!msg->cache && atomic_read(&port->nr_spares) < most) {
		atomic_inc(&port->nr_spares);
		llist_add(&msg->spare, &port->spares);
		return;
	}
	mbx_msg_free(msg);
}

/**
 * mbx_msg_spares_free() - free the messages a port kept for sends
 * @port: a port nobody uses any more
 *
 * Context: any context that may free memory.
 */
void mbx_msg_spares_free(struct mbx_port *port)
{
	struct mbx_msg *msg, *tmp;

	llist_for_each_entry_safe(msg, tmp, llist_del_all(&port->spares),
				  spare)
		mbx_msg_free(msg);
}

/* A small message's header, and @len bytes of payload apart from it. */
static struct mbx_msg *mbx_msg_alloc_ext(size_t len)
{
	struct mbx_msg *msg;
	char *ext;

	ext = kvmalloc(len, GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!ext)
		return NULL;
	msg = kmem_cache_alloc(mbx_msg_caches[0], GFP_KERNEL | __GFP_NOWARN);
	if (!msg) {
		kvfree(ext);
		return NULL;
	}
	memcpy(msg->data, &ext, sizeof(ext));
	return msg;
}

static struct mbx_msg *mbx_msg_alloc(struct mbx_port *port, size_t len)
{
	u8 cache = mbx_msg_cache(len);
	struct mbx_msg *msg = !cache ? mbx_msg_spare(port) : NULL;

	if (!msg) {
		if (cache != MBX_MSG_EXT)
			msg = kmem_cache_alloc(mbx_msg_caches[cache],
					       GFP_KERNEL | __GFP_NOWARN);
		/* Past a page a slab needs contiguous pages; vmalloc() not. */
		if (!msg && struct_size(msg, data, len) > PAGE_SIZE) {
			cache = MBX_MSG_EXT;
			msg = mbx_msg_alloc_ext(len);
		}
		if (!msg)
			return NULL;
		msg->pid = get_pid(task_tgid(current));
	}
	msg->cache = cache;
	msg->len = len;
	msg->region = NULL;
	msg->uid = current_euid();
	return msg;
}

/**
 * mbx_msg_free() - free a message that nobody holds
 * @msg: the message (its region, if any, is the caller's business)
 *
 * Context: any context that may free memory.
 */
void mbx_msg_free(struct mbx_msg *msg)
{
	put_pid(msg->pid);
	if (msg->cache == MBX_MSG_EXT) {
		kvfree(mbx_msg_payload(msg));
		kmem_cache_free(mbx_msg_caches[0], msg);
		return;
	}
	kmem_cache_free(mbx_msg_caches[msg->cache], msg);
}

/**
 * mbx_send_prepare() - make the message for a send, before the port is
 * locked
 * @port: the port
 * @args: a checked send request
 * @msgp: on success, the message
 *
 * Copy mode copies the payload in; a pool send makes an empty message to
 * carry its region.
 *
 * Context: process context, may fault and sleep.
 * Return: 0, -EMSGSIZE, -ENODEV (a pool send on a port without one),
 * -ENOMEM or -EFAULT.
 */
int mbx_send_prepare(struct mbx_port *port,
		     const struct mbx_send *args, struct mbx_msg **msgp)
{
	struct mbx_msg *msg;

	if (args->flags & MBX_SEND_BUF) {
		if (!port->pool)
			return -ENODEV;
		msg = mbx_msg_alloc(port, 0);
		if (!msg)
			return -ENOMEM;
	} else {
		if (args->len > port->max_msg_size)
			return -EMSGSIZE;
		msg = mbx_msg_alloc(port, args->len);
		if (!msg)
			return -ENOMEM;
		if (copy_from_user(mbx_msg_payload(msg),
				   u64_to_user_ptr(args->buf),
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

/**
 * __mbx_send_prepared() - send a prepared message
 * @port:     the port
 * @file:     the sending file
 * @args:     its checked request; MBX_SEND_BUF: the region to carry
 * @msg:      the message, from mbx_send_prepare(); for a sealed send it
 *            carries its region already (__mbx_pool_seal())
 * @nonblock: fail with -EAGAIN rather than wait
 * @deadline: absolute CLOCK_MONOTONIC deadline, or NULL
 *
 * Context: port->lock held; dropped while waiting, held again on return.
 * Return: 0, the port then owns @msg; or -errno, the caller then still owns
 * it and @file holds the region again.
 */
int __mbx_send_prepared(struct mbx_port *port, struct file *file,
			const struct mbx_send *args, struct mbx_msg *msg,
			bool nonblock, ktime_t *deadline)
{
	struct mbx_region *r;
	int ret;

	if (!(args->flags & MBX_SEND_BUF))
		return port->topic ?
		       __mbx_topic_send(port, msg, nonblock, deadline) :
		       __mbx_send(port, msg, nonblock, deadline);

	r = msg->region;
	if (!r) {
		r = __mbx_region_send(port, file, args->offset, args->len);
		if (IS_ERR(r))
			return PTR_ERR(r);
		msg->region = r;
	}
	msg->len = args->len;
	ret = port->topic ? __mbx_topic_send(port, msg, nonblock, deadline) :
			    __mbx_send(port, msg, nonblock, deadline);
	if (ret)
		__mbx_region_unsend(r, file);
	return ret;
}

/**
 * mbx_send_next() - MBX_SEND_NEXT, once the message is sent: allocate the
 * sender's next region and tell the sender its offset
 * @file:     the sending file
 * @args:     the send request, checked by mbx_check_send()
 * @uargs:    the user's copy of @args, where next_offset goes
 * @nonblock: fail with -EAGAIN rather than wait
 * @deadline: absolute CLOCK_MONOTONIC deadline, or NULL
 *
 * The send stands whatever happens here: a region that cannot be had is
 * told as MBX_OFFSET_NONE.  After a sealed send the next region is made
 * of whole pages (MBX_BUF_PAGES), so that it can be sealed in turn.
 *
 * Context: process context, may sleep.
 * Return: 0, or -EFAULT if the offset cannot be written (the region is
 * then released).
 */
int mbx_send_next(struct file *file, const struct mbx_send *args,
		  struct mbx_send __user *uargs, bool nonblock,
		  ktime_t *deadline)
{
	struct mbx_port *port = mbx_file_port(file);
	u64 offset;

	if (mbx_pool_alloc(port, file, args->next_len,
			   args->flags & MBX_SEND_SEALED, nonblock, deadline,
			   &offset))
		offset = MBX_OFFSET_NONE;
	if (put_user(offset, &uargs->next_offset)) {
		if (offset != MBX_OFFSET_NONE)
			mbx_pool_release(port, file, offset, args->next_len);
		return -EFAULT;
	}
	return 0;
}

/**
 * mbx_send_args() - send as a checked request says
 * @file:     the sending file
 * @args:     the request, checked by mbx_check_send()
 * @nonblock: fail with -EAGAIN rather than wait
 * @deadline: absolute CLOCK_MONOTONIC deadline, or NULL
 *
 * MBX_SEND_NEXT is the caller's to do afterwards (mbx_send_next()).
 * MBX_SEND_SEALED seals the region first (__mbx_pool_seal()); a failed
 * send leaves it sealed, held by the sender again.
 *
 * Context: process context, may sleep.
 * Return: 0 or -errno; on failure nothing was sent.
 */
int mbx_send_args(struct file *file, const struct mbx_send *args,
		  bool nonblock, ktime_t *deadline)
{
	struct mbx_port *port = mbx_file_port(file);
	struct mbx_msg *msg;
	int ret;

	ret = mbx_send_prepare(port, args, &msg);
	if (ret)
		return ret;
	spin_lock(&port->lock);
	if (args->flags & MBX_SEND_SEALED) {
		msg->region = __mbx_pool_seal(port, file, args->offset,
					      args->len);
		if (IS_ERR(msg->region)) {
			ret = PTR_ERR(msg->region);
			msg->region = NULL;
		}
	}
	if (!ret)
		ret = __mbx_send_prepared(port, file, args, msg, nonblock,
					  deadline);
	mbx_port_unlock(port);
	if (ret)
		mbx_msg_free(msg);
	return ret;
}

/* Copy a received message's payload out; the message stays the caller's. */
static int mbx_copy_payload(struct mbx_port *port, struct mbx_msg *msg,
			    void __user *buf)
{
	const void *data = msg->region ?
			   mbx_region_data(port->pool, msg->region) :
			   mbx_msg_payload(msg);

	return copy_to_user(buf, data, msg->len) ? -EFAULT : 0;
}

/* A received message is the receiver's for good: free it. */
static void mbx_msg_taken(struct mbx_port *port, struct mbx_msg *msg)
{
	if (msg->region) {
		spin_lock(&port->lock);
		__mbx_region_put(port, msg->region);
		mbx_port_unlock(port);
	}
	mbx_msg_recycle(port, msg);
	mbx_recv_done(port);
}

/**
 * mbx_copy_out() - copy a received message out to user memory and free it
 * @port: the port
 * @msg:  the message; a pool message's region is freed with it
 * @buf:  the user's buffer, at least @msg->len bytes
 *
 * Context: process context, may fault.
 * Return: 0, or -EFAULT with the message still the caller's.
 */
int mbx_copy_out(struct mbx_port *port, struct mbx_msg *msg,
		 void __user *buf)
{
	if (mbx_copy_payload(port, msg, buf))
		return -EFAULT;
	mbx_msg_taken(port, msg);
	return 0;
}

/*
 * An absolute time on the caller's CLOCK_MONOTONIC, on the host's: a time
 * namespace moves that clock by an offset (timens_ktime_to_host() does
 * this, but not for modules).  Times before the offset are in the past.
 */
static ktime_t mbx_monotonic_to_host(ktime_t t)
{
	struct timespec64 offset = {};
	ktime_t off;

	timens_add_monotonic(&offset);
	off = timespec64_to_ktime(offset);
	if (off > 0 && t < off)
		return 0;
	if (off < 0 && t > KTIME_MAX + off)
		return KTIME_MAX;
	return t - off;
}

/**
 * mbx_deadline() - turn MBX_TIMEOUT / MBX_ABSTIME into an absolute
 * host CLOCK_MONOTONIC deadline
 * @flags:      a request's flags
 * @timeout_ns: its timeout
 * @deadline:   where to keep the deadline
 * @deadlinep:  set to @deadline, or NULL for no timeout
 *
 * Context: process: an absolute time is on the caller's clock.
 * Return: 0, or -EINVAL for a timeout without MBX_TIMEOUT.
 */
int mbx_deadline(u32 flags, u64 timeout_ns, ktime_t *deadline,
		 ktime_t **deadlinep)
{
	ktime_t t = ns_to_ktime(min_t(u64, timeout_ns, KTIME_MAX));

	*deadlinep = NULL;
	if (!(flags & MBX_TIMEOUT))
		return (flags & MBX_ABSTIME) || timeout_ns ? -EINVAL : 0;

	*deadline = flags & MBX_ABSTIME ? mbx_monotonic_to_host(t) :
		    ktime_add_safe(ktime_get(), t);
	*deadlinep = deadline;
	return 0;
}

/**
 * mbx_check_send() - check a send request against its file
 * @file:  the sending file
 * @args:  the request
 * @usize: the size of the user's struct (MBX_SEND_SIZE_VER*)
 *
 * MBX_SEND_NEXT needs MBX_SEND_BUF, a struct that can carry its result,
 * and a next_len that fits the pool; without it next_len must be zero.
 * MBX_SEND_SEALED needs MBX_SEND_BUF.
 *
 * Context: any.
 * Return: 0, -EBADF for a file that may not send, -EINVAL.
 */
int mbx_check_send(struct file *file, const struct mbx_send *args,
		   size_t usize)
{
	struct mbx_port *port = mbx_file_port(file);

	if (!(mbx_file_access(file) & MBX_SEND))
		return -EBADF;
	/* A ring port moves records through its ring only (ring.c). */
	if (port->ring)
		return -EOPNOTSUPP;
	if (args->flags & ~MBX_SEND_FLAGS ||
	    args->prio > mbx_file_port(file)->max_prio)
		return -EINVAL;
	if (args->flags & MBX_SEND_BUF ? args->buf : args->offset)
		return -EINVAL;
	if (args->flags & MBX_SEND_SEALED && !(args->flags & MBX_SEND_BUF))
		return -EINVAL;
	if (!(args->flags & MBX_SEND_NEXT))
		return args->next_len ? -EINVAL : 0;
	if (!(args->flags & MBX_SEND_BUF) || usize < MBX_SEND_SIZE_VER1 ||
	    !args->next_len || (port->pool && args->next_len > port->pool_size))
		return -EINVAL;
	return 0;
}

/**
 * mbx_check_recv() - check a receive request against its file
 * @file:  the receiving file
 * @args:  the request; its output fields are ignored, so one struct can
 *         serve a loop
 * @usize: the size of the user's struct (MBX_RECV_SIZE_VER*)
 *
 * MBX_RECV_RELEASE needs a struct that carries the region; without it the
 * region's fields must be zero.
 *
 * Context: any.
 * Return: 0, -EBADF for a file that may not receive, -EINVAL.
 */
int mbx_check_recv(struct file *file, const struct mbx_recv *args,
		   size_t usize)
{
	if (!(mbx_file_access(file) & MBX_RECV))
		return -EBADF;
	if (mbx_file_port(file)->ring)
		return -EOPNOTSUPP;
	if (args->flags & ~MBX_RECV_FLAGS || args->dropped)
		return -EINVAL;
	if (!(args->flags & MBX_RECV_RELEASE))
		return args->release_offset || args->release_len ? -EINVAL : 0;
	return usize < MBX_RECV_SIZE_VER1 ? -EINVAL : 0;
}

static void mbx_sender_ids(struct mbx_sender_ids *ids, struct mbx_msg *msg)
{
	if (ids->pid == msg->pid && uid_eq(ids->kuid, msg->uid))
		return;
	ids->pid = msg->pid;
	ids->kuid = msg->uid;
	ids->nr = pid_vnr(msg->pid);
	ids->uid = from_kuid_munged(current_user_ns(), msg->uid);
}

/**
 * mbx_recv_deliver() - give a received message to the caller
 * @file:  the receiving file
 * @args:  its checked request, filled with the results
 * @uargs: the user's copy of @args, where the results are written back
 * @msg:   the message
 * @ids:   the sender's ids as last translated, kept across a batch
 *
 * In place (MBX_RECV_INPLACE, a pool message) @file then holds the region;
 * otherwise the payload is copied out to args->buf and the message freed.
 *
 * Context: process context, may fault.
 * Return: 0, or -EFAULT with the message still the caller's, to put back.
 */
int mbx_recv_deliver(struct file *file, struct mbx_recv *args,
		     struct mbx_recv __user *uargs, struct mbx_msg *msg,
		     struct mbx_sender_ids *ids)
{
	struct mbx_port *port = mbx_file_port(file);
	bool inplace = msg->region && args->flags & MBX_RECV_INPLACE;

	mbx_sender_ids(ids, msg);
	args->len = msg->len;
	args->offset = inplace ? mbx_region_offset(msg->region) : 0;
	args->msg_flags = inplace ? MBX_MSG_BUF : 0;
	if (msg->region && mbx_region_sealed(msg->region))
		args->msg_flags |= MBX_MSG_SEALED;
	args->tag = msg->tag;
	args->prio = msg->prio;
	args->pid = ids->nr;
	args->uid = ids->uid;

	/*
	 * The payload first, then what the caller got, before the message
	 * is gone: results that name a sender come with the whole payload.
	 * Every result lives in the first version of the struct.
	 */
	if (!inplace && mbx_copy_payload(port, msg, u64_to_user_ptr(args->buf)))
		return -EFAULT;
	if (mbx_put_recv(uargs, args))
		return -EFAULT;
	if (!inplace) {
		mbx_msg_taken(port, msg);
		return 0;
	}
	/*
	 * Only now may this file release the region: had it held it before
	 * the copy above, another thread could have released a region that a
	 * failed copy then puts back.
	 */
	spin_lock(&port->lock);
	__mbx_region_hold(msg->region, file);
	mbx_port_unlock(port);
	mbx_msg_free(msg);
	mbx_recv_done(port);
	return 0;
}

/**
 * mbx_recv_args() - receive as a checked request says
 * @file:     the receiving file
 * @args:     the request, checked by mbx_check_recv()
 * @uargs:    the user's copy of @args, where the results are written back
 * @nonblock: fail with -EAGAIN rather than wait
 * @deadline: absolute CLOCK_MONOTONIC deadline, or NULL
 * @spin_ns:  spin this long for a message before sleeping (mbx_recv_spin())
 *
 * With MBX_RECV_RELEASE the region is released first; if that fails,
 * nothing else happens.  Once it is released it stays so whatever the
 * receive then does, so an interrupted receive is not restarted: -EINTR.
 *
 * Context: process context, may sleep.
 * Return: 0 or -errno; on -EMSGSIZE, uargs->len is the size needed.
 */
int mbx_recv_args(struct file *file, struct mbx_recv *args,
		  struct mbx_recv __user *uargs, bool nonblock,
		  ktime_t *deadline, u64 spin_ns)
{
	struct mbx_port *port = mbx_file_port(file);
	struct mbx_sender_ids ids = {};
	struct mbx_msg *msg;
	size_t len;
	int ret;

	if (args->flags & MBX_RECV_RELEASE && !port->pool)
		return -ENODEV;
	if (port->topic) {
		/* It releases in the hold of the lock that takes a message. */
		ret = mbx_topic_recv(file, args, uargs, nonblock, deadline);
		if (ret == -ERESTARTSYS && args->flags & MBX_RECV_RELEASE)
			ret = -EINTR;
		return ret;
	}

	if (args->flags & MBX_RECV_RELEASE) {
		ret = mbx_pool_release(port, file, args->release_offset,
				       args->release_len);
		if (ret)
			return ret;
	}
	if (!nonblock)
		mbx_recv_spin(port, deadline, spin_ns);
	len = args->len;
	ret = mbx_recv_msg(port, &len, args->flags & MBX_RECV_INPLACE,
			   nonblock, deadline, &msg);
	if (ret == -ERESTARTSYS && args->flags & MBX_RECV_RELEASE)
		ret = -EINTR;
	if (ret == -EMSGSIZE && put_user(len, &uargs->len))
		return -EFAULT;
	if (ret)
		return ret;
	ret = mbx_recv_deliver(file, args, uargs, msg, &ids);
	if (ret)
		mbx_putback(port, msg);
	return ret;
}
