// SPDX-License-Identifier: GPL-2.0
/*
 * The message queue in copy mode: payloads, read()/write(), MBX_IOC_SEND and
 * MBX_IOC_RECV fields and errors, priority and FIFO order, capacity, and
 * every combination of blocking / non-blocking x send / receive x empty /
 * full / rendezvous.  The second party is a child process; a test knows it
 * is blocked from PORT_INFO send_waiting / recv_waiting.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "kselftest_harness.h"
#include "mbx_helpers.h"

/* MBX_IOC_RECV into @buf; the kernel's answer is left in @r. */
static long recv_raw(int fd, void *buf, uint64_t len, uint32_t flags,
		     struct mbx_recv *r)
{
	memset(r, 0, sizeof(*r));
	r->buf = (uintptr_t)buf;
	r->len = len;
	r->flags = flags;
	return t_ioctl(fd, MBX_IOC_RECV, r);
}

static long send_raw(int fd, const void *buf, uint64_t len, uint32_t prio,
		     uint64_t tag, uint32_t flags)
{
	struct mbx_send s;

	memset(&s, 0, sizeof(s));
	s.buf = (uintptr_t)buf;
	s.len = len;
	s.prio = prio;
	s.tag = tag;
	s.flags = flags;
	return t_ioctl(fd, MBX_IOC_SEND, &s);
}

/* Child: blocking receive; exits with the first byte received, or errno. */
static pid_t fork_receiver(int fd)
{
	pid_t pid = t_fork();
	char buf[64];
	ssize_t n;

	if (pid == 0) {
		n = mbx_recv(fd, buf, sizeof(buf), NULL);
		if (n < 0)
			_exit(t_code(n));
		_exit(n > 0 ? (unsigned char)buf[0] : T_BAD_DATA);
	}
	return pid;
}

/* Child: blocking send of @s at @prio; exits 0 or errno. */
static pid_t fork_sender(int fd, const char *s, unsigned int prio)
{
	pid_t pid = t_fork();

	if (pid == 0)
		_exit(t_code(t_send_str(fd, s, prio)));
	return pid;
}

TEST(copy_is_byte_exact_for_sizes_0_1_and_max)
{
	struct mbx_port_info info;
	size_t sizes[] = { 0, 1, 2, 63, 4095, 4097, 0 /* max-1 */, 0 /* max */ };
	unsigned int i, prio;
	uint8_t *out, *in;
	int fd;

	fd = t_anon(4, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_info(fd, &info));
	sizes[6] = info.max_msg_size - 1;
	sizes[7] = info.max_msg_size;
	out = malloc(info.max_msg_size + 16);
	in = malloc(info.max_msg_size + 16);
	ASSERT_NE(NULL, out);
	ASSERT_NE(NULL, in);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		t_fill(out, sizes[i], i + 1);
		memset(in, 0xa5, info.max_msg_size + 16);
		ASSERT_EQ(0, mbx_send(fd, out, sizes[i], 7));
		ASSERT_EQ((ssize_t)sizes[i],
			  mbx_recv(fd, in, info.max_msg_size + 16, &prio));
		EXPECT_TRUE(t_check(in, sizes[i], i + 1))
			TH_LOG("payload of %zu bytes differs", sizes[i]);
		/* nothing written beyond the message */
		EXPECT_EQ(0xa5, in[sizes[i]]);
		EXPECT_EQ(7, prio);
	}
}

TEST(zero_length_message_received_with_null_buffer)
{
	struct mbx_recv r;
	int fd = t_anon(2, 16);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, mbx_send(fd, "", 0, 0));
	EXPECT_EQ(1, T_INFO(fd, queued));
	EXPECT_LE(0, recv_raw(fd, NULL, 0, MBX_NONBLOCK, &r));
	EXPECT_EQ(0, r.len);
	EXPECT_EQ(0, T_INFO(fd, queued));
}

TEST(null_buffer_receive_of_nonempty_message_fails_emsgsize)
{
	struct mbx_recv r;
	int fd = t_anon(2, 16);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_str(fd, "abc", 0));
	EXPECT_EQ(-EMSGSIZE, recv_raw(fd, NULL, 0, MBX_NONBLOCK, &r));
	EXPECT_EQ(3, r.len);
	EXPECT_EQ(1, T_INFO(fd, queued));
}

