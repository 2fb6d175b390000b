// SPDX-License-Identifier: GPL-2.0
/*
 * Syscall fuzzer for /dev/mailbox and its port fds.
 *
 * The test process runs rounds; each round forks a worker process whose
 * threads (four by default) share one table of fds: ports of every access
 * (created, opened by name, narrowed with MBX_IOC_PORT_DUP, with and
 * without pool, rendezvous or queue), /dev/mailbox opened read-write,
 * read-only and write-only, pipes, a regular file, /dev/null, an eventfd,
 * an epoll fd, unix sockets, and stale numbers of closed fds.  Each thread
 * makes random calls on random entries of that table:
 *
 *   - every control and port ioctl (ring ports and MBX_IOC_RING_* too),
 *     with structures built to be plausible
 *     (so that calls get past the argument checks: known pool regions,
 *     existing names, short timeouts) and then often broken: random or
 *     reserved flag bits, non-zero reserved fields, huge lengths, counts
 *     and timeouts, wrong sizes in _IOC_SIZE (smaller, larger with zero or
 *     non-zero tails), wrong directions, unknown numbers, foreign ioctls;
 *   - argument and buffer pointers that are NULL, unmapped, kernel
 *     addresses (0xffffffff81000000, the direct map), non-canonical,
 *     misaligned, straddling into a PROT_NONE page, in a PROT_NONE page,
 *     or in a read-only page (the kernel can read the argument but not
 *     write the results back: the paths that undo a receive);
 *   - read, write, pread, readv/writev with such buffers and lengths;
 *   - mmap of any fd with random lengths, protections, flags and offsets,
 *     munmap (whole or in part), mprotect, mremap, madvise(MADV_DONTNEED),
 *     and reads and writes of the mapped pages (faults are caught);
 *   - poll, ppoll, epoll_ctl and epoll_wait; close, dup, dup2 and dup3
 *     onto fds other threads are using, fcntl(O_NONBLOCK), reopening
 *     /proc/self/fd/N; passing fds over a unix socket with SCM_RIGHTS
 *     (and closing sockets with fds still in flight); fork, with the child
 *     making a few calls on the inherited fds.
 *
 * Threads race on the same fds on purpose: one closes or dup2()s over the
 * fd another one is blocked on.  Nothing may block forever: the worker's
 * main thread interrupts (SIGUSR1, no SA_RESTART) any call that has been
 * blocked for 20 ms, and the test process kills a worker whose round has
 * not finished in time and fails the test with the seed, the round and
 * what each thread was doing.  Now and then a worker is SIGKILLed in the
 * middle of its round instead, so that exit cleans up after blocked
 * threads, held regions, mappings and fds in flight.
 *
 * Results are not checked beyond "the kernel survives": no crash of a
 * worker (other than ours), no hang, no splat (the VM runner watches the
 * console; on the debug kernel KASAN, UBSAN, lockdep and kmemleak watch
 * too).  At the end a sanity check creates a port and moves messages by
 * copy and by zero copy through it.
 *
 * Environment: MBX_FUZZ_SEED (printed either way), MBX_FUZZ_CALLS (calls
 * in all; default 100 000, 50 000 on a lockdep kernel), MBX_FUZZ_SECS (stop
 * earlier after this long; default 100, 150 on a lockdep kernel),
 * MBX_FUZZ_THREADS (threads per worker, default 4).  `make fuzz-long`
 * runs MBX_FUZZ_CALLS=1000000.  A seed fixes every choice of every thread
 * of every round; the interleaving of the threads is the scheduler's.
 *
 * This file is the test process; the worker and its calls are in fuzz/
 * (worker.c, ioctls.c, files.c), what both share in fuzz/fuzz.h.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "kselftest_harness.h"
#include "mbx_helpers.h"
#include "fuzz/fuzz.h"

static const char *const op_name[NOP] = {
	"mailbox-ioctl", "mangled-ioctl", "read/write", "mmap-family",
	"page-touch", "poll", "epoll", "close/dup", "open", "scm-rights",
	"fork",
};

/* ---- the test process -------------------------------------------------- */

FIXTURE(fuzz) {
	struct fz_shared *sh;
};

FIXTURE_SETUP(fuzz)
{
	self->sh = t_shared(sizeof(*self->sh));
	ASSERT_NE(NULL, self->sh);
}

