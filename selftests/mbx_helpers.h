/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the mailbox selftests: ports, waiting on another party
 * through MBX_IOC_PORT_INFO, children, privileges, module parameters, clocks
 * and payload patterns.
 *
 * Everything is static inline so that each *_test.c stays one translation
 * unit.  Nothing here uses the harness' ASSERT macros: helpers return 0 or a
 * value, or -errno, and the tests assert on that.
 *
 * Children: t_fork() children die with their parent (PR_SET_PDEATHSIG), so a
 * failed ASSERT in the test never leaves a blocked child behind.  A child
 * reports through its exit code: 0 for success, an errno value for an
 * unexpected error, or a T_BAD_* code.
 */
#ifndef MBX_HELPERS_H
#define MBX_HELPERS_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <mailbox.h>

/* Upper bound on every wait for another party (emulated VMs are slow). */
#define T_WAIT_MS		10000
/* How long a blocked party must stay blocked to count as blocked. */
#define T_BLOCKED_MS		100

#define T_PARAM_DIR		"/sys/module/mailbox/parameters/"

/* Child exit codes that are not errno values (errno values stay < 134). */
#define T_BAD_DATA		200	/* wrong payload, length, tag, ... */
#define T_BAD_SUCCESS		201	/* succeeded where it should have failed */
#define T_BAD_SETUP		202	/* the child could not set itself up */
#define T_BAD_ORPHAN		203	/* the parent was gone already */
#define T_NO_NS		250	/* the kernel lacks the namespace asked for */

#define T_UID1			1000
#define T_GID1			1000
#define T_UID2			1001
#define T_GID2			1001
#define T_NOBODY		65534

/* Exit code for a child from a libmailbox result: 0 or the errno. */
static inline int t_code(long ret)
{
	if (ret >= 0)
		return 0;
	return -ret < T_BAD_DATA ? (int)-ret : T_BAD_DATA - 1;
}

/* The next of a xorshift sequence of seed *@s (not 0), cheap under emulation. */
static inline uint64_t t_rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Put @v in its place among the @n sorted values of @sorted. */
static inline void t_sorted_add(uint64_t *sorted, int n, uint64_t v)
{
	for (; n > 0 && sorted[n - 1] > v; n--)
		sorted[n] = sorted[n - 1];
	sorted[n] = v;
}

static inline uint64_t t_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Sleep @ms milliseconds, resuming after signals. */
static inline void t_sleep_ms(unsigned int ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (long)(ms % 1000) * 1000000L,
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/*
 * pwrite() of @len bytes of junk (at most 64) to @addr through
 * /proc/@pid/mem: what it returned, or -2 if the file would not open.
 */
static inline ssize_t t_mem_write(pid_t pid, void *addr, size_t len)
{
	char path[64], junk[64];
	ssize_t n;
	int fd;

	if (len > sizeof(junk))
		return -2;
	memset(junk, 0xee, len);
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, O_RDWR);
	if (fd < 0)
		return -2;
	n = pwrite(fd, junk, len, (off_t)(uintptr_t)addr);
	close(fd);
	return n;
}

/* Run the calling thread on @cpu only. */
static inline int t_pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

/* ---- ports ---------------------------------------------------------- */

