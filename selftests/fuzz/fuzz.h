/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fuzz_test: what the test process (fuzz_test.c) and the worker it forks
 * each round share: the fd table's kinds, the operations and ioctls
 * counted, the statistics in shared memory, the worker's and its
 * threads' state, and the calls of the worker's files: worker.c (the
 * threads, their random numbers and watchdog, fds, pointers, lengths and
 * regions), ioctls.c (the mailbox ioctls, plausible and mangled) and
 * files.c (read and write, mappings, poll and epoll, fds, fork).
 */
#ifndef _FUZZ_H
#define _FUZZ_H

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "kselftest.h"
#include "mbx_helpers.h"

#define NSLOT		24	/* the shared fd table */
#define MAXT		8	/* threads per worker, at most */
#define NMAP		32	/* tracked mappings */
#define NREG		32	/* pool regions seen (hints) */
#define NNAME		6	/* port names per round */
#define PG		4096UL
#define AREA_LEN	(5 * PG)	/* ioctl arguments: >= 16383 bytes */
/* MBX_BATCH_MAX entries of the largest kind, and a page more. */
#define BATCH_LEN	((MBX_BATCH_MAX * sizeof(struct mbx_recv) + PG - 1) / \
			 PG * PG + PG)
#define SINK_LEN	(64 * PG)	/* message buffers */
#define ROUND_CALLS	2000
#define STUCK_NS	20000000ULL	/* interrupt a call blocked this long */

/* What a slot was last filled with: a hint, the fd may have changed. */
enum kind {
	K_NONE, K_DEV, K_PORT, K_POOLPORT, K_PIPE, K_FILE, K_NULL, K_EVENT,
	K_EPOLL, K_SOCK, K_STALE, NKIND
};

/* Operations, for the statistics. */
enum op {
	O_MBX, O_RAWIOC, O_RW, O_MAP, O_TOUCH, O_POLL, O_EPOLL, O_FD, O_OPEN,
	O_SCM, O_FORK, NOP
};

/* The mailbox ioctls, in the order of the statistics. */
static const unsigned long mbx_cmds[] = {
	MBX_IOC_VERSION, MBX_IOC_PORT_CREATE, MBX_IOC_PORT_OPEN,
	MBX_IOC_PORT_UNLINK,
#ifdef MBX_IOC_PORT_LIST
	MBX_IOC_PORT_LIST,
#endif
	MBX_IOC_SEND, MBX_IOC_RECV, MBX_IOC_PORT_INFO, MBX_IOC_SHUTDOWN,
	MBX_IOC_BUF_ALLOC, MBX_IOC_BUF_RELEASE, MBX_IOC_CALL,
	MBX_IOC_SEND_BATCH, MBX_IOC_RECV_BATCH, MBX_IOC_PORT_DUP,
	MBX_IOC_SUBSCRIBE, MBX_IOC_UNSUBSCRIBE, MBX_IOC_RING_INFO,
	MBX_IOC_RING_ATTACH, MBX_IOC_RING_ENTER,
};

#define NCMD	((int)ARRAY_SIZE(mbx_cmds))
#define NCTL	(NCMD - 15)	/* the first NCTL are control ioctls */
static const char *const cmd_name[] = {
	"VERSION", "PORT_CREATE", "PORT_OPEN", "PORT_UNLINK",
#ifdef MBX_IOC_PORT_LIST
	"PORT_LIST",
#endif
	"SEND", "RECV", "PORT_INFO", "SHUTDOWN", "BUF_ALLOC", "BUF_RELEASE",
	"CALL", "SEND_BATCH", "RECV_BATCH", "PORT_DUP", "SUBSCRIBE",
	"UNSUBSCRIBE", "RING_INFO", "RING_ATTACH", "RING_ENTER",
};

struct thstate {
	char what[96];		/* the call in progress */
	uint64_t since;		/* when it began; 0 when not in a call */
	uint64_t calls;
	uint64_t ops;		/* operations done this round */
	uint32_t done;		/* finished its quota */
};

