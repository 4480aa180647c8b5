/*
 * test_grafana_req.c: the HTTP stage's request decoders
 * (proto/grafana_req.c): the bodies Grafana 10 and 11 post through the
 * simpod-json-datasource plugin, every form Grafana interpolates a
 * multi-value variable into, times, ad-hoc filters, the series query
 * string, truncations, and every refusal with its message.
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "proto/arena.h"
#include "proto/grafana_req.h"
#include "tests/lib/tap.h"

#define NOW 1700000000000LL

static struct arena A;

/* A string literal as (bytes, length). */
#define B(s) (const uint8_t *)(s), strlen(s)

/* What Grafana 10.4 sends for a panel in code mode with an unquoted
 * multi-value $symbol (AAPL and MSFT selected). */
static const char g10_query[] =
    "{\"app\":\"dashboard\",\"requestId\":\"Q100\",\"timezone\":\"browser\","
    "\"panelId\":1,\"dashboardUID\":\"finnstream\",\"range\":{\"from\":"
    "\"2016-10-31T06:33:44.866Z\",\"to\":\"2016-10-31T12:33:44.866Z\","
    "\"raw\":{\"from\":\"now-6h\",\"to\":\"now\"}},\"timeInfo\":\"\","
    "\"interval\":\"30s\",\"intervalMs\":30000,\"targets\":[{\"datasource\":"
    "{\"type\":\"simpod-json-datasource\",\"uid\":\"finnstream\"},"
    "\"editorMode\":\"code\",\"payload\":{\"symbols\":[\"AAPL\",\"MSFT\"]},"
    "\"refId\":\"A\",\"target\":\"price\"}],\"maxDataPoints\":550,"
    "\"scopedVars\":{\"symbol\":{\"selected\":false,\"text\":\"AAPL + MSFT\","
    "\"value\":[\"AAPL\",\"MSFT\"]},\"__interval\":{\"text\":\"30s\","
    "\"value\":\"30s\"},\"__interval_ms\":{\"text\":\"30000\",\"value\":"
    "30000}},\"startTime\":1477917224866,\"rangeRaw\":{\"from\":\"now-6h\","
    "\"to\":\"now\"},\"adhocFilters\":[]}";

/* Grafana 11 with scenes: __sceneObject in scopedVars, filters set by
 * Grafana, a hidden target, a placeholder, a builder-mode payload with a
 * regex-interpolated value, and refIds missing. */
static const char g11_query[] =
    "{\"app\":\"dashboard\",\"requestId\":\"SQR101\",\"timezone\":\"browser\","
    "\"range\":{\"from\":\"2024-02-29T11:00:00.000Z\",\"to\":"
    "\"2024-02-29T12:00:00.000Z\",\"raw\":{\"from\":\"now-1h\",\"to\":"
    "\"now\"}},\"interval\":\"5s\",\"intervalMs\":5000,\"maxDataPoints\":"
    "720,\"liveStreaming\":false,\"panelId\":2,\"panelPluginId\":"
    "\"timeseries\",\"queryGroupId\":\"AQ-2\",\"targets\":["
    "{\"refId\":\"A\",\"target\":\"volume\",\"editorMode\":\"builder\","
    "\"payload\":{\"symbols\":\"(BINANCE:BTCUSDT|BRK\\\\.B)\"},"
    "\"datasource\":{\"type\":\"simpod-json-datasource\",\"uid\":\"x\"}},"
    "{\"refId\":\"B\",\"target\":\"vwap\",\"hide\":true},"
    "{\"refId\":\"C\"},"
    "{\"target\":\"avg_price_volume\",\"payload\":\"{\\\"symbols\\\": "
    "[\\\"AAPL\\\"], \\\"running\\\": true}\"}],"
    "\"scopedVars\":{\"__sceneObject\":{\"text\":\"__sceneObject\"},"
    "\"__interval\":{\"text\":\"5s\",\"value\":\"5s\"}},"
    "\"filters\":[{\"key\":\"symbol\",\"operator\":\"!=\",\"value\":"
    "\"MSFT\"},{\"key\":\"City\",\"operator\":\"=\",\"value\":"
    "\"Berlin\"},{\"key\":\"symbol\",\"operator\":\"=|\",\"value\":\"A\","
    "\"values\":[\"A\",\"B\"]}],\"startTime\":1709208000000}";

static int
dq(const char *body, struct gf_query *q, struct gf_err *e)
{
	arena_reset(&A);
	return gf_decode_query(
	    (const uint8_t *)body, strlen(body), NOW, q, &A, e);
}

