// SPDX-License-Identifier: GPL-2.0
/*
 * mbxbench: target ratios: which pairs of cells are compared, and the report of them.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

enum metric { M_P50, M_TAIL, M_RATE };

struct ratio {
	const char *target;	/* the issue's target this row checks */
	unsigned int sc;
	const char *a;		/* measured: a / b */
	size_t sa;
	const char *b;		/* NULL: a's p50 reported, in us; no goal */
	size_t sb;
	enum metric m;
	double lo, hi;		/* goal: lo <= ratio <= hi; NAN: a reference */
	unsigned int sc_b;	/* b's scenario: usually @sc */
};

static double metric(const struct result *r, enum metric m)
{
	if (r->err)
		return NAN;
	switch (m) {
	case M_P50:
		return r->p50;
	case M_TAIL:
		return r->p99 / r->p50;
	case M_RATE:
		return r->rate;
	}
	return NAN;
}

static const char *metric_name(enum metric m)
{
	return m == M_P50 ? "p50" : m == M_TAIL ? "p99/p50" : "rate";
}

/* The median over the rounds of a / b, with the smallest and largest. */
static double ratio_of(const struct ratio *x, double *lo, double *hi,
		       unsigned int *used, unsigned int *busy)
{
	const struct cell *a = find_cell(x->sc, x->a, x->sa);
	const struct cell *b = x->b ? find_cell(x->sc_b, x->b, x->sb) : NULL;
	bool use[MAX_ROUNDS];
	double v[MAX_ROUNDS];
	unsigned int r;

	*lo = NAN;
	*hi = NAN;
	*used = 0;
	*busy = 0;
	if (!a || (x->b && !b))
		return NAN;
	*used = pick_rounds(a, b, use, busy);
	for (r = 0; r < opt.rounds; r++) {
		if (!b)
			v[r] = use[r] ? metric(&a->res[r], x->m) / 1000 : NAN;
		else
			v[r] = use[r] ? metric(&a->res[r], x->m) /
					metric(&b->res[r], x->m) : NAN;
		if (!isfinite(v[r]))
			continue;
		if (isnan(*lo) || v[r] < *lo)
			*lo = v[r];
		if (isnan(*hi) || v[r] > *hi)
			*hi = v[r];
	}
	return median(v, opt.rounds);
}

static struct ratio *ratios;
static unsigned int nr_ratios;

static void add_ratio(const char *target, unsigned int sc, const char *a,
		      size_t sa, const char *b, size_t sb, enum metric m,
		      double lo, double hi)
{
	struct ratio *x;

	ratios = realloc(ratios, (nr_ratios + 1) * sizeof(*ratios));
	if (!ratios) {
		perror("realloc");
		exit(1);
	}
	x = &ratios[nr_ratios++];
	*x = (struct ratio){ target, sc, a, sa, b, sb, m, lo, hi, sc };
}

/* A ratio of cells of two scenarios: a in @sc, b in @sc_b. */
static void add_ratio_across(const char *target, unsigned int sc,
			     const char *a, size_t sa, unsigned int sc_b,
			     const char *b, size_t sb, enum metric m,
			     double lo, double hi)
{
	add_ratio(target, sc, a, sa, b, sb, m, lo, hi);
	ratios[nr_ratios - 1].sc_b = sc_b;
}

/*
 * A reference row: what the floor a target is measured against does
 * itself on the same ratio, with no goal.  Where the floor misses the goal
 * too, the machine (emulation) is what stands in the way, not mailbox.
 */
static void add_reference(const char *target, unsigned int sc, const char *a,
			  size_t sa, unsigned int sc_b, const char *b,
			  size_t sb, enum metric m)
{
	add_ratio_across(target, sc, a, sa, sc_b, b, sb, m, NAN, NAN);
}

/*
 * Topics.  The time per delivered message is the inverse of the delivered
 * rate (summed over the subscribers), so time ratios are rate ratios
 * upside down.
 */
