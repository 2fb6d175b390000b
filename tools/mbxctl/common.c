// SPDX-License-Identifier: GPL-2.0
/*
 * mbxctl: what every subcommand uses: exit statuses and error messages,
 * parsing of numbers, modes and port names, opening the device and ports,
 * and the clock.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mailbox.h>

#include "mbxctl.h"

static int exit_code(int err)
{
	switch (err) {
	case 0:
		return EXIT_OK;
	case ENOENT:
		return EXIT_NOENT;
	case EACCES:
	case EPERM:
		return EXIT_PERM;
	case ETIMEDOUT:
	case EAGAIN:
		return EXIT_AGAIN;
	case EPIPE:
		return EXIT_PIPE;
	default:
		return EXIT_ERROR;
	}
}

/* "mbxctl: WHAT: strerror(err)" on stderr; returns the exit status for err. */
int fail(int err, const char *fmt, ...)
{
	va_list ap;

	fputs("mbxctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(err));
	return exit_code(err);
}

/* ---- parsing ------------------------------------------------------------ */

/*
 * An unsigned decimal number, at most @max: digits only, no sign, no
 * space, no 0x (010 is ten); with @sizes, an optional K, M or G suffix
 * (powers of 1024, also as KB or KiB).  0 or -1.
 */
int parse_num(const char *s, uint64_t max, bool sizes, uint64_t *out)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (!strspn(s, "0123456789"))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	if (sizes && *end) {
		switch (*end) {
		case 'k': case 'K':
			shift = 10;
			break;
		case 'm': case 'M':
			shift = 20;
			break;
		case 'g': case 'G':
			shift = 30;
			break;
		default:
			return -1;
		}
		end++;
		if (*end == 'i' && end[1] == 'B')
			end += 2;
		else if (*end == 'B')
			end++;
	}
	if (*end)
		return -1;
	if (shift && v > (UINT64_MAX >> shift))
		return -1;
	v <<= shift;
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

/* Permission bits: octal digits only, at most 0777.  0 or -1. */
int parse_mode(const char *s, uint32_t *mode)
{
	unsigned long v;
	char *end;

	if (!*s || strspn(s, "01234567") != strlen(s))
		return -1;
	errno = 0;
	v = strtoul(s, &end, 8);
	if (errno || *end || v > 0777)
		return -1;
	*mode = (uint32_t)v;
	return 0;
}

/* A port name on the command line: 1..MBX_NAME_MAX bytes. */
int check_name(const char *name)
{
	if (!*name)
		return usage_error("empty port name");
	if (strlen(name) > MBX_NAME_MAX)
		return usage_error("port name longer than %d bytes", MBX_NAME_MAX);
	return 0;
}

/* ---- the device and ports ---------------------------------------------- */

int dev_open(int *dev)
{
	int fd = mbx_dev_open();

	if (fd < 0) {
		int err = -fd;

		fail(err, "%s", MBX_DEVICE_PATH);
		/* A missing device is not a missing port. */
		return err == EACCES || err == EPERM ? EXIT_PERM : EXIT_ERROR;
	}
	*dev = fd;
	return 0;
}

/* Open @name with @flags; the fd, or -errno. */
int port_open(const char *name, unsigned int flags, int *code)
{
	int dev, fd;

	*code = dev_open(&dev);
	if (*code)
		return -1;
	fd = mbx_port_open(dev, name, flags | MBX_CLOEXEC);
	close(dev);
	if (fd < 0)
		*code = fail(-fd, "%s", ename(name));
	return fd;
}

/*
 * Open @name with the least access that works: receive, else send.  The
 * fd counts among the port's receivers (or senders) while it is open,
 * but never among a topic's subscribers: an observer takes no message.
 */
int port_open_any(const char *name, int *code)
{
	int dev, fd;

	*code = dev_open(&dev);
	if (*code)
		return -1;
	fd = mbx_port_open(dev, name, MBX_RECV | MBX_CLOEXEC);
	if (fd >= 0)
		mbx_unsubscribe(fd);	/* -EINVAL unless a topic */
	if (fd == -EACCES)
		fd = mbx_port_open(dev, name, MBX_SEND | MBX_CLOEXEC);
	close(dev);
	if (fd < 0)
		*code = fail(-fd, "%s", ename(name));
	return fd;
}

/* ---- the clock ------------------------------------------------------------ */

uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}
