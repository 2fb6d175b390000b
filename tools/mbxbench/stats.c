// SPDX-License-Identifier: GPL-2.0
/*
 * mbxbench: statistics: the samples of one cell run, and the rounds of a cell.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <string.h>

#include "bench.h"

/* The parent's sort buffer. */
uint32_t *sort_tmp;

/* Sort @n samples (LSD radix sort, 3 passes of 11 bits). */
static void sort_samples(uint32_t *v, uint32_t *tmp, uint32_t n)
{
	static uint32_t count[2048];
	uint32_t *src = v, *dst = tmp, *swap, i, sum;
	int shift;

	for (shift = 0; shift < 33; shift += 11) {
		memset(count, 0, sizeof(count));
		for (i = 0; i < n; i++)
			count[(src[i] >> shift) & 2047]++;
		for (sum = 0, i = 0; i < 2048; i++) {
			uint32_t c = count[i];

			count[i] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			dst[count[(src[i] >> shift) & 2047]++] = src[i];
		swap = src;
		src = dst;
		dst = swap;
	}
	if (src != v)
		memcpy(v, src, n * sizeof(*v));
}

static double pct(const uint32_t *v, uint32_t n, double p)
{
	uint32_t k = (uint32_t)ceil(p / 100.0 * n);

	return v[k ? k - 1 : 0];
}

/*
 * Drop the first 10% of each process's samples (if @warm_up), gather the
 * rest at the start of shared->sample[] and compute the statistics.  The
 * rate is the sum of each process's samples per second of its kept
 * samples.
 */
void compute(struct result *res, unsigned int nseg, bool warm_up)
{
	uint32_t *all = shared->sample, n = 0, i, j;
	double sum_all = 0;

	res->rate = 0;
	for (i = 0; i < nseg; i++) {
		struct seg *s = &shared->seg[i];
		uint32_t skip = warm_up ? (s->n + 9) / 10 : 0;
		uint32_t kept = s->n - skip;
		double sum = 0;

		for (j = 0; j < kept; j++) {
			all[n + j] = s->s[skip + j];
			sum += all[n + j];
		}
		n += kept;
		sum_all += sum;
		if (sum > 0)
			res->rate += kept * 1e9 / sum;
	}
	res->n = n;
	if (!n) {
		res->err = -ENODATA;
		return;
	}
	sort_samples(all, sort_tmp, n);
	res->p50 = pct(all, n, 50);
	res->p90 = pct(all, n, 90);
	res->p99 = pct(all, n, 99);
	res->p999 = pct(all, n, 99.9);
	res->max = all[n - 1];
	res->mean = sum_all / n;
}

/*
 * The rounds of @a (and @b, if not NULL) that have numbers, in @use.
 * Return: how many; *@busy: how many of them ran on a busy host.
 */
unsigned int pick_rounds(const struct cell *a, const struct cell *b,
			 bool use[MAX_ROUNDS], unsigned int *busy)
{
	unsigned int r, n = 0;

	*busy = 0;
	for (r = 0; r < opt.rounds; r++) {
		use[r] = !a->res[r].err && (!b || !b->res[r].err);
		n += use[r];
		if (use[r] && (a->res[r].busy || (b && b->res[r].busy)))
			(*busy)++;
	}
	return n;
}

/* Median over the rounds used of one statistic; NAN if there are none. */
double med_stat(const struct cell *c, size_t off)
{
	unsigned int r, busy;
	double v[MAX_ROUNDS];
	bool use[MAX_ROUNDS];

	pick_rounds(c, NULL, use, &busy);
	for (r = 0; r < opt.rounds; r++)
		v[r] = use[r] ? *(const double *)((const char *)&c->res[r] + off) :
		       NAN;
	return median(v, opt.rounds);
}

double max_stat(const struct cell *c)
{
	unsigned int r, busy;
	bool use[MAX_ROUNDS];
	double m = NAN;

	pick_rounds(c, NULL, use, &busy);
	for (r = 0; r < opt.rounds; r++)
		if (use[r] && (isnan(m) || c->res[r].max > m))
			m = c->res[r].max;
	return m;
}
