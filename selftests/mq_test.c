// SPDX-License-Identifier: GPL-2.0
/*
 * libmailbox-mq: every POSIX mq_* function on mailbox ports, with the
 * errno each failure must give (mq_open(3) and its siblings): names,
 * creation attributes, access modes, priorities 0 and MQ_PRIO_MAX - 1,
 * blocking, O_NONBLOCK, absolute CLOCK_REALTIME deadlines, signals,
 * mq_notify() with SIGEV_SIGNAL, SIGEV_THREAD and SIGEV_NONE, and
 * processes killed while blocked.
 *
 * Built twice: mq_test links libmailbox-mq statically; mq_preload_test
 * (mq_preload_test.c) is this file built as an ordinary glibc program,
 * which runs itself with LD_PRELOAD=libmailbox-mq.so.  Either way the
 * first check of every queue is that its descriptor is a mailbox port, so
 * a run that reached the kernel's own message queues fails.
 */
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
static const char *qname(char buf[64], const char *tag)
{
	snprintf(buf, 64, "/mqt.%s.%d", tag, (int)getpid());
	return buf;
}

/* Whether @mqd is a mailbox port: the library, not the kernel's mq. */
static int is_port(mqd_t mqd)
{
	struct mbx_port_info info;

	return t_info(mqd, &info) == 0;
}

/* Create a fresh O_RDWR queue of @maxmsg messages of @msgsize bytes. */
static mqd_t qcreate(const char *name, long maxmsg, long msgsize, int flags)
{
	struct mq_attr a = { .mq_maxmsg = maxmsg, .mq_msgsize = msgsize };

	mq_unlink(name);
	return mq_open(name, O_CREAT | O_EXCL | O_RDWR | flags, 0600, &a);
}

/* An absolute CLOCK_REALTIME deadline @ms from now. */
static struct timespec rt_in(long ms)
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

static pid_t child_send_after(const char *name, int ms, unsigned int prio)
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

static int wait_exit(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

TEST(create_send_receive)
{
	char name[64], buf[8192];
	unsigned int prio = 99;
	mqd_t q;

	q = qcreate(qname(name, "basic"), 4, 64, 0);
	ASSERT_LE(0, q);
	ASSERT_TRUE(is_port(q));
	ASSERT_EQ(0, mq_send(q, "hello", 5, 3));
	ASSERT_EQ(5, mq_receive(q, buf, 64, &prio));
	EXPECT_EQ(3, prio);
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	EXPECT_EQ(0, mq_send(q, "", 0, 0));
	EXPECT_EQ(0, mq_receive(q, buf, 64, NULL));
	EXPECT_EQ(0, mq_close(q));
	EXPECT_EQ(0, mq_unlink(name));
}

TEST(descriptor_is_cloexec)
{
	char name[64];
	mqd_t q = qcreate(qname(name, "cloexec"), 1, 8, 0);

	ASSERT_LE(0, q);
	EXPECT_TRUE(fcntl(q, F_GETFD) & FD_CLOEXEC);
	mq_close(q);
	mq_unlink(name);
}

TEST(open_existing_and_errors)
{
	char name[64];
	mqd_t q, q2;

	qname(name, "open");
	mq_unlink(name);
	errno = 0;
	EXPECT_EQ(-1, mq_open(name, O_RDWR));
	EXPECT_EQ(ENOENT, errno);
	q = qcreate(name, 2, 16, 0);
	ASSERT_LE(0, q);
	EXPECT_EQ(-1, mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, NULL));
	EXPECT_EQ(EEXIST, errno);
	/* O_CREAT on an existing queue opens it and ignores the attributes. */
	q2 = mq_open(name, O_CREAT | O_WRONLY, 0600, NULL);
	ASSERT_LE(0, q2);
	EXPECT_EQ(0, mq_send(q2, "x", 1, 1));
	EXPECT_EQ(-1, mq_open(name, O_ACCMODE));
	EXPECT_EQ(EINVAL, errno);
	mq_close(q2);
	mq_close(q);
	EXPECT_EQ(0, mq_unlink(name));
	EXPECT_EQ(-1, mq_unlink(name));
	EXPECT_EQ(ENOENT, errno);
}

TEST(bad_names)
{
	char name[300];

	EXPECT_EQ(-1, mq_open("noslash", O_CREAT | O_RDWR, 0600, NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, mq_open("/", O_CREAT | O_RDWR, 0600, NULL));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, mq_open("/a/b", O_CREAT | O_RDWR, 0600, NULL));
	EXPECT_EQ(EACCES, errno);
	name[0] = '/';
	memset(name + 1, 'n', 256);
	name[257] = '\0';
	EXPECT_EQ(-1, mq_open(name, O_CREAT | O_RDWR, 0600, NULL));
	EXPECT_EQ(ENAMETOOLONG, errno);
	EXPECT_EQ(-1, mq_unlink(name));
	EXPECT_EQ(ENAMETOOLONG, errno);
}

