// SPDX-License-Identifier: GPL-2.0
/*
 * mailbox: port names, scoped to the IPC namespace of their creator.
 *
 * A linked name holds a reference to its port and to its IPC namespace.  A
 * lookup only ever matches names of the caller's own IPC namespace.  This
 * file keeps the table and nothing else: unlinking a name hands the name's
 * reference to the caller, which tells the port (mbx_port_unname()).
 *
 * A namespace whose references are all its names' (no task in it, no open
 * or mounted nsfs file of it) can never be entered again: its names are
 * unlinked (mbx_names_sweep(), at each create and every 10 s while such
 * namespaces may exist), so that it goes with what it holds (System V
 * objects, its mqueue mount), as its POSIX queues would.  Else an
 * unprivileged user could pin namespaces, and their memory, for good.
 *
 * LOCKING: mbx_names_lock (mutex) protects mbx_names, mbx_names_nss and
 * every port's name_node and ipc_ns.  Nothing else is taken under it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/hashtable.h>
#include <linux/ipc_namespace.h>
#include <linux/mutex.h>
#include <linux/nsproxy.h>
#include <linux/proc_ns.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/stringhash.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

#include "mbx.h"

static DEFINE_MUTEX(mbx_names_lock);
static DEFINE_HASHTABLE(mbx_names, 8);

/**
 * struct mbx_names_ns - an IPC namespace that has names
 * @node:     in mbx_names_nss
 * @ns:       the namespace, referenced once by each of its names
 * @names:    how many
 * @mq_names: how many of them name a MBX_PORT_MQ port (its POSIX queues)
 */
struct mbx_names_ns {
	struct list_head node;
	struct ipc_namespace *ns;
	unsigned int names;
	unsigned int mq_names;
};

static LIST_HEAD(mbx_names_nss);
static unsigned int mbx_names_foreign;	/* entries but the initial ns's */

static void mbx_names_sweep_work(struct work_struct *work);
static DECLARE_DELAYED_WORK(mbx_names_sweep_dwork, mbx_names_sweep_work);
#define MBX_NAMES_SWEEP_DELAY	(10 * HZ)

static void mbx_put_ipc_ns(struct ipc_namespace *ns)
{
#ifdef CONFIG_IPC_NS
	/* put_ipc_ns() is not exported; the namespace's own operation is. */
	ns->ns.ops->put(&ns->ns);
#else
	put_ipc_ns(ns);
#endif
}

static u32 mbx_name_hash(const struct ipc_namespace *ns, const char *name)
{
	return full_name_hash(ns, name, strlen(name));
}

static struct mbx_port *__mbx_name_find(struct ipc_namespace *ns,
					const char *name)
{
	struct mbx_port *port;

	lockdep_assert_held(&mbx_names_lock);
	hash_for_each_possible(mbx_names, port, name_node,
			       mbx_name_hash(ns, name))
		if (port->ipc_ns == ns && !strcmp(port->name, name))
			return port;
	return NULL;
}

/* The initial IPC namespace (init_ipc_ns is not exported). */
static bool mbx_ipc_ns_initial(const struct ipc_namespace *ns)
{
	return ns->ns.inum == PROC_IPC_INIT_INO;
}

static struct mbx_names_ns *__mbx_names_ns(struct ipc_namespace *ns)
{
	struct mbx_names_ns *rec;

	lockdep_assert_held(&mbx_names_lock);
	list_for_each_entry(rec, &mbx_names_nss, node)
		if (rec->ns == ns)
			return rec;
	return NULL;
}

/* Remove the name of @port; the reference it held becomes the caller's. */
static void __mbx_name_remove(struct mbx_port *port)
{
	struct mbx_names_ns *rec = __mbx_names_ns(port->ipc_ns);

	lockdep_assert_held(&mbx_names_lock);
	hash_del(&port->name_node);
	if (port->mq)
		rec->mq_names--;
	if (!--rec->names) {
		list_del(&rec->node);
		if (!mbx_ipc_ns_initial(rec->ns))
			mbx_names_foreign--;
		kfree(rec);
	}
	mbx_put_ipc_ns(port->ipc_ns);
	port->ipc_ns = NULL;
}

