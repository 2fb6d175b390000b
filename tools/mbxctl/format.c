// SPDX-License-Identifier: GPL-2.0
/*
 * mbxctl: formatting: byte counts, port names, CSV fields, access and
 * state flags, users and groups.
 *
 * Owner and group names come from /etc/passwd and /etc/group, read
 * directly: the binary is static and must not depend on NSS modules.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mailbox.h>

#include "mbxctl.h"

/* A byte count, exactly: 8192 -> "8K", 65536 -> "64K", 1000 -> "1000". */
void fmt_size(char *buf, size_t size, unsigned long long v)
{
	static const char units[] = "KMGT";
	unsigned int i = 0;

	if (!v) {
		snprintf(buf, size, "0");
		return;
	}
	while (i < sizeof(units) - 1 && !(v & 1023)) {
		v >>= 10;
		i++;
	}
	if (i)
		snprintf(buf, size, "%llu%c", v, units[i - 1]);
	else
		snprintf(buf, size, "%llu", v);
}

/*
 * @name as ls, stat and every message show it: each byte outside
 * printable ASCII (0x21..0x7e: controls, space, DEL, C1 controls and
 * every byte of a UTF-8 sequence) and the backslash as \ooo, so that
 * no name can end a line, drive a terminal or pass for another, and the
 * escaping can be undone.  A name too long for @size (never one of
 * MBX_NAME_MAX bytes with NAME_ESC_SIZE) ends in "..." where it is cut.
 */
void fmt_name(char *buf, size_t size, const char *name)
{
	const unsigned char *p = (const unsigned char *)name;
	size_t o = 0, n;
	char one[8];

	for (; *p; p++) {
		if (*p <= ' ' || *p >= 0x7f || *p == '\\') {
			n = (size_t)snprintf(one, sizeof(one), "\\%03o", *p);
		} else {
			one[0] = (char)*p;
			n = 1;
		}
		/* room for this byte, and for "..." if more follow */
		if (o + n + (p[1] ? 4 : 1) > size) {
			snprintf(buf + o, size - o, "...");
			return;
		}
		memcpy(buf + o, one, n);
		o += n;
	}
	buf[o] = '\0';
}

/*
 * @s escaped as fmt_name() does, in one of four static buffers used in
 * turn: for names (and other arguments) in messages.
 */
const char *ename(const char *s)
{
	static char bufs[4][NAME_ESC_SIZE];
	static unsigned int next;
	char *buf = bufs[next++ % ARRAY_SIZE(bufs)];

	fmt_name(buf, sizeof(bufs[0]), s);
	return buf;
}

/* A CSV field: quoted (RFC 4180) when it holds , " CR or LF. */
void put_csv(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

const char *access_str(uint32_t access)
{
	switch (access & (MBX_SEND | MBX_RECV)) {
	case MBX_SEND:
		return "send";
	case MBX_RECV:
		return "recv";
	case MBX_SEND | MBX_RECV:
		return "send,recv";
	default:
		return "-";
	}
}

const char *state_str(uint32_t state)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "%s%s%s%s%s",
		 state & MBX_STATE_NAMED ? ",named" : "",
		 state & MBX_STATE_TOPIC ? ",topic" : "",
		 state & MBX_STATE_RING ? ",ring" : "",
		 state & MBX_STATE_SHUTDOWN ? ",shutdown" : "",
		 state & (MBX_STATE_NAMED | MBX_STATE_TOPIC | MBX_STATE_RING |
			  MBX_STATE_SHUTDOWN) ? "" : ",-");
	return buf + 1;
}

const char *ring_status_str(uint32_t st)
{
	static char buf[96];

	snprintf(buf, sizeof(buf), "%s%s%s%s%s%s",
		 st & MBX_RING_ST_PRODUCER ? ",producer" : "",
		 st & MBX_RING_ST_CONSUMER ? ",consumer" : "",
		 st & MBX_RING_ST_PRODUCER_GONE ? ",producer-gone" : "",
		 st & MBX_RING_ST_CONSUMER_GONE ? ",consumer-gone" : "",
		 st & MBX_RING_ST_SHUTDOWN ? ",shutdown" : "",
		 st ? "" : ",-");
	return buf + 1;
}

/*
 * The name of @id in /etc/passwd (@file) or /etc/group: field 3 is the
 * numeric id in both.  Returns @buf, or NULL if there is none.
 */
static const char *id_name(const char *file, uint32_t id, char *buf,
			   size_t size)
{
	char line[1024];
	const char *found = NULL;
	FILE *f;

	f = fopen(file, "re");
	if (!f)
		return NULL;
	while (!found && fgets(line, sizeof(line), f)) {
		char *name = line, *pw, *num, *end;
		unsigned long v;
		size_t len;

		pw = strchr(name, ':');
		if (!pw)
			continue;
		*pw++ = '\0';
		num = strchr(pw, ':');
		if (!num)
			continue;
		num++;
		errno = 0;
		v = strtoul(num, &end, 10);
		if (errno || end == num || *end != ':' || v != id)
			continue;
		len = strlen(name);
		if (len >= size)
			len = size - 1;
		memcpy(buf, name, len);
		buf[len] = '\0';
		found = buf;
	}
	fclose(f);
	return found;
}

/* A user (or group) as its name, or its number when it has no name. */
void fmt_id(char *buf, size_t size, const char *file, uint32_t id,
	    bool numeric)
{
	if (numeric || !id_name(file, id, buf, size))
		snprintf(buf, size, "%u", id);
}
