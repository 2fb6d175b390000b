// SPDX-License-Identifier: GPL-2.0
/*
 * libmailbox-mq: every POSIX mq_* function on mailbox ports, with the
 * errno each failure must give (mq_open(3) and its siblings): names,
 * creation attributes, access modes, priorities 0 and MQ_PRIO_MAX - 1,
 * blocking, O_NONBLOCK, absolute CLOCK_REALTIME deadlines, signals and
 * processes killed while blocked.  mq_notify() is in mq_notify_test.c.
 *
 * Built twice: mq_test links libmailbox-mq statically; mq_preload_test
 * (mq_preload_test.c) is this file built as an ordinary glibc program,
 * which runs itself with LD_PRELOAD=libmailbox-mq.so.  Either way the
 * first check of every queue is that its descriptor is a mailbox port, so
 * a run that reached the kernel's own message queues fails.
 */
#include "mq_helpers.h"

TEST(create_send_receive)
{
	char name[64], buf[8192];
	unsigned int prio = 99;
	mqd_t q;

	q = qcreate(qname(name, "basic"), 4, 64, 0);
	ASSERT_LE(0, q);
	ASSERT_TRUE(is_port(q));
	ASSERT_EQ(0, mq_send(q, "hello", 5, 3));
	ASSERT_EQ(5, mq_receive(q, buf, 64, &prio));
	EXPECT_EQ(3, prio);
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	EXPECT_EQ(0, mq_send(q, "", 0, 0));
	EXPECT_EQ(0, mq_receive(q, buf, 64, NULL));
	EXPECT_EQ(0, mq_close(q));
	EXPECT_EQ(0, mq_unlink(name));
}

TEST(descriptor_is_cloexec)
{
	char name[64];
	mqd_t q = qcreate(qname(name, "cloexec"), 1, 8, 0);

	ASSERT_LE(0, q);
	EXPECT_TRUE(fcntl(q, F_GETFD) & FD_CLOEXEC);
	mq_close(q);
	mq_unlink(name);
}

TEST(open_existing_and_errors)
{
	struct mq_attr huge = { .mq_maxmsg = 1L << 30, .mq_msgsize = 1L << 30 };
	char name[64];
	mqd_t q, q2;

	qname(name, "open");
	mq_unlink(name);
	errno = 0;
	EXPECT_EQ(-1, mq_open(name, O_RDWR));
	EXPECT_EQ(ENOENT, errno);
	q = qcreate(name, 2, 16, 0);
	ASSERT_LE(0, q);
	EXPECT_EQ(-1, mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, NULL));
	EXPECT_EQ(EEXIST, errno);
	/* O_CREAT on an existing queue opens it and ignores the attributes. */
	q2 = mq_open(name, O_CREAT | O_WRONLY, 0600, NULL);
	ASSERT_LE(0, q2);
	EXPECT_EQ(0, mq_send(q2, "x", 1, 1));
	/* Even attributes no new queue may have (EINVAL if it were new). */
	mq_close(q2);
	q2 = mq_open(name, O_CREAT | O_WRONLY, 0600, &huge);
	ASSERT_LE(0, q2);
	EXPECT_EQ(-1, mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, &huge));
	EXPECT_EQ(EEXIST, errno);
	EXPECT_EQ(-1, mq_open(name, O_ACCMODE));
	EXPECT_EQ(EINVAL, errno);
	mq_close(q2);
	mq_close(q);
	EXPECT_EQ(0, mq_unlink(name));
	EXPECT_EQ(-1, mq_unlink(name));
	EXPECT_EQ(ENOENT, errno);
}

TEST(bad_names)
{
	char name[300];

	EXPECT_EQ(-1, mq_open("noslash", O_CREAT | O_RDWR, 0600, NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, mq_open("/", O_CREAT | O_RDWR, 0600, NULL));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, mq_open("/a/b", O_CREAT | O_RDWR, 0600, NULL));
	EXPECT_EQ(EACCES, errno);
	name[0] = '/';
	memset(name + 1, 'n', 256);
	name[257] = '\0';
	EXPECT_EQ(-1, mq_open(name, O_CREAT | O_RDWR, 0600, NULL));
	EXPECT_EQ(ENAMETOOLONG, errno);
	EXPECT_EQ(-1, mq_unlink(name));
	EXPECT_EQ(ENAMETOOLONG, errno);
}

