// SPDX-License-Identifier: GPL-2.0
/*
 * Permission checks on named ports, like a file: MBX_IOC_PORT_OPEN uses the
 * owner's bits for the owner, else the group's bits for a member of the
 * group, else the others' bits; 'w' allows MBX_SEND, 'r' allows MBX_RECV;
 * refused: EACCES.  CAP_IPC_OWNER overrides.  Only the owner or
 * CAP_IPC_OWNER may unlink (EPERM).
 *
 * The ports are created by uid 1000 / gid 1000.  Openers are children that
 * drop privileges: the owner, a member of the group (by gid or by a
 * supplementary group) and a stranger (65534).
 */
#define _GNU_SOURCE
#include <grp.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "mbx_helpers.h"

#define OWNER_UID	T_UID1
#define OWNER_GID	T_GID1

struct ident {
	uid_t uid;
	gid_t gid;
	gid_t group;	/* supplementary group, or 0 for none */
};

static const struct ident owner = { OWNER_UID, OWNER_GID, 0 };
static const struct ident member = { T_UID2, OWNER_GID, 0 };
static const struct ident supp_member = { T_UID2, T_GID2, OWNER_GID };
static const struct ident stranger = { T_NOBODY, T_NOBODY, 0 };

FIXTURE(perm) {
	char name[MBX_NAME_LEN];
};

FIXTURE_SETUP(perm)
{
	t_name(self->name, "perm");
}

FIXTURE_TEARDOWN(perm)
{
	t_unlink_all();
}

static int become(const struct ident *id)
{
	gid_t g = id->group;

	if (setgroups(id->group ? 1 : 0, &g))
		return -errno;
	if (setresgid(id->gid, id->gid, id->gid))
		return -errno;
	if (setresuid(id->uid, id->uid, id->uid))
		return -errno;
	return 0;
}

/* Create @name with @mode as the owner; 0 or an errno. */
static int create_as_owner(const char *name, uint32_t mode)
{
	pid_t pid = t_fork();
	int fd;

	if (pid < 0)
		return errno;
	if (pid == 0) {
		if (become(&owner))
			_exit(T_BAD_SETUP);
		fd = t_port(1, 16, mode, name, 0);
		_exit(t_code(fd));
	}
	return t_reap(pid);
}

#define ALLOW_SEND	1
#define ALLOW_RECV	2
#define ALLOW_BOTH	4

/*
 * Which of MBX_SEND, MBX_RECV and both @id may open: ALLOW_* bits, or
 * T_BAD_DATA if an open failed with something else than EACCES.
 */
static int allowed_as(const struct ident *id, const char *name)
{
	static const unsigned int acc[] = { MBX_SEND, MBX_RECV,
					    MBX_SEND | MBX_RECV };
	pid_t pid = t_fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int i, fd, bits = 0;

		if (become(id))
			_exit(T_BAD_SETUP);
		for (i = 0; i < 3; i++) {
			fd = mbx_port_open(MBX_DEV_AUTO, name, acc[i]);
			if (fd >= 0) {
				bits |= 1 << i;
				close(fd);
			} else if (fd != -EACCES) {
				_exit(T_BAD_DATA);
			}
		}
		_exit(bits);
	}
	return t_reap(pid);
}

/* ALLOW_* bits that the permission triplet @rwx grants. */
static int expected(unsigned int rwx)
{
	int bits = 0;

	if (rwx & 2)
		bits |= ALLOW_SEND;
	if (rwx & 4)
		bits |= ALLOW_RECV;
	if ((rwx & 6) == 6)
		bits |= ALLOW_BOTH;
	return bits;
}

/* For every mode: create as owner, check what @id may open, unlink. */
static void check_modes(struct __test_metadata *_metadata, const char *name,
			const struct ident *id, int shift,
			const uint32_t *modes, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, create_as_owner(name, modes[i]));
		EXPECT_EQ(expected((modes[i] >> shift) & 7), allowed_as(id, name))
			TH_LOG("mode %04o uid %u gid %u", modes[i], id->uid,
			       id->gid);
		ASSERT_EQ(0, mbx_port_unlink(MBX_DEV_AUTO, name));
	}
}

static const uint32_t all_modes[] = {
	0000, 0400, 0200, 0600, 0040, 0020, 0060, 0004, 0002, 0006,
	0640, 0604, 0466, 0646, 0777,
};

TEST_F(perm, owner_bits_decide_for_the_owner)
{
	check_modes(_metadata, self->name, &owner, 6, all_modes,
		    ARRAY_SIZE(all_modes));
}

TEST_F(perm, group_bits_decide_for_a_group_member)
{
	check_modes(_metadata, self->name, &member, 3, all_modes,
		    ARRAY_SIZE(all_modes));
}

