/*
 * test_http_head.c: the request-head scanner of the HTTP gate
 * (proto/http_head.c): heads as Grafana's proxy, curl and browsers send
 * them, every split point, every refusal the gate turns into a JSON
 * error, and the limit.
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "proto/http_head.h"
#include "tests/lib/tap.h"

#define MAX 8192

static int
scan(const char *s, struct http_head *h)
{
	return http_head_scan((const uint8_t *)s, strlen(s), MAX, h, NULL);
}

/* Every proper prefix of a complete head asks for more. */
static int
splits_need_more(const char *s)
{
	struct http_head h;
	size_t i, n = strlen(s);

	for (i = 0; i < n; i++)
		if (http_head_scan((const uint8_t *)s, i, MAX, &h, NULL) != 0)
			return 0;
	return 1;
}

static void
test_golden(void)
{
	/* What Grafana's data source proxy forwards for a panel. */
	static const char grafana[] =
	    "POST /grafana/query HTTP/1.1\r\n"
	    "Host: 127.0.0.1:8080\r\n"
	    "User-Agent: Grafana/11.2.0\r\n"
	    "Content-Length: 1234\r\n"
	    "Accept: application/json, text/plain, */*\r\n"
	    "Accept-Encoding: gzip\r\n"
	    "Content-Type: application/json\r\n"
	    "X-Grafana-Org-Id: 1\r\n"
	    "\r\n"
	    "{\"body\":1}";
	static const char curl_big[] = "POST /grafana/query HTTP/1.1\r\n"
	                               "Host: localhost\r\n"
	                               "Content-Length: 2000000\r\n"
	                               "Expect: 100-continue\r\n"
	                               "\r\n";
	static const char get10[] = "GET /metrics HTTP/1.0\n\n";
	struct http_head h;
	int rc;

	rc = scan(grafana, &h);
	is_int(rc, (int)(strlen(grafana) - strlen("{\"body\":1}")),
	    "Grafana's POST: the head's length, the body left alone");
	is_int(h.method, HTTP_M_POST, "method POST");
	is_int(h.has_body, 1, "POST has a body");
	is_int(h.content_length, 1234, "Content-Length");
	is_int(h.chunked, 0, "not chunked");
	is_int(h.minor, 1, "HTTP/1.1");
	ok(h.target_len == strlen("/grafana/query") &&
	        memcmp(h.target, "/grafana/query", h.target_len) == 0,
	    "target");
	ok(splits_need_more(curl_big), "every split of curl's head needs more");
	rc = scan(curl_big, &h);
	ok(rc > 0 && h.content_length == 2000000 && h.expect_continue == 1,
	    "curl's large POST: length and Expect: 100-continue");
	rc = scan(get10, &h);
	ok(rc == (int)strlen(get10) && h.method == HTTP_M_GET && h.minor == 0 &&
	        h.content_length == -1,
	    "bare LF line ends, HTTP/1.0, no Content-Length");
	rc = scan("HEAD /healthz HTTP/1.1\r\nContent-Length: 5\r\n\r\n", &h);
	ok(rc > 0 && h.method == HTTP_M_HEAD && h.has_body == 0,
	    "HEAD: evhttp reads no body");
	rc = scan(
	    "POST /x HTTP/1.1\r\ntransfer-encoding:  Chunked \r\n\r\n", &h);
	ok(rc > 0 && h.chunked == 1, "Transfer-Encoding: chunked, any case");
	rc = scan("GET http://h/metrics HTTP/1.1\r\nExpect: x\r\n\r\n", &h);
	is_int(rc, ERR_UNSUPPORTED, "Expect other than 100-continue (1.1)");
	rc = scan("GET http://h/metrics HTTP/1.0\r\nExpect: x\r\n\r\n", &h);
	is_int(rc, ERR_UNSUPPORTED,
	    "Expect other than 100-continue in HTTP/1.0 too");
	rc = scan("GET http://h/metrics HTTP/1.0\r\n\r\n", &h);
	ok(rc > 0 && h.minor == 0 && h.minor_off == 28 && !h.keep_alive &&
	        !h.conn_close,
	    "an absolute target; HTTP/1.0, the minor digit's offset");
	rc = scan("GET / HTTP/1.1\r\nHost: x\r\nConnection: Close\r\n\r\n", &h);
	ok(rc > 0 && h.conn_close && h.close_off == 25,
	    "Connection: close, the header's offset");
	rc = scan("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &h);
	ok(rc > 0 && h.keep_alive && !h.conn_close, "Connection: keep-alive");
	rc = scan("GET / HTTP/1.1\r\nConnection: close\r\n"
	          "Connection: keep-alive\r\n\r\n",
	    &h);
	is_int(rc, ERR_MALFORMED, "Connection twice");
	rc = scan("OPTIONS * HTTP/1.1\r\n\r\n", &h);
	ok(rc > 0 && h.method == HTTP_M_OPTIONS, "OPTIONS *");
	rc = scan("POST /a HTTP/1.1\r\nContent-Length: 0\r\n\r\n", &h);
	ok(rc > 0 && h.content_length == 0, "Content-Length: 0");
	rc = scan(
	    "POST /a HTTP/1.1\r\nContent-Length: 999999999999999\r\n\r\n", &h);
	ok(rc > 0 && h.content_length == 999999999999999LL,
	    "15-digit Content-Length");
	rc = scan("POST /a HTTP/1.1\r\nX-Trace: a\tb\r\n\r\n", &h);
	ok(rc > 0, "a tab inside a value");
}

static void
test_refused(void)
{
	static const struct {
		const char *head;
		int rc;
		const char *what;
	} bad[] = {
	    {"\r\n", ERR_MALFORMED, "an empty request line"},
	    {"GET\r\n\r\n", ERR_MALFORMED, "a method alone"},
	    {"GET /\r\n\r\n", ERR_MALFORMED, "no version"},
	    {"GET  / HTTP/1.1\r\n\r\n", ERR_MALFORMED, "an empty target"},
	    {"GET / x HTTP/1.1\r\n\r\n", ERR_MALFORMED,
	        "a space inside the target"},
	    {"GET foo HTTP/1.1\r\n\r\n", ERR_MALFORMED,
	        "a target that is no path"},
	    {"GET / HTTP/2.0\r\n\r\n", ERR_UNSUPPORTED, "HTTP/2.0"},
	    {"GET / HTTP/1.1 x\r\n\r\n", ERR_MALFORMED,
	        "a word after the version"},
	    {"GET / HTTP/1.2\r\n\r\n", ERR_UNSUPPORTED, "HTTP/1.2"},
	    {"GET / FTP/1.0\r\n\r\n", ERR_MALFORMED, "not HTTP"},
	    {"BREW / HTTP/1.1\r\n\r\n", ERR_UNSUPPORTED, "an unknown method"},
	    {"get / HTTP/1.1\r\n\r\n", ERR_UNSUPPORTED, "a lower-case method"},
	    {"G(T / HTTP/1.1\r\n\r\n", ERR_MALFORMED, "a method not a token"},
	    {"GET / HTTP/1.1\r\nHost x\r\n\r\n", ERR_MALFORMED, "no colon"},
	    {"GET / HTTP/1.1\r\n: x\r\n\r\n", ERR_MALFORMED, "an empty name"},
	    {"GET / HTTP/1.1\r\nContent-Length : 5\r\n\r\n", ERR_MALFORMED,
	        "a space before the colon"},
	    {"GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", ERR_MALFORMED,
	        "obsolete line folding"},
	    {"POST / HTTP/1.1\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n",
	        ERR_MALFORMED, "Content-Length twice"},
	    {"POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n", ERR_MALFORMED,
	        "a signed Content-Length"},
	    {"POST / HTTP/1.1\r\nContent-Length: 5x\r\n\r\n", ERR_MALFORMED,
	        "Content-Length not digits"},
	    {"POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", ERR_MALFORMED,
	        "an empty Content-Length"},
	    {"POST / HTTP/1.1\r\nContent-Length: 1000000000000000\r\n\r\n",
	        ERR_MALFORMED, "a 16-digit Content-Length"},
	    {"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
	        ERR_UNSUPPORTED, "Transfer-Encoding gzip"},
	    {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
	     "Transfer-Encoding: chunked\r\n\r\n",
	        ERR_UNSUPPORTED, "Transfer-Encoding twice"},
	    {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
	     "Content-Length: 5\r\n\r\n",
	        ERR_MALFORMED, "chunked and Content-Length"},
	    {"GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", ERR_MALFORMED,
	        "a CR inside a value"},
	    {"GET /\x01 HTTP/1.1\r\n\r\n", ERR_MALFORMED,
	        "a control byte in the target"},
	};
	struct http_head h;
	size_t i, off;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = http_head_scan((const uint8_t *)bad[i].head,
		    strlen(bad[i].head), MAX, &h, &off);

		if (!ok(rc == bad[i].rc, "refused: %s", bad[i].what))
			diag("  got %d, want %d", rc, bad[i].rc);
	}
	/* The offset names the offending line. */
	http_head_scan((const uint8_t *)"GET / HTTP/1.1\r\nA: 1\r\nB\r\n\r\n",
	    27, MAX, &h, &off);
	is_int(off, 22, "err_off: the start of the bad line");
}

