// SPDX-License-Identifier: GPL-2.0
/*
 * MBX_IOC_PORT_DUP and mbx_port_pair(): a dup narrows an fd to the asked
 * access, never widens it (EACCES), needs at least one access bit and no
 * unknown flags (EINVAL), and honours MBX_CLOEXEC / MBX_NONBLOCK on the new
 * fd; PORT_INFO counts senders and receivers per fd.  mbx_port_pair() gives
 * a receive-only fds[0] and a send-only fds[1]; closing the last send end
 * (also by a process exiting) is end of stream for the receivers, blocked
 * ones included (EPIPE, read() 0, EPOLLHUP), and closing the last receive
 * end makes sends fail with EPIPE.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>

#include "kselftest_harness.h"
#include "mbx_helpers.h"

/* Raw MBX_IOC_PORT_DUP: the new fd or -errno. */
static long dup_raw(int fd, uint32_t flags, uint32_t reserved)
{
	struct mbx_port_dup d = { .flags = flags, .reserved = reserved };

	return t_ioctl(fd, MBX_IOC_PORT_DUP, &d);
}

static long long info_id(int fd)
{
	struct mbx_port_info info;
	int ret = t_info(fd, &info);

	return ret ? ret : (long long)info.id;
}

/* An anonymous pair with capacity @cap and @flags (MBX_CLOEXEC, MBX_NONBLOCK). */
static int pair(uint32_t cap, uint32_t flags, int fds[2])
{
	struct mbx_port_create c;

	memset(&c, 0, sizeof(c));
	c.capacity = cap;
	c.max_msg_size = 64;
	c.mode = 0600;
	c.flags = flags;
	return mbx_port_pair(MBX_DEV_AUTO, &c, fds);
}

static int fd_flags(int fd)
{
	return fcntl(fd, F_GETFD);
}

static int fl_flags(int fd)
{
	return fcntl(fd, F_GETFL);
}

/* ---- narrowing -------------------------------------------------------- */

