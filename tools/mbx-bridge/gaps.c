// SPDX-License-Identifier: GPL-2.0
/*
 * mbx-bridge: what a core-mode importer counts as lost in a source's
 * sequence.
 *
 * A source (an exporter's route, "name.port.epoch" in Mbx-Meta) numbers
 * its messages 1, 2, 3..., and core NATS keeps one publisher's order and
 * never redelivers, so a gap in what an importer receives of a source is
 * a loss.  But anyone who may publish to the subject can also write
 * Mbx-Meta.  A message whose sequence steps back, or jumps further ahead
 * than any outage could take it (a gap past GAP_MAX), is set aside: not
 * counted, and the source's sequence stays where it was, so that the next
 * real message is counted from the last real one.  Only a second message
 * that continues the one set aside makes its sequence the source's (an
 * exporter's journal rolled back by a crash of its machine), again with
 * nothing counted.  One forged message thus hides no gap and adds no loss.
 */
#include "bridge.h"

/* Twelve days of a million messages a second, missed. */
#define GAP_MAX		(1ULL << 40)

/* Whether @seq comes after @prev with a gap that an outage could leave. */
static bool gap_follows(uint64_t prev, uint64_t seq)
{
	return seq > prev && seq - prev - 1 <= GAP_MAX;
}

/**
 * gap_step() - the next message of a source
 * @g:    the source's sequence: the last seen, and one set aside (or 0)
 * @seq:  the message's sequence, from 1
 * @lost: the messages lost before it
 *
 * Return: GAP_NEXT (the next one), GAP_LOST (*@lost lost before it),
 * GAP_ODD (out of the sequence: set aside) or GAP_RESYNC (continues the one
 * set aside, whose sequence is now the source's).
 */
enum gap_verdict gap_step(struct gap_seq *g, uint64_t seq, uint64_t *lost)
{
	*lost = 0;
	if (gap_follows(g->last, seq)) {
		*lost = seq - g->last - 1;
		g->last = seq;
		g->odd = 0;
		return *lost ? GAP_LOST : GAP_NEXT;
	}
	if (g->odd && gap_follows(g->odd, seq)) {
		g->last = seq;
		g->odd = 0;
		return GAP_RESYNC;
	}
	g->odd = seq;
	return GAP_ODD;
}
