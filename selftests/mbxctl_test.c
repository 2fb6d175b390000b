// SPDX-License-Identifier: GPL-2.0
/*
 * mbxctl(1), run as a user would run it: every subcommand, its output and
 * its exit status (0 ok, 1 usage, 2 no such port, 3 permission, 4 timed
 * out or would block, 5 end of stream or shut down, 6 other), with the
 * "mbxctl: WHAT: REASON" message on stderr.
 *
 * How mbxctl is run and its output read: mbxctl_run.h.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "mbxctl_run.h"

FIXTURE(mbxctl) {
	char name[MBX_NAME_LEN];
	char name2[MBX_NAME_LEN];
	struct run r;
};

FIXTURE_SETUP(mbxctl)
{
	t_name(self->name, "ctl");
	t_name(self->name2, "ctl2");
}

FIXTURE_TEARDOWN(mbxctl)
{
	t_unlink_all();
}

/* ---- help and usage ---------------------------------------------------- */

TEST_F(mbxctl, help_for_every_subcommand_and_usage_errors_exit_1)
{
	static const char *const cmds[] = {
		"ls", "stat", "create", "unlink", "send", "recv", "watch",
		"pub", "sub",
	};
	struct run *r = &self->r;
	char want[64];
	size_t i;

	MBXCTL(r, "--help");
	ASSERT_EQ(0, r->status) TH_LOG("mbxctl not found? %s", r->err);
	EXPECT_NE(NULL, strstr(r->out, "Exit status:"));
	EXPECT_NE(NULL, strstr(r->out, "5  end of stream"));
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		MBXCTL(r, cmds[i], "--help");
		EXPECT_EQ(0, r->status);
		snprintf(want, sizeof(want), "Usage: mbxctl %s ", cmds[i]);
		EXPECT_EQ(0, strncmp(r->out, want, strlen(want)))
			TH_LOG("%s --help: %s", cmds[i], r->out);
		EXPECT_NE(NULL, strstr(r->out, "4  timed out or would block"));
		EXPECT_STREQ("", r->err);
	}
	MBXCTL(r, "help", "recv");
	EXPECT_EQ(0, r->status);
	EXPECT_EQ(0, strncmp(r->out, "Usage: mbxctl recv ", 19));

	run_v(r, 0, false, NULL, 0, (const char *const[]){ NULL });
	EXPECT_EQ(1, r->status);
	MBXCTL(r, "frobnicate");
	EXPECT_EQ(1, r->status);
	EXPECT_NE(NULL, strstr(r->err, "unknown command 'frobnicate'"));
	MBXCTL(r, "send");
	EXPECT_EQ(1, r->status);
	MBXCTL(r, "send", self->name, "-P", "32", "x");
	EXPECT_EQ(1, r->status);
	MBXCTL(r, "send", self->name, "a", "b");
	EXPECT_EQ(1, r->status);
	MBXCTL(r, "recv", self->name, "-t", "soon");
	EXPECT_EQ(1, r->status);
	MBXCTL(r, "recv", self->name, "-x");
	EXPECT_EQ(1, r->status);
	EXPECT_NE(NULL, strstr(r->err, "mbxctl: recv: unknown option -x"));
	MBXCTL(r, "create", self->name, "-m", "8");
	EXPECT_EQ(1, r->status);
	MBXCTL(r, "create", self->name, "-c");
	EXPECT_EQ(1, r->status);
	MBXCTL(r, "watch", self->name, "-i", "0");
	EXPECT_EQ(1, r->status);
	MBXCTL(r, "stat", "");
	EXPECT_EQ(1, r->status);
	MBXCTL(r, "stat",
	       "a234567890123456789012345678901234567890123456789012345678901234");
	EXPECT_EQ(1, r->status);
	MBXCTL(r, "ls", "extra");
	EXPECT_EQ(1, r->status);
	/* Nothing was created by any of these. */
	MBXCTL(r, "stat", self->name);
	EXPECT_EQ(2, r->status);
	MBXCTL(r, "--version");
	EXPECT_EQ(0, r->status);
	EXPECT_EQ(0, strncmp(r->out, "mbxctl ", 7));
}

/* ---- create, stat, unlink ---------------------------------------------- */

