// SPDX-License-Identifier: GPL-2.0
/*
 * Stress under chaos: eleven processes share five named ports (a copy-mode
 * queue, a rendezvous port, a port with a zero-copy pool, a request port and
 * a reply port) and mix every way of moving a message: blocking,
 * non-blocking, relative and absolute timeouts, read()/write(), batches,
 * zero-copy (alloc, send a region, receive in place, release), and
 * request/reply (MBX_IOC_CALL as client and as server).  Meanwhile the test
 * process itself is the chaos: it sends SIGUSR1 (handler with SA_RESTART),
 * SIGUSR2 (handler without), SIGSTOP/SIGCONT, SIGKILLs random participants
 * and respawns them, and shuts ports down (a shut-down port is replaced by
 * a fresh one under a new name; participants move over when they notice).
 * Two "closer" participants have a helper thread that close()s the fd the
 * main thread is blocked on.
 *
 * Bookkeeping, in MAP_SHARED|MAP_ANONYMOUS memory, per message id:
 *   st[id]: 1 when the sender is about to send (logged BEFORE the call),
 *           2 once the send returned success, 3 once it returned failure;
 *           a sender killed in between leaves 1: "may or may not be sent";
 *   rc[id]: receipts, logged by a receiver as soon as its call returns and
 *           before it does anything else with the message.
 * A receiver also publishes, before each receive call, how many messages
 * that call can take (1, or a batch's count); if it is SIGKILLed with that
 * set, those many messages may have left the port without being logged.
 *
 * At the end every port is shut down, every participant is reaped, every
 * port ever created is drained, and the test checks:
 *   - no message was received twice, none whose send failed or was never
 *     attempted was received, every payload, length and tag is intact;
 *   - every message whose send succeeded was received; the few that were
 *     not must be covered by receives killed in flight (the "excused"
 *     budget above);
 *   - the kernel's own counters agree: per port sent == received and
 *     nothing queued after the drain; over all ports, sent is between the
 *     messages we know were sent and those plus the undecided ones, and
 *     each message never received is one the kernel counted as received
 *     that no receiver logged;
 *   - every pool is entirely free again (pool_free == pool_size);
 *   - no call failed with an errno the rules do not allow for it, and no
 *     participant hung past the end.
 *
 * Environment: MBX_STRESS_SEED (the seed, printed either way),
 * MBX_STRESS_MSGS (stop after this many successful sends; default 400 000,
 * 40 000 on a lockdep kernel), MBX_STRESS_SECS (stop after this long even
 * if the count is not reached; default 75, 100 on a lockdep kernel).
 * `make stress-long` runs MBX_STRESS_MSGS=1000000.  The seed fixes every
 * random choice of every process (which call, which mode, which victim);
 * the interleaving is the scheduler's.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "mbx_helpers.h"

/* ---- configuration ------------------------------------------------------ */

enum { PQ, PR, PP, PC, PS, NSLOT };
static const char *const slot_name[NSLOT] = {
	"queue", "rendezvous", "pool", "request", "reply",
};

static const struct {
	uint32_t cap;
	uint32_t msg;
	uint64_t pool;
} cfg[NSLOT] = {
	[PQ] = { 16, 256, 0 },
	[PR] = { 0, 256, 0 },
	[PP] = { 32, 512, 64 << 10 },
	[PC] = { 32, 256, 0 },
	[PS] = { 32, 256, 0 },
};

#define MAX_GEN		40	/* ports per slot, shut-down ones included */
#define BATCH_MAX	16	/* largest batch we send or receive */
#define BUF_SIZE	1024	/* receive buffers: larger than any message */
#define HDR_MAGIC	0x4d425853U
#define TAG_BIT		0x8000000000000000ULL	/* an ioctl send's tag: id | TAG_BIT */

enum role { R_PROD, R_CONS, R_CLIENT, R_SERVER, R_CLOSER, NROLE };
static const char *const role_name[NROLE] = {
	"producer", "consumer", "client", "server", "closer",
};

static const int roles[] = {
	R_PROD, R_PROD, R_PROD, R_CONS, R_CONS, R_CONS,
	R_CLIENT, R_CLIENT, R_SERVER, R_CLOSER, R_CLOSER,
};

#define NPART	((int)ARRAY_SIZE(roles))

/* Per-participant counters (summed over its incarnations). */
enum {
	C_SENT, C_RECV, C_BLOCK, C_NB, C_TIMED, C_RW, C_BATCH_SENT,
	C_BATCH_RECV, C_ZC_SENT, C_ZC_RECV, C_CALLS, C_REPLIES, C_SIGS,
	C_EINTR, C_ETIMEDOUT, C_EAGAIN, C_EPIPE, C_EBADF, C_EMSGSIZE,
	C_CLOSES, C_CLOSED_BLOCKED, C_REOPEN, NCNT
};

static const char *const cnt_name[NCNT] = {
	"sent", "received", "blocking", "non-blocking", "timed",
	"read/write", "batch-sent", "batch-received", "zero-copy-sent",
	"in-place-received", "calls", "replies", "signals-handled",
	"EINTR", "ETIMEDOUT", "EAGAIN", "EPIPE", "EBADF", "EMSGSIZE",
	"fd-closes", "closed-while-blocked", "reopens",
};

struct part {
	pid_t pid;
	uint32_t role;
	uint32_t incarnations;
	uint32_t inflight;	/* messages the receive in progress may take */
	uint64_t n[NCNT];
};

#define NLOG 8
struct logent {
	uint32_t idx;
	int err;
	uint64_t id;
	char what[40];
};

struct shared {
	uint64_t seed;
	uint64_t max_ids;
	uint64_t next_id;
	uint32_t gen[NSLOT];
	uint32_t stop;
	pid_t owner;
	uint32_t nerr, nbad;
	struct logent errs[NLOG];
	struct logent bads[NLOG];
	struct part part[NPART];
	uint8_t *st;		/* [max_ids], after this struct */
	uint8_t *rc;		/* [max_ids] */
};

/* ---- random numbers and payloads -------------------------------------- */

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static uint64_t below(uint64_t *s, uint64_t n)
{
	return n ? rnd(s) % n : 0;
}

struct hdr {
	uint64_t id;
	uint32_t len;		/* whole message, header included */
	uint32_t magic;
};

static void mk_msg(void *p, uint64_t id, uint32_t len)
{
	struct hdr h = { .id = id, .len = len, .magic = HDR_MAGIC };
	uint8_t *b = p;
	uint32_t i;
	uint64_t w;

	memcpy(b, &h, sizeof(h));
	for (i = sizeof(h); i < len; i += 8) {
		w = mix64(id * 4099 + i);
		memcpy(b + i, &w, len - i < 8 ? len - i : 8);
	}
}

/* 0 if @p holds message @id of @len bytes exactly. */
static const char *bad_msg(const void *p, uint64_t len, uint64_t id)
{
	const uint8_t *b = p;
	struct hdr h;
	uint32_t i;
	uint64_t w;

	if (len < sizeof(h))
		return "short";
	memcpy(&h, b, sizeof(h));
	if (h.magic != HDR_MAGIC)
		return "magic";
	if (h.id != id)
		return "id/tag";
	if (h.len != len)
		return "length";
	for (i = sizeof(h); i < len; i += 8) {
		w = mix64(id * 4099 + i);
		if (memcmp(b + i, &w, len - i < 8 ? len - i : 8))
			return "payload";
	}
	return NULL;
}

