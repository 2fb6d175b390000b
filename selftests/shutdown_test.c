// SPDX-License-Identifier: GPL-2.0
/*
 * MBX_IOC_SHUTDOWN and end of stream.
 *
 * Shutdown wakes every waiter; later sends fail with EPIPE; receivers drain
 * the queue and then see end of stream (read() 0, MBX_IOC_RECV EPIPE).
 *
 * End of stream needs a port that cannot be opened by name and has no fd
 * left that may send.  The fd that creates a port may send and receive, so
 * the tests use a named port with a receive-only fd, then unlink it and
 * close the senders.  A named port that is still linked never ends.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "mbx_helpers.h"

FIXTURE(sd) {
	char name[MBX_NAME_LEN];
	int fd;		/* creator: send + receive */
	int r;		/* receive only */
	int s;		/* send only */
};

FIXTURE_SETUP(sd)
{
	signal(SIGPIPE, SIG_IGN);
	t_name(self->name, "sd");
	self->fd = t_port(2, 64, 0600, self->name, 0);
	ASSERT_LE(0, self->fd);
	self->r = mbx_port_open(MBX_DEV_AUTO, self->name, MBX_RECV);
	ASSERT_LE(0, self->r);
	self->s = mbx_port_open(MBX_DEV_AUTO, self->name, MBX_SEND);
	ASSERT_LE(0, self->s);
}

FIXTURE_TEARDOWN(sd)
{
	t_unlink_all();
}

/* Child: blocking receive on @fd after closing @c1 and @c2 (if >= 0). */
static pid_t fork_receiver(int fd, int c1, int c2)
{
	pid_t pid = t_fork();
	char buf[64];
	ssize_t n;

	if (pid == 0) {
		if (c1 >= 0)
			close(c1);
		if (c2 >= 0)
			close(c2);
		n = mbx_recv(fd, buf, sizeof(buf), NULL);
		if (n < 0)
			_exit(t_code(n));
		_exit(n > 0 ? (unsigned char)buf[0] : T_BAD_DATA);
	}
	return pid;
}

static pid_t fork_sender(int fd, const char *s, int c1, int c2)
{
	pid_t pid = t_fork();

	if (pid == 0) {
		if (c1 >= 0)
			close(c1);
		if (c2 >= 0)
			close(c2);
		_exit(t_code(t_send_str(fd, s, 0)));
	}
	return pid;
}

TEST_F(sd, shutdown_wakes_every_blocked_receiver)
{
	pid_t pids[3];
	int i;

	for (i = 0; i < 3; i++) {
		pids[i] = fork_receiver(self->r, -1, -1);
		ASSERT_LE(0, pids[i]);
	}
	ASSERT_EQ(0, T_WAIT(self->fd, recv_waiting, 3));
	ASSERT_EQ(0, mbx_shutdown(self->fd));
	for (i = 0; i < 3; i++)
		EXPECT_EQ(EPIPE, t_reap(pids[i]));
	EXPECT_EQ(0, T_INFO(self->fd, recv_waiting));
}

TEST_F(sd, shutdown_wakes_every_blocked_sender_and_sends_nothing)
{
	char buf[8];
	pid_t pids[3];
	int i;

	ASSERT_EQ(0, t_send_str(self->fd, "a", 0));
	ASSERT_EQ(0, t_send_str(self->fd, "b", 0));
	for (i = 0; i < 3; i++) {
		pids[i] = fork_sender(self->s, "x", -1, -1);
		ASSERT_LE(0, pids[i]);
	}
	ASSERT_EQ(0, T_WAIT(self->fd, send_waiting, 3));
	ASSERT_EQ(0, mbx_shutdown(self->fd));
	for (i = 0; i < 3; i++)
		EXPECT_EQ(EPIPE, t_reap(pids[i]));
	EXPECT_EQ(0, T_INFO(self->fd, send_waiting));
	EXPECT_EQ(2, T_INFO(self->fd, queued));
	EXPECT_EQ(2, T_INFO(self->fd, sent));
	ASSERT_EQ(1, t_recv_str(self->r, buf, sizeof(buf), NULL));
	EXPECT_STREQ("a", buf);
	ASSERT_EQ(1, t_recv_str(self->r, buf, sizeof(buf), NULL));
	EXPECT_STREQ("b", buf);
	EXPECT_EQ(-EPIPE, t_recv_str(self->r, buf, sizeof(buf), NULL));
}

