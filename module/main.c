// SPDX-License-Identifier: GPL-2.0
/*
 * mailbox: fast, safe message passing between processes.
 *
 * This file holds the control device /dev/mailbox, whose ioctls create,
 * open and unlink ports, and the module's parameters.  Ports themselves
 * live in port.c, their names in names.c, per-user limits in user.c.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/minmax.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "mbx.h"

static unsigned int dev_mode = 0666;
module_param(dev_mode, uint, 0444);
MODULE_PARM_DESC(dev_mode, "Permission bits of /dev/mailbox (default 0666)");

/*
 * A message size: 0 would make ports that carry only empty messages.  (A
 * size past MBX_MSG_SIZE_CEILING is taken, and capped where it is used.)
 */
static int mbx_msg_size_set(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, UINT_MAX);
}

static const struct kernel_param_ops mbx_msg_size_ops = {
	.set = mbx_msg_size_set,
	.get = param_get_uint,
};

unsigned int mbx_max_msg_size = 1U << 20;
module_param_cb(max_msg_size, &mbx_msg_size_ops, &mbx_max_msg_size, 0644);
MODULE_PARM_DESC(max_msg_size, "Largest max_msg_size of a port, bytes (default 1 MiB, at least 1, at most 64 MiB)");

unsigned int mbx_default_msg_size = 8192;
module_param_cb(default_msg_size, &mbx_msg_size_ops, &mbx_default_msg_size, 0644);
MODULE_PARM_DESC(default_msg_size, "max_msg_size of a port created with 0 (default 8192, at least 1)");

unsigned int mbx_max_capacity = 65536;
module_param_named(max_capacity, mbx_max_capacity, uint, 0644);
MODULE_PARM_DESC(max_capacity, "Largest capacity of a port, messages (default 65536)");

unsigned long mbx_max_pool_size = 64UL << 20;
module_param_named(max_pool_size, mbx_max_pool_size, ulong, 0644);
MODULE_PARM_DESC(max_pool_size, "Largest pool of a port, bytes (default 64 MiB, at most 4 GiB)");

unsigned int mbx_max_ports_per_user = 1024;
module_param_named(max_ports_per_user, mbx_max_ports_per_user, uint, 0644);
MODULE_PARM_DESC(max_ports_per_user, "Live ports per uid (default 1024)");

unsigned long mbx_max_bytes_per_user = 256UL << 20;
module_param_named(max_bytes_per_user, mbx_max_bytes_per_user, ulong, 0644);
MODULE_PARM_DESC(max_bytes_per_user, "Worst-case bytes of all ports of one uid (default 256 MiB)");

static int mbx_spin_set(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 0, MBX_SPIN_CEILING_NS);
}

static const struct kernel_param_ops mbx_spin_ops = {
	.set = mbx_spin_set,
	.get = param_get_uint,
};

unsigned int mbx_call_spin_ns = 50000;
module_param_cb(call_spin_ns, &mbx_spin_ops, &mbx_call_spin_ns, 0644);
MODULE_PARM_DESC(call_spin_ns, "How long a call spins for its reply before sleeping, ns (default 50000, at most 1000000; 0: never)");

unsigned int mbx_recv_spin_ns = 50000;
module_param_cb(recv_spin_ns, &mbx_spin_ops, &mbx_recv_spin_ns, 0644);
MODULE_PARM_DESC(recv_spin_ns, "How long a blocking receive spins for a message before sleeping, ns (default 50000, at most 1000000; 0: never)");

static long mbx_ioctl_version(void __user *uarg)
{
	struct mbx_version v = {
		.version = MBX_API_VERSION,
		.features = MBX_FEAT_PORTS | MBX_FEAT_POOL | MBX_FEAT_CALL |
			    MBX_FEAT_BATCH | MBX_FEAT_LIST | MBX_FEAT_BUF_NEXT |
			    MBX_FEAT_MQ | MBX_FEAT_NOTIFY | MBX_FEAT_TOPIC |
			    MBX_FEAT_SEAL | MBX_FEAT_RING,
	};

	return copy_to_user(uarg, &v, sizeof(v)) ? -EFAULT : 0;
}