/* ---- participants ------------------------------------------------------- */

struct pctx {
	struct shared *sh;
	struct part *me;
	int idx, role, dev;
	uint64_t rng;
	int fd[NSLOT];
	uint32_t gen[NSLOT];
	uint32_t acc[NSLOT];
	int nb[NSLOT];		/* fd opened with MBX_NONBLOCK */
	uint8_t *base;		/* mapping of the current pool port */
	int pending;		/* server: a request waits for its reply */
	/* closer */
	int victim;		/* fd the helper thread may close */
	pid_t main_tid;
	sem_t arm, disarmed;
	uint64_t hrng;
	uint8_t buf[BATCH_MAX][BUF_SIZE];
	uint8_t out[BATCH_MAX][BUF_SIZE];
};

static struct part *g_me;

static void on_signal(int sig)
{
	if (g_me)
		__atomic_add_fetch(&g_me->n[C_SIGS], 1, __ATOMIC_RELAXED);
}

static void port_name(char *buf, pid_t owner, int slot, uint32_t gen)
{
	snprintf(buf, MBX_NAME_LEN, "mbxstress.%d.%d.%u", (int)owner, slot,
		 gen);
}

#define A_INTR		0x01
#define A_TIMEDOUT	0x02
#define A_AGAIN		0x04
#define A_PIPE		0x08
#define A_BADF		0x10
#define A_MSGSIZE	0x20

static void log_ent(uint32_t *n, struct logent *log, int idx, int err,
		    uint64_t id, const char *what)
{
	uint32_t k = __atomic_fetch_add(n, 1, __ATOMIC_RELAXED);

	if (k < NLOG) {
		log[k].idx = idx;
		log[k].err = err;
		log[k].id = id;
		snprintf(log[k].what, sizeof(log[k].what), "%s", what);
	}
}

/*
 * Count an error result; anything the rules do not allow for this call is
 * logged as unexpected.
 */
static void result(struct pctx *c, const char *what, long ret,
		   unsigned int allowed)
{
	unsigned int bit;
	int cnt;

	switch (ret) {
	case -EINTR:
		bit = A_INTR, cnt = C_EINTR;
		break;
	case -ETIMEDOUT:
		bit = A_TIMEDOUT, cnt = C_ETIMEDOUT;
		break;
	case -EAGAIN:
		bit = A_AGAIN, cnt = C_EAGAIN;
		break;
	case -EPIPE:
		bit = A_PIPE, cnt = C_EPIPE;
		break;
	case -EBADF:
		bit = A_BADF, cnt = C_EBADF;
		break;
	case -EMSGSIZE:
		bit = A_MSGSIZE, cnt = C_EMSGSIZE;
		break;
	default:
		bit = 0, cnt = -1;
	}
	if (cnt >= 0)
		c->me->n[cnt]++;
	if (!(bit & allowed))
		log_ent(&c->sh->nerr, c->sh->errs, c->idx, (int)-ret, 0, what);
}

static void bad(struct pctx *c, uint64_t id, const char *what)
{
	log_ent(&c->sh->nbad, c->sh->bads, c->idx, 0, id, what);
}

/* Ids for @n new messages, or UINT64_MAX when they run out (then stop). */
static uint64_t new_ids(struct pctx *c, unsigned int n)
{
	uint64_t id = __atomic_fetch_add(&c->sh->next_id, n, __ATOMIC_RELAXED);

	if (id + n > c->sh->max_ids) {
		__atomic_store_n(&c->sh->stop, 1, __ATOMIC_RELAXED);
		return UINT64_MAX;
	}
	return id;
}

static void set_st(struct pctx *c, uint64_t id, uint8_t v)
{
	__atomic_store_n(&c->sh->st[id], v, __ATOMIC_RELEASE);
}

/* Log the receipt of @id: first thing after the receive returned. */
static int log_recv(struct pctx *c, uint64_t id)
{
	if (id >= c->sh->max_ids) {
		bad(c, id, "id out of range");
		return -1;
	}
	__atomic_add_fetch(&c->sh->rc[id], 1, __ATOMIC_RELAXED);
	c->me->n[C_RECV]++;
	return 0;
}

static uint32_t msg_len(struct pctx *c, int slot)
{
	return sizeof(struct hdr) + below(&c->rng, cfg[slot].msg -
					  sizeof(struct hdr) + 1);
}

static uint32_t prio(struct pctx *c)
{
	return below(&c->rng, 2) ? below(&c->rng, MBX_PRIO_MAX + 1) : 0;
}

enum { W_BLOCK, W_NB, W_REL, W_ABS };

/* Flags and timeout for a waiting mode; counts the mode. */
static uint32_t wait_flags(struct pctx *c, int mode, __u64 *timeout)
{
	uint64_t ms = 1 + below(&c->rng, 20);

	*timeout = 0;
	switch (mode) {
	case W_NB:
		c->me->n[C_NB]++;
		return MBX_NONBLOCK;
	case W_REL:
		c->me->n[C_TIMED]++;
		*timeout = below(&c->rng, 20) ? ms * 1000000ULL : 0;
		return MBX_TIMEOUT;
	case W_ABS:
		c->me->n[C_TIMED]++;
		*timeout = t_now_ns() + ms * 1000000ULL;
		if (!below(&c->rng, 20))
			*timeout -= 2 * ms * 1000000ULL;
		return MBX_TIMEOUT | MBX_ABSTIME;
	}
	c->me->n[C_BLOCK]++;
	return 0;
}

static int pick_mode(struct pctx *c)
{
	unsigned int m = below(&c->rng, 100);

	return m < 35 ? W_BLOCK : m < 55 ? W_NB : m < 80 ? W_REL : W_ABS;
}

/* Errors a call in @mode on @slot's fd may give besides EINTR and EPIPE. */
static unsigned int allowed(struct pctx *c, int slot, int mode)
{
	unsigned int a = A_INTR | A_PIPE;

	if (mode == W_NB || c->nb[slot])
		a |= A_AGAIN;
	if (mode == W_REL || mode == W_ABS)
		a |= A_TIMEDOUT;
	return a;
}

static void drop_slot(struct pctx *c, int slot)
{
	if (c->fd[slot] < 0)
		return;
	if (slot == PP && c->base) {
		munmap(c->base, cfg[PP].pool);
		c->base = NULL;
	}
	close(c->fd[slot]);
	c->fd[slot] = -1;
}

/*
 * The fd of the current port of @slot with at least @need access, (re)opened
 * as needed; now and then it gets the other access too.
 */
