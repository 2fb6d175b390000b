/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mbx-bridge: declarations shared by the files of the NATS bridge - the
 * configuration, the routes (export, import, serve, call), the counters
 * kept in the state directory, the NATS connection and the logging.
 */
#ifndef MBX_BRIDGE_H
#define MBX_BRIDGE_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <nats/nats.h>
#include <mailbox.h>

#define BRIDGE_MAX_ROUTES	32
#define BRIDGE_SUBJECT_MAX	200
#define BRIDGE_BATCH		64
#define BRIDGE_META_MAX		512	/* the Mbx-Meta header's value */
/* A source id, name.port.epoch: 63 + 1 + 63 + 1 + 16 and the NUL. */
#define BRIDGE_SRC_MAX		160
/*
 * What a subscription may hold while its port is full: beyond, libnats
 * drops messages (a slow consumer), which core mode counts as lost and
 * JetStream redelivers.  It bounds the bridge's memory under a flood.
 */
#define PENDING_MSGS		65536
#define PENDING_BYTES		(64 << 20)

/* seen.c: the stream sequences a JetStream importer sent into its port. */
#define SEEN_WINDOW		(1U << 19)	/* sequences above base: 64 KiB */

struct seen {
	uint64_t base;		/* every sequence <= base is done */
	uint64_t top;		/* the highest sequence marked or floored */
	uint64_t bits[SEEN_WINDOW / 64];
};

bool seen_has(const struct seen *s, uint64_t seq);
bool seen_fits(const struct seen *s, uint64_t seq);
void seen_mark(struct seen *s, uint64_t seq);
void seen_floor(struct seen *s, uint64_t floor);

/* ids.c: per source, the exporter sequences a JetStream importer sent */
#define ID_SOURCES		32
#define ID_WINDOW		(1U << 16)	/* sequences per source: 8 KiB */

struct id_source {
	char name[BRIDGE_SRC_MAX];	/* Mbx-Meta's; "" for a free slot */
	uint64_t top;		/* the highest sequence sent */
	uint64_t used;		/* ids.clock when last found */
	uint64_t batch;		/* the batch that last found it */
	uint64_t bits[ID_WINDOW / 64];
};

struct ids {
	uint64_t clock;
	uint64_t batch;		/* the importer's batches, across its runs */
	struct id_source src[ID_SOURCES];
};

int ids_find(struct ids *ids, const char *name, uint64_t batch);
bool ids_has(struct ids *ids, int slot, uint64_t seq);
void ids_mark(struct ids *ids, int slot, uint64_t seq);

/* gaps.c: what a core-mode importer counts as lost in a source's sequence */
struct gap_seq {
	uint64_t last;		/* the last sequence seen */
	uint64_t odd;		/* one set aside, out of the sequence, or 0 */
};

enum gap_verdict { GAP_NEXT, GAP_LOST, GAP_ODD, GAP_RESYNC };

enum gap_verdict gap_step(struct gap_seq *g, uint64_t seq, uint64_t *lost);

enum route_kind { ROUTE_EXPORT, ROUTE_IMPORT, ROUTE_SERVE, ROUTE_CALL };
enum bridge_mode { MODE_CORE, MODE_JETSTREAM };

/* Counters of one route, in the state directory's stats file. */
struct route_counters {
	uint64_t received;	/* from the port (export) or NATS (import) */
	uint64_t sent;		/* to NATS (export) or into the port (import) */
	uint64_t acked;		/* JetStream acks received / given */
	uint64_t redelivered;	/* JetStream deliveries after the first */
	uint64_t deduplicated;	/* duplicates dropped (or reported by NATS) */
	uint64_t dead_lettered;	/* sent to the dead-letter subject */
	uint64_t lost;		/* core mode: gaps seen in the sequence */
	uint64_t errors;	/* failed calls, retried or reported */
	uint64_t pending;	/* gauge: taken, not yet acked (export) */
	uint64_t timeouts;	/* serve, call: no reply within call-timeout */
};

struct stats_route {
	char desc[160];
	struct route_counters c;
};

#define STATS_MAGIC	0x6d62786272737432ULL	/* "mbxbrst2" */

struct stats_file {
	uint64_t magic;
	uint32_t nroutes;
	int32_t pid;
	uint64_t reconnects;
	uint64_t disconnects;
	char state[32];
	struct stats_route route[BRIDGE_MAX_ROUTES];
};