TEST_F(sd, shutdown_wakes_blocked_rendezvous_sender)
{
	char buf[8];
	pid_t pid;
	int fd = t_anon(0, 64);

	ASSERT_LE(0, fd);
	pid = fork_sender(fd, "x", -1, -1);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, T_WAIT(fd, send_waiting, 1));
	ASSERT_EQ(0, mbx_shutdown(fd));
	EXPECT_EQ(EPIPE, t_reap(pid));
	EXPECT_EQ(-EPIPE, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_EQ(0, T_INFO(fd, sent));
}

TEST_F(sd, send_after_shutdown_fails_epipe)
{
	ASSERT_EQ(0, mbx_shutdown(self->fd));
	EXPECT_EQ(-EPIPE, t_send_str(self->fd, "x", 0));
	EXPECT_EQ(-EPIPE, t_send_str(self->s, "x", 0));
	EXPECT_EQ(-EPIPE, mbx_send_nonblock(self->s, "x", 1, 0));
	EXPECT_EQ(-EPIPE, mbx_send_timed(self->s, "x", 1, 0, 1000000));
	EXPECT_EQ(-1, write(self->s, "x", 1));
	EXPECT_EQ(EPIPE, errno);
	EXPECT_EQ(0, T_INFO(self->fd, queued));
	EXPECT_EQ(0, T_INFO(self->fd, sent));
}

TEST_F(sd, receivers_drain_queue_after_shutdown_then_get_epipe)
{
	char buf[8];

	ASSERT_EQ(0, t_send_str(self->fd, "1", 0));
	ASSERT_EQ(0, t_send_str(self->fd, "2", 5));
	ASSERT_EQ(0, mbx_shutdown(self->s));
	ASSERT_EQ(1, mbx_recv(self->r, buf, sizeof(buf), NULL));
	EXPECT_EQ('2', buf[0]);
	ASSERT_EQ(1, mbx_recv(self->fd, buf, sizeof(buf), NULL));
	EXPECT_EQ('1', buf[0]);
	/* blocking, non-blocking and timed receives all end at once */
	EXPECT_EQ(-EPIPE, mbx_recv(self->r, buf, sizeof(buf), NULL));
	EXPECT_EQ(-EPIPE, mbx_recv_nonblock(self->r, buf, sizeof(buf), NULL));
	EXPECT_EQ(-EPIPE, mbx_recv_timed(self->r, buf, sizeof(buf), NULL,
					 10000000000ULL));
}

TEST_F(sd, read_returns_zero_after_shutdown_is_drained)
{
	char buf[8];

	ASSERT_EQ(0, t_send_str(self->fd, "m", 0));
	ASSERT_EQ(0, mbx_shutdown(self->fd));
	EXPECT_EQ(1, read(self->r, buf, sizeof(buf)));
	EXPECT_EQ(0, read(self->r, buf, sizeof(buf)));
	EXPECT_EQ(0, read(self->fd, buf, sizeof(buf)));
}

/*
 * An mq port has no end of stream, and a zero-length message is a message
 * like any other: after shutdown, read() fails with EPIPE as MBX_IOC_RECV
 * does, so that 0 always means an empty message (libmailbox-mq receives
 * through read()).
 */
