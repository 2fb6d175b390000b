/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mbxbench: what the files of the tool share.  Constants, the types of
 * channels, transports, scenarios, cells and their results, and the
 * functions and tables each file offers the others.
 */
#ifndef MBXBENCH_BENCH_H
#define MBXBENCH_BENCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdnoreturn.h>
#include <time.h>
#include <sys/uio.h>

#include <mailbox.h>

#define KiB		1024UL
#define MiB		(1024UL * 1024)
#define NSEC_PER_SEC	1000000000ULL

#define MAX_ROUNDS	15
#define BATCH		32		/* messages per batch (mbx-batch32) */
#define FAN		4		/* producers and consumers of fan-in */
#define MAX_SUBS	16		/* subscribers of the pub/sub scenarios */
#define STREAM_DEPTH	64		/* messages a streaming channel holds */
#define STREAM_BYTES	(8 * MiB)	/* ... unless that is more bytes */
#define PIPE_BUF_BYTES	(64 * KiB)	/* a pipe's default buffer */
#define MAX_SAMPLES	262144		/* per cell, all processes together */
#define MIN_SAMPLES	10		/* per process, even past the budget... */
#define HARD_LIMIT_MS	600		/* ...but not past 10 budgets or this */
#define MIN_SAMPLES_BUDGET_MS	20	/* no minimum for shorter budgets */
#define CELL_TIMEOUT	20		/* seconds before a cell is killed */
#define SLOT_ALIGN	64

/*
 * Rings (plain-ring, mbx-ring*): bytes a record costs beyond its payload
 * in the channel's sizing (both rings get the same size); plain-ring's
 * spin before sleeping, libmailbox's default for mbx-ring (ring.c,
 * RING_SPIN_DEFAULT_NS, which the library does not export: keep the two
 * in step); the client's pause between round trips in rtt-sleep (long
 * enough for either to give up spinning and sleep); the idle scenario's
 * second.
 */
#define RING_REC_OVERHEAD	16
#define RING_SPIN_NS		50000ULL
#define RTT_SLEEP_GAP_NS	500000ULL
#define IDLE_NS			NSEC_PER_SEC

#define MARK		"@@mbxbench"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define MBX_PARAM(p)	"/sys/module/mailbox/parameters/" p

static inline size_t align_up(size_t x, size_t a)
{
	return (x + a - 1) / a * a;
}

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/* What a spin loop does between two looks at shared memory. */
static inline void cpu_relax(void)
{
#if __has_builtin(__builtin_ia32_pause)
	__builtin_ia32_pause();
#else
	atomic_signal_fence(memory_order_seq_cst);
#endif
}

/* ------------------------------------------------------------------------
 * Shared memory between the parent and the processes of one cell
 */

struct seg {
	uint32_t n;		/* samples recorded */
	uint32_t cap;
	uint32_t *s;		/* in shared->sample[] */
};

struct shared {
	atomic_int err;		/* first failure of a child, -errno */
	char what[160];
	unsigned int peers;	/* processes that do not measure */
	atomic_uint ready;	/* ...and have attached to their channel */
	atomic_uint finished;	/* pub/sub: subscribers done measuring */
	atomic_ullong idle_cpu;	/* idle: the producer's CPU time, ns */
	struct seg seg[MAX_SUBS];
	uint32_t sample[MAX_SAMPLES];
};

/* One measuring process's samples and its stopping rule. */
struct rec {
	struct seg *seg;
	uint64_t start, soft_end, hard_end;
};

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
	size_t ring_size;	/* plain-ring, mbx-ring: bytes of records */

	/* Per process, set up by attach() after the fork. */
	char *buf;		/* private message buffer(s) */
	size_t buf_len;
	char *pool;		/* mailbox pool mapping */
	size_t pool_len;
	uint64_t credits, avail, head, tail;
	size_t off;		/* partial non-blocking transfer */
	uint64_t pending;	/* zero copy: region allocated, not yet sent */
	bool pending_sealed;	/* it was sealed by a send that failed */
	uint64_t held;		/* zero copy: region received, not released */
	size_t held_len;
	struct mbx_send *smsg;	/* batches */
	struct mbx_recv *rmsg;
	struct mbx_ring *ring;	/* mbx-ring: this process's side */
	struct iovec *iov;	/* mbx-ring-batch32 */

	/*
	 * Pub/sub on a transport with one channel for every subscriber
	 * (struct transport.shared): set before open() ...
	 */
	unsigned int subs;
	/* ... by open(): each subscriber's fd (a topic's or an eventfd) ... */
	int sub_fd[MAX_SUBS];
	/* ... and, in a subscriber after the fork, which one it is. */
	unsigned int sub;
};

