// SPDX-License-Identifier: GPL-2.0
/*
 * Security: what the other tests leave out of issue 6, item 5.
 *
 * - No kernel data reaches user space: every struct the kernel copies out
 *   (mbx_version, mbx_port_info, mbx_recv also through MBX_IOC_CALL and
 *   batches, mbx_buf, mbx_call.done, mbx_port_list where it exists) is
 *   checked byte by byte after filling the user buffer with 0xA5: each
 *   output field holds its documented value, reserved fields and name
 *   padding are zero, and nothing else changed.  fdinfo shows only the
 *   documented keys, each once, whatever the port's name.
 * - Integer overflow on every size and offset: lengths near SIZE_MAX and
 *   2^32 (a truncation to 32 bits would turn them into small, valid ones),
 *   pool offsets past 2^32, batch pointers at the top of the address space,
 *   pool sizes near U64_MAX (also with max_pool_size at its maximum),
 *   capacities and message sizes near U32_MAX, and huge timeouts, which
 *   must neither expire early nor hang (every child is bounded by alarm()).
 * - A hostile user filling ports, pools and queues in a loop reaches its
 *   per-user limits with EDQUOT and EMFILE, never ENOMEM, while another
 *   user's ports keep working.
 * - An fd gives its access and nothing more, by any route: a receive-only
 *   fd cannot write the pool (MAP_PRIVATE, /proc/self/mem, ptrace,
 *   process_vm_writev, reopening through /proc, map_files, mremap, madvise,
 *   the kernel writing on its behalf); a send-only fd cannot receive; an fd
 *   passed to another user with SCM_RIGHTS keeps exactly its access; and
 *   CAP_IPC_OWNER neither widens an fd nor counts from a child user
 *   namespace.
 *
 * Covered elsewhere and not repeated: the permission matrix and
 * CAP_IPC_OWNER on open/unlink (perm_test), namespaces (ns_test), mmap
 * PROT_WRITE / mprotect on receive-only fds (pool_test), the module limits
 * themselves (limits_test), SCM_RIGHTS within one user (fdpass_test).
 */
#define _GNU_SOURCE
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
static int untouched(const void *p, size_t len)
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

static int all_zero(const void *p, size_t len)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i])
			return 0;
	return 1;
}

/* 1 if the name field holds a NUL-terminated string and zeroes after it. */
static int name_zero_padded(const char name[MBX_NAME_LEN])
{
	size_t n = strnlen(name, MBX_NAME_LEN);

	return n < MBX_NAME_LEN && all_zero(name + n, MBX_NAME_LEN - n);
}

