/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mailbox: definitions shared by the files of the module.
 */
#ifndef _MBX_H
#define _MBX_H

#include "compat.h"

#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/llist.h>
#include <linux/rbtree.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uaccess.h>
#include <linux/uidgid.h>
#include <linux/wait.h>
#include <linux/mailbox.h>

#define MBX_NR_PRIO		(MBX_PRIO_MAX + 1)

/*
 * Bytes of a message's header at most, as docs/SEMANTICS.md states; a
 * port is charged what its messages take (mbx_msg_charge()).
 */
#define MBX_MSG_CHARGE		64

/*
 * Hard ceilings for the max_msg_size and max_pool_size module parameters:
 * they keep every size and charge computation far from overflowing.
 */
#define MBX_MSG_SIZE_CEILING	(64U << 20)
#define MBX_POOL_SIZE_CEILING	(4ULL << 30)

/* The largest call_spin_ns and recv_spin_ns: a spin lasts at most 1 ms. */
#define MBX_SPIN_CEILING_NS	1000000U

/* Module parameters (main.c); read with READ_ONCE(). */
extern unsigned int mbx_max_msg_size;
extern unsigned int mbx_default_msg_size;
extern unsigned int mbx_max_capacity;
extern unsigned int mbx_max_ports_per_user;
extern unsigned long mbx_max_pool_size;
extern unsigned long mbx_max_bytes_per_user;
extern unsigned int mbx_call_spin_ns;
extern unsigned int mbx_recv_spin_ns;

/**
 * struct mbx_msg - one message, queued or in flight
 * @node:   in a port's queue[@prio]
 * @len:    payload bytes in @data
 * @tag:    the sender's opaque value
 * @pid:    the sender's thread group, referenced
 * @region: the pool region holding the payload, or NULL for @data
 * @uid:    the sender's effective uid
 * @prio:   0..the port's max_prio (at most MBX_MQ_PRIO_MAX)
 * @cache:  msg.c's cache it came from (0: small messages), or its mark
 *          for kvmalloc()
 * @qrefs:  topic: subscribers whose backlog holds it
 * @refs:   topic: receives looking at it or copying it out
 * @data:   the payload of a copy-mode message
 *
 * A message of a topic is shared by every subscriber and lives while
 * @qrefs or @refs is not zero (topic.c).
 */
struct mbx_msg {
	union {
		struct list_head node;
		struct llist_node spare;	/* on port->spares (msg.c) */
	};
	size_t len;
	u64 tag;
	struct pid *pid;
	struct mbx_region *region;
	kuid_t uid;
	u16 prio;
	u8 cache;
	u32 qrefs;
	u32 refs;
	char data[];
};

struct mbx_pool;
struct mbx_sub;
struct mbx_notify_reg;
struct seq_file;
struct mbx_region;
struct mbx_user;
/* The creator, and the owner of its user namespace (user.c). */
#define MBX_USERS	2
struct mbx_ring;

/* mbx_waiter.state while the caller is blocked; afterwards, its result. */
#define MBX_WAITING	1

/**
 * struct mbx_waiter - a caller blocked on a port, on its stack
 * @node:    in one of the port's waiter lists
 * @task:    the caller
 * @msg:     sender: its message; receiver: the message handed to it
 * @buf_len: receiver: room in its buffer; on -EMSGSIZE, the size needed
 * @inplace: receiver: takes pool messages in place, whatever their size
 * @sub:     receiver on a topic: the subscription it waits for
 * @state:   MBX_WAITING, then 0 or -errno, set by whoever removed @node
 */
struct mbx_waiter {
	struct list_head node;
	struct task_struct *task;
	struct mbx_msg *msg;
	struct mbx_sub *sub;
	size_t buf_len;
	bool inplace;
	int state;
};

/**
 * struct mbx_stats - a port's counters, under the port's lock
 */
struct mbx_stats {
	u64 sent;
	u64 received;
	u64 bytes_sent;
	u64 bytes_received;
	u64 send_waits;
	u64 recv_waits;
};

/**
 * struct mbx_port - a mailbox
 *
 * The first group is set at creation and never changes.
 */
