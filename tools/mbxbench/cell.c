// SPDX-License-Identifier: GPL-2.0
/*
 * mbxbench: one cell: the memory shared with its processes, their samples,
 * their start, and measure(), which opens, forks, waits and closes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

/* ------------------------------------------------------------------------
 * Shared memory between the parent and the processes of one cell
 */

struct shared *shared;

/*
 * Memory of the parent that forked processes do not inherit: mlockall()
 * in a child would otherwise copy every page of it.
 */
void *parent_only(size_t len)
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
noreturn void child_fail(int err, const char *fmt, ...)
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

/* The time budget of the measurement running now, ms. */
static unsigned int budget_ms;

/* A peer has attached to its channel: let the measuring processes start. */
void peer_ready(void)
{
	atomic_fetch_add(&shared->ready, 1);
	syscall(SYS_futex, &shared->ready, FUTEX_WAKE, INT_MAX, NULL, NULL,
		0);
}

void rec_init(struct rec *r, unsigned int idx)
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
bool rec_add(struct rec *r, uint64_t dt, unsigned int count,
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

/* ------------------------------------------------------------------------
 * Running a cell: open, fork, wait, kill, close, then the statistics.
 */

struct proc {
	pid_t pid;
	bool measures;
	bool done;
};

static sig_atomic_t timed_out;

void on_alarm(int sig)
{
	timed_out = 1;
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

/* One cell run: the cell, its channels and its processes. */
struct cell_run {
	const struct scenario *sc;
	const struct setup_op *op;
	size_t size;
	struct chan ch[MAX_SUBS];
	struct proc procs[MAX_SUBS + 1];
	unsigned int nproc;
	unsigned int nmeasure;	/* measuring processes not done yet */
};

/* How many channels a cell of @sc on @t has. */
static unsigned int nr_chans(const struct scenario *sc,
			     const struct transport *t)
{
	if (sc->kind == K_RTT)
		return 2;	/* request and reply */
	if (sc->kind == K_PUBSUB && !t->shared)
		return sc->consumers;	/* one per subscriber */
	return 1;
}

/*
 * Channels: request and reply for round trips, one per subscriber (or one
 * for all) for pub/sub, one for the others.
 */
static int open_chans(struct cell_run *cr, const struct transport *t,
		      unsigned int *nopen)
{
	const struct scenario *sc = cr->sc;
	unsigned int i;
	int err;

	for (i = 0; i < nr_chans(sc, t); i++) {
		struct chan *c = &cr->ch[i];

		c->t = t;
		c->subs = sc->kind == K_PUBSUB && t->shared ? sc->consumers : 0;
		c->size = cr->size;
		c->nonblock = sc->epoll;
		c->e2e = sc->e2e;
		c->acked = sc->kind == K_RTT;
		c->depth = 1;
		if (sc->kind != K_RTT) {
			c->depth = STREAM_DEPTH;
			if (chan_bytes(c) > STREAM_BYTES)
				c->depth = STREAM_BYTES / cr->size;
			/*
			 * Up to 16 channels of them: an eighth each.  A
			 * transport shared by every subscriber (a topic, the
			 * floor) has one channel, sized as one stream's.
			 */
			if (sc->kind == K_PUBSUB && !t->shared &&
			    chan_bytes(c) > STREAM_BYTES / 8)
				c->depth = STREAM_BYTES / 8 / cr->size;
			/*
			 * And at least a pipe's default buffer of them
			 * (64 KiB, what every pipe has anyway), so that a
			 * queue, a topic's backlog or a ring has as much
			 * slack as a pipe.
			 */
			if (cr->size && chan_bytes(c) < PIPE_BUF_BYTES)
				c->depth = PIPE_BUF_BYTES / cr->size;
			if (c->depth < 2)
				c->depth = 2;
		}
		err = t->open(c);
		if (err) {
			snprintf(shared->what, sizeof(shared->what),
				 "%s: open", t->name);
			return err;
		}
		(*nopen)++;
	}
	return 0;
}

/* Process @i of a cell, in the child: pin, lock, play its role, exit. */
static noreturn void run_child(struct cell_run *cr, unsigned int i,
			       bool measures)
{
	const struct scenario *sc = cr->sc;
	struct chan *ch = cr->ch;

	signal(SIGALRM, SIG_DFL);
	alarm(0);
	if (sc->kind == K_SETUP) {
		child_start(0, MCL_CURRENT);
		setup_proc(cr->op, cr->size);
	} else if (sc->kind == K_RTT) {
		/* the client measures, the server serves */
		child_start(measures || sc->one_cpu ? 0 : 1,
			    MCL_CURRENT | MCL_FUTURE);
		if (measures)
			rtt_client(sc, &ch[0], &ch[1]);
		else
			rtt_server(sc, &ch[0], &ch[1]);
	} else if (sc->kind == K_PUBSUB) {
		/* subscribers on CPU 1, the publisher on CPU 0 */
		child_start(measures ? 1 : 0, MCL_CURRENT | MCL_FUTURE);
		if (measures)
			subscriber(&ch[ch[0].t->shared ? 0 : i], i);
		else
			publisher(ch, nr_chans(sc, ch[0].t));
	} else if (sc->kind == K_IDLE) {
		child_start(measures ? 1 : 0, MCL_CURRENT | MCL_FUTURE);
		if (measures)
			idle_consumer(&ch[0]);
		else
			idle_producer(&ch[0]);
	} else {
		child_start(measures ? 1 : 0, MCL_CURRENT | MCL_FUTURE);
		if (measures)
			consumer(&ch[0], i);
		else
			producer(&ch[0]);
	}
	_exit(0);
}

/* Fork the processes: the measuring ones first, then their peers. */
static int fork_procs(struct cell_run *cr)
{
	unsigned int nprod = 0, ncons = 0, i;

	switch (cr->sc->kind) {
	case K_RTT:
	case K_STREAM:
	case K_IDLE:
		nprod = 1;
		ncons = 1;
		break;
	case K_FAN:
		nprod = FAN;
		ncons = cr->sc->consumers;
		break;
	case K_SETUP:
		ncons = 1;
		break;
	case K_PUBSUB:
		nprod = 1;
		ncons = cr->sc->consumers;
		break;
	}
	cr->nmeasure = ncons;
	shared->peers = nprod;
	atomic_store(&shared->ready, 0);
	atomic_store(&shared->finished, 0);
	atomic_store(&shared->idle_cpu, 0);
	for (i = 0; i < ncons + nprod; i++) {
		bool measures = i < ncons;
		pid_t pid = fork();

		if (pid < 0) {
			int err = -errno;

			snprintf(shared->what, sizeof(shared->what), "fork");
			return err;
		}
		if (!pid)
			run_child(cr, i, measures);
		cr->procs[cr->nproc].pid = pid;
		cr->procs[cr->nproc].measures = measures;
		cr->procs[cr->nproc].done = false;
		cr->nproc++;
	}
	return 0;
}

/* A process of the cell exited with @status: 0, or why the cell failed. */
static int reaped(struct cell_run *cr, struct proc *p, int status)
{
	int err;

	p->done = true;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		err = atomic_load(&shared->err);
		if (!err) {
			err = -ECHILD;
			snprintf(shared->what, sizeof(shared->what),
				 "child died (status 0x%x)", status);
		}
		return err;
	}
	if (p->measures) {
		cr->nmeasure--;
		return 0;
	}
	snprintf(shared->what, sizeof(shared->what), "a producer exited");
	return -ECHILD;
}

/*
 * Pub/sub: wait until every subscriber has its samples (they never exit:
 * see subscriber()); any exit is a failure.
 */
static int wait_finished(struct cell_run *cr)
{
	const struct timespec ms = { 0, 1000000 };
	unsigned int i;
	int status;
	pid_t pid;

	while (atomic_load(&shared->finished) < cr->sc->consumers) {
		if (timed_out) {
			snprintf(shared->what, sizeof(shared->what),
				 "cell timed out");
			return -ETIMEDOUT;
		}
		pid = waitpid(-1, &status, WNOHANG);
		for (i = 0; pid > 0 && i < cr->nproc; i++)
			if (cr->procs[i].pid == pid) {
				cr->procs[i].measures = false;
				return reaped(cr, &cr->procs[i], status);
			}
		nanosleep(&ms, NULL);
	}
	return 0;
}

/* Wait for the measuring processes; any other exit is a failure. */
static int wait_procs(struct cell_run *cr)
{
	unsigned int i;
	int err = 0;

	if (cr->sc->kind == K_PUBSUB)
		return wait_finished(cr);

	while (!err && cr->nmeasure) {
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
		for (i = 0; i < cr->nproc; i++) {
			int ret;

			if (cr->procs[i].pid != pid)
				continue;
			ret = reaped(cr, &cr->procs[i], status);
			if (ret)
				err = ret;
		}
	}
	return err;
}

/*
 * Measure one cell: scenario @sc with transport @t (or setup operation @op)
 * and message size @size, for @budget ms.  On failure res->err is set and
 * shared->what says where.
 */
void measure(const struct scenario *sc, const struct transport *t,
	     const struct setup_op *op, size_t size, unsigned int budget,
	     struct result *res)
{
	struct cell_run cr = { .sc = sc, .op = op, .size = size };
	unsigned int nseg = 1, nopen = 0, i;
	int err = 0;

	memset(res, 0, sizeof(*res));
	atomic_store(&shared->err, 0);
	shared->what[0] = '\0';
	budget_ms = budget;

	if (t)
		err = open_chans(&cr, t, &nopen);
	if (err)
		goto out;
	if (sc->kind == K_FAN || sc->kind == K_PUBSUB)
		nseg = sc->consumers;
	for (i = 0; i < nseg; i++) {
		shared->seg[i].n = 0;
		shared->seg[i].cap = MAX_SAMPLES / nseg;
		shared->seg[i].s = shared->sample + i * (MAX_SAMPLES / nseg);
	}

	fflush(NULL);
	timed_out = 0;
	alarm(CELL_TIMEOUT);
	err = fork_procs(&cr);
	if (!err)
		err = wait_procs(&cr);
	alarm(0);
	kill_all(cr.procs, cr.nproc);
out:
	for (i = 0; i < nopen; i++)
		cr.ch[i].t->close(&cr.ch[i]);
	if (!err)
		compute(res, nseg, sc->kind != K_IDLE);
	/* idle: one sample, the CPU time of an idle second; no rate */
	if (!err && sc->kind == K_IDLE)
		res->rate = 0;
	if (err)
		res->err = err;
}
