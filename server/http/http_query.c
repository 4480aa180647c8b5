/*
 * http_query.c: (5) the query engine behind /grafana/query and
 * /api/v1/series: the bucket of a chart, the symbols a target means, a
 * scan per symbol through the store's API, values per metric, and the
 * answer written as JSON.
 *
 *	target (metric, symbols, running) + range, intervalMs, maxDataPoints
 *	    --http_pick_bucket--> bucket: < 1 s from raw trades
 *	                                  (colstore_scan_trades, bucketed
 *	                                  here), else stored bars rolled up
 *	                                  by the store (colstore_scan_bars)
 *	    --per symbol--> buckets (t, open, high, low, close, volume, pv,
 *	                    count): every scan merges the files, the chunks
 *	                    not yet compacted and the aggregator's window
 *	    --metric--> price = close, volume, avg_price_volume = pv / count,
 *	                vwap = pv / volume (none at volume 0), trades = count
 *
 * Invariants:
 *  1. A series has at most maxDataPoints points: the bucket is chosen so
 *     that the epoch-aligned buckets [from, to) touches are no more.
 *  2. Points are in ascending time, one per bucket that holds trades;
 *     a point's time is its bucket's start, and a bucket is whole: the
 *     first and last may hold trades just outside [from, to).
 *  3. One symbol's scan is in memory at a time for series answers
 *     (tables and /api/v1/series hold a target's, bounded by
 *     HTTP_MAX_CELLS).
 */
#include <config.h>

#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/xmalloc.h"
#include "proto/jsonw.h"
#include "server/http/http_int.h"
#include "storage/colstore.h"

#define SEC  1000
#define MIN  60000
#define HOUR 3600000
/* Linear steps of the bucket search before it doubles instead. */
#define PICK_STEPS 64

/* ------------------------------------------------------------------ */
/* Buckets */

/* The smallest bucket size the engine serves that is >= b. */
static int64_t
round_up(int64_t b)
{
	if (b < 1)
		return 1;
	if (b < SEC)
		return b;
	if (b < MIN)
		return (b + SEC - 1) / SEC * SEC;
	if (b < HOUR)
		return (b + MIN - 1) / MIN * MIN;
	return (b + HOUR - 1) / HOUR * HOUR;
}

static int64_t
nbuckets(int64_t from, int64_t to, int64_t b)
{
	int64_t start = from - from % b;

	return (to - start + b - 1) / b;
}

int64_t
http_pick_bucket(
    int64_t from, int64_t to, int64_t interval_ms, int64_t max_points)
{
	int64_t b, need;
	int steps = 0;

	if (max_points < 1)
		max_points = 1;
	need = (to - from + max_points - 1) / max_points;
	b = round_up(need > interval_ms ? need : interval_ms);
	while (nbuckets(from, to, b) > max_points)
		b = round_up(++steps > PICK_STEPS ? b * 2 : b + 1);
	return b;
}

void
http_buckets_fini(struct http_buckets *b)
{
	free(b->t);
	free(b->open);
	free(b->high);
	free(b->low);
	free(b->close);
	free(b->volume);
	free(b->pv);
	free(b->count);
	memset(b, 0, sizeof(*b));
}

static void
buckets_room(struct http_buckets *b, size_t n)
{
	if (n <= b->cap)
		return;
	b->t = xreallocarray(b->t, n, sizeof(*b->t));
	b->open = xreallocarray(b->open, n, sizeof(double));
	b->high = xreallocarray(b->high, n, sizeof(double));
	b->low = xreallocarray(b->low, n, sizeof(double));
	b->close = xreallocarray(b->close, n, sizeof(double));
	b->volume = xreallocarray(b->volume, n, sizeof(double));
	b->pv = xreallocarray(b->pv, n, sizeof(double));
	b->count = xreallocarray(b->count, n, sizeof(*b->count));
	b->cap = n;
}

void
http_buckets_from_trades(struct http_buckets *b, const int64_t *t,
    const double *price, const double *volume, size_t n, int64_t size)
{
	size_t i, k = 0, distinct = 0;
	int64_t last = INT64_MIN;

	b->n = 0;
	for (i = 0; i < n; i++) {
		int64_t s = t[i] - t[i] % size;

		if (s != last)
			distinct++;
		last = s;
	}
	buckets_room(b, distinct ? distinct : 1);
	last = INT64_MIN;
	for (i = 0; i < n; i++) {
		int64_t s = t[i] - t[i] % size;
		double p = price[i], v = volume[i];

		if (s != last) {
			k = b->n++;
			b->t[k] = s;
			b->open[k] = b->high[k] = b->low[k] = p;
			b->volume[k] = 0;
			b->pv[k] = 0;
			b->count[k] = 0;
			last = s;
		}
		if (p > b->high[k])
			b->high[k] = p;
		if (p < b->low[k])
			b->low[k] = p;
		b->close[k] = p; /* sorted by t, ties in arrival order */
		b->volume[k] += v;
		b->pv[k] += p * v;
		b->count[k]++;
	}
}

/* One symbol's buckets, wherever they came from. */
struct view {
	const char *sym;
	size_t n;
	const int64_t *t;
	const double *open, *high, *low, *close, *volume, *pv;
	const uint64_t *count;
	struct http_buckets hb; /* owned: buckets made from raw trades */
	/* running sums before the first bucket (payload.running) */
	double pre_pv, pre_volume;
	uint64_t pre_count;
};

