// SPDX-License-Identifier: GPL-2.0
/*
 * mbxbench: the scenario table, and the message sizes of each scenario.
 */
#define _GNU_SOURCE

#include "bench.h"

/* Message sizes of each scenario, 0-terminated. */
const size_t all_sizes[] = {
	8, 64, 256, 1 * KiB, 4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, 1 * MiB,
	4 * MiB, 0
};

/* 8 KiB: Linux's default largest POSIX mq message (issue 15's sizes). */
static const size_t rtt2_sizes[] = {
	8, 64, 256, 1 * KiB, 4 * KiB, 8 * KiB, 16 * KiB, 64 * KiB, 256 * KiB,
	1 * MiB, 4 * MiB, 0
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
static const size_t pub_sizes[] = { 64, 1 * MiB, 0 };
static const size_t sleep_sizes[] = { 8, 64, 256, 0 };
static const size_t idle_sizes[] = { 8, 0 };	/* the message that ends it */
const size_t no_size[] = { 0, 0 };

const struct scenario scenarios[NR_SC] = {
	[SC_RTT2] = { "rtt", "Blocking round trip, 2 vCPUs (client CPU 0, server CPU 1)",
		      K_RTT, rtt2_sizes, .unit = "round trip" },
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
		       K_SETUP, setup_sizes, .unit = "operation", .ops = setup_ops },
	[SC_CALLS] = { "calls", "Per-call cost in one process, nobody waits or wakes (CPU 0)",
		       K_SETUP, calls_sizes, .unit = "operation (per message for batches)",
		       .ops = call_ops },
	[SC_PUB1] = { "pubsub-1",
		      "Publish/subscribe, 1 publisher (CPU 0) to 1 subscriber (CPU 1)",
		      K_PUBSUB, pub_sizes, .consumers = 1,
		      .unit = "message delivered (inter-arrival, per subscriber)" },
	[SC_PUB4] = { "pubsub-4",
		      "Publish/subscribe, 1 publisher (CPU 0) to 4 subscribers (CPU 1)",
		      K_PUBSUB, pub_sizes, .consumers = 4,
		      .unit = "message delivered (inter-arrival, per subscriber)" },
	[SC_PUB16] = { "pubsub-16",
		       "Publish/subscribe, 1 publisher (CPU 0) to 16 subscribers (CPU 1)",
		       K_PUBSUB, pub_sizes, .consumers = 16,
		       .unit = "message delivered (inter-arrival, per subscriber)" },
	[SC_RTT_SLEEP] = { "rtt-sleep",
			   "Round trip to a sleeping server: the client pauses (busy) 500 us between round trips, 2 vCPUs",
			   K_RTT, sleep_sizes, .gap_ns = RTT_SLEEP_GAP_NS,
			   .unit = "round trip" },
	[SC_IDLE] = { "idle",
		      "Idle channel: consumer waiting (CPU 1), producer idle (CPU 0), nothing sent for 1 s",
		      K_IDLE, idle_sizes, .unit = "idle second (CPU time of both processes)" },
};
