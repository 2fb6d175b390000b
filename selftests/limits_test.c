// SPDX-License-Identifier: GPL-2.0
/*
 * Module limits, set at run time through /sys/module/mailbox/parameters:
 * max_ports_per_user (EMFILE), max_bytes_per_user (EDQUOT; a port charges
 * capacity messages of max_msg_size as the kernel allocates them, plus
 * pool_size, a rendezvous port one message, an mq port its priority
 * lists, and the charge comes back when the port is freed), max_capacity
 * and max_msg_size (EINVAL), default_msg_size.
 *
 * Every test saves the parameters in its setup and restores them in its
 * teardown.  The limited users are children with their own uid per test, so
 * that nothing another test left behind is counted.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "mbx_helpers.h"

static const char params[][24] = {
	"max_ports_per_user", "max_bytes_per_user", "max_capacity",
	"max_msg_size", "default_msg_size",
};

#define NPARAMS ARRAY_SIZE(params)

FIXTURE(lim) {
	unsigned long long saved[NPARAMS];
	int have[NPARAMS];
	char name[MBX_NAME_LEN];
};

FIXTURE_SETUP(lim)
{
	unsigned int i;

	for (i = 0; i < NPARAMS; i++) {
		ASSERT_EQ(0, t_param_get(params[i], &self->saved[i]))
			TH_LOG("module parameter %s", params[i]);
		self->have[i] = 1;
	}
	t_name(self->name, "lim");
	/* generous defaults; each test narrows what it checks */
	ASSERT_EQ(0, t_param_set("max_ports_per_user", 100));
	ASSERT_EQ(0, t_param_set("max_bytes_per_user", 64ULL << 20));
}

FIXTURE_TEARDOWN(lim)
{
	unsigned int i;

	t_unlink_all();
	for (i = 0; i < NPARAMS; i++)
		if (self->have[i])
			EXPECT_EQ(0, t_param_set(params[i], self->saved[i]))
				TH_LOG("could not restore %s", params[i]);
}

/* Run @fn(@arg) in a child as @uid; returns its result (0 = success). */
static int as_user(uid_t uid, int (*fn)(void *), void *arg)
{
	pid_t pid = t_fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (t_become(uid, uid))
			_exit(T_BAD_SETUP);
		_exit(fn(arg));
	}
	return t_reap(pid);
}

static int ports_up_to_limit(void *arg)
{
	int fds[3], i, fd;

	(void)arg;
	for (i = 0; i < 3; i++) {
		fds[i] = t_anon(1, 16);
		if (!(fds[i] >= 0))
			return 1 + i;
	}
	if (!(t_anon(1, 16) == -EMFILE))
		return 10;
	if (!(t_anon(0, 16) == -EMFILE))
		return 11;
	/* the limit refuses: it does not break the ports that exist */
	if (!(t_send_str(fds[0], "ok", 0) == 0))
		return 12;
	/* closing one frees its slot */
	close(fds[1]);
	fd = t_anon(1, 16);
	if (!(fd >= 0))
		return 13;
	if (!(t_anon(1, 16) == -EMFILE))
		return 14;
	return 0;
}

TEST_F(lim, max_ports_per_user_refuses_one_more_with_emfile)
{
	ASSERT_EQ(0, t_param_set("max_ports_per_user", 3));
	EXPECT_EQ(0, as_user(3001, ports_up_to_limit, NULL));
}

static int named_ports_count(void *arg)
{
	char (*names)[MBX_NAME_LEN] = arg;
	int fd;

	fd = t_port(1, 16, 0600, names[0], 0);
	if (!(fd >= 0))
		return 1;
	close(fd);
	fd = t_port(1, 16, 0600, names[1], 0);
	if (!(fd >= 0))
		return 2;
	close(fd);
	/* no fd open, but both names keep their ports alive */
	if (!(t_anon(1, 16) == -EMFILE))
		return 3;
	if (!(mbx_port_unlink(MBX_DEV_AUTO, names[0]) == 0))
		return 4;
	fd = t_anon(1, 16);
	if (!(fd >= 0))
		return 5;
	return 0;
}

