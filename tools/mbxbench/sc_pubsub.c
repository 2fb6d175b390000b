// SPDX-License-Identifier: GPL-2.0
/*
 * mbxbench: the publish/subscribe scenarios (pubsub-1, -4, -16): one
 * publisher, every message delivered to every subscriber.  A transport
 * with one channel for all (a topic, the shared-memory floor) sends each
 * message once; the others (pipes, POSIX queues) get one channel per
 * subscriber and the publisher sends each message to each in turn.
 */
#define _GNU_SOURCE

#include "bench.h"

void publisher(struct chan *ch, unsigned int nch)
{
	uint64_t seq = 0;
	unsigned int i;
	int ret;

	for (i = 0; i < nch; i++)
		ch[i].t->attach(&ch[i], TX);
	peer_ready();
	for (;; seq++)
		for (i = 0; i < nch; i++) {
			ret = ch[i].t->tx(&ch[i], seq);
			if (ret < 0)
				child_fail(ret, "%s: publish", ch[i].t->name);
		}
}

/*
 * Subscriber @idx; @c is its own channel, or the one shared by all.  Once
 * it has its samples it says so (shared->finished) and goes on receiving,
 * unrecorded, until the parent ends the cell when every subscriber has
 * them: a subscriber that stopped would stop the publisher (which waits
 * for the slowest), and with it the others.
 */
void subscriber(struct chan *c, unsigned int idx)
{
	uint64_t seq = 0, last, now;
	bool measuring = true;
	struct rec r;
	int ret;

	if (c->t->shared) {
		c->sub = idx;
		c->fd[RX] = c->sub_fd[idx];
	}
	c->t->attach(c, RX);
	rec_init(&r, idx);
	last = r.start;
	for (;;) {
		ret = c->t->rx(c, seq);
		if (ret < 0)
			child_fail(ret, "%s: receive", c->t->name);
		seq += ret;
		now = now_ns();
		if (measuring && rec_add(&r, now - last, ret, now)) {
			measuring = false;
			atomic_fetch_add(&shared->finished, 1);
		}
		last = now;
	}
}