static int ensure(struct pctx *c, int slot, uint32_t need)
{
	uint32_t g = __atomic_load_n(&c->sh->gen[slot], __ATOMIC_ACQUIRE);
	char name[MBX_NAME_LEN];
	uint32_t flags, access;
	int fd;

	if (c->fd[slot] >= 0 && c->gen[slot] == g &&
	    (c->acc[slot] & need) == need)
		return c->fd[slot];
	if (c->fd[slot] >= 0)
		c->me->n[C_REOPEN]++;
	drop_slot(c, slot);
	port_name(name, c->sh->owner, slot, g);
	access = need;
	if (!below(&c->rng, 5))
		access = MBX_SEND | MBX_RECV;
	flags = access | MBX_CLOEXEC;
	c->nb[slot] = below(&c->rng, 100) < 10;
	if (c->nb[slot])
		flags |= MBX_NONBLOCK;
	fd = mbx_port_open(c->dev, name, flags);
	if (fd < 0) {
		result(c, "open", fd, 0);
		return -1;
	}
	if (slot == PP) {
		void *p = mmap(NULL, cfg[PP].pool, PROT_READ |
			       (access & MBX_SEND ? PROT_WRITE : 0),
			       MAP_SHARED, fd, 0);

		if (p == MAP_FAILED) {
			result(c, "mmap", -errno, 0);
			close(fd);
			return -1;
		}
		c->base = p;
	}
	c->fd[slot] = fd;
	c->gen[slot] = g;
	c->acc[slot] = access;
	return fd;
}

/*
 * A message came in: log it, then check it.  @verify is false where the
 * region may already be gone (the closer's fd was closed under it).
 */
static void got(struct pctx *c, int fd, const struct mbx_recv *r,
		const void *buf, bool verify, unsigned int release_ok)
{
	const char *why;
	uint64_t id;
	long ret;

	if (r->msg_flags & MBX_MSG_BUF) {
		if (!(r->tag & TAG_BIT)) {
			bad(c, r->tag, "pool message without tag");
			return;
		}
		id = r->tag & ~TAG_BIT;
		if (log_recv(c, id))
			return;
		c->me->n[C_ZC_RECV]++;
		if (verify && c->base) {
			why = r->offset + r->len > cfg[PP].pool ? "offset" :
			      bad_msg(c->base + r->offset, r->len, id);
			if (why)
				bad(c, id, why);
		}
		ret = mbx_buf_release(fd, r->offset, r->len);
		if (ret)
			result(c, "release received", ret, release_ok);
		return;
	}
	if (r->len >= sizeof(struct hdr)) {
		memcpy(&id, buf, sizeof(id));
	} else {
		bad(c, r->tag, "short message");
		return;
	}
	if (r->tag && r->tag != (id | TAG_BIT))
		id = r->tag & ~TAG_BIT;	/* the tag wins: it is the kernel's */
	if (log_recv(c, id))
		return;
	why = bad_msg(buf, r->len, id);
	if (why)
		bad(c, id, why);
}

/* One message by MBX_IOC_SEND or write(). */
static void send_one(struct pctx *c, int slot, int fd, bool use_write)
{
	int mode = use_write ? (c->nb[slot] ? W_NB : W_BLOCK) : pick_mode(c);
	uint64_t id = new_ids(c, 1);
	uint32_t len = msg_len(c, slot);
	struct mbx_send s;
	long ret;

	if (id == UINT64_MAX)
		return;
	mk_msg(c->out[0], id, len);
	memset(&s, 0, sizeof(s));
	s.buf = (uintptr_t)c->out[0];
	s.len = len;
	s.tag = id | TAG_BIT;
	s.prio = prio(c);
	s.flags = use_write ? 0 : wait_flags(c, mode, &s.timeout_ns);
	set_st(c, id, 1);
	if (use_write) {
		c->me->n[C_RW]++;
		ret = write(fd, c->out[0], len);
		ret = ret < 0 ? -errno : ret == len ? 0 : -EIO;
	} else {
		ret = t_ioctl(fd, MBX_IOC_SEND, &s);
	}
	set_st(c, id, ret ? 3 : 2);
	if (ret)
		result(c, use_write ? "write" : "send", ret,
		       allowed(c, slot, mode));
	else
		c->me->n[C_SENT]++;
}

/* A batch of copy-mode messages, and on the pool port regions too. */
static void send_batch(struct pctx *c, int slot, int fd)
{
	unsigned int k = 1 + below(&c->rng, BATCH_MAX), i;
	struct mbx_send msgs[BATCH_MAX];
	uint64_t alen[BATCH_MAX];
	int mode = pick_mode(c);
	struct mbx_batch b;
	uint64_t id;
	long ret, n;

	id = new_ids(c, k);
	if (id == UINT64_MAX)
		return;
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < k; i++) {
		uint32_t len = msg_len(c, slot);
		struct mbx_buf ab;

		msgs[i].len = len;
		msgs[i].tag = (id + i) | TAG_BIT;
		msgs[i].prio = prio(c);
		alen[i] = 0;
		if (slot == PP && c->base && (c->acc[slot] & MBX_SEND) &&
		    below(&c->rng, 2)) {
			memset(&ab, 0, sizeof(ab));
			ab.len = len + below(&c->rng, 64);
			ab.flags = MBX_NONBLOCK;
			ret = t_ioctl(fd, MBX_IOC_BUF_ALLOC, &ab);
			if (!ret) {
				mk_msg(c->base + ab.offset, id + i, len);
				msgs[i].flags = MBX_SEND_BUF;
				msgs[i].offset = ab.offset;
				alen[i] = ab.len;
				continue;
			}
			result(c, "batch alloc", ret, A_AGAIN | A_PIPE);
		}
		mk_msg(c->out[i], id + i, len);
		msgs[i].buf = (uintptr_t)c->out[i];
	}
	memset(&b, 0, sizeof(b));
	b.msgs = (uintptr_t)msgs;
	b.count = k;
	b.flags = wait_flags(c, mode, &b.timeout_ns);
	for (i = 0; i < k; i++)
		set_st(c, id + i, 1);
	ret = t_ioctl(fd, MBX_IOC_SEND_BATCH, &b);
	n = ret < 0 ? 0 : ret;
	if (ret < 0)
		result(c, "send batch", ret, allowed(c, slot, mode));
	else if (ret > k || b.done != ret)
		log_ent(&c->sh->nerr, c->sh->errs, c->idx, 0, ret,
			"send batch count");
	for (i = 0; i < k; i++) {
		set_st(c, id + i, i < n ? 2 : 3);
		if (i < n) {
			c->me->n[C_SENT]++;
			c->me->n[C_BATCH_SENT]++;
			if (alen[i])
				c->me->n[C_ZC_SENT]++;
		} else if (alen[i]) {
			ret = mbx_buf_release(fd, msgs[i].offset, alen[i]);
			if (ret)
				result(c, "release unsent", ret, 0);
		}
	}
}

