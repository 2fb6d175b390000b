/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mailbox tracepoints: /sys/kernel/tracing/events/mailbox/
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM mailbox

#if !defined(_MBX_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _MBX_TRACE_H

#include <linux/tracepoint.h>

/* What a blocked caller waits for. */
#define MBX_WAIT_SEND	0
#define MBX_WAIT_RECV	1
#define MBX_WAIT_ALLOC	2

#define show_mbx_wait(w)						\
	__print_symbolic(w, { MBX_WAIT_SEND, "send" },			\
			 { MBX_WAIT_RECV, "recv" },			\
			 { MBX_WAIT_ALLOC, "alloc" })

DECLARE_EVENT_CLASS(mbx_msg_class,
		    TP_PROTO(u64 port, u64 len, u32 prio, bool pool),
		    TP_ARGS(port, len, prio, pool),
		    TP_STRUCT__entry(__field(u64, port)
				     __field(u64, len)
				     __field(u32, prio)
				     __field(bool, pool)),
		    TP_fast_assign(__entry->port = port;
				   __entry->len = len;
				   __entry->prio = prio;
				   __entry->pool = pool;),
		    TP_printk("port=%llu len=%llu prio=%u pool=%d",
			      __entry->port, __entry->len, __entry->prio,
			      __entry->pool)
);

/* A message was accepted: queued, or handed to a receiver. */
DEFINE_EVENT(mbx_msg_class, mbx_send,
	     TP_PROTO(u64 port, u64 len, u32 prio, bool pool),
	     TP_ARGS(port, len, prio, pool)
);

/* A receiver took a message. */
DEFINE_EVENT(mbx_msg_class, mbx_recv,
	     TP_PROTO(u64 port, u64 len, u32 prio, bool pool),
	     TP_ARGS(port, len, prio, pool)
);

DECLARE_EVENT_CLASS(mbx_wait_class,
		    TP_PROTO(u64 port, int what),
		    TP_ARGS(port, what),
		    TP_STRUCT__entry(__field(u64, port)
				     __field(int, what)),
		    TP_fast_assign(__entry->port = port;
				   __entry->what = what;),
		    TP_printk("port=%llu %s", __entry->port,
			      show_mbx_wait(__entry->what))
);

/* A caller blocks. */
DEFINE_EVENT(mbx_wait_class, mbx_wait,
	     TP_PROTO(u64 port, int what),
	     TP_ARGS(port, what)
);

/* A blocked caller's deadline passed. */
DEFINE_EVENT(mbx_wait_class, mbx_timeout,
	     TP_PROTO(u64 port, int what),
	     TP_ARGS(port, what)
);

/* A peer completed a blocked caller's call, with @result. */
TRACE_EVENT(mbx_wake,
	    TP_PROTO(u64 port, pid_t pid, int result),
	    TP_ARGS(port, pid, result),
	    TP_STRUCT__entry(__field(u64, port)
			     __field(pid_t, pid)
			     __field(int, result)),
	    TP_fast_assign(__entry->port = port;
			   __entry->pid = pid;
			   __entry->result = result;),
	    TP_printk("port=%llu pid=%d result=%d", __entry->port,
		      __entry->pid, __entry->result)
);

DECLARE_EVENT_CLASS(mbx_ring_class,
		    TP_PROTO(u64 port, u32 role),
		    TP_ARGS(port, role),
		    TP_STRUCT__entry(__field(u64, port)
				     __field(u32, role)),
		    TP_fast_assign(__entry->port = port;
				   __entry->role = role;),
		    TP_printk("port=%llu role=%s", __entry->port,
			      __print_symbolic(__entry->role,
					       { 0, "kernel" },
					       { 1, "producer" },
					       { 2, "consumer" }))
);

/* A ring's side goes to sleep in MBX_IOC_RING_ENTER. */
DEFINE_EVENT(mbx_ring_class, mbx_ring_sleep,
	     TP_PROTO(u64 port, u32 role),
	     TP_ARGS(port, role)
);

/* A ring's side (or the kernel, role 0, on a status change) wakes the other. */
DEFINE_EVENT(mbx_ring_class, mbx_ring_wake,
	     TP_PROTO(u64 port, u32 role),
	     TP_ARGS(port, role)
);

/* A port was freed with messages still queued: they are discarded. */
TRACE_EVENT(mbx_drop,
	    TP_PROTO(u64 port, u32 count, u64 bytes),
	    TP_ARGS(port, count, bytes),
	    TP_STRUCT__entry(__field(u64, port)
			     __field(u32, count)
			     __field(u64, bytes)),
	    TP_fast_assign(__entry->port = port;
			   __entry->count = count;
			   __entry->bytes = bytes;),
	    TP_printk("port=%llu count=%u bytes=%llu", __entry->port,
		      __entry->count, __entry->bytes)
);

#endif /* _MBX_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
