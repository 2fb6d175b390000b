// SPDX-License-Identifier: GPL-2.0
/*
 * mbxctl(1)'s command line and its edges: numbers are decimal digits and
 * nothing else, -h stands alone, options may follow NAME whatever the
 * environment says, a failed write to stdout is an error, help for an
 * unknown command is one, a huge timeout is not a short one, watch skips
 * the lines it missed while stopped, and create names /dev/mailbox when
 * the device is what it may not open.
 *
 * How mbxctl is run and its output read: mbxctl_run.h.
 */
#define _GNU_SOURCE
#include <signal.h>

#include "kselftest_harness.h"
#include "mbxctl_run.h"

FIXTURE(cli) {
	char name[MBX_NAME_LEN];
	struct run r;
};

FIXTURE_SETUP(cli)
{
	t_name(self->name, "ctlc");
}

FIXTURE_TEARDOWN(cli)
{
	t_unlink_all();
}

/* No space, no sign, no 0x, no octal: 010 is ten. */
TEST_F(cli, numbers_are_decimal_digits_only)
{
	static const char *const bad[] = {
		" 5", "+5", "-1", " -1", "0x10", "5 ", "", "\t7",
	};
	struct run *r = &self->r;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		MBXCTL(r, "create", self->name, "-c", bad[i]);
		EXPECT_EQ(1, r->status) TH_LOG("-c '%s': %s", bad[i], r->err);
		MBXCTL(r, "create", self->name, "-p", bad[i]);
		EXPECT_EQ(1, r->status) TH_LOG("-p '%s': %s", bad[i], r->err);
		MBXCTL(r, "watch", "no-such-port", "-k", bad[i]);
		EXPECT_EQ(1, r->status) TH_LOG("-k '%s': %s", bad[i], r->err);
		MBXCTL(r, "recv", "no-such-port", "-t", bad[i]);
		EXPECT_EQ(1, r->status) TH_LOG("-t '%s': %s", bad[i], r->err);
	}
	EXPECT_EQ(1, MBXCTL(r, "create", self->name, "-m", " 644")->status);
	EXPECT_EQ(1, MBXCTL(r, "create", self->name, "-m", "+644")->status);
	EXPECT_EQ(1, MBXCTL(r, "create", self->name, "-m", "-0")->status);
	EXPECT_EQ(1, MBXCTL(r, "create", self->name, "-s", " 1K")->status);

	MBXCTL(r, "create", self->name, "-c", "010", "-s", "0100", "-m", "0640");
	ASSERT_EQ(0, r->status) TH_LOG("%s", r->err);
	MBXCTL(r, "stat", self->name);
	EXPECT_STREQ("10", stat_field(r->out, "capacity"));
	EXPECT_STREQ("100", stat_field(r->out, "max_msg_size"));
	EXPECT_STREQ("0640", stat_field(r->out, "mode"));
}

/* "-hello" is no request for help: exit 1, and nothing sent. */
TEST_F(cli, h_stands_alone_and_help_errors_exit_1)
{
	struct run *r = &self->r;

	ASSERT_EQ(0, MBXCTL(r, "create", self->name)->status);
	MBXCTL(r, "send", self->name, "-hello");
	EXPECT_EQ(1, r->status);
	EXPECT_STREQ("", r->out);
	EXPECT_NE(NULL, strstr(r->err, "-h must stand alone")) TH_LOG("%s", r->err);
	MBXCTL(r, "send", self->name, "-nh", "x");
	EXPECT_EQ(1, r->status);
	MBXCTL(r, "stat", self->name);
	EXPECT_STREQ("0", stat_field(r->out, "queued"));
	MBXCTL(r, "send", self->name, "-h");
	EXPECT_EQ(0, r->status);
	EXPECT_EQ(0, strncmp(r->out, "Usage: mbxctl send ", 19));
	EXPECT_EQ(0, MBXCTL(r, "send", self->name, "--help")->status);

	MBXCTL(r, "ls", "--help=x");
	EXPECT_EQ(1, r->status);
	EXPECT_NE(NULL, strstr(r->err, "'--help' takes no value")) TH_LOG("%s", r->err);
	MBXCTL(r, "help", "nosuchcmd");
	EXPECT_EQ(1, r->status);
	EXPECT_STREQ("", r->out);
	EXPECT_NE(NULL, strstr(r->err, "unknown command 'nosuchcmd'"))
		TH_LOG("%s", r->err);
	EXPECT_EQ(1, MBXCTL(r, "help", "recv", "send")->status);
	EXPECT_EQ(0, MBXCTL(r, "help")->status);
	EXPECT_EQ(0, strncmp(r->out, "Usage: mbxctl COMMAND", 21));
}