static long send_ex(int fd, const void *buf, uint64_t len, uint32_t flags,
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

static long send_buf(int fd, uint64_t off, uint64_t len, uint32_t prio,
		     uint64_t tag)
{
	struct mbx_send s;

	memset(&s, 0, sizeof(s));
	s.offset = off;
	s.len = len;
	s.flags = MBX_SEND_BUF | MBX_NONBLOCK;
	s.prio = prio;
	s.tag = tag;
	return t_ioctl(fd, MBX_IOC_SEND, &s);
}

static long recv_nb(int fd, void *buf, uint64_t len, uint32_t flags,
		    struct mbx_recv *r)
{
	memset(r, 0, sizeof(*r));
	r->buf = (uintptr_t)buf;
	r->len = len;
	r->flags = flags | MBX_NONBLOCK;
	return t_ioctl(fd, MBX_IOC_RECV, r);
}

static long batch(int fd, unsigned long cmd, uint64_t msgs, uint32_t count,
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

static void *map_pool(int fd, size_t len, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_SHARED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

static long long info_u64(int fd, size_t off)
{
	struct mbx_port_info info;
	uint64_t v;

	if (t_info(fd, &info))
		return -1;
	memcpy(&v, (char *)&info + off, sizeof(v));
	return (long long)v;
}

#define INFO64(fd, field) info_u64(fd, offsetof(struct mbx_port_info, field))

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Read one byte from @fd within T_WAIT_MS; 0 or -errno. */
static int wait_byte(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	if (poll(&p, 1, T_WAIT_MS) != 1)
		return -ETIMEDOUT;
	return read(fd, &c, 1) == 1 ? 0 : -EIO;
}

/*
 * 1. Nothing but documented values is copied out
 */

TEST_F(sec, version_is_written_whole_with_reserved_zero)
{
	unsigned char raw[sizeof(struct mbx_version) + 32];
	struct mbx_version *v = (void *)raw;
	int dev = t_dev();

	ASSERT_LE(0, dev);
	memset(raw, PAT, sizeof(raw));
	ASSERT_EQ(0, t_ioctl(dev, MBX_IOC_VERSION, v));
	EXPECT_EQ(MBX_API_VERSION, v->version);
	EXPECT_EQ(0, v->reserved);
	EXPECT_EQ(0, v->features & ~(KNOWN_FEATURES | KNOWN_MQ_FEATURES |
				     KNOWN_SEAL_FEATURES | KNOWN_TOPIC_FEATURES |
				     KNOWN_RING_FEATURES))
		TH_LOG("unknown feature bits %#llx",
		       (unsigned long long)v->features);
	EXPECT_TRUE(v->features & MBX_FEAT_PORTS);
	EXPECT_TRUE(untouched(raw + sizeof(*v), 32));
	close(dev);
}

/*
 * PORT_INFO writes all 216 bytes: every field its value, the name padded
 * with zeroes (not with what followed the NUL in the create argument), the
 * reserved words zero; a larger size-versioned buffer gets zeroes past the
 * struct, a smaller one is refused untouched.
 */
TEST_F(sec, port_info_is_written_whole_with_zero_padding_and_reserved)
{
	unsigned char raw[sizeof(struct mbx_port_info) + 64];
	struct mbx_port_info *info = (void *)raw;
	struct mbx_port_create c;
	unsigned long cmd;
	uint64_t id;
	int dev, fd, r;
	size_t n;

	dev = t_dev();
	ASSERT_LE(0, dev);
	memset(&c, 0, sizeof(c));
	c.capacity = 3;
	c.max_msg_size = 100;
	c.mode = 0640;
	c.pool_size = PAGE;
	n = strlen(self->name);
	memcpy(c.name, self->name, n + 1);
	memset(c.name + n + 1, 0x5a, MBX_NAME_LEN - n - 1);
	fd = t_ioctl(dev, MBX_IOC_PORT_CREATE, &c);
	ASSERT_LE(0, fd);

	memset(raw, PAT, sizeof(raw));
	ASSERT_EQ(0, t_ioctl(fd, MBX_IOC_PORT_INFO, info));
	EXPECT_NE(0, info->id);
	EXPECT_NE(PAT64, info->id);
	EXPECT_EQ(3, info->capacity);
	EXPECT_EQ(100, info->max_msg_size);
	EXPECT_EQ(PAGE, info->pool_size);
	EXPECT_EQ(PAGE, info->pool_free);
	EXPECT_EQ(0640, info->mode);
	EXPECT_EQ(geteuid(), info->uid);
	EXPECT_EQ(getegid(), info->gid);
	EXPECT_EQ(MBX_STATE_NAMED, info->state);
	EXPECT_EQ(MBX_SEND | MBX_RECV, info->access);
	EXPECT_EQ(0, info->queued);
	EXPECT_EQ(1, info->senders);
	EXPECT_EQ(1, info->receivers);
	EXPECT_EQ(0, info->send_waiting);
	EXPECT_EQ(0, info->recv_waiting);
	EXPECT_EQ(0, info->sent);
	EXPECT_EQ(0, info->received);
	EXPECT_EQ(0, info->bytes_sent);
	EXPECT_EQ(0, info->bytes_received);
	EXPECT_EQ(0, info->send_waits);
	EXPECT_EQ(0, info->recv_waits);
	EXPECT_STREQ(self->name, info->name);
	EXPECT_TRUE(name_zero_padded(info->name));
	EXPECT_TRUE(all_zero(&info->subscribers, TOPIC_FIELDS));
	EXPECT_TRUE(untouched(raw + sizeof(*info), 64));
	id = info->id;

	/* a receive-only dup of it, anonymous port fields through a dup */
	r = mbx_port_dup(fd, MBX_RECV);
	ASSERT_LE(0, r);
	memset(raw, PAT, sizeof(raw));
	ASSERT_EQ(0, t_ioctl(r, MBX_IOC_PORT_INFO, info));
	EXPECT_EQ(id, info->id);
	EXPECT_EQ(MBX_RECV, info->access);
	EXPECT_EQ(1, info->senders);
	EXPECT_EQ(2, info->receivers);
	EXPECT_TRUE(name_zero_padded(info->name));
	EXPECT_TRUE(all_zero(&info->subscribers, TOPIC_FIELDS));

	/* larger size-versioned buffer: the tail is cleared */
	cmd = _IOC(_IOC_READ, MBX_IOC_MAGIC, 0x12, sizeof(raw));
	memset(raw, PAT, sizeof(raw));
	ASSERT_EQ(0, t_ioctl(fd, cmd, raw));
	EXPECT_EQ(id, info->id);
	EXPECT_TRUE(all_zero(raw + sizeof(*info), 64));
	EXPECT_TRUE(all_zero(&info->subscribers, TOPIC_FIELDS));

	/* smaller one: refused, nothing written */
	cmd = _IOC(_IOC_READ, MBX_IOC_MAGIC, 0x12, sizeof(*info) - 8);
	memset(raw, PAT, sizeof(raw));
	EXPECT_EQ(-EINVAL, t_ioctl(fd, cmd, raw));
	EXPECT_TRUE(untouched(raw, sizeof(raw)));

	/* an anonymous port: the whole name field is zero */
	close(r);
	r = t_pool_port(1, 8, 0, NULL, 0600, 0);
	ASSERT_LE(0, r);
	memset(raw, PAT, sizeof(raw));
	ASSERT_EQ(0, t_ioctl(r, MBX_IOC_PORT_INFO, info));
	EXPECT_TRUE(all_zero(info->name, MBX_NAME_LEN));
	EXPECT_EQ(0, info->pool_size);
	EXPECT_EQ(0, info->pool_free);
	EXPECT_EQ(0, info->state);
	EXPECT_TRUE(all_zero(&info->subscribers, TOPIC_FIELDS));
	close(r);
	close(fd);
	close(dev);
}

/* The fields of a struct mbx_recv the kernel may write. */
struct recv_out {
	uint64_t len, offset, tag;
	uint32_t prio, msg_flags;
	int32_t pid;
	uint32_t uid;
};

/*
 * @after is @before with exactly the documented outputs written: inputs
 * unchanged, outputs as @want, reserved zero.
 */
static int recv_written(const struct mbx_recv *before,
			const struct mbx_recv *after,
			const struct recv_out *want)
{
	return after->buf == before->buf &&
	       after->timeout_ns == before->timeout_ns &&
	       after->flags == before->flags &&
	       after->len == want->len && after->offset == want->offset &&
	       after->tag == want->tag && after->prio == want->prio &&
	       after->pid == want->pid && after->uid == want->uid &&
	       after->msg_flags == want->msg_flags && after->dropped == 0 &&
	       after->release_offset == before->release_offset &&
	       after->release_len == before->release_len;
}

/* A struct mbx_recv full of the pattern, with valid inputs. */
static void recv_pattern(struct mbx_recv *r, void *buf, uint64_t len,
			 uint32_t flags)
{
	memset(r, PAT, sizeof(*r));
	r->buf = (uintptr_t)buf;
	r->len = len;
	r->timeout_ns = 0;
	r->flags = flags;
	r->dropped = 0;
	r->release_offset = 0;
	r->release_len = 0;
}

TEST_F(sec, recv_writes_back_only_documented_fields)
{
	unsigned char raw[sizeof(struct mbx_recv) + 16], data[128];
	struct mbx_recv *r = (void *)raw, before;
	struct recv_out want;
	unsigned long cmd;
	uint8_t *w;
	uint64_t off;
	int fd;

	fd = t_pool_port(4, 64, PAGE, NULL, 0600, 0);
	ASSERT_LE(0, fd);
	w = map_pool(fd, PAGE, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, w);

	/* copy mode */
	ASSERT_EQ(0, send_ex(fd, "hello", 5, 0, 7, 0x1122334455667788ULL));
	memset(raw, PAT, sizeof(raw));
	memset(data, PAT, sizeof(data));
	recv_pattern(r, data, sizeof(data), MBX_NONBLOCK);
	before = *r;
	ASSERT_EQ(0, t_ioctl(fd, MBX_IOC_RECV, r));
	want = (struct recv_out){ .len = 5, .tag = 0x1122334455667788ULL,
				  .prio = 7, .pid = getpid(),
				  .uid = geteuid() };
	EXPECT_TRUE(recv_written(&before, r, &want));
	EXPECT_EQ(0, memcmp(data, "hello", 5));
	EXPECT_TRUE(untouched(data + 5, sizeof(data) - 5));
	EXPECT_TRUE(untouched(raw + sizeof(*r), 16));

	/* in place */
	ASSERT_EQ(0, t_buf_alloc(fd, 100, MBX_NONBLOCK, 0, &off));
	memset(w + off, 'z', 100);
	ASSERT_EQ(0, send_buf(fd, off, 100, 3, 42));
	recv_pattern(r, NULL, 0, MBX_NONBLOCK | MBX_RECV_INPLACE);
	before = *r;
	ASSERT_EQ(0, t_ioctl(fd, MBX_IOC_RECV, r));
	want = (struct recv_out){ .len = 100, .offset = off, .tag = 42,
				  .prio = 3, .msg_flags = MBX_MSG_BUF,
				  .pid = getpid(), .uid = geteuid() };
	EXPECT_TRUE(recv_written(&before, r, &want));

	/* EMSGSIZE: only len is written, the rest stays as the caller had it */
	ASSERT_EQ(0, send_buf(fd, off, 100, 4, 43));
	memset(data, PAT, sizeof(data));
	recv_pattern(r, data, 64, MBX_NONBLOCK);
	before = *r;
	EXPECT_EQ(-EMSGSIZE, t_ioctl(fd, MBX_IOC_RECV, r));
	EXPECT_EQ(100, r->len);
	before.len = 100;
	EXPECT_EQ(0, memcmp(&before, r, sizeof(*r)));
	EXPECT_TRUE(untouched(data, sizeof(data)));
	EXPECT_EQ(1, T_INFO(fd, queued));

	/* a pool message copied out: offset 0, no MBX_MSG_BUF, region freed */
	recv_pattern(r, data, sizeof(data), MBX_NONBLOCK);
	before = *r;
	ASSERT_EQ(0, t_ioctl(fd, MBX_IOC_RECV, r));
	want = (struct recv_out){ .len = 100, .tag = 43, .prio = 4,
				  .pid = getpid(), .uid = geteuid() };
	EXPECT_TRUE(recv_written(&before, r, &want));
	EXPECT_TRUE(untouched(data + 100, sizeof(data) - 100));
	EXPECT_EQ(PAGE, INFO64(fd, pool_free));

	/* size-versioned larger struct with a zero tail: the tail stays zero */
	cmd = _IOC(_IOC_READ | _IOC_WRITE, MBX_IOC_MAGIC, 0x11, sizeof(raw));
	memset(raw, 0, sizeof(raw));
	ASSERT_EQ(0, send_ex(fd, "x", 1, 0, 31, 9));
	r->buf = (uintptr_t)data;
	r->len = sizeof(data);
	r->flags = MBX_NONBLOCK;
	ASSERT_EQ(0, t_ioctl(fd, cmd, raw));
	EXPECT_EQ(1, r->len);
	EXPECT_EQ(31, r->prio);
	EXPECT_EQ(0, r->dropped);
	EXPECT_TRUE(all_zero(raw + sizeof(*r), 16));
	close(fd);
}

TEST_F(sec, call_writes_back_the_recv_half_and_done_only)
{
	struct mbx_call c, before;
	struct recv_out want;
	char reply[64];
	int req, rep;

	req = t_anon(4, 64);
	rep = t_anon(4, 64);
	ASSERT_LE(0, req);
	ASSERT_LE(0, rep);
	ASSERT_EQ(0, send_ex(rep, "pong", 4, 0, 2, 0xabcdef));

	memset(&c, PAT, sizeof(c));
	c.send.buf = (uintptr_t)"ping";
	c.send.len = 4;
	c.send.offset = 0;
	c.send.tag = 77;
	c.send.timeout_ns = 0;
	c.send.flags = MBX_NONBLOCK;
	c.send.prio = 1;
	c.send.next_len = 0;
	memset(reply, PAT, sizeof(reply));
	recv_pattern(&c.recv, reply, sizeof(reply), MBX_NONBLOCK);
	c.recv_fd = rep;
	c.flags = 0;
	c.reserved = 0;
	before = c;

	ASSERT_EQ(0, t_ioctl(req, MBX_IOC_CALL, &c));
	EXPECT_EQ(0, memcmp(&c.send, &before.send, sizeof(c.send)));
	want = (struct recv_out){ .len = 4, .tag = 0xabcdef, .prio = 2,
				  .pid = getpid(), .uid = geteuid() };
	EXPECT_TRUE(recv_written(&before.recv, &c.recv, &want));
	EXPECT_EQ(rep, c.recv_fd);
	EXPECT_EQ(0, c.flags);
	EXPECT_EQ(0, c.reserved);
	EXPECT_EQ(MBX_CALL_SENT | MBX_CALL_RECEIVED, c.done);
	EXPECT_EQ(0, memcmp(reply, "pong", 4));
	EXPECT_TRUE(untouched(reply + 4, sizeof(reply) - 4));

	/* refused before anything: done 0, nothing else written */
	c = before;
	c.send.prio = MBX_PRIO_MAX + 1;
	before = c;
	EXPECT_EQ(-EINVAL, t_ioctl(req, MBX_IOC_CALL, &c));
	before.done = 0;
	EXPECT_EQ(0, memcmp(&before, &c, sizeof(c)));

	/* receive half fails: done says sent, the recv half is not written */
	c.send.prio = 1;
	before = c;
	EXPECT_EQ(-EAGAIN, t_ioctl(req, MBX_IOC_CALL, &c));
	before.done = MBX_CALL_SENT;
	EXPECT_EQ(0, memcmp(&before, &c, sizeof(c)));
	EXPECT_EQ(2, T_INFO(req, queued));
	close(req);
	close(rep);
}

TEST_F(sec, batches_write_back_received_entries_and_done_only)
{
	struct mbx_recv r[4], rbefore[4];
	struct mbx_send s[3], sbefore[3];
	struct recv_out want;
	struct mbx_batch b, bb;
	char data[4][32];
	uint64_t off;
	uint8_t *w;
	int fd, i;

	fd = t_pool_port(8, 32, PAGE, NULL, 0600, 0);
	ASSERT_LE(0, fd);
	w = map_pool(fd, PAGE, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, w);

	/* send batch: entries are input only */
	memset(s, 0, sizeof(s));
	for (i = 0; i < 3; i++) {
		s[i].buf = (uintptr_t)"abc";
		s[i].len = 3;
		s[i].tag = 100 + i;
		s[i].prio = 5;
	}
	ASSERT_EQ(0, t_buf_alloc(fd, 10, MBX_NONBLOCK, 0, &off));
	memset(w + off, 'p', 10);
	s[1].buf = 0;
	s[1].offset = off;
	s[1].len = 10;
	s[1].flags = MBX_SEND_BUF;
	memcpy(sbefore, s, sizeof(s));
	memset(&b, 0, sizeof(b));
	b.msgs = (uintptr_t)s;
	b.count = 2;
	b.flags = MBX_NONBLOCK;
	b.done = PAT32;
	bb = b;
	ASSERT_EQ(2, t_ioctl(fd, MBX_IOC_SEND_BATCH, &b));
	EXPECT_EQ(0, memcmp(sbefore, s, sizeof(s)));
	bb.done = 2;
	EXPECT_EQ(0, memcmp(&bb, &b, sizeof(b)));

	/* receive batch of 4 with 2 queued: 2 entries written, 2 untouched */
	memset(data, PAT, sizeof(data));
	for (i = 0; i < 4; i++)
		recv_pattern(&r[i], data[i], sizeof(data[i]),
			     i == 1 ? MBX_RECV_INPLACE : 0);
	memcpy(rbefore, r, sizeof(r));
	memset(&b, 0, sizeof(b));
	b.msgs = (uintptr_t)r;
	b.count = 4;
	b.flags = MBX_NONBLOCK;
	b.done = PAT32;
	bb = b;
	ASSERT_EQ(2, t_ioctl(fd, MBX_IOC_RECV_BATCH, &b));
	bb.done = 2;
	EXPECT_EQ(0, memcmp(&bb, &b, sizeof(b)));
	want = (struct recv_out){ .len = 3, .tag = 100, .prio = 5,
				  .pid = getpid(), .uid = geteuid() };
	EXPECT_TRUE(recv_written(&rbefore[0], &r[0], &want));
	want = (struct recv_out){ .len = 10, .offset = off, .tag = 101,
				  .prio = 5, .msg_flags = MBX_MSG_BUF,
				  .pid = getpid(), .uid = geteuid() };
	EXPECT_TRUE(recv_written(&rbefore[1], &r[1], &want));
	EXPECT_EQ(0, memcmp(&rbefore[2], &r[2], 2 * sizeof(r[0])));
	EXPECT_EQ(0, memcmp(data[0], "abc", 3));
	EXPECT_TRUE(untouched(data[0] + 3, sizeof(data[0]) - 3));
	EXPECT_TRUE(untouched(data[1], 3 * sizeof(data[0])));
	EXPECT_EQ(0, t_buf_release(fd, off, 10));

	/* a refused batch writes done = 0 and nothing else */
	b.count = 0;
	b.done = PAT32;
	memcpy(rbefore, r, sizeof(r));
	EXPECT_EQ(-EINVAL, t_ioctl(fd, MBX_IOC_RECV_BATCH, &b));
	EXPECT_EQ(0, b.done);
	EXPECT_EQ(0, memcmp(rbefore, r, sizeof(r)));
	close(fd);
}

TEST_F(sec, buf_alloc_writes_only_the_offset_and_release_nothing)
{
	struct mbx_buf b, before;
	int fd;

	fd = t_pool_port(4, 64, 2 * PAGE, NULL, 0600, 0);
	ASSERT_LE(0, fd);
	memset(&b, PAT, sizeof(b));
	b.len = 100;
	b.timeout_ns = 0;
	b.flags = MBX_NONBLOCK;
	b.reserved = 0;
	before = b;
	ASSERT_EQ(0, t_ioctl(fd, MBX_IOC_BUF_ALLOC, &b));
	EXPECT_EQ(0, b.offset % 64);
	EXPECT_GT(2 * PAGE, b.offset);
	before.offset = b.offset;
	EXPECT_EQ(0, memcmp(&before, &b, sizeof(b)));

	b.flags = 0;
	before = b;
	EXPECT_EQ(0, t_ioctl(fd, MBX_IOC_BUF_RELEASE, &b));
	EXPECT_EQ(0, memcmp(&before, &b, sizeof(b)));
	EXPECT_EQ(2 * PAGE, INFO64(fd, pool_free));
	close(fd);
}

#ifdef MBX_IOC_PORT_LIST
/* MBX_IOC_PORT_LIST copies out whole port_info entries, and no more. */
TEST_F(sec, port_list_writes_whole_entries_and_nothing_past_count)
{
	struct mbx_port_info infos[8];
	struct mbx_port_list l, before;
	char name2[MBX_NAME_LEN];
	int dev, a, b, i;

	a = t_pool_port(2, 16, 0, self->name, 0600, 0);
	ASSERT_LE(0, a);
	b = t_pool_port(2, 16, PAGE, t_name(name2, "sec"), 0644, 0);
	ASSERT_LE(0, b);
	dev = t_dev();
	ASSERT_LE(0, dev);

	memset(infos, PAT, sizeof(infos));
	memset(&l, 0, sizeof(l));
	l.ports = (uintptr_t)infos;
	l.count = 8;
	l.total = PAT32;
	before = l;
	ASSERT_EQ(0, t_ioctl(dev, MBX_IOC_PORT_LIST, &l));
	EXPECT_LE(2, l.count);
	EXPECT_GE(8, l.count);
	EXPECT_LE(l.count, l.total);
	EXPECT_EQ(before.ports, l.ports);
	EXPECT_EQ(0, l.flags);
	EXPECT_EQ(0, l.reserved);
	for (i = 0; i < (int)l.count && i < 8; i++) {
		EXPECT_NE(PAT64, infos[i].id) TH_LOG("entry %d", i);
		EXPECT_EQ(0, infos[i].access) TH_LOG("entry %d", i);
		EXPECT_EQ(0, infos[i].mode & ~0777) TH_LOG("entry %d", i);
		EXPECT_TRUE(name_zero_padded(infos[i].name))
			TH_LOG("entry %d", i);
		EXPECT_TRUE(all_zero(&infos[i].subscribers,
				     TOPIC_FIELDS))
			TH_LOG("entry %d", i);
	}
	for (; i < 8; i++)
		EXPECT_TRUE(untouched(&infos[i], sizeof(infos[i])))
			TH_LOG("entry %d past count written", i);

	/* room for one: one entry written, the rest untouched */
	memset(infos, PAT, sizeof(infos));
	l.count = 1;
	ASSERT_EQ(0, t_ioctl(dev, MBX_IOC_PORT_LIST, &l));
	EXPECT_EQ(1, l.count);
	EXPECT_TRUE(all_zero(&infos[0].subscribers, TOPIC_FIELDS));
	EXPECT_TRUE(untouched(&infos[1], 7 * sizeof(infos[0])));
	close(dev);
	close(a);
	close(b);
}
#endif

/* ---- fdinfo ------------------------------------------------------------- */

static const char *const fdinfo_keys[] = {
	/* generic, from fs/proc/fd.c */
	"pos", "flags", "mnt_id", "ino",
	/* docs/SEMANTICS.md, "Information" */
	"mbx-id", "mbx-name", "mbx-access", "mbx-capacity", "mbx-queued",
	"mbx-max-msg-size", "mbx-shutdown",
};

#define NKEYS ARRAY_SIZE(fdinfo_keys)
#define FIRST_MBX_KEY 4

/*
 * Count each documented key of @fd's fdinfo in @seen; 0, or -1 with the
 * first undocumented key in @bad.
 */
static int fdinfo_scan(int fd, int seen[NKEYS], char *bad, size_t badlen,
		       char *access, size_t alen)
{
	char path[64], line[512];
	int ret = 0;
	unsigned int i;
	FILE *f;

	memset(seen, 0, NKEYS * sizeof(int));
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		line[strcspn(line, "\n")] = '\0';
		if (colon)
			*colon = '\0';
		for (i = 0; i < NKEYS; i++)
			if (colon && !strcmp(line, fdinfo_keys[i]))
				break;
		if (i == NKEYS) {
			if (!ret)
				snprintf(bad, badlen, "%s", line);
			ret = -1;
			continue;
		}
		seen[i]++;
		if (!strcmp(line, "mbx-access") && seen[i] == 1)
			snprintf(access, alen, "%s",
				 colon + 1 + strspn(colon + 1, " \t"));
	}
	fclose(f);
	return ret;
}

static void check_fdinfo(struct __test_metadata *_metadata, int fd,
			 const char *want_access)
{
	char bad[512] = "", access[64] = "";
	int seen[NKEYS];
	unsigned int i;

	EXPECT_EQ(0, fdinfo_scan(fd, seen, bad, sizeof(bad), access,
				 sizeof(access)))
		TH_LOG("fd %d: undocumented fdinfo line \"%s\"", fd, bad);
	for (i = FIRST_MBX_KEY; i < NKEYS; i++) {
		const char *key = fdinfo_keys[i];
		int times = seen[i];

		EXPECT_EQ(1, times)
			TH_LOG("fd %d: %s seen %d times", fd, key, times);
	}
	EXPECT_STREQ(want_access, access);
}

TEST_F(sec, fdinfo_shows_only_documented_keys_each_once)
{
	int fd, r, s;

	fd = t_pool_port(4, 64, PAGE, self->name, 0600, 0);
	ASSERT_LE(0, fd);
	r = mbx_port_dup(fd, MBX_RECV);
	s = mbx_port_dup(fd, MBX_SEND);
	ASSERT_LE(0, r);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, t_send_str(fd, "q", 0));
	check_fdinfo(_metadata, fd, "send,recv");
	check_fdinfo(_metadata, r, "recv");
	check_fdinfo(_metadata, s, "send");
	ASSERT_EQ(0, mbx_shutdown(fd));
	check_fdinfo(_metadata, r, "recv");
	close(fd);
	close(r);
	close(s);
}

/*
 * A port's name is chosen by whoever creates it, and anyone may open an fd
 * to it: the name must not be able to add lines to that fd's fdinfo, e.g.
 * a second mbx-access line claiming more access than the fd has.  Refusing
 * such a name at creation is fine too.
 */
TEST_F(sec, fdinfo_cannot_be_forged_through_the_port_name)
{
	int fd, r;

	snprintf(self->odd_name, sizeof(self->odd_name),
		 "m%d\nmbx-access:\tsend,recv\nmbx-shutdown:\t1", getpid());
	fd = t_pool_port(4, 64, 0, self->odd_name, 0644, 0);
	if (fd == -EINVAL) {
		self->odd_name[0] = '\0';
		return;		/* refused at creation: nothing to forge */
	}
	ASSERT_LE(0, fd);
	r = mbx_port_open(MBX_DEV_AUTO, self->odd_name, MBX_RECV);
	ASSERT_LE(0, r);
	check_fdinfo(_metadata, r, "recv");
	close(r);
	close(fd);
}

/*
 * 2. Integer overflow on every size and offset
 */

TEST_F(sec, send_lengths_near_u64_max_or_past_u32_are_emsgsize)
{
	static const uint64_t lens[] = {
		UINT64_MAX, UINT64_MAX - 1, 1ULL << 63, (1ULL << 32) + 1,
		(1ULL << 32) + 100, 1ULL << 32, 101,
	};
	static char buf[PAGE];
	size_t huge_count = 1ULL << 40;
	unsigned int i;
	int fd;

	fd = t_anon(4, 100);
	ASSERT_LE(0, fd);
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		EXPECT_EQ(-EMSGSIZE, send_ex(fd, buf, lens[i], 0, 0, 0))
			TH_LOG("len %#llx", (unsigned long long)lens[i]);
		EXPECT_EQ(-EMSGSIZE, send_ex(fd, t_bad_ptr(), lens[i], 0, 0, 0))
			TH_LOG("len %#llx, bad buffer",
			       (unsigned long long)lens[i]);
	}
	/* write(): the VFS clamps huge counts, the port still refuses */
	__asm__ volatile("" : "+r" (huge_count));	/* no compile-time size */
	errno = 0;
	EXPECT_EQ(-1, write(fd, buf, huge_count));
	EXPECT_EQ(EMSGSIZE, errno);
	errno = 0;
	huge_count = SIZE_MAX;
	__asm__ volatile("" : "+r" (huge_count));
	EXPECT_EQ(-1, write(fd, buf, huge_count));
	/* the VFS answers first (EFAULT or EINVAL); the port, EMSGSIZE */
	EXPECT_TRUE(errno == EFAULT || errno == EINVAL || errno == EMSGSIZE)
		TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, T_INFO(fd, queued));
	EXPECT_EQ(0, INFO64(fd, sent));
	close(fd);
}

