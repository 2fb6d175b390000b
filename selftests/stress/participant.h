/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stress_test's participants: the context of one participant, the
 * bookkeeping calls of participant.c and the calls of each role
 * (roles.c).
 */
#ifndef _STRESS_PARTICIPANT_H
#define _STRESS_PARTICIPANT_H

#include <semaphore.h>
#include <stdbool.h>
#include <mailbox.h>

#include "stress.h"

struct pctx {
	struct shared *sh;
	struct part *me;
	int idx, role, dev;
	uint64_t rng;
	int fd[NSLOT];
	uint32_t gen[NSLOT];
	uint32_t acc[NSLOT];
	int nb[NSLOT];		/* fd opened with MBX_NONBLOCK */
	uint8_t *base;		/* mapping of the current pool port */
	int pending;		/* server: a request waits for its reply */
	/* closer */
	int victim;		/* fd the helper thread may close */
	pid_t main_tid;
	sem_t arm, disarmed;
	uint64_t hrng;
	uint8_t buf[BATCH_MAX][BUF_SIZE];
	uint8_t out[BATCH_MAX][BUF_SIZE];
};

/* How a call waits: blocking, non-blocking, relative or absolute timeout. */
enum { W_BLOCK, W_NB, W_REL, W_ABS };

/* The errnos a call may end with, beside success (result()). */
#define A_INTR		0x01
#define A_TIMEDOUT	0x02
#define A_AGAIN		0x04
#define A_PIPE		0x08
#define A_BADF		0x10
#define A_MSGSIZE	0x20

/* participant.c */
void mk_msg(void *p, uint64_t id, uint32_t len);
void log_ent(uint32_t *n, struct logent *log, int idx, int err,
	     uint64_t id, const char *what);
void result(struct pctx *c, const char *what, long ret,
	    unsigned int allowed);
uint64_t new_ids(struct pctx *c, unsigned int n);
void set_st(struct pctx *c, uint64_t id, uint8_t v);
uint32_t msg_len(struct pctx *c, int slot);
uint32_t prio(struct pctx *c);
uint32_t wait_flags(struct pctx *c, int mode, __u64 *timeout);
int pick_mode(struct pctx *c);
unsigned int allowed(struct pctx *c, int slot, int mode);
int ensure(struct pctx *c, int slot, uint32_t need);
void got(struct pctx *c, int fd, const struct mbx_recv *r,
	 const void *buf, bool verify, unsigned int release_ok);

/* roles.c */
void producer_op(struct pctx *c);
void consumer_op(struct pctx *c);
void client_op(struct pctx *c);
void server_op(struct pctx *c);
void closer_op(struct pctx *c);
void *closer_helper(void *arg);

#endif /* _STRESS_PARTICIPANT_H */
