// SPDX-License-Identifier: GPL-2.0
/*
 * The message queue in copy mode (see queue_test.c): every combination of
 * blocking / non-blocking x send / receive x empty / full / rendezvous.
 * The second party is a child process; a test knows it is blocked from
 * PORT_INFO send_waiting / recv_waiting.
 */
#define _GNU_SOURCE
#include "queue/queue.h"

/* ---- non-blocking x empty / full -------------------------------------- */

TEST(nonblocking_send_with_room_succeeds)
{
	int fd = t_anon(2, 16);

	ASSERT_LE(0, fd);
	EXPECT_EQ(0, mbx_send_nonblock(fd, "a", 1, 0));
	EXPECT_EQ(0, mbx_send_nonblock(fd, "b", 1, 0));
	EXPECT_EQ(2, T_INFO(fd, queued));
}

TEST(nonblocking_send_to_full_queue_fails_eagain)
{
	char buf[8];
	int fd = t_anon(2, 16);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_str(fd, "a", 0));
	ASSERT_EQ(0, t_send_str(fd, "b", 0));
	EXPECT_EQ(-EAGAIN, mbx_send_nonblock(fd, "c", 1, 0));
	/* a higher priority does not make room either */
	EXPECT_EQ(-EAGAIN, mbx_send_nonblock(fd, "d", 1, 31));
	EXPECT_EQ(2, T_INFO(fd, queued));
	EXPECT_EQ(2, T_INFO(fd, sent));
	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("a", buf);
	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("b", buf);
	EXPECT_EQ(-EAGAIN, t_recv_str(fd, buf, sizeof(buf), NULL));
}

TEST(nonblocking_recv_from_empty_queue_fails_eagain)
{
	char buf[8];
	int fd = t_anon(2, 16);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EAGAIN, mbx_recv_nonblock(fd, buf, sizeof(buf), NULL));
	EXPECT_EQ(0, T_INFO(fd, recv_waiting));
}

TEST(nonblocking_recv_with_message_succeeds)
{
	char buf[8];
	int fd = t_anon(2, 16);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_str(fd, "m", 0));
	EXPECT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("m", buf);
}

TEST(o_nonblock_makes_read_and_write_nonblocking)
{
	char buf[8];
	int fd = t_anon(1, 16);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fcntl(fd, F_SETFL, O_NONBLOCK));
	EXPECT_EQ(-1, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(1, write(fd, "a", 1));
	EXPECT_EQ(-1, write(fd, "b", 1));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(1, T_INFO(fd, queued));
}

TEST(o_nonblock_makes_ioctl_send_and_recv_nonblocking)
{
	char buf[8];
	int fd = t_anon(1, 16);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fcntl(fd, F_SETFL, O_NONBLOCK));
	/* no MBX_NONBLOCK in the calls: the fd's flag decides */
	EXPECT_EQ(-EAGAIN, mbx_recv(fd, buf, sizeof(buf), NULL));
	ASSERT_EQ(0, t_send_str(fd, "a", 0));
	EXPECT_EQ(-EAGAIN, t_send_str(fd, "b", 0));
	EXPECT_EQ(1, T_INFO(fd, queued));
	EXPECT_EQ(0, T_INFO(fd, send_waits));
	EXPECT_EQ(0, T_INFO(fd, recv_waits));
}

/* ---- blocking x empty / full ------------------------------------------ */

TEST(blocking_send_with_room_returns_at_once)
{
	int fd = t_anon(2, 16);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_str(fd, "a", 0));
	EXPECT_EQ(1, T_INFO(fd, queued));
	EXPECT_EQ(0, T_INFO(fd, send_waits));
}

TEST(blocking_recv_with_message_returns_at_once)
{
	char buf[8];
	int fd = t_anon(2, 16);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_str(fd, "a", 0));
	EXPECT_EQ(1, mbx_recv(fd, buf, sizeof(buf), NULL));
	EXPECT_EQ(0, T_INFO(fd, recv_waits));
}

