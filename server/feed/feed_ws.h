/*
 * feed_ws.h: (1) the feed's upstream websocket client: DNS, TCP, TLS,
 * the opening handshake, wslay framing, stall detection and reconnection
 * with back-off.  One feed_ws keeps one connection to one URL alive for
 * its whole life; the caller only sees messages and open/close events.
 *
 *	IDLE --start--> CONNECTING --TCP (+TLS) up--> HANDSHAKE --101--> OPEN
 *	                    ^                                              |
 *	                    |   any failure, timeout, stall, close, EOF    |
 *	                 BACKOFF <----------(CLOSING: flush our close)-----+
 *
 * Invariants:
 *  1. on_open and on_close alternate: on_close is called once for every
 *     on_open, when that connection ends.  Attempts that never opened
 *     call neither (they are logged and counted).
 *  2. Every wait has a deadline: connect_timeout_ms covers DNS, TCP, TLS
 *     and the handshake; stall_ms covers an open connection with no
 *     bytes received (Finnhub pings about every minute); CLOSING lasts at
 *     most a second.
 *  3. After a failure the next attempt waits a uniformly random time in
 *     [0, min(backoff_max_ms, base * 2^n)] ("full jitter"), n counting
 *     failures since the last connection that stayed open healthy_ms.
 *  4. The URL's query (Finnhub's token) is never logged: lines name the
 *     URL through log_redact_url(), and text from the server (an HTTP
 *     reason phrase, a close reason) is cut, made printable and has any
 *     query value of the URL masked before it is logged.
 *
 * wss:// verifies the server: the system CA store (or ca_file), the
 * chain, and the host name (SSL_set1_host, or the IP address for a
 * literal), with SNI for names.  A failed verification is a failed
 * connection attempt like any other.
 *
 * Counters (server/stats.h): feed_connects_total (connections that
 * reached OPEN), feed_reconnects_total (attempts after the first),
 * feed_stalls_total, feed_ws_errors_total (TLS and verification
 * failures, refused or malformed handshakes, websocket protocol errors,
 * messages over max_msg_bytes), feed_bytes_total (bytes received).
 */
#ifndef SERVER_FEED_WS_H
#define SERVER_FEED_WS_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct evdns_base;
struct feed_ws;

struct feed_ws_opts {
	const char *url;        /* ws://host[:port][/path][?query] or wss:// */
	const char *ca_file;    /* PEM CA bundle for wss://; NULL: system */
	int64_t stall_ms;       /* no bytes this long: reconnect; 0: off */
	int64_t backoff_max_ms; /* cap of the reconnect delay; 0: 30000 */
	int64_t connect_timeout_ms; /* DNS+TCP+TLS+handshake; 0: 10000 */
	size_t max_msg_bytes;    /* larger messages fail with 1009; 0: 1 MiB */
	int64_t backoff_base_ms; /* first delay's cap; 0: 500 */
	int64_t healthy_ms;      /* open this long resets back-off; 0: 10000 */
};

struct feed_ws_cb {
	/* The websocket is open: subscribe here (feed_ws_send_text). */
	void (*on_open)(void *arg);
	/*
	 * One complete text (or binary) message, valid only during the call.
	 * recv_us: wall-clock time (µs since the epoch) of the read that
	 * completed it.  Finnhub's {"type":"ping"} is a message like any
	 * other; websocket-level pings are answered here, not passed on.
	 */
	void (*on_message)(void *arg, const uint8_t *msg, size_t len,
	    int opcode, int64_t recv_us);
	/* The open connection ended (why: for the log); a reconnect follows. */
	void (*on_close)(void *arg, const char *why);
};

/*
 * A client for opts->url that will call cb with arg.  opts is copied
 * (strings too); the caller may wipe its URL afterwards.  Nothing
 * connects before feed_ws_start().  dns may be NULL only for URLs whose
 * host is an IP address.  Returns 0 and *out; ERR_CONFIG (logged) for a
 * bad URL or an unreadable ca_file; ERR_TLS if no TLS context could be
 * made.  Free with feed_ws_free().
 */
int feed_ws_new(struct event_base *base, struct evdns_base *dns,
    const struct feed_ws_opts *opts, const struct feed_ws_cb *cb, void *arg,
    struct feed_ws **out);

/* Connect now; from then on the client reconnects by itself. */
void feed_ws_start(struct feed_ws *c);

/*
 * Queue a text message (a subscribe) on the open connection.  Returns 0;
 * ERR_AGAIN when the connection is not open (the caller subscribes again
 * in on_open); ERR_CLOSED when it is closing.  A failure to queue drops
 * the connection (reconnect follows) and returns ERR_NOMEM.
 */
int feed_ws_send_text(struct feed_ws *c, const void *p, size_t n);

/* 1 while the websocket is open, else 0. */
int feed_ws_is_open(const struct feed_ws *c);

/* "idle", "connecting", "handshake", "open", "closing", "backoff". */
const char *feed_ws_state(const struct feed_ws *c);

/*
 * Close the connection (no close handshake), cancel every timer and free
 * c; the URL copy is wiped first.  No callback runs.  Must not be called
 * from inside one of c's callbacks.  NULL is ignored.
 */
void feed_ws_free(struct feed_ws *c);

#endif
