/*
 * jsonw.h: (5) a JSON writer on proto/wbuf for the HTTP responses.
 *
 * The HTTP stage answers charts of tens of thousands of numbers per
 * request, so numbers are formatted by hand rather than with printf:
 * integers digit by digit, doubles with 15 significant digits (the most
 * that every decimal of up to 15 digits survives: a price or a volume
 * Finnhub sent as text comes back as the same text), trailing zeros
 * dropped.  Strings are escaped as RFC 8259 requires (quote, backslash
 * and control characters); other bytes are copied as they are.
 *
 * Like every wbuf writer these cannot fail on I/O: growth past the
 * wbuf's max latches w->err, which the caller checks once.
 */
#ifndef PROTO_JSONW_H
#define PROTO_JSONW_H

#include <stddef.h>
#include <stdint.h>

#include "proto/wbuf.h"

/* Longest text jsonw_double writes ("-1.23456789012345e-308"). */
#define JSONW_DOUBLE_MAX 32

/* A quoted, escaped string of n bytes. */
void jsonw_str(struct wbuf *w, const char *s, size_t n);

/* The same for a NUL-terminated string. */
void jsonw_cstr(struct wbuf *w, const char *s);

/* A decimal integer. */
void jsonw_i64(struct wbuf *w, int64_t v);

/*
 * A number with at most 15 significant digits in plain notation for
 * magnitudes in [1e-5, 1e15), exponent notation otherwise; NaN and the
 * infinities, which JSON cannot carry, are written as null.
 */
void jsonw_double(struct wbuf *w, double v);

/*
 * The text jsonw_double writes, into buf (at least JSONW_DOUBLE_MAX
 * bytes, not NUL-terminated); returns its length.  Pure, for tests and
 * for writers that are not a wbuf.
 */
size_t jsonw_format_double(double v, char *buf);

/* Literal bytes (punctuation, true/false/null). */
static inline void
jsonw_raw(struct wbuf *w, const char *s, size_t n)
{
	wbuf_put(w, s, n);
}

/* A string literal (only a literal: its size is taken at compile time;
 * concatenating "" makes anything else fail to compile). */
#define JSONW_LIT(w, lit) jsonw_raw((w), "" lit, sizeof("" lit) - 1)

#endif