static long mbx_ioctl_create(unsigned int cmd, void __user *uarg)
{
	struct mbx_port_create args;
	struct mbx_port *port;
	int ret;

	ret = mbx_copy_arg(&args, sizeof(args), MBX_PORT_CREATE_SIZE_VER0, cmd,
			   uarg);
	if (ret)
		return ret;
	if (args.flags & ~(MBX_CLOEXEC | MBX_NONBLOCK | MBX_PORT_MQ |
			   MBX_PORT_TOPIC | MBX_PORT_RING) ||
	    args.mode & ~0777)
		return -EINVAL;
	/* A ring port is a ring and nothing else: no queue, no pool. */
	if (args.flags & MBX_PORT_RING ?
	    args.flags & (MBX_PORT_MQ | MBX_PORT_TOPIC) || args.capacity ||
	    args.max_msg_size || args.pool_size ||
	    !mbx_ring_size_ok(args.ring_size) : args.ring_size != 0)
		return -EINVAL;
	/* A topic keeps its messages for its subscribers: no rendezvous. */
	if (args.flags & MBX_PORT_TOPIC &&
	    (args.flags & MBX_PORT_MQ || !args.capacity))
		return -EINVAL;
	ret = mbx_name_check(args.name);
	if (ret)
		return ret;
	/* A taken name is EEXIST, before the limits (mailbox(7)). */
	if (args.name[0] && mbx_name_taken(args.name))
		return -EEXIST;
	/* Ports nobody can reach any more give their charge back first. */
	mbx_names_sweep();

	port = mbx_port_alloc(&args);
	if (IS_ERR(port))
		return PTR_ERR(port);

	/* The creator's fd of a topic is not subscribed: it may publish. */
	ret = mbx_port_install(port, MBX_SEND | MBX_RECV, args.flags,
			       args.name[0] ? MBX_ORIGIN_NEW_NAME :
			       MBX_ORIGIN_FILE, false);
	if (ret < 0)
		mbx_port_put(port);
	return ret;
}

static long mbx_ioctl_open(void __user *uarg)
{
	struct mbx_port_open args;
	struct mbx_port *port;
	u32 access;
	int ret;

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	access = mbx_open_access(args.flags, args.reserved);
	if (!access)
		return -EINVAL;
	ret = mbx_name_check(args.name);
	if (ret)
		return ret;
	if (!args.name[0])
		return -EINVAL;

	port = mbx_name_lookup(args.name, access);
	if (IS_ERR(port))
		return PTR_ERR(port);

	ret = mbx_port_install(port, access, args.flags, MBX_ORIGIN_NAME, true);
	if (ret < 0)
		mbx_port_put(port);
	return ret;
}

static long mbx_ioctl_unlink(void __user *uarg)
{
	struct mbx_port_unlink args;
	struct mbx_port *port;
	int ret;

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	if (args.flags || args.reserved)
		return -EINVAL;
	ret = mbx_name_check(args.name);
	if (ret)
		return ret;
	if (!args.name[0])
		return -EINVAL;

	port = mbx_name_unlink(args.name);
	if (IS_ERR(port))
		return PTR_ERR(port);
	mbx_port_unname(port);
	return 0;
}

/*
 * MBX_IOC_PORT_LIST: the named ports of the caller's IPC namespace by id,
 * the counters of those it may not open left out.
 */
static long mbx_ioctl_list(struct mbx_port_list __user *uarg)
{
	struct mbx_port_info *infos = NULL;
	struct mbx_port **ports = NULL;
	struct mbx_port_list args;
	u32 total, n, i;
	int ret;

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	if (args.flags || args.reserved)
		return -EINVAL;

	ret = mbx_names_get(args.count ? &ports : NULL);
	if (ret < 0)
		return ret;
	total = ret;
	ret = 0;
	n = min(args.count, total);
	if (n) {
		infos = kvmalloc_array(n, sizeof(*infos), GFP_KERNEL_ACCOUNT);
		if (!infos)
			ret = -ENOMEM;
	}
	for (i = 0; i < total && ports; i++) {
		if (infos && i < n) {
			mbx_port_info(ports[i], &infos[i]);
			if (!mbx_name_may_open(ports[i]))
				mbx_port_info_hide(&infos[i]);
		}
		mbx_port_put(ports[i]);
	}
	kvfree(ports);
	if (ret)
		return ret;

	args.count = n;
	args.total = total;
	if (copy_to_user(u64_to_user_ptr(args.ports), infos,
			 n * sizeof(*infos)) ||
	    copy_to_user(uarg, &args, sizeof(args)))
		ret = -EFAULT;
	kvfree(infos);
	return ret;
}