TEST(send_only_dup_can_send_but_not_receive)
{
	char buf[16];
	int fd = t_anon(4, 64);
	int s;

	ASSERT_LE(0, fd);
	s = mbx_port_dup(fd, MBX_SEND);
	ASSERT_LE(0, s);
	EXPECT_EQ(MBX_SEND, T_INFO(s, access));
	EXPECT_EQ(info_id(fd), info_id(s));

	EXPECT_EQ(0, t_send_str(s, "abc", 0));
	EXPECT_EQ(3, write(s, "defg", 3));
	EXPECT_EQ(2, T_INFO(fd, queued));

	EXPECT_EQ(-EBADF, mbx_recv_nonblock(s, buf, sizeof(buf), NULL));
	errno = 0;
	EXPECT_EQ(-1, read(s, buf, sizeof(buf)));
	EXPECT_EQ(EBADF, errno);
	/* nothing was taken by the failed receives */
	EXPECT_EQ(2, T_INFO(fd, queued));
	EXPECT_EQ(3, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("abc", buf);
	close(s);
	close(fd);
}

TEST(recv_only_dup_can_receive_but_not_send)
{
	char buf[16];
	int fd = t_anon(4, 64);
	int r;

	ASSERT_LE(0, fd);
	r = mbx_port_dup(fd, MBX_RECV);
	ASSERT_LE(0, r);
	EXPECT_EQ(MBX_RECV, T_INFO(r, access));
	EXPECT_EQ(info_id(fd), info_id(r));

	EXPECT_EQ(-EBADF, t_send_str(r, "x", 0));
	errno = 0;
	EXPECT_EQ(-1, write(r, "x", 1));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(0, T_INFO(fd, queued));
	EXPECT_EQ(0, T_INFO(fd, sent));

	ASSERT_EQ(0, t_send_str(fd, "hello", 0));
	ASSERT_EQ(0, t_send_str(fd, "world", 0));
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(5, read(r, buf, sizeof(buf)));
	EXPECT_STREQ("hello", buf);
	EXPECT_EQ(5, t_recv_str(r, buf, sizeof(buf), NULL));
	EXPECT_STREQ("world", buf);
	close(r);
	close(fd);
}

TEST(dup_with_both_access_from_full_fd_can_send_and_receive)
{
	char buf[16];
	int fd = t_anon(4, 64);
	int d;

	ASSERT_LE(0, fd);
	d = mbx_port_dup(fd, MBX_SEND | MBX_RECV);
	ASSERT_LE(0, d);
	EXPECT_EQ(MBX_SEND | MBX_RECV, T_INFO(d, access));
	EXPECT_EQ(0, t_send_str(d, "x", 0));
	EXPECT_EQ(1, t_recv_str(d, buf, sizeof(buf), NULL));
	close(d);
	close(fd);
}

TEST(dup_of_a_dup_keeps_narrowing)
{
	int fd = t_anon(4, 64);
	int s, s2;

	ASSERT_LE(0, fd);
	s = mbx_port_dup(fd, MBX_SEND);
	ASSERT_LE(0, s);
	s2 = mbx_port_dup(s, MBX_SEND);
	ASSERT_LE(0, s2);
	EXPECT_EQ(MBX_SEND, T_INFO(s2, access));
	EXPECT_EQ(info_id(fd), info_id(s2));
	EXPECT_EQ(0, t_send_str(s2, "x", 0));
	EXPECT_EQ(1, T_INFO(fd, queued));
	close(s2);
	close(s);
	close(fd);
}

TEST(dup_asking_more_access_than_the_fd_has_is_eacces)
{
	int fd = t_anon(4, 64);
	int s, r, before;

	ASSERT_LE(0, fd);
	s = mbx_port_dup(fd, MBX_SEND);
	ASSERT_LE(0, s);
	r = mbx_port_dup(fd, MBX_RECV);
	ASSERT_LE(0, r);
	before = T_INFO(fd, senders) * 100 + T_INFO(fd, receivers);

	EXPECT_EQ(-EACCES, mbx_port_dup(s, MBX_RECV));
	EXPECT_EQ(-EACCES, mbx_port_dup(s, MBX_SEND | MBX_RECV));
	EXPECT_EQ(-EACCES, mbx_port_dup(r, MBX_SEND));
	EXPECT_EQ(-EACCES, mbx_port_dup(r, MBX_SEND | MBX_RECV));
	EXPECT_EQ(-EACCES, mbx_port_dup(r, MBX_SEND | MBX_CLOEXEC));
	/* no fd was made by the refused calls */
	EXPECT_EQ(before, T_INFO(fd, senders) * 100 + T_INFO(fd, receivers));
	close(r);
	close(s);
	close(fd);
}

TEST(dup_of_a_send_only_opened_named_port_cannot_get_recv)
{
	char name[MBX_NAME_LEN];
	int fd, s;

	fd = t_port(4, 64, 0600, t_name(name, "dup"), 0);
	ASSERT_LE(0, fd);
	s = mbx_port_open(MBX_DEV_AUTO, name, MBX_SEND);
	ASSERT_LE(0, s);
	EXPECT_EQ(-EACCES, mbx_port_dup(s, MBX_RECV));
	close(s);
	s = mbx_port_open(MBX_DEV_AUTO, name, MBX_RECV);
	ASSERT_LE(0, s);
	EXPECT_EQ(-EACCES, mbx_port_dup(s, MBX_SEND));
	close(s);
	t_unlink_all();
	close(fd);
}

TEST(dup_without_access_bits_is_einval)
{
	int fd = t_anon(4, 64);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, dup_raw(fd, 0, 0));
	EXPECT_EQ(-EINVAL, dup_raw(fd, MBX_CLOEXEC, 0));
	EXPECT_EQ(-EINVAL, dup_raw(fd, MBX_NONBLOCK | MBX_CLOEXEC, 0));
	EXPECT_EQ(1, T_INFO(fd, senders));
	EXPECT_EQ(1, T_INFO(fd, receivers));
	close(fd);
}

