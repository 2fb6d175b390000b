// SPDX-License-Identifier: GPL-2.0
/*
 * libmailbox-mq: mq_notify() with SIGEV_SIGNAL, SIGEV_THREAD and SIGEV_NONE
 * (one process per queue, fired once, not while a receiver waits), the
 * MBX_PORT_MQ and MBX_IOC_NOTIFY uapi underneath, and mbx_mq_receive_cred().
 *
 * Built twice like mq_test.c: mq_notify_test links libmailbox-mq
 * statically; mq_notify_preload_test runs it with LD_PRELOAD.
 */
#include "mq_helpers.h"

/* Block @sig, register it on @q with @value. */
static int notify_signal(mqd_t q, int sig, int value)
{
	struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sev.sigev_signo = sig;
	sev.sigev_value.sival_int = value;
	return mq_notify(q, &sev);
}

/* Wait up to @ms for @sig; its siginfo in @si.  The signal or -1. */
static int wait_signal(int sig, int ms, siginfo_t *si)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, sig);
	return sigtimedwait(&set, si, &ts);
}

TEST(notify_signal_fires_once)
{
	char name[64], buf[64];
	siginfo_t si;
	pid_t pid;
	mqd_t q;

	q = qcreate(qname(name, "nsig"), 4, 64, 0);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, notify_signal(q, SIGUSR1, 4242));
	pid = child_send_after(name, 0, 1);
	ASSERT_EQ(SIGUSR1, wait_signal(SIGUSR1, 5000, &si));
	EXPECT_EQ(SI_MESGQ, si.si_code);
	EXPECT_EQ(4242, si.si_value.sival_int);
	EXPECT_EQ(pid, si.si_pid);
	EXPECT_EQ(getuid(), si.si_uid);
	EXPECT_EQ(0, wait_exit(pid));
	/* One shot: the next message on the empty queue signals nothing. */
	EXPECT_EQ(5, mq_receive(q, buf, 64, NULL));
	ASSERT_EQ(0, mq_send(q, "again", 5, 0));
	EXPECT_EQ(-1, wait_signal(SIGUSR1, 200, &si));
	/* ... and the registration is free again. */
	EXPECT_EQ(0, notify_signal(q, SIGUSR1, 1));
	mq_close(q);
	mq_unlink(name);
}

TEST(notify_not_on_nonempty_queue)
{
	char name[64];
	siginfo_t si;
	mqd_t q;

	q = qcreate(qname(name, "nne"), 4, 64, 0);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, mq_send(q, "1", 1, 0));
	ASSERT_EQ(0, notify_signal(q, SIGUSR2, 0));
	ASSERT_EQ(0, mq_send(q, "2", 1, 0));
	EXPECT_EQ(-1, wait_signal(SIGUSR2, 200, &si));
	mq_close(q);
	mq_unlink(name);
}

static void *receiver_thread(void *arg)
{
	char buf[64];

	return (void *)(intptr_t)mq_receive(*(mqd_t *)arg, buf, 64, NULL);
}

/* A waiting receiver takes the message; the registration stays. */
TEST(notify_not_when_receiver_waits)
{
	char name[64];
	pthread_t t;
	siginfo_t si;
	void *ret;
	mqd_t q;

	q = qcreate(qname(name, "nrw"), 4, 64, 0);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, notify_signal(q, SIGUSR1, 0));
	ASSERT_EQ(0, pthread_create(&t, NULL, receiver_thread, &q));
	ASSERT_EQ(0, T_WAIT(q, recv_waiting, 1));
	ASSERT_EQ(0, mq_send(q, "x", 1, 0));
	pthread_join(t, &ret);
	EXPECT_EQ(1, (intptr_t)ret);
	EXPECT_EQ(-1, wait_signal(SIGUSR1, 200, &si));
	ASSERT_EQ(0, mq_send(q, "y", 1, 0));
	EXPECT_EQ(SIGUSR1, wait_signal(SIGUSR1, 5000, &si));
	mq_close(q);
	mq_unlink(name);
}

