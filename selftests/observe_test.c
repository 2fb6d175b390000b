// SPDX-License-Identifier: GPL-2.0
/*
 * What an administrator can see: MBX_IOC_PORT_LIST, the debugfs view and
 * the tracepoints.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include <mailbox.h>

#define TRACING "/sys/kernel/tracing"

static int named_port(const char *name)
{
	struct mbx_port_create c = { .capacity = 4, .mode = 0640 };

	snprintf(c.name, sizeof(c.name), "%s", name);
	return mbx_port_create(MBX_DEV_AUTO, &c);
}

static void unique(char *buf, size_t len, const char *what)
{
	snprintf(buf, len, "obs-%s-%d", what, getpid());
}

static int find(const struct mbx_port_info *list, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(list[i].name, name))
			return i;
	return -1;
}

static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n, got = 0;

	if (fd < 0)
		return -errno;
	while (got < (ssize_t)len - 1 &&
	       (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += n;
	buf[got] = '\0';
	close(fd);
	return (int)got;
}

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -EIO;
}

TEST(list_shows_named_ports_by_increasing_id_with_counters)
{
	char a[64], b[64];
	struct mbx_port_info *list, info;
	int fa, fb, n, ia, ib;

	unique(a, sizeof(a), "a");
	unique(b, sizeof(b), "b");
	fa = named_port(a);
	fb = named_port(b);
	ASSERT_LE(0, fa);
	ASSERT_LE(0, fb);
	ASSERT_EQ(0, mbx_send(fb, "xyz", 3, 0));

	n = mbx_port_list(MBX_DEV_AUTO, &list);
	ASSERT_LE(2, n);
	ia = find(list, n, a);
	ib = find(list, n, b);
	ASSERT_LE(0, ia);
	ASSERT_LE(0, ib);
	EXPECT_LT(ia, ib);
	ASSERT_EQ(0, mbx_port_info(fb, &info));
	EXPECT_EQ(info.id, list[ib].id);
	EXPECT_EQ(1, list[ib].queued);
	EXPECT_EQ(3, list[ib].bytes_sent);
	EXPECT_EQ(0640, list[ib].mode);
	EXPECT_EQ(0, list[ib].access);
	EXPECT_TRUE(list[ib].state & MBX_STATE_NAMED);
	free(list);

	/* Anonymous and unlinked ports are not listed. */
	ASSERT_EQ(0, mbx_port_unlink(MBX_DEV_AUTO, a));
	n = mbx_port_list(MBX_DEV_AUTO, &list);
	ASSERT_LE(1, n);
	EXPECT_EQ(-1, find(list, n, a));
	free(list);
	mbx_port_unlink(MBX_DEV_AUTO, b);
	close(fa);
	close(fb);
}

TEST(list_fills_what_fits_and_reports_the_total)
{
	struct mbx_port_info one[2];
	struct mbx_port_list arg = { 0 };
	char a[64], b[64];
	int dev, fa, fb;

	unique(a, sizeof(a), "c");
	unique(b, sizeof(b), "d");
	fa = named_port(a);
	fb = named_port(b);
	ASSERT_LE(0, fa);
	ASSERT_LE(0, fb);
	dev = mbx_dev_open();
	ASSERT_LE(0, dev);

	ASSERT_EQ(0, ioctl(dev, MBX_IOC_PORT_LIST, &arg));
	EXPECT_EQ(0, arg.count);
	ASSERT_LE(2, arg.total);

	memset(one, 0xa5, sizeof(one));
	arg.ports = (uintptr_t)one;
	arg.count = 1;
	ASSERT_EQ(0, ioctl(dev, MBX_IOC_PORT_LIST, &arg));
	EXPECT_EQ(1, arg.count);
	EXPECT_NE(0, one[0].id);
	EXPECT_EQ(0, one[0].subscribers);
	/* The kernel wrote one entry and nothing past it. */
	EXPECT_EQ(0xa5a5a5a5a5a5a5a5ULL, one[1].id);

	arg.flags = 1;
	EXPECT_EQ(-1, ioctl(dev, MBX_IOC_PORT_LIST, &arg));
	EXPECT_EQ(EINVAL, errno);
	arg.flags = 0;
	arg.ports = 8;
	EXPECT_EQ(-1, ioctl(dev, MBX_IOC_PORT_LIST, &arg));
	EXPECT_EQ(EFAULT, errno);

	mbx_port_unlink(MBX_DEV_AUTO, a);
	mbx_port_unlink(MBX_DEV_AUTO, b);
	close(dev);
	close(fa);
	close(fb);
}

