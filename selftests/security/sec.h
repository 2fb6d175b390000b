/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The security tests' common part (security_test.c,
 * security_limits_test.c, security_access_test.c): the byte pattern that
 * shows what the kernel wrote, the features this test knows, the module
 * parameters the fixture saves and restores, and the raw calls.
 */
#ifndef _SEC_H
#define _SEC_H

#include <dirent.h>
#include <limits.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "kselftest_harness.h"
#include "mbx_helpers.h"

#define PAT		0xA5
#define PAT32		0xA5A5A5A5U
#define PAT64		0xA5A5A5A5A5A5A5A5ULL
#define KTIME_MAX_NS	((uint64_t)INT64_MAX)
#define MIB		(1024 * 1024ULL)
#define PAGE		4096

#ifdef MBX_FEAT_BUF_NEXT
#define KNOWN_FEATURES	(MBX_FEAT_PORTS | MBX_FEAT_POOL | MBX_FEAT_CALL | \
			 MBX_FEAT_BATCH | MBX_FEAT_LIST | MBX_FEAT_BUF_NEXT)
#elif defined(MBX_FEAT_LIST)
#define KNOWN_FEATURES	(MBX_FEAT_PORTS | MBX_FEAT_POOL | MBX_FEAT_CALL | \
			 MBX_FEAT_BATCH | MBX_FEAT_LIST)
#else
#define KNOWN_FEATURES	(MBX_FEAT_PORTS | MBX_FEAT_POOL | MBX_FEAT_CALL | \
			 MBX_FEAT_BATCH)
#endif
#ifdef MBX_FEAT_NOTIFY
#define KNOWN_MQ_FEATURES	(MBX_FEAT_MQ | MBX_FEAT_NOTIFY)
#else
#define KNOWN_MQ_FEATURES	0
#endif
#ifdef MBX_FEAT_SEAL
#define KNOWN_SEAL_FEATURES	MBX_FEAT_SEAL
#else
#define KNOWN_SEAL_FEATURES	0
#endif
#ifdef MBX_FEAT_TOPIC
#define KNOWN_TOPIC_FEATURES	MBX_FEAT_TOPIC
#else
#define KNOWN_TOPIC_FEATURES	0
#endif
#ifdef MBX_FEAT_RING
#define KNOWN_RING_FEATURES	MBX_FEAT_RING
#else
#define KNOWN_RING_FEATURES	0
#endif

static const char params[][24] = {
	"max_ports_per_user", "max_bytes_per_user", "max_capacity",
	"max_msg_size", "default_msg_size", "max_pool_size",
};

#define NPARAMS ARRAY_SIZE(params)

FIXTURE(sec) {
	unsigned long long saved[NPARAMS];
	int have[NPARAMS];
	char name[MBX_NAME_LEN];
	char odd_name[MBX_NAME_LEN];	/* a name t_name() cannot make */
};

FIXTURE_SETUP(sec)
{
	unsigned int i;

	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < NPARAMS; i++)
		self->have[i] = !t_param_get(params[i], &self->saved[i]);
	t_name(self->name, "sec");
	self->odd_name[0] = '\0';
}

FIXTURE_TEARDOWN(sec)
{
	unsigned int i;

	t_unlink_all();
	if (self->odd_name[0])
		mbx_port_unlink(MBX_DEV_AUTO, self->odd_name);
	for (i = 0; i < NPARAMS; i++)
		if (self->have[i])
			EXPECT_EQ(0, t_param_set(params[i], self->saved[i]))
				TH_LOG("could not restore %s", params[i]);
}

/* ---- helpers ------------------------------------------------------------ */

/* 1 if every byte of @p is the fill pattern. */
static inline int untouched(const void *p, size_t len)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i] != PAT)
			return 0;
	return 1;
}

/* The topic fields at the end of struct mbx_port_info, once reserved[4]. */
#define TOPIC_FIELDS	(sizeof(struct mbx_port_info) - \
			 offsetof(struct mbx_port_info, subscribers))

static inline int all_zero(const void *p, size_t len)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i])
			return 0;
	return 1;
}

/* 1 if the name field holds a NUL-terminated string and zeroes after it. */
static inline int name_zero_padded(const char name[MBX_NAME_LEN])
{
	size_t n = strnlen(name, MBX_NAME_LEN);

	return n < MBX_NAME_LEN && all_zero(name + n, MBX_NAME_LEN - n);
}

static inline long send_ex(int fd, const void *buf, uint64_t len, uint32_t flags,
			   uint32_t prio, uint64_t tag)
{
	struct mbx_send s;

	memset(&s, 0, sizeof(s));
	s.buf = (uintptr_t)buf;
	s.len = len;
	s.flags = flags | MBX_NONBLOCK;
	s.prio = prio;
	s.tag = tag;
	return t_ioctl(fd, MBX_IOC_SEND, &s);
}

static inline long batch(int fd, unsigned long cmd, uint64_t msgs, uint32_t count,
			 uint32_t flags, uint64_t timeout, uint32_t *done)
{
	struct mbx_batch b;
	long ret;

	memset(&b, 0, sizeof(b));
	b.msgs = msgs;
	b.count = count;
	b.flags = flags;
	b.timeout_ns = timeout;
	b.done = PAT32;
	ret = t_ioctl(fd, cmd, &b);
	if (done)
		*done = b.done;
	return ret;
}

static inline void *map_pool(int fd, size_t len, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_SHARED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Read one byte from @fd within T_WAIT_MS; 0 or -errno. */
static inline int wait_byte(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	if (poll(&p, 1, T_WAIT_MS) != 1)
		return -ETIMEDOUT;
	return read(fd, &c, 1) == 1 ? 0 : -EIO;
}

#endif /* _SEC_H */
