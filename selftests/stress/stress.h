/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stress_test: what the test process (stress_test.c, the chaos and the
 * checks) and its participants (participant.c) share: the ports, the
 * roles, the counters, the bookkeeping in shared memory, and the few
 * functions both sides call.
 */
#ifndef _STRESS_H
#define _STRESS_H

#include <stdint.h>
#include <sys/types.h>

#include "kselftest.h"

enum { PQ, PR, PP, PC, PS, NSLOT };

static const struct {
	uint32_t cap;
	uint32_t msg;
	uint64_t pool;
} cfg[NSLOT] = {
	[PQ] = { 16, 256, 0 },
	[PR] = { 0, 256, 0 },
	[PP] = { 32, 512, 64 << 10 },
	[PC] = { 32, 256, 0 },
	[PS] = { 32, 256, 0 },
};

#define MAX_GEN		40	/* ports per slot, shut-down ones included */
#define BATCH_MAX	16	/* largest batch we send or receive */
#define BUF_SIZE	1024	/* receive buffers: larger than any message */
#define HDR_MAGIC	0x4d425853U
#define TAG_BIT		0x8000000000000000ULL	/* an ioctl send's tag: id | TAG_BIT */

enum role { R_PROD, R_CONS, R_CLIENT, R_SERVER, R_CLOSER, NROLE };

static const int roles[] = {
	R_PROD, R_PROD, R_PROD, R_CONS, R_CONS, R_CONS,
	R_CLIENT, R_CLIENT, R_SERVER, R_CLOSER, R_CLOSER,
};

#define NPART	((int)ARRAY_SIZE(roles))

/* Per-participant counters (summed over its incarnations). */
enum {
	C_SENT, C_RECV, C_BLOCK, C_NB, C_TIMED, C_RW, C_BATCH_SENT,
	C_BATCH_RECV, C_ZC_SENT, C_ZC_RECV, C_CALLS, C_REPLIES, C_SIGS,
	C_EINTR, C_ETIMEDOUT, C_EAGAIN, C_EPIPE, C_EBADF, C_EMSGSIZE,
	C_CLOSES, C_CLOSED_BLOCKED, C_REOPEN, NCNT
};

struct part {
	pid_t pid;
	uint32_t role;
	uint32_t incarnations;
	uint32_t inflight;	/* messages the receive in progress may take */
	uint64_t n[NCNT];
};

#define NLOG 8
struct logent {
	uint32_t idx;
	int err;
	uint64_t id;
	char what[40];
};

struct shared {
	uint64_t seed;
	uint64_t max_ids;
	uint64_t next_id;
	uint32_t gen[NSLOT];
	uint32_t stop;
	pid_t owner;
	uint32_t nerr, nbad;
	struct logent errs[NLOG];
	struct logent bads[NLOG];
	struct part part[NPART];
	uint8_t *st;		/* [max_ids], after this struct */
	uint8_t *rc;		/* [max_ids] */
};

/* The head of every message: the payload after it is a function of @id. */
struct hdr {
	uint64_t id;
	uint32_t len;		/* whole message, header included */
	uint32_t magic;
};

/* participant.c */
uint64_t mix64(uint64_t x);
uint64_t below(uint64_t *s, uint64_t n);
const char *bad_msg(const void *p, uint64_t len, uint64_t id);
void port_name(char *buf, pid_t owner, int slot, uint32_t gen);
void on_signal(int sig);
void participant(struct shared *sh, int idx, uint32_t incarnation);

#endif /* _STRESS_H */
