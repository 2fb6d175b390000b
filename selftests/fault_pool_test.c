// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection, as fault_test.c (whose comment says how), over the
 * calls around the pool and the other port kinds: MBX_IOC_BUF_ALLOC (also
 * with MBX_BUF_PAGES), mmap of a pool, a ring port's mmap of its records,
 * MBX_IOC_RING_ATTACH and MBX_IOC_RING_ENTER, MBX_IOC_CALL, both batches,
 * on a topic a dup that subscribes and a receive in place, and on a
 * MBX_PORT_MQ port the put-back of a handed-over message.
 *
 * Skipped where the kernel has no fail-nth or no failslab in debugfs.
 */
#define _GNU_SOURCE
#include <pthread.h>

#include "fault/fault.h"

/* ---- 3. the pool -------------------------------------------------------- */

static void prep_alloc(struct __test_metadata *_metadata, struct fx *x)
{
	memset(&x->buf, 0, sizeof(x->buf));
	x->buf.len = 100;
	x->buf.flags = MBX_NONBLOCK;
}

static long call_alloc(struct fx *x)
{
	return t_ioctl(x->fd, MBX_IOC_BUF_ALLOC, &x->buf);
}

static void ok_alloc(struct __test_metadata *_metadata, struct fx *x, const struct snap *s,
		     long ret)
{
	EXPECT_EQ(s->p[0].pool_free - 128, T_INFO64(x->fd, pool_free));
	EXPECT_EQ(0, x->buf.offset % 64);
	EXPECT_EQ(0, t_buf_release(x->fd, x->buf.offset, 100));
	EXPECT_EQ(s->p[0].pool_free, T_INFO64(x->fd, pool_free));
}

static const struct fop op_alloc = {
	"buf alloc", prep_alloc, call_alloc, ok_alloc, NULL,
};

/* MBX_BUF_PAGES: a head and a tail of free space are left around it */
static void prep_alloc_pages(struct __test_metadata *_metadata, struct fx *x)
{
	prep_alloc(_metadata, x);
	x->buf.flags |= MBX_BUF_PAGES;
}

static void ok_alloc_pages(struct __test_metadata *_metadata, struct fx *x,
			   const struct snap *s, long ret)
{
	long pg = sysconf(_SC_PAGESIZE);

	EXPECT_EQ(s->p[0].pool_free - pg, T_INFO64(x->fd, pool_free));
	EXPECT_EQ(0, x->buf.offset % pg);
	EXPECT_EQ(0, t_buf_release(x->fd, x->buf.offset, 100));
	EXPECT_EQ(s->p[0].pool_free, T_INFO64(x->fd, pool_free));
}

static const struct fop op_alloc_pages = {
	"buf alloc MBX_BUF_PAGES", prep_alloc_pages, call_alloc,
	ok_alloc_pages, NULL,
};

static long call_mmap(struct fx *x)
{
	void *p = mmap(NULL, FI_POOL, PROT_READ | PROT_WRITE, MAP_SHARED,
		       x->fd, 0);

	if (p == MAP_FAILED)
		return -errno;
	x->mapped = p;
	return 0;
}

static void ok_mmap(struct __test_metadata *_metadata, struct fx *x, const struct snap *s,
		    long ret)
{
	uint8_t *p = x->mapped;

	/* the same pool as the fixture's mapping */
	x->map[FI_POOL - 1] = 0x3c;
	EXPECT_EQ(0x3c, p[FI_POOL - 1]);
	p[FI_POOL - 2] = 0xc3;
	EXPECT_EQ(0xc3, x->map[FI_POOL - 2]);
	EXPECT_EQ(0, munmap(p, FI_POOL));
	EXPECT_EQ(s->nmaps, count_maps());
}

static const struct fop op_mmap = {
	"mmap pool", NULL, call_mmap, ok_mmap, NULL,
};

/* fx.fd is a ring port whose file is the producer: map its records. */
static long call_ring_mmap(struct fx *x)
{
	void *p = mmap(NULL, 2 * FI_RING, PROT_READ | PROT_WRITE, MAP_SHARED,
		       x->fd, MBX_RING_OFF_DATA);

	if (p == MAP_FAILED)
		return -errno;
	x->mapped = p;
	return 0;
}

