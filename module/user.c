// SPDX-License-Identifier: GPL-2.0
/*
 * mailbox: per-user limits.
 *
 * Every port charges its creator one port and the worst case of its memory
 * (a full queue of largest messages, plus its pool) when it is created, and
 * gives both back when it is freed, as POSIX message queues do with
 * RLIMIT_MSGQUEUE.  Sends therefore never fail for accounting.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hashtable.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "mbx.h"

/**
 * struct mbx_user - what one uid has charged
 * @node:  in mbx_users
 * @uid:   the charged user
 * @ports: live ports; the entry is freed when this drops to zero
 * @bytes: sum of the ports' charges
 */
struct mbx_user {
	struct hlist_node node;
	kuid_t uid;
	u32 ports;
	u64 bytes;
};

static DEFINE_SPINLOCK(mbx_users_lock);	/* protects mbx_users and entries */
static DEFINE_HASHTABLE(mbx_users, 6);

static struct mbx_user *__mbx_user_find(kuid_t uid)
{
	struct mbx_user *user;

	lockdep_assert_held(&mbx_users_lock);
	hash_for_each_possible(mbx_users, user, node, __kuid_val(uid))
		if (uid_eq(user->uid, uid))
			return user;
	return NULL;
}

/**
 * mbx_user_charge() - charge one port of @bytes to @uid
 * @uid:   the port's owner
 * @bytes: the port's worst-case memory
 * @userp: on success, the entry to give back to mbx_user_uncharge()
 *
 * Context: process context, may sleep.
 * Return: 0, -EMFILE over max_ports_per_user, -EDQUOT over
 * max_bytes_per_user, -ENOMEM.
 */
int mbx_user_charge(kuid_t uid, u64 bytes, struct mbx_user **userp)
{
	u64 max_bytes = READ_ONCE(mbx_max_bytes_per_user);
	u32 max_ports = READ_ONCE(mbx_max_ports_per_user);
	struct mbx_user *user, *spare;
	int ret = 0;

	spare = kzalloc(sizeof(*spare), GFP_KERNEL_ACCOUNT);
	if (!spare)
		return -ENOMEM;

	spin_lock(&mbx_users_lock);
	user = __mbx_user_find(uid);
	if (!user) {
		user = spare;
		spare = NULL;
		user->uid = uid;
		hash_add(mbx_users, &user->node, __kuid_val(uid));
	}
	if (user->ports >= max_ports)
		ret = -EMFILE;
	else if (bytes > max_bytes || user->bytes > max_bytes - bytes)
		ret = -EDQUOT;

	if (!ret) {
		user->ports++;
		user->bytes += bytes;
		*userp = user;
	} else if (!user->ports) {
		hash_del(&user->node);
		spare = user;
	}
	spin_unlock(&mbx_users_lock);

	kfree(spare);
	return ret;
}

/**
 * mbx_user_uncharge() - give back what mbx_user_charge() took
 * @user:  the entry it returned
 * @bytes: the same byte count
 *
 * Context: any context that may take a spinlock.
 */
void mbx_user_uncharge(struct mbx_user *user, u64 bytes)
{
	bool last;

	spin_lock(&mbx_users_lock);
	WARN_ON_ONCE(!user->ports || user->bytes < bytes);
	user->bytes -= bytes;
	last = !--user->ports;
	if (last)
		hash_del(&user->node);
	spin_unlock(&mbx_users_lock);

	if (last)
		kfree(user);
}
