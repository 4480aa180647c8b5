/*
 * feed_ws.c: (1) the feed's upstream websocket client (see feed_ws.h
 * for the states, invariants and counters).
 *
 * One attempt: resolve the host (evdns_getaddrinfo, so every address is
 * tried in turn, not only the first), connect a bufferevent (an
 * openssl one for wss://, which finishes the TLS handshake before
 * reporting CONNECTED), write the upgrade request, and wait for the
 * header of the answer.  The answer may arrive in pieces: the state is
 * HANDSHAKE plus how far the input has been searched for the blank line,
 * so each piece is scanned once.  After the header, the input belongs to
 * wslay: its recv_callback drains the input evbuffer and reports
 * WSLAY_ERR_WOULDBLOCK when it is empty, its send_callback appends to the
 * output evbuffer (so wslay_event_send() always finishes), and complete
 * messages go to the caller's on_message.
 *
 * Failures end the attempt through ws_fail()/begin_close() and ws_drop(),
 * which free the connection and arm the back-off timer.  Callbacks into
 * the caller can call feed_ws_send_text(); a failure found there cannot
 * tear down the connection under the caller's feet, so it is recorded and
 * handled by the `kick` event (or by the read callback once wslay
 * returns).
 */
#include <config.h>

#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <wslay/wslay.h>

#include "base/assert.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/xmalloc.h"
#include "base/xorshift.h"
#include "proto/wbuf.h"
#include "proto/ws_handshake.h"
#include "server/feed/feed_ws.h"
#include "server/log.h"
#include "server/stats.h"

#define WS_CLIENT_MAGIC     0x77736c63
#define WS_DNS_MAGIC        0x77736471
#define CLOSE_GRACE_MS      1000
#define DEF_BACKOFF_BASE_MS 500
#define DEF_BACKOFF_MAX_MS  30000
#define DEF_CONNECT_MS      10000
#define DEF_HEALTHY_MS      10000
#define DEF_MAX_MSG         ((size_t)1 << 20)
#define LOG_CTX             "feed"

enum ws_state {
	WS_IDLE,
	WS_CONNECTING, /* DNS, TCP, TLS */
	WS_HANDSHAKE,  /* request sent, reading the 101 */
	WS_OPEN,
	WS_CLOSING, /* our close frame is flushing; then BACKOFF */
	WS_BACKOFF
};

static const char *const state_names[] = {
    "idle", "connecting", "handshake", "open", "closing", "backoff"};

/*
 * A pending name lookup.  It outlives the client if the client is freed
 * first (c = NULL): evdns still calls back, with EVUTIL_EAI_CANCEL, and
 * the callback frees it.
 */
struct ws_dns {
	unsigned magic;
	struct feed_ws *c;
};

struct feed_ws {
	unsigned magic;
	struct event_base *base;
	struct evdns_base *dns;
	struct feed_ws_cb cb;
	void *arg;

	/* options */
	char *url;    /* the caller's URL: holds the token; wiped on free */
	char *host;   /* name or address, no brackets */
	char *target; /* path and query: holds the token */
	char host_header[300];
	char display[512]; /* the URL as logged: token masked */
	char port_str[8];
	int tls;
	int host_is_ip;
	int64_t stall_ms, backoff_base_ms, backoff_max_ms, connect_ms;
	int64_t healthy_ms;
	size_t max_msg;
	SSL_CTX *ssl_ctx;

	/* the current attempt */
	enum ws_state state;
	struct ws_dns *dns_req_owner;
	struct evdns_getaddrinfo_request *dns_req;
	struct evutil_addrinfo *ai; /* resolved addresses */
	int ai_count, ai_tried, ai_first;
	struct bufferevent *bev;
	wslay_event_context_ptr ws;
	char accept[WS_ACCEPT_LEN + 1];
	size_t hs_scanned; /* input bytes known to hold no header end */
	int in_wslay;      /* inside wslay_event_recv() */
	int fail_pending;  /* a failure awaits `kick` */
	int fail_is_error;
	uint16_t close_code; /* from the server's close frame */
	char close_reason[64];
	char why[256];

	/* timing */
	int64_t rx_us;      /* wall clock of the current read */
	int64_t last_rx_ms; /* monotonic */
	int64_t open_ms;    /* monotonic */
	unsigned failures;  /* since the last healthy connection */
	unsigned attempts;
	uint64_t rng;
	struct event *timer; /* deadline of the current state */
	struct event *kick;  /* deferred failure */
};

static void attempt(struct feed_ws *c);
static void connect_next(struct feed_ws *c);

/* ---- time, randomness, text -------------------------------------------- */

