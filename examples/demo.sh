#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Run every libmailbox example in turn, each under a one-line header.
# The example binaries must be on PATH and /dev/mailbox present.
# Exits non-zero if any example fails.

status=0

run() {
	echo "=== $*"
	"$@" || { echo "!!! $1 failed (exit $?)"; status=1; }
}

run producer_consumer
run epoll_poller
run rendezvous

# Two unrelated processes: a server in the background, then a client.
name="mailbox-demo-$$"
echo "=== named_port server $name & named_port client $name"
named_port server "$name" &
server=$!
if named_port client "$name"; then
	wait "$server" || { echo "!!! named_port server failed"; status=1; }
else
	echo "!!! named_port client failed"
	kill "$server" 2>/dev/null
	wait "$server"
	named_port unlink "$name" 2>/dev/null
	status=1
fi

# Zero copy: 64 MiB in 1 MiB frames between two processes, in place.
run zerocopy

# Publish/subscribe: one publisher, three subscriber processes, one topic.
run pubsub

# A ring port: producer and consumer processes, zero copy, no system call
# on the hot path, then end of stream.
run ring

[ "$status" -eq 0 ] && echo "=== all examples passed"
exit "$status"
