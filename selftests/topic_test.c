// SPDX-License-Identifier: GPL-2.0
/*
 * Topics (MBX_PORT_TOPIC) in copy mode: who is subscribed, every message
 * to every subscriber in order (several subscriber processes, several
 * publishers, priorities), the block and drop-oldest policies with their
 * counts, late subscribers, unsubscribe and close freeing the backlog,
 * read()/write(), batches, poll, shutdown, end of stream, signals, and
 * bad input.  Zero copy and races are in topic_pool_test.c.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "kselftest_harness.h"
#include "mbx_helpers.h"
#include "topic/topic.h"

TEST(topic_flag_is_checked_and_reported)
{
	struct mbx_version v;
	int fd;

	ASSERT_EQ(0, mbx_version(MBX_DEV_AUTO, &v));
	EXPECT_TRUE(v.features & MBX_FEAT_TOPIC);
	EXPECT_EQ(-EINVAL, t_port(4, 64, 0600, NULL,
				  MBX_PORT_TOPIC | MBX_PORT_MQ));
	EXPECT_EQ(-EINVAL, t_port(0, 64, 0600, NULL, MBX_PORT_TOPIC));
	fd = topic(4);
	ASSERT_LE(0, fd);
	EXPECT_EQ(MBX_STATE_TOPIC, T_INFO(fd, state));
	close(fd);
}

TEST(creator_fd_is_not_subscribed_receive_dups_are)
{
	int fd = topic(4), s1, s2, w;

	ASSERT_LE(0, fd);
	EXPECT_EQ(0, T_INFO(fd, subscribers));
	EXPECT_EQ(0, T_INFO(fd, sub_state));
	s1 = sub(fd);
	s2 = sub(fd);
	w = mbx_port_dup(fd, MBX_SEND);
	ASSERT_LE(0, s1);
	ASSERT_LE(0, s2);
	ASSERT_LE(0, w);
	EXPECT_EQ(2, T_INFO(fd, subscribers));
	EXPECT_EQ(MBX_SUB_ACTIVE, T_INFO(s1, sub_state));
	EXPECT_EQ(0, T_INFO(w, sub_state));
	EXPECT_EQ(4, T_INFO(s1, sub_max_msgs));
	/* The creator may subscribe itself. */
	EXPECT_EQ(0, mbx_subscribe(fd, MBX_SUB_BLOCK, 0, 0));
	EXPECT_EQ(3, T_INFO(fd, subscribers));
	close(s1);
	EXPECT_EQ(2, T_INFO(fd, subscribers));
	close(s2);
	close(w);
	close(fd);
}

/* Child: receive @n u32s blocking, which must be 0..n-1 in order. */
static int recv_sequence(int fd, uint32_t n)
{
	struct mbx_recv r;
	long long v;
	uint32_t i;

	for (i = 0; i < n; i++) {
		v = recv_u32(fd, 0, &r);
		if (v < 0)
			return t_code(v);
		if (v != i || r.dropped || r.msg_flags)
			return T_BAD_DATA;
	}
	return 0;
}

TEST(every_subscriber_process_gets_every_message_in_order)
{
	enum { SUBS = 3, N = 300 };
	int fd = topic(8), s[SUBS], i;
	pid_t pid[SUBS];
	uint32_t v;

	ASSERT_LE(0, fd);
	for (i = 0; i < SUBS; i++) {
		s[i] = mbx_port_dup(fd, MBX_RECV);
		ASSERT_LE(0, s[i]);
	}
	for (i = 0; i < SUBS; i++) {
		pid[i] = t_fork();
		ASSERT_LE(0, pid[i]);
		if (pid[i] == 0)
			_exit(recv_sequence(s[i], N));
	}
	for (v = 0; v < N; v++)
		ASSERT_EQ(0, send_u32(fd, v, 0, 0, 0));
	for (i = 0; i < SUBS; i++)
		EXPECT_EQ(0, t_reap(pid[i]));
	/* Each message was copied in once and is gone with its last reader. */
	EXPECT_EQ(0, T_INFO(fd, queued));
	EXPECT_EQ(N, T_INFO(fd, sent));
	EXPECT_EQ(N * SUBS, T_INFO(fd, received));
	for (i = 0; i < SUBS; i++)
		close(s[i]);
	close(fd);
}