/* Zero copy: allocate, write in place, send the region. */
static void send_zc(struct pctx *c, int fd)
{
	int amode = pick_mode(c), smode = pick_mode(c);
	uint32_t len = msg_len(c, PP);
	struct mbx_send s;
	struct mbx_buf ab;
	uint64_t id;
	long ret;

	if (!c->base || !(c->acc[PP] & MBX_SEND))
		return;
	memset(&ab, 0, sizeof(ab));
	ab.len = len + below(&c->rng, 128);
	ab.flags = wait_flags(c, amode, &ab.timeout_ns);
	ret = t_ioctl(fd, MBX_IOC_BUF_ALLOC, &ab);
	if (ret) {
		result(c, "alloc", ret, allowed(c, PP, amode));
		return;
	}
	if (ab.offset + ab.len > cfg[PP].pool || ab.offset % 64) {
		log_ent(&c->sh->nerr, c->sh->errs, c->idx, 0, ab.offset,
			"alloc offset");
		return;
	}
	id = new_ids(c, 1);
	if (id == UINT64_MAX)
		return;
	mk_msg(c->base + ab.offset, id, len);
	memset(&s, 0, sizeof(s));
	s.offset = ab.offset;
	s.len = len;
	s.tag = id | TAG_BIT;
	s.prio = prio(c);
	s.flags = MBX_SEND_BUF | wait_flags(c, smode, &s.timeout_ns);
	set_st(c, id, 1);
	ret = t_ioctl(fd, MBX_IOC_SEND, &s);
	set_st(c, id, ret ? 3 : 2);
	if (!ret) {
		c->me->n[C_SENT]++;
		c->me->n[C_ZC_SENT]++;
		return;
	}
	result(c, "send region", ret, allowed(c, PP, smode));
	ret = mbx_buf_release(fd, ab.offset, ab.len);
	if (ret)
		result(c, "release unsent region", ret, 0);
}

static void producer_op(struct pctx *c)
{
	unsigned int m = below(&c->rng, 100);
	int slot = m < 35 ? PQ : m < 60 ? PR : PP;
	int fd = ensure(c, slot, MBX_SEND);

	if (fd < 0)
		return;
	m = below(&c->rng, 100);
	if (slot == PP && m < 40)
		send_zc(c, fd);
	else if (m < 55)
		send_batch(c, slot, fd);
	else if (m < 63)
		send_one(c, slot, fd, true);
	else
		send_one(c, slot, fd, false);
}

/* One receive by MBX_IOC_RECV (maybe in place) or read(). */
static void recv_one(struct pctx *c, int slot, int fd, bool use_read)
{
	int mode = use_read ? (c->nb[slot] ? W_NB : W_BLOCK) : pick_mode(c);
	bool small = !use_read && !below(&c->rng, 25);
	unsigned int ok = allowed(c, slot, mode);
	struct mbx_recv r;
	long ret;

	memset(&r, 0, sizeof(r));
	r.buf = (uintptr_t)c->buf[0];
	r.len = small ? below(&c->rng, 24) : BUF_SIZE;
	r.flags = use_read ? 0 : wait_flags(c, mode, &r.timeout_ns);
	if (slot == PP && !use_read && below(&c->rng, 2))
		r.flags |= MBX_RECV_INPLACE;
	if (small)
		ok |= A_MSGSIZE;
	__atomic_store_n(&c->me->inflight, 1, __ATOMIC_RELAXED);
	if (use_read) {
		c->me->n[C_RW]++;
		ret = read(fd, c->buf[0], BUF_SIZE);
		if (ret > 0) {
			r.len = ret;
			ret = 0;
		} else {
			ret = ret ? -errno : -EPIPE;
		}
	} else {
		ret = t_ioctl(fd, MBX_IOC_RECV, &r);
	}
	if (!ret)
		got(c, fd, &r, c->buf[0], true, 0);
	else
		result(c, use_read ? "read" : "recv", ret, ok);
	__atomic_store_n(&c->me->inflight, 0, __ATOMIC_RELAXED);
}

static void recv_batch(struct pctx *c, int slot, int fd)
{
	unsigned int k = 1 + below(&c->rng, BATCH_MAX), i;
	struct mbx_recv msgs[BATCH_MAX];
	int mode = pick_mode(c);
	struct mbx_batch b;
	long ret;

	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < k; i++) {
		msgs[i].buf = (uintptr_t)c->buf[i];
		msgs[i].len = BUF_SIZE;
		if (slot == PP && below(&c->rng, 2))
			msgs[i].flags = MBX_RECV_INPLACE;
	}
	memset(&b, 0, sizeof(b));
	b.msgs = (uintptr_t)msgs;
	b.count = k;
	b.flags = wait_flags(c, mode, &b.timeout_ns);
	__atomic_store_n(&c->me->inflight, k, __ATOMIC_RELAXED);
	ret = t_ioctl(fd, MBX_IOC_RECV_BATCH, &b);
	if (ret < 0) {
		result(c, "recv batch", ret, allowed(c, slot, mode));
	} else {
		if (ret > k || b.done != ret)
			log_ent(&c->sh->nerr, c->sh->errs, c->idx, 0, ret,
				"recv batch count");
		for (i = 0; i < ret && i < k; i++) {
			got(c, fd, &msgs[i], c->buf[i], true, 0);
			c->me->n[C_BATCH_RECV]++;
		}
	}
	__atomic_store_n(&c->me->inflight, 0, __ATOMIC_RELAXED);
}

static void consumer_op(struct pctx *c)
{
	unsigned int m = below(&c->rng, 100);
	int slot = m < 30 ? PQ : m < 55 ? PR : m < 85 ? PP : m < 92 ? PC : PS;
	int fd = ensure(c, slot, MBX_RECV);

	if (fd < 0)
		return;
	m = below(&c->rng, 100);
	if (m < 30)
		recv_batch(c, slot, fd);
	else if (m < 40)
		recv_one(c, slot, fd, true);
	else
		recv_one(c, slot, fd, false);
}

