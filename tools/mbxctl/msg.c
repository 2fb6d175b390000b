// SPDX-License-Identifier: GPL-2.0
/*
 * mbxctl: the message commands: send and recv.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mailbox.h>

#include "mbxctl.h"

/* Largest message we read from stdin: the kernel's hard limit, plus one. */
#define MSG_LIMIT	(64ULL << 20)

/* Read all of stdin, but no more than @max + 1 bytes; the length or -errno. */
static ssize_t read_stdin(char **bufp, size_t max)
{
	size_t len = 0, size = 0;
	char *buf = NULL, *bigger;
	ssize_t n;

	for (;;) {
		if (len == size) {
			size = size ? size * 2 : 4096;
			if (size > max + 1)
				size = max + 1;
			if (len == size)
				break;		/* more than @max: too long */
			bigger = realloc(buf, size);
			if (!bigger) {
				free(buf);
				return -ENOMEM;
			}
			buf = bigger;
		}
		n = read(STDIN_FILENO, buf + len, size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			n = -errno;
			free(buf);
			return n;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*bufp = buf;
	return (ssize_t)len;
}

int parse_timeout(const char *s, uint64_t *ns)
{
	uint64_t ms;

	if (parse_num(s, UINT64_MAX / 1000000ULL, false, &ms))
		return usage_error("bad timeout '%s' (milliseconds)", ename(s));
	*ns = ms * 1000000ULL;
	return 0;
}

/* send's (and pub's) options into @args; -1 to go on, else the exit status. */
static int send_opts(int argc, char **argv, struct mbx_send *args)
{
	uint64_t v, timeout_ns = 0;
	int c, code;

	while ((c = next_opt(argc, argv, "P:t:n")) != -1) {
		switch (c) {
		case 'P':
			if (parse_num(optarg, MBX_PRIO_MAX, false, &v))
				return usage_error("bad priority '%s' (0..%d)",
						   ename(optarg), MBX_PRIO_MAX);
			args->prio = (uint32_t)v;
			break;
		case 't':
			code = parse_timeout(optarg, &timeout_ns);
			if (code)
				return code;
			args->flags |= MBX_TIMEOUT;
			args->timeout_ns = timeout_ns;
			break;
		case 'n':
			args->flags |= MBX_NONBLOCK;
			break;
		default:
			return OPT_END(c);
		}
	}
	return -1;
}

/*
 * What send and pub share: their options into @args, then the port (or
 * topic: @what) named by the one or two arguments left, opened to send.
 * The fd with *@namep set, or -1 with *@code the exit status.
 */
int send_open(int argc, char **argv, struct mbx_send *args, const char *what,
	      const char **namep, int *code)
{
	*code = send_opts(argc, argv, args);
	if (*code >= 0)
		return -1;
	if (optind >= argc) {
		*code = usage_error("expects a %s name", what);
		return -1;
	}
	if (argc - optind > 2) {
		*code = usage_error("expects one MESSAGE argument (quote it), got %d",
				    argc - optind - 1);
		return -1;
	}
	*namep = argv[optind];
	*code = check_name(*namep);
	if (*code)
		return -1;
	return port_open(*namep, MBX_SEND, code);
}

/*
 * The message to send to @name on @fd: a copy of @arg or, if @arg is
 * NULL, all of stdin, no longer than the port's max_msg_size.  0 with
 * *@msgp and *@lenp set (*@lenp: -errno if the message could not be
 * read), or the exit status of a failure.
 */
static int get_message(int fd, const char *name, const char *arg,
		       char **msgp, ssize_t *lenp)
{
	struct mbx_port_info info;
	ssize_t len;
	int ret;

	if (arg) {
		*msgp = strdup(arg);
		*lenp = *msgp ? (ssize_t)strlen(*msgp) : -ENOMEM;
		return 0;
	}
	memset(&info, 0, sizeof(info));
	ret = mbx_port_info(fd, &info);
	if (ret < 0)
		return fail(-ret, "%s", ename(name));
	len = read_stdin(msgp, info.max_msg_size ? info.max_msg_size :
			 MSG_LIMIT);
	if (len > (ssize_t)info.max_msg_size && info.max_msg_size) {
		free(*msgp);
		*msgp = NULL;
		return fail(EMSGSIZE, "%s: message from stdin", ename(name));
	}
	*lenp = len;
	return 0;
}

int cmd_send(int argc, char **argv)
{
	struct mbx_send args;
	const char *name;
	char *msg = NULL;
	ssize_t len = 0;
	int fd, code, ret;

	memset(&args, 0, sizeof(args));
	fd = send_open(argc, argv, &args, "port", &name, &code);
	if (fd < 0)
		return code;
	code = get_message(fd, name, optind + 1 < argc ? argv[optind + 1] : NULL,
			   &msg, &len);
	if (code) {
		close(fd);
		return code;
	}
	if (len < 0) {
		close(fd);
		return fail((int)-len, "%s: reading the message", ename(name));
	}

	args.buf = (uintptr_t)msg;
	args.len = (uint64_t)len;
	ret = mbx_send_ex(fd, &args);
	close(fd);
	free(msg);
	if (ret < 0)
		return fail(-ret, "%s", ename(name));
	return EXIT_OK;
}

static int write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

struct recv_opts {
	bool timed, nonblock, show_prio;
	uint64_t timeout_ns;
	uint64_t deadline;	/* CLOCK_MONOTONIC, with timed */
};

/* recv's options into @o; -1 to go on, else the exit status. */
static int recv_opts(int argc, char **argv, struct recv_opts *o)
{
	int c, code;

	while ((c = next_opt(argc, argv, "t:nP")) != -1) {
		switch (c) {
		case 't':
			code = parse_timeout(optarg, &o->timeout_ns);
			if (code)
				return code;
			o->timed = true;
			break;
		case 'n':
			o->nonblock = true;
			break;
		case 'P':
			o->show_prio = true;
			break;
		default:
			return OPT_END(c);
		}
	}
	return -1;
}

/*
 * Receive one message from @fd into *@bufp, a buffer of @size bytes, or
 * larger for a larger message; its length or -errno.  *@args is that of
 * the last try (the message's priority on success).
 */
static ssize_t recv_one(int fd, size_t size, const struct recv_opts *o,
			char **bufp, struct mbx_recv *args)
{
	char *buf = NULL, *bigger;
	ssize_t ret;

	for (;;) {
		bigger = realloc(buf, size);
		if (!bigger) {
			ret = -ENOMEM;
			break;
		}
		buf = bigger;
		memset(args, 0, sizeof(*args));
		args->buf = (uintptr_t)buf;
		args->len = size;
		if (o->nonblock)
			args->flags |= MBX_NONBLOCK;
		if (o->timed) {
			args->flags |= MBX_TIMEOUT | MBX_ABSTIME;
			args->timeout_ns = o->deadline;
		}
		ret = mbx_recv_ex(fd, args);
		/* A pool message may be larger than max_msg_size. */
		if (ret != -EMSGSIZE || args->len <= size)
			break;
		size = args->len;
	}
	*bufp = buf;
	return ret;
}

/*
 * The port @name open on @fd into *@info; refuse a topic: opening it to
 * receive subscribed, so recv would only ever see what is published
 * after it came.  0, or the exit status.
 */
static int recv_check(int fd, const char *name, struct mbx_port_info *info)
{
	int ret;

	memset(info, 0, sizeof(*info));
	ret = mbx_port_info(fd, info);
	if (ret < 0)
		return fail(-ret, "%s", ename(name));
	if (info->state & MBX_STATE_TOPIC) {
		fprintf(stderr,
			"mbxctl: %s is a topic: recv would see only what is published after it; use 'mbxctl sub %s -k 1'\n",
			ename(name), ename(name));
		return EXIT_ERROR;
	}
	return 0;
}

int cmd_recv(int argc, char **argv)
{
	struct mbx_port_info info;
	struct mbx_recv args;
	struct recv_opts o;
	const char *name;
	char *buf = NULL;
	ssize_t ret;
	int fd, code;

	memset(&o, 0, sizeof(o));
	code = recv_opts(argc, argv, &o);
	if (code >= 0)
		return code;
	if (optind + 1 != argc)
		return usage_error("expects one port name");
	name = argv[optind];
	code = check_name(name);
	if (code)
		return code;

	/*
	 * One deadline for every try (a retry after EMSGSIZE included),
	 * saturated: the largest timeout must not wrap to the past.
	 */
	if (o.timed) {
		uint64_t now = mono_ns();

		o.deadline = o.timeout_ns > (uint64_t)INT64_MAX - now ?
			     (uint64_t)INT64_MAX : now + o.timeout_ns;
	}
	fd = port_open(name, MBX_RECV, &code);
	if (fd < 0)
		return code;
	code = recv_check(fd, name, &info);
	if (code) {
		close(fd);
		return code;
	}
	ret = recv_one(fd, info.max_msg_size ? info.max_msg_size : 1, &o,
		       &buf, &args);
	close(fd);
	if (ret < 0) {
		free(buf);
		return fail((int)-ret, "%s", ename(name));
	}
	code = write_all(STDOUT_FILENO, buf, (size_t)ret);
	free(buf);
	if (code) {
		fail(-code, "write to stdout");
		return EXIT_ERROR;
	}
	if (o.show_prio)
		fprintf(stderr, "%u\n", args.prio);
	return EXIT_OK;
}
