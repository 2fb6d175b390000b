// SPDX-License-Identifier: MIT
/*
 * rendezvous: a port of capacity 0 holds no messages.
 *
 * A send completes only when a receiver takes the message, so a
 * non-blocking send with no receiver waiting fails with -EAGAIN.  Then the
 * child makes a blocking send while the parent waits 300 ms before
 * receiving: the timestamps show the send returning only after the parent
 * took the message.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <mailbox.h>

/* CLOCK_MONOTONIC in milliseconds */
static double ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(void)
{
	struct mbx_port_create attr = { .capacity = 0, .flags = MBX_CLOEXEC };
	char buf[16];
	int port, ret, status;
	double t0;
	ssize_t len;

	setvbuf(stdout, NULL, _IOLBF, 0);
	port = mbx_port_create(MBX_DEV_AUTO, &attr);
	if (port < 0) {
		fprintf(stderr, "mbx_port_create: %s\n", strerror(-port));
		return 1;
	}
	ret = mbx_send_nonblock(port, "early", 5, 0);
	printf("non-blocking send, no receiver waiting: %s\n",
	       ret == -EAGAIN ? "-EAGAIN" : strerror(-ret));
	if (ret != -EAGAIN)
		return 1;

	t0 = ms();
	if (fork() == 0) {
		printf("[%5.1f ms] child: sending\n", ms() - t0);
		ret = mbx_send(port, "hello", 5, 0);
		printf("[%5.1f ms] child: send returned %d\n", ms() - t0, ret);
		_exit(ret < 0 || ms() - t0 < 300);	/* it waited for us */
	}
	usleep(300000);
	printf("[%5.1f ms] parent: receiving\n", ms() - t0);
	len = mbx_recv(port, buf, sizeof(buf), NULL);
	printf("[%5.1f ms] parent: received %zd bytes\n", ms() - t0, len);
	if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		return 1;
	return len != 5;
}