TEST_F(perm, supplementary_group_selects_the_group_bits)
{
	check_modes(_metadata, self->name, &supp_member, 3, all_modes,
		    ARRAY_SIZE(all_modes));
}

TEST_F(perm, other_bits_decide_for_a_stranger)
{
	check_modes(_metadata, self->name, &stranger, 0, all_modes,
		    ARRAY_SIZE(all_modes));
}

TEST_F(perm, owner_without_owner_bits_is_refused_whatever_others_get)
{
	ASSERT_EQ(0, create_as_owner(self->name, 0077));
	EXPECT_EQ(0, allowed_as(&owner, self->name));
	EXPECT_EQ(ALLOW_SEND | ALLOW_RECV | ALLOW_BOTH,
		  allowed_as(&stranger, self->name));
}

TEST_F(perm, member_without_group_bits_is_refused_whatever_others_get)
{
	ASSERT_EQ(0, create_as_owner(self->name, 0707));
	EXPECT_EQ(0, allowed_as(&member, self->name));
	EXPECT_EQ(0, allowed_as(&supp_member, self->name));
	EXPECT_EQ(ALLOW_SEND | ALLOW_RECV | ALLOW_BOTH,
		  allowed_as(&stranger, self->name));
}

TEST_F(perm, refused_open_fails_eacces_and_opens_nothing)
{
	pid_t pid;
	int fd;

	ASSERT_EQ(0, create_as_owner(self->name, 0600));
	fd = mbx_port_open(MBX_DEV_AUTO, self->name, MBX_RECV);
	ASSERT_LE(0, fd);
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (become(&stranger))
			_exit(T_BAD_SETUP);
		_exit(t_code(mbx_port_open(MBX_DEV_AUTO, self->name, MBX_SEND)));
	}
	EXPECT_EQ(EACCES, t_reap(pid));
	/* creator's fd is closed: only root's receive fd is left */
	EXPECT_EQ(0, T_INFO(fd, senders));
	EXPECT_EQ(1, T_INFO(fd, receivers));
}

/* ---- capabilities ------------------------------------------------------ */

/* Set the effective (and, with @permitted, permitted) state of one cap. */
static int set_cap(int cap, int on, int permitted)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];
	unsigned int bit = 1U << (cap % 32);

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d))
		return -errno;
	if (on) {
		d[cap / 32].effective |= bit;
	} else {
		d[cap / 32].effective &= ~bit;
		if (permitted)
			d[cap / 32].permitted &= ~bit;
	}
	if (syscall(SYS_capset, &h, d))
		return -errno;
	return 0;
}

TEST_F(perm, cap_ipc_owner_overrides_mode)
{
	int fd;

	ASSERT_EQ(0, create_as_owner(self->name, 0000));
	fd = mbx_port_open(MBX_DEV_AUTO, self->name, MBX_SEND | MBX_RECV);
	EXPECT_LE(0, fd);
	EXPECT_EQ(0, allowed_as(&owner, self->name));
}

TEST_F(perm, root_without_cap_ipc_owner_is_checked_normally)
{
	pid_t pid;

	ASSERT_EQ(0, create_as_owner(self->name, 0000));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd;

		if (set_cap(CAP_IPC_OWNER, 0, 1))
			_exit(T_BAD_SETUP);
		fd = mbx_port_open(MBX_DEV_AUTO, self->name, MBX_RECV);
		_exit(fd >= 0 ? T_BAD_SUCCESS : t_code(fd));
	}
	EXPECT_EQ(EACCES, t_reap(pid));
}

TEST_F(perm, root_without_cap_ipc_owner_gets_the_other_bits)
{
	pid_t pid;

	ASSERT_EQ(0, create_as_owner(self->name, 0604));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd;

		/* uid 0 in group 0: neither owner nor group of this port */
		if (prctl(PR_CAPBSET_DROP, CAP_IPC_OWNER, 0, 0, 0) ||
		    set_cap(CAP_IPC_OWNER, 0, 1))
			_exit(T_BAD_SETUP);
		fd = mbx_port_open(MBX_DEV_AUTO, self->name, MBX_SEND);
		if (fd != -EACCES)
			_exit(fd >= 0 ? T_BAD_SUCCESS : t_code(fd));
		fd = mbx_port_open(MBX_DEV_AUTO, self->name, MBX_RECV);
		_exit(t_code(fd));
	}
	EXPECT_EQ(0, t_reap(pid));
}

TEST_F(perm, cap_ipc_owner_overrides_for_non_root_uid)
{
	pid_t pid;

	ASSERT_EQ(0, create_as_owner(self->name, 0000));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd;

		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) ||
		    setgroups(0, NULL) ||
		    setresgid(T_NOBODY, T_NOBODY, T_NOBODY) ||
		    setresuid(T_NOBODY, T_NOBODY, T_NOBODY) ||
		    set_cap(CAP_IPC_OWNER, 1, 0))
			_exit(T_BAD_SETUP);
		fd = mbx_port_open(MBX_DEV_AUTO, self->name,
				   MBX_SEND | MBX_RECV);
		_exit(t_code(fd));
	}
	EXPECT_EQ(0, t_reap(pid));
}

