/* SPDX-License-Identifier: LGPL-2.1 OR MIT */
/*
 * libmailbox: a thin C wrapper over the /dev/mailbox ioctls.
 *
 * Every function returns a non-negative result on success and -errno on
 * failure; errno is never relied upon (it may still be changed by the
 * underlying system call).  The one exception is the ring functions,
 * mbx_ring_*(): they return -1 (or NULL) and set errno on failure (see
 * "Rings" below).  Functions that take a control fd accept MBX_DEV_AUTO,
 * which opens /dev/mailbox for the duration of the call.
 */
#ifndef LIBMAILBOX_H
#define LIBMAILBOX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <linux/mailbox.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MBX_DEV_AUTO (-1)

/* Control device */
int mbx_dev_open(void);
int mbx_version(int dev, struct mbx_version *v);

/* Ports */
int mbx_port_create(int dev, const struct mbx_port_create *attr);
int mbx_port_open(int dev, const char *name, unsigned int flags);
int mbx_port_unlink(int dev, const char *name);
int mbx_port_info(int port, struct mbx_port_info *info);

/*
 * The named ports of the caller's IPC namespace, by increasing id: on
 * success *list is a malloc()ed array of the returned number of entries,
 * for the caller to free().
 */
int mbx_port_list(int dev, struct mbx_port_info **list);

/*
 * A new fd to the same port with no more access than @port has (MBX_SEND
 * and/or MBX_RECV, plus MBX_CLOEXEC, MBX_NONBLOCK).
 */
int mbx_port_dup(int port, unsigned int flags);

/*
 * Like pipe2(): an anonymous port as a receive-only fds[0] and a send-only
 * fds[1], so that closing every send end gives the receivers end of stream.
 * attr->flags' MBX_CLOEXEC and MBX_NONBLOCK apply to both fds.
 */
int mbx_port_pair(int dev, const struct mbx_port_create *attr, int fds[2]);
int mbx_shutdown(int port);

/* Sending: 0 on success */
int mbx_send(int port, const void *buf, size_t len, unsigned int prio);
int mbx_send_nonblock(int port, const void *buf, size_t len, unsigned int prio);
int mbx_send_timed(int port, const void *buf, size_t len, unsigned int prio,
		   uint64_t timeout_ns);
int mbx_send_ex(int port, struct mbx_send *args);

/* Receiving: the message length on success */
ssize_t mbx_recv(int port, void *buf, size_t len, unsigned int *prio);
ssize_t mbx_recv_nonblock(int port, void *buf, size_t len, unsigned int *prio);
ssize_t mbx_recv_timed(int port, void *buf, size_t len, unsigned int *prio,
		       uint64_t timeout_ns);
ssize_t mbx_recv_ex(int port, struct mbx_recv *args);

/*
 * Zero copy.  Map the port's pool once; allocate a region, write the payload
 * at mbx_buf_ptr(base, offset), send it; a receiver takes it in place, reads
 * it at mbx_buf_ptr(base, offset) and releases it.
 */
#define MBX_NO_OFFSET UINT64_MAX

int mbx_pool_map(int port, void **base, size_t *size);
int mbx_pool_unmap(void *base, size_t size);
int mbx_buf_alloc(int port, size_t len, uint64_t *offset);
int mbx_buf_alloc_ex(int port, struct mbx_buf *args);
int mbx_buf_send(int port, uint64_t offset, size_t len, unsigned int prio);
ssize_t mbx_recv_inplace(int port, uint64_t *offset, unsigned int *prio);
int mbx_buf_release(int port, uint64_t offset, size_t len);

/*
 * Zero copy in one call a side.  mbx_buf_send_next() sends the region at
 * @offset, then allocates the sender's next one of @next_len bytes, waiting
 * for space as a blocking fd does: *next_offset is MBX_NO_OFFSET if none
 * could be had (non-blocking fd, a signal, shutdown); the message was sent
 * all the same.  mbx_recv_inplace_release() releases the region
 * of the previous message, then receives the next in place; the release
 * stands even if the receive then fails.
 */
int mbx_buf_send_next(int port, uint64_t offset, size_t len,
		      unsigned int prio, size_t next_len, uint64_t *next_offset);
ssize_t mbx_recv_inplace_release(int port, uint64_t release_offset,
				 size_t release_len, uint64_t *offset,
				 unsigned int *prio);

/*
 * Sealed sends.  mbx_buf_alloc_pages() allocates a region that starts on a
 * page and covers whole pages; mbx_buf_send_sealed() sends such a region
 * sealed: from then until it is freed it is read-only in every mapping,
 * the sender's included, so a receiver reads exactly what was sent.
 */
int mbx_buf_alloc_pages(int port, size_t len, uint64_t *offset);
int mbx_buf_send_sealed(int port, uint64_t offset, size_t len,
			unsigned int prio);

/*
 * Request/reply in one call: send on @port, then receive on @reply_port
 * (-1: the same port).  Returns the reply's length.  *done (if not NULL)
 * says which halves completed (MBX_CALL_SENT, MBX_CALL_RECEIVED), on
 * failure too: -ETIMEDOUT with MBX_CALL_SENT means the request went out.
 * A server replies and waits for the next request with mbx_reply_recv().
 */
ssize_t mbx_call(int port, const void *req, size_t req_len, int reply_port,
		 void *reply, size_t reply_len, unsigned int *done);
ssize_t mbx_reply_recv(int reply_port, const void *reply, size_t reply_len,
		       int request_port, void *req, size_t req_len,
		       unsigned int *done);
