// SPDX-License-Identifier: GPL-2.0
/*
 * Timeouts and signals: MBX_TIMEOUT (relative and MBX_ABSTIME, both on
 * CLOCK_MONOTONIC) never expires early and ends within a bound; a timeout of
 * 0 or an absolute time in the past fails at once only if the call would
 * block; a signal makes an untimed call, or one with an absolute
 * deadline, fail with EINTR (no SA_RESTART) or restart (SA_RESTART, or a
 * stop signal), and a call with a relative timeout fail with EINTR; a call
 * that fails leaves the queue exactly as it was.  An absolute deadline is read on
 * the caller's CLOCK_MONOTONIC, that of its time namespace.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "kselftest_harness.h"
#include "mbx_helpers.h"

#define MS		1000000ULL
#define TIMEOUT_NS	(200 * MS)
/* How late a timeout may end under emulation. */
#define SLACK_NS	(1000 * MS)

static long recv_timed(int fd, uint32_t flags, uint64_t timeout_ns)
{
	struct mbx_recv r;
	char buf[64];

	memset(&r, 0, sizeof(r));
	r.buf = (uintptr_t)buf;
	r.len = sizeof(buf);
	r.flags = flags;
	r.timeout_ns = timeout_ns;
	return t_ioctl(fd, MBX_IOC_RECV, &r);
}

static long send_timed(int fd, const char *s, uint32_t flags,
		       uint64_t timeout_ns)
{
	struct mbx_send a;

	memset(&a, 0, sizeof(a));
	a.buf = (uintptr_t)s;
	a.len = strlen(s);
	a.flags = flags;
	a.timeout_ns = timeout_ns;
	return t_ioctl(fd, MBX_IOC_SEND, &a);
}