struct mbx_port {
	struct kref ref;		/* one per file, one for the name */
	u64 id;
	u32 capacity;
	u32 max_msg_size;
	u64 pool_size;
	struct mbx_pool *pool;		/* NULL if pool_size is 0 */
	umode_t mode;
	kuid_t uid;
	kgid_t gid;
	struct mbx_user *users[MBX_USERS]; /* charged @charge bytes, a port */
	u64 charge;
	u32 max_prio;			/* MBX_PRIO_MAX, or MBX_MQ_PRIO_MAX */
	bool mq;			/* created with MBX_PORT_MQ */
	bool topic;			/* created with MBX_PORT_TOPIC */
	struct mbx_ring *ring;		/* MBX_PORT_RING: ring.c, else NULL */
	char name[MBX_NAME_LEN];

	/* names.c: the namespace of the name, referenced while linked */
	struct ipc_namespace *ipc_ns;
	struct hlist_node name_node;	/* under mbx_names_lock */
	struct list_head all_node;	/* in mbx_ports, under mbx_ports_lock */
	wait_queue_head_t poll_wq;	/* poll and epoll only; own lock */
	/* msg.c: small messages kept for the next sends */
	struct llist_head spares;
	atomic_t nr_spares;
	spinlock_t spares_lock;		/* serialises taking from @spares */

	spinlock_t lock;		/* protects every field below */
	union {
		struct {		/* an ordinary port */
			struct list_head queue[MBX_NR_PRIO];
			u32 queue_map;	/* bit p: queue[p] is not empty */
		};
		struct {		/* @mq: see queue.c */
			struct rb_root_cached prio_tree;
			struct list_head prio_spare;
			u32 nr_spare;
			u32 prio_reserved;
		};
	};
	struct mbx_notify_reg *notify;	/* @mq: notify.c */
	struct list_head subs;		/* @topic: active subscriptions */
	u32 nr_subs;			/* @topic: how many */
	/* Messages to free once the lock is dropped: see mbx_port_unlock(). */
	struct list_head dead;
	u32 queued;
	struct list_head send_waiters;	/* best message first */
	struct list_head recv_waiters;	/* longest waiting first */
	u32 senders;			/* open files that may send */
	u32 receivers;			/* open files that may receive */
	/* Taken by receives and not yet delivered: may come back (queue.c). */
	atomic_t inflight;
	bool eof_pending;		/* end of stream waits for @inflight */
	bool shutdown;
	bool linked;			/* reachable by name */
	struct mbx_stats stats;
	/* Woken once the lock is dropped: see mbx_port_unlock(). */
	struct task_struct *wake;	/* referenced */
	__poll_t poll_events;
};

/**
 * struct mbx_file - what a port file is: private_data of every port file
 * @port:   the port, referenced
 * @access: MBX_SEND and/or MBX_RECV
 * @sub:    on a topic, with MBX_RECV: the file's subscription (topic.c)
 * @held:   the pool regions it holds, under port->lock (pool.c), so that
 *          its release frees them without looking at anyone else's
 *
 * A file that may send is opened read-write whatever its access, because
 * mmap() needs FMODE_READ and a sender writes into the pool; a receive-only
 * file is opened read-only, so its mappings can never become writable.
 * Every file of a ring port is read-write: ring.c decides, by the file's
 * role, which of its mappings may be writable.  Access checks therefore
 * use @access, never f_mode.
 */
struct mbx_file {
	struct mbx_port *port;
	u32 access;
	struct mbx_sub *sub;
	struct list_head held;
};

static inline struct mbx_port *mbx_file_port(struct file *file)
{
	return ((struct mbx_file *)file->private_data)->port;
}

static inline u32 mbx_file_access(struct file *file)
{
	return ((struct mbx_file *)file->private_data)->access;
}

/* Whether a call on @file with @flags must not wait. */
/*
 * A timed call with an absolute deadline (MBX_ABSTIME) that a signal ended
 * before it did anything restarts as an untimed one does (the handler's
 * SA_RESTART, or a stop signal, which runs none): the deadline holds as it
 * was, as for mq_timedreceive().  A relative timeout cannot start again
 * from the beginning: -EINTR.
 */
static inline int mbx_restart_abstime(int ret, u32 flags)
{
	return ret == -EINTR && flags & MBX_ABSTIME ? -ERESTARTSYS : ret;
}

static inline bool mbx_nonblock(struct file *file, u32 flags)
{
	return flags & MBX_NONBLOCK || file->f_flags & O_NONBLOCK;
}

/*
 * Under port->lock: nothing can ever be sent again (or received).  Never
 * for a MBX_PORT_MQ port, which, like a POSIX queue, has no end of stream.
 */
static inline bool __mbx_no_senders(struct mbx_port *port)
{
	return !port->linked && !port->senders && !port->mq;
}

bool __mbx_eof(struct mbx_port *port);

