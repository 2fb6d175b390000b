// SPDX-License-Identifier: GPL-2.0
/*
 * mbxctl(1) on topics, run as a user would run it: create -T, pub, sub
 * (policies, losses reported on stderr, end of stream, timeouts), and
 * topics in ls and stat, where an observer is never a subscriber.
 *
 * How mbxctl is run and its output read: mbxctl_run.h.
 */
#define _GNU_SOURCE
#include <signal.h>

#include "kselftest_harness.h"
#include "mbxctl_run.h"

FIXTURE(topic) {
	char name[MBX_NAME_LEN];
	char plain[MBX_NAME_LEN];
	struct run r;
	int pub;	/* a send-only fd of the topic: never a subscriber */
};

FIXTURE_SETUP(topic)
{
	t_name(self->name, "ctlt");
	t_name(self->plain, "ctlp");
	ASSERT_EQ(0, MBXCTL(&self->r, "create", self->name, "-T", "-c", "4")->status)
		TH_LOG("%s", self->r.err);
	self->pub = mbx_port_open(MBX_DEV_AUTO, self->name, MBX_SEND);
	ASSERT_LE(0, self->pub);
}

FIXTURE_TEARDOWN(topic)
{
	close(self->pub);
	t_unlink_all();
}

/* Start "mbxctl sub NAME ARGS..." in the background; wait until it is in. */
static int sub_start(struct proc *p, int pub, uint32_t subs,
		     const char *const *argv)
{
	int ret = spawn(p, 0, false, NULL, 0, argv);

	return ret ? ret : T_WAIT(pub, subscribers, subs);
}

TEST_F(topic, create_T_makes_a_topic_that_ls_and_stat_show)
{
	struct run *r = &self->r;
	char f[32][128];
	int n;

	MBXCTL(r, "stat", self->name);
	ASSERT_EQ(0, r->status) TH_LOG("%s", r->err);
	EXPECT_STREQ("named,topic", stat_field(r->out, "state"));
	/* stat's own fd took itself off the subscribers. */
	EXPECT_STREQ("0", stat_field(r->out, "subscribers"));

	MBXCTL(r, "ls");
	ASSERT_EQ(0, r->status);
	n = find_row(r->out, ' ', 1, self->name, f, 32);
	ASSERT_EQ(12, n) TH_LOG("%s", r->out);
	EXPECT_STREQ("topic", f[11]);

	MBXCTL(r, "ls", "-c", "-H");
	ASSERT_EQ(0, r->status);
	n = find_row(r->out, ',', 1, self->name, f, 32);
	/* 25 columns, then the 7 of rings */
	ASSERT_EQ(32, n) TH_LOG("%s", r->out);
	EXPECT_STREQ("1", f[23]);	/* topic */
	EXPECT_STREQ("0", f[24]);	/* subscribers */

	/* An ordinary port says neither. */
	ASSERT_EQ(0, MBXCTL(r, "create", self->plain)->status);
	MBXCTL(r, "stat", self->plain);
	EXPECT_STREQ("named", stat_field(r->out, "state"));
	EXPECT_EQ(NULL, stat_field(r->out, "subscribers"));
}

TEST_F(topic, every_subscriber_gets_every_line_published)
{
	const char *const argv[] = { "sub", self->name, "-k", "3", NULL };
	struct proc p1, p2;
	struct run r1, r2;

	ASSERT_EQ(0, sub_start(&p1, self->pub, 1, argv));
	ASSERT_EQ(0, sub_start(&p2, self->pub, 2, argv));
	MBXCTL_IN(&self->r, "one\ntwo\n", "pub", self->name);
	EXPECT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	MBXCTL(&self->r, "pub", self->name, "three");
	EXPECT_EQ(0, self->r.status);
	finish(&p1, &r1);
	finish(&p2, &r2);
	EXPECT_EQ(0, r1.status) TH_LOG("%s", r1.err);
	EXPECT_EQ(0, r2.status) TH_LOG("%s", r2.err);
	EXPECT_STREQ("one\ntwo\nthree\n", r1.out);
	EXPECT_STREQ("one\ntwo\nthree\n", r2.out);
	EXPECT_STREQ("", r1.err);
}

