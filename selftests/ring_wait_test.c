// SPDX-License-Identifier: GPL-2.0
/*
 * Ring ports (see ring_test.c): waiting and the life of a ring.
 * Non-blocking fds, a blocked consumer or producer woken, signals, poll
 * and epoll, shutdown, a side gone and a new one, end of stream, fork,
 * what the copy calls do on a ring port, fdinfo, accounting, an idle
 * ring's CPU time, and wake-up races between two vCPUs with and without
 * spinning.
 */
#define _GNU_SOURCE
#include "ring/ring.h"

TEST(nonblocking_fd)
{
	struct mbx_ring *c;
	size_t len;
	int fd;

	fd = mbx_ring_port_create(MBX_DEV_AUTO, NULL, RSZ, 0600, MBX_NONBLOCK);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, attach(fd, MBX_RING_CONSUMER, &c));
	/* A blocking call on a non-blocking fd spins, then EAGAIN. */
	EXPECT_EQ(NULL, mbx_ring_peek(c, &len, MBX_RING_FOREVER));
	EXPECT_EQ(EAGAIN, errno);
	mbx_ring_detach(c);
	close(fd);
}

/* A child that sends @n records of @len bytes, one every @gap_ms. */
static pid_t sender(int fd, int n, size_t len, unsigned int gap_ms)
{
	struct mbx_ring *p;
	char buf[256];
	pid_t pid;
	int i;

	pid = t_fork();
	if (pid)
		return pid;
	if (attach(fd, MBX_RING_PRODUCER, &p))
		_exit(T_BAD_SETUP);
	for (i = 0; i < n; i++) {
		if (gap_ms)
			t_sleep_ms(gap_ms);
		t_fill(buf, len, i);
		if (ring_send(p, buf, len, 10000 * MS))
			_exit(errno);
	}
	_exit(0);
}

TEST_F(ring, blocked_consumer_is_woken)
{
	char buf[256];
	pid_t pid;
	int i;

	mbx_ring_detach(self->prod);
	self->prod = NULL;
	/* The fixture's file holds the producer role: a child inherits it. */
	pid = sender(self->fd, 20, 100, 20);
	ASSERT_LT(0, pid);
	for (i = 0; i < 20; i++) {
		ASSERT_EQ(100, ring_recv(self->cons, buf, sizeof(buf),
					 MBX_RING_FOREVER));
		ASSERT_TRUE(t_check(buf, 100, i));
	}
	EXPECT_EQ(0, t_reap(pid));
}

TEST_F(ring, blocked_producer_is_woken)
{
	static char buf[RSZ];
	pid_t pid;
	int i;

	ASSERT_EQ(0, ring_send(self->prod, buf, RSZ - 8, 0));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(ring_send(self->prod, buf, 100, 10000 * MS) ? errno : 0);
	ASSERT_EQ(1, t_stays_blocked(pid));
	EXPECT_EQ(RSZ - 8, ring_recv(self->cons, buf, sizeof(buf), 0));
	EXPECT_EQ(0, t_reap(pid));
	EXPECT_EQ(100, ring_recv(self->cons, buf, sizeof(buf), 10000 * MS));
	for (i = 0; i < 3; i++)
		EXPECT_EQ(-EAGAIN, ring_recv(self->cons, buf, sizeof(buf), 0));
}

static void *raise_later(void *arg)
{
	t_sleep_ms(100);
	pthread_kill(*(pthread_t *)arg, SIGUSR1);
	return NULL;
}

TEST_F(ring, signal_interrupts_waits)
{
	struct sigaction sa = { .sa_handler = sig_nop };
	pthread_t self_th = pthread_self(), th;
	size_t len;

	/* No SA_RESTART: both the untimed and the timed wait end in EINTR. */
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	ASSERT_EQ(0, pthread_create(&th, NULL, raise_later, &self_th));
	EXPECT_EQ(NULL, mbx_ring_peek(self->cons, &len, MBX_RING_FOREVER));
	EXPECT_EQ(EINTR, errno);
	pthread_join(th, NULL);
	ASSERT_EQ(0, pthread_create(&th, NULL, raise_later, &self_th));
	EXPECT_EQ(NULL, mbx_ring_peek(self->cons, &len, 5000 * MS));
	EXPECT_EQ(EINTR, errno);
	pthread_join(th, NULL);
	/* Nothing was lost or taken. */
	EXPECT_EQ(0, ring_send(self->prod, "z", 1, 0));
	EXPECT_NE(NULL, mbx_ring_peek(self->cons, &len, 0));
	signal(SIGUSR1, SIG_DFL);
}