static int
syms_are(const struct gf_symbols *s, const char *const *want, size_t n)
{
	size_t i;

	if (s->all || s->n != n)
		return 0;
	for (i = 0; i < n; i++)
		if (strcmp(s->v[i], want[i]) != 0)
			return 0;
	return 1;
}

static void
test_grafana10(void)
{
	static const char *const want[] = {"AAPL", "MSFT"};
	struct gf_query q;
	struct gf_err e;

	is_int(dq(g10_query, &q, &e), 0, "Grafana 10 body decodes");
	is_int(q.from_ms, 1477895624866LL, "range.from (ISO 8601)");
	is_int(q.to_ms, 1477895624866LL + 6 * 3600000, "range.to");
	is_int(q.interval_ms, 30000, "intervalMs");
	is_int(q.max_points, 550, "maxDataPoints");
	is_int(q.ntargets, 1, "one target");
	is_int(q.targets[0].metric, GF_PRICE, "target price");
	is_str(q.targets[0].ref_id, "A", "refId");
	ok(syms_are(&q.targets[0].symbols, want, 2), "symbols array");
	is_int(q.targets[0].running, 0, "not running");
	is_int(q.nfilters, 0, "empty adhocFilters");
}

static void
test_grafana11(void)
{
	static const char *const w0[] = {"BINANCE:BTCUSDT", "BRK.B"};
	static const char *const w1[] = {"AAPL"};
	struct gf_query q;
	struct gf_err e;

	if (!ok(dq(g11_query, &q, &e) == 0, "Grafana 11 body decodes"))
		diag("  %s", e.msg);
	is_int(q.from_ms, 1709204400000LL, "range.from");
	is_int(q.ntargets, 2, "hidden and placeholder targets dropped");
	is_int(q.targets[0].metric, GF_VOLUME, "first: volume");
	ok(syms_are(&q.targets[0].symbols, w0, 2),
	    "regex interpolation (A|B) with an escaped dot");
	is_int(q.targets[1].metric, GF_AVG_PRICE_VOLUME, "second metric");
	is_str(q.targets[1].ref_id, "D", "a missing refId named by position");
	ok(syms_are(&q.targets[1].symbols, w1, 1), "payload as JSON text");
	is_int(q.targets[1].running, 1, "payload.running");
	is_int(q.nfilters, 2, "the two filters on symbol kept, City ignored");
	ok(q.filters[0].op == GF_OP_NE && q.filters[0].nvalues == 1 &&
	        strcmp(q.filters[0].values[0], "MSFT") == 0,
	    "filter symbol != MSFT");
	ok(q.filters[1].op == GF_OP_IN && q.filters[1].nvalues == 2 &&
	        strcmp(q.filters[1].values[1], "B") == 0,
	    "filter symbol =| [A, B]");
}

static void
test_defaults(void)
{
	struct gf_query q;
	struct gf_err e;

	is_int(dq("{\"targets\":[{\"target\":\"trades\"}]}", &q, &e), 0,
	    "a hand-written body (Infinity)");
	ok(q.from_ms == NOW - GF_DEFAULT_RANGE && q.to_ms == NOW,
	    "no range: the last hour");
	is_int(q.max_points, GF_DEFAULT_POINTS, "no maxDataPoints: default");
	ok(q.targets[0].symbols.all, "no payload: every symbol");
	is_str(q.targets[0].ref_id, "A", "refId A by position");
	is_int(dq("{\"targets\":[],\"range\":{\"from\":1000,\"to\":2000}}", &q,
	           &e),
	    0, "epoch ms as numbers");
	ok(q.from_ms == 1000 && q.to_ms == 2000 && q.ntargets == 0,
	    "range in ms, no targets");
	is_int(dq("{\"targets\":[{\"target\":\"price\",\"payload\":\"\"},"
	          "{\"target\":\"\"},{\"target\":\"ohlc\",\"payload\":"
	          "{\"symbols\":[]}},{\"target\":\"vwap\",\"payload\":"
	          "{\"symbols\":null,\"other\":[1,2]}}],"
	          "\"range\":{\"from\":\"now-5m\",\"to\":\"now\"}}",
	           &q, &e),
	    0, "empty payloads, an empty target, now-5m");
	ok(q.ntargets == 3 && q.targets[0].symbols.all &&
	        q.targets[1].symbols.all && q.targets[2].symbols.all,
	    "empty string, empty array and null mean every symbol");
	ok(q.from_ms == NOW - 300000 && q.to_ms == NOW, "now-5m .. now");
}

