// SPDX-License-Identifier: GPL-2.0
/*
 * pull_test: the regression test of the importer's JetStream pull (pull.c)
 * against a real nats-server on the host's loopback, run by
 * scripts/bridge-tests.sh (case "pull").
 *
 * A publisher thread puts COUNT numbered messages into a fresh stream while
 * the main thread pulls them with a batch that changes every call (1..64,
 * as the room in a port does) and waits of 1-3 ms, so that pull requests
 * expire all the time with messages still coming: the traffic under which
 * libnats 3.4.1's natsSubscription_Fetch() returned more messages than its
 * batch and corrupted its heap.  Each batch lands in an array with guard
 * slots after it.  Checks: no call returns more than its batch or touches
 * a guard, every message arrives exactly once and in order (those that
 * look like a pull status too), all within the time limit; and an ack
 * is published to an ack subject only.  Prints
 * "PULL-TEST ok|FAIL detail"; exit status 0 on ok.
 *
 *   pull_test URL COUNT SECONDS [--libnats]
 *
 * --libnats pulls with natsSubscription_Fetch() instead, to show the
 * library's bug (it aborts, or a batch comes back too large).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../bridge.h"

#define SUBJ	"pulltest.x"
#define STREAM	"PULLTEST"
#define DURABLE	"pulltest"
#define MAXB	64
#define GUARD	16

static natsConnection *pub_nc;
static unsigned long count;

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Every 97th message looks like a pull status to a careless reader: an
 * empty payload and a Status header (408, request expired), its number in
 * another header.  It is a stored message all the same, to be delivered
 * and acked: once, such messages were taken for the end of the request,
 * never acked, and redelivered for ever.
 */
static natsStatus publish_status_lookalike(unsigned long i)
{
	natsMsg *m = NULL;
	char buf[32];
	natsStatus s;

	snprintf(buf, sizeof(buf), "%lu", i);
	s = natsMsg_Create(&m, SUBJ, NULL, NULL, 0);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Status", "408");
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Mbx-Test-Seq", buf);
	if (s == NATS_OK)
		s = natsConnection_PublishMsg(pub_nc, m);
	natsMsg_Destroy(m);
	return s;
}

/* The number a message carries: its payload, or its Mbx-Test-Seq header. */
static unsigned long msg_number(natsMsg *m)
{
	const char *v = NULL;

	if (natsMsg_GetDataLength(m))
		return strtoul(natsMsg_GetData(m), NULL, 10);
	if (natsMsgHeader_Get(m, "Mbx-Test-Seq", &v) != NATS_OK || !v)
		return 0;
	return strtoul(v, NULL, 10);
}

static void *publisher(void *arg)
{
	char buf[32];
	unsigned long i;

	for (i = 1; i <= count; i++) {
		snprintf(buf, sizeof(buf), "%lu", i);
		if (i % 97 == 0 ? publish_status_lookalike(i) != NATS_OK :
		    natsConnection_PublishString(pub_nc, SUBJ, buf) != NATS_OK)
			break;
		if (!(i % 500))	/* bursts and gaps: requests expire between */
			nats_Sleep(2);
	}
	natsConnection_Flush(pub_nc);
	return NULL;
}

static int fail(const char *fmt, long a, long b)
{
	printf("PULL-TEST FAIL ");
	printf(fmt, a, b);
	printf("\n");
	return 1;
}

static int setup(natsConnection *nc, jsCtx **js)
{
	const char *subj = SUBJ;
	jsStreamConfig sc;
	jsConsumerConfig cc;

	if (natsConnection_JetStream(js, nc, NULL) != NATS_OK)
		return -1;
	js_DeleteStream(*js, STREAM, NULL, NULL);
	jsStreamConfig_Init(&sc);
	sc.Name = STREAM;
	sc.Subjects = &subj;
	sc.SubjectsLen = 1;
	sc.Storage = js_MemoryStorage;
	if (js_AddStream(NULL, *js, &sc, NULL, NULL) != NATS_OK)
		return -1;
	jsConsumerConfig_Init(&cc);
	cc.Durable = DURABLE;
	cc.AckPolicy = js_AckExplicit;
	cc.AckWait = 60LL * 1000000000LL;	/* no redelivery in the run */
	cc.MaxAckPending = 4096;
	return js_AddConsumer(NULL, *js, STREAM, &cc, NULL, NULL) == NATS_OK ?
		0 : -1;
}