static inline int t_dev(void)
{
	int fd = open(MBX_DEVICE_PATH, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* Raw ioctl returning the result or -errno. */
static inline long t_ioctl(int fd, unsigned long cmd, void *arg)
{
	long ret = ioctl(fd, cmd, arg);

	return ret < 0 ? -errno : ret;
}

/*
 * Create a port with a pool of @pool bytes (0: none) through libmailbox;
 * returns the fd or -errno.
 */
static inline int t_pool_port(uint32_t capacity, uint32_t msg_size,
			      uint64_t pool, const char *name, uint32_t mode,
			      uint32_t flags)
{
	struct mbx_port_create c;

	memset(&c, 0, sizeof(c));
	c.capacity = capacity;
	c.max_msg_size = msg_size;
	c.mode = mode;
	c.flags = flags;
	c.pool_size = pool;
	if (name) {
		if (strlen(name) >= MBX_NAME_LEN)
			return -ENAMETOOLONG;
		strcpy(c.name, name);
	}
	return mbx_port_create(MBX_DEV_AUTO, &c);
}

/* Create a port without a pool; returns the fd or -errno. */
static inline int t_port(uint32_t capacity, uint32_t msg_size, uint32_t mode,
			 const char *name, uint32_t flags)
{
	return t_pool_port(capacity, msg_size, 0, name, mode, flags);
}

/* MBX_IOC_BUF_ALLOC of @len bytes: 0 with *@off set (if @off), or -errno. */
static inline long t_buf_alloc(int fd, uint64_t len, uint32_t flags,
			       uint64_t timeout_ns, uint64_t *off)
{
	struct mbx_buf b = { .len = len, .flags = flags,
			     .timeout_ns = timeout_ns };
	long ret = t_ioctl(fd, MBX_IOC_BUF_ALLOC, &b);

	if (!ret && off)
		*off = b.offset;
	return ret;
}

/* MBX_IOC_BUF_RELEASE of the region at @off: 0 or -errno. */
static inline long t_buf_release(int fd, uint64_t off, uint64_t len)
{
	struct mbx_buf b = { .offset = off, .len = len };

	return t_ioctl(fd, MBX_IOC_BUF_RELEASE, &b);
}

/* Copy-mode MBX_IOC_SEND of @buf with @flags: 0 or -errno. */
static inline long t_send(int fd, const void *buf, uint64_t len,
			  uint32_t prio, uint64_t tag, uint32_t flags)
{
	struct mbx_send s;

	memset(&s, 0, sizeof(s));
	s.buf = (uintptr_t)buf;
	s.len = len;
	s.prio = prio;
	s.tag = tag;
	s.flags = flags;
	return t_ioctl(fd, MBX_IOC_SEND, &s);
}

/* Non-blocking copy-mode send. */
static inline long t_send_copy(int fd, const void *buf, uint64_t len,
			       uint32_t prio, uint64_t tag)
{
	return t_send(fd, buf, len, prio, tag, MBX_NONBLOCK);
}

/* Non-blocking MBX_SEND_BUF send of the pool region (@off, @len). */
static inline long t_send_buf(int fd, uint64_t off, uint64_t len,
			      uint32_t prio, uint64_t tag)
{
	struct mbx_send s;

	memset(&s, 0, sizeof(s));
	s.offset = off;
	s.len = len;
	s.prio = prio;
	s.tag = tag;
	s.flags = MBX_SEND_BUF | MBX_NONBLOCK;
	return t_ioctl(fd, MBX_IOC_SEND, &s);
}

/* MBX_IOC_RECV into @buf with @flags; the kernel's answer is left in @r. */
static inline long t_recv(int fd, void *buf, uint64_t len, uint32_t flags,
			  struct mbx_recv *r)
{
	memset(r, 0, sizeof(*r));
	r->buf = (uintptr_t)buf;
	r->len = len;
	r->flags = flags;
	return t_ioctl(fd, MBX_IOC_RECV, r);
}

/* Non-blocking receive (@flags added); the kernel's answer is left in @r. */
static inline long t_recv_nb(int fd, void *buf, uint64_t len, uint32_t flags,
			     struct mbx_recv *r)
{
	return t_recv(fd, buf, len, flags | MBX_NONBLOCK, r);
}

/* An anonymous port with @capacity messages of up to @msg_size bytes. */
static inline int t_anon(uint32_t capacity, uint32_t msg_size)
{
	return t_port(capacity, msg_size, 0600, NULL, 0);
}

/*
 * Names: unique per test process.  Every name handed out is remembered so
 * that a fixture teardown can unlink whatever a failed test left linked.
 */
#define T_MAX_NAMES 64
static char t_names[T_MAX_NAMES][MBX_NAME_LEN];
static unsigned int t_nr_names;

static inline const char *t_name(char buf[MBX_NAME_LEN], const char *tag)
{
	snprintf(buf, MBX_NAME_LEN, "mbxt.%s.%d.%u", tag, (int)getpid(),
		 t_nr_names);
	if (t_nr_names < T_MAX_NAMES)
		strcpy(t_names[t_nr_names++], buf);
	return buf;
}

/* Unlink every name t_name() handed out; errors do not matter here. */
static inline void t_unlink_all(void)
{
	unsigned int i;

	for (i = 0; i < t_nr_names; i++)
		mbx_port_unlink(MBX_DEV_AUTO, t_names[i]);
	t_nr_names = 0;
}

static inline int t_info(int fd, struct mbx_port_info *info)
{
	memset(info, 0, sizeof(*info));
	return mbx_port_info(fd, info);
}

/* One __u32 field of PORT_INFO, or -errno. */
static inline long long t_info_u32(int fd, size_t off)
{
	struct mbx_port_info info;
	uint32_t v;
	int ret;

	ret = t_info(fd, &info);
	if (ret)
		return ret;
	memcpy(&v, (char *)&info + off, sizeof(v));
	return v;
}

#define T_INFO(fd, field) \
	t_info_u32(fd, offsetof(struct mbx_port_info, field))

static inline long long t_info_u64(int fd, size_t off)
{
	struct mbx_port_info info;
	uint64_t v;
	int ret;

	ret = t_info(fd, &info);
	if (ret)
		return ret;
	memcpy(&v, (char *)&info + off, sizeof(v));
	return (long long)v;
}

#define T_INFO64(fd, field) \
	t_info_u64(fd, offsetof(struct mbx_port_info, field))

/* The number of fds this process has open. */
static inline int t_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/*
 * Wait (bounded) until a __u32 PORT_INFO field reaches @want: how a test
 * knows that another party is blocked in send or receive.
 */
static inline int t_wait_info(int fd, size_t off, uint32_t want)
{
	uint64_t end = t_now_ns() + T_WAIT_MS * 1000000ULL;
	long long v;

	for (;;) {
		v = t_info_u32(fd, off);
		if (v < 0)
			return (int)v;
		if (v == want)
			return 0;
		if (t_now_ns() > end)
			return -ETIMEDOUT;
		usleep(1000);
	}
}

#define T_WAIT(fd, field, want) \
	t_wait_info(fd, offsetof(struct mbx_port_info, field), want)

/* fdinfo: copy the value of line "@key:" of @fd into @val; 0 or -errno. */
static inline int t_fdinfo(int fd, const char *key, char *val, size_t size)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	FILE *f;
	int ret = -ENOENT;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *v;

		if (strncmp(line, key, klen) || line[klen] != ':')
			continue;
		v = line + klen + 1;
		v += strspn(v, " \t");
		v[strcspn(v, "\n")] = '\0';
		snprintf(val, size, "%s", v);
		ret = 0;
		break;
	}
	fclose(f);
	return ret;
}

