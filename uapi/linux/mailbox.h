/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * mailbox: kernel message passing through /dev/mailbox.
 *
 * The control device creates and opens ports; every port is a file
 * descriptor on which messages are sent and received.  This header is the
 * whole interface between the kernel module and user space.
 *
 * Rules for every structure here: fixed-width types, natural alignment, no
 * implicit padding, user pointers as __u64, unknown flag bits and non-zero
 * reserved fields are rejected with EINVAL.  Structures that may grow are
 * size-versioned through _IOC_SIZE() of the ioctl number.
 */
#ifndef _UAPI_LINUX_MAILBOX_H
#define _UAPI_LINUX_MAILBOX_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define MBX_DEVICE_PATH		"/dev/mailbox"
#define MBX_API_VERSION		1

/* Port names: 1..MBX_NAME_MAX bytes, no '/', NUL-terminated in the field. */
#define MBX_NAME_MAX		63
#define MBX_NAME_LEN		(MBX_NAME_MAX + 1)

/* Message priorities: higher first, FIFO within one priority. */
#define MBX_PRIO_MAX		31

/* Feature bits reported by MBX_IOC_VERSION. */
#define MBX_FEAT_PORTS		0x1ULL	/* copy-mode ports, names */
#define MBX_FEAT_POOL		0x2ULL	/* zero-copy buffer pool */
#define MBX_FEAT_CALL		0x4ULL	/* MBX_IOC_CALL */
#define MBX_FEAT_BATCH		0x8ULL	/* MBX_IOC_SEND_BATCH, MBX_IOC_RECV_BATCH */
#define MBX_FEAT_LIST		0x10ULL	/* MBX_IOC_PORT_LIST */
#define MBX_FEAT_MQ		0x20ULL	/* MBX_PORT_MQ ports */
#define MBX_FEAT_NOTIFY		0x40ULL	/* MBX_IOC_NOTIFY */
#define MBX_FEAT_BUF_NEXT	0x80ULL	/* MBX_SEND_NEXT, MBX_RECV_RELEASE */
#define MBX_FEAT_TOPIC		0x100ULL /* MBX_PORT_TOPIC, MBX_IOC_SUBSCRIBE */
#define MBX_FEAT_SEAL		0x200ULL /* MBX_SEND_SEALED, MBX_BUF_PAGES */
#define MBX_FEAT_RING		0x400ULL /* MBX_PORT_RING, MBX_IOC_RING_* */

/*
 * Flags of MBX_IOC_PORT_CREATE and MBX_IOC_PORT_OPEN (the new fd's file
 * flags), and the access bits of MBX_IOC_PORT_OPEN.
 */
#define MBX_CLOEXEC		0x1U
#define MBX_NONBLOCK		0x2U
#define MBX_SEND		0x4U	/* the fd may send */
#define MBX_RECV		0x8U	/* the fd may receive */

/* Flags of MBX_IOC_SEND, MBX_IOC_RECV and MBX_IOC_BUF_ALLOC (with MBX_NONBLOCK). */
#define MBX_TIMEOUT		0x10U	/* timeout_ns is a CLOCK_MONOTONIC timeout */
#define MBX_ABSTIME		0x20U	/* with MBX_TIMEOUT: timeout_ns is absolute */
#define MBX_SEND_BUF		0x40U	/* send: (offset, len) is a pool region */
#define MBX_RECV_INPLACE	0x80U	/* recv: leave a pool message in the pool */
/* send, with MBX_SEND_BUF: also allocate the next region (next_len, next_offset) */
#define MBX_SEND_NEXT		0x100U
/* recv: first release a region (release_offset, release_len) */
#define MBX_RECV_RELEASE	0x200U
/*
 * send, with MBX_SEND_BUF: seal the region: read-only in every mapping,
 * the sender's included, until it is freed.  The region must start on a
 * page and cover whole pages (allocate it with MBX_BUF_PAGES).
 */
#define MBX_SEND_SEALED		0x400U
/* MBX_IOC_BUF_ALLOC: a region that starts on a page and covers whole pages */
#define MBX_BUF_PAGES		0x800U

/* next_offset when MBX_SEND_NEXT could not allocate the next region. */
#define MBX_OFFSET_NONE		(~(__u64)0)

