// SPDX-License-Identifier: GPL-2.0
/*
 * mq_test.c built as an ordinary program against glibc's mq_* (-lrt, no
 * libmailbox-mq), run with LD_PRELOAD=libmailbox-mq.so.1: it re-executes
 * itself with the library preloaded from ../lib next to its own directory
 * (/opt/mailbox/lib in the VM), unless LD_PRELOAD is already set.
 */
#define MQ_PRELOAD 1
#define main mq_test_main
#include "mq_test.c"
#undef main

#include <libgen.h>

int main(int argc, char **argv)
{
	char exe[PATH_MAX], dir[PATH_MAX + 16], lib[PATH_MAX + 64];
	ssize_t n;

	if (getenv("LD_PRELOAD"))
		return mq_test_main(argc, argv);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0) {
		perror("mq_preload_test: /proc/self/exe");
		return 1;
	}
	exe[n] = '\0';
	snprintf(dir, sizeof(dir), "%s/../lib", dirname(exe));
	snprintf(lib, sizeof(lib), "%s/libmailbox-mq.so.1", dir);
	if (access(lib, R_OK)) {
		fprintf(stderr, "mq_preload_test: %s: %s\n", lib,
			strerror(errno));
		return 1;
	}
	setenv("LD_PRELOAD", lib, 1);
	setenv("LD_LIBRARY_PATH", dir, 1);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n] = '\0';
	execv(exe, argv);
	perror("mq_preload_test: execv");
	return 1;
}