/* A port with capacity 1, already full with "q". */
static int full_port(void)
{
	int fd = t_anon(1, 64);

	if (fd >= 0 && t_send_str(fd, "q", 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

TEST(relative_recv_timeout_is_never_early)
{
	uint64_t t0, dt;
	int fd = t_anon(2, 64);

	ASSERT_LE(0, fd);
	t0 = t_now_ns();
	EXPECT_EQ(-ETIMEDOUT, recv_timed(fd, MBX_TIMEOUT, TIMEOUT_NS));
	dt = t_now_ns() - t0;
	EXPECT_LE(TIMEOUT_NS, dt);
	EXPECT_GT(TIMEOUT_NS + SLACK_NS, dt);
	EXPECT_EQ(0, T_INFO(fd, recv_waiting));
}

TEST(absolute_recv_timeout_is_never_early)
{
	uint64_t deadline, end;
	int fd = t_anon(2, 64);

	ASSERT_LE(0, fd);
	deadline = t_now_ns() + TIMEOUT_NS;
	EXPECT_EQ(-ETIMEDOUT, recv_timed(fd, MBX_TIMEOUT | MBX_ABSTIME,
					 deadline));
	end = t_now_ns();
	EXPECT_LE(deadline, end);
	EXPECT_GT(deadline + SLACK_NS, end);
}

TEST(relative_send_timeout_on_full_queue_is_never_early)
{
	uint64_t t0, dt;
	int fd = full_port();

	ASSERT_LE(0, fd);
	t0 = t_now_ns();
	EXPECT_EQ(-ETIMEDOUT, send_timed(fd, "x", MBX_TIMEOUT, TIMEOUT_NS));
	dt = t_now_ns() - t0;
	EXPECT_LE(TIMEOUT_NS, dt);
	EXPECT_GT(TIMEOUT_NS + SLACK_NS, dt);
	EXPECT_EQ(0, T_INFO(fd, send_waiting));
}

TEST(absolute_send_timeout_on_full_queue_is_never_early)
{
	uint64_t deadline, end;
	int fd = full_port();

	ASSERT_LE(0, fd);
	deadline = t_now_ns() + TIMEOUT_NS;
	EXPECT_EQ(-ETIMEDOUT, send_timed(fd, "x", MBX_TIMEOUT | MBX_ABSTIME,
					 deadline));
	end = t_now_ns();
	EXPECT_LE(deadline, end);
	EXPECT_GT(deadline + SLACK_NS, end);
}

TEST(rendezvous_send_timeout_is_never_early)
{
	uint64_t t0, dt;
	int fd = t_anon(0, 64);

	ASSERT_LE(0, fd);
	t0 = t_now_ns();
	EXPECT_EQ(-ETIMEDOUT, send_timed(fd, "x", MBX_TIMEOUT, TIMEOUT_NS));
	dt = t_now_ns() - t0;
	EXPECT_LE(TIMEOUT_NS, dt);
	EXPECT_GT(TIMEOUT_NS + SLACK_NS, dt);
}

TEST(library_timed_calls_time_out)
{
	uint64_t t0, dt;
	char buf[8];
	int fd = full_port();

	ASSERT_LE(0, fd);
	t0 = t_now_ns();
	EXPECT_EQ(-ETIMEDOUT, mbx_send_timed(fd, "x", 1, 0, TIMEOUT_NS));
	dt = t_now_ns() - t0;
	EXPECT_LE(TIMEOUT_NS, dt);
	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	t0 = t_now_ns();
	EXPECT_EQ(-ETIMEDOUT, mbx_recv_timed(fd, buf, sizeof(buf), NULL,
					     TIMEOUT_NS));
	dt = t_now_ns() - t0;
	EXPECT_LE(TIMEOUT_NS, dt);
}

TEST(zero_timeout_recv_on_empty_queue_fails_at_once)
{
	uint64_t t0;
	int fd = t_anon(2, 64);

	ASSERT_LE(0, fd);
	t0 = t_now_ns();
	EXPECT_EQ(-ETIMEDOUT, recv_timed(fd, MBX_TIMEOUT, 0));
	EXPECT_GT(SLACK_NS, t_now_ns() - t0);
	EXPECT_EQ(0, T_INFO(fd, recv_waiting));
}

TEST(zero_timeout_send_on_full_queue_fails_at_once)
{
	uint64_t t0;
	int fd = full_port();

	ASSERT_LE(0, fd);
	t0 = t_now_ns();
	EXPECT_EQ(-ETIMEDOUT, send_timed(fd, "x", MBX_TIMEOUT, 0));
	EXPECT_GT(SLACK_NS, t_now_ns() - t0);
	EXPECT_EQ(1, T_INFO(fd, queued));
	EXPECT_EQ(1, T_INFO(fd, sent));
}

TEST(zero_timeout_succeeds_when_call_would_not_block)
{
	int fd = t_anon(1, 64);

	ASSERT_LE(0, fd);
	EXPECT_EQ(0, send_timed(fd, "a", MBX_TIMEOUT, 0));
	EXPECT_LE(0, recv_timed(fd, MBX_TIMEOUT, 0));
	EXPECT_EQ(1, T_INFO(fd, received));
}

TEST(past_absolute_timeout_fails_at_once_when_it_would_block)
{
	uint64_t t0, past;
	int fd = full_port();

	ASSERT_LE(0, fd);
	t0 = t_now_ns();
	past = t0 > 1000 * MS ? t0 - 1000 * MS : 0;
	EXPECT_EQ(-ETIMEDOUT, send_timed(fd, "x", MBX_TIMEOUT | MBX_ABSTIME,
					 past));
	EXPECT_EQ(-ETIMEDOUT, send_timed(fd, "x", MBX_TIMEOUT | MBX_ABSTIME, 0));
	EXPECT_GT(SLACK_NS, t_now_ns() - t0);
	/* would not block: succeeds despite the past deadline */
	EXPECT_LE(0, recv_timed(fd, MBX_TIMEOUT | MBX_ABSTIME, past));
	t0 = t_now_ns();
	EXPECT_EQ(-ETIMEDOUT, recv_timed(fd, MBX_TIMEOUT | MBX_ABSTIME, past));
	EXPECT_GT(SLACK_NS, t_now_ns() - t0);
}

TEST(timed_out_send_sends_nothing)
{
	char buf[8];
	int fd = full_port();

	ASSERT_LE(0, fd);
	EXPECT_EQ(-ETIMEDOUT, send_timed(fd, "x", MBX_TIMEOUT, 50 * MS));
	EXPECT_EQ(1, T_INFO(fd, queued));
	EXPECT_EQ(1, T_INFO(fd, sent));
	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("q", buf);
	EXPECT_EQ(-EAGAIN, t_recv_str(fd, buf, sizeof(buf), NULL));
}

TEST(timed_out_rendezvous_send_sends_nothing)
{
	char buf[8];
	pid_t pid;
	int fd = t_anon(0, 64);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-ETIMEDOUT, send_timed(fd, "x", MBX_TIMEOUT, 50 * MS));
	EXPECT_EQ(0, T_INFO(fd, send_waiting));
	EXPECT_EQ(0, T_INFO(fd, sent));
	/* a receiver arriving later finds nothing */
	EXPECT_EQ(-EAGAIN, t_recv_str(fd, buf, sizeof(buf), NULL));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(t_code(recv_timed(fd, MBX_TIMEOUT, 300 * MS)));
	EXPECT_EQ(ETIMEDOUT, t_reap(pid));
}

TEST(timed_recv_gets_message_sent_before_deadline)
{
	pid_t pid;
	int fd = t_anon(2, 64);

	ASSERT_LE(0, fd);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(t_code(recv_timed(fd, MBX_TIMEOUT, 20000 * MS)));
	ASSERT_EQ(0, T_WAIT(fd, recv_waiting, 1));
	ASSERT_EQ(0, t_send_str(fd, "m", 0));
	EXPECT_EQ(0, t_reap(pid));
	EXPECT_EQ(0, T_INFO(fd, queued));
}

TEST(timed_send_completes_when_room_frees_before_deadline)
{
	char buf[8];
	pid_t pid;
	int fd = full_port();

	ASSERT_LE(0, fd);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(t_code(send_timed(fd, "s", MBX_TIMEOUT, 20000 * MS)));
	ASSERT_EQ(0, T_WAIT(fd, send_waiting, 1));
	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_EQ(0, t_reap(pid));
	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("s", buf);
}

TEST(huge_timeouts_do_not_expire)
{
	pid_t rel, abs;
	int fd = t_anon(2, 64);

	ASSERT_LE(0, fd);
	rel = t_fork();
	ASSERT_LE(0, rel);
	if (rel == 0)
		_exit(t_code(recv_timed(fd, MBX_TIMEOUT, ~0ULL)));
	ASSERT_EQ(0, T_WAIT(fd, recv_waiting, 1));
	abs = t_fork();
	ASSERT_LE(0, abs);
	if (abs == 0)
		_exit(t_code(recv_timed(fd, MBX_TIMEOUT | MBX_ABSTIME, ~0ULL)));
	ASSERT_EQ(0, T_WAIT(fd, recv_waiting, 2));
	EXPECT_TRUE(t_stays_blocked(rel));
	EXPECT_TRUE(t_alive(abs));
	ASSERT_EQ(0, t_send_str(fd, "1", 0));
	ASSERT_EQ(0, t_send_str(fd, "2", 0));
	EXPECT_EQ(0, t_reap(rel));
	EXPECT_EQ(0, t_reap(abs));
}

/* ---- signals ------------------------------------------------------------ */

static int *handler_hits;

static void count_hit(int sig)
{
	(void)sig;
	if (handler_hits)
		__atomic_add_fetch(handler_hits, 1, __ATOMIC_SEQ_CST);
}

/* Wait (bounded) until a child's signal handler has run @n times. */
static int wait_hits(int *hits, int n)
{
	uint64_t end = t_now_ns() + T_WAIT_MS * MS;

	while (__atomic_load_n(hits, __ATOMIC_SEQ_CST) < n) {
		if (t_now_ns() > end)
			return -ETIMEDOUT;
		usleep(1000);
	}
	return 0;
}

TEST(signal_interrupts_untimed_recv_with_eintr)
{
	char buf[8];
	pid_t pid;
	int fd = t_anon(2, 64);

	ASSERT_LE(0, fd);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (t_handle(SIGUSR1, NULL, 0))
			_exit(T_BAD_SETUP);
		_exit(t_code(mbx_recv(fd, buf, sizeof(buf), NULL)));
	}
	ASSERT_EQ(0, T_WAIT(fd, recv_waiting, 1));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	EXPECT_EQ(EINTR, t_reap(pid));
	EXPECT_EQ(0, T_INFO(fd, recv_waiting));
	/* the interrupted receiver took nothing that comes later */
	ASSERT_EQ(0, t_send_str(fd, "m", 0));
	EXPECT_EQ(1, T_INFO(fd, queued));
	EXPECT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
}

TEST(signal_interrupts_untimed_send_with_eintr_and_queue_unchanged)
{
	char buf[8];
	pid_t pid;
	int fd = t_anon(2, 64);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_str(fd, "a", 0));
	ASSERT_EQ(0, t_send_str(fd, "b", 3));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (t_handle(SIGUSR1, NULL, 0))
			_exit(T_BAD_SETUP);
		_exit(t_code(t_send_str(fd, "c", 9)));
	}
	ASSERT_EQ(0, T_WAIT(fd, send_waiting, 1));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	EXPECT_EQ(EINTR, t_reap(pid));
	EXPECT_EQ(0, T_INFO(fd, send_waiting));
	EXPECT_EQ(2, T_INFO(fd, queued));
	EXPECT_EQ(2, T_INFO(fd, sent));
	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("b", buf);
	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("a", buf);
	EXPECT_EQ(-EAGAIN, t_recv_str(fd, buf, sizeof(buf), NULL));
}

