// SPDX-License-Identifier: GPL-2.0
/*
 * mbx-bridge: an export route - messages received from a local port are
 * published to a NATS subject.
 *
 * Mailbox has no "peek": a receive takes the message off the port.  So the
 * exporter receives straight into a journal, a file of the state directory
 * mapped shared and locked: the receive batch's struct mbx_recv entries and
 * payload buffers live in the file, and the kernel writes the message and
 * its metadata there before the call returns.  Killed at any point, the
 * bridge finds on restart every message it took and had not seen
 * acknowledged, and publishes it again under the same message id, which
 * JetStream's duplicate window drops if the first publish did land.  An
 * armed entry was filled by the kernel iff its uid is no longer UINT32_MAX
 * (the kernel reports an unmapped uid as the overflow uid, never that),
 * and then holds the whole payload: results are written after it.
 *
 * JetStream publishes are asynchronous, up to the journal's slots in flight,
 * on a connection of the route's own that libnats never re-establishes: a
 * dropped connection is closed, so no publish can sit in a reconnect buffer
 * and land after the earlier ones republished.  On any failure (a publish
 * refused, an ack that is an error or overdue, the connection gone) the
 * exporter takes nothing more from the port, waits for what is in flight,
 * and republishes every unacknowledged message in order, each waiting for
 * its ack, on a fresh connection if need be; then it resumes.  The stream
 * thus holds each exporter's messages in the order they left the port.
 *
 * Core mode uses the same journal but publishes each message once; what a
 * crash caught between receive and publish is counted as lost, and the
 * importers see the gap in the sequence (Mbx-Meta) too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "bridge.h"

#define XJ_MAGIC	0x6d627878706a6e31ULL	/* "mbxxpjn1" */
#define XJ_HDR		4096UL		/* the header's page, then the slots */
#define NO_UID		UINT32_MAX
#define ACK_TIMEOUT_MS	5000

enum { SLOT_FREE, SLOT_ARMED, SLOT_FULL, SLOT_ACKED, SLOT_FAILED };

struct xj_head {
	uint64_t magic;
	uint64_t epoch;
	uint64_t next_seq;
	uint32_t nslots;
	uint32_t slot_size;
};

struct xj_slot {
	uint64_t seq;
	uint32_t state;
	uint32_t pad;
};

struct exporter {
	struct route *r;
	int fd;
	bool js_mode;
	size_t max;
	char src[BRIDGE_SRC_MAX];
	void *map;
	size_t map_size;
	struct xj_head *h;
	struct xj_slot *slot;
	struct mbx_recv *rv;
	char *data;
	uint64_t *pub_ms;
	uint32_t n, head, used;
	/*
	 * Held by on_ack() from its check of a slot to its verdict, and
	 * by release_acked() while it frees slots: a slot cannot be freed
	 * and filled anew, a newer message, under an ack of the older.
	 */
	pthread_mutex_t ack_lock;
	natsConnection *nc;	/* JetStream: the route's own, see above */
	jsCtx *js;
	int failed;
	bool down_logged;
};

/* Whether a slot in @state, its entry's uid @uid, holds a message taken. */
static bool filled(uint32_t state, uint32_t uid)
{
	return state == SLOT_FULL || state == SLOT_FAILED ||
	       (state == SLOT_ARMED && uid != NO_UID);
}

static bool slot_filled(struct exporter *x, uint32_t i)
{
	return filled(x->slot[i].state, x->rv[i].uid);
}

static natsMsg *slot_msg(struct exporter *x, uint32_t i)
{
	struct mbx_recv *rv = &x->rv[i];
	struct msg_meta meta = {
		.prio = rv->prio, .tag = rv->tag, .pid = rv->pid,
		.uid = rv->uid, .seq = x->slot[i].seq,
	};
	natsMsg *m = NULL;

	if (natsMsg_Create(&m, x->r->subject, NULL, x->data + i * x->max,
			   rv->len) != NATS_OK)
		return NULL;
	if (meta_to_headers(m, &meta, x->r->br->cfg.name, x->src)) {
		natsMsg_Destroy(m);
		return NULL;
	}
	return m;
}

