// SPDX-License-Identifier: GPL-2.0
/*
 * Syscall fuzzer for /dev/mailbox and its port fds.
 *
 * The test process runs rounds; each round forks a worker process whose
 * threads (four by default) share one table of fds: ports of every access
 * (created, opened by name, narrowed with MBX_IOC_PORT_DUP, with and
 * without pool, rendezvous or queue), /dev/mailbox opened read-write,
 * read-only and write-only, pipes, a regular file, /dev/null, an eventfd,
 * an epoll fd, unix sockets, and stale numbers of closed fds.  Each thread
 * makes random calls on random entries of that table:
 *
 *   - every control and port ioctl (ring ports and MBX_IOC_RING_* too),
 *     with structures built to be plausible
 *     (so that calls get past the argument checks: known pool regions,
 *     existing names, short timeouts) and then often broken: random or
 *     reserved flag bits, non-zero reserved fields, huge lengths, counts
 *     and timeouts, wrong sizes in _IOC_SIZE (smaller, larger with zero or
 *     non-zero tails), wrong directions, unknown numbers, foreign ioctls;
 *   - argument and buffer pointers that are NULL, unmapped, kernel
 *     addresses (0xffffffff81000000, the direct map), non-canonical,
 *     misaligned, straddling into a PROT_NONE page, in a PROT_NONE page,
 *     or in a read-only page (the kernel can read the argument but not
 *     write the results back: the paths that undo a receive);
 *   - read, write, pread, readv/writev with such buffers and lengths;
 *   - mmap of any fd with random lengths, protections, flags and offsets,
 *     munmap (whole or in part), mprotect, mremap, madvise(MADV_DONTNEED),
 *     and reads and writes of the mapped pages (faults are caught);
 *   - poll, ppoll, epoll_ctl and epoll_wait; close, dup, dup2 and dup3
 *     onto fds other threads are using, fcntl(O_NONBLOCK), reopening
 *     /proc/self/fd/N; passing fds over a unix socket with SCM_RIGHTS
 *     (and closing sockets with fds still in flight); fork, with the child
 *     making a few calls on the inherited fds.
 *
 * Threads race on the same fds on purpose: one closes or dup2()s over the
 * fd another one is blocked on.  Nothing may block forever: the worker's
 * main thread interrupts (SIGUSR1, no SA_RESTART) any call that has been
 * blocked for 20 ms, and the test process kills a worker whose round has
 * not finished in time and fails the test with the seed, the round and
 * what each thread was doing.  Now and then a worker is SIGKILLed in the
 * middle of its round instead, so that exit cleans up after blocked
 * threads, held regions, mappings and fds in flight.
 *
 * Results are not checked beyond "the kernel survives": no crash of a
 * worker (other than ours), no hang, no splat (the VM runner watches the
 * console; on the debug kernel KASAN, UBSAN, lockdep and kmemleak watch
 * too).  At the end a sanity check creates a port and moves messages by
 * copy and by zero copy through it.
 *
 * Environment: MBX_FUZZ_SEED (printed either way), MBX_FUZZ_CALLS (calls
 * in all; default 100 000, 50 000 on a lockdep kernel), MBX_FUZZ_SECS (stop
 * earlier after this long; default 100, 150 on a lockdep kernel),
 * MBX_FUZZ_THREADS (threads per worker, default 4).  `make fuzz-long`
 * runs MBX_FUZZ_CALLS=1000000.  A seed fixes every choice of every thread
 * of every round; the interleaving of the threads is the scheduler's.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "kselftest_harness.h"
#include "mbx_helpers.h"

#define NSLOT		24	/* the shared fd table */
#define MAXT		8	/* threads per worker, at most */
#define NMAP		32	/* tracked mappings */
#define NREG		32	/* pool regions seen (hints) */
#define NNAME		6	/* port names per round */
#define PG		4096UL
#define AREA_LEN	(5 * PG)	/* ioctl arguments: >= 16383 bytes */
/* MBX_BATCH_MAX entries of the largest kind, and a page more. */
#define BATCH_LEN	((MBX_BATCH_MAX * sizeof(struct mbx_recv) + PG - 1) / \
			 PG * PG + PG)
#define SINK_LEN	(64 * PG)	/* message buffers */
#define ROUND_CALLS	2000
#define STUCK_NS	20000000ULL	/* interrupt a call blocked this long */

/* What a slot was last filled with: a hint, the fd may have changed. */
enum kind {
	K_NONE, K_DEV, K_PORT, K_POOLPORT, K_PIPE, K_FILE, K_NULL, K_EVENT,
	K_EPOLL, K_SOCK, K_STALE, NKIND
};

/* Operations, for the statistics. */
enum op {
	O_MBX, O_RAWIOC, O_RW, O_MAP, O_TOUCH, O_POLL, O_EPOLL, O_FD, O_OPEN,
	O_SCM, O_FORK, NOP
};

static const char *const op_name[NOP] = {
	"mailbox-ioctl", "mangled-ioctl", "read/write", "mmap-family",
	"page-touch", "poll", "epoll", "close/dup", "open", "scm-rights",
	"fork",
};

/* The mailbox ioctls, in the order of the statistics. */
static const unsigned long mbx_cmds[] = {
	MBX_IOC_VERSION, MBX_IOC_PORT_CREATE, MBX_IOC_PORT_OPEN,
	MBX_IOC_PORT_UNLINK,
#ifdef MBX_IOC_PORT_LIST
	MBX_IOC_PORT_LIST,
#endif
	MBX_IOC_SEND, MBX_IOC_RECV, MBX_IOC_PORT_INFO, MBX_IOC_SHUTDOWN,
	MBX_IOC_BUF_ALLOC, MBX_IOC_BUF_RELEASE, MBX_IOC_CALL,
	MBX_IOC_SEND_BATCH, MBX_IOC_RECV_BATCH, MBX_IOC_PORT_DUP,
	MBX_IOC_SUBSCRIBE, MBX_IOC_UNSUBSCRIBE, MBX_IOC_RING_INFO,
	MBX_IOC_RING_ATTACH, MBX_IOC_RING_ENTER,
};

#define NCMD	((int)ARRAY_SIZE(mbx_cmds))
#define NCTL	(NCMD - 15)	/* the first NCTL are control ioctls */
static const char *const cmd_name[] = {
	"VERSION", "PORT_CREATE", "PORT_OPEN", "PORT_UNLINK",
#ifdef MBX_IOC_PORT_LIST
	"PORT_LIST",
#endif
	"SEND", "RECV", "PORT_INFO", "SHUTDOWN", "BUF_ALLOC", "BUF_RELEASE",
	"CALL", "SEND_BATCH", "RECV_BATCH", "PORT_DUP", "SUBSCRIBE",
	"UNSUBSCRIBE", "RING_INFO", "RING_ATTACH", "RING_ENTER",
};

struct thstate {
	char what[96];		/* the call in progress */
	uint64_t since;		/* when it began; 0 when not in a call */
	uint64_t calls;
	uint64_t ops;		/* operations done this round */
	uint32_t done;		/* finished its quota */
};

/* Shared between the test process and the worker of the round. */
struct fz_shared {
	uint64_t seed;
	uint32_t round, nthreads;
	uint64_t round_seed;
	pid_t owner;
	uint32_t setup_failed;
	uint32_t phase;		/* of the worker: 1 setup, 2 running, 3 exiting */
	char setup_msg[96];
	struct thstate th[MAXT];
	uint64_t interrupts;	/* watchdog signals sent */
	uint64_t longest_ns;	/* longest a call stayed blocked */
	char longest[96];
	uint64_t ops[NOP];
	uint64_t tries[NCMD], oks[NCMD];
	uint64_t err[160];	/* errno histogram, [0]: successes */
	uint64_t faults;	/* page touches that faulted (caught) */
	uint64_t forks, fds_passed, kills;
};

/* ---- the worker ----------------------------------------------------------- */

struct mapping {
	uint8_t *addr;
	size_t len;
	int prot;
};

struct worker {
	struct fz_shared *sh;
	int fds[NSLOT];
	uint8_t kind[NSLOT];
	uint64_t pool_size[NSLOT];
	pthread_mutex_t mlock;	/* maps[]: held while pages are touched */
	struct mapping maps[NMAP];
	uint64_t reg_off[NREG], reg_len[NREG];
	int reg_fd[NREG];	/* the fd that got it */
	char names[NNAME][MBX_NAME_LEN];
	char path[64];
	uint8_t *sink;		/* SINK_LEN, then a PROT_NONE page */
	uint8_t *none;		/* a PROT_NONE page */
};

struct thread {
	struct worker *w;
	struct thstate *st;
	int idx;
	uint64_t rng;
	uint64_t quota;
	pid_t tid;
	pthread_t pt;
	uint8_t *area;		/* AREA_LEN, then a PROT_NONE page */
	uint8_t *batch;		/* BATCH_LEN, then a PROT_NONE page */
	uint8_t *ro;		/* a read-only page */
	sigjmp_buf jb;
	int in_touch;		/* __atomic: the fault handler reads it */
	int clean;		/* this operation is well-formed throughout */
	int reg_fd;		/* fd of the region pick_region() chose, or -1 */
	uint8_t tmp[AREA_LEN];	/* arguments are built here */
};

