/*
 * tap.h: a tiny TAP producer for unit tests (header only).
 *
 *	plan_lazy();		   // or plan(n)
 *	ok(cond, "fmt", ...);	   // prints "ok N - ..." or "not ok N - ..."
 *	is_int(got, want, "what");
 *	is_mem(got, glen, want, wlen, "what");
 *	return done_testing();	   // exit status: 0 if every test passed
 */
#ifndef TESTS_LIB_TAP_H
#define TESTS_LIB_TAP_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed, tap_planned;

static inline void
plan(int n)
{
	printf("1..%d\n", n);
	tap_planned = n;
}

static inline void
plan_lazy(void)
{
	tap_planned = -1;
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