static void
test_symbol_forms(void)
{
	static const struct {
		const char *in;
		const char *want; /* comma-joined; NULL: every symbol */
	} f[] = {
	    {"AAPL", "AAPL"},
	    {"  AAPL  ", "AAPL"},
	    {"(AAPL|MSFT)", "AAPL,MSFT"},
	    {"(BRK\\.B|\\^GSPC)", "BRK.B,^GSPC"},
	    {"{AAPL,MSFT}", "AAPL,MSFT"},
	    {"AAPL|MSFT", "AAPL,MSFT"},
	    {"AAPL,MSFT,AAPL", "AAPL,MSFT"},
	    {"'AAPL','MSFT'", "AAPL,MSFT"},
	    {"\"AAPL\",\"MSFT\"", "AAPL,MSFT"},
	    {"(\"BINANCE\\:BTCUSDT\" OR \"AAPL\")", "BINANCE:BTCUSDT,AAPL"},
	    {"%7BAAPL%2CMSFT%7D", "AAPL,MSFT"},
	    {"[\"AAPL\",\"MSFT\"]", "AAPL,MSFT"},
	    {"AAPL + MSFT", "AAPL,MSFT"},
	    {"BINANCE:BTCUSDT", "BINANCE:BTCUSDT"},
	    {"", NULL},
	    {"$__all", NULL},
	    {"All", NULL},
	    {"*", NULL},
	    {".*", NULL},
	    {"(AAPL|$__all)", NULL},
	    {",,", NULL},
	};
	struct gf_err e;
	size_t i, k;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		struct gf_symbols s;
		char got[256];
		size_t len = 0;
		int rc;

		memset(&s, 0, sizeof(s));
		arena_reset(&A);
		rc = gf_parse_symbols(f[i].in, strlen(f[i].in), &s, &A, &e);
		got[0] = '\0';
		for (k = 0; k < s.n && len < 200; k++)
			len += (size_t)snprintf(got + len, sizeof(got) - len,
			    "%s%s", k ? "," : "", s.v[k]);
		if (f[i].want == NULL)
			ok(rc == 0 && s.all, "symbols \"%s\": every symbol",
			    f[i].in);
		else if (!ok(rc == 0 && !s.all && strcmp(got, f[i].want) == 0,
		             "symbols \"%s\" -> %s", f[i].in, f[i].want))
			diag("  got rc %d all %d \"%s\"", rc, s.all, got);
	}
}

static void
test_times(void)
{
	static const struct {
		const char *in;
		int64_t want;
	} t[] = {
	    {"2016-10-31T06:33:44.866Z", 1477895624866LL},
	    {"2016-10-31", 1477872000000LL},
	    {"2016-10-31T06:33:44.8661234Z", 1477895624866LL},
	    {"2016-10-31t06:33:44.8z", 1477895624800LL},
	    {"2016-10-31 06:33", 1477895580000LL},
	    {"2024-02-29T12:00:00+05:30", 1709188200000LL},
	    {"2024-02-29T12:00:00+0530", 1709188200000LL},
	    {"1970-01-01T00:00:00.001Z", 1},
	    {"1700000000000", 1700000000000LL},
	    {"0", 0},
	    {"now", NOW},
	    {"now-5m", NOW - 300000},
	    {"now-1h", NOW - 3600000},
	    {"now+1d", NOW + 86400000},
	    {"now-250ms", NOW - 250},
	    {"now-2w", NOW - 14 * 86400000LL},
	};
	static const char *const bad[] = {"", "yesterday", "2016-13-01",
	    "2023-02-29", "2016-10-31T25:00", "2016-10-31T06:33:44.Z",
	    "2016-10-31X", "now-5", "now-5y", "now/d", "-5", "12e3",
	    "2016-10-31T06:33:44+24:00", "99999999999999999"};
	int64_t v;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int rc = gf_parse_time(t[i].in, strlen(t[i].in), NOW, &v);

		if (!ok(rc == 0 && v == t[i].want, "time \"%s\"", t[i].in))
			diag("  rc %d got %lld", rc, (long long)v);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(gf_parse_time(bad[i], strlen(bad[i]), NOW, &v) < 0,
		    "time \"%s\" refused", bad[i]);
	ok(gf_parse_time("1969-12-31", 10, NOW, &v) == ERR_RANGE,
	    "before the epoch: ERR_RANGE");
	ok(gf_parse_time("now-100w", 8, 1000, &v) == ERR_RANGE,
	    "a relative time below 0: ERR_RANGE");
}

