/*
 * jsonw.c: JSON writer on a wbuf (see jsonw.h).
 */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "proto/jsonw.h"

static const double pow10_pos[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8,
    1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21,
    1e22};

#define SIG_LOW  100000000000000ULL  /* 1e14: 15 digits */
#define SIG_HIGH 1000000000000000ULL /* 1e15 */

static const char digit_pairs[] = "00010203040506070809"
                                  "10111213141516171819"
                                  "20212223242526272829"
                                  "30313233343536373839"
                                  "40414243444546474849"
                                  "50515253545556575859"
                                  "60616263646566676869"
                                  "70717273747576777879"
                                  "80818283848586878889"
                                  "90919293949596979899";

/* The digits of v < 10^8 ending at end; returns where they start. */
static char *
u32_digits(uint32_t v, char *end)
{
	char *p = end;

	while (v >= 100) {
		uint32_t r = v % 100;

		v /= 100;
		p -= 2;
		memcpy(p, digit_pairs + 2 * r, 2);
	}
	if (v >= 10) {
		p -= 2;
		memcpy(p, digit_pairs + 2 * v, 2);
	} else {
		*--p = (char)('0' + v);
	}
	return p;
}

/* Exactly 8 digits of v < 10^8 ending at end. */
static char *
digits8(uint32_t v, char *end)
{
	uint32_t a = v / 10000, b = v % 10000;

	end -= 8;
	memcpy(end, digit_pairs + 2 * (a / 100), 2);
	memcpy(end + 2, digit_pairs + 2 * (a % 100), 2);
	memcpy(end + 4, digit_pairs + 2 * (b / 100), 2);
	memcpy(end + 6, digit_pairs + 2 * (b % 100), 2);
	return end;
}

/* The decimal digits of v ending at end (room for 20 before it);
 * returns where they start.  Timestamps (13 digits) and mantissas (15)
 * go in blocks of eight with 32-bit arithmetic. */
static char *
u64_digits(uint64_t v, char *end)
{
	uint64_t hi;

	if (v < 100000000)
		return u32_digits((uint32_t)v, end);
	hi = v / 100000000;
	end = digits8((uint32_t)(v - hi * 100000000), end);
	if (hi < 100000000)
		return u32_digits((uint32_t)hi, end);
	end = digits8((uint32_t)(hi % 100000000), end);
	return u32_digits((uint32_t)(hi / 100000000), end);
}

void
jsonw_i64(struct wbuf *w, int64_t v)
{
	char buf[24], *end = buf + sizeof(buf), *p;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	p = u64_digits(u, end);
	if (v < 0)
		*--p = '-';
	wbuf_put(w, p, (size_t)(end - p));
}

/* m (15 digits) scaled so that the first digit has weight 10^e. */
static size_t
plain(uint64_t m, int e, char *out)
{
	char d[20], *dp = u64_digits(m, d + sizeof(d));
	size_t nd = 15, i, n = 0;

	/* m has exactly 15 digits; only fractional zeros are dropped. */
	while (nd > 0 && dp[nd - 1] == '0' && (int)nd - 1 > e)
		nd--;
	if (e >= 0) {
		for (i = 0; i < nd; i++) {
			if ((int)i == e + 1)
				out[n++] = '.';
			out[n++] = dp[i];
		}
	} else {
		out[n++] = '0';
		out[n++] = '.';
		for (i = 0; (int)i < -e - 1; i++)
			out[n++] = '0';
		memcpy(out + n, dp, nd);
		n += nd;
	}
	return n;
}

size_t
jsonw_format_double(double v, char *buf)
{
	size_t n = 0;
	uint64_t m;
	double x;
	int e, s;

	if (!isfinite(v)) {
		memcpy(buf, "null", 4);
		return 4;
	}
	if (v == 0) {
		buf[0] = '0';
		return 1;
	}
	if (v < 0) {
		buf[n++] = '-';
		v = -v;
	}
	if (v < 1e-5 || v >= 1e15) {
		char tmp[JSONW_DOUBLE_MAX + 8];
		int k = snprintf(tmp, sizeof(tmp), "%.15g", v);

		if (k < 0 || (size_t)k + n > JSONW_DOUBLE_MAX)
			k = 0;
		memcpy(buf + n, tmp, (size_t)k);
		return n + (size_t)k;
	}
	/* e: the power of ten of the first significant digit, from the
	 * table (exact for e >= 0; one step off at worst below, which the
	 * check of m's length corrects). */
	if (v >= 1) {
		for (e = 0; e < 14 && v >= pow10_pos[e + 1]; e++)
			;
	} else {
		for (e = -1; e > -5 && v * pow10_pos[-e] < 1; e--)
			;
	}
	s = 14 - e; /* 0..19: every power exact in a double */
	x = v * pow10_pos[s];
	m = (uint64_t)(x + 0.5);
	if (m < SIG_LOW) {
		e--;
		x = v * pow10_pos[s + 1];
		m = (uint64_t)(x + 0.5);
	}
	if (m >= SIG_HIGH) { /* rounded up to the next power of ten */
		m = (m + 5) / 10;
		e++;
		if (m >= SIG_HIGH) {
			m /= 10;
			e++;
		}
	}
	return n + plain(m, e, buf + n);
}

void
jsonw_double(struct wbuf *w, double v)
{
	char buf[JSONW_DOUBLE_MAX];
	size_t n;

	if (wbuf_reserve(w, JSONW_DOUBLE_MAX) != 0)
		return;
	n = jsonw_format_double(v, buf);
	memcpy(w->buf + w->len, buf, n);
	w->len += n;
}

/* 1: the byte must be escaped. */
static int
needs_escape(unsigned char c)
{
	return c < 0x20 || c == '"' || c == '\\';
}

void
jsonw_str(struct wbuf *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0;

	wbuf_u8(w, '"');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6];
		size_t el = 2;

		if (!needs_escape(c))
			continue;
		wbuf_put(w, s + run, i - run);
		run = i + 1;
		esc[0] = '\\';
		switch (c) {
		case '"':
			esc[1] = '"';
			break;
		case '\\':
			esc[1] = '\\';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			el = 6;
			break;
		}
		wbuf_put(w, esc, el);
	}
	wbuf_put(w, s + run, n - run);
	wbuf_u8(w, '"');
}

void
jsonw_cstr(struct wbuf *w, const char *s)
{
	jsonw_str(w, s, strlen(s));
}