static __thread struct thread *cur;

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t rnd(struct thread *t)
{
	t->rng ^= t->rng >> 12;
	t->rng ^= t->rng << 25;
	t->rng ^= t->rng >> 27;
	return t->rng * 0x2545f4914f6cdd1dULL;
}

static uint64_t below(struct thread *t, uint64_t n)
{
	return n ? rnd(t) % n : 0;
}

static int pct(struct thread *t, unsigned int p)
{
	return below(t, 100) < p;
}

/* A defect, @p percent of the time, never in a well-formed operation. */
static int junk(struct thread *t, unsigned int p)
{
	return !t->clean && pct(t, p);
}

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	struct thread *t = cur;

	if (t && __atomic_load_n(&t->in_touch, __ATOMIC_RELAXED)) {
		__atomic_store_n(&t->in_touch, 0, __ATOMIC_RELAXED);
		siglongjmp(t->jb, 1);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void on_usr1(int sig)
{
}

/* Mark the start and the end of a call that may block. */
static void begin(struct thread *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->st->what, sizeof(t->st->what), fmt, ap);
	va_end(ap);
	__atomic_store_n(&t->st->since, t_now_ns(), __ATOMIC_RELEASE);
}

static long end(struct thread *t, long ret)
{
	int e = ret < 0 ? (int)-ret : 0;

	__atomic_store_n(&t->st->since, 0, __ATOMIC_RELEASE);
	t->st->calls++;
	if (e >= 0 && e < 160)
		__atomic_add_fetch(&t->w->sh->err[e], 1, __ATOMIC_RELAXED);
	return ret;
}

#define SYS(x) ({ long __r = (long)(x); __r < 0 ? -errno : __r; })

/* ---- picking fds ------------------------------------------------------ */

static int slot_fd(struct thread *t, int s)
{
	return __atomic_load_n(&t->w->fds[s], __ATOMIC_RELAXED);
}

/* A slot, preferably of one of the @mask kinds. */
static int pick_slot(struct thread *t, unsigned int mask)
{
	int s, tries;

	if (mask && pct(t, 85))
		for (tries = 0; tries < 12; tries++) {
			s = below(t, NSLOT);
			if (mask & (1U << t->w->kind[s]))
				return s;
		}
	return below(t, NSLOT);
}

/* An fd number: mostly from the table, sometimes one that is not open. */
static int pick_fd(struct thread *t, unsigned int mask)
{
	static const int odd[] = { -1, -100, 1023, 4095, 99999, 0x7fffffff };

	if (junk(t, 3))
		return odd[below(t, ARRAY_SIZE(odd))];
	return slot_fd(t, pick_slot(t, mask));
}

static unsigned int km(enum kind k)
{
	return 1U << k;
}

#define M_PORT	(km(K_PORT) | km(K_POOLPORT))
#define M_DEV	km(K_DEV)

/* Put a new fd into a slot, mostly closing the one it replaces. */
static void put_fd(struct thread *t, int fd, enum kind k, uint64_t pool)
{
	int s = below(t, NSLOT), old;

	if (fd < 0)
		return;
	if (fd <= 2) {		/* never: we keep 0-2 open */
		return;
	}
	old = __atomic_exchange_n(&t->w->fds[s], fd, __ATOMIC_RELAXED);
	t->w->kind[s] = k;
	t->w->pool_size[s] = pool;
	if (old > 2 && old != fd && pct(t, 85))
		close(old);
}

/* ---- pointers --------------------------------------------------------- */

/* Kernel and otherwise impossible user addresses. */
static const uint64_t bad_addrs[] = {
	0, 0x10, 0x1000, 0xffffffff81000000ULL, 0xffff888000000000ULL,
	0x8000000000000000ULL, 0xffffffffffffffffULL, 0x00007ffffffff000ULL,
	0xfffffffffffff000ULL,
};

/*
 * Where an ioctl argument of @size bytes built in t->tmp goes: mostly a
 * good copy; else misaligned, cut by a PROT_NONE page, read-only, in a
 * PROT_NONE page, or a bad address.
 */
static uint64_t place_arg(struct thread *t, size_t size, int *good)
{
	unsigned int c = below(t, 100);
	uint8_t *p;
	size_t k;

	*good = 1;
	if (size > AREA_LEN)
		size = AREA_LEN;
	if (c < 78 || t->clean) {
		memcpy(t->area, t->tmp, size);
		return (uintptr_t)t->area;
	}
	if (c < 82) {
		p = t->area + 1 + below(t, 7);
		memcpy(p, t->tmp, size);
		return (uintptr_t)p;
	}
	*good = 0;
	if (c < 86 && size > 1) {
		k = 1 + below(t, size - 1);
		p = t->area + AREA_LEN - k;
		memcpy(p, t->tmp, k);
		return (uintptr_t)p;
	}
	if (c < 93 && size <= PG) {
		/* Readable, not writable: results cannot be written back. */
		if (!mprotect(t->ro, PG, PROT_READ | PROT_WRITE)) {
			memcpy(t->ro, t->tmp, size);
			mprotect(t->ro, PG, PROT_READ);
		}
		return (uintptr_t)t->ro;
	}
	if (c < 96)
		return (uintptr_t)t->w->none + below(t, 64);
	return bad_addrs[below(t, ARRAY_SIZE(bad_addrs))];
}

/* A data buffer: mostly somewhere in the sink (a guard page follows it). */
static uint64_t data_ptr(struct thread *t)
{
	unsigned int c = t->clean ? 0 : below(t, 100);

	if (c < 85)
		return (uintptr_t)t->w->sink +
		       (pct(t, 50) ? 0 : below(t, SINK_LEN));
	if (c < 90)
		return (uintptr_t)t->ro;
	if (c < 94)
		return (uintptr_t)t->w->none;
	return bad_addrs[below(t, ARRAY_SIZE(bad_addrs))];
}

static uint64_t pick_len(struct thread *t)
{
	static const uint64_t odd[] = {
		0, 1, 63, 64, 65, 4095, 4096, 8192, 8193, 65536, 1 << 20,
		(1 << 20) + 1, 64 << 20, (64 << 20) + 1, 1ULL << 31,
		1ULL << 32, 1ULL << 63, ~0ULL, ~0ULL - 63,
	};
	unsigned int c = below(t, t->clean ? 70 : 100);

	if (c < 45)
		return below(t, 256);
	if (c < 70)
		return below(t, 8200);
	if (c < 80)
		return below(t, 70000);
	return odd[below(t, ARRAY_SIZE(odd))];
}

static uint64_t pick_timeout(struct thread *t, uint32_t flags)
{
	uint64_t ns = below(t, 3000000);

	if (t->clean)
		return flags & MBX_TIMEOUT ? (flags & MBX_ABSTIME ?
					      t_now_ns() + ns : ns) : 0;
	if (junk(t, 3))
		return rnd(t);
	if (!(flags & MBX_TIMEOUT))
		return pct(t, 5) ? ns : 0;
	if (flags & MBX_ABSTIME)
		return pct(t, 10) ? below(t, 1000) : t_now_ns() + ns;
	return ns;
}

/* Flags from @valid, mostly not blocking for long; now and then junk. */
static uint32_t pick_flags(struct thread *t, uint32_t valid)
{
	unsigned int c = t->clean ? 99 : below(t, 100);
	uint32_t f = 0, b;

	if (c < 4)
		return (uint32_t)rnd(t);
	for (b = 1; b; b <<= 1)
		if ((valid & b) && pct(t, 35))
			f |= b;
	if (c < 9)
		f |= 1U << below(t, 32);
	/* A short wait, mostly: the watchdog ends long ones. */
	if ((valid & MBX_NONBLOCK) && !(f & (MBX_NONBLOCK | MBX_TIMEOUT)) &&
	    pct(t, 85))
		f |= pct(t, 50) ? MBX_NONBLOCK : MBX_TIMEOUT;
	return f;
}

static void note_region(struct thread *t, int fd, uint64_t off, uint64_t len)
{
	int i = below(t, NREG);

	t->w->reg_off[i] = off;
	t->w->reg_len[i] = len;
	t->w->reg_fd[i] = fd;
}

static void pick_region(struct thread *t, __u64 *off, __u64 *len)
{
	int i = below(t, NREG);

	t->reg_fd = -1;
	if ((t->clean || pct(t, 80)) && t->w->reg_len[i]) {
		*off = t->w->reg_off[i];
		*len = t->w->reg_len[i];
		t->reg_fd = t->w->reg_fd[i];
		if (t->clean)
			return;
		if (pct(t, 10))
			*len += below(t, 3) - 1;
		if (junk(t, 5))
			*off += 64;
		return;
	}
	*off = pct(t, 70) ? below(t, 1024) * 64 : rnd(t);
	*len = pick_len(t);
}

static void pick_name(struct thread *t, char *name)
{
	unsigned int c = below(t, t->clean ? 85 : 100);

	memset(name, 0, MBX_NAME_LEN);
	if (c < 85) {
		strcpy(name, t->w->names[below(t, NNAME)]);
	} else if (c < 90) {
		/* empty */
	} else if (c < 94) {
		memset(name, 'x', MBX_NAME_LEN);	/* no NUL */
	} else if (c < 97) {
		strcpy(name, "mbxfz/slash");
	} else {
		int i;

		for (i = 0; i < MBX_NAME_LEN - 1; i++)
			name[i] = 1 + below(t, 255);
	}
}