TEST_F(mbxctl, create_then_stat_prints_every_field)
{
	static const char *const keys[] = {
		"name", "id", "state", "access", "uid", "gid", "mode",
		"capacity", "max_msg_size", "pool_size", "pool_free", "queued",
		"senders", "receivers", "send_waiting", "recv_waiting", "sent",
		"received", "bytes_sent", "bytes_received", "send_waits",
		"recv_waits",
	};
	struct mbx_port_info info;
	struct run *r = &self->r;
	char id[32];
	size_t i;
	int fd;

	MBXCTL(r, "create", self->name, "-c", "8", "-s", "512", "-m", "0640");
	ASSERT_EQ(0, r->status) TH_LOG("%s", r->err);
	EXPECT_STREQ("", r->out);
	EXPECT_STREQ("", r->err);

	fd = mbx_port_open(MBX_DEV_AUTO, self->name, MBX_SEND);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_info(fd, &info));
	ASSERT_EQ(0, t_send_str(fd, "abc", 0));

	MBXCTL(r, "stat", self->name);
	ASSERT_EQ(0, r->status) TH_LOG("%s", r->err);
	EXPECT_EQ((int)ARRAY_SIZE(keys), count_lines(r->out)) TH_LOG("%s", r->out);
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		const char *key = keys[i];

		EXPECT_TRUE(!!stat_field(r->out, key)) TH_LOG("no %s", key);
	}
	snprintf(id, sizeof(id), "%llu", info.id);
	EXPECT_STREQ(self->name, stat_field(r->out, "name"));
	EXPECT_STREQ(id, stat_field(r->out, "id"));
	EXPECT_STREQ("named", stat_field(r->out, "state"));
	EXPECT_STREQ("recv", stat_field(r->out, "access"));
	EXPECT_STREQ("0 (root)", stat_field(r->out, "uid"));
	EXPECT_STREQ("0 (root)", stat_field(r->out, "gid"));
	EXPECT_STREQ("0640", stat_field(r->out, "mode"));
	EXPECT_STREQ("8", stat_field(r->out, "capacity"));
	EXPECT_STREQ("512", stat_field(r->out, "max_msg_size"));
	EXPECT_STREQ("0", stat_field(r->out, "pool_size"));
	EXPECT_STREQ("1", stat_field(r->out, "queued"));
	/* Our send fd, and the receive fd stat itself opened. */
	EXPECT_STREQ("1", stat_field(r->out, "senders"));
	EXPECT_STREQ("1", stat_field(r->out, "receivers"));
	EXPECT_STREQ("1", stat_field(r->out, "sent"));
	EXPECT_STREQ("3", stat_field(r->out, "bytes_sent"));
	EXPECT_STREQ("0", stat_field(r->out, "received"));
	close(fd);
}

TEST_F(mbxctl, create_defaults_and_pool)
{
	unsigned long long def = 8192;
	struct run *r = &self->r;
	char want[32];

	t_param_get("default_msg_size", &def);
	/* The child runs with umask 022: 0666 & ~022. */
	MBXCTL(r, "create", self->name);
	ASSERT_EQ(0, r->status) TH_LOG("%s", r->err);
	MBXCTL(r, "stat", self->name);
	ASSERT_EQ(0, r->status);
	EXPECT_STREQ("0644", stat_field(r->out, "mode"));
	EXPECT_STREQ("16", stat_field(r->out, "capacity"));
	snprintf(want, sizeof(want), "%llu", def);
	EXPECT_STREQ(want, stat_field(r->out, "max_msg_size"));

	MBXCTL(r, "create", self->name2, "-p", "64K", "-c", "0", "-s", "1k");
	ASSERT_EQ(0, r->status) TH_LOG("%s", r->err);
	MBXCTL(r, "stat", self->name2);
	ASSERT_EQ(0, r->status);
	EXPECT_STREQ("65536", stat_field(r->out, "pool_size"));
	EXPECT_STREQ("65536", stat_field(r->out, "pool_free"));
	EXPECT_STREQ("0", stat_field(r->out, "capacity"));
	EXPECT_STREQ("1024", stat_field(r->out, "max_msg_size"));
}

