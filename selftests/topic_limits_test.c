// SPDX-License-Identifier: GPL-2.0
/*
 * What a topic keeps is bounded as a whole, not only backlog by backlog.
 * Subscribers receive their best priority first, so two of them can keep
 * different messages; the topic's charge covers capacity messages, and it
 * never keeps more, whatever priorities its subscribers are behind on.
 * A block-policy subscriber that holds the message the topic would give
 * up stops the publisher; drop-oldest subscribers lose it, and say so.
 */
#define _GNU_SOURCE
#include <unistd.h>

#include "kselftest_harness.h"
#include "mbx_helpers.h"
#include "topic/topic.h"

#define CAP	4

/*
 * Subscriber @a is behind on priority 0 (CAP - 1 messages), @b has
 * received those.  Then priority-1 messages: @a takes each at once (its
 * best priority), @b keeps them.  Before the topic-wide bound, the topic
 * kept 2 * CAP - 1 messages with CAP charged.
 */
static int behind_on_two_priorities(struct __test_metadata *_metadata,
				    int fd, int a, int b)
{
	uint64_t lost = 0;
	struct mbx_recv r;
	int i, sent = 0;
	long ret;

	for (i = 0; i < CAP - 1; i++) {
		EXPECT_EQ(0, send_u32(fd, i, 0, 0, MBX_NONBLOCK));
		EXPECT_EQ(i, recv_u32(b, 0, &r));
	}
	for (i = 0; i < CAP; i++) {
		ret = send_u32(fd, 100 + i, 1, 0, MBX_NONBLOCK);
		if (ret)
			return ret;
		sent++;
		EXPECT_GE(CAP, T_INFO(fd, queued));
		EXPECT_EQ(100 + i, recv_u32(a, 0, &r));
		lost += r.dropped;
	}
	/* A drop-oldest @a hears of each priority-0 message it lost. */
	EXPECT_EQ(lost, T_INFO64(a, sub_dropped));
	return sent;
}

/* A topic of CAP messages and two subscribers, a and b. */
FIXTURE(two) {
	int fd, a, b;
};

FIXTURE_SETUP(two)
{
	self->fd = topic(CAP);
	ASSERT_LE(0, self->fd);
	self->a = sub(self->fd);
	ASSERT_LE(0, self->a);
	self->b = sub(self->fd);
	ASSERT_LE(0, self->b);
}

FIXTURE_TEARDOWN(two)
{
	close(self->a);
	close(self->b);
	close(self->fd);
}

TEST_F(two, block_subscriber_behind_stops_the_publisher)
{
	int fd = self->fd, a = self->a, b = self->b;
	struct mbx_recv r;
	int i;

	/* CAP - 1 at priority 0 for a, one at priority 1 for both: full. */
	EXPECT_EQ(-EAGAIN, behind_on_two_priorities(_metadata, fd, a, b));
	EXPECT_EQ(CAP, T_INFO(fd, queued));
	EXPECT_EQ(1, T_INFO(b, sub_depth));
	EXPECT_EQ(CAP - 1, T_INFO(a, sub_depth));

	/* Nothing is lost: a takes its priority-0 messages, room comes. */
	for (i = 0; i < CAP - 1; i++)
		EXPECT_EQ(i, recv_u32(a, 0, &r));
	EXPECT_EQ(0, r.dropped);
	EXPECT_EQ(0, send_u32(fd, 200, 1, 0, MBX_NONBLOCK));
	EXPECT_EQ(100, recv_u32(b, 0, &r));
	EXPECT_EQ(200, recv_u32(b, 0, &r));
	EXPECT_EQ(200, recv_u32(a, 0, &r));
	EXPECT_EQ(0, T_INFO(fd, queued));
}

