// SPDX-License-Identifier: GPL-2.0
/*
 * Ports as objects: MBX_IOC_PORT_CREATE, MBX_IOC_PORT_OPEN and
 * MBX_IOC_PORT_UNLINK with every error they document, the file flags and
 * access they give the new fd, MBX_IOC_PORT_INFO and fdinfo.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "kselftest_harness.h"
#include "mbx_helpers.h"

FIXTURE(port) {
	int dev;
	char name[MBX_NAME_LEN];
};

FIXTURE_SETUP(port)
{
	self->dev = t_dev();
	ASSERT_LE(0, self->dev) TH_LOG("open " MBX_DEVICE_PATH ": %d", self->dev);
	t_name(self->name, "port");
}

FIXTURE_TEARDOWN(port)
{
	t_unlink_all();
	if (self->dev >= 0)
		close(self->dev);
}

/* Raw MBX_IOC_PORT_CREATE on @dev. */
static long create_raw(int dev, uint32_t flags, uint32_t capacity,
		       uint32_t msg_size, uint32_t mode, uint64_t pool,
		       const char *name)
{
	struct mbx_port_create c;

	memset(&c, 0, sizeof(c));
	c.flags = flags;
	c.capacity = capacity;
	c.max_msg_size = msg_size;
	c.mode = mode;
	c.pool_size = pool;
	if (name)
		strncpy(c.name, name, sizeof(c.name) - 1);
	return t_ioctl(dev, MBX_IOC_PORT_CREATE, &c);
}

static long open_raw(int dev, uint32_t flags, uint32_t reserved,
		     const char *name)
{
	struct mbx_port_open o;

	memset(&o, 0, sizeof(o));
	o.flags = flags;
	o.reserved = reserved;
	strncpy(o.name, name, sizeof(o.name) - 1);
	return t_ioctl(dev, MBX_IOC_PORT_OPEN, &o);
}

static long unlink_raw(int dev, uint32_t flags, uint32_t reserved,
		       const char *name)
{
	struct mbx_port_unlink u;

	memset(&u, 0, sizeof(u));
	u.flags = flags;
	u.reserved = reserved;
	strncpy(u.name, name, sizeof(u.name) - 1);
	return t_ioctl(dev, MBX_IOC_PORT_UNLINK, &u);
}

TEST_F(port, create_anonymous_gives_fd_that_sends_and_receives)
{
	struct mbx_port_info info;
	int fd;

	fd = create_raw(self->dev, 0, 4, 128, 0640, 0, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_info(fd, &info));
	EXPECT_EQ(4, info.capacity);
	EXPECT_EQ(128, info.max_msg_size);
	EXPECT_EQ(0, info.pool_size);
	EXPECT_EQ(0640, info.mode);
	EXPECT_EQ(MBX_SEND | MBX_RECV, info.access);
	EXPECT_EQ(0, info.state & MBX_STATE_NAMED);
	EXPECT_EQ(0, info.state & MBX_STATE_SHUTDOWN);
	EXPECT_EQ('\0', info.name[0]);
	EXPECT_EQ(0, info.queued);
	EXPECT_EQ(1, info.senders);
	EXPECT_EQ(1, info.receivers);
	EXPECT_EQ(0, info.sent);
	EXPECT_EQ(0, info.received);
	/* and it really does both */
	ASSERT_EQ(0, t_send_str(fd, "x", 0));
	EXPECT_EQ(1, mbx_recv_nonblock(fd, info.name, sizeof(info.name), NULL));
	close(fd);
}

TEST_F(port, create_named_reports_name_and_named_state)
{
	struct mbx_port_info info;
	int fd;

	fd = create_raw(self->dev, 0, 2, 64, 0604, 0, self->name);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_info(fd, &info));
	EXPECT_STREQ(self->name, info.name);
	EXPECT_EQ(MBX_STATE_NAMED, info.state & MBX_STATE_NAMED);
	EXPECT_EQ(0604, info.mode);
	EXPECT_EQ(MBX_SEND | MBX_RECV, info.access);
	close(fd);
}

TEST_F(port, create_capacity_zero_makes_rendezvous_port)
{
	int fd = create_raw(self->dev, 0, 0, 64, 0600, 0, NULL);

	ASSERT_LE(0, fd);
	EXPECT_EQ(0, T_INFO(fd, capacity));
	/* nothing can be queued: a non-blocking send has no receiver */
	EXPECT_EQ(-EAGAIN, mbx_send_nonblock(fd, "x", 1, 0));
	close(fd);
}

