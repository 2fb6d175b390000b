// SPDX-License-Identifier: GPL-2.0
/*
 * mbx-bridge: the configuration - defaults, the config file (one directive
 * a line, '#' starts a comment) and the same directives from the command
 * line, and the checks that reject a bad configuration with a clear error.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bridge.h"

void config_defaults(struct bridge_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = MODE_CORE;
	snprintf(cfg->state_dir, sizeof(cfg->state_dir), "/var/lib/mbx-bridge");
	/* The host's name up to its first dot: a name holds no dot. */
	if (gethostname(cfg->name, sizeof(cfg->name) - 1) || !cfg->name[0] ||
	    cfg->name[0] == '.')
		snprintf(cfg->name, sizeof(cfg->name), "bridge");
	cfg->name[strcspn(cfg->name, ".")] = '\0';
	snprintf(cfg->dead_letter, sizeof(cfg->dead_letter), "mbx.dead");
	cfg->inflight = 256;
	cfg->ack_wait_s = 30;
	cfg->replicas = 1;
	cfg->connect_wait_s = 10;
	cfg->call_timeout_ms = 5000;
	cfg->aside_max_mb = 256;
}

const char *route_kind_name(enum route_kind kind)
{
	static const char * const names[] = { "export", "import", "serve",
					      "call" };

	return names[kind];
}

static int copy_word(char *dst, size_t size, const char *src,
		     const char *what, const char *where)
{
	if (!*src || strlen(src) >= size) {
		fprintf(stderr, "mbx-bridge: %s: %s '%s' is empty or too long\n",
			where, what, src);
		return -EINVAL;
	}
	strcpy(dst, src);
	return 0;
}

static int parse_uint(unsigned int *v, const char *s, unsigned int min,
		      unsigned int max, const char *where)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno || end == s || *end || n < min || n > max) {
		fprintf(stderr, "mbx-bridge: %s: '%s' is not a number in %u..%u\n",
			where, s, min, max);
		return -EINVAL;
	}
	*v = n;
	return 0;
}

/* export PORT SUBJECT | import SUBJECT PORT [fanout|exclusive]... */
static int config_route(struct bridge_config *cfg, enum route_kind kind,
			char **w, int n, const char *where)
{
	struct route *r;
	int first = kind == ROUTE_IMPORT ? 1 : 0, i, ret;

	if (cfg->nroutes >= BRIDGE_MAX_ROUTES) {
		fprintf(stderr, "mbx-bridge: %s: more than %d routes\n", where,
			BRIDGE_MAX_ROUTES);
		return -EINVAL;
	}
	r = &cfg->routes[cfg->nroutes];
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->index = cfg->nroutes;
	ret = copy_word(r->port, sizeof(r->port), w[first], "port name", where);
	if (!ret)
		ret = copy_word(r->subject, sizeof(r->subject), w[1 - first],
				"subject", where);
	if (!ret && (kind == ROUTE_SERVE || kind == ROUTE_CALL))
		ret = copy_word(r->reply_port, sizeof(r->reply_port), w[2],
				"reply port name", where);
	for (i = kind == ROUTE_SERVE || kind == ROUTE_CALL ? 3 : 2;
	     !ret && i < n; i++) {
		if (kind == ROUTE_IMPORT && !strcmp(w[i], "fanout")) {
			r->fanout = true;
		} else if (kind == ROUTE_IMPORT && !strcmp(w[i], "exclusive")) {
			r->exclusive = true;
		} else {
			fprintf(stderr, "mbx-bridge: %s: unknown word '%s'\n",
				where, w[i]);
			ret = -EINVAL;
		}
	}
	if (!ret)
		cfg->nroutes++;
	return ret;
}

static int config_server(struct bridge_config *cfg, const char *url,
			 const char *where)
{
	size_t len = strlen(cfg->servers);

	if (len + strlen(url) + 2 > sizeof(cfg->servers)) {
		fprintf(stderr, "mbx-bridge: %s: server list too long\n", where);
		return -EINVAL;
	}
	snprintf(cfg->servers + len, sizeof(cfg->servers) - len, "%s%s",
		 len ? "," : "", url);
	return 0;
}

