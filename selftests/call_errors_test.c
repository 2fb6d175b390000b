// SPDX-License-Identifier: GPL-2.0
/*
 * MBX_IOC_CALL (see call_test.c): a send half that fails sends nothing and
 * receives nothing (done == 0); every check made before anything is sent
 * (recv_fd not open, not a port, without receive access; bad flags,
 * priority, timeouts; non-zero flags or reserved; bad pointers) leaves
 * both ports untouched; a rendezvous request port and a pool request with
 * an in-place reply; and the spin for the reply, at most call_spin_ns (0
 * to 1 ms) and never while another task waits for the CPU.
 */
#define _GNU_SOURCE
#include "call/call.h"

/* ---- the send half fails: nothing sent, nothing received ------------- */

TEST_F(call, full_queue_nonblocking_send_half_is_eagain_and_receives_nothing)
{
	struct mbx_call c;
	char buf[16];
	int i;

	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, t_send_str(self->q, "old", 0));
	ASSERT_EQ(0, t_send_str(self->r, "reply", 0));
	call_init(&c, "req", self->r, buf, sizeof(buf));
	c.send.flags = MBX_NONBLOCK;
	c.done = POISON;
	EXPECT_EQ(-EAGAIN, call(self->q, &c));
	EXPECT_EQ(0, c.done);
	EXPECT_EQ(4, QUEUED(self->q));
	EXPECT_EQ(4, SENT(self->q));
	EXPECT_EQ(1, QUEUED(self->r));
	EXPECT_EQ(0, RECEIVED(self->r));
}

TEST_F(call, full_queue_send_half_follows_o_nonblock_of_the_fd)
{
	struct mbx_call c;
	char buf[16];
	int qnb, i;

	qnb = mbx_port_dup(self->q, MBX_SEND | MBX_NONBLOCK);
	ASSERT_LE(0, qnb);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, t_send_str(self->q, "old", 0));
	ASSERT_EQ(0, t_send_str(self->r, "reply", 0));
	call_init(&c, "req", self->r, buf, sizeof(buf));
	EXPECT_EQ(-EAGAIN, call(qnb, &c));
	EXPECT_EQ(0, c.done);
	EXPECT_EQ(4, SENT(self->q));
	EXPECT_EQ(1, QUEUED(self->r));
	close(qnb);
}

TEST_F(call, send_half_timeout_is_etimedout_and_receives_nothing)
{
	struct mbx_call c;
	char buf[16];
	uint64_t t0, dt;
	int i;

	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, t_send_str(self->q, "old", 0));
	ASSERT_EQ(0, t_send_str(self->r, "reply", 0));
	call_init(&c, "req", self->r, buf, sizeof(buf));
	c.send.flags = MBX_TIMEOUT;
	c.send.timeout_ns = TIMEOUT_NS;
	c.done = POISON;
	t0 = t_now_ns();
	EXPECT_EQ(-ETIMEDOUT, call(self->q, &c));
	dt = t_now_ns() - t0;
	EXPECT_LE(TIMEOUT_NS, dt);
	EXPECT_EQ(0, c.done);
	EXPECT_EQ(4, SENT(self->q));
	EXPECT_EQ(0, T_INFO(self->q, send_waiting));
	EXPECT_EQ(1, QUEUED(self->r));
	EXPECT_EQ(0, RECEIVED(self->r));
}

TEST_F(call, signal_during_blocked_send_half_is_eintr_and_receives_nothing)
{
	struct mbx_call *c = t_shared(sizeof(*c));
	char buf[16];
	pid_t pid;
	int i;

	ASSERT_NE(NULL, c);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, t_send_str(self->q, "old", 0));
	ASSERT_EQ(0, t_send_str(self->r, "reply", 0));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (t_handle(SIGUSR1, NULL, 0))
			_exit(T_BAD_SETUP);
		call_init(c, "req", self->r, buf, sizeof(buf));
		c->done = POISON;
		_exit(t_code(call(self->q, c)));
	}
	ASSERT_EQ(0, T_WAIT(self->q, send_waiting, 1));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	EXPECT_EQ(EINTR, t_reap(pid));
	EXPECT_EQ(0, c->done);
	EXPECT_EQ(4, SENT(self->q));
	EXPECT_EQ(0, T_INFO(self->q, send_waiting));
	EXPECT_EQ(1, QUEUED(self->r));
	EXPECT_EQ(0, RECEIVED(self->r));
}

