// SPDX-License-Identifier: GPL-2.0
/*
 * mbx_splat: a test-only module that misbehaves on purpose when loaded.
 *
 * The selftest runner loads it in a VM of its own and expects the run to
 * fail: "warn=1" (the default) WARNs, which proves that a kernel warning
 * anywhere in the console is caught; "leak=1" leaks a few allocations,
 * which proves that the kmemleak scan of the debug kernel is; "oops=1"
 * hits a BUG() in a kernel thread of its own (insmod itself succeeds),
 * which proves that an oops is caught even where the kernel prints
 * neither "BUG:" nor "Oops" ("kernel BUG at ...", "invalid opcode: 0000
 * [#1]" on 6.1).
 * Never load it anywhere else.
 */
#include <linux/bug.h>
#include <linux/completion.h>
#include <linux/err.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>

#define MBX_SPLAT_LEAKS	4

static bool warn = true;
module_param(warn, bool, 0444);
MODULE_PARM_DESC(warn, "WARN when loaded (default: yes)");

static bool leak;
module_param(leak, bool, 0444);
MODULE_PARM_DESC(leak, "Leak a few small allocations when loaded (default: no)");

static bool oops;
module_param(oops, bool, 0444);
MODULE_PARM_DESC(oops, "BUG() in a kernel thread when loaded (default: no)");

static DECLARE_COMPLETION(mbx_splat_started);

static int mbx_splat_oops(void *unused)
{
	complete(&mbx_splat_started);
	BUG();
	return 0;
}

static int __init mbx_splat_init(void)
{
	struct task_struct *t;
	void *p;
	int i;

	WARN(warn, "deliberate warning to test the splat detector\n");

	if (oops) {
		t = kthread_run(mbx_splat_oops, NULL, "mbx_splat_oops");
		if (IS_ERR(t))
			return PTR_ERR(t);
		wait_for_completion(&mbx_splat_started);
	}

	/* Several objects: a stale copy of the last pointer may survive. */
	for (i = 0; leak && i < MBX_SPLAT_LEAKS; i++) {
		p = kmalloc(64, GFP_KERNEL);
		if (p)
			memset(p, 0x5a, 64);
	}
	return 0;
}

static void __exit mbx_splat_exit(void)
{
}

module_init(mbx_splat_init);
module_exit(mbx_splat_exit);

MODULE_DESCRIPTION("mailbox test helper: misbehave on load to prove the runner's detectors");
MODULE_LICENSE("GPL");