/* Names of 64..NAME_MAX bytes work; two that differ only at the end too. */
TEST(long_names)
{
	char a[260], b[260], buf[16];
	mqd_t qa, qb;

	a[0] = '/';
	memset(a + 1, 'l', NAME_MAX);
	snprintf(a + 1 + NAME_MAX - 8, 9, "%08d", (int)getpid());
	strcpy(b, a);
	b[NAME_MAX] = 'X';
	qa = qcreate(a, 2, 16, 0);
	ASSERT_LE(0, qa);
	qb = qcreate(b, 2, 16, O_NONBLOCK);
	ASSERT_LE(0, qb);
	ASSERT_EQ(0, mq_send(qa, "a", 1, 0));
	EXPECT_EQ(-1, mq_receive(qb, buf, 16, NULL));
	EXPECT_EQ(EAGAIN, errno);
	mq_close(qb);
	qb = mq_open(a, O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, qb);
	EXPECT_EQ(1, mq_receive(qb, buf, 16, NULL));
	mq_close(qa);
	mq_close(qb);
	EXPECT_EQ(0, mq_unlink(a));
	EXPECT_EQ(0, mq_unlink(b));
}

TEST(bad_attributes)
{
	struct mq_attr a = { .mq_maxmsg = 0, .mq_msgsize = 8 };
	char name[64];
	mqd_t q, q2;

	qname(name, "attr");
	mq_unlink(name);
	EXPECT_EQ(-1, mq_open(name, O_CREAT | O_RDWR, 0600, &a));
	EXPECT_EQ(EINVAL, errno);
	a.mq_maxmsg = 1;
	a.mq_msgsize = -1;
	EXPECT_EQ(-1, mq_open(name, O_CREAT | O_RDWR, 0600, &a));
	EXPECT_EQ(EINVAL, errno);
	a.mq_msgsize = 0;
	EXPECT_EQ(-1, mq_open(name, O_CREAT | O_RDWR, 0600, &a));
	EXPECT_EQ(EINVAL, errno);
	a.mq_maxmsg = 1L << 40;
	a.mq_msgsize = 8;
	EXPECT_EQ(-1, mq_open(name, O_CREAT | O_RDWR, 0600, &a));
	EXPECT_EQ(EINVAL, errno);
	/* Attributes only matter to a queue being created, as on Linux. */
	q = qcreate(name, 1, 8, 0);
	ASSERT_LE(0, q);
	q2 = mq_open(name, O_CREAT | O_RDWR, 0600, &a);
	EXPECT_LE(0, q2);
	EXPECT_EQ(-1, mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, &a));
	EXPECT_EQ(EEXIST, errno);
	mq_close(q2);
	mq_close(q);
	mq_unlink(name);
}

TEST(default_attributes)
{
	struct mq_attr a;
	char name[64];
	mqd_t q;

	qname(name, "defattr");
	mq_unlink(name);
	q = mq_open(name, O_CREAT | O_RDWR, 0600, NULL);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, mq_getattr(q, &a));
	EXPECT_EQ(10, a.mq_maxmsg);
	EXPECT_EQ(8192, a.mq_msgsize);
	EXPECT_EQ(0, a.mq_curmsgs);
	EXPECT_EQ(0, a.mq_flags);
	mq_close(q);
	mq_unlink(name);
}

