// SPDX-License-Identifier: GPL-2.0
/*
 * mbx-ledger: the message ledger of the bridge tests - numbered messages
 * whose priority, tag and payload follow from their number, sent to a port
 * on one machine and checked on another: each exactly once, FIFO within a
 * priority, metadata and payload intact.
 *
 *   mbx-ledger create NAME CAPACITY MAX_MSG_SIZE
 *   mbx-ledger send NAME COUNT SIZE PRIOS [FIRST] [-r PER_SECOND]
 *   mbx-ledger check NAME COUNT SIZE PRIOS [FIRST] [-i IDLE_S] [-L]
 *   mbx-ledger drain NAME [-i IDLE_S]
 *   mbx-ledger serve NAME REPLY [-i IDLE_S]
 *   mbx-ledger call NAME REPLY COUNT TIMEOUT_MS [SLOW_MS]
 *
 * serve answers each request of port NAME on port REPLY with "RE " and the
 * request, same tag and priority (a request "SLOW MS ..." after MS ms),
 * until idle.  call makes COUNT calls (request on NAME, reply on REPLY,
 * each waiting at most TIMEOUT_MS) and checks each reply; it prints "calls:
 * C ok O bad B timeouts T max_ms M" and exits 0 only if every call was
 * answered correctly.  With SLOW_MS the requests ask the server for that
 * delay.
 *
 * check prints one line "ledger: expected E unique U duplicates D lost L
 * reordered O bad B" and exits 0 only if D, O and B are 0 and, unless -L
 * (losses allowed: core mode), L is 0 too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mailbox.h>

static unsigned int prio_of(unsigned long long seq, unsigned int prios)
{
	return (seq * 7 + seq / 13) % prios;
}

static unsigned long long tag_of(unsigned long long seq)
{
	return seq * 2654435761ULL ^ 0x5a5a5a5a00000000ULL;
}

static size_t fill(char *buf, size_t size, unsigned long long seq, unsigned int prio)
{
	size_t n = snprintf(buf, size, "LEDGER %llu %u ", seq, prio), i;

	if (n > size)
		n = size;
	for (i = n; i < size; i++)
		buf[i] = 'a' + (seq + i) % 26;
	return size;
}

static int do_create(char **a)
{
	struct mbx_port_create c = { .mode = 0666 };
	int fd;

	snprintf(c.name, sizeof(c.name), "%s", a[0]);
	c.capacity = strtoul(a[1], NULL, 0);
	c.max_msg_size = strtoul(a[2], NULL, 0);
	fd = mbx_port_create(MBX_DEV_AUTO, &c);
	if (fd < 0) {
		fprintf(stderr, "mbx-ledger: create %s: %s\n", a[0], strerror(-fd));
		return 1;
	}
	return 0;	/* a named port outlives its fd */
}

static int do_send(int argc, char **a)
{
	unsigned long long count = strtoull(a[1], NULL, 0), first, seq;
	size_t size = strtoul(a[2], NULL, 0);
	unsigned int prios = strtoul(a[3], NULL, 0), rate = 0;
	char *buf = malloc(size + 1);
	int fd, ret, i;

	first = argc > 4 && a[4][0] != '-' ? strtoull(a[4], NULL, 0) : 1;
	for (i = 4; i + 1 < argc; i++)
		if (!strcmp(a[i], "-r"))
			rate = strtoul(a[i + 1], NULL, 0);
	fd = mbx_port_open(MBX_DEV_AUTO, a[0], MBX_SEND);
	if (fd < 0 || !buf || !prios) {
		fprintf(stderr, "mbx-ledger: send %s: %s\n", a[0], strerror(-fd));
		return 1;
	}
	for (seq = first; seq < first + count; seq++) {
		struct mbx_send s = { .prio = prio_of(seq, prios),
				      .tag = tag_of(seq) };

		s.len = fill(buf, size, seq, s.prio);
		s.buf = (uintptr_t)buf;
		ret = mbx_send_ex(fd, &s);
		if (ret) {
			fprintf(stderr, "mbx-ledger: send %llu: %s\n", seq,
				strerror(-ret));
			return 1;
		}
		if (rate && (seq - first) % 10 == 9)
			usleep(10000000ULL / rate);	/* -r: ten at a time */
	}
	printf("ledger: sent %llu messages of %zu bytes from %llu\n",
	       count, size, first);
	return 0;
}

struct tally {
	unsigned long long unique, dups, reorder, bad;
	unsigned long long last[MBX_PRIO_MAX + 1];
	unsigned char *seen;
};