/* Names of 64..NAME_MAX bytes work; two that differ only at the end too. */
TEST(long_names)
{
	char a[260], b[260], buf[16];
	mqd_t qa, qb;

	a[0] = '/';
	memset(a + 1, 'l', NAME_MAX);
	snprintf(a + 1 + NAME_MAX - 8, 9, "%08d", (int)getpid());
	strcpy(b, a);
	b[NAME_MAX] = 'X';
	qa = qcreate(a, 2, 16, 0);
	ASSERT_LE(0, qa);
	qb = qcreate(b, 2, 16, O_NONBLOCK);
	ASSERT_LE(0, qb);
	ASSERT_EQ(0, mq_send(qa, "a", 1, 0));
	EXPECT_EQ(-1, mq_receive(qb, buf, 16, NULL));
	EXPECT_EQ(EAGAIN, errno);
	mq_close(qb);
	qb = mq_open(a, O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, qb);
	EXPECT_EQ(1, mq_receive(qb, buf, 16, NULL));
	mq_close(qa);
	mq_close(qb);
	EXPECT_EQ(0, mq_unlink(a));
	EXPECT_EQ(0, mq_unlink(b));
}

TEST(bad_attributes)
{
	struct mq_attr a = { .mq_maxmsg = 0, .mq_msgsize = 8 };
	char name[64];
	mqd_t q, q2;

	qname(name, "attr");
	mq_unlink(name);
	EXPECT_EQ(-1, mq_open(name, O_CREAT | O_RDWR, 0600, &a));
	EXPECT_EQ(EINVAL, errno);
	a.mq_maxmsg = 1;
	a.mq_msgsize = -1;
	EXPECT_EQ(-1, mq_open(name, O_CREAT | O_RDWR, 0600, &a));
	EXPECT_EQ(EINVAL, errno);
	a.mq_msgsize = 0;
	EXPECT_EQ(-1, mq_open(name, O_CREAT | O_RDWR, 0600, &a));
	EXPECT_EQ(EINVAL, errno);
	a.mq_maxmsg = 1L << 40;
	a.mq_msgsize = 8;
	EXPECT_EQ(-1, mq_open(name, O_CREAT | O_RDWR, 0600, &a));
	EXPECT_EQ(EINVAL, errno);
	/* Attributes only matter to a queue being created, as on Linux. */
	q = qcreate(name, 1, 8, 0);
	ASSERT_LE(0, q);
	q2 = mq_open(name, O_CREAT | O_RDWR, 0600, &a);
	EXPECT_LE(0, q2);
	EXPECT_EQ(-1, mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, &a));
	EXPECT_EQ(EEXIST, errno);
	mq_close(q2);
	mq_close(q);
	mq_unlink(name);
}

TEST(default_attributes)
{
	struct mq_attr a;
	char name[64];
	mqd_t q;

	qname(name, "defattr");
	mq_unlink(name);
	q = mq_open(name, O_CREAT | O_RDWR, 0600, NULL);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, mq_getattr(q, &a));
	EXPECT_EQ(10, a.mq_maxmsg);
	EXPECT_EQ(8192, a.mq_msgsize);
	EXPECT_EQ(0, a.mq_curmsgs);
	EXPECT_EQ(0, a.mq_flags);
	mq_close(q);
	mq_unlink(name);
}

TEST(getattr_and_setattr)
{
	struct mq_attr a, old, set = { .mq_flags = O_NONBLOCK, .mq_maxmsg = 99 };
	char name[64], buf[64];
	mqd_t q;

	q = qcreate(qname(name, "setattr"), 4, 64, O_NONBLOCK);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, mq_send(q, "1", 1, 0));
	ASSERT_EQ(0, mq_send(q, "2", 1, 0));
	ASSERT_EQ(0, mq_getattr(q, &a));
	EXPECT_EQ(O_NONBLOCK, a.mq_flags);
	EXPECT_EQ(4, a.mq_maxmsg);
	EXPECT_EQ(64, a.mq_msgsize);
	EXPECT_EQ(2, a.mq_curmsgs);

	set.mq_flags = 0;
	ASSERT_EQ(0, mq_setattr(q, &set, &old));
	EXPECT_EQ(O_NONBLOCK, old.mq_flags);
	EXPECT_EQ(2, old.mq_curmsgs);
	ASSERT_EQ(0, mq_getattr(q, &a));
	EXPECT_EQ(0, a.mq_flags);
	EXPECT_EQ(4, a.mq_maxmsg);	/* only O_NONBLOCK changes */

	set.mq_flags = O_NONBLOCK;
	ASSERT_EQ(0, mq_setattr(q, &set, NULL));
	EXPECT_EQ(1, mq_receive(q, buf, 64, NULL));
	EXPECT_EQ(1, mq_receive(q, buf, 64, NULL));
	EXPECT_EQ(-1, mq_receive(q, buf, 64, NULL));
	EXPECT_EQ(EAGAIN, errno);

	set.mq_flags = O_NONBLOCK | O_APPEND;
	EXPECT_EQ(-1, mq_setattr(q, &set, NULL));
	EXPECT_EQ(EINVAL, errno);
	mq_close(q);
	mq_unlink(name);
}

