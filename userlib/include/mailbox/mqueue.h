/* SPDX-License-Identifier: LGPL-2.1 OR MIT */
/*
 * libmailbox-mq: the POSIX message queue interface on mailbox ports.
 *
 * The mq_* functions are declared by the C library's <mqueue.h>, with
 * their POSIX signatures; libmailbox-mq defines them (link with
 * -lmailbox-mq, or preload libmailbox-mq.so in front of the C library).
 * Like every POSIX function they return -1 and set errno on failure.  A
 * queue "/name" is the mailbox named port "name", and an mqd_t is the
 * port's fd, so poll(), epoll and every libmailbox call work on it.
 *
 * The functions below are mailbox's extras, to adopt one call at a time.
 * See libmailbox-mq(3).
 */
#ifndef LIBMAILBOX_MQUEUE_H
#define LIBMAILBOX_MQUEUE_H

#include <mqueue.h>
#include <sys/types.h>
#include <mailbox.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * mq_receive() that also tells who sent the message: the sender's process
 * id (0 if it has none in the caller's pid namespace) and effective uid,
 * as the kernel recorded them.  Either pointer may be NULL.
 */
ssize_t mbx_mq_receive_cred(mqd_t mqdes, char *msg_ptr, size_t msg_len,
			    unsigned int *msg_prio, pid_t *pid, uid_t *uid);

/*
 * The mailbox port name a POSIX queue name maps to, in @buf: "/name"
 * becomes "name"; a name longer than MBX_NAME_MAX bytes becomes its first
 * 46 bytes, '~' and 16 hex digits of a hash of the whole name.  Returns 0,
 * or -1 with errno set as mq_open() would set it.
 */
int mbx_mq_port_name(const char *name, char buf[MBX_NAME_LEN]);

#ifdef __cplusplus
}
#endif

#endif /* LIBMAILBOX_MQUEUE_H */
