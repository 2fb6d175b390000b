// SPDX-License-Identifier: GPL-2.0
/*
 * Security (issue 6, item 5), at the limits:
 *
 * - Integer overflow on every size and offset: lengths near SIZE_MAX and
 *   2^32 (a truncation to 32 bits would turn them into small, valid ones),
 *   pool offsets past 2^32, batch pointers at the top of the address space,
 *   pool sizes near U64_MAX (also with max_pool_size at its maximum),
 *   capacities and message sizes near U32_MAX, and huge timeouts, which
 *   must neither expire early nor hang (every child is bounded by alarm()).
 * - A hostile user filling ports, pools and queues in a loop reaches its
 *   per-user limits with EDQUOT and EMFILE, never ENOMEM, while another
 *   user's ports keep working.
 *
 * See security_test.c for the rest.
 */
#define _GNU_SOURCE
#include "security/sec.h"

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
	EXPECT_EQ(0, T_INFO64(fd, sent));
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
		EXPECT_EQ(0, t_recv_nb(fd, data, lens[i], 0, &r))
			TH_LOG("len %#llx", (unsigned long long)lens[i]);
		EXPECT_EQ(10, r.len);
		EXPECT_EQ(i, r.tag);
		EXPECT_EQ(0, memcmp(data, "0123456789", 10));
		EXPECT_TRUE(untouched(data + 10, sizeof(data) - 10));
	}
	/* a message larger than a 32-bit-truncated length would say */
	ASSERT_EQ(0, send_ex(fd, "0123456789", 10, 0, 0, 0));
	EXPECT_EQ(-EMSGSIZE, t_recv_nb(fd, data, 5, 0, &r));
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
		EXPECT_EQ(2 * PAGE, T_INFO64(fd, pool_free));
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
		EXPECT_EQ(-EINVAL, t_send_buf(fd, o[i], 100, 0, 0))
			TH_LOG("offset %#llx", (unsigned long long)o[i]);
		EXPECT_EQ(-EINVAL, t_buf_release(fd, o[i], 100))
			TH_LOG("offset %#llx", (unsigned long long)o[i]);
	}
	for (j = 0; j < ARRAY_SIZE(l); j++) {
		EXPECT_EQ(-EINVAL, t_send_buf(fd, off, l[j], 0, 0))
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
	EXPECT_EQ(1, T_INFO64(fd, sent));
	EXPECT_EQ(0, T_INFO64(fd, received));
	close(fd);
}

/* Try to create a port; on success report what it got and close it. */
static long create_try(uint32_t cap, uint32_t msg, uint64_t pool,
		       const char *name, uint64_t *got_pool)
{
	long fd = t_pool_port(cap, msg, pool, name, 0600, 0);

	if (fd >= 0) {
		*got_pool = T_INFO64(fd, pool_size);
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
	fds = t_count_fds();
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
	EXPECT_EQ(fds, t_count_fds());
}

/*
 * The same with the administrator's max_pool_size at the largest value the
 * parameter takes: neither the rounding to pages nor the per-user charge
 * (capacity messages of max_msg_size, as allocated, + pool_size, with
 * max_bytes_per_user at its default) may wrap around.  Expected: EINVAL
 * or EDQUOT for each, never a port, never a pool that the charge did not
 * cover.  (Regression test:
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
	fds = t_count_fds();
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
	EXPECT_EQ(fds, t_count_fds());
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
/* Room for 24 ports of H_CAP x 64 KiB + H_POOL, and some to spare. */
#define H_BYTES		(48 * MIB + MIB / 2)
#define H_CAP		16
#define H_MSG		(60 * 1024)	/* kmalloc'ed, and charged, in 64 KiB */
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
		if (t_recv_nb(fd, buf, sizeof(buf), 0, &r) || r.tag != (uint64_t)i)
			return 2;
	}
	if (t_buf_alloc(fd, 1000, MBX_NONBLOCK, 0, &off) ||
	    t_send_buf(fd, off, 1000, 0, 0) ||
	    t_recv_nb(fd, NULL, 0, MBX_RECV_INPLACE, &r) ||
	    t_buf_release(fd, off, 1000))
		return 3;
	p = t_pool_port(H_CAP, H_MSG, H_POOL, NULL, 0600, 0);
	if (p < 0)
		return 4;
	if (send_ex(p, buf, sizeof(buf), 0, 0, 0) ||
	    t_recv_nb(p, buf, sizeof(buf), 0, &r) ||
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
	EXPECT_GE(H_BYTES / (H_CAP * t_msg_charge(H_MSG) + H_POOL),
		  rep->a_ports);
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

TEST_HARNESS_MAIN