static void ok_ring_mmap(struct __test_metadata *_metadata, struct fx *x,
			 const struct snap *s, long ret)
{
	long pg = sysconf(_SC_PAGESIZE), i;
	uint8_t *p = x->mapped;

	/*
	 * The record area, twice over: page i and page i + FI_RING / pg.
	 * The compiler knows the two addresses differ and may move a load
	 * above the store: a fence between them, as for any alias.
	 */
	for (i = 0; i < FI_RING / pg; i++) {
		p[i * pg + 5] = (uint8_t)(0x30 + i);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		EXPECT_EQ(0x30 + i, p[FI_RING + i * pg + 5])
			TH_LOG("page %ld of the second copy is not page %ld", i, i);
		p[FI_RING + i * pg + 6] = (uint8_t)(0x40 + i);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		EXPECT_EQ(0x40 + i, p[i * pg + 6]);
	}
	EXPECT_EQ(0, munmap(p, 2 * FI_RING));
	EXPECT_EQ(s->nmaps, count_maps());
}

static const struct fop op_ring_mmap = {
	"mmap ring records", NULL, call_ring_mmap, ok_ring_mmap, NULL,
};

static struct mbx_ring_attach ring_attach;
static struct mbx_ring_enter ring_enter;

static long call_ring_attach(struct fx *x)
{
	return t_ioctl(x->fd, MBX_IOC_RING_ATTACH, &ring_attach);
}

static void ok_ring_attach(struct __test_metadata *_metadata, struct fx *x,
			   const struct snap *s, long ret)
{
	struct mbx_ring_info ri;

	memset(&ri, 0, sizeof(ri));
	ASSERT_EQ(0, t_ioctl(x->fd, MBX_IOC_RING_INFO, &ri));
	EXPECT_EQ(MBX_RING_ROLE_CONSUMER, ri.roles);
}

static const struct fop op_ring_attach = {
	"ring attach", NULL, call_ring_attach, ok_ring_attach, NULL,
};

static long call_ring_enter(struct fx *x)
{
	return t_ioctl(x->fd, MBX_IOC_RING_ENTER, &ring_enter);
}

static void ok_nothing(struct __test_metadata *_metadata, struct fx *x,
		       const struct snap *s, long ret)
{
	EXPECT_EQ(s->nfds, t_count_fds());
}

static const struct fop op_ring_enter = {
	"ring enter", NULL, call_ring_enter, ok_nothing, NULL,
};

/* ---- 4. request/reply and batches --------------------------------------- */

/* fx.fd is the request port, fx.rfd the reply port with a reply queued */
static void prep_call(struct __test_metadata *_metadata, struct fx *x)
{
	if (!T_INFO(x->rfd, queued))
		ASSERT_EQ(0, t_send_copy(x->rfd, x->data, 32, 0, 0));
	memset(&x->call, 0, sizeof(x->call));
	x->call.send.buf = (uintptr_t)x->data;
	x->call.send.len = 16;
	x->call.send.flags = MBX_NONBLOCK;
	x->call.recv.buf = (uintptr_t)x->rdata[0];
	x->call.recv.len = FI_MSG;
	x->call.recv.flags = MBX_NONBLOCK;
	x->call.recv_fd = x->rfd;
	x->call.done = 0xdead;
}

static long call_call(struct fx *x)
{
	return t_ioctl(x->fd, MBX_IOC_CALL, &x->call);
}

static void ok_call(struct __test_metadata *_metadata, struct fx *x, const struct snap *s,
		    long ret)
{
	EXPECT_EQ(MBX_CALL_SENT | MBX_CALL_RECEIVED, x->call.done);
	EXPECT_EQ(32, x->call.recv.len);
	EXPECT_EQ(s->p[0].queued + 1, T_INFO(x->fd, queued));
	EXPECT_EQ(s->p[1].queued - 1, T_INFO(x->rfd, queued));
	drain(_metadata, x->fd, 1);
}

static void failed_call(struct __test_metadata *_metadata, struct fx *x, long ret)
{
	/* the receive half allocates nothing: a failure is the send's */
	EXPECT_EQ(0, x->call.done);
}

static const struct fop op_call = {
	"call", prep_call, call_call, ok_call, failed_call,
};