static void
arm(struct event *ev, int64_t ms)
{
	struct timeval tv;

	if (ms < 0)
		ms = 0;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(ev, &tv);
}

/* Replace every occurrence of v[0..vn) in the string s by "***". */
static void
mask_value(char *s, const char *v, size_t vn)
{
	char *hit;

	while ((hit = memmem(s, strlen(s), v, vn)) != NULL) {
		memcpy(hit, "***", 3);
		memmove(hit + 3, hit + vn, strlen(hit + vn) + 1);
	}
}

/*
 * Mask in s every value of the URL's query that is long enough to be a
 * secret (Finnhub's token, or anything else a user put there), so no
 * echo from a server or a library can carry it into the log.
 */
static void
mask_secrets(const struct feed_ws *c, char *s)
{
	const char *q = strchr(c->target, '?'), *end, *eq;

	while (q != NULL && *q != '\0') {
		q++;
		end = q + strcspn(q, "&");
		eq = memchr(q, '=', (size_t)(end - q));
		if (eq != NULL && end - (eq + 1) >= 4)
			mask_value(s, eq + 1, (size_t)(end - (eq + 1)));
		q = *end != '\0' ? end : NULL;
	}
}

/* Copy peer text for the log: bounded, printable, secrets masked. */
static void
peer_text(
    const struct feed_ws *c, char *dst, size_t size, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i;

	if (size == 0)
		return;
	if (n > size - 1)
		n = size - 1;
	for (i = 0; i < n; i++)
		dst[i] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
	dst[n] = '\0';
	mask_secrets(c, dst);
}

/* ---- ending a connection ------------------------------------------------ */

/* Free the attempt's resources; timers are left to the caller. */
static void
conn_teardown(struct feed_ws *c)
{
	if (c->dns_req_owner != NULL) {
		/* The owner stays behind for the callback to free. */
		c->dns_req_owner->c = NULL;
		c->dns_req_owner = NULL;
		if (c->dns_req != NULL)
			evdns_getaddrinfo_cancel(c->dns_req);
	}
	c->dns_req = NULL;
	if (c->ai != NULL)
		evutil_freeaddrinfo(c->ai);
	c->ai = NULL;
	if (c->ws != NULL)
		wslay_event_context_free(c->ws);
	c->ws = NULL;
	if (c->bev != NULL)
		bufferevent_free(c->bev); /* frees the SSL too */
	c->bev = NULL;
	if (c->kick != NULL)
		event_del(c->kick);
	c->fail_pending = 0;
	c->hs_scanned = 0;
	c->close_code = 0;
	c->close_reason[0] = '\0';
	ERR_clear_error();
}

/* Full-jitter delay before the next attempt; counts the failure. */
static int64_t
backoff_delay(struct feed_ws *c)
{
	int64_t cap = c->backoff_base_ms;
	unsigned i;

	for (i = 0; i < c->failures && cap < c->backoff_max_ms; i++)
		cap *= 2;
	if (cap > c->backoff_max_ms)
		cap = c->backoff_max_ms;
	c->failures++;
	return (int64_t)(xorshift64s(&c->rng) % (uint64_t)(cap + 1));
}

/*
 * The connection (or attempt) is over; c->why says why.  Tell the caller
 * if it had been open, and schedule the next attempt.
 */
static void
ws_drop(struct feed_ws *c)
{
	int was_open = c->state == WS_OPEN || c->state == WS_CLOSING;
	int64_t delay;

	if (was_open && clock_mono_ms() - c->open_ms >= c->healthy_ms)
		c->failures = 0;
	conn_teardown(c);
	evtimer_del(c->timer);
	c->state = WS_BACKOFF;
	delay = backoff_delay(c);
	log_cinfo(LOG_CTX, "reconnecting in %lld ms", (long long)delay);
	arm(c->timer, delay);
	if (was_open && c->cb.on_close != NULL)
		c->cb.on_close(c->arg, c->why);
}

static void __attribute__((format(printf, 2, 0)))
set_why(struct feed_ws *c, const char *fmt, va_list ap)
{
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	mask_secrets(c, c->why);
}

/* Log c->why: a counted warning when it is an error, else info. */
static void
report_why(struct feed_ws *c, int is_error)
{
	if (is_error) {
		stats.feed_ws_errors_total++;
		log_cwarn(LOG_CTX, "%s: %s", c->display, c->why);
	} else {
		log_cinfo(LOG_CTX, "%s: %s", c->display, c->why);
	}
}

/* Log why (a warning if it is an error), count it, and drop. */
static void __attribute__((format(printf, 3, 4)))
ws_fail(struct feed_ws *c, int is_error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_why(c, fmt, ap);
	va_end(ap);
	report_why(c, is_error);
	ws_drop(c);
}

