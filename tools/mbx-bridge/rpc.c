// SPDX-License-Identifier: GPL-2.0
/*
 * mbx-bridge: the request/reply routes, NATS request/reply mapped onto
 * mailbox calls.
 *
 * `serve PORT SUBJECT REPLY_PORT` answers the NATS requests of SUBJECT (a
 * queue group: each request to one serving bridge) with a local server:
 * each request is sent to PORT and its reply taken from REPLY_PORT with one
 * mbx_call_ex(), within call-timeout.  The request goes with a call id of
 * the bridge's as its tag, and the server's reply must carry the same tag;
 * a reply with another tag (a late answer to a request that already timed
 * out) is dropped and counted, so it can never answer the wrong request.
 * The NATS reply has the reply's payload and priority and the request's
 * original tag (Mbx-Meta).  No reply in time: the NATS requester hears nothing and
 * times out; the route counts a timeout.
 *
 * `call PORT SUBJECT REPLY_PORT` is the other end: local clients call PORT
 * (mbx_call() with REPLY_PORT as their reply port), the bridge takes each
 * request, makes a NATS request on SUBJECT within call-timeout and sends the
 * reply, with its priority and tag, to REPLY_PORT.  No reply in time (or no
 * server at all): nothing is sent, the route counts a timeout and logs it,
 * and the client's own call times out with -ETIMEDOUT.
 *
 * Both take one request at a time per route.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bridge.h"

struct rpc {
	struct route *r;
	int port_fd, reply_fd;
	size_t req_max, reply_max;
	char *req, *reply;
	natsSubscription *sub;
	uint64_t call_id;
};

static int rpc_open(struct rpc *c)
{
	struct route *r = c->r;
	bool serve = r->kind == ROUTE_SERVE;
	struct mbx_port_info pi, ri;
	int ret;

	c->port_fd = mbx_port_open(MBX_DEV_AUTO, r->port,
				   (serve ? MBX_SEND : MBX_RECV) | MBX_CLOEXEC);
	if (c->port_fd < 0)
		return c->port_fd;
	c->reply_fd = mbx_port_open(MBX_DEV_AUTO, r->reply_port,
				    (serve ? MBX_RECV : MBX_SEND) | MBX_CLOEXEC);
	if (c->reply_fd < 0)
		return c->reply_fd;
	ret = mbx_port_info(c->port_fd, &pi);
	if (!ret)
		ret = mbx_port_info(c->reply_fd, &ri);
	if (ret)
		return ret;
	c->req_max = pi.max_msg_size;
	c->reply_max = ri.max_msg_size;
	c->req = malloc(c->req_max + 1);
	c->reply = malloc(c->reply_max + 1);
	c->call_id = ((uint64_t)getpid() << 40) ^ ((uint64_t)random() << 8);
	return c->req && c->reply ? 0 : -ENOMEM;
}

static void rpc_close(struct rpc *c)
{
	natsSubscription_Destroy(c->sub);
	if (c->port_fd >= 0)
		close(c->port_fd);
	if (c->reply_fd >= 0)
		close(c->reply_fd);
	free(c->req);
	free(c->reply);
}

static void count_timeout(struct rpc *c, const char *what)
{
	stats_add(&c->r->c->timeouts, 1);
	blog("%s: %s: no reply within %u ms (call-timeout)", c->r->subject,
	     what, c->r->br->cfg.call_timeout_ms);
}

/* CLOCK_MONOTONIC in ns, as MBX_ABSTIME deadlines are. */
static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void recv_arm(struct rpc *c, struct mbx_recv *rv, uint64_t deadline)
{
	memset(rv, 0, sizeof(*rv));
	rv->buf = (uintptr_t)c->reply;
	rv->len = c->reply_max;
	rv->flags = MBX_TIMEOUT | MBX_ABSTIME;
	rv->timeout_ns = deadline;
}

/*
 * serve: the local call, both halves and any late replies dropped within
 * one call-timeout from now; the reply's length, or -errno.
 */