static inline bool __mbx_no_receivers(struct mbx_port *port)
{
	return !port->linked && !port->receivers && !port->mq;
}

/*
 * The access asked by the flags of MBX_IOC_PORT_OPEN or MBX_IOC_PORT_DUP:
 * MBX_SEND and/or MBX_RECV, or 0 if the flags or @reserved are invalid.
 */
static inline u32 mbx_open_access(u32 flags, u32 reserved)
{
	if (flags & ~(MBX_SEND | MBX_RECV | MBX_CLOEXEC | MBX_NONBLOCK) ||
	    reserved)
		return 0;
	return flags & (MBX_SEND | MBX_RECV);
}

/* Flags a send, a receive, and a call that only waits may carry. */
#define MBX_SEND_FLAGS	(MBX_NONBLOCK | MBX_TIMEOUT | MBX_ABSTIME | \
			 MBX_SEND_BUF | MBX_SEND_NEXT | MBX_SEND_SEALED)
#define MBX_RECV_FLAGS	(MBX_NONBLOCK | MBX_TIMEOUT | MBX_ABSTIME | \
			 MBX_RECV_INPLACE | MBX_RECV_RELEASE)
#define MBX_WAIT_FLAGS	(MBX_NONBLOCK | MBX_TIMEOUT | MBX_ABSTIME)

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

/* port.c */
struct mbx_port *mbx_port_alloc(const struct mbx_port_create *args);
void mbx_port_put(struct mbx_port *port);
void mbx_port_unname(struct mbx_port *port);
void mbx_port_shutdown(struct mbx_port *port);
bool mbx_is_port_file(const struct file *file);
/* How mbx_port_install() came by its port. */
enum mbx_origin {
	MBX_ORIGIN_FILE,	/* a dup of a file, or a new anonymous port */
	MBX_ORIGIN_NAME,	/* a lookup by name, which an unlink may undo */
	MBX_ORIGIN_NEW_NAME,	/* a new named port: link its name */
};

int mbx_port_install(struct mbx_port *port, u32 access, u32 flags,
		     enum mbx_origin origin, bool subscribe);
void mbx_port_info(struct mbx_port *port, struct mbx_port_info *info);
void mbx_port_info_hide(struct mbx_port_info *info);
void mbx_ports_show(struct seq_file *m);

/* ioctl.c, call.c, batch.c */
long mbx_port_ioctl(struct file *file, unsigned int cmd, unsigned long arg);
long mbx_ioctl_call(struct file *file, unsigned int cmd, void __user *uarg);
long mbx_ioctl_batch(struct file *file, unsigned int cmd,
		     struct mbx_batch __user *uarg, bool send);
int mbx_batch_cache_init(void);
void mbx_batch_cache_exit(void);

/* msg.c */
void mbx_noinit_ctor(void *obj);
int mbx_msg_cache_init(void);
void mbx_msg_cache_exit(void);
void mbx_msg_spares_free(struct mbx_port *port);
u64 mbx_msg_charge(u32 max_len);
char *mbx_msg_payload(struct mbx_msg *msg);
void mbx_msg_free(struct mbx_msg *msg);
int mbx_deadline(u32 flags, u64 timeout_ns, ktime_t *deadline,
		 ktime_t **deadlinep);
int mbx_check_send(struct file *file, const struct mbx_send *args,
		   size_t usize);
int mbx_check_recv(struct file *file, const struct mbx_recv *args,
		   size_t usize);
int mbx_send_prepare(struct mbx_port *port,
		     const struct mbx_send *args, struct mbx_msg **msgp);
int __mbx_send_prepared(struct mbx_port *port, struct file *file,
			const struct mbx_send *args, struct mbx_msg *msg,
			bool nonblock, ktime_t *deadline);
int mbx_send_args(struct file *file, const struct mbx_send *args,
		  bool nonblock, ktime_t *deadline);
int mbx_send_next(struct file *file, const struct mbx_send *args,
		  struct mbx_send __user *uargs, bool nonblock,
		  ktime_t *deadline);
int mbx_copy_out(struct mbx_port *port, struct mbx_msg *msg,
		 void __user *buf);
int mbx_recv_deliver(struct file *file, struct mbx_recv *args,
		     struct mbx_recv __user *uargs, struct mbx_msg *msg,
		     struct mbx_sender_ids *ids);
int mbx_recv_args(struct file *file, struct mbx_recv *args,
		  struct mbx_recv __user *uargs, bool nonblock,
		  ktime_t *deadline, u64 spin_ns);