TEST_F(mbxctl, create_topic_and_stat_counts_subscribers)
{
	struct run *r = &self->r;
	int sub;

	MBXCTL(r, "create", self->name, "-T", "-c", "4");
	ASSERT_EQ(0, r->status) TH_LOG("%s", r->err);
	MBXCTL(r, "stat", self->name);
	ASSERT_EQ(0, r->status) TH_LOG("%s", r->err);
	EXPECT_STREQ("0", stat_field(r->out, "subscribers")) TH_LOG("%s", r->out);
	sub = mbx_port_open(MBX_DEV_AUTO, self->name, MBX_RECV | MBX_NONBLOCK);
	ASSERT_LE(0, sub);
	MBXCTL(r, "stat", self->name);
	EXPECT_STREQ("1", stat_field(r->out, "subscribers")) TH_LOG("%s", r->out);
	/* send publishes to the subscriber */
	MBXCTL(r, "send", self->name, "hi");
	ASSERT_EQ(0, r->status) TH_LOG("%s", r->err);
	EXPECT_EQ(1, T_INFO(sub, sub_depth));
	close(sub);
}

TEST_F(mbxctl, create_ring_then_stat_and_ls_show_its_positions)
{
	struct run *r = &self->r;
	struct mbx_ring *p;
	char f[32][128];
	int fd;

	MBXCTL(r, "create", self->name, "-R", "16K");
	ASSERT_EQ(0, r->status) TH_LOG("%s", r->err);
	fd = mbx_port_open(MBX_DEV_AUTO, self->name, MBX_SEND);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, mbx_ring_attach(fd, MBX_RING_PRODUCER, &p));
	ASSERT_EQ(0, mbx_ring_send(p, "hello", 5, 0));
	MBXCTL(r, "stat", self->name);
	ASSERT_EQ(0, r->status) TH_LOG("%s", r->err);
	EXPECT_STREQ("named,ring", stat_field(r->out, "state"));
	EXPECT_STREQ("16384", stat_field(r->out, "ring_size"));
	EXPECT_STREQ("16", stat_field(r->out, "ring_produced"));
	EXPECT_STREQ("0", stat_field(r->out, "ring_consumed"));
	EXPECT_STREQ("16", stat_field(r->out, "ring_used"));
	EXPECT_STREQ("0x1 (producer)", stat_field(r->out, "ring_status"))
		TH_LOG("%s", r->out);
	MBXCTL(r, "ls", "-c", "-H");
	ASSERT_EQ(0, r->status) TH_LOG("%s", r->err);
	ASSERT_EQ(32, find_row(r->out, ',', 1, self->name, f, 32))
		TH_LOG("%s", r->out);
	EXPECT_STREQ("1", f[25]);
	EXPECT_STREQ("16384", f[26]);
	EXPECT_STREQ("16", f[27]);
	EXPECT_STREQ("0", f[28]);
	EXPECT_STREQ("0x1", f[31]);
	MBXCTL(r, "ls");
	ASSERT_EQ(0, r->status) TH_LOG("%s", r->err);
	EXPECT_NE(NULL, strstr(r->out, "16/16K")) TH_LOG("%s", r->out);
	EXPECT_NE(NULL, strstr(r->out, "ring")) TH_LOG("%s", r->out);
	/* A ring takes nothing else. */
	MBXCTL(r, "create", "mbxctl-ring-bad", "-R", "3000");
	EXPECT_EQ(6, r->status);
	mbx_ring_detach(p);
	close(fd);
}

TEST_F(mbxctl, create_existing_name_exits_6)
{
	struct run *r = &self->r;

	ASSERT_EQ(0, MBXCTL(r, "create", self->name)->status);
	MBXCTL(r, "create", self->name);
	EXPECT_EQ(6, r->status);
	EXPECT_TRUE(err_is(r, self->name, EEXIST)) TH_LOG("%s", r->err);
}

