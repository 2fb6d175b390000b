// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection: every allocation a call makes is failed in turn.
 *
 * The per-task fail-nth mechanism (Documentation/fault-injection/
 * fault-injection.rst): write N to /proc/thread-self/fail-nth, make exactly
 * one system call, and the N-th fault-injection point (failslab or
 * fail_page_alloc) it reaches fails; reading the file back gives 0 if it
 * did.  failslab and fail_page_alloc are set up so that every allocation
 * may be failed (ignore-gfp-wait=N, ignore-gfp-highmem=N, min-order=0),
 * with probability 0 so that nothing fails by chance.
 *
 * For each operation here - opening /dev/mailbox, creating a port
 * (anonymous, named, with a pool, a ring), MBX_IOC_PORT_OPEN,
 * MBX_IOC_PORT_DUP, MBX_IOC_PORT_UNLINK and MBX_IOC_PORT_LIST where it
 * exists, sends (copy: small, past a page, past the payload caches;
 * MBX_SEND_BUF, with MBX_SEND_NEXT, MBX_SEND_SEALED) and receives (copy,
 * in place, with MBX_RECV_RELEASE, a pool message copied out); and in
 * fault_pool_test.c for the pool, rings, calls, batches and topics - the
 * test tries N = 1, 2, ... until the call succeeds
 * with no fault fired.  At each N the call either succeeded (its effect is
 * checked, then undone) or failed with ENOMEM, and then nothing is
 * half-done: PORT_INFO (queued, counters, pool_free, senders, receivers,
 * state) is as before, no fd or mapping appeared, a failed create left no
 * name behind and no per-user charge (checked at the end against the
 * limits), a failed send sent nothing, a failed receive took nothing.
 * A fault that fired while the call still succeeded was absorbed (a
 * fallback such as kvmalloc's vmalloc, or kmemleak's own bookkeeping,
 * which the debug kernel counts as injection points too).
 *
 * The number of injection points of each operation (the first N at which
 * it succeeds without a fault, minus one) is logged as "fault points".
 * Leaks are judged by the runner's kmemleak scan (scripts/vm-run.sh -K).
 *
 * Skipped where the kernel has no fail-nth or no failslab in debugfs.
 * The harness (set-up, run_op(), the fixture) is in fault/fault.h.
 */
#define _GNU_SOURCE
#include "fault/fault.h"

/* ---- 1. the control device: open, create, open by name, unlink -------- */

