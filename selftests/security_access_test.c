// SPDX-License-Identifier: GPL-2.0
/*
 * Security (issue 6, item 5): an fd gives its access and nothing more, by
 * any route.  A receive-only fd cannot write the pool (MAP_PRIVATE,
 * /proc/self/mem, ptrace, process_vm_writev, reopening through /proc,
 * map_files, mremap, madvise, the kernel writing on its behalf); a
 * send-only fd cannot receive; an fd passed to another user with
 * SCM_RIGHTS keeps exactly its access; and CAP_IPC_OWNER neither widens
 * an fd nor counts from a child user namespace.
 *
 * See security_test.c for the rest.
 */
#define _GNU_SOURCE
#include "security/sec.h"

/*
 * 4. An fd gives its access, and nothing more, by any route
 */

#define RO_POOL	(4 * PAGE)

static int pool_same(const uint8_t *p, size_t len, uint32_t seed)
{
	return t_check(p, len, seed);
}

TEST_F(sec, receive_only_fd_cannot_write_the_pool_by_any_route)
{
	uint8_t *w, *ro, *p, byte = 0x5a;
	char path[128], rbuf[16];
	struct iovec liov, riov;
	struct mbx_recv *rr;
	struct mbx_recv r;
	int fd, rfd, mem, o, pp[2], status;
	long word;
	pid_t pid;

	fd = t_pool_port(4, 64, RO_POOL, self->name, 0644, 0);
	ASSERT_LE(0, fd);
	w = map_pool(fd, RO_POOL, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, w);
	t_fill(w, RO_POOL, 77);
	rfd = mbx_port_open(MBX_DEV_AUTO, self->name, MBX_RECV);
	ASSERT_LE(0, rfd);
	ro = map_pool(rfd, RO_POOL, PROT_READ);
	ASSERT_NE(NULL, ro);
	ASSERT_TRUE(pool_same(ro, RO_POOL, 77));

	/* MAP_PRIVATE, writable or not: refused, so no private copy either */
	p = mmap(NULL, RO_POOL, PROT_READ | PROT_WRITE, MAP_PRIVATE, rfd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	if (p != MAP_FAILED) {
		p[0] = 1;
		munmap(p, RO_POOL);
	}
	p = mmap(NULL, RO_POOL, PROT_READ, MAP_PRIVATE, rfd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	if (p != MAP_FAILED)
		munmap(p, RO_POOL);

	/* /proc/self/mem uses FOLL_FORCE: still no write to a shared page */
	mem = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, mem);
	errno = 0;
	EXPECT_EQ(-1, pwrite(mem, &byte, 1, (off_t)(uintptr_t)(ro + 10)));
	TH_LOG("/proc/self/mem write to the read-only pool: %s",
	       strerror(errno));
	EXPECT_EQ(1, pread(mem, &byte, 1, (off_t)(uintptr_t)(ro + 10)));
	EXPECT_EQ(w[10], byte);
	close(mem);

	/* process_vm_writev(): no FOLL_FORCE, EFAULT (where it exists) */
	byte = 0x5a;
	liov = (struct iovec){ .iov_base = &byte, .iov_len = 1 };
	riov = (struct iovec){ .iov_base = ro + 20, .iov_len = 1 };
	if (process_vm_readv(getpid(), &liov, 1, &riov, 1, 0) != 1) {
		TH_LOG("no process_vm_readv/writev in this kernel");
	} else {
		byte = 0x5a;
		errno = 0;
		EXPECT_EQ(-1, process_vm_writev(getpid(), &liov, 1, &riov, 1,
						0));
		EXPECT_EQ(EFAULT, errno);
	}

	/* ptrace(POKEDATA) into a child's copy of the mapping */
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL))
			_exit(T_BAD_SETUP);
		raise(SIGSTOP);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSTOPPED(status));
	errno = 0;
	EXPECT_EQ(-1, ptrace(PTRACE_POKEDATA, pid, ro + 64, (void *)-1L));
	TH_LOG("ptrace POKEDATA to the read-only pool: %s", strerror(errno));
	errno = 0;
	word = ptrace(PTRACE_PEEKDATA, pid, ro + 64, NULL);
	EXPECT_EQ(0, errno);
	EXPECT_EQ(0, memcmp(&word, w + 64, sizeof(word)));
	ASSERT_EQ(0, ptrace(PTRACE_CONT, pid, NULL, NULL));
	EXPECT_EQ(0, t_reap(pid));

	/* reopening the fd or the mapping's file through /proc */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", rfd);
	o = open(path, O_RDWR | O_CLOEXEC);
	EXPECT_GT(0, o) TH_LOG("reopened a receive-only port fd read-write");
	if (o >= 0)
		close(o);
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx",
		 (unsigned long)(uintptr_t)ro,
		 (unsigned long)(uintptr_t)(ro + RO_POOL));
	o = open(path, O_RDWR | O_CLOEXEC);
	EXPECT_GT(0, o) TH_LOG("opened the read-only mapping's file read-write");
	if (o >= 0) {
		p = map_pool(o, RO_POOL, PROT_READ | PROT_WRITE);
		EXPECT_EQ(NULL, p);
		close(o);
	}

	/* mremap: cannot grow it, and a moved mapping is just as read-only */
	EXPECT_EQ(MAP_FAILED, mremap(ro, RO_POOL, 2 * RO_POOL, MREMAP_MAYMOVE));
	EXPECT_EQ(MAP_FAILED, mremap(ro, RO_POOL, RO_POOL,
				     MREMAP_MAYMOVE | MREMAP_DONTUNMAP));
	p = mmap(NULL, RO_POOL, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	p = mremap(ro, RO_POOL, RO_POOL, MREMAP_MAYMOVE | MREMAP_FIXED, p);
	ASSERT_NE(MAP_FAILED, p);
	ro = p;
	EXPECT_EQ(-1, mprotect(ro, RO_POOL, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	EXPECT_TRUE(pool_same(ro, RO_POOL, 77));

	/* madvise: punching a hole is a write; dropping pages loses nothing */
	if (madvise(ro, PAGE, MADV_NORMAL)) {
		TH_LOG("no madvise() in this kernel");
	} else {
		errno = 0;
		EXPECT_EQ(-1, madvise(ro, PAGE, MADV_REMOVE));
		EXPECT_EQ(EACCES, errno);
		EXPECT_EQ(0, madvise(ro, RO_POOL, MADV_DONTNEED));
	}
	EXPECT_TRUE(pool_same(ro, RO_POOL, 77));

	/* a forked child's copy cannot be made writable either */
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(mprotect(ro, RO_POOL, PROT_READ | PROT_WRITE) ? 0 :
		      T_BAD_SUCCESS);
	EXPECT_EQ(0, t_reap(pid));

	/* the kernel writing on our behalf: read(2) and receives, EFAULT */
	ASSERT_EQ(0, pipe(pp));
	ASSERT_EQ(4, write(pp[1], "evil", 4));
	errno = 0;
	EXPECT_EQ(-1, read(pp[0], ro + 128, 4));
	EXPECT_EQ(EFAULT, errno);
	ASSERT_EQ(0, t_send_str(fd, "evil", 0));
	EXPECT_EQ(-EFAULT, t_recv_nb(rfd, ro + 256, 16, 0, &r));
	EXPECT_EQ(1, T_INFO(fd, queued));
	/* the receive argument itself in the pool: read, but not written */
	rr = (struct mbx_recv *)(w + 512);
	memset(rr, 0, sizeof(*rr));
	rr->buf = (uintptr_t)rbuf;
	rr->len = sizeof(rbuf);
	rr->flags = MBX_NONBLOCK;
	EXPECT_EQ(-EFAULT, t_ioctl(rfd, MBX_IOC_RECV, ro + 512));
	EXPECT_EQ(1, T_INFO(fd, queued));
	t_fill(w, RO_POOL, 77);		/* put the pattern back over it */
	EXPECT_EQ(4, t_recv_nb(rfd, rbuf, sizeof(rbuf), 0, &r) ? -1 : (int)r.len);
	close(pp[0]);
	close(pp[1]);

	/* after all that, the pool holds exactly what the sender wrote */
	EXPECT_TRUE(pool_same(w, RO_POOL, 77));
	EXPECT_TRUE(pool_same(ro, RO_POOL, 77));
	close(rfd);
	close(fd);
}

TEST_F(sec, send_only_fd_cannot_receive_by_any_route)
{
	struct mbx_call c;
	struct mbx_recv r[2];
	char buf[64], path[64];
	struct pollfd pfd;
	uint64_t off;
	uint8_t *w;
	int fd, s, o;

	fd = t_pool_port(4, 64, PAGE, NULL, 0600, 0);
	ASSERT_LE(0, fd);
	s = mbx_port_dup(fd, MBX_SEND);
	ASSERT_LE(0, s);
	w = map_pool(s, PAGE, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, w);
	ASSERT_EQ(0, t_send_str(fd, "copy", 0));
	ASSERT_EQ(0, t_buf_alloc(fd, 64, 0, 0, &off));
	ASSERT_EQ(0, t_send_buf(fd, off, 64, 0, 0));

	errno = 0;
	EXPECT_EQ(-1, read(s, buf, sizeof(buf)));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-EBADF, t_recv_nb(s, buf, sizeof(buf), 0, &r[0]));
	EXPECT_EQ(-EBADF, t_recv_nb(s, NULL, 0, MBX_RECV_INPLACE, &r[0]));
	memset(r, 0, sizeof(r));
	r[0].buf = (uintptr_t)buf;
	r[0].len = sizeof(buf);
	r[1] = r[0];
	r[1].flags = MBX_RECV_INPLACE;
	EXPECT_EQ(-EBADF, batch(s, MBX_IOC_RECV_BATCH, (uintptr_t)r, 2,
				MBX_NONBLOCK, 0, NULL));
	/* a call that would receive on it, from it or from another fd */
	memset(&c, 0, sizeof(c));
	c.send.buf = (uintptr_t)"x";
	c.send.len = 1;
	c.send.flags = MBX_NONBLOCK;
	c.recv.buf = (uintptr_t)buf;
	c.recv.len = sizeof(buf);
	c.recv.flags = MBX_NONBLOCK;
	c.recv_fd = -1;
	EXPECT_EQ(-EBADF, t_ioctl(s, MBX_IOC_CALL, &c));
	EXPECT_EQ(0, c.done);
	c.recv_fd = s;
	EXPECT_EQ(-EBADF, t_ioctl(fd, MBX_IOC_CALL, &c));
	EXPECT_EQ(0, c.done);
	/* widening, reopening */
	EXPECT_EQ(-EACCES, mbx_port_dup(s, MBX_RECV));
	EXPECT_EQ(-EACCES, mbx_port_dup(s, MBX_RECV | MBX_SEND));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", s);
	o = open(path, O_RDONLY | O_CLOEXEC);
	EXPECT_GT(0, o);
	if (o >= 0)
		close(o);
	/* a queued region is not its to take */
	EXPECT_EQ(-EPERM, t_buf_release(s, off, 64));
	pfd = (struct pollfd){ .fd = s, .events = POLLIN | POLLOUT };
	EXPECT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLOUT, pfd.revents & (POLLIN | POLLOUT));

	EXPECT_EQ(2, T_INFO(fd, queued));
	EXPECT_EQ(0, T_INFO64(fd, received));
	close(s);
	close(fd);
}

