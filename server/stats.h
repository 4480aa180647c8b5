/*
 * stats.h: counters and gauges the daemon keeps for /metrics (the HTTP
 * stage); today only the shutdown log line reports a few of them.
 *
 * All counters are plain uint64_t owned by the event-loop thread; nothing
 * here locks.  Counter names are the Prometheus names without the
 * finnstream_ prefix; counters end in _total.
 */
#ifndef SERVER_STATS_H
#define SERVER_STATS_H

#include <stdint.h>

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
	/* gauges */
	uint64_t memory_bytes; /* charged to max_memory */
	uint64_t seglog_bytes;
	uint64_t kafka_connections;
};

extern struct stats stats;

#endif
