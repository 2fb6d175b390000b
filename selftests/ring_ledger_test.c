// SPDX-License-Identifier: GPL-2.0
/*
 * kill -9 of either side of a ring at random points, with a ledger: every
 * record the producer committed is received exactly once, in order.
 *
 * A producer and a consumer, each a child with a file of its own on the
 * parent's ring port, move RING_MSGS records numbered 0, 1, ...; the
 * parent kills one of them with SIGKILL at random moments and starts a
 * new one, which attaches (the old one's role ended with its file) and
 * goes on.  Both keep a ledger in shared memory that tells a successor
 * where to go on, written so that a kill between any two instructions
 * leaves it exact:
 *
 *   producer: pending = n, pending_pos = its position after record n,
 *             commit, then done = n + 1.  A successor whose ring position
 *             (MBX_IOC_RING_INFO) reached pending_pos knows record n was
 *             committed, and starts at n + 1; else at done.
 *   consumer: peek record n, check it, pending = n, pending_pos = its
 *             position after the record, release, then next = n + 1.
 *             Likewise a successor whose consumer position reached
 *             pending_pos starts at n + 1.  A record peeked but not
 *             released before a kill is read again: it was not received.
 *
 * A record out of order, twice, or with a wrong payload stops the run.
 * Bounded for CI: RING_MSGS records, RING_KILLS kills spread over them,
 * at most RING_SECS seconds.
 * MBX_RING_MSGS and MBX_RING_SECS in the environment override.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "mbx_helpers.h"

#define RING_MSGS	100000
#define RING_KILLS	40
#define RING_SECS	100
#define RSZ		(16 * 1024)
#define MS		1000000ULL

struct ledger {
	/* producer */
	uint64_t p_done;		/* records known committed */
	uint64_t p_pending;		/* the record being committed */
	uint64_t p_pending_pos;		/* the position after it */
	/* consumer */
	uint64_t c_next;		/* records known received */
	uint64_t c_pending;
	uint64_t c_pending_pos;
	uint64_t total;
	int bad;			/* a record was wrong: what */
	uint64_t bad_at;
};

#define L_STORE(f, v)	__atomic_store_n(&(f), (v), __ATOMIC_SEQ_CST)
#define L_LOAD(f)	__atomic_load_n(&(f), __ATOMIC_SEQ_CST)

/* Record n: its number, then bytes derived from it; 8..200 bytes. */
static size_t rec_len(uint64_t n)
{
	return 8 + (n * 2654435761ULL) % 193;
}

static int ring_pos(int fd, uint64_t *prod, uint64_t *cons)
{
	struct mbx_ring_info ri;

	memset(&ri, 0, sizeof(ri));
	if (ioctl(fd, MBX_IOC_RING_INFO, &ri))
		return -errno;
	*prod = ri.now_produced;
	*cons = ri.now_consumed;
	return 0;
}

/* Attach @fd as @role, retrying while the dead one's file goes away. */
static struct mbx_ring *attach_retry(int fd, unsigned int role)
{
	struct mbx_ring *r;
	int i;

	for (i = 0; i < 5000; i++) {
		if (!mbx_ring_attach(fd, role, &r))
			return r;
		if (errno != EBUSY)
			break;
		usleep(1000);
	}
	return NULL;
}

static void producer(int port, struct ledger *l)
{
	uint64_t n, prod, cons, pos;
	struct mbx_ring *p;
	int fd;

	fd = mbx_port_dup(port, MBX_SEND);
	if (fd < 0)
		_exit(T_BAD_SETUP);
	close(port);
	p = attach_retry(fd, MBX_RING_PRODUCER);
	if (!p || ring_pos(fd, &prod, &cons))
		_exit(T_BAD_SETUP);
	/* Where the last one stopped (see the top). */
	n = L_LOAD(l->p_done);
	if (L_LOAD(l->p_pending) == n && prod >= L_LOAD(l->p_pending_pos) &&
	    L_LOAD(l->p_pending_pos))
		n++;
	L_STORE(l->p_done, n);
	pos = prod;
	while (n < l->total) {
		size_t len = rec_len(n), i;
		uint8_t *q;

		q = mbx_ring_reserve(p, len, 100 * MS);
		if (!q) {
			/* The consumer was killed: a new one comes. */
			if (errno == EPIPE || errno == ETIMEDOUT) {
				usleep(1000);
				continue;
			}
			_exit(errno);
		}
		memcpy(q, &n, sizeof(n));
		for (i = 8; i < len; i++)
			q[i] = (uint8_t)(n + i);
		pos += 8 + ((len + 7) & ~7UL);
		L_STORE(l->p_pending_pos, pos);
		L_STORE(l->p_pending, n);
		if (mbx_ring_commit(p))
			_exit(errno);
		L_STORE(l->p_done, ++n);
	}
	_exit(0);
}

