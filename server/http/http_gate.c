/*
 * http_gate.c: (5) the gate between each HTTP socket and evhttp: request
 * heads scanned first, bodies checked against http_max_body_bytes before
 * they are read, refusals answered in JSON, a deadline per request, the
 * connection cap (see http_int.h for the rules and invariants).
 *
 * Each connection is a bufferevent filter over the socket's bufferevent
 * (evhttp_set_bevcb), so evhttp reads only what the gate passes:
 *
 *	        first byte of a request: deadline armed
 *	               |
 *	    +------> HEAD --head scanned, no body--> (request passed) --+
 *	    |          |  \                                             |
 *	    |          |   head with Content-Length N > 0               |
 *	    |          |         v                                      |
 *	    |          |       BODY --N bytes passed--> (request passed)-+
 *	    |          |         |                                      |
 *	    +----------|---------|--------------------------------------+
 *	               | refused head, deadline passed
 *	               v
 *	           REFUSED: a JSON answer written (if evhttp owes none),
 *	               input discarded; the socket is shut for writing once
 *	               the answer is out and closed HTTP_LINGER_MS later
 *
 * The gate closes a connection by shutting its socket down: evhttp then
 * reads end-of-file and frees the connection itself (the gate never
 * holds evhttp's own connection object).
 */
#include <config.h>

#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "base/assert.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/membudget.h"
#include "base/xmalloc.h"
#include "proto/http_head.h"
#include "proto/jsonw.h"
#include "proto/wbuf.h"
#include "server/http/http_int.h"
#include "server/log.h"
#include "server/stats.h"

#define GATE_HASH 256

enum gate_state { GATE_HEAD, GATE_BODY, GATE_CLOSING };

struct gate_conn {
	unsigned magic;
	struct http_gate *g;       /* NULL once the gate is gone */
	struct bufferevent *bev;   /* the filter evhttp reads */
	struct bufferevent *under; /* the socket's */
	enum gate_state state;
	uint64_t body_left; /* body bytes of the request still to pass */
	size_t charged;     /* bodies passed, not yet answered */
	unsigned complete;  /* requests passed whole to evhttp */
	unsigned answered;  /* of them answered by the handlers */
	int64_t started_ms; /* a request under way since; 0: none */
	int64_t idle_since_ms;
	int closing;     /* shut down once the socket's output is out */
	int drain_cb;    /* on_output is on the socket's output */
	int close_after; /* the client asked to close after this answer */
	/* A refusal waiting for evhttp's last answer (invariant 2). */
	int pending_status;
	char pending_code[24];
	char pending_msg[200];
	int evicted;         /* shut down to make room: skip it */
	int nodelay;         /* TCP_NODELAY set on the socket */
	struct event *timer; /* the request's deadline, then the linger */
	struct gate_conn *next, *prev;
	struct gate_conn *hnext;
};

struct http_gate {
	unsigned magic;
	struct event_base *base;
	const struct config *cfg;
	struct evconnlistener *lis;
	int paused;
	size_t nconns;
	struct gate_conn *conns; /* newest first */
	struct gate_conn *hash[GATE_HASH];
	uint64_t in_bytes; /* bodies charged by every connection */
};

static size_t
hash_of(const struct bufferevent *bev)
{
	uintptr_t x = (uintptr_t)bev;

	return (size_t)((x >> 4) ^ (x >> 12)) % GATE_HASH;
}

static struct gate_conn *
conn_of(struct http_gate *g, const struct bufferevent *bev)
{
	struct gate_conn *c;

	for (c = g->hash[hash_of(bev)]; c != NULL; c = c->hnext)
		if (c->bev == bev)
			return c;
	return NULL;
}

static void
release(struct gate_conn *c, size_t n)
{
	if (n > c->charged)
		n = c->charged;
	c->charged -= n;
	membudget_release(&membudget_global, n);
	if (c->g != NULL)
		c->g->in_bytes -= n;
}

/* Shut the socket down: evhttp reads end-of-file and frees the
 * connection. */
static void
conn_shutdown(struct gate_conn *c, int how)
{
	evutil_socket_t fd = bufferevent_getfd(c->under);

	if (fd >= 0)
		(void)shutdown(fd, how);
}