static void build_topic_ratios(void)
{
	static const unsigned int pubs[] = { SC_PUB1, SC_PUB4, SC_PUB16 };
	const char *t8 = "Topics: 1 MiB zero copy, time per delivered message";
	const char *t9 = "Topics: 64 B copy mode, delivered messages/s";
	unsigned int i;

	/* 16 subscribers cost at most 1.5x the time per message of 1 */
	add_ratio_across(t8, SC_PUB1, "mbx-topic-0copy", 1 * MiB, SC_PUB16,
			 "mbx-topic-0copy", 1 * MiB, M_RATE, 0, 1.5);
	add_reference(t8, SC_PUB1, "efd-shm-fanout", 1 * MiB, SC_PUB16,
		      "efd-shm-fanout", 1 * MiB, M_RATE);
	for (i = 0; i < ARRAY_SIZE(pubs); i++) {
		add_ratio(t8, pubs[i], "mbx-topic-0copy", 1 * MiB, "pipe",
			  1 * MiB, M_RATE, 10, INFINITY);
		/* time(topic) / time(floor) <= 1.3 */
		add_ratio(t8, pubs[i], "efd-shm-fanout", 1 * MiB,
			  "mbx-topic-0copy", 1 * MiB, M_RATE, 0, 1.3);
	}
	/* ioctl (mbx_send/mbx_recv), then write()/read() as on the pipes */
	for (i = 1; i < ARRAY_SIZE(pubs); i++) {
		add_ratio(t9, pubs[i], "mbx-topic", 64, "pipe", 64, M_RATE,
			  1.0, INFINITY);
		add_ratio(t9, pubs[i], "mbx-topic-rw", 64, "pipe", 64, M_RATE,
			  1.0, INFINITY);
	}
}

/* Round trips (8-256 B), request/reply, and their tails. */
static void build_rtt_ratios(void)
{
	static const size_t small[] = { 8, 64, 256 };
	const char *t1 = "8-256 B blocking round trip, copy mode";
	const char *t1b = "8-256 B request/reply (mbx_call)";
	const char *t5 = "p99/p50 of every round trip no worse than 1.1x pipe's";
	static const char *const tails[] = { "mbx-copy", "mbx-rw", "mbx-call" };
	unsigned int i, j;

	for (i = 0; i < ARRAY_SIZE(small); i++) {
		add_ratio(t1, SC_RTT2, "mbx-copy", small[i], "pipe", small[i], M_P50, 0, 1.0);
		add_ratio(t1, SC_RTT2, "mbx-copy", small[i], "posix-mq", small[i],
			  M_P50, 0, 0.95);
		add_ratio(t1, SC_RTT2, "mbx-rw", small[i], "pipe", small[i], M_P50, 0, 1.0);
		add_ratio(t1, SC_RTT1, "mbx-copy", small[i], "pipe", small[i], M_P50, 0, 1.0);
		add_ratio(t1, SC_RTT1, "mbx-copy", small[i], "posix-mq", small[i],
			  M_P50, 0, 1.0);
	}
	for (i = 0; i < ARRAY_SIZE(small); i++)
		add_ratio(t1b, SC_RTT2, "mbx-call", small[i], "pipe", small[i], M_P50,
			  0, 0.6);
	for (j = 0; j < ARRAY_SIZE(tails); j++)
		for (i = 0; i < ARRAY_SIZE(small); i++)
			add_ratio(t5, SC_RTT2, tails[j], small[i], "pipe", small[i],
				  M_TAIL, 0, 1.1);
	add_ratio(t5, SC_RTT2, "mbx-0copy", 64, "pipe", 64, M_TAIL, 0, 1.1);
	add_ratio(t5, SC_RTT2, "mbx-0copy", 1 * MiB, "pipe", 1 * MiB, M_TAIL, 0, 1.1);
	add_ratio(t5, SC_RTT2, "mbx-0copy-call", 64, "pipe", 64, M_TAIL, 0, 1.1);
	add_ratio(t5, SC_RTT2, "mbx-0copy-call", 1 * MiB, "pipe", 1 * MiB, M_TAIL,
		  0, 1.1);
	/*
	 * A pipe's 1 MiB round trip is milliseconds of copying, so its tail
	 * is tight; a zero-copy one is microseconds, where one timer tick
	 * shows.  The eventfd floor on the same ratio says which it is.
	 */
	add_reference(t5, SC_RTT2, "efd-shm-0copy", 1 * MiB, SC_RTT2, "pipe",
		      1 * MiB, M_TAIL);
}