TEST(mq_port_read_fails_epipe_after_shutdown)
{
	char name[MBX_NAME_LEN], buf[8];
	int fd;

	fd = t_port(2, 64, 0600, t_name(name, "sdmq"), MBX_PORT_MQ);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_str(fd, "m", 0));
	ASSERT_EQ(0, t_send(fd, "", 0, 0, 0, 0));
	ASSERT_EQ(0, mbx_shutdown(fd));
	EXPECT_EQ(1, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(0, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(-1, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(EPIPE, errno);
	EXPECT_EQ(-EPIPE, mbx_recv(fd, buf, sizeof(buf), NULL));
	close(fd);
	t_unlink_all();
}

TEST_F(sd, second_shutdown_is_a_noop)
{
	char buf[8];

	ASSERT_EQ(0, t_send_str(self->fd, "m", 0));
	ASSERT_EQ(0, mbx_shutdown(self->fd));
	EXPECT_EQ(0, mbx_shutdown(self->fd));
	EXPECT_EQ(0, mbx_shutdown(self->r));
	EXPECT_EQ(1, T_INFO(self->fd, queued));
	EXPECT_EQ(1, t_recv_str(self->r, buf, sizeof(buf), NULL));
}

TEST_F(sd, shutdown_sets_state_bit_for_every_fd)
{
	EXPECT_EQ(0, T_INFO(self->fd, state) & MBX_STATE_SHUTDOWN);
	ASSERT_EQ(0, mbx_shutdown(self->r));
	EXPECT_EQ(MBX_STATE_SHUTDOWN, T_INFO(self->fd, state) & MBX_STATE_SHUTDOWN);
	EXPECT_EQ(MBX_STATE_SHUTDOWN, T_INFO(self->s, state) & MBX_STATE_SHUTDOWN);
	/* shutdown does not unlink */
	EXPECT_EQ(MBX_STATE_NAMED, T_INFO(self->fd, state) & MBX_STATE_NAMED);
}

TEST_F(sd, end_of_stream_after_last_sender_closes_and_queue_drains)
{
	char buf[8];

	ASSERT_EQ(0, t_send_str(self->fd, "a", 0));
	ASSERT_EQ(0, t_send_str(self->s, "b", 0));
	ASSERT_EQ(0, mbx_port_unlink(MBX_DEV_AUTO, self->name));
	close(self->fd);
	EXPECT_EQ(1, T_INFO(self->r, senders));
	close(self->s);
	EXPECT_EQ(0, T_INFO(self->r, senders));
	/* queued messages first, then end of stream */
	EXPECT_EQ(1, read(self->r, buf, sizeof(buf)));
	EXPECT_EQ('a', buf[0]);
	EXPECT_EQ(1, mbx_recv(self->r, buf, sizeof(buf), NULL));
	EXPECT_EQ('b', buf[0]);
	EXPECT_EQ(0, read(self->r, buf, sizeof(buf)));
	EXPECT_EQ(-EPIPE, mbx_recv(self->r, buf, sizeof(buf), NULL));
	EXPECT_EQ(-EPIPE, mbx_recv_nonblock(self->r, buf, sizeof(buf), NULL));
}

TEST_F(sd, end_of_stream_when_child_holding_last_sender_exits)
{
	int go[2], ready[2];
	char buf[8];
	pid_t pid;

	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(ready));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char c;

		close(self->fd);
		close(self->r);
		if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(T_BAD_SETUP);
		_exit(t_code(t_send_str(self->s, "bye", 0)));
	}
	close(ready[1]);
	ASSERT_EQ(1, read(ready[0], buf, 1));
	ASSERT_EQ(0, mbx_port_unlink(MBX_DEV_AUTO, self->name));
	close(self->fd);
	close(self->s);
	/* the child still holds the send-only fd */
	EXPECT_EQ(1, T_INFO(self->r, senders));
	EXPECT_EQ(-EAGAIN, t_recv_str(self->r, buf, sizeof(buf), NULL));
	ASSERT_EQ(1, write(go[1], "g", 1));
	EXPECT_EQ(0, t_reap(pid));
	EXPECT_EQ(3, t_recv_str(self->r, buf, sizeof(buf), NULL));
	EXPECT_STREQ("bye", buf);
	EXPECT_EQ(-EPIPE, t_recv_str(self->r, buf, sizeof(buf), NULL));
}

TEST_F(sd, end_of_stream_wakes_blocked_receiver)
{
	pid_t pid;

	ASSERT_EQ(0, mbx_port_unlink(MBX_DEV_AUTO, self->name));
	pid = fork_receiver(self->r, self->fd, self->s);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, T_WAIT(self->r, recv_waiting, 1));
	close(self->fd);
	EXPECT_TRUE(t_stays_blocked(pid));
	close(self->s);
	EXPECT_EQ(EPIPE, t_reap(pid));
}

TEST_F(sd, linked_named_port_never_reaches_end_of_stream)
{
	char buf[8];

	close(self->fd);
	close(self->s);
	EXPECT_EQ(0, T_INFO(self->r, senders));
	EXPECT_EQ(-EAGAIN, mbx_recv_nonblock(self->r, buf, sizeof(buf), NULL));
	EXPECT_EQ(-ETIMEDOUT, mbx_recv_timed(self->r, buf, sizeof(buf), NULL,
					     100000000ULL));
}

