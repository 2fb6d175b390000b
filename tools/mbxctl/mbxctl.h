/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mbxctl: what the files of the tool share.  The exit statuses, and the
 * functions each file offers the others.
 */
#ifndef MBXCTL_MBXCTL_H
#define MBXCTL_MBXCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* Exit status: what a shell script may rely on. */
enum {
	EXIT_OK,		/* success */
	EXIT_USAGE,	/* bad command line */
	EXIT_NOENT,	/* no such port (ENOENT) */
	EXIT_PERM,		/* permission denied (EACCES, EPERM) */
	EXIT_AGAIN,	/* timed out or would block (ETIMEDOUT, EAGAIN) */
	EXIT_PIPE,		/* end of stream or shut down (EPIPE) */
	EXIT_ERROR,	/* anything else */
};

#define EXIT_STATUS_HELP \
	"Exit status:\n" \
	"  0  success\n" \
	"  1  usage error\n" \
	"  2  no such port (ENOENT)\n" \
	"  3  permission denied (EACCES, EPERM)\n" \
	"  4  timed out or would block (ETIMEDOUT, EAGAIN)\n" \
	"  5  end of stream or port shut down (EPIPE)\n" \
	"  6  any other error (/dev/mailbox missing included)\n"

/* common.c: errors, parsing, the device and ports, the clock */
int fail(int err, const char *fmt, ...);
int parse_num(const char *s, uint64_t max, bool sizes, uint64_t *out);
int parse_mode(const char *s, uint32_t *mode);
int check_name(const char *name);
int dev_open(int *dev);
int port_open(const char *name, unsigned int flags, int *code);
int port_open_any(const char *name, int *code);
uint64_t mono_ns(void);

/* An escaped name: up to 4 bytes for each of MBX_NAME_MAX, and a NUL. */
#define NAME_ESC_SIZE	256

/* format.c: sizes, names, CSV fields, users and groups */
void fmt_size(char *buf, size_t size, unsigned long long v);
void fmt_name(char *buf, size_t size, const char *name);
const char *ename(const char *s);
void put_csv(FILE *f, const char *s);
const char *access_str(uint32_t access);
const char *state_str(uint32_t state);
const char *ring_status_str(uint32_t st);
void fmt_id(char *buf, size_t size, const char *file, uint32_t id,
	    bool numeric);

/* main.c: usage errors and the options of the subcommand being run */
int usage_error(const char *fmt, ...);
int next_opt(int argc, char **argv, const char *optstring);

/* What a subcommand returns when next_opt() gives 'h' or '?'. */
#define OPT_END(c) ((c) == 'h' ? EXIT_OK : EXIT_USAGE)

/* ports.c: the port subcommands (argv[0] is the subcommand) */
int cmd_ls(int argc, char **argv);
int cmd_stat(int argc, char **argv);
int cmd_create(int argc, char **argv);
int cmd_unlink(int argc, char **argv);

/* msg.c: the message subcommands, and the options pub shares with send */
int cmd_send(int argc, char **argv);
int cmd_recv(int argc, char **argv);
struct mbx_send;
int send_open(int argc, char **argv, struct mbx_send *args, const char *what,
	      const char **namep, int *code);
int parse_timeout(const char *s, uint64_t *ns);

/* topic.c: the topic subcommands */
int cmd_pub(int argc, char **argv);
int cmd_sub(int argc, char **argv);

/* watch.c */
int cmd_watch(int argc, char **argv);

#endif /* MBXCTL_MBXCTL_H */
