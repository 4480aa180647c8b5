/*
 * config.c: load and validate the configuration (see config.h).
 *
 * Order of precedence, lowest first: the defaults of config_table.c, the
 * config file, `--key value` on the command line, FINNHUB_TOKEN (which
 * wins over a token in the file, since an environment is easier to keep
 * secret per deployment).  Every error is reported, not just the first,
 * as "file:line: message" or "--key: message"; a secret value is never
 * echoed.
 */
#include <config.h>

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/xmalloc.h"
#include "server/config.h"
#include "server/log.h"

#define CONFIG_MAX_LINE 65536

static int config_errors;

/*
 * Errors go through the logging module: to stderr at start-up, and to
 * log_file or syslog once the daemon has detached (a SIGHUP reload).
 */
static void __attribute__((format(printf, 2, 3)))
config_error(const char *where, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_err("%s: %s", where, msg);
	config_errors++;
}

/*
 * A key as an error may show it: its leading run of key characters, and
 * "..." when more follows.  A mis-typed line like `token=SECRET` or
 * `http_auth_token:SECRET` is one unknown word, and what follows the key
 * may be a secret, so it is never shown.
 */
static const char *
config_key_shown(const char *key, char *buf, size_t size)
{
	size_t n = 0;

	while (key[n] != '\0' && n + 4 < size &&
	       (isalnum((unsigned char)key[n]) || key[n] == '_' ||
	           key[n] == '-' || key[n] == '.'))
		n++;
	memcpy(buf, key, n);
	strcpy(buf + n, key[n] != '\0' ? "..." : "");
	return buf;
}

const struct config_option *
config_find(const char *name)
{
	char norm[64];
	size_t i;

	for (i = 0; name[i] != '\0' && i < sizeof(norm) - 1; i++)
		norm[i] = name[i] == '-' ? '_' : name[i];
	if (name[i] != '\0')
		return NULL;
	norm[i] = '\0';
	for (i = 0; i < config_noptions; i++)
		if (strcmp(config_options[i].name, norm) == 0)
			return &config_options[i];
	return NULL;
}

static void
config_free_symbols(struct config *c)
{
	int i;

	if (c->symbols == NULL)
		return;
	for (i = 0; c->symbols[i] != NULL; i++)
		free(c->symbols[i]);
	free(c->symbols);
	c->symbols = NULL;
	c->nsymbols = 0;
}

static int
config_symbol_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 64)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		/* Finnhub symbols: letters, digits, ":._-/=^" and spaces
		 * inside exchange names ("IC MARKETS:1") are not worth the
		 * ambiguity here; commas and quotes would break lists. */
		if (!isalnum(ch) && strchr(":._-/=^&!+", ch) == NULL)
			return 0;
	}
	return 1;
}

static int
config_parse_symbols(struct config *c, const char *v, const char *where)
{
	const char *p = v, *q;
	char **list = NULL;
	int n = 0, bad = 0;

	while (*p != '\0') {
		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		for (q = p;
		     *q != '\0' && *q != ',' && !isspace((unsigned char)*q);
		     q++)
			;
		if (!config_symbol_ok(p, (size_t)(q - p))) {
			config_error(where, "invalid symbol \"%.*s\"",
			    (int)(q - p > 80 ? 80 : q - p), p);
			bad = 1;
		} else if (n >= 1000) {
			config_error(where, "more than 1000 symbols");
			bad = 1;
			break;
		} else {
			list =
			    xreallocarray(list, (size_t)n + 2, sizeof(*list));
			list[n++] = xstrndup(p, (size_t)(q - p));
			list[n] = NULL;
		}
		p = q;
	}
	if (!bad && n == 0) {
		config_error(where, "empty symbol list");
		bad = 1;
	}
	if (bad) {
		while (n > 0)
			free(list[--n]);
		free(list);
		return -1;
	}
	config_free_symbols(c);
	c->symbols = list;
	c->nsymbols = n;
	return 0;
}

/* An integer with an optional unit suffix from units[] (NULL-terminated
 * pairs of suffix and multiplier); the bare number takes multiplier 1. */
struct unit {
	const char *suffix;
	int64_t mult;
};

static const struct unit byte_units[] = {{"", 1}, {"b", 1}, {"k", 1024},
    {"kb", 1024}, {"kib", 1024}, {"m", 1048576}, {"mb", 1048576},
    {"mib", 1048576}, {"g", 1073741824}, {"gb", 1073741824},
    {"gib", 1073741824}, {NULL, 0}};
