// SPDX-License-Identifier: GPL-2.0
/*
 * Misuse fuzz of the zero-copy pool: 100 000 random MBX_IOC_BUF_ALLOC,
 * MBX_IOC_SEND (pool and copy mode), MBX_IOC_RECV (in place and plain) and
 * MBX_IOC_BUF_RELEASE calls with random fds, offsets, lengths, priorities
 * and the occasional bad flag, against a user-space model of who holds
 * what (docs/SEMANTICS.md, "Zero copy").
 *
 * Four fds of one named port, all non-blocking: A (the creator, send and
 * receive, mapped read-write), B (opened send and receive, unmapped, now
 * and then closed and reopened), R (receive only, mapped read-only) and S
 * (send only).
 *
 * For every call the model computes the set of errors the rules allow
 * (empty: the call must succeed).  The kernel must never accept a call the
 * model says must fail, never fail one it says must succeed, and fail only
 * with an allowed errno.  Received messages must be the model's queue head
 * (tag, priority, length, kind) with their payload intact; allocations (a
 * quarter of them of whole pages, MBX_BUF_PAGES) must be disjoint from
 * every live region and where first fit puts them.  Every 64 calls
 * PORT_INFO must agree with the model: queued, and pool_free == pool_size
 * minus the 64-byte-rounded sizes of all live regions.  At the end
 * everything queued is drained and everything held released; the pool
 * must be entirely free and the queue empty.
 *
 * The seed is random unless MBX_FUZZ_SEED is set; it is printed with every
 * divergence and at the end.  A divergence is counted and the run goes on
 * (the model adopts what the kernel did when it accepted a call) unless the
 * model can no longer follow the kernel.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "mbx_helpers.h"

#define FZ_OPS		100000
#define FZ_POOL		(64 * 1024)
#define FZ_CAP		16
#define FZ_MSG		512
#define FZ_GRAN		64
#define FZ_SLOTS	(FZ_POOL / FZ_GRAN)
#define FZ_MAX_SEC	150	/* runtime bound of the random calls */
#define FZ_KINDS	32	/* kinds of divergence told apart */
#define ALIGN64(x)	(((x) + 63) & ~(uint64_t)63)

enum { FA, FB, FR, FS, NFD };
static const char *const fd_name[NFD] = { "A", "B", "R", "S" };
static const int can_send[NFD] = { 1, 1, 0, 1 };
static const int can_recv[NFD] = { 1, 1, 1, 0 };

#define QUEUED		(-1)

/* Allowed outcomes of one call: a bit per errno, OK for success. */
#define OK		(1U << 0)
#define E_INVAL		(1U << 1)
#define E_PERM		(1U << 2)
#define E_BADF		(1U << 3)
#define E_AGAIN		(1U << 4)
#define E_MSGSIZE	(1U << 5)

static unsigned int outcome(long ret)
{
	switch (ret) {
	case 0:
		return OK;
	case -EINVAL:
		return E_INVAL;
	case -EPERM:
		return E_PERM;
	case -EBADF:
		return E_BADF;
	case -EAGAIN:
		return E_AGAIN;
	case -EMSGSIZE:
		return E_MSGSIZE;
	}
	return 1U << 31;	/* never allowed */
}

struct region {
	int live;
	int holder;		/* an fd index, or QUEUED */
	uint64_t alloc_len;	/* as allocated */
	uint64_t size;		/* bytes reserved: its footprint */
	uint64_t cur_len;	/* as allocated, sent or received: its length */
};

struct qmsg {
	uint64_t tag;
	uint32_t prio;
	int pool;
	uint64_t off;
	uint64_t len;
	int checkable;		/* payload written as the model expected */
};

/* One kind of divergence: a call, what the model allowed, what happened. */
struct kind {
	const char *what;
	unsigned int allowed;
	long ret;
	unsigned long count;
	unsigned long first_op;
};

struct fz {
	struct __test_metadata *md;
	struct kind kinds[FZ_KINDS];
	unsigned int nkinds;
	uint64_t seed, rng;
	char name[MBX_NAME_LEN];
	int fd[NFD];
	uint8_t *base;		/* A's read-write mapping */
	const uint8_t *rbase;	/* R's read-only mapping */
	struct region reg[FZ_SLOTS];	/* by offset / 64 */
	struct qmsg q[FZ_CAP];	/* in send order */
	unsigned int nq;
	uint64_t next_tag;
	unsigned long op;
	unsigned long divergences;
	int lost;		/* the model cannot follow the kernel any more */
	uint8_t buf[FZ_POOL];
	unsigned long calls[4], ok[4];
};

/* ---- random numbers and payloads --------------------------------------- */

static uint64_t rnd(struct fz *f)
{
	f->rng ^= f->rng >> 12;
	f->rng ^= f->rng << 25;
	f->rng ^= f->rng >> 27;
	return f->rng * 0x2545f4914f6cdd1dULL;
}