FIXTURE_TEARDOWN(fuzz)
{
	if (self->sh)
		munmap(self->sh, sizeof(*self->sh));
}

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : def;
}

/* Where each task of a hung worker is: state, wchan, system call. */
static void dump_tasks(struct __test_metadata *_metadata, pid_t pid)
{
	char path[96], buf[512], out[1200];
	struct dirent *de;
	DIR *d;
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d))) {
		static const char *const files[] = { "stat", "wchan", "syscall" };
		int o = 0, k;

		if (de->d_name[0] == '.')
			continue;
		for (k = 0; k < 3; k++) {
			snprintf(path, sizeof(path), "/proc/%d/task/%.16s/%s",
				 (int)pid, de->d_name, files[k]);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			n = fd < 0 ? 0 : read(fd, buf, sizeof(buf) - 1);
			if (fd >= 0)
				close(fd);
			buf[n > 0 ? n : 0] = '\0';
			buf[strcspn(buf, "\n")] = '\0';
			o += snprintf(out + o, sizeof(out) - o, " | %s: %.100s",
				      files[k], buf);
		}
		TH_LOG("task %s%s", de->d_name, out);
	}
	closedir(d);
}

/* Reap every descendant left (they end within 2 s by their alarm). */
static void reap_all(struct __test_metadata *_metadata)
{
	uint64_t end = t_now_ns() + 10000000000ULL;
	pid_t r;

	for (;;) {
		r = waitpid(-1, NULL, WNOHANG);
		if (r < 0)
			return;		/* ECHILD: nobody left */
		if (r == 0) {
			if (t_now_ns() > end) {
				TH_LOG("a fork child of the worker outlived its alarm");
				return;
			}
			usleep(2000);
		}
	}
}

static void unlink_round(struct fz_shared *sh, uint32_t round)
{
	char name[MBX_NAME_LEN];
	int i;

	for (i = 0; i < NNAME; i++) {
		snprintf(name, sizeof(name), "mbxfz.%d.%u.%d", (int)sh->owner,
			 round, i);
		mbx_port_unlink(MBX_DEV_AUTO, name);
	}
	snprintf(name, sizeof(name), "/tmp/mbxfz.%d.%u", (int)sh->owner,
		 round);
	unlink(name);
}

/* After all that: the module still does its job. */
static int sanity(struct __test_metadata *_metadata)
{
	struct mbx_port_create c = { .capacity = 4, .max_msg_size = 256,
				     .pool_size = 4 * PG, .mode = 0600 };
	char buf[256], name[MBX_NAME_LEN];
	struct mbx_port_info info;
	uint64_t off;
	void *base;
	size_t size;
	int fd, rfd;

	snprintf(name, sizeof(name), "mbxfz.%d.check", (int)getpid());
	strcpy(c.name, name);
	fd = mbx_port_create(MBX_DEV_AUTO, &c);
	ASSERT_LE(0, fd) TH_LOG("create: %s", strerror(-fd));
	rfd = mbx_port_open(MBX_DEV_AUTO, name, MBX_RECV);
	ASSERT_LE(0, rfd);
	EXPECT_EQ(0, mbx_port_unlink(MBX_DEV_AUTO, name));
	EXPECT_EQ(0, t_send_str(fd, "still alive", 3));
	EXPECT_EQ(11, t_recv_str(rfd, buf, sizeof(buf), NULL));
	EXPECT_STREQ("still alive", buf);
	ASSERT_EQ(0, mbx_pool_map(fd, &base, &size));
	ASSERT_EQ(0, mbx_buf_alloc(fd, 100, &off));
	t_fill(mbx_buf_ptr(base, off), 100, 7);
	EXPECT_EQ(0, mbx_buf_send(fd, off, 100, 0));
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(100, mbx_recv_nonblock(rfd, buf, sizeof(buf), NULL));
	EXPECT_TRUE(t_check(buf, 100, 7));
	ASSERT_EQ(0, t_info(fd, &info));
	EXPECT_EQ(info.pool_size, info.pool_free);
	EXPECT_EQ(0, info.queued);
	EXPECT_EQ(2, info.sent);
	EXPECT_EQ(2, info.received);
	mbx_pool_unmap(base, size);
	close(rfd);
	close(fd);
	return 0;
}

