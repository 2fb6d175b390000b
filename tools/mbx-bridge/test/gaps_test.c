// SPDX-License-Identifier: GPL-2.0
/*
 * gaps_test: the regression test of what a core-mode importer counts as
 * lost in a source's sequence (gaps.c), run on the host by
 * scripts/bridge-tests.sh (case "seen").  No NATS.
 *
 * One message whose Mbx-Meta claimed a sequence near 2^64 (anyone who may
 * publish to the subject can send one) once counted about 2^64 messages
 * lost and hid every later gap of its source: the real sequence then
 * stayed below the last one seen.  Here real gaps must be counted as they
 * are around forged sequences far ahead and behind, and a sequence that
 * goes on from a lower point (a journal rolled back) must be followed.
 *
 * Prints "GAPS-TEST ok|FAIL detail"; exit status 0 on ok.
 */
#include <inttypes.h>
#include <stdio.h>

#include "../bridge.h"

static int failures;
static struct gap_seq g;
static uint64_t lost_total;

/* Feed @seq; check its verdict, what it counts and the last sequence. */
static void step(uint64_t seq, enum gap_verdict want, uint64_t want_lost,
		 uint64_t want_last)
{
	enum gap_verdict got;
	uint64_t lost;

	got = gap_step(&g, seq, &lost);
	lost_total += lost;
	if (got == want && lost == want_lost && g.last == want_last)
		return;
	if (!failures++)
		printf("GAPS-TEST FAIL seq %" PRIu64 ": verdict %d lost %" PRIu64
		       " last %" PRIu64 ", want %d lost %" PRIu64 " last %" PRIu64 "\n",
		       seq, got, lost, g.last, want, want_lost, want_last);
}

int main(void)
{
	const uint64_t max = 1ULL << 40;

	step(1, GAP_NEXT, 0, 1);
	step(2, GAP_NEXT, 0, 2);
	step(5, GAP_LOST, 2, 5);		/* 3 and 4 lost */
	/* Forged, far ahead: set aside; the gap after it still counts. */
	step(UINT64_MAX - 1, GAP_ODD, 0, 5);
	step(6, GAP_NEXT, 0, 6);
	step(9, GAP_LOST, 2, 9);		/* 7 and 8 lost */
	/* Forged, behind: set aside, and the next real one is not a gap. */
	step(1, GAP_ODD, 0, 9);
	step(10, GAP_NEXT, 0, 10);
	step(10, GAP_ODD, 0, 10);		/* a repeat */
	step(11, GAP_NEXT, 0, 11);
	/* Two sequences interleaved: the first stays the source's. */
	step(3, GAP_ODD, 0, 11);
	step(12, GAP_NEXT, 0, 12);
	step(4, GAP_ODD, 0, 12);
	step(13, GAP_NEXT, 0, 13);
	/* A journal rolled back: the second message from 7 resyncs. */
	step(7, GAP_ODD, 0, 13);
	step(8, GAP_RESYNC, 0, 8);
	step(10, GAP_LOST, 1, 10);		/* 9 lost */
	/* The largest gap counted, and one past it. */
	step(10 + max + 1, GAP_LOST, max, 11 + max);
	step(11 + max + max + 2, GAP_ODD, 0, 11 + max);
	if (lost_total != 5 + max && !failures++)
		printf("GAPS-TEST FAIL %" PRIu64 " lost in all\n", lost_total);
	if (failures)
		return 1;
	printf("GAPS-TEST ok gaps counted around forged sequences, a rollback followed\n");
	return 0;
}
