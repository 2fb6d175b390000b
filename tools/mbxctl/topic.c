// SPDX-License-Identifier: GPL-2.0
/*
 * mbxctl: the topic commands: pub and sub.
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

/*
 * Whether @fd is a topic; if not, say so (pointing to send/recv) and set
 * *@code.
 */
static bool is_topic(int fd, const char *name, int *code)
{
	struct mbx_port_info info;
	int ret;

	memset(&info, 0, sizeof(info));
	ret = mbx_port_info(fd, &info);
	if (ret < 0) {
		*code = fail(-ret, "%s", ename(name));
		return false;
	}
	if (info.state & MBX_STATE_TOPIC)
		return true;
	fprintf(stderr, "mbxctl: %s is not a topic (send and recv use a port)\n",
		ename(name));
	*code = EXIT_ERROR;
	return false;
}

/* --- pub --- */

/* Publish @len bytes at @msg as the options in @o (send's) say. */
static int pub_one(int fd, const char *name, const struct mbx_send *o,
		   const char *msg, size_t len)
{
	struct mbx_send s = *o;
	int ret;

	s.buf = (uintptr_t)msg;
	s.len = len;
	ret = mbx_send_ex(fd, &s);

	return ret < 0 ? fail(-ret, "%s", ename(name)) : EXIT_OK;
}

/* Every line of stdin, without its newline, as one message. */
static int pub_lines(int fd, const char *name, const struct mbx_send *o)
{
	char *line = NULL;
	size_t size = 0;
	ssize_t len;
	int code = EXIT_OK;

	while ((len = getline(&line, &size, stdin)) >= 0) {
		if (len && line[len - 1] == '\n')
			len--;
		code = pub_one(fd, name, o, line, (size_t)len);
		if (code)
			break;
	}
	if (!code && ferror(stdin))
		code = fail(errno, "read stdin");
	free(line);
	return code;
}

int cmd_pub(int argc, char **argv)
{
	struct mbx_send o = { 0 };
	const char *name;
	int fd, code;

	fd = send_open(argc, argv, &o, "topic", &name, &code);
	if (fd < 0)
		return code;
	if (!is_topic(fd, name, &code))
		;
	else if (optind + 1 < argc)
		code = pub_one(fd, name, &o, argv[optind + 1],
			       strlen(argv[optind + 1]));
	else
		code = pub_lines(fd, name, &o);
	close(fd);
	return code;
}

/* --- sub --- */

struct sub_opts {
	uint64_t count;		/* 0: until end of stream */
	uint64_t timeout_ns;	/* 0: none */
	uint64_t backlog;	/* 0: the topic's capacity */
	bool drop;
};

/* sub's options into @o; -1 to go on, else the exit status. */
static int sub_opts(int argc, char **argv, struct sub_opts *o)
{
	int c, code;

	while ((c = next_opt(argc, argv, "k:t:b:D")) != -1) {
		switch (c) {
		case 'k':
			if (parse_num(optarg, UINT64_MAX, false, &o->count) ||
			    !o->count)
				return usage_error("bad count '%s'", ename(optarg));
			break;
		case 't':
			code = parse_timeout(optarg, &o->timeout_ns);
			if (code)
				return code;
			if (!o->timeout_ns)
				return usage_error("bad timeout '%s' (milliseconds)",
						   ename(optarg));
			break;
		case 'b':
			if (parse_num(optarg, UINT32_MAX, false, &o->backlog) ||
			    !o->backlog)
				return usage_error("bad backlog '%s' (messages)",
						   ename(optarg));
			break;
		case 'D':
			o->drop = true;
			break;
		default:
			return OPT_END(c);
		}
	}
	return -1;
}

/* What sub_one() returns when stdout failed (and it said so). */
#define SUB_OUT_FAILED	(-100000)

/*
 * Receive the next message into *@bufp (grown as needed, *@sizep bytes)
 * and print it with a newline; report losses to stderr.  The message's
 * length, -errno of the receive, or SUB_OUT_FAILED.
 */
static ssize_t sub_one(int fd, const char *name, const struct sub_opts *o,
		       char **bufp, size_t *sizep)
{
	struct mbx_recv r;
	char *bigger;
	ssize_t ret;

	for (;;) {
		memset(&r, 0, sizeof(r));
		r.buf = (uintptr_t)*bufp;
		r.len = *sizep;
		if (o->timeout_ns) {
			r.flags = MBX_TIMEOUT;
			r.timeout_ns = o->timeout_ns;
		}
		ret = mbx_recv_ex(fd, &r);
		if (ret != -EMSGSIZE || r.len <= *sizep)
			break;
		bigger = realloc(*bufp, r.len);
		if (!bigger)
			return -ENOMEM;
		*bufp = bigger;
		*sizep = r.len;
	}
	if (ret < 0)
		return ret;
	if (r.dropped) {
		fflush(stdout);
		fprintf(stderr, "mbxctl: sub: %s: %u messages dropped\n",
			ename(name), r.dropped);
	}
	errno = 0;
	if (fwrite(*bufp, 1, (size_t)ret, stdout) != (size_t)ret ||
	    putchar('\n') == EOF || fflush(stdout)) {
		/* the errno of the write(2) that failed, as it is */
		fail(errno ? errno : EIO, "write to stdout");
		return SUB_OUT_FAILED;
	}
	return ret;
}

int cmd_sub(int argc, char **argv)
{
	struct sub_opts o = { 0 };
	size_t size = 4096;
	const char *name;
	uint64_t got = 0;
	char *buf;
	ssize_t ret = 0;
	int fd, code;

	code = sub_opts(argc, argv, &o);
	if (code >= 0)
		return code;
	if (optind + 1 != argc)
		return usage_error("expects one topic name");
	name = argv[optind];
	code = check_name(name);
	if (code)
		return code;

	/* Opening a topic for receiving subscribes, policy block. */
	fd = port_open(name, MBX_RECV, &code);
	if (fd < 0)
		return code;
	if (!is_topic(fd, name, &code)) {
		close(fd);
		return code;
	}
	if (o.drop || o.backlog) {
		ret = mbx_subscribe(fd, o.drop ? MBX_SUB_DROP_OLDEST :
					MBX_SUB_BLOCK, (uint32_t)o.backlog, 0);
		if (ret < 0) {
			close(fd);
			return fail((int)-ret, "%s: subscribe", ename(name));
		}
	}
	buf = malloc(size);
	while (buf && (!o.count || got < o.count)) {
		ret = sub_one(fd, name, &o, &buf, &size);
		if (ret < 0)
			break;
		got++;
	}
	close(fd);
	free(buf);
	if (!buf)
		return fail(ENOMEM, "%s", ename(name));
	if (ret == -EPIPE && !o.count)
		return EXIT_OK;		/* end of stream: all there was */
	if (ret == SUB_OUT_FAILED)
		return EXIT_ERROR;
	return ret < 0 ? fail((int)-ret, "%s", ename(name)) : EXIT_OK;
}
