// SPDX-License-Identifier: MIT
/*
 * producer_consumer: blocking send and receive over an anonymous port.
 *
 * Like pipe2(), mbx_port_pair() gives a receive end fds[0] and a send end
 * fds[1] of a port that holds 4 messages.  The child keeps the send end and
 * sends N numbered messages with blocking sends (it sleeps whenever the
 * queue is full), then exits.  The parent keeps the receive end and
 * receives until end of stream, which comes when the last send end is
 * closed: mbx_recv() returns -EPIPE and read() returns 0.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <mailbox.h>

#define N 10000

int main(void)
{
	struct mbx_port_create attr = { .capacity = 4, .flags = MBX_CLOEXEC };
	unsigned long got = 0, sum = 0;
	unsigned int i;
	int fds[2], ret, status;
	ssize_t len;
	pid_t pid;

	ret = mbx_port_pair(MBX_DEV_AUTO, &attr, fds);
	if (ret < 0) {
		fprintf(stderr, "mbx_port_pair: %s\n", strerror(-ret));
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {			/* the producer */
		close(fds[0]);
		for (i = 1; i <= N; i++)
			if (mbx_send(fds[1], &i, sizeof(i), 0) < 0)
				_exit(1);
		_exit(0);		/* closes the last send end */
	}
	close(fds[1]);
	/* The consumer: every message is one unsigned int. */
	while ((len = mbx_recv(fds[0], &i, sizeof(i), NULL)) == sizeof(i)) {
		got++;
		sum += i;
	}
	printf("consumer: %lu messages, sum %lu (expected %lu), then %s\n",
	       got, sum, (unsigned long)N * (N + 1) / 2,
	       len == -EPIPE ? "-EPIPE: end of stream" : strerror((int)-len));
	printf("consumer: read() at end of stream returns %zd\n",
	       read(fds[0], &i, sizeof(i)));
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		return 1;
	return !(len == -EPIPE && got == N);
}
