// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_test: the rest of what a worker thread does with its fds: read
 * and write, the mmap family and touching mapped pages, poll and epoll,
 * close and dup over fds other threads use, opening ports and devices,
 * passing fds with SCM_RIGHTS, and fork.  See fuzz_test.c.
 */
#define _GNU_SOURCE
#include "fuzz.h"

/* ---- read, write ------------------------------------------------------ */

void op_rw(struct thread *t)
{
	int fd = pick_fd(t, fz_pct(t, 70) ? M_PORT : 0);
	uint64_t len = pick_len(t), p = data_ptr(t);
	unsigned int c = fz_below(t, 100);
	struct iovec iov[3];
	int i;

	if (c < 40) {
		fz_begin(t, "read(%d, %#llx, %llu)", fd, (unsigned long long)p,
			 (unsigned long long)len);
		fz_end(t, SYS(read(fd, (void *)p, len)));
	} else if (c < 80) {
		fz_begin(t, "write(%d, %#llx, %llu)", fd, (unsigned long long)p,
			 (unsigned long long)len);
		fz_end(t, SYS(write(fd, (void *)p, len)));
	} else if (c < 88) {
		fz_begin(t, "pread/pwrite(%d)", fd);
		if (c & 1)
			fz_end(t, SYS(pread(fd, (void *)p, len, fz_below(t, 4096))));
		else
			fz_end(t, SYS(pwrite(fd, (void *)p, len, fz_below(t, 4096))));
	} else {
		for (i = 0; i < 3; i++) {
			iov[i].iov_base = (void *)data_ptr(t);
			iov[i].iov_len = fz_below(t, 2) ? fz_below(t, 600) : pick_len(t);
		}
		fz_begin(t, "readv/writev(%d)", fd);
		if (c & 1)
			fz_end(t, SYS(readv(fd, iov, 1 + fz_below(t, 3))));
		else
			fz_end(t, SYS(writev(fd, iov, 1 + fz_below(t, 3))));
	}
}

/* ---- mappings --------------------------------------------------------- */

void op_map(struct thread *t)
{
	static const int prots[] = {
		PROT_READ, PROT_READ | PROT_WRITE, PROT_NONE, PROT_WRITE,
		PROT_READ | PROT_EXEC, PROT_READ | PROT_WRITE | PROT_EXEC,
	};
	struct worker *w = t->w;
	unsigned int c = fz_below(t, 100);
	struct mapping *m;
	int i, s, fd, prot;
	size_t len, cut;
	void *p;

	if (c < 35) {
		s = pick_slot(t, (1U << K_POOLPORT) | (1U << K_FILE));
		fd = slot_fd(t, s);
		len = w->pool_size[s] && fz_pct(t, 75) ? w->pool_size[s] :
		      fz_pct(t, 50) ? PG * (1 + fz_below(t, 20)) : pick_len(t);
		prot = prots[fz_below(t, 6)];
		fz_begin(t, "mmap(%zu, %#x, %d)", len, prot, fd);
		pthread_mutex_lock(&w->mlock);
		p = mmap(NULL, len, prot,
			 fz_pct(t, 90) ? MAP_SHARED : MAP_PRIVATE |
			 (fz_pct(t, 10) ? MAP_POPULATE : 0), fd,
			 fz_pct(t, 80) ? 0 : fz_pct(t, 50) ? PG * fz_below(t, 3) :
			 (off_t)0x10000000 * (1 + fz_below(t, 4)));
		fz_end(t, p == MAP_FAILED ? -errno : 0);
		if (p != MAP_FAILED) {
			i = fz_below(t, NMAP);
			if (w->maps[i].addr)
				munmap(w->maps[i].addr, w->maps[i].len);
			w->maps[i].addr = p;
			w->maps[i].len = (len + PG - 1) & ~(PG - 1);
			w->maps[i].prot = prot;
		}
		pthread_mutex_unlock(&w->mlock);
		return;
	}

	pthread_mutex_lock(&w->mlock);
	m = &w->maps[fz_below(t, NMAP)];
	if (!m->addr) {
		pthread_mutex_unlock(&w->mlock);
		return;
	}
	if (c < 50) {
		/* All of it, its head or its tail. */
		cut = m->len > PG && fz_pct(t, 50) ?
		      PG * (1 + fz_below(t, m->len / PG - 1)) : m->len;
		fz_begin(t, "munmap(%p, %zu)", m->addr, cut);
		if (fz_pct(t, 50) || cut == m->len) {
			fz_end(t, SYS(munmap(m->addr, cut)));
			m->addr += cut;
		} else {
			fz_end(t, SYS(munmap(m->addr + m->len - cut, cut)));
		}
		m->len -= cut;
		if (!m->len)
			m->addr = NULL;
	} else if (c < 70) {
		prot = prots[fz_below(t, 6)];
		fz_begin(t, "mprotect(%p, %zu, %#x)", m->addr, m->len, prot);
		if (!fz_end(t, SYS(mprotect(m->addr, m->len, prot))))
			m->prot = prot;
	} else if (c < 85) {
		len = fz_pct(t, 50) ? m->len : PG * (1 + fz_below(t, 32));
		fz_begin(t, "mremap(%p, %zu, %zu)", m->addr, m->len, len);
		p = mremap(m->addr, m->len, len, MREMAP_MAYMOVE);
		fz_end(t, p == MAP_FAILED ? -errno : 0);
		if (p != MAP_FAILED) {
			m->addr = p;
			m->len = len;
		}
	} else {
		fz_begin(t, "madvise(%p, %zu)", m->addr, m->len);
		fz_end(t, SYS(madvise(m->addr, m->len,
				      fz_pct(t, 70) ? MADV_DONTNEED : MADV_WILLNEED)));
	}
	pthread_mutex_unlock(&w->mlock);
}

