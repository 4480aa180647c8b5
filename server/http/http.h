/*
 * http.h: (5) the HTTP stage: evhttp on http_listen serving the store
 * to Grafana and to plain HTTP clients.
 *
 *	/grafana, /grafana/          GET: 200 (the plugin's "Save & test")
 *	/grafana/metrics, /search    POST: the metrics, as MetricConfig
 *	/grafana/metric-payload-options, /query, /variable, /tag-keys,
 *	/tag-values                  POST: the simpod-json-datasource
 *	                             contract (proto/grafana_req.h)
 *	/api/v1/series               GET: the same data as plain JSON columns
 *	/metrics                     GET: every counter, Prometheus text
 *	/healthz                     GET: 200 and each stage's state (JSON)
 *
 * Every answer is JSON (or Prometheus text), errors included:
 * {"error":{"code":"bad_request","message":"..."},"message":"..."}.
 * Queries read the store through its scan API (storage/colstore.h),
 * which merges the flushed files, the chunks not yet compacted and the
 * aggregator's open window: a chart is current to the last trade.
 *
 * The stage knows no other stage: pipeline.c hands it the colstore and
 * a view of the others' state (struct http_source).
 *
 * Configuration, held by reference for the server's life (the keys
 * change on restart only): http_listen, http_auth_token (every route
 * but /healthz then needs "Authorization: Bearer <token>", compared in
 * constant time, never logged), http_max_body_bytes (a larger
 * Content-Length is refused from the head, before any of the body is
 * read), http_max_connections, http_timeout_ms, max_memory.
 *
 * All on the event-loop thread.
 */
#ifndef SERVER_HTTP_HTTP_H
#define SERVER_HTTP_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "server/config.h"

struct colstore;
struct event_base;
struct http_server;

/* One consumer's lag on one partition (for /metrics). */
struct http_lag {
	const char *group; /* a consumer group's id */
	const char *topic;
	int32_t partition;
	int64_t lag; /* records: the log's end minus the committed offset */
};

/* The rest of the daemon as /healthz and /metrics show it; filled by
 * the source on each request, valid until the next call. */
struct http_view {
	const char *feed;       /* the feed's state ("connected", ...) */
	const char *feed_kind;  /* "finnhub", "sim", "replay" */
	const char *log;        /* "ok" */
	const char *kafka;      /* "listening" or "stopped" */
	const char *aggregator; /* "running" or "paused" (memory) */
	int64_t agg_lag;        /* records the aggregator has not read */
	const char *store;      /* "ok", "retrying" or "failed" */
	size_t nlags;
	const struct http_lag *lags; /* consumer groups' committed lag */
};

/* What pipeline.c lends the stage. */
struct http_source {
	/* The store's reader; NULL while there is none. */
	struct colstore *(*colstore)(void *arg);
	void (*view)(void *arg, struct http_view *out);
	void *arg;
};

/*
 * A server for cfg (see above) reading through src (copied; its arg
 * must outlive the server).  Nothing is bound until http_server_listen.
 * Never fails (small allocations).
 */
struct http_server *http_server_new(struct event_base *base,
    const struct config *cfg, const struct http_source *src);

/*
 * Bind and listen on http_listen; logs "http: listening on HOST:PORT".
 * Returns 0, ERR_CONFIG for an address that does not parse or resolve,
 * or -errno from bind/listen.
 */
int http_server_listen(struct http_server *hs);

/* The bound port (0 before http_server_listen). */
int http_server_port(const struct http_server *hs);

/* Accept no new connection; open ones are served until they close. */
void http_server_stop_accepting(struct http_server *hs);

/* Close every connection and the listener; frees hs.  NULL: no-op. */
void http_server_free(struct http_server *hs);

#endif