/* Client: a request on the request port, the reply from the reply port. */
static void client_op(struct pctx *c)
{
	int fdc = ensure(c, PC, MBX_SEND), fds = ensure(c, PS, MBX_RECV);
	int smode = pick_mode(c), rmode;
	uint32_t len = msg_len(c, PC);
	struct mbx_call a;
	unsigned int ok;
	uint64_t id;
	long ret;

	if (fdc < 0 || fds < 0)
		return;
	id = new_ids(c, 1);
	if (id == UINT64_MAX)
		return;
	rmode = below(&c->rng, 100);
	rmode = rmode < 25 ? W_BLOCK : rmode < 35 ? W_NB : W_REL;
	mk_msg(c->out[0], id, len);
	memset(&a, 0, sizeof(a));
	a.send.buf = (uintptr_t)c->out[0];
	a.send.len = len;
	a.send.tag = id | TAG_BIT;
	a.send.prio = prio(c);
	a.send.flags = wait_flags(c, smode, &a.send.timeout_ns);
	a.recv.buf = (uintptr_t)c->buf[0];
	a.recv.len = BUF_SIZE;
	a.recv.flags = wait_flags(c, rmode, &a.recv.timeout_ns);
	if (rmode == W_REL)
		a.recv.timeout_ns = (20 + below(&c->rng, 80)) * 1000000ULL;
	a.recv_fd = fds;
	a.done = 0xdead;
	c->me->n[C_CALLS]++;
	__atomic_store_n(&c->me->inflight, 1, __ATOMIC_RELAXED);
	set_st(c, id, 1);
	if (!below(&c->rng, 4)) {
		/* libmailbox: untimed, untagged (the id is in the header) */
		smode = W_BLOCK;
		rmode = W_BLOCK;
		ret = mbx_call(fdc, c->out[0], len, fds, c->buf[0], BUF_SIZE,
			       &a.done);
		memset(&a.recv, 0, sizeof(a.recv));
		a.recv.len = ret > 0 ? ret : 0;
		ret = ret < 0 ? ret : 0;
	} else {
		ret = t_ioctl(fdc, MBX_IOC_CALL, &a);
	}
	if (a.done & ~(MBX_CALL_SENT | MBX_CALL_RECEIVED)) {
		log_ent(&c->sh->nerr, c->sh->errs, c->idx, 0, a.done,
			"call done");
		a.done = ret ? 0 : MBX_CALL_SENT | MBX_CALL_RECEIVED;
	}
	set_st(c, id, a.done & MBX_CALL_SENT ? 2 : 3);
	if (a.done & MBX_CALL_SENT)
		c->me->n[C_SENT]++;
	if (a.done & MBX_CALL_RECEIVED)
		got(c, fds, &a.recv, c->buf[0], true, 0);
	if (ret) {
		ok = a.done & MBX_CALL_SENT ? allowed(c, PS, rmode) :
					      allowed(c, PC, smode);
		result(c, "call", ret, ok);
	} else if (a.done != (MBX_CALL_SENT | MBX_CALL_RECEIVED)) {
		log_ent(&c->sh->nerr, c->sh->errs, c->idx, 0, a.done,
			"call ok but not done");
	}
	__atomic_store_n(&c->me->inflight, 0, __ATOMIC_RELAXED);
}

/* Server: wait for a request, then reply and wait for the next in one call. */
static void server_op(struct pctx *c)
{
	int fdc = ensure(c, PC, MBX_RECV), fds = ensure(c, PS, MBX_SEND);
	int smode, rmode = below(&c->rng, 100) < 40 ? W_BLOCK : W_REL;
	struct mbx_call a;
	uint32_t len;
	uint64_t id;
	long ret;

	if (fdc < 0 || fds < 0)
		return;
	if (!c->pending) {
		struct mbx_recv r;

		memset(&r, 0, sizeof(r));
		r.buf = (uintptr_t)c->buf[0];
		r.len = BUF_SIZE;
		r.flags = wait_flags(c, rmode, &r.timeout_ns);
		if (rmode == W_REL)
			r.timeout_ns = 100000000ULL;
		__atomic_store_n(&c->me->inflight, 1, __ATOMIC_RELAXED);
		ret = t_ioctl(fdc, MBX_IOC_RECV, &r);
		if (!ret) {
			got(c, fdc, &r, c->buf[0], true, 0);
			c->pending = 1;
		} else {
			result(c, "serve recv", ret, allowed(c, PC, rmode));
		}
		__atomic_store_n(&c->me->inflight, 0, __ATOMIC_RELAXED);
		return;
	}

	id = new_ids(c, 1);
	if (id == UINT64_MAX)
		return;
	smode = below(&c->rng, 100) < 60 ? W_BLOCK : W_REL;
	len = msg_len(c, PS);
	mk_msg(c->out[0], id, len);
	memset(&a, 0, sizeof(a));
	a.send.buf = (uintptr_t)c->out[0];
	a.send.len = len;
	a.send.tag = id | TAG_BIT;
	a.send.flags = wait_flags(c, smode, &a.send.timeout_ns);
	if (smode == W_REL)
		a.send.timeout_ns = 50000000ULL;
	a.recv.buf = (uintptr_t)c->buf[0];
	a.recv.len = BUF_SIZE;
	a.recv.flags = wait_flags(c, rmode, &a.recv.timeout_ns);
	if (rmode == W_REL)
		a.recv.timeout_ns = 100000000ULL;
	a.recv_fd = fdc;
	__atomic_store_n(&c->me->inflight, 1, __ATOMIC_RELAXED);
	set_st(c, id, 1);
	if (!below(&c->rng, 4)) {
		/* libmailbox: untimed, untagged (the id is in the header) */
		smode = W_BLOCK;
		rmode = W_BLOCK;
		ret = mbx_reply_recv(fds, c->out[0], len, fdc, c->buf[0],
				     BUF_SIZE, &a.done);
		memset(&a.recv, 0, sizeof(a.recv));
		a.recv.len = ret > 0 ? ret : 0;
		ret = ret < 0 ? ret : 0;
	} else {
		ret = t_ioctl(fds, MBX_IOC_CALL, &a);
	}
	set_st(c, id, a.done & MBX_CALL_SENT ? 2 : 3);
	c->pending = 0;
	if (a.done & MBX_CALL_SENT) {
		c->me->n[C_SENT]++;
		c->me->n[C_REPLIES]++;
	}
	if (a.done & MBX_CALL_RECEIVED) {
		got(c, fdc, &a.recv, c->buf[0], true, 0);
		c->pending = 1;
	}
	if (ret)
		result(c, "reply+recv", ret, a.done & MBX_CALL_SENT ?
		       allowed(c, PC, rmode) : allowed(c, PS, smode));
	__atomic_store_n(&c->me->inflight, 0, __ATOMIC_RELAXED);
}

/* ---- closer: a helper thread closes the fd the main thread waits on ---- */

static int task_sleeping(pid_t tid)
{
	char path[64], buf[256], *p;
	int fd, n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] == 'S';
}

static void *closer_helper(void *arg)
{
	struct pctx *c = arg;
	unsigned int waited, limit;
	int fd, slept;

	for (;;) {
		while (sem_wait(&c->arm))
			;
		limit = below(&c->hrng, 40);
		slept = 0;
		/* Close at a random moment, preferably while it sleeps. */
		for (waited = 0; waited < limit; waited++) {
			if (__atomic_load_n(&c->victim, __ATOMIC_ACQUIRE) < 0)
				break;
			slept = task_sleeping(c->main_tid);
			if (slept && below(&c->hrng, 3) == 0)
				break;
			usleep(1000);
		}
		fd = __atomic_exchange_n(&c->victim, -1, __ATOMIC_ACQ_REL);
		if (fd >= 0) {
			slept = task_sleeping(c->main_tid);
			close(fd);
			c->me->n[C_CLOSES]++;
			if (slept)
				c->me->n[C_CLOSED_BLOCKED]++;
		}
		sem_post(&c->disarmed);
	}
	return NULL;
}

