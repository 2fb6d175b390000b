// SPDX-License-Identifier: MIT
/*
 * rendezvous: a port of capacity 0 holds no messages.
 *
 * A send completes only when a receiver takes the message, so a
 * non-blocking send with no receiver waiting fails with -EAGAIN.  Then the
 * child, with the send end of a port pair, makes a blocking send while the
 * parent, with the receive end only, waits 300 ms before receiving: the
 * timestamps show the send returning only after the parent took the
 * message.  Should the child die first, the parent gets end of stream.
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
	int fds[2], ret, status;
	double t0;
	ssize_t len;
	pid_t pid;

	setvbuf(stdout, NULL, _IOLBF, 0);
	ret = mbx_port_pair(MBX_DEV_AUTO, &attr, fds);	/* [0] recv, [1] send */
	if (ret < 0) {
		fprintf(stderr, "mbx_port_pair: %s\n", strerror(-ret));
		return 1;
	}
	ret = mbx_send_nonblock(fds[1], "early", 5, 0);
	printf("non-blocking send, no receiver waiting: %s\n",
	       ret == -EAGAIN ? "-EAGAIN" : strerror(-ret));
	if (ret != -EAGAIN)
		return 1;

	t0 = ms();
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		close(fds[0]);
		printf("[%5.1f ms] child: sending\n", ms() - t0);
		ret = mbx_send(fds[1], "hello", 5, 0);
		printf("[%5.1f ms] child: send returned %d\n", ms() - t0, ret);
		_exit(ret < 0 || ms() - t0 < 300);	/* it waited for us */
	}
	close(fds[1]);		/* so that the child's exit ends the stream */
	usleep(300000);
	printf("[%5.1f ms] parent: receiving\n", ms() - t0);
	len = mbx_recv(fds[0], buf, sizeof(buf), NULL);
	if (len < 0)
		printf("[%5.1f ms] parent: %s\n", ms() - t0, strerror((int)-len));
	else
		printf("[%5.1f ms] parent: received %zd bytes\n", ms() - t0, len);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		return 1;
	return len != 5;
}