static int config_mode(struct bridge_config *cfg, const char *m,
		       const char *where)
{
	if (!strcmp(m, "core")) {
		cfg->mode = MODE_CORE;
	} else if (!strcmp(m, "jetstream")) {
		cfg->mode = MODE_JETSTREAM;
	} else {
		fprintf(stderr, "mbx-bridge: %s: mode is core or jetstream, not '%s'\n",
			where, m);
		return -EINVAL;
	}
	return 0;
}

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

struct directive {
	const char *word;
	int min, max;	/* arguments after the keyword */
};

static const struct directive directives[] = {
	{ "server", 1, 1 }, { "mode", 1, 1 }, { "state-dir", 1, 1 },
	{ "name", 1, 1 }, { "dead-letter", 1, 1 }, { "inflight", 1, 1 },
	{ "ack-wait", 1, 1 }, { "replicas", 1, 1 }, { "connect-wait", 1, 1 },
	{ "call-timeout", 1, 1 }, { "aside-max", 1, 1 },
	{ "export", 2, 2 }, { "import", 2, 4 },
	{ "serve", 3, 3 }, { "call", 3, 3 },
};

static int config_apply(struct bridge_config *cfg, const char *k, char **a,
			int n, const char *where)
{
	if (!strcmp(k, "server"))
		return config_server(cfg, a[0], where);
	if (!strcmp(k, "mode"))
		return config_mode(cfg, a[0], where);
	if (!strcmp(k, "state-dir"))
		return copy_word(cfg->state_dir, sizeof(cfg->state_dir), a[0],
				 "state directory", where);
	if (!strcmp(k, "name"))
		return copy_word(cfg->name, sizeof(cfg->name), a[0], "name",
				 where);
	if (!strcmp(k, "dead-letter"))
		return copy_word(cfg->dead_letter, sizeof(cfg->dead_letter),
				 a[0], "subject", where);
	if (!strcmp(k, "inflight"))
		return parse_uint(&cfg->inflight, a[0], 1, 4096, where);
	if (!strcmp(k, "ack-wait"))
		return parse_uint(&cfg->ack_wait_s, a[0], 1, 3600, where);
	if (!strcmp(k, "replicas"))
		return parse_uint(&cfg->replicas, a[0], 1, 5, where);
	if (!strcmp(k, "connect-wait"))
		return parse_uint(&cfg->connect_wait_s, a[0], 0, 3600, where);
	if (!strcmp(k, "call-timeout"))
		return parse_uint(&cfg->call_timeout_ms, a[0], 1, 3600000,
				  where);
	if (!strcmp(k, "aside-max"))
		return parse_uint(&cfg->aside_max_mb, a[0], 0, 1048576, where);
	if (!strcmp(k, "export"))
		return config_route(cfg, ROUTE_EXPORT, a, n, where);
	if (!strcmp(k, "import"))
		return config_route(cfg, ROUTE_IMPORT, a, n, where);
	if (!strcmp(k, "serve"))
		return config_route(cfg, ROUTE_SERVE, a, n, where);
	return config_route(cfg, ROUTE_CALL, a, n, where);
}

/* A name makes message ids (Nats-Msg-Id), journals and set-aside files. */
static bool name_ok(const char *name)
{
	const char *c;

	for (c = name; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_')
			return false;
	return c != name;
}

/**
 * config_words() - apply one directive
 * @cfg:   the configuration
 * @words: the keyword, then its arguments
 * @nwords: how many words
 * @where: "FILE:LINE" or "command line", for error messages
 *
 * Return: 0 or -EINVAL after a message on stderr.
 */
int config_words(struct bridge_config *cfg, char **words, int nwords,
		 const char *where)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(directives); i++) {
		const struct directive *d = &directives[i];

		if (strcmp(words[0], d->word))
			continue;
		if (nwords - 1 < d->min || nwords - 1 > d->max) {
			fprintf(stderr, "mbx-bridge: %s: '%s' takes %d to %d arguments, got %d\n",
				where, d->word, d->min, d->max, nwords - 1);
			return -EINVAL;
		}
		return config_apply(cfg, d->word, words + 1, nwords - 1, where);
	}
	fprintf(stderr, "mbx-bridge: %s: unknown directive '%s'\n", where,
		words[0]);
	return -EINVAL;
}

