/*
 * fuzz_ws_handshake.c: (1) the websocket handshake parsers and the URL
 * splitter (proto/ws_handshake.c) on arbitrary bytes.
 *
 * Each input is tried as a server response, as a client request and as a
 * URL.  Besides not crashing, a result must be consistent: a header
 * length lies inside the input, every slice lies inside the header, a
 * prefix of an accepted header only ever asks for more, and an error
 * always says why.
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "proto/ws_handshake.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RFC_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

static void
check_slice(struct ws_slice s, const uint8_t *p, size_t n)
{
	if (s.p == NULL)
		return;
	if ((const uint8_t *)s.p < p || (const uint8_t *)s.p + s.n > p + n)
		abort();
}

static void
fuzz_response(const uint8_t *p, size_t n)
{
	struct ws_hs_resp r;
	size_t off = 0;
	int rc;

	rc = ws_handshake_parse_response(p, n, RFC_ACCEPT, &r, &off);
	if (rc > 0) {
		if ((size_t)rc > n || (size_t)rc > WS_HS_MAX_HEADER ||
		    r.status != 101)
			abort();
		check_slice(r.reason, p, (size_t)rc);
		check_slice(r.accept, p, (size_t)rc);
		/* One byte less is an incomplete header, never an error. */
		if (ws_handshake_parse_response(
		        p, (size_t)rc - 1, RFC_ACCEPT, &r, &off) != 0)
			abort();
	} else if (rc < 0) {
		if (r.why == NULL || off > n)
			abort();
	}
}

static void
fuzz_request(const uint8_t *p, size_t n)
{
	struct ws_hs_req r;
	size_t off = 0;
	int rc;

	rc = ws_handshake_parse_request(p, n, &r, &off);
	if (rc > 0) {
		if ((size_t)rc > n || r.key.n != WS_KEY_LEN)
			abort();
		check_slice(r.target, p, (size_t)rc);
		check_slice(r.host, p, (size_t)rc);
		check_slice(r.key, p, (size_t)rc);
		if (ws_handshake_parse_request(p, (size_t)rc - 1, &r, &off) !=
		    0)
			abort();
	} else if (rc < 0) {
		if (r.why == NULL || r.status < 400 || off > n)
			abort();
	}
}

static void
fuzz_url(const uint8_t *p, size_t n)
{
	struct ws_url u;
	char *s, hh[300];
	size_t len;

	if (n > 4096)
		return;
	if ((s = malloc(n + 1)) == NULL)
		return;
	memcpy(s, p, n);
	s[n] = '\0';
	len = strlen(s);
	if (ws_url_parse(s, &u) == 0) {
		check_slice(u.host, (const uint8_t *)s, len);
		check_slice(u.target, (const uint8_t *)s, len);
		if (u.host.n == 0 || u.port == 0 ||
		    memchr(u.target.p, '\r', u.target.n) != NULL ||
		    memchr(u.target.p, ' ', u.target.n) != NULL)
			abort();
		(void)ws_url_host_header(&u, hh, sizeof(hh));
	}
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_response(data, size);
	fuzz_request(data, size);
	fuzz_url(data, size);
	return 0;
}