/**
 * mbx_name_check() - validate a name field from user space
 * @name: MBX_NAME_LEN bytes
 *
 * Context: any.
 * Return: 0 for a valid name or an empty one, -ENAMETOOLONG if the field
 * has no NUL, -EINVAL if the name holds a '/'.
 */
int mbx_name_check(const char *name)
{
	if (strnlen(name, MBX_NAME_LEN) == MBX_NAME_LEN)
		return -ENAMETOOLONG;
	if (strchr(name, '/'))
		return -EINVAL;
	return 0;
}

/*
 * Whether a port made by mq_open() would be one POSIX queue too many: as
 * ipc/mqueue.c refuses a queue past the namespace's queues_max
 * (/proc/sys/fs/mqueue/queues_max) to a caller without CAP_SYS_RESOURCE,
 * counting the namespace's named mq ports.  Decided with the name, under
 * mbx_names_lock, so that two creators cannot both take the last place.
 */
static bool __mbx_mq_full(struct ipc_namespace *ns, struct mbx_names_ns *rec)
{
	lockdep_assert_held(&mbx_names_lock);
	if (!IS_ENABLED(CONFIG_POSIX_MQUEUE))
		return false;
	return (rec ? rec->mq_names : 0) >= READ_ONCE(ns->mq_queues_max) &&
	       !capable(CAP_SYS_RESOURCE);
}

/**
 * mbx_name_link() - make @port reachable by its name in the current IPC
 * namespace
 * @port: a new port with a non-empty, checked name
 *
 * The name takes a reference to @port.  The caller marks the port linked
 * first: once the name is published, an unlink may clear the mark.
 *
 * Context: process context, may sleep.
 * Return: 0, -EEXIST if the name is taken in this namespace, -ENOSPC for
 * a MBX_PORT_MQ port past the namespace's POSIX queues_max, -ENOMEM.
 */
int mbx_name_link(struct mbx_port *port)
{
	struct ipc_namespace *ns = current->nsproxy->ipc_ns;
	struct mbx_names_ns *rec;
	int ret = -EEXIST;

	mutex_lock(&mbx_names_lock);
	if (__mbx_name_find(ns, port->name))
		goto out;
	rec = __mbx_names_ns(ns);
	ret = -ENOSPC;
	if (port->mq && __mbx_mq_full(ns, rec))
		goto out;
	if (!rec) {
		ret = -ENOMEM;
		rec = kzalloc(sizeof(*rec), GFP_KERNEL_ACCOUNT);
		if (!rec)
			goto out;
		rec->ns = ns;
		list_add(&rec->node, &mbx_names_nss);
		if (!mbx_ipc_ns_initial(ns) && !mbx_names_foreign++)
			schedule_delayed_work(&mbx_names_sweep_dwork,
					      MBX_NAMES_SWEEP_DELAY);
	}
	rec->names++;
	if (port->mq)
		rec->mq_names++;

	port->ipc_ns = get_ipc_ns(ns);
	kref_get(&port->ref);
	hash_add(mbx_names, &port->name_node, mbx_name_hash(ns, port->name));
	ret = 0;
out:
	mutex_unlock(&mbx_names_lock);
	return ret;
}

/**
 * mbx_name_taken() - whether a name is taken in the current IPC namespace
 * @name: a checked, non-empty name
 *
 * A hint for a create, so that a taken name is EEXIST before any limit is
 * charged (as an existing POSIX queue is, whatever the attributes asked);
 * mbx_name_link() decides.
 *
 * Context: process context, may sleep.
 * Return: true if a port has that name now.
 */
bool mbx_name_taken(const char *name)
{
	bool taken;

	mutex_lock(&mbx_names_lock);
	taken = __mbx_name_find(current->nsproxy->ipc_ns, name);
	mutex_unlock(&mbx_names_lock);
	return taken;
}