/* queue.c */
int mbx_queue_init(struct mbx_port *port);
u64 mbx_queue_charge(const struct mbx_port *port);
void mbx_queue_purge(struct mbx_port *port, struct list_head *msgs);
void __mbx_port_hangup(struct mbx_port *port);
int __mbx_send(struct mbx_port *port, struct mbx_msg *msg,
	       bool nonblock, ktime_t *deadline);
int __mbx_recv_msg(struct mbx_port *port, size_t *len, bool inplace,
		   bool nonblock, ktime_t *deadline,
		   struct mbx_msg **msgp);
int mbx_recv_msg(struct mbx_port *port, size_t *len, bool inplace,
		 bool nonblock, ktime_t *deadline,
		 struct mbx_msg **msgp);
void __mbx_putback(struct mbx_port *port, struct mbx_msg **msgs, u32 n);
void mbx_putback(struct mbx_port *port, struct mbx_msg *msg);
void mbx_recv_done(struct mbx_port *port);
void mbx_recv_spin(struct mbx_port *port, const ktime_t *deadline,
		   u64 spin_ns);

/* wait.c */
void __mbx_poll_wake(struct mbx_port *port, __poll_t events);
void mbx_port_unlock(struct mbx_port *port) __releases(&port->lock);
void __mbx_complete(struct mbx_port *port, struct mbx_waiter *w,
		    int result);
void __mbx_complete_all(struct mbx_port *port, struct list_head *list,
			int result);
int __mbx_wait(struct mbx_port *port, struct mbx_waiter *w, int what,
	       ktime_t *deadline);
void mbx_schedule_until(ktime_t *deadline);
bool mbx_expired(const ktime_t *deadline);

/* pool.c */
struct mbx_pool *mbx_pool_create(u64 size);
void mbx_pool_destroy(struct mbx_pool *pool);
u64 __mbx_pool_avail(struct mbx_pool *pool);
void *mbx_region_data(struct mbx_pool *pool, struct mbx_region *r);
struct mbx_region *__mbx_region_send(struct mbx_port *port, struct file *file,
				     u64 offset, u64 len);
void __mbx_region_hold(struct mbx_region *r, struct file *file);
void __mbx_region_unsend(struct mbx_region *r, struct file *file);
u64 mbx_region_offset(struct mbx_region *r);
u64 mbx_region_len(struct mbx_region *r);
void __mbx_region_put(struct mbx_port *port, struct mbx_region *r);
void __mbx_region_share(struct mbx_region *r);
void __mbx_region_unshare(struct mbx_port *port, struct mbx_region *r);
void __mbx_pool_release_file(struct mbx_port *port, struct file *file);
void __mbx_pool_hangup(struct mbx_port *port);
int mbx_pool_alloc(struct mbx_port *port, struct file *file, u64 len,
		   bool pages, bool nonblock, ktime_t *deadline, u64 *offset);
struct mbx_region *__mbx_pool_seal(struct mbx_port *port, struct file *file,
				   u64 offset, u64 len);
bool mbx_region_sealed(struct mbx_region *r);
int mbx_pool_release(struct mbx_port *port, struct file *file, u64 offset,
		     u64 len);
int mbx_pool_mmap_check(struct mbx_pool *pool, struct vm_area_struct *vma,
			bool writable);
int mbx_pool_mmap(struct mbx_pool *pool, struct vm_area_struct *vma,
		  struct file *map_file);
struct file *mbx_pool_map_file(struct mbx_pool *pool,
			       const struct file_operations *fops, void *priv,
			       bool writable);
void mbx_pool_map_file_release(struct file *map_file);

/* seal.c */
struct mbx_seal;
int mbx_seal_init(void);
void mbx_seal_exit(void);
struct mbx_seal *mbx_seal_create(struct page **pages, unsigned long nr_pages);
void mbx_seal_destroy(struct mbx_seal *seal);
struct file *mbx_seal_file(struct mbx_seal *seal,
			   const struct file_operations *fops, void *priv,
			   bool writable);
void __mbx_seal_mark(struct mbx_seal *seal, unsigned long first,
		     unsigned long n, bool on);
bool mbx_seal_written(struct mbx_seal *seal, unsigned long first,
		      unsigned long n);
int mbx_seal_pages(struct mbx_seal *seal, unsigned long first,
		   unsigned long n);
bool mbx_seal_writable(struct mbx_seal *seal, unsigned long first,
		       unsigned long n);
int mbx_seal_mmap(struct mbx_seal *seal, struct vm_area_struct *vma,
		  struct file *file);