TEST(getattr_and_setattr)
{
	struct mq_attr a, old, set = { .mq_flags = O_NONBLOCK, .mq_maxmsg = 99 };
	char name[64], buf[64];
	mqd_t q;

	q = qcreate(qname(name, "setattr"), 4, 64, O_NONBLOCK);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, mq_send(q, "1", 1, 0));
	ASSERT_EQ(0, mq_send(q, "2", 1, 0));
	ASSERT_EQ(0, mq_getattr(q, &a));
	EXPECT_EQ(O_NONBLOCK, a.mq_flags);
	EXPECT_EQ(4, a.mq_maxmsg);
	EXPECT_EQ(64, a.mq_msgsize);
	EXPECT_EQ(2, a.mq_curmsgs);

	set.mq_flags = 0;
	ASSERT_EQ(0, mq_setattr(q, &set, &old));
	EXPECT_EQ(O_NONBLOCK, old.mq_flags);
	EXPECT_EQ(2, old.mq_curmsgs);
	ASSERT_EQ(0, mq_getattr(q, &a));
	EXPECT_EQ(0, a.mq_flags);
	EXPECT_EQ(4, a.mq_maxmsg);	/* only O_NONBLOCK changes */

	set.mq_flags = O_NONBLOCK;
	ASSERT_EQ(0, mq_setattr(q, &set, NULL));
	EXPECT_EQ(1, mq_receive(q, buf, 64, NULL));
	EXPECT_EQ(1, mq_receive(q, buf, 64, NULL));
	EXPECT_EQ(-1, mq_receive(q, buf, 64, NULL));
	EXPECT_EQ(EAGAIN, errno);

	set.mq_flags = O_NONBLOCK | O_APPEND;
	EXPECT_EQ(-1, mq_setattr(q, &set, NULL));
	EXPECT_EQ(EINVAL, errno);
	mq_close(q);
	mq_unlink(name);
}

TEST(access_modes)
{
	char name[64], buf[64];
	mqd_t q, r, w;

	q = qcreate(qname(name, "access"), 2, 64, 0);
	ASSERT_LE(0, q);
	r = mq_open(name, O_RDONLY);
	w = mq_open(name, O_WRONLY);
	ASSERT_LE(0, r);
	ASSERT_LE(0, w);
	EXPECT_EQ(-1, mq_send(r, "x", 1, 0));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, mq_receive(w, buf, 64, NULL));
	EXPECT_EQ(EBADF, errno);
	/* EBADF comes before EMSGSIZE, as on Linux. */
	EXPECT_EQ(-1, mq_receive(w, buf, 1, NULL));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(0, mq_send(w, "x", 1, 0));
	EXPECT_EQ(1, mq_receive(r, buf, 64, NULL));
	mq_close(r);
	mq_close(w);
	mq_close(q);
	mq_unlink(name);
}

/* A queue created O_RDONLY gives its creator a receive-only descriptor. */
TEST(create_rdonly)
{
	struct mq_attr a = { .mq_maxmsg = 2, .mq_msgsize = 8 };
	char name[64];
	mqd_t q;

	qname(name, "crrd");
	mq_unlink(name);
	q = mq_open(name, O_CREAT | O_RDONLY, 0, &a);
	ASSERT_LE(0, q);
	EXPECT_EQ(-1, mq_send(q, "x", 1, 0));
	EXPECT_EQ(EBADF, errno);
	mq_close(q);
	mq_unlink(name);
}

/*
 * A queue created read-only with two descriptors free: the library makes
 * the port, then a narrowed fd of it.  It once failed with EMFILE there
 * and left the queue behind (EEXIST on the next try); Linux needs one.
 */
TEST(create_rdonly_with_two_descriptors_free)
{
	struct mq_attr a = { .mq_maxmsg = 2, .mq_msgsize = 8 };
	struct rlimit rl = { 32, 32 };
	char name[64];
	int fd, last = -1;
	pid_t pid;
	mqd_t q;

	qname(name, "fewfd");
	mq_unlink(name);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (setrlimit(RLIMIT_NOFILE, &rl))
			_exit(10);
		while ((fd = open("/dev/null", O_RDONLY)) >= 0)
			last = fd;
		close(last);
		close(last - 1);
		q = mq_open(name, O_CREAT | O_EXCL | O_RDONLY, 0600, &a);
		if (q < 0)
			_exit(errno == EMFILE ? 11 : 12);
		_exit(mq_close(q) ? 13 : 0);
	}
	EXPECT_EQ(0, wait_exit(pid));
	/* Created once, by that call, and still there. */
	EXPECT_EQ(0, mq_unlink(name));
}

TEST(bad_descriptors)
{
	struct sigevent sev = { .sigev_notify = SIGEV_NONE };
	struct mq_attr a;
	char buf[64];
	int p[2];

	ASSERT_EQ(0, pipe(p));
	EXPECT_EQ(-1, mq_send(-1, "x", 1, 0));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, mq_send(p[1], "x", 1, 0));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, mq_receive(p[0], buf, sizeof(buf), NULL));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, mq_getattr(p[0], &a));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, mq_getattr(INT_MAX - 1, &a));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, mq_notify(p[0], &sev));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, mq_notify(-1, NULL));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, mq_close(-1));
	EXPECT_EQ(EBADF, errno);
	close(p[0]);
	close(p[1]);
}

