// SPDX-License-Identifier: GPL-2.0
/*
 * mbxbench: mailbox side by side with the usual IPC mechanisms.
 *
 * A "cell" is one scenario, one transport and one message size.  Each cell
 * forks its processes (never threads), pins them with sched_setaffinity(),
 * locks their memory with mlockall(), pre-faults their buffers and runs for
 * a time budget; the measuring processes leave one sample per message (or
 * round trip, or operation) in shared memory.  The parent drops the first
 * 10% of each process's samples and computes p50, p90, p99, p99.9, max,
 * mean and the rate from all the others.
 *
 * Every cell runs once per round; the rounds run in a seeded random order
 * in one boot.  Tables show the median over the rounds of each statistic
 * (max: the largest of the rounds).  Target ratios are taken per round and
 * the median of the per-round ratios is reported.
 *
 * The output goes to stdout between marker lines (see MARK) so that the
 * host can cut the tables and the CSV out of the VM's console log.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/futex.h>
#include <malloc.h>
#include <math.h>
#include <mqueue.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mailbox.h>

#define KiB		1024UL
#define MiB		(1024UL * 1024)
#define NSEC_PER_SEC	1000000000ULL

#define MAX_ROUNDS	15
#define BATCH		32		/* messages per batch (mbx-batch32) */
#define FAN		4		/* producers and consumers of fan-in */
#define STREAM_DEPTH	64		/* messages a streaming channel holds */
#define STREAM_BYTES	(8 * MiB)	/* ... unless that is more bytes */
#define MAX_SAMPLES	262144		/* per cell, all processes together */
#define MIN_SAMPLES	10		/* per process, even past the budget... */
#define HARD_LIMIT_MS	600		/* ...but not past 10 budgets or this */
#define MIN_SAMPLES_BUDGET_MS	20	/* no minimum for shorter budgets */
#define CELL_TIMEOUT	20		/* seconds before a cell is killed */
#define SLOT_ALIGN	64

#define MARK		"@@mbxbench"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* Message sizes of each scenario, 0-terminated. */
static const size_t all_sizes[] = {
	8, 64, 256, 1 * KiB, 4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, 1 * MiB,
	4 * MiB, 0
};

static const size_t rtt1_sizes[] = {
	8, 64, 256, 4 * KiB, 64 * KiB, 1 * MiB, 0
};

static const size_t epoll_sizes[] = { 8, 256, 4 * KiB, 64 * KiB, 1 * MiB, 0 };

static const size_t e2e_sizes[] = {
	1 * KiB, 4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, 1 * MiB, 4 * MiB, 0
};

static const size_t fan_sizes[] = { 64, 4 * KiB, 0 };
static const size_t setup_sizes[] = { 64 * KiB, 1 * MiB, 4 * MiB, 0 };
static const size_t calls_sizes[] = { 64, 1 * MiB, 0 };
static const size_t no_size[] = { 0, 0 };

static size_t align_up(size_t x, size_t a)
{
	return (x + a - 1) / a * a;
}

/* ------------------------------------------------------------------------
 * Options, time, small helpers
 */

static struct {
	unsigned int rounds;
	unsigned int budget_ms;
	uint64_t seed;
	const char *scens;	/* comma-separated scenario names, or NULL */
	const char *peers;	/* comma-separated transport names, or NULL */
	size_t max_size;
	const char *qemu;
	const char *host;
	unsigned int time_limit;	/* seconds for all rounds, 0: none */
	bool verbose;
	bool list;
} opt = {
	.rounds = 5,
	.time_limit = 510,
	.budget_ms = 60,
	.seed = 1,
	.max_size = 4 * MiB,
};