TEST(access_modes)
{
	char name[64], buf[64];
	mqd_t q, r, w;

	q = qcreate(qname(name, "access"), 2, 64, 0);
	ASSERT_LE(0, q);
	r = mq_open(name, O_RDONLY);
	w = mq_open(name, O_WRONLY);
	ASSERT_LE(0, r);
	ASSERT_LE(0, w);
	EXPECT_EQ(-1, mq_send(r, "x", 1, 0));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, mq_receive(w, buf, 64, NULL));
	EXPECT_EQ(EBADF, errno);
	/* EBADF comes before EMSGSIZE, as on Linux. */
	EXPECT_EQ(-1, mq_receive(w, buf, 1, NULL));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(0, mq_send(w, "x", 1, 0));
	EXPECT_EQ(1, mq_receive(r, buf, 64, NULL));
	mq_close(r);
	mq_close(w);
	mq_close(q);
	mq_unlink(name);
}

/* A queue created O_RDONLY gives its creator a receive-only descriptor. */
TEST(create_rdonly)
{
	struct mq_attr a = { .mq_maxmsg = 2, .mq_msgsize = 8 };
	char name[64];
	mqd_t q;

	qname(name, "crrd");
	mq_unlink(name);
	q = mq_open(name, O_CREAT | O_RDONLY, 0, &a);
	ASSERT_LE(0, q);
	EXPECT_EQ(-1, mq_send(q, "x", 1, 0));
	EXPECT_EQ(EBADF, errno);
	mq_close(q);
	mq_unlink(name);
}

TEST(bad_descriptors)
{
	struct sigevent sev = { .sigev_notify = SIGEV_NONE };
	struct mq_attr a;
	char buf[64];
	int p[2];

	ASSERT_EQ(0, pipe(p));
	EXPECT_EQ(-1, mq_send(-1, "x", 1, 0));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, mq_send(p[1], "x", 1, 0));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, mq_receive(p[0], buf, sizeof(buf), NULL));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, mq_getattr(p[0], &a));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, mq_getattr(INT_MAX - 1, &a));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, mq_notify(p[0], &sev));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, mq_notify(-1, NULL));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, mq_close(-1));
	EXPECT_EQ(EBADF, errno);
	close(p[0]);
	close(p[1]);
}

TEST(message_sizes)
{
	char name[64], buf[128];
	struct timespec ts;
	mqd_t q;

	q = qcreate(qname(name, "size"), 2, 64, O_NONBLOCK);
	ASSERT_LE(0, q);
	EXPECT_EQ(-1, mq_send(q, buf, 65, 0));
	EXPECT_EQ(EMSGSIZE, errno);
	ASSERT_EQ(0, mq_send(q, "abc", 3, 0));
	/* Smaller than mq_msgsize: EMSGSIZE even for a 3-byte message. */
	EXPECT_EQ(-1, mq_receive(q, buf, 63, NULL));
	EXPECT_EQ(EMSGSIZE, errno);
	ts = rt_in(1000);
	EXPECT_EQ(-1, mq_timedreceive(q, buf, 10, NULL, &ts));
	EXPECT_EQ(EMSGSIZE, errno);
	EXPECT_EQ(3, mq_receive(q, buf, 64, NULL));
	mq_close(q);
	mq_unlink(name);
}

TEST(priorities_0_to_32767)
{
	static const unsigned int prios[] = { 0, 32767, 5, 100, 5, 31, 32, 0 };
	static const unsigned int want[] = { 32767, 100, 32, 31, 5, 5, 0, 0 };
	char name[64], buf[64];
	unsigned int i, prio;
	mqd_t q;

	q = qcreate(qname(name, "prio"), 8, 64, O_NONBLOCK);
	ASSERT_LE(0, q);
	for (i = 0; i < 8; i++) {
		buf[0] = (char)i;
		ASSERT_EQ(0, mq_send(q, buf, 1, prios[i]));
	}
	EXPECT_EQ(-1, mq_send(q, buf, 1, MQ_PRIO_MAX));
	EXPECT_EQ(EINVAL, errno);
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(1, mq_receive(q, buf, 64, &prio));
		EXPECT_EQ(want[i], prio);
		/* FIFO within a priority */
		if (i == 4)
			EXPECT_EQ(2, buf[0]);
		if (i == 5)
			EXPECT_EQ(4, buf[0]);
		if (i == 6)
			EXPECT_EQ(0, buf[0]);
	}
	mq_close(q);
	mq_unlink(name);
}

