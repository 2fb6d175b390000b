// SPDX-License-Identifier: GPL-2.0
/*
 * libmailbox-mq against what the public POSIX message queue conformance
 * tests check (the Open POSIX Test Suite's mq_* interfaces and LTP's
 * mq_* system call tests; docs/SEMANTICS.md lists them case by case):
 * atomic O_CREAT | O_EXCL, EMFILE and queues_max (ENOSPC) at creation,
 * EFAULT for every bad pointer the kernel would refuse, deadlines that
 * need not be waited for, descriptors after mq_close() and across
 * fork(), the order of mq_notify() and mq_setattr() checks, and
 * notifications delivered before mq_send() returns.  The tests are this
 * project's own, written from those checks.
 *
 * Built twice like mq_test.c: mq_conf_test links libmailbox-mq
 * statically; mq_conf_preload_test runs it with LD_PRELOAD.
 */
#include "mq_helpers.h"

#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/uio.h>

#define QUEUES_MAX	"/proc/sys/fs/mqueue/queues_max"

/* A page that can be neither read nor written. */
static void *bad_page(void)
{
	void *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* The MBX_PORT_MQ named ports of the IPC namespace, or -1. */
static int mq_ports(void)
{
	struct mbx_port_info *list;
	int n, i, count = 0;

	n = mbx_port_list(MBX_DEV_AUTO, &list);
	if (n < 0)
		return -1;
	for (i = 0; i < n; i++)
		count += !!(list[i].state & MBX_STATE_MQ);
	free(list);
	return count;
}

static long read_long(const char *path)
{
	char buf[32];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

static int write_long(const char *path, long v)
{
	char buf[32];
	int fd, n, ok;

	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	n = snprintf(buf, sizeof(buf), "%ld\n", v);
	ok = write(fd, buf, n) == n;
	close(fd);
	return ok ? 0 : -1;
}

/* mq_open/16-1: O_CREAT | O_EXCL from several processes at once. */
TEST(create_excl_is_atomic)
{
	int i, go[2], won = 0, lost = 0, st;
	char name[64], c;
	pid_t pid[4];

	qname(name, "excl");
	mq_unlink(name);
	ASSERT_EQ(0, pipe(go));
	for (i = 0; i < 4; i++) {
		pid[i] = fork();
		if (pid[i] == 0) {
			close(go[1]);
			if (read(go[0], &c, 1) != 0)
				_exit(T_BAD_SETUP);
			if (mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600,
				    NULL) >= 0)
				_exit(0);
			_exit(errno == EEXIST ? 1 : T_BAD_DATA);
		}
		ASSERT_LT(0, pid[i]);
	}
	close(go[0]);
	close(go[1]);		/* end of file: all of them go */
	for (i = 0; i < 4; i++) {
		st = wait_exit(pid[i]);
		won += st == 0;
		lost += st == 1;
	}
	EXPECT_EQ(1, won);
	EXPECT_EQ(3, lost);
	EXPECT_EQ(0, mq_unlink(name));
}

/*
 * queues_max holds when processes without CAP_SYS_RESOURCE create queues
 * at once: one place left, one queue made, every other ENOSPC.  (The
 * library once counted the queues, then created one: two could pass.)
 * Up to RACES races, fewer past RACE_SECS where forks are slow (KASAN),
 * never fewer than MIN_RACES: bounded well inside the harness's 30 s.
 */
#define RACERS		12
#define RACES		40
#define MIN_RACES	5
#define RACE_SECS	12
TEST(queues_max_holds_under_concurrent_creates)
{
	uint64_t end = t_now_ns() + RACE_SECS * 1000000000ULL;
	int i, r, go[2], n, st, won, full;
	char names[RACERS][64], c;
	pid_t pid[RACERS];
	long old;

	if (geteuid())
		SKIP(return, "needs root to switch users");
	old = read_long(QUEUES_MAX);
	if (old < 0)
		SKIP(return, QUEUES_MAX " cannot be read");
	for (r = 0; r < RACES; r++) {
		for (i = 0; i < RACERS; i++) {
			snprintf(names[i], sizeof(names[i]), "/mq_conf.race.%d.%d",
				 getpid(), i);
			mq_unlink(names[i]);
		}
		n = mq_ports();
		ASSERT_LE(0, n);
		ASSERT_EQ(0, write_long(QUEUES_MAX, n + 1));
		ASSERT_EQ(0, pipe(go));
		for (i = 0; i < RACERS; i++) {
			pid[i] = fork();
			if (pid[i] == 0) {
				close(go[1]);
				if (setgid(T_GID1) || setuid(T_UID1) ||
				    read(go[0], &c, 1) != 0)
					_exit(T_BAD_SETUP);
				if (mq_open(names[i], O_CREAT | O_EXCL | O_RDWR,
					    0600, NULL) >= 0)
					_exit(0);
				_exit(errno == ENOSPC ? 1 : T_BAD_DATA);
			}
			ASSERT_LT(0, pid[i]);
		}
		close(go[0]);
		close(go[1]);		/* end of file: all of them go */
		won = 0;
		full = 0;
		for (i = 0; i < RACERS; i++) {
			st = wait_exit(pid[i]);
			won += st == 0;
			full += st == 1;
		}
		for (i = 0; i < RACERS; i++)
			mq_unlink(names[i]);
		EXPECT_EQ(1, won) TH_LOG("race %d", r);
		EXPECT_EQ(RACERS - 1, full) TH_LOG("race %d", r);
		if (won != 1 || (r + 1 >= MIN_RACES && t_now_ns() > end))
			break;
	}
	EXPECT_EQ(0, write_long(QUEUES_MAX, old));
}

/* As Linux's lookup in the mqueue root: "/." and "/.." are EACCES. */
TEST(dot_names_are_eacces)
{
	EXPECT_EQ(-1, mq_open("/.", O_CREAT | O_RDWR, 0600, NULL));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(-1, mq_open("/..", O_RDONLY));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(-1, mq_unlink("/.."));
	EXPECT_EQ(EACCES, errno);
}

/* mq_open01: out of descriptors is EMFILE, and nothing is created. */
TEST(create_without_descriptors_is_emfile)
{
	struct rlimit rl = { 0, 0 };
	char name[64];
	pid_t pid;

	qname(name, "emfile");
	mq_unlink(name);
	pid = fork();
	if (pid == 0) {
		if (getrlimit(RLIMIT_NOFILE, &rl))
			_exit(T_BAD_SETUP);
		rl.rlim_cur = 0;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			_exit(T_BAD_SETUP);
		if (mq_open(name, O_CREAT | O_RDWR, 0600, NULL) >= 0)
			_exit(T_BAD_SUCCESS);
		_exit(errno == EMFILE ? 0 : errno);
	}
	EXPECT_EQ(0, wait_exit(pid));
	EXPECT_EQ(-1, mq_unlink(name));
	EXPECT_EQ(ENOENT, errno);
}

/*
 * mq_open01: at /proc/sys/fs/mqueue/queues_max queues a process without
 * CAP_SYS_RESOURCE cannot create one more (ENOSPC) but opens existing
 * ones; root still creates.
 */
TEST(queues_max_is_enospc)
{
	struct mq_attr a = { .mq_maxmsg = 2, .mq_msgsize = 16 };
	char name[64], name2[64], name3[64];
	mode_t mask;
	mqd_t q, q3;
	pid_t pid;
	long old;
	int n;

	if (geteuid())
		SKIP(return, "needs root to switch users");
	old = read_long(QUEUES_MAX);
	if (old < 0)
		SKIP(return, QUEUES_MAX " cannot be read");
	qname(name, "qmax");
	qname(name2, "qmax2");
	qname(name3, "qmax3");
	mq_unlink(name);
	mq_unlink(name2);
	mq_unlink(name3);
	mask = umask(0);
	q = mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0666, &a);
	umask(mask);
	ASSERT_LE(0, q);
	n = mq_ports();
	ASSERT_LE(1, n);
	ASSERT_EQ(0, write_long(QUEUES_MAX, n));
	pid = fork();
	if (pid == 0) {
		mqd_t o;

		if (setgid(T_GID1) || setuid(T_UID1))
			_exit(T_BAD_SETUP);
		if (mq_open(name2, O_CREAT | O_RDWR, 0600, NULL) >= 0)
			_exit(T_BAD_SUCCESS);
		if (errno != ENOSPC)
			_exit(errno);
		/* An existing queue opens, O_CREAT or not. */
		o = mq_open(name, O_CREAT | O_RDWR, 0600, NULL);
		if (o < 0)
			_exit(errno);
		if (mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, NULL) >= 0)
			_exit(T_BAD_SUCCESS);
		_exit(errno == EEXIST ? 0 : errno);
	}
	EXPECT_EQ(0, wait_exit(pid));
	/*
	 * Root of a new user namespace has CAP_SYS_RESOURCE there, not in
	 * the initial one, where Linux asks: ENOSPC too.  (The library once
	 * let it create the queue.)
	 */
	pid = fork();
	if (pid == 0) {
		if (unshare(CLONE_NEWUSER))
			_exit(errno == EINVAL || errno == EPERM ? KSFT_SKIP :
			      T_BAD_SETUP);
		if (mq_open(name2, O_CREAT | O_RDWR, 0600, NULL) >= 0)
			_exit(T_BAD_SUCCESS);
		_exit(errno == ENOSPC ? 0 : errno);
	}
	n = wait_exit(pid);
	if (n != KSFT_SKIP)
		EXPECT_EQ(0, n) TH_LOG("root of a new user namespace");
	/* With CAP_SYS_RESOURCE the limit does not apply. */
	q3 = mq_open(name3, O_CREAT | O_RDWR, 0600, NULL);
	EXPECT_LE(0, q3);
	EXPECT_EQ(0, write_long(QUEUES_MAX, old));
	EXPECT_EQ(-1, mq_unlink(name2));
	EXPECT_EQ(ENOENT, errno);
	mq_close(q3);
	mq_unlink(name3);
	mq_close(q);
	mq_unlink(name);
}

