/*
 * test_ws_handshake.c: the websocket opening handshake and ws:// URLs
 * (proto/ws_handshake.c): RFC 6455 vectors, every split point, oversize
 * headers, refusals, case-insensitive names, and URL forms.
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "proto/wbuf.h"
#include "proto/ws_handshake.h"
#include "tests/lib/tap.h"

/* RFC 6455 §1.3 and §4.2.2. */
#define RFC_KEY    "dGhlIHNhbXBsZSBub25jZQ=="
#define RFC_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

static const char rfc_response[] = "HTTP/1.1 101 Switching Protocols\r\n"
                                   "Upgrade: websocket\r\n"
                                   "Connection: Upgrade\r\n"
                                   "Sec-WebSocket-Accept: " RFC_ACCEPT "\r\n"
                                   "\r\n";

static int
parse_resp(const char *s, struct ws_hs_resp *r)
{
	size_t off;

	return ws_handshake_parse_response(
	    (const uint8_t *)s, strlen(s), RFC_ACCEPT, r, &off);
}

static int
parse_req(const char *s, struct ws_hs_req *r)
{
	size_t off;

	return ws_handshake_parse_request(
	    (const uint8_t *)s, strlen(s), r, &off);
}

static int
slice_is(struct ws_slice s, const char *want)
{
	return s.n == strlen(want) && memcmp(s.p, want, s.n) == 0;
}