TEST_F(mbxctl, unlink_removes_and_missing_ports_exit_2)
{
	struct run *r = &self->r;

	ASSERT_EQ(0, MBXCTL(r, "create", self->name)->status);
	ASSERT_EQ(0, MBXCTL(r, "create", self->name2)->status);
	MBXCTL(r, "unlink", self->name);
	EXPECT_EQ(0, r->status);
	EXPECT_STREQ("", r->err);
	EXPECT_EQ(-ENOENT, mbx_port_open(MBX_DEV_AUTO, self->name, MBX_RECV));

	MBXCTL(r, "unlink", self->name);
	EXPECT_EQ(2, r->status);
	EXPECT_TRUE(err_is(r, self->name, ENOENT)) TH_LOG("%s", r->err);

	/* Several names: every one is tried, the first failure decides. */
	MBXCTL(r, "unlink", self->name, self->name2);
	EXPECT_EQ(2, r->status);
	EXPECT_EQ(-ENOENT, mbx_port_open(MBX_DEV_AUTO, self->name2, MBX_RECV));
}

TEST_F(mbxctl, every_subcommand_on_a_missing_port_exits_2)
{
	struct run *r = &self->r;

	MBXCTL(r, "stat", self->name);
	EXPECT_EQ(2, r->status);
	EXPECT_TRUE(err_is(r, self->name, ENOENT)) TH_LOG("%s", r->err);
	MBXCTL(r, "send", self->name, "x");
	EXPECT_EQ(2, r->status);
	EXPECT_TRUE(err_is(r, self->name, ENOENT)) TH_LOG("%s", r->err);
	MBXCTL(r, "recv", self->name, "-n");
	EXPECT_EQ(2, r->status);
	EXPECT_TRUE(err_is(r, self->name, ENOENT)) TH_LOG("%s", r->err);
	MBXCTL(r, "watch", self->name, "-k", "1");
	EXPECT_EQ(2, r->status);
	EXPECT_STREQ("", r->out);
	MBXCTL(r, "unlink", self->name);
	EXPECT_EQ(2, r->status);
}

/* ---- ls ------------------------------------------------------------------- */

TEST_F(mbxctl, ls_lists_ports_with_owner_mode_and_queue)
{
	char f[16][128], id[32];
	struct mbx_port_info info;
	struct run *r = &self->r;
	int fd, n;

	ASSERT_EQ(0, MBXCTL(r, "create", self->name, "-c", "8", "-s", "512",
			    "-m", "640")->status);
	ASSERT_EQ(0, MBXCTL(r, "create", self->name2, "-p", "64K")->status);
	fd = mbx_port_open(MBX_DEV_AUTO, self->name, MBX_SEND);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_str(fd, "one", 0));
	ASSERT_EQ(0, t_send_str(fd, "two", 1));
	ASSERT_EQ(0, t_info(fd, &info));
	snprintf(id, sizeof(id), "%llu", info.id);

	MBXCTL(r, "ls");
	ASSERT_EQ(0, r->status) TH_LOG("%s", r->err);
	EXPECT_STREQ("", r->err);
	log_output("mbxctl ls", r->out);
	n = find_row(r->out, ' ', 0, "ID", f, 16);
	ASSERT_EQ(12, n);
	EXPECT_STREQ("NAME", f[1]);
	EXPECT_STREQ("POOL", f[10]);

	/* ID NAME OWNER GROUP MODE CAP MSGSIZE QUEUED SND RCV POOL */
	n = find_row(r->out, ' ', 1, self->name, f, 16);
	ASSERT_EQ(11, n) TH_LOG("%s", r->out);
	EXPECT_STREQ(id, f[0]);
	EXPECT_STREQ("root", f[2]);
	EXPECT_STREQ("root", f[3]);
	EXPECT_STREQ("0640", f[4]);
	EXPECT_STREQ("8", f[5]);
	EXPECT_STREQ("512", f[6]);
	EXPECT_STREQ("2", f[7]);
	EXPECT_STREQ("1", f[8]);
	EXPECT_STREQ("0", f[9]);
	EXPECT_STREQ("-", f[10]);
	n = find_row(r->out, ' ', 1, self->name2, f, 16);
	ASSERT_EQ(11, n);
	EXPECT_STREQ("16", f[5]);
	EXPECT_STREQ("0/64K", f[10]);

	/* Shut down: the status column says so. */
	ASSERT_EQ(0, mbx_shutdown(fd));
	MBXCTL(r, "ls", "-H", "-n");
	ASSERT_EQ(0, r->status);
	EXPECT_EQ(0, find_row(r->out, ' ', 0, "ID", f, 16));
	n = find_row(r->out, ' ', 1, self->name, f, 16);
	ASSERT_EQ(12, n);
	EXPECT_STREQ("0", f[2]);
	EXPECT_STREQ("shutdown", f[11]);
	close(fd);
}

