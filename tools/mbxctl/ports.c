// SPDX-License-Identifier: GPL-2.0
/*
 * mbxctl: the port commands: ls, stat, create and unlink.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <mailbox.h>

#include "mbxctl.h"

/* --- ls --- */

/*
 * The ring of the named ring port @name, quietly: 0, or -errno if it
 * cannot be opened (ls lists what it may not open too).
 */
static int ring_info(const char *name, struct mbx_ring_info *ri)
{
	int dev, fd, ret;

	dev = mbx_dev_open();
	if (dev < 0)
		return dev;
	fd = mbx_port_open(dev, name, MBX_RECV | MBX_CLOEXEC);
	if (fd == -EACCES)
		fd = mbx_port_open(dev, name, MBX_SEND | MBX_CLOEXEC);
	close(dev);
	if (fd < 0)
		return fd;
	memset(ri, 0, sizeof(*ri));
	ret = ioctl(fd, MBX_IOC_RING_INFO, ri) ? -errno : 0;
	close(fd);
	return ret;
}

static const char *const ls_head[] = {
	"ID", "NAME", "OWNER", "GROUP", "MODE", "CAP", "MSGSIZE", "QUEUED",
	"SND", "RCV", "POOL", "STATUS",
};

#define LS_COLS ARRAY_SIZE(ls_head)
/* Right-aligned columns: the numbers. */
static const char ls_right[] = "r...rrrrrrr.";

/* A cell: an escaped name at its longest, or anything else. */
#define CELL NAME_ESC_SIZE

/*
 * Whether the kernel hid @p's counters from the caller, who may not open
 * it: MBX_IOC_PORT_LIST then zeroes them and pool_free.
 */
static bool ls_hidden(const struct mbx_port_info *p)
{
	return p->state & MBX_STATE_HIDDEN;
}

/* The POOL cell: held/size, the ring's bytes for a ring port, or "-". */
static void ls_pool(char *cell, const struct mbx_port_info *p, bool hidden)
{
	struct mbx_ring_info ri;
	char a[32], b[32];

	if (p->state & MBX_STATE_RING) {
		/* A ring: its bytes in use of its size. */
		if (ring_info(p->name, &ri) == 0) {
			fmt_size(a, sizeof(a), ri.now_produced - ri.now_consumed);
			fmt_size(b, sizeof(b), ri.ring_size);
			snprintf(cell, CELL, "%s/%s", a, b);
		} else {
			snprintf(cell, CELL, "?");
		}
	} else if (p->pool_size) {
		if (hidden)
			snprintf(a, sizeof(a), "-");
		else
			fmt_size(a, sizeof(a), p->pool_size - p->pool_free);
		fmt_size(b, sizeof(b), p->pool_size);
		snprintf(cell, CELL, "%s/%s", a, b);
	} else {
		snprintf(cell, CELL, "-");
	}
}

static void ls_row(char row[LS_COLS][CELL], const struct mbx_port_info *p,
		   bool numeric)
{
	bool hidden = ls_hidden(p);

	snprintf(row[0], CELL, "%llu", p->id);
	fmt_name(row[1], CELL, p->name);
	fmt_id(row[2], CELL, "/etc/passwd", p->uid, numeric);
	fmt_id(row[3], CELL, "/etc/group", p->gid, numeric);
	snprintf(row[4], CELL, "%04o", p->mode);
	snprintf(row[5], CELL, "%u", p->capacity);
	fmt_size(row[6], CELL, p->max_msg_size);
	if (hidden) {
		snprintf(row[7], CELL, "-");
		snprintf(row[8], CELL, "-");
		snprintf(row[9], CELL, "-");
	} else {
		snprintf(row[7], CELL, "%u", p->queued);
		snprintf(row[8], CELL, "%u", p->senders);
		snprintf(row[9], CELL, "%u", p->receivers);
	}
	ls_pool(row[10], p, hidden);
	/* Every listed port is named: say only what is unusual. */
	snprintf(row[11], CELL, "%s",
		 p->state & (MBX_STATE_SHUTDOWN | MBX_STATE_TOPIC |
			     MBX_STATE_RING) ?
		 state_str(p->state & ~MBX_STATE_NAMED) : "");
}