static void prep_batch(struct fx *x, void *msgs)
{
	memset(&x->batch, 0, sizeof(x->batch));
	x->batch.msgs = (uintptr_t)msgs;
	x->batch.count = 4;
	x->batch.flags = MBX_NONBLOCK;
	x->batch.done = 0xdead;
}

static void prep_send_batch(struct __test_metadata *_metadata, struct fx *x)
{
	int i;

	memset(x->sends, 0, sizeof(x->sends));
	for (i = 0; i < 4; i++) {
		x->sends[i].buf = (uintptr_t)x->data;
		x->sends[i].len = 64 * (i + 1);
		x->sends[i].tag = i;
	}
	prep_batch(x, x->sends);
}

static long call_send_batch(struct fx *x)
{
	return t_ioctl(x->fd, MBX_IOC_SEND_BATCH, &x->batch);
}

static void ok_send_batch(struct __test_metadata *_metadata, struct fx *x,
			  const struct snap *s, long ret)
{
	ASSERT_LE(1, ret);
	ASSERT_GE(4, ret);
	EXPECT_EQ(ret, x->batch.done);
	/* what went through is queued and counted, nothing more */
	EXPECT_EQ(s->p[0].queued + ret, T_INFO(x->fd, queued));
	EXPECT_EQ(s->p[0].sent + ret, T_INFO64(x->fd, sent));
	drain(_metadata, x->fd, ret);
}

static void failed_batch(struct __test_metadata *_metadata, struct fx *x, long ret)
{
	EXPECT_EQ(0, x->batch.done);
}

static const struct fop op_send_batch = {
	"send batch of 4", prep_send_batch, call_send_batch, ok_send_batch,
	failed_batch, 4,
};

static void prep_recv_batch(struct __test_metadata *_metadata, struct fx *x)
{
	long q = T_INFO(x->fd, queued);
	int i;

	for (; q < 4; q++)
		ASSERT_EQ(0, t_send_copy(x->fd, x->data, 100, 0, 0));
	memset(x->rdata, 0, sizeof(x->rdata));
	memset(x->recvs, 0, sizeof(x->recvs));
	for (i = 0; i < 4; i++) {
		x->recvs[i].buf = (uintptr_t)x->rdata[i];
		x->recvs[i].len = FI_MSG;
	}
	prep_batch(x, x->recvs);
}

static long call_recv_batch(struct fx *x)
{
	return t_ioctl(x->fd, MBX_IOC_RECV_BATCH, &x->batch);
}

static void ok_recv_batch(struct __test_metadata *_metadata, struct fx *x,
			  const struct snap *s, long ret)
{
	ASSERT_LE(1, ret);
	ASSERT_GE(4, ret);
	EXPECT_EQ(ret, x->batch.done);
	EXPECT_EQ(s->p[0].queued - ret, T_INFO(x->fd, queued));
	EXPECT_EQ(s->p[0].received + ret, T_INFO64(x->fd, received));
}

static const struct fop op_recv_batch = {
	"recv batch of 4", prep_recv_batch, call_recv_batch, ok_recv_batch,
	failed_batch, 4,
};

/* The main port as a topic (MBX_PORT_TOPIC); fd publishes. */
static void topic_port(struct __test_metadata *_metadata, struct fx *x)
{
	x->fd = t_pool_port(FI_CAP, FI_MSG, FI_POOL, x->name, 0600,
			    MBX_PORT_TOPIC);
	ASSERT_LE(0, x->fd);
	x->map = mmap(NULL, FI_POOL, PROT_READ | PROT_WRITE, MAP_SHARED,
		      x->fd, 0);
	ASSERT_NE(MAP_FAILED, x->map);
	x->port[0] = x->fd;
}

/* topic dup with MBX_RECV: the new fd's subscription is allocated */
static void prep_dup_recv(struct __test_metadata *_metadata, struct fx *x)
{
	memset(&x->dup, 0, sizeof(x->dup));
	x->dup.flags = MBX_RECV;
}

static void ok_topic_dup(struct __test_metadata *_metadata, struct fx *x,
			 const struct snap *s, long ret)
{
	EXPECT_EQ(s->p[0].subscribers + 1, T_INFO(x->fd, subscribers));
	EXPECT_EQ(MBX_SUB_ACTIVE, T_INFO(ret, sub_state));
	ok_new_fd(_metadata, x, s, ret);
	EXPECT_EQ(s->p[0].subscribers, T_INFO(x->fd, subscribers));
}