/*
 * mq_timedsend01, mq_timedreceive01 and the kernel's copies: a pointer
 * the caller cannot read or write is EFAULT, and the queue is unchanged.
 */
/* Whether this kernel has process_vm_readv(): a valid read works. */
static bool can_check_pointers(void)
{
	char a = 0, b;
	struct iovec local = { &b, 1 }, remote = { &a, 1 };

	return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == 1;
}

TEST(bad_pointers_are_efault)
{
	static const struct mq_attr read_only = { .mq_maxmsg = 1 };
	struct sigevent sev = { .sigev_notify = SIGEV_NONE };
	struct mq_attr a = { 0 };
	char name[64], name2[64], buf[64];
	void *bad = bad_page();
	mqd_t q;

	ASSERT_NE(NULL, bad);
	/*
	 * The library has the kernel read the caller's pointers with
	 * process_vm_readv(); where the kernel has no such call (built without
	 * CONFIG_CROSS_MEMORY_ATTACH) it reads them itself and a
	 * bad one crashes, as libmailbox-mq(3) says.
	 */
	if (!can_check_pointers())
		SKIP(return, "no process_vm_readv(): pointers are not checked");
	q = qcreate(qname(name, "efault"), 4, 64, 0);
	ASSERT_LE(0, q);
	ASSERT_TRUE(is_port(q));

	/* Deadlines: read even when the call need not wait. */
	EXPECT_EQ(-1, mq_timedsend(q, "x", 1, 0, bad));
	EXPECT_EQ(EFAULT, errno);
	ASSERT_EQ(0, mq_send(q, "y", 1, 3));
	EXPECT_EQ(-1, mq_timedreceive(q, buf, 64, NULL, bad));
	EXPECT_EQ(EFAULT, errno);
	ASSERT_EQ(0, mq_getattr(q, &a));
	EXPECT_EQ(1, a.mq_curmsgs);

	/* Message buffers. */
	EXPECT_EQ(-1, mq_send(q, bad, 8, 0));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, mq_receive(q, bad, 64, NULL));
	EXPECT_EQ(EFAULT, errno);

	/* Attributes, both ways. */
	EXPECT_EQ(-1, mq_getattr(q, bad));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, mq_setattr(q, bad, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, mq_setattr(q, &a, bad));
	EXPECT_EQ(EFAULT, errno);
	/* A read-only structure cannot take the old attributes either. */
	EXPECT_EQ(-1, mq_getattr(q, (struct mq_attr *)(uintptr_t)&read_only));
	EXPECT_EQ(EFAULT, errno);

	/* mq_notify()'s sigevent; a good one still registers. */
	EXPECT_EQ(-1, mq_notify(q, bad));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, mq_notify(q, &sev));
	EXPECT_EQ(0, mq_notify(q, NULL));

	/* mq_open()'s attributes (nothing is created) and names. */
	qname(name2, "efault2");
	mq_unlink(name2);
	EXPECT_EQ(-1, mq_open(name2, O_CREAT | O_RDWR, 0600, bad));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, mq_unlink(name2));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, mq_open(bad, O_RDWR));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, mq_unlink(bad));
	EXPECT_EQ(EFAULT, errno);

	EXPECT_EQ(1, mq_receive(q, buf, 64, NULL));
	mq_close(q);
	mq_unlink(name);
	munmap(bad, 4096);
}

