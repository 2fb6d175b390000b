// SPDX-License-Identifier: MIT
/*
 * ring: a producer and a consumer process on a ring port, zero copy.
 *
 * The producer reserves room for each record in the ring itself, writes
 * the record there and commits; the consumer reads each record in place
 * (peek) and then frees it (release).  Neither makes a system call while
 * the other keeps up: a side enters the kernel only to sleep when it has
 * nothing to do, or to wake the other side when that one asked for it.
 * Records have any length, here from 8 bytes to 1 KiB, each numbered and
 * checksummed.  When the producer is done it detaches and closes its fd;
 * the consumer reads what is left, then gets EPIPE: the end of the stream.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <mailbox.h>

#define RING_SIZE	(64 * 1024)	/* bytes of records: a power of two */
#define RECORDS		20000
#define BATCH		8		/* records per commit */

struct record {
	uint32_t seq;
	uint32_t len;		/* bytes of data[] */
	uint64_t sum;		/* checksum of data[] */
	unsigned char data[];
};

static uint64_t checksum(const unsigned char *p, size_t len)	/* FNV-1a */
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (len--)
		h = (h ^ *p++) * 0x100000001b3ULL;
	return h;
}

/* Record @seq's payload length: 8 bytes to 1 KiB, varying. */
static uint32_t payload_len(uint32_t seq)
{
	return 8 + (seq * 2654435761U) % 1017;
}

/*
 * Write the records.  Whatever happens, the producer detaches and closes
 * its fd at the end: with no producer left the stream ends, so that a
 * producer that fails ends the consumer's wait too.
 */
static int produce(int fd)
{
	struct mbx_ring *ring;
	uint32_t seq;
	int ret = 1;

	if (mbx_ring_attach(fd, MBX_RING_PRODUCER, &ring) < 0) {
		perror("ring: attach as producer");
		close(fd);
		return 1;
	}
	for (seq = 0; seq < RECORDS; seq++) {
		uint32_t len = payload_len(seq);
		struct record *r;

		/* Room in the ring itself; waits while the ring is full. */
		r = mbx_ring_reserve(ring, sizeof(*r) + len, MBX_RING_FOREVER);
		if (!r) {
			perror("ring: reserve");
			goto out;
		}
		r->seq = seq;
		r->len = len;
		for (uint32_t i = 0; i < len; i++)
			r->data[i] = (unsigned char)(seq + i * 7);
		r->sum = checksum(r->data, len);
		/*
		 * One commit publishes every record reserved since the last
		 * one.  Reserved records count as used space until then, so
		 * commit before a batch could outgrow the ring.
		 */
		if (seq % BATCH == BATCH - 1 && mbx_ring_commit(ring) < 0) {
			perror("ring: commit");
			goto out;
		}
	}
	if (mbx_ring_commit(ring) < 0) {
		perror("ring: commit");
		goto out;
	}
	printf("producer: %u records written in place\n", RECORDS);
	ret = 0;
out:
	/* Unmap and close: once no producer is left, the stream ends. */
	mbx_ring_detach(ring);
	close(fd);
	return ret;
}

static int consume(int fd)
{
	uint32_t next = 0, bad = 0;
	struct mbx_ring *ring;
	uint64_t bytes = 0;

	if (mbx_ring_attach(fd, MBX_RING_CONSUMER, &ring) < 0) {
		perror("ring: attach as consumer");
		return 1;
	}
	for (;;) {
		const struct record *r;
		size_t len;

		r = mbx_ring_peek(ring, &len, MBX_RING_FOREVER);
		if (!r && errno == EPIPE)	/* end of stream, ring empty */
			break;
		if (!r) {
			perror("ring: peek");
			return 1;
		}
		/*
		 * Read in place.  The library checked that the record lies
		 * in the ring; what it says about itself is checked here,
		 * each field read once.
		 */
		if (len < sizeof(*r) || r->len != len - sizeof(*r) || r->seq != next ||
		    checksum(r->data, len - sizeof(*r)) != r->sum)
			bad++;
		next++;
		bytes += len;
		/* The space goes back to the producer. */
		if (mbx_ring_release(ring) < 0) {
			perror("ring: release");
			return 1;
		}
	}
	printf("consumer: %u records, %llu bytes, read in place, %u bad, then end of stream\n",
	       next, (unsigned long long)bytes, bad);
	mbx_ring_detach(ring);
	close(fd);
	return next == RECORDS && !bad ? 0 : 2;
}

int main(void)
{
	int port, prod_fd, cons_fd, status, failed;
	pid_t pid;

	port = mbx_ring_port_create(MBX_DEV_AUTO, NULL, RING_SIZE, 0600, 0);
	if (port < 0) {
		perror("ring: create a ring port");
		return 1;
	}
	/*
	 * One fd per role: a producer fd that may only send, a consumer fd
	 * that may only receive.  A role belongs to the open file that
	 * attached it, so each process keeps only its own.
	 */
	prod_fd = mbx_port_dup(port, MBX_SEND);
	cons_fd = mbx_port_dup(port, MBX_RECV);
	close(port);
	if (prod_fd < 0 || cons_fd < 0) {
		fprintf(stderr, "ring: mbx_port_dup: %s\n",
			strerror(-(prod_fd < 0 ? prod_fd : cons_fd)));
		return 1;
	}

	pid = fork();
	if (pid < 0) {
		perror("ring: fork");
		return 1;
	}
	if (pid == 0) {
		close(prod_fd);
		failed = consume(cons_fd);
		fflush(stdout);		/* _exit() does not */
		_exit(failed);
	}
	close(cons_fd);
	failed = produce(prod_fd);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		failed = 1;
	puts(failed ? "ring: FAILED" :
	     "ring: every record arrived once, in order, intact, then end of stream");
	return failed;
}