/* Many priorities at once, drained in order: the rbtree of lists. */
TEST(priority_tree_order)
{
	unsigned int i, prio, last = MQ_PRIO_MAX, seq[MQ_PRIO_MAX / 64];
	char name[64];
	uint32_t buf[16];
	mqd_t q;

	memset(seq, 0, sizeof(seq));
	q = qcreate(qname(name, "tree"), 1024, 64, O_NONBLOCK);
	ASSERT_LE(0, q);
	srand(42);
	for (i = 0; i < 1024; i++) {
		buf[0] = (uint32_t)rand() % (MQ_PRIO_MAX / 64) * 64;
		buf[1] = i;
		ASSERT_EQ(0, mq_send(q, (char *)buf, 8, buf[0]));
	}
	for (i = 0; i < 1024; i++) {
		ASSERT_EQ(8, mq_receive(q, (char *)buf, 64, &prio));
		ASSERT_EQ(buf[0], prio);
		ASSERT_GE(last, prio);
		if (prio == last)
			ASSERT_LT(seq[prio / 64], buf[1]);
		seq[prio / 64] = buf[1];
		last = prio;
	}
	mq_close(q);
	mq_unlink(name);
}

TEST(full_queue)
{
	char name[64], buf[64];
	mqd_t q;

	q = qcreate(qname(name, "full"), 2, 64, O_NONBLOCK);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, mq_send(q, "1", 1, 0));
	ASSERT_EQ(0, mq_send(q, "2", 1, 0));
	EXPECT_EQ(-1, mq_send(q, "3", 1, 0));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(1, mq_receive(q, buf, 64, NULL));
	EXPECT_EQ(0, mq_send(q, "3", 1, 0));
	mq_close(q);
	mq_unlink(name);
}

TEST(timed_receive_times_out)
{
	struct timespec ts;
	char name[64], buf[64];
	uint64_t t0;
	mqd_t q;

	q = qcreate(qname(name, "trto"), 2, 64, 0);
	ASSERT_LE(0, q);
	ts = rt_in(150);
	t0 = t_now_ns();
	EXPECT_EQ(-1, mq_timedreceive(q, buf, 64, NULL, &ts));
	EXPECT_EQ(ETIMEDOUT, errno);
	EXPECT_LE(140000000ULL, t_now_ns() - t0);
	/* A deadline in the past still takes a message that is there. */
	ASSERT_EQ(0, mq_send(q, "m", 1, 0));
	ts.tv_sec = 0;
	ts.tv_nsec = 0;
	EXPECT_EQ(1, mq_timedreceive(q, buf, 64, NULL, &ts));
	EXPECT_EQ(-1, mq_timedreceive(q, buf, 64, NULL, &ts));
	EXPECT_EQ(ETIMEDOUT, errno);
	mq_close(q);
	mq_unlink(name);
}

TEST(timed_send_times_out)
{
	struct timespec ts;
	char name[64];
	uint64_t t0;
	mqd_t q;

	q = qcreate(qname(name, "tsto"), 1, 64, 0);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, mq_send(q, "1", 1, 0));
	ts = rt_in(150);
	t0 = t_now_ns();
	EXPECT_EQ(-1, mq_timedsend(q, "2", 1, 0, &ts));
	EXPECT_EQ(ETIMEDOUT, errno);
	EXPECT_LE(140000000ULL, t_now_ns() - t0);
	mq_close(q);
	mq_unlink(name);
}

TEST(timed_invalid_timespec)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 1000000000L };
	char name[64], buf[64];
	mqd_t q;

	q = qcreate(qname(name, "tinv"), 1, 64, 0);
	ASSERT_LE(0, q);
	EXPECT_EQ(-1, mq_timedreceive(q, buf, 64, NULL, &ts));
	EXPECT_EQ(EINVAL, errno);
	ts.tv_nsec = -1;
	EXPECT_EQ(-1, mq_timedsend(q, "x", 1, 0, &ts));
	EXPECT_EQ(EINVAL, errno);
	mq_close(q);
	mq_unlink(name);
}

TEST(blocking_receive_woken_by_sender)
{
	char name[64], buf[64];
	unsigned int prio;
	pid_t pid;
	mqd_t q;

	q = qcreate(qname(name, "block"), 2, 64, 0);
	ASSERT_LE(0, q);
	pid = child_send_after(name, 100, 32767);
	ASSERT_EQ(5, mq_receive(q, buf, 64, &prio));
	EXPECT_EQ(32767, prio);
	EXPECT_EQ(0, wait_exit(pid));
	mq_close(q);
	mq_unlink(name);
}

