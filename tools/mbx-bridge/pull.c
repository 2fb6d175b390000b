// SPDX-License-Identifier: GPL-2.0
/*
 * mbx-bridge: a JetStream pull consumer driven by hand - the pull requests
 * ($JS.API.CONSUMER.MSG.NEXT) published on the connection, the messages
 * read from a plain subscription on an inbox of our own, acked by
 * publishing +ACK / +WPI to their reply subject.
 *
 * Why not natsSubscription_Fetch(): libnats 3.4.1 (Debian 12) writes past
 * the end of the array it allocates for a batch.  Its _fetch() first takes
 * the c messages already queued on the subscription (left over from an
 * earlier request), then asks the server for batch - c more and stores
 * that reduced number back into the request, and its receive loop runs
 * "while (count != req->Batch)": with c > batch / 2, count starts above
 * the new target and never meets it, so messages are stored past
 * msgs[batch - 1] until the wait runs out - heap corruption ("double free
 * or corruption (!prev)", "malloc(): corrupted top size").  Current
 * nats.c keeps the batch in a local variable for that loop.  Leftovers
 * come from requests that outlive the Fetch() that sent them, which a
 * short wait or slow threads (QEMU TCG) make common.  Here the batch is
 * bounded by the caller's array, whatever the server sends.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bridge.h"

#define PULL_STATUS_HDR	"Status"

/**
 * pull_open() - a pull consumer on our own inbox
 * @p:       filled
 * @nc:      the connection (requests and acks go through it)
 * @stream:  the stream's name
 * @durable: the durable consumer's name (must exist)
 *
 * Return: 0 or -EIO.
 */
int pull_open(struct pull *p, natsConnection *nc, const char *stream,
	      const char *durable)
{
	natsInbox *inbox = NULL;
	natsStatus s;

	memset(p, 0, sizeof(*p));
	p->nc = nc;
	snprintf(p->next_subj, sizeof(p->next_subj),
		 "$JS.API.CONSUMER.MSG.NEXT.%s.%s", stream, durable);
	s = natsInbox_Create(&inbox);
	if (s == NATS_OK) {
		snprintf(p->inbox, sizeof(p->inbox), "%s", (const char *)inbox);
		natsInbox_Destroy(inbox);
		s = natsConnection_SubscribeSync(&p->sub, nc, p->inbox);
	}
	if (s == NATS_OK)
		s = natsSubscription_SetPendingLimits(p->sub, PENDING_MSGS,
						      PENDING_BYTES);
	if (s != NATS_OK) {
		pull_close(p);
		return -EIO;
	}
	return 0;
}

void pull_close(struct pull *p)
{
	if (p->sub) {
		natsSubscription_Unsubscribe(p->sub);
		natsSubscription_Destroy(p->sub);
	}
	p->sub = NULL;
}

/* Ask for @n messages, the request expiring after @wait_ms on the server. */
static int pull_request(struct pull *p, int n, unsigned int wait_ms)
{
	char body[96];

	snprintf(body, sizeof(body), "{\"batch\":%d,\"expires\":%" PRIu64 "}",
		 n, (uint64_t)wait_ms * 1000000);
	if (natsConnection_PublishRequestString(p->nc, p->next_subj, p->inbox,
						body) != NATS_OK)
		return -EIO;
	p->outstanding = n;
	/* After this, a request never answered (lost with a connection) is
	 * given up and a new one sent; what it still brings is kept.
	 */
	p->give_up = now_ms() + 2ULL * wait_ms + 1000;
	return 0;
}

/*
 * A status message (no payload, a Status header, no reply subject): 408
 * (expired) and 404 (nothing, no_wait) end the request; 409 and the others
 * too, and are reported; 100 (heartbeat, flow control: never asked for) is
 * dropped.  A stored message always has a reply subject (its ack): one
 * published with an empty payload and a Status header of its own is a
 * message, not a status.
 * Return: 0 for a user message, 1 for the end of a request, 2 to drop,
 * -EAGAIN for a 409 or another error status (its text in p->why).
 */
static int pull_status(struct pull *p, natsMsg *m)
{
	const char *st = NULL, *desc = NULL, *reply = natsMsg_GetReply(m);

	if ((reply && *reply) || natsMsg_GetDataLength(m) ||
	    natsMsgHeader_Get(m, PULL_STATUS_HDR, &st) != NATS_OK || !st)
		return 0;
	if (!strncmp(st, "100", 3))
		return 2;
	p->outstanding = 0;
	if (!strncmp(st, "408", 3) || !strncmp(st, "404", 3))
		return 1;
	natsMsgHeader_Get(m, "Description", &desc);
	snprintf(p->why, sizeof(p->why), "%s %s", st, desc ? desc : "");
	return -EAGAIN;
}

/**
 * pull_fetch() - up to @max messages, waiting at most @wait_ms for the first
 * @p:       the consumer
 * @msgs:    out: the messages (the caller destroys them)
 * @max:     room in @msgs; never more is stored
 * @wait_ms: how long a request lives and how long to wait
 *
 * A new request is sent only when the last one is over (all its messages
 * came, or its 408 did); messages of a request beyond @max wait in the
 * subscription for the next call.  Returns as soon as one message came
 * and nothing more is queued, or when @max are in.
 *
 * Return: the number of messages (0 on timeout), or -EIO / -EAGAIN.
 */
int pull_fetch(struct pull *p, natsMsg **msgs, int max, unsigned int wait_ms)
{
	uint64_t deadline = now_ms() + wait_ms, now;
	int count = 0, pending = 0, ret;
	natsMsg *m;
	natsStatus s;

	if (max <= 0)
		return 0;
	if (p->outstanding && now_ms() >= p->give_up)
		p->outstanding = 0;
	if (!p->outstanding && pull_request(p, max, wait_ms))
		return -EIO;
	while (count < max) {
		now = now_ms();
		if (count && (natsSubscription_GetPending(p->sub, &pending,
							  NULL) != NATS_OK ||
			      !pending))
			break;
		if (now >= deadline)
			break;
		m = NULL;
		s = natsSubscription_NextMsg(&m, p->sub, count ? 1 :
					     (int64_t)(deadline - now));
		if (s == NATS_TIMEOUT)
			break;
		if (s != NATS_OK)
			return count ? count : -EIO;
		ret = pull_status(p, m);
		if (ret) {
			natsMsg_Destroy(m);
			if (ret == 2)
				continue;
			if (ret < 0 && !count)
				return ret;
			break;
		}
		msgs[count++] = m;
		if (p->outstanding)
			p->outstanding--;
	}
	return count;
}

/*
 * Acknowledge @m (+ACK), or tell the server it is being worked on (+WPI).
 * Only to an ack subject: anyone who may publish to the pull's inbox could
 * otherwise have the bridge publish to any subject it may, the JetStream
 * API's included (a stream deletion takes any payload).
 */
int pull_ack(struct pull *p, natsMsg *m, bool in_progress)
{
	const char *reply = natsMsg_GetReply(m);

	if (!reply || strncmp(reply, "$JS.ACK.", 8))
		return -EINVAL;
	return natsConnection_PublishString(p->nc, reply, in_progress ?
					    "+WPI" : "+ACK") == NATS_OK ?
		0 : -EIO;
}