static void
test_rfc_vectors(void)
{
	static const uint8_t nonce[16] = "the sample nonce";
	char key[WS_KEY_LEN + 1], accept[WS_ACCEPT_LEN + 1];

	ws_handshake_key(nonce, key);
	is_str(key, RFC_KEY, "key of the RFC's nonce");
	is_int(ws_handshake_accept(RFC_KEY, accept), 0, "accept computes");
	is_str(accept, RFC_ACCEPT, "RFC 6455 accept vector");
	{
		char big[200];

		memset(big, 'A', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		is_int(ws_handshake_accept(big, accept), ERR_RANGE,
		    "an absurdly long key is refused");
	}
}

static void
test_request_roundtrip(void)
{
	static const char want[] = "GET /chat?token=abc HTTP/1.1\r\n"
	                           "Host: server.example.com\r\n"
	                           "Upgrade: websocket\r\n"
	                           "Connection: Upgrade\r\n"
	                           "Sec-WebSocket-Key: " RFC_KEY "\r\n"
	                           "Sec-WebSocket-Version: 13\r\n"
	                           "User-Agent: finnstream\r\n"
	                           "\r\n";
	struct ws_hs_req r;
	struct wbuf w;
	size_t k, off;
	int rc, all_zero = 1;

	wbuf_init(&w, 0);
	ws_handshake_request(
	    &w, "server.example.com", "/chat?token=abc", RFC_KEY);
	is_int(w.err, 0, "request encodes");
	is_mem(w.buf, w.len, want, strlen(want), "request bytes");
	rc = ws_handshake_parse_request(w.buf, w.len, &r, &off);
	is_int(rc, (int)w.len, "our request parses as an upgrade");
	ok(slice_is(r.target, "/chat?token=abc"), "target");
	ok(slice_is(r.host, "server.example.com"), "host");
	ok(slice_is(r.key, RFC_KEY), "key");
	for (k = 0; k < w.len; k++)
		if (ws_handshake_parse_request(w.buf, k, &r, &off) != 0)
			all_zero = 0;
	ok(all_zero, "every prefix of the request needs more");

	/* A target without a path gets one. */
	wbuf_reset(&w);
	ws_handshake_request(&w, "h", "?token=x", RFC_KEY);
	ok(w.len > 20 && memcmp(w.buf, "GET /?token=x HTTP/1.1\r\n", 24) == 0,
	    "a bare query gets a leading /");
	wbuf_reset(&w);
	ws_handshake_request(&w, "h", "", RFC_KEY);
	ok(memcmp(w.buf, "GET / HTTP/1.1\r\n", 16) == 0, "empty target is /");
	wbuf_fini(&w);
}

static void
test_response_splits(void)
{
	char buf[512];
	struct ws_hs_resp r;
	size_t len = strlen(rfc_response), k, off;
	int rc, bad = 0;

	/* The first frame may arrive in the same read as the header. */
	memcpy(buf, rfc_response, len);
	memcpy(buf + len, "\x81\x02hi", 4);
	rc = ws_handshake_parse_response(
	    (const uint8_t *)buf, len + 4, RFC_ACCEPT, &r, &off);
	is_int(rc, (int)len, "RFC response: header length, frame left");
	is_int(r.status, 101, "status 101");
	ok(slice_is(r.reason, "Switching Protocols"), "reason phrase");
	ok(slice_is(r.accept, RFC_ACCEPT), "accept slice");

	for (k = 0; k < len; k++) {
		/* Exact-size copy, so ASan catches a read past the end. */
		uint8_t *p = malloc(k ? k : 1);

		memcpy(p, rfc_response, k);
		if (ws_handshake_parse_response(p, k, RFC_ACCEPT, &r, &off) !=
		    0)
			bad++;
		free(p);
	}
	is_int(bad, 0, "every split point before the blank line needs more");
}

static void
test_oversize(void)
{
	size_t n = WS_HS_MAX_HEADER + 1, off;
	uint8_t *p = malloc(n);
	struct ws_hs_resp r;
	struct ws_hs_req q;
	int rc;

	memset(p, 'a', n);
	memcpy(p, "HTTP/1.1 101 X\r\nX-Pad: ", 23);
	rc = ws_handshake_parse_response(
	    p, WS_HS_MAX_HEADER - 1, RFC_ACCEPT, &r, &off);
	is_int(rc, 0, "just under the limit: still waiting");
	rc = ws_handshake_parse_response(
	    p, WS_HS_MAX_HEADER, RFC_ACCEPT, &r, &off);
	is_int(rc, ERR_TOO_BIG, "no header end within the limit: too big");
	rc = ws_handshake_parse_response(p, n, RFC_ACCEPT, &r, &off);
	is_int(rc, ERR_TOO_BIG, "past the limit: too big");
	rc = ws_handshake_parse_request(p, n, &q, &off);
	is_int(rc, ERR_TOO_BIG, "an oversize request: too big");
	is_int(q.status, 431, "refused with 431");

	/* A header ending exactly at the limit is fine. */
	{
		static const char head[] =
		    "HTTP/1.1 101 OK\r\n"
		    "Upgrade: websocket\r\n"
		    "Connection: Upgrade\r\n"
		    "Sec-WebSocket-Accept: " RFC_ACCEPT "\r\n"
		    "X-Pad: ";
		size_t h = strlen(head);

		memcpy(p, head, h);
		memset(p + h, 'b', WS_HS_MAX_HEADER - h - 4);
		memcpy(p + WS_HS_MAX_HEADER - 4, "\r\n\r\n", 4);
		rc = ws_handshake_parse_response(
		    p, WS_HS_MAX_HEADER, RFC_ACCEPT, &r, &off);
		is_int(rc, WS_HS_MAX_HEADER, "a header of exactly the limit");
	}
	free(p);
}

static void
test_refusals(void)
{
	struct ws_hs_resp r;
	size_t off = 0;
	int rc;

	rc = parse_resp("HTTP/1.1 401 Unauthorized\r\n"
	                "Content-Length: 0\r\n\r\n",
	    &r);
	is_int(rc, ERR_PROTO, "401 is a protocol failure");
	is_int(r.status, 401, "with the status for the log");
	ok(slice_is(r.reason, "Unauthorized"), "and the reason phrase");

	rc = parse_resp("HTTP/1.1 200 OK\r\n\r\n", &r);
	is_int(rc, ERR_PROTO, "200 is not an upgrade (Finnhub issue #346)");
	is_int(r.status, 200, "status 200");

	rc = parse_resp("HTTP/1.1 101 Switching Protocols\r\n"
	                "Upgrade: websocket\r\n"
	                "Connection: Upgrade\r\n"
	                "Sec-WebSocket-Accept: xxxPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
	                "\r\n",
	    &r);
	is_int(rc, ERR_PROTO, "wrong accept");
	is_str(r.why, "wrong Sec-WebSocket-Accept", "why: wrong accept");

	rc = ws_handshake_parse_response((const uint8_t *)rfc_response,
	    strlen(rfc_response), "AAAA", &r, &off);
	is_int(rc, ERR_PROTO, "accept for another key");
	ok(off > 0 && off < strlen(rfc_response) &&
	        memcmp(rfc_response + off, RFC_ACCEPT, 4) == 0,
	    "error offset points at the accept value");

	rc = parse_resp("HTTP/1.1 101 Switching Protocols\r\n"
	                "Upgrade: websocket\r\n"
	                "Connection: Upgrade\r\n\r\n",
	    &r);
	is_int(rc, ERR_PROTO, "missing accept");
	rc = parse_resp("HTTP/1.1 101 Switching Protocols\r\n"
	                "Connection: Upgrade\r\n"
	                "Sec-WebSocket-Accept: " RFC_ACCEPT "\r\n\r\n",
	    &r);
	is_int(rc, ERR_PROTO, "missing Upgrade");
	rc = parse_resp("HTTP/1.1 101 Switching Protocols\r\n"
	                "Upgrade: h2c\r\n"
	                "Connection: Upgrade\r\n"
	                "Sec-WebSocket-Accept: " RFC_ACCEPT "\r\n\r\n",
	    &r);
	is_int(rc, ERR_PROTO, "Upgrade to something else");
	rc = parse_resp("HTTP/1.1 101 Switching Protocols\r\n"
	                "Upgrade: websocket\r\n"
	                "Sec-WebSocket-Accept: " RFC_ACCEPT "\r\n\r\n",
	    &r);
	is_int(rc, ERR_PROTO, "missing Connection");
	rc = parse_resp("HTTP/1.1 101 Switching Protocols\r\n"
	                "Upgrade: websocket\r\n"
	                "Connection: Upgrade\r\n"
	                "Sec-WebSocket-Accept: " RFC_ACCEPT "\r\n"
	                "Sec-WebSocket-Accept: " RFC_ACCEPT "\r\n\r\n",
	    &r);
	is_int(rc, ERR_PROTO, "two accepts");
	rc = parse_resp("HTTP/1.1 101 Switching Protocols\r\n"
	                "Upgrade: websocket\r\n"
	                "Connection: Upgrade\r\n"
	                "Sec-WebSocket-Extensions: permessage-deflate\r\n"
	                "Sec-WebSocket-Accept: " RFC_ACCEPT "\r\n\r\n",
	    &r);
	is_int(rc, ERR_PROTO, "an extension we did not ask for");
}

static void
test_case_and_whitespace(void)
{
	struct ws_hs_resp r;
	int rc;

	rc = parse_resp("HTTP/1.1 101 Switching Protocols\r\n"
	                "UPGRADE: WebSocket\r\n"
	                "connection: keep-alive, Upgrade\r\n"
	                "sec-websocket-ACCEPT: \t " RFC_ACCEPT " \t\r\n"
	                "Server: x\r\n"
	                "\r\n",
	    &r);
	ok(rc > 0, "header names are case-insensitive, values trimmed");
	ok(slice_is(r.accept, RFC_ACCEPT), "trimmed accept");
	rc = parse_resp("HTTP/1.1 101\r\n"
	                "Upgrade: websocket\r\n"
	                "Connection: upgrade\r\n"
	                "Sec-WebSocket-Accept: " RFC_ACCEPT "\r\n\r\n",
	    &r);
	ok(rc > 0, "a status line without a reason phrase");
	rc = parse_resp("HTTP/1.0 101 Switching Protocols\r\n"
	                "Upgrade: websocket\r\n"
	                "Connection: Upgrade\r\n"
	                "Sec-WebSocket-Accept: " RFC_ACCEPT "\r\n\r\n",
	    &r);
	ok(rc > 0, "any HTTP/1.x status line");
}

static void
test_malformed(void)
{
	static const char *const bad[] = {
	    /* folding */
	    "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n  more\r\n\r\n",
	    /* space before the colon */
	    "HTTP/1.1 101 OK\r\nUpgrade : websocket\r\n\r\n",
	    /* bare LF inside */
	    "HTTP/1.1 101 OK\nUpgrade: websocket\r\n\r\n",
	    /* bare CR inside a value */
	    "HTTP/1.1 101 OK\r\nUpgrade: web\rsocket\r\n\r\n",
	    /* no colon */
	    "HTTP/1.1 101 OK\r\nUpgrade websocket\r\n\r\n",
	    /* status line forms */
	    "HTTP/1.1 10 OK\r\n\r\n",
	    "HTTP/1.1 1010 OK\r\n\r\n",
	    "HTTP/2 101 OK\r\n\r\n",
	    "ICY 101 OK\r\n\r\n",
	    "HTTP/1.1  101 OK\r\n\r\n",
	    "\r\n\r\n",
	    /* control character in a value */
	    "HTTP/1.1 101 OK\r\nX: a\001b\r\n\r\n",
	};
	struct ws_hs_resp r;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(
		    parse_resp(bad[i], &r), ERR_MALFORMED, "malformed #%zu", i);
}

static const char good_request[] = "GET /ws?token=T HTTP/1.1\r\n"
                                   "Host: 127.0.0.1:9000\r\n"
                                   "upgrade: WebSocket\r\n"
                                   "CONNECTION: keep-alive, Upgrade\r\n"
                                   "Sec-WebSocket-Key: " RFC_KEY "\r\n"
                                   "Sec-WebSocket-Version: 13\r\n"
                                   "\r\n";

static void
test_server_side(void)
{
	static const struct {
		const char *req;
		int rc, status;
	} cases[] = {
	    {"POST / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
	     "Connection: Upgrade\r\nSec-WebSocket-Key: " RFC_KEY "\r\n"
	     "Sec-WebSocket-Version: 13\r\n\r\n",
	        ERR_PROTO, 405},
	    {"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
	     "Connection: Upgrade\r\nSec-WebSocket-Key: " RFC_KEY "\r\n"
	     "Sec-WebSocket-Version: 8\r\n\r\n",
	        ERR_PROTO, 426},
	    {"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
	     "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n",
	        ERR_PROTO, 400},
	    {"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
	     "Connection: Upgrade\r\nSec-WebSocket-Key: abc\r\n"
	     "Sec-WebSocket-Version: 13\r\n\r\n",
	        ERR_PROTO, 400},
	    {"GET / HTTP/1.0\r\nHost: h\r\nUpgrade: websocket\r\n"
	     "Connection: Upgrade\r\nSec-WebSocket-Key: " RFC_KEY "\r\n"
	     "Sec-WebSocket-Version: 13\r\n\r\n",
	        ERR_PROTO, 400},
	    {"GET / HTTP/1.1\r\nUpgrade: websocket\r\n"
	     "Connection: Upgrade\r\nSec-WebSocket-Key: " RFC_KEY "\r\n"
	     "Sec-WebSocket-Version: 13\r\n\r\n",
	        ERR_PROTO, 400},
	    {"GET / HTTP/1.1\r\nHost: h\r\n"
	     "Connection: Upgrade\r\nSec-WebSocket-Key: " RFC_KEY "\r\n"
	     "Sec-WebSocket-Version: 13\r\n\r\n",
	        ERR_PROTO, 400},
	    {"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
	     "Sec-WebSocket-Key: " RFC_KEY "\r\n"
	     "Sec-WebSocket-Version: 13\r\n\r\n",
	        ERR_PROTO, 400},
	    {"GET /a b HTTP/1.1\r\n\r\n", ERR_MALFORMED, 400},
	    {"GET /\r\n\r\n", ERR_MALFORMED, 400},
	    {"GET / HTTP/1.1\r\nHost h\r\n\r\n", ERR_MALFORMED, 400},
	};
	struct ws_hs_req r;
	size_t i, k, len = strlen(good_request), off;
	int rc, bad = 0;

	rc = parse_req(good_request, &r);
	is_int(rc, (int)len, "an upgrade request parses");
	ok(slice_is(r.target, "/ws?token=T"), "target with its query");
	ok(slice_is(r.host, "127.0.0.1:9000"), "host");
	ok(slice_is(r.key, RFC_KEY), "key");
	for (k = 0; k < len; k++) {
		uint8_t *p = malloc(k ? k : 1);

		memcpy(p, good_request, k);
		if (ws_handshake_parse_request(p, k, &r, &off) != 0)
			bad++;
		free(p);
	}
	is_int(bad, 0, "every split point of a request needs more");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rc = parse_req(cases[i].req, &r);
		ok(rc == cases[i].rc && r.status == cases[i].status &&
		        r.why != NULL,
		    "bad request #%zu: %d / %d (%s)", i, rc, r.status,
		    r.why ? r.why : "-");
	}
}