/* A write error on stdout is an error, for help and version too. */
TEST_F(cli, a_failed_write_to_stdout_exits_6)
{
	static const char *const cmds[] = {
		"--help", "--version", "help recv", "ls --help", "ls", "ls -c",
	};
	struct run *r = &self->r;
	char want[128];
	size_t i;

	snprintf(want, sizeof(want), "mbxctl: write to stdout: %s\n",
		 strerror(ENOSPC));
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		sh_run(r, "mbxctl %s >/dev/full", cmds[i]);
		EXPECT_EQ(6, r->status) TH_LOG("%s: %s", cmds[i], r->err);
		EXPECT_STREQ(want, r->err) TH_LOG("%s", cmds[i]);
	}
	ASSERT_EQ(0, MBXCTL(r, "create", self->name)->status);
	sh_run(r, "mbxctl stat %s >/dev/full", self->name);
	EXPECT_EQ(6, r->status);
	EXPECT_STREQ(want, r->err);
}

/* The documented "options after NAME", with POSIXLY_CORRECT set too. */
TEST_F(cli, options_after_name_work_with_posixly_correct)
{
	struct run *r = &self->r;

	ASSERT_EQ(0, MBXCTL(r, "create", self->name)->status);
	sh_run(r,
	       "export POSIXLY_CORRECT=1; n=%s; mbxctl send $n hi -P 3 && mbxctl recv $n -n -P && mbxctl send $n -- -n",
	       self->name);
	EXPECT_EQ(0, r->status) TH_LOG("%s", r->err);
	EXPECT_STREQ("hi", r->out);
	EXPECT_STREQ("3\n", r->err);
	MBXCTL(r, "recv", self->name, "-n");
	EXPECT_STREQ("-n", r->out);
}

/* -t 18446744073709 (the largest) waits; it used to time out at once. */
TEST_F(cli, recv_with_the_largest_timeout_waits)
{
	struct run *r = &self->r;
	struct proc p;
	int fd;

	ASSERT_EQ(0, MBXCTL(r, "create", self->name)->status);
	fd = mbx_port_open(MBX_DEV_AUTO, self->name, MBX_SEND);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, spawn(&p, 0, false, NULL, 0, (const char *const[]){
		"recv", self->name, "-t", "18446744073709", NULL }));
	EXPECT_EQ(0, T_WAIT(fd, recv_waiting, 1));
	ASSERT_EQ(0, t_send_str(fd, "late", 0));
	finish(&p, r);
	EXPECT_EQ(0, r->status) TH_LOG("%s", r->err);
	EXPECT_STREQ("late", r->out);
	EXPECT_EQ(1, MBXCTL(r, "recv", self->name, "-t", "18446744073710")->status);
	close(fd);
}

/*
 * watch stopped for 1.5 s and continued prints one line at once, then
 * goes on one line per interval: no burst of the lines it missed.
 */
TEST_F(cli, watch_skips_the_lines_it_missed_while_stopped)
{
	struct run *r = &self->r;
	uint64_t resumed;
	struct proc p;

	ASSERT_EQ(0, MBXCTL(r, "create", self->name)->status);
	ASSERT_EQ(0, spawn(&p, 0, false, NULL, 0, (const char *const[]){
		"watch", self->name, "-i", "300", "-k", "6", NULL }));
	ASSERT_EQ(0, t_wait_sleeping(p.pid));
	ASSERT_EQ(0, kill(p.pid, SIGSTOP));
	ASSERT_EQ(0, wait_stopped(p.pid));
	t_sleep_ms(1500);
	resumed = t_now_ns();
	ASSERT_EQ(0, kill(p.pid, SIGCONT));
	finish(&p, r);
	EXPECT_EQ(0, r->status) TH_LOG("%s", r->err);
	log_output("mbxctl watch", r->out);
	EXPECT_EQ(7, count_lines(r->out));
	/* At least two whole intervals after the continue, not a burst. */
	EXPECT_LE(resumed + 550 * MS, p.start + r->ns);
}

/* create names the device when the device is what it may not open. */
TEST_F(cli, create_names_dev_mailbox_when_it_may_not_open_it)
{
	struct run *r = &self->r;
	struct stat st;
	char want[128];

	ASSERT_EQ(0, stat(MBX_DEVICE_PATH, &st));
	ASSERT_EQ(0, chmod(MBX_DEVICE_PATH, 0600));
	MBXCTL_AS(r, T_UID1, "create", self->name);
	chmod(MBX_DEVICE_PATH, st.st_mode & 07777);
	EXPECT_EQ(3, r->status);
	snprintf(want, sizeof(want), "mbxctl: %s: %s\n", MBX_DEVICE_PATH,
		 strerror(EACCES));
	EXPECT_STREQ(want, r->err);
	MBXCTL_AS(r, T_UID1, "ls");
	EXPECT_EQ(0, r->status) TH_LOG("mode not restored? %s", r->err);
}

TEST_HARNESS_MAIN
