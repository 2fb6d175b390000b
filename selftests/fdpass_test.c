// SPDX-License-Identifier: GPL-2.0
/*
 * Port fds are capabilities: passed with SCM_RIGHTS, inherited across fork
 * and exec (unless MBX_CLOEXEC), every copy is the same port with the same
 * access, and end of stream counts open file descriptions, not fds.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "kselftest_harness.h"
#include "mbx_helpers.h"

FIXTURE(pass) {
	char name[MBX_NAME_LEN];
	int sk[2];
};

FIXTURE_SETUP(pass)
{
	signal(SIGPIPE, SIG_IGN);
	t_name(self->name, "pass");
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
				self->sk));
}

FIXTURE_TEARDOWN(pass)
{
	t_unlink_all();
}

TEST_F(pass, passed_fd_sends_in_other_process)
{
	struct mbx_recv r;
	char buf[8];
	pid_t pid;
	int fd;

	/* fork first: the child can only get the port through the socket */
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int p = t_recv_fd(self->sk[1], 0);

		if (p < 0)
			_exit(T_BAD_SETUP);
		_exit(t_code(t_send_str(p, "hi", 0)));
	}
	fd = t_anon(2, 64);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_fd(self->sk[0], fd));
	EXPECT_EQ(0, t_reap(pid));
	memset(&r, 0, sizeof(r));
	r.buf = (uintptr_t)buf;
	r.len = sizeof(buf);
	r.flags = MBX_NONBLOCK;
	ASSERT_LE(0, t_ioctl(fd, MBX_IOC_RECV, &r));
	EXPECT_EQ(2, r.len);
	EXPECT_EQ(0, memcmp(buf, "hi", 2));
	EXPECT_EQ(pid, r.pid);
}

TEST_F(pass, passed_fd_alone_keeps_port_and_its_messages)
{
	pid_t pid;
	int fd;

	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char buf[8];
		int p = t_recv_fd(self->sk[1], 0);
		ssize_t n;

		if (p < 0)
			_exit(T_BAD_SETUP);
		n = mbx_recv(p, buf, sizeof(buf), NULL);
		if (n < 0)
			_exit(t_code(n));
		_exit(n == 1 ? (unsigned char)buf[0] : T_BAD_DATA);
	}
	fd = t_anon(2, 64);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_str(fd, "K", 0));
	ASSERT_EQ(0, t_send_fd(self->sk[0], fd));
	close(fd);
	EXPECT_EQ('K', t_reap(pid));
}

TEST_F(pass, passed_fd_is_same_port_with_same_access)
{
	struct mbx_port_info *info = t_shared(sizeof(*info));
	struct mbx_port_info mine;
	uint64_t id;
	pid_t pid;
	int fd, r;

	ASSERT_NE(NULL, info);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int p = t_recv_fd(self->sk[1], 0);

		if (p < 0)
			_exit(T_BAD_SETUP);
		if (t_info(p, info))
			_exit(T_BAD_SETUP);
		if (write(p, "x", 1) != -1 || errno != EBADF)
			_exit(T_BAD_SUCCESS);
		_exit(0);
	}
	fd = t_port(2, 64, 0600, self->name, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_info(fd, &mine));
	id = mine.id;
	r = mbx_port_open(MBX_DEV_AUTO, self->name, MBX_RECV);
	ASSERT_LE(0, r);
	ASSERT_EQ(0, t_send_fd(self->sk[0], r));
	EXPECT_EQ(0, t_reap(pid));
	EXPECT_EQ(id, info->id);
	EXPECT_EQ(MBX_RECV, info->access);
	EXPECT_EQ(0, T_INFO(fd, queued));
}

TEST_F(pass, passed_fd_works_without_permission_to_open)
{
	pid_t pid;
	char buf[8];
	int fd;

	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int p, o;

		if (t_become(T_NOBODY, T_NOBODY))
			_exit(T_BAD_SETUP);
		p = t_recv_fd(self->sk[1], 0);
		if (p < 0)
			_exit(T_BAD_SETUP);
		/* the name refuses this user ... */
		o = mbx_port_open(MBX_DEV_AUTO, self->name, MBX_SEND);
		if (o != -EACCES)
			_exit(o >= 0 ? T_BAD_SUCCESS : t_code(o));
		/* ... the fd does not */
		_exit(t_code(t_send_str(p, "cap", 0)));
	}
	fd = t_port(2, 64, 0600, self->name, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_fd(self->sk[0], fd));
	EXPECT_EQ(0, t_reap(pid));
	EXPECT_EQ(3, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("cap", buf);
}

TEST_F(pass, fd_survives_fork_child_sends_parent_receives)
{
	struct mbx_recv r;
	char buf[8];
	pid_t pid;
	int fd = t_anon(2, 64);

	ASSERT_LE(0, fd);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(t_code(t_send_str(fd, "child", 0)));
	EXPECT_EQ(0, t_reap(pid));
	memset(&r, 0, sizeof(r));
	r.buf = (uintptr_t)buf;
	r.len = sizeof(buf);
	r.flags = MBX_NONBLOCK;
	ASSERT_LE(0, t_ioctl(fd, MBX_IOC_RECV, &r));
	EXPECT_EQ(5, r.len);
	EXPECT_EQ(0, memcmp(buf, "child", 5));
	EXPECT_EQ(pid, r.pid);
}

