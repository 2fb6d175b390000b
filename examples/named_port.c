// SPDX-License-Identifier: MIT
/*
 * named_port: two unrelated processes meet at a port name.
 *
 *   named_port server NAME   create NAME (mode 0622: anyone may send, only
 *                            its owner receive), print each message until
 *                            an empty one, then unlink NAME
 *   named_port client NAME   open NAME for sending only, send 3 messages
 *                            and an empty one
 *   named_port unlink NAME   remove a name left behind by a dead server
 *
 * A linked named port never reaches end of stream (anyone may still open it
 * and send), so the protocol says when to stop: here, an empty message.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <mailbox.h>

static int fail(const char *what, long err)
{
	fprintf(stderr, "named_port: %s: %s\n", what, strerror((int)-err));
	return 1;
}

static int server(const char *name)
{
	struct mbx_port_create attr = { .capacity = 8, .mode = 0622 };
	char buf[256];
	ssize_t len;
	int port, ret;

	if (strlen(name) >= sizeof(attr.name))
		return fail(name, -ENAMETOOLONG);
	strcpy(attr.name, name);
	port = mbx_port_create(MBX_DEV_AUTO, &attr);
	if (port < 0)
		return fail("create", port);
	for (;;) {
		struct mbx_recv r = { .buf = (uintptr_t)buf, .len = sizeof(buf) };

		len = mbx_recv_ex(port, &r);	/* _ex: also tells the sender */
		if (len <= 0)
			break;
		printf("%s: '%.*s' from pid %d uid %u\n", __func__, (int)len,
		       buf, r.pid, r.uid);
	}
	ret = mbx_port_unlink(MBX_DEV_AUTO, name);	/* new opens now fail */
	close(port);
	if (len < 0)
		return fail("receive", len);
	return ret < 0 ? fail("unlink", ret) : 0;
}

static int client(const char *name)
{
	char buf[64];
	int port, ret = 0, i;

	/* Started together with the server: give it up to 2 s to create NAME. */
	for (i = 0; i < 200; i++) {
		port = mbx_port_open(MBX_DEV_AUTO, name, MBX_SEND);
		if (port != -ENOENT)
			break;
		usleep(10000);
	}
	if (port < 0)
		return fail("open", port);
	for (i = 1; i <= 3 && !ret; i++) {
		snprintf(buf, sizeof(buf), "hello %d from pid %d", i, (int)getpid());
		ret = mbx_send(port, buf, strlen(buf), 0);
	}
	if (!ret)
		ret = mbx_send(port, "", 0, 0);	/* the end marker */
	close(port);
	if (ret)
		return fail("send", ret);
	printf("%s: sent 3 messages and the end marker\n", __func__);
	return 0;
}

int main(int argc, char **argv)
{
	int ret;

	if (argc == 3 && !strcmp(argv[1], "server"))
		return server(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "client"))
		return client(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "unlink")) {
		ret = mbx_port_unlink(MBX_DEV_AUTO, argv[2]);
		return ret ? fail("unlink", ret) : 0;
	}
	fprintf(stderr, "usage: %s server|client|unlink NAME\n", argv[0]);
	return 2;
}