TEST_F(port, create_msg_size_zero_takes_default_msg_size)
{
	unsigned long long def = 0;
	int fd;

	ASSERT_EQ(0, t_param_get("default_msg_size", &def));
	EXPECT_EQ(8192, def) TH_LOG("default_msg_size is not the documented 8192");
	fd = create_raw(self->dev, 0, 1, 0, 0600, 0, NULL);
	ASSERT_LE(0, fd);
	EXPECT_EQ(def, T_INFO(fd, max_msg_size));
	close(fd);
}

TEST_F(port, create_rejects_unknown_flags)
{
	static const uint32_t bad[] = {
		MBX_SEND, MBX_RECV, MBX_TIMEOUT, MBX_ABSTIME, MBX_SEND_BUF,
		MBX_RECV_INPLACE, 1U << 16, 1U << 31,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		EXPECT_EQ(-EINVAL, create_raw(self->dev, bad[i], 1, 16, 0600,
					      0, NULL))
			TH_LOG("flags %#x", bad[i]);
	/* and none of them created a named port by accident */
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		EXPECT_EQ(-EINVAL, create_raw(self->dev, bad[i], 1, 16, 0600,
					      0, self->name));
	EXPECT_EQ(-ENOENT, open_raw(self->dev, MBX_RECV, 0, self->name));
}

TEST_F(port, create_rejects_mode_bits_outside_0777)
{
	static const uint32_t bad[] = { 01000, 02000, 04000, 04777, 010000,
					0x80000000 };
	unsigned int i;
	int fd;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		EXPECT_EQ(-EINVAL, create_raw(self->dev, 0, 1, 16, bad[i], 0,
					      NULL))
			TH_LOG("mode %#o", bad[i]);
	fd = create_raw(self->dev, 0, 1, 16, 0777, 0, NULL);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0777, T_INFO(fd, mode));
	close(fd);
}

TEST_F(port, create_rejects_capacity_above_max_capacity)
{
	unsigned long long max = 0;

	ASSERT_EQ(0, t_param_get("max_capacity", &max));
	ASSERT_GT(0xffffffffULL, max);
	EXPECT_EQ(-EINVAL, create_raw(self->dev, 0, max + 1, 1, 0600, 0, NULL));
	EXPECT_EQ(-EINVAL, create_raw(self->dev, 0, 0xffffffffU, 1, 0600, 0,
				      NULL));
}

TEST_F(port, create_accepts_capacity_at_max_capacity)
{
	unsigned long long max = 0, bytes = 0;
	int fd;

	ASSERT_EQ(0, t_param_get("max_capacity", &max));
	ASSERT_EQ(0, t_param_get("max_bytes_per_user", &bytes));
	if (max > bytes)
		SKIP(return, "max_capacity %llu bytes exceed max_bytes_per_user",
		     max);
	fd = create_raw(self->dev, 0, max, 1, 0600, 0, NULL);
	ASSERT_LE(0, fd);
	EXPECT_EQ(max, T_INFO(fd, capacity));
	close(fd);
}

TEST_F(port, create_rejects_msg_size_above_max_msg_size)
{
	unsigned long long max = 0;

	ASSERT_EQ(0, t_param_get("max_msg_size", &max));
	ASSERT_GT(0xffffffffULL, max);
	EXPECT_EQ(-EINVAL, create_raw(self->dev, 0, 1, max + 1, 0600, 0, NULL));
	EXPECT_EQ(-EINVAL, create_raw(self->dev, 0, 1, 0xffffffffU, 0600, 0,
				      NULL));
}

TEST_F(port, create_accepts_msg_size_at_max_msg_size)
{
	unsigned long long max = 0, bytes = 0;
	int fd;

	ASSERT_EQ(0, t_param_get("max_msg_size", &max));
	ASSERT_EQ(0, t_param_get("max_bytes_per_user", &bytes));
	if (max > bytes)
		SKIP(return, "max_msg_size exceeds max_bytes_per_user");
	fd = create_raw(self->dev, 0, 1, max, 0600, 0, NULL);
	ASSERT_LE(0, fd);
	EXPECT_EQ(max, T_INFO(fd, max_msg_size));
	close(fd);
}

TEST_F(port, create_rejects_pool_above_max_pool_size)
{
	unsigned long long max = 0;

	ASSERT_EQ(0, t_param_get("max_pool_size", &max));
	EXPECT_EQ(-EINVAL, create_raw(self->dev, 0, 1, 16, 0600, max + 1,
				      NULL));
	EXPECT_EQ(-EINVAL, create_raw(self->dev, 0, 1, 16, 0600, ~0ULL, NULL));
}