static ssize_t serve_call(struct rpc *c, natsMsg *m,
			  const struct msg_meta *meta, unsigned int *prio)
{
	uint64_t deadline = mono_ns() +
			    c->r->br->cfg.call_timeout_ms * 1000000ULL;
	unsigned int late = 0;
	struct mbx_call call;
	long ret;

	memset(&call, 0, sizeof(call));
	call.send.buf = (uintptr_t)natsMsg_GetData(m);
	call.send.len = natsMsg_GetDataLength(m);
	call.send.tag = ++c->call_id;
	call.send.prio = meta->prio;
	call.send.flags = MBX_TIMEOUT | MBX_ABSTIME;
	call.send.timeout_ns = deadline;
	call.recv_fd = c->reply_fd;
	recv_arm(c, &call.recv, deadline);
	ret = mbx_call_ex(c->port_fd, &call);
	/* A queued reply is taken even past the deadline: stop there. */
	while (ret >= 0 && call.recv.tag != c->call_id) {
		stats_add(&c->r->c->deduplicated, 1);
		if (!late++)
			blog("%s: dropped a late reply (tag %" PRIu64 ") from %s",
			     c->r->subject, (uint64_t)call.recv.tag,
			     c->r->reply_port);
		if (mono_ns() >= deadline) {
			ret = -ETIMEDOUT;
			break;
		}
		recv_arm(c, &call.recv, deadline);
		ret = mbx_recv_ex(c->reply_fd, &call.recv);
	}
	if (late > 1)
		blog("%s: dropped %u replies with other tags from %s",
		     c->r->subject, late, c->r->reply_port);
	if (ret < 0)
		return ret;
	*prio = call.recv.prio;
	return call.recv.len;
}

static void serve_one(struct rpc *c, natsMsg *m)
{
	struct route *r = c->r;
	const char *reply_to = natsMsg_GetReply(m);
	struct msg_meta meta, out = { 0 };
	natsMsg *rm = NULL;
	ssize_t len;

	stats_add(&r->c->received, 1);
	if (!reply_to || meta_from_headers(m, &meta)) {
		dead_letter(r, m, reply_to ? "malformed mailbox headers" :
			    "a request without a reply subject");
		return;
	}
	/*
	 * A reply is published with the bridge's own rights: never to a
	 * system subject ($JS.API..., $SYS...), which a requester could name
	 * to act through the bridge.
	 */
	if (reply_to[0] == '$') {
		dead_letter(r, m, "a reply subject beginning with '$'");
		return;
	}
	if ((size_t)natsMsg_GetDataLength(m) > c->req_max) {
		dead_letter(r, m, "larger than the port's max_msg_size");
		return;
	}
	len = serve_call(c, m, &meta, &out.prio);
	if (len == -ETIMEDOUT) {
		count_timeout(c, natsMsg_GetSubject(m));
		return;
	}
	if (len < 0) {
		stats_add(&r->c->errors, 1);
		blog("%s: call on %s failed: %s", r->subject, r->port,
		     strerror((int)-len));
		return;
	}
	out.tag = meta.tag;
	out.pid = getpid();
	out.uid = getuid();
	if (natsMsg_Create(&rm, reply_to, NULL, c->reply, (int)len) != NATS_OK ||
	    meta_to_headers(rm, &out, r->br->cfg.name, r->br->cfg.name) ||
	    natsConnection_PublishMsg(r->br->nc, rm) != NATS_OK)
		stats_add(&r->c->errors, 1);
	else
		stats_add(&r->c->sent, 1);
	natsMsg_Destroy(rm);
}

static void serve_loop(struct rpc *c)
{
	struct route *r = c->r;
	char group[BRIDGE_SUBJECT_MAX + 16], tok[BRIDGE_SUBJECT_MAX];

	subject_token(r->subject, tok, sizeof(tok));
	snprintf(group, sizeof(group), "mbx-serve-%s", tok);
	if (natsConnection_QueueSubscribeSync(&c->sub, r->br->nc, r->subject,
					      group) != NATS_OK) {
		blog("serve %s: cannot subscribe", r->subject);
		r->br->stop = 2;
		return;
	}
	blog("serve %s -> %s, replies from %s, running", r->subject, r->port,
	     r->reply_port);
	while (!r->br->stop) {
		natsMsg *m = NULL;

		if (natsSubscription_NextMsg(&m, c->sub, 200) != NATS_OK)
			continue;
		serve_one(c, m);
		natsMsg_Destroy(m);
	}
}