/*
 * Flag of MBX_IOC_PORT_CREATE only: a port for POSIX message queue use
 * (libmailbox-mq).  Its messages take priorities 0..MBX_MQ_PRIO_MAX, it
 * takes MBX_IOC_NOTIFY, and it never reaches end of stream: like a POSIX
 * queue, it stays usable through every fd left open after it is unlinked.
 */
#define MBX_PORT_MQ		0x1000U
#define MBX_MQ_PRIO_MAX		32767	/* MQ_PRIO_MAX - 1 */

/*
 * Flag of MBX_IOC_PORT_CREATE only: a topic (publish/subscribe).  Every
 * message goes to every subscriber, each with a backlog of its own (struct
 * mbx_subscribe).  Not with MBX_PORT_MQ, nor with capacity 0.
 */
#define MBX_PORT_TOPIC		0x2000U

/*
 * Flag of MBX_IOC_PORT_CREATE only: a ring port.  The port owns a
 * single-producer, single-consumer ring of mbx_port_create.ring_size bytes
 * of records that both sides map (see "Rings" below).  Not with
 * MBX_PORT_MQ or MBX_PORT_TOPIC; capacity, max_msg_size and pool_size
 * must be 0.
 */
#define MBX_PORT_RING		0x4000U

/* mbx_recv.msg_flags */
#define MBX_MSG_BUF		0x1U	/* the message is a pool region */
/* topic: messages were dropped before this one (mbx_recv.dropped) */
#define MBX_MSG_DROPPED		0x2U
#define MBX_MSG_SEALED		0x8U	/* its pool region is sealed: read-only */

/**
 * struct mbx_version - answer of MBX_IOC_VERSION
 * @version:  MBX_API_VERSION of the running module
 * @reserved: zero
 * @features: MBX_FEAT_* bits
 */
struct mbx_version {
	__u32 version;
	__u32 reserved;
	__u64 features;
};

/**
 * struct mbx_port_create - argument of MBX_IOC_PORT_CREATE
 * @flags:        MBX_CLOEXEC, MBX_NONBLOCK for the returned fd; MBX_PORT_MQ,
 *                MBX_PORT_TOPIC, MBX_PORT_RING
 * @capacity:     messages the queue holds; 0 makes a rendezvous port
 * @max_msg_size: largest message in bytes; 0 takes the module's default
 * @mode:         permission bits (0777) checked by MBX_IOC_PORT_OPEN
 * @pool_size:    bytes of zero-copy pool; 0 means no pool
 * @name:         NUL-terminated name, or empty for an anonymous port
 * @ring_size:    with MBX_PORT_RING: bytes of the ring's record area, a
 *                power of two, at least a page and at most the
 *                max_pool_size module parameter; else 0
 *
 * The ioctl returns a new port fd that may send and receive.
 *
 * Size-versioned: MBX_PORT_CREATE_SIZE_VER0 (88 bytes, without
 * @ring_size) is still accepted.
 */
struct mbx_port_create {
	__u32 flags;
	__u32 capacity;
	__u32 max_msg_size;
	__u32 mode;
	__u64 pool_size;
	char name[MBX_NAME_LEN];
	__u64 ring_size;
};

#define MBX_PORT_CREATE_SIZE_VER0	88	/* up to @name */
#define MBX_PORT_CREATE_SIZE_VER1	96	/* @ring_size */

/**
 * struct mbx_port_open - argument of MBX_IOC_PORT_OPEN
 * @flags:    MBX_SEND and/or MBX_RECV (at least one), MBX_CLOEXEC, MBX_NONBLOCK
 * @reserved: zero
 * @name:     NUL-terminated name of a port in the caller's IPC namespace
 *
 * The ioctl returns a new port fd.
 */
struct mbx_port_open {
	__u32 flags;
	__u32 reserved;
	char name[MBX_NAME_LEN];
};

/**
 * struct mbx_port_unlink - argument of MBX_IOC_PORT_UNLINK
 * @flags:    zero
 * @reserved: zero
 * @name:     NUL-terminated name to remove
 */
struct mbx_port_unlink {
	__u32 flags;
	__u32 reserved;
	char name[MBX_NAME_LEN];
};

