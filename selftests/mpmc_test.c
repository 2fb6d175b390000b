// SPDX-License-Identifier: GPL-2.0
/*
 * MPMC integrity: 4 producer processes and 4 consumer processes share one
 * port.  Every message carries its producer, a per-producer sequence number,
 * its priority and a checksum of a variable-length payload; the tag repeats
 * producer and sequence.  Consumers record every message in shared memory.
 * After the producers are done the port is shut down, the consumers drain
 * it and stop at end of stream, and the test checks: nothing lost, nothing
 * duplicated, every checksum, length, tag and priority right, and each
 * consumer saw each producer's messages of one priority in sending order.
 *
 * Message counts: the "fifo" variant moves 100 000 messages per producer
 * (400 000 in all; 40 s on the emulated test VM with the stock kernel).
 * The other variants move fewer so that the binary stays near a minute:
 * "mixed_prio" a quarter, "capacity_1" and "rendezvous" (every message
 * blocks someone) a sixteenth.  On a lockdep kernel (/proc/lockdep: the
 * debug kernel with KASAN, lockdep and kmemleak, about 15 times slower)
 * everything is divided by four, so "fifo" moves 100 000 in total.
 * MBX_MPMC_MSGS in the environment overrides the per-producer count of
 * "fifo".
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "mbx_helpers.h"

#define NPROD		4
#define NCONS		4
#define NPRIO		4
#define MAX_PAYLOAD	240
#define DEFAULT_MSGS	100000
#define DEBUG_MSGS	25000

struct msg_hdr {
	uint32_t producer;
	uint32_t seq;
	uint32_t prio;
	uint32_t len;		/* payload bytes after the header */
	uint32_t csum;		/* FNV-1a of the payload */
	uint32_t pad;
};

struct shared {
	uint32_t nmsgs;
	uint32_t bad_len;
	uint32_t bad_csum;
	uint32_t bad_tag;
	uint32_t bad_prio;
	uint32_t bad_order;
	uint32_t bad_producer;
	uint64_t per_consumer[NCONS];
	uint8_t got[];		/* [NPROD][nmsgs]: times received */
};

static uint32_t fnv1a(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261U;

	while (n--) {
		h ^= *p++;
		h *= 16777619U;
	}
	return h;
}

static uint32_t payload_len(uint32_t producer, uint32_t seq)
{
	return (seq * 7919U + producer * 104729U) % (MAX_PAYLOAD + 1);
}

static uint32_t msg_prio(bool mixed, uint32_t seq)
{
	return mixed ? ((seq ^ (seq >> 3) ^ (seq >> 7)) % NPRIO) * 10 : 0;
}

static uint32_t seed_of(uint32_t producer, uint32_t seq)
{
	return (producer << 24) ^ seq;
}

static int producer(int fd, uint32_t id, uint32_t nmsgs, bool mixed)
{
	uint8_t buf[sizeof(struct msg_hdr) + MAX_PAYLOAD];
	struct msg_hdr *h = (struct msg_hdr *)buf;
	struct mbx_send s;
	uint32_t seq;
	int ret;

	for (seq = 0; seq < nmsgs; seq++) {
		h->producer = id;
		h->seq = seq;
		h->prio = msg_prio(mixed, seq);
		h->len = payload_len(id, seq);
		h->pad = 0;
		t_fill(buf + sizeof(*h), h->len, seed_of(id, seq));
		h->csum = fnv1a(buf + sizeof(*h), h->len);

		memset(&s, 0, sizeof(s));
		s.buf = (uintptr_t)buf;
		s.len = sizeof(*h) + h->len;
		s.prio = h->prio;
		s.tag = ((uint64_t)id << 32) | seq;
		ret = mbx_send_ex(fd, &s);
		if (ret)
			return t_code(ret);
	}
	return 0;
}

static int consumer(int fd, uint32_t id, struct shared *sh)
{
	uint8_t buf[sizeof(struct msg_hdr) + MAX_PAYLOAD + 16];
	const struct msg_hdr *h = (const struct msg_hdr *)buf;
	int64_t last[NPROD][NPRIO];
	struct mbx_recv r;
	unsigned int p, q;
	ssize_t n;

	for (p = 0; p < NPROD; p++)
		for (q = 0; q < NPRIO; q++)
			last[p][q] = -1;
	for (;;) {
		memset(&r, 0, sizeof(r));
		r.buf = (uintptr_t)buf;
		r.len = sizeof(buf);
		n = mbx_recv_ex(fd, &r);
		if (n == -EPIPE)
			return 0;
		if (n < 0)
			return t_code(n);
		sh->per_consumer[id]++;
		if ((size_t)n < sizeof(*h) || h->len > MAX_PAYLOAD ||
		    (size_t)n != sizeof(*h) + h->len) {
			__atomic_add_fetch(&sh->bad_len, 1, __ATOMIC_RELAXED);
			continue;
		}
		if (h->producer >= NPROD || h->seq >= sh->nmsgs) {
			__atomic_add_fetch(&sh->bad_producer, 1,
					   __ATOMIC_RELAXED);
			continue;
		}
		if (h->len != payload_len(h->producer, h->seq) ||
		    fnv1a(buf + sizeof(*h), h->len) != h->csum ||
		    !t_check(buf + sizeof(*h), h->len,
			     seed_of(h->producer, h->seq)))
			__atomic_add_fetch(&sh->bad_csum, 1, __ATOMIC_RELAXED);
		if (r.tag != (((uint64_t)h->producer << 32) | h->seq))
			__atomic_add_fetch(&sh->bad_tag, 1, __ATOMIC_RELAXED);
		if (r.prio != h->prio || h->prio / 10 >= NPRIO) {
			__atomic_add_fetch(&sh->bad_prio, 1, __ATOMIC_RELAXED);
		} else {
			int64_t *l = &last[h->producer][h->prio / 10];

			if ((int64_t)h->seq <= *l)
				__atomic_add_fetch(&sh->bad_order, 1,
						   __ATOMIC_RELAXED);
			*l = h->seq;
		}
		__atomic_add_fetch(&sh->got[(size_t)h->producer * sh->nmsgs +
					    h->seq], 1, __ATOMIC_RELAXED);
	}
}

