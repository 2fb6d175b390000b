// SPDX-License-Identifier: GPL-2.0
/*
 * mbx-bridge: the stream sequences a JetStream importer has sent into its
 * port, so that a redelivery of one of them is dropped and a redelivery of
 * anything else is sent, whatever order they come in.
 *
 * JetStream redelivers what was delivered and not acked: messages a killed
 * bridge had pulled, messages of a pull whose answer was lost with the
 * connection, messages whose ack was lost.  They come back after newer
 * ones, and to any member of a queue group.  So "sent" is a set, not a
 * mark: every sequence at or below @base is done (sent here, or acked by
 * some member: the consumer's ack floor), and above it a bitmap of
 * SEEN_WINDOW sequences, indexed by sequence modulo the window, says which
 * were sent here.  @base moves up over what is marked and to each ack
 * floor the importer reads, clearing the bits that leave the window.
 *
 * The structure lives in the importer's state file (mapped shared), so it
 * survives the bridge; a sequence is marked only after its send succeeded.
 */
#include <string.h>

#include "bridge.h"

static uint64_t *seen_word(struct seen *s, uint64_t seq)
{
	return &s->bits[(seq % SEEN_WINDOW) / 64];
}

static uint64_t seen_bit(uint64_t seq)
{
	return 1ULL << (seq % 64);
}

/* Move @base up to @to, clearing the bits of the sequences it passes. */
static void seen_advance(struct seen *s, uint64_t to)
{
	if (to - s->base >= SEEN_WINDOW) {
		memset(s->bits, 0, sizeof(s->bits));
		s->base = to;
		return;
	}
	while (s->base < to) {
		s->base++;
		*seen_word(s, s->base) &= ~seen_bit(s->base);
	}
}

/* Then over every sequence marked right above it. */
static void seen_settle(struct seen *s)
{
	while (*seen_word(s, s->base + 1) & seen_bit(s->base + 1)) {
		s->base++;
		*seen_word(s, s->base) &= ~seen_bit(s->base);
	}
}

/**
 * seen_has() - whether @seq was sent here (or acked by someone)
 * @s:   the set
 * @seq: a stream sequence, from 1
 *
 * Return: true to drop a delivery of @seq as a duplicate.
 */
bool seen_has(const struct seen *s, uint64_t seq)
{
	if (seq <= s->base)
		return true;
	if (seq - s->base > SEEN_WINDOW)
		return false;
	return s->bits[(seq % SEEN_WINDOW) / 64] & seen_bit(seq);
}

/**
 * seen_fits() - whether @seq can be marked without moving @base
 * @s:   the set
 * @seq: a stream sequence above s->base
 */
bool seen_fits(const struct seen *s, uint64_t seq)
{
	return seq - s->base <= SEEN_WINDOW;
}

/**
 * seen_mark() - record that @seq reached the port
 * @s:   the set
 * @seq: a stream sequence, within the window (seen_fits()) or at or below
 *       s->base (nothing to do)
 */
void seen_mark(struct seen *s, uint64_t seq)
{
	if (seq <= s->base || !seen_fits(s, seq))
		return;
	*seen_word(s, seq) |= seen_bit(seq);
	if (seq > s->top)
		s->top = seq;
	seen_settle(s);
}

/**
 * seen_floor() - every sequence up to @floor is acked: none comes back
 * @s:     the set
 * @floor: the consumer's ack floor (stream sequence)
 */
void seen_floor(struct seen *s, uint64_t floor)
{
	if (floor <= s->base)
		return;
	seen_advance(s, floor);
	if (floor > s->top)
		s->top = floor;
	seen_settle(s);
}
