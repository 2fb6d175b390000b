// SPDX-License-Identifier: GPL-2.0
/*
 * mbx-bridge: the message ids a JetStream importer has sent into its port,
 * so that a second copy of a message in the stream is dropped.
 *
 * An exporter publishes each message with the id <source>.<sequence>
 * (Mbx-Meta), and JetStream drops a publish whose id it stored in the last
 * duplicate window (2 minutes by default).  An exporter killed and
 * restarted later than that republishes what it had not seen acknowledged,
 * and the stream stores those messages a second time, under new stream
 * sequences, which the set of stream sequences sent (seen.c) does not
 * know.  So the importer also keeps, per source, the exporter sequences it
 * sent: the highest one (@top) and a bitmap of the ID_WINDOW sequences up
 * to it.  A copy is of a message the exporter had in flight when it was
 * killed, at most 4096 (its inflight) before the last one it had taken,
 * well inside the window.  A sequence older than the window is not known,
 * and is sent.
 *
 * ID_SOURCES sources are kept; a new one takes the place of the one used
 * least recently, never one that the batch being sent refers to.  The
 * structure lives in the importer's state file, like the set of stream
 * sequences; an id is marked only after its send succeeded.
 *
 * Anyone who may publish to the subject can send what they like into the
 * port anyway; with a forged id they can also have a later message with
 * the same id dropped, or, with a huge sequence, turn the check off for a
 * source (its real sequences then fall below the window and are sent).
 */
#include <string.h>

#include "bridge.h"

static uint64_t *ids_word(struct id_source *s, uint64_t seq)
{
	return &s->bits[(seq % ID_WINDOW) / 64];
}

static uint64_t ids_bit(uint64_t seq)
{
	return 1ULL << (seq % 64);
}

/**
 * ids_find() - the slot of a source, made if need be
 * @ids:   the set
 * @name:  the source, from Mbx-Meta
 * @batch: the batch being admitted: its slots are not taken over
 *
 * Return: the slot, or -1 when @name is not a source this set can hold
 * (empty, or too long to compare whole) or every slot is the batch's.
 */
int ids_find(struct ids *ids, const char *name, uint64_t batch)
{
	int i, victim = -1;
	struct id_source *s;

	if (!name || !name[0] || strlen(name) >= sizeof(s->name))
		return -1;
	for (i = 0; i < ID_SOURCES; i++) {
		s = &ids->src[i];
		if (!strcmp(s->name, name)) {
			s->batch = batch;
			s->used = ++ids->clock;
			return i;
		}
		if (s->batch == batch && s->name[0])
			continue;
		if (victim < 0 || s->used < ids->src[victim].used)
			victim = i;
	}
	if (victim < 0)
		return -1;
	s = &ids->src[victim];
	if (s->name[0])
		blog("message ids of source %s forgotten for %s (%d sources kept)",
		     s->name, name, ID_SOURCES);
	memset(s, 0, sizeof(*s));
	strcpy(s->name, name);
	s->batch = batch;
	s->used = ++ids->clock;
	return victim;
}

/**
 * ids_has() - whether the message @seq of source @slot was sent here
 * @ids:  the set
 * @slot: from ids_find()
 * @seq:  the exporter's sequence, from 1
 */
bool ids_has(struct ids *ids, int slot, uint64_t seq)
{
	struct id_source *s = &ids->src[slot];

	if (!seq || seq > s->top || s->top - seq >= ID_WINDOW)
		return false;
	return *ids_word(s, seq) & ids_bit(seq);
}

/**
 * ids_mark() - record that the message @seq of source @slot reached the port
 * @ids:  the set
 * @slot: from ids_find() in the same batch, or -1 (nothing to do)
 * @seq:  the exporter's sequence
 */
void ids_mark(struct ids *ids, int slot, uint64_t seq)
{
	struct id_source *s;

	if (slot < 0 || slot >= ID_SOURCES || !seq)
		return;
	s = &ids->src[slot];
	if (seq > s->top) {
		if (seq - s->top >= ID_WINDOW)
			memset(s->bits, 0, sizeof(s->bits));
		else
			while (s->top < seq - 1) {
				s->top++;
				*ids_word(s, s->top) &= ~ids_bit(s->top);
			}
		s->top = seq;
	} else if (s->top - seq >= ID_WINDOW) {
		return;
	}
	*ids_word(s, seq) |= ids_bit(seq);
}
