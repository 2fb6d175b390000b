// SPDX-License-Identifier: GPL-2.0
/*
 * Ring ports against a hostile other side (docs/SEMANTICS.md, "Rings"):
 *
 * - every write route to a page a file may not write is refused: a
 *   writable mmap() (EACCES), mprotect() to write access (EACCES), a store
 *   (SIGSEGV), /proc/PID/mem, process_vm_writev(), a forked child, a
 *   private or partial mapping; the status page is read-only for both;
 * - a hostile producer scribbling random bytes over every page it may
 *   write (its page and the records) and calling MBX_IOC_RING_ENTER with
 *   random arguments, while an honest consumer runs: the consumer never
 *   crashes nor reads outside its mapping, and reports EPROTO;
 * - the same with a hostile consumer scribbling over its page while an
 *   honest producer runs.
 *
 * The runner fails the run on any kernel splat.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/io_uring.h>

#include "kselftest_harness.h"
#include "mbx_helpers.h"

#define PG		4096UL
#define RSZ		(4 * PG)
#define MS		1000000ULL
#define HOSTILE_MS	1500

/* The raw parts of a ring as one file maps them. */
struct raw {
	struct mbx_ring_info ri;
	uint8_t *prod, *cons, *status, *data;
};

static void *map_part(int fd, uint64_t off, size_t len, int prot)
{
	return mmap(NULL, len, prot, MAP_SHARED, fd, (off_t)off);
}

/* Map every part, writable where @fd's role allows; 0 or -errno. */
static int raw_map(int fd, struct raw *r)
{
	int pw, cw;

	memset(r, 0, sizeof(*r));
	if (ioctl(fd, MBX_IOC_RING_INFO, &r->ri))
		return -errno;
	pw = r->ri.roles & MBX_RING_ROLE_PRODUCER ? PROT_WRITE : 0;
	cw = r->ri.roles & MBX_RING_ROLE_CONSUMER ? PROT_WRITE : 0;
	r->prod = map_part(fd, r->ri.producer_off, r->ri.page_size,
			   PROT_READ | pw);
	r->cons = map_part(fd, r->ri.consumer_off, r->ri.page_size,
			   PROT_READ | cw);
	r->status = map_part(fd, r->ri.status_off, r->ri.page_size, PROT_READ);
	r->data = map_part(fd, r->ri.data_off, 2 * r->ri.ring_size,
			   PROT_READ | pw);
	if (r->prod == MAP_FAILED || r->cons == MAP_FAILED ||
	    r->status == MAP_FAILED || r->data == MAP_FAILED)
		return -errno;
	return 0;
}

/* Scribble random bytes over @len bytes at @p, in random-sized runs. */
static void scribble(uint64_t *s, uint8_t *p, size_t len)
{
	int i, n = 1 + t_rnd(s) % 8;

	for (i = 0; i < n; i++) {
		size_t off = t_rnd(s) % len, run = 1 + t_rnd(s) % 16, j;

		for (j = 0; j < run && off + j < len; j++)
			p[off + j] = (uint8_t)t_rnd(s);
	}
}

/* MBX_IOC_RING_ENTER with random arguments, never blocking long. */
static void random_enter(uint64_t *s, int fd, uint32_t role)
{
	struct mbx_ring_enter e = {
		.flags = (uint32_t)t_rnd(s) & (MBX_RING_ENTER_WAKE |
					     MBX_RING_ENTER_WAIT),
		.role = role,
		.pos = t_rnd(s),
		.want = t_rnd(s) % (RSZ + 2),
	};

	if (t_rnd(s) & 1)
		e.pos &= ~7ULL;
	if (e.flags & MBX_RING_ENTER_WAIT) {
		e.flags |= MBX_TIMEOUT;
		e.timeout_ns = 100000;
	} else {
		e.pos = 0;
		e.want = 0;
	}
	ioctl(fd, MBX_IOC_RING_ENTER, &e);
}

/* ---- write routes ----------------------------------------------------- */

FIXTURE(routes) {
	int fd;			/* creator: no role */
	int pfd;		/* the producer's file */
	int cfd;		/* the consumer's file */
	struct raw p, c;
};

