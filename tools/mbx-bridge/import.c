// SPDX-License-Identifier: GPL-2.0
/*
 * mbx-bridge: an import route - messages of a NATS subject are sent to a
 * local port, with their priority and tag restored from the headers.
 *
 * JetStream mode pulls from a durable consumer (pull.c, not libnats'
 * natsSubscription_Fetch(), which corrupts its heap in 3.4.1), at most as
 * many messages as the port has room for (none while it is full), sends
 * them, and acks each only after its send succeeded.  The stream sequences
 * sent are kept in a state file (mapped shared; seen.c), and before each
 * send batch the file records the batch's sequences and the port's "sent"
 * counter: a bridge killed mid-batch learns on restart, from how far that
 * counter moved, how much of the batch is in the port.  The file knows
 * which stream the sequences are of (by its creation time): a stream made
 * again numbers from 1, and the old one's are forgotten.  A consumer
 * deleted under a running importer (its stream deleted) is made again,
 * with the stream if need be (import_js.c).  A redelivery of a
 * sequence sent is acked and dropped; a redelivery of any other is sent,
 * in whatever order it comes (a pull lost with the connection, a queue
 * group member killed with messages pulled).  An exclusive (or fan-out)
 * importer recreates its consumer when it starts, from the first sequence
 * not known done (the old consumer's ack floor, or what was sent here), so
 * that what a killed bridge left unacked comes back first and in order.
 *
 * Core mode subscribes (a queue group unless fan-out) and counts the gaps
 * in each source's sequence (in Mbx-Meta) as lost; the last sequence seen
 * of each source is kept in the state file, so what was published while
 * this bridge was down (or killed) is counted when it comes back.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "import.h"

#define FETCH_WAIT_MS	1000

/*
 * Core mode: a gap in a source's sequence is a loss, counted; a message out
 * of the sequence is set aside, and logged (the first and every 1000th),
 * not counted (gaps.c).
 */
static void core_gap(struct importer *im, const struct msg_meta *meta)
{
	struct source *s = NULL;
	struct gap_seq g;
	uint64_t lost;
	int i;

	if (!meta->src || !meta->seq || meta->seq == UINT64_MAX)
		return;
	for (i = 0; i < MAX_SOURCES && im->src[i].name[0]; i++)
		if (!strcmp(im->src[i].name, meta->src))
			s = &im->src[i];
	if (!s) {
		s = &im->src[i < MAX_SOURCES ? i : MAX_SOURCES - 1];
		snprintf(s->name, sizeof(s->name), "%s", meta->src);
		s->last = meta->seq - 1;
		im->odd[s - im->src] = 0;
		if (s->last)
			blog("%s: first message of %s is seq %" PRIu64,
			     im->r->subject, meta->src, meta->seq);
	}
	g.last = s->last;
	g.odd = im->odd[s - im->src];
	switch (gap_step(&g, meta->seq, &lost)) {
	case GAP_NEXT:
		break;
	case GAP_LOST:
		stats_add(&im->r->c->lost, lost);
		blog("%s: %" PRIu64 " messages of %s lost (core mode) before seq %" PRIu64,
		     im->r->subject, lost, meta->src, meta->seq);
		break;
	case GAP_ODD:
		if (++im->odds % 1000 == 1)
			blog("%s: seq %" PRIu64 " of %s, whose last was %" PRIu64
			     ", is out of its sequence: not counted (%" PRIu64 " so far)",
			     im->r->subject, meta->seq, meta->src, g.last, im->odds);
		break;
	case GAP_RESYNC:
		blog("%s: %s's sequence goes on from seq %" PRIu64
		     " (its exporter's journal rolled back?), nothing counted",
		     im->r->subject, meta->src, meta->seq);
		break;
	}
	s->last = g.last;
	im->odd[s - im->src] = g.odd;
}

/*
 * Give up on @m, which cannot go into the port: publish it to the
 * dead-letter subject or, when even that cannot carry it (its payload and
 * the dead-letter headers over the server's max_payload), set it aside on
 * disk (aside.c; a redelivery is set aside again, under another name).
 * Return: 0 once done, and @m may be acked; -errno when it is not done,
 * and @m must stay unacked.
 */
static int give_up(struct importer *im, natsMsg *m, uint64_t seq,
		   const char *why)
{
	char tok[BRIDGE_SUBJECT_MAX], id[BRIDGE_SUBJECT_MAX + 64];
	static unsigned int n;
	int ret = dead_letter(im->r, m, why);

	if (ret != -EMSGSIZE)
		return ret;
	subject_token(im->r->subject, tok, sizeof(tok));
	snprintf(id, sizeof(id), "import-%s.%" PRIu64 ".%" PRIu64 "-%u", tok,
		 seq, now_ms(), __atomic_fetch_add(&n, 1, __ATOMIC_RELAXED));
	return aside_keep(im->r, m, id, why);
}