static void on_alarm(int sig)
{
}

TEST(signal_interrupts_blocked_calls)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct timespec ts;
	char name[64], buf[64];
	mqd_t q;

	q = qcreate(qname(name, "eintr"), 1, 64, 0);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));	/* no SA_RESTART */
	alarm(1);
	EXPECT_EQ(-1, mq_receive(q, buf, 64, NULL));
	EXPECT_EQ(EINTR, errno);
	ASSERT_EQ(0, mq_send(q, "1", 1, 0));
	alarm(1);
	EXPECT_EQ(-1, mq_send(q, "2", 1, 0));
	EXPECT_EQ(EINTR, errno);
	ts = rt_in(10000);
	alarm(1);
	EXPECT_EQ(-1, mq_timedsend(q, "2", 1, 0, &ts));
	EXPECT_EQ(EINTR, errno);
	mq_close(q);
	mq_unlink(name);
}

/* Unlinked, a queue lives on for its descriptors, with no end of stream. */
TEST(unlinked_queue_stays_usable)
{
	char name[64], buf[64];
	mqd_t q, r;

	q = qcreate(qname(name, "unl"), 2, 64, 0);
	ASSERT_LE(0, q);
	r = mq_open(name, O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, r);
	ASSERT_EQ(0, mq_unlink(name));
	EXPECT_EQ(-1, mq_open(name, O_RDWR));
	EXPECT_EQ(ENOENT, errno);
	ASSERT_EQ(0, mq_send(q, "a", 1, 0));
	mq_close(q);
	EXPECT_EQ(1, mq_receive(r, buf, 64, NULL));
	/* No sender is left: still EAGAIN, not end of stream. */
	EXPECT_EQ(-1, mq_receive(r, buf, 64, NULL));
	EXPECT_EQ(EAGAIN, errno);
	mq_close(r);
}

TEST(permissions_and_umask)
{
	struct mbx_port_info info;
	char name[64];
	pid_t pid;
	mqd_t q;

	if (geteuid())
		SKIP(return, "needs root to switch users");
	qname(name, "perm");
	mq_unlink(name);
	umask(077);
	q = mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0644, NULL);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, t_info(q, &info));
	EXPECT_EQ(0600, info.mode);
	pid = fork();
	if (pid == 0) {
		if (setgid(T_GID1) || setuid(T_UID1))
			_exit(T_BAD_SETUP);
		if (mq_open(name, O_RDONLY) >= 0)
			_exit(T_BAD_SUCCESS);
		if (errno != EACCES)
			_exit(errno);
		if (mq_unlink(name) == 0)
			_exit(T_BAD_SUCCESS);
		_exit(errno == EACCES ? 0 : errno);
	}
	EXPECT_EQ(0, wait_exit(pid));
	mq_close(q);
	mq_unlink(name);
}

TEST(poll_on_descriptor)
{
	char name[64], buf[64];
	struct pollfd pfd;
	mqd_t q;

	q = qcreate(qname(name, "poll"), 1, 64, 0);
	ASSERT_LE(0, q);
	pfd.fd = q;
	pfd.events = POLLIN | POLLOUT;
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLOUT, pfd.revents);
	ASSERT_EQ(0, mq_send(q, "a", 1, 0));
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLIN, pfd.revents);
	EXPECT_EQ(1, mq_receive(q, buf, 64, NULL));
	mq_close(q);
	mq_unlink(name);
}

/* A process killed in mq_receive or mq_send leaves the queue as it was. */
TEST(killed_while_blocked)
{
	char name[64], buf[64];
	struct mq_attr a;
	pid_t rx, tx;
	mqd_t q;

	q = qcreate(qname(name, "kill"), 1, 64, 0);
	ASSERT_LE(0, q);
	rx = fork();
	if (rx == 0) {
		mq_receive(q, buf, 64, NULL);
		_exit(T_BAD_SUCCESS);
	}
	ASSERT_EQ(0, T_WAIT(q, recv_waiting, 1));
	kill(rx, SIGKILL);
	EXPECT_EQ(128 + SIGKILL, wait_exit(rx));
	ASSERT_EQ(0, mq_send(q, "1", 1, 7));
	tx = fork();
	if (tx == 0) {
		mq_send(q, "2", 1, 9);
		_exit(T_BAD_SUCCESS);
	}
	ASSERT_EQ(0, T_WAIT(q, send_waiting, 1));
	kill(tx, SIGKILL);
	EXPECT_EQ(128 + SIGKILL, wait_exit(tx));
	ASSERT_EQ(0, mq_getattr(q, &a));
	EXPECT_EQ(1, a.mq_curmsgs);
	EXPECT_EQ(1, mq_receive(q, buf, 64, NULL));
	EXPECT_EQ('1', buf[0]);
	mq_close(q);
	mq_unlink(name);
}