TEST_F(call, blocked_send_half_completes_then_the_reply_is_received)
{
	struct mbx_call *c = t_shared(sizeof(*c));
	char buf[16];
	pid_t pid;
	int i;

	ASSERT_NE(NULL, c);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, t_send_str(self->q, "old", 0));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		call_init(c, "req", self->r, buf, sizeof(buf));
		if (call(self->q, c))
			_exit(T_BAD_DATA);
		_exit(c->recv.len == 5 && !memcmp(buf, "reply", 5) ? 0 :
		      T_BAD_DATA);
	}
	ASSERT_EQ(0, T_WAIT(self->q, send_waiting, 1));
	ASSERT_EQ(3, t_recv_str(self->q, buf, sizeof(buf), NULL));
	ASSERT_EQ(0, T_WAIT(self->r, recv_waiting, 1));
	EXPECT_EQ(5, SENT(self->q));
	ASSERT_EQ(0, t_send_str(self->r, "reply", 0));
	EXPECT_EQ(0, t_reap(pid));
	EXPECT_EQ(MBX_CALL_SENT | MBX_CALL_RECEIVED, c->done);
}

TEST_F(call, send_half_after_shutdown_is_epipe_and_receives_nothing)
{
	struct mbx_call c;
	char buf[16];

	ASSERT_EQ(0, t_send_str(self->r, "reply", 0));
	ASSERT_EQ(0, mbx_shutdown(self->q));
	call_init(&c, "req", self->r, buf, sizeof(buf));
	c.done = POISON;
	EXPECT_EQ(-EPIPE, call(self->q, &c));
	EXPECT_EQ(0, c.done);
	EXPECT_UNTOUCHED(self, 1);
}

TEST_F(call, send_half_with_no_receivers_is_epipe_and_receives_nothing)
{
	struct mbx_port_create pc;
	struct mbx_call c;
	char buf[16];
	int fds[2];

	memset(&pc, 0, sizeof(pc));
	pc.capacity = 2;
	pc.mode = 0600;
	ASSERT_EQ(0, mbx_port_pair(MBX_DEV_AUTO, &pc, fds));
	close(fds[0]);
	ASSERT_EQ(0, t_send_str(self->r, "reply", 0));
	call_init(&c, "req", self->r, buf, sizeof(buf));
	EXPECT_EQ(-EPIPE, call(fds[1], &c));
	EXPECT_EQ(0, c.done);
	EXPECT_EQ(1, QUEUED(self->r));
	EXPECT_EQ(0, RECEIVED(self->r));
	close(fds[1]);
}

TEST_F(call, send_half_too_large_is_emsgsize_and_receives_nothing)
{
	static char big[4097];
	struct mbx_call c;
	char buf[16];

	ASSERT_EQ(0, t_send_str(self->r, "reply", 0));
	call_init(&c, NULL, self->r, buf, sizeof(buf));
	c.send.buf = (uintptr_t)big;
	c.send.len = sizeof(big);
	EXPECT_EQ(-EMSGSIZE, call(self->q, &c));
	EXPECT_EQ(0, c.done);
	EXPECT_UNTOUCHED(self, 1);
}

TEST_F(call, fault_on_request_buffer_is_efault_and_nothing_happens)
{
	struct mbx_call c;
	char buf[16];

	ASSERT_EQ(0, t_send_str(self->r, "reply", 0));
	call_init(&c, NULL, self->r, buf, sizeof(buf));
	c.send.buf = (uintptr_t)t_bad_ptr();
	c.send.len = 8;
	EXPECT_EQ(-EFAULT, call(self->q, &c));
	EXPECT_EQ(0, c.done);
	EXPECT_UNTOUCHED(self, 1);
}

/* ---- checks made before anything is sent ------------------------------ */

TEST_F(call, recv_fd_not_open_is_ebadf_and_nothing_sent)
{
	struct mbx_call c;
	char buf[16];
	int closed;

	closed = dup(self->r);
	ASSERT_LE(0, closed);
	close(closed);
	ASSERT_EQ(0, t_send_str(self->r, "reply", 0));
	call_init(&c, "req", closed, buf, sizeof(buf));
	EXPECT_EQ(-EBADF, call(self->q, &c));
	EXPECT_EQ(0, c.done);
	call_init(&c, "req", -2, buf, sizeof(buf));
	EXPECT_EQ(-EBADF, call(self->q, &c));
	call_init(&c, "req", 0x7fffffff, buf, sizeof(buf));
	EXPECT_EQ(-EBADF, call(self->q, &c));
	EXPECT_UNTOUCHED(self, 1);
}

