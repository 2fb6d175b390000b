// SPDX-License-Identifier: GPL-2.0
/*
 * mbxbench: one cell: the memory shared with its processes, their samples,
 * their start, and measure(), which opens, forks, waits and closes.
 */
#define _GNU_SOURCE
#include <errno.h>
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
	syscall(SYS_futex, &shared->ready, FUTEX_WAKE, FAN, NULL, NULL, 0);
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

/*
 * Measure one cell: scenario @sc with transport @t (or setup operation @op)
 * and message size @size, for @budget ms.  On failure res->err is set and
 * shared->what says where.
 */
void measure(const struct scenario *sc, const struct transport *t,
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