/**
 * struct mbx_port_dup - argument of MBX_IOC_PORT_DUP
 * @flags:    MBX_SEND and/or MBX_RECV (at least one, and no more than the
 *            fd has), MBX_CLOEXEC, MBX_NONBLOCK
 * @reserved: zero
 *
 * The ioctl returns a new fd to the same port with the asked access, so a
 * port fd can be narrowed into a send-only and a receive-only end.
 */
struct mbx_port_dup {
	__u32 flags;
	__u32 reserved;
};

/**
 * struct mbx_send - argument of MBX_IOC_SEND
 * @buf:         user pointer to the payload (copy mode), else 0
 * @len:         payload length in bytes
 * @offset:      pool offset of the payload with MBX_SEND_BUF, else 0
 * @tag:         opaque value handed to the receiver
 * @timeout_ns:  with MBX_TIMEOUT, nanoseconds (relative, or absolute
 *               CLOCK_MONOTONIC with MBX_ABSTIME)
 * @flags:       MBX_NONBLOCK, MBX_TIMEOUT, MBX_ABSTIME, MBX_SEND_BUF,
 *               MBX_SEND_NEXT, MBX_SEND_SEALED
 * @prio:        0..MBX_PRIO_MAX
 * @next_len:    in, with MBX_SEND_NEXT: length of the next region to
 *               allocate once the message is sent, 1..pool size
 * @next_offset: out, with MBX_SEND_NEXT: its offset, or MBX_OFFSET_NONE if
 *               it could not be had (the message was sent all the same)
 *
 * Size-versioned: MBX_SEND_SIZE_VER0 (48 bytes, without @next_len and
 * @next_offset) is still accepted.  struct mbx_call and the entries of
 * MBX_IOC_SEND_BATCH embed it too (see there).
 */
struct mbx_send {
	__u64 buf;
	__u64 len;
	__u64 offset;
	__u64 tag;
	__u64 timeout_ns;
	__u32 flags;
	__u32 prio;
	__u64 next_len;
	__u64 next_offset;
};

#define MBX_SEND_SIZE_VER0	48	/* up to @prio */
#define MBX_SEND_SIZE_VER1	64	/* @next_len, @next_offset */

/**
 * struct mbx_recv - argument of MBX_IOC_RECV
 * @buf:        user pointer to the receive buffer (may be 0 if @len is 0)
 * @len:        in: buffer size; out: message length (also on EMSGSIZE)
 * @offset:     out: pool offset of an in-place message
 * @tag:        out: the sender's tag
 * @timeout_ns: in: as for struct mbx_send
 * @flags:      in: MBX_NONBLOCK, MBX_TIMEOUT, MBX_ABSTIME, MBX_RECV_INPLACE
 * @prio:       out: the message's priority
 * @pid:        out: sender's process id in the receiver's pid namespace,
 *              0 if it has none there
 * @uid:        out: sender's uid in the receiver's user namespace
 * @msg_flags:  out: MBX_MSG_BUF if @offset names a pool region now held
 *              by the caller; MBX_MSG_SEALED if the message's region is
 *              sealed (MBX_SEND_SEALED); MBX_MSG_DROPPED if @dropped is
 *              not zero
 * @dropped:    zero in; out, on a topic: messages this subscriber lost
 *              (drop-oldest) since its last receive, else zero (this was
 *              the zero @reserved field before topics; a caller that
 *              reuses the struct clears it, as it resets @len)
 * @release_offset: in, with MBX_RECV_RELEASE: a region the caller holds,
 *              released before the receive starts
 * @release_len: in, with MBX_RECV_RELEASE: its length
 *
 * Size-versioned: MBX_RECV_SIZE_VER0 (64 bytes, without @release_offset
 * and @release_len) is still accepted.  Results are written back to the
 * first MBX_RECV_SIZE_VER0 bytes only.
 */
struct mbx_recv {
	__u64 buf;
	__u64 len;
	__u64 offset;
	__u64 tag;
	__u64 timeout_ns;
	__u32 flags;
	__u32 prio;
	__s32 pid;
	__u32 uid;
	__u32 msg_flags;
	__u32 dropped;
	__u64 release_offset;
	__u64 release_len;
};

#define MBX_RECV_SIZE_VER0	64	/* up to @dropped */
#define MBX_RECV_SIZE_VER1	80	/* @release_offset, @release_len */