FIXTURE_SETUP(routes)
{
	struct mbx_ring_attach a = { 0 };

	self->fd = mbx_ring_port_create(MBX_DEV_AUTO, NULL, RSZ, 0600, 0);
	ASSERT_LE(0, self->fd);
	self->pfd = mbx_port_dup(self->fd, MBX_SEND);
	self->cfd = mbx_port_dup(self->fd, MBX_RECV);
	ASSERT_LE(0, self->pfd);
	ASSERT_LE(0, self->cfd);
	a.role = MBX_RING_ROLE_PRODUCER;
	ASSERT_EQ(0, ioctl(self->pfd, MBX_IOC_RING_ATTACH, &a));
	a.role = MBX_RING_ROLE_CONSUMER;
	ASSERT_EQ(0, ioctl(self->cfd, MBX_IOC_RING_ATTACH, &a));
	ASSERT_EQ(0, raw_map(self->pfd, &self->p));
	ASSERT_EQ(0, raw_map(self->cfd, &self->c));
}

FIXTURE_TEARDOWN(routes)
{
	close(self->fd);
	close(self->pfd);
	close(self->cfd);
}

/* Each (file, part) a file may not write: a writable mmap() is refused. */
TEST_F(routes, writable_mmap_refused)
{
	const struct { int fd; uint64_t off; size_t len; } no[] = {
		{ self->cfd, MBX_RING_OFF_PRODUCER, PG },
		{ self->cfd, MBX_RING_OFF_DATA, 2 * RSZ },
		{ self->cfd, MBX_RING_OFF_STATUS, PG },
		{ self->pfd, MBX_RING_OFF_CONSUMER, PG },
		{ self->pfd, MBX_RING_OFF_STATUS, PG },
		{ self->fd, MBX_RING_OFF_PRODUCER, PG },
		{ self->fd, MBX_RING_OFF_CONSUMER, PG },
		{ self->fd, MBX_RING_OFF_DATA, 2 * RSZ },
		{ self->fd, MBX_RING_OFF_STATUS, PG },
	};
	unsigned int i;
	void *m;

	for (i = 0; i < ARRAY_SIZE(no); i++) {
		m = map_part(no[i].fd, no[i].off, no[i].len,
			     PROT_READ | PROT_WRITE);
		EXPECT_EQ(MAP_FAILED, m);
		EXPECT_EQ(EACCES, errno);
		/* Read-only it may have, and mprotect() cannot upgrade it. */
		m = map_part(no[i].fd, no[i].off, no[i].len, PROT_READ);
		ASSERT_NE(MAP_FAILED, m);
		EXPECT_EQ(-1, mprotect(m, no[i].len, PROT_READ | PROT_WRITE));
		EXPECT_EQ(EACCES, errno);
		munmap(m, no[i].len);
	}
	/* The roles' own parts map writable. */
	m = map_part(self->pfd, MBX_RING_OFF_DATA, 2 * RSZ,
		     PROT_READ | PROT_WRITE);
	EXPECT_NE(MAP_FAILED, m);
	munmap(m, 2 * RSZ);
	m = map_part(self->cfd, MBX_RING_OFF_CONSUMER, PG,
		     PROT_READ | PROT_WRITE);
	EXPECT_NE(MAP_FAILED, m);
	munmap(m, PG);
}

/* No part of a ring maps executable, nor can mprotect() make it so. */
TEST_F(routes, executable_mapping_refused)
{
	const struct { int fd; uint64_t off; size_t len; } parts[] = {
		{ self->pfd, MBX_RING_OFF_PRODUCER, PG },
		{ self->pfd, MBX_RING_OFF_DATA, 2 * RSZ },
		{ self->cfd, MBX_RING_OFF_CONSUMER, PG },
		{ self->cfd, MBX_RING_OFF_STATUS, PG },
	};
	unsigned int i;
	void *m;

	for (i = 0; i < ARRAY_SIZE(parts); i++) {
		m = map_part(parts[i].fd, parts[i].off, parts[i].len,
			     PROT_READ | PROT_EXEC);
		EXPECT_EQ(MAP_FAILED, m);
		EXPECT_EQ(EPERM, errno);
		m = map_part(parts[i].fd, parts[i].off, parts[i].len, PROT_READ);
		ASSERT_NE(MAP_FAILED, m);
		EXPECT_EQ(-1, mprotect(m, parts[i].len, PROT_READ | PROT_EXEC));
		EXPECT_EQ(EACCES, errno);
		munmap(m, parts[i].len);
	}
}