static void slot_id(struct exporter *x, uint32_t i, char *id, size_t size)
{
	snprintf(id, size, "%s.%" PRIu64, x->src, x->slot[i].seq);
}

/*
 * Why no publish of a message can succeed (aside.c), or NULL: larger than
 * the server's max_payload (libnats refuses it before sending) or than the
 * stream's max_msg_size (JetStream refuses it).
 */
static const char *unpublishable(natsStatus s, jsErrCode jerr)
{
	if (s == NATS_MAX_PAYLOAD)
		return "larger than the server's max_payload";
	if (jerr == JSStreamMessageExceedsMaximumErr)
		return "larger than the stream's max_msg_size";
	return NULL;
}

/* Set slot @i aside (aside.c): 0 once it is on disk, the slot then done. */
static int set_aside(struct exporter *x, uint32_t i, const char *why)
{
	natsMsg *m = slot_msg(x, i);
	char id[BRIDGE_SRC_MAX + 24];
	int ret;

	if (!m)
		return -ENOMEM;
	slot_id(x, i, id, sizeof(id));
	ret = aside_keep(x->r, m, id, why);
	natsMsg_Destroy(m);
	if (!ret)
		__atomic_store_n(&x->slot[i].state, SLOT_ACKED,
				 __ATOMIC_RELEASE);
	return ret;
}

static void on_ack(jsCtx *js, natsMsg *m, jsPubAck *pa, jsPubAckErr *pae,
		   void *closure)
{
	struct exporter *x = closure;
	struct msg_meta meta;
	uint64_t seq;
	uint32_t i;

	if (meta_from_headers(m, &meta) || !meta.seq)
		goto out;
	seq = meta.seq;
	i = seq % x->n;
	pthread_mutex_lock(&x->ack_lock);
	if (__atomic_load_n(&x->slot[i].seq, __ATOMIC_RELAXED) != seq ||
	    __atomic_load_n(&x->slot[i].state, __ATOMIC_ACQUIRE) != SLOT_FULL)
		goto unlock;
	if (!pa) {
		stats_add(&x->r->c->errors, 1);
		__atomic_store_n(&x->slot[i].state, SLOT_FAILED, __ATOMIC_RELEASE);
		__atomic_store_n(&x->failed, 1, __ATOMIC_RELEASE);
		goto unlock;
	}
	stats_add(&x->r->c->acked, 1);
	if (pa->Duplicate)
		stats_add(&x->r->c->deduplicated, 1);
	__atomic_store_n(&x->slot[i].state, SLOT_ACKED, __ATOMIC_RELEASE);
unlock:
	pthread_mutex_unlock(&x->ack_lock);
out:
	natsMsg_Destroy(m);
}

static bool xconn_up(struct exporter *x)
{
	return x->nc && natsConnection_Status(x->nc) == NATS_CONN_STATUS_CONNECTED;
}

static void xconn_close(struct exporter *x)
{
	if (x->nc)
		natsConnection_Close(x->nc);
	if (x->js)
		jsCtx_Destroy(x->js);
	natsConnection_Destroy(x->nc);
	x->js = NULL;
	x->nc = NULL;
}