TEST_F(mbxctl, ls_csv_has_every_counter)
{
	static const char *const head[] = {
		"id", "name", "uid", "owner", "gid", "group", "mode", "capacity",
		"max_msg_size", "queued", "senders", "receivers",
		"send_waiting", "recv_waiting", "pool_size", "pool_used", "sent",
		"received", "bytes_sent", "bytes_received", "send_waits",
		"recv_waits", "shutdown", "topic", "subscribers", "ring",
		"ring_size", "ring_produced", "ring_consumed", "ring_pflags",
		"ring_cflags", "ring_status",
	};
	struct run *r = &self->r;
	char f[32][128], buf[16];
	size_t i;
	int fd, n;

	ASSERT_EQ(0, MBXCTL(r, "create", self->name, "-c", "4", "-s", "100",
			    "-p", "8192", "-m", "0600")->status);
	fd = mbx_port_open(MBX_DEV_AUTO, self->name, MBX_SEND | MBX_RECV);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_str(fd, "12345", 0));
	ASSERT_EQ(0, t_send_str(fd, "678", 0));
	ASSERT_EQ(5, t_recv_str(fd, buf, sizeof(buf), NULL));

	MBXCTL(r, "ls", "-c");
	ASSERT_EQ(0, r->status) TH_LOG("%s", r->err);
	EXPECT_EQ(0, strncmp(r->out, "id,name,", 8)) TH_LOG("%s", r->out);
	n = find_row(r->out, ',', 0, "id", f, 32);
	ASSERT_EQ((int)ARRAY_SIZE(head), n);
	for (i = 0; i < ARRAY_SIZE(head); i++)
		EXPECT_STREQ(head[i], f[i]);
	n = find_row(r->out, ',', 1, self->name, f, 32);
	ASSERT_EQ(32, n) TH_LOG("%s", r->out);
	EXPECT_STREQ("0", f[2]);
	EXPECT_STREQ("root", f[3]);
	EXPECT_STREQ("0600", f[6]);
	EXPECT_STREQ("4", f[7]);
	EXPECT_STREQ("100", f[8]);
	EXPECT_STREQ("1", f[9]);	/* queued */
	EXPECT_STREQ("1", f[10]);	/* senders */
	EXPECT_STREQ("1", f[11]);	/* receivers */
	EXPECT_STREQ("8192", f[14]);
	EXPECT_STREQ("0", f[15]);
	EXPECT_STREQ("2", f[16]);	/* sent */
	EXPECT_STREQ("1", f[17]);	/* received */
	EXPECT_STREQ("8", f[18]);	/* bytes sent */
	EXPECT_STREQ("5", f[19]);	/* bytes received */
	EXPECT_STREQ("0", f[22]);
	EXPECT_STREQ("0", f[23]);	/* not a topic */
	EXPECT_STREQ("0", f[25]);	/* not a ring */
	EXPECT_STREQ("0", f[26]);

	MBXCTL(r, "ls", "-c", "-H");
	ASSERT_EQ(0, r->status);
	EXPECT_EQ(NULL, strstr(r->out, "id,name"));
	EXPECT_NE(0, find_row(r->out, ',', 1, self->name, f, 32));
	close(fd);
}

/* ---- send and recv ------------------------------------------------------- */

TEST_F(mbxctl, echo_hi_pipe_send_then_recv_round_trip)
{
	struct run *r = &self->r;
	char cmd[256];

	ASSERT_EQ(0, MBXCTL(r, "create", self->name)->status);
	snprintf(cmd, sizeof(cmd), "echo hi | mbxctl send %s && mbxctl recv %s",
		 self->name, self->name);
	run_v(r, 0, true, NULL, 0, (const char *const[]){ cmd, NULL });
	EXPECT_EQ(0, r->status) TH_LOG("%s", r->err);
	EXPECT_STREQ("hi\n", r->out);
	EXPECT_STREQ("", r->err);

	/* The same with stdin fed directly. */
	MBXCTL_IN(r, "hi\n", "send", self->name);
	EXPECT_EQ(0, r->status);
	MBXCTL(r, "recv", self->name);
	EXPECT_EQ(0, r->status);
	EXPECT_EQ(3, r->out_len);
	EXPECT_STREQ("hi\n", r->out);
}

