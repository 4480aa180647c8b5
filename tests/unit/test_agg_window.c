/*
 * test_agg_window.c: (3) the aggregator's window logic
 * (storage/agg_window.c): open and close by (t, arrival) with ties in t,
 * late trades, zero volume (VWAP null, never NaN), sealing into chunks
 * grouped by symbol and UTC day, deltas that add up to the bar of every
 * trade however the trades were split into seals, and the memory budget.
 */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/membudget.h"
#include "base/xorshift.h"
#include "proto/decnum.h"
#include "storage/agg_window.h"
#include "tests/lib/tap.h"

#define T0 1700000000000LL /* 2023-11-14 22:13:20 UTC */

static struct decnum
dn(const char *s)
{
	struct decnum v;

	if (decnum_parse(s, strlen(s), &v) != 0)
		abort();
	return v;
}

static int
add(struct agg_window *w, const char *sym, int64_t t, const char *p,
    const char *v, const char *c)
{
	struct agg_trade tr;

	tr.sym = sym;
	tr.symlen = strlen(sym);
	tr.t = t;
	tr.price = dn(p);
	tr.volume = dn(v);
	tr.cond = (const uint8_t *)c;
	tr.condlen = c ? (int32_t)strlen(c) : -1;
	return agg_window_add(w, &tr);
}

static const char *
txt(struct decnum v)
{
	static char buf[8][DECNUM_TEXT_MAX];
	static int k;

	k = (k + 1) % 8;
	decnum_format(v, buf[k], sizeof(buf[k]));
	return buf[k];
}

static void
test_one_bucket(void)
{
	struct membudget mb;
	struct agg_window *w;
	struct agg_chunk *c;
	struct agg_bar b;
	struct colbar *r;
	double d;

	membudget_init(&mb, 0);
	w = agg_window_new(&mb);
	/* Arrival order: ties in t at both ends, a late trade in between. */
	add(w, "AAPL", T0 + 500, "10.5", "1", "[\"1\"]");
	add(w, "AAPL", T0 + 100, "10.1", "2", NULL); /* late: the open */
	add(w, "AAPL", T0 + 100, "10.2", "3", NULL); /* tie: not the open */
	add(w, "AAPL", T0 + 900, "10.9", "1", NULL); /* the close ... */
	add(w, "AAPL", T0 + 900, "10.8", "1", NULL); /* ... no: this one */
	add(w, "AAPL", T0 + 300, "11", "0.5", NULL);
	is_int(agg_window_pending(w), 6, "6 trades pending");
	c = agg_window_seal(w);
	ok(c != NULL && c->nparts == 1 && c->ntrades == 6 && c->nbars == 1,
	    "sealed: one part, 6 trades, one bar");
	r = &c->parts[0].bars[0];
	is_str(txt(r->open), "10.1", "open: first of the smallest t");
	is_int(r->open_dt, 100, "open at +100 ms");
	is_str(txt(r->close), "10.8", "close: last of the largest t");
	is_int(r->close_dt, 900, "close at +900 ms");
	is_str(txt(r->high), "11", "high");
	is_str(txt(r->low), "10.1", "low");
	is_str(txt(r->volume), "8.5", "volume, exact");
	is_int(r->count, 6, "count");
	/* 10.5 + 20.2 + 30.6 + 10.9 + 10.8 + 5.5 */
	is_str(txt(r->pv), "88.5", "sum of p * v, exact");
	is_int(r->t, T0, "bucket start");
	ok(c->parts[0].t[0] == T0 + 500 && c->parts[0].t[1] == T0 + 100,
	    "trades keep their arrival order");
	ok(c->parts[0].cond[0].len == 5 &&
	        memcmp(c->parts[0].cond[0].p, "[\"1\"]", 5) == 0 &&
	        c->parts[0].cond[1].len == -1,
	    "conditions: text and null");
	agg_bar_init(&b, r->t);
	agg_bar_merge_row(&b, r);
	ok(agg_bar_vwap(&b, &d) && fabs(d - 88.5 / 8.5) < 1e-12, "VWAP");
	ok(agg_bar_avg_pv(&b, &d) && fabs(d - 88.5 / 6) < 1e-12, "avg p * v");
	agg_chunk_free(c);
	ok(agg_window_seal(w) == NULL, "nothing pending: no chunk");

	/* FX: volume 0, VWAP null (never NaN). */
	add(w, "OANDA:EUR_USD", T0 + 1, "1.08412", "0", NULL);
	add(w, "OANDA:EUR_USD", T0 + 2, "1.08413", "0", NULL);
	c = agg_window_seal(w);
	agg_bar_init(&b, T0);
	agg_bar_merge_row(&b, &c->parts[0].bars[0]);
	d = 12345;
	ok(agg_bar_vwap(&b, &d) == 0 && d == 12345,
	    "zero volume: VWAP is null");
	ok(agg_bar_avg_pv(&b, &d) && d == 0, "avg p * v is 0");
	agg_chunk_free(c);
	agg_window_free(w);
	is_int(membudget_used(&mb), 0, "every byte released");
}

