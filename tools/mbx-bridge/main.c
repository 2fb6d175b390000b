// SPDX-License-Identifier: GPL-2.0
/*
 * mbx-bridge: carries mailbox ports over NATS.  The command line (the same
 * directives as the config file, as --DIRECTIVE ARGS...), the checks made
 * before anything runs, one thread per route, and the `stats` command.
 *
 *   mbx-bridge [run] [-c FILE] [--DIRECTIVE ARG...]...
 *   mbx-bridge check [-c FILE] [--DIRECTIVE ARG...]...
 *   mbx-bridge stats [-c FILE | -d STATE_DIR]
 *   mbx-bridge pub|await|signal [-c FILE] [--server URL] -- ARGS...
 *
 * Exit status: 0 after SIGTERM or SIGINT, 1 for a bad configuration, a
 * missing port or unreachable servers, 2 for a usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "bridge.h"

static struct bridge the_bridge;

static void on_signal(int sig)
{
	the_bridge.stop = 1;
}

static int usage(void)
{
	fprintf(stderr,
		"Usage: mbx-bridge [run|check] [-c FILE] [--DIRECTIVE ARG...]...\n"
		"       mbx-bridge stats [-c FILE | -d STATE_DIR]\n"
		"       mbx-bridge pub|await|signal [-c FILE] [--server URL] -- ARGS...\n"
		"directives (config file or --DIRECTIVE): server URL, mode core|jetstream,\n"
		"  state-dir DIR, name NAME, dead-letter SUBJECT, inflight N, ack-wait S,\n"
		"  replicas N, connect-wait S, call-timeout MS, export PORT SUBJECT,\n"
		"  import SUBJECT PORT [fanout|exclusive], serve PORT SUBJECT REPLY_PORT,\n"
		"  call PORT SUBJECT REPLY_PORT\n"
		"see mbx-bridge(8)\n");
	return 2;
}

/* -c FILE and --DIRECTIVE ARG... in order; later ones add or override. */
static int parse_args(struct bridge_config *cfg, int argc, char **argv,
		      const char **state_dir)
{
	int i = 0, j, ret = 0;

	while (!ret && i < argc) {
		if (!strcmp(argv[i], "-c") && i + 1 < argc) {
			ret = config_file(cfg, argv[i + 1]);
			i += 2;
		} else if (!strcmp(argv[i], "-d") && i + 1 < argc && state_dir) {
			*state_dir = argv[i + 1];
			i += 2;
		} else if (!strncmp(argv[i], "--", 2) && argv[i][2]) {
			argv[i] += 2;
			for (j = i + 1; j < argc && strncmp(argv[j], "--", 2) &&
			     strcmp(argv[j], "-c"); j++)
				;
			ret = config_words(cfg, argv + i, j - i, "command line");
			i = j;
		} else {
			fprintf(stderr, "mbx-bridge: unexpected argument '%s'\n",
				argv[i]);
			return -EINVAL;
		}
	}
	return ret;
}

static int check_port(struct route *r, const char *name, unsigned int acc)
{
	int fd = mbx_port_open(MBX_DEV_AUTO, name, acc | MBX_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "mbx-bridge: %s %s: cannot open port '%s': %s\n",
			route_kind_name(r->kind), r->subject, name,
			strerror(-fd));
		return fd;
	}
	close(fd);
	return 0;
}

/* Every port must exist, with the access the route needs, before we run. */
static int check_ports(struct bridge_config *cfg)
{
	static const unsigned int acc[] = { MBX_RECV, MBX_SEND, MBX_SEND,
					    MBX_RECV };
	int i, ret = 0;

	for (i = 0; i < cfg->nroutes && !ret; i++) {
		struct route *r = &cfg->routes[i];

		ret = check_port(r, r->port, acc[r->kind]);
		if (!ret && r->reply_port[0])	/* serve, call */
			ret = check_port(r, r->reply_port,
					 acc[r->kind] ^ (MBX_SEND | MBX_RECV));
	}
	return ret;
}

