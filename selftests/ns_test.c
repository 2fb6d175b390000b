// SPDX-License-Identifier: GPL-2.0
/*
 * Namespaces: names live in the creator's IPC namespace and nowhere else;
 * the sender's pid and uid are reported as seen from the receiver's pid and
 * user namespaces (pid 0 if invisible, the overflow uid if unmapped).  Fds
 * work across namespaces: they are capabilities.
 *
 * A test whose namespace type the kernel lacks is skipped.
 */
#define _GNU_SOURCE
#include <grp.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "mbx_helpers.h"

FIXTURE(ns) {
	char name[MBX_NAME_LEN];
};

FIXTURE_SETUP(ns)
{
	t_name(self->name, "ns");
}

FIXTURE_TEARDOWN(ns)
{
	t_unlink_all();
}

/* unshare() in a child: exit T_NO_NS if the kernel lacks the namespace. */
static void child_unshare(int flags)
{
	if (unshare(flags)) {
		if (errno == EINVAL || errno == EPERM ||
		    errno == ENOSPC || errno == EUSERS)
			_exit(T_NO_NS);
		_exit(T_BAD_SETUP);
	}
}

static uint64_t port_id(int fd)
{
	struct mbx_port_info info;

	if (t_info(fd, &info))
		return 0;
	return info.id;
}

TEST_F(ns, named_port_is_invisible_from_new_ipc_namespace)
{
	int code;
	pid_t pid;
	int fd;

	fd = t_port(1, 16, 0666, self->name, 0);
	ASSERT_LE(0, fd);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		child_unshare(CLONE_NEWIPC);
		_exit(t_code(mbx_port_open(MBX_DEV_AUTO, self->name,
					   MBX_SEND)));
	}
	code = t_reap(pid);
	if (code == T_NO_NS)
		SKIP(return, "namespace not supported by this kernel");
	EXPECT_EQ(ENOENT, code);
}

TEST_F(ns, same_name_creates_a_different_port_in_new_ipc_namespace)
{
	int code;
	uint64_t *child_id = t_shared(sizeof(*child_id));
	pid_t pid;
	int fd, o;

	ASSERT_NE(NULL, child_id);
	fd = t_port(1, 16, 0666, self->name, 0);
	ASSERT_LE(0, fd);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int c;

		child_unshare(CLONE_NEWIPC);
		c = t_port(1, 16, 0666, self->name, 0);
		if (c < 0)
			_exit(t_code(c));
		*child_id = port_id(c);
		/* drop the name so the namespace can go */
		_exit(t_code(mbx_port_unlink(MBX_DEV_AUTO, self->name)));
	}
	code = t_reap(pid);
	if (code == T_NO_NS)
		SKIP(return, "namespace not supported by this kernel");
	EXPECT_EQ(0, code);
	EXPECT_NE(0, *child_id);
	EXPECT_NE(port_id(fd), *child_id);
	/* the original namespace still has its own port under the name */
	o = mbx_port_open(MBX_DEV_AUTO, self->name, MBX_RECV);
	ASSERT_LE(0, o);
	EXPECT_EQ(port_id(fd), port_id(o));
}

TEST_F(ns, port_named_in_new_ipc_namespace_is_invisible_from_parent)
{
	int code;
	int ready[2], done[2];
	pid_t pid;
	char c;

	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(done));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd;

		child_unshare(CLONE_NEWIPC);
		fd = t_port(1, 16, 0666, self->name, 0);
		if (fd < 0)
			_exit(t_code(fd));
		if (write(ready[1], "r", 1) != 1 || read(done[0], &c, 1) != 1)
			_exit(T_BAD_SETUP);
		_exit(t_code(mbx_port_unlink(MBX_DEV_AUTO, self->name)));
	}
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1) {
		code = t_reap(pid);
		if (code == T_NO_NS)
			SKIP(return, "namespace not supported by this kernel");
		EXPECT_EQ(0, code);
		ASSERT_TRUE(0) TH_LOG("child failed before creating its port");
	}
	EXPECT_EQ(-ENOENT, mbx_port_open(MBX_DEV_AUTO, self->name, MBX_RECV));
	EXPECT_EQ(-ENOENT, mbx_port_unlink(MBX_DEV_AUTO, self->name));
	ASSERT_EQ(1, write(done[1], "d", 1));
	EXPECT_EQ(0, t_reap(pid));
}

TEST_F(ns, unlink_in_new_ipc_namespace_does_not_touch_parent_port)
{
	int code;
	pid_t pid;
	int fd;

	fd = t_port(1, 16, 0666, self->name, 0);
	ASSERT_LE(0, fd);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		child_unshare(CLONE_NEWIPC);
		_exit(t_code(mbx_port_unlink(MBX_DEV_AUTO, self->name)));
	}
	code = t_reap(pid);
	if (code == T_NO_NS)
		SKIP(return, "namespace not supported by this kernel");
	EXPECT_EQ(ENOENT, code);
	EXPECT_EQ(MBX_STATE_NAMED, T_INFO(fd, state) & MBX_STATE_NAMED);
}