/* A late subscriber sees only what is published after it came. */
TEST_F(topic, a_late_subscriber_starts_with_the_next_message)
{
	const char *const argv[] = { "sub", self->name, "-k", "1", NULL };
	struct proc p;
	struct run r;
	int early;

	early = mbx_port_open(MBX_DEV_AUTO, self->name, MBX_RECV);
	ASSERT_LE(0, early);
	MBXCTL(&self->r, "pub", self->name, "before");
	ASSERT_EQ(0, self->r.status);
	ASSERT_EQ(0, sub_start(&p, self->pub, 2, argv));
	MBXCTL(&self->r, "pub", self->name, "after");
	finish(&p, &r);
	EXPECT_EQ(0, r.status);
	EXPECT_STREQ("after\n", r.out);
	close(early);
}

/*
 * A stopped drop-oldest subscriber with room for 2 misses 3 of 5
 * messages: it prints the 2 newest and says on stderr that 3 were
 * dropped.  The publisher never waited for it.
 */
TEST_F(topic, drop_oldest_subscriber_reports_its_losses)
{
	const char *const argv[] = { "sub", self->name, "-D", "-b", "2",
				     "-k", "2", NULL };
	struct proc p;
	struct run r;

	ASSERT_EQ(0, sub_start(&p, self->pub, 1, argv));
	ASSERT_EQ(0, t_wait_sleeping(p.pid));
	ASSERT_EQ(0, kill(p.pid, SIGSTOP));
	ASSERT_EQ(0, wait_stopped(p.pid));
	MBXCTL_IN(&self->r, "1\n2\n3\n4\n5\n", "pub", self->name, "-n");
	EXPECT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	ASSERT_EQ(0, kill(p.pid, SIGCONT));
	finish(&p, &r);
	EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
	EXPECT_STREQ("4\n5\n", r.out);
	EXPECT_NE(NULL, strstr(r.err, ": 3 messages dropped")) TH_LOG("%s", r.err);
}

/* A full block-policy subscriber makes a non-blocking publisher exit 4. */
TEST_F(topic, full_subscriber_makes_pub_n_exit_4_and_pub_t_time_out)
{
	struct run *r = &self->r;
	int sub, i;

	sub = mbx_port_open(MBX_DEV_AUTO, self->name, MBX_RECV);
	ASSERT_LE(0, sub);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, MBXCTL(r, "pub", self->name, "-n", "x")->status);
	MBXCTL(r, "pub", self->name, "-n", "y");
	EXPECT_EQ(4, r->status);
	EXPECT_TRUE(err_is(r, self->name, EAGAIN)) TH_LOG("%s", r->err);
	MBXCTL(r, "pub", self->name, "-t", "100", "y");
	EXPECT_EQ(4, r->status);
	EXPECT_TRUE(err_is(r, self->name, ETIMEDOUT)) TH_LOG("%s", r->err);
	close(sub);
	EXPECT_EQ(0, MBXCTL(r, "pub", self->name, "-n", "z")->status);
}

TEST_F(topic, sub_ends_at_shutdown_and_times_out_exit_4)
{
	const char *const argv[] = { "sub", self->name, NULL };
	struct run *r = &self->r;
	struct proc p;
	struct run rs;

	MBXCTL(r, "sub", self->name, "-t", "100");
	EXPECT_EQ(4, r->status);
	EXPECT_TRUE(err_is(r, self->name, ETIMEDOUT)) TH_LOG("%s", r->err);
	EXPECT_GE(r->ns, 100 * MS);

	ASSERT_EQ(0, sub_start(&p, self->pub, 1, argv));
	MBXCTL(r, "pub", self->name, "last");
	ASSERT_EQ(0, r->status);
	ASSERT_EQ(0, mbx_shutdown(self->pub));
	finish(&p, &rs);
	EXPECT_EQ(0, rs.status) TH_LOG("%s", rs.err);
	EXPECT_STREQ("last\n", rs.out);
	/* Asked for more than there was: end of stream is exit 5. */
	MBXCTL(r, "sub", self->name, "-k", "1");
	EXPECT_EQ(5, r->status);
}