TEST_F(sec, receive_lengths_near_u64_max_or_past_u32_just_fit)
{
	static const uint64_t lens[] = {
		UINT64_MAX, 1ULL << 63, 1ULL << 32, (1ULL << 32) + 5,
	};
	unsigned char data[64];
	struct mbx_recv r;
	unsigned int i;
	int fd;

	fd = t_anon(4, 64);
	ASSERT_LE(0, fd);
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		ASSERT_EQ(0, send_ex(fd, "0123456789", 10, 0, 0, i));
		memset(data, PAT, sizeof(data));
		/* the buffer claims to be huge: only the message is written */
		EXPECT_EQ(0, recv_nb(fd, data, lens[i], 0, &r))
			TH_LOG("len %#llx", (unsigned long long)lens[i]);
		EXPECT_EQ(10, r.len);
		EXPECT_EQ(i, r.tag);
		EXPECT_EQ(0, memcmp(data, "0123456789", 10));
		EXPECT_TRUE(untouched(data + 10, sizeof(data) - 10));
	}
	/* a message larger than a 32-bit-truncated length would say */
	ASSERT_EQ(0, send_ex(fd, "0123456789", 10, 0, 0, 0));
	EXPECT_EQ(-EMSGSIZE, recv_nb(fd, data, 5, 0, &r));
	EXPECT_EQ(10, r.len);
	EXPECT_EQ(1, T_INFO(fd, queued));
	close(fd);
}

