/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mbx-bridge: what an import route keeps, in its state file and in
 * memory, shared by import.c (delivery) and import_js.c (its JetStream
 * consumer).
 */
#ifndef MBX_BRIDGE_IMPORT_H
#define MBX_BRIDGE_IMPORT_H

#include "bridge.h"

#define IJ_MAGIC	0x6d6278696d706a34ULL	/* "mbximpj4" */
#define MAX_SOURCES	32

struct source {
	char name[BRIDGE_SRC_MAX];
	uint64_t last;		/* core mode: the last sequence seen */
};

/* What marks a message sent (JetStream): stream sequence and message id. */
struct sent_mark {
	uint64_t seq;		/* the stream sequence */
	uint64_t id_seq;	/* the exporter's sequence, from Mbx-Meta */
	int32_t id_src;		/* its source's slot in ids.c's set, or -1 */
	uint32_t pad;
};

struct ij_state {
	uint64_t magic;
	uint64_t sent_before;	/* the port's sent counter before the batch */
	uint32_t pending;	/* messages in the batch being sent */
	uint32_t stream_tag;	/* JetStream: stream_tag() of @seen's, or 0 */
	struct sent_mark marks[BRIDGE_BATCH];	/* of the batch being sent */
	struct source src[MAX_SOURCES];	/* kept across restarts */
	struct seen seen;	/* JetStream: the stream sequences sent */
	struct ids ids;		/* JetStream: the message ids sent */
};

struct importer {
	struct route *r;
	int fd;
	bool js_mode;
	struct mbx_port_info info;
	struct ij_state *st;
	natsSubscription *sub;	/* core mode */
	struct pull pull;	/* JetStream mode */
	jsCtx *js;
	char stream[BRIDGE_SUBJECT_MAX + 8];
	char durable[BRIDGE_SUBJECT_MAX + 80];
	uint64_t floor_ms;	/* when the ack floor was last read */
	struct source *src;	/* in the state file */
	uint64_t odd[MAX_SOURCES];	/* core mode: gap_seq.odd of each */
	uint64_t odds;		/* core mode: messages set aside */
	int64_t dropped;
	uint64_t batch;		/* deliver() calls, for ids_find() */
};

/* import_js.c */
void ack_floor(struct importer *im);
int js_subscribe_retry(struct importer *im);

#endif /* MBX_BRIDGE_IMPORT_H */
