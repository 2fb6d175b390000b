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
 * For each operation - opening /dev/mailbox, creating a port (anonymous,
 * named, with a pool), MBX_IOC_PORT_OPEN, MBX_IOC_PORT_DUP, sends (copy,
 * small and past a page, MBX_SEND_BUF and MBX_SEND_SEALED), receives (copy,
 * in place, and a pool message copied out), MBX_IOC_BUF_ALLOC (also with
 * MBX_BUF_PAGES), mmap of the pool, a ring port's creation and the mmap
 * of its records (twice over), MBX_IOC_RING_ATTACH and MBX_IOC_RING_ENTER,
 * MBX_IOC_CALL, both batches, MBX_IOC_PORT_UNLINK and MBX_IOC_PORT_LIST
 * where it exists, and on a topic a dup that subscribes and a receive in
 * place - the test tries N = 1, 2, ... until the call succeeds
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
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "mbx_helpers.h"

#define FI_MAX_N	3000		/* a bound, far above any call's count */
#define FI_UID		3271		/* creator uid of the create tests */
#define FI_POOL		(16 * 1024)
#define FI_RING		(16 * 1024)
#define FI_MSG		16384
#define FI_CAP		8
#define DBGFS		"/sys/kernel/debug/"
#define NTH_PATH	"/proc/thread-self/fail-nth"

/* ---- failslab / fail_page_alloc set-up ------------------------------- */

static const char *const fi_settings[][2] = {
	{ "failslab/probability", "0" },
	{ "failslab/interval", "1" },
	{ "failslab/times", "-1" },
	{ "failslab/space", "0" },
	{ "failslab/verbose", "0" },
	{ "failslab/task-filter", "Y" },
	{ "failslab/ignore-gfp-wait", "N" },
	{ "failslab/cache-filter", "N" },
	{ "fail_page_alloc/probability", "0" },
	{ "fail_page_alloc/interval", "1" },
	{ "fail_page_alloc/times", "-1" },
	{ "fail_page_alloc/space", "0" },
	{ "fail_page_alloc/verbose", "0" },
	{ "fail_page_alloc/task-filter", "Y" },
	{ "fail_page_alloc/ignore-gfp-wait", "N" },
	{ "fail_page_alloc/ignore-gfp-highmem", "N" },
	{ "fail_page_alloc/min-order", "0" },
};

#define NSETTINGS ARRAY_SIZE(fi_settings)

static const char params[][24] = { "max_ports_per_user", "max_bytes_per_user" };

static int read_str(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -EIO;
}

/* ---- fail-nth ----------------------------------------------------------- */

/* Touched before any arming, so that using it never faults a page in. */
static char nth_buf[32];

static int nth_arm(int fd, unsigned int n)
{
	int len = snprintf(nth_buf, sizeof(nth_buf), "%u", n);

	return pwrite(fd, nth_buf, len, 0) == len ? 0 : -errno;
}

/* After the one call: 1 if its fault fired, 0 if not, -errno.  Disarms. */
static int nth_fired(int fd)
{
	ssize_t n = pread(fd, nth_buf, sizeof(nth_buf) - 1, 0);
	int err = n < 0 ? -errno : 0;

	if (pwrite(fd, "0", 1, 0) != 1)
		return -errno;
	if (err)
		return err;
	nth_buf[n] = '\0';
	return strtoul(nth_buf, NULL, 10) == 0;
}

/* ---- what must not change when a call fails --------------------------- */

struct snap {
	int nfds, nmaps;
	struct mbx_port_info p[2];
};

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static int count_maps(void)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "re");
	int n = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		n += !!strchr(line, '\n');
	fclose(f);
	return n;
}

/* ---- the operations --------------------------------------------------- */

/*
 * Everything the operations use lives here, in static memory that the
 * preparation touches, so that the call itself never faults a page in
 * (a page fault's allocations would count as injection points too).
 */