/* (Re)open the route's publishing connection, with back-off. */
static int xconn_open(struct exporter *x)
{
	struct route *r = x->r;
	unsigned int backoff = 100;
	natsStatus s;
	jsOptions o;

	xconn_close(x);
	jsOptions_Init(&o);
	o.PublishAsync.AckHandler = on_ack;
	o.PublishAsync.AckHandlerClosure = x;
	o.PublishAsync.MaxPending = x->n;
	o.Wait = ACK_TIMEOUT_MS;
	while (!r->br->stop) {
		s = bridge_connect_once(r->br, &x->nc);
		if (s == NATS_OK)
			s = natsConnection_JetStream(&x->js, x->nc, &o);
		if (s == NATS_OK) {
			blog("%s: publishing connection open", r->subject);
			x->down_logged = false;
			return 0;
		}
		xconn_close(x);
		if (!x->down_logged)
			blog("%s: cannot reach NATS to publish: %s; retrying with back-off",
			     r->subject, natsStatus_GetText(s));
		x->down_logged = true;
		stats_add(&r->c->errors, 1);
		sleep_ms(backoff);
		backoff = backoff < 2000 ? backoff * 2 : backoff;
	}
	return -EINTR;
}

/* Publish slot @i and wait for JetStream's ack, retrying until it comes. */
static int publish_sync(struct exporter *x, uint32_t i)
{
	struct route *r = x->r;
	unsigned int backoff = 100;
	jsPubOptions po;
	char id[BRIDGE_SRC_MAX + 24];

	jsPubOptions_Init(&po);
	slot_id(x, i, id, sizeof(id));
	po.MsgId = id;
	po.MaxWait = ACK_TIMEOUT_MS;
	while (!r->br->stop) {
		const char *why;
		jsPubAck *pa = NULL;
		jsErrCode jerr = 0;
		natsMsg *m;
		natsStatus s;

		if (!xconn_up(x))
			return -ENOTCONN;
		m = slot_msg(x, i);
		s = m ? js_PublishMsg(&pa, x->js, m, &po, &jerr) : NATS_NO_MEMORY;
		natsMsg_Destroy(m);
		if (s == NATS_OK) {
			stats_add(&r->c->sent, 1);
			stats_add(&r->c->acked, 1);
			if (pa->Duplicate)
				stats_add(&r->c->deduplicated, 1);
			jsPubAck_Destroy(pa);
			__atomic_store_n(&x->slot[i].state, SLOT_ACKED,
					 __ATOMIC_RELEASE);
			return 0;
		}
		stats_add(&r->c->errors, 1);
		why = unpublishable(s, jerr);
		if (why && !set_aside(x, i, why))
			return 0;
		blog("%s: publish of %s failed: %s, retrying in %u ms",
		     r->subject, id, natsStatus_GetText(s), backoff);
		sleep_ms(backoff);
		backoff = backoff < 2000 ? backoff * 2 : backoff;
	}
	return -EINTR;
}

/* publish_sync(), on a new connection whenever the last one is gone. */
static int publish_ordered(struct exporter *x, uint32_t i)
{
	int ret;

	while ((ret = publish_sync(x, i)) == -ENOTCONN)
		if (xconn_open(x))
			return -EINTR;
	return ret;
}

static int publish_async(struct exporter *x, uint32_t i)
{
	jsPubOptions po;
	char id[BRIDGE_SRC_MAX + 24];
	natsMsg *m = slot_msg(x, i);
	natsStatus s;

	jsPubOptions_Init(&po);
	slot_id(x, i, id, sizeof(id));
	po.MsgId = id;
	po.MaxWait = ACK_TIMEOUT_MS;
	x->pub_ms[i] = now_ms();
	s = m ? js_PublishMsgAsync(x->js, &m, &po) : NATS_NO_MEMORY;
	natsMsg_Destroy(m);
	if (s != NATS_OK) {
		__atomic_store_n(&x->slot[i].state, SLOT_FAILED, __ATOMIC_RELEASE);
		x->failed = 1;
		stats_add(&x->r->c->errors, 1);
		return -EIO;
	}
	stats_add(&x->r->c->sent, 1);
	return 0;
}

