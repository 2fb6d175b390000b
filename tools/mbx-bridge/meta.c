// SPDX-License-Identifier: GPL-2.0
/*
 * mbx-bridge: a message's mailbox metadata as one NATS header, read back
 * with checks (and the eight one-field headers of bridges before it), and
 * the dead-letter subject for what cannot be delivered.
 *
 *   Mbx-Meta: 1 PRIO TAG PID UID SEQ HOST SRC
 *
 * decimal numbers separated by one space, "1" the format's version, PID
 * the sender's pid as an unsigned 32-bit number, HOST the exporting
 * bridge's name and SRC its route's source id (HOST.ROUTE.EPOCH); the
 * message id is SRC.SEQ (JetStream's Nats-Msg-Id).  One header instead of
 * eight: libnats keeps headers in a hash, allocates on every set, encodes
 * them on publish and parses them all on the first read, which at 64 B
 * was most of a message's cost (docs/BENCHMARKS.md, "Bridge").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"

#define META_HDR	"Mbx-Meta"
#define META_VERSION	1

int meta_to_headers(natsMsg *m, const struct msg_meta *meta,
		    const char *host, const char *src)
{
	char v[BRIDGE_META_MAX];
	int n;

	n = snprintf(v, sizeof(v), "%d %u %" PRIu64 " %u %u %" PRIu64 " %s %s",
		     META_VERSION, meta->prio, meta->tag, (uint32_t)meta->pid,
		     meta->uid, meta->seq, host, src);
	if (n < 0 || (size_t)n >= sizeof(v))
		return -ENAMETOOLONG;
	return natsMsgHeader_Set(m, META_HDR, v) == NATS_OK ? 0 : -ENOMEM;
}

/* One decimal field of Mbx-Meta at *p, then one space (or the end). */
static int meta_field(const char **p, uint64_t max, uint64_t *v)
{
	unsigned long long n;
	char *end;

	if (**p < '0' || **p > '9')
		return -EINVAL;
	errno = 0;
	n = strtoull(*p, &end, 10);
	if (errno || n > max || (*end != ' ' && *end))
		return -EINVAL;
	*v = n;
	*p = *end ? end + 1 : end;
	return 0;
}

static int meta_parse(const char *val, struct msg_meta *meta)
{
	uint64_t ver, prio, tag, pid, uid, seq;
	const char *p = val, *host_end;

	if (meta_field(&p, UINT32_MAX, &ver) || ver != META_VERSION ||
	    meta_field(&p, MBX_PRIO_MAX, &prio) ||
	    meta_field(&p, UINT64_MAX, &tag) ||
	    meta_field(&p, UINT32_MAX, &pid) ||
	    meta_field(&p, UINT32_MAX, &uid) ||
	    meta_field(&p, UINT64_MAX, &seq))
		return -EINVAL;
	host_end = strchr(p, ' ');	/* HOST SRC: both non-empty */
	if (!host_end || host_end == p || !host_end[1] ||
	    strchr(host_end + 1, ' '))
		return -EINVAL;
	meta->prio = prio;
	meta->tag = tag;
	meta->pid = (int32_t)(uint32_t)pid;
	meta->uid = uid;
	meta->seq = seq;
	meta->src = host_end + 1;
	return 0;
}

/* 0 if absent (*v untouched), 1 if read, -EINVAL if malformed. */
static int get_u64(natsMsg *m, const char *key, uint64_t max, uint64_t *v)
{
	const char *val = NULL;
	char *end;
	unsigned long long n;

	if (natsMsgHeader_Get(m, key, &val) != NATS_OK || !val)
		return 0;
	/* Digits only: strtoull() also takes spaces and a sign. */
	if (*val < '0' || *val > '9')
		return -EINVAL;
	errno = 0;
	n = strtoull(val, &end, 10);
	if (errno || *end || n > max)
		return -EINVAL;
	*v = n;
	return 1;
}

/* The one-field headers (Mbx-Prio, Mbx-Tag, Mbx-Seq, Mbx-Src) of before. */
static int meta_fields(natsMsg *m, struct msg_meta *meta)
{
	uint64_t prio = 0, tag = 0, seq = 0;
	const char *src = NULL;

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
 * meta_from_headers() - the metadata of a received NATS message
 * @m:    the message
 * @meta: filled from Mbx-Meta or, without it, from the one-field headers
 *        of older bridges; absent metadata gives priority 0, tag 0,
 *        sequence 0 (a message from a plain NATS publisher is welcome)
 *
 * Return: 0, or -EINVAL if the metadata is present but malformed.
 */
int meta_from_headers(natsMsg *m, struct msg_meta *meta)
{
	const char *val = NULL;

	memset(meta, 0, sizeof(*meta));
	if (natsMsgHeader_Get(m, META_HDR, &val) == NATS_OK && val)
		return meta_parse(val, meta);
	return meta_fields(m, meta);
}

/**
 * dead_letter() - publish what cannot be delivered to the dead-letter
 * subject, with the original headers and Mbx-Error, Mbx-Subject, Mbx-Port
 * @r:   the route
 * @m:   the message
 * @why: the reason, in Mbx-Error
 *
 * Return: 0 once published (and counted), -EMSGSIZE when @m with these
 * headers is larger than the server's max_payload (no retry can carry it),
 * or -EIO.
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
	if (s != NATS_OK) {
		stats_add(&r->c->errors, 1);
		blog("%s: dead letter to %s failed: %s (%s, %d bytes)",
		     r->subject, r->br->cfg.dead_letter, natsStatus_GetText(s),
		     why, natsMsg_GetDataLength(m));
		return s == NATS_MAX_PAYLOAD ? -EMSGSIZE : -EIO;
	}
	stats_add(&r->c->dead_lettered, 1);
	blog("%s: dead letter to %s: %s (%d bytes)", r->subject,
	     r->br->cfg.dead_letter, why, natsMsg_GetDataLength(m));
	return 0;
}
