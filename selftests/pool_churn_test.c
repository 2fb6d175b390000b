// SPDX-License-Identifier: GPL-2.0
/*
 * The pool while files holding many regions close: each round, two
 * processes take hundreds of regions (some page regions, some received in
 * place, some published to a topic's subscribers) and exit or are killed
 * at once, so that two files with more regions than the module frees per
 * lock hold close together; meanwhile four threads on other files of the
 * port allocate, send (sealed with send-next, too), receive in place
 * (releasing in the same call, too) and release.  Every release of a
 * region a thread holds must succeed, and at the end the pool must be
 * whole.  Run on the debug kernel, KASAN, lockdep and kmemleak watch.
 * And what an allocation waiting for room sees of such a close.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>

#include "pool/pool.h"

#define CHURN_POOL	(2 * MIB)
#define CHURN_CAP	64
#define THREADS		4
#define HELD		64	/* regions a churning thread holds at most */

struct churn {
	int fd;
	uint64_t seed;
	long ops;
	long bad_releases;
	uint64_t off[HELD], len[HELD];
	int n;
};

static atomic_int stop;

static void hold(struct churn *c, uint64_t off, uint64_t len)
{
	if (c->n < HELD) {
		c->off[c->n] = off;
		c->len[c->n++] = len;
	} else if (t_buf_release(c->fd, off, len)) {
		c->bad_releases++;
	}
}

/* Forget region @i, given away or released. */
static void drop(struct churn *c, int i)
{
	c->n--;
	c->off[i] = c->off[c->n];
	c->len[i] = c->len[c->n];
}

static void churn_alloc(struct churn *c)
{
	bool pages = t_rnd(&c->seed) % 3 == 0;
	uint64_t len = 1 + t_rnd(&c->seed) % (pages ? 9000 : 700), off;

	if (!t_buf_alloc(c->fd, len,
			 MBX_NONBLOCK | (pages ? MBX_BUF_PAGES : 0), 0, &off))
		hold(c, off, len);
}

static void churn_send(struct churn *c)
{
	int i = t_rnd(&c->seed) % c->n;
	struct mbx_send s = {
		.offset = c->off[i], .len = c->len[i],
		.flags = MBX_SEND_BUF | MBX_NONBLOCK,
	};

	if (!(s.offset & 4095) && t_rnd(&c->seed) % 2) {
		s.flags |= MBX_SEND_SEALED | MBX_SEND_NEXT;
		s.next_len = 4096;
	}
	/* A sealed send that failed keeps its region, sealed. */
	if (t_ioctl(c->fd, MBX_IOC_SEND, &s))
		return;
	drop(c, i);
	if (s.flags & MBX_SEND_NEXT && s.next_offset != MBX_OFFSET_NONE)
		hold(c, s.next_offset, 4096);
}

static void churn_recv(struct churn *c)
{
	struct mbx_recv r = { .flags = MBX_RECV_INPLACE | MBX_NONBLOCK };
	int i = -1;
	long ret;

	if (c->n && t_rnd(&c->seed) % 2) {
		i = t_rnd(&c->seed) % c->n;
		r.flags |= MBX_RECV_RELEASE;
		r.release_offset = c->off[i];
		r.release_len = c->len[i];
	}
	ret = t_ioctl(c->fd, MBX_IOC_RECV, &r);
	/* The release is done, whatever the receive found. */
	if (i >= 0) {
		if (ret == -EINVAL || ret == -EPERM)
			c->bad_releases++;
		drop(c, i);
	}
	if (!ret && r.msg_flags & MBX_MSG_BUF)
		hold(c, r.offset, r.len);
}

static void *churn(void *arg)
{
	struct churn *c = arg;
	uint64_t r;

	while (!atomic_load(&stop)) {
		r = t_rnd(&c->seed) % 100;
		if (r < 30) {
			churn_alloc(c);
		} else if (r < 50 && c->n) {
			churn_send(c);
		} else if (r < 75) {
			churn_recv(c);
		} else if (c->n) {
			if (t_buf_release(c->fd, c->off[0], c->len[0]))
				c->bad_releases++;
			drop(c, 0);
		}
		c->ops++;
	}
	while (c->n) {
		if (t_buf_release(c->fd, c->off[0], c->len[0]))
			c->bad_releases++;
		drop(c, 0);
	}
	return NULL;
}