struct fx {
	int nth, dev;
	int port[2];		/* ports whose PORT_INFO is watched, or -1 */
	int maps;		/* also watch the number of mappings */
	int fd, rfd, held;	/* the main port, a second one, a third */
	uint8_t *map;		/* the main port's pool, mapped read-write */
	void *mapped;		/* result of the mmap operation */
	uint64_t off, off2;	/* regions held by fd */
	char name[MBX_NAME_LEN], name2[MBX_NAME_LEN];
	struct mbx_port_create create;
	struct mbx_port_open open;
	struct mbx_port_dup dup;
	struct mbx_port_unlink unlink;
	struct mbx_send send;
	struct mbx_recv recv;
	struct mbx_buf buf;
	struct mbx_call call;
	struct mbx_send sends[4];
	struct mbx_recv recvs[4];
	struct mbx_batch batch;
#ifdef MBX_IOC_PORT_LIST
	struct mbx_port_info infos[8];
	struct mbx_port_list list;
#endif
	char data[FI_MSG];
	char rdata[4][FI_MSG];
};

static struct fx fx;

struct fop {
	const char *name;
	/* set up the arguments (any system calls it needs happen here) */
	void (*prep)(struct __test_metadata *_metadata, struct fx *x);
	/* exactly one system call: its result, or -errno */
	long (*call)(struct fx *x);
	/* after a success: check what it did, and undo it */
	void (*ok)(struct __test_metadata *_metadata, struct fx *x, const struct snap *s,
		   long ret);
	/* after a failure: what else must hold (optional) */
	void (*failed)(struct __test_metadata *_metadata, struct fx *x, long ret);
	/* batches: the result of a complete success */
	long full;
};

static void take_snap(struct __test_metadata *_metadata, struct fx *x, struct snap *s)
{
	int i;

	memset(s, 0, sizeof(*s));
	s->nfds = count_fds();
	ASSERT_LT(0, s->nfds);
	s->nmaps = x->maps ? count_maps() : 0;
	for (i = 0; i < 2; i++)
		if (x->port[i] >= 0)
			ASSERT_EQ(0, t_info(x->port[i], &s->p[i]));
}

/* The __u32 and __u64 fields of PORT_INFO that a failed call must keep. */
static const struct {
	const char *name;
	size_t off, size;
} kept[] = {
#define K32(f) { #f, offsetof(struct mbx_port_info, f), 4 }
#define K64(f) { #f, offsetof(struct mbx_port_info, f), 8 }
	K32(queued), K64(sent), K64(received), K64(bytes_sent),
	K64(bytes_received), K64(pool_free), K32(senders), K32(receivers),
	K32(send_waiting), K32(recv_waiting), K32(state), K32(subscribers),
	K32(sub_depth),
#undef K32
#undef K64
};

static void same_snap(struct __test_metadata *_metadata, const struct snap *a,
		      const struct snap *b, const char *what, unsigned int n)
{
	unsigned int i, j;

	EXPECT_EQ(a->nfds, b->nfds)
		TH_LOG("%s at N=%u: open fds %d -> %d", what, n, a->nfds,
		       b->nfds);
	EXPECT_EQ(a->nmaps, b->nmaps)
		TH_LOG("%s at N=%u: mappings %d -> %d", what, n, a->nmaps,
		       b->nmaps);
	for (i = 0; i < 2; i++) {
		for (j = 0; j < ARRAY_SIZE(kept); j++) {
			const char *fa = (const char *)&a->p[i] + kept[j].off;
			const char *fb = (const char *)&b->p[i] + kept[j].off;

			EXPECT_EQ(0, memcmp(fa, fb, kept[j].size))
				TH_LOG("%s at N=%u: port %u: %s changed", what,
				       n, i, kept[j].name);
		}
	}
}

struct result {
	unsigned int points, enomem, absorbed, partial;
};

/*
 * Fail the 1st, 2nd, ... injection point of @op's call until it succeeds
 * with none fired.
 */
static void run_op(struct __test_metadata *_metadata, struct fx *x, const struct fop *op,
		   struct result *res)
{
	struct snap before, after;
	unsigned int n;
	int fired;
	long ret;