static void publish_core(struct exporter *x, uint32_t i)
{
	natsMsg *m = slot_msg(x, i);
	const char *why;
	natsStatus s = m ? natsConnection_PublishMsg(x->r->br->nc, m) :
			   NATS_NO_MEMORY;

	natsMsg_Destroy(m);
	why = unpublishable(s, 0);
	if (s == NATS_OK) {
		stats_add(&x->r->c->sent, 1);
	} else if (why && !set_aside(x, i, why)) {
		stats_add(&x->r->c->errors, 1);
	} else {
		stats_add(&x->r->c->lost, 1);
		stats_add(&x->r->c->errors, 1);
		blog("%s: core publish of seq %" PRIu64 " failed: %s (counted lost)",
		     x->r->subject, x->slot[i].seq, natsStatus_GetText(s));
	}
	x->slot[i].state = SLOT_ACKED;
}

/*
 * Drop the filled slots whose length no receive could have written (more
 * than a slot holds): the journal is the bridge's own, but a damaged file
 * must not make it publish what lies past the slot.  Return: how many.
 */
static uint32_t drop_corrupt(struct exporter *x)
{
	uint32_t i, bad = 0;

	for (i = 0; i < x->n; i++) {
		if (!slot_filled(x, i) || x->rv[i].len <= x->max)
			continue;
		blog("%s: journal slot %u says %llu bytes in %zu: corrupt, dropped",
		     x->r->subject, i, (unsigned long long)x->rv[i].len,
		     x->max);
		x->slot[i].state = SLOT_FREE;
		bad++;
	}
	return bad;
}

/*
 * The sequences a receive took that a kill cut short, and that the kernel
 * did not fill, were never used: the next message takes the first of them
 * (core-mode importers would count the others as lost).  Only those of
 * the last batch, just below next_seq.
 */
static uint64_t unused_seqs(struct exporter *x, uint64_t next)
{
	uint64_t from = next, seq;
	uint32_t i;

	for (i = 0; i < x->n; i++) {
		seq = x->slot[i].seq;
		if (x->slot[i].state == SLOT_ARMED && !slot_filled(x, i) &&
		    seq < from && next - seq <= x->n)
			from = seq;
	}
	return from;
}

/* Messages a killed bridge had taken and not seen acknowledged. */
static int recover(struct exporter *x)
{
	uint32_t i, cnt = 0, lost = drop_corrupt(x);
	uint64_t next = unused_seqs(x, x->h->next_seq), lo;

	for (;;) {
		uint32_t pick = x->n;

		lo = UINT64_MAX;
		for (i = 0; i < x->n; i++)
			if (slot_filled(x, i) && x->slot[i].seq < lo)
				lo = x->slot[i].seq, pick = i;
		if (pick == x->n)
			break;
		if (lo >= next)
			next = lo + 1;
		x->slot[pick].state = SLOT_FULL;
		if (!x->js_mode) {
			x->slot[pick].state = SLOT_ACKED;
			lost++;
		} else if (publish_ordered(x, pick)) {
			return -EINTR;
		}
		cnt++;
	}
	for (i = 0; i < x->n; i++)
		x->slot[i].state = SLOT_FREE;
	x->h->next_seq = next;
	x->head = next % x->n;
	x->used = 0;
	x->r->c->pending = 0;
	if (lost) {
		stats_add(&x->r->c->lost, lost);
		blog("%s: %u messages taken from %s were not published before a crash: lost",
		     x->r->subject, lost, x->r->port);
	}
	if (x->js_mode && cnt) {
		blog("%s: republished %u messages left unacknowledged by a previous run",
		     x->r->subject, cnt);
	}
	return 0;
}

