// SPDX-License-Identifier: GPL-2.0
/*
 * Sealed sends on a topic: the one region every subscriber reads in place
 * is read-only for the publisher from the send until the last subscriber
 * has released it (or gone), and writable again once it is free; and
 * what the subscribers' own mappings of the pool cost a seal (nothing).
 */
#define _GNU_SOURCE
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "mbx_helpers.h"

#define SUBS	3
#define LEN	(2 * 4096)

/* A store at @p in a forked child: 1 if it died of SIGSEGV, 0 if it landed. */
static int store_faults(uint8_t *p)
{
	pid_t pid = fork();
	int status;

	if (!pid) {
		signal(SIGSEGV, SIG_DFL);
		__atomic_store_n(p, 0x77, __ATOMIC_RELAXED);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV)
		return 1;
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -1;
}

FIXTURE(tseal) {
	int topic;
	int sub[SUBS];
	uint8_t *map;
	size_t size;
};

FIXTURE_SETUP(tseal)
{
	struct mbx_port_create attr = {
		.flags = MBX_PORT_TOPIC, .capacity = 4, .max_msg_size = 64,
		.pool_size = 16 * 4096,
	};
	void *map;
	int i;

	self->topic = mbx_port_create(MBX_DEV_AUTO, &attr);
	ASSERT_LE(0, self->topic);
	for (i = 0; i < SUBS; i++) {
		self->sub[i] = mbx_port_dup(self->topic, MBX_RECV);
		ASSERT_LE(0, self->sub[i]);
	}
	ASSERT_EQ(0, mbx_pool_map(self->topic, &map, &self->size));
	self->map = map;
}

FIXTURE_TEARDOWN(tseal)
{
	int i;

	mbx_pool_unmap(self->map, self->size);
	for (i = 0; i < SUBS; i++)
		close(self->sub[i]);
	close(self->topic);
}

TEST_F(tseal, sealed_until_the_last_subscriber_releases)
{
	struct mbx_port_info info;
	uint64_t off, got;
	uint8_t *p;
	ssize_t n;
	int i;

	ASSERT_EQ(0, mbx_buf_alloc_pages(self->topic, LEN, &off));
	p = self->map + off;
	t_fill(p, LEN, 7);
	EXPECT_EQ(0, store_faults(p + LEN - 1));	/* not sealed yet */
	p[LEN - 1] = t_pattern_byte(7, LEN - 1);
	ASSERT_EQ(0, mbx_buf_send_sealed(self->topic, off, LEN, 0));
	EXPECT_EQ(1, store_faults(p));
	EXPECT_EQ(1, store_faults(p + LEN - 1));

	for (i = 0; i < SUBS; i++) {
		struct mbx_recv r = { .flags = MBX_RECV_INPLACE };

		n = mbx_recv_ex(self->sub[i], &r);
		ASSERT_EQ(LEN, n);
		EXPECT_EQ(off, r.offset);
		EXPECT_TRUE(r.msg_flags & MBX_MSG_SEALED);
		EXPECT_TRUE(t_check(self->map + r.offset, LEN, 7));
		/* Still sealed while any subscriber holds it. */
		if (i < SUBS - 1) {
			ASSERT_EQ(0, mbx_buf_release(self->sub[i], off, LEN));
			EXPECT_EQ(1, store_faults(p));
		}
	}
	/* The last holder goes away by closing: the region is free. */
	close(self->sub[SUBS - 1]);
	self->sub[SUBS - 1] = mbx_port_dup(self->topic, MBX_RECV);
	ASSERT_LE(0, self->sub[SUBS - 1]);
	ASSERT_EQ(0, t_info(self->topic, &info));
	EXPECT_EQ(info.pool_size, info.pool_free);

	/* Free, then allocated again: writable again. */
	ASSERT_EQ(0, mbx_buf_alloc_pages(self->topic, LEN, &got));
	EXPECT_EQ(0, store_faults(self->map + got));
	EXPECT_EQ(0, mbx_buf_release(self->topic, got, LEN));
}

/* With no subscriber a sealed message is dropped at once, and unsealed. */
TEST_F(tseal, sealed_send_to_no_subscriber_frees_and_unseals)
{
	struct mbx_port_info info;
	uint64_t off;
	int i;

	for (i = 0; i < SUBS; i++)
		ASSERT_EQ(0, mbx_unsubscribe(self->sub[i]));
	ASSERT_EQ(0, mbx_buf_alloc_pages(self->topic, LEN, &off));
	ASSERT_EQ(0, mbx_buf_send_sealed(self->topic, off, LEN, 0));
	ASSERT_EQ(0, t_info(self->topic, &info));
	EXPECT_EQ(info.pool_size, info.pool_free);
	EXPECT_EQ(0, info.queued);
	ASSERT_EQ(0, mbx_buf_alloc_pages(self->topic, LEN, &off));
	EXPECT_EQ(0, store_faults(self->map + off));
	EXPECT_EQ(0, mbx_buf_release(self->topic, off, LEN));
}

#define TIMES		15	/* sealed publishes of which the median is taken */
#define READERS		10000	/* read-only mappings of the pool */

/*
 * The median time of a sealed publish on @topic of a region just written
 * (@map: its pool), each taken in place by every one of @sub.
 */
static uint64_t sealed_publish_ns(struct __test_metadata *_metadata,
				  int topic, const int *sub, uint8_t *map)
{
	uint64_t ns[TIMES], off, t0;
	int i, k;

	for (i = 0; i < TIMES; i++) {
		ASSERT_EQ(0, mbx_buf_alloc_pages(topic, LEN, &off));
		t_fill(map + off, LEN, i);
		t0 = t_now_ns();
		ASSERT_EQ(0, mbx_buf_send_sealed(topic, off, LEN, 0));
		t_sorted_add(ns, i, t_now_ns() - t0);
		for (k = 0; k < SUBS; k++) {
			struct mbx_recv r = { .flags = MBX_RECV_INPLACE };

			ASSERT_EQ(LEN, mbx_recv_ex(sub[k], &r));
			ASSERT_EQ(0, mbx_buf_release(sub[k], off, LEN));
		}
	}
	return ns[TIMES / 2];
}

/*
 * Subscribers map the pool read-only and can never write it: a seal has
 * nothing to do in their mappings, however many they make.
 */
TEST_F(tseal, mappings_that_cannot_write_cost_a_seal_nothing)
{
	int n = t_kmemleak_kernel() ? READERS / 10 : READERS, i;
	uint64_t alone, beside;
	void **maps;

	alone = sealed_publish_ns(_metadata, self->topic, self->sub, self->map);
	maps = calloc(n, sizeof(*maps));
	ASSERT_NE(NULL, maps);
	for (i = 0; i < n; i++) {
		maps[i] = mmap(NULL, self->size, PROT_READ, MAP_SHARED,
			       self->sub[i % SUBS], 0);
		ASSERT_NE(MAP_FAILED, maps[i]);
	}
	beside = sealed_publish_ns(_metadata, self->topic, self->sub, self->map);
	TH_LOG("median sealed publish: %llu us alone, %llu us beside %d read-only mappings",
	       (unsigned long long)alone / 1000,
	       (unsigned long long)beside / 1000, n);
	EXPECT_GE(3 * alone + 100000, beside);
	for (i = 0; i < n; i++)
		munmap(maps[i], self->size);
	free(maps);
}

TEST_HARNESS_MAIN
