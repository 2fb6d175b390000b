// SPDX-License-Identifier: GPL-2.0
/*
 * Sealed sends (docs/SEMANTICS.md, "Sealed sends"): MBX_SEND_SEALED makes a
 * pool region read-only in every mapping, the sender's included, from the
 * send until the region is freed.  Every route to write it is tried and
 * must fail: a store (SIGSEGV), mprotect() to write access, a new mapping,
 * process_vm_writev(), /proc/PID/mem of the sender from itself and from
 * another process, a forked child; and a store racing the seal never lands
 * after the send returned.  Also MBX_BUF_PAGES allocations, the misuses
 * refused with EINVAL, and that the pool gets all its space back.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "mbx_helpers.h"

#define PG		4096UL
#define POOL_SZ		(16 * PG)
#define CAP		8
#define MSG		256

FIXTURE(seal) {
	int fd;
	uint8_t *map;
};

FIXTURE_SETUP(seal)
{
	self->fd = t_pool_port(CAP, MSG, POOL_SZ, NULL, 0600, 0);
	ASSERT_LE(0, self->fd);
	self->map = mmap(NULL, POOL_SZ, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->map);
}

FIXTURE_TEARDOWN(seal)
{
	munmap(self->map, POOL_SZ);
	close(self->fd);
}

static long long pool_free(int fd)
{
	struct mbx_port_info info;

	return t_info(fd, &info) ? -1 : (long long)info.pool_free;
}

/* MBX_IOC_SEND of the region (@off, @len), sealed, with @flags. */
static long seal_send(int fd, uint64_t off, uint64_t len, uint32_t flags)
{
	struct mbx_send s = {
		.offset = off, .len = len,
		.flags = MBX_SEND_BUF | MBX_SEND_SEALED | flags,
	};

	return t_ioctl(fd, MBX_IOC_SEND, &s);
}

/* Receive in place: the message's length, offset and msg_flags. */
static long recv_inplace(int fd, struct mbx_recv *r)
{
	memset(r, 0, sizeof(*r));
	r->flags = MBX_RECV_INPLACE | MBX_NONBLOCK;
	return t_ioctl(fd, MBX_IOC_RECV, r);
}

static __thread sigjmp_buf t_jmp;
static __thread void *t_fault_addr;

static void t_segv(int sig, siginfo_t *si, void *uc)
{
	t_fault_addr = si->si_addr;
	siglongjmp(t_jmp, 1);
}

static void catch_segv(void)
{
	struct sigaction sa = { .sa_sigaction = t_segv,
				.sa_flags = SA_SIGINFO | SA_NODEFER };

	sigaction(SIGSEGV, &sa, NULL);
}

/* Store @v at @p: 0 if it landed, -1 if it faulted with SIGSEGV there. */
static int try_write(uint8_t *p, uint8_t v)
{
	t_fault_addr = NULL;
	if (sigsetjmp(t_jmp, 1))
		return t_fault_addr == (void *)p ? -1 : -2;
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
	return 0;
}

