/*
 * http_server.c: (5) the HTTP stage: evhttp behind the gate, the route
 * table, bearer-token auth, JSON errors, answers handed to evhttp by
 * reference and charged to max_memory, the query latency histogram.
 *
 *	accept --> gate (http_gate.c: head scanned, body limit, deadline)
 *	       --> evhttp (parses, reads the body)
 *	       --> on_request: route (path, then method), auth, handler
 *	           (writes JSON into a wbuf), answer by reference
 *
 * Invariants:
 *  1. Every answer is JSON (Prometheus text for /metrics), errors
 *     included, and every request evhttp hands over is answered before
 *     on_request returns: nothing is kept across loop turns.
 *  2. An answer's bytes are charged to max_memory until written; one
 *     the budget cannot hold is answered 503 instead.
 *  3. The bearer token is compared as SHA-256 digests with
 *     CRYPTO_memcmp (no early exit, no length leak) and never logged.
 */
#include <config.h>

#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/util.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "base/assert.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/membudget.h"
#include "base/xmalloc.h"
#include "proto/arena.h"
#include "proto/jsonw.h"
#include "proto/wbuf.h"
#include "server/config.h"
#include "server/http/http.h"
#include "server/http/http_int.h"
#include "server/listen.h"
#include "server/log.h"
#include "server/stats.h"

#define R_AUTH  0x1 /* needs the bearer token when one is configured */
#define R_QUERY 0x2 /* counted in the query latency histogram */
#define R_TREE  0x4 /* path is a folder: serves every path under it */

struct http_route {
	int method; /* enum evhttp_cmd_type; GET routes also answer HEAD */
	const char *path;
	http_handler_fn fn;
	int flags;
	int query; /* index into the histogram (R_QUERY) */
};

/* Every route (DESIGN.md (5)); /search is /metrics for plugin versions
 * before 0.6. */
static const struct http_route routes[] = {
    {EVHTTP_REQ_GET, "/grafana", http_grafana_root, R_AUTH, 0},
    {EVHTTP_REQ_GET, "/grafana/", http_grafana_root, R_AUTH, 0},
    {EVHTTP_REQ_POST, "/grafana/metrics", http_grafana_metrics, R_AUTH, 0},
    {EVHTTP_REQ_POST, "/grafana/search", http_grafana_metrics, R_AUTH, 0},
    {EVHTTP_REQ_POST, "/grafana/metric-payload-options",
        http_grafana_payload_options, R_AUTH, 0},
    {EVHTTP_REQ_POST, "/grafana/query", http_grafana_query, R_AUTH | R_QUERY,
        STATS_QUERY_GRAFANA},
    {EVHTTP_REQ_POST, "/grafana/variable", http_grafana_variable, R_AUTH, 0},
    {EVHTTP_REQ_POST, "/grafana/tag-keys", http_grafana_tag_keys, R_AUTH, 0},
    {EVHTTP_REQ_POST, "/grafana/tag-values", http_grafana_tag_values, R_AUTH,
        0},
    {EVHTTP_REQ_GET, "/api/v1/series", http_series, R_AUTH | R_QUERY,
        STATS_QUERY_SERIES},
    {EVHTTP_REQ_GET, "/metrics", http_prometheus, R_AUTH, 0},
    {EVHTTP_REQ_GET, "/healthz", http_healthz, 0, 0},
    /* the chart page (http_static.c): no token, it holds no data */
    {EVHTTP_REQ_GET, "/", http_static_page, 0, 0},
    {EVHTTP_REQ_GET, "/ui/", http_static_ui, R_TREE, 0},
    {EVHTTP_REQ_GET, "/vendor/uplot/", http_static_vendor, R_TREE, 0},
};

/* Upper bounds of the query latency histogram, seconds. */
const double http_latency_bounds[HTTP_LATENCY_BUCKETS] = {0.0001, 0.00025,
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};

