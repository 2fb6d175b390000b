// SPDX-License-Identifier: GPL-2.0
/*
 * ids_test: the regression test of the JetStream importer's record of the
 * message ids it sent (ids.c), run on the host by scripts/bridge-tests.sh
 * (case "seen").  No NATS.
 *
 * An exporter killed and restarted past the stream's duplicate window
 * republishes what it had in flight, and the stream stores those messages
 * again under new stream sequences.  The importer once knew stream
 * sequences only, and sent the copies.  Here every copy of an id sent
 * must be dropped, a message with an id not sent must not be, and the
 * table of sources must never forget one that the batch being sent uses.
 *
 * Prints "IDS-TEST ok|FAIL detail"; exit status 0 on ok.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bridge.h"

static struct ids set;
static int failures;

/* ids.c logs through state.c's blog(): not linked here. */
void blog(const char *fmt, ...)
{
	(void)fmt;
}

static void expect(bool ok, const char *what, uint64_t seq)
{
	if (ok)
		return;
	if (!failures++)
		printf("IDS-TEST FAIL %s (sequence %" PRIu64 ")\n", what, seq);
}

/* Messages @from..@to of @src in batch @batch: each new one is sent. */
static void deliver(const char *src, uint64_t from, uint64_t to,
		    uint64_t batch, bool fresh)
{
	int slot = ids_find(&set, src, batch);
	uint64_t q;

	expect(slot >= 0, "a source found no slot", from);
	for (q = from; q <= to; q++) {
		expect(ids_has(&set, slot, q) != fresh,
		       fresh ? "a message never sent was taken for a copy" :
			       "a copy of a message sent was not dropped", q);
		if (fresh)
			ids_mark(&set, slot, q);
	}
}

static void sources(void)
{
	char name[BRIDGE_SRC_MAX + 8];
	int i, a, slot;

	/* 32 sources, each found in batch 100: a 33rd finds no slot there. */
	for (i = 0; i < ID_SOURCES; i++) {
		snprintf(name, sizeof(name), "host%d.1.%016x", i, i);
		deliver(name, 1, 10, 100, true);
	}
	expect(ids_find(&set, "new.1.0", 100) < 0,
	       "a source of the batch being sent was forgotten", 0);
	/* In the next batch it takes the least recently used: host0's. */
	a = ids_find(&set, "host5.1.0000000000000005", 101);
	slot = ids_find(&set, "new.1.0", 101);
	expect(slot >= 0 && slot != a, "a new source took a slot in use", 0);
	expect(ids_find(&set, "host5.1.0000000000000005", 102) == a,
	       "a source moved", 5);
	deliver("host5.1.0000000000000005", 1, 10, 102, false);
	/* host0 was forgotten: its messages are sent again (not dropped). */
	deliver("host0.1.0000000000000000", 1, 10, 103, true);

	/* Names that cannot be compared whole are not kept. */
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	expect(ids_find(&set, name, 104) < 0, "a name too long was kept", 0);
	expect(ids_find(&set, "", 104) < 0, "an empty name was kept", 0);
	expect(ids_find(&set, NULL, 104) < 0, "no name was kept", 0);
}

int main(void)
{
	uint64_t q, w = ID_WINDOW;
	const char *a = "a.0.00000000000000aa", *b = "b.0.00000000000000bb";
	int s;

	/* Killed with 501..756 in flight, restarted 3 minutes later. */
	deliver(a, 1, 756, 1, true);
	deliver(a, 501, 756, 2, false);
	deliver(a, 757, 900, 3, true);
	/* Another source's sequences are its own. */
	deliver(b, 501, 756, 4, true);
	deliver(b, 1, 500, 5, true);
	deliver(b, 1, 756, 6, false);

	/* Gaps (messages set aside by the exporter) stay unknown. */
	s = ids_find(&set, a, 7);
	ids_mark(&set, s, 1000);
	ids_mark(&set, s, 1002);
	expect(!ids_has(&set, s, 1001), "a gap was taken for sent", 1001);
	expect(ids_has(&set, s, 1002), "a mark was lost", 1002);

	/* The window: the oldest it holds, and one past it. */
	q = 1002 + w - 1;
	ids_mark(&set, s, q);
	expect(ids_has(&set, s, 1002), "the window's oldest was lost", 1002);
	expect(!ids_has(&set, s, 1001), "a sequence aliased into the window",
	       1001);
	ids_mark(&set, s, q + 1);
	expect(!ids_has(&set, s, 1002), "a sequence past the window is known",
	       1002);
	/* A jump past the whole window clears it. */
	ids_mark(&set, s, q + 3 * w);
	expect(!ids_has(&set, s, q + 1), "an old mark aliased after a jump",
	       q + 1);
	expect(!ids_has(&set, s, q + 3 * w - 1), "a jump marked its gap",
	       q + 3 * w - 1);
	/* A forged sequence near 2^64 only turns the check off. */
	ids_mark(&set, s, UINT64_MAX);
	expect(!ids_has(&set, s, q + 3 * w), "a forged sequence left marks",
	       q + 3 * w);
	expect(ids_has(&set, s, UINT64_MAX), "the forged sequence itself", 0);
	expect(!ids_has(&set, s, 0), "sequence 0 is an id", 0);

	sources();
	if (failures)
		return 1;
	printf("IDS-TEST ok copies of %d sources dropped, gaps and a %" PRIu64
	       "-sequence window, the batch's sources kept\n", ID_SOURCES, w);
	return 0;
}