TEST_F(ring, poll_and_epoll)
{
	struct pollfd pfd = { .fd = self->fd, .events = POLLIN | POLLOUT };
	struct epoll_event ev = { .events = EPOLLIN }, out;
	static char buf[RSZ];
	int ep, rd;
	pid_t pid;

	/* The fixture's file holds both roles: room, nothing to read. */
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLOUT, pfd.revents);
	ASSERT_EQ(0, ring_send(self->prod, buf, 10, 0));
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLIN | POLLOUT, pfd.revents);
	ASSERT_EQ(10, ring_recv(self->cons, buf, sizeof(buf), 0));
	ASSERT_EQ(0, ring_send(self->prod, buf, RSZ - 8, 0));
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLIN, pfd.revents);
	ASSERT_EQ(RSZ - 8, ring_recv(self->cons, buf, sizeof(buf), 0));

	/* A file without a role sees nothing but the end. */
	rd = mbx_port_dup(self->fd, MBX_RECV);
	ASSERT_LE(0, rd);
	pfd.fd = rd;
	EXPECT_EQ(0, poll(&pfd, 1, 0));

	/* epoll wakes when a child commits. */
	ep = epoll_create1(0);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->fd, &ev));
	EXPECT_EQ(0, epoll_wait(ep, &out, 1, 0));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		t_sleep_ms(100);
		_exit(ring_send(self->prod, "hi", 2, 0) ? errno : 0);
	}
	EXPECT_EQ(1, epoll_wait(ep, &out, 1, T_WAIT_MS));
	EXPECT_TRUE(out.events & EPOLLIN);
	EXPECT_EQ(0, t_reap(pid));
	EXPECT_EQ(2, ring_recv(self->cons, buf, sizeof(buf), 0));

	/* Shutdown: EPOLLHUP for everyone. */
	ASSERT_EQ(0, mbx_shutdown(self->fd));
	pfd.fd = rd;
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_TRUE(pfd.revents & POLLHUP);
	close(ep);
	close(rd);
}

/*
 * Edge-triggered epoll asks poll() once, when the file is added: after a
 * drain that ends in EAGAIN, the next commit (or release) must still wake
 * it.  The library once cleared the flag poll() had set at the first
 * record it found, so the second commit made no call and was never seen.
 */
TEST_F(ring, epoll_edge_triggered)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET }, out;
	static char buf[RSZ];
	int ep, i;

	ep = epoll_create1(0);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->fd, &ev));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, ring_send(self->prod, "hi", 2, 0));
		ASSERT_EQ(1, epoll_wait(ep, &out, 1, T_WAIT_MS))
			TH_LOG("commit %d was not reported", i);
		EXPECT_TRUE(out.events & EPOLLIN);
		/* Drain until EAGAIN, as edge-triggered epoll asks. */
		EXPECT_EQ(2, ring_recv(self->cons, buf, sizeof(buf), 0));
		EXPECT_EQ(-EAGAIN, ring_recv(self->cons, buf, sizeof(buf), 0));
		EXPECT_EQ(0, epoll_wait(ep, &out, 1, 0));
	}

	/* The producer's side: room made by a release is reported. */
	ev.events = EPOLLOUT | EPOLLET;
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_MOD, self->fd, &ev));
	EXPECT_EQ(1, epoll_wait(ep, &out, 1, 0));
	for (i = 0; i < 3; i++) {
		/* Fill the ring until EAGAIN. */
		while (!ring_send(self->prod, buf, 1000, 0))
			;
		EXPECT_EQ(-EAGAIN, ring_send(self->prod, buf, 1000, 0));
		EXPECT_EQ(0, epoll_wait(ep, &out, 1, 0));
		while (ring_recv(self->cons, buf, sizeof(buf), 0) > 0)
			;
		ASSERT_EQ(1, epoll_wait(ep, &out, 1, T_WAIT_MS))
			TH_LOG("room %d was not reported", i);
		EXPECT_TRUE(out.events & EPOLLOUT);
	}
	close(ep);
}

