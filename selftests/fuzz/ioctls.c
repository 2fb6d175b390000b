// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_test: the mailbox ioctls, with structures built to be plausible
 * (so that calls get past the argument checks) and then often broken,
 * and raw ioctls with mangled numbers, sizes and directions.  See
 * fuzz_test.c.
 */
#define _GNU_SOURCE
#include "fuzz.h"

/* ---- mailbox ioctls --------------------------------------------------- */

static void fill_send(struct thread *t, struct mbx_send *s, bool entry)
{
	memset(s, 0, sizeof(*s));
	s->flags = entry ? (fz_pct(t, 30) ? MBX_SEND_BUF : 0) :
			   pick_flags(t, MBX_NONBLOCK | MBX_TIMEOUT |
					 MBX_ABSTIME | MBX_SEND_BUF |
					 MBX_SEND_NEXT | MBX_SEND_SEALED);
	if (entry && fz_junk(t, 3))
		s->flags = (uint32_t)fz_rnd(t);
	if (s->flags & MBX_SEND_NEXT || fz_junk(t, 2))
		s->next_len = fz_pct(t, 80) ? 1 + fz_below(t, 8192) : pick_len(t);
	if (s->flags & MBX_SEND_BUF) {
		pick_region(t, &s->offset, &s->len);
		if (fz_junk(t, 4))
			s->buf = data_ptr(t);
	} else {
		s->buf = data_ptr(t);
		s->len = pick_len(t);
		if (fz_junk(t, 4))
			s->offset = fz_rnd(t);
	}
	s->tag = fz_rnd(t);
	s->prio = t->clean ? fz_below(t, MBX_PRIO_MAX + 1) :
		  fz_pct(t, 95) ? fz_below(t, MBX_PRIO_MAX + 3) : (uint32_t)fz_rnd(t);
	s->timeout_ns = entry ? (fz_junk(t, 3) ? fz_rnd(t) : 0) :
				pick_timeout(t, s->flags);
}

static void fill_recv(struct thread *t, struct mbx_recv *r, bool entry)
{
	memset(r, 0, sizeof(*r));
	r->flags = entry ? (fz_pct(t, 40) ? MBX_RECV_INPLACE : 0) :
			   pick_flags(t, MBX_NONBLOCK | MBX_TIMEOUT |
					 MBX_ABSTIME | MBX_RECV_INPLACE |
					 MBX_RECV_RELEASE);
	if (entry && fz_junk(t, 3))
		r->flags = (uint32_t)fz_rnd(t);
	if (r->flags & MBX_RECV_RELEASE || fz_junk(t, 2))
		pick_region(t, &r->release_offset, &r->release_len);
	r->buf = data_ptr(t);
	r->len = fz_pct(t, 70) ? 1 + fz_below(t, 70000) : pick_len(t);
	r->timeout_ns = entry ? (fz_junk(t, 3) ? fz_rnd(t) : 0) :
				pick_timeout(t, r->flags);
	if (fz_junk(t, 4))
		r->dropped = (uint32_t)fz_rnd(t);
	if (fz_junk(t, 3)) {
		r->offset = fz_rnd(t);
		r->tag = fz_rnd(t);
		r->pid = (int32_t)fz_rnd(t);
	}
}

/* What the kernel wrote back into a receive: remember pool regions. */
static void after_recv(struct thread *t, int fd, const struct mbx_recv *r)
{
	if (r->msg_flags & MBX_MSG_BUF)
		note_region(t, fd, r->offset, r->len);
}

/*
 * The ioctl number: mostly right, else with a different size (a size-
 * versioned struct may be longer with a zero tail), direction or number.
 */
static unsigned long mangle_cmd(struct thread *t, unsigned long cmd,
				size_t *size, bool versioned)
{
	unsigned int c = fz_below(t, 100);
	unsigned long sz = _IOC_SIZE(cmd);

	*size = sz;
	if (c < 85 || t->clean)
		return cmd;
	if (c < 93 && versioned) {
		/* A larger struct: zeros past the end, or not. */
		*size = sz + 8 * (1 + fz_below(t, 32));
		if (fz_pct(t, 30))
			*size = AREA_LEN - 1 < 16383 ? AREA_LEN - 1 : 16383;
		memset(t->tmp + sz, 0, *size - sz);
		if (fz_pct(t, 30))
			t->tmp[sz + fz_below(t, *size - sz)] = 1 + fz_below(t, 255);
		return (cmd & ~((unsigned long)_IOC_SIZEMASK << _IOC_SIZESHIFT)) |
		       ((unsigned long)*size << _IOC_SIZESHIFT);
	}
	if (c < 96) {
		*size = fz_below(t, sz + 1);
		return (cmd & ~((unsigned long)_IOC_SIZEMASK << _IOC_SIZESHIFT)) |
		       ((unsigned long)*size << _IOC_SIZESHIFT);
	}
	return cmd ^ ((unsigned long)(1 + fz_below(t, 3)) << _IOC_DIRSHIFT);
}