TEST(write_sends_one_message_per_call)
{
	char buf[64];
	int fd = t_anon(4, 64);

	ASSERT_LE(0, fd);
	ASSERT_EQ(5, write(fd, "hello", 5));
	ASSERT_EQ(6, write(fd, "world!", 6));
	ASSERT_EQ(1, write(fd, "x", 1));
	EXPECT_EQ(3, T_INFO(fd, queued));
	ASSERT_EQ(5, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	ASSERT_EQ(6, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "world!", 6));
	ASSERT_EQ(1, read(fd, buf, sizeof(buf)));
	EXPECT_EQ('x', buf[0]);
	EXPECT_EQ(0, T_INFO(fd, queued));
}

TEST(write_of_zero_bytes_sends_empty_message)
{
	char buf[8];
	int fd = t_anon(2, 16);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, write(fd, buf, 0));
	EXPECT_EQ(1, T_INFO(fd, queued));
	EXPECT_EQ(1, T_INFO(fd, sent));
	EXPECT_EQ(0, mbx_recv_nonblock(fd, buf, sizeof(buf), NULL));
}

TEST(write_sends_at_priority_zero)
{
	unsigned int prio = 99;
	char buf[16];
	int fd = t_anon(4, 16);

	ASSERT_LE(0, fd);
	ASSERT_EQ(1, write(fd, "w", 1));
	ASSERT_EQ(0, t_send_str(fd, "p", 1));
	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), &prio));
	EXPECT_STREQ("p", buf);
	EXPECT_EQ(1, prio);
	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), &prio));
	EXPECT_STREQ("w", buf);
	EXPECT_EQ(0, prio);
}

TEST(read_with_small_buffer_fails_emsgsize_and_keeps_message)
{
	char buf[16];
	int fd = t_anon(2, 16);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_str(fd, "0123456789", 0));
	EXPECT_EQ(-1, read(fd, buf, 9));
	EXPECT_EQ(EMSGSIZE, errno);
	EXPECT_EQ(1, T_INFO(fd, queued));
	EXPECT_EQ(0, T_INFO(fd, received));
	ASSERT_EQ(10, read(fd, buf, 10));
	EXPECT_EQ(0, memcmp(buf, "0123456789", 10));
}

TEST(recv_with_small_buffer_reports_length_and_keeps_message)
{
	char buf[128], out[100];
	struct mbx_recv r;
	int fd = t_anon(2, 128);

	ASSERT_LE(0, fd);
	t_fill(out, sizeof(out), 42);
	ASSERT_EQ(0, send_raw(fd, out, sizeof(out), 3, 77, 0));
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(-EMSGSIZE, recv_raw(fd, buf, 99, MBX_NONBLOCK, &r));
	EXPECT_EQ(100, r.len);
	EXPECT_EQ(1, T_INFO(fd, queued));
	/* the retry with the reported length gets it whole */
	EXPECT_LE(0, recv_raw(fd, buf, 100, MBX_NONBLOCK, &r));
	EXPECT_EQ(100, r.len);
	EXPECT_EQ(77, r.tag);
	EXPECT_EQ(3, r.prio);
	EXPECT_TRUE(t_check(buf, 100, 42));
}

TEST(send_above_max_msg_size_fails_emsgsize)
{
	char buf[65];
	int fd = t_anon(4, 64);

	ASSERT_LE(0, fd);
	memset(buf, 'm', sizeof(buf));
	EXPECT_EQ(-EMSGSIZE, mbx_send(fd, buf, 65, 0));
	EXPECT_EQ(-EMSGSIZE, mbx_send_nonblock(fd, buf, 65, 0));
	EXPECT_EQ(-1, write(fd, buf, 65));
	EXPECT_EQ(EMSGSIZE, errno);
	EXPECT_EQ(-EMSGSIZE, mbx_send(fd, buf, 1ULL << 32, 0));
	EXPECT_EQ(0, T_INFO(fd, queued));
	EXPECT_EQ(0, T_INFO(fd, sent));
	EXPECT_EQ(0, mbx_send(fd, buf, 64, 0));
}

TEST(higher_priority_received_first)
{
	static const unsigned int prios[] = { 0, 5, 31, 1, 30, 5, 0 };
	static const char order[] = "cebfdag";	/* by prio, then FIFO */
	unsigned int i, prio;
	char buf[4], s[2] = "a";
	int fd = t_anon(8, 16);

	ASSERT_LE(0, fd);
	for (i = 0; i < ARRAY_SIZE(prios); i++) {
		s[0] = 'a' + i;
		ASSERT_EQ(0, t_send_str(fd, s, prios[i]));
	}
	for (i = 0; i < ARRAY_SIZE(prios); i++) {
		ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), &prio));
		EXPECT_EQ(order[i], buf[0]) TH_LOG("position %u", i);
		EXPECT_EQ(prios[order[i] - 'a'], prio);
	}
}

