/*
 * http_head.c: scan an HTTP/1.x request head (see http_head.h).
 */
#include <config.h>

#include <string.h>

#include "base/err.h"
#include "proto/http_head.h"

static const struct {
	const char *name;
	size_t len;
	int method;
	int has_body; /* evhttp_method_may_have_body() */
} methods[] = {
    {"GET", 3, HTTP_M_GET, 1},
    {"POST", 4, HTTP_M_POST, 1},
    {"HEAD", 4, HTTP_M_HEAD, 0},
    {"PUT", 3, HTTP_M_PUT, 1},
    {"DELETE", 6, HTTP_M_DELETE, 1},
    {"OPTIONS", 7, HTTP_M_OPTIONS, 1},
    {"TRACE", 5, HTTP_M_TRACE, 0},
    {"CONNECT", 7, HTTP_M_CONNECT, 1},
    {"PATCH", 5, HTTP_M_PATCH, 1},
};

const char *
http_method_name(int method)
{
	size_t i;

	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (methods[i].method == method)
			return methods[i].name;
	return "?";
}

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* 1: p[0..n) equals the lower-case s, ignoring ASCII case. */
static int
eq_nocase(const uint8_t *p, size_t n, const char *s)
{
	size_t i;

	if (strlen(s) != n)
		return 0;
	for (i = 0; i < n; i++)
		if (lower(p[i]) != s[i])
			return 0;
	return 1;
}

/* RFC 9110 tchar. */
static int
is_tchar(int c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Control bytes (but tab) inside a line: evhttp refuses a header
 * value holding a CR or LF, so such a head is refused here first. */
static int
controls(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
			return ERR_MALFORMED;
	return 0;
}

/* The request line p[0..n) (no line end). */
static int
request_line(const uint8_t *p, size_t n, struct http_head *h)
{
	const uint8_t *sp1, *sp2, *v;
	size_t i, mlen, vlen;

	sp1 = memchr(p, ' ', n);
	if (sp1 == NULL || sp1 == p)
		return ERR_MALFORMED;
	mlen = (size_t)(sp1 - p);
	sp2 = memchr(sp1 + 1, ' ', n - mlen - 1);
	if (sp2 == NULL || sp2 == sp1 + 1)
		return ERR_MALFORMED;
	v = sp2 + 1;
	vlen = n - (size_t)(v - p);
	if (memchr(v, ' ', vlen) != NULL) /* evhttp: the last word */
		return ERR_MALFORMED;
	h->target = sp1 + 1;
	h->target_len = (size_t)(sp2 - h->target);
	for (i = 0; i < h->target_len; i++)
		if (h->target[i] <= ' ' || h->target[i] == 0x7f)
			return ERR_MALFORMED;
	if (h->target[0] != '/' &&
	    !(h->target_len == 1 && h->target[0] == '*') &&
	    !(h->target_len > 7 && eq_nocase(h->target, 7, "http://")) &&
	    !(h->target_len > 8 && eq_nocase(h->target, 8, "https://")))
		return ERR_MALFORMED;
	for (i = 0; i < mlen; i++)
		if (!is_tchar(p[i]))
			return ERR_MALFORMED;
	if (vlen != 8 || memcmp(v, "HTTP/1.", 7) != 0)
		return vlen >= 5 && memcmp(v, "HTTP/", 5) == 0 ? ERR_UNSUPPORTED
		                                               : ERR_MALFORMED;
	if (v[7] != '0' && v[7] != '1')
		return ERR_UNSUPPORTED;
	h->minor = v[7] - '0';
	h->minor_off = (size_t)(v + 7 - p);
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (methods[i].len == mlen &&
		    memcmp(methods[i].name, p, mlen) == 0)
			break;
	if (i == sizeof(methods) / sizeof(methods[0]))
		return ERR_UNSUPPORTED;
	h->method = methods[i].method;
	h->has_body = methods[i].has_body;
	return 0;
}

/* A header line p[0..n) (no line end). */
static int
header_line(const uint8_t *p, size_t n, size_t off, struct http_head *h)
{
	const uint8_t *colon = memchr(p, ':', n), *v, *e;
	size_t nlen, i;

	if (p[0] == ' ' || p[0] == '\t') /* obsolete line folding */
		return ERR_MALFORMED;
	if (colon == NULL || colon == p)
		return ERR_MALFORMED;
	nlen = (size_t)(colon - p);
	for (i = 0; i < nlen; i++)
		if (!is_tchar(p[i]))
			return ERR_MALFORMED;
	/* The value as evhttp keeps it: leading spaces and trailing
	 * whitespace dropped. */
	v = colon + 1;
	e = p + n;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		e--;
	if (eq_nocase(p, nlen, "content-length")) {
		int64_t cl = 0;

		if (h->content_length >= 0 || e == v ||
		    e - v > HTTP_HEAD_MAX_CL_DIGITS)
			return ERR_MALFORMED;
		for (; v < e; v++) {
			if (*v < '0' || *v > '9')
				return ERR_MALFORMED;
			cl = cl * 10 + (*v - '0');
		}
		h->content_length = cl;
	} else if (eq_nocase(p, nlen, "transfer-encoding")) {
		if (h->chunked || !eq_nocase(v, (size_t)(e - v), "chunked"))
			return ERR_UNSUPPORTED;
		h->chunked = 1;
	} else if (eq_nocase(p, nlen, "connection")) {
		if (h->conn_close || h->keep_alive)
			return ERR_MALFORMED; /* evhttp would read the first */
		if (eq_nocase(v, (size_t)(e - v), "close")) {
			h->conn_close = 1;
			h->close_off = off;
		} else if (eq_nocase(v, (size_t)(e - v), "keep-alive")) {
			h->keep_alive = 1;
		}
	} else if (eq_nocase(p, nlen, "expect")) {
		/* In any version: the gate may make evhttp read a 1.0 head
		 * as 1.1, where evhttp looks at Expect. */
		if (!eq_nocase(v, (size_t)(e - v), "100-continue"))
			return ERR_UNSUPPORTED;
		h->expect_continue = 1;
	}
	return 0;
}

int
http_head_scan(const uint8_t *p, size_t n, size_t max, struct http_head *out,
    size_t *err_off)
{
	size_t off = 0, lim = n < max ? n : max;
	int rc, line = 0;

	memset(out, 0, sizeof(*out));
	out->content_length = -1;
	for (;;) {
		const uint8_t *lf = memchr(p + off, '\n', lim - off);
		size_t len;

		if (lf == NULL)
			return n >= max ? ERR_TOO_BIG : 0;
		len = (size_t)(lf - (p + off));
		if (len > 0 && p[off + len - 1] == '\r')
			len--;
		if (len == 0) {
			if (line == 0) {
				rc = ERR_MALFORMED; /* no request line */
				goto fail;
			}
			if (out->chunked && out->content_length >= 0) {
				rc = ERR_MALFORMED;
				goto fail;
			}
			return (int)(lf - p) + 1;
		}
		rc = controls(p + off, len);
		if (rc == 0)
			rc = line == 0 ? request_line(p + off, len, out)
			               : header_line(p + off, len, off, out);
		if (rc != 0)
			goto fail;
		line++;
		off = (size_t)(lf - p) + 1;
	}
fail:
	if (err_off != NULL)
		*err_off = off;
	return rc;
}
