// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * libmailbox-mq: the POSIX message queue functions on mailbox ports.
 *
 * A queue "/name" is the named port "name" made with MBX_PORT_MQ (so it
 * takes priorities 0..MQ_PRIO_MAX - 1, never reaches end of stream and
 * takes mq_notify()); an mqd_t is the port's fd, opened close-on-exec as
 * Linux opens message queue descriptors.  mq_attr maps onto the port:
 * mq_maxmsg is its capacity, mq_msgsize its max_msg_size, mq_curmsgs the
 * messages queued, mq_flags the fd's O_NONBLOCK.  Errors follow
 * mq_open(3) and its siblings; libmailbox-mq(3) lists where they differ.
 */
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/single_threaded.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

/* Linux's /proc/sys/fs/mqueue/msg_default and msgsize_default. */
#define MQ_DEFAULT_MAXMSG	10
#define MQ_DEFAULT_MSGSIZE	8192

/* Bytes of a long name kept before its hash (see mbx_mq_port_name()). */
#define MQ_NAME_KEEP		(MBX_NAME_MAX - 17)

/*
 * mq_receive() must fail with EMSGSIZE when the buffer is smaller than
 * mq_msgsize, whatever the message's size.  The max_msg_size of the port
 * behind each receiving fd is kept here so that the check costs no system
 * call when the buffer is large enough, with MQ_CACHE_MQ if the port was
 * made with MBX_PORT_MQ (see recv_call()); 0 means "ask the port".
 */
#define MQ_CACHE_FDS		4096
#define MQ_CACHE_MQ		(1ULL << 32)
#define MQ_CACHE_SIZE		0xffffffffULL
static uint64_t msgsize_cache[MQ_CACHE_FDS];

static uint64_t cache_get(int fd)
{
	if (fd < 0 || fd >= MQ_CACHE_FDS)
		return 0;
	return __atomic_load_n(&msgsize_cache[fd], __ATOMIC_RELAXED);
}

static void cache_set(int fd, uint64_t word)
{
	if (fd >= 0 && fd < MQ_CACHE_FDS)
		__atomic_store_n(&msgsize_cache[fd], word, __ATOMIC_RELAXED);
}

/* The port's attributes; the cache learns its message size. */
static int port_info(mqd_t mqdes, struct mbx_port_info *info)
{
	int ret = mbx_port_info(mqdes, info);

	if (ret < 0)
		return __mq_err(ret);
	cache_set(mqdes, !(info->access & MBX_RECV) ? 0 :
		  info->max_msg_size |
		  (info->state & MBX_STATE_MQ ? MQ_CACHE_MQ : 0));
	return 0;
}