/* Flip a few random bits of an argument. */
static void mangle(struct thread *t, void *p, size_t size)
{
	int n = 1 + below(t, 3);

	if (t->clean)
		return;
	while (n--)
		((uint8_t *)p)[below(t, size)] ^= 1U << below(t, 8);
}

/* ---- mailbox ioctls --------------------------------------------------- */

static void fill_send(struct thread *t, struct mbx_send *s, bool entry)
{
	memset(s, 0, sizeof(*s));
	s->flags = entry ? (pct(t, 30) ? MBX_SEND_BUF : 0) :
			   pick_flags(t, MBX_NONBLOCK | MBX_TIMEOUT |
					 MBX_ABSTIME | MBX_SEND_BUF |
					 MBX_SEND_NEXT | MBX_SEND_SEALED);
	if (entry && junk(t, 3))
		s->flags = (uint32_t)rnd(t);
	if (s->flags & MBX_SEND_NEXT || junk(t, 2))
		s->next_len = pct(t, 80) ? 1 + below(t, 8192) : pick_len(t);
	if (s->flags & MBX_SEND_BUF) {
		pick_region(t, &s->offset, &s->len);
		if (junk(t, 4))
			s->buf = data_ptr(t);
	} else {
		s->buf = data_ptr(t);
		s->len = pick_len(t);
		if (junk(t, 4))
			s->offset = rnd(t);
	}
	s->tag = rnd(t);
	s->prio = t->clean ? below(t, MBX_PRIO_MAX + 1) :
		  pct(t, 95) ? below(t, MBX_PRIO_MAX + 3) : (uint32_t)rnd(t);
	s->timeout_ns = entry ? (junk(t, 3) ? rnd(t) : 0) :
				pick_timeout(t, s->flags);
}

static void fill_recv(struct thread *t, struct mbx_recv *r, bool entry)
{
	memset(r, 0, sizeof(*r));
	r->flags = entry ? (pct(t, 40) ? MBX_RECV_INPLACE : 0) :
			   pick_flags(t, MBX_NONBLOCK | MBX_TIMEOUT |
					 MBX_ABSTIME | MBX_RECV_INPLACE |
					 MBX_RECV_RELEASE);
	if (entry && junk(t, 3))
		r->flags = (uint32_t)rnd(t);
	if (r->flags & MBX_RECV_RELEASE || junk(t, 2))
		pick_region(t, &r->release_offset, &r->release_len);
	r->buf = data_ptr(t);
	r->len = pct(t, 70) ? 1 + below(t, 70000) : pick_len(t);
	r->timeout_ns = entry ? (junk(t, 3) ? rnd(t) : 0) :
				pick_timeout(t, r->flags);
	if (junk(t, 4))
		r->dropped = (uint32_t)rnd(t);
	if (junk(t, 3)) {
		r->offset = rnd(t);
		r->tag = rnd(t);
		r->pid = (int32_t)rnd(t);
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
	unsigned int c = below(t, 100);
	unsigned long sz = _IOC_SIZE(cmd);

	*size = sz;
	if (c < 85 || t->clean)
		return cmd;
	if (c < 93 && versioned) {
		/* A larger struct: zeros past the end, or not. */
		*size = sz + 8 * (1 + below(t, 32));
		if (pct(t, 30))
			*size = AREA_LEN - 1 < 16383 ? AREA_LEN - 1 : 16383;
		memset(t->tmp + sz, 0, *size - sz);
		if (pct(t, 30))
			t->tmp[sz + below(t, *size - sz)] = 1 + below(t, 255);
		return (cmd & ~((unsigned long)_IOC_SIZEMASK << _IOC_SIZESHIFT)) |
		       ((unsigned long)*size << _IOC_SIZESHIFT);
	}
	if (c < 96) {
		*size = below(t, sz + 1);
		return (cmd & ~((unsigned long)_IOC_SIZEMASK << _IOC_SIZESHIFT)) |
		       ((unsigned long)*size << _IOC_SIZESHIFT);
	}
	return cmd ^ ((unsigned long)(1 + below(t, 3)) << _IOC_DIRSHIFT);
}

static void op_mbx(struct thread *t)
{
	int ci = below(t, 100) < 25 ? below(t, NCTL) : NCTL + below(t, NCMD - NCTL);
	unsigned long cmd = mbx_cmds[ci];
	bool ctl = ci < NCTL, versioned = false, mangled;
	int fd = pick_fd(t, ctl ? M_DEV : M_PORT);
	size_t size = _IOC_SIZE(cmd);
	uint64_t arg;
	int good, n;
	long ret;

	t->clean = pct(t, 40);
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
				      (pct(t, 30) ? MBX_PORT_TOPIC : 0));
		c->capacity = pct(t, 90) ? caps[below(t, 5)] :
			      pct(t, 50) ? caps[below(t, 7)] : (uint32_t)rnd(t);
		c->max_msg_size = pct(t, 90) ? sizes[below(t, 7)] :
				  pct(t, 50) ? sizes[below(t, 9)] :
					       (uint32_t)rnd(t);
		c->mode = pct(t, 90) ? 0600 | (below(t, 2) ? 066 : 0) :
				       (uint32_t)rnd(t);
		c->pool_size = pct(t, 50) ? 0 : pct(t, 80) ? pools[below(t, 4)] :
				pools[below(t, 9)];
		if (pct(t, 45))
			pick_name(t, c->name);
		/* Rings: alone, mostly; sizes good and bad. */
		if (pct(t, 20)) {
			static const uint64_t rings[] = {
				4096, 8192, 65536, 0, 3000, 1ULL << 40,
			};

			c->flags |= MBX_PORT_RING;
			c->ring_size = rings[pct(t, 85) ? below(t, 3) :
					     below(t, 6)];
			if (pct(t, 90)) {
				c->capacity = 0;
				c->max_msg_size = 0;
			}
			if (pct(t, 90))
				c->pool_size = 0;
		}
		break;
	}
	case MBX_IOC_PORT_OPEN: {
		struct mbx_port_open *o = (void *)t->tmp;

		o->flags = pick_flags(t, MBX_SEND | MBX_RECV | MBX_CLOEXEC |
				      MBX_NONBLOCK);
		if (junk(t, 4))
			o->reserved = (uint32_t)rnd(t);
		pick_name(t, o->name);
		break;
	}
	case MBX_IOC_PORT_UNLINK: {
		struct mbx_port_unlink *u = (void *)t->tmp;

		if (junk(t, 5))
			u->flags = (uint32_t)rnd(t);
		if (junk(t, 5))
			u->reserved = (uint32_t)rnd(t);
		pick_name(t, u->name);
		break;
	}