int mbx_call_ex(int port, struct mbx_call *args);

/*
 * Batches: the number of messages that went through (>= 1), or -errno if
 * none did.  Only the first message waits; flags may hold MBX_NONBLOCK.
 * For a timeout use the MBX_IOC_SEND_BATCH / MBX_IOC_RECV_BATCH ioctls.
 */
int mbx_send_batch(int port, struct mbx_send *msgs, unsigned int count,
		   unsigned int flags);
int mbx_recv_batch(int port, struct mbx_recv *msgs, unsigned int count,
		   unsigned int flags);

/*
 * Register (or with MBX_NOTIFY_REMOVE, remove) the calling process's
 * notification on a port created with MBX_PORT_MQ: see struct mbx_notify.
 */
int mbx_notify(int port, const struct mbx_notify *args);

/*
 * Topics: a port created with MBX_PORT_TOPIC in attr->flags delivers every
 * message to every subscribed fd.  An fd opened or dup'ed with MBX_RECV
 * is subscribed at once with policy MBX_SUB_BLOCK and the topic's
 * capacity as its limits; the fd that created the topic is not.
 * mbx_subscribe() subscribes an fd, or changes the policy
 * (MBX_SUB_BLOCK, MBX_SUB_DROP_OLDEST) and backlog limits (0: the topic's
 * capacity, and capacity * max_msg_size bytes, plus the pool's size with
 * MBX_SUB_BLOCK) of a subscribed one, keeping its backlog;
 * mbx_unsubscribe() frees the backlog at once.
 * mbx_topic_recv() is mbx_recv() that also says how many messages this
 * subscriber lost to drop-oldest since its last receive (@dropped may be
 * NULL).
 */
int mbx_subscribe(int port, unsigned int policy, uint32_t max_msgs,
		  uint64_t max_bytes);
int mbx_unsubscribe(int port);
ssize_t mbx_topic_recv(int port, void *buf, size_t len, unsigned int *prio,
		       uint32_t *dropped);

/*
 * Rings (libmailbox 1.3): a port with a lock-free single-producer,
 * single-consumer ring of records that both sides map.  Unlike the rest
 * of this library, the mbx_ring_* functions return -1 (or NULL) and set
 * errno on failure, as the ring API was specified.  A struct mbx_ring is
 * used by one thread at a time.
 */
#define MBX_RING_FOREVER UINT64_MAX	/* timeout_ns: wait forever */
/* timeout_ns: 0 = do not wait (EAGAIN), else relative ns, CLOCK_MONOTONIC */

/*
 * A port with a ring of @ring_size bytes of records (power of two, >= a
 * page).  @flags: MBX_CLOEXEC, MBX_NONBLOCK as for ports.  Returns the
 * port fd (send+receive), anonymous when @name is NULL or "".
 */
int mbx_ring_port_create(int dev, const char *name, size_t ring_size,
			 unsigned int mode, unsigned int flags);

struct mbx_ring;			/* opaque */
#define MBX_RING_PRODUCER 1
#define MBX_RING_CONSUMER 2
int mbx_ring_attach(int port, unsigned int role, struct mbx_ring **ring);
void mbx_ring_detach(struct mbx_ring *ring);	/* unmaps; port fd stays open */
int mbx_ring_set_spin(struct mbx_ring *ring, uint64_t spin_ns);

/*
 * Producer.  reserve returns space for @len bytes in the record area
 * (NULL + errno: EAGAIN, ETIMEDOUT, EMSGSIZE, EPIPE when the consumer is
 * gone, EINTR, EPROTO when the shared positions are impossible, EDEADLK
 * when only a commit of the producer's own could make room).  commit
 * makes visible, in order, every record reserved since the last commit
 * (waking the consumer only if it asked for a wake-up).
 */
void *mbx_ring_reserve(struct mbx_ring *ring, size_t len, uint64_t timeout_ns);
int mbx_ring_commit(struct mbx_ring *ring);

/*
 * Consumer.  peek returns the next record not yet peeked, in place, and
 * its length (NULL + errno: EAGAIN, ETIMEDOUT, EPIPE at end of stream once
 * the ring is empty, EINTR, EPROTO).  release frees every record peeked
 * since the last release (waking the producer only if it asked).
 */
const void *mbx_ring_peek(struct mbx_ring *ring, size_t *len,
			  uint64_t timeout_ns);
int mbx_ring_release(struct mbx_ring *ring);

/*
 * Copying helpers: send = reserve + copy + commit; recv = peek + copy +
 * release (EMSGSIZE, record left in place, if @len is too small).
 */
int mbx_ring_send(struct mbx_ring *ring, const void *buf, size_t len,
		  uint64_t timeout_ns);
ssize_t mbx_ring_recv(struct mbx_ring *ring, void *buf, size_t len,
		      uint64_t timeout_ns);
/*
 * Batches: return how many records moved (>= 1, or -1 + errno); recv sets
 * each iov_len to the record length.  One commit / one release per batch.
 */
int mbx_ring_send_batch(struct mbx_ring *ring, const struct iovec *iov,
			unsigned int n, uint64_t timeout_ns);
int mbx_ring_recv_batch(struct mbx_ring *ring, struct iovec *iov,
			unsigned int n, uint64_t timeout_ns);

/* The port fd a ring was attached through (for poll/epoll). */
int mbx_ring_fd(const struct mbx_ring *ring);

static inline void *mbx_buf_ptr(void *base, uint64_t offset)
{
	return (char *)base + offset;
}

#ifdef __cplusplus
}
#endif

#endif /* LIBMAILBOX_H */