TEST_F_TIMEOUT(fuzz, random_calls_racing_threads, 24 * 3600)
{
	bool debug = access("/proc/lockdep", F_OK) == 0;
	uint64_t target = env_u64("MBX_FUZZ_CALLS", debug ? 50000 : 100000);
	uint64_t secs = env_u64("MBX_FUZZ_SECS", debug ? 150 : 100);
	uint64_t seed = env_u64("MBX_FUZZ_SEED", 0);
	uint64_t round_limit = (debug ? 120 : 40) * 1000000000ULL;
	uint64_t calls = 0, t0, t_stop, rng, ok_total = 0, err_total = 0;
	struct fz_shared *sh = self->sh;
	uint32_t round, nthreads;
	char line[1024];
	int i, o;

	nthreads = env_u64("MBX_FUZZ_THREADS", 4);
	if (nthreads < 1 || nthreads > MAXT)
		nthreads = 4;
	if (!seed)
		seed = fz_mix64(t_now_ns() ^ ((uint64_t)getpid() << 32));
	ksft_print_msg("fuzz: seed %llu (MBX_FUZZ_SEED=%llu repeats it)\n",
		       (unsigned long long)seed, (unsigned long long)seed);
	ksft_print_msg("fuzz: %llu calls, %u threads, at most %llu s%s\n",
		       (unsigned long long)target, nthreads,
		       (unsigned long long)secs, debug ? ", lockdep kernel" : "");
	sh->seed = seed;
	sh->owner = getpid();
	/* Orphans of a worker (its fork children) come to us to be reaped. */
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1));
	sh->nthreads = nthreads;
	rng = fz_mix64(seed) | 1;
	alarm(secs + 600);

	t0 = t_now_ns();
	t_stop = t0 + secs * 1000000000ULL;
	for (round = 0; calls < target && t_now_ns() < t_stop; round++) {
		uint64_t n = target - calls < ROUND_CALLS ? target - calls :
			     ROUND_CALLS, start, kill_at = 0, before = 0;
		int st = 0;
		pid_t pid, r;

		sh->round = round;
		sh->round_seed = fz_mix64(seed ^ fz_mix64(round + 1));
		for (i = 0; i < MAXT; i++) {
			before += sh->th[i].calls;
			sh->th[i].since = 0;
			sh->th[i].what[0] = '\0';
			sh->th[i].ops = 0;
			sh->th[i].done = 0;
		}
		/* One round in four is killed part-way through. */
		rng ^= rng >> 12, rng ^= rng << 25, rng ^= rng >> 27;
		if ((rng * 0x2545f4914f6cdd1dULL) % 4 == 0)
			kill_at = 50 + (rng >> 20) % 1500;
		start = t_now_ns();
		pid = t_fork();
		ASSERT_LE(0, pid);
		if (pid == 0)
			worker(sh, n);

		for (;;) {
			uint64_t now = t_now_ns();

			r = waitpid(pid, &st, WNOHANG);
			if (r == pid)
				break;
			ASSERT_EQ(0, r);
			if (kill_at && now > start + kill_at * 1000000ULL) {
				kill(pid, SIGKILL);
				sh->kills++;
				kill_at = 0;
			}
			if (now > start + round_limit) {
				TH_LOG("worker phase %u", sh->phase);
				dump_tasks(_metadata, pid);
				for (i = 0; i < (int)nthreads; i++)
					TH_LOG("thread %d: %llu ops%s, %s %.1f s in %s",
					       i, (unsigned long long)sh->th[i].ops,
					       sh->th[i].done ? " (done)" : "",
					       sh->th[i].since ? "blocked" : "last call",
					       sh->th[i].since ?
					       (now - sh->th[i].since) / 1e9 : 0.0,
					       sh->th[i].what);
				kill(pid, SIGKILL);
				waitpid(pid, &st, 0);
				ASSERT_TRUE(0)
					TH_LOG("seed %llu round %u: worker still busy after %llu s",
					       (unsigned long long)seed, round,
					       (unsigned long long)(round_limit / 1000000000ULL));
			}
			usleep(2000);
		}
		/* Its fork children die with it or by their alarm: reap them. */
		reap_all(_metadata);
		unlink_round(sh, round);
		ASSERT_EQ(0, sh->setup_failed) TH_LOG("%s", sh->setup_msg);
		if (WIFSIGNALED(st)) {
			for (i = 0; i < (int)nthreads &&
			     WTERMSIG(st) != SIGKILL; i++)
				TH_LOG("thread %d: %llu ops, last call %s",
				       i, (unsigned long long)sh->th[i].ops,
				       sh->th[i].what);
			ASSERT_EQ(SIGKILL, WTERMSIG(st))
				TH_LOG("seed %llu round %u: worker killed by signal %d",
				       (unsigned long long)seed, round, WTERMSIG(st));
		} else {
			ASSERT_EQ(0, WEXITSTATUS(st))
				TH_LOG("seed %llu round %u", (unsigned long long)seed,
				       round);
		}
		for (i = 0; i < MAXT; i++)
			calls += sh->th[i].calls;
		calls -= before;
	}

	sanity(_metadata);

	ksft_print_msg("fuzz: seed %llu: %llu calls, %u rounds (%llu killed mid-round), %.1f s\n",
		       (unsigned long long)seed, (unsigned long long)calls, round,
		       (unsigned long long)sh->kills, (t_now_ns() - t0) / 1e9);
	ksft_print_msg("fuzz: %llu blocked calls interrupted, longest after %.3f s: %s\n",
		       (unsigned long long)sh->interrupts, sh->longest_ns / 1e9,
		       sh->longest);
	for (o = 0, i = 0; i < NOP; i++)
		o += snprintf(line + o, sizeof(line) - o, "%s%s %llu",
			      i ? ", " : "", op_name[i],
			      (unsigned long long)sh->ops[i]);
	ksft_print_msg("fuzz: operations: %s; %llu faults caught, %llu fds passed\n",
		       line, (unsigned long long)sh->faults,
		       (unsigned long long)sh->fds_passed);
	for (o = 0, i = 0; i < NCMD; i++)
		o += snprintf(line + o, sizeof(line) - o, "%s%s %llu/%llu",
			      i ? ", " : "", cmd_name[i],
			      (unsigned long long)sh->oks[i],
			      (unsigned long long)sh->tries[i]);
	ksft_print_msg("fuzz: mailbox ioctls (succeeded/tried): %s\n", line);
	for (i = 1; i < 160; i++)
		err_total += sh->err[i];
	ok_total = sh->err[0];
	for (o = 0, i = 1; i < 160; i++)
		if (sh->err[i] && o < (int)sizeof(line) - 40)
			o += snprintf(line + o, sizeof(line) - o, " %s %llu",
				      strerrorname_np(i) ?: "?",
				      (unsigned long long)sh->err[i]);
	ksft_print_msg("fuzz: results: %llu succeeded, %llu failed:%s\n",
		       (unsigned long long)ok_total,
		       (unsigned long long)err_total, line);
	EXPECT_LT(0, calls);
	alarm(0);
}