/* 0..n-1 */
static uint64_t below(struct fz *f, uint64_t n)
{
	return n ? rnd(f) % n : 0;
}

/* true with probability @pct percent */
static int pct(struct fz *f, unsigned int pct)
{
	return below(f, 100) < pct;
}

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static void pat_fill(void *p, size_t len, uint64_t seed)
{
	uint8_t *b = p;
	uint64_t w;
	size_t i;

	for (i = 0; i < len; i += 8) {
		w = mix64(seed << 32 ^ i);
		memcpy(b + i, &w, len - i < 8 ? len - i : 8);
	}
}

static int pat_check(const void *p, size_t len, uint64_t seed)
{
	const uint8_t *b = p;
	uint64_t w;
	size_t i;

	for (i = 0; i < len; i += 8) {
		w = mix64(seed << 32 ^ i);
		if (memcmp(b + i, &w, len - i < 8 ? len - i : 8))
			return 0;
	}
	return 1;
}

static long buf_release_raw(int fd, uint64_t off, uint64_t len)
{
	struct mbx_buf b = { .offset = off, .len = len };

	return t_ioctl(fd, MBX_IOC_BUF_RELEASE, &b);
}

/* ---- the model ---------------------------------------------------------- */

/* The live region starting at @off, or NULL. */
static struct region *region_at(struct fz *f, uint64_t off)
{
	struct region *r;

	if (off % FZ_GRAN || off >= FZ_POOL)
		return NULL;
	r = &f->reg[off / FZ_GRAN];
	return r->live ? r : NULL;
}

/* 1 if [@off, @off + @size) covers only free granules. */
static int range_free(struct fz *f, uint64_t off, uint64_t size)
{
	uint64_t s, e;
	unsigned int i;

	for (i = 0; i < FZ_SLOTS; i++) {
		if (!f->reg[i].live)
			continue;
		s = (uint64_t)i * FZ_GRAN;
		e = s + f->reg[i].size;
		if (s < off + size && off < e)
			return 0;
	}
	return 1;
}

/*
 * Where first fit puts @size bytes (@pages: from a page boundary): the
 * lowest such offset of a run of free granules that holds them, or -1.
 */
static uint64_t first_fit(struct fz *f, uint64_t size, int pages)
{
	uint64_t run = 0, need = size / FZ_GRAN, start = 0;
	unsigned int i = 0;

	while (i < FZ_SLOTS) {
		if (f->reg[i].live) {
			run = 0;
			i += f->reg[i].size / FZ_GRAN;
			continue;
		}
		if (!run) {
			if (pages && (uint64_t)i * FZ_GRAN % 4096) {
				i++;
				continue;
			}
			start = (uint64_t)i * FZ_GRAN;
		}
		if (++run >= need)
			return start;
		i++;
	}
	return UINT64_MAX;
}

static uint64_t model_free(struct fz *f)
{
	uint64_t used = 0;
	unsigned int i;

	for (i = 0; i < FZ_SLOTS; i++)
		if (f->reg[i].live)
			used += f->reg[i].size;
	return FZ_POOL - used;
}

/* A random live region's offset, or a random bad one if there is none. */
static uint64_t pick_offset(struct fz *f, int want_live)
{
	unsigned int i, start;

	if (want_live) {
		start = below(f, FZ_SLOTS);
		for (i = 0; i < FZ_SLOTS; i++) {
			unsigned int s = (start + i) % FZ_SLOTS;

			if (f->reg[s].live)
				return (uint64_t)s * FZ_GRAN;
		}
	}
	switch (below(f, 6)) {
	case 0:		/* maybe free, maybe inside a region */
		return below(f, FZ_SLOTS) * FZ_GRAN;
	case 1:		/* unaligned */
		return below(f, FZ_POOL) | 1;
	case 2:
		return FZ_POOL + below(f, 4) * FZ_GRAN;
	case 3:
		return UINT64_MAX - below(f, 2) * 63;
	case 4:
		return 1ULL << (32 + below(f, 32));
	default:
		return below(f, FZ_SLOTS) * FZ_GRAN + FZ_GRAN;
	}
}

/* Mostly the fd holding the region at @off (if any), else any fd. */
static int pick_fd(struct fz *f, uint64_t off)
{
	struct region *r = region_at(f, off);

	if (r && r->holder != QUEUED && pct(f, 60))
		return r->holder;
	return below(f, NFD);
}

/* Index of the queue head: highest priority, first sent. */
static int q_head(struct fz *f)
{
	int best = -1;
	unsigned int i;

	for (i = 0; i < f->nq; i++)
		if (best < 0 || f->q[i].prio > f->q[best].prio)
			best = i;
	return best;
}

static void q_remove(struct fz *f, int i)
{
	memmove(&f->q[i], &f->q[i + 1], (f->nq - i - 1) * sizeof(f->q[0]));
	f->nq--;
}

static void free_held_by(struct fz *f, int fd)
{
	unsigned int i;

	for (i = 0; i < FZ_SLOTS; i++)
		if (f->reg[i].live && f->reg[i].holder == fd)
			f->reg[i].live = 0;
}