/*
 * admit()'s answer for a message that cannot go into the port: 0 once
 * given up on (JetStream: then acked; core: lost, and counted, when even
 * that failed), -1 when it stays unacked, to come back.
 */
static int reject(struct importer *im, natsMsg *m, uint64_t seq,
		  const char *why)
{
	if (!give_up(im, m, seq, why))
		return 0;
	if (im->js_mode)
		return -1;
	stats_add(&im->r->c->lost, 1);
	return 0;
}

/*
 * JetStream: whether a message with @meta's id was sent already (a copy
 * an exporter republished past the duplicate window; ids.c), counted as
 * deduplicated.  Either way @mark gets the id, to be marked once sent.
 */
static bool id_known(struct importer *im, const struct msg_meta *meta,
		     struct sent_mark *mark)
{
	struct ids *ids = &im->st->ids;

	mark->id_seq = meta->seq;
	mark->id_src = meta->seq ? ids_find(ids, meta->src, im->batch) : -1;
	if (mark->id_src < 0 || !ids_has(ids, mark->id_src, meta->seq))
		return false;
	stats_add(&im->r->c->deduplicated, 1);
	return true;
}

/*
 * Check one message; 1 when it is to be sent (ent filled), 0 when it was
 * dropped as a duplicate or dead-lettered (and may be acked), -1 when it
 * is left unacked, to come back later: its sequence is beyond what the set
 * of sequences sent can hold until the ack floor moves, or its dead letter
 * failed.
 */
static int admit(struct importer *im, natsMsg *m, struct sent_mark *mark,
		 struct mbx_send *ent)
{
	uint64_t seq = mark->seq;
	struct seen *seen = &im->st->seen;
	struct route *r = im->r;
	struct msg_meta meta;
	char why[96];

	if (im->js_mode) {
		if (seen_has(seen, seq)) {
			stats_add(&r->c->deduplicated, 1);
			return 0;
		}
		if (seq - seen->base > SEEN_WINDOW / 2 &&
		    now_ms() - im->floor_ms >= 1000)
			ack_floor(im);
		if (!seen_fits(seen, seq))
			return -1;
	}
	if (meta_from_headers(m, &meta))
		return reject(im, m, seq, "malformed mailbox headers");
	if (!im->js_mode)
		core_gap(im, &meta);
	else if (id_known(im, &meta, mark))
		return 0;
	if ((uint32_t)natsMsg_GetDataLength(m) > im->info.max_msg_size) {
		snprintf(why, sizeof(why), "larger than the port's max_msg_size %u",
			 im->info.max_msg_size);
		return reject(im, m, seq, why);
	}
	memset(ent, 0, sizeof(*ent));
	ent->buf = (uintptr_t)natsMsg_GetData(m);
	ent->len = natsMsg_GetDataLength(m);
	ent->prio = meta.prio;
	ent->tag = meta.tag;
	return 1;
}

static void ack_msgs(struct importer *im, natsMsg **msgs, int n)
{
	int i;

	for (i = 0; i < n && im->js_mode; i++)
		if (pull_ack(&im->pull, msgs[i], false) == 0)
			stats_add(&im->r->c->acked, 1);
}

/* A send the kernel refuses for this message alone: dead letter, go on. */
static bool refused(int err)
{
	return err == -EMSGSIZE || err == -EINVAL;
}

/* Record @mark's message as sent: its stream sequence and its id. */
static void mark_one(struct importer *im, const struct sent_mark *mark)
{
	seen_mark(&im->st->seen, mark->seq);
	ids_mark(&im->st->ids, mark->id_src, mark->id_seq);
}

static void mark_sent(struct importer *im, natsMsg **msgs,
		      const struct sent_mark *marks, int from, int n)
{
	int i;

	for (i = from; i < from + n && im->js_mode; i++)
		mark_one(im, &marks[i]);
	stats_add(&im->r->c->sent, n);
	ack_msgs(im, msgs + from, n);
}

/*
 * The kernel refused this one message: it goes to the dead letter, and the
 * crash check counts it as if it had reached the port.  JetStream: until
 * that succeeds, nothing after it is sent.  Return: 0, or -EINTR when the
 * bridge stops first (the message then stays unacked).
 */
