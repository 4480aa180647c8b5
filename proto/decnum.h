/*
 * decnum.h: (3)(4) prices and volumes as exact decimals.
 *
 * Finnhub sends prices and volumes as JSON number text ("129.58",
 * "0.00012").  Reading that text into a double and summing doubles is not
 * exact (0.1 + 0.2 != 0.3), and the sum would depend on the order the
 * trades are added in, so a bar recomputed from the stored trades could
 * differ from the bar the aggregator kept.  Here a number is kept as the
 * decimal its text denotes:
 *
 *	value = m * 10^-s	m an int64 with |m| < 10^18, s in 0..18
 *
 * canonical (no trailing zero digit in m while s > 0), so equal values
 * have equal representations.  Text that denotes no such decimal (more
 * than 18 significant digits, exponents beyond the range: "1e300",
 * "1e-40") falls back to the IEEE double nearest it, marked by s ==
 * DECNUM_DOUBLE; NaN and infinities are refused.
 *
 * Sums go into a decacc: an __int128 mantissa at the largest scale seen
 * (up to 36, which a product p * v needs), so a sum of decimals is exact
 * and independent of the order of the additions.  When an addend is a
 * double, or the mantissa would overflow, the accumulator turns inexact
 * and continues in double arithmetic (flagged, never silently).
 *
 * Pure code: no I/O, no allocation.
 */
#ifndef PROTO_DECNUM_H
#define PROTO_DECNUM_H

#include <stddef.h>
#include <stdint.h>

#define DECNUM_MAX_SCALE  18
#define DECNUM_MAX_DIGITS 18  /* |m| < 10^18 */
#define DECNUM_DOUBLE     255 /* s: m holds the bits of a double */
#define DECACC_MAX_SCALE  36
/* Longest text decnum_format writes, NUL included. */
#define DECNUM_TEXT_MAX 48

__extension__ typedef __int128 decnum_i128;

struct decnum {
	int64_t m;
	uint8_t s; /* 0..DECNUM_MAX_SCALE, or DECNUM_DOUBLE */
};

struct decacc {
	decnum_i128 m; /* exact sum = m * 10^-s, while !inexact */
	int s;         /* 0..DECACC_MAX_SCALE */
	int inexact;   /* 1: the sum is d */
	double d;
};

/* 10^k for k in 0..18. */
extern const int64_t decnum_pow10[19];

/*
 * Parse a JSON number token (exactly the n bytes at p; the grammar
 * -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?).  Returns 0 and *out,
 * ERR_MALFORMED when the text is not a JSON number, or ERR_RANGE when it
 * denotes no finite double (1e400).
 */
int decnum_parse(const char *p, size_t n, struct decnum *out);

/* The decimal m * 10^-s, canonicalised; ERR_RANGE when |m| >= 10^18 or
 * s > 18 (nothing written then). */
int decnum_make(int64_t m, int s, struct decnum *out);

/* A double (finite) as a decnum: the exact decimal when the shortest
 * decimal text of d has one, else the double itself.  ERR_RANGE for NaN
 * and infinities. */
int decnum_from_double(double d, struct decnum *out);

static inline int
decnum_is_double(struct decnum v)
{
	return v.s == DECNUM_DOUBLE;
}

/* The double nearest to v (correctly rounded). */
double decnum_to_double(struct decnum v);

/*
 * Exact decimal text of v ("129.58", "-0.00012", "7"; a double fallback
 * as the shortest %g text that reads back as it) into buf (DECNUM_TEXT_MAX bytes are always enough);
 * NUL-terminated, returns its length.
 */
size_t decnum_format(struct decnum v, char *buf, size_t cap);

/* -1, 0, 1 as a < b, a == b, a > b (exact between decimals). */
int decnum_cmp(struct decnum a, struct decnum b);

/* 1 when a and b are the same representation (and so the same value). */
static inline int
decnum_eq(struct decnum a, struct decnum b)
{
	return a.m == b.m && a.s == b.s;
}

/*
 * Exact arithmetic: 0 and *out = a + b, a - b or a * b when both are
 * decimals and the result is one too; ERR_RANGE otherwise (*out
 * untouched).
 */
int decnum_add(struct decnum a, struct decnum b, struct decnum *out);
int decnum_sub(struct decnum a, struct decnum b, struct decnum *out);
int decnum_mul(struct decnum a, struct decnum b, struct decnum *out);

/* An empty (zero) accumulator. */
void decacc_init(struct decacc *a);
void decacc_add(struct decacc *a, struct decnum v);
/* Add the product p * v (exact: scale up to 36). */
void decacc_add_product(struct decacc *a, struct decnum p, struct decnum v);
/* a += b. */
void decacc_merge(struct decacc *a, const struct decacc *b);
/* The sum as a decnum: exact when it fits one, else its double. */
struct decnum decacc_value(const struct decacc *a);
double decacc_double(const struct decacc *a);
/* 1 when the sum is exactly zero (an inexact sum compares its double). */
int decacc_is_zero(const struct decacc *a);

#endif
