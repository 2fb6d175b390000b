// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * libmailbox-mq: mq_notify().
 *
 * The kernel holds the registration (MBX_IOC_NOTIFY): one process per
 * queue (EBUSY for another), fired once when a message reaches the empty
 * queue while no receiver waits.  SIGEV_SIGNAL and SIGEV_NONE are the
 * kernel's MBX_NOTIFY_SIGNAL and MBX_NOTIFY_NONE.
 *
 * SIGEV_THREAD is done here, as glibc does it over a netlink socket: the
 * registration names an eventfd of this process (MBX_NOTIFY_EVENTFD), and
 * one helper thread, started on first use with every signal blocked, waits
 * on all of them with epoll.  When one fires the helper forgets it and
 * starts a detached thread, with the attributes the caller gave, that runs
 * sigev_notify_function(sigev_value).  mq_notify(NULL) and mq_close()
 * forget the caller's pending SIGEV_THREAD registration on that queue,
 * through whatever descriptor it was made (the kernel drops it when the
 * process closes any descriptor of the queue); a new one forgets those
 * of the queue that can no longer fire.  A fork()ed child starts with
 * none, and its own helper.
 */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "internal.h"

/* A pending SIGEV_THREAD registration. */
struct mq_thread_reg {
	struct mq_thread_reg *next;
	uint64_t port;		/* the queue's port id */
	int mqd;
	int efd;
	void (*fn)(union sigval value);
	union sigval value;
	pthread_attr_t attr;
	int has_attr;
};

/* Protects everything below. */
static pthread_mutex_t notify_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mq_thread_reg *regs;
static int helper_epfd = -1;
static int atfork_done;

static void reg_free(struct mq_thread_reg *reg)
{
	close(reg->efd);
	if (reg->has_attr)
		pthread_attr_destroy(&reg->attr);
	free(reg);
}

/* Whether @reg is a pending registration; under notify_lock. */
static int reg_listed(struct mq_thread_reg *reg)
{
	struct mq_thread_reg *r;

	for (r = regs; r; r = r->next)
		if (r == reg)
			return 1;
	return 0;
}

/* Take @reg off the list, if it is still there; under notify_lock. */
static int reg_unlink(struct mq_thread_reg *reg)
{
	struct mq_thread_reg **p;

	for (p = &regs; *p; p = &(*p)->next) {
		if (*p == reg) {
			*p = reg->next;
			epoll_ctl(helper_epfd, EPOLL_CTL_DEL, reg->efd, NULL);
			return 1;
		}
	}
	return 0;
}

/* The port id of descriptor @fd, or 0. */
static uint64_t port_id(int fd)
{
	struct mbx_port_info info;

	return mbx_port_info(fd, &info) ? 0 : info.id;
}

/*
 * Forget the registrations of @port (through @fd when its id is unknown),
 * but @keep; with @unfired, only those that have not fired (their eventfd
 * reads 0), which the helper is not about to run.  Under notify_lock.
 */
static void forget(int fd, uint64_t port, struct mq_thread_reg *keep,
		   bool unfired)
{
	struct pollfd pfd = { .events = POLLIN };
	struct mq_thread_reg **p, *reg;

	for (p = &regs; *p;) {
		reg = *p;
		pfd.fd = reg->efd;
		if (reg == keep || (port ? reg->port != port : reg->mqd != fd) ||
		    (unfired && poll(&pfd, 1, 0) != 0)) {
			p = &reg->next;
			continue;
		}
		*p = reg->next;
		epoll_ctl(helper_epfd, EPOLL_CTL_DEL, reg->efd, NULL);
		reg_free(reg);
	}
}

void __mq_notify_forget(int fd)
{
	uint64_t port = port_id(fd);

	pthread_mutex_lock(&notify_lock);
	forget(fd, port, NULL, false);
	pthread_mutex_unlock(&notify_lock);
}

static void *notify_thread(void *arg)
{
	struct mq_thread_reg *reg = arg;
	void (*fn)(union sigval) = reg->fn;
	union sigval value = reg->value;
	sigset_t none;

	reg_free(reg);
	sigemptyset(&none);
	pthread_sigmask(SIG_SETMASK, &none, NULL);
	fn(value);
	return NULL;
}

static void notify_run(struct mq_thread_reg *reg)
{
	pthread_attr_t def, *attr = reg->has_attr ? &reg->attr : &def;
	bool own = !reg->has_attr;	/* @reg is the new thread's to free */
	pthread_t t;

	if (own)
		pthread_attr_init(&def);
	/* As glibc does: the thread is detached, whatever the attributes. */
	pthread_attr_setdetachstate(attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, attr, notify_thread, reg))
		reg_free(reg);
	if (own)
		pthread_attr_destroy(&def);
}

static void *helper(void *arg)
{
	int epfd = (int)(intptr_t)arg;
	struct epoll_event ev[16];
	struct mq_thread_reg *reg;
	uint64_t count;
	int i, n, mine;

	for (;;) {
		n = epoll_wait(epfd, ev, 16, -1);
		for (i = 0; i < n; i++) {
			reg = ev[i].data.ptr;
			/*
			 * Forgotten meanwhile (mq_close(), mq_notify(NULL)), or
			 * a new registration at the same address that has not
			 * fired: not listed, or its eventfd still reads 0.
			 */
			pthread_mutex_lock(&notify_lock);
			mine = reg_listed(reg) &&
			       read(reg->efd, &count, sizeof(count)) > 0;
			if (mine)
				reg_unlink(reg);
			pthread_mutex_unlock(&notify_lock);
			if (mine)
				notify_run(reg);
		}
	}
	return NULL;
}

