// SPDX-License-Identifier: GPL-2.0
/*
 * Module lifecycle, what load_test.c leaves out: `rmmod` (the busybox tool
 * an administrator runs) is refused while anything still refers to the
 * module - a /dev/mailbox fd, a port fd or only a narrowed dup of one, only
 * a pool mapping (also one that only a forked child still has), a port fd
 * in flight in a unix socket (also one only the unix garbage collector can
 * reach), a caller blocked inside the module - and the module and its
 * device keep working after the refusal.  Once the last reference is gone,
 * rmmod succeeds and insmod loads it again.
 *
 * Then 100 load / use / unload cycles, each leaving work behind for the
 * unload to clean up: named and anonymous ports with pools, one named by
 * another user, messages of both kinds queued, regions held and in flight,
 * names linked.  kmemleak judges leaks on the debug kernel, where 20
 * cycles are run (it reports a single leaked object, and a cycle takes a
 * second there); elsewhere SUnreclaim and MemAvailable must not grow by
 * more than a small bound.
 *
 * The module is loaded from MBX_MODULE (default /lib/modules/mailbox.ko,
 * where scripts/vm-run.sh puts it) and every test leaves it loaded.
 */
#define _GNU_SOURCE
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "mbx_helpers.h"

#define CYCLES		100
/* On the debug kernel kmemleak reports a single leaked object: fewer do. */
#define DEBUG_CYCLES	20
#define SLAB_SLACK_KB	(2 * 1024)
#define AVAIL_SLACK_KB	(8 * 1024)
#define CYCLE_POOL	(256 * 1024)
#define CYCLE_POOL2	(128 * 1024)
#define CYCLE_MSG	4000

/* Run a busybox applet (found on PATH); its exit status, or -errno. */
static int run(const char *applet, const char *arg)
{
	int st;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execlp(applet, applet, arg, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) != pid)
		return -errno;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int rmmod(void)
{
	return run("rmmod", "mailbox");
}

static int insmod(void)
{
	return run("insmod", t_module_path());
}

/*
 * The module works: /dev/mailbox opens and answers MBX_IOC_VERSION, and a
 * new port moves a message.  0, or a small positive step number.
 */
static int device_works(void)
{
	struct mbx_version v;
	char buf[16];
	int dev, fd, ret = 0;

	dev = open(MBX_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return 1;
	memset(&v, 0, sizeof(v));
	if (ioctl(dev, MBX_IOC_VERSION, &v) || v.version != MBX_API_VERSION)
		ret = 2;
	close(dev);
	if (ret)
		return ret;
	fd = t_anon(2, 16);
	if (fd < 0)
		return 3;
	if (t_send_str(fd, "alive", 0) ||
	    t_recv_str(fd, buf, sizeof(buf), NULL) != 5 || strcmp(buf, "alive"))
		ret = 4;
	close(fd);
	return ret;
}

FIXTURE(life) {
	int ready;	/* set up: the 6.1 harness runs a skipped body too */
};

FIXTURE_SETUP(life)
{
	if (geteuid() != 0)
		SKIP(return, "needs root to load modules");
	if (access(t_module_path(), R_OK))
		SKIP(return, "%s: %s", t_module_path(), strerror(errno));
	if (t_module_loaded() != 1)
		ASSERT_EQ(0, t_module_load());
	self->ready = 1;
}

FIXTURE_TEARDOWN(life)
{
	/* Whatever happened, leave the module loaded for the next tests. */
	if (t_module_loaded() == 0 && t_module_load())
		insmod();
}

/* rmmod is refused, and the module and its device go on working. */
static void refused(struct __test_metadata *_metadata, const char *holder)
{
	int rc = rmmod();

	EXPECT_NE(0, rc) TH_LOG("rmmod succeeded while %s", holder);
	if (!rc) {
		insmod();
		return;
	}
	EXPECT_EQ(1, t_module_loaded()) TH_LOG("%s", holder);
	EXPECT_EQ(0, access(MBX_DEVICE_PATH, F_OK)) TH_LOG("%s", holder);
	EXPECT_EQ(0, device_works()) TH_LOG("after rmmod said no, %s",
					    holder);
}

/* Nothing refers to the module any more: rmmod, then insmod, work. */
static void unload_and_reload(struct __test_metadata *_metadata,
			      const char *after)
{
	ASSERT_EQ(0, rmmod()) TH_LOG("rmmod refused after %s", after);
	EXPECT_EQ(0, t_module_loaded());
	EXPECT_NE(0, access(MBX_DEVICE_PATH, F_OK))
		TH_LOG("%s still exists after rmmod", MBX_DEVICE_PATH);
	ASSERT_EQ(0, insmod());
	EXPECT_EQ(1, t_module_loaded());
	EXPECT_EQ(0, device_works());
}

/* ---- rmmod refused while something holds the module ------------------ */

TEST_F(life, rmmod_refused_while_a_control_device_fd_is_open)
{
	int dev;

	if (!self->ready)
		return;
	dev = open(MBX_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev);
	refused(_metadata, "/dev/mailbox is open");
	close(dev);
	unload_and_reload(_metadata, "closing /dev/mailbox");
}

TEST_F(life, rmmod_refused_while_any_port_fd_is_open)
{
	int fd, r;

	if (!self->ready)
		return;
	fd = t_anon(4, 64);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_str(fd, "queued", 0));
	refused(_metadata, "a port fd is open");
	/* only a receive-only dup of it left */
	r = mbx_port_dup(fd, MBX_RECV);
	ASSERT_LE(0, r);
	close(fd);
	refused(_metadata, "a receive-only dup is open");
	EXPECT_EQ(1, T_INFO(r, queued));
	close(r);
	unload_and_reload(_metadata, "closing every port fd");
}