TEST(dup_with_unknown_flags_is_einval)
{
	static const uint32_t bad[] = {
		MBX_TIMEOUT, MBX_ABSTIME, MBX_SEND_BUF, MBX_RECV_INPLACE,
		0x100, 0x80000000U,
	};
	int fd = t_anon(4, 64);
	unsigned int i;

	ASSERT_LE(0, fd);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(-EINVAL, dup_raw(fd, MBX_SEND | bad[i], 0))
			TH_LOG("flag 0x%x", bad[i]);
	}
	EXPECT_EQ(1, T_INFO(fd, senders));
	close(fd);
}

TEST(dup_with_nonzero_reserved_is_einval)
{
	int fd = t_anon(4, 64);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, dup_raw(fd, MBX_SEND, 1));
	EXPECT_EQ(-EINVAL, dup_raw(fd, MBX_RECV, 0x80000000U));
	EXPECT_EQ(1, T_INFO(fd, senders));
	EXPECT_EQ(1, T_INFO(fd, receivers));
	close(fd);
}

TEST(dup_with_bad_pointer_is_efault)
{
	int fd = t_anon(4, 64);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EFAULT, t_ioctl(fd, MBX_IOC_PORT_DUP, t_bad_ptr()));
	close(fd);
}

TEST(dup_on_the_control_device_is_enotty)
{
	struct mbx_port_dup d = { .flags = MBX_SEND };
	int dev = t_dev();

	ASSERT_LE(0, dev);
	EXPECT_EQ(-ENOTTY, t_ioctl(dev, MBX_IOC_PORT_DUP, &d));
	close(dev);
}

/* ---- file flags ------------------------------------------------------- */

TEST(dup_cloexec_sets_fd_cloexec_only_on_the_new_fd)
{
	int fd = t_anon(4, 64);
	int a, b;

	ASSERT_LE(0, fd);
	a = mbx_port_dup(fd, MBX_SEND | MBX_CLOEXEC);
	ASSERT_LE(0, a);
	b = mbx_port_dup(fd, MBX_SEND);
	ASSERT_LE(0, b);
	EXPECT_EQ(FD_CLOEXEC, fd_flags(a) & FD_CLOEXEC);
	EXPECT_EQ(0, fd_flags(b) & FD_CLOEXEC);
	EXPECT_EQ(0, fd_flags(fd) & FD_CLOEXEC);
	close(a);
	close(b);
	close(fd);
}

TEST(dup_nonblock_makes_the_new_fd_nonblocking_only)
{
	char buf[16];
	int fd = t_anon(1, 64);
	int nb, r, s;

	ASSERT_LE(0, fd);
	nb = mbx_port_dup(fd, MBX_RECV | MBX_NONBLOCK);
	ASSERT_LE(0, nb);
	EXPECT_EQ(O_NONBLOCK, fl_flags(nb) & O_NONBLOCK);
	EXPECT_EQ(0, fl_flags(fd) & O_NONBLOCK);

	/* empty queue: read() and an untimed recv fail at once */
	errno = 0;
	EXPECT_EQ(-1, read(nb, buf, sizeof(buf)));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-EAGAIN, mbx_recv(nb, buf, sizeof(buf), NULL));

	/* a send-only nonblocking dup: full queue fails at once */
	s = mbx_port_dup(fd, MBX_SEND | MBX_NONBLOCK);
	ASSERT_LE(0, s);
	EXPECT_EQ(0, t_send_str(s, "a", 0));
	EXPECT_EQ(-EAGAIN, t_send_str(s, "b", 0));
	errno = 0;
	EXPECT_EQ(-1, write(s, "c", 1));
	EXPECT_EQ(EAGAIN, errno);

	/* a blocking dup stays blocking */
	r = mbx_port_dup(fd, MBX_RECV);
	ASSERT_LE(0, r);
	EXPECT_EQ(0, fl_flags(r) & O_NONBLOCK);
	close(r);
	close(s);
	close(nb);
	close(fd);
}

