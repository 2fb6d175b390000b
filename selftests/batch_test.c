// SPDX-License-Identifier: GPL-2.0
/*
 * MBX_IOC_SEND_BATCH / MBX_IOC_RECV_BATCH: up to MBX_BATCH_MAX messages in
 * one call.  Full batches go through in order with their payloads, tags
 * and priorities, receive results written back per entry; a batch that
 * meets a full (or empty) queue stops there and says exactly how many went
 * through, in the return value and in done; only the first entry waits (as
 * the batch's flags say).
 *
 * batch_errors_test.c has the rest: an error on the first entry is the
 * call's error, on a later one it ends the batch with the entries before
 * it done and the rest untouched; zero-copy entries work both ways and
 * leave the pool free.  Their common part is batch/batch.h.
 */
#define _GNU_SOURCE
#include "batch/batch.h"

/* ---- whole batches ---------------------------------------------------- */

TEST(send_batch_of_32_goes_through_in_order)
{
	struct mbx_send m[NMSG];
	struct mbx_recv r;
	char buf[MSG_MAX];
	uint32_t done;
	unsigned int i;
	int fd = t_anon(64, MSG_MAX);

	ASSERT_LE(0, fd);
	send_entries(m, NMSG, 7);
	EXPECT_EQ(NMSG, SEND_BATCH(fd, m, NMSG, 0, &done));
	EXPECT_EQ(NMSG, done);
	EXPECT_EQ(NMSG, T_INFO(fd, queued));
	EXPECT_EQ(NMSG, SENT(fd));
	for (i = 0; i < NMSG; i++) {
		ASSERT_EQ(0, recv_one(fd, &r, buf, sizeof(buf)));
		EXPECT_TRUE(is_msg(&r, buf, i, 7)) TH_LOG("message %u", i);
	}
	EXPECT_EQ(0, T_INFO(fd, queued));
	close(fd);
}

TEST(send_batch_entries_are_ordered_by_priority_like_single_sends)
{
	struct mbx_send m[8];
	struct mbx_recv r;
	char buf[MSG_MAX];
	static const unsigned int prio[8] = { 0, 5, 0, 31, 5, 1, 31, 0 };
	static const unsigned int order[8] = { 3, 6, 1, 4, 5, 0, 2, 7 };
	unsigned int i;
	int fd = t_anon(8, MSG_MAX);

	ASSERT_LE(0, fd);
	send_entries(m, 8, 0);
	for (i = 0; i < 8; i++)
		m[i].prio = prio[i];
	EXPECT_EQ(8, SEND_BATCH(fd, m, 8, 0, NULL));
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, recv_one(fd, &r, buf, sizeof(buf)));
		EXPECT_TRUE(is_msg(&r, buf, order[i], prio[order[i]]))
			TH_LOG("position %u", i);
	}
	close(fd);
}

TEST(recv_batch_of_32_writes_results_back_per_entry)
{
	struct mbx_recv m[NMSG + 1];
	uint32_t done;
	unsigned int i;
	int fd = t_anon(64, MSG_MAX);

	ASSERT_LE(0, fd);
	for (i = 0; i < NMSG; i++)
		ASSERT_EQ(0, send_one(fd, i, 2));
	recv_entries(m, NMSG + 1);
	EXPECT_EQ(NMSG, RECV_BATCH(fd, m, NMSG, 0, &done));
	EXPECT_EQ(NMSG, done);
	for (i = 0; i < NMSG; i++)
		EXPECT_TRUE(is_msg(&m[i], rbuf[i], i, 2)) TH_LOG("entry %u", i);
	/* the entry past count was not touched */
	EXPECT_EQ(MSG_MAX, m[NMSG].len);
	EXPECT_EQ(POISON, m[NMSG].tag);
	EXPECT_EQ(0, T_INFO(fd, queued));
	EXPECT_EQ(NMSG, RECEIVED(fd));
	close(fd);
}