TEST_F(routes, odd_mappings_refused)
{
	void *m;

	/* Private, partial, past the end, unknown offsets. */
	m = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, self->pfd,
		 MBX_RING_OFF_PRODUCER);
	EXPECT_EQ(MAP_FAILED, m);
	EXPECT_EQ(EINVAL, errno);
	m = map_part(self->pfd, MBX_RING_OFF_DATA, RSZ, PROT_READ);
	EXPECT_EQ(MAP_FAILED, m);
	EXPECT_EQ(EINVAL, errno);
	m = map_part(self->pfd, MBX_RING_OFF_PRODUCER, 2 * PG, PROT_READ);
	EXPECT_EQ(MAP_FAILED, m);
	m = map_part(self->pfd, MBX_RING_OFF_DATA + PG, PG, PROT_READ);
	EXPECT_EQ(MAP_FAILED, m);
	m = map_part(self->pfd, PG, PG, PROT_READ);
	EXPECT_EQ(MAP_FAILED, m);
	m = map_part(self->pfd, MBX_RING_OFF_DATA, 2 * RSZ, PROT_READ);
	ASSERT_NE(MAP_FAILED, m);
	/* It cannot grow. */
	EXPECT_EQ(MAP_FAILED, mremap(m, 2 * RSZ, 4 * RSZ, MREMAP_MAYMOVE));
	munmap(m, 2 * RSZ);
}

/*
 * A producer goes, its mappings @p and then its file *@pfd (which ends its
 * role); a new send-only file of port @fd, or -errno.
 */
static int producer_leaves(int fd, int *pfd, struct raw *p)
{
	munmap(p->prod, PG);
	munmap(p->cons, PG);
	munmap(p->status, PG);
	munmap(p->data, 2 * RSZ);
	close(*pfd);
	*pfd = -1;
	return mbx_port_dup(fd, MBX_SEND);
}

/*
 * A reference a producer took through its writable mapping (a page spliced
 * into a pipe here; an O_DIRECT read into it is the same) would let it
 * write after its role ended: the next producer waits for it to go, and
 * gets EBUSY while it stays.
 */
TEST_F(routes, a_role_taken_over_waits_for_the_former_holders_pins)
{
	struct mbx_ring_attach a = { .role = MBX_RING_ROLE_PRODUCER };
	struct iovec iov = { .iov_base = self->p.data, .iov_len = PG };
	static char page[PG];
	int p[2], nfd;

	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ((ssize_t)PG, vmsplice(p[1], &iov, 1, 0));
	nfd = producer_leaves(self->fd, &self->pfd, &self->p);
	ASSERT_LE(0, nfd);
	EXPECT_EQ(-1, ioctl(nfd, MBX_IOC_RING_ATTACH, &a));
	EXPECT_EQ(EBUSY, errno);
	ASSERT_EQ((ssize_t)PG, read(p[0], page, PG));
	EXPECT_EQ(0, ioctl(nfd, MBX_IOC_RING_ATTACH, &a));
	close(p[0]);
	close(p[1]);
	close(nfd);
}

/*
 * A pin that lasts: an io_uring fixed buffer over the producer's record
 * area keeps its pages for as long as it is registered, after the role
 * ended.  The next producer gets EBUSY until it is gone.  (6.1's io_uring
 * refuses file memory: nothing to take over from there.)
 */
TEST_F(routes, an_io_uring_fixed_buffer_keeps_the_role_from_a_successor)
{
	struct mbx_ring_attach a = { .role = MBX_RING_ROLE_PRODUCER };
	struct iovec iov = { .iov_base = self->p.data, .iov_len = 2 * RSZ };
	struct io_uring_params prm;
	int ring, nfd, i;

	memset(&prm, 0, sizeof(prm));
	ring = syscall(__NR_io_uring_setup, 4, &prm);
	if (ring < 0)
		SKIP(return, "no io_uring here (errno %d)", errno);
	if (syscall(__NR_io_uring_register, ring, IORING_REGISTER_BUFFERS,
		    &iov, 1)) {
		close(ring);
		SKIP(return, "io_uring refuses the ring's pages (errno %d)",
		     errno);
	}
	nfd = producer_leaves(self->fd, &self->pfd, &self->p);
	ASSERT_LE(0, nfd);
	EXPECT_EQ(-1, ioctl(nfd, MBX_IOC_RING_ATTACH, &a));
	EXPECT_EQ(EBUSY, errno);
	close(ring);
	/* The registration goes with the io_uring, a little later. */
	for (i = 0; i < 100 && ioctl(nfd, MBX_IOC_RING_ATTACH, &a); i++)
		t_sleep_ms(50);
	EXPECT_EQ(0, ioctl(nfd, MBX_IOC_RING_ATTACH, &a));
	close(nfd);
}