TEST_F(mbxctl, send_argument_priorities_and_recv_P)
{
	struct run *r = &self->r;

	ASSERT_EQ(0, MBXCTL(r, "create", self->name)->status);
	ASSERT_EQ(0, MBXCTL(r, "send", self->name, "low", "-P", "3")->status);
	ASSERT_EQ(0, MBXCTL(r, "send", "-P", "31", self->name, "high")->status);
	ASSERT_EQ(0, MBXCTL(r, "send", self->name, "zero")->status);
	/* A message that looks like an option, after "--". */
	ASSERT_EQ(0, MBXCTL(r, "send", self->name, "--", "-n")->status);

	MBXCTL(r, "recv", "-P", self->name);
	EXPECT_EQ(0, r->status);
	EXPECT_STREQ("high", r->out);
	EXPECT_STREQ("31\n", r->err);
	MBXCTL(r, "recv", self->name, "-P");
	EXPECT_STREQ("low", r->out);
	EXPECT_STREQ("3\n", r->err);
	MBXCTL(r, "recv", self->name);
	EXPECT_STREQ("zero", r->out);
	EXPECT_STREQ("", r->err);
	MBXCTL(r, "recv", self->name, "-n");
	EXPECT_EQ(0, r->status);
	EXPECT_STREQ("-n", r->out);
}

TEST_F(mbxctl, binary_and_empty_messages_pass_unchanged)
{
	struct run *r = &self->r;
	unsigned char msg[3000];
	size_t i;

	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (unsigned char)(i * 7);	/* NULs included */
	ASSERT_EQ(0, MBXCTL(r, "create", self->name, "-s", "4096")->status);
	run_v(r, 0, false, msg, sizeof(msg),
	      (const char *const[]){ "send", self->name, NULL });
	ASSERT_EQ(0, r->status) TH_LOG("%s", r->err);
	MBXCTL(r, "recv", self->name);
	ASSERT_EQ(0, r->status);
	ASSERT_EQ(sizeof(msg), r->out_len);
	EXPECT_EQ(0, memcmp(msg, r->out, sizeof(msg)));

	/* Empty stdin and an empty argument: empty messages. */
	ASSERT_EQ(0, MBXCTL(r, "send", self->name)->status);
	ASSERT_EQ(0, MBXCTL(r, "send", self->name, "")->status);
	MBXCTL(r, "stat", self->name);
	EXPECT_STREQ("2", stat_field(r->out, "queued"));
	MBXCTL(r, "recv", self->name);
	EXPECT_EQ(0, r->status);
	EXPECT_EQ(0, r->out_len);
	MBXCTL(r, "recv", self->name, "-n");
	EXPECT_EQ(0, r->status);
	EXPECT_EQ(0, r->out_len);
}

TEST_F(mbxctl, message_too_long_exits_6)
{
	struct run *r = &self->r;

	ASSERT_EQ(0, MBXCTL(r, "create", self->name, "-s", "16")->status);
	MBXCTL(r, "send", self->name, "0123456789abcdefX");
	EXPECT_EQ(6, r->status);
	EXPECT_TRUE(err_is(r, self->name, EMSGSIZE)) TH_LOG("%s", r->err);
	MBXCTL_IN(r, "0123456789abcdef0123456789abcdef", "send", self->name);
	EXPECT_EQ(6, r->status);
	EXPECT_NE(NULL, strstr(r->err, strerror(EMSGSIZE)));
	MBXCTL(r, "send", self->name, "0123456789abcdef");
	EXPECT_EQ(0, r->status);
	MBXCTL(r, "stat", self->name);
	EXPECT_STREQ("1", stat_field(r->out, "queued"));
}

