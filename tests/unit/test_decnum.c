/*
 * test_decnum.c: (3)(4) exact decimals (proto/decnum.c): parsing Finnhub's
 * number text, canonical forms, the double fallback, NaN/infinity refused,
 * text round trips, comparison, and exact order-independent sums.
 */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/xorshift.h"
#include "proto/decnum.h"
#include "tests/lib/tap.h"

static int
parse(const char *s, struct decnum *v)
{
	return decnum_parse(s, strlen(s), v);
}

static void
check_dec(const char *text, int64_t m, int s)
{
	struct decnum v;
	int rc = parse(text, &v);

	ok(rc == 0 && v.m == m && v.s == s, "\"%s\" = %lld e-%d", text,
	    (long long)m, s);
	if (rc != 0 || v.m != m || v.s != s)
		diag("  rc %d, got %lld e-%d", rc, (long long)v.m, v.s);
}

static void
check_text(const char *text, const char *want)
{
	char buf[DECNUM_TEXT_MAX];
	struct decnum v;

	if (parse(text, &v) != 0) {
		ok(0, "\"%s\" parses", text);
		return;
	}
	decnum_format(v, buf, sizeof(buf));
	is_str(buf, want, "\"%s\" prints as %s", text, want);
}

static void
test_parse(void)
{
	static const char *const bad[] = {"", "-", "+1", ".5", "1.", "01",
	    "-01", "1e", "1e+", "1.2.3", "1x", "0x10", "NaN", "Infinity", " 1",
	    "1 ", "--1", "1..2", "1e5.5", "-.5"};
	struct decnum v;
	size_t i;

	check_dec("129.58", 12958, 2);
	check_dec("0.00012", 12, 5);
	check_dec("1", 1, 0);
	check_dec("0", 0, 0);
	check_dec("-0", 0, 0);
	check_dec("0.0", 0, 0);
	check_dec("1.50", 15, 1);
	check_dec("1500", 1500, 0);
	check_dec("66972.77", 6697277, 2);
	check_dec("1.05", 105, 2);
	check_dec("1e-7", 1, 7);
	check_dec("1.5E3", 1500, 0);
	check_dec("2.5e+2", 250, 0);
	check_dec("-3.25", -325, 2);
	check_dec("0.000000000000000001", 1, 18);
	check_dec("999999999999999999", 999999999999999999LL, 0);
	check_dec("0.999999999999999999", 999999999999999999LL, 18);
	check_dec("100000000000000000e-17", 1, 0);
	check_dec("0.12300000000000000000000", 123, 3);

	/* No decimal of 18 digits at scale <= 18: the double stands in. */
	ok(parse("1e-19", &v) == 0 && decnum_is_double(v) &&
	        decnum_to_double(v) == 1e-19,
	    "1e-19: the double fallback");
	ok(parse("1000000000000000000", &v) == 0 && decnum_is_double(v) &&
	        decnum_to_double(v) == 1e18,
	    "10^18: the double fallback");
	ok(parse("66972.770000000000000001", &v) == 0 && decnum_is_double(v) &&
	        decnum_to_double(v) == 66972.77,
	    "24 significant digits: the nearest double");
	ok(parse("1e300", &v) == 0 && decnum_is_double(v) &&
	        decnum_to_double(v) == 1e300,
	    "1e300: a double");
	ok(parse("1e-400", &v) == 0 && !decnum_is_double(v) && v.m == 0,
	    "1e-400 underflows to zero");
	is_int(parse("1e400", &v), ERR_RANGE, "1e400 (infinity): refused");
	is_int(parse("-1e99999999", &v), ERR_RANGE, "a huge exponent: refused");
	{
		char big[400];

		memset(big, '9', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		is_int(parse(big, &v), ERR_RANGE, "399 nines overflow");
		big[0] = '1';
		memset(big + 1, '0', 300);
		big[301] = '\0';
		ok(parse(big, &v) == 0 && decnum_to_double(v) == 1e300,
		    "a 301-digit integer: its double");
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(parse(bad[i], &v), ERR_MALFORMED, "\"%s\": malformed",
		    bad[i]);
}

static void
test_format(void)
{
	char buf[DECNUM_TEXT_MAX];
	struct decnum v;

	check_text("129.58", "129.58");
	check_text("0.00012", "0.00012");
	check_text("-0.5", "-0.5");
	check_text("1.50", "1.5");
	check_text("1e3", "1000");
	check_text("0.000000000000000001", "0.000000000000000001");
	check_text("1e-19", "1e-19");
	check_text("1e300", "1e+300");
	is_int(decnum_make(1500, 3, &v), 0, "1500e-3");
	ok(v.m == 15 && v.s == 1, "canonicalised to 15e-1");
	is_int(decnum_make(decnum_pow10[18], 0, &v), ERR_RANGE,
	    "10^18: out of range");
	is_int(decnum_make(1, 19, &v), ERR_RANGE, "scale 19: out of range");
	is_int(decnum_from_double(NAN, &v), ERR_RANGE, "NaN refused");
	is_int(decnum_from_double(INFINITY, &v), ERR_RANGE, "+inf refused");
	is_int(decnum_from_double(-INFINITY, &v), ERR_RANGE, "-inf refused");
	ok(decnum_from_double(0.1, &v) == 0 && v.m == 1 && v.s == 1,
	    "0.1 as a double: the decimal 0.1");
	decnum_format(v, buf, 2);
	is_str(buf, "0", "format truncates to the buffer");
}

static void
test_roundtrip(void)
{
	uint64_t seed = 7;
	char buf[DECNUM_TEXT_MAX];
	int i, bad = 0, exact = 0;

	/* Every double's shortest text parses back to that double. */
	for (i = 0; i < 20000; i++) {
		uint64_t bits = xorshift64s(&seed);
		struct decnum v, w;
		double d;

		memcpy(&d, &bits, sizeof(d));
		if (!isfinite(d))
			continue;
		if (decnum_from_double(d, &v) != 0 ||
		    decnum_to_double(v) != d) {
			bad++;
			continue;
		}
		decnum_format(v, buf, sizeof(buf));
		if (parse(buf, &w) != 0 || decnum_to_double(w) != d)
			bad++;
		exact += !decnum_is_double(v);
	}
	is_int(bad, 0, "random doubles: text round trips (%d exact)", exact);
	/* Decimals: text round trips exactly. */
	for (i = 0, bad = 0; i < 20000; i++) {
		int64_t m =
		    (int64_t)(xorshift64s(&seed) % (uint64_t)decnum_pow10[18]) *
		    (i & 1 ? 1 : -1);
		struct decnum v, w;

		if (decnum_make(m, i % 19, &v) != 0) {
			bad++;
			continue;
		}
		decnum_format(v, buf, sizeof(buf));
		if (parse(buf, &w) != 0 || !decnum_eq(v, w))
			bad++;
	}
	is_int(bad, 0, "random decimals: text round trips exactly");
}

static void
test_cmp(void)
{
	struct decnum a, b;

	parse("1.5", &a);
	parse("1.50000", &b);
	is_int(decnum_cmp(a, b), 0, "1.5 == 1.50000");
	parse("1.49", &b);
	is_int(decnum_cmp(a, b), 1, "1.5 > 1.49");
	is_int(decnum_cmp(b, a), -1, "1.49 < 1.5");
	parse("-999999999999999999", &a);
	parse("0.000000000000000001", &b);
	is_int(decnum_cmp(a, b), -1, "extremes compare exactly");
	parse("1e300", &a);
	is_int(decnum_cmp(a, b), 1, "a double against a decimal");
}

static void
test_acc(void)
{
	struct decnum v[6], p, q;
	struct decacc a, b;
	char buf[DECNUM_TEXT_MAX];
	int i;

	decacc_init(&a);
	parse("0.1", &v[0]);
	parse("0.2", &v[1]);
	decacc_add(&a, v[0]);
	decacc_add(&a, v[1]);
	decnum_format(decacc_value(&a), buf, sizeof(buf));
	is_str(buf, "0.3", "0.1 + 0.2 is exactly 0.3");
	ok(decacc_double(&a) == 0.3, "and its double is 0.3");

	/* Order does not matter. */
	parse("66972.77", &v[0]);
	parse("0.00012", &v[1]);
	parse("1e-9", &v[2]);
	parse("123456789012345678", &v[3]);
	parse("-5.5", &v[4]);
	parse("0.333", &v[5]);
	decacc_init(&a);
	decacc_init(&b);
	for (i = 0; i < 6; i++) {
		decacc_add_product(&a, v[i], v[(i + 1) % 6]);
		decacc_add_product(&b, v[5 - i], v[(6 - i) % 6]);
	}
	ok(!a.inexact && !b.inexact && a.m == b.m && a.s == b.s,
	    "sums of products: exact and order-independent");

	parse("129.58", &p);
	parse("100", &q);
	decacc_init(&a);
	decacc_add_product(&a, p, q);
	decnum_format(decacc_value(&a), buf, sizeof(buf));
	is_str(buf, "12958", "129.58 * 100");

	/* Overflow turns the sum inexact instead of wrapping. */
	decacc_init(&a);
	parse("999999999999999999", &p);
	for (i = 0; i < 40; i++)
		decacc_add_product(&a, p, p);
	ok(a.inexact, "10^37 and beyond: inexact, flagged");
	ok(fabs(decacc_double(&a) / 4e37 - 1) < 1e-9, "and still the sum");
	ok(decnum_is_double(decacc_value(&a)), "its value is a double");

	decacc_init(&a);
	parse("1e300", &p);
	decacc_add(&a, p);
	ok(a.inexact && decacc_double(&a) == 1e300, "a double addend");
	decacc_init(&b);
	parse("2.5", &q);
	decacc_add(&b, q);
	decacc_merge(&b, &a);
	ok(b.inexact && decacc_double(&b) == 1e300 + 2.5, "merge");
	decacc_init(&a);
	ok(decacc_is_zero(&a), "empty is zero");
	decacc_add(&a, q);
	parse("-2.5", &q);
	decacc_add(&a, q);
	ok(decacc_is_zero(&a), "2.5 - 2.5 is zero");
	ok(decacc_value(&a).m == 0 && decacc_value(&a).s == 0, "canonical 0");
	/* Scale 36 and back: 1e-18 * 1e-18 summed 10^18 times is 1e-18. */
	decacc_init(&a);
	parse("0.000000000000000001", &p);
	decacc_add_product(&a, p, p);
	ok(!a.inexact && a.s == 36, "a product at scale 36 is exact");
	ok(decnum_is_double(decacc_value(&a)) && decacc_double(&a) == 1e-36,
	    "its value (scale 36) is the double 1e-36");
}

int
main(void)
{
	plan_lazy();
	test_parse();
	test_format();
	test_roundtrip();
	test_cmp();
	test_acc();
	return done_testing();
}
