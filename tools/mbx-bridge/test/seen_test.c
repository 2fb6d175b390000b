// SPDX-License-Identifier: GPL-2.0
/*
 * seen_test: the regression test of the JetStream importer's record of
 * what it sent (seen.c), run on the host by scripts/bridge-tests.sh (case
 * "seen").  No NATS: the deliveries JetStream makes when things go wrong
 * are played against the set, and every decision is checked.
 *
 * The importer once kept one mark, the sequence of the last message sent,
 * and dropped any redelivery at or below it.  But JetStream redelivers
 * after newer messages: the rest of a pull lost with the connection, the
 * messages a killed queue-group member had pulled.  Those were dropped,
 * acked, and lost.  Here each of them must be sent, and each one sent must
 * be dropped when it comes again, however late.
 *
 * Prints "SEEN-TEST ok|FAIL detail"; exit status 0 on ok.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bridge.h"

static struct seen set;
static int failures;

static void expect(bool ok, const char *what, uint64_t seq)
{
	if (ok)
		return;
	if (!failures++)
		printf("SEEN-TEST FAIL %s (sequence %" PRIu64 ", base %" PRIu64 ")\n",
		       what, seq, set.base);
}

/* Deliver @from..@to: what is not sent yet is sent (marked). */
static void deliver(uint64_t from, uint64_t to, bool fresh)
{
	uint64_t q;

	for (q = from; q <= to; q++) {
		expect(seen_has(&set, q) != fresh,
		       fresh ? "a message never sent was taken for a duplicate" :
			       "a message sent twice was not taken for a duplicate", q);
		if (fresh)
			seen_mark(&set, q);
	}
}

int main(void)
{
	uint64_t q, end, window = SEEN_WINDOW;

	/* A pull of 1..64 loses 30..64 with the connection; newer go on. */
	deliver(1, 29, true);
	deliver(65, 128, true);
	expect(set.base == 29, "base did not stop at the first gap", 29);
	/* The lost ones come back after newer ones: sent, not dropped. */
	deliver(30, 64, true);
	expect(set.base == 128, "base did not close the gap", 128);
	/* A lost ack: everything sent comes back, and is dropped. */
	deliver(1, 128, false);

	/*
	 * Queue group: another member got 129..200 and acked them; this one
	 * gets 201..300.  The gap is closed by the consumer's ack floor.
	 */
	deliver(201, 300, true);
	expect(!seen_has(&set, 150), "the other member's message is ours", 150);
	seen_floor(&set, 200);
	expect(set.base == 300, "the ack floor did not close the gap", 300);
	/* A killed member had pulled 301..310: redelivered here, sent. */
	deliver(311, 400, true);
	deliver(301, 310, true);
	deliver(250, 400, false);

	/* The window: what fits is marked, what is beyond is not. */
	q = set.base + window;
	expect(seen_fits(&set, q), "the window's last sequence does not fit", q);
	expect(!seen_fits(&set, q + 1), "a sequence past the window fits", q + 1);
	seen_mark(&set, q);
	expect(seen_has(&set, q), "the window's last sequence was not kept", q);
	expect(!seen_has(&set, q + window), "a sequence aliased into the window",
	       q + window);
	/* A floor far ahead clears the window, and the bits are reused. */
	seen_floor(&set, q + 3 * window);
	expect(set.base == q + 3 * window, "a far floor did not move base", q);
	deliver(q + 3 * window + 2, q + 3 * window + 5000, true);
	deliver(q + 3 * window + 1, q + 3 * window + 1, true);
	expect(set.base == q + 3 * window + 5000, "base did not settle",
	       q + 3 * window + 5000);
	deliver(q + 3 * window + 4000, q + 3 * window + 5000, false);
	/* A window's worth and more, marked in two interleaved halves. */
	for (q = set.base + 2; q <= set.base + window; q += 2)
		seen_mark(&set, q);
	q = set.base;
	deliver(q + 1, q + 1, true);
	expect(set.base == q + 2, "base passed a gap", q + 2);
	end = set.base + window;
	for (q = set.base + 1; q <= end; q++)
		if (!seen_has(&set, q))
			seen_mark(&set, q);
	expect(set.base == end, "base did not reach the window's end", end);
	expect(!seen_has(&set, end + 1), "a sequence never sent is ours",
	       end + 1);

	if (failures)
		return 1;
	printf("SEEN-TEST ok lost pulls, lost acks, queue-group gaps and a %" PRIu64
	       "-sequence window\n", window);
	return 0;
}