	memset(res, 0, sizeof(*res));
	for (n = 1; n <= FI_MAX_N; n++) {
		if (op->prep)
			op->prep(_metadata, x);
		take_snap(_metadata, x, &before);
		memset(nth_buf, 0, sizeof(nth_buf));
		ASSERT_EQ(0, nth_arm(x->nth, n));
		ret = op->call(x);
		fired = nth_fired(x->nth);
		ASSERT_LE(0, fired) TH_LOG("fail-nth: %s", strerror(-fired));

		if (ret >= 0) {
			op->ok(_metadata, x, &before, ret);
			ASSERT_TRUE(fired || !op->full || ret == op->full)
				TH_LOG("%s at N=%u: %ld of %ld with no fault",
				       op->name, n, ret, op->full);
			if (!fired)
				break;
			if (op->full && ret < op->full)
				res->partial++;
			else
				res->absorbed++;
			continue;
		}
		ASSERT_TRUE(fired)
			TH_LOG("%s failed at N=%u with no fault injected: %s",
			       op->name, n, strerror(-ret));
		ASSERT_EQ(-ENOMEM, ret)
			TH_LOG("%s at N=%u: %s, not ENOMEM", op->name, n,
			       strerror(-ret));
		res->enomem++;
		take_snap(_metadata, x, &after);
		same_snap(_metadata, &before, &after, op->name, n);
		if (op->failed)
			op->failed(_metadata, x, ret);
	}
	ASSERT_GE(FI_MAX_N, n) TH_LOG("%s never succeeded", op->name);
	res->points = n - 1;
	TH_LOG("fault points: %-22s %4u (ENOMEM %u, absorbed %u, batch cut %u)",
	       op->name, res->points, res->enomem, res->absorbed,
	       res->partial);
}

/* ---- helpers for the operations --------------------------------------- */

static long send_copy(int fd, const void *buf, uint64_t len)
{
	struct mbx_send s;

	memset(&s, 0, sizeof(s));
	s.buf = (uintptr_t)buf;
	s.len = len;
	s.flags = MBX_NONBLOCK;
	return t_ioctl(fd, MBX_IOC_SEND, &s);
}

static long send_buf(int fd, uint64_t off, uint64_t len)
{
	struct mbx_send s;

	memset(&s, 0, sizeof(s));
	s.offset = off;
	s.len = len;
	s.flags = MBX_SEND_BUF | MBX_NONBLOCK;
	return t_ioctl(fd, MBX_IOC_SEND, &s);
}

static long recv_into(int fd, void *buf, uint64_t len, uint32_t flags,
		      struct mbx_recv *r)
{
	memset(r, 0, sizeof(*r));
	r->buf = (uintptr_t)buf;
	r->len = len;
	r->flags = flags | MBX_NONBLOCK;
	return t_ioctl(fd, MBX_IOC_RECV, r);
}

static long long info64(int fd, size_t off)
{
	struct mbx_port_info info;
	uint64_t v;

	if (t_info(fd, &info))
		return -1;
	memcpy(&v, (char *)&info + off, sizeof(v));
	return (long long)v;
}

/* PORT_INFO fields: T_INFO() (mbx_helpers.h) for __u32, INFO64 for __u64 */
#define INFO64(fd, f) info64(fd, offsetof(struct mbx_port_info, f))

static void drain(struct __test_metadata *_metadata, int fd, long n)
{
	struct mbx_recv r;

	while (n-- > 0)
		ASSERT_EQ(0, recv_into(fd, fx.rdata[0], FI_MSG, 0, &r));
}

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
	EXPECT_EQ(s->nfds, count_fds());
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
	EXPECT_EQ(s->nfds, count_fds());
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