TEST(notify_busy_for_another_process)
{
	struct sigevent none = { .sigev_notify = SIGEV_NONE };
	char name[64];
	siginfo_t si;
	pid_t pid;
	mqd_t q;

	q = qcreate(qname(name, "nbusy"), 4, 64, 0);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, notify_signal(q, SIGUSR1, 7));
	EXPECT_EQ(-1, mq_notify(q, &none));
	EXPECT_EQ(EBUSY, errno);
	pid = fork();
	if (pid == 0) {
		mqd_t c = mq_open(name, O_RDWR);

		if (c < 0)
			_exit(T_BAD_SETUP);
		if (mq_notify(c, &none) == 0)
			_exit(T_BAD_SUCCESS);
		if (errno != EBUSY)
			_exit(errno);
		/* Not the owner: succeeds and removes nothing. */
		if (mq_notify(c, NULL))
			_exit(errno);
		_exit(mq_send(c, "x", 1, 0) ? errno : 0);
	}
	EXPECT_EQ(0, wait_exit(pid));
	EXPECT_EQ(SIGUSR1, wait_signal(SIGUSR1, 5000, &si));
	EXPECT_EQ(7, si.si_value.sival_int);
	mq_close(q);
	mq_unlink(name);
}

TEST(notify_unregister_and_close)
{
	char name[64], buf[64];
	siginfo_t si;
	mqd_t q, q2;

	q = qcreate(qname(name, "nunreg"), 4, 64, 0);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, notify_signal(q, SIGUSR1, 0));
	ASSERT_EQ(0, mq_notify(q, NULL));
	EXPECT_EQ(0, mq_notify(q, NULL));
	ASSERT_EQ(0, mq_send(q, "x", 1, 0));
	EXPECT_EQ(-1, wait_signal(SIGUSR1, 200, &si));
	EXPECT_EQ(1, mq_receive(q, buf, 64, NULL));
	/* Closing a descriptor gives the registration up, as on Linux. */
	q2 = mq_open(name, O_RDWR);
	ASSERT_LE(0, q2);
	ASSERT_EQ(0, notify_signal(q2, SIGUSR1, 0));
	ASSERT_EQ(0, mq_close(q2));
	EXPECT_EQ(0, notify_signal(q, SIGUSR1, 0));
	mq_close(q);
	mq_unlink(name);
}

TEST(notify_none)
{
	struct sigevent none = { .sigev_notify = SIGEV_NONE };
	char name[64];
	mqd_t q;

	q = qcreate(qname(name, "nnone"), 4, 64, 0);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, mq_notify(q, &none));
	EXPECT_EQ(-1, mq_notify(q, &none));
	EXPECT_EQ(EBUSY, errno);
	ASSERT_EQ(0, mq_send(q, "x", 1, 0));
	/* Fired (silently): registering works again. */
	EXPECT_EQ(0, mq_notify(q, &none));
	none.sigev_notify = 12345;
	EXPECT_EQ(-1, mq_notify(q, &none));
	EXPECT_EQ(EINVAL, errno);
	mq_close(q);
	mq_unlink(name);
}

static sem_t thread_sem;
static int thread_value;
static pthread_t thread_self;

static void notified(union sigval v)
{
	thread_value = v.sival_int;
	thread_self = pthread_self();
	sem_post(&thread_sem);
}

TEST(notify_thread)
{
	struct sigevent sev = { .sigev_notify = SIGEV_THREAD };
	pthread_attr_t attr;
	struct timespec ts;
	char name[64];
	pid_t pid;
	mqd_t q;

	ASSERT_EQ(0, sem_init(&thread_sem, 0, 0));
	q = qcreate(qname(name, "nthr"), 4, 64, 0);
	ASSERT_LE(0, q);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	sev.sigev_notify_function = notified;
	sev.sigev_notify_attributes = &attr;
	sev.sigev_value.sival_int = 31337;
	ASSERT_EQ(0, mq_notify(q, &sev));
	EXPECT_EQ(-1, mq_notify(q, &sev));
	EXPECT_EQ(EBUSY, errno);
	pid = child_send_after(name, 50, 0);
	ts = rt_in(5000);
	ASSERT_EQ(0, sem_timedwait(&thread_sem, &ts));
	EXPECT_EQ(31337, thread_value);
	EXPECT_FALSE(pthread_equal(thread_self, pthread_self()));
	EXPECT_EQ(0, wait_exit(pid));
	/* Once only; then it can be registered again, and removed. */
	ASSERT_EQ(0, mq_notify(q, &sev));
	ASSERT_EQ(0, mq_notify(q, NULL));
	ASSERT_EQ(0, mq_notify(q, &sev));
	pthread_attr_destroy(&attr);
	mq_close(q);
	mq_unlink(name);
}

/* How many descriptors this process has open. */
static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/*
 * Closing another descriptor of the queue drops a SIGEV_THREAD
 * registration (as on Linux); the library forgets it too.  (It kept it,
 * with its eventfd, until the registering descriptor was closed: one more
 * for every register-open-close cycle.)
 */