static void closer_op(struct pctx *c)
{
	unsigned int m = below(&c->rng, 100);
	int slot = m < 40 ? PQ : m < 70 ? PR : PP;
	int mode = below(&c->rng, 100) < 40 ? W_BLOCK : W_REL;
	unsigned int ok = A_INTR | A_PIPE | A_BADF | A_TIMEDOUT;
	char name[MBX_NAME_LEN];
	uint64_t id = UINT64_MAX;
	struct mbx_recv r;
	struct mbx_send s;
	struct mbx_buf ab;
	long ret;
	int fd;

	/* The base mapping of the pool (the mapping holds the pool). */
	if (slot == PP && ensure(c, PP, MBX_SEND | MBX_RECV) < 0)
		return;
	port_name(name, c->sh->owner, slot,
		  __atomic_load_n(&c->sh->gen[slot], __ATOMIC_ACQUIRE));
	fd = mbx_port_open(c->dev, name, MBX_SEND | MBX_RECV | MBX_CLOEXEC);
	if (fd < 0) {
		result(c, "closer open", fd, 0);
		return;
	}
	__atomic_store_n(&c->victim, fd, __ATOMIC_RELEASE);
	sem_post(&c->arm);

	m = below(&c->rng, 100);
	if (m < 45) {
		memset(&r, 0, sizeof(r));
		r.buf = (uintptr_t)c->buf[0];
		r.len = BUF_SIZE;
		r.flags = wait_flags(c, mode, &r.timeout_ns);
		if (mode == W_REL)
			r.timeout_ns = (30 + below(&c->rng, 170)) * 1000000ULL;
		if (slot == PP && below(&c->rng, 2))
			r.flags |= MBX_RECV_INPLACE;
		__atomic_store_n(&c->me->inflight, 1, __ATOMIC_RELAXED);
		ret = t_ioctl(fd, MBX_IOC_RECV, &r);
		/*
		 * The region of an in-place message is freed with the fd, which
		 * the helper may have closed already: do not look at it.
		 */
		if (!ret)
			got(c, fd, &r, c->buf[0], false, A_BADF);
		else
			result(c, "closer recv", ret, ok);
		__atomic_store_n(&c->me->inflight, 0, __ATOMIC_RELAXED);
	} else if (m < 85 || slot != PP) {
		uint32_t len = msg_len(c, slot);

		id = new_ids(c, 1);
		if (id != UINT64_MAX) {
			mk_msg(c->out[0], id, len);
			memset(&s, 0, sizeof(s));
			s.buf = (uintptr_t)c->out[0];
			s.len = len;
			s.tag = id | TAG_BIT;
			s.flags = wait_flags(c, mode, &s.timeout_ns);
			if (mode == W_REL)
				s.timeout_ns = (30 + below(&c->rng, 170)) *
					       1000000ULL;
			set_st(c, id, 1);
			ret = t_ioctl(fd, MBX_IOC_SEND, &s);
			set_st(c, id, ret ? 3 : 2);
			if (ret)
				result(c, "closer send", ret, ok);
			else
				c->me->n[C_SENT]++;
		}
	} else {
		/* Wait for pool space; never write: the fd may be gone. */
		memset(&ab, 0, sizeof(ab));
		ab.len = 1 + below(&c->rng, 8192);
		ab.flags = wait_flags(c, mode, &ab.timeout_ns);
		if (mode == W_REL)
			ab.timeout_ns = (30 + below(&c->rng, 170)) * 1000000ULL;
		ret = t_ioctl(fd, MBX_IOC_BUF_ALLOC, &ab);
		if (!ret) {
			ret = mbx_buf_release(fd, ab.offset, ab.len);
			if (ret)
				result(c, "closer release", ret, A_BADF);
		} else {
			result(c, "closer alloc", ret, ok);
		}
	}

	fd = __atomic_exchange_n(&c->victim, -1, __ATOMIC_ACQ_REL);
	if (fd >= 0)
		close(fd);
	while (sem_wait(&c->disarmed))
		;
}

static void participant(struct shared *sh, int idx, uint32_t incarnation)
{
	struct pctx *c;
	pthread_t th;
	int i;

	c = calloc(1, sizeof(*c));
	if (!c)
		_exit(T_BAD_SETUP);
	c->sh = sh;
	c->me = &sh->part[idx];
	g_me = c->me;
	c->idx = idx;
	c->role = roles[idx];
	c->rng = mix64(sh->seed ^ mix64(((uint64_t)idx << 32) | incarnation));
	c->rng |= 1;
	c->hrng = mix64(c->rng) | 1;
	c->victim = -1;
	for (i = 0; i < NSLOT; i++)
		c->fd[i] = -1;
	c->dev = t_dev();
	if (c->dev < 0)
		_exit(T_BAD_SETUP);
	if (c->role == R_CLOSER) {
		c->main_tid = (pid_t)syscall(SYS_gettid);
		if (sem_init(&c->arm, 0, 0) || sem_init(&c->disarmed, 0, 0) ||
		    pthread_create(&th, NULL, closer_helper, c))
			_exit(T_BAD_SETUP);
	}

	while (!__atomic_load_n(&sh->stop, __ATOMIC_RELAXED)) {
		switch (c->role) {
		case R_PROD:
			producer_op(c);
			break;
		case R_CONS:
			consumer_op(c);
			break;
		case R_CLIENT:
			client_op(c);
			break;
		case R_SERVER:
			server_op(c);
			break;
		case R_CLOSER:
			closer_op(c);
			break;
		}
	}
	_exit(0);
}

/* ---- the chaos and the checks (the test process) ------------------------ */

struct chaos {
	uint64_t sigs[2], stops, kills, shutdowns, spawns, excused;
	uint64_t hung, bad_exit;
	int last_bad_status, last_bad_idx;
};

static int create_port(struct shared *sh, int slot, uint32_t gen)
{
	char name[MBX_NAME_LEN];
	struct mbx_port_create pc;
	int fd;

	memset(&pc, 0, sizeof(pc));
	pc.capacity = cfg[slot].cap;
	pc.max_msg_size = cfg[slot].msg;
	pc.pool_size = cfg[slot].pool;
	pc.mode = 0600;
	pc.flags = MBX_CLOEXEC;
	port_name(name, sh->owner, slot, gen);
	strcpy(pc.name, name);
	fd = mbx_port_create(MBX_DEV_AUTO, &pc);
	if (fd < 0)
		return fd;
	close(fd);		/* the name keeps it */
	return 0;
}

static int shutdown_port(struct shared *sh, int slot, uint32_t gen)
{
	char name[MBX_NAME_LEN];
	int fd, ret;

	port_name(name, sh->owner, slot, gen);
	fd = mbx_port_open(MBX_DEV_AUTO, name, MBX_RECV | MBX_CLOEXEC);
	if (fd < 0)
		return fd;
	ret = mbx_shutdown(fd);
	close(fd);
	return ret;
}

static pid_t spawn(struct shared *sh, int idx)
{
	uint32_t inc = sh->part[idx].incarnations++;
	pid_t pid = t_fork();

	if (pid == 0)
		participant(sh, idx, inc);
	sh->part[idx].pid = pid;
	return pid;
}

/* Reap whoever ended; respawn them unless stopping. */
static void reap(struct shared *sh, struct chaos *ch, bool respawn)
{
	int st, i;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (i = 0; i < NPART; i++)
			if (sh->part[i].pid == pid)
				break;
		if (i == NPART)
			continue;
		sh->part[i].pid = 0;
		if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) {
			/* What its receive in flight took was never logged. */
			ch->excused += sh->part[i].inflight;
			sh->part[i].inflight = 0;
		} else if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			ch->bad_exit++;
			ch->last_bad_status = st;
			ch->last_bad_idx = i;
		}
		if (respawn && spawn(sh, i) > 0)
			ch->spawns++;
	}
}