/*
 * A directed race from the same family: one thread receives a pool message
 * in place with its struct mbx_recv in a read-only page, so the kernel can
 * read the argument but not write the results back; the rules then put the
 * message back at the head of the queue ("a receive that failed took
 * nothing").  Another thread of the same process releases that region
 * through the same fd in a loop.  The region is always either queued or,
 * for an instant inside the failing receive, taken; a release must never
 * succeed (EPERM: "still queued is EPERM"), and the message must come out
 * intact at the end.  The receives alternate between MBX_IOC_RECV and a
 * one-entry MBX_IOC_RECV_BATCH whose entry is in the read-only page.
 * MBX_RACE_SECS bounds it (default 15 s, 30 s on a lockdep kernel; 0
 * skips it).
 */
struct race {
	int fd;
	uint64_t off;
	struct mbx_recv *ro;	/* read-only: [0] the argument, [1] the entry */
	struct mbx_batch batch;
	int stop;		/* __atomic */
	uint64_t recvs, efault, other, releases, eperm, released;
	long first_other;
};

static void *race_receiver(void *arg)
{
	struct race *r = arg;
	long ret;

	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		/* The same path twice: MBX_IOC_RECV, a receive batch's entry. */
		if (r->recvs & 1)
			ret = t_ioctl(r->fd, MBX_IOC_RECV_BATCH, &r->batch);
		else
			ret = t_ioctl(r->fd, MBX_IOC_RECV, r->ro);
		r->recvs++;
		if (ret == -EFAULT) {
			r->efault++;
		} else {
			r->other++;
			if (!r->first_other)
				r->first_other = ret ? ret : 1;
		}
	}
	return NULL;
}

