// SPDX-License-Identifier: GPL-2.0
/*
 * Security (issue 6, item 5): no kernel data reaches user space.  Every
 * struct the kernel copies out (mbx_version, mbx_port_info, mbx_recv also
 * through MBX_IOC_CALL and batches, mbx_buf, mbx_call.done, mbx_port_list
 * where it exists) is checked byte by byte after filling the user buffer
 * with 0xA5: each output field holds its documented value, reserved
 * fields and name padding are zero, and nothing else changed.  fdinfo
 * shows only the documented keys, each once, whatever the port's name.
 *
 * The rest of the security tests: integer overflow, huge timeouts and a
 * hostile user against the per-user limits in security_limits_test.c;
 * what an fd's access allows by any route, and CAP_IPC_OWNER, in
 * security_access_test.c; their common part in security/sec.h.
 *
 * Covered elsewhere and not repeated: the permission matrix and
 * CAP_IPC_OWNER on open/unlink (perm_test), namespaces (ns_test), mmap
 * PROT_WRITE / mprotect on receive-only fds (pool_test), the module limits
 * themselves (limits_test), SCM_RIGHTS within one user (fdpass_test).
 */
#define _GNU_SOURCE
#include "security/sec.h"

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
	ASSERT_EQ(0, t_send_buf(fd, off, 100, 3, 42));
	recv_pattern(r, NULL, 0, MBX_NONBLOCK | MBX_RECV_INPLACE);
	before = *r;
	ASSERT_EQ(0, t_ioctl(fd, MBX_IOC_RECV, r));
	want = (struct recv_out){ .len = 100, .offset = off, .tag = 42,
				  .prio = 3, .msg_flags = MBX_MSG_BUF,
				  .pid = getpid(), .uid = geteuid() };
	EXPECT_TRUE(recv_written(&before, r, &want));

	/* EMSGSIZE: only len is written, the rest stays as the caller had it */
	ASSERT_EQ(0, t_send_buf(fd, off, 100, 4, 43));
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
	EXPECT_EQ(PAGE, T_INFO64(fd, pool_free));

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
	EXPECT_EQ(2 * PAGE, T_INFO64(fd, pool_free));
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

TEST_HARNESS_MAIN