/*
 * CAP_IPC_OWNER in the user namespace that owns @ns, over a port whose
 * owner is mapped there, as capable_wrt_inode_uidgid() asks of a file.
 * Only a use of the capability is audited (@audit), not a listing.
 */
static bool mbx_name_capable(struct ipc_namespace *ns, struct mbx_port *port,
			     bool audit)
{
	return kuid_has_mapping(ns->user_ns, port->uid) &&
	       kgid_has_mapping(ns->user_ns, port->gid) &&
	       (audit ? ns_capable(ns->user_ns, CAP_IPC_OWNER) :
			ns_capable_noaudit(ns->user_ns, CAP_IPC_OWNER));
}

/* Like a file: owner, else group, else other bits; w sends, r receives. */
static bool mbx_name_mode_allows(struct mbx_port *port, u32 access)
{
	umode_t want = (access & MBX_SEND ? 2 : 0) | (access & MBX_RECV ? 4 : 0);
	umode_t mode = port->mode;

	if (uid_eq(current_fsuid(), port->uid))
		mode >>= 6;
	else if (in_group_p(port->gid))
		mode >>= 3;
	return (mode & want) == want;
}

static int mbx_name_permission(struct ipc_namespace *ns, struct mbx_port *port,
			       u32 access)
{
	if (mbx_name_mode_allows(port, access) ||
	    mbx_name_capable(ns, port, true))
		return 0;
	return -EACCES;
}

/**
 * mbx_name_may_open() - whether the caller may open @port by name at all
 * @port: a named port of the current IPC namespace
 *
 * MBX_IOC_PORT_LIST shows the counters of a port only to whoever may open
 * it for sending or receiving.  Listing uses no privilege: a capability
 * that lets the caller see a port is neither audited nor marked used.
 *
 * Context: process context.
 */
bool mbx_name_may_open(struct mbx_port *port)
{
	struct ipc_namespace *ns = current->nsproxy->ipc_ns;

	return mbx_name_mode_allows(port, MBX_SEND) ||
	       mbx_name_mode_allows(port, MBX_RECV) ||
	       mbx_name_capable(ns, port, false);
}

/**
 * mbx_name_lookup() - open a port by name in the current IPC namespace
 * @name:   a checked, non-empty name
 * @access: MBX_SEND and/or MBX_RECV, checked against the port's mode
 *
 * Context: process context, may sleep.
 * Return: the port with a reference taken, or ERR_PTR(-ENOENT or -EACCES).
 */
struct mbx_port *mbx_name_lookup(const char *name, u32 access)
{
	struct ipc_namespace *ns = current->nsproxy->ipc_ns;
	struct mbx_port *port;
	int ret = -ENOENT;

	mutex_lock(&mbx_names_lock);
	port = __mbx_name_find(ns, name);
	if (port) {
		ret = mbx_name_permission(ns, port, access);
		if (!ret)
			kref_get(&port->ref);
	}
	mutex_unlock(&mbx_names_lock);

	return ret ? ERR_PTR(ret) : port;
}

/**
 * mbx_name_unlink() - remove a name from the current IPC namespace
 * @name: a checked, non-empty name
 *
 * Only the port's owner or a holder of CAP_IPC_OWNER in the namespace's
 * user namespace, where the owner is mapped, may.  The port lives on while
 * files refer to it.
 *
 * Context: process context, may sleep.
 * Return: the port, with the reference its name held, which the caller
 * hands to mbx_port_unname(); or ERR_PTR(-ENOENT or -EPERM).
 */
struct mbx_port *mbx_name_unlink(const char *name)
{
	struct ipc_namespace *ns = current->nsproxy->ipc_ns;
	struct mbx_port *port;

	mutex_lock(&mbx_names_lock);
	port = __mbx_name_find(ns, name);
	if (!port)
		port = ERR_PTR(-ENOENT);
	else if (!uid_eq(current_fsuid(), port->uid) &&
		 !mbx_name_capable(ns, port, true))
		port = ERR_PTR(-EPERM);
	else
		__mbx_name_remove(port);
	mutex_unlock(&mbx_names_lock);
	return port;
}