TEST_F(sd, linked_named_port_receiver_waits_for_next_opener)
{
	pid_t pid;
	int s2;

	pid = fork_receiver(self->r, self->fd, self->s);
	ASSERT_LE(0, pid);
	close(self->fd);
	close(self->s);
	ASSERT_EQ(0, T_WAIT(self->r, recv_waiting, 1));
	EXPECT_TRUE(t_stays_blocked(pid));
	s2 = mbx_port_open(MBX_DEV_AUTO, self->name, MBX_SEND);
	ASSERT_LE(0, s2);
	ASSERT_EQ(0, t_send_str(s2, "n", 0));
	EXPECT_EQ('n', t_reap(pid));
}

TEST_F(sd, unlink_without_senders_ends_stream_and_wakes_receiver)
{
	pid_t pid;

	pid = fork_receiver(self->r, self->fd, self->s);
	ASSERT_LE(0, pid);
	close(self->fd);
	close(self->s);
	ASSERT_EQ(0, T_WAIT(self->r, recv_waiting, 1));
	EXPECT_TRUE(t_stays_blocked(pid));
	ASSERT_EQ(0, mbx_port_unlink(MBX_DEV_AUTO, self->name));
	EXPECT_EQ(EPIPE, t_reap(pid));
}

TEST_F(sd, send_without_receivers_fails_epipe)
{
	ASSERT_EQ(0, mbx_port_unlink(MBX_DEV_AUTO, self->name));
	close(self->fd);
	EXPECT_EQ(0, t_send_str(self->s, "ok", 0));
	close(self->r);
	EXPECT_EQ(0, T_INFO(self->s, receivers));
	EXPECT_EQ(-EPIPE, t_send_str(self->s, "x", 0));
	EXPECT_EQ(-EPIPE, mbx_send_nonblock(self->s, "x", 1, 0));
	EXPECT_EQ(-1, write(self->s, "x", 1));
	EXPECT_EQ(EPIPE, errno);
	EXPECT_EQ(1, T_INFO(self->s, sent));
}

TEST_F(sd, blocked_sender_fails_epipe_when_last_receiver_closes)
{
	pid_t pid;

	ASSERT_EQ(0, t_send_str(self->fd, "a", 0));
	ASSERT_EQ(0, t_send_str(self->fd, "b", 0));
	ASSERT_EQ(0, mbx_port_unlink(MBX_DEV_AUTO, self->name));
	pid = fork_sender(self->s, "x", self->fd, self->r);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, T_WAIT(self->s, send_waiting, 1));
	close(self->fd);
	EXPECT_TRUE(t_stays_blocked(pid));
	close(self->r);
	EXPECT_EQ(EPIPE, t_reap(pid));
}

/* ---- anonymous ports: ends from MBX_IOC_PORT_DUP / mbx_port_pair() ------- */

/* An anonymous port as a receive end fds[0] and a send end fds[1]. */
static int pair(int fds[2])
{
	struct mbx_port_create c;

	memset(&c, 0, sizeof(c));
	c.capacity = 2;
	c.max_msg_size = 64;
	c.mode = 0600;
	return mbx_port_pair(MBX_DEV_AUTO, &c, fds);
}

TEST(anonymous_port_ends_when_last_send_end_closes)
{
	char buf[8];
	int fds[2];

	ASSERT_EQ(0, pair(fds));
	ASSERT_EQ(0, t_send_str(fds[1], "a", 0));
	close(fds[1]);
	EXPECT_EQ(1, read(fds[0], buf, sizeof(buf)));
	EXPECT_EQ(0, read(fds[0], buf, sizeof(buf)));
	EXPECT_EQ(-EPIPE, mbx_recv(fds[0], buf, sizeof(buf), NULL));
}

TEST(anonymous_port_ends_when_child_holding_send_end_exits)
{
	int fds[2], go[2], ready[2];
	char buf[8];
	pid_t pid;

	ASSERT_EQ(0, pair(fds));
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(ready));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char c;

		close(fds[0]);
		if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(T_BAD_SETUP);
		_exit(t_code(t_send_str(fds[1], "c", 0)));
	}
	close(ready[1]);
	ASSERT_EQ(1, read(ready[0], buf, 1));
	close(fds[1]);
	EXPECT_EQ(1, T_INFO(fds[0], senders));
	EXPECT_EQ(-EAGAIN, t_recv_str(fds[0], buf, sizeof(buf), NULL));
	ASSERT_EQ(1, write(go[1], "g", 1));
	EXPECT_EQ(0, t_reap(pid));
	EXPECT_EQ(1, t_recv_str(fds[0], buf, sizeof(buf), NULL));
	EXPECT_EQ(-EPIPE, t_recv_str(fds[0], buf, sizeof(buf), NULL));
}