struct http_server {
	unsigned magic;
	struct event_base *base;
	const struct config *cfg;
	struct http_source src;
	struct evhttp *http;
	struct evhttp_bound_socket *bound;
	struct http_gate *gate;
	struct arena arena;
	int port;
	int has_token;
	unsigned char token_digest[32];
};

struct colstore *
http_colstore(struct http_server *hs)
{
	return hs->src.colstore != NULL ? hs->src.colstore(hs->src.arg) : NULL;
}

void
http_view(struct http_server *hs, struct http_view *v)
{
	memset(v, 0, sizeof(*v));
	if (hs->src.view != NULL)
		hs->src.view(hs->src.arg, v);
}

const struct config *
http_config(const struct http_server *hs)
{
	return hs->cfg;
}

size_t
http_connections(const struct http_server *hs)
{
	return http_gate_connections(hs->gate);
}

int
http_error(
    struct http_call *c, int status, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	wbuf_reset(c->w);
	c->content_type = NULL;
	JSONW_LIT(c->w, "{\"error\":{\"code\":");
	jsonw_cstr(c->w, code);
	JSONW_LIT(c->w, ",\"message\":");
	jsonw_cstr(c->w, msg);
	JSONW_LIT(c->w, "},\"message\":");
	jsonw_cstr(c->w, msg);
	JSONW_LIT(c->w, "}\n");
	return status;
}

int
http_decode_error(struct http_call *c, int rc, const struct gf_err *e)
{
	switch (rc) {
	case ERR_MALFORMED:
		return http_error(c, 400, "bad_request", "%s", e->msg);
	case ERR_RANGE:
		return http_error(c, 400, "out_of_range", "%s", e->msg);
	case ERR_TOO_BIG:
		return http_error(c, 400, "too_large", "%s", e->msg);
	case ERR_NOTFOUND:
		return http_error(c, 400, "unknown_metric", "%s", e->msg);
	default:
		return http_error(c, 500, "internal", "%s", err_str(rc));
	}
}

static const char *
reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 304:
		return "Not Modified";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	default:
		return "Error";
	}
}

/*
 * Answer buffers.  An answer of a chart is often hundreds of kB: a fresh
 * buffer of that size is mapped and page-faulted in by every request (the
 * daemon maps blocks of 128 kB and more on their own; see main.c), which
 * costs more than writing the JSON.  So buffers come back to a small
 * pool once written, and stay charged to max_memory while they wait
 * there.  One pool per process: libevent may free a written answer after
 * the server is gone (the pool is closed then, and frees).
 */
#define POOL_BUFS     4
#define POOL_MAX_CAP  ((size_t)8 << 20)
#define POOL_INFLIGHT 64

struct answer_buf {
	uint8_t *p;
	size_t cap;
};

static struct {
	int open;
	size_t nfree, ninflight;
	struct answer_buf free[POOL_BUFS];
	struct answer_buf inflight[POOL_INFLIGHT]; /* capacities in flight */
} pool;

/* A buffer for an answer: a pooled one, or none (wbuf allocates). */
static void
pool_take(struct wbuf *w)
{
	struct answer_buf b;

	if (!pool.open || pool.nfree == 0)
		return;
	b = pool.free[--pool.nfree];
	membudget_release(&membudget_global, b.cap);
	w->buf = b.p;
	w->cap = b.cap;
	w->len = 0;
}

static void
pool_inflight(uint8_t *p, size_t cap)
{
	if (pool.open && pool.ninflight < POOL_INFLIGHT) {
		pool.inflight[pool.ninflight].p = p;
		pool.inflight[pool.ninflight].cap = cap;
		pool.ninflight++;
	}
}

/* The answer's bytes were written (or dropped): their charge goes, the
 * buffer back to the pool or freed. */
