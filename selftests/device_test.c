// SPDX-License-Identifier: GPL-2.0
/*
 * The control device: /dev/mailbox exists as a char device with mode 0666,
 * the version ioctl answers, unknown ioctls get ENOTTY and a bad pointer
 * gets EFAULT.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <linux/mailbox.h>
#include <mailbox.h>

#include "kselftest_harness.h"

FIXTURE(dev) {
	int fd;
};

FIXTURE_SETUP(dev)
{
	self->fd = open(MBX_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", MBX_DEVICE_PATH, strerror(errno));
}

FIXTURE_TEARDOWN(dev)
{
	close(self->fd);
}

TEST(node_is_char_device_mode_0666)
{
	struct stat st;

	ASSERT_EQ(0, stat(MBX_DEVICE_PATH, &st)) TH_LOG("stat: %s", strerror(errno));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0666, st.st_mode & 07777);
}

TEST(unprivileged_user_can_open)
{
	pid_t pid = fork();
	int status;

	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd;

		if (setgid(65534) || setuid(65534))
			_exit(2);
		fd = open(MBX_DEVICE_PATH, O_RDWR);
		_exit(fd < 0 ? 1 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_F(dev, version_ioctl)
{
	struct mbx_version v;

	memset(&v, 0xa5, sizeof(v));
	ASSERT_EQ(0, ioctl(self->fd, MBX_IOC_VERSION, &v)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(MBX_API_VERSION, v.version);
	EXPECT_EQ(0, v.reserved);
	EXPECT_TRUE(v.features & MBX_FEAT_PORTS);
}

TEST_F(dev, version_through_libmailbox)
{
	struct mbx_version v;

	memset(&v, 0, sizeof(v));
	ASSERT_EQ(0, mbx_version(self->fd, &v));
	EXPECT_EQ(MBX_API_VERSION, v.version);
	memset(&v, 0, sizeof(v));
	ASSERT_EQ(0, mbx_version(MBX_DEV_AUTO, &v));
	EXPECT_EQ(MBX_API_VERSION, v.version);
}

TEST_F(dev, unknown_ioctl_enotty)
{
	struct mbx_version v;

	/* An unused number with our magic. */
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, _IO(MBX_IOC_MAGIC, 0x7f)));
	EXPECT_EQ(ENOTTY, errno);

	/* MBX_IOC_VERSION's number, size and direction under a foreign magic. */
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, _IOR(MBX_IOC_MAGIC + 1, 0x00, struct mbx_version), &v));
	EXPECT_EQ(ENOTTY, errno);

	/* A port ioctl is not a control-device ioctl. */
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, MBX_IOC_SHUTDOWN));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_F(dev, version_bad_pointer_efault)
{
	void *ro;

	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, MBX_IOC_VERSION, NULL));
	EXPECT_EQ(EFAULT, errno);

	/* Mapped but not writable. */
	ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, MBX_IOC_VERSION, ro));
	EXPECT_EQ(EFAULT, errno);
	munmap(ro, 4096);
}

TEST_HARNESS_MAIN
