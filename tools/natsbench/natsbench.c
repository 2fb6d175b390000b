// SPDX-License-Identifier: GPL-2.0
/*
 * mbx-natsbench: the measuring end of `make bench-bridge` - raw libnats
 * publishers and subscribers, and the mailbox ports on both sides of a
 * pair of bridges, timed the same way so that the two can be compared.
 *
 *   mbx-natsbench raw core|js SIZE COUNT [-r PER_SECOND] [-s URL] [-H|-M]
 *   mbx-natsbench port SRC DST SIZE COUNT [-r PER_SECOND]
 *
 * raw: one connection publishes COUNT messages of SIZE bytes (core, or
 * JetStream with async publishes, 256 in flight, into a fresh stream) and
 * another receives them (a subscription, or a pull consumer pulling 64 at
 * a time and acking each, with the importer's own pull.c: libnats 3.4.1's
 * natsSubscription_Fetch() corrupts its heap) - what an exporting and an
 * importing bridge do, without the ports.  port: one thread sends COUNT messages to port
 * SRC, another receives them from port DST, with the bridges in between.
 * Each message carries its send time (CLOCK_MONOTONIC); the output line is
 *
 *   natsbench WHAT received N msgs_per_s X p50_us Y p99_us Z
 *
 * where msgs/s is N over first send to last receipt.  -r paces the sends
 * (for latency without queueing); -H gives raw messages the eight Mbx-
 * headers bridges added before Mbx-Meta, -M the one Mbx-Meta header they
 * add now, set by the publisher and read by the subscriber (what the
 * headers cost); exit status 0 if all N arrived.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <nats/nats.h>
#include <mailbox.h>

#include "../mbx-bridge/bridge.h"

#define SUBJECT		"bench.raw"
#define STREAM		"BENCHRAW"
#define IDLE_NS		(15ULL * 1000000000ULL)
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

struct run {
	bool js, port, hdrs, meta;
	const char *url, *src, *dst;
	size_t size;
	unsigned long count;
	unsigned int rate;
	uint64_t *lat, first_tx, last_rx;
	unsigned long got;
	natsConnection *pub_nc, *sub_nc;
	natsSubscription *sub;
	struct pull pull;
	jsCtx *pub_js, *sub_js;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* pull.c's clock */
uint64_t now_ms(void)
{
	return now_ns() / 1000000;
}

/* Paced: sleep until message @i is due. */
static void pace(struct run *r, unsigned long i, uint64_t t0)
{
	uint64_t due, now;

	if (!r->rate)
		return;
	due = t0 + i * 1000000000ULL / r->rate;
	now = now_ns();
	if (due > now)
		usleep((due - now) / 1000);
}

static void stamp(char *buf, size_t size)
{
	uint64_t t = now_ns();

	memcpy(buf, &t, sizeof(t) < size ? sizeof(t) : size);
}

static const char * const hdr_keys[] = {
	"Mbx-Prio", "Mbx-Tag", "Mbx-Pid", "Mbx-Uid", "Mbx-Host", "Mbx-Src",
	"Mbx-Seq", "Mbx-Id",
};

/* -H: a message with the headers of a bridge's, numbered @i. */
static natsMsg *hdr_msg(struct run *r, char *buf, unsigned long i)
{
	natsMsg *m = NULL;
	char v[64];
	size_t k;

	if (natsMsg_Create(&m, SUBJECT, NULL, buf, r->size) != NATS_OK)
		return NULL;
	for (k = 0; k < ARRAY_SIZE(hdr_keys); k++) {
		snprintf(v, sizeof(v), "%lu", i * 7 + k);
		natsMsgHeader_Set(m, hdr_keys[k], v);
	}
	return m;
}

/* -M: the one header of a bridge's, as meta.c writes it. */
static natsMsg *meta_msg(struct run *r, char *buf, unsigned long i)
{
	natsMsg *m = NULL;
	char v[160];

	if (natsMsg_Create(&m, SUBJECT, NULL, buf, r->size) != NATS_OK)
		return NULL;
	snprintf(v, sizeof(v), "1 %lu %lu %lu 1000 %lu natsbench nb.0.0123456789abcdef",
		 i % 10, i * 7, i % 65536, i);
	natsMsgHeader_Set(m, "Mbx-Meta", v);
	return m;
}

static void hdr_read(natsMsg *m)
{
	const char *v;
	size_t k;

	if (natsMsgHeader_Get(m, "Mbx-Meta", &v) == NATS_OK) {
		(void)strtoull(v, NULL, 10);
		return;
	}
	for (k = 0; k < ARRAY_SIZE(hdr_keys); k++)
		if (natsMsgHeader_Get(m, hdr_keys[k], &v) == NATS_OK)
			(void)strtoull(v, NULL, 10);
}