TEST(message_sizes)
{
	char name[64], buf[128];
	struct timespec ts;
	mqd_t q;

	q = qcreate(qname(name, "size"), 2, 64, O_NONBLOCK);
	ASSERT_LE(0, q);
	EXPECT_EQ(-1, mq_send(q, buf, 65, 0));
	EXPECT_EQ(EMSGSIZE, errno);
	ASSERT_EQ(0, mq_send(q, "abc", 3, 0));
	/* Smaller than mq_msgsize: EMSGSIZE even for a 3-byte message. */
	EXPECT_EQ(-1, mq_receive(q, buf, 63, NULL));
	EXPECT_EQ(EMSGSIZE, errno);
	ts = rt_in(1000);
	EXPECT_EQ(-1, mq_timedreceive(q, buf, 10, NULL, &ts));
	EXPECT_EQ(EMSGSIZE, errno);
	EXPECT_EQ(3, mq_receive(q, buf, 64, NULL));
	mq_close(q);
	mq_unlink(name);
}

/*
 * A queue shut down behind the library's back (MBX_IOC_SHUTDOWN) is
 * drained, empty messages included, and then fails with EPIPE, whether the
 * caller asks for the priority (MBX_IOC_RECV) or not (read()).
 */
/* @p, where the compiler cannot see it (mq_send() is declared nonnull). */
static char *hidden(char *p)
{
	__asm__("" : "+r"(p));
	return p;
}

/*
 * mq_send() at priority 0, the common call, fails as on Linux whatever
 * the length or the buffer, and leaves nothing queued when it fails.
 */
TEST(priority_0_send_errors)
{
	struct mq_attr nb = { .mq_flags = O_NONBLOCK }, a;
	char name[64], buf[64] = { 0 };
	mqd_t q, d;

	q = qcreate(qname(name, "p0"), 2, 64, 0);
	ASSERT_LE(0, q);
	/* Longer than write(2) could take: EMSGSIZE, not EFAULT or EINVAL. */
	EXPECT_EQ(-1, mq_send(q, buf, SIZE_MAX, 0));
	EXPECT_EQ(EMSGSIZE, errno);
	EXPECT_EQ(-1, mq_send(q, (char *)-4096L, 8, 0));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, mq_send(q, hidden(NULL), 8, 0));
	EXPECT_EQ(EFAULT, errno);
	ASSERT_EQ(0, mq_getattr(q, &a));
	EXPECT_EQ(0, a.mq_curmsgs);
	/* An empty message is a message; the largest one fits. */
	EXPECT_EQ(0, mq_send(q, buf, 0, 0));
	EXPECT_EQ(0, mq_send(q, buf, 64, 0));
	/* Non-blocking set after the open is honoured. */
	ASSERT_EQ(0, mq_setattr(q, &nb, NULL));
	EXPECT_EQ(-1, mq_send(q, "x", 1, 0));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, mq_receive(q, buf, 64, NULL));
	/* A descriptor the library did not open works the same. */
	d = dup(q);
	ASSERT_LE(0, d);
	EXPECT_EQ(0, mq_send(d, "y", 1, 0));
	EXPECT_EQ(64, mq_receive(q, buf, 64, NULL));
	EXPECT_EQ(1, mq_receive(d, buf, 64, NULL));
	EXPECT_EQ('y', buf[0]);
	close(d);
	mq_close(q);
	mq_unlink(name);
}