/* ---- payloads --------------------------------------------------------- */

static inline uint8_t t_pattern_byte(uint32_t seed, size_t i)
{
	uint32_t x = seed * 2654435761U + (uint32_t)i * 40503U + 0x9e37U;

	x ^= x >> 13;
	x *= 0x5bd1e995U;
	x ^= x >> 15;
	return (uint8_t)x;
}

static inline void t_fill(void *buf, size_t len, uint32_t seed)
{
	uint8_t *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = t_pattern_byte(seed, i);
}

/* 1 if @buf holds the pattern of @seed. */
static inline int t_check(const void *buf, size_t len, uint32_t seed)
{
	const uint8_t *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != t_pattern_byte(seed, i))
			return 0;
	return 1;
}

/* A page that faults on every access: a reliably bad user pointer. */
static inline void *t_bad_ptr(void)
{
	void *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);

	return p == MAP_FAILED ? (void *)8 : p;
}

/* Send a string (without its NUL) at @prio; 0 or -errno. */
static inline int t_send_str(int fd, const char *s, unsigned int prio)
{
	return mbx_send(fd, s, strlen(s), prio);
}

/* Non-blocking receive of a string into @buf (NUL-terminated); length or -errno. */
static inline ssize_t t_recv_str(int fd, char *buf, size_t size,
				 unsigned int *prio)
{
	ssize_t n = mbx_recv_nonblock(fd, buf, size - 1, prio);

	buf[n < 0 ? 0 : n] = '\0';
	return n;
}