TEST(anonymous_end_of_stream_wakes_blocked_receiver)
{
	int fds[2];
	pid_t pid;

	ASSERT_EQ(0, pair(fds));
	pid = fork_receiver(fds[0], fds[1], -1);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, T_WAIT(fds[0], recv_waiting, 1));
	EXPECT_TRUE(t_stays_blocked(pid));
	close(fds[1]);
	EXPECT_EQ(EPIPE, t_reap(pid));
}

TEST(anonymous_send_end_without_receive_end_fails_epipe)
{
	int fds[2];

	ASSERT_EQ(0, pair(fds));
	signal(SIGPIPE, SIG_IGN);
	close(fds[0]);
	EXPECT_EQ(-EPIPE, t_send_str(fds[1], "x", 0));
	EXPECT_EQ(-EPIPE, mbx_send_nonblock(fds[1], "x", 1, 0));
}

TEST(fd_that_may_send_and_receive_keeps_stream_open)
{
	char buf[8];
	int fd, r;

	fd = t_anon(2, 64);
	ASSERT_LE(0, fd);
	r = mbx_port_dup(fd, MBX_RECV);
	ASSERT_LE(0, r);
	EXPECT_EQ(-EAGAIN, t_recv_str(r, buf, sizeof(buf), NULL));
	close(fd);
	EXPECT_EQ(-EPIPE, t_recv_str(r, buf, sizeof(buf), NULL));
}

TEST(send_without_receivers_raises_no_sigpipe)
{
	int fds[2];
	pid_t pid;

	ASSERT_EQ(0, pair(fds));
	close(fds[0]);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		if (write(fds[1], "x", 1) != -1 || errno != EPIPE)
			_exit(T_BAD_DATA);
		_exit(t_code(t_send_str(fds[1], "y", 0)) == EPIPE ? 0 :
		      T_BAD_DATA);
	}
	EXPECT_EQ(0, t_reap(pid));
}

TEST(send_after_shutdown_raises_no_sigpipe)
{
	pid_t pid;
	int fd = t_anon(2, 64);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, mbx_shutdown(fd));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		if (write(fd, "x", 1) != -1 || errno != EPIPE)
			_exit(T_BAD_DATA);
		_exit(0);
	}
	EXPECT_EQ(0, t_reap(pid));
}

/*
 * A receive whose copy out is held on a page that userfaultfd stops: the
 * message it took is in flight.  End of stream must wait for it, since a
 * copy that fails puts the message back; a receiver told end of stream
 * before would never see it (found by a review).
 */
struct held_recv {
	int fd;
	char *buf;
	long ret;
};

static void *held_recv(void *arg)
{
	struct held_recv *h = arg;

	h->ret = mbx_recv(h->fd, h->buf, 64, NULL);
	return NULL;
}

struct held {
	int fds[2];		/* receive end, send end */
	int uffd;
	char *page;
	pthread_t t;
	struct held_recv h;
};

/* 0: @hd's receive has taken "m" and waits on its copy; else skip. */
static int held_start(struct __test_metadata *_metadata, struct held *hd)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct pollfd pfd = { .events = POLLIN };
	struct mbx_port_create c = { .capacity = 4, .max_msg_size = 64,
				     .mode = 0600 };
	struct uffd_msg msg;

	hd->uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (hd->uffd < 0 || ioctl(hd->uffd, UFFDIO_API, &api))
		return -1;
	if (mbx_port_pair(MBX_DEV_AUTO, &c, hd->fds) ||
	    t_send_str(hd->fds[1], "m", 0))
		return -2;
	hd->page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (hd->page == MAP_FAILED)
		return -2;
	reg.range.start = (uintptr_t)hd->page;
	reg.range.len = 4096;
	if (ioctl(hd->uffd, UFFDIO_REGISTER, &reg))
		return -2;
	hd->h.fd = hd->fds[0];
	hd->h.buf = hd->page;
	if (pthread_create(&hd->t, NULL, held_recv, &hd->h))
		return -2;
	pfd.fd = hd->uffd;
	if (poll(&pfd, 1, T_WAIT_MS) != 1 ||
	    read(hd->uffd, &msg, sizeof(msg)) != sizeof(msg) ||
	    msg.event != UFFD_EVENT_PAGEFAULT)
		return -2;
	return 0;
}