static void ls_print(char (*rows)[LS_COLS][CELL], size_t n)
{
	size_t w[LS_COLS] = { 0 };
	size_t i, j, len;

	for (i = 0; i < n; i++)
		for (j = 0; j < LS_COLS; j++) {
			len = strlen(rows[i][j]);
			if (len > w[j])
				w[j] = len;
		}
	for (i = 0; i < n; i++) {
		char line[LS_COLS * (CELL + 2)];
		size_t o = 0;

		for (j = 0; j < LS_COLS; j++)
			o += snprintf(line + o, sizeof(line) - o, "%s%*s",
				      j ? "  " : "",
				      ls_right[j] == 'r' ? (int)w[j] : -(int)w[j],
				      rows[i][j]);
		while (o && line[o - 1] == ' ')
			o--;
		line[o] = '\0';
		puts(line);
	}
}

static void ls_csv_head(void)
{
	static const char *const head[] = {
		"id", "name", "uid", "owner", "gid", "group", "mode", "capacity",
		"max_msg_size", "queued", "senders", "receivers",
		"send_waiting", "recv_waiting", "pool_size", "pool_used", "sent",
		"received", "bytes_sent", "bytes_received", "send_waits",
		"recv_waits", "shutdown", "topic", "subscribers", "ring",
		"ring_size", "ring_produced", "ring_consumed", "ring_pflags",
		"ring_cflags", "ring_status",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(head); i++)
		printf("%s%s", i ? "," : "", head[i]);
	putchar('\n');
}

/* ",N", or "," alone for a counter the kernel hid. */
static void csv_num(bool hidden, unsigned long long v)
{
	if (hidden)
		putchar(',');
	else
		printf(",%llu", v);
}

static void ls_csv(const struct mbx_port_info *p)
{
	char owner[CELL], group[CELL], name[CELL];
	bool h = ls_hidden(p);
	struct mbx_ring_info ri;

	fmt_name(name, sizeof(name), p->name);
	fmt_id(owner, sizeof(owner), "/etc/passwd", p->uid, false);
	fmt_id(group, sizeof(group), "/etc/group", p->gid, false);
	printf("%llu,", p->id);
	put_csv(stdout, name);
	printf(",%u,", p->uid);
	put_csv(stdout, owner);
	printf(",%u,", p->gid);
	put_csv(stdout, group);
	printf(",%04o,%u,%u", p->mode, p->capacity, p->max_msg_size);
	csv_num(h, p->queued);
	csv_num(h, p->senders);
	csv_num(h, p->receivers);
	csv_num(h, p->send_waiting);
	csv_num(h, p->recv_waiting);
	printf(",%llu", p->pool_size);
	csv_num(h, p->pool_size - p->pool_free);
	csv_num(h, p->sent);
	csv_num(h, p->received);
	csv_num(h, p->bytes_sent);
	csv_num(h, p->bytes_received);
	csv_num(h, p->send_waits);
	csv_num(h, p->recv_waits);
	printf(",%d,%d", !!(p->state & MBX_STATE_SHUTDOWN),
	       !!(p->state & MBX_STATE_TOPIC));
	csv_num(h, p->subscribers);
	/* Not a ring (or one ls may not open): zeros. */
	memset(&ri, 0, sizeof(ri));
	if (p->state & MBX_STATE_RING)
		ring_info(p->name, &ri);
	printf(",%d,%llu,%llu,%llu,0x%x,0x%x,0x%x\n",
	       !!(p->state & MBX_STATE_RING),
	       (unsigned long long)ri.ring_size,
	       (unsigned long long)ri.now_produced,
	       (unsigned long long)ri.now_consumed, ri.now_pflags,
	       ri.now_cflags, ri.now_status);
}