TEST_F(pass, fd_survives_fork_parent_sends_child_receives)
{
	pid_t pid;
	int fd = t_anon(2, 64);

	ASSERT_LE(0, fd);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char buf[8];
		ssize_t n = mbx_recv(fd, buf, sizeof(buf), NULL);

		if (n < 0)
			_exit(t_code(n));
		_exit(n == 1 ? (unsigned char)buf[0] : T_BAD_DATA);
	}
	ASSERT_EQ(0, T_WAIT(fd, recv_waiting, 1));
	ASSERT_EQ(0, t_send_str(fd, "P", 0));
	EXPECT_EQ('P', t_reap(pid));
}

TEST_F(pass, fork_and_dup_do_not_add_senders_or_receivers)
{
	pid_t pid;
	int fd = t_anon(2, 64), d;

	ASSERT_LE(0, fd);
	d = dup(fd);
	ASSERT_LE(0, d);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		long long s = T_INFO(fd, senders), r = T_INFO(fd, receivers);

		_exit(s == 1 && r == 1 ? 0 : T_BAD_DATA);
	}
	EXPECT_EQ(0, t_reap(pid));
	EXPECT_EQ(1, T_INFO(fd, senders));
	EXPECT_EQ(1, T_INFO(fd, receivers));
}

TEST_F(pass, dup_keeps_stream_open_until_last_copy_closes)
{
	char buf[8];
	int fd, r, s, d;

	fd = t_port(2, 64, 0600, self->name, 0);
	ASSERT_LE(0, fd);
	r = mbx_port_open(MBX_DEV_AUTO, self->name, MBX_RECV);
	s = mbx_port_open(MBX_DEV_AUTO, self->name, MBX_SEND);
	ASSERT_LE(0, r);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, mbx_port_unlink(MBX_DEV_AUTO, self->name));
	close(fd);
	d = dup(s);
	ASSERT_LE(0, d);
	close(s);
	EXPECT_EQ(1, T_INFO(r, senders));
	EXPECT_EQ(-EAGAIN, t_recv_str(r, buf, sizeof(buf), NULL));
	ASSERT_EQ(0, t_send_str(d, "d", 0));
	close(d);
	EXPECT_EQ(1, t_recv_str(r, buf, sizeof(buf), NULL));
	EXPECT_EQ(-EPIPE, t_recv_str(r, buf, sizeof(buf), NULL));
}

TEST_F(pass, passed_sender_keeps_stream_open_until_receiver_of_it_closes)
{
	char buf[8];
	int fd, r, s, go[2];
	pid_t pid;

	ASSERT_EQ(0, pipe(go));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char c;
		int p = t_recv_fd(self->sk[1], 0);

		if (p < 0)
			_exit(T_BAD_SETUP);
		if (read(go[0], &c, 1) != 1)
			_exit(T_BAD_SETUP);
		close(p);
		/* keep running: only the close ends the stream */
		if (read(go[0], &c, 1) != 1)
			_exit(T_BAD_SETUP);
		_exit(0);
	}
	fd = t_port(2, 64, 0600, self->name, 0);
	ASSERT_LE(0, fd);
	r = mbx_port_open(MBX_DEV_AUTO, self->name, MBX_RECV);
	s = mbx_port_open(MBX_DEV_AUTO, self->name, MBX_SEND);
	ASSERT_LE(0, r);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, mbx_port_unlink(MBX_DEV_AUTO, self->name));
	ASSERT_EQ(0, t_send_fd(self->sk[0], s));
	close(s);
	close(fd);
	/* the fd may still be in flight or in the child: no end either way */
	EXPECT_EQ(-EAGAIN, t_recv_str(r, buf, sizeof(buf), NULL));
	ASSERT_EQ(1, write(go[1], "c", 1));
	ASSERT_EQ(0, T_WAIT(r, senders, 0));
	EXPECT_EQ(-EPIPE, t_recv_str(r, buf, sizeof(buf), NULL));
	ASSERT_EQ(1, write(go[1], "x", 1));
	EXPECT_EQ(0, t_reap(pid));
}

/* exec /bin/sh writing "hi" to @fd with printf; returns the child's pid. */
static pid_t exec_printf(int fd)
{
	char cmd[64];
	pid_t pid;

	snprintf(cmd, sizeof(cmd), "printf hi >&%d", fd);
	pid = t_fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		/* keep the shell's complaint about a closed fd off the TAP output */
		if (null >= 0)
			dup2(null, 2);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(T_BAD_SETUP);
	}
	return pid;
}

TEST_F(pass, fd_survives_exec_without_cloexec)
{
	char buf[64], all[64] = "";
	pid_t pid;
	int fd;

	if (access("/bin/sh", X_OK))
		SKIP(return, "no /bin/sh");
	fd = t_port(8, 64, 0600, NULL, 0);
	ASSERT_LE(0, fd);
	pid = exec_printf(fd);
	ASSERT_LE(0, pid);
	EXPECT_EQ(0, t_reap(pid));
	/* the shell may write in pieces: each write() is one message */
	while (t_recv_str(fd, buf, sizeof(buf), NULL) >= 0)
		strncat(all, buf, sizeof(all) - strlen(all) - 1);
	EXPECT_STREQ("hi", all);
}

TEST_F(pass, cloexec_fd_is_closed_on_exec)
{
	pid_t pid;
	int fd;

	if (access("/bin/sh", X_OK))
		SKIP(return, "no /bin/sh");
	fd = t_port(8, 64, 0600, NULL, MBX_CLOEXEC);
	ASSERT_LE(0, fd);
	pid = exec_printf(fd);
	ASSERT_LE(0, pid);
	EXPECT_NE(0, t_reap(pid));
	EXPECT_EQ(0, T_INFO(fd, queued));
	EXPECT_EQ(1, T_INFO(fd, senders));
}

TEST_HARNESS_MAIN
