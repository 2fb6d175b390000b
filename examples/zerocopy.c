// SPDX-License-Identifier: MIT
/*
 * zerocopy: a producer process hands 64 MiB to a consumer process as 64
 * frames of 1 MiB without copying them.  Both map the port's 4 MiB pool
 * (before fork).  The producer allocates a region, sleeping while all four
 * are taken, fills it in place and sends its offset with the frame's
 * checksum as the tag; the consumer checksums it in place and releases it.
 */
#include <stdint.h>
#include <stdio.h>
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
	int i, port, status, good = 0;
	uint64_t off, *w, x = 1;
	size_t size;
	void *pool;

	port = mbx_port_create(MBX_DEV_AUTO, &attr);
	if (port < 0 || mbx_pool_map(port, &pool, &size) < 0) {
		fprintf(stderr, "zerocopy: cannot create or map the port\n");
		return 1;
	}
	if (fork() == 0) {				/* the producer */
		for (i = 0; i < FRAMES; i++) {
			if (mbx_buf_alloc(port, FRAME, &off) < 0)	/* may sleep */
				_exit(1);
			w = mbx_buf_ptr(pool, off);
			for (size_t j = 0; j < FRAME / 8; j++)	/* the frame */
				w[j] = x++ * 0x9e3779b97f4a7c15ULL;
			s.offset = off;
			s.tag = checksum(w);
			if (mbx_send_ex(port, &s) < 0)
				_exit(1);
		}
		_exit(0);
	}
	for (i = 0; i < FRAMES; i++) {			/* the consumer */
		struct mbx_recv r = { .flags = MBX_RECV_INPLACE };

		if (mbx_recv_ex(port, &r) != FRAME || !(r.msg_flags & MBX_MSG_BUF))
			break;
		good += checksum(mbx_buf_ptr(pool, r.offset)) == r.tag;
		mbx_buf_release(port, r.offset, r.len);
	}
	mbx_shutdown(port);		/* wakes the producer if we stopped early */
	wait(&status);
	printf("zerocopy: %d frames, %d bytes in place through a %zu-byte pool\n",
	       i, i * FRAME, size);
	printf("zerocopy: %d of %d checksums matched\n", good, FRAMES);
	return !(good == FRAMES && WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
