// SPDX-License-Identifier: MIT
/*
 * zerocopy: a producer process hands 64 MiB to a consumer process as 64
 * frames of 1 MiB without copying them.  Each maps the port's 4 MiB pool
 * through its own end of a port pair: the producer's send end read-write,
 * the consumer's receive end read-only.  The producer allocates a region,
 * sleeping while all four are taken, fills it in place and sends its
 * offset with the frame's checksum as the tag; the consumer checksums it
 * in place and releases it.  Should the producer die, its send end closes
 * and the consumer gets end of stream instead of waiting for ever.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <mailbox.h>

#define FRAMES	64
#define FRAME	(1024 * 1024)

static uint64_t checksum(const uint64_t *w)	/* FNV-1a over 64-bit words */
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < FRAME / 8; i++)
		h = (h ^ w[i]) * 0x100000001b3ULL;
	return h;
}

int main(void)
{
	struct mbx_port_create attr = { .capacity = 8, .pool_size = 4 * FRAME };
	struct mbx_send s = { .len = FRAME, .flags = MBX_SEND_BUF };
	int i, fds[2], ret, status, good = 0;
	uint64_t off, *w, x = 1;
	size_t size;
	void *pool;
	pid_t pid;

	/* Like pipe2(): fds[0] may only receive, fds[1] only send. */
	if (mbx_port_pair(MBX_DEV_AUTO, &attr, fds) < 0) {
		fprintf(stderr, "zerocopy: cannot create the port\n");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		perror("zerocopy: fork");
		return 1;
	}
	if (pid == 0) {					/* the producer */
		close(fds[0]);
		if (mbx_pool_map(fds[1], &pool, &size) < 0)	/* read-write */
			_exit(1);
		for (i = 0; i < FRAMES; i++) {
			if (mbx_buf_alloc(fds[1], FRAME, &off) < 0)	/* may sleep */
				_exit(1);
			w = mbx_buf_ptr(pool, off);
			for (size_t j = 0; j < FRAME / 8; j++)	/* the frame */
				w[j] = x++ * 0x9e3779b97f4a7c15ULL;
			s.offset = off;
			s.tag = checksum(w);
			if (mbx_send_ex(fds[1], &s) < 0)
				_exit(1);
		}
		_exit(0);		/* closes the last send end */
	}
	close(fds[1]);			/* the consumer keeps the receive end only */
	if (mbx_pool_map(fds[0], &pool, &size) < 0) {		/* read-only */
		fprintf(stderr, "zerocopy: cannot map the pool\n");
		return 1;	/* closing fds[0] stops the producer too */
	}
	for (i = 0; i < FRAMES; i++) {
		struct mbx_recv r = { .flags = MBX_RECV_INPLACE };

		if (mbx_recv_ex(fds[0], &r) < 0)
			break;		/* -EPIPE: the producer stopped early */
		if (!(r.msg_flags & MBX_MSG_BUF))
			continue;	/* not in the pool: nothing to release */
		if (r.len == FRAME)
			good += checksum(mbx_buf_ptr(pool, r.offset)) == r.tag;
		ret = mbx_buf_release(fds[0], r.offset, r.len);
		if (ret < 0) {
			fprintf(stderr, "zerocopy: release: %s\n", strerror(-ret));
			break;
		}
	}
	close(fds[0]);		/* a producer still sending gets EPIPE */
	if (waitpid(pid, &status, 0) < 0) {
		perror("zerocopy: waitpid");
		return 1;
	}
	printf("zerocopy: %d frames, %d bytes in place through a %zu-byte pool\n",
	       i, i * FRAME, size);
	printf("zerocopy: %d of %d checksums matched\n", good, FRAMES);
	return !(good == FRAMES && WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