TEST(fifo_within_one_priority)
{
	unsigned int i, seq;
	int fd = t_anon(64, 16);

	ASSERT_LE(0, fd);
	for (i = 0; i < 64; i++)
		ASSERT_EQ(0, mbx_send(fd, &i, sizeof(i), 9));
	for (i = 0; i < 64; i++) {
		ASSERT_EQ(sizeof(seq), mbx_recv_nonblock(fd, &seq, sizeof(seq),
							 NULL));
		EXPECT_EQ(i, seq);
	}
}

TEST(every_priority_0_to_31_is_ordered)
{
	unsigned int i, p, prio, v;
	int fd = t_anon(64, 16);

	ASSERT_LE(0, fd);
	/* two messages per priority, sent lowest first, interleaved */
	for (i = 0; i < 64; i++) {
		p = i % 32;
		ASSERT_EQ(0, mbx_send(fd, &i, sizeof(i), p));
	}
	for (p = 32; p-- > 0;) {
		ASSERT_EQ(sizeof(v), mbx_recv_nonblock(fd, &v, sizeof(v), &prio));
		EXPECT_EQ(p, prio);
		EXPECT_EQ(p, v);
		ASSERT_EQ(sizeof(v), mbx_recv_nonblock(fd, &v, sizeof(v), &prio));
		EXPECT_EQ(p, prio);
		EXPECT_EQ(p + 32, v);
	}
}

TEST(send_rejects_priority_above_31)
{
	int fd = t_anon(4, 16);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, t_send_str(fd, "x", MBX_PRIO_MAX + 1));
	EXPECT_EQ(-EINVAL, t_send_str(fd, "x", 0xffffffffU));
	EXPECT_EQ(-EINVAL, mbx_send_nonblock(fd, "x", 1, 1000));
	EXPECT_EQ(0, T_INFO(fd, queued));
	EXPECT_EQ(0, t_send_str(fd, "x", MBX_PRIO_MAX));
}

TEST(send_rejects_unknown_flags)
{
	static const uint32_t bad[] = { MBX_CLOEXEC, MBX_SEND, MBX_RECV,
					MBX_RECV_INPLACE, 1U << 8, 1U << 31 };
	unsigned int i;
	int fd = t_anon(4, 16);

	ASSERT_LE(0, fd);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		EXPECT_EQ(-EINVAL, send_raw(fd, "x", 1, 0, 0, bad[i]))
			TH_LOG("flags %#x", bad[i]);
	EXPECT_EQ(0, T_INFO(fd, queued));
	EXPECT_EQ(0, T_INFO(fd, sent));
}

TEST(recv_rejects_unknown_flags)
{
	static const uint32_t bad[] = { MBX_CLOEXEC, MBX_SEND, MBX_RECV,
					MBX_SEND_BUF, 1U << 8, 1U << 31 };
	struct mbx_recv r;
	unsigned int i;
	char buf[8];
	int fd = t_anon(4, 16);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_str(fd, "x", 0));
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		EXPECT_EQ(-EINVAL, recv_raw(fd, buf, sizeof(buf),
					    bad[i] | MBX_NONBLOCK, &r))
			TH_LOG("flags %#x", bad[i]);
	EXPECT_EQ(1, T_INFO(fd, queued));
}

TEST(recv_rejects_nonzero_reserved)
{
	struct mbx_recv r;
	char buf[8];
	int fd = t_anon(4, 16);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_str(fd, "x", 0));
	memset(&r, 0, sizeof(r));
	r.buf = (uintptr_t)buf;
	r.len = sizeof(buf);
	r.flags = MBX_NONBLOCK;
	r.dropped = 1;
	EXPECT_EQ(-EINVAL, t_ioctl(fd, MBX_IOC_RECV, &r));
	EXPECT_EQ(1, T_INFO(fd, queued));
}

