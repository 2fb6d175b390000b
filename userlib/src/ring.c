// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * libmailbox: the ring of a ring port, as its producer or its consumer.
 *
 * The hot path makes no system call: the producer writes records into the
 * record area and publishes its position with a release store; the
 * consumer reads them in place and publishes its own position the same
 * way.  A side that finds nothing to do spins for a while (spin_ns), then
 * sets MBX_RING_NEED_WAKEUP on its own page, and after a full barrier
 * checks again before it sleeps in MBX_IOC_RING_ENTER; the other side,
 * after publishing and a full barrier, enters the kernel only if it sees
 * that flag.  Either the sleeper's second check sees the new position or
 * the publisher sees the flag (each side stores, then loads the other's
 * word, with a full barrier between), so no wake-up is lost; the kernel
 * checks the positions again after it queued the sleeper.
 *
 * Nothing the other side can write is trusted: the positions it publishes
 * and the record headers are checked before anything is read through them
 * (EPROTO), and the library keeps its own position in private memory,
 * never reading it back from the shared page.  A record's length is read
 * once; every pointer handed out lies inside the mapping.
 *
 * Unlike the rest of libmailbox, these functions report errors as -1 (or
 * NULL) with errno, as the ring API was specified.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/uio.h>
#ifdef __SSE2__
#include <immintrin.h>
#endif

#include "internal.h"

/* Default spin before sleeping: as the module's recv_spin_ns. */
#define RING_SPIN_DEFAULT_NS	50000ULL
/* The longest spin mbx_ring_set_spin() takes: 10 ms. */
#define RING_SPIN_MAX_NS	10000000ULL
/* Spin iterations between two clock reads. */
#define RING_SPIN_BATCH		64

struct mbx_ring {
	int port;
	unsigned int role;
	uint64_t size;
	uint64_t mask;
	uint64_t spin_ns;
	size_t page_len;
	void *prod_map;
	void *cons_map;
	void *status_map;
	unsigned char *data;		/* 2 * size bytes */
	uint64_t *prod_pos;
	uint32_t *prod_flags;
	uint64_t *cons_pos;
	uint32_t *cons_flags;
	const uint32_t *status;
	/* Producer: end of what was reserved, and what was published. */
	uint64_t head;
	uint64_t committed;
	/* Consumer: the next record to peek, and what was published. */
	uint64_t tail;
	uint64_t released;
	/* The other side's position as last read. */
	uint64_t peer;
};