static void took(struct run *r, const void *data, size_t len)
{
	uint64_t t = now_ns(), sent = 0;

	if (len >= sizeof(sent))
		memcpy(&sent, data, sizeof(sent));
	if (r->got < r->count)
		r->lat[r->got++] = sent && t > sent ? t - sent : 0;
	r->last_rx = t;
}

/* --- raw libnats ------------------------------------------------------- */

static natsStatus raw_connect(struct run *r, natsConnection **nc)
{
	return natsConnection_ConnectTo(nc, r->url);
}

static natsStatus raw_stream(struct run *r)
{
	const char *subj = SUBJECT;
	jsStreamConfig sc;
	jsErrCode jerr;

	js_DeleteStream(r->pub_js, STREAM, NULL, &jerr);
	jsStreamConfig_Init(&sc);
	sc.Name = STREAM;
	sc.Subjects = &subj;
	sc.SubjectsLen = 1;
	sc.Storage = js_FileStorage;
	sc.Duplicates = 120LL * 1000000000LL;
	return js_AddStream(NULL, r->pub_js, &sc, NULL, &jerr);
}

static natsStatus raw_setup(struct run *r)
{
	jsConsumerConfig cc;
	jsOptions jo;
	natsStatus s;

	s = raw_connect(r, &r->pub_nc);
	if (s == NATS_OK)
		s = raw_connect(r, &r->sub_nc);
	if (s != NATS_OK || !r->js) {
		if (s == NATS_OK)
			s = natsConnection_SubscribeSync(&r->sub, r->sub_nc, SUBJECT);
		if (s == NATS_OK)
			s = natsSubscription_SetPendingLimits(r->sub, 1 << 20, 1 << 30);
		return s == NATS_OK ? natsConnection_Flush(r->sub_nc) : s;
	}
	jsOptions_Init(&jo);
	jo.PublishAsync.MaxPending = 256;	/* the bridge's inflight */
	jo.PublishAsync.StallWait = 30000;
	s = natsConnection_JetStream(&r->pub_js, r->pub_nc, &jo);
	if (s == NATS_OK)
		s = natsConnection_JetStream(&r->sub_js, r->sub_nc, NULL);
	if (s == NATS_OK)
		s = raw_stream(r);
	jsConsumerConfig_Init(&cc);
	cc.Durable = "bench";
	cc.AckPolicy = js_AckExplicit;
	cc.MaxAckPending = 1024;
	if (s == NATS_OK)
		s = js_AddConsumer(NULL, r->sub_js, STREAM, &cc, NULL, NULL);
	if (s == NATS_OK && pull_open(&r->pull, r->sub_nc, STREAM, "bench"))
		s = NATS_ERR;
	return s;
}

static void *raw_rx(void *arg)
{
	struct run *r = arg;
	uint64_t idle = now_ns() + IDLE_NS;

	while (r->got < r->count && now_ns() < idle) {
		natsMsg *m = NULL, *list[64];
		int i, n;

		if (!r->js) {
			if (natsSubscription_NextMsg(&m, r->sub, 200) != NATS_OK)
				continue;
			if (r->hdrs || r->meta)
				hdr_read(m);
			took(r, natsMsg_GetData(m), natsMsg_GetDataLength(m));
			natsMsg_Destroy(m);
		} else {
			n = pull_fetch(&r->pull, list, 64, 1000);
			if (n <= 0)
				continue;
			for (i = 0; i < n; i++) {
				if (r->hdrs || r->meta)
					hdr_read(list[i]);
				took(r, natsMsg_GetData(list[i]),
				     natsMsg_GetDataLength(list[i]));
				pull_ack(&r->pull, list[i], false);
				natsMsg_Destroy(list[i]);
			}
		}
		idle = now_ns() + IDLE_NS;
	}
	return NULL;
}

/* One publish; a full async window (stalled) is waited out, not an error. */
static natsStatus pub_one(struct run *r, char *buf, unsigned long i)
{
	natsMsg *m = r->hdrs ? hdr_msg(r, buf, i) :
		     r->meta ? meta_msg(r, buf, i) : NULL;
	natsStatus s;
	int tries = 0;

	if ((r->hdrs || r->meta) && !m)
		return NATS_NO_MEMORY;
	if (!r->js) {
		s = m ? natsConnection_PublishMsg(r->pub_nc, m) :
			natsConnection_Publish(r->pub_nc, SUBJECT, buf, r->size);
		natsMsg_Destroy(m);
		return s;
	}
	do {
		s = m ? js_PublishMsgAsync(r->pub_js, &m, NULL) :
			js_PublishAsync(r->pub_js, SUBJECT, buf, r->size, NULL);
	} while (s == NATS_TIMEOUT && ++tries < 10);
	natsMsg_Destroy(m);	/* NULL once the library took it */
	return s;
}