static const struct fop op_topic_dup = {
	"topic dup (subscribes)", prep_dup_recv, call_dup, ok_topic_dup, NULL,
};

/* topic: a pool message queued for subscriber fx.rfd, taken in place */
static void prep_topic_inplace(struct __test_metadata *_metadata,
			       struct fx *x)
{
	if (!T_INFO(x->rfd, sub_depth)) {
		ASSERT_EQ(FI_POOL, T_INFO64(x->fd, pool_free));
		ASSERT_EQ(0, t_buf_alloc(x->fd, 100, MBX_NONBLOCK, 0, &x->off));
		memcpy(x->map + x->off, x->data, 100);
		ASSERT_EQ(0, t_send_buf(x->fd, x->off, 100, 0, 0));
	}
	memset(&x->recv, 0, sizeof(x->recv));
	x->recv.flags = MBX_NONBLOCK | MBX_RECV_INPLACE;
}

static long call_topic_recv(struct fx *x)
{
	return t_ioctl(x->rfd, MBX_IOC_RECV, &x->recv);
}

static void ok_topic_inplace(struct __test_metadata *_metadata, struct fx *x,
			     const struct snap *s, long ret)
{
	EXPECT_EQ(0, T_INFO(x->rfd, sub_depth));
	EXPECT_EQ(MBX_MSG_BUF, x->recv.msg_flags);
	EXPECT_EQ(x->off, x->recv.offset);
	EXPECT_EQ(0, memcmp(x->map + x->off, x->data, 100));
	EXPECT_EQ(-EPERM, t_buf_release(x->fd, x->off, 100));
	EXPECT_EQ(0, t_buf_release(x->rfd, x->off, 100));
	EXPECT_EQ(FI_POOL, T_INFO64(x->fd, pool_free));
}

static const struct fop op_topic_inplace = {
	"topic recv in place", prep_topic_inplace, call_topic_recv,
	ok_topic_inplace, NULL,
};

/* ---- tests ---------------------------------------------------------------- */

/* Attach, enter (wake, and a wait that returns at once), map the records. */
TEST_F_TIMEOUT(fault, ring_calls, 180)
{
	if (!self->ready)
		return;
	fx.fd = mbx_ring_port_create(MBX_DEV_AUTO, NULL, FI_RING, 0600, 0);
	ASSERT_LE(0, fx.fd);
	ring_attach.role = MBX_RING_ROLE_CONSUMER;
	run_one(_metadata, &op_ring_attach);
	ring_attach.role = MBX_RING_ROLE_PRODUCER;
	ASSERT_EQ(0, t_ioctl(fx.fd, MBX_IOC_RING_ATTACH, &ring_attach));
	ring_enter.role = MBX_RING_ROLE_PRODUCER;
	ring_enter.flags = MBX_RING_ENTER_WAKE;
	run_one(_metadata, &op_ring_enter);
	ring_enter.flags = MBX_RING_ENTER_WAIT | MBX_NONBLOCK;
	ring_enter.want = 64;
	run_one(_metadata, &op_ring_enter);
	fx.maps = 1;
	run_one(_metadata, &op_ring_mmap);
}

TEST_F_TIMEOUT(fault, buf_alloc, 120)
{
	uint64_t first;

	if (!self->ready)
		return;
	main_port(_metadata, &fx);
	/* a region at offset 0, so that the next one needs an xarray node */
	ASSERT_EQ(0, t_buf_alloc(fx.fd, 64, MBX_NONBLOCK, 0, &first));
	run_one(_metadata, &op_alloc);
	EXPECT_EQ(0, t_buf_release(fx.fd, first, 64));
}

TEST_F_TIMEOUT(fault, buf_alloc_pages, 120)
{
	uint64_t first;

	if (!self->ready)
		return;
	main_port(_metadata, &fx);
	ASSERT_EQ(0, t_buf_alloc(fx.fd, 64, MBX_NONBLOCK, 0, &first));
	run_one(_metadata, &op_alloc_pages);
	EXPECT_EQ(0, t_buf_release(fx.fd, first, 64));
}

TEST_F_TIMEOUT(fault, mmap_pool, 120)
{
	if (!self->ready)
		return;
	main_port(_metadata, &fx);
	fx.maps = 1;
	run_one(_metadata, &op_mmap);
}