/*
 * Like ws_fail, but from code that a caller's callback may have called:
 * the teardown runs from the `kick` event, after the callback returns.
 */
static void __attribute__((format(printf, 3, 4)))
ws_fail_later(struct feed_ws *c, int is_error, const char *fmt, ...)
{
	va_list ap;

	if (c->fail_pending)
		return;
	va_start(ap, fmt);
	set_why(c, fmt, ap);
	va_end(ap);
	c->fail_pending = 1;
	c->fail_is_error = is_error;
	event_active(c->kick, EV_TIMEOUT, 1);
}

static void
run_pending_fail(struct feed_ws *c)
{
	char why[sizeof(c->why)];

	memcpy(why, c->why, sizeof(why));
	c->fail_pending = 0;
	ws_fail(c, c->fail_is_error, "%s", why);
}

static void
kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct feed_ws *c = arg;

	CHECK_MAGIC(c, WS_CLIENT_MAGIC);
	if (c->fail_pending)
		run_pending_fail(c);
}

/*
 * Stop reading and let the close frame wslay queued reach the peer
 * (bounded by CLOSE_GRACE_MS), then drop.
 */
static void __attribute__((format(printf, 3, 4)))
begin_close(struct feed_ws *c, int is_error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_why(c, fmt, ap);
	va_end(ap);
	report_why(c, is_error);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		ws_drop(c);
		return;
	}
	c->state = WS_CLOSING;
	evtimer_del(c->timer);
	arm(c->timer, CLOSE_GRACE_MS);
}

/* ---- wslay glue --------------------------------------------------------- */