/*
 * uid 1000 owns a 0600 port and passes a receive-only fd, then a send-only
 * fd, to uid 1001 with SCM_RIGHTS.  Each gives exactly its access there,
 * and the receive-only fd passed back gives its owner no more either.
 */
static int holder_of_recv_fd(int sk, const char *name)
{
	struct mbx_send one = { .buf = (uintptr_t)"x", .len = 1 };
	char buf[64];
	uint64_t off;
	void *p;
	int r, s, d;

	r = t_recv_fd(sk, 0);
	if (r < 0)
		return 1;
	if (T_INFO(r, access) != MBX_RECV || T_INFO(r, uid) != T_UID1)
		return 2;
	if (t_recv_str(r, buf, sizeof(buf), NULL) != 5 || strcmp(buf, "for-b"))
		return 3;
	if (write(r, "x", 1) != -1 || errno != EBADF)
		return 4;
	if (send_ex(r, "x", 1, 0, 0, 0) != -EBADF ||
	    batch(r, MBX_IOC_SEND_BATCH, (uintptr_t)&one, 1, 0, 0, NULL) != -EBADF ||
	    t_buf_alloc(r, 64, MBX_NONBLOCK, 0, &off) != -EBADF)
		return 5;
	if (mbx_port_dup(r, MBX_SEND) != -EACCES ||
	    mbx_port_dup(r, MBX_SEND | MBX_RECV) != -EACCES)
		return 6;
	d = mbx_port_dup(r, MBX_RECV);
	if (d < 0)
		return 7;
	close(d);
	if (map_pool(r, PAGE, PROT_READ | PROT_WRITE) || errno != EACCES)
		return 8;
	p = map_pool(r, PAGE, PROT_READ);
	if (!p || !mprotect(p, PAGE, PROT_READ | PROT_WRITE))
		return 9;
	/* the name still refuses this user */
	if (mbx_port_open(MBX_DEV_AUTO, name, MBX_RECV) != -EACCES ||
	    mbx_port_unlink(MBX_DEV_AUTO, name) != -EPERM)
		return 10;
	if (t_send_fd(sk, r))
		return 11;
	close(r);

	s = t_recv_fd(sk, 0);
	if (s < 0)
		return 12;
	if (T_INFO(s, access) != MBX_SEND)
		return 13;
	if (t_send_str(s, "from-b", 0))
		return 14;
	if (read(s, buf, sizeof(buf)) != -1 || errno != EBADF)
		return 15;
	if (mbx_recv_nonblock(s, buf, sizeof(buf), NULL) != -EBADF ||
	    mbx_port_dup(s, MBX_RECV) != -EACCES)
		return 16;
	p = map_pool(s, PAGE, PROT_READ | PROT_WRITE);
	if (!p || t_buf_alloc(s, 64, MBX_NONBLOCK, 0, &off) ||
	    t_buf_release(s, off, 64))
		return 17;
	return 0;
}