FIXTURE(mpmc) {
	struct shared *sh;
	size_t size;
};

FIXTURE_VARIANT(mpmc) {
	uint32_t capacity;
	bool mixed;
	uint32_t divisor;	/* of the per-producer message count */
};

FIXTURE_VARIANT_ADD(mpmc, fifo) {
	.capacity = 64, .mixed = false, .divisor = 1,
};

FIXTURE_VARIANT_ADD(mpmc, mixed_prio) {
	.capacity = 64, .mixed = true, .divisor = 4,
};

FIXTURE_VARIANT_ADD(mpmc, capacity_1) {
	.capacity = 1, .mixed = true, .divisor = 16,
};

FIXTURE_VARIANT_ADD(mpmc, rendezvous) {
	.capacity = 0, .mixed = true, .divisor = 16,
};

FIXTURE_SETUP(mpmc)
{
	const char *env = getenv("MBX_MPMC_MSGS");
	uint32_t n;

	if (env)
		n = (uint32_t)strtoul(env, NULL, 0);
	else if (access("/proc/lockdep", F_OK) == 0)
		n = DEBUG_MSGS;
	else
		n = DEFAULT_MSGS;

	n /= variant->divisor;
	ASSERT_LT(0, n);
	self->size = sizeof(struct shared) + (size_t)NPROD * n;
	self->sh = t_shared(self->size);
	ASSERT_NE(NULL, self->sh);
	self->sh->nmsgs = n;
}

FIXTURE_TEARDOWN(mpmc)
{
	if (self->sh)
		munmap(self->sh, self->size);
}

/* 200 s: the binary as a whole must stay within the runner's limit. */
TEST_F_TIMEOUT(mpmc, nothing_lost_duplicated_corrupted_or_reordered, 200)
{
	struct shared *sh = self->sh;
	pid_t prod[NPROD], cons[NCONS];
	struct mbx_port_info info;
	uint64_t t0, total = 0, missing = 0, dup = 0;
	size_t i;
	int fd, k;

	fd = t_anon(variant->capacity, sizeof(struct msg_hdr) + MAX_PAYLOAD);
	ASSERT_LE(0, fd);
	t0 = t_now_ns();
	for (k = 0; k < NCONS; k++) {
		cons[k] = t_fork();
		ASSERT_LE(0, cons[k]);
		if (cons[k] == 0)
			_exit(consumer(fd, k, sh));
	}
	for (k = 0; k < NPROD; k++) {
		prod[k] = t_fork();
		ASSERT_LE(0, prod[k]);
		if (prod[k] == 0)
			_exit(producer(fd, k, sh->nmsgs, variant->mixed));
	}
	for (k = 0; k < NPROD; k++)
		EXPECT_EQ(0, t_reap_ms(prod[k], 190 * 1000))
			TH_LOG("producer %d", k);
	ASSERT_EQ(0, mbx_shutdown(fd));
	for (k = 0; k < NCONS; k++)
		EXPECT_EQ(0, t_reap(cons[k])) TH_LOG("consumer %d", k);
	TH_LOG("%u x %u messages, capacity %u: %.1f s", NPROD, sh->nmsgs,
	       variant->capacity, (t_now_ns() - t0) / 1e9);

	for (i = 0; i < (size_t)NPROD * sh->nmsgs; i++) {
		if (sh->got[i] == 0) {
			if (missing++ < 5)
				TH_LOG("lost: producer %zu seq %zu",
				       i / sh->nmsgs, i % sh->nmsgs);
		} else if (sh->got[i] > 1) {
			if (dup++ < 5)
				TH_LOG("duplicated %u times: producer %zu seq %zu",
				       sh->got[i], i / sh->nmsgs, i % sh->nmsgs);
		}
	}
	for (k = 0; k < NCONS; k++)
		total += sh->per_consumer[k];
	EXPECT_EQ(0, missing);
	EXPECT_EQ(0, dup);
	EXPECT_EQ((uint64_t)NPROD * sh->nmsgs, total);
	EXPECT_EQ(0, sh->bad_len);
	EXPECT_EQ(0, sh->bad_producer);
	EXPECT_EQ(0, sh->bad_csum);
	EXPECT_EQ(0, sh->bad_tag);
	EXPECT_EQ(0, sh->bad_prio);
	EXPECT_EQ(0, sh->bad_order);

	ASSERT_EQ(0, t_info(fd, &info));
	EXPECT_EQ((uint64_t)NPROD * sh->nmsgs, info.sent);
	EXPECT_EQ((uint64_t)NPROD * sh->nmsgs, info.received);
	EXPECT_EQ(info.bytes_sent, info.bytes_received);
	EXPECT_EQ(0, info.queued);
}

TEST_HARNESS_MAIN
