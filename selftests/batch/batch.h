/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The batch tests' common part (batch_test.c, batch_errors_test.c): the
 * raw batch call, payloads of varied lengths, entries for NMSG messages,
 * single sends and receives to set up or check a queue, and PORT_INFO's
 * counters.
 */
#ifndef _BATCH_H
#define _BATCH_H

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "mbx_helpers.h"

#define MS		1000000ULL
#define TIMEOUT_NS	(100 * MS)
#define SLACK_NS	(1000 * MS)
#define POISON		0xdeadbeefU
#define NMSG		32
#define MSG_MAX		256

static inline long batch(int fd, unsigned long cmd, void *msgs, uint32_t count,
			 uint32_t flags, uint64_t timeout_ns, uint32_t *done)
{
	struct mbx_batch b;
	long ret;

	memset(&b, 0, sizeof(b));
	b.msgs = (uintptr_t)msgs;
	b.count = count;
	b.flags = flags;
	b.timeout_ns = timeout_ns;
	b.done = POISON;
	ret = t_ioctl(fd, cmd, &b);
	if (done)
		*done = b.done;
	return ret;
}

#define SEND_BATCH(fd, m, n, fl, done) \
	batch(fd, MBX_IOC_SEND_BATCH, m, n, fl, 0, done)
#define RECV_BATCH(fd, m, n, fl, done) \
	batch(fd, MBX_IOC_RECV_BATCH, m, n, fl, 0, done)

static inline size_t msg_len(unsigned int i)
{
	return (i * 29) % MSG_MAX;
}

static char payload[NMSG][MSG_MAX];
static char rbuf[NMSG][MSG_MAX];

/* Send entries for messages 0..n-1: pattern payload i, tag 1000 + i. */
static inline void send_entries(struct mbx_send *m, unsigned int n, unsigned int prio)
{
	unsigned int i;

	memset(m, 0, n * sizeof(*m));
	for (i = 0; i < n; i++) {
		t_fill(payload[i], msg_len(i), i);
		m[i].buf = (uintptr_t)payload[i];
		m[i].len = msg_len(i);
		m[i].tag = 1000 + i;
		m[i].prio = prio;
	}
}

/* Receive entries into rbuf, poisoned so that untouched ones can be seen. */
static inline void recv_entries(struct mbx_recv *m, unsigned int n)
{
	unsigned int i;

	memset(m, 0, n * sizeof(*m));
	memset(rbuf, 0xa5, sizeof(rbuf));
	for (i = 0; i < n; i++) {
		m[i].buf = (uintptr_t)rbuf[i];
		m[i].len = MSG_MAX;
		m[i].tag = POISON;
		m[i].prio = POISON;
	}
}

/* Send message i (as send_entries would) with a plain MBX_IOC_SEND. */
static inline int send_one(int fd, unsigned int i, unsigned int prio)
{
	struct mbx_send s;

	t_fill(payload[i], msg_len(i), i);
	memset(&s, 0, sizeof(s));
	s.buf = (uintptr_t)payload[i];
	s.len = msg_len(i);
	s.tag = 1000 + i;
	s.prio = prio;
	return (int)t_ioctl(fd, MBX_IOC_SEND, &s);
}

/* Receive one message with MBX_IOC_RECV (non-blocking); 0 or -errno. */
static inline long recv_one(int fd, struct mbx_recv *r, void *buf, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->buf = (uintptr_t)buf;
	r->len = len;
	r->flags = MBX_NONBLOCK;
	return t_ioctl(fd, MBX_IOC_RECV, r);
}

/* 1 if @r holds message @i as sent by send_entries()/send_one() in @from. */
static inline int is_msg_from(const struct mbx_recv *r, const void *buf,
			      unsigned int i, unsigned int prio, pid_t from)
{
	return r->len == msg_len(i) && r->tag == 1000 + i && r->prio == prio &&
	       r->pid == from && r->uid == 0 && r->msg_flags == 0 &&
	       t_check(buf, r->len, i);
}

/* The same, sent by this process. */
static inline int is_msg(const struct mbx_recv *r, const void *buf, unsigned int i,
			 unsigned int prio)
{
	return is_msg_from(r, buf, i, prio, getpid());
}

#define SENT(fd)	T_INFO64(fd, sent)
#define RECEIVED(fd)	T_INFO64(fd, received)

#endif /* _BATCH_H */
