// SPDX-License-Identifier: GPL-2.0
/*
 * mbxbench: streaming and fan-in scenarios (stream, stream-e2e, fan-in,
 * fan-4x4): producer and consumer.
 */
#define _GNU_SOURCE

#include "bench.h"

void producer(struct chan *c)
{
	uint64_t seq = 0;
	int ret;

	c->t->attach(c, TX);
	peer_ready();
	for (;;) {
		ret = c->t->tx(c, seq);
		if (ret < 0)
			child_fail(ret, "%s: send", c->t->name);
		seq += ret;
	}
}

void consumer(struct chan *c, unsigned int idx)
{
	uint64_t seq = 0, last, now;
	struct rec r;
	int ret;

	c->t->attach(c, RX);
	rec_init(&r, idx);
	last = r.start;
	for (;;) {
		ret = c->t->rx(c, seq);
		if (ret < 0)
			child_fail(ret, "%s: receive", c->t->name);
		seq += ret;
		now = now_ns();
		if (rec_add(&r, now - last, ret, now))
			break;
		last = now;
	}
}