/* ---- divergences -------------------------------------------------------- */

#define _metadata (f->md)

static void diverge(struct fz *f, const char *what, long ret,
		    unsigned int allowed, const char *fmt, ...)
{
	struct kind *k = NULL;
	char detail[256];
	unsigned int i;
	va_list ap;

	f->divergences++;
	for (i = 0; i < f->nkinds; i++)
		if (f->kinds[i].what == what && f->kinds[i].allowed == allowed &&
		    f->kinds[i].ret == ret)
			k = &f->kinds[i];
	if (!k && f->nkinds < FZ_KINDS) {
		k = &f->kinds[f->nkinds++];
		*k = (struct kind){ .what = what, .allowed = allowed,
				    .ret = ret, .first_op = f->op };
	}
	if (k && k->count++)
		return;		/* logged in detail the first time */
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	TH_LOG("seed %llu op %lu: %s returned %ld (%s), allowed outcomes %#x: %s",
	       (unsigned long long)f->seed, f->op, what, ret,
	       ret ? strerror((int)-ret) : "success", allowed, detail);
}

/* Check @ret against @allowed; 1 if the kernel says the call succeeded. */
static int judge(struct fz *f, const char *what, long ret,
		 unsigned int allowed, const char *detail)
{
	if (!(outcome(ret) & allowed))
		diverge(f, what, ret, allowed, "%s", detail);
	return ret == 0;
}

/* ---- the calls ---------------------------------------------------------- */

static void op_alloc(struct fz *f)
{
	int fd = below(f, NFD), bad = 0, pages = pct(f, 25);
	uint64_t len, size, at = UINT64_MAX;
	unsigned int allowed = 0;
	struct mbx_buf b;
	char d[160];
	long ret;

	switch (below(f, 20)) {
	case 0:
		len = 0;
		break;
	case 1:
		len = FZ_POOL + 1 + below(f, FZ_POOL);
		break;
	case 2:
		len = UINT64_MAX - below(f, 64);
		break;
	case 3:
		len = 1 + below(f, FZ_POOL);
		break;
	case 4:
	case 5:
	case 6:
		len = 1 + below(f, 64);
		break;
	default:
		len = 1 + below(f, 4096);
		break;
	}
	memset(&b, 0, sizeof(b));
	b.len = len;
	b.flags = MBX_NONBLOCK | (pages ? MBX_BUF_PAGES : 0);
	size = pages ? (len + 4095) / 4096 * 4096 : ALIGN64(len);
	if (pct(f, 2)) {
		b.flags |= pct(f, 50) ? MBX_SEND_BUF : 1U << 20;
		bad = 1;
	} else if (pct(f, 2)) {
		b.reserved = 1;
		bad = 1;
	}

	if (!can_send[fd])
		allowed |= E_BADF;
	if (bad || !len || len > FZ_POOL)
		allowed |= E_INVAL;
	if (!allowed) {
		at = first_fit(f, size, pages);
		if (at == UINT64_MAX)
			allowed |= E_AGAIN;
	}
	if (!allowed)
		allowed = OK;

	snprintf(d, sizeof(d), "alloc fd %s len %llu flags %#x reserved %u",
		 fd_name[fd], (unsigned long long)len, b.flags, b.reserved);
	ret = t_ioctl(f->fd[fd], MBX_IOC_BUF_ALLOC, &b);
	f->calls[0]++;
	if (!judge(f, "BUF_ALLOC", ret, allowed, d))
		return;
	f->ok[0]++;
	if (b.offset % FZ_GRAN || b.offset >= FZ_POOL ||
	    size > FZ_POOL - b.offset || !range_free(f, b.offset, size)) {
		diverge(f, "BUF_ALLOC", ret, allowed,
			"%s: offset %llu is not a free aligned range", d,
			(unsigned long long)b.offset);
		f->lost = 1;
		return;
	}
	/* Regions are handed out first fit (extent.c), pages or not. */
	if (b.offset != at)
		diverge(f, "BUF_ALLOC", ret, allowed,
			"%s: offset %llu, first fit is %llu", d,
			(unsigned long long)b.offset, (unsigned long long)at);
	f->reg[b.offset / FZ_GRAN] = (struct region){
		.live = 1, .holder = fd, .alloc_len = len, .cur_len = len,
		.size = size,
	};
}