/* Receive what the port has, up to the free room, into armed slots. */
static int receive(struct exporter *x)
{
	uint32_t t = (x->head + x->used) % x->n, k, i;
	uint64_t base = x->h->next_seq;
	int ret;

	k = x->n - x->used;
	if (k > x->n - t)
		k = x->n - t;
	if (k > BRIDGE_BATCH)
		k = BRIDGE_BATCH;
	if (!k)
		return 0;
	/* The sequence numbers are taken before the kernel can fill them. */
	__atomic_store_n(&x->h->next_seq, base + k, __ATOMIC_SEQ_CST);
	for (i = t; i < t + k; i++) {
		/* on_ack() reads it, under ack_lock, to match its ack. */
		__atomic_store_n(&x->slot[i].seq, base + i - t,
				 __ATOMIC_RELAXED);
		memset(&x->rv[i], 0, sizeof(x->rv[i]));
		x->rv[i].buf = (uintptr_t)(x->data + i * x->max);
		x->rv[i].len = x->max;
		x->rv[i].uid = NO_UID;
		__atomic_store_n(&x->slot[i].state, SLOT_ARMED, __ATOMIC_SEQ_CST);
	}
	ret = mbx_recv_batch(x->fd, &x->rv[t], k, MBX_NONBLOCK);
	for (i = t; i < t + k; i++)
		__atomic_store_n(&x->slot[i].state,
				 (int)(i - t) < ret ? SLOT_FULL : SLOT_FREE,
				 __ATOMIC_SEQ_CST);
	__atomic_store_n(&x->h->next_seq, base + (ret > 0 ? ret : 0),
			 __ATOMIC_SEQ_CST);
	if (ret <= 0)
		return ret == -EAGAIN ? 0 : ret;
	x->used += ret;
	stats_add(&x->r->c->received, ret);
	for (i = t; i < t + (uint32_t)ret; i++) {
		if (!x->js_mode)
			publish_core(x, i);
		else if (!__atomic_load_n(&x->failed, __ATOMIC_ACQUIRE))
			publish_async(x, i);	/* else left for resync() */
		else
			x->pub_ms[i] = 0;
	}
	return ret;
}

/* Free the acknowledged slots at the head, in order. */
static void release_acked(struct exporter *x)
{
	pthread_mutex_lock(&x->ack_lock);
	while (x->used && __atomic_load_n(&x->slot[x->head].state,
					  __ATOMIC_ACQUIRE) == SLOT_ACKED) {
		x->slot[x->head].state = SLOT_FREE;
		x->head = (x->head + 1) % x->n;
		x->used--;
	}
	pthread_mutex_unlock(&x->ack_lock);
}

/*
 * After a failure: wait for what is in flight, then republish every
 * unacknowledged message in order, each waiting for its ack.
 */
static int resync(struct exporter *x, const char *why)
{
	jsPubOptions po;
	uint32_t i, j;
	int ret = 0;

	blog("%s: publishing paused: %s; %" PRIu64 " messages taken so far, %u not acknowledged",
	     x->r->subject, why, x->r->c->received, x->used);
	if (xconn_up(x)) {
		jsPubOptions_Init(&po);
		po.MaxWait = ACK_TIMEOUT_MS;
		js_PublishAsyncComplete(x->js, &po);
	}
	if (!xconn_up(x))
		xconn_close(x);	/* in flight there is lost with it */
	for (j = 0, i = x->head; j < x->used && !ret; j++, i = (i + 1) % x->n) {
		if (__atomic_load_n(&x->slot[i].state, __ATOMIC_ACQUIRE) ==
		    SLOT_ACKED)
			continue;
		x->slot[i].state = SLOT_FULL;
		ret = publish_ordered(x, i);
	}
	if (!ret && !x->nc)
		ret = xconn_open(x);
	if (ret)
		return ret;
	__atomic_store_n(&x->failed, 0, __ATOMIC_RELEASE);
	release_acked(x);
	blog("%s: publishing resumed, all taken messages acknowledged in order",
	     x->r->subject);
	return 0;
}

/* Free what is acknowledged; in JetStream mode, resync after a failure. */
static int settle(struct exporter *x)
{
	release_acked(x);
	if (!x->js_mode)
		return 0;
	if (__atomic_load_n(&x->failed, __ATOMIC_ACQUIRE))
		return resync(x, "a publish failed");
	if (!xconn_up(x))
		return resync(x, "the connection to NATS was lost");
	if (x->used && x->pub_ms[x->head] &&
	    now_ms() - x->pub_ms[x->head] > 2 * ACK_TIMEOUT_MS)
		return resync(x, "an ack is overdue");
	return 0;
}