/* Shared between the test process and the worker of the round. */
struct fz_shared {
	uint64_t seed;
	uint32_t round, nthreads;
	uint64_t round_seed;
	pid_t owner;
	uint32_t setup_failed;
	uint32_t phase;		/* of the worker: 1 setup, 2 running, 3 exiting */
	char setup_msg[96];
	struct thstate th[MAXT];
	uint64_t interrupts;	/* watchdog signals sent */
	uint64_t longest_ns;	/* longest a call stayed blocked */
	char longest[96];
	uint64_t ops[NOP];
	uint64_t tries[NCMD], oks[NCMD];
	uint64_t err[160];	/* errno histogram, [0]: successes */
	uint64_t faults;	/* page touches that faulted (caught) */
	uint64_t forks, fds_passed, kills;
};

/* ---- the worker ----------------------------------------------------------- */

struct mapping {
	uint8_t *addr;
	size_t len;
	int prot;
};

struct worker {
	struct fz_shared *sh;
	int fds[NSLOT];
	uint8_t kind[NSLOT];
	uint64_t pool_size[NSLOT];
	pthread_mutex_t mlock;	/* maps[]: held while pages are touched */
	struct mapping maps[NMAP];
	uint64_t reg_off[NREG], reg_len[NREG];
	int reg_fd[NREG];	/* the fd that got it */
	char names[NNAME][MBX_NAME_LEN];
	char path[64];
	uint8_t *sink;		/* SINK_LEN, then a PROT_NONE page */
	uint8_t *none;		/* a PROT_NONE page */
};

struct thread {
	struct worker *w;
	struct thstate *st;
	int idx;
	uint64_t rng;
	uint64_t quota;
	pid_t tid;
	pthread_t pt;
	uint8_t *area;		/* AREA_LEN, then a PROT_NONE page */
	uint8_t *batch;		/* BATCH_LEN, then a PROT_NONE page */
	uint8_t *ro;		/* a read-only page */
	sigjmp_buf jb;
	int in_touch;		/* __atomic: the fault handler reads it */
	int clean;		/* this operation is well-formed throughout */
	int reg_fd;		/* fd of the region pick_region() chose, or -1 */
	uint8_t tmp[AREA_LEN];	/* arguments are built here */
};

/* The result of a system call: it, or -errno. */
#define SYS(x) ({ long __r = (long)(x); __r < 0 ? -errno : __r; })

static inline unsigned int km(enum kind k)
{
	return 1U << k;
}

/* Masks of slot kinds for pick_fd(). */
#define M_PORT	(km(K_PORT) | km(K_POOLPORT))
#define M_DEV	km(K_DEV)

/* worker.c */
uint64_t fz_mix64(uint64_t x);
uint64_t fz_rnd(struct thread *t);
uint64_t fz_below(struct thread *t, uint64_t n);
int fz_pct(struct thread *t, unsigned int p);
int fz_junk(struct thread *t, unsigned int p);
void fz_begin(struct thread *t, const char *fmt, ...);
long fz_end(struct thread *t, long ret);
int slot_fd(struct thread *t, int s);
int pick_slot(struct thread *t, unsigned int mask);
int pick_fd(struct thread *t, unsigned int mask);
void put_fd(struct thread *t, int fd, enum kind k, uint64_t pool);
uint64_t place_arg(struct thread *t, size_t size, int *good);
uint64_t data_ptr(struct thread *t);
uint64_t pick_len(struct thread *t);
uint64_t pick_timeout(struct thread *t, uint32_t flags);
uint32_t pick_flags(struct thread *t, uint32_t valid);
void note_region(struct thread *t, int fd, uint64_t off, uint64_t len);
void pick_region(struct thread *t, __u64 *off, __u64 *len);
void pick_name(struct thread *t, char *name);
void mangle(struct thread *t, void *p, size_t size);
void worker(struct fz_shared *sh, uint64_t calls);

/* ioctls.c */
void op_mbx(struct thread *t);
void op_rawioc(struct thread *t);

/* files.c */
void op_rw(struct thread *t);
void op_map(struct thread *t);
void op_touch(struct thread *t);
void op_poll(struct thread *t);
void op_epoll(struct thread *t);
void op_fd(struct thread *t);
int new_port(struct thread *t, uint32_t cap, uint64_t pool, int name);
void op_open(struct thread *t);
void op_scm(struct thread *t);
void op_fork(struct thread *t);

#endif /* _FUZZ_H */