#ifdef MBX_IOC_PORT_LIST
	case MBX_IOC_PORT_LIST: {
		struct mbx_port_list *l = (void *)t->tmp;
		static const uint32_t counts[] = {
			0, 1, 2, 16, 1024, 0x10000, 0x7fffffff, 0xffffffff,
		};

		l->ports = pct(t, 80) ? (uintptr_t)t->w->sink : data_ptr(t);
		l->count = counts[below(t, 8)];
		if (l->ports == (uintptr_t)t->w->sink && pct(t, 70))
			l->count = below(t, SINK_LEN / sizeof(struct mbx_port_info));
		if (junk(t, 5))
			l->flags = (uint32_t)rnd(t);
		if (junk(t, 5))
			l->reserved = (uint32_t)rnd(t);
		if (junk(t, 5))
			l->total = (uint32_t)rnd(t);
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
		if (pct(t, 80))
			return;
		break;
	case MBX_IOC_BUF_ALLOC: {
		struct mbx_buf *b = (void *)t->tmp;

		b->len = pct(t, 70) ? 1 + below(t, 8192) : pick_len(t);
		b->flags = pick_flags(t, MBX_NONBLOCK | MBX_TIMEOUT |
				      MBX_ABSTIME | MBX_BUF_PAGES);
		b->timeout_ns = pick_timeout(t, b->flags);
		if (junk(t, 4))
			b->reserved = (uint32_t)rnd(t);
		if (junk(t, 5))
			b->offset = rnd(t);
		break;
	}
	case MBX_IOC_BUF_RELEASE: {
		struct mbx_buf *b = (void *)t->tmp;

		pick_region(t, &b->offset, &b->len);
		if (junk(t, 5))
			b->flags = (uint32_t)rnd(t);
		if (junk(t, 5))
			b->timeout_ns = rnd(t);
		if (junk(t, 5))
			b->reserved = (uint32_t)rnd(t);
		break;
	}
	case MBX_IOC_CALL: {
		struct mbx_call *c = (void *)t->tmp;

		fill_send(t, &c->send, false);
		fill_recv(t, &c->recv, false);
		c->recv_fd = pct(t, 30) ? -1 : pick_fd(t, M_PORT);
		if (junk(t, 5))
			c->flags = (uint32_t)rnd(t);
		if (junk(t, 5))
			c->reserved = (uint32_t)rnd(t);
		if (pct(t, 10))
			c->done = (uint32_t)rnd(t);
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

		b->count = t->clean || pct(t, 90) ? 1 + below(t, 8) :
			   pct(t, 60) ? counts[below(t, 4)] : (uint32_t)rnd(t);
		built = b->count < MBX_BATCH_MAX ? b->count : MBX_BATCH_MAX;
		if (built > 64 && pct(t, 80))
			built = 64;	/* the rest: whatever is there */
		for (i = 0; i < built; i++) {
			if (send)
				fill_send(t, (struct mbx_send *)t->batch + i,
					  true);
			else
				fill_recv(t, (struct mbx_recv *)t->batch + i,
					  true);
		}
		b->msgs = pct(t, 85) ? (uintptr_t)t->batch : data_ptr(t);
		if (junk(t, 5) && b->count)
			/* The last entries run into the guard page. */
			b->msgs = (uintptr_t)t->batch + BATCH_LEN -
				  sizeof(struct mbx_recv) *
				  below(t, b->count < 16 ? b->count : 16);
		b->flags = pick_flags(t, MBX_NONBLOCK | MBX_TIMEOUT |
				      MBX_ABSTIME);
		b->timeout_ns = pick_timeout(t, b->flags);
		if (junk(t, 4))
			b->reserved = (uint32_t)rnd(t);
		if (pct(t, 10))
			b->done = (uint32_t)rnd(t);
		break;
	}
	case MBX_IOC_PORT_DUP: {
		struct mbx_port_dup *d = (void *)t->tmp;

		d->flags = pick_flags(t, MBX_SEND | MBX_RECV | MBX_CLOEXEC |
				      MBX_NONBLOCK);
		if (junk(t, 4))
			d->reserved = (uint32_t)rnd(t);
		break;
	}
	case MBX_IOC_RING_INFO:
		versioned = true;
		if (junk(t, 5))
			((struct mbx_ring_info *)t->tmp)->flags = (uint32_t)rnd(t);
		break;
	case MBX_IOC_RING_ATTACH: {
		struct mbx_ring_attach *a = (void *)t->tmp;

		a->role = pct(t, 90) ? 1 + below(t, 2) : (uint32_t)rnd(t);
		if (junk(t, 5))
			a->flags = (uint32_t)rnd(t);
		break;
	}
	case MBX_IOC_RING_ENTER: {
		struct mbx_ring_enter *e = (void *)t->tmp;

		versioned = true;
		e->role = pct(t, 90) ? 1 + below(t, 2) : (uint32_t)rnd(t);
		e->flags = pct(t, 90) ? (1 + below(t, 3)) << 16 :
			   (uint32_t)rnd(t);
		if (e->flags & MBX_RING_ENTER_WAIT) {
			/* Short waits: a timeout, or no wait at all. */
			e->flags |= pct(t, 50) ? MBX_NONBLOCK : MBX_TIMEOUT;
			e->timeout_ns = below(t, 2000000);
			e->pos = pct(t, 50) ? 8 * below(t, 4096) : rnd(t);
			e->want = pct(t, 80) ? below(t, 70000) : rnd(t);
		}
		/* Mostly as the role's holder: past the role check. */
		if (pct(t, 60)) {
			struct mbx_ring_attach a = { .role = e->role };

			ioctl(fd, MBX_IOC_RING_ATTACH, &a);
		}
		break;
	}
	case MBX_IOC_SUBSCRIBE: {
		struct mbx_subscribe *u = (void *)t->tmp;
		static const uint32_t maxes[] = { 0, 1, 2, 8, 65536, 65537 };

		versioned = true;
		u->policy = pct(t, 90) ? below(t, 2) : (uint32_t)rnd(t);
		u->max_msgs = maxes[below(t, 6)];
		u->max_bytes = pct(t, 60) ? 0 : pct(t, 80) ? below(t, 1 << 20) :
						    rnd(t);
		if (junk(t, 4))
			u->flags = (uint32_t)rnd(t);
		if (junk(t, 4))
			u->reserved = (uint32_t)rnd(t);
		break;
	}
	}
	if (pct(t, 8) && size)
		mangle(t, t->tmp, size);
	/* The fd that holds the region, mostly. */
	if (t->reg_fd >= 0 && !ctl && pct(t, 70))
		fd = t->reg_fd;
	cmd = mangle_cmd(t, cmd, &size, versioned);
	mangled = cmd != mbx_cmds[ci];
	arg = place_arg(t, size ? size : 8, &good);

	__atomic_add_fetch(&t->w->sh->tries[ci], 1, __ATOMIC_RELAXED);
	begin(t, "ioctl(%d, %s%s, %#llx)", fd, cmd_name[ci],
	      mangled ? " (mangled)" : "", (unsigned long long)arg);
	ret = end(t, SYS(ioctl(fd, cmd, arg)));
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
static void op_rawioc(struct thread *t)
{
	static const unsigned long foreign[] = {
		FIONREAD, FIONBIO, FIOCLEX, FIONCLEX, FIOASYNC, FIOQSIZE,
		0x5401 /* TCGETS */, 0x80086601 /* FS_IOC_GETFLAGS */,
		0x40049409 /* FICLONE */,
	};
	unsigned int c = below(t, 100);
	int fd = pick_fd(t, pct(t, 70) ? M_PORT : 0);
	unsigned long cmd;
	size_t size;
	uint64_t arg;
	int good;

	if (c < 40)
		cmd = _IOC(below(t, 4), MBX_IOC_MAGIC, below(t, 64),
			   below(t, 300));
	else if (c < 55)
		cmd = _IOC(below(t, 4), MBX_IOC_MAGIC, below(t, 256),
			   below(t, _IOC_SIZEMASK + 1));
	else if (c < 70)
		cmd = foreign[below(t, ARRAY_SIZE(foreign))];
	else if (c < 85)
		cmd = mbx_cmds[below(t, NCMD)] ^
		      (1UL << below(t, 32));
	else
		cmd = (uint32_t)rnd(t);
	/* FIOASYNC would make later I/O send SIGIO: leave it off. */
	if (cmd == FIOASYNC)
		memset(t->tmp, 0, 8);
	else
		for (size = 0; size < 256; size += 8) {
			uint64_t v = pct(t, 50) ? 0 : rnd(t);

			memcpy(t->tmp + size, &v, 8);
		}
	size = _IOC_SIZE(cmd);
	arg = place_arg(t, size ? size : 256, &good);
	if (pct(t, 5))
		arg = rnd(t);
	if (cmd == FIOASYNC && arg != (uintptr_t)t->area)
		return;
	begin(t, "ioctl(%d, %#lx, %#llx)", fd, cmd, (unsigned long long)arg);
	end(t, SYS(ioctl(fd, cmd, arg)));
}

/* ---- read, write ------------------------------------------------------ */

static void op_rw(struct thread *t)
{
	int fd = pick_fd(t, pct(t, 70) ? M_PORT : 0);
	uint64_t len = pick_len(t), p = data_ptr(t);
	unsigned int c = below(t, 100);
	struct iovec iov[3];
	int i;

	if (c < 40) {
		begin(t, "read(%d, %#llx, %llu)", fd, (unsigned long long)p,
		      (unsigned long long)len);
		end(t, SYS(read(fd, (void *)p, len)));
	} else if (c < 80) {
		begin(t, "write(%d, %#llx, %llu)", fd, (unsigned long long)p,
		      (unsigned long long)len);
		end(t, SYS(write(fd, (void *)p, len)));
	} else if (c < 88) {
		begin(t, "pread/pwrite(%d)", fd);
		if (c & 1)
			end(t, SYS(pread(fd, (void *)p, len, below(t, 4096))));
		else
			end(t, SYS(pwrite(fd, (void *)p, len, below(t, 4096))));
	} else {
		for (i = 0; i < 3; i++) {
			iov[i].iov_base = (void *)data_ptr(t);
			iov[i].iov_len = below(t, 2) ? below(t, 600) : pick_len(t);
		}
		begin(t, "readv/writev(%d)", fd);
		if (c & 1)
			end(t, SYS(readv(fd, iov, 1 + below(t, 3))));
		else
			end(t, SYS(writev(fd, iov, 1 + below(t, 3))));
	}
}

/* ---- mappings --------------------------------------------------------- */