TEST_F(lim, linked_named_port_counts_until_unlinked)
{
	char names[2][MBX_NAME_LEN];

	t_name(names[0], "lim");
	t_name(names[1], "lim");
	ASSERT_EQ(0, t_param_set("max_ports_per_user", 2));
	EXPECT_EQ(0, as_user(3002, named_ports_count, names));
}

/*
 * What a port charges its owner (docs/SEMANTICS.md): capacity messages,
 * rendezvous ports one, of max_msg_size bytes as the kernel allocates them.
 */
static inline long long CHARGE(unsigned int cap, unsigned int size)
{
	return (long long)(cap ? cap : 1) * t_msg_charge(size);
}

struct hold {
	int ready[2];
	int done[2];
	int count;
};

/* Create @count ports, check the next is refused, then hold them. */
static int fill_and_hold(void *arg)
{
	struct hold *h = arg;
	int i, fd;
	char c;

	for (i = 0; i < h->count; i++)
		if (!(t_anon(1, 1024) >= 0))
			return 1 + i;
	fd = t_anon(1, 16);
	if (!(fd == -EMFILE || fd == -EDQUOT))
		return 50;
	if (!(write(h->ready[1], "r", 1) == 1))
		return 51;
	if (!(read(h->done[0], &c, 1) == 1))
		return 52;
	return 0;
}

static int create_and_use(void *arg)
{
	int n = *(int *)arg, i, fd = -1;
	char buf[8];

	for (i = 0; i < n; i++) {
		fd = t_anon(1, 1024);
		if (!(fd >= 0))
			return 1 + i;
	}
	if (!(t_send_str(fd, "u2", 0) == 0))
		return 60;
	if (!(t_recv_str(fd, buf, sizeof(buf), NULL) == 2))
		return 61;
	return 0;
}

static void check_other_user_unaffected(struct __test_metadata *_metadata,
					uid_t u1, uid_t u2, int count)
{
	struct hold h = { .count = count };
	pid_t holder;
	char c;

	ASSERT_EQ(0, pipe(h.ready));
	ASSERT_EQ(0, pipe(h.done));
	holder = t_fork();
	ASSERT_LE(0, holder);
	if (holder == 0) {
		if (t_become(u1, u1))
			_exit(T_BAD_SETUP);
		_exit(fill_and_hold(&h));
	}
	close(h.ready[1]);
	if (read(h.ready[0], &c, 1) != 1) {
		EXPECT_EQ(0, t_reap(holder)) TH_LOG("first user failed");
		return;
	}
	EXPECT_EQ(0, as_user(u2, create_and_use, &count));
	ASSERT_EQ(1, write(h.done[1], "d", 1));
	EXPECT_EQ(0, t_reap(holder));
}

TEST_F(lim, ports_limit_is_per_user)
{
	ASSERT_EQ(0, t_param_set("max_ports_per_user", 2));
	check_other_user_unaffected(_metadata, 3003, 3004, 2);
}

TEST_F(lim, bytes_limit_is_per_user)
{
	/* two ports of 1 x 1024 fit exactly */
	ASSERT_EQ(0, t_param_set("max_bytes_per_user", 2 * CHARGE(1, 1024)));
	check_other_user_unaffected(_metadata, 3005, 3006, 2);
}

static int bytes_up_to_limit(void *arg)
{
	int i;

	(void)arg;
	/* three ports of 4 x 8192 make the limit: they fit exactly */
	for (i = 0; i < 3; i++)
		if (!(t_anon(4, 8192) >= 0))
			return 1 + i;
	/* one byte beyond */
	if (!(t_anon(1, 1) == -EDQUOT))
		return 10;
	if (!(t_anon(4, 8192) == -EDQUOT))
		return 11;
	return 0;
}

TEST_F(lim, max_bytes_per_user_refuses_beyond_limit_with_edquot)
{
	ASSERT_EQ(0, t_param_set("max_bytes_per_user", 3 * CHARGE(4, 8192)));
	EXPECT_EQ(0, as_user(3007, bytes_up_to_limit, NULL));
}