/*
 * A wait that times out leaves in place the wake-up poll() asked for:
 * edge-triggered epoll does not ask poll() again, so the next release
 * must wake it.  It once cleared it, and the producer slept for good.
 */
TEST_F(ring, epoll_edge_triggered_after_a_timed_out_wait)
{
	struct epoll_event ev = { .events = EPOLLOUT | EPOLLET }, out;
	static char buf[RSZ];
	int ep;

	ep = epoll_create1(0);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->fd, &ev));
	EXPECT_EQ(1, epoll_wait(ep, &out, 1, 0));
	while (!ring_send(self->prod, buf, 1000, 0))
		;
	/* A record that does not fit: wait for room, a little. */
	EXPECT_EQ(-ETIMEDOUT, ring_send(self->prod, buf, 1000, 1 * MS));
	EXPECT_EQ(0, epoll_wait(ep, &out, 1, 0));
	while (ring_recv(self->cons, buf, sizeof(buf), 0) > 0)
		;
	ASSERT_EQ(1, epoll_wait(ep, &out, 1, T_WAIT_MS))
		TH_LOG("room after a timed-out wait was not reported");
	EXPECT_TRUE(out.events & EPOLLOUT);
	close(ep);
}

TEST_F(ring, shutdown_ends_the_stream)
{
	struct mbx_ring *c;
	char buf[64];
	size_t len;
	pid_t pid;
	int fd;

	ASSERT_EQ(0, ring_send(self->prod, "one", 3, 0));
	ASSERT_EQ(0, ring_send(self->prod, "three", 5, 0));
	ASSERT_EQ(0, mbx_shutdown(self->fd));
	/* The producer is refused; the consumer drains, then end of stream. */
	EXPECT_EQ(-EPIPE, ring_send(self->prod, "four", 4, MBX_RING_FOREVER));
	EXPECT_EQ(3, ring_recv(self->cons, buf, sizeof(buf), 0));
	EXPECT_EQ(5, ring_recv(self->cons, buf, sizeof(buf), MBX_RING_FOREVER));
	EXPECT_EQ(-EPIPE, ring_recv(self->cons, buf, sizeof(buf), 0));
	EXPECT_EQ(-EPIPE, ring_recv(self->cons, buf, sizeof(buf),
				    MBX_RING_FOREVER));

	/* A consumer blocked on an empty ring is woken by the shutdown. */
	fd = ring_port(RSZ);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, attach(fd, MBX_RING_CONSUMER, &c));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(mbx_ring_peek(c, &len, MBX_RING_FOREVER) ? T_BAD_SUCCESS :
		      errno == EPIPE ? 0 : errno);
	ASSERT_EQ(1, t_stays_blocked(pid));
	ASSERT_EQ(0, mbx_shutdown(fd));
	EXPECT_EQ(0, t_reap(pid));
	mbx_ring_detach(c);
	close(fd);
}