static int skip_one(struct importer *im, natsMsg *m,
		    const struct sent_mark *mark, int err)
{
	while (give_up(im, m, mark->seq, strerror(-err))) {
		if (!im->js_mode) {
			stats_add(&im->r->c->lost, 1);
			return 0;
		}
		if (im->r->br->stop)
			return -EINTR;
		sleep_ms(1000);
	}
	if (im->js_mode) {
		im->st->sent_before--;
		mark_one(im, mark);
	}
	ack_msgs(im, &m, 1);
	return 0;
}

/* While the port is full: tell JetStream the messages are being worked on. */
static void wait_room(struct importer *im, natsMsg **msgs, int from, int k,
		      uint64_t *last)
{
	struct pollfd p = { .fd = im->fd, .events = POLLOUT };
	int i;

	poll(&p, 1, 500);
	if (!im->js_mode || now_ms() - *last < im->r->br->cfg.ack_wait_s * 300ULL)
		return;
	for (i = from; i < k; i++)
		pull_ack(&im->pull, msgs[i], true);
	*last = now_ms();
}

/* Send @k admitted messages in order; the journal covers a crash. */
static void send_all(struct importer *im, struct mbx_send *ents,
		     natsMsg **msgs, const struct sent_mark *marks, int k)
{
	uint64_t last = now_ms();
	int done = 0, ret;

	if (im->js_mode) {
		/* Without the counter a crash could not be told apart. */
		ret = mbx_port_info(im->fd, &im->info);
		if (ret) {
			stats_add(&im->r->c->errors, 1);
			blog("%s: %s: %s; the batch comes back", im->r->subject,
			     im->r->port, strerror(-ret));
			return;
		}
		im->st->sent_before = im->info.sent;
		memcpy(im->st->marks, marks, k * sizeof(*marks));
		__atomic_store_n(&im->st->pending, k, __ATOMIC_SEQ_CST);
	}
	while (done < k && !im->r->br->stop) {
		ret = mbx_send_batch(im->fd, ents + done, k - done, MBX_NONBLOCK);
		if (ret > 0) {
			mark_sent(im, msgs, marks, done, ret);
			done += ret;
		} else if (ret == -EAGAIN) {
			wait_room(im, msgs, done, k, &last);
		} else if (refused(ret)) {
			if (skip_one(im, msgs[done], &marks[done], ret))
				break;
			done++;
		} else {
			stats_add(&im->r->c->errors, 1);
			blog("%s: send to %s failed: %s; retrying", im->r->subject,
			     im->r->port, strerror(-ret));
			sleep_ms(500);
		}
	}
	if (im->js_mode)
		__atomic_store_n(&im->st->pending, 0, __ATOMIC_SEQ_CST);
}

/*
 * Whether @mark's message is already among the first @k of this batch,
 * by its stream sequence (a redelivery) or by its id (a republished copy).
 */
static bool in_batch(const struct sent_mark *marks, int k,
		     const struct sent_mark *mark, bool by_id)
{
	int i;

	for (i = 0; i < k; i++) {
		if (!by_id && marks[i].seq == mark->seq)
			return true;
		if (by_id && mark->id_src >= 0 &&
		    marks[i].id_src == mark->id_src &&
		    marks[i].id_seq == mark->id_seq)
			return true;
	}
	return false;
}

/*
 * JetStream: whether @m is a delivery of this importer's consumer, its
 * reply subject the ack of our stream and durable; @mark->seq is then its
 * stream sequence.  Anything else on the pull's inbox (published there by
 * someone who learned it) is dropped, neither sent nor acked.
 */
static bool js_delivery(struct importer *im, natsMsg *m,
			struct sent_mark *mark)
{
	static uint64_t strays;
	jsMsgMetaData *md = NULL;
	bool ours = false;

	if (natsMsg_GetMetaData(&md, m) == NATS_OK) {
		ours = md->Stream && !strcmp(md->Stream, im->stream) &&
		       md->Consumer && !strcmp(md->Consumer, im->durable) &&
		       md->Sequence.Stream;
		mark->seq = md->Sequence.Stream;
		if (ours && md->NumDelivered > 1)
			stats_add(&im->r->c->redelivered, 1);
		jsMsgMetaData_Destroy(md);
	}
	if (!ours) {
		uint64_t k = __atomic_add_fetch(&strays, 1, __ATOMIC_RELAXED);

		stats_add(&im->r->c->errors, 1);
		if (k % 1000 == 1)
			blog("%s: a stray message on the pull's inbox, dropped (%" PRIu64 ")",
			     im->r->subject, k);
	}
	return ours;
}