TEST_F(mbxctl, timeouts_and_nonblocking_exit_4)
{
	struct run *r = &self->r;

	ASSERT_EQ(0, MBXCTL(r, "create", self->name, "-c", "1")->status);

	MBXCTL(r, "recv", self->name, "-n");
	EXPECT_EQ(4, r->status);
	EXPECT_TRUE(err_is(r, self->name, EAGAIN)) TH_LOG("%s", r->err);
	EXPECT_STREQ("", r->out);
	MBXCTL(r, "recv", self->name, "-t", "300");
	EXPECT_EQ(4, r->status);
	EXPECT_TRUE(err_is(r, self->name, ETIMEDOUT)) TH_LOG("%s", r->err);
	EXPECT_LE(300 * MS, r->ns);
	MBXCTL(r, "recv", self->name, "-t", "0");
	EXPECT_EQ(4, r->status);

	/* Full queue. */
	ASSERT_EQ(0, MBXCTL(r, "send", self->name, "first")->status);
	MBXCTL(r, "send", self->name, "-n", "second");
	EXPECT_EQ(4, r->status);
	EXPECT_TRUE(err_is(r, self->name, EAGAIN)) TH_LOG("%s", r->err);
	MBXCTL(r, "send", self->name, "-t", "200", "second");
	EXPECT_EQ(4, r->status);
	EXPECT_TRUE(err_is(r, self->name, ETIMEDOUT)) TH_LOG("%s", r->err);
	EXPECT_LE(200 * MS, r->ns);
	MBXCTL(r, "recv", self->name, "-t", "200");
	EXPECT_EQ(0, r->status);
	EXPECT_STREQ("first", r->out);
	MBXCTL(r, "recv", self->name, "-n");
	EXPECT_EQ(4, r->status);
}

TEST_F(mbxctl, blocking_recv_is_woken_by_send)
{
	struct run *r = &self->r;
	struct proc p;
	int fd;

	ASSERT_EQ(0, MBXCTL(r, "create", self->name)->status);
	fd = mbx_port_open(MBX_DEV_AUTO, self->name, MBX_SEND);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, spawn(&p, 0, false, NULL, 0,
			   (const char *const[]){ "recv", self->name, NULL }));
	ASSERT_EQ(0, T_WAIT(fd, recv_waiting, 1));
	MBXCTL(r, "send", self->name, "wake up");
	EXPECT_EQ(0, r->status);
	finish(&p, r);
	EXPECT_EQ(0, r->status);
	EXPECT_STREQ("wake up", r->out);
	close(fd);
}

TEST_F(mbxctl, shutdown_port_exits_5)
{
	struct run *r = &self->r;
	int fd;

	ASSERT_EQ(0, MBXCTL(r, "create", self->name)->status);
	fd = mbx_port_open(MBX_DEV_AUTO, self->name, MBX_SEND);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_str(fd, "last", 0));
	ASSERT_EQ(0, mbx_shutdown(fd));

	MBXCTL(r, "send", self->name, "late");
	EXPECT_EQ(5, r->status);
	EXPECT_TRUE(err_is(r, self->name, EPIPE)) TH_LOG("%s", r->err);
	/* What was queued still comes out, then end of stream. */
	MBXCTL(r, "recv", self->name);
	EXPECT_EQ(0, r->status);
	EXPECT_STREQ("last", r->out);
	MBXCTL(r, "recv", self->name);
	EXPECT_EQ(5, r->status);
	EXPECT_TRUE(err_is(r, self->name, EPIPE)) TH_LOG("%s", r->err);
	MBXCTL(r, "stat", self->name);
	EXPECT_STREQ("named,shutdown", stat_field(r->out, "state"));
	close(fd);
}

/* ---- permissions ------------------------------------------------------- */

