// SPDX-License-Identifier: GPL-2.0
/*
 * poll and epoll readiness in every port state, and wake-ups of a waiting
 * poller.  Every test runs twice: with poll(2) and with epoll(7).
 *
 *   EPOLLIN   the fd may receive and a receive would not block
 *   EPOLLOUT  the fd may send and a send would not block
 *   EPOLLHUP  shutdown, or end of stream
 *   EPOLLERR  the fd may send but no fd may receive
 */
#define _GNU_SOURCE
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>

#include "kselftest_harness.h"
#include "mbx_helpers.h"

#define EV_MASK (POLLIN | POLLOUT | POLLHUP | POLLERR)

FIXTURE(ready) {
	char name[MBX_NAME_LEN];
};

FIXTURE_VARIANT(ready) {
	bool epoll;
};

FIXTURE_VARIANT_ADD(ready, poll) {
	.epoll = false,
};

FIXTURE_VARIANT_ADD(ready, epoll) {
	.epoll = true,
};

FIXTURE_SETUP(ready)
{
	signal(SIGPIPE, SIG_IGN);
	t_name(self->name, "poll");
}

FIXTURE_TEARDOWN(ready)
{
	t_unlink_all();
}

static int wait_epoll(int fd, short events, int ms)
{
	struct epoll_event ev = { .events = (uint32_t)events };
	int ep, n;

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return -errno;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev)) {
		n = -errno;
		close(ep);
		return n;
	}
	memset(&ev, 0, sizeof(ev));
	n = epoll_wait(ep, &ev, 1, ms);
	if (n < 0)
		n = -errno;
	else
		n = n ? (int)(ev.events & EV_MASK) : 0;
	close(ep);
	return n;
}

/*
 * Wait up to @ms for any of @events on @fd; returns the reported events
 * (masked to IN/OUT/HUP/ERR), 0 on timeout, or -errno.
 */
static int wait_events(bool use_epoll, int fd, short events, int ms)
{
	if (!use_epoll) {
		struct pollfd p = { .fd = fd, .events = events };
		int n = poll(&p, 1, ms);

		if (n < 0)
			return -errno;
		return n ? p.revents & EV_MASK : 0;
	}
	return wait_epoll(fd, events, ms);
}

/* Readiness right now, asking for both directions. */
static int now(bool use_epoll, int fd)
{
	return wait_events(use_epoll, fd, POLLIN | POLLOUT, 0);
}

/* A named port, a receive-only and a send-only fd on it. */
static int named_port(const char *name, uint32_t capacity, int *r, int *s)
{
	int fd = t_port(capacity, 64, 0600, name, 0);

	if (fd < 0)
		return fd;
	*r = mbx_port_open(MBX_DEV_AUTO, name, MBX_RECV);
	*s = mbx_port_open(MBX_DEV_AUTO, name, MBX_SEND);
	if (*r < 0 || *s < 0)
		return -EIO;
	return fd;
}

TEST_F(ready, empty_queue_is_writable_only)
{
	int fd = t_anon(2, 64);

	ASSERT_LE(0, fd);
	EXPECT_EQ(POLLOUT, now(variant->epoll, fd));
}

TEST_F(ready, queue_with_message_and_room_is_readable_and_writable)
{
	int fd = t_anon(2, 64);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_str(fd, "m", 0));
	EXPECT_EQ(POLLIN | POLLOUT, now(variant->epoll, fd));
}

TEST_F(ready, full_queue_is_readable_only)
{
	char buf[8];
	int fd = t_anon(2, 64);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_str(fd, "a", 0));
	ASSERT_EQ(0, t_send_str(fd, "b", 0));
	EXPECT_EQ(POLLIN, now(variant->epoll, fd));
	/* and writable again once a slot frees */
	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_EQ(POLLIN | POLLOUT, now(variant->epoll, fd));
}

TEST_F(ready, rendezvous_without_waiters_is_neither)
{
	int fd = t_anon(0, 64);

	ASSERT_LE(0, fd);
	EXPECT_EQ(0, now(variant->epoll, fd));
}

TEST_F(ready, rendezvous_with_waiting_receiver_is_writable)
{
	char buf[8];
	pid_t pid;
	int fd = t_anon(0, 64);

	ASSERT_LE(0, fd);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(t_code(mbx_recv(fd, buf, sizeof(buf), NULL)));
	ASSERT_EQ(0, T_WAIT(fd, recv_waiting, 1));
	EXPECT_EQ(POLLOUT, now(variant->epoll, fd));
	ASSERT_EQ(0, mbx_send_nonblock(fd, "x", 1, 0));
	EXPECT_EQ(0, t_reap(pid));
	EXPECT_EQ(0, now(variant->epoll, fd));
}