TEST(recv_reports_tag_priority_and_copy_mode)
{
	static const uint64_t tags[] = { 0, 1, 0x0123456789abcdefULL, ~0ULL };
	struct mbx_recv r;
	unsigned int i;
	char buf[8];
	int fd = t_anon(4, 16);

	ASSERT_LE(0, fd);
	for (i = 0; i < ARRAY_SIZE(tags); i++)
		ASSERT_EQ(0, send_raw(fd, "t", 1, 2, tags[i], 0));
	for (i = 0; i < ARRAY_SIZE(tags); i++) {
		/* Output fields are ignored; inputs must be valid. */
		memset(&r, 0xff, sizeof(r));
		r.buf = (uintptr_t)buf;
		r.len = sizeof(buf);
		r.flags = MBX_NONBLOCK;
		r.timeout_ns = 0;
		r.dropped = 0;
		r.release_offset = 0;
		r.release_len = 0;
		ASSERT_LE(0, t_ioctl(fd, MBX_IOC_RECV, &r));
		EXPECT_EQ(1, r.len);
		EXPECT_EQ(tags[i], r.tag);
		EXPECT_EQ(2, r.prio);
		EXPECT_EQ(0, r.msg_flags);
		EXPECT_EQ(0, r.dropped);
	}
}

/* Child: as T_UID1, send "c"; exits 0 or errno. */
static pid_t fork_uid1_sender(int fd)
{
	pid_t pid = t_fork();

	if (pid == 0) {
		if (t_become(T_UID1, T_GID1))
			_exit(T_BAD_SETUP);
		_exit(t_code(t_send_str(fd, "c", 0)));
	}
	return pid;
}

TEST(recv_reports_sender_pid_and_effective_uid)
{
	struct mbx_recv r;
	char buf[8];
	pid_t pid;
	int fd = t_anon(4, 16);

	ASSERT_LE(0, fd);
	pid = fork_uid1_sender(fd);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, t_reap(pid));
	ASSERT_EQ(0, t_send_str(fd, "p", 0));

	ASSERT_LE(0, recv_raw(fd, buf, sizeof(buf), MBX_NONBLOCK, &r));
	EXPECT_EQ(pid, r.pid);
	EXPECT_EQ(T_UID1, r.uid);
	ASSERT_LE(0, recv_raw(fd, buf, sizeof(buf), MBX_NONBLOCK, &r));
	EXPECT_EQ(getpid(), r.pid);
	EXPECT_EQ(geteuid(), r.uid);
}

/*
 * A port reuses the memory of messages received in copy mode for its next
 * sends: each message still names its own sender.  Three at a time, so
 * that several are kept at once.
 */
TEST(recv_after_reuse_reports_each_messages_own_sender)
{
	enum { N = 3 };
	struct mbx_recv r;
	char buf[8];
	pid_t pid[N];
	int round, i, fd = t_anon(4, 16);

	ASSERT_LE(0, fd);
	for (round = 0; round < 2; round++) {
		for (i = 0; i < N; i++)
			ASSERT_EQ(0, t_send_str(fd, "p", 0));
		for (i = 0; i < N; i++) {
			ASSERT_LE(0, recv_raw(fd, buf, sizeof(buf),
					      MBX_NONBLOCK, &r));
			EXPECT_EQ(getpid(), r.pid);
			EXPECT_EQ(geteuid(), r.uid);
		}
		for (i = 0; i < N; i++) {
			pid[i] = fork_uid1_sender(fd);
			ASSERT_LE(0, pid[i]);
			ASSERT_EQ(0, t_reap(pid[i]));
		}
		for (i = 0; i < N; i++) {
			ASSERT_LE(0, recv_raw(fd, buf, sizeof(buf),
					      MBX_NONBLOCK, &r));
			EXPECT_EQ('c', buf[0]);
			EXPECT_EQ(pid[i], r.pid);
			EXPECT_EQ(T_UID1, r.uid);
		}
	}
	/* Closed with messages kept for reuse: nothing leaks (kmemleak). */
	ASSERT_EQ(0, close(fd));
}

static void *thread_send(void *arg)
{
	return (void *)(intptr_t)t_send_str(*(int *)arg, "t", 0);
}

TEST(recv_reports_thread_group_id_of_threaded_sender)
{
	struct mbx_recv r;
	pthread_t th;
	char buf[8];
	void *ret;
	int fd = t_anon(4, 16);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pthread_create(&th, NULL, thread_send, &fd));
	ASSERT_EQ(0, pthread_join(th, &ret));
	ASSERT_EQ(0, (intptr_t)ret);
	ASSERT_LE(0, recv_raw(fd, buf, sizeof(buf), MBX_NONBLOCK, &r));
	EXPECT_EQ(getpid(), r.pid);
}