/* Store at @p in a forked child: its wait status. */
static int child_write(uint8_t *p)
{
	pid_t pid = fork();
	int status;

	if (!pid) {
		signal(SIGSEGV, SIG_DFL);
		__atomic_store_n(p, 0x77, __ATOMIC_RELAXED);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

static int segv_status(int status)
{
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV;
}

/* Allocate a page region of @len, fill it with @seed's pattern, seal-send it. */
static long fill_and_seal(int fd, uint8_t *map, uint64_t len, uint32_t seed,
			  uint64_t *off)
{
	long ret = t_buf_alloc(fd, len, MBX_BUF_PAGES, 0, off);

	if (ret)
		return ret;
	t_fill(map + *off, len, seed);
	return seal_send(fd, *off, len, 0);
}

TEST(feature_reported)
{
	struct mbx_version v;
	int dev = t_dev();

	ASSERT_LE(0, dev);
	ASSERT_EQ(0, t_ioctl(dev, MBX_IOC_VERSION, &v));
	EXPECT_TRUE(v.features & MBX_FEAT_SEAL);
	close(dev);
}

TEST_F(seal, sender_store_faults_after_send_only)
{
	uint64_t off, other;

	catch_segv();
	ASSERT_EQ(0, t_buf_alloc(self->fd, PG, MBX_BUF_PAGES, 0, &off));
	ASSERT_EQ(0, t_buf_alloc(self->fd, PG, MBX_BUF_PAGES, 0, &other));
	/* Before the send the region is the sender's to write. */
	ASSERT_EQ(0, try_write(self->map + off, 1));
	EXPECT_EQ(0, child_write(self->map + off));
	t_fill(self->map + off, PG, 1);
	ASSERT_EQ(0, seal_send(self->fd, off, PG, 0));

	EXPECT_EQ(-1, try_write(self->map + off, 2));
	EXPECT_EQ(-1, try_write(self->map + off + PG - 1, 2));
	EXPECT_TRUE(segv_status(child_write(self->map + off)));
	EXPECT_TRUE(t_check(self->map + off, PG, 1));
	/* Other pages of the pool stay writable. */
	EXPECT_EQ(0, try_write(self->map + other, 3));
	EXPECT_EQ(0, try_write(self->map + POOL_SZ - 1, 3));
	EXPECT_EQ(0, child_write(self->map + other));
}

TEST_F(seal, receiver_gets_flag_and_bytes_then_region_is_writable_again)
{
	long long start = pool_free(self->fd);
	struct mbx_recv r;
	uint64_t off, again;

	catch_segv();
	ASSERT_EQ(0, fill_and_seal(self->fd, self->map, 3 * PG + 5, 7, &off));
	ASSERT_EQ(3 * PG + 5, recv_inplace(self->fd, &r) ? 0 : r.len);
	EXPECT_EQ(off, r.offset);
	EXPECT_EQ(MBX_MSG_BUF | MBX_MSG_SEALED, r.msg_flags);
	EXPECT_TRUE(t_check(self->map + off, 3 * PG + 5, 7));
	/* The receiver holds it now, still sealed. */
	EXPECT_EQ(-1, try_write(self->map + off + 2 * PG, 1));

	ASSERT_EQ(0, t_buf_release(self->fd, off, r.len));
	EXPECT_EQ(start, pool_free(self->fd));
	ASSERT_EQ(0, t_buf_alloc(self->fd, 4 * PG, MBX_BUF_PAGES, 0, &again));
	EXPECT_EQ(off, again);
	EXPECT_EQ(0, try_write(self->map + again + 3 * PG, 1));
	EXPECT_EQ(0, t_buf_release(self->fd, again, 4 * PG));
}

TEST_F(seal, copy_receive_sees_flag_and_frees_seal)
{
	uint8_t buf[MSG];
	struct mbx_recv r = { .buf = (uintptr_t)buf, .len = sizeof(buf) };
	uint64_t off;

	catch_segv();
	ASSERT_EQ(0, fill_and_seal(self->fd, self->map, 200, 9, &off));
	ASSERT_EQ(0, t_ioctl(self->fd, MBX_IOC_RECV, &r));
	EXPECT_EQ(200, r.len);
	EXPECT_EQ(MBX_MSG_SEALED, r.msg_flags);
	EXPECT_TRUE(t_check(buf, 200, 9));
	EXPECT_EQ(POOL_SZ, pool_free(self->fd));
	EXPECT_EQ(0, try_write(self->map + off, 1));
}

TEST_F(seal, mprotect_to_write_refused_over_sealed_page_only)
{
	uint64_t off;

	ASSERT_EQ(0, fill_and_seal(self->fd, self->map, PG, 1, &off));
	ASSERT_EQ(0, mprotect(self->map + off, PG, PROT_READ));
	EXPECT_EQ(-1, mprotect(self->map + off, PG, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(-1, mprotect(self->map, POOL_SZ, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	/* Unsealed pages may go read-only and back. */
	ASSERT_EQ(0, mprotect(self->map + off + PG, PG, PROT_READ));
	EXPECT_EQ(0, mprotect(self->map + off + PG, PG,
			      PROT_READ | PROT_WRITE));
}

TEST_F(seal, new_mapping_reads_but_cannot_write_sealed_page)
{
	uint8_t *map2;
	uint64_t off;

	catch_segv();
	ASSERT_EQ(0, fill_and_seal(self->fd, self->map, PG, 4, &off));
	map2 = mmap(NULL, POOL_SZ, PROT_READ | PROT_WRITE, MAP_SHARED,
		    self->fd, 0);
	ASSERT_NE(MAP_FAILED, map2);
	EXPECT_TRUE(t_check(map2 + off, PG, 4));
	EXPECT_EQ(-1, try_write(map2 + off, 1));
	EXPECT_EQ(0, try_write(map2 + off + PG, 1));
	EXPECT_TRUE(t_check(self->map + off, PG, 4));
	munmap(map2, POOL_SZ);
}

TEST_F(seal, process_vm_writev_fails)
{
	uint8_t junk[64];
	struct iovec local = { junk, sizeof(junk) };
	struct iovec remote;
	uint64_t off;

	memset(junk, 0xee, sizeof(junk));
	ASSERT_EQ(0, fill_and_seal(self->fd, self->map, PG, 5, &off));
	remote.iov_base = self->map + off;
	remote.iov_len = sizeof(junk);
	/*
	 * Reading it works where the call exists: a kernel built without
	 * CONFIG_CROSS_MEMORY_ATTACH has none.
	 */
	if (process_vm_readv(getpid(), &local, 1, &remote, 1, 0) < 0)
		SKIP(return, "no process_vm_readv/writev in this kernel");
	memset(junk, 0xee, sizeof(junk));
	EXPECT_EQ(-1, process_vm_writev(getpid(), &local, 1, &remote, 1, 0));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_TRUE(t_check(self->map + off, PG, 5));
	/* The same call on an unsealed page works. */
	remote.iov_base = self->map + off + PG;
	EXPECT_EQ(sizeof(junk),
		  process_vm_writev(getpid(), &local, 1, &remote, 1, 0));
}

TEST_F(seal, proc_mem_write_fails_from_self_and_another_process)
{
	pid_t parent = getpid(), pid;
	uint64_t off;
	int status;

	ASSERT_EQ(0, fill_and_seal(self->fd, self->map, PG, 6, &off));
	EXPECT_EQ(-1, t_mem_write(parent, self->map + off, 16));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(t_mem_write(parent, self->map + off, 16) == -1 ?
		      0 : T_BAD_SUCCESS);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_TRUE(t_check(self->map + off, PG, 6));
	/* The same write to an unsealed page lands. */
	EXPECT_EQ(16, t_mem_write(parent, self->map + off + PG, 16));
}

TEST_F(seal, misuse_is_einval)
{
	struct mbx_send s = { .len = 64, .flags = MBX_SEND_SEALED };
	struct mbx_send ents[1] = { { .len = 64,
				      .flags = MBX_SEND_BUF | MBX_SEND_SEALED } };
	struct mbx_batch b = { .msgs = (uintptr_t)ents, .count = 1 };
	uint64_t first, off;

	/* Without MBX_SEND_BUF. */
	s.buf = (uintptr_t)"x";
	EXPECT_EQ(-EINVAL, t_ioctl(self->fd, MBX_IOC_SEND, &s));
	/* A region at a page boundary that does not cover whole pages. */
	ASSERT_EQ(0, t_buf_alloc(self->fd, 100, 0, 0, &first));
	ASSERT_EQ(0, first);
	EXPECT_EQ(-EINVAL, seal_send(self->fd, first, 100, 0));
	/* A region that does not start on a page. */
	ASSERT_EQ(0, t_buf_alloc(self->fd, 2 * PG, 0, 0, &off));
	ASSERT_NE(0, off % PG);
	EXPECT_EQ(-EINVAL, seal_send(self->fd, off, 2 * PG, 0));
	/* In a batch. */
	ents[0].offset = off;
	EXPECT_EQ(-EINVAL, t_ioctl(self->fd, MBX_IOC_SEND_BATCH, &b));
	/* Unknown allocation flags. */
	EXPECT_EQ(-EINVAL, t_buf_alloc(self->fd, 64, 0x80000000U, 0, NULL));
	/* Nothing was sent; both regions are still the sender's, writable. */
	EXPECT_EQ(0, T_INFO(self->fd, queued));
	self->map[first] = 1;
	self->map[off] = 1;
	EXPECT_EQ(0, t_buf_release(self->fd, first, 100));
	EXPECT_EQ(0, t_buf_release(self->fd, off, 2 * PG));
	EXPECT_EQ(POOL_SZ, pool_free(self->fd));
}

TEST_F(seal, page_allocations_are_aligned_and_given_back)
{
	uint64_t small, a, b, c, whole;

	ASSERT_EQ(0, t_buf_alloc(self->fd, 64, 0, 0, &small));
	ASSERT_EQ(0, t_buf_alloc(self->fd, 100, MBX_BUF_PAGES, 0, &a));
	EXPECT_EQ(PG, a);
	EXPECT_EQ(POOL_SZ - 64 - PG, pool_free(self->fd));
	/* The head left before @a is still there for small regions. */
	ASSERT_EQ(0, t_buf_alloc(self->fd, 128, 0, 0, &b));
	EXPECT_EQ(64, b);
	ASSERT_EQ(0, t_buf_alloc(self->fd, PG + 1, MBX_BUF_PAGES, 0, &c));
	EXPECT_EQ(2 * PG, c);
	EXPECT_EQ(0, t_buf_release(self->fd, a, 100));
	EXPECT_EQ(0, t_buf_release(self->fd, small, 64));
	EXPECT_EQ(0, t_buf_release(self->fd, b, 128));
	EXPECT_EQ(0, t_buf_release(self->fd, c, PG + 1));
	EXPECT_EQ(POOL_SZ, pool_free(self->fd));
	/* The whole pool, then nothing more. */
	ASSERT_EQ(0, t_buf_alloc(self->fd, POOL_SZ, MBX_BUF_PAGES, 0, &whole));
	EXPECT_EQ(0, whole);
	EXPECT_EQ(-EAGAIN, t_buf_alloc(self->fd, 1, MBX_BUF_PAGES |
				       MBX_NONBLOCK, 0, NULL));
	EXPECT_EQ(0, t_buf_release(self->fd, whole, POOL_SZ));
	/* A pool with only unaligned room left refuses a page region. */
	ASSERT_EQ(0, t_buf_alloc(self->fd, 64, 0, 0, &small));
	EXPECT_EQ(-EAGAIN, t_buf_alloc(self->fd, POOL_SZ, MBX_BUF_PAGES |
				       MBX_NONBLOCK, 0, NULL));
	EXPECT_EQ(0, t_buf_release(self->fd, small, 64));
	EXPECT_EQ(POOL_SZ, pool_free(self->fd));
}

TEST_F(seal, with_send_next)
{
	struct mbx_send s = { .len = PG,
			      .flags = MBX_SEND_BUF | MBX_SEND_SEALED |
				       MBX_SEND_NEXT,
			      .next_len = 100 };
	struct mbx_recv r;
	uint64_t off;

	catch_segv();
	ASSERT_EQ(0, t_buf_alloc(self->fd, 64, 0, 0, &off));
	ASSERT_EQ(0, t_buf_alloc(self->fd, PG, MBX_BUF_PAGES, 0, &off));
	t_fill(self->map + off, PG, 3);
	s.offset = off;
	ASSERT_EQ(0, t_ioctl(self->fd, MBX_IOC_SEND, &s));
	/* The next region can be sealed in turn: whole pages. */
	EXPECT_EQ(0, s.next_offset % PG);
	EXPECT_EQ(-1, try_write(self->map + off, 1));
	EXPECT_EQ(0, try_write(self->map + s.next_offset, 1));
	EXPECT_EQ(0, seal_send(self->fd, s.next_offset, 100, 0));
	ASSERT_EQ(0, recv_inplace(self->fd, &r));
	EXPECT_EQ(MBX_MSG_BUF | MBX_MSG_SEALED, r.msg_flags);
	EXPECT_TRUE(t_check(self->map + off, PG, 3));
	EXPECT_EQ(0, t_buf_release(self->fd, r.offset, r.len));
	ASSERT_EQ(0, recv_inplace(self->fd, &r));
	EXPECT_EQ(MBX_MSG_BUF | MBX_MSG_SEALED, r.msg_flags);
	EXPECT_EQ(0, t_buf_release(self->fd, r.offset, r.len));
}

TEST_F(seal, in_the_send_half_of_a_call)
{
	struct mbx_call c = {
		.send = { .len = 300, .flags = MBX_SEND_BUF | MBX_SEND_SEALED },
		.recv = { .flags = MBX_RECV_INPLACE },
		.recv_fd = -1,
	};
	uint64_t off;

	catch_segv();
	ASSERT_EQ(0, t_buf_alloc(self->fd, 300, MBX_BUF_PAGES, 0, &off));
	t_fill(self->map + off, 300, 12);
	c.send.offset = off;
	/* Send to itself and take it back in place. */
	ASSERT_EQ(0, t_ioctl(self->fd, MBX_IOC_CALL, &c));
	EXPECT_EQ(MBX_CALL_SENT | MBX_CALL_RECEIVED, c.done);
	EXPECT_EQ(off, c.recv.offset);
	EXPECT_EQ(MBX_MSG_BUF | MBX_MSG_SEALED, c.recv.msg_flags);
	EXPECT_EQ(-1, try_write(self->map + off, 1));
	EXPECT_TRUE(t_check(self->map + off, 300, 12));
	EXPECT_EQ(0, t_buf_release(self->fd, off, 300));
	EXPECT_EQ(0, try_write(self->map + off, 1));
}

TEST_F(seal, sender_closing_leaves_message_sealed)
{
	struct mbx_port_dup d = { .flags = MBX_SEND };
	struct mbx_recv r;
	uint64_t off;
	int sfd;

	catch_segv();
	sfd = t_ioctl(self->fd, MBX_IOC_PORT_DUP, &d);
	ASSERT_LE(0, sfd);
	ASSERT_EQ(0, fill_and_seal(sfd, self->map, 2 * PG, 8, &off));
	close(sfd);
	EXPECT_EQ(-1, try_write(self->map + off + PG, 1));
	ASSERT_EQ(0, recv_inplace(self->fd, &r));
	EXPECT_EQ(MBX_MSG_BUF | MBX_MSG_SEALED, r.msg_flags);
	EXPECT_TRUE(t_check(self->map + off, 2 * PG, 8));
	EXPECT_EQ(0, t_buf_release(self->fd, off, 2 * PG));
	EXPECT_EQ(0, try_write(self->map + off + PG, 1));
	EXPECT_EQ(POOL_SZ, pool_free(self->fd));
}

TEST_F(seal, failed_send_leaves_region_sealed_and_held)
{
	uint64_t off;

	catch_segv();
	ASSERT_EQ(0, t_buf_alloc(self->fd, PG, MBX_BUF_PAGES, 0, &off));
	ASSERT_EQ(0, t_ioctl(self->fd, MBX_IOC_SHUTDOWN, NULL));
	EXPECT_EQ(-EPIPE, seal_send(self->fd, off, PG, 0));
	EXPECT_EQ(-1, try_write(self->map + off, 1));
	EXPECT_EQ(0, t_buf_release(self->fd, off, PG));
	EXPECT_EQ(0, try_write(self->map + off, 1));
	EXPECT_EQ(POOL_SZ, pool_free(self->fd));
}

/* A pipe holding a reference to the page at @page (vmsplice()). */
static int splice_page(int p[2], uint8_t *page)
{
	struct iovec iov = { .iov_base = page, .iov_len = PG };

	if (pipe(p))
		return -1;
	return vmsplice(p[1], &iov, 1, 0) == (ssize_t)PG ? 0 : -1;
}

/* Read the page back out of the pipe, and close it: 0 if it held @seed's. */
static int drain(int p[2], uint32_t seed)
{
	uint8_t buf[PG];
	int ret;

	ret = read(p[0], buf, PG) == (ssize_t)PG && t_check(buf, PG, seed) ?
	      0 : -1;
	close(p[0]);
	close(p[1]);
	return ret;
}

/*
 * Seal-send the page at @off, holding @seed's pattern: the store after it
 * is refused, the receiver gets it sealed and unchanged, and it is freed.
 */
static void seal_take_free(struct __test_metadata *_metadata, int fd,
			   uint8_t *map, uint64_t off, uint32_t seed)
{
	struct mbx_recv r;

	ASSERT_EQ(0, seal_send(fd, off, PG, 0));
	EXPECT_EQ(-1, try_write(map + off, 9));
	ASSERT_EQ(0, recv_inplace(fd, &r));
	EXPECT_EQ(off, r.offset);
	EXPECT_TRUE(r.msg_flags & MBX_MSG_SEALED);
	EXPECT_TRUE(t_check(map + off, PG, seed));
	EXPECT_EQ(0, t_buf_release(fd, off, PG));
	EXPECT_EQ(POOL_SZ, pool_free(fd));
}

/*
 * A page referenced beyond its mappings (here by a pipe that vmsplice()
 * filled from it) could be written past the seal: the sealed send waits
 * a little, then fails with EBUSY and leaves the region unsealed and the
 * sender's.  Once the pipe is drained the same send goes through.
 */
TEST_F(seal, page_referenced_by_a_pipe_is_ebusy_then_seals_once_drained)
{
	struct mbx_recv r;
	uint64_t off;
	int p[2];

	catch_segv();
	ASSERT_EQ(0, t_buf_alloc(self->fd, PG, MBX_BUF_PAGES, 0, &off));
	t_fill(self->map + off, PG, 7);
	ASSERT_EQ(0, splice_page(p, self->map + off));

	EXPECT_EQ(-EBUSY, seal_send(self->fd, off, PG, 0));
	EXPECT_EQ(-EAGAIN, recv_inplace(self->fd, &r));
	/* Unsealed and still the sender's. */
	EXPECT_EQ(0, try_write(self->map + off, 7));
	EXPECT_EQ(0, child_write(self->map + off));
	t_fill(self->map + off, PG, 8);

	/* The pipe took the page itself: it reads what the page holds now. */
	EXPECT_EQ(0, drain(p, 8));
	seal_take_free(_metadata, self->fd, self->map, off, 8);
}

TEST_F(seal, full_queue_then_retry)
{
	struct mbx_recv r;
	uint64_t off[CAP + 1];
	int i;

	for (i = 0; i < CAP; i++)
		ASSERT_EQ(0, fill_and_seal(self->fd, self->map, 64, i,
					   &off[i]));
	ASSERT_EQ(0, t_buf_alloc(self->fd, PG, MBX_BUF_PAGES, 0, &off[CAP]));
	t_fill(self->map + off[CAP], PG, 99);
	EXPECT_EQ(-EAGAIN, seal_send(self->fd, off[CAP], PG, MBX_NONBLOCK));
	for (i = 0; i < CAP; i++) {
		ASSERT_EQ(0, recv_inplace(self->fd, &r));
		EXPECT_TRUE(t_check(self->map + r.offset, 64, i));
		EXPECT_EQ(0, t_buf_release(self->fd, r.offset, r.len));
	}
	/* Sent again, still sealed, as it was. */
	EXPECT_EQ(0, seal_send(self->fd, off[CAP], PG, 0));
	ASSERT_EQ(0, recv_inplace(self->fd, &r));
	EXPECT_EQ(MBX_MSG_BUF | MBX_MSG_SEALED, r.msg_flags);
	EXPECT_TRUE(t_check(self->map + r.offset, PG, 99));
	EXPECT_EQ(0, t_buf_release(self->fd, r.offset, r.len));
	EXPECT_EQ(POOL_SZ, pool_free(self->fd));
}

TEST_F(seal, forwarded_region_stays_sealed)
{
	struct mbx_send s = { .len = PG, .flags = MBX_SEND_BUF };
	struct mbx_recv r;
	uint64_t off;

	catch_segv();
	ASSERT_EQ(0, fill_and_seal(self->fd, self->map, PG, 2, &off));
	ASSERT_EQ(0, recv_inplace(self->fd, &r));
	/* Sent on without the flag: a sealed region stays sealed. */
	s.offset = off;
	ASSERT_EQ(0, t_ioctl(self->fd, MBX_IOC_SEND, &s));
	ASSERT_EQ(0, recv_inplace(self->fd, &r));
	EXPECT_EQ(MBX_MSG_BUF | MBX_MSG_SEALED, r.msg_flags);
	EXPECT_EQ(-1, try_write(self->map + off, 1));
	EXPECT_EQ(0, t_buf_release(self->fd, off, PG));
}

TEST_F(seal, many_sealed_sends_leak_nothing)
{
	struct mbx_recv r;
	uint64_t off;
	int i;

	for (i = 0; i < 300; i++) {
		ASSERT_EQ(0, fill_and_seal(self->fd, self->map,
					   1 + (i * 997) % (4 * PG), i, &off));
		ASSERT_EQ(0, recv_inplace(self->fd, &r));
		ASSERT_EQ(MBX_MSG_BUF | MBX_MSG_SEALED, r.msg_flags);
		ASSERT_TRUE(t_check(self->map + off, r.len, i));
		ASSERT_EQ(0, t_buf_release(self->fd, off, r.len));
	}
	EXPECT_EQ(POOL_SZ, pool_free(self->fd));
}

struct racer {
	uint8_t *page;
	int faulted;	/* read after the join */
	unsigned int seed;
};

/* Store over the page until a store faults. */
static void *race_writer(void *arg)
{
	struct racer *w = arg;
	unsigned int v = w->seed;

	if (sigsetjmp(t_jmp, 1)) {
		w->faulted = 1;
		return NULL;
	}
	for (;;) {
		memset(w->page, v++ & 0xff, PG);
		__asm__ __volatile__("" ::: "memory");
	}
}

static uint64_t sum(const uint8_t *p, size_t len)
{
	uint64_t s = 0;
	size_t i;

	for (i = 0; i < len; i++)
		s = s * 31 + __atomic_load_n(&p[i], __ATOMIC_RELAXED);
	return s;
}

TEST_F(seal, store_racing_the_seal_never_lands_after_it)
{
	struct racer w[2];
	pthread_t th[2];
	struct mbx_recv r;
	uint64_t off, before;
	int i, round;

	catch_segv();
	for (round = 0; round < 20; round++) {
		ASSERT_EQ(0, t_buf_alloc(self->fd, PG, MBX_BUF_PAGES, 0, &off));
		for (i = 0; i < 2; i++) {
			w[i].page = self->map + off;
			w[i].faulted = 0;
			w[i].seed = i * 128;
			ASSERT_EQ(0, pthread_create(&th[i], NULL, race_writer,
						    &w[i]));
		}
		t_sleep_ms(2);
		ASSERT_EQ(0, seal_send(self->fd, off, PG, 0));
		ASSERT_EQ(0, recv_inplace(self->fd, &r));
		EXPECT_EQ(MBX_MSG_BUF | MBX_MSG_SEALED, r.msg_flags);
		before = sum(self->map + off, PG);
		t_sleep_ms(5);
		EXPECT_EQ(before, sum(self->map + off, PG));
		for (i = 0; i < 2; i++) {
			pthread_join(th[i], NULL);
			EXPECT_EQ(1, w[i].faulted);
		}
		EXPECT_EQ(before, sum(self->map + off, PG));
		ASSERT_EQ(0, t_buf_release(self->fd, off, PG));
	}
	EXPECT_EQ(POOL_SZ, pool_free(self->fd));
}

/*
 * Seal-send the region (*@off, @len) the caller holds, take it back in
 * place, free it, and allocate the same size again into *@off.
 */
static long reseal(int fd, uint64_t len, uint64_t *off)
{
	struct mbx_recv r;
	long ret;

	ret = seal_send(fd, *off, len, 0);
	if (!ret)
		ret = recv_inplace(fd, &r);
	if (!ret)
		ret = t_buf_release(fd, *off, len);
	if (!ret)
		ret = t_buf_alloc(fd, len, MBX_BUF_PAGES, 0, off);
	return ret;
}

/* Write 16 bytes of @v at @p by way @how; 0 if they landed. */
static int write_by(int how, uint8_t *p, uint8_t v)
{
	uint8_t buf[16];
	int fds[2], status, ret;
	pid_t pid;

	memset(buf, v, sizeof(buf));
	switch (how) {
	case 0:		/* a store */
		memcpy(p, buf, sizeof(buf));
		return 0;
	case 1:		/* /proc/self/mem: a GUP write */
		if (t_mem_write(getpid(), p, sizeof(buf)) != sizeof(buf))
			return -1;
		memcpy(p, buf, sizeof(buf));	/* t_mem_write() wrote 0xee */
		return 0;
	case 2:		/* read() from a pipe: the kernel's copy to user */
		if (pipe(fds))
			return -1;
		ret = write(fds[1], buf, sizeof(buf)) == sizeof(buf) &&
		      read(fds[0], p, sizeof(buf)) == sizeof(buf) ? 0 : -1;
		close(fds[0]);
		close(fds[1]);
		return ret;
	default:	/* a store by a forked child */
		pid = fork();
		if (!pid) {
			memcpy(p, buf, sizeof(buf));
			_exit(0);
		}
		if (pid < 0 || waitpid(pid, &status, 0) != pid)
			return -1;
		return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -1;
	}
}

/*
 * A seal deals only with the pages written since they were last sealed.
 * The same page, sealed, freed, then written again through either of two
 * mappings and in each way there is (a store, a GUP write, the kernel's
 * copy, a child's store), is sealed again every time: no mapping, no
 * process and no route keeps a write.
 */
TEST_F(seal, page_written_again_by_any_route_is_sealed_again)
{
	uint8_t *maps[2], *map2;
	uint64_t off, first = 0;
	struct mbx_recv r;
	int round, m;

	catch_segv();
	map2 = mmap(NULL, POOL_SZ, PROT_READ | PROT_WRITE, MAP_SHARED,
		    self->fd, 0);
	ASSERT_NE(MAP_FAILED, map2);
	maps[0] = self->map;
	maps[1] = map2;
	for (round = 0; round < 16; round++) {
		uint8_t v = 0x10 + round;

		ASSERT_EQ(0, t_buf_alloc(self->fd, PG, MBX_BUF_PAGES, 0, &off));
		if (!round)
			first = off;
		/* First fit: the same page every round. */
		ASSERT_EQ(first, off);
		/*
		 * A seal with no write tried since: the last round's refused
		 * stores marked the page written, this one forgets it, so
		 * that only the route below can mark it again.
		 */
		ASSERT_EQ(0, reseal(self->fd, PG, &off));
		ASSERT_EQ(first, off);
		ASSERT_EQ(0, write_by(round % 4, maps[round / 4 % 2] + off, v));
		ASSERT_EQ(0, seal_send(self->fd, off, PG, 0));
		for (m = 0; m < 2; m++) {
			EXPECT_EQ(-1, try_write(maps[m] + off, 1));
			EXPECT_TRUE(segv_status(child_write(maps[m] + off)));
			EXPECT_EQ(-1, t_mem_write(getpid(), maps[m] + off, 16));
			EXPECT_EQ(v, maps[m][off]);
			EXPECT_EQ(v, maps[m][off + 15]);
		}
		ASSERT_EQ(0, recv_inplace(self->fd, &r));
		EXPECT_EQ(off, r.offset);
		ASSERT_EQ(0, t_buf_release(self->fd, off, PG));
	}
	EXPECT_EQ(POOL_SZ, pool_free(self->fd));
	munmap(map2, POOL_SZ);
}

/*
 * A reference that cannot write does not stop a seal: a page not written
 * since it was sealed last, spliced into a pipe, seals, and the pipe
 * reads what was sealed.
 */
TEST_F(seal, unwritten_page_referenced_by_a_pipe_seals)
{
	struct mbx_recv r;
	uint64_t off, off2;
	int p[2];

	catch_segv();
	ASSERT_EQ(0, fill_and_seal(self->fd, self->map, PG, 3, &off));
	ASSERT_EQ(0, recv_inplace(self->fd, &r));
	ASSERT_EQ(0, t_buf_release(self->fd, off, PG));
	ASSERT_EQ(0, t_buf_alloc(self->fd, PG, MBX_BUF_PAGES, 0, &off2));
	ASSERT_EQ(off, off2);

	ASSERT_EQ(0, splice_page(p, self->map + off));
	seal_take_free(_metadata, self->fd, self->map, off, 3);
	EXPECT_EQ(0, drain(p, 3));
}

/*
 * A refused seal forgets nothing: with the page still referenced and not
 * written again, a second sealed send is refused too.
 */
TEST_F(seal, busy_page_stays_busy_until_its_reference_goes)
{
	uint64_t off;
	int p[2];

	catch_segv();
	ASSERT_EQ(0, t_buf_alloc(self->fd, PG, MBX_BUF_PAGES, 0, &off));
	t_fill(self->map + off, PG, 11);
	ASSERT_EQ(0, splice_page(p, self->map + off));
	EXPECT_EQ(-EBUSY, seal_send(self->fd, off, PG, 0));
	EXPECT_EQ(-EBUSY, seal_send(self->fd, off, PG, 0));
	EXPECT_EQ(0, drain(p, 11));
	seal_take_free(_metadata, self->fd, self->map, off, 11);
}

/*
 * A region of four pages, only the second and the last written (through a
 * second mapping) since its last seal: every page of it is sealed, in
 * both mappings.
 */
TEST_F(seal, region_with_some_pages_written_is_sealed_whole)
{
	uint8_t *maps[2], *map2;
	struct mbx_recv r;
	uint64_t off, pg;
	int m;

	catch_segv();
	map2 = mmap(NULL, POOL_SZ, PROT_READ | PROT_WRITE, MAP_SHARED,
		    self->fd, 0);
	ASSERT_NE(MAP_FAILED, map2);
	maps[0] = self->map;
	maps[1] = map2;
	ASSERT_EQ(0, t_buf_alloc(self->fd, 4 * PG, MBX_BUF_PAGES, 0, &off));
	t_fill(self->map + off, 4 * PG, 12);
	ASSERT_EQ(0, reseal(self->fd, 4 * PG, &off));
	map2[off + PG] = 0x5a;
	map2[off + 3 * PG + 17] = 0xa5;
	ASSERT_EQ(0, seal_send(self->fd, off, 4 * PG, 0));
	for (pg = 0; pg < 4; pg++)
		for (m = 0; m < 2; m++) {
			EXPECT_EQ(-1, try_write(maps[m] + off + pg * PG, 1));
			EXPECT_TRUE(segv_status(child_write(maps[m] + off +
							    pg * PG)));
		}
	EXPECT_EQ(0x5a, self->map[off + PG]);
	EXPECT_EQ(0xa5, self->map[off + 3 * PG + 17]);
	ASSERT_EQ(0, recv_inplace(self->fd, &r));
	ASSERT_EQ(0, t_buf_release(self->fd, off, 4 * PG));
	EXPECT_EQ(POOL_SZ, pool_free(self->fd));
	munmap(map2, POOL_SZ);
}

/* A child that will store @v at @p once told to (go_store()), or -1. */
static pid_t child_to_store(int go[2], uint8_t *p, uint8_t v)
{
	pid_t pid;
	char c;

	if (pipe(go))
		return -1;
	pid = fork();
	if (pid)
		return pid;
	signal(SIGSEGV, SIG_DFL);
	if (read(go[0], &c, 1) != 1)
		_exit(2);
	*p = v;
	_exit(0);
}

/* Tell child_to_store()'s child to store: its wait status, or -1. */
static int go_store(int go[2], pid_t pid)
{
	int status;

	if (write(go[1], "x", 1) != 1 || waitpid(pid, &status, 0) != pid)
		status = -1;
	close(go[0]);
	close(go[1]);
	return status;
}

/*
 * A child forked after its parent wrote the page shares the parent's
 * writable entry; still alive at the seal, it cannot write after it.
 */
TEST_F(seal, live_child_with_a_writable_entry_cannot_write_after_the_seal)
{
	struct mbx_recv r;
	int go[2], round;
	uint64_t off;
	pid_t pid;

	catch_segv();
	ASSERT_EQ(0, t_buf_alloc(self->fd, PG, MBX_BUF_PAGES, 0, &off));
	for (round = 0; round < 2; round++) {
		t_fill(self->map + off, PG, 20 + round);
		pid = child_to_store(go, self->map + off, 0x77);
		ASSERT_LT(0, pid);
		ASSERT_EQ(0, seal_send(self->fd, off, PG, 0));
		EXPECT_TRUE(segv_status(go_store(go, pid)));
		EXPECT_TRUE(t_check(self->map + off, PG, 20 + round));
		ASSERT_EQ(0, recv_inplace(self->fd, &r));
		ASSERT_EQ(0, t_buf_release(self->fd, off, PG));
		ASSERT_EQ(0, t_buf_alloc(self->fd, PG, MBX_BUF_PAGES, 0, &off));
	}
	ASSERT_EQ(0, t_buf_release(self->fd, off, PG));
}

/* mprotect() to read-only and back around seals gives no write access. */
TEST_F(seal, mprotect_around_seals_gives_no_write)
{
	uint8_t *page;
	struct mbx_recv r;
	uint64_t off, first;

	catch_segv();
	ASSERT_EQ(0, t_buf_alloc(self->fd, PG, MBX_BUF_PAGES, 0, &off));
	first = off;
	page = self->map + off;
	t_fill(page, PG, 30);
	ASSERT_EQ(0, mprotect(page, PG, PROT_READ));
	ASSERT_EQ(0, reseal(self->fd, PG, &off));
	ASSERT_EQ(first, off);
	ASSERT_EQ(0, mprotect(page, PG, PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, seal_send(self->fd, off, PG, 0));
	EXPECT_EQ(-1, try_write(page, 1));
	ASSERT_EQ(0, recv_inplace(self->fd, &r));
	ASSERT_EQ(0, t_buf_release(self->fd, off, PG));
	ASSERT_EQ(0, t_buf_alloc(self->fd, PG, MBX_BUF_PAGES, 0, &off));
	ASSERT_EQ(first, off);
	EXPECT_EQ(0, try_write(page, 2));
	ASSERT_EQ(0, mprotect(page, PG, PROT_READ));
	ASSERT_EQ(0, mprotect(page, PG, PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, seal_send(self->fd, off, PG, 0));
	EXPECT_EQ(-1, try_write(page, 3));
	EXPECT_EQ(2, page[0]);
	ASSERT_EQ(0, recv_inplace(self->fd, &r));
	ASSERT_EQ(0, t_buf_release(self->fd, off, PG));
}

struct storer {
	uint8_t *page;
	int *stop;
	unsigned long faults;
};

/* Store over the page until told to stop, going on after each fault. */
static void *store_loop(void *arg)
{
	struct storer *w = arg;
	unsigned int v = 0;

	sigsetjmp(t_jmp, 1);
	while (!__atomic_load_n(w->stop, __ATOMIC_RELAXED)) {
		if (t_fault_addr) {
			t_fault_addr = NULL;
			w->faults++;
			sched_yield();
		}
		__atomic_store_n(w->page + (v * 64) % PG, v & 0xff,
				 __ATOMIC_RELAXED);
		v++;
	}
	return NULL;
}

/*
 * Threads storing without pause while the same page is sealed, received,
 * freed and sealed again, many times over: while it is sealed, its bytes
 * never change.  (A store fault that marked the page written must not be
 * forgotten by a seal and then let through once the page is unsealed.)
 */
TEST_F_TIMEOUT(seal, stores_racing_seals_of_the_same_page_never_land, 120)
{
	struct storer w[2];
	int stop = 0, tries;
	pthread_t th[2];
	struct mbx_recv r;
	uint64_t off, before;
	int i, round;
	long ret;

	catch_segv();
	ASSERT_EQ(0, t_buf_alloc(self->fd, PG, MBX_BUF_PAGES, 0, &off));
	for (i = 0; i < 2; i++) {
		w[i] = (struct storer){ .page = self->map + off, .stop = &stop };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, store_loop, &w[i]));
	}
	for (round = 0; round < 400; round++) {
		/*
		 * A fault in progress holds a reference to the page: faults
		 * without pause may keep the seal busy for its whole wait.
		 */
		tries = 0;
		do
			ret = seal_send(self->fd, off, PG, 0);
		while (ret == -EBUSY && ++tries < 50);
		ASSERT_EQ(0, ret);
		before = sum(self->map + off, PG);
		ASSERT_EQ(0, recv_inplace(self->fd, &r));
		sched_yield();
		EXPECT_EQ(before, sum(self->map + off, PG));
		ASSERT_EQ(0, t_buf_release(self->fd, off, PG));
		ASSERT_EQ(0, t_buf_alloc(self->fd, PG, MBX_BUF_PAGES, 0, &off));
		ASSERT_EQ(w[0].page, self->map + off);
		if (round % 8 == 7)
			t_sleep_ms(1);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		EXPECT_LT(0, w[i].faults);
	}
	ASSERT_EQ(0, t_buf_release(self->fd, off, PG));
	EXPECT_EQ(POOL_SZ, pool_free(self->fd));
}

static long minor_faults(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_SELF, &ru) ? -1 : ru.ru_minflt;
}

/*
 * A seal zaps the entries of the mappings that wrote the pages, and only
 * those: a mapping that only reads keeps its entries (no fault to read
 * again) and still cannot write.
 */
TEST_F(seal, mapping_that_only_reads_keeps_its_entries)
{
	struct mbx_recv r;
	uint8_t *map2, want;
	uint64_t off;
	long before;
	int round;

	catch_segv();
	map2 = mmap(NULL, POOL_SZ, PROT_READ | PROT_WRITE, MAP_SHARED,
		    self->fd, 0);
	ASSERT_NE(MAP_FAILED, map2);
	ASSERT_EQ(0, t_buf_alloc(self->fd, PG, MBX_BUF_PAGES, 0, &off));
	for (round = 0; round < 3; round++) {
		t_fill(self->map + off, PG, 40 + round);
		EXPECT_TRUE(t_check(map2 + off, PG, 40 + round));
		want = self->map[off + 100];
		ASSERT_EQ(0, seal_send(self->fd, off, PG, 0));
		before = minor_faults();
		EXPECT_EQ(want, __atomic_load_n(&map2[off + 100],
						__ATOMIC_RELAXED));
		EXPECT_EQ(before, minor_faults());
		EXPECT_EQ(-1, try_write(self->map + off, 1));
		ASSERT_EQ(0, recv_inplace(self->fd, &r));
		ASSERT_EQ(0, t_buf_release(self->fd, off, PG));
		ASSERT_EQ(0, t_buf_alloc(self->fd, PG, MBX_BUF_PAGES, 0, &off));
	}
	/* Written through map2 this time, it loses its entry, and its write. */
	map2[off] = 7;
	ASSERT_EQ(0, seal_send(self->fd, off, PG, 0));
	EXPECT_EQ(-1, try_write(map2 + off, 8));
	EXPECT_EQ(7, self->map[off]);
	ASSERT_EQ(0, recv_inplace(self->fd, &r));
	ASSERT_EQ(0, t_buf_release(self->fd, off, PG));
	munmap(map2, POOL_SZ);
}

/*
 * Mappings that moved, split, went away in the process that made them or
 * were inherited: what one wrote is sealed wherever its entries went.
 */
TEST_F(seal, moved_split_and_inherited_mappings_are_sealed)
{
	uint8_t *map2, *moved, *spot;
	int go[2];
	struct mbx_recv r;
	uint64_t off;
	pid_t pid;

	catch_segv();
	ASSERT_EQ(0, t_buf_alloc(self->fd, PG, MBX_BUF_PAGES, 0, &off));

	/* Written, moved elsewhere, then split by a partial mprotect(). */
	map2 = mmap(NULL, POOL_SZ, PROT_READ | PROT_WRITE, MAP_SHARED,
		    self->fd, 0);
	ASSERT_NE(MAP_FAILED, map2);
	map2[off] = 1;
	spot = mmap(NULL, POOL_SZ, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
	ASSERT_NE(MAP_FAILED, spot);
	moved = mremap(map2, POOL_SZ, POOL_SZ, MREMAP_MAYMOVE | MREMAP_FIXED,
		       spot);
	ASSERT_EQ(spot, moved);
	moved[off] = 2;
	ASSERT_EQ(0, mprotect(moved + POOL_SZ - PG, PG, PROT_READ));
	ASSERT_EQ(0, reseal(self->fd, PG, &off));
	moved[off] = 3;
	ASSERT_EQ(0, seal_send(self->fd, off, PG, 0));
	EXPECT_EQ(-1, try_write(moved + off, 4));
	EXPECT_EQ(3, self->map[off]);
	ASSERT_EQ(0, recv_inplace(self->fd, &r));
	ASSERT_EQ(0, t_buf_release(self->fd, off, PG));
	ASSERT_EQ(0, t_buf_alloc(self->fd, PG, MBX_BUF_PAGES, 0, &off));

	/* Written, inherited by a child, then unmapped by the parent. */
	moved[off] = 5;
	pid = child_to_store(go, moved + off, 6);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, munmap(moved, POOL_SZ));
	ASSERT_EQ(0, seal_send(self->fd, off, PG, 0));
	EXPECT_TRUE(segv_status(go_store(go, pid)));
	EXPECT_EQ(5, self->map[off]);
	ASSERT_EQ(0, recv_inplace(self->fd, &r));
	ASSERT_EQ(0, t_buf_release(self->fd, off, PG));
}

/*
 * A reference taken through a mapping that is gone since still keeps a
 * written page from being sealed.
 */
TEST_F(seal, reference_outliving_its_mapping_is_busy)
{
	uint8_t *map2;
	uint64_t off;
	int p[2];

	catch_segv();
	map2 = mmap(NULL, POOL_SZ, PROT_READ | PROT_WRITE, MAP_SHARED,
		    self->fd, 0);
	ASSERT_NE(MAP_FAILED, map2);
	ASSERT_EQ(0, t_buf_alloc(self->fd, PG, MBX_BUF_PAGES, 0, &off));
	t_fill(map2 + off, PG, 50);
	ASSERT_EQ(0, splice_page(p, map2 + off));
	ASSERT_EQ(0, munmap(map2, POOL_SZ));
	EXPECT_EQ(-EBUSY, seal_send(self->fd, off, PG, 0));
	EXPECT_EQ(0, drain(p, 50));
	seal_take_free(_metadata, self->fd, self->map, off, 50);
}

TEST(libmailbox_calls)
{
	int fd = t_pool_port(CAP, MSG, POOL_SZ, NULL, 0600, 0);
	struct mbx_recv r;
	uint8_t *map;
	uint64_t off;

	ASSERT_LE(0, fd);
	map = mmap(NULL, POOL_SZ, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	catch_segv();
	ASSERT_EQ(0, mbx_buf_alloc(fd, 64, &off));
	ASSERT_EQ(0, mbx_buf_alloc_pages(fd, 10, &off));
	EXPECT_EQ(PG, off);
	t_fill(map + off, 10, 5);
	EXPECT_EQ(0, mbx_buf_send_sealed(fd, off, 10, 3));
	EXPECT_EQ(-1, try_write(map + off, 1));
	ASSERT_EQ(0, recv_inplace(fd, &r));
	EXPECT_EQ(3, r.prio);
	EXPECT_EQ(MBX_MSG_BUF | MBX_MSG_SEALED, r.msg_flags);
	EXPECT_EQ(-EINVAL, mbx_buf_send_sealed(fd, 0, 64, 0));
	munmap(map, POOL_SZ);
	close(fd);
}

TEST_HARNESS_MAIN
