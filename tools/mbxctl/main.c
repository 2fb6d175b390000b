// SPDX-License-Identifier: GPL-2.0
/*
 * mbxctl: list, inspect, create, remove and use mailbox ports from the
 * shell, as ipcs(1) and ipcrm(1) do for System V IPC.
 *
 *   mbxctl ls [-c] [-H] [-n]
 *   mbxctl stat NAME
 *   mbxctl create NAME [-c CAPACITY] [-s MAX_MSG_SIZE] [-p POOL_SIZE] [-m MODE]
 *                      [-T] [-R RING_SIZE]
 *   mbxctl unlink NAME...
 *   mbxctl send NAME [-P PRIO] [-t TIMEOUT_MS] [-n] [MESSAGE]
 *   mbxctl recv NAME [-t TIMEOUT_MS] [-n] [-P]
 *   mbxctl watch NAME [-i INTERVAL_MS] [-k COUNT]
 *   mbxctl pub TOPIC [-P PRIO] [-t TIMEOUT_MS] [-n] [MESSAGE]
 *   mbxctl sub TOPIC [-k COUNT] [-t TIMEOUT_MS] [-b BACKLOG] [-D]
 *
 * Exit status (also in --help and mbxctl(1)): 0 success, 1 usage, 2 no
 * such port, 3 permission denied, 4 timed out or would block, 5 end of
 * stream or shut down, 6 anything else.  Error messages go to stderr as
 * "mbxctl: WHAT: STRERROR".
 *
 * main.c: the command table and dispatch, --help and usage errors, and
 * the option parsing of the subcommands, which live in ports.c, msg.c,
 * topic.c and watch.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mailbox.h>

#include "mbxctl.h"

#define MBXCTL_VERSION	"1.0"

static const char *cmd_name = "mbxctl";

/* A usage error: the message and a pointer to --help; exit status 1. */
int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mbxctl: %s: ", cmd_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'mbxctl %s --help'.\n", cmd_name);
	return EXIT_USAGE;
}

/* ---- subcommands ---------------------------------------------------------- */

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *synopsis;
	const char *help;
};

static const struct cmd *cur_cmd;

static void print_help(const struct cmd *c)
{
	printf("Usage: mbxctl %s %s\n\n%s\n" EXIT_STATUS_HELP, c->name,
	       c->synopsis, c->help);
}

/*
 * The operands met so far, in order.  getopt runs in order ('-' first
 * in its optstring, whatever POSIXLY_CORRECT says), so that options may
 * follow NAME as documented; at the end the operands are moved to
 * argv[optind...] for the subcommand, those after "--" last.
 */
static char **operands;
static int nr_operands;

static void end_of_options(int argc, char **argv)
{
	int rest = argc - optind, i;

	for (i = 0; i < nr_operands; i++)
		argv[argc - rest - nr_operands + i] = operands[i];
	optind = argc - rest - nr_operands;
	nr_operands = 0;
}

/* The unknown (or misused) option getopt_long() returned '?' for. */
static void bad_option(char **argv)
{
	const char *arg = argv[optind - 1];
	char opt[2] = { (char)optopt, '\0' };

	if (optopt == 'h' && !strncmp(arg, "--", 2))
		usage_error("option '--help' takes no value");
	else if (optopt)
		usage_error("unknown option -%s", ename(opt));
	else
		usage_error("unknown option %s", ename(arg));
}

/*
 * getopt_long() with --help for every subcommand.  Returns the option
 * character, -1 at the end, or 'h' after printing the help (the caller
 * exits 0), or '?' after a usage message (the caller exits 1).  -h
 * counts only alone: "-hello" is a usage error, not a request for help.
 */
int next_opt(int argc, char **argv, const char *optstring)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char opts[64];
	int c;

	if (!operands) {
		operands = calloc((size_t)argc + 1, sizeof(*operands));
		if (!operands) {
			fail(ENOMEM, "options");
			return '?';
		}
	}
	snprintf(opts, sizeof(opts), "-:%sh", optstring);
	opterr = 0;
	while ((c = getopt_long(argc, argv, opts, longopts, NULL)) == 1)
		operands[nr_operands++] = optarg;
	switch (c) {
	case -1:
		end_of_options(argc, argv);
		break;
	case 'h':
		if (strcmp(argv[optind - 1], "-h") &&
		    strncmp(argv[optind - 1], "--", 2)) {
			usage_error("%s",
				    "-h must stand alone (a MESSAGE that starts with '-' follows '--')");
			return '?';
		}
		print_help(cur_cmd);
		return 'h';
	case ':':
		usage_error("option -%c needs a value", optopt);
		return '?';
	case '?':
		bad_option(argv);
		return '?';
	}
	return c;
}