/* Scenarios, as bits of struct transport.scens. */
enum {
	SC_RTT2, SC_RTT1, SC_EPOLL, SC_STREAM, SC_E2E, SC_FANIN, SC_FANMN,
	SC_SETUP, SC_CALLS, SC_PUB1, SC_PUB4, SC_PUB16, SC_RTT_SLEEP,
	SC_IDLE, NR_SC
};

#define B(sc)	(1U << (sc))
#define SC_RTTS	(B(SC_RTT2) | B(SC_RTT1))
#define SC_ALL	(SC_RTTS | B(SC_EPOLL) | B(SC_STREAM) | B(SC_E2E) | \
		 B(SC_FANIN) | B(SC_FANMN))
#define SC_PUBS	(B(SC_PUB1) | B(SC_PUB4) | B(SC_PUB16))

/*
 * A transport: one per name in the tables, defined in the file of its
 * family (tr_*.c) and listed in transports[] (transport.c).  open() and
 * close() run in the parent, attach(), tx() and rx() in the processes.
 */
struct transport {
	const char *name;
	const char *what;	/* the legend's line */
	unsigned int scens;	/* B(SC_...) of the scenarios it runs in */
	size_t max_size;	/* 0: any */
	int (*open)(struct chan *c);
	void (*close)(struct chan *c);
	int (*attach)(struct chan *c, int side);
	int (*tx)(struct chan *c, uint64_t seq);
	int (*rx)(struct chan *c, uint64_t seq);
	/* Round trips in one call (request/reply); optional. */
	int (*call)(struct chan *req, struct chan *rep, uint64_t seq);
	int (*serve)(struct chan *req, struct chan *rep);
	/*
	 * Pub/sub: one channel reaches every subscriber (a topic), rather
	 * than one channel per subscriber that the publisher sends to in
	 * turn (pipes, queues).
	 */
	bool shared;
};

struct setup_ctx {
	size_t size;
	int fd;			/* a port or memfd made by prep() */
	int fd2;
	char *buf;
	struct mbx_send *smsg;
	struct mbx_recv *rmsg;
	struct chan *ch;	/* calls on a ring: [RX] and [TX] */
};

struct setup_op {
	const char *name;
	const char *what;
	bool sized;
	int (*prep)(struct setup_ctx *x);
	int (*run)(struct setup_ctx *x);
	unsigned int per;	/* messages per operation */
	size_t max_size;	/* 0: any */
};

enum kind { K_RTT, K_STREAM, K_FAN, K_SETUP, K_PUBSUB, K_IDLE };

