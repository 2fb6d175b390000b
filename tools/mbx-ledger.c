// SPDX-License-Identifier: GPL-2.0
/*
 * mbx-ledger: the message ledger of the bridge tests - numbered messages
 * whose priority, tag and payload follow from their number, sent to a port
 * on one machine and checked on another: each exactly once, FIFO within a
 * priority, metadata and payload intact.
 *
 *   mbx-ledger create NAME CAPACITY MAX_MSG_SIZE
 *   mbx-ledger send NAME COUNT SIZE PRIOS [FIRST]
 *   mbx-ledger check NAME COUNT SIZE PRIOS [FIRST] [-i IDLE_S] [-L]
 *   mbx-ledger drain NAME [-i IDLE_S]
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
	unsigned int prios = strtoul(a[3], NULL, 0);
	char *buf = malloc(size + 1);
	int fd, ret;

	first = argc > 4 ? strtoull(a[4], NULL, 0) : 1;
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
	fprintf(stderr, "usage: mbx-ledger create NAME CAPACITY MAX_MSG_SIZE\n"
		"       mbx-ledger send NAME COUNT SIZE PRIOS [FIRST]\n"
		"       mbx-ledger check NAME COUNT SIZE PRIOS [FIRST] [-i IDLE_S] [-L]\n"
		"       mbx-ledger drain NAME [-i IDLE_S]\n");
	return 2;
}