/* ---- main ------------------------------------------------------------------ */

static const struct cmd cmds[] = {
	{ "ls", cmd_ls, "[-c] [-H] [-n]",
	  "List every named port of the caller's IPC namespace, by id, as\n"
	  "ipcs(1) does: owner, group, mode, capacity (CAP), largest message\n"
	  "(MSGSIZE), messages queued, open fds that may send (SND) and receive\n"
	  "(RCV), pool bytes held/size, and STATUS: \"topic\", \"ring\" and\n"
	  "\"shutdown\" as they apply.  NAME shows every byte outside printable\n"
	  "ASCII, and the backslash, as \\ooo.  A port the caller may not open\n"
	  "shows \"-\" for QUEUED, SND, RCV and the pool bytes held (empty CSV\n"
	  "fields): the kernel does not tell them.\n\n"
	  "  -c  CSV with a header line, every PORT_INFO counter, sizes in bytes\n"
	  "  -H  no header line\n"
	  "  -n  numeric owner and group\n" },
	{ "stat", cmd_stat, "NAME",
	  "Open NAME with the least access that works (receive, else send) and\n"
	  "print every field of its MBX_IOC_PORT_INFO (and, for a ring port, the\n"
	  "positions, flags and status of MBX_IOC_RING_INFO), one \"key: value\" per\n"
	  "line.  The fd stat opens counts among the port's receivers (or\n"
	  "senders): see the \"access\" line.\n" },
	{ "create", cmd_create,
	  "NAME [-c CAPACITY] [-s MAX_MSG_SIZE] [-p POOL_SIZE] [-m MODE] [-T] [-R RING_SIZE]",
	  "Create the named port NAME; it stays until unlinked.\n\n"
	  "  -c CAPACITY      messages the queue holds (default 16; 0: rendezvous)\n"
	  "  -s MAX_MSG_SIZE  largest message in bytes (default: the module's)\n"
	  "  -p POOL_SIZE     zero-copy pool in bytes (default 0: none)\n"
	  "  -m MODE          octal permission bits (default 0666 & ~umask)\n"
	  "  -T               a topic: every message goes to every subscriber\n"
	  "  -R RING_SIZE     a ring port of RING_SIZE bytes of records (a power of\n"
	  "                   two, at least a page; mbx_ring_attach(3))\n"
	  "Numbers are decimal digits only; sizes take a K, M or G suffix\n"
	  "(1024-based).\n" },
	{ "unlink", cmd_unlink, "NAME...",
	  "Remove the names; each port lives on while fds to it are open.\n"
	  "Only the owner (or CAP_IPC_OWNER) may.  On errors the exit status is\n"
	  "that of the first failure; the other names are still tried.\n" },
	{ "send", cmd_send, "NAME [-P PRIO] [-t TIMEOUT_MS] [-n] [MESSAGE]",
	  "Send one message to NAME: the bytes of MESSAGE (no newline added)\n"
	  "or, without MESSAGE, all of stdin.\n\n"
	  "  -P PRIO        priority 0..31 (default 0, higher first)\n"
	  "  -t TIMEOUT_MS  give up after this many milliseconds (exit 4)\n"
	  "  -n             do not block: exit 4 if the queue is full\n" },
	{ "recv", cmd_recv, "NAME [-t TIMEOUT_MS] [-n] [-P]",
	  "Receive one message from NAME and write it to stdout as it is.  A\n"
	  "topic is refused: use sub.\n\n"
	  "  -t TIMEOUT_MS  give up after this many milliseconds (exit 4; 0: at\n"
	  "                 once)\n"
	  "  -n             do not block: exit 4 if nothing is queued\n"
	  "  -P             print the message's priority to stderr\n" },
	{ "pub", cmd_pub, "TOPIC [-P PRIO] [-t TIMEOUT_MS] [-n] [MESSAGE]",
	  "Publish to the topic TOPIC: MESSAGE (no newline added) or, without\n"
	  "MESSAGE, every line of stdin as one message, without its newline.\n\n"
	  "  -P PRIO        priority 0..31 (default 0, higher first)\n"
	  "  -t TIMEOUT_MS  give up on a message after this long (exit 4)\n"
	  "  -n             do not block: exit 4 if a subscriber is full\n" },
	{ "sub", cmd_sub, "TOPIC [-k COUNT] [-t TIMEOUT_MS] [-b BACKLOG] [-D]",
	  "Subscribe to the topic TOPIC and print every message published from\n"
	  "now on, each followed by a newline, until end of stream (exit 0).\n"
	  "Losses (with -D) are reported on stderr, never silent.\n\n"
	  "  -k COUNT       stop after COUNT messages (at least 1)\n"
	  "  -t TIMEOUT_MS  give up when no message comes for this long (exit 4;\n"
	  "                 at least 1)\n"
	  "  -b BACKLOG     keep at most BACKLOG messages (default: capacity)\n"
	  "  -D             drop the oldest message when full, instead of\n"
	  "                 making publishers wait\n" },
	{ "watch", cmd_watch, "NAME [-i INTERVAL_MS] [-k COUNT]",
	  "Print NAME's counters and rates (per second, over the last interval)\n"
	  "every INTERVAL_MS milliseconds (default 1000), COUNT lines (default,\n"
	  "or 0: until interrupted).  Lines missed while stopped are skipped.\n"
	  "The fd watch holds counts as in stat.\n" },
};