static int raw_tx(struct run *r, char *buf)
{
	uint64_t t0 = now_ns();
	unsigned long i;
	natsStatus s = NATS_OK;

	r->first_tx = t0;
	for (i = 0; i < r->count && s == NATS_OK; i++) {
		pace(r, i, t0);
		stamp(buf, r->size);
		s = pub_one(r, buf, i);
	}
	if (s == NATS_OK && r->js)
		s = js_PublishAsyncComplete(r->pub_js, NULL);
	if (s == NATS_OK)
		s = natsConnection_Flush(r->pub_nc);
	if (s != NATS_OK)
		fprintf(stderr, "natsbench: publish: %s\n", natsStatus_GetText(s));
	return s == NATS_OK ? 0 : -EIO;
}

/* --- ports, bridges in between ---------------------------------------- */

static void *port_rx(void *arg)
{
	struct run *r = arg;
	char *buf = malloc(r->size + 64);
	int fd = mbx_port_open(MBX_DEV_AUTO, r->dst, MBX_RECV);
	ssize_t n;

	while (fd >= 0 && buf && r->got < r->count) {
		n = mbx_recv_timed(fd, buf, r->size + 64, NULL, IDLE_NS);
		if (n < 0)
			break;
		took(r, buf, n);
	}
	free(buf);
	return NULL;
}

static int port_tx(struct run *r, char *buf)
{
	int fd = mbx_port_open(MBX_DEV_AUTO, r->src, MBX_SEND), ret = 0;
	uint64_t t0 = now_ns();
	unsigned long i;

	if (fd < 0)
		return fd;
	r->first_tx = t0;
	for (i = 0; i < r->count && !ret; i++) {
		pace(r, i, t0);
		stamp(buf, r->size);
		ret = mbx_send(fd, buf, r->size, 0);
	}
	close(fd);
	return ret;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void report(struct run *r, const char *what)
{
	double secs = (r->last_rx - r->first_tx) / 1e9;

	qsort(r->lat, r->got, sizeof(*r->lat), cmp_u64);
	printf("natsbench %s received %lu msgs_per_s %.0f p50_us %.0f p99_us %.0f\n",
	       what, r->got, r->got && secs > 0 ? r->got / secs : 0,
	       r->got ? r->lat[r->got / 2] / 1e3 : 0,
	       r->got ? r->lat[r->got * 99 / 100] / 1e3 : 0);
}

static int parse(struct run *r, int argc, char **argv)
{
	int i, pos = 0;
	char *p[4];

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-r") && i + 1 < argc)
			r->rate = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "-s") && i + 1 < argc)
			r->url = argv[++i];
		else if (!strcmp(argv[i], "-H"))
			r->hdrs = true;
		else if (!strcmp(argv[i], "-M"))
			r->meta = true;
		else if (pos < 4)
			p[pos++] = argv[i];
	}
	if (r->port && pos == 4) {
		r->src = p[0];
		r->dst = p[1];
	} else if (!r->port && pos == 3 && (!strcmp(p[0], "core") ||
					     !strcmp(p[0], "js"))) {
		r->js = !strcmp(p[0], "js");
	} else {
		return -EINVAL;
	}
	r->size = strtoul(p[pos - 2], NULL, 0);
	r->count = strtoul(p[pos - 1], NULL, 0);
	return r->size >= 8 && r->count ? 0 : -EINVAL;
}

int main(int argc, char **argv)
{
	struct run r = { .url = "nats://127.0.0.1:4222" };
	char what[160], *buf;
	pthread_t rx;
	int ret;

	r.port = argc > 1 && !strcmp(argv[1], "port");
	if (argc < 2 || (!r.port && strcmp(argv[1], "raw")) ||
	    parse(&r, argc - 2, argv + 2)) {
		fputs("usage: mbx-natsbench raw core|js SIZE COUNT [-r PER_SECOND] [-s URL]\n"
		      "                           [-H|-M]\n"
		      "       mbx-natsbench port SRC DST SIZE COUNT [-r PER_SECOND]\n",
		      stderr);
		return 2;
	}
	r.lat = calloc(r.count, sizeof(*r.lat));
	buf = calloc(1, r.size);
	if (!r.lat || !buf || (!r.port && raw_setup(&r) != NATS_OK)) {
		fprintf(stderr, "natsbench: set-up failed\n");
		return 1;
	}
	pthread_create(&rx, NULL, r.port ? port_rx : raw_rx, &r);
	ret = r.port ? port_tx(&r, buf) : raw_tx(&r, buf);
	pthread_join(rx, NULL);
	snprintf(what, sizeof(what), "%s %s size %zu count %lu rate %u",
		 r.port ? "bridge" : r.hdrs ? "raw+headers" :
		 r.meta ? "raw+meta" : "raw",
		 r.port ? "-" : r.js ? "js" : "core",
		 r.size, r.count, r.rate);
	report(&r, what);
	/* The next raw run deletes the stream; the process exit frees the rest. */
	return !ret && r.got == r.count ? 0 : 1;
}
