// SPDX-License-Identifier: GPL-2.0
/*
 * MBX_IOC_CALL: send on one port, then receive on another (or the same) in
 * one call.  Round trips with a server replying through mbx_reply_recv(),
 * and a receive half that fails (timeout, non-blocking, EMSGSIZE, signal,
 * end of stream, fault): the request stays sent exactly once and the call
 * says so (done == MBX_CALL_SENT), also under a storm of signals.
 *
 * call_errors_test.c has the rest: a send half that fails sends nothing
 * and receives nothing (done == 0); every check made before anything is
 * sent (recv_fd not open, not a port, without receive access; bad flags,
 * priority, timeouts; non-zero flags or reserved; bad pointers) leaves
 * both ports untouched; a rendezvous request port and a pool request with
 * an in-place reply work; a call spins for its reply for at most
 * call_spin_ns (0 to 1 ms), and never while another task waits for its
 * CPU.  Their common part is call/call.h.
 */
#define _GNU_SOURCE
#include <pthread.h>

#include "call/call.h"

/* ---- round trips ------------------------------------------------------ */

TEST_F(call, client_server_round_trips_keep_data_intact)
{
	static char req[4096], rep[4096];
	unsigned int i, done;
	pid_t pid;
	ssize_t n;

	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(serve(self->q, self->r, ROUNDS));

	for (i = 0; i < ROUNDS; i++) {
		t_fill(req, req_len(i), i);
		memset(rep, 0, sizeof(rep));
		done = POISON;
		n = mbx_call(self->q, req, req_len(i), self->r, rep,
			     sizeof(rep), &done);
		ASSERT_EQ((ssize_t)rep_len(i), n) TH_LOG("round %u", i);
		ASSERT_EQ(MBX_CALL_SENT | MBX_CALL_RECEIVED, done);
		ASSERT_TRUE(t_check(rep, n, i + 100000)) TH_LOG("round %u", i);
	}
	EXPECT_EQ(0, t_reap(pid));
	EXPECT_EQ(ROUNDS, SENT(self->q));
	EXPECT_EQ(ROUNDS, RECEIVED(self->q));
	EXPECT_EQ(ROUNDS, SENT(self->r));
	EXPECT_EQ(ROUNDS, RECEIVED(self->r));
	EXPECT_EQ(0, QUEUED(self->q));
	EXPECT_EQ(0, QUEUED(self->r));
}

TEST_F(call, client_over_a_pair_of_narrowed_fds)
{
	char rep[16];
	int qs, rr, qr, rs;
	unsigned int done;
	pid_t pid;

	/* client: send-only request end, receive-only reply end */
	qs = mbx_port_dup(self->q, MBX_SEND);
	rr = mbx_port_dup(self->r, MBX_RECV);
	qr = mbx_port_dup(self->q, MBX_RECV);
	rs = mbx_port_dup(self->r, MBX_SEND);
	ASSERT_LE(0, qs);
	ASSERT_LE(0, rr);
	ASSERT_LE(0, qr);
	ASSERT_LE(0, rs);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char req[16];
		ssize_t n = mbx_recv(qr, req, sizeof(req), NULL);

		if (n != 4 || memcmp(req, "ping", 4))
			_exit(n < 0 ? t_code(n) : T_BAD_DATA);
		_exit(t_code(mbx_send(rs, "pong!", 5, 0)));
	}
	done = POISON;
	EXPECT_EQ(5, mbx_call(qs, "ping", 4, rr, rep, sizeof(rep), &done));
	EXPECT_EQ(0, memcmp(rep, "pong!", 5));
	EXPECT_EQ(MBX_CALL_SENT | MBX_CALL_RECEIVED, done);
	EXPECT_EQ(0, t_reap(pid));
	close(qs);
	close(rr);
	close(qr);
	close(rs);
}