TEST_F(ns, fd_works_across_ipc_namespaces)
{
	int code;
	char buf[8];
	pid_t pid;
	int fd;

	fd = t_port(2, 16, 0600, self->name, 0);
	ASSERT_LE(0, fd);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		child_unshare(CLONE_NEWIPC);
		_exit(t_code(t_send_str(fd, "ipc", 0)));
	}
	code = t_reap(pid);
	if (code == T_NO_NS)
		SKIP(return, "namespace not supported by this kernel");
	EXPECT_EQ(0, code);
	EXPECT_EQ(3, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("ipc", buf);
}

/* In a child of a new pid namespace: receive one message, check its pid. */
static int recv_pid_is(int fd, pid_t want)
{
	struct mbx_recv r;
	char buf[8];
	long ret;

	memset(&r, 0, sizeof(r));
	r.buf = (uintptr_t)buf;
	r.len = sizeof(buf);
	ret = t_ioctl(fd, MBX_IOC_RECV, &r);
	if (ret < 0)
		return t_code(ret);
	return r.pid == want ? 0 : T_BAD_DATA;
}

TEST_F(ns, sender_outside_receivers_pid_namespace_is_reported_as_pid_0)
{
	int code;
	pid_t pid;
	int fd = t_anon(2, 16);

	ASSERT_LE(0, fd);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		pid_t g;

		child_unshare(CLONE_NEWPID);
		g = t_fork();
		if (g < 0)
			_exit(T_BAD_SETUP);
		if (g == 0)
			_exit(recv_pid_is(fd, 0));
		_exit(t_reap(g));
	}
	if (t_wait_info(fd, offsetof(struct mbx_port_info, recv_waiting), 1)) {
		code = t_reap(pid);
		if (code == T_NO_NS)
			SKIP(return, "namespace not supported by this kernel");
		EXPECT_EQ(0, code);
		ASSERT_TRUE(0) TH_LOG("child never blocked in receive");
	}
	ASSERT_EQ(0, t_send_str(fd, "out", 0));
	code = t_reap(pid);
	if (code == T_NO_NS)
		SKIP(return, "namespace not supported by this kernel");
	EXPECT_EQ(0, code);
}

TEST_F(ns, sender_inside_pid_namespace_is_reported_with_its_ns_pid)
{
	int code;
	pid_t pid;
	int fd = t_anon(2, 16);

	ASSERT_LE(0, fd);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		pid_t g;

		child_unshare(CLONE_NEWPID);
		g = t_fork();
		if (g < 0)
			_exit(T_BAD_SETUP);
		if (g == 0) {
			/* pid 1 of the new namespace */
			pid_t s = t_fork();
			int code;

			if (s < 0)
				_exit(T_BAD_SETUP);
			if (s == 0)
				_exit(t_code(t_send_str(fd, "in", 0)));
			code = t_reap(s);
			if (code)
				_exit(code);
			if (getpid() != 1 || s == 1)
				_exit(T_BAD_SETUP);
			_exit(recv_pid_is(fd, s));
		}
		_exit(t_reap(g));
	}
	code = t_reap(pid);
	if (code == T_NO_NS)
		SKIP(return, "namespace not supported by this kernel");
	EXPECT_EQ(0, code);
}

TEST_F(ns, sender_in_child_pid_namespace_is_seen_with_parent_ns_pid)
{
	int code;
	pid_t *gpid = t_shared(sizeof(*gpid));
	struct mbx_recv r;
	char buf[8];
	pid_t pid;
	int fd = t_anon(2, 16);

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, gpid);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		pid_t g;

		child_unshare(CLONE_NEWPID);
		g = t_fork();
		if (g < 0)
			_exit(T_BAD_SETUP);
		if (g == 0)
			_exit(t_code(t_send_str(fd, "g", 0)));
		*gpid = g;
		_exit(t_reap(g));
	}
	code = t_reap(pid);
	if (code == T_NO_NS)
		SKIP(return, "namespace not supported by this kernel");
	EXPECT_EQ(0, code);
	memset(&r, 0, sizeof(r));
	r.buf = (uintptr_t)buf;
	r.len = sizeof(buf);
	r.flags = MBX_NONBLOCK;
	ASSERT_LE(0, t_ioctl(fd, MBX_IOC_RECV, &r));
	EXPECT_EQ(*gpid, r.pid);
	EXPECT_NE(1, r.pid);
}