static void
test_limit(void)
{
	struct http_head h;
	char *big = malloc(MAX + 100);
	size_t n;
	int rc;

	memcpy(big, "GET / HTTP/1.1\r\n", 16);
	for (n = 16; n + 12 < MAX + 90; n += 12)
		memcpy(big + n, "X-Pad: 123\r\n", 12);
	rc = http_head_scan((const uint8_t *)big, n, MAX, &h, NULL);
	is_int(rc, ERR_TOO_BIG, "no end of head within max: ERR_TOO_BIG");
	rc = http_head_scan((const uint8_t *)big, MAX - 1, MAX, &h, NULL);
	is_int(rc, 0, "below max: still waiting");
	/* One header padded so that the head is exactly max bytes. */
	memcpy(big + 16, "X: ", 3);
	memset(big + 19, 'a', MAX - 16 - 3 - 4);
	memcpy(big + MAX - 4, "\r\n\r\n", 4);
	rc = http_head_scan((const uint8_t *)big, MAX, MAX, &h, NULL);
	is_int(rc, MAX, "a head of exactly max bytes is accepted");
	memmove(big + 20, big + 19, MAX - 19);
	big[19] = 'a';
	rc = http_head_scan((const uint8_t *)big, MAX + 1, MAX, &h, NULL);
	is_int(rc, ERR_TOO_BIG, "one byte more is ERR_TOO_BIG");
	free(big);
}

int
main(void)
{
	plan_lazy();
	test_golden();
	test_refused();
	test_limit();
	is_str(http_method_name(HTTP_M_PATCH), "PATCH", "method names");
	is_str(http_method_name(0), "?", "no name for an unknown method");
	return done_testing();
}