/* Receive everything queued (non-blocking); returns the count or -errno. */
static inline int t_drain(int fd)
{
	char buf[64];
	int n = 0;
	ssize_t r;

	for (;;) {
		struct mbx_recv rv = {
			.buf = (uintptr_t)buf,
			.len = sizeof(buf),
			.flags = MBX_NONBLOCK,
		};

		r = t_ioctl(fd, MBX_IOC_RECV, &rv);
		if (r == -EAGAIN)
			return n;
		if (r < 0)
			return (int)r;
		n++;
	}
}

/* ---- children --------------------------------------------------------- */

/*
 * fork() for a second party: the child is killed when the test process
 * exits, however it exits.
 */
static inline pid_t t_fork(void)
{
	pid_t parent = getpid();
	pid_t pid, pp;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		pp = getppid();
		/* 0: our parent lives outside our (new) pid namespace */
		if (pp != parent && pp != 0)
			_exit(T_BAD_ORPHAN);
	}
	return pid;
}

/*
 * Wait up to @ms for @pid to end and reap it.  Returns its exit code,
 * 128 + signal if it was killed, or -ETIMEDOUT (it is then killed and
 * reaped).
 */
static inline int t_reap_ms(pid_t pid, unsigned int ms)
{
	uint64_t end = t_now_ns() + (uint64_t)ms * 1000000ULL;
	int st;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) :
					       128 + WTERMSIG(st);
		if (r < 0)
			return -errno;
		if (t_now_ns() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return -ETIMEDOUT;
		}
		usleep(1000);
	}
}

static inline int t_reap(pid_t pid)
{
	return t_reap_ms(pid, T_WAIT_MS);
}

/* 1 if @pid has not ended (it is not reaped either way). */
static inline int t_alive(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, pid, &si, WEXITED | WNOHANG | WNOWAIT))
		return 0;
	return si.si_pid == 0;
}

/* 1 if @pid is still running after T_BLOCKED_MS: it really is blocked. */
static inline int t_stays_blocked(pid_t pid)
{
	t_sleep_ms(T_BLOCKED_MS);
	return t_alive(pid);
}

static inline void t_kill(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}

/*
 * Wait (bounded) until @pid sleeps in a system call: used before waking a
 * poller, which PORT_INFO cannot see.  Falls back to a short sleep when
 * /proc does not tell.
 */
static inline int t_wait_sleeping(pid_t pid)
{
	uint64_t end = t_now_ns() + T_WAIT_MS * 1000000ULL;
	char path[64], buf[512], *p;
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	for (;;) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			t_sleep_ms(200);
			return 0;
		}
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0) {
			t_sleep_ms(200);
			return 0;
		}
		buf[n] = '\0';
		p = strrchr(buf, ')');
		if (p && p[1] == ' ' && p[2] == 'S') {
			/* give it a moment to be on the wait queue for sure */
			t_sleep_ms(20);
			return 0;
		}
		if (t_now_ns() > end)
			return -ETIMEDOUT;
		usleep(1000);
	}
}

/* ---- credentials and signals ------------------------------------------ */

/*
 * Write @map to /proc/@pid/@file (uid_map or gid_map) of a child that made
 * a user namespace: 0 or -errno.
 */
static inline int t_write_proc_map(pid_t pid, const char *file,
				   const char *map)
{
	char path[64];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, map, strlen(map)) != (ssize_t)strlen(map))
		ret = -errno;
	close(fd);
	return ret;
}

/* Drop to @uid/@gid with no supplementary groups (and no capabilities). */
static inline int t_become(uid_t uid, gid_t gid)
{
	if (setgroups(0, NULL))
		return -errno;
	if (setresgid(gid, gid, gid))
		return -errno;
	if (setresuid(uid, uid, uid))
		return -errno;
	return 0;
}

static inline void t_sig_noop(int sig)
{
	(void)sig;
}

/* Install a no-op handler for @sig with @flags (0 or SA_RESTART). */
static inline int t_handle(int sig, void (*fn)(int), int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn ? fn : t_sig_noop;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	return sigaction(sig, &sa, NULL) ? -errno : 0;
}

