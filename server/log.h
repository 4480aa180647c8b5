/*
 * log.h: diagnostics (not the Kafka data log, which is "seglog").
 *
 * Levels error < warn < info < debug; the level is checked before any
 * formatting.  Lines go to stderr, to a file (log_open), or to syslog
 * (log_open_syslog).  libevent's and OpenSSL's errors are routed here.
 * fatal() appends strerror(errno); both fatal() and fatalx() exit(1).
 * The Finnhub token must never reach these functions: callers print
 * URLs through log_redact_url().
 */
#ifndef SERVER_LOG_H
#define SERVER_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level {
	LOG_LEVEL_ERR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG
};

extern int log_level;

/* Parse "error|warn|info|debug"; -1 if unknown. */
int log_level_parse(const char *s);
const char *log_level_name(int level);

/* Log to path (append); 0 or -errno.  NULL path = stderr. */
int log_open(const char *path);
/* Reopen the current file (SIGHUP); 0 or -errno. */
int log_reopen(void);
void log_open_syslog(const char *ident);
void log_close(void);
/*
 * Route libevent's internal messages and base's failure lines (ASSERT,
 * xmalloc; base/assert.h) through log_*.
 */
void log_hook_libs(void);

void log_msg(int level, const char *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_vmsg(int level, const char *ctx, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#define log_enabled(lvl) ((lvl) <= log_level)
#define log_err(...)     log_msg(LOG_LEVEL_ERR, NULL, __VA_ARGS__)
#define log_warn(...)                                                          \
	do {                                                                   \
		if (log_enabled(LOG_LEVEL_WARN))                               \
			log_msg(LOG_LEVEL_WARN, NULL, __VA_ARGS__);            \
	} while (0)
#define log_info(...)                                                          \
	do {                                                                   \
		if (log_enabled(LOG_LEVEL_INFO))                               \
			log_msg(LOG_LEVEL_INFO, NULL, __VA_ARGS__);            \
	} while (0)
#define log_debug(...)                                                         \
	do {                                                                   \
		if (log_enabled(LOG_LEVEL_DEBUG))                              \
			log_msg(LOG_LEVEL_DEBUG, NULL, __VA_ARGS__);           \
	} while (0)
/* With a context string (e.g. a connection's peer address). */
#define log_cerr(ctx, ...) log_msg(LOG_LEVEL_ERR, (ctx), __VA_ARGS__)
#define log_cwarn(ctx, ...)                                                    \
	do {                                                                   \
		if (log_enabled(LOG_LEVEL_WARN))                               \
			log_msg(LOG_LEVEL_WARN, (ctx), __VA_ARGS__);           \
	} while (0)
#define log_cinfo(ctx, ...)                                                    \
	do {                                                                   \
		if (log_enabled(LOG_LEVEL_INFO))                               \
			log_msg(LOG_LEVEL_INFO, (ctx), __VA_ARGS__);           \
	} while (0)
#define log_cdebug(ctx, ...)                                                   \
	do {                                                                   \
		if (log_enabled(LOG_LEVEL_DEBUG))                              \
			log_msg(LOG_LEVEL_DEBUG, (ctx), __VA_ARGS__);          \
	} while (0)

/* Log the OpenSSL error queue at level `level` (and clear it). */
void log_ssl_errors(int level, const char *ctx, const char *what);

/*
 * Copy url into buf with the value of any token= query parameter replaced
 * by "***".  Always NUL-terminates; returns buf.
 */
char *log_redact_url(const char *url, char *buf, size_t size);

void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#endif