static void
test_server_replies(void)
{
	char accept[WS_ACCEPT_LEN + 1];
	struct ws_hs_resp r;
	struct wbuf w;
	size_t off;
	int rc;

	wbuf_init(&w, 0);
	ws_handshake_accept(RFC_KEY, accept);
	ws_handshake_response(&w, accept);
	rc = ws_handshake_parse_response(w.buf, w.len, RFC_ACCEPT, &r, &off);
	is_int(rc, (int)w.len, "our 101 satisfies our client parser");

	wbuf_reset(&w);
	ws_handshake_reject(&w, 401, NULL);
	rc = ws_handshake_parse_response(w.buf, w.len, RFC_ACCEPT, &r, &off);
	is_int(rc, ERR_PROTO, "a 401 refusal");
	is_int(r.status, 401, "reads back as 401");
	ok(slice_is(r.reason, "Unauthorized"), "with the standard phrase");
	ok(w.len > 4 && memcmp(w.buf + w.len - 13, "Unauthorized\n", 13) == 0,
	    "body names the reason");

	wbuf_reset(&w);
	ws_handshake_reject(&w, 400, "bad\r\nSet-Cookie: x=1");
	rc = ws_handshake_parse_response(w.buf, w.len, RFC_ACCEPT, &r, &off);
	ok(rc == ERR_PROTO && slice_is(r.reason, "bad  Set-Cookie: x=1"),
	    "a reason cannot split the header");

	wbuf_reset(&w);
	ws_handshake_reject(&w, 426, NULL);
	wbuf_u8(&w, 0);
	ok(strstr((char *)w.buf, "\r\nSec-WebSocket-Version: 13\r\n") != NULL,
	    "426 names the version we speak");
	wbuf_fini(&w);
}

