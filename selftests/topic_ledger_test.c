// SPDX-License-Identifier: GPL-2.0
/*
 * A ledger of every message through one topic, under kill -9: publishers
 * and subscribers are processes, the test process SIGKILLs random ones
 * while they run (40 kills, spread over the messages) and starts new ones
 * in their place.  Two shapes: 1 publisher x 16 subscribers and 4 x 4.  A
 * quarter of the subscribers use drop-oldest with a backlog of 4, the
 * others block; one of each is never killed.  One message in eight is a
 * pool region read in place.
 *
 * Bookkeeping, in shared memory: each publisher's message number n of
 * publisher p goes out with tag p << 40 | n and a payload made from both;
 * before a send the publisher sets pending = n + 1 (n may land), after it
 * done = n + 1 (n landed).  Each subscriber records per publisher the
 * first and last number it got, checks every payload, and counts what it
 * got and what it was told it lost.
 *
 * Checked, for every subscriber alive at the end (after the topic is shut
 * down and drained): numbers from each publisher only go up; with the
 * block policy they go up by one, start at 0 for a publisher that started
 * after the subscription, and end at the publisher's last message (done,
 * or pending for a publisher killed in a send); with drop-oldest, a
 * subscriber that was there before every publisher got or was told it
 * lost every message, and what receives reported lost never exceeds the
 * port's count.  Then the topic holds nothing, has no subscriber, and its
 * pool is entirely free: what killed subscribers held came back.
 *
 * Environment: MBX_TOPIC_MSGS (successful sends in all; default 20 000,
 * 4 000 on a lockdep kernel), MBX_TOPIC_SECS (stop publishing after this
 * long even if the count is not reached; default 60), MBX_TOPIC_SEED.
 * `make soak` runs MBX_TOPIC_MSGS=1000000.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "mbx_helpers.h"

#define MAXP		32	/* publisher slots, respawns included */
#define MAXS		96	/* subscriber slots, respawns included */
#define MSG_MAX		64
#define HDR		12	/* publisher, number: the rest is pattern */
#define CAPACITY	16
#define DROP_BACKLOG	4
#define POOL_SIZE	(64 << 10)
#define KILLS		40	/* fits the slots: MAXP + MAXS > KILLS + 20 */

struct pub {
	pid_t pid;
	atomic_ullong start_ns;		/* before its first send */
	atomic_ullong end_ns;		/* after its last */
	atomic_ullong pending;		/* number n + 1 of a send under way */
	atomic_ullong done;		/* messages that surely landed */
	atomic_int finished;
	int killed;
	int killed_status;		/* t_reap() once killed */
};

struct sub {
	pid_t pid;
	int drop;			/* drop-oldest, else block */
	int keep;			/* never killed */
	int killed;
	int killed_status;		/* t_reap() once killed */
	atomic_ullong sub_ns;		/* subscribed by then */
	atomic_int ready, finished;
	long long first[MAXP], last[MAXP];	/* -1: none yet */
	unsigned long long got, told, dropped;
	char why[160];
};

struct ledger {
	unsigned long long target;
	unsigned long long deadline_ns;
	atomic_ullong sent;
	char name[MBX_NAME_LEN];
	unsigned int npub, nsub;
	struct pub pub[MAXP];
	struct sub sub[MAXS];
};

static struct ledger *L;

static unsigned long long env_ull(const char *name, unsigned long long def)
{
	const char *s = getenv(name);

	return s && *s ? strtoull(s, NULL, 0) : def;
}

static void payload(uint8_t *buf, size_t len, uint32_t p, uint64_t n)
{
	memcpy(buf, &p, 4);
	memcpy(buf + 4, &n, 8);
	t_fill(buf + HDR, len - HDR, (uint32_t)(p * 2654435761u + n));
}

/* ---- publisher ------------------------------------------------------------ */

static int publish_one(int fd, void *pool, uint32_t p, uint64_t n)
{
	size_t len = HDR + (n * 7 + p) % (MSG_MAX - HDR + 1);
	uint8_t buf[MSG_MAX];
	struct mbx_send s = { .len = len, .tag = (uint64_t)p << 40 | n };
	uint64_t off;
	int ret;

	if (n % 8 == 7) {
		ret = mbx_buf_alloc(fd, len, &off);
		if (ret < 0)
			return ret;
		payload(mbx_buf_ptr(pool, off), len, p, n);
		s.offset = off;
		s.flags = MBX_SEND_BUF;
	} else {
		payload(buf, len, p, n);
		s.buf = (uintptr_t)buf;
	}
	ret = mbx_send_ex(fd, &s);
	if (ret < 0 && s.flags & MBX_SEND_BUF)
		mbx_buf_release(fd, off, len);
	return ret;
}

