// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_test: the worker of a round and its threads.  Each thread makes
 * random operations (ioctls.c, files.c) on random entries of the shared
 * fd table, with random pointers, lengths, flags, timeouts, names and
 * pool regions picked here; the worker's main thread interrupts any call
 * blocked too long and records what each thread is doing.  See
 * fuzz_test.c for the whole test.
 */
#define _GNU_SOURCE
#include <ucontext.h>

#include "fuzz.h"

static __thread struct thread *cur;

uint64_t fz_mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

uint64_t fz_rnd(struct thread *t)
{
	t->rng ^= t->rng >> 12;
	t->rng ^= t->rng << 25;
	t->rng ^= t->rng >> 27;
	return t->rng * 0x2545f4914f6cdd1dULL;
}

uint64_t fz_below(struct thread *t, uint64_t n)
{
	return n ? fz_rnd(t) % n : 0;
}

int fz_pct(struct thread *t, unsigned int p)
{
	return fz_below(t, 100) < p;
}

/* A defect, @p percent of the time, never in a well-formed operation. */
int fz_junk(struct thread *t, unsigned int p)
{
	return !t->clean && fz_pct(t, p);
}

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	struct thread *t = cur;

	char msg[160];
	int n;

	if (t && __atomic_load_n(&t->in_touch, __ATOMIC_RELAXED)) {
		__atomic_store_n(&t->in_touch, 0, __ATOMIC_RELAXED);
		siglongjmp(t->jb, 1);
	}
	/* Say where, for the log: a fault outside a touch is a bug. */
	n = snprintf(msg, sizeof(msg),
		     "fuzz worker: signal %d at %p (code %d) ip %#llx (handler %p) in %s\n",
		     sig, si->si_addr, si->si_code,
		     (unsigned long long)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP],
		     (void *)on_fault, t ? t->st->what : "setup");
	if (n > 0 && write(2, msg, (size_t)n) < 0)
		n = 0;
	signal(sig, SIG_DFL);
	raise(sig);
}

static void on_usr1(int sig)
{
}

/* Mark the start and the end of a call that may block. */
void fz_begin(struct thread *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->st->what, sizeof(t->st->what), fmt, ap);
	va_end(ap);
	__atomic_store_n(&t->st->since, t_now_ns(), __ATOMIC_RELEASE);
}

long fz_end(struct thread *t, long ret)
{
	int e = ret < 0 ? (int)-ret : 0;

	__atomic_store_n(&t->st->since, 0, __ATOMIC_RELEASE);
	t->st->calls++;
	if (e >= 0 && e < 160)
		__atomic_add_fetch(&t->w->sh->err[e], 1, __ATOMIC_RELAXED);
	return ret;
}

/* ---- picking fds ------------------------------------------------------ */

int slot_fd(struct thread *t, int s)
{
	return __atomic_load_n(&t->w->fds[s], __ATOMIC_RELAXED);
}

/* A slot, preferably of one of the @mask kinds. */
int pick_slot(struct thread *t, unsigned int mask)
{
	int s, tries;

	if (mask && fz_pct(t, 85))
		for (tries = 0; tries < 12; tries++) {
			s = fz_below(t, NSLOT);
			if (mask & (1U << t->w->kind[s]))
				return s;
		}
	return fz_below(t, NSLOT);
}

/* An fd number: mostly from the table, sometimes one that is not open. */
int pick_fd(struct thread *t, unsigned int mask)
{
	static const int odd[] = { -1, -100, 1023, 4095, 99999, 0x7fffffff };

	if (fz_junk(t, 3))
		return odd[fz_below(t, ARRAY_SIZE(odd))];
	return slot_fd(t, pick_slot(t, mask));
}

/* Put a new fd into a slot, mostly closing the one it replaces. */
void put_fd(struct thread *t, int fd, enum kind k, uint64_t pool)
{
	int s = fz_below(t, NSLOT), old;

	if (fd < 0)
		return;
	if (fd <= 2) {		/* never: we keep 0-2 open */
		return;
	}
	old = __atomic_exchange_n(&t->w->fds[s], fd, __ATOMIC_RELAXED);
	t->w->kind[s] = k;
	t->w->pool_size[s] = pool;
	if (old > 2 && old != fd && fz_pct(t, 85))
		close(old);
}

/* ---- pointers --------------------------------------------------------- */

#define USER_TOP_PAGE	0x00007ffffffff000ULL	/* never mapped on x86-64 */

