/*
 * http_metrics.c: (5) GET /metrics (every counter of server/stats.h in
 * the Prometheus text format, version 0.0.4) and GET /healthz (each
 * stage's state as JSON; 200 while the daemon serves).
 *
 * Names: finnstream_ + the stats field's name, but the partitioned log's
 * seglog_* is finnstream_log_* (the word users know it by), and
 * microsecond totals are exported as seconds (*_seconds_total).
 * Counters end in _total, byte counts in _bytes; the query latency
 * histogram is finnstream_http_query_duration_seconds{route=...}.
 */
#include <config.h>

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/membudget.h"
#include "proto/jsonw.h"
#include "server/http/http_int.h"
#include "server/stats.h"

#define F(field) offsetof(struct stats, field)

struct prom_metric {
	const char *name; /* after finnstream_ */
	int gauge;
	size_t off;
	double scale; /* 0: the integer as it is */
	const char *help;
};

/* Every field of struct stats but the histogram (see the banner). */
static const struct prom_metric prom_metrics[] = {
    /* (1) the feed */
    {"feed_frames_total", 0, F(feed_frames_total), 0,
        "Websocket messages received from the upstream feed."},
    {"feed_trades_total", 0, F(feed_trades_total), 0,
        "Trades received from the feed and appended to the log."},
    {"feed_pings_total", 0, F(feed_pings_total), 0,
        "Ping messages received from the feed."},
    {"feed_errors_total", 0, F(feed_errors_total), 0,
        "Error messages the upstream sent (e.g. too many symbols)."},
    {"feed_bad_frames_total", 0, F(feed_bad_frames_total), 0,
        "Feed messages that were not valid Finnhub JSON."},
    {"feed_bad_trades_total", 0, F(feed_bad_trades_total), 0,
        "Trades skipped as invalid inside otherwise valid messages."},
    {"feed_connects_total", 0, F(feed_connects_total), 0,
        "Websocket connections opened to the upstream."},
    {"feed_reconnects_total", 0, F(feed_reconnects_total), 0,
        "Reconnections after a drop, a stall or an error."},
    {"feed_stalls_total", 0, F(feed_stalls_total), 0,
        "Connections dropped for silence past feed_stall_ms."},
    {"feed_ws_errors_total", 0, F(feed_ws_errors_total), 0,
        "Websocket or TLS errors on the upstream connection."},
    {"feed_bytes_total", 0, F(feed_bytes_total), 0,
        "Bytes of feed messages received."},
    /* (2) the partitioned log and the Kafka listener */
    {"log_appends_total", 0, F(seglog_appends_total), 0,
        "Record batches appended to the partitioned log."},
    {"log_records_total", 0, F(seglog_records_total), 0,
        "Records appended to the partitioned log."},
    {"log_bytes_total", 0, F(seglog_bytes_total), 0,
        "Bytes appended to the partitioned log."},
    {"log_expired_bytes_total", 0, F(seglog_expired_bytes_total), 0,
        "Log bytes dropped by retention (log_retention_bytes/_ms)."},
    {"log_evicted_bytes_total", 0, F(seglog_evicted_bytes_total), 0,
        "Log bytes dropped early to stay within max_memory."},
    {"log_evicted_segments_total", 0, F(seglog_evicted_segments_total), 0,
        "Log segments dropped early to stay within max_memory."},
    {"log_lease_waits_total", 0, F(seglog_lease_waits_total), 0,
        "Appends that waited for an offset lease to be on disk."},
    {"kafka_connections_total", 0, F(kafka_connections_total), 0,
        "Kafka client connections accepted."},
    {"kafka_requests_total", 0, F(kafka_requests_total), 0,
        "Kafka requests handled."},
    {"kafka_bad_requests_total", 0, F(kafka_bad_requests_total), 0,
        "Kafka requests malformed, oversized or of an unserved API."},
    {"kafka_produce_records_total", 0, F(kafka_produce_records_total), 0,
        "Records produced by Kafka clients."},
    {"kafka_fetch_bytes_total", 0, F(kafka_fetch_bytes_total), 0,
        "Record bytes sent to Kafka consumers."},
    {"kafka_conn_closed_errors_total", 0, F(kafka_conn_closed_errors_total), 0,
        "Kafka connections closed for a protocol error."},
    {"kafka_conn_closed_memory_total", 0, F(kafka_conn_closed_memory_total), 0,
        "Kafka connections closed: a request past the memory budget."},
    {"kafka_conn_closed_idle_total", 0, F(kafka_conn_closed_idle_total), 0,
        "Kafka connections closed after kafka_idle_ms without requests."},
    {"kafka_conn_refused_total", 0, F(kafka_conn_refused_total), 0,
        "Times accepting paused at kafka_max_connections."},
    /* (3) the aggregator */
    {"agg_records_total", 0, F(agg_records_total), 0,
        "Records the aggregator read from the trades topic."},
    {"agg_invalid_records_total", 0, F(agg_invalid_records_total), 0,
        "Records of the trades topic that were not valid trades."},
    {"agg_lost_offsets_total", 0, F(agg_lost_offsets_total), 0,
        "Offsets the log no longer held when the aggregator got there."},
    {"agg_pauses_total", 0, F(agg_pauses_total), 0,
        "Times the aggregator paused for the memory budget."},
    /* (4) the store */
    {"store_trades_total", 0, F(store_trades_total), 0,
        "Trades committed to the store since it was created."},
    {"store_bars_total", 0, F(store_bars_total), 0,
        "Bar rows committed to the store since it was created."},
    {"store_commits_total", 0, F(store_commits_total), 0,
        "Store commit records written."},
    {"store_flushes_total", 0, F(store_flushes_total), 0,
        "Store flushes committed."},
    {"store_flush_seconds_total", 0, F(store_flush_us_total), 1e-6,
        "Writer-thread time spent in flushes."},
    {"store_compactions_total", 0, F(store_compactions_total), 0,
        "Compactions of the store's tail into day files."},
    {"store_compact_seconds_total", 0, F(store_compact_us_total), 1e-6,
        "Writer-thread time spent compacting."},
    {"store_write_errors_total", 0, F(store_write_errors_total), 0,
        "Store writes or fsyncs that failed."},
    {"store_bytes_written_total", 0, F(store_bytes_written_total), 0,
        "Bytes the store wrote to disk."},
    {"store_retirements_total", 0, F(store_retirements_total), 0,
        "Days removed by trades_ and bars_retention_days."},
    /* (5) HTTP */
    {"http_connections_total", 0, F(http_connections_total), 0,
        "HTTP connections accepted."},
    {"http_requests_total", 0, F(http_requests_total), 0,
        "HTTP requests answered (by a route or by the gate)."},
    {"http_queries_total", 0, F(http_queries_total), 0,
        "Data queries: /grafana/query and /api/v1/series."},
    {"http_responses_2xx_total", 0, F(http_responses_2xx_total), 0,
        "HTTP answers with a 2xx status."},
    {"http_responses_4xx_total", 0, F(http_responses_4xx_total), 0,
        "HTTP answers with a 4xx status (bad input)."},
    {"http_responses_5xx_total", 0, F(http_responses_5xx_total), 0,
        "HTTP answers with a 5xx status."},
    {"http_response_bytes_total", 0, F(http_response_bytes_total), 0,
        "Bytes of HTTP answer bodies."},
    {"http_unauthorized_total", 0, F(http_unauthorized_total), 0,
        "Requests refused for a missing or wrong bearer token."},
    {"http_gate_refused_total", 0, F(http_gate_refused_total), 0,
        "Requests refused from their head (malformed, too large, slow)."},
    {"http_bodies_refused_total", 0, F(http_bodies_refused_total), 0,
        "Bodies refused before reading: over http_max_body_bytes or "
        "max_memory."},
    {"http_conn_closed_slow_total", 0, F(http_conn_closed_slow_total), 0,
        "Requests not whole within http_timeout_ms."},
    {"http_conn_closed_idle_total", 0, F(http_conn_closed_idle_total), 0,
        "Idle HTTP connections closed to make room for new ones."},
    {"http_accept_pauses_total", 0, F(http_accept_pauses_total), 0,
        "Times accepting paused at http_max_connections."},
    /* gauges */
    {"memory_bytes", 1, F(memory_bytes), 0,
        "Bytes charged to max_memory (log, requests, aggregator, store)."},
    {"log_bytes", 1, F(seglog_bytes), 0,
        "Bytes held by the partitioned log (every topic)."},
    {"kafka_connections", 1, F(kafka_connections), 0,
        "Kafka client connections open."},
    {"store_bytes", 1, F(store_bytes), 0,
        "Committed bytes of the store on disk."},
    {"store_chunks", 1, F(store_chunks), 0,
        "Sealed chunks held in memory (flushed, not yet compacted)."},
    {"http_connections", 1, F(http_connections), 0, "HTTP connections open."},
};

