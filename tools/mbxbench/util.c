// SPDX-License-Identifier: GPL-2.0
/*
 * mbxbench: small helpers: name lists, sizes, medians, files, payloads.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

/* Is @name in the comma-separated @list?  A NULL list holds everything. */
bool in_list(const char *list, const char *name)
{
	size_t len = strlen(name);
	const char *p = list;

	if (!list)
		return true;
	while (p && *p) {
		if (!strncmp(p, name, len) && (p[len] == ',' || !p[len]))
			return true;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return false;
}

const char *size_str(size_t size, char *buf, size_t len)
{
	if (!size)
		snprintf(buf, len, "-");
	else if (size >= MiB && !(size % MiB))
		snprintf(buf, len, "%zuM", size / MiB);
	else if (size >= KiB && !(size % KiB))
		snprintf(buf, len, "%zuK", size / KiB);
	else
		snprintf(buf, len, "%zu", size);
	return buf;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median of the finite values in @v[0..n); NAN if there are none. */
double median(double *v, unsigned int n)
{
	unsigned int i, k = 0;

	for (i = 0; i < n; i++)
		if (isfinite(v[i]))
			v[k++] = v[i];
	if (!k)
		return NAN;
	qsort(v, k, sizeof(*v), cmp_double);
	return k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
}

int write_file(const char *path, const char *fmt, ...)
{
	va_list ap;
	FILE *f;
	int ret;

	f = fopen(path, "w");
	if (!f)
		return -errno;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	ret = fclose(f) ? -errno : 0;
	return ret;
}

int read_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	buf[0] = '\0';
	if (!f)
		return -errno;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

/* ------------------------------------------------------------------------
 * Payloads.  End-to-end runs fill every 8-byte word of a message with
 * seq + i; the receiver sums the words and compares with the closed form.
 */

void fill(void *p, size_t len, uint64_t seq)
{
	uint64_t *w = p;
	size_t i;

	for (i = 0; i < len / 8; i++)
		w[i] = seq + i;
}

int check(const void *p, size_t len, uint64_t seq)
{
	const uint64_t *w = p;
	uint64_t n = len / 8, sum = 0;
	size_t i;

	for (i = 0; i < n; i++)
		sum += w[i];
	return sum == n * seq + n * (n - 1) / 2 ? 0 : -EBADMSG;
}