static int publisher(uint32_t p)
{
	struct pub *me = &L->pub[p];
	size_t size;
	void *pool;
	uint64_t n;
	int fd, ret;

	fd = mbx_port_open(MBX_DEV_AUTO, L->name, MBX_SEND);
	if (fd < 0 || mbx_pool_map(fd, &pool, &size) < 0)
		return T_BAD_SETUP;
	atomic_store(&me->start_ns, t_now_ns());
	for (n = 0;; n++) {
		if (atomic_load(&L->sent) >= L->target ||
		    t_now_ns() > L->deadline_ns)
			break;
		atomic_store(&me->pending, n + 1);
		ret = publish_one(fd, pool, p, n);
		if (ret < 0)
			return t_code(ret);
		atomic_store(&me->done, n + 1);
		atomic_fetch_add(&L->sent, 1);
	}
	atomic_store(&me->end_ns, t_now_ns());
	atomic_store(&me->finished, 1);
	return 0;
}

/* ---- subscriber ----------------------------------------------------------- */

static int sub_fail(struct sub *me, const char *fmt, unsigned long long a,
		    unsigned long long b)
{
	snprintf(me->why, sizeof(me->why), fmt, a, b);
	return T_BAD_DATA;
}

/* Check one message of @len bytes at @data with @tag; 0 or the exit code. */
static int take(struct sub *me, const uint8_t *data, size_t len,
		uint64_t tag)
{
	uint32_t p = tag >> 40, hp;
	uint64_t n = tag & ((1ULL << 40) - 1), hn;

	if (p >= MAXP || len < HDR)
		return sub_fail(me, "bad tag %llx or length %llu", tag, len);
	memcpy(&hp, data, 4);
	memcpy(&hn, data + 4, 8);
	if (hp != p || hn != n ||
	    !t_check(data + HDR, len - HDR, (uint32_t)(p * 2654435761u + n)))
		return sub_fail(me, "payload of %llu/%llu damaged", p, n);
	if (me->last[p] >= 0 && (long long)n <= me->last[p])
		return sub_fail(me, "publisher %llu went back to %llu", p, n);
	if (!me->drop && me->last[p] >= 0 && (long long)n != me->last[p] + 1)
		return sub_fail(me, "block policy skipped from %llu to %llu",
				me->last[p], n);
	if (me->first[p] < 0)
		me->first[p] = n;
	me->last[p] = n;
	me->got++;
	return 0;
}

static int subscriber(unsigned int s)
{
	struct sub *me = &L->sub[s];
	struct mbx_port_info info;
	uint8_t buf[MSG_MAX];
	size_t size;
	void *pool;
	int fd, ret, p;

	for (p = 0; p < MAXP; p++) {
		me->first[p] = -1;
		me->last[p] = -1;
	}
	fd = mbx_port_open(MBX_DEV_AUTO, L->name, MBX_RECV);
	if (fd < 0 || mbx_pool_map(fd, &pool, &size) < 0)
		return T_BAD_SETUP;
	if (me->drop && mbx_subscribe(fd, MBX_SUB_DROP_OLDEST, DROP_BACKLOG, 0))
		return T_BAD_SETUP;
	atomic_store(&me->sub_ns, t_now_ns());
	atomic_store(&me->ready, 1);
	for (;;) {
		struct mbx_recv r = { .buf = (uintptr_t)buf, .len = sizeof(buf),
				      .flags = MBX_RECV_INPLACE };
		ssize_t len = mbx_recv_ex(fd, &r);

		if (len == -EPIPE)
			break;
		if (len < 0)
			return t_code(len);
		me->told += r.dropped;
		if (r.msg_flags & MBX_MSG_BUF) {
			ret = take(me, mbx_buf_ptr(pool, r.offset), len, r.tag);
			if (mbx_buf_release(fd, r.offset, len) < 0 && !ret)
				ret = sub_fail(me, "release %llu", r.offset, 0);
		} else {
			ret = take(me, buf, len, r.tag);
		}
		if (ret)
			return ret;
	}
	if (mbx_port_info(fd, &info) < 0)
		return T_BAD_SETUP;
	me->dropped = info.sub_dropped;
	atomic_store(&me->finished, 1);
	return 0;
}