static int mbx_port_cmp_id(const void *a, const void *b)
{
	const struct mbx_port *pa = *(const struct mbx_port **)a;
	const struct mbx_port *pb = *(const struct mbx_port **)b;

	return pa->id < pb->id ? -1 : pa->id > pb->id;
}

/**
 * mbx_names_get() - the named ports of the current IPC namespace
 * @portsp: NULL to only count them; else set to a kvmalloc'ed array of
 *          them by increasing id, each referenced (NULL if there are none)
 *
 * Context: process context, may sleep.
 * Return: how many there are, or -ENOMEM.
 */
int mbx_names_get(struct mbx_port ***portsp)
{
	struct ipc_namespace *ns = current->nsproxy->ipc_ns;
	struct mbx_port **ports = NULL;
	struct mbx_port *port;
	int bkt, total = 0;

	mutex_lock(&mbx_names_lock);
	hash_for_each(mbx_names, bkt, port, name_node)
		total += port->ipc_ns == ns;
	if (portsp && total) {
		ports = kvmalloc_array(total, sizeof(*ports), GFP_KERNEL_ACCOUNT);
		if (!ports) {
			total = -ENOMEM;
			goto unlock;
		}
		total = 0;
		hash_for_each(mbx_names, bkt, port, name_node) {
			if (port->ipc_ns != ns)
				continue;
			kref_get(&port->ref);
			ports[total++] = port;
		}
		sort(ports, total, sizeof(*ports), mbx_port_cmp_id, NULL);
	}
unlock:
	mutex_unlock(&mbx_names_lock);
	if (portsp)
		*portsp = ports;
	return total;
}

/* A name of a namespace that only its names hold, removed; or NULL. */
static struct mbx_port *mbx_name_pop_unreachable(void)
{
	struct mbx_port *port = NULL;
	struct mbx_names_ns *rec;
	int bkt;

	mutex_lock(&mbx_names_lock);
	list_for_each_entry(rec, &mbx_names_nss, node) {
		/* Nobody else holds it: nobody can take a new reference. */
		if (mbx_ipc_ns_refs(rec->ns) != rec->names)
			continue;
		hash_for_each(mbx_names, bkt, port, name_node)
			if (port->ipc_ns == rec->ns)
				break;
		break;
	}
	if (port)
		__mbx_name_remove(port);
	mutex_unlock(&mbx_names_lock);
	return port;
}

/**
 * mbx_names_sweep() - unlink the names nobody can reach any more
 *
 * Those of IPC namespaces that their names alone keep (see the top of
 * this file).
 *
 * Context: process context, may sleep.
 */
void mbx_names_sweep(void)
{
	struct mbx_port *port;

	if (!READ_ONCE(mbx_names_foreign))
		return;
	while ((port = mbx_name_pop_unreachable()))
		mbx_port_unname(port);
}

static void mbx_names_sweep_work(struct work_struct *work)
{
	mbx_names_sweep();
	if (READ_ONCE(mbx_names_foreign))
		schedule_delayed_work(&mbx_names_sweep_dwork,
				      MBX_NAMES_SWEEP_DELAY);
}

/**
 * mbx_names_stop() - no more sweeps, at module unload
 *
 * Context: process context, may sleep.
 */
void mbx_names_stop(void)
{
	cancel_delayed_work_sync(&mbx_names_sweep_dwork);
}

/**
 * mbx_name_pop() - remove any one name, at module unload
 *
 * Context: process context; no port file is open any more.
 * Return: the port, with the reference its name held, which the caller
 * hands to mbx_port_unname(); NULL once no name is left.
 */
struct mbx_port *mbx_name_pop(void)
{
	struct mbx_port *port = NULL;
	int bkt;

	mutex_lock(&mbx_names_lock);
	hash_for_each(mbx_names, bkt, port, name_node)
		break;
	if (port)
		__mbx_name_remove(port);
	mutex_unlock(&mbx_names_lock);
	return port;
}