static void deliver(struct importer *im, natsMsg **list, int n)
{
	struct sent_mark marks[BRIDGE_BATCH];
	struct mbx_send ents[BRIDGE_BATCH];
	natsMsg *msgs[BRIDGE_BATCH];
	int i, k = 0, ret;

	im->batch = ++im->st->ids.batch;
	for (i = 0; i < n; i++) {
		struct sent_mark *mark = &marks[k];

		memset(mark, 0, sizeof(*mark));
		mark->id_src = -1;
		stats_add(&im->r->c->received, 1);
		if (im->js_mode && !js_delivery(im, list[i], mark))
			continue;
		/* A redelivery in the batch of its first copy: the first acks. */
		if (im->js_mode && in_batch(marks, k, mark, false)) {
			stats_add(&im->r->c->deduplicated, 1);
			continue;
		}
		ret = admit(im, list[i], mark, &ents[k]);
		/* So is a second copy of one id. */
		if (ret > 0 && im->js_mode && in_batch(marks, k, mark, true)) {
			stats_add(&im->r->c->deduplicated, 1);
			ret = 0;
		}
		if (ret > 0)
			msgs[k++] = list[i];
		else if (!ret)
			ack_msgs(im, &list[i], 1);
	}
	if (k)
		send_all(im, ents, msgs, marks, k);
}

/* A bridge killed mid-batch: the port's counter says how much went in. */
static void recover(struct importer *im)
{
	struct ij_state *st = im->st;
	uint64_t moved, i;

	if (!st->pending)
		return;
	/* Nothing trusted: a port made anew counts from 0 again. */
	if (st->pending > BRIDGE_BATCH)
		st->pending = BRIDGE_BATCH;
	moved = im->info.sent >= st->sent_before ?
		im->info.sent - st->sent_before : 0;
	if (moved > st->pending)
		moved = st->pending;
	for (i = 0; i < moved; i++)
		mark_one(im, &st->marks[i]);
	blog("%s: a killed run was sending %u messages, %" PRIu64 " reached %s",
	     im->r->subject, st->pending, moved, im->r->port);
	blog("%s: every sequence up to %" PRIu64 " delivered", im->r->subject,
	     st->seen.base);
	st->pending = 0;
}

static uint32_t room(struct importer *im)
{
	uint32_t cap, n = im->r->br->cfg.inflight;

	if (mbx_port_info(im->fd, &im->info))
		return 1;
	cap = im->info.capacity ? im->info.capacity : 1;
	cap = im->info.queued >= cap ? 0 : cap - im->info.queued;
	if (n > BRIDGE_BATCH)
		n = BRIDGE_BATCH;
	return cap < n ? cap : n;
}

/*
 * Whether pulls failing so (@got, @fails in a row) mean that the consumer
 * is gone, its stream deleted (and perhaps made again): JetStream says
 * so, or no pull has worked for a while.
 */
static bool consumer_gone(struct importer *im, int got, unsigned int fails)
{
	return (got == -EAGAIN && strstr(im->pull.why, "Consumer Deleted")) ||
	       fails >= 10;
}

static void js_loop(struct importer *im)
{
	struct pollfd p = { .fd = im->fd, .events = POLLOUT };
	unsigned int backoff = 100, fails = 0;
	natsMsg *list[BRIDGE_BATCH];
	int i, got;

	while (!im->r->br->stop) {
		uint32_t n = room(im);

		if (!n) {	/* full: pull nothing until there is room */
			poll(&p, 1, 200);
			continue;
		}
		got = pull_fetch(&im->pull, list, n, FETCH_WAIT_MS);
		if (got > 0) {
			deliver(im, list, got);
			for (i = 0; i < got; i++)
				natsMsg_Destroy(list[i]);
			backoff = 100;
			fails = 0;
		} else if (got < 0) {
			stats_add(&im->r->c->errors, 1);
			blog("%s: pull failed: %s; retrying in %u ms",
			     im->r->subject, got == -EAGAIN ? im->pull.why :
			     "cannot send the request", backoff);
			if (consumer_gone(im, got, ++fails)) {
				blog("%s: subscribing again", im->r->subject);
				/*
				 * Not at once: nats-server 2.9 still removes a
				 * deleted stream's files for a moment, and a
				 * stream made again meanwhile fails to store.
				 */
				sleep_ms(2000);
				pull_close(&im->pull);
				if (im->js)
					jsCtx_Destroy(im->js);
				im->js = NULL;
				if (js_subscribe_retry(im))
					return;
				fails = 0;
				continue;
			}
			sleep_ms(backoff);
			backoff = backoff < 2000 ? backoff * 2 : backoff;
		}
	}
}