/* ---- the test process ----------------------------------------------------- */

static pid_t spawn_pub(void)
{
	unsigned int p = L->npub++;
	pid_t pid = t_fork();

	if (pid == 0)
		_exit(publisher(p));
	L->pub[p].pid = pid;
	return pid;
}

static pid_t spawn_sub(int drop, int keep)
{
	unsigned int s = L->nsub++;
	pid_t pid;

	L->sub[s].drop = drop;
	L->sub[s].keep = keep;
	pid = t_fork();
	if (pid == 0)
		_exit(subscriber(s));
	L->sub[s].pid = pid;
	while (pid > 0 && !atomic_load(&L->sub[s].ready) && t_alive(pid))
		t_sleep_ms(1);
	return pid;
}

static int live_pubs(void)
{
	unsigned int p;
	int n = 0;

	/* One that ended on its own, a failure, is reaped at the end. */
	for (p = 0; p < L->npub; p++)
		n += !L->pub[p].killed && !atomic_load(&L->pub[p].finished) &&
		     t_alive(L->pub[p].pid);
	return n;
}

/*
 * Kill a random victim (never a kept subscriber) and start another.  A
 * victim may have ended on its own already, having found something wrong:
 * its status is kept for the checks at the end.
 */
static void chaos(void)
{
	unsigned int s, p;

	if (random() % 3 == 0 && L->npub < MAXP) {
		p = random() % L->npub;
		if (L->pub[p].killed || atomic_load(&L->pub[p].finished))
			return;
		kill(L->pub[p].pid, SIGKILL);
		L->pub[p].killed_status = t_reap(L->pub[p].pid);
		L->pub[p].killed = 1;
		if (!atomic_load(&L->pub[p].end_ns))
			atomic_store(&L->pub[p].end_ns, t_now_ns());
		spawn_pub();
	} else if (L->nsub < MAXS) {
		s = random() % L->nsub;
		if (L->sub[s].keep || L->sub[s].killed)
			return;
		kill(L->sub[s].pid, SIGKILL);
		L->sub[s].killed_status = t_reap(L->sub[s].pid);
		L->sub[s].killed = 1;
		spawn_sub(L->sub[s].drop, 0);
	}
}

/* Whether subscriber @s got what publisher @p sent it; 0 or a complaint. */
static const char *check_pub(const struct sub *me, const struct pub *pb,
			     unsigned int p)
{
	unsigned long long done = atomic_load(&pb->done);
	unsigned long long pending = atomic_load(&pb->pending);
	bool before = me->sub_ns < pb->start_ns;

	if (me->drop)
		return NULL;
	if (me->last[p] < 0)	/* nothing: only if it ended before */
		return before && done ? "got nothing" : NULL;
	if (before && me->first[p] != 0)
		return "did not start at 0";
	if (me->last[p] + 1 != (long long)done &&
	    me->last[p] + 1 != (long long)pending)
		return "did not get the last message";
	return NULL;
}

static void check_sub(struct __test_metadata *_metadata, unsigned int s)
{
	const struct sub *me = &L->sub[s];
	unsigned long long lo = 0, hi = 0;
	bool before_all = true;
	unsigned int p;

	EXPECT_STREQ("", me->why);
	EXPECT_TRUE(atomic_load(&me->finished)) TH_LOG("subscriber %u", s);
	for (p = 0; p < L->npub; p++) {
		const char *why = check_pub(me, &L->pub[p], p);

		EXPECT_EQ(NULL, why)
			TH_LOG("subscriber %u, publisher %u: %s (first %lld last %lld done %llu)",
			       s, p, why, me->first[p], me->last[p],
			       (unsigned long long)atomic_load(&L->pub[p].done));
		lo += atomic_load(&L->pub[p].done);
		hi += atomic_load(&L->pub[p].pending);
		before_all &= me->sub_ns < L->pub[p].start_ns;
	}
	if (!me->drop)
		return;
	EXPECT_LE(me->told, me->dropped);
	if (before_all) {
		EXPECT_LE(lo, me->got + me->dropped);
		EXPECT_GE(hi, me->got + me->dropped)
			TH_LOG("subscriber %u got %llu, lost %llu, of %llu..%llu",
			       s, me->got, me->dropped, lo, hi);
	}
}