TEST(blocking_send_to_full_queue_waits_for_a_receive)
{
	char buf[8];
	pid_t pid;
	int fd = t_anon(2, 16);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_str(fd, "a", 0));
	ASSERT_EQ(0, t_send_str(fd, "b", 0));
	pid = fork_sender(fd, "c", 0);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, T_WAIT(fd, send_waiting, 1));
	EXPECT_TRUE(t_stays_blocked(pid));
	EXPECT_EQ(2, T_INFO(fd, queued));

	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("a", buf);
	EXPECT_EQ(0, t_reap(pid));
	EXPECT_EQ(2, T_INFO(fd, queued));
	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("b", buf);
	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("c", buf);
	EXPECT_EQ(-EAGAIN, t_recv_str(fd, buf, sizeof(buf), NULL));
}

TEST(blocking_recv_from_empty_queue_waits_for_a_send)
{
	pid_t pid;
	int fd = t_anon(2, 16);

	ASSERT_LE(0, fd);
	pid = fork_receiver(fd);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, T_WAIT(fd, recv_waiting, 1));
	EXPECT_TRUE(t_stays_blocked(pid));
	ASSERT_EQ(0, t_send_str(fd, "R", 0));
	EXPECT_EQ('R', t_reap(pid));
	EXPECT_EQ(0, T_INFO(fd, queued));
	EXPECT_EQ(1, T_INFO(fd, received));
}

TEST(blocked_senders_are_served_by_priority)
{
	pid_t lo, hi;
	char buf[8];
	int fd = t_anon(1, 16);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_str(fd, "q", 0));
	lo = fork_sender(fd, "l", 1);
	ASSERT_LE(0, lo);
	ASSERT_EQ(0, T_WAIT(fd, send_waiting, 1));
	hi = fork_sender(fd, "h", 5);
	ASSERT_LE(0, hi);
	ASSERT_EQ(0, T_WAIT(fd, send_waiting, 2));

	/* a free slot goes to the best waiting message */
	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("q", buf);
	EXPECT_EQ(0, t_reap(hi));
	EXPECT_TRUE(t_alive(lo));
	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("h", buf);
	EXPECT_EQ(0, t_reap(lo));
	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("l", buf);
}

TEST(blocked_senders_are_served_fifo_within_a_priority)
{
	pid_t first, second;
	char buf[8];
	int fd = t_anon(1, 16);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_str(fd, "q", 2));
	first = fork_sender(fd, "1", 2);
	ASSERT_LE(0, first);
	ASSERT_EQ(0, T_WAIT(fd, send_waiting, 1));
	second = fork_sender(fd, "2", 2);
	ASSERT_LE(0, second);
	ASSERT_EQ(0, T_WAIT(fd, send_waiting, 2));

	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("q", buf);
	EXPECT_EQ(0, t_reap(first));
	EXPECT_TRUE(t_alive(second));
	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("1", buf);
	EXPECT_EQ(0, t_reap(second));
	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("2", buf);
}

TEST(longest_waiting_receiver_gets_the_next_message)
{
	pid_t first, second;
	int fd = t_anon(2, 16);

	ASSERT_LE(0, fd);
	first = fork_receiver(fd);
	ASSERT_LE(0, first);
	ASSERT_EQ(0, T_WAIT(fd, recv_waiting, 1));
	second = fork_receiver(fd);
	ASSERT_LE(0, second);
	ASSERT_EQ(0, T_WAIT(fd, recv_waiting, 2));

	ASSERT_EQ(0, t_send_str(fd, "A", 0));
	EXPECT_EQ('A', t_reap(first));
	ASSERT_EQ(0, t_send_str(fd, "B", 0));
	EXPECT_EQ('B', t_reap(second));
}