static ssize_t
ws_recv_cb(
    wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *arg)
{
	struct feed_ws *c = arg;
	int n;

	CHECK_MAGIC(c, WS_CLIENT_MAGIC);
	n = evbuffer_remove(bufferevent_get_input(c->bev), buf, len);
	if (n <= 0) {
		/* wslay.h: empty input is WOULDBLOCK, not a failure. */
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	stats.feed_bytes_total += (uint64_t)n;
	return n;
}

static ssize_t
ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len,
    int flags, void *arg)
{
	struct feed_ws *c = arg;

	CHECK_MAGIC(c, WS_CLIENT_MAGIC);
	if (evbuffer_add(bufferevent_get_output(c->bev), data, len) != 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return (ssize_t)len;
}

static int
ws_genmask_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *arg)
{
	/* RFC 6455 §5.3: masks must be unpredictable. */
	return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

static void
ws_msg_cb(wslay_event_context_ptr ctx,
    const struct wslay_event_on_msg_recv_arg *m, void *arg)
{
	struct feed_ws *c = arg;

	CHECK_MAGIC(c, WS_CLIENT_MAGIC);
	switch (m->opcode) {
	case WSLAY_TEXT_FRAME:
	case WSLAY_BINARY_FRAME:
		if (c->state == WS_OPEN && !c->fail_pending &&
		    c->cb.on_message != NULL)
			c->cb.on_message(
			    c->arg, m->msg, m->msg_length, m->opcode, c->rx_us);
		break;
	case WSLAY_CONNECTION_CLOSE:
		c->close_code = m->status_code;
		if (m->msg_length > 2)
			peer_text(c, c->close_reason, sizeof(c->close_reason),
			    m->msg + 2, m->msg_length - 2);
		break;
	default:
		/* Pings are answered by wslay; pongs need nothing. */
		break;
	}
}

static const char *
close_code_text(unsigned code)
{
	switch (code) {
	case WSLAY_CODE_PROTOCOL_ERROR:
		return "protocol error";
	case WSLAY_CODE_INVALID_FRAME_PAYLOAD_DATA:
		return "invalid UTF-8 in a text message";
	case WSLAY_CODE_MESSAGE_TOO_BIG:
		return "message too big";
	case WSLAY_CODE_POLICY_VIOLATION:
		return "policy violation";
	case WSLAY_CODE_GOING_AWAY:
		return "going away";
	case WSLAY_CODE_NORMAL_CLOSURE:
		return "normal closure";
	case WSLAY_CODE_INTERNAL_SERVER_ERROR:
		return "server error";
	default:
		return "";
	}
}

/* Run wslay over the input; act on what it found. */
static void
ws_process(struct feed_ws *c)
{
	int rc;

	c->in_wslay = 1;
	rc = wslay_event_recv(c->ws);
	c->in_wslay = 0;
	if (c->fail_pending) {
		run_pending_fail(c);
		return;
	}
	if (rc != 0) {
		ws_fail(c, 1, "websocket receive failed (wslay %d)", rc);
		return;
	}
	/* Pongs, the answer to a close, and anything on_message queued. */
	if ((rc = wslay_event_send(c->ws)) != 0) {
		ws_fail(c, 1, "websocket send failed (wslay %d)", rc);
		return;
	}
	if (wslay_event_get_close_received(c->ws)) {
		begin_close(c, 0, "server closed the websocket (code %u%s%s%s)",
		    (unsigned)c->close_code, c->close_reason[0] ? ": " : "",
		    c->close_reason, c->close_code == 0 ? ", no status" : "");
	} else if (!wslay_event_get_read_enabled(c->ws)) {
		/* wslay failed the connection and queued a close frame. */
		unsigned code = wslay_event_get_status_code_sent(c->ws);

		if (code == WSLAY_CODE_MESSAGE_TOO_BIG)
			begin_close(c, 1,
			    "message larger than %zu bytes: failed the "
			    "connection with 1009 (message too big)",
			    c->max_msg);
		else
			begin_close(c, 1,
			    "bad websocket data: failed the connection with "
			    "%u (%s)",
			    code, close_code_text(code));
	}
}

/* ---- the opening handshake ---------------------------------------------- */

static void
hs_send(struct feed_ws *c)
{
	uint8_t nonce[16];
	char key[WS_KEY_LEN + 1];
	struct wbuf w;

	if (RAND_bytes(nonce, sizeof(nonce)) != 1) {
		ws_fail(c, 1, "no random bytes for the handshake key");
		return;
	}
	ws_handshake_key(nonce, key);
	if (ws_handshake_accept(key, c->accept) != 0) {
		ws_fail(c, 1, "no SHA-1 for the handshake");
		return;
	}
	wbuf_init(&w, 0);
	ws_handshake_request(&w, c->host_header, c->target, key);
	if (w.err != 0 || bufferevent_write(c->bev, w.buf, w.len) != 0) {
		/* The request holds the token: wipe it before freeing. */
		if (w.buf != NULL)
			memset(w.buf, 0, w.cap);
		wbuf_fini(&w);
		ws_fail(c, 1, "cannot queue the upgrade request");
		return;
	}
	memset(w.buf, 0, w.cap);
	wbuf_fini(&w);
	c->state = WS_HANDSHAKE;
	c->hs_scanned = 0;
	bufferevent_enable(c->bev, EV_READ);
}

static void
hs_refused(struct feed_ws *c, const struct ws_hs_resp *r)
{
	char reason[64];
	const char *hint = "";

	peer_text(c, reason, sizeof(reason), r->reason.p, r->reason.n);
	switch (r->status) {
	case 401:
	case 403:
		hint = ": the token was rejected";
		break;
	case 429:
		hint = ": rate limited";
		break;
	case 101:
		break;
	default:
		hint = ": not a websocket upgrade";
		break;
	}
	if (r->status == 101)
		ws_fail(c, 1, "bad websocket handshake: %s", r->why);
	else
		ws_fail(c, 1, "HTTP %d %s%s", r->status, reason, hint);
}

static void
open_ws(struct feed_ws *c)
{
	static const struct wslay_event_callbacks cbs = {
	    ws_recv_cb, ws_send_cb, ws_genmask_cb, NULL, NULL, NULL, ws_msg_cb};

	if (wslay_event_context_client_init(&c->ws, &cbs, c) != 0) {
		c->ws = NULL;
		ws_fail(c, 1, "out of memory for the websocket");
		return;
	}
	wslay_event_config_set_max_recv_msg_length(c->ws, c->max_msg);
	c->state = WS_OPEN;
	c->open_ms = c->last_rx_ms = clock_mono_ms();
	stats.feed_connects_total++;
	evtimer_del(c->timer);
	if (c->stall_ms > 0)
		arm(c->timer, c->stall_ms);
	log_cinfo(LOG_CTX, "websocket open: %s", c->display);
	if (c->cb.on_open != NULL)
		c->cb.on_open(c->arg);
	if (c->fail_pending) {
		run_pending_fail(c);
		return;
	}
	/* Frames that came with the header's last read. */
	if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
		ws_process(c);
}

static void
hs_read(struct feed_ws *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t len = evbuffer_get_length(in), hlen, off = 0;
	struct evbuffer_ptr start, found;
	struct ws_hs_resp r;
	const uint8_t *p;
	int rc;

	evbuffer_ptr_set(in, &start, c->hs_scanned, EVBUFFER_PTR_SET);
	found = evbuffer_search(in, "\r\n\r\n", 4, &start);
	if (found.pos < 0) {
		if (len >= WS_HS_MAX_HEADER) {
			ws_fail(c, 1, "handshake answer longer than %d bytes",
			    WS_HS_MAX_HEADER);
			return;
		}
		/* The next search starts where a CRLFCRLF could begin. */
		c->hs_scanned = len > 3 ? len - 3 : 0;
		return;
	}
	hlen = (size_t)found.pos + 4;
	if (hlen > WS_HS_MAX_HEADER) {
		ws_fail(c, 1, "handshake answer longer than %d bytes",
		    WS_HS_MAX_HEADER);
		return;
	}
	if ((p = evbuffer_pullup(in, (ev_ssize_t)hlen)) == NULL) {
		ws_fail(c, 1, "out of memory reading the handshake");
		return;
	}
	rc = ws_handshake_parse_response(p, hlen, c->accept, &r, &off);
	if (rc == ERR_PROTO) {
		hs_refused(c, &r);
		return;
	}
	if (rc <= 0) {
		ws_fail(c, 1, "malformed handshake answer (%s at byte %zu)",
		    r.why != NULL ? r.why : err_str(rc), off);
		return;
	}
	evbuffer_drain(in, (size_t)rc);
	stats.feed_bytes_total += (uint64_t)rc;
	open_ws(c);
}

/* ---- bufferevent callbacks ---------------------------------------------- */

static void
read_cb(struct bufferevent *bev, void *arg)
{
	struct feed_ws *c = arg;
	int64_t t0 = stats_loop_begin();

	CHECK_MAGIC(c, WS_CLIENT_MAGIC);
	c->rx_us = clock_wall_us();
	c->last_rx_ms = clock_mono_ms();
	switch (c->state) {
	case WS_HANDSHAKE:
		hs_read(c);
		break;
	case WS_OPEN:
		ws_process(c);
		break;
	default:
		/* CLOSING: nothing more is read. */
		evbuffer_drain(bufferevent_get_input(bev),
		    evbuffer_get_length(bufferevent_get_input(bev)));
		break;
	}
	stats_loop_end(LOOP_FEED, t0);
}

static void
write_cb(struct bufferevent *bev, void *arg)
{
	struct feed_ws *c = arg;

	CHECK_MAGIC(c, WS_CLIENT_MAGIC);
	if (c->state == WS_CLOSING &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		ws_drop(c);
}

/* Why did the TLS handshake fail?  Verification first: it is the usual. */
static void
tls_error(struct feed_ws *c, char *buf, size_t size)
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
	long vr = ssl != NULL ? SSL_get_verify_result(ssl) : X509_V_OK;
	unsigned long e;
	char one[256];
	size_t used = 0;

	buf[0] = '\0';
	if (vr != X509_V_OK) {
		snprintf(buf, size,
		    "TLS: certificate verify failed: %s (expected %s)",
		    X509_verify_cert_error_string(vr), c->host);
		return;
	}
	while ((e = bufferevent_get_openssl_error(c->bev)) != 0 &&
	       used + 2 < size) {
		ERR_error_string_n(e, one, sizeof(one));
		used += (size_t)snprintf(buf + used, size - used, "%s%s",
		    used ? "; " : "TLS: ", one);
	}
}

static int
verify_failed(struct feed_ws *c)
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);

	return ssl != NULL && SSL_get_verify_result(ssl) != X509_V_OK;
}