/* struct mbx_port_info.state */
#define MBX_STATE_NAMED		0x1U	/* reachable by name now */
#define MBX_STATE_SHUTDOWN	0x2U
#define MBX_STATE_TOPIC		0x4U	/* created with MBX_PORT_TOPIC */
#define MBX_STATE_MQ		0x8U	/* created with MBX_PORT_MQ */
#define MBX_STATE_RING		0x10U	/* created with MBX_PORT_RING */
/* MBX_IOC_PORT_LIST: the caller may not open it; its counters read zero */
#define MBX_STATE_HIDDEN	0x20U

/* struct mbx_port_info.sub_state: the calling fd's subscription */
#define MBX_SUB_ACTIVE		0x1U	/* subscribed */
#define MBX_SUB_DROPPING	0x2U	/* policy MBX_SUB_DROP_OLDEST */

/**
 * struct mbx_port_info - answer of MBX_IOC_PORT_INFO
 * @id:             port id, unique while the module is loaded
 * @capacity:       as created
 * @max_msg_size:   as created
 * @pool_size:      as created
 * @pool_free:      bytes of the pool not held by anyone
 * @mode:           permission bits
 * @uid:            owner, in the caller's user namespace
 * @gid:            group, in the caller's user namespace
 * @state:          MBX_STATE_* bits
 * @access:         MBX_SEND / MBX_RECV of this fd
 * @queued:         messages in the queue now
 * @senders:        open fds that may send
 * @receivers:      open fds that may receive
 * @send_waiting:   callers blocked in send now
 * @recv_waiting:   callers blocked in receive now
 * @sent:           messages sent since creation
 * @received:       messages received since creation
 * @bytes_sent:     payload bytes sent
 * @bytes_received: payload bytes received
 * @send_waits:     sends that had to block
 * @recv_waits:     receives that had to block
 * @name:           name given at creation, empty if anonymous
 * @subscribers:    topic: fds subscribed now
 * @sub_state:      topic, this fd: MBX_SUB_* bits
 * @sub_depth:      topic, this fd: messages in its backlog
 * @sub_max_msgs:   topic, this fd: its backlog's limit in messages
 * @sub_bytes:      topic, this fd: payload bytes in its backlog
 * @sub_dropped:    topic, this fd: messages dropped since it subscribed
 *
 * On a port that is not a topic, the topic fields are zero.  They took
 * the place of a zeroed __u64 reserved[4]: the size did not change.
 */
struct mbx_port_info {
	__u64 id;
	__u32 capacity;
	__u32 max_msg_size;
	__u64 pool_size;
	__u64 pool_free;
	__u32 mode;
	__u32 uid;
	__u32 gid;
	__u32 state;
	__u32 access;
	__u32 queued;
	__u32 senders;
	__u32 receivers;
	__u32 send_waiting;
	__u32 recv_waiting;
	__u64 sent;
	__u64 received;
	__u64 bytes_sent;
	__u64 bytes_received;
	__u64 send_waits;
	__u64 recv_waits;
	char name[MBX_NAME_LEN];
	__u32 subscribers;
	__u32 sub_state;
	__u32 sub_depth;
	__u32 sub_max_msgs;
	__u64 sub_bytes;
	__u64 sub_dropped;
};

/**
 * struct mbx_port_list - argument of MBX_IOC_PORT_LIST
 * @ports:    user pointer to @count struct mbx_port_info
 * @count:    in: room in @ports; out: entries filled
 * @total:    out: named ports in the caller's IPC namespace
 * @flags:    zero
 * @reserved: zero
 *
 * Lists the named ports of the caller's IPC namespace, as ipcs(1) does for
 * System V objects, by increasing id; their access field is zero.  A port
 * the caller may not open says MBX_STATE_HIDDEN: its id, name, owner, mode,
 * sizes and state are there, its counters and @pool_free are zero.  With
 * @count smaller than @total, the first @count are filled: call again with
 * room for @total.
 */
struct mbx_port_list {
	__u64 ports;
	__u32 count;
	__u32 total;
	__u32 flags;
	__u32 reserved;
};

/**
 * struct mbx_buf - argument of MBX_IOC_BUF_ALLOC and MBX_IOC_BUF_RELEASE
 * @offset:     alloc out / release in: offset of the region in the pool
 * @len:        alloc in / release in: length of the region
 * @timeout_ns: alloc: as for struct mbx_send
 * @flags:      alloc: MBX_NONBLOCK, MBX_TIMEOUT, MBX_ABSTIME, MBX_BUF_PAGES;
 *              release: 0
 * @reserved:   zero
 */