TEST(recv_batch_follows_priority_order)
{
	struct mbx_recv m[4];
	int fd = t_anon(8, MSG_MAX);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, send_one(fd, 0, 1));
	ASSERT_EQ(0, send_one(fd, 1, 9));
	ASSERT_EQ(0, send_one(fd, 2, 1));
	ASSERT_EQ(0, send_one(fd, 3, 30));
	recv_entries(m, 4);
	EXPECT_EQ(4, RECV_BATCH(fd, m, 4, MBX_NONBLOCK, NULL));
	EXPECT_TRUE(is_msg(&m[0], rbuf[0], 3, 30));
	EXPECT_TRUE(is_msg(&m[1], rbuf[1], 1, 9));
	EXPECT_TRUE(is_msg(&m[2], rbuf[2], 0, 1));
	EXPECT_TRUE(is_msg(&m[3], rbuf[3], 2, 1));
	close(fd);
}

/* Big batches: entry i sends the 4-byte value i * 7919 with tag i. */
static struct mbx_send big_s[MBX_BATCH_MAX];
static struct mbx_recv big_r[MBX_BATCH_MAX];
static uint32_t big_val[MBX_BATCH_MAX], big_got[MBX_BATCH_MAX];

static void big_entries(void)
{
	unsigned int i;

	memset(big_got, 0, sizeof(big_got));
	for (i = 0; i < MBX_BATCH_MAX; i++) {
		big_val[i] = i * 7919;
		big_s[i] = (struct mbx_send){ .buf = (uintptr_t)&big_val[i],
					      .len = 4, .tag = i };
		big_r[i] = (struct mbx_recv){ .buf = (uintptr_t)&big_got[i],
					      .len = 4 };
	}
}

/* The index of the first of @n received entries that is wrong, or @n. */
static unsigned int big_first_wrong(unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (big_r[i].tag != i || big_r[i].len != 4 ||
		    big_got[i] != i * 7919)
			break;
	return i;
}

TEST(batch_of_1024_goes_both_ways)
{
	uint32_t done;
	int fd = t_anon(MBX_BATCH_MAX, 8);

	ASSERT_LE(0, fd);
	big_entries();
	EXPECT_EQ(MBX_BATCH_MAX, SEND_BATCH(fd, big_s, MBX_BATCH_MAX, 0, &done));
	EXPECT_EQ(MBX_BATCH_MAX, done);
	EXPECT_EQ(MBX_BATCH_MAX, RECV_BATCH(fd, big_r, MBX_BATCH_MAX, 0, &done));
	EXPECT_EQ(MBX_BATCH_MAX, done);
	EXPECT_EQ(MBX_BATCH_MAX, big_first_wrong(MBX_BATCH_MAX));
	close(fd);
}

/*
 * Messages from several senders in one receive batch each carry their own
 * sender's pid and uid: a child with another uid sends between this
 * process's messages.
 */
TEST(recv_batch_tells_each_message_its_own_sender)
{
	struct mbx_recv m[6];
	uint32_t done;
	unsigned int i;
	pid_t pid;
	int fd = t_anon(8, MSG_MAX);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, send_one(fd, 0, 0));
	ASSERT_EQ(0, send_one(fd, 1, 0));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (setresuid(4321, 4321, 4321))
			_exit(T_BAD_SETUP);
		_exit(send_one(fd, 2, 0) || send_one(fd, 3, 0) ? T_BAD_DATA : 0);
	}
	ASSERT_EQ(0, t_reap(pid));
	ASSERT_EQ(0, send_one(fd, 4, 0));
	ASSERT_EQ(0, send_one(fd, 5, 0));
	recv_entries(m, 6);
	EXPECT_EQ(6, RECV_BATCH(fd, m, 6, 0, &done));
	for (i = 0; i < 6; i++) {
		bool child = i == 2 || i == 3;

		EXPECT_EQ(child ? pid : getpid(), m[i].pid) TH_LOG("entry %u", i);
		EXPECT_EQ(child ? 4321U : 0U, m[i].uid) TH_LOG("entry %u", i);
		EXPECT_EQ(1000 + i, m[i].tag);
	}
	close(fd);
}

/* ---- partial batches -------------------------------------------------- */