TEST(send_from_bad_buffer_fails_efault_and_sends_nothing)
{
	int fd = t_anon(4, 64);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EFAULT, send_raw(fd, t_bad_ptr(), 16, 0, 0, 0));
	EXPECT_EQ(-EFAULT, send_raw(fd, t_bad_ptr(), 16, 0, 0, MBX_NONBLOCK));
	EXPECT_EQ(-1, write(fd, t_bad_ptr(), 16));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, T_INFO(fd, queued));
	EXPECT_EQ(0, T_INFO(fd, sent));
}

TEST(recv_into_bad_buffer_fails_efault_and_keeps_message_first)
{
	struct mbx_recv r;
	unsigned int prio;
	char buf[8];
	int fd = t_anon(4, 64);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_str(fd, "A", 1));
	ASSERT_EQ(0, t_send_str(fd, "B", 1));
	EXPECT_EQ(-EFAULT, recv_raw(fd, t_bad_ptr(), 8, MBX_NONBLOCK, &r));
	EXPECT_EQ(-1, read(fd, t_bad_ptr(), 8));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(2, T_INFO(fd, queued));
	EXPECT_EQ(0, T_INFO(fd, received));
	/* still at the head of its priority */
	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), &prio));
	EXPECT_STREQ("A", buf);
	EXPECT_EQ(1, prio);
	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), &prio));
	EXPECT_STREQ("B", buf);
}

/*
 * Results that cannot be written back (a read-only struct mbx_recv):
 * EFAULT, and the message is still at the head of the queue.
 */
TEST(recv_with_read_only_results_fails_efault_and_keeps_message)
{
	struct mbx_recv *r;
	char buf[8] = "";
	int fd = t_anon(4, 64);
	void *pg;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_str(fd, "A", 1));
	pg = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, pg);
	r = pg;
	r->buf = (uintptr_t)buf;
	r->len = sizeof(buf);
	r->flags = MBX_NONBLOCK;
	ASSERT_EQ(0, mprotect(pg, 4096, PROT_READ));
	EXPECT_EQ(-EFAULT, t_ioctl(fd, MBX_IOC_RECV, r));
	EXPECT_EQ(1, T_INFO(fd, queued));
	EXPECT_EQ(0, T_INFO(fd, received));
	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("A", buf);
	munmap(pg, 4096);
	close(fd);
}

TEST(send_and_recv_bad_argument_pointer_fail_efault)
{
	int fd = t_anon(4, 64);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EFAULT, t_ioctl(fd, MBX_IOC_SEND, t_bad_ptr()));
	EXPECT_EQ(-EFAULT, t_ioctl(fd, MBX_IOC_SEND, NULL));
	EXPECT_EQ(0, T_INFO(fd, sent));
	ASSERT_EQ(0, t_send_str(fd, "k", 0));
	EXPECT_EQ(-EFAULT, t_ioctl(fd, MBX_IOC_RECV, t_bad_ptr()));
	EXPECT_EQ(-EFAULT, t_ioctl(fd, MBX_IOC_RECV, NULL));
	EXPECT_EQ(1, T_INFO(fd, queued));
}

/* ---- non-blocking x empty / full -------------------------------------- */

TEST(nonblocking_send_with_room_succeeds)
{
	int fd = t_anon(2, 16);

	ASSERT_LE(0, fd);
	EXPECT_EQ(0, mbx_send_nonblock(fd, "a", 1, 0));
	EXPECT_EQ(0, mbx_send_nonblock(fd, "b", 1, 0));
	EXPECT_EQ(2, T_INFO(fd, queued));
}

TEST(nonblocking_send_to_full_queue_fails_eagain)
{
	char buf[8];
	int fd = t_anon(2, 16);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_str(fd, "a", 0));
	ASSERT_EQ(0, t_send_str(fd, "b", 0));
	EXPECT_EQ(-EAGAIN, mbx_send_nonblock(fd, "c", 1, 0));
	/* a higher priority does not make room either */
	EXPECT_EQ(-EAGAIN, mbx_send_nonblock(fd, "d", 1, 31));
	EXPECT_EQ(2, T_INFO(fd, queued));
	EXPECT_EQ(2, T_INFO(fd, sent));
	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("a", buf);
	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("b", buf);
	EXPECT_EQ(-EAGAIN, t_recv_str(fd, buf, sizeof(buf), NULL));
}

