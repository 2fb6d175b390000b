/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the libmailbox-mq selftests (mq_test.c, mq_notify_test.c and
 * their LD_PRELOAD twins): includes, unique queue names, queue creation,
 * deadlines and child processes.  Built into each test program, which
 * defines MQ_PRELOAD when it is an ordinary glibc program.
 */
#ifndef MQ_HELPERS_H
#define MQ_HELPERS_H

#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "mbx_helpers.h"
#ifndef MQ_PRELOAD
#include "mailbox/mqueue.h"
#endif

/* A queue name unique to this test process. */
static inline const char *qname(char buf[64], const char *tag)
{
	snprintf(buf, 64, "/mqt.%s.%d", tag, (int)getpid());
	return buf;
}

/* Whether @mqd is a mailbox port: the library, not the kernel's mq. */
static inline int is_port(mqd_t mqd)
{
	struct mbx_port_info info;

	return t_info(mqd, &info) == 0;
}

/* Create a fresh O_RDWR queue of @maxmsg messages of @msgsize bytes. */
static inline mqd_t qcreate(const char *name, long maxmsg, long msgsize, int flags)
{
	struct mq_attr a = { .mq_maxmsg = maxmsg, .mq_msgsize = msgsize };

	mq_unlink(name);
	return mq_open(name, O_CREAT | O_EXCL | O_RDWR | flags, 0600, &a);
}

/* An absolute CLOCK_REALTIME deadline @ms from now. */
static inline struct timespec rt_in(long ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

static inline pid_t child_send_after(const char *name, int ms, unsigned int prio)
{
	pid_t pid = fork();

	if (pid == 0) {
		mqd_t q = mq_open(name, O_WRONLY);

		if (q < 0)
			_exit(T_BAD_SETUP);
		t_sleep_ms(ms);
		_exit(mq_send(q, "child", 5, prio) ? errno : 0);
	}
	return pid;
}

static inline int wait_exit(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

#endif /* MQ_HELPERS_H */