TEST(signal_interrupts_rendezvous_send_and_sends_nothing)
{
	char buf[8];
	pid_t pid;
	int fd = t_anon(0, 64);

	ASSERT_LE(0, fd);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (t_handle(SIGUSR1, NULL, 0))
			_exit(T_BAD_SETUP);
		_exit(t_code(t_send_str(fd, "r", 0)));
	}
	ASSERT_EQ(0, T_WAIT(fd, send_waiting, 1));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	EXPECT_EQ(EINTR, t_reap(pid));
	EXPECT_EQ(0, T_INFO(fd, send_waiting));
	EXPECT_EQ(0, T_INFO(fd, sent));
	EXPECT_EQ(-EAGAIN, t_recv_str(fd, buf, sizeof(buf), NULL));
}

TEST(sa_restart_restarts_untimed_recv)
{
	int *hits = t_shared(sizeof(int));
	pid_t pid;
	int fd = t_anon(2, 64);

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, hits);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char buf[8];
		ssize_t n;

		handler_hits = hits;
		if (t_handle(SIGUSR1, count_hit, SA_RESTART))
			_exit(T_BAD_SETUP);
		n = mbx_recv(fd, buf, sizeof(buf), NULL);
		if (n < 0)
			_exit(t_code(n));
		_exit(n == 1 && buf[0] == 'X' ? 0 : T_BAD_DATA);
	}
	ASSERT_EQ(0, T_WAIT(fd, recv_waiting, 1));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	ASSERT_EQ(0, wait_hits(hits, 1));
	ASSERT_EQ(0, T_WAIT(fd, recv_waiting, 1));
	EXPECT_TRUE(t_stays_blocked(pid));
	ASSERT_EQ(0, t_send_str(fd, "X", 0));
	EXPECT_EQ(0, t_reap(pid));
	EXPECT_EQ(0, T_INFO(fd, queued));
}