TEST(nonblocking_recv_from_empty_queue_fails_eagain)
{
	char buf[8];
	int fd = t_anon(2, 16);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EAGAIN, mbx_recv_nonblock(fd, buf, sizeof(buf), NULL));
	EXPECT_EQ(0, T_INFO(fd, recv_waiting));
}

TEST(nonblocking_recv_with_message_succeeds)
{
	char buf[8];
	int fd = t_anon(2, 16);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_str(fd, "m", 0));
	EXPECT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("m", buf);
}

TEST(o_nonblock_makes_read_and_write_nonblocking)
{
	char buf[8];
	int fd = t_anon(1, 16);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fcntl(fd, F_SETFL, O_NONBLOCK));
	EXPECT_EQ(-1, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(1, write(fd, "a", 1));
	EXPECT_EQ(-1, write(fd, "b", 1));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(1, T_INFO(fd, queued));
}

TEST(o_nonblock_makes_ioctl_send_and_recv_nonblocking)
{
	char buf[8];
	int fd = t_anon(1, 16);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fcntl(fd, F_SETFL, O_NONBLOCK));
	/* no MBX_NONBLOCK in the calls: the fd's flag decides */
	EXPECT_EQ(-EAGAIN, mbx_recv(fd, buf, sizeof(buf), NULL));
	ASSERT_EQ(0, t_send_str(fd, "a", 0));
	EXPECT_EQ(-EAGAIN, t_send_str(fd, "b", 0));
	EXPECT_EQ(1, T_INFO(fd, queued));
	EXPECT_EQ(0, T_INFO(fd, send_waits));
	EXPECT_EQ(0, T_INFO(fd, recv_waits));
}

/* ---- blocking x empty / full ------------------------------------------ */

TEST(blocking_send_with_room_returns_at_once)
{
	int fd = t_anon(2, 16);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_str(fd, "a", 0));
	EXPECT_EQ(1, T_INFO(fd, queued));
	EXPECT_EQ(0, T_INFO(fd, send_waits));
}

TEST(blocking_recv_with_message_returns_at_once)
{
	char buf[8];
	int fd = t_anon(2, 16);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_str(fd, "a", 0));
	EXPECT_EQ(1, mbx_recv(fd, buf, sizeof(buf), NULL));
	EXPECT_EQ(0, T_INFO(fd, recv_waits));
}

TEST(blocking_send_to_full_queue_waits_for_a_receive)
{
	char buf[8];
	pid_t pid;
	int fd = t_anon(2, 16);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_str(fd, "a", 0));
	ASSERT_EQ(0, t_send_str(fd, "b", 0));
	pid = fork_sender(fd, "c", 0);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, T_WAIT(fd, send_waiting, 1));
	EXPECT_TRUE(t_stays_blocked(pid));
	EXPECT_EQ(2, T_INFO(fd, queued));

	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("a", buf);
	EXPECT_EQ(0, t_reap(pid));
	EXPECT_EQ(2, T_INFO(fd, queued));
	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("b", buf);
	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("c", buf);
	EXPECT_EQ(-EAGAIN, t_recv_str(fd, buf, sizeof(buf), NULL));
}

TEST(blocking_recv_from_empty_queue_waits_for_a_send)
{
	pid_t pid;
	int fd = t_anon(2, 16);

	ASSERT_LE(0, fd);
	pid = fork_receiver(fd);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, T_WAIT(fd, recv_waiting, 1));
	EXPECT_TRUE(t_stays_blocked(pid));
	ASSERT_EQ(0, t_send_str(fd, "R", 0));
	EXPECT_EQ('R', t_reap(pid));
	EXPECT_EQ(0, T_INFO(fd, queued));
	EXPECT_EQ(1, T_INFO(fd, received));
}

TEST(blocked_senders_are_served_by_priority)
{
	pid_t lo, hi;
	char buf[8];
	int fd = t_anon(1, 16);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_str(fd, "q", 0));
	lo = fork_sender(fd, "l", 1);
	ASSERT_LE(0, lo);
	ASSERT_EQ(0, T_WAIT(fd, send_waiting, 1));
	hi = fork_sender(fd, "h", 5);
	ASSERT_LE(0, hi);
	ASSERT_EQ(0, T_WAIT(fd, send_waiting, 2));

	/* a free slot goes to the best waiting message */
	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("q", buf);
	EXPECT_EQ(0, t_reap(hi));
	EXPECT_TRUE(t_alive(lo));
	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("h", buf);
	EXPECT_EQ(0, t_reap(lo));
	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("l", buf);
}