TEST(priorities_order_each_backlog)
{
	static const uint32_t prio[] = { 1, 5, 3, 5, 0, 31 };
	static const uint32_t want[] = { 5, 1, 3, 2, 0, 4 };
	int fd = topic(8), a, b, i;
	struct mbx_recv r;

	ASSERT_LE(0, fd);
	a = sub(fd);
	ASSERT_LE(0, a);
	for (i = 0; i < 6; i++)
		ASSERT_EQ(0, send_u32(fd, i, prio[i], 0, 0));
	b = sub(fd);	/* late: sees nothing of these */
	ASSERT_LE(0, b);
	for (i = 0; i < 6; i++) {
		EXPECT_EQ(want[i], recv_u32(a, 0, &r));
		EXPECT_EQ(prio[want[i]], r.prio);
	}
	EXPECT_EQ(-EAGAIN, recv_u32(a, 0, &r));
	EXPECT_EQ(-EAGAIN, recv_u32(b, 0, &r));
	close(a);
	close(b);
	close(fd);
}

TEST(several_publishers_keep_their_own_order)
{
	enum { PUBS = 3, N = 200 };
	uint32_t next[PUBS] = { 0 };
	int fd = topic(4), s1, s2, i;
	pid_t pid[PUBS];
	struct mbx_recv r;
	long long v;

	ASSERT_LE(0, fd);
	s1 = mbx_port_dup(fd, MBX_RECV);
	s2 = mbx_port_dup(fd, MBX_RECV);
	ASSERT_LE(0, s1);
	ASSERT_LE(0, s2);
	for (i = 0; i < PUBS; i++) {
		pid[i] = t_fork();
		ASSERT_LE(0, pid[i]);
		if (pid[i] == 0) {
			uint32_t k;

			for (k = 0; k < N; k++)
				if (send_u32(fd, k, 0, i, 0))
					_exit(T_BAD_SETUP);
			_exit(0);
		}
	}
	for (i = 0; i < PUBS * N; i++) {
		v = recv_u32(s1, 0, &r);
		ASSERT_LE(0, v);
		ASSERT_GT(PUBS, r.tag);
		ASSERT_EQ(next[r.tag], v);
		next[r.tag]++;
		ASSERT_EQ(v, recv_u32(s2, 0, &r)) TH_LOG("message %d", i);
	}
	for (i = 0; i < PUBS; i++)
		EXPECT_EQ(0, t_reap(pid[i]));
	EXPECT_EQ(0, T_INFO(fd, queued));
	close(s1);
	close(s2);
	close(fd);
}

TEST(block_policy_full_backlog_gives_eagain_and_timeout)
{
	int fd = topic(2), slow, drop;
	struct mbx_recv r;
	struct mbx_send s;
	uint32_t v = 9;

	ASSERT_LE(0, fd);
	slow = sub(fd);
	drop = sub(fd);
	ASSERT_LE(0, slow);
	ASSERT_LE(0, drop);
	ASSERT_EQ(0, mbx_subscribe(drop, MBX_SUB_DROP_OLDEST, 0, 0));
	ASSERT_EQ(0, send_u32(fd, 0, 0, 0, 0));
	ASSERT_EQ(0, send_u32(fd, 1, 0, 0, 0));
	EXPECT_EQ(-EAGAIN, send_u32(fd, 2, 0, 0, MBX_NONBLOCK));
	memset(&s, 0, sizeof(s));
	s.buf = (uintptr_t)&v;
	s.len = sizeof(v);
	s.flags = MBX_TIMEOUT;
	s.timeout_ns = 20 * 1000000ULL;
	EXPECT_EQ(-ETIMEDOUT, t_ioctl(fd, MBX_IOC_SEND, &s));
	/* Nothing of the failed sends reached anyone. */
	EXPECT_EQ(2, T_INFO(slow, sub_depth));
	EXPECT_EQ(2, T_INFO(drop, sub_depth));
	EXPECT_EQ(0, recv_u32(drop, 0, &r));
	EXPECT_EQ(0, recv_u32(slow, 0, &r));
	EXPECT_EQ(0, send_u32(fd, 2, 0, 0, MBX_NONBLOCK));
	EXPECT_EQ(1, recv_u32(slow, 0, &r));
	EXPECT_EQ(2, recv_u32(slow, 0, &r));
	close(slow);
	close(drop);
	close(fd);
}

