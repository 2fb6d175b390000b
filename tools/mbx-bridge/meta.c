// SPDX-License-Identifier: GPL-2.0
/*
 * mbx-bridge: a message's mailbox metadata as NATS headers (Mbx-Prio,
 * Mbx-Tag, Mbx-Pid, Mbx-Uid, Mbx-Host, Mbx-Src, Mbx-Seq, Mbx-Id), read
 * back with checks, and the dead-letter subject for what cannot be
 * delivered.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"

static natsStatus set_u64(natsMsg *m, const char *key, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return natsMsgHeader_Set(m, key, buf);
}

int meta_to_headers(natsMsg *m, const struct msg_meta *meta,
		    const char *host, const char *src)
{
	char id[160];
	natsStatus s;

	snprintf(id, sizeof(id), "%s.%" PRIu64, src, meta->seq);
	s = set_u64(m, "Mbx-Prio", meta->prio);
	if (s == NATS_OK)
		s = set_u64(m, "Mbx-Tag", meta->tag);
	if (s == NATS_OK)
		s = set_u64(m, "Mbx-Pid", (uint64_t)(uint32_t)meta->pid);
	if (s == NATS_OK)
		s = set_u64(m, "Mbx-Uid", meta->uid);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Mbx-Host", host);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Mbx-Src", src);
	if (s == NATS_OK)
		s = set_u64(m, "Mbx-Seq", meta->seq);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Mbx-Id", id);
	return s == NATS_OK ? 0 : -ENOMEM;
}

/* 0 if absent (*v untouched), 1 if read, -EINVAL if malformed. */
static int get_u64(natsMsg *m, const char *key, uint64_t max, uint64_t *v)
{
	const char *val = NULL;
	char *end;
	unsigned long long n;

	if (natsMsgHeader_Get(m, key, &val) != NATS_OK || !val)
		return 0;
	errno = 0;
	n = strtoull(val, &end, 10);
	if (errno || end == val || *end || n > max || *val == '-')
		return -EINVAL;
	*v = n;
	return 1;
}

/**
 * meta_from_headers() - the metadata of a received NATS message
 * @m:    the message
 * @meta: filled; absent headers give priority 0, tag 0, sequence 0 (a
 *        message from a plain NATS publisher is welcome)
 *
 * Return: 0, or -EINVAL if a header is present but malformed.
 */
int meta_from_headers(natsMsg *m, struct msg_meta *meta)
{
	uint64_t prio = 0, tag = 0, seq = 0;
	const char *src = NULL;

	memset(meta, 0, sizeof(*meta));
	if (get_u64(m, "Mbx-Prio", MBX_PRIO_MAX, &prio) < 0 ||
	    get_u64(m, "Mbx-Tag", UINT64_MAX, &tag) < 0 ||
	    get_u64(m, "Mbx-Seq", UINT64_MAX, &seq) < 0)
		return -EINVAL;
	natsMsgHeader_Get(m, "Mbx-Src", &src);
	meta->prio = prio;
	meta->tag = tag;
	meta->seq = seq;
	meta->src = src;
	return 0;
}

/**
 * dead_letter() - publish what cannot be delivered to the dead-letter
 * subject, with the original headers and Mbx-Error, Mbx-Subject, Mbx-Port
 * @r:   the route
 * @m:   the message
 * @why: the reason, in Mbx-Error
 *
 * Return: 0 or -EIO; the counter counts either way.
 */
int dead_letter(struct route *r, natsMsg *m, const char *why)
{
	const char **keys = NULL, *val;
	natsMsg *dl = NULL;
	natsStatus s;
	int i, n = 0;

	s = natsMsg_Create(&dl, r->br->cfg.dead_letter, NULL,
			   natsMsg_GetData(m), natsMsg_GetDataLength(m));
	if (s == NATS_OK && natsMsgHeader_Keys(m, &keys, &n) == NATS_OK) {
		for (i = 0; i < n && s == NATS_OK; i++) {
			if (strncmp(keys[i], "Mbx-", 4))
				continue;
			if (natsMsgHeader_Get(m, keys[i], &val) == NATS_OK)
				s = natsMsgHeader_Set(dl, keys[i], val);
		}
		free((void *)keys);
	}
	if (s == NATS_OK)
		s = natsMsgHeader_Set(dl, "Mbx-Error", why);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(dl, "Mbx-Subject", natsMsg_GetSubject(m));
	if (s == NATS_OK)
		s = natsMsgHeader_Set(dl, "Mbx-Port", r->port);
	if (s == NATS_OK)
		s = natsConnection_PublishMsg(r->br->nc, dl);
	natsMsg_Destroy(dl);
	stats_add(&r->c->dead_lettered, 1);
	blog("%s: dead letter to %s: %s (%d bytes)", r->subject,
	     r->br->cfg.dead_letter, why, natsMsg_GetDataLength(m));
	return s == NATS_OK ? 0 : -EIO;
}