TEST(receive_after_shutdown_fails_epipe)
{
	char name[64], buf[64];
	unsigned int prio = 7;
	struct timespec ts;
	mqd_t q;

	q = qcreate(qname(name, "shut"), 4, 64, 0);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, mq_send(q, "a", 1, 0));
	ASSERT_EQ(0, mq_send(q, "", 0, 0));
	ASSERT_EQ(0, mq_send(q, "bc", 2, 3));
	ASSERT_EQ(0, ioctl(q, MBX_IOC_SHUTDOWN));
	EXPECT_EQ(2, mq_receive(q, buf, 64, &prio));
	EXPECT_EQ(3, prio);
	EXPECT_EQ(1, mq_receive(q, buf, 64, NULL));
	EXPECT_EQ(0, mq_receive(q, buf, 64, NULL));
	EXPECT_EQ(-1, mq_receive(q, buf, 64, NULL));
	EXPECT_EQ(EPIPE, errno);
	EXPECT_EQ(-1, mq_receive(q, buf, 64, &prio));
	EXPECT_EQ(EPIPE, errno);
	ts = rt_in(1000);
	EXPECT_EQ(-1, mq_timedreceive(q, buf, 64, NULL, &ts));
	EXPECT_EQ(EPIPE, errno);
	mq_close(q);
	mq_unlink(name);
}

/*
 * mq_open() opens an ordinary named port too.  There end of stream reads
 * as 0 through read(), so a receive there must not take that path: after
 * a shutdown it fails with EPIPE, whether it asks for the priority or not.
 */
TEST(plain_port_receive_after_shutdown_fails_epipe)
{
	char name[MBX_NAME_LEN], qn[MBX_NAME_LEN + 1], buf[64];
	int fd;
	mqd_t q;

	fd = t_port(4, 64, 0600, t_name(name, "mqplain"), 0);
	ASSERT_LE(0, fd);
	snprintf(qn, sizeof(qn), "/%s", name);
	q = mq_open(qn, O_RDWR);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, mq_send(q, "a", 1, 0));
	ASSERT_EQ(0, ioctl(q, MBX_IOC_SHUTDOWN));
	EXPECT_EQ(1, mq_receive(q, buf, 64, NULL));
	EXPECT_EQ(-1, mq_receive(q, buf, 64, NULL));
	EXPECT_EQ(EPIPE, errno);
	mq_close(q);
	close(fd);
	mq_unlink(qn);
}

/* Only the message is copied: a length past the buffer is no error. */
TEST(receive_length_past_the_buffer)
{
	char name[64], buf[64];
	unsigned int prio;
	mqd_t q;

	q = qcreate(qname(name, "len"), 4, 64, 0);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, mq_send(q, "abcd", 4, 0));
	ASSERT_EQ(0, mq_send(q, "efgh", 4, 1));
	EXPECT_EQ(4, mq_receive(q, buf, SIZE_MAX, &prio));
	EXPECT_EQ(0, memcmp(buf, "efgh", 4));
	EXPECT_EQ(4, mq_receive(q, buf, SIZE_MAX, NULL));
	EXPECT_EQ(0, memcmp(buf, "abcd", 4));
	mq_close(q);
	mq_unlink(name);
}

TEST(priorities_0_to_32767)
{
	static const unsigned int prios[] = { 0, 32767, 5, 100, 5, 31, 32, 0 };
	static const unsigned int want[] = { 32767, 100, 32, 31, 5, 5, 0, 0 };
	char name[64], buf[64];
	unsigned int i, prio;
	mqd_t q;

	q = qcreate(qname(name, "prio"), 8, 64, O_NONBLOCK);
	ASSERT_LE(0, q);
	for (i = 0; i < 8; i++) {
		buf[0] = (char)i;
		ASSERT_EQ(0, mq_send(q, buf, 1, prios[i]));
	}
	EXPECT_EQ(-1, mq_send(q, buf, 1, MQ_PRIO_MAX));
	EXPECT_EQ(EINVAL, errno);
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(1, mq_receive(q, buf, 64, &prio));
		EXPECT_EQ(want[i], prio);
		/* FIFO within a priority */
		if (i == 4)
			EXPECT_EQ(2, buf[0]);
		if (i == 5)
			EXPECT_EQ(4, buf[0]);
		if (i == 6)
			EXPECT_EQ(0, buf[0]);
	}
	mq_close(q);
	mq_unlink(name);
}

