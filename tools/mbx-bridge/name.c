// SPDX-License-Identifier: GPL-2.0
/*
 * mbx-bridge: the bridge's name, claimed in its NATS deployment.
 *
 * Durable consumers and message ids are named after the bridge, so two
 * bridges of one name would share consumers, each taking messages meant
 * for the other's port.  A running bridge answers requests on
 * _MBX_BRIDGE.name.NAME with its host and pid; a starting one asks there
 * first and refuses to run when someone answers.  Two started within the
 * same half second can still miss each other.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bridge.h"

#define NAME_SUBJECT	"_MBX_BRIDGE.name"
#define NAME_WAIT_MS	500

static char who[128];

static void on_query(natsConnection *nc, natsSubscription *sub, natsMsg *m,
		     void *closure)
{
	const char *reply = natsMsg_GetReply(m);

	if (reply && reply[0])
		natsConnection_PublishString(nc, reply, who);
	natsMsg_Destroy(m);
}

/**
 * bridge_claim_name() - make sure no other running bridge has our name
 * @br: the bridge (connected)
 *
 * Return: 0, holding the name until bridge_disconnect(); -EEXIST when
 * another bridge answers to it, or -EIO, each after a message.
 */
int bridge_claim_name(struct bridge *br)
{
	char subj[BRIDGE_SUBJECT_MAX], host[64] = "?";
	natsMsg *reply = NULL;
	natsStatus s;

	snprintf(subj, sizeof(subj), NAME_SUBJECT ".%s", br->cfg.name);
	gethostname(host, sizeof(host) - 1);
	snprintf(who, sizeof(who), "host %s, pid %d", host, (int)getpid());
	s = natsConnection_RequestString(&reply, br->nc, subj, who,
					 NAME_WAIT_MS);
	if (s == NATS_OK) {
		int len = natsMsg_GetDataLength(reply);

		fprintf(stderr, "mbx-bridge: another mbx-bridge named '%s' is running (%.*s)\n",
			br->cfg.name, len > 100 ? 100 : len,
			natsMsg_GetData(reply));
		fprintf(stderr, "mbx-bridge: give each bridge its own name\n");
		natsMsg_Destroy(reply);
		return -EEXIST;
	}
	if (s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS)
		s = natsConnection_Subscribe(&br->name_sub, br->nc, subj,
					     on_query, NULL);
	if (s == NATS_OK)
		s = natsConnection_Flush(br->nc);
	if (s != NATS_OK) {
		fprintf(stderr, "mbx-bridge: cannot claim the name '%s' on NATS: %s\n",
			br->cfg.name, natsStatus_GetText(s));
		return -EIO;
	}
	return 0;
}
