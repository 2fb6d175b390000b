/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Running mbxctl(1) from a selftest as a user would: a child with stdin,
 * stdout and stderr on pipes, its output and exit status collected, and
 * helpers to read stat and ls output.  Shared by mbxctl_test.c and
 * mbxctl_topic_test.c; static, like mbx_helpers.h.
 *
 * mbxctl is found on PATH (in the VM: /opt/mailbox/bin), or at $MBXCTL.
 * Runs as another user drop to that uid and gid (and no supplementary
 * groups) before exec.
 */
#ifndef MBXCTL_RUN_H
#define MBXCTL_RUN_H

#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "mbx_helpers.h"

#define MS		1000000ULL
#define OUT_MAX		65536
#define ERR_MAX		4096
#define MAX_ARGS	32

struct run {
	int status;		/* exit status, 128 + signal, or -errno */
	size_t out_len;
	char out[OUT_MAX + 1];
	char err[ERR_MAX + 1];
	uint64_t ns;		/* how long it ran */
};

struct proc {
	pid_t pid;
	int out, err;
	uint64_t start;
};

/*
 * Start mbxctl (or, with @shell, "sh -c ARGV0 ARGV1...") as @uid (0: stay root)
 * with @in_len bytes of @in on its stdin.
 */
static inline int spawn(struct proc *p, uid_t uid, bool shell,
			const void *in, size_t in_len,
			const char *const *argv)
{
	const char *path = getenv("MBXCTL");
	const char *args[MAX_ARGS + 2];
	int pin[2], pout[2], perr[2];
	size_t i;

	if (pipe2(pin, O_CLOEXEC) || pipe2(pout, O_CLOEXEC) ||
	    pipe2(perr, O_CLOEXEC))
		return -errno;
	p->start = t_now_ns();
	p->pid = t_fork();
	if (p->pid < 0)
		return -errno;
	if (p->pid == 0) {
		if (dup2(pin[0], 0) < 0 || dup2(pout[1], 1) < 0 ||
		    dup2(perr[1], 2) < 0)
			_exit(T_BAD_SETUP);
		umask(022);
		if (uid && t_become(uid, uid))
			_exit(T_BAD_SETUP);
		if (shell) {
			/* sh -c ARGV0 ARGV1...: ARGV1 is $0, and so on */
			args[0] = "sh";
			args[1] = "-c";
			for (i = 0; argv[i] && i < MAX_ARGS - 1; i++)
				args[i + 2] = argv[i];
			args[i + 2] = NULL;
			execv("/bin/sh", (char **)args);
			_exit(127);
		}
		args[0] = "mbxctl";
		for (i = 0; argv[i] && i < MAX_ARGS; i++)
			args[i + 1] = argv[i];
		args[i + 1] = NULL;
		if (path)
			execv(path, (char **)args);
		else
			execvp("mbxctl", (char **)args);
		_exit(127);
	}
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	/* Inputs are small: they fit in the pipe before mbxctl reads them. */
	if (in_len && write(pin[1], in, in_len) != (ssize_t)in_len) {
		close(pin[1]);
		return -EIO;
	}
	close(pin[1]);
	p->out = pout[0];
	p->err = perr[0];
	return 0;
}

/* Collect a spawned run's output and status (bounded by T_WAIT_MS). */
static inline void finish(struct proc *p, struct run *r)
{
	uint64_t end = t_now_ns() + 2 * T_WAIT_MS * MS;
	size_t err_len = 0;
	int open_fds = 2;

	r->out_len = 0;
	while (open_fds) {
		struct pollfd pfd[2] = {
			{ .fd = p->out, .events = POLLIN },
			{ .fd = p->err, .events = POLLIN },
		};
		int64_t left = (int64_t)(end - t_now_ns()) / (int64_t)MS;
		int i;

		if (left <= 0 || poll(pfd, 2, (int)left) <= 0)
			break;
		for (i = 0; i < 2; i++) {
			char *buf = i ? r->err : r->out;
			size_t *len = i ? &err_len : &r->out_len;
			size_t max = i ? ERR_MAX : OUT_MAX;
			char scratch[512];
			ssize_t n;

			if (pfd[i].fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP)))
				continue;
			if (*len < max)
				n = read(pfd[i].fd, buf + *len, max - *len);
			else
				n = read(pfd[i].fd, scratch, sizeof(scratch));
			if (n <= 0) {
				close(pfd[i].fd);
				if (i)
					p->err = -1;
				else
					p->out = -1;
				open_fds--;
			} else if (*len < max) {
				*len += (size_t)n;
			}
		}
	}
	if (p->out >= 0)
		close(p->out);
	if (p->err >= 0)
		close(p->err);
	r->out[r->out_len] = '\0';
	r->err[err_len] = '\0';
	r->status = t_reap(p->pid);
	r->ns = t_now_ns() - p->start;
}

static inline void run_v(struct run *r, uid_t uid, bool shell,
			 const void *in, size_t in_len,
			 const char *const *argv)
{
	struct proc p = { .pid = -1, .out = -1, .err = -1 };
	int ret;

	memset(r, 0, sizeof(*r));
	ret = spawn(&p, uid, shell, in, in_len, argv);
	if (ret) {
		r->status = ret;
		return;
	}
	finish(&p, r);
}