void mbx_seal_file_release(struct file *file);

/* names.c */
int mbx_name_check(const char *name);
bool mbx_name_taken(const char *name);
bool mbx_name_may_open(struct mbx_port *port);
int mbx_name_link(struct mbx_port *port);
struct mbx_port *mbx_name_lookup(const char *name, u32 access);
struct mbx_port *mbx_name_unlink(const char *name);
void mbx_names_sweep(void);
void mbx_names_stop(void);
int mbx_names_get(struct mbx_port ***portsp);
struct mbx_port *mbx_name_pop(void);

/* notify.c */
long mbx_ioctl_notify(struct file *file, unsigned int cmd,
		      struct mbx_notify __user *uarg);
void __mbx_notify_fire(struct mbx_port *port, const struct mbx_msg *msg);
void mbx_notify_flush(struct mbx_port *port);
void __mbx_notify_drop(struct mbx_port *port);

/* topic.c */
struct mbx_sub *mbx_topic_sub_alloc(void);
u64 mbx_topic_max_bytes(const struct mbx_port *port);
u64 mbx_topic_default_bytes(const struct mbx_port *port, u32 policy);
void __mbx_topic_sub_start(struct mbx_port *port, struct mbx_sub *sub);
void mbx_topic_sub_free(struct mbx_port *port, struct mbx_sub *sub);
int __mbx_topic_send(struct mbx_port *port, struct mbx_msg *msg,
		     bool nonblock, ktime_t *deadline);

/* topic_recv.c */
int mbx_topic_recv(struct file *file, struct mbx_recv *args,
		   struct mbx_recv __user *uargs, bool nonblock,
		   ktime_t *deadline);
ssize_t mbx_topic_read(struct file *file, char __user *buf, size_t len);
int mbx_topic_buf_release(struct file *file, u64 offset, u64 len);

/* subscribe.c */
long mbx_ioctl_subscribe(struct file *file, unsigned int cmd,
			 struct mbx_subscribe __user *uarg);
long mbx_ioctl_unsubscribe(struct file *file);
__poll_t mbx_topic_poll(struct file *file);
void mbx_topic_info(struct file *file, struct mbx_port_info *info);
void mbx_topic_show_fdinfo(struct seq_file *m, struct file *file);
void __mbx_topic_show_subs(struct seq_file *m, struct mbx_port *port);

/*
 * Whether @page, allocated by the module (one reference) and mapped, has
 * references beyond those: a pin (O_DIRECT, io_uring), a page spliced
 * into a pipe, a copy through /proc/PID/mem under way.  For seal.c and
 * ring_map.c, which must know that nobody can write it but through a
 * mapping.
 */
static inline bool mbx_page_pinned(struct page *page)
{
	return page_count(page) > 1 + mbx_page_mapcount(page);
}

/* ring.c */
bool mbx_ring_size_ok(u64 size);
u64 mbx_ring_charge(u64 size);
struct mbx_ring *mbx_ring_create(u64 size);
void mbx_ring_destroy(struct mbx_ring *ring);
void __mbx_ring_hangup(struct mbx_port *port);
void __mbx_ring_release_file(struct mbx_port *port, struct file *file);
void __mbx_ring_shutdown(struct mbx_port *port);
void mbx_ring_hangup_wake(struct mbx_port *port);
long mbx_ring_ioctl(struct file *file, unsigned int cmd, void __user *uarg);
__poll_t mbx_ring_poll(struct file *file);
int mbx_ring_mmap(struct file *file, struct vm_area_struct *vma);
void mbx_ring_show_fdinfo(struct seq_file *m, struct file *file);
void mbx_ring_show(struct seq_file *m, struct mbx_port *port);

/* debugfs.c */
void mbx_debugfs_init(void);
void mbx_debugfs_exit(void);

/* user.c */
int mbx_user_charge(kuid_t uid, u64 bytes, struct mbx_user *users[MBX_USERS]);
void mbx_user_uncharge(struct mbx_user *users[MBX_USERS], u64 bytes);

/**
 * mbx_vma_protect() - the protection every mapping of a port file gets
 * @vma:      a new shared mapping
 * @writable: whether the file may write what it maps
 *
 * A mapping that may not write is refused with write access and can never
 * get it later: without VM_MAYWRITE neither mprotect() nor a forced write
 * (/proc/PID/mem, process_vm_writev()) gets in.  No mapping is executable,
 * nor can become so, as on a noexec mount (which newer kernels make the
 * anonymous inodes' file system): what one process wrote is never run in
 * another.  No mapping grows, none is dumped.
 *
 * Context: mmap_lock held for writing.
 * Return: 0, -EPERM (execute access) or -EACCES (write access).
 */
