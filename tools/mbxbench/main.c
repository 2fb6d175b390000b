// SPDX-License-Identifier: GPL-2.0
/*
 * mbxbench: mailbox side by side with the usual IPC mechanisms.
 *
 * A "cell" is one scenario, one transport and one message size.  Each cell
 * forks its processes (never threads), pins them with sched_setaffinity(),
 * locks their memory with mlockall(), pre-faults their buffers and runs for
 * a time budget; the measuring processes leave one sample per message (or
 * round trip, or operation) in shared memory.  The parent drops the first
 * 10% of each process's samples and computes p50, p90, p99, p99.9, max,
 * mean and the rate from all the others.
 *
 * Every cell runs once per round; the rounds run in a seeded random order
 * in one boot.  Tables show the median over the rounds of each statistic
 * (max: the largest of the rounds).  Target ratios are taken per round and
 * the median of the per-round ratios is reported.
 *
 * The output goes to stdout between marker lines (see MARK) so that the
 * host can cut the tables and the CSV out of the VM's console log.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"

/* ------------------------------------------------------------------------
 * Options
 */

struct options opt = {
	.rounds = 5,
	.time_limit = 510,
	.budget_ms = 60,
	.seed = 1,
	.max_size = 4 * MiB,
};

int mbx_dev = -1;
static unsigned int rounds_asked;

static uint64_t rng_state;

