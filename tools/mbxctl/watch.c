// SPDX-License-Identifier: GPL-2.0
/*
 * mbxctl: watch, a port's counters and rates over time.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mailbox.h>

#include "mbxctl.h"

static void sleep_until(uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ns / 1000000000ULL),
		.tv_nsec = (long)(ns % 1000000000ULL),
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/*
 * The first line time after @now on the grid start + k * step: lines
 * missed (the process was stopped, or slow) are skipped, not printed in
 * a burst.
 */
static uint64_t next_deadline(uint64_t start, uint64_t step, uint64_t now)
{
	return start + ((now - start) / step + 1) * step;
}

static double rate(uint64_t now, uint64_t before, double secs)
{
	return secs > 0 ? (double)(now - before) / secs : 0.0;
}

/*
 * watch's options into *@interval_ms and *@count; -1 to go on, else the
 * exit status.
 */
static int watch_opts(int argc, char **argv, uint64_t *interval_ms,
		      uint64_t *count)
{
	uint64_t v;
	int c;

	while ((c = next_opt(argc, argv, "i:k:")) != -1) {
		switch (c) {
		case 'i':
			if (parse_num(optarg, 86400000, false, &v) || !v)
				return usage_error("bad interval '%s' (1..86400000 ms)",
						   ename(optarg));
			*interval_ms = v;
			break;
		case 'k':
			if (parse_num(optarg, UINT64_MAX, false, &v))
				return usage_error("bad count '%s'", ename(optarg));
			*count = v;
			break;
		default:
			return OPT_END(c);
		}
	}
	return -1;
}

/*
 * Line @i of watch: @p as read at @t (@start: when line 0 was), and from
 * line 1 on the rates since @prev, read at @t_prev.
 */
static void watch_line(const struct mbx_port_info *p,
		       const struct mbx_port_info *prev, uint64_t i,
		       uint64_t start, uint64_t t, uint64_t t_prev)
{
	char pool[64], a[32], b[32];

	if (p->pool_size) {
		fmt_size(a, sizeof(a), p->pool_size - p->pool_free);
		fmt_size(b, sizeof(b), p->pool_size);
		snprintf(pool, sizeof(pool), "%s/%s", a, b);
	} else {
		snprintf(pool, sizeof(pool), "-");
	}
	printf("%8.1f %6u %4u %4u %5u %5u %10llu %10llu",
	       (double)(t - start) / 1e9, p->queued, p->senders,
	       p->receivers, p->send_waiting, p->recv_waiting, p->sent,
	       p->received);
	if (i) {
		double secs = (double)(t - t_prev) / 1e9;

		printf(" %9.1f %9.1f %11.1f %11.1f",
		       rate(p->sent, prev->sent, secs),
		       rate(p->received, prev->received, secs),
		       rate(p->bytes_sent, prev->bytes_sent, secs),
		       rate(p->bytes_received, prev->bytes_received, secs));
	} else {
		printf(" %9s %9s %11s %11s", "-", "-", "-", "-");
	}
	printf(" %9s%s\n", pool,
	       p->state & MBX_STATE_SHUTDOWN ? " shutdown" : "");
}

int cmd_watch(int argc, char **argv)
{
	struct mbx_port_info p, prev;
	const char *name;
	uint64_t interval_ms = 1000, count = 0, i, start, t, t_prev = 0, next = 0;
	int fd, code, ret;

	code = watch_opts(argc, argv, &interval_ms, &count);
	if (code >= 0)
		return code;
	if (optind + 1 != argc)
		return usage_error("expects one port name");
	name = argv[optind];
	code = check_name(name);
	if (code)
		return code;

	fd = port_open_any(name, &code);
	if (fd < 0)
		return code;
	printf("%8s %6s %4s %4s %5s %5s %10s %10s %9s %9s %11s %11s %9s %s\n",
	       "TIME", "QUEUED", "SND", "RCV", "SWAIT", "RWAIT", "SENT",
	       "RECEIVED", "SENT/s", "RECV/s", "SENT_B/s", "RECV_B/s", "POOL",
	       "STATUS");
	memset(&prev, 0, sizeof(prev));
	start = mono_ns();
	for (i = 0; !count || i < count; i++) {
		if (i)
			sleep_until(next);
		memset(&p, 0, sizeof(p));
		ret = mbx_port_info(fd, &p);
		t = mono_ns();
		if (ret < 0) {
			close(fd);
			return fail(-ret, "%s", ename(name));
		}
		watch_line(&p, &prev, i, start, t, t_prev);
		if (fflush(stdout)) {
			close(fd);
			fail(errno, "write to stdout");
			return EXIT_ERROR;
		}
		prev = p;
		t_prev = t;
		next = next_deadline(start, interval_ms * 1000000ULL, mono_ns());
	}
	close(fd);
	return EXIT_OK;
}
