/*
 * http_int.h: (5) what the HTTP stage's files share: the gate in front
 * of evhttp (http_gate.c), a request being answered (struct http_call)
 * and the route handlers (http_grafana.c, http_series.c,
 * http_metrics.c), the query engine (http_query.c).
 */
#ifndef SERVER_HTTP_HTTP_INT_H
#define SERVER_HTTP_HTTP_INT_H

#include <stddef.h>
#include <stdint.h>

#include "proto/arena.h"
#include "proto/grafana_req.h"
#include "proto/wbuf.h"
#include "server/config.h"
#include "server/http/http.h"
#include "server/stats.h"
#include "storage/colstore.h"

struct bufferevent;
struct event_base;
struct evconnlistener;
struct evhttp_request;

#define HTTP_SERVER_MAGIC 0x68747470u
#define HTTP_GATE_MAGIC   0x68676174u
#define HTTP_CONN_MAGIC   0x68636f6eu

/* A request line and its headers. */
#define HTTP_MAX_HEAD ((size_t)16 << 10)
/* Largest answer built (a chart of every symbol at maxDataPoints). */
#define HTTP_MAX_RESPONSE ((size_t)64 << 20)
/* Decoded request (symbol lists) per request. */
#define HTTP_ARENA_CAP ((size_t)4 << 20)
/* Response bytes queued on a socket before evhttp waits for it. */
#define HTTP_CONN_MAX_OUTPUT ((size_t)4 << 20)
/* A refused request's connection is closed this long after the answer
 * was written, whatever the client still sends. */
#define HTTP_LINGER_MS 2000
/* Buckets (symbols x points) of an answer that needs every symbol's
 * scan at once (/api/v1/series, OHLC tables): at most this many. */
#define HTTP_MAX_CELLS ((size_t)1 << 20)
/* A target's scan is kept whole for the next target up to this many
 * buckets; beyond, it is scanned and written a group at a time. */
#define HTTP_KEEP_BUCKETS ((size_t)256 << 10)
/* Symbols per store call, and about the buckets a call may hold. */
#define HTTP_GROUP_SYMBOLS 64
#define HTTP_GROUP_BUCKETS ((int64_t)256 << 10)

/* ------------------------------------------------------------------ */
/* The gate (http_gate.c)
 *
 * A bufferevent filter between each socket and evhttp (evhttp_set_bevcb):
 * it scans every request head (proto/http_head.h) before evhttp sees it
 * and answers what it refuses itself, in JSON:
 *
 *	400  a head that does not follow the rules (or that evhttp could
 *	     read differently)          431  a head over HTTP_MAX_HEAD
 *	411  a chunked body (Content-Length is required)
 *	413  Content-Length over http_max_body_bytes (before any of the
 *	     body is read)              417  an unknown Expect
 *	501  an unknown method or an HTTP version other than 1.0/1.1
 *	503  a body the memory budget cannot hold
 *	408  a request not whole within http_timeout_ms
 *
 * then closes that connection.  A request it lets through has its body
 * charged to max_memory (released when the handler is done), and its
 * head and body pass to evhttp unchanged.
 *
 * Invariants:
 *  1. Bytes reach evhttp only as whole heads the scanner accepted,
 *     followed by exactly Content-Length body bytes: the gate and evhttp
 *     always agree where a request ends.
 *  2. The gate writes to a socket only while evhttp has nothing
 *     unanswered on it (else it closes without an answer), so answers
 *     never interleave.
 *  3. At most http_max_connections are open: a new one closes the
 *     longest-idle connection, or accepting pauses until one closes.
 */
struct http_gate;

struct http_gate *http_gate_new(
    struct event_base *base, const struct config *cfg);

/* The listener to pause at the connection cap (NULL: none). */
void http_gate_set_listener(struct http_gate *g, struct evconnlistener *lis);

/* evhttp_set_bevcb's callback (arg: the gate). */
struct bufferevent *http_gate_bevcb(struct event_base *base, void *arg);

/* A request evhttp read whole was answered: its body's charge goes. */
void http_gate_request_done(
    struct http_gate *g, struct evhttp_request *req, size_t body_len);

/* Connections open. */
size_t http_gate_connections(const struct http_gate *g);

/* After evhttp_free: connections still being finalised by libevent
 * forget the gate.  NULL: no-op. */
void http_gate_free(struct http_gate *g);

/* ------------------------------------------------------------------ */
/* Requests and routes (http_server.c) */

struct http_server;