TEST_F(call, recv_fd_not_a_port_is_einval_and_nothing_sent)
{
	struct mbx_call c;
	char buf[16];
	int p[2], dev;

	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(1, write(p[1], "p", 1));
	call_init(&c, "req", p[0], buf, sizeof(buf));
	EXPECT_EQ(-EINVAL, call(self->q, &c));
	EXPECT_EQ(0, c.done);
	/* nothing was read from the pipe either */
	EXPECT_EQ(1, read(p[0], buf, sizeof(buf)));
	close(p[0]);
	close(p[1]);

	dev = t_dev();
	ASSERT_LE(0, dev);
	call_init(&c, "req", dev, buf, sizeof(buf));
	EXPECT_EQ(-EINVAL, call(self->q, &c));
	close(dev);
	EXPECT_UNTOUCHED(self, 0);
}

TEST_F(call, recv_fd_without_receive_access_is_ebadf_and_nothing_sent)
{
	struct mbx_call c;
	char buf[16];
	int rs;

	rs = mbx_port_dup(self->r, MBX_SEND);
	ASSERT_LE(0, rs);
	ASSERT_EQ(0, t_send_str(self->r, "reply", 0));
	call_init(&c, "req", rs, buf, sizeof(buf));
	EXPECT_EQ(-EBADF, call(self->q, &c));
	EXPECT_EQ(0, c.done);
	EXPECT_UNTOUCHED(self, 1);
	close(rs);
}

TEST_F(call, same_port_call_on_send_only_fd_is_ebadf_and_nothing_sent)
{
	struct mbx_call c;
	char buf[16];
	int qs;

	qs = mbx_port_dup(self->q, MBX_SEND);
	ASSERT_LE(0, qs);
	call_init(&c, "req", -1, buf, sizeof(buf));
	EXPECT_EQ(-EBADF, call(qs, &c));
	EXPECT_EQ(0, c.done);
	EXPECT_UNTOUCHED(self, 0);
	close(qs);
}

TEST_F(call, call_on_recv_only_fd_is_ebadf_and_nothing_received)
{
	struct mbx_call c;
	char buf[16];
	int qr;

	qr = mbx_port_dup(self->q, MBX_RECV);
	ASSERT_LE(0, qr);
	ASSERT_EQ(0, t_send_str(self->r, "reply", 0));
	call_init(&c, "req", self->r, buf, sizeof(buf));
	EXPECT_EQ(-EBADF, call(qr, &c));
	EXPECT_EQ(0, c.done);
	EXPECT_UNTOUCHED(self, 1);
	close(qr);
}

TEST_F(call, invalid_send_flags_are_einval_and_nothing_sent)
{
	static const uint32_t bad[] = {
		MBX_RECV_INPLACE, MBX_SEND, MBX_RECV, MBX_CLOEXEC, 0x100,
		0x80000000U, MBX_ABSTIME,
	};
	struct mbx_call c;
	char buf[16];
	unsigned int i;

	ASSERT_EQ(0, t_send_str(self->r, "reply", 0));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		call_init(&c, "req", self->r, buf, sizeof(buf));
		c.send.flags = bad[i];
		EXPECT_EQ(-EINVAL, call(self->q, &c)) TH_LOG("0x%x", bad[i]);
		EXPECT_EQ(0, c.done);
	}
	/* timeout_ns without MBX_TIMEOUT */
	call_init(&c, "req", self->r, buf, sizeof(buf));
	c.send.timeout_ns = 1000;
	EXPECT_EQ(-EINVAL, call(self->q, &c));
	/* MBX_SEND_BUF with a buffer pointer */
	call_init(&c, "req", self->r, buf, sizeof(buf));
	c.send.flags = MBX_SEND_BUF;
	EXPECT_EQ(-EINVAL, call(self->q, &c));
	/* an offset in copy mode */
	call_init(&c, "req", self->r, buf, sizeof(buf));
	c.send.offset = 64;
	EXPECT_EQ(-EINVAL, call(self->q, &c));
	EXPECT_UNTOUCHED(self, 1);
}