/* ---- unlink ------------------------------------------------------------- */

static int unlink_as(const struct ident *id, const char *name)
{
	pid_t pid = t_fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (become(id))
			_exit(T_BAD_SETUP);
		_exit(t_code(mbx_port_unlink(MBX_DEV_AUTO, name)));
	}
	return t_reap(pid);
}

TEST_F(perm, unlink_by_non_owner_fails_eperm)
{
	ASSERT_EQ(0, create_as_owner(self->name, 0777));
	EXPECT_EQ(EPERM, unlink_as(&stranger, self->name));
	EXPECT_EQ(EPERM, unlink_as(&member, self->name));
	/* still there */
	EXPECT_EQ(ALLOW_SEND | ALLOW_RECV | ALLOW_BOTH,
		  allowed_as(&stranger, self->name));
}

TEST_F(perm, unlink_by_owner_succeeds_even_without_mode_bits)
{
	ASSERT_EQ(0, create_as_owner(self->name, 0000));
	EXPECT_EQ(0, unlink_as(&owner, self->name));
	EXPECT_EQ(-ENOENT, mbx_port_open(MBX_DEV_AUTO, self->name, MBX_RECV));
}

TEST_F(perm, unlink_by_root_with_cap_ipc_owner_succeeds)
{
	ASSERT_EQ(0, create_as_owner(self->name, 0600));
	EXPECT_EQ(0, mbx_port_unlink(MBX_DEV_AUTO, self->name));
	EXPECT_EQ(-ENOENT, mbx_port_open(MBX_DEV_AUTO, self->name, MBX_RECV));
}

TEST_F(perm, unlink_by_root_without_cap_ipc_owner_fails_eperm)
{
	pid_t pid;

	ASSERT_EQ(0, create_as_owner(self->name, 0666));
	pid = t_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (set_cap(CAP_IPC_OWNER, 0, 1))
			_exit(T_BAD_SETUP);
		_exit(t_code(mbx_port_unlink(MBX_DEV_AUTO, self->name)));
	}
	EXPECT_EQ(EPERM, t_reap(pid));
	EXPECT_EQ(-EEXIST, t_port(1, 16, 0600, self->name, 0));
}

/*
 * What @id's MBX_IOC_PORT_LIST says of @name: 1 if it shows the port's
 * traffic (sent, bytes_sent, queued), 0 if only what it is (name, mode,
 * owner) and says so (MBX_STATE_HIDDEN), T_BAD_DATA if it is not listed
 * or half of it shows.
 */
static int list_shows_traffic_as(const struct ident *id, const char *name,
				 uint32_t mode)
{
	struct mbx_port_info *list;
	pid_t pid = t_fork();
	int i, n, ret = T_BAD_DATA;

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (id && become(id))
			_exit(T_BAD_SETUP);
		n = mbx_port_list(MBX_DEV_AUTO, &list);
		for (i = 0; i < n; i++) {
			if (strcmp(list[i].name, name) || list[i].mode != mode)
				continue;
			if (list[i].sent == 1 && list[i].bytes_sent == 17 &&
			    list[i].queued == 1 &&
			    !(list[i].state & MBX_STATE_HIDDEN))
				ret = 1;
			else if (!list[i].sent && !list[i].bytes_sent &&
				 !list[i].queued &&
				 list[i].state & MBX_STATE_HIDDEN)
				ret = 0;
		}
		_exit(ret);
	}
	return t_reap(pid);
}

/*
 * The list shows every named port, but its traffic (how many messages,
 * how long, when) only to whoever may open it, as a POSIX queue's QSIZE
 * needs read permission on /dev/mqueue/NAME.
 */
TEST_F(perm, list_shows_traffic_only_to_whoever_may_open_the_port)
{
	char other[MBX_NAME_LEN], msg[17] = "";
	int fd, fd2;

	fd = t_port(4, 64, 0600, self->name, 0);
	ASSERT_LE(0, fd);
	fd2 = t_port(4, 64, 0604, t_name(other, "permlist"), 0);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, mbx_send(fd, msg, sizeof(msg), 0));
	ASSERT_EQ(0, mbx_send(fd2, msg, sizeof(msg), 0));
	EXPECT_EQ(1, list_shows_traffic_as(NULL, self->name, 0600));
	EXPECT_EQ(0, list_shows_traffic_as(&stranger, self->name, 0600));
	EXPECT_EQ(1, list_shows_traffic_as(&stranger, other, 0604));
	close(fd);
	close(fd2);
}

TEST_HARNESS_MAIN