static uint64_t fnv1a64(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (n--) {
		h ^= (unsigned char)*s++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

int mbx_mq_port_name(const char *name, char buf[MBX_NAME_LEN])
{
	size_t n;

	if (!name)
		return __mq_fail(EFAULT);
	if (name[0] != '/')
		return __mq_fail(EINVAL);
	name++;
	n = strnlen(name, NAME_MAX + 1);
	if (n > NAME_MAX)
		return __mq_fail(ENAMETOOLONG);
	if (n == 0)
		return __mq_fail(ENOENT);
	/* Linux looks the name up in its mqueue root: "." and ".." fail. */
	if (memchr(name, '/', n) || !strcmp(name, ".") || !strcmp(name, ".."))
		return __mq_fail(EACCES);
	if (n <= MBX_NAME_MAX) {
		memcpy(buf, name, n + 1);
		return 0;
	}
	memcpy(buf, name, MQ_NAME_KEEP);
	snprintf(buf + MQ_NAME_KEEP, MBX_NAME_LEN - MQ_NAME_KEEP, "~%016llx",
		 (unsigned long long)fnv1a64(name, n));
	return 0;
}

/* The control device; a kernel without mailbox has no message queues. */
static int dev_open(void)
{
	int dev = mbx_dev_open();

	if (dev < 0)
		return __mq_fail(dev == -ENOENT || dev == -ENXIO ? ENODEV :
				 -dev);
	return dev;
}

/*
 * The process's umask, without changing it even for a moment (which
 * umask() would, racing with other threads): from /proc, else umask().
 */
static mode_t get_umask(void)
{
	char buf[512], *p;
	ssize_t n = -1;
	mode_t mask;
	int fd;

	fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	if (n > 0) {
		buf[n] = '\0';
		p = strstr(buf, "\nUmask:\t");
		if (p)
			return (mode_t)strtoul(p + 8, NULL, 8) & 0777;
	}
	mask = umask(022);
	umask(mask);
	return mask;
}

static int open_access(int oflag, unsigned int *access)
{
	switch (oflag & O_ACCMODE) {
	case O_RDONLY:
		*access = MBX_RECV;
		return 0;
	case O_WRONLY:
		*access = MBX_SEND;
		return 0;
	case O_RDWR:
		*access = MBX_SEND | MBX_RECV;
		return 0;
	}
	return __mq_fail(EINVAL);
}

/* Fill the creation attributes of a new queue; -1 (EINVAL) if invalid. */
static int create_attr(struct mbx_port_create *pc, mode_t mode,
		       const struct mq_attr *attr)
{
	long maxmsg = MQ_DEFAULT_MAXMSG, msgsize = MQ_DEFAULT_MSGSIZE;

	if (attr) {
		maxmsg = attr->mq_maxmsg;
		msgsize = attr->mq_msgsize;
		if (maxmsg <= 0 || msgsize <= 0 || maxmsg > UINT32_MAX ||
		    msgsize > UINT32_MAX)
			return __mq_fail(EINVAL);
	}
	pc->capacity = (uint32_t)maxmsg;
	pc->max_msg_size = (uint32_t)msgsize;
	pc->mode = mode & ~get_umask() & 0777;
	return 0;
}

/*
 * Create the port and narrow the fd to the access asked.  The control
 * device *@dev is closed (and set to -1) first, so that the narrowed fd
 * can take its slot; a queue whose fd cannot be made after all is
 * unlinked again, as Linux never leaves one behind a failed mq_open().
 * Returns the fd, -EEXIST if the name is taken (*@dev still open), or -1
 * with errno set.
 */
static int create_port(int *dev, struct mbx_port_create *pc,
		       unsigned int access)
{
	int fd, nfd;

	fd = mbx_port_create(*dev, pc);
	if (fd == -EEXIST)
		return fd;
	if (fd < 0)
		return __mq_fail(-fd);
	if (access == (MBX_SEND | MBX_RECV))
		return fd;
	close(*dev);
	*dev = -1;
	nfd = mbx_port_dup(fd, access | (pc->flags & ~MBX_PORT_MQ));
	close(fd);
	if (nfd < 0)
		mbx_port_unlink(MBX_DEV_AUTO, pc->name);
	return nfd < 0 ? __mq_fail(-nfd) : nfd;
}

/*
 * Open, or with O_CREAT create, the port @pname.  @pc is NULL when the
 * creation attributes are invalid: as on Linux, that is EINVAL only if
 * the queue is to be created (an existing one is opened, or is EEXIST
 * with O_EXCL).  A queue beyond the namespace's queues_max is the
 * kernel's ENOSPC, decided with the name.
 */
static int open_port(int *devp, const char *pname, int oflag,
		     const struct mbx_port_create *pc)
{
	int dev = *devp;
	unsigned int flags = MBX_CLOEXEC | (oflag & O_NONBLOCK ?
					    MBX_NONBLOCK : 0);
	unsigned int access;
	int fd, tries;

	if (open_access(oflag, &access) < 0)
		return -1;
	if (!pc) {
		/* Opens an existing queue; there is none to create. */
		fd = mbx_port_open(dev, pname, access | flags);
		if (fd == -ENOENT)
			return __mq_fail(EINVAL);
		if (fd >= 0 && oflag & O_EXCL) {
			close(fd);
			return __mq_fail(EEXIST);
		}
		return fd < 0 ? __mq_fail(-fd) : fd;
	}
	/* A name can come and go between the two calls: try again. */
	for (tries = 0; tries < 100; tries++) {
		if (oflag & O_CREAT) {
			fd = create_port(devp, (struct mbx_port_create *)pc,
					 access);
			if (fd != -EEXIST)
				return fd;
			if (oflag & O_EXCL)
				return __mq_fail(EEXIST);
		}
		fd = mbx_port_open(dev, pname, access | flags);
		if (fd >= 0)
			return fd;
		if (fd != -ENOENT || !(oflag & O_CREAT))
			return __mq_fail(-fd);
	}
	return __mq_fail(EAGAIN);
}

mqd_t mq_open(const char *name, int oflag, ...)
{
	struct mbx_port_create pc = { .flags = MBX_CLOEXEC | MBX_PORT_MQ };
	struct mq_attr *attr = NULL, abuf;
	struct mbx_port_info info;
	char nbuf[NAME_MAX + 3];
	mode_t mode = 0;
	int dev, fd, bad_attr;

	if (oflag & O_CREAT) {
		va_list ap;

		va_start(ap, oflag);
		mode = va_arg(ap, mode_t);
		attr = va_arg(ap, struct mq_attr *);
		va_end(ap);
	}
	/* As glibc, then Linux: the slash, the attributes, the rest. */
	if (__mq_copy_name(nbuf, name, sizeof(nbuf)) < 0)
		return -1;
	if (nbuf[0] != '/')
		return __mq_fail(EINVAL);
	if (attr) {
		if (__mq_copy_in(&abuf, attr, sizeof(abuf)) < 0)
			return -1;
		attr = &abuf;
	}
	if (mbx_mq_port_name(nbuf, pc.name) < 0)
		return -1;
	bad_attr = oflag & O_CREAT && create_attr(&pc, mode, attr) < 0;
	if (oflag & O_NONBLOCK)
		pc.flags |= MBX_NONBLOCK;

	dev = dev_open();
	if (dev < 0)
		return -1;
	fd = open_port(&dev, pc.name, oflag, bad_attr ? NULL : &pc);
	if (dev >= 0)
		close(dev);
	if (fd >= 0 && port_info(fd, &info) < 0)
		cache_set(fd, 0);
	return fd;
}

__typeof__(mq_open) __mq_v_mq_open MQ_VERSIONS(mq_open, "GLIBC_2.3.4");

/* What glibc's fortified mq_open() calls when given no mode and attr. */
mqd_t __mq_open_2(const char *name, int oflag)
{
	if (oflag & O_CREAT) {
		static const char msg[] =
			"invalid mq_open call: O_CREAT without mode and attr\n";

		if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
			abort();
		abort();
	}
	return mq_open(name, oflag);
}

__typeof__(__mq_open_2) __mq_v___mq_open_2 MQ_VERSIONS(__mq_open_2, "GLIBC_2.7");

int mq_close(mqd_t mqdes)
{
	cache_set(mqdes, 0);
	__mq_notify_forget(mqdes);
	return close(mqdes);
}

__typeof__(mq_close) __mq_v_mq_close MQ_VERSIONS(mq_close, "GLIBC_2.3.4");

int mq_unlink(const char *name)
{
	char pname[MBX_NAME_LEN], nbuf[NAME_MAX + 3];
	int dev, ret;

	if (__mq_copy_name(nbuf, name, sizeof(nbuf)) < 0 ||
	    mbx_mq_port_name(nbuf, pname) < 0)
		return -1;
	dev = dev_open();
	if (dev < 0)
		return -1;
	ret = mbx_port_unlink(dev, pname);
	close(dev);
	/* Not the owner: Linux says EACCES, as for a file in /dev/mqueue. */
	if (ret == -EPERM)
		ret = -EACCES;
	return ret < 0 ? __mq_fail(-ret) : 0;
}

__typeof__(mq_unlink) __mq_v_mq_unlink MQ_VERSIONS(mq_unlink, "GLIBC_2.3.4");

/*
 * An absolute CLOCK_REALTIME deadline as the absolute CLOCK_MONOTONIC one
 * mailbox waits for.  Like Linux, a bad pointer is EFAULT and an invalid
 * timespec EINVAL even when the call would not have to wait.
 */
static int mq_deadline(const struct timespec *uabs, __u64 *mono_ns)
{
	struct timespec rt, mono, tbuf, *abs = &tbuf;
	int64_t rel, now;

	if (__mq_copy_in(&tbuf, uabs, sizeof(tbuf)) < 0)
		return -1;
	if (abs->tv_sec < 0 || abs->tv_nsec < 0 || abs->tv_nsec >= 1000000000L)
		return __mq_fail(EINVAL);
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	now = (int64_t)mono.tv_sec * 1000000000 + mono.tv_nsec;
	if (abs->tv_sec - rt.tv_sec > INT64_MAX / 1000000000 - 2) {
		*mono_ns = INT64_MAX;
		return 0;
	}
	rel = (int64_t)(abs->tv_sec - rt.tv_sec) * 1000000000 +
	      (abs->tv_nsec - rt.tv_nsec);
	if (rel < 0)
		rel = 0;
	*mono_ns = rel > INT64_MAX - now ? INT64_MAX : (uint64_t)(now + rel);
	return 0;
}

/*
 * mq_send(), mq_receive() and their timed forms are cancellation points
 * (pthreads(7)).  As the C library does around its own blocking system
 * calls (glibc 2.36's SYSCALL_CANCEL), cancellation is asynchronous for
 * the time of the call: a request already pending acts at once, one made
 * while the thread sleeps in the kernel interrupts the sleep and acts.
 * A process with one thread, which nobody can cancel, skips this.
 */
static bool cancel_async(int *old)
{
	if (__libc_single_threaded)
		return false;
	pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, old);
	return true;
}

static void cancel_restore(bool async, int old)
{
	if (async)
		pthread_setcanceltype(old, NULL);
}

static int send_args(mqd_t mqdes, struct mbx_send *args)
{
	bool async;
	int ret, old;

	if (args->prio >= MQ_PRIO_MAX)
		return __mq_fail(EINVAL);
	async = cancel_async(&old);
	ret = mbx_send_ex(mqdes, args);
	cancel_restore(async, old);
	return ret < 0 ? __mq_err(ret) : 0;
}

int mq_send(mqd_t mqdes, const char *msg_ptr, size_t msg_len,
	    unsigned int msg_prio)
{
	struct mbx_send args = {
		.buf = (uintptr_t)msg_ptr,
		.len = msg_len,
		.prio = msg_prio,
	};

	return send_args(mqdes, &args);
}

__typeof__(mq_send) __mq_v_mq_send MQ_VERSIONS(mq_send, "GLIBC_2.3.4");

int mq_timedsend(mqd_t mqdes, const char *msg_ptr, size_t msg_len,
		 unsigned int msg_prio, const struct timespec *abs_timeout)
{
	struct mbx_send args = {
		.buf = (uintptr_t)msg_ptr,
		.len = msg_len,
		.prio = msg_prio,
	};

	if (abs_timeout) {
		if (mq_deadline(abs_timeout, &args.timeout_ns) < 0)
			return -1;
		args.flags = MBX_TIMEOUT | MBX_ABSTIME;
	}
	return send_args(mqdes, &args);
}

__typeof__(mq_timedsend) __mq_v_mq_timedsend MQ_VERSIONS(mq_timedsend, "GLIBC_2.3.4");

/*
 * A receive that wants nothing but the payload (no priority, sender or
 * deadline) from an mq port is a read(): the same receive in the kernel
 * without MBX_IOC_RECV's argument block to copy in and results to copy out
 * (a 64-byte stream moves up to a third more messages; docs/BENCHMARKS.md).
 * An mq port's read() fails with EPIPE after a shutdown, as MBX_IOC_RECV
 * does, so 0 is always an empty message (not so on other ports, which
 * mq_open() also opens).  It asks for the port's largest message, the
 * size in @word, not the caller's length: a buffer may be given as larger
 * than it is, as MBX_IOC_RECV and Linux copy only the message.  Only on
 * an fd recv_args() has checked: read() on anything but a port would take
 * bytes that are not a message.
 */
static ssize_t recv_call(mqd_t mqdes, struct mbx_recv *args, uint64_t word,
			 bool payload)
{
	ssize_t ret;

	if (!payload || !(word & MQ_CACHE_MQ))
		return mbx_recv_ex(mqdes, args);
	ret = read(mqdes, (void *)(uintptr_t)args->buf, word & MQ_CACHE_SIZE);
	return ret < 0 ? -errno : ret;
}

static ssize_t recv_args(mqd_t mqdes, struct mbx_recv *args,
			 unsigned int *msg_prio, pid_t *pid, uid_t *uid)
{
	uint64_t word = cache_get(mqdes);
	struct mbx_port_info info;
	ssize_t ret;
	bool async;
	int old;

	if (!word || args->len < (word & MQ_CACHE_SIZE)) {
		if (port_info(mqdes, &info) < 0)
			return -1;
		if (!(info.access & MBX_RECV))
			return __mq_fail(EBADF);
		if (args->len < info.max_msg_size)
			return __mq_fail(EMSGSIZE);
		word = cache_get(mqdes);
	}
	async = cancel_async(&old);
	ret = recv_call(mqdes, args, word,
			!msg_prio && !pid && !uid && !args->flags);
	cancel_restore(async, old);
	if (ret < 0)
		return __mq_err(ret);
	if (msg_prio)
		*msg_prio = args->prio;
	if (pid)
		*pid = args->pid;
	if (uid)
		*uid = args->uid;
	return ret;
}

ssize_t mq_receive(mqd_t mqdes, char *msg_ptr, size_t msg_len,
		   unsigned int *msg_prio)
{
	struct mbx_recv args = { .buf = (uintptr_t)msg_ptr, .len = msg_len };

	return recv_args(mqdes, &args, msg_prio, NULL, NULL);
}

__typeof__(mq_receive) __mq_v_mq_receive MQ_VERSIONS(mq_receive, "GLIBC_2.3.4");

ssize_t mq_timedreceive(mqd_t mqdes, char *msg_ptr, size_t msg_len,
			unsigned int *msg_prio,
			const struct timespec *abs_timeout)
{
	struct mbx_recv args = { .buf = (uintptr_t)msg_ptr, .len = msg_len };

	if (abs_timeout) {
		if (mq_deadline(abs_timeout, &args.timeout_ns) < 0)
			return -1;
		args.flags = MBX_TIMEOUT | MBX_ABSTIME;
	}
	return recv_args(mqdes, &args, msg_prio, NULL, NULL);
}

__typeof__(mq_timedreceive) __mq_v_mq_timedreceive MQ_VERSIONS(mq_timedreceive, "GLIBC_2.3.4");

ssize_t mbx_mq_receive_cred(mqd_t mqdes, char *msg_ptr, size_t msg_len,
			    unsigned int *msg_prio, pid_t *pid, uid_t *uid)
{
	struct mbx_recv args = { .buf = (uintptr_t)msg_ptr, .len = msg_len };

	return recv_args(mqdes, &args, msg_prio, pid, uid);
}

/* mq_getattr() into the library's own @attr. */
static int get_attr(mqd_t mqdes, struct mq_attr *attr)
{
	struct mbx_port_info info;
	int fl;

	if (port_info(mqdes, &info) < 0)
		return -1;
	fl = fcntl(mqdes, F_GETFL);
	if (fl < 0)
		return -1;
	memset(attr, 0, sizeof(*attr));
	attr->mq_flags = fl & O_NONBLOCK;
	attr->mq_maxmsg = info.capacity;
	attr->mq_msgsize = info.max_msg_size;
	attr->mq_curmsgs = info.queued;
	return 0;
}

int mq_getattr(mqd_t mqdes, struct mq_attr *mqstat)
{
	struct mq_attr attr;

	if (get_attr(mqdes, &attr) < 0)
		return -1;
	return __mq_copy_out(mqstat, &attr, sizeof(attr));
}

__typeof__(mq_getattr) __mq_v_mq_getattr MQ_VERSIONS(mq_getattr, "GLIBC_2.3.4");

int mq_setattr(mqd_t mqdes, const struct mq_attr *mqstat,
	       struct mq_attr *omqstat)
{
	struct mq_attr old, new;
	int fl;

	/* In Linux's order: EFAULT, EINVAL, EBADF, then the change. */
	if (mqstat) {
		if (__mq_copy_in(&new, mqstat, sizeof(new)) < 0)
			return -1;
		/* Only O_NONBLOCK can change, and Linux rejects other bits. */
		if (new.mq_flags & ~(long)O_NONBLOCK)
			return __mq_fail(EINVAL);
	}
	if (get_attr(mqdes, &old) < 0)
		return -1;
	if (mqstat) {
		fl = fcntl(mqdes, F_GETFL);
		if (fl < 0)
			return -1;
		fl = (fl & ~O_NONBLOCK) | (new.mq_flags & O_NONBLOCK);
		if (fcntl(mqdes, F_SETFL, fl) < 0)
			return -1;
	}
	if (omqstat)
		return __mq_copy_out(omqstat, &old, sizeof(old));
	return 0;
}

__typeof__(mq_setattr) __mq_v_mq_setattr MQ_VERSIONS(mq_setattr, "GLIBC_2.3.4");