TEST_F(call, send_priority_above_31_is_einval_and_nothing_sent)
{
	unsigned int prio = 0;
	struct mbx_call c;
	char buf[16];

	ASSERT_EQ(0, t_send_str(self->r, "reply", 0));
	call_init(&c, "req", self->r, buf, sizeof(buf));
	c.send.prio = MBX_PRIO_MAX + 1;
	EXPECT_EQ(-EINVAL, call(self->q, &c));
	EXPECT_EQ(0, c.done);
	call_init(&c, "req", self->r, buf, sizeof(buf));
	c.send.prio = 0xffffffffU;
	EXPECT_EQ(-EINVAL, call(self->q, &c));
	EXPECT_UNTOUCHED(self, 1);

	/* 31 is the highest valid priority */
	call_init(&c, "req", self->r, buf, sizeof(buf));
	c.send.prio = MBX_PRIO_MAX;
	EXPECT_EQ(0, call(self->q, &c));
	EXPECT_EQ(MBX_CALL_SENT | MBX_CALL_RECEIVED, c.done);
	EXPECT_EQ(3, mbx_recv_nonblock(self->q, buf, sizeof(buf), &prio));
	EXPECT_EQ(MBX_PRIO_MAX, prio);
}

TEST_F(call, invalid_recv_flags_are_einval_and_nothing_sent)
{
	static const uint32_t bad[] = {
		MBX_SEND_BUF, MBX_SEND, MBX_RECV, MBX_CLOEXEC, 0x100,
		0x80000000U, MBX_ABSTIME,
	};
	struct mbx_call c;
	char buf[16];
	unsigned int i;

	ASSERT_EQ(0, t_send_str(self->r, "reply", 0));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		call_init(&c, "req", self->r, buf, sizeof(buf));
		c.recv.flags = bad[i];
		EXPECT_EQ(-EINVAL, call(self->q, &c)) TH_LOG("0x%x", bad[i]);
		EXPECT_EQ(0, c.done);
	}
	call_init(&c, "req", self->r, buf, sizeof(buf));
	c.recv.timeout_ns = 1000;
	EXPECT_EQ(-EINVAL, call(self->q, &c));
	call_init(&c, "req", self->r, buf, sizeof(buf));
	c.recv.dropped = 1;
	EXPECT_EQ(-EINVAL, call(self->q, &c));
	EXPECT_UNTOUCHED(self, 1);
}

TEST_F(call, nonzero_flags_or_reserved_is_einval_and_nothing_sent)
{
	struct mbx_call c;
	char buf[16];

	ASSERT_EQ(0, t_send_str(self->r, "reply", 0));
	call_init(&c, "req", self->r, buf, sizeof(buf));
	c.flags = 1;
	EXPECT_EQ(-EINVAL, call(self->q, &c));
	EXPECT_EQ(0, c.done);
	call_init(&c, "req", self->r, buf, sizeof(buf));
	c.flags = 0x80000000U;
	EXPECT_EQ(-EINVAL, call(self->q, &c));
	call_init(&c, "req", self->r, buf, sizeof(buf));
	c.reserved = 1;
	EXPECT_EQ(-EINVAL, call(self->q, &c));
	EXPECT_UNTOUCHED(self, 1);
}

TEST_F(call, bad_argument_pointer_is_efault_and_nothing_sent)
{
	ASSERT_EQ(0, t_send_str(self->r, "reply", 0));
	EXPECT_EQ(-EFAULT, t_ioctl(self->q, MBX_IOC_CALL, t_bad_ptr()));
	EXPECT_EQ(-EFAULT, t_ioctl(self->q, MBX_IOC_CALL, NULL));
	EXPECT_UNTOUCHED(self, 1);
}

/*
 * done is an output "also on failure": a call refused before anything was
 * sent must say so (0), not leave what the caller's struct held before.
 */
TEST_F(call, done_is_zero_after_any_refused_call)
{
	struct mbx_call c;
	char buf[16];
	int closed;

	closed = dup(self->r);
	ASSERT_LE(0, closed);
	close(closed);

	call_init(&c, "req", self->r, buf, sizeof(buf));
	c.send.prio = 99;
	c.done = MBX_CALL_SENT | MBX_CALL_RECEIVED;
	EXPECT_EQ(-EINVAL, call(self->q, &c));
	EXPECT_EQ(0, c.done) TH_LOG("bad priority");

	call_init(&c, "req", closed, buf, sizeof(buf));
	c.done = MBX_CALL_SENT | MBX_CALL_RECEIVED;
	EXPECT_EQ(-EBADF, call(self->q, &c));
	EXPECT_EQ(0, c.done) TH_LOG("recv_fd not open");

	call_init(&c, "req", self->r, buf, sizeof(buf));
	c.flags = 1;
	c.done = MBX_CALL_SENT | MBX_CALL_RECEIVED;
	EXPECT_EQ(-EINVAL, call(self->q, &c));
	EXPECT_EQ(0, c.done) TH_LOG("non-zero flags");
	EXPECT_UNTOUCHED(self, 0);
}