TEST_F(call, same_port_call_with_recv_fd_minus_one)
{
	struct mbx_call c;
	char buf[16];

	/* a higher-priority message already queued is what comes back */
	ASSERT_EQ(0, t_send_str(self->q, "urgent", 9));
	call_init(&c, "req", -1, buf, sizeof(buf));
	c.done = POISON;
	EXPECT_EQ(0, call(self->q, &c));
	EXPECT_EQ(MBX_CALL_SENT | MBX_CALL_RECEIVED, c.done);
	EXPECT_EQ(6, c.recv.len);
	EXPECT_EQ(0, memcmp(buf, "urgent", 6));
	EXPECT_EQ(9, c.recv.prio);

	/* alone, the call receives its own message */
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(3, t_recv_str(self->q, buf, sizeof(buf), NULL));
	EXPECT_STREQ("req", buf);
	call_init(&c, "self", -1, buf, sizeof(buf));
	EXPECT_EQ(0, call(self->q, &c));
	EXPECT_EQ(4, c.recv.len);
	EXPECT_EQ(0, memcmp(buf, "self", 4));
	EXPECT_EQ(0, QUEUED(self->q));
	EXPECT_EQ(-1, c.recv_fd);
}

TEST_F(call, success_reports_both_halves_and_the_reply_metadata)
{
	struct mbx_recv rv;
	struct mbx_call c;
	char buf[16];

	ASSERT_EQ(0, t_send_str(self->r, "reply", 7));
	call_init(&c, "req", self->r, buf, sizeof(buf));
	c.send.tag = 0x1234;
	c.send.prio = 3;
	c.done = POISON;
	EXPECT_EQ(0, call(self->q, &c));
	EXPECT_EQ(MBX_CALL_SENT | MBX_CALL_RECEIVED, c.done);
	EXPECT_EQ(5, c.recv.len);
	EXPECT_EQ(0, memcmp(buf, "reply", 5));
	EXPECT_EQ(7, c.recv.prio);
	EXPECT_EQ(getpid(), c.recv.pid);
	EXPECT_EQ(0, c.recv.uid);
	EXPECT_EQ(0, c.recv.msg_flags);

	/* the request went to q with its own tag and priority */
	memset(&rv, 0, sizeof(rv));
	rv.buf = (uintptr_t)buf;
	rv.len = sizeof(buf);
	rv.flags = MBX_NONBLOCK;
	EXPECT_EQ(0, t_ioctl(self->q, MBX_IOC_RECV, &rv));
	EXPECT_EQ(3, rv.len);
	EXPECT_EQ(0x1234, rv.tag);
	EXPECT_EQ(3, rv.prio);
}

TEST_F(call, library_call_returns_the_reply_length)
{
	unsigned int done = POISON;
	char buf[16];

	ASSERT_EQ(0, t_send_str(self->r, "abcdef", 0));
	EXPECT_EQ(6, mbx_call(self->q, "x", 1, self->r, buf, sizeof(buf),
			      &done));
	EXPECT_EQ(MBX_CALL_SENT | MBX_CALL_RECEIVED, done);
	EXPECT_EQ(1, QUEUED(self->q));
	EXPECT_EQ(0, QUEUED(self->r));
}

/* ---- the receive half fails: the request stays sent ------------------- */

/* The request "req" is on @q exactly once. */
static void expect_sent_once(struct __test_metadata *_metadata, int q)
{
	char b[16];

	EXPECT_EQ(1, SENT(q));
	EXPECT_EQ(1, QUEUED(q));
	EXPECT_EQ(3, t_recv_str(q, b, sizeof(b), NULL));
	EXPECT_STREQ("req", b);
	EXPECT_EQ(-EAGAIN, mbx_recv_nonblock(q, b, sizeof(b), NULL));
}

#define EXPECT_SENT_ONCE(self) expect_sent_once(_metadata, (self)->q)

TEST_F(call, recv_timeout_returns_etimedout_with_request_sent)
{
	struct mbx_call c;
	char buf[16];
	uint64_t t0, dt;

	call_init(&c, "req", self->r, buf, sizeof(buf));
	c.recv.flags = MBX_TIMEOUT;
	c.recv.timeout_ns = TIMEOUT_NS;
	c.done = POISON;
	t0 = t_now_ns();
	EXPECT_EQ(-ETIMEDOUT, call(self->q, &c));
	dt = t_now_ns() - t0;
	EXPECT_EQ(MBX_CALL_SENT, c.done);
	EXPECT_LE(TIMEOUT_NS, dt);
	EXPECT_GT(TIMEOUT_NS + SLACK_NS, dt);
	EXPECT_EQ(0, T_INFO(self->r, recv_waiting));
	EXPECT_SENT_ONCE(self);
}