/* Zero copy: flat in size, at the eventfd floor, far past pipes. */
static void build_zc_ratios(void)
{
	const char *t2 = "Zero copy, payload untouched";
	unsigned int i;

	for (i = 0; all_sizes[i]; i++)
		add_ratio(t2, SC_RTT2, "mbx-0copy", all_sizes[i], "mbx-0copy", 8,
			  M_P50, 0.85, 1.15);
	for (i = 0; all_sizes[i]; i++)
		add_ratio(t2, SC_RTT2, "mbx-0copy-call", all_sizes[i],
			  "mbx-0copy-call", 8, M_P50, 0.85, 1.15);
	for (i = 0; all_sizes[i]; i++)
		add_ratio(t2, SC_RTT2, "mbx-0copy", all_sizes[i], "efd-shm-0copy",
			  all_sizes[i], M_P50, 0, 1.2);
	for (i = 0; all_sizes[i]; i++)
		add_ratio(t2, SC_RTT2, "mbx-0copy-call", all_sizes[i], "efd-shm-0copy",
			  all_sizes[i], M_P50, 0, 1.1);
	/* The four-call form, kept visible beside the one-call form. */
	add_ratio(t2, SC_RTT2, "mbx-0copy-4call", 64, "efd-shm-0copy", 64, M_P50,
		  0, 1.2);
	add_ratio(t2, SC_RTT2, "mbx-0copy-4call", 1 * MiB, "efd-shm-0copy",
		  1 * MiB, M_P50, 0, 1.2);
	add_ratio(t2, SC_RTT2, "pipe", 1 * MiB, "mbx-0copy", 1 * MiB, M_P50, 20, INFINITY);
	/* Issue 14: sealing costs <= 1.2x an unsealed send at 1 MiB. */
	add_ratio(t2, SC_RTT2, "mbx-0copy-sealed", 1 * MiB, "mbx-0copy", 1 * MiB,
		  M_P50, 0, 1.2);
	/*
	 * With every byte written and checked: each sealed send then zaps
	 * what the sender wrote, and the next fill of those pages takes a
	 * write fault each.  Unsealed messages/s over sealed, reported.
	 */
	add_ratio(t2, SC_E2E, "mbx-0copy", 1 * MiB, "mbx-0copy-sealed", 1 * MiB,
		  M_RATE, NAN, NAN);
}

/* libmailbox-mq against the kernel's POSIX message queues. */
static void build_mq_ratios(void)
{
	static const size_t mq_sizes[] = { 8, 64, 256, 1 * KiB, 4 * KiB, 8 * KiB };
	const char *t7 = "libmailbox-mq vs the kernel's POSIX mq";
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(mq_sizes); i++)
		add_ratio(t7, SC_RTT2, "mbx-mq", mq_sizes[i], "posix-mq",
			  mq_sizes[i], M_P50, 0, 1.0);
	add_ratio(t7, SC_STREAM, "mbx-mq", 64, "posix-mq", 64, M_RATE, 1.0,
		  INFINITY);
}

/*
 * Rings (issue 19): mbx-ring against pipes, against the hand-written ring
 * (plain-ring) and the eventfd floor; mbx-ring-0copy against the pool's
 * zero copy; the CPU time of an idle ring, reported.
 */