TEST_F(two, drop_oldest_subscriber_behind_loses_the_oldest)
{
	int fd = self->fd, a = self->a, b = self->b;
	struct mbx_recv r;
	int i;

	ASSERT_EQ(0, subscribe(a, MBX_SUB_DROP_OLDEST, 0, 0));
	EXPECT_EQ(CAP, behind_on_two_priorities(_metadata, fd, a, b));
	EXPECT_EQ(CAP, T_INFO(fd, queued));
	EXPECT_EQ(CAP, T_INFO(b, sub_depth));
	/* a gave up its oldest priority-0 message for each new one. */
	EXPECT_EQ(0, T_INFO(a, sub_depth));
	EXPECT_EQ(CAP - 1, T_INFO(a, sub_dropped));

	EXPECT_EQ(-EAGAIN, recv_u32(a, 0, &r));
	/* b is full and holds every message: it stops the publisher. */
	EXPECT_EQ(-EAGAIN, send_u32(fd, 300, 0, 0, MBX_NONBLOCK));
	EXPECT_EQ(100, recv_u32(b, 0, &r));
	EXPECT_EQ(0, send_u32(fd, 300, 0, 0, MBX_NONBLOCK));
	/* Each loss was told with a's next receive, of 101, 102 and 103. */
	EXPECT_EQ(300, recv_u32(a, 0, &r));
	EXPECT_EQ(0, r.dropped);
	for (i = 1; i < CAP; i++)
		EXPECT_EQ(100 + i, recv_u32(b, 0, &r));
	EXPECT_EQ(300, recv_u32(b, 0, &r));
}

/*
 * A message larger than a backlog's max_bytes is taken into it when it is
 * empty (a message always fits an empty backlog).  Subscribing again, with
 * the same limits, once dropped it as if the backlog were over them.
 */
TEST_F(two, resubscribing_keeps_what_an_empty_backlog_took)
{
	struct mbx_recv r;

	ASSERT_EQ(0, subscribe(self->a, MBX_SUB_DROP_OLDEST, 0, 2));
	ASSERT_EQ(0, send_u32(self->fd, 7, 0, 0, MBX_NONBLOCK));
	EXPECT_EQ(1, T_INFO(self->a, sub_depth));
	ASSERT_EQ(0, subscribe(self->a, MBX_SUB_DROP_OLDEST, 0, 2));
	EXPECT_EQ(1, T_INFO(self->a, sub_depth));
	EXPECT_EQ(0, T_INFO64(self->a, sub_dropped));
	EXPECT_EQ(7, recv_u32(self->a, 0, &r));
	EXPECT_EQ(0, r.dropped);
}

TEST(many_subscribers_many_priorities)
{
	int fd = topic(CAP), s[8], i, k, p;
	uint64_t dropped = 0;
	struct mbx_recv r;

	ASSERT_LE(0, fd);
	for (k = 0; k < 8; k++) {
		s[k] = sub(fd);
		ASSERT_LE(0, s[k]);
		ASSERT_EQ(0, subscribe(s[k], MBX_SUB_DROP_OLDEST, 0, 0));
	}
	/*
	 * Subscriber p keeps the CAP - 1 messages of priority p, the others
	 * take them at once: without the topic-wide bound the topic would
	 * keep 8 * (CAP - 1).  Each subscriber loses what the topic gives up.
	 */
	for (p = 0; p < 8; p++) {
		for (i = 0; i < CAP - 1; i++) {
			ASSERT_EQ(0, send_u32(fd, p, p, 0, MBX_NONBLOCK));
			EXPECT_GE(CAP, T_INFO(fd, queued));
		}
		for (k = 0; k < 8; k++)
			for (i = 0; k != p && i < CAP - 1; i++)
				EXPECT_EQ(p, recv_u32(s[k], 0, &r));
	}
	EXPECT_GE(CAP, T_INFO(fd, queued));
	for (k = 0; k < 8; k++)
		dropped += T_INFO64(s[k], sub_dropped);
	/* Every message was kept by one subscriber: what is not is lost. */
	EXPECT_EQ(8 * (CAP - 1) - T_INFO(fd, queued), dropped);
	for (k = 0; k < 8; k++)
		close(s[k]);
	close(fd);
}

TEST_HARNESS_MAIN