TEST_F(port, create_rejects_name_with_slash)
{
	static const char bad[][8] = { "/", "a/b", "/lead", "trail/" };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		EXPECT_EQ(-EINVAL, create_raw(self->dev, 0, 1, 16, 0600, 0,
					      bad[i]))
			TH_LOG("name '%s'", bad[i]);
}

TEST_F(port, create_rejects_name_without_nul_enametoolong)
{
	struct mbx_port_create c;

	memset(&c, 0, sizeof(c));
	c.capacity = 1;
	c.max_msg_size = 16;
	c.mode = 0600;
	memset(c.name, 'n', sizeof(c.name));
	EXPECT_EQ(-ENAMETOOLONG, t_ioctl(self->dev, MBX_IOC_PORT_CREATE, &c));
}

TEST_F(port, create_accepts_63_byte_name)
{
	char name[MBX_NAME_LEN];
	struct mbx_port_info info;
	int fd, o;

	/* unique prefix, padded to exactly MBX_NAME_MAX bytes */
	memset(name, 'x', sizeof(name));
	memcpy(name, self->name, strlen(self->name));
	name[MBX_NAME_MAX] = '\0';
	ASSERT_EQ(MBX_NAME_MAX, strlen(name));
	strcpy(t_names[t_nr_names++], name);	/* teardown unlinks it */

	fd = create_raw(self->dev, 0, 1, 16, 0600, 0, name);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_info(fd, &info));
	EXPECT_STREQ(name, info.name);
	o = open_raw(self->dev, MBX_RECV, 0, name);
	EXPECT_LE(0, o);
	EXPECT_EQ(0, unlink_raw(self->dev, 0, 0, name));
}

TEST_F(port, create_existing_name_fails_eexist)
{
	int fd;

	fd = create_raw(self->dev, 0, 1, 16, 0600, 0, self->name);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EEXIST, create_raw(self->dev, 0, 1, 16, 0600, 0, self->name));
	/* also while no fd of the first port is open: the name persists */
	close(fd);
	EXPECT_EQ(-EEXIST, create_raw(self->dev, 0, 1, 16, 0600, 0, self->name));
}

TEST_F(port, create_bad_pointer_fails_efault)
{
	EXPECT_EQ(-EFAULT, t_ioctl(self->dev, MBX_IOC_PORT_CREATE, t_bad_ptr()));
	EXPECT_EQ(-EFAULT, t_ioctl(self->dev, MBX_IOC_PORT_CREATE, NULL));
}

TEST_F(port, open_and_unlink_bad_pointer_fail_efault)
{
	EXPECT_EQ(-EFAULT, t_ioctl(self->dev, MBX_IOC_PORT_OPEN, t_bad_ptr()));
	EXPECT_EQ(-EFAULT, t_ioctl(self->dev, MBX_IOC_PORT_UNLINK, t_bad_ptr()));
}

TEST_F(port, open_missing_name_fails_enoent)
{
	EXPECT_EQ(-ENOENT, open_raw(self->dev, MBX_SEND | MBX_RECV, 0,
				    self->name));
	EXPECT_EQ(-ENOENT, mbx_port_open(self->dev, self->name, MBX_RECV));
}

TEST_F(port, unlink_missing_name_fails_enoent)
{
	EXPECT_EQ(-ENOENT, unlink_raw(self->dev, 0, 0, self->name));
}

TEST_F(port, unlink_twice_fails_enoent)
{
	int fd = create_raw(self->dev, 0, 1, 16, 0600, 0, self->name);

	ASSERT_LE(0, fd);
	EXPECT_EQ(0, unlink_raw(self->dev, 0, 0, self->name));
	EXPECT_EQ(-ENOENT, unlink_raw(self->dev, 0, 0, self->name));
	EXPECT_EQ(-ENOENT, open_raw(self->dev, MBX_RECV, 0, self->name));
}

TEST_F(port, open_without_send_or_recv_fails_einval)
{
	int fd = create_raw(self->dev, 0, 1, 16, 0600, 0, self->name);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, open_raw(self->dev, 0, 0, self->name));
	EXPECT_EQ(-EINVAL, open_raw(self->dev, MBX_CLOEXEC, 0, self->name));
	EXPECT_EQ(-EINVAL, open_raw(self->dev, MBX_NONBLOCK, 0, self->name));
	EXPECT_EQ(1, T_INFO(fd, senders));
	EXPECT_EQ(1, T_INFO(fd, receivers));
}