TEST(notify_thread_forgotten_when_another_descriptor_closes)
{
	struct sigevent sev = { .sigev_notify = SIGEV_THREAD };
	int i, before = -1;
	char name[64];
	mqd_t q, o;

	q = qcreate(qname(name, "nfgt"), 4, 64, 0);
	ASSERT_LE(0, q);
	sev.sigev_notify_function = notified;
	for (i = 0; i < 50; i++) {
		ASSERT_EQ(0, mq_notify(q, &sev)) TH_LOG("cycle %d", i);
		o = mq_open(name, O_RDONLY);
		ASSERT_LE(0, o);
		ASSERT_EQ(0, mq_close(o));
		if (i == 1)
			before = open_fds();
	}
	EXPECT_EQ(before, open_fds());
	mq_close(q);
	mq_unlink(name);
}

#ifndef MQ_PRELOAD
/* ---- the uapi underneath: MBX_PORT_MQ and MBX_IOC_NOTIFY ------------ */

TEST(uapi_mq_port_priorities)
{
	struct mbx_version v;
	unsigned int prio;
	char buf[8];
	int mq, plain;

	ASSERT_EQ(0, mbx_version(MBX_DEV_AUTO, &v));
	EXPECT_TRUE(v.features & MBX_FEAT_MQ);
	EXPECT_TRUE(v.features & MBX_FEAT_NOTIFY);
	mq = t_port(4, 8, 0600, NULL, MBX_PORT_MQ);
	plain = t_anon(4, 8);
	ASSERT_LE(0, mq);
	ASSERT_LE(0, plain);
	EXPECT_EQ(-EINVAL, mbx_send(plain, "x", 1, MBX_PRIO_MAX + 1));
	EXPECT_EQ(0, mbx_send(mq, "x", 1, MBX_MQ_PRIO_MAX));
	EXPECT_EQ(-EINVAL, mbx_send(mq, "x", 1, MBX_MQ_PRIO_MAX + 1));
	EXPECT_EQ(1, mbx_recv(mq, buf, sizeof(buf), &prio));
	EXPECT_EQ(MBX_MQ_PRIO_MAX, prio);
	/* An unknown creation flag (0x2000 is MBX_PORT_TOPIC, 0x4000 MBX_PORT_RING now). */
	EXPECT_EQ(-EINVAL, t_port(4, 8, 0600, NULL, 0x8000));
	close(mq);
	close(plain);
}

TEST(uapi_notify_checks)
{
	struct {
		struct mbx_notify n;
		uint64_t tail;
	} big;
	struct mbx_notify n;
	int mq, plain;

	mq = t_port(4, 8, 0600, NULL, MBX_PORT_MQ);
	plain = t_anon(4, 8);
	ASSERT_LE(0, mq);
	ASSERT_LE(0, plain);
	memset(&n, 0, sizeof(n));
	n.type = MBX_NOTIFY_NONE;
	EXPECT_EQ(-EINVAL, mbx_notify(plain, &n));
	n.flags = 0x80;
	EXPECT_EQ(-EINVAL, mbx_notify(mq, &n));
	n.flags = MBX_NOTIFY_REMOVE;
	EXPECT_EQ(-EINVAL, mbx_notify(mq, &n));	/* REMOVE with a type */
	n.type = 0;
	EXPECT_EQ(0, mbx_notify(mq, &n));	/* nothing to remove */
	n.flags = 0;
	n.type = 99;
	EXPECT_EQ(-EINVAL, mbx_notify(mq, &n));
	n.type = MBX_NOTIFY_SIGNAL;
	n.signo = 65;
	EXPECT_EQ(-EINVAL, mbx_notify(mq, &n));
	n.type = MBX_NOTIFY_EVENTFD;
	n.signo = 0;
	n.fd = plain;
	EXPECT_EQ(-EINVAL, mbx_notify(mq, &n));	/* not an eventfd */
	n.type = MBX_NOTIFY_NONE;
	n.fd = 0;
	n.reserved = 1;
	EXPECT_EQ(-EINVAL, mbx_notify(mq, &n));
	/* Size-versioned: a larger struct must be zero past ours. */
	memset(&big, 0, sizeof(big));
	big.n.type = MBX_NOTIFY_NONE;
	big.tail = 1;
	EXPECT_EQ(-EINVAL, t_ioctl(mq, _IOW(MBX_IOC_MAGIC, 0x1A, big), &big));
	big.tail = 0;
	EXPECT_EQ(0, t_ioctl(mq, _IOW(MBX_IOC_MAGIC, 0x1A, big), &big));
	n.reserved = 0;
	EXPECT_EQ(-EBUSY, mbx_notify(mq, &n));
	close(mq);
	close(plain);
}