void op_mbx(struct thread *t)
{
	int ci = fz_below(t, 100) < 25 ? fz_below(t, NCTL) : NCTL + fz_below(t, NCMD - NCTL);
	unsigned long cmd = mbx_cmds[ci];
	bool ctl = ci < NCTL, versioned = false, mangled;
	int fd = pick_fd(t, ctl ? M_DEV : M_PORT);
	size_t size = _IOC_SIZE(cmd);
	uint64_t arg;
	int good, n;
	long ret;

	t->clean = fz_pct(t, 40);
	t->reg_fd = -1;
	memset(t->tmp, 0, sizeof(struct mbx_port_info) + 64);
	switch (cmd) {
	case MBX_IOC_PORT_CREATE: {
		struct mbx_port_create *c = (void *)t->tmp;
		static const uint32_t caps[] = { 0, 1, 2, 8, 64, 65536, 65537 };
		static const uint32_t sizes[] = {
			0, 1, 16, 64, 512, 8192, 65536, 1 << 20, (1 << 20) + 1,
		};
		static const uint64_t pools[] = {
			4096, 4095, 4097, 65536, 1 << 20, 64 << 20,
			(64 << 20) + 1, 1ULL << 40, ~0ULL,
		};

		versioned = true;
		/* Topics too; with MBX_PORT_MQ or capacity 0, refused. */
		c->flags = pick_flags(t, MBX_CLOEXEC | MBX_NONBLOCK |
				      (fz_pct(t, 30) ? MBX_PORT_TOPIC : 0));
		c->capacity = fz_pct(t, 90) ? caps[fz_below(t, 5)] :
			      fz_pct(t, 50) ? caps[fz_below(t, 7)] : (uint32_t)fz_rnd(t);
		c->max_msg_size = fz_pct(t, 90) ? sizes[fz_below(t, 7)] :
				  fz_pct(t, 50) ? sizes[fz_below(t, 9)] :
					       (uint32_t)fz_rnd(t);
		c->mode = fz_pct(t, 90) ? 0600 | (fz_below(t, 2) ? 066 : 0) :
				       (uint32_t)fz_rnd(t);
		c->pool_size = fz_pct(t, 50) ? 0 : fz_pct(t, 80) ? pools[fz_below(t, 4)] :
				pools[fz_below(t, 9)];
		if (fz_pct(t, 45))
			pick_name(t, c->name);
		/* Rings: alone, mostly; sizes good and bad. */
		if (fz_pct(t, 20)) {
			static const uint64_t rings[] = {
				4096, 8192, 65536, 0, 3000, 1ULL << 40,
			};

			c->flags |= MBX_PORT_RING;
			c->ring_size = rings[fz_pct(t, 85) ? fz_below(t, 3) :
					     fz_below(t, 6)];
			if (fz_pct(t, 90)) {
				c->capacity = 0;
				c->max_msg_size = 0;
			}
			if (fz_pct(t, 90))
				c->pool_size = 0;
		}
		break;
	}
	case MBX_IOC_PORT_OPEN: {
		struct mbx_port_open *o = (void *)t->tmp;

		o->flags = pick_flags(t, MBX_SEND | MBX_RECV | MBX_CLOEXEC |
				      MBX_NONBLOCK);
		if (fz_junk(t, 4))
			o->reserved = (uint32_t)fz_rnd(t);
		pick_name(t, o->name);
		break;
	}
	case MBX_IOC_PORT_UNLINK: {
		struct mbx_port_unlink *u = (void *)t->tmp;

		if (fz_junk(t, 5))
			u->flags = (uint32_t)fz_rnd(t);
		if (fz_junk(t, 5))
			u->reserved = (uint32_t)fz_rnd(t);
		pick_name(t, u->name);
		break;
	}
#ifdef MBX_IOC_PORT_LIST
	case MBX_IOC_PORT_LIST: {
		struct mbx_port_list *l = (void *)t->tmp;
		static const uint32_t counts[] = {
			0, 1, 2, 16, 1024, 0x10000, 0x7fffffff, 0xffffffff,
		};

		l->ports = fz_pct(t, 80) ? (uintptr_t)t->w->sink : data_ptr(t);
		l->count = counts[fz_below(t, 8)];
		if (l->ports == (uintptr_t)t->w->sink && fz_pct(t, 70))
			l->count = fz_below(t, SINK_LEN / sizeof(struct mbx_port_info));
		if (fz_junk(t, 5))
			l->flags = (uint32_t)fz_rnd(t);
		if (fz_junk(t, 5))
			l->reserved = (uint32_t)fz_rnd(t);
		if (fz_junk(t, 5))
			l->total = (uint32_t)fz_rnd(t);
		break;
	}
#endif
	case MBX_IOC_SEND:
		versioned = true;
		fill_send(t, (void *)t->tmp, false);
		break;
	case MBX_IOC_RECV:
		versioned = true;
		fill_recv(t, (void *)t->tmp, false);
		break;
	case MBX_IOC_PORT_INFO:
		versioned = true;
		break;
	case MBX_IOC_SHUTDOWN:
		/* Rarely: a shut-down port is of little further use. */
		if (fz_pct(t, 80))
			return;
		break;
	case MBX_IOC_BUF_ALLOC: {
		struct mbx_buf *b = (void *)t->tmp;

		b->len = fz_pct(t, 70) ? 1 + fz_below(t, 8192) : pick_len(t);
		b->flags = pick_flags(t, MBX_NONBLOCK | MBX_TIMEOUT |
				      MBX_ABSTIME | MBX_BUF_PAGES);
		b->timeout_ns = pick_timeout(t, b->flags);
		if (fz_junk(t, 4))
			b->reserved = (uint32_t)fz_rnd(t);
		if (fz_junk(t, 5))
			b->offset = fz_rnd(t);
		break;
	}
	case MBX_IOC_BUF_RELEASE: {
		struct mbx_buf *b = (void *)t->tmp;

		pick_region(t, &b->offset, &b->len);
		if (fz_junk(t, 5))
			b->flags = (uint32_t)fz_rnd(t);
		if (fz_junk(t, 5))
			b->timeout_ns = fz_rnd(t);
		if (fz_junk(t, 5))
			b->reserved = (uint32_t)fz_rnd(t);
		break;
	}
	case MBX_IOC_CALL: {
		struct mbx_call *c = (void *)t->tmp;

		fill_send(t, &c->send, false);
		fill_recv(t, &c->recv, false);
		c->recv_fd = fz_pct(t, 30) ? -1 : pick_fd(t, M_PORT);
		if (fz_junk(t, 5))
			c->flags = (uint32_t)fz_rnd(t);
		if (fz_junk(t, 5))
			c->reserved = (uint32_t)fz_rnd(t);
		if (fz_pct(t, 10))
			c->done = (uint32_t)fz_rnd(t);
		break;
	}
	case MBX_IOC_SEND_BATCH:
	case MBX_IOC_RECV_BATCH: {
		struct mbx_batch *b = (void *)t->tmp;
		static const uint32_t counts[] = {
			0, 1024, 1025, 0xffffffff,
		};
		bool send = cmd == MBX_IOC_SEND_BATCH;
		uint32_t i, built;

		b->count = t->clean || fz_pct(t, 90) ? 1 + fz_below(t, 8) :
			   fz_pct(t, 60) ? counts[fz_below(t, 4)] : (uint32_t)fz_rnd(t);
		built = b->count < MBX_BATCH_MAX ? b->count : MBX_BATCH_MAX;
		if (built > 64 && fz_pct(t, 80))
			built = 64;	/* the rest: whatever is there */
		for (i = 0; i < built; i++) {
			if (send)
				fill_send(t, (struct mbx_send *)t->batch + i,
					  true);
			else
				fill_recv(t, (struct mbx_recv *)t->batch + i,
					  true);
		}
		b->msgs = fz_pct(t, 85) ? (uintptr_t)t->batch : data_ptr(t);
		if (fz_junk(t, 5) && b->count)
			/* The last entries run into the guard page. */
			b->msgs = (uintptr_t)t->batch + BATCH_LEN -
				  sizeof(struct mbx_recv) *
				  fz_below(t, b->count < 16 ? b->count : 16);
		b->flags = pick_flags(t, MBX_NONBLOCK | MBX_TIMEOUT |
				      MBX_ABSTIME);
		b->timeout_ns = pick_timeout(t, b->flags);
		if (fz_junk(t, 4))
			b->reserved = (uint32_t)fz_rnd(t);
		if (fz_pct(t, 10))
			b->done = (uint32_t)fz_rnd(t);
		break;
	}
	case MBX_IOC_PORT_DUP: {
		struct mbx_port_dup *d = (void *)t->tmp;

		d->flags = pick_flags(t, MBX_SEND | MBX_RECV | MBX_CLOEXEC |
				      MBX_NONBLOCK);
		if (fz_junk(t, 4))
			d->reserved = (uint32_t)fz_rnd(t);
		break;
	}
	case MBX_IOC_RING_INFO:
		versioned = true;
		if (fz_junk(t, 5))
			((struct mbx_ring_info *)t->tmp)->flags = (uint32_t)fz_rnd(t);
		break;
	case MBX_IOC_RING_ATTACH: {
		struct mbx_ring_attach *a = (void *)t->tmp;

		a->role = fz_pct(t, 90) ? 1 + fz_below(t, 2) : (uint32_t)fz_rnd(t);
		if (fz_junk(t, 5))
			a->flags = (uint32_t)fz_rnd(t);
		break;
	}
	case MBX_IOC_RING_ENTER: {
		struct mbx_ring_enter *e = (void *)t->tmp;

		versioned = true;
		e->role = fz_pct(t, 90) ? 1 + fz_below(t, 2) : (uint32_t)fz_rnd(t);
		e->flags = fz_pct(t, 90) ? (1 + fz_below(t, 3)) << 16 :
			   (uint32_t)fz_rnd(t);
		if (e->flags & MBX_RING_ENTER_WAIT) {
			/* Short waits: a timeout, or no wait at all. */
			e->flags |= fz_pct(t, 50) ? MBX_NONBLOCK : MBX_TIMEOUT;
			e->timeout_ns = fz_below(t, 2000000);
			e->pos = fz_pct(t, 50) ? 8 * fz_below(t, 4096) : fz_rnd(t);
			e->want = fz_pct(t, 80) ? fz_below(t, 70000) : fz_rnd(t);
		}
		/* Mostly as the role's holder: past the role check. */
		if (fz_pct(t, 60)) {
			struct mbx_ring_attach a = { .role = e->role };

			ioctl(fd, MBX_IOC_RING_ATTACH, &a);
		}
		break;
	}
	case MBX_IOC_SUBSCRIBE: {
		struct mbx_subscribe *u = (void *)t->tmp;
		static const uint32_t maxes[] = { 0, 1, 2, 8, 65536, 65537 };

		versioned = true;
		u->policy = fz_pct(t, 90) ? fz_below(t, 2) : (uint32_t)fz_rnd(t);
		u->max_msgs = maxes[fz_below(t, 6)];
		u->max_bytes = fz_pct(t, 60) ? 0 : fz_pct(t, 80) ? fz_below(t, 1 << 20) :
						    fz_rnd(t);
		if (fz_junk(t, 4))
			u->flags = (uint32_t)fz_rnd(t);
		if (fz_junk(t, 4))
			u->reserved = (uint32_t)fz_rnd(t);
		break;
	}
	}
	if (fz_pct(t, 8) && size)
		mangle(t, t->tmp, size);
	/* The fd that holds the region, mostly. */
	if (t->reg_fd >= 0 && !ctl && fz_pct(t, 70))
		fd = t->reg_fd;
	cmd = mangle_cmd(t, cmd, &size, versioned);
	mangled = cmd != mbx_cmds[ci];
	arg = place_arg(t, size ? size : 8, &good);

	__atomic_add_fetch(&t->w->sh->tries[ci], 1, __ATOMIC_RELAXED);
	fz_begin(t, "ioctl(%d, %s%s, %#llx)", fd, cmd_name[ci],
		 mangled ? " (mangled)" : "", (unsigned long long)arg);
	ret = fz_end(t, SYS(ioctl(fd, cmd, arg)));
	if (ret < 0 || mangled)
		return;
	__atomic_add_fetch(&t->w->sh->oks[ci], 1, __ATOMIC_RELAXED);

	/* Keep what it made: new fds, regions. */
	switch (cmd) {
	case MBX_IOC_PORT_CREATE: {
		struct mbx_port_create *c = (void *)t->tmp;

		/* A ring's first part, its producer page, is a page. */
		put_fd(t, (int)ret, c->pool_size || c->ring_size ?
		       K_POOLPORT : K_PORT,
		       c->ring_size ? PG : (c->pool_size + PG - 1) & ~(PG - 1));
		/* A name that is not one of the round's would stay linked. */
		if (c->name[0] && strncmp(c->name, t->w->names[0],
					  strlen(t->w->names[0]) - 1))
			mbx_port_unlink(MBX_DEV_AUTO, c->name);
		break;
	}
	case MBX_IOC_PORT_OPEN:
	case MBX_IOC_PORT_DUP:
		put_fd(t, (int)ret, K_PORT, 0);
		break;
	case MBX_IOC_BUF_ALLOC:
		if (good && arg == (uintptr_t)t->area)
			note_region(t, fd, ((struct mbx_buf *)t->area)->offset,
				    ((struct mbx_buf *)t->tmp)->len);
		break;
	case MBX_IOC_RECV:
		if (good && arg == (uintptr_t)t->area)
			after_recv(t, fd, (struct mbx_recv *)t->area);
		break;
	case MBX_IOC_CALL:
		if (good && arg == (uintptr_t)t->area)
			after_recv(t, ((struct mbx_call *)t->area)->recv_fd == -1 ?
				   fd : ((struct mbx_call *)t->area)->recv_fd,
				   &((struct mbx_call *)t->area)->recv);
		break;
	case MBX_IOC_RECV_BATCH:
		if (((struct mbx_batch *)t->tmp)->msgs == (uintptr_t)t->batch)
			for (n = 0; n < ret && n < MBX_BATCH_MAX; n++)
				after_recv(t, fd, (struct mbx_recv *)t->batch + n);
		break;
	}
}