/*
 * An argument that can be read but not written: refused before anything
 * happens, for done (and the reply's results) could not be told.  Once,
 * the request went out and the call failed with EFAULT all the same.
 */
TEST_F(call, read_only_argument_is_efault_and_nothing_sent)
{
	struct mbx_call *c;
	char buf[16];

	c = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, c);
	call_init(c, "req", self->r, buf, sizeof(buf));
	ASSERT_EQ(0, mprotect(c, 4096, PROT_READ));
	EXPECT_EQ(-EFAULT, call(self->q, c));
	EXPECT_UNTOUCHED(self, 0);
	munmap(c, 4096);
}

/* ---- other forms ------------------------------------------------------ */

TEST_F(call, rendezvous_request_port_hands_the_request_to_a_waiting_server)
{
	char rep[16];
	unsigned int done;
	pid_t pid;
	int rz;

	rz = t_anon(0, 64);
	ASSERT_LE(0, rz);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char req[16];
		ssize_t n = mbx_recv(rz, req, sizeof(req), NULL);

		if (n != 3 || memcmp(req, "req", 3))
			_exit(n < 0 ? t_code(n) : T_BAD_DATA);
		_exit(t_code(mbx_send(self->r, "ok", 2, 0)));
	}
	ASSERT_EQ(0, T_WAIT(rz, recv_waiting, 1));
	done = POISON;
	EXPECT_EQ(2, mbx_call(rz, "req", 3, self->r, rep, sizeof(rep), &done));
	EXPECT_EQ(MBX_CALL_SENT | MBX_CALL_RECEIVED, done);
	EXPECT_EQ(0, t_reap(pid));
	close(rz);
}

TEST_F(call, pool_request_and_in_place_reply)
{
	struct mbx_port_create pc;
	struct mbx_port_info in;
	struct mbx_call c;
	uint64_t off;
	size_t size;
	void *base;
	int p;

	memset(&pc, 0, sizeof(pc));
	pc.capacity = 4;
	pc.max_msg_size = 64;
	pc.mode = 0600;
	pc.pool_size = 16384;
	p = mbx_port_create(MBX_DEV_AUTO, &pc);
	ASSERT_LE(0, p);
	ASSERT_EQ(0, mbx_pool_map(p, &base, &size));
	ASSERT_EQ(0, mbx_buf_alloc(p, 1000, &off));
	t_fill(mbx_buf_ptr(base, off), 1000, 42);

	memset(&c, 0, sizeof(c));
	c.send.flags = MBX_SEND_BUF;
	c.send.offset = off;
	c.send.len = 1000;
	c.recv.flags = MBX_RECV_INPLACE;
	c.recv_fd = -1;
	EXPECT_EQ(0, call(p, &c));
	EXPECT_EQ(MBX_CALL_SENT | MBX_CALL_RECEIVED, c.done);
	EXPECT_EQ(MBX_MSG_BUF, c.recv.msg_flags);
	EXPECT_EQ(off, c.recv.offset);
	EXPECT_EQ(1000, c.recv.len);
	EXPECT_TRUE(t_check(mbx_buf_ptr(base, c.recv.offset), 1000, 42));
	EXPECT_EQ(0, mbx_buf_release(p, c.recv.offset, c.recv.len));
	ASSERT_EQ(0, t_info(p, &in));
	EXPECT_EQ(in.pool_size, in.pool_free);
	mbx_pool_unmap(base, size);
	close(p);
}

/* ---- spinning for the reply (call_spin_ns) ----------------------------- */

#define SPIN_CEILING_NS	1000000ULL

/* The request and reply ports, and call_spin_ns restored afterwards. */
FIXTURE(spin) {
	int q;
	int r;
	unsigned long long saved;
};

FIXTURE_SETUP(spin)
{
	ASSERT_EQ(0, t_param_get("call_spin_ns", &self->saved));
	self->q = t_anon(4, 4096);
	ASSERT_LE(0, self->q);
	self->r = t_anon(4, 4096);
	ASSERT_LE(0, self->r);
}

FIXTURE_TEARDOWN(spin)
{
	close(self->q);
	close(self->r);
	t_param_set("call_spin_ns", self->saved);
}