struct mbx_buf {
	__u64 offset;
	__u64 len;
	__u64 timeout_ns;
	__u32 flags;
	__u32 reserved;
};

/* struct mbx_call.done */
#define MBX_CALL_SENT		0x1U	/* the send half completed */
#define MBX_CALL_RECEIVED	0x2U	/* the receive half completed */

/**
 * struct mbx_call - argument of MBX_IOC_CALL: send, then receive
 * @send:     the message to send on the fd the ioctl is called on
 * @recv:     the message to receive, on @recv_fd
 * @recv_fd:  port fd to receive from, or -1 for the same fd
 * @flags:    zero
 * @done:     out: MBX_CALL_SENT, MBX_CALL_RECEIVED, also on failure
 * @reserved: zero
 *
 * A client calls it on the request port with its reply port as @recv_fd; a
 * server calls it on the reply port with the request port as @recv_fd to
 * reply and wait for the next request.  Each half has its own flags and
 * timeout.  If the receive half fails, the sent message stays sent: the call
 * fails with the receive's error and @done says MBX_CALL_SENT.
 *
 * Size-versioned by the whole layout: a call of MBX_CALL_SIZE_VER0 bytes
 * holds the VER0 forms of @send and @recv (48 and 64 bytes) and is still
 * accepted, without MBX_SEND_NEXT and MBX_RECV_RELEASE.
 */
struct mbx_call {
	struct mbx_send send;
	struct mbx_recv recv;
	__s32 recv_fd;
	__u32 flags;
	__u32 done;
	__u32 reserved;
};

#define MBX_CALL_SIZE_VER0	128	/* VER0 @send and @recv */
#define MBX_CALL_SIZE_VER1	160

#define MBX_BATCH_MAX		1024

/**
 * struct mbx_batch - argument of MBX_IOC_SEND_BATCH and MBX_IOC_RECV_BATCH
 * @msgs:       user pointer to @count struct mbx_send (or struct mbx_recv)
 * @count:      1..MBX_BATCH_MAX
 * @flags:      MBX_NONBLOCK, MBX_TIMEOUT, MBX_ABSTIME, for the first message
 * @timeout_ns: as for struct mbx_send
 * @done:       out: how many messages went through, also on failure
 * @reserved:   zero
 * @entry_size: bytes per entry: 0 for MBX_SEND_SIZE_VER1 or
 *              MBX_RECV_SIZE_VER1, or the size of any version of the entry
 * @reserved2:  zero
 *
 * The first message waits as the flags say; the batch then goes on while
 * no message would block, and stops at the first that would, or that
 * fails.  The ioctl returns the number done (at least 1), or -errno when
 * none went through.  Each entry's own flags may only hold MBX_SEND_BUF
 * (send) or MBX_RECV_INPLACE (receive); a receive entry's results are
 * written back in place.
 *
 * Size-versioned: a struct mbx_batch of MBX_BATCH_SIZE_VER0 bytes (without
 * @entry_size and @reserved2) is still accepted, and its entries are then
 * of the VER0 sizes (48 and 64 bytes).
 */
struct mbx_batch {
	__u64 msgs;
	__u32 count;
	__u32 flags;
	__u64 timeout_ns;
	__u32 done;
	__u32 reserved;
	__u32 entry_size;
	__u32 reserved2;
};

#define MBX_BATCH_SIZE_VER0	32	/* VER0 entries */
#define MBX_BATCH_SIZE_VER1	40	/* @entry_size */
/* struct mbx_notify.type: what a notification does when it fires */
#define MBX_NOTIFY_NONE		1	/* nothing (SIGEV_NONE) */
#define MBX_NOTIFY_SIGNAL	2	/* queue signal @signo with @value */
#define MBX_NOTIFY_EVENTFD	3	/* add 1 to the eventfd @fd */

/* struct mbx_notify.flags */
#define MBX_NOTIFY_REMOVE	0x1U	/* remove the caller's registration */