TEST(sa_restart_restarts_untimed_read)
{
	int *hits = t_shared(sizeof(int));
	pid_t pid;
	int fd = t_anon(2, 64);

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, hits);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char buf[8];
		ssize_t n;

		handler_hits = hits;
		if (t_handle(SIGUSR1, count_hit, SA_RESTART))
			_exit(T_BAD_SETUP);
		n = read(fd, buf, sizeof(buf));
		if (n < 0)
			_exit(errno);
		_exit(n == 1 && buf[0] == 'Y' ? 0 : T_BAD_DATA);
	}
	ASSERT_EQ(0, T_WAIT(fd, recv_waiting, 1));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	ASSERT_EQ(0, wait_hits(hits, 1));
	ASSERT_EQ(0, T_WAIT(fd, recv_waiting, 1));
	EXPECT_TRUE(t_stays_blocked(pid));
	ASSERT_EQ(1, write(fd, "Y", 1));
	EXPECT_EQ(0, t_reap(pid));
}

TEST(sa_restart_restarts_untimed_send_which_sends_once)
{
	int *hits = t_shared(sizeof(int));
	char buf[8];
	pid_t pid;
	int fd = full_port();

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, hits);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		handler_hits = hits;
		if (t_handle(SIGUSR1, count_hit, SA_RESTART))
			_exit(T_BAD_SETUP);
		_exit(t_code(t_send_str(fd, "s", 0)));
	}
	ASSERT_EQ(0, T_WAIT(fd, send_waiting, 1));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	ASSERT_EQ(0, wait_hits(hits, 1));
	ASSERT_EQ(0, T_WAIT(fd, send_waiting, 1));
	EXPECT_TRUE(t_stays_blocked(pid));
	EXPECT_EQ(1, T_INFO(fd, queued));

	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("q", buf);
	EXPECT_EQ(0, t_reap(pid));
	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("s", buf);
	EXPECT_EQ(-EAGAIN, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_EQ(2, T_INFO(fd, sent));
}