static const struct unit ms_units[] = {{"", 1}, {"ms", 1}, {"s", 1000},
    {"m", 60000}, {"min", 60000}, {"h", 3600000}, {"d", 86400000}, {NULL, 0}};
static const struct unit no_units[] = {{"", 1}, {NULL, 0}};

static int
config_parse_int(const char *v, const struct unit *units, int64_t *out)
{
	char *end;
	long long n;
	size_t i;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (end == v || errno != 0 || n < 0)
		return -1;
	for (i = 0; units[i].suffix != NULL; i++) {
		if (strcasecmp(end, units[i].suffix) == 0) {
			if (n > INT64_MAX / units[i].mult)
				return -1;
			*out = (int64_t)n * units[i].mult;
			return 0;
		}
	}
	return -1;
}

static int
config_parse_bool(const char *v)
{
	if (strcmp(v, "yes") == 0 || strcmp(v, "on") == 0 ||
	    strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
		return 1;
	if (strcmp(v, "no") == 0 || strcmp(v, "off") == 0 ||
	    strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
		return 0;
	return -1;
}

/* Set one option from text; errors go to config_error(where, ...). */
static int
config_set(struct config *c, const struct config_option *o, const char *v,
    const char *where)
{
	void *field = (char *)c + o->off;
	const struct unit *units;
	int64_t n;
	int b;

	switch (o->type) {
	case CONFIG_STRING:
		if ((o->flags & CONFIG_F_NULLABLE) &&
		    (*v == '\0' || strcmp(v, "off") == 0)) {
			free(*(char **)field);
			*(char **)field = NULL;
			return 0;
		}
		if (*v == '\0') {
			config_error(where, "%s: empty value", o->name);
			return -1;
		}
		free(*(char **)field);
		*(char **)field = xstrdup(v);
		return 0;
	case CONFIG_SYMBOLS:
		return config_parse_symbols(c, v, where);
	case CONFIG_LEVEL:
		if ((b = log_level_parse(v)) < 0) {
			config_error(where,
			    "%s: \"%s\" is not error, warn, info or debug",
			    o->name, v);
			return -1;
		}
		*(int *)field = b;
		return 0;
	case CONFIG_FSYNC:
		if (strcmp(v, "never") == 0)
			*(int *)field = STORE_FSYNC_NEVER;
		else if (strcmp(v, "interval") == 0)
			*(int *)field = STORE_FSYNC_INTERVAL;
		else if (strcmp(v, "always") == 0)
			*(int *)field = STORE_FSYNC_ALWAYS;
		else {
			config_error(where,
			    "%s: \"%s\" is not never, interval or always",
			    o->name, v);
			return -1;
		}
		return 0;
	case CONFIG_BOOL:
		if ((b = config_parse_bool(v)) < 0) {
			config_error(
			    where, "%s: \"%s\" is not yes or no", o->name, v);
			return -1;
		}
		*(int *)field = b;
		return 0;
	case CONFIG_INT:
	case CONFIG_INT32:
	case CONFIG_BYTES:
	case CONFIG_MS:
		units = o->type == CONFIG_BYTES ? byte_units
		        : o->type == CONFIG_MS  ? ms_units
		                                : no_units;
		if (config_parse_int(v, units, &n) != 0) {
			config_error(where, "%s: \"%s\" is not a valid %s",
			    o->name, v,
			    o->type == CONFIG_BYTES ? "size (e.g. 256m)"
			    : o->type == CONFIG_MS  ? "duration (e.g. 30s)"
			                            : "number");
			return -1;
		}
		if (n < o->min || n > o->max) {
			config_error(where,
			    "%s: %lld is out of range [%lld, %lld]", o->name,
			    (long long)n, (long long)o->min, (long long)o->max);
			return -1;
		}
		if (o->type == CONFIG_INT32)
			*(int *)field = (int)n;
		else
			*(int64_t *)field = n;
		return 0;
	}
	return -1;
}

void
config_init(struct config *c)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < config_noptions; i++) {
		const struct config_option *o = &config_options[i];

		if (o->def != NULL && config_set(c, o, o->def, "default") != 0)
			fatalx("bad default for %s", o->name);
	}
}

void
config_fini(struct config *c)
{
	size_t i;

	for (i = 0; i < config_noptions; i++) {
		const struct config_option *o = &config_options[i];

		if (o->type == CONFIG_STRING) {
			char **p = (char **)((char *)c + o->off);

			if (o->flags & CONFIG_F_SECRET && *p != NULL)
				memset(*p, 0, strlen(*p));
			free(*p);
		}
	}
	config_free_symbols(c);
	free(c->config_file);
	memset(c, 0, sizeof(*c));
}