static void
arm(struct gate_conn *c, int64_t ms)
{
	struct timeval tv = {
	    (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};

	evtimer_add(c->timer, &tv);
}

/* The last answer is out: shut the socket for writing (the client sees
 * the end of the answer) and close it HTTP_LINGER_MS later, whatever it
 * still sends. */
static void
on_output(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct gate_conn *c = arg;

	CHECK_MAGIC(c, HTTP_CONN_MAGIC);
	if (!c->closing || evbuffer_get_length(buf) > 0 || info->n_deleted == 0)
		return;
	c->closing = 0;
	conn_shutdown(c, SHUT_WR);
	evtimer_del(c->timer);
	arm(c, HTTP_LINGER_MS);
}

/* Close once what the socket's output holds is written (a client that
 * never reads is closed after http_timeout_ms and the linger). */
static void
close_when_written(struct gate_conn *c)
{
	c->state = GATE_CLOSING;
	c->closing = 1;
	if (!c->drain_cb) {
		c->drain_cb = 1;
		evbuffer_add_cb(bufferevent_get_output(c->under), on_output, c);
	}
	evtimer_del(c->timer);
	arm(c,
	    (c->g != NULL ? c->g->cfg->http_timeout_ms : 0) + HTTP_LINGER_MS);
}

static const char *
status_text(int status)
{
	switch (status) {
	case 400:
		return "Bad Request";
	case 408:
		return "Request Timeout";
	case 411:
		return "Length Required";
	case 413:
		return "Payload Too Large";
	case 417:
		return "Expectation Failed";
	case 431:
		return "Request Header Fields Too Large";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Error";
	}
}

/* Write a refusal to the socket, then close (see on_output). */
static void
send_refusal(struct gate_conn *c, struct evbuffer *out, int status,
    const char *code, const char *msg)
{
	struct wbuf body;
	char head[256];
	int n;

	wbuf_init(&body, 0);
	JSONW_LIT(&body, "{\"error\":{\"code\":");
	jsonw_cstr(&body, code);
	JSONW_LIT(&body, ",\"message\":");
	jsonw_cstr(&body, msg);
	JSONW_LIT(&body, "},\"message\":");
	jsonw_cstr(&body, msg);
	JSONW_LIT(&body, "}\n");
	n = snprintf(head, sizeof(head),
	    "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n",
	    status, status_text(status), body.len);
	if (body.err == 0 && n > 0 && (size_t)n < sizeof(head)) {
		evbuffer_add(out, head, (size_t)n);
		evbuffer_add(out, body.buf, body.len);
		close_when_written(c);
	} else {
		conn_shutdown(c, SHUT_RDWR);
	}
	wbuf_fini(&body);
}

/*
 * Refuse the request under way: answer it in JSON, at once when evhttp
 * owes no answer on this connection, else right after that answer
 * (invariant 2: gate_out writes it); then discard what follows and
 * close.  Caller: the input filter or the timer.
 */
static void
refuse(struct gate_conn *c, int status, const char *code, const char *msg)
{
	c->state = GATE_CLOSING;
	stats.http_requests_total++;
	if (status >= 500)
		stats.http_responses_5xx_total++;
	else
		stats.http_responses_4xx_total++;
	stats.http_gate_refused_total++;
	evtimer_del(c->timer);
	if (c->answered != c->complete ||
	    evbuffer_get_length(bufferevent_get_output(c->bev)) > 0) {
		c->pending_status = status;
		snprintf(c->pending_code, sizeof(c->pending_code), "%s", code);
		snprintf(c->pending_msg, sizeof(c->pending_msg), "%s", msg);
		/* evhttp answers within its own timeout, or never. */
		arm(c, (c->g != NULL ? c->g->cfg->http_timeout_ms : 0) +
		           2 * HTTP_LINGER_MS);
		return;
	}
	send_refusal(c, bufferevent_get_output(c->under), status, code, msg);
	bufferevent_enable(c->under, EV_WRITE);
}

/* What a refused head gets. */
static void
refuse_head(struct gate_conn *c, int rc, const struct http_head *h)
{
	char msg[200];

	switch (rc) {
	case ERR_TOO_BIG:
		snprintf(msg, sizeof(msg),
		    "the request line and headers exceed %zu bytes",
		    HTTP_MAX_HEAD);
		refuse(c, 431, "header_too_large", msg);
		return;
	case ERR_UNSUPPORTED:
		if (h->method == 0)
			refuse(c, 501, "not_implemented",
			    "unknown method or HTTP version (HTTP/1.0 and "
			    "HTTP/1.1 GET, POST, HEAD are served)");
		else
			refuse(c, 417, "expectation_failed",
			    "only Expect: 100-continue and Transfer-Encoding: "
			    "chunked are understood");
		return;
	default:
		refuse(
		    c, 400, "bad_request", "malformed request line or headers");
		return;
	}
}

/* A request passed to evhttp whole; after one that closes, nothing
 * more is passed. */
static void
request_passed(struct gate_conn *c)
{
	c->complete++;
	c->started_ms = 0;
	evtimer_del(c->timer);
	c->state = c->close_after ? GATE_CLOSING : GATE_HEAD;
}

/*
 * An absolute-form target ("GET http://host/path"): evhttp takes it for
 * a proxy request, and closes after the answer, before it is written.
 * It goes on in origin-form ("GET /path"), as RFC 9112 has servers read
 * it anyway.
 */
static void
pass_origin_form(struct evbuffer *src, struct evbuffer *dst, const uint8_t *p,
    size_t len, const struct http_head *h)
{
	const uint8_t *t = h->target, *te = h->target + h->target_len;
	const uint8_t *path = t, *rest = te;
	size_t mlen = (size_t)(t - p); /* the method and its space */
	char *out = xmalloc(len + 2);
	size_t n = 0;

	while (path + 2 < te &&
	       !(path[0] == ':' && path[1] == '/' && path[2] == '/'))
		path++;
	for (path += 3; path < te && *path != '/' && *path != '?'; path++)
		;
	memcpy(out, p, mlen);
	n = mlen;
	if (path >= te || *path == '?')
		out[n++] = '/';
	memcpy(out + n, path, (size_t)(te - path));
	n += (size_t)(te - path);
	memcpy(out + n, rest, len - (size_t)(rest - p));
	n += len - (size_t)(rest - p);
	evbuffer_drain(src, len);
	evbuffer_add(dst, out, n);
	free(out);
}

/* A head was scanned: pass it, or refuse the request. */
static int
on_head(struct gate_conn *c, struct evbuffer *src, struct evbuffer *dst,
    uint8_t *p, int len, const struct http_head *h)
{
	struct http_gate *g = c->g;
	uint64_t limit = membudget_global.limit;
	size_t cl = h->content_length > 0 ? (size_t)h->content_length : 0;
	char msg[200];

	if (h->chunked) {
		refuse(c, 411, "length_required",
		    "send the body with a Content-Length (chunked bodies are "
		    "not accepted)");
		return -1;
	}
	if (!h->has_body)
		cl = 0;
	if (cl > (uint64_t)g->cfg->http_max_body_bytes) {
		snprintf(msg, sizeof(msg),
		    "the body (%zu bytes) exceeds http_max_body_bytes (%lld)",
		    cl, (long long)g->cfg->http_max_body_bytes);
		stats.http_bodies_refused_total++;
		refuse(c, 413, "payload_too_large", msg);
		return -1;
	}
	/* Bodies in flight may hold a quarter of max_memory. */
	if (cl > 0 &&
	    ((limit != 0 && g->in_bytes + cl > limit / 4) ||
	        membudget_charge_reclaim(&membudget_global, cl) != 0)) {
		stats.http_bodies_refused_total++;
		refuse(c, 503, "out_of_memory",
		    "the memory budget (max_memory) cannot hold this body now; "
		    "retry later");
		return -1;
	}
	c->charged += cl;
	g->in_bytes += cl;
	/*
	 * A client that will close after this answer: evhttp would free
	 * the connection as soon as the answer has left the filter, before
	 * it is written, and the answer would be lost.  So evhttp is told
	 * nothing (the header's name becomes "Xonnection", HTTP/1.0 becomes
	 * 1.1: the same length) and the gate closes once the answer is
	 * written (gate_out, on_output).
	 */
	if (h->conn_close || (h->minor == 0 && !h->keep_alive)) {
		if (h->conn_close)
			p[h->close_off] = 'X';
		if (h->minor == 0 && !h->keep_alive)
			p[h->minor_off] = '1';
		c->close_after = 1;
	}
	if (h->target[0] != '/' && h->target[0] != '*')
		pass_origin_form(src, dst, p, (size_t)len, h);
	else
		evbuffer_remove_buffer(src, dst, (size_t)len);
	if (cl > 0) {
		c->state = GATE_BODY;
		c->body_left = cl;
	} else {
		request_passed(c);
	}
	return 0;
}

/* The input filter: the socket's bytes to evhttp, request by request. */
static enum bufferevent_filter_result
gate_in(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t limit,
    enum bufferevent_flush_mode mode, void *arg)
{
	struct gate_conn *c = arg;
	int moved = 0;

	CHECK_MAGIC(c, HTTP_CONN_MAGIC);
	(void)mode;
	if (!c->nodelay) {
		/* An answer's last segment must not wait for the client's
		 * delayed acknowledgement of the one before (Nagle). */
		evutil_socket_t fd = bufferevent_getfd(c->under);
		int one = 1;

		c->nodelay = 1;
		if (fd >= 0)
			(void)setsockopt(
			    fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	for (;;) {
		size_t have = evbuffer_get_length(src), n;

		if (have == 0)
			break;
		if (c->state == GATE_CLOSING || c->g == NULL) {
			evbuffer_drain(src, have);
			break;
		}
		if (c->state == GATE_BODY) {
			n = have < c->body_left ? have : (size_t)c->body_left;
			if (limit >= 0 && n > (size_t)limit)
				n = (size_t)limit;
			if (n == 0)
				break;
			evbuffer_remove_buffer(src, dst, n);
			c->body_left -= n;
			moved = 1;
			if (c->body_left == 0)
				request_passed(c);
			continue;
		} else {
			struct http_head h;
			size_t scan =
			    have < HTTP_MAX_HEAD ? have : HTTP_MAX_HEAD;
			uint8_t *p;
			int rc;

			if (c->started_ms == 0) {
				c->started_ms = clock_mono_ms();
				arm(c, c->g->cfg->http_timeout_ms);
			}
			p = evbuffer_pullup(src, (ev_ssize_t)scan);
			if (p == NULL) {
				refuse(c, 503, "out_of_memory",
				    "out of memory reading the request");
				continue;
			}
			rc = http_head_scan(p, scan, HTTP_MAX_HEAD, &h, NULL);
			if (rc == 0)
				break;
			if (rc < 0) {
				refuse_head(c, rc, &h);
				continue;
			}
			if (on_head(c, src, dst, p, rc, &h) == 0)
				moved = 1;
		}
	}
	return moved ? BEV_OK : BEV_NEED_MORE;
}

/* The output filter: evhttp's answers to the socket, unchanged. */
static enum bufferevent_filter_result
gate_out(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t limit,
    enum bufferevent_flush_mode mode, void *arg)
{
	struct gate_conn *c = arg;
	size_t n = evbuffer_get_length(src);

	CHECK_MAGIC(c, HTTP_CONN_MAGIC);
	(void)mode;
	if (n == 0)
		return BEV_NEED_MORE;
	if (limit >= 0 && n > (size_t)limit)
		n = (size_t)limit;
	evbuffer_remove_buffer(src, dst, n);
	if (c->answered != c->complete || evbuffer_get_length(src) > 0)
		return BEV_OK;
	/* evhttp's last answer is on the socket: the refusal that waited
	 * for it, or the close the client asked for. */
	if (c->pending_status != 0) {
		send_refusal(
		    c, dst, c->pending_status, c->pending_code, c->pending_msg);
		c->pending_status = 0;
	} else if (c->close_after) {
		c->close_after = 0;
		close_when_written(c);
	}
	return BEV_OK;
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct gate_conn *c = arg;

	CHECK_MAGIC(c, HTTP_CONN_MAGIC);
	if (c->state == GATE_CLOSING) { /* the linger is over */
		conn_shutdown(c, SHUT_RDWR);
		return;
	}
	if (c->started_ms == 0)
		return;
	stats.http_conn_closed_slow_total++;
	log_debug("http: a request not whole after %lld ms: closing",
	    (long long)(c->g != NULL ? c->g->cfg->http_timeout_ms : 0));
	refuse(c, 408, "request_timeout",
	    "the request did not arrive whole within http_timeout_ms");
}

static void
unlink_conn(struct http_gate *g, struct gate_conn *c)
{
	struct gate_conn **pp;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		g->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	for (pp = &g->hash[hash_of(c->bev)]; *pp != NULL; pp = &(*pp)->hnext)
		if (*pp == c) {
			*pp = c->hnext;
			break;
		}
}

/* The filter is being freed (evhttp freed its connection). */
static void
gate_conn_free(void *arg)
{
	struct gate_conn *c = arg;
	struct http_gate *g;

	CHECK_MAGIC(c, HTTP_CONN_MAGIC);
	g = c->g;
	release(c, c->charged);
	event_free(c->timer);
	if (g != NULL) {
		unlink_conn(g, c);
		g->nconns--;
		stats.http_connections = g->nconns;
		if (g->paused && g->lis != NULL &&
		    g->nconns < (size_t)g->cfg->http_max_connections) {
			g->paused = 0;
			evconnlistener_enable(g->lis);
		}
	}
	c->magic = 0;
	free(c);
}

/* At the cap: shut the longest-idle connection down, or stop
 * accepting until one closes (invariant 3). */
static void
make_room(struct http_gate *g)
{
	struct gate_conn *c, *best = NULL;

	for (c = g->conns; c != NULL; c = c->next) {
		if (c->evicted || c->state != GATE_HEAD || c->started_ms != 0 ||
		    c->answered != c->complete ||
		    evbuffer_get_length(bufferevent_get_output(c->under)) > 0 ||
		    evbuffer_get_length(bufferevent_get_output(c->bev)) > 0)
			continue;
		if (best == NULL || c->idle_since_ms <= best->idle_since_ms)
			best = c;
	}
	if (best != NULL) {
		best->evicted = 1;
		stats.http_conn_closed_idle_total++;
		conn_shutdown(best, SHUT_RDWR);
		return;
	}
	if (g->lis != NULL && !g->paused) {
		g->paused = 1;
		stats.http_accept_pauses_total++;
		evconnlistener_disable(g->lis);
		log_warn("http: %zu connections open, none idle "
		         "(http_max_connections): not accepting more until "
		         "one closes",
		    g->nconns);
	}
}

struct bufferevent *
http_gate_bevcb(struct event_base *base, void *arg)
{
	struct http_gate *g = arg;
	struct gate_conn *c;
	size_t h;

	CHECK_MAGIC(g, HTTP_GATE_MAGIC);
	c = xcalloc(1, sizeof(*c));
	c->magic = HTTP_CONN_MAGIC;
	c->g = g;
	c->idle_since_ms = clock_mono_ms();
	c->under = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	c->timer = evtimer_new(base, on_timer, c);
	if (c->under == NULL || c->timer == NULL)
		fatalx("http: out of memory for a connection");
	c->bev = bufferevent_filter_new(c->under, gate_in, gate_out,
	    BEV_OPT_CLOSE_ON_FREE, gate_conn_free, c);
	if (c->bev == NULL)
		fatalx("http: out of memory for a connection");
	/* evhttp waits for an answer to leave the filter before reading the
	 * next request; past this much queued on the socket it stays there,
	 * so a client that does not read holds one answer at most. */
	bufferevent_setwatermark(
	    c->under, EV_WRITE, HTTP_CONN_MAX_OUTPUT / 2, HTTP_CONN_MAX_OUTPUT);
	if (g->nconns >= (size_t)g->cfg->http_max_connections)
		make_room(g);
	c->next = g->conns;
	if (g->conns != NULL)
		g->conns->prev = c;
	g->conns = c;
	h = hash_of(c->bev);
	c->hnext = g->hash[h];
	g->hash[h] = c;
	g->nconns++;
	stats.http_connections = g->nconns;
	stats.http_connections_total++;
	return c->bev;
}

void
http_gate_request_done(
    struct http_gate *g, struct evhttp_request *req, size_t body_len)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct gate_conn *c;

	CHECK_MAGIC(g, HTTP_GATE_MAGIC);
	if (evcon == NULL)
		return;
	c = conn_of(g, evhttp_connection_get_bufferevent(evcon));
	if (c == NULL)
		return;
	release(c, body_len);
	c->answered++;
	c->idle_since_ms = clock_mono_ms();
}

struct http_gate *
http_gate_new(struct event_base *base, const struct config *cfg)
{
	struct http_gate *g = xcalloc(1, sizeof(*g));

	g->magic = HTTP_GATE_MAGIC;
	g->base = base;
	g->cfg = cfg;
	return g;
}

void
http_gate_set_listener(struct http_gate *g, struct evconnlistener *lis)
{
	CHECK_MAGIC(g, HTTP_GATE_MAGIC);
	g->lis = lis;
	g->paused = 0;
}

size_t
http_gate_connections(const struct http_gate *g)
{
	return g->nconns;
}

void
http_gate_free(struct http_gate *g)
{
	struct gate_conn *c;

	if (g == NULL)
		return;
	CHECK_MAGIC(g, HTTP_GATE_MAGIC);
	/* evhttp_free freed every connection, but libevent may finalise
	 * the filters later: they must not reach back here. */
	for (c = g->conns; c != NULL; c = c->next) {
		release(c, c->charged);
		c->g = NULL;
	}
	stats.http_connections = 0;
	g->magic = 0;
	free(g);
}
