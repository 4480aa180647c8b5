/*
 * ws_handshake.h: (1) the websocket opening handshake (RFC 6455 §4) and
 * ws:// / wss:// URLs, for the feed's client and for finnhub-sim.
 *
 * Client side:
 *
 *	ws_url_parse(url)              -> host, port, Host header, target
 *	ws_handshake_key(16 random bytes)        -> Sec-WebSocket-Key
 *	ws_handshake_accept(key)                 -> the Accept we expect
 *	ws_handshake_request(w, ...)             -> "GET target HTTP/1.1..."
 *	ws_handshake_parse_response(bytes, ...)  -> 101 checked, header length
 *
 * Server side (finnhub-sim, tests):
 *
 *	ws_handshake_parse_request(bytes, ...)   -> target, key; or a status
 *	ws_handshake_response(w, accept)         -> "HTTP/1.1 101 ..."
 *	ws_handshake_reject(w, status, reason)   -> "HTTP/1.1 401 ..."
 *
 * The parsers take the bytes received so far and return 0 until the whole
 * header (up to the blank line) is there, then the header's length; the
 * bytes after it are the first websocket frames.  An HTTP header has no
 * length prefix, so the caller keeps the bytes and calls again when more
 * arrive; a header longer than WS_HS_MAX_HEADER fails with ERR_TOO_BIG
 * instead of waiting forever.  Header names are matched without regard to
 * case, values are trimmed, obsolete line folding is refused, and lines
 * end in CRLF.
 *
 * Pure code: no I/O, no logging, no allocation.  SHA-1 and base64 come
 * from OpenSSL's libcrypto.  Slices returned point into the bytes given.
 */
#ifndef PROTO_WS_HANDSHAKE_H
#define PROTO_WS_HANDSHAKE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "proto/wbuf.h"

/* The longest request or response header either parser accepts. */
#define WS_HS_MAX_HEADER (16 * 1024)
/* base64 of the 16-byte nonce, and of the 20-byte SHA-1; without NUL. */
#define WS_KEY_LEN    24
#define WS_ACCEPT_LEN 28

/* A byte range inside the buffer given to a parser; not NUL-terminated. */
struct ws_slice {
	const char *p;
	size_t n;
};

/* ---- URLs --------------------------------------------------------------- */

struct ws_url {
	int tls;                /* 1 for wss:// */
	struct ws_slice host;   /* without the brackets of an IPv6 literal */
	int ipv6;               /* host was written [like:this] */
	uint16_t port;          /* explicit, or 80 / 443 */
	int port_given;         /* the URL named a port */
	struct ws_slice target; /* path and query, "" when both absent */
};

/*
 * Split a ws:// or wss:// URL (scheme case-insensitive): host (a name, an
 * IPv4 address, or an IPv6 literal in brackets), an optional :port, and
 * the path with its query.  A fragment is dropped.  User information
 * (user@host), an empty host, a port outside 1..65535, and spaces or
 * control characters anywhere (they would break the request line) are
 * refused.  The slices point into url, which must be NUL-terminated.
 * Returns 0, ERR_UNSUPPORTED for another scheme, or ERR_MALFORMED.
 */
int ws_url_parse(const char *url, struct ws_url *out);

/*
 * The Host header value for u into buf ("host", "host:port", "[::1]:port";
 * the port only when it is not the scheme's default).  Returns the length,
 * or ERR_TOO_BIG when it does not fit in size (buf is then "").
 */
int ws_url_host_header(const struct ws_url *u, char *buf, size_t size);

/* ---- client side ------------------------------------------------------- */

/* Sec-WebSocket-Key for a fresh 16-byte random nonce: 24 chars + NUL. */
void ws_handshake_key(const uint8_t nonce[16], char key[WS_KEY_LEN + 1]);

/*
 * Sec-WebSocket-Accept for key: base64(SHA-1(key + the RFC 6455 GUID)),
 * 28 chars + NUL.  Returns 0, or ERR_UNSUPPORTED if libcrypto refuses
 * SHA-1 (accept is then "").
 */
int ws_handshake_accept(const char *key, char accept[WS_ACCEPT_LEN + 1]);

/*
 * Append the upgrade request: GET path_and_query ("" is sent as "/"),
 * Host, Upgrade, Connection, Sec-WebSocket-Key, Sec-WebSocket-Version 13
 * and User-Agent.  The strings must hold no CR or LF (ws_url_parse
 * guarantees it for what it returns); errors latch in w->err.
 */
void ws_handshake_request(struct wbuf *w, const char *host_header,
    const char *path_and_query, const char *key);

struct ws_hs_resp {
	int status;             /* the HTTP status code, once the line parsed */
	struct ws_slice reason; /* its reason phrase */
	struct ws_slice accept; /* Sec-WebSocket-Accept, if present */
	const char *why;        /* on an error: what was wrong (static text) */
};

/*
 * Parse the server's answer to the upgrade request, in p[0..n).
 * Returns the header's length (the blank line included) when it is a
 * "101" with "Upgrade: websocket", a "Connection" naming "upgrade", the
 * Sec-WebSocket-Accept equal to expect_accept, and no extension or
 * subprotocol (none was asked for); 0 while the header is incomplete;
 * ERR_TOO_BIG when no header ends within WS_HS_MAX_HEADER bytes;
 * ERR_MALFORMED when it is not an HTTP/1.x response; ERR_PROTO when any
 * of the above does not hold, including any status but 101 (out->status
 * and out->reason tell which: a 401 means the token was refused).
 * On an error out->why names the problem and *err_off (if err_off is not
 * NULL) is the offset of the offending byte.
 */
int ws_handshake_parse_response(const uint8_t *p, size_t n,
    const char *expect_accept, struct ws_hs_resp *out, size_t *err_off);

/* ---- server side ------------------------------------------------------- */

struct ws_hs_req {
	struct ws_slice target; /* path and query as sent */
	struct ws_slice host;   /* the Host header */
	struct ws_slice key;    /* Sec-WebSocket-Key, WS_KEY_LEN bytes */
	int status;             /* on an error: the status to reject with */
	const char *why;        /* on an error: what was wrong (static text) */
};

/*
 * Parse a client's upgrade request, in p[0..n).  Returns the header's
 * length when it is "GET target HTTP/1.1" (or a later 1.x) with a Host,
 * "Upgrade: websocket", a Connection naming "upgrade", a
 * Sec-WebSocket-Key that is base64 of 16 bytes, and
 * "Sec-WebSocket-Version: 13"; 0 while the header is incomplete;
 * ERR_TOO_BIG beyond WS_HS_MAX_HEADER; ERR_MALFORMED for bad HTTP syntax
 * (out->status 400); ERR_PROTO for a valid HTTP request that is not a
 * websocket upgrade (out->status: 405 for another method, 426 for another
 * version, 400 otherwise).  On an error out->why names the problem and
 * *err_off (if not NULL) is the offending byte's offset.
 */
int ws_handshake_parse_request(
    const uint8_t *p, size_t n, struct ws_hs_req *out, size_t *err_off);

/* Append the "101 Switching Protocols" answer carrying accept. */
void ws_handshake_response(struct wbuf *w, const char *accept);

/*
 * Append a refusal: "HTTP/1.1 <status> <reason>", a short text body with
 * the reason, Connection: close, and for 426 the version we speak.
 * reason NULL means the standard phrase; control characters in reason are
 * replaced by spaces so a caller cannot split the header.
 */
void ws_handshake_reject(struct wbuf *w, int status, const char *reason);

#endif