struct config *
config_new(void)
{
	struct config *c = xmalloc(sizeof(*c));

	config_init(c);
	atomic_store(&c->refs, 1);
	return c;
}

/* The count lives in the config, which users see as const; the one
 * writable field is reached through its address. */
static _Atomic int *
config_refs(const struct config *c)
{
	return (_Atomic int *)(uintptr_t)&c->refs;
}

const struct config *
config_ref(const struct config *c)
{
	if (c != NULL && atomic_load(&c->refs) > 0)
		atomic_fetch_add(config_refs(c), 1);
	return c;
}

void
config_unref(const struct config *c)
{
	struct config *m;

	if (c == NULL || atomic_load(&c->refs) == 0)
		return;
	if (atomic_fetch_sub(config_refs(c), 1) != 1)
		return;
	m = (struct config *)(uintptr_t)c;
	config_fini(m);
	free(m);
}

static char *
config_trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int
config_load_file(struct config *c, const char *path)
{
	char where[PATH_MAX + 32], shown[72], *line = NULL, *key, *val, *p;
	const struct config_option *o;
	int lineno = 0, secret = 0;
	struct stat st;
	size_t cap = 0;
	ssize_t len;
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL) {
		config_error(path, "%s", strerror(errno));
		return -1;
	}
	while ((len = getline(&line, &cap, fp)) != -1) {
		lineno++;
		snprintf(where, sizeof(where), "%s:%d", path, lineno);
		if (len > CONFIG_MAX_LINE) {
			config_error(where, "line too long");
			continue;
		}
		if ((size_t)len != strlen(line)) {
			config_error(where, "NUL byte in line");
			continue;
		}
		key = config_trim(line);
		if (*key == '\0' || *key == '#')
			continue;
		for (p = key; *p != '\0' && !isspace((unsigned char)*p); p++)
			;
		val = *p != '\0' ? config_trim(p + 1) : p;
		*p = '\0';
		if ((o = config_find(key)) == NULL) {
			config_error(where,
			    "unknown key \"%s\" (a key and its value are "
			    "separated by a space)",
			    config_key_shown(key, shown, sizeof(shown)));
			continue;
		}
		if (*val == '\0' && !(o->flags & CONFIG_F_NULLABLE)) {
			config_error(where, "%s: missing value", o->name);
			continue;
		}
		if (o->flags & CONFIG_F_SECRET)
			secret = 1;
		(void)config_set(c, o, val, where);
	}
	if (ferror(fp))
		config_error(path, "read error: %s", strerror(errno));
	/* A secret in a file others can read is worth a warning, not a
	 * refusal: the operator may have reasons (a container, say). */
	if (secret && fstat(fileno(fp), &st) == 0 &&
	    (st.st_mode & (S_IRGRP | S_IROTH)))
		log_warn("%s holds a secret and is readable by others "
		         "(chmod 600 it)",
		    path);
	free(line);
	fclose(fp);
	return 0;
}

int
config_split_hostport(const char *s, char *host, size_t hostlen, int *port)
{
	const char *colon, *h = s;
	size_t hl;
	char *end;
	long p;

	if (*s == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL || rb[1] != ':')
			return ERR_CONFIG;
		h = s + 1;
		hl = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL ||
		    memchr(s, ':', (size_t)(colon - s)) != NULL)
			return ERR_CONFIG;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= hostlen)
		return ERR_CONFIG;
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno != 0 || p < 0 ||
	    p > 65535)
		return ERR_CONFIG;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (int)p;
	return 0;
}

static int
config_is_wildcard(const char *host)
{
	return strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 ||
	       strcmp(host, "*") == 0;
}

static int
config_topic_ok(const char *t)
{
	size_t i, n = strlen(t);

	if (n == 0 || n > 249 || strcmp(t, ".") == 0 || strcmp(t, "..") == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)t[i]) &&
		    strchr("._-", t[i]) == NULL)
			return 0;
	return 1;
}