static uint64_t total(struct shared *sh, int cnt)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < NPART; i++)
		n += sh->part[i].n[cnt];
	return n;
}

/* Drain one port into the log; returns messages drained or -errno. */
static long drain(struct shared *sh, int slot, uint32_t gen,
		  struct mbx_port_info *info, uint64_t *bad_msgs)
{
	static uint8_t buf[BUF_SIZE];
	char name[MBX_NAME_LEN];
	struct mbx_recv r;
	const char *why;
	long n = 0, ret;
	uint64_t id;
	int fd;

	port_name(name, sh->owner, slot, gen);
	fd = mbx_port_open(MBX_DEV_AUTO, name, MBX_RECV | MBX_CLOEXEC);
	if (fd < 0)
		return fd;
	for (;;) {
		memset(&r, 0, sizeof(r));
		r.buf = (uintptr_t)buf;
		r.len = sizeof(buf);
		r.flags = MBX_NONBLOCK;
		ret = t_ioctl(fd, MBX_IOC_RECV, &r);
		if (ret == -EAGAIN || ret == -EPIPE)
			break;
		if (ret < 0) {
			n = ret;
			goto out;
		}
		n++;
		if (r.len < sizeof(struct hdr)) {
			(*bad_msgs)++;
			continue;
		}
		memcpy(&id, buf, sizeof(id));
		if (r.tag)
			id = r.tag & ~TAG_BIT;
		if (id >= sh->max_ids) {
			(*bad_msgs)++;
			continue;
		}
		sh->rc[id]++;
		why = bad_msg(buf, r.len, id);
		if (why)
			(*bad_msgs)++;
	}
	ret = t_info(fd, info);
	if (ret)
		n = ret;
out:
	close(fd);
	mbx_port_unlink(MBX_DEV_AUTO, name);
	return n;
}

FIXTURE(stress) {
	struct shared *sh;
	size_t size;
};

FIXTURE_SETUP(stress)
{
}

FIXTURE_TEARDOWN(stress)
{
	int s;
	uint32_t g;
	char name[MBX_NAME_LEN];

	if (!self->sh)
		return;
	/* Whatever a failed run left linked. */
	for (s = 0; s < NSLOT; s++)
		for (g = 0; g <= self->sh->gen[s]; g++) {
			port_name(name, self->sh->owner, s, g);
			mbx_port_unlink(MBX_DEV_AUTO, name);
		}
	munmap(self->sh, self->size);
}

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : def;
}