static long mbx_ctl_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case MBX_IOC_VERSION:
		return mbx_ioctl_version(uarg);
	case MBX_IOC_PORT_OPEN:
		return mbx_ioctl_open(uarg);
	case MBX_IOC_PORT_UNLINK:
		return mbx_ioctl_unlink(uarg);
	case MBX_IOC_PORT_LIST:
		return mbx_ioctl_list(uarg);
	}
	if (MBX_IOC_NOSIZE(cmd) == MBX_IOC_NOSIZE(MBX_IOC_PORT_CREATE))
		return mbx_ioctl_create(cmd, uarg);
	return -ENOTTY;
}

static const struct file_operations mbx_ctl_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= mbx_ctl_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice mbx_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "mailbox",
	.fops	= &mbx_ctl_fops,
};

static int __init mbx_init(void)
{
	int ret;

	/* Layout facts user space relies on. */
	BUILD_BUG_ON(sizeof(struct mbx_version) != 16);
	BUILD_BUG_ON(sizeof(struct mbx_port_create) != MBX_PORT_CREATE_SIZE_VER1);
	BUILD_BUG_ON(offsetof(struct mbx_port_create, ring_size) !=
		     MBX_PORT_CREATE_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct mbx_port_open) != 72);
	BUILD_BUG_ON(sizeof(struct mbx_port_unlink) != 72);
	BUILD_BUG_ON(sizeof(struct mbx_port_dup) != 8);
	BUILD_BUG_ON(sizeof(struct mbx_send) != MBX_SEND_SIZE_VER1);
	BUILD_BUG_ON(offsetof(struct mbx_send, next_len) != MBX_SEND_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct mbx_recv) != MBX_RECV_SIZE_VER1);
	BUILD_BUG_ON(offsetof(struct mbx_recv, release_offset) !=
		     MBX_RECV_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct mbx_port_info) != 216);
	BUILD_BUG_ON(sizeof(struct mbx_buf) != 32);
	BUILD_BUG_ON(sizeof(struct mbx_call) != MBX_CALL_SIZE_VER1);
	BUILD_BUG_ON(sizeof(struct mbx_batch) != MBX_BATCH_SIZE_VER1);
	BUILD_BUG_ON(offsetof(struct mbx_batch, entry_size) !=
		     MBX_BATCH_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct mbx_port_list) != 24);
	BUILD_BUG_ON(sizeof(struct mbx_notify) != 32);
	BUILD_BUG_ON(MBX_NR_PRIO > 32);
	BUILD_BUG_ON(sizeof(struct mbx_msg) > MBX_MSG_CHARGE);
	BUILD_BUG_ON(sizeof(struct mbx_subscribe) != 24);
	BUILD_BUG_ON(MBX_MQ_PRIO_MAX > U16_MAX);	/* mbx_msg.prio */
	BUILD_BUG_ON(sizeof(struct mbx_ring_info) != 104);
	BUILD_BUG_ON(sizeof(struct mbx_ring_attach) != 8);
	BUILD_BUG_ON(sizeof(struct mbx_ring_enter) != 32);
	BUILD_BUG_ON(sizeof(struct mbx_ring_rec) != MBX_RING_ALIGN);

	if (dev_mode & ~0666) {
		pr_err("dev_mode %#o: only read and write bits are allowed\n",
		       dev_mode);
		return -EINVAL;
	}
	mbx_misc.mode = dev_mode;
	ret = mbx_msg_cache_init();
	if (ret)
		return ret;
	ret = mbx_batch_cache_init();
	if (ret)
		goto err_cache;
	ret = mbx_seal_init();
	if (ret)
		goto err_batch;
	ret = misc_register(&mbx_misc);
	if (ret)
		goto err_seal;
	mbx_debugfs_init();
	return 0;

err_seal:
	mbx_seal_exit();
err_batch:
	mbx_batch_cache_exit();
err_cache:
	mbx_msg_cache_exit();
	return ret;
}

static void __exit mbx_exit(void)
{
	struct mbx_port *port;

	mbx_debugfs_exit();
	misc_deregister(&mbx_misc);
	/* Named ports outlive their files; their names hold the last refs. */
	mbx_names_stop();
	while ((port = mbx_name_pop()))
		mbx_port_unname(port);
	mbx_seal_exit();
	mbx_batch_cache_exit();
	mbx_msg_cache_exit();
}

module_init(mbx_init);
module_exit(mbx_exit);

MODULE_DESCRIPTION("mailbox: fast, safe message passing");
MODULE_AUTHOR("The mailbox developers");
MODULE_LICENSE("GPL");