static const char *const query_routes[STATS_QUERY_ROUTES] = {
    "/grafana/query", "/api/v1/series"};

size_t
http_prom_covered_bytes(void)
{
	size_t i, n = 0;

	for (i = 0; i < sizeof(prom_metrics) / sizeof(prom_metrics[0]); i++)
		n += sizeof(uint64_t);
	return n + sizeof(stats.http_query_bucket) +
	       sizeof(stats.http_query_count) +
	       sizeof(stats.http_query_ns_total) + sizeof(stats.loop);
}

static void
family(struct wbuf *w, const char *name, const char *type, const char *help)
{
	wbuf_printf(w, "# HELP finnstream_%s %s\n# TYPE finnstream_%s %s\n",
	    name, help, name, type);
}

/* A label value: backslash, quote and newline escaped. */
static void
label_value(struct wbuf *w, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			wbuf_u8(w, '\\');
		if (*s == '\n') {
			wbuf_put(w, "\\n", 2);
			continue;
		}
		wbuf_u8(w, (uint8_t)*s);
	}
}

/* The event loop's callbacks, per stage (server/stats.h). */
static void
loop_families(struct wbuf *w)
{
	static const struct {
		const char *name, *type, *help;
		size_t off;
		double scale;
	} f[] = {
	    {"loop_callbacks_total", "counter",
	        "Event loop callbacks run, by stage.",
	        offsetof(struct loop_timing, calls), 0},
	    {"loop_callbacks_over_100us_total", "counter",
	        "Event loop callbacks that ran longer than 100 us, by stage.",
	        offsetof(struct loop_timing, over_100us), 0},
	    {"loop_callbacks_over_1ms_total", "counter",
	        "Event loop callbacks that ran longer than 1 ms, by stage.",
	        offsetof(struct loop_timing, over_1ms), 0},
	    {"loop_busy_seconds_total", "counter",
	        "Time the event loop spent in a stage's callbacks.",
	        offsetof(struct loop_timing, ns_total), 1e-9},
	    {"loop_callback_max_seconds", "gauge",
	        "The longest event loop callback of a stage since start.",
	        offsetof(struct loop_timing, max_ns), 1e-9},
	};
	size_t i;
	int s;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		family(w, f[i].name, f[i].type, f[i].help);
		for (s = 0; s < LOOP_NWORK; s++) {
			uint64_t x;

			memcpy(&x, (const char *)&stats.loop[s] + f[i].off,
			    sizeof(x));
			wbuf_printf(w, "finnstream_%s{stage=\"%s\"} ",
			    f[i].name, loop_work_names[s]);
			if (f[i].scale != 0)
				wbuf_printf(
				    w, "%.9f\n", (double)x * f[i].scale);
			else
				wbuf_printf(w, "%llu\n", (unsigned long long)x);
		}
	}
}