TEST_F_TIMEOUT(stress, chaos, 24 * 3600)
{
	bool debug = access("/proc/lockdep", F_OK) == 0;
	uint64_t target = env_u64("MBX_STRESS_MSGS", debug ? 40000 : 400000);
	uint64_t secs = env_u64("MBX_STRESS_SECS", debug ? 100 : 75);
	uint64_t seed = env_u64("MBX_STRESS_SEED", 0);
	uint64_t t0, t_end, tick = 0, rng, max_ids;
	uint64_t known_sent = 0, undecided = 0, undecided_recv = 0;
	uint64_t lost = 0, dup = 0, phantom = 0, recv_total = 0;
	uint64_t drained = 0, bad_drain = 0, k_sent = 0, k_recv = 0;
	uint64_t kill_every, sig_pct, shut_every, lost_ids[5];
	struct shared *sh;
	struct chaos ch;
	uint64_t id, i;
	double el;
	int s, p;

	if (!seed) {
		seed = t_now_ns() ^ ((uint64_t)getpid() << 32);
		seed = mix64(seed);
	}
	ksft_print_msg("stress: seed %llu (MBX_STRESS_SEED=%llu repeats it)\n",
		       (unsigned long long)seed, (unsigned long long)seed);
	ksft_print_msg("stress: target %llu messages, at most %llu s%s\n",
		       (unsigned long long)target, (unsigned long long)secs,
		       debug ? ", lockdep kernel" : "");

	max_ids = target * 4 + 200000;
	self->size = sizeof(*sh) + 2 * max_ids;
	sh = t_shared(self->size);
	ASSERT_NE(NULL, sh);
	self->sh = sh;
	sh->st = (uint8_t *)(sh + 1);
	sh->rc = sh->st + max_ids;
	sh->seed = seed;
	sh->max_ids = max_ids;
	sh->owner = getpid();
	rng = mix64(seed ^ 0xc4a05) | 1;
	memset(&ch, 0, sizeof(ch));

	/* A watchdog for the whole test: run, wind-down, drain. */
	alarm(secs + 300);
	ASSERT_EQ(0, t_handle(SIGUSR1, on_signal, SA_RESTART));
	ASSERT_EQ(0, t_handle(SIGUSR2, on_signal, 0));

	for (s = 0; s < NSLOT; s++)
		ASSERT_EQ(0, create_port(sh, s, 0)) TH_LOG("slot %d", s);
	for (p = 0; p < NPART; p++) {
		sh->part[p].role = roles[p];
		ASSERT_LT(0, spawn(sh, p));
	}

	/* Rates per 2 ms tick, lower on the slow debug kernel. */
	kill_every = debug ? 80 : 60;
	sig_pct = debug ? 20 : 40;
	shut_every = debug ? 1500 : 1000;

	t0 = t_now_ns();
	t_end = t0 + secs * 1000000000ULL;
	while (!__atomic_load_n(&sh->stop, __ATOMIC_RELAXED)) {
		uint64_t now = t_now_ns();

		reap(sh, &ch, true);
		if (now >= t_end || total(sh, C_SENT) >= target)
			break;
		tick++;
		p = below(&rng, NPART);
		if (below(&rng, 100) < sig_pct && sh->part[p].pid > 0) {
			int k = below(&rng, 2);

			kill(sh->part[p].pid, k ? SIGUSR2 : SIGUSR1);
			ch.sigs[k]++;
		}
		p = below(&rng, NPART);
		if (below(&rng, 1000) < 3 && sh->part[p].pid > 0) {
			kill(sh->part[p].pid, SIGSTOP);
			t_sleep_ms(1 + below(&rng, 5));
			kill(sh->part[p].pid, SIGCONT);
			ch.stops++;
		}
		p = below(&rng, NPART);
		if (below(&rng, kill_every) == 0 && sh->part[p].pid > 0) {
			kill(sh->part[p].pid, SIGKILL);
			ch.kills++;
		}
		s = below(&rng, NSLOT);
		if (below(&rng, shut_every) == 0 && sh->gen[s] + 1 < MAX_GEN) {
			uint32_t g = sh->gen[s];

			/* The new port first, then tell, then shut the old. */
			ASSERT_EQ(0, create_port(sh, s, g + 1));
			__atomic_store_n(&sh->gen[s], g + 1, __ATOMIC_RELEASE);
			ASSERT_EQ(0, shutdown_port(sh, s, g));
			ch.shutdowns++;
		}
		t_sleep_ms(2);
	}
	el = (t_now_ns() - t0) / 1e9;

	/* Wind down: stop, wake every waiter, reap everyone. */
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELAXED);
	for (s = 0; s < NSLOT; s++)
		EXPECT_EQ(0, shutdown_port(sh, s, sh->gen[s]));
	t_end = t_now_ns() + 60 * 1000000000ULL;
	for (;;) {
		int alive = 0;

		reap(sh, &ch, false);
		for (p = 0; p < NPART; p++)
			alive += sh->part[p].pid > 0;
		if (!alive)
			break;
		if (t_now_ns() > t_end) {
			for (p = 0; p < NPART; p++) {
				if (sh->part[p].pid <= 0)
					continue;
				ch.hung++;
				TH_LOG("%s %d (pid %d) did not finish within 60 s of the end",
				       role_name[roles[p]], p, sh->part[p].pid);
				kill(sh->part[p].pid, SIGKILL);
			}
			t_end = UINT64_MAX;
		}
		t_sleep_ms(5);
	}

	/* Drain every port ever made; the kernel's counters must agree. */
	for (s = 0; s < NSLOT; s++) {
		uint32_t g;

		for (g = 0; g <= sh->gen[s]; g++) {
			struct mbx_port_info info;
			long n = drain(sh, s, g, &info, &bad_drain);

			ASSERT_LE(0, n) TH_LOG("drain %s gen %u", slot_name[s], g);
			drained += n;
			k_sent += info.sent;
			k_recv += info.received;
			EXPECT_EQ(0, info.queued) TH_LOG("%s gen %u", slot_name[s], g);
			EXPECT_EQ(info.sent, info.received)
				TH_LOG("%s gen %u", slot_name[s], g);
			EXPECT_EQ(info.bytes_sent, info.bytes_received)
				TH_LOG("%s gen %u", slot_name[s], g);
			EXPECT_EQ(info.pool_size, info.pool_free)
				TH_LOG("pool of %s gen %u not free again", slot_name[s], g);
			EXPECT_EQ(0, info.send_waiting);
			EXPECT_EQ(0, info.recv_waiting);
		}
	}

	/* The ledger. */
	for (id = 0; id < sh->next_id && id < max_ids; id++) {
		uint8_t st = sh->st[id], rc = sh->rc[id];

		recv_total += rc;
		if (rc > 1) {
			if (dup++ < 5)
				TH_LOG("message %llu received %u times (send state %u)",
				       (unsigned long long)id, rc, st);
		}
		switch (st) {
		case 2:
			known_sent++;
			if (!rc && lost < 5)
				lost_ids[lost] = id;
			lost += !rc;
			break;
		case 1:
			undecided++;
			undecided_recv += rc ? 1 : 0;
			break;
		default:
			if (rc && phantom++ < 5)
				TH_LOG("message %llu received though its send %s",
				       (unsigned long long)id,
				       st ? "failed" : "was never attempted");
		}
	}
	if (lost > ch.excused)
		for (i = 0; i < 5 && i < lost; i++)
			TH_LOG("message %llu sent but never received",
			       (unsigned long long)lost_ids[i]);
	for (i = 0; i < NLOG && i < sh->nerr; i++)
		TH_LOG("unexpected: %s %d: %s: %s (%llu)",
		       role_name[roles[sh->errs[i].idx]], sh->errs[i].idx,
		       sh->errs[i].what, strerror(sh->errs[i].err),
		       (unsigned long long)sh->errs[i].id);
	for (i = 0; i < NLOG && i < sh->nbad; i++)
		TH_LOG("bad message: %s %d: message %llu: %s",
		       role_name[roles[sh->bads[i].idx]], sh->bads[i].idx,
		       (unsigned long long)sh->bads[i].id, sh->bads[i].what);
	if (ch.bad_exit)
		TH_LOG("%llu participants exited badly, last: %s %d status %#x",
		       (unsigned long long)ch.bad_exit,
		       role_name[roles[ch.last_bad_idx]], ch.last_bad_idx,
		       ch.last_bad_status);

	ksft_print_msg("stress: seed %llu, %.1f s of chaos, %.1f messages/s\n",
		       (unsigned long long)seed, el, known_sent / el);
	ksft_print_msg("stress: messages: %llu sent ok, %llu received (%llu by the final drain)\n",
		       (unsigned long long)known_sent,
		       (unsigned long long)recv_total,
		       (unsigned long long)drained);
	ksft_print_msg("stress: %llu undecided (sender killed mid-send), %llu of them received\n",
		       (unsigned long long)undecided,
		       (unsigned long long)undecided_recv);
	ksft_print_msg("stress: %llu never received, allowed: %llu (receives killed in flight)\n",
		       (unsigned long long)lost,
		       (unsigned long long)ch.excused);
	ksft_print_msg("stress: chaos: %llu SIGKILLs (%llu respawns), %llu port shutdowns\n",
		       (unsigned long long)ch.kills,
		       (unsigned long long)ch.spawns,
		       (unsigned long long)ch.shutdowns);
	ksft_print_msg("stress: chaos: %llu SIGUSR1 (SA_RESTART), %llu SIGUSR2, %llu SIGSTOPs\n",
		       (unsigned long long)ch.sigs[0],
		       (unsigned long long)ch.sigs[1],
		       (unsigned long long)ch.stops);
	ksft_print_msg("stress: kernel counters over %u ports: sent %llu, received %llu\n",
		       sh->gen[0] + sh->gen[1] + sh->gen[2] + sh->gen[3] +
		       sh->gen[4] + NSLOT,
		       (unsigned long long)k_sent, (unsigned long long)k_recv);
	{
		char line[1024];
		int o = 0, c;

		for (c = 0; c < NCNT; c++)
			o += snprintf(line + o, sizeof(line) - o, "%s%s %llu",
				      c ? ", " : "", cnt_name[c],
				      (unsigned long long)total(sh, c));
		ksft_print_msg("stress: calls: %s\n", line);
	}

	EXPECT_EQ(0, sh->nerr);
	EXPECT_EQ(0, sh->nbad);
	EXPECT_EQ(0, bad_drain);
	EXPECT_EQ(0, ch.bad_exit);
	EXPECT_EQ(0, ch.hung);
	EXPECT_EQ(0, dup);
	EXPECT_EQ(0, phantom);
	EXPECT_LE(lost, ch.excused);
	/* Every undecided message belongs to a sender killed mid-send. */
	EXPECT_LE(undecided, ch.kills * BATCH_MAX);
	/* The kernel counted what we know was sent, and maybe undecided ones. */
	EXPECT_LE(known_sent, k_sent);
	EXPECT_LE(k_sent, known_sent + undecided);
	EXPECT_EQ(k_sent, k_recv);
	/* What the kernel handed out, we logged, but for killed receives. */
	EXPECT_LE(recv_total, k_recv);
	EXPECT_LE(k_recv - recv_total, ch.excused);
	/* Each message never seen is one the kernel handed to a killed receiver. */
	EXPECT_LE(lost, k_recv - recv_total);
	/* Some real work and some real chaos happened. */
	EXPECT_LT(1000, known_sent);
	EXPECT_LT(0, ch.kills);
	alarm(0);
}

TEST_HARNESS_MAIN