static void
free_answer(const void *data, size_t len, void *extra)
{
	uint8_t *p = (uint8_t *)(uintptr_t)data;
	size_t i, cap = 0;

	(void)extra;
	membudget_release(&membudget_global, len);
	for (i = 0; i < pool.ninflight; i++)
		if (pool.inflight[i].p == p) {
			cap = pool.inflight[i].cap;
			pool.inflight[i] = pool.inflight[--pool.ninflight];
			break;
		}
	/* Pooled only while the budget has room for it: an idle buffer
	 * must never make the log give up data. */
	if (pool.open && cap > 0 && cap <= POOL_MAX_CAP &&
	    pool.nfree < POOL_BUFS &&
	    membudget_charge(&membudget_global, cap) == 0) {
		pool.free[pool.nfree].p = p;
		pool.free[pool.nfree].cap = cap;
		pool.nfree++;
		return;
	}
	free(p);
}

static void
pool_close(void)
{
	while (pool.nfree > 0) {
		pool.nfree--;
		membudget_release(&membudget_global, pool.free[pool.nfree].cap);
		free(pool.free[pool.nfree].p);
	}
	pool.ninflight = 0;
	pool.open = 0;
}

/* Invariant 3. */
static int
authorized(struct http_server *hs, struct evhttp_request *req)
{
	const char *h = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Authorization");
	unsigned char d[32];
	unsigned int dlen = 0;

	if (!hs->has_token)
		return 1;
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return 0;
	h += 7;
	while (*h == ' ')
		h++;
	if (EVP_Digest(h, strlen(h), d, &dlen, EVP_sha256(), NULL) != 1 ||
	    dlen != sizeof(d))
		return 0;
	return CRYPTO_memcmp(d, hs->token_digest, sizeof(d)) == 0;
}

static void
observe(int query, int64_t ns)
{
	double s = (double)ns / 1e9;
	int i;

	stats.http_query_count[query]++;
	stats.http_query_ns_total[query] += (uint64_t)ns;
	for (i = 0; i < HTTP_LATENCY_BUCKETS; i++)
		if (s <= http_latency_bounds[i]) {
			stats.http_query_bucket[query][i]++;
			break;
		}
}