static void core_loop(struct importer *im)
{
	natsMsg *list[BRIDGE_BATCH];
	int n, i, pending, max;
	int64_t dropped;

	while (!im->r->br->stop) {
		n = 0;
		if (natsSubscription_NextMsg(&list[0], im->sub, 200) == NATS_OK) {
			n = 1;
			if (natsSubscription_GetPending(im->sub, &pending, NULL) != NATS_OK)
				pending = 0;
			max = pending ? (int)room(im) : 1;	/* one ioctl a batch */
			while (n < pending + 1 && n < max &&
			       natsSubscription_NextMsg(&list[n], im->sub, 1) == NATS_OK)
				n++;
			deliver(im, list, n);
			for (i = 0; i < n; i++)
				natsMsg_Destroy(list[i]);
		}
		if (natsSubscription_GetDropped(im->sub, &dropped) == NATS_OK &&
		    dropped > im->dropped) {
			stats_add(&im->r->c->lost, dropped - im->dropped);
			blog("%s: %" PRId64 " messages dropped (slow consumer): lost",
			     im->r->subject, dropped - im->dropped);
			im->dropped = dropped;
		}
	}
}

static int core_subscribe(struct importer *im)
{
	struct route *r = im->r;
	char group[BRIDGE_SUBJECT_MAX + 8], tok[BRIDGE_SUBJECT_MAX];
	natsStatus s;

	subject_token(r->subject, tok, sizeof(tok));
	snprintf(group, sizeof(group), "mbx-%s", tok);
	if (r->fanout || r->exclusive)
		s = natsConnection_SubscribeSync(&im->sub, r->br->nc, r->subject);
	else
		s = natsConnection_QueueSubscribeSync(&im->sub, r->br->nc,
						      r->subject, group);
	if (s == NATS_OK)
		s = natsSubscription_SetPendingLimits(im->sub, PENDING_MSGS,
						      PENDING_BYTES);
	return s == NATS_OK ? 0 : -EIO;
}

static int import_open(struct importer *im)
{
	char path[PATH_MAX];
	bool created;
	int ret;

	im->fd = mbx_port_open(MBX_DEV_AUTO, im->r->port, MBX_SEND | MBX_CLOEXEC);
	if (im->fd < 0)
		return im->fd;
	ret = mbx_port_info(im->fd, &im->info);
	if (ret)
		return ret;
	if (route_file(im->r, "state", path, sizeof(path)))
		return -ENAMETOOLONG;
	/* Made anew, it would let redeliveries of what was sent go again. */
	if (journal_foreign(path, sizeof(*im->st), IJ_MAGIC)) {
		blog("%s: %s is the state of another version of mbx-bridge",
		     im->r->subject, path);
		blog("%s: remove it to start afresh; redeliveries may then be sent twice",
		     im->r->subject);
		return -EBUSY;
	}
	im->st = journal_map(path, sizeof(*im->st), &created);
	if (!im->st)
		return -errno;
	im->st->magic = IJ_MAGIC;
	im->src = im->st->src;
	recover(im);
	return im->js_mode ? js_subscribe_retry(im) : core_subscribe(im);
}

/**
 * import_run() - the thread of one import route
 * @arg: the route
 *
 * Return: NULL.
 */
void *import_run(void *arg)
{
	struct route *r = arg;
	struct importer im = { .r = r, .fd = -1,
			       .js_mode = r->br->cfg.mode == MODE_JETSTREAM };
	int ret = import_open(&im);

	if (ret) {
		blog("import %s -> %s: cannot start: %s", r->subject, r->port,
		     strerror(-ret));
		r->br->stop = 2;
	} else {
		blog("import %s -> %s running (%s%s, delivered up to sequence %" PRIu64 ")",
		     r->subject, r->port, im.js_mode ? "jetstream" : "core",
		     r->fanout ? ", fan-out" : r->exclusive ? ", exclusive" :
		     ", queue group", im.st->seen.base);
		if (im.js_mode)
			js_loop(&im);
		else
			core_loop(&im);
	}
	natsSubscription_Destroy(im.sub);
	pull_close(&im.pull);
	if (im.js)
		jsCtx_Destroy(im.js);
	if (im.st)
		journal_unmap(im.st, sizeof(*im.st));
	if (im.fd >= 0)
		close(im.fd);
	return NULL;
}