static void op_send_buf(struct fz *f)
{
	int fd, bad = 0, i;
	unsigned int allowed = 0;
	struct mbx_send s;
	struct region *r;
	uint64_t off, len;
	char d[200];
	long ret;

	off = pick_offset(f, pct(f, 80));
	fd = pick_fd(f, off);
	r = region_at(f, off);
	if (r) {
		uint64_t rounded = ALIGN64(r->alloc_len);

		switch (below(f, 10)) {
		case 0:
		case 1:
		case 2:
			len = below(f, r->cur_len + 1);
			break;
		case 3:
		case 4:
			len = r->cur_len;
			break;
		case 5:		/* more than received, if forwarding */
			len = r->alloc_len;
			break;
		case 6:		/* past the length, inside the rounding */
			len = r->cur_len < rounded ?
			      r->cur_len + 1 + below(f, rounded - r->cur_len) :
			      rounded + 1;
			break;
		case 7:
			len = rounded + 1 + below(f, FZ_POOL);
			break;
		case 8:		/* off + len wraps past 2^64 */
			len = off ? UINT64_MAX - off + 1 + below(f, off) :
				    UINT64_MAX;
			break;
		default:
			len = UINT64_MAX - below(f, 3);
			break;
		}
	} else {
		len = below(f, 4096);
	}

	memset(&s, 0, sizeof(s));
	s.offset = off;
	s.len = len;
	s.prio = below(f, MBX_PRIO_MAX + 1);
	s.tag = ++f->next_tag;
	s.flags = MBX_SEND_BUF | MBX_NONBLOCK;
	switch (below(f, 50)) {
	case 0:
		s.prio = MBX_PRIO_MAX + 1 + below(f, 100);
		bad = 1;
		break;
	case 1:
		s.buf = (uintptr_t)f->buf;
		bad = 1;
		break;
	case 2:
		s.flags |= pct(f, 50) ? MBX_RECV_INPLACE : 1U << 20;
		bad = 1;
		break;
	}

	if (!can_send[fd])
		allowed |= E_BADF;
	if (bad || !r)
		allowed |= E_INVAL;
	if (r && r->holder != fd)
		allowed |= E_PERM;
	if (r && len > r->cur_len)	/* as allocated or received */
		allowed |= E_INVAL;
	if (!allowed && f->nq == FZ_CAP)
		allowed |= E_AGAIN;
	if (!allowed) {
		allowed = OK;
		pat_fill(f->base + off, len, s.tag);
	}

	snprintf(d, sizeof(d),
		 "send_buf fd %s offset %#llx len %#llx prio %u flags %#x buf %d; region %s holder %d alloc_len %llu cur_len %llu, queued %u",
		 fd_name[fd], (unsigned long long)off, (unsigned long long)len,
		 s.prio, s.flags, s.buf != 0, r ? "live" : "none",
		 r ? r->holder : 0, r ? (unsigned long long)r->alloc_len : 0,
		 r ? (unsigned long long)r->cur_len : 0, f->nq);
	ret = t_ioctl(f->fd[fd], MBX_IOC_SEND, &s);
	f->calls[1]++;
	if (!judge(f, "SEND(BUF)", ret, allowed, d))
		return;
	f->ok[1]++;
	if (!r || f->nq == FZ_CAP) {
		f->lost = 1;	/* a message the model cannot place */
		return;
	}
	r->holder = QUEUED;
	r->cur_len = len;
	i = f->nq++;
	f->q[i] = (struct qmsg){ .tag = s.tag, .prio = s.prio, .pool = 1,
				 .off = off, .len = len,
				 .checkable = allowed == OK };
}

static void op_send_copy(struct fz *f)
{
	int fd = below(f, NFD), bad = 0, i;
	unsigned int allowed = 0;
	struct mbx_send s;
	char d[160];
	uint64_t len;
	long ret;

	len = pct(f, 90) ? below(f, FZ_MSG + 1) : FZ_MSG + 1 + below(f, 100);
	memset(&s, 0, sizeof(s));
	s.buf = (uintptr_t)f->buf;
	s.len = len;
	s.prio = below(f, MBX_PRIO_MAX + 1);
	s.tag = ++f->next_tag;
	s.flags = MBX_NONBLOCK;
	switch (below(f, 50)) {
	case 0:
		s.prio = MBX_PRIO_MAX + 1;
		bad = 1;
		break;
	case 1:
		s.offset = 64;
		bad = 1;
		break;
	}
	pat_fill(f->buf, len, s.tag);

	if (!can_send[fd])
		allowed |= E_BADF;
	if (bad)
		allowed |= E_INVAL;
	if (len > FZ_MSG)
		allowed |= E_MSGSIZE;
	if (!allowed && f->nq == FZ_CAP)
		allowed |= E_AGAIN;
	if (!allowed)
		allowed = OK;

	snprintf(d, sizeof(d), "send copy fd %s len %llu prio %u offset %llu, queued %u",
		 fd_name[fd], (unsigned long long)len, s.prio,
		 (unsigned long long)s.offset, f->nq);
	ret = t_ioctl(f->fd[fd], MBX_IOC_SEND, &s);
	f->calls[1]++;
	if (!judge(f, "SEND(copy)", ret, allowed, d))
		return;
	f->ok[1]++;
	if (f->nq == FZ_CAP) {
		f->lost = 1;
		return;
	}
	i = f->nq++;
	f->q[i] = (struct qmsg){ .tag = s.tag, .prio = s.prio, .len = len,
				 .checkable = allowed == OK };
}