static int rendezvous_charge(void *arg)
{
	(void)arg;
	if (!(t_anon(0, 8192) >= 0))
		return 1;
	/* a second rendezvous port would bring the charge over 12928 */
	if (!(t_anon(0, 8192) == -EDQUOT))
		return 2;
	/* CHARGE(0, 8192) + CHARGE(1, 1680) = 10816 + 2112: fits exactly */
	if (!(t_anon(1, 1680) >= 0))
		return 3;
	if (!(t_anon(0, 1) == -EDQUOT))
		return 4;
	return 0;
}

TEST_F(lim, rendezvous_port_charges_one_message)
{
	ASSERT_EQ(0, t_param_set("max_bytes_per_user",
				 CHARGE(0, 8192) + CHARGE(1, 1680)));
	EXPECT_EQ(0, as_user(3008, rendezvous_charge, NULL));
}

/*
 * An mq port also charges what keeps its messages in order: a 64-byte
 * priority list for each message it may queue (each may have a priority
 * of its own) and its spare, as Linux charges RLIMIT_MSGQUEUE a tree node
 * for each message a POSIX queue may hold.
 */
static long long MQ_CHARGE(unsigned int cap, unsigned int size)
{
	return CHARGE(cap, size) + (long long)((cap ? cap : 1) + 1) * 64;
}

static int mq_port_fits(void *arg)
{
	(void)arg;
	if (!(t_port(4, 64, 0600, NULL, MBX_PORT_MQ) >= 0))
		return 1;
	return 0;
}

static int mq_port_refused(void *arg)
{
	(void)arg;
	if (!(t_port(4, 64, 0600, NULL, MBX_PORT_MQ) == -EDQUOT))
		return 1;
	/* An ordinary port of the same sizes has no lists to charge. */
	if (!(t_anon(4, 64) >= 0))
		return 2;
	return 0;
}

TEST_F(lim, mq_port_charges_a_priority_list_per_message)
{
	/* Exactly at the limit it fits; one byte below, it is refused. */
	ASSERT_EQ(0, t_param_set("max_bytes_per_user", MQ_CHARGE(4, 64)));
	EXPECT_EQ(0, as_user(3014, mq_port_fits, NULL));
	ASSERT_EQ(0, t_param_set("max_bytes_per_user", MQ_CHARGE(4, 64) - 1));
	EXPECT_EQ(0, as_user(3014, mq_port_refused, NULL));
}

static int bytes_come_back(void *arg)
{
	int fd;

	(void)arg;
	fd = t_anon(4, 8192);
	if (!(fd >= 0))
		return 1;
	if (!(t_anon(1, 1) == -EDQUOT))
		return 2;
	close(fd);
	fd = t_anon(4, 8192);
	if (!(fd >= 0))
		return 3;
	return 0;
}

TEST_F(lim, freeing_a_port_returns_its_bytes)
{
	ASSERT_EQ(0, t_param_set("max_bytes_per_user", CHARGE(4, 8192)));
	EXPECT_EQ(0, as_user(3009, bytes_come_back, NULL));
}

static int sends_at_full_charge(void *arg)
{
	static char msg[8192];
	int fd, i;

	(void)arg;
	fd = t_anon(4, 8192);
	if (!(fd >= 0))
		return 1;
	for (i = 0; i < 4; i++) {
		t_fill(msg, sizeof(msg), i);
		if (!(mbx_send(fd, msg, sizeof(msg), 0) == 0))
			return 10 + i;
	}
	for (i = 0; i < 4; i++) {
		if (!(mbx_recv(fd, msg, sizeof(msg), NULL) == sizeof(msg)))
			return 20 + i;
		if (!(t_check(msg, sizeof(msg), i)))
			return 30 + i;
	}
	return 0;
}

TEST_F(lim, sends_never_fail_for_accounting)
{
	ASSERT_EQ(0, t_param_set("max_bytes_per_user", CHARGE(4, 8192)));
	EXPECT_EQ(0, as_user(3010, sends_at_full_charge, NULL));
}