/* ---- counts ----------------------------------------------------------- */

TEST(port_info_counts_senders_and_receivers_per_fd)
{
	int fd = t_anon(4, 64);
	int s, r, b;

	ASSERT_LE(0, fd);
	EXPECT_EQ(1, T_INFO(fd, senders));
	EXPECT_EQ(1, T_INFO(fd, receivers));

	s = mbx_port_dup(fd, MBX_SEND);
	ASSERT_LE(0, s);
	EXPECT_EQ(2, T_INFO(fd, senders));
	EXPECT_EQ(1, T_INFO(fd, receivers));

	r = mbx_port_dup(fd, MBX_RECV);
	ASSERT_LE(0, r);
	EXPECT_EQ(2, T_INFO(fd, senders));
	EXPECT_EQ(2, T_INFO(fd, receivers));

	b = mbx_port_dup(fd, MBX_SEND | MBX_RECV);
	ASSERT_LE(0, b);
	EXPECT_EQ(3, T_INFO(fd, senders));
	EXPECT_EQ(3, T_INFO(fd, receivers));

	close(b);
	EXPECT_EQ(2, T_INFO(fd, senders));
	EXPECT_EQ(2, T_INFO(fd, receivers));
	close(s);
	EXPECT_EQ(1, T_INFO(fd, senders));
	EXPECT_EQ(2, T_INFO(fd, receivers));
	close(fd);
	EXPECT_EQ(0, T_INFO(r, senders));
	EXPECT_EQ(1, T_INFO(r, receivers));
	close(r);
}

TEST(dup_of_fd_counts_once_per_open_file_not_per_fd)
{
	int fd = t_anon(4, 64);
	int s, s2;

	ASSERT_LE(0, fd);
	s = mbx_port_dup(fd, MBX_SEND);
	ASSERT_LE(0, s);
	/* dup(2) shares the open file description: no new sender */
	s2 = dup(s);
	ASSERT_LE(0, s2);
	EXPECT_EQ(2, T_INFO(fd, senders));
	close(s);
	EXPECT_EQ(2, T_INFO(fd, senders));
	close(s2);
	EXPECT_EQ(1, T_INFO(fd, senders));
	close(fd);
}

/* ---- mbx_port_pair ---------------------------------------------------- */

TEST(port_pair_gives_recv_only_fds0_and_send_only_fds1)
{
	char buf[16];
	int fds[2];

	ASSERT_EQ(0, pair(4, 0, fds));
	EXPECT_EQ(MBX_RECV, T_INFO(fds[0], access));
	EXPECT_EQ(MBX_SEND, T_INFO(fds[1], access));
	EXPECT_EQ(info_id(fds[0]), info_id(fds[1]));
	/* the original fd is gone: one sender, one receiver */
	EXPECT_EQ(1, T_INFO(fds[0], senders));
	EXPECT_EQ(1, T_INFO(fds[0], receivers));

	EXPECT_EQ(0, t_send_str(fds[1], "ping", 0));
	EXPECT_EQ(4, t_recv_str(fds[0], buf, sizeof(buf), NULL));
	EXPECT_STREQ("ping", buf);

	EXPECT_EQ(-EBADF, t_send_str(fds[0], "x", 0));
	EXPECT_EQ(-EBADF, mbx_recv_nonblock(fds[1], buf, sizeof(buf), NULL));
	close(fds[0]);
	close(fds[1]);
}