int cmd_ls(int argc, char **argv)
{
	bool csv = false, header = true, numeric = false;
	struct mbx_port_info *list = NULL;
	char (*rows)[LS_COLS][CELL];
	int c, dev, n, code, i;

	while ((c = next_opt(argc, argv, "cHn")) != -1) {
		switch (c) {
		case 'c':
			csv = true;
			break;
		case 'H':
			header = false;
			break;
		case 'n':
			numeric = true;
			break;
		default:
			return OPT_END(c);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", ename(argv[optind]));

	code = dev_open(&dev);
	if (code)
		return code;
	n = mbx_port_list(dev, &list);
	close(dev);
	if (n < 0)
		return fail(-n, "list ports");

	if (csv) {
		if (header)
			ls_csv_head();
		for (i = 0; i < n; i++)
			ls_csv(&list[i]);
	} else {
		rows = calloc((size_t)n + 1, sizeof(*rows));
		if (!rows) {
			free(list);
			return fail(ENOMEM, "list ports");
		}
		for (c = 0; c < (int)LS_COLS; c++)
			snprintf(rows[0][c], CELL, "%s", ls_head[c]);
		for (i = 0; i < n; i++)
			ls_row(rows[i + 1], &list[i], numeric);
		ls_print(header ? rows : rows + 1, header ? (size_t)n + 1 : (size_t)n);
		free(rows);
	}
	free(list);
	if (fflush(stdout))
		return fail(errno, "write to stdout");
	return EXIT_OK;
}

/* --- stat --- */

#define ROW(key, fmt, ...) printf("%-15s " fmt "\n", key ":", __VA_ARGS__)

/* A ring port's rows of `stat`. */
static void show_ring(const struct mbx_ring_info *ri)
{
	ROW("ring_size", "%llu", (unsigned long long)ri->ring_size);
	ROW("ring_produced", "%llu", (unsigned long long)ri->now_produced);
	ROW("ring_consumed", "%llu", (unsigned long long)ri->now_consumed);
	ROW("ring_used", "%llu",
	    (unsigned long long)(ri->now_produced - ri->now_consumed));
	ROW("ring_pflags", "%#x%s%s", ri->now_pflags,
	    ri->now_pflags & MBX_RING_NEED_WAKEUP ? " (need-wakeup)" : "",
	    ri->now_pflags & MBX_RING_POLLED ? " (polled)" : "");
	ROW("ring_cflags", "%#x%s%s", ri->now_cflags,
	    ri->now_cflags & MBX_RING_NEED_WAKEUP ? " (need-wakeup)" : "",
	    ri->now_cflags & MBX_RING_POLLED ? " (polled)" : "");
	ROW("ring_status", "%#x (%s)", ri->now_status,
	    ring_status_str(ri->now_status));
}

static void show_stat(const struct mbx_port_info *p,
		      const struct mbx_ring_info *ri)
{
	char owner[CELL], group[CELL];

	fmt_id(owner, sizeof(owner), "/etc/passwd", p->uid, false);
	fmt_id(group, sizeof(group), "/etc/group", p->gid, false);
	ROW("name", "%s", ename(p->name));
	ROW("id", "%llu", p->id);
	ROW("state", "%s", state_str(p->state));
	ROW("access", "%s", access_str(p->access));
	ROW("uid", "%u (%s)", p->uid, owner);
	ROW("gid", "%u (%s)", p->gid, group);
	ROW("mode", "%04o", p->mode);
	ROW("capacity", "%u", p->capacity);
	ROW("max_msg_size", "%u", p->max_msg_size);
	ROW("pool_size", "%llu", p->pool_size);
	ROW("pool_free", "%llu", p->pool_free);
	ROW("queued", "%u", p->queued);
	ROW("senders", "%u", p->senders);
	ROW("receivers", "%u", p->receivers);
	ROW("send_waiting", "%u", p->send_waiting);
	ROW("recv_waiting", "%u", p->recv_waiting);
	ROW("sent", "%llu", p->sent);
	ROW("received", "%llu", p->received);
	ROW("bytes_sent", "%llu", p->bytes_sent);
	ROW("bytes_received", "%llu", p->bytes_received);
	ROW("send_waits", "%llu", p->send_waits);
	ROW("recv_waits", "%llu", p->recv_waits);
	if (p->state & MBX_STATE_TOPIC)
		ROW("subscribers", "%u", p->subscribers);
	if (p->state & MBX_STATE_RING)
		show_ring(ri);
}

#undef ROW

int cmd_stat(int argc, char **argv)
{
	struct mbx_port_info p;
	struct mbx_ring_info ri;
	int c, fd, code, ret;

	while ((c = next_opt(argc, argv, "")) != -1)
		return OPT_END(c);
	if (optind + 1 != argc)
		return usage_error("expects one port name");
	code = check_name(argv[optind]);
	if (code)
		return code;

	fd = port_open_any(argv[optind], &code);
	if (fd < 0)
		return code;
	memset(&p, 0, sizeof(p));
	memset(&ri, 0, sizeof(ri));
	ret = mbx_port_info(fd, &p);
	if (!ret && p.state & MBX_STATE_RING)
		ret = ioctl(fd, MBX_IOC_RING_INFO, &ri) ? -errno : 0;
	close(fd);
	if (ret < 0)
		return fail(-ret, "%s", ename(argv[optind]));

	show_stat(&p, &ri);
	if (fflush(stdout))
		return fail(errno, "write to stdout");
	return EXIT_OK;
}

/* --- create --- */

/*
 * create's options into @attr, *@mode_set true if -m was given, *@cap_set
 * if -c was; -1 to go on, else the exit status.
 */
static int create_opts(int argc, char **argv, struct mbx_port_create *attr,
		       bool *mode_set, bool *cap_set)
{
	uint64_t v;
	int c;

	while ((c = next_opt(argc, argv, "c:s:p:m:TR:")) != -1) {
		switch (c) {
		case 'c':
			if (parse_num(optarg, UINT32_MAX, false, &v))
				return usage_error("bad capacity '%s'", ename(optarg));
			attr->capacity = (uint32_t)v;
			*cap_set = true;
			break;
		case 's':
			if (parse_num(optarg, UINT32_MAX, true, &v))
				return usage_error("bad message size '%s'", ename(optarg));
			attr->max_msg_size = (uint32_t)v;
			break;
		case 'p':
			if (parse_num(optarg, UINT64_MAX, true, &v))
				return usage_error("bad pool size '%s'", ename(optarg));
			attr->pool_size = v;
			break;
		case 'm':
			if (parse_mode(optarg, &attr->mode))
				return usage_error("bad mode '%s' (octal, at most 0777)",
						   ename(optarg));
			*mode_set = true;
			break;
		case 'T':
			attr->flags |= MBX_PORT_TOPIC;
			break;
		case 'R':
			if (parse_num(optarg, UINT64_MAX, true, &v) || !v)
				return usage_error("bad ring size '%s'", ename(optarg));
			attr->flags |= MBX_PORT_RING;
			attr->ring_size = v;
			break;
		default:
			return OPT_END(c);
		}
	}
	return -1;
}

int cmd_create(int argc, char **argv)
{
	struct mbx_port_create attr;
	bool mode_set = false, cap_set = false;
	mode_t mask;
	int fd, dev, code;

	memset(&attr, 0, sizeof(attr));
	attr.capacity = 16;
	attr.flags = MBX_CLOEXEC;
	code = create_opts(argc, argv, &attr, &mode_set, &cap_set);
	if (code >= 0)
		return code;
	/* A ring is nothing but its ring: the queue's default goes. */
	if (attr.flags & MBX_PORT_RING && !cap_set)
		attr.capacity = 0;
	if (optind + 1 != argc)
		return usage_error("expects one port name");
	code = check_name(argv[optind]);
	if (code)
		return code;
	if (!mode_set) {
		mask = umask(0);
		umask(mask);
		attr.mode = 0666 & ~mask;
	}
	memcpy(attr.name, argv[optind], strlen(argv[optind]) + 1);

	/* The device first: its errors are not the port's. */
	code = dev_open(&dev);
	if (code)
		return code;
	fd = mbx_port_create(dev, &attr);
	close(dev);
	if (fd < 0)
		return fail(-fd, "%s", ename(argv[optind]));
	close(fd);
	return EXIT_OK;
}

/* --- unlink --- */

int cmd_unlink(int argc, char **argv)
{
	int c, i, dev, ret, code, first = EXIT_OK;

	while ((c = next_opt(argc, argv, "")) != -1)
		return OPT_END(c);
	if (optind >= argc)
		return usage_error("expects a port name");
	for (i = optind; i < argc; i++) {
		code = check_name(argv[i]);
		if (code)
			return code;
	}
	code = dev_open(&dev);
	if (code)
		return code;
	for (i = optind; i < argc; i++) {
		ret = mbx_port_unlink(dev, argv[i]);
		if (ret < 0) {
			code = fail(-ret, "%s", ename(argv[i]));
			if (first == EXIT_OK)
				first = code;
		}
	}
	close(dev);
	return first;
}