/*
 * A relative receive timeout runs from the end of the send half: a send
 * that waited 400 ms for room does not eat the receive's 300 ms.
 */
TEST_F(call, relative_recv_timeout_starts_after_a_send_that_waited)
{
	struct mbx_recv rv;
	struct mbx_call c;
	char buf[16];
	pid_t pid;
	int i;

	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, t_send_str(self->q, "fill", 0));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		t_sleep_ms(400);
		for (i = 0; i < 5; i++)
			if (t_recv(self->q, buf, sizeof(buf), 0, &rv) < 0)
				_exit(T_BAD_DATA);
		t_sleep_ms(50);
		_exit(t_code(t_send_str(self->r, "rep", 0)));
	}
	call_init(&c, "req", self->r, buf, sizeof(buf));
	c.send.flags = MBX_TIMEOUT;
	c.send.timeout_ns = 2000 * MS;
	c.recv.flags = MBX_TIMEOUT;
	c.recv.timeout_ns = 300 * MS;
	EXPECT_EQ(0, call(self->q, &c));
	EXPECT_EQ(MBX_CALL_SENT | MBX_CALL_RECEIVED, c.done);
	EXPECT_EQ(0, t_reap(pid));
}

TEST_F(call, recv_absolute_timeout_in_the_past_fails_at_once_after_sending)
{
	struct mbx_call c;
	char buf[16];

	call_init(&c, "req", self->r, buf, sizeof(buf));
	c.recv.flags = MBX_TIMEOUT | MBX_ABSTIME;
	c.recv.timeout_ns = 1;
	EXPECT_EQ(-ETIMEDOUT, call(self->q, &c));
	EXPECT_EQ(MBX_CALL_SENT, c.done);
	EXPECT_SENT_ONCE(self);
}

TEST_F(call, library_timeout_is_told_as_sent_not_received)
{
	struct mbx_call c;
	char buf[16];
	int ret;

	call_init(&c, "req", self->r, buf, sizeof(buf));
	c.recv.flags = MBX_TIMEOUT;
	c.recv.timeout_ns = 0;
	c.done = POISON;
	ret = mbx_call_ex(self->q, &c);
	EXPECT_EQ(-ETIMEDOUT, ret);
	EXPECT_EQ(MBX_CALL_SENT, c.done);
	EXPECT_SENT_ONCE(self);
}

TEST_F(call, nonblocking_recv_half_returns_eagain_with_request_sent)
{
	struct mbx_call c;
	char buf[16];

	call_init(&c, "req", self->r, buf, sizeof(buf));
	c.recv.flags = MBX_NONBLOCK;
	EXPECT_EQ(-EAGAIN, call(self->q, &c));
	EXPECT_EQ(MBX_CALL_SENT, c.done);
	EXPECT_SENT_ONCE(self);
}

TEST_F(call, recv_half_follows_o_nonblock_of_the_recv_fd)
{
	struct mbx_call c;
	char buf[16];
	int rnb;

	rnb = mbx_port_dup(self->r, MBX_RECV | MBX_NONBLOCK);
	ASSERT_LE(0, rnb);
	call_init(&c, "req", rnb, buf, sizeof(buf));
	EXPECT_EQ(-EAGAIN, call(self->q, &c));
	EXPECT_EQ(MBX_CALL_SENT, c.done);
	EXPECT_SENT_ONCE(self);
	close(rnb);
}

TEST_F(call, recv_half_end_of_stream_returns_epipe_with_request_sent)
{
	struct mbx_call c;
	char buf[16];
	int fds[2];
	struct mbx_port_create pc;

	memset(&pc, 0, sizeof(pc));
	pc.capacity = 2;
	pc.mode = 0600;
	ASSERT_EQ(0, mbx_port_pair(MBX_DEV_AUTO, &pc, fds));
	close(fds[1]);
	call_init(&c, "req", fds[0], buf, sizeof(buf));
	EXPECT_EQ(-EPIPE, call(self->q, &c));
	EXPECT_EQ(MBX_CALL_SENT, c.done);
	EXPECT_SENT_ONCE(self);
	close(fds[0]);
}