/*
 * The scan of a target's symbols: all of them at once, or a group at a
 * time (invariant 3).  Symbols are scanned in groups through one store
 * call each: the store sets up its accumulators once per call, not per
 * symbol.
 */
struct tscan {
	int64_t from, to, bucket;
	const char **syms;
	size_t nsyms;
	size_t first, count; /* the group held: syms[first .. first+count) */
	struct view *v;      /* count views */
	struct colstore_result *r; /* the group's bars (NULL: from trades) */
	int running;               /* the views carry running prefixes */
};

static void
tscan_drop(struct tscan *ts)
{
	size_t i;

	for (i = 0; i < ts->count; i++)
		http_buckets_fini(&ts->v[i].hb);
	free(ts->v);
	colstore_result_free(ts->r);
	ts->v = NULL;
	ts->r = NULL;
	ts->count = 0;
}

static int
store_error(struct http_call *c, int rc)
{
	if (rc == ERR_TOO_BIG)
		return http_error(c, 400, "too_large",
		    "the range holds more rows than one answer may read: "
		    "narrow it or lower maxDataPoints");
	if (rc == ERR_RANGE)
		return http_error(c, 400, "out_of_range",
		    "the range or bucket is outside what the store serves");
	return http_error(c, 500, "store_error",
	    "the store could not read a block: %s (see --verify-store)",
	    err_str(rc));
}

static void
view_of_series(struct view *v, const struct colstore_series *s)
{
	v->n = s->n;
	v->t = s->t;
	v->open = s->open;
	v->high = s->high;
	v->low = s->low;
	v->close = s->close;
	v->volume = s->volume;
	v->pv = s->pv;
	v->count = s->count;
}

static void
view_of_buckets(struct view *v)
{
	v->n = v->hb.n;
	v->t = v->hb.t;
	v->open = v->hb.open;
	v->high = v->hb.high;
	v->low = v->hb.low;
	v->close = v->hb.close;
	v->volume = v->hb.volume;
	v->pv = v->hb.pv;
	v->count = v->hb.count;
}

/*
 * Scan syms[first .. first+count) of ts into its views (the group held
 * before is dropped): from raw trades below 1 s, else from the store's
 * bars.  0, or a colstore error (ERR_TOO_BIG when the trades are too
 * many: the caller picks a bucket of 1 s or more).
 */
static int
tscan_group(struct colstore *cs, struct tscan *ts, size_t first, size_t count)
{
	struct colstore_query q;
	struct colstore_result *r = NULL;
	size_t i;
	int rc;

	tscan_drop(ts);
	ts->first = first;
	ts->v = xcalloc(count ? count : 1, sizeof(*ts->v));
	ts->count = count;
	memset(&q, 0, sizeof(q));
	q.symbols = ts->syms + first;
	q.nsymbols = count;
	q.from_ms = ts->from;
	q.to_ms = ts->to;
	for (i = 0; i < count; i++)
		ts->v[i].sym = ts->syms[first + i];
	if (count == 0)
		return 0;
	if (ts->bucket < SEC) {
		/* Whole buckets, as the store answers bars: from the start of
		 * the first one to the end of the last. */
		q.from_ms = ts->from - ts->from % ts->bucket;
		if (ts->to % ts->bucket != 0)
			q.to_ms = ts->to - ts->to % ts->bucket + ts->bucket;
		if ((rc = colstore_scan_trades(cs, &q, &r)) != 0)
			return rc;
		for (i = 0; i < count && i < r->nseries; i++) {
			const struct colstore_series *s = &r->series[i];

			http_buckets_from_trades(&ts->v[i].hb, s->t, s->price,
			    s->volume, s->n, ts->bucket);
			view_of_buckets(&ts->v[i]);
		}
		colstore_result_free(r);
		return 0;
	}
	if ((rc = colstore_scan_bars(cs, &q, ts->bucket, &r)) != 0)
		return rc;
	ts->r = r;
	for (i = 0; i < count && i < r->nseries; i++)
		view_of_series(&ts->v[i], &r->series[i]);
	return 0;
}

/* Sums of the bars of sym in [lo, hi) at bucket b (lo, hi aligned). */
static int
sum_bars(struct colstore *cs, const char *sym, int64_t lo, int64_t hi,
    int64_t b, struct view *v)
{
	struct colstore_query q;
	struct colstore_result *r;
	const struct colstore_series *s;
	size_t i;
	int rc;

	if (lo >= hi)
		return 0;
	memset(&q, 0, sizeof(q));
	q.symbols = &sym;
	q.nsymbols = 1;
	q.from_ms = lo;
	q.to_ms = hi;
	if (b < SEC)
		rc = colstore_scan_trades(cs, &q, &r);
	else
		rc = colstore_scan_bars(cs, &q, b, &r);
	if (rc != 0)
		return rc;
	s = &r->series[0];
	for (i = 0; i < s->n; i++) {
		if (b < SEC) {
			v->pre_pv += s->price[i] * s->volume[i];
			v->pre_volume += s->volume[i];
			v->pre_count++;
		} else {
			v->pre_pv += s->pv[i];
			v->pre_volume += s->volume[i];
			v->pre_count += s->count[i];
		}
	}
	colstore_result_free(r);
	return 0;
}

