// SPDX-License-Identifier: GPL-2.0
/*
 * mbxbench: the report: header, legend, tables and CSV of the results.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "bench.h"

static void print_us(double ns)
{
	if (isnan(ns))
		printf(" %9s", "n/a");
	else
		printf(" %9.1f", ns / 1000);
}

void print_tables(void)
{
	unsigned int s, i, r;
	char sz[24];

	for (s = 0; s < NR_SC; s++) {
		const struct scenario *sc = &scenarios[s];
		size_t last_size = SIZE_MAX;
		bool any = false;

		for (i = 0; i < nr_cells; i++)
			any |= cells[i].sc == sc;
		if (!any)
			continue;
		printf("\n## %s [%s]\n", sc->title, sc->name);
		printf("Times in us per %s; median over the rounds (max: largest);\n%s\n",
		       sc->unit, "rounds: with numbers / of those, run on a busy host");
		printf("%-18s %5s %9s %9s %9s %9s %9s %9s %11s %9s %7s %6s\n",
		       "transport", "size", "p50", "p90", "p99", "p99.9",
		       "max", "mean", "msgs/s", "MB/s", "samples", "rounds");
		for (i = 0; i < nr_cells; i++) {
			const struct cell *c = &cells[i];
			unsigned int used, busy;
			bool use[MAX_ROUNDS];
			unsigned long n = 0;
			double rate;

			if (c->sc != sc)
				continue;
			if (c->size != last_size && last_size != SIZE_MAX)
				printf("\n");
			last_size = c->size;
			printf("%-18s %5s", cell_peer(c), size_str(c->size, sz, sizeof(sz)));
			used = pick_rounds(c, NULL, use, &busy);
			for (r = 0; r < opt.rounds; r++)
				n += use[r] ? c->res[r].n : 0;
			if (!used) {
				printf("  n/a (%s)\n", c->note);
				continue;
			}
			print_us(MED(c, p50));
			print_us(MED(c, p90));
			print_us(MED(c, p99));
			print_us(MED(c, p999));
			print_us(max_stat(c));
			print_us(MED(c, mean));
			rate = MED(c, rate);
			printf(" %11.0f", rate);
			if (c->size)
				printf(" %9.1f", rate * c->size / 1e6);
			else
				printf(" %9s", "-");
			printf(" %7lu %4u/%u", n, used, busy);
			for (r = 0; r < opt.rounds; r++)
				if (c->res[r].err)
					break;
			if (r < opt.rounds)
				printf("  (some rounds n/a: %s)", c->note);
			printf("\n");
		}
	}
}

void print_csv(void)
{
	unsigned int i, r;

	printf("scenario,transport,size,round,status,busy_host,samples,p50_ns,p90_ns,%s\n",
	       "p99_ns,p999_ns,max_ns,mean_ns,msgs_per_s,bytes_per_s");
	for (i = 0; i < nr_cells; i++) {
		const struct cell *c = &cells[i];

		for (r = 0; r < opt.rounds; r++) {
			const struct result *x = &c->res[r];

			printf("%s,%s,%zu,%u,", c->sc->name, cell_peer(c), c->size, r + 1);
			if (x->err) {
				printf("%s,%d,0,,,,,,,,\n", strerror(-x->err), x->busy);
				continue;
			}
			printf("ok,%d,%u,%.0f,%.0f,%.0f,%.0f,%.0f,%.1f,%.1f,%.1f\n",
			       x->busy, x->n, x->p50, x->p90, x->p99, x->p999, x->max,
			       x->mean, x->rate, x->rate * c->size);
		}
	}
}

/* Cost of one timestamp, ns (median of a few tries). */
static double clock_cost(void)
{
	double v[5];
	unsigned int i, k;

	for (k = 0; k < 5; k++) {
		uint64_t t0 = now_ns();

		for (i = 0; i < 10000; i++)
			now_ns();
		v[k] = (now_ns() - t0) / 10000.0;
	}
	return median(v, 5);
}

void print_header(void)
{
	struct mbx_version ver = { 0 };
	char cmdline[512], cs[64], msz[32], bpu[32], spin[32];
	unsigned int i, r, busy = 0;
	struct utsname u;

	uname(&u);
	read_file("/proc/cmdline", cmdline, sizeof(cmdline));
	read_file("/sys/devices/system/clocksource/clocksource0/current_clocksource",
		  cs, sizeof(cs));
	read_file(MBX_PARAM("max_msg_size"), msz, sizeof(msz));
	read_file(MBX_PARAM("max_bytes_per_user"), bpu, sizeof(bpu));
	if (read_file(MBX_PARAM("call_spin_ns"), spin, sizeof(spin)))
		snprintf(spin, sizeof(spin), "(none)");
	mbx_version(mbx_dev, &ver);

	printf("# mbxbench\n");
	printf("QEMU:        %s\n", opt.qemu ? opt.qemu : "(not given; pass -Q)");
	printf("host:        %s\n", opt.host ? opt.host : "(not given; pass -H)");
	printf("vCPUs:       %ld online\n", sysconf(_SC_NPROCESSORS_ONLN));
	printf("kernel:      %s %s\n", u.release, u.version);
	printf("cmdline:     %s\n", cmdline);
	printf("clock:       CLOCK_MONOTONIC via %s, %.0f ns per reading\n", cs,
	       clock_cost());
	printf("mailbox:     API %u, features%s%s%s%s; max_msg_size %s, max_bytes_per_user %s,\n",
	       ver.version,
	       ver.features & MBX_FEAT_PORTS ? " ports" : "",
	       ver.features & MBX_FEAT_POOL ? " pool" : "",
	       ver.features & MBX_FEAT_CALL ? " call" : "",
	       ver.features & MBX_FEAT_BATCH ? " batch" : "",
	       msz, bpu);
	printf("             call_spin_ns %s\n", spin);
	for (i = 0; i < nr_cells; i++)
		for (r = 0; r < opt.rounds; r++)
			busy += cells[i].res[r].busy;
	printf("host check:  %lu pipe ping-pongs across vCPUs, every %d s (p50 < %d us wanted),\n",
	       canary.checks, CANARY_EVERY_MS / 1000, CANARY_NS / 1000);
	printf("             %lu waits of %d ms, %.1f s waiting for a quiet host (at most %d s);\n",
	       canary.waits, CANARY_WAIT_MS, canary.waited_ns / 1e9, CANARY_TOTAL_WAIT_S);
	printf("             %u of %u cell runs flagged as run on a busy host\n", busy,
	       nr_cells * opt.rounds);
	printf("method:      %u rounds in shuffled order (seed %llu), %u ms per cell,\n"
	       "             first 10%% of each process's samples dropped, processes pinned and mlockall'd\n",
	       opt.rounds, (unsigned long long)opt.seed, opt.budget_ms);
}

void print_legend(void)
{
	const struct setup_op *op;
	unsigned int i;

	printf("\nTransports:\n");
	for (i = 0; i < nr_transports; i++)
		printf("  %-18s %s\n", transports[i]->name, transports[i]->what);
	printf("Setup operations:\n");
	for (i = 0; i < NR_SC; i++)
		for (op = scenarios[i].ops; op && op->name; op++)
			printf("  %-18s %s\n", op->name, op->what);
}