/* Did TCP come up?  An openssl bufferevent reports only TLS's outcome. */
static int
tcp_connected(struct bufferevent *bev)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	evutil_socket_t fd = bufferevent_getfd(bev);

	return fd >= 0 && getpeername(fd, (struct sockaddr *)&ss, &len) == 0;
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct feed_ws *c = arg;
	char tls[256];
	int err = EVUTIL_SOCKET_ERROR();

	CHECK_MAGIC(c, WS_CLIENT_MAGIC);
	if (what & BEV_EVENT_CONNECTED) {
		if (c->state == WS_CONNECTING)
			hs_send(c);
		return;
	}
	if (c->state == WS_CONNECTING && (what & BEV_EVENT_ERROR)) {
		int tcp_up = tcp_connected(bev);

		if (c->tls && (tcp_up || verify_failed(c))) {
			tls_error(c, tls, sizeof(tls));
			if (tls[0] != '\0') {
				ws_fail(c, 1, "%s", tls);
				return;
			}
		}
		if (!tcp_up && c->ai_tried < c->ai_count) {
			log_cinfo(LOG_CTX,
			    "%s: connect failed: %s; trying the next address",
			    c->display, evutil_socket_error_to_string(err));
			connect_next(c);
			return;
		}
		ws_fail(c, 0, "connect failed: %s",
		    err ? evutil_socket_error_to_string(err) : "error");
		return;
	}
	if (what & BEV_EVENT_EOF) {
		switch (c->state) {
		case WS_CONNECTING:
			ws_fail(c, 1, "closed during the TLS handshake");
			break;
		case WS_HANDSHAKE:
			ws_fail(c, 1, "closed during the websocket handshake");
			break;
		case WS_CLOSING:
			ws_drop(c);
			break;
		default:
			ws_fail(c, 0, "connection closed by the server");
			break;
		}
		return;
	}
	if (c->state == WS_CLOSING) {
		ws_drop(c);
		return;
	}
	if (c->tls) {
		tls_error(c, tls, sizeof(tls));
		if (tls[0] != '\0') {
			ws_fail(c, 1, "%s", tls);
			return;
		}
	}
	ws_fail(c, 0, "connection error: %s",
	    err ? evutil_socket_error_to_string(err) : "unknown");
}