TEST(blocked_publisher_wakes_when_the_slowest_drains)
{
	int fd = topic(2), fast, slow;
	struct mbx_recv r;
	pid_t pid;

	ASSERT_LE(0, fd);
	fast = sub(fd);
	slow = sub(fd);
	ASSERT_LE(0, fast);
	ASSERT_LE(0, slow);
	ASSERT_EQ(0, send_u32(fd, 0, 0, 0, 0));
	ASSERT_EQ(0, send_u32(fd, 1, 0, 0, 0));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(t_code(send_u32(fd, 2, 0, 0, 0)));
	ASSERT_EQ(0, T_WAIT(fd, send_waiting, 1));
	EXPECT_EQ(0, recv_u32(fast, 0, &r));
	EXPECT_EQ(1, recv_u32(fast, 0, &r));
	EXPECT_TRUE(t_stays_blocked(pid));
	EXPECT_EQ(0, recv_u32(slow, 0, &r));
	EXPECT_EQ(0, t_reap(pid));
	EXPECT_EQ(2, recv_u32(fast, 0, &r));
	EXPECT_EQ(1, recv_u32(slow, 0, &r));
	EXPECT_EQ(2, recv_u32(slow, 0, &r));
	close(fast);
	close(slow);
	close(fd);
}

/* Whether a sender on @fd would be let in now (poll says EPOLLOUT). */
static int writable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLOUT);
}

/*
 * A backlog a sender found full keeps senders out until it has drained by
 * a sixteenth of its limit (4 of 64 messages), and wakes a blocked one
 * then, not at each receive; one that nobody found full takes them at once.
 */
TEST(full_backlog_takes_senders_again_after_a_sixteenth)
{
	int fd = topic(64), s, i;
	struct mbx_recv r;
	pid_t pid;

	ASSERT_LE(0, fd);
	s = sub(fd);
	ASSERT_LE(0, s);
	for (i = 0; i < 64; i++)
		ASSERT_EQ(0, send_u32(fd, i, 0, 0, 0));
	/* Nobody found it full yet: one receive lets the next send in. */
	EXPECT_EQ(0, recv_u32(s, 0, &r));
	EXPECT_EQ(0, send_u32(fd, 64, 0, 0, MBX_NONBLOCK));
	EXPECT_EQ(-EAGAIN, send_u32(fd, 65, 0, 0, MBX_NONBLOCK));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(t_code(send_u32(fd, 65, 0, 0, 0)));
	ASSERT_EQ(0, T_WAIT(fd, send_waiting, 1));
	for (i = 1; i < 4; i++) {
		EXPECT_EQ(i, recv_u32(s, 0, &r));
		EXPECT_FALSE(writable(fd));
		EXPECT_EQ(-EAGAIN, send_u32(fd, 99, 0, 0, MBX_NONBLOCK));
	}
	EXPECT_TRUE(t_stays_blocked(pid));
	EXPECT_EQ(61, T_INFO(s, sub_depth));
	EXPECT_EQ(4, recv_u32(s, 0, &r));
	EXPECT_EQ(0, t_reap(pid));
	EXPECT_TRUE(writable(fd));
	EXPECT_EQ(61, T_INFO(s, sub_depth));
	for (i = 5; i <= 65; i++)
		EXPECT_EQ(i, recv_u32(s, 0, &r));
	EXPECT_EQ(-EAGAIN, recv_u32(s, 0, &r));
	close(s);
	close(fd);
}

