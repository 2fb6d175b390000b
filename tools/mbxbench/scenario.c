// SPDX-License-Identifier: GPL-2.0
/*
 * mbxbench: the tables of scenarios and of setup and per-call operations.
 */
#define _GNU_SOURCE

#include "bench.h"

/* Message sizes of each scenario, 0-terminated. */
const size_t all_sizes[] = {
	8, 64, 256, 1 * KiB, 4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, 1 * MiB,
	4 * MiB, 0
};

static const size_t rtt1_sizes[] = {
	8, 64, 256, 4 * KiB, 64 * KiB, 1 * MiB, 0
};

static const size_t epoll_sizes[] = { 8, 256, 4 * KiB, 64 * KiB, 1 * MiB, 0 };

static const size_t e2e_sizes[] = {
	1 * KiB, 4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, 1 * MiB, 4 * MiB, 0
};

static const size_t fan_sizes[] = { 64, 4 * KiB, 0 };
static const size_t setup_sizes[] = { 64 * KiB, 1 * MiB, 4 * MiB, 0 };
static const size_t calls_sizes[] = { 64, 1 * MiB, 0 };
const size_t no_size[] = { 0, 0 };

const struct scenario scenarios[NR_SC] = {
	[SC_RTT2] = { "rtt", "Blocking round trip, 2 vCPUs (client CPU 0, server CPU 1)",
		      K_RTT, all_sizes, .unit = "round trip" },
	[SC_RTT1] = { "rtt-1cpu", "Blocking round trip, 1 vCPU (client and server on CPU 0)",
		      K_RTT, rtt1_sizes, .one_cpu = true, .unit = "round trip" },
	[SC_EPOLL] = { "rtt-epoll", "Non-blocking round trip driven by epoll_wait, 2 vCPUs",
		       K_RTT, epoll_sizes, .epoll = true, .unit = "round trip" },
	[SC_STREAM] = { "stream",
			"One-way streaming, transport only (payload untouched), producer CPU 0, consumer CPU 1",
			K_STREAM, all_sizes, .unit = "message (inter-arrival)" },
	[SC_E2E] = { "stream-e2e",
		     "One-way streaming, end to end (every byte written and checksummed)",
		     K_STREAM, e2e_sizes, .e2e = true, .unit = "message (inter-arrival)" },
	[SC_FANIN] = { "fan-in", "Fan-in 4:1 (producers CPU 0, consumer CPU 1), aggregate",
		       K_FAN, fan_sizes, .consumers = 1, .unit = "message (inter-arrival)" },
	[SC_FANMN] = { "fan-4x4",
		       "4 producers x 4 consumers (producers CPU 0, consumers CPU 1), aggregate",
		       K_FAN, fan_sizes, .consumers = FAN,
		       .unit = "message (inter-arrival, per consumer)" },
	[SC_SETUP] = { "setup", "Setup cost, one process on CPU 0 (size: pool or shm size)",
		       K_SETUP, setup_sizes, .unit = "operation" },
	[SC_CALLS] = { "calls", "Per-call cost in one process, nobody waits or wakes (CPU 0)",
		       K_SETUP, calls_sizes, .unit = "operation (per message for batches)" },
};

const struct setup_op setup_ops[] = {
	{ "pipe", "pipe2 + 2 close", SC_SETUP, false, NULL, su_pipe, 1, 0 },
	{ "unix-stream", "socketpair + 2 close", SC_SETUP, false, NULL, su_stream, 1, 0 },
	{ "unix-seqpacket", "socketpair + 2 close", SC_SETUP, false, NULL,
	  su_seqpacket, 1, 0 },
	{ "posix-mq", "mq_open(O_CREAT) + mq_unlink + close", SC_SETUP, false,
	  NULL, su_mq, 1, 0 },
	{ "eventfd", "eventfd + close", SC_SETUP, false, NULL, su_eventfd, 1, 0 },
	{ "mbx-port", "port create + close, no pool", SC_SETUP, false, NULL,
	  su_port, 1, 0 },
	{ "mbx-port+pool", "port create with a pool + close", SC_SETUP, true,
	  NULL, su_port, 1, 0 },
	{ "shm-create", "memfd_create + ftruncate + mmap + munmap + close",
	  SC_SETUP, true, NULL, su_shm_create, 1, 0 },
	{ "mbx-pool-map", "mbx_pool_map + munmap", SC_SETUP, true, su_pool_prep,
	  su_pool_map, 1, 0 },
	{ "shm-map", "mmap + munmap of a memfd", SC_SETUP, true, su_memfd,
	  su_shm_map, 1, 0 },
	{ "mbx-pool-map+touch", "mbx_pool_map + read every page + munmap",
	  SC_SETUP, true, su_pool_prep, su_pool_map_touch, 1, 0 },
	{ "shm-map+touch", "mmap + read every page + munmap of a memfd",
	  SC_SETUP, true, su_memfd, su_shm_map_touch, 1, 0 },

	{ "syscall", "getppid(), the system call floor", SC_CALLS, false, NULL,
	  pc_syscall, 1, 0 },
	{ "eventfd-w+r", "eventfd write + read", SC_CALLS, false,
	  pc_eventfd_prep, pc_eventfd, 1, 0 },
	{ "pipe-w+r", "pipe write + read", SC_CALLS, true, pc_pipe_prep, pc_pipe, 1, 0 },
	{ "mq-send+recv", "mq_send + mq_receive", SC_CALLS, true, pc_mq_prep,
	  pc_mq, 1, 0 },
	{ "mbx-send+recv", "mbx_send + mbx_recv (ioctls), one port", SC_CALLS,
	  true, pc_port_prep, pc_mbx_copy, 1, 0 },
	{ "mbx-write+read", "write + read on a port fd", SC_CALLS, true,
	  pc_port_prep, pc_mbx_rw, 1, 0 },
	{ "mbx-call-self", "mbx_call sending to and receiving from one port",
	  SC_CALLS, true, pc_port_prep, pc_mbx_call, 1, 0 },
	{ "mbx-alloc+release", "mbx_buf_alloc + mbx_buf_release", SC_CALLS, true,
	  pc_port_prep, pc_mbx_alloc, 1, 0 },
	{ "mbx-0copy-cycle", "buf_alloc + buf_send + recv_inplace + buf_release",
	  SC_CALLS, true, pc_port_prep, pc_mbx_zc, 1, 0 },
	{ "mbx-batch32", "send_batch + recv_batch of 32, per message", SC_CALLS,
	  true, pc_port_prep, pc_mbx_batch, BATCH, 64 * KiB },
};

const unsigned int nr_setup_ops = ARRAY_SIZE(setup_ops);