TEST_F(ready, rendezvous_with_waiting_sender_is_readable)
{
	char buf[8];
	pid_t pid;
	int fd = t_anon(0, 64);

	ASSERT_LE(0, fd);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(t_code(t_send_str(fd, "x", 0)));
	ASSERT_EQ(0, T_WAIT(fd, send_waiting, 1));
	EXPECT_EQ(POLLIN, now(variant->epoll, fd));
	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_EQ(0, t_reap(pid));
	EXPECT_EQ(0, now(variant->epoll, fd));
}

TEST_F(ready, shutdown_reports_hup)
{
	int fd = t_anon(2, 64);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, mbx_shutdown(fd));
	/* empty: only HUP, as for a pipe whose writers are gone */
	EXPECT_EQ(POLLHUP, now(variant->epoll, fd));
}

TEST_F(ready, shutdown_with_queued_message_reports_in_and_hup)
{
	int fd = t_anon(2, 64);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_str(fd, "m", 0));
	ASSERT_EQ(0, mbx_shutdown(fd));
	EXPECT_EQ(POLLIN | POLLHUP, now(variant->epoll, fd) &
		  (POLLIN | POLLHUP));
}

TEST_F(ready, end_of_stream_reports_hup)
{
	int fd, r, s;

	fd = named_port(self->name, 2, &r, &s);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, mbx_port_unlink(MBX_DEV_AUTO, self->name));
	close(fd);
	EXPECT_EQ(0, now(variant->epoll, r) & POLLHUP);
	close(s);
	EXPECT_EQ(POLLHUP, now(variant->epoll, r));
}

TEST_F(ready, anonymous_receive_end_reports_hup_at_end_of_stream)
{
	struct mbx_port_create c = { .capacity = 2, .max_msg_size = 64 };
	char buf[8];
	int fds[2];

	ASSERT_EQ(0, mbx_port_pair(MBX_DEV_AUTO, &c, fds));
	ASSERT_EQ(0, t_send_str(fds[1], "m", 0));
	close(fds[1]);
	/* a queued message first */
	EXPECT_EQ(POLLIN, now(variant->epoll, fds[0]) & (POLLIN | POLLHUP));
	ASSERT_EQ(1, t_recv_str(fds[0], buf, sizeof(buf), NULL));
	EXPECT_EQ(POLLHUP, now(variant->epoll, fds[0]));
}

TEST_F(ready, anonymous_send_end_reports_err_without_receive_end)
{
	struct mbx_port_create c = { .capacity = 2, .max_msg_size = 64 };
	int fds[2];

	ASSERT_EQ(0, mbx_port_pair(MBX_DEV_AUTO, &c, fds));
	EXPECT_EQ(POLLOUT, now(variant->epoll, fds[1]));
	close(fds[0]);
	EXPECT_EQ(POLLERR, now(variant->epoll, fds[1]) & (POLLERR | POLLIN));
}

TEST_F(ready, linked_named_port_without_senders_reports_nothing)
{
	int fd, r, s;

	fd = named_port(self->name, 2, &r, &s);
	ASSERT_LE(0, fd);
	close(fd);
	close(s);
	EXPECT_EQ(0, T_INFO(r, senders));
	EXPECT_EQ(0, now(variant->epoll, r));
}

TEST_F(ready, send_fd_without_receivers_reports_err)
{
	int fd, r, s;

	fd = named_port(self->name, 2, &r, &s);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, mbx_port_unlink(MBX_DEV_AUTO, self->name));
	close(fd);
	EXPECT_EQ(POLLOUT, now(variant->epoll, s));
	close(r);
	EXPECT_EQ(POLLERR, now(variant->epoll, s) & (POLLERR | POLLIN));
	EXPECT_EQ(-EPIPE, t_send_str(s, "x", 0));
}

TEST_F(ready, receive_only_fd_never_reports_out)
{
	int fd, r, s;

	fd = named_port(self->name, 2, &r, &s);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, now(variant->epoll, r));
	ASSERT_EQ(0, t_send_str(fd, "m", 0));
	EXPECT_EQ(POLLIN, now(variant->epoll, r));
}

TEST_F(ready, send_only_fd_never_reports_in)
{
	int fd, r, s;

	fd = named_port(self->name, 2, &r, &s);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_str(fd, "m", 0));
	EXPECT_EQ(POLLOUT, now(variant->epoll, s));
	ASSERT_EQ(0, t_send_str(fd, "n", 0));
	EXPECT_EQ(0, now(variant->epoll, s));
}

/* ---- wake-ups: the poller is a child, the parent changes the state ---- */

