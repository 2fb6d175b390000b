// SPDX-License-Identifier: GPL-2.0
/*
 * mbx-bridge: what a core-mode importer counts as lost in a source's
 * sequence.
 *
 * A source (an exporter's route, "name.port.epoch" in Mbx-Meta) numbers
 * its messages 1, 2, 3..., and core NATS keeps one publisher's order and
 * never redelivers, so a gap in what an importer receives of a source is
 * a loss.  But anyone who may publish to the subject can also write
 * Mbx-Meta.  A sequence that steps back, or that jumps further ahead than
 * any outage could take it (GAP_MAX), is not counted as lost: counting
 * goes on from it, so that one forged or damaged message hides at most
 * the gap around it, not every later one, and the loss count stays a
 * count of messages.
 */
#include "bridge.h"

/* Twelve days of a million messages a second, missed. */
#define GAP_MAX		(1ULL << 40)

/**
 * gap_step() - the next sequence of a source
 * @last: the last sequence seen of the source, updated to @seq
 * @seq:  the message's sequence
 * @lost: the messages lost before it
 *
 * Return: GAP_NEXT (the next one), GAP_LOST (*@lost before it), GAP_JUMP
 * (too far ahead) or GAP_BACK (at or below @last).
 */
enum gap_step gap_step(uint64_t *last, uint64_t seq, uint64_t *lost)
{
	uint64_t prev = *last;

	*last = seq;
	*lost = 0;
	if (seq <= prev)
		return GAP_BACK;
	if (seq - prev - 1 > GAP_MAX)
		return GAP_JUMP;
	*lost = seq - prev - 1;
	return *lost ? GAP_LOST : GAP_NEXT;
}