TEST_F(topic, pub_and_sub_refuse_ordinary_ports_and_bad_options)
{
	struct run *r = &self->r;

	ASSERT_EQ(0, MBXCTL(r, "create", self->plain)->status);
	MBXCTL(r, "sub", self->plain, "-t", "10");
	EXPECT_EQ(6, r->status);
	EXPECT_NE(NULL, strstr(r->err, "is not a topic")) TH_LOG("%s", r->err);
	MBXCTL(r, "pub", self->plain, "x");
	EXPECT_EQ(6, r->status);
	MBXCTL(r, "stat", self->plain);
	EXPECT_STREQ("0", stat_field(r->out, "queued"));

	EXPECT_EQ(1, MBXCTL(r, "sub", self->name, "-k", "0")->status);
	EXPECT_EQ(1, MBXCTL(r, "sub", self->name, "-b", "x")->status);
	EXPECT_EQ(1, MBXCTL(r, "sub", self->name, "-t", "0")->status);
	EXPECT_EQ(1, MBXCTL(r, "sub")->status);
	EXPECT_EQ(1, MBXCTL(r, "pub", self->name, "-P", "32", "x")->status);
	EXPECT_EQ(1, MBXCTL(r, "pub", self->name, "a", "b")->status);
	/* A backlog larger than the topic's capacity is the kernel's EINVAL. */
	MBXCTL(r, "sub", self->name, "-b", "5", "-t", "10");
	EXPECT_EQ(6, r->status);
	EXPECT_EQ(2, MBXCTL(r, "sub", "no-such-topic", "-t", "10")->status);
	EXPECT_EQ(0, MBXCTL(r, "sub", "--help")->status);
	EXPECT_EQ(0, strncmp(r->out, "Usage: mbxctl sub ", 18));
	EXPECT_EQ(0, MBXCTL(r, "pub", "--help")->status);
	EXPECT_EQ(0, strncmp(r->out, "Usage: mbxctl pub ", 18));
}

/*
 * recv subscribes when it opens a topic, so it could only ever get what
 * is published after: it refuses a topic and points to sub instead.
 */
TEST_F(topic, recv_on_a_topic_is_refused_pointing_to_sub)
{
	struct run *r = &self->r;

	ASSERT_EQ(0, MBXCTL(r, "pub", self->name, "-n", "early")->status);
	MBXCTL(r, "recv", self->name, "-n");
	EXPECT_EQ(6, r->status);
	EXPECT_NE(NULL, strstr(r->err, "is a topic")) TH_LOG("%s", r->err);
	EXPECT_NE(NULL, strstr(r->err, "mbxctl sub")) TH_LOG("%s", r->err);
	EXPECT_EQ(1, count_lines(r->err));
	EXPECT_STREQ("", r->out);
	/* It did not wait either. */
	MBXCTL(r, "recv", self->name, "-t", "5000");
	EXPECT_EQ(6, r->status);
	EXPECT_GT(2000 * MS, r->ns);
}

/* A write error on stdout is reported as what it is, not as EIO. */
TEST_F(topic, sub_reports_the_real_errno_of_a_stdout_write_error)
{
	const char *const argv[] = {
		"mbxctl sub \"$0\" -k 1 >/dev/full", self->name, NULL,
	};
	struct proc p;
	struct run r;
	char want[256];

	/* sh -c CMD NAME: $0 is the topic's name. */
	ASSERT_EQ(0, spawn(&p, 0, true, NULL, 0, argv));
	ASSERT_EQ(0, T_WAIT(self->pub, subscribers, 1));
	ASSERT_EQ(0, MBXCTL(&self->r, "pub", self->name, "x")->status);
	finish(&p, &r);
	EXPECT_EQ(6, r.status);
	snprintf(want, sizeof(want), "mbxctl: write to stdout: %s\n",
		 strerror(ENOSPC));
	EXPECT_STREQ(want, r.err);
}

TEST_HARNESS_MAIN