static void op_map(struct thread *t)
{
	static const int prots[] = {
		PROT_READ, PROT_READ | PROT_WRITE, PROT_NONE, PROT_WRITE,
		PROT_READ | PROT_EXEC, PROT_READ | PROT_WRITE | PROT_EXEC,
	};
	struct worker *w = t->w;
	unsigned int c = below(t, 100);
	struct mapping *m;
	int i, s, fd, prot;
	size_t len, cut;
	void *p;

	if (c < 35) {
		s = pick_slot(t, (1U << K_POOLPORT) | (1U << K_FILE));
		fd = slot_fd(t, s);
		len = w->pool_size[s] && pct(t, 75) ? w->pool_size[s] :
		      pct(t, 50) ? PG * (1 + below(t, 20)) : pick_len(t);
		prot = prots[below(t, 6)];
		begin(t, "mmap(%zu, %#x, %d)", len, prot, fd);
		pthread_mutex_lock(&w->mlock);
		p = mmap(NULL, len, prot,
			 pct(t, 90) ? MAP_SHARED : MAP_PRIVATE |
			 (pct(t, 10) ? MAP_POPULATE : 0), fd,
			 pct(t, 80) ? 0 : pct(t, 50) ? PG * below(t, 3) :
			 (off_t)0x10000000 * (1 + below(t, 4)));
		end(t, p == MAP_FAILED ? -errno : 0);
		if (p != MAP_FAILED) {
			i = below(t, NMAP);
			if (w->maps[i].addr)
				munmap(w->maps[i].addr, w->maps[i].len);
			w->maps[i].addr = p;
			w->maps[i].len = (len + PG - 1) & ~(PG - 1);
			w->maps[i].prot = prot;
		}
		pthread_mutex_unlock(&w->mlock);
		return;
	}

	pthread_mutex_lock(&w->mlock);
	m = &w->maps[below(t, NMAP)];
	if (!m->addr) {
		pthread_mutex_unlock(&w->mlock);
		return;
	}
	if (c < 50) {
		/* All of it, its head or its tail. */
		cut = m->len > PG && pct(t, 50) ?
		      PG * (1 + below(t, m->len / PG - 1)) : m->len;
		begin(t, "munmap(%p, %zu)", m->addr, cut);
		if (pct(t, 50) || cut == m->len) {
			end(t, SYS(munmap(m->addr, cut)));
			m->addr += cut;
		} else {
			end(t, SYS(munmap(m->addr + m->len - cut, cut)));
		}
		m->len -= cut;
		if (!m->len)
			m->addr = NULL;
	} else if (c < 70) {
		prot = prots[below(t, 6)];
		begin(t, "mprotect(%p, %zu, %#x)", m->addr, m->len, prot);
		if (!end(t, SYS(mprotect(m->addr, m->len, prot))))
			m->prot = prot;
	} else if (c < 85) {
		len = pct(t, 50) ? m->len : PG * (1 + below(t, 32));
		begin(t, "mremap(%p, %zu, %zu)", m->addr, m->len, len);
		p = mremap(m->addr, m->len, len, MREMAP_MAYMOVE);
		end(t, p == MAP_FAILED ? -errno : 0);
		if (p != MAP_FAILED) {
			m->addr = p;
			m->len = len;
		}
	} else {
		begin(t, "madvise(%p, %zu)", m->addr, m->len);
		end(t, SYS(madvise(m->addr, m->len,
				   pct(t, 70) ? MADV_DONTNEED : MADV_WILLNEED)));
	}
	pthread_mutex_unlock(&w->mlock);
}

/* Read or write a mapped page; faults are caught (and counted). */
static void op_touch(struct thread *t)
{
	struct worker *w = t->w;
	struct mapping *m;
	uint8_t *p;

	pthread_mutex_lock(&w->mlock);
	m = &w->maps[below(t, NMAP)];
	if (m->addr) {
		p = m->addr + below(t, m->len);
		__atomic_store_n(&t->in_touch, 1, __ATOMIC_RELAXED);
		if (sigsetjmp(t->jb, 1) == 0) {
			if ((m->prot & PROT_WRITE) && pct(t, 50))
				__atomic_store_n(p, (uint8_t)rnd(t),
						 __ATOMIC_RELAXED);
			else
				__atomic_load_n(p, __ATOMIC_RELAXED);
		} else {
			__atomic_add_fetch(&w->sh->faults, 1, __ATOMIC_RELAXED);
		}
		__atomic_store_n(&t->in_touch, 0, __ATOMIC_RELAXED);
		t->st->calls++;
	}
	pthread_mutex_unlock(&w->mlock);
}

/* ---- poll, epoll -------------------------------------------------------- */

static void op_poll(struct thread *t)
{
	struct pollfd pfd[4];
	int n = 1 + below(t, 4), i;
	struct timespec ts;

	for (i = 0; i < n; i++) {
		pfd[i].fd = pick_fd(t, pct(t, 70) ? M_PORT : 0);
		pfd[i].events = pct(t, 80) ? (short)(POLLIN | POLLOUT) :
					     (short)rnd(t);
		pfd[i].revents = 0;
	}
	begin(t, "poll(%d fds, first %d)", n, pfd[0].fd);
	if (pct(t, 5)) {
		end(t, SYS(poll((void *)data_ptr(t), n, 0)));
	} else if (pct(t, 30)) {
		ts.tv_sec = 0;
		ts.tv_nsec = below(t, 3000000);
		end(t, SYS(ppoll(pfd, n, &ts, NULL)));
	} else {
		end(t, SYS(poll(pfd, n, below(t, 4))));
	}
}

static void op_epoll(struct thread *t)
{
	static const int ops[] = { EPOLL_CTL_ADD, EPOLL_CTL_MOD, EPOLL_CTL_DEL };
	int ep = slot_fd(t, pick_slot(t, 1U << K_EPOLL));
	struct epoll_event ev[8];
	int fd;

	if (pct(t, 60)) {
		fd = pick_fd(t, pct(t, 70) ? M_PORT : 0);
		memset(ev, 0, sizeof(ev));
		ev[0].events = pct(t, 80) ? EPOLLIN | EPOLLOUT |
				(pct(t, 30) ? EPOLLET : 0) |
				(pct(t, 10) ? EPOLLONESHOT : 0) :
				(uint32_t)rnd(t);
		ev[0].data.u64 = rnd(t);
		begin(t, "epoll_ctl(%d, %d)", ep, fd);
		end(t, SYS(epoll_ctl(ep, ops[below(t, 3)], fd, ev)));
	} else {
		begin(t, "epoll_wait(%d)", ep);
		end(t, SYS(epoll_wait(ep, ev, 8, below(t, 4))));
	}
}

/* ---- fds --------------------------------------------------------------- */

static void op_fd(struct thread *t)
{
	unsigned int c = below(t, 100);
	int s = below(t, NSLOT), fd = slot_fd(t, s), other, ret;

	if (c < 35) {
		/* Close; the stale number stays half the time. */
		if (fd <= 2)
			return;
		begin(t, "close(%d)", fd);
		end(t, SYS(close(fd)));
		if (pct(t, 50))
			t->w->kind[s] = K_STALE;
		else
			__atomic_compare_exchange_n(&t->w->fds[s], &fd, -1, 0,
						    __ATOMIC_RELAXED,
						    __ATOMIC_RELAXED);
	} else if (c < 50) {
		begin(t, "dup(%d)", fd);
		ret = end(t, SYS(fcntl(fd, pct(t, 50) ? F_DUPFD : F_DUPFD_CLOEXEC,
				       3)));
		put_fd(t, ret, t->w->kind[s], t->w->pool_size[s]);
	} else if (c < 72) {
		/* Over another slot's fd, maybe one a thread blocks on. */
		other = slot_fd(t, below(t, NSLOT));
		if (other <= 2 || fd == other)
			return;
		begin(t, "dup2(%d, %d)", fd, other);
		if (pct(t, 50))
			end(t, SYS(dup2(fd, other)));
		else
			end(t, SYS(dup3(fd, other, O_CLOEXEC)));
	} else if (c < 90) {
		int fl;

		begin(t, "fcntl(%d, F_SETFL)", fd);
		fl = fcntl(fd, F_GETFL);
		if (fl >= 0)
			end(t, SYS(fcntl(fd, F_SETFL, fl ^ O_NONBLOCK)));
		else
			end(t, -errno);
	} else {
		/* Reopen through /proc: anon inodes must refuse cleanly. */
		char path[64];

		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		begin(t, "open(%s)", path);
		ret = end(t, SYS(open(path, pct(t, 50) ? O_RDWR : O_RDONLY)));
		put_fd(t, ret, t->w->kind[s], t->w->pool_size[s]);
	}
}

/* A port; @name: an index into the round's names, or -1 for none. */
static int new_port(struct thread *t, uint32_t cap, uint64_t pool, int name)
{
	struct mbx_port_create c;

	memset(&c, 0, sizeof(c));
	c.capacity = cap;
	c.max_msg_size = pct(t, 50) ? 256 : 0;
	c.pool_size = pool;
	c.mode = 0666;
	c.flags = pct(t, 20) ? MBX_NONBLOCK : 0;
	if (name >= 0)
		strcpy(c.name, t->w->names[name]);
	return mbx_port_create(MBX_DEV_AUTO, &c);
}