TEST(one_message_wakes_one_receiver)
{
	pid_t pids[3];
	int i, sum, done = -1;
	uint64_t end;
	int fd = t_anon(4, 16);

	ASSERT_LE(0, fd);
	for (i = 0; i < 3; i++) {
		pids[i] = fork_receiver(fd);
		ASSERT_LE(0, pids[i]);
		ASSERT_EQ(0, T_WAIT(fd, recv_waiting, i + 1));
	}
	ASSERT_EQ(0, t_send_str(fd, "1", 0));
	ASSERT_EQ(0, T_WAIT(fd, recv_waiting, 2));
	/* wait (bounded) for the one that got it to end */
	end = t_now_ns() + T_WAIT_MS * 1000000ULL;
	while (done < 0 && t_now_ns() < end) {
		for (i = 0; i < 3 && done < 0; i++)
			if (!t_alive(pids[i]))
				done = i;
		usleep(1000);
	}
	ASSERT_LE(0, done);
	EXPECT_EQ('1', t_reap(pids[done]));
	/* the other two stay asleep */
	t_sleep_ms(T_BLOCKED_MS);
	EXPECT_EQ(2, T_INFO(fd, recv_waiting));
	EXPECT_EQ(0, T_INFO(fd, queued));
	for (i = 0; i < 3; i++)
		if (i != done)
			EXPECT_TRUE(t_alive(pids[i]));
	ASSERT_EQ(0, t_send_str(fd, "2", 0));
	ASSERT_EQ(0, t_send_str(fd, "3", 0));
	sum = 0;
	for (i = 0; i < 3; i++)
		if (i != done)
			sum += t_reap(pids[i]);
	EXPECT_EQ('2' + '3', sum);
}

/* ---- rendezvous -------------------------------------------------------- */

TEST(rendezvous_nonblocking_send_without_receiver_fails_eagain)
{
	int fd = t_anon(0, 16);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EAGAIN, mbx_send_nonblock(fd, "x", 1, 0));
	EXPECT_EQ(0, T_INFO(fd, queued));
	EXPECT_EQ(0, T_INFO(fd, sent));
}

TEST(rendezvous_nonblocking_send_to_waiting_receiver_succeeds)
{
	pid_t pid;
	int fd = t_anon(0, 16);

	ASSERT_LE(0, fd);
	pid = fork_receiver(fd);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, T_WAIT(fd, recv_waiting, 1));
	EXPECT_EQ(0, mbx_send_nonblock(fd, "N", 1, 0));
	EXPECT_EQ('N', t_reap(pid));
	/* the receiver took it: nothing left for a second one */
	EXPECT_EQ(-EAGAIN, mbx_send_nonblock(fd, "x", 1, 0));
}

TEST(rendezvous_blocking_send_waits_until_received)
{
	char buf[8];
	pid_t pid;
	int fd = t_anon(0, 16);

	ASSERT_LE(0, fd);
	pid = fork_sender(fd, "S", 0);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, T_WAIT(fd, send_waiting, 1));
	EXPECT_TRUE(t_stays_blocked(pid));
	EXPECT_EQ(0, T_INFO(fd, queued));
	ASSERT_EQ(1, mbx_recv(fd, buf, sizeof(buf), NULL));
	EXPECT_EQ('S', buf[0]);
	EXPECT_EQ(0, t_reap(pid));
}

TEST(rendezvous_blocking_send_to_waiting_receiver_completes)
{
	pid_t pid;
	int fd = t_anon(0, 16);

	ASSERT_LE(0, fd);
	pid = fork_receiver(fd);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, T_WAIT(fd, recv_waiting, 1));
	EXPECT_EQ(0, t_send_str(fd, "B", 0));
	EXPECT_EQ('B', t_reap(pid));
}

TEST(rendezvous_nonblocking_recv_without_sender_fails_eagain)
{
	char buf[8];
	int fd = t_anon(0, 16);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EAGAIN, mbx_recv_nonblock(fd, buf, sizeof(buf), NULL));
	EXPECT_EQ(-EAGAIN, mbx_send_nonblock(fd, "x", 1, 0));
	EXPECT_EQ(-EAGAIN, mbx_recv_nonblock(fd, buf, sizeof(buf), NULL));
}

TEST(rendezvous_nonblocking_recv_from_waiting_sender_succeeds)
{
	char buf[8];
	pid_t pid;
	int fd = t_anon(0, 16);

	ASSERT_LE(0, fd);
	pid = fork_sender(fd, "W", 0);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, T_WAIT(fd, send_waiting, 1));
	EXPECT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("W", buf);
	EXPECT_EQ(0, t_reap(pid));
	EXPECT_EQ(-EAGAIN, t_recv_str(fd, buf, sizeof(buf), NULL));
}

