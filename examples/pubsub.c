// SPDX-License-Identifier: MIT
/*
 * pubsub: one publisher, three subscriber processes, one topic.
 *
 * The publisher sends 1000 small numbered messages (copied into the kernel
 * once, whatever the number of subscribers), then 16 frames of 64 KiB in
 * the topic's pool, each written once and read in place by every
 * subscriber; a frame's region returns to the pool when the last
 * subscriber releases it.  Two subscribers use the default policy (the
 * publisher waits for them); the third, slow one drops its oldest messages
 * instead, and every receive tells it how many it lost: nothing is lost
 * silently.  Each subscriber checks what it got and exits 0 if all is well.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <mailbox.h>

#define SUBS	3
#define SMALL	1000
#define FRAMES	16
#define FRAME	(64 * 1024)

static uint64_t checksum(const unsigned char *p, size_t len)	/* FNV-1a */
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (len--)
		h = (h ^ *p++) * 0x100000001b3ULL;
	return h;
}

/*
 * A subscriber: the numbered messages in order, then the frames.  Every
 * receive says how many messages this subscriber lost just before it
 * (drop-oldest only), so each gap in the numbers must have been reported.
 */
static int subscribe(int fd, int id, void *pool, int slow)
{
	uint32_t got = 0, next = 0, lost = 0, n;
	int frames = 0, good = 0;

	for (;;) {
		struct mbx_recv r = { .buf = (uintptr_t)&n, .len = sizeof(n),
				      .flags = MBX_RECV_INPLACE };
		ssize_t len = mbx_recv_ex(fd, &r);

		if (len == -EPIPE)		/* end of stream */
			break;
		if (len < 0)
			return 1;
		lost += r.dropped;
		if (r.msg_flags & MBX_MSG_BUF) {	/* a frame, in place */
			good += checksum(mbx_buf_ptr(pool, r.offset),
					 r.len) == r.tag;
			frames++;
			if (mbx_buf_release(fd, r.offset, r.len) < 0)
				return 1;
			continue;
		}
		if (n < next || n - next > r.dropped)
			return 2;		/* out of order, or a silent gap */
		next = n + 1;
		got++;
		if (slow)
			usleep(200);
	}
	printf("subscriber %d%s: %u numbered messages and %d frames",
	       id, slow ? " (slow, drop-oldest)" : "", got, frames);
	printf(" (%d checked in place), %u reported lost\n", good, lost);
	if (good != frames || got + frames + lost != SMALL + FRAMES)
		return 3;
	return slow || lost == 0 ? 0 : 4;
}

static int publish(int topic, void *pool)
{
	struct mbx_port_info info;
	uint64_t off;
	uint32_t i;

	for (i = 0; i < SMALL; i++) {
		struct mbx_send s = { .buf = (uintptr_t)&i, .len = sizeof(i) };

		if (mbx_send_ex(topic, &s) < 0)
			return 1;
	}
	for (i = 0; i < FRAMES; i++) {
		unsigned char *p;
		struct mbx_send s = { .len = FRAME, .flags = MBX_SEND_BUF };

		if (mbx_buf_alloc(topic, FRAME, &off) < 0)	/* may wait */
			return 1;
		p = mbx_buf_ptr(pool, off);
		for (size_t j = 0; j < FRAME; j++)
			p[j] = (unsigned char)(i * 31 + j * 7);
		s.offset = off;
		s.tag = checksum(p, FRAME);
		if (mbx_send_ex(topic, &s) < 0)
			return 1;
	}
	if (mbx_port_info(topic, &info) < 0)
		return 1;
	printf("publisher: %d messages sent once each to %u subscribers\n",
	       SMALL + FRAMES, info.subscribers);
	return 0;
}

int main(void)
{
	struct mbx_port_create attr = {
		.flags = MBX_PORT_TOPIC, .capacity = 64,
		.pool_size = 8 * FRAME,
	};
	int topic, fd, i, status, failed = 0;
	pid_t pid[SUBS];
	size_t size;
	void *pool;

	topic = mbx_port_create(MBX_DEV_AUTO, &attr);
	if (topic < 0 || mbx_pool_map(topic, &pool, &size) < 0) {
		fprintf(stderr, "pubsub: cannot create or map the topic\n");
		return 1;
	}
	/*
	 * Each subscriber's fd is made before the first send, so that it
	 * gets every message; a dup'ed fd with receive access is subscribed
	 * at once.  The creator's fd publishes and is not subscribed.
	 */
	for (i = 0; i < SUBS; i++) {
		fd = mbx_port_dup(topic, MBX_RECV);
		if (fd < 0)
			return 1;
		/* The last one is slow: it keeps 8 messages, drops the oldest. */
		if (i == SUBS - 1 &&
		    mbx_subscribe(fd, MBX_SUB_DROP_OLDEST, 8, 0) < 0)
			return 1;
		pid[i] = fork();
		if (pid[i] < 0) {
			perror("pubsub: fork");
			close(fd);
			failed = 1;
			break;		/* publish nothing; reap those forked */
		}
		if (pid[i] == 0) {
			close(topic);	/* so that end of stream can come */
			failed = subscribe(fd, i + 1, pool, i == SUBS - 1);
			fflush(stdout);	/* _exit() does not */
			_exit(failed);
		}
		close(fd);
	}
	if (!failed)
		failed = publish(topic, pool);
	close(topic);			/* the last sender: end of stream */
	while (i-- > 0)			/* the subscribers forked */
		if (waitpid(pid[i], &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			failed = 1;
	if (failed)
		puts("pubsub: FAILED");
	else
		puts("pubsub: every subscriber got every message, or was told what it lost");
	return failed;
}