TEST(peer_gone_and_a_new_one)
{
	struct mbx_ring *c, *p;
	struct mbx_ring_info ri;
	char buf[256];
	int fd, i, w;
	pid_t pid;

	fd = ring_port(RSZ);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, attach(fd, MBX_RING_CONSUMER, &c));
	/* Each producer has a file of its own, closed when it exits. */
	for (w = 0; w < 3; w++) {
		pid = t_fork();
		ASSERT_LE(0, pid);
		if (!pid) {
			int wr = mbx_port_dup(fd, MBX_SEND);

			close(fd);
			if (wr < 0 || attach(wr, MBX_RING_PRODUCER, &p))
				_exit(T_BAD_SETUP);
			for (i = 0; i < 5; i++) {
				t_fill(buf, 50, w * 10 + i);
				if (ring_send(p, buf, 50, 0))
					_exit(errno);
			}
			_exit(0);
		}
		EXPECT_EQ(0, t_reap(pid));
		/* Drained, then end of stream: the producer is gone. */
		for (i = 0; i < 5; i++) {
			ASSERT_EQ(50, ring_recv(c, buf, sizeof(buf), 0));
			EXPECT_TRUE(t_check(buf, 50, w * 10 + i));
		}
		EXPECT_EQ(-EPIPE, ring_recv(c, buf, sizeof(buf),
					    MBX_RING_FOREVER));
		ASSERT_EQ(0, ring_info(fd, &ri));
		EXPECT_EQ(MBX_RING_ST_CONSUMER | MBX_RING_ST_PRODUCER_GONE,
			  ri.now_status);
	}
	mbx_ring_detach(c);
	close(fd);

	/* The consumer gone: the producer gets EPIPE. */
	fd = ring_port(RSZ);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, attach(fd, MBX_RING_PRODUCER, &p));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int rd = mbx_port_dup(fd, MBX_RECV);

		close(fd);
		_exit(rd < 0 || mbx_ring_attach(rd, MBX_RING_CONSUMER, &c) ?
		      T_BAD_SETUP : 0);
	}
	EXPECT_EQ(0, t_reap(pid));
	EXPECT_EQ(-EPIPE, ring_send(p, "x", 1, MBX_RING_FOREVER));
	ASSERT_EQ(0, ring_info(fd, &ri));
	EXPECT_TRUE(ri.now_status & MBX_RING_ST_CONSUMER_GONE);
	mbx_ring_detach(p);
	close(fd);
}

TEST(end_of_stream_when_no_sender_is_left)
{
	struct mbx_ring *c;
	char buf[8];
	int fd, rd;
	pid_t pid;

	fd = ring_port(RSZ);
	ASSERT_LE(0, fd);
	rd = mbx_port_dup(fd, MBX_RECV);
	ASSERT_LE(0, rd);
	ASSERT_EQ(0, attach(rd, MBX_RING_CONSUMER, &c));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(fd);
		_exit(ring_recv(c, buf, sizeof(buf), MBX_RING_FOREVER) == -EPIPE ?
		      0 : T_BAD_DATA);
	}
	ASSERT_EQ(1, t_stays_blocked(pid));
	/* No producer ever attached, and now nobody can. */
	close(fd);
	EXPECT_EQ(0, t_reap(pid));
	mbx_ring_detach(c);
	close(rd);
}

TEST(fork_shares_the_role)
{
	struct mbx_ring *p, *c;
	char buf[64];
	int fd, i;
	pid_t pid;

	fd = ring_port(RSZ);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, attach(fd, MBX_RING_CONSUMER, &c));
	ASSERT_EQ(0, attach(fd, MBX_RING_PRODUCER, &p));
	ASSERT_EQ(0, ring_send(p, "parent", 6, 0));
	/* The child's copy of the producer goes on where the parent was. */
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		for (i = 0; i < 3; i++)
			if (ring_send(p, "child", 5, 0))
				_exit(errno);
		_exit(0);
	}
	EXPECT_EQ(0, t_reap(pid));
	EXPECT_EQ(6, ring_recv(c, buf, sizeof(buf), 0));
	for (i = 0; i < 3; i++)
		EXPECT_EQ(5, ring_recv(c, buf, sizeof(buf), 0));
	mbx_ring_detach(p);
	/* A new attach in the parent picks up the shared position. */
	ASSERT_EQ(0, attach(fd, MBX_RING_PRODUCER, &p));
	EXPECT_EQ(0, ring_send(p, "again", 5, 0));
	EXPECT_EQ(5, ring_recv(c, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "again", 5));
	mbx_ring_detach(p);
	mbx_ring_detach(c);
	close(fd);
}