#define NR_CMDS ARRAY_SIZE(cmds)

static void main_help(FILE *f)
{
	size_t i;

	fputs("Usage: mbxctl COMMAND [OPTIONS] [ARGS]\n"
	      "       mbxctl COMMAND --help\n"
	      "       mbxctl help [COMMAND]\n"
	      "       mbxctl --version\n\n"
	      "Inspect and use mailbox ports (/dev/mailbox).\n\nCommands:\n", f);
	for (i = 0; i < NR_CMDS; i++)
		fprintf(f, "  %-7s %s\n", cmds[i].name, cmds[i].synopsis);
	fputs("\nErrors go to stderr as \"mbxctl: WHAT: REASON\".\n\n"
	      EXIT_STATUS_HELP, f);
}

/*
 * Flush and close stdout: a command that wrote all it had to (@code 0)
 * but whose output was lost fails, with a message.  Every command ends
 * here, --help and --version included.
 */
static int close_stdout(int code)
{
	int err = 0;

	errno = 0;
	if (fflush(stdout) || ferror(stdout))
		err = errno ? errno : EIO;
	if (fclose(stdout) && !err && errno != EBADF)
		err = errno;
	if (!err || code != EXIT_OK)
		return code;
	fail(err, "write to stdout");
	return EXIT_ERROR;
}

/* mbxctl help [COMMAND] */
static int help_cmd(int argc, char **argv)
{
	size_t i;

	if (argc > 3) {
		fprintf(stderr, "mbxctl: help: expects at most one command\n"
			"Try 'mbxctl --help'.\n");
		return EXIT_USAGE;
	}
	if (argc == 2) {
		main_help(stdout);
		return EXIT_OK;
	}
	for (i = 0; i < NR_CMDS; i++)
		if (!strcmp(argv[2], cmds[i].name)) {
			print_help(&cmds[i]);
			return EXIT_OK;
		}
	fprintf(stderr, "mbxctl: help: unknown command '%s'\nTry 'mbxctl --help'.\n",
		ename(argv[2]));
	return EXIT_USAGE;
}

static int run(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		main_help(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		main_help(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "help"))
		return help_cmd(argc, argv);
	if (!strcmp(argv[1], "--version")) {
		printf("mbxctl %s (mailbox API %d)\n", MBXCTL_VERSION,
		       MBX_API_VERSION);
		return EXIT_OK;
	}
	for (i = 0; i < NR_CMDS; i++) {
		if (strcmp(argv[1], cmds[i].name))
			continue;
		cur_cmd = &cmds[i];
		cmd_name = cmds[i].name;
		optind = 1;
		return cmds[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "mbxctl: unknown command '%s'\nTry 'mbxctl --help'.\n",
		ename(argv[1]));
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	return close_stdout(run(argc, argv));
}
