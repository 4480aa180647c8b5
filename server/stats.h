/*
 * stats.h: counters and gauges the daemon keeps, exported by GET
 * /metrics (server/http/http_metrics.c) and partly by the shutdown log
 * line.
 *
 * All counters are plain uint64_t owned by the event-loop thread; nothing
 * here locks.  A field's name is its Prometheus name without the
 * finnstream_ prefix, with two renamings for users: the partitioned log
 * (seglog_*) is finnstream_log_*, and times kept in microseconds
 * (*_us_total) are exported in seconds (*_seconds_total).  Counters end
 * in _total; every field is exported (http_metrics.c's table lists them,
 * and its unit test checks that none is missing).
 */
#ifndef SERVER_STATS_H
#define SERVER_STATS_H

#include <stdint.h>

#include "base/clock.h"

/*
 * What holds the event loop: every callback of a stage is timed
 * (stats_loop_begin/stats_loop_end), so a stall shows which stage it was
 * in.  Exported as finnstream_loop_callbacks_total{stage}, the counts over
 * 100 us and 1 ms, and the longest.
 */
enum loop_work {
	LOOP_FEED,
	LOOP_KAFKA,
	LOOP_AGG,
	LOOP_STORE,
	LOOP_HTTP,
	LOOP_HOUSEKEEPING,
	LOOP_NWORK
};

struct loop_timing {
	uint64_t calls;
	uint64_t over_100us;
	uint64_t over_1ms;
	uint64_t ns_total;
	uint64_t max_ns;
};

/* The query latency histogram: routes and buckets (bounds in
 * server/http/http_server.c). */
#define STATS_QUERY_GRAFANA   0 /* POST /grafana/query */
#define STATS_QUERY_SERIES    1 /* GET /api/v1/series */
#define STATS_QUERY_ROUTES    2
#define STATS_LATENCY_BUCKETS 14

struct stats {
	/* (1) feed */
	uint64_t feed_frames_total;
	uint64_t feed_trades_total;
	uint64_t feed_pings_total;
	uint64_t feed_errors_total;     /* Finnhub "error" messages */
	uint64_t feed_bad_frames_total; /* malformed JSON / not Finnhub */
	uint64_t feed_bad_trades_total; /* trades skipped as invalid */
	uint64_t feed_connects_total;
	uint64_t feed_reconnects_total;
	uint64_t feed_stalls_total;
	uint64_t feed_ws_errors_total; /* bad websocket frames, TLS... */
	uint64_t feed_bytes_total;
	/* (2) the partitioned log (seglog) and the Kafka listener */
	uint64_t seglog_appends_total;
	uint64_t seglog_records_total;
	uint64_t seglog_bytes_total;
	uint64_t seglog_expired_bytes_total;
	uint64_t seglog_evicted_bytes_total; /* by max_memory */
	uint64_t seglog_evicted_segments_total;
	uint64_t kafka_connections_total;
	uint64_t kafka_requests_total;
	uint64_t kafka_bad_requests_total; /* malformed/oversized/unknown */
	uint64_t kafka_produce_records_total;
	uint64_t kafka_fetch_bytes_total;
	uint64_t kafka_conn_closed_errors_total;
	uint64_t kafka_conn_closed_memory_total; /* a request past the budget */
	uint64_t kafka_conn_closed_idle_total;
	uint64_t kafka_conn_refused_total; /* accepts held at the cap */
	uint64_t seglog_lease_waits_total; /* appends that waited for a lease */
	/* (3) the aggregator */
	uint64_t agg_records_total;         /* records read from the topic */
	uint64_t agg_invalid_records_total; /* not valid trades: skipped */
	uint64_t agg_lost_offsets_total;    /* offsets the log no longer held */
	uint64_t agg_pauses_total;          /* stops for the memory budget */
	/* (4) the store (trades and bars: totals since it was created) */
	uint64_t store_trades_total;
	uint64_t store_bars_total; /* bar rows written by flushes */
	uint64_t store_commits_total;
	uint64_t store_flushes_total;
	uint64_t store_flush_us_total; /* writer-thread time in flushes */
	uint64_t store_compactions_total;
	uint64_t store_compact_us_total;
	uint64_t store_write_errors_total;
	uint64_t store_bytes_written_total;
	uint64_t store_retirements_total;
	/* (5) HTTP */
	uint64_t http_connections_total;
	uint64_t http_requests_total;
	uint64_t http_queries_total; /* /grafana/query and /api/v1/series */
	uint64_t http_responses_2xx_total;
	uint64_t http_responses_4xx_total;
	uint64_t http_responses_5xx_total;
	uint64_t http_response_bytes_total;
	uint64_t http_unauthorized_total;     /* no or a wrong bearer token */
	uint64_t http_gate_refused_total;     /* answered by the gate */
	uint64_t http_bodies_refused_total;   /* over the limit or budget */
	uint64_t http_conn_closed_slow_total; /* not whole in time */
	uint64_t http_conn_closed_idle_total; /* closed to make room */
	uint64_t http_accept_pauses_total;    /* at the cap, none idle */
	/* per route: buckets (not cumulative), count, sum */
	uint64_t http_query_bucket[STATS_QUERY_ROUTES][STATS_LATENCY_BUCKETS];
	uint64_t http_query_count[STATS_QUERY_ROUTES];
	uint64_t http_query_ns_total[STATS_QUERY_ROUTES];
	/* the event loop, per stage (enum loop_work) */
	struct loop_timing loop[LOOP_NWORK];
	/* gauges */
	uint64_t memory_bytes; /* charged to max_memory */
	uint64_t seglog_bytes;
	uint64_t kafka_connections;
	uint64_t store_bytes;  /* committed bytes on disk */
	uint64_t store_chunks; /* sealed chunks in memory */
	uint64_t http_connections;
};

extern struct stats stats;

/* Names of enum loop_work, for logs and metrics. */
extern const char *const loop_work_names[LOOP_NWORK];

static inline int64_t
stats_loop_begin(void)
{
	return clock_mono_ns();
}

static inline void
stats_loop_end(int work, int64_t t0)
{
	struct loop_timing *l = &stats.loop[work];
	uint64_t ns = (uint64_t)(clock_mono_ns() - t0);

	l->calls++;
	l->ns_total += ns;
	if (ns > l->max_ns)
		l->max_ns = ns;
	if (ns > 100000) {
		l->over_100us++;
		if (ns > 1000000)
			l->over_1ms++;
	}
}

#endif
