// SPDX-License-Identifier: GPL-2.0
/*
 * Loading and unloading the module: 100 unload/load cycles, each followed
 * by a version query through a freshly created /dev/mailbox, without
 * growing kernel memory; unloading is refused while an fd holds the module.
 *
 * The module is loaded from MBX_MODULE (default /lib/modules/mailbox.ko,
 * where the VM runner puts it) and is left loaded at the end.  On the debug
 * kernel the runner's kmemleak scan covers small leaks, and 20 cycles are
 * run (kmemleak reports a single leaked object; a cycle takes 0.8 s
 * there); the memory bounds here only catch gross ones elsewhere.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#include <linux/mailbox.h>

#include "kselftest_harness.h"
#include "mbx_helpers.h"

#define CYCLES		100
/* On the debug kernel kmemleak reports a single leaked object: fewer do. */
#define DEBUG_CYCLES	20
/* Growth allowed over CYCLES cycles: leaking 10 KiB per cycle trips it. */
#define SLAB_SLACK_KB	1024
#define AVAIL_SLACK_KB	(8 * 1024)

/* Open the device and query the version; 0 or -errno. */
static int version_check(void)
{
	struct mbx_version v = { 0 };
	int fd = open(MBX_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (ioctl(fd, MBX_IOC_VERSION, &v))
		ret = -errno;
	else if (v.version != MBX_API_VERSION)
		ret = -EPROTO;
	close(fd);
	return ret;
}

FIXTURE(mod) {
	int unused;
};

FIXTURE_SETUP(mod)
{
	if (geteuid() != 0)
		SKIP(return, "needs root to load modules");
	if (access(t_module_path(), R_OK))
		SKIP(return, "%s: %s", t_module_path(), strerror(errno));
	if (t_module_loaded() != 1)
		ASSERT_EQ(0, t_module_load());
}

FIXTURE_TEARDOWN(mod)
{
	/* Whatever happened, leave the module loaded for the next tests. */
	if (t_module_loaded() == 0)
		t_module_load();
}

TEST_F_TIMEOUT(mod, load_unload_cycles, 900)
{
	int cycles = t_kmemleak_kernel() ? DEBUG_CYCLES : CYCLES;
	long slab0, avail0, slab1, avail1;
	int i, ret;

	/* Warm up caches (sysfs, kernfs, module loader) before measuring. */
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, t_module_unload());
		ASSERT_EQ(0, t_module_load());
	}
	usleep(200000);
	slab0 = t_meminfo_kb("SUnreclaim");
	avail0 = t_meminfo_kb("MemAvailable");
	ASSERT_LT(0, slab0);

	for (i = 0; i < cycles; i++) {
		ret = t_module_unload();
		ASSERT_EQ(0, ret) TH_LOG("cycle %d: unload: %s", i, strerror(-ret));
		ASSERT_NE(0, access(MBX_DEVICE_PATH, F_OK))
			TH_LOG("cycle %d: %s still exists after unload", i, MBX_DEVICE_PATH);
		ret = t_module_load();
		ASSERT_EQ(0, ret) TH_LOG("cycle %d: load: %s", i, strerror(-ret));
		ret = version_check();
		ASSERT_EQ(0, ret) TH_LOG("cycle %d: version: %s", i, strerror(-ret));
	}

	usleep(200000);
	slab1 = t_meminfo_kb("SUnreclaim");
	avail1 = t_meminfo_kb("MemAvailable");
	TH_LOG("after %d cycles: SUnreclaim %+ld kB, MemAvailable %+ld kB",
	       cycles, slab1 - slab0, avail1 - avail0);
	/* On the debug kernel kmemleak judges leaks (t_kmemleak_kernel()). */
	if (!t_kmemleak_kernel()) {
		EXPECT_GT(SLAB_SLACK_KB, slab1 - slab0);
		EXPECT_GT(AVAIL_SLACK_KB, avail0 - avail1);
	}
	EXPECT_EQ(1, t_module_loaded());
}

TEST_F(mod, unload_refused_while_device_open)
{
	int fd = open(MBX_DEVICE_PATH, O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EWOULDBLOCK, t_module_unload());
	EXPECT_EQ(1, t_module_loaded());
	close(fd);
	EXPECT_EQ(0, t_module_unload());
	EXPECT_EQ(0, t_module_load());
}

TEST_F(mod, unload_refused_while_port_open)
{
	struct mbx_port_create attr = { .capacity = 4 };
	int dev, port;

	dev = open(MBX_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev);
	port = ioctl(dev, MBX_IOC_PORT_CREATE, &attr);
	if (port < 0 && errno == ENOTTY) {
		close(dev);
		SKIP(return, "MBX_IOC_PORT_CREATE not implemented");
	}
	ASSERT_LE(0, port) TH_LOG("port create: %s", strerror(errno));
	close(dev);

	/* The port fd alone must pin the module. */
	EXPECT_EQ(-EWOULDBLOCK, t_module_unload());
	EXPECT_EQ(1, t_module_loaded());
	close(port);
	EXPECT_EQ(0, t_module_unload());
	EXPECT_EQ(0, t_module_load());
	EXPECT_EQ(0, version_check());
}

TEST_HARNESS_MAIN