/* A store into a read-only part kills with SIGSEGV, in a child too. */
TEST_F(routes, store_faults)
{
	uint8_t *const targets[] = {
		self->c.prod, self->c.data, self->c.status,
		self->p.cons, self->p.status,
	};
	unsigned int i;
	pid_t pid;

	for (i = 0; i < ARRAY_SIZE(targets); i++) {
		pid = t_fork();
		ASSERT_LE(0, pid);
		if (!pid) {
			__atomic_store_n(targets[i], 0xee, __ATOMIC_RELAXED);
			_exit(T_BAD_SUCCESS);
		}
		EXPECT_EQ(128 + SIGSEGV, t_reap(pid));
	}
	EXPECT_EQ(0, self->p.prod[0]);
	EXPECT_EQ(0, self->p.cons[0]);
}

TEST_F(routes, proc_mem_and_process_vm_writev_refused)
{
	uint8_t *const targets[] = {
		self->c.prod, self->c.data, self->c.status,
		self->p.cons, self->p.status,
	};
	uint8_t junk[8], back[8];
	struct iovec local = { junk, sizeof(junk) }, remote;
	bool have_pvm = true;
	unsigned int i;
	ssize_t n;

	memset(junk, 0xee, sizeof(junk));
	remote.iov_base = self->c.prod;
	remote.iov_len = sizeof(back);
	local.iov_base = back;
	if (process_vm_readv(getpid(), &local, 1, &remote, 1, 0) < 0)
		have_pvm = false;	/* no CONFIG_CROSS_MEMORY_ATTACH */
	local.iov_base = junk;
	for (i = 0; i < ARRAY_SIZE(targets); i++) {
		EXPECT_EQ(-1, t_mem_write(getpid(), targets[i], sizeof(junk)));
		if (have_pvm) {
			remote.iov_base = targets[i];
			EXPECT_EQ(-1, process_vm_writev(getpid(), &local, 1,
							&remote, 1, 0));
			EXPECT_EQ(EFAULT, errno);
		}
		EXPECT_NE(0xee, targets[i][0]);
	}
	/* The producer's own page takes both (they are its to write). */
	n = t_mem_write(getpid(), self->p.prod + 512, sizeof(junk));
	EXPECT_EQ(sizeof(junk), n);
	EXPECT_EQ(0xee, self->p.prod[512]);
	EXPECT_EQ(0xee, self->c.prod[512]);
	if (!have_pvm)
		SKIP(return, "no process_vm_writev() in this kernel");
}

/* The kernel's status word stays the kernel's. */
TEST_F(routes, status_is_the_kernels)
{
	uint32_t st;

	memcpy(&st, self->p.status + self->p.ri.status, sizeof(st));
	EXPECT_EQ(MBX_RING_ST_PRODUCER | MBX_RING_ST_CONSUMER, st);
	memcpy(&st, self->c.status + self->c.ri.status, sizeof(st));
	EXPECT_EQ(MBX_RING_ST_PRODUCER | MBX_RING_ST_CONSUMER, st);
	ASSERT_EQ(0, mbx_shutdown(self->fd));
	memcpy(&st, self->c.status + self->c.ri.status, sizeof(st));
	EXPECT_TRUE(st & MBX_RING_ST_SHUTDOWN);
}

/* ---- hostile sides ---------------------------------------------------- */

struct tally {
	unsigned long ok, eproto, other_ok, bad;
	int bad_errno;
};

