// SPDX-License-Identifier: GPL-2.0
/*
 * mbx-bridge: small NATS commands for operators and the tests, using the
 * configured servers - publish one message with headers (`pub`), and a
 * rendezvous between two machines (`await` answers the first request on a
 * subject, `signal` asks until answered).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"

/* pub [-r REPLY] SUBJECT PAYLOAD [KEY=VALUE...] */
static int cli_pub(struct bridge *br, int argc, char **argv)
{
	const char *reply = NULL;
	natsMsg *m = NULL;
	natsStatus s;
	int i;

	if (!strcmp(argv[0], "-r")) {
		if (argc < 4)
			return 2;
		reply = argv[1];
		argc -= 2;
		argv += 2;
	}
	s = natsMsg_Create(&m, argv[0], reply, argv[1], strlen(argv[1]));
	for (i = 2; i < argc && s == NATS_OK; i++) {
		char *eq = strchr(argv[i], '=');

		if (!eq)
			return 2;
		*eq = '\0';
		s = natsMsgHeader_Set(m, argv[i], eq + 1);
	}
	if (s == NATS_OK)
		s = natsConnection_PublishMsg(br->nc, m);
	if (s == NATS_OK)
		s = natsConnection_FlushTimeout(br->nc, 5000);
	natsMsg_Destroy(m);
	return s == NATS_OK ? 0 : 1;
}

static int cli_await(struct bridge *br, const char *subject, int secs)
{
	natsSubscription *sub = NULL;
	natsMsg *m = NULL;
	natsStatus s;

	s = natsConnection_SubscribeSync(&sub, br->nc, subject);
	if (s == NATS_OK)
		s = natsConnection_FlushTimeout(br->nc, 5000);
	if (s == NATS_OK)
		s = natsSubscription_NextMsg(&m, sub, secs * 1000LL);
	if (s == NATS_OK)
		s = natsConnection_PublishString(br->nc, natsMsg_GetReply(m), "ok");
	if (s == NATS_OK)
		s = natsConnection_FlushTimeout(br->nc, 5000);
	natsMsg_Destroy(m);
	natsSubscription_Destroy(sub);
	return s == NATS_OK ? 0 : 1;
}

static int cli_signal(struct bridge *br, const char *subject, int secs)
{
	uint64_t end = now_ms() + secs * 1000ULL;

	while (now_ms() < end) {
		natsMsg *reply = NULL;

		if (natsConnection_RequestString(&reply, br->nc, subject, "go",
						 500) == NATS_OK) {
			natsMsg_Destroy(reply);
			return 0;
		}
		sleep_ms(200);
	}
	return 1;
}

/**
 * cli_main() - `mbx-bridge pub|await|signal ARGS...`
 * @br:   the bridge, configured, not connected
 * @cmd:  the command
 * @argc: its arguments' count
 * @argv: its arguments
 *
 * Return: the exit status: 0, 1 on failure, 2 on a usage error.
 */
int cli_main(struct bridge *br, const char *cmd, int argc, char **argv)
{
	int ret;

	if ((!strcmp(cmd, "pub") && argc < 2) ||
	    (strcmp(cmd, "pub") && argc != 2)) {
		fputs("mbx-bridge pub [-r REPLY] SUBJECT PAYLOAD [KEY=VALUE...]\n"
		      "mbx-bridge await|signal SUBJECT SECS\n", stderr);
		return 2;
	}
	if (bridge_connect(br))
		return 1;
	if (!strcmp(cmd, "pub"))
		ret = cli_pub(br, argc, argv);
	else if (!strcmp(cmd, "await"))
		ret = cli_await(br, argv[0], atoi(argv[1]));
	else
		ret = cli_signal(br, argv[0], atoi(argv[1]));
	bridge_disconnect(br);
	return ret;
}