static void build_ring_ratios(void)
{
	static const size_t small[] = { 8, 64, 256 };
	const char *t10 = "Rings: 8-256 B round trip, both sides busy (spinning)";
	const char *t11 = "Rings: 8-256 B round trip to a sleeping server";
	const char *t12 = "Rings: 64 B stream, messages/s";
	const char *t13 = "Rings: 1 MiB messages, messages/s";
	const char *t14 = "Rings: CPU time of an idle channel over 1 s, us (both processes)";
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(small); i++) {
		add_ratio(t10, SC_RTT2, "mbx-ring", small[i], "pipe", small[i],
			  M_P50, 0, 0.05);
		add_ratio(t10, SC_RTT2, "mbx-ring", small[i], "plain-ring",
			  small[i], M_P50, 0, 1.2);
		add_reference(t10, SC_RTT2, "plain-ring", small[i], SC_RTT2,
			      "pipe", small[i], M_P50);
	}
	for (i = 0; i < ARRAY_SIZE(small); i++)
		add_ratio(t11, SC_RTT_SLEEP, "mbx-ring", small[i],
			  "efd-shm-0copy", small[i], M_P50, 0, 1.1);
	add_ratio(t12, SC_STREAM, "mbx-ring", 64, "pipe", 64, M_RATE, 20,
		  INFINITY);
	add_ratio(t12, SC_STREAM, "mbx-ring", 64, "plain-ring", 64, M_RATE,
		  0.8, INFINITY);
	add_reference(t12, SC_STREAM, "plain-ring", 64, SC_STREAM, "pipe", 64,
		      M_RATE);
	add_ratio(t13, SC_STREAM, "mbx-ring-0copy", 1 * MiB, "mbx-0copy",
		  1 * MiB, M_RATE, 1.0, INFINITY);
	add_ratio(t13, SC_E2E, "mbx-ring-0copy", 1 * MiB, "mbx-0copy",
		  1 * MiB, M_RATE, 1.0, INFINITY);
	add_ratio(t14, SC_IDLE, "mbx-ring", 8, NULL, 0, M_P50, NAN, NAN);
	add_ratio(t14, SC_IDLE, "plain-ring", 8, NULL, 0, M_P50, NAN, NAN);
	add_ratio(t14, SC_IDLE, "pipe", 8, NULL, 0, M_P50, NAN, NAN);
}

void build_ratios(void)
{
	static const size_t big[] = { 64 * KiB, 256 * KiB, 1 * MiB, 4 * MiB };
	const char *t3 = "End-to-end streaming >= 64 KiB, bytes/s";
	const char *t4 = "64 B message rate";
	const char *t6 = "Setup: a 1 MiB pool from nothing to written";
	unsigned int i;

	build_rtt_ratios();
	build_zc_ratios();
	for (i = 0; i < ARRAY_SIZE(big); i++) {
		add_ratio(t3, SC_E2E, "mbx-0copy", big[i], "pipe", big[i], M_RATE, 2.5, INFINITY);
		add_ratio(t3, SC_E2E, "mbx-0copy", big[i], "unix-seqpacket", big[i],
			  M_RATE, 1.3, INFINITY);
	}
	add_ratio(t4, SC_STREAM, "mbx-batch32", 64, "pipe", 64, M_RATE, 1.5, INFINITY);
	add_ratio(t4, SC_STREAM, "mbx-copy", 64, "pipe", 64, M_RATE, 1.0, INFINITY);
	add_ratio(t6, SC_SETUP, "mbx-pool-full", 1 * MiB, "shm-full", 1 * MiB, M_P50,
		  0, 1.25);
	build_mq_ratios();
	build_topic_ratios();
	build_ring_ratios();
}

