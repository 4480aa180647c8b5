/*
 * tap.h: a tiny TAP producer for unit tests (header only).
 *
 *	plan_lazy();		   // or plan(n); both start the watchdog
 *	ok(cond, "fmt", ...);	   // prints "ok N - ..." or "not ok N - ..."
 *	is_int(got, want, "what");
 *	is_mem(got, glen, want, wlen, "what");
 *	skip("why");		   // "ok N # SKIP why": counted as a skip
 *	return done_testing();	   // exit status: 0 if every test passed
 *
 * The watchdog: a test program that runs longer than TAP_TIMEOUT_S
 * seconds times TEST_TIMEOUT_MULTIPLIER (tap_timeout() changes the base)
 * prints "Bail out!" and exits 1, so a hang fails make check instead of
 * stalling it.  Timing assertions scale their bounds by tap_mult().
 */
#ifndef TESTS_LIB_TAP_H
#define TESTS_LIB_TAP_H

#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TAP_TIMEOUT_S 120

static int tap_n, tap_failed, tap_planned;
static char tap_bail_msg[96];

/* TEST_TIMEOUT_MULTIPLIER (>= 1; sanitizer builds run slower). */
static inline double
tap_mult(void)
{
	const char *e = getenv("TEST_TIMEOUT_MULTIPLIER");
	double m = e != NULL ? atof(e) : 1;

	return m >= 1 ? m : 1;
}

static void
tap_on_alarm(int sig)
{
	ssize_t w;

	(void)sig;
	/* Only async-signal-safe calls here: the message was formatted
	 * when the alarm was set. */
	w = write(STDOUT_FILENO, tap_bail_msg, strlen(tap_bail_msg));
	(void)w;
	_exit(1);
}

/* (Re)arm the watchdog: secs times the multiplier from now. */
static inline void
tap_timeout(unsigned secs)
{
	unsigned total = (unsigned)(secs * tap_mult());

	snprintf(tap_bail_msg, sizeof(tap_bail_msg),
	    "Bail out! watchdog: no result after %u s\n", total);
	signal(SIGALRM, tap_on_alarm);
	alarm(total);
}

static inline void
plan(int n)
{
	printf("1..%d\n", n);
	tap_planned = n;
	tap_timeout(TAP_TIMEOUT_S);
}

static inline void
plan_lazy(void)
{
	tap_planned = -1;
	tap_timeout(TAP_TIMEOUT_S);
}

static inline int __attribute__((format(printf, 2, 3)))
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return cond;
}

/* A test that cannot run here, reported as a skip (never as a pass). */
static inline void
skip(const char *why)
{
	tap_n++;
	printf("ok %d # SKIP %s\n", tap_n, why);
	fflush(stdout);
}

static inline void __attribute__((format(printf, 1, 2)))
diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

#define is_int(got, want, ...)                                                 \
	do {                                                                   \
		long long g_ = (long long)(got), w_ = (long long)(want);       \
		if (!ok(g_ == w_, __VA_ARGS__))                                \
			diag("  got %lld, want %lld", g_, w_);                 \
	} while (0)

#define is_str(got, want, ...)                                                 \
	do {                                                                   \
		const char *g_ = (got), *w_ = (want);                          \
		if (!ok(g_ != NULL && w_ != NULL && strcmp(g_, w_) == 0,       \
		        __VA_ARGS__))                                          \
			diag("  got \"%s\", want \"%s\"", g_ ? g_ : "(null)",  \
			    w_ ? w_ : "(null)");                               \
	} while (0)

#define is_mem(got, glen, want, wlen, ...)                                     \
	ok((size_t)(glen) == (size_t)(wlen) &&                                 \
	        memcmp((got), (want), (size_t)(wlen)) == 0,                    \
	    __VA_ARGS__)

static inline int
done_testing(void)
{
	if (tap_planned < 0)
		printf("1..%d\n", tap_n);
	else if (tap_planned != tap_n)
		printf("# planned %d tests but ran %d\n", tap_planned, tap_n);
	return tap_failed == 0 && (tap_planned < 0 || tap_planned == tap_n) ? 0
	                                                                    : 1;
}

#endif
