// SPDX-License-Identifier: GPL-2.0
/*
 * mbx-bridge: an import route's JetStream consumer - a durable pull
 * consumer, made to start again where delivery should (what the old one
 * saw acked, or what the state file says was sent), on a stream whose
 * identity is checked against the sequences kept, and made again with
 * back-off while JetStream cannot answer; and its ack floor, read to trim
 * the record of the sequences sent.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "import.h"

/*
 * The consumer's ack floor: nothing at or below it comes back, so the set
 * of sequences sent need not keep it.  Read when the set's window is half
 * full, at most once a second (in a queue group the others' messages
 * leave gaps only this closes), and when an exclusive importer starts.
 */
void ack_floor(struct importer *im)
{
	jsConsumerInfo *ci = NULL;

	im->floor_ms = now_ms();
	if (js_GetConsumerInfo(&ci, im->js, im->stream, im->durable, NULL,
			       NULL) != NATS_OK)
		return;
	seen_floor(&im->st->seen, ci->AckFloor.Stream);
	jsConsumerInfo_Destroy(ci);
}

static void durable_name(struct importer *im, char *out, size_t size)
{
	struct route *r = im->r;
	char tok[BRIDGE_SUBJECT_MAX];

	subject_token(r->subject, tok, sizeof(tok));
	if (r->fanout || r->exclusive)
		snprintf(out, size, "mbx-%s-%s", r->br->cfg.name, tok);
	else
		snprintf(out, size, "mbx-q-%s", tok);
}

/* The durable consumer: made unless it exists (another bridge's, for one). */
static natsStatus js_consumer(struct importer *im, jsConsumerConfig *cc,
			      jsErrCode *jerr)
{
	jsConsumerInfo *ci = NULL;
	natsStatus s;

	s = js_GetConsumerInfo(&ci, im->js, im->stream, cc->Durable, NULL, jerr);
	if (s == NATS_NOT_FOUND) {
		s = js_AddConsumer(&ci, im->js, im->stream, cc, NULL, jerr);
		if (s != NATS_OK)	/* another bridge may have made it */
			s = js_GetConsumerInfo(&ci, im->js, im->stream,
					       cc->Durable, NULL, jerr);
	}
	jsConsumerInfo_Destroy(ci);
	return s;
}

/* A stream's creation time folded into 32 bits, never 0 (unknown). */
static uint32_t stream_tag(int64_t created)
{
	uint64_t c = (uint64_t)created;

	return (uint32_t)(c ^ c >> 32) | 1;
}

/*
 * The stream sequences sent are those of one stream: one deleted and made
 * again under the same name numbers its messages from 1 again, and they
 * would be taken for sequences sent.  The message ids sent still hold.
 */
static void stream_check(struct importer *im, int64_t created)
{
	uint32_t tag = stream_tag(created);

	if (im->st->stream_tag && im->st->stream_tag != tag) {
		blog("%s: stream %s was made anew: forgot the old one's sequences (to %" PRIu64 ")",
		     im->r->subject, im->stream, im->st->seen.top);
		memset(&im->st->seen, 0, sizeof(im->st->seen));
	}
	im->st->stream_tag = tag;
}

static int js_subscribe(struct importer *im)
{
	struct route *r = im->r;
	char *durable = im->durable;
	jsConsumerConfig cc;
	jsErrCode jerr = 0;
	int64_t created = 0;
	natsStatus s;

	if (stream_ensure(r->br, r->subject, im->stream, sizeof(im->stream),
			  &created) ||
	    natsConnection_JetStream(&im->js, r->br->nc, NULL) != NATS_OK)
		return -EIO;
	stream_check(im, created);
	durable_name(im, durable, sizeof(im->durable));
	/*
	 * Start again from the first sequence not known done: what the old
	 * consumer saw acked (a state file lost or new), or what was sent.
	 */
	if (r->fanout || r->exclusive) {
		ack_floor(im);
		js_DeleteConsumer(im->js, im->stream, durable, NULL, NULL);
	}
	jsConsumerConfig_Init(&cc);
	cc.Durable = durable;
	cc.AckPolicy = js_AckExplicit;
	cc.AckWait = r->br->cfg.ack_wait_s * 1000000000LL;
	cc.MaxAckPending = r->br->cfg.inflight * 4;
	cc.FilterSubject = r->subject;
	if (im->st->seen.base && (r->fanout || r->exclusive)) {
		cc.DeliverPolicy = js_DeliverByStartSequence;
		cc.OptStartSeq = im->st->seen.base + 1;
	}
	s = js_consumer(im, &cc, &jerr);
	if (s != NATS_OK) {
		blog("%s: cannot pull from %s as %s: %s (JetStream error %d)",
		     r->subject, im->stream, durable, natsStatus_GetText(s),
		     (int)jerr);
		return -EIO;
	}
	return pull_open(&im->pull, r->br->nc, im->stream, durable);
}

/*
 * JetStream may be unable to answer for a while (no server, or a cluster
 * electing a leader after losing a node): retry with back-off.
 */
int js_subscribe_retry(struct importer *im)
{
	unsigned int backoff = 250;
	bool waited = false;

	while (!im->r->br->stop) {
		if (!js_subscribe(im)) {
			if (waited)
				blog("%s: JetStream consumer ready", im->r->subject);
			return 0;
		}
		if (!waited)
			blog("%s: JetStream not ready; retrying with back-off",
			     im->r->subject);
		waited = true;
		if (im->js)
			jsCtx_Destroy(im->js);
		im->js = NULL;
		sleep_ms(backoff);
		backoff = backoff < 4000 ? backoff * 2 : backoff;
	}
	return -EINTR;
}
