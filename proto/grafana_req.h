/*
 * grafana_req.h: (5) the request decoders of the HTTP stage: the bodies
 * Grafana's simpod-json-datasource plugin posts under /grafana (query,
 * metrics, metric-payload-options, variable, tag-values) and the query
 * string of GET /api/v1/series.
 *
 * Bodies are parsed with cJSON (the tree lives and dies inside each
 * decoder); what the HTTP stage needs is copied into the caller's arena,
 * checked and normalised, so the handlers never see JSON:
 *
 *	times        range.from / range.to as Grafana sends them (ISO 8601,
 *	             "2016-10-31T06:33:44.866Z"), or epoch milliseconds, or
 *	             "now", "now-5m" (units ms s m h d w), resolved against
 *	             the now_ms the caller passes (decoders read no clock)
 *	symbols      payload.symbols (or .symbol): a string, an array of
 *	             strings, or any text Grafana interpolates a multi-value
 *	             variable into: "(A|B)" (regex, with its escapes),
 *	             "{A,B}" (glob), "A|B" (pipe), "A,B" (csv), "'A','B'"
 *	             (sqlstring), "\"A\",\"B\"" (doublequote), "(\"A\" OR
 *	             \"B\")" (lucene), percent-encoded forms, a JSON array in
 *	             a string; absent, null, empty, "$__all", "All", "*" or
 *	             ".*" mean every symbol
 *	filters      Grafana's ad-hoc filters, "filters" (plugin 0.6.4+) and
 *	             "adhocFilters" (before): {key, operator, value[s]} with
 *	             the operators = != =~ !~ =| !=|
 *
 * Keys a request carries that finnstream does not use are ignored
 * (scopedVars with Grafana 11's "__sceneObject", panelId, requestId, ...).
 * Every decoder returns 0, or a negative error with a message in *e for
 * the client:
 *
 *	ERR_MALFORMED  not JSON, or a field of the wrong type
 *	ERR_RANGE      a value outside its range (an inverted or absurd time
 *	               range, maxDataPoints 0 or above GF_MAX_POINTS, a
 *	               symbol longer than GF_MAX_SYMBOL)
 *	ERR_TOO_BIG    more targets, symbols or filters than the limits
 *	               below, or the arena's cap reached
 *	ERR_NOTFOUND   a metric finnstream does not serve
 *
 * Pure: no I/O, no clock, no globals; cJSON allocates with malloc.
 */
#ifndef PROTO_GRAFANA_REQ_H
#define PROTO_GRAFANA_REQ_H

#include <stddef.h>
#include <stdint.h>

#include "proto/arena.h"

/* The metrics (DESIGN.md (5)). */
enum gf_metric {
	GF_PRICE = 1,        /* each bucket's close */
	GF_VOLUME,           /* sum of v */
	GF_AVG_PRICE_VOLUME, /* sum(p * v) / count: the seed's third panel */
	GF_VWAP,             /* sum(p * v) / sum(v) */
	GF_TRADES,           /* count */
	GF_OHLC,             /* table: open high low close volume vwap */
	GF_TRADES_TABLE,     /* table: raw trades, newest first */
	GF_NMETRICS = GF_TRADES_TABLE
};

struct gf_metric_info {
	const char *name;  /* as in targets[].target */
	const char *label; /* for Grafana's metric picker */
	int table;         /* answered as a table */
};

/* Indexed by enum gf_metric (entry 0 unused). */
extern const struct gf_metric_info gf_metrics[GF_NMETRICS + 1];

/* The metric named s[0..n), or 0. */
int gf_metric_find(const char *s, size_t n);

#define GF_MAX_POINTS     100000 /* maxDataPoints / points accepted */
#define GF_DEFAULT_POINTS 1000   /* when a request gives none */
#define GF_MAX_TARGETS    64
#define GF_MAX_SYMBOLS    1024 /* in one list */
#define GF_MAX_FILTERS    64
#define GF_MAX_SYMBOL     64 /* bytes of a symbol (the store's limit) */
#define GF_MAX_T          253402300800000LL   /* 10000-01-01T00:00Z, ms */
#define GF_MAX_INTERVAL   (3650LL * 86400000) /* intervalMs: ten years */
#define GF_DEFAULT_RANGE  3600000             /* no range: the last hour */

struct gf_err {
	char msg[256];
};

/* A set of symbols: every symbol (all), or a list of distinct ones. */
struct gf_symbols {
	int all;
	size_t n;
	const char **v; /* NUL-terminated, in the arena */
	size_t cap;     /* private: slots of v */
};