TEST_F(call, reply_port_shut_down_while_waiting_gives_epipe_with_request_sent)
{
	struct mbx_call *c = t_shared(sizeof(*c));
	char buf[16];
	pid_t pid;

	ASSERT_NE(NULL, c);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		call_init(c, "req", self->r, buf, sizeof(buf));
		_exit(t_code(call(self->q, c)));
	}
	ASSERT_EQ(0, T_WAIT(self->r, recv_waiting, 1));
	ASSERT_EQ(0, mbx_shutdown(self->r));
	EXPECT_EQ(EPIPE, t_reap(pid));
	EXPECT_EQ(MBX_CALL_SENT, c->done);
	EXPECT_SENT_ONCE(self);
}

TEST_F(call, reply_too_large_is_emsgsize_with_length_and_reply_kept)
{
	struct mbx_call c;
	char big[100], buf[100];

	t_fill(big, sizeof(big), 7);
	ASSERT_EQ(0, mbx_send(self->r, big, sizeof(big), 4));
	call_init(&c, "req", self->r, buf, 10);
	c.done = POISON;
	EXPECT_EQ(-EMSGSIZE, call(self->q, &c));
	EXPECT_EQ(MBX_CALL_SENT, c.done);
	EXPECT_EQ(sizeof(big), c.recv.len);
	EXPECT_EQ(1, QUEUED(self->r));
	EXPECT_EQ(0, RECEIVED(self->r));
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(sizeof(big), mbx_recv_nonblock(self->r, buf, sizeof(buf),
						 NULL));
	EXPECT_TRUE(t_check(buf, sizeof(buf), 7));
	EXPECT_SENT_ONCE(self);
}

TEST_F(call, blocked_recv_half_told_emsgsize_when_reply_too_large_arrives)
{
	struct mbx_call *c = t_shared(sizeof(*c));
	char big[100], buf[100];
	pid_t pid;

	ASSERT_NE(NULL, c);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		call_init(c, "req", self->r, buf, 10);
		_exit(t_code(call(self->q, c)));
	}
	ASSERT_EQ(0, T_WAIT(self->r, recv_waiting, 1));
	t_fill(big, sizeof(big), 8);
	ASSERT_EQ(0, mbx_send(self->r, big, sizeof(big), 0));
	EXPECT_EQ(EMSGSIZE, t_reap(pid));
	EXPECT_EQ(MBX_CALL_SENT, c->done);
	EXPECT_EQ(sizeof(big), c->recv.len);
	EXPECT_EQ(1, QUEUED(self->r));
	EXPECT_EQ(sizeof(big), mbx_recv_nonblock(self->r, buf, sizeof(buf),
						 NULL));
	EXPECT_TRUE(t_check(buf, sizeof(buf), 8));
	EXPECT_SENT_ONCE(self);
}

TEST_F(call, signal_during_untimed_recv_half_is_eintr_with_request_sent)
{
	struct mbx_call *c = t_shared(sizeof(*c));
	char buf[16];
	pid_t pid;

	ASSERT_NE(NULL, c);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (t_handle(SIGUSR1, NULL, 0))
			_exit(T_BAD_SETUP);
		call_init(c, "req", self->r, buf, sizeof(buf));
		_exit(t_code(call(self->q, c)));
	}
	ASSERT_EQ(0, T_WAIT(self->r, recv_waiting, 1));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	EXPECT_EQ(EINTR, t_reap(pid));
	EXPECT_EQ(MBX_CALL_SENT, c->done);
	EXPECT_EQ(0, T_INFO(self->r, recv_waiting));
	EXPECT_SENT_ONCE(self);
}