static int read_overflowuid(void)
{
	char buf[32];
	int fd, n;

	fd = open("/proc/sys/kernel/overflowuid", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 65534;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 65534;
	buf[n] = '\0';
	return atoi(buf);
}

/* In a child of a new user namespace: receive one message, check its uid. */
static int recv_uid_is(int fd, uid_t want)
{
	struct mbx_recv r;
	char buf[8];
	long ret;

	memset(&r, 0, sizeof(r));
	r.buf = (uintptr_t)buf;
	r.len = sizeof(buf);
	ret = t_ioctl(fd, MBX_IOC_RECV, &r);
	if (ret < 0)
		return t_code(ret);
	return r.uid == want ? 0 : T_BAD_DATA;
}

TEST_F(ns, sender_uid_unmapped_in_receivers_user_ns_is_overflow_uid)
{
	int code;
	uid_t overflow = read_overflowuid();
	pid_t pid;
	int fd = t_anon(2, 16);

	ASSERT_LE(0, fd);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		child_unshare(CLONE_NEWUSER);
		_exit(recv_uid_is(fd, overflow));
	}
	if (t_wait_info(fd, offsetof(struct mbx_port_info, recv_waiting), 1)) {
		code = t_reap(pid);
		if (code == T_NO_NS)
			SKIP(return, "namespace not supported by this kernel");
		EXPECT_EQ(0, code);
		ASSERT_TRUE(0) TH_LOG("child never blocked in receive");
	}
	ASSERT_EQ(0, t_send_str(fd, "u", 0));	/* from uid 0 */
	code = t_reap(pid);
	if (code == T_NO_NS)
		SKIP(return, "namespace not supported by this kernel");
	EXPECT_EQ(0, code);
}

TEST_F(ns, sender_uid_is_translated_into_receivers_user_ns)
{
	int code;
	pid_t pid;
	int fd = t_anon(2, 16);

	ASSERT_LE(0, fd);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int m;

		child_unshare(CLONE_NEWUSER);
		/* inside uid 1000 is outside uid 0, the sender's */
		m = open("/proc/self/uid_map", O_WRONLY | O_CLOEXEC);
		if (m < 0 || write(m, "1000 0 1\n", 9) != 9)
			_exit(T_BAD_SETUP);
		close(m);
		_exit(recv_uid_is(fd, 1000));
	}
	if (t_wait_info(fd, offsetof(struct mbx_port_info, recv_waiting), 1)) {
		code = t_reap(pid);
		if (code == T_NO_NS)
			SKIP(return, "namespace not supported by this kernel");
		EXPECT_EQ(0, code);
		ASSERT_TRUE(0) TH_LOG("child never blocked in receive");
	}
	ASSERT_EQ(0, t_send_str(fd, "u", 0));
	code = t_reap(pid);
	if (code == T_NO_NS)
		SKIP(return, "namespace not supported by this kernel");
	EXPECT_EQ(0, code);
}

/* As root, in the IPC namespace @nsfd: @what the port @name.  0 or errno. */
static int in_ipc_ns_as_root(int nsfd, const char *name, bool create)
{
	pid_t pid = t_fork();

	if (pid == 0) {
		if (setns(nsfd, CLONE_NEWIPC))
			_exit(T_BAD_SETUP);
		_exit(t_code(create ? t_port(1, 16, 0600, name, 0) :
			     mbx_port_unlink(MBX_DEV_AUTO, name)));
	}
	return t_reap(pid);
}

/*
 * CAP_IPC_OWNER in the user namespace that owns the IPC namespace opens
 * and unlinks any port there, but only one whose owner is mapped there, as
 * capable_wrt_inode_uidgid() asks of a file: the root of a rootless
 * container does not get the port a host root made in its IPC namespace.
 */
TEST_F(ns, cap_ipc_owner_needs_the_owner_mapped_in_its_namespace)
{
	int go[2], ready[2], nsfd, ret, code;
	char path[64], c = 0;
	pid_t pid;

	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(ready));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(ready[0]);
		close(go[1]);
		child_unshare(CLONE_NEWUSER | CLONE_NEWIPC);
		if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(T_BAD_SETUP);
		/* Become the namespace's root, uid and gid 1000 outside. */
		if (setgroups(0, NULL) || setresgid(0, 0, 0) ||
		    setresuid(0, 0, 0))
			_exit(T_BAD_SETUP);
		ret = mbx_port_open(MBX_DEV_AUTO, self->name, MBX_RECV);
		if (ret != -EACCES)
			_exit(ret >= 0 ? T_BAD_DATA : t_code(ret));
		ret = mbx_port_unlink(MBX_DEV_AUTO, self->name);
		_exit(ret == -EPERM ? 0 : T_BAD_DATA - 2);
	}
	close(ready[1]);
	close(go[0]);
	if (read(ready[0], &c, 1) != 1) {
		code = t_reap(pid);
		if (code == T_NO_NS)
			SKIP(return, "namespace not supported by this kernel");
		ASSERT_EQ(0, code);
	}
	/* Its root is uid and gid 1000 here: our root is not mapped there. */
	ASSERT_EQ(0, t_write_proc_map(pid, "uid_map", "0 1000 1\n"));
	ASSERT_EQ(0, t_write_proc_map(pid, "gid_map", "0 1000 1\n"));
	snprintf(path, sizeof(path), "/proc/%d/ns/ipc", (int)pid);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, nsfd);
	ASSERT_EQ(0, in_ipc_ns_as_root(nsfd, self->name, true));
	ASSERT_EQ(1, write(go[1], &c, 1));
	EXPECT_EQ(0, t_reap(pid));
	EXPECT_EQ(0, in_ipc_ns_as_root(nsfd, self->name, false));
	close(nsfd);
	close(go[1]);
	close(ready[0]);
}

TEST_HARNESS_MAIN