static void export_loop(struct exporter *x)
{
	struct route *r = x->r;
	struct pollfd p = { .fd = x->fd, .events = POLLIN };

	while (!r->br->stop) {
		int got;

		if (settle(x))
			break;
		got = receive(x);
		if (got < 0) {
			stats_add(&r->c->errors, 1);
			blog("%s: receive from %s failed: %s", r->subject,
			     r->port, strerror(-got));
			sleep_ms(500);
		}
		release_acked(x);
		x->r->c->pending = x->used;
		if (got == 0)
			poll(&p, 1, x->used ? 1 : 100);
	}
	if (x->js_mode && xconn_up(x)) {
		jsPubOptions po;

		jsPubOptions_Init(&po);
		po.MaxWait = ACK_TIMEOUT_MS;
		js_PublishAsyncComplete(x->js, &po);
		release_acked(x);
	}
}

/*
 * How many messages a journal of another geometry (made with another
 * inflight, or for a port of another max_msg_size) holds: it would be
 * made anew, and they would be lost.  0 when the file is absent, is not
 * a journal, or has @n slots of @max bytes.
 */
static uint32_t journal_held(const char *path, uint32_t n, size_t max)
{
	const size_t per = sizeof(struct xj_slot) + sizeof(struct mbx_recv);
	const struct xj_slot *slot;
	const struct mbx_recv *rv;
	const struct xj_head *h;
	uint32_t i, held = 0;
	struct stat st;
	void *map;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (fstat(fd, &st) || (size_t)st.st_size < XJ_HDR) {
		close(fd);
		return 0;
	}
	map = mmap(NULL, st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return 0;
	h = map;
	if (h->magic == XJ_MAGIC && h->nslots && h->nslots <= 4096 &&
	    (h->nslots != n || h->slot_size != max) &&
	    (uint64_t)st.st_size ==
	    XJ_HDR + (uint64_t)h->nslots * (per + h->slot_size)) {
		slot = (const struct xj_slot *)((const char *)map + XJ_HDR);
		rv = (const struct mbx_recv *)(slot + h->nslots);
		for (i = 0; i < h->nslots; i++)
			held += filled(slot[i].state, rv[i].uid);
	}
	munmap(map, st.st_size);
	return held;
}

/* A journal's source id: a random epoch, so that no run reuses an id. */
static uint64_t journal_epoch(void)
{
	uint64_t e;

	if (getrandom(&e, sizeof(e), 0) == sizeof(e))
		return e;
	return ((uint64_t)getpid() << 32) ^ now_ms() ^ (uint64_t)time(NULL);
}

static int journal_open(struct exporter *x)
{
	size_t per = sizeof(struct xj_slot) + sizeof(struct mbx_recv);
	char path[PATH_MAX], tok[MBX_NAME_LEN];
	uint32_t held;
	bool created;

	x->n = x->r->br->cfg.inflight;
	x->map_size = XJ_HDR + x->n * (per + x->max);
	if (route_file(x->r, "journal", path, sizeof(path)))
		return -ENAMETOOLONG;
	if (journal_foreign(path, 0, XJ_MAGIC)) {
		blog("%s: %s is the journal of another version of mbx-bridge",
		     x->r->subject, path);
		blog("%s: remove it to start afresh; what it holds is then lost",
		     x->r->subject);
		return -EBUSY;
	}
	held = journal_held(path, x->n, x->max);
	if (held) {
		blog("%s: %s holds %u unacknowledged messages of another inflight or max_msg_size",
		     x->r->subject, path, held);
		blog("%s: run with those to publish them, or remove the file to drop them",
		     x->r->subject);
		return -EBUSY;
	}
	x->map = journal_map(path, x->map_size, &created);
	if (!x->map)
		return -errno;
	x->h = x->map;
	x->slot = (struct xj_slot *)((char *)x->map + XJ_HDR);
	x->rv = (struct mbx_recv *)(x->slot + x->n);
	x->data = (char *)(x->rv + x->n);
	if (x->h->magic != XJ_MAGIC || x->h->nslots != x->n ||
	    x->h->slot_size != x->max) {
		if (!created && x->h->magic)
			blog("%s: journal %s had another geometry: started afresh",
			     x->r->subject, path);
		memset(x->map, 0, x->map_size);
		x->h->magic = XJ_MAGIC;
		x->h->nslots = x->n;
		x->h->slot_size = x->max;
		x->h->next_seq = 1;
		x->h->epoch = journal_epoch();
	}
	/* Named as the journal is: the same ids whatever the routes' order. */
	subject_token(x->r->port, tok, sizeof(tok));
	snprintf(x->src, sizeof(x->src), "%s.%s.%016" PRIx64,
		 x->r->br->cfg.name, tok, x->h->epoch);
	x->pub_ms = calloc(x->n, sizeof(*x->pub_ms));
	return x->pub_ms ? 0 : -ENOMEM;
}

/* The stream, retried with back-off while JetStream cannot answer. */
static int js_open(struct exporter *x)
{
	char stream[BRIDGE_SUBJECT_MAX + 8];
	unsigned int backoff = 250;
	bool waited = false;

	while (stream_ensure(x->r->br, x->r->subject, stream, sizeof(stream),
			     NULL)) {
		if (x->r->br->stop)
			return -EINTR;
		if (!waited)
			blog("%s: JetStream not ready; retrying with back-off",
			     x->r->subject);
		waited = true;
		sleep_ms(backoff);
		backoff = backoff < 4000 ? backoff * 2 : backoff;
	}
	if (waited)
		blog("%s: stream %s ready", x->r->subject, stream);
	return xconn_open(x);
}

/* Say at start when the port can hold messages the server cannot carry. */
static void warn_max_payload(struct exporter *x, natsConnection *nc)
{
	int64_t most = nc ? natsConnection_GetMaxPayload(nc) : 0;

	if (most > 0 && x->max + BRIDGE_META_MAX > (uint64_t)most)
		blog("%s: %s takes up to %zu bytes, NATS %lld: larger ones go to %s/aside",
		     x->r->subject, x->r->port, x->max, (long long)most,
		     x->r->br->cfg.state_dir);
}

/**
 * export_run() - the thread of one export route
 * @arg: the route, whose port was checked by export_check()
 *
 * Return: NULL.
 */
void *export_run(void *arg)
{
	struct route *r = arg;
	struct exporter x = { .r = r, .ack_lock = PTHREAD_MUTEX_INITIALIZER };
	struct mbx_port_info info;
	int ret;

	x.js_mode = r->br->cfg.mode == MODE_JETSTREAM;
	x.fd = mbx_port_open(MBX_DEV_AUTO, r->port, MBX_RECV | MBX_CLOEXEC);
	ret = x.fd < 0 ? x.fd : mbx_port_info(x.fd, &info);
	if (!ret) {
		x.max = info.max_msg_size;
		ret = journal_open(&x);
	}
	if (!ret && x.js_mode)
		ret = js_open(&x);
	if (!ret)
		ret = recover(&x);
	if (ret) {
		blog("export %s -> %s: cannot start: %s", r->port, r->subject,
		     strerror(-ret));
		r->br->stop = 2;
		return NULL;
	}
	warn_max_payload(&x, x.js_mode ? x.nc : r->br->nc);
	blog("export %s -> %s running (%s)", r->port, r->subject,
	     x.js_mode ? "jetstream" : "core");
	export_loop(&x);
	xconn_close(&x);
	journal_unmap(x.map, x.map_size);
	free(x.pub_ms);
	close(x.fd);
	return NULL;
}
