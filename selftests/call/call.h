/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The MBX_IOC_CALL tests' common part (call_test.c, call_errors_test.c):
 * the raw call, PORT_INFO counters, the fixture (a request port and a
 * reply port), the check that a refused call touched neither, and a
 * server that replies to a given number of requests.
 */
#ifndef _CALL_H
#define _CALL_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sched.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "kselftest_harness.h"
#include "mbx_helpers.h"

#define MS		1000000ULL

#define TIMEOUT_NS	(100 * MS)
#define SLACK_NS	(1000 * MS)
#define POISON		0xdeadbeefU

/* A call struct: send @req (string) on the fd, receive into @buf on @rfd. */
static inline void call_init(struct mbx_call *c, const char *req, int rfd,
			     void *buf, size_t len)
{
	memset(c, 0, sizeof(*c));
	c->send.buf = (uintptr_t)req;
	c->send.len = req ? strlen(req) : 0;
	c->recv.buf = (uintptr_t)buf;
	c->recv.len = len;
	c->recv_fd = rfd;
}

static inline long call(int fd, struct mbx_call *c)
{
	return t_ioctl(fd, MBX_IOC_CALL, c);
}

#define QUEUED(fd)	T_INFO(fd, queued)
#define SENT(fd)	T_INFO64(fd, sent)
#define RECEIVED(fd)	T_INFO64(fd, received)

/*
 * The request port and reply port of a test.  Both may send and receive, so
 * neither ever reaches end of stream by a close in a child.
 */
FIXTURE(call) {
	int q;	/* requests */
	int r;	/* replies */
};

FIXTURE_SETUP(call)
{
	self->q = t_anon(4, 4096);
	ASSERT_LE(0, self->q);
	self->r = t_anon(4, 4096);
	ASSERT_LE(0, self->r);
}

FIXTURE_TEARDOWN(call)
{
	close(self->q);
	close(self->r);
}

/* Nothing was sent on @q and nothing was taken from @r (which holds @r_queued). */
static inline void expect_untouched(struct __test_metadata *_metadata,
				    const struct _test_data_call *self,
				    long long r_queued)
{
	int q = self->q, r = self->r;

	EXPECT_EQ(0, QUEUED(q));
	EXPECT_EQ(0, SENT(q));
	EXPECT_EQ(r_queued, QUEUED(r));
	EXPECT_EQ(0, RECEIVED(r));
}

#define EXPECT_UNTOUCHED(self, r_queued) \
	expect_untouched(_metadata, self, r_queued)

/* ---- a server for round trips ----------------------------------------- */

#define ROUNDS		500

static inline size_t req_len(unsigned int i)
{
	return (i * 37) % 1000 + (i % 3 ? 8 : 0);
}

static inline size_t rep_len(unsigned int i)
{
	return (i * 53 + 11) % 4000 + 1;
}

/*
 * Server: take the first request, then answer request i with reply i and
 * wait for request i + 1 in one call; answer the last one with a plain send.
 */
static inline int serve(int q, int r, unsigned int rounds)
{
	static char req[4096], rep[4096];
	unsigned int i, done;
	ssize_t n;

	n = mbx_recv(q, req, sizeof(req), NULL);
	if (n < 0)
		return t_code(n);
	for (i = 0; i < rounds; i++) {
		if ((size_t)n != req_len(i) || !t_check(req, n, i))
			return T_BAD_DATA;
		t_fill(rep, rep_len(i), i + 100000);
		if (i + 1 == rounds)
			return t_code(mbx_send(r, rep, rep_len(i), 0));
		done = POISON;
		n = mbx_reply_recv(r, rep, rep_len(i), q, req, sizeof(req),
				   &done);
		if (n < 0)
			return t_code(n);
		if (done != (MBX_CALL_SENT | MBX_CALL_RECEIVED))
			return T_BAD_DATA;
	}
	return 0;
}

#endif /* _CALL_H */