static void tally_err(struct tally *t, int err)
{
	if (err == EPROTO) {
		t->eproto++;
	} else if (err == EAGAIN || err == ETIMEDOUT || err == EPIPE ||
		   err == EINTR) {
		t->other_ok++;
	} else {
		t->bad++;
		t->bad_errno = err;
	}
}

/* A hostile producer: scribbles over its page and the records. */
static void hostile_producer(int fd, uint64_t seed)
{
	uint64_t end = t_now_ns() + HOSTILE_MS * MS, s = seed;
	struct mbx_ring_attach a = { .role = MBX_RING_ROLE_PRODUCER };
	struct raw r;

	if (ioctl(fd, MBX_IOC_RING_ATTACH, &a) || raw_map(fd, &r))
		_exit(T_BAD_SETUP);
	while (t_now_ns() < end) {
		uint64_t v = t_rnd(&s);

		switch (t_rnd(&s) % 6) {
		case 0:		/* an arbitrary position */
			__atomic_store_n((uint64_t *)(r.prod + r.ri.producer_pos),
					 v, __ATOMIC_RELEASE);
			break;
		case 1:		/* a plausible one, near the consumer's */
			v = __atomic_load_n((uint64_t *)(r.cons +
							 r.ri.consumer_pos),
					    __ATOMIC_ACQUIRE) + (v % (2 * RSZ));
			__atomic_store_n((uint64_t *)(r.prod + r.ri.producer_pos),
					 v, __ATOMIC_RELEASE);
			break;
		case 2:
			scribble(&s, r.data, 2 * RSZ);
			break;
		case 3:
			scribble(&s, r.prod, PG);
			break;
		case 4:
			random_enter(&s, fd, MBX_RING_ROLE_PRODUCER);
			break;
		default: {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };

			poll(&pfd, 1, 0);
			break;
		}
		}
	}
	_exit(0);
}

TEST(hostile_producer_honest_consumer)
{
	struct tally t = { 0 };
	struct mbx_ring *c;
	uint64_t end, sum = 0;
	int fd, wr, n = 0;
	pid_t pid;

	fd = mbx_ring_port_create(MBX_DEV_AUTO, NULL, RSZ, 0600, 0);
	ASSERT_LE(0, fd);
	wr = mbx_port_dup(fd, MBX_SEND);
	ASSERT_LE(0, wr);
	ASSERT_EQ(0, mbx_ring_attach(fd, MBX_RING_CONSUMER, &c));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (!pid)
		hostile_producer(wr, 0x9e3779b97f4a7c15ULL);
	close(wr);

	end = t_now_ns() + (HOSTILE_MS + 200) * MS;
	while (t_now_ns() < end) {
		const uint8_t *p;
		size_t len, i;

		p = mbx_ring_peek(c, &len, 1 * MS);
		if (!p) {
			tally_err(&t, errno);
			if (errno == EPIPE)
				break;
			continue;
		}
		if (len > RSZ - 8) {
			t.bad++;
			break;
		}
		/* Every byte handed out is readable. */
		for (i = 0; i < len; i++)
			sum += p[i];
		t.ok++;
		if (++n % 4 == 0 && mbx_ring_release(c))
			tally_err(&t, errno);
	}
	EXPECT_EQ(0, t_reap_ms(pid, 20000));
	TH_LOG("records %lu, EPROTO %lu, other %lu (sum %llu)", t.ok,
	       t.eproto, t.other_ok, (unsigned long long)sum);
	EXPECT_EQ(0, t.bad);
	if (t.bad)
		TH_LOG("unexpected errno %d", t.bad_errno);
	EXPECT_LT(0, t.eproto);
	mbx_ring_detach(c);
	close(fd);
}