static void
test_seal_groups(void)
{
	struct membudget mb;
	struct agg_window *w;
	struct agg_chunk *c;
	int64_t day2 = (T0 / COLFILE_DAY_MS + 1) * COLFILE_DAY_MS;

	membudget_init(&mb, 0);
	w = agg_window_new(&mb);
	add(w, "MSFT", T0, "421.53", "10", NULL);
	add(w, "AAPL", day2 + 5, "190", "1", NULL); /* the next day */
	add(w, "AAPL", T0 + 1500, "189.98", "1", NULL);
	add(w, "AAPL", T0 + 1200, "189.97", "2", NULL);
	add(w, "AAPL", day2 + 7, "190.01", "1", NULL);
	c = agg_window_seal(w);
	ok(c != NULL && c->nparts == 3, "3 parts (AAPL two days, MSFT)");
	ok(strcmp(c->parts[0].sym, "AAPL") == 0 &&
	        c->parts[0].day == colfile_day(T0) &&
	        strcmp(c->parts[1].sym, "AAPL") == 0 &&
	        c->parts[1].day == colfile_day(day2) &&
	        strcmp(c->parts[2].sym, "MSFT") == 0,
	    "sorted by symbol, then day");
	ok(c->parts[0].ntrades == 2 && c->parts[0].t[0] == T0 + 1500 &&
	        c->parts[1].ntrades == 2 && c->parts[1].t[1] == day2 + 7,
	    "trades split by day, arrival order kept");
	ok(c->parts[0].nbars == 1 && c->parts[1].nbars == 1 &&
	        c->parts[0].bars[0].count == 2,
	    "a bar per bucket, on its day");
	is_int(c->nbars, 3, "3 bars");
	agg_chunk_free(c);
	agg_window_free(w);
	is_int(membudget_used(&mb), 0, "every byte released");
}

/* The reference: the bar of trades [0, n) of one bucket, by brute
 * force, sums added in reverse order. */
struct rtrade {
	int64_t t;
	struct decnum p, v;
};

static void
reference(const struct rtrade *tr, size_t n, struct colbar *out)
{
	struct decacc vol, pv;
	size_t i, io = 0, ic = 0;

	decacc_init(&vol);
	decacc_init(&pv);
	out->high = out->low = tr[0].p;
	for (i = 0; i < n; i++) {
		if (tr[i].t < tr[io].t)
			io = i;
		if (tr[i].t >= tr[ic].t)
			ic = i;
		if (decnum_cmp(tr[i].p, out->high) > 0)
			out->high = tr[i].p;
		if (decnum_cmp(tr[i].p, out->low) < 0)
			out->low = tr[i].p;
	}
	for (i = n; i-- > 0;) {
		decacc_add(&vol, tr[i].v);
		decacc_add_product(&pv, tr[i].p, tr[i].v);
	}
	out->open = tr[io].p;
	out->close = tr[ic].p;
	out->open_dt = (int32_t)(tr[io].t % 1000);
	out->close_dt = (int32_t)(tr[ic].t % 1000);
	out->volume = decacc_value(&vol);
	out->pv = decacc_value(&pv);
	out->count = n;
}