/*
 * Running sums of everything the store holds for sym before start (a
 * multiple of the bucket): years, then hours, minutes, seconds, each
 * from the coarsest level whose buckets end exactly there, and the
 * last second's trades when start is not a whole second.
 */
static int
running_prefix(
    struct colstore *cs, const char *sym, int64_t start, struct view *v)
{
	static const int64_t year = 366LL * 24 * HOUR;
	int64_t a = start / year * year, h = start / HOUR * HOUR;
	int64_t m = start / MIN * MIN, s = start / SEC * SEC;
	int rc;

	if ((rc = sum_bars(cs, sym, 0, a, year, v)) != 0 ||
	    (rc = sum_bars(cs, sym, a, h, HOUR, v)) != 0 ||
	    (rc = sum_bars(cs, sym, h, m, MIN, v)) != 0 ||
	    (rc = sum_bars(cs, sym, m, s, SEC, v)) != 0)
		return rc;
	return sum_bars(cs, sym, s, start, 1, v);
}

/* ------------------------------------------------------------------ */
/* Symbols */

struct filter_rx {
	regex_t rx;
	int compiled;
};

static int
filter_pass(const struct gf_filter *f, struct filter_rx *rx, const char *sym)
{
	size_t i;
	int in = 0;

	switch (f->op) {
	case GF_OP_EQ:
		return strcmp(sym, f->values[0]) == 0;
	case GF_OP_NE:
		return strcmp(sym, f->values[0]) != 0;
	case GF_OP_RE:
		return regexec(&rx->rx, sym, 0, NULL, 0) == 0;
	case GF_OP_NRE:
		return regexec(&rx->rx, sym, 0, NULL, 0) != 0;
	case GF_OP_IN:
	case GF_OP_NIN:
		for (i = 0; i < f->nvalues && !in; i++)
			in = strcmp(sym, f->values[i]) == 0;
		return f->op == GF_OP_IN ? in : !in;
	default:
		return 1;
	}
}

int
http_resolve_symbols(struct http_call *c, struct colstore *cs,
    const struct gf_symbols *want, const struct gf_filter *filters,
    size_t nfilters, const char ***out, size_t *nout, int *all)
{
	struct filter_rx rx[GF_MAX_FILTERS];
	const char **src, **dst;
	size_t n, i, k, kept = 0;
	int status = 0;

	memset(rx, 0, sizeof(rx));
	*all = want->all;
	if (want->all) {
		n = colstore_symbols(cs, &src);
	} else {
		src = want->v;
		n = want->n;
	}
	dst = arena_alloc(c->arena, (n ? n : 1) * sizeof(*dst));
	if (dst == NULL)
		return http_error(c, 400, "too_large", "too many symbols");
	for (k = 0; k < nfilters && k < GF_MAX_FILTERS; k++) {
		char *pat;
		size_t plen;
		int rc;

		if (filters[k].op != GF_OP_RE && filters[k].op != GF_OP_NRE)
			continue;
		/* Anchored on the whole symbol, as Prometheus does. */
		plen = strlen(filters[k].values[0]);
		pat = arena_alloc(c->arena, plen + 5);
		if (pat == NULL) {
			status =
			    http_error(c, 400, "too_large", "filter too long");
			goto out;
		}
		memcpy(pat, "^(", 2);
		memcpy(pat + 2, filters[k].values[0], plen);
		memcpy(pat + 2 + plen, ")$", 3);
		rc = regcomp(&rx[k].rx, pat, REG_EXTENDED | REG_NOSUB);
		if (rc != 0) {
			char msg[128];

			regerror(rc, &rx[k].rx, msg, sizeof(msg));
			status = http_error(c, 400, "bad_filter",
			    "filter symbol %s \"%.64s\": %s",
			    filters[k].op == GF_OP_RE ? "=~" : "!~",
			    filters[k].values[0], msg);
			goto out;
		}
		rx[k].compiled = 1;
	}
	for (i = 0; i < n; i++) {
		int pass = 1;

		for (k = 0; k < nfilters && pass; k++)
			pass = filter_pass(&filters[k], &rx[k], src[i]);
		if (!pass)
			continue;
		if (want->all) { /* colstore's names live until its next call */
			size_t len = strlen(src[i]);
			char *copy = arena_alloc(c->arena, len + 1);

			if (copy == NULL) {
				status = http_error(
				    c, 400, "too_large", "too many symbols");
				goto out;
			}
			memcpy(copy, src[i], len + 1);
			dst[kept++] = copy;
		} else {
			dst[kept++] = src[i];
		}
	}
	*out = dst;
	*nout = kept;
out:
	for (k = 0; k < GF_MAX_FILTERS; k++)
		if (rx[k].compiled)
			regfree(&rx[k].rx);
	return status;
}

/* ------------------------------------------------------------------ */
/* Values */

/* The metric's value for bucket i: 1 and *out, or 0 (no value). */
static int
value_at(int metric, int running, const struct view *v, size_t i,
    double *cum_pv, double *cum_vol, uint64_t *cum_n, double *out)
{
	double pv = v->pv[i], vol = v->volume[i];
	uint64_t n = v->count[i];

	if (running) {
		*cum_pv += pv;
		*cum_vol += vol;
		*cum_n += n;
		pv = *cum_pv;
		vol = *cum_vol;
		n = *cum_n;
	}
	switch (metric) {
	case GF_PRICE:
		*out = v->close[i];
		return 1;
	case GF_VOLUME:
		*out = vol;
		return 1;
	case GF_AVG_PRICE_VOLUME:
		if (n == 0)
			return 0;
		*out = pv / (double)n;
		return 1;
	case GF_VWAP:
		if (vol == 0)
			return 0; /* null, never NaN */
		*out = pv / vol;
		return 1;
	case GF_TRADES:
		*out = (double)n;
		return 1;
	default:
		return 0;
	}
}