TEST(list_sees_only_the_callers_ipc_namespace)
{
	struct mbx_port_info *list;
	char a[64];
	int fa, status, n;
	pid_t pid;

	unique(a, sizeof(a), "ns");
	fa = named_port(a);
	ASSERT_LE(0, fa);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (unshare(CLONE_NEWIPC))
			_exit(100);
		n = mbx_port_list(MBX_DEV_AUTO, &list);
		if (n < 0)
			_exit(101);
		_exit(find(list, n, a) == -1 ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 100)
		SKIP(goto out, "no IPC namespaces");
	EXPECT_EQ(0, WEXITSTATUS(status));
	n = mbx_port_list(MBX_DEV_AUTO, &list);
	ASSERT_LE(1, n);
	EXPECT_LE(0, find(list, n, a));
	free(list);
out:
	mbx_port_unlink(MBX_DEV_AUTO, a);
	close(fa);
}

TEST(debugfs_lists_every_port_with_its_counters)
{
	struct mbx_port_create c = { .capacity = 2 };
	static char buf[1 << 16];
	struct mbx_port_info info;
	char name[64], line[128];
	int fa, fb;

	if (access("/sys/kernel/debug/mbx/ports", R_OK))
		SKIP(return, "no debugfs");
	unique(name, sizeof(name), "dbg");
	fa = named_port(name);
	ASSERT_LE(0, fa);
	fb = mbx_port_create(MBX_DEV_AUTO, &c);
	ASSERT_LE(0, fb);
	ASSERT_EQ(0, mbx_send(fb, "12345", 5, 0));

	ASSERT_LT(0, read_file("/sys/kernel/debug/mbx/ports", buf,
			       sizeof(buf)));
	EXPECT_EQ(0, strncmp(buf, "id name ", 8));
	ASSERT_EQ(0, mbx_port_info(fa, &info));
	snprintf(line, sizeof(line), "\n%llu %s ",
		 (unsigned long long)info.id, name);
	EXPECT_NE(NULL, strstr(buf, line)) TH_LOG("%s", buf);
	/* The anonymous port: id, "-", ..., capacity 2, queued 1. */
	ASSERT_EQ(0, mbx_port_info(fb, &info));
	snprintf(line, sizeof(line), "\n%llu - 0 0 0000 2 8192 1 ",
		 (unsigned long long)info.id);
	EXPECT_NE(NULL, strstr(buf, line)) TH_LOG("%s", buf);

	mbx_port_unlink(MBX_DEV_AUTO, name);
	close(fa);
	close(fb);
}

/*
 * A name may hold any byte but '/': fdinfo and debugfs show every byte
 * that is not printable ASCII, and the space, tab, newline and backslash
 * that would split their lines, as \ooo, so that a name cannot put
 * terminal escapes on a reader's screen.
 */
TEST(fdinfo_and_debugfs_escape_names)
{
	static char buf[1 << 16];
	char name[64], want[128], line[160], path[64];
	int fd;

	snprintf(name, sizeof(name), "obs-esc-%d-\033[2J\r\x80\xe9 a\\b",
		 getpid());
	snprintf(want, sizeof(want),
		 "obs-esc-%d-\\033[2J\\015\\200\\351\\040a\\134b", getpid());
	fd = named_port(name);
	ASSERT_LE(0, fd);
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	ASSERT_LT(0, read_file(path, buf, sizeof(buf)));
	snprintf(line, sizeof(line), "\nmbx-name:\t%s\n", want);
	EXPECT_NE(NULL, strstr(buf, line)) TH_LOG("%s", buf);
	if (!access("/sys/kernel/debug/mbx/ports", R_OK)) {
		ASSERT_LT(0, read_file("/sys/kernel/debug/mbx/ports", buf,
				       sizeof(buf)));
		EXPECT_NE(NULL, strstr(buf, want)) TH_LOG("%s", buf);
		EXPECT_EQ(NULL, strchr(buf, '\033'));
	}
	mbx_port_unlink(MBX_DEV_AUTO, name);
	close(fd);
}