TEST(timed_recv_fails_eintr_even_with_sa_restart)
{
	pid_t pid;
	int fd = t_anon(2, 64);

	ASSERT_LE(0, fd);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint64_t t0;
		long ret;

		if (t_handle(SIGUSR1, NULL, SA_RESTART))
			_exit(T_BAD_SETUP);
		t0 = t_now_ns();
		ret = recv_timed(fd, MBX_TIMEOUT, 5000 * MS);
		if (ret == -EINTR && t_now_ns() - t0 >= 5000 * MS)
			_exit(T_BAD_DATA);
		_exit(t_code(ret));
	}
	ASSERT_EQ(0, T_WAIT(fd, recv_waiting, 1));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	EXPECT_EQ(EINTR, t_reap(pid));
	EXPECT_EQ(0, T_INFO(fd, recv_waiting));
}

/*
 * An absolute deadline holds across a restart: a timed call with
 * MBX_ABSTIME that a signal ends restarts as an untimed one does (the
 * handler's SA_RESTART), as mq_timedreceive() does on Linux.
 */
TEST(abstime_recv_restarts_with_sa_restart)
{
	int *hits = t_shared(sizeof(int));
	pid_t pid;
	int fd = t_anon(2, 64);

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, hits);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		handler_hits = hits;
		if (t_handle(SIGUSR1, count_hit, SA_RESTART))
			_exit(T_BAD_SETUP);
		_exit(t_code(recv_timed(fd, MBX_TIMEOUT | MBX_ABSTIME,
					t_now_ns() + 20000 * MS)));
	}
	ASSERT_EQ(0, T_WAIT(fd, recv_waiting, 1));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	ASSERT_EQ(0, wait_hits(hits, 1));
	ASSERT_EQ(0, T_WAIT(fd, recv_waiting, 1));
	EXPECT_TRUE(t_stays_blocked(pid));
	ASSERT_EQ(0, t_send_str(fd, "X", 0));
	EXPECT_EQ(0, t_reap(pid));
	EXPECT_EQ(0, T_INFO(fd, queued));
}

/* So does a receive batch, which has taken nothing when it waits. */
TEST(abstime_recv_batch_restarts_with_sa_restart)
{
	int *hits = t_shared(sizeof(int));
	pid_t pid;
	int fd = t_anon(2, 64);

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, hits);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct mbx_recv r[2];
		struct mbx_batch b;
		char buf[2][64];
		long ret;

		handler_hits = hits;
		if (t_handle(SIGUSR1, count_hit, SA_RESTART))
			_exit(T_BAD_SETUP);
		memset(r, 0, sizeof(r));
		r[0].buf = (uintptr_t)buf[0];
		r[0].len = sizeof(buf[0]);
		r[1].buf = (uintptr_t)buf[1];
		r[1].len = sizeof(buf[1]);
		memset(&b, 0, sizeof(b));
		b.msgs = (uintptr_t)r;
		b.count = 2;
		b.flags = MBX_TIMEOUT | MBX_ABSTIME;
		b.timeout_ns = t_now_ns() + 20000 * MS;
		b.entry_size = sizeof(r[0]);
		ret = t_ioctl(fd, MBX_IOC_RECV_BATCH, &b);
		_exit(ret == 1 && buf[0][0] == 'X' ? 0 :
		      ret < 0 ? t_code(ret) : T_BAD_DATA);
	}
	ASSERT_EQ(0, T_WAIT(fd, recv_waiting, 1));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	ASSERT_EQ(0, wait_hits(hits, 1));
	ASSERT_EQ(0, T_WAIT(fd, recv_waiting, 1));
	EXPECT_TRUE(t_stays_blocked(pid));
	ASSERT_EQ(0, t_send_str(fd, "X", 0));
	EXPECT_EQ(0, t_reap(pid));
	EXPECT_EQ(0, T_INFO(fd, queued));
}

