// SPDX-License-Identifier: GPL-2.0
/*
 * stress_test: the participants.  Each is a process in one role
 * (producer, consumer, client, server, closer: roles.c) that loops over
 * random calls on the current port of each slot until the test process
 * says stop, logging in the shared bookkeeping every message id it sends
 * (before the call) and receives (as soon as the call returns).  Here:
 * the random numbers and payloads, that bookkeeping, the choice of port,
 * mode and size, and the participant's main loop.  See stress_test.c for
 * the whole test.
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

#include "mbx_helpers.h"
#include "participant.h"

/* ---- random numbers and payloads -------------------------------------- */

uint64_t mix64(uint64_t x)
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

uint64_t below(uint64_t *s, uint64_t n)
{
	return n ? rnd(s) % n : 0;
}

void mk_msg(void *p, uint64_t id, uint32_t len)
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
const char *bad_msg(const void *p, uint64_t len, uint64_t id)
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

static struct part *g_me;

void on_signal(int sig)
{
	if (g_me)
		__atomic_add_fetch(&g_me->n[C_SIGS], 1, __ATOMIC_RELAXED);
}

void port_name(char *buf, pid_t owner, int slot, uint32_t gen)
{
	snprintf(buf, MBX_NAME_LEN, "mbxstress.%d.%d.%u", (int)owner, slot,
		 gen);
}

void log_ent(uint32_t *n, struct logent *log, int idx, int err,
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
void result(struct pctx *c, const char *what, long ret,
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
uint64_t new_ids(struct pctx *c, unsigned int n)
{
	uint64_t id = __atomic_fetch_add(&c->sh->next_id, n, __ATOMIC_RELAXED);

	if (id + n > c->sh->max_ids) {
		__atomic_store_n(&c->sh->stop, 1, __ATOMIC_RELAXED);
		return UINT64_MAX;
	}
	return id;
}

void set_st(struct pctx *c, uint64_t id, uint8_t v)
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

uint32_t msg_len(struct pctx *c, int slot)
{
	return sizeof(struct hdr) + below(&c->rng, cfg[slot].msg -
					  sizeof(struct hdr) + 1);
}

uint32_t prio(struct pctx *c)
{
	return below(&c->rng, 2) ? below(&c->rng, MBX_PRIO_MAX + 1) : 0;
}

/* Flags and timeout for a waiting mode; counts the mode. */
uint32_t wait_flags(struct pctx *c, int mode, __u64 *timeout)
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

int pick_mode(struct pctx *c)
{
	unsigned int m = below(&c->rng, 100);

	return m < 35 ? W_BLOCK : m < 55 ? W_NB : m < 80 ? W_REL : W_ABS;
}

/* Errors a call in @mode on @slot's fd may give besides EINTR and EPIPE. */
unsigned int allowed(struct pctx *c, int slot, int mode)
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
int ensure(struct pctx *c, int slot, uint32_t need)
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
void got(struct pctx *c, int fd, const struct mbx_recv *r,
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

void participant(struct shared *sh, int idx, uint32_t incarnation)
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
