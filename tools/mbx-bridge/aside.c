// SPDX-License-Identifier: GPL-2.0
/*
 * mbx-bridge: a message that no publish can carry, set aside.
 *
 * A message larger than the server's max_payload, or than the max_msg_size
 * of the stream it goes to, is refused every time it is published: retried,
 * it would stop its route for good.  The exporter writes its payload to a
 * file of the state directory, aside/<source>.<sequence>, synced before the
 * message is let go, and publishes a notice with the message's headers, an
 * Mbx-Error and an Mbx-File naming that file (and no payload) to the
 * dead-letter subject; the route goes on with the next message.  So does
 * an importer with a message its port refuses that the dead letter cannot
 * carry either (its payload with the dead-letter headers over max_payload):
 * aside/import-<subject>.<stream sequence>.<ms>-<n>.
 *
 * Anyone who may send to an exported port can make such messages: aside/
 * holds at most aside-max MiB.  Past that a message is not set aside, its
 * route waits (JetStream) or loses it (core), and the log says why.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bridge.h"

static int write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= n;
	}
	return 0;
}

static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -errno;
	ret = fsync(fd) ? -errno : 0;
	close(fd);
	return ret;
}

/* The bytes of the regular files in @dir (0 if it does not exist). */
static uint64_t dir_bytes(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	uint64_t sum = 0;
	struct stat st;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (!fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) &&
		    S_ISREG(st.st_mode))
			sum += st.st_size;
	closedir(d);
	return sum;
}

/* @data into @path, whole and synced, or not at all. */
static int keep_file(const char *dir, const char *path, const char *data,
		     size_t len)
{
	char tmp[PATH_MAX + 8];
	int fd, ret;

	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	ret = write_all(fd, data, len);
	if (!ret && fsync(fd))
		ret = -errno;
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret) {
		unlink(tmp);
		return ret;
	}
	return sync_dir(dir);
}

/* The notice: @m's headers and Mbx-File, no payload. */
static int notice(struct route *r, natsMsg *m, const char *path,
		  const char *why)
{
	const char **keys = NULL, *val;
	natsMsg *n = NULL;
	natsStatus s;
	int i, cnt = 0, ret;

	s = natsMsg_Create(&n, natsMsg_GetSubject(m), NULL, NULL, 0);
	if (s == NATS_OK && natsMsgHeader_Keys(m, &keys, &cnt) == NATS_OK) {
		for (i = 0; i < cnt && s == NATS_OK; i++)
			if (natsMsgHeader_Get(m, keys[i], &val) == NATS_OK)
				s = natsMsgHeader_Set(n, keys[i], val);
		free((void *)keys);
	}
	if (s == NATS_OK)
		s = natsMsgHeader_Set(n, "Mbx-File", path);
	ret = s == NATS_OK ? dead_letter(r, n, why) : -ENOMEM;
	natsMsg_Destroy(n);
	return ret;
}

/**
 * aside_keep() - set aside a message that no publish can carry
 * @r:   its export route
 * @m:   the message, with its headers
 * @id:  its id, <source>.<sequence>, which names the file
 * @why: the reason, in the notice's Mbx-Error
 *
 * Return: 0 once the payload is on disk (the notice is best effort, as
 * every dead letter), or -errno, the message then still the caller's.
 */
int aside_keep(struct route *r, natsMsg *m, const char *id, const char *why)
{
	char dir[PATH_MAX], path[PATH_MAX];
	int ret;

	if (snprintf(dir, sizeof(dir), "%s/aside", r->br->cfg.state_dir) >=
	    (int)sizeof(dir) ||
	    snprintf(path, sizeof(path), "%s/%s", dir, id) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	if (dir_bytes(dir) + natsMsg_GetDataLength(m) >
	    (uint64_t)r->br->cfg.aside_max_mb << 20)
		ret = -ENOSPC;
	else
		ret = keep_file(dir, path, natsMsg_GetData(m),
				natsMsg_GetDataLength(m));
	if (ret == -ENOSPC) {
		blog("%s: cannot set aside %s: %s holds its aside-max (%u MiB) or the disk is full",
		     r->subject, id, dir, r->br->cfg.aside_max_mb);
		return ret;
	}
	if (ret) {
		blog("%s: cannot set aside %s (%s): %s", r->subject, id, why,
		     strerror(-ret));
		return ret;
	}
	blog("%s: %s (%d bytes, %s) set aside in %s", r->subject, id,
	     natsMsg_GetDataLength(m), why, path);
	notice(r, m, path, why);
	return 0;
}