#define CONFIG_WORDS	8	/* the most a directive takes, itself included */

/* Split @line into at most CONFIG_WORDS @words: how many, or -E2BIG. */
static int config_split(char *line, char **words)
{
	char *save, *w;
	int n = 0;

	line[strcspn(line, "#\r\n")] = '\0';
	for (w = strtok_r(line, " \t", &save); w;
	     w = strtok_r(NULL, " \t", &save)) {
		if (n == CONFIG_WORDS)
			return -E2BIG;
		words[n++] = w;
	}
	return n;
}

/* Lines of any length: a long comment is a comment, not two lines. */
int config_file(struct bridge_config *cfg, const char *path)
{
	char where[PATH_MAX + 32], *words[CONFIG_WORDS], *line = NULL;
	int lineno = 0, n, ret = 0;
	FILE *f = fopen(path, "r");
	size_t size = 0;

	if (!f) {
		ret = -errno;
		fprintf(stderr, "mbx-bridge: %s: %s\n", path, strerror(-ret));
		return ret;
	}
	while (!ret && getline(&line, &size, f) >= 0) {
		snprintf(where, sizeof(where), "%s:%d", path, ++lineno);
		n = config_split(line, words);
		if (n < 0) {
			fprintf(stderr, "mbx-bridge: %s: more than %d words\n",
				where, CONFIG_WORDS);
			ret = -EINVAL;
		} else if (n) {
			ret = config_words(cfg, words, n, where);
		}
	}
	free(line);
	fclose(f);
	return ret;
}

/*
 * Whether two routes would share their files in the state directory (an
 * export's journal, an import's state and durable consumer): named by the
 * port (export) or the subject (import) as a token, so "a.b" and "a_b"
 * collide as "a.b" twice does.
 */
static bool routes_collide(const struct route *a, const struct route *b)
{
	char ta[BRIDGE_SUBJECT_MAX], tb[BRIDGE_SUBJECT_MAX];

	if (a->kind != b->kind ||
	    (a->kind != ROUTE_EXPORT && a->kind != ROUTE_IMPORT))
		return false;
	subject_token(a->kind == ROUTE_EXPORT ? a->port : a->subject, ta,
		      sizeof(ta));
	subject_token(b->kind == ROUTE_EXPORT ? b->port : b->subject, tb,
		      sizeof(tb));
	return !strcmp(ta, tb);
}

static const char collide[] =
	"mbx-bridge: routes '%s' and '%s' would share their state (one %s)\n";

static void route_words(const struct route *r, char *buf, size_t size)
{
	if (r->kind == ROUTE_EXPORT)
		snprintf(buf, size, "export %s %s", r->port, r->subject);
	else
		snprintf(buf, size, "%s %s %s", route_kind_name(r->kind),
			 r->subject, r->port);
}

int config_check(struct bridge_config *cfg)
{
	char a[BRIDGE_SUBJECT_MAX + MBX_NAME_LEN + 16];
	char b[BRIDGE_SUBJECT_MAX + MBX_NAME_LEN + 16];
	int i, j;

	if (!cfg->servers[0]) {
		fprintf(stderr, "mbx-bridge: no 'server' configured\n");
		return -EINVAL;
	}
	if (!cfg->nroutes) {
		fprintf(stderr, "mbx-bridge: no export or import route configured\n");
		return -EINVAL;
	}
	if (!name_ok(cfg->name)) {
		fprintf(stderr, "mbx-bridge: name '%s' may hold only letters, digits, - and _\n",
			cfg->name);
		return -EINVAL;
	}
	for (i = 0; i < cfg->nroutes; i++)
		for (j = i + 1; j < cfg->nroutes; j++) {
			if (!routes_collide(&cfg->routes[i], &cfg->routes[j]))
				continue;
			route_words(&cfg->routes[i], a, sizeof(a));
			route_words(&cfg->routes[j], b, sizeof(b));
			fprintf(stderr, collide, a, b,
				cfg->routes[i].kind == ROUTE_EXPORT ?
				"port" : "subject, as a token");
			return -EINVAL;
		}
	return 0;
}