/* A holder: take @n regions, some received or published, then go. */
static int holder(const char *name, int n, uint64_t seed, bool topic)
{
	int fd = port_open(name, MBX_SEND | MBX_RECV), i, got = 0;
	struct mbx_recv r;
	uint64_t off;

	if (fd < 0)
		return 2;
	for (i = 0; i < n; i++) {
		uint32_t flags = MBX_NONBLOCK;

		if (t_rnd(&seed) % 8 == 0)
			flags |= MBX_BUF_PAGES;
		if (!t_buf_alloc(fd, 64 + t_rnd(&seed) % 200, flags, 0, NULL))
			got++;
		if (t_rnd(&seed) % 4)
			continue;
		if (topic) {
			if (!t_buf_alloc(fd, 128, MBX_NONBLOCK, 0, &off))
				t_send_buf(fd, off, 128, 0, 1);
		} else {
			r = (struct mbx_recv){
				.flags = MBX_RECV_INPLACE | MBX_NONBLOCK };
			t_ioctl(fd, MBX_IOC_RECV, &r);
		}
	}
	if (seed % 3 == 0)
		kill(getpid(), SIGKILL);
	return got ? 0 : 3;
}

static void drain(int fd)
{
	static char buf[64 * 1024];
	struct mbx_recv r;

	while (!t_recv_nb(fd, buf, sizeof(buf), 0, &r))
		;
}

static void run(struct __test_metadata *_metadata, bool topic)
{
	int rounds = t_kmemleak_kernel() ? 6 : 40, fd, i, round, st;
	struct churn c[THREADS] = {};
	pthread_t th[THREADS];
	char name[MBX_NAME_LEN];
	pid_t a, b;

	t_name(name, topic ? "churn.topic" : "churn.port");
	fd = t_pool_port(CHURN_CAP, 4096, CHURN_POOL, name, 0600,
			 topic ? MBX_PORT_TOPIC : 0);
	ASSERT_LE(0, fd);
	atomic_store(&stop, 0);
	for (i = 0; i < THREADS; i++) {
		c[i].fd = i ? port_open(name, MBX_SEND | MBX_RECV) : fd;
		ASSERT_LE(0, c[i].fd);
		c[i].seed = 0x1234567 + i;
		ASSERT_EQ(0, pthread_create(&th[i], NULL, churn, &c[i]));
	}
	for (round = 0; round < rounds; round++) {
		a = t_fork();
		if (!a)
			_exit(holder(name, 600 + round * 37, round + 1, topic));
		b = t_fork();
		if (!b)
			_exit(holder(name, 700 + round * 11, round + 2, topic));
		st = t_reap(a);
		EXPECT_TRUE(st == 0 || st == 128 + SIGKILL) TH_LOG("%d", st);
		st = t_reap(b);
		EXPECT_TRUE(st == 0 || st == 128 + SIGKILL) TH_LOG("%d", st);
	}
	atomic_store(&stop, 1);
	for (i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		EXPECT_LT(0, c[i].ops);
		EXPECT_EQ(0, c[i].bad_releases);
	}
	for (i = 0; i < THREADS; i++)
		drain(c[i].fd);
	for (i = 1; i < THREADS; i++)
		close(c[i].fd);
	EXPECT_EQ(CHURN_POOL, pool_free(fd));
	close(fd);
	t_unlink_all();
}

/*
 * The last receiver of an unnamed port closes holding more regions than
 * the module frees per lock hold, while an allocation waits for more room
 * than the first of those holds free.  Once the close is done there is
 * room, and nobody to receive: the allocation gets its region, as one made
 * then would, however the close's lock drops let it look meanwhile.
 */
TEST(allocation_waiting_on_a_closing_receiver_sees_it_whole)
{
	const uint64_t pool = 128 * 1024, n = pool / 64;
	int port, snd, rcv, round;
	struct mbx_recv r;
	uint64_t i, off;
	pid_t pid;

	for (round = 0; round < 10; round++) {
		port = t_pool_port(16, 64, pool, NULL, 0600, 0);
		ASSERT_LE(0, port);
		snd = mbx_port_dup(port, MBX_SEND);
		rcv = mbx_port_dup(port, MBX_RECV);
		ASSERT_LE(0, snd);
		ASSERT_LE(0, rcv);
		close(port);
		for (i = 0; i < n; i++) {
			ASSERT_EQ(0, t_buf_alloc(snd, 64, 0, 0, &off));
			ASSERT_EQ(0, t_send_buf(snd, off, 64, 0, i));
			ASSERT_EQ(0, recv_inplace(rcv, &r));
		}
		pid = t_fork();
		ASSERT_LE(0, pid);
		if (!pid) {
			close(rcv);
			_exit(t_code(t_buf_alloc(snd, pool / 2, 0, 0, NULL)));
		}
		ASSERT_EQ(0, t_wait_sleeping(pid));
		close(rcv);
		EXPECT_EQ(0, t_reap(pid)) TH_LOG("round %d", round);
		close(snd);
	}
}

TEST(port_files_holding_many_regions_close_while_others_churn)
{
	run(_metadata, false);
}

TEST(topic_files_holding_many_regions_close_while_others_churn)
{
	run(_metadata, true);
}

TEST_HARNESS_MAIN