TEST(drop_oldest_reports_flag_and_exact_count)
{
	struct mbx_port_info info;
	int fd = topic(8), s, i;
	struct mbx_recv r;
	uint32_t lost = 99;
	uint32_t v;

	ASSERT_LE(0, fd);
	s = sub(fd);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, subscribe(s, MBX_SUB_DROP_OLDEST, 3, 0));
	EXPECT_EQ(MBX_SUB_ACTIVE | MBX_SUB_DROPPING, T_INFO(s, sub_state));
	for (i = 0; i < 10; i++)
		ASSERT_EQ(0, send_u32(fd, i, 0, 0, MBX_NONBLOCK));
	EXPECT_EQ(3, T_INFO(s, sub_depth));
	EXPECT_EQ(3, T_INFO(fd, queued));
	EXPECT_EQ(7, recv_u32(s, 0, &r));
	EXPECT_EQ(MBX_MSG_DROPPED, r.msg_flags);
	EXPECT_EQ(7, r.dropped);
	EXPECT_EQ(8, recv_u32(s, 0, &r));
	EXPECT_EQ(0, r.msg_flags);
	EXPECT_EQ(0, r.dropped);
	ASSERT_EQ(0, send_u32(fd, 10, 0, 0, 0));
	ASSERT_EQ(0, send_u32(fd, 11, 0, 0, 0));
	ASSERT_EQ(0, send_u32(fd, 12, 0, 0, 0));
	/* The library's form: 9 was dropped. */
	EXPECT_EQ(4, mbx_topic_recv(s, &v, sizeof(v), NULL, &lost));
	EXPECT_EQ(10, v);
	EXPECT_EQ(1, lost);
	ASSERT_EQ(0, t_info(s, &info));
	EXPECT_EQ(8, info.sub_dropped);
	close(s);
	close(fd);
}

TEST(drop_oldest_with_a_byte_limit)
{
	int fd = topic(8), s, i;
	char big[40] = "big", got[64];
	struct mbx_recv r = { .buf = (uintptr_t)got, .len = sizeof(got) };

	ASSERT_LE(0, fd);
	s = sub(fd);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, subscribe(s, MBX_SUB_DROP_OLDEST, 0, 100));
	for (i = 0; i < 5; i++)
		ASSERT_EQ(0, mbx_send(fd, big, sizeof(big), 0));
	EXPECT_EQ(2, T_INFO(s, sub_depth));
	EXPECT_EQ(3, T_INFO(s, sub_dropped));
	EXPECT_EQ(0, t_ioctl(s, MBX_IOC_RECV, &r));
	EXPECT_EQ(sizeof(big), r.len);
	EXPECT_EQ(3, r.dropped);
	close(s);
	close(fd);
}

TEST(late_subscriber_sees_only_later_messages)
{
	int fd = topic(8), a, b;
	struct mbx_recv r;

	ASSERT_LE(0, fd);
	a = sub(fd);
	ASSERT_LE(0, a);
	ASSERT_EQ(0, send_u32(fd, 1, 0, 0, 0));
	b = sub(fd);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, send_u32(fd, 2, 0, 0, 0));
	EXPECT_EQ(2, recv_u32(b, 0, &r));
	EXPECT_EQ(-EAGAIN, recv_u32(b, 0, &r));
	EXPECT_EQ(1, recv_u32(a, 0, &r));
	EXPECT_EQ(2, recv_u32(a, 0, &r));
	close(a);
	close(b);
	close(fd);
}

TEST(no_subscriber_send_succeeds_and_is_dropped)
{
	int fd = topic(2), i;

	ASSERT_LE(0, fd);
	for (i = 0; i < 5; i++)
		EXPECT_EQ(0, send_u32(fd, i, 0, 0, MBX_NONBLOCK));
	EXPECT_EQ(0, T_INFO(fd, queued));
	EXPECT_EQ(5, T_INFO(fd, sent));
	close(fd);
}