/**
 * struct mbx_notify - argument of MBX_IOC_NOTIFY, on a MBX_PORT_MQ port
 * @flags:    0 to register, MBX_NOTIFY_REMOVE to unregister
 * @type:     MBX_NOTIFY_*; 0 with MBX_NOTIFY_REMOVE
 * @signo:    MBX_NOTIFY_SIGNAL: the signal (0 sends none), else 0
 * @fd:       MBX_NOTIFY_EVENTFD: an eventfd, else 0
 * @value:    MBX_NOTIFY_SIGNAL: si_value of the signal, else 0
 * @reserved: zero
 *
 * As mq_notify(3) says: one process at a time holds a port's registration
 * (another one gets EBUSY); it fires once, when a message is queued on an
 * empty port while no receiver is waiting, and is then removed.  The
 * signal (si_code SI_MESGQ, si_pid and si_uid of the sender) goes to the
 * registering process.  Unregistering removes the caller's own
 * registration and succeeds if there is none; the registration also goes
 * when its process closes an fd of the port, and when the port's last fd
 * is closed.
 */
struct mbx_notify {
	__u32 flags;
	__u32 type;
	__s32 signo;
	__s32 fd;
	__u64 value;
	__u64 reserved;
};

/* struct mbx_subscribe.policy: what a full backlog does to a publisher */
#define MBX_SUB_BLOCK		0	/* the publisher waits (or EAGAIN) */
#define MBX_SUB_DROP_OLDEST	1	/* the backlog loses its oldest message */

/**
 * struct mbx_subscribe - argument of MBX_IOC_SUBSCRIBE, on a topic fd that
 * may receive
 * @flags:     zero
 * @policy:    MBX_SUB_BLOCK or MBX_SUB_DROP_OLDEST
 * @max_msgs:  backlog limit in messages, 1..capacity; 0 means capacity
 * @reserved:  zero
 * @max_bytes: backlog limit in payload bytes (a pool region counts its
 *             length), 1..capacity * max_msg_size + pool_size; 0 means
 *             that maximum with MBX_SUB_BLOCK, capacity * max_msg_size
 *             with MBX_SUB_DROP_OLDEST.  A message always fits an empty
 *             backlog, whatever its size.
 *
 * Subscribes the fd, which then gets every message sent from now on; on
 * an fd already subscribed, changes its policy and limits and keeps its
 * backlog.  Size-versioned through _IOC_SIZE() like struct mbx_send.
 */
struct mbx_subscribe {
	__u32 flags;
	__u32 policy;
	__u32 max_msgs;
	__u32 reserved;
	__u64 max_bytes;
};

/*
 * Rings.  A port created with MBX_PORT_RING owns a ring: a producer page,
 * a consumer page, a status page and a record area of ring_size bytes,
 * all kernel memory that user space maps through the port fd at the
 * offsets below (MAP_SHARED, each part whole, with its own mmap() call).
 * The record area is mapped twice back to back (2 * ring_size bytes), so
 * that a record that wraps is contiguous.  MBX_IOC_RING_INFO tells where
 * each word lives: no program hard-codes that layout.
 *
 * A file that attached as the producer (MBX_IOC_RING_ATTACH) may map the
 * producer page and the record area writable; as the consumer, the
 * consumer page.  Every other mapping is read-only and can never be made
 * writable; the status page is written by the kernel only.
 *
 * Records: a struct mbx_ring_rec header, the payload, padding to
 * MBX_RING_ALIGN bytes.  Positions are free-running byte counts (__u64),
 * masked by ring_size - 1.  The producer writes records at its position
 * and then publishes the new position with a release store; the consumer
 * reads records from its position up to the producer's (read with an
 * acquire load) and frees them by publishing its new position with a
 * release store.  0 <= producer - consumer <= ring_size, always; a side
 * that finds otherwise (or a record longer than what was published) must
 * treat the ring as corrupt: nothing the other side writes is trusted.
 */
#define MBX_RING_OFF_PRODUCER	0x00000000ULL	/* producer page */
#define MBX_RING_OFF_CONSUMER	0x10000000ULL	/* consumer page */
#define MBX_RING_OFF_STATUS	0x20000000ULL	/* status page, read-only */
#define MBX_RING_OFF_DATA	0x40000000ULL	/* record area, twice */

#define MBX_RING_ALIGN		8	/* records start on 8 bytes */