static uint64_t rng_next(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

struct cell *cells;
unsigned int nr_cells;

const char *cell_peer(const struct cell *c)
{
	return c->t ? c->t->name : c->op->name;
}

/*
 * Host check.  Under emulation each vCPU is a host thread; when the host
 * has other work, a wake-up across vCPUs waits for the host to schedule
 * the other vCPU's thread, and round trips jump from tens of microseconds
 * to several milliseconds for as long as the host is busy.  Before each
 * cell a short pipe ping-pong across the vCPUs checks the host; while its
 * p50 is above CANARY_NS, wait and check again (within a total budget).
 */

struct canary canary;

/* Results measured since the last host check. */

static struct {
	struct result *res[CANARY_WINDOW];
	unsigned int n;
	uint64_t at;		/* time of the last check */
	bool quiet;		/* its verdict */
} window;

/*
 * Check the host, and wait (if @wait) until it is quiet.  A failed first
 * check marks every result since the previous check as measured on a busy
 * host.  Return: true if the host is quiet now.
 */
static bool host_check(bool wait)
{
	uint64_t t0 = now_ns();
	unsigned int tries = 0, i;
	struct result res;
	bool quiet;

	for (;;) {
		canary.checks++;
		tries++;
		measure(&scenarios[SC_RTT2], &tr_pipe, NULL, 8,
			CANARY_MS, &res);
		quiet = !res.err && res.p50 < CANARY_NS;
		if (tries == 1 && !quiet)
			for (i = 0; i < window.n; i++)
				window.res[i]->busy = true;
		if (quiet || !wait)
			break;
		if (canary.waited_ns + (now_ns() - t0) >=
		    CANARY_TOTAL_WAIT_S * NSEC_PER_SEC)
			break;
		canary.waits++;
		usleep(CANARY_WAIT_MS * 1000);
	}
	if (tries > 1)
		canary.waited_ns += now_ns() - t0;
	window.n = 0;
	window.at = now_ns();
	window.quiet = quiet;
	return quiet;
}

static void run_cell(struct cell *cell, unsigned int round)
{
	const struct scenario *sc = cell->sc;
	struct result *res = &cell->res[round];
	uint64_t t_cell = now_ns();

	if (t_cell - window.at >= CANARY_EVERY_MS * 1000000ULL ||
	    window.n == CANARY_WINDOW)
		host_check(true);
	measure(sc, cell->t, cell->op, cell->size, opt.budget_ms, res);
	res->busy = !window.quiet;
	window.res[window.n++] = res;
	if (res->err && !cell->note[0])
		snprintf(cell->note, sizeof(cell->note), "%s: %s", shared->what,
			 strerror(-res->err));
	if (opt.verbose)
		fprintf(stderr, "mbxbench: %u %-10s %-18s %8zu %6.0f ms  p50 %9.1f us  n %u%s%s\n",
			round + 1, sc->name, cell_peer(cell), cell->size,
			(now_ns() - t_cell) / 1e6, res->p50 / 1000, res->n,
			res->err ? "  " : "", res->err ? cell->note : "");
}

/* ------------------------------------------------------------------------
 * Building the cell list
 */

static bool size_ok(const struct transport *t, size_t size)
{
	return size <= opt.max_size && (!t->max_size || size <= t->max_size);
}

static void add_cell(const struct scenario *sc, const struct transport *t,
		     const struct setup_op *op, size_t size)
{
	struct cell *c;

	cells = realloc(cells, (nr_cells + 1) * sizeof(*cells));
	if (!cells) {
		perror("realloc");
		exit(1);
	}
	c = &cells[nr_cells++];
	memset(c, 0, sizeof(*c));
	c->sc = sc;
	c->t = t;
	c->op = op;
	c->size = size;
}

/* The cells of one setup or per-call operation: one, or one per size. */
static void add_op_cells(const struct scenario *sc, const struct setup_op *op)
{
	const size_t *sizes = op->sized ? sc->sizes : no_size;
	unsigned int k;

	if (!in_list(opt.peers, op->name))
		return;
	for (k = 0; !k || sizes[k]; k++)
		if (sizes[k] <= opt.max_size &&
		    (!op->max_size || sizes[k] <= op->max_size))
			add_cell(sc, NULL, op, sizes[k]);
}

static void build_cells(void)
{
	const struct setup_op *op;
	unsigned int s, i, k;

	for (s = 0; s < NR_SC; s++) {
		const struct scenario *sc = &scenarios[s];

		if (!in_list(opt.scens, sc->name))
			continue;
		if (sc->kind == K_SETUP) {
			for (op = sc->ops; op->name; op++)
				add_op_cells(sc, op);
			continue;
		}
		for (k = 0; sc->sizes[k]; k++) {
			for (i = 0; i < nr_transports; i++) {
				const struct transport *t = transports[i];

				if (!(t->scens & B(s)) || !in_list(opt.peers, t->name) ||
				    !size_ok(t, sc->sizes[k]))
					continue;
				add_cell(sc, t, NULL, sc->sizes[k]);
			}
		}
	}
}

struct cell *find_cell(unsigned int sc, const char *peer, size_t size)
{
	unsigned int i;

	for (i = 0; i < nr_cells; i++)
		if (cells[i].sc == &scenarios[sc] && cells[i].size == size &&
		    !strcmp(cell_peer(&cells[i]), peer))
			return &cells[i];
	return NULL;
}

/* ------------------------------------------------------------------------
 * main
 */

static void help(int status)
{
	unsigned int i;

	fprintf(status ? stderr : stdout,
		"mbxbench [-r ROUNDS] [-t MS] [-T SECONDS] [-s SEED] [-o SCENARIOS]\n"
		"         [-p TRANSPORTS] [-m MAX_SIZE] [-Q QEMU_VERSION] [-H HOST] [-v] [-l]\n"
		"  -r  rounds (default 5)          -t  time budget per cell, ms (default 60)\n"
		"  -T  no new round past this many seconds in all (default 510, 0: no limit)\n"
		"  -s  seed of the shuffle         -m  largest message size, bytes\n"
		"  -o  comma-separated scenarios   -p  comma-separated transports/setup ops\n"
		"  -Q  the host's QEMU version, recorded in the output\n"
		"  -H  a line about the host (CPUs, load), recorded in the output\n"
		"  -v  one line per cell on stderr as it runs\n"
		"  -l  list the selected cells and exit\n"
		"scenarios:");
	for (i = 0; i < NR_SC; i++)
		fprintf(status ? stderr : stdout, " %s", scenarios[i].name);
	fprintf(status ? stderr : stdout, "\n");
	exit(status);
}

static void parse_opts(int argc, char **argv)
{
	int c;

	while ((c = getopt(argc, argv, "r:t:T:s:o:p:m:Q:H:vlh")) != -1) {
		switch (c) {
		case 'r':
			opt.rounds = strtoul(optarg, NULL, 0);
			if (!opt.rounds || opt.rounds > MAX_ROUNDS)
				help(2);
			break;
		case 't':
			opt.budget_ms = strtoul(optarg, NULL, 0);
			break;
		case 'T':
			opt.time_limit = strtoul(optarg, NULL, 0);
			break;
		case 's':
			opt.seed = strtoull(optarg, NULL, 0);
			break;
		case 'o':
			opt.scens = optarg;
			break;
		case 'p':
			opt.peers = optarg;
			break;
		case 'm':
			opt.max_size = strtoull(optarg, NULL, 0);
			break;
		case 'Q':
			opt.qemu = optarg;
			break;
		case 'H':
			opt.host = optarg;
			break;
		case 'v':
			opt.verbose = true;
			break;
		case 'l':
			opt.list = true;
			break;
		case 'h':
			help(0);
			break;
		default:
			help(2);
		}
	}
}

/* Memory for the run: shared with the processes, or the parent's only. */
static int prepare_memory(void)
{
	struct cell *c;

	shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (shared == MAP_FAILED) {
		perror("mbxbench: mmap");
		return -1;
	}
	sort_tmp = parent_only(MAX_SAMPLES * sizeof(*sort_tmp));
	c = parent_only(nr_cells * sizeof(*cells));
	memcpy(c, cells, nr_cells * sizeof(*cells));
	free(cells);
	cells = c;
	malloc_trim(0);
	return 0;
}

/* Round @r, begun at @t0: every cell once, in a shuffled order. */
static void run_round(unsigned int *order, unsigned int r, uint64_t t0)
{
	unsigned int i;

	for (i = 0; i < nr_cells; i++)
		order[i] = i;
	for (i = nr_cells - 1; i > 0; i--) {
		unsigned int j = rng_next() % (i + 1), tmp = order[i];

		order[i] = order[j];
		order[j] = tmp;
	}
	for (i = 0; i < nr_cells; i++)
		run_cell(&cells[order[i]], r);
	host_check(false);
	fprintf(stderr, "mbxbench: round %u/%u done in %.1f s\n", r + 1,
		opt.rounds, (now_ns() - t0) / 1e9);
}

/* Run the rounds; return how many ran. */
static unsigned int run_rounds(unsigned int *order, uint64_t t_start)
{
	unsigned int r;

	for (r = 0; r < opt.rounds; r++) {
		uint64_t t0 = now_ns(), spent = t0 - t_start;

		/* Stop early rather than run past the time limit. */
		if (r && opt.time_limit &&
		    spent + spent / r > opt.time_limit * NSEC_PER_SEC) {
			fprintf(stderr, "mbxbench: stopping after %u rounds (limit %u s)\n",
				r, opt.time_limit);
			break;
		}
		run_round(order, r, t0);
	}
	return r;
}

/* Everything on stdout, between the marker lines. */
static void print_report(uint64_t t_start)
{
	printf("\n" MARK " table begin\n");
	print_header();
	printf("total:       %.0f s for %u cells x %u rounds (%u asked, time limit %u s)\n",
	       (now_ns() - t_start) / 1e9, nr_cells, opt.rounds, rounds_asked,
	       opt.time_limit);
	print_legend();
	print_tables();
	print_ratios(false);
	printf(MARK " table end\n");
	printf(MARK " csv begin\n");
	print_csv();
	printf(MARK " csv end\n");
	printf(MARK " ratios csv begin\n");
	print_ratios(true);
	printf(MARK " ratios csv end\n");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	unsigned int *order, i;
	uint64_t t_start;

	parse_opts(argc, argv);
	build_cells();
	build_ratios();
	if (!nr_cells) {
		fprintf(stderr, "mbxbench: no cells selected\n");
		return 2;
	}
	if (opt.list) {
		for (i = 0; i < nr_cells; i++)
			printf("%-10s %-18s %zu\n", cells[i].sc->name,
			       cell_peer(&cells[i]), cells[i].size);
		return 0;
	}

	mbx_dev = mbx_dev_open();
	if (mbx_dev < 0) {
		fprintf(stderr, "mbxbench: %s: %s\n", MBX_DEVICE_PATH,
			strerror(-mbx_dev));
		return 1;
	}
	if (prepare_memory())
		return 1;
	sigaction(SIGALRM, &sa, NULL);
	prepare_env();

	order = calloc(nr_cells, sizeof(*order));
	if (!order)
		return 1;
	rng_state = opt.seed * 0x9E3779B97F4A7C15ULL + 1;
	t_start = now_ns();
	fprintf(stderr, "mbxbench: %u cells x %u rounds, %u ms each\n",
		nr_cells, opt.rounds, opt.budget_ms);
	rounds_asked = opt.rounds;
	opt.rounds = run_rounds(order, t_start);
	free(order);
	print_report(t_start);
	restore_env();
	return 0;
}