static void op_open(struct thread *t)
{
	static const int dev_modes[] = { O_RDWR, O_RDONLY, O_WRONLY };
	unsigned int c = below(t, 100);
	int fd, p[2];

	begin(t, "open kind %u", c);
	if (c < 30) {
		uint64_t pool = pct(t, 50) ? PG * (1 + below(t, 16)) : 0;

		fd = new_port(t, pct(t, 25) ? 0 : 1 + below(t, 8), pool,
			      pct(t, 40) ? (int)below(t, NNAME) : -1);
		end(t, fd);
		put_fd(t, fd, pool ? K_POOLPORT : K_PORT, pool);
	} else if (c < 45) {
		fd = mbx_port_open(MBX_DEV_AUTO, t->w->names[below(t, NNAME)],
				   (1 + below(t, 3)) * MBX_SEND |
				   (pct(t, 20) ? MBX_NONBLOCK : 0));
		end(t, fd);
		put_fd(t, fd, K_PORT, 0);
	} else if (c < 55) {
		fd = open(MBX_DEVICE_PATH, dev_modes[below(t, 3)] |
			  (pct(t, 30) ? O_NONBLOCK : 0));
		end(t, fd < 0 ? -errno : fd);
		put_fd(t, fd, K_DEV, 0);
	} else if (c < 65) {
		if (end(t, SYS(pipe2(p, pct(t, 50) ? O_NONBLOCK : 0))) == 0) {
			put_fd(t, p[0], K_PIPE, 0);
			put_fd(t, p[1], K_PIPE, 0);
		}
	} else if (c < 72) {
		fd = open(t->w->path, O_RDWR | O_CREAT, 0600);
		end(t, fd < 0 ? -errno : fd);
		put_fd(t, fd, K_FILE, 0);
	} else if (c < 76) {
		fd = open("/dev/null", O_RDWR);
		end(t, fd < 0 ? -errno : fd);
		put_fd(t, fd, K_NULL, 0);
	} else if (c < 80) {
		fd = eventfd(0, EFD_NONBLOCK);
		end(t, fd < 0 ? -errno : fd);
		put_fd(t, fd, K_EVENT, 0);
	} else if (c < 85) {
		fd = epoll_create1(0);
		end(t, fd < 0 ? -errno : fd);
		put_fd(t, fd, K_EPOLL, 0);
	} else if (c < 90) {
		if (end(t, SYS(socketpair(AF_UNIX, pct(t, 50) ? SOCK_DGRAM :
					  SOCK_STREAM, 0, p))) == 0) {
			put_fd(t, p[0], K_SOCK, 0);
			put_fd(t, p[1], K_SOCK, 0);
		}
	} else {
		/* A narrowed fd of an existing port. */
		struct mbx_port_dup d = {
			.flags = (1 + below(t, 3)) * MBX_SEND,
		};
		int s = pick_slot(t, M_PORT);

		fd = end(t, t_ioctl(slot_fd(t, s), MBX_IOC_PORT_DUP, &d));
		put_fd(t, fd, t->w->kind[s], t->w->pool_size[s]);
	}
}

/* Pass fds over a unix socket; receive some back; leave some in flight. */
static void op_scm(struct thread *t)
{
	int sock = slot_fd(t, pick_slot(t, 1U << K_SOCK));
	char cbuf[CMSG_SPACE(3 * sizeof(int))];
	struct cmsghdr *cm;
	struct msghdr mh;
	struct iovec iov;
	char byte = 'x';
	int n, i, *fds;
	long ret;

	memset(&mh, 0, sizeof(mh));
	memset(cbuf, 0, sizeof(cbuf));
	iov.iov_base = &byte;
	iov.iov_len = 1;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	if (pct(t, 55)) {
		n = 1 + below(t, 3);
		mh.msg_controllen = CMSG_SPACE(n * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(n * sizeof(int));
		fds = (int *)CMSG_DATA(cm);
		for (i = 0; i < n; i++)
			fds[i] = pick_fd(t, M_PORT);
		begin(t, "sendmsg(%d, %d fds)", sock, n);
		ret = end(t, SYS(sendmsg(sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL)));
		if (ret > 0)
			__atomic_add_fetch(&t->w->sh->fds_passed, n,
					   __ATOMIC_RELAXED);
		return;
	}
	mh.msg_controllen = sizeof(cbuf);
	begin(t, "recvmsg(%d)", sock);
	ret = end(t, SYS(recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC)));
	if (ret < 0)
		return;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		fds = (int *)CMSG_DATA(cm);
		for (i = 0; i < n; i++)
			put_fd(t, fds[i], K_PORT, 0);
	}
}

/* A child that makes a few calls on what it inherited, then exits. */
static void op_fork(struct thread *t)
{
	pid_t pid;
	int i;

	begin(t, "fork");
	pid = fork();
	if (pid) {
		end(t, pid < 0 ? -errno : 0);
		return;
	}
	/* The child: it must not touch the shared state of its thread. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	alarm(2);
	for (i = 0; i < 8; i++) {
		int fd = slot_fd(t, below(t, NSLOT));
		struct mbx_recv r = {
			.buf = (uintptr_t)t->w->sink, .len = 4096,
			.flags = MBX_NONBLOCK | (pct(t, 50) ? MBX_RECV_INPLACE : 0),
		};
		struct mbx_buf b = { .len = 64, .flags = MBX_NONBLOCK };

		switch (below(t, 4)) {
		case 0:
			ioctl(fd, MBX_IOC_RECV, &r);
			break;
		case 1:
			ioctl(fd, MBX_IOC_BUF_ALLOC, &b);
			break;
		case 2:
			write(fd, t->w->sink, below(t, 300));
			break;
		default:
			if (fd > 2)
				close(fd);
		}
	}
	_exit(0);
}

/* ---- threads and rounds ------------------------------------------------ */

static void *fuzz_thread(void *arg)
{
	struct thread *t = arg;
	uint64_t done;
	unsigned int c;

	cur = t;
	t->tid = (pid_t)syscall(SYS_gettid);
	for (done = 0; done < t->quota; done++) {
		t->clean = 0;
		c = below(t, 1000);
		if (c < 440) {
			op_mbx(t);
			c = O_MBX;
		} else if (c < 510) {
			op_rawioc(t);
			c = O_RAWIOC;
		} else if (c < 620) {
			op_rw(t);
			c = O_RW;
		} else if (c < 680) {
			op_map(t);
			c = O_MAP;
		} else if (c < 720) {
			op_touch(t);
			c = O_TOUCH;
		} else if (c < 760) {
			op_poll(t);
			c = O_POLL;
		} else if (c < 785) {
			op_epoll(t);
			c = O_EPOLL;
		} else if (c < 860) {
			op_fd(t);
			c = O_FD;
		} else if (c < 955) {
			op_open(t);
			c = O_OPEN;
		} else if (c < 995) {
			op_scm(t);
			c = O_SCM;
		} else {
			op_fork(t);
			c = O_FORK;
		}
		__atomic_add_fetch(&t->w->sh->ops[c], 1, __ATOMIC_RELAXED);
		t->st->ops++;
	}
	t->st->done = 1;
	return NULL;
}

/* Pages for arguments: [len bytes RW][PROT_NONE]. */
static uint8_t *guarded(size_t len)
{
	uint8_t *p = mmap(NULL, len + PG, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (mprotect(p + len, PG, PROT_NONE))
		return NULL;
	return p;
}

static void setup_fail(struct fz_shared *sh, const char *what)
{
	snprintf(sh->setup_msg, sizeof(sh->setup_msg), "%s: %s", what,
		 strerror(errno));
	sh->setup_failed = 1;
	_exit(T_BAD_SETUP);
}

static void worker(struct fz_shared *sh, uint64_t calls)
{
	static struct worker w;
	static struct thread th[MAXT];
	bool joined[MAXT] = { false };
	struct rlimit rl = { 1 << 20, 1 << 20 };
	struct thread boot;
	struct sigaction sa;
	int i, n = sh->nthreads;
	bool running;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	t_handle(SIGUSR1, on_usr1, 0);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	signal(SIGIO, SIG_IGN);
	setrlimit(RLIMIT_FSIZE, &rl);	/* the regular file stays small */

	w.sh = sh;
	sh->phase = 1;
	pthread_mutex_init(&w.mlock, NULL);
	for (i = 0; i < NNAME; i++)
		snprintf(w.names[i], MBX_NAME_LEN, "mbxfz.%d.%u.%d",
			 (int)sh->owner, sh->round, i);
	snprintf(w.path, sizeof(w.path), "/tmp/mbxfz.%d.%u", (int)sh->owner,
		 sh->round);
	w.sink = guarded(SINK_LEN);
	w.none = mmap(NULL, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!w.sink || w.none == MAP_FAILED)
		setup_fail(sh, "mmap");
	for (i = 0; i < NSLOT; i++)
		w.fds[i] = -1;

	/* A first table: one of each kind, then random opens. */
	memset(&boot, 0, sizeof(boot));
	boot.w = &w;
	boot.st = &sh->th[0];
	boot.rng = mix64(sh->round_seed ^ 0xb007) | 1;
	i = 0;
	w.fds[i] = t_dev();
	w.kind[i++] = K_DEV;
	w.fds[i] = open(MBX_DEVICE_PATH, O_RDONLY);
	w.kind[i++] = K_DEV;
	w.fds[i] = new_port(&boot, 4, 0, 0);
	w.kind[i++] = K_PORT;
	w.fds[i] = new_port(&boot, 0, 0, 1);
	w.kind[i++] = K_PORT;
	w.fds[i] = new_port(&boot, 8, 4 * PG, 2);
	w.pool_size[i] = 4 * PG;
	w.kind[i++] = K_POOLPORT;
	w.fds[i] = mbx_port_dup(w.fds[i - 1], MBX_RECV);
	w.pool_size[i] = 4 * PG;
	w.kind[i++] = K_POOLPORT;
	w.fds[i] = mbx_port_dup(w.fds[i - 2], MBX_SEND);
	w.pool_size[i] = 4 * PG;
	w.kind[i++] = K_POOLPORT;
	w.fds[i] = epoll_create1(0);
	w.kind[i++] = K_EPOLL;
	for (; i < NSLOT; i++)
		if (w.fds[i] < 0)
			w.fds[i] = -1;
	for (i = 0; i < 8; i++)
		if (w.fds[i] < 0)
			setup_fail(sh, "first fds");
	for (i = 0; i < 24; i++)
		op_open(&boot);
	sh->th[0].since = 0;

	for (i = 0; i < n; i++) {
		th[i].w = &w;
		th[i].st = &sh->th[i];
		th[i].idx = i;
		th[i].rng = mix64(sh->round_seed ^ mix64(i + 1)) | 1;
		th[i].quota = calls / n + (i < (int)(calls % n));
		th[i].area = guarded(AREA_LEN);
		th[i].batch = guarded(BATCH_LEN);
		th[i].ro = mmap(NULL, PG, PROT_READ,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (!th[i].area || !th[i].batch || th[i].ro == MAP_FAILED)
			setup_fail(sh, "thread pages");
		if (pthread_create(&th[i].pt, NULL, fuzz_thread, &th[i]))
			setup_fail(sh, "pthread_create");
	}

	/* The watchdog: no call may stay blocked for long. */
	sh->phase = 2;
	do {
		uint64_t now = t_now_ns();

		running = false;
		for (i = 0; i < n; i++) {
			uint64_t since = __atomic_load_n(&sh->th[i].since,
							 __ATOMIC_ACQUIRE);

			if (joined[i])
				continue;
			if (pthread_tryjoin_np(th[i].pt, NULL) != EBUSY) {
				joined[i] = true;
				continue;
			}
			running = true;
			if (since && now > since + STUCK_NS) {
				if (now - since > sh->longest_ns) {
					sh->longest_ns = now - since;
					memcpy(sh->longest, sh->th[i].what,
					       sizeof(sh->longest));
				}
				pthread_kill(th[i].pt, SIGUSR1);
				sh->interrupts++;
			}
		}
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		usleep(5000);
	} while (running);
	sh->phase = 3;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	unlink(w.path);
	/* Exit with everything open, mapped, held and in flight. */
	_exit(0);
}

/* ---- the test process -------------------------------------------------- */

FIXTURE(fuzz) {
	struct fz_shared *sh;
};

FIXTURE_SETUP(fuzz)
{
	self->sh = t_shared(sizeof(*self->sh));
	ASSERT_NE(NULL, self->sh);
}

FIXTURE_TEARDOWN(fuzz)
{
	if (self->sh)
		munmap(self->sh, sizeof(*self->sh));
}

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : def;
}

/* Where each task of a hung worker is: state, wchan, system call. */
static void dump_tasks(struct __test_metadata *_metadata, pid_t pid)
{
	char path[96], buf[512], out[1200];
	struct dirent *de;
	DIR *d;
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d))) {
		static const char *const files[] = { "stat", "wchan", "syscall" };
		int o = 0, k;

		if (de->d_name[0] == '.')
			continue;
		for (k = 0; k < 3; k++) {
			snprintf(path, sizeof(path), "/proc/%d/task/%.16s/%s",
				 (int)pid, de->d_name, files[k]);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			n = fd < 0 ? 0 : read(fd, buf, sizeof(buf) - 1);
			if (fd >= 0)
				close(fd);
			buf[n > 0 ? n : 0] = '\0';
			buf[strcspn(buf, "\n")] = '\0';
			o += snprintf(out + o, sizeof(out) - o, " | %s: %.100s",
				      files[k], buf);
		}
		TH_LOG("task %s%s", de->d_name, out);
	}
	closedir(d);
}

