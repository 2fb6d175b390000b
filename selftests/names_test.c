// SPDX-License-Identifier: GPL-2.0
/*
 * Names under races: one thread creates a named port over and over while
 * another unlinks the name whenever it exists.  Whatever the interleaving,
 * a port is reachable by name (PORT_INFO state MBX_STATE_NAMED) exactly
 * while its name is linked, so that a port whose name is gone reaches end
 * of stream when its last sender closes; and an open by name racing an
 * unlink either loses (ENOENT) or counts its fd before the unlink looks.
 * The single-threaded rules of names are in port_test.c and perm_test.c.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "mbx_helpers.h"

#define RACE_ROUNDS	20000
#define RACE_NS		(3 * 1000000000ULL)

struct unlinker {
	char name[MBX_NAME_LEN];
	uint64_t unlinked;	/* successful unlinks, counted once returned */
	int stop;
};

/* Unlink the name whenever it exists, as fast as possible. */
static void *unlinker(void *arg)
{
	struct unlinker *u = arg;

	while (!__atomic_load_n(&u->stop, __ATOMIC_ACQUIRE))
		if (!mbx_port_unlink(MBX_DEV_AUTO, u->name))
			__atomic_add_fetch(&u->unlinked, 1, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * A create whose name an unlink removes at once, even before the create
 * has returned: once that unlink has returned, the port is not named, and
 * with its last sender gone a receiver sees end of stream.  (The create
 * used to mark the port named after publishing the name: an unlink in
 * between left a nameless port named for good, and its receivers never
 * saw end of stream.)
 */
TEST(create_racing_unlink_leaves_no_nameless_port_named)
{
	struct mbx_port_create pc;
	struct mbx_port_info info;
	unsigned int i, named = 0, eos = 0, rounds = 0;
	struct unlinker u;
	uint64_t before, end;
	pthread_t th;
	int fd, rfd;
	char c;

	memset(&u, 0, sizeof(u));
	t_name(u.name, "race");
	ASSERT_EQ(0, pthread_create(&th, NULL, unlinker, &u));
	end = t_now_ns() + RACE_NS;
	for (i = 0; i < RACE_ROUNDS && t_now_ns() < end; i++) {
		memset(&pc, 0, sizeof(pc));
		pc.capacity = 1;
		pc.max_msg_size = 8;
		pc.mode = 0600;
		strcpy(pc.name, u.name);
		before = __atomic_load_n(&u.unlinked, __ATOMIC_ACQUIRE);
		fd = mbx_port_create(MBX_DEV_AUTO, &pc);
		ASSERT_LE(0, fd) TH_LOG("create: %s", strerror(-fd));
		/* The unlink of this port's name has returned. */
		while (__atomic_load_n(&u.unlinked, __ATOMIC_ACQUIRE) == before)
			;
		ASSERT_EQ(0, t_info(fd, &info));
		named += !!(info.state & MBX_STATE_NAMED);
		/* Its only sender gone, a receiver sees end of stream. */
		rfd = mbx_port_dup(fd, MBX_RECV);
		ASSERT_LE(0, rfd);
		close(fd);
		eos += mbx_recv_nonblock(rfd, &c, 1, NULL) == -EPIPE;
		close(rfd);
		rounds++;
	}
	__atomic_store_n(&u.stop, 1, __ATOMIC_RELEASE);
	ASSERT_EQ(0, pthread_join(th, NULL));
	TH_LOG("%u creates raced an unlink", rounds);
	EXPECT_EQ(0, named)
		TH_LOG("%u of %u ports stayed named after their name was unlinked",
		       named, rounds);
	EXPECT_EQ(rounds, eos)
		TH_LOG("%u of %u ports never reached end of stream",
		       rounds - eos, rounds);
}

/* A receiver blocked on a port's only receive fd; its result when done. */
struct blocked {
	int fd;
	long ret;
};

static void *recv_blocked(void *arg)
{
	struct blocked *b = arg;
	struct mbx_recv r;
	char c;

	memset(&r, 0, sizeof(r));
	r.buf = (uintptr_t)&c;
	r.len = 1;
	r.flags = MBX_TIMEOUT;
	r.timeout_ns = 20 * 1000000000ULL;
	b->ret = t_ioctl(b->fd, MBX_IOC_RECV, &r);
	return NULL;
}

struct late_unlink {
	const char *name;
	unsigned int spin;
	int go;
};

static void *unlink_late(void *arg)
{
	struct late_unlink *u = arg;
	unsigned int i;

	while (!__atomic_load_n(&u->go, __ATOMIC_ACQUIRE))
		;
	for (i = 0; i < u->spin; i++)
		__asm__ volatile("" ::: "memory");
	mbx_port_unlink(MBX_DEV_AUTO, u->name);
	return NULL;
}

/*
 * An open by name racing the unlink of a port with no sender: either the
 * open fails (ENOENT) and the blocked receiver sees end of stream, or it
 * succeeds and the receiver keeps waiting while that fd may send.  (The
 * open counted its sender after the lookup: an unlink in between told the
 * receiver end of stream, and the open then returned an fd whose sends
 * nobody would read.)
 */
TEST(open_racing_unlink_never_follows_end_of_stream)
{
	unsigned int i, rounds = 0, opened = 0, bad = 0;
	struct late_unlink u;
	char name[MBX_NAME_LEN];
	struct mbx_port_create pc;
	struct blocked b;
	pthread_t rt, ut;
	uint64_t end;
	int fd, o;

	t_name(name, "open");
	end = t_now_ns() + RACE_NS;
	for (i = 0; i < 3000 && t_now_ns() < end; i++, rounds++) {
		memset(&pc, 0, sizeof(pc));
		pc.capacity = 4;
		pc.max_msg_size = 8;
		pc.mode = 0600;
		strcpy(pc.name, name);
		fd = mbx_port_create(MBX_DEV_AUTO, &pc);
		ASSERT_LE(0, fd);
		b.fd = mbx_port_dup(fd, MBX_RECV);
		ASSERT_LE(0, b.fd);
		close(fd);
		ASSERT_EQ(0, pthread_create(&rt, NULL, recv_blocked, &b));
		while (T_INFO(b.fd, recv_waiting) != 1)
			usleep(50);
		u.name = name;
		u.spin = (i * 7919) % 3000;
		u.go = 0;
		ASSERT_EQ(0, pthread_create(&ut, NULL, unlink_late, &u));
		__atomic_store_n(&u.go, 1, __ATOMIC_RELEASE);
		o = mbx_port_open(MBX_DEV_AUTO, name, MBX_SEND);
		ASSERT_EQ(0, pthread_join(ut, NULL));
		if (o >= 0) {
			/* The unlink has returned; the receiver must still wait. */
			opened++;
			bad += T_INFO(b.fd, recv_waiting) != 1;
			close(o);
		} else {
			ASSERT_EQ(-ENOENT, o);
		}
		ASSERT_EQ(0, pthread_join(rt, NULL));
		EXPECT_EQ(-EPIPE, b.ret);
		close(b.fd);
	}
	TH_LOG("%u opens raced an unlink, %u of them won", rounds, opened);
	EXPECT_EQ(0, bad)
		TH_LOG("%u opens succeeded after the receiver was told end of stream",
		       bad);
}

TEST_HARNESS_MAIN