/* A hostile consumer: scribbles over its page, enters with junk. */
static void hostile_consumer(int fd, uint64_t seed)
{
	uint64_t end = t_now_ns() + HOSTILE_MS * MS, s = seed;
	struct mbx_ring_attach a = { .role = MBX_RING_ROLE_CONSUMER };
	struct raw r;

	if (ioctl(fd, MBX_IOC_RING_ATTACH, &a) || raw_map(fd, &r))
		_exit(T_BAD_SETUP);
	while (t_now_ns() < end) {
		uint64_t v = t_rnd(&s);

		switch (t_rnd(&s) % 5) {
		case 0:
			__atomic_store_n((uint64_t *)(r.cons + r.ri.consumer_pos),
					 v, __ATOMIC_RELEASE);
			break;
		case 1:		/* plausible: near the producer's */
			v = __atomic_load_n((uint64_t *)(r.prod +
							 r.ri.producer_pos),
					    __ATOMIC_ACQUIRE) - (v % (2 * RSZ));
			__atomic_store_n((uint64_t *)(r.cons + r.ri.consumer_pos),
					 v, __ATOMIC_RELEASE);
			break;
		case 2:
			scribble(&s, r.cons, PG);
			break;
		case 3:
			random_enter(&s, fd, MBX_RING_ROLE_CONSUMER);
			break;
		default: {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };

			poll(&pfd, 1, 0);
			break;
		}
		}
	}
	_exit(0);
}

TEST(hostile_consumer_honest_producer)
{
	struct tally t = { 0 };
	struct mbx_ring *p;
	uint64_t end, s = 12345;
	int fd, rd;
	pid_t pid;

	fd = mbx_ring_port_create(MBX_DEV_AUTO, NULL, RSZ, 0600, 0);
	ASSERT_LE(0, fd);
	rd = mbx_port_dup(fd, MBX_RECV);
	ASSERT_LE(0, rd);
	ASSERT_EQ(0, mbx_ring_attach(fd, MBX_RING_PRODUCER, &p));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (!pid)
		hostile_consumer(rd, 0xdeadbeefcafef00dULL);
	close(rd);

	end = t_now_ns() + (HOSTILE_MS + 200) * MS;
	while (t_now_ns() < end) {
		size_t len = t_rnd(&s) % (RSZ / 2);
		uint8_t *q = mbx_ring_reserve(p, len, 1 * MS);

		if (!q) {
			tally_err(&t, errno);
			if (errno == EPIPE)
				break;
			continue;
		}
		/* Every byte handed out is writable and ours. */
		memset(q, 0x5a, len);
		t.ok++;
		if (mbx_ring_commit(p))
			tally_err(&t, errno);
	}
	EXPECT_EQ(0, t_reap_ms(pid, 20000));
	TH_LOG("records %lu, EPROTO %lu, other %lu", t.ok, t.eproto,
	       t.other_ok);
	EXPECT_EQ(0, t.bad);
	if (t.bad)
		TH_LOG("unexpected errno %d", t.bad_errno);
	EXPECT_LT(0, t.eproto);
	mbx_ring_detach(p);
	close(fd);
}

/*
 * A consumer position past what the producer published, into a record it
 * reserved and has not committed, is impossible: EPROTO at the next look,
 * not room counted from it.
 */
TEST(consumer_position_past_committed)
{
	struct mbx_ring_info ri;
	struct mbx_ring *p;
	static char buf[1000];
	char *cpage;
	int fd, i;

	fd = mbx_ring_port_create(MBX_DEV_AUTO, NULL, RSZ, 0600, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, mbx_ring_attach(fd, MBX_RING_PRODUCER, &p));
	memset(&ri, 0, sizeof(ri));
	ASSERT_EQ(0, t_ioctl(fd, MBX_IOC_RING_INFO, &ri));
	/* The consumer role's page, through a file that holds the role. */
	ASSERT_EQ(0, t_ioctl(fd, MBX_IOC_RING_ATTACH,
			     &(struct mbx_ring_attach){
				.role = MBX_RING_ROLE_CONSUMER }));
	cpage = mmap(NULL, ri.page_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		     fd, ri.consumer_off);
	ASSERT_NE(MAP_FAILED, cpage);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, mbx_ring_send(p, buf, sizeof(buf), 0));
	ASSERT_NE(NULL, mbx_ring_reserve(p, 100, 0));
	/* Records of 8 + 1000 bytes and 8 + 104: the end of the reserved. */
	__atomic_store_n((uint64_t *)(cpage + ri.consumer_pos),
			 3 * 1008 + 112, __ATOMIC_RELEASE);
	/* Larger than the room last seen: the producer reads the position. */
	EXPECT_EQ(NULL, mbx_ring_reserve(p, 14000, 0));
	EXPECT_EQ(EPROTO, errno);
	munmap(cpage, ri.page_size);
	mbx_ring_detach(p);
	close(fd);
}

TEST_HARNESS_MAIN