static void
test_refusals(void)
{
	static const struct {
		const char *body;
		int rc;
		const char *msg; /* a piece of the message */
	} bad[] = {
	    {"", ERR_MALFORMED, "not valid JSON"},
	    {"{", ERR_MALFORMED, "not valid JSON"},
	    {"{\"targets\":[]} x", ERR_MALFORMED, "text after"},
	    {"[1,2]", ERR_MALFORMED, "not a JSON object"},
	    {"{}", ERR_MALFORMED, "targets"},
	    {"{\"targets\":{}}", ERR_MALFORMED, "targets"},
	    {"{\"targets\":[1]}", ERR_MALFORMED, "targets[0]"},
	    {"{\"targets\":[{\"target\":5}]}", ERR_MALFORMED, "metric name"},
	    {"{\"targets\":[{\"target\":\"cpu\"}]}", ERR_NOTFOUND,
	        "unknown metric \"cpu\""},
	    {"{\"targets\":[{\"target\":\"price\",\"refId\":1}]}",
	        ERR_MALFORMED, "refId"},
	    {"{\"targets\":[{\"target\":\"price\",\"payload\":5}]}",
	        ERR_MALFORMED, "payload"},
	    {"{\"targets\":[{\"target\":\"price\",\"payload\":\"{x\"}]}",
	        ERR_MALFORMED, "payload"},
	    {"{\"targets\":[{\"target\":\"price\",\"payload\":{\"symbols\":"
	     "5}}]}",
	        ERR_MALFORMED, "payload.symbols"},
	    {"{\"targets\":[{\"target\":\"price\",\"payload\":{\"symbols\":"
	     "[\"A\",{}]}}]}",
	        ERR_MALFORMED, "payload.symbols"},
	    {"{\"targets\":[{\"target\":\"price\",\"payload\":{\"running\":"
	     "\"maybe\"}}]}",
	        ERR_MALFORMED, "running"},
	    {"{\"targets\":[],\"maxDataPoints\":0}", ERR_RANGE,
	        "maxDataPoints"},
	    {"{\"targets\":[],\"maxDataPoints\":5000000}", ERR_RANGE,
	        "maxDataPoints"},
	    {"{\"targets\":[],\"maxDataPoints\":\"550\"}", ERR_MALFORMED,
	        "maxDataPoints"},
	    {"{\"targets\":[],\"maxDataPoints\":1e400}", ERR_RANGE,
	        "maxDataPoints"},
	    {"{\"targets\":[],\"intervalMs\":-1}", ERR_RANGE, "intervalMs"},
	    {"{\"targets\":[],\"range\":{\"from\":\"2016-10-31T12:00:00Z\","
	     "\"to\":\"2016-10-31T06:00:00Z\"}}",
	        ERR_RANGE, "inverted"},
	    {"{\"targets\":[],\"range\":{\"from\":5,\"to\":5}}", ERR_RANGE,
	        "empty or inverted"},
	    {"{\"targets\":[],\"range\":{\"from\":-5,\"to\":5}}", ERR_RANGE,
	        "range.from"},
	    {"{\"targets\":[],\"range\":{\"from\":\"0\",\"to\":"
	     "\"99999-01-01\"}}",
	        ERR_MALFORMED, "range.to"},
	    {"{\"targets\":[],\"range\":{\"to\":5}}", ERR_MALFORMED,
	        "range.from"},
	    {"{\"targets\":[],\"range\":\"last hour\"}", ERR_MALFORMED,
	        "range"},
	    {"{\"targets\":[],\"filters\":[{\"key\":\"symbol\",\"operator\":"
	     "\"<\",\"value\":\"A\"}]}",
	        ERR_RANGE, "operator"},
	    {"{\"targets\":[],\"filters\":[{\"key\":\"symbol\"}]}",
	        ERR_MALFORMED, "filters[0]"},
	    {"{\"targets\":[],\"filters\":{}}", ERR_MALFORMED, "filters"},
	    {"{\"targets\":[{\"target\":\"price\",\"payload\":{\"symbols\":"
	     "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	     "AAAAAAAA\"}}]}",
	        ERR_RANGE, "longer than 64"},
	};
	struct gf_query q;
	struct gf_err e;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc;

		e.msg[0] = '\0';
		rc = dq(bad[i].body, &q, &e);
		if (!ok(rc == bad[i].rc && strstr(e.msg, bad[i].msg) != NULL,
		        "refused %zu: %s", i, bad[i].msg))
			diag("  rc %d (want %d): %s", rc, bad[i].rc, e.msg);
	}
}