/**
 * struct mbx_ring_rec - the header of one record
 * @len:   payload bytes that follow, at most ring_size - 8
 * @flags: zero (readers ignore it)
 */
struct mbx_ring_rec {
	__u32 len;
	__u32 flags;
};

/* Roles of MBX_IOC_RING_ATTACH and MBX_IOC_RING_ENTER, bits of mbx_ring_info.roles */
#define MBX_RING_ROLE_PRODUCER	0x1U
#define MBX_RING_ROLE_CONSUMER	0x2U

/* The flags word of each side's page: bits that side sets for the other. */
#define MBX_RING_NEED_WAKEUP	0x1U	/* wake me (MBX_RING_ENTER_WAKE) */
/*
 * Set by poll() on the side's file: that side may wait in poll() or epoll,
 * edge-triggered, where poll() is not asked again; so it sets its
 * MBX_RING_NEED_WAKEUP whenever it finds nothing to do (EAGAIN), not only
 * before it sleeps in MBX_IOC_RING_ENTER.
 */
#define MBX_RING_POLLED		0x2U

/* The status word (kernel-written) */
#define MBX_RING_ST_PRODUCER	0x1U	/* a producer is attached */
#define MBX_RING_ST_CONSUMER	0x2U	/* a consumer is attached */
/*
 * A side is gone when its holder's file was released, or when no fd that
 * could take the role is left; the next holder clears it.
 */
#define MBX_RING_ST_PRODUCER_GONE 0x4U
#define MBX_RING_ST_CONSUMER_GONE 0x8U
#define MBX_RING_ST_SHUTDOWN	0x10U	/* MBX_IOC_SHUTDOWN was called */

/**
 * struct mbx_ring_info - answer of MBX_IOC_RING_INFO
 * @flags:          in: zero
 * @roles:          out: MBX_RING_ROLE_* this file holds
 * @ring_size:      bytes of the record area
 * @producer_off:   mmap offset of the producer page
 * @consumer_off:   mmap offset of the consumer page
 * @status_off:     mmap offset of the status page
 * @data_off:       mmap offset of the record area (map 2 * @ring_size)
 * @page_size:      bytes to map at each of the three page offsets
 * @producer_pos:   offset in the producer page of its position (__u64)
 * @producer_flags: offset in the producer page of its flags (__u32)
 * @consumer_pos:   offset in the consumer page of its position (__u64)
 * @consumer_flags: offset in the consumer page of its flags (__u32)
 * @status:         offset in the status page of the status word (__u32)
 * @now_produced:   the producer position now (as the producer wrote it)
 * @now_consumed:   the consumer position now (as the consumer wrote it)
 * @now_pflags:     the producer flags word now
 * @now_cflags:     the consumer flags word now
 * @now_status:     the status word now
 * @reserved:       zero
 *
 * Size-versioned through _IOC_SIZE(): a caller may pass a larger struct
 * (cleared past this one) or, later, get more fields.
 */
struct mbx_ring_info {
	__u32 flags;
	__u32 roles;
	__u64 ring_size;
	__u64 producer_off;
	__u64 consumer_off;
	__u64 status_off;
	__u64 data_off;
	__u32 page_size;
	__u32 producer_pos;
	__u32 producer_flags;
	__u32 consumer_pos;
	__u32 consumer_flags;
	__u32 status;
	__u64 now_produced;
	__u64 now_consumed;
	__u32 now_pflags;
	__u32 now_cflags;
	__u32 now_status;
	__u32 reserved;
};

/**
 * struct mbx_ring_attach - argument of MBX_IOC_RING_ATTACH
 * @role:     MBX_RING_ROLE_PRODUCER (the fd may send) or
 *            MBX_RING_ROLE_CONSUMER (the fd may receive)
 * @flags:    zero
 *
 * One producer and one consumer per ring: another file asking for a role
 * held gets EBUSY; the file holding it may ask again.  The role belongs to
 * the open file (fork and fd passing share it) until the file is released
 * (every fd closed and every mapping made through it unmapped).
 */
struct mbx_ring_attach {
	__u32 role;
	__u32 flags;
};

/* struct mbx_ring_enter.flags, with MBX_NONBLOCK, MBX_TIMEOUT, MBX_ABSTIME */
#define MBX_RING_ENTER_WAKE	0x10000U	/* first wake the other side */
#define MBX_RING_ENTER_WAIT	0x20000U	/* then wait as @role */