TEST(unsubscribe_and_close_free_the_backlog_at_once)
{
	int fd = topic(8), a, b, i;
	struct mbx_recv r;

	ASSERT_LE(0, fd);
	a = sub(fd);
	b = sub(fd);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	for (i = 0; i < 5; i++)
		ASSERT_EQ(0, send_u32(fd, i, 0, 0, 0));
	EXPECT_EQ(5, T_INFO(fd, queued));
	EXPECT_EQ(0, recv_u32(a, 0, &r));
	EXPECT_EQ(0, mbx_unsubscribe(a));
	EXPECT_EQ(0, mbx_unsubscribe(a));	/* already: fine */
	EXPECT_EQ(0, T_INFO(a, sub_state));
	EXPECT_EQ(-ENOTCONN, recv_u32(a, 0, &r));
	EXPECT_EQ(5, T_INFO(fd, queued));	/* b still holds them */
	close(b);
	EXPECT_EQ(0, T_INFO(fd, queued));
	EXPECT_EQ(0, T_INFO(fd, subscribers));
	/* Subscribed again: only what comes after. */
	EXPECT_EQ(0, mbx_subscribe(a, MBX_SUB_BLOCK, 0, 0));
	ASSERT_EQ(0, send_u32(fd, 7, 0, 0, 0));
	EXPECT_EQ(7, recv_u32(a, 0, &r));
	EXPECT_EQ(0, r.dropped);
	close(a);
	close(fd);
}

TEST(resubscribe_changes_policy_and_keeps_the_backlog)
{
	int fd = topic(4), s, i;
	struct mbx_recv r;

	ASSERT_LE(0, fd);
	s = sub(fd);
	ASSERT_LE(0, s);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, send_u32(fd, i, 0, 0, 0));
	EXPECT_EQ(-EAGAIN, send_u32(fd, 4, 0, 0, MBX_NONBLOCK));
	ASSERT_EQ(0, subscribe(s, MBX_SUB_DROP_OLDEST, 2, 0));
	EXPECT_EQ(2, T_INFO(s, sub_depth));
	EXPECT_EQ(0, send_u32(fd, 4, 0, 0, MBX_NONBLOCK));
	EXPECT_EQ(3, recv_u32(s, 0, &r));
	EXPECT_EQ(3, r.dropped);
	EXPECT_EQ(4, recv_u32(s, 0, &r));
	close(s);
	close(fd);
}

/*
 * A receive whose results cannot be written back (a read-only struct
 * mbx_recv) fails with EFAULT and leaves the backlog as it was.
 */
TEST(receive_with_read_only_results_leaves_the_backlog)
{
	int fd = topic(4), s;
	struct mbx_recv *r, ok;
	uint32_t v = 0;
	void *pg;

	ASSERT_LE(0, fd);
	s = sub(fd);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, send_u32(fd, 7, 0, 0, 0));
	pg = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, pg);
	r = pg;
	r->buf = (uintptr_t)&v;
	r->len = sizeof(v);
	ASSERT_EQ(0, mprotect(pg, 4096, PROT_READ));
	EXPECT_EQ(-EFAULT, t_ioctl(s, MBX_IOC_RECV, r));
	EXPECT_EQ(1, T_INFO(s, sub_depth));
	EXPECT_EQ(7, recv_u32(s, 0, &ok));
	EXPECT_EQ(0, T_INFO(s, sub_depth));
	munmap(pg, 4096);
	close(s);
	close(fd);
}

/* The results are written once the payload is in place, as on ports. */
TEST(receive_whose_payload_faults_writes_no_results)
{
	int fd = topic(4), s;
	struct mbx_recv r, ok;

	ASSERT_LE(0, fd);
	s = sub(fd);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, send_u32(fd, 7, 0, 0, 0));
	memset(&r, 0, sizeof(r));
	r.buf = (uintptr_t)t_bad_ptr();
	r.len = 8;
	r.tag = 0x1234;
	r.uid = 77;
	EXPECT_EQ(-EFAULT, t_ioctl(s, MBX_IOC_RECV, &r));
	EXPECT_EQ(8, r.len);
	EXPECT_EQ(0x1234, r.tag);
	EXPECT_EQ(77, r.uid);
	EXPECT_EQ(1, T_INFO(s, sub_depth));
	EXPECT_EQ(7, recv_u32(s, 0, &ok));
	close(s);
	close(fd);
}

