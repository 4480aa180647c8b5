/*
 * test_jsonw.c: the JSON writer of the HTTP responses (proto/jsonw.c):
 * golden numbers, decimals of up to 15 digits coming back as the same
 * text, any double coming back within 15 digits, escapes, and the
 * latched error of a bounded wbuf.
 */
#include <config.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/xorshift.h"
#include "proto/jsonw.h"
#include "proto/wbuf.h"
#include "tests/lib/tap.h"

static const char *
fmt(double v)
{
	static char buf[JSONW_DOUBLE_MAX + 1];
	size_t n = jsonw_format_double(v, buf);

	buf[n] = '\0';
	return buf;
}

static void
test_golden(void)
{
	static const struct {
		double v;
		const char *want;
	} g[] = {
	    {0, "0"},
	    {-0.0, "0"},
	    {1, "1"},
	    {-1, "-1"},
	    {10, "10"},
	    {100, "100"},
	    {129.58, "129.58"},
	    {43123.45, "43123.45"},
	    {0.1, "0.1"},
	    {0.1 + 0.2, "0.3"},
	    {1.0 / 3, "0.333333333333333"},
	    {2.0 / 3, "0.666666666666667"},
	    {0.00012, "0.00012"},
	    {0.00001, "0.00001"},
	    {0.0000123456789, "0.0000123456789"},
	    {123456789012345, "123456789012345"},
	    {99999.999999999999, "100000"},
	    {0.99999999999999995, "1"},
	    {9.9999999999999995, "10"},
	    {-2.5, "-2.5"},
	    {1e15, "1e+15"},
	    {1.5e-7, "1.5e-07"},
	    {-3.25e20, "-3.25e+20"},
	    {1700000000000.0, "1700000000000"},
	    {16234.5678, "16234.5678"},
	};
	size_t i;

	for (i = 0; i < sizeof(g) / sizeof(g[0]); i++)
		is_str(fmt(g[i].v), g[i].want, "golden number %zu", i);
	is_str(fmt(NAN), "null", "NaN is null");
	is_str(fmt(INFINITY), "null", "+inf is null");
	is_str(fmt(-INFINITY), "null", "-inf is null");
}

/* Decimals of 1..15 significant digits (what Finnhub sends as price and
 * volume) come back as their own canonical text. */
static void
test_decimals_roundtrip(void)
{
	uint64_t rng;
	int i, bad = 0;

	rng = 7;
	for (i = 0; i < 200000; i++) {
		int digits = 1 + (int)(xorshift64s(&rng) % 15);
		int scale = (int)(xorshift64s(&rng) % 12); /* decimals */
		uint64_t m = 0;
		char want[64], num[32];
		int k, nl;

		for (k = 0; k < digits; k++)
			m = m * 10 + (k == 0 ? 1 + xorshift64s(&rng) % 9
			                     : xorshift64s(&rng) % 10);
		while (m % 10 == 0 && scale > 0) /* canonical: no trailing 0 */
			m /= 10, scale--, digits--;
		nl = snprintf(num, sizeof(num), "%llu", (unsigned long long)m);
		if (scale == 0) {
			snprintf(want, sizeof(want), "%s", num);
		} else if (scale >= nl) {
			int z = 0;

			want[z++] = '0';
			want[z++] = '.';
			for (k = 0; k < scale - nl; k++)
				want[z++] = '0';
			snprintf(want + z, sizeof(want) - (size_t)z, "%s", num);
		} else {
			snprintf(want, sizeof(want), "%.*s.%s", nl - scale, num,
			    num + nl - scale);
		}
		if (strtod(want, NULL) < 1e-5)
			continue; /* exponent notation: not this property */
		if (strcmp(fmt(strtod(want, NULL)), want) != 0 && bad++ < 5)
			diag("%s came back as %s", want,
			    fmt(strtod(want, NULL)));
	}
	ok(bad == 0, "200000 decimals of up to 15 digits round-trip (%d bad)",
	    bad);
}

/* Any double comes back within 15 significant digits, and the text is
 * a JSON number. */