static void op_recv(struct fz *f, int fd, int inplace, uint64_t buflen,
		    int bad)
{
	unsigned int allowed = 0;
	struct qmsg *m = NULL;
	struct mbx_recv rv;
	int h = q_head(f);
	char d[200];
	long ret;

	memset(&rv, 0, sizeof(rv));
	rv.buf = (uintptr_t)f->buf;
	rv.len = buflen;
	rv.flags = MBX_NONBLOCK | (inplace ? MBX_RECV_INPLACE : 0);
	if (bad == 1)
		rv.flags |= MBX_SEND_BUF;
	else if (bad == 2)
		rv.dropped = 1;

	if (!can_recv[fd])
		allowed |= E_BADF;
	if (bad)
		allowed |= E_INVAL;
	if (h >= 0)
		m = &f->q[h];
	if (!allowed) {
		if (!m)
			allowed = E_AGAIN;
		else if (!(m->pool && inplace) && m->len > buflen)
			allowed = E_MSGSIZE;
	}
	if (!allowed)
		allowed = OK;

	snprintf(d, sizeof(d),
		 "recv fd %s inplace %d buflen %llu bad %d; head %llu/%u/%d/%llu, queued %u",
		 fd_name[fd], inplace, (unsigned long long)buflen, bad,
		 m ? (unsigned long long)m->tag : 0, m ? m->prio : 0,
		 m ? m->pool : 0, m ? (unsigned long long)m->len : 0, f->nq);
	ret = t_ioctl(f->fd[fd], MBX_IOC_RECV, &rv);
	f->calls[2]++;
	if (ret == -EMSGSIZE && m && rv.len != m->len)
		diverge(f, "RECV", ret, allowed,
			"%s: EMSGSIZE reported len %llu", d,
			(unsigned long long)rv.len);
	if (!judge(f, "RECV", ret, allowed, d))
		return;
	f->ok[2]++;
	if (!m) {
		f->lost = 1;	/* a message the model does not know */
		return;
	}
	if (rv.tag != m->tag || rv.prio != m->prio || rv.len != m->len ||
	    rv.msg_flags != (m->pool && inplace ? MBX_MSG_BUF : 0) ||
	    (rv.msg_flags && rv.offset != m->off)) {
		diverge(f, "RECV", ret, allowed,
			"%s: got tag %llu prio %u len %llu msg_flags %#x offset %#llx",
			d, (unsigned long long)rv.tag, rv.prio,
			(unsigned long long)rv.len, rv.msg_flags,
			(unsigned long long)rv.offset);
		f->lost = 1;
		return;
	}
	if (m->checkable &&
	    !pat_check(rv.msg_flags ? f->rbase + m->off : f->buf, m->len,
		       m->tag))
		diverge(f, "RECV", ret, allowed, "%s: payload corrupted", d);
	if (m->pool) {
		struct region *r = region_at(f, m->off);

		if (inplace) {
			r->holder = fd;
			r->cur_len = m->len;
		} else {
			r->live = 0;
		}
	}
	q_remove(f, h);
}

static void op_recv_random(struct fz *f)
{
	uint64_t buflen;
	int bad = 0;

	switch (below(f, 4)) {
	case 0:
		buflen = 0;
		break;
	case 1:
		buflen = below(f, FZ_MSG + 1);
		break;
	default:
		buflen = FZ_POOL;
		break;
	}
	if (pct(f, 3))
		bad = 1 + pct(f, 50);
	op_recv(f, below(f, NFD), pct(f, 50), buflen, bad);
}

static void op_release(struct fz *f, int fd, uint64_t off, uint64_t len,
		       int bad)
{
	struct region *r = region_at(f, off);
	unsigned int allowed = 0;
	struct mbx_buf b;
	char d[200];
	long ret;

	memset(&b, 0, sizeof(b));
	b.offset = off;
	b.len = len;
	if (bad == 1)
		b.flags = MBX_NONBLOCK;
	else if (bad == 2)
		b.reserved = 1;

	if (bad || !r)
		allowed |= E_INVAL;
	if (r && r->holder != fd)
		allowed |= E_PERM;	/* another fd's, or queued */
	if (r && len != r->cur_len)
		allowed |= E_INVAL;
	if (!allowed)
		allowed = OK;

	snprintf(d, sizeof(d),
		 "release fd %s off %#llx len %#llx bad %d; region %s/%d/%llu/%llu",
		 fd_name[fd], (unsigned long long)off, (unsigned long long)len,
		 bad, r ? "live" : "none", r ? r->holder : 0,
		 r ? (unsigned long long)r->alloc_len : 0,
		 r ? (unsigned long long)r->cur_len : 0);
	ret = t_ioctl(f->fd[fd], MBX_IOC_BUF_RELEASE, &b);
	f->calls[3]++;
	if (!judge(f, "BUF_RELEASE", ret, allowed, d))
		return;
	f->ok[3]++;
	if (!r) {
		f->lost = 1;
		return;
	}
	r->live = 0;
}