static int
needs_running(const struct gf_target *t)
{
	return t->running &&
	       (t->metric == GF_AVG_PRICE_VOLUME || t->metric == GF_VWAP ||
	           t->metric == GF_VOLUME || t->metric == GF_TRADES);
}

/* Symbols per store call: about HTTP_GROUP_BUCKETS buckets at most. */
static size_t
group_size(const struct tscan *ts)
{
	int64_t nb = nbuckets(ts->from, ts->to, ts->bucket);
	size_t k = (size_t)(HTTP_GROUP_BUCKETS / (nb > 0 ? nb : 1));

	return k < 1 ? 1 : k > HTTP_GROUP_SYMBOLS ? HTTP_GROUP_SYMBOLS : k;
}

/* Running prefixes of the group's views. */
static int
tscan_running(struct colstore *cs, struct tscan *ts)
{
	int64_t start = ts->from - ts->from % ts->bucket;
	size_t i;
	int rc;

	for (i = 0; i < ts->count; i++)
		if ((rc = running_prefix(cs, ts->v[i].sym, start, &ts->v[i])) !=
		    0)
			return rc;
	return 0;
}

/*
 * Start a target's scan: the bucket, then the first group (all of the
 * symbols when whole).  A sub-second bucket whose trades are too many
 * becomes a bucket of 1 s or more.  0, or an error status written.
 */
static int
tscan_start(struct http_call *c, struct colstore *cs, const struct gf_query *q,
    const struct gf_target *t, const char **syms, size_t nsyms, int whole,
    struct tscan *ts)
{
	int rc;

	memset(ts, 0, sizeof(*ts));
	ts->from = q->from_ms;
	ts->to = q->to_ms;
	ts->syms = syms;
	ts->nsyms = nsyms;
	ts->running = needs_running(t);
	ts->bucket = http_pick_bucket(
	    q->from_ms, q->to_ms, q->interval_ms, q->max_points);
	rc = tscan_group(cs, ts, 0,
	    whole                    ? nsyms
	    : group_size(ts) < nsyms ? group_size(ts)
	                             : nsyms);
	if (rc == ERR_TOO_BIG && ts->bucket < SEC) {
		ts->bucket = http_pick_bucket(q->from_ms, q->to_ms,
		    q->interval_ms > SEC ? q->interval_ms : SEC, q->max_points);
		rc = tscan_group(cs, ts, 0,
		    whole                    ? nsyms
		    : group_size(ts) < nsyms ? group_size(ts)
		                             : nsyms);
	}
	if (rc == 0 && ts->running)
		rc = tscan_running(cs, ts);
	if (rc != 0) {
		tscan_drop(ts);
		return store_error(c, rc);
	}
	return 0;
}

/* The next group: 1 (held), 0 at the end, or an error status (< 0 is
 * never returned: errors are 4xx/5xx, written). */
static int
tscan_next(
    struct http_call *c, struct colstore *cs, struct tscan *ts, int *status)
{
	size_t first = ts->first + ts->count, k = group_size(ts);
	int rc;

	*status = 0;
	if (first >= ts->nsyms) {
		tscan_drop(ts);
		return 0;
	}
	if (k > ts->nsyms - first)
		k = ts->nsyms - first;
	rc = tscan_group(cs, ts, first, k);
	if (rc == 0 && ts->running)
		rc = tscan_running(cs, ts);
	if (rc != 0) {
		tscan_drop(ts);
		*status = store_error(c, rc);
		return 0;
	}
	return 1;
}

/* ------------------------------------------------------------------ */
/* /grafana/query */

static void
write_series(struct wbuf *w, const struct gf_target *t, const struct view *v,
    int *first_item)
{
	double cum_pv = v->pre_pv, cum_vol = v->pre_volume, x;
	uint64_t cum_n = v->pre_count;
	int running = needs_running(t), first = 1;
	size_t i;

	if (!*first_item)
		JSONW_LIT(w, ",");
	*first_item = 0;
	JSONW_LIT(w, "{\"target\":");
	jsonw_cstr(w, v->sym);
	JSONW_LIT(w, ",\"refId\":");
	jsonw_cstr(w, t->ref_id);
	JSONW_LIT(w, ",\"datapoints\":[");
	for (i = 0; i < v->n; i++) {
		if (!value_at(t->metric, running, v, i, &cum_pv, &cum_vol,
		        &cum_n, &x))
			continue;
		if (wbuf_reserve(w, 2 * JSONW_DOUBLE_MAX + 8) != 0)
			break;
		if (!first)
			w->buf[w->len++] = ',';
		first = 0;
		w->buf[w->len++] = '[';
		jsonw_double(w, x);
		w->buf[w->len++] = ',';
		jsonw_i64(w, v->t[i]);
		w->buf[w->len++] = ']';
	}
	JSONW_LIT(w, "]}");
}

static const char *const ohlc_cols[] = {
    "Open", "High", "Low", "Close", "Volume", "VWAP", "Trades"};