static void
test_any_double(void)
{
	uint64_t rng;
	int i, bad = 0, badsyntax = 0;

	rng = 11;
	for (i = 0; i < 200000; i++) {
		uint64_t bits = xorshift64s(&rng);
		double v, back;
		const char *s, *q;

		memcpy(&v, &bits, sizeof(v));
		if (!isfinite(v))
			continue;
		s = fmt(v);
		back = strtod(s, NULL);
		if (v != 0 && fabs(back - v) > fabs(v) * 1e-14 && bad++ < 5)
			diag("%.17g came back as %s", v, s);
		/* JSON number: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)? */
		q = s + (*s == '-');
		if (*q == '0' && q[1] >= '0' && q[1] <= '9')
			badsyntax++;
		if (strspn(q, "0123456789.e+-") != strlen(q))
			badsyntax++;
	}
	ok(bad == 0, "random doubles within 1e-14 (%d bad)", bad);
	ok(badsyntax == 0, "every text is a JSON number (%d bad)", badsyntax);
}

static void
test_ints(void)
{
	struct wbuf w;

	wbuf_init(&w, 0);
	jsonw_i64(&w, 0);
	JSONW_LIT(&w, ",");
	jsonw_i64(&w, -1);
	JSONW_LIT(&w, ",");
	jsonw_i64(&w, 1700000000123);
	JSONW_LIT(&w, ",");
	jsonw_i64(&w, INT64_MIN);
	JSONW_LIT(&w, ",");
	jsonw_i64(&w, INT64_MAX);
	JSONW_LIT(&w, ",");
	jsonw_i64(&w, 99);
	is_mem(w.buf, w.len,
	    "0,-1,1700000000123,-9223372036854775808,9223372036854775807,99",
	    strlen("0,-1,1700000000123,-9223372036854775808,"
	           "9223372036854775807,99"),
	    "integers");
	wbuf_fini(&w);
	{ /* every length, across the blocks of eight digits: 10^k - 1,
	   * 10^k and 123...k */
		uint64_t p10 = 1, seq = 0;
		char want[32];
		int k, j, bad = 0;

		for (k = 1; k <= 18; k++) {
			uint64_t vals[3];

			p10 *= 10;
			seq = seq * 10 + (uint64_t)(k % 10);
			vals[0] = p10 - 1;
			vals[1] = p10;
			vals[2] = seq;
			for (j = 0; j < 3; j++) {
				wbuf_init(&w, 0);
				jsonw_i64(&w, (int64_t)vals[j]);
				snprintf(want, sizeof(want), "%llu",
				    (unsigned long long)vals[j]);
				bad += w.len != strlen(want) ||
				       memcmp(w.buf, want, w.len) != 0;
				wbuf_fini(&w);
			}
		}
		ok(bad == 0, "integers of 1 to 19 digits (%d bad)", bad);
	}
}

static void
test_strings(void)
{
	static const char in[] = "a\"b\\c\n\r\t\x01\x1f/\xc3\xa9z";
	static const char want[] =
	    "\"a\\\"b\\\\c\\n\\r\\t\\u0001\\u001f/\xc3\xa9z\"";
	struct wbuf w;

	wbuf_init(&w, 0);
	jsonw_str(&w, in, sizeof(in) - 1);
	is_mem(w.buf, w.len, want, sizeof(want) - 1, "escapes");
	wbuf_reset(&w);
	jsonw_str(&w, "", 0);
	is_mem(w.buf, w.len, "\"\"", 2, "empty string");
	wbuf_reset(&w);
	jsonw_cstr(&w, "BINANCE:BTCUSDT");
	is_mem(w.buf, w.len, "\"BINANCE:BTCUSDT\"", 17, "plain string");
	wbuf_fini(&w);
}

static void
test_bounded(void)
{
	struct wbuf w;
	int i;

	wbuf_init(&w, 64);
	for (i = 0; i < 100; i++)
		jsonw_double(&w, 1.5);
	is_int(w.err, ERR_TOO_BIG, "a bounded wbuf latches ERR_TOO_BIG");
	ok(w.len <= 64, "and holds no more than its max");
	wbuf_fini(&w);
}

int
main(void)
{
	plan_lazy();
	test_golden();
	test_decimals_roundtrip();
	test_any_double();
	test_ints();
	test_strings();
	test_bounded();
	return done_testing();
}