/* Shared anonymous memory for reports from children. */
static inline void *t_shared(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* A /proc/meminfo field in kB after dropping caches, or -1. */
static inline long t_meminfo_kb(const char *field)
{
	char line[128];
	size_t n = strlen(field);
	long val = -1;
	FILE *f;

	f = fopen("/proc/sys/vm/drop_caches", "we");
	if (f) {
		fputs("3\n", f);
		fclose(f);
	}
	f = fopen("/proc/meminfo", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == ':')
			val = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return val;
}

/*
 * The debug kernel: kmemleak reports every unreferenced object there, and
 * KASAN's quarantine keeps freed objects counted as slab for a while, so
 * memory totals say nothing and one leaked object is already reported.
 */
static inline bool t_kmemleak_kernel(void)
{
	return access("/sys/kernel/debug/kmemleak", F_OK) == 0;
}

/* ---- module parameters ------------------------------------------------ */

static inline int t_param_get(const char *name, unsigned long long *val)
{
	char path[256], buf[64];
	int fd, n;

	snprintf(path, sizeof(path), T_PARAM_DIR "%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	buf[n] = '\0';
	*val = strtoull(buf, NULL, 0);
	return 0;
}

static inline int t_param_set(const char *name, unsigned long long val)
{
	char path[256], buf[64];
	int fd, n, len;

	snprintf(path, sizeof(path), T_PARAM_DIR "%s", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%llu\n", val);
	n = write(fd, buf, len);
	n = n < 0 ? -errno : 0;
	close(fd);
	return n;
}

/*
 * What a port is charged for each message of up to @msg_size bytes
 * (docs/SEMANTICS.md): the memory the kernel takes for it, a 64-byte
 * header and the payload in 256, 512, 1024, 2048, 4608 or 10752 bytes;
 * past that, a small message (320 bytes) and the payload apart, in a
 * power of two of pages up to 4 MiB, whole pages beyond.
 */
static inline uint64_t t_msg_charge(uint32_t msg_size)
{
	static const uint32_t classes[] = { 256, 512, 1024, 2048, 4608, 10752, 0 };
	uint64_t page = sysconf(_SC_PAGESIZE);
	uint64_t size = msg_size, n;
	unsigned int i;

	for (i = 0; classes[i]; i++)
		if (msg_size <= classes[i])
			return 64 + classes[i];
	/* A small message's header, and the payload kvmalloc()ed apart. */
	if (size > 4ULL << 20)
		return 64 + 256 + (size + page - 1) / page * page;
	for (n = page; n < size; n *= 2)
		;
	return 64 + 256 + n;
}

/* Pass @fd over the unix socket @sock with SCM_RIGHTS: 0 or -errno. */
static inline int t_send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	char byte = 'F';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf,
		.msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c;

	memset(cbuf, 0, sizeof(cbuf));
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -errno;
}

/* Receive an fd sent by t_send_fd(), close-on-exec; the fd or -errno. */
static inline int t_recv_fd(int sock, int flags)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf,
		.msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | flags) != 1)
		return -EIO;
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -EBADMSG;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/* The module file in the VM ($MBX_MODULE, else /lib/modules/mailbox.ko). */
static inline const char *t_module_path(void)
{
	const char *p = getenv("MBX_MODULE");

	return p && *p ? p : "/lib/modules/mailbox.ko";
}

/* 1 if the module is listed (in any state), 0 if not, -errno. */
static inline int t_module_loaded(void)
{
	char line[256];
	FILE *f = fopen("/proc/modules", "re");
	int found = 0;

	if (!f)
		return -errno;
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, "mailbox ", 8);
	fclose(f);
	return found;
}

/* Load the module from t_module_path(): 0 or -errno. */
static inline int t_module_load(void)
{
	int fd = open(t_module_path(), O_RDONLY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return ret;
}

/* Unload the module without waiting: 0 or -errno (EBUSY while held). */
static inline int t_module_unload(void)
{
	return syscall(SYS_delete_module, "mailbox", O_NONBLOCK) ? -errno : 0;
}

#endif /* MBX_HELPERS_H */