TEST_F(life, rmmod_refused_while_only_a_pool_mapping_remains)
{
	uint8_t *p;
	int fd;

	if (!self->ready)
		return;
	fd = t_pool_port(4, 64, 64 * 1024, NULL, 0600, 0);
	ASSERT_LE(0, fd);
	p = mmap(NULL, 64 * 1024, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	t_fill(p, 64 * 1024, 5);
	close(fd);
	refused(_metadata, "only a pool mapping remains");
	/* the mapping is still the pool, readable and writable */
	EXPECT_TRUE(t_check(p, 64 * 1024, 5));
	t_fill(p, 64 * 1024, 6);
	EXPECT_TRUE(t_check(p, 64 * 1024, 6));
	ASSERT_EQ(0, munmap(p, 64 * 1024));
	unload_and_reload(_metadata, "unmapping the pool");
}

TEST_F(life, rmmod_refused_while_a_forked_child_has_the_only_mapping)
{
	int go[2], ready[2];
	uint8_t *p;
	pid_t pid;
	char c;
	int fd;

	if (!self->ready)
		return;
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(ready));
	fd = t_pool_port(4, 64, 16 * 1024, NULL, 0600, 0);
	ASSERT_LE(0, fd);
	p = mmap(NULL, 16 * 1024, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	t_fill(p, 16 * 1024, 9);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(fd);
		if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(T_BAD_SETUP);
		_exit(t_check(p, 16 * 1024, 9) ? 0 : T_BAD_DATA);
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));
	munmap(p, 16 * 1024);
	close(fd);
	refused(_metadata, "only a forked child maps the pool");
	ASSERT_EQ(1, write(go[1], "g", 1));
	EXPECT_EQ(0, t_reap(pid));
	unload_and_reload(_metadata, "the child exited");
}

TEST_F(life, rmmod_refused_while_a_caller_is_blocked_in_the_module)
{
	pid_t pid;
	int fd;

	if (!self->ready)
		return;
	fd = t_anon(2, 16);
	ASSERT_LE(0, fd);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char buf[16];

		_exit(t_code(mbx_recv(fd, buf, sizeof(buf), NULL)));
	}
	ASSERT_EQ(0, T_WAIT(fd, recv_waiting, 1));
	close(fd);
	refused(_metadata, "a receiver is blocked in the module");
	ASSERT_TRUE(t_alive(pid));
	t_kill(pid);
	unload_and_reload(_metadata, "the blocked receiver was killed");
}

