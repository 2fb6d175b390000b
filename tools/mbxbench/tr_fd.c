// SPDX-License-Identifier: GPL-2.0
/*
 * mbxbench: transports over pipes and AF_UNIX sockets.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

/* --- pipes and sockets: read()/write(), whole messages ------------------- */

static int fd_tx(struct chan *c, uint64_t seq)
{
	ssize_t n;

	if (c->e2e && !c->off)
		fill(c->buf, c->size, seq);
	while (c->off < c->size) {
		n = write(c->fd[TX], c->buf + c->off, c->size - c->off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		c->off += n;
	}
	c->off = 0;
	return 1;
}

static int fd_rx(struct chan *c, uint64_t seq)
{
	ssize_t n;

	while (c->off < c->size) {
		n = read(c->fd[RX], c->buf + c->off, c->size - c->off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (!n)
			return -EPIPE;
		c->off += n;
	}
	c->off = 0;
	if (c->e2e && check(c->buf, c->size, seq))
		return -EBADMSG;
	return 1;
}

/*
 * Pipes get a buffer of at least a round trip's or a stream's worth of
 * messages (root may exceed /proc/sys/fs/pipe-max-size).
 */
static int pipe_open(struct chan *c)
{
	int fds[2];
	size_t want = roundup_pow2(chan_bytes(c));

	if (pipe2(fds, O_CLOEXEC | (c->nonblock ? O_NONBLOCK : 0)))
		return -errno;
	if (want > 64 * KiB && fcntl(fds[1], F_SETPIPE_SZ, (int)want) < 0) {
		int err = -errno;

		close(fds[0]);
		close(fds[1]);
		return err;
	}
	c->fd[RX] = fds[0];
	c->fd[TX] = fds[1];
	return 0;
}

static int sock_open(struct chan *c, int type)
{
	int sv[2], bytes = (int)(chan_bytes(c) + 256 * KiB);

	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC |
		       (c->nonblock ? SOCK_NONBLOCK : 0), 0, sv))
		return -errno;
	/* Room for every message in flight; the kernel doubles the value. */
	if (setsockopt(sv[1], SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof(bytes)) ||
	    setsockopt(sv[0], SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes))) {
		int err = -errno;

		close(sv[0]);
		close(sv[1]);
		return err;
	}
	c->fd[RX] = sv[0];
	c->fd[TX] = sv[1];
	return 0;
}

static int stream_open(struct chan *c)
{
	return sock_open(c, SOCK_STREAM);
}

static int seqpacket_open(struct chan *c)
{
	return sock_open(c, SOCK_SEQPACKET);
}

const struct transport tr_pipe = {
	.name = "pipe",
	.what = "pipe(2), read/write; buffer sized to what is in flight",
	.scens = SC_ALL | SC_PUBS | B(SC_RTT_SLEEP) | B(SC_IDLE),
	.open = pipe_open,
	.close = close_fds,
	.attach = attach_buf,
	.tx = fd_tx,
	.rx = fd_rx,
};

const struct transport tr_unix_stream = {
	.name = "unix-stream",
	.what = "AF_UNIX SOCK_STREAM socketpair, read/write",
	.scens = SC_RTTS | B(SC_EPOLL) | B(SC_STREAM) | B(SC_E2E),
	.open = stream_open,
	.close = close_fds,
	.attach = attach_buf,
	.tx = fd_tx,
	.rx = fd_rx,
};

const struct transport tr_unix_seqpacket = {
	.name = "unix-seqpacket",
	.what = "AF_UNIX SOCK_SEQPACKET socketpair, read/write",
	.scens = SC_RTTS | B(SC_EPOLL) | B(SC_STREAM) | B(SC_E2E),
	.open = seqpacket_open,
	.close = close_fds,
	.attach = attach_buf,
	.tx = fd_tx,
	.rx = fd_rx,
};
