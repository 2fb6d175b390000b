// SPDX-License-Identifier: GPL-2.0
/*
 * mbx-bridge: the NATS side shared by every route - the connection with
 * its reconnect back-off and the log lines and counters of its state
 * changes, the JetStream stream behind a subject, and small helpers
 * (subject tokens, clocks).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bridge.h"

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* A subject or port name as one token: letters, digits, '-' and '_'. */
void subject_token(const char *in, char *out, size_t size)
{
	size_t i;

	for (i = 0; in[i] && i + 1 < size; i++) {
		char ch = in[i];
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			  (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';

		out[i] = ok ? ch : '_';
	}
	out[i] = '\0';
}

static void on_disconnected(natsConnection *nc, void *closure)
{
	struct bridge *br = closure;

	if (br->stats)
		stats_add(&br->stats->disconnects, 1);
	if (!br->stop)
		stats_state(br, "disconnected");
}

static void on_reconnected(natsConnection *nc, void *closure)
{
	struct bridge *br = closure;
	char url[256] = "";

	natsConnection_GetConnectedUrl(nc, url, sizeof(url));
	if (br->stats) {
		stats_add(&br->stats->reconnects, 1);
		snprintf(br->stats->state, sizeof(br->stats->state),
			 "connected");
	}
	blog("state: connected again to %s", url);
}

static void on_error(natsConnection *nc, natsSubscription *sub,
		     natsStatus s, void *closure)
{
	blog("NATS error: %s", natsStatus_GetText(s));
}

static natsStatus bridge_options(struct bridge *br, natsOptions **o,
				 bool reconnect)
{
	natsStatus s = natsOptions_Create(o);
	const char *urls[16];
	char list[sizeof(br->cfg.servers)], *save, *u;
	int n = 0;

	snprintf(list, sizeof(list), "%s", br->cfg.servers);
	for (u = strtok_r(list, ",", &save); u && n < 16;
	     u = strtok_r(NULL, ",", &save))
		urls[n++] = u;
	if (s == NATS_OK)
		s = natsOptions_SetServers(*o, urls, n);
	if (s == NATS_OK)
		s = natsOptions_SetName(*o, br->cfg.name);
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(*o, 2000);
	if (s == NATS_OK)
		s = natsOptions_SetErrorHandler(*o, on_error, br);
	if (s == NATS_OK && !reconnect)
		return natsOptions_SetAllowReconnect(*o, false);
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(*o, -1);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectWait(*o, 250);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectJitter(*o, 250, 1000);
	if (s == NATS_OK)
		s = natsOptions_SetDisconnectedCB(*o, on_disconnected, br);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectedCB(*o, on_reconnected, br);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectBufSize(*o, 64 * 1024 * 1024);
	return s;
}

/**
 * bridge_connect() - connect to the configured servers
 * @br: the bridge
 *
 * Tries for connect-wait seconds, then gives up with a clear message.
 * Once connected, a lost connection is re-established forever, with
 * back-off and jitter, by libnats.
 *
 * Return: 0 or -EHOSTUNREACH.
 */
int bridge_connect(struct bridge *br)
{
	uint64_t deadline = now_ms() + br->cfg.connect_wait_s * 1000ULL;
	natsOptions *o = NULL;
	natsStatus s = bridge_options(br, &o, true);
	unsigned int wait = 100;

	while (s == NATS_OK && !br->stop) {
		s = natsConnection_Connect(&br->nc, o);
		if (s == NATS_OK || now_ms() >= deadline)
			break;
		sleep_ms(wait);
		wait = wait < 2000 ? wait * 2 : wait;
		s = NATS_OK;
	}
	natsOptions_Destroy(o);
	if (br->stop && !br->nc)
		return -EINTR;	/* a signal while connecting */
	if (s != NATS_OK || !br->nc) {
		fprintf(stderr, "mbx-bridge: cannot connect to NATS at %s within %u s: %s\n",
			br->cfg.servers, br->cfg.connect_wait_s,
			natsStatus_GetText(s));
		return -EHOSTUNREACH;
	}
	stats_state(br, "connected");
	return 0;
}

/**
 * bridge_connect_once() - one connection that is never re-established
 * @br: the bridge
 * @nc: out: the connection
 *
 * For a JetStream exporter's publishes: when this connection drops it is
 * closed, so nothing published afterwards can be buffered by libnats and
 * sent later, out of order, on a new connection.
 *
 * Return: NATS_OK or the status of the failed attempt.
 */
natsStatus bridge_connect_once(struct bridge *br, natsConnection **nc)
{
	natsOptions *o = NULL;
	natsStatus s = bridge_options(br, &o, false);

	if (s == NATS_OK)
		s = natsConnection_Connect(nc, o);
	natsOptions_Destroy(o);
	return s;
}

void bridge_disconnect(struct bridge *br)
{
	if (br->name_sub)
		natsSubscription_Destroy(br->name_sub);
	br->name_sub = NULL;
	if (br->nc) {
		natsConnection_FlushTimeout(br->nc, 1000);
		natsConnection_Destroy(br->nc);
		br->nc = NULL;
	}
}

/**
 * stream_ensure() - the JetStream stream that holds @subject
 * @br:      the bridge (connected)
 * @subject: the subject
 * @name:    out: the stream's name, MBX_<subject as a token>
 * @size:    room in @name
 * @created: out, unless NULL: when the stream was made (ns since the
 *           epoch), which tells a stream made again under the same name
 *
 * Creates it (file storage, the configured replicas, a two-minute
 * deduplication window) unless it exists.
 *
 * Return: 0 or -EIO after a log line.
 */
int stream_ensure(struct bridge *br, const char *subject, char *name,
		  size_t size, int64_t *created)
{
	char tok[BRIDGE_SUBJECT_MAX];
	jsStreamInfo *si = NULL;
	jsStreamConfig sc;
	jsErrCode jerr = 0;
	natsStatus s;
	jsCtx *js;

	subject_token(subject, tok, sizeof(tok));
	snprintf(name, size, "MBX_%s", tok);
	s = natsConnection_JetStream(&js, br->nc, NULL);
	if (s != NATS_OK)
		return -EIO;
	s = js_GetStreamInfo(&si, js, name, NULL, &jerr);
	if (s == NATS_NOT_FOUND) {
		jsStreamConfig_Init(&sc);
		sc.Name = name;
		sc.Subjects = &subject;
		sc.SubjectsLen = 1;
		sc.Storage = js_FileStorage;
		sc.Replicas = br->cfg.replicas;
		sc.Duplicates = 120LL * 1000000000LL;
		s = js_AddStream(&si, js, &sc, NULL, &jerr);
		if (s != NATS_OK)	/* another bridge may have made it */
			s = js_GetStreamInfo(&si, js, name, NULL, &jerr);
	}
	if (s == NATS_OK && created)
		*created = si->Created;
	jsStreamInfo_Destroy(si);
	jsCtx_Destroy(js);
	if (s != NATS_OK) {
		blog("cannot create stream %s for %s: %s (JetStream error %d)",
		     name, subject, natsStatus_GetText(s), (int)jerr);
		return -EIO;
	}
	return 0;
}