TEST_F(port, open_rejects_unknown_flags)
{
	static const uint32_t bad[] = { MBX_TIMEOUT, MBX_ABSTIME, MBX_SEND_BUF,
					MBX_RECV_INPLACE, 1U << 20, 1U << 31 };
	unsigned int i;
	int fd = create_raw(self->dev, 0, 1, 16, 0600, 0, self->name);

	ASSERT_LE(0, fd);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		EXPECT_EQ(-EINVAL, open_raw(self->dev, MBX_SEND | bad[i], 0,
					    self->name))
			TH_LOG("flags %#x", bad[i]);
}

TEST_F(port, open_rejects_nonzero_reserved)
{
	int fd = create_raw(self->dev, 0, 1, 16, 0600, 0, self->name);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, open_raw(self->dev, MBX_RECV, 1, self->name));
	EXPECT_EQ(-EINVAL, open_raw(self->dev, MBX_RECV, 1U << 31, self->name));
}

TEST_F(port, unlink_rejects_nonzero_flags_and_reserved)
{
	int fd = create_raw(self->dev, 0, 1, 16, 0600, 0, self->name);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, unlink_raw(self->dev, 1, 0, self->name));
	EXPECT_EQ(-EINVAL, unlink_raw(self->dev, MBX_CLOEXEC, 0, self->name));
	EXPECT_EQ(-EINVAL, unlink_raw(self->dev, 0, 1, self->name));
	/* the name survived the rejected calls */
	EXPECT_EQ(MBX_STATE_NAMED, T_INFO(fd, state) & MBX_STATE_NAMED);
	EXPECT_EQ(0, unlink_raw(self->dev, 0, 0, self->name));
}

TEST_F(port, unknown_ioctl_on_device_fails_enotty)
{
	struct mbx_send s;

	memset(&s, 0, sizeof(s));
	EXPECT_EQ(-ENOTTY, t_ioctl(self->dev, _IO(MBX_IOC_MAGIC, 0x7f), NULL));
	EXPECT_EQ(-ENOTTY, t_ioctl(self->dev, _IO('x', 0x01), NULL));
	/* port ioctls are not control ioctls */
	EXPECT_EQ(-ENOTTY, t_ioctl(self->dev, MBX_IOC_SEND, &s));
	EXPECT_EQ(-ENOTTY, t_ioctl(self->dev, MBX_IOC_SHUTDOWN, NULL));
}

TEST_F(port, unknown_ioctl_on_port_fails_enotty)
{
	struct mbx_port_create c;
	int fd = create_raw(self->dev, 0, 1, 16, 0600, 0, NULL);

	ASSERT_LE(0, fd);
	memset(&c, 0, sizeof(c));
	c.capacity = 1;
	EXPECT_EQ(-ENOTTY, t_ioctl(fd, _IO(MBX_IOC_MAGIC, 0x7f), NULL));
	EXPECT_EQ(-ENOTTY, t_ioctl(fd, _IO('x', 0x01), NULL));
	/* control ioctls are not port ioctls */
	EXPECT_EQ(-ENOTTY, t_ioctl(fd, MBX_IOC_PORT_CREATE, &c));
}