/*
 * BUF_ALLOC lengths that overflow when rounded to 64 bytes, or that a
 * 32-bit truncation would shrink.  Each try runs in a child bounded by
 * alarm(): a length that wrapped to 0 could otherwise wait for ever.
 */
TEST_F(sec, buf_alloc_lengths_near_u64_max_are_einval)
{
	static const uint64_t lens[] = {
		UINT64_MAX, UINT64_MAX - 62, UINT64_MAX - 63, 1ULL << 63,
		(1ULL << 32) + 64, 1ULL << 32, 2 * PAGE + 1,
	};
	unsigned int i;
	pid_t pid;
	int fd;

	fd = t_pool_port(4, 64, 2 * PAGE, NULL, 0600, 0);
	ASSERT_LE(0, fd);
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		pid = t_fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			alarm(5);
			_exit(t_code(t_buf_alloc(fd, lens[i], 0, 0, NULL)));
		}
		EXPECT_EQ(EINVAL, t_reap(pid))
			TH_LOG("len %#llx", (unsigned long long)lens[i]);
		EXPECT_EQ(2 * PAGE, INFO64(fd, pool_free));
	}
	close(fd);
}

/* Offsets and lengths that a 32-bit truncation would make valid. */
TEST_F(sec, pool_offsets_and_lengths_past_u32_are_einval)
{
	uint64_t off, o[5], l[4];
	unsigned int i, j;
	int fd;

	fd = t_pool_port(4, 64, 2 * PAGE, NULL, 0600, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_buf_alloc(fd, 64, 0, 0, NULL));
	ASSERT_EQ(0, t_buf_alloc(fd, 100, 0, 0, &off));
	o[0] = off + (1ULL << 32);
	o[1] = off | (1ULL << 63);
	o[2] = off + (1ULL << 40);
	o[3] = UINT64_MAX - 63;
	o[4] = UINT64_MAX;
	l[0] = 100 + (1ULL << 32);
	l[1] = 100 | (1ULL << 63);
	l[2] = UINT64_MAX;
	l[3] = 1ULL << 32;
	for (i = 0; i < ARRAY_SIZE(o); i++) {
		EXPECT_EQ(-EINVAL, send_buf(fd, o[i], 100, 0, 0))
			TH_LOG("offset %#llx", (unsigned long long)o[i]);
		EXPECT_EQ(-EINVAL, t_buf_release(fd, o[i], 100))
			TH_LOG("offset %#llx", (unsigned long long)o[i]);
	}
	for (j = 0; j < ARRAY_SIZE(l); j++) {
		EXPECT_EQ(-EINVAL, send_buf(fd, off, l[j], 0, 0))
			TH_LOG("len %#llx", (unsigned long long)l[j]);
		EXPECT_EQ(-EINVAL, t_buf_release(fd, off, l[j]))
			TH_LOG("len %#llx", (unsigned long long)l[j]);
	}
	EXPECT_EQ(0, T_INFO(fd, queued));
	/* the region is still held, as allocated */
	EXPECT_EQ(0, t_buf_release(fd, off, 100));
	close(fd);
}

/* Batch arrays at the top of the address space: EFAULT, nothing moves. */
TEST_F(sec, batch_counts_and_pointers_that_overflow_are_refused)
{
	static const uint64_t ptrs[] = {
		UINT64_MAX - 47, UINT64_MAX - 63, UINT64_MAX & ~4095ULL,
		1ULL << 63, (1ULL << 47) - 48,
	};
	uint32_t done;
	unsigned int i;
	int fd;

	fd = t_anon(8, 64);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, batch(fd, MBX_IOC_SEND_BATCH, 0, 0x80000000U,
				 MBX_NONBLOCK, 0, &done));
	EXPECT_EQ(0, done);
	EXPECT_EQ(-EINVAL, batch(fd, MBX_IOC_RECV_BATCH, 0, 0x80000000U,
				 MBX_NONBLOCK, 0, &done));
	EXPECT_EQ(0, done);
	for (i = 0; i < ARRAY_SIZE(ptrs); i++) {
		EXPECT_EQ(-EFAULT, batch(fd, MBX_IOC_SEND_BATCH, ptrs[i],
					 MBX_BATCH_MAX, MBX_NONBLOCK, 0, &done))
			TH_LOG("msgs %#llx", (unsigned long long)ptrs[i]);
		EXPECT_EQ(0, done);
	}
	ASSERT_EQ(0, t_send_str(fd, "keep", 0));
	for (i = 0; i < ARRAY_SIZE(ptrs); i++) {
		EXPECT_EQ(-EFAULT, batch(fd, MBX_IOC_RECV_BATCH, ptrs[i],
					 MBX_BATCH_MAX, MBX_NONBLOCK, 0, &done))
			TH_LOG("msgs %#llx", (unsigned long long)ptrs[i]);
		EXPECT_EQ(0, done);
	}
	EXPECT_EQ(1, T_INFO(fd, queued));
	EXPECT_EQ(1, INFO64(fd, sent));
	EXPECT_EQ(0, INFO64(fd, received));
	close(fd);
}

/* Try to create a port; on success report what it got and close it. */
static long create_try(uint32_t cap, uint32_t msg, uint64_t pool,
		       const char *name, uint64_t *got_pool)
{
	long fd = t_pool_port(cap, msg, pool, name, 0600, 0);

	if (fd >= 0) {
		*got_pool = INFO64(fd, pool_size);
		if (name)
			mbx_port_unlink(MBX_DEV_AUTO, name);
		close(fd);
	}
	return fd;
}