/*
 * A registration does not follow its process through an exec, as Linux's
 * mqueue checks self_exec_id: the new program, perhaps more privileged,
 * gets no signal it never asked for.
 */
TEST(uapi_notify_not_after_exec)
{
	struct mbx_notify n = { .type = MBX_NOTIFY_SIGNAL, .signo = SIGUSR1 };
	sigset_t set;
	int mq, p[2], st;
	pid_t pid;
	char c;

	mq = t_port(4, 8, 0600, NULL, MBX_PORT_MQ);	/* no close-on-exec */
	ASSERT_LE(0, mq);
	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		signal(SIGUSR1, SIG_DFL);
		sigemptyset(&set);
		sigprocmask(SIG_SETMASK, &set, NULL);
		if (mbx_notify(mq, &n) || dup2(p[1], 1) != 1)
			_exit(T_BAD_SETUP);
		execl("/bin/sh", "sh", "-c", "echo r; exec sleep 10", (char *)NULL);
		_exit(T_BAD_SETUP);
	}
	close(p[1]);
	ASSERT_EQ(1, read(p[0], &c, 1));	/* the new program runs */
	ASSERT_EQ(0, mbx_send(mq, "x", 1, 0));	/* fires the registration */
	t_sleep_ms(300);
	kill(pid, SIGTERM);
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	ASSERT_TRUE(WIFSIGNALED(st));
	EXPECT_EQ(SIGTERM, WTERMSIG(st));	/* not SIGUSR1 */
	close(p[0]);
	close(mq);
}

/* The registration goes with the port's last fd, eventfd and all. */
TEST(uapi_notify_eventfd_and_last_close)
{
	struct mbx_notify n = { .type = MBX_NOTIFY_EVENTFD };
	uint64_t count = 0;
	int mq, efd;

	efd = eventfd(0, EFD_NONBLOCK);
	ASSERT_LE(0, efd);
	mq = t_port(4, 8, 0600, NULL, MBX_PORT_MQ);
	ASSERT_LE(0, mq);
	n.fd = efd;
	ASSERT_EQ(0, mbx_notify(mq, &n));
	ASSERT_EQ(0, mbx_send(mq, "x", 1, 0));
	ASSERT_EQ(8, read(efd, &count, 8));
	EXPECT_EQ(1, count);
	ASSERT_EQ(0, mbx_send(mq, "y", 1, 0));
	EXPECT_EQ(-1, read(efd, &count, 8));	/* once only */
	ASSERT_EQ(0, mbx_notify(mq, &n));
	close(mq);				/* frees it: no leak, no splat */
	close(efd);
}

struct bad_recv {
	int fd;
	long ret;
};

/* A blocking receive into a buffer that cannot be written. */
static void *recv_into_bad_buffer(void *arg)
{
	struct bad_recv *b = arg;

	b->ret = mbx_recv(b->fd, (void *)8, 8, NULL);
	return NULL;
}

/*
 * A message handed to a waiting receiver whose copy out then faults goes
 * back into the queue, which was empty: the registration fires then, as
 * for any message arriving on an empty queue.  (It did not: the message
 * sat there, the registration armed, the registrant asleep.)
 */
TEST(uapi_notify_fires_for_a_message_put_back_into_an_empty_queue)
{
	struct mbx_notify n = { .type = MBX_NOTIFY_EVENTFD };
	struct bad_recv b;
	uint64_t count = 0;
	pthread_t th;
	int efd;

	efd = eventfd(0, EFD_NONBLOCK);
	ASSERT_LE(0, efd);
	b.fd = t_port(4, 8, 0600, NULL, MBX_PORT_MQ);
	ASSERT_LE(0, b.fd);
	n.fd = efd;
	ASSERT_EQ(0, mbx_notify(b.fd, &n));
	ASSERT_EQ(0, pthread_create(&th, NULL, recv_into_bad_buffer, &b));
	while (T_INFO(b.fd, recv_waiting) != 1)
		usleep(1000);
	ASSERT_EQ(0, mbx_send(b.fd, "x", 1, 0));
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(-EFAULT, b.ret);
	EXPECT_EQ(1, T_INFO(b.fd, queued));
	ASSERT_EQ(8, read(efd, &count, 8));
	EXPECT_EQ(1, count);
	close(b.fd);
	close(efd);
}