TEST_F(mbxctl, other_users_get_exit_3)
{
	struct run *r = &self->r;

	/* uid 1000 creates a private port and a world-writable one. */
	MBXCTL_AS(r, T_UID1, "create", self->name, "-m", "0600");
	ASSERT_EQ(0, r->status) TH_LOG("%s", r->err);
	MBXCTL_AS(r, T_UID1, "create", self->name2, "-m", "0622");
	ASSERT_EQ(0, r->status) TH_LOG("%s", r->err);

	MBXCTL_AS(r, T_UID1, "stat", self->name);
	EXPECT_EQ(0, r->status);
	EXPECT_STREQ("1000 (mbxuser)", stat_field(r->out, "uid"));
	EXPECT_STREQ("1000 (mbxuser)", stat_field(r->out, "gid"));

	MBXCTL_AS(r, T_UID2, "stat", self->name);
	EXPECT_EQ(3, r->status);
	EXPECT_TRUE(err_is(r, self->name, EACCES)) TH_LOG("%s", r->err);
	MBXCTL_AS(r, T_UID2, "send", self->name, "x");
	EXPECT_EQ(3, r->status);
	EXPECT_TRUE(err_is(r, self->name, EACCES)) TH_LOG("%s", r->err);
	MBXCTL_AS(r, T_UID2, "recv", self->name, "-n");
	EXPECT_EQ(3, r->status);
	MBXCTL_AS(r, T_UID2, "watch", self->name, "-k", "1");
	EXPECT_EQ(3, r->status);
	MBXCTL_AS(r, T_UID2, "unlink", self->name);
	EXPECT_EQ(3, r->status);
	EXPECT_TRUE(err_is(r, self->name, EPERM)) TH_LOG("%s", r->err);

	/* Write-only for others: send works, receive does not, stat sends. */
	MBXCTL_AS(r, T_UID2, "send", self->name2, "from 1001");
	EXPECT_EQ(0, r->status) TH_LOG("%s", r->err);
	MBXCTL_AS(r, T_UID2, "recv", self->name2, "-n");
	EXPECT_EQ(3, r->status);
	MBXCTL_AS(r, T_UID2, "stat", self->name2);
	EXPECT_EQ(0, r->status);
	EXPECT_STREQ("send", stat_field(r->out, "access"));
	EXPECT_STREQ("1", stat_field(r->out, "queued"));
	MBXCTL_AS(r, T_UID1, "recv", self->name2, "-n");
	EXPECT_EQ(0, r->status);
	EXPECT_STREQ("from 1001", r->out);

	/* Everyone may list; the owner may unlink. */
	MBXCTL_AS(r, T_UID2, "ls");
	EXPECT_EQ(0, r->status) TH_LOG("%s", r->err);
	MBXCTL_AS(r, T_UID1, "unlink", self->name, self->name2);
	EXPECT_EQ(0, r->status) TH_LOG("%s", r->err);
}

/* ---- watch --------------------------------------------------------------- */

TEST_F(mbxctl, watch_prints_count_lines_of_counters)
{
	struct run *r = &self->r;
	char f[16][128];
	int n;

	ASSERT_EQ(0, MBXCTL(r, "create", self->name, "-p", "8K")->status);
	ASSERT_EQ(0, MBXCTL(r, "send", self->name, "a")->status);
	ASSERT_EQ(0, MBXCTL(r, "send", self->name, "bb")->status);
	ASSERT_EQ(0, MBXCTL(r, "send", self->name, "ccc")->status);

	MBXCTL(r, "watch", self->name, "-i", "100", "-k", "3");
	ASSERT_EQ(0, r->status) TH_LOG("%s", r->err);
	log_output("mbxctl watch", r->out);
	EXPECT_EQ(4, count_lines(r->out));
	EXPECT_LE(200 * MS, r->ns);
	n = find_row(r->out, ' ', 0, "TIME", f, 16);
	ASSERT_EQ(14, n);
	EXPECT_STREQ("QUEUED", f[1]);
	EXPECT_STREQ("SENT/s", f[8]);
	/* TIME QUEUED SND RCV SWAIT RWAIT SENT RECEIVED 4 rates POOL */
	n = find_row(r->out, ' ', 0, "0.0", f, 16);
	ASSERT_EQ(13, n) TH_LOG("%s", r->out);
	EXPECT_STREQ("3", f[1]);
	EXPECT_STREQ("0", f[2]);
	EXPECT_STREQ("1", f[3]);	/* watch's own receive fd */
	EXPECT_STREQ("3", f[6]);
	EXPECT_STREQ("0", f[7]);
	EXPECT_STREQ("-", f[8]);
	EXPECT_STREQ("0/8K", f[12]);
}

TEST_HARNESS_MAIN