/*
 * Past the first few dozen entries (the kernel takes a batch in chunks),
 * a batch still stops exactly where room runs out, and a receive batch
 * exactly where the queue runs dry, in order.
 */
TEST(long_batches_stop_exactly_at_room_and_at_the_last_message)
{
	enum { COUNT = 100, ROOM = 70 };
	uint32_t done;
	int fd = t_anon(ROOM, 8);

	ASSERT_LE(0, fd);
	big_entries();
	EXPECT_EQ(ROOM, SEND_BATCH(fd, big_s, COUNT, 0, &done));
	EXPECT_EQ(ROOM, done);
	EXPECT_EQ(ROOM, T_INFO(fd, queued));
	EXPECT_EQ(ROOM, RECV_BATCH(fd, big_r, COUNT, 0, &done));
	EXPECT_EQ(ROOM, done);
	EXPECT_EQ(ROOM, big_first_wrong(ROOM));
	EXPECT_EQ(0, big_r[ROOM].tag);
	EXPECT_EQ(0, T_INFO(fd, queued));
	close(fd);
}

TEST(send_batch_of_8_with_room_for_5_sends_5)
{
	struct mbx_send m[8];
	struct mbx_recv r;
	char buf[MSG_MAX];
	uint32_t done;
	unsigned int i;
	int fd = t_anon(5, MSG_MAX);

	ASSERT_LE(0, fd);
	send_entries(m, 8, 0);
	EXPECT_EQ(5, SEND_BATCH(fd, m, 8, 0, &done));
	EXPECT_EQ(5, done);
	EXPECT_EQ(5, T_INFO(fd, queued));
	EXPECT_EQ(5, SENT(fd));
	EXPECT_EQ(0, T_INFO(fd, send_waiting));
	for (i = 0; i < 5; i++) {
		ASSERT_EQ(0, recv_one(fd, &r, buf, sizeof(buf)));
		EXPECT_TRUE(is_msg(&r, buf, i, 0));
	}
	EXPECT_EQ(-EAGAIN, recv_one(fd, &r, buf, sizeof(buf)));

	/* the rest go with the next call */
	EXPECT_EQ(3, SEND_BATCH(fd, m + 5, 3, MBX_NONBLOCK, &done));
	EXPECT_EQ(3, done);
	for (i = 5; i < 8; i++) {
		ASSERT_EQ(0, recv_one(fd, &r, buf, sizeof(buf)));
		EXPECT_TRUE(is_msg(&r, buf, i, 0));
	}
	close(fd);
}

TEST(send_batch_stops_where_room_runs_out_on_a_partly_full_queue)
{
	struct mbx_send m[8];
	uint32_t done;
	int fd = t_anon(5, MSG_MAX);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_str(fd, "a", 0));
	ASSERT_EQ(0, t_send_str(fd, "b", 0));
	send_entries(m, 8, 0);
	EXPECT_EQ(3, SEND_BATCH(fd, m, 8, MBX_NONBLOCK, &done));
	EXPECT_EQ(3, done);
	EXPECT_EQ(5, T_INFO(fd, queued));
	close(fd);
}

TEST(recv_batch_of_8_on_a_queue_of_3_receives_3)
{
	struct mbx_recv m[8];
	uint32_t done;
	unsigned int i;
	int fd = t_anon(8, MSG_MAX);

	ASSERT_LE(0, fd);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, send_one(fd, i, 0));
	recv_entries(m, 8);
	EXPECT_EQ(3, RECV_BATCH(fd, m, 8, 0, &done));
	EXPECT_EQ(3, done);
	for (i = 0; i < 3; i++)
		EXPECT_TRUE(is_msg(&m[i], rbuf[i], i, 0));
	for (i = 3; i < 8; i++) {
		EXPECT_EQ(MSG_MAX, m[i].len);
		EXPECT_EQ(POISON, m[i].tag);
		EXPECT_EQ((char)0xa5, rbuf[i][0]);
	}
	EXPECT_EQ(3, RECEIVED(fd));
	close(fd);
}

