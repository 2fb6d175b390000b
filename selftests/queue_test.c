// SPDX-License-Identifier: GPL-2.0
/*
 * The message queue in copy mode: payloads, read()/write(), MBX_IOC_SEND and
 * MBX_IOC_RECV fields and errors, priority and FIFO order.
 * queue_wait_test.c has capacity: every combination of blocking /
 * non-blocking x send / receive x empty / full / rendezvous; their common
 * part is queue/queue.h.
 */
#define _GNU_SOURCE
#include "queue/queue.h"

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
	EXPECT_LE(0, t_recv(fd, NULL, 0, MBX_NONBLOCK, &r));
	EXPECT_EQ(0, r.len);
	EXPECT_EQ(0, T_INFO(fd, queued));
}

TEST(null_buffer_receive_of_nonempty_message_fails_emsgsize)
{
	struct mbx_recv r;
	int fd = t_anon(2, 16);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_str(fd, "abc", 0));
	EXPECT_EQ(-EMSGSIZE, t_recv(fd, NULL, 0, MBX_NONBLOCK, &r));
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
	ASSERT_EQ(0, t_send(fd, out, sizeof(out), 3, 77, 0));
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(-EMSGSIZE, t_recv(fd, buf, 99, MBX_NONBLOCK, &r));
	EXPECT_EQ(100, r.len);
	EXPECT_EQ(1, T_INFO(fd, queued));
	/* the retry with the reported length gets it whole */
	EXPECT_LE(0, t_recv(fd, buf, 100, MBX_NONBLOCK, &r));
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
		EXPECT_EQ(-EINVAL, t_send(fd, "x", 1, 0, 0, bad[i]))
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
		EXPECT_EQ(-EINVAL, t_recv(fd, buf, sizeof(buf),
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
		ASSERT_EQ(0, t_send(fd, "t", 1, 2, tags[i], 0));
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

	ASSERT_LE(0, t_recv(fd, buf, sizeof(buf), MBX_NONBLOCK, &r));
	EXPECT_EQ(pid, r.pid);
	EXPECT_EQ(T_UID1, r.uid);
	ASSERT_LE(0, t_recv(fd, buf, sizeof(buf), MBX_NONBLOCK, &r));
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
			ASSERT_LE(0, t_recv(fd, buf, sizeof(buf),
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
			ASSERT_LE(0, t_recv(fd, buf, sizeof(buf),
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
	ASSERT_LE(0, t_recv(fd, buf, sizeof(buf), MBX_NONBLOCK, &r));
	EXPECT_EQ(getpid(), r.pid);
}

TEST(send_from_bad_buffer_fails_efault_and_sends_nothing)
{
	int fd = t_anon(4, 64);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EFAULT, t_send(fd, t_bad_ptr(), 16, 0, 0, 0));
	EXPECT_EQ(-EFAULT, t_send(fd, t_bad_ptr(), 16, 0, 0, MBX_NONBLOCK));
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
	EXPECT_EQ(-EFAULT, t_recv(fd, t_bad_ptr(), 8, MBX_NONBLOCK, &r));
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

/*
 * A receive writes its results only once the payload is in place: when
 * the payload cannot be copied out they are left as they were, so a
 * struct that names a sender holds the whole message.
 */
TEST(recv_whose_payload_faults_writes_no_results)
{
	struct mbx_recv r;
	int fd = t_anon(4, 64);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_str(fd, "A", 3));
	memset(&r, 0, sizeof(r));
	r.buf = (uintptr_t)t_bad_ptr();
	r.len = 8;
	r.flags = MBX_NONBLOCK;
	r.tag = 0x1234;
	r.pid = -7;
	r.uid = 77;
	EXPECT_EQ(-EFAULT, t_ioctl(fd, MBX_IOC_RECV, &r));
	EXPECT_EQ(8, r.len);
	EXPECT_EQ(0x1234, r.tag);
	EXPECT_EQ(0, r.prio);
	EXPECT_EQ(-7, r.pid);
	EXPECT_EQ(77, r.uid);
	EXPECT_EQ(1, T_INFO(fd, queued));
	close(fd);
}

/*
 * Results whose struct runs into a read-only page: some words may be
 * written before the fault, never the sender's pid and uid (written
 * last), and the message stays queued.
 */
TEST(recv_results_cut_by_a_read_only_page_never_name_the_sender)
{
	struct mbx_recv *r;
	char buf[8];
	uint8_t *pg;
	int fd = t_anon(4, 64);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_str(fd, "A", 3));
	pg = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, pg);
	/* Words 0-6 (pid and uid the seventh) on the first page. */
	r = (struct mbx_recv *)(pg + 4096 - 56);
	memset(r, 0, sizeof(*r));
	r->buf = (uintptr_t)buf;
	r->len = sizeof(buf);
	r->flags = MBX_NONBLOCK;
	r->pid = -7;
	r->uid = 77;
	ASSERT_EQ(0, mprotect(pg + 4096, 4096, PROT_READ));
	EXPECT_EQ(-EFAULT, t_ioctl(fd, MBX_IOC_RECV, r));
	EXPECT_EQ(-7, r->pid);
	EXPECT_EQ(77, r->uid);
	EXPECT_EQ(1, T_INFO(fd, queued));
	munmap(pg, 8192);
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

TEST_HARNESS_MAIN