TEST_F(ring, copy_calls_are_refused)
{
	struct mbx_send s = { .buf = (uintptr_t)"x", .len = 1 };
	char buf[64];
	struct mbx_recv r = { .buf = (uintptr_t)buf, .len = sizeof(buf),
			      .flags = MBX_NONBLOCK };
	uint64_t off;

	EXPECT_EQ(-1, write(self->fd, "x", 1));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(-1, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(-EOPNOTSUPP, t_ioctl(self->fd, MBX_IOC_SEND, &s));
	EXPECT_EQ(-EOPNOTSUPP, t_ioctl(self->fd, MBX_IOC_RECV, &r));
	EXPECT_EQ(-EOPNOTSUPP, mbx_send_batch(self->fd, &s, 1, 0));
	r.flags = 0;
	EXPECT_EQ(-EOPNOTSUPP, mbx_recv_batch(self->fd, &r, 1, MBX_NONBLOCK));
	EXPECT_EQ(-EOPNOTSUPP, mbx_call(self->fd, "x", 1, -1, buf,
					sizeof(buf), NULL));
	EXPECT_EQ(-ENODEV, mbx_buf_alloc(self->fd, 64, &off));
	/* The ring still works. */
	EXPECT_EQ(0, ring_send(self->prod, "ok", 2, 0));
	EXPECT_EQ(2, ring_recv(self->cons, buf, sizeof(buf), 0));
}

TEST_F(ring, fdinfo_shows_the_ring)
{
	char v[64];

	ASSERT_EQ(0, ring_send(self->prod, "abcd", 4, 0));
	ASSERT_EQ(0, t_fdinfo(self->fd, "mbx-ring-size", v, sizeof(v)));
	EXPECT_EQ(RSZ, strtoull(v, NULL, 0));
	ASSERT_EQ(0, t_fdinfo(self->fd, "mbx-ring-role", v, sizeof(v)));
	EXPECT_STREQ("producer,consumer", v);
	ASSERT_EQ(0, t_fdinfo(self->fd, "mbx-ring-produced", v, sizeof(v)));
	EXPECT_EQ(REC(4), strtoull(v, NULL, 0));
	ASSERT_EQ(0, t_fdinfo(self->fd, "mbx-ring-consumed", v, sizeof(v)));
	EXPECT_EQ(0, strtoull(v, NULL, 0));
	ASSERT_EQ(0, t_fdinfo(self->fd, "mbx-ring-status", v, sizeof(v)));
	EXPECT_EQ(MBX_RING_ST_PRODUCER | MBX_RING_ST_CONSUMER,
		  strtoull(v, NULL, 0));
	ASSERT_EQ(0, t_fdinfo(self->fd, "mbx-ring-consumer-flags", v,
			      sizeof(v)));
}

/* The per-user byte limit covers the ring. */
TEST(accounting)
{
	char old[32];
	int fd, pfd;
	ssize_t n;

	if (getuid())
		SKIP(return, "needs root for the module parameter");
	pfd = open(T_PARAM_DIR "max_bytes_per_user", O_RDWR);
	ASSERT_LE(0, pfd);
	n = read(pfd, old, sizeof(old) - 1);
	ASSERT_LT(0, n);
	old[n] = '\0';
	ASSERT_LT(0, pwrite(pfd, "200000", 6, 0));
	EXPECT_EQ(-EDQUOT, ring_port(256 * 1024));
	fd = ring_port(64 * 1024);
	EXPECT_LE(0, fd);
	EXPECT_EQ(-EDQUOT, ring_port(128 * 1024));
	close(fd);
	fd = ring_port(128 * 1024);
	EXPECT_LE(0, fd);
	close(fd);
	ASSERT_LT(0, pwrite(pfd, old, strlen(old), 0));
	close(pfd);
}

/* A consumer asleep on an idle ring for a second burns (almost) no CPU. */
TEST(idle_ring_burns_no_cpu)
{
	struct mbx_ring *c;
	struct rusage ru;
	uint64_t cpu_us;
	int fd, st;
	pid_t pid;

	fd = ring_port(RSZ);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, attach(fd, MBX_RING_CONSUMER, &c));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		size_t len;

		_exit(mbx_ring_peek(c, &len, 1000 * MS) ? T_BAD_SUCCESS :
		      errno == ETIMEDOUT ? 0 : errno);
	}
	ASSERT_EQ(pid, wait4(pid, &st, 0, &ru));
	EXPECT_EQ(0, WEXITSTATUS(st));
	cpu_us = ru.ru_utime.tv_sec * 1000000ULL + ru.ru_utime.tv_usec +
		 ru.ru_stime.tv_sec * 1000000ULL + ru.ru_stime.tv_usec;
	TH_LOG("idle consumer, 1 s: %llu us of CPU", (unsigned long long)cpu_us);
	/* The spin is 50 us; allow for a slow emulated start-up. */
	EXPECT_GT(100000, cpu_us);
	mbx_ring_detach(c);
	close(fd);
}

