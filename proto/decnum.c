/*
 * decnum.c: (3)(4) exact decimals for prices and volumes (see decnum.h).
 *
 * Invariants:
 *  1. A decimal decnum is canonical: |m| < 10^18, s <= 18, and m % 10 != 0
 *     while s > 0; zero is {0, 0}.
 *  2. An exact decacc holds |m| <= DECACC_LIMIT and s <= 36; every step
 *     that could pass the limit checks first and turns the accumulator
 *     inexact instead (no __int128 overflow, no compiler-rt helpers).
 *  3. Conversions to double are correctly rounded: one IEEE division of
 *     two exact operands when |m| <= 2^53 and s <= 22, else strtod() of
 *     the exact decimal text.
 */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "proto/decnum.h"

typedef decnum_i128 i128;

/* Invariant 2: 10^37, well inside 2^127 (1.7e38). */
#define DECACC_LIMIT ((i128)decnum_pow10[18] * decnum_pow10[18] * 10)

const int64_t decnum_pow10[19] = {1LL, 10LL, 100LL, 1000LL, 10000LL, 100000LL,
    1000000LL, 10000000LL, 100000000LL, 1000000000LL, 10000000000LL,
    100000000000LL, 1000000000000LL, 10000000000000LL, 100000000000000LL,
    1000000000000000LL, 10000000000000000LL, 100000000000000000LL,
    1000000000000000000LL};

static const double pow10_exact[23] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7,
    1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
    1e21, 1e22};

static i128
pow10_i128(int k)
{
	return k <= 18 ? (i128)decnum_pow10[k]
	               : (i128)decnum_pow10[18] * decnum_pow10[k - 18];
}

/* DECACC_LIMIT / 10^k for k in 0..36, so the hot paths never divide an
 * __int128 (filled once, before main). */
static i128 limit_div[DECACC_MAX_SCALE + 1];

static void __attribute__((constructor)) limit_div_init(void)
{
	int k;

	for (k = 0; k <= DECACC_MAX_SCALE; k++)
		limit_div[k] = DECACC_LIMIT / pow10_i128(k);
}

/* Strip trailing zeros of m while s > 0 (int64 arithmetic when m fits,
 * which is nearly always). */
static void
canon_i128(i128 *mp, int *sp)
{
	i128 m = *mp;
	int s = *sp;

	if (m >= INT64_MIN && m <= INT64_MAX) {
		int64_t x = (int64_t)m;

		while (s > 0 && x % 10 == 0) {
			x /= 10;
			s--;
		}
		m = x;
	} else {
		while (s > 0 && m % 10 == 0) {
			m /= 10;
			s--;
		}
	}
	*mp = m;
	*sp = s;
}

static i128
abs128(i128 v)
{
	return v < 0 ? -v : v;
}

static struct decnum
from_double_bits(double d)
{
	struct decnum v;

	if (d == 0) {
		v.m = 0;
		v.s = 0;
		return v;
	}
	memcpy(&v.m, &d, sizeof(d));
	v.s = DECNUM_DOUBLE;
	return v;
}

static double
bits_double(int64_t m)
{
	double d;

	memcpy(&d, &m, sizeof(d));
	return d;
}