static void
ohlc_head(struct wbuf *w, const struct gf_target *t)
{
	size_t i;

	JSONW_LIT(w, "{\"refId\":");
	jsonw_cstr(w, t->ref_id);
	JSONW_LIT(w, ",\"type\":\"table\",\"columns\":[{\"text\":\"Time\","
	             "\"type\":\"time\"},{\"text\":\"Symbol\",\"type\":"
	             "\"string\"}");
	for (i = 0; i < sizeof(ohlc_cols) / sizeof(ohlc_cols[0]); i++) {
		JSONW_LIT(w, ",{\"text\":");
		jsonw_cstr(w, ohlc_cols[i]);
		JSONW_LIT(w, ",\"type\":\"number\"}");
	}
	JSONW_LIT(w, "],\"rows\":[");
}

/* One row per bucket: Time, Symbol, Open, High, Low, Close, Volume,
 * VWAP (null at volume 0), Trades. */
static void
ohlc_rows(struct wbuf *w, const struct view *v, int *first)
{
	size_t i;

	for (i = 0; i < v->n; i++) {
		if (!*first)
			JSONW_LIT(w, ",");
		*first = 0;
		JSONW_LIT(w, "[");
		jsonw_i64(w, v->t[i]);
		JSONW_LIT(w, ",");
		jsonw_cstr(w, v->sym);
		JSONW_LIT(w, ",");
		jsonw_double(w, v->open[i]);
		JSONW_LIT(w, ",");
		jsonw_double(w, v->high[i]);
		JSONW_LIT(w, ",");
		jsonw_double(w, v->low[i]);
		JSONW_LIT(w, ",");
		jsonw_double(w, v->close[i]);
		JSONW_LIT(w, ",");
		jsonw_double(w, v->volume[i]);
		JSONW_LIT(w, ",");
		if (v->volume[i] != 0)
			jsonw_double(w, v->pv[i] / v->volume[i]);
		else
			JSONW_LIT(w, "null");
		JSONW_LIT(w, ",");
		jsonw_i64(w, (int64_t)v->count[i]);
		JSONW_LIT(w, "]");
	}
}

/* The newest trades of syms (at most limit), in one series. */
static int
latest(struct http_call *c, struct colstore *cs, const struct gf_query *q,
    const char **syms, size_t nsyms, struct colstore_result **r)
{
	struct colstore_query cq;
	int rc;

	*r = NULL;
	if (nsyms == 0)
		return 0;
	memset(&cq, 0, sizeof(cq));
	cq.symbols = syms;
	cq.nsymbols = nsyms;
	cq.from_ms = q->from_ms;
	cq.to_ms = q->to_ms;
	if ((rc = colstore_latest_trades(cs, &cq, (size_t)q->max_points, r)) !=
	    0)
		return store_error(c, rc);
	return 0;
}

static void
write_cond(struct wbuf *w, const struct colstore_text *t)
{
	if (t->p == NULL || t->len < 0)
		JSONW_LIT(w, "null");
	else
		jsonw_str(w, t->p, (size_t)t->len);
}

static int
trades_table(struct http_call *c, struct colstore *cs, const struct gf_query *q,
    const struct gf_target *t, const char **syms, size_t nsyms)
{
	struct colstore_result *r;
	const struct colstore_series *s;
	struct wbuf *w = c->w;
	size_t i;
	int status;

	if ((status = latest(c, cs, q, syms, nsyms, &r)) != 0)
		return status;
	JSONW_LIT(w, "{\"refId\":");
	jsonw_cstr(w, t->ref_id);
	JSONW_LIT(w, ",\"type\":\"table\",\"columns\":[{\"text\":\"Time\","
	             "\"type\":\"time\"},{\"text\":\"Symbol\",\"type\":"
	             "\"string\"},{\"text\":\"Price\",\"type\":\"number\"},"
	             "{\"text\":\"Volume\",\"type\":\"number\"},{\"text\":"
	             "\"Conditions\",\"type\":\"string\"}],\"rows\":[");
	s = r != NULL && r->nseries > 0 ? &r->series[0] : NULL;
	for (i = 0; s != NULL && i < s->n; i++) {
		if (i > 0)
			JSONW_LIT(w, ",");
		JSONW_LIT(w, "[");
		jsonw_i64(w, s->t[i]);
		JSONW_LIT(w, ",");
		jsonw_cstr(w, s->rowsym[i]);
		JSONW_LIT(w, ",");
		jsonw_double(w, s->price[i]);
		JSONW_LIT(w, ",");
		jsonw_double(w, s->volume[i]);
		JSONW_LIT(w, ",");
		write_cond(w, &s->cond[i]);
		JSONW_LIT(w, "]");
	}
	JSONW_LIT(w, "]}");
	colstore_result_free(r);
	return 0;
}

/* 1: the two lists name the same symbols in the same order. */
static int
same_symbols(const char **a, size_t na, const char **b, size_t nb)
{
	size_t i;

	if (na != nb)
		return 0;
	for (i = 0; i < na; i++)
		if (a[i] != b[i] && strcmp(a[i], b[i]) != 0)
			return 0;
	return 1;
}