static void op_release_random(struct fz *f)
{
	uint64_t off = pick_offset(f, pct(f, 80)), len;
	struct region *r = region_at(f, off);
	int bad = 0;

	if (r) {
		switch (below(f, 10)) {
		case 0:
		case 1:
		case 2:
		case 3:
		case 4:
		case 5:
			len = r->cur_len;
			break;
		case 6:
			len = r->alloc_len;
			break;
		case 7:
			len = r->cur_len + 1;
			break;
		case 8:
			len = r->cur_len ? r->cur_len - 1 : 1;
			break;
		default:
			len = pct(f, 50) ? UINT64_MAX : ALIGN64(r->alloc_len) + 64;
			break;
		}
	} else {
		len = below(f, 4096);
	}
	if (pct(f, 3))
		bad = 1 + pct(f, 50);
	op_release(f, pick_fd(f, off), off, len, bad);
}

/* Close B, which frees what it holds, and open it again. */
static void op_reopen_b(struct fz *f)
{
	close(f->fd[FB]);
	free_held_by(f, FB);
	f->fd[FB] = mbx_port_open(MBX_DEV_AUTO, f->name,
				  MBX_SEND | MBX_RECV | MBX_NONBLOCK);
	if (f->fd[FB] < 0) {
		diverge(f, "PORT_OPEN", f->fd[FB], OK, "reopening B");
		f->lost = 1;
	}
}

/* PORT_INFO agrees with the model. */
static void check_info(struct fz *f)
{
	struct mbx_port_info info;

	if (t_info(f->fd[FA], &info)) {
		f->lost = 1;
		return;
	}
	if (info.queued != f->nq || info.pool_free != model_free(f)) {
		diverge(f, "PORT_INFO", 0, OK,
			"queued %u pool_free %llu, model %u and %llu",
			info.queued, (unsigned long long)info.pool_free, f->nq,
			(unsigned long long)model_free(f));
		f->lost = 1;
	}
}

/* Receive everything queued in place through A, then release every region. */
static void drain(struct fz *f)
{
	unsigned int i;

	while (f->nq && !f->lost)
		op_recv(f, FA, 1, FZ_POOL, 0);
	for (i = 0; i < FZ_SLOTS && !f->lost; i++)
		if (f->reg[i].live)
			op_release(f, f->reg[i].holder, (uint64_t)i * FZ_GRAN,
				   f->reg[i].cur_len, 0);
}

#undef _metadata

FIXTURE(fuzz) {
	int unused;
};

FIXTURE_SETUP(fuzz)
{
}

FIXTURE_TEARDOWN(fuzz)
{
	t_unlink_all();
}