TEST_F_TIMEOUT(fuzz, inplace_recv_fault_races_release, 300)
{
	bool debug = access("/proc/lockdep", F_OK) == 0;
	uint64_t secs = env_u64("MBX_RACE_SECS", debug ? 30 : 15);
	struct mbx_port_create pc = {
		.capacity = 4, .max_msg_size = 256, .pool_size = 4 * PG,
		.mode = 0600,
	};
	struct mbx_port_info info;
	struct race r = { 0 };
	struct mbx_recv rv;
	uint64_t t0, end;
	pthread_t th;
	uint8_t *base;
	size_t size;
	long ret;

	if (!secs)
		SKIP(return, "MBX_RACE_SECS=0");
	r.fd = mbx_port_create(MBX_DEV_AUTO, &pc);
	ASSERT_LE(0, r.fd);
	ASSERT_EQ(0, mbx_pool_map(r.fd, (void **)&base, &size));
	ASSERT_EQ(0, mbx_buf_alloc(r.fd, 64, &r.off));
	t_fill(base + r.off, 64, 99);
	ASSERT_EQ(0, mbx_buf_send(r.fd, r.off, 64, 0));

	r.ro = mmap(NULL, PG, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, r.ro);
	memset(r.ro, 0, 2 * sizeof(*r.ro));
	r.ro[0].flags = MBX_RECV_INPLACE | MBX_NONBLOCK;
	r.ro[1].flags = MBX_RECV_INPLACE;	/* an entry: no wait flags */
	ASSERT_EQ(0, mprotect(r.ro, PG, PROT_READ));
	r.batch.msgs = (uintptr_t)&r.ro[1];
	r.batch.count = 1;
	r.batch.flags = MBX_NONBLOCK;

	ASSERT_EQ(0, pthread_create(&th, NULL, race_receiver, &r));
	t0 = t_now_ns();
	end = t0 + secs * 1000000000ULL;
	while (t_now_ns() < end && !__atomic_load_n(&r.stop, __ATOMIC_RELAXED)) {
		ret = t_buf_release(r.fd, r.off, 64);
		r.releases++;
		if (ret == -EPERM) {
			r.eperm++;
		} else if (ret == 0) {
			/* The region is gone while a message still carries it. */
			r.released++;
			__atomic_store_n(&r.stop, 1, __ATOMIC_RELAXED);
		} else {
			__atomic_store_n(&r.stop, 1, __ATOMIC_RELAXED);
			TH_LOG("release: %s", strerror((int)-ret));
		}
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	ksft_print_msg("race: %llu failing in-place receives (%llu EFAULT)\n",
		       (unsigned long long)r.recvs,
		       (unsigned long long)r.efault);
	ksft_print_msg("race: %llu releases (%llu EPERM, %llu succeeded) in %.1f s\n",
		       (unsigned long long)r.releases,
		       (unsigned long long)r.eperm,
		       (unsigned long long)r.released,
		       (t_now_ns() - t0) / 1e9);
	EXPECT_EQ(0, r.other) TH_LOG("receive into a read-only struct: %ld",
				     r.first_other);
	ASSERT_EQ(0, r.released)
		TH_LOG("%s %s", "BUF_RELEASE freed the region of a message being put back",
		       "by a failing receive (expected EPERM)");

	/* The message is still there, intact, and then the pool is free. */
	memset(&rv, 0, sizeof(rv));
	rv.flags = MBX_RECV_INPLACE | MBX_NONBLOCK;
	ASSERT_EQ(0, t_ioctl(r.fd, MBX_IOC_RECV, &rv));
	EXPECT_EQ(MBX_MSG_BUF, rv.msg_flags);
	EXPECT_EQ(r.off, rv.offset);
	EXPECT_EQ(64, rv.len);
	EXPECT_TRUE(t_check(base + rv.offset, 64, 99));
	EXPECT_EQ(0, t_buf_release(r.fd, rv.offset, rv.len));
	ASSERT_EQ(0, t_info(r.fd, &info));
	EXPECT_EQ(info.pool_size, info.pool_free);
	EXPECT_EQ(0, info.queued);
	munmap(r.ro, PG);
	mbx_pool_unmap(base, size);
	close(r.fd);
}

TEST_HARNESS_MAIN