static int owner_of_port(int sk, const char *name)
{
	char buf[64];
	int fd, r, s, back;

	fd = t_pool_port(4, 64, PAGE, name, 0600, 0);
	if (fd < 0)
		return 1;
	r = mbx_port_dup(fd, MBX_RECV);
	s = mbx_port_dup(fd, MBX_SEND);
	if (r < 0 || s < 0 || t_send_str(fd, "for-b", 0) || t_send_fd(sk, r))
		return 2;
	close(r);
	back = t_recv_fd(sk, 0);
	if (back < 0)
		return 3;
	/* back home, still receive-only */
	if (T_INFO(back, access) != MBX_RECV ||
	    mbx_port_dup(back, MBX_SEND) != -EACCES ||
	    write(back, "x", 1) != -1 || errno != EBADF)
		return 4;
	if (t_send_fd(sk, s))
		return 5;
	close(s);
	if (mbx_recv_timed(fd, buf, sizeof(buf), NULL, 10000000000ULL) != 6)
		return 6;
	return 0;
}

TEST_F(sec, fd_passed_to_another_user_gives_exactly_its_access)
{
	pid_t a, b;
	int sk[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sk));
	a = t_fork();
	ASSERT_LE(0, a);
	if (a == 0) {
		close(sk[1]);
		if (t_become(T_UID1, T_GID1))
			_exit(T_BAD_SETUP);
		_exit(owner_of_port(sk[0], self->name));
	}
	b = t_fork();
	ASSERT_LE(0, b);
	if (b == 0) {
		close(sk[0]);
		if (t_become(T_UID2, T_GID2))
			_exit(T_BAD_SETUP);
		_exit(holder_of_recv_fd(sk[1], self->name));
	}
	close(sk[0]);
	close(sk[1]);
	EXPECT_EQ(0, t_reap(b));
	EXPECT_EQ(0, t_reap(a));
}