TEST_F(sec, pool_sizes_near_u64_max_are_einval)
{
	static const uint64_t sizes[] = {
		UINT64_MAX, UINT64_MAX - 4095, UINT64_MAX - 4096,
		UINT64_MAX - (1ULL << 20) + 1, 1ULL << 63, (1ULL << 32) + PAGE,
		1ULL << 32,
	};
	unsigned long long max;
	uint64_t got = 0;
	unsigned int i;
	int fds;

	ASSERT_EQ(0, t_param_get("max_pool_size", &max));
	fds = count_fds();
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		EXPECT_EQ(-EINVAL, create_try(128, 8192, sizes[i], self->name,
					      &got))
			TH_LOG("pool_size %#llx: got a pool of %#llx",
			       (unsigned long long)sizes[i],
			       (unsigned long long)got);
		EXPECT_EQ(-ENOENT, mbx_port_open(MBX_DEV_AUTO, self->name,
						 MBX_SEND));
	}
	EXPECT_EQ(-EINVAL, create_try(1, 64, max + 1, NULL, &got));
	EXPECT_EQ(fds, count_fds());
}

/*
 * The same with the administrator's max_pool_size at the largest value the
 * parameter takes: neither the rounding to pages nor the per-user charge
 * (capacity x (max_msg_size + 64) + pool_size, with max_bytes_per_user at
 * its default) may wrap around.  Expected: EINVAL or EDQUOT for each, never
 * a port, never a pool that the charge did not cover.  (Regression test:
 * U64_MAX rounded up to a pool of 0, and 2^64 - 1 MiB with a 128 x 8 KiB
 * queue charged 8 KiB and reached a WARNING in kvcalloc; fixed by the
 * 4 GiB ceiling on max_pool_size.)
 */
TEST_F(sec, pool_sizes_near_u64_max_with_max_pool_size_at_its_maximum)
{
	static const struct {
		uint32_t cap, msg;
		uint64_t pool;
	} t[] = {
		{ 1, 64, UINT64_MAX },			/* rounds up to 0 */
		{ 1, 64, UINT64_MAX - 4094 },		/* rounds up to 0 */
		{ 1, 64, UINT64_MAX - 4095 },		/* charge wraps */
		{ 128, 8192, UINT64_MAX - (1ULL << 20) + 1 },	/* to 8 KiB */
		{ 1, 64, 1ULL << 63 },
	};
	uint64_t got;
	unsigned int i;
	long ret;
	int fds;

	ASSERT_EQ(0, t_param_set("max_pool_size", ULONG_MAX));
	ASSERT_EQ(0, t_param_set("max_bytes_per_user", 256 * MIB));
	fds = count_fds();
	for (i = 0; i < ARRAY_SIZE(t); i++) {
		got = PAT64;
		ret = create_try(t[i].cap, t[i].msg, t[i].pool, self->name,
				 &got);
		EXPECT_TRUE(ret == -EINVAL || ret == -EDQUOT)
			TH_LOG("capacity %u, msg size %u, pool %#llx: %s%s (pool %#llx)",
			       t[i].cap, t[i].msg,
			       (unsigned long long)t[i].pool,
			       ret >= 0 ? "created" : strerror(-ret),
			       ret == -ENOMEM ? ": the charge did not stop it" : "",
			       (unsigned long long)got);
		EXPECT_EQ(-ENOENT, mbx_port_open(MBX_DEV_AUTO, self->name,
						 MBX_SEND));
	}
	EXPECT_EQ(fds, count_fds());
}