static void
test_limits(void)
{
	char *body = malloc(1 << 20);
	struct gf_query q;
	struct gf_err e;
	size_t n = 0;
	int i;

	n += (size_t)sprintf(body, "{\"targets\":[");
	for (i = 0; i <= GF_MAX_TARGETS; i++)
		n += (size_t)sprintf(
		    body + n, "%s{\"target\":\"price\"}", i ? "," : "");
	sprintf(body + n, "]}");
	is_int(dq(body, &q, &e), ERR_TOO_BIG, "one target over the limit");
	n = (size_t)sprintf(body,
	    "{\"targets\":[{\"target\":\"price\",\"payload\":{\"symbols\":[");
	for (i = 0; i <= GF_MAX_SYMBOLS; i++)
		n += (size_t)sprintf(body + n, "%s\"S%d\"", i ? "," : "", i);
	sprintf(body + n, "]}}]}");
	is_int(dq(body, &q, &e), ERR_TOO_BIG, "one symbol over the limit");
	n = (size_t)sprintf(body,
	    "{\"targets\":[{\"target\":\"price\",\"payload\":{\"symbols\":[");
	for (i = 0; i < GF_MAX_SYMBOLS; i++)
		n += (size_t)sprintf(body + n, "%s\"S%d\"", i ? "," : "", i);
	sprintf(body + n, "]}}]}");
	ok(dq(body, &q, &e) == 0 && q.targets[0].symbols.n == GF_MAX_SYMBOLS,
	    "exactly the limit of symbols");
	/* A small arena: the decoder stops, it does not overrun. */
	{
		struct arena small;

		arena_init(&small, 256);
		is_int(gf_decode_query((const uint8_t *)body, strlen(body), NOW,
		           &q, &small, &e),
		    ERR_TOO_BIG, "the arena's cap is an error, not a crash");
		arena_fini(&small);
	}
	free(body);
}

/* Every prefix of a valid body is refused (none is a JSON object). */
static void
test_truncations(void)
{
	size_t n = strlen(g11_query), i, bad = 0;
	struct gf_query q;
	struct gf_err e;

	for (i = 0; i < n; i++) {
		char *p = malloc(i ? i : 1);

		memcpy(p, g11_query, i);
		arena_reset(&A);
		if (gf_decode_query((const uint8_t *)p, i, NOW, &q, &A, &e) !=
		    ERR_MALFORMED)
			bad++;
		free(p);
	}
	ok(bad == 0, "every truncation of a Grafana 11 body: ERR_MALFORMED");
}

static void
test_other_bodies(void)
{
	struct gf_payload_options po;
	struct gf_variable v;
	const char *key;
	struct gf_err e;

	is_int(gf_decode_metrics(B(""), &e), 0, "metrics: empty body");
	is_int(gf_decode_metrics(B("{}"), &e), 0, "metrics: {}");
	is_int(
	    gf_decode_metrics(B("{\"metric\":\"price\",\"payload\":{}}"), &e),
	    0, "metrics: builder mode body");
	is_int(gf_decode_metrics(B("{\"a\":"), &e), ERR_MALFORMED,
	    "metrics: malformed");
	is_int(gf_decode_metrics(B("\"x\""), &e), ERR_MALFORMED,
	    "metrics: not an object");
	arena_reset(&A);
	ok(gf_decode_payload_options(B("{\"metric\":\"price\",\"payload\":{},"
	                               "\"name\":\"symbols\"}"),
	       &po, &A, &e) == 0 &&
	        po.metric == GF_PRICE && strcmp(po.name, "symbols") == 0,
	    "metric-payload-options");
	ok(gf_decode_payload_options(B("{\"metric\":\"cpu\",\"payload\":{},"
	                               "\"name\":\"x\"}"),
	       &po, &A, &e) == 0 &&
	        po.metric == 0,
	    "metric-payload-options: an unknown metric is no error");
	is_int(
	    gf_decode_payload_options(B("{\"metric\":\"price\"}"), &po, &A, &e),
	    ERR_MALFORMED, "metric-payload-options: name missing");
	ok(gf_decode_variable(B("{\"payload\":{\"target\":\"symbols\"},"
	                        "\"range\":{}}"),
	       &v, &A, &e) == 0 &&
	        strcmp(v.target, "symbols") == 0,
	    "variable: payload.target");
	ok(gf_decode_variable(B("{\"payload\":{\"x\":1}}"), &v, &A, &e) == 0 &&
	        v.target == NULL,
	    "variable: a raw JSON payload without target");
	is_int(gf_decode_variable(B("["), &v, &A, &e), ERR_MALFORMED,
	    "variable: malformed");
	ok(gf_decode_tag_values(B("{\"key\":\"symbol\"}"), &key, &A, &e) == 0 &&
	        strcmp(key, "symbol") == 0,
	    "tag-values: key");
	is_int(gf_decode_tag_values(B("{}"), &key, &A, &e), ERR_MALFORMED,
	    "tag-values: key missing");
}