int
http_query_grafana(struct http_call *c, const struct gf_query *q)
{
	struct colstore *cs = http_colstore(c->hs);
	struct wbuf *w = c->w;
	struct tscan prev; /* the last target's whole scan, for the next */
	size_t ti, i;
	int first_item = 1, status = 0, have_prev = 0;

	if (cs == NULL)
		return http_error(
		    c, 503, "unavailable", "the store is not open");
	memset(&prev, 0, sizeof(prev));
	JSONW_LIT(w, "[");
	for (ti = 0; ti < q->ntargets && w->err == 0; ti++) {
		const struct gf_target *t = &q->targets[ti];
		const char **syms;
		size_t nsyms;
		int all, first_row = 1, whole, more = 1;
		int64_t bucket;
		struct tscan ts;

		if ((status = http_resolve_symbols(c, cs, &t->symbols,
		         q->filters, q->nfilters, &syms, &nsyms, &all)) != 0)
			goto out;
		if (t->metric == GF_TRADES_TABLE) {
			if (!first_item)
				JSONW_LIT(w, ",");
			first_item = 0;
			if ((status = trades_table(c, cs, q, t, syms, nsyms)) !=
			    0)
				goto out;
			continue;
		}
		/* Panels often ask several metrics of the same symbols: a
		 * target like the one before reuses its scan. */
		bucket = http_pick_bucket(
		    q->from_ms, q->to_ms, q->interval_ms, q->max_points);
		if (have_prev && prev.bucket == bucket && !prev.running &&
		    !needs_running(t) &&
		    same_symbols(prev.syms, prev.nsyms, syms, nsyms)) {
			ts = prev;
			memset(&prev, 0, sizeof(prev));
			have_prev = 0;
		} else {
			if (have_prev)
				tscan_drop(&prev);
			have_prev = 0;
			whole = (uint64_t)nsyms * (uint64_t)nbuckets(q->from_ms,
			                              q->to_ms, bucket) <=
			        HTTP_KEEP_BUCKETS;
			if ((status = tscan_start(
			         c, cs, q, t, syms, nsyms, whole, &ts)) != 0)
				goto out;
		}
		if (t->metric == GF_OHLC) {
			if (!first_item)
				JSONW_LIT(w, ",");
			first_item = 0;
			ohlc_head(w, t);
		}
		while (more && w->err == 0) {
			for (i = 0; i < ts.count; i++) {
				const struct view *v = &ts.v[i];

				/* Every symbol: only those with trades. */
				if (v->n == 0 && all)
					continue;
				if (t->metric == GF_OHLC)
					ohlc_rows(w, v, &first_row);
				else
					write_series(w, t, v, &first_item);
			}
			if (ts.first + ts.count >= ts.nsyms)
				break;
			more = tscan_next(c, cs, &ts, &status);
			if (status != 0)
				goto out;
		}
		if (t->metric == GF_OHLC)
			JSONW_LIT(w, "]}");
		if (ts.count == ts.nsyms && ts.first == 0) {
			prev = ts; /* whole: kept for the next target */
			have_prev = 1;
		} else {
			tscan_drop(&ts);
		}
	}
	JSONW_LIT(w, "]\n");
	status = 200;
out:
	if (have_prev)
		tscan_drop(&prev);
	return status;
}

/* ------------------------------------------------------------------ */
/* /api/v1/series
 *
 * Columns (the default): {"metric", "from", "to", "interval_ms",
 * "names": [...], "columns": {"time": [...], NAME: [...], ...}}; rows
 * (format=rows): [{"time": t, NAME: value, ...}, ...].  A table metric
 * has the columns time, symbol and the table's; the others time and one
 * per symbol, null where that symbol has no value at that time.
 */

static void
series_head(struct wbuf *w, const struct gf_query *q, const struct gf_target *t,
    int64_t bucket)
{
	JSONW_LIT(w, "{\"metric\":");
	jsonw_cstr(w, gf_metrics[t->metric].name);
	JSONW_LIT(w, ",\"from\":");
	jsonw_i64(w, q->from_ms);
	JSONW_LIT(w, ",\"to\":");
	jsonw_i64(w, q->to_ms);
	JSONW_LIT(w, ",\"interval_ms\":");
	jsonw_i64(w, bucket);
	if (t->running)
		JSONW_LIT(w, ",\"running\":true");
}

/* The names, then "columns": { (columns mode). */
static void
names(struct wbuf *w, const char *const *n, size_t count)
{
	size_t i;

	JSONW_LIT(w, ",\"names\":[");
	for (i = 0; i < count; i++) {
		if (i > 0)
			JSONW_LIT(w, ",");
		jsonw_cstr(w, n[i]);
	}
	JSONW_LIT(w, "],\"columns\":{");
}

/* A table's rows, whatever they come from: cell (row, col) written. */
struct table_src {
	size_t nrows, ncols;
	const char *const *cols;
	void (*cell)(struct wbuf *w, const void *arg, size_t row, size_t col);
	const void *arg;
};

static void
write_table(struct wbuf *w, const struct gf_query *q, const struct gf_target *t,
    int64_t bucket, const struct table_src *ts)
{
	size_t r, col;

	if (q->rows) {
		JSONW_LIT(w, "[");
		for (r = 0; r < ts->nrows && w->err == 0; r++) {
			if (r > 0)
				JSONW_LIT(w, ",");
			JSONW_LIT(w, "{");
			for (col = 0; col < ts->ncols; col++) {
				if (col > 0)
					JSONW_LIT(w, ",");
				jsonw_cstr(w, ts->cols[col]);
				JSONW_LIT(w, ":");
				ts->cell(w, ts->arg, r, col);
			}
			JSONW_LIT(w, "}");
		}
		JSONW_LIT(w, "]\n");
		return;
	}
	series_head(w, q, t, bucket);
	names(w, ts->cols, ts->ncols);
	for (col = 0; col < ts->ncols && w->err == 0; col++) {
		if (col > 0)
			JSONW_LIT(w, ",");
		jsonw_cstr(w, ts->cols[col]);
		JSONW_LIT(w, ":[");
		for (r = 0; r < ts->nrows; r++) {
			if (r > 0)
				JSONW_LIT(w, ",");
			ts->cell(w, ts->arg, r, col);
		}
		JSONW_LIT(w, "]");
	}
	JSONW_LIT(w, "}}\n");
}