/* A request being answered: the handler writes its JSON body to w. */
struct http_call {
	struct http_server *hs;
	struct evhttp_request *req;
	const uint8_t *body; /* the request body (may be empty) */
	size_t body_len;
	const char *query; /* the URI's query string, or NULL */
	int64_t now_ms;    /* wall clock at arrival */
	struct arena *arena;
	struct wbuf *w;
	const char *content_type;  /* of the answer: JSON unless set */
	const char *cache_control; /* NULL: no-store */
	const char *path;          /* the request's path (not decoded) */
};

/* A route handler: writes the body and returns the HTTP status. */
typedef int (*http_handler_fn)(struct http_call *c);

/*
 * An error answer: w is reset to {"error":{"code":CODE,"message":...},
 * "message":...} (the plugin shows error.message; Grafana's panels show
 * message).  Returns status, so a handler can `return http_error(...)`.
 */
int http_error(struct http_call *c, int status, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The same for a decoder's refusal (rc from proto/grafana_req.h). */
int http_decode_error(struct http_call *c, int rc, const struct gf_err *e);

/* The colstore (NULL: answered 503 by the caller) and the view. */
struct colstore *http_colstore(struct http_server *hs);
void http_view(struct http_server *hs, struct http_view *v);
const struct config *http_config(const struct http_server *hs);
size_t http_connections(const struct http_server *hs);

/* The query latency histogram's bounds, in seconds. */
#define HTTP_LATENCY_BUCKETS STATS_LATENCY_BUCKETS
extern const double http_latency_bounds[HTTP_LATENCY_BUCKETS];

/* Bytes of struct stats the /metrics table exports (its unit test
 * compares this with sizeof(struct stats): a new counter must be added
 * there too). */
size_t http_prom_covered_bytes(void);

/* ------------------------------------------------------------------ */
/* Handlers */

int http_grafana_root(struct http_call *c);
int http_grafana_metrics(struct http_call *c);
int http_grafana_payload_options(struct http_call *c);
int http_grafana_query(struct http_call *c);
int http_grafana_variable(struct http_call *c);
int http_grafana_tag_keys(struct http_call *c);
int http_grafana_tag_values(struct http_call *c);
int http_series(struct http_call *c);
int http_prometheus(struct http_call *c);
int http_healthz(struct http_call *c);
int http_static_page(struct http_call *c);
int http_static_ui(struct http_call *c);
int http_static_vendor(struct http_call *c);

/* ------------------------------------------------------------------ */
/* The query engine (http_query.c) */

/*
 * The bucket for a chart of [from, to) in at most max_points points,
 * at least interval_ms wide: below 1 s any whole number of ms (the
 * answer is built from raw trades), then whole seconds below a minute,
 * whole minutes below an hour, whole hours beyond (so the store reads a
 * pre-rolled level), the smallest of them such that the buckets aligned
 * to the epoch that [from, to) touches are at most max_points.
 */
int64_t http_pick_bucket(
    int64_t from, int64_t to, int64_t interval_ms, int64_t max_points);

/* Aggregated buckets of one symbol (as colstore's bars). */
struct http_buckets {
	size_t n, cap;
	int64_t *t;
	double *open, *high, *low, *close, *volume, *pv;
	uint64_t *count;
};

void http_buckets_fini(struct http_buckets *b);

/*
 * Trades t[i], price[i], volume[i] (sorted by t, ties in arrival order)
 * aggregated into buckets of size ms aligned to the epoch: open the
 * first, close the last, volume and pv summed, count.  Empty buckets
 * are left out.  b is reset first.
 */
void http_buckets_from_trades(struct http_buckets *b, const int64_t *t,
    const double *price, const double *volume, size_t n, int64_t size);

/*
 * The symbols a target asks for, narrowed by the request's filters,
 * into *out (arena): every known symbol when the target names none.
 * 0, or a 4xx status with the error written (a bad regex).
 */
int http_resolve_symbols(struct http_call *c, struct colstore *cs,
    const struct gf_symbols *want, const struct gf_filter *filters,
    size_t nfilters, const char ***out, size_t *nout, int *all);

/*
 * Answer a /grafana/query (q decoded): the top-level array of items,
 * one per (target, symbol) for series, one per target for tables.
 * Returns the HTTP status.
 */
int http_query_grafana(struct http_call *c, const struct gf_query *q);

/* Answer a /api/v1/series (q decoded, one target). */
int http_query_series(struct http_call *c, const struct gf_query *q);

#endif
