/*
 * test_http_query.c: the HTTP stage's pure parts (server/http): the
 * bucket of a chart (never more than maxDataPoints points, at least
 * intervalMs, the smallest such), trades rolled into buckets against a
 * brute-force recomputation, and /metrics exporting every counter.
 */
#include <config.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/xorshift.h"
#include "server/http/http_int.h"
#include "server/stats.h"
#include "tests/lib/tap.h"

static int64_t
nb(int64_t from, int64_t to, int64_t b)
{
	int64_t start = from - from % b;

	return (to - start + b - 1) / b;
}

/* The sizes the engine may use: any ms below 1 s, whole seconds below a
 * minute, whole minutes below an hour, whole hours. */
static int
candidate(int64_t b)
{
	if (b < 1000)
		return b >= 1;
	if (b < 60000)
		return b % 1000 == 0;
	if (b < 3600000)
		return b % 60000 == 0;
	return b % 3600000 == 0;
}

static void
test_golden(void)
{
	const int64_t day = 86400000, t0 = 19900 * day;

	is_int(http_pick_bucket(t0, t0 + day, 0, 1000), 120000,
	    "a day at 1000 points: 120 s (the 60 s level)");
	is_int(http_pick_bucket(t0 + 5000, t0 + 5000 + 300000, 1000, 1000),
	    1000, "5 minutes at intervalMs 1000: 1 s");
	is_int(http_pick_bucket(t0, t0 + 3600000, 0, 1000), 4000,
	    "an hour at 1000 points: 4 s");
	is_int(http_pick_bucket(t0 + 123, t0 + 60123, 50, 1000), 61,
	    "a minute at 1000 points: 61 ms from trades (60 ms needs 1001)");
	is_int(
	    http_pick_bucket(t0, t0 + 60000, 50, 1000), 60, "aligned: 60 ms");
	is_int(http_pick_bucket(t0, t0 + 30 * day, 0, 1000), 44 * 60000,
	    "30 days: 44 min (the 60 s level)");
	is_int(http_pick_bucket(t0, t0 + 365 * day, 0, 1000), 9 * 3600000,
	    "a year: 9 h (the 3600 s level)");
	is_int(http_pick_bucket(t0, t0 + 1000, 60000, 1000), 60000,
	    "intervalMs larger than the range: one bucket of it");
	ok(nb(t0 + 1, t0 + 2 * 3600000,
	       http_pick_bucket(t0 + 1, t0 + 2 * 3600000, 0, 1)) == 1,
	    "maxDataPoints 1: one bucket");
}

/* Random ranges: at most max points, at least interval, a candidate, and
 * no smaller candidate would do. */
static void
test_random(void)
{
	uint64_t rng = 99;
	int i, bad = 0, notmin = 0;

	for (i = 0; i < 20000; i++) {
		int64_t from = (int64_t)(xorshift64s(&rng) % 2000000000000ULL);
		int64_t span =
		    1 + (int64_t)(xorshift64s(&rng) %
		                  (i % 3 == 0 ? 100000000ULL : 100000ULL));
		int64_t iv =
		    i % 4 == 0 ? 0 : (int64_t)(xorshift64s(&rng) % 5000);
		int64_t maxp = 1 + (int64_t)(xorshift64s(&rng) % 2000);
		int64_t b = http_pick_bucket(from, from + span, iv, maxp), s;

		if (nb(from, from + span, b) > maxp || b < iv || !candidate(b))
			bad++;
		/* Minimality, checked below a bound (it is a search). */
		for (s = b - 1; s >= 1 && s >= b - 2000 && b < 200000; s--)
			if (candidate(s) && s >= iv &&
			    nb(from, from + span, s) <= maxp) {
				notmin++;
				break;
			}
	}
	ok(bad == 0, "20000 random charts: within maxDataPoints (%d bad)", bad);
	ok(notmin == 0, "and the smallest bucket that is (%d not)", notmin);
}

static void
test_trades(void)
{
	uint64_t rng = 5;
	struct http_buckets b;
	int64_t t[5000];
	double p[5000], v[5000];
	size_t n = 0, i, k;
	int bad = 0;

	memset(&b, 0, sizeof(b));
	for (i = 0; i < 5000; i++) { /* sorted, ties included */
		t[i] = 1700000000000LL + (int64_t)(i * 7 / 3) +
		       (int64_t)(xorshift64s(&rng) % 2);
		if (i > 0 && t[i] < t[i - 1])
			t[i] = t[i - 1];
		p[i] = 100 + (double)(xorshift64s(&rng) % 1000) / 100;
		v[i] = (double)(1 + xorshift64s(&rng) % 50);
		n++;
	}
	http_buckets_from_trades(&b, t, p, v, n, 250);
	for (k = 0; k < b.n; k++) {
		double vol = 0, pv = 0, hi = -1, lo = 1e9, op = 0, cl = 0;
		uint64_t cnt = 0;

		for (i = 0; i < n; i++) {
			if (t[i] - t[i] % 250 != b.t[k])
				continue;
			if (cnt == 0)
				op = p[i];
			cl = p[i];
			hi = p[i] > hi ? p[i] : hi;
			lo = p[i] < lo ? p[i] : lo;
			vol += v[i];
			pv += p[i] * v[i];
			cnt++;
		}
		if (cnt != b.count[k] || op != b.open[k] || cl != b.close[k] ||
		    hi != b.high[k] || lo != b.low[k] ||
		    fabs(vol - b.volume[k]) > 1e-9 ||
		    fabs(pv - b.pv[k]) > 1e-6 * pv)
			bad++;
		if (k > 0 && b.t[k] <= b.t[k - 1])
			bad++;
	}
	{
		uint64_t total = 0;

		for (k = 0; k < b.n; k++)
			total += b.count[k];
		ok(total == n, "every trade in a bucket");
	}
	ok(bad == 0 && b.n > 0,
	    "%zu buckets of 250 ms agree with a recomputation (%d bad)", b.n,
	    bad);
	http_buckets_from_trades(&b, t, p, v, 0, 250);
	is_int(b.n, 0, "no trades, no buckets");
	http_buckets_fini(&b);
}

int
main(void)
{
	plan_lazy();
	test_golden();
	test_random();
	test_trades();
	is_int(http_prom_covered_bytes(), sizeof(struct stats),
	    "/metrics exports every field of struct stats");
	return done_testing();
}