TEST_F(call, signal_during_timed_recv_half_is_eintr_with_request_sent)
{
	struct mbx_call *c = t_shared(sizeof(*c));
	char buf[16];
	pid_t pid;

	ASSERT_NE(NULL, c);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (t_handle(SIGUSR1, NULL, SA_RESTART))
			_exit(T_BAD_SETUP);
		call_init(c, "req", self->r, buf, sizeof(buf));
		c->recv.flags = MBX_TIMEOUT;
		c->recv.timeout_ns = 60000 * MS;
		_exit(t_code(call(self->q, c)));
	}
	ASSERT_EQ(0, T_WAIT(self->r, recv_waiting, 1));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	EXPECT_EQ(EINTR, t_reap(pid));
	EXPECT_EQ(MBX_CALL_SENT, c->done);
	EXPECT_SENT_ONCE(self);
}

/*
 * With SA_RESTART, a call interrupted after its send half must not send the
 * request a second time: it either fails with EINTR (done == MBX_CALL_SENT)
 * or goes on waiting for the reply without sending again.
 */
TEST_F(call, sa_restart_signal_during_recv_half_never_resends_the_request)
{
	struct mbx_call *c = t_shared(sizeof(*c));
	char buf[16];
	pid_t pid;
	int code;

	ASSERT_NE(NULL, c);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (t_handle(SIGUSR1, NULL, SA_RESTART))
			_exit(T_BAD_SETUP);
		call_init(c, "req", self->r, buf, sizeof(buf));
		_exit(t_code(call(self->q, c)));
	}
	ASSERT_EQ(0, T_WAIT(self->r, recv_waiting, 1));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	/* either it ended, or it waits again for the reply */
	t_sleep_ms(T_BLOCKED_MS);
	EXPECT_EQ(1, SENT(self->q)) TH_LOG("the request was sent again");
	EXPECT_EQ(1, QUEUED(self->q));
	if (t_alive(pid)) {
		ASSERT_EQ(0, T_WAIT(self->r, recv_waiting, 1));
		ASSERT_EQ(0, t_send_str(self->r, "rep", 0));
		code = t_reap(pid);
		EXPECT_EQ(0, code);
		EXPECT_EQ(MBX_CALL_SENT | MBX_CALL_RECEIVED, c->done);
	} else {
		code = t_reap(pid);
		EXPECT_EQ(EINTR, code);
		EXPECT_EQ(MBX_CALL_SENT, c->done);
	}
	EXPECT_SENT_ONCE(self);
}

/* 1 once @pid is stopped (state T in /proc), bounded by T_WAIT_MS. */
static int wait_stopped(pid_t pid)
{
	uint64_t end = t_now_ns() + T_WAIT_MS * 1000000ULL;
	char path[64], buf[512], *p;
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	while (t_now_ns() < end) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return 0;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			return 0;
		buf[n] = '\0';
		p = strrchr(buf, ')');
		if (p && p[1] == ' ' && (p[2] == 'T' || p[2] == 't'))
			return 1;
		usleep(1000);
	}
	return 0;
}

/*
 * A stop and continue (no handler runs) during the receive half must not
 * send the request again either: the call goes on waiting, or fails with
 * EINTR having sent once.
 */
TEST_F(call, stop_and_continue_during_recv_half_never_resends_the_request)
{
	struct mbx_call *c = t_shared(sizeof(*c));
	char buf[16];
	pid_t pid;
	int code;

	ASSERT_NE(NULL, c);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		call_init(c, "req", self->r, buf, sizeof(buf));
		_exit(t_code(call(self->q, c)));
	}
	ASSERT_EQ(0, T_WAIT(self->r, recv_waiting, 1));
	ASSERT_EQ(0, kill(pid, SIGSTOP));
	ASSERT_TRUE(wait_stopped(pid));
	ASSERT_EQ(0, kill(pid, SIGCONT));
	t_sleep_ms(T_BLOCKED_MS);
	EXPECT_EQ(1, SENT(self->q)) TH_LOG("the request was sent again");
	EXPECT_EQ(1, QUEUED(self->q));
	if (t_alive(pid)) {
		ASSERT_EQ(0, T_WAIT(self->r, recv_waiting, 1));
		ASSERT_EQ(0, t_send_str(self->r, "rep", 0));
		code = t_reap(pid);
		EXPECT_EQ(0, code);
		EXPECT_EQ(MBX_CALL_SENT | MBX_CALL_RECEIVED, c->done);
	} else {
		code = t_reap(pid);
		EXPECT_EQ(EINTR, code);
		EXPECT_EQ(MBX_CALL_SENT, c->done);
	}
	EXPECT_SENT_ONCE(self);
}

