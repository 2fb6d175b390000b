// SPDX-License-Identifier: GPL-2.0
/*
 * A blocking receive spins for a message for at most recv_spin_ns before it
 * sleeps (docs/SEMANTICS.md, "Waiting"): the parameter takes 0 to 1 ms and
 * refuses anything else; messages arrive intact through every receive form
 * (MBX_IOC_RECV, read(), MBX_IOC_RECV_BATCH) with the spin off and at its
 * longest; a message that comes after the spin is received by the sleeping
 * receiver; and a receiver sharing its CPU with its sender never spins, so
 * round trips on one CPU do not wait out the spin.  call_spin_ns, the same
 * for MBX_IOC_CALL, is tested in call_test.c.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "mbx_helpers.h"

#define SPIN_CEILING_NS	1000000ULL
#define MSG		256

enum form { F_IOCTL, F_READ, F_BATCH, NR_FORMS };

FIXTURE(spin) {
	int q;
	int r;
	unsigned long long saved;
};

FIXTURE_SETUP(spin)
{
	ASSERT_EQ(0, t_param_get("recv_spin_ns", &self->saved));
	self->q = t_anon(4, MSG);
	ASSERT_LE(0, self->q);
	self->r = t_anon(4, MSG);
	ASSERT_LE(0, self->r);
}

FIXTURE_TEARDOWN(spin)
{
	close(self->q);
	close(self->r);
	t_param_set("recv_spin_ns", self->saved);
}

/* Receive one message of up to MSG bytes in @form: its length or -errno. */
static ssize_t recv_form(int fd, enum form form, char *buf)
{
	struct mbx_recv r;
	ssize_t n;
	int ret;

	switch (form) {
	case F_IOCTL:
		return mbx_recv(fd, buf, MSG, NULL);
	case F_READ:
		n = read(fd, buf, MSG);
		return n < 0 ? -errno : n;
	default:
		memset(&r, 0, sizeof(r));
		r.buf = (uintptr_t)buf;
		r.len = MSG;
		ret = mbx_recv_batch(fd, &r, 1, 0);
		return ret < 0 ? ret : (ssize_t)r.len;
	}
}

/* Echo @n messages from @q to @r, receiving in @form: 0 or a T_BAD_* code. */
static int echo(int q, int r, unsigned int n, enum form form)
{
	char buf[MSG];
	unsigned int i;
	ssize_t len;

	for (i = 0; i < n; i++) {
		len = recv_form(q, form, buf);
		if (len < 0)
			return t_code(len);
		if (mbx_send(r, buf, len, 0))
			return T_BAD_SETUP;
	}
	return 0;
}

/* @n round trips over @q and @r; their time in ns, or 0 on a failure. */
static uint64_t round_trips(int q, int r, unsigned int n, enum form form)
{
	char out[MSG], in[MSG];
	unsigned int i;
	uint64_t t0, dt;
	pid_t pid;

	pid = t_fork();
	if (pid < 0)
		return 0;
	if (pid == 0)
		_exit(echo(q, r, n, form));
	t0 = t_now_ns();
	for (i = 0; i < n; i++) {
		size_t len = 1 + i % MSG;

		t_fill(out, len, i);
		if (mbx_send(q, out, len, 0) ||
		    recv_form(r, form, in) != (ssize_t)len ||
		    !t_check(in, len, i))
			break;
	}
	dt = t_now_ns() - t0;
	return t_reap(pid) || i < n ? 0 : dt;
}

TEST_F(spin, spin_takes_0_to_1_ms_and_refuses_more)
{
	unsigned long long val = 0;

	EXPECT_EQ(50000, self->saved);
	ASSERT_EQ(0, t_param_set("recv_spin_ns", 0));
	ASSERT_EQ(0, t_param_set("recv_spin_ns", SPIN_CEILING_NS));
	EXPECT_EQ(-EINVAL, t_param_set("recv_spin_ns", SPIN_CEILING_NS + 1));
	EXPECT_EQ(-EINVAL, t_param_set("recv_spin_ns", 4000000000ULL));
	ASSERT_EQ(0, t_param_get("recv_spin_ns", &val));
	EXPECT_EQ(SPIN_CEILING_NS, val);
}

TEST_F(spin, every_receive_form_is_intact_with_spinning_off_and_longest)
{
	unsigned long long spins[] = { 0, SPIN_CEILING_NS };
	unsigned int k;
	enum form f;

	for (k = 0; k < 2; k++) {
		ASSERT_EQ(0, t_param_set("recv_spin_ns", spins[k]));
		for (f = 0; f < NR_FORMS; f++)
			EXPECT_NE(0, round_trips(self->q, self->r, 100, f))
				TH_LOG("spin %llu form %d", spins[k], f);
	}
}

/* A message that comes long after the spin is received by the sleeper. */
TEST_F(spin, a_message_after_the_spin_still_arrives)
{
	char buf[MSG];
	pid_t pid;

	ASSERT_EQ(0, t_param_set("recv_spin_ns", SPIN_CEILING_NS));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		ssize_t n = recv_form(self->q, F_READ, buf);

		_exit(n == 4 && !memcmp(buf, "late", 4) ? 0 : t_code(n));
	}
	ASSERT_EQ(0, T_WAIT(self->q, recv_waiting, 1));
	t_sleep_ms(50);
	ASSERT_EQ(0, mbx_send(self->q, "late", 4, 0));
	EXPECT_EQ(0, t_reap(pid));
}

/*
 * Sender and receiver on one CPU: a receiver must not spin while the
 * sender it waits for needs that CPU, or every round trip would last the
 * whole spin.  With the longest spin (1 ms) they take about as long as
 * without, far from 1 ms more each.
 */
TEST_F(spin, receivers_on_one_cpu_never_wait_out_the_spin)
{
	enum { N = 200, RUNS = 3 };
	uint64_t without = UINT64_MAX, with = UINT64_MAX, t;
	unsigned int k;

	ASSERT_EQ(0, t_pin_cpu(0));
	/* The least of a few runs each: a busy host only adds time. */
	for (k = 0; k < RUNS; k++) {
		ASSERT_EQ(0, t_param_set("recv_spin_ns", 0));
		t = round_trips(self->q, self->r, N, F_IOCTL);
		ASSERT_NE(0, t);
		without = t < without ? t : without;
		ASSERT_EQ(0, t_param_set("recv_spin_ns", SPIN_CEILING_NS));
		t = round_trips(self->q, self->r, N, F_IOCTL);
		ASSERT_NE(0, t);
		with = t < with ? t : with;
	}
	EXPECT_GT(without + N * SPIN_CEILING_NS / 2, with)
		TH_LOG("%u round trips on one CPU: %llu us without spinning, %llu us with",
		       N, (unsigned long long)without / 1000,
		       (unsigned long long)with / 1000);
}

TEST_HARNESS_MAIN