/* mbxctl ARGS... (NULL-terminated) as @uid with @in (a string) on stdin. */
static inline struct run *mbxctl_as(struct run *r, uid_t uid, const char *in, ...)
{
	const char *argv[MAX_ARGS + 1];
	va_list ap;
	int n = 0;

	va_start(ap, in);
	while (n < MAX_ARGS && (argv[n] = va_arg(ap, const char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	run_v(r, uid, false, in, in ? strlen(in) : 0, argv);
	return r;
}

#define MBXCTL(r, ...)		mbxctl_as(r, 0, NULL, __VA_ARGS__, NULL)
#define MBXCTL_IN(r, in, ...)	mbxctl_as(r, 0, in, __VA_ARGS__, NULL)
#define MBXCTL_AS(r, uid, ...)	mbxctl_as(r, uid, NULL, __VA_ARGS__, NULL)

/*
 * The value of "KEY: value" in mbxctl stat output, or NULL if there is no
 * such line, or more than one (a forged line in a name must not pass for
 * the real one).  Returns a pointer into a static buffer.
 */
static inline const char *stat_field(const char *out, const char *key)
{
	static char val[256];
	size_t klen = strlen(key);
	const char *line = out;
	int found = 0;

	while (line && *line) {
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			const char *v = line + klen + 1;
			size_t n;

			v += strspn(v, " ");
			n = strcspn(v, "\n");
			if (n >= sizeof(val))
				n = sizeof(val) - 1;
			memcpy(val, v, n);
			val[n] = '\0';
			found++;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return found == 1 ? val : NULL;
}

/*
 * @name as mbxctl shows it (ls, stat, error messages): every byte outside
 * printable ASCII, space and backslash included, as \ooo.  Into @buf.
 */
static inline const char *esc_name(char *buf, size_t size, const char *name)
{
	const unsigned char *p = (const unsigned char *)name;
	size_t o = 0;

	for (; *p && o + 5 < size; p++) {
		if (*p <= ' ' || *p >= 0x7f || *p == '\\')
			o += (size_t)snprintf(buf + o, size - o, "\\%03o", *p);
		else
			buf[o++] = (char)*p;
	}
	buf[o] = '\0';
	return buf;
}

/* Have t_unlink_all() remove @name too (one not made by t_name()). */
static inline void t_keep_name(const char *name)
{
	if (t_nr_names < T_MAX_NAMES)
		snprintf(t_names[t_nr_names++], MBX_NAME_LEN, "%s", name);
}

/* Wait until @pid is stopped by a signal (state T in /proc/PID/stat). */
static inline int wait_stopped(pid_t pid)
{
	uint64_t end = t_now_ns() + T_WAIT_MS * MS;
	char path[64], buf[256], *s;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	while (t_now_ns() < end) {
		f = fopen(path, "re");
		if (!f)
			return -errno;
		s = fgets(buf, sizeof(buf), f);
		fclose(f);
		s = s ? strrchr(buf, ')') : NULL;
		if (s && s[1] == ' ' && s[2] == 'T')
			return 0;
		t_sleep_ms(1);
	}
	return -ETIMEDOUT;
}

/* "sh -c CMD" (CMD from @fmt), as root, mbxctl found on PATH. */
static inline struct run *sh_run(struct run *r, const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	run_v(r, 0, true, "", 0, (const char *const[]){ cmd, NULL });
	return r;
}

/*
 * Split the line of @out whose field @col (0-based, separated by @sep;
 * ' ' means runs of spaces) is @key into @f; returns the field count, 0 if
 * no line matches.
 */
static inline int find_row(const char *out, char sep, int col,
			   const char *key, char f[][128], int max)
{
	const char *line = out;

	while (line && *line) {
		const char *end = strchrnul(line, '\n');
		const char delims[] = { sep, '\n', '\0' };
		const char *s = line;
		int n = 0;

		while (s < end && n < max) {
			size_t len;

			if (sep == ' ')
				while (s < end && *s == ' ')
					s++;
			if (s >= end)
				break;
			len = strcspn(s, delims);
			if (s + len > end)
				len = (size_t)(end - s);
			if (len > 127)
				len = 127;
			memcpy(f[n], s, len);
			f[n][len] = '\0';
			n++;
			s += len;
			if (sep != ' ' && s < end)
				s++;
		}
		if (n > col && !strcmp(f[col], key))
			return n;
		line = *end ? end + 1 : NULL;
	}
	return 0;
}

/* Show @what's output as TAP diagnostics, each line behind "# ". */
static inline void log_output(const char *what, const char *out)
{
	const char *end;

	printf("# %s:\n", what);
	for (; *out; out = *end ? end + 1 : end) {
		end = strchrnul(out, '\n');
		printf("#   %.*s\n", (int)(end - out), out);
	}
	fflush(stdout);
}

static inline int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* The message mbxctl prints for @name failing with @err. */
static inline int err_is(const struct run *r, const char *name, int err)
{
	char want[512];

	snprintf(want, sizeof(want), "mbxctl: %s: %s\n", name, strerror(err));
	return !!strstr(r->err, want);
}

#endif /* MBXCTL_RUN_H */