/* mq_timedsend/18-1, mq_timedreceive/10-2: a past deadline, no wait. */
TEST(past_deadline_when_no_wait)
{
	struct timespec past;
	char name[64], buf[64];
	unsigned int prio = 0;
	mqd_t q;

	clock_gettime(CLOCK_REALTIME, &past);
	past.tv_sec -= 1;
	q = qcreate(qname(name, "past"), 1, 64, 0);
	ASSERT_LE(0, q);
	EXPECT_EQ(0, mq_timedsend(q, "now", 3, 5, &past));
	/* Full now: the same deadline times out at once. */
	EXPECT_EQ(-1, mq_timedsend(q, "no", 2, 5, &past));
	EXPECT_EQ(ETIMEDOUT, errno);
	EXPECT_EQ(3, mq_timedreceive(q, buf, 64, &prio, &past));
	EXPECT_EQ(5, prio);
	EXPECT_EQ(-1, mq_timedreceive(q, buf, 64, &prio, &past));
	EXPECT_EQ(ETIMEDOUT, errno);
	/* tv_sec 0 is 1970: long past, and valid. */
	past.tv_sec = 0;
	past.tv_nsec = 0;
	EXPECT_EQ(0, mq_timedsend(q, "z", 1, 0, &past));
	mq_close(q);
	mq_unlink(name);
}

