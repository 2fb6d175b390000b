// SPDX-License-Identifier: GPL-2.0
/*
 * Stress under chaos: eleven processes share five named ports (a copy-mode
 * queue, a rendezvous port, a port with a zero-copy pool, a request port and
 * a reply port) and mix every way of moving a message: blocking,
 * non-blocking, relative and absolute timeouts, read()/write(), batches,
 * zero-copy (alloc, send a region, receive in place, release), and
 * request/reply (MBX_IOC_CALL as client and as server).  Meanwhile the test
 * process itself is the chaos: it sends SIGUSR1 (handler with SA_RESTART),
 * SIGUSR2 (handler without), SIGSTOP/SIGCONT, SIGKILLs random participants
 * and respawns them, and shuts ports down (a shut-down port is replaced by
 * a fresh one under a new name; participants move over when they notice).
 * Two "closer" participants have a helper thread that close()s the fd the
 * main thread is blocked on.
 *
 * Bookkeeping, in MAP_SHARED|MAP_ANONYMOUS memory, per message id:
 *   st[id]: 1 when the sender is about to send (logged BEFORE the call),
 *           2 once the send returned success, 3 once it returned failure;
 *           a sender killed in between leaves 1: "may or may not be sent";
 *   rc[id]: receipts, logged by a receiver as soon as its call returns and
 *           before it does anything else with the message.
 * A receiver also publishes, before each receive call, how many messages
 * that call can take (1, or a batch's count); if it is SIGKILLed with that
 * set, those many messages may have left the port without being logged.
 *
 * At the end every port is shut down, every participant is reaped, every
 * port ever created is drained, and the test checks:
 *   - no message was received twice, none whose send failed or was never
 *     attempted was received, every payload, length and tag is intact;
 *   - every message whose send succeeded was received; the few that were
 *     not must be covered by receives killed in flight (the "excused"
 *     budget above);
 *   - the kernel's own counters agree: per port sent == received and
 *     nothing queued after the drain; over all ports, sent is between the
 *     messages we know were sent and those plus the undecided ones, and
 *     each message never received is one the kernel counted as received
 *     that no receiver logged;
 *   - every pool is entirely free again (pool_free == pool_size);
 *   - no call failed with an errno the rules do not allow for it, and no
 *     participant hung past the end.
 *
 * Environment: MBX_STRESS_SEED (the seed, printed either way),
 * MBX_STRESS_MSGS (stop after this many successful sends; default 400 000,
 * 40 000 on a lockdep kernel), MBX_STRESS_SECS (stop after this long even
 * if the count is not reached; default 75, 100 on a lockdep kernel).
 * `make stress-long` runs MBX_STRESS_MSGS=1000000.  The seed fixes every
 * random choice of every process (which call, which mode, which victim);
 * the interleaving is the scheduler's.
 *
 * This file is the test process: the chaos and the checks.  The
 * participants are in stress/ (participant.c, roles.c), what both sides
 * share in stress/stress.h.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "mbx_helpers.h"
#include "stress/stress.h"

static const char *const slot_name[NSLOT] = {
	"queue", "rendezvous", "pool", "request", "reply",
};

static const char *const role_name[NROLE] = {
	"producer", "consumer", "client", "server", "closer",
};

static const char *const cnt_name[NCNT] = {
	"sent", "received", "blocking", "non-blocking", "timed",
	"read/write", "batch-sent", "batch-received", "zero-copy-sent",
	"in-place-received", "calls", "replies", "signals-handled",
	"EINTR", "ETIMEDOUT", "EAGAIN", "EPIPE", "EBADF", "EMSGSIZE",
	"fd-closes", "closed-while-blocked", "reopens",
};

/* ---- the chaos and the checks (the test process) ------------------------ */

struct chaos {
	uint64_t sigs[2], stops, kills, shutdowns, spawns, excused;
	uint64_t hung, bad_exit;
	int last_bad_status, last_bad_idx;
};

