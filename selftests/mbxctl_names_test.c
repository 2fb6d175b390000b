// SPDX-License-Identifier: GPL-2.0
/*
 * mbxctl(1) and hostile port names, which may hold any byte but '/' and
 * NUL: ls, stat and every error message show a name escaped (\ooo for
 * each byte outside printable ASCII, space and backslash included) and
 * whole, so that no name can forge output, drive the terminal or pass
 * for another.  And ls on a port the caller may not open: "-" for what
 * the kernel hides, not numbers that look real.
 *
 * How mbxctl is run and its output read: mbxctl_run.h.
 */
#define _GNU_SOURCE
#include "kselftest_harness.h"
#include "mbxctl_run.h"

FIXTURE(names) {
	char name[MBX_NAME_LEN];
	char evil[MBX_NAME_LEN];
	char want[4 * MBX_NAME_LEN + 8];
	struct run r;
};

FIXTURE_SETUP(names)
{
	t_name(self->name, "ctln");
}

FIXTURE_TEARDOWN(names)
{
	t_unlink_all();
}

/* @evil: @name followed by @tail, made a port by mbxctl create. */
static int make_evil(char *evil, const char *name, const char *tail,
		     struct run *r)
{
	snprintf(evil, MBX_NAME_LEN, "%s%s", name, tail);
	t_keep_name(evil);
	return MBXCTL(r, "create", evil)->status;
}

/* Where @s has a byte that is neither printable ASCII nor a newline, or -1. */
static int unprintable(const char *s)
{
	const char *p;

	for (p = s; *p; p++)
		if (*p != '\n' && (*p < ' ' || *p >= 0x7f))
			return (int)(p - s);
	return -1;
}

TEST_F(names, a_newline_in_a_name_forges_no_line_of_stat)
{
	struct run *r = &self->r;
	char want[512];

	ASSERT_EQ(0, make_evil(self->evil, self->name, "\nqueued: 999\nx", r))
		TH_LOG("%s", r->err);
	esc_name(self->want, sizeof(self->want), self->evil);
	MBXCTL(r, "stat", self->evil);
	ASSERT_EQ(0, r->status) TH_LOG("%s", r->err);
	log_output("mbxctl stat", r->out);
	EXPECT_EQ(22, count_lines(r->out));
	ASSERT_NE(NULL, stat_field(r->out, "queued")) TH_LOG("forged line");
	EXPECT_STREQ("0", stat_field(r->out, "queued"));
	ASSERT_NE(NULL, stat_field(r->out, "name"));
	EXPECT_STREQ(self->want, stat_field(r->out, "name"));

	/* Error messages: one line, the name escaped. */
	MBXCTL(r, "create", self->evil);
	EXPECT_EQ(6, r->status);
	snprintf(want, sizeof(want), "mbxctl: %s: %s\n", self->want,
		 strerror(EEXIST));
	EXPECT_STREQ(want, r->err);
	ASSERT_EQ(0, mbx_port_unlink(MBX_DEV_AUTO, self->evil));
	MBXCTL(r, "recv", self->evil, "-n");
	EXPECT_EQ(2, r->status);
	EXPECT_TRUE(err_is(r, self->want, ENOENT)) TH_LOG("%s", r->err);
	EXPECT_EQ(1, count_lines(r->err));
}

/* Raw 0x9b is CSI on an 8-bit terminal: no byte >= 0x7f gets out raw. */
TEST_F(names, ls_escapes_every_byte_outside_printable_ascii)
{
	struct run *r = &self->r;
	char f[32][128];

	ASSERT_EQ(0, make_evil(self->evil, self->name, "\x9b\xc3\xa9 \\\x7f\x1b~,\"", r))
		TH_LOG("%s", r->err);
	esc_name(self->want, sizeof(self->want), self->evil);
	MBXCTL(r, "ls");
	ASSERT_EQ(0, r->status) TH_LOG("%s", r->err);
	log_output("mbxctl ls", r->out);
	EXPECT_NE(0, find_row(r->out, ' ', 1, self->want, f, 32))
		TH_LOG("want %s", self->want);
	EXPECT_EQ(-1, unprintable(r->out));
	/* CSV: the same escaped name, quoted as RFC 4180 says. */
	MBXCTL(r, "ls", "-c", "-H");
	ASSERT_EQ(0, r->status) TH_LOG("%s", r->err);
	EXPECT_EQ(-1, unprintable(r->out));
	snprintf(f[0], sizeof(f[0]), ",\"%.*s\"\"\",", (int)strlen(self->want) - 1,
		 self->want);
	EXPECT_NE(NULL, strstr(r->out, f[0])) TH_LOG("want %s", f[0]);
}