/* mq_close/4-1, mq_setattr/5-1, mq_notify/8-1: a closed descriptor. */
TEST(closed_descriptor_is_ebadf)
{
	struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL,
				.sigev_signo = SIGUSR1 };
	struct timespec ts = rt_in(1000);
	struct mq_attr a = { 0 };
	char name[64], buf[64];
	mqd_t q;

	q = qcreate(qname(name, "closed"), 2, 64, 0);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, mq_unlink(name));
	ASSERT_EQ(0, mq_close(q));
	EXPECT_EQ(-1, mq_send(q, "x", 1, 0));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, mq_timedsend(q, "x", 1, 0, &ts));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, mq_receive(q, buf, 64, NULL));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, mq_timedreceive(q, buf, 64, NULL, &ts));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, mq_getattr(q, &a));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, mq_setattr(q, &a, NULL));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, mq_notify(q, &sev));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, mq_close(q));
	EXPECT_EQ(EBADF, errno);
}

/* mq_notify02 and Linux's order: the sigevent is checked before the fd. */
TEST(notify_checks)
{
	struct sigevent sev = { .sigev_notify = -1 };
	int plain, dir;

	EXPECT_EQ(-1, mq_notify(0, &sev));
	EXPECT_EQ(EINVAL, errno);
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = _NSIG + 1;
	EXPECT_EQ(-1, mq_notify(0, &sev));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, mq_notify(-1, &sev));
	EXPECT_EQ(EINVAL, errno);

	/* Not a message queue: a directory, a port not made by mq_open(). */
	sev.sigev_notify = SIGEV_NONE;
	dir = open("/", O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, dir);
	EXPECT_EQ(-1, mq_notify(dir, &sev));
	EXPECT_EQ(EBADF, errno);
	close(dir);
	plain = t_port(4, 64, 0600, NULL, 0);
	ASSERT_LE(0, plain);
	EXPECT_EQ(-1, mq_notify(plain, &sev));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, mq_notify(plain, NULL));
	EXPECT_EQ(EBADF, errno);
	close(plain);
}