TEST(port_pair_applies_cloexec_and_nonblock_to_both_fds)
{
	char buf[16];
	int fds[2];

	ASSERT_EQ(0, pair(1, MBX_CLOEXEC | MBX_NONBLOCK, fds));
	EXPECT_EQ(FD_CLOEXEC, fd_flags(fds[0]) & FD_CLOEXEC);
	EXPECT_EQ(FD_CLOEXEC, fd_flags(fds[1]) & FD_CLOEXEC);
	EXPECT_EQ(O_NONBLOCK, fl_flags(fds[0]) & O_NONBLOCK);
	EXPECT_EQ(O_NONBLOCK, fl_flags(fds[1]) & O_NONBLOCK);
	EXPECT_EQ(-EAGAIN, mbx_recv(fds[0], buf, sizeof(buf), NULL));
	EXPECT_EQ(0, t_send_str(fds[1], "a", 0));
	EXPECT_EQ(-EAGAIN, t_send_str(fds[1], "b", 0));
	close(fds[0]);
	close(fds[1]);

	ASSERT_EQ(0, pair(1, 0, fds));
	EXPECT_EQ(0, fd_flags(fds[0]) & FD_CLOEXEC);
	EXPECT_EQ(0, fd_flags(fds[1]) & FD_CLOEXEC);
	EXPECT_EQ(0, fl_flags(fds[0]) & O_NONBLOCK);
	EXPECT_EQ(0, fl_flags(fds[1]) & O_NONBLOCK);
	close(fds[0]);
	close(fds[1]);
}

TEST(port_pair_refuses_a_name)
{
	struct mbx_port_create c;
	int fds[2] = { -1, -1 };

	memset(&c, 0, sizeof(c));
	c.capacity = 1;
	c.mode = 0600;
	strcpy(c.name, "mbxt.dup.pair");
	EXPECT_EQ(-EINVAL, mbx_port_pair(MBX_DEV_AUTO, &c, fds));
	EXPECT_EQ(-1, fds[0]);
	EXPECT_EQ(-1, fds[1]);
	EXPECT_EQ(-ENOENT, mbx_port_open(MBX_DEV_AUTO, c.name, MBX_SEND));
}

/* ---- end of stream ---------------------------------------------------- */

TEST(end_of_stream_after_the_sending_child_exits)
{
	char buf[16];
	struct mbx_recv rv;
	int fds[2];
	pid_t pid;

	ASSERT_EQ(0, pair(4, 0, fds));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(fds[0]);
		if (t_send_str(fds[1], "one", 0) || t_send_str(fds[1], "two", 0))
			_exit(T_BAD_DATA);
		_exit(0);	/* still holding fds[1] */
	}
	close(fds[1]);
	ASSERT_EQ(0, t_reap(pid));
	EXPECT_EQ(0, T_INFO(fds[0], senders));

	/* what was queued is still delivered, then end of stream */
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(3, read(fds[0], buf, sizeof(buf)));
	EXPECT_STREQ("one", buf);
	memset(&rv, 0, sizeof(rv));
	rv.buf = (uintptr_t)buf;
	rv.len = sizeof(buf);
	EXPECT_EQ(0, t_ioctl(fds[0], MBX_IOC_RECV, &rv));
	EXPECT_EQ(3, rv.len);
	EXPECT_EQ(0, read(fds[0], buf, sizeof(buf)));
	EXPECT_EQ(0, read(fds[0], buf, sizeof(buf)));
	EXPECT_EQ(-EPIPE, mbx_recv(fds[0], buf, sizeof(buf), NULL));
	EXPECT_EQ(-EPIPE, mbx_recv_nonblock(fds[0], buf, sizeof(buf), NULL));
	close(fds[0]);
}

/* A child that waits for a receiver to block on @fd, then exits. */
static pid_t exit_when_receiver_blocks(int fd)
{
	pid_t pid = t_fork();

	if (pid == 0)
		_exit(T_WAIT(fd, recv_waiting, 1) ? T_BAD_SETUP : 0);
	return pid;
}