TEST_F_TIMEOUT(fuzz, pool_misuse_fuzz_ends_with_pool_free, 240)
{
	struct mbx_port_create c;
	struct mbx_port_info info;
	uint64_t t0, secs;
	const char *env;
	unsigned int i;
	struct fz *f;
	size_t size;
	int err = 0;

	f = calloc(1, sizeof(*f));
	ASSERT_NE(NULL, f);
	f->md = _metadata;
	env = getenv("MBX_FUZZ_SEED");
	f->seed = env ? strtoull(env, NULL, 0) : t_now_ns() ^ getpid();
	f->rng = mix64(f->seed) | 1;

	memset(&c, 0, sizeof(c));
	c.capacity = FZ_CAP;
	c.max_msg_size = FZ_MSG;
	c.mode = 0600;
	c.pool_size = FZ_POOL;
	c.flags = MBX_NONBLOCK;
	t_name(f->name, "fuzz");
	strcpy(c.name, f->name);
	f->fd[FA] = mbx_port_create(MBX_DEV_AUTO, &c);
	ASSERT_LE(0, f->fd[FA]);
	f->fd[FB] = mbx_port_open(MBX_DEV_AUTO, f->name,
				  MBX_SEND | MBX_RECV | MBX_NONBLOCK);
	ASSERT_LE(0, f->fd[FB]);
	f->fd[FR] = mbx_port_open(MBX_DEV_AUTO, f->name,
				  MBX_RECV | MBX_NONBLOCK);
	ASSERT_LE(0, f->fd[FR]);
	f->fd[FS] = mbx_port_open(MBX_DEV_AUTO, f->name,
				  MBX_SEND | MBX_NONBLOCK);
	ASSERT_LE(0, f->fd[FS]);
	ASSERT_EQ(0, mbx_pool_map(f->fd[FA], (void **)&f->base, &size));
	ASSERT_EQ(FZ_POOL, size);
	ASSERT_EQ(0, mbx_pool_map(f->fd[FR], (void **)&f->rbase, &size));

	t0 = t_now_ns();
	for (f->op = 0; f->op < FZ_OPS && !f->lost; f->op++) {
		unsigned int dice = below(f, 1000);

		if (dice < 250)
			op_alloc(f);
		else if (dice < 480)
			op_send_buf(f);
		else if (dice < 540)
			op_send_copy(f);
		else if (dice < 780)
			op_recv_random(f);
		else if (dice < 995)
			op_release_random(f);
		else
			op_reopen_b(f);
		if (f->op % 64 == 0 || dice >= 995)
			check_info(f);
		if (f->op % 1024 == 0 &&
		    t_now_ns() - t0 > FZ_MAX_SEC * 1000000000ULL) {
			err = 1;
			break;
		}
	}
	secs = (t_now_ns() - t0) / 1000000;
	TH_LOG("seed %llu: %lu of %d calls in %llu ms; ok/tried: alloc %lu/%lu, send %lu/%lu,",
	       (unsigned long long)f->seed, f->op, FZ_OPS,
	       (unsigned long long)secs, f->ok[0], f->calls[0], f->ok[1],
	       f->calls[1]);
	TH_LOG("  recv %lu/%lu, release %lu/%lu; %lu divergences",
	       f->ok[2], f->calls[2], f->ok[3], f->calls[3], f->divergences);
	ASSERT_EQ(0, err) TH_LOG("seed %llu: runtime bound of %d s exceeded",
				 (unsigned long long)f->seed, FZ_MAX_SEC);
	ASSERT_EQ(0, f->lost) TH_LOG("seed %llu: the model lost track at call %lu",
				     (unsigned long long)f->seed, f->op);

	drain(f);
	ASSERT_EQ(0, f->lost) TH_LOG("seed %llu: lost track while draining",
				     (unsigned long long)f->seed);
	ASSERT_EQ(0, t_info(f->fd[FA], &info));
	ASSERT_EQ(0, info.queued) TH_LOG("seed %llu", (unsigned long long)f->seed);
	ASSERT_EQ(FZ_POOL, info.pool_free)
		TH_LOG("seed %llu: pool not entirely free after draining",
		       (unsigned long long)f->seed);
	for (i = 0; i < f->nkinds; i++)
		TH_LOG("divergence: %s returned %ld, allowed %#x: %lu times, first at call %lu",
		       f->kinds[i].what, f->kinds[i].ret, f->kinds[i].allowed,
		       f->kinds[i].count, f->kinds[i].first_op);
	ASSERT_EQ(0, f->divergences)
		TH_LOG("seed %llu: the kernel broke the rules (first case of each above)",
		       (unsigned long long)f->seed);
	free(f);
}

/* ---- concurrent holders, some killed -------------------------------- */

#define CC_PROCS	4
#define CC_KILLED	2	/* the first CC_KILLED children get SIGKILL */
#define CC_OPS		20000
#define CC_POOL		(256 * 1024)
#define CC_CAP		32
#define CC_MAXLEN	8192
#define CC_HELD		64

struct cc_held {
	uint64_t off, len, tag;
};

/*
 * One child: random non-blocking alloc / send / receive (in place or not)
 * / release / close-and-reopen on its own fd.  Every payload is the
 * pattern of its tag, checked whenever the child holds or receives it, so
 * a region handed to two holders at once shows up as corruption.  Regions
 * are held by this fd alone, so a send or release of one it holds may only
 * fail for a full queue.  Returns 0, an errno or T_BAD_DATA.
 */