static int create_port(struct shared *sh, int slot, uint32_t gen)
{
	char name[MBX_NAME_LEN];
	struct mbx_port_create pc;
	int fd;

	memset(&pc, 0, sizeof(pc));
	pc.capacity = cfg[slot].cap;
	pc.max_msg_size = cfg[slot].msg;
	pc.pool_size = cfg[slot].pool;
	pc.mode = 0600;
	pc.flags = MBX_CLOEXEC;
	port_name(name, sh->owner, slot, gen);
	strcpy(pc.name, name);
	fd = mbx_port_create(MBX_DEV_AUTO, &pc);
	if (fd < 0)
		return fd;
	close(fd);		/* the name keeps it */
	return 0;
}

static int shutdown_port(struct shared *sh, int slot, uint32_t gen)
{
	char name[MBX_NAME_LEN];
	int fd, ret;

	port_name(name, sh->owner, slot, gen);
	fd = mbx_port_open(MBX_DEV_AUTO, name, MBX_RECV | MBX_CLOEXEC);
	if (fd < 0)
		return fd;
	ret = mbx_shutdown(fd);
	close(fd);
	return ret;
}

static pid_t spawn(struct shared *sh, int idx)
{
	uint32_t inc = sh->part[idx].incarnations++;
	pid_t pid = t_fork();

	if (pid == 0)
		participant(sh, idx, inc);
	sh->part[idx].pid = pid;
	return pid;
}

/* Reap whoever ended; respawn them unless stopping. */
static void reap(struct shared *sh, struct chaos *ch, bool respawn)
{
	int st, i;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (i = 0; i < NPART; i++)
			if (sh->part[i].pid == pid)
				break;
		if (i == NPART)
			continue;
		sh->part[i].pid = 0;
		if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) {
			/* What its receive in flight took was never logged. */
			ch->excused += sh->part[i].inflight;
			sh->part[i].inflight = 0;
		} else if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			ch->bad_exit++;
			ch->last_bad_status = st;
			ch->last_bad_idx = i;
		}
		if (respawn && spawn(sh, i) > 0)
			ch->spawns++;
	}
}

static uint64_t total(struct shared *sh, int cnt)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < NPART; i++)
		n += sh->part[i].n[cnt];
	return n;
}

/* Drain one port into the log; returns messages drained or -errno. */
static long drain(struct shared *sh, int slot, uint32_t gen,
		  struct mbx_port_info *info, uint64_t *bad_msgs)
{
	static uint8_t buf[BUF_SIZE];
	char name[MBX_NAME_LEN];
	struct mbx_recv r;
	const char *why;
	long n = 0, ret;
	uint64_t id;
	int fd;

	port_name(name, sh->owner, slot, gen);
	fd = mbx_port_open(MBX_DEV_AUTO, name, MBX_RECV | MBX_CLOEXEC);
	if (fd < 0)
		return fd;
	for (;;) {
		memset(&r, 0, sizeof(r));
		r.buf = (uintptr_t)buf;
		r.len = sizeof(buf);
		r.flags = MBX_NONBLOCK;
		ret = t_ioctl(fd, MBX_IOC_RECV, &r);
		if (ret == -EAGAIN || ret == -EPIPE)
			break;
		if (ret < 0) {
			n = ret;
			goto out;
		}
		n++;
		if (r.len < sizeof(struct hdr)) {
			(*bad_msgs)++;
			continue;
		}
		memcpy(&id, buf, sizeof(id));
		if (r.tag)
			id = r.tag & ~TAG_BIT;
		if (id >= sh->max_ids) {
			(*bad_msgs)++;
			continue;
		}
		sh->rc[id]++;
		why = bad_msg(buf, r.len, id);
		if (why)
			(*bad_msgs)++;
	}
	ret = t_info(fd, info);
	if (ret)
		n = ret;
out:
	close(fd);
	mbx_port_unlink(MBX_DEV_AUTO, name);
	return n;
}

FIXTURE(stress) {
	struct shared *sh;
	size_t size;
};

FIXTURE_SETUP(stress)
{
}