/* Many priorities at once, drained in order: the rbtree of lists. */
TEST(priority_tree_order)
{
	unsigned int i, prio, last = MQ_PRIO_MAX, seq[MQ_PRIO_MAX / 64];
	char name[64];
	uint32_t buf[16];
	mqd_t q;

	memset(seq, 0, sizeof(seq));
	q = qcreate(qname(name, "tree"), 1024, 64, O_NONBLOCK);
	ASSERT_LE(0, q);
	srand(42);
	for (i = 0; i < 1024; i++) {
		buf[0] = (uint32_t)rand() % (MQ_PRIO_MAX / 64) * 64;
		buf[1] = i;
		ASSERT_EQ(0, mq_send(q, (char *)buf, 8, buf[0]));
	}
	for (i = 0; i < 1024; i++) {
		ASSERT_EQ(8, mq_receive(q, (char *)buf, 64, &prio));
		ASSERT_EQ(buf[0], prio);
		ASSERT_GE(last, prio);
		if (prio == last)
			ASSERT_LT(seq[prio / 64], buf[1]);
		seq[prio / 64] = buf[1];
		last = prio;
	}
	mq_close(q);
	mq_unlink(name);
}

TEST(full_queue)
{
	char name[64], buf[64];
	mqd_t q;

	q = qcreate(qname(name, "full"), 2, 64, O_NONBLOCK);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, mq_send(q, "1", 1, 0));
	ASSERT_EQ(0, mq_send(q, "2", 1, 0));
	EXPECT_EQ(-1, mq_send(q, "3", 1, 0));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(1, mq_receive(q, buf, 64, NULL));
	EXPECT_EQ(0, mq_send(q, "3", 1, 0));
	mq_close(q);
	mq_unlink(name);
}

TEST(timed_receive_times_out)
{
	struct timespec ts;
	char name[64], buf[64];
	uint64_t t0;
	mqd_t q;

	q = qcreate(qname(name, "trto"), 2, 64, 0);
	ASSERT_LE(0, q);
	ts = rt_in(150);
	t0 = t_now_ns();
	EXPECT_EQ(-1, mq_timedreceive(q, buf, 64, NULL, &ts));
	EXPECT_EQ(ETIMEDOUT, errno);
	EXPECT_LE(140000000ULL, t_now_ns() - t0);
	/* A deadline in the past still takes a message that is there. */
	ASSERT_EQ(0, mq_send(q, "m", 1, 0));
	ts.tv_sec = 0;
	ts.tv_nsec = 0;
	EXPECT_EQ(1, mq_timedreceive(q, buf, 64, NULL, &ts));
	EXPECT_EQ(-1, mq_timedreceive(q, buf, 64, NULL, &ts));
	EXPECT_EQ(ETIMEDOUT, errno);
	mq_close(q);
	mq_unlink(name);
}

TEST(timed_send_times_out)
{
	struct timespec ts;
	char name[64];
	uint64_t t0;
	mqd_t q;

	q = qcreate(qname(name, "tsto"), 1, 64, 0);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, mq_send(q, "1", 1, 0));
	ts = rt_in(150);
	t0 = t_now_ns();
	EXPECT_EQ(-1, mq_timedsend(q, "2", 1, 0, &ts));
	EXPECT_EQ(ETIMEDOUT, errno);
	EXPECT_LE(140000000ULL, t_now_ns() - t0);
	mq_close(q);
	mq_unlink(name);
}

TEST(timed_invalid_timespec)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 1000000000L };
	char name[64], buf[64];
	mqd_t q;

	q = qcreate(qname(name, "tinv"), 1, 64, 0);
	ASSERT_LE(0, q);
	EXPECT_EQ(-1, mq_timedreceive(q, buf, 64, NULL, &ts));
	EXPECT_EQ(EINVAL, errno);
	ts.tv_nsec = -1;
	EXPECT_EQ(-1, mq_timedsend(q, "x", 1, 0, &ts));
	EXPECT_EQ(EINVAL, errno);
	mq_close(q);
	mq_unlink(name);
}

TEST(blocking_receive_woken_by_sender)
{
	char name[64], buf[64];
	unsigned int prio;
	pid_t pid;
	mqd_t q;

	q = qcreate(qname(name, "block"), 2, 64, 0);
	ASSERT_LE(0, q);
	pid = child_send_after(name, 100, 32767);
	ASSERT_EQ(5, mq_receive(q, buf, 64, &prio));
	EXPECT_EQ(32767, prio);
	EXPECT_EQ(0, wait_exit(pid));
	mq_close(q);
	mq_unlink(name);
}

static void on_alarm(int sig)
{
}