/* Any ioctl number on any fd: random numbers of our type, foreign ones. */
void op_rawioc(struct thread *t)
{
	static const unsigned long foreign[] = {
		FIONREAD, FIONBIO, FIOCLEX, FIONCLEX, FIOASYNC, FIOQSIZE,
		0x5401 /* TCGETS */, 0x80086601 /* FS_IOC_GETFLAGS */,
		0x40049409 /* FICLONE */,
	};
	unsigned int c = fz_below(t, 100);
	int fd = pick_fd(t, fz_pct(t, 70) ? M_PORT : 0);
	unsigned long cmd;
	size_t size;
	uint64_t arg;
	int good;

	if (c < 40)
		cmd = _IOC(fz_below(t, 4), MBX_IOC_MAGIC, fz_below(t, 64),
			   fz_below(t, 300));
	else if (c < 55)
		cmd = _IOC(fz_below(t, 4), MBX_IOC_MAGIC, fz_below(t, 256),
			   fz_below(t, _IOC_SIZEMASK + 1));
	else if (c < 70)
		cmd = foreign[fz_below(t, ARRAY_SIZE(foreign))];
	else if (c < 85)
		cmd = mbx_cmds[fz_below(t, NCMD)] ^
		      (1UL << fz_below(t, 32));
	else
		cmd = (uint32_t)fz_rnd(t);
	/* FIOASYNC would make later I/O send SIGIO: leave it off. */
	if (cmd == FIOASYNC)
		memset(t->tmp, 0, 8);
	else
		for (size = 0; size < 256; size += 8) {
			uint64_t v = fz_pct(t, 50) ? 0 : fz_rnd(t);

			memcpy(t->tmp + size, &v, 8);
		}
	size = _IOC_SIZE(cmd);
	arg = place_arg(t, size ? size : 256, &good);
	if (fz_pct(t, 5))
		arg = fz_rnd(t);
	if (cmd == FIOASYNC && arg != (uintptr_t)t->area)
		return;
	fz_begin(t, "ioctl(%d, %#lx, %#llx)", fd, cmd, (unsigned long long)arg);
	fz_end(t, SYS(ioctl(fd, cmd, arg)));
}