TEST_F(port, create_cloexec_sets_fd_cloexec)
{
	int a, b;

	a = create_raw(self->dev, MBX_CLOEXEC, 1, 16, 0600, 0, NULL);
	ASSERT_LE(0, a);
	b = create_raw(self->dev, 0, 1, 16, 0600, 0, NULL);
	ASSERT_LE(0, b);
	EXPECT_EQ(FD_CLOEXEC, fcntl(a, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(0, fcntl(b, F_GETFD) & FD_CLOEXEC);
}

TEST_F(port, open_cloexec_sets_fd_cloexec)
{
	int fd, a, b;

	fd = create_raw(self->dev, 0, 1, 16, 0600, 0, self->name);
	ASSERT_LE(0, fd);
	a = open_raw(self->dev, MBX_RECV | MBX_CLOEXEC, 0, self->name);
	ASSERT_LE(0, a);
	b = open_raw(self->dev, MBX_RECV, 0, self->name);
	ASSERT_LE(0, b);
	EXPECT_EQ(FD_CLOEXEC, fcntl(a, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(0, fcntl(b, F_GETFD) & FD_CLOEXEC);
}

TEST_F(port, create_nonblock_sets_o_nonblock)
{
	int a, b;

	a = create_raw(self->dev, MBX_NONBLOCK, 1, 16, 0600, 0, NULL);
	ASSERT_LE(0, a);
	b = create_raw(self->dev, 0, 1, 16, 0600, 0, NULL);
	ASSERT_LE(0, b);
	EXPECT_EQ(O_NONBLOCK, fcntl(a, F_GETFL) & O_NONBLOCK);
	EXPECT_EQ(0, fcntl(b, F_GETFL) & O_NONBLOCK);
	/* and it is honoured: an empty queue does not block read() */
	EXPECT_EQ(-1, read(a, &b, sizeof(b)));
	EXPECT_EQ(EAGAIN, errno);
}

TEST_F(port, open_nonblock_sets_o_nonblock)
{
	int fd, a, b;
	char c;

	fd = create_raw(self->dev, 0, 1, 16, 0600, 0, self->name);
	ASSERT_LE(0, fd);
	a = open_raw(self->dev, MBX_RECV | MBX_NONBLOCK, 0, self->name);
	ASSERT_LE(0, a);
	b = open_raw(self->dev, MBX_RECV, 0, self->name);
	ASSERT_LE(0, b);
	EXPECT_EQ(O_NONBLOCK, fcntl(a, F_GETFL) & O_NONBLOCK);
	EXPECT_EQ(0, fcntl(b, F_GETFL) & O_NONBLOCK);
	EXPECT_EQ(-1, read(a, &c, 1));
	EXPECT_EQ(EAGAIN, errno);
}

TEST_F(port, open_gives_requested_access)
{
	int fd, s, r, sr;

	fd = create_raw(self->dev, 0, 1, 16, 0600, 0, self->name);
	ASSERT_LE(0, fd);
	s = open_raw(self->dev, MBX_SEND, 0, self->name);
	r = open_raw(self->dev, MBX_RECV, 0, self->name);
	sr = open_raw(self->dev, MBX_SEND | MBX_RECV, 0, self->name);
	ASSERT_LE(0, s);
	ASSERT_LE(0, r);
	ASSERT_LE(0, sr);
	EXPECT_EQ(MBX_SEND, T_INFO(s, access));
	EXPECT_EQ(MBX_RECV, T_INFO(r, access));
	EXPECT_EQ(MBX_SEND | MBX_RECV, T_INFO(sr, access));
	/* all four fds are the same port */
	EXPECT_EQ(0, t_send_str(s, "abc", 0));
	EXPECT_EQ(1, T_INFO(r, queued));
	EXPECT_EQ(1, T_INFO(fd, queued));
}

TEST_F(port, name_reusable_at_once_after_unlink_while_old_port_lives)
{
	struct mbx_port_info old_info, new_info;
	int old_fd, new_fd, o;
	char buf[16];

	old_fd = create_raw(self->dev, 0, 2, 16, 0600, 0, self->name);
	ASSERT_LE(0, old_fd);
	ASSERT_EQ(0, t_send_str(old_fd, "old", 0));
	ASSERT_EQ(0, unlink_raw(self->dev, 0, 0, self->name));

	new_fd = create_raw(self->dev, 0, 2, 16, 0600, 0, self->name);
	ASSERT_LE(0, new_fd);
	ASSERT_EQ(0, t_info(old_fd, &old_info));
	ASSERT_EQ(0, t_info(new_fd, &new_info));
	EXPECT_NE(old_info.id, new_info.id);
	EXPECT_EQ(0, old_info.state & MBX_STATE_NAMED);
	EXPECT_EQ(MBX_STATE_NAMED, new_info.state & MBX_STATE_NAMED);

	/* the name now leads to the new port */
	o = open_raw(self->dev, MBX_RECV, 0, self->name);
	ASSERT_LE(0, o);
	ASSERT_EQ(0, t_info(o, &old_info));
	EXPECT_EQ(new_info.id, old_info.id);
	ASSERT_EQ(0, t_info(old_fd, &old_info));
	EXPECT_EQ(-EAGAIN, t_recv_str(o, buf, sizeof(buf), NULL));

	/* the old port still works and kept its message */
	EXPECT_EQ(3, t_recv_str(old_fd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("old", buf);
	EXPECT_EQ(0, t_send_str(old_fd, "again", 0));
	EXPECT_EQ(5, t_recv_str(old_fd, buf, sizeof(buf), NULL));
}

TEST_F(port, unlink_by_non_owner_fails_eperm)
{
	pid_t pid;
	int fd;

	fd = create_raw(self->dev, 0, 1, 16, 0666, 0, self->name);
	ASSERT_LE(0, fd);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (t_become(T_UID1, T_GID1))
			_exit(T_BAD_SETUP);
		_exit(t_code(mbx_port_unlink(MBX_DEV_AUTO, self->name)));
	}
	EXPECT_EQ(EPERM, t_reap(pid));
	/* still linked */
	EXPECT_EQ(MBX_STATE_NAMED, T_INFO(fd, state) & MBX_STATE_NAMED);
	EXPECT_LE(0, open_raw(self->dev, MBX_SEND, 0, self->name));
}

TEST_F(port, owner_and_group_are_creators_effective_ids)
{
	struct mbx_port_info *info = t_shared(sizeof(*info));
	pid_t pid;

	ASSERT_NE(NULL, info);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd;

		if (setgroups(0, NULL) || setresgid(T_GID2, T_GID2, T_GID2) ||
		    setresuid(T_UID1, T_UID1, T_UID1))
			_exit(T_BAD_SETUP);
		fd = t_port(1, 16, 0600, NULL, 0);
		if (fd < 0)
			_exit(t_code(fd));
		_exit(t_code(t_info(fd, info)));
	}
	ASSERT_EQ(0, t_reap(pid));
	EXPECT_EQ(T_UID1, info->uid);
	EXPECT_EQ(T_GID2, info->gid);
}

TEST_F(port, info_counts_senders_and_receivers_per_open_file)
{
	int fd, s, r, sr, d;

	fd = create_raw(self->dev, 0, 1, 16, 0600, 0, self->name);
	ASSERT_LE(0, fd);
	EXPECT_EQ(1, T_INFO(fd, senders));
	EXPECT_EQ(1, T_INFO(fd, receivers));
	s = open_raw(self->dev, MBX_SEND, 0, self->name);
	ASSERT_LE(0, s);
	EXPECT_EQ(2, T_INFO(fd, senders));
	EXPECT_EQ(1, T_INFO(fd, receivers));
	r = open_raw(self->dev, MBX_RECV, 0, self->name);
	ASSERT_LE(0, r);
	EXPECT_EQ(2, T_INFO(fd, senders));
	EXPECT_EQ(2, T_INFO(fd, receivers));
	sr = open_raw(self->dev, MBX_SEND | MBX_RECV, 0, self->name);
	ASSERT_LE(0, sr);
	EXPECT_EQ(3, T_INFO(fd, senders));
	EXPECT_EQ(3, T_INFO(fd, receivers));
	/* dup() shares the open file: it does not count */
	d = dup(s);
	ASSERT_LE(0, d);
	EXPECT_EQ(3, T_INFO(fd, senders));
	close(s);
	EXPECT_EQ(3, T_INFO(fd, senders));
	close(d);
	EXPECT_EQ(2, T_INFO(fd, senders));
	close(r);
	EXPECT_EQ(2, T_INFO(fd, receivers));
	close(sr);
	EXPECT_EQ(1, T_INFO(fd, senders));
	EXPECT_EQ(1, T_INFO(fd, receivers));
}

TEST_F(port, info_counts_messages_and_bytes)
{
	struct mbx_port_info info;
	char buf[64];
	int fd;

	fd = create_raw(self->dev, 0, 8, 64, 0600, 0, NULL);
	ASSERT_LE(0, fd);
	memset(buf, 'b', sizeof(buf));
	ASSERT_EQ(0, mbx_send(fd, buf, 10, 0));
	ASSERT_EQ(0, mbx_send(fd, buf, 20, 3));
	ASSERT_EQ(0, mbx_send(fd, buf, 0, 0));
	ASSERT_EQ(0, t_info(fd, &info));
	EXPECT_EQ(3, info.queued);
	EXPECT_EQ(3, info.sent);
	EXPECT_EQ(30, info.bytes_sent);
	EXPECT_EQ(0, info.received);
	EXPECT_EQ(0, info.bytes_received);

	/* prio 3 first: 20 bytes */
	ASSERT_EQ(20, mbx_recv_nonblock(fd, buf, sizeof(buf), NULL));
	ASSERT_EQ(0, t_info(fd, &info));
	EXPECT_EQ(2, info.queued);
	EXPECT_EQ(3, info.sent);
	EXPECT_EQ(1, info.received);
	EXPECT_EQ(20, info.bytes_received);

	/* failed calls count nothing */
	EXPECT_EQ(-EMSGSIZE, mbx_recv_nonblock(fd, buf, 5, NULL));
	EXPECT_EQ(-EMSGSIZE, mbx_send(fd, buf, 65, 0));
	ASSERT_EQ(0, t_info(fd, &info));
	EXPECT_EQ(2, info.queued);
	EXPECT_EQ(3, info.sent);
	EXPECT_EQ(30, info.bytes_sent);
	EXPECT_EQ(1, info.received);
	EXPECT_EQ(20, info.bytes_received);
	EXPECT_EQ(0, info.send_waits);
	EXPECT_EQ(0, info.recv_waits);
}

TEST_F(port, info_counts_blocking_waits_and_waiters)
{
	struct mbx_port_info info;
	char buf[16];
	pid_t pid;
	int fd;

	fd = create_raw(self->dev, 0, 1, 16, 0600, 0, NULL);
	ASSERT_LE(0, fd);

	/* a receive that has to wait */
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(t_code(mbx_recv(fd, buf, sizeof(buf), NULL)));
	ASSERT_EQ(0, T_WAIT(fd, recv_waiting, 1));
	ASSERT_EQ(0, t_info(fd, &info));
	EXPECT_EQ(1, info.recv_waits);
	EXPECT_EQ(0, info.send_waiting);
	ASSERT_EQ(0, t_send_str(fd, "r", 0));
	EXPECT_EQ(0, t_reap(pid));
	EXPECT_EQ(0, T_INFO(fd, recv_waiting));

	/* a send that has to wait */
	ASSERT_EQ(0, t_send_str(fd, "full", 0));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(t_code(t_send_str(fd, "s", 0)));
	ASSERT_EQ(0, T_WAIT(fd, send_waiting, 1));
	ASSERT_EQ(0, t_info(fd, &info));
	EXPECT_EQ(1, info.send_waits);
	EXPECT_EQ(1, info.recv_waits);
	ASSERT_EQ(4, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_EQ(0, t_reap(pid));
	ASSERT_EQ(0, t_info(fd, &info));
	EXPECT_EQ(0, info.send_waiting);
	EXPECT_EQ(1, info.queued);

	/* non-blocking calls that fail never count as waits */
	EXPECT_EQ(-EAGAIN, mbx_send_nonblock(fd, "x", 1, 0));
	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_EQ(-EAGAIN, t_recv_str(fd, buf, sizeof(buf), NULL));
	ASSERT_EQ(0, t_info(fd, &info));
	EXPECT_EQ(1, info.send_waits);
	EXPECT_EQ(1, info.recv_waits);
}

TEST_F(port, info_clears_reserved_and_is_per_port)
{
	struct mbx_port_info info;
	uint64_t id;
	int a, b;

	a = create_raw(self->dev, 0, 1, 16, 0600, 0, NULL);
	b = create_raw(self->dev, 0, 1, 16, 0600, 0, NULL);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	memset(&info, 0xff, sizeof(info));
	ASSERT_EQ(0, t_ioctl(a, MBX_IOC_PORT_INFO, &info));
	/* The topic fields, which took the place of reserved[4]. */
	EXPECT_EQ(0, info.subscribers);
	EXPECT_EQ(0, info.sub_state);
	EXPECT_EQ(0, info.sub_depth);
	EXPECT_EQ(0, info.sub_max_msgs);
	EXPECT_EQ(0, info.sub_bytes);
	EXPECT_EQ(0, info.sub_dropped);
	id = info.id;
	ASSERT_EQ(0, t_info(b, &info));
	EXPECT_NE(id, info.id);
}

TEST_F(port, info_bad_pointer_fails_efault)
{
	int fd = create_raw(self->dev, 0, 1, 16, 0600, 0, NULL);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EFAULT, t_ioctl(fd, MBX_IOC_PORT_INFO, t_bad_ptr()));
	EXPECT_EQ(-EFAULT, t_ioctl(fd, MBX_IOC_PORT_INFO, NULL));
}

TEST_F(port, fdinfo_shows_port_state)
{
	struct mbx_port_info info;
	char val[128], sd_before[32];
	int fd, r;

	fd = create_raw(self->dev, 0, 3, 100, 0600, 0, self->name);
	ASSERT_LE(0, fd);
	r = open_raw(self->dev, MBX_RECV, 0, self->name);
	ASSERT_LE(0, r);
	ASSERT_EQ(0, t_info(fd, &info));
	ASSERT_EQ(0, t_send_str(fd, "q", 0));

	ASSERT_EQ(0, t_fdinfo(fd, "mbx-id", val, sizeof(val)));
	EXPECT_EQ(info.id, strtoull(val, NULL, 0));
	ASSERT_EQ(0, t_fdinfo(fd, "mbx-name", val, sizeof(val)));
	EXPECT_STREQ(self->name, val);
	ASSERT_EQ(0, t_fdinfo(fd, "mbx-capacity", val, sizeof(val)));
	EXPECT_EQ(3, strtoull(val, NULL, 0));
	ASSERT_EQ(0, t_fdinfo(fd, "mbx-queued", val, sizeof(val)));
	EXPECT_EQ(1, strtoull(val, NULL, 0));
	ASSERT_EQ(0, t_fdinfo(fd, "mbx-max-msg-size", val, sizeof(val)));
	EXPECT_EQ(100, strtoull(val, NULL, 0));

	/* access is per fd */
	ASSERT_EQ(0, t_fdinfo(fd, "mbx-access", val, sizeof(val)));
	ASSERT_EQ(0, t_fdinfo(r, "mbx-access", sd_before, sizeof(sd_before)));
	EXPECT_STRNE(val, sd_before);
	ASSERT_EQ(0, t_fdinfo(r, "mbx-id", val, sizeof(val)));
	EXPECT_EQ(info.id, strtoull(val, NULL, 0));

	/* shutdown shows */
	ASSERT_EQ(0, t_fdinfo(fd, "mbx-shutdown", sd_before, sizeof(sd_before)));
	ASSERT_EQ(0, mbx_shutdown(fd));
	ASSERT_EQ(0, t_fdinfo(fd, "mbx-shutdown", val, sizeof(val)));
	EXPECT_STRNE(sd_before, val);
}

TEST_F(port, write_on_receive_only_fd_fails_ebadf)
{
	int fd, r;

	fd = create_raw(self->dev, 0, 2, 16, 0600, 0, self->name);
	ASSERT_LE(0, fd);
	r = open_raw(self->dev, MBX_RECV, 0, self->name);
	ASSERT_LE(0, r);
	EXPECT_EQ(-1, write(r, "x", 1));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(0, T_INFO(fd, queued));
}

TEST_F(port, read_on_send_only_fd_fails_ebadf)
{
	int fd, s;
	char c;

	fd = create_raw(self->dev, 0, 2, 16, 0600, 0, self->name);
	ASSERT_LE(0, fd);
	s = open_raw(self->dev, MBX_SEND, 0, self->name);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, t_send_str(fd, "x", 0));
	EXPECT_EQ(-1, read(s, &c, 1));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(1, T_INFO(fd, queued));
}

TEST_F(port, ioctl_send_on_receive_only_fd_fails_ebadf)
{
	int fd, r;

	fd = create_raw(self->dev, 0, 2, 16, 0600, 0, self->name);
	ASSERT_LE(0, fd);
	r = open_raw(self->dev, MBX_RECV, 0, self->name);
	ASSERT_LE(0, r);
	EXPECT_EQ(-EBADF, mbx_send(r, "x", 1, 0));
	EXPECT_EQ(-EBADF, mbx_send_nonblock(r, "x", 1, 0));
	EXPECT_EQ(0, T_INFO(fd, queued));
}

TEST_F(port, ioctl_recv_on_send_only_fd_fails_ebadf)
{
	int fd, s;
	char c;

	fd = create_raw(self->dev, 0, 2, 16, 0600, 0, self->name);
	ASSERT_LE(0, fd);
	s = open_raw(self->dev, MBX_SEND, 0, self->name);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, t_send_str(fd, "x", 0));
	EXPECT_EQ(-EBADF, mbx_recv(s, &c, 1, NULL));
	EXPECT_EQ(-EBADF, mbx_recv_nonblock(s, &c, 1, NULL));
	EXPECT_EQ(1, T_INFO(fd, queued));
}

/*
 * A port fd is a stream, like a pipe: it has no file position, on every
 * kernel (6.12 removed no_llseek; leaving .llseek unset means the same).
 */
TEST_F(port, lseek_on_port_fd_fails_espipe)
{
	int fd;

	fd = create_raw(self->dev, 0, 2, 16, 0600, 0, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_str(fd, "x", 0));
	EXPECT_EQ(-1, lseek(fd, 0, SEEK_SET));
	EXPECT_EQ(ESPIPE, errno);
	EXPECT_EQ(-1, lseek(fd, 0, SEEK_CUR));
	EXPECT_EQ(ESPIPE, errno);
	EXPECT_EQ(1, T_INFO(fd, queued));
	close(fd);
}

TEST_HARNESS_MAIN
