// SPDX-License-Identifier: GPL-2.0
/*
 * mailbox: a read-only debugfs view of every port and its counters, for
 * the administrator: /sys/kernel/debug/mbx/ports.  Not an interface to
 * build on; programs use MBX_IOC_PORT_LIST and MBX_IOC_PORT_INFO.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "mbx.h"

static struct dentry *mbx_debugfs_dir;

static int mbx_ports_debugfs_show(struct seq_file *m, void *unused)
{
	mbx_ports_show(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(mbx_ports_debugfs);

/**
 * mbx_debugfs_init() - create /sys/kernel/debug/mbx/
 *
 * Failure is not fatal: the module works without its debug view.
 *
 * Context: module init.
 */
void mbx_debugfs_init(void)
{
	/* Not "mailbox": the kernel's own mailbox framework has that one. */
	mbx_debugfs_dir = debugfs_create_dir("mbx", NULL);
	debugfs_create_file("ports", 0400, mbx_debugfs_dir, NULL,
			    &mbx_ports_debugfs_fops);
}

/**
 * mbx_debugfs_exit() - remove what mbx_debugfs_init() created
 *
 * Context: module exit.
 */
void mbx_debugfs_exit(void)
{
	debugfs_remove_recursive(mbx_debugfs_dir);
}