/* The same by signal: it names the message's sender, not the receiver. */
TEST(uapi_notify_signal_for_a_put_back_message_names_its_sender)
{
	struct mbx_notify n = { .type = MBX_NOTIFY_SIGNAL, .signo = SIGUSR1 };
	struct bad_recv b;
	siginfo_t si;
	sigset_t set;
	pthread_t th;
	pid_t pid;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &set, NULL));
	b.fd = t_port(4, 8, 0600, NULL, MBX_PORT_MQ);
	ASSERT_LE(0, b.fd);
	ASSERT_EQ(0, mbx_notify(b.fd, &n));
	ASSERT_EQ(0, pthread_create(&th, NULL, recv_into_bad_buffer, &b));
	while (T_INFO(b.fd, recv_waiting) != 1)
		usleep(1000);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(mbx_send(b.fd, "x", 1, 0) ? 1 : 0);
	EXPECT_EQ(0, t_reap(pid));
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(-EFAULT, b.ret);
	ASSERT_EQ(SIGUSR1, wait_signal(SIGUSR1, 2000, &si));
	EXPECT_EQ(SI_MESGQ, si.si_code);
	EXPECT_EQ(pid, si.si_pid);
	EXPECT_EQ(getuid(), si.si_uid);
	close(b.fd);
}

/* The thread of the child below: registers, then waits for the signal. */
static void *register_and_wait(void *arg)
{
	struct mbx_notify n = { .type = MBX_NOTIFY_SIGNAL, .signo = SIGUSR1 };
	int *fds = arg;		/* the port, the pipe's write end */
	char path[64], st[256], *p;
	siginfo_t si;
	int i, fd;

	if (mbx_notify(fds[0], &n))
		exit(2);
	/* Until the main thread is a zombie: it has called pthread_exit(). */
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)getpid());
	for (i = 0; i < 400; i++) {
		fd = open(path, O_RDONLY);
		st[0] = 0;
		if (fd >= 0 && read(fd, st, sizeof(st) - 1) > 0)
			st[sizeof(st) - 1] = 0;
		if (fd >= 0)
			close(fd);
		p = strrchr(st, ')');
		if (p && p[1] == ' ' && p[2] == 'Z')
			break;
		usleep(5000);
	}
	if (write(fds[1], p && p[1] == ' ' ? p + 2 : "?", 1) != 1)
		exit(3);
	/* Busy elsewhere when it comes, not waiting in sigtimedwait(). */
	usleep(300000);
	exit(wait_signal(SIGUSR1, 2000, &si) == SIGUSR1 ? 0 : 4);
}

/*
 * Every live thread blocks the signal, and the main thread has exited: the
 * signal goes to the registering thread, which can take it with
 * sigwaitinfo().  (It went to the zombie main thread and was never
 * delivered: a thread-directed signal is not passed on.)
 */
TEST(uapi_notify_signal_reaches_a_thread_when_the_main_thread_has_exited)
{
	int fds[2], p[2];
	pthread_t th;
	pid_t pid;
	char c;

	fds[0] = t_port(4, 8, 0600, NULL, MBX_PORT_MQ);
	ASSERT_LE(0, fds[0]);
	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		sigset_t set;

		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, NULL);
		fds[1] = p[1];
		if (pthread_create(&th, NULL, register_and_wait, fds))
			exit(5);
		pthread_exit(NULL);
	}
	close(p[1]);
	ASSERT_EQ(1, read(p[0], &c, 1));
	TH_LOG("main thread state %c", c);
	ASSERT_EQ(0, mbx_send(fds[0], "x", 1, 0));
	EXPECT_EQ(0, t_reap(pid));
	close(p[0]);
	close(fds[0]);
}

/* Extras of libmailbox-mq: the sender's credentials. */
TEST(receive_credentials)
{
	char name[64], buf[64];
	uid_t uid = 12345;
	pid_t pid, from = 0;
	mqd_t q;

	q = qcreate(qname(name, "cred"), 2, 64, 0);
	ASSERT_LE(0, q);
	pid = child_send_after(name, 0, 0);
	ASSERT_EQ(5, mbx_mq_receive_cred(q, buf, 64, NULL, &from, &uid));
	EXPECT_EQ(pid, from);
	EXPECT_EQ(getuid(), uid);
	EXPECT_EQ(0, wait_exit(pid));
	mq_close(q);
	mq_unlink(name);
}
#endif

TEST_HARNESS_MAIN