enum gf_op {
	GF_OP_EQ = 1, /* =    value */
	GF_OP_NE,     /* !=   value */
	GF_OP_RE,     /* =~   pattern (POSIX extended, whole symbol) */
	GF_OP_NRE,    /* !~   pattern */
	GF_OP_IN,     /* =|   values */
	GF_OP_NIN     /* !=|  values */
};

struct gf_filter {
	const char *key;
	int op;              /* enum gf_op */
	const char **values; /* the value(s); a pattern for RE/NRE */
	size_t nvalues;
};

struct gf_target {
	const char *ref_id; /* as sent, else "A", "B", ... by position */
	int metric;         /* enum gf_metric */
	struct gf_symbols symbols;
	int running; /* payload.running: cumulative since the oldest data */
};

struct gf_query {
	int64_t from_ms, to_ms; /* from < to */
	int64_t interval_ms;    /* 0: none given */
	int64_t max_points;     /* 1..GF_MAX_POINTS */
	size_t ntargets;        /* hidden and placeholder targets dropped */
	struct gf_target *targets;
	size_t nfilters;
	struct gf_filter *filters;
	int rows;     /* /api/v1/series: format=rows (an array of objects) */
	int from_all; /* /api/v1/series: from=all (the oldest data retained;
	                 from_ms is 0 until the engine knows it) */
};

/*
 * POST /grafana/query: Grafana's DataQueryRequest.  A request without
 * "range" covers the GF_DEFAULT_RANGE before now_ms; without
 * maxDataPoints, GF_DEFAULT_POINTS.  "targets" is required; targets
 * without "target" (placeholders) or with "hide": true are dropped.
 */
int gf_decode_query(const uint8_t *p, size_t n, int64_t now_ms,
    struct gf_query *out, struct arena *a, struct gf_err *e);

/*
 * POST /grafana/metrics and /grafana/search: {} or {"metric", "payload"}
 * (or simple-json's {"target"}); an empty body counts as {}.  Nothing in
 * it changes the answer: this only checks that it is a JSON object.
 */
int gf_decode_metrics(const uint8_t *p, size_t n, struct gf_err *e);

/* POST /grafana/metric-payload-options: {metric, payload, name}. */
struct gf_payload_options {
	int metric; /* 0 when the metric is unknown (answered []) */
	const char *name;
};
int gf_decode_payload_options(const uint8_t *p, size_t n,
    struct gf_payload_options *out, struct arena *a, struct gf_err *e);

/*
 * POST /grafana/variable: {payload: {target} | any, range}.  target is
 * the variable's query text (NULL when absent or not a string).
 */
struct gf_variable {
	const char *target;
};
int gf_decode_variable(const uint8_t *p, size_t n, struct gf_variable *out,
    struct arena *a, struct gf_err *e);

/* POST /grafana/tag-values: {key, ...}; key is required. */
int gf_decode_tag_values(const uint8_t *p, size_t n, const char **key,
    struct arena *a, struct gf_err *e);

/*
 * GET /api/v1/series?metric=&symbols=&from=&to=&points=&interval=
 * &running=&format=: the query string q[0..n) (after the '?',
 * percent-encoded).  format is "columns" (the default) or "rows".
 * metric is required; symbols as in a payload (repeatable); from and to
 * as the range's times (default: the last GF_DEFAULT_RANGE); points
 * 1..GF_MAX_POINTS (default GF_DEFAULT_POINTS); interval in ms (0).
 */
int gf_decode_series(const char *q, size_t n, int64_t now_ms,
    struct gf_query *out, struct arena *a, struct gf_err *e);

/*
 * A symbols value given as text (see above) into *out, added to what
 * out holds (start from a zeroed struct).  0, or ERR_RANGE / ERR_TOO_BIG
 * / ERR_NOMEM-as-ERR_TOO_BIG with *e.
 */
int gf_parse_symbols(const char *s, size_t n, struct gf_symbols *out,
    struct arena *a, struct gf_err *e);

/*
 * A time: epoch milliseconds, ISO 8601 (date, optional time with
 * fraction, optional Z or +HH:MM offset; UTC when none), "now" or
 * "now-N<unit>".  0 and *out, or ERR_MALFORMED / ERR_RANGE (outside
 * 0..GF_MAX_T).
 */
int gf_parse_time(const char *s, size_t n, int64_t now_ms, int64_t *out);

#endif