TEST(nonblocking_recv_batch_on_empty_queue_is_eagain_with_done_0)
{
	struct mbx_recv m[4];
	uint32_t done;
	int fd = t_anon(8, MSG_MAX);

	ASSERT_LE(0, fd);
	recv_entries(m, 4);
	EXPECT_EQ(-EAGAIN, RECV_BATCH(fd, m, 4, MBX_NONBLOCK, &done));
	EXPECT_EQ(0, done);
	EXPECT_EQ(POISON, m[0].tag);
	EXPECT_EQ(0, T_INFO(fd, recv_waiting));
	close(fd);
}

TEST(recv_batch_on_o_nonblock_fd_is_eagain_without_the_flag)
{
	struct mbx_recv m[4];
	uint32_t done;
	int fd = t_port(8, MSG_MAX, 0600, NULL, MBX_NONBLOCK);

	ASSERT_LE(0, fd);
	recv_entries(m, 4);
	EXPECT_EQ(-EAGAIN, RECV_BATCH(fd, m, 4, 0, &done));
	EXPECT_EQ(0, done);
	close(fd);
}

TEST(nonblocking_send_batch_on_full_queue_is_eagain_with_done_0)
{
	struct mbx_send m[4];
	uint32_t done;
	int fd = t_anon(1, MSG_MAX);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_str(fd, "full", 0));
	send_entries(m, 4, 0);
	EXPECT_EQ(-EAGAIN, SEND_BATCH(fd, m, 4, MBX_NONBLOCK, &done));
	EXPECT_EQ(0, done);
	EXPECT_EQ(1, SENT(fd));
	close(fd);
}

/* ---- waiting: only the first entry waits ------------------------------ */

TEST(blocking_recv_batch_waits_for_the_first_message)
{
	struct mbx_recv m[4];
	uint32_t done;
	pid_t pid;
	long n;
	int fd = t_anon(8, MSG_MAX);

	ASSERT_LE(0, fd);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (T_WAIT(fd, recv_waiting, 1))
			_exit(T_BAD_SETUP);
		_exit(t_code(send_one(fd, 0, 0) ?: send_one(fd, 1, 0)));
	}
	recv_entries(m, 4);
	n = RECV_BATCH(fd, m, 4, 0, &done);
	EXPECT_LE(1, n);
	EXPECT_GE(2, n);
	EXPECT_EQ(n, done);
	EXPECT_TRUE(is_msg_from(&m[0], rbuf[0], 0, 0, pid));
	EXPECT_EQ(0, t_reap(pid));
	EXPECT_EQ(1, T_INFO(fd, recv_waits));
	/* the second message was either taken by the batch or is queued */
	EXPECT_EQ(2 - n, T_INFO(fd, queued));
	close(fd);
}

TEST(blocking_send_batch_waits_for_room_for_the_first_message)
{
	struct mbx_send m[4];
	uint32_t done;
	pid_t pid;
	long n;
	int fd = t_anon(1, MSG_MAX);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_str(fd, "full", 0));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char buf[16];

		if (T_WAIT(fd, send_waiting, 1))
			_exit(T_BAD_SETUP);
		_exit(t_code(mbx_recv(fd, buf, sizeof(buf), NULL)));
	}
	send_entries(m, 4, 0);
	n = SEND_BATCH(fd, m, 4, 0, &done);
	/* one slot was freed: the first entry took it, the rest found none */
	EXPECT_EQ(1, n);
	EXPECT_EQ(1, done);
	EXPECT_EQ(0, t_reap(pid));
	EXPECT_EQ(1, T_INFO(fd, queued));
	EXPECT_EQ(2, SENT(fd));
	close(fd);
}