static int rejected_creates(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < 3; i++) {
		if (!(t_port(1, 16, 01777, NULL, 0) == -EINVAL))
			return 1;
		if (!(t_port(1, 16, 0600, NULL, 1U << 31) == -EINVAL))
			return 2;
		if (!(t_anon(3, 8192) == -EDQUOT))
			return 3;
	}
	if (!(t_anon(1, 8192) >= 0))
		return 4;
	if (!(t_anon(1, 8192) >= 0))
		return 5;
	return 0;
}

TEST_F(lim, rejected_creates_charge_nothing)
{
	ASSERT_EQ(0, t_param_set("max_ports_per_user", 2));
	ASSERT_EQ(0, t_param_set("max_bytes_per_user", 2 * CHARGE(1, 8192)));
	EXPECT_EQ(0, as_user(3011, rejected_creates, NULL));
}

TEST_F(lim, max_capacity_parameter_bounds_capacity)
{
	int fd;

	ASSERT_EQ(0, t_param_set("max_capacity", 8));
	fd = t_anon(8, 16);
	EXPECT_LE(0, fd);
	EXPECT_EQ(-EINVAL, t_anon(9, 16));
	ASSERT_EQ(0, t_param_set("max_capacity", 9));
	fd = t_anon(9, 16);
	EXPECT_LE(0, fd);
}

TEST_F(lim, max_msg_size_parameter_bounds_msg_size)
{
	int fd;

	ASSERT_EQ(0, t_param_set("max_msg_size", 1024));
	fd = t_anon(1, 1024);
	EXPECT_LE(0, fd);
	EXPECT_EQ(-EINVAL, t_anon(1, 1025));
	ASSERT_EQ(0, t_param_set("max_msg_size", 1025));
	fd = t_anon(1, 1025);
	EXPECT_LE(0, fd);
}

/*
 * A message size parameter is at least 1: 0 would make ports that carry
 * only empty messages.  A refused value leaves the parameter as it was.
 * (Past the 64 MiB ceiling it is taken and capped where it is used:
 * security_limits_test.)
 */
TEST_F(lim, msg_size_parameters_refuse_zero)
{
	static const char *const names[] = { "max_msg_size",
					     "default_msg_size" };
	unsigned long long v;
	unsigned int i;

	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, t_param_set(names[i], 4096));
		EXPECT_EQ(-EINVAL, t_param_set(names[i], 0));
		ASSERT_EQ(0, t_param_get(names[i], &v));
		EXPECT_EQ(4096, v);
		EXPECT_EQ(0, t_param_set(names[i], 1));
	}
}

TEST_F(lim, default_msg_size_parameter_applies_to_size_zero)
{
	char buf[600];
	int fd;

	ASSERT_EQ(0, t_param_set("default_msg_size", 512));
	fd = t_anon(2, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(512, T_INFO(fd, max_msg_size));
	memset(buf, 'd', sizeof(buf));
	EXPECT_EQ(0, mbx_send(fd, buf, 512, 0));
	EXPECT_EQ(-EMSGSIZE, mbx_send(fd, buf, 513, 0));
}

/*
 * Uid 3101 makes a user namespace where its subordinate uids 3200 and 3201
 * are 0 and 1: ports made as either count against 3101 too, as Linux's
 * rlimit ucounts count a namespace's ports against its owner.  Otherwise
 * every mapped uid would have a whole quota of its own.
 */
TEST_F(lim, uids_mapped_into_a_user_namespace_share_its_owners_limit)
{
	int go[2], ready[2], code;
	char c = 0;
	pid_t pid;

	ASSERT_EQ(0, t_param_set("max_ports_per_user", 2));
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(ready));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(ready[0]);
		close(go[1]);
		if (t_become(3101, 3101))
			_exit(T_BAD_SETUP);
		if (unshare(CLONE_NEWUSER))
			_exit(T_NO_NS);
		if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(T_BAD_SETUP);
		if (setgroups(0, NULL) || setresgid(0, 0, 0) ||
		    setresuid(0, 0, 0))
			_exit(T_BAD_SETUP);
		if (t_anon(1, 16) < 0)		/* 3200: 1, 3101: 1 */
			_exit(1);
		if (setresuid(1, 1, 1))
			_exit(T_BAD_SETUP);
		if (t_anon(1, 16) < 0)		/* 3201: 1, 3101: 2 */
			_exit(2);
		_exit(t_anon(1, 16) == -EMFILE ? 0 : 3);
	}
	close(ready[1]);
	close(go[0]);
	if (read(ready[0], &c, 1) != 1) {
		code = t_reap(pid);
		if (code == T_NO_NS)
			SKIP(return, "user namespaces not supported here");
		ASSERT_EQ(0, code);
	}
	ASSERT_EQ(0, t_write_proc_map(pid, "uid_map", "0 3200 2\n"));
	ASSERT_EQ(0, t_write_proc_map(pid, "gid_map", "0 3200 2\n"));
	ASSERT_EQ(1, write(go[1], &c, 1));
	EXPECT_EQ(0, t_reap(pid));
	close(go[1]);
	close(ready[0]);
}