static void
trade_cell(struct wbuf *w, const void *arg, size_t r, size_t col)
{
	const struct colstore_series *s = arg;

	switch (col) {
	case 0:
		jsonw_i64(w, s->t[r]);
		break;
	case 1:
		jsonw_cstr(w, s->rowsym[r]);
		break;
	case 2:
		jsonw_double(w, s->price[r]);
		break;
	case 3:
		jsonw_double(w, s->volume[r]);
		break;
	default:
		write_cond(w, &s->cond[r]);
		break;
	}
}

/* The buckets of every symbol, one row each, symbol by symbol. */
struct ohlc_rows {
	const struct view *v;
	size_t nsyms;
	size_t *first; /* row index of each symbol's first bucket */
};

static void
ohlc_cell(struct wbuf *w, const void *arg, size_t r, size_t col)
{
	const struct ohlc_rows *o = arg;
	const struct view *v;
	size_t lo = 0, hi = o->nsyms, i, k;

	/* The last symbol whose first row is at or before r (one with no
	 * rows shares its first with the next, so it is never the last). */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (o->first[mid] <= r)
			lo = mid;
		else
			hi = mid;
	}
	i = lo;
	v = &o->v[i];
	k = r - o->first[i];
	switch (col) {
	case 0:
		jsonw_i64(w, v->t[k]);
		break;
	case 1:
		jsonw_cstr(w, v->sym);
		break;
	case 2:
		jsonw_double(w, v->open[k]);
		break;
	case 3:
		jsonw_double(w, v->high[k]);
		break;
	case 4:
		jsonw_double(w, v->low[k]);
		break;
	case 5:
		jsonw_double(w, v->close[k]);
		break;
	case 6:
		jsonw_double(w, v->volume[k]);
		break;
	case 7:
		if (v->volume[k] != 0)
			jsonw_double(w, v->pv[k] / v->volume[k]);
		else
			JSONW_LIT(w, "null");
		break;
	default:
		jsonw_i64(w, (int64_t)v->count[k]);
		break;
	}
}

/* An answer that holds every symbol's buckets at once is bounded. */
static int
check_cells(struct http_call *c, const struct gf_query *q, size_t nsyms)
{
	int64_t b = http_pick_bucket(
	    q->from_ms, q->to_ms, q->interval_ms, q->max_points);
	uint64_t cells =
	    (uint64_t)nsyms * (uint64_t)nbuckets(q->from_ms, q->to_ms, b);

	if (cells > HTTP_MAX_CELLS)
		return http_error(c, 400, "too_large",
		    "%zu symbols x %lld points is more than %zu values in one "
		    "answer: ask for fewer symbols or points",
		    nsyms, (long long)nbuckets(q->from_ms, q->to_ms, b),
		    HTTP_MAX_CELLS);
	return 0;
}

static int
series_table(struct http_call *c, struct colstore *cs, const struct gf_query *q,
    const struct gf_target *t, const char **syms, size_t nsyms)
{
	static const char *const ohlc_names[] = {"time", "symbol", "open",
	    "high", "low", "close", "volume", "vwap", "trades"};
	static const char *const trade_names[] = {
	    "time", "symbol", "price", "volume", "conditions"};
	struct table_src ts;
	struct ohlc_rows o;
	struct tscan sc;
	size_t i, rows = 0;
	int status = 0;

	memset(&ts, 0, sizeof(ts));
	if (t->metric == GF_TRADES_TABLE) {
		struct colstore_result *r;
		const struct colstore_series *s;

		if ((status = latest(c, cs, q, syms, nsyms, &r)) != 0)
			return status;
		s = r != NULL && r->nseries > 0 ? &r->series[0] : NULL;
		ts.nrows = s != NULL ? s->n : 0;
		ts.ncols = 5;
		ts.cols = trade_names;
		ts.cell = trade_cell;
		ts.arg = s;
		write_table(c->w, q, t, 0, &ts);
		colstore_result_free(r);
		return 200;
	}
	if ((status = check_cells(c, q, nsyms)) != 0)
		return status;
	if ((status = tscan_start(c, cs, q, t, syms, nsyms, 1, &sc)) != 0)
		return status;
	o.first = xcalloc(nsyms ? nsyms : 1, sizeof(*o.first));
	for (i = 0; i < nsyms; i++) {
		o.first[i] = rows;
		rows += sc.v[i].n;
	}
	o.v = sc.v;
	o.nsyms = nsyms;
	ts.nrows = rows;
	ts.ncols = 9;
	ts.cols = ohlc_names;
	ts.cell = ohlc_cell;
	ts.arg = &o;
	write_table(c->w, q, t, sc.bucket, &ts);
	tscan_drop(&sc);
	free(o.first);
	return 200;
}

