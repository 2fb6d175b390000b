/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mailbox: a topic file's subscription, shared by topic.c (its backlog:
 * publish, unsubscribe), topic_recv.c (its receives) and subscribe.c (its
 * uapi: subscribe, poll, PORT_INFO, fdinfo).  Locking: see topic.c.
 */
#ifndef MBX_TOPIC_H
#define MBX_TOPIC_H

#include <linux/list.h>
#include <linux/mutex.h>

#include "mbx.h"

/**
 * struct mbx_sub - a topic file's subscription
 * @node:      in port->subs while @active
 * @next:      per priority, the oldest message not yet received, or NULL
 * @map:       bit p: @next[p] is not NULL
 * @depth:     messages in the backlog
 * @bytes:     their payload bytes
 * @max_msgs:  backlog limit in messages
 * @max_bytes: backlog limit in bytes
 * @policy:    MBX_SUB_BLOCK or MBX_SUB_DROP_OLDEST
 * @full:      a sender found this block-policy backlog without room; it
 *             keeps senders out until it has drained by mbx_sub_slack()
 *             (topic.c)
 * @active:    subscribed
 * @gen:       subscriptions so far, to tell a receive that outlived one
 * @lost:      messages dropped and not yet reported by a receive
 * @dropped:   messages dropped since subscribing
 * @holds:     struct mbx_hold of the pool regions received in place
 * @lock:      see LOCKING in topic.c
 *
 * Everything but @lock is under port->lock.
 */
struct mbx_sub {
	struct list_head node;
	struct mbx_msg *next[MBX_NR_PRIO];
	u32 map;
	u32 depth;
	u64 bytes;
	u32 max_msgs;
	u64 max_bytes;
	u32 policy;
	bool full;
	bool active;
	u32 gen;
	u32 lost;
	u64 dropped;
	struct list_head holds;
	struct mutex lock;		/* see LOCKING in topic.c */
};

/**
 * struct mbx_hold - a pool region a subscription received in place
 * @node:   in sub->holds
 * @region: the region, one of its shares (__mbx_region_share()); the
 *          message that carried it may be gone
 */
struct mbx_hold {
	struct list_head node;
	struct mbx_region *region;
};

void __mbx_sub_start(struct mbx_port *port, struct mbx_sub *sub);
void __mbx_sub_stop(struct mbx_port *port, struct mbx_sub *sub);
void __mbx_sub_drop(struct mbx_port *port, struct mbx_sub *sub);
void __mbx_topic_room(struct mbx_port *port);
bool __mbx_topic_blocked(struct mbx_port *port, size_t len);
void __mbx_topic_unref(struct mbx_port *port, struct mbx_msg *msg);
void __mbx_sub_pop(struct mbx_port *port, struct mbx_sub *sub,
		   struct mbx_msg *msg);
bool mbx_sub_slack(const struct mbx_sub *sub);

#endif /* MBX_TOPIC_H */