/* Set by the handler, which runs as the signal is delivered. */
static sig_atomic_t handled;

static void on_usr1(int sig)
{
	__atomic_add_fetch(&handled, 1, __ATOMIC_SEQ_CST);
}

/*
 * mq_notify/3-1 and 4-1: the handler has run when mq_send() returns, the
 * queue takes a new registration at once, and one removed with NULL is
 * never sent.
 */
TEST(notify_handler_runs_before_send_returns)
{
	struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL,
				.sigev_signo = SIGUSR1 };
	struct sigaction sa = { .sa_handler = on_usr1 }, old;
	char name[64], buf[64];
	sigset_t set;
	mqd_t q;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, &old));
	handled = 0;
	q = qcreate(qname(name, "nhandler"), 4, 64, 0);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, mq_notify(q, &sev));
	ASSERT_EQ(0, mq_send(q, "a", 1, 1));
	EXPECT_EQ(1, __atomic_load_n(&handled, __ATOMIC_SEQ_CST));
	EXPECT_EQ(0, mq_notify(q, &sev));
	EXPECT_EQ(1, mq_receive(q, buf, 64, NULL));
	/* Removed: the next message on the empty queue sends nothing. */
	EXPECT_EQ(0, mq_notify(q, NULL));
	EXPECT_EQ(0, mq_send(q, "b", 1, 1));
	t_sleep_ms(T_BLOCKED_MS);
	EXPECT_EQ(1, __atomic_load_n(&handled, __ATOMIC_SEQ_CST));
	mq_close(q);
	mq_unlink(name);
	sigaction(SIGUSR1, &old, NULL);
}

static sem_t conf_sem;
static mqd_t conf_q;
static ssize_t conf_got;
static char conf_buf[8];

static void conf_notified(union sigval v)
{
	conf_got = mq_receive(conf_q, conf_buf, sizeof(conf_buf), NULL);
	sem_post(&conf_sem);
}

/*
 * mq_notify03 (glibc's CVE-2021-38604): SIGEV_THREAD registered, removed,
 * registered again; the function then runs, on an unlinked queue, and can
 * receive a message the size of the queue's messages.
 */
TEST(notify_thread_after_unregister)
{
	struct sigevent sev = { .sigev_notify = SIGEV_THREAD,
				.sigev_notify_function = conf_notified };
	struct mq_attr a = { .mq_maxmsg = 1, .mq_msgsize = 6 };
	struct timespec ts;
	char name[64];

	ASSERT_EQ(0, sem_init(&conf_sem, 0, 0));
	qname(name, "nthread");
	mq_unlink(name);
	conf_q = mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, &a);
	ASSERT_LE(0, conf_q);
	ASSERT_EQ(0, mq_unlink(name));
	ASSERT_EQ(0, mq_notify(conf_q, &sev));
	ASSERT_EQ(0, mq_notify(conf_q, NULL));
	ASSERT_EQ(0, mq_notify(conf_q, &sev));
	ASSERT_EQ(0, mq_send(conf_q, "hello", 6, 1));
	ts = rt_in(T_WAIT_MS);
	ASSERT_EQ(0, sem_timedwait(&conf_sem, &ts));
	EXPECT_EQ(6, conf_got);
	EXPECT_STREQ("hello", conf_buf);
	mq_close(conf_q);
	sem_destroy(&conf_sem);
}

/*
 * mq_setattr: flags other than O_NONBLOCK are EINVAL before the
 * descriptor is looked at, as Linux checks; the other fields are ignored
 * and the old attributes returned.
 */