TEST(read_and_write_work_on_topic_fds)
{
	int fd = topic(4), a, b;
	char buf[16];

	ASSERT_LE(0, fd);
	a = sub(fd);
	b = sub(fd);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(5, write(fd, "hello", 5));
	EXPECT_EQ(5, read(a, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	EXPECT_EQ(-1, read(b, buf, 2));
	EXPECT_EQ(EMSGSIZE, errno);
	EXPECT_EQ(5, read(b, buf, sizeof(buf)));
	EXPECT_EQ(-1, read(a, buf, sizeof(buf)));
	EXPECT_EQ(EAGAIN, errno);
	close(a);
	close(b);
	close(fd);
}

TEST(batches_fan_out_and_drain)
{
	struct mbx_send s[4];
	struct mbx_recv r[4];
	uint32_t v[4] = { 10, 11, 12, 13 }, got[4];
	int fd = topic(8), a, b, i, k;

	ASSERT_LE(0, fd);
	a = sub(fd);
	b = sub(fd);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	memset(s, 0, sizeof(s));
	for (i = 0; i < 4; i++) {
		s[i].buf = (uintptr_t)&v[i];
		s[i].len = sizeof(v[i]);
	}
	ASSERT_EQ(4, mbx_send_batch(fd, s, 4, 0));
	for (k = 0; k < 2; k++) {
		memset(r, 0, sizeof(r));
		for (i = 0; i < 4; i++) {
			r[i].buf = (uintptr_t)&got[i];
			r[i].len = sizeof(got[i]);
		}
		ASSERT_EQ(4, mbx_recv_batch(k ? b : a, r, 4, MBX_NONBLOCK));
		for (i = 0; i < 4; i++)
			EXPECT_EQ(v[i], got[i]);
	}
	EXPECT_EQ(0, T_INFO(fd, queued));
	close(a);
	close(b);
	close(fd);
}

TEST(poll_in_is_per_subscriber_out_follows_block_backlogs)
{
	int fd = topic(1), a, b;
	struct pollfd p[3];
	struct mbx_recv r;

	ASSERT_LE(0, fd);
	a = sub(fd);
	b = sub(fd);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	p[0] = (struct pollfd){ .fd = fd, .events = POLLIN | POLLOUT };
	p[1] = (struct pollfd){ .fd = a, .events = POLLIN };
	p[2] = (struct pollfd){ .fd = b, .events = POLLIN };
	ASSERT_EQ(1, poll(p, 3, 0));
	EXPECT_EQ(POLLOUT, p[0].revents);
	ASSERT_EQ(0, send_u32(fd, 1, 0, 0, 0));
	ASSERT_EQ(2, poll(p, 3, 0));
	EXPECT_EQ(0, p[0].revents);	/* full: no POLLOUT */
	EXPECT_EQ(POLLIN, p[1].revents);
	EXPECT_EQ(POLLIN, p[2].revents);
	EXPECT_EQ(1, recv_u32(a, 0, &r));
	ASSERT_EQ(1, poll(p, 3, 0));
	EXPECT_EQ(0, p[1].revents);
	EXPECT_EQ(POLLIN, p[2].revents);
	EXPECT_EQ(1, recv_u32(b, 0, &r));
	ASSERT_EQ(1, poll(p, 3, 0));
	EXPECT_EQ(POLLOUT, p[0].revents);
	close(a);
	close(b);
	close(fd);
}

TEST(end_of_stream_after_the_backlog_and_shutdown)
{
	int fd = topic(4), a, b;
	struct mbx_recv r;
	char buf[8];

	ASSERT_LE(0, fd);
	a = mbx_port_dup(fd, MBX_RECV);
	b = sub(fd);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, send_u32(fd, 3, 0, 0, 0));
	/* Last sender closes: the backlog drains, then end of stream. */
	close(fd);
	EXPECT_EQ(3, recv_u32(a, 0, &r));
	EXPECT_EQ(0, read(a, buf, sizeof(buf)));
	EXPECT_EQ(-EPIPE, recv_u32(a, 0, &r));
	close(a);
	close(b);

	fd = topic(4);
	ASSERT_LE(0, fd);
	a = sub(fd);
	ASSERT_LE(0, a);
	ASSERT_EQ(0, send_u32(fd, 4, 0, 0, 0));
	ASSERT_EQ(0, mbx_shutdown(fd));
	EXPECT_EQ(-EPIPE, send_u32(fd, 5, 0, 0, 0));
	EXPECT_EQ(4, recv_u32(a, 0, &r));
	EXPECT_EQ(-EPIPE, recv_u32(a, 0, &r));
	close(a);
	close(fd);
}

TEST(blocked_subscriber_wakes_for_a_message_and_for_unsubscribe)
{
	int fd = topic(4), a;
	struct mbx_recv r;
	pid_t pid;

	ASSERT_LE(0, fd);
	a = mbx_port_dup(fd, MBX_RECV);
	ASSERT_LE(0, a);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(recv_u32(a, 0, &r) == 6 ? 0 : T_BAD_DATA);
	ASSERT_EQ(0, T_WAIT(fd, recv_waiting, 1));
	ASSERT_EQ(0, send_u32(fd, 6, 0, 0, 0));
	EXPECT_EQ(0, t_reap(pid));

	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(t_code(recv_u32(a, 0, &r)));
	ASSERT_EQ(0, T_WAIT(fd, recv_waiting, 1));
	ASSERT_EQ(0, mbx_unsubscribe(a));
	EXPECT_EQ(ENOTCONN, t_reap(pid));
	close(a);
	close(fd);
}

static void on_alarm(int sig)
{
	(void)sig;
}

TEST(signal_interrupts_a_blocked_publisher_and_nothing_is_sent)
{
	int fd = topic(1), a;
	struct mbx_send s;
	uint32_t v = 2;

	ASSERT_LE(0, fd);
	a = sub(fd);
	ASSERT_LE(0, a);
	ASSERT_EQ(0, send_u32(fd, 1, 0, 0, 0));
	ASSERT_EQ(0, t_handle(SIGALRM, on_alarm, 0));
	memset(&s, 0, sizeof(s));
	s.buf = (uintptr_t)&v;
	s.len = sizeof(v);
	s.flags = MBX_TIMEOUT;
	s.timeout_ns = 5000000000ULL;
	alarm(1);
	EXPECT_EQ(-EINTR, t_ioctl(fd, MBX_IOC_SEND, &s));
	alarm(0);
	EXPECT_EQ(1, T_INFO(a, sub_depth));
	EXPECT_EQ(1, T_INFO(fd, sent));
	close(a);
	close(fd);
}

TEST(bad_input_gets_clear_errors)
{
	struct mbx_subscribe s;
	int fd = topic(4), w, r, plain;

	ASSERT_LE(0, fd);
	w = mbx_port_dup(fd, MBX_SEND);
	r = sub(fd);
	plain = t_anon(4, 64);
	ASSERT_LE(0, w);
	ASSERT_LE(0, r);
	ASSERT_LE(0, plain);
	EXPECT_EQ(-EINVAL, subscribe(r, 2, 0, 0));
	EXPECT_EQ(-EINVAL, subscribe(r, 0, 5, 0));
	EXPECT_EQ(-EINVAL, subscribe(r, 0, 0, 4 * 64 + 1));
	memset(&s, 0, sizeof(s));
	s.flags = 1;
	EXPECT_EQ(-EINVAL, t_ioctl(r, MBX_IOC_SUBSCRIBE, &s));
	s.flags = 0;
	s.reserved = 1;
	EXPECT_EQ(-EINVAL, t_ioctl(r, MBX_IOC_SUBSCRIBE, &s));
	EXPECT_EQ(-EBADF, subscribe(w, 0, 0, 0));
	EXPECT_EQ(-EBADF, mbx_unsubscribe(w));
	EXPECT_EQ(-EINVAL, subscribe(plain, 0, 0, 0));
	EXPECT_EQ(-EINVAL, mbx_unsubscribe(plain));
	EXPECT_EQ(-EFAULT, t_ioctl(r, MBX_IOC_SUBSCRIBE, t_bad_ptr()));
	/* Nothing changed. */
	EXPECT_EQ(MBX_SUB_ACTIVE, T_INFO(r, sub_state));
	EXPECT_EQ(4, T_INFO(r, sub_max_msgs));
	close(w);
	close(r);
	close(plain);
	close(fd);
}

TEST(struct_sizes_old_and_new)
{
	struct { struct mbx_subscribe s; uint64_t tail; } big;
	int fd = topic(4), r;
	unsigned long cmd;
	struct mbx_recv rv;
	uint32_t v = 0;

	ASSERT_LE(0, fd);
	r = sub(fd);
	ASSERT_LE(0, r);
	memset(&big, 0, sizeof(big));
	big.s.policy = MBX_SUB_DROP_OLDEST;
	cmd = _IOC(_IOC_WRITE, MBX_IOC_MAGIC, 0x1B, sizeof(big));
	EXPECT_EQ(0, t_ioctl(r, cmd, &big));
	big.tail = 1;
	EXPECT_EQ(-EINVAL, t_ioctl(r, cmd, &big));
	cmd = _IOC(_IOC_WRITE, MBX_IOC_MAGIC, 0x1B, sizeof(big.s) - 8);
	EXPECT_EQ(-EINVAL, t_ioctl(r, cmd, &big));
	/* The drop count is in the first version of struct mbx_recv. */
	ASSERT_EQ(0, subscribe(r, MBX_SUB_DROP_OLDEST, 1, 0));
	ASSERT_EQ(0, send_u32(fd, 1, 0, 0, 0));
	ASSERT_EQ(0, send_u32(fd, 2, 0, 0, 0));
	cmd = _IOC(_IOC_READ | _IOC_WRITE, MBX_IOC_MAGIC, 0x11,
		   MBX_RECV_SIZE_VER0);
	memset(&rv, 0, sizeof(rv));
	rv.buf = (uintptr_t)&v;
	rv.len = sizeof(v);
	EXPECT_EQ(0, t_ioctl(r, cmd, &rv));
	EXPECT_EQ(2, v);
	EXPECT_EQ(1, rv.dropped);
	EXPECT_EQ(MBX_MSG_DROPPED, rv.msg_flags);
	/* dropped is zero in, like the reserved field it was. */
	rv.len = sizeof(v);
	rv.flags = MBX_NONBLOCK;
	EXPECT_EQ(-EINVAL, t_ioctl(r, MBX_IOC_RECV, &rv));
	close(r);
	close(fd);
}

TEST(fdinfo_shows_the_subscription)
{
	int fd = topic(4), a;
	char val[64];

	ASSERT_LE(0, fd);
	a = sub(fd);
	ASSERT_LE(0, a);
	ASSERT_EQ(0, send_u32(fd, 1, 0, 0, 0));
	ASSERT_EQ(0, t_fdinfo(a, "mbx-subscribers", val, sizeof(val)));
	EXPECT_STREQ("1", val);
	ASSERT_EQ(0, t_fdinfo(a, "mbx-sub", val, sizeof(val)));
	EXPECT_STREQ("block", val);
	ASSERT_EQ(0, t_fdinfo(a, "mbx-sub-depth", val, sizeof(val)));
	EXPECT_STREQ("1", val);
	ASSERT_EQ(0, t_fdinfo(fd, "mbx-sub", val, sizeof(val)));
	EXPECT_STREQ("none", val);
	close(a);
	close(fd);
}

TEST(named_topic_opened_for_receive_subscribes)
{
	char name[MBX_NAME_LEN];
	struct mbx_recv r;
	int fd, a, w;

	t_name(name, "topic");
	fd = t_port(4, 64, 0600, name, MBX_PORT_TOPIC);
	ASSERT_LE(0, fd);
	a = mbx_port_open(MBX_DEV_AUTO, name, MBX_RECV | MBX_NONBLOCK);
	w = mbx_port_open(MBX_DEV_AUTO, name, MBX_SEND);
	ASSERT_LE(0, a);
	ASSERT_LE(0, w);
	EXPECT_EQ(1, T_INFO(fd, subscribers));
	ASSERT_EQ(0, send_u32(w, 8, 0, 0, 0));
	EXPECT_EQ(8, recv_u32(a, 0, &r));
	t_unlink_all();
	close(a);
	close(w);
	close(fd);
}

TEST_HARNESS_MAIN
