/*
 * ws_handshake.c: (1) the websocket opening handshake and ws:// URLs
 * (see ws_handshake.h).
 *
 * Both parsers first look for the blank line that ends the header, so a
 * header is judged only once it is whole, then walk it line by line.
 * Lines end in CRLF; a bare CR or LF, a line starting with white space
 * (obsolete folding) or a control character inside a value makes the
 * header malformed, because such bytes are how header-splitting attacks
 * and desynchronised parsers start.
 */
#include <config.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "proto/ws_handshake.h"

/* RFC 6455 §1.3: appended to the key before hashing. */
static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/* ---- small helpers ------------------------------------------------------ */

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static int
slice_eq_nocase(struct ws_slice s, const char *lit)
{
	size_t i, n = strlen(lit);

	if (s.n != n)
		return 0;
	for (i = 0; i < n; i++)
		if (lower((unsigned char)s.p[i]) !=
		    lower((unsigned char)lit[i]))
			return 0;
	return 1;
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* RFC 7230 tchar: the characters of a method or header name. */
static int
is_tchar(int c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int
is_ows(int c)
{
	return c == ' ' || c == '\t';
}

/* Does the comma-separated list s contain tok (case-insensitive)? */
static int
has_token(struct ws_slice s, const char *tok)
{
	size_t i = 0, start, end;
	struct ws_slice t;

	while (i <= s.n) {
		start = i;
		while (i < s.n && s.p[i] != ',')
			i++;
		end = i;
		while (start < end && is_ows((unsigned char)s.p[start]))
			start++;
		while (end > start && is_ows((unsigned char)s.p[end - 1]))
			end--;
		t.p = s.p + start;
		t.n = end - start;
		if (slice_eq_nocase(t, tok))
			return 1;
		i++; /* past the comma (or the end) */
	}
	return 0;
}

/*
 * Length of the header in p[0..n) (through the blank line), 0 if it has
 * not ended yet, ERR_TOO_BIG if it cannot end within the limit.
 */
static long
header_end(const uint8_t *p, size_t n)
{
	size_t i, lim = n < WS_HS_MAX_HEADER ? n : WS_HS_MAX_HEADER;

	for (i = 3; i < lim; i++)
		if (p[i] == '\n' && p[i - 1] == '\r' && p[i - 2] == '\n' &&
		    p[i - 3] == '\r')
			return (long)(i + 1);
	return n >= WS_HS_MAX_HEADER ? ERR_TOO_BIG : 0;
}

/*
 * A cursor over the lines of a complete header.  next_line() yields the
 * next line without its CRLF; the blank line ends the walk (returns 0).
 */
struct lines {
	const char *base;
	size_t off;
	size_t end; /* header length; the final CRLF CRLF is inside */
};

/* 1 and *line for a line, 0 at the blank line, ERR_MALFORMED (*bad). */
static int
next_line(struct lines *l, struct ws_slice *line, size_t *bad)
{
	size_t i = l->off;

	while (i < l->end && l->base[i] != '\r' && l->base[i] != '\n')
		i++;
	/* header_end() guarantees a CRLF before l->end. */
	if (i + 1 >= l->end || l->base[i] != '\r' || l->base[i + 1] != '\n') {
		*bad = i;
		return ERR_MALFORMED;
	}
	line->p = l->base + l->off;
	line->n = i - l->off;
	l->off = i + 2;
	return line->n > 0;
}

struct field {
	struct ws_slice name;
	struct ws_slice value;
};

/* Split "Name: value"; ERR_MALFORMED with *bad = offset in the line. */
static int
split_field(struct ws_slice line, struct field *f, size_t *bad)
{
	size_t i = 0, start, end;

	while (i < line.n && is_tchar((unsigned char)line.p[i]))
		i++;
	/* No name, folding (leading white space), or space before ':'. */
	if (i == 0 || i == line.n || line.p[i] != ':') {
		*bad = i;
		return ERR_MALFORMED;
	}
	f->name.p = line.p;
	f->name.n = i;
	start = i + 1;
	for (i = start; i < line.n; i++) {
		unsigned char c = (unsigned char)line.p[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			*bad = i;
			return ERR_MALFORMED;
		}
	}
	end = line.n;
	while (start < end && is_ows((unsigned char)line.p[start]))
		start++;
	while (end > start && is_ows((unsigned char)line.p[end - 1]))
		end--;
	f->value.p = line.p + start;
	f->value.n = end - start;
	return 0;
}

/* "HTTP/1.x" at s; returns x (0..9) or -1. */
static int
http1_minor(const char *s, size_t n)
{
	if (n < 8 || memcmp(s, "HTTP/1.", 7) != 0 ||
	    !is_digit((unsigned char)s[7]))
		return -1;
	return s[7] - '0';
}

static int
fail(int rc, const char **why, const char *what, size_t *err_off, size_t off)
{
	*why = what;
	if (err_off != NULL)
		*err_off = off;
	return rc;
}

/* ---- URLs --------------------------------------------------------------- */

static int
is_host_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       is_digit(c) || c == '-' || c == '.' || c == '_';
}

int
ws_url_parse(const char *url, struct ws_url *out)
{
	const char *p, *h, *auth_end, *t;
	unsigned long port = 0;

	memset(out, 0, sizeof(*out));
	for (p = url; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return ERR_MALFORMED;
	if (strncasecmp(url, "ws://", 5) == 0) {
		p = url + 5;
	} else if (strncasecmp(url, "wss://", 6) == 0) {
		p = url + 6;
		out->tls = 1;
	} else {
		return strstr(url, "://") != NULL ? ERR_UNSUPPORTED
		                                  : ERR_MALFORMED;
	}
	auth_end = p + strcspn(p, "/?#");
	if (memchr(p, '@', (size_t)(auth_end - p)) != NULL)
		return ERR_MALFORMED;
	if (*p == '[') {
		h = ++p;
		while (
		    p < auth_end && (is_digit((unsigned char)*p) ||
		                        (lower((unsigned char)*p) >= 'a' &&
		                            lower((unsigned char)*p) <= 'f') ||
		                        *p == ':' || *p == '.'))
			p++;
		if (p == h || p == auth_end || *p != ']')
			return ERR_MALFORMED;
		out->host.p = h;
		out->host.n = (size_t)(p - h);
		out->ipv6 = 1;
		p++;
	} else {
		h = p;
		while (p < auth_end && is_host_char((unsigned char)*p))
			p++;
		if (p == h)
			return ERR_MALFORMED;
		out->host.p = h;
		out->host.n = (size_t)(p - h);
	}
	if (p < auth_end) {
		if (*p++ != ':' || p == auth_end || auth_end - p > 5)
			return ERR_MALFORMED;
		for (; p < auth_end; p++) {
			if (!is_digit((unsigned char)*p))
				return ERR_MALFORMED;
			port = port * 10 + (unsigned long)(*p - '0');
		}
		if (port < 1 || port > 65535)
			return ERR_MALFORMED;
		out->port = (uint16_t)port;
		out->port_given = 1;
	} else {
		out->port = out->tls ? 443 : 80;
	}
	t = auth_end;
	out->target.p = t;
	out->target.n = strcspn(t, "#");
	return 0;
}

int
ws_url_host_header(const struct ws_url *u, char *buf, size_t size)
{
	int n;

	if (u->port != (u->tls ? 443 : 80))
		n = snprintf(buf, size, "%s%.*s%s:%u", u->ipv6 ? "[" : "",
		    (int)u->host.n, u->host.p, u->ipv6 ? "]" : "",
		    (unsigned)u->port);
	else
		n = snprintf(buf, size, "%s%.*s%s", u->ipv6 ? "[" : "",
		    (int)u->host.n, u->host.p, u->ipv6 ? "]" : "");
	if (n < 0 || (size_t)n >= size) {
		if (size > 0)
			buf[0] = '\0';
		return ERR_TOO_BIG;
	}
	return n;
}

/* ---- client side -------------------------------------------------------- */

void
ws_handshake_key(const uint8_t nonce[16], char key[WS_KEY_LEN + 1])
{
	EVP_EncodeBlock((unsigned char *)key, nonce, 16);
}

int
ws_handshake_accept(const char *key, char accept[WS_ACCEPT_LEN + 1])
{
	unsigned char in[128], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t klen = strlen(key);

	accept[0] = '\0';
	/* Keys are 24 characters; anything near the buffer is not a key. */
	if (klen > sizeof(in) - sizeof(ws_guid))
		return ERR_RANGE;
	memcpy(in, key, klen);
	memcpy(in + klen, ws_guid, sizeof(ws_guid) - 1);
	if (EVP_Digest(in, klen + sizeof(ws_guid) - 1, md, &mdlen, EVP_sha1(),
	        NULL) != 1 ||
	    mdlen != 20)
		return ERR_UNSUPPORTED;
	EVP_EncodeBlock((unsigned char *)accept, md, 20);
	return 0;
}

void
ws_handshake_request(struct wbuf *w, const char *host_header,
    const char *path_and_query, const char *key)
{
	wbuf_str(w, "GET ");
	if (path_and_query[0] != '/')
		wbuf_u8(w, '/');
	wbuf_str(w, path_and_query);
	wbuf_str(w, " HTTP/1.1\r\nHost: ");
	wbuf_str(w, host_header);
	wbuf_str(w, "\r\nUpgrade: websocket\r\n"
	            "Connection: Upgrade\r\n"
	            "Sec-WebSocket-Key: ");
	wbuf_str(w, key);
	wbuf_str(w, "\r\nSec-WebSocket-Version: 13\r\n"
	            "User-Agent: finnstream\r\n\r\n");
}

int
ws_handshake_parse_response(const uint8_t *p, size_t n,
    const char *expect_accept, struct ws_hs_resp *out, size_t *err_off)
{
	const char *s = (const char *)p;
	struct lines l;
	struct ws_slice line;
	struct field f;
	size_t bad = 0, i;
	long len;
	int rc, upgrade = 0, connection = 0, accepts = 0;

	memset(out, 0, sizeof(*out));
	if ((len = header_end(p, n)) <= 0)
		return len == 0 ? 0
		                : fail(ERR_TOO_BIG, &out->why,
		                      "response header too long", err_off,
		                      WS_HS_MAX_HEADER);
	l.base = s;
	l.off = 0;
	l.end = (size_t)len;

	/* Status line: HTTP/1.x SP 3DIGIT [SP reason] */
	if ((rc = next_line(&l, &line, &bad)) <= 0)
		return fail(
		    ERR_MALFORMED, &out->why, "bad status line", err_off, bad);
	if (http1_minor(line.p, line.n) < 0 || line.n < 12 ||
	    line.p[8] != ' ' || !is_digit((unsigned char)line.p[9]) ||
	    !is_digit((unsigned char)line.p[10]) ||
	    !is_digit((unsigned char)line.p[11]) ||
	    (line.n > 12 && line.p[12] != ' '))
		return fail(
		    ERR_MALFORMED, &out->why, "bad status line", err_off, 0);
	out->status = (line.p[9] - '0') * 100 + (line.p[10] - '0') * 10 +
	              (line.p[11] - '0');
	out->reason.p = line.p + (line.n > 12 ? 13 : 12);
	out->reason.n = line.n > 12 ? line.n - 13 : 0;
	for (i = 0; i < out->reason.n; i++) {
		unsigned char c = (unsigned char)out->reason.p[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return fail(ERR_MALFORMED, &out->why,
			    "control character in the status line", err_off,
			    (size_t)(out->reason.p + i - s));
	}
	if (out->status != 101)
		return fail(
		    ERR_PROTO, &out->why, "status is not 101", err_off, 9);

	while ((rc = next_line(&l, &line, &bad)) > 0) {
		size_t off = (size_t)(line.p - s);

		if (split_field(line, &f, &bad) != 0)
			return fail(ERR_MALFORMED, &out->why, "bad header line",
			    err_off, off + bad);
		if (slice_eq_nocase(f.name, "upgrade")) {
			if (!has_token(f.value, "websocket"))
				return fail(ERR_PROTO, &out->why,
				    "Upgrade is not websocket", err_off, off);
			upgrade = 1;
		} else if (slice_eq_nocase(f.name, "connection")) {
			connection |= has_token(f.value, "upgrade");
		} else if (slice_eq_nocase(f.name, "sec-websocket-accept")) {
			if (accepts++ > 0)
				return fail(ERR_PROTO, &out->why,
				    "two Sec-WebSocket-Accept headers", err_off,
				    off);
			out->accept = f.value;
		} else if (slice_eq_nocase(
		               f.name, "sec-websocket-extensions") ||
		           slice_eq_nocase(f.name, "sec-websocket-protocol")) {
			/* RFC 6455 §4.1: we asked for neither. */
			if (f.value.n > 0)
				return fail(ERR_PROTO, &out->why,
				    "an extension or subprotocol that was not "
				    "requested",
				    err_off, off);
		}
	}
	if (rc < 0)
		return fail(
		    ERR_MALFORMED, &out->why, "bad header line", err_off, bad);
	if (!upgrade)
		return fail(ERR_PROTO, &out->why, "no Upgrade: websocket",
		    err_off, (size_t)len);
	if (!connection)
		return fail(ERR_PROTO, &out->why, "no Connection: Upgrade",
		    err_off, (size_t)len);
	if (accepts == 0)
		return fail(ERR_PROTO, &out->why, "no Sec-WebSocket-Accept",
		    err_off, (size_t)len);
	if (expect_accept == NULL || out->accept.n != strlen(expect_accept) ||
	    memcmp(out->accept.p, expect_accept, out->accept.n) != 0)
		return fail(ERR_PROTO, &out->why, "wrong Sec-WebSocket-Accept",
		    err_off, (size_t)(out->accept.p - s));
	return (int)len;
}

/* ---- server side -------------------------------------------------------- */

static int
is_b64(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       is_digit(c) || c == '+' || c == '/';
}

/* base64 of exactly 16 bytes: 22 alphabet characters and "==". */
static int
valid_key(struct ws_slice k)
{
	size_t i;

	if (k.n != WS_KEY_LEN || k.p[22] != '=' || k.p[23] != '=')
		return 0;
	for (i = 0; i < 22; i++)
		if (!is_b64((unsigned char)k.p[i]))
			return 0;
	return 1;
}

static int
req_fail(struct ws_hs_req *out, int rc, int status, const char *what,
    size_t *err_off, size_t off)
{
	out->status = status;
	return fail(rc, &out->why, what, err_off, off);
}

int
ws_handshake_parse_request(
    const uint8_t *p, size_t n, struct ws_hs_req *out, size_t *err_off)
{
	const char *s = (const char *)p;
	struct lines l;
	struct ws_slice line, method;
	struct field f;
	size_t bad = 0, i, off, sem_off = 0;
	long len;
	int rc, minor, upgrade = 0, connection = 0, hosts = 0, keys = 0;
	int version = 0, sem_status = 0;
	const char *sem_why = NULL;

	memset(out, 0, sizeof(*out));
	if ((len = header_end(p, n)) <= 0)
		return len == 0 ? 0
		                : req_fail(out, ERR_TOO_BIG, 431,
		                      "request header too long", err_off,
		                      WS_HS_MAX_HEADER);
	l.base = s;
	l.off = 0;
	l.end = (size_t)len;

	/* Request line: method SP target SP HTTP/1.x */
	if ((rc = next_line(&l, &line, &bad)) <= 0)
		return req_fail(
		    out, ERR_MALFORMED, 400, "bad request line", err_off, bad);
	for (i = 0; i < line.n && is_tchar((unsigned char)line.p[i]); i++)
		;
	if (i == 0 || i == line.n || line.p[i] != ' ')
		return req_fail(
		    out, ERR_MALFORMED, 400, "bad request line", err_off, i);
	method.p = line.p;
	method.n = i;
	out->target.p = line.p + i + 1;
	for (i++; i < line.n && (unsigned char)line.p[i] > 0x20 &&
	          (unsigned char)line.p[i] != 0x7f;
	     i++)
		;
	out->target.n = (size_t)(line.p + i - out->target.p);
	if (out->target.n == 0 || i == line.n || line.p[i] != ' ' ||
	    (minor = http1_minor(line.p + i + 1, line.n - i - 1)) < 0 ||
	    line.n - i - 1 != 8)
		return req_fail(
		    out, ERR_MALFORMED, 400, "bad request line", err_off, i);
	if (method.n != 3 || memcmp(method.p, "GET", 3) != 0) {
		sem_status = 405;
		sem_why = "method is not GET";
	} else if (minor < 1) {
		sem_status = 400;
		sem_why = "HTTP/1.1 is required";
		sem_off = i + 1;
	} else if (out->target.p[0] != '/') {
		sem_status = 400;
		sem_why = "target is not a path";
		sem_off = (size_t)(out->target.p - s);
	}

	while ((rc = next_line(&l, &line, &bad)) > 0) {
		off = (size_t)(line.p - s);
		if (split_field(line, &f, &bad) != 0)
			return req_fail(out, ERR_MALFORMED, 400,
			    "bad header line", err_off, off + bad);
		if (slice_eq_nocase(f.name, "host")) {
			hosts++;
			out->host = f.value;
		} else if (slice_eq_nocase(f.name, "upgrade")) {
			upgrade |= has_token(f.value, "websocket");
		} else if (slice_eq_nocase(f.name, "connection")) {
			connection |= has_token(f.value, "upgrade");
		} else if (slice_eq_nocase(f.name, "sec-websocket-key")) {
			keys++;
			out->key = f.value;
			if (!valid_key(f.value) && sem_why == NULL) {
				sem_status = 400;
				sem_why = "bad Sec-WebSocket-Key";
				sem_off = off;
			}
		} else if (slice_eq_nocase(f.name, "sec-websocket-version")) {
			if (f.value.n == 2 && memcmp(f.value.p, "13", 2) == 0)
				version = 1;
			else
				version = -1;
		}
	}
	if (rc < 0)
		return req_fail(
		    out, ERR_MALFORMED, 400, "bad header line", err_off, bad);
	/* The method decides first (405), then the version (426). */
	if (sem_status == 405)
		return req_fail(out, ERR_PROTO, 405, sem_why, err_off, 0);
	if (version != 1)
		return req_fail(out, ERR_PROTO, 426,
		    "Sec-WebSocket-Version is not 13", err_off, (size_t)len);
	if (sem_why != NULL)
		return req_fail(
		    out, ERR_PROTO, sem_status, sem_why, err_off, sem_off);
	if (hosts != 1)
		return req_fail(out, ERR_PROTO, 400,
		    hosts ? "two Host headers" : "no Host", err_off,
		    (size_t)len);
	if (!upgrade)
		return req_fail(out, ERR_PROTO, 400, "no Upgrade: websocket",
		    err_off, (size_t)len);
	if (!connection)
		return req_fail(out, ERR_PROTO, 400, "no Connection: Upgrade",
		    err_off, (size_t)len);
	if (keys != 1)
		return req_fail(out, ERR_PROTO, 400,
		    keys ? "two Sec-WebSocket-Key headers"
		         : "no Sec-WebSocket-Key",
		    err_off, (size_t)len);
	return (int)len;
}

void
ws_handshake_response(struct wbuf *w, const char *accept)
{
	wbuf_str(w, "HTTP/1.1 101 Switching Protocols\r\n"
	            "Upgrade: websocket\r\n"
	            "Connection: Upgrade\r\n"
	            "Sec-WebSocket-Accept: ");
	wbuf_str(w, accept);
	wbuf_str(w, "\r\n\r\n");
}

static const char *
status_phrase(int status)
{
	switch (status) {
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 426:
		return "Upgrade Required";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 503:
		return "Service Unavailable";
	default:
		return status >= 500 ? "Server Error" : "Error";
	}
}

void
ws_handshake_reject(struct wbuf *w, int status, const char *reason)
{
	char phrase[128];
	size_t i;

	if (status < 100 || status > 999)
		status = 500;
	snprintf(phrase, sizeof(phrase), "%s",
	    reason != NULL ? reason : status_phrase(status));
	for (i = 0; phrase[i] != '\0'; i++)
		if ((unsigned char)phrase[i] < 0x20 ||
		    (unsigned char)phrase[i] == 0x7f)
			phrase[i] = ' ';
	wbuf_printf(w,
	    "HTTP/1.1 %d %s\r\n"
	    "Content-Type: text/plain\r\n"
	    "Content-Length: %zu\r\n"
	    "Connection: close\r\n"
	    "%s"
	    "\r\n"
	    "%s\n",
	    status, phrase, strlen(phrase) + 1,
	    status == 426 ? "Sec-WebSocket-Version: 13\r\n" : "", phrase);
}