TEST(blocked_recv_gets_epipe_when_last_send_end_exits)
{
	char buf[16];
	pid_t rpid, spid;
	int fds[2];

	ASSERT_EQ(0, pair(4, 0, fds));
	rpid = t_fork();
	ASSERT_LE(0, rpid);
	if (rpid == 0) {
		close(fds[1]);
		_exit(t_code(mbx_recv(fds[0], buf, sizeof(buf), NULL)));
	}
	spid = exit_when_receiver_blocks(fds[1]);
	ASSERT_LE(0, spid);
	/* the exiting child holds the last send end */
	close(fds[1]);
	EXPECT_EQ(0, t_reap(spid));
	EXPECT_EQ(EPIPE, t_reap(rpid));
	EXPECT_EQ(0, T_INFO(fds[0], recv_waiting));
	close(fds[0]);
}

TEST(blocked_read_returns_zero_when_last_send_end_exits)
{
	char buf[16];
	pid_t rpid, spid;
	int fds[2];

	ASSERT_EQ(0, pair(4, 0, fds));
	rpid = t_fork();
	ASSERT_LE(0, rpid);
	if (rpid == 0) {
		ssize_t n;

		close(fds[1]);
		n = read(fds[0], buf, sizeof(buf));
		_exit(n == 0 ? 0 : n < 0 ? errno : T_BAD_SUCCESS);
	}
	spid = exit_when_receiver_blocks(fds[1]);
	ASSERT_LE(0, spid);
	close(fds[1]);
	EXPECT_EQ(0, t_reap(spid));
	EXPECT_EQ(0, t_reap(rpid));
	close(fds[0]);
}

TEST(blocked_recv_gets_epipe_when_last_send_end_is_closed)
{
	char buf[16];
	int fds[2];
	pid_t pid;

	ASSERT_EQ(0, pair(4, 0, fds));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(fds[1]);
		_exit(t_code(mbx_recv(fds[0], buf, sizeof(buf), NULL)));
	}
	ASSERT_EQ(0, T_WAIT(fds[0], recv_waiting, 1));
	ASSERT_TRUE(t_stays_blocked(pid));
	close(fds[1]);
	EXPECT_EQ(EPIPE, t_reap(pid));
	close(fds[0]);
}

TEST(no_end_of_stream_while_another_send_end_is_open)
{
	char buf[16];
	int fds[2];
	int s2;

	ASSERT_EQ(0, pair(4, 0, fds));
	s2 = mbx_port_dup(fds[1], MBX_SEND);
	ASSERT_LE(0, s2);
	close(fds[1]);
	EXPECT_EQ(-EAGAIN, mbx_recv_nonblock(fds[0], buf, sizeof(buf), NULL));
	close(s2);
	EXPECT_EQ(-EPIPE, mbx_recv_nonblock(fds[0], buf, sizeof(buf), NULL));
	close(fds[0]);
}

TEST(a_send_and_recv_fd_counts_as_a_sender_and_prevents_end_of_stream)
{
	char buf[16];
	int fd = t_anon(4, 64);
	int r;

	ASSERT_LE(0, fd);
	r = mbx_port_dup(fd, MBX_RECV);
	ASSERT_LE(0, r);
	/* the receiver still holds a send-and-receive fd: no end of stream */
	EXPECT_EQ(-EAGAIN, mbx_recv_nonblock(r, buf, sizeof(buf), NULL));
	EXPECT_EQ(-EAGAIN, mbx_recv_nonblock(fd, buf, sizeof(buf), NULL));
	close(fd);
	EXPECT_EQ(-EPIPE, mbx_recv_nonblock(r, buf, sizeof(buf), NULL));
	close(r);
}