TEST_F(sec, capacities_and_message_sizes_near_u32_max)
{
	static const uint32_t caps[] = {
		UINT32_MAX, UINT32_MAX - 1, 1U << 31, 65537,
	};
	static const uint32_t sizes[] = {
		UINT32_MAX, UINT32_MAX - 63, 1U << 31, (64U << 20) + 1,
		(1U << 20) + 1,
	};
	uint64_t got;
	unsigned int i;
	int fd;

	ASSERT_EQ(0, t_param_set("max_capacity", 65536));
	ASSERT_EQ(0, t_param_set("max_msg_size", 1U << 20));
	for (i = 0; i < ARRAY_SIZE(caps); i++)
		EXPECT_EQ(-EINVAL, create_try(caps[i], 64, 0, NULL, &got))
			TH_LOG("capacity %#x", caps[i]);
	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		EXPECT_EQ(-EINVAL, create_try(4, sizes[i], 0, NULL, &got))
			TH_LOG("max_msg_size %#x", sizes[i]);

	/* parameters at their maximum: the 64 MiB ceiling, then the charge */
	ASSERT_EQ(0, t_param_set("max_capacity", UINT32_MAX));
	ASSERT_EQ(0, t_param_set("max_msg_size", UINT32_MAX));
	ASSERT_EQ(0, t_param_set("default_msg_size", UINT32_MAX));
	ASSERT_EQ(0, t_param_set("max_bytes_per_user", 256 * MIB));
	EXPECT_EQ(-EINVAL, create_try(4, UINT32_MAX, 0, NULL, &got));
	EXPECT_EQ(-EINVAL, create_try(4, (64U << 20) + 1, 0, NULL, &got));
	EXPECT_EQ(-EDQUOT, create_try(UINT32_MAX, 64U << 20, 0, NULL, &got));
	EXPECT_EQ(-EDQUOT, create_try(UINT32_MAX, 0, 0, NULL, &got));
	EXPECT_EQ(-EDQUOT, create_try(UINT32_MAX, 1, 0, NULL, &got));
	/* size 0 takes the default, capped at the ceiling: 4 x 64 MiB fits */
	fd = t_pool_port(3, 0, 0, NULL, 0600, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(64U << 20, T_INFO(fd, max_msg_size));
	close(fd);

	/* with no byte limit left, a 4-billion-message queue just works */
	ASSERT_EQ(0, t_param_set("max_bytes_per_user", ULONG_MAX));
	fd = t_pool_port(UINT32_MAX, 16, 0, NULL, 0600, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(UINT32_MAX, T_INFO(fd, capacity));
	EXPECT_EQ(0, t_send_str(fd, "a", 0));
	EXPECT_EQ(0, t_send_str(fd, "b", 0));
	EXPECT_EQ(2, t_drain(fd));
	close(fd);
}

/* ---- huge timeouts --------------------------------------------------------- */

enum blocker { B_SEND, B_ALLOC, B_CALL, B_RECV_BATCH, B_SEND_BATCH, B_NR };

static const char *const blocker_name[] = {
	"send", "buf alloc", "call (recv half)", "recv batch", "send batch",
};

static long blocked_call(enum blocker k, int fd, int fd2, uint32_t flags,
			 uint64_t t)
{
	struct mbx_send s;
	struct mbx_recv r;
	struct mbx_call c;
	struct mbx_buf b;
	char buf[16];

	memset(&s, 0, sizeof(s));
	s.buf = (uintptr_t)"t";
	s.len = 1;
	s.flags = flags;
	s.timeout_ns = t;
	memset(&r, 0, sizeof(r));
	r.buf = (uintptr_t)buf;
	r.len = sizeof(buf);
	switch (k) {
	case B_SEND:
		return t_ioctl(fd, MBX_IOC_SEND, &s);
	case B_ALLOC:
		memset(&b, 0, sizeof(b));
		b.len = 64;
		b.flags = flags;
		b.timeout_ns = t;
		return t_ioctl(fd, MBX_IOC_BUF_ALLOC, &b);
	case B_CALL:
		memset(&c, 0, sizeof(c));
		c.send.buf = (uintptr_t)"q";
		c.send.len = 1;
		c.recv = r;
		c.recv.flags = flags;
		c.recv.timeout_ns = t;
		c.recv_fd = fd2;
		return t_ioctl(fd, MBX_IOC_CALL, &c);
	case B_RECV_BATCH:
		return batch(fd, MBX_IOC_RECV_BATCH, (uintptr_t)&r, 1, flags,
			     t, NULL);
	case B_SEND_BATCH:
		s.flags = 0;
		s.timeout_ns = 0;
		return batch(fd, MBX_IOC_SEND_BATCH, (uintptr_t)&s, 1, flags,
			     t, NULL);
	default:
		return -EINVAL;
	}
}

/*
 * Every blocking call with a timeout of U64_MAX, 2^63 or KTIME_MAX,
 * relative or absolute, waits (no early ETIMEDOUT: the deadline must not
 * wrap into the past) and completes as soon as it can.  The children are
 * bounded by alarm(), the harness by its own timeout.
 */
/* Make a @k call on @fd (and @fd2) block; 0 or -errno. */
static long make_it_block(enum blocker k, int fd, int fd2, uint64_t *off)
{
	switch (k) {
	case B_SEND:
	case B_SEND_BATCH:
		return t_send_str(fd, "full", 0);
	case B_ALLOC:
		return t_buf_alloc(fd, PAGE, 0, 0, off);
	default:
		return 0;
	}
}

/* Wait until the child making a @k call blocks in it; 0 or -errno. */
static int wait_blocked(enum blocker k, int fd, int fd2, pid_t pid)
{
	switch (k) {
	case B_SEND:
	case B_SEND_BATCH:
		return T_WAIT(fd, send_waiting, 1);
	case B_CALL:
		return T_WAIT(fd2, recv_waiting, 1);
	case B_RECV_BATCH:
		return T_WAIT(fd, recv_waiting, 1);
	default:
		return t_wait_sleeping(pid);
	}
}

/* Let a blocked @k call complete; 0 or -errno. */
static long unblock(enum blocker k, int fd, int fd2, uint64_t off)
{
	char buf[16];
	long ret;

	switch (k) {
	case B_SEND:
	case B_SEND_BATCH:
		ret = mbx_recv_nonblock(fd, buf, sizeof(buf), NULL);
		return ret < 0 ? ret : 0;
	case B_ALLOC:
		return t_buf_release(fd, off, PAGE);
	case B_CALL:
		return t_send_str(fd2, "r", 0);
	default:
		return t_send_str(fd, "m", 0);
	}
}

/*
 * Every blocking call with a timeout of U64_MAX, 2^63 or KTIME_MAX,
 * relative or absolute, waits (no early ETIMEDOUT: the deadline must not
 * wrap into the past) and completes as soon as it can.  The children are
 * bounded by alarm(), the harness by its own timeout.
 */
TEST_F_TIMEOUT(sec, huge_timeouts_wait_and_complete_for_every_blocking_call, 120)
{
	static const uint64_t vals[] = {
		UINT64_MAX, 1ULL << 63, KTIME_MAX_NS,
	};
	static const uint32_t modes[] = {
		MBX_TIMEOUT, MBX_TIMEOUT | MBX_ABSTIME,
	};
	unsigned int i, k, v, m;
	uint64_t off = 0;
	pid_t pid;
	int fd, fd2;

	for (i = 0; i < B_NR * ARRAY_SIZE(vals) * ARRAY_SIZE(modes); i++) {
		k = i / (ARRAY_SIZE(vals) * ARRAY_SIZE(modes));
		v = i / ARRAY_SIZE(modes) % ARRAY_SIZE(vals);
		m = i % ARRAY_SIZE(modes);
		fd2 = -1;
		fd = t_pool_port(1, 16, PAGE, NULL, 0600, 0);
		ASSERT_LE(0, fd);
		if (k == B_CALL) {
			fd2 = t_anon(1, 16);
			ASSERT_LE(0, fd2);
		}
		ASSERT_EQ(0, make_it_block(k, fd, fd2, &off));
		pid = t_fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			alarm(20);
			_exit(t_code(blocked_call(k, fd, fd2, modes[m],
						  vals[v])));
		}
		ASSERT_EQ(0, wait_blocked(k, fd, fd2, pid));
		EXPECT_TRUE(t_stays_blocked(pid))
			TH_LOG("%s, timeout %#llx%s returned early",
			       blocker_name[k], (unsigned long long)vals[v],
			       m ? " absolute" : "");
		ASSERT_EQ(0, unblock(k, fd, fd2, off));
		EXPECT_EQ(0, t_reap(pid))
			TH_LOG("%s, timeout %#llx%s", blocker_name[k],
			       (unsigned long long)vals[v],
			       m ? " absolute" : "");
		close(fd);
		if (fd2 >= 0)
			close(fd2);
	}
}

/*
 * 3. A hostile user against the per-user limits
 */

#define H_PORTS		64
#define H_BYTES		(48 * MIB)
#define H_CAP		16
#define H_MSG		(60 * 1024)	/* kmalloc'ed in 64 KiB */
#define H_POOL		MIB
#define H_NAMES		H_PORTS

struct hostile_report {
	int a_ports, a_err, a_sends, a_bad;
	int b_ports, b_err;
	int after_err;		/* a create attempted once the victim ran */
	char names[H_NAMES][MBX_NAME_LEN];
};

/*
 * uid 1000: ports with pools, each queue filled and each pool allocated,
 * until a create fails; then rendezvous ports whose fds it closes (names
 * keep them alive) until a create fails.  Returns 0 if it ran; what it met
 * is in @rep.
 */
static int hostile(struct hostile_report *rep, int done_fd, int go_fd)
{
	static char payload[H_MSG];
	int n = 0, i, fd;
	long ret;

	for (;;) {
		fd = t_pool_port(H_CAP, H_MSG, H_POOL, NULL, 0600, 0);
		if (fd < 0) {
			rep->a_err = -fd;
			break;
		}
		n++;	/* kept open: the point is to hold it all */
		for (i = 0; i < H_CAP; i++) {
			ret = send_ex(fd, payload, H_MSG, 0, 0, 0);
			if (ret)
				rep->a_bad = -ret;
			else
				rep->a_sends++;
		}
		/* the next send finds the queue full, nothing else */
		ret = send_ex(fd, payload, H_MSG, 0, 0, 0);
		if (ret != -EAGAIN)
			rep->a_bad = ret ? -ret : T_BAD_SUCCESS;
		ret = t_buf_alloc(fd, H_POOL, MBX_NONBLOCK, 0, NULL);
		if (ret)
			rep->a_bad = -ret;
		if (n == H_PORTS + 8)
			break;
	}
	rep->a_ports = n;

	for (i = 0; i < H_NAMES; i++) {
		snprintf(rep->names[i], MBX_NAME_LEN, "mbxt.%s.%d.%d", "hostile",
			 (int)getpid(), i);
		fd = t_pool_port(0, 1, 0, rep->names[i], 0600, 0);
		if (fd < 0) {
			rep->b_err = -fd;
			rep->names[i][0] = '\0';
			break;
		}
		close(fd);
	}
	rep->b_ports = i;

	/* hold everything while the other user works */
	if (write(done_fd, "d", 1) != 1 || wait_byte(go_fd))
		return T_BAD_SETUP;
	ret = t_pool_port(1, 1, 0, NULL, 0600, 0);
	rep->after_err = ret < 0 ? (int)-ret : 0;
	if (ret >= 0)
		close(ret);

	for (i = 0; i < H_NAMES; i++)
		if (rep->names[i][0])
			mbx_port_unlink(MBX_DEV_AUTO, rep->names[i]);
	return 0;
}

/* uid 1001: its port made before the attack, and new ones, all work. */
static int victim(int fd, int ready_fd, int go_fd)
{
	char buf[256];
	struct mbx_recv r;
	uint64_t off;
	int i, p;

	if (write(ready_fd, "r", 1) != 1 || wait_byte(go_fd))
		return T_BAD_SETUP;
	for (i = 0; i < 50; i++) {
		if (send_ex(fd, buf, sizeof(buf), 0, 0, i))
			return 1;
		if (recv_nb(fd, buf, sizeof(buf), 0, &r) || r.tag != (uint64_t)i)
			return 2;
	}
	if (t_buf_alloc(fd, 1000, MBX_NONBLOCK, 0, &off) ||
	    send_buf(fd, off, 1000, 0, 0) ||
	    recv_nb(fd, NULL, 0, MBX_RECV_INPLACE, &r) ||
	    t_buf_release(fd, off, 1000))
		return 3;
	p = t_pool_port(H_CAP, H_MSG, H_POOL, NULL, 0600, 0);
	if (p < 0)
		return 4;
	if (send_ex(p, buf, sizeof(buf), 0, 0, 0) ||
	    recv_nb(p, buf, sizeof(buf), 0, &r) ||
	    t_buf_alloc(p, H_POOL, MBX_NONBLOCK, 0, NULL))
		return 5;
	close(p);
	return 0;
}

TEST_F_TIMEOUT(sec, hostile_user_hits_edquot_and_emfile_while_another_user_works, 240)
{
	struct hostile_report *rep = t_shared(sizeof(*rep));
	int h_done[2], h_go[2], v_ready[2], v_go[2];
	pid_t h, v;
	int ret;

	ASSERT_NE(NULL, rep);
	ASSERT_EQ(0, t_param_set("max_ports_per_user", H_PORTS));
	ASSERT_EQ(0, t_param_set("max_bytes_per_user", H_BYTES));
	ASSERT_EQ(0, t_param_set("max_msg_size", 1U << 20));
	ASSERT_EQ(0, t_param_set("max_pool_size", 64 * MIB));
	ASSERT_EQ(0, pipe(h_done));
	ASSERT_EQ(0, pipe(h_go));
	ASSERT_EQ(0, pipe(v_ready));
	ASSERT_EQ(0, pipe(v_go));

	/* the other user's port exists before the attack */
	v = t_fork();
	ASSERT_LE(0, v);
	if (v == 0) {
		int fd;

		if (t_become(T_UID2, T_GID2))
			_exit(T_BAD_SETUP);
		fd = t_pool_port(8, 256, 64 * 1024, NULL, 0600, 0);
		if (fd < 0)
			_exit(T_BAD_SETUP);
		_exit(victim(fd, v_ready[1], v_go[0]));
	}
	ASSERT_EQ(0, wait_byte(v_ready[0]));

	h = t_fork();
	ASSERT_LE(0, h);
	if (h == 0) {
		if (t_become(T_UID1, T_GID1))
			_exit(T_BAD_SETUP);
		_exit(hostile(rep, h_done[1], h_go[0]));
	}
	ret = wait_byte(h_done[0]);
	if (ret)
		ret = wait_byte(h_done[0]);	/* slow emulation: once more */
	ASSERT_EQ(0, ret);
	TH_LOG("hostile uid %d: %d pool ports (%d sends of %d KiB) then %s; "
	       "%d more named ports then %s", T_UID1, rep->a_ports,
	       rep->a_sends, H_MSG / 1024, strerror(rep->a_err), rep->b_ports,
	       strerror(rep->b_err));

	/* the victim works while everything is held */
	ASSERT_EQ(1, write(v_go[1], "g", 1));
	EXPECT_EQ(0, t_reap(v));
	ASSERT_EQ(1, write(h_go[1], "g", 1));
	EXPECT_EQ(0, t_reap(h));

	EXPECT_EQ(EDQUOT, rep->a_err);
	EXPECT_EQ(0, rep->a_bad) TH_LOG("a send or alloc failed: %s",
					strerror(rep->a_bad));
	EXPECT_LE(1, rep->a_ports);
	EXPECT_GE(H_BYTES / (H_CAP * (H_MSG + 64) + H_POOL), rep->a_ports);
	EXPECT_EQ(rep->a_ports * H_CAP, rep->a_sends);
	EXPECT_EQ(EMFILE, rep->b_err);
	EXPECT_GE(H_PORTS, rep->a_ports + rep->b_ports);
	EXPECT_TRUE(rep->after_err == EMFILE || rep->after_err == EDQUOT)
		TH_LOG("after the attack: %s", strerror(rep->after_err));

	/* everything came back: the hostile uid can create again */
	h = t_fork();
	ASSERT_LE(0, h);
	if (h == 0) {
		int fds[4], i;

		if (t_become(T_UID1, T_GID1))
			_exit(T_BAD_SETUP);
		for (i = 0; i < 4; i++) {
			fds[i] = t_pool_port(H_CAP, H_MSG, H_POOL, NULL, 0600, 0);
			if (fds[i] < 0)
				_exit(t_code(fds[i]));
		}
		_exit(0);
	}
	EXPECT_EQ(0, t_reap(h));
}

/*
 * 4. An fd gives its access, and nothing more, by any route
 */

#define RO_POOL	(4 * PAGE)

static int pool_same(const uint8_t *p, size_t len, uint32_t seed)
{
	return t_check(p, len, seed);
}

TEST_F(sec, receive_only_fd_cannot_write_the_pool_by_any_route)
{
	uint8_t *w, *ro, *p, byte = 0x5a;
	char path[128], rbuf[16];
	struct iovec liov, riov;
	struct mbx_recv *rr;
	struct mbx_recv r;
	int fd, rfd, mem, o, pp[2], status;
	long word;
	pid_t pid;

	fd = t_pool_port(4, 64, RO_POOL, self->name, 0644, 0);
	ASSERT_LE(0, fd);
	w = map_pool(fd, RO_POOL, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, w);
	t_fill(w, RO_POOL, 77);
	rfd = mbx_port_open(MBX_DEV_AUTO, self->name, MBX_RECV);
	ASSERT_LE(0, rfd);
	ro = map_pool(rfd, RO_POOL, PROT_READ);
	ASSERT_NE(NULL, ro);
	ASSERT_TRUE(pool_same(ro, RO_POOL, 77));

	/* MAP_PRIVATE, writable or not: refused, so no private copy either */
	p = mmap(NULL, RO_POOL, PROT_READ | PROT_WRITE, MAP_PRIVATE, rfd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	if (p != MAP_FAILED) {
		p[0] = 1;
		munmap(p, RO_POOL);
	}
	p = mmap(NULL, RO_POOL, PROT_READ, MAP_PRIVATE, rfd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	if (p != MAP_FAILED)
		munmap(p, RO_POOL);

	/* /proc/self/mem uses FOLL_FORCE: still no write to a shared page */
	mem = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, mem);
	errno = 0;
	EXPECT_EQ(-1, pwrite(mem, &byte, 1, (off_t)(uintptr_t)(ro + 10)));
	TH_LOG("/proc/self/mem write to the read-only pool: %s",
	       strerror(errno));
	EXPECT_EQ(1, pread(mem, &byte, 1, (off_t)(uintptr_t)(ro + 10)));
	EXPECT_EQ(w[10], byte);
	close(mem);

	/* process_vm_writev(): no FOLL_FORCE, EFAULT (where it exists) */
	byte = 0x5a;
	liov = (struct iovec){ .iov_base = &byte, .iov_len = 1 };
	riov = (struct iovec){ .iov_base = ro + 20, .iov_len = 1 };
	if (process_vm_readv(getpid(), &liov, 1, &riov, 1, 0) != 1) {
		TH_LOG("no process_vm_readv/writev in this kernel");
	} else {
		byte = 0x5a;
		errno = 0;
		EXPECT_EQ(-1, process_vm_writev(getpid(), &liov, 1, &riov, 1,
						0));
		EXPECT_EQ(EFAULT, errno);
	}

	/* ptrace(POKEDATA) into a child's copy of the mapping */
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL))
			_exit(T_BAD_SETUP);
		raise(SIGSTOP);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSTOPPED(status));
	errno = 0;
	EXPECT_EQ(-1, ptrace(PTRACE_POKEDATA, pid, ro + 64, (void *)-1L));
	TH_LOG("ptrace POKEDATA to the read-only pool: %s", strerror(errno));
	errno = 0;
	word = ptrace(PTRACE_PEEKDATA, pid, ro + 64, NULL);
	EXPECT_EQ(0, errno);
	EXPECT_EQ(0, memcmp(&word, w + 64, sizeof(word)));
	ASSERT_EQ(0, ptrace(PTRACE_CONT, pid, NULL, NULL));
	EXPECT_EQ(0, t_reap(pid));

	/* reopening the fd or the mapping's file through /proc */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", rfd);
	o = open(path, O_RDWR | O_CLOEXEC);
	EXPECT_GT(0, o) TH_LOG("reopened a receive-only port fd read-write");
	if (o >= 0)
		close(o);
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx",
		 (unsigned long)(uintptr_t)ro,
		 (unsigned long)(uintptr_t)(ro + RO_POOL));
	o = open(path, O_RDWR | O_CLOEXEC);
	EXPECT_GT(0, o) TH_LOG("opened the read-only mapping's file read-write");
	if (o >= 0) {
		p = map_pool(o, RO_POOL, PROT_READ | PROT_WRITE);
		EXPECT_EQ(NULL, p);
		close(o);
	}

	/* mremap: cannot grow it, and a moved mapping is just as read-only */
	EXPECT_EQ(MAP_FAILED, mremap(ro, RO_POOL, 2 * RO_POOL, MREMAP_MAYMOVE));
	EXPECT_EQ(MAP_FAILED, mremap(ro, RO_POOL, RO_POOL,
				     MREMAP_MAYMOVE | MREMAP_DONTUNMAP));
	p = mmap(NULL, RO_POOL, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	p = mremap(ro, RO_POOL, RO_POOL, MREMAP_MAYMOVE | MREMAP_FIXED, p);
	ASSERT_NE(MAP_FAILED, p);
	ro = p;
	EXPECT_EQ(-1, mprotect(ro, RO_POOL, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	EXPECT_TRUE(pool_same(ro, RO_POOL, 77));

	/* madvise: punching a hole is a write; dropping pages loses nothing */
	if (madvise(ro, PAGE, MADV_NORMAL)) {
		TH_LOG("no madvise() in this kernel");
	} else {
		errno = 0;
		EXPECT_EQ(-1, madvise(ro, PAGE, MADV_REMOVE));
		EXPECT_EQ(EACCES, errno);
		EXPECT_EQ(0, madvise(ro, RO_POOL, MADV_DONTNEED));
	}
	EXPECT_TRUE(pool_same(ro, RO_POOL, 77));

	/* a forked child's copy cannot be made writable either */
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(mprotect(ro, RO_POOL, PROT_READ | PROT_WRITE) ? 0 :
		      T_BAD_SUCCESS);
	EXPECT_EQ(0, t_reap(pid));

	/* the kernel writing on our behalf: read(2) and receives, EFAULT */
	ASSERT_EQ(0, pipe(pp));
	ASSERT_EQ(4, write(pp[1], "evil", 4));
	errno = 0;
	EXPECT_EQ(-1, read(pp[0], ro + 128, 4));
	EXPECT_EQ(EFAULT, errno);
	ASSERT_EQ(0, t_send_str(fd, "evil", 0));
	EXPECT_EQ(-EFAULT, recv_nb(rfd, ro + 256, 16, 0, &r));
	EXPECT_EQ(1, T_INFO(fd, queued));
	/* the receive argument itself in the pool: read, but not written */
	rr = (struct mbx_recv *)(w + 512);
	memset(rr, 0, sizeof(*rr));
	rr->buf = (uintptr_t)rbuf;
	rr->len = sizeof(rbuf);
	rr->flags = MBX_NONBLOCK;
	EXPECT_EQ(-EFAULT, t_ioctl(rfd, MBX_IOC_RECV, ro + 512));
	EXPECT_EQ(1, T_INFO(fd, queued));
	t_fill(w, RO_POOL, 77);		/* put the pattern back over it */
	EXPECT_EQ(4, recv_nb(rfd, rbuf, sizeof(rbuf), 0, &r) ? -1 : (int)r.len);
	close(pp[0]);
	close(pp[1]);

	/* after all that, the pool holds exactly what the sender wrote */
	EXPECT_TRUE(pool_same(w, RO_POOL, 77));
	EXPECT_TRUE(pool_same(ro, RO_POOL, 77));
	close(rfd);
	close(fd);
}

TEST_F(sec, send_only_fd_cannot_receive_by_any_route)
{
	struct mbx_call c;
	struct mbx_recv r[2];
	char buf[64], path[64];
	struct pollfd pfd;
	uint64_t off;
	uint8_t *w;
	int fd, s, o;

	fd = t_pool_port(4, 64, PAGE, NULL, 0600, 0);
	ASSERT_LE(0, fd);
	s = mbx_port_dup(fd, MBX_SEND);
	ASSERT_LE(0, s);
	w = map_pool(s, PAGE, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, w);
	ASSERT_EQ(0, t_send_str(fd, "copy", 0));
	ASSERT_EQ(0, t_buf_alloc(fd, 64, 0, 0, &off));
	ASSERT_EQ(0, send_buf(fd, off, 64, 0, 0));

	errno = 0;
	EXPECT_EQ(-1, read(s, buf, sizeof(buf)));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-EBADF, recv_nb(s, buf, sizeof(buf), 0, &r[0]));
	EXPECT_EQ(-EBADF, recv_nb(s, NULL, 0, MBX_RECV_INPLACE, &r[0]));
	memset(r, 0, sizeof(r));
	r[0].buf = (uintptr_t)buf;
	r[0].len = sizeof(buf);
	r[1] = r[0];
	r[1].flags = MBX_RECV_INPLACE;
	EXPECT_EQ(-EBADF, batch(s, MBX_IOC_RECV_BATCH, (uintptr_t)r, 2,
				MBX_NONBLOCK, 0, NULL));
	/* a call that would receive on it, from it or from another fd */
	memset(&c, 0, sizeof(c));
	c.send.buf = (uintptr_t)"x";
	c.send.len = 1;
	c.send.flags = MBX_NONBLOCK;
	c.recv.buf = (uintptr_t)buf;
	c.recv.len = sizeof(buf);
	c.recv.flags = MBX_NONBLOCK;
	c.recv_fd = -1;
	EXPECT_EQ(-EBADF, t_ioctl(s, MBX_IOC_CALL, &c));
	EXPECT_EQ(0, c.done);
	c.recv_fd = s;
	EXPECT_EQ(-EBADF, t_ioctl(fd, MBX_IOC_CALL, &c));
	EXPECT_EQ(0, c.done);
	/* widening, reopening */
	EXPECT_EQ(-EACCES, mbx_port_dup(s, MBX_RECV));
	EXPECT_EQ(-EACCES, mbx_port_dup(s, MBX_RECV | MBX_SEND));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", s);
	o = open(path, O_RDONLY | O_CLOEXEC);
	EXPECT_GT(0, o);
	if (o >= 0)
		close(o);
	/* a queued region is not its to take */
	EXPECT_EQ(-EPERM, t_buf_release(s, off, 64));
	pfd = (struct pollfd){ .fd = s, .events = POLLIN | POLLOUT };
	EXPECT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLOUT, pfd.revents & (POLLIN | POLLOUT));

	EXPECT_EQ(2, T_INFO(fd, queued));
	EXPECT_EQ(0, INFO64(fd, received));
	close(s);
	close(fd);
}