static void
test_urls(void)
{
	struct ws_url u;
	char hh[300];
	static const char *const bad[] = {"ws://", "ws://:80",
	    "ws://h:", "ws://h:0", "ws://h:65536", "ws://h:123456",
	    "ws://user@h/", "ws://h h/", "ws://h/\r\nX: y", "ws://[::1/",
	    "ws://[]/", "ws://[::1]x/", "ws://h:8a/", "ws:/h", "ws//h", "h:80",
	    "ws://h%41/", "ws://h/\x80"};
	size_t i;

	is_int(ws_url_parse("wss://ws.finnhub.io?token=abc", &u), 0,
	    "Finnhub's URL");
	ok(u.tls && slice_is(u.host, "ws.finnhub.io") && u.port == 443 &&
	        !u.port_given && slice_is(u.target, "?token=abc"),
	    "wss, host, default port 443, target");
	is_int(ws_url_host_header(&u, hh, sizeof(hh)), 13, "Host length");
	is_str(hh, "ws.finnhub.io", "Host without the default port");

	is_int(ws_url_parse("ws://127.0.0.1:8080/path?x=1#frag", &u), 0,
	    "ws with port, path, query, fragment");
	ok(!u.tls && slice_is(u.host, "127.0.0.1") && u.port == 8080 &&
	        slice_is(u.target, "/path?x=1"),
	    "fragment dropped");
	ws_url_host_header(&u, hh, sizeof(hh));
	is_str(hh, "127.0.0.1:8080", "Host with a port");

	is_int(ws_url_parse("WS://[::1]:9000/", &u), 0, "IPv6 literal");
	ok(u.ipv6 && slice_is(u.host, "::1") && u.port == 9000 &&
	        slice_is(u.target, "/"),
	    "brackets stripped from the host");
	ws_url_host_header(&u, hh, sizeof(hh));
	is_str(hh, "[::1]:9000", "Host keeps the brackets");

	is_int(ws_url_parse("ws://h", &u), 0, "bare host");
	ok(u.port == 80 && u.target.n == 0, "port 80, empty target");
	is_int(ws_url_parse("wss://h:443/x", &u), 0, "explicit default port");
	ws_url_host_header(&u, hh, sizeof(hh));
	is_str(hh, "h", "Host omits a default port");
	is_int(ws_url_host_header(&u, hh, 1), ERR_TOO_BIG, "small buffer");

	is_int(ws_url_parse("http://h/", &u), ERR_UNSUPPORTED,
	    "http:// is another scheme");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(
		    ws_url_parse(bad[i], &u), ERR_MALFORMED, "bad URL #%zu", i);
}

int
main(void)
{
	plan_lazy();
	test_rfc_vectors();
	test_request_roundtrip();
	test_response_splits();
	test_oversize();
	test_refusals();
	test_case_and_whitespace();
	test_malformed();
	test_server_side();
	test_server_replies();
	test_urls();
	return done_testing();
}
