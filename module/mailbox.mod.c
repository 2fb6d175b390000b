#include <linux/module.h>
#define INCLUDE_VERMAGIC
#include <linux/build-salt.h>
#include <linux/elfnote-lto.h>
#include <linux/export-internal.h>
#include <linux/vermagic.h>
#include <linux/compiler.h>

BUILD_SALT;
BUILD_LTO_INFO;

MODULE_INFO(vermagic, VERMAGIC_STRING);
MODULE_INFO(name, KBUILD_MODNAME);

__visible struct module __this_module
__section(".gnu.linkonce.this_module") = {
	.name = KBUILD_MODNAME,
	.init = init_module,
#ifdef CONFIG_MODULE_UNLOAD
	.exit = cleanup_module,
#endif
	.arch = MODULE_ARCH_INIT,
};

#ifdef CONFIG_RETPOLINE
MODULE_INFO(retpoline, "Y");
#endif


static const struct modversion_info ____versions[]
__used __section("__versions") = {
	{ 0x8a35b432, "sme_me_mask" },
	{ 0x185d46d5, "clear_user_rep_good" },
	{ 0xd6f2e701, "anon_inode_getfile" },
	{ 0x88db9f48, "__check_object_size" },
	{ 0x47978cc, "misc_deregister" },
	{ 0x91c14d8d, "param_ops_uint" },
	{ 0xa421e6e4, "param_ops_ulong" },
	{ 0x13c49cc2, "_copy_from_user" },
	{ 0xced0f4d4, "gen_pool_create" },
	{ 0x3b3d8b33, "fd_install" },
	{ 0xbfc1d1a, "check_zeroed_user" },
	{ 0x94961283, "vunmap" },
	{ 0x37a0cba, "kfree" },
	{ 0xe2964344, "__wake_up" },
	{ 0xba8fbd64, "_raw_spin_lock" },
	{ 0xcbd4898c, "fortify_panic" },
	{ 0xd6eaaea1, "full_name_hash" },
	{ 0xbdfb6dbb, "__fentry__" },
	{ 0x3f4547a7, "put_unused_fd" },
	{ 0x70e470bf, "wake_up_process" },
	{ 0x65487097, "__x86_indirect_thunk_rax" },
	{ 0x6c224cda, "gen_pool_destroy" },
	{ 0x8b8059bd, "in_group_p" },
	{ 0x92997ed8, "_printk" },
	{ 0x1000e51, "schedule" },
	{ 0xa19b956, "__stack_chk_fail" },
	{ 0x296695f, "refcount_warn_saturate" },
	{ 0xf0e52e56, "clear_user_original" },
	{ 0xa916b694, "strnlen" },
	{ 0xb2fd5ceb, "__put_user_4" },
	{ 0x7d173e99, "__free_pages" },
	{ 0x599fb41c, "kvmalloc_node" },
	{ 0x3ef022ec, "compat_ptr_ioctl" },
	{ 0xbcb36fe4, "hugetlb_optimize_vmemmap_key" },
	{ 0x68f31cbd, "__list_add_valid" },
	{ 0xa1194a8a, "fput" },
	{ 0xa85a3e6d, "xa_load" },
	{ 0x505f95b0, "noop_llseek" },
	{ 0x4dfa8d4b, "mutex_lock" },
	{ 0xbecab81f, "clear_user_erms" },
	{ 0x1ebef5d5, "vmap" },
	{ 0xd5fb05af, "ns_capable" },
	{ 0xe1537255, "__list_del_entry_valid" },
	{ 0x68fb37ae, "current_task" },
	{ 0xd38cd261, "__default_kernel_pte_mask" },
	{ 0xb8e7ce2c, "__put_user_8" },
	{ 0x844c8938, "misc_register" },
	{ 0xbefa51a3, "gen_pool_add_owner" },
	{ 0x5b8239ca, "__x86_return_thunk" },
	{ 0x6b10bee1, "_copy_to_user" },
	{ 0xd9a5ea54, "__init_waitqueue_head" },
	{ 0x24d5dbb7, "from_kgid_munged" },
	{ 0xe2d5255a, "strcmp" },
	{ 0x7dcf4135, "__xa_insert" },
	{ 0x745a981, "xa_erase" },
	{ 0xdd64e639, "strscpy" },
	{ 0x9468ea70, "schedule_hrtimeout_range_clock" },
	{ 0x3213f038, "mutex_unlock" },
	{ 0xa843805a, "get_unused_fd_flags" },
	{ 0xd9491c14, "xa_destroy" },
	{ 0x8fa25c24, "xa_find" },
	{ 0x60ba97c, "gen_pool_free_owner" },
	{ 0x11dd3e1e, "alloc_pages" },
	{ 0x3952887, "ktime_add_safe" },
	{ 0xb43f9365, "ktime_get" },
	{ 0xf0949581, "seq_printf" },
	{ 0xd0d3f0a4, "gen_pool_avail" },
	{ 0x2b593aa8, "gen_pool_alloc_algo_owner" },
	{ 0x84a3d865, "pid_vnr" },
	{ 0x725de712, "from_kuid_munged" },
	{ 0xdf36914b, "xa_find_after" },
	{ 0x606e9d01, "kmalloc_trace" },
	{ 0xc1d8cfaf, "__fdget" },
	{ 0x754d539c, "strlen" },
	{ 0x7aa1756e, "kvfree" },
	{ 0x349cba85, "strchr" },
	{ 0xb5b54b34, "_raw_spin_unlock" },
	{ 0xf8a1b589, "put_pid" },
	{ 0xe2c17b5d, "__SCT__might_resched" },
	{ 0x7a7caba8, "kmalloc_caches" },
	{ 0x9060323f, "module_layout" },
};

MODULE_INFO(depends, "");

