// SPDX-License-Identifier: MIT
/*
 * epoll_poller: a non-blocking receiver driven by epoll.
 *
 * The child sends 5 messages 100 ms apart, then shuts the port down.  The
 * parent sleeps in epoll_wait(); on EPOLLIN it drains the queue with
 * mbx_recv_nonblock() until -EAGAIN.  EPOLLHUP (always reported) means
 * shutdown: drain what is left until -EPIPE, the end of stream.
 * The fd itself stays blocking because the child shares it for blocking
 * sends; the receiver asks for non-blocking per call instead.
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
	int port, ep, i, status;

	setvbuf(stdout, NULL, _IOLBF, 0);
	port = mbx_port_create(MBX_DEV_AUTO, &attr);
	if (port < 0) {
		fprintf(stderr, "mbx_port_create: %s\n", strerror(-port));
		return 1;
	}
	if (fork() == 0) {				/* the producer */
		for (i = 1; i <= 5; i++) {
			usleep(100000);
			len = snprintf(buf, sizeof(buf), "tick %d", i);
			if (mbx_send(port, buf, len, 0) < 0)
				_exit(1);
		}
		_exit(mbx_shutdown(port) < 0);
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, port, &ev) < 0) {
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
		while ((len = mbx_recv_nonblock(port, buf, sizeof(buf), NULL)) >= 0)
			printf("  got '%.*s'\n", (int)len, buf);
	}
	printf("%s\n", len == -EPIPE ? "end of stream" : strerror((int)-len));
	if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		return 1;
	return len != -EPIPE;
}
