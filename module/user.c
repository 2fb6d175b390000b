// SPDX-License-Identifier: GPL-2.0
/*
 * mailbox: per-user limits.
 *
 * Every port charges its creator one port and the worst case of its memory
 * (a full queue of largest messages, plus its pool) when it is created, and
 * gives both back when it is freed, as POSIX message queues do with
 * RLIMIT_MSGQUEUE.  Sends therefore never fail for accounting.
 *
 * A port made in a user namespace also charges the owner of its outermost
 * namespace below the initial one, as the kernel's rlimit ucounts charge
 * every level up: the uids mapped into a namespace share their owner's
 * limits, rather than each having its own.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cred.h>
#include <linux/hashtable.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/user_namespace.h>

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

/* Charge one port of @bytes to @uid alone: 0 with *@userp, or -errno. */
static int mbx_user_charge_one(kuid_t uid, u64 bytes,
			       struct mbx_user **userp)
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

static void mbx_user_uncharge_one(struct mbx_user *user, u64 bytes)
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

/* The owner of the outermost user namespace of @ns below the initial one. */
static kuid_t mbx_ns_owner(struct user_namespace *ns)
{
	while (ns->parent != &init_user_ns)
		ns = ns->parent;
	return ns->owner;
}

/**
 * mbx_user_charge() - charge one port of @bytes to @uid, and to the owner
 * of the caller's user namespace
 * @uid:   the port's owner
 * @bytes: the port's worst-case memory
 * @users: on success, the entries to give back to mbx_user_uncharge()
 *
 * Context: process context, may sleep.
 * Return: 0, -EMFILE over max_ports_per_user, -EDQUOT over
 * max_bytes_per_user (for either), -ENOMEM.
 */
int mbx_user_charge(kuid_t uid, u64 bytes, struct mbx_user *users[MBX_USERS])
{
	struct user_namespace *ns = current_user_ns();
	kuid_t owner;
	int ret;

	users[1] = NULL;
	ret = mbx_user_charge_one(uid, bytes, &users[0]);
	if (ret || ns == &init_user_ns)
		return ret;
	owner = mbx_ns_owner(ns);
	if (uid_eq(owner, uid))
		return 0;
	ret = mbx_user_charge_one(owner, bytes, &users[1]);
	if (ret)
		mbx_user_uncharge_one(users[0], bytes);
	return ret;
}

/**
 * mbx_user_uncharge() - give back what mbx_user_charge() took
 * @users: the entries it returned
 * @bytes: the same byte count
 *
 * Context: any context that may take a spinlock.
 */
void mbx_user_uncharge(struct mbx_user *users[MBX_USERS], u64 bytes)
{
	mbx_user_uncharge_one(users[0], bytes);
	if (users[1])
		mbx_user_uncharge_one(users[1], bytes);
}