static void consumer(int port, struct ledger *l)
{
	uint64_t n, prod, cons, pos;
	struct mbx_ring *c;
	int fd;

	fd = mbx_port_dup(port, MBX_RECV);
	if (fd < 0)
		_exit(T_BAD_SETUP);
	close(port);
	c = attach_retry(fd, MBX_RING_CONSUMER);
	if (!c || ring_pos(fd, &prod, &cons))
		_exit(T_BAD_SETUP);
	n = L_LOAD(l->c_next);
	if (L_LOAD(l->c_pending) == n && cons >= L_LOAD(l->c_pending_pos) &&
	    L_LOAD(l->c_pending_pos))
		n++;
	L_STORE(l->c_next, n);
	pos = cons;
	while (n < l->total) {
		const uint8_t *q;
		uint64_t got;
		size_t len, i;

		q = mbx_ring_peek(c, &len, 100 * MS);
		if (!q) {
			/* The producer was killed: a new one comes. */
			if (errno == EPIPE || errno == ETIMEDOUT) {
				usleep(1000);
				continue;
			}
			_exit(errno);
		}
		memcpy(&got, q, sizeof(got));
		if (got != n || len != rec_len(n)) {
			L_STORE(l->bad_at, n);
			L_STORE(l->bad, got < n ? 1 : 2);
			_exit(T_BAD_DATA);
		}
		for (i = 8; i < len; i++)
			if (q[i] != (uint8_t)(n + i)) {
				L_STORE(l->bad_at, n);
				L_STORE(l->bad, 3);
				_exit(T_BAD_DATA);
			}
		pos += 8 + ((len + 7) & ~7UL);
		L_STORE(l->c_pending_pos, pos);
		L_STORE(l->c_pending, n);
		if (mbx_ring_release(c))
			_exit(errno);
		L_STORE(l->c_next, ++n);
	}
	_exit(0);
}

static pid_t start(int port, struct ledger *l, bool prod)
{
	pid_t pid = t_fork();

	if (!pid) {
		if (prod)
			producer(port, l);
		consumer(port, l);
	}
	return pid;
}

static uint64_t env_or(const char *name, uint64_t dflt)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : dflt;
}

/*
 * A child that ended by itself with a failure, or 0.  A child found ended
 * is reaped here, and *@pid becomes 0 so that nobody reaps it again.
 */
static int failed(pid_t *pid)
{
	int st;

	if (*pid <= 0 || waitpid(*pid, &st, WNOHANG) != *pid)
		return 0;
	*pid = 0;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

FIXTURE(ledger) {
	int unused;
};

FIXTURE_SETUP(ledger)
{
}

FIXTURE_TEARDOWN(ledger)
{
}

TEST_F_TIMEOUT(ledger, kill_either_side_every_record_once_in_order, 600)
{
	uint64_t total = env_or("MBX_RING_MSGS", RING_MSGS);
	uint64_t secs = env_or("MBX_RING_SECS", RING_SECS);
	uint64_t end, seed = 0x1234567, kills = 0, last;
	pid_t pp, cp;
	struct ledger *l;
	int port, st, why = 0;

	l = mmap(NULL, sizeof(*l), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, l);
	l->total = total;
	port = mbx_ring_port_create(MBX_DEV_AUTO, NULL, RSZ, 0600, 0);
	ASSERT_LE(0, port);
	pp = start(port, l, true);
	cp = start(port, l, false);
	ASSERT_LT(0, pp);
	ASSERT_LT(0, cp);

	end = t_now_ns() + secs * 1000000000ULL;
	while (L_LOAD(l->c_next) < total && !L_LOAD(l->bad) &&
	       t_now_ns() < end) {
		/*
		 * The kills are spread over the records (the k-th once about
		 * k / (RING_KILLS + 1) of them went through), each at a
		 * random moment after that.
		 */
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		if (kills < RING_KILLS &&
		    L_LOAD(l->c_next) >= total * (kills + 1) / (RING_KILLS + 1)) {
			usleep((seed >> 33) % 2000);
			kills++;
			/*
			 * Only SIGKILL, or a side done (0), is ours: an
			 * exit code or another signal (SIGSEGV, SIGBUS just
			 * before the kill) is its own failure.
			 */
			if ((seed >> 20) & 1 && pp > 0) {
				kill(pp, SIGKILL);
				if (waitpid(pp, &st, 0) == pp && st &&
				    !(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)) {
					why = WIFEXITED(st) ? WEXITSTATUS(st) :
					      128 + WTERMSIG(st);
					pp = 0;
					break;	/* it had failed on its own */
				}
				pp = L_LOAD(l->p_done) < total ?
				     start(port, l, true) : 0;
			} else if (cp > 0) {
				kill(cp, SIGKILL);
				if (waitpid(cp, &st, 0) == cp && st &&
				    !(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)) {
					why = WIFEXITED(st) ? WEXITSTATUS(st) :
					      128 + WTERMSIG(st);
					cp = 0;
					break;
				}
				cp = start(port, l, false);
			}
			continue;
		}
		why = failed(&pp) ?: failed(&cp);
		if (why)
			break;
		usleep(200);
	}
	last = L_LOAD(l->c_next);
	TH_LOG("%llu of %llu records received, %llu kills",
	       (unsigned long long)last, (unsigned long long)total,
	       (unsigned long long)kills);
	EXPECT_EQ(0, why);
	EXPECT_EQ(0, L_LOAD(l->bad));
	if (L_LOAD(l->bad))
		TH_LOG("record %llu: %s", (unsigned long long)L_LOAD(l->bad_at),
		       l->bad == 1 ? "received twice" :
		       l->bad == 2 ? "one skipped" : "payload wrong");
	EXPECT_EQ(total, last);
	EXPECT_LT(0, kills);
	if (cp > 0)
		EXPECT_EQ(0, t_reap(cp));
	if (pp > 0)
		EXPECT_EQ(0, t_reap(pp));
	close(port);
}

TEST_HARNESS_MAIN