static void ok_new_fd(struct __test_metadata *_metadata, struct fx *x, const struct snap *s,
		      long ret)
{
	struct mbx_port_info info;

	ASSERT_EQ(0, t_info(ret, &info));
	EXPECT_EQ(s->p[0].id, info.id);
	EXPECT_EQ(s->p[0].senders + !!(info.access & MBX_SEND), info.senders);
	EXPECT_EQ(s->p[0].receivers + !!(info.access & MBX_RECV),
		  info.receivers);
	close(ret);
	EXPECT_EQ(s->nfds, count_fds());
	EXPECT_EQ(s->p[0].senders, T_INFO(x->fd, senders));
	EXPECT_EQ(s->p[0].receivers, T_INFO(x->fd, receivers));
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
	EXPECT_EQ(s->nfds, count_fds());
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

static long call_dup(struct fx *x)
{
	return t_ioctl(x->fd, MBX_IOC_PORT_DUP, &x->dup);
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
	EXPECT_EQ(s->p[0].sent + 1, INFO64(x->fd, sent));
	EXPECT_EQ(s->p[0].bytes_sent + x->send.len, INFO64(x->fd, bytes_sent));
	ASSERT_EQ(0, recv_into(x->fd, x->rdata[0], FI_MSG, 0, &r));
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
	EXPECT_EQ(s->p[0].pool_free, INFO64(x->fd, pool_free));
	/* take it back in place: the fd holds the region again */
	ASSERT_EQ(0, recv_into(x->fd, NULL, 0, MBX_RECV_INPLACE, &r));
	EXPECT_EQ(MBX_MSG_BUF, r.msg_flags);
	EXPECT_EQ(x->off, r.offset);
	EXPECT_EQ(100, r.len);
}

static void failed_send_buf(struct __test_metadata *_metadata, struct fx *x, long ret)
{
	/* still held by the fd, as allocated: another fd may not send it */
	EXPECT_EQ(-EPERM, send_buf(x->rfd, x->off, 100));
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
		EXPECT_EQ(s->p[0].pool_free - 128, INFO64(x->fd, pool_free));
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
	EXPECT_EQ(s->p[0].pool_free, INFO64(x->fd, pool_free));
	ASSERT_EQ(0, recv_into(x->fd, NULL, 0, MBX_RECV_INPLACE, &r));
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
		ASSERT_EQ(0, send_copy(x->fd, x->data, 1000));
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
	EXPECT_EQ(s->p[0].received + 1, INFO64(x->fd, received));
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
		if (INFO64(x->fd, pool_free) == FI_POOL)
			ASSERT_EQ(0, t_buf_alloc(x->fd, 100, MBX_NONBLOCK, 0, &x->off));
		memcpy(x->map + x->off, x->data, 100);
		ASSERT_EQ(0, send_buf(x->fd, x->off, 100));
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
	ASSERT_EQ(0, send_buf(x->fd, x->off, 100));
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
	EXPECT_EQ(FI_POOL, INFO64(x->fd, pool_free));
}

static const struct fop op_recv_pool_copy = {
	"recv pool msg copied", prep_recv_pool_copy, call_recv,
	ok_recv_pool_copy, NULL,
};

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
	EXPECT_EQ(s->p[0].pool_free - 128, INFO64(x->fd, pool_free));
	EXPECT_EQ(0, x->buf.offset % 64);
	EXPECT_EQ(0, t_buf_release(x->fd, x->buf.offset, 100));
	EXPECT_EQ(s->p[0].pool_free, INFO64(x->fd, pool_free));
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

	EXPECT_EQ(s->p[0].pool_free - pg, INFO64(x->fd, pool_free));
	EXPECT_EQ(0, x->buf.offset % pg);
	EXPECT_EQ(0, t_buf_release(x->fd, x->buf.offset, 100));
	EXPECT_EQ(s->p[0].pool_free, INFO64(x->fd, pool_free));
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
	EXPECT_EQ(s->nfds, count_fds());
}

static const struct fop op_ring_enter = {
	"ring enter", NULL, call_ring_enter, ok_nothing, NULL,
};

/* ---- 4. request/reply and batches --------------------------------------- */

/* fx.fd is the request port, fx.rfd the reply port with a reply queued */
static void prep_call(struct __test_metadata *_metadata, struct fx *x)
{
	if (!T_INFO(x->rfd, queued))
		ASSERT_EQ(0, send_copy(x->rfd, x->data, 32));
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
	EXPECT_EQ(s->p[0].sent + ret, INFO64(x->fd, sent));
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
		ASSERT_EQ(0, send_copy(x->fd, x->data, 100));
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
	EXPECT_EQ(s->p[0].received + ret, INFO64(x->fd, received));
}

static const struct fop op_recv_batch = {
	"recv batch of 4", prep_recv_batch, call_recv_batch, ok_recv_batch,
	failed_batch, 4,
};

/* ---- the fixture ---------------------------------------------------------- */

FIXTURE(fault) {
	int ready;	/* set up: the 6.1 harness runs a skipped body too */
	char saved[NSETTINGS][64];
	int have[NSETTINGS];
	unsigned long long psaved[2];
	int phave[2];
};