static void ledger(struct __test_metadata *_metadata, unsigned int npubs,
		   unsigned int nsubs)
{
	bool lockdep = !access("/proc/lockdep", F_OK);
	struct mbx_port_create attr = {
		.flags = MBX_PORT_TOPIC, .capacity = CAPACITY,
		.max_msg_size = MSG_MAX, .pool_size = POOL_SIZE, .mode = 0600,
	};
	unsigned long long seed = env_ull("MBX_TOPIC_SEED", t_now_ns() % 100000);
	struct mbx_port_info info;
	unsigned int i, kills = 0;
	int topic;

	L = t_shared(sizeof(*L));
	ASSERT_NE(NULL, L);
	L->target = env_ull("MBX_TOPIC_MSGS", lockdep ? 4000 : 20000);
	L->deadline_ns = t_now_ns() + env_ull("MBX_TOPIC_SECS", 60) * 1000000000ULL;
	srandom(seed);
	TH_LOG("%u x %u, %llu messages, seed %llu", npubs, nsubs, L->target, seed);
	t_name(L->name, "ledger");
	memcpy(attr.name, L->name, sizeof(attr.name));
	topic = mbx_port_create(MBX_DEV_AUTO, &attr);
	ASSERT_LE(0, topic);

	for (i = 0; i < nsubs; i++)
		ASSERT_LT(0, spawn_sub(i % 4 == 3, i < 2 || i == 3));
	for (i = 0; i < npubs; i++)
		ASSERT_LT(0, spawn_pub());
	/*
	 * KILLS kills, spread over the run: the next one once another
	 * KILLS-th of the messages went, at 10 to 50 ms from the last.
	 */
	while (live_pubs()) {
		unsigned long long sent = atomic_load(&L->sent);

		t_sleep_ms(10 + random() % 40);
		if (sent < L->target && kills < KILLS &&
		    sent >= kills * (L->target / KILLS)) {
			chaos();
			kills++;
		}
	}
	/* A publisher killed may have just finished (0), nothing else. */
	for (i = 0; i < L->npub; i++) {
		if (!L->pub[i].killed) {
			EXPECT_EQ(0, t_reap(L->pub[i].pid)) TH_LOG("publisher %u", i);
		} else if (L->pub[i].killed_status) {
			EXPECT_EQ(128 + SIGKILL, L->pub[i].killed_status)
				TH_LOG("publisher %u ended before it was killed", i);
		}
	}
	if (atomic_load(&L->sent) < L->target)
		TH_LOG("MBX_TOPIC_SECS ran out before MBX_TOPIC_MSGS");
	ASSERT_EQ(0, mbx_shutdown(topic));
	for (i = 0; i < L->nsub; i++) {
		if (L->sub[i].killed) {
			EXPECT_EQ(128 + SIGKILL, L->sub[i].killed_status)
				TH_LOG("subscriber %u ended before it was killed: %s",
				       i, L->sub[i].why);
			continue;
		}
		EXPECT_EQ(0, t_reap(L->sub[i].pid))
			TH_LOG("subscriber %u: %s", i, L->sub[i].why);
		check_sub(_metadata, i);
	}
	TH_LOG("%llu sent, %u kills, %u publishers and %u subscribers in all",
	       (unsigned long long)atomic_load(&L->sent), kills, L->npub, L->nsub);
	ASSERT_EQ(0, t_info(topic, &info));
	EXPECT_EQ(0, info.queued);
	EXPECT_EQ(0, info.subscribers);
	EXPECT_EQ(info.pool_size, info.pool_free);
	close(topic);
	mbx_port_unlink(MBX_DEV_AUTO, L->name);
}

FIXTURE(topic) {
	int unused;
};

FIXTURE_SETUP(topic)
{
}

FIXTURE_TEARDOWN(topic)
{
	t_unlink_all();
}

/* MBX_TOPIC_SECS bounds the sends; the rest is draining and checks. */
TEST_F_TIMEOUT(topic, one_publisher_sixteen_subscribers, 24 * 3600)
{
	ledger(_metadata, 1, 16);
}

TEST_F_TIMEOUT(topic, four_publishers_four_subscribers, 24 * 3600)
{
	ledger(_metadata, 4, 4);
}

TEST_HARNESS_MAIN