static int cc_child(const char *name, unsigned int id, uint64_t seed)
{
	static uint8_t buf[CC_MAXLEN];
	struct cc_held held[CC_HELD];
	unsigned int nheld = 0, i;
	static struct fz rf;	/* for its random numbers */
	struct fz *f = &rf;
	uint64_t n = 0;
	struct mbx_recv rv;
	uint8_t *base;
	size_t size;
	long ret;
	int fd, op;

	f->rng = mix64(seed ^ (id + 1)) | 1;
	fd = mbx_port_open(MBX_DEV_AUTO, name,
			   MBX_SEND | MBX_RECV | MBX_NONBLOCK);
	if (fd < 0 || mbx_pool_map(fd, (void **)&base, &size))
		return T_BAD_SETUP;
	for (op = 0; op < CC_OPS; op++) {
		unsigned int d = below(f, 100);

		i = nheld ? below(f, nheld) : 0;
		if (d < 30 && nheld < CC_HELD) {
			struct mbx_buf b = { .len = 1 + below(f, CC_MAXLEN) };

			ret = t_ioctl(fd, MBX_IOC_BUF_ALLOC, &b);
			if (ret == -EAGAIN)
				continue;
			if (ret)
				return t_code(ret);
			held[nheld] = (struct cc_held){ b.offset, b.len,
				(uint64_t)(id + 1) << 40 | ++n };
			pat_fill(base + b.offset, b.len, held[nheld].tag);
			nheld++;
		} else if (d < 55 && nheld) {
			struct mbx_send sd = {
				.offset = held[i].off, .len = held[i].len,
				.tag = held[i].tag, .prio = below(f, 32),
				.flags = MBX_SEND_BUF,
			};

			if (!pat_check(base + held[i].off, held[i].len,
				       held[i].tag))
				return T_BAD_DATA;
			ret = t_ioctl(fd, MBX_IOC_SEND, &sd);
			if (ret == -EAGAIN)
				continue;
			if (ret)
				return t_code(ret);
			held[i] = held[--nheld];
		} else if (d < 80) {
			int inplace = nheld < CC_HELD && pct(f, 50);

			memset(&rv, 0, sizeof(rv));
			rv.buf = (uintptr_t)buf;
			rv.len = sizeof(buf);
			rv.flags = inplace ? MBX_RECV_INPLACE : 0;
			ret = t_ioctl(fd, MBX_IOC_RECV, &rv);
			if (ret == -EAGAIN)
				continue;
			if (ret)
				return t_code(ret);
			if (rv.msg_flags != (inplace ? MBX_MSG_BUF : 0u) ||
			    !pat_check(inplace ? base + rv.offset : buf,
				       rv.len, rv.tag))
				return T_BAD_DATA;
			if (inplace)
				held[nheld++] = (struct cc_held){ rv.offset,
					rv.len, rv.tag };
		} else if (d < 97 && nheld) {
			if (!pat_check(base + held[i].off, held[i].len,
				       held[i].tag))
				return T_BAD_DATA;
			ret = buf_release_raw(fd, held[i].off, held[i].len);
			if (ret)
				return t_code(ret);
			held[i] = held[--nheld];
		} else if (d >= 97) {
			/* unmapped and closed, the fd's regions are freed */
			munmap(base, size);
			close(fd);
			nheld = 0;
			fd = mbx_port_open(MBX_DEV_AUTO, name,
					   MBX_SEND | MBX_RECV | MBX_NONBLOCK);
			if (fd < 0 || mbx_pool_map(fd, (void **)&base, &size))
				return T_BAD_SETUP;
		}
	}
	return 0;
}

/*
 * Four processes with fds of their own race through random pool calls;
 * two are killed with SIGKILL in the middle.  The survivors must never see
 * a corrupted payload or a refused call on a region they hold; at the end
 * the creator drains the queue (every payload intact) and the pool must be
 * entirely free.
 */
TEST_F_TIMEOUT(fuzz, concurrent_holders_some_killed_leave_pool_free, 240)
{
	struct mbx_port_create c;
	struct mbx_port_info info;
	pid_t pids[CC_PROCS];
	uint64_t seed;
	const char *env;
	unsigned int i, drained = 0, killed = 0;
	char name[MBX_NAME_LEN];
	static uint8_t buf[CC_MAXLEN];
	struct mbx_recv rv;
	int fd, st;

	env = getenv("MBX_FUZZ_SEED");
	seed = env ? strtoull(env, NULL, 0) : t_now_ns() ^ getpid();
	memset(&c, 0, sizeof(c));
	c.capacity = CC_CAP;
	c.mode = 0600;
	c.pool_size = CC_POOL;
	t_name(name, "cc");
	strcpy(c.name, name);
	fd = mbx_port_create(MBX_DEV_AUTO, &c);
	ASSERT_LE(0, fd);

	for (i = 0; i < CC_PROCS; i++) {
		pids[i] = t_fork();
		ASSERT_LE(0, pids[i]);
		if (pids[i] == 0)
			_exit(cc_child(name, i, seed));
	}
	t_sleep_ms(200 + seed % 300);
	for (i = 0; i < CC_KILLED; i++)
		kill(pids[i], SIGKILL);
	for (i = 0; i < CC_PROCS; i++) {
		st = t_reap_ms(pids[i], 200 * 1000);
		if (i < CC_KILLED && st == 128 + SIGKILL) {
			killed++;
			continue;
		}
		ASSERT_EQ(0, st) TH_LOG("seed %llu: child %u", (unsigned long long)seed, i);
	}

	/* what the children left queued is intact, then the pool is free */
	for (;;) {
		memset(&rv, 0, sizeof(rv));
		rv.buf = (uintptr_t)buf;
		rv.len = sizeof(buf);
		rv.flags = MBX_NONBLOCK;
		if (t_ioctl(fd, MBX_IOC_RECV, &rv))
			break;
		ASSERT_TRUE(pat_check(buf, rv.len, rv.tag))
			TH_LOG("seed %llu: tag %#llx", (unsigned long long)seed,
			       (unsigned long long)rv.tag);
		drained++;
	}
	ASSERT_EQ(0, t_info(fd, &info));
	TH_LOG("seed %llu: %u of %d children killed on the way, %llu messages sent, %u left queued",
	       (unsigned long long)seed, killed, CC_PROCS,
	       (unsigned long long)info.sent, drained);
	ASSERT_EQ(0, info.queued);
	ASSERT_EQ(CC_POOL, info.pool_free)
		TH_LOG("seed %llu: pool not entirely free", (unsigned long long)seed);
	close(fd);
}

TEST_HARNESS_MAIN