/* The child of fork() has no helper and no registrations. */
static void notify_atfork_child(void)
{
	struct mq_thread_reg *reg;

	pthread_mutex_init(&notify_lock, NULL);
	while ((reg = regs)) {
		regs = reg->next;
		reg_free(reg);
	}
	if (helper_epfd >= 0)
		close(helper_epfd);
	helper_epfd = -1;
}

/* Start the helper thread if need be; under notify_lock.  0 or errno. */
static int helper_start(void)
{
	sigset_t all, old;
	pthread_attr_t attr;
	pthread_t t;
	int epfd, err;

	if (helper_epfd >= 0)
		return 0;
	if (!atfork_done) {
		err = pthread_atfork(NULL, NULL, notify_atfork_child);
		if (err)
			return err;
		atfork_done = 1;
	}
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		return errno;
	sigfillset(&all);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&t, &attr, helper, (void *)(intptr_t)epfd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (err) {
		close(epfd);
		return err;
	}
	helper_epfd = epfd;
	return 0;
}

/* Copy the attributes a notification thread is to be made with. */
static int attr_copy(pthread_attr_t *dst, const pthread_attr_t *src)
{
	struct sched_param param;
	size_t size;
	int v;

	if (pthread_attr_init(dst))
		return -1;
	if (!pthread_attr_getstacksize(src, &size))
		pthread_attr_setstacksize(dst, size);
	if (!pthread_attr_getguardsize(src, &size))
		pthread_attr_setguardsize(dst, size);
	if (!pthread_attr_getinheritsched(src, &v))
		pthread_attr_setinheritsched(dst, v);
	if (!pthread_attr_getschedpolicy(src, &v))
		pthread_attr_setschedpolicy(dst, v);
	if (!pthread_attr_getschedparam(src, &param))
		pthread_attr_setschedparam(dst, &param);
	if (!pthread_attr_getscope(src, &v))
		pthread_attr_setscope(dst, v);
	return 0;
}

static struct mq_thread_reg *reg_new(mqd_t mqdes, const struct sigevent *sev)
{
	struct mq_thread_reg *reg = calloc(1, sizeof(*reg));

	if (!reg) {
		errno = ENOMEM;
		return NULL;
	}
	reg->mqd = mqdes;
	reg->fn = sev->sigev_notify_function;
	reg->value = sev->sigev_value;
	if (sev->sigev_notify_attributes) {
		if (attr_copy(&reg->attr, sev->sigev_notify_attributes)) {
			free(reg);
			errno = ENOMEM;
			return NULL;
		}
		reg->has_attr = 1;
	}
	reg->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (reg->efd < 0) {
		if (reg->has_attr)
			pthread_attr_destroy(&reg->attr);
		free(reg);
		return NULL;
	}
	return reg;
}

/*
 * A failure of MBX_IOC_NOTIFY, whose requests the library has checked:
 * EINVAL is then a port not made by mq_open(), which is not a message
 * queue descriptor.
 */
static int notify_err(int ret)
{
	return __mq_err(ret == -EINVAL ? -EBADF : ret);
}

static int notify_thread_register(mqd_t mqdes, const struct sigevent *sev)
{
	struct mbx_notify args = { .type = MBX_NOTIFY_EVENTFD };
	struct epoll_event ev = { .events = EPOLLIN };
	struct mq_thread_reg *reg;
	int err, ret;

	reg = reg_new(mqdes, sev);
	if (!reg)
		return -1;
	reg->port = port_id(mqdes);
	args.fd = reg->efd;
	ev.data.ptr = reg;

	pthread_mutex_lock(&notify_lock);
	err = helper_start();
	if (!err && epoll_ctl(helper_epfd, EPOLL_CTL_ADD, reg->efd, &ev) < 0)
		err = errno;
	if (err) {
		pthread_mutex_unlock(&notify_lock);
		reg_free(reg);
		return __mq_fail(err == ENOMEM || err == EAGAIN ? err : ENOMEM);
	}
	/* Listed before the kernel may fire it, so the helper finds it. */
	reg->next = regs;
	regs = reg;
	ret = mbx_notify(mqdes, &args);
	if (ret < 0) {
		reg_unlink(reg);
		reg_free(reg);
	} else if (reg->port) {
		/* The kernel holds one per queue: the others cannot fire. */
		forget(mqdes, reg->port, reg, true);
	}
	pthread_mutex_unlock(&notify_lock);
	return ret < 0 ? notify_err(ret) : 0;
}

int mq_notify(mqd_t mqdes, const struct sigevent *usevp)
{
	struct mbx_notify args = { 0 };
	struct sigevent sev, *sevp = &sev;
	int ret;

	if (!usevp) {
		args.flags = MBX_NOTIFY_REMOVE;
		ret = mbx_notify(mqdes, &args);
		if (ret < 0)
			return notify_err(ret);
		__mq_notify_forget(mqdes);
		return 0;
	}
	if (__mq_copy_in(&sev, usevp, sizeof(sev)) < 0)
		return -1;
	switch (sevp->sigev_notify) {
	case SIGEV_NONE:
		args.type = MBX_NOTIFY_NONE;
		break;
	case SIGEV_SIGNAL:
		args.type = MBX_NOTIFY_SIGNAL;
		args.signo = sevp->sigev_signo;
		args.value = (uintptr_t)sevp->sigev_value.sival_ptr;
		if (args.signo < 0 || args.signo >= NSIG)
			return __mq_fail(EINVAL);
		break;
	case SIGEV_THREAD:
		return notify_thread_register(mqdes, sevp);
	default:
		return __mq_fail(EINVAL);
	}
	ret = mbx_notify(mqdes, &args);
	return ret < 0 ? notify_err(ret) : 0;
}

__typeof__(mq_notify) __mq_v_mq_notify MQ_VERSIONS(mq_notify, "GLIBC_2.3.4");