/* Walking one symbol's buckets along the time column. */
struct col_state {
	size_t p;
	double cum_pv, cum_vol;
	uint64_t cum_n;
};

/* The symbol's value at grid time gt: 1 and *x, or 0 (null). */
static int
col_value(const struct gf_target *t, const struct view *v, struct col_state *st,
    int64_t gt, double *x)
{
	if (st->p < v->n && v->t[st->p] == gt)
		return value_at(t->metric, needs_running(t), v, st->p++,
		    &st->cum_pv, &st->cum_vol, &st->cum_n, x);
	return 0;
}

static void
col_init(const struct view *v, struct col_state *st)
{
	st->p = 0;
	st->cum_pv = v->pre_pv;
	st->cum_vol = v->pre_volume;
	st->cum_n = v->pre_count;
}

int
http_query_series(struct http_call *c, const struct gf_query *q)
{
	struct colstore *cs = http_colstore(c->hs);
	const struct gf_target *t = &q->targets[0];
	struct wbuf *w = c->w;
	const char **syms;
	struct view *v = NULL;
	struct col_state *st = NULL;
	uint8_t *present = NULL;
	struct tscan sc;
	int64_t bucket, start;
	size_t nsyms, nb, i, k, ncol = 0;
	int all, status, first;
	double x;

	if (cs == NULL)
		return http_error(
		    c, 503, "unavailable", "the store is not open");
	if ((status = http_resolve_symbols(
	         c, cs, &t->symbols, NULL, 0, &syms, &nsyms, &all)) != 0)
		return status;
	if (gf_metrics[t->metric].table)
		return series_table(c, cs, q, t, syms, nsyms);
	if ((status = check_cells(c, q, nsyms)) != 0)
		return status;
	if ((status = tscan_start(c, cs, q, t, syms, nsyms, 1, &sc)) != 0)
		return status;
	bucket = sc.bucket;
	/* The columns: shallow copies of the views (sc owns them). */
	v = xcalloc(nsyms ? nsyms : 1, sizeof(*v));
	for (i = 0; i < nsyms; i++)
		if (sc.v[i].n > 0 || !all) /* every symbol: those with data */
			v[ncol++] = sc.v[i];
	/* The time column: every bucket start where any symbol has a
	 * point, on the grid of buckets from the first one. */
	start = q->from_ms - q->from_ms % bucket;
	nb = (size_t)((q->to_ms - start + bucket - 1) / bucket);
	if ((uint64_t)nb * (ncol + 1) > HTTP_MAX_CELLS) {
		status = http_error(c, 400, "too_large",
		    "more than %zu values: ask for fewer symbols or points",
		    HTTP_MAX_CELLS);
		goto out;
	}
	present = xcalloc(nb ? nb : 1, 1);
	for (i = 0; i < ncol; i++)
		for (k = 0; k < v[i].n; k++) {
			int64_t g = (v[i].t[k] - start) / bucket;

			if (g >= 0 && (size_t)g < nb)
				present[g] = 1;
		}
	st = xcalloc(ncol ? ncol : 1, sizeof(*st));
	for (i = 0; i < ncol; i++)
		col_init(&v[i], &st[i]);
	if (q->rows) {
		JSONW_LIT(w, "[");
		first = 1;
		for (k = 0; k < nb && w->err == 0; k++) {
			int64_t gt = start + (int64_t)k * bucket;

			if (!present[k])
				continue;
			if (!first)
				JSONW_LIT(w, ",");
			JSONW_LIT(w, "{\"time\":");
			first = 0;
			jsonw_i64(w, gt);
			for (i = 0; i < ncol; i++) {
				JSONW_LIT(w, ",");
				jsonw_cstr(w, v[i].sym);
				JSONW_LIT(w, ":");
				if (col_value(t, &v[i], &st[i], gt, &x))
					jsonw_double(w, x);
				else
					JSONW_LIT(w, "null");
			}
			JSONW_LIT(w, "}");
		}
		JSONW_LIT(w, "]\n");
		status = 200;
		goto out;
	}
	series_head(w, q, t, bucket);
	JSONW_LIT(w, ",\"names\":[\"time\"");
	for (i = 0; i < ncol; i++) {
		JSONW_LIT(w, ",");
		jsonw_cstr(w, v[i].sym);
	}
	JSONW_LIT(w, "],\"columns\":{\"time\":[");
	first = 1;
	for (k = 0; k < nb; k++) {
		if (!present[k])
			continue;
		if (!first)
			JSONW_LIT(w, ",");
		first = 0;
		jsonw_i64(w, start + (int64_t)k * bucket);
	}
	JSONW_LIT(w, "]");
	for (i = 0; i < ncol && w->err == 0; i++) {
		JSONW_LIT(w, ",");
		jsonw_cstr(w, v[i].sym);
		JSONW_LIT(w, ":[");
		first = 1;
		for (k = 0; k < nb; k++) {
			if (!present[k])
				continue;
			if (!first)
				JSONW_LIT(w, ",");
			first = 0;
			if (col_value(t, &v[i], &st[i],
			        start + (int64_t)k * bucket, &x))
				jsonw_double(w, x);
			else
				JSONW_LIT(w, "null");
		}
		JSONW_LIT(w, "]");
	}
	JSONW_LIT(w, "}}\n");
	status = 200;
out:
	tscan_drop(&sc);
	free(v);
	free(st);
	free(present);
	return status;
}