TEST(signal_interrupts_blocked_calls)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct timespec ts;
	char name[64], buf[64];
	mqd_t q;

	q = qcreate(qname(name, "eintr"), 1, 64, 0);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));	/* no SA_RESTART */
	alarm(1);
	EXPECT_EQ(-1, mq_receive(q, buf, 64, NULL));
	EXPECT_EQ(EINTR, errno);
	ASSERT_EQ(0, mq_send(q, "1", 1, 0));
	alarm(1);
	EXPECT_EQ(-1, mq_send(q, "2", 1, 0));
	EXPECT_EQ(EINTR, errno);
	ts = rt_in(10000);
	alarm(1);
	EXPECT_EQ(-1, mq_timedsend(q, "2", 1, 0, &ts));
	EXPECT_EQ(EINTR, errno);
	mq_close(q);
	mq_unlink(name);
}

/*
 * With SA_RESTART, or a stop signal, the timed calls go on waiting for
 * their deadline, as Linux restarts them (signal(7)): a message sent
 * after the signal is received, a deadline passed is ETIMEDOUT.
 */
TEST(timed_calls_restart_with_sa_restart_and_after_sigstop)
{
	struct sigaction sa = { .sa_handler = on_alarm,
				.sa_flags = SA_RESTART };
	struct timespec ts;
	char name[64], buf[64];
	int status;
	pid_t pid;
	mqd_t q;

	q = qcreate(qname(name, "restart"), 1, 64, 0);
	ASSERT_LE(0, q);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct timespec t = rt_in(20000);

		if (sigaction(SIGALRM, &sa, NULL))
			_exit(T_BAD_SETUP);
		alarm(1);
		if (mq_timedreceive(q, buf, 64, NULL, &t) != 1)
			_exit(errno ? errno : T_BAD_DATA);
		_exit(buf[0] == 'R' ? 0 : T_BAD_DATA);
	}
	usleep(300 * 1000);
	ASSERT_EQ(0, kill(pid, SIGSTOP));
	usleep(300 * 1000);
	ASSERT_EQ(0, kill(pid, SIGCONT));
	sleep(2);		/* past the alarm */
	ASSERT_EQ(0, waitpid(pid, &status, WNOHANG));
	ASSERT_EQ(0, mq_send(q, "R", 1, 0));
	EXPECT_EQ(0, wait_exit(pid));

	/* The restarted send still times out at its deadline. */
	ASSERT_EQ(0, mq_send(q, "1", 1, 0));
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	ts = rt_in(1500);
	alarm(1);
	EXPECT_EQ(-1, mq_timedsend(q, "2", 1, 0, &ts));
	EXPECT_EQ(ETIMEDOUT, errno);
	signal(SIGALRM, SIG_DFL);
	mq_close(q);
	mq_unlink(name);
}

static void *send_blocks(void *arg)
{
	mq_send(*(mqd_t *)arg, "2", 1, 0);
	return NULL;
}

static void *receive_blocks(void *arg)
{
	char buf[64];

	mq_receive(*(mqd_t *)arg, buf, sizeof(buf), NULL);
	return NULL;
}

/* mq_send() and mq_receive() are cancellation points (pthreads(7)). */
TEST(blocked_calls_are_cancellation_points)
{
	void *(*blocks[2])(void *) = { send_blocks, receive_blocks };
	char name[64], buf[64];
	struct timespec ts;
	struct mq_attr a;
	pthread_t t;
	void *res;
	mqd_t q;
	int i;

	q = qcreate(qname(name, "cancel"), 1, 64, 0);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, mq_send(q, "1", 1, 0));
	for (i = 0; i < 2; i++) {
		/* A send waits on the full queue, then a receive on it empty. */
		if (i == 1)
			ASSERT_EQ(1, mq_receive(q, buf, sizeof(buf), NULL));
		ASSERT_EQ(0, pthread_create(&t, NULL, blocks[i], &q));
		t_sleep_ms(200);
		ASSERT_EQ(0, pthread_cancel(t));
		ts = rt_in(5000);
		ASSERT_EQ(0, pthread_timedjoin_np(t, &res, &ts))
			TH_LOG("%s: the cancelled thread still waits",
			       i ? "mq_receive" : "mq_send");
		EXPECT_EQ(PTHREAD_CANCELED, res);
		/* The cancelled send sent nothing, the receive took nothing. */
		ASSERT_EQ(0, mq_getattr(q, &a));
		EXPECT_EQ(1 - i, a.mq_curmsgs);
	}
	mq_close(q);
	mq_unlink(name);
}