/* call: one request taken from the port, asked over NATS, answered. */
static void call_one(struct rpc *c, struct mbx_recv *rv)
{
	struct route *r = c->r;
	struct msg_meta meta = {
		.prio = rv->prio, .tag = rv->tag, .pid = rv->pid, .uid = rv->uid,
	};
	natsMsg *m = NULL, *reply = NULL;
	struct mbx_send snd = { 0 };
	natsStatus s;

	meta.seq = ++c->call_id;
	s = natsMsg_Create(&m, r->subject, NULL, c->req, (int)rv->len);
	if (s == NATS_OK && meta_to_headers(m, &meta, r->br->cfg.name,
					    r->br->cfg.name))
		s = NATS_NO_MEMORY;
	if (s == NATS_OK)
		s = natsConnection_RequestMsg(&reply, r->br->nc, m,
					      r->br->cfg.call_timeout_ms);
	natsMsg_Destroy(m);
	if (s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS) {
		count_timeout(c, s == NATS_TIMEOUT ? "request" :
			      "request (no server answers the subject)");
		return;
	}
	if (s != NATS_OK || meta_from_headers(reply, &meta) ||
	    (size_t)natsMsg_GetDataLength(reply) > c->reply_max) {
		stats_add(&r->c->errors, 1);
		blog("%s: request failed: %s", r->subject,
		     s != NATS_OK ? natsStatus_GetText(s) : "unusable reply");
		natsMsg_Destroy(reply);
		return;
	}
	snd.buf = (uintptr_t)natsMsg_GetData(reply);
	snd.len = natsMsg_GetDataLength(reply);
	snd.prio = meta.prio;
	snd.tag = meta.tag;
	snd.flags = MBX_TIMEOUT;
	snd.timeout_ns = r->br->cfg.call_timeout_ms * 1000000ULL;
	if (mbx_send_ex(c->reply_fd, &snd) == 0)
		stats_add(&r->c->sent, 1);
	else
		stats_add(&r->c->errors, 1);
	natsMsg_Destroy(reply);
}

static void call_loop(struct rpc *c)
{
	struct route *r = c->r;

	blog("call %s -> %s, replies to %s, running", r->port, r->subject,
	     r->reply_port);
	while (!r->br->stop) {
		struct mbx_recv rv = {
			.buf = (uintptr_t)c->req, .len = c->req_max,
			.flags = MBX_TIMEOUT, .timeout_ns = 200000000ULL,
		};
		int ret = mbx_recv_ex(c->port_fd, &rv);

		if (ret == -ETIMEDOUT || ret == -EINTR)
			continue;
		if (ret < 0) {
			stats_add(&r->c->errors, 1);
			blog("%s: receive from %s failed: %s", r->subject,
			     r->port, strerror(-ret));
			sleep_ms(500);
			continue;
		}
		stats_add(&r->c->received, 1);
		call_one(c, &rv);
	}
}

/**
 * rpc_run() - the thread of one serve or call route
 * @arg: the route
 *
 * Return: NULL.
 */
void *rpc_run(void *arg)
{
	struct rpc c = { .r = arg, .port_fd = -1, .reply_fd = -1 };
	int ret = rpc_open(&c);

	if (ret) {
		blog("%s %s: cannot start: %s", route_kind_name(c.r->kind),
		     c.r->subject, strerror(-ret));
		c.r->br->stop = 2;
	} else if (c.r->kind == ROUTE_SERVE) {
		serve_loop(&c);
	} else {
		call_loop(&c);
	}
	rpc_close(&c);
	return NULL;
}