TEST(send_fails_epipe_when_every_receive_end_is_closed)
{
	sigset_t pending;
	int fds[2];

	ASSERT_EQ(0, pair(4, 0, fds));
	close(fds[0]);
	EXPECT_EQ(0, T_INFO(fds[1], receivers));
	EXPECT_EQ(-EPIPE, t_send_str(fds[1], "x", 0));
	errno = 0;
	EXPECT_EQ(-1, write(fds[1], "x", 1));
	EXPECT_EQ(EPIPE, errno);
	/* no SIGPIPE either (it would have killed us; check it is not pending) */
	sigemptyset(&pending);
	ASSERT_EQ(0, sigpending(&pending));
	EXPECT_EQ(0, sigismember(&pending, SIGPIPE));
	EXPECT_EQ(0, T_INFO(fds[1], queued));
	EXPECT_EQ(0, T_INFO(fds[1], sent));
	close(fds[1]);
}

TEST(blocked_send_gets_epipe_when_last_receive_end_is_closed)
{
	int fds[2];
	pid_t pid;

	ASSERT_EQ(0, pair(1, 0, fds));
	ASSERT_EQ(0, t_send_str(fds[1], "full", 0));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(fds[0]);
		_exit(t_code(t_send_str(fds[1], "more", 0)));
	}
	ASSERT_EQ(0, T_WAIT(fds[1], send_waiting, 1));
	close(fds[0]);
	EXPECT_EQ(EPIPE, t_reap(pid));
	EXPECT_EQ(0, T_INFO(fds[1], send_waiting));
	EXPECT_EQ(1, T_INFO(fds[1], sent));
	close(fds[1]);
}

/* ---- poll ------------------------------------------------------------- */

TEST(poll_hup_only_once_queue_is_drained_after_last_sender)
{
	struct pollfd p;
	char buf[16];
	int fds[2];

	ASSERT_EQ(0, pair(4, 0, fds));
	p.fd = fds[0];
	p.events = POLLIN;
	p.revents = 0;
	EXPECT_EQ(0, poll(&p, 1, 0));

	ASSERT_EQ(0, t_send_str(fds[1], "m", 0));
	close(fds[1]);
	/* a message is still queued: readable, not yet hung up */
	EXPECT_EQ(1, poll(&p, 1, 0));
	EXPECT_EQ(POLLIN, p.revents & (POLLIN | POLLHUP));

	EXPECT_EQ(1, t_recv_str(fds[0], buf, sizeof(buf), NULL));
	EXPECT_EQ(1, poll(&p, 1, 0));
	EXPECT_EQ(POLLHUP, p.revents & (POLLIN | POLLHUP | POLLERR));
	close(fds[0]);
}

TEST(epoll_wait_is_woken_with_epollhup_when_last_send_end_exits)
{
	struct epoll_event ev = { .events = EPOLLIN };
	pid_t pid, me = getpid();
	int fds[2], ep, n;

	ASSERT_EQ(0, pair(4, 0, fds));
	ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, fds[0], &ev));

	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* exit holding the last send end once the parent sleeps */
		t_wait_sleeping(me);
		_exit(0);
	}
	close(fds[1]);
	memset(&ev, 0, sizeof(ev));
	n = epoll_wait(ep, &ev, 1, T_WAIT_MS);
	EXPECT_EQ(1, n);
	EXPECT_EQ(EPOLLHUP, ev.events & (EPOLLIN | EPOLLHUP | EPOLLERR));
	EXPECT_EQ(0, t_reap(pid));
	close(ep);
	close(fds[0]);
}

TEST(send_end_polls_epollerr_when_every_receive_end_is_closed)
{
	struct pollfd p;
	int fds[2];

	ASSERT_EQ(0, pair(4, 0, fds));
	p.fd = fds[1];
	p.events = POLLOUT;
	p.revents = 0;
	EXPECT_EQ(1, poll(&p, 1, 0));
	EXPECT_EQ(POLLOUT, p.revents & (POLLOUT | POLLERR));
	close(fds[0]);
	EXPECT_EQ(1, poll(&p, 1, 0));
	EXPECT_EQ(POLLERR, p.revents & POLLERR);
	close(fds[1]);
}

TEST_HARNESS_MAIN