/**
 * struct mbx_ring_enter - argument of MBX_IOC_RING_ENTER
 * @flags:      MBX_RING_ENTER_WAKE and/or MBX_RING_ENTER_WAIT, and for the
 *              wait MBX_NONBLOCK, MBX_TIMEOUT, MBX_ABSTIME
 * @role:       the caller's role (held by the file)
 * @pos:        wait: the caller's own position (consumer: the next record
 *              it would read; producer: the end of what it reserved)
 * @want:       producer wait: bytes of room wanted past @pos; else 0
 * @timeout_ns: as for struct mbx_send
 *
 * The wait sets the caller's MBX_RING_NEED_WAKEUP, then sleeps until the
 * consumer sees the producer position differ from @pos, or the producer
 * sees @want bytes free past @pos (or the positions are impossible: the
 * caller then checks them), or the stream ends (EPIPE).
 */
struct mbx_ring_enter {
	__u32 flags;
	__u32 role;
	__u64 pos;
	__u64 want;
	__u64 timeout_ns;
};

#define MBX_IOC_MAGIC		0xB8

/* On /dev/mailbox */
#define MBX_IOC_VERSION		_IOR(MBX_IOC_MAGIC, 0x00, struct mbx_version)
#define MBX_IOC_PORT_CREATE	_IOW(MBX_IOC_MAGIC, 0x01, struct mbx_port_create)
#define MBX_IOC_PORT_OPEN	_IOW(MBX_IOC_MAGIC, 0x02, struct mbx_port_open)
#define MBX_IOC_PORT_UNLINK	_IOW(MBX_IOC_MAGIC, 0x03, struct mbx_port_unlink)
#define MBX_IOC_PORT_LIST	_IOWR(MBX_IOC_MAGIC, 0x04, struct mbx_port_list)

/* On a port fd */
/*
 * MBX_IOC_SEND writes next_offset back (MBX_SEND_NEXT) although it is
 * numbered _IOW: the number keeps the direction of its first version, so
 * that a module of that version still takes the larger struct.
 */
#define MBX_IOC_SEND		_IOW(MBX_IOC_MAGIC, 0x10, struct mbx_send)
#define MBX_IOC_RECV		_IOWR(MBX_IOC_MAGIC, 0x11, struct mbx_recv)
#define MBX_IOC_PORT_INFO	_IOR(MBX_IOC_MAGIC, 0x12, struct mbx_port_info)
#define MBX_IOC_SHUTDOWN	_IO(MBX_IOC_MAGIC, 0x13)
#define MBX_IOC_BUF_ALLOC	_IOWR(MBX_IOC_MAGIC, 0x14, struct mbx_buf)
#define MBX_IOC_BUF_RELEASE	_IOW(MBX_IOC_MAGIC, 0x15, struct mbx_buf)
#define MBX_IOC_CALL		_IOWR(MBX_IOC_MAGIC, 0x16, struct mbx_call)
#define MBX_IOC_SEND_BATCH	_IOWR(MBX_IOC_MAGIC, 0x17, struct mbx_batch)
#define MBX_IOC_RECV_BATCH	_IOWR(MBX_IOC_MAGIC, 0x18, struct mbx_batch)
#define MBX_IOC_PORT_DUP	_IOW(MBX_IOC_MAGIC, 0x19, struct mbx_port_dup)
#define MBX_IOC_NOTIFY		_IOW(MBX_IOC_MAGIC, 0x1A, struct mbx_notify)
#define MBX_IOC_SUBSCRIBE	_IOW(MBX_IOC_MAGIC, 0x1B, struct mbx_subscribe)
#define MBX_IOC_UNSUBSCRIBE	_IO(MBX_IOC_MAGIC, 0x1C)
#define MBX_IOC_RING_INFO	_IOWR(MBX_IOC_MAGIC, 0x1D, struct mbx_ring_info)
#define MBX_IOC_RING_ATTACH	_IOW(MBX_IOC_MAGIC, 0x1E, struct mbx_ring_attach)
#define MBX_IOC_RING_ENTER	_IOW(MBX_IOC_MAGIC, 0x1F, struct mbx_ring_enter)

#endif /* _UAPI_LINUX_MAILBOX_H */