/* Make @hd's held copy fail (the page goes, the fault with it): its result. */
static long held_fail(struct held *hd)
{
	munmap(hd->page, 4096);
	close(hd->uffd);
	pthread_join(hd->t, NULL);
	return hd->h.ret;
}

/*
 * A port whose receive has taken "m" and is held on its copy out.  A SKIP
 * in the set-up would not stop the test (this harness runs it when the
 * set-up passed): each test skips itself unless @ok.
 */
FIXTURE(held) {
	struct held hd;
	bool ok;
};

FIXTURE_SETUP(held)
{
	int ret = held_start(_metadata, &self->hd);

	if (ret == -1)
		return;
	ASSERT_EQ(0, ret);
	self->ok = true;
}

FIXTURE_TEARDOWN(held)
{
}

TEST_F(held, end_of_stream_waits_for_a_message_whose_copy_fails)
{
	struct pollfd pfd = { .events = POLLIN };
	struct held *hd = &self->hd;
	char buf[64];

	if (!self->ok)
		SKIP(return, "no userfaultfd");
	ASSERT_EQ(0, close(hd->fds[1]));	/* the last sender */
	/* Not the end yet: the message taken may come back. */
	EXPECT_EQ(-EAGAIN, mbx_recv_nonblock(hd->fds[0], buf, sizeof(buf), NULL));
	pfd.fd = hd->fds[0];
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	EXPECT_EQ(-EFAULT, held_fail(hd));
	/* It is back, then the stream ends. */
	EXPECT_EQ(1, mbx_recv(hd->fds[0], buf, sizeof(buf), NULL));
	EXPECT_EQ(-EPIPE, mbx_recv(hd->fds[0], buf, sizeof(buf), NULL));
	EXPECT_EQ(0, read(hd->fds[0], buf, sizeof(buf)));
	close(hd->fds[0]);
}

/* A receiver kept waiting so is told end of stream once the copy is done. */
TEST_F(held, end_of_stream_comes_once_the_copy_in_flight_is_done)
{
	struct held *hd = &self->hd;
	struct uffdio_zeropage zp;
	struct held_recv r2;
	pthread_t t2;
	char buf[64];

	if (!self->ok)
		SKIP(return, "no userfaultfd");
	ASSERT_EQ(0, close(hd->fds[1]));
	r2.fd = hd->fds[0];
	r2.buf = buf;
	r2.ret = 1;
	ASSERT_EQ(0, pthread_create(&t2, NULL, held_recv, &r2));
	t_sleep_ms(100);
	/* The held copy completes: the page is filled with zeros. */
	zp.range.start = (uintptr_t)hd->page;
	zp.range.len = 4096;
	zp.mode = 0;
	ASSERT_EQ(0, ioctl(hd->uffd, UFFDIO_ZEROPAGE, &zp));
	ASSERT_EQ(0, pthread_join(hd->t, NULL));
	EXPECT_EQ(1, hd->h.ret);
	EXPECT_EQ('m', hd->page[0]);
	ASSERT_EQ(0, pthread_join(t2, NULL));
	EXPECT_EQ(-EPIPE, r2.ret);
	munmap(hd->page, 4096);
	close(hd->uffd);
	close(hd->fds[0]);
}

/*
 * The same after a shutdown: a poller is not told EPOLLHUP, with an empty
 * queue, while the message taken may come back.
 */
TEST_F(held, shutdown_hangup_waits_for_a_message_whose_copy_fails)
{
	struct pollfd pfd = { .events = POLLIN };
	struct held *hd = &self->hd;
	char buf[64];

	if (!self->ok)
		SKIP(return, "no userfaultfd");
	ASSERT_EQ(0, mbx_shutdown(hd->fds[1]));
	pfd.fd = hd->fds[0];
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	EXPECT_EQ(-EFAULT, held_fail(hd));
	/* It is back, with EPOLLHUP: drain it, then the end. */
	EXPECT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLIN | POLLHUP, pfd.revents);
	EXPECT_EQ(1, mbx_recv(hd->fds[0], buf, sizeof(buf), NULL));
	EXPECT_EQ(-EPIPE, mbx_recv(hd->fds[0], buf, sizeof(buf), NULL));
	close(hd->fds[0]);
	close(hd->fds[1]);
}

TEST_HARNESS_MAIN