/*
 * uid 1000 owns a 0600 port and passes a receive-only fd, then a send-only
 * fd, to uid 1001 with SCM_RIGHTS.  Each gives exactly its access there,
 * and the receive-only fd passed back gives its owner no more either.
 */
static int holder_of_recv_fd(int sk, const char *name)
{
	struct mbx_send one = { .buf = (uintptr_t)"x", .len = 1 };
	char buf[64];
	uint64_t off;
	void *p;
	int r, s, d;

	r = t_recv_fd(sk, 0);
	if (r < 0)
		return 1;
	if (T_INFO(r, access) != MBX_RECV || T_INFO(r, uid) != T_UID1)
		return 2;
	if (t_recv_str(r, buf, sizeof(buf), NULL) != 5 || strcmp(buf, "for-b"))
		return 3;
	if (write(r, "x", 1) != -1 || errno != EBADF)
		return 4;
	if (send_ex(r, "x", 1, 0, 0, 0) != -EBADF ||
	    batch(r, MBX_IOC_SEND_BATCH, (uintptr_t)&one, 1, 0, 0, NULL) != -EBADF ||
	    t_buf_alloc(r, 64, MBX_NONBLOCK, 0, &off) != -EBADF)
		return 5;
	if (mbx_port_dup(r, MBX_SEND) != -EACCES ||
	    mbx_port_dup(r, MBX_SEND | MBX_RECV) != -EACCES)
		return 6;
	d = mbx_port_dup(r, MBX_RECV);
	if (d < 0)
		return 7;
	close(d);
	if (map_pool(r, PAGE, PROT_READ | PROT_WRITE) || errno != EACCES)
		return 8;
	p = map_pool(r, PAGE, PROT_READ);
	if (!p || !mprotect(p, PAGE, PROT_READ | PROT_WRITE))
		return 9;
	/* the name still refuses this user */
	if (mbx_port_open(MBX_DEV_AUTO, name, MBX_RECV) != -EACCES ||
	    mbx_port_unlink(MBX_DEV_AUTO, name) != -EPERM)
		return 10;
	if (t_send_fd(sk, r))
		return 11;
	close(r);

	s = t_recv_fd(sk, 0);
	if (s < 0)
		return 12;
	if (T_INFO(s, access) != MBX_SEND)
		return 13;
	if (t_send_str(s, "from-b", 0))
		return 14;
	if (read(s, buf, sizeof(buf)) != -1 || errno != EBADF)
		return 15;
	if (mbx_recv_nonblock(s, buf, sizeof(buf), NULL) != -EBADF ||
	    mbx_port_dup(s, MBX_RECV) != -EACCES)
		return 16;
	p = map_pool(s, PAGE, PROT_READ | PROT_WRITE);
	if (!p || t_buf_alloc(s, 64, MBX_NONBLOCK, 0, &off) ||
	    t_buf_release(s, off, 64))
		return 17;
	return 0;
}