/* One batch through natsSubscription_Fetch(), copied into @msgs. */
static int libnats_fetch(natsSubscription *sub, natsMsg **msgs, int max,
			 int wait)
{
	natsMsgList list = { 0 };
	int i, n;

	if (natsSubscription_Fetch(&list, sub, max, wait, NULL) != NATS_OK)
		return 0;
	n = list.Count;
	for (i = 0; i < n && i < max + GUARD; i++) {
		msgs[i] = list.Msgs[i];
		list.Msgs[i] = NULL;
	}
	natsMsgList_Destroy(&list);
	return n;
}

int main(int argc, char **argv)
{
	natsMsg *msgs[MAXB + GUARD], *guard = (natsMsg *)&count, *fake;
	natsConnection *nc = NULL;
	natsSubscription *sub = NULL;
	unsigned long next = 1, calls = 0, v;
	struct pull p;
	uint64_t deadline;
	bool libnats;
	pthread_t t;
	jsCtx *js;
	int i, n, max;

	if (argc < 4) {
		fprintf(stderr, "usage: pull_test URL COUNT SECONDS [--libnats]\n");
		return 2;
	}
	count = strtoul(argv[2], NULL, 0);
	deadline = now_ms() + strtoul(argv[3], NULL, 0) * 1000;
	libnats = argc > 4 && !strcmp(argv[4], "--libnats");
	srand(1);
	if (natsConnection_ConnectTo(&nc, argv[1]) != NATS_OK ||
	    natsConnection_ConnectTo(&pub_nc, argv[1]) != NATS_OK ||
	    setup(nc, &js))
		return fail("cannot set up the stream (%ld %ld)", 0, 0);
	if (libnats ? js_PullSubscribe(&sub, js, SUBJ, DURABLE, NULL, NULL,
				       NULL) != NATS_OK :
	    pull_open(&p, nc, STREAM, DURABLE) != 0) {
		printf("PULL-TEST FAIL cannot pull\n");
		return 1;
	}
	/* An ack goes to an ack subject only: this one deletes the stream. */
	if (!libnats && natsMsg_Create(&fake, SUBJ, "$JS.API.STREAM.DELETE."
				       STREAM, "x", 1) == NATS_OK) {
		i = pull_ack(&p, fake, false);
		natsMsg_Destroy(fake);
		if (i != -EINVAL)
			return fail("an ack was published to a stream deletion (%ld)",
				    i, 0);
	}
	pthread_create(&t, NULL, publisher, NULL);
	while (next <= count && now_ms() < deadline) {
		max = 1 + rand() % MAXB;
		for (i = 0; i < MAXB + GUARD; i++)
			msgs[i] = guard;
		n = libnats ? libnats_fetch(sub, msgs, max, 1 + rand() % 3) :
			pull_fetch(&p, msgs, max, 1 + rand() % 3);
		calls++;
		if (n > max)
			return fail("a batch of %ld came back with %ld messages",
				    max, n);
		for (i = n < 0 ? 0 : n; i < MAXB + GUARD; i++)
			if (msgs[i] != guard)
				return fail("slot %ld past the batch of %ld was written",
					    i, max);
		for (i = 0; i < n; i++) {
			v = msg_number(msgs[i]);
			if (v != next)
				return fail("message %ld came where %ld was due",
					    (long)v, (long)next);
			next++;
			if (libnats)
				natsMsg_Ack(msgs[i], NULL);
			else
				pull_ack(&p, msgs[i], false);
			natsMsg_Destroy(msgs[i]);
		}
	}
	pthread_join(t, NULL);
	if (next <= count)
		return fail("%ld of %ld messages came in time",
			    (long)next - 1, (long)count);
	printf("PULL-TEST ok %lu messages in order, %lu pulls, none over its batch\n",
	       count, calls);
	if (libnats)
		natsSubscription_Destroy(sub);
	else
		pull_close(&p);
	natsConnection_Destroy(nc);
	natsConnection_Destroy(pub_nc);
	return 0;
}