/* ---- timers ------------------------------------------------------------- */

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct feed_ws *c = arg;
	int64_t idle;

	CHECK_MAGIC(c, WS_CLIENT_MAGIC);
	switch (c->state) {
	case WS_CONNECTING:
	case WS_HANDSHAKE:
		ws_fail(c, 1, "timed out after %lld ms (%s)",
		    (long long)c->connect_ms,
		    c->state == WS_HANDSHAKE   ? "websocket handshake"
		    : c->dns_req_owner != NULL ? "name lookup"
		    : c->tls                   ? "TCP connect or TLS handshake"
		                               : "TCP connect");
		break;
	case WS_OPEN:
		idle = clock_mono_ms() - c->last_rx_ms;
		if (idle < c->stall_ms) {
			arm(c->timer, c->stall_ms - idle);
			break;
		}
		stats.feed_stalls_total++;
		ws_fail(c, 0, "no data for %lld ms: the feed stalled",
		    (long long)idle);
		break;
	case WS_CLOSING:
		ws_drop(c);
		break;
	case WS_BACKOFF:
		attempt(c);
		break;
	default:
		break;
	}
}

/* ---- connecting --------------------------------------------------------- */

static struct bufferevent *
new_bev(struct feed_ws *c)
{
	const int opts = BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS;
	struct bufferevent *bev;
	SSL *ssl;

	if (!c->tls)
		return bufferevent_socket_new(c->base, -1, opts);
	if ((ssl = SSL_new(c->ssl_ctx)) == NULL)
		return NULL;
	if (c->host_is_ip) {
		/* No SNI for addresses (RFC 6066 §3); check the IP SAN. */
		if (X509_VERIFY_PARAM_set1_ip_asc(
		        SSL_get0_param(ssl), c->host) != 1)
			goto fail;
	} else if (SSL_set_tlsext_host_name(ssl, c->host) != 1 ||
	           SSL_set1_host(ssl, c->host) != 1) {
		goto fail;
	}
	SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	/* On failure this frees ssl (BEV_OPT_CLOSE_ON_FREE). */
	bev = bufferevent_openssl_socket_new(
	    c->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING, opts);
	if (bev != NULL)
		/* Servers often close without close_notify: that is EOF. */
		bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
fail:
	SSL_free(ssl);
	return NULL;
}

