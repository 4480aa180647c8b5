/*
 * http_head.h: (5) the head of an HTTP/1.x request, scanned before the
 * HTTP stage lets libevent's evhttp read it.
 *
 * evhttp (libevent 2.1) answers a request line it cannot parse, a body
 * over its size limit or an unknown Expect with an HTML page, and reads
 * a body before anyone can look at the head.  The HTTP stage therefore
 * passes every request through a gate (server/http/http_gate.c) that
 * scans the head with this codec first: the gate answers what it
 * refuses with a JSON error itself, checks Content-Length against
 * http_max_body_bytes before a byte of the body is read, and hands evhttp
 * only heads that evhttp reads the same way this scanner does.  So the
 * rules below are evhttp's, made stricter wherever the two could
 * disagree about where a request ends:
 *
 *	request line   METHOD SP TARGET SP HTTP/1.0|HTTP/1.1, with a known
 *	               METHOD (evhttp's nine) and a TARGET without spaces
 *	               or control bytes, starting with '/' (or "*", or
 *	               "http://" / "https://")
 *	header line    NAME ":" VALUE; NAME a token (no spaces, no
 *	               controls); a line that starts with a space or tab
 *	               (obsolete folding) is refused
 *	line end       LF, optionally preceded by CR (evbuffer's
 *	               EVBUFFER_EOL_CRLF); the head ends at the first empty
 *	               line
 *	Content-Length 1 to 15 decimal digits, at most once
 *	Transfer-Encoding  only "chunked", never together with
 *	               Content-Length
 *	Expect         only "100-continue"
 *	Connection     at most once; "close" and "keep-alive" are reported
 *
 * Pure: no I/O, no allocation; the head is scanned in place.
 */
#ifndef PROTO_HTTP_HEAD_H
#define PROTO_HTTP_HEAD_H

#include <stddef.h>
#include <stdint.h>

enum http_method {
	HTTP_M_GET = 1,
	HTTP_M_POST,
	HTTP_M_HEAD,
	HTTP_M_PUT,
	HTTP_M_DELETE,
	HTTP_M_OPTIONS,
	HTTP_M_TRACE,
	HTTP_M_CONNECT,
	HTTP_M_PATCH
};

/* What the gate needs to know of a request. */
struct http_head {
	int method;             /* enum http_method */
	int minor;              /* HTTP/1.minor */
	int has_body;           /* evhttp reads a body for this method */
	int64_t content_length; /* -1: no Content-Length */
	int chunked;            /* Transfer-Encoding: chunked */
	int expect_continue;    /* Expect: 100-continue */
	/* Connection: close / keep-alive, as evhttp reads them (the whole
	 * value, any case); close_off is the offset of the header's name,
	 * minor_off that of the version's last digit (for the gate, which
	 * rewrites them: see server/http/http_gate.c). */
	int conn_close;
	int keep_alive;
	size_t close_off;
	size_t minor_off;
	/* The request target, pointing into the scanned bytes. */
	const uint8_t *target;
	size_t target_len;
};

/* Content-Length digits accepted (below 2^53: exact everywhere). */
#define HTTP_HEAD_MAX_CL_DIGITS 15

/*
 * Scan the request head at p[0..n) (the start of a request).  Returns
 * the head's length in bytes, its empty line included (> 0), and *out;
 * 0 when p holds no complete head yet and n < max; or a negative error
 * with *err_off (may be NULL) at the start of the offending line:
 *
 *	ERR_TOO_BIG      no complete head within max bytes
 *	ERR_MALFORMED    a request or header line breaking the rules above,
 *	                 Content-Length twice or not digits, or with chunked
 *	ERR_UNSUPPORTED  an unknown method or HTTP version, a
 *	                 Transfer-Encoding other than chunked, an Expect
 *	                 other than 100-continue
 *
 * max must be at least 16.
 */
int http_head_scan(const uint8_t *p, size_t n, size_t max,
    struct http_head *out, size_t *err_off);

/* The method's name ("GET", ...); "?" for anything else. */
const char *http_method_name(int method);

#endif
