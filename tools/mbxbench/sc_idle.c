// SPDX-License-Identifier: GPL-2.0
/*
 * mbxbench: the idle scenario: a channel with both sides attached and
 * nothing sent for IDLE_NS, the consumer waiting in its receive (a ring
 * spins, then sleeps), the producer idle.  One sample: the CPU time both
 * processes spent meanwhile, from getrusage() on each side.  The producer
 * then sends one message to end the consumer's wait.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

/* CPU time of this process, user and system, ns. */
static uint64_t cpu_ns(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		child_fail(-errno, "getrusage");
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * NSEC_PER_SEC +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ULL;
}

void idle_producer(struct chan *c)
{
	struct timespec ts = {
		.tv_sec = IDLE_NS / NSEC_PER_SEC,
		.tv_nsec = IDLE_NS % NSEC_PER_SEC,
	};
	uint64_t cpu;
	int ret;

	c->t->attach(c, TX);
	peer_ready();
	cpu = cpu_ns();
	while ((ret = clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts)) == EINTR)
		;
	if (ret)
		child_fail(-ret, "clock_nanosleep");
	atomic_store(&shared->idle_cpu, cpu_ns() - cpu);
	ret = c->t->tx(c, 0);
	if (ret < 0)
		child_fail(ret, "%s: send", c->t->name);
	/* A producer that exits fails the cell: wait for the end of it. */
	for (;;)
		pause();
}

void idle_consumer(struct chan *c)
{
	uint64_t cpu, now;
	struct rec r;
	int ret;

	c->t->attach(c, RX);
	rec_init(&r, 0);
	cpu = cpu_ns();
	ret = c->t->rx(c, 0);
	if (ret < 0)
		child_fail(ret, "%s: receive", c->t->name);
	cpu = cpu_ns() - cpu;
	if (opt.verbose)
		fprintf(stderr, "mbxbench: idle %s: consumer %llu us, producer %llu us\n",
			c->t->name, (unsigned long long)cpu / 1000,
			(unsigned long long)atomic_load(&shared->idle_cpu) / 1000);
	cpu += atomic_load(&shared->idle_cpu);
	now = now_ns();
	rec_add(&r, cpu, 1, now);
}