/* Checks that span keys, and defaults that depend on other keys. */
static void
config_finish(struct config *c)
{
	char host[256];
	int port;

	if (c->feed == NULL)
		c->feed = xstrdup(c->token != NULL ? "finnhub" : "sim");
	if (c->max_memory != 0 && c->max_memory < 2 * c->max_request_bytes)
		config_error("max_memory",
		    "must be at least twice max_request_bytes (%lld), or 0",
		    (long long)c->max_request_bytes);
	if (strcmp(c->feed, "finnhub") == 0) {
		if (c->token == NULL)
			config_error("feed",
			    "finnhub needs a token: set FINNHUB_TOKEN or "
			    "`token` in the config file");
	} else if (strncmp(c->feed, "replay:", 7) == 0) {
		const char *path = c->feed + 7, *at = strrchr(path, '@');

		if (*path == '\0' || at == path)
			config_error("feed", "replay needs a path");
		if (at != NULL) {
			char *end;
			double sp = strtod(at + 1, &end);

			if (end == at + 1 || *end != '\0' || !(sp > 0) ||
			    sp > 1e6)
				config_error("feed",
				    "replay speed \"%s\" must be a number in "
				    "(0, 1e6]",
				    at + 1);
		}
	} else if (strcmp(c->feed, "sim") != 0) {
		config_error("feed",
		    "\"%s\" is not finnhub, sim or replay:PATH[@SPEED]",
		    c->feed);
	}
	if (strncmp(c->feed_url, "ws://", 5) != 0 &&
	    strncmp(c->feed_url, "wss://", 6) != 0)
		config_error("feed_url", "must start with ws:// or wss://");
	if (config_split_hostport(c->kafka_listen, host, sizeof(host), &port) !=
	    0)
		config_error(
		    "kafka_listen", "\"%s\" is not HOST:PORT", c->kafka_listen);
	else if (c->kafka_advertised == NULL && config_is_wildcard(host))
		config_error("kafka_advertised",
		    "must be set when kafka_listen is a wildcard address "
		    "(clients connect to what it names)");
	if (c->kafka_advertised == NULL)
		c->kafka_advertised = xstrdup(c->kafka_listen);
	else if (config_split_hostport(
	             c->kafka_advertised, host, sizeof(host), &port) != 0 ||
	         port == 0 || config_is_wildcard(host))
		config_error("kafka_advertised",
		    "\"%s\" is not a reachable HOST:PORT", c->kafka_advertised);
	if (config_split_hostport(c->http_listen, host, sizeof(host), &port) !=
	    0)
		config_error(
		    "http_listen", "\"%s\" is not HOST:PORT", c->http_listen);
	if (!config_topic_ok(c->topic))
		config_error("topic",
		    "\"%.64s\" is not a valid topic name ([a-zA-Z0-9._-], "
		    "1..249)",
		    c->topic);
	if (c->token != NULL && *c->token == '\0')
		config_error("token", "empty");
}

int
config_load(struct config *c, int argc, char **argv)
{
	const struct config_option *o;
	char where[128], shown[72];
	const char *env;
	int i;

	config_errors = 0;
	if (c->config_file != NULL)
		(void)config_load_file(c, c->config_file);
	for (i = 0; i < argc; i++) {
		const char *arg = argv[i], *val;
		char name[64];
		size_t n;

		if (strncmp(arg, "--", 2) != 0) {
			config_error(
			    config_key_shown(arg, shown, sizeof(shown)),
			    "expected --key value");
			continue;
		}
		arg += 2;
		n = strcspn(arg, "=");
		if (n >= sizeof(name)) {
			config_error(
			    config_key_shown(arg, shown, sizeof(shown)),
			    "unknown option");
			continue;
		}
		memcpy(name, arg, n);
		name[n] = '\0';
		snprintf(where, sizeof(where), "--%s",
		    config_key_shown(name, shown, sizeof(shown)));
		if ((o = config_find(name)) == NULL) {
			config_error(where, "unknown option");
			if (arg[n] != '=' && i + 1 < argc)
				i++;
			continue;
		}
		if (arg[n] == '=')
			val = arg + n + 1;
		else if (o->type == CONFIG_BOOL &&
		         (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0))
			val = "yes";
		else if (i + 1 < argc)
			val = argv[++i];
		else {
			config_error(where, "missing value");
			continue;
		}
		if (o->flags & CONFIG_F_NOCMDLINE) {
			config_error(where,
			    "not accepted on the command line (it would show "
			    "in ps): use FINNHUB_TOKEN or the config file");
			continue;
		}
		(void)config_set(c, o, val, where);
	}
	if ((env = getenv("FINNHUB_TOKEN")) != NULL && *env != '\0') {
		free(c->token);
		c->token = xstrdup(env);
	}
	config_finish(c);
	return -config_errors;
}
