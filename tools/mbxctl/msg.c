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

static int parse_timeout(const char *s, uint64_t *ns)
{
	uint64_t ms;

	if (parse_num(s, UINT64_MAX / 1000000ULL, false, &ms))
		return usage_error("bad timeout '%s' (milliseconds)", s);
	*ns = ms * 1000000ULL;
	return 0;
}

int cmd_send(int argc, char **argv)
{
	struct mbx_port_info info;
	struct mbx_send args;
	const char *name;
	char *msg = NULL;
	bool timed = false, nonblock = false;
	uint64_t v, timeout_ns = 0;
	ssize_t len;
	int c, fd, code, ret;

	memset(&args, 0, sizeof(args));
	while ((c = next_opt(argc, argv, "P:t:n")) != -1) {
		switch (c) {
		case 'P':
			if (parse_num(optarg, MBX_PRIO_MAX, false, &v))
				return usage_error("bad priority '%s' (0..%d)",
						   optarg, MBX_PRIO_MAX);
			args.prio = (uint32_t)v;
			break;
		case 't':
			code = parse_timeout(optarg, &timeout_ns);
			if (code)
				return code;
			timed = true;
			break;
		case 'n':
			nonblock = true;
			break;
		default:
			return OPT_END(c);
		}
	}
	if (optind >= argc)
		return usage_error("expects a port name");
	if (argc - optind > 2)
		return usage_error("expects one MESSAGE argument (quote it), got %d",
				   argc - optind - 1);
	name = argv[optind];
	code = check_name(name);
	if (code)
		return code;

	fd = port_open(name, MBX_SEND, &code);
	if (fd < 0)
		return code;
	if (optind + 1 < argc) {
		msg = strdup(argv[optind + 1]);
		len = msg ? (ssize_t)strlen(msg) : -ENOMEM;
	} else {
		memset(&info, 0, sizeof(info));
		ret = mbx_port_info(fd, &info);
		if (ret < 0) {
			close(fd);
			return fail(-ret, "%s", name);
		}
		len = read_stdin(&msg, info.max_msg_size ? info.max_msg_size :
				 MSG_LIMIT);
		if (len > (ssize_t)info.max_msg_size && info.max_msg_size) {
			close(fd);
			free(msg);
			return fail(EMSGSIZE, "%s: message from stdin", name);
		}
	}
	if (len < 0) {
		close(fd);
		return fail((int)-len, "%s: reading the message", name);
	}

	args.buf = (uintptr_t)msg;
	args.len = (uint64_t)len;
	if (nonblock)
		args.flags |= MBX_NONBLOCK;
	if (timed) {
		args.flags |= MBX_TIMEOUT;
		args.timeout_ns = timeout_ns;
	}
	ret = mbx_send_ex(fd, &args);
	close(fd);
	free(msg);
	if (ret < 0)
		return fail(-ret, "%s", name);
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

int cmd_recv(int argc, char **argv)
{
	struct mbx_port_info info;
	struct mbx_recv args;
	const char *name;
	bool timed = false, nonblock = false, show_prio = false;
	uint64_t timeout_ns = 0, deadline = 0;
	size_t size;
	char *buf = NULL, *bigger;
	ssize_t ret;
	int c, fd, code;

	while ((c = next_opt(argc, argv, "t:nP")) != -1) {
		switch (c) {
		case 't':
			code = parse_timeout(optarg, &timeout_ns);
			if (code)
				return code;
			timed = true;
			break;
		case 'n':
			nonblock = true;
			break;
		case 'P':
			show_prio = true;
			break;
		default:
			return OPT_END(c);
		}
	}
	if (optind + 1 != argc)
		return usage_error("expects one port name");
	name = argv[optind];
	code = check_name(name);
	if (code)
		return code;

	/* One deadline for every try (a retry after EMSGSIZE included). */
	if (timed)
		deadline = mono_ns() + timeout_ns;
	fd = port_open(name, MBX_RECV, &code);
	if (fd < 0)
		return code;
	memset(&info, 0, sizeof(info));
	ret = mbx_port_info(fd, &info);
	if (ret < 0) {
		close(fd);
		return fail((int)-ret, "%s", name);
	}
	size = info.max_msg_size ? info.max_msg_size : 1;
	for (;;) {
		bigger = realloc(buf, size);
		if (!bigger) {
			ret = -ENOMEM;
			break;
		}
		buf = bigger;
		memset(&args, 0, sizeof(args));
		args.buf = (uintptr_t)buf;
		args.len = size;
		if (nonblock)
			args.flags |= MBX_NONBLOCK;
		if (timed) {
			args.flags |= MBX_TIMEOUT | MBX_ABSTIME;
			args.timeout_ns = deadline;
		}
		ret = mbx_recv_ex(fd, &args);
		/* A pool message may be larger than max_msg_size. */
		if (ret != -EMSGSIZE || args.len <= size)
			break;
		size = args.len;
	}
	close(fd);
	if (ret < 0) {
		free(buf);
		return fail((int)-ret, "%s", name);
	}
	code = write_all(STDOUT_FILENO, buf, (size_t)ret);
	free(buf);
	if (code) {
		fail(-code, "write to stdout");
		return EXIT_ERROR;
	}
	if (show_prio)
		fprintf(stderr, "%u\n", args.prio);
	return EXIT_OK;
}