static void check_one(struct tally *t, const char *buf, struct mbx_recv *r,
		      unsigned long long first, unsigned long long count, size_t size,
		      unsigned int prios, char *want)
{
	unsigned long long seq;

	if (sscanf(buf, "LEDGER %llu", &seq) != 1 || seq < first ||
	    seq >= first + count) {
		t->bad++;
		return;
	}
	fill(want, size, seq, prio_of(seq, prios));
	if (r->len != size || memcmp(buf, want, size) ||
	    r->prio != prio_of(seq, prios) || r->tag != tag_of(seq)) {
		if (t->bad++ < 5)
			fprintf(stderr, "mbx-ledger: %llu damaged: len %llu prio %u tag %llx\n",
				seq, (unsigned long long)r->len, r->prio,
				(unsigned long long)r->tag);
	}
	if (t->seen[seq - first]++) {
		t->dups++;
		return;
	}
	t->unique++;
	if (r->prio <= MBX_PRIO_MAX && seq < t->last[r->prio]) {
		if (t->reorder++ < 5)
			fprintf(stderr, "mbx-ledger: %llu after %llu at prio %u\n",
				seq, t->last[r->prio], r->prio);
	}
	if (r->prio <= MBX_PRIO_MAX && seq > t->last[r->prio])
		t->last[r->prio] = seq;
}

/* Trailing options: -i IDLE_S, -L. */
static void options(int argc, char **a, int from, unsigned int *idle,
		    bool *allow_loss)
{
	int i;

	for (i = from; i < argc; i++) {
		if (!strcmp(a[i], "-i") && i + 1 < argc)
			*idle = strtoul(a[++i], NULL, 0);
		else if (!strcmp(a[i], "-L"))
			*allow_loss = true;
	}
}

static int do_check(int argc, char **a)
{
	unsigned long long count = strtoull(a[1], NULL, 0), first = 1, lost;
	size_t size = strtoul(a[2], NULL, 0);
	unsigned int prios = strtoul(a[3], NULL, 0), idle = 30;
	char *buf = malloc(size + 1), *want = malloc(size + 1);
	struct tally t = { .seen = calloc(count + 1, 1) };
	bool allow_loss = false;
	int fd;

	if (argc > 4 && a[4][0] != '-')
		first = strtoull(a[4], NULL, 0);
	options(argc, a, 4, &idle, &allow_loss);
	fd = mbx_port_open(MBX_DEV_AUTO, a[0], MBX_RECV);
	if (fd < 0 || !buf || !want || !t.seen || !prios) {
		fprintf(stderr, "mbx-ledger: check %s: %s\n", a[0], strerror(-fd));
		return 1;
	}
	while (t.unique < count) {
		struct mbx_recv r = { .buf = (uintptr_t)buf, .len = size,
				      .flags = MBX_TIMEOUT,
				      .timeout_ns = idle * 1000000000ULL };
		ssize_t n = mbx_recv_ex(fd, &r);

		if (n < 0) {
			if (n != -ETIMEDOUT)
				fprintf(stderr, "mbx-ledger: receive: %s\n",
					strerror(-n));
			if (n == -EMSGSIZE)
				t.bad++;
			break;
		}
		r.len = n;
		check_one(&t, buf, &r, first, count, size, prios, want);
	}
	lost = count - t.unique;
	printf("ledger: expected %llu unique %llu", count, t.unique);
	printf(" duplicates %llu lost %llu reordered %llu",
	       t.dups, lost, t.reorder);
	printf(" bad %llu\n", t.bad);
	return t.dups || t.reorder || t.bad || (lost && !allow_loss);
}

static int do_drain(int argc, char **a)
{
	unsigned int idle = 2;
	bool unused;
	unsigned long long n = 0;
	char *buf = malloc(1 << 20);
	int fd = mbx_port_open(MBX_DEV_AUTO, a[0], MBX_RECV);

	options(argc, a, 1, &idle, &unused);
	if (fd < 0 || !buf)
		return 1;
	while (mbx_recv_timed(fd, buf, 1 << 20, NULL,
			      idle * 1000000000ULL) >= 0)
		n++;
	printf("ledger: drained %llu messages from %s\n", n, a[0]);
	return 0;
}