TEST(debugfs_view_is_for_root_only)
{
	struct stat st;

	if (stat("/sys/kernel/debug/mbx/ports", &st))
		SKIP(return, "no debugfs");
	EXPECT_EQ(0400, st.st_mode & 0777);
}

TEST(tracepoints_report_send_recv_wait_and_timeout)
{
	struct mbx_port_create c = { .capacity = 1 };
	static char buf[1 << 16];
	struct mbx_port_info info;
	char want[64], msg[8];
	int fd;

	if (access(TRACING "/trace", W_OK))
		mount("nodev", TRACING, "tracefs", 0, NULL);
	if (access(TRACING "/events/mailbox/enable", W_OK))
		SKIP(return, "no tracefs or no mailbox events");
	fd = mbx_port_create(MBX_DEV_AUTO, &c);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, mbx_port_info(fd, &info));

	ASSERT_EQ(0, write_file(TRACING "/trace", ""));
	/*
	 * No comm recording: enabling an event would otherwise also hook
	 * the scheduler's tracepoints, patching code the other vCPU runs,
	 * which once left QEMU TCG's two vCPUs waiting on each other (an
	 * RCU stall in text_poke_bp()).  The events this checks do not
	 * need it.
	 */
	write_file(TRACING "/options/record-cmd", "0");
	ASSERT_EQ(0, write_file(TRACING "/events/mailbox/enable", "1"));
	ASSERT_EQ(0, write_file(TRACING "/tracing_on", "1"));
	EXPECT_EQ(0, mbx_send(fd, "ping", 4, 3));
	EXPECT_EQ(4, mbx_recv(fd, msg, sizeof(msg), NULL));
	/*
	 * Long enough to be waited for: a deadline that passes before the
	 * receive gets to sleep (1 ms did, on a loaded host under TCG) is
	 * ETIMEDOUT with neither event.
	 */
	EXPECT_EQ(-ETIMEDOUT, mbx_recv_timed(fd, msg, sizeof(msg), NULL,
					     100000000));
	ASSERT_EQ(0, write_file(TRACING "/events/mailbox/enable", "0"));
	write_file(TRACING "/options/record-cmd", "1");	/* the default */
	ASSERT_LT(0, read_file(TRACING "/trace", buf, sizeof(buf)));

	snprintf(want, sizeof(want), "mbx_send: port=%llu len=4 prio=3 pool=0",
		 (unsigned long long)info.id);
	EXPECT_NE(NULL, strstr(buf, want)) TH_LOG("%s", buf);
	snprintf(want, sizeof(want), "mbx_recv: port=%llu len=4 prio=3",
		 (unsigned long long)info.id);
	EXPECT_NE(NULL, strstr(buf, want)) TH_LOG("%s", buf);
	snprintf(want, sizeof(want), "mbx_wait: port=%llu recv",
		 (unsigned long long)info.id);
	EXPECT_NE(NULL, strstr(buf, want)) TH_LOG("%s", buf);
	snprintf(want, sizeof(want), "mbx_timeout: port=%llu recv",
		 (unsigned long long)info.id);
	EXPECT_NE(NULL, strstr(buf, want)) TH_LOG("%s", buf);
	close(fd);
}

TEST(fdinfo_follows_the_queue)
{
	struct mbx_port_create c = { .capacity = 3 };
	char path[64], buf[1024];
	int fd;

	fd = mbx_port_create(MBX_DEV_AUTO, &c);
	ASSERT_LE(0, fd);
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	ASSERT_LT(0, read_file(path, buf, sizeof(buf)));
	EXPECT_NE(NULL, strstr(buf, "mbx-queued:\t0\n"));
	ASSERT_EQ(0, mbx_send(fd, "a", 1, 0));
	ASSERT_EQ(0, mbx_send(fd, "b", 1, 0));
	ASSERT_LT(0, read_file(path, buf, sizeof(buf)));
	EXPECT_NE(NULL, strstr(buf, "mbx-queued:\t2\n")) TH_LOG("%s", buf);
	ASSERT_EQ(0, mbx_shutdown(fd));
	ASSERT_LT(0, read_file(path, buf, sizeof(buf)));
	EXPECT_NE(NULL, strstr(buf, "mbx-shutdown:\t1\n")) TH_LOG("%s", buf);
	close(fd);
}

TEST_HARNESS_MAIN