FIXTURE_SETUP(fault)
{
	char path[128];
	unsigned int i;

	memset(self->have, 0, sizeof(self->have));
	memset(self->phave, 0, sizeof(self->phave));
	if (access("/proc/self/fail-nth", F_OK))
		SKIP(return, "no /proc/self/fail-nth (CONFIG_FAULT_INJECTION)");
	if (access(DBGFS "failslab", F_OK))
		SKIP(return, "no " DBGFS "failslab (CONFIG_FAILSLAB, debugfs)");
	for (i = 0; i < NSETTINGS; i++) {
		snprintf(path, sizeof(path), DBGFS "%s", fi_settings[i][0]);
		if (read_str(path, self->saved[i], sizeof(self->saved[i])))
			continue;	/* optional knob (e.g. no fail_page_alloc) */
		self->have[i] = 1;
		ASSERT_EQ(0, write_str(path, fi_settings[i][1]))
			TH_LOG("%s = %s", path, fi_settings[i][1]);
	}
	for (i = 0; i < 2; i++)
		self->phave[i] = !t_param_get(params[i], &self->psaved[i]);

	memset(&fx, 0, sizeof(fx));
	fx.port[0] = -1;
	fx.port[1] = -1;
	fx.fd = -1;
	fx.rfd = -1;
	fx.held = -1;
	t_fill(fx.data, sizeof(fx.data), 11);
	t_name(fx.name, "fault");
	t_name(fx.name2, "fault");
	fx.nth = open(NTH_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fx.nth) TH_LOG(NTH_PATH ": %s", strerror(errno));
	fx.dev = t_dev();
	ASSERT_LE(0, fx.dev);
	self->ready = 1;
}

FIXTURE_TEARDOWN(fault)
{
	char path[128];
	unsigned int i;

	/* a create test may have left its euid behind */
	if (setresuid(0, 0, 0))
		TH_LOG("setresuid: %s", strerror(errno));
	if (fx.nth > 0)
		pwrite(fx.nth, "0", 1, 0);
	for (i = 0; i < NSETTINGS; i++) {
		if (!self->have[i])
			continue;
		snprintf(path, sizeof(path), DBGFS "%s", fi_settings[i][0]);
		/* "times" reads back as a number it also accepts */
		EXPECT_EQ(0, write_str(path, self->saved[i]))
			TH_LOG("could not restore %s", path);
	}
	for (i = 0; i < 2; i++)
		if (self->phave[i])
			t_param_set(params[i], self->psaved[i]);
	t_unlink_all();
}

/* The main port: named, FI_CAP messages of FI_MSG bytes, a pool, mapped. */
static void main_port(struct __test_metadata *_metadata, struct fx *x)
{
	x->fd = t_pool_port(FI_CAP, FI_MSG, FI_POOL, x->name, 0600, 0);
	ASSERT_LE(0, x->fd);
	x->map = mmap(NULL, FI_POOL, PROT_READ | PROT_WRITE, MAP_SHARED,
		      x->fd, 0);
	ASSERT_NE(MAP_FAILED, x->map);
	memset(x->map, 0, FI_POOL);
	x->port[0] = x->fd;
}

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
		ASSERT_EQ(FI_POOL, INFO64(x->fd, pool_free));
		ASSERT_EQ(0, t_buf_alloc(x->fd, 100, MBX_NONBLOCK, 0, &x->off));
		memcpy(x->map + x->off, x->data, 100);
		ASSERT_EQ(0, send_buf(x->fd, x->off, 100));
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
	EXPECT_EQ(FI_POOL, INFO64(x->fd, pool_free));
}

static const struct fop op_topic_inplace = {
	"topic recv in place", prep_topic_inplace, call_topic_recv,
	ok_topic_inplace, NULL,
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

static void run_one(struct __test_metadata *_metadata, const struct fop *op)
{
	struct result res;

	run_op(_metadata, &fx, op, &res);
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
			  (c->max_msg_size + 64) + c->pool_size;

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
	EXPECT_EQ(FI_POOL, INFO64(fx.fd, pool_free));
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
	EXPECT_EQ(FI_POOL, INFO64(fx.fd, pool_free));
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
	EXPECT_EQ(FI_POOL, INFO64(fx.fd, pool_free));
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
	EXPECT_EQ(FI_POOL, INFO64(fx.fd, pool_free));
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
	EXPECT_EQ(FI_POOL, INFO64(fx.fd, pool_free));
}

TEST_F_TIMEOUT(fault, recv_pool_message_copied_out, 120)
{
	if (!self->ready)
		return;
	main_port(_metadata, &fx);
	run_one(_metadata, &op_recv_pool_copy);
	EXPECT_EQ(FI_POOL, INFO64(fx.fd, pool_free));
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
	EXPECT_EQ(FI_POOL, INFO64(fx.fd, pool_free));
}

TEST_HARNESS_MAIN