static void
test_deltas_add_up(void)
{
	enum { N = 400 };
	static struct rtrade tr[N];
	struct membudget mb;
	struct agg_window *w;
	struct agg_bar acc;
	struct colbar want, got;
	uint64_t seed = 4242;
	int round, bad = 0, seals = 0;
	size_t i;

	membudget_init(&mb, 0);
	w = agg_window_new(&mb);
	for (round = 0; round < 50; round++) {
		int64_t bucket = T0 + (int64_t)round * 1000;

		/* Trades of one bucket: ties, late ones, sub-penny prices,
		 * fractional and zero volumes. */
		for (i = 0; i < N; i++) {
			char p[32], v[32];

			tr[i].t =
			    bucket + (int64_t)(xorshift64s(&seed) % 7) *
			                 (int64_t)(xorshift64s(&seed) % 140);
			snprintf(p, sizeof(p), "%d.%04d",
			    100 + (int)(xorshift64s(&seed) % 5),
			    (int)(xorshift64s(&seed) % 10000));
			snprintf(v, sizeof(v), "%d.%0*d",
			    (int)(xorshift64s(&seed) % 3), 1 + round % 8,
			    (int)(xorshift64s(&seed) % 10));
			tr[i].p = dn(p);
			tr[i].v = dn(v);
		}
		reference(tr, N, &want);
		want.t = bucket;
		/* The same trades through the window, sealed at random
		 * points; the deltas merged in order. */
		agg_bar_init(&acc, bucket);
		for (i = 0; i < N; i++) {
			struct agg_trade t = {
			    "X", 1, tr[i].t, tr[i].p, tr[i].v, NULL, -1};

			agg_window_add(w, &t);
			if (xorshift64s(&seed) % 37 == 0 || i == N - 1) {
				struct agg_chunk *c = agg_window_seal(w);

				agg_bar_merge_row(&acc, &c->parts[0].bars[0]);
				agg_chunk_free(c);
				seals++;
			}
		}
		agg_bar_to_row(&acc, &got);
		bad += !(got.t == want.t && decnum_eq(got.open, want.open) &&
		         decnum_eq(got.close, want.close) &&
		         decnum_eq(got.high, want.high) &&
		         decnum_eq(got.low, want.low) &&
		         got.open_dt == want.open_dt &&
		         got.close_dt == want.close_dt &&
		         decnum_eq(got.volume, want.volume) &&
		         decnum_eq(got.pv, want.pv) && got.count == want.count);
	}
	is_int(bad, 0,
	    "50 buckets of 400 trades in %d seals: merged deltas equal the "
	    "bar of all trades",
	    seals);
	agg_window_free(w);
	is_int(membudget_used(&mb), 0, "every byte released");
}

static void
test_budget(void)
{
	struct membudget mb;
	struct agg_window *w;
	struct agg_chunk *c;
	int i, rc = 0, added = 0;
	uint64_t used;

	membudget_init(&mb, 64 * 1024);
	w = agg_window_new(&mb);
	for (i = 0; i < 100000 && rc == 0; i++) {
		rc = add(
		    w, "BINANCE:BTCUSDT", T0 + i, "66972.77", "0.0001", NULL);
		added += rc == 0;
	}
	is_int(rc, ERR_NOMEM, "past the budget: refused");
	is_int(agg_window_pending(w), added, "a refused trade adds nothing");
	ok(membudget_used(&mb) <= 64 * 1024, "never past the budget");
	used = membudget_used(&mb);
	c = agg_window_seal(w);
	ok(c != NULL && c->ntrades == (uint64_t)added, "sealed all %d", added);
	ok(membudget_used(&mb) >= used, "the chunk holds its memory");
	used = membudget_used(&mb) - c->charged;
	agg_chunk_free(c);
	is_int(membudget_used(&mb), used, "released with the chunk");
	rc = add(w, "BINANCE:BTCUSDT", T0 + 1, "66972.77", "0.0001", NULL);
	is_int(rc, 0, "trades are taken again");
	c = agg_window_seal(w);
	agg_chunk_free(c);
	agg_window_free(w);
	is_int(membudget_used(&mb), 0, "every byte released");
}