static inline int mbx_vma_protect(struct vm_area_struct *vma, bool writable)
{
	if (vma->vm_flags & VM_EXEC)
		return -EPERM;
	vm_flags_clear(vma, VM_MAYEXEC);
	if (!writable) {
		if (vma->vm_flags & VM_WRITE)
			return -EACCES;
		vm_flags_clear(vma, VM_MAYWRITE);
	}
	vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	return 0;
}

/* The ioctl number with its size cleared, to match size-versioned structs. */
#define MBX_IOC_NOSIZE(cmd)	((cmd) & ~(_IOC_SIZEMASK << _IOC_SIZESHIFT))

/**
 * mbx_get_words() - copy a struct of 64-bit words in from user space
 * @dst:  the kernel's copy
 * @src:  the user's struct
 * @size: its size, a multiple of 8
 *
 * A word at a time rather than copy_from_user()'s string copy: for the
 * few dozen bytes of an ioctl argument, that is cheaper where a string
 * copy has a high fixed cost (as under emulation, ~30x dearer).
 *
 * Context: process context, may fault.
 * Return: 0 or -EFAULT.
 */
static __always_inline int mbx_get_words(void *dst, const void __user *src,
					 size_t size)
{
	const u64 __user *s = src;
	u64 *d = dst;
	size_t i;

	if (!user_access_begin(src, size))
		return -EFAULT;
	for (i = 0; i < size / sizeof(u64); i++)
		unsafe_get_user(d[i], &s[i], efault);
	user_access_end();
	return 0;
efault:
	user_access_end();
	return -EFAULT;
}

/**
 * mbx_put_recv() - write a receive's results out to user space
 * @dst:  the user's struct (its first version: every result is there)
 * @src:  the results
 *
 * As mbx_get_words(), the other way, word by word, the sender's (pid and
 * uid) last: results that name a sender are all written even when the
 * struct runs into a page that faults half-way.
 *
 * Context: process context, may fault.
 * Return: 0 or -EFAULT.
 */
static __always_inline int mbx_put_recv(struct mbx_recv __user *dst,
					const struct mbx_recv *src)
{
	const size_t who = offsetof(struct mbx_recv, pid) / sizeof(u64);
	u64 __user *d = (u64 __user *)dst;
	const u64 *s = (const u64 *)src;
	size_t i;

	BUILD_BUG_ON(offsetof(struct mbx_recv, pid) % sizeof(u64) ||
		     offsetof(struct mbx_recv, uid) / sizeof(u64) != who);
	if (!user_access_begin(dst, MBX_RECV_SIZE_VER0))
		return -EFAULT;
	for (i = 0; i < MBX_RECV_SIZE_VER0 / sizeof(u64); i++)
		if (i != who)
			unsafe_put_user(s[i], &d[i], efault);
	unsafe_put_user(s[who], &d[who], efault);
	user_access_end();
	return 0;
efault:
	user_access_end();
	return -EFAULT;
}

/**
 * mbx_copy_arg() - copy a size-versioned ioctl argument from user space
 * @dst:     kernel struct
 * @ksize:   its size
 * @minsize: the size of its first version
 * @cmd:     the ioctl number, whose size field is the user's struct size
 * @uarg:    the user's struct
 *
 * A user struct smaller than the first version is refused; a smaller one
 * (of any size from the first version's) is zero-extended, each field
 * then checked by its caller; a larger one must be zero past what this
 * module knows.  Inline, so that the usual case, a struct of the size
 * this module knows, is a word-by-word copy of constant size.
 *
 * Context: process context, may fault.
 * Return: 0, -EINVAL or -EFAULT.
 */
static __always_inline int mbx_copy_arg(void *dst, size_t ksize,
					size_t minsize, unsigned int cmd,
					const void __user *uarg)
{
	size_t usize = _IOC_SIZE(cmd);
	int ret;

	if (likely(usize == ksize))
		return ksize % sizeof(u64) ?
		       (copy_from_user(dst, uarg, ksize) ? -EFAULT : 0) :
		       mbx_get_words(dst, uarg, ksize);
	if (usize < minsize)
		return -EINVAL;
	ret = copy_struct_from_user(dst, ksize, uarg, usize);
	return ret == -E2BIG ? -EINVAL : ret;
}

#endif /* _MBX_H */