static const char *goal_str(const struct ratio *x, char *buf, size_t len)
{
	if (!x->b)
		snprintf(buf, len, "reported");
	else if (isnan(x->hi))
		snprintf(buf, len, "reference");
	else if (isinf(x->hi))
		snprintf(buf, len, ">= %.2f", x->lo);
	else if (x->lo > 0)
		snprintf(buf, len, "%.2f..%.2f", x->lo, x->hi);
	else
		snprintf(buf, len, "<= %.2f", x->hi);
	return buf;
}

static void print_ratio_row(const struct ratio *x, double v, double lo,
			    double hi, unsigned int used, unsigned int busy,
			    const char *verdict)
{
	char goal[32], sa[24], sb[24], ab[96], range[40];

	goal_str(x, goal, sizeof(goal));
	size_str(x->sa, sa, sizeof(sa));
	size_str(x->sb, sb, sizeof(sb));
	if (!x->b)
		snprintf(ab, sizeof(ab), "%s", x->a);
	else
		snprintf(ab, sizeof(ab), "%s %s / %s %s%s%s", x->a, sa, x->b,
			 sb, x->sc_b == x->sc ? "" : " in ",
			 x->sc_b == x->sc ? "" : scenarios[x->sc_b].name);
	if (isnan(v))
		snprintf(range, sizeof(range), "-");
	else
		snprintf(range, sizeof(range), "[%.2f..%.2f]", lo, hi);
	printf("  %-10s %-7s %-36s %8.2f %15s %4u/%u %-11s %s\n",
	       scenarios[x->sc].name, x->b ? metric_name(x->m) : "cpu_us", ab,
	       v, range, used, busy, goal, verdict);
}

void print_ratios(bool csv)
{
	unsigned int i, used, met = 0, missed = 0, na = 0;
	const char *last = NULL;
	char goal[32];

	if (csv)
		printf("target,scenario,a,a_size,b,b_size,metric,%s\n",
		       "median_ratio,min_ratio,max_ratio,rounds,busy_host_rounds,goal,met");
	else
		printf("\n## Target ratios\n%s\n%s\n",
		       "ratio: median of the per-round ratios a / b; [min..max] over the rounds;",
		       "rounds: with numbers / of those, how many the host check flagged as busy");
	for (i = 0; i < nr_ratios; i++) {
		const struct ratio *x = &ratios[i];
		unsigned int busy;
		double lo, hi, v;
		const char *verdict;

		v = ratio_of(x, &lo, &hi, &used, &busy);
		verdict = isnan(v) ? "n/a" : v >= x->lo && v <= x->hi ? "yes" : "NO";
		if (!x->b || isnan(x->hi))
			verdict = "-";	/* reported, not counted */
		else if (isnan(v))
			na++;
		else if (*verdict == 'y')
			met++;
		else
			missed++;
		if (csv) {
			printf("\"%s\",%s,%s,%zu,%s%s%s,%zu,%s,%.4f,%.4f,%.4f,%u,%u,%s,%s\n",
			       x->target, scenarios[x->sc].name, x->a, x->sa,
			       x->b ? x->b : "", x->sc_b == x->sc ? "" : "@",
			       x->sc_b == x->sc ? "" : scenarios[x->sc_b].name,
			       x->sb, x->b ? metric_name(x->m) : "cpu_us", v,
			       lo, hi, used, busy,
			       goal_str(x, goal, sizeof(goal)), verdict);
			continue;
		}
		if (!last || strcmp(last, x->target)) {
			printf("\n%s\n", x->target);
			printf("  %-10s %-7s %-36s %8s %15s %6s %-11s %s\n",
			       "scenario", "metric", "a / b", "ratio", "[min..max]",
			       "rounds", "goal", "met");
			last = x->target;
		}
		print_ratio_row(x, v, lo, hi, used, busy, verdict);
	}
	if (!csv)
		printf("\nTargets: %u met, %u missed, %u n/a\n", met, missed, na);
}