TEST(blocked_senders_are_served_fifo_within_a_priority)
{
	pid_t first, second;
	char buf[8];
	int fd = t_anon(1, 16);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_str(fd, "q", 2));
	first = fork_sender(fd, "1", 2);
	ASSERT_LE(0, first);
	ASSERT_EQ(0, T_WAIT(fd, send_waiting, 1));
	second = fork_sender(fd, "2", 2);
	ASSERT_LE(0, second);
	ASSERT_EQ(0, T_WAIT(fd, send_waiting, 2));

	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("q", buf);
	EXPECT_EQ(0, t_reap(first));
	EXPECT_TRUE(t_alive(second));
	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("1", buf);
	EXPECT_EQ(0, t_reap(second));
	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("2", buf);
}

TEST(longest_waiting_receiver_gets_the_next_message)
{
	pid_t first, second;
	int fd = t_anon(2, 16);

	ASSERT_LE(0, fd);
	first = fork_receiver(fd);
	ASSERT_LE(0, first);
	ASSERT_EQ(0, T_WAIT(fd, recv_waiting, 1));
	second = fork_receiver(fd);
	ASSERT_LE(0, second);
	ASSERT_EQ(0, T_WAIT(fd, recv_waiting, 2));

	ASSERT_EQ(0, t_send_str(fd, "A", 0));
	EXPECT_EQ('A', t_reap(first));
	ASSERT_EQ(0, t_send_str(fd, "B", 0));
	EXPECT_EQ('B', t_reap(second));
}

TEST(one_message_wakes_one_receiver)
{
	pid_t pids[3];
	int i, sum, done = -1;
	uint64_t end;
	int fd = t_anon(4, 16);

	ASSERT_LE(0, fd);
	for (i = 0; i < 3; i++) {
		pids[i] = fork_receiver(fd);
		ASSERT_LE(0, pids[i]);
		ASSERT_EQ(0, T_WAIT(fd, recv_waiting, i + 1));
	}
	ASSERT_EQ(0, t_send_str(fd, "1", 0));
	ASSERT_EQ(0, T_WAIT(fd, recv_waiting, 2));
	/* wait (bounded) for the one that got it to end */
	end = t_now_ns() + T_WAIT_MS * 1000000ULL;
	while (done < 0 && t_now_ns() < end) {
		for (i = 0; i < 3 && done < 0; i++)
			if (!t_alive(pids[i]))
				done = i;
		usleep(1000);
	}
	ASSERT_LE(0, done);
	EXPECT_EQ('1', t_reap(pids[done]));
	/* the other two stay asleep */
	t_sleep_ms(T_BLOCKED_MS);
	EXPECT_EQ(2, T_INFO(fd, recv_waiting));
	EXPECT_EQ(0, T_INFO(fd, queued));
	for (i = 0; i < 3; i++)
		if (i != done)
			EXPECT_TRUE(t_alive(pids[i]));
	ASSERT_EQ(0, t_send_str(fd, "2", 0));
	ASSERT_EQ(0, t_send_str(fd, "3", 0));
	sum = 0;
	for (i = 0; i < 3; i++)
		if (i != done)
			sum += t_reap(pids[i]);
	EXPECT_EQ('2' + '3', sum);
}

/* ---- rendezvous -------------------------------------------------------- */

TEST(rendezvous_nonblocking_send_without_receiver_fails_eagain)
{
	int fd = t_anon(0, 16);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EAGAIN, mbx_send_nonblock(fd, "x", 1, 0));
	EXPECT_EQ(0, T_INFO(fd, queued));
	EXPECT_EQ(0, T_INFO(fd, sent));
}

TEST(rendezvous_nonblocking_send_to_waiting_receiver_succeeds)
{
	pid_t pid;
	int fd = t_anon(0, 16);

	ASSERT_LE(0, fd);
	pid = fork_receiver(fd);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, T_WAIT(fd, recv_waiting, 1));
	EXPECT_EQ(0, mbx_send_nonblock(fd, "N", 1, 0));
	EXPECT_EQ('N', t_reap(pid));
	/* the receiver took it: nothing left for a second one */
	EXPECT_EQ(-EAGAIN, mbx_send_nonblock(fd, "x", 1, 0));
}