/* Connect to the next untried address (rotating which one goes first). */
static void
connect_next(struct feed_ws *c)
{
	struct evutil_addrinfo *ai = c->ai;
	int i, idx, one = 1;
	evutil_socket_t fd;
	char addr[INET6_ADDRSTRLEN] = "?";

	if (c->bev != NULL) {
		bufferevent_free(c->bev);
		c->bev = NULL;
	}
	idx = (c->ai_first + c->ai_tried++) % c->ai_count;
	for (i = 0; i < idx; i++)
		ai = ai->ai_next;
	if ((c->bev = new_bev(c)) == NULL) {
		log_ssl_errors(LOG_LEVEL_DEBUG, LOG_CTX, "SSL_new");
		ws_fail(c, 1, "cannot create a connection (TLS set-up failed)");
		return;
	}
	bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
	if (ai->ai_family == AF_INET)
		evutil_inet_ntop(AF_INET,
		    &((struct sockaddr_in *)ai->ai_addr)->sin_addr, addr,
		    sizeof(addr));
	else if (ai->ai_family == AF_INET6)
		evutil_inet_ntop(AF_INET6,
		    &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, addr,
		    sizeof(addr));
	log_cdebug(LOG_CTX, "connecting to %s port %s", addr, c->port_str);
	if (bufferevent_socket_connect(
	        c->bev, ai->ai_addr, (int)ai->ai_addrlen) != 0) {
		int err = EVUTIL_SOCKET_ERROR();

		if (c->ai_tried < c->ai_count) {
			connect_next(c);
			return;
		}
		ws_fail(c, 0, "connect to %s failed: %s", addr,
		    evutil_socket_error_to_string(err));
		return;
	}
	/* Small frames (subscribes, pongs) must not wait for Nagle. */
	if ((fd = bufferevent_getfd(c->bev)) >= 0)
		(void)setsockopt(
		    fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static void
resolved(struct feed_ws *c, int result, struct evutil_addrinfo *ai)
{
	struct evutil_addrinfo *p;

	if (result != 0 || ai == NULL) {
		if (ai != NULL)
			evutil_freeaddrinfo(ai);
		ws_fail(c, 0, "cannot resolve %s: %s", c->host,
		    evutil_gai_strerror(result));
		return;
	}
	c->ai = ai;
	c->ai_count = 0;
	for (p = ai; p != NULL; p = p->ai_next)
		c->ai_count++;
	c->ai_tried = 0;
	/* A later attempt starts at another address: one that black-holes
	 * connects cannot hold every attempt until its timeout. */
	c->ai_first = (int)(c->attempts % (unsigned)c->ai_count);
	connect_next(c);
}

static void
dns_cb(int result, struct evutil_addrinfo *ai, void *arg)
{
	struct ws_dns *d = arg;
	struct feed_ws *c = d->c;

	CHECK_MAGIC(d, WS_DNS_MAGIC);
	d->magic = 0;
	free(d);
	if (c == NULL) {
		/* The attempt was cancelled. */
		if (ai != NULL)
			evutil_freeaddrinfo(ai);
		return;
	}
	CHECK_MAGIC(c, WS_CLIENT_MAGIC);
	c->dns_req_owner = NULL;
	c->dns_req = NULL;
	resolved(c, result, ai);
}

static void
attempt(struct feed_ws *c)
{
	struct evutil_addrinfo hints;
	struct evdns_getaddrinfo_request *req;
	struct ws_dns *d;

	if (c->attempts++ > 0)
		stats.feed_reconnects_total++;
	c->state = WS_CONNECTING;
	c->why[0] = '\0';
	evtimer_del(c->timer);
	arm(c->timer, c->connect_ms);
	log_cinfo(LOG_CTX, "connecting to %s", c->display);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	if (c->dns == NULL) {
		/* Only numeric hosts get here in the daemon: no blocking. */
		struct evutil_addrinfo *ai = NULL;
		int rc = evutil_getaddrinfo(c->host, c->port_str, &hints, &ai);

		resolved(c, rc, ai);
		return;
	}
	/* libevent's own check: only drops a family the host cannot reach. */
	hints.ai_flags = EVUTIL_AI_ADDRCONFIG;
	d = xmalloc(sizeof(*d));
	d->magic = WS_DNS_MAGIC;
	d->c = c;
	c->dns_req_owner = d;
	/* May call dns_cb before returning (addresses, /etc/hosts). */
	req =
	    evdns_getaddrinfo(c->dns, c->host, c->port_str, &hints, dns_cb, d);
	if (c->dns_req_owner != NULL) /* still pending */
		c->dns_req = req;
}

/* ---- public API --------------------------------------------------------- */

static int
make_ssl_ctx(struct feed_ws *c, const char *ca_file)
{
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		log_ssl_errors(LOG_LEVEL_ERR, LOG_CTX, "SSL_CTX_new");
		return ERR_TLS;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (ca_file != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
			log_ssl_errors(LOG_LEVEL_ERR, LOG_CTX, ca_file);
			log_cerr(LOG_CTX, "cannot load CA file %s", ca_file);
			SSL_CTX_free(ctx);
			return ERR_CONFIG;
		}
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		log_ssl_errors(LOG_LEVEL_WARN, LOG_CTX,
		    "no system CA store; wss:// will fail verification");
	}
	c->ssl_ctx = ctx;
	return 0;
}

static char *
slice_dup(struct ws_slice s)
{
	char *p = xmalloc(s.n + 1);

	memcpy(p, s.p, s.n);
	p[s.n] = '\0';
	return p;
}

static void
wipe_free(char *s)
{
	if (s != NULL) {
		memset(s, 0, strlen(s));
		free(s);
	}
}

int
feed_ws_new(struct event_base *base, struct evdns_base *dns,
    const struct feed_ws_opts *opts, const struct feed_ws_cb *cb, void *arg,
    struct feed_ws **out)
{
	struct feed_ws *c = NULL;
	struct ws_url u;
	struct in6_addr a6;
	char shown[512];
	int rc;

	*out = NULL;
	if (opts->url == NULL)
		return ERR_CONFIG;
	if ((rc = ws_url_parse(opts->url, &u)) != 0) {
		log_cerr(LOG_CTX, "%s: not a ws:// or wss:// URL (%s)",
		    log_redact_url(opts->url, shown, sizeof(shown)),
		    err_str(rc));
		return ERR_CONFIG;
	}
	c = xcalloc(1, sizeof(*c));
	c->magic = WS_CLIENT_MAGIC;
	c->base = base;
	c->dns = dns;
	c->cb = *cb;
	c->arg = arg;
	c->url = xstrdup(opts->url);
	c->host = slice_dup(u.host);
	c->target = slice_dup(u.target);
	c->tls = u.tls;
	c->host_is_ip = inet_pton(AF_INET, c->host, &a6) == 1 ||
	                inet_pton(AF_INET6, c->host, &a6) == 1;
	snprintf(c->port_str, sizeof(c->port_str), "%u", (unsigned)u.port);
	if (ws_url_host_header(&u, c->host_header, sizeof(c->host_header)) <
	    0) {
		log_cerr(LOG_CTX, "host name too long in the feed URL");
		rc = ERR_CONFIG;
		goto out;
	}
	log_redact_url(opts->url, c->display, sizeof(c->display));
	mask_secrets(c, c->display);
	c->stall_ms = opts->stall_ms > 0 ? opts->stall_ms : 0;
	c->backoff_max_ms = opts->backoff_max_ms > 0 ? opts->backoff_max_ms
	                                             : DEF_BACKOFF_MAX_MS;
	c->backoff_base_ms = opts->backoff_base_ms > 0 ? opts->backoff_base_ms
	                                               : DEF_BACKOFF_BASE_MS;
	if (c->backoff_base_ms > c->backoff_max_ms)
		c->backoff_base_ms = c->backoff_max_ms;
	c->connect_ms = opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms
	                                             : DEF_CONNECT_MS;
	c->healthy_ms =
	    opts->healthy_ms > 0 ? opts->healthy_ms : DEF_HEALTHY_MS;
	c->max_msg =
	    opts->max_msg_bytes > 0 ? opts->max_msg_bytes : DEF_MAX_MSG;
	if (RAND_bytes((unsigned char *)&c->rng, sizeof(c->rng)) != 1 ||
	    c->rng == 0)
		c->rng = (uint64_t)clock_wall_us() | 1;
	if (c->tls && (rc = make_ssl_ctx(c, opts->ca_file)) != 0)
		goto out;
	c->timer = evtimer_new(base, timer_cb, c);
	c->kick = event_new(base, -1, 0, kick_cb, c);
	if (c->timer == NULL || c->kick == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	c->state = WS_IDLE;
	rc = 0;
out:
	if (rc != 0) {
		feed_ws_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void
feed_ws_start(struct feed_ws *c)
{
	CHECK_MAGIC(c, WS_CLIENT_MAGIC);
	if (c->state == WS_IDLE)
		attempt(c);
}

int
feed_ws_send_text(struct feed_ws *c, const void *p, size_t n)
{
	struct wslay_event_msg m;
	int rc;

	CHECK_MAGIC(c, WS_CLIENT_MAGIC);
	if (c->state == WS_CLOSING || c->fail_pending)
		return ERR_CLOSED;
	if (c->state != WS_OPEN)
		return ERR_AGAIN;
	m.opcode = WSLAY_TEXT_FRAME;
	m.msg = p;
	m.msg_length = n;
	rc = wslay_event_queue_msg(c->ws, &m);
	if (rc == WSLAY_ERR_NO_MORE_MSG)
		return ERR_CLOSED;
	if (rc != 0) {
		ws_fail_later(c, 1, "cannot queue a message (wslay %d)", rc);
		return ERR_NOMEM;
	}
	/* Inside wslay_event_recv, ws_process() sends when it returns. */
	if (!c->in_wslay && (rc = wslay_event_send(c->ws)) != 0) {
		ws_fail_later(c, 1, "websocket send failed (wslay %d)", rc);
		return ERR_NOMEM;
	}
	return 0;
}

int
feed_ws_is_open(const struct feed_ws *c)
{
	return c->state == WS_OPEN;
}

const char *
feed_ws_state(const struct feed_ws *c)
{
	return state_names[c->state];
}

void
feed_ws_free(struct feed_ws *c)
{
	if (c == NULL)
		return;
	CHECK_MAGIC(c, WS_CLIENT_MAGIC);
	conn_teardown(c);
	if (c->timer != NULL)
		event_free(c->timer);
	if (c->kick != NULL)
		event_free(c->kick);
	if (c->ssl_ctx != NULL)
		SSL_CTX_free(c->ssl_ctx);
	wipe_free(c->url);
	wipe_free(c->target);
	free(c->host);
	c->magic = 0;
	free(c);
}