static inline uint64_t load_acquire(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void store_release(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static inline uint32_t load32(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline uint32_t load32_acquire(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void full_barrier(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* The CPU's spin-wait hint where the compiler offers one. */
static inline void cpu_relax(void)
{
#ifdef __SSE2__
	_mm_pause();
#elif defined(__ARM_ARCH)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static inline uint64_t rec_size(uint64_t len)
{
	return sizeof(struct mbx_ring_rec) +
	       ((len + MBX_RING_ALIGN - 1) & ~(uint64_t)(MBX_RING_ALIGN - 1));
}

/* Return -1 with errno set to @err (a positive errno value). */
static inline int fail(int err)
{
	errno = err;
	return -1;
}

int mbx_ring_port_create(int dev, const char *name, size_t ring_size,
			 unsigned int mode, unsigned int flags)
{
	struct mbx_port_create c;
	int ret;

	memset(&c, 0, sizeof(c));
	if (flags & ~(MBX_CLOEXEC | MBX_NONBLOCK))
		return fail(EINVAL);
	c.flags = flags | MBX_PORT_RING;
	c.mode = mode;
	c.ring_size = ring_size;
	if (name) {
		size_t n = strnlen(name, MBX_NAME_LEN);

		if (n == MBX_NAME_LEN)
			return fail(ENAMETOOLONG);
		memcpy(c.name, name, n + 1);
	}
	ret = mbx_port_create(dev, &c);
	return ret < 0 ? fail(-ret) : ret;
}

static int ring_map(struct mbx_ring *r, void **p, size_t len, uint64_t off,
		    bool writable)
{
	int prot = PROT_READ | (writable ? PROT_WRITE : 0);

	*p = mmap(NULL, len, prot, MAP_SHARED, r->port, (off_t)off);
	return *p == MAP_FAILED ? -errno : 0;
}

static void ring_unmap(struct mbx_ring *r)
{
	if (r->prod_map && r->prod_map != MAP_FAILED)
		munmap(r->prod_map, r->page_len);
	if (r->cons_map && r->cons_map != MAP_FAILED)
		munmap(r->cons_map, r->page_len);
	if (r->status_map && r->status_map != MAP_FAILED)
		munmap(r->status_map, r->page_len);
	if (r->data && (void *)r->data != MAP_FAILED)
		munmap(r->data, 2 * r->size);
}

/* Whether the layout the kernel reported is one this library can use. */
static bool info_sane(const struct mbx_ring_info *i)
{
	uint32_t pg = i->page_size;

	return i->ring_size && !(i->ring_size & (i->ring_size - 1)) &&
	       i->ring_size <= SIZE_MAX / 2 && pg >= 64 &&
	       i->producer_pos + 8 <= pg && !(i->producer_pos & 7) &&
	       i->producer_flags + 4 <= pg && !(i->producer_flags & 3) &&
	       i->consumer_pos + 8 <= pg && !(i->consumer_pos & 7) &&
	       i->consumer_flags + 4 <= pg && !(i->consumer_flags & 3) &&
	       i->status + 4 <= pg && !(i->status & 3);
}

static int ring_setup(struct mbx_ring *r, const struct mbx_ring_info *i)
{
	bool prod = r->role == MBX_RING_PRODUCER;
	void *data;
	int ret;

	r->size = i->ring_size;
	r->mask = i->ring_size - 1;
	r->page_len = i->page_size;
	ret = ring_map(r, &r->prod_map, r->page_len, i->producer_off, prod);
	if (!ret)
		ret = ring_map(r, &r->cons_map, r->page_len, i->consumer_off,
			       !prod);
	if (!ret)
		ret = ring_map(r, &r->status_map, r->page_len, i->status_off,
			       false);
	if (!ret)
		ret = ring_map(r, &data, 2 * r->size, i->data_off, prod);
	if (ret)
		return ret;
	r->data = data;
	r->prod_pos = (uint64_t *)((char *)r->prod_map + i->producer_pos);
	r->prod_flags = (uint32_t *)((char *)r->prod_map + i->producer_flags);
	r->cons_pos = (uint64_t *)((char *)r->cons_map + i->consumer_pos);
	r->cons_flags = (uint32_t *)((char *)r->cons_map + i->consumer_flags);
	r->status = (const uint32_t *)((char *)r->status_map + i->status);

	/* Our own position, once: from now on it is kept here. */
	if (prod) {
		r->head = load_acquire(r->prod_pos);
		r->committed = r->head;
		/* No room known yet: the first reserve reads the consumer. */
		r->peer = r->head - r->size;
		if (r->head & (MBX_RING_ALIGN - 1))
			return -EPROTO;
	} else {
		r->tail = load_acquire(r->cons_pos);
		r->released = r->tail;
		r->peer = r->tail;
		if (r->tail & (MBX_RING_ALIGN - 1))
			return -EPROTO;
	}
	return 0;
}

int mbx_ring_attach(int port, unsigned int role, struct mbx_ring **ring)
{
	struct mbx_ring_attach a = { 0 };
	struct mbx_ring_info info;
	struct mbx_ring *r;
	int ret;

	if ((role != MBX_RING_PRODUCER && role != MBX_RING_CONSUMER) || !ring)
		return fail(EINVAL);
	a.role = role == MBX_RING_PRODUCER ? MBX_RING_ROLE_PRODUCER :
					     MBX_RING_ROLE_CONSUMER;
	ret = __mbx_ioctl(port, MBX_IOC_RING_ATTACH, &a);
	if (ret < 0)
		return fail(-ret);
	memset(&info, 0, sizeof(info));
	ret = __mbx_ioctl(port, MBX_IOC_RING_INFO, &info);
	if (ret < 0)
		return fail(-ret);
	if (!info_sane(&info))
		return fail(EPROTO);

	r = calloc(1, sizeof(*r));
	if (!r)
		return fail(ENOMEM);
	r->port = port;
	r->role = role;
	r->spin_ns = RING_SPIN_DEFAULT_NS;
	ret = ring_setup(r, &info);
	if (ret) {
		ring_unmap(r);
		free(r);
		return fail(-ret);
	}
	*ring = r;
	return 0;
}

void mbx_ring_detach(struct mbx_ring *ring)
{
	int err = errno;

	if (!ring)
		return;
	ring_unmap(ring);
	free(ring);
	errno = err;
}

int mbx_ring_set_spin(struct mbx_ring *ring, uint64_t spin_ns)
{
	if (!ring || spin_ns > RING_SPIN_MAX_NS)
		return fail(EINVAL);
	ring->spin_ns = spin_ns;
	return 0;
}

int mbx_ring_fd(const struct mbx_ring *ring)
{
	if (!ring)
		return fail(EINVAL);
	return ring->port;
}

/* ---- waiting ------------------------------------------------------------ */

/*
 * The checks a wait makes, one per side: 1 ready, 0 not yet, or -errno
 * (EPIPE, EPROTO).  They read the other side's words only.
 *
 * The producer's: room for @want bytes past head?  The consumer cannot
 * have released what was not published: a position past committed (into
 * records reserved and not committed) is impossible, not room.
 */
static inline int prod_ready(struct mbx_ring *r, uint64_t want)
{
	uint64_t cons = load_acquire(r->cons_pos);
	uint64_t used = r->head - cons;
	uint32_t st;

	if (used > r->size || r->committed - cons > r->size ||
	    (cons & (MBX_RING_ALIGN - 1)))
		return -EPROTO;
	r->peer = cons;
	st = load32_acquire(r->status);
	if (st & (MBX_RING_ST_SHUTDOWN | MBX_RING_ST_CONSUMER_GONE))
		return -EPIPE;
	return r->size - used >= want;
}

/*
 * The consumer's: a record past tail?  The producer's position first, then
 * the status: the producer published its records before the kernel saw
 * it go.
 */
static inline int cons_ready(struct mbx_ring *r, uint64_t want)
{
	uint64_t prod = load_acquire(r->prod_pos);
	uint32_t st;

	if (prod - r->released > r->size || prod - r->tail > r->size ||
	    (prod & (MBX_RING_ALIGN - 1)))
		return -EPROTO;
	r->peer = prod;
	if (prod != r->tail)
		return 1;
	st = load32_acquire(r->status);
	if (st & (MBX_RING_ST_SHUTDOWN | MBX_RING_ST_PRODUCER_GONE)) {
		/* Records published before it went are still to be read. */
		prod = load_acquire(r->prod_pos);
		if (prod - r->released > r->size || prod - r->tail > r->size ||
		    (prod & (MBX_RING_ALIGN - 1)))
			return -EPROTO;
		r->peer = prod;
		return prod != r->tail ? 1 : -EPIPE;
	}
	return 0;
}

/* The check of @r's side, called directly: no indirect call in the spin. */
static inline int ring_ready(struct mbx_ring *r, uint64_t want)
{
	return r->role == MBX_RING_PRODUCER ? prod_ready(r, want) :
					      cons_ready(r, want);
}

static int ring_enter(struct mbx_ring *r, uint32_t flags, uint64_t pos,
		      uint64_t want, uint64_t deadline)
{
	struct mbx_ring_enter e = {
		.flags = flags,
		.role = r->role == MBX_RING_PRODUCER ? MBX_RING_ROLE_PRODUCER :
						       MBX_RING_ROLE_CONSUMER,
		.pos = pos,
		.want = want,
	};

	if (flags & MBX_RING_ENTER_WAIT && deadline != MBX_RING_FOREVER) {
		e.flags |= MBX_TIMEOUT | MBX_ABSTIME;
		e.timeout_ns = deadline;
	}
	return __mbx_ioctl(r->port, MBX_IOC_RING_ENTER, &e);
}

static uint32_t *own_flags(struct mbx_ring *r)
{
	return r->role == MBX_RING_PRODUCER ? r->prod_flags : r->cons_flags;
}

/* Clear our MBX_RING_NEED_WAKEUP if it is set (by us, or by poll()). */
static inline void clear_need_wakeup(struct mbx_ring *r)
{
	uint32_t *f = own_flags(r);

	if (load32(f) & MBX_RING_NEED_WAKEUP)
		__atomic_fetch_and(f, ~MBX_RING_NEED_WAKEUP, __ATOMIC_RELAXED);
}

/*
 * Nothing to do, and the caller will not wait here: EAGAIN.  A side that
 * has polled (MBX_RING_POLLED, set by poll()) may wait in epoll next,
 * edge-triggered, which does not ask poll() again: it needs its flag set
 * now, so that the other side's next publish wakes it.  Announce, then
 * look again, as before a sleep; what arrived meanwhile is taken (0).
 */
static int ring_again(struct mbx_ring *r, uint64_t want)
{
	int ret;

	if (!(load32(own_flags(r)) & MBX_RING_POLLED))
		return -EAGAIN;
	__atomic_fetch_or(own_flags(r), MBX_RING_NEED_WAKEUP, __ATOMIC_RELAXED);
	full_barrier();
	ret = ring_ready(r, want);
	if (ret)
		return ret < 0 ? ret : 0;
	return -EAGAIN;
}

/*
 * After the spin: announce the sleep, look again, and sleep in the kernel
 * until ring_ready() says so or @deadline (MBX_RING_FOREVER: none) passes.
 */
static int ring_sleep(struct mbx_ring *r, uint64_t pos, uint64_t want,
		      uint64_t deadline)
{
	int ret;

	for (;;) {
		/* Announce the sleep, then look again (see the top). */
		__atomic_fetch_or(own_flags(r), MBX_RING_NEED_WAKEUP,
				  __ATOMIC_RELAXED);
		full_barrier();
		ret = ring_ready(r, want);
		if (ret)
			break;
		if (deadline != MBX_RING_FOREVER && now_ns() >= deadline) {
			ret = -ETIMEDOUT;
			break;
		}
		ret = ring_enter(r, MBX_RING_ENTER_WAIT, pos, want, deadline);
		if (ret < 0)
			break;
	}
	/* A non-blocking fd: as with a timeout of 0. */
	if (ret == -EAGAIN && load32(own_flags(r)) & MBX_RING_POLLED)
		return ring_again(r, want);
	/*
	 * Timed out, interrupted: a side that has polled may wait in
	 * edge-triggered epoll next, and keeps its flag (as ring_again()).
	 */
	if (ret < 0 && load32(own_flags(r)) & MBX_RING_POLLED)
		return ret;
	clear_need_wakeup(r);
	return ret < 0 ? ret : 0;
}

/*
 * Wait until ring_ready() says so: spin up to spin_ns (not past the
 * deadline), then ring_sleep().  Returns 0 when ready, or -errno: EAGAIN
 * (@timeout_ns 0, or a non-blocking fd), ETIMEDOUT, EINTR, EPIPE, EPROTO.
 * Inlined into the hot paths, so that a wait the spin ends makes no call.
 */
static __always_inline int ring_wait(struct mbx_ring *r, uint64_t pos,
				     uint64_t want, uint64_t timeout_ns)
{
	uint64_t now, deadline = MBX_RING_FOREVER, spin_end = 0;
	const uint64_t *peer;
	unsigned int i;
	int ret;

	ret = ring_ready(r, want);
	if (ret)
		return ret < 0 ? ret : 0;
	if (!timeout_ns)
		return ring_again(r, want);

	if (timeout_ns != MBX_RING_FOREVER) {
		now = now_ns();
		deadline = timeout_ns > UINT64_MAX - now ?
			   MBX_RING_FOREVER - 1 : now + timeout_ns;
		spin_end = now + r->spin_ns < deadline ? now + r->spin_ns :
							 deadline;
	}

	/*
	 * Spin on the other side's position alone; the whole check (status
	 * included) runs when it moves, and at each look at the clock, every
	 * RING_SPIN_BATCH turns.  With no deadline the spin's end is set at
	 * the first look, so a wait shorter than a batch never reads the
	 * clock.
	 */
	peer = r->role == MBX_RING_PRODUCER ? r->cons_pos : r->prod_pos;
	for (i = 1; r->spin_ns; i++) {
		bool look = !(i % RING_SPIN_BATCH);

		if (look || __atomic_load_n(peer, __ATOMIC_RELAXED) != r->peer) {
			ret = ring_ready(r, want);
			if (ret)
				return ret < 0 ? ret : 0;
		}
		if (look) {
			now = now_ns();
			if (!spin_end)
				spin_end = now + r->spin_ns;
			if (now >= spin_end)
				break;
		}
		cpu_relax();
	}
	return ring_sleep(r, pos, want, deadline);
}

/* ---- producer ------------------------------------------------------------ */

/*
 * The hot paths (reserve, commit, peek, release) are inlined into each
 * public call (glibc's __always_inline), so that mbx_ring_send() and
 * mbx_ring_recv() are one function each, as in a hand-written ring.
 */
static __always_inline void *ring_reserve(struct mbx_ring *ring, size_t len,
					  uint64_t timeout_ns)
{
	struct mbx_ring_rec *rec;
	uint64_t need;
	uint32_t ended;
	int ret;

	if (!ring || ring->role != MBX_RING_PRODUCER) {
		errno = EINVAL;
		return NULL;
	}
	if (len > ring->size - sizeof(*rec) || len > UINT32_MAX) {
		errno = EMSGSIZE;
		return NULL;
	}
	need = rec_size(len);
	ended = load32(ring->status) & (MBX_RING_ST_SHUTDOWN |
					MBX_RING_ST_CONSUMER_GONE);
	/* The cached consumer position (checked) often says there is room. */
	if (ring->size - (ring->head - ring->peer) < need || ended) {
		/* Room only a commit of our own could make never comes. */
		if (!ended && ring->head - ring->committed + need > ring->size) {
			errno = EDEADLK;
			return NULL;
		}
		ret = ring_wait(ring, ring->head, need, timeout_ns);
		if (ret) {
			errno = -ret;
			return NULL;
		}
		/* A wake-up asked through poll() is ours to clear. */
		clear_need_wakeup(ring);
	}
	rec = (struct mbx_ring_rec *)(ring->data + (ring->head & ring->mask));
	rec->len = (uint32_t)len;
	rec->flags = 0;
	ring->head += need;
	return rec + 1;
}

void *mbx_ring_reserve(struct mbx_ring *ring, size_t len, uint64_t timeout_ns)
{
	return ring_reserve(ring, len, timeout_ns);
}

static __always_inline int ring_commit(struct mbx_ring *ring)
{
	int ret;

	if (!ring || ring->role != MBX_RING_PRODUCER)
		return fail(EINVAL);
	if (ring->head == ring->committed)
		return 0;
	store_release(ring->prod_pos, ring->head);
	ring->committed = ring->head;
	full_barrier();
	if (load32(ring->cons_flags) & MBX_RING_NEED_WAKEUP) {
		ret = ring_enter(ring, MBX_RING_ENTER_WAKE, 0, 0, 0);
		if (ret < 0)
			return fail(-ret);
	}
	return 0;
}

int mbx_ring_send(struct mbx_ring *ring, const void *buf, size_t len,
		  uint64_t timeout_ns)
{
	void *p = ring_reserve(ring, len, timeout_ns);

	if (!p)
		return -1;
	memcpy(p, buf, len);
	return ring_commit(ring);
}

int mbx_ring_commit(struct mbx_ring *ring)
{
	return ring_commit(ring);
}

int mbx_ring_send_batch(struct mbx_ring *ring, const struct iovec *iov,
			unsigned int n, uint64_t timeout_ns)
{
	unsigned int i;
	int err = 0;
	void *p;

	if (!ring || !iov || !n)
		return fail(EINVAL);
	for (i = 0; i < n; i++) {
		p = ring_reserve(ring, iov[i].iov_len, i ? 0 : timeout_ns);
		if (!p) {
			err = errno;
			break;
		}
		memcpy(p, iov[i].iov_base, iov[i].iov_len);
	}
	if (!i)
		return fail(err);
	if (ring_commit(ring))
		return -1;
	return (int)i;
}

/* ---- consumer ------------------------------------------------------------ */

/* Take the record at tail (r->peer is ahead of it), or -EPROTO. */
static const void *cons_take(struct mbx_ring *r, size_t *len)
{
	const struct mbx_ring_rec *rec;
	uint64_t avail = r->peer - r->tail;
	uint32_t n;

	rec = (const struct mbx_ring_rec *)(r->data + (r->tail & r->mask));
	n = __atomic_load_n(&rec->len, __ATOMIC_RELAXED);
	if (n > r->size - sizeof(*rec) || rec_size(n) > avail) {
		errno = EPROTO;
		return NULL;
	}
	r->tail += rec_size(n);
	*len = n;
	return rec + 1;
}

static __always_inline const void *ring_peek(struct mbx_ring *ring,
					     size_t *len, uint64_t timeout_ns)
{
	int ret;

	if (!ring || !len || ring->role != MBX_RING_CONSUMER) {
		errno = EINVAL;
		return NULL;
	}
	if (ring->peer == ring->tail) {
		ret = ring_wait(ring, ring->tail, 0, timeout_ns);
		if (ret) {
			errno = -ret;
			return NULL;
		}
		/* A wake-up asked through poll() is ours to clear. */
		clear_need_wakeup(ring);
	}
	return cons_take(ring, len);
}

const void *mbx_ring_peek(struct mbx_ring *ring, size_t *len,
			  uint64_t timeout_ns)
{
	return ring_peek(ring, len, timeout_ns);
}

static __always_inline int ring_release(struct mbx_ring *ring)
{
	int ret;

	if (!ring || ring->role != MBX_RING_CONSUMER)
		return fail(EINVAL);
	if (ring->tail == ring->released)
		return 0;
	store_release(ring->cons_pos, ring->tail);
	ring->released = ring->tail;
	full_barrier();
	if (load32(ring->prod_flags) & MBX_RING_NEED_WAKEUP) {
		ret = ring_enter(ring, MBX_RING_ENTER_WAKE, 0, 0, 0);
		if (ret < 0)
			return fail(-ret);
	}
	return 0;
}

int mbx_ring_release(struct mbx_ring *ring)
{
	return ring_release(ring);
}

/* Put back the record just peeked, of @len bytes. */
static void cons_unpeek(struct mbx_ring *r, size_t len)
{
	r->tail -= rec_size(len);
}

ssize_t mbx_ring_recv(struct mbx_ring *ring, void *buf, size_t len,
		      uint64_t timeout_ns)
{
	const void *p;
	size_t n;

	p = ring_peek(ring, &n, timeout_ns);
	if (!p)
		return -1;
	if (n > len) {
		cons_unpeek(ring, n);
		return fail(EMSGSIZE);
	}
	memcpy(buf, p, n);
	if (ring_release(ring))
		return -1;
	return (ssize_t)n;
}

int mbx_ring_recv_batch(struct mbx_ring *ring, struct iovec *iov,
			unsigned int n, uint64_t timeout_ns)
{
	unsigned int i;
	const void *p;
	int err = 0;
	size_t len;

	if (!ring || !iov || !n)
		return fail(EINVAL);
	for (i = 0; i < n; i++) {
		p = ring_peek(ring, &len, i ? 0 : timeout_ns);
		if (!p) {
			err = errno;
			break;
		}
		if (len > iov[i].iov_len) {
			cons_unpeek(ring, len);
			err = EMSGSIZE;
			break;
		}
		memcpy(iov[i].iov_base, p, len);
		iov[i].iov_len = len;
	}
	if (!i)
		return fail(err);
	if (ring_release(ring))
		return -1;
	return (int)i;
}