/* ---- mq_notify ------------------------------------------------------ */

/* Block @sig, register it on @q with @value. */
static int notify_signal(mqd_t q, int sig, int value)
{
	struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sev.sigev_signo = sig;
	sev.sigev_value.sival_int = value;
	return mq_notify(q, &sev);
}

/* Wait up to @ms for @sig; its siginfo in @si.  The signal or -1. */
static int wait_signal(int sig, int ms, siginfo_t *si)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, sig);
	return sigtimedwait(&set, si, &ts);
}

TEST(notify_signal_fires_once)
{
	char name[64], buf[64];
	siginfo_t si;
	pid_t pid;
	mqd_t q;

	q = qcreate(qname(name, "nsig"), 4, 64, 0);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, notify_signal(q, SIGUSR1, 4242));
	pid = child_send_after(name, 0, 1);
	ASSERT_EQ(SIGUSR1, wait_signal(SIGUSR1, 5000, &si));
	EXPECT_EQ(SI_MESGQ, si.si_code);
	EXPECT_EQ(4242, si.si_value.sival_int);
	EXPECT_EQ(pid, si.si_pid);
	EXPECT_EQ(getuid(), si.si_uid);
	EXPECT_EQ(0, wait_exit(pid));
	/* One shot: the next message on the empty queue signals nothing. */
	EXPECT_EQ(5, mq_receive(q, buf, 64, NULL));
	ASSERT_EQ(0, mq_send(q, "again", 5, 0));
	EXPECT_EQ(-1, wait_signal(SIGUSR1, 200, &si));
	/* ... and the registration is free again. */
	EXPECT_EQ(0, notify_signal(q, SIGUSR1, 1));
	mq_close(q);
	mq_unlink(name);
}

TEST(notify_not_on_nonempty_queue)
{
	char name[64];
	siginfo_t si;
	mqd_t q;

	q = qcreate(qname(name, "nne"), 4, 64, 0);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, mq_send(q, "1", 1, 0));
	ASSERT_EQ(0, notify_signal(q, SIGUSR2, 0));
	ASSERT_EQ(0, mq_send(q, "2", 1, 0));
	EXPECT_EQ(-1, wait_signal(SIGUSR2, 200, &si));
	mq_close(q);
	mq_unlink(name);
}

static void *receiver_thread(void *arg)
{
	char buf[64];

	return (void *)(intptr_t)mq_receive(*(mqd_t *)arg, buf, 64, NULL);
}

/* A waiting receiver takes the message; the registration stays. */
TEST(notify_not_when_receiver_waits)
{
	char name[64];
	pthread_t t;
	siginfo_t si;
	void *ret;
	mqd_t q;

	q = qcreate(qname(name, "nrw"), 4, 64, 0);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, notify_signal(q, SIGUSR1, 0));
	ASSERT_EQ(0, pthread_create(&t, NULL, receiver_thread, &q));
	ASSERT_EQ(0, T_WAIT(q, recv_waiting, 1));
	ASSERT_EQ(0, mq_send(q, "x", 1, 0));
	pthread_join(t, &ret);
	EXPECT_EQ(1, (intptr_t)ret);
	EXPECT_EQ(-1, wait_signal(SIGUSR1, 200, &si));
	ASSERT_EQ(0, mq_send(q, "y", 1, 0));
	EXPECT_EQ(SIGUSR1, wait_signal(SIGUSR1, 5000, &si));
	mq_close(q);
	mq_unlink(name);
}

TEST(notify_busy_for_another_process)
{
	struct sigevent none = { .sigev_notify = SIGEV_NONE };
	char name[64];
	siginfo_t si;
	pid_t pid;
	mqd_t q;

	q = qcreate(qname(name, "nbusy"), 4, 64, 0);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, notify_signal(q, SIGUSR1, 7));
	EXPECT_EQ(-1, mq_notify(q, &none));
	EXPECT_EQ(EBUSY, errno);
	pid = fork();
	if (pid == 0) {
		mqd_t c = mq_open(name, O_RDWR);

		if (c < 0)
			_exit(T_BAD_SETUP);
		if (mq_notify(c, &none) == 0)
			_exit(T_BAD_SUCCESS);
		if (errno != EBUSY)
			_exit(errno);
		/* Not the owner: succeeds and removes nothing. */
		if (mq_notify(c, NULL))
			_exit(errno);
		_exit(mq_send(c, "x", 1, 0) ? errno : 0);
	}
	EXPECT_EQ(0, wait_exit(pid));
	EXPECT_EQ(SIGUSR1, wait_signal(SIGUSR1, 5000, &si));
	EXPECT_EQ(7, si.si_value.sival_int);
	mq_close(q);
	mq_unlink(name);
}