/* With spinning off, and with the longest spin, round trips are intact. */
TEST_F(spin, round_trips_with_spinning_off_and_at_its_longest)
{
	static char req[4096], rep[4096];
	unsigned long long spins[] = { 0, SPIN_CEILING_NS };
	unsigned int k, i, done;
	pid_t pid;
	ssize_t n;

	for (k = 0; k < 2; k++) {
		ASSERT_EQ(0, t_param_set("call_spin_ns", spins[k]));
		pid = t_fork();
		ASSERT_LE(0, pid);
		if (pid == 0)
			_exit(serve(self->q, self->r, 100));
		for (i = 0; i < 100; i++) {
			t_fill(req, req_len(i), i);
			n = mbx_call(self->q, req, req_len(i), self->r, rep,
				     sizeof(rep), &done);
			ASSERT_EQ((ssize_t)rep_len(i), n)
				TH_LOG("spin %llu round %u", spins[k], i);
			ASSERT_TRUE(t_check(rep, n, i + 100000));
		}
		ASSERT_EQ(0, t_reap(pid));
	}
}

/*
 * call_spin_ns takes 0 to 1 ms; anything else is refused and changes
 * nothing.  A reply that comes long after the spin ended is received by
 * the sleeping call.
 */
TEST_F(spin, spin_above_1_ms_is_refused_and_a_late_reply_still_arrives)
{
	unsigned long long val = 0;
	char rep[16];
	pid_t pid;

	ASSERT_EQ(0, t_param_set("call_spin_ns", SPIN_CEILING_NS));
	EXPECT_EQ(-EINVAL, t_param_set("call_spin_ns", SPIN_CEILING_NS + 1));
	EXPECT_EQ(-EINVAL, t_param_set("call_spin_ns", 4000000000ULL));
	ASSERT_EQ(0, t_param_get("call_spin_ns", &val));
	EXPECT_EQ(SPIN_CEILING_NS, val);

	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		ssize_t n = mbx_call(self->q, "req", 3, self->r, rep,
				     sizeof(rep), NULL);

		_exit(n == 5 && !memcmp(rep, "reply", 5) ? 0 : t_code(n));
	}
	ASSERT_EQ(0, T_WAIT(self->r, recv_waiting, 1));
	t_sleep_ms(50);
	ASSERT_EQ(0, mbx_send(self->r, "reply", 5, 0));
	EXPECT_EQ(0, t_reap(pid));
	EXPECT_EQ(1, QUEUED(self->q));
}

/* @n round trips with serve() over @q and @r; their time in ns, or 0. */
static uint64_t timed_round_trips(int q, int r, unsigned int n)
{
	static char req[4096], rep[4096];
	unsigned int i, done;
	uint64_t t0, dt;
	pid_t pid;

	pid = t_fork();
	if (pid < 0)
		return 0;
	if (pid == 0)
		_exit(serve(q, r, n));
	t0 = t_now_ns();
	for (i = 0; i < n; i++) {
		t_fill(req, req_len(i), i);
		if (mbx_call(q, req, req_len(i), r, rep, sizeof(rep),
			     &done) != (ssize_t)rep_len(i))
			break;
	}
	dt = t_now_ns() - t0;
	return t_reap(pid) || i < n ? 0 : dt;
}

/*
 * Client and server on one CPU: the client must not spin while the server
 * it just woke waits for that CPU, or every round trip would last the
 * whole spin.  Round trips with the longest spin (1 ms) take about as long
 * as without spinning, far from 1 ms more each.
 */
TEST_F(spin, calls_on_one_cpu_never_wait_out_the_spin)
{
	enum { N = 200, RUNS = 5 };
	uint64_t without = UINT64_MAX, with = UINT64_MAX, t;
	unsigned int k;

	ASSERT_EQ(0, t_pin_cpu(0));
	/* The least of a few runs each: a busy host only adds time. */
	for (k = 0; k < RUNS; k++) {
		ASSERT_EQ(0, t_param_set("call_spin_ns", 0));
		t = timed_round_trips(self->q, self->r, N);
		ASSERT_NE(0, t);
		without = t < without ? t : without;
		ASSERT_EQ(0, t_param_set("call_spin_ns", SPIN_CEILING_NS));
		t = timed_round_trips(self->q, self->r, N);
		ASSERT_NE(0, t);
		with = t < with ? t : with;
	}
	EXPECT_GT(without + N * SPIN_CEILING_NS / 2, with)
		TH_LOG("%u round trips on one CPU: %llu us without spinning, %llu us with",
		       N, (unsigned long long)without / 1000,
		       (unsigned long long)with / 1000);
}

TEST_HARNESS_MAIN