TEST_F(call, fault_on_reply_buffer_is_efault_with_reply_kept_and_request_sent)
{
	struct mbx_call c;
	char buf[16];

	ASSERT_EQ(0, t_send_str(self->r, "reply", 0));
	call_init(&c, "req", self->r, t_bad_ptr(), 16);
	EXPECT_EQ(-EFAULT, call(self->q, &c));
	EXPECT_EQ(MBX_CALL_SENT, c.done);
	EXPECT_EQ(1, QUEUED(self->r));
	EXPECT_EQ(5, t_recv_str(self->r, buf, sizeof(buf), NULL));
	EXPECT_STREQ("reply", buf);
	EXPECT_SENT_ONCE(self);
}

/* ---- a storm of signals ------------------------------------------------ */

#define STORM_ROUNDS	3000

static int storm_stop;

static void *storm(void *arg)
{
	pthread_t target = *(pthread_t *)arg;

	while (!__atomic_load_n(&storm_stop, __ATOMIC_RELAXED)) {
		pthread_kill(target, SIGUSR1);
		usleep(20);
	}
	return NULL;
}

/*
 * Calls under a storm of SA_RESTART signals, against a server that checks
 * that request i follows request i - 1: a call that fails does so with
 * EINTR and done == MBX_CALL_SENT only (its reply then comes to a plain
 * receive), no request goes twice, and every reply is the answer to the
 * call that gets it.
 */
TEST_F(call, signal_storm_never_resends_a_request_or_mixes_up_replies)
{
	pthread_t self_t = pthread_self(), t;
	uint32_t i, rep, eintr = 0;
	unsigned int done;
	pid_t pid;
	ssize_t n;

	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint32_t req;

		for (i = 0; i < STORM_ROUNDS; i++) {
			n = mbx_recv(self->q, &req, sizeof(req), NULL);
			if (n != sizeof(req))
				_exit(n < 0 ? t_code(n) : T_BAD_DATA);
			if (req != i)
				_exit(T_BAD_DATA);
			n = mbx_send(self->r, &req, sizeof(req), 0);
			if (n)
				_exit(t_code(n));
		}
		_exit(0);
	}
	ASSERT_EQ(0, t_handle(SIGUSR1, NULL, SA_RESTART));
	__atomic_store_n(&storm_stop, 0, __ATOMIC_RELAXED);
	ASSERT_EQ(0, pthread_create(&t, NULL, storm, &self_t));
	for (i = 0; i < STORM_ROUNDS; i++) {
		done = POISON;
		rep = POISON;
		n = mbx_call(self->q, &i, sizeof(i), self->r, &rep,
			     sizeof(rep), &done);
		if (n == -EINTR) {
			ASSERT_EQ(MBX_CALL_SENT, done) TH_LOG("round %u", i);
			eintr++;
			n = mbx_recv(self->r, &rep, sizeof(rep), NULL);
		} else {
			ASSERT_EQ(MBX_CALL_SENT | MBX_CALL_RECEIVED, done)
				TH_LOG("round %u: %zd", i, n);
		}
		ASSERT_EQ(sizeof(rep), n) TH_LOG("round %u", i);
		ASSERT_EQ(i, rep);
	}
	__atomic_store_n(&storm_stop, 1, __ATOMIC_RELAXED);
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(0, t_reap(pid));
	EXPECT_EQ(STORM_ROUNDS, SENT(self->q));
	EXPECT_EQ(STORM_ROUNDS, SENT(self->r));
	EXPECT_EQ(0, QUEUED(self->q));
	EXPECT_EQ(0, QUEUED(self->r));
	TH_LOG("%u of %u calls interrupted in their receive half", eintr,
	       STORM_ROUNDS);
}

TEST_HARNESS_MAIN