int
http_prometheus(struct http_call *c)
{
	const struct config *cfg = http_config(c->hs);
	struct wbuf *w = c->w;
	struct http_view v;
	size_t i;
	int r, b;

	http_view(c->hs, &v);
	stats.memory_bytes = membudget_used(&membudget_global);
	for (i = 0; i < sizeof(prom_metrics) / sizeof(prom_metrics[0]); i++) {
		const struct prom_metric *m = &prom_metrics[i];
		uint64_t x;

		memcpy(&x, (const char *)&stats + m->off, sizeof(x));
		family(w, m->name, m->gauge ? "gauge" : "counter", m->help);
		if (m->scale != 0)
			wbuf_printf(w, "finnstream_%s %.6f\n", m->name,
			    (double)x * m->scale);
		else
			wbuf_printf(w, "finnstream_%s %llu\n", m->name,
			    (unsigned long long)x);
	}
	family(w, "memory_limit_bytes", "gauge",
	    "The max_memory budget (0: none).");
	wbuf_printf(w, "finnstream_memory_limit_bytes %lld\n",
	    (long long)cfg->max_memory);
	family(w, "agg_lag_records", "gauge",
	    "Records in the trades topic the aggregator has not read yet "
	    "(its consumer lag).");
	wbuf_printf(
	    w, "finnstream_agg_lag_records %lld\n", (long long)v.agg_lag);
	family(w, "consumer_group_lag_records", "gauge",
	    "Records between a consumer group's committed offset and the "
	    "log's end, per partition.");
	for (i = 0; i < v.nlags; i++) {
		wbuf_put(w, "finnstream_consumer_group_lag_records{group=\"",
		    sizeof("finnstream_consumer_group_lag_records{group=\"") -
		        1);
		label_value(w, v.lags[i].group);
		JSONW_LIT(w, "\",topic=\"");
		label_value(w, v.lags[i].topic);
		wbuf_printf(w, "\",partition=\"%d\"} %lld\n",
		    (int)v.lags[i].partition, (long long)v.lags[i].lag);
	}
	family(w, "feed_up", "gauge",
	    "1 while the feed delivers (connected, generating or replaying), "
	    "else 0.");
	wbuf_printf(w, "finnstream_feed_up %d\n",
	    v.feed != NULL && (strcmp(v.feed, "connected") == 0 ||
	                          strcmp(v.feed, "generating") == 0 ||
	                          strcmp(v.feed, "replaying") == 0));
	family(w, "store_up", "gauge",
	    "1 while the store writes normally, else 0 (retrying or failed).");
	wbuf_printf(w, "finnstream_store_up %d\n",
	    v.store != NULL && strcmp(v.store, "ok") == 0);
	family(w, "build_info", "gauge", "The daemon's version, as a label.");
	wbuf_printf(
	    w, "finnstream_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
	family(w, "http_query_duration_seconds", "histogram",
	    "Time to answer a data query (decode, scans, JSON), by route.");
	for (r = 0; r < STATS_QUERY_ROUTES; r++) {
		uint64_t cum = 0;

		for (b = 0; b < HTTP_LATENCY_BUCKETS; b++) {
			cum += stats.http_query_bucket[r][b];
			wbuf_printf(w,
			    "finnstream_http_query_duration_seconds_bucket{"
			    "route=\"%s\",le=\"%g\"} %llu\n",
			    query_routes[r], http_latency_bounds[b],
			    (unsigned long long)cum);
		}
		wbuf_printf(w,
		    "finnstream_http_query_duration_seconds_bucket{route=\"%s\","
		    "le=\"+Inf\"} %llu\n",
		    query_routes[r],
		    (unsigned long long)stats.http_query_count[r]);
		wbuf_printf(w,
		    "finnstream_http_query_duration_seconds_sum{route=\"%s\"} "
		    "%.9f\n",
		    query_routes[r],
		    (double)stats.http_query_ns_total[r] / 1e9);
		wbuf_printf(w,
		    "finnstream_http_query_duration_seconds_count{route=\"%s\"} "
		    "%llu\n",
		    query_routes[r],
		    (unsigned long long)stats.http_query_count[r]);
	}
	loop_families(w);
	c->content_type = "text/plain; version=0.0.4; charset=utf-8";
	return 200;
}

static void
kv_str(struct wbuf *w, const char *k, const char *v, int comma)
{
	if (comma)
		JSONW_LIT(w, ",");
	jsonw_cstr(w, k);
	JSONW_LIT(w, ":");
	if (v != NULL)
		jsonw_cstr(w, v);
	else
		JSONW_LIT(w, "null");
}

static void
kv_int(struct wbuf *w, const char *k, int64_t v)
{
	JSONW_LIT(w, ",");
	jsonw_cstr(w, k);
	JSONW_LIT(w, ":");
	jsonw_i64(w, v);
}

int
http_healthz(struct http_call *c)
{
	struct wbuf *w = c->w;
	struct http_view v;
	int degraded;

	http_view(c->hs, &v);
	/* The daemon serves as long as it answers: a reconnecting feed or
	 * a store that retries is shown, not turned into an error. */
	degraded = v.store == NULL || strcmp(v.store, "ok") != 0;
	JSONW_LIT(w, "{");
	kv_str(w, "status", degraded ? "degraded" : "ok", 0);
	kv_int(w, "time_ms", c->now_ms);
	JSONW_LIT(w, ",\"stages\":{\"feed\":{");
	kv_str(w, "state", v.feed, 0);
	kv_str(w, "kind", v.feed_kind, 1);
	kv_int(w, "trades", (int64_t)stats.feed_trades_total);
	kv_int(w, "reconnects", (int64_t)stats.feed_reconnects_total);
	JSONW_LIT(w, "},\"log\":{");
	kv_str(w, "state", v.log, 0);
	kv_int(w, "bytes", (int64_t)stats.seglog_bytes);
	kv_int(w, "records", (int64_t)stats.seglog_records_total);
	JSONW_LIT(w, "},\"kafka\":{");
	kv_str(w, "state", v.kafka, 0);
	kv_int(w, "connections", (int64_t)stats.kafka_connections);
	JSONW_LIT(w, "},\"aggregator\":{");
	kv_str(w, "state", v.aggregator, 0);
	kv_int(w, "lag_records", v.agg_lag);
	kv_int(w, "invalid_records", (int64_t)stats.agg_invalid_records_total);
	JSONW_LIT(w, "},\"store\":{");
	kv_str(w, "state", v.store, 0);
	kv_int(w, "trades", (int64_t)stats.store_trades_total);
	kv_int(w, "bytes", (int64_t)stats.store_bytes);
	kv_int(w, "chunks_in_memory", (int64_t)stats.store_chunks);
	kv_int(w, "write_errors", (int64_t)stats.store_write_errors_total);
	JSONW_LIT(w, "},\"http\":{");
	kv_str(w, "state", "listening", 0);
	kv_int(w, "connections", (int64_t)http_connections(c->hs));
	JSONW_LIT(w, "}},");
	jsonw_cstr(w, "memory_bytes");
	JSONW_LIT(w, ":");
	jsonw_i64(w, (int64_t)membudget_used(&membudget_global));
	JSONW_LIT(w, "}\n");
	return 200;
}