/* Kernel and otherwise impossible user addresses. */
static const uint64_t bad_addrs[] = {
	0, 0x10, 0x1000, 0xffffffff81000000ULL, 0xffff888000000000ULL,
	0x8000000000000000ULL, 0xffffffffffffffffULL, USER_TOP_PAGE,
	0xfffffffffffff000ULL,
};

/*
 * Where an ioctl argument of @size bytes built in t->tmp goes: mostly a
 * good copy; else misaligned, cut by a PROT_NONE page, read-only, in a
 * PROT_NONE page, or a bad address.
 */
uint64_t place_arg(struct thread *t, size_t size, int *good)
{
	unsigned int c = fz_below(t, 100);
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
		p = t->area + 1 + fz_below(t, 7);
		memcpy(p, t->tmp, size);
		return (uintptr_t)p;
	}
	*good = 0;
	if (c < 86 && size > 1) {
		k = 1 + fz_below(t, size - 1);
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
		return (uintptr_t)t->w->none + fz_below(t, 64);
	return bad_addrs[fz_below(t, ARRAY_SIZE(bad_addrs))];
}

/* A data buffer: mostly somewhere in the sink (a guard page follows it). */
uint64_t data_ptr(struct thread *t)
{
	unsigned int c = t->clean ? 0 : fz_below(t, 100);

	if (c < 85)
		return (uintptr_t)t->w->sink +
		       (fz_pct(t, 50) ? 0 : fz_below(t, SINK_LEN));
	if (c < 90)
		return (uintptr_t)t->ro;
	if (c < 94)
		return (uintptr_t)t->w->none;
	return bad_addrs[fz_below(t, ARRAY_SIZE(bad_addrs))];
}

uint64_t pick_len(struct thread *t)
{
	static const uint64_t odd[] = {
		0, 1, 63, 64, 65, 4095, 4096, 8192, 8193, 65536, 1 << 20,
		(1 << 20) + 1, 64 << 20, (64 << 20) + 1, 1ULL << 31,
		1ULL << 32, 1ULL << 63, ~0ULL, ~0ULL - 63,
	};
	unsigned int c = fz_below(t, t->clean ? 70 : 100);

	if (c < 45)
		return fz_below(t, 256);
	if (c < 70)
		return fz_below(t, 8200);
	if (c < 80)
		return fz_below(t, 70000);
	return odd[fz_below(t, ARRAY_SIZE(odd))];
}

uint64_t pick_timeout(struct thread *t, uint32_t flags)
{
	uint64_t ns = fz_below(t, 3000000);

	if (t->clean)
		return flags & MBX_TIMEOUT ? (flags & MBX_ABSTIME ?
					      t_now_ns() + ns : ns) : 0;
	if (fz_junk(t, 3))
		return fz_rnd(t);
	if (!(flags & MBX_TIMEOUT))
		return fz_pct(t, 5) ? ns : 0;
	if (flags & MBX_ABSTIME)
		return fz_pct(t, 10) ? fz_below(t, 1000) : t_now_ns() + ns;
	return ns;
}

/* Flags from @valid, mostly not blocking for long; now and then junk. */
uint32_t pick_flags(struct thread *t, uint32_t valid)
{
	unsigned int c = t->clean ? 99 : fz_below(t, 100);
	uint32_t f = 0, b;

	if (c < 4)
		return (uint32_t)fz_rnd(t);
	for (b = 1; b; b <<= 1)
		if ((valid & b) && fz_pct(t, 35))
			f |= b;
	if (c < 9)
		f |= 1U << fz_below(t, 32);
	/* A short wait, mostly: the watchdog ends long ones. */
	if ((valid & MBX_NONBLOCK) && !(f & (MBX_NONBLOCK | MBX_TIMEOUT)) &&
	    fz_pct(t, 85))
		f |= fz_pct(t, 50) ? MBX_NONBLOCK : MBX_TIMEOUT;
	return f;
}

void note_region(struct thread *t, int fd, uint64_t off, uint64_t len)
{
	int i = fz_below(t, NREG);

	t->w->reg_off[i] = off;
	t->w->reg_len[i] = len;
	t->w->reg_fd[i] = fd;
}

