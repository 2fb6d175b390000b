// SPDX-License-Identifier: GPL-2.0
/*
 * stress_test: what each role of a participant does in one step: a
 * producer sends (one message, a batch, a pool region), a consumer
 * receives (the same ways), a client calls and a server replies, and a
 * closer blocks while its helper thread closes the fd under it.  See
 * participant.c and stress_test.c.
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

void producer_op(struct pctx *c)
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

void consumer_op(struct pctx *c)
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
void client_op(struct pctx *c)
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
void server_op(struct pctx *c)
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

void *closer_helper(void *arg)
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

void closer_op(struct pctx *c)
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
