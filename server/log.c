/*
 * log.c: diagnostics to stderr, a file or syslog (see log.h).
 */
#include <config.h>

#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/err.h>

#include "base/assert.h"
#include "server/log.h"

int log_level = LOG_LEVEL_INFO;

static FILE *log_fp;   /* NULL: stderr */
static char *log_path; /* for log_reopen */
static int log_to_syslog;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

int
log_level_parse(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(s, level_names[i]) == 0)
			return (int)i;
	if (strcmp(s, "err") == 0)
		return LOG_LEVEL_ERR;
	if (strcmp(s, "warning") == 0)
		return LOG_LEVEL_WARN;
	return -1;
}

const char *
log_level_name(int level)
{
	if (level < 0 || level > LOG_LEVEL_DEBUG)
		return "?";
	return level_names[level];
}

int
log_open(const char *path)
{
	FILE *fp;
	char *copy;

	if (path == NULL) {
		log_close();
		return 0;
	}
	if ((fp = fopen(path, "a")) == NULL)
		return -errno;
	if ((copy = strdup(path)) == NULL) {
		fclose(fp);
		return -ENOMEM;
	}
	setvbuf(fp, NULL, _IOLBF, 0);
	log_close();
	log_fp = fp;
	log_path = copy;
	return 0;
}

int
log_reopen(void)
{
	FILE *fp;

	if (log_path == NULL)
		return 0;
	if ((fp = fopen(log_path, "a")) == NULL)
		return -errno;
	setvbuf(fp, NULL, _IOLBF, 0);
	fclose(log_fp);
	log_fp = fp;
	return 0;
}

void
log_open_syslog(const char *ident)
{
	log_close();
	openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	log_to_syslog = 1;
}

void
log_close(void)
{
	if (log_fp != NULL)
		fclose(log_fp);
	log_fp = NULL;
	free(log_path);
	log_path = NULL;
	if (log_to_syslog)
		closelog();
	log_to_syslog = 0;
}

void
log_vmsg(int level, const char *ctx, const char *fmt, va_list ap)
{
	static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
	char msg[2048], stamp[32];
	struct timeval tv;
	struct tm tm;
	FILE *fp;
	int n;

	if (level > log_level)
		return;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		return;
	/* Control characters from peers would forge log lines. */
	for (char *p = msg; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	if (log_to_syslog) {
		if (ctx != NULL)
			syslog(prio[level], "%s: %s", ctx, msg);
		else
			syslog(prio[level], "%s", msg);
		return;
	}
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	fp = log_fp != NULL ? log_fp : stderr;
	fprintf(fp, "%s.%03dZ %-5s %s%s%s\n", stamp, (int)(tv.tv_usec / 1000),
	    level_names[level], ctx != NULL ? ctx : "", ctx != NULL ? ": " : "",
	    msg);
}

void
log_msg(int level, const char *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, ctx, fmt, ap);
	va_end(ap);
}

static void
log_libevent_cb(int severity, const char *msg)
{
	int level;

	switch (severity) {
	case EVENT_LOG_DEBUG:
		level = LOG_LEVEL_DEBUG;
		break;
	case EVENT_LOG_MSG:
		level = LOG_LEVEL_INFO;
		break;
	case EVENT_LOG_WARN:
		level = LOG_LEVEL_WARN;
		break;
	default:
		level = LOG_LEVEL_ERR;
		break;
	}
	log_msg(level, "libevent", "%s", msg);
}

static void
log_assert_cb(const char *msg)
{
	log_msg(LOG_LEVEL_ERR, NULL, "%s", msg);
}

void
log_hook_libs(void)
{
	event_set_log_callback(log_libevent_cb);
	assert_set_hook(log_assert_cb);
}

void
log_ssl_errors(int level, const char *ctx, const char *what)
{
	unsigned long e;
	char buf[256];
	int any = 0;

	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		log_msg(level, ctx, "%s: %s", what, buf);
		any = 1;
	}
	if (!any)
		log_msg(level, ctx, "%s", what);
}

char *
log_redact_url(const char *url, char *buf, size_t size)
{
	const char *p = url, *v;
	size_t n = 0;

	if (size == 0)
		return buf;
	/* Copy, masking the value of every token= parameter. */
	while (*p != '\0' && n + 1 < size) {
		if (strncmp(p, "token=", 6) == 0 &&
		    (p == url || p[-1] == '?' || p[-1] == '&')) {
			n += (size_t)snprintf(buf + n, size - n, "token=***");
			if (n >= size)
				n = size - 1;
			for (v = p + 6; *v != '\0' && *v != '&' && *v != '#';
			     v++)
				;
			p = v;
			continue;
		}
		buf[n++] = *p++;
	}
	buf[n] = '\0';
	return buf;
}

void
fatal(const char *fmt, ...)
{
	char msg[1024];
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_msg(LOG_LEVEL_ERR, NULL, "fatal: %s: %s", msg, strerror(saved));
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_msg(LOG_LEVEL_ERR, NULL, "fatal: %s", msg);
	exit(1);
}
