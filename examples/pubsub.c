// SPDX-License-Identifier: MIT
/*
 * pubsub: one publisher, several subscriber processes, one topic.
 *
 * A port created with MBX_PORT_TOPIC delivers every message to every
 * subscriber.  Each subscriber here is a receive-only dup of the topic's
 * fd (subscribed as it is made) in a process of its own.  The publisher
 * writes each frame once into the topic's pool and sends it; every
 * subscriber reads the same bytes in place at the same offset and releases
 * them, and the region goes back to the pool after the last release.  A
 * subscriber that falls behind blocks the publisher (policy block, the
 * default).  When the publisher closes its fd, each subscriber drains its
 * backlog and sees end of stream (-EPIPE).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <mailbox.h>

#define SUBS	4
#define N	1000
#define FRAME	4096

static int subscribe_and_read(int fd, int id)
{
	unsigned long got = 0, sum = 0;
	uint64_t off;
	size_t size;
	void *base;
	ssize_t len;

	if (mbx_pool_map(fd, &base, &size) < 0)
		return 1;
	while ((len = mbx_recv_inplace(fd, &off, NULL)) >= 0) {
		sum += *(uint32_t *)mbx_buf_ptr(base, off);
		got++;
		mbx_buf_release(fd, off, len);
	}
	printf("subscriber %d: %lu frames, sum %lu (%s)\n", id, got, sum,
	       len == -EPIPE ? "end of stream" : strerror((int)-len));
	return len == -EPIPE && got == N ? 0 : 1;
}

int main(void)
{
	struct mbx_port_create attr = {
		.capacity = 16, .pool_size = 256 * 1024,
		.flags = MBX_PORT_TOPIC | MBX_CLOEXEC,
	};
	int pub, sub, i, status, failed = 0;
	uint64_t off;
	uint32_t k;
	size_t size;
	void *base;

	pub = mbx_port_create(MBX_DEV_AUTO, &attr);
	if (pub < 0) {
		fprintf(stderr, "mbx_port_create: %s\n", strerror(-pub));
		return 1;
	}
	for (i = 0; i < SUBS; i++) {
		sub = mbx_port_dup(pub, MBX_RECV);	/* subscribed */
		if (sub < 0)
			return 1;
		if (fork() == 0) {
			close(pub);
			_exit(subscribe_and_read(sub, i));
		}
		close(sub);
	}
	if (mbx_pool_map(pub, &base, &size) < 0)
		return 1;
	for (k = 1; k <= N; k++) {
		if (mbx_buf_alloc(pub, FRAME, &off) < 0)
			return 1;
		memset(mbx_buf_ptr(base, off), 0, FRAME);
		*(uint32_t *)mbx_buf_ptr(base, off) = k;
		if (mbx_buf_send(pub, off, FRAME, 0) < 0)
			return 1;
	}
	close(pub);	/* end of stream for every subscriber */
	for (i = 0; i < SUBS; i++) {
		wait(&status);
		failed |= !WIFEXITED(status) || WEXITSTATUS(status);
	}
	printf("published %u frames of %d bytes once, to %d subscribers\n",
	       N, FRAME, SUBS);
	return failed;
}