/* Read or write a mapped page; faults are caught (and counted). */
void op_touch(struct thread *t)
{
	struct worker *w = t->w;
	struct mapping *m;
	uint8_t *p;

	pthread_mutex_lock(&w->mlock);
	m = &w->maps[fz_below(t, NMAP)];
	if (m->addr) {
		p = m->addr + fz_below(t, m->len);
		__atomic_store_n(&t->in_touch, 1, __ATOMIC_RELAXED);
		if (sigsetjmp(t->jb, 1) == 0) {
			if ((m->prot & PROT_WRITE) && fz_pct(t, 50))
				__atomic_store_n(p, (uint8_t)fz_rnd(t),
						 __ATOMIC_RELAXED);
			else
				__atomic_load_n(p, __ATOMIC_RELAXED);
		} else {
			__atomic_add_fetch(&w->sh->faults, 1, __ATOMIC_RELAXED);
		}
		__atomic_store_n(&t->in_touch, 0, __ATOMIC_RELAXED);
		t->st->calls++;
	}
	pthread_mutex_unlock(&w->mlock);
}

/* ---- poll, epoll -------------------------------------------------------- */

void op_poll(struct thread *t)
{
	struct pollfd pfd[4];
	int n = 1 + fz_below(t, 4), i;
	struct timespec ts;

	for (i = 0; i < n; i++) {
		pfd[i].fd = pick_fd(t, fz_pct(t, 70) ? M_PORT : 0);
		pfd[i].events = fz_pct(t, 80) ? (short)(POLLIN | POLLOUT) :
					     (short)fz_rnd(t);
		pfd[i].revents = 0;
	}
	fz_begin(t, "poll(%d fds, first %d)", n, pfd[0].fd);
	if (fz_pct(t, 5)) {
		fz_end(t, SYS(poll((void *)data_ptr(t), n, 0)));
	} else if (fz_pct(t, 30)) {
		ts.tv_sec = 0;
		ts.tv_nsec = fz_below(t, 3000000);
		fz_end(t, SYS(ppoll(pfd, n, &ts, NULL)));
	} else {
		fz_end(t, SYS(poll(pfd, n, fz_below(t, 4))));
	}
}

void op_epoll(struct thread *t)
{
	static const int ops[] = { EPOLL_CTL_ADD, EPOLL_CTL_MOD, EPOLL_CTL_DEL };
	int ep = slot_fd(t, pick_slot(t, 1U << K_EPOLL));
	struct epoll_event ev[8];
	int fd;

	if (fz_pct(t, 60)) {
		fd = pick_fd(t, fz_pct(t, 70) ? M_PORT : 0);
		memset(ev, 0, sizeof(ev));
		ev[0].events = fz_pct(t, 80) ? EPOLLIN | EPOLLOUT |
				(fz_pct(t, 30) ? EPOLLET : 0) |
				(fz_pct(t, 10) ? EPOLLONESHOT : 0) :
				(uint32_t)fz_rnd(t);
		ev[0].data.u64 = fz_rnd(t);
		fz_begin(t, "epoll_ctl(%d, %d)", ep, fd);
		fz_end(t, SYS(epoll_ctl(ep, ops[fz_below(t, 3)], fd, ev)));
	} else {
		fz_begin(t, "epoll_wait(%d)", ep);
		fz_end(t, SYS(epoll_wait(ep, ev, 8, fz_below(t, 4))));
	}
}