TEST(notify_unregister_and_close)
{
	char name[64], buf[64];
	siginfo_t si;
	mqd_t q, q2;

	q = qcreate(qname(name, "nunreg"), 4, 64, 0);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, notify_signal(q, SIGUSR1, 0));
	ASSERT_EQ(0, mq_notify(q, NULL));
	EXPECT_EQ(0, mq_notify(q, NULL));
	ASSERT_EQ(0, mq_send(q, "x", 1, 0));
	EXPECT_EQ(-1, wait_signal(SIGUSR1, 200, &si));
	EXPECT_EQ(1, mq_receive(q, buf, 64, NULL));
	/* Closing a descriptor gives the registration up, as on Linux. */
	q2 = mq_open(name, O_RDWR);
	ASSERT_LE(0, q2);
	ASSERT_EQ(0, notify_signal(q2, SIGUSR1, 0));
	ASSERT_EQ(0, mq_close(q2));
	EXPECT_EQ(0, notify_signal(q, SIGUSR1, 0));
	mq_close(q);
	mq_unlink(name);
}

TEST(notify_none)
{
	struct sigevent none = { .sigev_notify = SIGEV_NONE };
	char name[64];
	mqd_t q;

	q = qcreate(qname(name, "nnone"), 4, 64, 0);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, mq_notify(q, &none));
	EXPECT_EQ(-1, mq_notify(q, &none));
	EXPECT_EQ(EBUSY, errno);
	ASSERT_EQ(0, mq_send(q, "x", 1, 0));
	/* Fired (silently): registering works again. */
	EXPECT_EQ(0, mq_notify(q, &none));
	none.sigev_notify = 12345;
	EXPECT_EQ(-1, mq_notify(q, &none));
	EXPECT_EQ(EINVAL, errno);
	mq_close(q);
	mq_unlink(name);
}

static sem_t thread_sem;
static int thread_value;
static pthread_t thread_self;

static void notified(union sigval v)
{
	thread_value = v.sival_int;
	thread_self = pthread_self();
	sem_post(&thread_sem);
}

TEST(notify_thread)
{
	struct sigevent sev = { .sigev_notify = SIGEV_THREAD };
	pthread_attr_t attr;
	struct timespec ts;
	char name[64];
	pid_t pid;
	mqd_t q;

	ASSERT_EQ(0, sem_init(&thread_sem, 0, 0));
	q = qcreate(qname(name, "nthr"), 4, 64, 0);
	ASSERT_LE(0, q);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	sev.sigev_notify_function = notified;
	sev.sigev_notify_attributes = &attr;
	sev.sigev_value.sival_int = 31337;
	ASSERT_EQ(0, mq_notify(q, &sev));
	EXPECT_EQ(-1, mq_notify(q, &sev));
	EXPECT_EQ(EBUSY, errno);
	pid = child_send_after(name, 50, 0);
	ts = rt_in(5000);
	ASSERT_EQ(0, sem_timedwait(&thread_sem, &ts));
	EXPECT_EQ(31337, thread_value);
	EXPECT_FALSE(pthread_equal(thread_self, pthread_self()));
	EXPECT_EQ(0, wait_exit(pid));
	/* Once only; then it can be registered again, and removed. */
	ASSERT_EQ(0, mq_notify(q, &sev));
	ASSERT_EQ(0, mq_notify(q, NULL));
	ASSERT_EQ(0, mq_notify(q, &sev));
	pthread_attr_destroy(&attr);
	mq_close(q);
	mq_unlink(name);
}

#ifndef MQ_PRELOAD
/* ---- the uapi underneath: MBX_PORT_MQ and MBX_IOC_NOTIFY ------------ */

TEST(uapi_mq_port_priorities)
{
	struct mbx_version v;
	unsigned int prio;
	char buf[8];
	int mq, plain;

	ASSERT_EQ(0, mbx_version(MBX_DEV_AUTO, &v));
	EXPECT_TRUE(v.features & MBX_FEAT_MQ);
	EXPECT_TRUE(v.features & MBX_FEAT_NOTIFY);
	mq = t_port(4, 8, 0600, NULL, MBX_PORT_MQ);
	plain = t_anon(4, 8);
	ASSERT_LE(0, mq);
	ASSERT_LE(0, plain);
	EXPECT_EQ(-EINVAL, mbx_send(plain, "x", 1, MBX_PRIO_MAX + 1));
	EXPECT_EQ(0, mbx_send(mq, "x", 1, MBX_MQ_PRIO_MAX));
	EXPECT_EQ(-EINVAL, mbx_send(mq, "x", 1, MBX_MQ_PRIO_MAX + 1));
	EXPECT_EQ(1, mbx_recv(mq, buf, sizeof(buf), &prio));
	EXPECT_EQ(MBX_MQ_PRIO_MAX, prio);
	/* An unknown creation flag (0x2000 is MBX_PORT_TOPIC now). */
	EXPECT_EQ(-EINVAL, t_port(4, 8, 0600, NULL, 0x4000));
	close(mq);
	close(plain);
}