/* ---- CAP_IPC_OWNER ------------------------------------------------------ */

#define T_NO_USERNS	210

/*
 * A user with every capability in a user namespace of its own still holds
 * none over the IPC namespace it shares with its parent (owned by the
 * initial user namespace): no override of a root-owned 0600 port.
 */
TEST_F(sec, cap_ipc_owner_of_a_child_user_namespace_does_not_override)
{
	pid_t pid;
	int fd, ret;

	fd = t_pool_port(2, 16, 0, self->name, 0600, 0);
	ASSERT_LE(0, fd);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct __user_cap_header_struct h = {
			.version = _LINUX_CAPABILITY_VERSION_3,
		};
		struct __user_cap_data_struct d[2];
		int o;

		if (t_become(T_UID1, T_GID1))
			_exit(T_BAD_SETUP);
		if (unshare(CLONE_NEWUSER))
			_exit(T_NO_USERNS);
		memset(d, 0, sizeof(d));
		if (syscall(SYS_capget, &h, d) ||
		    !(d[0].effective & (1U << CAP_IPC_OWNER)))
			_exit(T_BAD_SETUP);
		o = mbx_port_open(MBX_DEV_AUTO, self->name, MBX_RECV);
		if (o != -EACCES)
			_exit(o >= 0 ? T_BAD_SUCCESS : t_code(o));
		o = mbx_port_open(MBX_DEV_AUTO, self->name, MBX_SEND);
		if (o != -EACCES)
			_exit(o >= 0 ? T_BAD_SUCCESS : t_code(o));
		o = mbx_port_unlink(MBX_DEV_AUTO, self->name);
		if (o != -EPERM)
			_exit(o >= 0 ? T_BAD_SUCCESS : t_code(o));
		_exit(0);
	}
	ret = t_reap(pid);
	if (ret == T_NO_USERNS)
		SKIP(return, "no unprivileged user namespaces");
	EXPECT_EQ(0, ret);
	EXPECT_EQ(MBX_STATE_NAMED, T_INFO(fd, state));
	close(fd);
}

/* Capabilities open names; they never widen an fd someone holds. */
TEST_F(sec, capabilities_never_widen_an_fd)
{
	int fd, r, s;

	fd = t_pool_port(2, 16, PAGE, NULL, 0600, 0);
	ASSERT_LE(0, fd);
	r = mbx_port_dup(fd, MBX_RECV);
	s = mbx_port_dup(fd, MBX_SEND);
	ASSERT_LE(0, r);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, geteuid());
	EXPECT_EQ(-EACCES, mbx_port_dup(r, MBX_SEND));
	EXPECT_EQ(-EACCES, mbx_port_dup(s, MBX_RECV));
	errno = 0;
	EXPECT_EQ(-1, write(r, "x", 1));
	EXPECT_EQ(EBADF, errno);
	errno = 0;
	EXPECT_EQ(-1, read(s, &fd, sizeof(fd)));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(NULL, map_pool(r, PAGE, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	close(r);
	close(s);
	close(fd);
}

TEST_HARNESS_MAIN