TEST(setattr_checks_and_ignores)
{
	struct mq_attr set = { .mq_flags = O_NONBLOCK | O_APPEND };
	struct mq_attr old, now;
	char name[64];
	mqd_t q;

	EXPECT_EQ(-1, mq_setattr(-1, &set, NULL));
	EXPECT_EQ(EINVAL, errno);
	q = qcreate(qname(name, "setattr2"), 3, 32, 0);
	ASSERT_LE(0, q);
	EXPECT_EQ(-1, mq_setattr(q, &set, &old));
	EXPECT_EQ(EINVAL, errno);
	set.mq_flags = O_NONBLOCK;
	set.mq_maxmsg = 99;
	set.mq_msgsize = 99;
	set.mq_curmsgs = 9;
	ASSERT_EQ(0, mq_send(q, "m", 1, 0));
	ASSERT_EQ(0, mq_setattr(q, &set, &old));
	EXPECT_EQ(0, old.mq_flags);
	EXPECT_EQ(3, old.mq_maxmsg);
	EXPECT_EQ(32, old.mq_msgsize);
	EXPECT_EQ(1, old.mq_curmsgs);
	ASSERT_EQ(0, mq_getattr(q, &now));
	EXPECT_EQ(O_NONBLOCK, now.mq_flags);
	EXPECT_EQ(3, now.mq_maxmsg);
	EXPECT_EQ(32, now.mq_msgsize);
	EXPECT_EQ(1, now.mq_curmsgs);
	mq_close(q);
	mq_unlink(name);
}

/*
 * mq_open/2-1, 7-2, 8-2, 19-1: a child uses the descriptors it inherits
 * and opens the queue by name, with its access mode enforced; opening
 * neither adds nor removes messages.
 */
TEST(fork_inherits_and_opens)
{
	char name[64], buf[64];
	unsigned int prio = 0;
	mqd_t q;
	pid_t pid;

	q = qcreate(qname(name, "fork"), 4, 64, O_NONBLOCK);
	ASSERT_LE(0, q);
	EXPECT_EQ(-1, mq_receive(q, buf, 64, NULL));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, mq_send(q, "parent", 6, 2));
	pid = fork();
	if (pid == 0) {
		mqd_t ro, wo;

		if (mq_receive(q, buf, 64, &prio) != 6 || prio != 2)
			_exit(T_BAD_DATA);
		if (mq_send(q, "child", 5, 4))
			_exit(errno);
		ro = mq_open(name, O_RDONLY | O_NONBLOCK);
		wo = mq_open(name, O_WRONLY);
		if (ro < 0 || wo < 0)
			_exit(T_BAD_SETUP);
		if (mq_send(ro, "x", 1, 0) == 0 || errno != EBADF)
			_exit(T_BAD_SUCCESS);
		if (mq_receive(wo, buf, 64, NULL) >= 0 || errno != EBADF)
			_exit(T_BAD_SUCCESS);
		if (mq_send(wo, "wo", 2, 1))
			_exit(errno);
		_exit(mq_receive(ro, buf, 64, &prio) == 5 && prio == 4 ?
		      0 : T_BAD_DATA);
	}
	EXPECT_EQ(0, wait_exit(pid));
	/* The child's own descriptors are gone; its last message stays. */
	EXPECT_EQ(2, mq_receive(q, buf, 64, &prio));
	EXPECT_EQ(1, prio);
	EXPECT_EQ(-1, mq_receive(q, buf, 64, NULL));
	EXPECT_EQ(EAGAIN, errno);
	mq_close(q);
	mq_unlink(name);
}

/* mq_open() makes MBX_PORT_MQ ports, which MBX_STATE_MQ tells apart. */
TEST(state_tells_queues_from_ports)
{
	struct mbx_port_info info;
	char name[64];
	int plain;
	mqd_t q;

	q = qcreate(qname(name, "state"), 2, 16, 0);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, t_info(q, &info));
	EXPECT_EQ(MBX_STATE_NAMED | MBX_STATE_MQ, info.state);
	plain = t_port(2, 16, 0600, NULL, 0);
	ASSERT_LE(0, plain);
	ASSERT_EQ(0, t_info(plain, &info));
	EXPECT_EQ(0, info.state & MBX_STATE_MQ);
	close(plain);
	mq_close(q);
	mq_unlink(name);
}

TEST_HARNESS_MAIN