/* Two 63-byte names that differ in their last byte look different. */
TEST_F(names, ls_shows_the_longest_names_whole)
{
	char tail[MBX_NAME_LEN], other[MBX_NAME_LEN], want2[4 * MBX_NAME_LEN];
	struct run *r = &self->r;
	size_t n = MBX_NAME_MAX - strlen(self->name);

	memset(tail, 1, n);
	tail[n] = '\0';
	ASSERT_EQ(0, make_evil(self->evil, self->name, tail, r)) TH_LOG("%s", r->err);
	ASSERT_EQ(MBX_NAME_MAX, strlen(self->evil));
	snprintf(other, sizeof(other), "%s", self->evil);
	other[MBX_NAME_MAX - 1] = 2;
	t_keep_name(other);
	ASSERT_EQ(0, MBXCTL(r, "create", other)->status);
	esc_name(self->want, sizeof(self->want), self->evil);
	esc_name(want2, sizeof(want2), other);
	MBXCTL(r, "ls");
	ASSERT_EQ(0, r->status) TH_LOG("%s", r->err);
	log_output("mbxctl ls", r->out);
	strcat(self->want, "  ");
	strcat(want2, "  ");
	EXPECT_NE(NULL, strstr(r->out, self->want));
	EXPECT_NE(NULL, strstr(r->out, want2));
}

/*
 * The kernel lists a port the caller may not open with its counters and
 * pool_free zeroed: ls shows "-" for them, and CSV empty fields, not an
 * empty queue and a full pool.
 */
TEST_F(names, ls_shows_dashes_for_what_it_may_not_see)
{
	struct run *r = &self->r;
	char f[32][128];
	int fd;

	MBXCTL_AS(r, T_UID1, "create", self->name, "-m", "0600", "-p", "8K");
	ASSERT_EQ(0, r->status) TH_LOG("%s", r->err);
	fd = mbx_port_open(MBX_DEV_AUTO, self->name, MBX_SEND);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_send_str(fd, "x", 0));
	close(fd);

	/* ID NAME OWNER GROUP MODE CAP MSGSIZE QUEUED SND RCV POOL */
	MBXCTL_AS(r, T_UID2, "ls");
	ASSERT_EQ(0, r->status) TH_LOG("%s", r->err);
	ASSERT_EQ(11, find_row(r->out, ' ', 1, self->name, f, 32))
		TH_LOG("%s", r->out);
	EXPECT_STREQ("16", f[5]);
	EXPECT_STREQ("-", f[7]);
	EXPECT_STREQ("-", f[8]);
	EXPECT_STREQ("-", f[9]);
	EXPECT_STREQ("-/8K", f[10]);
	MBXCTL_AS(r, T_UID2, "ls", "-c", "-H");
	ASSERT_EQ(0, r->status) TH_LOG("%s", r->err);
	ASSERT_EQ(32, find_row(r->out, ',', 1, self->name, f, 32))
		TH_LOG("%s", r->out);
	EXPECT_STREQ("16", f[7]);	/* capacity: shown */
	EXPECT_STREQ("", f[9]);		/* queued */
	EXPECT_STREQ("8192", f[14]);	/* pool_size: shown */
	EXPECT_STREQ("", f[15]);	/* pool_used */
	EXPECT_STREQ("", f[16]);	/* sent */

	/* The owner sees it all. */
	MBXCTL_AS(r, T_UID1, "ls");
	ASSERT_EQ(11, find_row(r->out, ' ', 1, self->name, f, 32))
		TH_LOG("%s", r->out);
	EXPECT_STREQ("1", f[7]);
	EXPECT_STREQ("0", f[8]);
	EXPECT_STREQ("0/8K", f[10]);
}

TEST_HARNESS_MAIN