/*
 * Ping-pong between two processes over two rings, each side sleeping
 * every time (spin 0) or spinning a random while: a lost wake-up would
 * leave a side asleep until its 10 s timeout.
 */
static void ping_pong(struct __test_metadata *_metadata, uint64_t spin,
		      int rounds)
{
	struct mbx_ring *p1, *c1, *p2, *c2;
	int a, b, i;
	uint32_t v;
	pid_t pid;

	a = ring_port(PG);
	b = ring_port(PG);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (attach(a, MBX_RING_CONSUMER, &c1) ||
		    attach(b, MBX_RING_PRODUCER, &p2))
			_exit(T_BAD_SETUP);
		mbx_ring_set_spin(c1, spin);
		mbx_ring_set_spin(p2, spin);
		for (i = 0; i < rounds; i++) {
			if (ring_recv(c1, &v, sizeof(v), 10000 * MS) != 4)
				_exit(errno ? errno : T_BAD_DATA);
			if (v != (uint32_t)i)
				_exit(T_BAD_DATA);
			v++;
			if (ring_send(p2, &v, 4, 10000 * MS))
				_exit(errno);
		}
		_exit(0);
	}
	ASSERT_EQ(0, attach(a, MBX_RING_PRODUCER, &p1));
	ASSERT_EQ(0, attach(b, MBX_RING_CONSUMER, &c2));
	mbx_ring_set_spin(p1, spin);
	mbx_ring_set_spin(c2, spin);
	for (i = 0; i < rounds; i++) {
		v = i;
		ASSERT_EQ(0, ring_send(p1, &v, 4, 10000 * MS));
		ASSERT_EQ(4, ring_recv(c2, &v, sizeof(v), 10000 * MS));
		ASSERT_EQ((uint32_t)i + 1, v);
	}
	EXPECT_EQ(0, t_reap(pid));
	mbx_ring_detach(p1);
	mbx_ring_detach(c2);
	close(a);
	close(b);
}

TEST(wakeup_race_ping_pong_sleeping)
{
	ping_pong(_metadata, 0, 3000);
}

TEST(wakeup_race_ping_pong_spinning)
{
	ping_pong(_metadata, 20000, 3000);
}

/* A stream through a one-page ring: both sides fill, drain and sleep. */
TEST(wakeup_race_stream)
{
	struct mbx_ring *p, *c;
	uint32_t buf[64];
	int fd, i, n = 10000;
	pid_t pid;
	long got;

	fd = ring_port(PG);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, attach(fd, MBX_RING_CONSUMER, &c));
	ASSERT_EQ(0, attach(fd, MBX_RING_PRODUCER, &p));
	mbx_ring_set_spin(p, 0);
	mbx_ring_set_spin(c, 0);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		for (i = 0; i < n; i++) {
			size_t len = 4 + (i % 16) * 4;

			buf[0] = i;
			if (ring_send(p, buf, len, 10000 * MS))
				_exit(errno);
		}
		_exit(0);
	}
	for (i = 0; i < n; i++) {
		got = ring_recv(c, buf, sizeof(buf), 10000 * MS);
		ASSERT_EQ(4 + (i % 16) * 4, got);
		ASSERT_EQ((uint32_t)i, buf[0]);
	}
	EXPECT_EQ(0, t_reap(pid));
	mbx_ring_detach(p);
	mbx_ring_detach(c);
	close(fd);
}

TEST_HARNESS_MAIN