TEST(uapi_notify_checks)
{
	struct {
		struct mbx_notify n;
		uint64_t tail;
	} big;
	struct mbx_notify n;
	int mq, plain;

	mq = t_port(4, 8, 0600, NULL, MBX_PORT_MQ);
	plain = t_anon(4, 8);
	ASSERT_LE(0, mq);
	ASSERT_LE(0, plain);
	memset(&n, 0, sizeof(n));
	n.type = MBX_NOTIFY_NONE;
	EXPECT_EQ(-EINVAL, mbx_notify(plain, &n));
	n.flags = 0x80;
	EXPECT_EQ(-EINVAL, mbx_notify(mq, &n));
	n.flags = MBX_NOTIFY_REMOVE;
	EXPECT_EQ(-EINVAL, mbx_notify(mq, &n));	/* REMOVE with a type */
	n.type = 0;
	EXPECT_EQ(0, mbx_notify(mq, &n));	/* nothing to remove */
	n.flags = 0;
	n.type = 99;
	EXPECT_EQ(-EINVAL, mbx_notify(mq, &n));
	n.type = MBX_NOTIFY_SIGNAL;
	n.signo = 65;
	EXPECT_EQ(-EINVAL, mbx_notify(mq, &n));
	n.type = MBX_NOTIFY_EVENTFD;
	n.signo = 0;
	n.fd = plain;
	EXPECT_EQ(-EINVAL, mbx_notify(mq, &n));	/* not an eventfd */
	n.type = MBX_NOTIFY_NONE;
	n.fd = 0;
	n.reserved = 1;
	EXPECT_EQ(-EINVAL, mbx_notify(mq, &n));
	/* Size-versioned: a larger struct must be zero past ours. */
	memset(&big, 0, sizeof(big));
	big.n.type = MBX_NOTIFY_NONE;
	big.tail = 1;
	EXPECT_EQ(-EINVAL, t_ioctl(mq, _IOW(MBX_IOC_MAGIC, 0x1A, big), &big));
	big.tail = 0;
	EXPECT_EQ(0, t_ioctl(mq, _IOW(MBX_IOC_MAGIC, 0x1A, big), &big));
	n.reserved = 0;
	EXPECT_EQ(-EBUSY, mbx_notify(mq, &n));
	close(mq);
	close(plain);
}

/* The registration goes with the port's last fd, eventfd and all. */
TEST(uapi_notify_eventfd_and_last_close)
{
	struct mbx_notify n = { .type = MBX_NOTIFY_EVENTFD };
	uint64_t count = 0;
	int mq, efd;

	efd = eventfd(0, EFD_NONBLOCK);
	ASSERT_LE(0, efd);
	mq = t_port(4, 8, 0600, NULL, MBX_PORT_MQ);
	ASSERT_LE(0, mq);
	n.fd = efd;
	ASSERT_EQ(0, mbx_notify(mq, &n));
	ASSERT_EQ(0, mbx_send(mq, "x", 1, 0));
	ASSERT_EQ(8, read(efd, &count, 8));
	EXPECT_EQ(1, count);
	ASSERT_EQ(0, mbx_send(mq, "y", 1, 0));
	EXPECT_EQ(-1, read(efd, &count, 8));	/* once only */
	ASSERT_EQ(0, mbx_notify(mq, &n));
	close(mq);				/* frees it: no leak, no splat */
	close(efd);
}

/* Extras of libmailbox-mq: the sender's credentials. */
TEST(receive_credentials)
{
	char name[64], buf[64];
	uid_t uid = 12345;
	pid_t pid, from = 0;
	mqd_t q;

	q = qcreate(qname(name, "cred"), 2, 64, 0);
	ASSERT_LE(0, q);
	pid = child_send_after(name, 0, 0);
	ASSERT_EQ(5, mbx_mq_receive_cred(q, buf, 64, NULL, &from, &uid));
	EXPECT_EQ(pid, from);
	EXPECT_EQ(getuid(), uid);
	EXPECT_EQ(0, wait_exit(pid));
	mq_close(q);
	mq_unlink(name);
}
#endif

TEST_HARNESS_MAIN