static int
ds(const char *qs, struct gf_query *q, struct gf_err *e)
{
	arena_reset(&A);
	return gf_decode_series(qs, strlen(qs), NOW, q, &A, e);
}

static void
test_series(void)
{
	static const char *const w[] = {"AAPL", "BINANCE:BTCUSDT", "BRK B"};
	struct gf_query q;
	struct gf_err e;

	is_int(ds("metric=vwap&symbols=AAPL,BINANCE%3ABTCUSDT&symbols=BRK+B"
	          "&from=1000&to=now&points=300&interval=1000&running=true",
	           &q, &e),
	    0, "series query string");
	ok(q.ntargets == 1 && q.targets[0].metric == GF_VWAP &&
	        syms_are(&q.targets[0].symbols, w, 3),
	    "metric and percent-encoded, repeated symbols");
	ok(q.from_ms == 1000 && q.to_ms == NOW && q.max_points == 300 &&
	        q.interval_ms == 1000 && q.targets[0].running == 1,
	    "from, to, points, interval, running");
	is_int(ds("metric=price", &q, &e), 0, "only the metric");
	ok(q.targets[0].symbols.all && q.to_ms == NOW &&
	        q.from_ms == NOW - GF_DEFAULT_RANGE &&
	        q.max_points == GF_DEFAULT_POINTS,
	    "defaults: every symbol, the last hour, 1000 points");
	is_int(ds("metric=price&from=2016-10-31T06%3A33%3A44.866Z&x=y", &q, &e),
	    0, "ISO time, unknown parameter ignored");
	is_int(q.from_ms, 1477895624866LL, "ISO from");
	is_int(ds("symbols=AAPL", &q, &e), ERR_MALFORMED, "metric missing");
	is_int(ds("metric=cpu", &q, &e), ERR_NOTFOUND, "unknown metric");
	is_int(ds("metric=price&points=0", &q, &e), ERR_RANGE, "points 0");
	is_int(ds("metric=price&points=1000000", &q, &e), ERR_RANGE,
	    "points a million");
	is_int(ds("metric=price&points=abc", &q, &e), ERR_MALFORMED,
	    "points not a number");
	is_int(ds("metric=price&from=now&to=now-1h", &q, &e), ERR_RANGE,
	    "inverted range");
	is_int(ds("metric=price&from=tomorrow", &q, &e), ERR_MALFORMED,
	    "a time that is no time");
	is_int(ds("metric=price&running=perhaps", &q, &e), ERR_MALFORMED,
	    "running not a boolean");
	is_int(ds("metric=price&from=all", &q, &e), 0, "from=all");
	ok(q.from_all && q.from_ms == 0 && q.to_ms == NOW,
	    "from=all: left to the engine, to now");
	is_int(ds("metric=price&from=1000&from=all&to=2000", &q, &e), 0,
	    "from=all after another from");
	ok(q.from_all, "  the last one counts");
	is_int(ds("metric=price&from=all&from=1000&to=2000", &q, &e), 0,
	    "another from after from=all");
	ok(!q.from_all && q.from_ms == 1000, "  the last one counts");
	is_int(ds("metric=price&from=alll", &q, &e), ERR_MALFORMED,
	    "from=alll is no time");
	is_int(
	    ds("metric=price&from=al", &q, &e), ERR_MALFORMED, "nor from=al");
}

int
main(void)
{
	plan_lazy();
	arena_init(&A, 4 << 20);
	test_grafana10();
	test_grafana11();
	test_defaults();
	test_symbol_forms();
	test_times();
	test_refusals();
	test_limits();
	test_truncations();
	test_other_bodies();
	test_series();
	arena_fini(&A);
	return done_testing();
}