FIXTURE_TEARDOWN(stress)
{
	int s;
	uint32_t g;
	char name[MBX_NAME_LEN];

	if (!self->sh)
		return;
	/* Whatever a failed run left linked. */
	for (s = 0; s < NSLOT; s++)
		for (g = 0; g <= self->sh->gen[s]; g++) {
			port_name(name, self->sh->owner, s, g);
			mbx_port_unlink(MBX_DEV_AUTO, name);
		}
	munmap(self->sh, self->size);
}

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : def;
}

TEST_F_TIMEOUT(stress, chaos, 24 * 3600)
{
	bool debug = access("/proc/lockdep", F_OK) == 0;
	uint64_t target = env_u64("MBX_STRESS_MSGS", debug ? 40000 : 400000);
	uint64_t secs = env_u64("MBX_STRESS_SECS", debug ? 100 : 75);
	uint64_t seed = env_u64("MBX_STRESS_SEED", 0);
	uint64_t t0, t_end, tick = 0, rng, max_ids;
	uint64_t known_sent = 0, undecided = 0, undecided_recv = 0;
	uint64_t lost = 0, dup = 0, phantom = 0, recv_total = 0;
	uint64_t drained = 0, bad_drain = 0, k_sent = 0, k_recv = 0;
	uint64_t kill_every, sig_pct, shut_every, lost_ids[5];
	struct shared *sh;
	struct chaos ch;
	uint64_t id, i;
	double el;
	int s, p;

	if (!seed) {
		seed = t_now_ns() ^ ((uint64_t)getpid() << 32);
		seed = mix64(seed);
	}
	ksft_print_msg("stress: seed %llu (MBX_STRESS_SEED=%llu repeats it)\n",
		       (unsigned long long)seed, (unsigned long long)seed);
	ksft_print_msg("stress: target %llu messages, at most %llu s%s\n",
		       (unsigned long long)target, (unsigned long long)secs,
		       debug ? ", lockdep kernel" : "");

	max_ids = target * 4 + 200000;
	self->size = sizeof(*sh) + 2 * max_ids;
	sh = t_shared(self->size);
	ASSERT_NE(NULL, sh);
	self->sh = sh;
	sh->st = (uint8_t *)(sh + 1);
	sh->rc = sh->st + max_ids;
	sh->seed = seed;
	sh->max_ids = max_ids;
	sh->owner = getpid();
	rng = mix64(seed ^ 0xc4a05) | 1;
	memset(&ch, 0, sizeof(ch));

	/* A watchdog for the whole test: run, wind-down, drain. */
	alarm(secs + 300);
	ASSERT_EQ(0, t_handle(SIGUSR1, on_signal, SA_RESTART));
	ASSERT_EQ(0, t_handle(SIGUSR2, on_signal, 0));

	for (s = 0; s < NSLOT; s++)
		ASSERT_EQ(0, create_port(sh, s, 0)) TH_LOG("slot %d", s);
	for (p = 0; p < NPART; p++) {
		sh->part[p].role = roles[p];
		ASSERT_LT(0, spawn(sh, p));
	}

	/* Rates per 2 ms tick, lower on the slow debug kernel. */
	kill_every = debug ? 80 : 60;
	sig_pct = debug ? 20 : 40;
	shut_every = debug ? 1500 : 1000;

	t0 = t_now_ns();
	t_end = t0 + secs * 1000000000ULL;
	while (!__atomic_load_n(&sh->stop, __ATOMIC_RELAXED)) {
		uint64_t now = t_now_ns();

		reap(sh, &ch, true);
		if (now >= t_end || total(sh, C_SENT) >= target)
			break;
		tick++;
		p = below(&rng, NPART);
		if (below(&rng, 100) < sig_pct && sh->part[p].pid > 0) {
			int k = below(&rng, 2);

			kill(sh->part[p].pid, k ? SIGUSR2 : SIGUSR1);
			ch.sigs[k]++;
		}
		p = below(&rng, NPART);
		if (below(&rng, 1000) < 3 && sh->part[p].pid > 0) {
			kill(sh->part[p].pid, SIGSTOP);
			t_sleep_ms(1 + below(&rng, 5));
			kill(sh->part[p].pid, SIGCONT);
			ch.stops++;
		}
		p = below(&rng, NPART);
		if (below(&rng, kill_every) == 0 && sh->part[p].pid > 0) {
			kill(sh->part[p].pid, SIGKILL);
			ch.kills++;
		}
		s = below(&rng, NSLOT);
		if (below(&rng, shut_every) == 0 && sh->gen[s] + 1 < MAX_GEN) {
			uint32_t g = sh->gen[s];

			/* The new port first, then tell, then shut the old. */
			ASSERT_EQ(0, create_port(sh, s, g + 1));
			__atomic_store_n(&sh->gen[s], g + 1, __ATOMIC_RELEASE);
			ASSERT_EQ(0, shutdown_port(sh, s, g));
			ch.shutdowns++;
		}
		t_sleep_ms(2);
	}
	el = (t_now_ns() - t0) / 1e9;

	/* Wind down: stop, wake every waiter, reap everyone. */
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELAXED);
	for (s = 0; s < NSLOT; s++)
		EXPECT_EQ(0, shutdown_port(sh, s, sh->gen[s]));
	t_end = t_now_ns() + 60 * 1000000000ULL;
	for (;;) {
		int alive = 0;

		reap(sh, &ch, false);
		for (p = 0; p < NPART; p++)
			alive += sh->part[p].pid > 0;
		if (!alive)
			break;
		if (t_now_ns() > t_end) {
			for (p = 0; p < NPART; p++) {
				if (sh->part[p].pid <= 0)
					continue;
				ch.hung++;
				TH_LOG("%s %d (pid %d) did not finish within 60 s of the end",
				       role_name[roles[p]], p, sh->part[p].pid);
				kill(sh->part[p].pid, SIGKILL);
			}
			t_end = UINT64_MAX;
		}
		t_sleep_ms(5);
	}

	/* Drain every port ever made; the kernel's counters must agree. */
	for (s = 0; s < NSLOT; s++) {
		uint32_t g;

		for (g = 0; g <= sh->gen[s]; g++) {
			struct mbx_port_info info;
			long n = drain(sh, s, g, &info, &bad_drain);

			ASSERT_LE(0, n) TH_LOG("drain %s gen %u", slot_name[s], g);
			drained += n;
			k_sent += info.sent;
			k_recv += info.received;
			EXPECT_EQ(0, info.queued) TH_LOG("%s gen %u", slot_name[s], g);
			EXPECT_EQ(info.sent, info.received)
				TH_LOG("%s gen %u", slot_name[s], g);
			EXPECT_EQ(info.bytes_sent, info.bytes_received)
				TH_LOG("%s gen %u", slot_name[s], g);
			EXPECT_EQ(info.pool_size, info.pool_free)
				TH_LOG("pool of %s gen %u not free again", slot_name[s], g);
			EXPECT_EQ(0, info.send_waiting);
			EXPECT_EQ(0, info.recv_waiting);
		}
	}

	/* The ledger. */
	for (id = 0; id < sh->next_id && id < max_ids; id++) {
		uint8_t st = sh->st[id], rc = sh->rc[id];

		recv_total += rc;
		if (rc > 1) {
			if (dup++ < 5)
				TH_LOG("message %llu received %u times (send state %u)",
				       (unsigned long long)id, rc, st);
		}
		switch (st) {
		case 2:
			known_sent++;
			if (!rc && lost < 5)
				lost_ids[lost] = id;
			lost += !rc;
			break;
		case 1:
			undecided++;
			undecided_recv += rc ? 1 : 0;
			break;
		default:
			if (rc && phantom++ < 5)
				TH_LOG("message %llu received though its send %s",
				       (unsigned long long)id,
				       st ? "failed" : "was never attempted");
		}
	}
	if (lost > ch.excused)
		for (i = 0; i < 5 && i < lost; i++)
			TH_LOG("message %llu sent but never received",
			       (unsigned long long)lost_ids[i]);
	for (i = 0; i < NLOG && i < sh->nerr; i++)
		TH_LOG("unexpected: %s %d: %s: %s (%llu)",
		       role_name[roles[sh->errs[i].idx]], sh->errs[i].idx,
		       sh->errs[i].what, strerror(sh->errs[i].err),
		       (unsigned long long)sh->errs[i].id);
	for (i = 0; i < NLOG && i < sh->nbad; i++)
		TH_LOG("bad message: %s %d: message %llu: %s",
		       role_name[roles[sh->bads[i].idx]], sh->bads[i].idx,
		       (unsigned long long)sh->bads[i].id, sh->bads[i].what);
	if (ch.bad_exit)
		TH_LOG("%llu participants exited badly, last: %s %d status %#x",
		       (unsigned long long)ch.bad_exit,
		       role_name[roles[ch.last_bad_idx]], ch.last_bad_idx,
		       ch.last_bad_status);

	ksft_print_msg("stress: seed %llu, %.1f s of chaos, %.1f messages/s\n",
		       (unsigned long long)seed, el, known_sent / el);
	ksft_print_msg("stress: messages: %llu sent ok, %llu received (%llu by the final drain)\n",
		       (unsigned long long)known_sent,
		       (unsigned long long)recv_total,
		       (unsigned long long)drained);
	ksft_print_msg("stress: %llu undecided (sender killed mid-send), %llu of them received\n",
		       (unsigned long long)undecided,
		       (unsigned long long)undecided_recv);
	ksft_print_msg("stress: %llu never received, allowed: %llu (receives killed in flight)\n",
		       (unsigned long long)lost,
		       (unsigned long long)ch.excused);
	ksft_print_msg("stress: chaos: %llu SIGKILLs (%llu respawns), %llu port shutdowns\n",
		       (unsigned long long)ch.kills,
		       (unsigned long long)ch.spawns,
		       (unsigned long long)ch.shutdowns);
	ksft_print_msg("stress: chaos: %llu SIGUSR1 (SA_RESTART), %llu SIGUSR2, %llu SIGSTOPs\n",
		       (unsigned long long)ch.sigs[0],
		       (unsigned long long)ch.sigs[1],
		       (unsigned long long)ch.stops);
	ksft_print_msg("stress: kernel counters over %u ports: sent %llu, received %llu\n",
		       sh->gen[0] + sh->gen[1] + sh->gen[2] + sh->gen[3] +
		       sh->gen[4] + NSLOT,
		       (unsigned long long)k_sent, (unsigned long long)k_recv);
	{
		char line[1024];
		int o = 0, c;

		for (c = 0; c < NCNT; c++)
			o += snprintf(line + o, sizeof(line) - o, "%s%s %llu",
				      c ? ", " : "", cnt_name[c],
				      (unsigned long long)total(sh, c));
		ksft_print_msg("stress: calls: %s\n", line);
	}

	EXPECT_EQ(0, sh->nerr);
	EXPECT_EQ(0, sh->nbad);
	EXPECT_EQ(0, bad_drain);
	EXPECT_EQ(0, ch.bad_exit);
	EXPECT_EQ(0, ch.hung);
	EXPECT_EQ(0, dup);
	EXPECT_EQ(0, phantom);
	EXPECT_LE(lost, ch.excused);
	/* Every undecided message belongs to a sender killed mid-send. */
	EXPECT_LE(undecided, ch.kills * BATCH_MAX);
	/* The kernel counted what we know was sent, and maybe undecided ones. */
	EXPECT_LE(known_sent, k_sent);
	EXPECT_LE(k_sent, known_sent + undecided);
	EXPECT_EQ(k_sent, k_recv);
	/* What the kernel handed out, we logged, but for killed receives. */
	EXPECT_LE(recv_total, k_recv);
	EXPECT_LE(k_recv - recv_total, ch.excused);
	/* Each message never seen is one the kernel handed to a killed receiver. */
	EXPECT_LE(lost, k_recv - recv_total);
	/* Some real work and some real chaos happened. */
	EXPECT_LT(1000, known_sent);
	EXPECT_LT(0, ch.kills);
	alarm(0);
}

TEST_HARNESS_MAIN
