/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The main() of an mq selftest built as an ordinary program against
 * glibc's mq_* (-lrt, no libmailbox-mq) and run with
 * LD_PRELOAD=libmailbox-mq.so.1: it re-executes itself with the library
 * preloaded from ../lib next to its own directory (/opt/mailbox/lib in the
 * VM), unless LD_PRELOAD is already set.  Include it after the test
 * source, itself included with main renamed to mq_test_main.
 */
#ifndef MQ_PRELOAD_H
#define MQ_PRELOAD_H

#include <libgen.h>

int main(int argc, char **argv)
{
	char exe[PATH_MAX], dir[PATH_MAX + 16], lib[PATH_MAX + 64];
	ssize_t n;

	if (getenv("LD_PRELOAD"))
		return mq_test_main(argc, argv);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0) {
		perror("mq preload test: /proc/self/exe");
		return 1;
	}
	exe[n] = '\0';
	snprintf(dir, sizeof(dir), "%s/../lib", dirname(exe));
	snprintf(lib, sizeof(lib), "%s/libmailbox-mq.so.1", dir);
	if (access(lib, R_OK)) {
		fprintf(stderr, "mq preload test: %s: %s\n", lib,
			strerror(errno));
		return 1;
	}
	setenv("LD_PRELOAD", lib, 1);
	setenv("LD_LIBRARY_PATH", dir, 1);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n] = '\0';
	execv(exe, argv);
	perror("mq preload test: execv");
	return 1;
}

#endif /* MQ_PRELOAD_H */