int
decnum_make(int64_t m, int s, struct decnum *out)
{
	if (s < 0 || s > DECNUM_MAX_SCALE || m <= -decnum_pow10[18] ||
	    m >= decnum_pow10[18])
		return ERR_RANGE;
	while (s > 0 && m % 10 == 0) {
		m /= 10;
		s--;
	}
	out->m = m;
	out->s = (uint8_t)(m == 0 ? 0 : s);
	return 0;
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * The double for a token whose decimal does not fit: strtod() of at most
 * 40 significant digits and an exponent (a sticky 1 stands in for any
 * non-zero digit dropped, so rounding goes the right way).
 */
static int
parse_double(int neg, const char *dig, int nd, int dropped_nonzero, long e10,
    struct decnum *out)
{
	char buf[80], *o = buf;
	double d;
	int i, keep = nd > 40 ? 40 : nd;

	if (neg)
		*o++ = '-';
	*o++ = '0';
	*o++ = '.';
	for (i = 0; i < keep; i++)
		*o++ = dig[i];
	if (keep < nd || dropped_nonzero)
		*o++ = '1';
	/* value = 0.DIGITS * 10^(e10 + nd) */
	snprintf(o, sizeof(buf) - (size_t)(o - buf), "e%ld", e10 + nd);
	d = strtod(buf, NULL);
	if (!isfinite(d))
		return ERR_RANGE;
	*out = from_double_bits(d);
	return 0;
}

int
decnum_parse(const char *p, size_t n, struct decnum *out)
{
	const char *end = p + n, *q;
	char dig[41];
	int nd = 0, neg = 0, dropped = 0, zeros = 0, infrac = 0, i;
	long e10 = 0, ex = 0;
	int64_t m = 0;

	/* Grammar first; significant digits collected on the way: dig[]
	 * holds them without leading zeros, zeros counts a pending run of
	 * zero digits (trailing zeros are dropped into e10). */
	if (p < end && *p == '-') {
		neg = 1;
		p++;
	}
	if (p == end || !is_digit(*p))
		return ERR_MALFORMED;
	if (*p == '0' && p + 1 < end && is_digit(p[1]))
		return ERR_MALFORMED;
	for (q = p; q < end && (is_digit(*q) || *q == '.'); q++) {
		if (*q == '.') {
			if (infrac || q + 1 == end || !is_digit(q[1]))
				return ERR_MALFORMED;
			infrac = 1;
			continue;
		}
		if (infrac)
			e10--; /* a fraction digit */
		if (*q == '0') {
			if (nd > 0)
				zeros++;
			continue;
		}
		/* A non-zero digit: the pending zeros were significant. */
		for (i = 0; i <= zeros; i++) {
			char c = i < zeros ? '0' : *q;

			if (nd < 40)
				dig[nd] = c;
			else if (c != '0')
				dropped = 1;
			nd++;
		}
		zeros = 0;
	}
	e10 += zeros; /* trailing zeros scale */
	if (q < end) {
		int eneg = 0;

		if (*q != 'e' && *q != 'E')
			return ERR_MALFORMED;
		q++;
		if (q < end && (*q == '+' || *q == '-'))
			eneg = *q++ == '-';
		if (q == end || !is_digit(*q))
			return ERR_MALFORMED;
		for (; q < end && is_digit(*q); q++)
			if (ex < 1000000)
				ex = ex * 10 + (*q - '0');
		if (q != end)
			return ERR_MALFORMED;
		e10 += eneg ? -ex : ex;
	}
	if (nd == 0) {
		out->m = 0;
		out->s = 0;
		return 0;
	}
	/* value = DIGITS * 10^e10 with DIGITS of nd digits, the last one
	 * non-zero. */
	if (nd <= DECNUM_MAX_DIGITS && e10 <= 0 && -e10 <= DECNUM_MAX_SCALE) {
		for (i = 0; i < nd; i++)
			m = m * 10 + (dig[i] - '0');
		out->m = neg ? -m : m;
		out->s = (uint8_t)-e10;
		return 0;
	}
	if (nd <= DECNUM_MAX_DIGITS && e10 > 0 &&
	    nd + e10 <= DECNUM_MAX_DIGITS) {
		for (i = 0; i < nd; i++)
			m = m * 10 + (dig[i] - '0');
		m *= decnum_pow10[e10];
		out->m = neg ? -m : m;
		out->s = 0;
		return 0;
	}
	return parse_double(neg, dig, nd, dropped, e10, out);
}

/* Write |v| in decimal at o (at most 39 digits); returns the length. */
static size_t
put_u128(char *o, i128 v)
{
	char tmp[40];
	size_t n = 0, i;

	if (v < 0)
		v = -v;
	do {
		tmp[n++] = (char)('0' + (int)(v % 10));
		v /= 10;
	} while (v != 0);
	for (i = 0; i < n; i++)
		o[i] = tmp[n - 1 - i];
	return n;
}

/* Exact text of m * 10^-s (s <= 36) into buf (>= 80 bytes). */
static size_t
format_i128(i128 m, int s, char *buf)
{
	char digits[40];
	size_t nd, k = 0, i;

	nd = put_u128(digits, m);
	if (m < 0)
		buf[k++] = '-';
	if ((size_t)s >= nd) {
		buf[k++] = '0';
		if (s > 0)
			buf[k++] = '.';
		for (i = nd; i < (size_t)s; i++)
			buf[k++] = '0';
		memcpy(buf + k, digits, nd);
		k += nd;
	} else {
		memcpy(buf + k, digits, nd - (size_t)s);
		k += nd - (size_t)s;
		if (s > 0) {
			buf[k++] = '.';
			memcpy(buf + k, digits + nd - (size_t)s, (size_t)s);
			k += (size_t)s;
		}
	}
	buf[k] = '\0';
	return k;
}

static double
i128_to_double(i128 m, int s)
{
	char buf[96];

	if (abs128(m) <= ((i128)1 << 53) && s <= 22) {
		double d = (double)(int64_t)m;

		return d / pow10_exact[s];
	}
	format_i128(m, s, buf);
	return strtod(buf, NULL);
}

double
decnum_to_double(struct decnum v)
{
	if (v.s == DECNUM_DOUBLE)
		return bits_double(v.m);
	return i128_to_double(v.m, v.s);
}

size_t
decnum_format(struct decnum v, char *buf, size_t cap)
{
	char tmp[96];
	size_t n;

	if (v.s == DECNUM_DOUBLE) {
		double d = bits_double(v.m);
		int prec;

		/* The shortest text that reads back as d. */
		for (prec = 1; prec < 17; prec++) {
			snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
			if (strtod(tmp, NULL) == d)
				break;
		}
		n = (size_t)snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
	} else
		n = format_i128(v.m, v.s, tmp);
	if (cap == 0)
		return 0;
	if (n >= cap)
		n = cap - 1;
	memcpy(buf, tmp, n);
	buf[n] = '\0';
	return n;
}

int
decnum_from_double(double d, struct decnum *out)
{
	char buf[40];
	int prec, n;

	if (!isfinite(d))
		return ERR_RANGE;
	for (prec = 1; prec <= 17; prec++) {
		n = snprintf(buf, sizeof(buf), "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	/* %g may write "1e+20" and "inf"-free text only: JSON grammar but
	 * for the '+' of the exponent, which decnum_parse accepts. */
	if (decnum_parse(buf, (size_t)n, out) != 0)
		*out = from_double_bits(d);
	return 0;
}

int
decnum_cmp(struct decnum a, struct decnum b)
{
	if (a.s != DECNUM_DOUBLE && b.s != DECNUM_DOUBLE) {
		i128 x = (i128)a.m, y = (i128)b.m;

		if (a.s < b.s)
			x *= decnum_pow10[b.s - a.s];
		else if (b.s < a.s)
			y *= decnum_pow10[a.s - b.s];
		return x < y ? -1 : x > y;
	} else {
		double x = decnum_to_double(a), y = decnum_to_double(b);

		return x < y ? -1 : x > y;
	}
}

/* ------------------------------------------------------------------ */
/* Accumulators */

void
decacc_init(struct decacc *a)
{
	a->m = 0;
	a->s = 0;
	a->inexact = 0;
	a->d = 0;
}

static void
go_inexact(struct decacc *a, double plus)
{
	if (!a->inexact) {
		a->d = i128_to_double(a->m, a->s);
		a->inexact = 1;
		a->m = 0;
		a->s = 0;
	}
	a->d += plus;
}

/* a += m * 10^-s exactly, or inexact (invariant 2). */
static void
add_i128(struct decacc *a, i128 m, int s)
{
	i128 x = a->m;
	int k;

	if (a->inexact) {
		a->d += i128_to_double(m, s);
		return;
	}
	if (s > a->s) {
		k = s - a->s;
		if (x != 0 && abs128(x) > limit_div[k]) {
			go_inexact(a, i128_to_double(m, s));
			return;
		}
		x *= pow10_i128(k);
		a->s = s;
	} else if (s < a->s) {
		k = a->s - s;
		if (m != 0 && abs128(m) > limit_div[k]) {
			go_inexact(a, i128_to_double(m, s));
			return;
		}
		m *= pow10_i128(k);
	}
	/* Both within the limit: no overflow of the sum (2 * 10^37). */
	x += m;
	if (abs128(x) > DECACC_LIMIT) {
		a->m = x;
		go_inexact(a, 0);
		return;
	}
	a->m = x;
}

void
decacc_add(struct decacc *a, struct decnum v)
{
	if (v.s == DECNUM_DOUBLE)
		go_inexact(a, bits_double(v.m));
	else
		add_i128(a, v.m, v.s);
}

void
decacc_add_product(struct decacc *a, struct decnum p, struct decnum v)
{
	if (p.s == DECNUM_DOUBLE || v.s == DECNUM_DOUBLE)
		go_inexact(a, decnum_to_double(p) * decnum_to_double(v));
	else /* |p.m * v.m| < 10^36, scale <= 36 */
		add_i128(a, (i128)p.m * v.m, p.s + v.s);
}

void
decacc_merge(struct decacc *a, const struct decacc *b)
{
	if (b->inexact)
		go_inexact(a, b->d);
	else
		add_i128(a, b->m, b->s);
}

struct decnum
decacc_value(const struct decacc *a)
{
	struct decnum v;
	i128 m = a->m;
	int s = a->s;

	if (a->inexact)
		return from_double_bits(a->d);
	canon_i128(&m, &s);
	if (s <= DECNUM_MAX_SCALE && abs128(m) < decnum_pow10[18]) {
		v.m = (int64_t)m;
		v.s = (uint8_t)(m == 0 ? 0 : s);
		return v;
	}
	return from_double_bits(i128_to_double(m, s));
}

/* The exact value of a as a decimal decnum, or ERR_RANGE. */
static int
exact_value(const struct decacc *a, struct decnum *out)
{
	struct decnum v;

	if (a->inexact)
		return ERR_RANGE;
	v = decacc_value(a);
	if (v.s == DECNUM_DOUBLE)
		return ERR_RANGE;
	*out = v;
	return 0;
}

int
decnum_add(struct decnum a, struct decnum b, struct decnum *out)
{
	struct decacc acc;
	int64_t x, y;

	if (a.s == DECNUM_DOUBLE || b.s == DECNUM_DOUBLE)
		return ERR_RANGE;
	/* The common case in int64: |m| < 10^18 and a scale-up by up to
	 * 10^18 checked for overflow. */
	x = a.m;
	y = b.m;
	if ((a.s >= b.s ||
	        !__builtin_mul_overflow(x, decnum_pow10[b.s - a.s], &x)) &&
	    (b.s >= a.s ||
	        !__builtin_mul_overflow(y, decnum_pow10[a.s - b.s], &y)) &&
	    !__builtin_add_overflow(x, y, &x)) {
		i128 m = x;
		int s = a.s > b.s ? a.s : b.s;

		canon_i128(&m, &s);
		return decnum_make((int64_t)m, s, out) == 0 ? 0 : ERR_RANGE;
	}
	decacc_init(&acc);
	decacc_add(&acc, a);
	decacc_add(&acc, b);
	return exact_value(&acc, out);
}

int
decnum_sub(struct decnum a, struct decnum b, struct decnum *out)
{
	if (b.s == DECNUM_DOUBLE)
		return ERR_RANGE;
	b.m = -b.m;
	return decnum_add(a, b, out);
}

int
decnum_mul(struct decnum a, struct decnum b, struct decnum *out)
{
	struct decacc acc;

	if (a.s == DECNUM_DOUBLE || b.s == DECNUM_DOUBLE)
		return ERR_RANGE;
	{
		/* |a.m * b.m| < 10^36: no overflow in __int128. */
		i128 m = (i128)a.m * b.m;
		int s = a.s + b.s;

		canon_i128(&m, &s);
		if (s <= DECNUM_MAX_SCALE && abs128(m) < decnum_pow10[18]) {
			out->m = (int64_t)m;
			out->s = (uint8_t)(m == 0 ? 0 : s);
			return 0;
		}
	}
	decacc_init(&acc);
	decacc_add_product(&acc, a, b);
	return exact_value(&acc, out);
}

double
decacc_double(const struct decacc *a)
{
	return a->inexact ? a->d : i128_to_double(a->m, a->s);
}

int
decacc_is_zero(const struct decacc *a)
{
	return a->inexact ? a->d == 0 : a->m == 0;
}