/* Reap every descendant left (they end within 2 s by their alarm). */
static void reap_all(struct __test_metadata *_metadata)
{
	uint64_t end = t_now_ns() + 10000000000ULL;
	pid_t r;

	for (;;) {
		r = waitpid(-1, NULL, WNOHANG);
		if (r < 0)
			return;		/* ECHILD: nobody left */
		if (r == 0) {
			if (t_now_ns() > end) {
				TH_LOG("a fork child of the worker outlived its alarm");
				return;
			}
			usleep(2000);
		}
	}
}

static void unlink_round(struct fz_shared *sh, uint32_t round)
{
	char name[MBX_NAME_LEN];
	int i;

	for (i = 0; i < NNAME; i++) {
		snprintf(name, sizeof(name), "mbxfz.%d.%u.%d", (int)sh->owner,
			 round, i);
		mbx_port_unlink(MBX_DEV_AUTO, name);
	}
	snprintf(name, sizeof(name), "/tmp/mbxfz.%d.%u", (int)sh->owner,
		 round);
	unlink(name);
}

/* After all that: the module still does its job. */
static int sanity(struct __test_metadata *_metadata)
{
	struct mbx_port_create c = { .capacity = 4, .max_msg_size = 256,
				     .pool_size = 4 * PG, .mode = 0600 };
	char buf[256], name[MBX_NAME_LEN];
	struct mbx_port_info info;
	uint64_t off;
	void *base;
	size_t size;
	int fd, rfd;

	snprintf(name, sizeof(name), "mbxfz.%d.check", (int)getpid());
	strcpy(c.name, name);
	fd = mbx_port_create(MBX_DEV_AUTO, &c);
	ASSERT_LE(0, fd) TH_LOG("create: %s", strerror(-fd));
	rfd = mbx_port_open(MBX_DEV_AUTO, name, MBX_RECV);
	ASSERT_LE(0, rfd);
	EXPECT_EQ(0, mbx_port_unlink(MBX_DEV_AUTO, name));
	EXPECT_EQ(0, t_send_str(fd, "still alive", 3));
	EXPECT_EQ(11, t_recv_str(rfd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("still alive", buf);
	ASSERT_EQ(0, mbx_pool_map(fd, &base, &size));
	ASSERT_EQ(0, mbx_buf_alloc(fd, 100, &off));
	t_fill(mbx_buf_ptr(base, off), 100, 7);
	EXPECT_EQ(0, mbx_buf_send(fd, off, 100, 0));
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(100, mbx_recv_nonblock(rfd, buf, sizeof(buf), NULL));
	EXPECT_TRUE(t_check(buf, 100, 7));
	ASSERT_EQ(0, t_info(fd, &info));
	EXPECT_EQ(info.pool_size, info.pool_free);
	EXPECT_EQ(0, info.queued);
	EXPECT_EQ(2, info.sent);
	EXPECT_EQ(2, info.received);
	mbx_pool_unmap(base, size);
	close(rfd);
	close(fd);
	return 0;
}

TEST_F_TIMEOUT(fuzz, random_calls_racing_threads, 24 * 3600)
{
	bool debug = access("/proc/lockdep", F_OK) == 0;
	uint64_t target = env_u64("MBX_FUZZ_CALLS", debug ? 50000 : 100000);
	uint64_t secs = env_u64("MBX_FUZZ_SECS", debug ? 150 : 100);
	uint64_t seed = env_u64("MBX_FUZZ_SEED", 0);
	uint64_t round_limit = (debug ? 120 : 40) * 1000000000ULL;
	uint64_t calls = 0, t0, t_stop, rng, ok_total = 0, err_total = 0;
	struct fz_shared *sh = self->sh;
	uint32_t round, nthreads;
	char line[1024];
	int i, o;

	nthreads = env_u64("MBX_FUZZ_THREADS", 4);
	if (nthreads < 1 || nthreads > MAXT)
		nthreads = 4;
	if (!seed)
		seed = mix64(t_now_ns() ^ ((uint64_t)getpid() << 32));
	ksft_print_msg("fuzz: seed %llu (MBX_FUZZ_SEED=%llu repeats it)\n",
		       (unsigned long long)seed, (unsigned long long)seed);
	ksft_print_msg("fuzz: %llu calls, %u threads, at most %llu s%s\n",
		       (unsigned long long)target, nthreads,
		       (unsigned long long)secs, debug ? ", lockdep kernel" : "");
	sh->seed = seed;
	sh->owner = getpid();
	/* Orphans of a worker (its fork children) come to us to be reaped. */
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1));
	sh->nthreads = nthreads;
	rng = mix64(seed) | 1;
	alarm(secs + 600);

	t0 = t_now_ns();
	t_stop = t0 + secs * 1000000000ULL;
	for (round = 0; calls < target && t_now_ns() < t_stop; round++) {
		uint64_t n = target - calls < ROUND_CALLS ? target - calls :
			     ROUND_CALLS, start, kill_at = 0, before = 0;
		int st = 0;
		pid_t pid, r;

		sh->round = round;
		sh->round_seed = mix64(seed ^ mix64(round + 1));
		for (i = 0; i < MAXT; i++) {
			before += sh->th[i].calls;
			sh->th[i].since = 0;
			sh->th[i].what[0] = '\0';
			sh->th[i].ops = 0;
			sh->th[i].done = 0;
		}
		/* One round in four is killed part-way through. */
		rng ^= rng >> 12, rng ^= rng << 25, rng ^= rng >> 27;
		if ((rng * 0x2545f4914f6cdd1dULL) % 4 == 0)
			kill_at = 50 + (rng >> 20) % 1500;
		start = t_now_ns();
		pid = t_fork();
		ASSERT_LE(0, pid);
		if (pid == 0)
			worker(sh, n);

		for (;;) {
			uint64_t now = t_now_ns();

			r = waitpid(pid, &st, WNOHANG);
			if (r == pid)
				break;
			ASSERT_EQ(0, r);
			if (kill_at && now > start + kill_at * 1000000ULL) {
				kill(pid, SIGKILL);
				sh->kills++;
				kill_at = 0;
			}
			if (now > start + round_limit) {
				TH_LOG("worker phase %u", sh->phase);
				dump_tasks(_metadata, pid);
				for (i = 0; i < (int)nthreads; i++)
					TH_LOG("thread %d: %llu ops%s, %s %.1f s in %s",
					       i, (unsigned long long)sh->th[i].ops,
					       sh->th[i].done ? " (done)" : "",
					       sh->th[i].since ? "blocked" : "last call",
					       sh->th[i].since ?
					       (now - sh->th[i].since) / 1e9 : 0.0,
					       sh->th[i].what);
				kill(pid, SIGKILL);
				waitpid(pid, &st, 0);
				ASSERT_TRUE(0)
					TH_LOG("seed %llu round %u: worker still busy after %llu s",
					       (unsigned long long)seed, round,
					       (unsigned long long)(round_limit / 1000000000ULL));
			}
			usleep(2000);
		}
		/* Its fork children die with it or by their alarm: reap them. */
		reap_all(_metadata);
		unlink_round(sh, round);
		ASSERT_EQ(0, sh->setup_failed) TH_LOG("%s", sh->setup_msg);
		if (WIFSIGNALED(st)) {
			ASSERT_EQ(SIGKILL, WTERMSIG(st))
				TH_LOG("seed %llu round %u: worker killed by signal %d",
				       (unsigned long long)seed, round, WTERMSIG(st));
		} else {
			ASSERT_EQ(0, WEXITSTATUS(st))
				TH_LOG("seed %llu round %u", (unsigned long long)seed,
				       round);
		}
		for (i = 0; i < MAXT; i++)
			calls += sh->th[i].calls;
		calls -= before;
	}

	sanity(_metadata);

	ksft_print_msg("fuzz: seed %llu: %llu calls, %u rounds (%llu killed mid-round), %.1f s\n",
		       (unsigned long long)seed, (unsigned long long)calls, round,
		       (unsigned long long)sh->kills, (t_now_ns() - t0) / 1e9);
	ksft_print_msg("fuzz: %llu blocked calls interrupted, longest after %.3f s: %s\n",
		       (unsigned long long)sh->interrupts, sh->longest_ns / 1e9,
		       sh->longest);
	for (o = 0, i = 0; i < NOP; i++)
		o += snprintf(line + o, sizeof(line) - o, "%s%s %llu",
			      i ? ", " : "", op_name[i],
			      (unsigned long long)sh->ops[i]);
	ksft_print_msg("fuzz: operations: %s; %llu faults caught, %llu fds passed\n",
		       line, (unsigned long long)sh->faults,
		       (unsigned long long)sh->fds_passed);
	for (o = 0, i = 0; i < NCMD; i++)
		o += snprintf(line + o, sizeof(line) - o, "%s%s %llu/%llu",
			      i ? ", " : "", cmd_name[i],
			      (unsigned long long)sh->oks[i],
			      (unsigned long long)sh->tries[i]);
	ksft_print_msg("fuzz: mailbox ioctls (succeeded/tried): %s\n", line);
	for (i = 1; i < 160; i++)
		err_total += sh->err[i];
	ok_total = sh->err[0];
	for (o = 0, i = 1; i < 160; i++)
		if (sh->err[i] && o < (int)sizeof(line) - 40)
			o += snprintf(line + o, sizeof(line) - o, " %s %llu",
				      strerrorname_np(i) ?: "?",
				      (unsigned long long)sh->err[i]);
	ksft_print_msg("fuzz: results: %llu succeeded, %llu failed:%s\n",
		       (unsigned long long)ok_total,
		       (unsigned long long)err_total, line);
	EXPECT_LT(0, calls);
	alarm(0);
}

