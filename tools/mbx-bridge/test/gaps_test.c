// SPDX-License-Identifier: GPL-2.0
/*
 * gaps_test: the regression test of what a core-mode importer counts as
 * lost in a source's sequence (gaps.c), run on the host by
 * scripts/bridge-tests.sh (case "seen").  No NATS.
 *
 * One message whose Mbx-Meta claimed a sequence near 2^64 (anyone who may
 * publish to the subject can send one) once hid every later gap of its
 * source: the real sequence then stayed below the last one seen.  Here
 * real gaps must be counted before and after such a message, and neither
 * it nor one that steps back may count as lost.
 *
 * Prints "GAPS-TEST ok|FAIL detail"; exit status 0 on ok.
 */
#include <inttypes.h>
#include <stdio.h>

#include "../bridge.h"

static int failures;
static uint64_t last, lost_total;

/* Feed @seq; check its verdict and what it counts. */
static void step(uint64_t seq, enum gap_step want, uint64_t want_lost)
{
	uint64_t lost;
	enum gap_step got = gap_step(&last, seq, &lost);

	lost_total += lost;
	if (got == want && lost == want_lost && last == seq)
		return;
	if (!failures++)
		printf("GAPS-TEST FAIL seq %" PRIu64 ": verdict %d lost %" PRIu64
		       " last %" PRIu64 ", want %d lost %" PRIu64 "\n",
		       seq, got, lost, last, want, want_lost);
}

int main(void)
{
	last = 0;
	step(1, GAP_NEXT, 0);
	step(2, GAP_NEXT, 0);
	step(5, GAP_LOST, 2);		/* 3 and 4 lost */
	/* A forged sequence near 2^64: not lost, and it hides nothing. */
	step(UINT64_MAX - 1, GAP_JUMP, 0);
	step(6, GAP_BACK, 0);
	step(7, GAP_NEXT, 0);
	step(10, GAP_LOST, 2);		/* 8 and 9 lost */
	/* A step back, or a repeat, counts nothing either. */
	step(3, GAP_BACK, 0);
	step(3, GAP_BACK, 0);
	step(4, GAP_NEXT, 0);
	/* The largest gap counted, and one past it. */
	step(4 + (1ULL << 40) + 1, GAP_LOST, 1ULL << 40);
	step(last + (1ULL << 40) + 2, GAP_JUMP, 0);
	if (lost_total != 4 + (1ULL << 40) && !failures++)
		printf("GAPS-TEST FAIL %" PRIu64 " lost in all\n", lost_total);
	if (failures)
		return 1;
	printf("GAPS-TEST ok gaps counted around a forged sequence near 2^64 and a step back\n");
	return 0;
}