struct scenario {
	const char *name;
	const char *title;
	enum kind kind;
	const size_t *sizes;
	bool one_cpu;		/* both processes on CPU 0 */
	bool epoll;		/* non-blocking, epoll-driven */
	bool e2e;		/* fill and check every byte */
	/* fan-in: consumers (producers: FAN); pub/sub: subscribers */
	unsigned int consumers;
	const char *unit;	/* what a sample is */
	const struct setup_op *ops;	/* K_SETUP: its operations */
	uint64_t gap_ns;	/* K_RTT: the client's pause between round trips */
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

/*
 * Host check (see main.c): a pipe ping-pong across the vCPUs before the
 * cells, while its p50 is above CANARY_NS.
 */
#define CANARY_NS		300000
#define CANARY_MS		5
#define CANARY_WAIT_MS		100
#define CANARY_TOTAL_WAIT_S	60
#define CANARY_EVERY_MS		2000
#define CANARY_WINDOW		64

struct canary {
	unsigned long checks, waits;
	uint64_t waited_ns;
};

/* Options (main.c). */
struct options {
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
};

/* main.c */
extern struct options opt;
extern int mbx_dev;
extern struct cell *cells;
extern unsigned int nr_cells;
extern struct canary canary;

/* cell.c */
extern struct shared *shared;

/* stats.c: the parent's sort buffer */
extern uint32_t *sort_tmp;

#define MED(c, field)	med_stat(c, offsetof(struct result, field))

/* transport.c: the table */
extern const struct transport *const transports[];
extern const unsigned int nr_transports;

/* tr_fd.c, tr_mq.c, tr_shm.c, tr_mbx.c: the transports */
extern const struct transport tr_pipe;
extern const struct transport tr_unix_stream;
extern const struct transport tr_unix_seqpacket;
extern const struct transport tr_posix_mq;
extern const struct transport tr_mbx_mq;
extern const struct transport tr_efd_shm_2copy;
extern const struct transport tr_efd_shm_0copy;
extern const struct transport tr_futex_shm_2copy;
extern const struct transport tr_mbx_copy;
extern const struct transport tr_mbx_0copy;
extern const struct transport tr_mbx_0copy_sealed;
extern const struct transport tr_mbx_0copy4;
extern const struct transport tr_mbx_rw;
extern const struct transport tr_mbx_call;
extern const struct transport tr_mbx_0copy_call;
extern const struct transport tr_mbx_batch32;
extern const struct transport tr_mbx_topic;
extern const struct transport tr_mbx_topic_rw;
extern const struct transport tr_mbx_topic_0copy;
extern const struct transport tr_efd_shm_fanout;

/* tr_plainring.c, tr_mbxring.c: the rings */
extern const struct transport tr_plain_ring;
extern const struct transport tr_mbx_ring;
extern const struct transport tr_mbx_ring_0copy;
extern const struct transport tr_mbx_ring_batch32;

/* scenario.c */
extern const size_t all_sizes[];
extern const size_t no_size[];
extern const struct scenario scenarios[NR_SC];

/* util.c */
bool in_list(const char *list, const char *name);
const char *size_str(size_t size, char *buf, size_t len);
double median(double *v, unsigned int n);
int write_file(const char *path, const char *fmt, ...);
int read_file(const char *path, char *buf, size_t len);
void fill(void *p, size_t len, uint64_t seq);
int check(const void *p, size_t len, uint64_t seq);

/* cell.c */
void *parent_only(size_t len);
noreturn void child_fail(int err, const char *fmt, ...);
void peer_ready(void);
void rec_init(struct rec *r, unsigned int idx);
bool rec_add(struct rec *r, uint64_t dt, unsigned int count,
	     uint64_t now);
void on_alarm(int sig);
void measure(const struct scenario *sc, const struct transport *t,
	     const struct setup_op *op, size_t size, unsigned int budget,
	     struct result *res);

/* stats.c */
void compute(struct result *res, unsigned int nseg, bool warm_up);
unsigned int pick_rounds(const struct cell *a, const struct cell *b,
			 bool use[MAX_ROUNDS], unsigned int *busy);
double max_stat(const struct cell *c);
double med_stat(const struct cell *c, size_t off);

/* transport.c */
char *alloc_buf(size_t len);
size_t chan_bytes(const struct chan *c);
size_t roundup_pow2(size_t x);
size_t ring_bytes(const struct chan *c);
int attach_buf(struct chan *c, int side);
void close_fds(struct chan *c);

/* sc_rtt.c */
void rtt_client(const struct scenario *sc, struct chan *req,
		struct chan *rep);
void rtt_server(const struct scenario *sc, struct chan *req,
		struct chan *rep);

/* sc_stream.c */
void producer(struct chan *c);
void consumer(struct chan *c, unsigned int idx);

/* sc_pubsub.c */
void publisher(struct chan *ch, unsigned int nch);
void subscriber(struct chan *c, unsigned int idx);

/* sc_idle.c */
void idle_producer(struct chan *c);
void idle_consumer(struct chan *c);

/* sc_setup.c */
void setup_proc(const struct setup_op *op, size_t size);
extern const struct setup_op setup_ops[];

/* sc_calls.c */
extern const struct setup_op call_ops[];

/* main.c */
const char *cell_peer(const struct cell *c);
struct cell *find_cell(unsigned int sc, const char *peer, size_t size);

/* report.c */
void print_tables(void);
void print_csv(void);
void print_header(void);
void print_legend(void);

/* ratios.c */
void build_ratios(void);
void print_ratios(bool csv);

/* env.c */
void prepare_env(void);
void restore_env(void);

#endif /* MBXBENCH_BENCH_H */