TEST_F(life, rmmod_refused_while_a_port_fd_is_in_flight)
{
	char buf[16];
	int sk[2], fd, got;

	if (!self->ready)
		return;
	/* in flight, then received: it is the same port, queue and all */
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sk));
	fd = t_anon(4, 16);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_str(fd, "inside", 0));
	ASSERT_EQ(0, t_send_fd(sk[0], fd));
	close(fd);
	refused(_metadata, "a port fd is in flight in a unix socket");
	got = t_recv_fd(sk[1], MSG_DONTWAIT);
	ASSERT_LE(0, got);
	EXPECT_EQ(6, t_recv_str(got, buf, sizeof(buf), NULL));
	EXPECT_STREQ("inside", buf);
	ASSERT_EQ(0, t_send_fd(sk[0], got));
	close(got);
	refused(_metadata, "a port fd is in flight again");

	/* never received: closing the socket drops it */
	close(sk[0]);
	close(sk[1]);
	unload_and_reload(_metadata, "closing the socket with the fd in flight");
}

/*
 * A socket in flight in its own queue, carrying a port fd: nothing can
 * reach either once the fds are closed, only the unix garbage collector
 * frees them, and with them the module's last reference.
 */
TEST_F(life, fd_in_an_unreachable_socket_cycle_pins_the_module_until_gc)
{
	uint64_t end;
	int sk[2], fd, ret;

	if (!self->ready)
		return;
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sk));
	fd = t_anon(4, 16);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_fd(sk[0], fd));
	ASSERT_EQ(0, t_send_fd(sk[0], sk[1]));	/* sk[1] in its own queue */
	close(fd);
	refused(_metadata, "a port fd is in flight in a socket cycle");
	close(sk[0]);
	close(sk[1]);

	/* the collector runs on close; give an asynchronous one time */
	end = t_now_ns() + T_WAIT_MS * 1000000ULL;
	for (;;) {
		ret = t_module_unload();
		if (ret != -EWOULDBLOCK && ret != -EAGAIN)
			break;
		if (t_now_ns() > end)
			break;
		/* another socket close kicks the collector again */
		if (!socketpair(AF_UNIX, SOCK_DGRAM, 0, sk)) {
			close(sk[0]);
			close(sk[1]);
		}
		t_sleep_ms(50);
	}
	ASSERT_EQ(0, ret) TH_LOG("module still pinned after closing the cycle: %s",
				 strerror(-ret));
	EXPECT_EQ(0, t_module_loaded());
	ASSERT_EQ(0, insmod());
	EXPECT_EQ(0, device_works());
}

/* ---- load / use / unload ------------------------------------------------ */

static long send_buf(int fd, uint64_t off, uint64_t len, uint32_t prio)
{
	struct mbx_send s;

	memset(&s, 0, sizeof(s));
	s.offset = off;
	s.len = len;
	s.prio = prio;
	s.flags = MBX_SEND_BUF | MBX_NONBLOCK;
	return t_ioctl(fd, MBX_IOC_SEND, &s);
}

static long recv_inplace(int fd)
{
	struct mbx_recv r;
	long ret;

	memset(&r, 0, sizeof(r));
	r.flags = MBX_RECV_INPLACE | MBX_NONBLOCK;
	ret = t_ioctl(fd, MBX_IOC_RECV, &r);
	return ret ? ret : (long)r.msg_flags;
}

/*
 * Fill a port with work for the unload to clean up: copy messages queued,
 * pool messages queued, a region held by the fd, one received in place.
 * 0, or a step number.
 */