/* As @uid: make a user and IPC namespace and the named port @name in it. */
static pid_t named_port_in_new_namespaces(uid_t uid, const char *name,
					  int ready)
{
	pid_t pid = t_fork();
	char c = 0;
	int fd;

	if (pid == 0) {
		if (t_become(uid, uid))
			_exit(T_BAD_SETUP);
		if (unshare(CLONE_NEWUSER | CLONE_NEWIPC))
			_exit(T_NO_NS);
		fd = t_port(1, 16, 0600, name, 0);
		if (fd < 0)
			_exit(t_code(fd));
		if (ready >= 0 && write(ready, &c, 1) != 1)
			_exit(T_BAD_SETUP);
		if (ready >= 0)
			pause();	/* until killed */
		_exit(0);
	}
	return pid;
}

static int one_anon_port(void *arg)
{
	(void)arg;
	return t_code(t_anon(1, 16));
}

/*
 * A named port holds its IPC namespace; once nothing else does, nobody can
 * ever enter it again, and its ports are unlinked (at the latest by the
 * next create), their charge given back, as the namespace's own POSIX
 * queues would go with it.  They pinned it, and their owner's quota, for
 * as long as the module was loaded.
 */
TEST_F(lim, a_namespace_nobody_can_enter_gives_its_ports_back)
{
	int code;

	ASSERT_EQ(0, t_param_set("max_ports_per_user", 1));
	code = t_reap(named_port_in_new_namespaces(3401, self->name, -1));
	if (code == T_NO_NS)
		SKIP(return, "user or IPC namespaces not supported here");
	ASSERT_EQ(0, code);
	EXPECT_EQ(0, as_user(3401, one_anon_port, NULL));
}

/* One that can still be entered (an open nsfs file) keeps its names. */
TEST_F(lim, a_namespace_still_held_keeps_its_ports)
{
	int ready[2], nsfd, code;
	char path[64], c;
	pid_t pid, p;

	ASSERT_EQ(0, t_param_set("max_ports_per_user", 1));
	ASSERT_EQ(0, pipe(ready));
	pid = named_port_in_new_namespaces(3402, self->name, ready[1]);
	ASSERT_LE(0, pid);
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1) {
		code = t_reap(pid);
		if (code == T_NO_NS)
			SKIP(return, "user or IPC namespaces not supported here");
		ASSERT_EQ(0, code);
	}
	snprintf(path, sizeof(path), "/proc/%d/ns/ipc", (int)pid);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, nsfd);
	t_kill(pid);
	EXPECT_EQ(EMFILE, as_user(3402, one_anon_port, NULL));
	p = t_fork();		/* the name is still there to open */
	if (p == 0) {
		if (setns(nsfd, CLONE_NEWIPC) || t_become(3402, 3402))
			_exit(T_BAD_SETUP);
		_exit(t_code(mbx_port_open(MBX_DEV_AUTO, self->name, MBX_RECV)));
	}
	EXPECT_EQ(0, t_reap(p));
	close(nsfd);		/* now nobody can enter it */
	EXPECT_EQ(0, as_user(3402, one_anon_port, NULL));
	close(ready[0]);
}

