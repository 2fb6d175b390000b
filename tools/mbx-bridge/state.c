// SPDX-License-Identifier: GPL-2.0
/*
 * mbx-bridge: what the bridge keeps on the side - the log line per state
 * change, the counters file in the state directory (read by
 * `mbx-bridge stats`), and the memory-mapped journal files in which the
 * routes keep what must survive the bridge being killed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "bridge.h"

const char *blog_name = "mbx-bridge";

void blog(const char *fmt, ...)
{
	struct timespec ts;
	char line[512];
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &ts);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%lld.%03ld %s: %s\n", (long long)ts.tv_sec,
		ts.tv_nsec / 1000000, blog_name, line);
}

void stats_add(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

void stats_state(struct bridge *br, const char *state)
{
	if (br->stats)
		snprintf(br->stats->state, sizeof(br->stats->state), "%s",
			 state);
	blog("state: %s", state);
}

/**
 * journal_map() - map a file of the state directory, creating it zeroed
 * @path:    the file
 * @size:    its size
 * @created: set when the file was new (or had another size) and is zero
 *
 * The mapping is shared and locked in memory, so that what the kernel
 * writes into it during a system call is in the file when the call
 * returns, and no page fault can make that call fail half-way.
 *
 * Return: the mapping, or NULL with errno set.
 */
void *journal_map(const char *path, size_t size, bool *created)
{
	struct stat st;
	void *base;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0)
		return NULL;
	*created = fstat(fd, &st) || (size_t)st.st_size != size;
	if (*created && (ftruncate(fd, 0) || ftruncate(fd, size))) {
		close(fd);
		return NULL;
	}
	base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (base == MAP_FAILED)
		return NULL;
	if (mlock(base, size))
		blog("warning: cannot lock %s in memory: %s", path,
		     strerror(errno));
	return base;
}

/**
 * journal_foreign() - whether a file of the state directory was left by
 * another version of the bridge
 * @path:  the file
 * @size:  the size of this version's, or 0 if that varies
 * @magic: what this version's starts with (a new one starts with zeros)
 *
 * journal_map() makes such a file anew, which loses what it knew; a caller
 * that must not lose it asks first.
 *
 * Return: true if @path exists, is not empty, and is not of @size bytes
 * (if @size) starting with @magic or with zeros.
 */
bool journal_foreign(const char *path, size_t size, uint64_t magic)
{
	uint64_t head = 0;
	struct stat st;
	bool foreign;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	foreign = !fstat(fd, &st) && st.st_size &&
		  ((size && (size_t)st.st_size != size) ||
		   pread(fd, &head, sizeof(head), 0) != sizeof(head) ||
		   (head && head != magic));
	close(fd);
	return foreign;
}

void journal_unmap(void *base, size_t size)
{
	munmap(base, size);
}

int route_file(struct route *r, const char *what, char *path, size_t size)
{
	char tok[BRIDGE_SUBJECT_MAX];

	subject_token(r->kind == ROUTE_EXPORT ? r->port : r->subject, tok,
		      sizeof(tok));
	if (snprintf(path, size, "%s/%s-%s.%s", r->br->cfg.state_dir,
		     route_kind_name(r->kind), tok, what) >= (int)size)
		return -ENAMETOOLONG;
	return 0;
}

static void route_desc(struct route *r, char *buf, size_t size)
{
	if (r->kind == ROUTE_IMPORT)
		snprintf(buf, size, "import %s -> %s%s%s", r->subject, r->port,
			 r->fanout ? " fanout" : "",
			 r->exclusive ? " exclusive" : "");
	else
		snprintf(buf, size, "%s %s %s %s%s%s", route_kind_name(r->kind),
			 r->port, r->kind == ROUTE_EXPORT ? "->" : "<->",
			 r->subject, r->reply_port[0] ? " reply " : "",
			 r->reply_port);
}

/* Counters survive restarts while the routes stay the same. */
int stats_open(struct bridge *br)
{
	char path[PATH_MAX + 16], desc[160];
	struct stats_file *s;
	bool created;
	int i;

	snprintf(path, sizeof(path), "%s/stats", br->cfg.state_dir);
	s = journal_map(path, sizeof(*s), &created);
	if (!s)
		return -errno;
	if (s->magic != STATS_MAGIC || s->nroutes != (uint32_t)br->cfg.nroutes)
		memset(s, 0, sizeof(*s));
	s->magic = STATS_MAGIC;
	s->nroutes = br->cfg.nroutes;
	s->pid = getpid();
	for (i = 0; i < br->cfg.nroutes; i++) {
		struct route *r = &br->cfg.routes[i];

		route_desc(r, desc, sizeof(desc));
		if (strcmp(desc, s->route[i].desc))
			memset(&s->route[i], 0, sizeof(s->route[i]));
		snprintf(s->route[i].desc, sizeof(s->route[i].desc), "%s", desc);
		r->c = &s->route[i].c;
	}
	br->stats = s;
	return 0;
}

int stats_print(const char *state_dir)
{
	char path[PATH_MAX + 16];
	struct stats_file s;
	FILE *f;
	uint32_t i;

	snprintf(path, sizeof(path), "%s/stats", state_dir);
	f = fopen(path, "r");
	if (!f || fread(&s, sizeof(s), 1, f) != 1 || s.magic != STATS_MAGIC) {
		fprintf(stderr, "mbx-bridge: stats: %s: no counters there\n", path);
		if (f)
			fclose(f);
		return 1;
	}
	fclose(f);
	printf("pid %d state %s reconnects %llu disconnects %llu\n", s.pid,
	       s.state, (unsigned long long)s.reconnects,
	       (unsigned long long)s.disconnects);
	for (i = 0; i < s.nroutes && i < BRIDGE_MAX_ROUTES; i++) {
		struct route_counters *c = &s.route[i].c;

		printf("%s: received %llu sent %llu acked %llu redelivered %llu",
		       s.route[i].desc, (unsigned long long)c->received,
		       (unsigned long long)c->sent,
		       (unsigned long long)c->acked,
		       (unsigned long long)c->redelivered);
		printf(" deduplicated %llu dead-lettered %llu lost %llu errors %llu",
		       (unsigned long long)c->deduplicated,
		       (unsigned long long)c->dead_lettered,
		       (unsigned long long)c->lost,
		       (unsigned long long)c->errors);
		printf(" pending %llu timeouts %llu\n",
		       (unsigned long long)c->pending,
		       (unsigned long long)c->timeouts);
	}
	return 0;
}