/* Route, check, run the handler, answer (invariant 1). */
static void
on_request(struct evhttp_request *req, void *arg)
{
	struct http_server *hs = arg;
	const struct http_route *r = NULL;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	enum evhttp_cmd_type method = evhttp_request_get_command(req);
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	struct evkeyvalq *oh = evhttp_request_get_output_headers(req);
	struct evhttp_connection *evcon;
	struct bufferevent *bev;
	struct http_call c;
	struct wbuf w;
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	size_t i, body_len = evbuffer_get_length(in), n;
	int64_t t0 = clock_mono_ns();
	int status, path_known = 0, head = method == EVHTTP_REQ_HEAD;
	char allow[32] = "";

	CHECK_MAGIC(hs, HTTP_SERVER_MAGIC);
	wbuf_init(&w, HTTP_MAX_RESPONSE);
	pool_take(&w);
	memset(&c, 0, sizeof(c));
	c.hs = hs;
	c.req = req;
	c.w = &w;
	c.arena = &hs->arena;
	c.now_ms = clock_wall_ms();
	c.query = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
	if (path == NULL || path[0] == '\0')
		path = "/";
	c.path = path;
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if ((routes[i].flags & R_TREE)
		        ? strncmp(
		              routes[i].path, path, strlen(routes[i].path)) != 0
		        : strcmp(routes[i].path, path) != 0)
			continue;
		path_known = 1;
		snprintf(allow, sizeof(allow), "%s",
		    routes[i].method == EVHTTP_REQ_GET ? "GET, HEAD" : "POST");
		if (routes[i].method == (int)method ||
		    (head && routes[i].method == EVHTTP_REQ_GET)) {
			r = &routes[i];
			break;
		}
	}
	stats.http_requests_total++;
	if (r == NULL && path_known) {
		evhttp_add_header(oh, "Allow", allow);
		status = http_error(
		    &c, 405, "method_not_allowed", "%s serves %s", path, allow);
	} else if (r == NULL) {
		status = http_error(&c, 404, "not_found",
		    "no such route (GET /grafana, POST /grafana/query, GET "
		    "/api/v1/series, GET /metrics, GET /healthz, ...)");
	} else if ((r->flags & R_AUTH) && !authorized(hs, req)) {
		stats.http_unauthorized_total++;
		evhttp_add_header(
		    oh, "WWW-Authenticate", "Bearer realm=\"finnstream\"");
		status = http_error(&c, 401, "unauthorized",
		    "this route needs Authorization: Bearer <http_auth_token>");
	} else {
		c.body = body_len > 0 ? evbuffer_pullup(in, -1) : NULL;
		c.body_len = c.body != NULL ? body_len : 0;
		status = r->fn(&c);
		if (w.err == ERR_TOO_BIG)
			status = http_error(&c, 400, "too_large",
			    "the answer would exceed %zu MiB: ask for fewer "
			    "symbols, points or rows",
			    HTTP_MAX_RESPONSE >> 20);
		else if (w.err != 0)
			status = http_error(
			    &c, 503, "out_of_memory", "out of memory");
	}
	/* Invariant 2. */
	if (w.len > 0 &&
	    membudget_charge_reclaim(&membudget_global, w.len) != 0) {
		status = http_error(&c, 503, "out_of_memory",
		    "the memory budget (max_memory) cannot hold the answer "
		    "now; retry later");
		membudget_force(&membudget_global, w.len);
	}
	evhttp_add_header(oh, "Content-Type",
	    c.content_type != NULL ? c.content_type
	                           : "application/json; charset=utf-8");
	evhttp_add_header(oh, "Cache-Control",
	    c.cache_control != NULL ? c.cache_control : "no-store");
	evhttp_add_header(oh, "X-Content-Type-Options", "nosniff");
	n = w.len;
	if (head) { /* evhttp would send a body even to HEAD */
		char len[24];

		snprintf(len, sizeof(len), "%zu", n);
		evhttp_add_header(oh, "Content-Length", len);
		membudget_release(&membudget_global, n);
	} else if (n > 0) {
		size_t cap = w.cap;
		uint8_t *p = wbuf_detach(&w, &n);

		pool_inflight(p, cap);
		if (evbuffer_add_reference(
		        evhttp_request_get_output_buffer(req), p, n,
		        free_answer, NULL) != 0)
			free_answer(p, n, NULL);
	}
	wbuf_fini(&w);
	if (status >= 500)
		stats.http_responses_5xx_total++;
	else if (status >= 400)
		stats.http_responses_4xx_total++;
	else
		stats.http_responses_2xx_total++;
	stats.http_response_bytes_total += n;
	log_debug("http: %s %s %d (%zu bytes, %.2f ms)",
	    method == EVHTTP_REQ_GET    ? "GET"
	    : method == EVHTTP_REQ_POST ? "POST"
	    : head                      ? "HEAD"
	                                : "other",
	    path, status, n, (double)(clock_mono_ns() - t0) / 1e6);
	http_gate_request_done(hs->gate, req, body_len);
	evcon = evhttp_request_get_connection(req);
	bev = evcon != NULL ? evhttp_connection_get_bufferevent(evcon) : NULL;
	evhttp_send_reply(req, status, reason(status), NULL);
	/*
	 * evhttp queues the answer on the gate's filter before it enables
	 * writing, and libevent 2.1's filter does not look at queued
	 * output when writing is enabled: unless the socket happens to
	 * report writable again, the answer would wait.  Push it through.
	 * (This may finish the request and free req and, after a
	 * "Connection: close", the connection: neither is used after.)
	 */
	if (bev != NULL)
		bufferevent_flush(bev, EV_WRITE, BEV_NORMAL);
	if (r != NULL && (r->flags & R_QUERY))
		observe(r->query, clock_mono_ns() - t0);
	arena_reset(&hs->arena);
	stats_loop_end(LOOP_HTTP, t0);
}

