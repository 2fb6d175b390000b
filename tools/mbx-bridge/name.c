// SPDX-License-Identifier: GPL-2.0
/*
 * mbx-bridge: the bridge's name, claimed in its NATS deployment.
 *
 * Durable consumers and message ids are named after the bridge, so two
 * bridges of one name would share consumers, each taking messages meant
 * for the other's port.  A running bridge answers requests on
 * _MBX_BRIDGE.name.NAME with an instance id, its start time, host and
 * pid.  A starting one asks there first and refuses to run when anyone
 * answers; a running one asks again every few seconds, and stops when a
 * bridge of its name that started before it answers (two that started
 * during an outage, each unseen by the other, or within the same half
 * second).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>

#include "bridge.h"

#define NAME_SUBJECT	"_MBX_BRIDGE.name"
#define NAME_WAIT_MS	500

static uint64_t instance;	/* random, never 0 */
static uint64_t started;	/* CLOCK_REALTIME, ms */
static char who[160];		/* "INSTANCE STARTED host H, pid P" */

static void on_query(natsConnection *nc, natsSubscription *sub, natsMsg *m,
		     void *closure)
{
	const char *reply = natsMsg_GetReply(m);

	if (reply && reply[0])
		natsConnection_PublishString(nc, reply, who);
	natsMsg_Destroy(m);
}

/* Whether an answer @m comes from another bridge, first if @earlier. */
static bool other_bridge(natsMsg *m, bool earlier)
{
	unsigned long long id, start;
	char text[160];
	int len = natsMsg_GetDataLength(m);

	if (len <= 0 || len >= (int)sizeof(text))
		return false;	/* a status (no responders), or not ours */
	memcpy(text, natsMsg_GetData(m), len);
	text[len] = '\0';
	if (sscanf(text, "%llx %llu", &id, &start) != 2 || id == instance)
		return false;
	return !earlier || start < started ||
	       (start == started && id < instance);
}

/*
 * Ask who answers to our name, for NAME_WAIT_MS: 1 (its answer in
 * @other) when another bridge does (with @earlier, one that started
 * before us), 0 when none, or -EIO.
 */
static int ask(struct bridge *br, bool earlier, char *other, size_t size)
{
	char subj[BRIDGE_SUBJECT_MAX];
	natsSubscription *sub = NULL;
	uint64_t end = now_ms() + NAME_WAIT_MS, now;
	natsInbox *inbox = NULL;
	natsMsg *m;
	int found = 0;

	snprintf(subj, sizeof(subj), NAME_SUBJECT ".%s", br->cfg.name);
	if (natsInbox_Create(&inbox) != NATS_OK ||
	    natsConnection_SubscribeSync(&sub, br->nc, inbox) != NATS_OK ||
	    natsConnection_PublishRequestString(br->nc, subj, inbox,
						who) != NATS_OK)
		found = -EIO;
	while (!found && (now = now_ms()) < end) {
		m = NULL;
		if (natsSubscription_NextMsg(&m, sub, (int64_t)(end - now)) !=
		    NATS_OK)
			break;
		if (other_bridge(m, earlier)) {
			snprintf(other, size, "%.*s", natsMsg_GetDataLength(m),
				 natsMsg_GetData(m));
			found = 1;
		}
		natsMsg_Destroy(m);
	}
	if (sub) {
		natsSubscription_Unsubscribe(sub);
		natsSubscription_Destroy(sub);
	}
	natsInbox_Destroy(inbox);
	return found;
}

/**
 * bridge_claim_name() - make sure no other running bridge has our name
 * @br: the bridge (connected)
 *
 * Return: 0, answering to the name until bridge_disconnect(); -EEXIST
 * when another bridge answers to it, or -EIO, each after a message.
 */
int bridge_claim_name(struct bridge *br)
{
	char subj[BRIDGE_SUBJECT_MAX], host[64] = "?", other[160];
	struct timespec ts;
	natsStatus s;
	int ret;

	if (getrandom(&instance, sizeof(instance), 0) != sizeof(instance))
		instance = ((uint64_t)getpid() << 32) ^ now_ms();
	instance |= 1;
	clock_gettime(CLOCK_REALTIME, &ts);
	started = (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	gethostname(host, sizeof(host) - 1);
	snprintf(who, sizeof(who), "%016" PRIx64 " %" PRIu64 " host %s, pid %d",
		 instance, started, host, (int)getpid());

	ret = ask(br, false, other, sizeof(other));
	if (ret > 0) {
		fprintf(stderr, "mbx-bridge: another mbx-bridge named '%s' is running (%s)\n",
			br->cfg.name, other);
		fprintf(stderr, "mbx-bridge: give each bridge its own name\n");
		return -EEXIST;
	}
	snprintf(subj, sizeof(subj), NAME_SUBJECT ".%s", br->cfg.name);
	s = ret ? NATS_ERR : natsConnection_Subscribe(&br->name_sub, br->nc,
						      subj, on_query, NULL);
	if (s == NATS_OK)
		s = natsConnection_Flush(br->nc);
	if (s != NATS_OK) {
		fprintf(stderr, "mbx-bridge: cannot claim the name '%s' on NATS: %s\n",
			br->cfg.name, natsStatus_GetText(s));
		return -EIO;
	}
	return 0;
}

/**
 * bridge_name_check() - whether we still hold our name
 * @br: the bridge, running
 *
 * Return: -EEXIST after a log line when a bridge of our name that started
 * before us answers, else 0 (also when NATS cannot be asked now).
 */
int bridge_name_check(struct bridge *br)
{
	char other[160];

	if (ask(br, true, other, sizeof(other)) <= 0)
		return 0;
	blog("another mbx-bridge named '%s', started before this one, is running (%s): stopping",
	     br->cfg.name, other);
	return -EEXIST;
}