/* ... and a stop signal (no handler runs) does not end it at all. */
TEST(abstime_recv_goes_on_after_sigstop)
{
	pid_t pid;
	int fd = t_anon(2, 64);

	ASSERT_LE(0, fd);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(t_code(recv_timed(fd, MBX_TIMEOUT | MBX_ABSTIME,
					t_now_ns() + 20000 * MS)));
	ASSERT_EQ(0, T_WAIT(fd, recv_waiting, 1));
	ASSERT_EQ(0, kill(pid, SIGSTOP));
	ASSERT_EQ(0, T_WAIT(fd, recv_waiting, 0));
	ASSERT_EQ(0, kill(pid, SIGCONT));
	ASSERT_EQ(0, T_WAIT(fd, recv_waiting, 1));
	EXPECT_TRUE(t_stays_blocked(pid));
	ASSERT_EQ(0, t_send_str(fd, "X", 0));
	EXPECT_EQ(0, t_reap(pid));
}

/* A restarted absolute-deadline send sends once, and times out on time. */
TEST(abstime_send_restarts_with_sa_restart_and_sends_once)
{
	int *hits = t_shared(sizeof(int));
	char buf[8];
	pid_t pid;
	int fd = full_port();

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, hits);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		handler_hits = hits;
		if (t_handle(SIGUSR1, count_hit, SA_RESTART))
			_exit(T_BAD_SETUP);
		_exit(t_code(send_timed(fd, "s", MBX_TIMEOUT | MBX_ABSTIME,
					t_now_ns() + 20000 * MS)));
	}
	ASSERT_EQ(0, T_WAIT(fd, send_waiting, 1));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	ASSERT_EQ(0, wait_hits(hits, 1));
	ASSERT_EQ(0, T_WAIT(fd, send_waiting, 1));
	EXPECT_TRUE(t_stays_blocked(pid));
	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("q", buf);
	EXPECT_EQ(0, t_reap(pid));
	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("s", buf);
	EXPECT_EQ(2, T_INFO(fd, sent));

	/* Restarted past its deadline, it still ends in ETIMEDOUT. */
	ASSERT_EQ(0, t_send_str(fd, "q", 0));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint64_t end = t_now_ns() + TIMEOUT_NS;
		long ret;

		if (t_handle(SIGUSR1, NULL, SA_RESTART))
			_exit(T_BAD_SETUP);
		ret = send_timed(fd, "t", MBX_TIMEOUT | MBX_ABSTIME, end);
		if (ret == -ETIMEDOUT && t_now_ns() < end)
			_exit(T_BAD_DATA);
		_exit(t_code(ret));
	}
	ASSERT_EQ(0, T_WAIT(fd, send_waiting, 1));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	EXPECT_EQ(ETIMEDOUT, t_reap(pid));
	EXPECT_EQ(1, T_INFO(fd, queued));
}

TEST(timed_send_fails_eintr_even_with_sa_restart_and_sends_nothing)
{
	char buf[8];
	pid_t pid;
	int fd = full_port();

	ASSERT_LE(0, fd);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (t_handle(SIGUSR1, NULL, SA_RESTART))
			_exit(T_BAD_SETUP);
		/* Relative: an absolute deadline restarts (above). */
		_exit(t_code(send_timed(fd, "s", MBX_TIMEOUT, 5000 * MS)));
	}
	ASSERT_EQ(0, T_WAIT(fd, send_waiting, 1));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	EXPECT_EQ(EINTR, t_reap(pid));
	EXPECT_EQ(1, T_INFO(fd, queued));
	EXPECT_EQ(1, T_INFO(fd, sent));
	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("q", buf);
	EXPECT_EQ(-EAGAIN, t_recv_str(fd, buf, sizeof(buf), NULL));
}

TEST(ignored_signal_does_not_interrupt)
{
	pid_t pid;
	int fd = t_anon(2, 64);

	ASSERT_LE(0, fd);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char buf[8];

		signal(SIGUSR1, SIG_IGN);
		_exit(t_code(mbx_recv(fd, buf, sizeof(buf), NULL)));
	}
	ASSERT_EQ(0, T_WAIT(fd, recv_waiting, 1));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	EXPECT_TRUE(t_stays_blocked(pid));
	ASSERT_EQ(0, t_send_str(fd, "i", 0));
	EXPECT_EQ(0, t_reap(pid));
}