struct bridge;

struct route {
	enum route_kind kind;
	char port[MBX_NAME_LEN];
	char subject[BRIDGE_SUBJECT_MAX];
	char reply_port[MBX_NAME_LEN];	/* serve, call */
	bool fanout;			/* import: every bridge gets all */
	bool exclusive;			/* import: sole reader of its durable */
	int index;
	struct bridge *br;
	struct route_counters *c;
	pthread_t thread;
};

struct bridge_config {
	char servers[1024];
	enum bridge_mode mode;
	char state_dir[PATH_MAX];
	char name[64];
	char dead_letter[BRIDGE_SUBJECT_MAX];
	unsigned int inflight;
	unsigned int ack_wait_s;
	unsigned int replicas;
	unsigned int connect_wait_s;
	unsigned int call_timeout_ms;
	unsigned int aside_max_mb;	/* state-dir/aside/ at most (aside.c) */
	int nroutes;
	struct route routes[BRIDGE_MAX_ROUTES];
};

struct bridge {
	struct bridge_config cfg;
	natsConnection *nc;
	natsSubscription *name_sub;	/* name.c: answers to the name */
	jsCtx *js;
	struct stats_file *stats;
	int stop;		/* 1: signal, 2: a route failed, 3: name taken */
};

/* config.c */
void config_defaults(struct bridge_config *cfg);
int config_file(struct bridge_config *cfg, const char *path);
int config_words(struct bridge_config *cfg, char **words, int nwords,
		 const char *where);
int config_check(struct bridge_config *cfg);
const char *route_kind_name(enum route_kind kind);

/* state.c: counters, journals, log */
int stats_open(struct bridge *br);
int stats_print(const char *state_dir);
void stats_state(struct bridge *br, const char *state);
void stats_add(uint64_t *counter, uint64_t n);

/* name.c */
int bridge_claim_name(struct bridge *br);
int bridge_name_check(struct bridge *br);

/* nats.c */
int bridge_connect(struct bridge *br);
natsStatus bridge_connect_once(struct bridge *br, natsConnection **nc);
void bridge_disconnect(struct bridge *br);
int stream_ensure(struct bridge *br, const char *subject, char *name,
		  size_t size, int64_t *created);
void subject_token(const char *in, char *out, size_t size);
uint64_t now_ms(void);
void sleep_ms(unsigned int ms);

/* meta.c */
struct msg_meta {
	unsigned int prio;
	uint64_t tag;
	int32_t pid;
	uint32_t uid;
	uint64_t seq;
	const char *src;
};

int meta_to_headers(natsMsg *m, const struct msg_meta *meta,
		    const char *host, const char *src);
int meta_from_headers(natsMsg *m, struct msg_meta *meta);
int dead_letter(struct route *r, natsMsg *m, const char *why);

/* aside.c */
int aside_keep(struct route *r, natsMsg *m, const char *id, const char *why);

void *journal_map(const char *path, size_t size, bool *created);
bool journal_foreign(const char *path, size_t size, uint64_t magic);
void journal_unmap(void *base, size_t size);
int route_file(struct route *r, const char *what, char *path, size_t size);

/* pull.c: a JetStream pull consumer without natsSubscription_Fetch() */
struct pull {
	natsConnection *nc;
	natsSubscription *sub;	/* sync, on inbox */
	char inbox[128];
	char next_subj[2 * BRIDGE_SUBJECT_MAX + 128];
	int outstanding;	/* asked for, not yet come, request alive */
	uint64_t give_up;	/* ms: a request unanswered by then is dropped */
	char why[128];		/* the last error status */
};

int pull_open(struct pull *p, natsConnection *nc, const char *stream,
	      const char *durable);
int pull_fetch(struct pull *p, natsMsg **msgs, int max, unsigned int wait_ms);
int pull_ack(struct pull *p, natsMsg *m, bool in_progress);
void pull_close(struct pull *p);

/* export.c, import.c, rpc.c: each runs one route in its own thread */
void *export_run(void *arg);
void *import_run(void *arg);
void *rpc_run(void *arg);	/* rpc.c: serve and call */

/* cli.c */
int cli_main(struct bridge *br, const char *cmd, int argc, char **argv);

/* state.c */
void blog(const char *fmt, ...);
extern const char *blog_name;

#endif /* MBX_BRIDGE_H */