/*
 * A directed race from the same family: one thread receives a pool message
 * in place with its struct mbx_recv in a read-only page, so the kernel can
 * read the argument but not write the results back; the rules then put the
 * message back at the head of the queue ("a receive that failed took
 * nothing").  Another thread of the same process releases that region
 * through the same fd in a loop.  The region is always either queued or,
 * for an instant inside the failing receive, taken; a release must never
 * succeed (EPERM: "still queued is EPERM"), and the message must come out
 * intact at the end.  The receives alternate between MBX_IOC_RECV and a
 * one-entry MBX_IOC_RECV_BATCH whose entry is in the read-only page.
 * MBX_RACE_SECS bounds it (default 15 s, 30 s on a lockdep kernel; 0
 * skips it).
 */
struct race {
	int fd;
	uint64_t off;
	struct mbx_recv *ro;	/* read-only: [0] the argument, [1] the entry */
	struct mbx_batch batch;
	int stop;		/* __atomic */
	uint64_t recvs, efault, other, releases, eperm, released;
	long first_other;
};

static void *race_receiver(void *arg)
{
	struct race *r = arg;
	long ret;

	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		/* The same path twice: MBX_IOC_RECV, a receive batch's entry. */
		if (r->recvs & 1)
			ret = t_ioctl(r->fd, MBX_IOC_RECV_BATCH, &r->batch);
		else
			ret = t_ioctl(r->fd, MBX_IOC_RECV, r->ro);
		r->recvs++;
		if (ret == -EFAULT) {
			r->efault++;
		} else {
			r->other++;
			if (!r->first_other)
				r->first_other = ret ? ret : 1;
		}
	}
	return NULL;
}

TEST_F_TIMEOUT(fuzz, inplace_recv_fault_races_release, 300)
{
	bool debug = access("/proc/lockdep", F_OK) == 0;
	uint64_t secs = env_u64("MBX_RACE_SECS", debug ? 30 : 15);
	struct mbx_port_create pc = {
		.capacity = 4, .max_msg_size = 256, .pool_size = 4 * PG,
		.mode = 0600,
	};
	struct mbx_port_info info;
	struct race r = { 0 };
	struct mbx_recv rv;
	uint64_t t0, end;
	pthread_t th;
	uint8_t *base;
	size_t size;
	long ret;

	if (!secs)
		SKIP(return, "MBX_RACE_SECS=0");
	r.fd = mbx_port_create(MBX_DEV_AUTO, &pc);
	ASSERT_LE(0, r.fd);
	ASSERT_EQ(0, mbx_pool_map(r.fd, (void **)&base, &size));
	ASSERT_EQ(0, mbx_buf_alloc(r.fd, 64, &r.off));
	t_fill(base + r.off, 64, 99);
	ASSERT_EQ(0, mbx_buf_send(r.fd, r.off, 64, 0));

	r.ro = mmap(NULL, PG, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, r.ro);
	memset(r.ro, 0, 2 * sizeof(*r.ro));
	r.ro[0].flags = MBX_RECV_INPLACE | MBX_NONBLOCK;
	r.ro[1].flags = MBX_RECV_INPLACE;	/* an entry: no wait flags */
	ASSERT_EQ(0, mprotect(r.ro, PG, PROT_READ));
	r.batch.msgs = (uintptr_t)&r.ro[1];
	r.batch.count = 1;
	r.batch.flags = MBX_NONBLOCK;

	ASSERT_EQ(0, pthread_create(&th, NULL, race_receiver, &r));
	t0 = t_now_ns();
	end = t0 + secs * 1000000000ULL;
	while (t_now_ns() < end && !__atomic_load_n(&r.stop, __ATOMIC_RELAXED)) {
		ret = t_buf_release(r.fd, r.off, 64);
		r.releases++;
		if (ret == -EPERM) {
			r.eperm++;
		} else if (ret == 0) {
			/* The region is gone while a message still carries it. */
			r.released++;
			__atomic_store_n(&r.stop, 1, __ATOMIC_RELAXED);
		} else {
			__atomic_store_n(&r.stop, 1, __ATOMIC_RELAXED);
			TH_LOG("release: %s", strerror((int)-ret));
		}
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	ksft_print_msg("race: %llu failing in-place receives (%llu EFAULT)\n",
		       (unsigned long long)r.recvs,
		       (unsigned long long)r.efault);
	ksft_print_msg("race: %llu releases (%llu EPERM, %llu succeeded) in %.1f s\n",
		       (unsigned long long)r.releases,
		       (unsigned long long)r.eperm,
		       (unsigned long long)r.released,
		       (t_now_ns() - t0) / 1e9);
	EXPECT_EQ(0, r.other) TH_LOG("receive into a read-only struct: %ld",
				     r.first_other);
	ASSERT_EQ(0, r.released)
		TH_LOG("%s %s", "BUF_RELEASE freed the region of a message being put back",
		       "by a failing receive (expected EPERM)");

	/* The message is still there, intact, and then the pool is free. */
	memset(&rv, 0, sizeof(rv));
	rv.flags = MBX_RECV_INPLACE | MBX_NONBLOCK;
	ASSERT_EQ(0, t_ioctl(r.fd, MBX_IOC_RECV, &rv));
	EXPECT_EQ(MBX_MSG_BUF, rv.msg_flags);
	EXPECT_EQ(r.off, rv.offset);
	EXPECT_EQ(64, rv.len);
	EXPECT_TRUE(t_check(base + rv.offset, 64, 99));
	EXPECT_EQ(0, t_buf_release(r.fd, rv.offset, rv.len));
	ASSERT_EQ(0, t_info(r.fd, &info));
	EXPECT_EQ(info.pool_size, info.pool_free);
	EXPECT_EQ(0, info.queued);
	munmap(r.ro, PG);
	mbx_pool_unmap(base, size);
	close(r.fd);
}

TEST_HARNESS_MAIN