static int state_dir_make(const char *dir)
{
	char path[PATH_MAX], *p;

	snprintf(path, sizeof(path), "%s", dir);
	for (p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(path, 0700);
		*p = '/';
	}
	if (mkdir(path, 0700) && errno != EEXIST) {
		fprintf(stderr, "mbx-bridge: state directory %s: %s\n", dir,
			strerror(errno));
		return -errno;
	}
	return 0;
}

/*
 * One bridge per state directory: two would arm the same journal slots and
 * keep one set of what was sent between them.  The lock (on state-dir/lock)
 * lasts as long as the process: its fd is never closed.
 */
static int state_dir_lock(const char *dir)
{
	char path[PATH_MAX + 8];
	int fd;

	snprintf(path, sizeof(path), "%s/lock", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0 && !flock(fd, LOCK_EX | LOCK_NB))
		return 0;
	if (errno == EWOULDBLOCK)
		fprintf(stderr, "mbx-bridge: state directory %s is in use by another mbx-bridge\n",
			dir);
	else
		fprintf(stderr, "mbx-bridge: %s: %s\n", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

static void run_routes(struct bridge *br)
{
	static void *(*const run[])(void *) = { export_run, import_run,
						rpc_run, rpc_run };
	int i;

	for (i = 0; i < br->cfg.nroutes; i++) {
		struct route *r = &br->cfg.routes[i];

		r->br = br;
		pthread_create(&r->thread, NULL, run[r->kind], r);
	}
	/* Every 10 s: does a bridge of our name that started first run? */
	for (i = 1; !br->stop; i++) {
		sleep_ms(100);
		if (!(i % 100) && bridge_name_check(br))
			br->stop = 3;
	}
	stats_state(br, br->stop >= 2 ? "failed" : "stopping");
	for (i = 0; i < br->cfg.nroutes; i++)
		pthread_join(br->cfg.routes[i].thread, NULL);
}

static int cmd_run(struct bridge *br, bool check_only)
{
	struct sigaction sa = { .sa_handler = on_signal };
	char name[96];
	int i;

	if (config_check(&br->cfg) || check_ports(&br->cfg))
		return 1;
	if (check_only) {
		printf("mbx-bridge: configuration OK, %d routes\n", br->cfg.nroutes);
		return 0;
	}
	snprintf(name, sizeof(name), "mbx-bridge[%s]", br->cfg.name);
	blog_name = strdup(name);
	for (i = 0; i < br->cfg.nroutes; i++)
		br->cfg.routes[i].br = br;
	if (state_dir_make(br->cfg.state_dir) ||
	    state_dir_lock(br->cfg.state_dir) || stats_open(br))
		return 1;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	stats_state(br, "connecting");
	if (bridge_connect(br)) {
		stats_state(br, br->stop ? "stopped" : "unreachable");
		return br->stop ? 0 : 1;
	}
	i = bridge_claim_name(br);
	if (i) {
		bridge_disconnect(br);
		stats_state(br, "failed");
		return i == -EEXIST ? 3 : 1;
	}
	run_routes(br);
	bridge_disconnect(br);
	stats_state(br, br->stop >= 2 ? "failed" : "stopped");
	nats_Close();
	return br->stop == 3 ? 3 : br->stop == 2 ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct bridge *br = &the_bridge;
	const char *cmd = "run", *state_dir = NULL;
	char **rest;
	int i, nrest;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
		return usage() - 2;
	if (argc > 1 && argv[1][0] != '-') {
		cmd = argv[1];
		argv++;
		argc--;
	}
	config_defaults(&br->cfg);
	for (i = 1; i < argc && strcmp(argv[i], "--"); i++)
		;
	rest = argv + i + (i < argc);
	nrest = argc - i - (i < argc);
	argc = i;
	if (parse_args(&br->cfg, argc - 1, argv + 1,
		       strcmp(cmd, "stats") ? NULL : &state_dir))
		return 1;
	if (!strcmp(cmd, "stats"))
		return stats_print(state_dir ? state_dir : br->cfg.state_dir);
	if (!strcmp(cmd, "pub") || !strcmp(cmd, "await") ||
	    !strcmp(cmd, "signal"))
		return cli_main(br, cmd, nrest, rest);
	if (!strcmp(cmd, "run") || !strcmp(cmd, "check"))
		return cmd_run(br, !strcmp(cmd, "check"));
	return usage();
}