TEST(rendezvous_blocking_send_waits_until_received)
{
	char buf[8];
	pid_t pid;
	int fd = t_anon(0, 16);

	ASSERT_LE(0, fd);
	pid = fork_sender(fd, "S", 0);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, T_WAIT(fd, send_waiting, 1));
	EXPECT_TRUE(t_stays_blocked(pid));
	EXPECT_EQ(0, T_INFO(fd, queued));
	ASSERT_EQ(1, mbx_recv(fd, buf, sizeof(buf), NULL));
	EXPECT_EQ('S', buf[0]);
	EXPECT_EQ(0, t_reap(pid));
}

TEST(rendezvous_blocking_send_to_waiting_receiver_completes)
{
	pid_t pid;
	int fd = t_anon(0, 16);

	ASSERT_LE(0, fd);
	pid = fork_receiver(fd);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, T_WAIT(fd, recv_waiting, 1));
	EXPECT_EQ(0, t_send_str(fd, "B", 0));
	EXPECT_EQ('B', t_reap(pid));
}

TEST(rendezvous_nonblocking_recv_without_sender_fails_eagain)
{
	char buf[8];
	int fd = t_anon(0, 16);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EAGAIN, mbx_recv_nonblock(fd, buf, sizeof(buf), NULL));
	EXPECT_EQ(-EAGAIN, mbx_send_nonblock(fd, "x", 1, 0));
	EXPECT_EQ(-EAGAIN, mbx_recv_nonblock(fd, buf, sizeof(buf), NULL));
}

TEST(rendezvous_nonblocking_recv_from_waiting_sender_succeeds)
{
	char buf[8];
	pid_t pid;
	int fd = t_anon(0, 16);

	ASSERT_LE(0, fd);
	pid = fork_sender(fd, "W", 0);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, T_WAIT(fd, send_waiting, 1));
	EXPECT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("W", buf);
	EXPECT_EQ(0, t_reap(pid));
	EXPECT_EQ(-EAGAIN, t_recv_str(fd, buf, sizeof(buf), NULL));
}

TEST(rendezvous_blocking_recv_waits_for_a_sender)
{
	pid_t pid;
	int fd = t_anon(0, 16);

	ASSERT_LE(0, fd);
	pid = fork_receiver(fd);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, T_WAIT(fd, recv_waiting, 1));
	EXPECT_TRUE(t_stays_blocked(pid));
	EXPECT_EQ(0, t_send_str(fd, "Z", 0));
	EXPECT_EQ('Z', t_reap(pid));
}

TEST(rendezvous_small_buffer_fails_emsgsize_and_sender_keeps_waiting)
{
	struct mbx_recv r;
	char buf[16];
	pid_t pid;
	int fd = t_anon(0, 16);

	ASSERT_LE(0, fd);
	pid = fork_sender(fd, "0123456789", 0);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, T_WAIT(fd, send_waiting, 1));
	EXPECT_EQ(-EMSGSIZE, recv_raw(fd, buf, 4, MBX_NONBLOCK, &r));
	EXPECT_EQ(10, r.len);
	EXPECT_TRUE(t_stays_blocked(pid));
	EXPECT_EQ(1, T_INFO(fd, send_waiting));
	EXPECT_LE(0, recv_raw(fd, buf, sizeof(buf), MBX_NONBLOCK, &r));
	EXPECT_EQ(10, r.len);
	EXPECT_EQ(0, memcmp(buf, "0123456789", 10));
	EXPECT_EQ(0, t_reap(pid));
}

TEST(rendezvous_senders_are_served_by_priority)
{
	pid_t lo, hi;
	char buf[8];
	int fd = t_anon(0, 16);

	ASSERT_LE(0, fd);
	lo = fork_sender(fd, "l", 0);
	ASSERT_LE(0, lo);
	ASSERT_EQ(0, T_WAIT(fd, send_waiting, 1));
	hi = fork_sender(fd, "h", 9);
	ASSERT_LE(0, hi);
	ASSERT_EQ(0, T_WAIT(fd, send_waiting, 2));
	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("h", buf);
	EXPECT_EQ(0, t_reap(hi));
	ASSERT_EQ(1, t_recv_str(fd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("l", buf);
	EXPECT_EQ(0, t_reap(lo));
}

TEST_HARNESS_MAIN