TEST(rendezvous_blocking_recv_waits_for_a_sender)
{
	pid_t pid;
	int fd = t_anon(0, 16);

	ASSERT_LE(0, fd);
	pid = fork_receiver(fd);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, T_WAIT(fd, recv_waiting, 1));
	EXPECT_TRUE(t_stays_blocked(pid));
	EXPECT_EQ(0, t_send_str(fd, "Z", 0));
	EXPECT_EQ('Z', t_reap(pid));
}

TEST(rendezvous_small_buffer_fails_emsgsize_and_sender_keeps_waiting)
{
	struct mbx_recv r;
	char buf[16];
	pid_t pid;
	int fd = t_anon(0, 16);

	ASSERT_LE(0, fd);
	pid = fork_sender(fd, "0123456789", 0);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, T_WAIT(fd, send_waiting, 1));
	EXPECT_EQ(-EMSGSIZE, t_recv(fd, buf, 4, MBX_NONBLOCK, &r));
	EXPECT_EQ(10, r.len);
	EXPECT_TRUE(t_stays_blocked(pid));
	EXPECT_EQ(1, T_INFO(fd, send_waiting));
	EXPECT_LE(0, t_recv(fd, buf, sizeof(buf), MBX_NONBLOCK, &r));
	EXPECT_EQ(10, r.len);
	EXPECT_EQ(0, memcmp(buf, "0123456789", 10));
	EXPECT_EQ(0, t_reap(pid));
}

/* A receiver waiting with a small buffer, for a thread. */
struct small_recv {
	int fd;
	long ret;
	struct mbx_recv r;
};

static void *small_recv(void *arg)
{
	struct small_recv *s = arg;
	char buf[4];

	memset(&s->r, 0, sizeof(s->r));
	s->r.buf = (uintptr_t)buf;
	s->r.len = sizeof(buf);
	s->r.flags = MBX_TIMEOUT;
	s->r.timeout_ns = 3000ULL * 1000000;
	s->ret = t_ioctl(s->fd, MBX_IOC_RECV, &s->r);
	return NULL;
}

/*
 * A waiting receiver is told EMSGSIZE only for a message that went
 * somewhere it could have found it.  A non-blocking send that fails with
 * EAGAIN sent nothing: it once woke such receivers with EMSGSIZE anyway.
 */
TEST(rendezvous_failed_send_tells_waiting_receivers_nothing)
{
	struct small_recv s = { .ret = 1 };
	pthread_t t;
	int fd = t_anon(0, 16);

	ASSERT_LE(0, fd);
	s.fd = fd;
	ASSERT_EQ(0, pthread_create(&t, NULL, small_recv, &s));
	ASSERT_EQ(0, T_WAIT(fd, recv_waiting, 1));
	EXPECT_EQ(-EAGAIN, t_send_copy(fd, "0123456789", 10, 0, 0));
	EXPECT_EQ(1, T_INFO(fd, recv_waiting));
	/* A message that fits is the one it gets. */
	EXPECT_EQ(0, t_send_copy(fd, "abc", 3, 0, 0));
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(0, s.ret);
	EXPECT_EQ(3, s.r.len);
	close(fd);
}

TEST(rendezvous_senders_are_served_by_priority)
{
	pid_t lo, hi;
	char buf[8];
	int fd = t_anon(0, 16);

	ASSERT_LE(0, fd);
	lo = fork_sender(fd, "l", 0);
	ASSERT_LE(0, lo);
	ASSERT_EQ(0, T_WAIT(fd, send_waiting, 1));
	hi = fork_sender(fd, "h", 9);
	ASSERT_LE(0, hi);
	ASSERT_EQ(0, T_WAIT(fd, send_waiting, 2));
	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("h", buf);
	EXPECT_EQ(0, t_reap(hi));
	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("l", buf);
	EXPECT_EQ(0, t_reap(lo));
}

TEST_HARNESS_MAIN