TEST_F_TIMEOUT(fault, call, 120)
{
	if (!self->ready)
		return;
	fx.fd = t_pool_port(FI_CAP, FI_MSG, 0, NULL, 0600, 0);
	fx.rfd = t_pool_port(FI_CAP, FI_MSG, 0, NULL, 0600, 0);
	ASSERT_LE(0, fx.fd);
	ASSERT_LE(0, fx.rfd);
	fx.port[0] = fx.fd;
	fx.port[1] = fx.rfd;
	run_one(_metadata, &op_call);
}

TEST_F_TIMEOUT(fault, send_batch, 120)
{
	if (!self->ready)
		return;
	main_port(_metadata, &fx);
	run_one(_metadata, &op_send_batch);
}

TEST_F_TIMEOUT(fault, recv_batch, 120)
{
	if (!self->ready)
		return;
	main_port(_metadata, &fx);
	run_one(_metadata, &op_recv_batch);
}

TEST_F_TIMEOUT(fault, topic_dup_subscribes, 120)
{
	if (!self->ready)
		return;
	topic_port(_metadata, &fx);
	run_one(_metadata, &op_topic_dup);
}

TEST_F_TIMEOUT(fault, topic_recv_in_place, 120)
{
	if (!self->ready)
		return;
	topic_port(_metadata, &fx);
	fx.rfd = mbx_port_dup(fx.fd, MBX_RECV);
	ASSERT_LE(0, fx.rfd);
	fx.port[1] = fx.rfd;
	run_one(_metadata, &op_topic_inplace);
	close(fx.rfd);
	EXPECT_EQ(FI_POOL, T_INFO64(fx.fd, pool_free));
}

/* ---- 7. a MBX_PORT_MQ port's put-back --------------------------------- */

struct handoff {
	int fd;
	unsigned int n;
	long ret;
	int fired;
};

/* A blocking receive into an unmapped buffer, fault @n armed in it. */
static void *recv_to_nowhere(void *arg)
{
	struct mbx_recv r = { .buf = 16, .len = FI_MSG };
	struct handoff *h = arg;
	int nth = open(NTH_PATH, O_RDWR | O_CLOEXEC);

	h->fired = -1;
	if (nth < 0 || nth_arm(nth, h->n))
		return NULL;
	h->ret = t_ioctl(h->fd, MBX_IOC_RECV, &r);
	h->fired = nth_fired(nth);
	close(nth);
	return NULL;
}

/*
 * A receive whose copy out faults puts its message back, and that cannot
 * fail.  A message handed straight to a waiting receiver of a new
 * MBX_PORT_MQ port never had a priority list: the put-back made one with
 * GFP_ATOMIC, and when that failed took the best list there was, NULL on
 * an empty tree, with port->lock held (found by a review).  The port now
 * starts with a spare list.
 */
TEST_F_TIMEOUT(fault, mq_put_back_of_a_handed_over_message, 120)
{
	struct handoff h;
	struct mbx_recv r;
	pthread_t t;
	char c;

	if (!self->ready)
		return;
	for (h.n = 1; h.n < FI_MAX_N; h.n++) {
		h.fd = t_port(FI_CAP, FI_MSG, 0600, NULL, MBX_PORT_MQ);
		ASSERT_LE(0, h.fd);
		ASSERT_EQ(0, pthread_create(&t, NULL, recv_to_nowhere, &h));
		ASSERT_EQ(0, T_WAIT(h.fd, recv_waiting, 1));
		ASSERT_EQ(0, t_send_copy(h.fd, "x", 1, 0, 0));
		ASSERT_EQ(0, pthread_join(t, NULL));
		ASSERT_LE(0, h.fired);
		EXPECT_EQ(-EFAULT, h.ret);
		/* Put back, not lost. */
		EXPECT_EQ(1, T_INFO(h.fd, queued));
		EXPECT_EQ(0, t_recv_nb(h.fd, &c, 1, 0, &r));
		EXPECT_EQ(1, r.len);
		close(h.fd);
		if (!h.fired)
			break;
	}
	TH_LOG("fault points: %-22s %4u", "mq put-back", h.n - 1);
}

TEST_HARNESS_MAIN