struct http_server *
http_server_new(struct event_base *base, const struct config *cfg,
    const struct http_source *src)
{
	struct http_server *hs = xcalloc(1, sizeof(*hs));
	unsigned int dlen = 0;
	int64_t idle_ms;

	hs->magic = HTTP_SERVER_MAGIC;
	hs->base = base;
	hs->cfg = config_ref(cfg); /* its keys change on restart only */
	hs->src = *src;
	arena_init(&hs->arena, HTTP_ARENA_CAP);
	hs->gate = http_gate_new(base, cfg);
	pool.open = 1;
	if ((hs->http = evhttp_new(base)) == NULL)
		fatalx("http: out of memory");
	evhttp_set_bevcb(hs->http, http_gate_bevcb, hs->gate);
	/* The gate enforces these first (a JSON answer); evhttp's own
	 * limits stay as a second line. */
	evhttp_set_max_body_size(
	    hs->http, (ev_ssize_t)cfg->http_max_body_bytes);
	evhttp_set_max_headers_size(hs->http, (ev_ssize_t)HTTP_MAX_HEAD * 2);
	/* Idle keep-alive connections: evhttp's read timeout, longer than
	 * the gate's deadline for a request under way, so a slow request
	 * is answered 408 by the gate before evhttp would just close. */
	idle_ms = cfg->http_timeout_ms + 2 * HTTP_LINGER_MS;
	evhttp_set_timeout_tv(
	    hs->http, &(struct timeval){(time_t)(idle_ms / 1000),
	                  (suseconds_t)(idle_ms % 1000) * 1000});
	evhttp_set_allowed_methods(hs->http,
	    EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
	        EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
	        EVHTTP_REQ_PATCH | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT);
	evhttp_set_default_content_type(hs->http, "application/json");
	evhttp_set_gencb(hs->http, on_request, hs);
	if (cfg->http_auth_token != NULL && cfg->http_auth_token[0] != '\0') {
		hs->has_token = 1;
		if (EVP_Digest(cfg->http_auth_token,
		        strlen(cfg->http_auth_token), hs->token_digest, &dlen,
		        EVP_sha256(), NULL) != 1)
			fatalx("http: SHA-256 unavailable");
	}
	return hs;
}

int
http_server_listen(struct http_server *hs)
{
	struct evconnlistener *lis;
	char bound[LISTEN_ADDR_MAX];
	int rc;

	CHECK_MAGIC(hs, HTTP_SERVER_MAGIC);
	if ((rc = listen_bind(hs->base, "http", "http_listen",
	         hs->cfg->http_listen, NULL, NULL, &lis, bound, &hs->port)) !=
	    0)
		return rc;
	if ((hs->bound = evhttp_bind_listener(hs->http, lis)) == NULL) {
		evconnlistener_free(lis);
		log_err("http: cannot listen on %s: out of memory",
		    hs->cfg->http_listen);
		return ERR_NOMEM;
	}
	http_gate_set_listener(hs->gate, lis);
	log_info("http: listening on %s (Grafana: http://%s/grafana%s)", bound,
	    bound, hs->has_token ? ", bearer token required" : "");
	return 0;
}

int
http_server_port(const struct http_server *hs)
{
	return hs->port;
}

void
http_server_stop_accepting(struct http_server *hs)
{
	CHECK_MAGIC(hs, HTTP_SERVER_MAGIC);
	if (hs->bound != NULL) {
		http_gate_set_listener(hs->gate, NULL);
		evhttp_del_accept_socket(hs->http, hs->bound);
		hs->bound = NULL;
		log_info("http: no longer accepting connections");
	}
}

void
http_server_free(struct http_server *hs)
{
	if (hs == NULL)
		return;
	CHECK_MAGIC(hs, HTTP_SERVER_MAGIC);
	http_gate_set_listener(hs->gate, NULL);
	evhttp_free(hs->http); /* connections, then the bound socket */
	http_gate_free(hs->gate);
	pool_close();
	arena_fini(&hs->arena);
	OPENSSL_cleanse(hs->token_digest, sizeof(hs->token_digest));
	config_unref(hs->cfg);
	hs->magic = 0;
	free(hs);
}