/* ---- fds --------------------------------------------------------------- */

void op_fd(struct thread *t)
{
	unsigned int c = fz_below(t, 100);
	int s = fz_below(t, NSLOT), fd = slot_fd(t, s), other, ret;

	if (c < 35) {
		/* Close; the stale number stays half the time. */
		if (fd <= 2)
			return;
		fz_begin(t, "close(%d)", fd);
		fz_end(t, SYS(close(fd)));
		if (fz_pct(t, 50))
			t->w->kind[s] = K_STALE;
		else
			__atomic_compare_exchange_n(&t->w->fds[s], &fd, -1, 0,
						    __ATOMIC_RELAXED,
						    __ATOMIC_RELAXED);
	} else if (c < 50) {
		fz_begin(t, "dup(%d)", fd);
		ret = fz_end(t, SYS(fcntl(fd, fz_pct(t, 50) ? F_DUPFD : F_DUPFD_CLOEXEC,
					  3)));
		put_fd(t, ret, t->w->kind[s], t->w->pool_size[s]);
	} else if (c < 72) {
		/* Over another slot's fd, maybe one a thread blocks on. */
		other = slot_fd(t, fz_below(t, NSLOT));
		if (other <= 2 || fd == other)
			return;
		fz_begin(t, "dup2(%d, %d)", fd, other);
		if (fz_pct(t, 50))
			fz_end(t, SYS(dup2(fd, other)));
		else
			fz_end(t, SYS(dup3(fd, other, O_CLOEXEC)));
	} else if (c < 90) {
		int fl;

		fz_begin(t, "fcntl(%d, F_SETFL)", fd);
		fl = fcntl(fd, F_GETFL);
		if (fl >= 0)
			fz_end(t, SYS(fcntl(fd, F_SETFL, fl ^ O_NONBLOCK)));
		else
			fz_end(t, -errno);
	} else {
		/* Reopen through /proc: anon inodes must refuse cleanly. */
		char path[64];

		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		fz_begin(t, "open(%s)", path);
		ret = fz_end(t, SYS(open(path, fz_pct(t, 50) ? O_RDWR : O_RDONLY)));
		put_fd(t, ret, t->w->kind[s], t->w->pool_size[s]);
	}
}

/* A port; @name: an index into the round's names, or -1 for none. */
int new_port(struct thread *t, uint32_t cap, uint64_t pool, int name)
{
	struct mbx_port_create c;

	memset(&c, 0, sizeof(c));
	c.capacity = cap;
	c.max_msg_size = fz_pct(t, 50) ? 256 : 0;
	c.pool_size = pool;
	c.mode = 0666;
	c.flags = fz_pct(t, 20) ? MBX_NONBLOCK : 0;
	if (name >= 0)
		strcpy(c.name, t->w->names[name]);
	return mbx_port_create(MBX_DEV_AUTO, &c);
}