static long call_dev_open(struct fx *x)
{
	int fd = open(MBX_DEVICE_PATH, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

static void ok_close_fd(struct __test_metadata *_metadata, struct fx *x, const struct snap *s,
			long ret)
{
	close(ret);
	EXPECT_EQ(s->nfds, t_count_fds());
}

static const struct fop op_dev_open = {
	"open /dev/mailbox", NULL, call_dev_open, ok_close_fd, NULL,
};

static void prep_create(struct fx *x, const char *name, uint64_t pool)
{
	memset(&x->create, 0, sizeof(x->create));
	x->create.capacity = 4;
	x->create.max_msg_size = 64;
	x->create.mode = 0600;
	x->create.pool_size = pool;
	if (name)
		snprintf(x->create.name, sizeof(x->create.name), "%s", name);
}

static void prep_create_anon(struct __test_metadata *_metadata, struct fx *x)
{
	prep_create(x, NULL, 0);
}

static void prep_create_named(struct __test_metadata *_metadata, struct fx *x)
{
	prep_create(x, x->name, 0);
}

static void prep_create_pool(struct __test_metadata *_metadata, struct fx *x)
{
	prep_create(x, x->name, FI_POOL);
}

static long call_create(struct fx *x)
{
	return t_ioctl(x->dev, MBX_IOC_PORT_CREATE, &x->create);
}

static void ok_create(struct __test_metadata *_metadata, struct fx *x, const struct snap *s,
		      long ret)
{
	struct mbx_port_info info;
	char buf[8];
	void *p;
	int o;

	ASSERT_EQ(0, t_info(ret, &info));
	EXPECT_EQ(4, info.capacity);
	EXPECT_EQ(x->create.pool_size, info.pool_size);
	EXPECT_EQ(x->create.pool_size, info.pool_free);
	EXPECT_EQ(1, info.senders);
	EXPECT_EQ(1, info.receivers);
	EXPECT_EQ(0, info.queued);
	EXPECT_STREQ(x->create.name, info.name);
	/* a working port */
	EXPECT_EQ(0, t_send_str(ret, "ok", 0));
	EXPECT_EQ(2, t_recv_str(ret, buf, sizeof(buf), NULL));
	if (info.pool_size) {
		p = mmap(NULL, info.pool_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, ret, 0);
		EXPECT_NE(MAP_FAILED, p);
		if (p != MAP_FAILED)
			munmap(p, info.pool_size);
	}
	if (x->create.name[0]) {
		EXPECT_EQ(MBX_STATE_NAMED, info.state);
		o = mbx_port_open(MBX_DEV_AUTO, x->create.name, MBX_SEND);
		EXPECT_LE(0, o);
		if (o >= 0)
			close(o);
		EXPECT_EQ(0, mbx_port_unlink(MBX_DEV_AUTO, x->create.name));
	}
	close(ret);
	EXPECT_EQ(s->nfds, t_count_fds());
}

static void failed_create(struct __test_metadata *_metadata, struct fx *x, long ret)
{
	if (x->create.name[0])
		EXPECT_EQ(-ENOENT, mbx_port_open(MBX_DEV_AUTO, x->create.name,
						 MBX_SEND))
			TH_LOG("a failed create left its name linked");
}

static const struct fop op_create_anon = {
	"create anonymous", prep_create_anon, call_create, ok_create,
	failed_create,
};

static const struct fop op_create_named = {
	"create named", prep_create_named, call_create, ok_create,
	failed_create,
};

static const struct fop op_create_pool = {
	"create named with pool", prep_create_pool, call_create, ok_create,
	failed_create,
};

static void prep_open(struct __test_metadata *_metadata, struct fx *x)
{
	memset(&x->open, 0, sizeof(x->open));
	x->open.flags = MBX_RECV;
	snprintf(x->open.name, sizeof(x->open.name), "%s", x->name);
}

static long call_open(struct fx *x)
{
	return t_ioctl(x->dev, MBX_IOC_PORT_OPEN, &x->open);
}

static void prep_create_ring(struct __test_metadata *_metadata, struct fx *x)
{
	prep_create(x, x->name, 0);
	x->create.capacity = 0;
	x->create.max_msg_size = 0;
	x->create.flags = MBX_PORT_RING;
	x->create.ring_size = FI_RING;
}

static void ok_create_ring(struct __test_metadata *_metadata, struct fx *x,
			   const struct snap *s, long ret)
{
	struct mbx_ring *p = NULL, *c = NULL;
	struct mbx_port_info info;
	char buf[8];

	ASSERT_EQ(0, t_info(ret, &info));
	EXPECT_EQ(MBX_STATE_RING | MBX_STATE_NAMED, info.state);
	/* a working ring */
	EXPECT_EQ(0, mbx_ring_attach(ret, MBX_RING_PRODUCER, &p));
	EXPECT_EQ(0, mbx_ring_attach(ret, MBX_RING_CONSUMER, &c));
	if (p && c) {
		EXPECT_EQ(0, mbx_ring_send(p, "ok", 2, 0));
		EXPECT_EQ(2, mbx_ring_recv(c, buf, sizeof(buf), 0));
	}
	mbx_ring_detach(p);
	mbx_ring_detach(c);
	EXPECT_EQ(0, mbx_port_unlink(MBX_DEV_AUTO, x->create.name));
	close(ret);
	EXPECT_EQ(s->nfds, t_count_fds());
}

static const struct fop op_create_ring = {
	"create named ring", prep_create_ring, call_create, ok_create_ring,
	failed_create,
};

static const struct fop op_open = {
	"open by name", prep_open, call_open, ok_new_fd, NULL,
};

static void prep_dup(struct __test_metadata *_metadata, struct fx *x)
{
	memset(&x->dup, 0, sizeof(x->dup));
	x->dup.flags = MBX_SEND;
}

static const struct fop op_dup = {
	"dup", prep_dup, call_dup, ok_new_fd, NULL,
};

/* unlink: the name of fx.held, linked again whenever it was unlinked */
static void prep_unlink(struct __test_metadata *_metadata, struct fx *x)
{
	if (x->held < 0) {
		x->held = t_pool_port(2, 16, 0, x->name2, 0600, 0);
		ASSERT_LE(0, x->held);
		x->port[0] = x->held;
	}
	memset(&x->unlink, 0, sizeof(x->unlink));
	snprintf(x->unlink.name, sizeof(x->unlink.name), "%s", x->name2);
}

static long call_unlink(struct fx *x)
{
	return t_ioctl(x->dev, MBX_IOC_PORT_UNLINK, &x->unlink);
}

static void ok_unlink(struct __test_metadata *_metadata, struct fx *x, const struct snap *s,
		      long ret)
{
	EXPECT_EQ(-ENOENT, mbx_port_open(MBX_DEV_AUTO, x->name2, MBX_SEND));
	EXPECT_EQ(0, T_INFO(x->held, state));
	close(x->held);
	x->held = -1;
	x->port[0] = -1;
}

static void failed_unlink(struct __test_metadata *_metadata, struct fx *x, long ret)
{
	int o = mbx_port_open(MBX_DEV_AUTO, x->name2, MBX_SEND);

	EXPECT_LE(0, o);
	if (o >= 0)
		close(o);
}

static const struct fop op_unlink = {
	"unlink", prep_unlink, call_unlink, ok_unlink, failed_unlink,
};

#ifdef MBX_IOC_PORT_LIST
static void prep_list(struct __test_metadata *_metadata, struct fx *x)
{
	memset(x->infos, 0, sizeof(x->infos));
	memset(&x->list, 0, sizeof(x->list));
	x->list.ports = (uintptr_t)x->infos;
	x->list.count = ARRAY_SIZE(x->infos);
}

static long call_list(struct fx *x)
{
	return t_ioctl(x->dev, MBX_IOC_PORT_LIST, &x->list);
}

static void ok_list(struct __test_metadata *_metadata, struct fx *x, const struct snap *s,
		    long ret)
{
	EXPECT_LE(1, x->list.count);
	EXPECT_LE(x->list.count, x->list.total);
}

static const struct fop op_list = {
	"port list", prep_list, call_list, ok_list, NULL,
};
#endif

/* ---- 2. messages ------------------------------------------------------- */

static void prep_send(struct fx *x, uint64_t len)
{
	memset(&x->send, 0, sizeof(x->send));
	x->send.buf = (uintptr_t)x->data;
	x->send.len = len;
	x->send.tag = len;
	x->send.flags = MBX_NONBLOCK;
}

static void prep_send_small(struct __test_metadata *_metadata, struct fx *x)
{
	prep_send(x, 64);
}

static void prep_send_large(struct __test_metadata *_metadata, struct fx *x)
{
	prep_send(x, 6000);	/* past a page: the cache of 8 KiB payloads */
}

static void prep_send_huge(struct __test_metadata *_metadata, struct fx *x)
{
	prep_send(x, 12000);	/* past the caches: kvmalloc() may fall back */
}

static long call_send(struct fx *x)
{
	return t_ioctl(x->fd, MBX_IOC_SEND, &x->send);
}

static void ok_send(struct __test_metadata *_metadata, struct fx *x, const struct snap *s,
		    long ret)
{
	struct mbx_recv r;

	EXPECT_EQ(s->p[0].queued + 1, T_INFO(x->fd, queued));
	EXPECT_EQ(s->p[0].sent + 1, T_INFO64(x->fd, sent));
	EXPECT_EQ(s->p[0].bytes_sent + x->send.len, T_INFO64(x->fd, bytes_sent));
	ASSERT_EQ(0, t_recv_nb(x->fd, x->rdata[0], FI_MSG, 0, &r));
	EXPECT_EQ(x->send.len, r.len);
	EXPECT_EQ(0, memcmp(x->rdata[0], x->data, r.len));
}

static const struct fop op_send_small = {
	"send copy 64 B", prep_send_small, call_send, ok_send, NULL,
};

static const struct fop op_send_large = {
	"send copy 6000 B", prep_send_large, call_send, ok_send, NULL,
};

static const struct fop op_send_huge = {
	"send copy 12000 B", prep_send_huge, call_send, ok_send, NULL,
};

static void prep_send_buf(struct __test_metadata *_metadata, struct fx *x)
{
	memset(&x->send, 0, sizeof(x->send));
	x->send.offset = x->off;
	x->send.len = 100;
	x->send.flags = MBX_SEND_BUF | MBX_NONBLOCK;
}

static void ok_send_buf(struct __test_metadata *_metadata, struct fx *x, const struct snap *s,
			long ret)
{
	struct mbx_recv r;

	EXPECT_EQ(s->p[0].queued + 1, T_INFO(x->fd, queued));
	EXPECT_EQ(s->p[0].pool_free, T_INFO64(x->fd, pool_free));
	/* take it back in place: the fd holds the region again */
	ASSERT_EQ(0, t_recv_nb(x->fd, NULL, 0, MBX_RECV_INPLACE, &r));
	EXPECT_EQ(MBX_MSG_BUF, r.msg_flags);
	EXPECT_EQ(x->off, r.offset);
	EXPECT_EQ(100, r.len);
}

static void failed_send_buf(struct __test_metadata *_metadata, struct fx *x, long ret)
{
	/* still held by the fd, as allocated: another fd may not send it */
	EXPECT_EQ(-EPERM, t_send_buf(x->rfd, x->off, 100, 0, 0));
}

static const struct fop op_send_buf = {
	"send MBX_SEND_BUF", prep_send_buf, call_send, ok_send_buf,
	failed_send_buf,
};

/* MBX_SEND_NEXT: the message, then the next region (fx.off2 after it) */
static void prep_send_next(struct __test_metadata *_metadata, struct fx *x)
{
	prep_send_buf(_metadata, x);
	x->send.flags |= MBX_SEND_NEXT;
	x->send.next_len = 100;
	x->send.next_offset = 0;
}

/*
 * The send stands even when the next region cannot be had (a fault after
 * the send is absorbed as MBX_OFFSET_NONE); a region it got is released.
 */
static void ok_send_next(struct __test_metadata *_metadata, struct fx *x,
			 const struct snap *s, long ret)
{
	uint64_t next = x->send.next_offset;

	if (next != MBX_OFFSET_NONE) {
		EXPECT_EQ(s->p[0].pool_free - 128, T_INFO64(x->fd, pool_free));
		EXPECT_EQ(0, t_buf_release(x->fd, next, 100));
	}
	ok_send_buf(_metadata, x, s, ret);
}

static const struct fop op_send_next = {
	"send MBX_SEND_NEXT", prep_send_next, call_send, ok_send_next,
	failed_send_buf,
};

/* MBX_SEND_SEALED of a page region (fx.off) */
static void prep_send_sealed(struct __test_metadata *_metadata, struct fx *x)
{
	prep_send_buf(_metadata, x);
	x->send.flags |= MBX_SEND_SEALED;
}

static void ok_send_sealed(struct __test_metadata *_metadata, struct fx *x,
			   const struct snap *s, long ret)
{
	struct mbx_recv r;

	EXPECT_EQ(s->p[0].queued + 1, T_INFO(x->fd, queued));
	EXPECT_EQ(s->p[0].pool_free, T_INFO64(x->fd, pool_free));
	ASSERT_EQ(0, t_recv_nb(x->fd, NULL, 0, MBX_RECV_INPLACE, &r));
	EXPECT_EQ(MBX_MSG_BUF | MBX_MSG_SEALED, r.msg_flags);
	EXPECT_EQ(x->off, r.offset);
	EXPECT_EQ(100, r.len);
	EXPECT_EQ(0, memcmp(x->map + x->off, x->data, 100));
}

static const struct fop op_send_sealed = {
	"send MBX_SEND_SEALED", prep_send_sealed, call_send, ok_send_sealed,
	failed_send_buf,
};

/* receives: one message queued before each try */
static void prep_recv_copy(struct __test_metadata *_metadata, struct fx *x)
{
	if (!T_INFO(x->fd, queued))
		ASSERT_EQ(0, t_send_copy(x->fd, x->data, 1000, 0, 0));
	memset(x->rdata[0], 0, sizeof(x->rdata[0]));
	memset(&x->recv, 0, sizeof(x->recv));
	x->recv.buf = (uintptr_t)x->rdata[0];
	x->recv.len = FI_MSG;
	x->recv.flags = MBX_NONBLOCK;
}

static long call_recv(struct fx *x)
{
	return t_ioctl(x->fd, MBX_IOC_RECV, &x->recv);
}

static void ok_recv_copy(struct __test_metadata *_metadata, struct fx *x, const struct snap *s,
			 long ret)
{
	EXPECT_EQ(s->p[0].queued - 1, T_INFO(x->fd, queued));
	EXPECT_EQ(s->p[0].received + 1, T_INFO64(x->fd, received));
	EXPECT_EQ(1000, x->recv.len);
	EXPECT_EQ(0, memcmp(x->rdata[0], x->data, 1000));
}

static const struct fop op_recv_copy = {
	"recv copy", prep_recv_copy, call_recv, ok_recv_copy, NULL,
};

/* a pool message (fx.off, 100 bytes) queued before each try */
static void queue_pool_msg(struct __test_metadata *_metadata, struct fx *x)
{
	if (!T_INFO(x->fd, queued)) {
		if (T_INFO64(x->fd, pool_free) == FI_POOL)
			ASSERT_EQ(0, t_buf_alloc(x->fd, 100, MBX_NONBLOCK, 0, &x->off));
		memcpy(x->map + x->off, x->data, 100);
		ASSERT_EQ(0, t_send_buf(x->fd, x->off, 100, 0, 0));
	}
}

static void prep_recv_inplace(struct __test_metadata *_metadata, struct fx *x)
{
	queue_pool_msg(_metadata, x);
	memset(&x->recv, 0, sizeof(x->recv));
	x->recv.flags = MBX_NONBLOCK | MBX_RECV_INPLACE;
}

static void ok_recv_inplace(struct __test_metadata *_metadata, struct fx *x,
			    const struct snap *s, long ret)
{
	EXPECT_EQ(s->p[0].queued - 1, T_INFO(x->fd, queued));
	EXPECT_EQ(MBX_MSG_BUF, x->recv.msg_flags);
	EXPECT_EQ(x->off, x->recv.offset);
	EXPECT_EQ(0, memcmp(x->map + x->off, x->data, 100));
	/* queue it again for the next try */
	ASSERT_EQ(0, t_send_buf(x->fd, x->off, 100, 0, 0));
}

static const struct fop op_recv_inplace = {
	"recv in place", prep_recv_inplace, call_recv, ok_recv_inplace, NULL,
};

/* MBX_RECV_RELEASE of fx.off2, then the queued pool message in place */
static void prep_recv_release(struct __test_metadata *_metadata,
			      struct fx *x)
{
	queue_pool_msg(_metadata, x);
	ASSERT_EQ(0, t_buf_alloc(x->fd, 64, MBX_NONBLOCK, 0, &x->off2));
	memset(&x->recv, 0, sizeof(x->recv));
	x->recv.flags = MBX_NONBLOCK | MBX_RECV_INPLACE | MBX_RECV_RELEASE;
	x->recv.release_offset = x->off2;
	x->recv.release_len = 64;
}

static void ok_recv_release(struct __test_metadata *_metadata, struct fx *x,
			    const struct snap *s, long ret)
{
	EXPECT_EQ(-EINVAL, t_buf_release(x->fd, x->off2, 64));
	ok_recv_inplace(_metadata, x, s, ret);
}

static void failed_recv_release(struct __test_metadata *_metadata,
				struct fx *x, long ret)
{
	EXPECT_EQ(0, t_buf_release(x->fd, x->off2, 64));
}

static const struct fop op_recv_release = {
	"recv MBX_RECV_RELEASE", prep_recv_release, call_recv,
	ok_recv_release, failed_recv_release,
};

static void prep_recv_pool_copy(struct __test_metadata *_metadata, struct fx *x)
{
	queue_pool_msg(_metadata, x);
	memset(x->rdata[0], 0, sizeof(x->rdata[0]));
	memset(&x->recv, 0, sizeof(x->recv));
	x->recv.buf = (uintptr_t)x->rdata[0];
	x->recv.len = FI_MSG;
	x->recv.flags = MBX_NONBLOCK;
}

static void ok_recv_pool_copy(struct __test_metadata *_metadata, struct fx *x,
			      const struct snap *s, long ret)
{
	EXPECT_EQ(s->p[0].queued - 1, T_INFO(x->fd, queued));
	EXPECT_EQ(0, x->recv.msg_flags);
	EXPECT_EQ(100, x->recv.len);
	EXPECT_EQ(0, memcmp(x->rdata[0], x->data, 100));
	/* copied out: the region is free again */
	EXPECT_EQ(FI_POOL, T_INFO64(x->fd, pool_free));
}

static const struct fop op_recv_pool_copy = {
	"recv pool msg copied", prep_recv_pool_copy, call_recv,
	ok_recv_pool_copy, NULL,
};

/* ---- tests ---------------------------------------------------------------- */

/* fail-nth works with probability 0, and fires on the module's own calls. */
TEST_F(fault, fail_nth_fires_with_probability_zero)
{
	long ret;
	int fired;

	if (!self->ready)
		return;
	prep_create(&fx, NULL, 0);
	memset(nth_buf, 0, sizeof(nth_buf));
	ASSERT_EQ(0, nth_arm(fx.nth, 1));
	ret = call_create(&fx);
	fired = nth_fired(fx.nth);
	EXPECT_EQ(1, fired);
	EXPECT_EQ(-ENOMEM, ret);
	if (ret >= 0)
		close(ret);
	/* disarmed: the same call works */
	ret = call_create(&fx);
	EXPECT_LE(0, ret);
	if (ret >= 0)
		close(ret);
}

TEST_F_TIMEOUT(fault, open_control_device, 120)
{
	if (!self->ready)
		return;
	run_one(_metadata, &op_dev_open);
}

/*
 * A failed create must leave no charge behind: with the limits set to
 * exactly two such ports, two can be created and a third is refused.
 */
static void no_charge_left(struct __test_metadata *_metadata, const struct mbx_port_create *c)
{
	uint64_t charge = (uint64_t)(c->capacity ? c->capacity : 1) *
			  t_msg_charge(c->max_msg_size) + c->pool_size;

	/* A ring: its records and its three pages. */
	if (c->flags & MBX_PORT_RING)
		charge = c->ring_size + 3 * sysconf(_SC_PAGESIZE);
	struct mbx_port_create c2 = *c;
	int a, b;

	ASSERT_EQ(0, setresuid(0, 0, 0));
	ASSERT_EQ(0, t_param_set("max_ports_per_user", 2));
	ASSERT_EQ(0, t_param_set("max_bytes_per_user", 2 * charge));
	ASSERT_EQ(0, setresuid(0, FI_UID, 0));
	c2.name[0] = '\0';
	a = mbx_port_create(MBX_DEV_AUTO, &c2);
	b = mbx_port_create(MBX_DEV_AUTO, &c2);
	EXPECT_LE(0, a) TH_LOG("a charge was left behind: %s", strerror(-a));
	EXPECT_LE(0, b) TH_LOG("a charge was left behind: %s", strerror(-b));
	EXPECT_EQ(-EMFILE, mbx_port_create(MBX_DEV_AUTO, &c2));
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	ASSERT_EQ(0, setresuid(0, 0, 0));
}

/* Creates run as FI_UID (euid, saved uid 0), charged to it alone. */
static void run_create(struct __test_metadata *_metadata, const struct fop *op)
{
	ASSERT_EQ(0, setresuid(0, FI_UID, 0));
	run_one(_metadata, op);
	no_charge_left(_metadata, &fx.create);
}

TEST_F_TIMEOUT(fault, create_anonymous_port, 120)
{
	if (!self->ready)
		return;
	run_create(_metadata, &op_create_anon);
}

TEST_F_TIMEOUT(fault, create_named_port, 120)
{
	if (!self->ready)
		return;
	run_create(_metadata, &op_create_named);
}

TEST_F_TIMEOUT(fault, create_named_port_with_pool, 180)
{
	if (!self->ready)
		return;
	run_create(_metadata, &op_create_pool);
}

TEST_F_TIMEOUT(fault, create_named_ring, 180)
{
	if (!self->ready)
		return;
	run_create(_metadata, &op_create_ring);
}

TEST_F_TIMEOUT(fault, open_by_name, 120)
{
	if (!self->ready)
		return;
	main_port(_metadata, &fx);
	run_one(_metadata, &op_open);
}

TEST_F_TIMEOUT(fault, dup, 120)
{
	if (!self->ready)
		return;
	main_port(_metadata, &fx);
	run_one(_metadata, &op_dup);
}

TEST_F_TIMEOUT(fault, unlink, 120)
{
	if (!self->ready)
		return;
	run_one(_metadata, &op_unlink);
	if (fx.held >= 0)
		close(fx.held);
}

#ifdef MBX_IOC_PORT_LIST
TEST_F_TIMEOUT(fault, port_list, 120)
{
	if (!self->ready)
		return;
	main_port(_metadata, &fx);
	fx.port[0] = -1;
	run_one(_metadata, &op_list);
}
#endif

TEST_F_TIMEOUT(fault, send_copy_small, 120)
{
	if (!self->ready)
		return;
	main_port(_metadata, &fx);
	run_one(_metadata, &op_send_small);
}

TEST_F_TIMEOUT(fault, send_copy_past_a_page, 180)
{
	if (!self->ready)
		return;
	main_port(_metadata, &fx);
	run_one(_metadata, &op_send_large);
}

TEST_F_TIMEOUT(fault, send_copy_past_the_caches, 180)
{
	if (!self->ready)
		return;
	main_port(_metadata, &fx);
	run_one(_metadata, &op_send_huge);
}

TEST_F_TIMEOUT(fault, send_pool_region, 120)
{
	if (!self->ready)
		return;
	main_port(_metadata, &fx);
	fx.rfd = mbx_port_open(MBX_DEV_AUTO, fx.name, MBX_SEND);
	ASSERT_LE(0, fx.rfd);
	ASSERT_EQ(0, t_buf_alloc(fx.fd, 100, MBX_NONBLOCK, 0, &fx.off));
	memcpy(fx.map + fx.off, fx.data, 100);
	run_one(_metadata, &op_send_buf);
	EXPECT_EQ(0, t_buf_release(fx.fd, fx.off, 100));
	EXPECT_EQ(FI_POOL, T_INFO64(fx.fd, pool_free));
}

TEST_F_TIMEOUT(fault, recv_copy, 120)
{
	if (!self->ready)
		return;
	main_port(_metadata, &fx);
	run_one(_metadata, &op_recv_copy);
}

TEST_F_TIMEOUT(fault, recv_in_place, 120)
{
	if (!self->ready)
		return;
	main_port(_metadata, &fx);
	run_one(_metadata, &op_recv_inplace);
	/* the message is queued again after each success: take it, free it */
	drain(_metadata, fx.fd, T_INFO(fx.fd, queued));
	EXPECT_EQ(FI_POOL, T_INFO64(fx.fd, pool_free));
}

TEST_F_TIMEOUT(fault, send_pool_region_and_next, 120)
{
	if (!self->ready)
		return;
	main_port(_metadata, &fx);
	fx.rfd = mbx_port_open(MBX_DEV_AUTO, fx.name, MBX_SEND);
	ASSERT_LE(0, fx.rfd);
	ASSERT_EQ(0, t_buf_alloc(fx.fd, 100, MBX_NONBLOCK, 0, &fx.off));
	memcpy(fx.map + fx.off, fx.data, 100);
	run_one(_metadata, &op_send_next);
	EXPECT_EQ(0, t_buf_release(fx.fd, fx.off, 100));
	EXPECT_EQ(FI_POOL, T_INFO64(fx.fd, pool_free));
}

TEST_F_TIMEOUT(fault, send_sealed, 120)
{
	if (!self->ready)
		return;
	main_port(_metadata, &fx);
	fx.rfd = mbx_port_open(MBX_DEV_AUTO, fx.name, MBX_SEND);
	ASSERT_LE(0, fx.rfd);
	ASSERT_EQ(0, t_buf_alloc(fx.fd, 100, MBX_NONBLOCK | MBX_BUF_PAGES, 0,
				 &fx.off));
	memcpy(fx.map + fx.off, fx.data, 100);
	run_one(_metadata, &op_send_sealed);
	EXPECT_EQ(0, t_buf_release(fx.fd, fx.off, 100));
	EXPECT_EQ(FI_POOL, T_INFO64(fx.fd, pool_free));
	/* freed, so writable again */
	fx.map[fx.off] = 1;
}

TEST_F_TIMEOUT(fault, recv_in_place_with_release, 120)
{
	if (!self->ready)
		return;
	main_port(_metadata, &fx);
	run_one(_metadata, &op_recv_release);
	drain(_metadata, fx.fd, T_INFO(fx.fd, queued));
	EXPECT_EQ(FI_POOL, T_INFO64(fx.fd, pool_free));
}

TEST_F_TIMEOUT(fault, recv_pool_message_copied_out, 120)
{
	if (!self->ready)
		return;
	main_port(_metadata, &fx);
	run_one(_metadata, &op_recv_pool_copy);
	EXPECT_EQ(FI_POOL, T_INFO64(fx.fd, pool_free));
}

TEST_HARNESS_MAIN