/* Unlinked, a queue lives on for its descriptors, with no end of stream. */
TEST(unlinked_queue_stays_usable)
{
	char name[64], buf[64];
	mqd_t q, r;

	q = qcreate(qname(name, "unl"), 2, 64, 0);
	ASSERT_LE(0, q);
	r = mq_open(name, O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, r);
	ASSERT_EQ(0, mq_unlink(name));
	EXPECT_EQ(-1, mq_open(name, O_RDWR));
	EXPECT_EQ(ENOENT, errno);
	ASSERT_EQ(0, mq_send(q, "a", 1, 0));
	mq_close(q);
	EXPECT_EQ(1, mq_receive(r, buf, 64, NULL));
	/* No sender is left: still EAGAIN, not end of stream. */
	EXPECT_EQ(-1, mq_receive(r, buf, 64, NULL));
	EXPECT_EQ(EAGAIN, errno);
	mq_close(r);
}

TEST(permissions_and_umask)
{
	struct mbx_port_info info;
	char name[64];
	pid_t pid;
	mqd_t q;

	if (geteuid())
		SKIP(return, "needs root to switch users");
	qname(name, "perm");
	mq_unlink(name);
	umask(077);
	q = mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0644, NULL);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, t_info(q, &info));
	EXPECT_EQ(0600, info.mode);
	pid = fork();
	if (pid == 0) {
		if (setgid(T_GID1) || setuid(T_UID1))
			_exit(T_BAD_SETUP);
		if (mq_open(name, O_RDONLY) >= 0)
			_exit(T_BAD_SUCCESS);
		if (errno != EACCES)
			_exit(errno);
		if (mq_unlink(name) == 0)
			_exit(T_BAD_SUCCESS);
		_exit(errno == EACCES ? 0 : errno);
	}
	EXPECT_EQ(0, wait_exit(pid));
	mq_close(q);
	mq_unlink(name);
}

TEST(poll_on_descriptor)
{
	char name[64], buf[64];
	struct pollfd pfd;
	mqd_t q;

	q = qcreate(qname(name, "poll"), 1, 64, 0);
	ASSERT_LE(0, q);
	pfd.fd = q;
	pfd.events = POLLIN | POLLOUT;
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLOUT, pfd.revents);
	ASSERT_EQ(0, mq_send(q, "a", 1, 0));
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLIN, pfd.revents);
	EXPECT_EQ(1, mq_receive(q, buf, 64, NULL));
	mq_close(q);
	mq_unlink(name);
}

/* A process killed in mq_receive or mq_send leaves the queue as it was. */
TEST(killed_while_blocked)
{
	char name[64], buf[64];
	struct mq_attr a;
	pid_t rx, tx;
	mqd_t q;

	q = qcreate(qname(name, "kill"), 1, 64, 0);
	ASSERT_LE(0, q);
	rx = fork();
	if (rx == 0) {
		mq_receive(q, buf, 64, NULL);
		_exit(T_BAD_SUCCESS);
	}
	ASSERT_EQ(0, T_WAIT(q, recv_waiting, 1));
	kill(rx, SIGKILL);
	EXPECT_EQ(128 + SIGKILL, wait_exit(rx));
	ASSERT_EQ(0, mq_send(q, "1", 1, 7));
	tx = fork();
	if (tx == 0) {
		mq_send(q, "2", 1, 9);
		_exit(T_BAD_SUCCESS);
	}
	ASSERT_EQ(0, T_WAIT(q, send_waiting, 1));
	kill(tx, SIGKILL);
	EXPECT_EQ(128 + SIGKILL, wait_exit(tx));
	ASSERT_EQ(0, mq_getattr(q, &a));
	EXPECT_EQ(1, a.mq_curmsgs);
	EXPECT_EQ(1, mq_receive(q, buf, 64, NULL));
	EXPECT_EQ('1', buf[0]);
	mq_close(q);
	mq_unlink(name);
}

TEST_HARNESS_MAIN