static int mbx_dev = -1;
static unsigned int rounds_asked;

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/* Is @name in the comma-separated @list?  A NULL list holds everything. */
static bool in_list(const char *list, const char *name)
{
	size_t len = strlen(name);
	const char *p = list;

	if (!list)
		return true;
	while (p && *p) {
		if (!strncmp(p, name, len) && (p[len] == ',' || !p[len]))
			return true;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return false;
}

static const char *size_str(size_t size, char *buf, size_t len)
{
	if (!size)
		snprintf(buf, len, "-");
	else if (size >= MiB && !(size % MiB))
		snprintf(buf, len, "%zuM", size / MiB);
	else if (size >= KiB && !(size % KiB))
		snprintf(buf, len, "%zuK", size / KiB);
	else
		snprintf(buf, len, "%zu", size);
	return buf;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median of the finite values in @v[0..n); NAN if there are none. */
static double median(double *v, unsigned int n)
{
	unsigned int i, k = 0;

	for (i = 0; i < n; i++)
		if (isfinite(v[i]))
			v[k++] = v[i];
	if (!k)
		return NAN;
	qsort(v, k, sizeof(*v), cmp_double);
	return k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
}

static uint64_t rng_state;

static uint64_t rng_next(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static int write_file(const char *path, const char *fmt, ...)
{
	va_list ap;
	FILE *f;
	int ret;

	f = fopen(path, "w");
	if (!f)
		return -errno;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	ret = fclose(f) ? -errno : 0;
	return ret;
}

static int read_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	buf[0] = '\0';
	if (!f)
		return -errno;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

/* ------------------------------------------------------------------------
 * Payloads.  End-to-end runs fill every 8-byte word of a message with
 * seq + i; the receiver sums the words and compares with the closed form.
 */

static void fill(void *p, size_t len, uint64_t seq)
{
	uint64_t *w = p;
	size_t i;

	for (i = 0; i < len / 8; i++)
		w[i] = seq + i;
}

static int check(const void *p, size_t len, uint64_t seq)
{
	const uint64_t *w = p;
	uint64_t n = len / 8, sum = 0;
	size_t i;

	for (i = 0; i < n; i++)
		sum += w[i];
	return sum == n * seq + n * (n - 1) / 2 ? 0 : -EBADMSG;
}

/* ------------------------------------------------------------------------
 * Shared memory between the parent and the processes of one cell
 */

struct seg {
	uint32_t n;		/* samples recorded */
	uint32_t cap;
	uint32_t *s;		/* in shared->sample[] */
};

static struct shared {
	atomic_int err;		/* first failure of a child, -errno */
	char what[160];
	unsigned int peers;	/* processes that do not measure */
	atomic_uint ready;	/* ...and have attached to their channel */
	struct seg seg[FAN];
	uint32_t sample[MAX_SAMPLES];
} *shared;

/* The parent's sort buffer. */
static uint32_t *sort_tmp;

/*
 * Memory of the parent that forked processes do not inherit: mlockall()
 * in a child would otherwise copy every page of it.
 */
static void *parent_only(size_t len)
{
	void *p;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (p == MAP_FAILED || madvise(p, len, MADV_DONTFORK)) {
		perror("mbxbench: parent-only memory");
		exit(1);
	}
	return p;
}

/* A child gives up: say why (the first failure wins) and exit. */
static noreturn void child_fail(int err, const char *fmt, ...)
{
	int none = 0;
	va_list ap;

	if (atomic_compare_exchange_strong(&shared->err, &none, err ? err : -EIO)) {
		va_start(ap, fmt);
		vsnprintf(shared->what, sizeof(shared->what), fmt, ap);
		va_end(ap);
	}
	_exit(1);
}

/* One measuring process's samples and its stopping rule. */
struct rec {
	struct seg *seg;
	uint64_t start, soft_end, hard_end;
};

/* The time budget of the measurement running now, ms. */
static unsigned int budget_ms;

/* A peer has attached to its channel: let the measuring processes start. */
static void peer_ready(void)
{
	atomic_fetch_add(&shared->ready, 1);
	syscall(SYS_futex, &shared->ready, FUTEX_WAKE, FAN, NULL, NULL, 0);
}

static void rec_init(struct rec *r, unsigned int idx)
{
	uint64_t budget = budget_ms * 1000000ULL;
	unsigned int ready;

	/* Start the clock only once every peer is up. */
	while ((ready = atomic_load(&shared->ready)) < shared->peers)
		syscall(SYS_futex, &shared->ready, FUTEX_WAIT, ready, NULL, NULL, 0);

	r->seg = &shared->seg[idx];
	r->start = now_ns();
	r->soft_end = r->start + budget;
	r->hard_end = r->start + (budget * 10 > HARD_LIMIT_MS * 1000000ULL ?
				  budget * 10 : HARD_LIMIT_MS * 1000000ULL);
}

/* Record @count samples of @dt ns each; true when the process is done. */
static bool rec_add(struct rec *r, uint64_t dt, unsigned int count,
		    uint64_t now)
{
	struct seg *s = r->seg;
	uint32_t v = dt / count > UINT32_MAX ? UINT32_MAX : dt / count;

	while (count-- && s->n < s->cap)
		s->s[s->n++] = v;
	if (s->n >= s->cap || now >= r->hard_end)
		return true;
	return now >= r->soft_end &&
	       (s->n >= MIN_SAMPLES || budget_ms < MIN_SAMPLES_BUDGET_MS);
}

/* ------------------------------------------------------------------------
 * Channels and transports
 *
 * A channel carries messages one way.  The parent opens it before the fork
 * (the processes inherit its fds and shared mappings), each process then
 * attaches to its side, and the parent closes it when the cell is over.
 * tx() sends one message (a batch for mbx-batch32) and rx() receives at
 * least one; both return how many messages went through or -errno, with
 * -EAGAIN on a non-blocking channel that would block (call again later; a
 * partial transfer is remembered).
 */

enum { RX, TX };

struct transport;

struct chan {
	const struct transport *t;
	size_t size;		/* message size */
	unsigned int depth;	/* messages the channel must hold */
	bool nonblock;		/* non-blocking fds (epoll round trips) */
	bool e2e;		/* fill and check every byte */
	bool acked;		/* shm rings: the reply frees the slot */
	int fd[2];		/* receive and send side; may be the same fd */
	int efd[2];		/* eventfd rings: DATA and SPACE */
	char *shm;		/* shm rings: header and slots */
	size_t shm_len;
	size_t slot;		/* shm rings: bytes per slot */

	/* Per process, set up by attach() after the fork. */
	char *buf;		/* private message buffer(s) */
	size_t buf_len;
	char *pool;		/* mailbox pool mapping */
	size_t pool_len;
	uint64_t credits, avail, head, tail;
	size_t off;		/* partial non-blocking transfer */
	uint64_t pending;	/* zero copy: region allocated, not yet sent */
	struct mbx_send *smsg;	/* batches */
	struct mbx_recv *rmsg;
};

/* Scenarios, as bits of struct transport.scens. */
enum {
	SC_RTT2, SC_RTT1, SC_EPOLL, SC_STREAM, SC_E2E, SC_FANIN, SC_FANMN,
	SC_SETUP, SC_CALLS, NR_SC
};

#define B(sc)	(1U << (sc))
#define SC_RTTS	(B(SC_RTT2) | B(SC_RTT1))
#define SC_ALL	(SC_RTTS | B(SC_EPOLL) | B(SC_STREAM) | B(SC_E2E) | \
		 B(SC_FANIN) | B(SC_FANMN))

struct transport {
	const char *name;
	const char *what;
	unsigned int scens;
	size_t max_size;	/* 0: any */
	int (*open)(struct chan *c);
	void (*close)(struct chan *c);
	int (*attach)(struct chan *c, int side);
	int (*tx)(struct chan *c, uint64_t seq);
	int (*rx)(struct chan *c, uint64_t seq);
	/* Round trips in one call (request/reply); optional. */
	int (*call)(struct chan *req, struct chan *rep, uint64_t seq);
	int (*serve)(struct chan *req, struct chan *rep);
};

/* Private, pre-faulted memory (mlockall(MCL_FUTURE) also locks it). */
static char *alloc_buf(size_t len)
{
	char *p;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (p == MAP_FAILED)
		child_fail(-errno, "mmap %zu bytes", len);
	memset(p, 0x5a, len);
	return p;
}

/* Bytes a channel must buffer: depth messages. */
static size_t chan_bytes(const struct chan *c)
{
	return c->depth * c->size;
}

static size_t roundup_pow2(size_t x)
{
	size_t p = 1;

	while (p < x)
		p <<= 1;
	return p;
}

static int attach_buf(struct chan *c, int side)
{
	c->buf_len = c->size ? c->size : 8;
	c->buf = alloc_buf(c->buf_len);
	return 0;
}

static void close_fds(struct chan *c)
{
	close(c->fd[RX]);
	if (c->fd[TX] != c->fd[RX])
		close(c->fd[TX]);
}

/* --- pipes and sockets: read()/write(), whole messages ------------------- */

static int fd_tx(struct chan *c, uint64_t seq)
{
	ssize_t n;

	if (c->e2e && !c->off)
		fill(c->buf, c->size, seq);
	while (c->off < c->size) {
		n = write(c->fd[TX], c->buf + c->off, c->size - c->off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		c->off += n;
	}
	c->off = 0;
	return 1;
}

static int fd_rx(struct chan *c, uint64_t seq)
{
	ssize_t n;

	while (c->off < c->size) {
		n = read(c->fd[RX], c->buf + c->off, c->size - c->off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (!n)
			return -EPIPE;
		c->off += n;
	}
	c->off = 0;
	if (c->e2e && check(c->buf, c->size, seq))
		return -EBADMSG;
	return 1;
}

/*
 * Pipes get a buffer of at least a round trip's or a stream's worth of
 * messages (root may exceed /proc/sys/fs/pipe-max-size).
 */
static int pipe_open(struct chan *c)
{
	int fds[2];
	size_t want = roundup_pow2(chan_bytes(c));

	if (pipe2(fds, O_CLOEXEC | (c->nonblock ? O_NONBLOCK : 0)))
		return -errno;
	if (want > 64 * KiB && fcntl(fds[1], F_SETPIPE_SZ, (int)want) < 0) {
		int err = -errno;

		close(fds[0]);
		close(fds[1]);
		return err;
	}
	c->fd[RX] = fds[0];
	c->fd[TX] = fds[1];
	return 0;
}

static int sock_open(struct chan *c, int type)
{
	int sv[2], bytes = (int)(chan_bytes(c) + 256 * KiB);

	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC |
		       (c->nonblock ? SOCK_NONBLOCK : 0), 0, sv))
		return -errno;
	/* Room for every message in flight; the kernel doubles the value. */
	if (setsockopt(sv[1], SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof(bytes)) ||
	    setsockopt(sv[0], SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes))) {
		int err = -errno;

		close(sv[0]);
		close(sv[1]);
		return err;
	}
	c->fd[RX] = sv[0];
	c->fd[TX] = sv[1];
	return 0;
}

static int stream_open(struct chan *c)
{
	return sock_open(c, SOCK_STREAM);
}

static int seqpacket_open(struct chan *c)
{
	return sock_open(c, SOCK_SEQPACKET);
}

/* --- POSIX message queues ------------------------------------------------ */

static int mq_open_chan(struct chan *c)
{
	static unsigned int seq;
	struct mq_attr attr = {
		.mq_maxmsg = c->depth,
		.mq_msgsize = c->size ? c->size : 8,
	};
	char name[64];
	mqd_t q;

	snprintf(name, sizeof(name), "/mbxbench.%d.%u", getpid(), seq++);
	q = mq_open(name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC |
		    (c->nonblock ? O_NONBLOCK : 0), 0600, &attr);
	if (q < 0)
		return -errno;
	mq_unlink(name);
	c->fd[RX] = q;
	c->fd[TX] = q;
	return 0;
}

static int mq_tx(struct chan *c, uint64_t seq)
{
	if (c->e2e)
		fill(c->buf, c->size, seq);
	while (mq_send(c->fd[TX], c->buf, c->size, 0))
		if (errno != EINTR)
			return -errno;
	return 1;
}

static int mq_rx(struct chan *c, uint64_t seq)
{
	ssize_t n;

	do
		n = mq_receive(c->fd[RX], c->buf, c->buf_len, NULL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (c->e2e && check(c->buf, c->size, seq))
		return -EBADMSG;
	return 1;
}

/* --- shared-memory rings with eventfd or futex notification --------------
 *
 * A ring of depth slots in a shared mapping.  The producer takes a SPACE
 * credit, writes a slot and posts DATA; the consumer takes a DATA credit,
 * reads the slot and posts SPACE.  On a round trip (acked) the reply says
 * the slot is free again, so only DATA is posted.  The eventfd flavour
 * posts by write() and waits by read() (which takes every pending credit at
 * once); the futex flavour is a counting semaphore that only makes a system
 * call to sleep or to wake a sleeper.  "2copy" copies the payload in and
 * out of the ring; "0copy" leaves it in place (filled and checked there
 * end to end): the notification floor.
 */

enum { DATA, SPACE };

struct fsem {
	atomic_uint val;
	atomic_uint waiters;
	char pad[56];
};

struct ring_hdr {
	struct fsem sem[2];
};

#define RING_HDR	4096

static void fsem_post(struct fsem *s)
{
	atomic_fetch_add(&s->val, 1);
	if (atomic_load(&s->waiters))
		syscall(SYS_futex, &s->val, FUTEX_WAKE, 1, NULL, NULL, 0);
}

static void fsem_wait(struct fsem *s)
{
	uint32_t v;

	for (;;) {
		v = atomic_load(&s->val);
		while (v)
			if (atomic_compare_exchange_weak(&s->val, &v, v - 1))
				return;
		atomic_fetch_add(&s->waiters, 1);
		syscall(SYS_futex, &s->val, FUTEX_WAIT, 0, NULL, NULL, 0);
		atomic_fetch_sub(&s->waiters, 1);
	}
}

static bool ring_futex(const struct chan *c);
static bool ring_zerocopy(const struct chan *c);

static int ring_open(struct chan *c)
{
	struct ring_hdr *h;
	int i;

	c->slot = align_up(c->size ? c->size : 8, SLOT_ALIGN);
	c->shm_len = RING_HDR + c->depth * c->slot;
	c->shm = mmap(NULL, c->shm_len, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (c->shm == MAP_FAILED)
		return -errno;
	h = (struct ring_hdr *)c->shm;
	atomic_store(&h->sem[SPACE].val, c->depth);
	c->efd[DATA] = -1;
	c->efd[SPACE] = -1;
	c->fd[RX] = -1;
	c->fd[TX] = -1;
	if (ring_futex(c))
		return 0;
	for (i = 0; i < 2; i++) {
		c->efd[i] = eventfd(0, EFD_CLOEXEC |
				    (c->nonblock ? EFD_NONBLOCK : 0));
		if (c->efd[i] < 0) {
			int err = -errno;

			if (i)
				close(c->efd[0]);
			munmap(c->shm, c->shm_len);
			return err;
		}
	}
	c->fd[RX] = c->efd[DATA];	/* what an epoll loop waits on */
	c->fd[TX] = c->efd[SPACE];
	return 0;
}

static void ring_close(struct chan *c)
{
	if (c->efd[DATA] >= 0) {
		close(c->efd[DATA]);
		close(c->efd[SPACE]);
	}
	munmap(c->shm, c->shm_len);
}

static int ring_attach(struct chan *c, int side)
{
	if (!ring_zerocopy(c))
		attach_buf(c, side);
	/* Pre-fault the slots in this process. */
	if (side == TX)
		memset(c->shm + RING_HDR, 0, c->shm_len - RING_HDR);
	else
		check(c->shm + RING_HDR, c->shm_len - RING_HDR, 0);
	c->credits = ring_futex(c) ? 0 : c->depth;
	c->avail = 0;
	c->head = 0;
	c->tail = 0;
	return 0;
}

/* Take one credit of @which (DATA for the consumer, SPACE for the producer). */
static int ring_wait(struct chan *c, int which)
{
	uint64_t *credits = which == DATA ? &c->avail : &c->credits;
	uint64_t v;

	if (*credits) {
		(*credits)--;
		return 0;
	}
	if (ring_futex(c)) {
		fsem_wait(&((struct ring_hdr *)c->shm)->sem[which]);
		return 0;
	}
	while (read(c->efd[which], &v, sizeof(v)) < 0)
		if (errno != EINTR)
			return -errno;
	*credits = v - 1;
	return 0;
}

static int ring_post(struct chan *c, int which)
{
	uint64_t one = 1;

	if (ring_futex(c)) {
		fsem_post(&((struct ring_hdr *)c->shm)->sem[which]);
		return 0;
	}
	while (write(c->efd[which], &one, sizeof(one)) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

static char *ring_slot(struct chan *c, uint64_t i)
{
	return c->shm + RING_HDR + (i % c->depth) * c->slot;
}

static int ring_tx(struct chan *c, uint64_t seq)
{
	char *slot;
	int err;

	if (!c->acked) {
		err = ring_wait(c, SPACE);
		if (err)
			return err;
	}
	slot = ring_slot(c, c->tail++);
	if (ring_zerocopy(c)) {
		if (c->e2e)
			fill(slot, c->size, seq);
	} else {
		if (c->e2e)
			fill(c->buf, c->size, seq);
		memcpy(slot, c->buf, c->size);
	}
	err = ring_post(c, DATA);
	return err ? err : 1;
}

static int ring_rx(struct chan *c, uint64_t seq)
{
	char *slot;
	int err;

	err = ring_wait(c, DATA);
	if (err)
		return err;
	slot = ring_slot(c, c->head++);
	if (!ring_zerocopy(c)) {
		memcpy(c->buf, slot, c->size);
		slot = c->buf;
	}
	if (c->e2e && check(slot, c->size, seq))
		return -EBADMSG;
	if (!c->acked) {
		err = ring_post(c, SPACE);
		if (err)
			return err;
	}
	return 1;
}

/* --- mailbox --------------------------------------------------------------- */

static int mbx_open_port(struct chan *c, uint32_t max_msg, uint64_t pool)
{
	struct mbx_port_create attr = {
		.flags = MBX_CLOEXEC | (c->nonblock ? MBX_NONBLOCK : 0),
		.capacity = c->depth,
		.max_msg_size = max_msg,
		.pool_size = pool,
	};
	int fd;

	fd = mbx_port_create(mbx_dev, &attr);
	if (fd < 0)
		return fd;
	c->fd[RX] = fd;
	c->fd[TX] = fd;
	return 0;
}

static int mbx_copy_open(struct chan *c)
{
	return mbx_open_port(c, c->size ? c->size : 8, 0);
}

static int mbx_copy_tx(struct chan *c, uint64_t seq)
{
	int ret;

	if (c->e2e)
		fill(c->buf, c->size, seq);
	ret = mbx_send(c->fd[TX], c->buf, c->size, 0);
	return ret < 0 ? ret : 1;
}

static int mbx_copy_rx(struct chan *c, uint64_t seq)
{
	ssize_t n = mbx_recv(c->fd[RX], c->buf, c->buf_len, NULL);

	if (n < 0)
		return n;
	if (c->e2e && check(c->buf, c->size, seq))
		return -EBADMSG;
	return 1;
}

/* Zero copy: the pool holds depth messages; copy-mode messages are tiny. */
static int mbx_zc_open(struct chan *c)
{
	size_t pool = c->depth * align_up(c->size ? c->size : 8, SLOT_ALIGN);

	return mbx_open_port(c, 64, align_up(pool, 4096));
}

static void mbx_close(struct chan *c)
{
	close(c->fd[RX]);
}

static int mbx_zc_attach(struct chan *c, int side)
{
	void *base;
	int ret;

	ret = mbx_pool_map(c->fd[side], &base, &c->pool_len);
	if (ret < 0)
		child_fail(ret, "mbx_pool_map");
	c->pool = base;
	/* Pre-fault the pool in this process. */
	if (side == TX)
		memset(c->pool, 0, c->pool_len);
	else
		check(c->pool, c->pool_len & ~7UL, 0);
	c->pending = MBX_NO_OFFSET;
	return 0;
}

static int mbx_zc_tx(struct chan *c, uint64_t seq)
{
	uint64_t off = c->pending;
	int ret;

	if (off == MBX_NO_OFFSET) {
		ret = mbx_buf_alloc(c->fd[TX], c->size, &off);
		if (ret < 0)
			return ret;
		if (c->e2e)
			fill(mbx_buf_ptr(c->pool, off), c->size, seq);
	}
	ret = mbx_buf_send(c->fd[TX], off, c->size, 0);
	c->pending = ret == -EAGAIN ? off : MBX_NO_OFFSET;
	if (ret < 0 && ret != -EAGAIN)
		mbx_buf_release(c->fd[TX], off, c->size);
	return ret < 0 ? ret : 1;
}

static int mbx_zc_rx(struct chan *c, uint64_t seq)
{
	uint64_t off;
	ssize_t n;
	int ret;

	n = mbx_recv_inplace(c->fd[RX], &off, NULL);
	if (n < 0)
		return n;
	if (off == MBX_NO_OFFSET)
		return -EPROTO;
	if (c->e2e && check(mbx_buf_ptr(c->pool, off), n, seq))
		return -EBADMSG;
	ret = mbx_buf_release(c->fd[RX], off, n);
	return ret < 0 ? ret : 1;
}

/* Request/reply: the client calls, the server replies and waits in one go. */
static int mbx_call_rtt(struct chan *req, struct chan *rep, uint64_t seq)
{
	ssize_t n;

	n = mbx_call(req->fd[TX], req->buf, req->size, rep->fd[RX], rep->buf,
		     rep->buf_len, NULL);
	return n < 0 ? n : 1;
}

static int mbx_call_serve(struct chan *req, struct chan *rep)
{
	ssize_t n;

	n = mbx_recv(req->fd[RX], req->buf, req->buf_len, NULL);
	while (n >= 0)
		n = mbx_reply_recv(rep->fd[TX], rep->buf, rep->size,
				   req->fd[RX], req->buf, req->buf_len, NULL);
	return n;
}

/*
 * Zero-copy request/reply: each side allocates its message in its sending
 * port's pool, sends it and waits for the other side's message in place in
 * one mbx_call, then releases what it received.
 */
static int mbx_zc_call(struct chan *out, struct chan *in, uint64_t *off,
		       uint64_t *len)
{
	struct mbx_call args = {
		.send = { .len = out->size, .flags = MBX_SEND_BUF },
		.recv = { .flags = MBX_RECV_INPLACE },
		.recv_fd = in->fd[RX],
	};
	uint64_t buf;
	int ret;

	ret = mbx_buf_alloc(out->fd[TX], out->size, &buf);
	if (ret < 0)
		return ret;
	args.send.offset = buf;
	ret = mbx_call_ex(out->fd[TX], &args);
	if (ret < 0)
		return ret;
	if (!(args.recv.msg_flags & MBX_MSG_BUF))
		return -EPROTO;
	*off = args.recv.offset;
	*len = args.recv.len;
	return 0;
}

static int mbx_zc_call_rtt(struct chan *req, struct chan *rep, uint64_t seq)
{
	uint64_t off, len;
	int ret;

	ret = mbx_zc_call(req, rep, &off, &len);
	if (!ret)
		ret = mbx_buf_release(rep->fd[RX], off, len);
	return ret < 0 ? ret : 1;
}

static int mbx_zc_call_serve(struct chan *req, struct chan *rep)
{
	uint64_t off, len;
	ssize_t n;
	int ret;

	n = mbx_recv_inplace(req->fd[RX], &off, NULL);
	if (n < 0)
		return n;
	len = n;
	for (;;) {
		ret = mbx_buf_release(req->fd[RX], off, len);
		if (!ret)
			ret = mbx_zc_call(rep, req, &off, &len);
		if (ret < 0)
			return ret;
	}
}

/* Batches: BATCH messages per call each way (fewer may arrive). */
static int mbx_batch_open(struct chan *c)
{
	if (c->depth < 2 * BATCH)
		c->depth = 2 * BATCH;
	return mbx_copy_open(c);
}

static int mbx_batch_attach(struct chan *c, int side)
{
	unsigned int i;

	c->buf_len = c->size;
	c->buf = alloc_buf(BATCH * c->size);
	c->smsg = calloc(BATCH, sizeof(*c->smsg));
	c->rmsg = calloc(BATCH, sizeof(*c->rmsg));
	if (!c->smsg || !c->rmsg)
		child_fail(-ENOMEM, "calloc");
	for (i = 0; i < BATCH; i++) {
		c->smsg[i].buf = (uintptr_t)(c->buf + i * c->size);
		c->smsg[i].len = c->size;
	}
	return 0;
}

static int mbx_batch_tx(struct chan *c, uint64_t seq)
{
	unsigned int i, done = 0;
	int n;

	if (c->e2e)
		for (i = 0; i < BATCH; i++)
			fill(c->buf + i * c->size, c->size, seq + i);
	while (done < BATCH) {
		n = mbx_send_batch(c->fd[TX], c->smsg + done, BATCH - done, 0);
		if (n < 0)
			return n;
		done += n;
	}
	return BATCH;
}

static int mbx_batch_rx(struct chan *c, uint64_t seq)
{
	int i, n;

	for (i = 0; i < BATCH; i++) {
		memset(&c->rmsg[i], 0, sizeof(c->rmsg[i]));
		c->rmsg[i].buf = (uintptr_t)(c->buf + i * c->size);
		c->rmsg[i].len = c->size;
	}
	n = mbx_recv_batch(c->fd[RX], c->rmsg, BATCH, 0);
	if (n < 0)
		return n;
	if (c->e2e)
		for (i = 0; i < n; i++)
			if (check(c->buf + i * c->size, c->size, seq + i))
				return -EBADMSG;
	return n;
}

/* --- the transport table -------------------------------------------------- */

enum {
	T_PIPE, T_STREAM, T_SEQPACKET, T_MQ, T_EFD2, T_EFD0, T_FUTEX2,
	T_MBX_COPY, T_MBX_ZC, T_MBX_CALL, T_MBX_ZC_CALL, T_MBX_BATCH,
	NR_TRANSPORTS
};

static const struct transport transports[NR_TRANSPORTS] = {
	[T_PIPE] = {
		"pipe", "pipe(2), read/write; buffer sized to what is in flight",
		SC_ALL, 0, pipe_open, close_fds, attach_buf, fd_tx, fd_rx,
	},
	[T_STREAM] = {
		"unix-stream", "AF_UNIX SOCK_STREAM socketpair, read/write",
		SC_RTTS | B(SC_EPOLL) | B(SC_STREAM) | B(SC_E2E), 0,
		stream_open, close_fds, attach_buf, fd_tx, fd_rx,
	},
	[T_SEQPACKET] = {
		"unix-seqpacket", "AF_UNIX SOCK_SEQPACKET socketpair, read/write",
		SC_RTTS | B(SC_EPOLL) | B(SC_STREAM) | B(SC_E2E), 0,
		seqpacket_open, close_fds, attach_buf, fd_tx, fd_rx,
	},
	[T_MQ] = {
		"posix-mq", "POSIX message queue, mq_send/mq_receive",
		SC_ALL, 0, mq_open_chan, close_fds, attach_buf, mq_tx, mq_rx,
	},
	[T_EFD2] = {
		"efd-shm-2copy", "shared-memory ring + eventfd, copy in and out",
		SC_RTTS | B(SC_EPOLL) | B(SC_STREAM) | B(SC_E2E), 0,
		ring_open, ring_close, ring_attach, ring_tx, ring_rx,
	},
	[T_EFD0] = {
		"efd-shm-0copy", "shared-memory ring + eventfd, payload in place (floor)",
		SC_RTTS | B(SC_EPOLL) | B(SC_STREAM) | B(SC_E2E), 0,
		ring_open, ring_close, ring_attach, ring_tx, ring_rx,
	},
	[T_FUTEX2] = {
		"futex-shm-2copy", "shared-memory ring + futex semaphores, copy in and out",
		SC_RTTS | B(SC_STREAM) | B(SC_E2E), 0,
		ring_open, ring_close, ring_attach, ring_tx, ring_rx,
	},
	[T_MBX_COPY] = {
		"mbx-copy", "mailbox copy mode, mbx_send/mbx_recv",
		SC_ALL, 0, mbx_copy_open, mbx_close, attach_buf,
		mbx_copy_tx, mbx_copy_rx,
	},
	[T_MBX_ZC] = {
		"mbx-0copy", "mailbox zero copy: buf_alloc, buf_send, recv_inplace, buf_release",
		SC_ALL, 0, mbx_zc_open, mbx_close, mbx_zc_attach,
		mbx_zc_tx, mbx_zc_rx,
	},
	[T_MBX_CALL] = {
		"mbx-call", "mailbox request/reply: mbx_call / mbx_reply_recv, two ports",
		SC_RTTS, 0, mbx_copy_open, mbx_close, attach_buf,
		mbx_copy_tx, mbx_copy_rx, mbx_call_rtt, mbx_call_serve,
	},
	[T_MBX_ZC_CALL] = {
		"mbx-0copy-call",
		"mailbox zero copy in mbx_call (send buf, recv in place) + buf_alloc, buf_release",
		SC_RTTS, 0, mbx_zc_open, mbx_close, mbx_zc_attach,
		mbx_zc_tx, mbx_zc_rx, mbx_zc_call_rtt, mbx_zc_call_serve,
	},
	[T_MBX_BATCH] = {
		"mbx-batch32", "mailbox copy mode, mbx_send_batch/mbx_recv_batch of 32",
		B(SC_STREAM) | B(SC_E2E) | B(SC_FANIN) | B(SC_FANMN), 64 * KiB,
		mbx_batch_open, mbx_close, mbx_batch_attach,
		mbx_batch_tx, mbx_batch_rx,
	},
};

static bool ring_futex(const struct chan *c)
{
	return c->t == &transports[T_FUTEX2];
}

static bool ring_zerocopy(const struct chan *c)
{
	return c->t == &transports[T_EFD0];
}

/* ------------------------------------------------------------------------
 * Setup costs: one process repeats one create-and-destroy operation.
 */

struct setup_ctx {
	size_t size;
	int fd;			/* a port or memfd made by prep() */
	int fd2;
	char *buf;
	struct mbx_send *smsg;
	struct mbx_recv *rmsg;
};

static int su_pipe(struct setup_ctx *x)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	close(p[0]);
	close(p[1]);
	return 0;
}

static int su_socketpair(int type)
{
	int sv[2];

	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv))
		return -errno;
	close(sv[0]);
	close(sv[1]);
	return 0;
}

static int su_stream(struct setup_ctx *x)
{
	return su_socketpair(SOCK_STREAM);
}

static int su_seqpacket(struct setup_ctx *x)
{
	return su_socketpair(SOCK_SEQPACKET);
}

static int su_mq(struct setup_ctx *x)
{
	struct mq_attr attr = { .mq_maxmsg = 10, .mq_msgsize = 8192 };
	char name[64];
	mqd_t q;

	snprintf(name, sizeof(name), "/mbxbench.setup.%d", getpid());
	q = mq_open(name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600, &attr);
	if (q < 0)
		return -errno;
	mq_unlink(name);
	close(q);
	return 0;
}

static int su_eventfd(struct setup_ctx *x)
{
	int fd = eventfd(0, EFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static int su_port(struct setup_ctx *x)
{
	struct mbx_port_create attr = {
		.flags = MBX_CLOEXEC,
		.capacity = 64,
		.max_msg_size = 8192,
		.pool_size = x->size,
	};
	int fd = mbx_port_create(mbx_dev, &attr);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

static int su_memfd(struct setup_ctx *x)
{
	int fd = memfd_create("mbxbench", MFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, x->size)) {
		close(fd);
		return -errno;
	}
	x->fd = fd;
	return 0;
}

static int su_pool_prep(struct setup_ctx *x)
{
	struct mbx_port_create attr = {
		.flags = MBX_CLOEXEC,
		.capacity = 64,
		.max_msg_size = 8192,
		.pool_size = x->size,
	};

	x->fd = mbx_port_create(mbx_dev, &attr);
	return x->fd < 0 ? x->fd : 0;
}

/* Read every page; the sum goes to a global so that the reads stay. */
static unsigned long touch_sink;

static void touch(const char *p, size_t len)
{
	unsigned long sum = 0;
	size_t i;

	for (i = 0; i < len; i += 4096)
		sum += p[i];
	touch_sink += sum;
}

static int su_map(struct setup_ctx *x, bool pool, bool do_touch)
{
	size_t len = x->size;
	void *p;
	int ret;

	if (pool) {
		ret = mbx_pool_map(x->fd, &p, &len);
		if (ret < 0)
			return ret;
	} else {
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, x->fd, 0);
		if (p == MAP_FAILED)
			return -errno;
	}
	if (do_touch)
		touch(p, len);
	munmap(p, len);
	return 0;
}

static int su_pool_map(struct setup_ctx *x)
{
	return su_map(x, true, false);
}

static int su_pool_map_touch(struct setup_ctx *x)
{
	return su_map(x, true, true);
}

static int su_shm_map(struct setup_ctx *x)
{
	return su_map(x, false, false);
}

static int su_shm_map_touch(struct setup_ctx *x)
{
	return su_map(x, false, true);
}

static int su_shm_create(struct setup_ctx *x)
{
	int ret = su_memfd(x);

	if (ret)
		return ret;
	ret = su_map(x, false, false);
	close(x->fd);
	return ret;
}

/* Per-call costs: one process, nothing ever waits or wakes anyone. */

static int pc_syscall(struct setup_ctx *x)
{
	syscall(SYS_getppid);
	return 0;
}

/* Room for a batch of small messages, or for one big one. */
static int pc_buf_prep(struct setup_ctx *x)
{
	x->buf = alloc_buf(x->size * (x->size <= 64 * KiB ? BATCH : 1));
	return 0;
}

static int pc_eventfd_prep(struct setup_ctx *x)
{
	x->fd = eventfd(0, EFD_CLOEXEC);
	return x->fd < 0 ? -errno : 0;
}

static int pc_eventfd(struct setup_ctx *x)
{
	uint64_t v = 1;

	if (write(x->fd, &v, sizeof(v)) != sizeof(v) ||
	    read(x->fd, &v, sizeof(v)) != sizeof(v))
		return -errno;
	return 0;
}

static int pc_pipe_prep(struct setup_ctx *x)
{
	int p[2];

	pc_buf_prep(x);
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	x->fd = p[0];
	x->fd2 = p[1];
	if (x->size > 64 * KiB && fcntl(p[1], F_SETPIPE_SZ, (int)x->size) < 0)
		return -errno;
	return 0;
}

static int pc_pipe(struct setup_ctx *x)
{
	if (write(x->fd2, x->buf, x->size) != (ssize_t)x->size ||
	    read(x->fd, x->buf, x->size) != (ssize_t)x->size)
		return -errno;
	return 0;
}

static int pc_mq_prep(struct setup_ctx *x)
{
	struct mq_attr attr = { .mq_maxmsg = 1, .mq_msgsize = x->size };
	char name[64];

	pc_buf_prep(x);
	snprintf(name, sizeof(name), "/mbxbench.calls.%d", getpid());
	x->fd = mq_open(name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600, &attr);
	if (x->fd < 0)
		return -errno;
	mq_unlink(name);
	return 0;
}

static int pc_mq(struct setup_ctx *x)
{
	if (mq_send(x->fd, x->buf, x->size, 0) ||
	    mq_receive(x->fd, x->buf, x->size, NULL) != (ssize_t)x->size)
		return -errno;
	return 0;
}

static int pc_port_prep(struct setup_ctx *x)
{
	struct mbx_port_create attr = {
		.flags = MBX_CLOEXEC,
		.capacity = BATCH,
		.max_msg_size = x->size,
		.pool_size = align_up(2 * x->size, 64 * KiB),
	};
	unsigned int i;
	void *base;
	size_t len;
	int ret;

	pc_buf_prep(x);
	x->fd = mbx_port_create(mbx_dev, &attr);
	if (x->fd < 0)
		return x->fd;
	ret = mbx_pool_map(x->fd, &base, &len);
	if (ret < 0)
		return ret;
	x->smsg = calloc(BATCH, sizeof(*x->smsg));
	x->rmsg = calloc(BATCH, sizeof(*x->rmsg));
	if (!x->smsg || !x->rmsg)
		return -ENOMEM;
	for (i = 0; i < BATCH; i++) {
		x->smsg[i].buf = (uintptr_t)(x->buf + i * x->size);
		x->smsg[i].len = x->size;
	}
	return 0;
}

static int pc_mbx_copy(struct setup_ctx *x)
{
	int ret = mbx_send(x->fd, x->buf, x->size, 0);

	return ret < 0 ? ret : mbx_recv(x->fd, x->buf, x->size, NULL) < 0 ? -EIO : 0;
}

static int pc_mbx_rw(struct setup_ctx *x)
{
	if (write(x->fd, x->buf, x->size) != (ssize_t)x->size ||
	    read(x->fd, x->buf, x->size) != (ssize_t)x->size)
		return -errno;
	return 0;
}

static int pc_mbx_call(struct setup_ctx *x)
{
	ssize_t n = mbx_call(x->fd, x->buf, x->size, -1, x->buf, x->size, NULL);

	return n < 0 ? n : 0;
}

static int pc_mbx_alloc(struct setup_ctx *x)
{
	uint64_t off;
	int ret = mbx_buf_alloc(x->fd, x->size, &off);

	return ret < 0 ? ret : mbx_buf_release(x->fd, off, x->size);
}

static int pc_mbx_zc(struct setup_ctx *x)
{
	uint64_t off;
	ssize_t n;
	int ret;

	ret = mbx_buf_alloc(x->fd, x->size, &off);
	if (!ret)
		ret = mbx_buf_send(x->fd, off, x->size, 0);
	if (ret < 0)
		return ret;
	n = mbx_recv_inplace(x->fd, &off, NULL);
	if (n < 0)
		return n;
	return mbx_buf_release(x->fd, off, n);
}

/* One batch of 32 each way; the table shows the cost per message. */
static int pc_mbx_batch(struct setup_ctx *x)
{
	unsigned int i;
	int n;

	n = mbx_send_batch(x->fd, x->smsg, BATCH, 0);
	if (n != BATCH)
		return n < 0 ? n : -EIO;
	for (i = 0; i < BATCH; i++) {
		memset(&x->rmsg[i], 0, sizeof(x->rmsg[i]));
		x->rmsg[i].buf = (uintptr_t)(x->buf + i * x->size);
		x->rmsg[i].len = x->size;
	}
	n = mbx_recv_batch(x->fd, x->rmsg, BATCH, 0);
	return n == BATCH ? 0 : n < 0 ? n : -EIO;
}

struct setup_op {
	const char *name;
	const char *what;
	unsigned int sc;	/* SC_SETUP or SC_CALLS */
	bool sized;
	int (*prep)(struct setup_ctx *x);
	int (*run)(struct setup_ctx *x);
	unsigned int per;	/* messages per operation */
	size_t max_size;	/* 0: any */
};

static const struct setup_op setup_ops[] = {
	{ "pipe", "pipe2 + 2 close", SC_SETUP, false, NULL, su_pipe, 1, 0 },
	{ "unix-stream", "socketpair + 2 close", SC_SETUP, false, NULL, su_stream, 1, 0 },
	{ "unix-seqpacket", "socketpair + 2 close", SC_SETUP, false, NULL,
	  su_seqpacket, 1, 0 },
	{ "posix-mq", "mq_open(O_CREAT) + mq_unlink + close", SC_SETUP, false,
	  NULL, su_mq, 1, 0 },
	{ "eventfd", "eventfd + close", SC_SETUP, false, NULL, su_eventfd, 1, 0 },
	{ "mbx-port", "port create + close, no pool", SC_SETUP, false, NULL,
	  su_port, 1, 0 },
	{ "mbx-port+pool", "port create with a pool + close", SC_SETUP, true,
	  NULL, su_port, 1, 0 },
	{ "shm-create", "memfd_create + ftruncate + mmap + munmap + close",
	  SC_SETUP, true, NULL, su_shm_create, 1, 0 },
	{ "mbx-pool-map", "mbx_pool_map + munmap", SC_SETUP, true, su_pool_prep,
	  su_pool_map, 1, 0 },
	{ "shm-map", "mmap + munmap of a memfd", SC_SETUP, true, su_memfd,
	  su_shm_map, 1, 0 },
	{ "mbx-pool-map+touch", "mbx_pool_map + read every page + munmap",
	  SC_SETUP, true, su_pool_prep, su_pool_map_touch, 1, 0 },
	{ "shm-map+touch", "mmap + read every page + munmap of a memfd",
	  SC_SETUP, true, su_memfd, su_shm_map_touch, 1, 0 },

	{ "syscall", "getppid(), the system call floor", SC_CALLS, false, NULL,
	  pc_syscall, 1, 0 },
	{ "eventfd-w+r", "eventfd write + read", SC_CALLS, false,
	  pc_eventfd_prep, pc_eventfd, 1, 0 },
	{ "pipe-w+r", "pipe write + read", SC_CALLS, true, pc_pipe_prep, pc_pipe, 1, 0 },
	{ "mq-send+recv", "mq_send + mq_receive", SC_CALLS, true, pc_mq_prep,
	  pc_mq, 1, 0 },
	{ "mbx-send+recv", "mbx_send + mbx_recv (ioctls), one port", SC_CALLS,
	  true, pc_port_prep, pc_mbx_copy, 1, 0 },
	{ "mbx-write+read", "write + read on a port fd", SC_CALLS, true,
	  pc_port_prep, pc_mbx_rw, 1, 0 },
	{ "mbx-call-self", "mbx_call sending to and receiving from one port",
	  SC_CALLS, true, pc_port_prep, pc_mbx_call, 1, 0 },
	{ "mbx-alloc+release", "mbx_buf_alloc + mbx_buf_release", SC_CALLS, true,
	  pc_port_prep, pc_mbx_alloc, 1, 0 },
	{ "mbx-0copy-cycle", "buf_alloc + buf_send + recv_inplace + buf_release",
	  SC_CALLS, true, pc_port_prep, pc_mbx_zc, 1, 0 },
	{ "mbx-batch32", "send_batch + recv_batch of 32, per message", SC_CALLS,
	  true, pc_port_prep, pc_mbx_batch, BATCH, 64 * KiB },
};

/* ------------------------------------------------------------------------
 * Scenarios and cells
 */

enum kind { K_RTT, K_STREAM, K_FAN, K_SETUP };

struct scenario {
	const char *name;
	const char *title;
	enum kind kind;
	const size_t *sizes;
	bool one_cpu;		/* both processes on CPU 0 */
	bool epoll;		/* non-blocking, epoll-driven */
	bool e2e;		/* fill and check every byte */
	unsigned int consumers;	/* fan-in: consumers (producers: FAN) */
	const char *unit;	/* what a sample is */
};

static const struct scenario scenarios[NR_SC] = {
	[SC_RTT2] = { "rtt", "Blocking round trip, 2 vCPUs (client CPU 0, server CPU 1)",
		      K_RTT, all_sizes, .unit = "round trip" },
	[SC_RTT1] = { "rtt-1cpu", "Blocking round trip, 1 vCPU (client and server on CPU 0)",
		      K_RTT, rtt1_sizes, .one_cpu = true, .unit = "round trip" },
	[SC_EPOLL] = { "rtt-epoll", "Non-blocking round trip driven by epoll_wait, 2 vCPUs",
		       K_RTT, epoll_sizes, .epoll = true, .unit = "round trip" },
	[SC_STREAM] = { "stream",
			"One-way streaming, transport only (payload untouched), producer CPU 0, consumer CPU 1",
			K_STREAM, all_sizes, .unit = "message (inter-arrival)" },
	[SC_E2E] = { "stream-e2e",
		     "One-way streaming, end to end (every byte written and checksummed)",
		     K_STREAM, e2e_sizes, .e2e = true, .unit = "message (inter-arrival)" },
	[SC_FANIN] = { "fan-in", "Fan-in 4:1 (producers CPU 0, consumer CPU 1), aggregate",
		       K_FAN, fan_sizes, .consumers = 1, .unit = "message (inter-arrival)" },
	[SC_FANMN] = { "fan-4x4",
		       "4 producers x 4 consumers (producers CPU 0, consumers CPU 1), aggregate",
		       K_FAN, fan_sizes, .consumers = FAN,
		       .unit = "message (inter-arrival, per consumer)" },
	[SC_SETUP] = { "setup", "Setup cost, one process on CPU 0 (size: pool or shm size)",
		       K_SETUP, setup_sizes, .unit = "operation" },
	[SC_CALLS] = { "calls", "Per-call cost in one process, nobody waits or wakes (CPU 0)",
		       K_SETUP, calls_sizes, .unit = "operation (per message for batches)" },
};

struct result {
	int err;		/* 0, or -errno: no numbers this round */
	bool busy;		/* the host check failed before or after it */
	uint32_t n;		/* samples kept */
	double p50, p90, p99, p999, max, mean;	/* ns */
	double rate;		/* messages (round trips, operations) per second */
};

struct cell {
	const struct scenario *sc;
	const struct transport *t;	/* or */
	const struct setup_op *op;
	size_t size;
	struct result res[MAX_ROUNDS];
	char note[200];			/* first failure */
};

static struct cell *cells;
static unsigned int nr_cells;

static const char *cell_peer(const struct cell *c)
{
	return c->t ? c->t->name : c->op->name;
}

/* ------------------------------------------------------------------------
 * The processes of a cell
 */

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		child_fail(-errno, "sched_setaffinity(%d)", cpu);
}

static void child_start(int cpu, int lock)
{
	pin(cpu);
	if (mlockall(lock))
		child_fail(-errno, "mlockall");
}

static int wait_in(int ep)
{
	struct epoll_event ev;
	int n;

	do
		n = epoll_wait(ep, &ev, 1, -1);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

static int wait_out(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	return poll(&p, 1, -1) < 0 && errno != EINTR ? -errno : 0;
}

static int epoll_for(int fd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
		child_fail(-errno, "epoll on fd %d", fd);
	return ep;
}

/* Send, waiting for room on a non-blocking channel. */
static int tx_one(struct chan *c, uint64_t seq, bool epoll)
{
	int ret;

	while ((ret = c->t->tx(c, seq)) == -EAGAIN && epoll) {
		ret = wait_out(c->fd[TX]);
		if (ret)
			return ret;
	}
	return ret;
}

/* Receive; an epoll loop waits for readiness first, then reads. */
static int rx_one(struct chan *c, uint64_t seq, int ep)
{
	int ret;

	do {
		if (ep >= 0) {
			ret = wait_in(ep);
			if (ret)
				return ret;
		}
		ret = c->t->rx(c, seq);
	} while (ret == -EAGAIN && ep >= 0);
	return ret;
}

static void rtt_client(const struct scenario *sc, struct chan *req,
		       struct chan *rep)
{
	const struct transport *t = req->t;
	int ep = sc->epoll ? epoll_for(rep->fd[RX]) : -1;
	uint64_t seq, t0, t1;
	struct rec r;
	int ret;

	req->t->attach(req, TX);
	rep->t->attach(rep, RX);
	rec_init(&r, 0);
	for (seq = 0;; seq++) {
		t0 = now_ns();
		if (t->call) {
			ret = t->call(req, rep, seq);
			if (ret < 0)
				child_fail(ret, "%s: call", t->name);
		} else {
			ret = tx_one(req, seq, sc->epoll);
			if (ret < 0)
				child_fail(ret, "%s: client send", t->name);
			ret = rx_one(rep, seq, ep);
			if (ret < 0)
				child_fail(ret, "%s: client receive", t->name);
		}
		t1 = now_ns();
		if (rec_add(&r, t1 - t0, 1, t1))
			break;
	}
}

static void rtt_server(const struct scenario *sc, struct chan *req,
		       struct chan *rep)
{
	const struct transport *t = req->t;
	int ep = sc->epoll ? epoll_for(req->fd[RX]) : -1;
	uint64_t seq;
	int ret;

	req->t->attach(req, RX);
	rep->t->attach(rep, TX);
	peer_ready();
	if (t->serve) {
		ret = t->serve(req, rep);
		child_fail(ret, "%s: serve", t->name);
	}
	for (seq = 0;; seq++) {
		ret = rx_one(req, seq, ep);
		if (ret < 0)
			child_fail(ret, "%s: server receive", t->name);
		ret = tx_one(rep, seq, sc->epoll);
		if (ret < 0)
			child_fail(ret, "%s: server send", t->name);
	}
}

static void producer(struct chan *c)
{
	uint64_t seq = 0;
	int ret;

	c->t->attach(c, TX);
	peer_ready();
	for (;;) {
		ret = c->t->tx(c, seq);
		if (ret < 0)
			child_fail(ret, "%s: send", c->t->name);
		seq += ret;
	}
}

static void consumer(struct chan *c, unsigned int idx)
{
	uint64_t seq = 0, last, now;
	struct rec r;
	int ret;

	c->t->attach(c, RX);
	rec_init(&r, idx);
	last = r.start;
	for (;;) {
		ret = c->t->rx(c, seq);
		if (ret < 0)
			child_fail(ret, "%s: receive", c->t->name);
		seq += ret;
		now = now_ns();
		if (rec_add(&r, now - last, ret, now))
			break;
		last = now;
	}
}

static void setup_proc(const struct setup_op *op, size_t size)
{
	struct setup_ctx x = { .size = size, .fd = -1, .fd2 = -1 };
	uint64_t t0, t1;
	struct rec r;
	int ret;

	if (op->prep) {
		ret = op->prep(&x);
		if (ret)
			child_fail(ret, "%s: prepare", op->name);
	}
	rec_init(&r, 0);
	for (;;) {
		t0 = now_ns();
		ret = op->run(&x);
		t1 = now_ns();
		if (ret)
			child_fail(ret, "%s", op->name);
		if (rec_add(&r, t1 - t0, op->per ? op->per : 1, t1))
			break;
	}
}

/* ------------------------------------------------------------------------
 * Running a cell: open, fork, wait, kill, close, then the statistics.
 */

struct proc {
	pid_t pid;
	bool measures;
	bool done;
};

static sig_atomic_t timed_out;

static void on_alarm(int sig)
{
	timed_out = 1;
}

/* Sort @n samples (LSD radix sort, 3 passes of 11 bits). */
static void sort_samples(uint32_t *v, uint32_t *tmp, uint32_t n)
{
	static uint32_t count[2048];
	uint32_t *src = v, *dst = tmp, *swap, i, sum;
	int shift;

	for (shift = 0; shift < 33; shift += 11) {
		memset(count, 0, sizeof(count));
		for (i = 0; i < n; i++)
			count[(src[i] >> shift) & 2047]++;
		for (sum = 0, i = 0; i < 2048; i++) {
			uint32_t c = count[i];

			count[i] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			dst[count[(src[i] >> shift) & 2047]++] = src[i];
		swap = src;
		src = dst;
		dst = swap;
	}
	if (src != v)
		memcpy(v, src, n * sizeof(*v));
}

static double pct(const uint32_t *v, uint32_t n, double p)
{
	uint32_t k = (uint32_t)ceil(p / 100.0 * n);

	return v[k ? k - 1 : 0];
}

/*
 * Drop the first 10% of each process's samples, gather the rest at the
 * start of shared->sample[] and compute the statistics.  The rate is the
 * sum of each process's samples per second of its kept samples.
 */
static void compute(struct result *res, unsigned int nseg)
{
	uint32_t *all = shared->sample, n = 0, i, j;
	double sum_all = 0;

	res->rate = 0;
	for (i = 0; i < nseg; i++) {
		struct seg *s = &shared->seg[i];
		uint32_t skip = (s->n + 9) / 10, kept = s->n - skip;
		double sum = 0;

		for (j = 0; j < kept; j++) {
			all[n + j] = s->s[skip + j];
			sum += all[n + j];
		}
		n += kept;
		sum_all += sum;
		if (sum > 0)
			res->rate += kept * 1e9 / sum;
	}
	res->n = n;
	if (!n) {
		res->err = -ENODATA;
		return;
	}
	sort_samples(all, sort_tmp, n);
	res->p50 = pct(all, n, 50);
	res->p90 = pct(all, n, 90);
	res->p99 = pct(all, n, 99);
	res->p999 = pct(all, n, 99.9);
	res->max = all[n - 1];
	res->mean = sum_all / n;
}

static void kill_all(struct proc *p, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (!p[i].done)
			kill(p[i].pid, SIGKILL);
	for (i = 0; i < n; i++)
		if (!p[i].done)
			waitpid(p[i].pid, NULL, 0);
}

/*
 * Measure one cell: scenario @sc with transport @t (or setup operation @op)
 * and message size @size, for @budget ms.  On failure res->err is set and
 * shared->what says where.
 */
static void measure(const struct scenario *sc, const struct transport *t,
		    const struct setup_op *op, size_t size, unsigned int budget,
		    struct result *res)
{
	struct chan ch[2];
	struct proc procs[2 * FAN];
	unsigned int nproc = 0, nmeasure = 0, nseg = 1, i;
	int err = 0, nopen = 0;

	memset(res, 0, sizeof(*res));
	memset(ch, 0, sizeof(ch));
	atomic_store(&shared->err, 0);
	shared->what[0] = '\0';
	budget_ms = budget;

	/* Channels: request and reply for round trips, one for the others. */
	if (t) {
		for (i = 0; i < (sc->kind == K_RTT ? 2U : 1U); i++) {
			ch[i].t = t;
			ch[i].size = size;
			ch[i].nonblock = sc->epoll;
			ch[i].e2e = sc->e2e;
			ch[i].acked = sc->kind == K_RTT;
			ch[i].depth = 1;
			if (sc->kind != K_RTT) {
				ch[i].depth = STREAM_DEPTH;
				if (chan_bytes(&ch[i]) > STREAM_BYTES)
					ch[i].depth = STREAM_BYTES / size;
				if (ch[i].depth < 2)
					ch[i].depth = 2;
			}
			err = t->open(&ch[i]);
			if (err) {
				snprintf(shared->what, sizeof(shared->what),
					 "%s: open", t->name);
				goto out;
			}
			nopen++;
		}
	}
	if (sc->kind == K_FAN)
		nseg = sc->consumers;
	for (i = 0; i < nseg; i++) {
		shared->seg[i].n = 0;
		shared->seg[i].cap = MAX_SAMPLES / nseg;
		shared->seg[i].s = shared->sample + i * (MAX_SAMPLES / nseg);
	}

	fflush(NULL);
	timed_out = 0;
	alarm(CELL_TIMEOUT);

	/* Roles: index < nmeasure measure; each entry: cpu. */
	{
		unsigned int nprod = 0, ncons = 0;

		switch (sc->kind) {
		case K_RTT:
		case K_STREAM:
			nprod = 1;
			ncons = 1;
			break;
		case K_FAN:
			nprod = FAN;
			ncons = sc->consumers;
			break;
		case K_SETUP:
			ncons = 1;
			break;
		}
		nmeasure = ncons;
		shared->peers = nprod;
		atomic_store(&shared->ready, 0);
		for (i = 0; i < ncons + nprod; i++) {
			bool measures = i < ncons;
			pid_t pid = fork();

			if (pid < 0) {
				err = -errno;
				snprintf(shared->what, sizeof(shared->what), "fork");
				break;
			}
			if (!pid) {
				signal(SIGALRM, SIG_DFL);
				alarm(0);
				if (sc->kind == K_SETUP) {
					child_start(0, MCL_CURRENT);
					setup_proc(op, size);
				} else if (sc->kind == K_RTT) {
					/* the client measures, the server serves */
					child_start(measures || sc->one_cpu ? 0 : 1,
						    MCL_CURRENT | MCL_FUTURE);
					if (measures)
						rtt_client(sc, &ch[0], &ch[1]);
					else
						rtt_server(sc, &ch[0], &ch[1]);
				} else {
					child_start(measures ? 1 : 0,
						    MCL_CURRENT | MCL_FUTURE);
					if (measures)
						consumer(&ch[0], i);
					else
						producer(&ch[0]);
				}
				_exit(0);
			}
			procs[nproc].pid = pid;
			procs[nproc].measures = measures;
			procs[nproc].done = false;
			nproc++;
		}
	}

	/* Wait for the measuring processes; any other exit is a failure. */
	while (!err && nmeasure) {
		int status;
		pid_t pid = wait(&status);

		if (pid < 0) {
			if (errno == EINTR && !timed_out)
				continue;
			err = timed_out ? -ETIMEDOUT : -errno;
			snprintf(shared->what, sizeof(shared->what),
				 timed_out ? "cell timed out" : "wait");
			break;
		}
		for (i = 0; i < nproc; i++) {
			if (procs[i].pid != pid)
				continue;
			procs[i].done = true;
			if (!WIFEXITED(status) || WEXITSTATUS(status)) {
				err = atomic_load(&shared->err);
				if (!err) {
					err = -ECHILD;
					snprintf(shared->what, sizeof(shared->what),
						 "child died (status 0x%x)", status);
				}
			} else if (procs[i].measures) {
				nmeasure--;
			} else {
				err = -ECHILD;
				snprintf(shared->what, sizeof(shared->what),
					 "a producer exited");
			}
		}
	}
	alarm(0);
	kill_all(procs, nproc);
out:
	for (i = 0; i < (unsigned int)nopen; i++)
		ch[i].t->close(&ch[i]);
	if (!err)
		compute(res, nseg);
	else
		res->err = err;
}

/*
 * Host check.  Under emulation each vCPU is a host thread; when the host
 * has other work, a wake-up across vCPUs waits for the host to schedule
 * the other vCPU's thread, and round trips jump from tens of microseconds
 * to several milliseconds for as long as the host is busy.  Before each
 * cell a short pipe ping-pong across the vCPUs checks the host; while its
 * p50 is above CANARY_NS, wait and check again (within a total budget).
 */
#define CANARY_NS		300000
#define CANARY_MS		5
#define CANARY_WAIT_MS		100
#define CANARY_TOTAL_WAIT_S	60

static struct {
	unsigned long checks, waits;
	uint64_t waited_ns;
} canary;

/* Results measured since the last host check. */
#define CANARY_EVERY_MS		2000
#define CANARY_WINDOW		64

static struct {
	struct result *res[CANARY_WINDOW];
	unsigned int n;
	uint64_t at;		/* time of the last check */
	bool quiet;		/* its verdict */
} window;

/*
 * Check the host, and wait (if @wait) until it is quiet.  A failed first
 * check marks every result since the previous check as measured on a busy
 * host.  Return: true if the host is quiet now.
 */
static bool host_check(bool wait)
{
	uint64_t t0 = now_ns();
	unsigned int tries = 0, i;
	struct result res;
	bool quiet;

	for (;;) {
		canary.checks++;
		tries++;
		measure(&scenarios[SC_RTT2], &transports[T_PIPE], NULL, 8,
			CANARY_MS, &res);
		quiet = !res.err && res.p50 < CANARY_NS;
		if (tries == 1 && !quiet)
			for (i = 0; i < window.n; i++)
				window.res[i]->busy = true;
		if (quiet || !wait)
			break;
		if (canary.waited_ns + (now_ns() - t0) >=
		    CANARY_TOTAL_WAIT_S * NSEC_PER_SEC)
			break;
		canary.waits++;
		usleep(CANARY_WAIT_MS * 1000);
	}
	if (tries > 1)
		canary.waited_ns += now_ns() - t0;
	window.n = 0;
	window.at = now_ns();
	window.quiet = quiet;
	return quiet;
}

static void run_cell(struct cell *cell, unsigned int round)
{
	const struct scenario *sc = cell->sc;
	struct result *res = &cell->res[round];
	uint64_t t_cell = now_ns();

	if (t_cell - window.at >= CANARY_EVERY_MS * 1000000ULL ||
	    window.n == CANARY_WINDOW)
		host_check(true);
	measure(sc, cell->t, cell->op, cell->size, opt.budget_ms, res);
	res->busy = !window.quiet;
	window.res[window.n++] = res;
	if (res->err && !cell->note[0])
		snprintf(cell->note, sizeof(cell->note), "%s: %s", shared->what,
			 strerror(-res->err));
	if (opt.verbose)
		fprintf(stderr, "mbxbench: %u %-10s %-18s %8zu %6.0f ms  p50 %9.1f us  n %u%s%s\n",
			round + 1, sc->name, cell_peer(cell), cell->size,
			(now_ns() - t_cell) / 1e6, res->p50 / 1000, res->n,
			res->err ? "  " : "", res->err ? cell->note : "");
}

/* ------------------------------------------------------------------------
 * Building the cell list
 */

static bool size_ok(const struct transport *t, size_t size)
{
	return size <= opt.max_size && (!t->max_size || size <= t->max_size);
}

static void add_cell(const struct scenario *sc, const struct transport *t,
		     const struct setup_op *op, size_t size)
{
	struct cell *c;

	cells = realloc(cells, (nr_cells + 1) * sizeof(*cells));
	if (!cells) {
		perror("realloc");
		exit(1);
	}
	c = &cells[nr_cells++];
	memset(c, 0, sizeof(*c));
	c->sc = sc;
	c->t = t;
	c->op = op;
	c->size = size;
}

static void build_cells(void)
{
	unsigned int s, i, k;

	for (s = 0; s < NR_SC; s++) {
		const struct scenario *sc = &scenarios[s];

		if (!in_list(opt.scens, sc->name))
			continue;
		if (sc->kind == K_SETUP) {
			for (i = 0; i < ARRAY_SIZE(setup_ops); i++) {
				const struct setup_op *op = &setup_ops[i];
				const size_t *sizes = op->sized ? sc->sizes : no_size;

				if (op->sc != s || !in_list(opt.peers, op->name))
					continue;
				for (k = 0; !k || sizes[k]; k++)
					if (sizes[k] <= opt.max_size &&
					    (!op->max_size || sizes[k] <= op->max_size))
						add_cell(sc, NULL, op, sizes[k]);
			}
			continue;
		}
		for (k = 0; sc->sizes[k]; k++) {
			for (i = 0; i < NR_TRANSPORTS; i++) {
				const struct transport *t = &transports[i];

				if (!(t->scens & B(s)) || !in_list(opt.peers, t->name) ||
				    !size_ok(t, sc->sizes[k]))
					continue;
				add_cell(sc, t, NULL, sc->sizes[k]);
			}
		}
	}
}

static struct cell *find_cell(unsigned int sc, const char *peer, size_t size)
{
	unsigned int i;

	for (i = 0; i < nr_cells; i++)
		if (cells[i].sc == &scenarios[sc] && cells[i].size == size &&
		    !strcmp(cell_peer(&cells[i]), peer))
			return &cells[i];
	return NULL;
}

/* ------------------------------------------------------------------------
 * Output
 */

/* Median over the rounds of one statistic; NAN if no round has numbers. */
/*
 * The rounds of @a (and @b, if not NULL) that have numbers, in @use.
 * Return: how many; *@busy: how many of them ran on a busy host.
 */
static unsigned int pick_rounds(const struct cell *a, const struct cell *b,
				bool use[MAX_ROUNDS], unsigned int *busy)
{
	unsigned int r, n = 0;

	*busy = 0;
	for (r = 0; r < opt.rounds; r++) {
		use[r] = !a->res[r].err && (!b || !b->res[r].err);
		n += use[r];
		if (use[r] && (a->res[r].busy || (b && b->res[r].busy)))
			(*busy)++;
	}
	return n;
}

/* Median over the rounds used of one statistic; NAN if there are none. */
static double med_stat(const struct cell *c, size_t off)
{
	unsigned int r, busy;
	double v[MAX_ROUNDS];
	bool use[MAX_ROUNDS];

	pick_rounds(c, NULL, use, &busy);
	for (r = 0; r < opt.rounds; r++)
		v[r] = use[r] ? *(const double *)((const char *)&c->res[r] + off) :
		       NAN;
	return median(v, opt.rounds);
}

#define MED(c, field)	med_stat(c, offsetof(struct result, field))

static double max_stat(const struct cell *c)
{
	unsigned int r, busy;
	bool use[MAX_ROUNDS];
	double m = NAN;

	pick_rounds(c, NULL, use, &busy);
	for (r = 0; r < opt.rounds; r++)
		if (use[r] && (isnan(m) || c->res[r].max > m))
			m = c->res[r].max;
	return m;
}

static void print_us(double ns)
{
	if (isnan(ns))
		printf(" %9s", "n/a");
	else
		printf(" %9.1f", ns / 1000);
}

static void print_tables(void)
{
	unsigned int s, i, r;
	char sz[24];

	for (s = 0; s < NR_SC; s++) {
		const struct scenario *sc = &scenarios[s];
		size_t last_size = SIZE_MAX;
		bool any = false;

		for (i = 0; i < nr_cells; i++)
			any |= cells[i].sc == sc;
		if (!any)
			continue;
		printf("\n## %s [%s]\n", sc->title, sc->name);
		printf("Times in us per %s; median over the rounds (max: largest);\n%s\n",
		       sc->unit, "rounds: with numbers / of those, run on a busy host");
		printf("%-18s %5s %9s %9s %9s %9s %9s %9s %11s %9s %7s %6s\n",
		       "transport", "size", "p50", "p90", "p99", "p99.9",
		       "max", "mean", "msgs/s", "MB/s", "samples", "rounds");
		for (i = 0; i < nr_cells; i++) {
			const struct cell *c = &cells[i];
			unsigned int used, busy;
			bool use[MAX_ROUNDS];
			unsigned long n = 0;
			double rate;

			if (c->sc != sc)
				continue;
			if (c->size != last_size && last_size != SIZE_MAX)
				printf("\n");
			last_size = c->size;
			printf("%-18s %5s", cell_peer(c), size_str(c->size, sz, sizeof(sz)));
			used = pick_rounds(c, NULL, use, &busy);
			for (r = 0; r < opt.rounds; r++)
				n += use[r] ? c->res[r].n : 0;
			if (!used) {
				printf("  n/a (%s)\n", c->note);
				continue;
			}
			print_us(MED(c, p50));
			print_us(MED(c, p90));
			print_us(MED(c, p99));
			print_us(MED(c, p999));
			print_us(max_stat(c));
			print_us(MED(c, mean));
			rate = MED(c, rate);
			printf(" %11.0f", rate);
			if (c->size)
				printf(" %9.1f", rate * c->size / 1e6);
			else
				printf(" %9s", "-");
			printf(" %7lu %4u/%u", n, used, busy);
			for (r = 0; r < opt.rounds; r++)
				if (c->res[r].err)
					break;
			if (r < opt.rounds)
				printf("  (some rounds n/a: %s)", c->note);
			printf("\n");
		}
	}
}

static void print_csv(void)
{
	unsigned int i, r;

	printf("scenario,transport,size,round,status,busy_host,samples,p50_ns,p90_ns,%s\n",
	       "p99_ns,p999_ns,max_ns,mean_ns,msgs_per_s,bytes_per_s");
	for (i = 0; i < nr_cells; i++) {
		const struct cell *c = &cells[i];

		for (r = 0; r < opt.rounds; r++) {
			const struct result *x = &c->res[r];

			printf("%s,%s,%zu,%u,", c->sc->name, cell_peer(c), c->size, r + 1);
			if (x->err) {
				printf("%s,%d,0,,,,,,,,\n", strerror(-x->err), x->busy);
				continue;
			}
			printf("ok,%d,%u,%.0f,%.0f,%.0f,%.0f,%.0f,%.1f,%.1f,%.1f\n",
			       x->busy, x->n, x->p50, x->p90, x->p99, x->p999, x->max,
			       x->mean, x->rate, x->rate * c->size);
		}
	}
}

/* --- target ratios --------------------------------------------------------- */

enum metric { M_P50, M_TAIL, M_RATE };

struct ratio {
	const char *target;	/* the target this row checks */
	unsigned int sc;
	const char *a;		/* measured: a / b */
	size_t sa;
	const char *b;
	size_t sb;
	enum metric m;
	double lo, hi;		/* goal: lo <= ratio <= hi */
};

static double metric(const struct result *r, enum metric m)
{
	if (r->err)
		return NAN;
	switch (m) {
	case M_P50:
		return r->p50;
	case M_TAIL:
		return r->p99 / r->p50;
	case M_RATE:
		return r->rate;
	}
	return NAN;
}

static const char *metric_name(enum metric m)
{
	return m == M_P50 ? "p50" : m == M_TAIL ? "p99/p50" : "rate";
}

/* The median over the rounds of a / b, with the smallest and largest. */
static double ratio_of(const struct ratio *x, double *lo, double *hi,
		       unsigned int *used, unsigned int *busy)
{
	const struct cell *a = find_cell(x->sc, x->a, x->sa);
	const struct cell *b = find_cell(x->sc, x->b, x->sb);
	bool use[MAX_ROUNDS];
	double v[MAX_ROUNDS];
	unsigned int r;

	*lo = NAN;
	*hi = NAN;
	*used = 0;
	*busy = 0;
	if (!a || !b)
		return NAN;
	*used = pick_rounds(a, b, use, busy);
	for (r = 0; r < opt.rounds; r++) {
		v[r] = use[r] ? metric(&a->res[r], x->m) / metric(&b->res[r], x->m) :
		       NAN;
		if (!isfinite(v[r]))
			continue;
		if (isnan(*lo) || v[r] < *lo)
			*lo = v[r];
		if (isnan(*hi) || v[r] > *hi)
			*hi = v[r];
	}
	return median(v, opt.rounds);
}

static struct ratio *ratios;
static unsigned int nr_ratios;

static void add_ratio(const char *target, unsigned int sc, const char *a,
		      size_t sa, const char *b, size_t sb, enum metric m,
		      double lo, double hi)
{
	struct ratio *x;

	ratios = realloc(ratios, (nr_ratios + 1) * sizeof(*ratios));
	if (!ratios) {
		perror("realloc");
		exit(1);
	}
	x = &ratios[nr_ratios++];
	*x = (struct ratio){ target, sc, a, sa, b, sb, m, lo, hi };
}

static void build_ratios(void)
{
	static const size_t small[] = { 8, 64, 256 };
	static const size_t big[] = { 64 * KiB, 256 * KiB, 1 * MiB, 4 * MiB };
	const char *t1 = "8-256 B blocking round trip";
	const char *t2 = "Zero copy, payload untouched";
	const char *t3 = "End-to-end streaming >= 64 KiB, bytes/s";
	const char *t4 = "64 B message rate, batches of 32";
	const char *t5 = "p99/p50 no worse than pipe's";
	unsigned int i, p;

	for (p = 0; p < 2; p++) {
		unsigned int sc = p ? SC_RTT1 : SC_RTT2;

		for (i = 0; i < ARRAY_SIZE(small); i++) {
			add_ratio(t1, sc, "mbx-copy", small[i], "pipe", small[i], M_P50, 0, 1.0);
			add_ratio(t1, sc, "mbx-copy", small[i], "posix-mq", small[i],
				  M_P50, 0, 1.0);
			add_ratio(t1, sc, "mbx-call", small[i], "pipe", small[i], M_P50, 0, 0.8);
		}
	}
	for (i = 0; all_sizes[i]; i++)
		add_ratio(t2, SC_RTT2, "mbx-0copy", all_sizes[i], "mbx-0copy", 8,
			  M_P50, 0.85, 1.15);
	for (i = 0; all_sizes[i]; i++)
		add_ratio(t2, SC_RTT2, "mbx-0copy-call", all_sizes[i],
			  "mbx-0copy-call", 8, M_P50, 0.85, 1.15);
	for (i = 0; all_sizes[i]; i++)
		add_ratio(t2, SC_RTT2, "mbx-0copy", all_sizes[i], "efd-shm-0copy",
			  all_sizes[i], M_P50, 0, 1.2);
	for (i = 0; all_sizes[i]; i++)
		add_ratio(t2, SC_RTT2, "mbx-0copy-call", all_sizes[i], "efd-shm-0copy",
			  all_sizes[i], M_P50, 0, 1.2);
	add_ratio(t2, SC_RTT2, "pipe", 1 * MiB, "mbx-0copy", 1 * MiB, M_P50, 20, INFINITY);
	for (i = 0; i < ARRAY_SIZE(big); i++) {
		add_ratio(t3, SC_E2E, "mbx-0copy", big[i], "pipe", big[i], M_RATE, 2.5, INFINITY);
		add_ratio(t3, SC_E2E, "mbx-0copy", big[i], "unix-seqpacket", big[i],
			  M_RATE, 1.3, INFINITY);
	}
	add_ratio(t4, SC_STREAM, "mbx-batch32", 64, "pipe", 64, M_RATE, 1.5, INFINITY);
	for (i = 0; i < ARRAY_SIZE(small); i++)
		add_ratio(t5, SC_RTT2, "mbx-copy", small[i], "pipe", small[i], M_TAIL, 0, 1.0);
	add_ratio(t5, SC_RTT2, "mbx-call", 64, "pipe", 64, M_TAIL, 0, 1.0);
	add_ratio(t5, SC_RTT2, "mbx-0copy", 64, "pipe", 64, M_TAIL, 0, 1.0);
	add_ratio(t5, SC_RTT2, "mbx-0copy", 1 * MiB, "pipe", 1 * MiB, M_TAIL, 0, 1.0);
	add_ratio(t5, SC_RTT2, "mbx-0copy-call", 64, "pipe", 64, M_TAIL, 0, 1.0);
	add_ratio(t5, SC_RTT2, "mbx-0copy-call", 1 * MiB, "pipe", 1 * MiB, M_TAIL,
		  0, 1.0);
}

static const char *goal_str(const struct ratio *x, char *buf, size_t len)
{
	if (isinf(x->hi))
		snprintf(buf, len, ">= %.2f", x->lo);
	else if (x->lo > 0)
		snprintf(buf, len, "%.2f..%.2f", x->lo, x->hi);
	else
		snprintf(buf, len, "<= %.2f", x->hi);
	return buf;
}

static void print_ratio_row(const struct ratio *x, double v, double lo,
			    double hi, unsigned int used, unsigned int busy,
			    const char *verdict)
{
	char goal[32], sa[24], sb[24], ab[64], range[40];

	goal_str(x, goal, sizeof(goal));
	size_str(x->sa, sa, sizeof(sa));
	size_str(x->sb, sb, sizeof(sb));
	snprintf(ab, sizeof(ab), "%s %s / %s %s", x->a, sa, x->b, sb);
	if (isnan(v))
		snprintf(range, sizeof(range), "-");
	else
		snprintf(range, sizeof(range), "[%.2f..%.2f]", lo, hi);
	printf("  %-10s %-7s %-36s %8.2f %15s %4u/%u %-11s %s\n",
	       scenarios[x->sc].name, metric_name(x->m), ab, v, range, used,
	       busy, goal, verdict);
}

static void print_ratios(bool csv)
{
	unsigned int i, used, met = 0, missed = 0, na = 0;
	const char *last = NULL;
	char goal[32];

	if (csv)
		printf("target,scenario,a,a_size,b,b_size,metric,%s\n",
		       "median_ratio,min_ratio,max_ratio,rounds,busy_host_rounds,goal,met");
	else
		printf("\n## Target ratios\n%s\n%s\n",
		       "ratio: median of the per-round ratios a / b; [min..max] over the rounds;",
		       "rounds: with numbers / of those, how many the host check flagged as busy");
	for (i = 0; i < nr_ratios; i++) {
		const struct ratio *x = &ratios[i];
		unsigned int busy;
		double lo, hi, v;
		const char *verdict;

		v = ratio_of(x, &lo, &hi, &used, &busy);
		verdict = isnan(v) ? "n/a" : v >= x->lo && v <= x->hi ? "yes" : "NO";
		if (isnan(v))
			na++;
		else if (*verdict == 'y')
			met++;
		else
			missed++;
		if (csv) {
			printf("\"%s\",%s,%s,%zu,%s,%zu,%s,%.4f,%.4f,%.4f,%u,%u,%s,%s\n",
			       x->target, scenarios[x->sc].name, x->a, x->sa,
			       x->b, x->sb, metric_name(x->m), v, lo, hi, used,
			       busy, goal_str(x, goal, sizeof(goal)), verdict);
			continue;
		}
		if (!last || strcmp(last, x->target)) {
			printf("\n%s\n", x->target);
			printf("  %-10s %-7s %-36s %8s %15s %6s %-11s %s\n",
			       "scenario", "metric", "a / b", "ratio", "[min..max]",
			       "rounds", "goal", "met");
			last = x->target;
		}
		print_ratio_row(x, v, lo, hi, used, busy, verdict);
	}
	if (!csv)
		printf("\nTargets: %u met, %u missed, %u n/a\n", met, missed, na);
}

/* ------------------------------------------------------------------------
 * Environment: limits, sysctls, module parameters
 */

#define MBX_PARAM(p)	"/sys/module/mailbox/parameters/" p

static char saved_msg_size[32], saved_bytes_per_user[32];

static void prepare_env(void)
{
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	struct stat st;

	/* POSIX mq: the mqueue fs, 4 MiB messages, deep queues, no rlimit. */
	if (stat("/dev/mqueue", &st))
		mkdir("/dev/mqueue", 0755);
	if (mount("mqueue", "/dev/mqueue", "mqueue", 0, NULL) && errno != EBUSY)
		fprintf(stderr, "mbxbench: mount mqueue: %s\n", strerror(errno));
	if (write_file("/proc/sys/fs/mqueue/msgsize_max", "%lu", 4 * MiB) ||
	    write_file("/proc/sys/fs/mqueue/msg_max", "%d", 1024))
		fprintf(stderr, "mbxbench: cannot raise the mqueue limits\n");
	if (setrlimit(RLIMIT_MSGQUEUE, &unlimited))
		perror("mbxbench: setrlimit(RLIMIT_MSGQUEUE)");

	/* Mailbox: copy-mode messages up to 4 MiB, generous accounting. */
	read_file(MBX_PARAM("max_msg_size"), saved_msg_size, sizeof(saved_msg_size));
	read_file(MBX_PARAM("max_bytes_per_user"), saved_bytes_per_user,
		  sizeof(saved_bytes_per_user));
	if (strtoul(saved_msg_size, NULL, 0) < 4 * MiB &&
	    write_file(MBX_PARAM("max_msg_size"), "%lu", 4 * MiB))
		fprintf(stderr, "mbxbench: cannot raise max_msg_size\n");
	if (strtoul(saved_bytes_per_user, NULL, 0) < 4096 * MiB &&
	    write_file(MBX_PARAM("max_bytes_per_user"), "%lu", 4096 * MiB))
		fprintf(stderr, "mbxbench: cannot raise max_bytes_per_user\n");
}

static void restore_env(void)
{
	if (saved_msg_size[0])
		write_file(MBX_PARAM("max_msg_size"), "%s", saved_msg_size);
	if (saved_bytes_per_user[0])
		write_file(MBX_PARAM("max_bytes_per_user"), "%s",
			   saved_bytes_per_user);
}

/* Cost of one timestamp, ns (median of a few tries). */
static double clock_cost(void)
{
	double v[5];
	unsigned int i, k;

	for (k = 0; k < 5; k++) {
		uint64_t t0 = now_ns();

		for (i = 0; i < 10000; i++)
			now_ns();
		v[k] = (now_ns() - t0) / 10000.0;
	}
	return median(v, 5);
}

static void print_header(void)
{
	struct mbx_version ver = { 0 };
	char cmdline[512], cs[64], msz[32], bpu[32], spin[32];
	unsigned int i, r, busy = 0;
	struct utsname u;

	uname(&u);
	read_file("/proc/cmdline", cmdline, sizeof(cmdline));
	read_file("/sys/devices/system/clocksource/clocksource0/current_clocksource",
		  cs, sizeof(cs));
	read_file(MBX_PARAM("max_msg_size"), msz, sizeof(msz));
	read_file(MBX_PARAM("max_bytes_per_user"), bpu, sizeof(bpu));
	if (read_file(MBX_PARAM("call_spin_ns"), spin, sizeof(spin)))
		snprintf(spin, sizeof(spin), "(none)");
	mbx_version(mbx_dev, &ver);

	printf("# mbxbench\n");
	printf("QEMU:        %s\n", opt.qemu ? opt.qemu : "(not given; pass -Q)");
	printf("host:        %s\n", opt.host ? opt.host : "(not given; pass -H)");
	printf("vCPUs:       %ld online\n", sysconf(_SC_NPROCESSORS_ONLN));
	printf("kernel:      %s %s\n", u.release, u.version);
	printf("cmdline:     %s\n", cmdline);
	printf("clock:       CLOCK_MONOTONIC via %s, %.0f ns per reading\n", cs,
	       clock_cost());
	printf("mailbox:     API %u, features%s%s%s%s; max_msg_size %s, max_bytes_per_user %s,\n",
	       ver.version,
	       ver.features & MBX_FEAT_PORTS ? " ports" : "",
	       ver.features & MBX_FEAT_POOL ? " pool" : "",
	       ver.features & MBX_FEAT_CALL ? " call" : "",
	       ver.features & MBX_FEAT_BATCH ? " batch" : "",
	       msz, bpu);
	printf("             call_spin_ns %s\n", spin);
	for (i = 0; i < nr_cells; i++)
		for (r = 0; r < opt.rounds; r++)
			busy += cells[i].res[r].busy;
	printf("host check:  %lu pipe ping-pongs across vCPUs, every %d s (p50 < %d us wanted),\n",
	       canary.checks, CANARY_EVERY_MS / 1000, CANARY_NS / 1000);
	printf("             %lu waits of %d ms, %.1f s waiting for a quiet host (at most %d s);\n",
	       canary.waits, CANARY_WAIT_MS, canary.waited_ns / 1e9, CANARY_TOTAL_WAIT_S);
	printf("             %u of %u cell runs flagged as run on a busy host\n", busy,
	       nr_cells * opt.rounds);
	printf("method:      %u rounds in shuffled order (seed %llu), %u ms per cell,\n"
	       "             first 10%% of each process's samples dropped, processes pinned and mlockall'd\n",
	       opt.rounds, (unsigned long long)opt.seed, opt.budget_ms);
}

static void print_legend(void)
{
	unsigned int i;

	printf("\nTransports:\n");
	for (i = 0; i < NR_TRANSPORTS; i++)
		printf("  %-18s %s\n", transports[i].name, transports[i].what);
	printf("Setup operations:\n");
	for (i = 0; i < ARRAY_SIZE(setup_ops); i++)
		printf("  %-18s %s\n", setup_ops[i].name, setup_ops[i].what);
}

/* ------------------------------------------------------------------------
 * main
 */

static void help(int status)
{
	unsigned int i;

	fprintf(status ? stderr : stdout,
		"mbxbench [-r ROUNDS] [-t MS] [-T SECONDS] [-s SEED] [-o SCENARIOS]\n"
		"         [-p TRANSPORTS] [-m MAX_SIZE] [-Q QEMU_VERSION] [-H HOST] [-v] [-l]\n"
		"  -r  rounds (default 5)          -t  time budget per cell, ms (default 60)\n"
		"  -T  no new round past this many seconds in all (default 510, 0: no limit)\n"
		"  -s  seed of the shuffle         -m  largest message size, bytes\n"
		"  -o  comma-separated scenarios   -p  comma-separated transports/setup ops\n"
		"  -Q  the host's QEMU version, recorded in the output\n"
		"  -H  a line about the host (CPUs, load), recorded in the output\n"
		"  -v  one line per cell on stderr as it runs\n"
		"  -l  list the selected cells and exit\n"
		"scenarios:");
	for (i = 0; i < NR_SC; i++)
		fprintf(status ? stderr : stdout, " %s", scenarios[i].name);
	fprintf(status ? stderr : stdout, "\n");
	exit(status);
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	unsigned int *order, r, i;
	uint64_t t_start;
	int c;

	while ((c = getopt(argc, argv, "r:t:T:s:o:p:m:Q:H:vlh")) != -1) {
		switch (c) {
		case 'r':
			opt.rounds = strtoul(optarg, NULL, 0);
			if (!opt.rounds || opt.rounds > MAX_ROUNDS)
				help(2);
			break;
		case 't':
			opt.budget_ms = strtoul(optarg, NULL, 0);
			break;
		case 'T':
			opt.time_limit = strtoul(optarg, NULL, 0);
			break;
		case 's':
			opt.seed = strtoull(optarg, NULL, 0);
			break;
		case 'o':
			opt.scens = optarg;
			break;
		case 'p':
			opt.peers = optarg;
			break;
		case 'm':
			opt.max_size = strtoull(optarg, NULL, 0);
			break;
		case 'Q':
			opt.qemu = optarg;
			break;
		case 'H':
			opt.host = optarg;
			break;
		case 'v':
			opt.verbose = true;
			break;
		case 'l':
			opt.list = true;
			break;
		case 'h':
			help(0);
			break;
		default:
			help(2);
		}
	}

	build_cells();
	build_ratios();
	if (!nr_cells) {
		fprintf(stderr, "mbxbench: no cells selected\n");
		return 2;
	}
	if (opt.list) {
		for (i = 0; i < nr_cells; i++)
			printf("%-10s %-18s %zu\n", cells[i].sc->name,
			       cell_peer(&cells[i]), cells[i].size);
		return 0;
	}

	mbx_dev = mbx_dev_open();
	if (mbx_dev < 0) {
		fprintf(stderr, "mbxbench: %s: %s\n", MBX_DEVICE_PATH,
			strerror(-mbx_dev));
		return 1;
	}
	shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (shared == MAP_FAILED) {
		perror("mbxbench: mmap");
		return 1;
	}
	sort_tmp = parent_only(MAX_SAMPLES * sizeof(*sort_tmp));
	{
		struct cell *c = parent_only(nr_cells * sizeof(*cells));

		memcpy(c, cells, nr_cells * sizeof(*cells));
		free(cells);
		cells = c;
		malloc_trim(0);
	}
	sigaction(SIGALRM, &sa, NULL);
	prepare_env();

	order = calloc(nr_cells, sizeof(*order));
	if (!order)
		return 1;
	rng_state = opt.seed * 0x9E3779B97F4A7C15ULL + 1;
	t_start = now_ns();
	fprintf(stderr, "mbxbench: %u cells x %u rounds, %u ms each\n",
		nr_cells, opt.rounds, opt.budget_ms);
	for (r = 0; r < opt.rounds; r++) {
		uint64_t t0 = now_ns(), spent = t0 - t_start;

		/* Stop early rather than run past the time limit. */
		if (r && opt.time_limit &&
		    spent + spent / r > opt.time_limit * NSEC_PER_SEC) {
			fprintf(stderr, "mbxbench: stopping after %u rounds (limit %u s)\n",
				r, opt.time_limit);
			break;
		}
		for (i = 0; i < nr_cells; i++)
			order[i] = i;
		for (i = nr_cells - 1; i > 0; i--) {
			unsigned int j = rng_next() % (i + 1), tmp = order[i];

			order[i] = order[j];
			order[j] = tmp;
		}
		for (i = 0; i < nr_cells; i++)
			run_cell(&cells[order[i]], r);
		host_check(false);
		fprintf(stderr, "mbxbench: round %u/%u done in %.1f s\n", r + 1,
			opt.rounds, (now_ns() - t0) / 1e9);
	}
	free(order);
	rounds_asked = opt.rounds;
	opt.rounds = r;

	printf("\n" MARK " table begin\n");
	print_header();
	printf("total:       %.0f s for %u cells x %u rounds (%u asked, time limit %u s)\n",
	       (now_ns() - t_start) / 1e9, nr_cells, opt.rounds, rounds_asked,
	       opt.time_limit);
	print_legend();
	print_tables();
	print_ratios(false);
	printf(MARK " table end\n");
	printf(MARK " csv begin\n");
	print_csv();
	printf(MARK " csv end\n");
	printf(MARK " ratios csv begin\n");
	print_ratios(true);
	printf(MARK " ratios csv end\n");
	fflush(stdout);
	restore_env();
	return 0;
}