TEST(fatal_signal_ends_blocked_receiver_and_port_recovers)
{
	char buf[8];
	pid_t pid;
	int fd = t_anon(2, 64);

	ASSERT_LE(0, fd);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(t_code(mbx_recv(fd, buf, sizeof(buf), NULL)));
	ASSERT_EQ(0, T_WAIT(fd, recv_waiting, 1));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	EXPECT_EQ(128 + SIGKILL, t_reap(pid));
	EXPECT_EQ(0, T_INFO(fd, recv_waiting));
	/* the dead waiter swallows nothing */
	ASSERT_EQ(0, t_send_str(fd, "k", 0));
	EXPECT_EQ(1, T_INFO(fd, queued));
	EXPECT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
}

/*
 * In a process of a new time namespace whose CLOCK_MONOTONIC is
 * @offset_s seconds off the host's, an absolute receive timeout taken
 * from that clock ends on time.  The calling child stays outside (only
 * its children enter); 0, a failure code, or KSFT_SKIP without time
 * namespaces.
 */
static int abstime_in_time_namespace(long offset_s)
{
	uint64_t deadline, end;
	char line[64];
	int fd, n;
	pid_t pid;
	long ret;

	if (unshare(CLONE_NEWTIME))	/* none, or not privileged */
		return errno == EINVAL || errno == EPERM ? KSFT_SKIP : 10;
	fd = open("/proc/self/timens_offsets", O_WRONLY);
	n = snprintf(line, sizeof(line), "monotonic %ld 0\n", offset_s);
	if (fd < 0 || write(fd, line, n) != n)
		return 11;
	close(fd);
	pid = fork();
	if (pid)
		return t_reap(pid);
	alarm(10);		/* the bug waited 1000 s */
	fd = t_anon(2, 64);
	deadline = t_now_ns() + TIMEOUT_NS;
	ret = recv_timed(fd, MBX_TIMEOUT | MBX_ABSTIME, deadline);
	end = t_now_ns();
	if (fd < 0 || ret != -ETIMEDOUT)
		_exit(12);
	_exit(end < deadline ? 13 : end > deadline + SLACK_NS ? 14 : 0);
}

TEST(absolute_timeout_is_on_the_callers_time_namespace_clock)
{
	static const long offsets[] = { 1000, -1 };
	unsigned int i;
	int code;

	for (i = 0; i < ARRAY_SIZE(offsets); i++) {
		pid_t pid = fork();

		ASSERT_LE(0, pid);
		if (!pid)
			_exit(abstime_in_time_namespace(offsets[i]));
		code = t_reap(pid);
		if (code == KSFT_SKIP)
			SKIP(return, "no time namespaces here (kernel or privilege)");
		EXPECT_EQ(0, code) TH_LOG("monotonic offset %ld s", offsets[i]);
	}
}

TEST(abstime_without_timeout_flag_fails_einval)
{
	int fd = t_anon(1, 64);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, send_timed(fd, "a", MBX_ABSTIME, 0));
	EXPECT_EQ(-EINVAL, send_timed(fd, "a", MBX_ABSTIME, t_now_ns()));
	EXPECT_EQ(0, T_INFO(fd, queued));
	ASSERT_EQ(0, t_send_str(fd, "q", 0));
	EXPECT_EQ(-EINVAL, recv_timed(fd, MBX_ABSTIME | MBX_NONBLOCK, 0));
	EXPECT_EQ(1, T_INFO(fd, queued));
}

TEST(timeout_ns_without_timeout_flag_fails_einval)
{
	int fd = t_anon(1, 64);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, send_timed(fd, "a", 0, 1000));
	EXPECT_EQ(-EINVAL, send_timed(fd, "a", MBX_NONBLOCK, 1));
	EXPECT_EQ(0, T_INFO(fd, queued));
	ASSERT_EQ(0, t_send_str(fd, "q", 0));
	EXPECT_EQ(-EINVAL, recv_timed(fd, MBX_NONBLOCK, 1000));
	EXPECT_EQ(1, T_INFO(fd, queued));
}

TEST_HARNESS_MAIN