void pick_region(struct thread *t, __u64 *off, __u64 *len)
{
	int i = fz_below(t, NREG);

	t->reg_fd = -1;
	if ((t->clean || fz_pct(t, 80)) && t->w->reg_len[i]) {
		*off = t->w->reg_off[i];
		*len = t->w->reg_len[i];
		t->reg_fd = t->w->reg_fd[i];
		if (t->clean)
			return;
		if (fz_pct(t, 10))
			*len += fz_below(t, 3) - 1;
		if (fz_junk(t, 5))
			*off += 64;
		return;
	}
	*off = fz_pct(t, 70) ? fz_below(t, 1024) * 64 : fz_rnd(t);
	*len = pick_len(t);
}

void pick_name(struct thread *t, char *name)
{
	unsigned int c = fz_below(t, t->clean ? 85 : 100);

	memset(name, 0, MBX_NAME_LEN);
	if (c < 85) {
		strcpy(name, t->w->names[fz_below(t, NNAME)]);
	} else if (c < 90) {
		/* empty */
	} else if (c < 94) {
		memset(name, 'x', MBX_NAME_LEN);	/* no NUL */
	} else if (c < 97) {
		strcpy(name, "mbxfz/slash");
	} else {
		int i;

		for (i = 0; i < MBX_NAME_LEN - 1; i++)
			name[i] = 1 + fz_below(t, 255);
	}
}

/* Which of this thread's buffers (with its guard page) @v is in, or -1. */
static int own_buffer(struct thread *t, uint64_t v)
{
	const struct {
		const uint8_t *p;
		size_t len;
	} b[] = {
		{ t->w->sink, SINK_LEN + PG }, { t->w->none, PG },
		{ t->area, AREA_LEN + PG }, { t->batch, BATCH_LEN + PG },
		{ t->ro, PG },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(b); i++)
		if (v - (uintptr_t)b[i].p < b[i].len)
			return (int)i;
	return -1;
}

static bool user_addr(uint64_t v)
{
	return v >= 0x10000 && v < 1ULL << 47;
}

/* A pointer the fuzzer made: into its buffers, or its top user page. */
static bool fuzz_pointer(struct thread *t, uint64_t v)
{
	return own_buffer(t, v) >= 0 || v == USER_TOP_PAGE;
}

/*
 * Flip a few random bits of an argument.  A flipped bit may not turn a
 * pointer into one at memory of the process the fuzzer did not give out
 * (another thread's stack, the heap): the kernel would rightly write
 * there.  Such a word is put back; a flip to a kernel, non-canonical or
 * low address, or within the fuzzer's own buffers, stays.
 */
void mangle(struct thread *t, void *p, size_t size)
{
	uint8_t old[AREA_LEN];
	uint64_t was, now;
	int n = 1 + fz_below(t, 3);
	size_t i;

	if (t->clean || !size)
		return;
	if (size > sizeof(old))
		size = sizeof(old);
	memcpy(old, p, size);
	while (n--)
		((uint8_t *)p)[fz_below(t, size)] ^= 1U << fz_below(t, 8);
	for (i = 0; i + sizeof(was) <= size; i += sizeof(was)) {
		memcpy(&was, old + i, sizeof(was));
		memcpy(&now, (uint8_t *)p + i, sizeof(now));
		if (was != now && fuzz_pointer(t, was) && user_addr(now) &&
		    own_buffer(t, now) < 0)
			memcpy((uint8_t *)p + i, &was, sizeof(was));
	}
}

/* Whether mangle() leaves every pointer at the fuzzer's own buffers. */
static bool mangle_keeps_pointers(struct thread *t)
{
	uint64_t words[8];
	int i, k;

	for (i = 0; i < 4096; i++) {
		for (k = 0; k < 8; k++)
			words[k] = (uintptr_t)t->w->sink + 4096 * k;
		mangle(t, words, sizeof(words));
		for (k = 0; k < 8; k++)
			if (user_addr(words[k]) && own_buffer(t, words[k]) < 0)
				return false;
	}
	return true;
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
		c = fz_below(t, 1000);
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

void worker(struct fz_shared *sh, uint64_t calls)
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
	boot.rng = fz_mix64(sh->round_seed ^ 0xb007) | 1;
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
	if (!mangle_keeps_pointers(&boot)) {
		errno = EFAULT;
		setup_fail(sh, "a mangled pointer left the fuzzer's buffers");
	}
	sh->th[0].since = 0;

	for (i = 0; i < n; i++) {
		th[i].w = &w;
		th[i].st = &sh->th[i];
		th[i].idx = i;
		th[i].rng = fz_mix64(sh->round_seed ^ fz_mix64(i + 1)) | 1;
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