void op_open(struct thread *t)
{
	static const int dev_modes[] = { O_RDWR, O_RDONLY, O_WRONLY };
	unsigned int c = fz_below(t, 100);
	int fd, p[2];

	fz_begin(t, "open kind %u", c);
	if (c < 30) {
		uint64_t pool = fz_pct(t, 50) ? PG * (1 + fz_below(t, 16)) : 0;

		fd = new_port(t, fz_pct(t, 25) ? 0 : 1 + fz_below(t, 8), pool,
			      fz_pct(t, 40) ? (int)fz_below(t, NNAME) : -1);
		fz_end(t, fd);
		put_fd(t, fd, pool ? K_POOLPORT : K_PORT, pool);
	} else if (c < 45) {
		fd = mbx_port_open(MBX_DEV_AUTO, t->w->names[fz_below(t, NNAME)],
				   (1 + fz_below(t, 3)) * MBX_SEND |
				   (fz_pct(t, 20) ? MBX_NONBLOCK : 0));
		fz_end(t, fd);
		put_fd(t, fd, K_PORT, 0);
	} else if (c < 55) {
		fd = open(MBX_DEVICE_PATH, dev_modes[fz_below(t, 3)] |
			  (fz_pct(t, 30) ? O_NONBLOCK : 0));
		fz_end(t, fd < 0 ? -errno : fd);
		put_fd(t, fd, K_DEV, 0);
	} else if (c < 65) {
		if (fz_end(t, SYS(pipe2(p, fz_pct(t, 50) ? O_NONBLOCK : 0))) == 0) {
			put_fd(t, p[0], K_PIPE, 0);
			put_fd(t, p[1], K_PIPE, 0);
		}
	} else if (c < 72) {
		fd = open(t->w->path, O_RDWR | O_CREAT, 0600);
		fz_end(t, fd < 0 ? -errno : fd);
		put_fd(t, fd, K_FILE, 0);
	} else if (c < 76) {
		fd = open("/dev/null", O_RDWR);
		fz_end(t, fd < 0 ? -errno : fd);
		put_fd(t, fd, K_NULL, 0);
	} else if (c < 80) {
		fd = eventfd(0, EFD_NONBLOCK);
		fz_end(t, fd < 0 ? -errno : fd);
		put_fd(t, fd, K_EVENT, 0);
	} else if (c < 85) {
		fd = epoll_create1(0);
		fz_end(t, fd < 0 ? -errno : fd);
		put_fd(t, fd, K_EPOLL, 0);
	} else if (c < 90) {
		if (fz_end(t, SYS(socketpair(AF_UNIX, fz_pct(t, 50) ? SOCK_DGRAM :
					     SOCK_STREAM, 0, p))) == 0) {
			put_fd(t, p[0], K_SOCK, 0);
			put_fd(t, p[1], K_SOCK, 0);
		}
	} else {
		/* A narrowed fd of an existing port. */
		struct mbx_port_dup d = {
			.flags = (1 + fz_below(t, 3)) * MBX_SEND,
		};
		int s = pick_slot(t, M_PORT);

		fd = fz_end(t, t_ioctl(slot_fd(t, s), MBX_IOC_PORT_DUP, &d));
		put_fd(t, fd, t->w->kind[s], t->w->pool_size[s]);
	}
}

/* Pass fds over a unix socket; receive some back; leave some in flight. */
void op_scm(struct thread *t)
{
	int sock = slot_fd(t, pick_slot(t, 1U << K_SOCK));
	char cbuf[CMSG_SPACE(3 * sizeof(int))];
	struct cmsghdr *cm;
	struct msghdr mh;
	struct iovec iov;
	char byte = 'x';
	int n, i, *fds;
	long ret;

	memset(&mh, 0, sizeof(mh));
	memset(cbuf, 0, sizeof(cbuf));
	iov.iov_base = &byte;
	iov.iov_len = 1;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	if (fz_pct(t, 55)) {
		n = 1 + fz_below(t, 3);
		mh.msg_controllen = CMSG_SPACE(n * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(n * sizeof(int));
		fds = (int *)CMSG_DATA(cm);
		for (i = 0; i < n; i++)
			fds[i] = pick_fd(t, M_PORT);
		fz_begin(t, "sendmsg(%d, %d fds)", sock, n);
		ret = fz_end(t, SYS(sendmsg(sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL)));
		if (ret > 0)
			__atomic_add_fetch(&t->w->sh->fds_passed, n,
					   __ATOMIC_RELAXED);
		return;
	}
	mh.msg_controllen = sizeof(cbuf);
	fz_begin(t, "recvmsg(%d)", sock);
	ret = fz_end(t, SYS(recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC)));
	if (ret < 0)
		return;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		fds = (int *)CMSG_DATA(cm);
		for (i = 0; i < n; i++)
			put_fd(t, fds[i], K_PORT, 0);
	}
}

/* A child that makes a few calls on what it inherited, then exits. */
void op_fork(struct thread *t)
{
	pid_t pid;
	int i;

	fz_begin(t, "fork");
	pid = fork();
	if (pid) {
		fz_end(t, pid < 0 ? -errno : 0);
		return;
	}
	/* The child: it must not touch the shared state of its thread. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	alarm(2);
	for (i = 0; i < 8; i++) {
		int fd = slot_fd(t, fz_below(t, NSLOT));
		struct mbx_recv r = {
			.buf = (uintptr_t)t->w->sink, .len = 4096,
			.flags = MBX_NONBLOCK | (fz_pct(t, 50) ? MBX_RECV_INPLACE : 0),
		};
		struct mbx_buf b = { .len = 64, .flags = MBX_NONBLOCK };

		switch (fz_below(t, 4)) {
		case 0:
			ioctl(fd, MBX_IOC_RECV, &r);
			break;
		case 1:
			ioctl(fd, MBX_IOC_BUF_ALLOC, &b);
			break;
		case 2:
			write(fd, t->w->sink, fz_below(t, 300));
			break;
		default:
			if (fd > 2)
				close(fd);
		}
	}
	_exit(0);
}
