// SPDX-License-Identifier: MIT
/*
 * epoll_poller: a non-blocking receiver driven by epoll.
 *
 * The child keeps the send end of a port pair, sends 5 messages 100 ms
 * apart, then shuts the port down.  The parent keeps the receive end only
 * and sleeps in epoll_wait(); on EPOLLIN it drains the queue with
 * mbx_recv_nonblock() until -EAGAIN.  EPOLLHUP (always reported) means
 * shutdown, or no send end left (the child exited, even early): drain
 * what is left until -EPIPE, the end of stream.
 * The fds stay blocking because the child makes blocking sends (the
 * pair's flags apply to both ends); the receiver asks for non-blocking
 * per call instead.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>
#include <mailbox.h>

int main(void)
{
	struct mbx_port_create attr = { .capacity = 16, .flags = MBX_CLOEXEC };
	struct epoll_event ev = { .events = EPOLLIN };
	char buf[64];
	ssize_t len = -EAGAIN;
	int fds[2], ep, i, ret, status;
	pid_t pid;

	setvbuf(stdout, NULL, _IOLBF, 0);
	ret = mbx_port_pair(MBX_DEV_AUTO, &attr, fds);	/* [0] recv, [1] send */
	if (ret < 0) {
		fprintf(stderr, "mbx_port_pair: %s\n", strerror(-ret));
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {					/* the producer */
		close(fds[0]);
		for (i = 1; i <= 5; i++) {
			usleep(100000);
			len = snprintf(buf, sizeof(buf), "tick %d", i);
			if (mbx_send(fds[1], buf, len, 0) < 0)
				_exit(1);
		}
		_exit(mbx_shutdown(fds[1]) < 0);
	}
	close(fds[1]);		/* so that the child's exit ends the stream */
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fds[0], &ev) < 0) {
		perror("epoll");
		return 1;
	}
	while (len == -EAGAIN) {		/* until end of stream */
		if (epoll_wait(ep, &ev, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("epoll_wait");
			return 1;
		}
		printf("epoll:%s%s\n", ev.events & EPOLLIN ? " EPOLLIN" : "",
		       ev.events & EPOLLHUP ? " EPOLLHUP" : "");
		while ((len = mbx_recv_nonblock(fds[0], buf, sizeof(buf), NULL)) >= 0)
			printf("  got '%.*s'\n", (int)len, buf);
	}
	printf("%s\n", len == -EPIPE ? "end of stream" : strerror((int)-len));
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		return 1;
	return len != -EPIPE;
}
