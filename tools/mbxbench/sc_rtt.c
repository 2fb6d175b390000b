// SPDX-License-Identifier: GPL-2.0
/*
 * mbxbench: round-trip scenarios (rtt, rtt-1cpu, rtt-epoll, rtt-sleep):
 * client and server.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/epoll.h>
#include <sys/poll.h>

#include "bench.h"

static int wait_in(int ep)
{
	struct epoll_event ev;
	int n;

	do
		n = epoll_wait(ep, &ev, 1, -1);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

static int wait_out(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	return poll(&p, 1, -1) < 0 && errno != EINTR ? -errno : 0;
}

static int epoll_for(int fd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
		child_fail(-errno, "epoll on fd %d", fd);
	return ep;
}

/* Send, waiting for room on a non-blocking channel. */
static int tx_one(struct chan *c, uint64_t seq, bool epoll)
{
	int ret;

	while ((ret = c->t->tx(c, seq)) == -EAGAIN && epoll) {
		ret = wait_out(c->fd[TX]);
		if (ret)
			return ret;
	}
	return ret;
}

/* Receive; an epoll loop waits for readiness first, then reads. */
static int rx_one(struct chan *c, uint64_t seq, int ep)
{
	int ret;

	do {
		if (ep >= 0) {
			ret = wait_in(ep);
			if (ret)
				return ret;
		}
		ret = c->t->rx(c, seq);
	} while (ret == -EAGAIN && ep >= 0);
	return ret;
}

void rtt_client(const struct scenario *sc, struct chan *req,
		struct chan *rep)
{
	const struct transport *t = req->t;
	int ep = sc->epoll ? epoll_for(rep->fd[RX]) : -1;
	uint64_t seq, t0, t1;
	struct rec r;
	int ret;

	req->t->attach(req, TX);
	rep->t->attach(rep, RX);
	rec_init(&r, 0);
	for (seq = 0;; seq++) {
		t0 = now_ns();
		if (t->call) {
			ret = t->call(req, rep, seq);
			if (ret < 0)
				child_fail(ret, "%s: call", t->name);
		} else {
			ret = tx_one(req, seq, sc->epoll);
			if (ret < 0)
				child_fail(ret, "%s: client send", t->name);
			ret = rx_one(rep, seq, ep);
			if (ret < 0)
				child_fail(ret, "%s: client receive", t->name);
		}
		t1 = now_ns();
		if (rec_add(&r, t1 - t0, 1, t1))
			break;
		/* rtt-sleep: long enough for the server to fall asleep */
		while (sc->gap_ns && now_ns() - t1 < sc->gap_ns)
			cpu_relax();
	}
}

void rtt_server(const struct scenario *sc, struct chan *req,
		struct chan *rep)
{
	const struct transport *t = req->t;
	int ep = sc->epoll ? epoll_for(req->fd[RX]) : -1;
	uint64_t seq;
	int ret;

	req->t->attach(req, RX);
	rep->t->attach(rep, TX);
	peer_ready();
	if (t->serve) {
		ret = t->serve(req, rep);
		child_fail(ret, "%s: serve", t->name);
	}
	for (seq = 0;; seq++) {
		ret = rx_one(req, seq, ep);
		if (ret < 0)
			child_fail(ret, "%s: server receive", t->name);
		ret = tx_one(rep, seq, sc->epoll);
		if (ret < 0)
			child_fail(ret, "%s: server send", t->name);
	}
}