TEST(rendezvous_send_batch_hands_one_message_to_a_waiting_receiver)
{
	struct mbx_send m[4];
	uint32_t done;
	pid_t pid, me = getpid();
	int fd = t_anon(0, MSG_MAX);

	ASSERT_LE(0, fd);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char buf[MSG_MAX];
		struct mbx_recv r;

		memset(&r, 0, sizeof(r));
		r.buf = (uintptr_t)buf;
		r.len = sizeof(buf);
		if (t_ioctl(fd, MBX_IOC_RECV, &r))
			_exit(T_BAD_DATA);
		_exit(is_msg_from(&r, buf, 0, 0, me) ? 0 : T_BAD_DATA);
	}
	ASSERT_EQ(0, T_WAIT(fd, recv_waiting, 1));
	send_entries(m, 4, 0);
	EXPECT_EQ(1, SEND_BATCH(fd, m, 4, 0, &done));
	EXPECT_EQ(1, done);
	EXPECT_EQ(0, t_reap(pid));
	EXPECT_EQ(0, T_INFO(fd, send_waiting));
	EXPECT_EQ(1, SENT(fd));
	close(fd);
}

TEST(timed_recv_batch_on_empty_queue_is_etimedout)
{
	struct mbx_recv m[4];
	uint32_t done;
	uint64_t t0, dt;
	int fd = t_anon(8, MSG_MAX);

	ASSERT_LE(0, fd);
	recv_entries(m, 4);
	t0 = t_now_ns();
	EXPECT_EQ(-ETIMEDOUT, batch(fd, MBX_IOC_RECV_BATCH, m, 4, MBX_TIMEOUT,
				    TIMEOUT_NS, &done));
	dt = t_now_ns() - t0;
	EXPECT_EQ(0, done);
	EXPECT_LE(TIMEOUT_NS, dt);
	EXPECT_GT(TIMEOUT_NS + SLACK_NS, dt);
	EXPECT_EQ(0, T_INFO(fd, recv_waiting));

	/* absolute, in the past: at once */
	EXPECT_EQ(-ETIMEDOUT, batch(fd, MBX_IOC_RECV_BATCH, m, 4,
				    MBX_TIMEOUT | MBX_ABSTIME, 1, &done));
	EXPECT_EQ(0, done);
	close(fd);
}

TEST(timed_send_batch_on_full_queue_is_etimedout)
{
	struct mbx_send m[4];
	uint32_t done;
	uint64_t t0, dt;
	int fd = t_anon(1, MSG_MAX);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_str(fd, "full", 0));
	send_entries(m, 4, 0);
	t0 = t_now_ns();
	EXPECT_EQ(-ETIMEDOUT, batch(fd, MBX_IOC_SEND_BATCH, m, 4, MBX_TIMEOUT,
				    TIMEOUT_NS, &done));
	dt = t_now_ns() - t0;
	EXPECT_EQ(0, done);
	EXPECT_LE(TIMEOUT_NS, dt);
	EXPECT_GT(TIMEOUT_NS + SLACK_NS, dt);
	EXPECT_EQ(1, SENT(fd));
	EXPECT_EQ(0, T_INFO(fd, send_waiting));
	close(fd);
}

TEST(timed_recv_batch_returns_what_is_there_without_waiting_more)
{
	struct mbx_recv m[4];
	uint32_t done;
	int fd = t_anon(8, MSG_MAX);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, send_one(fd, 0, 0));
	recv_entries(m, 4);
	EXPECT_EQ(1, batch(fd, MBX_IOC_RECV_BATCH, m, 4, MBX_TIMEOUT,
			   60000 * MS, &done));
	EXPECT_EQ(1, done);
	close(fd);
}

TEST(signal_during_blocking_recv_batch_is_eintr_with_done_0)
{
	uint32_t *done = t_shared(sizeof(*done));
	struct mbx_recv m[4];
	pid_t pid;
	int fd = t_anon(8, MSG_MAX);

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, done);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (t_handle(SIGUSR1, NULL, 0))
			_exit(T_BAD_SETUP);
		recv_entries(m, 4);
		_exit(t_code(RECV_BATCH(fd, m, 4, 0, done)));
	}
	ASSERT_EQ(0, T_WAIT(fd, recv_waiting, 1));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	EXPECT_EQ(EINTR, t_reap(pid));
	EXPECT_EQ(0, *done);
	close(fd);
}

TEST_HARNESS_MAIN