static int owner_of_port(int sk, const char *name)
{
	char buf[64];
	int fd, r, s, back;

	fd = t_pool_port(4, 64, PAGE, name, 0600, 0);
	if (fd < 0)
		return 1;
	r = mbx_port_dup(fd, MBX_RECV);
	s = mbx_port_dup(fd, MBX_SEND);
	if (r < 0 || s < 0 || t_send_str(fd, "for-b", 0) || t_send_fd(sk, r))
		return 2;
	close(r);
	back = t_recv_fd(sk, 0);
	if (back < 0)
		return 3;
	/* back home, still receive-only */
	if (T_INFO(back, access) != MBX_RECV ||
	    mbx_port_dup(back, MBX_SEND) != -EACCES ||
	    write(back, "x", 1) != -1 || errno != EBADF)
		return 4;
	if (t_send_fd(sk, s))
		return 5;
	close(s);
	if (mbx_recv_timed(fd, buf, sizeof(buf), NULL, 10000000000ULL) != 6)
		return 6;
	return 0;
}

TEST_F(sec, fd_passed_to_another_user_gives_exactly_its_access)
{
	pid_t a, b;
	int sk[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sk));
	a = t_fork();
	ASSERT_LE(0, a);
	if (a == 0) {
		close(sk[1]);
		if (t_become(T_UID1, T_GID1))
			_exit(T_BAD_SETUP);
		_exit(owner_of_port(sk[0], self->name));
	}
	b = t_fork();
	ASSERT_LE(0, b);
	if (b == 0) {
		close(sk[0]);
		if (t_become(T_UID2, T_GID2))
			_exit(T_BAD_SETUP);
		_exit(holder_of_recv_fd(sk[1], self->name));
	}
	close(sk[0]);
	close(sk[1]);
	EXPECT_EQ(0, t_reap(b));
	EXPECT_EQ(0, t_reap(a));
}

/* ---- CAP_IPC_OWNER ------------------------------------------------------ */

#define T_NO_USERNS	210

/*
 * A user with every capability in a user namespace of its own still holds
 * none over the IPC namespace it shares with its parent (owned by the
 * initial user namespace): no override of a root-owned 0600 port.
 */
TEST_F(sec, cap_ipc_owner_of_a_child_user_namespace_does_not_override)
{
	pid_t pid;
	int fd, ret;

	fd = t_pool_port(2, 16, 0, self->name, 0600, 0);
	ASSERT_LE(0, fd);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct __user_cap_header_struct h = {
			.version = _LINUX_CAPABILITY_VERSION_3,
		};
		struct __user_cap_data_struct d[2];
		int o;

		if (t_become(T_UID1, T_GID1))
			_exit(T_BAD_SETUP);
		if (unshare(CLONE_NEWUSER))
			_exit(T_NO_USERNS);
		memset(d, 0, sizeof(d));
		if (syscall(SYS_capget, &h, d) ||
		    !(d[0].effective & (1U << CAP_IPC_OWNER)))
			_exit(T_BAD_SETUP);
		o = mbx_port_open(MBX_DEV_AUTO, self->name, MBX_RECV);
		if (o != -EACCES)
			_exit(o >= 0 ? T_BAD_SUCCESS : t_code(o));
		o = mbx_port_open(MBX_DEV_AUTO, self->name, MBX_SEND);
		if (o != -EACCES)
			_exit(o >= 0 ? T_BAD_SUCCESS : t_code(o));
		o = mbx_port_unlink(MBX_DEV_AUTO, self->name);
		if (o != -EPERM)
			_exit(o >= 0 ? T_BAD_SUCCESS : t_code(o));
		_exit(0);
	}
	ret = t_reap(pid);
	if (ret == T_NO_USERNS)
		SKIP(return, "no unprivileged user namespaces");
	EXPECT_EQ(0, ret);
	EXPECT_EQ(MBX_STATE_NAMED, T_INFO(fd, state));
	close(fd);
}

/* Capabilities open names; they never widen an fd someone holds. */
TEST_F(sec, capabilities_never_widen_an_fd)
{
	int fd, r, s;

	fd = t_pool_port(2, 16, PAGE, NULL, 0600, 0);
	ASSERT_LE(0, fd);
	r = mbx_port_dup(fd, MBX_RECV);
	s = mbx_port_dup(fd, MBX_SEND);
	ASSERT_LE(0, r);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, geteuid());
	EXPECT_EQ(-EACCES, mbx_port_dup(r, MBX_SEND));
	EXPECT_EQ(-EACCES, mbx_port_dup(s, MBX_RECV));
	errno = 0;
	EXPECT_EQ(-1, write(r, "x", 1));
	EXPECT_EQ(EBADF, errno);
	errno = 0;
	EXPECT_EQ(-1, read(s, &fd, sizeof(fd)));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(NULL, map_pool(r, PAGE, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	close(r);
	close(s);
	close(fd);
}

TEST_HARNESS_MAIN
