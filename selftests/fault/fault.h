/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fail-nth tests' harness (fault_test.c, fault_pool_test.c): the
 * failslab and fail_page_alloc set-up, arming fail-nth, what a failed call
 * must leave unchanged, the loop that fails each injection point of one
 * operation in turn (run_op(), run_one()), the raw calls the operations
 * make, and the fixture with its main port.  An operation (struct fop)
 * prepares its arguments, makes exactly one system call, and checks and
 * undoes a success or checks a failure; each test file defines its own,
 * from the few pieces both share here (a new fd's check, a dup).  See
 * fault_test.c for the whole method.
 */
#ifndef _FAULT_H
#define _FAULT_H

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

static inline int read_str(const char *path, char *buf, size_t size)
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

static inline int write_str(const char *path, const char *val)
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

static inline int nth_arm(int fd, unsigned int n)
{
	int len = snprintf(nth_buf, sizeof(nth_buf), "%u", n);

	return pwrite(fd, nth_buf, len, 0) == len ? 0 : -errno;
}

/* After the one call: 1 if its fault fired, 0 if not, -errno.  Disarms. */
static inline int nth_fired(int fd)
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

static inline int count_maps(void)
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

static inline void take_snap(struct __test_metadata *_metadata, struct fx *x, struct snap *s)
{
	int i;

	memset(s, 0, sizeof(*s));
	s->nfds = t_count_fds();
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

static inline void same_snap(struct __test_metadata *_metadata, const struct snap *a,
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
static inline void run_op(struct __test_metadata *_metadata, struct fx *x, const struct fop *op,
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

static inline void drain(struct __test_metadata *_metadata, int fd, long n)
{
	struct mbx_recv r;

	while (n-- > 0)
		ASSERT_EQ(0, t_recv_nb(fd, fx.rdata[0], FI_MSG, 0, &r));
}

/* ---- shared by the operations of both files --------------------------- */

static inline void ok_new_fd(struct __test_metadata *_metadata, struct fx *x, const struct snap *s,
			     long ret)
{
	struct mbx_port_info info;

	ASSERT_EQ(0, t_info(ret, &info));
	EXPECT_EQ(s->p[0].id, info.id);
	EXPECT_EQ(s->p[0].senders + !!(info.access & MBX_SEND), info.senders);
	EXPECT_EQ(s->p[0].receivers + !!(info.access & MBX_RECV),
		  info.receivers);
	close(ret);
	EXPECT_EQ(s->nfds, t_count_fds());
	EXPECT_EQ(s->p[0].senders, T_INFO(x->fd, senders));
	EXPECT_EQ(s->p[0].receivers, T_INFO(x->fd, receivers));
}

static inline long call_dup(struct fx *x)
{
	return t_ioctl(x->fd, MBX_IOC_PORT_DUP, &x->dup);
}

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
static inline void main_port(struct __test_metadata *_metadata, struct fx *x)
{
	x->fd = t_pool_port(FI_CAP, FI_MSG, FI_POOL, x->name, 0600, 0);
	ASSERT_LE(0, x->fd);
	x->map = mmap(NULL, FI_POOL, PROT_READ | PROT_WRITE, MAP_SHARED,
		      x->fd, 0);
	ASSERT_NE(MAP_FAILED, x->map);
	memset(x->map, 0, FI_POOL);
	x->port[0] = x->fd;
}

static inline void run_one(struct __test_metadata *_metadata, const struct fop *op)
{
	struct result res;

	run_op(_metadata, &fx, op, &res);
}

#endif /* _FAULT_H */