static void
test_readers(void)
{
	struct membudget mb;
	struct agg_window *w;
	const struct agg_sym *s;
	const struct agg_bar *b;

	membudget_init(&mb, 0);
	w = agg_window_new(&mb);
	add(w, "AAPL", T0 + 10, "1", "1", NULL);
	add(w, "AAPL", T0 + 1010, "2", "1", NULL);
	s = agg_window_sym(w, "AAPL", 4);
	ok(s != NULL && s->ntrades == 2 && s->nbuckets == 2,
	    "the pending tail: 2 trades, 2 buckets");
	b = agg_window_bucket(w, s->buckets[1]);
	ok(b->t == T0 + 1000 && b->count == 1, "bucket 2");
	ok(agg_window_sym(w, "MSFT", 4) == NULL, "unknown symbol: NULL");
	ok(agg_window_sym_at(w, 0) == s && agg_window_sym_at(w, 1) == NULL,
	    "symbols seen");
	agg_chunk_free(agg_window_seal(w));
	s = agg_window_sym(w, "AAPL", 4);
	ok(s != NULL && s->ntrades == 0 && s->nbuckets == 0,
	    "after a seal: known, nothing pending");
	agg_window_free(w);
}

/*
 * A seal hands the symbol's arrays to the chunk and allocates nothing:
 * the symbol is left without arrays, the part's first and last times are
 * those of trades that arrived out of order, and the symbol's next trade
 * allocates room for as many trades as the seal took.
 */
static void
test_hand_over(void)
{
	struct membudget mb;
	struct agg_window *w;
	struct agg_chunk *c;
	const struct agg_sym *s;
	uint64_t held;
	int i;

	membudget_init(&mb, 0);
	w = agg_window_new(&mb);
	for (i = 0; i < 1000; i++) /* times 0, 997, 994, ... as they come */
		add(w, "AAPL", T0 + (int64_t)(i * 997 % 1000), "1", "1", NULL);
	add(w, "AAPL", T0 + 5000, "1", "1", NULL);
	add(w, "AAPL", T0 - 3000, "1", "1", NULL);
	s = agg_window_sym(w, "AAPL", 4);
	ok(s->min_t == T0 - 3000 && s->max_t == T0 + 5000,
	    "first and last times kept as trades arrive");
	held = membudget_used(&mb);
	c = agg_window_seal(w);
	ok(c != NULL && c->nparts == 1 && c->parts[0].ntrades == 1002,
	    "one part of 1002 trades");
	ok(c->parts[0].min_t == T0 - 3000 && c->parts[0].max_t == T0 + 5000,
	    "the part's first and last times");
	ok(c->parts[0].t[0] == T0 && c->parts[0].t[1001] == T0 - 3000,
	    "the arrays themselves, in arrival order");
	ok(s->t == NULL && s->cap == 0 && s->ntrades == 0,
	    "the symbol keeps no arrays");
	/* The window's own charge: it held 1024 trades' arrays (56 bytes
	 * each) before the seal and holds none now. */
	ok(membudget_used(&mb) - c->charged + 1024 * 56 <= held,
	    "nothing charged for the symbol's next trades yet");
	add(w, "AAPL", T0 + 7000, "1", "1", NULL);
	ok(s->cap == 1024 && s->ntrades == 1 && s->min_t == T0 + 7000 &&
	        s->max_t == T0 + 7000,
	    "the next trade: room for 1024 (the last seal's 1002), times "
	    "start again");
	agg_chunk_free(c);
	c = agg_window_seal(w);
	add(w, "AAPL", T0 + 8000, "1", "1", NULL);
	is_int(s->cap, 64, "a quiet second: the room shrinks again");
	agg_chunk_free(c);
	agg_chunk_free(agg_window_seal(w));
	agg_window_free(w);
	is_int(membudget_used(&mb), 0, "every byte released");
}

int
main(void)
{
	plan_lazy();
	test_one_bucket();
	test_seal_groups();
	test_hand_over();
	test_deltas_add_up();
	test_budget();
	test_readers();
	return done_testing();
}