TEST_F(ready, poller_wakes_when_message_arrives)
{
	pid_t pid;
	int fd = t_anon(2, 64);

	ASSERT_LE(0, fd);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char buf[8];
		int ev = wait_events(variant->epoll, fd, POLLIN, T_WAIT_MS);

		if (ev != POLLIN)
			_exit(ev < 0 ? t_code(ev) : T_BAD_DATA);
		_exit(t_code(t_recv_str(fd, buf, sizeof(buf), NULL)));
	}
	ASSERT_EQ(0, t_wait_sleeping(pid));
	ASSERT_EQ(0, t_send_str(fd, "m", 0));
	EXPECT_EQ(0, t_reap(pid));
}

TEST_F(ready, poller_wakes_when_room_frees)
{
	pid_t pid;
	char buf[8];
	int fd = t_anon(1, 64);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_str(fd, "f", 0));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int ev = wait_events(variant->epoll, fd, POLLOUT, T_WAIT_MS);

		if (ev != POLLOUT)
			_exit(ev < 0 ? t_code(ev) : T_BAD_DATA);
		_exit(t_code(mbx_send_nonblock(fd, "g", 1, 0)));
	}
	ASSERT_EQ(0, t_wait_sleeping(pid));
	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_EQ(0, t_reap(pid));
	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("g", buf);
}

TEST_F(ready, poller_wakes_on_shutdown_with_hup)
{
	pid_t pid;
	int fd = t_anon(2, 64);

	ASSERT_LE(0, fd);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int ev = wait_events(variant->epoll, fd, POLLIN, T_WAIT_MS);

		_exit(ev < 0 ? t_code(ev) : (ev & POLLHUP) ? 0 : T_BAD_DATA);
	}
	ASSERT_EQ(0, t_wait_sleeping(pid));
	ASSERT_EQ(0, mbx_shutdown(fd));
	EXPECT_EQ(0, t_reap(pid));
}

TEST_F(ready, poller_wakes_on_end_of_stream_with_hup)
{
	int fd, r, s;
	pid_t pid;

	fd = named_port(self->name, 2, &r, &s);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, mbx_port_unlink(MBX_DEV_AUTO, self->name));
	close(s);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int ev;

		close(fd);	/* the parent holds the last sender */
		ev = wait_events(variant->epoll, r, POLLIN, T_WAIT_MS);
		_exit(ev < 0 ? t_code(ev) : (ev & POLLHUP) ? 0 : T_BAD_DATA);
	}
	ASSERT_EQ(0, t_wait_sleeping(pid));
	close(fd);
	EXPECT_EQ(0, t_reap(pid));
}

TEST_F(ready, poller_wakes_when_rendezvous_receiver_arrives)
{
	pid_t poller, receiver;
	char buf[8];
	int fd = t_anon(0, 64);

	ASSERT_LE(0, fd);
	poller = t_fork();
	ASSERT_LE(0, poller);
	if (poller == 0) {
		int ev = wait_events(variant->epoll, fd, POLLOUT, T_WAIT_MS);

		if (ev != POLLOUT)
			_exit(ev < 0 ? t_code(ev) : T_BAD_DATA);
		_exit(t_code(mbx_send_nonblock(fd, "v", 1, 0)));
	}
	ASSERT_EQ(0, t_wait_sleeping(poller));
	receiver = t_fork();
	ASSERT_LE(0, receiver);
	if (receiver == 0) {
		ssize_t n = mbx_recv(fd, buf, sizeof(buf), NULL);

		_exit(n == 1 && buf[0] == 'v' ? 0 : n < 0 ? t_code(n) :
						      T_BAD_DATA);
	}
	EXPECT_EQ(0, t_reap(poller));
	EXPECT_EQ(0, t_reap(receiver));
}

TEST_F(ready, poller_wakes_when_rendezvous_sender_arrives)
{
	pid_t poller, sender;
	int fd = t_anon(0, 64);

	ASSERT_LE(0, fd);
	poller = t_fork();
	ASSERT_LE(0, poller);
	if (poller == 0) {
		char buf[8];
		int ev = wait_events(variant->epoll, fd, POLLIN, T_WAIT_MS);

		if (ev != POLLIN)
			_exit(ev < 0 ? t_code(ev) : T_BAD_DATA);
		_exit(t_code(t_recv_str(fd, buf, sizeof(buf), NULL)));
	}
	ASSERT_EQ(0, t_wait_sleeping(poller));
	sender = t_fork();
	ASSERT_LE(0, sender);
	if (sender == 0)
		_exit(t_code(t_send_str(fd, "s", 0)));
	EXPECT_EQ(0, t_reap(poller));
	EXPECT_EQ(0, t_reap(sender));
}

TEST_HARNESS_MAIN