static int load_up(int fd, uint64_t pool)
{
	static char msg[CYCLE_MSG];
	uint64_t off;
	uint8_t *p;
	int i;

	p = mmap(NULL, pool, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return 1;
	for (i = 0; i < 3; i++)
		if (mbx_send_nonblock(fd, msg, sizeof(msg), i))
			return 2;
	for (i = 0; i < 3; i++) {
		if (t_buf_alloc(fd, pool / 8, MBX_NONBLOCK, 0, &off))
			return 3;
		memset(p + off, i, pool / 8);
		if (send_buf(fd, off, pool / 8, 10 + i))
			return 4;
	}
	/* the best message is a pool one: now held in place by the fd */
	if (recv_inplace(fd) != MBX_MSG_BUF)
		return 5;
	if (t_buf_alloc(fd, pool / 8, MBX_NONBLOCK, 0, &off))	/* held, never sent */
		return 6;
	return munmap(p, pool) ? 7 : 0;
}

/* One cycle's use of the module; 0, or a step number. */
static int use_module(const char *name, const char *other_name)
{
	int dev, named, anon, r, ret;
	pid_t pid;

	dev = open(MBX_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return 10;
	named = t_pool_port(8, CYCLE_MSG, CYCLE_POOL, name, 0666, 0);
	anon = t_pool_port(8, CYCLE_MSG, CYCLE_POOL2, NULL, 0600, 0);
	if (named < 0 || anon < 0)
		return 11;
	ret = load_up(named, CYCLE_POOL);
	if (ret)
		return 20 + ret;
	ret = load_up(anon, CYCLE_POOL2);
	if (ret)
		return 30 + ret;
	/* a second description of the named port holding a region of its own */
	r = mbx_port_open(MBX_DEV_AUTO, name, MBX_RECV);
	if (r < 0 || recv_inplace(r) != MBX_MSG_BUF)
		return 12;

	/* another user's named port, with a message queued, charged to it */
	pid = t_fork();
	if (pid < 0)
		return 13;
	if (pid == 0) {
		int fd;

		if (t_become(T_UID1, T_GID1))
			_exit(T_BAD_SETUP);
		fd = t_pool_port(2, 64, 4096, other_name, 0600, 0);
		_exit(fd < 0 || t_send_str(fd, "left", 0) ? 1 : 0);
	}
	if (t_reap(pid))
		return 14;

	close(r);
	close(anon);
	close(named);
	close(dev);
	return 0;
}

TEST_F_TIMEOUT(life, load_use_unload_cycles_leak_nothing, 600)
{
	char name[MBX_NAME_LEN], other[MBX_NAME_LEN];
	int cycles = t_kmemleak_kernel() ? DEBUG_CYCLES : CYCLES;
	long slab0, avail0, slab1, avail1;
	int i, ret;

	if (!self->ready)
		return;
	snprintf(name, sizeof(name), "mbxt.cycle.%d", (int)getpid());
	snprintf(other, sizeof(other), "mbxt.cycle.other.%d", (int)getpid());

	/* warm up what the first cycles allocate once (sysfs, caches) */
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, use_module(name, other));
		ASSERT_EQ(0, t_module_unload());
		ASSERT_EQ(0, t_module_load());
	}
	usleep(200000);
	slab0 = t_meminfo_kb("SUnreclaim");
	avail0 = t_meminfo_kb("MemAvailable");
	ASSERT_LT(0, slab0);

	for (i = 0; i < cycles; i++) {
		/* the last cycle's names went with the module */
		ret = mbx_port_open(MBX_DEV_AUTO, name, MBX_SEND);
		ASSERT_EQ(-ENOENT, ret) TH_LOG("cycle %d: old name reopened", i);
		ret = mbx_port_open(MBX_DEV_AUTO, other, MBX_SEND);
		ASSERT_EQ(-ENOENT, ret) TH_LOG("cycle %d: old name reopened", i);
		ret = use_module(name, other);
		ASSERT_EQ(0, ret) TH_LOG("cycle %d: step %d", i, ret);
		/* names linked, messages queued, nothing open: it unloads */
		ret = t_module_unload();
		ASSERT_EQ(0, ret) TH_LOG("cycle %d: unload: %s", i, strerror(-ret));
		ret = t_module_load();
		ASSERT_EQ(0, ret) TH_LOG("cycle %d: load: %s", i, strerror(-ret));
	}

	usleep(200000);
	slab1 = t_meminfo_kb("SUnreclaim");
	avail1 = t_meminfo_kb("MemAvailable");
	TH_LOG("after %d load/use/unload cycles: SUnreclaim %+ld kB, MemAvailable %+ld kB",
	       cycles, slab1 - slab0, avail1 - avail0);
	/* KASAN's quarantine keeps freed objects as slab: kmemleak judges */
	if (!t_kmemleak_kernel()) {
		EXPECT_GT(SLAB_SLACK_KB, slab1 - slab0);
		EXPECT_GT(AVAIL_SLACK_KB, avail0 - avail1);
	}
	EXPECT_EQ(1, t_module_loaded());
	EXPECT_EQ(0, device_works());
}

TEST_HARNESS_MAIN