/*
 * The charge is a bound on memory: ports filled to the brim by a user at
 * max_bytes_per_user must not hold more kernel memory than that.  A
 * message takes a slab object of its cache (320 bytes for up to 256 bytes
 * of payload), or past 10.5 KiB a small one and its payload apart: with
 * 1-byte messages a charge of capacity x (1 + 64) let a user hold about
 * five times its limit, and with 64 KiB ones (then one allocation of 128
 * KiB) twice; a charge of the object alone, with 8 KiB ones in objects
 * three of which filled a slab of 32 KiB, a third more.
 */
struct fill {
	unsigned int cap, size;
	int ready, go;
};

static int fill_to_the_limit(void *arg)
{
	static char payload[64 * 1024];
	struct fill *f = arg;
	unsigned int i;
	char c;
	int fd;

	for (;;) {
		fd = t_anon(f->cap, f->size);
		if (fd == -EDQUOT)
			break;
		if (fd < 0)
			return 1;
		for (i = 0; i < f->cap; i++)
			if (t_send_copy(fd, payload, f->size, 0, 0))
				return 2;
	}
	if (write(f->ready, "r", 1) != 1 || read(f->go, &c, 1) != 1)
		return T_BAD_SETUP;
	return 0;
}

static void memory_within_limit(struct __test_metadata *_metadata,
				uid_t uid, unsigned int cap, unsigned int size,
				unsigned long long limit)
{
	int ready[2], go[2];
	struct fill f = { cap, size };
	long before, after;
	pid_t pid;
	char c;

	/*
	 * The debug kernel's allocator adds its own to every object (KASAN's
	 * redzones, kmemleak's records; 1-byte messages held twice the limit
	 * there): MemFree says nothing of the charge, the other kernels check.
	 */
	if (t_kmemleak_kernel())
		SKIP(return, "kmemleak and KASAN add to every object here");
	ASSERT_EQ(0, t_param_set("max_ports_per_user", 1000));
	ASSERT_EQ(0, t_param_set("max_bytes_per_user", limit));
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	f.ready = ready[1];
	f.go = go[0];
	before = t_meminfo_kb("MemFree");
	ASSERT_LT(0, before);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (t_become(uid, uid))
			_exit(T_BAD_SETUP);
		_exit(fill_to_the_limit(&f));
	}
	close(ready[1]);
	ASSERT_EQ(1, read(ready[0], &c, 1)) {
		TH_LOG("the filler failed: %d", t_reap(pid));
	}
	after = t_meminfo_kb("MemFree");
	TH_LOG("%u-byte messages: %ld KiB held for a limit of %llu KiB",
	       size, before - after, limit >> 10);
	/*
	 * A sixteenth and 2 MiB of slack, for the slabs' own waste (320-byte
	 * objects fill a page but 256 bytes), the filler and the noise;
	 * MemFree misses what the per-CPU page lists give.
	 */
	EXPECT_GE((long)((limit + limit / 16) >> 10) + 2048, before - after);
	ASSERT_EQ(1, write(go[1], "g", 1));
	EXPECT_EQ(0, t_reap(pid));
	close(ready[0]);
	close(go[0]);
	close(go[1]);
}

TEST_F(lim, ports_of_small_messages_hold_no_more_than_the_limit)
{
	memory_within_limit(_metadata, 3012, 16384, 1, 32ULL << 20);
}

TEST_F(lim, ports_of_large_messages_hold_no_more_than_the_limit)
{
	memory_within_limit(_metadata, 3013, 16, 64 * 1024, 32ULL << 20);
}

/* Caches of 4 and 8 KiB payloads held seven and three a slab of 32 KiB. */
TEST_F(lim, ports_of_page_messages_hold_no_more_than_the_limit)
{
	memory_within_limit(_metadata, 3021, 32, 4096, 32ULL << 20);
}

TEST_F(lim, ports_of_two_page_messages_hold_no_more_than_the_limit)
{
	memory_within_limit(_metadata, 3022, 16, 8192, 32ULL << 20);
}

TEST_HARNESS_MAIN