static int do_serve(int argc, char **a)
{
	unsigned int idle = 30, slow;
	bool unused;
	char *buf = malloc(1 << 16), *out = malloc((1 << 16) + 4);
	int in = mbx_port_open(MBX_DEV_AUTO, a[0], MBX_RECV);
	int rep = mbx_port_open(MBX_DEV_AUTO, a[1], MBX_SEND);
	unsigned long long n = 0;

	options(argc, a, 2, &idle, &unused);
	if (in < 0 || rep < 0 || !buf || !out)
		return 1;
	for (;;) {
		struct mbx_recv r = { .buf = (uintptr_t)buf, .len = (1 << 16) - 1,
				      .flags = MBX_TIMEOUT,
				      .timeout_ns = idle * 1000000000ULL };
		struct mbx_send s = { .buf = (uintptr_t)out };

		if (mbx_recv_ex(in, &r) < 0)
			break;
		buf[r.len] = '\0';
		if (sscanf(buf, "SLOW %u", &slow) == 1)
			usleep(slow * 1000);
		s.len = snprintf(out, (1 << 16) + 4, "RE %s", buf);
		s.tag = r.tag;
		s.prio = r.prio;
		if (mbx_send_ex(rep, &s))
			break;
		n++;
	}
	printf("ledger: served %llu requests\n", n);
	return 0;
}

static int do_call(int argc, char **a)
{
	unsigned long long count = strtoull(a[2], NULL, 0), i, ok = 0, bad = 0;
	unsigned long long tmo = 0, ms = strtoull(a[3], NULL, 0), max = 0;
	unsigned int slow = argc > 4 ? strtoul(a[4], NULL, 0) : 0;
	int req = mbx_port_open(MBX_DEV_AUTO, a[0], MBX_SEND);
	int rep = mbx_port_open(MBX_DEV_AUTO, a[1], MBX_RECV);
	char out[128], in[256], want[136];

	if (req < 0 || rep < 0)
		return 1;
	for (i = 1; i <= count; i++) {
		struct mbx_call c = { .recv_fd = rep };
		struct timespec t0, t1;
		unsigned long long took;
		int ret;

		c.send.len = slow ? snprintf(out, sizeof(out), "SLOW %u %llu", slow, i) :
			     snprintf(out, sizeof(out), "CALL %llu", i);
		c.send.buf = (uintptr_t)out;
		c.send.tag = tag_of(i);
		c.send.prio = prio_of(i, 4);
		c.recv.buf = (uintptr_t)in;
		c.recv.len = sizeof(in) - 1;
		c.recv.flags = MBX_TIMEOUT;
		c.recv.timeout_ns = ms * 1000000ULL;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		ret = mbx_call_ex(req, &c);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		took = (t1.tv_sec - t0.tv_sec) * 1000ULL +
		       (t1.tv_nsec - t0.tv_nsec) / 1000000;
		max = took > max ? took : max;
		if (ret == -ETIMEDOUT) {
			tmo++;
			continue;
		}
		in[ret < 0 ? 0 : c.recv.len] = '\0';
		snprintf(want, sizeof(want), "RE %s", out);
		if (ret >= 0 && !strcmp(in, want) && c.recv.tag == tag_of(i) &&
		    c.recv.prio == prio_of(i, 4))
			ok++;
		else
			bad++;
	}
	printf("calls: %llu ok %llu bad %llu timeouts %llu max_ms %llu\n",
	       count, ok, bad, tmo, max);
	return ok == count ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc >= 5 && !strcmp(argv[1], "create"))
		return do_create(argv + 2);
	if (argc >= 6 && !strcmp(argv[1], "send"))
		return do_send(argc - 2, argv + 2);
	if (argc >= 6 && !strcmp(argv[1], "check"))
		return do_check(argc - 2, argv + 2);
	if (argc >= 3 && !strcmp(argv[1], "drain"))
		return do_drain(argc - 2, argv + 2);
	if (argc >= 4 && !strcmp(argv[1], "serve"))
		return do_serve(argc - 2, argv + 2);
	if (argc >= 6 && !strcmp(argv[1], "call"))
		return do_call(argc - 2, argv + 2);
	fprintf(stderr, "usage: mbx-ledger create NAME CAPACITY MAX_MSG_SIZE\n"
		"       mbx-ledger send NAME COUNT SIZE PRIOS [FIRST] [-r PER_SECOND]\n"
		"       mbx-ledger check NAME COUNT SIZE PRIOS [FIRST] [-i IDLE_S] [-L]\n"
		"       mbx-ledger drain NAME [-i IDLE_S]\n"
		"       mbx-ledger serve NAME REPLY [-i IDLE_S]\n"
		"       mbx-ledger call NAME REPLY COUNT TIMEOUT_MS [SLOW_MS]\n");
	return 2;
}
